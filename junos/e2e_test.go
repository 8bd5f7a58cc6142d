package junos_test

// End-to-end tests: the real driver over real SSH on 127.0.0.1 against the
// junostest simulator of a vSRX chassis cluster (no synctest bubbles: real
// sockets), with millisecond durations. Nothing sleeps: every wait is a
// health gate, a redial with backoff or the simulator's change
// notifications, bounded by contexts.

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/junos/junostest"
	"github.com/hitless/hitless/upgrade"
)

const (
	e2eFrom   = junostest.DefaultVersion // 21.4R3-S5.4
	e2eTarget = "22.4R3-S2"
)

// e2eTiming makes gates poll fast; the deadline covers a simulated reboot
// and the hold-down interval.
var e2eTiming = upgrade.Timing{Interval: 20 * time.Millisecond, MinHealthy: 40 * time.Millisecond, Deadline: 10 * time.Second}

// e2eRetry retries idempotent steps quickly.
var e2eRetry = upgrade.Retry{Attempts: 3, Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}

// simOptions are millisecond durations for a simulated cluster.
func simOptions(o junostest.Options) junostest.Options {
	o.RebootDelay = 20 * time.Millisecond
	o.RebootDuration = 250 * time.Millisecond
	o.FailoverGap = 100 * time.Millisecond
	o.HoldDown = 300 * time.Millisecond
	o.ColdSync = 100 * time.Millisecond
	o.ProbeEvery = 5 * time.Millisecond
	return o
}

// startSim starts a simulated cluster and returns it with a Config for it
// (a package for e2eTarget written to a temporary directory, artifacts in
// another).
func startSim(t *testing.T, o junostest.Options) (*junostest.Sim, junos.Config) {
	t.Helper()
	sim, err := junostest.Start(simOptions(o))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	pkg, err := junostest.WritePackage(t.TempDir(), e2eTarget)
	if err != nil {
		t.Fatal(err)
	}
	return sim, configFor(t, sim, pkg)
}

// configFor is a Config for sim with the package pkg.
func configFor(t *testing.T, sim *junostest.Sim, pkg string) junos.Config {
	t.Helper()
	n := sim.Nodes()
	return junos.Config{
		Name:             "vsrx-ha",
		Pod:              "pod01",
		Nodes:            [2]junos.Address{{Host: n[0].Host(), Port: n[0].Port()}, {Host: n[1].Host(), Port: n[1].Port()}},
		Username:         sim.Username(),
		Password:         sim.Password(),
		KnownHostsFile:   sim.KnownHostsFile(),
		PackagePath:      pkg,
		ArtifactsDir:     t.TempDir(),
		CommandTimeout:   10 * time.Second,
		InstallTimeout:   10 * time.Second,
		DialTimeout:      10 * time.Second, // generous: handshakes on a loaded machine (race detector)
		ReconnectTimeout: 3 * time.Second,
		ReconnectBackoff: driver.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond, Factor: 2},
		Transcript:       driver.NewTranscript(),
	}
}

// upgradeRun connects, observes, plans and executes an upgrade to
// e2eTarget with executor ex (a fresh one when nil).
func upgradeRun(t *testing.T, ctx context.Context, cfg junos.Config, ex *upgrade.Executor) (*upgrade.Report, upgrade.Plan, error) {
	t.Helper()
	c, err := junos.New(ctx, cfg)
	if err != nil {
		return nil, upgrade.Plan{}, err
	}
	defer func() { _ = c.Close() }()
	snap, err := c.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := junos.Planner{Cluster: c, GateTiming: e2eTiming}.Plan(snap, e2eTarget)
	if err != nil {
		return nil, plan, err
	}
	if ex == nil {
		ex = &upgrade.Executor{}
	}
	if ex.Retry == (upgrade.Retry{}) {
		ex.Retry = e2eRetry
	}
	ex.Redact = cfg.Secrets()
	rep, err := ex.Run(ctx, c, plan)
	return rep, plan, err
}

// count returns how many commands of node start with prefix.
func count(n *junostest.Node, prefix string) int {
	k := 0
	for _, c := range n.Commands() {
		if strings.HasPrefix(c, prefix) {
			k++
		}
	}
	return k
}

// actions returns the state-changing commands the simulator received, as
// "node: command", in order (reads left out).
func actions(sim *junostest.Sim) map[string][]string {
	out := map[string][]string{}
	for _, n := range sim.Nodes() {
		for _, c := range n.Commands() {
			if strings.HasPrefix(c, "request ") || strings.HasPrefix(c, "commit") || strings.HasPrefix(c, "delete ") || strings.HasPrefix(c, "set chassis") || c == "yes" {
				out[n.Name()] = append(out[n.Name()], c)
			}
		}
	}
	return out
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestE2EUpgrade(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		opts    junostest.Options
		restore bool
	}{
		{name: "two groups, preempt on RG1", opts: junostest.Options{Preempt: []int{1}}},
		{name: "three groups, preempt restored", opts: junostest.Options{RedundancyGroups: 3, Preempt: []int{1, 2}}, restore: true},
		{name: "legacy add output, no preempt", opts: junostest.Options{AddOutput: junostest.AddLegacy}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, cfg := startSim(t, tc.opts)
			cfg.RestorePreempt = tc.restore
			ctx := ctxFor(t, 60*time.Second)
			var events []upgrade.Event
			rep, plan, err := upgradeRun(t, ctx, cfg, &upgrade.Executor{OnEvent: func(e upgrade.Event) { events = append(events, e) }})
			if err != nil {
				t.Fatalf("upgrade: %v\nplan:\n%s", err, plan.Render())
			}
			t.Logf("plan:\n%s", plan.Render())
			if !rep.OK {
				t.Fatalf("report not OK: %s", rep.Error)
			}
			for _, n := range sim.Nodes() {
				if v := n.Version(); v != e2eTarget {
					t.Errorf("%s runs %s, want %s", n.Name(), v, e2eTarget)
				}
				if b := n.Boots(); b != 2 {
					t.Errorf("%s booted %d times, want 2 (one reboot)", n.Name(), b)
				}
				if k := count(n, "request system software add"); k != 1 {
					t.Errorf("%s: %d software adds, want 1", n.Name(), k)
				}
			}
			sim.Probe().Stop()
			if lost := sim.Probe().LostTicks(); lost != 0 {
				t.Errorf("lost %d probe ticks (outage %v)", lost, sim.Probe().Outage())
			}
			for _, g := range sim.RedundancyGroups() {
				want := 1
				if tc.restore && g > 0 {
					want = 2 // the restored preempt moves the data groups back to node0
				}
				if f := sim.Failovers(g); f != want {
					t.Errorf("RG%d: %d failovers, want %d", g, f, want)
				}
				if sim.Manual(g) {
					t.Errorf("RG%d: manual failover left in effect", g)
				}
			}
			for _, g := range tc.opts.Preempt {
				if got := sim.Preempt(g); got != tc.restore {
					t.Errorf("RG%d preempt %t at the end, want %t", g, got, tc.restore)
				}
			}
			if tc.restore {
				if p := sim.Primary(1); p != "node0" {
					t.Errorf("RG1 primary %s after the preempt restore, want node0", p)
				}
			} else if p := sim.Primary(1); p != "node1" {
				t.Errorf("RG1 primary %s, want node1", p)
			}
			// The export is the configuration before the upgrade, and the
			// report's note names it.
			c, err := junos.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			data, err := os.ReadFile(c.ExportPath(e2eTarget))
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.opts.Preempt) > 0 && !strings.Contains(string(data), "set chassis cluster redundancy-group 1 preempt") {
				t.Errorf("the export lacks the original preempt:\n%s", data)
			}
			if i := slices.IndexFunc(rep.Steps, func(s upgrade.StepReport) bool { return s.Name == "export-config@"+e2eTarget }); i < 0 || !strings.Contains(rep.Steps[i].Note, c.ExportPath(e2eTarget)) {
				t.Errorf("export step note: %+v", rep.Steps)
			}
			// Re-planning at the end: nothing left (or the no-op restore).
			snap, err := c.Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			again, err := junos.Planner{Cluster: c, GateTiming: e2eTiming}.Plan(snap, e2eTarget)
			wantSteps := 0
			if tc.restore {
				wantSteps = 2
			}
			if err != nil || len(again.Steps) != wantSteps {
				t.Errorf("re-plan after the upgrade: %v, %q", err, again.StepIDs())
			}
			// The password never shows in the transcript or events.
			for _, e := range cfg.Transcript.Entries() {
				if strings.Contains(e.Command+e.Output+e.Error, cfg.Password) {
					t.Fatalf("password in transcript entry %+v", e)
				}
			}
			for _, e := range events {
				if strings.Contains(e.Message+e.Err, cfg.Password) {
					t.Fatalf("password in event %+v", e)
				}
			}
			t.Logf("actions: %q", actions(sim))
		})
	}
}

// expectNodeError asserts err is a *junos.NodeError naming node (and rg, when
// >= 0) that matches kind.
func expectNodeError(t *testing.T, err error, node string, rg int, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("want %v, got %v", kind, err)
	}
	var found bool
	for _, ne := range nodeErrors(err) {
		if ne.Node == node && (rg < 0 || ne.RG == rg) && errors.Is(ne, kind) {
			found = true
		}
	}
	if !found {
		t.Errorf("no *junos.NodeError naming %s (RG %d) of kind %v in %v", node, rg, kind, err)
	}
}

// nodeErrors returns every *junos.NodeError in err's tree.
func nodeErrors(err error) []*junos.NodeError {
	var out []*junos.NodeError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ne, ok := e.(*junos.NodeError); ok {
			out = append(out, ne)
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// expectForwarding asserts the simulated cluster forwards and lost no tick.
func expectForwarding(t *testing.T, sim *junostest.Sim) {
	t.Helper()
	if !sim.Probe().Forwarding() {
		t.Error("the cluster does not forward")
	}
	if lost := sim.Probe().LostTicks(); lost != 0 {
		t.Errorf("lost %d probe ticks (outage %v)", lost, sim.Probe().Outage())
	}
}

// TestE2ERollbackWithRolling: after the upgrade, upgrade.Rolling with
// Rollback returns both nodes to the old version through Node.Rollback
// (`request system software rollback`, then the checked reboot) under the
// executor's guard, with no lost tick.
func TestE2ERollbackWithRolling(t *testing.T) {
	t.Parallel()
	sim, cfg := startSim(t, junostest.Options{})
	ctx := ctxFor(t, 60*time.Second)
	if _, _, err := upgradeRun(t, ctx, cfg, nil); err != nil {
		t.Fatal(err)
	}
	c, err := junos.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	snap, err := c.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A version the node never ran is refused before anything is sent.
	if err := c.Node("node0").Rollback(ctx, "22.4R3-S3"); !errors.Is(err, junos.ErrRollback) {
		t.Errorf("rollback to a newer version: %v", err)
	}
	p, err := upgrade.Rolling{Cluster: c, Grammar: junos.Grammar{}, GateTiming: e2eTiming, Rollback: true}.Plan(snap, e2eFrom)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := (&upgrade.Executor{}).Run(ctx, c, p)
	if err != nil {
		t.Fatalf("rollback: %v\n%s", err, p.Render())
	}
	if !rep.OK {
		t.Fatal(rep.Error)
	}
	for _, n := range sim.Nodes() {
		if n.Version() != e2eFrom || count(n, "request system software rollback") != 1 {
			t.Errorf("%s runs %s after %d rollbacks", n.Name(), n.Version(), count(n, "request system software rollback"))
		}
	}
	sim.Probe().Stop()
	expectForwarding(t, sim)
}

// A dry run of the whole plan passes and sends nothing that changes the
// cluster: it judges topology only (CheckTopology), since the node that is
// primary at the start is rebooted only after the failover.
func TestE2EDryRunJudgesTopologyOnly(t *testing.T) {
	t.Parallel()
	sim, cfg := startSim(t, junostest.Options{})
	ctx := ctxFor(t, 30*time.Second)
	rep, plan, err := upgradeRun(t, ctx, cfg, &upgrade.Executor{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v\nplan:\n%s", err, plan.Render())
	}
	if !rep.DryRun || len(rep.PreChecks) == 0 {
		t.Errorf("dry run report: dry_run=%t, %d pre-checks", rep.DryRun, len(rep.PreChecks))
	}
	for _, n := range sim.Nodes() {
		if n.Boots() != 1 || count(n, "request") != 0 {
			t.Errorf("%s: the dry run changed something: boots %d, %d request commands", n.Name(), n.Boots(), count(n, "request"))
		}
	}
	c, err := junos.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.CheckTopology([]string{"node0", "node1"}); !errors.Is(err, junos.ErrUnexpectedRole) {
		t.Errorf("both nodes together: %v, want ErrUnexpectedRole", err)
	}
}
