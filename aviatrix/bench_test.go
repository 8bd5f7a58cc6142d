package aviatrix_test

import (
	"fmt"
	"testing"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/upgrade"
)

// BenchmarkPlan10000Gateways plans a two-hop upgrade (6.5.2721 -> 6.6.5545
// -> 6.7.1574) of 5,000 classic pairs (10,000 gateways) with 50 gateways per
// batch, and validates it with upgrade.ValidatePlan. The fleet (topology) is
// built once; each iteration is plan + validate.
func BenchmarkPlan10000Gateways(b *testing.B) {
	inv := &aviatrix.Inventory{Controller: aviatrix.VersionInfo{Current: "6.5.2721"}, Releases: catalog}
	for i := range 5000 {
		inv.Gateways = append(inv.Gateways, pairOf(fmt.Sprintf("spoke-%05d", i), "6.5.2721")...)
	}
	f, err := aviatrix.NewFleet(nil, inv, aviatrix.FleetOptions{Name: "big"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.7.1574", MaxParallel: 50})
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
	inv := &aviatrix.Inventory{Controller: aviatrix.VersionInfo{Current: "6.5.2721"}, Releases: catalog}
	for i := range 5000 {
		inv.Gateways = append(inv.Gateways, pairOf(fmt.Sprintf("spoke-%05d", i), "6.5.2721")...)
	}
	f, err := aviatrix.NewFleet(nil, inv, aviatrix.FleetOptions{Name: "big"})
	if err != nil {
		b.Fatal(err)
	}
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
