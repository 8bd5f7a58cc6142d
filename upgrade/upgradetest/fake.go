// Package upgradetest provides in-memory fakes of upgrade.Cluster and
// upgrade.Member with fault knobs, a traffic probe, a conformance suite
// that every vendor implementation must pass (TestCluster), and an
// invariant checker for chaos tests. Like net/http/httptest, it is meant for
// users' own tests as much as for hitless's.
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

	c    *Cluster
	down bool
}

// Call is one recorded operation on the fake.
type Call struct {
	// At is when the call was made (virtual time in a synctest bubble).
	At time.Time
	// Op is "backup", "install", "install-failed" or "failover".
	Op string
	// Member is the member acted on (the target of a failover).
	Member string
	// Arg is the install's target version.
	Arg string
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
	return slices.Clone(c.calls)
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

func (c *Cluster) record(op, member, arg string) {
	c.calls = append(c.calls, Call{At: time.Now(), Op: op, Member: member, Arg: arg})
}

func (m *Member) healthyLocked() bool { return !m.down && !m.PeerLost }

func (c *Cluster) forwardingLocked() bool {
	for _, m := range c.members {
		if m.Role == upgrade.RoleActive && m.healthyLocked() {
			return true
		}
	}
	return false
}

// settleLocked updates the probe and, if nobody is active, schedules the
// automatic takeover by a healthy standby after FailoverDelay.
func (c *Cluster) settleLocked() {
	c.Probe.Set(c.forwardingLocked())
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
				c.Probe.Set(c.forwardingLocked())
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
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	m.c.statusCalls++
	if m.down {
		return upgrade.MemberState{}, fmt.Errorf("member %s: %w", m.Name, ErrUnreachable)
	}
	st := upgrade.MemberState{ID: m.Name, Role: m.Role, Raw: string(m.Role), Version: m.Version, Healthy: m.healthyLocked(), SyncKnown: true, SyncPercent: 100}
	if m.PeerLost {
		st.Problems = append(st.Problems, "peer lost")
		st.SyncPercent = 0
	}
	return st, nil
}

// Backup implements upgrade.BackerUp: it records a "backup" call and
// returns a reference "<member>-<n>.bak", or fails with BackupFails.
func (m *Member) Backup(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c := m.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.BackupFails || m.down {
		return "", fmt.Errorf("member %s: backup failed", m.Name)
	}
	c.record("backup", m.Name, "")
	n := 0
	for _, k := range c.calls {
		if k.Op == "backup" && k.Member == m.Name {
			n++
		}
	}
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
	return m.apply(ctx, target, true)
}

// apply takes the member down and brings it back on target (Install and
// Rollback); record says whether to record an "install" call.
func (m *Member) apply(_ context.Context, target string, record bool) error {
	c := m.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.InstallFails {
		c.record("install-failed", m.Name, target)
		return fmt.Errorf("member %s: %w", m.Name, ErrInstallFailed)
	}
	if record {
		c.record("install", m.Name, target)
	}
	if m.down {
		return fmt.Errorf("member %s: %w", m.Name, ErrUnreachable)
	}
	m.down = true
	m.Role = upgrade.RoleDown
	c.settleLocked()
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
		m.Role = upgrade.RoleStandby
		if !c.forwardingLocked() {
			m.Role = upgrade.RoleActive
		}
		c.Probe.Set(c.forwardingLocked())
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
// current one, sending nothing.
func (m *Member) Rollback(ctx context.Context, to string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := m.c
	c.mu.Lock()
	cur := m.Version
	c.mu.Unlock()
	if to == "" || to == cur {
		return fmt.Errorf("member %s: rollback to %q: not an earlier version than %s", m.Name, to, cur)
	}
	c.mu.Lock()
	c.record("rollback", m.Name, to)
	c.mu.Unlock()
	return m.apply(ctx, to, false)
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
	c.record("failover", to, "")
	if c.FailoverRefused {
		return fmt.Errorf("failover to %s: %w", to, ErrFailoverRefused)
	}
	var target *Member
	for _, m := range c.members {
		if m.Name == to {
			target = m
		}
	}
	if target == nil || !target.healthyLocked() || (target.Role != upgrade.RoleStandby && target.Role != upgrade.RoleActive) {
		return fmt.Errorf("failover to %s: not a healthy standby: %w", to, ErrFailoverRefused)
	}
	for _, m := range c.members {
		if m.Role == upgrade.RoleActive && m != target {
			m.Role = upgrade.RoleStandby
		}
	}
	target.Role = upgrade.RoleActive
	c.Probe.Set(c.forwardingLocked())
	return nil
}
