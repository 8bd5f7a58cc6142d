package aviatrix_test

import (
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
)

// declaredWrites runs p and checks that every write the fake receives is
// sent by the step running at the time and is declared by it: each gateway
// of a gateway write in the step's Disrupts, the controller for
// upgrade_platform; that steps without members send no write; and that
// the executor's check after each step found no undeclared disruption.
func declaredWrites(t *testing.T, fake *aviatrixtest.Fake, fleet *aviatrix.Cluster, p upgrade.Plan) {
	t.Helper()
	disrupts := map[string][]string{}
	for _, s := range p.Steps {
		disrupts[s.ID()] = s.Disrupts()
	}
	var mu sync.Mutex
	current, from := "", 0
	check := func(step string, to int) {
		for _, w := range fake.WriteCalls()[from:to] {
			var members []string
			switch w.Action {
			case "upgrade_platform":
				members = []string{aviatrix.ControllerID}
			default:
				members = strings.Split(w.Params["gateway_list"], ",")
			}
			for _, m := range members {
				assert.Contains(t, disrupts[step], m, "step %s sent %s for %s without declaring it", step, w.Action, m)
			}
		}
	}
	var checks []upgrade.Event
	rep, err := run(t, fleet, p, &upgrade.Executor{OnEvent: func(e upgrade.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case upgrade.EventStepStart:
			n := len(fake.WriteCalls())
			assert.Equal(t, from, n, "no write between steps (before %s)", e.Step)
			current, from = e.Step, n
		case upgrade.EventStepFinish, upgrade.EventStepFail:
			n := len(fake.WriteCalls())
			check(current, n)
			current, from = "", n
		case upgrade.EventCheck:
			checks = append(checks, e)
		}
	}})
	require.NoError(t, err, rep.Markdown())
	require.NotEmpty(t, fake.WriteCalls())
	require.NotEmpty(t, checks, "the executor checks after every step")
	for _, e := range checks {
		assert.Empty(t, e.Err, "after %s: %s", e.Step, e.Message)
	}
}

// Every Aviatrix step that takes a gateway or the controller out of
// forwarding lists it in Disrupts: a batch step all of its gateways, an
// outage step its gateway, the controller hop the controller (which never
// forwards: it is a healthy standby member), in upgrades (catch-up and
// hop), rollbacks and image upgrades, so the executor's check after each
// step (a member that forwarded before and does not after must have been
// declared) never stops a correct run.
func TestEveryDisruptingStepDeclaresItsMembers(t *testing.T) {
	mixed := func(o *aviatrixtest.Options) {
		o.Groups, o.Standalone = 1, 1
	}
	t.Run("upgrade with catch-up, hop and outage", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fake := aviatrixtest.NewWithPairs("6.5.2721", 2, mixed, func(o *aviatrixtest.Options) { o.GatewayVersion, o.PreviousVersion = "6.5.1922", "6.5.1922" })
			_, fleet := open(t, fake)
			p, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 2, CatchUp: true, AllowOutage: true})
			require.NoError(t, err)
			declaredWrites(t, fake, fleet, p.Plan)
		})
	})
	t.Run("rollback with outage", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fake := aviatrixtest.NewWithPairs("6.6.5545", 2, mixed, func(o *aviatrixtest.Options) { o.PreviousVersion = "6.6.5224" })
			_, fleet := open(t, fake)
			p, err := fleet.PlanRollback(aviatrix.RollbackRequest{BatchSize: 2, AllowOutage: true})
			require.NoError(t, err)
			declaredWrites(t, fake, fleet, p.Plan)
			for _, n := range fake.GatewayNames() {
				assert.Equal(t, "6.6.5224", fake.GatewayVersion(n), n)
			}
		})
	})
	t.Run("image upgrade with outage", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fake := aviatrixtest.NewWithPairs("6.6.5545", 2, mixed)
			_, fleet := open(t, fake)
			p, err := fleet.PlanImageUpgrade(aviatrix.ImageRequest{BatchSize: 2, AllowOutage: true})
			require.NoError(t, err)
			declaredWrites(t, fake, fleet, p.Plan)
		})
	})
}
