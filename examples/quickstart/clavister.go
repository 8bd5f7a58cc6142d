package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/clavister/clavistertest"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

const clavisterTarget = "14.00.10.00-31870"

// clavisterDemoPassword is the simulated units' CLI password. It is fixed
// so the tests can prove it never appears in any output.
const clavisterDemoPassword = "hitless-Demo-Pw-7x"

var clavisterFaults = map[string]string{
	"never-returns":    "the inactive unit's restart never comes back: the health gate times out, the active unit keeps forwarding",
	"back-on-old":      "the inactive unit comes back on its old firmware: refused before the failover",
	"sync-stuck":       "HA object sync stops at 60 %: no failover to an unsynchronised unit",
	"peer-not-alive":   "both units report the peer NOT ALIVE: the pre-checks refuse to start",
	"truncated-upload": "the firmware upload arrives truncated: the size check refuses to apply it",
	"bad-ha-output":    "`ha` prints a garbled status (no Error: line): the parser fails closed, nothing is changed",
	"wrong-password":   "the CLI password is wrong: typed error naming the unit, nothing is touched",
	"unknown-host-key": "known_hosts does not list the units: refused before logging in",
	"missing-firmware": "the .upg file does not exist: the configuration is refused before any connection",
}

// runClavister upgrades a simulated cOS Core HA pair through the real
// driver over SSH on 127.0.0.1.
func runClavister(ctx context.Context, o options) (*result, error) {
	opts := clavistertest.Options{
		Names:    [2]string{"fw-a", "fw-b"},
		Password: clavisterDemoPassword,
		// The simulated `ls` prints sizes so that the upload is verified
		// before anything is applied. This is a hitless assumption, not a
		// capture: the public cOS Core `ls` capture prints names only, and
		// with such a listing clavister refuses to apply an upload it cannot
		// size when Config.RequireUploadSize is set.
		ListSizes:      true,
		ApplyDelay:     o.scaled(200 * time.Millisecond),
		RebootDuration: o.scaled(2 * time.Second),
		SyncDuration:   o.scaled(time.Second),
		ProbeEvery:     o.scaled(100 * time.Millisecond),
	}
	switch o.fault {
	case "never-returns":
		opts.Faults.NeverReturns = "fw-b"
	case "back-on-old":
		opts.Faults.BackOnOld = "fw-b"
	case "sync-stuck":
		opts.Faults.SyncStuckAt = 60
	case "peer-not-alive":
		opts.Faults.PeerNotAlive = true
	case "truncated-upload":
		opts.Faults.TruncateUpload = true
	case "bad-ha-output":
		opts.Faults.GarbledHA = true
	}
	sim, err := clavistertest.Start(opts)
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	defer sim.Close()
	fmt.Fprintf(o.out, "Simulated cOS Core HA pair: %s (master, active) at %s, %s (slave, inactive) at %s, firmware %s\n",
		sim.Units()[0].Name(), sim.Units()[0].Addr(), sim.Units()[1].Name(), sim.Units()[1].Addr(), sim.Units()[0].Version())

	dir, err := os.MkdirTemp("", "hitless-quickstart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fw, err := sim.WriteFirmware(dir, o.target)
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
	case "missing-firmware":
		fw = filepath.Join(dir, "missing.upg")
	}
	transcript := driver.NewTranscript(password)
	cfg := clavister.Config{
		Name:             "cos-ha",
		Username:         sim.Username(),
		Password:         password,
		KnownHostsFile:   known,
		FirmwarePath:     fw,
		CommandTimeout:   o.scaled(10 * time.Second),
		ReconnectTimeout: o.scaled(time.Second),
		// The simulated unit restarts ApplyDelay after the apply command; a
		// resumed run waits this long for a restart before concluding that
		// an interrupted install never applied.
		ApplyGrace: o.scaled(time.Second),
		Transcript: transcript,
	}
	for i, u := range sim.Units() {
		cfg.Units[i] = clavister.Unit{Name: u.Name(), Host: u.Host(), Port: u.Port()}
	}

	res := &result{Cluster: cfg.Name, Target: o.target, ProbeEvery: opts.ProbeEvery.String(), FinalVersions: map[string]string{}}
	finish := func(err error) (*result, error) {
		probe := sim.Probe()
		probe.Stop()
		res.TrafficLostTicks, res.ProbeTicks, res.StillForwarding = probe.LostTicks(), probe.Ticks(), probe.Forwarding()
		for _, u := range sim.Units() {
			res.FinalVersions[u.Name()] = u.Version()
		}
		unitAt := map[string]string{}
		for _, u := range sim.Units() {
			unitAt[u.Addr()] = u.Name()
		}
		for _, e := range transcript.Entries() {
			host := e.Host
			if n, ok := unitAt[host]; ok {
				host = n + " (" + host + ")"
			}
			res.Commands = append(res.Commands, command{Host: host, Command: e.Command, Duration: e.Duration.Round(time.Millisecond).String(), Error: e.Error})
		}
		if err != nil {
			res.Explanation = explain(err, clavisterReasons, res.StillForwarding, "The cluster kept forwarding traffic throughout.", "WARNING: the probe says the cluster is not forwarding now.")
		}
		res.OK = err == nil
		return res, err
	}

	timing := upgrade.Timing{Interval: o.scaled(100 * time.Millisecond), MinHealthy: o.scaled(300 * time.Millisecond), Deadline: o.scaled(15 * time.Second)}
	// attempt is one "process": connect, observe, plan, run with journal j.
	attempt := func(j upgrade.Journal, showPlan bool) (*upgrade.Report, error) {
		c, err := clavister.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		snap, err := c.Observe(ctx)
		if err != nil {
			return nil, err
		}
		plan, err := clavister.Planner{Cluster: c, GateTiming: timing, Journal: j}.Plan(snap, o.target)
		if err != nil {
			return nil, err
		}
		if showPlan {
			fmt.Fprintf(o.out, "\nDry run:\n%s\n", plan.Render())
		}
		// The stage steps (the SCP uploads) are idempotent: the executor
		// retries a failed one, here on the demo's time scale.
		retry := upgrade.Retry{Attempts: 3, Initial: o.scaled(500 * time.Millisecond), Max: o.scaled(2 * time.Second)}
		return (&upgrade.Executor{OnEvent: progress(o.out), Journal: j, Redact: []string{password}, Retry: retry}).Run(ctx, c, plan)
	}
	rep, err := runWithCrash(ctx, o, dir, attempt)
	if rep != nil {
		res.Report, res.Steps = rep, rep.Steps
	}
	if err == nil {
		final := map[string]string{}
		for _, u := range sim.Units() {
			final[u.Name()] = u.Version()
		}
		err = checkFinal(final, o.target)
	}
	return finish(err)
}

// clavisterReasons explain a stopped Clavister run, first match wins.
var clavisterReasons = []reason{
	{driver.ErrAuth, "Login was refused; nothing was changed on any unit."},
	{driver.ErrHostKey, "A unit's SSH host key is not the one in known_hosts; hitless never logs in to an unverified host."},
	{clavister.ErrConfig, "The configuration was refused before connecting to anything."},
	{upgrade.ErrPreCheck, "A pre-check failed, so no step was started."},
	{driver.ErrSizeMismatch, "The firmware stored on the unit is not the size of the local file, so it was not applied: the unit never restarted and still runs its old firmware."},
	{clavister.ErrUploadUnverified, "The unit's file listing does not show sizes, so the upload could not be verified and was not applied (when Config.RequireUploadSize is set)."},
	{clavister.ErrNotStaged, "The firmware package was not on the unit when it was to be applied, so nothing was applied; start a new run to stage it again."},
	{clavister.ErrPeerNotForwarding, "Right before restarting a unit, its peer was not seen ACTIVE and forwarding on the devices, so the unit was not restarted."},
	{upgrade.ErrUndeclaredDisruption, "A unit stopped forwarding outside the plan, so the run stopped at once."},
	{upgrade.ErrNotConverged, "The pair is not in the plan's end state (both units on the target, one ACTIVE, in sync), although every step is done."},
	{clavister.ErrUnreadable, "A unit's output could not be read, so hitless failed closed: nothing was planned or changed."},
	{upgrade.ErrUnsafe, "The availability guard refused a step that could have left the cluster without a forwarding unit."},
	{upgrade.ErrPermanent, "A unit came back from its upgrade in a state waiting cannot fix (e.g. on its old firmware), so the run stopped at once, before any failover."},
	{upgrade.ErrGateTimeout, "A health gate did not pass before its deadline, so the run stopped before the next disruptive step."},
	{upgrade.ErrInvalid, "The cluster's state does not allow a plan (see the error)."},
}
