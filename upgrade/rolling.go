package upgrade

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hitless/hitless/versionpath"
)

// DefaultGateTiming is the Timing the Rolling planner uses when none is
// given: poll every 10 s, healthy for 30 s, give up after 20 min (a unit
// reboot after a firmware install takes several minutes on every vendor in
// scope; Clavister plans 10–15 min per unit).
func DefaultGateTiming() Timing {
	return Timing{Interval: 10 * time.Second, MinHealthy: 30 * time.Second, Deadline: 20 * time.Minute}
}

// Rolling is the generic rolling-upgrade planner: members that are not yet
// on the target and not forwarding are upgraded first (BatchSize at a time,
// each followed by a health gate), then the cluster fails over to an
// upgraded member, then the former active members are upgraded. This is the
// common shape of the vendors' documented HA procedures ("upgrade the
// standby first, fail over, upgrade the rest"); vendor planners refine it.
//
// Plan is pure: it builds steps from the snapshot and target without I/O.
// Step IDs depend only on member IDs and the target, so re-planning after a
// crash yields the remaining steps with the same IDs.
type Rolling struct {
	// Cluster is the cluster whose members the steps act on; required.
	Cluster Cluster
	// Grammar parses and orders versions; required (without it a plan
	// could not tell an upgrade from a downgrade).
	Grammar versionpath.Grammar
	// GateTiming is the Timing of every health gate; zero means
	// DefaultGateTiming.
	GateTiming Timing
	// BatchSize is how many standby members are installed in one step;
	// 0 means 1. Never more than the members that are not forwarding.
	BatchSize int
	// Backup adds a "backup:<member>" step, before anything is disrupted,
	// for every member still to upgrade that implements BackerUp (e.g. a
	// full system backup, a Check Point Gaia snapshot).
	Backup bool
	// Rollback makes the plan a rollback: members that run a version above
	// the target return to it through their Rollbacker capability (the
	// target is the explicit version to return to), in the same order and
	// under the same guard, gates and journal as an upgrade: members that
	// do not forward first, then a failover to a rolled-back member, then
	// the rest. Step IDs are "rollback:<member>@<target>" and
	// "wait:<member>@<target>". A member below the target, or one without
	// the Rollbacker capability that still has to move, refuses the plan.
	Rollback bool
}

// Step ID shapes used by Rolling (and reused by vendor planners).
func installID(member, target string) string  { return "install:" + member + "@" + target }
func rollbackID(member, target string) string { return "rollback:" + member + "@" + target }
func waitID(member, target string) string     { return "wait:" + member + "@" + target }
func failoverID(to string) string             { return "failover:to:" + to }

// sameVersion reports whether have equals want under g (exact text when g
// is nil). An unparsable have is an error naming it.
func sameVersion(g versionpath.Grammar, have, want string) (bool, error) {
	if g == nil {
		return have == want, nil
	}
	if have == "" {
		return false, nil
	}
	hv, err := g.Parse(have)
	if err != nil {
		return false, err
	}
	wv, err := g.Parse(want)
	if err != nil {
		return false, err
	}
	return hv.Compare(wv) == 0, nil
}

// Plan implements Planner. Errors are *InvalidError listing every problem:
// no cluster, malformed target, a member version that does not parse, a
// member ahead of the target, or no member left to fail over to.
func (r Rolling) Plan(s Snapshot, target string) (Plan, error) {
	var probs []string
	if r.Cluster == nil {
		return Plan{}, &InvalidError{What: "rolling planner", Problems: []string{"no cluster"}}
	}
	if target == "" {
		probs = append(probs, "target version is empty")
	}
	if r.Grammar == nil {
		probs = append(probs, "no version grammar (Rolling.Grammar): a plan without one could not tell an upgrade from a downgrade")
	}
	var tv versionpath.Version
	if r.Grammar != nil && target != "" {
		v, err := r.Grammar.Parse(target)
		if err != nil {
			probs = append(probs, fmt.Sprintf("target: %v", err))
		}
		tv = v
	}
	timing := r.GateTiming
	if timing == (Timing{}) {
		timing = DefaultGateTiming()
	}
	if err := timing.Validate(); err != nil {
		probs = append(probs, err.Error())
	}
	members := map[string]Member{}
	for _, m := range r.Cluster.Members() {
		members[m.ID()] = m
	}
	var pending, active []MemberState // not at target: non-forwarding / forwarding
	var upgraded []MemberState
	for _, m := range s.Members {
		if _, ok := members[m.ID]; !ok {
			probs = append(probs, fmt.Sprintf("snapshot member %q is not in cluster %s", m.ID, r.Cluster.Name()))
			continue
		}
		at := false
		if r.Grammar != nil && m.Version != "" {
			v, err := r.Grammar.Parse(m.Version)
			if err != nil {
				probs = append(probs, fmt.Sprintf("member %s: %v", m.ID, err))
				continue
			}
			if tv == nil {
				continue
			}
			c := v.Compare(tv)
			switch {
			case c > 0 && !r.Rollback:
				probs = append(probs, fmt.Sprintf("member %s runs %s, ahead of target %s (downgrades are not rolling upgrades: set Rolling.Rollback to roll back)", m.ID, m.Version, target))
				continue
			case c < 0 && r.Rollback:
				probs = append(probs, fmt.Sprintf("member %s runs %s, below rollback target %s", m.ID, m.Version, target))
				continue
			case c != 0 && r.Rollback:
				if _, ok := members[m.ID].(Rollbacker); !ok {
					probs = append(probs, fmt.Sprintf("member %s cannot roll back (no Rollbacker capability)", m.ID))
					continue
				}
			}
			at = c == 0
		}
		switch {
		case at:
			upgraded = append(upgraded, m)
		case m.Forwarding():
			active = append(active, m)
		default:
			pending = append(pending, m)
		}
	}
	if len(active) > 0 && len(upgraded) == 0 && len(pending) == 0 {
		probs = append(probs, "no member other than the active one(s) to fail over to: a hitless rolling upgrade needs at least two members")
	}
	if len(probs) > 0 {
		return Plan{}, &InvalidError{What: "rolling plan for " + s.Cluster, Problems: probs}
	}

	p := Plan{Cluster: r.Cluster.Name(), Target: target}
	// With Backup, members that can back themselves up do so first, all of
	// them, before anything is disrupted.
	for _, m := range append(slices.Clone(pending), active...) {
		if b, ok := members[m.ID].(BackerUp); ok && r.Backup {
			p.Steps = append(p.Steps, backupStep(m.ID, b))
		}
	}
	// The failover target is the first member, in snapshot order, that
	// does not forward, whatever its upgrade state: the same member however
	// far a crashed run got, so re-planning keeps the step IDs.
	to, toUpgraded := "", false
	for _, m := range s.Members {
		if slices.ContainsFunc(upgraded, func(u MemberState) bool { return u.ID == m.ID }) {
			to, toUpgraded = m.ID, true
			break
		}
		if slices.ContainsFunc(pending, func(u MemberState) bool { return u.ID == m.ID }) {
			to = m.ID
			break
		}
	}
	if len(active) > 0 && toUpgraded {
		// The failover target was upgraded before this plan (or before a
		// crash, possibly during its health gate): wait for it again first.
		// Placed first, the step keeps the order of the original plan.
		p.Steps = append(p.Steps, r.waitUpgraded(to, target, timing))
	}
	p.Converged = ConvergedOn(r.Grammar, target)
	batch := max(r.BatchSize, 1)
	for i := 0; i < len(pending); i += batch {
		p.Steps = append(p.Steps, r.installSteps(members, pending[i:min(i+batch, len(pending))], target, timing)...)
	}
	if len(active) > 0 {
		p.Steps = append(p.Steps, r.failoverSteps(to, target, timing)...)
		for i := 0; i < len(active); i += batch {
			p.Steps = append(p.Steps, r.installSteps(members, active[i:min(i+batch, len(active))], target, timing)...)
		}
	}
	return p, nil
}

// ConvergedOn returns the generic end-state check for Plan.Converged:
// every member runs target (compared with g), is healthy, and some member
// forwards. The error lists every member that falls short with its
// version. g must not be nil.
func ConvergedOn(g versionpath.Grammar, target string) func(s Snapshot) error {
	return func(s Snapshot) error {
		var probs []string
		for _, m := range s.Members {
			same, err := sameVersion(g, m.Version, target)
			if err != nil || !same {
				probs = append(probs, fmt.Sprintf("member %s runs %q, not %s", m.ID, m.Version, target))
			}
			if !m.Healthy {
				probs = append(probs, fmt.Sprintf("member %s is not healthy", m.ID))
			}
		}
		if err := CheckAvailability(s, nil); err != nil {
			probs = append(probs, err.Error())
		}
		if len(probs) > 0 {
			return errors.New(strings.Join(probs, "; "))
		}
		return nil
	}
}

// backupStep takes a member's backup before the upgrade (BackerUp); the
// backup's reference goes to the report as the step's note.
func backupStep(id string, b BackerUp) Step {
	return &backup{id: id, b: b}
}

type backup struct {
	id  string
	b   BackerUp
	ref string
}

func (s *backup) ID() string          { return "backup:" + s.id }
func (s *backup) Description() string { return "back up " + s.id + " before upgrading it" }
func (s *backup) Disrupts() []string  { return nil }
func (s *backup) Idempotent() bool    { return true }
func (s *backup) Note() string        { return "backup " + s.ref }
func (s *backup) Run(ctx context.Context) error {
	ref, err := s.b.Backup(ctx)
	if err != nil {
		return fmt.Errorf("member %s backup: %w", s.id, err)
	}
	s.ref = ref
	return nil
}

// installSteps returns one install step per member of the batch (run
// together: same Batch group when the batch has several members), then one
// wait step per member. Step IDs name one member each, so they survive
// re-planning whatever the batch composition.
func (r Rolling) installSteps(members map[string]Member, batch []MemberState, target string, t Timing) []Step {
	g, c := r.Grammar, r.Cluster
	group := ""
	if len(batch) > 1 {
		group = "batch@" + batch[0].ID
	}
	var steps []Step
	for _, bm := range batch {
		id := bm.ID
		stepID, desc, verb := installID(id, target), fmt.Sprintf("install %s on %s", target, id), "install"
		do := func(ctx context.Context) error { return members[id].Install(ctx, target) }
		if r.Rollback {
			stepID, desc, verb = rollbackID(id, target), fmt.Sprintf("roll %s back to %s", id, target), "rollback"
			do = func(ctx context.Context) error { return members[id].(Rollbacker).Rollback(ctx, target) }
		}
		steps = append(steps, &Func{
			StepID:  stepID,
			Desc:    desc,
			Members: []string{id},
			Batch:   group,
			Do: func(ctx context.Context) error {
				if err := do(ctx); err != nil {
					return fmt.Errorf("member %s %s: %w", id, verb, err)
				}
				return nil
			},
			// An interrupted install is done when the member is back and
			// reports the target.
			Check: func(ctx context.Context) (bool, error) {
				snap, err := WaitFor(ctx, c, Gate{Name: "member " + id + " back after an interrupted install", Timing: t, Check: func(s Snapshot) error {
					m, ok := s.Member(id)
					if !ok || m.Role == RoleDown || m.Role == RoleUnknown || m.Version == "" {
						return fmt.Errorf("member %s not back yet", id)
					}
					return nil
				}}, nil)
				if err != nil {
					return false, err
				}
				m, _ := snap.Member(id)
				ok, err := sameVersion(g, m.Version, target)
				if err != nil {
					return false, err
				}
				if !ok {
					// The install ran (its start is journaled) but did not
					// take: repeating a disruptive step automatically could
					// loop, so stop and let an operator decide.
					return false, fmt.Errorf("%w: %s of %s on %s was interrupted and the member came back on %s", ErrUnverifiable, verb, target, id, m.Version)
				}
				return true, nil
			},
		})
	}
	for _, bm := range batch {
		steps = append(steps, r.waitUpgraded(bm.ID, target, t))
	}
	return steps
}

// waitUpgraded is the post-install gate of one member. A member seen away
// (down, unknown, missing) during the wait that then comes back healthy on
// another version has rebooted without taking the upgrade: waiting cannot
// fix that, so the gate fails at once (ErrPermanent).
func (r Rolling) waitUpgraded(id, target string, t Timing) Step {
	g := r.Grammar
	var seenAway bool
	return &Wait{
		StepID:  waitID(id, target),
		Desc:    fmt.Sprintf("wait until %s is back on %s, healthy and in sync", id, target),
		Cluster: r.Cluster,
		G: Gate{Name: "member " + id + " upgraded", Timing: t, Check: func(s Snapshot) error {
			m, ok := s.Member(id)
			switch {
			case !ok || m.Role == RoleDown || m.Role == RoleUnknown:
				seenAway = true
			case seenAway && m.Healthy && m.Version != "":
				if same, err := sameVersion(g, m.Version, target); err == nil && !same {
					return fmt.Errorf("%w: member %s rebooted and came back on %s, not %s", ErrPermanent, id, m.Version, target)
				}
			}
			return memberUpgraded(g, s, id, target)
		}},
	}
}

// memberUpgraded is the post-install gate: the member is present, runs
// target, is healthy in a standby/ready/active role, and some member
// forwards.
func memberUpgraded(g versionpath.Grammar, s Snapshot, id, target string) error {
	m, ok := s.Member(id)
	if !ok {
		return fmt.Errorf("member %s missing from snapshot", id)
	}
	same, err := sameVersion(g, m.Version, target)
	if err != nil {
		return fmt.Errorf("member %s: %w", id, err)
	}
	var miss []string
	if !same {
		miss = append(miss, fmt.Sprintf("version %q, want %q", m.Version, target))
	}
	if !slices.Contains([]Role{RoleStandby, RoleReady, RoleActive}, m.Role) {
		miss = append(miss, fmt.Sprintf("role %s", m.Role))
	}
	if !m.Healthy {
		miss = append(miss, "not healthy: "+strings.Join(m.Problems, "; "))
	}
	if err := CheckAvailability(s, nil); err != nil {
		miss = append(miss, "cluster: "+err.Error())
	}
	if len(miss) > 0 {
		return fmt.Errorf("member %s: %s", id, strings.Join(miss, ", "))
	}
	return nil
}

// failoverSteps moves the active role to member to, which must already be
// healthy on target, and waits until it forwards.
func (r Rolling) failoverSteps(to, target string, t Timing) []Step {
	c, g := r.Cluster, r.Grammar
	fo := &Func{
		StepID:     failoverID(to),
		Desc:       fmt.Sprintf("fail over to %s (%s)", to, map[bool]string{false: "upgraded", true: "rolled back"}[r.Rollback]),
		IsFailover: true,
		Do:         func(ctx context.Context) error { return c.Failover(ctx, to) },
		Safe: func(s Snapshot) error {
			return memberUpgraded(g, s, to, target)
		},
		Check: func(ctx context.Context) (bool, error) {
			s, err := c.Observe(ctx)
			if err != nil {
				return false, err
			}
			m, ok := s.Member(to)
			return ok && m.Forwarding(), nil
		},
	}
	wait := &Wait{
		StepID:  "wait:active:" + to,
		Desc:    fmt.Sprintf("wait until %s forwards as the active member", to),
		Cluster: c,
		G: Gate{Name: "failover to " + to, Timing: t, Check: func(s Snapshot) error {
			m, ok := s.Member(to)
			if !ok || !m.Forwarding() {
				return fmt.Errorf("member %s is not the forwarding member yet (role %s)", to, m.Role)
			}
			return nil
		}},
	}
	return []Step{fo, wait}
}
