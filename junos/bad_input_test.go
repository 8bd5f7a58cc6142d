package junos_test

// Bad input, end to end: each fault of the simulated cluster must stop the
// run with a typed error naming the node (and the redundancy group where
// there is one), before anything disruptive happens to the wrong node, and
// leave the cluster forwarding (the traffic probe lost no tick).

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/junos/junostest"
	"github.com/hitless/hitless/upgrade"
)

// badRun runs an upgrade that must fail and returns its error; it checks
// that the cluster still forwards and lost no tick.
func badRun(t *testing.T, sim *junostest.Sim, cfg junos.Config) error {
	t.Helper()
	ctx := ctxFor(t, 60*time.Second)
	rep, plan, err := upgradeRun(t, ctx, cfg, nil)
	if err == nil {
		t.Fatalf("the upgrade succeeded; plan:\n%s", plan.Render())
	}
	if rep != nil && rep.OK {
		t.Error("report OK on a failed run")
	}
	expectForwarding(t, sim)
	if strings.Contains(err.Error(), cfg.Password) {
		t.Fatal("the password is in the error")
	}
	t.Logf("error: %v", err)
	return err
}

// noReboot asserts that no node rebooted.
func noReboot(t *testing.T, sim *junostest.Sim) {
	t.Helper()
	for _, n := range sim.Nodes() {
		if n.Boots() != 1 || count(n, "request system reboot") != 0 {
			t.Errorf("%s rebooted", n.Name())
		}
	}
}

func TestBadInputPreChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  junostest.Options
		setup func(t *testing.T, sim *junostest.Sim, cfg *junos.Config)
		node  string
		rg    int
		kind  error
		// requests is the number of `request ...` commands the setup sends.
		requests int
	}{
		{name: "node disabled", opts: junostest.Options{Faults: junostest.Faults{Disabled: "node1"}}, node: "node1", rg: 1, kind: junos.ErrNodeDown},
		{name: "node lost", setup: func(t *testing.T, sim *junostest.Sim, _ *junos.Config) {
			sim.NodeByName("node1").Fail()
			waitSim(t, sim, "node1 down", func() bool { return sim.NodeByName("node1").Down() })
		}, node: "node1", rg: 0, kind: junos.ErrNodeDown},
		{name: "monitor failure", opts: junostest.Options{Faults: junostest.Faults{MonitorFailures: []junostest.MonitorFailure{{Node: "node1", RG: 1, Codes: []string{"IF"}}}}}, node: "node1", rg: 1, kind: junos.ErrMonitorFailure},
		{name: "storage too small", opts: junostest.Options{Faults: junostest.Faults{VarAvailable: map[string]int64{"node1": 100_000}}}, node: "node1", rg: -1, kind: junos.ErrStorage},
		{name: "package for another platform", setup: func(t *testing.T, sim *junostest.Sim, cfg *junos.Config) {
			pkg, err := junostest.WritePackageFor(t.TempDir(), "srx5000", e2eTarget)
			if err != nil {
				t.Fatal(err)
			}
			cfg.PackagePath = pkg
		}, node: "node0", rg: -1, kind: junos.ErrPackage},
		{name: "major alarm", setup: func(_ *testing.T, sim *junostest.Sim, _ *junos.Config) {
			sim.NodeByName("node0").SetAlarms("FPC 0 Major Errors")
		}, node: "node0", rg: -1, kind: junos.ErrAlarm},
		{name: "fabric link down", setup: func(t *testing.T, sim *junostest.Sim, _ *junos.Config) {
			// The secondary node becomes disabled (Junos OS Chassis
			// Cluster User Guide): the planner names it.
			sim.SetFabricLink(false)
		}, node: "node1", rg: 0, kind: junos.ErrNodeDown},
		{name: "uncommitted configuration", opts: junostest.Options{Faults: junostest.Faults{CommandError: map[string]string{
			"configure private": "shared configuration database modified",
		}}}, node: "node0", rg: -1, kind: junos.ErrUncommitted},
		{name: "manual failover in effect", setup: func(t *testing.T, sim *junostest.Sim, cfg *junos.Config) {
			c, err := junos.New(t.Context(), *cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			if err := c.Failover(t.Context(), "node1"); err != nil {
				t.Fatal(err)
			}
		}, node: "node1", rg: 1, kind: junos.ErrManualFailover, requests: 2},
		{name: "addresses swapped", setup: func(_ *testing.T, _ *junostest.Sim, cfg *junos.Config) {
			cfg.Nodes[0], cfg.Nodes[1] = cfg.Nodes[1], cfg.Nodes[0]
		}, node: "node0", rg: -1, kind: junos.ErrWrongNode},
		{name: "reload: portal root password differs", setup: func(_ *testing.T, _ *junostest.Sim, cfg *junos.Config) {
			cfg.Reload = &junos.ReloadCheck{PortalRootPassword: "not-the-portal-password"}
		}, node: "node1", rg: -1, kind: junos.ErrReloadNotReady},
		{name: "reload: root login denied", setup: func(t *testing.T, sim *junostest.Sim, cfg *junos.Config) {
			if err := sim.ThirdPartyCommit("netops", "set system services ssh root-login deny"); err != nil {
				t.Fatal(err)
			}
			cfg.Reload = &junos.ReloadCheck{PortalRootPassword: sim.Password()}
		}, node: "node0", rg: -1, kind: junos.ErrReloadNotReady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, cfg := startSim(t, tt.opts)
			if tt.setup != nil {
				tt.setup(t, sim, &cfg)
			}
			err := badRun(t, sim, cfg)
			if !errors.Is(err, upgrade.ErrPreCheck) && !errors.Is(err, upgrade.ErrInvalid) {
				t.Errorf("want a refused pre-check or plan, got %v", err)
			}
			expectNodeError(t, err, tt.node, tt.rg, tt.kind)
			noReboot(t, sim)
			k := 0
			for _, n := range sim.Nodes() {
				k += count(n, "request ")
			}
			if k != tt.requests {
				t.Errorf("%d request commands, want %d", k, tt.requests)
			}
			if strings.Contains(err.Error(), "not-the-portal-password") {
				t.Error("the portal password is in the error")
			}
		})
	}
}

// TestReloadReadinessOK: the right portal password passes the readiness.
func TestReloadReadinessOK(t *testing.T) {
	t.Parallel()
	sim, cfg := startSim(t, junostest.Options{})
	cfg.Reload = &junos.ReloadCheck{PortalRootPassword: sim.Password()}
	c, err := junos.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.CheckReloadReadiness(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestVersionMismatchRefused: a cluster whose nodes run different versions
// is refused by a fresh run's pre-checks.
func TestVersionMismatchRefused(t *testing.T) {
	t.Parallel()
	sim, cfg := startSim(t, junostest.Options{})
	c, err := junos.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Node("node1").Install(t.Context(), e2eTarget); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	waitSim(t, sim, "node1 back on the target", func() bool {
		n := sim.NodeByName("node1")
		return !n.Down() && n.Version() == e2eTarget && n.Status(1) == "secondary" && n.Priority(1) > 0
	})
	err = badRun(t, sim, cfg)
	expectNodeError(t, err, "cluster", -1, junos.ErrVersionMismatch)
}

func TestBadInputDuringTheRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  junostest.Options
		node  string
		rg    int
		kind  error
		check func(t *testing.T, sim *junostest.Sim)
	}{
		{name: "preempt cannot be changed", opts: junostest.Options{Preempt: []int{1}, Faults: junostest.Faults{PreemptLocked: true}},
			node: "node0", rg: 1, kind: junos.ErrPreempt, check: noReboot},
		{name: "package refused by the device", opts: junostest.Options{Faults: junostest.Faults{WrongPlatform: "node1"}},
			node: "node1", rg: -1, kind: junos.ErrWrongPlatform, check: noReboot},
		{name: "validation fails", opts: junostest.Options{Faults: junostest.Faults{ValidationFails: "node1"}},
			node: "node1", rg: -1, kind: junos.ErrValidation, check: noReboot},
		{name: "node back on the old version", opts: junostest.Options{Faults: junostest.Faults{BackOnOld: "node1"}},
			node: "node1", rg: -1, kind: junos.ErrInstallNotTaken, check: func(t *testing.T, sim *junostest.Sim) {
				if sim.Failovers(1) != 0 || sim.Primary(1) != "node0" {
					t.Errorf("RG1 failed over (%d) to %s", sim.Failovers(1), sim.Primary(1))
				}
				if n := sim.NodeByName("node0"); n.Boots() != 1 {
					t.Error("node0 rebooted")
				}
			}},
		{name: "failover refused", opts: junostest.Options{Faults: junostest.Faults{FailoverRefused: "Manual failover is not permitted: simulated refusal"}},
			node: "node1", rg: 1, kind: junos.ErrFailoverRefused, check: func(t *testing.T, sim *junostest.Sim) {
				if sim.Primary(1) != "node0" || sim.Primary(0) != "node0" {
					t.Error("a group moved")
				}
				if sim.NodeByName("node0").Boots() != 1 {
					t.Error("node0 rebooted")
				}
			}},
		{name: "configuration changed after the first stage", opts: junostest.Options{Faults: junostest.Faults{ThirdPartyCommit: &junostest.ThirdPartyCommit{
			After: "request system software add", Statements: []string{"set system ntp server 192.0.2.123"}}}},
			node: "node0", rg: -1, kind: junos.ErrConfigChanged, check: noReboot},
		{name: "configuration changed after the RG0 failover", opts: junostest.Options{Faults: junostest.Faults{ThirdPartyCommit: &junostest.ThirdPartyCommit{
			After: "request chassis cluster failover redundancy-group 0", Statements: []string{"delete system services netconf"}}}},
			node: "node0", rg: -1, kind: junos.ErrConfigChanged, check: func(t *testing.T, sim *junostest.Sim) {
				if sim.NodeByName("node0").Boots() != 1 {
					t.Error("node0 rebooted after the configuration changed")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, cfg := startSim(t, tt.opts)
			err := badRun(t, sim, cfg)
			expectNodeError(t, err, tt.node, tt.rg, tt.kind)
			if tt.check != nil {
				tt.check(t, sim)
			}
		})
	}
}

// TestGuardNeverRebootsAPrimary: a hand-written plan that reboots the node
// that is primary of every group is refused by the guard (the cluster's
// DisruptionChecker) before its action runs; Node.Install on it refuses
// too; and when the peer stops forwarding between the guard and the
// reboot, the check on the devices refuses the reboot.
func TestGuardNeverRebootsAPrimary(t *testing.T) {
	t.Parallel()
	sim, cfg := startSim(t, junostest.Options{})
	ctx := ctxFor(t, 30*time.Second)
	c, err := junos.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	reboot := func(node string, before func()) upgrade.Plan {
		return upgrade.Plan{Cluster: c.Name(), Steps: []upgrade.Step{&upgrade.Func{
			StepID: "reboot-" + node, Members: []string{node},
			Do: func(ctx context.Context) error {
				if before != nil {
					before()
				}
				return c.Node(node).Install(ctx, e2eTarget)
			},
		}}}
	}
	// node0 is primary of every group: no other node forwards.
	_, err = (&upgrade.Executor{}).Run(ctx, c, reboot("node0", func() { t.Error("the step ran") }))
	if !errors.Is(err, upgrade.ErrUnsafe) {
		t.Fatalf("want ErrUnsafe, got %v", err)
	}
	err = c.Node("node0").Install(ctx, e2eTarget)
	expectNodeError(t, err, "node0", 0, junos.ErrUnexpectedRole)

	// RG1 moves to node1 (a monitor failure on node0, then cleared; no
	// preempt): node1 forwards, but node0 is still RG0 primary. The
	// availability check passes; the cluster's DisruptionChecker refuses.
	n0 := sim.NodeByName("node0")
	n0.SetMonitorFailures(1, "IF")
	n0.SetMonitorFailures(1)
	waitSim(t, sim, "RG1 on node1", func() bool { return sim.Primary(1) == "node1" && n0.Priority(1) > 0 })
	_, err = (&upgrade.Executor{}).Run(ctx, c, reboot("node0", func() { t.Error("the step ran") }))
	if !errors.Is(err, upgrade.ErrUnsafe) {
		t.Fatalf("want ErrUnsafe, got %v", err)
	}
	expectNodeError(t, err, "node0", 0, junos.ErrUnexpectedRole)
	snap, err := c.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckDisruption(snap, []string{"node0"}); !errors.Is(err, junos.ErrUnexpectedRole) {
		t.Errorf("CheckDisruption(node0 RG0 primary): %v", err)
	}
	if err := c.CheckDisruption(snap, []string{"node1"}); err == nil {
		t.Error("CheckDisruption accepts rebooting node1, primary of RG1")
	}
	noReboot(t, sim)
	expectForwarding(t, sim)
}

// TestLastCheckRefuses: when the peer stops forwarding between the guard
// and the reboot, the check on the devices refuses the reboot.
func TestLastCheckRefuses(t *testing.T) {
	t.Parallel()
	sim, cfg := startSim(t, junostest.Options{})
	ctx := ctxFor(t, 30*time.Second)
	c, err := junos.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Node("node1").Stage(ctx, e2eTarget); err != nil {
		t.Fatal(err)
	}
	p := upgrade.Plan{Cluster: c.Name(), Steps: []upgrade.Step{&upgrade.Func{
		StepID: "reboot-node1", Members: []string{"node1"},
		Do: func(ctx context.Context) error {
			// After the guard's verdict: RG1 fails over to node1.
			sim.NodeByName("node0").SetMonitorFailures(1, "IF")
			return c.Node("node1").Reboot(ctx, e2eTarget)
		},
	}}}
	_, err = (&upgrade.Executor{}).Run(ctx, c, p)
	if !errors.Is(err, junos.ErrPeerNotForwarding) {
		t.Fatalf("want the last check to refuse, got %v", err)
	}
	expectNodeError(t, err, "node1", -1, junos.ErrPeerNotForwarding)
	noReboot(t, sim)
	sim.NodeByName("node0").SetMonitorFailures(1)
	expectForwarding(t, sim)
}

// waitSim waits for cond on the simulator's change notifications.
func waitSim(t *testing.T, sim *junostest.Sim, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := sim.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
