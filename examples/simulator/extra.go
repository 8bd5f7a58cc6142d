package main

import (
	"fmt"
	"time"

	"github.com/hitless/hitless/checkpoint/checkpointtest"
	"github.com/hitless/hitless/examples/simulator/simkit"
	"github.com/hitless/hitless/upgrade"
)

// The simulators of vendors examples/fleet does not drive yet (Check
// Point: its plans also need a management server), for users' own code.

// extraVendors starts them.
func extraVendors() map[string]func(simkit.Options) (*running, error) {
	return map[string]func(simkit.Options) (*running, error){"checkpoint": startCheckPoint}
}

func extraFaults() map[string]map[string]string {
	return map[string]map[string]string{
		"checkpoint": {
			"back-on-old":   "the second member comes back from its upgrade on its old version",
			"never-returns": "the second member's reboots never end",
			"stays-ready":   "the second member stays READY after its upgrade",
		},
	}
}

// fleetNotYet says why examples/fleet does not drive them.
func fleetNotYet() map[string]string {
	return map[string]string{"checkpoint": "its plans need a management server, and the fleet inventory has no mgmt section yet; see checkpoint.New, checkpoint.Planner and checkpointtest.NewMgmtServer"}
}

func extraTargets() map[string]string {
	return map[string]string{"checkpoint": "R82"}
}

// scaler divides durations by the speed.
func scaler(speed float64) func(time.Duration) time.Duration {
	return func(d time.Duration) time.Duration { return time.Duration(float64(d) / speed) }
}

func startCheckPoint(o simkit.Options) (*running, error) {
	sp := scaler(o.Speed)
	opts := checkpointtest.Options{Names: o.Names, Version: o.Version, Password: o.Password,
		ApplyDelay: sp(100 * time.Millisecond), RebootDuration: sp(time.Second),
		FailoverGap: sp(300 * time.Millisecond), ProbeEvery: sp(100 * time.Millisecond)}
	second := "gw-b"
	if len(o.Names) > 1 {
		second = o.Names[1]
	}
	opts.Faults.Set(o.Fault, second)
	sim, err := checkpointtest.Start(opts)
	if err != nil {
		return nil, err
	}
	r := &running{vendor: "checkpoint", title: vendorTitles()["checkpoint"], username: sim.Username(), password: sim.Password(),
		expertPassword: sim.ExpertPassword() + "   <- DEMO expert password", knownHosts: sim.KnownHostsFile(), gate: upgrade.DefaultGateTiming(),
		probe:      func() (int, int) { return sim.Probe().LostTicks(), sim.Probe().Ticks() },
		stopProbes: func() { sim.Probe().Stop() },
		close:      func() { _ = sim.Close() },
	}
	for _, m := range sim.Members() {
		r.endpoints = append(r.endpoints, simkit.Endpoint{Name: m.Name(), Addr: m.Addr(), Proto: "ssh"})
	}
	r.state = func() []string {
		var out []string
		for _, m := range sim.Members() {
			st := m.State()
			if m.Down() {
				st = "DOWN (rebooting)"
			}
			out = append(out, fmt.Sprintf("%s: %s, %s", m.Name(), st, m.Version()))
		}
		return out
	}
	return r, nil
}
