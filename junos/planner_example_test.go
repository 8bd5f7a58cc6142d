package junos_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/junos/junostest"
	"github.com/hitless/hitless/upgrade"
)

// ExamplePlanner upgrades a simulated vSRX chassis cluster (node0 primary
// of RG0 and RG1, RG1 preempt on) from 21.4R3-S5.4 to 22.4R3-S2 with the
// minimal-downtime procedure: stage and reboot node1, fail RG1 then RG0
// over to it, wait out the RG0 hold-down, upgrade node0 the same way,
// reset the manual failovers.
func ExamplePlanner() {
	sim, err := junostest.Start(junostest.Options{Preempt: []int{1},
		RebootDelay: 20 * time.Millisecond, RebootDuration: 200 * time.Millisecond, FailoverGap: 100 * time.Millisecond,
		HoldDown: 200 * time.Millisecond, ColdSync: 100 * time.Millisecond, ProbeEvery: 5 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	dir, err := os.MkdirTemp("", "junos-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	pkg, err := junostest.WritePackage(dir, "22.4R3-S2")
	if err != nil {
		panic(err)
	}
	n := sim.Nodes()
	cfg := junos.Config{
		Name:           "vsrx-ha",
		Nodes:          [2]junos.Address{{Host: n[0].Host(), Port: n[0].Port()}, {Host: n[1].Host(), Port: n[1].Port()}},
		Username:       sim.Username(),
		Password:       sim.Password(),
		KnownHostsFile: sim.KnownHostsFile(),
		PackagePath:    pkg,
		ArtifactsDir:   dir,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := junos.New(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	snap, err := c.Observe(ctx)
	if err != nil {
		panic(err)
	}
	gate := upgrade.Timing{Interval: 20 * time.Millisecond, MinHealthy: 40 * time.Millisecond, Deadline: 20 * time.Second}
	plan, err := junos.Planner{Cluster: c, GateTiming: gate}.Plan(snap, "22.4R3-S2")
	if err != nil {
		panic(err)
	}
	for _, id := range plan.StepIDs() {
		fmt.Println(id)
	}
	rep, err := (&upgrade.Executor{Redact: cfg.Secrets()}).Run(ctx, c, plan)
	if err != nil {
		panic(err)
	}
	sim.Probe().Stop()
	fmt.Println("ok:", rep.OK, "node0:", n[0].Version(), "node1:", n[1].Version())
	fmt.Println("failovers RG0, RG1:", sim.Failovers(0), sim.Failovers(1), "lost ticks:", sim.Probe().LostTicks(), "RG1 preempt:", sim.Preempt(1))
	// Output:
	// export-config@22.4R3-S2
	// preempt-off@22.4R3-S2
	// stage:node1@22.4R3-S2
	// reboot:node1@22.4R3-S2
	// wait:node1@22.4R3-S2
	// failover:RG1:to:node1@22.4R3-S2
	// failover:RG0:to:node1@22.4R3-S2
	// wait:swapped:node1@22.4R3-S2
	// stage:node0@22.4R3-S2
	// reboot:node0@22.4R3-S2
	// wait:node0@22.4R3-S2
	// failover-reset@22.4R3-S2
	// postcheck@22.4R3-S2
	// ok: true node0: 22.4R3-S2 node1: 22.4R3-S2
	// failovers RG0, RG1: 1 1 lost ticks: 0 RG1 preempt: false
}
