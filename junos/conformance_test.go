package junos_test

import (
	"testing"
	"time"

	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/junos/junostest"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
)

// conformanceCluster returns a Junos Cluster driving a fresh simulated
// vSRX cluster over real SSH on 127.0.0.1 (so no synctest bubble); at
// cleanup it checks that no probe tick was lost.
func conformanceCluster(t *testing.T) upgrade.Cluster {
	sim, cfg := startSim(t, junostest.Options{Preempt: []int{1}})
	c, err := junos.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		sim.Probe().Stop()
		if lost := sim.Probe().LostTicks(); lost != 0 {
			t.Errorf("traffic probe lost %d ticks (outage %v)", lost, sim.Probe().Outage())
		}
	})
	return c
}

// conformanceTiming bounds every wait of the suite: a simulated reboot, the
// cold sync and the RG0 hold-down fit in it.
var conformanceTiming = upgrade.Timing{Interval: 20 * time.Millisecond, MinHealthy: 40 * time.Millisecond, Deadline: 10 * time.Second}

// TestConformance runs the conformance suite every upgrade.Cluster must
// pass against the Junos Cluster, twice: with the generic upgrade.Rolling
// planner (the Cluster must work under any plan that keeps the guard's
// invariant: Node.Install, Cluster.Failover, Cluster.CheckDisruption) and
// with junos.Planner.
func TestConformance(t *testing.T) {
	t.Parallel()
	t.Run("Rolling", func(t *testing.T) {
		t.Parallel()
		upgradetest.TestCluster(t, upgradetest.Conformance{
			New:        conformanceCluster,
			Target:     e2eTarget,
			Grammar:    junos.Grammar{},
			GateTiming: conformanceTiming,
		})
	})
	t.Run("Planner", func(t *testing.T) {
		t.Parallel()
		upgradetest.TestCluster(t, upgradetest.Conformance{
			New:        conformanceCluster,
			Target:     e2eTarget,
			Grammar:    junos.Grammar{},
			GateTiming: conformanceTiming,
			Planner: func(c upgrade.Cluster) upgrade.Planner {
				return junos.Planner{Cluster: c.(*junos.Cluster), GateTiming: conformanceTiming}
			},
		})
	})
}
