package checkpointtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hitless/hitless/internal/sshsim"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// Defaults used by Start for zero Options fields.
const (
	// DefaultVersion is the initial release of every member.
	DefaultVersion = "R81.20"
	// DefaultTake is the initial Jumbo Hotfix take of every member (the
	// project's seed minimum before an R82 upgrade, which is not verified
	// publicly).
	DefaultTake = 92
	// DefaultUsername is the Gaia administrator account.
	DefaultUsername = "admin"
	// DefaultClusterMode is the "Cluster Mode" text of `cphaprob state`,
	// copied from a real R82 capture.
	DefaultClusterMode = "High Availability (Active Up) with IGMP Membership"
	// DefaultCoreXL is the number of CoreXL firewall instances per member.
	DefaultCoreXL = 4
	// DefaultClishRows is the Clish page length before `set clienv rows 0`
	// (UNVERIFIED: the real default depends on the terminal).
	DefaultClishRows = 24
	// DefaultImportDuration is how long `installer import local` takes
	// until the package is listed as imported.
	DefaultImportDuration = 200 * time.Millisecond
	// DefaultApplyDelay is the time between the output of `installer
	// upgrade|install` (or `reboot`) and the member's reboot.
	DefaultApplyDelay = 100 * time.Millisecond
	// DefaultRebootDuration is how long a rebooting member refuses
	// connections. Real gateways need many minutes.
	DefaultRebootDuration = time.Second
	// DefaultFailoverGap is how long nothing forwards after the ACTIVE
	// member disappears without handing over first (reboot, failure),
	// before another member takes over.
	DefaultFailoverGap = 300 * time.Millisecond
	// DefaultProbeEvery is the traffic probe period.
	DefaultProbeEvery = 100 * time.Millisecond
)

// forever stands for a reboot that never comes back (about 146 years).
const forever = time.Duration(1 << 62)

// Interface is one cluster interface of every member.
type Interface struct {
	// Name is the interface name, e.g. "eth0": 1-15 characters of
	// [A-Za-z0-9._-], starting with a letter.
	Name string
	// Sync marks the synchronisation interface (exactly one per cluster;
	// it has no virtual cluster address).
	Sync bool
	// VIP is the virtual cluster address of a non-sync interface; the zero
	// value means none (the interface is then not listed under "Virtual
	// cluster interfaces").
	VIP netip.Addr
}

// VirtualSystem is one virtual device of a VSX cluster.
type VirtualSystem struct {
	// ID is the VSID, 1..250, unique.
	ID int
	// Name is the virtual device name (1-31 characters of [A-Za-z0-9._-]).
	Name string
	// Switch makes it a Virtual Switch (type letter W, no policy) instead
	// of a Virtual System (S).
	Switch bool
}

// Options configure a simulated cluster. The zero value is valid: every
// zero field takes its default. A negative duration means zero (immediate).
type Options struct {
	// Names are the members' host names (also their prompts), in member ID
	// order: Names[0] is member 1. Default {"gw-a", "gw-b"}. 2-8 distinct
	// names of 1-63 characters of [A-Za-z0-9_-], starting with a letter or
	// digit. Member 1 starts ACTIVE, the others STANDBY.
	Names []string
	// Version is the initial release of every member, in the
	// versionpath.CheckPoint grammar (e.g. "R81.10", "R81.20", "R82");
	// default DefaultVersion.
	Version string
	// Take is the initial Jumbo Hotfix take (default DefaultTake); -1 means
	// no hotfix installed at all (cpinfo prints "No hotfixes..").
	Take int
	// Username and Password are the login credentials of every member;
	// default DefaultUsername and a random password.
	Username, Password string
	// ExpertPassword is the password of Clish `expert`; default a random
	// password different from Password.
	ExpertPassword string
	// ClusterMode is the "Cluster Mode" text; default DefaultClusterMode.
	ClusterMode string
	// Interfaces are the cluster interfaces; default eth0 (VIP
	// 192.0.2.1), eth1 (sync), eth2 (VIP 198.51.100.1).
	Interfaces []Interface
	// CoreXL is the initial number of CoreXL instances per member (default
	// DefaultCoreXL).
	CoreXL int
	// VSX makes the cluster a VSX cluster with VirtualSystems; `vsx stat
	// -v` then prints the VSX status instead of "VSX is not supported on
	// this platform".
	VSX bool
	// VirtualSystems are the virtual devices of a VSX cluster; default
	// {1 "vs1"} and {2 "vs2"} when VSX is set. Ignored without VSX.
	VirtualSystems []VirtualSystem
	// LoginContext is the VS context a new session starts in (VSX only;
	// default 0), to simulate a session that lands in a non-zero context.
	LoginContext int
	// ClishRows is the Clish page length of a new session: longer outputs
	// stop at "-- More --" until a line is typed ("q" quits). 0 means
	// DefaultClishRows; negative means no paging. `set clienv rows 0`
	// turns paging off for the session.
	ClishRows int
	// LostPeersUnlisted makes old-version members omit a newer member they
	// cannot talk to from their `cphaprob state` table instead of listing
	// it as LOST (both are documented variants).
	LostPeersUnlisted bool
	// ImportDuration: a package given to `installer import local` is
	// listed as imported after this (default DefaultImportDuration).
	ImportDuration time.Duration
	// ApplyDelay: `installer upgrade|install` and `reboot` print their
	// output, then the member keeps running this long before it reboots
	// (default DefaultApplyDelay).
	ApplyDelay time.Duration
	// RebootDuration: a rebooting member refuses connections this long
	// (default DefaultRebootDuration).
	RebootDuration time.Duration
	// FailoverGap: when the ACTIVE member disappears without handing over
	// (reboot, failure), the next member takes over after this gap, during
	// which nothing forwards (default DefaultFailoverGap).
	FailoverGap time.Duration
	// ProbeEvery is the traffic probe period (default DefaultProbeEvery).
	ProbeEvery time.Duration
	// Faults injects failures.
	Faults Faults
	// Logger receives the simulator's and the SSH engine's records; nil
	// discards them. Passwords are never logged.
	Logger *slog.Logger
}

// Faults are failures to inject. The zero value injects none. Member names
// must be names of the cluster.
type Faults struct {
	// ImportNeverFinishes names a member whose `installer import local`
	// starts but never lists the package as imported.
	ImportNeverFinishes string
	// StaysReady names a member that stays READY after it was upgraded,
	// even with MVC on and a policy installed.
	StaysReady string
	// MVCStaysOff names a member on which `cphaconf mvc on` and `set
	// cluster member mvc on` print nothing and exit 0 as usual, but MVC
	// stays off (the read-back says Off).
	MVCStaysOff string
	// VSNotLoaded maps a member name to a VSID (VSX) that is not loaded on
	// that member after each of its reboots: `vsx stat -v` shows it as
	// "<Not Loaded>" and counts it as not active.
	VSNotLoaded map[string]int
	// PeerLostMidUpgrade names a member: when it reboots for an upgrade
	// (installer upgrade|install) while another member is ACTIVE, that
	// ACTIVE member fails for good at the same moment (drops its sessions
	// and refuses connections until Close). Sim.PeerLost is closed then.
	PeerLostMidUpgrade string
	// BackOnOld names a member that comes back from every upgrade reboot on
	// its old version and take.
	BackOnOld string
	// NeverReturns names a member whose reboots never end.
	NeverReturns string
	// CommandError maps a command to a text printed instead of its output
	// (verbatim, e.g. "CLINFR0519  Configuration lock present..."), with
	// exit status 1; the command then does nothing. The command matches
	// the whole line (white space collapsed) or else its first word. The
	// key "scp" makes SCP uploads fail with that text.
	CommandError map[string]string
	// Slow maps a command (matched like CommandError; "*" matches every
	// command) to a delay before the member answers it.
	Slow map[string]time.Duration
}

// Set turns on the fault named name ("import-never-finishes",
// "stays-ready", "mvc-stays-off", "peer-lost-mid-upgrade", "back-on-old",
// "never-returns": the kebab-case names of the fields that take one
// member) for member, and reports whether name is one of them. The
// examples' -fault flags and inventories use these names.
func (f *Faults) Set(name, member string) bool {
	field := map[string]*string{
		"import-never-finishes": &f.ImportNeverFinishes, "stays-ready": &f.StaysReady, "mvc-stays-off": &f.MVCStaysOff,
		"peer-lost-mid-upgrade": &f.PeerLostMidUpgrade, "back-on-old": &f.BackOnOld, "never-returns": &f.NeverReturns,
	}[name]
	if field == nil {
		return false
	}
	*field = member
	return true
}

var (
	hostRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)
	ifaceRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,14}$`)
	vsRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$`)
)

// randomSecret returns a random URL-safe string.
func randomSecret() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("checkpointtest: random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// withDefaults validates o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	o.Names = slices.Clone(o.Names)
	if len(o.Names) == 0 {
		o.Names = []string{"gw-a", "gw-b"}
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	switch {
	case o.Take == 0:
		o.Take = DefaultTake
	case o.Take < 0:
		o.Take = 0
	}
	if o.Username == "" {
		o.Username = DefaultUsername
	}
	var err error
	if o.Password == "" {
		if o.Password, err = randomSecret(); err != nil {
			return o, err
		}
	}
	if o.ExpertPassword == "" {
		if o.ExpertPassword, err = randomSecret(); err != nil {
			return o, err
		}
	}
	if o.ClusterMode == "" {
		o.ClusterMode = DefaultClusterMode
	}
	o.Interfaces = slices.Clone(o.Interfaces)
	if len(o.Interfaces) == 0 {
		o.Interfaces = []Interface{
			{Name: "eth0", VIP: netip.MustParseAddr("192.0.2.1")},
			{Name: "eth1", Sync: true},
			{Name: "eth2", VIP: netip.MustParseAddr("198.51.100.1")},
		}
	}
	if o.CoreXL == 0 {
		o.CoreXL = DefaultCoreXL
	}
	o.VirtualSystems = slices.Clone(o.VirtualSystems)
	if o.VSX && len(o.VirtualSystems) == 0 {
		o.VirtualSystems = []VirtualSystem{{ID: 1, Name: "vs1"}, {ID: 2, Name: "vs2"}}
	}
	if !o.VSX {
		o.VirtualSystems = nil
	}
	switch {
	case o.ClishRows == 0:
		o.ClishRows = DefaultClishRows
	case o.ClishRows < 0:
		o.ClishRows = 0
	}
	dur := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0
		}
	}
	dur(&o.ImportDuration, DefaultImportDuration)
	dur(&o.ApplyDelay, DefaultApplyDelay)
	dur(&o.RebootDuration, DefaultRebootDuration)
	dur(&o.FailoverGap, DefaultFailoverGap)
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = DefaultProbeEvery
	}

	var errs []error
	if len(o.Names) < 2 || len(o.Names) > 8 {
		errs = append(errs, fmt.Errorf("option Names: %d members, want 2..8", len(o.Names)))
	}
	seen := map[string]bool{}
	for i, n := range o.Names {
		if !hostRe.MatchString(n) {
			errs = append(errs, fmt.Errorf("option Names[%d] %q does not match %s", i, n, hostRe))
		}
		if seen[n] {
			errs = append(errs, fmt.Errorf("option Names: %q twice", n))
		}
		seen[n] = true
	}
	if _, err := (versionpath.CheckPoint{}).Parse(o.Version); err != nil {
		errs = append(errs, fmt.Errorf("option Version %q: %w", o.Version, err))
	}
	if o.Take > 999999 {
		errs = append(errs, fmt.Errorf("option Take %d is out of range", o.Take))
	}
	if o.Password == o.ExpertPassword {
		errs = append(errs, errors.New("option ExpertPassword must differ from Password"))
	}
	if o.CoreXL < 1 || o.CoreXL > 256 {
		errs = append(errs, fmt.Errorf("option CoreXL %d is out of range 1..256", o.CoreXL))
	}
	syncs := 0
	ifnames := map[string]bool{}
	for i, itf := range o.Interfaces {
		if !ifaceRe.MatchString(itf.Name) {
			errs = append(errs, fmt.Errorf("option Interfaces[%d] name %q does not match %s", i, itf.Name, ifaceRe))
		}
		if ifnames[itf.Name] {
			errs = append(errs, fmt.Errorf("option Interfaces: %q twice", itf.Name))
		}
		ifnames[itf.Name] = true
		if itf.Sync {
			syncs++
			if itf.VIP.IsValid() {
				errs = append(errs, fmt.Errorf("option Interfaces[%d]: the sync interface has no VIP", i))
			}
		}
	}
	if syncs != 1 {
		errs = append(errs, fmt.Errorf("option Interfaces: %d sync interfaces, want exactly 1", syncs))
	}
	vsids := map[int]bool{}
	for i, vs := range o.VirtualSystems {
		if vs.ID < 1 || vs.ID > 250 || vsids[vs.ID] {
			errs = append(errs, fmt.Errorf("option VirtualSystems[%d]: ID %d is not a unique VSID 1..250", i, vs.ID))
		}
		vsids[vs.ID] = true
		if !vsRe.MatchString(vs.Name) {
			errs = append(errs, fmt.Errorf("option VirtualSystems[%d] name %q does not match %s", i, vs.Name, vsRe))
		}
	}
	if o.LoginContext != 0 && (!o.VSX || !vsids[o.LoginContext]) {
		errs = append(errs, fmt.Errorf("option LoginContext %d is not a VSID of a VSX cluster", o.LoginContext))
	}
	for _, f := range []struct{ field, name string }{
		{"ImportNeverFinishes", o.Faults.ImportNeverFinishes}, {"StaysReady", o.Faults.StaysReady},
		{"MVCStaysOff", o.Faults.MVCStaysOff}, {"PeerLostMidUpgrade", o.Faults.PeerLostMidUpgrade},
		{"BackOnOld", o.Faults.BackOnOld}, {"NeverReturns", o.Faults.NeverReturns},
	} {
		if f.name != "" && !seen[f.name] {
			errs = append(errs, fmt.Errorf("option Faults.%s %q is not a member name", f.field, f.name))
		}
	}
	for name, id := range o.Faults.VSNotLoaded {
		if !seen[name] || !vsids[id] {
			errs = append(errs, fmt.Errorf("option Faults.VSNotLoaded[%q] = %d: not a member and VSID of a VSX cluster", name, id))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("checkpointtest: invalid options: %w", err)
	}
	return o, nil
}

// ProbeSummary is the traffic probe's verdict so far.
type ProbeSummary struct {
	// Ticks is the number of probe ticks so far.
	Ticks int `json:"ticks"`
	// LostTicks is the number of ticks at which no member was ACTIVE.
	LostTicks int `json:"lost_ticks"`
	// Outage is the total time no member was ACTIVE.
	Outage time.Duration `json:"outage"`
	// Failovers is the number of times the ACTIVE role moved to another
	// member (Sim.Failovers).
	Failovers int `json:"failovers"`
}

// Sim is a running simulated ClusterXL cluster. Its methods are safe for
// concurrent use. Close it when done.
type Sim struct {
	opts       Options
	log        *slog.Logger
	dir        string
	knownHosts string
	probe      *upgradetest.Probe
	members    []*Member
	started    time.Time

	mu         sync.Mutex // guards everything below and every member's state
	closed     bool
	timers     map[*time.Timer]struct{}
	wg         sync.WaitGroup // pending timer callbacks
	active     *Member        // the ACTIVE member, nil if none
	lastActive *Member        // the member that held ACTIVE last
	lossReason string         // why lastActive lost the role (failover "Reason")
	takeoverAt time.Time      // no takeover before this (FailoverGap)
	failovers  int
	changed    chan struct{} // closed and replaced at every state change
	peerLost   chan struct{}
	lostFired  bool

	// Set by the Maestro simulator, which reuses the member CLI on a Sim
	// without members under its own state model; nil for a ClusterXL Sim.
	onReboot    func(m *Member, pkg *Package, never bool)
	onRecompute func()
}

// Start starts a simulated cluster: one SSH server per member on
// 127.0.0.1, each with its own ed25519 host key, and a known_hosts file
// listing all of them, in a temporary directory removed by Close.
func Start(opts Options) (*Sim, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "checkpointtest-")
	if err != nil {
		return nil, fmt.Errorf("checkpointtest: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now()
	s := &Sim{
		opts:       o,
		log:        log,
		dir:        dir,
		knownHosts: filepath.Join(dir, "known_hosts"),
		probe:      upgradetest.NewProbe(o.ProbeEvery, true),
		started:    now,
		timers:     make(map[*time.Timer]struct{}),
		changed:    make(chan struct{}),
		peerLost:   make(chan struct{}),
	}
	for i, name := range o.Names {
		m := newMember(s, i, name, now)
		srv, err := sshsim.New(sshsim.Config{
			Hostname:      name,
			Users:         map[string]string{o.Username: o.Password},
			SessionPrompt: m.prompt,
			Handler:       m.handle,
			SCPUpload:     m.upload,
			ServerVersion: "SSH-2.0-OpenSSH_7.8",
			Logger:        log,
		})
		if err == nil {
			err = srv.Start()
		}
		if err == nil {
			m.srv = srv
			err = srv.WriteKnownHosts(s.knownHosts)
		}
		if err == nil {
			m.addr = srv.Addr()
			var port string
			_, port, err = net.SplitHostPort(m.addr)
			if err == nil {
				m.port, err = strconv.Atoi(port)
			}
		}
		if err != nil {
			if srv != nil {
				_ = srv.Close()
			}
			for _, prev := range s.members {
				_ = prev.srv.Close()
			}
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("checkpointtest: start member %s: %w", name, err)
		}
		s.members = append(s.members, m)
	}
	s.mu.Lock()
	s.active = s.members[0]
	s.lastActive = s.members[0]
	s.recomputeLocked() // every member: DOWN -> its first state
	// As in the healthy R82 capture, the ACTIVE member's last event is the
	// resolved ACTIVE! alert of its peer's arrival.
	s.active.lastChange = &stateEvent{code: "CLUS-114904", from: "ACTIVE(!)", to: "ACTIVE",
		reason: "Reason for ACTIVE! alert has been resolved", at: now}
	s.mu.Unlock()
	log.Info("checkpointtest: cluster started", "members", o.Names, "version", o.Version, "take", o.Take, "vsx", o.VSX)
	return s, nil
}

// Members returns the members in member ID order (ID 1 first).
func (s *Sim) Members() []*Member { return slices.Clone(s.members) }

// Member returns the member with the given host name, or nil.
func (s *Sim) Member(name string) *Member {
	for _, m := range s.members {
		if m.name == name {
			return m
		}
	}
	return nil
}

// KnownHostsFile returns the path of an OpenSSH known_hosts file listing
// every member ("[127.0.0.1]:port" and its host key). It is removed by
// Close.
func (s *Sim) KnownHostsFile() string { return s.knownHosts }

// HostKeyCallback returns an ssh.HostKeyCallback that accepts exactly the
// members' host keys at their addresses (read from KnownHostsFile).
func (s *Sim) HostKeyCallback() (ssh.HostKeyCallback, error) {
	cb, err := knownhosts.New(s.knownHosts)
	if err != nil {
		return nil, fmt.Errorf("checkpointtest: %w", err)
	}
	return cb, nil
}

// Username returns the login user of every member.
func (s *Sim) Username() string { return s.opts.Username }

// Password returns the login password of every member.
func (s *Sim) Password() string { return s.opts.Password }

// ExpertPassword returns the password Clish `expert` asks for.
func (s *Sim) ExpertPassword() string { return s.opts.ExpertPassword }

// Options returns the options in force, defaults filled in.
func (s *Sim) Options() Options { return s.opts }

// Probe returns the traffic probe: the cluster forwards while some member
// is up and ACTIVE (with or without an attention flag).
func (s *Sim) Probe() *upgradetest.Probe { return s.probe }

// Failovers returns how many times the ACTIVE role moved from one member to
// another since Start (it never decreases, unlike the members' own failover
// counters, which restart at each reboot).
func (s *Sim) Failovers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failovers
}

// ProbeSummary returns the probe's ticks, lost ticks and outage, and the
// failover count.
func (s *Sim) ProbeSummary() ProbeSummary {
	return ProbeSummary{Ticks: s.probe.Ticks(), LostTicks: s.probe.LostTicks(),
		Outage: s.probe.Outage(), Failovers: s.Failovers()}
}

// Active returns the ACTIVE member, or nil when no member forwards.
func (s *Sim) Active() *Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// PeerLost returns a channel closed when Faults.PeerLostMidUpgrade made the
// ACTIVE member fail (never closed without that fault).
func (s *Sim) PeerLost() <-chan struct{} { return s.peerLost }

// Changed returns a channel that is closed at the next change of the state
// model (cluster states, versions, MVC, policy, imports, reboots). Take a
// new channel after each wake-up.
func (s *Sim) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Wait returns nil as soon as cond returns true, re-checking it at every
// change of the state model (and every 5 ms, since a rebooting member's SSH
// server starts listening again just after its state changed), or ctx's
// error wrapped when ctx ends first. cond must not call Wait.
func (s *Sim) Wait(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		ch := s.Changed()
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("checkpointtest: wait: %w", ctx.Err())
		case <-ch:
		case <-tick.C:
		}
	}
}

// PolicyInstalled records that a security policy compiled for the member's
// current release was installed on it (the management fake calls it for
// each member whose install succeeded). With MVC on, it is what lets a
// member upgraded to a newer release than its peers leave READY and join as
// STANDBY. Unknown and rebooting members are ignored.
func (s *Sim) PolicyInstalled(member string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.Member(member)
	if m == nil || m.down || s.closed {
		s.log.Info("checkpointtest: policy install on an unknown or down member ignored", "member", member)
		return
	}
	m.policyOK, m.policyFor, m.policyAt = true, m.release, time.Now()
	s.log.Info("checkpointtest: policy installed", "member", member, "release", m.release)
	s.recomputeLocked()
}

// PolicyResult returns the outcome of installing, on one member, a policy
// compiled for the cluster object's version, taken as the newest release
// any member runs (during an MVC upgrade the cluster object is set to the
// target first): "succeeded" when the member is up and runs that release,
// "failed" otherwise (an old member in a mixed cluster, a rebooting member,
// an unknown name). A management fake reports "partially succeeded" for a
// cluster where some members succeed and some fail.
func (s *Sim) PolicyResult(member string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var newest versionpath.Version
	for _, m := range s.members {
		if v := mustRelease(m.release); newest == nil || v.Compare(newest) > 0 {
			newest = v
		}
	}
	return s.policyResultLocked(member, newest.String())
}

// PolicyResultFor is PolicyResult for a policy compiled for release (e.g.
// the old release, when the cluster object's version is set back to install
// the old members again): "succeeded" when the member is up and runs
// release, "failed" otherwise.
func (s *Sim) PolicyResultFor(member, release string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policyResultLocked(member, release)
}

func (s *Sim) policyResultLocked(member, release string) string {
	m := s.Member(member)
	if m == nil || m.down || m.release != release {
		return "failed"
	}
	return "succeeded"
}

// Close stops every member, cancels pending reboots and timers, stops the
// probe and removes the temporary directory (with the known_hosts file). It
// is idempotent.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for t := range s.timers {
		if t.Stop() {
			s.wg.Done() // its callback will never run
		}
	}
	clear(s.timers)
	s.mu.Unlock()

	var errs []error
	for _, m := range s.members {
		if err := m.srv.Close(); err != nil {
			errs = append(errs, fmt.Errorf("checkpointtest: close %s: %w", m.name, err))
		}
	}
	s.wg.Wait()
	s.probe.Stop()
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("checkpointtest: %w", err))
	}
	return errors.Join(errs...)
}

// afterLocked runs f with s.mu held after d, unless the cluster is closed
// first. s.mu must be held.
func (s *Sim) afterLocked(d time.Duration, f func()) {
	if s.closed {
		return
	}
	s.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		defer s.wg.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.timers, t)
		if !s.closed {
			f()
		}
	})
	s.timers[t] = struct{}{}
}

// notifyLocked wakes the waiters of Changed.
func (s *Sim) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// mustRelease parses a release already validated.
func mustRelease(r string) versionpath.Version {
	v, err := versionpath.CheckPoint{}.Parse(r)
	if err != nil {
		panic("checkpointtest: invalid release " + r) // validated on entry
	}
	return v
}

// recomputeLocked derives the cluster states from the members' facts,
// moves the ACTIVE role if needed, records state change and failover
// events, updates the probe and wakes waiters. s.mu must be held.
//
// The model, per member that is up:
//   - the members on the lowest release among the up members form the
//     cluster; a member on a newer release joins it only with MVC on and a
//     policy installed for its release (and without Faults.StaysReady);
//   - a joined member whose CoreXL layout (instances, Dynamic Balancing)
//     differs from the ACTIVE member's does not join either;
//   - members that did not join are READY;
//   - joined members that are admin down or have a cluster interface down
//     are DOWN, unless no other member can be ACTIVE: then the one that was
//     ACTIVE (or the lowest ID) stays or becomes ACTIVE(!);
//   - the ACTIVE member keeps its role while it can (Active Up: no
//     preemption); otherwise the eligible member with the lowest ID takes
//     over, at once after a hand-over (clusterXL_admin down, interface
//     down) or after FailoverGap when the ACTIVE disappeared.
func (s *Sim) recomputeLocked() {
	if s.onRecompute != nil {
		s.onRecompute()
		return
	}
	now := time.Now()
	var low versionpath.Version
	for _, m := range s.members {
		if m.down {
			continue
		}
		if v := mustRelease(m.release); low == nil || v.Compare(low) < 0 {
			low = v
		}
	}
	for _, m := range s.members {
		m.joined, m.readyWhy = false, ""
		if m.down {
			continue
		}
		switch {
		case m.release == low.String():
			m.joined = true
		case m.mvc && m.policyOK && m.policyFor == m.release && s.opts.Faults.StaysReady != m.name:
			m.joined = true
		default:
			m.readyWhy = "version"
		}
	}
	// CoreXL: compare with the ACTIVE member, else the lowest joined ID.
	var ref *Member
	if s.active != nil && s.active.joined {
		ref = s.active
	} else {
		for _, m := range s.members {
			if m.joined && m.release == low.String() {
				ref = m
				break
			}
		}
	}
	for _, m := range s.members {
		if m.joined && ref != nil && (m.corexl != ref.corexl || m.dynBal != ref.dynBal) {
			m.joined, m.readyWhy = false, "corexl"
		}
	}

	if s.active != nil && s.active.down {
		s.active = nil // callers normally do this with a loss reason
	}
	cur := s.active
	var next *Member
	switch {
	case cur == nil && now.Before(s.takeoverAt):
		// FailoverGap: nobody takes over yet.
	default:
		var best, firstJoined *Member
		for _, m := range s.members {
			if !m.joined {
				continue
			}
			if firstJoined == nil {
				firstJoined = m
			}
			if best == nil && m.eligibleLocked() {
				best = m
			}
		}
		switch {
		case cur != nil && cur.eligibleLocked():
			next = cur
		case best != nil:
			next = best
		case cur != nil && cur.joined:
			next = cur // nobody else can take over: ACTIVE(!)
		default:
			next = firstJoined // nil when nobody is up
		}
	}
	if next != cur {
		if cur != nil {
			s.lastActive = cur
			if s.lossReason == "" {
				s.lossReason = "Member state has been changed"
			}
		}
		s.active = next
		if next != nil {
			if s.lastActive != nil && s.lastActive != next {
				s.failovers++
				fo := &failoverEvent{from: s.lastActive.id, to: next.id, reason: s.lossReason, at: now}
				for _, m := range s.members {
					if !m.down {
						m.failCount++
						m.lastFailover = fo
					}
				}
				s.log.Info("checkpointtest: failover", "from", s.lastActive.name, "to", next.name, "reason", s.lossReason)
			}
			s.lastActive = next
			s.lossReason = ""
		}
	}
	for _, m := range s.members {
		if m.down {
			continue
		}
		st := m.ownStateLocked()
		if st != m.state {
			m.lastChange = s.stateEventLocked(m, m.state, st, now)
			s.log.Info("checkpointtest: state change", "member", m.name, "from", m.state, "to", st)
			m.state = st
		}
	}
	s.probe.Set(s.active != nil)
	s.notifyLocked()
}

// stateEventLocked builds the "Last member state change event" of m. The
// codes and reasons of ACTIVE(!) -> ACTIVE (CLUS-114904) and -> STANDBY
// (CLUS-114802) are copied from real captures; the others are INVENTED
// (UNVERIFIED).
func (s *Sim) stateEventLocked(m *Member, from, to string, now time.Time) *stateEvent {
	ev := &stateEvent{from: from, to: to, at: now}
	switch {
	case to == "STANDBY" && s.active != nil:
		ev.code, ev.reason = "CLUS-114802", fmt.Sprintf("There is already an ACTIVE member in the cluster (member %d)", s.active.id)
	case to == "STANDBY":
		ev.code, ev.reason = "CLUS-114800", "Member is ready to take over; no ACTIVE member in the cluster"
	case to == "ACTIVE" && from == "ACTIVE(!)":
		ev.code, ev.reason = "CLUS-114904", "Reason for ACTIVE! alert has been resolved"
	case to == "ACTIVE":
		ev.code, ev.reason = "CLUS-114704", "No other ACTIVE members have been found in the cluster"
	case to == "ACTIVE(!)" && from == "ACTIVE":
		ev.code, ev.reason = "CLUS-110805", "A problem was detected, but no other member can take over (see Active PNOTEs)"
	case to == "ACTIVE(!)":
		ev.code, ev.reason = "CLUS-114704", "No other ACTIVE members have been found in the cluster"
	case to == "DOWN" && m.adminDown:
		ev.code, ev.reason = "CLUS-110200", "Member state has been changed due to ADMIN_DOWN PNOTE"
	case to == "DOWN":
		ev.code, ev.reason = "CLUS-110300", "Interface Active Check on this member reported a problem"
	case to == "READY" && m.readyWhy == "corexl":
		ev.code, ev.reason = "CLUS-113600", "The CoreXL configuration of this member differs from the ACTIVE member"
	case to == "READY":
		ev.code, ev.reason = "CLUS-113500", "This member runs a newer version than the other members; MVC is off or no policy is installed for it"
	default:
		ev.code, ev.reason = "CLUS-100000", "Member state has been changed"
	}
	return ev
}

// loseActiveLocked takes the ACTIVE role from m when m disappears without a
// hand-over (reboot, failure): nothing forwards for FailoverGap. s.mu must
// be held.
func (s *Sim) loseActiveLocked(m *Member, reason string) {
	if s.active != m {
		return
	}
	s.active = nil
	s.lastActive = m
	s.lossReason = reason
	if gap := s.opts.FailoverGap; gap > 0 {
		s.takeoverAt = time.Now().Add(gap)
		s.afterLocked(gap, s.recomputeLocked)
	}
}

// rebootLocked takes m down for RebootDuration (for ever with
// Faults.NeverReturns or never): sessions dropped, connections refused. pkg,
// if not nil, is installed when it comes back (unless Faults.BackOnOld).
// s.mu must be held.
func (s *Sim) rebootLocked(m *Member, pkg *Package, never bool) {
	if m.down || s.closed {
		return
	}
	if s.onReboot != nil {
		s.onReboot(m, pkg, never)
		return
	}
	now := time.Now()
	m.down, m.applying = true, false
	reason := "Reboot"
	if never && pkg == nil {
		reason = "Member is not reachable"
	}
	s.loseActiveLocked(m, reason)
	if pkg != nil && s.opts.Faults.PeerLostMidUpgrade == m.name && !s.lostFired {
		if a := s.active; a != nil && a != m {
			s.lostFired = true
			s.log.Info("checkpointtest: ACTIVE member fails while its peer upgrades", "failed", a.name, "upgrading", m.name)
			a.down, a.dead = true, true
			s.loseActiveLocked(a, "Member is not reachable")
			a.srv.Reboot(forever, nil)
			close(s.peerLost)
		}
	}
	s.log.Info("checkpointtest: member rebooting", "member", m.name, "package", pkg != nil, "at", now)
	s.recomputeLocked()
	down := s.opts.RebootDuration
	if never || s.opts.Faults.NeverReturns == m.name {
		down = forever
	}
	m.srv.Reboot(down, func() { s.back(m, pkg) })
}

// back is called when m's reboot ends, just before it accepts connections
// again.
func (s *Sim) back(m *Member, pkg *Package) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	now := time.Now()
	if pkg != nil && s.opts.Faults.BackOnOld != m.name {
		m.installLocked(*pkg)
	}
	m.down = false
	m.reboots++
	m.adminDown = m.adminPerm // clusterXL_admin without -p does not survive a reboot
	m.bootedAt = now
	m.failCount = 0
	m.lastFailover = nil
	m.state = "DOWN"
	m.lastChange = nil
	m.lockOwner = nil
	clear(m.importing) // imports in progress are lost
	if id, ok := s.opts.Faults.VSNotLoaded[m.name]; ok {
		m.vsDown[id] = true
	}
	s.log.Info("checkpointtest: member back", "member", m.name, "release", m.release, "take", m.take)
	s.recomputeLocked()
}
