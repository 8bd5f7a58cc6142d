package clavister_test

import (
	"testing"
	"time"

	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/clavister/clavistertest"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
)

// TestConformance runs the conformance suite every upgrade.Cluster must
// pass against a Clavister Cluster driving the simulated pair over real SSH
// on 127.0.0.1 (so no synctest bubble). The suite's rolling upgrade uses the
// generic upgrade.Rolling planner, not clavister.Planner: the Cluster must
// work under any plan that keeps the guard's invariant.
func TestConformance(t *testing.T) {
	upgradetest.TestCluster(t, upgradetest.Conformance{
		New: func(t *testing.T) upgrade.Cluster {
			pair, cfg := startPair(t, clavistertest.Faults{})
			c, err := clavister.New(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = c.Close()
				pair.Probe().Stop()
				if lost := pair.Probe().LostTicks(); lost != 0 {
					t.Errorf("traffic probe lost %d ticks", lost)
				}
			})
			return c
		},
		Target:     e2eTarget,
		Grammar:    clavister.Grammar{},
		GateTiming: upgrade.Timing{Interval: 40 * time.Millisecond, MinHealthy: 100 * time.Millisecond, Deadline: 10 * time.Second},
	})
}
