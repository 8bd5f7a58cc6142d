package upgradetest_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

var timing = upgrade.Timing{Interval: 10 * time.Second, MinHealthy: 30 * time.Second, Deadline: 20 * time.Minute}

func TestFakeClusterConformance(t *testing.T) {
	upgradetest.TestCluster(t, upgradetest.Conformance{
		New: func(t *testing.T) upgrade.Cluster {
			return upgradetest.NewCluster("fw", time.Second,
				&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, RebootDuration: time.Minute},
				&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute},
				&upgradetest.Member{Name: "c", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: 2 * time.Minute},
			)
		},
		Target:     "1.1",
		Grammar:    versionpath.Dotted{},
		GateTiming: timing,
		Bubble:     true,
	})
}

func TestProbeCountsLostTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := upgradetest.NewProbe(time.Second, true)
		<-time.After(2500 * time.Millisecond) // virtual time inside the bubble
		p.Set(false)
		<-time.After(3 * time.Second) // ticks at 3,4,5 s are lost
		p.Set(true)
		<-time.After(2 * time.Second)
		p.Stop()
		assert.Equal(t, 3, p.LostTicks())
		assert.Equal(t, 7, p.Ticks())
		assert.Equal(t, 3*time.Second, p.Outage())
	})
}

func TestUnguardedActiveRebootLosesTraffic(t *testing.T) {
	// The probe is what makes the guard's value measurable: rebooting the
	// active member directly (no executor) loses FailoverDelay worth of ticks.
	synctest.Test(t, func(t *testing.T) {
		c := upgradetest.Pair("fw", "1.0", time.Minute)
		require.NoError(t, c.Member("fw-a").Install(t.Context(), "2.0"))
		<-time.After(2 * time.Minute) // virtual time
		c.Probe.Stop()
		// Down from 0 s to the takeover at 3 s: the ticks at 1 s and 2 s are lost.
		assert.Equal(t, 2, c.Probe.LostTicks(), "3 s failover delay at a 1 s tick")
		assert.Equal(t, upgrade.RoleActive, c.Member("fw-b").Role)
	})
}

// TestChaos runs many randomised upgrades of 3-member fakes with faults and
// crashes injected at random journal writes, resuming each time, and checks
// the invariants after every run.
func TestChaos(t *testing.T) {
	for seed := range uint64(60) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				ms := []*upgradetest.Member{
					{Name: "a", Version: "1.0", Role: upgrade.RoleActive},
					{Name: "b", Version: "1.0", Role: upgrade.RoleStandby},
					{Name: "c", Version: "1.0", Role: upgrade.RoleStandby},
				}
				for _, m := range ms {
					m.RebootDuration = time.Duration(1+rng.IntN(8)) * time.Minute
					m.InstallDuration = time.Duration(rng.IntN(30)) * time.Second
				}
				c := upgradetest.NewCluster("chaos", time.Second, ms...)
				fault := rng.IntN(6)
				switch fault {
				case 1:
					ms[1+rng.IntN(2)].NeverReturns = true
				case 2:
					ms[rng.IntN(3)].WrongVersion = "1.0"
				case 3:
					ms[1+rng.IntN(2)].InstallFails = true
				case 4:
					c.FailoverRefused = true
				}
				mem := &upgrade.MemoryJournal{}
				var rep *upgrade.Report
				var err error
				for attempt := 0; attempt < 20; attempt++ {
					snap, oerr := c.Observe(t.Context())
					require.NoError(t, oerr)
					p, perr := upgrade.Rolling{Cluster: c, GateTiming: timing, Grammar: versionpath.Dotted{}}.Plan(snap, "2.0")
					if perr != nil {
						rep, err = &upgrade.Report{Error: perr.Error()}, perr
						break
					}
					j := &cutJournal{inner: mem, limit: rng.IntN(8)}
					rep, err = (&upgrade.Executor{Journal: j}).Run(t.Context(), c, p)
					if !errors.Is(err, errCut) {
						break
					}
				}
				require.NoError(t, upgradetest.Invariants(c, rep, "2.0"), rep.Markdown())
				if fault == 0 || fault == 5 {
					require.NoError(t, err, "no fault injected: the run converges")
				}
			})
		})
	}
}

var errCut = errors.New("process killed")

type cutJournal struct {
	inner *upgrade.MemoryJournal
	limit int
	n     int
}

func (j *cutJournal) Load(ctx context.Context) ([]upgrade.Record, error) { return j.inner.Load(ctx) }
func (j *cutJournal) Append(ctx context.Context, r upgrade.Record) error {
	if j.n >= j.limit {
		return errCut
	}
	j.n++
	return j.inner.Append(ctx, r)
}
