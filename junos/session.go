package junos

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hitless/hitless/driver"
)

// This file holds how the package talks to one node: one CLI session per
// node over the driver (scrapligo's juniper_junos platform definition as
// hitless ships it: the {primary:node0} banner is part of the prompt, no
// shell privilege level that would eat output lines ending in "%" or "$",
// and ERROR:, missing mandatory argument, invalid numeric value and
// Validation failed as rejections), reconnection after a reboot, and the
// reads every step needs. Structured output (`| display xml`) is read with
// the package's parsers; the text output is the fallback.

// transport is how the package reaches devices. New uses the driver
// package; tests substitute scripted sessions.
type transport struct {
	// open makes one connection attempt.
	open func(ctx context.Context, cfg driver.Config) (driver.Session, error)
	// reconnect redials with backoff until ctx ends.
	reconnect func(ctx context.Context, cfg driver.Config, b driver.Backoff) (driver.Session, error)
	// upload copies a file by SCP and verifies it.
	upload func(ctx context.Context, cfg driver.Config, local, remote string, verify driver.VerifyFunc) error
}

func driverTransport() transport {
	return transport{open: driver.Open, reconnect: driver.WaitReachable, upload: driver.Upload}
}

// fatalOpen reports whether a failed connection attempt is one that
// redialling cannot fix: bad credentials, an unknown or changed host key,
// an invalid configuration.
func fatalOpen(err error) bool {
	return errors.Is(err, driver.ErrAuth) || errors.Is(err, driver.ErrHostKey) || errors.Is(err, driver.ErrConfig)
}

// unreachable reports whether err means the node could not be talked to
// at all (Observe maps it to upgrade.RoleDown or RoleLost).
func unreachable(err error) bool {
	return errors.Is(err, driver.ErrUnreachable) || errors.Is(err, driver.ErrDropped) ||
		errors.Is(err, driver.ErrAborted) || errors.Is(err, driver.ErrClosed) ||
		errors.Is(err, driver.ErrAuth) || errors.Is(err, driver.ErrHostKey) || errors.Is(err, ErrUnreachable)
}

// broken reports whether err leaves the session unusable.
func broken(err error) bool {
	return errors.Is(err, driver.ErrDropped) || errors.Is(err, driver.ErrClosed) || errors.Is(err, driver.ErrAborted)
}

// connectLocked opens the node's session: one attempt, or with patient
// redialling with backoff for at most Config.ReconnectTimeout. n.mu must
// be held.
func (n *Node) connectLocked(ctx context.Context, patient bool) error {
	cfg := n.c.cfg
	octx := ctx
	if patient {
		var cancel context.CancelFunc
		octx, cancel = context.WithTimeout(ctx, cfg.ReconnectTimeout)
		defer cancel()
	}
	s, err := n.c.tr.open(octx, *n.dcfg)
	if err != nil && patient && !fatalOpen(err) && octx.Err() == nil {
		n.noteAway()
		s, err = n.c.tr.reconnect(octx, *n.dcfg, cfg.ReconnectBackoff)
	}
	if err != nil {
		if ctx.Err() == nil && !fatalOpen(err) {
			n.noteAway()
		}
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "connect", Err: err}
	}
	n.c.log.Debug("junos: connected", "node", n.name)
	n.sess = s
	return nil
}

// send runs one command on the node. See sendLocked.
func (n *Node) send(ctx context.Context, op, cmd string, readOnly, patient bool) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sendLocked(ctx, op, cmd, readOnly, patient)
}

// sendLocked runs one CLI command, connecting first when there is no
// session (once, or patiently: see connectLocked). A read-only command
// whose session turns out to be dead (dropped or closed: a reboot since
// the last call) is sent once more on a fresh session; other commands
// never are, nor commands that timed out. Errors are *NodeError with Op
// op. n.mu must be held.
func (n *Node) sendLocked(ctx context.Context, op, cmd string, readOnly, patient bool) (string, error) {
	for attempt := 0; ; attempt++ {
		fresh := false
		if n.sess == nil {
			if err := n.connectLocked(ctx, patient); err != nil {
				return "", err
			}
			fresh = true
		}
		out, err := n.sess.Send(ctx, cmd)
		if err == nil {
			return out, nil
		}
		if broken(err) {
			n.dropLocked(err)
			stale := errors.Is(err, driver.ErrDropped) || errors.Is(err, driver.ErrClosed)
			if readOnly && stale && !fresh && attempt == 0 && ctx.Err() == nil {
				continue
			}
		}
		return "", &NodeError{Node: n.name, Host: n.host, RG: -1, Op: op, Err: err}
	}
}

// dropLocked closes a session that err broke and notes the node went away
// when the connection dropped. n.mu must be held.
func (n *Node) dropLocked(err error) {
	if n.sess != nil {
		_ = n.sess.Close()
	}
	n.sess = nil
	if errors.Is(err, driver.ErrDropped) || errors.Is(err, driver.ErrClosed) {
		n.noteAway()
	}
}

// Commands the package sends. Everything variable in them (redundancy
// group numbers, node numbers, the package name) is checked against a
// strict grammar first.
const (
	cmdStatusXML     = "show chassis cluster status | display xml"
	cmdStatus        = "show chassis cluster status"
	cmdVersionXML    = "show version | display xml"
	cmdVersion       = "show version"
	cmdStorageXML    = "show system storage | display xml"
	cmdStorage       = "show system storage"
	cmdInterfaces    = "show chassis cluster interfaces"
	cmdAlarms        = "show system alarms"
	cmdConfigSet     = "show configuration | display set"
	cmdConfigure     = "configure private"
	cmdCommit        = "commit"
	cmdExitConfigure = "exit configuration-mode"
	cmdRollback      = "request system software rollback"
	cmdReboot        = "request system reboot"
)

// rebootQuestion matches the confirmation `request system reboot` asks:
// "Reboot the system ? [yes,no] (no)".
const rebootQuestion = `(?i)reboot the system\s*\?\s*\[yes,no\]`

// readStatusLocked reads `show chassis cluster status`: the XML reply
// first, the text when the XML cannot be had or read (a rejected pipe, an
// unrecognised reply). A *DeviceError (ErrNotClustered for a standalone
// device) from the XML reply is final. Errors are *NodeError (Op
// "status"). n.mu must be held.
func (n *Node) readStatusLocked(ctx context.Context, patient bool) (ClusterStatus, error) {
	out, err := n.sendLocked(ctx, "status", cmdStatusXML, true, patient)
	if err == nil {
		st, perr := ParseChassisClusterStatus(out)
		if perr == nil {
			return st, nil
		}
		var de *DeviceError
		if errors.As(perr, &de) {
			return ClusterStatus{}, &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "status", Err: perr}
		}
		n.c.log.Warn("junos: XML cluster status unreadable; reading the text output", "node", n.name, "error", perr)
	} else if !rejected(err) {
		return ClusterStatus{}, err
	}
	out, err = n.sendLocked(ctx, "status", cmdStatus, true, patient)
	if err != nil {
		return ClusterStatus{}, err
	}
	st, err := ParseChassisClusterStatus(out)
	if err != nil {
		return ClusterStatus{}, &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "status", Err: err}
	}
	return st, nil
}

// rejected reports whether err is the device rejecting a command (a
// *driver.CommandError), as opposed to a session problem.
func rejected(err error) bool { return errors.Is(err, driver.ErrCommand) }

// readSoftwareLocked reads `show version` (XML first, text as fallback)
// and returns the entry of this node. Errors are *NodeError (Op
// "version"). n.mu must be held.
func (n *Node) readSoftwareLocked(ctx context.Context, patient bool) (NodeSoftware, error) {
	fail := func(err error) (NodeSoftware, error) {
		return NodeSoftware{}, &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "version", Err: err}
	}
	var sw Software
	out, err := n.sendLocked(ctx, "version", cmdVersionXML, true, patient)
	if err == nil {
		sw, err = ParseSoftwareInformation(out)
		if err != nil {
			var de *DeviceError
			if errors.As(err, &de) {
				return fail(err)
			}
			n.c.log.Warn("junos: XML version unreadable; reading the text output", "node", n.name, "error", err)
		}
	} else if !rejected(err) {
		return NodeSoftware{}, err
	}
	if err != nil {
		out, err = n.sendLocked(ctx, "version", cmdVersion, true, patient)
		if err != nil {
			return NodeSoftware{}, err
		}
		if sw, err = ParseSoftwareInformation(out); err != nil {
			return fail(err)
		}
	}
	if ns, ok := sw.Node(n.name); ok {
		return ns, nil
	}
	if len(sw.Nodes) == 1 && sw.Nodes[0].Node == "" {
		return fail(cond(ErrNotClustered, "show version prints no node sections: a standalone device"))
	}
	return fail(cond(ErrUnreadable, "show version has no %s section", n.name))
}

// readStorageLocked reads `show system storage` (XML first, text as
// fallback) and returns the free bytes of /var on this node. Errors are
// *NodeError (Op "storage"). n.mu must be held.
func (n *Node) readStorageLocked(ctx context.Context) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "storage", Err: err}
	}
	var st Storage
	out, err := n.sendLocked(ctx, "storage", cmdStorageXML, true, true)
	if err == nil {
		if st, err = ParseSystemStorage(out); err != nil {
			n.c.log.Warn("junos: XML storage unreadable; reading the text output", "node", n.name, "error", err)
		}
	} else if !rejected(err) {
		return 0, err
	}
	if err != nil {
		out, err = n.sendLocked(ctx, "storage", cmdStorage, true, true)
		if err != nil {
			return 0, err
		}
		if st, err = ParseSystemStorage(out); err != nil {
			return fail(err)
		}
	}
	ns, ok := st.Node(n.name)
	if !ok && len(st.Nodes) == 1 && st.Nodes[0].Node == "" {
		ns, ok = st.Nodes[0], true
	}
	if !ok {
		return fail(cond(ErrUnreadable, "show system storage has no %s section", n.name))
	}
	avail, ok := ns.Available("/var")
	if !ok {
		return fail(cond(ErrUnreadable, "show system storage lists no single /var file system on %s", n.name))
	}
	return avail, nil
}

// readConfigLocked returns `show configuration | display set`. Errors are
// *NodeError (Op "configuration"). n.mu must be held.
func (n *Node) readConfigLocked(ctx context.Context) (string, error) {
	out, err := n.sendLocked(ctx, "configuration", cmdConfigSet, true, true)
	if err != nil {
		return "", err
	}
	if !strings.Contains(out, "set ") {
		return "", &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "configuration", Err: cond(ErrUnreadable, "show configuration | display set printed no set statement")}
	}
	return out, nil
}

// fileListDetailRe is one line of `file list detail`: mode, links, owner,
// group, size, date (three fields) and the name or path, as `ls -l` prints
// it on the FreeBSD underneath Junos (Junos OS CLI reference, `file list`).
var fileListDetailRe = regexp.MustCompile(`^[-dlrwxsStT]{10}\S*\s+\d+\s+\S+\s+\S+\s+(\d{1,15})\s+\S+\s+\S+\s+\S+\s+(\S+)$`)

// parseFileSize finds name (a base name or its /var/tmp path) in `file
// list detail` output and returns its size in bytes; ok is false when the
// file is not listed ("No such file or directory").
func parseFileSize(out, name string) (size int64, ok bool) {
	for _, l := range splitLines(out) {
		m := fileListDetailRe.FindStringSubmatch(l.text)
		if m == nil || path.Base(m[2]) != name {
			continue
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return 0, false
		}
		return v, true
	}
	return 0, false
}

// remoteSizeLocked returns the size of /var/tmp/<name> on the node; ok is
// false when it is not there. n.mu must be held.
func (n *Node) remoteSizeLocked(ctx context.Context, name string) (int64, bool, error) {
	out, err := n.sendLocked(ctx, "file list", "file list detail /var/tmp/"+name, true, true)
	if err != nil {
		if rejected(err) {
			return 0, false, nil
		}
		return 0, false, err
	}
	size, ok := parseFileSize(out, name)
	return size, ok, nil
}

// linkStatusRe is a line of `show chassis cluster interfaces`: "Control
// link status: Up", "Fabric link status: Down". The layout of that command
// is not in any public capture we have: it follows the Junos OS Chassis
// Cluster User Guide's description (unverified).
var linkStatusRe = regexp.MustCompile(`(?i)^(control|fabric)\s+link\s+status:\s*(\S+)$`)

// clusterLinks is what `show chassis cluster interfaces` says about the
// control and fabric links.
type clusterLinks struct {
	control, fabric string // "Up", "Down", ...; "" when not printed
}

// parseClusterLinks reads the control and fabric link lines; an output
// with neither is a *ParseError (fail closed).
func parseClusterLinks(out string) (clusterLinks, error) {
	var l clusterLinks
	for _, line := range splitLines(out) {
		m := linkStatusRe.FindStringSubmatch(line.text)
		if m == nil {
			continue
		}
		if strings.EqualFold(m[1], "control") {
			l.control = m[2]
		} else {
			l.fabric = m[2]
		}
	}
	if l.control == "" || l.fabric == "" {
		return l, newParseError(cmdInterfaces, 0, "", "no \"Control link status:\" and \"Fabric link status:\" lines", nil)
	}
	return l, nil
}

// alarmCountRe and alarmRowRe read `show system alarms`: "No alarms
// currently active", or "2 alarms currently active" and rows "<date> <time>
// <zone>  Major  <description>" (shape of the Junos OS CLI reference).
var (
	alarmNoneRe  = regexp.MustCompile(`(?i)^no alarms currently active$`)
	alarmCountRe = regexp.MustCompile(`(?i)^(\d+) alarms? currently active$`)
	alarmRowRe   = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+\s+(Major|Minor)\s+(.+)$`)
)

// nodeAlarms are the active alarms of one node.
type nodeAlarms struct {
	major, minor []string
}

// parseAlarms reads `show system alarms` per node section ("node0:" and a
// dashed line; none on a standalone device) and returns the alarms of
// node name. Output it does not understand is a *ParseError.
func parseAlarms(out, name string) (nodeAlarms, error) {
	var (
		a       nodeAlarms
		cur     = ""
		found   bool
		count   = -1
		section = regexp.MustCompile(`^(node\d):$`)
	)
	for _, l := range splitLines(out) {
		switch m := section.FindStringSubmatch(l.text); {
		case m != nil:
			cur = m[1]
			continue
		case cur != "" && cur != name:
			continue
		}
		switch {
		case alarmNoneRe.MatchString(l.text):
			found, count = true, 0
		case alarmCountRe.MatchString(l.text):
			found = true
			count, _ = strconv.Atoi(alarmCountRe.FindStringSubmatch(l.text)[1])
		case alarmRowRe.MatchString(l.text):
			m := alarmRowRe.FindStringSubmatch(l.text)
			if m[1] == "Major" {
				a.major = append(a.major, m[2])
			} else {
				a.minor = append(a.minor, m[2])
			}
		}
	}
	if !found {
		return a, newParseError(cmdAlarms, 0, "", "no \"alarms currently active\" line for "+name, nil)
	}
	if count != len(a.major)+len(a.minor) {
		return a, newParseError(cmdAlarms, 0, "", fmt.Sprintf("%d alarms announced for %s, %d listed", count, name, len(a.major)+len(a.minor)), nil)
	}
	return a, nil
}

// withTimeout returns ctx bounded by d (when d > 0).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
