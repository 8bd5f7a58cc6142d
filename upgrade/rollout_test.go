package upgrade_test

import (
	"context"
	"errors"
	"fmt"
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
		ts, _ := fleet(3, "p")
		rep, err := (&upgrade.Rollout{WindowEnd: time.Now().Add(1000 * time.Second)}).Run(t.Context(), ts)
		require.ErrorIs(t, err, upgrade.ErrRolloutHalted)
		assert.Contains(t, err.Error(), "maintenance window ended")
		assert.Equal(t, []string{"done", "done", "not-started"}, []string{rep.Results[0].Status, rep.Results[1].Status, rep.Results[2].Status})

		ts, cs := fleet(2, "p")
		_, err = (&upgrade.Rollout{Approve: func(_ context.Context, t upgrade.RolloutTarget) error {
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
	_, err := (&upgrade.Rollout{}).Run(t.Context(), ts)
	var ie *upgrade.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Len(t, ie.Problems, 2)
}
