// Command simulator starts one simulated HA cluster on 127.0.0.1 and runs
// it until interrupted, so that you can point your own program (or
// examples/fleet) at it, kill that program mid-upgrade and run it again to
// see it resume from its journal.
//
//	go run ./examples/simulator -vendor clavister    # cOS Core HA pair over SSH
//	go run ./examples/simulator -vendor aviatrix     # controller + gateway pairs over HTTPS
//	go run ./examples/simulator -vendor fake         # an upgradetest fake over loopback HTTP
//	go run ./examples/simulator -vendor junos        # vSRX chassis cluster over SSH
//	go run ./examples/simulator -vendor checkpoint   # ClusterXL HA cluster over SSH (simulator only)
//	go run ./examples/simulator -vendor clavister -speed 0.25 -fault back-on-old
//
// It prints each member's address, the known_hosts file (SSH) or CA bundle
// (HTTPS), the login, and — clearly labelled — the simulator's own demo
// password (random, valid while it runs; also written to a password file).
// For the vendors examples/fleet drives it also writes an inventory file
// for it (credentials by reference: password_file). It prints a line at
// every state change (roles, versions, reboots) and, when stopped with
// Ctrl-C (SIGINT) or SIGTERM, the traffic probe's lost ticks; then it shuts
// down cleanly and removes its files (unless -dir was given).
//
// Everything listens on 127.0.0.1 only. Exit codes: 0 stopped by a
// signal; 1 could not start; 2 bad flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hitless/hitless/examples/simulator/simkit"
	"github.com/hitless/hitless/upgrade"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(mainCtx(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// running is a started simulator, whatever its vendor.
type running struct {
	vendor, title  string
	endpoints      []simkit.Endpoint
	username       string
	password       string
	expertPassword string // Check Point's Clish `expert`
	knownHosts     string
	caBundle       string
	pkg, target    string
	gate           upgrade.Timing
	state          func() []string
	probe          func() (lost, ticks int)
	stopProbes     func()
	close          func()
	fleetSupported bool
}

// vendorTitles describe each vendor's simulator.
func vendorTitles() map[string]string {
	return map[string]string{
		"clavister":  "Clavister cOS Core HA pair (SSH, clavistertest)",
		"aviatrix":   "Aviatrix controller with ActiveMesh gateway pairs (HTTPS, aviatrixtest)",
		"fake":       "in-memory fake cluster served over loopback HTTP (upgradetest + fakeremote)",
		"junos":      "Juniper vSRX chassis cluster (SSH, junostest)",
		"checkpoint": "Check Point ClusterXL HA cluster (SSH, checkpointtest)",
	}
}

// faultsOf returns the vendor's faults.
func faultsOf(vendor string) map[string]string {
	if f := simkit.Faults(vendor); f != nil {
		return f
	}
	return extraFaults()[vendor]
}

func mainCtx(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vendor := fs.String("vendor", "clavister", "vendor to simulate: "+strings.Join(slices.Sorted(maps.Keys(vendorTitles())), ", "))
	speed := fs.Float64("speed", 1, "simulation speed factor (2 = twice as fast, 0.25 = four times slower: easier to interrupt a client mid-reboot)")
	fault := fs.String("fault", "", "inject a fault (see -list-faults)")
	listFaults := fs.Bool("list-faults", false, "list the faults of -vendor and exit")
	version := fs.String("version", "", "starting version (default: the simulator's)")
	target := fs.String("target", "", "target version for the printed inventory and the package written (default: the vendor's demo target)")
	pairs := fs.Int("pairs", 2, "Aviatrix: number of gateway pairs")
	members := fs.String("members", "", "member names, comma-separated (default: the simulator's)")
	dir := fs.String("dir", "", "directory for the files it writes (kept); default: a temporary directory removed at exit")
	quiet := fs.Bool("quiet", false, "do not print state changes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fs.Args())
		return 2
	}
	if _, ok := vendorTitles()[*vendor]; !ok {
		fmt.Fprintf(stderr, "unknown -vendor %q (%s)\n", *vendor, strings.Join(slices.Sorted(maps.Keys(vendorTitles())), ", "))
		return 2
	}
	faults := faultsOf(*vendor)
	if *listFaults {
		for _, n := range slices.Sorted(maps.Keys(faults)) {
			fmt.Fprintf(stdout, "%-26s %s\n", n, faults[n])
		}
		return 0
	}
	if _, ok := faults[*fault]; *fault != "" && !ok {
		fmt.Fprintf(stderr, "unknown -fault %q for %s (try -list-faults)\n", *fault, *vendor)
		return 2
	}
	if *speed <= 0 || *speed > 1000 {
		fmt.Fprintln(stderr, "-speed must be in (0, 1000]")
		return 2
	}
	if *pairs < 1 || *pairs > 500 {
		fmt.Fprintln(stderr, "-pairs must be in 1..500")
		return 2
	}
	var names []string
	if *members != "" {
		names = strings.Split(*members, ",")
	}

	workDir := *dir
	if workDir == "" {
		d, err := os.MkdirTemp("", "hitless-sim-")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		workDir = d
		defer os.RemoveAll(d)
	} else if err := os.MkdirAll(workDir, 0o700); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	workDir, _ = filepath.Abs(workDir)
	o := simkit.Options{Speed: *speed, Fault: *fault, Version: *version, Target: *target, Names: names, Pairs: *pairs, Dir: workDir, Serve: true, Name: "sim-" + *vendor}
	if o.Target == "" {
		o.Target = defaultTarget(*vendor)
	}
	r, err := start(*vendor, o)
	if err != nil {
		fmt.Fprintf(stderr, "start the %s simulator: %v\n", *vendor, err)
		return 1
	}
	defer r.close()
	r.target = o.Target

	if err := printInfo(stdout, r, o, workDir); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	began := time.Now()
	watch(ctx, stdout, r, *quiet, began)
	r.stopProbes()
	lost, ticks := r.probe()
	fmt.Fprintf(stdout, "\nstopped after %s: traffic probe lost %d of %d ticks; final state:\n", time.Since(began).Round(time.Second), lost, ticks)
	for _, l := range r.state() {
		fmt.Fprintf(stdout, "  %s\n", l)
	}
	return 0
}

// defaultTarget is the demo target of a vendor.
func defaultTarget(vendor string) string {
	if t := simkit.DefaultTarget(vendor); t != "" {
		return t
	}
	return extraTargets()[vendor]
}

// start starts the vendor's simulator.
func start(vendor string, o simkit.Options) (*running, error) {
	if starter, ok := extraVendors()[vendor]; ok {
		return starter(o)
	}
	s, err := simkit.Start(vendor, o)
	if err != nil {
		return nil, err
	}
	return &running{
		vendor: vendor, title: vendorTitles()[vendor], endpoints: s.Endpoints,
		username: s.Username, password: s.Password, knownHosts: s.KnownHosts, caBundle: s.CABundle, pkg: s.Package,
		gate: s.GateTiming(), state: s.State, probe: s.Probe, stopProbes: s.StopProbes, close: s.Close,
		fleetSupported: true,
	}, nil
}

// printInfo prints how to reach the simulator, and writes its password
// file and (for vendors examples/fleet drives) an inventory for it.
func printInfo(w io.Writer, r *running, o simkit.Options, dir string) error {
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(r.password+"\n"), 0o600); err != nil {
		return err
	}
	fault := o.Fault
	if fault == "" {
		fault = "none"
	}
	fmt.Fprintf(w, "hitless simulator: %s on 127.0.0.1 (speed %gx, fault: %s)\n\n", r.title, o.Speed, fault)
	for _, e := range r.endpoints {
		fmt.Fprintf(w, "  %-12s %-5s %s\n", e.Name, e.Proto, e.Addr)
	}
	fmt.Fprintln(w)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-15s %s\n", k, v)
		}
	}
	row("known_hosts", r.knownHosts)
	row("CA bundle", r.caBundle)
	if r.pkg != "" {
		row("package", r.pkg+" (upgrade to "+r.target+")")
	}
	row("username", r.username)
	row("password", r.password+"   <- the simulator's own DEMO password (random, valid while it runs)")
	row("expert password", r.expertPassword)
	row("password_file", pwFile)
	if r.knownHosts != "" && len(r.endpoints) > 0 {
		host, port, _ := strings.Cut(r.endpoints[0].Addr, ":")
		fmt.Fprintf(w, "\n  try: ssh -o UserKnownHostsFile=%s -p %s %s@%s\n", r.knownHosts, port, r.username, host)
	}
	if r.fleetSupported {
		inv := filepath.Join(dir, "inventory.yaml")
		if err := os.WriteFile(inv, []byte(inventory(r, o)), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nexamples/fleet inventory for it: %s\n", inv)
		fmt.Fprintf(w, "  go run ./examples/fleet -inventory %s -journal-dir %s\n", inv, filepath.Join(dir, "journals"))
		fmt.Fprintln(w, "  (interrupt it mid-upgrade and run it again: it resumes from its journal)")
	} else {
		fmt.Fprintf(w, "\nexamples/fleet cannot drive %s yet (%s): use it from your own code.\n", r.vendor, fleetNotYet()[r.vendor])
	}
	fmt.Fprintln(w, "\nRunning; stop it with Ctrl-C (SIGINT) or SIGTERM.")
	return nil
}

// inventory renders an examples/fleet inventory for the simulator: the
// paths are relative to the inventory's directory, the password is a
// reference (password_file).
func inventory(r *running, o simkit.Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# examples/fleet inventory for the %s simulator started by examples/simulator;\n# valid while it runs. The password is given by reference (password_file).\n", r.vendor)
	b.WriteString("rollout:\n  max_parallel_clusters: 1\nclusters:\n")
	fmt.Fprintf(&b, "  - name: sim-%s\n    vendor: %s\n    target: %q\n", r.vendor, r.vendor, r.target)
	g := r.gate
	gate := fmt.Sprintf("    gate: {interval: %s, min_healthy: %s, deadline: %s}\n", g.Interval, g.MinHealthy, g.Deadline)
	switch r.vendor {
	case "clavister":
		b.WriteString("    members:\n")
		for _, e := range r.endpoints {
			fmt.Fprintf(&b, "      - {name: %s, address: %q}\n", e.Name, e.Addr)
		}
		fmt.Fprintf(&b, "    username: %s\n    password_file: password\n    known_hosts: %s\n", r.username, r.knownHosts)
		if r.pkg != "" {
			fmt.Fprintf(&b, "    firmware: %s\n", filepath.Base(r.pkg))
		}
	case "aviatrix":
		fmt.Fprintf(&b, "    address: %s\n    username: %s\n    password_file: password\n    ca_bundle: %s\n    batch_size: 2\n",
			r.endpoints[0].Addr, r.username, filepath.Base(r.caBundle))
	case "junos":
		b.WriteString("    members:\n")
		for _, e := range r.endpoints {
			fmt.Fprintf(&b, "      - {name: %s, address: %q}\n", e.Name, e.Addr)
		}
		fmt.Fprintf(&b, "    username: %s\n    password_file: password\n    known_hosts: %s\n", r.username, r.knownHosts)
		if r.pkg != "" {
			fmt.Fprintf(&b, "    firmware: %s\n", filepath.Base(r.pkg))
		}
	case "fake":
		fmt.Fprintf(&b, "    address: %q\n    password_file: password\n", r.endpoints[0].Addr)
	}
	b.WriteString(gate)
	return b.String()
}

// watch prints the state at start and at every change until ctx ends.
func watch(ctx context.Context, w io.Writer, r *running, quiet bool, began time.Time) {
	last := ""
	show := func() {
		cur := strings.Join(r.state(), " | ")
		if cur != last && !quiet {
			fmt.Fprintf(w, "%8s  %s\n", time.Since(began).Round(10*time.Millisecond), cur)
		}
		last = cur
	}
	show()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			show()
		}
	}
}
