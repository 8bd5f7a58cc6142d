package junos_test

import (
	"sync"
	"testing"
	"time"

	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/junos/junostest"
	"github.com/hitless/hitless/upgrade"
)

// TestRolloutOneClusterPerPod: IBM Cloud upgrades only one gateway per pod
// at a time. Two simulated clusters of one pod, in a rollout that could
// run two clusters at once, never run at the same time
// (Cluster.RolloutTarget puts Config.Pod in the target's Group; Rollout
// PerGroup defaults to 1); a cluster of another pod may run beside them.
func TestRolloutOneClusterPerPod(t *testing.T) {
	t.Parallel()
	ctx := ctxFor(t, 90*time.Second)
	type span struct{ start, end time.Time }
	var (
		mu    sync.Mutex
		spans = map[string]*span{}
	)
	var targets []upgrade.RolloutTarget
	sims := map[string]*junostest.Sim{}
	for _, x := range []struct{ name, pod string }{{"gw-a", "dal10-pod01"}, {"gw-b", "dal10-pod01"}, {"gw-c", "dal12-pod02"}} {
		sim, cfg := startSim(t, junostest.Options{})
		cfg.Name, cfg.Pod = x.name, x.pod
		c, err := junos.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		sims[x.name] = sim
		targets = append(targets, c.RolloutTarget(junos.Planner{Cluster: c, GateTiming: e2eTiming}, e2eTarget, nil))
	}
	if targets[0].Group != "dal10-pod01" || targets[1].Group != targets[0].Group {
		t.Fatalf("groups %q %q", targets[0].Group, targets[1].Group)
	}
	r := &upgrade.Rollout{
		MaxParallelClusters: 3,
		NewExecutor: func(tg upgrade.RolloutTarget) *upgrade.Executor {
			return &upgrade.Executor{Retry: e2eRetry, OnEvent: func(ev upgrade.Event) {
				mu.Lock()
				defer mu.Unlock()
				s := spans[ev.Cluster]
				if s == nil {
					s = &span{start: ev.Time}
					spans[ev.Cluster] = s
				}
				s.end = ev.Time
			}}
		},
	}
	rep, err := r.Run(ctx, targets)
	if err != nil {
		t.Fatalf("rollout: %v", err)
	}
	if !rep.OK {
		t.Fatalf("rollout report: %+v", rep)
	}
	a, b := spans["gw-a"], spans["gw-b"]
	if a == nil || b == nil {
		t.Fatalf("spans %v", spans)
	}
	if a.start.Before(b.end) && b.start.Before(a.end) {
		t.Errorf("two clusters of pod dal10-pod01 ran at once: gw-a %v–%v, gw-b %v–%v", a.start, a.end, b.start, b.end)
	}
	for name, sim := range sims {
		for _, n := range sim.Nodes() {
			if n.Version() != e2eTarget {
				t.Errorf("%s %s runs %s", name, n.Name(), n.Version())
			}
		}
		if lost := sim.Probe().LostTicks(); lost != 0 {
			t.Errorf("%s lost %d probe ticks", name, lost)
		}
	}
}
