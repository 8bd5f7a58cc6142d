package aviatrix_test

import (
	"context"
	"fmt"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
)

// Planning is pure: an inventory (normally read by Open) and a request
// give the hops and batches, with every rule checked.
func ExampleCluster_PlanUpgrade() {
	inv := &aviatrix.Inventory{
		Controller: aviatrix.VersionInfo{Current: "6.5.2721"},
		Releases:   []string{"6.5.2721", "6.6.5224", "6.6.5545", "6.7.1376", "6.7.1574"},
		Gateways: []aviatrix.Gateway{
			{Name: "spoke-1", Version: "6.5.2721", State: "up"},
			{Name: "spoke-1-hagw", Version: "6.5.2721", State: "up", IsHA: true, Primary: "spoke-1"},
			{Name: "spoke-2", Version: "6.5.2721", State: "up"},
			{Name: "spoke-2-hagw", Version: "6.5.2721", State: "up", IsHA: true, Primary: "spoke-2"},
		},
	}
	fleet, err := aviatrix.NewCluster(nil, inv, aviatrix.ClusterOptions{Name: "prod"})
	if err != nil {
		panic(err)
	}
	plan, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.7", BatchSize: 2})
	if err != nil {
		panic(err)
	}
	fmt.Println("hops:", plan.Hops)
	for _, ph := range plan.Phases {
		fmt.Println(ph.Version, ph.Batches)
	}

	// Splitting a pair into one batch is refused before anything runs.
	_, err = fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", Batches: [][]string{{"spoke-1-hagw", "spoke-1"}}})
	fmt.Println(err != nil)
	// Output:
	// hops: [6.6.5545 6.7.1574]
	// 6.6.5545 [[spoke-1-hagw spoke-2-hagw] [spoke-1 spoke-2]]
	// 6.7.1574 [[spoke-1-hagw spoke-2-hagw] [spoke-1 spoke-2]]
	// true
}

// A complete run against the fake controller over TLS on loopback, as
// examples/quickstart does it.
func Example() {
	opts := aviatrixtest.Options{ControllerVersion: "6.6.5224", Pairs: 2, Groups: 1}
	aviatrixtest.Fast(&opts) // millisecond durations
	fake, err := aviatrixtest.Start(opts)
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	ctx := context.Background()
	client, err := aviatrix.NewClient(fake.ClientConfig()) // URL, CA pool, credentials
	if err != nil {
		panic(err)
	}
	fleet, err := aviatrix.Open(ctx, client, aviatrix.ClusterOptions{Name: "demo", Waits: aviatrixtest.FastTiming()})
	if err != nil {
		panic(err)
	}
	plan, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 2})
	if err != nil {
		panic(err)
	}
	rep, err := (&upgrade.Executor{}).Run(ctx, fleet, plan.Plan)
	if err != nil {
		panic(err)
	}
	fmt.Println("ok:", rep.OK, "controller:", fake.ControllerVersion(), "lost ticks:", fake.ProbeSummary().LostTicks)
	// Output:
	// ok: true controller: 6.6.5545 lost ticks: 0
}
