package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/checkpoint/checkpointtest"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// The Maestro demo (-vendor checkpoint -mode maestro): a security group of
// 8 SGMs on two sites behind two orchestrators, R81.20 Jumbo take 92,
// upgraded to R82 with checkpoint.SecurityGroupPlanner: orchestrators one
// at a time, then sub-group A (1_1,1_2,2_1,2_2) while B forwards, MVC and
// a policy, then B, MVC off and the final policy. Its "failovers" are the
// traffic moves between sub-groups: the `g_clusterXL_admin ... down`
// commands that succeeded (2 in a clean run).
const maestroTarget = "R82"

var maestroFaults = map[string]string{
	"lacp":          "(-mode maestro) the security group's uplink bond is LACP (802.3ad): the MVC path is refused before anything changes (PMTR-88191)",
	"take-too-low":  "(-mode maestro) SGM 2_3 runs Jumbo take 80, below the minimum: the pre-checks refuse to start",
	"mgmt-too-old":  "(-mode maestro) the management server runs R81.20, below the target: refused before anything changes",
	"verifier-fail": "(-mode maestro) migrate_server verify reports pending changes: refused before anything changes",
	"stuck-sgm":     "(-mode maestro) SGM 2_2 of sub-group A comes back on R81.20: the run stops at wait:A, sub-group B keeps forwarding",
	"dead-mho":      "(-mode maestro) orchestrator mho1 never comes back from its upgrade: the run stops, mho2 keeps forwarding",
}

// checkpointModeFaults are the faults of the gateway and vsx modes (those
// of checkpointFaults before the Maestro ones are added).
var checkpointModeFaults = map[string]bool{}

func init() {
	for k := range checkpointFaults {
		checkpointModeFaults[k] = true
	}
	for k, v := range maestroFaults {
		if _, dup := checkpointFaults[k]; !dup {
			checkpointFaults[k] = v
			continue
		}
		checkpointFaults[k] += "; " + v
	}
}

// runMaestro upgrades a simulated Maestro security group over real SSH and
// the management API over TLS on 127.0.0.1.
func runMaestro(ctx context.Context, o options) (*result, error) {
	if o.target == "" {
		o.target = maestroTarget
	}
	if _, ok := maestroFaults[o.fault]; o.fault != "" && !ok {
		return nil, fmt.Errorf("-fault %s does not apply to -mode maestro (its faults: lacp, take-too-low, mgmt-too-old, verifier-fail, stuck-sgm, dead-mho)", o.fault)
	}
	opts := checkpointtest.MaestroOptions{
		Version: "R81.20", Take: 92,
		Password: checkpointDemoPassword, ExpertPassword: checkpointDemoExpertPassword,
		Packages:       []checkpointtest.Package{{Kind: checkpointtest.KindMajor, Release: o.target}},
		ImportDuration: o.scaled(300 * time.Millisecond),
		ApplyDelay:     o.scaled(200 * time.Millisecond),
		RebootDuration: o.scaled(2 * time.Second),
		ProbeEvery:     o.scaled(100 * time.Millisecond),
	}
	switch o.fault {
	case "lacp":
		opts.LACP = true
	case "take-too-low":
		opts.SGMTakes = map[string]int{"2_3": 80}
	case "mgmt-too-old":
		opts.MgmtVersion = "R81.20"
	case "verifier-fail":
		opts.VerifierErrors = []string{"Pending changes on the Security Group: publish or discard them first"}
	case "stuck-sgm":
		opts.StuckSGM = "2_2"
	case "dead-mho":
		opts.DeadMHO = "mho1"
	}
	mz, err := checkpointtest.StartMaestro(opts)
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	defer mz.Close()
	var mhos []string
	for _, h := range mz.Orchestrators() {
		mhos = append(mhos, fmt.Sprintf("%s at %s:%d", h.Name(), h.Host(), h.Port()))
	}
	fmt.Fprintf(o.out, "Simulated Check Point Maestro security group %s at %s:%d: %d SGMs on 2 sites (%s), orchestrators %s, %s take %d; management server at %s\n",
		mz.Options().Name, mz.SGHost(), mz.SGPort(), len(mz.SGMs()), strings.Join(mz.SGMs(), " "), strings.Join(mhos, ", "),
		opts.Version, opts.Take, mz.Mgmt().URL())

	dir, err := os.MkdirTemp("", "hitless-quickstart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	mc := mz.Mgmt().ClientConfig()
	mc.Timeout = o.scaled(10 * time.Second)
	transcript := driver.NewTranscript(checkpointDemoPassword, checkpointDemoExpertPassword)
	pkg := mz.PackageFiles()[0]
	cfg := checkpoint.SecurityGroupConfig{
		Name: mz.Options().Name, Host: mz.SGHost(), Port: mz.SGPort(),
		Username: mz.Username(), Password: mz.Password(), ExpertPassword: mz.ExpertPassword(),
		KnownHostsFile: mz.KnownHostsFile(), PackagePath: pkg, OrchestratorPackagePath: pkg,
		Mgmt: mc, MgmtServerObject: checkpointtest.MaestroMgmtObject,
		CommandTimeout:   o.scaled(10 * time.Second),
		ReconnectTimeout: o.scaled(3 * time.Second),
		ReconnectBackoff: driver.Backoff{Initial: o.scaled(50 * time.Millisecond), Max: o.scaled(200 * time.Millisecond), Factor: 2},
		ApplyGrace:       o.scaled(2 * time.Second),
		ImportTiming:     upgrade.Timing{Interval: o.scaled(100 * time.Millisecond), Deadline: o.scaled(5 * time.Second)},
		TaskTiming:       upgrade.Timing{Interval: o.scaled(100 * time.Millisecond), Deadline: o.scaled(15 * time.Second)},
		Transcript:       transcript,
	}
	for _, h := range mz.Orchestrators() {
		cfg.Orchestrators = append(cfg.Orchestrators, checkpoint.Gateway{Name: h.Name(), Host: h.Host(), Port: h.Port()})
	}

	res := &result{Cluster: cfg.Name, Target: o.target, ProbeEvery: opts.ProbeEvery.String(), FinalVersions: map[string]string{}}
	final := func() map[string]string {
		f := map[string]string{}
		for _, id := range mz.SGMs() {
			f[id] = mz.SGMVersion(id)
		}
		for _, h := range mz.Orchestrators() {
			f[h.Name()] = h.Version()
		}
		return f
	}
	finish := func(err error) (*result, error) {
		probe := mz.Probe()
		probe.Stop()
		res.TrafficLostTicks, res.ProbeTicks, res.StillForwarding = probe.LostTicks(), probe.Ticks(), probe.Forwarding()
		res.FinalVersions = final()
		hostName := map[string]string{fmt.Sprintf("%s:%d", mz.SGHost(), mz.SGPort()): cfg.Name}
		for _, h := range mz.Orchestrators() {
			hostName[fmt.Sprintf("%s:%d", h.Host(), h.Port())] = h.Name()
		}
		for _, e := range transcript.Entries() {
			if maestroRead(e.Command) {
				continue
			}
			if strings.HasPrefix(e.Command, "g_clusterXL_admin ") && strings.HasSuffix(e.Command, " down") && e.Error == "" {
				res.Failovers++
			}
			host := e.Host
			if n, ok := hostName[host]; ok {
				host = n + " (" + host + ")"
			}
			cmd := e.Command
			if strings.HasPrefix(cmd, "scp ") {
				cmd = "scp " + filepath.Base(strings.Fields(cmd)[1])
			}
			res.Commands = append(res.Commands, command{Host: host, Command: cmd, Duration: e.Duration.Round(time.Millisecond).String(), Error: e.Error})
		}
		for _, c := range mz.Mgmt().WriteCalls() {
			cmd := "mgmt " + c.Command
			for _, k := range []string{"name", "targets", "access", "threat-prevention", "install-on-all-cluster-members-or-fail"} {
				if v, ok := c.Body[k]; ok {
					cmd += fmt.Sprintf(" %s=%v", k, v)
				}
			}
			res.Commands = append(res.Commands, command{Host: mz.Mgmt().URL(), Command: cmd})
		}
		if err != nil {
			res.Explanation = explain(err, maestroReasons, res.StillForwarding, "The security group kept forwarding traffic throughout.", "WARNING: the probe says the security group is not forwarding now.")
		}
		res.OK = err == nil
		return res, err
	}

	timing := upgrade.Timing{Interval: o.scaled(100 * time.Millisecond), MinHealthy: o.scaled(300 * time.Millisecond), Deadline: o.scaled(20 * time.Second)}
	tasks := &checkpoint.FileTaskLog{Path: filepath.Join(dir, "tasks.json")}
	attempt := func(j upgrade.Journal, showPlan bool) (*upgrade.Report, error) {
		g, err := checkpoint.NewSecurityGroup(ctx, cfg)
		if err != nil {
			return nil, err
		}
		defer g.Close()
		snap, err := g.Observe(ctx)
		if err != nil {
			return nil, err
		}
		// The planner reads the window's start from the same journal the
		// executor writes.
		plan, err := checkpoint.SecurityGroupPlanner{Group: g, GateTiming: timing, Tasks: tasks, Journal: j}.Plan(snap, o.target)
		if err != nil {
			return nil, err
		}
		if showPlan {
			fmt.Fprintf(o.out, "\nDry run:\n%s\n", plan.Render())
		}
		retry := upgrade.Retry{Attempts: 2, Initial: o.scaled(200 * time.Millisecond), Max: o.scaled(time.Second)}
		ex := &upgrade.Executor{OnEvent: progress(o.out), Journal: j, Retry: retry,
			SettleTiming: upgrade.Timing{Interval: o.scaled(50 * time.Millisecond), Deadline: o.scaled(10 * time.Second)},
			Redact:       []string{checkpointDemoPassword, checkpointDemoExpertPassword, checkpointtest.DefaultMgmtPassword}}
		return ex.Run(ctx, g, plan)
	}
	rep, err := runWithCrash(ctx, o, dir, attempt)
	if rep != nil {
		res.Report, res.Steps = rep, rep.Steps
	}
	if err == nil {
		err = checkFinal(final(), o.target)
	}
	return finish(err)
}

// maestroRead reports whether a security-group command only reads.
func maestroRead(cmd string) bool {
	if rest, ok := strings.CutPrefix(cmd, "g_all "); ok {
		if strings.HasPrefix(rest, "-b ") {
			if f := strings.SplitN(rest, " ", 3); len(f) == 3 {
				rest = f[2]
			}
		}
		return checkpointRead(rest)
	}
	for _, p := range []string{"asg stat", "grep -H 'Bonding Mode'", "$FWDIR/scripts/migrate_server verify", "show cluster configuration image auto-clone", "show asset system"} {
		if strings.HasPrefix(cmd, p) {
			return true
		}
	}
	return checkpointRead(cmd)
}

// maestroReasons explain a stopped Maestro run, first match wins.
var maestroReasons = append([]reason{
	{checkpoint.ErrLACPBond, "An LACP uplink bond blocks the zero-downtime (MVC) upgrade (PMTR-88191), so nothing was changed; the alternative is the documented minimum-downtime procedure (SecurityGroupPlanner.MinimumDowntime), which hitless runs only when asked and reports as declared downtime."},
	{checkpoint.ErrManagementVersion, "The management server runs a release below the target and could not manage the upgraded security group, so nothing was changed: upgrade management first."},
	{checkpoint.ErrVerifierFailed, "The pre-upgrade verifier (migrate_server verify) reported problems, so nothing was changed; its report is in the pre-check step."},
	{checkpoint.ErrWindow, "The step could not finish inside the allowed time window, so it was refused before it started."},
	{checkpoint.ErrSiteNotForwarding, "The step would have left a site without a forwarding SGM, or no orchestrator, so it was refused."},
	{checkpoint.ErrOrchestrator, "An orchestrator does not fit the upgrade (model or reachability), so nothing was changed."},
	{checkpoint.ErrTakeTooLow, "An SGM's Jumbo Hotfix take is below the minimum for the target, so the pre-checks refused to start; nothing was changed."},
	{checkpoint.ErrMultiStage, "The SGMs' release needs an intermediate release first, so the pre-checks refused to start; nothing was changed."},
	{upgrade.ErrGateTimeout, "A member did not come back as expected before the deadline (an SGM on its old release, or an orchestrator that did not return), so the run stopped; the other sub-group and orchestrator kept forwarding."},
}, checkpointReasons...)
