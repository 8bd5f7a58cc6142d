package upgrade_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// A rolling upgrade of a fake active/standby pair whose members reboot
// instantly: plan from a snapshot, then run with the guard and gates.
func ExampleRolling() {
	ctx := context.Background()
	c := upgradetest.Pair("fw1", "1.0", 0)
	snap, _ := c.Observe(ctx)
	timing := upgrade.Timing{Interval: time.Millisecond, Deadline: time.Second}
	plan, err := upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}, GateTiming: timing}.Plan(snap, "1.1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(plan.Render())
	rep, err := (&upgrade.Executor{}).Run(ctx, c, plan)
	fmt.Println("ok:", rep.OK, "err:", err, "versions:", rep.FinalVersions)
	// Output:
	// Plan for cluster fw1 -> 1.1 (6 steps)
	//   1. install:fw1-b@1.1                  install 1.1 on fw1-b [disrupts fw1-b]
	//   2. wait:fw1-b@1.1                     wait until fw1-b is back on 1.1, healthy and in sync
	//   3. failover:to:fw1-b                  fail over to fw1-b (upgraded)
	//   4. wait:active:fw1-b                  wait until fw1-b forwards as the active member
	//   5. install:fw1-a@1.1                  install 1.1 on fw1-a [disrupts fw1-a]
	//   6. wait:fw1-a@1.1                     wait until fw1-a is back on 1.1, healthy and in sync
	// ok: true err: <nil> versions: map[fw1-a:1.1 fw1-b:1.1]
}

// The availability guard refuses a hand-written step that would take down
// the only forwarding member.
func ExampleCheckAvailability() {
	snap := upgrade.Snapshot{Cluster: "fw1", Members: []upgrade.MemberState{
		{ID: "a", Role: upgrade.RoleActive, Healthy: true},
		{ID: "b", Role: upgrade.RoleDown},
	}}
	fmt.Println(upgrade.CheckAvailability(snap, []string{"b"}))
	fmt.Println(upgrade.CheckAvailability(snap, []string{"a"}))
	// Output:
	// <nil>
	// no other member forwards: b is down (healthy=false)
}

// A dry run renders the plan and runs read-only pre-checks; nothing is
// installed.
func ExampleExecutor_dryRun() {
	ctx := context.Background()
	c := upgradetest.Pair("fw1", "1.0", 0)
	snap, _ := c.Observe(ctx)
	plan, _ := upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}}.Plan(snap, "1.1")
	rep, err := (&upgrade.Executor{DryRun: true}).Run(ctx, c, plan)
	fmt.Println(err, rep.DryRun, rep.Steps[0].Name, rep.Steps[0].Status, c.CountCalls("install", ""))
	// Output:
	// <nil> true install:fw1-b@1.1 planned 0
}
