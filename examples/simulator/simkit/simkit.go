// Package simkit starts hitless's simulated clusters on 127.0.0.1 with one
// set of knobs — a speed factor, a named fault, the starting version — for
// examples/simulator (a simulator that runs until interrupted) and
// examples/fleet (the simulated clusters of its inventory).
//
// Vendors: "clavister" (clavistertest: a cOS Core HA pair over SSH),
// "aviatrix" (aviatrixtest: a controller and gateway pairs over TLS),
// "junos" (junostest: a vSRX chassis cluster over SSH) and "fake"
// (upgradetest: an in-memory fake cluster, optionally served over loopback
// HTTP by fakeremote): the vendors examples/fleet drives end to end.
package simkit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/clavister/clavistertest"
	"github.com/hitless/hitless/examples/simulator/fakeremote"
	"github.com/hitless/hitless/junos/junostest"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
)

// ErrVendor: the vendor is not one of Vendors().
var ErrVendor = errors.New("simkit: unknown vendor")

// Options configure Start. The zero value starts the vendor's default
// simulator at normal speed without faults.
type Options struct {
	// Speed runs the simulation this many times faster (0 means 1; 0.5
	// twice as slow, handy to interrupt a client mid-reboot).
	Speed float64
	// Fault is one of Faults(vendor), "" for none.
	Fault string
	// Version is the starting version ("" for the simulator's default).
	Version string
	// Target, when set, is the version whose upgrade package Start writes
	// into Dir (Clavister .upg, Junos .tgz), as Sim.Package.
	Target string
	// Names are the member names (Clavister: 2 units, default fw-a,
	// fw-b; fake: 2 or more, default node-1, node-2; Junos: the 2 nodes'
	// host names, default vsrx-node0, vsrx-node1, the member IDs being
	// node0 and node1). Aviatrix ignores it.
	Names []string
	// Pairs is the number of Aviatrix gateway pairs (default 2).
	Pairs int
	// Username and Password are the login ("" for the vendor's default
	// user and a random password).
	Username, Password string
	// Dir holds the files Start writes (package, CA bundle); required for
	// Target and for Aviatrix.
	Dir string
	// Name is a fake's cluster name (default "fake").
	Name string
	// Serve makes a fake reachable over loopback HTTP (fakeremote), with
	// Password as its bearer token.
	Serve bool
}

// Endpoint is one address a client connects to.
type Endpoint struct {
	// Name is the member's name (or "controller").
	Name string
	// Addr is host:port, or the https URL of a controller.
	Addr string
	// Proto is "ssh", "https" or "http".
	Proto string
}

// Sim is one running simulated cluster. Close it when done.
type Sim struct {
	// Vendor is the vendor started.
	Vendor string
	// Endpoints are the addresses to reach, in member order (none for an
	// in-memory fake that is not served).
	Endpoints []Endpoint
	// Username and Password are the login.
	Username, Password string
	// KnownHosts is the known_hosts file of SSH simulators.
	KnownHosts string
	// CABundle is the PEM file of the controller's certificate (Aviatrix).
	CABundle string
	// Package is the upgrade package written for Options.Target.
	Package string

	// Pair is the Clavister simulator.
	Pair *clavistertest.Pair
	// Controller is the fake Aviatrix controller.
	Controller *aviatrixtest.Fake
	// Fake is the in-memory fake cluster.
	Fake *upgradetest.Cluster
	// FakeServer serves Fake over loopback HTTP (Options.Serve).
	FakeServer *fakeremote.Server
	// Junos is the Junos chassis cluster simulator.
	Junos *junostest.Sim

	speed   float64
	closers []func()
}

// vendorInfo describes one vendor's simulator.
type vendorInfo struct {
	faults        map[string]string
	defaultFault  string
	defaultTarget string
	start         func(s *Sim, o Options) error
}

func vendors() map[string]vendorInfo {
	return map[string]vendorInfo{
		"clavister": {faults: map[string]string{
			"back-on-old":      "the inactive unit comes back on its old firmware: refused before the failover",
			"never-returns":    "the inactive unit's restart never comes back: the health gate times out",
			"sync-stuck":       "HA object sync stops at 60 %: no failover to an unsynchronised unit",
			"peer-not-alive":   "both units report the peer NOT ALIVE: the pre-checks refuse to start",
			"truncated-upload": "the firmware upload arrives truncated: the size check refuses to apply it",
			"bad-ha-output":    "`ha` prints a garbled status: the parser fails closed",
		}, defaultFault: "back-on-old", defaultTarget: "14.00.10.00-31870", start: startClavister},
		"aviatrix": {faults: map[string]string{
			"gateway-fails":            "one HA gateway's upgrade ends in upgrade_fail: the run stops, its primary keeps forwarding",
			"controller-never-returns": "the controller stays in its restart window after its first hop: no gateway is touched",
			"busy":                     "the controller answers every write with 'Active upgrade in progress.'",
			"backup-disabled":          "controller backup is not configured: the pre-checks refuse to start",
		}, defaultFault: "gateway-fails", defaultTarget: "6.7", start: startAviatrix},
		"junos": {faults: map[string]string{
			"back-on-old":      "node1 comes back from its reboot on its old release",
			"never-returns":    "node1's reboots never come back",
			"validation-fails": "node1's `request system software add` validation fails",
		}, defaultFault: "back-on-old", defaultTarget: "22.4R3-S2", start: startJunos},
		"fake": {faults: map[string]string{
			"wrong-version": "the standby comes back on its old version: the health gate fails at once",
			"never-returns": "the standby never comes back from its install: the health gate times out",
			"install-fails": "the standby refuses the install",
		}, defaultFault: "wrong-version", defaultTarget: "8.2.1", start: startFake},
	}
}

// Vendors returns the vendors Start knows, sorted.
func Vendors() []string { return slices.Sorted(maps.Keys(vendors())) }

// Faults returns the vendor's named faults with what each one shows (nil
// for an unknown vendor).
func Faults(vendor string) map[string]string { return vendors()[vendor].faults }

// DefaultFault returns the fault that makes the vendor's upgrade fail
// cleanly (what examples/fleet -fail injects).
func DefaultFault(vendor string) string { return vendors()[vendor].defaultFault }

// DefaultTarget returns a version the vendor's simulator can upgrade to.
func DefaultTarget(vendor string) string { return vendors()[vendor].defaultTarget }

// Start starts the vendor's simulator on 127.0.0.1.
func Start(vendor string, o Options) (*Sim, error) {
	v, ok := vendors()[vendor]
	if !ok {
		return nil, fmt.Errorf("%w %q (%s)", ErrVendor, vendor, strings.Join(Vendors(), ", "))
	}
	if o.Fault != "" {
		if _, ok := v.faults[o.Fault]; !ok {
			return nil, fmt.Errorf("simkit: unknown %s fault %q (%s)", vendor, o.Fault, strings.Join(slices.Sorted(maps.Keys(v.faults)), ", "))
		}
	}
	switch {
	case o.Speed < 0:
		return nil, fmt.Errorf("simkit: speed %v must be > 0", o.Speed)
	case o.Speed == 0:
		o.Speed = 1
	}
	if o.Password == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		o.Password = "sim-" + base64.RawURLEncoding.EncodeToString(b)
	}
	s := &Sim{Vendor: vendor, speed: o.Speed, Password: o.Password}
	if err := v.start(s, o); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Scale divides d by the simulation speed.
func (s *Sim) Scale(d time.Duration) time.Duration { return time.Duration(float64(d) / s.speed) }

// GateTiming is a health-gate timing that suits this simulator's speed
// (hitless's defaults wait minutes, for real devices).
func (s *Sim) GateTiming() upgrade.Timing {
	switch s.Vendor {
	case "fake":
		return upgrade.Timing{Interval: s.Scale(50 * time.Millisecond), MinHealthy: s.Scale(150 * time.Millisecond), Deadline: s.Scale(5 * time.Second)}
	case "aviatrix":
		return upgrade.Timing{Interval: s.Scale(20 * time.Millisecond), MinHealthy: s.Scale(40 * time.Millisecond), Deadline: s.Scale(8 * time.Second)}
	}
	return upgrade.Timing{Interval: s.Scale(100 * time.Millisecond), MinHealthy: s.Scale(300 * time.Millisecond), Deadline: s.Scale(15 * time.Second)}
}

// Close stops the simulator (last started first).
func (s *Sim) Close() {
	for _, f := range slices.Backward(s.closers) {
		f()
	}
	s.closers = nil
}

// Probe returns the traffic probe's figures so far: ticks lost (no member
// forwarding) and ticks.
func (s *Sim) Probe() (lost, ticks int) {
	switch {
	case s.Pair != nil:
		return s.Pair.Probe().LostTicks(), s.Pair.Probe().Ticks()
	case s.Controller != nil:
		sum := s.Controller.ProbeSummary()
		return sum.LostTicks, sum.Ticks
	case s.Fake != nil:
		return s.Fake.Probe.LostTicks(), s.Fake.Probe.Ticks()
	case s.Junos != nil:
		return s.Junos.Probe().LostTicks(), s.Junos.Probe().Ticks()
	}
	return 0, 0
}

// StopProbes freezes the probe figures (at the end of a run).
func (s *Sim) StopProbes() {
	switch {
	case s.Pair != nil:
		s.Pair.Probe().Stop()
	case s.Controller != nil:
		for _, p := range s.Controller.Probes() {
			p.Stop()
		}
	case s.Fake != nil:
		s.Fake.Probe.Stop()
	case s.Junos != nil:
		s.Junos.Probe().Stop()
	}
}

// State describes every member now, one line each (role, version, down).
func (s *Sim) State() []string {
	var out []string
	switch {
	case s.Pair != nil:
		for _, u := range s.Pair.Units() {
			st := "inactive"
			switch {
			case u.Down():
				st = "DOWN (restarting)"
			case u.Active():
				st = "ACTIVE"
			}
			out = append(out, fmt.Sprintf("%s (%s): %s, %s, sync %d%%", u.Name(), strings.ToLower(u.Role()), st, u.Version(), u.Sync()))
		}
	case s.Controller != nil:
		out = append(out, "controller: "+s.Controller.ControllerVersion())
		byVersion := map[string]int{}
		for _, g := range s.Controller.GatewayNames() {
			byVersion[s.Controller.GatewayVersion(g)]++
		}
		for _, v := range slices.Sorted(maps.Keys(byVersion)) {
			out = append(out, fmt.Sprintf("gateways on %s: %d", v, byVersion[v]))
		}
	case s.Junos != nil:
		for _, n := range s.Junos.Nodes() {
			st := "secondary (RG1)"
			switch {
			case n.Down():
				st = "DOWN (rebooting)"
			case s.Junos.Primary(1) == n.Name():
				st = "primary (RG1)"
			}
			out = append(out, fmt.Sprintf("%s (%s): %s, %s", n.Name(), n.Hostname(), st, n.Version()))
		}
	case s.Fake != nil:
		snap, err := s.Fake.Observe(context.Background())
		if err != nil {
			return []string{err.Error()}
		}
		for _, m := range snap.Members {
			v := m.Version
			if v == "" {
				v = "-"
			}
			out = append(out, fmt.Sprintf("%s: %s, %s", m.ID, m.Role, v))
		}
	}
	return out
}

func names(o Options, def ...string) []string {
	if len(o.Names) > 0 {
		return o.Names
	}
	return def
}

func startClavister(s *Sim, o Options) error {
	n := names(o, "fw-a", "fw-b")
	if len(n) != 2 {
		return fmt.Errorf("simkit: a Clavister pair has 2 units, not %d", len(n))
	}
	opts := clavistertest.Options{
		Names: [2]string{n[0], n[1]}, Version: o.Version, Username: o.Username, Password: o.Password,
		// Sized `ls` listings, so that the upload is verified (a hitless
		// assumption, see clavistertest.Options.ListSizes).
		ListSizes:  true,
		ApplyDelay: s.Scale(200 * time.Millisecond), RebootDuration: s.Scale(2 * time.Second),
		SyncDuration: s.Scale(time.Second), FailoverGap: s.Scale(time.Second), ProbeEvery: s.Scale(100 * time.Millisecond),
	}
	switch o.Fault {
	case "back-on-old":
		opts.Faults.BackOnOld = n[1]
	case "never-returns":
		opts.Faults.NeverReturns = n[1]
	case "sync-stuck":
		opts.Faults.SyncStuckAt = 60
	case "peer-not-alive":
		opts.Faults.PeerNotAlive = true
	case "truncated-upload":
		opts.Faults.TruncateUpload = true
	case "bad-ha-output":
		opts.Faults.GarbledHA = true
	}
	p, err := clavistertest.Start(opts)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() { _ = p.Close() })
	s.Pair, s.Username, s.KnownHosts = p, p.Username(), p.KnownHostsFile()
	for _, u := range p.Units() {
		s.Endpoints = append(s.Endpoints, Endpoint{Name: u.Name(), Addr: u.Addr(), Proto: "ssh"})
	}
	if o.Target != "" {
		if o.Dir == "" {
			return errors.New("simkit: a Target needs a Dir for its package")
		}
		if s.Package, err = p.WriteFirmware(o.Dir, o.Target); err != nil {
			return err
		}
	}
	return nil
}

func startAviatrix(s *Sim, o Options) error {
	if o.Dir == "" {
		return errors.New("simkit: Aviatrix needs a Dir for its CA bundle")
	}
	opts := aviatrixtest.Options{
		ControllerVersion: o.Version, Pairs: o.Pairs, Username: o.Username, Password: o.Password,
		PlatformUpgrade: s.Scale(400 * time.Millisecond), RestartWindow: s.Scale(200 * time.Millisecond),
		NotReadyWindow: s.Scale(100 * time.Millisecond), GatewayUpgrade: s.Scale(150 * time.Millisecond), ProbeEvery: s.Scale(10 * time.Millisecond),
	}
	if opts.ControllerVersion == "" {
		opts.ControllerVersion = "6.5.1922"
	}
	if opts.Pairs == 0 {
		opts.Pairs = 2
	}
	switch o.Fault {
	case "gateway-fails":
		opts.FailGateways = []string{"spoke-001-hagw"}
	case "controller-never-returns":
		opts.ControllerNeverReturns = true
	case "busy":
		opts.Busy = true
	case "backup-disabled":
		opts.BackupDisabled = true
	}
	f, err := aviatrixtest.Start(opts)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, f.Close)
	s.Controller, s.Username = f, f.Username()
	s.CABundle = filepath.Join(o.Dir, "controller-ca.pem")
	if err := os.WriteFile(s.CABundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.Certificate().Raw}), 0o600); err != nil {
		return err
	}
	s.Endpoints = append(s.Endpoints, Endpoint{Name: "controller", Addr: f.URL(), Proto: "https"})
	return nil
}

func startFake(s *Sim, o Options) error {
	n := names(o, "node-1", "node-2")
	if len(n) < 2 {
		return fmt.Errorf("simkit: a fake needs 2 or more members, not %d", len(n))
	}
	version := o.Version
	if version == "" {
		version = "8.1.7"
	}
	var members []*upgradetest.Member
	for i, name := range n {
		role := upgrade.RoleStandby
		if i == 0 {
			role = upgrade.RoleActive
		}
		members = append(members, &upgradetest.Member{Name: name, Version: version, Role: role,
			InstallDuration: s.Scale(100 * time.Millisecond), RebootDuration: s.Scale(700 * time.Millisecond)})
	}
	switch standby := members[1]; o.Fault {
	case "wrong-version":
		standby.WrongVersion = version
	case "never-returns":
		standby.NeverReturns = true
	case "install-fails":
		standby.InstallFails = true
	}
	name := o.Name
	if name == "" {
		name = "fake"
	}
	c := upgradetest.NewCluster(name, s.Scale(20*time.Millisecond), members...)
	c.FailoverDelay = s.Scale(time.Second)
	s.Fake = c
	if o.Serve {
		srv, err := fakeremote.Serve(c, o.Password)
		if err != nil {
			return err
		}
		s.closers = append(s.closers, func() { _ = srv.Close() })
		s.FakeServer = srv
		s.Endpoints = append(s.Endpoints, Endpoint{Name: "api", Addr: srv.Addr(), Proto: "http"})
	}
	return nil
}

func startJunos(s *Sim, o Options) error {
	opts := junostest.Options{Version: o.Version, Username: o.Username, Password: o.Password,
		RebootDelay: s.Scale(100 * time.Millisecond), RebootDuration: s.Scale(2 * time.Second),
		FailoverGap: s.Scale(time.Second), HoldDown: s.Scale(time.Second), ColdSync: s.Scale(500 * time.Millisecond),
		ProbeEvery: s.Scale(100 * time.Millisecond)}
	if len(o.Names) > 0 {
		if len(o.Names) != 2 {
			return fmt.Errorf("simkit: a Junos chassis cluster has 2 nodes, not %d", len(o.Names))
		}
		opts.Hostnames = [2]string{o.Names[0], o.Names[1]}
	}
	switch o.Fault {
	case "back-on-old":
		opts.Faults.BackOnOld = "node1"
	case "never-returns":
		opts.Faults.NeverReturns = "node1"
	case "validation-fails":
		opts.Faults.ValidationFails = "node1"
	}
	sim, err := junostest.Start(opts)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() { _ = sim.Close() })
	s.Junos, s.Username, s.KnownHosts = sim, sim.Username(), sim.KnownHostsFile()
	for _, n := range sim.Nodes() {
		s.Endpoints = append(s.Endpoints, Endpoint{Name: n.Name(), Addr: n.Addr(), Proto: "ssh"})
	}
	if o.Target != "" {
		if o.Dir == "" {
			return errors.New("simkit: a Target needs a Dir for its package")
		}
		if s.Package, err = junostest.WritePackage(o.Dir, o.Target); err != nil {
			return err
		}
	}
	return nil
}
