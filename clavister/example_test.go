package clavister_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"slices"
	"time"

	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/clavister/clavistertest"
	"github.com/hitless/hitless/upgrade"
)

// A dry run against the simulated pair: connect to both units, observe them,
// plan the documented procedure and let the executor run the read-only
// pre-checks. Nothing changes on either unit.
func ExamplePlanner() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pair, err := clavistertest.Start(clavistertest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = pair.Close() }()
	dir, err := os.MkdirTemp("", "clavister-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	firmware, err := pair.WriteFirmware(dir, "14.00.10.00-31300")
	if err != nil {
		log.Fatal(err)
	}

	u := pair.Units()
	cfg := clavister.Config{
		Name: "hq",
		// Each unit's own management address, never the shared cluster IP.
		Units: [2]clavister.Unit{
			{Name: u[0].Name(), Host: u[0].Host(), Port: u[0].Port()},
			{Name: u[1].Name(), Host: u[1].Host(), Port: u[1].Port()},
		},
		Username:       pair.Username(),
		Password:       pair.Password(),
		KnownHostsFile: pair.KnownHostsFile(),
		FirmwarePath:   firmware,
	}
	c, err := clavister.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = c.Close() }()

	snap, err := c.Observe(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range snap.Members {
		fmt.Printf("%s: %s, %s, healthy=%t\n", m.ID, m.Role, m.Version, m.Healthy)
	}
	plan, err := clavister.Planner{Cluster: c}.Plan(snap, "14.00.10.00-31300")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(plan.Render())

	rep, err := (&upgrade.Executor{DryRun: true}).Run(ctx, c, plan)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("dry run ok:", rep.OK)
	var sent []string
	for _, unit := range u {
		for _, cmd := range unit.Commands() {
			if !slices.Contains(sent, cmd) {
				sent = append(sent, cmd)
			}
		}
	}
	slices.Sort(sent)
	fmt.Println("commands sent:", sent)
	// Output:
	// fw-a: active, 14.00.09.00-31234, healthy=true
	// fw-b: standby, 14.00.09.00-31234, healthy=true
	// Plan for cluster hq -> 14.00.10.00-31300 (8 steps)
	//   1. stage:fw-b@14.00.10.00-31300       stage 14.00.10.00-31300 on INACTIVE fw-b: SCP cos-core-14.00.10.00-31300.upg, check its size with ls (nothing restarts; fw-a forwards)
	//   2. install:fw-b@14.00.10.00-31300     install 14.00.10.00-31300 on INACTIVE fw-b: check the staged cos-core-14.00.10.00-31300.upg, read ha on fw-a (ACTIVE, forwarding) and fw-b (INACTIVE), then "shutdown -reboot" (reboots; fw-a keeps forwarding) [disrupts fw-b]
	//   3. wait:fw-b@14.00.10.00-31300        wait until fw-b is back on 14.00.10.00-31300, INACTIVE, peer ALIVE, in sync; fw-a still ACTIVE without a failover
	//   4. failover:to:fw-b                   fail over to upgraded fw-b: ha -deactivate on ACTIVE fw-a
	//   5. wait:active:fw-b                   wait until ha on both units shows fw-b ACTIVE and fw-a INACTIVE, peer ALIVE on both
	//   6. stage:fw-a@14.00.10.00-31300       stage 14.00.10.00-31300 on INACTIVE fw-a: SCP cos-core-14.00.10.00-31300.upg, check its size with ls (nothing restarts; fw-b forwards)
	//   7. install:fw-a@14.00.10.00-31300     install 14.00.10.00-31300 on INACTIVE fw-a: check the staged cos-core-14.00.10.00-31300.upg, read ha on fw-b (ACTIVE, forwarding) and fw-a (INACTIVE), then "shutdown -reboot" (reboots; fw-b keeps forwarding) [disrupts fw-a]
	//   8. postcheck@14.00.10.00-31300        post-check: both units on 14.00.10.00-31300, one ACTIVE, peer ALIVE on both, in sync
	// dry run ok: true
	// commands sent: [about ha stats]
}
