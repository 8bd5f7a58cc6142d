package checkpointtest

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hitless/hitless/internal/sshsim"
)

// Member is one simulated cluster member (a ClusterXL gateway or a VSX
// cluster member). Its accessors report the state model.
type Member struct {
	sim      *Sim
	idx      int
	id       int
	name     string
	syncAddr netip.Addr
	srv      *sshsim.Server
	addr     string
	port     int

	// Guarded by sim.mu.
	release, build string
	take           int // installed Jumbo take, 0: none
	embeddedTake   int // take that came with a Blink image, 0: none
	upgradedFrom   string
	down, dead     bool
	applying       bool
	adminDown      bool
	adminPerm      bool // admin down survives reboots (-p, permanent)
	mvc            bool
	policyOK       bool
	policyFor      string
	policyAt       time.Time
	corexl         int
	dynBal         bool
	ifDown         map[string]bool
	vsDown         map[int]bool
	bootedAt       time.Time
	reboots        int
	joined         bool   // computed: part of the cluster
	readyWhy       string // computed: "version" or "corexl" when not joined
	state          string // own state as last computed
	lastChange     *stateEvent
	failCount      int
	lastFailover   *failoverEvent
	files          map[string][]byte
	uploaded       []string
	imported       []imported
	importing      map[string]bool
	commands       []string
	lockOwner      *sshsim.Session
}

// imported is one package in the member's CPUSE repository.
type imported struct {
	file string // file name, e.g. Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar
	pkg  Package
}

// stateEvent is a "Last member state change event".
type stateEvent struct {
	code, from, to, reason string
	at                     time.Time
}

// failoverEvent is a "Last cluster failover event".
type failoverEvent struct {
	from, to int
	reason   string
	at       time.Time
}

func newMember(s *Sim, idx int, name string, now time.Time) *Member {
	o := s.opts
	m := &Member{
		sim: s, idx: idx, id: idx + 1, name: name,
		syncAddr:  netip.AddrFrom4([4]byte{192, 168, 255, byte(idx + 1)}),
		release:   o.Version,
		build:     BuildOf(o.Version),
		take:      o.Take,
		policyOK:  true,
		policyFor: o.Version,
		policyAt:  now,
		corexl:    o.CoreXL,
		ifDown:    map[string]bool{},
		vsDown:    map[int]bool{},
		bootedAt:  now,
		files:     map[string][]byte{},
		importing: map[string]bool{},
		state:     "DOWN",
	}
	if o.VSX {
		m.files[m.fwdir()+"/conf/dynamic_split.conf"] = []byte(dynamicSplitDefault)
	}
	return m
}

// dynamicSplitDefault is the simulator's initial
// $FWDIR/conf/dynamic_split.conf (INVENTED content: the real default file
// is not public).
const dynamicSplitDefault = "# CoreXL Dynamic Balancing (dynamic_split) configuration\n"

// fwdir is $FWDIR for the member's release.
func (m *Member) fwdir() string { return "/opt/CPsuite-" + m.release + "/fw1" }

// cpdir is $CPDIR for the member's release.
func (m *Member) cpdir() string { return "/opt/CPshrd-" + m.release }

// eligibleLocked reports whether m can be ACTIVE without a problem.
func (m *Member) eligibleLocked() bool {
	return m.joined && !m.adminDown && !m.ifaceDownLocked()
}

func (m *Member) ifaceDownLocked() bool {
	for _, down := range m.ifDown {
		if down {
			return true
		}
	}
	return false
}

// ownStateLocked is m's state in its own view: ACTIVE, ACTIVE(!), STANDBY,
// DOWN or READY ("" while rebooting).
func (m *Member) ownStateLocked() string {
	switch {
	case m.down:
		return ""
	case m == m.sim.active:
		if m.adminDown || m.ifaceDownLocked() || m.seesLostLocked() {
			return "ACTIVE(!)"
		}
		return "ACTIVE"
	case m.joined && (m.adminDown || m.ifaceDownLocked()):
		return "DOWN"
	case m.joined:
		return "STANDBY"
	default:
		return "READY"
	}
}

// peerStateLocked is peer p's state as m sees it: LOST when p is down or
// when m is part of the cluster and p runs another release without having
// joined; otherwise p's own state.
func (m *Member) peerStateLocked(p *Member) string {
	switch {
	case p.down:
		return "LOST"
	case m.joined && !p.joined && p.release != m.release:
		return "LOST"
	default:
		return p.ownStateLocked()
	}
}

// seesLostLocked reports whether m sees some peer as LOST.
func (m *Member) seesLostLocked() bool {
	for _, p := range m.sim.members {
		if p != m && m.peerStateLocked(p) == "LOST" {
			return true
		}
	}
	return false
}

// pnotesLocked are m's Active PNOTEs (INVENTED names apart from ADMIN,
// which the project's notes expect for clusterXL_admin down).
func (m *Member) pnotesLocked() []string {
	var p []string
	if m.adminDown {
		p = append(p, "ADMIN")
	}
	if m.ifaceDownLocked() || (m == m.sim.active && m.seesLostLocked()) {
		p = append(p, "IAC")
	}
	if m.readyWhy == "corexl" {
		p = append(p, "COREXL")
	}
	return p
}

// installLocked applies pkg (a major upgrade or a Jumbo) to m.
func (m *Member) installLocked(pkg Package) {
	switch pkg.Kind {
	case KindMajor:
		m.upgradedFrom = m.release
		m.release, m.build = pkg.Release, pkg.Build
		m.take, m.embeddedTake = pkg.Take, pkg.Take
		m.imported = nil
		if m.sim.opts.VSX {
			p := m.fwdir() + "/conf/dynamic_split.conf"
			if _, ok := m.files[p]; !ok {
				m.files[p] = []byte(dynamicSplitDefault)
			}
		}
	case KindJumbo:
		// The R81.20 Jumbo trap on VSX (PMTR-114499): after a major
		// upgrade from an older release, a Jumbo turns CoreXL Dynamic
		// Balancing on unless OFF_BY_DEFAULT_ON_VSX=1 was set first.
		if m.sim.opts.VSX && m.release == "R81.20" && m.upgradedFrom != "" &&
			mustRelease(m.upgradedFrom).Compare(mustRelease("R81.20")) < 0 &&
			!hasLine(string(m.files[m.fwdir()+"/conf/dynamic_split.conf"]), "OFF_BY_DEFAULT_ON_VSX=1") {
			m.dynBal = true
		}
		m.take = pkg.Take
		m.imported = slices.DeleteFunc(m.imported, func(i imported) bool { return i.pkg == pkg })
	}
}

// hasLine reports whether text has a line equal to want (surrounding white
// space ignored).
func hasLine(text, want string) bool {
	for l := range strings.Lines(text) {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

// upload is the SCP sink: the file is stored at the target path (a
// directory target gets the file's name appended). A Faults.CommandError
// entry for "scp" refuses uploads with its text.
func (m *Member) upload(_ *sshsim.Session, up sshsim.Upload) error {
	s := m.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if text, ok := s.opts.Faults.CommandError["scp"]; ok {
		return errors.New(text)
	}
	target := up.Target
	if target == "" {
		target = "/home/" + s.opts.Username
	}
	p := target
	if path.Base(target) != up.Name || strings.HasSuffix(target, "/") {
		p = path.Join(target, up.Name)
	}
	p = path.Clean(p)
	m.files[p] = slices.Clone(up.Data)
	m.uploaded = append(m.uploaded, p)
	s.log.Info("checkpointtest: file uploaded", "member", m.name, "path", p, "size", len(up.Data))
	s.notifyLocked()
	return nil
}

// Name returns the member's host name (also its prompt, "<name>> " in Clish).
func (m *Member) Name() string { return m.name }

// ID returns the member ID (1 for the first name).
func (m *Member) ID() int { return m.id }

// UniqueAddress returns the member's Unique Address printed by `cphaprob
// state`: 192.168.255.<ID>, as in a real R82 capture.
func (m *Member) UniqueAddress() netip.Addr { return m.syncAddr }

// Addr returns "127.0.0.1:port"; it stays the same across reboots.
func (m *Member) Addr() string { return m.addr }

// Host returns "127.0.0.1".
func (m *Member) Host() string { return "127.0.0.1" }

// Port returns the member's SSH port.
func (m *Member) Port() int { return m.port }

// KnownHostsLine returns the member's known_hosts line (without newline).
func (m *Member) KnownHostsLine() string { return m.srv.KnownHostsLine() }

// Version returns the release the member runs, e.g. "R81.20".
func (m *Member) Version() string {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.release
}

// Build returns the member's software build (digits).
func (m *Member) Build() string {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.build
}

// Take returns the member's Jumbo Hotfix take (0: none).
func (m *Member) Take() int {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.take
}

// State returns the member's cluster state in its own view: "ACTIVE",
// "ACTIVE(!)", "STANDBY", "DOWN" or "READY"; "" while it reboots.
func (m *Member) State() string {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.ownStateLocked()
}

// StateOf returns how the member sees peer (by name) in its `cphaprob
// state` table: its state, "LOST", or "" when peer is unknown or the
// member itself is down.
func (m *Member) StateOf(peer string) string {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	p := m.sim.Member(peer)
	if p == nil || m.down {
		return ""
	}
	if p == m {
		return m.ownStateLocked()
	}
	return m.peerStateLocked(p)
}

// ClusterState returns what `cphaprob state` prints on the member now ("" while
// it reboots).
func (m *Member) ClusterState() string {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	if m.down {
		return ""
	}
	return m.clusterStateLocked(0)
}

// Forwarding reports whether the member is up and ACTIVE.
func (m *Member) Forwarding() bool {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return !m.down && m.sim.active == m
}

// Down reports whether the member is rebooting or failed (connections
// refused).
func (m *Member) Down() bool {
	m.sim.mu.Lock()
	down := m.down
	m.sim.mu.Unlock()
	return down || m.srv.Down()
}

// Reboots returns how many times the member came back from a reboot.
func (m *Member) Reboots() int {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.reboots
}

// MVC reports whether the Multi-Version Cluster mechanism is on.
func (m *Member) MVC() bool {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.mvc
}

// Policy reports whether a policy is installed and the release it was
// compiled for (the initial release until Sim.PolicyInstalled).
func (m *Member) Policy() (installed bool, release string) {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.policyOK, m.policyFor
}

// AdminDown reports whether clusterXL_admin down is in force.
func (m *Member) AdminDown() bool {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.adminDown
}

// CoreXL returns the number of CoreXL instances.
func (m *Member) CoreXL() int {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.corexl
}

// SetCoreXL changes the number of CoreXL instances (1..256); a member whose
// CoreXL layout differs from the ACTIVE member's goes READY.
func (m *Member) SetCoreXL(n int) error {
	if n < 1 || n > 256 {
		return fmt.Errorf("checkpointtest: CoreXL instances %d out of range 1..256", n)
	}
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	m.corexl = n
	m.sim.recomputeLocked()
	return nil
}

// DynamicBalancing reports whether CoreXL Dynamic Balancing is on (only
// the VSX Jumbo trap turns it on).
func (m *Member) DynamicBalancing() bool {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.dynBal
}

// SetInterfaceUp changes the link state of one cluster interface of the
// member. A member with an interface down is DOWN (ACTIVE(!) if no other
// member can take over); if it was ACTIVE, a STANDBY takes over at once.
func (m *Member) SetInterfaceUp(name string, up bool) error {
	s := m.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.ContainsFunc(s.opts.Interfaces, func(i Interface) bool { return i.Name == name }) {
		return fmt.Errorf("checkpointtest: no cluster interface %q", name)
	}
	m.ifDown[name] = !up
	if !up && s.active == m {
		s.lossReason = "Interface Active Check"
	}
	s.recomputeLocked()
	return nil
}

// SetVSLoaded marks a Virtual System of a VSX member loaded or not.
func (m *Member) SetVSLoaded(vsid int, loaded bool) error {
	s := m.sim
	if !slices.ContainsFunc(s.opts.VirtualSystems, func(v VirtualSystem) bool { return v.ID == vsid }) {
		return fmt.Errorf("checkpointtest: no virtual system %d", vsid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m.vsDown[vsid] = !loaded
	s.notifyLocked()
	return nil
}

// Reboot reboots the member now, without handing over first (like a power
// cycle): if it was ACTIVE, another member takes over after FailoverGap. It
// comes back after RebootDuration on the same version.
func (m *Member) Reboot() {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	m.sim.rebootLocked(m, nil, false)
}

// Fail makes the member fail for good: it drops its sessions and refuses
// connections until Close; if it was ACTIVE, another member takes over after
// FailoverGap.
func (m *Member) Fail() {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	if m.down {
		return
	}
	m.dead = true
	m.sim.rebootLocked(m, nil, true)
}

// Imported returns the file names of the packages in the member's CPUSE
// repository (imported and not yet installed), in import order.
func (m *Member) Imported() []string {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	var out []string
	for _, i := range m.imported {
		out = append(out, i.file)
	}
	return out
}

// Uploaded returns the paths of every file received by SCP, in order.
func (m *Member) Uploaded() []string {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return slices.Clone(m.uploaded)
}

// File returns the content of a file on the member (uploads, files written
// with echo/cp, dynamic_split.conf), and false if it does not exist.
func (m *Member) File(path string) (string, bool) {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	b, ok := m.files[path]
	return string(b), ok
}

// FWDir returns $FWDIR for the member's current release, e.g.
// "/opt/CPsuite-R81.20/fw1".
func (m *Member) FWDir() string {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return m.fwdir()
}

// Commands returns every command line received, in order (white space
// collapsed; answers to questions, such as the expert password, are not
// recorded).
func (m *Member) Commands() []string {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	return slices.Clone(m.commands)
}
