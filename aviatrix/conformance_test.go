package aviatrix_test

import (
	"testing"
	"time"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
)

// TestConformance runs the conformance suite against a Cluster over the fake
// controller (in memory, in synctest bubbles). The fleet is active-active
// (every ActiveMesh gateway forwards; the controller is the one
// non-forwarding member, so the suite's "install on a standby" upgrades the
// controller first, as the procedure requires), and the full upgrade uses
// the Cluster's own planner.
func TestConformance(t *testing.T) {
	upgradetest.TestCluster(t, upgradetest.Conformance{
		New: func(t *testing.T) upgrade.Cluster {
			fake := aviatrixtest.NewWithPairs("6.6.5224", 3)
			_, fleet := open(t, fake)
			t.Cleanup(func() {
				if lost := fake.ProbeSummary().LostTicks; lost != 0 {
					t.Errorf("pairs lost %d probe ticks", lost)
				}
			})
			return fleet
		},
		Target:       "6.6.5545",
		Grammar:      aviatrix.Grammar{},
		GateTiming:   upgrade.Timing{Interval: 10 * time.Second, MinHealthy: 30 * time.Second, Deadline: time.Hour},
		Bubble:       true,
		ActiveActive: true,
		Planner:      func(c upgrade.Cluster) upgrade.Planner { return c.(*aviatrix.Cluster) },
	})
}
