package checkpoint_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// TestConformance runs the conformance suite every upgrade.Cluster must
// pass against a checkpoint.Cluster driving the simulated cluster over real
// SSH and the management fake over TLS on 127.0.0.1 (so no synctest
// bubble), in gateway mode and in VSX mode. The full upgrade uses
// checkpoint.Planner: a Check Point member on a newer release stays READY
// until MVC is on and a policy is installed, which only the MVC procedure
// does (the generic upgrade.Rolling plan cannot make it take over).
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ho     harnessOpts
		target string
	}{
		{"gateway", harnessOpts{}, "R82"},
		{"vsx", harnessOpts{vsx: true, jumbo: 92}, "R81.20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			harnesses := map[upgrade.Cluster]*harness{}
			upgradetest.TestCluster(t, upgradetest.Conformance{
				New: func(t *testing.T) upgrade.Cluster {
					h := startHarness(t, tc.ho)
					c, err := checkpoint.New(t.Context(), h.cfg)
					require.NoError(t, err)
					t.Cleanup(func() {
						_ = c.Close()
						h.sim.Probe().Stop()
						if lost := h.sim.Probe().LostTicks(); lost != 0 {
							t.Errorf("traffic probe lost %d ticks", lost)
						}
					})
					harnesses[c] = h
					return c
				},
				Target:     tc.target,
				Grammar:    versionpath.CheckPoint{},
				GateTiming: upgrade.Timing{Interval: 30 * time.Millisecond, MinHealthy: 60 * time.Millisecond, Deadline: 15 * time.Second},
				Planner: func(c upgrade.Cluster) upgrade.Planner {
					return harnesses[c].planner(c.(*checkpoint.Cluster), "")
				},
			})
		})
	}
}
