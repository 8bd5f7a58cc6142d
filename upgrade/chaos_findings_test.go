package upgrade_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// Regression tests for core bugs the chaos suite (TestChaos) found. Both
// failed when written; both were fixed in package upgrade by 8f88ec4
// ("a resumed run's first non-gate step gets its 'before' observation;
// Executor.Upgrade cancelled while observing is a stop at a safe point").
// The seeds below reproduce them with the executor.go of 8f88ec4^:
//
//	go test ./upgrade/ -run TestChaos -chaos.runs=1 -chaos.seed=N

// Finding 1 (chaos seeds 510, 10991, 18878; invariant "stopped at once"):
// a resumed run took no observation before its first step, so the check
// after that step had no "before" and only asked that some member be
// active. A first step that took the active member down without declaring
// it went unnoticed when a standby took over before the check's
// observation had read it (or another member was still active): the run
// went on, or failed later for another reason (the guard, the end state).
// The same step in a fresh run stops it with ErrUndeclaredDisruption.
func TestFindingResumedRunMissesUndeclaredDisruptionByItsFirstStep(t *testing.T) {
	for _, resumed := range []bool{false, true} {
		name := map[bool]string{false: "fresh run", true: "first step of a resumed run"}[resumed]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// Reading a member takes 1 s; the standby takes over 500 ms
				// after the active member is lost.
				c := upgradetest.NewCluster("fw", time.Second,
					&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, StatusDelay: time.Second},
					&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, StatusDelay: time.Second})
				c.FailoverDelay = 500 * time.Millisecond
				plan := upgrade.Plan{Cluster: "fw", Steps: []upgrade.Step{
					&upgrade.Func{StepID: "prepare", Retryable: true, Do: func(context.Context) error { return nil }},
					// Declares no member, yet takes the active one down.
					&upgrade.Func{StepID: "rogue", Do: func(context.Context) error {
						c.Inject(upgradetest.FaultDown, "a", 0)
						return nil
					}},
				}}
				j := &upgrade.MemoryJournal{}
				if resumed {
					// The process dies as "rogue" is about to start: the
					// journal holds the plan and "prepare" finished.
					p := upgradetest.NewProcess(t.Context())
					p.KillAtAppend(4, plan)
					if _, err := (&upgrade.Executor{Journal: p.Journal(j)}).Run(p.Context(), c, plan); !errors.Is(err, upgradetest.ErrKilled) {
						t.Fatalf("first run: %v, want the process killed", err)
					}
				}
				_, err := (&upgrade.Executor{Journal: j}).Run(t.Context(), c, plan)
				if !errors.Is(err, upgrade.ErrUndeclaredDisruption) {
					t.Errorf("step %q took the active member a down without declaring it; run returned %v, want ErrUndeclaredDisruption", "rogue", err)
				}
			})
		})
	}
}

// Finding 2 (chaos seeds 3553, 4043, 5059, 10244, 13437, 17904, 19206;
// invariant "typed failures"): Executor.Upgrade returned the bare context
// error ("observe cluster fw: context canceled") when its context ended
// during the initial observation — a Rollout cluster whose maintenance
// window closed, whose process stopped, while it was being read. Nothing
// ran, so it is a stop at a safe point and must match ErrStopped, like
// every other cancellation.
func TestFindingUpgradeCancelledWhileObservingIsNotAStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := upgradetest.Pair("fw", "1.0", time.Minute)
		c.Member("fw-a").StatusDelay = 2 * time.Second
		ctx, cancel := context.WithTimeout(t.Context(), time.Second) // ends while fw-a is read
		defer cancel()
		rep, err := (&upgrade.Executor{}).Upgrade(ctx, c, upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}, GateTiming: gate}, "2.0")
		if rep != nil || err == nil {
			t.Fatalf("Upgrade: report %v, err %v; want no report and an error", rep, err)
		}
		if !errors.Is(err, upgrade.ErrStopped) {
			t.Errorf("Upgrade cancelled during its observation returned %q (%T), want an error matching ErrStopped", err, errors.Unwrap(err))
		}
		if n := len(c.Calls()); n != 0 {
			t.Errorf("%d calls sent, want none", n)
		}
	})
}

// Finding 3 (review of issue 11; not a chaos seed): a resumed run whose
// first step is a gate took no observation before it, so a member lost to
// an outside fault while the gate waited (the gate waiting for something
// else) was not flagged by the check after the gate: only "some member is
// active" was asked. The same gate in a fresh run stops with
// ErrUndeclaredDisruption. Both cases must stop.
func TestFindingResumedGateMissesMemberLostDuringIt(t *testing.T) {
	for _, resumed := range []bool{false, true} {
		name := map[bool]string{false: "fresh run", true: "first step of a resumed run"}[resumed]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := upgradetest.NewCluster("fw", time.Second,
					&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, StatusDelay: time.Second},
					&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, StatusDelay: time.Second})
				c.FailoverDelay = 500 * time.Millisecond
				polls := 0
				plan := upgrade.Plan{Cluster: "fw", Steps: []upgrade.Step{
					&upgrade.Func{StepID: "prepare", Retryable: true, Do: func(context.Context) error { return nil }},
					// Waits for b; while it waits, a is lost (an outside
					// fault, no step of the plan).
					&upgrade.Wait{StepID: "wait:b", G: upgrade.Gate{Name: "b healthy",
						Timing: upgrade.Timing{Interval: time.Second, MinHealthy: 0, Deadline: time.Minute},
						Check: func(s upgrade.Snapshot) error {
							if polls++; polls == 1 {
								c.Inject(upgradetest.FaultDown, "a", 0)
							}
							if m, _ := s.Member("b"); !m.Healthy {
								return errors.New("b not healthy")
							}
							return nil
						}}},
				}}
				j := &upgrade.MemoryJournal{}
				if resumed {
					// The process dies as "wait:b" is about to start.
					p := upgradetest.NewProcess(t.Context())
					p.KillAtAppend(4, plan)
					if _, err := (&upgrade.Executor{Journal: p.Journal(j)}).Run(p.Context(), c, plan); !errors.Is(err, upgradetest.ErrKilled) {
						t.Fatalf("first run: %v, want the process killed", err)
					}
					polls = 0
				}
				_, err := (&upgrade.Executor{Journal: j}).Run(t.Context(), c, plan)
				var derr *upgrade.DisruptionError
				if !errors.Is(err, upgrade.ErrUndeclaredDisruption) || !errors.As(err, &derr) || !slices.Equal(derr.Undeclared, []string{"a"}) {
					t.Errorf("member a was lost while %q waited; run returned %v, want a *DisruptionError naming a (ErrUndeclaredDisruption)", "wait:b", err)
				}
			})
		})
	}
}
