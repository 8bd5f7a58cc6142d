package aviatrix_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/upgrade"
)

// BenchmarkPlan10000Gateways plans a two-hop upgrade (6.5.2721 -> 6.6.5545
// -> 6.7.1574) of 5,000 classic pairs (10,000 gateways) with 50 gateways per
// batch, and validates it with upgrade.ValidatePlan. The fleet (topology) is
// built once; each iteration is plan + validate.
func BenchmarkPlan10000Gateways(b *testing.B) {
	f := bigFleet(b)
	b.ReportAllocs()
	for b.Loop() {
		p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.7.1574", BatchSize: 50})
		if err != nil {
			b.Fatal(err)
		}
		if err := upgrade.ValidatePlan(f, p.Plan); err != nil {
			b.Fatal(err)
		}
		if len(p.Hops) != 2 || len(p.Phases[1].Batches) != 200 {
			b.Fatalf("unexpected plan: %d hops, %d batches", len(p.Hops), len(p.Phases[1].Batches))
		}
	}
}

// BenchmarkPlan10000GatewaysSerial is the worst case: one gateway per batch
// (20,000 batches per hop, 80,000 steps).
func BenchmarkPlan10000GatewaysSerial(b *testing.B) {
	f := bigFleet(b)
	b.ReportAllocs()
	for b.Loop() {
		p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.7.1574"})
		if err != nil {
			b.Fatal(err)
		}
		if err := upgrade.ValidatePlan(f, p.Plan); err != nil {
			b.Fatal(err)
		}
	}
}

// worstCatalog has the latest build of every minor from 6.5 to 7.2, so an
// upgrade from 6.5.2721 to 7.2.4820 walks all seven hops.
var worstCatalog = []string{"6.5.2721", "6.6.5545", "6.7.1574", "6.8.1509", "6.9.349", "7.0.1373", "7.1.4101", "7.2.4820"}

// worstFleet is 10,000 gateways in 5,000 classic pairs on 6.5.2721.
func worstFleet(tb testing.TB) *aviatrix.Cluster {
	tb.Helper()
	inv := &aviatrix.Inventory{Controller: aviatrix.VersionInfo{Current: "6.5.2721"}, Releases: worstCatalog}
	for i := range 5000 {
		inv.Gateways = append(inv.Gateways, pairOf(fmt.Sprintf("spoke-%05d", i), "6.5.2721")...)
	}
	f, err := aviatrix.NewCluster(nil, inv, aviatrix.ClusterOptions{Name: "big"})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// BenchmarkPlanWorstCase is the worst realistic plan: the default batch
// size (one gateway per batch) over the whole 6.5 -> 7.2 path (seven
// controller hops) for 10,000 gateways in 5,000 pairs: 70,000 batches,
// 140,014 steps, planned and validated (upgrade.ValidatePlan) per
// iteration. Budget: under 100 ms and 50 MB per iteration on two cores.
func BenchmarkPlanWorstCase(b *testing.B) {
	f := worstFleet(b)
	b.ReportAllocs()
	for b.Loop() {
		p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "7.2.4820"})
		if err != nil {
			b.Fatal(err)
		}
		if err := upgrade.ValidatePlan(f, p.Plan); err != nil {
			b.Fatal(err)
		}
		if len(p.Hops) != 7 || len(p.Steps) != 140014 {
			b.Fatalf("unexpected plan: %d hops, %d steps", len(p.Hops), len(p.Steps))
		}
	}
}

// TestPlanWorstCaseMemoryBudget keeps BenchmarkPlanWorstCase's allocation
// budget (plan + validate of 140,014 steps under 50 MB) as a regression
// test; the time budget is the benchmark's, not asserted here.
func TestPlanWorstCaseMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("plans 10,000 gateways")
	}
	f := worstFleet(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "7.2.4820"})
	require.NoError(t, err)
	require.NoError(t, upgrade.ValidatePlan(f, p.Plan))
	runtime.ReadMemStats(&after)
	require.Len(t, p.Steps, 140014)
	mb := float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20)
	t.Logf("plan + validate allocated %.1f MB", mb)
	assert.Less(t, mb, 50.0)
}

// bigFleet is the benchmarks' fleet: 5,000 classic pairs (10,000 gateways)
// on 6.5.2721, planning only (no client).
func bigFleet(b *testing.B) *aviatrix.Cluster {
	b.Helper()
	inv := &aviatrix.Inventory{Controller: aviatrix.VersionInfo{Current: "6.5.2721"}, Releases: catalog}
	for i := range 5000 {
		inv.Gateways = append(inv.Gateways, pairOf(fmt.Sprintf("spoke-%05d", i), "6.5.2721")...)
	}
	f, err := aviatrix.NewCluster(nil, inv, aviatrix.ClusterOptions{Name: "big"})
	if err != nil {
		b.Fatal(err)
	}
	return f
}
