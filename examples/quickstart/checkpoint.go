package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/checkpoint/checkpointtest"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// The Check Point demos: a ClusterXL High Availability pair on R81.20
// (Jumbo take 92, the minimum the project requires before R82) upgraded to
// R82, or (-mode maestro, see maestro.go) a Maestro security group, or (-mode vsx) a VSX pair with three Virtual Systems on R81.10
// upgraded to R81.20 with its Jumbo Hotfix (take 92) and the CoreXL Dynamic
// Balancing workaround, both with the Multi-Version Cluster procedure and
// a management server (the TLS fake) that sets the cluster object's
// version and installs the policies.
const (
	checkpointTarget    = "R82"
	checkpointVSXTarget = "R81.20"
	checkpointVSXJumbo  = 92
)

// The simulated members' passwords and the management fake's are fixed so
// the tests can prove they never appear in any output.
const (
	checkpointDemoPassword       = "hitless-CP-Demo-Pw-9"
	checkpointDemoExpertPassword = "hitless-CP-Expert-Pw-4"
)

var checkpointFaults = map[string]string{
	"import-never-finishes": "CPUSE never lists the imported package on the STANDBY member: the stage step times out before anything is disrupted",
	"stays-ready":           "the upgraded member stays READY after MVC on and the policy: the run stops before the failover",
	"mvc-stays-off":         "`cphaconf mvc on` prints nothing but MVC stays off: the read-back stops the run",
	"back-on-old":           "the upgraded member comes back on its old release: refused before the failover",
	"never-returns":         "the upgraded member's reboot never ends: the gate times out, the ACTIVE member keeps forwarding",
	"policy-fails":          "the policy installation fails on the upgraded member, where it must succeed: the run stops",
	"take-too-low":          "the members run Jumbo take 80, below the minimum for the target: the pre-checks refuse to start",
	"wrong-mgmt-password":   "the management API password is wrong: typed error, nothing is touched",
	"impostor-cert":         "the management server presents a certificate that is not the configured one: refused, nothing is touched",
	"vs-not-loaded":         "(-mode vsx) a Virtual System does not load after the upgraded member's reboot: the run stops before MVC",
}

// runCheckpoint upgrades a simulated Check Point cluster through the real
// SSH driver and the management API client over TLS on 127.0.0.1.
func runCheckpoint(ctx context.Context, o options) (*result, error) {
	vsx := false
	switch o.mode {
	case "", "gateway":
	case "vsx":
		vsx = true
	case "maestro":
		return runMaestro(ctx, o)
	default:
		return nil, fmt.Errorf("-mode %q: want gateway, vsx or maestro", o.mode)
	}
	if o.fault != "" && !checkpointModeFaults[o.fault] {
		return nil, fmt.Errorf("-fault %s needs -mode maestro", o.fault)
	}
	if o.target == "" {
		o.target = checkpointTarget
		if vsx {
			o.target = checkpointVSXTarget
		}
	}
	opts := checkpointtest.Options{
		Names:          []string{"gw-a", "gw-b"},
		Version:        "R81.20",
		Take:           92,
		Password:       checkpointDemoPassword,
		ExpertPassword: checkpointDemoExpertPassword,
		ImportDuration: o.scaled(300 * time.Millisecond),
		ApplyDelay:     o.scaled(200 * time.Millisecond),
		RebootDuration: o.scaled(2 * time.Second),
		FailoverGap:    o.scaled(time.Second),
		ProbeEvery:     o.scaled(100 * time.Millisecond),
	}
	if vsx {
		opts.Version, opts.VSX = "R81.10", true
		opts.VirtualSystems = []checkpointtest.VirtualSystem{{ID: 1, Name: "vs1"}, {ID: 2, Name: "vs2"}, {ID: 3, Name: "vs3"}}
		opts.LoginContext = 2 // sessions land in a Virtual System: commands must go to VS0
	}
	opts.Faults.Set(o.fault, "gw-b")
	switch o.fault {
	case "take-too-low":
		opts.Take = 80
	case "vs-not-loaded":
		if !vsx {
			return nil, errors.New("-fault vs-not-loaded needs -mode vsx")
		}
		opts.Faults.VSNotLoaded = map[string]int{"gw-b": 2}
	}
	sim, err := checkpointtest.Start(opts)
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	defer sim.Close()

	object := "cp-cluster"
	var mgmtMembers []checkpointtest.MgmtMember
	for _, m := range sim.Members() {
		mgmtMembers = append(mgmtMembers, checkpointtest.MgmtMember{Name: m.Name(), IPAddress: m.Host()})
	}
	mo := checkpointtest.MgmtOptions{
		PolicyInstall: o.scaled(400 * time.Millisecond), VSXUpgrade: o.scaled(400 * time.Millisecond), TaskTime: o.scaled(50 * time.Millisecond),
		// Each member's install-policy outcome follows the simulated MVC
		// model (an old member fails a policy compiled for the new
		// release); a successful install is reported back to the member.
		PolicyResult:      func(_, member string) string { return sim.PolicyResult(member) },
		OnPolicyInstalled: func(_, member string, _, _ bool) { sim.PolicyInstalled(member) },
	}
	var vsNames []string
	if vsx {
		object = "cp-vsx"
		for _, vs := range opts.VirtualSystems {
			vsNames = append(vsNames, vs.Name)
		}
		mo.VSXClusters = []checkpointtest.MgmtVSXCluster{{Name: object, Version: opts.Version, Members: mgmtMembers, VirtualSystems: vsNames}}
	} else {
		mo.Clusters = []checkpointtest.MgmtCluster{{Name: object, Version: opts.Version, Members: mgmtMembers}}
	}
	mgmt, err := checkpointtest.NewMgmtServer(mo)
	if err != nil {
		return nil, fmt.Errorf("start management fake: %w", err)
	}
	defer mgmt.Close()
	if o.fault == "policy-fails" {
		mgmt.FailPolicyOn("gw-b", true)
	}
	kind := "ClusterXL High Availability pair"
	if vsx {
		kind = fmt.Sprintf("VSX pair with %d Virtual Systems", len(vsNames))
	}
	fmt.Fprintf(o.out, "Simulated Check Point %s: %s (ACTIVE) at %s, %s (STANDBY) at %s, %s take %d; management server at %s\n",
		kind, sim.Members()[0].Name(), sim.Members()[0].Addr(), sim.Members()[1].Name(), sim.Members()[1].Addr(),
		opts.Version, sim.Members()[0].Take(), mgmt.URL())

	dir, err := os.MkdirTemp("", "hitless-quickstart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	pkg, err := checkpointtest.WritePackage(dir, checkpointtest.Package{Kind: checkpointtest.KindMajor, Release: o.target})
	if err != nil {
		return nil, err
	}
	mc := mgmt.ClientConfig()
	mc.Timeout = o.scaled(10 * time.Second)
	switch o.fault {
	case "wrong-mgmt-password":
		mc.Password = "not-the-password"
	case "impostor-cert":
		mgmt.SwapCertificate(true)
	}
	transcript := driver.NewTranscript(checkpointDemoPassword, checkpointDemoExpertPassword)
	cfg := checkpoint.Config{
		Name:           "cp-ha",
		ClusterObject:  object,
		VSX:            vsx,
		VirtualSystems: vsNames,
		Username:       sim.Username(),
		Password:       sim.Password(),
		ExpertPassword: sim.ExpertPassword(),
		KnownHostsFile: sim.KnownHostsFile(),
		PackagePath:    pkg,
		Mgmt:           mc,
		// The simulator has no `df`; a real run keeps the disk check on.
		MinFreeDiskMB:    -1,
		CommandTimeout:   o.scaled(10 * time.Second),
		ReconnectTimeout: o.scaled(time.Second),
		ReconnectBackoff: driver.Backoff{Initial: o.scaled(50 * time.Millisecond), Max: o.scaled(200 * time.Millisecond), Factor: 2},
		// The simulated member reboots ApplyDelay after `installer
		// upgrade`; a resumed run waits this long before concluding that an
		// interrupted upgrade never started.
		ApplyGrace:   o.scaled(2 * time.Second),
		ImportTiming: upgrade.Timing{Interval: o.scaled(100 * time.Millisecond), Deadline: o.scaled(5 * time.Second)},
		TaskTiming:   upgrade.Timing{Interval: o.scaled(100 * time.Millisecond), Deadline: o.scaled(15 * time.Second)},
		Transcript:   transcript,
	}
	if vsx {
		jumbo, err := checkpointtest.WritePackage(dir, checkpointtest.Package{Kind: checkpointtest.KindJumbo, Release: o.target, Take: checkpointVSXJumbo})
		if err != nil {
			return nil, err
		}
		cfg.JumboPath, cfg.JumboTake = jumbo, checkpointVSXJumbo
	}
	for _, m := range sim.Members() {
		cfg.Members = append(cfg.Members, checkpoint.Gateway{Name: m.Name(), Host: m.Host(), Port: m.Port()})
	}

	res := &result{Cluster: cfg.Name, Target: o.target, ProbeEvery: opts.ProbeEvery.String(), FinalVersions: map[string]string{}}
	finish := func(err error) (*result, error) {
		probe := sim.Probe()
		probe.Stop()
		res.TrafficLostTicks, res.ProbeTicks, res.StillForwarding = probe.LostTicks(), probe.Ticks(), probe.Forwarding()
		res.Failovers = sim.Failovers()
		for _, m := range sim.Members() {
			res.FinalVersions[m.Name()] = m.Version()
		}
		memberAt := map[string]string{}
		for _, m := range sim.Members() {
			memberAt[m.Addr()] = m.Name()
		}
		// The state-changing commands (the reads, hundreds of polls, are
		// left out), then the management API writes.
		for _, e := range transcript.Entries() {
			if checkpointRead(e.Command) {
				continue
			}
			host := e.Host
			if n, ok := memberAt[host]; ok {
				host = n + " (" + host + ")"
			}
			cmd := e.Command
			if strings.HasPrefix(cmd, "scp ") {
				cmd = "scp " + filepath.Base(strings.Fields(cmd)[1])
			}
			res.Commands = append(res.Commands, command{Host: host, Command: cmd, Duration: e.Duration.Round(time.Millisecond).String(), Error: e.Error})
		}
		for _, c := range mgmt.WriteCalls() {
			cmd := "mgmt " + c.Command
			for _, k := range []string{"name", "version", "targets", "access", "threat-prevention", "install-on-all-cluster-members-or-fail", "upgrade-params"} {
				if v, ok := c.Body[k]; ok {
					cmd += fmt.Sprintf(" %s=%v", k, v)
				}
			}
			res.Commands = append(res.Commands, command{Host: mgmt.URL(), Command: cmd})
		}
		if err != nil {
			res.Explanation = explain(err, checkpointReasons, res.StillForwarding, "The cluster kept forwarding traffic throughout.", "WARNING: the probe says the cluster is not forwarding now.")
		}
		res.OK = err == nil
		return res, err
	}

	timing := upgrade.Timing{Interval: o.scaled(100 * time.Millisecond), MinHealthy: o.scaled(300 * time.Millisecond), Deadline: o.scaled(20 * time.Second)}
	tasks := &checkpoint.FileTaskLog{Path: filepath.Join(dir, "tasks.json")}
	// attempt is one "process": connect, observe, plan, run with journal j
	// (and the task log next to it, so that a resumed process never
	// installs a policy that was installed already).
	attempt := func(j upgrade.Journal, showPlan bool) (*upgrade.Report, error) {
		c, err := checkpoint.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		snap, err := c.Observe(ctx)
		if err != nil {
			return nil, err
		}
		plan, err := checkpoint.Planner{Cluster: c, GateTiming: timing, Tasks: tasks}.Plan(snap, o.target)
		if err != nil {
			return nil, err
		}
		if showPlan {
			fmt.Fprintf(o.out, "\nDry run:\n%s\n", plan.Render())
		}
		retry := upgrade.Retry{Attempts: 2, Initial: o.scaled(200 * time.Millisecond), Max: o.scaled(time.Second)}
		ex := &upgrade.Executor{OnEvent: progress(o.out), Journal: j, Retry: retry,
			SettleTiming: upgrade.Timing{Interval: o.scaled(50 * time.Millisecond), Deadline: o.scaled(10 * time.Second)},
			Redact:       []string{checkpointDemoPassword, checkpointDemoExpertPassword, checkpointtest.DefaultMgmtPassword, "not-the-password"}}
		return ex.Run(ctx, c, plan)
	}
	rep, err := runWithCrash(ctx, o, dir, attempt)
	if rep != nil {
		res.Report, res.Steps = rep, rep.Steps
	}
	if err == nil {
		final := map[string]string{}
		for _, m := range sim.Members() {
			final[m.Name()] = m.Version()
		}
		err = checkFinal(final, o.target)
	}
	return finish(err)
}

// checkpointValidTarget accepts "" (the mode's demo target) or a Check
// Point release.
func checkpointValidTarget(s string) error {
	if s == "" {
		return nil
	}
	_, err := versionpath.CheckPoint{}.Parse(s)
	return err
}

// checkpointRead reports whether a device command only reads.
func checkpointRead(cmd string) bool {
	if inner, ok := strings.CutPrefix(cmd, "bash -lc 'vsenv "); ok {
		if _, rest, ok := strings.Cut(inner, " >/dev/null && "); ok {
			cmd = strings.TrimSuffix(rest, "'")
		}
	}
	for _, p := range []string{"cphaprob ", "fw ver", "fw ctl multik", "vsx stat", "cpinfo", "show installer", "ls -l ", "cat ", "df ",
		"echo hitless-", "expert", "exit", "set virtual-system 0", "installer verify ", `clish -c "show `,
		"lock database override", "set clienv rows "} {
		if strings.HasPrefix(cmd, p) {
			return true
		}
	}
	return false
}

// checkpointReasons explain a stopped Check Point run, first match wins.
var checkpointReasons = []reason{
	{checkpoint.ErrAuth, "The management server refused the API login; nothing was changed on any member or on management."},
	{checkpoint.ErrMgmtTLS, "The management server's certificate is not the configured one; hitless never sends credentials to an unverified server, and nothing was changed."},
	{checkpoint.ErrCertificateMismatch, "The management server's certificate is not the pinned one; nothing was sent to it and nothing was changed."},
	{driver.ErrAuth, "A member refused the SSH login; nothing was changed."},
	{driver.ErrHostKey, "A member's SSH host key is not the one in known_hosts; hitless never logs in to an unverified host."},
	{checkpoint.ErrConfig, "The configuration was refused before connecting to anything."},
	{checkpoint.ErrTakeTooLow, "The installed Jumbo Hotfix take is below the minimum for the target, so the pre-checks refused to start; nothing was changed."},
	{upgrade.ErrPreCheck, "A pre-check failed, so no step was started."},
	{checkpoint.ErrImportTimeout, "CPUSE did not finish importing the package, so the member was never upgraded: it still runs its old release."},
	{checkpoint.ErrMVCReadBack, "MVC did not read back as enabled on the upgraded member, so no policy was installed and no failover was made."},
	{checkpoint.ErrPolicyFailed, "A policy installation did not succeed where it had to, so the run stopped before the next step."},
	{checkpoint.ErrStillReady, "The upgraded member stayed READY after MVC and the policy, so the cluster was not failed over to it."},
	{checkpoint.ErrInstallNotTaken, "The upgraded member came back on its old release, so the run stopped at once, before any failover."},
	{checkpoint.ErrVSNotReady, "A Virtual System did not come back ready on the upgraded member, so the run stopped before MVC."},
	{checkpoint.ErrPeerNotForwarding, "Right before a disruptive command, no other member was seen ACTIVE and forwarding on the devices, so nothing was sent."},
	{upgrade.ErrUndeclaredDisruption, "A member stopped forwarding outside the plan, so the run stopped at once."},
	{upgrade.ErrNotConverged, "The cluster is not in the plan's end state although every step is done."},
	{upgrade.ErrUnsafe, "The availability guard refused a step that could have left the cluster without a forwarding member."},
	{upgrade.ErrPermanent, "A member came back in a state waiting cannot fix, so the run stopped at once."},
	{upgrade.ErrGateTimeout, "A health gate did not pass before its deadline, so the run stopped before the next disruptive step."},
	{upgrade.ErrInvalid, "The cluster's state or the upgrade-path rules do not allow a plan (see the error); nothing was changed."},
}
