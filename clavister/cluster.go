package clavister

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// Condition sentinels: what is wrong with a unit or the pair. They appear
// wrapped in *UnitError values (errors.Is finds them) and, as text, at the
// start of upgrade.MemberState.Problems and upgrade.Snapshot.Problems, so a
// gate's last failure names the category.
var (
	// ErrUnreachable: no session to the unit could be (re)established
	// (rebooting, powered off, wrong address). Observe reports the unit as
	// upgrade.RoleDown.
	ErrUnreachable = errors.New("clavister: unit unreachable")
	// ErrUnreadable: the unit answered but its state could not be read
	// (unrecognised output, a rejected command). Fail closed: the unit is
	// upgrade.RoleUnknown and never healthy.
	ErrUnreadable = errors.New("clavister: unit state unreadable")
	// ErrNotConfigured: `ha` says the unit is a standalone system.
	ErrNotConfigured = errors.New("clavister: HA not configured (standalone unit)")
	// ErrPeerNotAlive: `ha` does not say "HA cluster peer is ALIVE".
	ErrPeerNotAlive = errors.New("clavister: HA peer not ALIVE")
	// ErrSyncIncomplete: `ha` prints an object sync figure below 100 %.
	ErrSyncIncomplete = errors.New("clavister: HA object sync below 100%")
	// ErrSplitBrain: both units report ACTIVE (KB 324735841).
	ErrSplitBrain = errors.New("clavister: both units ACTIVE (split brain, KB 324735841)")
	// ErrBothInactive: both units report INACTIVE, nothing forwards
	// (KB 324735841).
	ErrBothInactive = errors.New("clavister: both units INACTIVE (KB 324735841)")
	// ErrUnplannedFailover: the active unit's time in state went back
	// between two polls, or the roles changed outside a planned failover:
	// a failover happened that the plan did not make (stop and re-assess
	// before anything else is changed).
	ErrUnplannedFailover = errors.New("clavister: unplanned failover")
	// ErrUnexpectedRole: a unit is not in the HA state a step needs (e.g.
	// ACTIVE where it must be INACTIVE).
	ErrUnexpectedRole = errors.New("clavister: unit in unexpected HA state")
	// ErrUnexpectedVersion: a unit runs another version than the one
	// expected (e.g. it came back from an upgrade on the old version).
	ErrUnexpectedVersion = errors.New("clavister: unit on unexpected version")
	// ErrAheadOfTarget: a unit runs a version newer than the target; a
	// downgrade is not a rolling upgrade.
	ErrAheadOfTarget = errors.New("clavister: unit ahead of target version")
	// ErrUnknownUnit: a unit name that is not one of the pair's.
	ErrUnknownUnit = errors.New("clavister: unknown unit")
	// ErrInstallNotTaken: the unit went away after the apply command (its
	// session dropped or it was unreachable) and came back on a version
	// other than the one installed: the upgrade did not take (truncated or
	// wrong .upg, or an upgrade refused for lack of a current support
	// agreement or licence entitlement). Waiting cannot fix it, so it
	// matches upgrade.ErrPermanent and health gates stop at once instead of
	// polling to their deadline.
	ErrInstallNotTaken = fmt.Errorf("clavister: unit rebooted after the install but runs another version: %w", upgrade.ErrPermanent)
	// ErrUploadUnverified: `ls` lists the firmware package without a size,
	// so a truncated upload cannot be ruled out, and Config.RequireUploadSize
	// is set. Stage and Install then fail (it is wrapped in the
	// *driver.UploadError of a *UnitError with Op "upload") and Apply
	// refuses the package (a *UnitError with Op "install"); nothing is
	// applied.
	ErrUploadUnverified = errors.New("clavister: uploaded firmware size not verifiable")
	// ErrPeerNotForwarding: right before the apply command that restarts a
	// unit, the check on the devices themselves did not show the other
	// unit ACTIVE and forwarding: its `ha` could not be read (unreachable,
	// unrecognised output), it is INACTIVE, it does not see the unit
	// ALIVE, its object sync is below 100 %, an unplanned failover was
	// seen, or the unit itself does not see its peer ALIVE. Restarting the
	// unit then could leave the pair without a forwarding unit, so nothing
	// is sent. It comes wrapped in a *UnitError (Op "install") naming the
	// unit that was about to restart; the message names the peer.
	ErrPeerNotForwarding = errors.New("clavister: the other unit is not verified ACTIVE and forwarding")
	// ErrNotStaged: the apply step found no firmware package on the unit,
	// or one of another size than the local file: the stage step (or
	// Member.Stage) must copy it first. Nothing is applied. When the
	// journal says the stage step finished but the package is gone (the
	// unit restarted in between and consumed it), start a new run with a
	// new journal: the unit is still on its old version, so the new plan
	// stages it again.
	ErrNotStaged = errors.New("clavister: firmware package not staged on the unit")
)

// conditions lists every condition sentinel, for classify.
var conditions = []error{
	ErrUnreachable, ErrUnreadable, ErrNotConfigured, ErrPeerNotAlive, ErrSyncIncomplete,
	ErrSplitBrain, ErrBothInactive, ErrUnplannedFailover, ErrUnexpectedRole,
	ErrUnexpectedVersion, ErrAheadOfTarget, ErrUnknownUnit, ErrInstallNotTaken,
	ErrPeerNotForwarding, ErrNotStaged,
}

// condError is a condition sentinel with details; its text starts with the
// sentinel's text, which is how problem strings are classified again.
type condError struct {
	kind   error
	detail string
}

func (e *condError) Error() string {
	if e.detail == "" {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.detail
}

func (e *condError) Unwrap() error { return e.kind }

// cond builds a condition error of kind with a formatted detail.
func cond(kind error, format string, args ...any) error {
	return &condError{kind: kind, detail: fmt.Sprintf(format, args...)}
}

// classify turns a problem string produced by this package back into a
// typed error: its category is the condition sentinel its text starts with
// (ErrUnreadable when none does, failing closed).
func classify(problem string) error {
	for _, k := range conditions {
		if p := k.Error(); problem == p || strings.HasPrefix(problem, p+": ") {
			return &condError{kind: k, detail: strings.TrimPrefix(strings.TrimPrefix(problem, p), ": ")}
		}
	}
	return &condError{kind: ErrUnreadable, detail: problem}
}

// UnitError is a failure on one unit of the pair: it names the unit, its
// address and the operation. Err carries the cause: a driver error
// (*driver.AuthError, *driver.HostKeyError, *driver.UnreachableError or
// *driver.WaitError, *driver.CommandError, *driver.UploadError…), a
// *ParseError, or a condition sentinel of this package (ErrPeerNotAlive…);
// errors.Is and errors.As see through it.
type UnitError struct {
	// Unit is the unit's name (Unit.Name, the member ID).
	Unit string
	// Host is the unit's "host:port", or "" when the failure is not tied
	// to a connection (a gate reading a snapshot).
	Host string
	// Op is what was being done: "connect", "ha", "about", "stats", "ls",
	// "install", "upload", "apply", "failover", "precheck", "gate" or
	// "verify" (an interrupted install checked on resume).
	Op string
	// Err is the cause.
	Err error
}

// Error returns "clavister: unit <name> (<host>): <op>: <cause>".
func (e *UnitError) Error() string {
	if e.Host == "" {
		return fmt.Sprintf("clavister: unit %s: %s: %v", e.Unit, e.Op, e.Err)
	}
	return fmt.Sprintf("clavister: unit %s (%s): %s: %v", e.Unit, e.Host, e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *UnitError) Unwrap() error { return e.Err }

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

// Cluster is a Clavister cOS Core HA pair. It implements upgrade.Cluster
// (Observe reads `ha` and `about` on both units; Failover runs
// `ha -deactivate` on the active unit) and upgrade.PreChecker (the
// pre-checks of the cOS Core Administration Guide's "Upgrading an HA
// Cluster"). Its members are *Member values.
//
// A Cluster holds one CLI session per unit and is safe for concurrent use;
// calls on one unit are serialised. Close it when done.
type Cluster struct {
	cfg     Config // validated, with defaults
	log     *slog.Logger
	tr      transport
	members [2]*Member
}

var (
	_ upgrade.Cluster    = (*Cluster)(nil)
	_ upgrade.PreChecker = (*Cluster)(nil)
)

// New validates cfg and opens one SSH session to each unit's own management
// address (concurrently, one attempt each). Nothing is sent to either unit
// but the login: no command runs and nothing changes on any device.
//
// A unit that cannot be reached (connection refused, timeout) does not make
// New fail when the other unit answers: a process restarted part-way
// through an upgrade must be able to resume while a unit reboots, which is
// the longest phase (10–15 min per unit is a prudent plan). Such a unit is
// left without a session, logged, and redialled by the next call that
// needs it; Observe reports it as upgrade.RoleDown (ErrUnreachable) until
// it answers. A wrong address is still refused before anything changes:
// on a fresh run the executor's pre-checks (PreCheck reads both units) and
// the planner's gates fail with a *UnitError naming the unit. New fails
// when BOTH units are unreachable: a rolling upgrade never takes both
// units down, so that means wrong addresses or no management path, and
// nothing could be observed or changed.
//
// Errors: the joined *ConfigError values of cfg.Validate (nothing is
// dialled); otherwise, when a unit rejects the login or its host key
// (*driver.AuthError, *driver.HostKeyError: errors.Is matches driver.ErrAuth
// or driver.ErrHostKey — redialling cannot fix them) or when both units are
// unreachable (*driver.UnreachableError, errors.Is driver.ErrUnreachable),
// one *UnitError per unit that could not be opened (Op "connect"), joined.
// Sessions already opened are closed again on error. ctx bounds the
// dialling.
func New(ctx context.Context, cfg Config) (*Cluster, error) {
	return newCluster(ctx, cfg, driverTransport())
}

func newCluster(ctx context.Context, cfg Config, tr transport) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	plat, err := driver.LoadPlatform("clavister_cos_core")
	if err != nil {
		return nil, fmt.Errorf("clavister: load CLI platform: %w", err)
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{cfg: cfg, log: log.With("cluster", cfg.Name), tr: tr}
	for i, u := range cfg.Units {
		dc := cfg.driverConfig(i)
		dc.Platform = plat
		c.members[i] = &Member{c: c, unit: u, dcfg: &dc, host: u.addr()}
	}
	errs := make([]error, 2)
	fatal := false
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, m := range c.members {
		wg.Go(func() {
			s, err := tr.open(ctx, *m.dcfg)
			if err != nil {
				errs[i] = &UnitError{Unit: m.unit.Name, Host: m.host, Op: "connect", Err: err}
				mu.Lock()
				fatal = fatal || fatalOpen(err) || ctx.Err() != nil
				mu.Unlock()
				return
			}
			m.sess = s
		})
	}
	wg.Wait()
	if fatal || (errs[0] != nil && errs[1] != nil) {
		_ = c.Close()
		return nil, errors.Join(errs...)
	}
	for i, m := range c.members {
		if errs[i] != nil {
			// Rebooting, most likely: redialled lazily (sendLocked).
			m.noteAway()
			c.log.Warn("clavister: unit unreachable; continuing without it (it is reported down until it answers)", "unit", m.unit.Name, "error", errs[i])
		}
	}
	c.log.Info("clavister: connected", "units", cfg.Units[0].Name+","+cfg.Units[1].Name)
	return c, nil
}

// String describes the pair by name and units, never the password.
func (c Cluster) String() string {
	return fmt.Sprintf("clavister.Cluster{Name:%q Units:[%s %s, %s %s]}", c.cfg.Name,
		c.cfg.Units[0].Name, c.cfg.Units[0].addr(), c.cfg.Units[1].Name, c.cfg.Units[1].addr())
}

// Format implements fmt.Formatter: every verb prints String. A Cluster
// keeps the Config (with the password) in an unexported field, which fmt
// would otherwise print.
func (c Cluster) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue implements slog.LogValuer without the password.
func (c Cluster) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", c.cfg.Name),
		slog.String("unit0", c.cfg.Units[0].Name+"@"+c.cfg.Units[0].addr()),
		slog.String("unit1", c.cfg.Units[1].Name+"@"+c.cfg.Units[1].addr()))
}

// MarshalJSON encodes the pair as its redacted Config.
func (c Cluster) MarshalJSON() ([]byte, error) { return c.cfg.MarshalJSON() }

// Name implements upgrade.Cluster: Config.Name.
func (c *Cluster) Name() string { return c.cfg.Name }

// Members implements upgrade.Cluster: the two *Member values, in
// Config.Units order.
func (c *Cluster) Members() []upgrade.Member {
	return []upgrade.Member{c.members[0], c.members[1]}
}

// Member returns the unit named name, or nil.
func (c *Cluster) Member(name string) *Member {
	for _, m := range c.members {
		if m.unit.Name == name {
			return m
		}
	}
	return nil
}

// peer returns the other unit of the pair.
func (c *Cluster) peer(m *Member) *Member {
	if c.members[0] == m {
		return c.members[1]
	}
	return c.members[0]
}

// Close closes both sessions. It is safe to call more than once.
func (c *Cluster) Close() error {
	var errs []error
	for _, m := range c.members {
		if m != nil {
			errs = append(errs, m.close())
		}
	}
	return errors.Join(errs...)
}

// Observe implements upgrade.Cluster. It reads `ha` and `about` on both
// units at once (see Member.Status) and returns exactly one MemberState
// per unit, in Members order, whatever happened. Snapshot.Problems holds
// only problems of the pair as a whole, each starting with its condition
// sentinel's text:
//
//   - both units ACTIVE (ErrSplitBrain) or both INACTIVE, so that nothing
//     forwards (ErrBothInactive): the fault patterns of Clavister KB
//     324735841;
//   - an active unit whose time in state went back since an earlier poll
//     (ErrUnplannedFailover: the unit stopped being active and became
//     active again between two polls, a failover outside the plan: stop
//     and re-assess). This alarm sticks until the Cluster is closed.
//
// States a rolling upgrade goes through by design stay with the unit they
// describe, in its MemberState.Problems: a unit that does not see its peer
// ALIVE (ErrPeerNotAlive) while the peer reboots, a unit resynchronising
// (ErrSyncIncomplete), a rebooting unit (upgrade.RoleDown,
// ErrUnreachable). An unreadable unit is upgrade.RoleUnknown. Such units
// are unhealthy. Observe returns an error only when ctx ends.
func (c *Cluster) Observe(ctx context.Context) (upgrade.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return upgrade.Snapshot{}, err
	}
	var states [2]upgrade.MemberState
	var wg sync.WaitGroup
	for i, m := range c.members {
		wg.Go(func() {
			st, _, err := m.status(ctx)
			if st.ID != m.unit.Name {
				st = upgrade.MemberState{ID: m.unit.Name, Role: upgrade.RoleDown, Problems: []string{cond(ErrUnreachable, "%v", err).Error()}}
			}
			states[i] = st
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return upgrade.Snapshot{}, err
	}
	s := upgrade.Snapshot{Cluster: c.cfg.Name, At: time.Now(), Members: states[:]}
	s.Problems = pairProblems(states)
	for _, m := range c.members {
		if a := m.alarm(); a != "" {
			s.Problems = append(s.Problems, a)
		}
	}
	return s, nil
}

// pairProblems returns the cluster-level problems of two unit states: both
// ACTIVE or both INACTIVE. Per-unit conditions are not repeated here.
func pairProblems(st [2]upgrade.MemberState) []string {
	var probs []string
	a, b := st[0], st[1]
	switch {
	case a.Role == upgrade.RoleActive && b.Role == upgrade.RoleActive:
		probs = append(probs, cond(ErrSplitBrain, "%s and %s both report ACTIVE", a.ID, b.ID).Error())
	case a.Role == upgrade.RoleStandby && b.Role == upgrade.RoleStandby:
		probs = append(probs, cond(ErrBothInactive, "%s and %s both report INACTIVE: nothing forwards", a.ID, b.ID).Error())
	}
	return probs
}

// lockPair locks both units' sessions, always in Config.Units order (so
// that two callers never wait for each other), and returns the unlock.
// Nothing else can then be sent to either unit: a check of both units and
// the command it allows run back to back.
func (c *Cluster) lockPair() (unlock func()) {
	c.members[0].mu.Lock()
	c.members[1].mu.Lock()
	return func() {
		c.members[1].mu.Unlock()
		c.members[0].mu.Unlock()
	}
}

// Failover implements upgrade.Cluster: it makes unit to the active one by
// running `ha -deactivate` on the other, currently active unit (the
// failover step of the cOS Core Administration Guide's "Upgrading an HA
// Cluster": the inactive unit takes over when the active one deactivates).
// Holding both units' sessions, it reads `ha` on both and then, with
// nothing sent in between, sends the command only if to is INACTIVE with
// its peer ALIVE, the other unit is ACTIVE with its peer ALIVE, and to is
// not restarting after an apply command this Cluster sent; otherwise it
// changes nothing. When to is already ACTIVE and the other INACTIVE it
// does nothing (idempotent).
//
// The command's name is not shown verbatim by any public Clavister page
// and its output is not documented, so the output is not parsed: only a
// rejection (the platform's failure strings) is an error. Callers verify
// the swap by polling `ha` on both units (Observe). Errors are *UnitError
// values naming the unit; ErrUnknownUnit for a name not in the pair.
//
// Side effects to warn operators about (Administration Guide, HA
// chapter): ALG sessions freeze for about 30 s; PPP, L2TP and SSL-VPN
// users reconnect; DHCP client, switch-route and transparent-mode state is
// not synchronised.
func (c *Cluster) Failover(ctx context.Context, to string) error {
	m := c.Member(to)
	if m == nil {
		return &UnitError{Unit: to, Op: "failover", Err: cond(ErrUnknownUnit, "cluster %s has units %s and %s", c.cfg.Name, c.cfg.Units[0].Name, c.cfg.Units[1].Name)}
	}
	other := c.peer(m)
	unlock := c.lockPair()
	defer unlock()
	haTo, err := m.readHALocked(ctx)
	if err != nil {
		return err
	}
	haOther, err := other.readHALocked(ctx)
	if err != nil {
		return err
	}
	if haTo.Configured && haTo.Active && haOther.Configured && !haOther.Active {
		c.log.Info("clavister: failover: already active", "unit", to)
		return nil
	}
	var errs []error
	switch {
	case !haTo.Configured:
		errs = append(errs, &UnitError{Unit: to, Host: m.host, Op: "failover", Err: ErrNotConfigured})
	case haTo.Active:
		errs = append(errs, &UnitError{Unit: to, Host: m.host, Op: "failover", Err: cond(ErrSplitBrain, "%s is already ACTIVE and so is %s", to, other.unit.Name)})
	case !haTo.PeerAlive:
		errs = append(errs, &UnitError{Unit: to, Host: m.host, Op: "failover", Err: cond(ErrPeerNotAlive, "%s would take over without seeing its peer", to)})
	case m.pendingInstall() != "":
		errs = append(errs, &UnitError{Unit: to, Host: m.host, Op: "failover", Err: cond(ErrUnexpectedRole, "%s is restarting to install %s: it cannot take over", to, m.pendingInstall())})
	}
	switch {
	case !haOther.Configured:
		errs = append(errs, &UnitError{Unit: other.unit.Name, Host: other.host, Op: "failover", Err: ErrNotConfigured})
	case !haOther.Active:
		errs = append(errs, &UnitError{Unit: other.unit.Name, Host: other.host, Op: "failover", Err: cond(ErrUnexpectedRole, "%s is not ACTIVE: nothing to deactivate", other.unit.Name)})
	case !haOther.PeerAlive:
		errs = append(errs, &UnitError{Unit: other.unit.Name, Host: other.host, Op: "failover", Err: cond(ErrPeerNotAlive, "%s does not see %s ALIVE", other.unit.Name, to)})
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// The roles change on purpose: time in state restarts on both units.
	m.forgetActive()
	other.forgetActive()
	c.log.Info("clavister: failover: deactivating the active unit", "from", other.unit.Name, "to", to)
	if _, err := other.sendLocked(ctx, "failover", "ha -deactivate", false); err != nil {
		return err
	}
	m.forgetActive()
	other.forgetActive()
	return nil
}

// PreCheck implements upgrade.PreChecker with the pre-checks that the cOS
// Core Administration Guide's "Upgrading an HA Cluster" implies before the
// first unit is touched: on both units `ha` (HA configured, peer ALIVE,
// object sync 100 % where printed), `about` (version readable) and `stats`
// (uptime, last event and connections logged); exactly one unit ACTIVE;
// no unplanned-failover alarm; the firmware file still readable. Every
// failure is returned at once, joined; each names its unit (*UnitError) or
// field (*ConfigError).
//
// Not done: the full system backup (full.bak) of each unit that the guide
// asks for before an upgrade (no CLI command for it is documented; see the
// package documentation); take it before upgrading.
func (c *Cluster) PreCheck(ctx context.Context) error {
	var errs []error
	var states [2]upgrade.MemberState
	for i, m := range c.members {
		st, ha, err := m.status(ctx)
		states[i] = st
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch {
		case !ha.Configured:
			errs = append(errs, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "precheck", Err: cond(ErrNotConfigured, "%s", ha.StateText)})
			continue
		case !ha.PeerAlive:
			errs = append(errs, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "precheck", Err: cond(ErrPeerNotAlive, "ha on %s does not print \"HA cluster peer is ALIVE\"", m.unit.Name)})
		}
		if ha.SyncKnown && ha.SyncPercent < 100 {
			errs = append(errs, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "precheck", Err: cond(ErrSyncIncomplete, "%d%%", ha.SyncPercent)})
		}
		stats, err := m.stats(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.log.Info("clavister: unit", "unit", m.unit.Name, "version", st.Version, "state", st.Raw,
			"uptime", stats.Uptime, "last_event", stats.LastEvent,
			"connections", stats.ConnectionsActive, "connections_max", stats.ConnectionsMax)
	}
	a, b := states[0], states[1]
	switch {
	case a.Role == upgrade.RoleActive && b.Role == upgrade.RoleActive:
		errs = append(errs, cond(ErrSplitBrain, "%s and %s both report ACTIVE", a.ID, b.ID))
	case a.Role == upgrade.RoleStandby && b.Role == upgrade.RoleStandby:
		errs = append(errs, cond(ErrBothInactive, "%s and %s both report INACTIVE", a.ID, b.ID))
	}
	for _, m := range c.members {
		if al := m.alarm(); al != "" {
			errs = append(errs, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "precheck", Err: classify(al)})
		}
	}
	if err := readableFile(c.cfg.FirmwarePath); err != nil {
		errs = append(errs, &ConfigError{Field: "FirmwarePath", Problem: err.Error(), Err: err})
	}
	return errors.Join(errs...)
}
