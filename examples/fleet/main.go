// Command fleet shows a fleet rollout with hitless: six HA pairs in three
// pods (in-memory fakes, so it needs no device), one canary first, then at
// most two clusters at once and never two in the same pod, stopping at the
// first failure. Each cluster runs under its own executor, so the
// availability guard and the journal apply to every one of them.
//
//	go run ./examples/fleet
//	go run ./examples/fleet -fail fw-3   # fw-3's standby never comes back: the rollout halts
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

func main() {
	fail := flag.String("fail", "", "cluster whose standby never comes back from its install")
	flag.Parse()
	if err := run(context.Background(), *fail); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, fail string) error {
	timing := upgrade.Timing{Interval: 20 * time.Millisecond, MinHealthy: 60 * time.Millisecond, Deadline: 2 * time.Second}
	pods := []string{"pod-a", "pod-b", "pod-c"}
	var targets []upgrade.RolloutTarget
	var clusters []*upgradetest.Cluster
	for i := range 6 {
		name := fmt.Sprintf("fw-%d", i)
		c := upgradetest.NewCluster(name, 20*time.Millisecond,
			&upgradetest.Member{Name: name + "a", Version: "8.1.7", Role: upgrade.RoleActive, RebootDuration: 150 * time.Millisecond},
			&upgradetest.Member{Name: name + "b", Version: "8.1.7", Role: upgrade.RoleStandby, RebootDuration: 150 * time.Millisecond, NeverReturns: name == fail},
		)
		clusters = append(clusters, c)
		targets = append(targets, upgrade.RolloutTarget{Cluster: c, Version: "8.2.1", Group: pods[i%len(pods)],
			Planner: upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}, GateTiming: timing}})
	}
	start := time.Now()
	var mu sync.Mutex
	r := &upgrade.Rollout{
		MaxParallelClusters: 2, PerGroup: 1, Canaries: 1, MaxFailures: 1,
		NewExecutor: func(t upgrade.RolloutTarget) *upgrade.Executor {
			return &upgrade.Executor{OnEvent: func(ev upgrade.Event) {
				if ev.Kind == upgrade.EventStepFinish || ev.Kind == upgrade.EventStepFail || ev.Kind == upgrade.EventDone {
					mu.Lock()
					defer mu.Unlock()
					fmt.Printf("%6s  %-5s %-6s %-12s %s%s\n", time.Since(start).Round(10*time.Millisecond), t.Group, ev.Cluster, ev.Kind, ev.Step, errText(ev.Err))
				}
			}}
		},
	}
	rep, err := r.Run(ctx, targets)
	fmt.Println()
	for _, res := range rep.Results {
		fmt.Printf("%-6s %-6s canary=%-5t %-12s %s\n", res.Cluster, res.Group, res.Canary, res.Status, res.Reason)
	}
	lost := 0
	for _, c := range clusters {
		c.Probe.Stop()
		lost += c.Probe.LostTicks()
	}
	fmt.Printf("\nfleet ok=%t in %s; traffic probe ticks lost over all clusters: %d\n", rep.OK, rep.Finished.Sub(rep.Started).Round(10*time.Millisecond), lost)
	return err
}

func errText(e string) string {
	if e == "" {
		return ""
	}
	return "  error: " + e
}
