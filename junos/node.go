package junos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// Node is one node of a chassis cluster (node0 or node1): the
// upgrade.Member of a Cluster. Its ID is the node name. It implements
// upgrade.Member (Status; Install = Stage, then the checked reboot) and
// upgrade.Rollbacker (`request system software rollback`, then the checked
// reboot), so that upgrade.Rolling, with or without Rollback, and
// hand-written plans can drive it under the executor's guard.
//
// Every action runs on the node's OWN session (its fxp0 address): Juniper
// KB17947 and the PyEZ and Ansible issues about dual-RE installs show that
// a cluster cannot be upgraded through one connection. Calls on one Node
// are serialised. After a session drop (a reboot) the next call
// reconnects.
type Node struct {
	c    *Cluster
	name string
	idx  int
	dcfg *driver.Config // a pointer, so that printing a Node never walks into the password
	host string         // "host:port"

	mu   sync.Mutex // serialises session use
	sess driver.Session

	trackMu sync.Mutex
	// rebootTarget is the version a reboot sent by this process should
	// bring the node to ("" when none is pending); rebootAway says the node
	// went away since; notTaken is the version it came back on when that
	// was another one (sticky until the next reboot).
	rebootTarget string
	rebootAway   bool
	notTaken     string
}

var (
	_ upgrade.Member     = (*Node)(nil)
	_ upgrade.Rollbacker = (*Node)(nil)
)

// String describes the node by name and address, never the password.
func (n *Node) String() string { return fmt.Sprintf("junos.Node{Name:%q Host:%q}", n.name, n.host) }

// Format implements fmt.Formatter: every verb prints String.
func (n *Node) Format(f fmt.State, verb rune) { formatRedacted(f, verb, n.String()) }

// LogValue implements slog.LogValuer.
func (n *Node) LogValue() slog.Value {
	return slog.GroupValue(slog.String("node", n.name), slog.String("host", n.host))
}

// MarshalJSON encodes the node as its name and address.
func (n *Node) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Node string `json:"node"`
		Host string `json:"host"`
	}{n.name, n.host})
}

// ID implements upgrade.Member: "node0" or "node1".
func (n *Node) ID() string { return n.name }

// Address returns the node's configured fxp0 address.
func (n *Node) Address() Address { return n.c.cfg.Nodes[n.idx] }

// close closes the session, if any.
func (n *Node) close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sess == nil {
		return nil
	}
	err := n.sess.Close()
	n.sess = nil
	return err
}

// noteAway records that the node went away (session dropped, unreachable).
func (n *Node) noteAway() {
	n.trackMu.Lock()
	defer n.trackMu.Unlock()
	if n.rebootTarget != "" {
		n.rebootAway = true
	}
}

// trackReboot arms the detection of an install that did not take: the
// reboot about to be sent should bring the node to target.
func (n *Node) trackReboot(target string) {
	n.trackMu.Lock()
	defer n.trackMu.Unlock()
	n.rebootTarget, n.rebootAway, n.notTaken = target, false, ""
}

// untrackReboot disarms it (the reboot was not sent).
func (n *Node) untrackReboot() {
	n.trackMu.Lock()
	defer n.trackMu.Unlock()
	n.rebootTarget, n.rebootAway = "", false
}

// noteVersion compares the version a read found with a pending reboot's
// target: on the target the reboot is settled; on another version after
// the node went away, the install did not take.
func (n *Node) noteVersion(v Version) {
	n.trackMu.Lock()
	defer n.trackMu.Unlock()
	if n.rebootTarget == "" {
		return
	}
	tv, err := ParseVersion(n.rebootTarget)
	switch {
	case err == nil && SameRelease(v, tv):
		n.rebootTarget, n.rebootAway, n.notTaken = "", false, ""
	case n.rebootAway:
		n.notTaken = v.String()
	}
}

// installResult returns the version the node came back on after a reboot
// this process sent for target, when that is another version; "" otherwise.
func (n *Node) installResult(target string) string {
	n.trackMu.Lock()
	defer n.trackMu.Unlock()
	if n.rebootTarget != target {
		return ""
	}
	return n.notTaken
}

// Status implements upgrade.Member: the node's state as Cluster.Observe
// maps it (see there), from this node's own session only (a node that
// cannot be reached is upgrade.RoleDown). The error is non-nil whenever
// its status or version could not be read: a *NodeError; the state is then
// still filled in (RoleDown or RoleUnknown, unhealthy, the error as a
// problem).
func (n *Node) Status(ctx context.Context) (upgrade.MemberState, error) {
	v := n.view(ctx, false)
	peer := n.c.peer(n).name
	st := memberState(n, v, nodeView{err: errNoView}, peer)
	if v.err == nil && v.verErr == nil {
		n.noteVersion(v.sw.Version)
	}
	if v.err != nil {
		return st, v.err
	}
	return st, v.verErr
}

// errNoView stands for a peer view that was not read.
var errNoView = errors.New("junos: not read")

// Install implements upgrade.Member: Stage, then the checked reboot of
// Reboot. It returns once the reboot command was acknowledged (or the
// session dropped as the node went down); callers wait for the node with
// a gate. It does nothing when the node already runs target.
func (n *Node) Install(ctx context.Context, target string) error {
	if err := n.Stage(ctx, target); err != nil {
		return err
	}
	return n.Reboot(ctx, target)
}

// Stage installs the package on the node without rebooting it: the long,
// non-disruptive part of an upgrade, which the Planner runs as its own
// step (stage:<node>@<target>). target must be a Junos version
// (ParseVersion); the package (Config.PackagePath) must be for it.
//
// Steps, on the node's own session: read its status and version (nothing
// to do when it already runs target); refuse (ErrUnexpectedRole, nothing
// changed) when it is primary of any redundancy group; refuse when the
// package is not for its platform (ErrPackage) or /var lacks
// Config.StorageFactor times the package (ErrStorage); copy the package by
// SCP to /var/tmp/<name> unless `file list detail` shows it there with the
// local file's size, and check that size after the copy
// (driver.ErrSizeMismatch); then `request system software add
// /var/tmp/<name> no-copy` (with validation) on a session bounded by
// Config.InstallTimeout, whose output ParseSoftwareAdd reads: the package
// then waits for the next reboot. A success is recorded in a marker file
// under Config.ArtifactsDir, so that a restarted process knows the node is
// staged ("There is already an install pending." is then this SDK's own
// install).
//
// Errors are *NodeError values naming the node (Op "stage", "upload",
// "software add", "storage"...), e.g. wrapping a *SoftwareAddError
// (ErrInstallPending, ErrInsufficientSpace, ErrWrongPlatform,
// ErrValidation) or a *driver.UploadError.
func (n *Node) Stage(ctx context.Context, target string) error {
	tv, err := ParseVersion(target)
	if err != nil {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "stage", Err: err}
	}
	done, err := n.prepareStage(ctx, tv)
	if done || err != nil {
		return err
	}
	// The install runs on a session of its own: the node's session stays
	// free for observations meanwhile.
	if err := n.softwareAdd(ctx, target); err != nil {
		return err
	}
	return n.c.writeMarker(target, markerStaged, n.name, marker{Node: n.name, Target: target, Package: n.c.cfg.packageName(), At: time.Now().UTC()})
}

// prepareStage is Stage up to the install: the checks and the upload; done
// when the node already runs the target.
func (n *Node) prepareStage(ctx context.Context, tv Version) (done bool, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v := n.viewLocked(ctx, true)
	if v.err != nil {
		return false, v.err
	}
	if v.verErr != nil {
		return false, v.verErr
	}
	if SameRelease(v.sw.Version, tv) {
		n.c.log.Info("junos: stage: node already on the target", "node", n.name, "version", v.sw.Version.String())
		return true, nil
	}
	for _, g := range v.status.Groups {
		if r, ok := g.Node(n.name); ok && r.Status == StatePrimary {
			return false, &NodeError{Node: n.name, Host: n.host, RG: g.ID, Op: "stage", Err: cond(ErrUnexpectedRole,
				"%s is primary of RG%d: the package is staged on the node that is secondary of every group", n.name, g.ID)}
		}
	}
	if err := n.c.checkPackagePlatform(n, v.sw); err != nil {
		return false, err
	}
	if err := n.checkStorageLocked(ctx); err != nil {
		return false, err
	}
	return false, n.uploadLocked(ctx)
}

// uploadLocked copies the package to /var/tmp unless it is there with the
// local file's size. n.mu must be held.
func (n *Node) uploadLocked(ctx context.Context) error {
	cfg := n.c.cfg
	name := cfg.packageName()
	size, err := n.c.packageSize()
	if err != nil {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "upload", Err: err}
	}
	have, ok, err := n.remoteSizeLocked(ctx, name)
	if err != nil {
		return err
	}
	if ok && have == size {
		n.c.log.Info("junos: stage: package already on the node", "node", n.name, "file", cfg.remotePackage(), "bytes", size)
		return nil
	}
	n.c.log.Info("junos: stage: uploading the package", "node", n.name, "file", cfg.remotePackage(), "bytes", size)
	verify := func(ctx context.Context, remote string) (int64, error) {
		got, ok, err := n.remoteSizeLocked(ctx, name)
		switch {
		case err != nil:
			return 0, err
		case !ok:
			return 0, cond(ErrNotStaged, "file list does not show %s after the upload", remote)
		}
		return got, nil
	}
	start := time.Now()
	if err := n.c.tr.upload(ctx, *n.dcfg, cfg.PackagePath, cfg.remotePackage(), verify); err != nil {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "upload", Err: err}
	}
	n.c.log.Info("junos: stage: package uploaded", "node", n.name, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// softwareAdd runs `request system software add /var/tmp/<pkg> no-copy`
// on a session of its own bounded by Config.InstallTimeout.
func (n *Node) softwareAdd(ctx context.Context, target string) error {
	cfg := n.c.cfg
	cmd := "request system software add " + cfg.remotePackage() + " no-copy"
	fail := func(err error) error {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "software add", Err: err}
	}
	dc := *n.dcfg
	dc.Timeout = cfg.InstallTimeout
	octx, cancel := withTimeout(ctx, cfg.ReconnectTimeout)
	s, err := n.c.tr.open(octx, dc)
	cancel()
	if err != nil {
		return fail(err)
	}
	defer func() { _ = s.Close() }()
	n.c.log.Info("junos: stage: software add (with validation)", "node", n.name, "command", cmd)
	start := time.Now()
	out, err := s.Send(ctx, cmd)
	if err != nil {
		var ce *driver.CommandError
		if !errors.As(err, &ce) {
			return fail(err)
		}
		out = ce.Output
	}
	res, perr := ParseSoftwareAdd(out)
	if perr != nil {
		if errors.Is(perr, ErrInstallPending) {
			if _, ok := n.c.readMarker(target, markerStaged, n.name); ok {
				n.c.log.Info("junos: stage: an install is already pending: this SDK's own (staged marker)", "node", n.name)
				return nil
			}
		}
		return fail(perr)
	}
	if err != nil {
		return fail(err) // rejected, although the output reads as a success: fail closed
	}
	n.c.log.Info("junos: stage: package installed, active at the next reboot", "node", n.name, "marker", res.Marker,
		"warnings", len(res.Warnings), "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// Reboot is the disruptive half of Install: it reboots the node onto the
// package Stage installed, which the Planner runs as its own step
// (reboot:<node>@<target>, the only step that disrupts the node). It does
// nothing when the node already runs target.
//
// It refuses, sending nothing, when no staged marker of this SDK exists
// for target (ErrNotStaged), and when the last check on the devices fails:
// holding both nodes' sessions, so that nothing else is sent to either in
// between, it reads the PEER's own status and then this node's, and
// reboots only if the peer is primary of every redundancy group with a
// non-zero priority, no monitor failure, and sees this node, and this node
// is secondary of every group (RG0 secondary or secondary-hold) and sees
// the peer primary of every group (ErrPeerNotForwarding,
// ErrUnexpectedRole). Then it writes its reboot marker under
// Config.ArtifactsDir and answers `request system reboot`'s question
// "Reboot the system ? [yes,no] (no)" with "yes".
//
// A dropped session or a missing prompt after the answer is the expected
// reboot, as is a normal return; Reboot does not wait for the node to come
// back. Errors are *NodeError values naming the node (Op "reboot").
func (n *Node) Reboot(ctx context.Context, target string) error {
	return n.reboot(ctx, target, rebootOpts{requireStaged: true})
}

// rebootOpts are the variants of reboot.
type rebootOpts struct {
	// requireStaged: refuse without this SDK's staged marker for target
	// (an upgrade); a rollback has none.
	requireStaged bool
	// checkConfig: compare the configuration with the export first.
	checkConfig bool
}

// reboot is the disruptive half of an upgrade or rollback: the last check
// on the devices, then `request system reboot` (answering the confirmation
// "yes"). See Planner for the checks.
func (n *Node) reboot(ctx context.Context, target string, o rebootOpts) error {
	tv, err := ParseVersion(target)
	if err != nil {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "reboot", Err: err}
	}
	if o.checkConfig {
		if err := n.c.checkConfig(ctx, target); err != nil {
			return err
		}
	}
	v := n.view(ctx, true)
	if v.err != nil {
		return v.err
	}
	if v.verErr != nil {
		return v.verErr
	}
	if SameRelease(v.sw.Version, tv) {
		n.c.log.Info("junos: reboot: node already runs the target; not rebooting", "node", n.name, "version", v.sw.Version.String())
		return nil
	}
	if o.requireStaged {
		if _, ok := n.c.readMarker(target, markerStaged, n.name); !ok {
			return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "reboot", Err: cond(ErrNotStaged,
				"no staged marker for %s on %s under %s: stage it first (Node.Stage, the plan's stage step)", target, n.name, n.c.cfg.ArtifactsDir)}
		}
	}
	n.c.removeMarker(target, markerReboot, n.name)
	unlock := n.c.lockPair()
	defer unlock()
	if err := n.lastCheckLocked(ctx); err != nil {
		return err
	}
	if err := n.c.writeMarker(target, markerReboot, n.name, marker{Node: n.name, Target: target, From: v.sw.Version.String(), At: time.Now().UTC()}); err != nil {
		return err
	}
	n.trackReboot(target)
	n.c.log.Info("junos: reboot", "node", n.name, "from", v.sw.Version.String(), "to", target)
	_, err = n.interactLocked(ctx, "reboot", []driver.Exchange{{Input: cmdReboot, Expect: rebootQuestion}, {Input: "yes"}})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, driver.ErrDropped):
		return nil // the expected reboot
	case errors.Is(err, driver.ErrAborted) && ctx.Err() == nil:
		n.c.log.Warn("junos: reboot: no prompt after the confirmation; assuming the node is going down", "node", n.name, "error", err)
		return nil
	default:
		n.untrackReboot()
		n.c.removeMarker(target, markerReboot, n.name)
		return err
	}
}

// interactLocked runs an exchange on the node's session (connecting
// patiently first). Errors are *NodeError with Op op. n.mu must be held.
func (n *Node) interactLocked(ctx context.Context, op string, steps []driver.Exchange) (string, error) {
	if n.sess == nil {
		if err := n.connectLocked(ctx, true); err != nil {
			return "", err
		}
	}
	out, err := n.sess.Interact(ctx, steps)
	if err != nil {
		if broken(err) {
			n.dropLocked(err)
		}
		return "", &NodeError{Node: n.name, Host: n.host, RG: -1, Op: op, Err: err}
	}
	return out, nil
}

// lastCheckLocked verifies on the devices, right before a reboot of n, that
// the reboot leaves the cluster forwarding: the peer's own status (on the
// peer's session) shows it primary of every redundancy group, with a
// non-zero priority, no monitor failure, and n visible (not lost); then
// n's own status (the last command on n's session before the reboot) shows
// n secondary of every group (RG0 secondary or secondary-hold), the peer
// primary of every group, the same groups. Anything else, including a peer
// that cannot be read, refuses with ErrPeerNotForwarding or
// ErrUnexpectedRole, sending nothing. Both sessions must be held
// (lockPair).
func (n *Node) lastCheckLocked(ctx context.Context) error {
	peer := n.c.peer(n)
	refuse := func(kind error, format string, args ...any) error {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "reboot", Err: cond(kind, format, args...)}
	}
	pv := peer.viewLocked(ctx, true)
	if pv.err != nil {
		return refuse(ErrPeerNotForwarding, "cannot read %s right before rebooting %s: %v", peer.name, n.name, pv.err)
	}
	var why []string
	groups := map[int]bool{}
	for _, g := range pv.status.Groups {
		groups[g.ID] = true
		p, _ := g.Node(peer.name)
		if p.Status != StatePrimary {
			why = append(why, fmt.Sprintf("%s is %s in RG%d", peer.name, p.Status, g.ID))
		}
		if p.Priority == 0 || len(p.MonitorFailures) > 0 {
			why = append(why, fmt.Sprintf("%s has %s in RG%d", peer.name, monitorText(p), g.ID))
		}
		if r, ok := g.Node(n.name); !ok || r.Status == StateLost {
			why = append(why, fmt.Sprintf("%s does not see %s in RG%d", peer.name, n.name, g.ID))
		}
	}
	if len(pv.status.Groups) == 0 || !groups[1] {
		why = append(why, fmt.Sprintf("%s prints no data redundancy group", peer.name))
	}
	if len(why) > 0 {
		return refuse(ErrPeerNotForwarding, "%s; not rebooting %s", strings.Join(why, ", "), n.name)
	}
	nv := n.viewLocked(ctx, true)
	if nv.err != nil {
		return nv.err
	}
	for _, g := range nv.status.Groups {
		r, _ := g.Node(n.name)
		ok := r.Status == StateSecondary || g.ID == 0 && r.Status == StateSecondaryHold
		if !ok {
			return &NodeError{Node: n.name, Host: n.host, RG: g.ID, Op: "reboot", Err: cond(ErrUnexpectedRole,
				"%s is %s in RG%d: only a node that is secondary of every group is rebooted", n.name, r.Status, g.ID)}
		}
		if p, _ := g.Node(peer.name); p.Status != StatePrimary {
			return refuse(ErrPeerNotForwarding, "%s sees %s %s in RG%d; not rebooting %s", n.name, peer.name, p.Status, g.ID, n.name)
		}
		delete(groups, g.ID)
	}
	if len(groups) > 0 || len(nv.status.Groups) != len(pv.status.Groups) {
		return refuse(ErrPeerNotForwarding, "%s and %s print different redundancy groups", n.name, peer.name)
	}
	return nil
}

// Rollback implements upgrade.Rollbacker: it returns the node to version
// to, the version it ran before its last upgrade, with `request system
// software rollback` (which makes the previous software active at the next
// reboot, or backs out a pending install; Juniper KB17947) and then the
// checked reboot (the last check of Planner's reboot steps: the peer
// primary of every group and forwarding, this node secondary of every
// group). It does nothing when the node already runs to.
//
// Refused before anything is sent (ErrRollback): to is not a Junos version
// or not older than the running one. After the rollback command the output
// must name to ("Junos version '<to>' will become active at next reboot");
// otherwise nothing is rebooted and the error says which version is now
// pending (back it out with another `request system software rollback` or
// install the right one). Errors are *NodeError values naming the node.
func (n *Node) Rollback(ctx context.Context, to string) error {
	tv, err := ParseVersion(to)
	if err != nil {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "rollback", Err: cond(ErrRollback, "%v", err)}
	}
	v := n.view(ctx, true)
	if v.err != nil {
		return v.err
	}
	if v.verErr != nil {
		return v.verErr
	}
	if SameRelease(v.sw.Version, tv) {
		return nil
	}
	if v.sw.Version.Compare(tv) <= 0 {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "rollback", Err: cond(ErrRollback, "%s runs %s: %s is not an earlier version", n.name, v.sw.Version, to)}
	}
	for _, g := range v.status.Groups {
		if r, ok := g.Node(n.name); ok && r.Status == StatePrimary {
			return &NodeError{Node: n.name, Host: n.host, RG: g.ID, Op: "rollback", Err: cond(ErrUnexpectedRole, "%s is primary of RG%d: fail it over first", n.name, g.ID)}
		}
	}
	out, err := n.send(ctx, "rollback", cmdRollback, false, true)
	if err != nil {
		return err
	}
	res, err := ParseSoftwareAdd(out)
	if err != nil {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "rollback", Err: err}
	}
	pv, perr := ParseVersion(res.Version)
	if perr != nil || !SameRelease(pv, tv) {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "rollback", Err: cond(ErrRollback,
			"the rollback makes %q active at the next reboot, not %s; not rebooting", res.Version, to)}
	}
	return n.reboot(ctx, to, rebootOpts{})
}

// statFile returns the size of a local file.
func statFile(p string) (int64, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
