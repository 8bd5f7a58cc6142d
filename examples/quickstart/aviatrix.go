package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
)

// aviatrixTarget is a Major.Minor: the plan resolves it to that minor's
// latest build in the controller's release catalog and only ever sends
// explicit versions.
const aviatrixTarget = "6.7"

var aviatrixFaults = map[string]string{
	"controller-never-returns": "the controller stays in its restart window (HTTP 502) after its first hop: the hop times out, no gateway is touched",
	"gateway-fails":            "one HA gateway's upgrade ends in upgrade_fail: the run stops, its primary keeps forwarding",
	"busy":                     "the controller answers every write with 'Active upgrade in progress.': nothing is changed",
	"backup-disabled":          "controller backup is not configured: the pre-checks refuse to start",
	"gateway-behind":           "a gateway is not on the controller's version: the plan is refused before any call that writes",
	"cid-expiry":               "the controller's session (CID) expires every 300 ms: the client logs in again and the run completes",
	"wrong-password":           "the controller login is refused: typed error, nothing is touched",
	"untrusted-cert":           "the controller's TLS certificate is not trusted: refused (there is no skip-verify switch)",
}

// runAviatrix upgrades a fake Aviatrix controller and 20 gateways in
// ActiveMesh pairs over TLS on 127.0.0.1: controller first, each hop's
// gateways in batches that never hold both members of a pair.
func runAviatrix(ctx context.Context, o options) (*result, error) {
	opts := aviatrixtest.Options{
		ControllerVersion: "6.5.1922",
		Pairs:             10,
		PlatformUpgrade:   o.scaled(400 * time.Millisecond),
		RestartWindow:     o.scaled(200 * time.Millisecond),
		NotReadyWindow:    o.scaled(100 * time.Millisecond),
		GatewayUpgrade:    o.scaled(150 * time.Millisecond),
		ProbeEvery:        o.scaled(10 * time.Millisecond),
	}
	switch o.fault {
	case "controller-never-returns":
		opts.ControllerNeverReturns = true
	case "gateway-fails":
		opts.FailGateways = []string{"spoke-003-hagw"}
	case "busy":
		opts.Busy = true
	case "backup-disabled":
		opts.BackupDisabled = true
	case "cid-expiry":
		opts.SessionTTL = o.scaled(300 * time.Millisecond)
	}
	fake, err := aviatrixtest.Start(opts)
	if err != nil {
		return nil, fmt.Errorf("start fake controller: %w", err)
	}
	defer fake.Close()
	if o.fault == "gateway-behind" {
		fake.SetGatewayVersion("spoke-002", "6.5.1800")
	}
	fmt.Fprintf(o.out, "Simulated Aviatrix controller %s at %s with %d gateways in ActiveMesh pairs\n",
		fake.ControllerVersion(), fake.URL(), len(fake.GatewayNames()))

	cfg := fake.ClientConfig()
	cfg.Timeout = o.scaled(5 * time.Second)
	switch o.fault {
	case "wrong-password":
		cfg.Password = "not-the-password"
	case "untrusted-cert":
		cfg.RootCAs = x509.NewCertPool()
	}
	res := &result{Cluster: "aviatrix", Target: o.target, FinalVersions: map[string]string{}, ProbeEvery: opts.ProbeEvery.String()}
	finish := func(err error) (*result, error) {
		for _, p := range fake.Probes() {
			p.Stop()
		}
		sum := fake.ProbeSummary()
		res.TrafficLostTicks, res.ProbeTicks = sum.LostTicks, sum.Ticks
		res.StillForwarding = true
		for _, p := range fake.Probes() {
			res.StillForwarding = res.StillForwarding && p.Forwarding()
		}
		res.FinalVersions["controller"] = fake.ControllerVersion()
		for _, n := range fake.GatewayNames() {
			res.FinalVersions[n] = fake.GatewayVersion(n)
		}
		for _, k := range fake.Calls() {
			cmd := k.Action
			for _, p := range []string{"gateway_list", "software_version", "version"} {
				if v, ok := k.Params[p]; ok {
					cmd += " " + p + "=" + v
				}
			}
			res.Commands = append(res.Commands, command{Host: fake.URL(), Command: cmd})
		}
		if err != nil {
			res.Explanation = explain(err, aviatrixReasons, res.StillForwarding, "Every HA pair kept forwarding traffic throughout.", "WARNING: the probe says some HA pair is not forwarding now.")
		}
		res.OK = err == nil
		return res, err
	}

	timing := aviatrix.Waits{
		ControllerSettle: o.scaled(50 * time.Millisecond), ControllerPoll: o.scaled(20 * time.Millisecond), ControllerDeadline: o.scaled(8 * time.Second),
		GatewayPoll: o.scaled(20 * time.Millisecond), GatewayDeadline: o.scaled(8 * time.Second),
		Verify: upgrade.Timing{Interval: o.scaled(20 * time.Millisecond), MinHealthy: o.scaled(40 * time.Millisecond), Deadline: o.scaled(8 * time.Second)},
	}
	dir, err := os.MkdirTemp("", "hitless-quickstart-")
	if err != nil {
		return finish(err)
	}
	defer os.RemoveAll(dir)
	// attempt is one "process": log in, read the inventory, plan, run with
	// journal j. A resumed process finds gateways behind a controller that
	// already hopped: the same request plus CatchUp continues the run (a
	// fresh one refuses lagging gateways, the documented pre-check).
	attempt := func(j upgrade.Journal, first bool) (*upgrade.Report, error) {
		client, err := aviatrix.NewClient(cfg)
		if err != nil {
			return nil, err
		}
		cluster, err := aviatrix.Open(ctx, client, aviatrix.ClusterOptions{Name: "aviatrix", Waits: timing})
		if err != nil {
			return nil, err
		}
		plan, err := cluster.PlanUpgrade(aviatrix.UpgradeRequest{Target: o.target, BatchSize: 4, CatchUp: !first})
		if err != nil {
			return nil, err
		}
		res.Target = plan.To
		if first {
			fmt.Fprintf(o.out, "\nController path: %s -> %v\n", plan.From, plan.Hops)
			for _, w := range plan.Warnings {
				fmt.Fprintf(o.out, "warning: %s\n", w)
			}
			fmt.Fprintf(o.out, "\nDry run:\n%s\n", plan.Render())
		}
		return (&upgrade.Executor{OnEvent: progress(o.out), Journal: j, Redact: []string{cfg.Password}}).Run(ctx, cluster, plan.Plan)
	}
	rep, err := runWithCrash(ctx, o, dir, attempt)
	if rep != nil {
		res.Report, res.Steps = rep, rep.Steps
	}
	if err == nil {
		final := map[string]string{"controller": fake.ControllerVersion()}
		for _, n := range fake.GatewayNames() {
			final[n] = fake.GatewayVersion(n)
		}
		err = checkFinal(final, res.Target)
	}
	return finish(err)
}

// aviatrixReasons explain a stopped Aviatrix run, first match wins.
var aviatrixReasons = []reason{
	{aviatrix.ErrTLS, "The controller's certificate did not verify; hitless never talks to an unverified controller."},
	{aviatrix.ErrAuth, "The controller refused the login; nothing was changed."},
	{aviatrix.ErrBusy, "The controller is busy with another upgrade; nothing was changed."},
	{upgrade.ErrPreCheck, "A pre-check failed, so no step was started."},
	{upgrade.ErrInvalid, "The upgrade-path rules refused the plan before any call that writes."},
	{aviatrix.ErrPlan, "The upgrade-path rules refused the plan before any call that writes."},
	{upgrade.ErrUnsafe, "The availability guard refused a batch that could have left an HA pair without a forwarding gateway."},
	{upgrade.ErrGateTimeout, "A controller hop or gateway batch did not complete in time; the run stopped before the next step."},
	{aviatrix.ErrTimeout, "A controller hop or gateway batch did not complete in time; the run stopped before the next step."},
	{aviatrix.ErrUpgradeFailed, "A gateway upgrade failed; the run stopped before touching its pair's other member."},
}
