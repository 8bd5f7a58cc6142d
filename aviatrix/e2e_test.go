package aviatrix_test

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// open returns a client and fleet over the fake's in-memory transport.
func open(t *testing.T, fake *aviatrixtest.Fake) (*aviatrix.Client, *aviatrix.Cluster) {
	t.Helper()
	c, err := aviatrix.NewClient(fake.ClientConfig())
	require.NoError(t, err)
	f, err := aviatrix.Open(t.Context(), c, aviatrix.ClusterOptions{Name: "avx"})
	require.NoError(t, err)
	return c, f
}

func TestEndToEndSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.1922", 10)
		_, fleet := open(t, fake)
		plan, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.7", BatchSize: 5})
		require.NoError(t, err)
		assert.Equal(t, []string{"6.5.2721", "6.6.5545", "6.7.1574"}, plan.Hops, "latest 6.5 build, then 6.6 and 6.7")
		start := time.Now()
		rep, err := (&upgrade.Executor{}).Run(context.Background(), fleet, plan.Plan)
		require.NoError(t, err, rep.Markdown())
		assert.Equal(t, "6.7.1574", fake.ControllerVersion())
		for _, n := range fake.GatewayNames() {
			assert.Equal(t, "6.7.1574", fake.GatewayVersion(n), n)
		}
		sum := fake.ProbeSummary()
		assert.Equal(t, 10, sum.Sets)
		assert.Equal(t, 0, sum.LostTicks, "per-pair probes: %+v", sum)
		assert.Zero(t, sum.Outage)
		assert.Greater(t, sum.Ticks, 3600, "the probes ran through the whole upgrade (1 tick/s)")
		one := []string{"upgrading", "downloading", "installing", "complete"}
		assert.Equal(t, append([]string{"complete"}, append(append(one, one...), one...)...), fake.StatusHistory("spoke-001"))
		assert.False(t, rep.Downtime)
		for _, k := range fake.Calls() {
			assert.False(t, k.CIDInURL, "no CID in a URL: %s", k.Action)
		}
		t.Logf("virtual duration %v, %d steps, %d logins", time.Since(start), len(rep.Steps), fake.Logins())
	})
}

// hand is a hand-written plan of steps whose end state is e (every plan
// with a target carries its end-state check): its target is e's
// controller version, or else e's gateway version.
func hand(f *aviatrix.Cluster, e aviatrix.EndState, steps ...upgrade.Step) upgrade.Plan {
	target := e.Controller
	if target == "" {
		target = e.Version
	}
	return upgrade.Plan{Cluster: f.Name(), Target: target, Steps: steps, Converged: f.Converged(e)}
}

// run runs p on fleet with e (nil: a zero Executor).
func run(t *testing.T, fleet *aviatrix.Cluster, p upgrade.Plan, e *upgrade.Executor) (*upgrade.Report, error) {
	t.Helper()
	if e == nil {
		e = &upgrade.Executor{}
	}
	return e.Run(t.Context(), fleet, p)
}

func TestEndToEndCIDExpiresMidRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.2721", 4, func(o *aviatrixtest.Options) { o.SessionTTL = 7 * time.Minute })
		c, fleet := open(t, fake)
		p, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 2})
		require.NoError(t, err)
		rep, err := run(t, fleet, p.Plan, nil)
		require.NoError(t, err, rep.Markdown())
		assert.Greater(t, c.Logins(), 4, "sessions expired and were refreshed")
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
		out, _ := json.Marshal(rep)
		assertNoSecrets(t, fake, string(out)+rep.Markdown())
	})
}

func TestEndToEndControllerNeverComesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.2721", 2, func(o *aviatrixtest.Options) { o.ControllerNeverReturns = true })
		_, fleet := open(t, fake)
		p, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545"})
		require.NoError(t, err)
		start := time.Now()
		var events []upgrade.Event
		rep, err := run(t, fleet, p.Plan, &upgrade.Executor{OnEvent: func(e upgrade.Event) { events = append(events, e) }})
		require.Error(t, err)
		assert.ErrorIs(t, err, aviatrix.ErrTimeout)
		assert.ErrorIs(t, err, aviatrix.ErrRestarting)
		var ue *aviatrix.UpgradeError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, "controller", ue.Party)
		assert.Equal(t, aviatrix.DefaultWaits().ControllerDeadline, time.Since(start).Round(time.Minute), "bounded by the controller deadline")
		assert.Equal(t, upgrade.StatusFailed, rep.Steps[0].Status)
		assert.Len(t, fake.WriteCalls(), 1, "only the one upgrade_platform")
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks, "the data plane never noticed")
		ev, _ := json.Marshal(events)
		assertNoSecrets(t, fake, string(ev))
	})
}

func TestEndToEndGatewayFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.2721", 3, func(o *aviatrixtest.Options) { o.FailGateways = []string{"spoke-002-hagw"} })
		_, fleet := open(t, fake)
		p, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 3})
		require.NoError(t, err)
		_, err = run(t, fleet, p.Plan, nil)
		require.ErrorIs(t, err, aviatrix.ErrUpgradeFailed)
		var ue *aviatrix.UpgradeError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, "spoke-002-hagw", ue.Name)
		assert.Equal(t, "upgrade_fail", ue.Status)
		assert.Equal(t, "6.5.2721", fake.GatewayVersion("spoke-002"), "primaries untouched after the failed batch")
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
	})
}

func TestEndToEndBusyController(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.2721", 1, func(o *aviatrixtest.Options) { o.Busy = true })
		_, fleet := open(t, fake)
		p, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545"})
		require.NoError(t, err)
		_, err = run(t, fleet, p.Plan, nil)
		require.ErrorIs(t, err, aviatrix.ErrBusy)
		assert.Len(t, fake.WriteCalls(), 1, "busy is not retried")
	})
}

func TestRefusedPlansSendNoWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5224", 2, func(o *aviatrixtest.Options) { o.Standalone = 1 })
		fake.SetGatewayVersion("spoke-001", "6.6.5545") // ahead of the controller
		_, fleet := open(t, fake)
		for _, req := range []aviatrix.UpgradeRequest{
			{Target: "6.6.5545"},                                // gateway ahead, standalone without AllowOutage
			{Target: "6.5.2721", AllowOutage: true},             // controller rollback
			{Target: "6.8.1148", Catalog: []string{"6.8.1148"}}, // skips 6.7
			{Target: "6.6.5545", AllowOutage: true, Batches: [][]string{{"spoke-002", "spoke-002-hagw"}}},
		} {
			_, err := fleet.PlanUpgrade(req)
			require.ErrorIs(t, err, aviatrix.ErrPlan, "%+v", req)
		}
		_, err := fleet.PlanRollback(aviatrix.RollbackRequest{To: "6.5.1922"})
		require.Error(t, err)
		assert.Empty(t, fake.WriteCalls())
	})
}

func TestDryRunSendsNoWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.1922", 3)
		_, fleet := open(t, fake)
		p, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.7.1574", BatchSize: 2})
		require.NoError(t, err)
		rep, err := run(t, fleet, p.Plan, &upgrade.Executor{DryRun: true})
		require.NoError(t, err)
		assert.True(t, rep.DryRun)
		for _, s := range rep.Steps {
			assert.Equal(t, upgrade.StatusPlanned, s.Status)
		}
		assert.Empty(t, fake.WriteCalls())
		assert.Equal(t, "6.5.1922", fake.ControllerVersion())

		// A failing pre-check (backup disabled) stops a real run before any write.
		fake.SetBackupDisabled(true)
		_, err = run(t, fleet, p.Plan, nil)
		require.ErrorIs(t, err, upgrade.ErrPreCheck)
		assert.Contains(t, err.Error(), "backup is not enabled")
		assert.Empty(t, fake.WriteCalls())
	})
}

func TestGuardRefusesBothPairMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.2721", 3, func(o *aviatrixtest.Options) { o.GatewayVersion = "6.5.1922" })
		_, fleet := open(t, fake)
		// A hand-written plan putting a whole pair in one batch.
		p := hand(fleet, aviatrix.EndState{Version: "6.5.2721", Gateways: []string{"spoke-001", "spoke-001-hagw"}}, fleet.GatewayBatchSteps("6.5.2721", 1, "spoke-001", "spoke-001-hagw")...)
		rep, err := run(t, fleet, p, nil)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.Contains(t, err.Error(), "never both members")
		assert.Equal(t, upgrade.StatusRefused, rep.Steps[0].Status)

		// One member while its peer has gone down mid-run: refused too.
		// (The step that takes the peer down declares it: an undeclared
		// disruption would stop the run right after that step.)
		peerFails := &upgrade.Func{StepID: "peer-fails", Members: []string{"spoke-002"}, Do: func(context.Context) error {
			fake.SetGatewayState("spoke-002", "down")
			return nil
		}}
		p = hand(fleet, aviatrix.EndState{Version: "6.5.2721", Gateways: []string{"spoke-002-hagw"}}, append([]upgrade.Step{peerFails}, fleet.GatewayBatchSteps("6.5.2721", 1, "spoke-002-hagw")...)...)
		_, err = run(t, fleet, p, nil)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.ErrorContains(t, err, "no other member would forward: spoke-002 is down")

		// A controller hop while gateways lag: the hop's safety check
		// re-applies the controller-before-gateway rule.
		fake.SetGatewayState("spoke-002", "up")
		p = hand(fleet, aviatrix.EndState{Controller: "6.6.5545", Version: "6.6.5545"}, fleet.ControllerHopSteps("6.6.5545")...)
		_, err = run(t, fleet, p, &upgrade.Executor{})
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.ErrorContains(t, err, "not on the controller version")

		// Gateways only to the controller's version.
		p = hand(fleet, aviatrix.EndState{Version: "6.6.5545", Gateways: []string{"spoke-003-hagw"}}, fleet.GatewayBatchSteps("6.6.5545", 1, "spoke-003-hagw")...)
		_, err = run(t, fleet, p, nil)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.Empty(t, fake.WriteCalls(), "no refused step sent anything")
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
	})
}

func TestEndToEndRollback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5545", 3, func(o *aviatrixtest.Options) { o.PreviousVersion = "6.6.5224"; o.Groups = 1 })
		_, fleet := open(t, fake)
		p, err := fleet.PlanRollback(aviatrix.RollbackRequest{Groups: []aviatrix.Selector{{Type: aviatrix.TypeSpoke, Region: "us-east-1"}, {Type: aviatrix.TypeTransit}}, BatchSize: 2})
		require.NoError(t, err)
		rep, err := run(t, fleet, p.Plan, nil)
		require.NoError(t, err, rep.Markdown())
		for _, n := range []string{"spoke-001", "spoke-001-hagw", "spoke-003", "spoke-003-hagw", "transit-01", "transit-01-1", "transit-01-2"} {
			assert.Equal(t, "6.6.5224", fake.GatewayVersion(n), n)
		}
		assert.Equal(t, "6.6.5545", fake.GatewayVersion("spoke-002"), "us-west-2 not selected")
		for _, w := range fake.WriteCalls() {
			assert.Equal(t, "6.6.5224", w.Params["software_version"], "explicit previous version, not the keyword")
			assert.Equal(t, "6.6.5224", w.Params["version"])
		}
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
	})
}

// The run is cancelled between steps; cuts inside a step (the process
// dying mid-write or mid-poll) are TestResumeAfterCutMidStep's.
func TestEndToEndResumeAfterCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.2721", 4)
		j := &upgrade.MemoryJournal{}
		_, fleet := open(t, fake)
		req := aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 2}
		p, err := fleet.PlanUpgrade(req)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		finished := 0
		_, err = (&upgrade.Executor{Journal: j, OnEvent: func(e upgrade.Event) {
			if e.Kind == upgrade.EventStepFinish {
				if finished++; finished == 4 { // controller hop, its gate, first batch and its gate
					cancel()
				}
			}
		}}).Run(ctx, fleet, p.Plan)
		require.ErrorIs(t, err, upgrade.ErrStopped)

		// A new process: fresh inventory, same request, same journal. The
		// controller hopped before the crash, so the gateways now lag it:
		// the plain request is refused (documented pre-check), and the
		// resume says CatchUp (as Cluster.Plan does when re-planning).
		_, fleet2 := open(t, fake)
		_, err = fleet2.PlanUpgrade(req)
		require.ErrorIs(t, err, versionpath.ErrGatewayNotConverged)
		req.CatchUp = true
		p2, err := fleet2.PlanUpgrade(req)
		require.NoError(t, err)
		assert.Less(t, len(p2.Steps), len(p.Steps))
		rep, err := (&upgrade.Executor{Journal: j}).Run(t.Context(), fleet2, p2.Plan)
		require.NoError(t, err, rep.Markdown())
		kicks := map[string]int{}
		for _, w := range fake.WriteCalls() {
			kicks[w.Action+" "+w.Params["gateway_list"]+"@"+w.Params["version"]]++
		}
		for k, n := range kicks {
			assert.Equal(t, 1, n, k)
		}
		assert.Len(t, kicks, 1+8)
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
	})
}
