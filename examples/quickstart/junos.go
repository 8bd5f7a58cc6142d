package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/junos/junostest"
	"github.com/hitless/hitless/upgrade"
)

// junosFrom and junosTarget are the demo's vSRX versions (IBM Cloud vSRX
// HA gateways run 21.4R3-S5; 22.4R3-S2 is a later certified release).
const (
	junosFrom   = "21.4R3-S5"
	junosTarget = "22.4R3-S2"
)

// junosDemoPassword is the simulated nodes' root password. It is fixed so
// that tests can prove it never appears in any output.
const junosDemoPassword = "hitless-Junos-Pw-9q"

var junosFaults = map[string]string{
	"back-on-old":       "node1 comes back from its reboot on the old release: the gate stops at once, before any failover",
	"never-returns":     "node1's reboot never comes back: the health gate times out, node0 keeps forwarding",
	"failover-refused":  "the device refuses `request chassis cluster failover`: typed error naming the node and RG, node0 keeps forwarding",
	"preempt-locked":    "the commit that disables RG1 preempt is refused: the run stops before anything is staged",
	"monitor-failure":   "node1 has an interface-monitor failure in RG1: the pre-checks refuse to start",
	"node-disabled":     "node1 is disabled (fabric link loss): the plan is refused, naming node1 and each RG",
	"storage-too-small": "/var on node1 has too little room for the package: the pre-checks refuse to start",
	"wrong-platform":    "the package is built for another platform (srx5000): the pre-checks refuse it on both nodes",
	"config-changed":    "another administrator commits a change after the first software add: the reboot is refused (configuration differs from the export)",
	"wrong-password":    "the login password is wrong: typed error naming the node, nothing is touched",
	"unknown-host-key":  "known_hosts does not list the nodes: refused before logging in",
	"missing-package":   "the install package does not exist: the configuration is refused before any connection",
}

// runJunos upgrades a simulated vSRX chassis cluster (node0 primary of RG0
// and RG1, RG1 preempt on, as IBM Cloud's HA configuration can have it)
// from 21.4R3-S5 through the real driver over SSH on 127.0.0.1, with the
// minimal-downtime procedure of junos.Planner.
func runJunos(ctx context.Context, o options) (*result, error) {
	opts := junostest.Options{
		Version:        junosFrom,
		Password:       junosDemoPassword,
		Preempt:        []int{1},
		RebootDelay:    o.scaled(100 * time.Millisecond),
		RebootDuration: o.scaled(2 * time.Second),
		FailoverGap:    o.scaled(time.Second),
		HoldDown:       o.scaled(time.Second),
		ColdSync:       o.scaled(500 * time.Millisecond),
		ProbeEvery:     o.scaled(100 * time.Millisecond),
	}
	switch o.fault {
	case "back-on-old":
		opts.Faults.BackOnOld = "node1"
	case "never-returns":
		opts.Faults.NeverReturns = "node1"
	case "failover-refused":
		opts.Faults.FailoverRefused = "Manual failover is not permitted: simulated refusal"
	case "preempt-locked":
		opts.Faults.PreemptLocked = true
	case "monitor-failure":
		opts.Faults.MonitorFailures = []junostest.MonitorFailure{{Node: "node1", RG: 1, Codes: []string{"IF"}}}
	case "node-disabled":
		opts.Faults.Disabled = "node1"
	case "storage-too-small":
		opts.Faults.VarAvailable = map[string]int64{"node1": 100 << 10}
	case "config-changed":
		opts.Faults.ThirdPartyCommit = &junostest.ThirdPartyCommit{After: "request system software add", Statements: []string{"set system ntp server 192.0.2.123"}}
	}
	sim, err := junostest.Start(opts)
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	defer sim.Close()
	n := sim.Nodes()
	fmt.Fprintf(o.out, "Simulated vSRX chassis cluster: node0 (primary of RG0 and RG1) at %s, node1 (secondary) at %s, Junos %s, RG1 preempt on\n",
		n[0].Addr(), n[1].Addr(), n[0].Version())

	dir, err := os.MkdirTemp("", "hitless-quickstart-junos-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	platform := junostest.PackagePlatform
	if o.fault == "wrong-platform" {
		platform = "srx5000"
	}
	pkg, err := junostest.WritePackageFor(dir, platform, o.target)
	if err != nil {
		return nil, err
	}
	known := sim.KnownHostsFile()
	password := sim.Password()
	switch o.fault {
	case "wrong-password":
		password = "not-the-password"
	case "unknown-host-key":
		known = filepath.Join(dir, "empty_known_hosts")
		if err := os.WriteFile(known, nil, 0o600); err != nil {
			return nil, err
		}
	case "missing-package":
		pkg = filepath.Join(dir, "junos-install-vsrx3-x86-64-"+o.target+"-missing.tgz")
	}
	transcript := driver.NewTranscript(password)
	cfg := junos.Config{
		Name:             "vsrx-ha",
		Pod:              "dal10-pod01",
		Username:         sim.Username(),
		Password:         password,
		KnownHostsFile:   known,
		PackagePath:      pkg,
		ArtifactsDir:     filepath.Join(dir, "artifacts"),
		CommandTimeout:   o.scaled(20 * time.Second),
		InstallTimeout:   o.scaled(60 * time.Second),
		ReconnectTimeout: o.scaled(2 * time.Second),
		ReconnectBackoff: driver.Backoff{Initial: o.scaled(50 * time.Millisecond), Max: o.scaled(400 * time.Millisecond), Factor: 2},
		Transcript:       transcript,
	}
	for i, node := range n {
		cfg.Nodes[i] = junos.Address{Host: node.Host(), Port: node.Port()}
	}

	res := &result{Cluster: cfg.Name, Target: o.target, ProbeEvery: opts.ProbeEvery.String(), FinalVersions: map[string]string{}}
	finish := func(err error) (*result, error) {
		probe := sim.Probe()
		probe.Stop()
		res.TrafficLostTicks, res.ProbeTicks, res.StillForwarding = probe.LostTicks(), probe.Ticks(), probe.Forwarding()
		for _, node := range n {
			res.FinalVersions[node.Name()] = node.Version()
		}
		nodeAt := map[string]string{}
		for _, node := range n {
			nodeAt[node.Addr()] = node.Name()
		}
		// The status reads (show ..., file list ...) are left out: a run
		// sends hundreds of them (every gate poll reads both nodes).
		for _, e := range transcript.Entries() {
			if strings.HasPrefix(e.Command, "show ") || strings.HasPrefix(e.Command, "file list ") || strings.HasPrefix(e.Command, "set cli ") {
				continue
			}
			host := e.Host
			if name, ok := nodeAt[host]; ok {
				host = name + " (" + host + ")"
			}
			res.Commands = append(res.Commands, command{Host: host, Command: e.Command, Duration: e.Duration.Round(time.Millisecond).String(), Error: e.Error})
		}
		if err != nil {
			res.Explanation = explain(err, junosReasons, res.StillForwarding, "The cluster kept forwarding traffic throughout.", "WARNING: the probe says the cluster is not forwarding now.")
		}
		res.OK = err == nil
		return res, err
	}

	timing := upgrade.Timing{Interval: o.scaled(100 * time.Millisecond), MinHealthy: o.scaled(300 * time.Millisecond), Deadline: o.scaled(20 * time.Second)}
	// attempt is one "process": connect, observe, plan, run with journal j.
	attempt := func(j upgrade.Journal, showPlan bool) (*upgrade.Report, error) {
		c, err := junos.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		snap, err := c.Observe(ctx)
		if err != nil {
			return nil, err
		}
		plan, err := junos.Planner{Cluster: c, GateTiming: timing}.Plan(snap, o.target)
		if err != nil {
			return nil, err
		}
		if showPlan {
			fmt.Fprintf(o.out, "\nDry run:\n%s\n", plan.Render())
		}
		retry := upgrade.Retry{Attempts: 3, Initial: o.scaled(500 * time.Millisecond), Max: o.scaled(2 * time.Second)}
		return (&upgrade.Executor{OnEvent: progress(o.out), Journal: j, Redact: cfg.Secrets(), Retry: retry}).Run(ctx, c, plan)
	}
	rep, err := runWithCrash(ctx, o, dir, attempt)
	if rep != nil {
		res.Report, res.Steps = rep, rep.Steps
	}
	if err == nil {
		final := map[string]string{}
		for _, node := range n {
			final[node.Name()] = node.Version()
		}
		err = checkFinal(final, o.target)
	}
	if err == nil {
		// Exactly one planned failover per redundancy group.
		for _, g := range sim.RedundancyGroups() {
			if f := sim.Failovers(g); f != 1 {
				err = fmt.Errorf("RG%d failed over %d times, want once", g, f)
			}
		}
	}
	return finish(err)
}

// junosReasons explain a stopped Junos run, first match wins.
var junosReasons = []reason{
	{driver.ErrAuth, "Login was refused; nothing was changed on any node."},
	{driver.ErrHostKey, "A node's SSH host key is not the one in known_hosts; hitless never logs in to an unverified host."},
	{junos.ErrConfig, "The configuration was refused before connecting to anything."},
	{upgrade.ErrPreCheck, "A pre-check failed (a healthy chassis cluster is the only starting point), so no step was started."},
	{junos.ErrConfigChanged, "The device configuration differs from the export taken before the upgrade: someone else changed it, so the run stopped before the next disruptive step."},
	{junos.ErrPreempt, "Preempt of a data redundancy group could not be disabled (the commit was refused), so nothing was staged or rebooted."},
	{junos.ErrFailoverRefused, "The manual failover was refused, so the groups stayed on the old primary, which kept forwarding."},
	{junos.ErrInstallNotTaken, "node1 came back from its reboot on the old release, so the run stopped at once, before any failover."},
	{junos.ErrPeerNotForwarding, "Right before a reboot, the peer was not seen primary of every group and forwarding on the device, so nothing was rebooted."},
	{upgrade.ErrUndeclaredDisruption, "A node stopped forwarding outside the plan, so the run stopped at once."},
	{upgrade.ErrNotConverged, "The cluster is not in the plan's end state, although every step is done."},
	{upgrade.ErrUnsafe, "The availability guard refused a step that could have left the cluster without a forwarding node."},
	{upgrade.ErrGateTimeout, "A health gate did not pass before its deadline, so the run stopped before the next disruptive step."},
	{upgrade.ErrInvalid, "The cluster's state does not allow a plan (see the error): nothing was changed."},
}
