package clavistertest

import (
	"errors"
	"fmt"
	"net"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hitless/hitless/internal/sshsim"
)

// lsFixed is the root listing of the E5Web OEM capture
// (testdata/ls/e5web-oem-root-listing.txt), without the prompt line.
var lsFixed = []string{
	"HTTPALGBanners/", "HTTPAuthBanners/", "certificate/", "config.bak",
	"full.bak", "license.lic", "script/", "sshclientkey/",
}

// Connection figures printed by `stats`: "Connections 2726 out of 128000"
// is a verbatim figure of a public cOS Core `stats` example.
const (
	statsConnections    = 2726
	statsMaxConnections = 128000
)

// handle answers one command line of u's CLI (see the package
// documentation for the commands).
func (u *Unit) handle(s *sshsim.Session, line string) sshsim.Reply {
	p := u.pair
	cmd := strings.Join(strings.Fields(line), " ")
	if h := p.opts.BeforeCommand; h != nil {
		h(u, cmd)
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	u.commands = append(u.commands, cmd)
	if text, ok := p.commandError(cmd); ok {
		return sshsim.Reply{Output: text, ExitStatus: 1}
	}
	if text, ok := lookupCommand(p.opts.Faults.CommandOutput, cmd); ok {
		return sshsim.Reply{Output: text}
	}
	if target, ok := p.matchApply(cmd); ok {
		return u.applyLocked(s, cmd, target)
	}
	switch cmd {
	case "ha":
		return sshsim.Reply{Output: u.haLocked(now)}
	case "ha -deactivate":
		switch {
		case !u.active:
			return errorReply("This device is not ACTIVE")
		case !u.peerAliveLocked():
			return errorReply("HA cluster peer is not alive")
		}
		u.setActiveLocked(false, now)
		u.peer().setActiveLocked(true, now)
		p.updateProbeLocked()
		p.log.Info("clavistertest: deactivated", "unit", u.name)
		return sshsim.Reply{}
	case "ha -activate":
		if u.active {
			return errorReply("This device is already ACTIVE")
		}
		u.setActiveLocked(true, now)
		if peer := u.peer(); !peer.down {
			peer.setActiveLocked(false, now)
		}
		p.updateProbeLocked()
		p.log.Info("clavistertest: activated", "unit", u.name)
		return sshsim.Reply{}
	case "about":
		return sshsim.Reply{Output: "Clavister cOS Core " + u.version + "\nCopyright (c) Clavister AB. All rights reserved.\n"}
	case "stats":
		return sshsim.Reply{Output: u.statsLocked(now)}
	case "ls":
		return sshsim.Reply{Output: u.lsLocked()}
	case "exit":
		return sshsim.Reply{Disconnect: true}
	default:
		return errorReply("Unknown command: " + cmd)
	}
}

// matchApply reports whether cmd is the apply command. If ApplyCommand
// contains "{file}", the word typed in its place is returned as file.
func (p *Pair) matchApply(cmd string) (target string, ok bool) {
	prefix, suffix, placeholder := strings.Cut(p.opts.ApplyCommand, "{file}")
	if !placeholder {
		return "", cmd == p.opts.ApplyCommand
	}
	if len(cmd) <= len(prefix)+len(suffix) || !strings.HasPrefix(cmd, prefix) || !strings.HasSuffix(cmd, suffix) {
		return "", false
	}
	target = cmd[len(prefix) : len(cmd)-len(suffix)]
	return target, !strings.ContainsAny(target, " \t")
}

// applyLocked starts a restart of u: prints "Shutting down ...", then after
// ApplyDelay takes the unit down (startRebootLocked). target, if not empty,
// names the uploaded package to install (ApplyCommand with "{file}").
func (u *Unit) applyLocked(s *sshsim.Session, cmd, target string) sshsim.Reply {
	p := u.pair
	if u.applying {
		return errorReply("A restart is already in progress")
	}
	if target != "" {
		name := path.Base(target)
		if !slices.ContainsFunc(u.files, func(f file) bool { return f.name == name }) {
			return errorReply("File not found: " + target)
		}
		u.applyFile = name
	}
	u.applying = true
	u.applyN++
	n := u.applyN
	u.applyBy = s.User() + " (" + remoteIP(s) + ")"
	p.log.Info("clavistertest: apply command", "unit", u.name, "command", cmd)
	// restart takes the unit down for this apply command, unless it was
	// restarted meanwhile or the restart is held (HoldRestart, whose
	// release restarts it).
	restart := func() {
		if u.applying && u.applyN == n && !u.holdApply {
			p.startRebootLocked(u)
		}
	}
	return sshsim.Reply{
		Output: "Shutting down ...",
		After: func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.closed {
				return
			}
			if p.opts.ApplyDelay <= 0 {
				restart()
				return
			}
			p.afterLocked(p.opts.ApplyDelay, restart)
		},
	}
}

// errorReply prints "Error: <text>" (exit status 1 for exec requests).
func errorReply(text string) sshsim.Reply {
	return sshsim.Reply{Output: "Error: " + text, ExitStatus: 1}
}

// lookupCommand returns m's entry for cmd, matching the whole command
// first, then its first word.
func lookupCommand(m map[string]string, cmd string) (string, bool) {
	text, ok := m[cmd]
	if !ok {
		word, _, _ := strings.Cut(cmd, " ")
		text, ok = m[word]
	}
	return text, ok
}

// lsFixedSizes are INVENTED sizes for the files of the captured listing,
// printed only with Options.ListSizes (a hitless assumption, not a capture).
var lsFixedSizes = map[string]int{"config.bak": 18432, "full.bak": 4194304, "license.lic": 2048}

// lsLocked renders `ls`: the captured root listing plus the uploaded files,
// sorted; with Options.ListSizes, files as "<name>  <size>".
func (u *Unit) lsLocked() string {
	sizes := map[string]int{}
	names := slices.Clone(lsFixed)
	for n, sz := range lsFixedSizes {
		sizes[n] = sz
	}
	for _, f := range u.files {
		names = append(names, f.name)
		sizes[f.name] = f.size
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		if sz, ok := sizes[n]; ok && u.pair.opts.ListSizes && !strings.HasSuffix(n, "/") {
			fmt.Fprintf(&b, "%-40s %d\n", n, sz)
			continue
		}
		b.WriteString(n + "\n")
	}
	return b.String()
}

// commandError returns the injected error text for cmd, if any, matching the
// whole command first, then its first word.
func (p *Pair) commandError(cmd string) (string, bool) {
	text, ok := lookupCommand(p.opts.Faults.CommandError, cmd)
	if !ok {
		return "", false
	}
	if !strings.HasPrefix(text, "Error:") {
		text = "Error: " + text
	}
	return text, true
}

// remoteIP returns the client's IP address for Last Event texts.
func remoteIP(s *sshsim.Session) string {
	host, _, err := net.SplitHostPort(s.RemoteAddr().String())
	if err != nil {
		return s.RemoteAddr().String()
	}
	return host
}

// haLocked renders `ha` for u at now, in the configured wording.
func (u *Unit) haLocked(now time.Time) string {
	var b strings.Builder
	secs := int64(now.Sub(u.since) / time.Second)
	if u.pair.opts.Wording == WordingNewer {
		state := "Inactive"
		if u.active {
			state = "Active"
		}
		fmt.Fprintf(&b, "This device is an HA %s\n", u.role)
		fmt.Fprintf(&b, "This device is currently %s (for %s)\n", state, compound(secs))
	} else {
		fmt.Fprintf(&b, "This device is a HA %s\n", u.role)
		if u.active {
			b.WriteString("This device is currently ACTIVE (will forward traffic)\n")
			fmt.Fprintf(&b, "This device has been active: %d sec\n", secs)
		} else {
			b.WriteString("This device is currently INACTIVE (will not forward traffic)\n")
			fmt.Fprintf(&b, "This device has been inactive: %d sec\n", secs)
		}
	}
	switch {
	case u.pair.opts.Faults.GarbledHA:
		b.WriteString(GarbledPeerLine + "\n")
	case u.peerAliveLocked():
		b.WriteString("HA cluster peer is ALIVE\n")
	default:
		b.WriteString("HA cluster peer is NOT ALIVE\n")
	}
	if sync := u.syncLocked(now); sync < 100 || u.pair.opts.Wording == WordingNewer {
		fmt.Fprintf(&b, "HA object sync: %d%%\n", sync)
	}
	return b.String()
}

// compound formats seconds as "[Nd ][Nh ][Nm ]Ns" starting at the highest
// non-zero unit: "48s", "1m 12s", "1h 0m 5s".
func compound(secs int64) string {
	parts := []struct {
		n    int64
		unit string
	}{{secs / 86400, "d"}, {secs % 86400 / 3600, "h"}, {secs % 3600 / 60, "m"}}
	var b strings.Builder
	for _, p := range parts {
		if p.n > 0 || b.Len() > 0 {
			fmt.Fprintf(&b, "%d%s ", p.n, p.unit)
		}
	}
	fmt.Fprintf(&b, "%ds", secs%60)
	return b.String()
}

// statsLocked renders `stats` for u at now, in the shape of the KB 309987444
// capture.
func (u *Unit) statsLocked(now time.Time) string {
	up := int64(now.Sub(u.bootedAt) / time.Second)
	conns := statsConnections * u.syncLocked(now) / 100
	var b strings.Builder
	fmt.Fprintf(&b, "Uptime             : %d days, %02d:%02d:%02d\n", up/86400, up%86400/3600, up%3600/60, up%60)
	fmt.Fprintf(&b, "Last Event         : %s\n", u.lastEvent)
	b.WriteString("CPU Load           : 0%, 0%\n")
	fmt.Fprintf(&b, "Connections        : %d out of %d\n", conns, statsMaxConnections)
	b.WriteString("Fragments          : 0 out of 0 (0 lingering)\n")
	b.WriteString("Buffers allocated  : 24666\n")
	b.WriteString("Buffers memory     : 24666 x 2652 = 63881 KB\n")
	b.WriteString("Buffer usage       : 4%\n")
	b.WriteString("Fragbufs allocated : 32\n")
	return b.String()
}

// upload is the SCP sink: it stores the file under its name (whatever the
// target path), keeping only half of it with Faults.TruncateUpload. A
// CommandError for "scp" refuses uploads with that text.
func (u *Unit) upload(_ *sshsim.Session, up sshsim.Upload) error {
	p := u.pair
	p.mu.Lock()
	defer p.mu.Unlock()
	if text, ok := p.opts.Faults.CommandError["scp"]; ok {
		return errors.New(text)
	}
	data := up.Data
	if p.opts.Faults.TruncateUpload {
		data = data[:len(data)/2]
	}
	f := file{name: up.Name, size: len(data)}
	f.version, f.valid = readPackage(data)
	if i := slices.IndexFunc(u.files, func(g file) bool { return g.name == f.name }); i >= 0 {
		u.files = slices.Delete(u.files, i, i+1)
	}
	u.files = append(u.files, f)
	u.uploaded = append(u.uploaded, f.name)
	p.log.Info("clavistertest: file uploaded", "unit", u.name, "name", f.name, "size", f.size, "package_version", f.version, "valid", f.valid)
	// Before the SCP acknowledgement: the transfer is still running for
	// the client.
	p.failActiveLocked(u)
	return nil
}
