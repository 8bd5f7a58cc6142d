package aviatrix_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

var catalog = []string{"6.5.1922", "6.5.2721", "6.6.5224", "6.6.5545", "6.7.1376", "6.7.1574", "6.8.1509"}

func gw(name, version string, mods ...func(*aviatrix.Gateway)) aviatrix.Gateway {
	g := aviatrix.Gateway{Name: name, Version: version, State: "up", UpdateStatus: "complete", Cloud: aviatrix.CloudAWS,
		Region: "us-east-1", Account: "aws-prod", Type: aviatrix.TypeSpoke}
	for _, m := range mods {
		m(&g)
	}
	return g
}

func pairOf(name, version string, mods ...func(*aviatrix.Gateway)) []aviatrix.Gateway {
	ha := gw(name+"-hagw", version, mods...)
	ha.IsHA, ha.Primary = true, name
	return []aviatrix.Gateway{gw(name, version, mods...), ha}
}

func groupOf(name string, size int, version string) []aviatrix.Gateway {
	tr := func(g *aviatrix.Gateway) {
		g.Type, g.Cloud, g.Region, g.Group, g.Account = aviatrix.TypeTransit, aviatrix.CloudAzure, "eastus", name+"-grp", "azure-prod"
	}
	out := []aviatrix.Gateway{gw(name, version, tr)}
	for i := 1; i < size; i++ {
		h := gw(fmt.Sprintf("%s-%d", name, i), version, tr)
		h.IsHA, h.Primary = true, name
		out = append(out, h)
	}
	return out
}

func fleetOf(t testing.TB, ctl, prev string, gws ...[]aviatrix.Gateway) *aviatrix.Cluster {
	t.Helper()
	inv := &aviatrix.Inventory{Controller: aviatrix.VersionInfo{Current: ctl, Previous: prev}, Releases: catalog}
	for _, g := range gws {
		inv.Gateways = append(inv.Gateways, g...)
	}
	f, err := aviatrix.NewCluster(nil, inv, aviatrix.ClusterOptions{Name: "t"})
	require.NoError(t, err)
	return f
}

func TestPlanShape(t *testing.T) {
	f := fleetOf(t, "6.5.2721", "", pairOf("spoke-1", "6.5.2721"), pairOf("spoke-2", "6.5.2721"), groupOf("transit-1", 3, "6.5.2721"))
	p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{"6.6.5545"}, p.Hops)
	require.Len(t, p.Phases, 1)
	assert.Equal(t, [][]string{
		{"spoke-1-hagw", "spoke-2-hagw"}, {"transit-1-1"}, // HA members first…
		{"spoke-1", "spoke-2"}, {"transit-1-2"}, // …one member per set per batch…
		{"transit-1"}, // …primaries last.
	}, p.Phases[0].Batches)
	ids := p.StepIDs()
	assert.Equal(t, "controller@6.6.5545", ids[0])
	assert.Equal(t, "wait:controller@6.6.5545", ids[1])
	assert.Len(t, ids, 2+2*5)
	assert.True(t, strings.HasPrefix(ids[2], "gateways@6.6.5545/b001-"), ids[2])
	assert.Equal(t, "wait:"+ids[2], ids[3])
	assert.Equal(t, []string{aviatrix.ControllerID}, p.Steps[0].Disrupts())
	assert.Equal(t, []string{"spoke-1-hagw", "spoke-2-hagw"}, p.Steps[2].Disrupts())
	require.NoError(t, upgrade.ValidatePlan(f, p.Plan))
	require.Len(t, p.Warnings, 1)
	assert.Contains(t, p.Warnings[0], "AVX-20109", "6.5 -> 6.6 caveat surfaced")

	// Deterministic.
	p2, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 2})
	require.NoError(t, err)
	assert.Equal(t, p.Fingerprint(), p2.Fingerprint())
}

func TestPlanMultiHopAndTargetResolution(t *testing.T) {
	f := fleetOf(t, "6.5.1922", "", pairOf("spoke-1", "6.5.1922"))
	p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.7"})
	require.NoError(t, err)
	assert.Equal(t, "6.7.1574", p.To, "bare minor resolves to its latest build, explicitly")
	assert.Equal(t, []string{"6.5.2721", "6.6.5545", "6.7.1574"}, p.Hops, "latest build of the current minor, then each minor")
	var ctl []string
	for _, id := range p.StepIDs() {
		if strings.HasPrefix(id, "controller@") {
			ctl = append(ctl, id)
		}
	}
	assert.Equal(t, []string{"controller@6.5.2721", "controller@6.6.5545", "controller@6.7.1574"}, ctl)
	require.Len(t, p.Warnings, 2)
	assert.Contains(t, p.Warnings[0], "AVX-20109")
	assert.Contains(t, p.Warnings[1], "AVX-29183")
	for _, s := range p.Steps {
		assert.NotContains(t, s.Description(), "latest")
	}
}

func TestPlanCatchUpAndGroups(t *testing.T) {
	// Gateways behind the controller are first brought to its version;
	// groups are upgraded in order.
	east := func(g *aviatrix.Gateway) { g.Region = "us-east-1" }
	west := func(g *aviatrix.Gateway) { g.Region = "us-west-2" }
	f := fleetOf(t, "6.5.2721", "6.5.1922", pairOf("a", "6.5.1922", west), pairOf("b", "6.5.1922", east), pairOf("c", "6.5.2721", west))
	// Without CatchUp the documented pre-check refuses lagging gateways.
	_, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Groups: []aviatrix.Selector{{Region: "us-east-1"}, {}}, BatchSize: 5})
	require.ErrorIs(t, err, versionpath.ErrGatewayNotConverged)
	assert.Contains(t, err.Error(), "gateway a runs 6.5.1922")
	p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Groups: []aviatrix.Selector{{Region: "us-east-1"}, {}}, BatchSize: 5, CatchUp: true})
	require.NoError(t, err)
	assert.Empty(t, p.Hops)
	require.Len(t, p.Phases, 1)
	assert.Equal(t, aviatrix.Phase{Version: "6.5.2721", Batches: [][]string{{"b-hagw"}, {"b"}, {"a-hagw"}, {"a"}}}, p.Phases[0])

	// Re-planning after part of the work keeps step IDs (journal resume).
	full, err := fleetOf(t, "6.5.1922", "", pairOf("a", "6.5.1922"), pairOf("b", "6.5.1922")).PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 2})
	require.NoError(t, err)
	mid := fleetOf(t, "6.5.2721", "6.5.1922", pairOf("a", "6.5.1922"), []aviatrix.Gateway{gw("b", "6.5.1922"), {Name: "b-hagw", Version: "6.5.2721", IsHA: true, Primary: "b", State: "up"}})
	rest, err := mid.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 2, CatchUp: true})
	require.NoError(t, err)
	assert.True(t, isSubsequence(rest.StepIDs(), full.StepIDs()), "%v\nnot in\n%v", rest.StepIDs(), full.StepIDs())
	assert.Less(t, len(rest.Steps), len(full.Steps))
}

func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}

// Batches never hold two members of one HA set, and HA members always come
// before their primary, for any batch size.
func TestPlanBatchInvariants(t *testing.T) {
	f := fleetOf(t, "6.5.2721", "", pairOf("p1", "6.5.2721"), pairOf("p2", "6.5.2721"), groupOf("g1", 4, "6.5.2721"), groupOf("g2", 2, "6.5.2721"), pairOf("p3", "6.5.2721"))
	for _, par := range []int{1, 2, 3, 7, 100} {
		p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: par})
		require.NoError(t, err)
		seen := map[string]int{}
		for bi, b := range p.Phases[0].Batches {
			assert.LessOrEqual(t, len(b), par)
			sets := map[string]bool{}
			for _, n := range b {
				s, ok := f.SetOf(n)
				require.True(t, ok)
				assert.False(t, sets[s.Primary], "two members of %s in batch %d", s.Primary, bi)
				sets[s.Primary] = true
				seen[n] = bi
			}
		}
		assert.Len(t, seen, 12)
		for _, s := range f.Sets() {
			for _, h := range s.HA {
				assert.Less(t, seen[h], seen[s.Primary], "%s before %s (BatchSize %d)", h, s.Primary, par)
			}
		}
	}
}

func TestPlanRefusals(t *testing.T) {
	base := func() *aviatrix.Cluster {
		return fleetOf(t, "6.6.5224", "6.5.2721", pairOf("spoke-1", "6.6.5224"), pairOf("spoke-2", "6.6.5224"))
	}
	for _, tc := range []struct {
		name string
		f    *aviatrix.Cluster
		req  aviatrix.UpgradeRequest
		want []error
	}{
		{"target behind current", base(), aviatrix.UpgradeRequest{Target: "6.5.2721"},
			[]error{versionpath.ErrControllerRollback, versionpath.ErrDowngrade}},
		{"skipping a minor", base(), aviatrix.UpgradeRequest{Target: "6.8.1509", Catalog: []string{"6.6.5545", "6.8.1509"}},
			[]error{versionpath.ErrMissingMinor}},
		{"target not in catalog", base(), aviatrix.UpgradeRequest{Target: "6.7.9999"}, []error{versionpath.ErrNotInCatalog}},
		{"8.x target", base(), aviatrix.UpgradeRequest{Target: "8.0.0-1000.2432"}, []error{aviatrix.ErrUnsupportedVersion}},
		{"gateway ahead of controller", fleetOf(t, "6.6.5224", "", pairOf("spoke-1", "6.6.5224"), []aviatrix.Gateway{gw("x", "6.6.5545"), {Name: "x-hagw", Version: "6.6.5224", IsHA: true, Primary: "x", State: "up"}}),
			aviatrix.UpgradeRequest{Target: "6.6.5545"}, []error{versionpath.ErrGatewayAhead}},
		{"unselected gateway not on the controller version before the next hop", base(),
			aviatrix.UpgradeRequest{Target: "6.7.1574", Groups: []aviatrix.Selector{{Names: []string{"spoke-1*"}}}},
			[]error{versionpath.ErrGatewayNotConverged}},
		{"lagging unselected gateway", fleetOf(t, "6.6.5224", "", pairOf("spoke-1", "6.6.5224"), pairOf("spoke-2", "6.5.2721")),
			aviatrix.UpgradeRequest{Target: "6.6.5545", Groups: []aviatrix.Selector{{Names: []string{"spoke-1", "spoke-1-hagw"}}}},
			[]error{versionpath.ErrGatewayNotConverged}},
		{"explicit batch with both pair members", base(), aviatrix.UpgradeRequest{Target: "6.6.5545",
			Batches: [][]string{{"spoke-1-hagw", "spoke-1"}, {"spoke-2-hagw"}, {"spoke-2"}}}, []error{aviatrix.ErrBadBatch}},
		{"explicit batch with primary before its HA", base(), aviatrix.UpgradeRequest{Target: "6.6.5545",
			Batches: [][]string{{"spoke-1", "spoke-2-hagw"}, {"spoke-1-hagw", "spoke-2"}}}, []error{aviatrix.ErrBadBatch}},
		{"explicit batch unknown/duplicate/too big", base(), aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 1,
			Batches: [][]string{{"nope"}, {"spoke-1-hagw"}, {"spoke-1-hagw"}, {"spoke-2-hagw", "spoke-1"}, {}}}, []error{aviatrix.ErrBadBatch}},
		{"groups that put a primary before its HA", base(), aviatrix.UpgradeRequest{Target: "6.6.5545",
			Groups: []aviatrix.Selector{{Names: []string{"spoke-1"}}, {}}}, []error{aviatrix.ErrBadBatch}},
		{"selector naming an unknown gateway", base(), aviatrix.UpgradeRequest{Groups: []aviatrix.Selector{{Names: []string{"ghost", "[bad"}}}},
			[]error{aviatrix.ErrInventory}},
		{"standalone gateway", fleetOf(t, "6.6.5224", "", pairOf("spoke-1", "6.6.5224"), []aviatrix.Gateway{gw("solo", "6.6.5224")}),
			aviatrix.UpgradeRequest{Target: "6.6.5545"}, []error{aviatrix.ErrOutage}},
		{"tagged gateway version", fleetOf(t, "6.6.5224", "", pairOf("spoke-1", "6.6.5224"), pairOf("old", "6.3-patch.2309")),
			aviatrix.UpgradeRequest{Target: "6.6.5545"}, []error{aviatrix.ErrUnsupportedVersion}},
		{"8.x controller", fleetOf(t, "8.0.0-1000.2432", "", pairOf("spoke-1", "6.6.5224")), aviatrix.UpgradeRequest{},
			[]error{aviatrix.ErrUnsupportedVersion}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.f.PlanUpgrade(tc.req)
			require.Error(t, err)
			var pe *aviatrix.PlanError
			require.ErrorAs(t, err, &pe)
			assert.ErrorIs(t, err, aviatrix.ErrPlan)
			assert.ErrorIs(t, err, upgrade.ErrInvalid)
			for _, w := range tc.want {
				assert.ErrorIs(t, err, w)
			}
			t.Log(err)
		})
	}
}

func TestPlanReportsEverythingAtOnce(t *testing.T) {
	f := fleetOf(t, "6.6.5224", "", pairOf("spoke-1", "6.6.5224"), []aviatrix.Gateway{gw("solo", "6.6.5545")}, pairOf("x", "8.0.0-1000.2432"))
	_, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", Batches: [][]string{{"spoke-1", "spoke-1-hagw"}}})
	var pe *aviatrix.PlanError
	require.ErrorAs(t, err, &pe)
	for _, w := range []error{aviatrix.ErrUnsupportedVersion, aviatrix.ErrBadBatch, versionpath.ErrGatewayAhead} {
		assert.ErrorIs(t, err, w)
	}
	assert.GreaterOrEqual(t, len(pe.Problems), 4)
}

func TestPlanOutageAllowed(t *testing.T) {
	f := fleetOf(t, "6.6.5224", "", pairOf("spoke-1", "6.6.5224"), []aviatrix.Gateway{gw("solo", "6.6.5224")})
	p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", AllowOutage: true, BatchSize: 4})
	require.NoError(t, err)
	assert.Equal(t, []string{"solo"}, p.Outages)
	assert.Equal(t, [][]string{{"spoke-1-hagw"}, {"spoke-1"}, {"solo"}}, p.Phases[0].Batches)
	last := p.Steps[len(p.Steps)-2]
	dd, ok := last.(upgrade.DowntimeDeclarer)
	require.True(t, ok)
	assert.True(t, dd.Downtime())
	assert.Contains(t, p.Render(), "[DOWNTIME]")
}

func TestPlanRollback(t *testing.T) {
	f := fleetOf(t, "6.6.5545", "6.6.5224", pairOf("spoke-1", "6.6.5545"), groupOf("tr", 3, "6.6.5545"), pairOf("done", "6.6.5224"))
	p, err := f.PlanRollback(aviatrix.RollbackRequest{BatchSize: 2})
	require.NoError(t, err)
	assert.Equal(t, "6.6.5224", p.To)
	// Batches are built over every gateway (the pair "done" included) so
	// that step IDs survive a crash; gateways already back get no step.
	assert.Equal(t, [][]string{{"spoke-1-hagw"}, {"tr-1"}, {"spoke-1"}, {"tr-2"}, {"tr"}}, p.Phases[0].Batches, "one member of a set at a time, HA first; gateways already back skipped")
	assert.True(t, strings.HasPrefix(p.StepIDs()[0], "rollback@6.6.5224/"))

	// Beyond previous, no previous, upward.
	_, err = f.PlanRollback(aviatrix.RollbackRequest{To: "6.5.2721"})
	assert.ErrorIs(t, err, versionpath.ErrRollbackTarget)
	_, err = fleetOf(t, "6.6.5545", "", pairOf("spoke-1", "6.6.5545")).PlanRollback(aviatrix.RollbackRequest{})
	assert.ErrorIs(t, err, versionpath.ErrNoPrevious)
	_, err = fleetOf(t, "6.6.5545", "6.6.5224", pairOf("spoke-1", "6.6.5224")).PlanRollback(aviatrix.RollbackRequest{Groups: []aviatrix.Selector{{}}, To: "6.6.5545"})
	assert.ErrorIs(t, err, versionpath.ErrRollbackTarget)
	_, err = f.PlanRollback(aviatrix.RollbackRequest{Batches: [][]string{{"spoke-1", "spoke-1-hagw"}}})
	assert.ErrorIs(t, err, aviatrix.ErrBadBatch)
}

func TestInventorySets(t *testing.T) {
	inv := &aviatrix.Inventory{Controller: aviatrix.VersionInfo{Current: "7.1.1794"}, Gateways: []aviatrix.Gateway{
		{Name: "a"}, {Name: "a-hagw"}, // suffix only, no is_hagw flag
		{Name: "b"}, {Name: "b-ha-x", Primary: "b"}, // primary_gw_name only
		{Name: "g"}, {Name: "g-1", Group: "grp", IsHA: true}, {Name: "g-2", Group: "grp", IsHA: true, Primary: "g"}, // group_name ties g-1 in
		{Name: "solo"}, {Name: "x-hagw"}, // a "-hagw" name whose prefix is not listed is a standalone gateway
	}}
	sets, err := inv.Sets()
	require.NoError(t, err)
	assert.Equal(t, []aviatrix.HASet{
		{Primary: "a", HA: []string{"a-hagw"}},
		{Primary: "b", HA: []string{"b-ha-x"}},
		{Primary: "g", HA: []string{"g-1", "g-2"}, Group: "grp"},
		{Primary: "solo"},
		{Primary: "x-hagw"},
	}, sets)

	bad := &aviatrix.Inventory{Gateways: []aviatrix.Gateway{
		{Name: "p1", Group: "grp"}, {Name: "p2", Group: "grp"}, // two primaries
		{Name: "h", IsHA: true, Primary: "ghost"}, // unknown primary
		{Name: "dup"}, {Name: "dup"}, {Name: "bad,name"},
	}}
	_, err = bad.Sets()
	require.ErrorIs(t, err, aviatrix.ErrInventory)
	for _, s := range []string{"2 primaries", "ghost", "listed twice", "malformed name"} {
		assert.Contains(t, err.Error(), s)
	}
	_, err = aviatrix.NewCluster(nil, bad, aviatrix.ClusterOptions{})
	assert.ErrorIs(t, err, aviatrix.ErrInventory)
}

func TestSelector(t *testing.T) {
	g := aviatrix.Gateway{Name: "spoke-7-hagw", Region: "us-east-1", Account: "prod", Cloud: aviatrix.CloudAWS, Type: aviatrix.TypeSpoke}
	for sel, want := range map[string]struct {
		s  aviatrix.Selector
		ok bool
	}{
		"all":          {aviatrix.Selector{}, true},
		"glob":         {aviatrix.Selector{Names: []string{"spoke-*"}}, true},
		"exact":        {aviatrix.Selector{Names: []string{"spoke-7"}}, false},
		"region":       {aviatrix.Selector{Region: "us-east-1", Cloud: aviatrix.CloudAWS}, true},
		"wrong cloud":  {aviatrix.Selector{Cloud: aviatrix.CloudGCP}, false},
		"type+account": {aviatrix.Selector{Type: aviatrix.TypeSpoke, Account: "prod"}, true},
		"wrong type":   {aviatrix.Selector{Type: aviatrix.TypeTransit}, false},
	} {
		assert.Equal(t, want.ok, want.s.Match(g), sel)
	}
}

func TestGatewayState(t *testing.T) {
	for _, tc := range []struct {
		state, update string
		standby       bool
		role          upgrade.Role
		healthy       bool
	}{
		{"up", "complete", false, upgrade.RoleActive, true},
		{"up", "", false, upgrade.RoleActive, true},
		{"up", "complete", true, upgrade.RoleStandby, true},
		{"down", "upgrading", false, upgrade.RoleDown, false},
		{"up", "installing", false, upgrade.RoleDown, false},
		{"up", "upgrade_fail", false, upgrade.RoleDown, false},
		{"waiting", "", false, upgrade.RoleDown, false},
		{"config_fail", "", false, upgrade.RoleDown, false},
		{"up", "weird", false, upgrade.RoleUnknown, false},
		{"", "", false, upgrade.RoleUnknown, false},
	} {
		ms := aviatrix.GatewayState(aviatrix.Gateway{Name: "g", State: tc.state, UpdateStatus: tc.update}, tc.standby)
		assert.Equal(t, tc.role, ms.Role, "%s/%s", tc.state, tc.update)
		assert.Equal(t, tc.healthy, ms.Healthy, "%s/%s", tc.state, tc.update)
	}
}

func TestCheckPairs(t *testing.T) {
	f := fleetOf(t, "6.6.5224", "", pairOf("a", "6.6.5224"), groupOf("g", 3, "6.6.5224"), []aviatrix.Gateway{gw("solo", "6.6.5224")})
	snap := upgrade.Snapshot{Members: []upgrade.MemberState{{ID: aviatrix.ControllerID, Role: upgrade.RoleStandby, Healthy: true}}}
	for _, n := range []string{"a", "a-hagw", "g", "g-1", "g-2", "solo"} {
		snap.Members = append(snap.Members, upgrade.MemberState{ID: n, Role: upgrade.RoleActive, Healthy: true})
	}
	assert.NoError(t, f.CheckPairs(snap, []string{"a-hagw", "g-1"}))
	assert.Error(t, f.CheckPairs(snap, []string{"a", "a-hagw"}), "both pair members")
	assert.Error(t, f.CheckPairs(snap, []string{"g-1", "g-2"}), "two of a group, even with a third up")
	assert.Error(t, f.CheckPairs(snap, []string{"solo"}), "no HA peer")
	assert.Error(t, f.CheckPairs(snap, []string{"ghost"}))
	down := slices.Clone(snap.Members)
	for i := range down {
		if down[i].ID == "a" {
			down[i].Role, down[i].Healthy = upgrade.RoleDown, false
		}
	}
	err := f.CheckPairs(upgrade.Snapshot{Members: down}, []string{"a-hagw"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a is down")
	assert.True(t, errors.Is(f.CheckPairs(snap, []string{aviatrix.ControllerID}), nil))
}

func TestPlanWithoutCatalog(t *testing.T) {
	inv := &aviatrix.Inventory{Controller: aviatrix.VersionInfo{Current: "6.6.5224", Latest: "6.6.5545"}, Gateways: pairOf("a", "6.6.5224")}
	f, err := aviatrix.NewCluster(nil, inv, aviatrix.ClusterOptions{})
	require.NoError(t, err)
	p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6"})
	require.NoError(t, err, "the controller's latest build of its minor is always known")
	assert.Equal(t, []string{"6.6.5545"}, p.Hops)
	_, err = f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.7.1574"})
	require.ErrorIs(t, err, versionpath.ErrNotInCatalog)
	assert.ErrorContains(t, err, "give UpgradeRequest.Catalog")
	p, err = f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.7.1574", Catalog: []string{"UserConnect-6.7.1574"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"6.6.5545", "6.7.1574"}, p.Hops)
}

// Cluster implements upgrade.Planner from a fresh snapshot: after a crash
// between a controller hop and its gateway batches, the gateways still on
// the controller's previous version are caught up. (The fleet now has to
// know that previous version: catching up is limited, see
// TestCatchUpLimitedToPreviousOrSameMinor.)
func TestFleetAsPlanner(t *testing.T) {
	var planner upgrade.Planner = fleetOf(t, "6.6.5545", "6.5.2721", pairOf("a", "6.5.2721"))
	snap := upgrade.Snapshot{Members: []upgrade.MemberState{
		{ID: aviatrix.ControllerID, Version: "6.6.5545"}, {ID: "a", Version: "6.6.5545"}, {ID: "a-hagw", Version: "6.5.2721"},
	}}
	p, err := planner.Plan(snap, "6.6.5545")
	require.NoError(t, err)
	require.Len(t, p.Steps, 2, "only a-hagw is left")
	assert.Equal(t, []string{"a-hagw"}, p.Steps[0].Disrupts())
}
