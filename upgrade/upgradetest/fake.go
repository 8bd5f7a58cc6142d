// Package upgradetest provides in-memory fakes of upgrade.Cluster and
// upgrade.Member with fault knobs, a traffic probe, a conformance suite
// that every vendor implementation must pass (TestCluster), and what chaos
// tests need: faults scheduled at a moment, a status read or a call
// (Cluster.AddFault, Cluster.Inject), a simulated process that dies at a
// journal write (Process), and an invariant checker that reads the fake's
// call record (Checker, CheckRun, CheckTyped, Invariants). Like
// net/http/httptest, it is meant for users' own tests as much as for
// hitless's.
//
// The fakes use the time package only through timers, so they run in
// testing/synctest bubbles with exact virtual-time figures.
package upgradetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hitless/hitless/upgrade"
)

// Sentinel errors returned by the fakes.
var (
	// ErrUnreachable: the fake member is rebooting or never came back.
	ErrUnreachable = errors.New("upgradetest: member unreachable")
	// ErrInstallFailed: the InstallFails knob is set.
	ErrInstallFailed = errors.New("upgradetest: install failed")
	// ErrFailoverRefused: the FailoverRefused knob is set, or the target
	// member cannot take over.
	ErrFailoverRefused = errors.New("upgradetest: failover refused")
	// ErrBackupFailed: the BackupFails knob is set, or the member is down.
	ErrBackupFailed = errors.New("backup failed")
	// ErrNotEarlier: Rollback was asked for a version that is not an
	// earlier one than the member runs.
	ErrNotEarlier = errors.New("not an earlier version")
)

// Member is a fake cluster member. Exported fields are knobs: set them
// before the run (or between steps while holding no reference to internal
// state; they are read under the cluster's lock).
type Member struct {
	// Name is the member ID.
	Name string
	// Version is the running version (updated by installs).
	Version string
	// Role is the current role; set the initial one (active/standby).
	Role upgrade.Role

	// InstallDuration is how long the install runs before the reboot.
	InstallDuration time.Duration
	// RebootDuration is how long the member is unreachable after install.
	RebootDuration time.Duration
	// InstallFails makes Install return ErrInstallFailed without effect.
	InstallFails bool
	// WrongVersion, when set, is the version the member comes back on.
	WrongVersion string
	// NeverReturns keeps the member down after an install.
	NeverReturns bool
	// PeerLost makes the member report itself unhealthy ("peer lost").
	PeerLost bool
	// StatusDelay slows every Status call (honouring ctx).
	StatusDelay time.Duration
	// BackupFails makes Backup return an error.
	BackupFails bool
	// Flap, when > 0, makes the member's status reading flap: Flap reads
	// answer truthfully, the next Flap reads badly, and so on (counted
	// over the member's Status calls). A bad read reports the member
	// unhealthy ("status flapping"), or unreachable with FlapUnreachable.
	// Only the reading flaps: the member forwards, or not, as before, so
	// the probe does not see it.
	Flap int
	// FlapUnreachable makes the bad reads of Flap fail with
	// ErrUnreachable instead of reporting the member unhealthy.
	FlapUnreachable bool

	c     *Cluster
	down  bool // rebooting after an install or a rollback
	dead  int  // FaultDowns holding it down
	lost  int  // FaultPeerLosts in force
	reads int  // Status calls answered or refused, for Flap

	// The latest Status answer, for Call.SeenForwarding and Call.WasSeen.
	seen     upgrade.Role // "" never read; RoleDown when unreachable
	seenFwd  bool
	seenCall int // len(c.calls) at that read
}

// Call is one recorded operation on the fake.
type Call struct {
	// At is when the call was made (virtual time in a synctest bubble).
	At time.Time
	// Op is "backup", "install", "install-failed", "rollback" or
	// "failover"; the fake's own events are "fault" (a Fault fired: Arg
	// is its kind) and "recover" (a fault with a duration ended).
	Op string
	// Member is the member acted on (the target of a failover, the victim
	// of a fault; "" for a fault that found no active member).
	Member string
	// Arg is the install's target version.
	Arg string

	// Run is the run during which the call was recorded (see BeginRun);
	// 0 before the first.
	Run int
	// Failed is true when the call returned an error and changed nothing
	// (an install on an unreachable member, a refused failover, a
	// rollback that hit InstallFails).
	Failed bool
	// Forwarding lists the members that forwarded (active and healthy,
	// the fake's truth) just before the call took effect.
	Forwarding []string
	// SeenForwarding lists the members whose latest Status answer, before
	// the call, showed them forwarding: what a guard that observed the
	// cluster just before the call saw.
	SeenForwarding []string
	// Was is Member's role just before the call; WasSeen is the role its
	// latest Status answer showed ("" never read, down when unreachable).
	Was, WasSeen upgrade.Role
	// Version is Member's version just before the call.
	Version string
	// Cause, for a "fault" record, is what fired it: "time" (Fault.After),
	// "status" (Fault.AtStatus), "call" (Fault.OnCall; Trigger is the
	// 1-based index in Calls of the call that fired it) or "inject"
	// (Inject, meant to be called by a step).
	Cause string
	// Trigger is the 1-based index in Calls of the call that fired a
	// "call" fault; 0 otherwise.
	Trigger int
}

// FaultKind says what a Fault does to its member.
type FaultKind string

// The fault kinds.
const (
	// FaultDown: the member dies: it is unreachable (RoleDown) until the
	// fault's For has passed (for good when 0), even if it was rebooting
	// and its reboot ends meanwhile. When it was the active member, a
	// healthy standby takes over after Cluster.FailoverDelay, as after any
	// loss of the active member. It comes back as standby (active when no
	// member forwards then), on the version it had.
	FaultDown FaultKind = "down"
	// FaultPeerLost: the member reports "peer lost", as with the PeerLost
	// knob, for For (for good when 0). An active member that lost its peer is
	// unhealthy and, in the fake, does not forward, and no standby takes
	// over. When the fault ends and another member forwards, an active
	// victim becomes standby (the cluster resolves the two actives).
	FaultPeerLost FaultKind = "peer-lost"
)

// Fault is a fault scheduled with Cluster.AddFault. Exactly one trigger
// (After, AtStatus, OnCall) must be set.
type Fault struct {
	// Kind says what happens.
	Kind FaultKind
	// Member is the victim's ID; "" means the member that is active when
	// the fault fires (none: the fault is recorded and does nothing).
	Member string
	// For is how long the fault lasts; 0 means for good.
	For time.Duration

	// After fires the fault this long after AddFault (virtual time in a
	// synctest bubble).
	After time.Duration
	// AtStatus fires the fault at the cluster's AtStatus-th Status read
	// (as counted by StatusCalls), before that read answers: the member
	// being read sees it, members read earlier in the same Observe do not.
	AtStatus int
	// OnCall fires the fault right after the OnCall-th recorded call that
	// matches CallOp and CallMember has taken effect (e.g. "when b is
	// installed, the active member dies").
	OnCall int
	// CallOp is the operation OnCall counts ("install", "install-failed",
	// "rollback", "failover", "backup"); "" counts all of them.
	CallOp string
	// CallMember is the member OnCall counts calls on; "" counts all.
	CallMember string
}

func (f Fault) validate() error {
	n := 0
	for _, set := range []bool{f.After > 0, f.AtStatus > 0, f.OnCall > 0} {
		if set {
			n++
		}
	}
	var probs []string
	if n != 1 {
		probs = append(probs, fmt.Sprintf("%d triggers set, want exactly one of After, AtStatus, OnCall", n))
	}
	if f.Kind != FaultDown && f.Kind != FaultPeerLost {
		probs = append(probs, fmt.Sprintf("unknown kind %q", f.Kind))
	}
	if f.For < 0 || f.After < 0 || f.AtStatus < 0 || f.OnCall < 0 {
		probs = append(probs, "negative duration or count")
	}
	if len(probs) > 0 {
		return &upgrade.InvalidError{What: "fault", Problems: probs}
	}
	return nil
}

// String describes the fault in one line.
func (f Fault) String() string {
	who := f.Member
	if who == "" {
		who = "the active member"
	}
	s := fmt.Sprintf("%s of %s", f.Kind, who)
	switch {
	case f.After > 0:
		s += fmt.Sprintf(" %v after arming", f.After)
	case f.AtStatus > 0:
		s += fmt.Sprintf(" at status read %d", f.AtStatus)
	case f.OnCall > 0:
		op, m := f.CallOp, f.CallMember
		if op == "" {
			op = "any call"
		}
		if m == "" {
			m = "any member"
		}
		s += fmt.Sprintf(" after %s #%d on %s", op, f.OnCall, m)
	}
	if f.For > 0 {
		s += fmt.Sprintf(" for %v", f.For)
	} else {
		s += " for good"
	}
	return s
}

// Cluster is a fake upgrade.Cluster. Create it with NewCluster.
type Cluster struct {
	// ClusterName is returned by Name.
	ClusterName string
	// FailoverDelay is the gap, when the active member goes away without a
	// failover, before a healthy standby takes over on its own (traffic is
	// lost meanwhile, as in a real HA cluster detecting a dead peer).
	FailoverDelay time.Duration
	// FailoverRefused makes Failover fail.
	FailoverRefused bool
	// Probe sees every forwarding transition.
	Probe *Probe

	mu          sync.Mutex
	members     []*Member
	calls       []Call
	statusCalls int
	pending     []Fault  // status- and call-triggered faults not fired yet
	outages     []outage // every stretch without a forwarding member
	runs        []runMark
}

// outage is a stretch of time without a forwarding member and what began
// it: the index in calls of the call or fault, -1 when unknown.
type outage struct {
	from, to time.Time // to is zero while it lasts
	cause    int
}

// runMark is one run's bounds in the call record (BeginRun, EndRun).
type runMark struct {
	start, end         time.Time
	startCall, endCall int
	ended              bool
	state              []memberTruth
}

// memberTruth is one member's true state at the end of a run.
type memberTruth struct {
	id, version string
	role        upgrade.Role
	healthy     bool
	lastRead    int // len(calls) at its latest Status read; -1 never read
}

// StatusCalls counts Status reads (including those made by Observe).
func (c *Cluster) StatusCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statusCalls
}

// NewCluster returns a fake cluster of the given members, starting its
// traffic probe now with a tick of probeEvery (0 = 100ms). A typical pair:
//
//	c := upgradetest.NewCluster("fw1", time.Second,
//	    &upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive},
//	    &upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby})
func NewCluster(name string, probeEvery time.Duration, members ...*Member) *Cluster {
	c := &Cluster{ClusterName: name, FailoverDelay: 3 * time.Second, members: members}
	for _, m := range members {
		m.c = c
	}
	c.Probe = NewProbe(probeEvery, c.forwardingLocked())
	return c
}

// Pair is a shortcut for a two-member cluster: "<name>-a" (active) and
// "<name>-b" (standby), both on version, each with the given reboot
// duration.
func Pair(name, version string, reboot time.Duration) *Cluster {
	return NewCluster(name, time.Second,
		&Member{Name: name + "-a", Version: version, Role: upgrade.RoleActive, RebootDuration: reboot},
		&Member{Name: name + "-b", Version: version, Role: upgrade.RoleStandby, RebootDuration: reboot},
	)
}

// Name implements upgrade.Cluster.
func (c *Cluster) Name() string { return c.ClusterName }

// Members implements upgrade.Cluster.
func (c *Cluster) Members() []upgrade.Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]upgrade.Member, len(c.members))
	for i, m := range c.members {
		out[i] = m
	}
	return out
}

// Member returns the fake member with the given ID, or nil.
func (c *Cluster) Member(id string) *Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.memberLocked(id)
}

func (c *Cluster) memberLocked(id string) *Member {
	for _, m := range c.members {
		if m.Name == id {
			return m
		}
	}
	return nil
}

// Calls returns a copy of every recorded operation that changes state
// (reads are counted by StatusCalls).
func (c *Cluster) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.calls)
	for i := range out {
		out[i].Forwarding = slices.Clone(out[i].Forwarding)
		out[i].SeenForwarding = slices.Clone(out[i].SeenForwarding)
	}
	return out
}

// CountCalls counts recorded operations op on member ("" = any member).
func (c *Cluster) CountCalls(op, member string) int {
	n := 0
	for _, k := range c.Calls() {
		if k.Op == op && (member == "" || k.Member == member) {
			n++
		}
	}
	return n
}

// BeginRun marks the start of a run (one Executor.Run, or one cluster's
// turn in a Rollout, including its observation and planning): calls
// recorded from now on carry its number in Call.Run. It returns the run's
// number, from 1. CheckRuns pairs the runs with their outcomes in order.
func (c *Cluster) BeginRun() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endRunLocked()
	c.runs = append(c.runs, runMark{start: time.Now(), startCall: len(c.calls)})
	return len(c.runs)
}

// EndRun marks the end of the current run and keeps the members' true
// state at this moment, which CheckRuns compares with the run's report (a
// fault that fires after the run is not the run's doing). Call it as soon
// as the run returns (or from an Executor.OnEvent hook on upgrade.EventDone);
// BeginRun ends a run that was not ended.
func (c *Cluster) EndRun() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endRunLocked()
}

func (c *Cluster) endRunLocked() {
	n := len(c.runs)
	if n == 0 || c.runs[n-1].ended {
		return
	}
	r := &c.runs[n-1]
	r.ended, r.end, r.endCall = true, time.Now(), len(c.calls)
	r.state = c.truthLocked()
}

func (c *Cluster) truthLocked() []memberTruth {
	st := make([]memberTruth, len(c.members))
	for i, m := range c.members {
		last := -1
		if m.seen != "" {
			last = m.seenCall
		}
		st[i] = memberTruth{id: m.Name, version: m.Version, role: m.Role, healthy: m.healthyLocked(), lastRead: last}
	}
	return st
}

// recordLocked appends a call on member (nil for none) with the
// forwarding state just before it takes effect, and returns its index.
func (c *Cluster) recordLocked(op string, m *Member, arg string) int {
	k := Call{At: time.Now(), Op: op, Arg: arg, Run: len(c.runs)}
	for _, o := range c.members {
		if o.Role == upgrade.RoleActive && o.healthyLocked() {
			k.Forwarding = append(k.Forwarding, o.Name)
		}
		if o.seenFwd {
			k.SeenForwarding = append(k.SeenForwarding, o.Name)
		}
	}
	if m != nil {
		k.Member, k.Was, k.WasSeen, k.Version = m.Name, m.Role, m.seen, m.Version
	}
	c.calls = append(c.calls, k)
	return len(c.calls) - 1
}

func (m *Member) healthyLocked() bool { return !m.down && m.dead == 0 && !m.peerLostLocked() }

func (m *Member) peerLostLocked() bool { return m.PeerLost || m.lost > 0 }

func (c *Cluster) forwardingLocked() bool {
	for _, m := range c.members {
		if m.Role == upgrade.RoleActive && m.healthyLocked() {
			return true
		}
	}
	return false
}

// updateLocked tells the probe the forwarding state and keeps the outage
// log: a loss of forwarding is attributed to cause (an index in calls, -1
// when unknown).
func (c *Cluster) updateLocked(cause int) {
	fwd := c.forwardingLocked()
	if was := c.Probe.Forwarding(); was != fwd {
		now := time.Now()
		switch n := len(c.outages); {
		case !fwd:
			c.outages = append(c.outages, outage{from: now, cause: cause})
		case n > 0 && c.outages[n-1].to.IsZero():
			c.outages[n-1].to = now
		}
	}
	c.Probe.Set(fwd)
}

// settleLocked updates the probe and, if nobody is active, schedules the
// automatic takeover by a healthy standby after FailoverDelay. cause is
// the index of the call or fault that changed the state.
func (c *Cluster) settleLocked(cause int) {
	c.updateLocked(cause)
	for _, m := range c.members {
		if m.Role == upgrade.RoleActive && !m.down {
			return
		}
	}
	time.AfterFunc(c.FailoverDelay, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range c.members {
			if m.Role == upgrade.RoleActive && !m.down {
				return
			}
		}
		for _, m := range c.members {
			if m.Role == upgrade.RoleStandby && m.healthyLocked() {
				m.Role = upgrade.RoleActive
				c.updateLocked(-1)
				return
			}
		}
	})
}

// ID implements upgrade.Member.
func (m *Member) ID() string { return m.Name }

// Status implements upgrade.Member. A rebooting member returns
// ErrUnreachable.
func (m *Member) Status(ctx context.Context) (upgrade.MemberState, error) {
	if m.StatusDelay > 0 {
		t := time.NewTimer(m.StatusDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return upgrade.MemberState{}, ctx.Err()
		case <-t.C:
		}
	}
	if err := ctx.Err(); err != nil {
		return upgrade.MemberState{}, err
	}
	c := m.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statusCalls++
	c.firePendingLocked(func(f Fault) bool { return f.AtStatus > 0 && f.AtStatus == c.statusCalls }, "status", 0)
	m.reads++
	bad := m.Flap > 0 && ((m.reads-1)/m.Flap)%2 == 1
	m.seenCall = len(c.calls)
	if m.down || m.dead > 0 || (bad && m.FlapUnreachable) {
		m.seen, m.seenFwd = upgrade.RoleDown, false
		return upgrade.MemberState{}, fmt.Errorf("member %s: %w", m.Name, ErrUnreachable)
	}
	st := upgrade.MemberState{ID: m.Name, Role: m.Role, Raw: string(m.Role), Version: m.Version, Healthy: m.healthyLocked(), SyncKnown: true, SyncPercent: 100}
	if m.peerLostLocked() {
		st.Problems = append(st.Problems, "peer lost")
		st.SyncPercent = 0
	}
	if bad {
		st.Healthy = false
		st.Problems = append(st.Problems, "status flapping")
	}
	m.seen, m.seenFwd = st.Role, st.Forwarding()
	return st, nil
}

// Backup implements upgrade.BackerUp: it records a "backup" call and
// returns a reference "<member>-<n>.bak", or fails with BackupFails
// (ErrBackupFailed).
func (m *Member) Backup(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c := m.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.BackupFails || m.down || m.dead > 0 {
		return "", fmt.Errorf("member %s: %w", m.Name, ErrBackupFailed)
	}
	i := c.recordLocked("backup", m, "")
	n := 0
	for _, k := range c.calls {
		if k.Op == "backup" && k.Member == m.Name {
			n++
		}
	}
	c.afterCallLocked(i)
	return fmt.Sprintf("%s-%d.bak", m.Name, n), nil
}

// Install implements upgrade.Member: the member goes down at once (if it
// was active, the cluster loses its active member until a standby takes
// over after FailoverDelay), and comes back after InstallDuration +
// RebootDuration on target (or WrongVersion), as standby — unless a knob
// says otherwise. Install returns when the reboot has started.
func (m *Member) Install(ctx context.Context, target string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := m.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return m.applyLocked(target, -1)
}

// applyLocked takes the member down and brings it back on target (Install
// and Rollback); rec is the index of the "rollback" call already recorded,
// or -1 to record an "install" call.
func (m *Member) applyLocked(target string, rec int) error {
	c := m.c
	if m.InstallFails {
		if rec >= 0 {
			c.calls[rec].Failed = true
			c.afterCallLocked(rec)
		}
		i := c.recordLocked("install-failed", m, target)
		c.calls[i].Failed = true
		c.afterCallLocked(i)
		return fmt.Errorf("member %s: %w", m.Name, ErrInstallFailed)
	}
	if rec < 0 {
		rec = c.recordLocked("install", m, target)
	}
	if m.down || m.dead > 0 {
		c.calls[rec].Failed = true
		c.afterCallLocked(rec)
		return fmt.Errorf("member %s: %w", m.Name, ErrUnreachable)
	}
	m.down = true
	m.Role = upgrade.RoleDown
	c.settleLocked(rec)
	defer c.afterCallLocked(rec)
	if m.NeverReturns {
		return nil
	}
	back := target
	if m.WrongVersion != "" {
		back = m.WrongVersion
	}
	comeBack := func() {
		m.down = false
		m.Version = back
		if m.dead > 0 {
			// A FaultDown hit it while it rebooted: it stays down.
			c.updateLocked(-1)
			return
		}
		m.Role = upgrade.RoleStandby
		if !c.forwardingLocked() {
			m.Role = upgrade.RoleActive
		}
		c.updateLocked(-1)
	}
	if m.InstallDuration+m.RebootDuration == 0 {
		// Instant members (benchmarks): back before Install returns.
		comeBack()
		return nil
	}
	time.AfterFunc(m.InstallDuration+m.RebootDuration, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		comeBack()
	})
	return nil
}

// Rollback implements upgrade.Rollbacker: it records a "rollback" call
// with argument to, then behaves like Install of to (the member goes down
// and comes back on to after InstallDuration + RebootDuration, or on
// WrongVersion). It refuses a version that is not below the member's
// current one, sending nothing (ErrNotEarlier).
func (m *Member) Rollback(ctx context.Context, to string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := m.c
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := m.Version
	if to == "" || to == cur {
		return fmt.Errorf("member %s: rollback to %q: %w than %s", m.Name, to, ErrNotEarlier, cur)
	}
	return m.applyLocked(to, c.recordLocked("rollback", m, to))
}

// Observe implements upgrade.Cluster: a member that cannot be read is
// reported as RoleDown, unhealthy, with the error as its problem.
func (c *Cluster) Observe(ctx context.Context) (upgrade.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return upgrade.Snapshot{}, err
	}
	c.mu.Lock()
	members := slices.Clone(c.members)
	c.mu.Unlock()
	s := upgrade.Snapshot{Cluster: c.ClusterName, At: time.Now(), Members: make([]upgrade.MemberState, 0, len(members))}
	for _, m := range members {
		st, err := m.Status(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return upgrade.Snapshot{}, ctx.Err()
			}
			st = upgrade.MemberState{ID: m.ID(), Role: upgrade.RoleDown, Problems: []string{err.Error()}}
		}
		s.Members = append(s.Members, st)
	}
	return s, nil
}

// Failover implements upgrade.Cluster: the current active becomes standby
// and member to becomes active in one atomic move (no lost ticks). It fails
// with ErrFailoverRefused when the knob is set or to is not a healthy
// standby.
func (c *Cluster) Failover(ctx context.Context, to string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	target := c.memberLocked(to)
	i := c.recordLocked("failover", target, "")
	c.calls[i].Member = to
	defer c.afterCallLocked(i)
	if c.FailoverRefused {
		c.calls[i].Failed = true
		return fmt.Errorf("failover to %s: %w", to, ErrFailoverRefused)
	}
	if target == nil || !target.healthyLocked() || (target.Role != upgrade.RoleStandby && target.Role != upgrade.RoleActive) {
		c.calls[i].Failed = true
		return fmt.Errorf("failover to %s: not a healthy standby: %w", to, ErrFailoverRefused)
	}
	for _, m := range c.members {
		if m.Role == upgrade.RoleActive && m != target {
			m.Role = upgrade.RoleStandby
		}
	}
	target.Role = upgrade.RoleActive
	c.updateLocked(i)
	return nil
}

// AddFault schedules f. A time-triggered fault (After) is armed now; the
// others wait for their status read or call. A fault that fires is
// recorded as a "fault" call (then "recover" when it has a duration), and
// CheckRuns tells the outages it causes from those hitless causes. An
// invalid fault is an *upgrade.InvalidError.
func (c *Cluster) AddFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	if f.After > 0 {
		time.AfterFunc(f.After, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.faultLocked(f, "time", 0)
		})
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = append(c.pending, f)
	return nil
}

// Inject applies a fault of the given kind to member ("" = the member that
// is active now) at once, lasting d (for good when 0), and returns the
// victim's ID ("" when there was none). It is meant for steps that
// misbehave on purpose (an upgrade.Func that takes the active member down
// without declaring it), so the record says the fault was caused by a
// step ("inject").
func (c *Cluster) Inject(kind FaultKind, member string, d time.Duration) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.faultLocked(Fault{Kind: kind, Member: member, For: d}, "inject", 0)
}

// afterCallLocked fires the call-triggered faults that call i completes.
func (c *Cluster) afterCallLocked(i int) {
	if len(c.pending) == 0 {
		return
	}
	k := c.calls[i]
	count := func(f Fault) int {
		n := 0
		for _, o := range c.calls[:i+1] {
			if o.Op == "fault" || o.Op == "recover" {
				continue
			}
			if (f.CallOp == "" || o.Op == f.CallOp) && (f.CallMember == "" || o.Member == f.CallMember) {
				n++
			}
		}
		return n
	}
	c.firePendingLocked(func(f Fault) bool {
		return f.OnCall > 0 && (f.CallOp == "" || k.Op == f.CallOp) && (f.CallMember == "" || k.Member == f.CallMember) && count(f) == f.OnCall
	}, "call", i+1)
}

// firePendingLocked fires (and forgets) the pending faults that match.
func (c *Cluster) firePendingLocked(match func(Fault) bool, cause string, trigger int) {
	var fire []Fault
	c.pending = slices.DeleteFunc(c.pending, func(f Fault) bool {
		if match(f) {
			fire = append(fire, f)
			return true
		}
		return false
	})
	for _, f := range fire {
		c.faultLocked(f, cause, trigger)
	}
}

// faultLocked applies f now and returns the victim's ID.
func (c *Cluster) faultLocked(f Fault, cause string, trigger int) string {
	var m *Member
	if f.Member == "" {
		for _, o := range c.members {
			if o.Role == upgrade.RoleActive && !o.down && o.dead == 0 {
				m = o
				break
			}
		}
	} else {
		m = c.memberLocked(f.Member)
	}
	i := c.recordLocked("fault", m, string(f.Kind))
	c.calls[i].Cause, c.calls[i].Trigger = cause, trigger
	if m == nil {
		c.calls[i].Member = f.Member
		return ""
	}
	switch f.Kind {
	case FaultDown:
		m.dead++
		m.Role = upgrade.RoleDown
		c.settleLocked(i)
	case FaultPeerLost:
		m.lost++
		c.updateLocked(i)
	}
	if f.For > 0 {
		time.AfterFunc(f.For, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.recoverLocked(m, f.Kind)
		})
	}
	return m.Name
}

// recoverLocked ends a fault of kind on m.
func (c *Cluster) recoverLocked(m *Member, kind FaultKind) {
	c.recordLocked("recover", m, string(kind))
	switch kind {
	case FaultDown:
		m.dead--
		if m.dead == 0 && !m.down {
			m.Role = upgrade.RoleStandby
			if !c.forwardingLocked() {
				m.Role = upgrade.RoleActive
			}
		}
	case FaultPeerLost:
		m.lost--
		if !m.peerLostLocked() && m.Role == upgrade.RoleActive {
			for _, o := range c.members {
				if o != m && o.Role == upgrade.RoleActive && o.healthyLocked() {
					m.Role = upgrade.RoleStandby
					break
				}
			}
		}
	}
	c.updateLocked(-1)
}
