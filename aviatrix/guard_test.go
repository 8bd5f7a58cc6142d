package aviatrix_test

import (
	"context"
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

// memberOf returns the fleet member with ID id.
func memberOf(t *testing.T, fleet *aviatrix.Cluster, id string) upgrade.Member {
	t.Helper()
	for _, m := range fleet.Members() {
		if m.ID() == id {
			return m
		}
	}
	t.Fatalf("no member %s", id)
	return nil
}

// writes renders the fake's writes as "action gateway_list software_version/version".
func writes(fake *aviatrixtest.Fake) []string {
	var out []string
	for _, w := range fake.WriteCalls() {
		out = append(out, w.Action+" "+w.Params["gateway_list"]+" "+w.Params["software_version"]+"/"+w.Params["version"])
	}
	return out
}

// A plain upgrade.Func that disrupts both members of a pair is refused by
// the executor's guard through the Cluster's DisruptionChecker, in a real run
// and in a dry run, and sends nothing; so is a batch of grouped steps
// (one per member).
func TestPlainFuncDisruptingBothPairMembersIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.2721", 2, func(o *aviatrixtest.Options) { o.GatewayVersion = "6.5.1922" })
		c, fleet := open(t, fake)
		var _ upgrade.DisruptionChecker = fleet
		ran := 0
		install := func(names ...string) func(context.Context) error {
			return func(ctx context.Context) error {
				ran++
				return c.UpgradeGateways(ctx, names, "6.5.2721")
			}
		}
		pair := aviatrix.EndState{Version: "6.5.2721", Gateways: []string{"spoke-001", "spoke-001-hagw"}}
		both := hand(fleet, pair,
			&upgrade.Func{StepID: "both", Members: []string{"spoke-001", "spoke-001-hagw"}, Do: install("spoke-001", "spoke-001-hagw")})
		grouped := hand(fleet, pair,
			&upgrade.Func{StepID: "ha", Members: []string{"spoke-001-hagw"}, Do: install("spoke-001-hagw"), Batch: "b1"},
			&upgrade.Func{StepID: "primary", Members: []string{"spoke-001"}, Do: install("spoke-001"), Batch: "b1"})
		for name, p := range map[string]upgrade.Plan{"one step": both, "grouped steps": grouped} {
			for _, dry := range []bool{true, false} {
				rep, err := run(t, fleet, p, &upgrade.Executor{DryRun: dry})
				require.ErrorIs(t, err, upgrade.ErrUnsafe, "%s dry=%t", name, dry)
				assert.ErrorContains(t, err, "in one batch (never both members of a pair or group at once)", "%s dry=%t", name, dry)
				assert.Equal(t, upgrade.StatusRefused, rep.Steps[0].Status, "%s dry=%t", name, dry)
			}
		}
		assert.Zero(t, ran, "no Do ran")
		assert.Empty(t, fake.WriteCalls(), "no write sent")

		// One member at a time passes the same guard.
		one := hand(fleet, aviatrix.EndState{Version: "6.5.2721"},
			&upgrade.Func{StepID: "ha-only", Members: []string{"spoke-002-hagw"}, Do: install("spoke-002-hagw")})
		_, err := run(t, fleet, one, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"upgrade_selected_gateway spoke-002-hagw 6.5.2721/6.5.2721"}, writes(fake))
	})
}

func TestCheckDisruptionIsTypedPairGuard(t *testing.T) {
	f := fleetOf(t, "6.5.2721", "", pairOf("a", "6.5.2721"), groupOf("g", 3, "6.5.2721"))
	up := func(ids ...string) upgrade.Snapshot {
		s := upgrade.Snapshot{Members: []upgrade.MemberState{{ID: aviatrix.ControllerID, Role: upgrade.RoleStandby, Healthy: true}}}
		for _, id := range ids {
			s.Members = append(s.Members, upgrade.MemberState{ID: id, Role: upgrade.RoleActive, Healthy: true})
		}
		return s
	}
	snap := up("a", "a-hagw", "g", "g-1", "g-2")
	require.NoError(t, f.CheckDisruption(snap, []string{aviatrix.ControllerID, "a-hagw", "g-1", "g-1"}), "duplicates count once")
	err := f.CheckDisruption(snap, []string{"g-1", "g-2"})
	require.ErrorIs(t, err, aviatrix.ErrPairUnsafe)
	require.ErrorIs(t, err, upgrade.ErrUnsafe)
	var pe *aviatrix.PairError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, []string{"g-1", "g-2"}, pe.Gateways)
	assert.Equal(t, []string{"HA set of g: g-1 and g-2 in one batch (never both members of a pair or group at once)"}, pe.Problems)
	err = f.CheckDisruption(up("a", "g", "g-1", "g-2"), []string{"a"})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, []string{"HA set of a: no other member would forward: a-hagw not observed"}, pe.Problems)
}

// A gateway Member observes its HA peer before Install or Rollback and
// refuses (typed, nothing sent) when the peer is not up and healthy.
func TestGatewayMemberRefusesWhenPeerNotHealthy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5545", 2, func(o *aviatrixtest.Options) {
			o.PreviousVersion, o.GatewayVersion, o.Standalone = "6.6.5224", "6.6.5224", 1
		})
		_, fleet := open(t, fake)
		hagw := memberOf(t, fleet, "spoke-001-hagw")
		rb := hagw.(upgrade.Rollbacker)
		fake.SetGatewayState("spoke-001", "down")
		err := hagw.Install(t.Context(), "6.6.5545")
		require.ErrorIs(t, err, aviatrix.ErrPairUnsafe)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.ErrorContains(t, err, "spoke-001 is down")
		fake.SetGatewayVersion("spoke-001-hagw", "6.6.5545")
		require.ErrorIs(t, rb.Rollback(t.Context(), "6.6.5224"), aviatrix.ErrPairUnsafe)
		fake.SetGatewayVersion("spoke-001-hagw", "6.6.5224")
		require.ErrorIs(t, memberOf(t, fleet, "egress-01").Install(t.Context(), "6.6.5545"), aviatrix.ErrPairUnsafe, "no HA peer: an outage")
		assert.Empty(t, fake.WriteCalls())

		// Version rules too: only to the controller's version, and only
		// from its previous version or its minor.
		fake.SetGatewayState("spoke-001", "up")
		require.ErrorIs(t, hagw.Install(t.Context(), "6.6.5224"), versionpath.ErrGatewayTarget)
		fake.SetGatewayVersion("spoke-001-hagw", "6.5.2721")
		require.ErrorIs(t, hagw.Install(t.Context(), "6.6.5545"), versionpath.ErrGatewayNotConverged)
		assert.Empty(t, fake.WriteCalls())

		// Peer up, gateway on the previous version: sent.
		fake.SetGatewayVersion("spoke-001-hagw", "6.6.5224")
		require.NoError(t, hagw.Install(t.Context(), "6.6.5545"))
		assert.Equal(t, []string{"upgrade_selected_gateway spoke-001-hagw 6.6.5545/6.6.5545"}, writes(fake))
	})
}

// Rollback sends the explicit previous version in software_version and
// version, and refuses a gateway that is not above it.
func TestGatewayRollbackIsExplicit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5545", 1, func(o *aviatrixtest.Options) { o.PreviousVersion = "6.6.5224" })
		c, fleet := open(t, fake)
		rb := memberOf(t, fleet, "spoke-001-hagw").(upgrade.Rollbacker)
		fake.SetGatewayVersion("spoke-001-hagw", "6.6.5224")
		err := rb.Rollback(t.Context(), "6.6.5224")
		require.ErrorIs(t, err, versionpath.ErrNotRollback)
		assert.Empty(t, fake.WriteCalls())

		// Only to the controller's previous version, named explicitly:
		// anything else is refused before a write, typed, naming the
		// gateway and the version.
		fake.SetGatewayVersion("spoke-001-hagw", "6.6.5545")
		for _, to := range []string{"6.6.5000", "6.6.5545", "6.5.2721"} {
			err := rb.Rollback(t.Context(), to)
			require.ErrorIs(t, err, versionpath.ErrRollbackTarget, to)
			var v *versionpath.Violation
			require.ErrorAs(t, err, &v, to)
			assert.Equal(t, versionpath.Violation{Rule: versionpath.RuleControllerFirst, Kind: versionpath.ErrRollbackTarget, Party: versionpath.PartyGateway,
				Name: "spoke-001-hagw", Have: "6.6.5545", Want: "6.6.5224", Target: to}, *v, to)
			assert.ErrorContains(t, err, "spoke-001-hagw", to)
			assert.ErrorContains(t, err, to)
		}
		for _, to := range []string{"", "previous", "latest", "6.6"} {
			require.ErrorIs(t, rb.Rollback(t.Context(), to), aviatrix.ErrVersion, "%q", to)
		}
		assert.Empty(t, fake.WriteCalls())

		require.NoError(t, rb.Rollback(t.Context(), "6.6.5224"))
		<-time.After(5 * time.Minute)
		require.NoError(t, c.RollbackGateways(t.Context(), []string{"spoke-001"}, "6.6.5224"))
		<-time.After(5 * time.Minute)
		assert.Equal(t, []string{
			"upgrade_selected_gateway spoke-001-hagw 6.6.5224/6.6.5224",
			"upgrade_selected_gateway spoke-001 6.6.5224/6.6.5224",
		}, writes(fake), "never the keyword \"previous\"")
		assert.True(t, fake.WriteCalls()[0].OK, "the fake accepts the explicit rollback")
		assert.Equal(t, "6.6.5224", fake.GatewayVersion("spoke-001-hagw"))
		assert.Equal(t, "6.6.5224", fake.GatewayVersion("spoke-001"))
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
		assert.Error(t, c.RollbackGateways(t.Context(), []string{"spoke-001"}, "previous"), "only explicit versions are sent")
	})
}

// The controller hop's safety check and the controller Member's Install
// refuse a hop that is not the next one of the path (skipping a minor, or
// leaving a minor before its latest build), typed, sending nothing.
func TestControllerHopMustBeTheNextHop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5224", 2)
		_, fleet := open(t, fake)
		snap, err := fleet.Observe(t.Context())
		require.NoError(t, err)
		for target, path := range map[string][]string{
			"6.7.1574": {"6.6.5545", "6.7.1574"},                                    // leaves 6.6 before its latest build
			"6.8.1509": {"6.6.5545", "6.7.1574", "6.8.1509"},                        // skips 6.7
			"7.0.1373": {"6.6.5545", "6.7.1574", "6.8.1509", "6.9.349", "7.0.1373"}, // skips minors and a major boundary
		} {
			steps := fleet.ControllerHopSteps(target)
			err := steps[0].(upgrade.SafetyChecker).CheckSafe(snap)
			require.ErrorIs(t, err, aviatrix.ErrHopSkipped, target)
			var he *aviatrix.HopError
			require.ErrorAs(t, err, &he, target)
			assert.Equal(t, aviatrix.HopError{From: "6.6.5224", To: target, Path: path}, *he)

			_, err = run(t, fleet, hand(fleet, aviatrix.EndState{Controller: target, Version: target}, steps...), nil)
			require.ErrorIs(t, err, upgrade.ErrUnsafe, target)
			assert.ErrorContains(t, err, "not the next hop")

			err = memberOf(t, fleet, aviatrix.ControllerID).Install(t.Context(), target)
			require.ErrorIs(t, err, aviatrix.ErrHopSkipped, target)
		}
		// Not in the catalog at all: the path error is kept.
		err = memberOf(t, fleet, aviatrix.ControllerID).Install(t.Context(), "6.6.9999")
		require.ErrorIs(t, err, aviatrix.ErrHopSkipped)
		require.ErrorIs(t, err, versionpath.ErrNotInCatalog)
		// Gateways off the controller's version: the hop rule still applies.
		fake.SetGatewayVersion("spoke-002", "6.6.5200")
		require.ErrorIs(t, memberOf(t, fleet, aviatrix.ControllerID).Install(t.Context(), "6.6.5545"), versionpath.ErrGatewayNotConverged)
		assert.Empty(t, fake.WriteCalls())

		// The next hop is sent.
		fake.SetGatewayVersion("spoke-002", "6.6.5224")
		require.NoError(t, memberOf(t, fleet, aviatrix.ControllerID).Install(t.Context(), "6.6.5545"))
		assert.Equal(t, []string{"upgrade_platform  6.6.5545/6.6.5545"}, writes(fake))
	})
}

// Catching up is limited to gateways on the controller's previous version
// or in its current minor, in PlanUpgrade, in Cluster.Plan (re-planning) and
// in a gateway step's safety check.
func TestCatchUpLimitedToPreviousOrSameMinor(t *testing.T) {
	f := fleetOf(t, "6.7.1574", "6.6.5545", pairOf("a", "6.7.1574"), pairOf("b", "6.6.5545"), pairOf("c", "6.7.1376"), pairOf("d", "6.5.1922"))
	_, err := f.PlanUpgrade(aviatrix.UpgradeRequest{CatchUp: true})
	require.ErrorIs(t, err, versionpath.ErrGatewayNotConverged)
	var pe *aviatrix.PlanError
	require.ErrorAs(t, err, &pe)
	require.Len(t, pe.Problems, 2, "only d and d-hagw: %v", err)
	assert.ErrorContains(t, err, `gateway "d": gateway not on the controller version`)

	g := fleetOf(t, "6.7.1574", "6.6.5545", pairOf("a", "6.7.1574"), pairOf("b", "6.6.5545"), pairOf("c", "6.7.1376"))
	p, err := g.PlanUpgrade(aviatrix.UpgradeRequest{CatchUp: true})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"b-hagw", "c-hagw"}, {"b", "c"}}, squash(p.Phases[0].Batches))

	// Re-planning (upgrade.Planner) keeps CatchUp with the same limit.
	snap := upgrade.Snapshot{Members: []upgrade.MemberState{{ID: aviatrix.ControllerID, Version: "6.7.1574"}, {ID: "d", Version: "6.5.1922"}}}
	_, err = f.Plan(snap, "6.7.1574")
	require.ErrorIs(t, err, versionpath.ErrGatewayNotConverged)

	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5545", 2, func(o *aviatrixtest.Options) { o.PreviousVersion = "6.6.5224" })
		fake.SetGatewayVersion("spoke-001-hagw", "6.5.2721")
		_, fleet := open(t, fake)
		steps := fleet.GatewayBatchSteps("6.6.5545", 1, "spoke-001-hagw")
		snap, err := fleet.Observe(t.Context())
		require.NoError(t, err)
		require.ErrorIs(t, steps[0].(upgrade.SafetyChecker).CheckSafe(snap), versionpath.ErrGatewayNotConverged)
		_, err = run(t, fleet, hand(fleet, aviatrix.EndState{Version: "6.6.5545", Gateways: []string{"spoke-001-hagw"}}, steps...), nil)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.Empty(t, fake.WriteCalls())

		// From the previous version it is caught up.
		fake.SetGatewayVersion("spoke-001-hagw", "6.6.5224")
		rep, err := run(t, fleet, hand(fleet, aviatrix.EndState{Version: "6.6.5545", Gateways: []string{"spoke-001-hagw"}}, steps...), nil)
		require.NoError(t, err, rep.Markdown())
		assert.Equal(t, "6.6.5545", fake.GatewayVersion("spoke-001-hagw"))
	})
}

// squash merges consecutive one-gateway batches of HA members and of
// primaries, to compare batch lists regardless of BatchSize.
func squash(bs [][]string) [][]string {
	var ha, prim []string
	for _, b := range bs {
		for _, n := range b {
			if len(n) > 5 && n[len(n)-5:] == "-hagw" {
				ha = append(ha, n)
			} else {
				prim = append(prim, n)
			}
		}
	}
	return [][]string{ha, prim}
}

// A gateway without an HA peer is upgraded only by a step that declares
// downtime (AllowOutage); the pair guard leaves that step out and it runs.
func TestEndToEndOutageStepRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5545", 1, func(o *aviatrixtest.Options) {
			o.PreviousVersion, o.GatewayVersion, o.Standalone = "6.6.5224", "6.6.5224", 1
		})
		_, fleet := open(t, fake)
		p, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{AllowOutage: true, CatchUp: true})
		require.NoError(t, err)
		rep, err := run(t, fleet, p.Plan, nil)
		require.NoError(t, err, rep.Markdown())
		assert.True(t, rep.Downtime)
		assert.Equal(t, "6.6.5545", fake.GatewayVersion("egress-01"))
		assert.Equal(t, map[string]int{"egress-01": fake.ProbeSummary().LostBySet["egress-01"]}, fake.ProbeSummary().LostBySet, "only the standalone gateway lost traffic")
	})
}
