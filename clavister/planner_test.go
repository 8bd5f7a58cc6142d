package clavister

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/driver/drivertest"
	"github.com/hitless/hitless/upgrade"
)

const (
	oldV = "14.00.09.00-31234"
	newV = "14.00.10.00-31300"
)

// dialer opens a session to one unit (scripted in tests).
type dialer func() (driver.Session, error)

// scriptedCluster builds a Cluster whose transport dials with the given
// functions (keyed by unit name); a unit without one is unreachable. New's
// first open and every reconnect call the dialer. Uploads are recorded by
// the returned *fakeUploads.
func scriptedCluster(t *testing.T, cfg Config, dial map[string]dialer) (*Cluster, *fakeUploads) {
	t.Helper()
	byHost := map[string]dialer{}
	for i, u := range cfg.Units {
		if d, ok := dial[u.Name]; ok {
			byHost[cfg.driverConfig(i).Host] = d
		}
	}
	ups := &fakeUploads{}
	open := func(_ context.Context, dc driver.Config) (driver.Session, error) {
		d, ok := byHost[dc.Host]
		if !ok {
			return nil, &driver.UnreachableError{Host: dc.Host, Err: errors.New("connection refused")}
		}
		return d()
	}
	tr := transport{
		open: open,
		reconnect: func(ctx context.Context, dc driver.Config, _ driver.Backoff) (driver.Session, error) {
			return open(ctx, dc)
		},
		upload: ups.upload,
	}
	c, err := newCluster(t.Context(), cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, ups
}

// always dials s.
func always(s driver.Session) dialer { return func() (driver.Session, error) { return s, nil } }

// planCluster is a pair fw-a, fw-b for planning (no device behind it).
func planCluster(t *testing.T) *Cluster {
	t.Helper()
	c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{
		"fw-a": always(drivertest.NewScripted("10.0.0.1:22", nil)),
		"fw-b": always(drivertest.NewScripted("10.0.0.2:22", nil)),
	})
	return c
}

// Snapshot member builders. role is "master" or "slave".
func active(id, role, version string) upgrade.MemberState {
	return upgrade.MemberState{ID: id, Role: upgrade.RoleActive, Healthy: true, Version: version,
		Raw: role + ": This device is currently ACTIVE (will forward traffic)"}
}

func inactive(id, role, version string) upgrade.MemberState {
	return upgrade.MemberState{ID: id, Role: upgrade.RoleStandby, Healthy: true, Version: version,
		Raw: role + ": This device is currently INACTIVE (will not forward traffic)"}
}

func syncing(m upgrade.MemberState, pct int) upgrade.MemberState {
	m.Healthy, m.SyncKnown, m.SyncPercent = false, true, pct
	m.Problems = []string{cond(ErrSyncIncomplete, "%d%%", pct).Error()}
	return m
}

func down(id string) upgrade.MemberState {
	return upgrade.MemberState{ID: id, Role: upgrade.RoleDown, Problems: []string{cond(ErrUnreachable, "connection refused").Error()}}
}

func snap(ms ...upgrade.MemberState) upgrade.Snapshot {
	return upgrade.Snapshot{Cluster: "hq", At: time.Unix(0, 0), Members: ms}
}

var fresh = []string{
	"stage:fw-b@" + newV, "install:fw-b@" + newV, "wait:fw-b@" + newV, "failover:to:fw-b", "wait:active:fw-b",
	"stage:fw-a@" + newV, "install:fw-a@" + newV, "postcheck@" + newV,
}

var freshRestore = []string{
	"stage:fw-b@" + newV, "install:fw-b@" + newV, "wait:fw-b@" + newV, "failover:to:fw-b", "wait:active:fw-b",
	"stage:fw-a@" + newV, "install:fw-a@" + newV, "wait:fw-a@" + newV, "restore:to:fw-a", "postcheck@" + newV,
}

// Where a re-plan starts in fresh (and freshRestore): after the first
// install (its gate), after the failover (wait:active), after the second
// install (the post-check, or the resync gate of the role restore).
const (
	afterFirst    = 2
	afterFailover = 4
	afterSecond   = 7
)

// isSubsequence reports whether sub's elements appear in seq in order.
func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range sub {
		for i < len(seq) && seq[i] != s {
			i++
		}
		if i == len(seq) {
			return false
		}
		i++
	}
	return true
}

func TestPlanSteps(t *testing.T) {
	c := planCluster(t)
	tests := []struct {
		name    string
		restore bool
		target  string
		snap    upgrade.Snapshot
		want    []string
		of      []string // the fresh plan this one must be a subsequence of
	}{
		{"fresh", false, newV, snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)), fresh, fresh},
		{"fresh, snapshot order reversed", false, newV, snap(inactive("fw-b", "slave", oldV), active("fw-a", "master", oldV)), fresh, fresh},
		{"fresh, restore roles", true, newV, snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)), freshRestore, freshRestore},
		{"fresh, slave active", false, newV, snap(inactive("fw-a", "master", oldV), active("fw-b", "slave", oldV)), []string{
			"stage:fw-a@" + newV, "install:fw-a@" + newV, "wait:fw-a@" + newV, "failover:to:fw-a", "wait:active:fw-a", "stage:fw-b@" + newV, "install:fw-b@" + newV, "postcheck@" + newV}, nil},
		{"fresh, slave active, restore: the master ends active anyway", true, newV, snap(inactive("fw-a", "master", oldV), active("fw-b", "slave", oldV)), []string{
			"stage:fw-a@" + newV, "install:fw-a@" + newV, "wait:fw-a@" + newV, "failover:to:fw-a", "wait:active:fw-a", "stage:fw-b@" + newV, "install:fw-b@" + newV, "postcheck@" + newV}, nil},
		{"fresh, old unhealthy peer still planned (the guard decides)", false, newV, snap(active("fw-a", "master", oldV), syncing(inactive("fw-b", "slave", oldV), 40)), fresh, fresh},
		{"first unit rebooting", false, newV, snap(active("fw-a", "master", oldV), down("fw-b")), fresh, fresh},
		{"first unit back, resyncing", false, newV, snap(active("fw-a", "master", oldV), syncing(inactive("fw-b", "slave", newV), 50)), fresh[afterFirst:], fresh},
		{"first unit done", false, newV, snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", newV)), fresh[afterFirst:], fresh},
		{"first unit done, restore", true, newV, snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", newV)), freshRestore[afterFirst:], freshRestore},
		{"after failover", false, newV, snap(inactive("fw-a", "master", oldV), active("fw-b", "slave", newV)), fresh[afterFailover:], fresh},
		{"after failover, restore", true, newV, snap(inactive("fw-a", "master", oldV), active("fw-b", "slave", newV)), freshRestore[afterFailover:], freshRestore},
		{"second unit rebooting", false, newV, snap(down("fw-a"), active("fw-b", "slave", newV)), fresh[afterFailover:], fresh},
		{"second unit rebooting, restore", true, newV, snap(down("fw-a"), active("fw-b", "slave", newV)), freshRestore[afterFailover:], freshRestore},
		{"second unit back, resyncing", false, newV, snap(syncing(inactive("fw-a", "master", newV), 10), active("fw-b", "slave", newV)), fresh[afterSecond:], fresh},
		{"second unit back, resyncing, restore", true, newV, snap(syncing(inactive("fw-a", "master", newV), 10), active("fw-b", "slave", newV)), freshRestore[afterSecond:], freshRestore},
		{"done", false, newV, snap(inactive("fw-a", "master", newV), active("fw-b", "slave", newV)), nil, fresh},
		{"done except restore", true, newV, snap(inactive("fw-a", "master", newV), active("fw-b", "slave", newV)), freshRestore[afterSecond:], freshRestore},
		{"restore done", true, newV, snap(active("fw-a", "master", newV), inactive("fw-b", "slave", newV)), nil, freshRestore},
		{"restore done, slave resyncing", true, newV, snap(active("fw-a", "master", newV), syncing(inactive("fw-b", "slave", newV), 90)), freshRestore[afterSecond+2:], freshRestore},
		{"already on target (build not in target)", false, "14.00.10", snap(active("fw-a", "master", newV), inactive("fw-b", "slave", newV)), nil, nil},
		{"target without build matches", false, "14.00.10", snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", newV)), []string{
			"wait:fw-b@14.00.10", "failover:to:fw-b", "wait:active:fw-b", "stage:fw-a@14.00.10", "install:fw-a@14.00.10", "postcheck@14.00.10"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Planner{Cluster: c, RestoreRoles: tt.restore}
			plan, err := p.Plan(tt.snap, tt.target)
			if err != nil {
				t.Fatal(err)
			}
			got := plan.StepIDs()
			if !slices.Equal(got, tt.want) {
				t.Fatalf("steps:\n got %q\nwant %q", got, tt.want)
			}
			if tt.of != nil && !isSubsequence(got, tt.of) {
				t.Errorf("%q is not a subsequence of the fresh plan %q", got, tt.of)
			}
			if plan.Cluster != "hq" || plan.Target != tt.target {
				t.Errorf("plan for %q -> %q", plan.Cluster, plan.Target)
			}
			if err := upgrade.ValidatePlan(c, plan); err != nil {
				t.Error(err)
			}
			if plan.Converged == nil {
				t.Error("no end state (Plan.Converged)")
			}
			// Deterministic: the same input gives the same plan.
			again, _ := p.Plan(tt.snap, tt.target)
			if again.Fingerprint() != plan.Fingerprint() || again.Render() != plan.Render() {
				t.Error("planning is not deterministic")
			}
		})
	}
}

// TestPlanStepKinds: only install steps disrupt (their own unit); each is
// preceded by the non-disruptive, idempotent, verifiable stage step of the
// same unit, so that the guard checks the install right before the apply
// command and not before a long upload; the failover and restore steps
// declare the failover (upgrade.FailoverDeclarer) and have a safety
// precondition and a verification; nothing else declares anything.
func TestPlanStepKinds(t *testing.T) {
	c := planCluster(t)
	for _, restore := range []bool{false, true} {
		plan, err := Planner{Cluster: c, RestoreRoles: restore}.Plan(snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)), newV)
		if err != nil {
			t.Fatal(err)
		}
		stages := 0
		for i, s := range plan.Steps {
			id, d := s.ID(), s.Disrupts()
			fo, isFO := s.(upgrade.FailoverDeclarer)
			failover := isFO && fo.Failover()
			_, safe := s.(upgrade.SafetyChecker)
			if f, ok := s.(*upgrade.Func); ok {
				safe = f.Safe != nil
			}
			_, verifier := s.(upgrade.Verifier)
			idem, _ := s.(upgrade.Idempotenter)
			switch kind, rest, _ := strings.Cut(id, ":"); kind {
			case "install":
				unit := strings.Split(rest, "@")[0]
				if !slices.Equal(d, []string{unit}) || failover || safe || !verifier {
					t.Errorf("%s: disrupts %q, failover %t, safe %t, verifier %t", id, d, failover, safe, verifier)
				}
				if i == 0 || plan.Steps[i-1].ID() != "stage:"+rest {
					t.Errorf("%s is not preceded by stage:%s", id, rest)
				}
			case "stage":
				stages++
				if len(d) != 0 || failover || safe || !verifier || idem == nil || !idem.Idempotent() {
					t.Errorf("%s: disrupts %q, failover %t, safe %t, verifier %t, idempotent %v", id, d, failover, safe, verifier, idem)
				}
				if i+1 >= len(plan.Steps) || plan.Steps[i+1].ID() != "install:"+rest {
					t.Errorf("%s is not followed by install:%s", id, rest)
				}
			case "failover", "restore":
				if len(d) != 0 || !failover || !safe || !verifier {
					t.Errorf("%s: disrupts %q, failover %t, safe %t, verifier %t", id, d, failover, safe, verifier)
				}
			default:
				if _, gated := s.(upgrade.Gated); len(d) != 0 || failover || !gated {
					t.Errorf("%s: disrupts %q, failover %t, gated %t", id, d, failover, gated)
				}
			}
			if dd, ok := s.(upgrade.DowntimeDeclarer); ok && dd.Downtime() {
				t.Errorf("%s declares downtime", id)
			}
		}
		if stages != 2 {
			t.Errorf("%d stage steps, want 2: %q", stages, plan.StepIDs())
		}
	}
}

// TestPlanConverged: every plan carries its end state, also a plan with no
// step left; it holds only when both units run the target, one (the
// master, with RestoreRoles) is ACTIVE, both are healthy and the pair has
// no problem, and its error names both units with their versions.
func TestPlanConverged(t *testing.T) {
	c := planCluster(t)
	done := snap(inactive("fw-a", "master", newV), active("fw-b", "slave", newV))
	restored := snap(active("fw-a", "master", newV), inactive("fw-b", "slave", newV))
	splitBrain := snap(active("fw-a", "master", newV), active("fw-b", "slave", newV))
	splitBrain.Problems = []string{cond(ErrSplitBrain, "fw-a and fw-b both report ACTIVE").Error()}
	peerDead := inactive("fw-a", "master", newV)
	peerDead.Healthy, peerDead.Problems = false, []string{cond(ErrPeerNotAlive, "no ALIVE line").Error()}
	tests := []struct {
		name    string
		restore bool
		snap    upgrade.Snapshot
		is      []error // nil: converged
	}{
		{"done", false, done, nil},
		{"done, master active", false, restored, nil},
		{"restored", true, restored, nil},
		{"slave still active with RestoreRoles", true, done, []error{ErrUnexpectedRole}},
		{"nothing upgraded", false, snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)), []error{ErrUnexpectedVersion}},
		{"mixed versions", false, snap(inactive("fw-a", "master", oldV), active("fw-b", "slave", newV)), []error{ErrUnexpectedVersion}},
		{"resyncing", false, snap(syncing(inactive("fw-a", "master", newV), 40), active("fw-b", "slave", newV)), []error{ErrSyncIncomplete}},
		{"peer not alive", false, snap(peerDead, active("fw-b", "slave", newV)), []error{ErrPeerNotAlive}},
		{"rebooting", false, snap(down("fw-a"), active("fw-b", "slave", newV)), []error{ErrUnreachable}},
		{"split brain", false, splitBrain, []error{ErrSplitBrain}},
		{"none active", false, snap(inactive("fw-a", "master", newV), inactive("fw-b", "slave", newV)), []error{ErrUnexpectedRole}},
	}
	// Plans made at every stage of the upgrade carry the same end state.
	starts := []upgrade.Snapshot{
		snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)),
		snap(inactive("fw-a", "master", oldV), active("fw-b", "slave", newV)),
		done, restored,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, start := range starts {
				plan, err := Planner{Cluster: c, RestoreRoles: tt.restore}.Plan(start, newV)
				if err != nil {
					t.Fatal(err)
				}
				if plan.Converged == nil {
					t.Fatalf("plan %q has no end state", plan.StepIDs())
				}
				err = plan.Converged(tt.snap)
				if tt.is == nil {
					if err != nil {
						t.Errorf("plan %q: not converged: %v", plan.StepIDs(), err)
					}
					continue
				}
				if err == nil {
					t.Fatalf("plan %q: converged on %+v", plan.StepIDs(), tt.snap.Members)
				}
				for _, target := range tt.is {
					if !errors.Is(err, target) {
						t.Errorf("error does not match %v: %v", target, err)
					}
				}
				for _, m := range tt.snap.Members {
					want := m.ID + " runs " + m.Version
					if m.Version == "" {
						want = m.ID + " runs an unknown version"
					}
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error does not say %q: %v", want, err)
					}
				}
			}
		})
	}
}

func TestPlanRefuses(t *testing.T) {
	c := planCluster(t)
	notConfigured := upgrade.MemberState{ID: "fw-b", Role: upgrade.RoleUnknown, Raw: "This device is a standalone system (HA not configured)",
		Version: oldV, Problems: []string{cond(ErrNotConfigured, "standalone").Error()}}
	unreadable := upgrade.MemberState{ID: "fw-b", Role: upgrade.RoleUnknown, Problems: []string{cond(ErrUnreadable, "garbage").Error()}}
	noRole := active("fw-a", "master", oldV)
	noRole.Raw = "This device is currently ACTIVE"
	noRoleB := inactive("fw-b", "slave", oldV)
	noRoleB.Raw = ""
	tests := []struct {
		name    string
		p       Planner
		snap    upgrade.Snapshot
		target  string
		is      []error
		unitErr string // a *UnitError must name this unit
	}{
		{"bad target", Planner{Cluster: c}, snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)), "14.0x", nil, ""},
		{"unit ahead", Planner{Cluster: c}, snap(active("fw-a", "master", "14.01.00"), inactive("fw-b", "slave", oldV)), newV, []error{ErrAheadOfTarget}, "fw-a"},
		{"not configured", Planner{Cluster: c}, snap(active("fw-a", "master", oldV), notConfigured), newV, []error{ErrNotConfigured}, "fw-b"},
		{"unreadable", Planner{Cluster: c}, snap(active("fw-a", "master", oldV), unreadable), newV, []error{ErrUnreadable}, "fw-b"},
		{"split brain", Planner{Cluster: c}, snap(active("fw-a", "master", oldV), active("fw-b", "slave", oldV)), newV, []error{ErrSplitBrain}, ""},
		{"both inactive", Planner{Cluster: c}, snap(inactive("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)), newV, []error{ErrBothInactive}, ""},
		{"both down", Planner{Cluster: c}, snap(down("fw-a"), down("fw-b")), newV, []error{ErrBothInactive}, ""},
		{"missing unit", Planner{Cluster: c}, snap(active("fw-a", "master", oldV)), newV, nil, "fw-b"},
		{"foreign unit", Planner{Cluster: c}, snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV), inactive("fw-x", "slave", oldV)), newV, []error{ErrUnknownUnit}, "fw-x"},
		{"bad version", Planner{Cluster: c}, snap(active("fw-a", "master", "garbage"), inactive("fw-b", "slave", oldV)), newV, []error{ErrUnreadable}, "fw-a"},
		{"restore without roles", Planner{Cluster: c, RestoreRoles: true}, snap(noRole, noRoleB), newV, nil, ""},
		{"bad timing", Planner{Cluster: c, GateTiming: upgrade.Timing{Interval: time.Second}}, snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)), newV, []error{upgrade.ErrInvalidTiming}, ""},
		{"no cluster", Planner{}, snap(), newV, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := tt.p.Plan(tt.snap, tt.target)
			var pe *PlanError
			if !errors.As(err, &pe) || !errors.Is(err, upgrade.ErrInvalid) {
				t.Fatalf("want a *PlanError matching upgrade.ErrInvalid, got %v (plan %q)", err, plan.StepIDs())
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("error does not match %v: %v", target, err)
				}
			}
			if tt.unitErr != "" {
				var ue *UnitError
				if !errors.As(err, &ue) || ue.Unit != tt.unitErr {
					t.Errorf("want a *UnitError naming %s, got %v", tt.unitErr, err)
				}
			}
			if len(plan.Steps) != 0 {
				t.Errorf("refused plan has steps %q", plan.StepIDs())
			}
		})
	}
}

// step returns the plan's step with the given ID.
func step(t *testing.T, p upgrade.Plan, id string) upgrade.Step {
	t.Helper()
	for _, s := range p.Steps {
		if s.ID() == id {
			return s
		}
	}
	t.Fatalf("no step %q in %q", id, p.StepIDs())
	return nil
}

func TestPlanGates(t *testing.T) {
	c := planCluster(t)
	plan, err := Planner{Cluster: c, RestoreRoles: true}.Plan(snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)), newV)
	if err != nil {
		t.Fatal(err)
	}
	gate := func(id string) func(upgrade.Snapshot) error { return step(t, plan, id).(upgrade.Gated).Gate().Check }
	safe := func(id string) func(upgrade.Snapshot) error {
		return step(t, plan, id).(upgrade.SafetyChecker).CheckSafe
	}
	alarm := snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", newV))
	alarm.Problems = []string{cond(ErrUnplannedFailover, "fw-a has been ACTIVE for only 3s").Error()}
	splitBrain := snap(active("fw-a", "master", oldV), active("fw-b", "slave", newV))
	splitBrain.Problems = []string{cond(ErrSplitBrain, "fw-a and fw-b both report ACTIVE").Error()}
	peerDead := inactive("fw-b", "slave", newV)
	peerDead.Healthy, peerDead.Problems = false, []string{cond(ErrPeerNotAlive, "no ALIVE line").Error()}
	unknownB := upgrade.MemberState{ID: "fw-b", Role: upgrade.RoleUnknown, Problems: []string{cond(ErrUnreadable, "ha: garbage").Error()}}

	tests := []struct {
		name  string
		check func(upgrade.Snapshot) error
		snap  upgrade.Snapshot
		is    []error // nil: the check passes
		unit  string
	}{
		{"wait: upgraded", gate("wait:fw-b@" + newV), snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", newV)), nil, ""},
		{"wait: still rebooting", gate("wait:fw-b@" + newV), snap(active("fw-a", "master", oldV), down("fw-b")), []error{ErrUnreachable}, "fw-b"},
		{"wait: not rebooted yet", gate("wait:fw-b@" + newV), snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)), []error{ErrUnexpectedVersion}, "fw-b"},
		{"wait: resyncing", gate("wait:fw-b@" + newV), snap(active("fw-a", "master", oldV), syncing(inactive("fw-b", "slave", newV), 60)), []error{ErrSyncIncomplete}, "fw-b"},
		{"wait: peer not alive", gate("wait:fw-b@" + newV), snap(active("fw-a", "master", oldV), peerDead), []error{ErrPeerNotAlive}, "fw-b"},
		{"wait: unreadable", gate("wait:fw-b@" + newV), snap(active("fw-a", "master", oldV), unknownB), []error{ErrUnreadable}, "fw-b"},
		{"wait: unplanned failover (roles)", gate("wait:fw-b@" + newV), snap(inactive("fw-a", "master", oldV), active("fw-b", "slave", newV)), []error{ErrUnplannedFailover}, "fw-a"},
		{"wait: unplanned failover (time in state)", gate("wait:fw-b@" + newV), alarm, []error{ErrUnplannedFailover}, ""},
		{"wait: split brain", gate("wait:fw-b@" + newV), splitBrain, []error{ErrSplitBrain}, "fw-b"},
		{"failover safe", safe("failover:to:fw-b"), snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", newV)), nil, ""},
		{"failover unsafe: not upgraded", safe("failover:to:fw-b"), snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", oldV)), []error{ErrUnexpectedVersion}, "fw-b"},
		{"failover unsafe: not in sync", safe("failover:to:fw-b"), snap(active("fw-a", "master", oldV), syncing(inactive("fw-b", "slave", newV), 99)), []error{ErrSyncIncomplete}, "fw-b"},
		{"failover unsafe: alarm", safe("failover:to:fw-b"), alarm, []error{ErrUnplannedFailover}, ""},
		{"swapped", gate("wait:active:fw-b"), snap(inactive("fw-a", "master", oldV), active("fw-b", "slave", newV)), nil, ""},
		{"not swapped yet", gate("wait:active:fw-b"), snap(active("fw-a", "master", oldV), inactive("fw-b", "slave", newV)), []error{ErrUnexpectedRole}, "fw-b"},
		{"restore safe", safe("restore:to:fw-a"), snap(inactive("fw-a", "master", newV), active("fw-b", "slave", newV)), nil, ""},
		{"restore unsafe: master resyncing", safe("restore:to:fw-a"), snap(syncing(inactive("fw-a", "master", newV), 5), active("fw-b", "slave", newV)), []error{ErrSyncIncomplete}, "fw-a"},
		{"postcheck: master active", gate("postcheck@" + newV), snap(active("fw-a", "master", newV), inactive("fw-b", "slave", newV)), nil, ""},
		{"postcheck: slave still active", gate("postcheck@" + newV), snap(inactive("fw-a", "master", newV), active("fw-b", "slave", newV)), []error{ErrUnexpectedRole}, "fw-a"},
		{"postcheck: mixed versions", gate("postcheck@" + newV), snap(active("fw-a", "master", newV), inactive("fw-b", "slave", oldV)), []error{ErrUnexpectedVersion}, "fw-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.snap)
			if tt.is == nil {
				if err != nil {
					t.Fatalf("want pass, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want a failure")
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("error does not match %v: %v", target, err)
				}
			}
			if tt.unit != "" {
				var ue *UnitError
				if !errors.As(err, &ue) {
					t.Errorf("no *UnitError in %v", err)
				}
				if !strings.Contains(err.Error(), "unit "+tt.unit) {
					t.Errorf("error does not name %s: %v", tt.unit, err)
				}
			}
		})
	}
}
