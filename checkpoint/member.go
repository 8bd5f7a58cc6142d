package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// ClusterMember is one member of a Check Point ClusterXL or VSX cluster. It
// implements upgrade.Member (Status reads `cphaprob state`, `fw ver`,
// `cphaprob mvc` and, on VSX, `vsx stat -v`; Install stages the CPUSE
// package and runs `installer upgrade`, which Stage and Upgrade do in two
// halves) and upgrade.Rollbacker (Rollback reverts to a Gaia snapshot).
// Its ID is the member's name (Gateway.Name).
//
// Calls on one ClusterMember are serialised: a CLI runs one command at a
// time. After a session drop (a reboot) the next call reconnects,
// redialling with Config.ReconnectBackoff for at most
// Config.ReconnectTimeout.
type ClusterMember struct {
	c    *Cluster
	gw   Gateway
	idx  int
	dcfg *driver.Config // a pointer, so that printing a member never walks into the password
	host string         // "host:port"

	mu   sync.Mutex // serialises session use
	sess driver.Session
	mode sessMode
	vs0  bool // the Clish context was set to VS0 (VSX)

	trackMu sync.Mutex
	// pending is the release of an upgrade or rollback command this
	// Cluster sent whose result has not been seen yet ("" when none);
	// wentAway records that the member dropped or refused a session since.
	pending  string
	wentAway bool
	// away counts the times the member was seen to go away since New.
	away int
	// clusterID is the member's ID in `cphaprob state`, learned from its
	// own "(local)" row (0 until seen).
	clusterID int
}

var (
	_ upgrade.Member     = (*ClusterMember)(nil)
	_ upgrade.Rollbacker = (*ClusterMember)(nil)
)

// ID implements upgrade.Member: the member's name.
func (m *ClusterMember) ID() string { return m.gw.Name }

// Gateway returns the member's configuration (name and address).
func (m *ClusterMember) Gateway() Gateway { return m.gw }

// String describes the member by name and address, never a password.
func (m *ClusterMember) String() string {
	return fmt.Sprintf("checkpoint.ClusterMember{Name:%q Host:%q}", m.gw.Name, m.host)
}

// Format implements fmt.Formatter: every verb prints String.
func (m *ClusterMember) Format(f fmt.State, verb rune) { formatRedacted(f, verb, m.String()) }

// LogValue implements slog.LogValuer.
func (m *ClusterMember) LogValue() slog.Value {
	return slog.GroupValue(slog.String("member", m.gw.Name), slog.String("host", m.host))
}

// MarshalJSON encodes the member as its name and address.
func (m *ClusterMember) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name string `json:"name"`
		Host string `json:"host"`
	}{m.gw.Name, m.host})
}

// close closes the session, if any.
func (m *ClusterMember) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess == nil {
		return nil
	}
	err := m.sess.Close()
	m.sess = nil
	return err
}

// noteAway records that the member went away (session dropped, refused).
func (m *ClusterMember) noteAway() {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	m.away++
	if m.pending != "" {
		m.wentAway = true
	}
}

// setPending marks an upgrade or rollback to release as sent.
func (m *ClusterMember) setPending(release string) {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	m.pending, m.wentAway = release, false
}

// armPending is called by a resumed run's post-install gate while the
// member does not run release: the install ran in an earlier process, so
// this Cluster knows of no pending one. The member counts as gone away when
// this Cluster has already seen it go away (New runs after the command was
// sent). It does nothing when something is pending already.
func (m *ClusterMember) armPending(release string) {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	if m.pending == "" {
		m.pending, m.wentAway = release, m.away > 0
	}
}

// pendingRelease returns the pending release ("" when none).
func (m *ClusterMember) pendingRelease() string {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	return m.pending
}

// result compares the release read now with a pending command: it clears
// it when the member runs that release, and returns an ErrInstallNotTaken
// problem when the member went away since and runs another one.
func (m *ClusterMember) result(release string) string {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	if m.pending == "" || release == "" {
		return ""
	}
	if sameRelease(release, m.pending) {
		m.pending, m.wentAway = "", false
		return ""
	}
	if !m.wentAway {
		return "" // not rebooted yet
	}
	return cond(ErrInstallNotTaken, "%s rebooted and came back on %s, not %s", m.gw.Name, release, m.pending).Error()
}

// learnID records the member's cluster ID from its own local row.
func (m *ClusterMember) learnID(id int) {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	m.clusterID = id
}

// knownID returns the member's cluster ID (0 when not seen yet).
func (m *ClusterMember) knownID() int {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	return m.clusterID
}

// reading is what one member reported at one poll.
type reading struct {
	name        string
	err         error // the first read failure (nil when everything was read)
	unreachable bool  // no session could be established
	cs          *ClusterState
	local       Member // the "(local)" row of cs
	version     *Version
	mvc         *MVC
	mvcErr      error
	vsx         *VSXStat
	vsxErr      error
	notTaken    string // an ErrInstallNotTaken problem
	pending     string // a pending upgrade or rollback of this Cluster
	take        int    // the installed Jumbo take (read with Config.JumboPath only); -1 unknown
}

// read reads the member's own view: `cphaprob state` (VS0) and `fw ver`,
// with full also `cphaprob mvc` and, on VSX, `vsx stat -v`.
func (m *ClusterMember) read(ctx context.Context, full bool) reading {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.readLocked(ctx, full, modeExpert)
}

// readLocked is read with m.mu held; mode says where `cphaprob state` and
// `fw ver` run (Clish runs them as extended commands, in VS0 after `set
// virtual-system 0`).
func (m *ClusterMember) readLocked(ctx context.Context, full bool, mode sessMode) reading {
	r := reading{name: m.gw.Name, take: -1}
	fail := func(err error) reading {
		r.err = err
		r.unreachable = unreachable(err)
		r.pending = m.pendingRelease()
		return r
	}
	run := func(op, cmd string, vs0 bool) (string, error) {
		if mode == modeClish {
			return m.clishLocked(ctx, op, cmd, true)
		}
		return m.expertLocked(ctx, op, cmd, vs0)
	}
	out, err := run("cphaprob state", "cphaprob state", true)
	if err != nil {
		return fail(err)
	}
	cs, err := ParseClusterState(out)
	if err != nil {
		return fail(&MemberError{Member: m.gw.Name, Host: m.host, Op: "cphaprob state", Err: err})
	}
	r.cs = &cs
	r.local, _ = cs.Local()
	m.learnID(r.local.ID)
	out, err = run("fw ver", "fw ver", false)
	if err != nil {
		return fail(err)
	}
	v, err := ParseVersion(out)
	if err != nil {
		return fail(&MemberError{Member: m.gw.Name, Host: m.host, Op: "fw ver", Err: err})
	}
	r.version = &v
	r.notTaken = m.result(v.Release)
	r.pending = m.pendingRelease()
	if !full {
		return r
	}
	if out, err := m.expertLocked(ctx, "cphaprob mvc", "cphaprob mvc", true); err != nil {
		r.mvcErr = err
	} else if mvc, err := ParseMVC(out); err != nil {
		r.mvcErr = &MemberError{Member: m.gw.Name, Host: m.host, Op: "cphaprob mvc", Err: err}
	} else {
		r.mvc = &mvc
	}
	if m.c.cfg.VSX {
		if out, err := m.expertLocked(ctx, "vsx stat -v", "vsx stat -v", false); err != nil {
			r.vsxErr = err
		} else if st, err := ParseVSXStat(out); err != nil {
			r.vsxErr = &MemberError{Member: m.gw.Name, Host: m.host, Op: "vsx stat -v", Err: err}
		} else {
			r.vsx = &st
		}
	}
	if m.c.cfg.JumboPath != "" {
		// The Jumbo's effect (its take) is not in the cluster state: the
		// plan reads it to know which members still need it.
		if out, err := m.expertLocked(ctx, "installer", `clish -c "show installer packages installed"`, false); err == nil {
			if t, err := ParseJumboTake(out); err == nil {
				r.take = t.Number
			} else if errors.Is(err, ErrNoTake) {
				r.take = 0
			}
		} else if unreachable(err) {
			return fail(err)
		}
	}
	if r.mvcErr != nil && unreachable(r.mvcErr) {
		return fail(r.mvcErr)
	}
	if r.vsxErr != nil && unreachable(r.vsxErr) {
		return fail(r.vsxErr)
	}
	return r
}

// Status implements upgrade.Member. It reads the member's own view of the
// cluster (`cphaprob state`, in VS0 on VSX), `fw ver`, `cphaprob mvc` and,
// on VSX, `vsx stat -v`, and maps them on the member's own terms:
//
//   - Role: ACTIVE, with or without an attention flag (ACTIVE(!),
//     ACTIVE(!F), ACTIVE(!P), ACTIVE(!FP)) → upgrade.RoleActive; STANDBY
//     and BACKUP → RoleStandby; READY → RoleReady; DOWN and INIT →
//     RoleDown; LOST → RoleLost; an output not recognised, a rejected
//     command, an unknown state word → RoleUnknown (fail closed), with an
//     error; unreachable → RoleDown.
//   - Healthy: ACTIVE without attention flag or STANDBY, with "Active
//     PNOTEs: None", every Virtual System ready on VSX. Judged alone, an
//     attention flag and READY are never healthy; Cluster.Observe judges
//     them against the whole cluster (the Multi-Version Cluster picture).
//   - Version: the release of `fw ver`, e.g. "R81.20".
//   - Raw: the state as printed, e.g. "ACTIVE(!)".
//   - Problems: why the member is not healthy, each starting with the text
//     of a condition sentinel of this package.
//
// The error is non-nil when a command failed or its output was not
// recognised (a *MemberError); the state is filled in anyway.
func (m *ClusterMember) Status(ctx context.Context) (upgrade.MemberState, error) {
	r := m.read(ctx, true)
	s := m.c.judge([]reading{r}, time.Now())
	st := s.Members[0]
	if r.err != nil {
		return st, r.err
	}
	return st, errors.Join(r.mvcErr, r.vsxErr)
}

// Install implements upgrade.Member: Stage, then Upgrade. It returns once
// CPUSE has accepted `installer upgrade` (or the session dropped with the
// reboot); callers wait for the member with a gate.
func (m *ClusterMember) Install(ctx context.Context, target string) error {
	if err := m.Stage(ctx, target); err != nil {
		return err
	}
	return m.Upgrade(ctx, target)
}

// Stage prepares the upgrade to target on the member without disrupting
// it, the CPUSE way (Gaia Administration Guide, "CPUSE"; R81.20
// Installation and Upgrade Guide): it copies Config.PackagePath by SCP to
// Config.RemoteDir (skipped when `ls -l` shows the file with the local
// size already, so it is idempotent), runs `installer import local <file>
// not-interactive` (which returns as soon as the import has started),
// polls `show installer packages imported` with Config.ImportTiming until
// a new package is listed, then `installer verify <file>`, which must say
// the upgrade is allowed. When the member already runs target it does
// nothing.
//
// Errors are *MemberError values naming the member: a *driver.UploadError
// (the SCP upload; driver.ErrSizeMismatch), ErrImportTimeout (the import
// did not finish, wrapping the *upgrade.GateError), ErrVerifyRefused (the
// verifier's answer), a *driver.CommandError (a refused command, e.g. the
// CLINFR0519 configuration lock), ErrUnreadable.
func (m *ClusterMember) Stage(ctx context.Context, target string) error {
	tv, err := versionpath.CheckPoint{}.Parse(target)
	if err != nil {
		return &MemberError{Member: m.gw.Name, Host: m.host, Op: "stage", Err: err}
	}
	r := m.read(ctx, false)
	if r.err != nil {
		return r.err
	}
	if v, err := r.version.ReleaseVersion(); err == nil && v.Compare(tv) == 0 {
		m.c.log.Info("checkpoint: stage: member already on target", "member", m.gw.Name, "release", target)
		return nil
	}
	return m.stagePackage(ctx, m.c.cfg.PackagePath)
}

// stagePackage uploads, imports and verifies one local package.
func (m *ClusterMember) stagePackage(ctx context.Context, local string) error {
	cfg := m.c.cfg
	remote := cfg.remotePath(local)
	file := filepath.Base(local)
	fail := func(op string, err error) error {
		return &MemberError{Member: m.gw.Name, Host: m.host, Op: op, Err: err}
	}
	fi, err := os.Stat(local)
	if err != nil {
		return fail("upload", err)
	}
	size, ok, err := m.remoteSize(ctx, remote)
	if err != nil {
		return err
	}
	if ok && size == fi.Size() {
		m.c.log.Info("checkpoint: stage: package already on the member", "member", m.gw.Name, "file", remote)
	} else {
		m.c.log.Info("checkpoint: stage: uploading package", "member", m.gw.Name, "file", local, "remote", remote)
		verify := func(ctx context.Context, p string) (int64, error) {
			n, ok, err := m.remoteSize(ctx, p)
			if err == nil && !ok {
				err = fmt.Errorf("%w: %s is not listed after the upload", ErrNotStaged, p)
			}
			return n, err
		}
		if err := m.c.tr.upload(ctx, *m.dcfg, local, remote, verify); err != nil {
			return fail("upload", err)
		}
	}
	m.mu.Lock()
	before, err := m.clishLocked(ctx, "installer", "show installer packages imported", true)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	out, err := m.clishLocked(ctx, "installer import", "installer import local "+remote+" not-interactive", false)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	st, err := parseImportStart(out)
	if err != nil {
		return fail("installer import", err)
	}
	if st != importDone {
		old := parseInstallerRows(before)
		err := upgrade.PollUntil(ctx, "import of "+file+" on "+m.gw.Name, cfg.ImportTiming, func(ctx context.Context) error {
			m.mu.Lock()
			out, err := m.clishLocked(ctx, "installer", "show installer packages imported", true)
			m.mu.Unlock()
			if err != nil {
				return err
			}
			for _, row := range parseInstallerRows(out) {
				if !slices.Contains(old, row) {
					return nil
				}
			}
			return fmt.Errorf("%s is not listed as imported yet", file)
		}, nil)
		if err != nil {
			if ctx.Err() != nil {
				return fail("installer import", err)
			}
			return fail("installer import", fmt.Errorf("%w: %w", ErrImportTimeout, err))
		}
	}
	m.mu.Lock()
	out, err = m.clishLocked(ctx, "installer verify", "installer verify "+file, true)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	if err := parseVerify(out); err != nil {
		return fail("installer verify", err)
	}
	m.c.log.Info("checkpoint: stage: package imported and verified", "member", m.gw.Name, "file", file)
	return nil
}

// remoteSize returns the size of a file on the member (`ls -l`), ok=false
// when it does not exist.
func (m *ClusterMember) remoteSize(ctx context.Context, p string) (int64, bool, error) {
	out, err := m.expert(ctx, "ls", "ls -l "+p, false)
	if err != nil {
		var ce *driver.CommandError
		if errors.As(err, &ce) {
			return parseLsSize(ce.Output, p)
		}
		return 0, false, err
	}
	n, ok, err := parseLsSize(out, p)
	if err != nil {
		return 0, false, &MemberError{Member: m.gw.Name, Host: m.host, Op: "ls", Err: err}
	}
	return n, ok, nil
}

// Upgrade runs the disruptive half of the upgrade to target: `installer
// upgrade <file> not-interactive` (R81.20 Installation and Upgrade Guide,
// "Multi-Version Cluster Upgrade"; CPUSE in Gaia Clish). The member reboots
// into target. When it already runs target it does nothing.
//
// Right before the command, holding every member's session so that
// nothing else is sent to any member in between, it reads `cphaprob state`
// and `fw ver` on every member and sends the command only if this member
// is STANDBY (or DOWN by clusterXL_admin down, after the plan's failover),
// with no unexpected PNOTE, and another member is ACTIVE and forwards
// (Active PNOTEs None, or only the Multi-Version Cluster picture's
// attention), and the members agree on the picture. Anything else,
// including a member that cannot be read, refuses with a *MemberError
// wrapping ErrPeerNotForwarding or ErrUnexpectedRole, sending nothing
// (fail closed).
//
// Outcomes: the command's output, a dropped session (the reboot) or a
// command that times out while the member goes away are all accepted;
// callers wait for the member with a gate. Other errors are *MemberError
// values (a *driver.CommandError when CPUSE refuses, e.g. the package was
// not imported: run Stage first).
func (m *ClusterMember) Upgrade(ctx context.Context, target string) error {
	return m.apply(ctx, target, "installer upgrade", filepath.Base(m.c.cfg.PackagePath), false)
}

// apply is the disruptive CPUSE command on m, after the last check.
// allowReady accepts m READY on a release ahead of its peers (the Jumbo
// installed after the major upgrade, before MVC).
func (m *ClusterMember) apply(ctx context.Context, release, op, file string, allowReady bool) error {
	tv, err := versionpath.CheckPoint{}.Parse(release)
	if err != nil {
		return &MemberError{Member: m.gw.Name, Host: m.host, Op: op, Err: err}
	}
	unlock := m.c.lockAll()
	defer unlock()
	_, r, err := m.c.lastCheckLocked(ctx, m, allowReady)
	if err != nil {
		return err
	}
	if v, err := r.version.ReleaseVersion(); err == nil && v.Compare(tv) == 0 && !allowReady {
		m.c.log.Info("checkpoint: upgrade: member already on target", "member", m.gw.Name, "release", release)
		return nil
	}
	cmd := "installer upgrade " + file + " not-interactive"
	m.c.log.Info("checkpoint: upgrade: sending the CPUSE command", "member", m.gw.Name, "command", cmd)
	m.setPending(release)
	_, err = m.clishLocked(ctx, op, cmd, false)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, driver.ErrDropped):
		return nil // the expected reboot
	case errors.Is(err, driver.ErrAborted) && ctx.Err() == nil:
		m.c.log.Warn("checkpoint: upgrade: no answer to the CPUSE command; assuming the member is rebooting", "member", m.gw.Name, "error", err)
		return nil
	default:
		m.setPending("")
		return err
	}
}

// Rollback implements upgrade.Rollbacker: it reverts the member to the Gaia
// snapshot Config.RollbackSnapshot with Clish `set snapshot revert <name>`
// (Gaia Administration Guide, "Snapshot Management"; CPUSE takes a snapshot
// before a major upgrade), after which the member reboots into the release
// the snapshot holds, which must be to. UNVERIFIED: whether a given build
// asks for a confirmation, and how long the revert takes, are not shown by
// any public capture; confirm on a lab gateway.
//
// It is disruptive like Upgrade and runs only as a plan step under the
// availability guard (upgrade.Rolling with Rollback set builds that plan).
// Refused before anything is sent (a *MemberError naming the member and
// the version, ErrRollback): no RollbackSnapshot configured, to not a
// release, the member's release not above to. Right before the command it
// makes the same check on the devices as Upgrade (ErrPeerNotForwarding,
// ErrUnexpectedRole). A member already on to is left alone.
func (m *ClusterMember) Rollback(ctx context.Context, to string) error {
	fail := func(err error) error { return &MemberError{Member: m.gw.Name, Host: m.host, Op: "rollback", Err: err} }
	snapshot := m.c.cfg.RollbackSnapshot
	if snapshot == "" {
		return fail(fmt.Errorf("%w: no Config.RollbackSnapshot to revert %s to %s", ErrRollback, m.gw.Name, to))
	}
	tv, err := versionpath.CheckPoint{}.Parse(to)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrRollback, err))
	}
	unlock := m.c.lockAll()
	defer unlock()
	_, r, err := m.c.lastCheckLocked(ctx, m, true)
	if err != nil {
		return err
	}
	have, err := r.version.ReleaseVersion()
	if err != nil {
		return fail(err)
	}
	switch c := have.Compare(tv); {
	case c == 0:
		return nil
	case c < 0:
		return fail(fmt.Errorf("%w: %s runs %s, below %s: a rollback cannot move forward", ErrRollback, m.gw.Name, r.version.Release, to))
	}
	cmd := "set snapshot revert " + snapshot
	m.c.log.Info("checkpoint: rollback: reverting to the snapshot", "member", m.gw.Name, "snapshot", snapshot, "to", to)
	m.setPending(to)
	_, err = m.clishLocked(ctx, "rollback", cmd, false)
	switch {
	case err == nil, errors.Is(err, driver.ErrDropped):
		return nil
	case errors.Is(err, driver.ErrAborted) && ctx.Err() == nil:
		return nil
	default:
		m.setPending("")
		return err
	}
}

// setMVC runs `cphaconf mvc on|off` (Expert, VS0; R81 CLI Reference Guide,
// "Configuring the Multi-Version Cluster Mechanism"), which prints
// nothing, checks its exit status, then reads the setting back with
// `cphaprob mvc` (ParseMVC) until it shows the wanted value or timing ends
// (ErrMVCReadBack).
func (m *ClusterMember) setMVC(ctx context.Context, on bool, timing upgrade.Timing) error {
	word := "off"
	if on {
		word = "on"
	}
	m.mu.Lock()
	_, err := m.expertChangeLocked(ctx, "cphaconf mvc", "cphaconf mvc "+word, true)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	var last string
	err = upgrade.PollUntil(ctx, "MVC "+word+" on "+m.gw.Name, timing, func(ctx context.Context) error {
		got, text, err := m.readMVC(ctx)
		if err != nil {
			return err
		}
		last = text
		if got != on {
			return fmt.Errorf("cphaprob mvc says %q", text)
		}
		return nil
	}, nil)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return &MemberError{Member: m.gw.Name, Host: m.host, Op: "cphaprob mvc",
			Err: &RuleError{Member: m.gw.Name, Rule: RuleMVCReadBack, Err: cond(ErrMVCReadBack, "after `cphaconf mvc %s` the read-back still says %q (%v)", word, last, err)}}
	}
	return nil
}

// readMVC reads the MVC setting back.
func (m *ClusterMember) readMVC(ctx context.Context) (bool, string, error) {
	out, err := m.expert(ctx, "cphaprob mvc", "cphaprob mvc", true)
	if err != nil {
		return false, "", err
	}
	mvc, err := ParseMVC(out)
	if err != nil {
		return false, "", &MemberError{Member: m.gw.Name, Host: m.host, Op: "cphaprob mvc", Err: err}
	}
	return mvc.Enabled, mvc.Text, nil
}

// readTake reads the installed Jumbo take from CPUSE (Clish `show
// installer packages installed`).
func (m *ClusterMember) readTake(ctx context.Context) (int, error) {
	m.mu.Lock()
	out, err := m.clishLocked(ctx, "installer", "show installer packages installed", true)
	m.mu.Unlock()
	if err != nil {
		return 0, err
	}
	t, err := ParseJumboTake(out)
	switch {
	case errors.Is(err, ErrNoTake):
		return 0, nil
	case err != nil:
		return 0, &MemberError{Member: m.gw.Name, Host: m.host, Op: "show installer packages installed", Err: err}
	}
	return t.Number, nil
}

// readTakeExpert reads the installed Jumbo take with `cpinfo -y all` (the
// most reliable source; it is slow on devices, about a minute), falling
// back to CPUSE.
func (m *ClusterMember) readTakeExpert(ctx context.Context) (int, error) {
	out, err := m.expert(ctx, "cpinfo", "cpinfo -y all", false)
	if err == nil {
		t, perr := ParseJumboTake(out)
		switch {
		case errors.Is(perr, ErrNoHotfixes):
			return 0, nil
		case perr == nil:
			return t.Number, nil
		}
	}
	return m.readTake(ctx)
}

// sameRelease compares two release names with the Check Point grammar
// (exact text when one does not parse).
func sameRelease(a, b string) bool {
	g := versionpath.CheckPoint{}
	va, err1 := g.Parse(a)
	vb, err2 := g.Parse(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return va.Compare(vb) == 0
}
