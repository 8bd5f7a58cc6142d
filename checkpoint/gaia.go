package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hitless/hitless/driver"
)

// Gaia session handling. A member's one SSH session logs in to Clish (the
// default login shell); the checkpoint_gaia platform runs `lock database
// override` and `set clienv rows 0` on open. CPUSE (`installer ...`) and
// `set snapshot` are Clish commands; cphaprob, cphaconf, clusterXL_admin,
// vsx and the file commands run in Expert mode, entered with `expert` and
// the expert password (an exchange, driver.Session.Interact) and left with
// `exit`. The session switches mode on demand. On VSX every cluster
// command runs in VS0 through `bash -lc 'vsenv 0 >/dev/null && <cmd>'`:
// vsenv is a shell function of the login shell (it fails under `sh -c`),
// and a new session may land in a non-zero VS context; Clish commands run
// after `set virtual-system 0`.

// sessMode is the shell a session is in.
type sessMode int

const (
	modeClish sessMode = iota
	modeExpert
)

// expertProbe is the command that proves the session is in Expert mode:
// bash echoes it, Clish rejects it as an invalid command.
const expertProbe = "echo hitless-expert-ok"

// rcCommand reads the exit status of the previous Expert command: an
// interactive shell prints none by itself.
const rcCommand = "echo hitless-rc=$?"

var rcRe = regexp.MustCompile(`(?m)^hitless-rc=(\d{1,3})\s*$`)

// connectLocked opens a session, redialling for at most
// Config.ReconnectTimeout. m.mu must be held.
func (m *ClusterMember) connectLocked(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, m.c.cfg.ReconnectTimeout)
	defer cancel()
	s, err := m.c.tr.open(rctx, *m.dcfg)
	if err != nil && !fatalOpen(err) && rctx.Err() == nil {
		m.noteAway()
		s, err = m.c.tr.reconnect(rctx, *m.dcfg, m.c.cfg.ReconnectBackoff)
	}
	if err != nil {
		if ctx.Err() == nil && !fatalOpen(err) {
			m.noteAway()
		}
		return &MemberError{Member: m.gw.Name, Host: m.host, Op: "connect", Err: err}
	}
	m.sess, m.mode, m.vs0 = s, modeClish, false
	m.c.log.Debug("checkpoint: connected", "member", m.gw.Name)
	return nil
}

// dropLocked closes the session after a failure that left it unusable.
func (m *ClusterMember) dropLocked(err error) {
	if m.sess == nil {
		return
	}
	_ = m.sess.Close()
	m.sess = nil
	if errors.Is(err, driver.ErrDropped) || errors.Is(err, driver.ErrClosed) {
		m.noteAway()
	}
}

// rawLocked sends one command on the current session, as is. m.mu held,
// session open.
func (m *ClusterMember) rawLocked(ctx context.Context, op, cmd string) (string, error) {
	out, err := m.sess.Send(ctx, cmd)
	if err != nil {
		if broken(err) {
			m.dropLocked(err)
		}
		return out, &MemberError{Member: m.gw.Name, Host: m.host, Op: op, Err: err}
	}
	return out, nil
}

// enterExpertLocked switches the session to Expert mode. m.mu held.
func (m *ClusterMember) enterExpertLocked(ctx context.Context, op string) error {
	if m.mode == modeExpert {
		return nil
	}
	_, err := m.sess.Interact(ctx, []driver.Exchange{
		{Input: "expert", Expect: `(?i)expert password:\s*$`},
		{Input: m.c.cfg.ExpertPassword, Secret: true},
	})
	if err != nil {
		if broken(err) {
			m.dropLocked(err)
		}
		return &MemberError{Member: m.gw.Name, Host: m.host, Op: op, Err: fmt.Errorf("%w: entering Expert mode: %w", ErrExpert, err)}
	}
	out, err := m.sess.Send(ctx, expertProbe)
	if err != nil || strings.TrimSpace(out) != "hitless-expert-ok" {
		if err != nil && broken(err) {
			m.dropLocked(err)
		}
		why := "the session did not reach the Expert shell (wrong expert password?)"
		if err != nil {
			why += ": " + err.Error()
		}
		return &MemberError{Member: m.gw.Name, Host: m.host, Op: op, Err: fmt.Errorf("%w: %s", ErrExpert, why)}
	}
	m.mode = modeExpert
	return nil
}

// enterClishLocked switches the session to Clish (in VS0 on VSX). m.mu
// held.
func (m *ClusterMember) enterClishLocked(ctx context.Context, op string) error {
	if m.mode == modeExpert {
		if _, err := m.rawLocked(ctx, op, "exit"); err != nil {
			return err
		}
		m.mode = modeClish
	}
	if m.c.cfg.VSX && !m.vs0 {
		if _, err := m.rawLocked(ctx, op, "set virtual-system 0"); err != nil {
			return err
		}
		m.vs0 = true
	}
	return nil
}

// runLocked runs cmd in the given mode, connecting (and reconnecting once
// for a read-only command whose session turned out to be dead) as needed.
// Errors are *MemberError with Op op. m.mu must be held.
func (m *ClusterMember) runLocked(ctx context.Context, mode sessMode, op, cmd string, readOnly bool) (string, error) {
	for attempt := 0; ; attempt++ {
		fresh := false
		if m.sess == nil {
			if err := m.connectLocked(ctx); err != nil {
				return "", err
			}
			fresh = true
		}
		var err error
		if mode == modeExpert {
			err = m.enterExpertLocked(ctx, op)
		} else {
			err = m.enterClishLocked(ctx, op)
		}
		var out string
		if err == nil {
			out, err = m.rawLocked(ctx, op, cmd)
		}
		if err == nil {
			return out, nil
		}
		stale := errors.Is(err, driver.ErrDropped) || errors.Is(err, driver.ErrClosed)
		if readOnly && stale && !fresh && attempt == 0 && ctx.Err() == nil {
			continue
		}
		return out, err
	}
}

// expert runs a read-only Expert command (in VS0 on VSX when vs0 is set).
func (m *ClusterMember) expert(ctx context.Context, op, cmd string, vs0 bool) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.expertLocked(ctx, op, cmd, vs0)
}

// expertLocked is expert with m.mu held.
func (m *ClusterMember) expertLocked(ctx context.Context, op, cmd string, vs0 bool) (string, error) {
	if vs0 {
		cmd = m.c.inVS(0, cmd)
	}
	return m.runLocked(ctx, modeExpert, op, cmd, true)
}

// expertChangeLocked runs an Expert command that changes something (in VS0
// on VSX when vs0 is set) and returns its output; an exit status other
// than 0 is an error (ErrCommandFailed). It is never sent twice. m.mu
// held.
func (m *ClusterMember) expertChangeLocked(ctx context.Context, op, cmd string, vs0 bool) (string, error) {
	if vs0 {
		cmd = m.c.inVS(0, cmd)
	}
	out, err := m.runLocked(ctx, modeExpert, op, cmd, false)
	if err != nil {
		return out, err
	}
	rcOut, err := m.rawLocked(ctx, op, rcCommand)
	if err != nil {
		return out, err
	}
	rc, err := parseRC(rcOut)
	if err != nil {
		return out, &MemberError{Member: m.gw.Name, Host: m.host, Op: op, Err: err}
	}
	if rc != 0 {
		return out, &MemberError{Member: m.gw.Name, Host: m.host, Op: op,
			Err: fmt.Errorf("%w: %q exited %d: %s", ErrCommandFailed, cmd, rc, firstLine(out))}
	}
	return out, nil
}

// clishLocked runs a Clish command (in VS0 on VSX). m.mu held.
func (m *ClusterMember) clishLocked(ctx context.Context, op, cmd string, readOnly bool) (string, error) {
	return m.runLocked(ctx, modeClish, op, cmd, readOnly)
}

// inVS wraps an Expert command so that it runs in VS context vs on a VSX
// member (the command must not contain a single quote: every command of
// this package is a fixed string or built from validated names).
func (c *Cluster) inVS(vs int, cmd string) string {
	if !c.cfg.VSX {
		return cmd
	}
	return "bash -lc 'vsenv " + strconv.Itoa(vs) + " >/dev/null && " + cmd + "'"
}

// parseRC reads `echo hitless-rc=$?`.
func parseRC(out string) (int, error) {
	m := rcRe.FindStringSubmatch(strings.ReplaceAll(out, "\r", ""))
	if m == nil {
		return 0, fmt.Errorf("%w: exit status not readable from %q", ErrUnreadable, firstLine(out))
	}
	return strconv.Atoi(m[1])
}

// firstLine returns the first non-empty line of s, cut to 160 bytes.
func firstLine(s string) string {
	for l := range strings.Lines(s) {
		if t := strings.TrimSpace(l); t != "" {
			return cut(t, 160)
		}
	}
	return ""
}

// multikRowRe is a row of `fw ctl multik stat`: "ID | Active | CPU | ...".
var multikRowRe = regexp.MustCompile(`^\s*(\d{1,4})\s*\|`)

// parseMultikStat counts the CoreXL firewall instances in `fw ctl multik
// stat` (one table row per instance, the first cell its ID). Layout from
// public forum transcripts, UNVERIFIED against a capture. No row is an
// error.
func parseMultikStat(out string) (int, error) {
	n := 0
	header := false
	for l := range strings.Lines(out) {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "ID") && strings.Contains(t, "|"):
			header = true
		case multikRowRe.MatchString(t):
			n++
		}
	}
	if !header || n == 0 {
		return 0, fmt.Errorf("%w: fw ctl multik stat: no CoreXL instance table", ErrUnreadable)
	}
	return n, nil
}

// parseDF reads the available space, in KiB, from `df -P -k <dir>` (POSIX
// output: a header "Filesystem 1024-blocks Used Available Capacity Mounted
// on" and one line per file system).
func parseDF(out string) (int64, error) {
	var lines []string
	for l := range strings.Lines(out) {
		if t := strings.TrimSpace(l); t != "" {
			lines = append(lines, t)
		}
	}
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "Filesystem") {
		return 0, fmt.Errorf("%w: df -P -k: no POSIX df table", ErrUnreadable)
	}
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 6 {
		return 0, fmt.Errorf("%w: df -P -k: short line %q", ErrUnreadable, lines[len(lines)-1])
	}
	n, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: df -P -k: available %q is not a number", ErrUnreadable, f[3])
	}
	return n, nil
}

// parseLsSize reads the size of a file from `ls -l <file>`: "-rw-r--r-- 1
// admin root 65536 Jan  1 00:00 /var/log/upload/x.tar". A missing file
// ("No such file or directory") is ok=false.
func parseLsSize(out, file string) (size int64, ok bool, err error) {
	for l := range strings.Lines(out) {
		t := strings.TrimSpace(l)
		if strings.Contains(t, "No such file") {
			return 0, false, nil
		}
		f := strings.Fields(t)
		if len(f) >= 9 && strings.HasPrefix(f[0], "-") && f[len(f)-1] == file {
			n, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil || n < 0 {
				return 0, false, fmt.Errorf("%w: ls -l %s: size %q is not a number", ErrUnreadable, file, f[4])
			}
			return n, true, nil
		}
	}
	return 0, false, nil
}

// importStart is what `installer import local` answered.
type importStart int

const (
	importStarted    importStart = iota // "Initiating import of ..."
	importInProgress                    // "... already in progress"
	importDone                          // "... already imported"
)

// parseImportStart classifies the answer to `installer import local <file>
// not-interactive`, which returns as soon as the import has started. The
// console texts are UNVERIFIED (no public capture): "Initiating import",
// "already in progress", "already imported". Anything else is an error
// (fail closed).
func parseImportStart(out string) (importStart, error) {
	l := strings.ToLower(out)
	switch {
	case strings.Contains(l, "already imported"):
		return importDone, nil
	case strings.Contains(l, "already in progress"):
		return importInProgress, nil
	case strings.Contains(l, "initiating import"):
		return importStarted, nil
	}
	return 0, fmt.Errorf("%w: installer import: unrecognised answer %q", ErrUnreadable, firstLine(out))
}

// cpuseCellSplit separates the display name from the status cell.
var cpuseCellSplit = regexp.MustCompile(`\s{2,}|\t`)

// parseInstallerRows returns the package rows of a CPUSE listing (`show
// installer packages imported|installed`): banner lines "** ... **" and
// the "Display name  Status" header are skipped; each row is its display
// name and status cell, joined by a tab.
func parseInstallerRows(out string) []string {
	var rows []string
	for l := range strings.Lines(out) {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "**") || strings.HasPrefix(strings.ToLower(t), "display name") {
			continue
		}
		cells := cpuseCellSplit.Split(t, -1)
		rows = append(rows, strings.Join(cells, "\t"))
	}
	return rows
}

var (
	verifyAllowedRe = regexp.MustCompile(`(?i)\bis allowed\b`)
	verifyDeniedRe  = regexp.MustCompile(`(?i)\bnot allowed\b|\bnot supported\b`)
)

// parseVerify checks `installer verify <package>`: a line saying the
// upgrade (or installation) "is allowed" and none saying "not allowed".
// The wording is UNVERIFIED (no public capture); anything else fails
// closed with ErrVerifyRefused carrying the device's text.
func parseVerify(out string) error {
	switch {
	case verifyDeniedRe.MatchString(out):
		return fmt.Errorf("%w: %s", ErrVerifyRefused, strings.Join(strings.Fields(out), " "))
	case verifyAllowedRe.MatchString(out):
		return nil
	}
	return fmt.Errorf("%w: no \"is allowed\" in the verifier's answer: %s", ErrVerifyRefused, strings.Join(strings.Fields(out), " "))
}
