// Command custom-plan shows how to write your own upgrade plan in Go with
// hitless: a custom pre-check, an approval gate before every disruptive
// step, and the generic rolling steps, run against an in-memory fake
// cluster (package upgradetest) so it needs no device. It prints the plan,
// live progress and the report, including the traffic probe's lost ticks.
//
//	go run ./examples/custom-plan            # approve everything
//	go run ./examples/custom-plan -deny b    # refuse disruptive steps on member b
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

func main() {
	target := flag.String("target", "8.2.1", "version to upgrade to")
	deny := flag.String("deny", "", "member whose disruptive steps the approver refuses")
	reboot := flag.Duration("reboot", 400*time.Millisecond, "simulated reboot time per member")
	flag.Parse()
	if err := run(context.Background(), *target, *deny, *reboot); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, target, deny string, reboot time.Duration) error {
	// 1. The cluster. Here a fake pair; in production a vendor package's
	//    cluster (clavister.New, ...) satisfies the same interface.
	c := upgradetest.NewCluster("edge-fw", 50*time.Millisecond,
		&upgradetest.Member{Name: "a", Version: "8.1.7", Role: upgrade.RoleActive, RebootDuration: reboot},
		&upgradetest.Member{Name: "b", Version: "8.1.7", Role: upgrade.RoleStandby, RebootDuration: reboot},
	)
	snap, err := c.Observe(ctx)
	if err != nil {
		return err
	}

	// 2. The generic rolling steps, then our own step at the end.
	timing := upgrade.Timing{Interval: 50 * time.Millisecond, MinHealthy: 150 * time.Millisecond, Deadline: 10 * time.Second}
	plan, err := upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}, GateTiming: timing}.Plan(snap, target)
	if err != nil {
		return err
	}
	plan.Steps = append(plan.Steps, &upgrade.Func{
		StepID:    "notify:change-closed",
		Desc:      "post the result to the change ticket",
		Retryable: true,
		Do: func(context.Context) error {
			fmt.Println("  (ticket CHG-1234 updated)")
			return nil
		},
	})
	fmt.Print(plan.Render())

	// 3. The executor with a custom pre-check and an approval gate.
	ex := &upgrade.Executor{
		PreChecks: []upgrade.PreCheck{{
			Name: "all members on the same version before we start",
			Check: func(_ context.Context, s upgrade.Snapshot) error {
				vs := slices.Compact(slices.Sorted(func(yield func(string) bool) {
					for _, m := range s.Members {
						if !yield(m.Version) {
							return
						}
					}
				}))
				if len(vs) != 1 {
					return fmt.Errorf("mixed versions %v", vs)
				}
				return nil
			},
		}},
		Approve: func(_ context.Context, st upgrade.Step, s upgrade.Snapshot) error {
			if slices.Contains(st.Disrupts(), deny) {
				return errors.New("operator said no")
			}
			fmt.Printf("  approve %-22s forwarding now: %v\n", st.ID(), s.Forwarding())
			return nil
		},
		OnEvent: func(ev upgrade.Event) {
			switch ev.Kind {
			case upgrade.EventStepStart, upgrade.EventStepFinish, upgrade.EventStepFail, upgrade.EventGuard:
				fmt.Printf("  %-11s %-22s %s%s\n", ev.Kind, ev.Step, ev.Message, errSuffix(ev.Err))
			}
		},
	}
	rep, runErr := ex.Run(ctx, c, plan)
	c.Probe.Stop()
	fmt.Println()
	fmt.Print(rep.Markdown())
	fmt.Printf("\nTraffic probe: %d of %d ticks lost\n", c.Probe.LostTicks(), c.Probe.Ticks())
	return runErr
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return " error: " + e
}
