package clavister

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/driver/drivertest"
	"github.com/hitless/hitless/upgrade"
)

// sessions dials the given sessions in order, the last one for every later
// dial.
func sessions(ss ...driver.Session) dialer {
	var mu sync.Mutex
	n := 0
	return func() (driver.Session, error) {
		mu.Lock()
		defer mu.Unlock()
		s := ss[min(n, len(ss)-1)]
		n++
		return s, nil
	}
}

// TestStatusRereadsHAAfterRestart: fw-b answers `ha` (INACTIVE, in sync,
// peer ALIVE) and restarts before `about`, which the reconnected session
// answers with the target. Status must not combine the `ha` of before the
// restart with the version of after it (a unit back on the target that
// looks in sync while it resynchronises, and an empty re-plan): it reads
// `ha` again on the new session.
func TestStatusRereadsHAAfterRestart(t *testing.T) {
	a := unitScript("10.0.0.1:22", haOut("master", true, 1000, true, -1), newV)
	before := unitScript("10.0.0.2:22", haOut("slave", false, 1000, true, -1), oldV)
	after := unitScript("10.0.0.2:22", haOut("slave", false, 0, true, 33), newV)
	c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{
		"fw-a": always(a),
		"fw-b": sessions(drivertest.DropAfter(before, 1), after),
	})
	s, err := c.Observe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Member("fw-b")
	if b.Version != newV || b.Healthy || !b.SyncKnown || b.SyncPercent != 33 || len(b.Problems) == 0 || !errors.Is(classify(b.Problems[0]), ErrSyncIncomplete) {
		t.Errorf("fw-b: %+v, want %s resyncing at 33%%", b, newV)
	}
	if got, want := after.Commands(), []string{"about", "ha", "about"}; !slices.Equal(got, want) {
		t.Errorf("commands after the restart %q, want %q", got, want)
	}
	p, err := Planner{Cluster: c}.Plan(s, newV)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{postcheckStepID(newV)}; !slices.Equal(p.StepIDs(), want) {
		t.Errorf("plan %q, want %q", p.StepIDs(), want)
	}
}

// TestStatusUnitKeepsRestarting: a unit that drops every session between
// `ha` and `about` is unreadable (fail closed), not healthy.
func TestStatusUnitKeepsRestarting(t *testing.T) {
	a := unitScript("10.0.0.1:22", haOut("master", true, 1000, true, -1), oldV)
	n := 0
	c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{
		"fw-a": always(a),
		"fw-b": func() (driver.Session, error) {
			n++
			return drivertest.DropAfter(unitScript("10.0.0.2:22", haOut("slave", false, 1000, true, -1), oldV), 1), nil
		},
	})
	st, err := c.Member("fw-b").Status(t.Context())
	if !errors.Is(err, ErrUnreadable) || st.Role != upgrade.RoleUnknown || st.Healthy {
		t.Errorf("Status: %+v, %v; want unknown and ErrUnreadable", st, err)
	}
	if n < 1+stateReads {
		t.Errorf("%d sessions opened, want at least %d", n, 1+stateReads)
	}
}

// haAt renders `ha` with a time in state counted from since (so that an
// ACTIVE unit's time in state grows with the clock).
func haAt(role string, active bool, since time.Time, alive bool, sync int) drivertest.Reply {
	return drivertest.Reply{Func: func(context.Context, string) (string, error) {
		return haOut(role, active, int(time.Since(since)/time.Second), alive, sync), nil
	}}
}

// TestResumedGateUnitBackOnOld: the gate after an install that an earlier
// process journaled finished (its apply command acknowledged) finds the
// unit up on the old version. Seen going away by this Cluster: at once,
// ErrInstallNotTaken. Never seen away (it came back before this process
// started, and no Planner.Journal tells when the install began): once it
// has answered on the old version for Config.ApplyGrace, the same error,
// long before the gate's deadline. A unit that restarts within
// ApplyGrace and comes back on the target passes.
func TestResumedGateUnitBackOnOld(t *testing.T) {
	const grace = 2 * time.Minute
	timing := upgrade.Timing{Interval: 10 * time.Second, MinHealthy: 30 * time.Second, Deadline: 20 * time.Minute}
	refused := func() (driver.Session, error) {
		return nil, &driver.UnreachableError{Host: "10.0.0.2:22", Err: errors.New("connection refused")}
	}
	tests := []struct {
		name string
		fwB  func() dialer
		// want: nil for a gate that passes; else the gate fails for good
		// after about took.
		want []error
		took time.Duration
		why  string
	}{
		{"seen away since New", func() dialer {
			first := true
			return func() (driver.Session, error) {
				if first {
					first = false
					return refused()
				}
				return unitScript("10.0.0.2:22", haOut("slave", false, 1000, true, -1), oldV), nil
			}
		}, []error{ErrInstallNotTaken, upgrade.ErrPermanent}, timing.Interval, "went away"},
		{"never seen away", func() dialer {
			return always(unitScript("10.0.0.2:22", haOut("slave", false, 1000, true, -1), oldV))
		}, []error{ErrInstallNotTaken, upgrade.ErrPermanent}, grace, "Config.ApplyGrace"},
		{"restarts within ApplyGrace onto the target", func() dialer {
			// Two polls (ha and about each) on the old version, then the
			// restart drops the session; the unit is back on the target.
			return sessions(
				drivertest.DropAfter(unitScript("10.0.0.2:22", haOut("slave", false, 1000, true, -1), oldV), 4),
				unitScript("10.0.0.2:22", haOut("slave", false, 10, true, -1), newV))
		}, nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				boot := time.Now()
				cfg := validConfig(t)
				cfg.ApplyGrace = grace
				a := drivertest.NewScripted("10.0.0.1:22", map[string]drivertest.Reply{"about": {Output: aboutOut(oldV)}, "stats": {Output: statsOut}}).
					On("ha", haAt("master", true, boot.Add(-time.Hour), true, -1))
				c, _ := scriptedCluster(t, cfg, map[string]dialer{"fw-a": always(a), "fw-b": tt.fwB()})
				s, err := c.Observe(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				plan, err := Planner{Cluster: c, GateTiming: timing}.Plan(s, newV)
				if err != nil {
					t.Fatal(err)
				}
				i := slices.Index(plan.StepIDs(), waitStepID("fw-b", newV))
				if i < 0 {
					t.Fatalf("plan %q has no wait for fw-b", plan.StepIDs())
				}
				start := time.Now()
				_, err = upgrade.WaitFor(t.Context(), c, plan.Steps[i].(upgrade.Gated).Gate(), nil)
				took := time.Since(start)
				if tt.want == nil {
					if err != nil {
						t.Fatalf("gate: %v", err)
					}
					return
				}
				var ge *upgrade.GateError
				if !errors.As(err, &ge) || !ge.Permanent {
					t.Fatalf("gate: %v, want a permanent failure", err)
				}
				for _, w := range tt.want {
					if !errors.Is(err, w) {
						t.Errorf("gate: %v does not match %v", err, w)
					}
				}
				if !strings.Contains(err.Error(), tt.why) {
					t.Errorf("gate: %v does not say %q", err, tt.why)
				}
				if took < tt.took || took > tt.took+timing.Interval {
					t.Errorf("failed after %v, want %v to %v", took, tt.took, tt.took+timing.Interval)
				}
			})
		})
	}
}
