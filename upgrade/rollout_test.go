package upgrade_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

func fleet(n int, pods ...string) ([]upgrade.RolloutTarget, []*upgradetest.Cluster) {
	var ts []upgrade.RolloutTarget
	var cs []*upgradetest.Cluster
	for i := range n {
		c := upgradetest.NewCluster(fmt.Sprint("fw", i), time.Second,
			&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, InstallDuration: 5 * time.Second, RebootDuration: 5 * time.Minute},
			&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, InstallDuration: 5 * time.Second, RebootDuration: 5 * time.Minute},
		)
		cs = append(cs, c)
		ts = append(ts, upgrade.RolloutTarget{Cluster: c, Version: "2.0", Group: pods[i%len(pods)],
			Planner: upgrade.Rolling{Cluster: c, GateTiming: gate, Grammar: versionpath.Dotted{}}})
	}
	return ts, cs
}

// maxOverlap returns the largest number of runs that were in progress at
// once, overall and within one group.
func maxOverlap(rep *upgrade.RolloutReport) (all, perGroup int) {
	for _, a := range rep.Results {
		if a.Report == nil {
			continue
		}
		n, g := 0, 0
		for _, b := range rep.Results {
			if b.Report == nil {
				continue
			}
			if !b.Report.Started.After(a.Report.Started) && b.Report.Finished.After(a.Report.Started) {
				n++
				if b.Group == a.Group {
					g++
				}
			}
		}
		all, perGroup = max(all, n), max(perGroup, g)
	}
	return all, perGroup
}

// Six pairs in three pods, one canary, at most four at once and one per pod:
// canary alone (710 s, see TestRollingPairVirtualTime), then pods a, b, c
// together (710 s), then b and c (710 s) = 2130 s.
func TestRolloutCanaryParallelAndPerPod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, cs := fleet(6, "pod-a", "pod-b", "pod-c")
		start := time.Now()
		rep, err := (&upgrade.Rollout{MaxParallelClusters: 4, PerGroup: 1, Canaries: 1}).Run(t.Context(), ts)
		require.NoError(t, err)
		assert.True(t, rep.OK)
		assert.Equal(t, 2130*time.Second, time.Since(start))
		all, per := maxOverlap(rep)
		assert.Equal(t, 3, all)
		assert.Equal(t, 1, per)
		for _, c := range cs {
			assert.Equal(t, 0, c.Probe.LostTicks())
			assert.Equal(t, "2.0", c.Member("a").Version)
		}
	})
}

func TestRolloutStopsAfterFailureBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, cs := fleet(5, "p1", "p2")
		cs[1].Member("b").NeverReturns = true
		rep, err := (&upgrade.Rollout{MaxParallelClusters: 2, PerGroup: 1, MaxFailures: 1}).Run(t.Context(), ts)
		require.ErrorIs(t, err, upgrade.ErrRolloutHalted)
		require.ErrorIs(t, err, upgrade.ErrGateTimeout)
		statuses := []string{}
		for _, r := range rep.Results {
			statuses = append(statuses, r.Status)
		}
		// fw0 (p1) and fw1 (p2) start together; fw0 done at 710 s lets fw2
		// (p1) start; fw1 fails at 20 min and halts the rollout while fw2
		// runs to completion; fw3 and fw4 never start.
		assert.Equal(t, []string{"done", "failed", "done", "not-started", "not-started"}, statuses)
		assert.Equal(t, 0, cs[1].Probe.LostTicks(), "the failed cluster still forwards")
	})
}

func TestRolloutCanaryFailureHaltsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, cs := fleet(3, "p")
		cs[0].FailoverRefused = true
		rep, err := (&upgrade.Rollout{MaxParallelClusters: 3, PerGroup: 3, Canaries: 1, MaxFailures: 10}).Run(t.Context(), ts)
		require.ErrorIs(t, err, upgrade.ErrRolloutHalted)
		assert.Contains(t, err.Error(), "canary fw0 failed")
		assert.Equal(t, "not-started", rep.Results[1].Status)
		assert.Zero(t, cs[1].CountCalls("install", ""))
	})
}

func TestRolloutMaintenanceWindowAndApproval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// One at a time, 710 s each: fw0 is done at 710 s; fw1 runs when the
		// window closes at 1000 s and stops at its next safe point; fw2
		// never starts.
		ts, cs := fleet(3, "p")
		rep, err := (&upgrade.Rollout{MaxParallelClusters: 1, WindowEnd: time.Now().Add(1000 * time.Second)}).Run(t.Context(), ts)
		require.ErrorIs(t, err, upgrade.ErrRolloutHalted)
		require.ErrorIs(t, err, upgrade.ErrStopped, "the running cluster stopped at a safe point")
		assert.Contains(t, err.Error(), "maintenance window ended")
		assert.Equal(t, []string{"done", "failed", "not-started"}, []string{rep.Results[0].Status, rep.Results[1].Status, rep.Results[2].Status})
		assert.Zero(t, cs[1].Probe.LostTicks(), "stopped, still forwarding")
		assert.Zero(t, cs[2].CountCalls("install", ""))

		ts, cs = fleet(2, "p")
		_, err = (&upgrade.Rollout{MaxParallelClusters: 1, Approve: func(_ context.Context, t upgrade.RolloutTarget) error {
			if t.Cluster.Name() == "fw1" {
				return errors.New("change board said no")
			}
			return nil
		}}).Run(t.Context(), ts)
		require.ErrorIs(t, err, upgrade.ErrRolloutHalted)
		assert.Contains(t, err.Error(), "change board said no")
		assert.Zero(t, cs[1].CountCalls("install", ""))
	})
}

func TestRolloutBadInput(t *testing.T) {
	ts, _ := fleet(2, "p")
	ts = append(ts, ts[0], upgrade.RolloutTarget{})
	r := &upgrade.Rollout{MaxParallelClusters: 0, GroupLimits: map[string]int{"no-such-pod": 2, "p": 0}, WindowEnd: time.Now().Add(-time.Minute)}
	rep, err := r.Run(t.Context(), ts)
	var ie *upgrade.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Len(t, ie.Problems, 6, "%v", ie.Problems) // max parallel, window closed, duplicate, nil target, unknown key, bad limit
	for _, want := range []string{"MaxParallelClusters", "already ended", "listed twice", "no cluster or planner", `"no-such-pod"`, `GroupLimits["p"]`} {
		assert.Contains(t, err.Error(), want)
	}
	for _, res := range rep.Results {
		assert.Equal(t, "not-started", res.Status)
	}
}

// A freed slot starts the next eligible cluster at once, even when the
// next one in order waits for its pod: no head-of-line blocking.
func TestRolloutIsWorkConserving(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, _ := fleet(3, "p1", "p1", "p2") // fw0 p1, fw1 p1, fw2 p2
		ts[2].Group = "p2"
		ts[1].Group = "p1"
		start := time.Now()
		rep, err := (&upgrade.Rollout{MaxParallelClusters: 2, KeepOrder: true}).Run(t.Context(), ts)
		require.NoError(t, err)
		assert.Equal(t, start, rep.Results[2].Report.Started, "fw2 (another pod) starts at once, not behind fw1")
		assert.Equal(t, 1420*time.Second, time.Since(start), "fw0 then fw1 in p1; fw2 alongside")
	})
}

// Without an order, the longest expected cluster starts first (a
// four-member cluster beside three pairs, on two slots).
func TestRolloutLongestFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, _ := fleet(3, "a", "b", "c")
		big := upgradetest.NewCluster("big", time.Second,
			&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, InstallDuration: 5 * time.Second, RebootDuration: 5 * time.Minute},
			&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, InstallDuration: 5 * time.Second, RebootDuration: 5 * time.Minute},
			&upgradetest.Member{Name: "c", Version: "1.0", Role: upgrade.RoleStandby, InstallDuration: 5 * time.Second, RebootDuration: 5 * time.Minute},
			&upgradetest.Member{Name: "d", Version: "1.0", Role: upgrade.RoleStandby, InstallDuration: 5 * time.Second, RebootDuration: 5 * time.Minute},
		)
		ts = append(ts, upgrade.RolloutTarget{Cluster: big, Version: "2.0", Group: "d", Expected: 4 * 340 * time.Second,
			Planner: upgrade.Rolling{Cluster: big, GateTiming: gate, Grammar: versionpath.Dotted{}}})
		for i := range 3 {
			ts[i].Expected = 2 * 340 * time.Second
		}
		start := time.Now()
		rep, err := (&upgrade.Rollout{MaxParallelClusters: 2}).Run(t.Context(), ts)
		require.NoError(t, err)
		assert.Equal(t, start, rep.Results[3].Report.Started, "the longest cluster starts first")
		// big: three standbys 3 × 340 s, failover 30 s, the active 340 s =
		// 1390 s on one slot; fw0 and fw1 (710 s each) on the other; fw2
		// takes the first freed slot, big's, at 1390 s: 2100 s in all.
		assert.Equal(t, 1390*time.Second, rep.Results[3].Report.Finished.Sub(start))
		assert.Equal(t, 1390*time.Second, rep.Results[2].Report.Started.Sub(start), "fw2 starts in the first freed slot")
		assert.Equal(t, 2100*time.Second, time.Since(start))
	})
}

func TestRolloutApprovalOfTheRestAfterCanaries(t *testing.T) {
	for name, answer := range map[string]func(context.Context) error{
		"denied":      func(context.Context) error { return errors.New("canary looked wrong") },
		"never comes": func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts, cs := fleet(3, "p")
				askedc := make(chan []upgrade.RolloutResult, 1)
				rep, err := (&upgrade.Rollout{MaxParallelClusters: 2, Canaries: 1, ApprovalTimeout: time.Hour,
					ApproveRest: func(ctx context.Context, canaries []upgrade.RolloutResult) error {
						askedc <- canaries
						return answer(ctx)
					}}).Run(t.Context(), ts)
				require.ErrorIs(t, err, upgrade.ErrRolloutHalted)
				asked := <-askedc
				require.Len(t, asked, 1)
				assert.Equal(t, "done", asked[0].Status)
				assert.Equal(t, "done", rep.Results[0].Status)
				assert.Zero(t, cs[1].CountCalls("install", ""))
				assert.Zero(t, cs[2].CountCalls("install", ""))
			})
		})
	}
}

func TestRolloutFailurePercentAndConvergenceWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts, cs := fleet(4, "a", "b", "c", "d")
		cs[0].Member("b").NeverReturns = true
		// 1 of 4 failed is 25 %: below a 50 % budget the others go on.
		rep, err := (&upgrade.Rollout{MaxParallelClusters: 1, MaxFailurePercent: 50, KeepOrder: true}).Run(t.Context(), ts)
		require.Error(t, err)
		assert.NotErrorIs(t, err, upgrade.ErrRolloutHalted)
		assert.Equal(t, []string{"failed", "done", "done", "done"}, statuses(rep))
		assert.Equal(t, 1, strings.Count(err.Error(), "\n- "), "one line per failed cluster:\n%s", err)

		// A cluster that cannot converge within its window stops at a safe
		// point when the window passes (each pair needs 710 s).
		ts, cs = fleet(1, "a")
		ts[0].ConvergeWithin = 400 * time.Second
		start := time.Now()
		_, err = (&upgrade.Rollout{MaxParallelClusters: 1}).Run(t.Context(), ts)
		require.ErrorIs(t, err, upgrade.ErrStopped)
		assert.LessOrEqual(t, time.Since(start), 400*time.Second)
		assert.Zero(t, cs[0].Probe.LostTicks())
	})
}

func statuses(rep *upgrade.RolloutReport) []string {
	var s []string
	for _, r := range rep.Results {
		s = append(s, r.Status)
	}
	return s
}
