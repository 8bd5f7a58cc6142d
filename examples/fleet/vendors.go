package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/checkpoint/checkpointtest"
	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/examples/simulator/fakeremote"
	"github.com/hitless/hitless/examples/simulator/simkit"
	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// vendorDriver is the extension point of the fleet: everything it needs
// from one vendor package, to validate a cluster of the inventory and to
// open it (starting its simulator first when the cluster has `simulate:`).
// To add a vendor, add an entry to vendors() (and remove it from notYet).
type vendorDriver struct {
	// parseVersion validates a version in the vendor's grammar.
	parseVersion func(string) error
	// uses lists the cluster keys the vendor reads; any other key that is
	// set is refused. "members.address" and "address" are also required
	// for real (not simulated) clusters; "expert_password_env" makes the
	// expert password reference required, "mgmt" the mgmt: block.
	uses map[string]bool
	// files are the file keys required for real clusters, with what they
	// are ("known_hosts": "the OpenSSH known_hosts of both units").
	files map[string]string
	// password says when a password reference is required: "always", or
	// "real" (a simulated cluster has no login, e.g. an in-memory fake).
	password string
	// check reports vendor-specific problems (member counts, address
	// shapes); field paths are relative to the cluster entry.
	check func(c *ClusterSpec) []fieldProblem
	// faults are the simulator's named faults; defaultFault is the one
	// `-fail CLUSTER` injects.
	faults       map[string]string
	defaultFault string
	// open connects to the cluster (after starting its simulator).
	open func(ctx context.Context, c *ClusterSpec, env openEnv) (*opened, error)
}

// fieldProblem is one vendor-specific problem of a cluster entry.
type fieldProblem struct {
	path    []any // below the cluster entry, e.g. {"members"}
	field   string
	problem string
}

// openEnv is what open gets besides the cluster.
type openEnv struct {
	// dir is a private directory for the simulator's files (firmware, CA).
	dir string
	// journal is the cluster's journal (the executor uses the same).
	journal upgrade.Journal
	// artifacts is where a vendor keeps what a resumed run needs beside
	// the journal (Junos: the exported configuration, stage markers).
	artifacts string
}

// opened is one cluster ready for the rollout.
type opened struct {
	cluster upgrade.Cluster
	planner upgrade.Planner
	// redact lists the secrets the executor must keep out of its output.
	redact []string
	// retry and settle tune the executor (zero: defaults).
	retry  upgrade.Retry
	settle upgrade.Timing
	// about describes where the cluster is (one line per endpoint).
	about []string
	// probe returns the simulator's traffic probe figures of the run
	// (lost ticks, ticks), stopping it when it is ours; nil for a real
	// cluster (nothing to measure).
	probe func() (lost, ticks int)
	// closers run at the end, last first.
	closers []func()
}

func (o *opened) close() {
	for _, f := range slices.Backward(o.closers) {
		f()
	}
}

// vendors returns the vendors the fleet drives.
func vendors() map[string]vendorDriver {
	return map[string]vendorDriver{
		"clavister":  clavisterDriver(),
		"aviatrix":   aviatrixDriver(),
		"junos":      junosDriver(),
		"checkpoint": checkpointDriver(),
		"fake":       fakeDriver(),
	}
}

// notYet names the vendors hitless plans but the fleet cannot drive yet,
// with what is missing (an *UnsupportedVendorError). None at the moment:
// every vendor package of this tree (clavister, aviatrix, junos,
// checkpoint) is driven.
func notYet() map[string]string {
	return map[string]string{}
}

// gateOr returns the cluster's gate: override, or def.
func gateOr(c *ClusterSpec, def upgrade.Timing) upgrade.Timing {
	if c.Gate == nil {
		return def
	}
	return upgrade.Timing{Interval: c.gate.interval, MinHealthy: c.gate.minHealthy, Deadline: c.gate.deadline}
}

// ---- Clavister cOS Core HA pairs (SSH) ----

func clavisterDriver() vendorDriver {
	return vendorDriver{
		parseVersion: func(s string) error { _, err := clavister.ParseVersion(s); return err },
		uses: set("members", "members.address", "username", "password_env", "password_file",
			"known_hosts", "firmware", "gate"),
		files: map[string]string{
			"known_hosts": "the OpenSSH known_hosts file listing both units (host keys are always verified)",
			"firmware":    "the local .upg file to install",
		},
		password: "always",
		check: func(c *ClusterSpec) []fieldProblem {
			if len(c.Members) != 2 {
				return []fieldProblem{{path: []any{"members"}, field: "members", problem: fmt.Sprintf("a Clavister HA pair has exactly 2 members (units), not %d", len(c.Members))}}
			}
			if c.Simulate == nil && c.Username == "" {
				return []fieldProblem{{field: "username", problem: "required"}}
			}
			return nil
		},
		faults:       simkit.Faults("clavister"),
		defaultFault: simkit.DefaultFault("clavister"),
		open:         openClavister,
	}
}

// startSim starts the simulator of a cluster with `simulate:`.
func startSim(c *ClusterSpec, env openEnv, o *opened, extra simkit.Options) (*simkit.Sim, error) {
	extra.Speed, extra.Fault, extra.Version = c.Simulate.Speed, c.Simulate.Fault, c.Simulate.Version
	extra.Username, extra.Password, extra.Dir, extra.Name = c.Username, c.password.value(), env.dir, c.Name
	for _, m := range c.Members {
		extra.Names = append(extra.Names, m.Name)
	}
	sim, err := simkit.Start(c.Vendor, extra)
	if err != nil {
		return nil, fmt.Errorf("start the simulator: %w", err)
	}
	o.closers = append(o.closers, sim.Close)
	o.probe = func() (int, int) {
		sim.StopProbes()
		return sim.Probe()
	}
	return sim, nil
}

// openClavister connects to a cOS Core HA pair over SSH, starting its
// simulator first.
func openClavister(ctx context.Context, c *ClusterSpec, env openEnv) (*opened, error) {
	o := &opened{redact: []string{c.password.value()}}
	cfg := clavister.Config{Name: c.Name, Username: c.Username, Password: c.password.value(),
		KnownHostsFile: c.KnownHosts, FirmwarePath: c.Firmware}
	timing := gateOr(c, upgrade.Timing{})
	if c.Simulate != nil {
		sim, err := startSim(c, env, o, simkit.Options{Target: c.Target})
		if err != nil {
			return nil, err
		}
		cfg.Username, cfg.KnownHostsFile, cfg.FirmwarePath = sim.Username, sim.KnownHosts, sim.Package
		for i, u := range sim.Pair.Units() {
			cfg.Units[i] = clavister.Unit{Name: u.Name(), Host: u.Host(), Port: u.Port()}
			o.about = append(o.about, fmt.Sprintf("unit %s at %s (ssh)", u.Name(), u.Addr()))
		}
		// Client timeouts on the simulation's time scale.
		cfg.CommandTimeout, cfg.ReconnectTimeout, cfg.ApplyGrace = sim.Scale(10*time.Second), sim.Scale(time.Second), sim.Scale(time.Second)
		timing = gateOr(c, sim.GateTiming())
		o.retry = upgrade.Retry{Attempts: 3, Initial: sim.Scale(500 * time.Millisecond), Max: sim.Scale(2 * time.Second)}
		o.settle = upgrade.Timing{Interval: sim.Scale(100 * time.Millisecond), Deadline: sim.Scale(10 * time.Second)}
	} else {
		for i, m := range c.Members {
			host, port, _ := splitHostPort(m.Address, 22)
			cfg.Units[i] = clavister.Unit{Name: m.Name, Host: host, Port: port}
			o.about = append(o.about, fmt.Sprintf("unit %s at %s (ssh)", m.Name, m.Address))
		}
	}
	cl, err := clavister.New(ctx, cfg)
	if err != nil {
		o.close()
		return nil, err
	}
	o.closers = append(o.closers, func() { _ = cl.Close() })
	o.cluster = cl
	o.planner = clavister.Planner{Cluster: cl, GateTiming: timing, Journal: env.journal}
	return o, nil
}

// ---- Aviatrix controller and gateways (HTTPS API) ----

func aviatrixDriver() vendorDriver {
	return vendorDriver{
		parseVersion: func(s string) error { _, err := aviatrix.ParseVersion(s); return err },
		uses:         set("address", "username", "password_env", "password_file", "ca_bundle", "batch_size", "gate", "simulate.pairs"),
		password:     "always",
		check: func(c *ClusterSpec) []fieldProblem {
			var ps []fieldProblem
			if c.Simulate == nil {
				if c.Username == "" {
					ps = append(ps, fieldProblem{field: "username", problem: "required"})
				}
				if c.Address != "" {
					if err := checkHTTPSURL(c.Address); err != nil {
						ps = append(ps, fieldProblem{path: []any{"address"}, field: "address", problem: "the controller URL " + err.Error()})
					}
				}
			}
			return ps
		},
		faults:       simkit.Faults("aviatrix"),
		defaultFault: simkit.DefaultFault("aviatrix"),
		open:         openAviatrix,
	}
}

// aviatrixPlanner plans an Aviatrix upgrade with gateway batches.
type aviatrixPlanner struct {
	c     *aviatrix.Cluster
	batch int
}

// Plan implements upgrade.Planner: Cluster.Plan (one gateway per batch),
// or PlanUpgrade with the batch size and CatchUp (so a resumed run
// continues after a controller hop).
func (p aviatrixPlanner) Plan(s upgrade.Snapshot, target string) (upgrade.Plan, error) {
	if p.batch <= 1 {
		return p.c.Plan(s, target)
	}
	dp, err := p.c.PlanUpgrade(aviatrix.UpgradeRequest{Target: target, BatchSize: p.batch, CatchUp: true})
	if err != nil {
		return upgrade.Plan{}, err
	}
	return dp.Plan, nil
}

// openAviatrix logs in to an Aviatrix controller and reads its inventory,
// starting the fake controller first.
func openAviatrix(ctx context.Context, c *ClusterSpec, env openEnv) (*opened, error) {
	o := &opened{redact: []string{c.password.value()}}
	cfg := aviatrix.Config{URL: c.Address, Username: c.Username, Password: c.password.value(), CACertFile: c.CABundle}
	var waits aviatrix.Waits
	if s := c.Simulate; s != nil {
		sim, err := startSim(c, env, o, simkit.Options{Pairs: s.Pairs})
		if err != nil {
			return nil, err
		}
		fake := sim.Controller
		// The CA bundle goes through a file, as for a real controller.
		cfg = fake.ClientConfig()
		cfg.RootCAs, cfg.CACertFile, cfg.Timeout = nil, sim.CABundle, sim.Scale(5*time.Second)
		sp := sim.Scale
		waits = aviatrix.Waits{
			ControllerSettle: sp(50 * time.Millisecond), ControllerPoll: sp(20 * time.Millisecond), ControllerDeadline: sp(8 * time.Second),
			GatewayPoll: sp(20 * time.Millisecond), GatewayDeadline: sp(8 * time.Second), Verify: sim.GateTiming(),
		}
		o.about = append(o.about, fmt.Sprintf("controller at %s (https, CA bundle %s) with %d gateways in ActiveMesh pairs",
			fake.URL(), sim.CABundle, len(fake.GatewayNames())))
	} else {
		o.about = append(o.about, "controller at "+c.Address+" (https)")
	}
	if c.Gate != nil {
		// gate: interval paces every poll (and the settle after a
		// controller hop), deadline bounds every hop, batch and gate.
		g := c.gate
		waits = aviatrix.Waits{ControllerSettle: g.interval, ControllerPoll: g.interval, ControllerDeadline: g.deadline,
			GatewayPoll: g.interval, GatewayDeadline: g.deadline,
			Verify: upgrade.Timing{Interval: g.interval, MinHealthy: g.minHealthy, Deadline: g.deadline}}
	}
	client, err := aviatrix.NewClient(cfg)
	if err != nil {
		o.close()
		return nil, err
	}
	cl, err := aviatrix.Open(ctx, client, aviatrix.ClusterOptions{Name: c.Name, Waits: waits})
	if err != nil {
		o.close()
		return nil, err
	}
	o.cluster = cl
	o.planner = aviatrixPlanner{c: cl, batch: c.BatchSize}
	return o, nil
}

// ---- Juniper SRX/vSRX chassis clusters (SSH) ----

func junosDriver() vendorDriver {
	return vendorDriver{
		parseVersion: func(s string) error { _, err := junos.ParseVersion(s); return err },
		uses: set("members", "members.address", "username", "password_env", "password_file",
			"known_hosts", "firmware", "gate"),
		files: map[string]string{
			"known_hosts": "the OpenSSH known_hosts file listing both nodes (host keys are always verified)",
			"firmware":    "the local Junos install package (.tgz)",
		},
		password: "always",
		check: func(c *ClusterSpec) []fieldProblem {
			var ps []fieldProblem
			if len(c.Members) != 2 || c.Members[0].Name != "node0" || c.Members[1].Name != "node1" {
				ps = append(ps, fieldProblem{path: []any{"members"}, field: "members", problem: "a chassis cluster has exactly 2 members, node0 and node1 in that order, each at its own fxp0 address"})
			}
			if c.Simulate == nil && c.Username == "" {
				ps = append(ps, fieldProblem{field: "username", problem: "required"})
			}
			return ps
		},
		faults:       simkit.Faults("junos"),
		defaultFault: simkit.DefaultFault("junos"),
		open:         openJunos,
	}
}

// openJunos connects to a chassis cluster over SSH, starting its simulator
// first.
func openJunos(ctx context.Context, c *ClusterSpec, env openEnv) (*opened, error) {
	o := &opened{}
	cfg := junos.Config{Name: c.Name, Username: c.Username, Password: c.password.value(),
		KnownHostsFile: c.KnownHosts, PackagePath: c.Firmware, ArtifactsDir: env.artifacts}
	timing := gateOr(c, upgrade.Timing{})
	if c.Simulate != nil {
		// The inventory's member names are the node IDs; the simulator
		// keeps its default host names.
		sim, err := simkit.Start("junos", simkit.Options{Speed: c.Simulate.Speed, Fault: c.Simulate.Fault, Version: c.Simulate.Version,
			Target: c.Target, Username: c.Username, Password: c.password.value(), Dir: env.dir})
		if err != nil {
			return nil, fmt.Errorf("start the simulator: %w", err)
		}
		o.closers = append(o.closers, sim.Close)
		o.probe = func() (int, int) {
			sim.StopProbes()
			return sim.Probe()
		}
		cfg.Username, cfg.KnownHostsFile, cfg.PackagePath = sim.Username, sim.KnownHosts, sim.Package
		for i, n := range sim.Junos.Nodes() {
			cfg.Nodes[i] = junos.Address{Host: n.Host(), Port: n.Port()}
			o.about = append(o.about, fmt.Sprintf("%s at %s (ssh)", n.Name(), n.Addr()))
		}
		cfg.CommandTimeout, cfg.InstallTimeout, cfg.ReconnectTimeout = 10*time.Second, sim.Scale(10*time.Second), sim.Scale(3*time.Second)
		cfg.ReconnectBackoff = driver.Backoff{Initial: sim.Scale(20 * time.Millisecond), Max: sim.Scale(100 * time.Millisecond), Factor: 2}
		timing = gateOr(c, sim.GateTiming())
		o.retry = upgrade.Retry{Attempts: 3, Initial: sim.Scale(50 * time.Millisecond), Max: sim.Scale(200 * time.Millisecond)}
		o.settle = upgrade.Timing{Interval: sim.Scale(100 * time.Millisecond), Deadline: sim.Scale(10 * time.Second)}
	} else {
		for i, m := range c.Members {
			host, port, _ := splitHostPort(m.Address, 22)
			cfg.Nodes[i] = junos.Address{Host: host, Port: port}
			o.about = append(o.about, fmt.Sprintf("%s at %s (ssh)", m.Name, m.Address))
		}
	}
	o.redact = cfg.Secrets()
	cl, err := junos.New(ctx, cfg)
	if err != nil {
		o.close()
		return nil, err
	}
	o.closers = append(o.closers, func() { _ = cl.Close() })
	o.cluster = cl
	o.planner = junos.Planner{Cluster: cl, GateTiming: timing}
	return o, nil
}

// ---- Check Point ClusterXL High Availability clusters (SSH + management API) ----

// checkpointFaults are the faults of a simulated Check Point cluster, each
// on its second member (the first STANDBY to be upgraded).
var checkpointFaults = map[string]string{
	"import-never-finishes": "CPUSE never lists the imported package on the second member: the stage step times out before anything is disrupted",
	"stays-ready":           "the upgraded second member stays READY after MVC on and the policy: the run stops before the failover",
	"mvc-stays-off":         "`cphaconf mvc on` prints nothing but MVC stays off on the second member: the read-back stops the run",
	"back-on-old":           "the second member comes back from its upgrade on its old release: refused before the failover",
	"never-returns":         "the second member's reboot never ends: the gate times out, the ACTIVE member keeps forwarding",
	"policy-fails":          "the policy installation fails on the upgraded second member, where it must succeed: the run stops",
}

// checkpointPackageRE is what a CPUSE package's file name may look like
// (checkpoint.Config.PackagePath: it is sent to the members).
var checkpointPackageRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*\.(tar|tgz)$`)

// checkpointSimNameRE is what the simulator accepts as a member (host) name.
var checkpointSimNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

func checkpointDriver() vendorDriver {
	return vendorDriver{
		parseVersion: func(s string) error { _, err := (versionpath.CheckPoint{}).Parse(s); return err },
		uses: set("members", "members.address", "username", "password_env", "password_file",
			"expert_password_env", "expert_password_file", "known_hosts", "firmware",
			"cluster_object", "policy_package", "mgmt", "gate"),
		files: map[string]string{
			"known_hosts": "the OpenSSH known_hosts file listing every member (host keys are always verified)",
			"firmware":    "the local CPUSE package of the target release (.tar or .tgz)",
		},
		password: "always",
		check: func(c *ClusterSpec) []fieldProblem {
			var ps []fieldProblem
			if n := len(c.Members); n < 2 || n > 8 {
				ps = append(ps, fieldProblem{path: []any{"members"}, field: "members", problem: fmt.Sprintf("a ClusterXL cluster has 2 to 8 members, each named as its object on management, not %d", n)})
			}
			if c.Simulate != nil {
				for j, m := range c.Members {
					if m.Name != "" && !checkpointSimNameRE.MatchString(m.Name) {
						ps = append(ps, fieldProblem{path: []any{"members", j, "name"}, field: fmt.Sprintf("members[%d].name", j), problem: fmt.Sprintf("%q: a simulated member's name is its host name, [A-Za-z0-9_-] only", m.Name)})
					}
				}
			}
			if c.Simulate == nil && c.Username == "" {
				ps = append(ps, fieldProblem{field: "username", problem: "required: the Gaia (Clish) login of every member"})
			}
			if c.Firmware != "" && !checkpointPackageRE.MatchString(filepath.Base(c.Firmware)) {
				ps = append(ps, fieldProblem{path: []any{"firmware"}, field: "firmware", problem: fmt.Sprintf("file name %q must match [A-Za-z0-9._-]+.(tar|tgz): a CPUSE package, and it is sent to the members", filepath.Base(c.Firmware))})
			}
			if c.ClusterObject != "" && !nameRE.MatchString(c.ClusterObject) {
				ps = append(ps, fieldProblem{path: []any{"cluster_object"}, field: "cluster_object", problem: fmt.Sprintf("%q must be 1-63 characters of [A-Za-z0-9._-] starting with a letter or digit", c.ClusterObject)})
			}
			if pp := c.PolicyPackage; pp != "" && (strings.TrimSpace(pp) != pp || strings.ContainsAny(pp, "\r\n\t")) {
				ps = append(ps, fieldProblem{path: []any{"policy_package"}, field: "policy_package", problem: fmt.Sprintf("%q is not a policy package name", pp)})
			}
			return ps
		},
		faults:       checkpointFaults,
		defaultFault: "stays-ready",
		open:         openCheckpoint,
	}
}

// openCheckpoint connects to a ClusterXL cluster over SSH and to its
// management server over HTTPS, starting, for a simulated cluster, a
// checkpointtest simulator and its fake management server on 127.0.0.1
// first, as examples/quickstart -vendor checkpoint does.
func openCheckpoint(ctx context.Context, c *ClusterSpec, env openEnv) (*opened, error) {
	m := c.Mgmt
	o := &opened{}
	cfg := checkpoint.Config{Name: c.Name, ClusterObject: c.ClusterObject, PolicyPackage: c.PolicyPackage,
		Username: c.Username, Password: c.password.value(), ExpertPassword: c.expertPassword.value(),
		KnownHostsFile: c.KnownHosts, PackagePath: c.Firmware,
		Mgmt: checkpoint.MgmtConfig{URL: m.URL, PinnedSHA256: m.Fingerprint, CACertFile: m.CABundle, Domain: m.Domain,
			User: m.Username, Password: m.password.value(), APIKey: m.apiKey.value()}}
	timing := gateOr(c, upgrade.Timing{})
	if s := c.Simulate; s != nil {
		sp := func(d time.Duration) time.Duration { return time.Duration(float64(d) / s.Speed) }
		opts := checkpointtest.Options{Version: s.Version, Username: c.Username, Password: cfg.Password, ExpertPassword: cfg.ExpertPassword,
			ImportDuration: sp(300 * time.Millisecond), ApplyDelay: sp(200 * time.Millisecond), RebootDuration: sp(2 * time.Second),
			FailoverGap: sp(time.Second), ProbeEvery: sp(100 * time.Millisecond)}
		for _, mb := range c.Members {
			opts.Names = append(opts.Names, mb.Name)
		}
		second := opts.Names[1]
		opts.Faults.Set(s.Fault, second)
		sim, err := checkpointtest.Start(opts)
		if err != nil {
			return nil, fmt.Errorf("start the simulator: %w", err)
		}
		o.closers = append(o.closers, func() { _ = sim.Close() })
		o.probe = func() (int, int) {
			p := sim.Probe()
			p.Stop()
			return p.LostTicks(), p.Ticks()
		}
		object := cmp.Or(c.ClusterObject, c.Name)
		var members []checkpointtest.MgmtMember
		for _, mb := range sim.Members() {
			members = append(members, checkpointtest.MgmtMember{Name: mb.Name(), IPAddress: mb.Host()})
		}
		mo := checkpointtest.MgmtOptions{
			PolicyPackages: []string{cmp.Or(c.PolicyPackage, checkpoint.DefaultPolicyPackage)},
			Clusters:       []checkpointtest.MgmtCluster{{Name: object, Version: sim.Options().Version, Members: members}},
			PolicyInstall:  sp(400 * time.Millisecond), VSXUpgrade: sp(400 * time.Millisecond), TaskTime: sp(50 * time.Millisecond),
			// Each member's install-policy outcome follows the simulated
			// MVC model; a successful install is reported to the member.
			PolicyResult:      func(_, member string) string { return sim.PolicyResult(member) },
			OnPolicyInstalled: func(_, member string, _, _ bool) { sim.PolicyInstalled(member) },
		}
		// The fake server knows the inventory's credentials (by reference).
		if cfg.Mgmt.APIKey != "" {
			mo.APIKeys, mo.Users = []string{cfg.Mgmt.APIKey}, map[string]string{}
		} else {
			mo.Users, mo.APIKeys = map[string]string{cfg.Mgmt.User: cfg.Mgmt.Password}, []string{}
		}
		mgmt, err := checkpointtest.NewMgmtServer(mo)
		if err != nil {
			o.close()
			return nil, fmt.Errorf("start the management fake: %w", err)
		}
		o.closers = append(o.closers, mgmt.Close)
		if s.Fault == "policy-fails" {
			mgmt.FailPolicyOn(second, true)
		}
		// The CA bundle goes through a file and the certificate is pinned
		// too, as an inventory of a real server would give them.
		ca := filepath.Join(env.dir, "mgmt-ca.pem")
		if err := os.WriteFile(ca, mgmt.CACertPEM(), 0o600); err != nil {
			o.close()
			return nil, err
		}
		pkg, err := checkpointtest.WritePackage(env.dir, checkpointtest.Package{Kind: checkpointtest.KindMajor, Release: c.Target})
		if err != nil {
			o.close()
			return nil, err
		}
		cfg.Username, cfg.KnownHostsFile, cfg.PackagePath = sim.Username(), sim.KnownHostsFile(), pkg
		cfg.Mgmt.URL, cfg.Mgmt.CACertFile, cfg.Mgmt.PinnedSHA256, cfg.Mgmt.Timeout = mgmt.URL(), ca, mgmt.Fingerprint(), 10*time.Second
		for _, mb := range sim.Members() {
			cfg.Members = append(cfg.Members, checkpoint.Gateway{Name: mb.Name(), Host: mb.Host(), Port: mb.Port()})
			o.about = append(o.about, fmt.Sprintf("%s at %s (ssh)", mb.Name(), mb.Addr()))
		}
		o.about = append(o.about, fmt.Sprintf("management server at %s (https, CA bundle %s, pinned) with cluster object %s", mgmt.URL(), ca, object))
		// The simulator has no `df`; a real run keeps the disk check on.
		cfg.MinFreeDiskMB = -1
		cfg.CommandTimeout, cfg.ReconnectTimeout, cfg.ApplyGrace = 10*time.Second, sp(time.Second), sp(2*time.Second)
		cfg.ReconnectBackoff = driver.Backoff{Initial: sp(50 * time.Millisecond), Max: sp(200 * time.Millisecond), Factor: 2}
		cfg.ImportTiming = upgrade.Timing{Interval: sp(100 * time.Millisecond), Deadline: sp(5 * time.Second)}
		cfg.TaskTiming = upgrade.Timing{Interval: sp(100 * time.Millisecond), Deadline: sp(15 * time.Second)}
		timing = gateOr(c, upgrade.Timing{Interval: sp(100 * time.Millisecond), MinHealthy: sp(300 * time.Millisecond), Deadline: sp(20 * time.Second)})
		o.retry = upgrade.Retry{Attempts: 2, Initial: sp(200 * time.Millisecond), Max: sp(time.Second)}
		o.settle = upgrade.Timing{Interval: sp(50 * time.Millisecond), Deadline: sp(10 * time.Second)}
	} else {
		for _, mb := range c.Members {
			host, port, _ := splitHostPort(mb.Address, 22)
			cfg.Members = append(cfg.Members, checkpoint.Gateway{Name: mb.Name, Host: host, Port: port})
			o.about = append(o.about, fmt.Sprintf("%s at %s (ssh)", mb.Name, mb.Address))
		}
		o.about = append(o.about, "management server at "+m.URL+" (https)")
	}
	o.redact = []string{cfg.Password, cfg.ExpertPassword, cfg.Mgmt.Password, cfg.Mgmt.APIKey}
	if err := os.MkdirAll(env.artifacts, 0o700); err != nil {
		o.close()
		return nil, err
	}
	cl, err := checkpoint.New(ctx, cfg)
	if err != nil {
		o.close()
		return nil, err
	}
	o.closers = append(o.closers, func() { _ = cl.Close() })
	o.cluster = cl
	// The management tasks the plan starts are recorded beside the
	// journal, so a resumed run never installs a policy twice.
	tasks := &checkpoint.FileTaskLog{Path: filepath.Join(env.artifacts, c.Name+".mgmt-tasks.json")}
	o.planner = checkpoint.Planner{Cluster: cl, GateTiming: timing, Tasks: tasks}
	return o, nil
}

// ---- Fakes: in memory (upgradetest), or remote (examples/simulator) ----

func fakeDriver() vendorDriver {
	return vendorDriver{
		parseVersion: func(s string) error { _, err := (versionpath.Dotted{}).Parse(s); return err },
		uses:         set("members", "address", "password_env", "password_file", "gate"),
		password:     "real",
		check: func(c *ClusterSpec) []fieldProblem {
			if c.Simulate != nil && len(c.Members) < 2 {
				return []fieldProblem{{path: []any{"members"}, field: "members", problem: fmt.Sprintf("an in-memory fake needs 2 or more members (the first starts active), not %d", len(c.Members))}}
			}
			if c.Simulate == nil && c.Address != "" {
				if _, _, err := splitHostPort(c.Address, 0); err != nil {
					return []fieldProblem{{path: []any{"address"}, field: "address", problem: err.Error() + " (the host:port examples/simulator -vendor fake prints)"}}
				}
			}
			return nil
		},
		faults:       simkit.Faults("fake"),
		defaultFault: simkit.DefaultFault("fake"),
		open:         openFake,
	}
}

// openFake builds an in-memory fake cluster (simulate), or dials a fake
// served by examples/simulator.
func openFake(ctx context.Context, c *ClusterSpec, env openEnv) (*opened, error) {
	o := &opened{}
	if c.Simulate != nil {
		sim, err := startSim(c, env, o, simkit.Options{})
		if err != nil {
			return nil, err
		}
		fc := sim.Fake
		o.cluster = fc
		o.about = append(o.about, fmt.Sprintf("in-memory fake with %d members", len(fc.Members())))
		o.planner = upgrade.Rolling{Cluster: fc, Grammar: versionpath.Dotted{}, GateTiming: gateOr(c, sim.GateTiming())}
		o.settle = upgrade.Timing{Interval: sim.Scale(50 * time.Millisecond), Deadline: sim.Scale(5 * time.Second)}
		return o, nil
	}
	rc, err := fakeremote.Dial(ctx, fakeremote.Config{Name: c.Name, Addr: c.Address, Password: c.password.value()})
	if err != nil {
		return nil, err
	}
	if len(c.Members) > 0 {
		var want, have []string
		for _, m := range c.Members {
			want = append(want, m.Name)
		}
		for _, m := range rc.Members() {
			have = append(have, m.ID())
		}
		if !slices.Equal(want, have) {
			return nil, fmt.Errorf("cluster %s: the inventory lists members %v, the fake at %s has %v", c.Name, want, c.Address, have)
		}
	}
	o.closers = append(o.closers, rc.Close)
	o.cluster, o.redact = rc, []string{c.password.value()}
	o.about = append(o.about, "remote fake at "+c.Address+" (http, loopback)")
	// The served fake has a traffic probe: count the ticks of this run.
	if p0, err := rc.Probe(ctx); err == nil {
		o.probe = func() (int, int) {
			p1, err := rc.Probe(context.Background())
			if err != nil {
				return 0, 0
			}
			return p1.LostTicks - p0.LostTicks, p1.Ticks - p0.Ticks
		}
	}
	o.planner = upgrade.Rolling{Cluster: rc, Grammar: versionpath.Dotted{}, GateTiming: gateOr(c, upgrade.Timing{})}
	return o, nil
}

// set returns a set of strings.
func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}
