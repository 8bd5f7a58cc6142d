package checkpointtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hitless/hitless/internal/sshsim"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// Defaults used by StartMaestro for zero MaestroOptions fields.
const (
	// DefaultMaestroName is the security group name.
	DefaultMaestroName = "sg1"
	// DefaultMaestroSites is the number of sites.
	DefaultMaestroSites = 2
	// DefaultSGMsPerSite is the number of SGMs per site.
	DefaultSGMsPerSite = 4
	// DefaultMHOModel is the Model line of `show asset system` on an
	// orchestrator.
	DefaultMHOModel = "MHO-140"
	// DefaultMaestroVSName is the VS name of a VSX security group's
	// `asg stat -v` header.
	DefaultMaestroVSName = "vs0"
	// DefaultMgmtVersion is the version of the management server object
	// "mgmt" in the fake management server.
	DefaultMgmtVersion = "R82"
	// MaestroMgmtObject is the name of the management server's own
	// gateway object in the fake management server.
	MaestroMgmtObject = "mgmt"
)

// MaestroOptions configure a simulated Check Point Maestro security group
// (SG) with its orchestrators (MHOs). The zero value is valid: every zero
// field takes its default. A negative duration means zero (immediate).
//
// Every Maestro text the simulator prints (asg stat -v, g_all, gClish,
// g_clusterXL_admin, migrate_server, sp_upgrade, show asset system, the
// bonding lines, auto-clone) is UNVERIFIED: hand-written from the
// Maestro Administration Guide (R81.20, R82) and the R82 Scalable
// Platforms Administration Guide, no public capture; the package
// checkpoint parsers (ParseASGStat, ParseGAll, ...) read exactly these
// texts.
type MaestroOptions struct {
	// Name is the security group name, default DefaultMaestroName ("sg1").
	// It is also the SG's gateway object in the fake management server and
	// the SG prompt host "<Name>-ch01-01" (gClish "sg1-ch01-01> ", Expert
	// "[Expert@sg1-ch01-01:0]# "). 1-40 characters of [A-Za-z0-9_-],
	// starting with a letter or digit.
	Name string
	// Sites (1..2, default 2) and SGMsPerSite (1..12, default 4): the SGMs
	// are "<site>_<n>", e.g. "1_1".."2_4". At least 2 SGMs.
	Sites, SGMsPerSite int
	// Orchestrators are the MHO names (host names and prompts), default
	// {"mho1", "mho2"}; 1-4 distinct names like Options.Names.
	Orchestrators []string
	// Version is the initial release of every SGM and MHO, default
	// DefaultVersion.
	Version string
	// Take is the initial Jumbo take of every SGM and MHO, default
	// DefaultTake; -1 means none.
	Take int
	// SGMVersions and SGMTakes override Version and Take per SGM (keys are
	// canonical SGM ids), e.g. for bad-input tests.
	SGMVersions map[string]string
	SGMTakes    map[string]int
	// MHOModel is the Model of `show asset system` on every MHO, default
	// DefaultMHOModel.
	MHOModel string
	// VSX makes the SG a VSX security group: `asg stat -v` starts with
	// "VSX System Status - Maestro" and "VS ID: 0 VS Name: <VSName>"
	// (VSName default DefaultMaestroVSName).
	VSX    bool
	VSName string
	// LACP gives the SG an uplink bond1 in IEEE 802.3ad mode; otherwise
	// bond1 is in active-backup mode.
	LACP bool
	// AutoCloneOff makes the initial image auto-clone state off (default
	// on).
	AutoCloneOff bool
	// Packages are the packages StartMaestro writes into its temporary
	// directory, ready to upload (Maestro.PackageFiles). Default: one major
	// package to "R82", as the ClusterXL simulator's tests use. Any valid
	// package file uploaded by SCP can be imported, listed here or not.
	Packages []Package
	// Username, Password and ExpertPassword are the credentials of every
	// endpoint, defaults as in Options.
	Username, Password, ExpertPassword string
	// MgmtVersion is the version of the management server object "mgmt"
	// in the fake management server, default DefaultMgmtVersion.
	MgmtVersion string
	// ImportDuration (default DefaultImportDuration), ApplyDelay (default
	// DefaultApplyDelay), RebootDuration (default DefaultRebootDuration)
	// and ProbeEvery (default DefaultProbeEvery) mean what they mean in
	// Options, for SGMs and MHOs alike. The fake management server's
	// install-policy tasks run for ImportDuration, its other tasks for
	// ApplyDelay.
	ImportDuration, ApplyDelay, RebootDuration, ProbeEvery time.Duration

	// StuckSGM names an SGM that reboots on an upgrade but comes back on
	// its old release and take.
	StuckSGM string
	// DeadMHO names an orchestrator that never comes back after its
	// upgrade reboot (connections refused until Close).
	DeadMHO string
	// VerifierErrors make `$FWDIR/scripts/migrate_server verify -v
	// <target>` print each as an "Error: <text>" line, then "Verification
	// failed." with exit status 1.
	VerifierErrors []string
	// Logger receives the simulator's and the SSH engine's records; nil
	// discards them.
	Logger *slog.Logger
}

var sgNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$`)

// withDefaults validates o and fills in its defaults; core is the Options
// of the shared member CLI (credentials, versions, durations).
func (o MaestroOptions) withDefaults() (MaestroOptions, Options, error) {
	if o.Name == "" {
		o.Name = DefaultMaestroName
	}
	if o.Sites == 0 {
		o.Sites = DefaultMaestroSites
	}
	if o.SGMsPerSite == 0 {
		o.SGMsPerSite = DefaultSGMsPerSite
	}
	o.Orchestrators = slices.Clone(o.Orchestrators)
	if len(o.Orchestrators) == 0 {
		o.Orchestrators = []string{"mho1", "mho2"}
	}
	if o.MHOModel == "" {
		o.MHOModel = DefaultMHOModel
	}
	if o.VSName == "" {
		o.VSName = DefaultMaestroVSName
	}
	if o.MgmtVersion == "" {
		o.MgmtVersion = DefaultMgmtVersion
	}
	o.Packages = slices.Clone(o.Packages)
	if len(o.Packages) == 0 {
		o.Packages = []Package{{Kind: KindMajor, Release: "R82"}}
	}
	core, err := Options{
		Names: []string{"sgm-a", "sgm-b"}, Version: o.Version, Take: o.Take,
		Username: o.Username, Password: o.Password, ExpertPassword: o.ExpertPassword,
		ImportDuration: o.ImportDuration, ApplyDelay: o.ApplyDelay, RebootDuration: o.RebootDuration,
		ProbeEvery: o.ProbeEvery, Logger: o.Logger,
	}.withDefaults()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	o.Version, o.Take = core.Version, core.Take
	o.Username, o.Password, o.ExpertPassword = core.Username, core.Password, core.ExpertPassword
	o.ImportDuration, o.ApplyDelay, o.RebootDuration, o.ProbeEvery = core.ImportDuration, core.ApplyDelay, core.RebootDuration, core.ProbeEvery

	if !sgNameRe.MatchString(o.Name) {
		errs = append(errs, fmt.Errorf("option Name %q does not match %s", o.Name, sgNameRe))
	}
	if o.Sites < 1 || o.Sites > 2 {
		errs = append(errs, fmt.Errorf("option Sites %d is out of range 1..2", o.Sites))
	}
	if o.SGMsPerSite < 1 || o.SGMsPerSite > 12 {
		errs = append(errs, fmt.Errorf("option SGMsPerSite %d is out of range 1..12", o.SGMsPerSite))
	}
	if o.Sites*o.SGMsPerSite < 2 {
		errs = append(errs, errors.New("options Sites and SGMsPerSite: at least 2 SGMs"))
	}
	if len(o.Orchestrators) > 4 {
		errs = append(errs, fmt.Errorf("option Orchestrators: %d, want 1..4", len(o.Orchestrators)))
	}
	seen := map[string]bool{}
	for i, n := range o.Orchestrators {
		if !hostRe.MatchString(n) {
			errs = append(errs, fmt.Errorf("option Orchestrators[%d] %q does not match %s", i, n, hostRe))
		}
		if seen[n] {
			errs = append(errs, fmt.Errorf("option Orchestrators: %q twice", n))
		}
		seen[n] = true
	}
	ids := map[string]bool{}
	for site := 1; site <= o.Sites; site++ {
		for n := 1; n <= o.SGMsPerSite; n++ {
			ids[sgmID(site, n)] = true
		}
	}
	for id, v := range o.SGMVersions {
		if !ids[id] {
			errs = append(errs, fmt.Errorf("option SGMVersions: %q is not an SGM id", id))
		} else if _, err := (versionpath.CheckPoint{}).Parse(v); err != nil {
			errs = append(errs, fmt.Errorf("option SGMVersions[%q]: %w", id, err))
		}
	}
	for id, t := range o.SGMTakes {
		if !ids[id] || t < -1 || t > 999999 {
			errs = append(errs, fmt.Errorf("option SGMTakes[%q] = %d: not an SGM id and take -1..999999", id, t))
		}
	}
	if o.StuckSGM != "" && !ids[o.StuckSGM] {
		errs = append(errs, fmt.Errorf("option StuckSGM %q is not an SGM id", o.StuckSGM))
	}
	if o.DeadMHO != "" && !seen[o.DeadMHO] {
		errs = append(errs, fmt.Errorf("option DeadMHO %q is not an orchestrator name", o.DeadMHO))
	}
	if !vsRe.MatchString(o.VSName) {
		errs = append(errs, fmt.Errorf("option VSName %q does not match %s", o.VSName, vsRe))
	}
	if !mgmtVersionRE.MatchString(o.MgmtVersion) {
		errs = append(errs, fmt.Errorf("option MgmtVersion %q is not like R81.20", o.MgmtVersion))
	}
	for i, p := range o.Packages {
		if _, err := p.validate(); err != nil {
			errs = append(errs, fmt.Errorf("option Packages[%d]: %w", i, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return o, core, fmt.Errorf("checkpointtest: invalid Maestro options: %w", err)
	}
	return o, core, nil
}

// sgmID is the canonical SGM id "<site>_<n>".
func sgmID(site, n int) string { return strconv.Itoa(site) + "_" + strconv.Itoa(n) }

// sgmImage is an installed software image (release, build, take).
type sgmImage struct {
	release, build string
	take           int
}

// maestroSGM is one Security Group Module. Its embedded Member holds the
// software facts and the CLI helpers (fw ver, cpinfo, cphaprob mvc); it has
// no SSH server of its own (the SG endpoint answers for it).
type maestroSGM struct {
	*Member
	site, n int
	prev    *sgmImage // the image before the last upgrade (sp_upgrade --revert)
}

// MaestroHost is one simulated orchestrator (MHO): a Gaia SSH endpoint
// like a checkpointtest member.
type MaestroHost struct {
	mz  *Maestro
	mem *Member
}

// Maestro is a running simulated Maestro security group with its
// orchestrators and a pre-configured fake management server. Its methods
// are safe for concurrent use. Close it when done.
//
// Endpoints (all on 127.0.0.1): one SSH server per MHO and one for the SG
// management address, answered by the SMO, the lowest-ID SGM that is not
// rebooting. The SG's file store (SCP uploads) and CPUSE repository
// (`installer import local`) are shared by every SGM.
//
// Management fake: the SG is one gateway object named MaestroOptions.Name
// (MgmtOptions.Gateways; an install-policy on it has one task-details entry
// with gatewayName = the SG name) and the management server is the gateway
// object "mgmt" with MgmtVersion. An install-policy on the SG succeeds when
// at least one SGM is up; it then installs, on every SGM that is up, a
// policy for the release that SGM runs.
//
// State model of an SGM (asg stat -v State / Process):
//   - UP / Enforcing Security: forwarding;
//   - DOWN (admin) / Inactive: after g_clusterXL_admin down (a reboot
//     clears it);
//   - DOWN / Inactive, Policy Date NA: rebooting (absent from g_all);
//   - DOWN / Ready: it runs a release newer than the oldest release of the
//     SGMs that are part of the group (UP or admin down), and not both MVC
//     on and a policy for its release installed after its last boot. When
//     the SGMs of the group all run one release, an SGM that comes back on
//     that release joins at once. MVC off while versions are mixed drops
//     the newer SGMs back to Ready.
//
// The traffic probe forwards while some MHO is up and some SGM forwards.
type Maestro struct {
	opts  MaestroOptions
	core  *Sim // shared lock, timers, CLI options; no members
	log   *slog.Logger
	dir   string
	known string
	probe *upgradetest.Probe
	mgmt  *MgmtServer

	sgHost *Member // CLI state of the SG endpoint (files, CPUSE repository, prompt)
	sgSrv  *sshsim.Server
	sgPort int
	sgms   []*maestroSGM
	mhos   []*MaestroHost
	files  []string // PackageFiles

	// Guarded by core.mu.
	autoClone bool
	sgDown    bool // the SG endpoint refuses connections (no SGM up)
	writes    []string
	commands  []string
}

// StartMaestro starts a simulated security group: one SSH server for the
// SG and one per orchestrator on 127.0.0.1, each with its own host key,
// one known_hosts file listing all of them, and a fake management server
// over TLS on 127.0.0.1 (Mgmt). Close removes everything.
func StartMaestro(opts MaestroOptions) (*Maestro, error) {
	o, coreOpts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "checkpointtest-maestro-")
	if err != nil {
		return nil, fmt.Errorf("checkpointtest: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now()
	probe := upgradetest.NewProbe(o.ProbeEvery, true)
	core := &Sim{
		opts: coreOpts, log: log, dir: dir, knownHosts: filepath.Join(dir, "known_hosts"), probe: probe,
		started: now, timers: make(map[*time.Timer]struct{}), changed: make(chan struct{}), peerLost: make(chan struct{}),
	}
	mz := &Maestro{opts: o, core: core, log: log, dir: dir, known: core.knownHosts, probe: probe, autoClone: !o.AutoCloneOff}
	core.onReboot = mz.onRebootLocked
	core.onRecompute = mz.recomputeLocked

	idx := 0
	for site := 1; site <= o.Sites; site++ {
		for n := 1; n <= o.SGMsPerSite; n++ {
			id := sgmID(site, n)
			m := newMember(core, idx, id, now)
			idx++
			if v, ok := o.SGMVersions[id]; ok {
				m.release, m.build, m.policyFor = v, BuildOf(v), v
			}
			if t, ok := o.SGMTakes[id]; ok {
				m.take = max(t, 0)
			}
			m.joined = true
			mz.sgms = append(mz.sgms, &maestroSGM{Member: m, site: site, n: n})
		}
	}
	mz.sgHost = newMember(core, 100, o.Name+"-ch01-01", now)
	bondMode := "fault-tolerance (active-backup)"
	if o.LACP {
		bondMode = "IEEE 802.3ad Dynamic link aggregation"
	}
	mz.sgHost.files["/proc/net/bonding/bond1"] = []byte("Ethernet Channel Bonding Driver: v3.7.1 (April 27, 2011)\n\n" +
		"Bonding Mode: " + bondMode + "\nMII Status: up\n")

	for _, p := range o.Packages {
		f, err := WritePackage(dir, p)
		if err != nil {
			_ = os.RemoveAll(dir)
			probe.Stop()
			return nil, err
		}
		mz.files = append(mz.files, f)
	}
	fail := func(err error) (*Maestro, error) {
		_ = mz.closeServers()
		probe.Stop()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	serve := func(host string, prompt func(*sshsim.Session) string, h sshsim.Handler, up func(*sshsim.Session, sshsim.Upload) error) (*sshsim.Server, int, error) {
		srv, err := sshsim.New(sshsim.Config{
			Hostname: host, Users: map[string]string{o.Username: o.Password},
			SessionPrompt: prompt, Handler: h, SCPUpload: up,
			ServerVersion: "SSH-2.0-OpenSSH_7.8", Logger: log,
		})
		if err != nil {
			return nil, 0, err
		}
		if err := srv.Start(); err != nil {
			return nil, 0, err
		}
		if err := srv.WriteKnownHosts(core.knownHosts); err != nil {
			return srv, 0, err
		}
		_, port, err := net.SplitHostPort(srv.Addr())
		if err != nil {
			return srv, 0, err
		}
		p, err := strconv.Atoi(port)
		return srv, p, err
	}
	srv, port, err := serve(mz.sgHost.name, mz.sgPrompt, mz.sgHandle, mz.sgUpload)
	mz.sgSrv, mz.sgPort = srv, port
	if err != nil {
		return fail(fmt.Errorf("checkpointtest: start SG endpoint: %w", err))
	}
	for i, name := range o.Orchestrators {
		m := newMember(core, 200+i, name, now)
		h := &MaestroHost{mz: mz, mem: m}
		mz.mhos = append(mz.mhos, h)
		srv, port, err := serve(name, m.prompt, h.handle, h.upload)
		m.srv, m.port = srv, port
		if srv != nil {
			m.addr = srv.Addr()
		}
		if err != nil {
			return fail(fmt.Errorf("checkpointtest: start orchestrator %s: %w", name, err))
		}
	}

	policyTime := o.ImportDuration
	if policyTime <= 0 {
		policyTime = time.Millisecond
	}
	taskTime := o.ApplyDelay
	if taskTime <= 0 {
		taskTime = time.Millisecond
	}
	mo := MgmtOptions{
		Gateways: []MgmtMember{
			{Name: o.Name, IPAddress: "192.0.2.10", Version: mgmtVersionOf(o.Version)},
			{Name: MaestroMgmtObject, IPAddress: "192.0.2.2", Version: o.MgmtVersion},
		},
		PolicyInstall: policyTime, TaskTime: taskTime, VSXUpgrade: taskTime,
		PolicyResult:      mz.policyResult,
		OnPolicyInstalled: mz.policyInstalled,
	}
	if o.VSX {
		// A VSX security group is a VSX object on management (one member,
		// the SG itself) with its Virtual System: vsx-run-operation
		// upgrade and policy installs on the VS work on it.
		mo.Gateways = mo.Gateways[1:]
		mo.VSXClusters = []MgmtVSXCluster{{Name: o.Name, Version: mgmtVersionOf(o.Version),
			Members: []MgmtMember{{Name: o.Name + "-member", IPAddress: "192.0.2.10"}}, VirtualSystems: []string{o.VSName}}}
	}
	mg, err := NewMgmtServer(mo)
	if err != nil {
		return fail(err)
	}
	mz.mgmt = mg

	core.mu.Lock()
	mz.recomputeLocked()
	core.mu.Unlock()
	log.Info("checkpointtest: Maestro started", "sg", o.Name, "sgms", len(mz.sgms), "mhos", o.Orchestrators, "version", o.Version)
	return mz, nil
}

// mgmtVersionOf returns release in the management fake's version grammar
// (R81.20), or DefaultVersion when it does not fit.
func mgmtVersionOf(release string) string {
	if mgmtVersionRE.MatchString(release) {
		return release
	}
	return DefaultVersion
}

// closeServers closes every SSH server started so far.
func (mz *Maestro) closeServers() error {
	var errs []error
	if mz.sgSrv != nil {
		if err := mz.sgSrv.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, h := range mz.mhos {
		if h.mem.srv != nil {
			if err := h.mem.srv.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Close stops every endpoint and the management fake, cancels pending
// reboots and timers, stops the probe and removes the temporary directory.
// It is idempotent.
func (mz *Maestro) Close() error {
	mz.core.mu.Lock()
	if mz.core.closed {
		mz.core.mu.Unlock()
		return nil
	}
	mz.core.mu.Unlock()
	err := mz.core.Close() // timers, probe, directory
	if cerr := mz.closeServers(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("checkpointtest: %w", cerr))
	}
	if mz.mgmt != nil {
		mz.mgmt.Close()
	}
	return err
}

// KnownHostsFile returns the path of an OpenSSH known_hosts file with the
// host keys of the SG endpoint and of every MHO endpoint. It is removed by
// Close.
func (mz *Maestro) KnownHostsFile() string { return mz.known }

// Username returns the login user of every endpoint.
func (mz *Maestro) Username() string { return mz.opts.Username }

// Password returns the login password of every endpoint.
func (mz *Maestro) Password() string { return mz.opts.Password }

// ExpertPassword returns the password `expert` asks for on every endpoint.
func (mz *Maestro) ExpertPassword() string { return mz.opts.ExpertPassword }

// Options returns the options in force, defaults filled in.
func (mz *Maestro) Options() MaestroOptions { return mz.opts }

// PackageFiles returns the local paths of the MaestroOptions.Packages
// files (WritePackage), in order; they are removed by Close.
func (mz *Maestro) PackageFiles() []string { return slices.Clone(mz.files) }

// SGHost returns the SG management endpoint's address, "127.0.0.1".
func (mz *Maestro) SGHost() string { return "127.0.0.1" }

// SGPort returns the SG management endpoint's SSH port.
func (mz *Maestro) SGPort() int { return mz.sgPort }

// SGPrompt returns the SG's host name as its prompts show it,
// "<Name>-ch01-01".
func (mz *Maestro) SGPrompt() string { return mz.sgHost.name }

// Orchestrators returns the MHOs in MaestroOptions.Orchestrators order.
func (mz *Maestro) Orchestrators() []*MaestroHost { return slices.Clone(mz.mhos) }

// SGMs returns the canonical SGM ids, sorted by site then number.
func (mz *Maestro) SGMs() []string {
	out := make([]string, 0, len(mz.sgms))
	for _, g := range mz.sgms {
		out = append(out, g.name)
	}
	return out
}

// sgm returns the SGM with canonical id, or nil.
func (mz *Maestro) sgm(id string) *maestroSGM {
	for _, g := range mz.sgms {
		if g.name == id {
			return g
		}
	}
	return nil
}

// sgmRead reads f of SGM id under the lock (zero value for unknown ids).
func sgmRead[T any](mz *Maestro, id string, f func(g *maestroSGM) T) T {
	mz.core.mu.Lock()
	defer mz.core.mu.Unlock()
	var zero T
	g := mz.sgm(id)
	if g == nil {
		return zero
	}
	return f(g)
}

// SGMVersion returns the release SGM id runs ("" for an unknown id).
func (mz *Maestro) SGMVersion(id string) string {
	return sgmRead(mz, id, func(g *maestroSGM) string { return g.release })
}

// SGMTake returns the Jumbo take SGM id runs (0: none).
func (mz *Maestro) SGMTake(id string) int {
	return sgmRead(mz, id, func(g *maestroSGM) int { return g.take })
}

// SGMUp reports whether SGM id is UP in asg stat -v (UP / Enforcing
// Security).
func (mz *Maestro) SGMUp(id string) bool { return mz.SGMForwarding(id) }

// SGMForwarding reports whether SGM id forwards traffic (UP, Enforcing
// Security).
func (mz *Maestro) SGMForwarding(id string) bool {
	return sgmRead(mz, id, func(g *maestroSGM) bool { return g.forwardingLocked() })
}

// SGMAdminDown reports whether g_clusterXL_admin down is in force on SGM id.
func (mz *Maestro) SGMAdminDown(id string) bool {
	return sgmRead(mz, id, func(g *maestroSGM) bool { return g.adminDown })
}

// SGMMVC reports whether MVC is on on SGM id.
func (mz *Maestro) SGMMVC(id string) bool {
	return sgmRead(mz, id, func(g *maestroSGM) bool { return g.mvc })
}

// SGMReboots returns how many times SGM id came back from a reboot.
func (mz *Maestro) SGMReboots(id string) int {
	return sgmRead(mz, id, func(g *maestroSGM) int { return g.reboots })
}

// SGMDown reports whether SGM id is rebooting.
func (mz *Maestro) SGMDown(id string) bool {
	return sgmRead(mz, id, func(g *maestroSGM) bool { return g.down })
}

// SGMState returns SGM id's asg stat -v State and Process, e.g. "UP" and
// "Enforcing Security", "DOWN (admin)" and "Inactive", "DOWN" and "Ready".
func (mz *Maestro) SGMState(id string) (state, process string) {
	mz.core.mu.Lock()
	defer mz.core.mu.Unlock()
	g := mz.sgm(id)
	if g == nil {
		return "", ""
	}
	state, process, _ = g.statLocked()
	return state, process
}

// AutoClone reports the image auto-clone state.
func (mz *Maestro) AutoClone() bool {
	mz.core.mu.Lock()
	defer mz.core.mu.Unlock()
	return mz.autoClone
}

// Mgmt returns the fake management server (TLS on 127.0.0.1; see Maestro
// for its objects). Reach it with Mgmt().ClientConfig().
func (mz *Maestro) Mgmt() *MgmtServer { return mz.mgmt }

// Probe returns the traffic probe: traffic flows while some MHO is up and
// some SGM forwards.
func (mz *Maestro) Probe() *upgradetest.Probe { return mz.probe }

// ProbeSummary returns the probe's ticks, lost ticks and outage (Failovers
// is always 0).
func (mz *Maestro) ProbeSummary() ProbeSummary {
	return ProbeSummary{Ticks: mz.probe.Ticks(), LostTicks: mz.probe.LostTicks(), Outage: mz.probe.Outage()}
}

// Writes returns every state-changing command received on any endpoint, in
// order, as "<endpoint>: <command>" (endpoint: the SG name or the MHO
// name; white space collapsed): admin down/up, installer
// import/upgrade/install, cphaconf, set ... (but not `set clienv`),
// sp_upgrade, reboot, file writes (cp, > redirections), g_all of any of
// these, and SCP uploads as "scp <path>". Read-only commands, the on-open
// `lock database override` / `set clienv rows 0`, and answers to questions
// are excluded.
func (mz *Maestro) Writes() []string {
	mz.core.mu.Lock()
	defer mz.core.mu.Unlock()
	return slices.Clone(mz.writes)
}

// Commands returns every command line received on any endpoint, in order,
// in the format of Writes (answers to questions, such as the expert
// password, are not recorded).
func (mz *Maestro) Commands() []string {
	mz.core.mu.Lock()
	defer mz.core.mu.Unlock()
	return slices.Clone(mz.commands)
}

// Wait returns nil as soon as cond returns true, re-checking it at every
// change of the state model (and every 5 ms), or ctx's error wrapped when
// ctx ends first. cond must not call Wait.
func (mz *Maestro) Wait(ctx context.Context, cond func() bool) error { return mz.core.Wait(ctx, cond) }

// recordLocked records a command received on endpoint.
func (mz *Maestro) recordLocked(endpoint, cmd string) {
	e := endpoint + ": " + cmd
	mz.commands = append(mz.commands, e)
	if isMaestroWrite(cmd) {
		mz.writes = append(mz.writes, e)
	}
}

var devNullRe = regexp.MustCompile(`\s*[12]?>\s*/dev/null|\s*2>&1`)

// isMaestroWrite reports whether a command line changes state.
func isMaestroWrite(cmd string) bool {
	w := strings.Fields(cmd)
	if len(w) == 0 {
		return false
	}
	if w[0] == "g_all" {
		w = w[1:]
		if len(w) >= 2 && w[0] == "-b" {
			w = w[2:]
		}
		return isMaestroWrite(strings.Join(w, " "))
	}
	if strings.Contains(devNullRe.ReplaceAllString(cmd, ""), ">") {
		return true
	}
	for _, part := range strings.FieldsFunc(cmd, func(r rune) bool { return r == ';' || r == '&' || r == '|' }) {
		p := strings.Fields(part)
		if len(p) == 0 {
			continue
		}
		switch p[0] {
		case "g_clusterXL_admin", "clusterXL_admin", "cphaconf", "sp_upgrade", "reboot", "cp", "mv", "rm", "scp":
			return true
		case "installer":
			if len(p) > 1 && p[1] != "verify" {
				return true
			}
		case "set":
			if len(p) > 1 && p[1] != "clienv" {
				return true
			}
		case "bash", "sh", "clish":
			if len(p) > 2 && isMaestroWrite(strings.Trim(strings.Join(p[2:], " "), `"'`)) {
				return true
			}
		}
	}
	return false
}

// --- state model ---

// forwardingLocked reports whether g is UP / Enforcing Security.
func (g *maestroSGM) forwardingLocked() bool { return !g.down && g.joined && !g.adminDown }

// policyValidLocked reports whether g has a policy for its release.
func (g *maestroSGM) policyValidLocked() bool { return g.policyOK && g.policyFor == g.release }

// statLocked is g's asg stat -v State, Process and Policy Date.
func (g *maestroSGM) statLocked() (state, process, policy string) {
	policy = "NA"
	if !g.down && g.policyValidLocked() {
		policy = g.policyAt.UTC().Format("02Jan06 15:04")
	}
	switch {
	case g.down:
		return "DOWN", "Inactive", "NA"
	case !g.joined:
		return "DOWN", "Ready", policy
	case g.adminDown:
		return "DOWN (admin)", "Inactive", policy
	}
	return "UP", "Enforcing Security", policy
}

// smoLocked returns the SMO, the lowest-ID SGM that is not rebooting, or
// nil.
func (mz *Maestro) smoLocked() *maestroSGM {
	for _, g := range mz.sgms {
		if !g.down {
			return g
		}
	}
	return nil
}

// recomputeLocked derives the SGMs' membership (see Maestro), updates the
// probe and wakes waiters. core.mu must be held.
func (mz *Maestro) recomputeLocked() {
	var base string
	for _, g := range mz.sgms {
		if !g.down && g.joined && (base == "" || releaseCompare(g.release, base) < 0) {
			base = g.release
		}
	}
	if base == "" { // nobody was part of the group: the oldest up SGM starts it
		for _, g := range mz.sgms {
			if !g.down && (base == "" || releaseCompare(g.release, base) < 0) {
				base = g.release
			}
		}
	}
	for _, g := range mz.sgms {
		was := g.joined
		g.joined = !g.down && (releaseCompare(g.release, base) <= 0 ||
			g.mvc && g.policyValidLocked() && !g.policyAt.Before(g.bootedAt))
		if was != g.joined {
			mz.log.Info("checkpointtest: SGM membership", "sgm", g.name, "joined", g.joined, "release", g.release)
		}
	}
	fwd := false
	for _, g := range mz.sgms {
		fwd = fwd || g.forwardingLocked()
	}
	mho := false
	for _, h := range mz.mhos {
		mho = mho || !h.mem.down
	}
	mz.probe.Set(fwd && mho)
	mz.core.notifyLocked()
}

// onRebootLocked is the shared member CLI's reboot (installer upgrade,
// reboot) for an MHO, an SGM (through g_all) or the SG endpoint (its SMO).
func (mz *Maestro) onRebootLocked(m *Member, pkg *Package, never bool) {
	for _, h := range mz.mhos {
		if h.mem == m {
			mz.rebootMHOLocked(h, pkg, never)
			return
		}
	}
	if m == mz.sgHost {
		if smo := mz.smoLocked(); smo != nil {
			mz.rebootSGMLocked(smo, pkg, false)
		}
		return
	}
	for _, g := range mz.sgms {
		if g.Member == m {
			mz.rebootSGMLocked(g, pkg, false)
			return
		}
	}
}

// rebootMHOLocked takes an MHO down for RebootDuration (DeadMHO after an
// upgrade: for ever); pkg, if not nil, is installed when it comes back.
func (mz *Maestro) rebootMHOLocked(h *MaestroHost, pkg *Package, never bool) {
	m := h.mem
	if m.down || mz.core.closed {
		return
	}
	m.down, m.applying = true, false
	d := mz.opts.RebootDuration
	if never || (pkg != nil && mz.opts.DeadMHO == m.name) {
		d = forever
		m.dead = true
	}
	mz.log.Info("checkpointtest: MHO rebooting", "mho", m.name, "package", pkg != nil, "dead", m.dead)
	mz.recomputeLocked()
	m.srv.Reboot(d, func() {
		mz.core.mu.Lock()
		defer mz.core.mu.Unlock()
		if mz.core.closed {
			return
		}
		if pkg != nil {
			m.installLocked(*pkg)
		}
		m.down = false
		m.reboots++
		m.bootedAt = time.Now()
		m.lockOwner = nil
		clear(m.importing)
		mz.log.Info("checkpointtest: MHO back", "mho", m.name, "release", m.release)
		mz.recomputeLocked()
	})
}

// rebootSGMLocked takes g down for RebootDuration. img, if not nil, is the
// image it comes back on (StuckSGM: its old one, for upgrades); pkg is
// installed on it when not nil (revert: nil pkg, img set).
func (mz *Maestro) rebootSGMLocked(g *maestroSGM, pkg *Package, revert bool) {
	if g.down || mz.core.closed {
		return
	}
	wasSMO := mz.smoLocked() == g
	g.down, g.applying, g.joined = true, false, false
	mz.log.Info("checkpointtest: SGM rebooting", "sgm", g.name, "package", pkg != nil, "revert", revert)
	if mz.smoLocked() == nil {
		mz.sgDown = true
		mz.sgSrv.Reboot(forever, nil) // nobody answers the SG address
	} else if wasSMO {
		mz.sgSrv.DropSessions()
	}
	mz.recomputeLocked()
	mz.core.afterLocked(mz.opts.RebootDuration, func() {
		switch {
		case revert && g.prev != nil:
			g.release, g.build, g.take, g.embeddedTake = g.prev.release, g.prev.build, g.prev.take, 0
			g.prev, g.upgradedFrom = nil, ""
		case pkg != nil && mz.opts.StuckSGM != g.name:
			img := &sgmImage{release: g.release, build: g.build, take: g.take}
			g.installLocked(*pkg)
			if pkg.Kind == KindMajor {
				g.prev = img
			}
		}
		g.down = false
		g.reboots++
		g.adminDown = false
		g.bootedAt = time.Now()
		g.joined = false
		if mz.sgDown {
			mz.sgDown = false
			mz.sgSrv.Reboot(0, nil) // listen again now
		}
		mz.log.Info("checkpointtest: SGM back", "sgm", g.name, "release", g.release, "take", g.take)
		mz.recomputeLocked()
	})
}

// isSG reports whether an install-policy result is the SG's own: the SG
// gateway object, or the one member of a VSX security group's VSX object.
func (mz *Maestro) isSG(target, member string) bool {
	return target == mz.opts.Name && (member == mz.opts.Name || mz.opts.VSX && member == mz.opts.Name+"-member")
}

// policyResult is the management fake's PolicyResult: an install on the SG
// object succeeds when some SGM is up.
func (mz *Maestro) policyResult(target, member string) string {
	if !mz.isSG(target, member) {
		return MgmtPolicySucceeded
	}
	mz.core.mu.Lock()
	defer mz.core.mu.Unlock()
	if mz.smoLocked() == nil {
		return "Security Group " + mz.opts.Name + " is not reachable"
	}
	return MgmtPolicySucceeded
}

// policyInstalled is the management fake's OnPolicyInstalled: every SGM
// that is up gets a policy for its release.
func (mz *Maestro) policyInstalled(target, member string, access, _ bool) {
	if !mz.isSG(target, member) || !access {
		return
	}
	mz.core.mu.Lock()
	defer mz.core.mu.Unlock()
	if mz.core.closed {
		return
	}
	now := time.Now()
	for _, g := range mz.sgms {
		if !g.down {
			g.policyOK, g.policyFor, g.policyAt = true, g.release, now
		}
	}
	mz.log.Info("checkpointtest: policy installed on the SG", "sg", mz.opts.Name)
	mz.recomputeLocked()
}

// --- MaestroHost ---

// Name returns the MHO's host name (also its prompt, "<name>> ").
func (h *MaestroHost) Name() string { return h.mem.name }

// Host returns "127.0.0.1".
func (h *MaestroHost) Host() string { return "127.0.0.1" }

// Port returns the MHO's SSH port.
func (h *MaestroHost) Port() int { return h.mem.port }

// Version returns the release the MHO runs.
func (h *MaestroHost) Version() string { return h.mem.Version() }

// Take returns the MHO's Jumbo take (0: none).
func (h *MaestroHost) Take() int { return h.mem.Take() }

// Down reports whether the MHO is rebooting or dead (connections refused).
func (h *MaestroHost) Down() bool { return h.mem.Down() }

// Reboots returns how many times the MHO came back from a reboot.
func (h *MaestroHost) Reboots() int { return h.mem.Reboots() }

// Imported returns the file names in the MHO's CPUSE repository.
func (h *MaestroHost) Imported() []string { return h.mem.Imported() }

// Uploaded returns the paths of every file the MHO received by SCP.
func (h *MaestroHost) Uploaded() []string { return h.mem.Uploaded() }
