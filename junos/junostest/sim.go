package junostest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
	"sync"
	"time"

	"github.com/hitless/hitless/internal/sshsim"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// Defaults used by Start for zero Options fields.
const (
	// DefaultVersion is the initial Junos release of both nodes, a vSRX 3.0
	// service release (the ".4" spin is invented).
	DefaultVersion = "21.4R3-S5.4"
	// DefaultUsername is the login of both nodes.
	DefaultUsername = "root"
	// DefaultClusterID is the chassis cluster ID.
	DefaultClusterID = 1
	// DefaultRebootDelay is the time between the answer "yes" to `request
	// system reboot` and the dropped sessions.
	DefaultRebootDelay = 100 * time.Millisecond
	// DefaultRebootDuration is how long a rebooting node refuses
	// connections. Real vSRX nodes need 10 to 30 minutes.
	DefaultRebootDuration = 2 * time.Second
	// DefaultFailoverGap is how long a redundancy group has no forwarding
	// primary when its primary node goes away without a manual failover
	// first (heartbeat loss detection; about 3 s on real clusters).
	DefaultFailoverGap = time.Second
	// DefaultHoldDown is how long the old RG0 primary stays secondary-hold
	// after a manual RG0 failover (the RG0 hold-down-interval; 300 s by
	// default on real clusters).
	DefaultHoldDown = time.Second
	// DefaultColdSync is how long a node that came back from a reboot
	// reports the cold-sync monitor failure "CS" (priority 0) in RG1 and
	// up. Real cold syncs take minutes.
	DefaultColdSync = 500 * time.Millisecond
	// DefaultProbeEvery is the traffic probe period.
	DefaultProbeEvery = 100 * time.Millisecond
)

// Wordings of a successful `request system software add` (Options.AddOutput).
const (
	// AddPendingSet prints the modern marker "NOTICE: 'pending' set will be
	// activated at next reboot..." (Junos on the FreeBSD 10+ package
	// manager, such as vSRX 3.0; shape of an EX3400 21.4R1 capture) and
	// "WARNING: A reboot is required to install the software" (EX3300
	// 12.3R12 capture).
	AddPendingSet = "pending-set"
	// AddLegacy prints "JUNOS <version> will become active at next reboot"
	// and the three "WARNING: A reboot is required to load this software
	// correctly" lines, in the shape of an SRX550M 15.1X49-D170 capture.
	AddLegacy = "legacy"
)

// nodeNames are the names of the two nodes of a chassis cluster.
var nodeNames = [2]string{"node0", "node1"}

// forever stands for a reboot that never comes back (about 146 years).
const forever = time.Duration(1 << 62)

// initialFailoverCount is the failover count every redundancy group shows at
// Start: healthy captures show 1 (the election at boot counts).
const initialFailoverCount = 1

// Options configure a simulated cluster. The zero value is valid: every zero
// field takes its default. A negative duration means zero (immediate).
type Options struct {
	// Version is the initial Junos release of both nodes (default
	// DefaultVersion); it must pass the strict Junos grammar of package
	// versionpath, e.g. "21.4R3-S5.4".
	Version string
	// Hostnames are the host names of node0 and node1 (configured as
	// "groups nodeN system host-name"), also in their prompts; default
	// {"vsrx-node0", "vsrx-node1"}. 1-63 characters of [A-Za-z0-9._-],
	// starting with a letter or digit.
	Hostnames [2]string
	// ClusterID is the chassis cluster ID, 1-255 (default DefaultClusterID).
	ClusterID int
	// RedundancyGroups is the number of redundancy groups: 2 (RG0 and RG1,
	// the default) or 3 (adds RG2, a second data-plane group with reth1).
	RedundancyGroups int
	// Priorities are the configured priorities of node0 and node1 in every
	// redundancy group, 1-254; default {100, 1} (a vSRX capture's values).
	// node0 starts primary of every group.
	Priorities [2]int
	// Preempt lists the redundancy groups (1 and up) configured with
	// "preempt" at Start. RG0 cannot preempt.
	Preempt []int
	// Username and Password are the login of both nodes; default
	// DefaultUsername and a random password (see Sim.Password).
	Username, Password string
	// RebootDelay: after the confirmed `request system reboot` (or a
	// `request system software add ... reboot`) the node keeps running this
	// long, then drops its sessions (default DefaultRebootDelay).
	RebootDelay time.Duration
	// RebootDuration: a rebooting node refuses connections this long
	// (default DefaultRebootDuration).
	RebootDuration time.Duration
	// FailoverGap: when the primary node of a redundancy group goes away
	// (reboot, failure), its peer becomes primary only after this gap
	// (default DefaultFailoverGap).
	FailoverGap time.Duration
	// HoldDown: after a manual RG0 failover the old primary stays
	// secondary-hold this long (default DefaultHoldDown).
	HoldDown time.Duration
	// ColdSync: a node back from a reboot shows priority 0 and monitor
	// failure CS in RG1 and up this long (default DefaultColdSync); it
	// cannot be the target of a failover or preempt meanwhile.
	ColdSync time.Duration
	// ProbeEvery is the traffic probe period (default DefaultProbeEvery).
	ProbeEvery time.Duration
	// AddOutput selects the success wording of `request system software
	// add`: AddPendingSet (default) or AddLegacy.
	AddOutput string
	// Faults injects failures.
	Faults Faults
	// Logger receives the simulator's and the SSH engine's records; nil
	// discards them. Passwords are never logged.
	Logger *slog.Logger
}

// Faults are failures to inject. The zero value injects none. Node names are
// "node0" and "node1".
type Faults struct {
	// MonitorFailures are present from Start (see Node.SetMonitorFailures).
	MonitorFailures []MonitorFailure
	// Disabled names a node that is disabled from Start (see
	// Node.Disable).
	Disabled string
	// PreemptLocked makes every commit that changes the effective preempt
	// of a redundancy group fail (a "configuration check-out failed"
	// error); other commits succeed.
	PreemptLocked bool
	// VarAvailable sets the free bytes of /var (the file system of
	// /var/tmp) per node at Start, e.g. {"node1": 1 << 20}; see
	// Node.SetVarAvailable.
	VarAvailable map[string]int64
	// WrongPlatform names a node that refuses every package as built for
	// another platform (packages written by WritePackageFor for another
	// platform are refused on both nodes anyway).
	WrongPlatform string
	// ValidationFails names a node where the configuration validation of
	// `request system software add` fails ("Validation failed"), unless the
	// no-validate option is given.
	ValidationFails string
	// BackOnOld names a node that comes back from every reboot on its old
	// version, whatever was installed (the pending install is dropped).
	BackOnOld string
	// NeverReturns names a node whose reboots never come back (until
	// Node.Recover or Close).
	NeverReturns string
	// FailoverRefused, when set, is printed as "error: <text>" by every
	// `request chassis cluster failover redundancy-group ...` (not by
	// `... failover reset ...`), which then does nothing.
	FailoverRefused string
	// CommandError maps a command prefix (words, white space collapsed) to
	// an error text printed as "error: <text>" instead of running the
	// command; the longest matching prefix wins. The key "scp" makes SCP
	// uploads fail with the text.
	CommandError map[string]string
	// Slow maps a command prefix to a delay before the command runs (the
	// longest matching prefix wins); the wait ends early if the session
	// drops.
	Slow map[string]time.Duration
	// ThirdPartyCommit, when set, commits a configuration change as
	// another administrator would, once, right after the first command
	// starting with its After prefix has run on either node.
	ThirdPartyCommit *ThirdPartyCommit
}

// MonitorFailure is a monitor failure of one node in one redundancy group,
// e.g. {Node: "node1", RG: 1, Codes: []string{"IF"}} (interface monitoring).
// Codes are two or three upper-case letters (CS, IF, IP, FL, ...).
type MonitorFailure struct {
	// Node is "node0" or "node1".
	Node string
	// RG is the redundancy group (0 to Options.RedundancyGroups-1).
	RG int
	// Codes are the failure codes, printed in the Monitor-failures column.
	Codes []string
}

// ThirdPartyCommit is a configuration change committed by someone else.
type ThirdPartyCommit struct {
	// After is the command prefix that triggers the change (words, white
	// space collapsed), e.g. "request system software add". Empty means the
	// first command.
	After string
	// User is the committing user in `show system commit` (default
	// "netops").
	User string
	// Statements are configuration-mode statements: "set ...", "delete
	// ...", "deactivate ..." or "activate ...".
	Statements []string
}

var (
	hostnameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	codeRe     = regexp.MustCompile(`^[A-Z]{2,3}$`)
)

// withDefaults validates o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.Hostnames == [2]string{} {
		o.Hostnames = [2]string{"vsrx-node0", "vsrx-node1"}
	}
	if o.ClusterID == 0 {
		o.ClusterID = DefaultClusterID
	}
	if o.RedundancyGroups == 0 {
		o.RedundancyGroups = 2
	}
	if o.Priorities == [2]int{} {
		o.Priorities = [2]int{100, 1}
	}
	if o.Username == "" {
		o.Username = DefaultUsername
	}
	if o.Password == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return o, fmt.Errorf("junostest: random password: %w", err)
		}
		o.Password = base64.RawURLEncoding.EncodeToString(b)
	}
	if o.AddOutput == "" {
		o.AddOutput = AddPendingSet
	}
	dur := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0
		}
	}
	dur(&o.RebootDelay, DefaultRebootDelay)
	dur(&o.RebootDuration, DefaultRebootDuration)
	dur(&o.FailoverGap, DefaultFailoverGap)
	dur(&o.HoldDown, DefaultHoldDown)
	dur(&o.ColdSync, DefaultColdSync)
	dur(&o.ProbeEvery, DefaultProbeEvery)
	if o.ProbeEvery == 0 {
		o.ProbeEvery = DefaultProbeEvery
	}

	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, err := versionpath.ParseJunos(o.Version); err != nil {
		bad("option Version %q is not a Junos version: %v", o.Version, err)
	}
	for i, h := range o.Hostnames {
		if !hostnameRe.MatchString(h) {
			bad("option Hostnames[%d] %q does not match %s", i, h, hostnameRe)
		}
	}
	if o.ClusterID < 1 || o.ClusterID > 255 {
		bad("option ClusterID %d is not in 1..255", o.ClusterID)
	}
	if o.RedundancyGroups != 2 && o.RedundancyGroups != 3 {
		bad("option RedundancyGroups %d is not 2 or 3", o.RedundancyGroups)
	}
	for i, p := range o.Priorities {
		if p < 1 || p > 254 {
			bad("option Priorities[%d] %d is not in 1..254", i, p)
		}
	}
	for _, g := range o.Preempt {
		if g < 1 || g >= o.RedundancyGroups {
			bad("option Preempt: redundancy group %d is not one of 1..%d", g, o.RedundancyGroups-1)
		}
	}
	if o.AddOutput != AddPendingSet && o.AddOutput != AddLegacy {
		bad("option AddOutput %q is neither %q nor %q", o.AddOutput, AddPendingSet, AddLegacy)
	}
	f := o.Faults
	for _, x := range []struct{ field, name string }{
		{"Disabled", f.Disabled}, {"WrongPlatform", f.WrongPlatform}, {"ValidationFails", f.ValidationFails},
		{"BackOnOld", f.BackOnOld}, {"NeverReturns", f.NeverReturns},
	} {
		if x.name != "" && !slices.Contains(nodeNames[:], x.name) {
			bad("option Faults.%s %q is not node0 or node1", x.field, x.name)
		}
	}
	for node := range f.VarAvailable {
		if !slices.Contains(nodeNames[:], node) {
			bad("option Faults.VarAvailable: %q is not node0 or node1", node)
		}
	}
	for _, m := range f.MonitorFailures {
		if !slices.Contains(nodeNames[:], m.Node) {
			bad("option Faults.MonitorFailures: %q is not node0 or node1", m.Node)
		}
		if m.RG < 0 || m.RG >= o.RedundancyGroups {
			bad("option Faults.MonitorFailures: redundancy group %d is not configured", m.RG)
		}
		for _, c := range m.Codes {
			if !codeRe.MatchString(c) {
				bad("option Faults.MonitorFailures: code %q is not 2-3 upper-case letters", c)
			}
		}
	}
	if tp := f.ThirdPartyCommit; tp != nil {
		if len(tp.Statements) == 0 {
			bad("option Faults.ThirdPartyCommit has no statements")
		}
		if tp.User == "" {
			o.Faults.ThirdPartyCommit = &ThirdPartyCommit{After: tp.After, User: "netops", Statements: tp.Statements}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("junostest: invalid options: %w", err)
	}
	return o, nil
}

// Sim is a running simulated vSRX chassis cluster: two nodes, each its own
// SSH server on 127.0.0.1, sharing one state model. Its methods are safe for
// concurrent use. Close it when done.
type Sim struct {
	opts       Options
	log        *slog.Logger
	dir        string // temporary directory owned by the simulator
	knownHosts string
	probe      *upgradetest.Probe
	nodes      [2]*Node

	mu      sync.Mutex // guards everything below and the state of both nodes
	closed  bool
	timers  map[*time.Timer]struct{}
	wg      sync.WaitGroup // pending timer callbacks and watchers
	changed chan struct{}  // closed and replaced at every state change

	cfg       *config // committed configuration, shared by both nodes
	commits   []commitInfo
	primary   []int // per redundancy group: index of the primary node, -1 if none
	manual    []bool
	counts    []int // failover count shown per redundancy group
	controlUp bool
	fabricUp  bool
	tpDone    bool // Faults.ThirdPartyCommit applied
}

// commitInfo is one entry of `show system commit`.
type commitInfo struct {
	at   time.Time
	user string
	via  string
}

// Node is one node of the cluster (node0 or node1). Its accessors report the
// state model.
type Node struct {
	sim  *Sim
	idx  int
	name string
	srv  *sshsim.Server
	addr string
	port int

	// Guarded by sim.mu.
	version   string
	previous  string // version before the last upgrade; "" if none
	pending   string // version that becomes active at the next boot; "" if none
	down      bool   // rebooting or failed: sessions dropped, connections refused
	rebooting bool   // reboot confirmed, sessions not dropped yet
	disabled  bool
	split     bool // came back while the control link was down
	holdUntil time.Time
	coldUntil time.Time
	monitor   map[int][]string
	files     map[string]file // by path under /var/tmp
	varUsed   int64           // bytes used on /var besides the files
	alarms    []string
	boots     int
	bootedAt  time.Time
	commands  []string
	uploaded  []string
}

// file is one file in /var/tmp.
type file struct {
	data []byte
	at   time.Time
}

// Start starts a simulated cluster: two SSH servers on 127.0.0.1 and a
// known_hosts file naming both, in a temporary directory removed by Close.
// Both nodes run Options.Version; node0 is primary of every redundancy
// group.
func Start(opts Options) (*Sim, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "junostest-")
	if err != nil {
		return nil, fmt.Errorf("junostest: %w", err)
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
		timers:     make(map[*time.Timer]struct{}),
		changed:    make(chan struct{}),
		cfg:        defaultConfig(o),
		commits:    []commitInfo{{at: now, user: o.Username, via: "cli"}},
		controlUp:  true,
		fabricUp:   true,
	}
	for range o.RedundancyGroups {
		s.primary = append(s.primary, 0)
		s.manual = append(s.manual, false)
		s.counts = append(s.counts, initialFailoverCount)
	}
	for i, name := range nodeNames {
		n := &Node{sim: s, idx: i, name: name, version: o.Version, monitor: map[int][]string{},
			files: map[string]file{}, varUsed: varUsedDefault, bootedAt: now, boots: 1}
		if b, ok := o.Faults.VarAvailable[name]; ok {
			n.varUsed = varTotal - varReserve - b
		}
		n.disabled = o.Faults.Disabled == name
		srv, err := sshsim.New(sshsim.Config{
			Hostname:      name,
			Users:         map[string]string{o.Username: o.Password},
			SessionPrompt: n.prompt,
			Handler:       n.handle,
			SCPUpload:     n.upload,
			ServerVersion: "SSH-2.0-OpenSSH_8.6",
			Logger:        log,
		})
		if err == nil {
			err = srv.Start()
		}
		if err == nil {
			n.srv = srv
			err = srv.WriteKnownHosts(s.knownHosts)
		}
		if err == nil {
			n.addr = srv.Addr()
			var port string
			_, port, err = net.SplitHostPort(n.addr)
			if err == nil {
				n.port, err = strconv.Atoi(port)
			}
		}
		if err != nil {
			if srv != nil {
				_ = srv.Close()
			}
			if i == 1 {
				_ = s.nodes[0].srv.Close()
			}
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("junostest: start %s: %w", name, err)
		}
		s.nodes[i] = n
	}
	for _, m := range o.Faults.MonitorFailures {
		n := s.NodeByName(m.Node)
		n.monitor[m.RG] = append(n.monitor[m.RG], m.Codes...)
	}
	s.mu.Lock()
	for g := range s.primary {
		s.monitorFailoverLocked(g)
		if d := s.nodes[s.primary[g]]; d.disabled {
			s.takeOverLocked(g, d.peer())
		}
	}
	s.updateProbeLocked()
	s.mu.Unlock()
	log.Info("junostest: cluster started", "version", o.Version, "hostnames", o.Hostnames)
	return s, nil
}

// Node returns node0 (i = 0) or node1 (i = 1); nil for any other i.
func (s *Sim) Node(i int) *Node {
	if i < 0 || i > 1 {
		return nil
	}
	return s.nodes[i]
}

// NodeByName returns the node named "node0" or "node1", or nil.
func (s *Sim) NodeByName(name string) *Node {
	for _, n := range s.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// Nodes returns node0 and node1.
func (s *Sim) Nodes() [2]*Node { return s.nodes }

// KnownHostsFile returns the path of an OpenSSH known_hosts file listing
// both nodes ("[127.0.0.1]:port" and each node's own ed25519 host key). It
// is removed by Close.
func (s *Sim) KnownHostsFile() string { return s.knownHosts }

// Username returns the login of both nodes.
func (s *Sim) Username() string { return s.opts.Username }

// Password returns the password of both nodes (random unless
// Options.Password was set).
func (s *Sim) Password() string { return s.opts.Password }

// Options returns the options in force, defaults filled in.
func (s *Sim) Options() Options { return s.opts }

// Probe returns the traffic probe: the cluster forwards while every data
// redundancy group (RG1 and up) has a primary node that is up and not
// disabled. A manual failover moves a group in one step (no lost tick); a
// primary node that goes away leaves its groups without a primary for
// Options.FailoverGap.
func (s *Sim) Probe() *upgradetest.Probe { return s.probe }

// RedundancyGroups returns the IDs of the configured redundancy groups: 0,
// 1 and, with Options.RedundancyGroups = 3, 2.
func (s *Sim) RedundancyGroups() []int {
	ids := make([]int, len(s.primary))
	for i := range ids {
		ids[i] = i
	}
	return ids
}

// Primary returns the name of the primary node of redundancy group rg as the
// data plane sees it ("node0" or "node1"), or "" when no node is primary
// (both down, or rg not configured). During Options.FailoverGap after the
// primary went away it still names that node.
func (s *Sim) Primary(rg int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rg < 0 || rg >= len(s.primary) || s.primary[rg] < 0 {
		return ""
	}
	return s.nodes[s.primary[rg]].name
}

// Manual reports whether a manual failover is in effect for rg (Manual
// "yes" until `request chassis cluster failover reset`).
func (s *Sim) Manual(rg int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return rg >= 0 && rg < len(s.manual) && s.manual[rg]
}

// FailoverCount returns the failover count of rg as `show chassis cluster
// status` prints it (1 at Start, +1 per failover of any kind).
func (s *Sim) FailoverCount(rg int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rg < 0 || rg >= len(s.counts) {
		return 0
	}
	return s.counts[rg]
}

// Failovers returns the number of failovers of rg since Start (manual,
// preempt, monitor-failure and node-loss failovers alike).
func (s *Sim) Failovers(rg int) int { return s.FailoverCount(rg) - initialFailoverCount }

// Preempt reports whether preempt is in effect for rg in the committed
// configuration (present and not deactivated).
func (s *Sim) Preempt(rg int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.preempt(rg)
}

// Configuration returns the committed configuration as `show configuration
// | display set` prints it.
func (s *Sim) Configuration() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.displaySet(nil)
}

// Commits returns the number of commits so far (1 at Start: the initial
// configuration).
func (s *Sim) Commits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.commits)
}

// ControlLink reports whether the control link is up.
func (s *Sim) ControlLink() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.controlUp
}

// FabricLink reports whether the fabric link is up.
func (s *Sim) FabricLink() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fabricUp
}

// SetControlLink takes the control link down or up. Down: the nodes no
// longer see each other (each shows its peer "lost") and the node that is
// not RG0 primary becomes disabled (its groups move to the peer at once). A
// node booting while the link is down sees itself primary of every group
// (split brain; the data plane stays with the RG0 primary). Up: both views
// agree again; a disabled node stays disabled until it reboots.
func (s *Sim) SetControlLink(up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.controlUp = up
	if up {
		for _, n := range s.nodes {
			n.split = false
		}
	} else {
		s.disableSecondaryLocked()
	}
	s.afterChangeLocked()
}

// SetFabricLink takes the fabric link down or up. Down: the node that is not
// RG0 primary becomes disabled (as on real clusters); both nodes still see
// each other. Up: the link shows Up again; a disabled node stays disabled
// until it reboots.
func (s *Sim) SetFabricLink(up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fabricUp = up
	if !up {
		s.disableSecondaryLocked()
	}
	s.afterChangeLocked()
}

// ThirdPartyCommit commits statements ("set ...", "delete ...", "deactivate
// ...", "activate ...") as user would from another session, e.g. a
// colleague changing the configuration during an upgrade. The exported
// configuration differs afterwards and `show system commit` lists the
// commit. Errors: a malformed statement (nothing is committed).
func (s *Sim) ThirdPartyCommit(user string, statements ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.thirdPartyLocked(user, statements)
}

func (s *Sim) thirdPartyLocked(user string, statements []string) error {
	if user == "" {
		user = "netops"
	}
	next := s.cfg.clone()
	for _, st := range statements {
		toks, err := splitWords(st)
		if err != nil || len(toks) < 2 {
			return fmt.Errorf("junostest: third-party statement %q: malformed", st)
		}
		if _, err := next.apply(toks[0], toks[1:]); err != nil {
			return fmt.Errorf("junostest: third-party statement %q: %s", st, err.msg)
		}
	}
	s.cfg = next
	s.commits = append(s.commits, commitInfo{at: time.Now(), user: user, via: "cli"})
	s.log.Info("junostest: third-party commit", "user", user, "statements", len(statements))
	s.afterChangeLocked()
	return nil
}

// Changed returns a channel that is closed at the next state change (roles,
// priorities, reboots, versions, configuration, links). Read the state
// after taking the channel, then wait on it: see WaitFor.
func (s *Sim) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// WaitFor waits until cond returns true, re-checking it after every state
// change (never polling); cond must not block. It returns ctx's error when
// ctx ends first. Time-driven changes (end of hold-down, of cold sync, of a
// reboot) count as state changes.
func (s *Sim) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		ch := s.Changed()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("junostest: wait: %w", ctx.Err())
		}
	}
}

// Close stops both nodes, cancels pending reboots and timers, stops the
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
	for _, n := range s.nodes {
		if err := n.srv.Close(); err != nil {
			errs = append(errs, fmt.Errorf("junostest: close %s: %w", n.name, err))
		}
	}
	s.wg.Wait()
	s.probe.Stop()
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("junostest: %w", err))
	}
	return errors.Join(errs...)
}

// afterLocked runs f with s.mu held after d, unless the simulator is closed
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

// notifyLocked wakes every waiter of Changed.
func (s *Sim) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// afterChangeLocked runs the automatic reactions to a state change
// (preempt), updates the probe and notifies waiters.
func (s *Sim) afterChangeLocked() {
	for g := range s.primary {
		s.preemptLocked(g)
	}
	s.updateProbeLocked()
	s.notifyLocked()
}

// updateProbeLocked tells the probe whether the data plane forwards now.
func (s *Sim) updateProbeLocked() {
	fwd := len(s.primary) > 1
	for g := 1; g < len(s.primary); g++ {
		p := s.primary[g]
		if p < 0 || s.nodes[p].down || s.nodes[p].disabled {
			fwd = false
		}
	}
	s.probe.Set(fwd)
}

// peer returns the other node.
func (n *Node) peer() *Node { return n.sim.nodes[1-n.idx] }

// sees reports whether viewer v sees node n (itself, or its peer over an up
// control link while the peer is up).
func (s *Sim) sees(v, n *Node) bool {
	return v == n || !n.down && s.controlUp
}

// coldLocked reports whether n is still cold-syncing at now.
func (n *Node) coldLocked(now time.Time) bool { return now.Before(n.coldUntil) }

// eligibleLocked reports whether n may become primary of g (target of a
// failover, preempt or takeover): up, not disabled, no monitor failure in
// g, not cold-syncing in RG1 and up.
func (n *Node) eligibleLocked(g int, now time.Time) bool {
	return !n.down && !n.disabled && len(n.monitor[g]) == 0 && !(g > 0 && n.coldLocked(now))
}

// configuredPriority returns n's configured priority in g (0 if missing).
func (s *Sim) configuredPriority(g int, n *Node) int { return s.cfg.priority(g, n.idx) }

// effectivePriority is the priority `show chassis cluster status` prints
// for a visible node: 0 when disabled, with monitor failures or while cold
// syncing; 255 for the target of a manual failover; else the configured
// priority.
func (s *Sim) effectivePriority(g int, n *Node, now time.Time) int {
	switch {
	case n.disabled || len(n.monitor[g]) > 0 || g > 0 && n.coldLocked(now):
		return 0
	case s.manual[g] && s.primary[g] == n.idx:
		return 255
	}
	return s.configuredPriority(g, n)
}

// setPrimaryLocked makes n primary of g, counting a failover if it changed.
func (s *Sim) setPrimaryLocked(g int, n *Node) {
	if s.primary[g] == n.idx {
		return
	}
	s.primary[g] = n.idx
	s.counts[g]++
	s.log.Info("junostest: failover", "rg", g, "primary", n.name, "count", s.counts[g])
}

// preemptLocked gives g back to the secondary node when preempt is on, no
// manual failover is in effect and the secondary node has the higher
// effective priority.
func (s *Sim) preemptLocked(g int) {
	if g == 0 || s.manual[g] || !s.cfg.preempt(g) || !s.controlUp || s.primary[g] < 0 {
		return
	}
	now := time.Now()
	p := s.nodes[s.primary[g]]
	c := p.peer()
	if p.down || !c.eligibleLocked(g, now) {
		return
	}
	if s.effectivePriority(g, c, now) > s.effectivePriority(g, p, now) {
		s.log.Info("junostest: preempt", "rg", g, "node", c.name)
		s.setPrimaryLocked(g, c)
	}
}

// monitorFailoverLocked moves g away from its primary when that node has a
// monitor failure in g and its peer is eligible.
func (s *Sim) monitorFailoverLocked(g int) {
	if s.primary[g] < 0 {
		return
	}
	p := s.nodes[s.primary[g]]
	if len(p.monitor[g]) > 0 && s.controlUp && p.peer().eligibleLocked(g, time.Now()) {
		s.manual[g] = false
		s.setPrimaryLocked(g, p.peer())
	}
}

// takeOverLocked makes n primary of g if g's primary is gone (down or
// disabled) and n can take it; clears a manual failover of g.
func (s *Sim) takeOverLocked(g int, n *Node) {
	p := s.primary[g]
	if p == n.idx || p >= 0 && !s.nodes[p].down && !s.nodes[p].disabled {
		return
	}
	if n.down || n.disabled {
		if p >= 0 && s.nodes[p].down {
			s.primary[g] = -1
		}
		return
	}
	s.manual[g] = false
	s.setPrimaryLocked(g, n)
}

// disableSecondaryLocked disables the node that is not RG0 primary (if up)
// and moves its groups to the peer: a control or fabric link loss.
func (s *Sim) disableSecondaryLocked() {
	p := s.primary[0]
	if p < 0 {
		return
	}
	sec := s.nodes[p].peer()
	if !sec.down {
		s.disableLocked(sec)
	}
}

// disableLocked disables n; groups it is primary of move to its peer at once
// when the peer is up and not disabled.
func (s *Sim) disableLocked(n *Node) {
	if n.disabled {
		return
	}
	n.disabled = true
	s.log.Info("junostest: node disabled", "node", n.name)
	for g := range s.primary {
		if s.primary[g] == n.idx {
			s.takeOverLocked(g, n.peer())
		}
	}
}

// startRebootLocked takes n down now: sessions dropped, connections refused
// for RebootDuration (for ever with Faults.NeverReturns or never). Groups it
// was primary of move to the peer after FailoverGap.
func (s *Sim) startRebootLocked(n *Node, never bool) {
	if n.down {
		return
	}
	n.rebooting = false
	n.down = true
	n.holdUntil = time.Time{}
	s.log.Info("junostest: node going down", "node", n.name, "never", never)
	var owned []int
	for g := range s.primary {
		if s.primary[g] == n.idx {
			owned = append(owned, g)
		}
	}
	if len(owned) > 0 {
		peer := n.peer()
		take := func() {
			for _, g := range owned {
				s.takeOverLocked(g, peer)
			}
			s.afterChangeLocked()
		}
		if s.opts.FailoverGap <= 0 {
			take()
		} else {
			s.afterLocked(s.opts.FailoverGap, take)
		}
	}
	down := s.opts.RebootDuration
	if never || s.opts.Faults.NeverReturns == n.name {
		down = forever
	}
	n.srv.Reboot(down, func() { s.back(n) })
	s.afterChangeLocked()
}

// back is called when n's reboot ends, just before it accepts connections
// again: it activates the pending install (unless Faults.BackOnOld), clears
// disabled and monitor failures, starts the cold sync, and rejoins the
// cluster as secondary (primary of the groups nobody holds).
func (s *Sim) back(n *Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	now := time.Now()
	if n.pending != "" {
		if s.opts.Faults.BackOnOld == n.name {
			s.log.Info("junostest: node back on its old version (fault)", "node", n.name, "pending", n.pending)
		} else {
			n.previous, n.version = n.version, n.pending
		}
		n.pending = ""
	}
	n.down, n.rebooting, n.disabled = false, false, false
	n.split = !s.controlUp && !n.peer().down
	n.monitor = map[int][]string{}
	n.holdUntil = time.Time{}
	n.boots++
	n.bootedAt = now
	if s.opts.ColdSync > 0 {
		n.coldUntil = now.Add(s.opts.ColdSync)
		s.afterLocked(s.opts.ColdSync, s.afterChangeLocked)
	}
	for g := range s.primary {
		p := s.primary[g]
		if p < 0 || p != n.idx && (s.nodes[p].down || s.nodes[p].disabled) {
			s.manual[g] = false
			if p < 0 {
				s.primary[g] = n.idx
				s.counts[g]++
			} else {
				s.setPrimaryLocked(g, n)
			}
		}
	}
	s.log.Info("junostest: node back", "node", n.name, "version", n.version)
	s.afterChangeLocked()
	s.watchReachable(n)
}

// watchReachable notifies waiters once n's SSH server listens again (just
// after back returns).
func (s *Sim) watchReachable(n *Node) {
	s.wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for range 10000 {
			s.mu.Lock()
			done := s.closed || !n.srv.Down()
			s.mu.Unlock()
			if done {
				break
			}
			<-t.C
		}
		s.mu.Lock()
		if !s.closed {
			s.notifyLocked()
		}
		s.mu.Unlock()
	})
}

// Name returns "node0" or "node1".
func (n *Node) Name() string { return n.name }

// Index returns 0 for node0, 1 for node1.
func (n *Node) Index() int { return n.idx }

// Hostname returns the node's configured host name (also in its prompt).
func (n *Node) Hostname() string {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.hostnameLocked()
}

func (n *Node) hostnameLocked() string {
	if h := n.sim.cfg.hostname(n.name); h != "" {
		return h
	}
	return n.sim.opts.Hostnames[n.idx]
}

// Addr returns "127.0.0.1:port"; it stays the same across reboots.
func (n *Node) Addr() string { return n.addr }

// Host returns "127.0.0.1".
func (n *Node) Host() string { return "127.0.0.1" }

// Port returns the node's SSH port.
func (n *Node) Port() int { return n.port }

// Version returns the Junos release the node runs now.
func (n *Node) Version() string {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.version
}

// PendingVersion returns the release that becomes active at the next boot
// (after `request system software add` or `... rollback`), or "".
func (n *Node) PendingVersion() string {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.pending
}

// Down reports whether the node is down (rebooting or failed: connections
// refused).
func (n *Node) Down() bool {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.down || n.srv.Down()
}

// Disabled reports whether the node is disabled (it needs a reboot).
func (n *Node) Disabled() bool {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.disabled
}

// Boots returns how many times the node has booted (1 at Start).
func (n *Node) Boots() int {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.boots
}

// Status returns the node's own row for rg as its `show chassis cluster
// status` prints it: "primary", "secondary", "secondary-hold" or
// "disabled" ("" if rg is not configured).
func (n *Node) Status(rg int) string {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if rg < 0 || rg >= len(s.primary) {
		return ""
	}
	return s.row(n, n, rg, time.Now()).status
}

// Priority returns the node's priority in rg as the status prints it (0 for
// a monitor failure or cold sync, 255 for a manual failover target).
func (n *Node) Priority(rg int) int {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if rg < 0 || rg >= len(s.primary) {
		return 0
	}
	return s.effectivePriority(rg, n, time.Now())
}

// Files returns the paths of the files in /var/tmp, sorted.
func (n *Node) Files() []string {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	paths := make([]string, 0, len(n.files))
	for p := range n.files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

// Uploaded returns the paths of every file received by SCP, in order.
func (n *Node) Uploaded() []string {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return slices.Clone(n.uploaded)
}

// Commands returns every command line received, in order (white space
// collapsed), for assertions.
func (n *Node) Commands() []string {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return slices.Clone(n.commands)
}

// VarAvailable returns the free bytes of /var (Avail of /.mount/var).
func (n *Node) VarAvailable() int64 {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	return n.varAvailLocked()
}

// SetVarAvailable sets the free bytes of /var now (files in /var/tmp count
// against it from then on); negative values are allowed (a file system
// filled into its reserve).
func (n *Node) SetVarAvailable(bytes int64) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	n.varUsed = varTotal - varReserve - bytes - n.filesSizeLocked()
	n.sim.notifyLocked()
}

// SetMonitorFailures sets the node's monitor failures in rg (codes such as
// "IF", "IP", "CS"; none clears them). A node with monitor failures shows
// priority 0 in rg; if it is rg's primary and its peer is eligible, rg
// fails over to the peer at once (failover count +1). Clearing them may let
// preempt take rg back. Invalid codes or groups are ignored.
func (n *Node) SetMonitorFailures(rg int, codes ...string) {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if rg < 0 || rg >= len(s.primary) || slices.ContainsFunc(codes, func(c string) bool { return !codeRe.MatchString(c) }) {
		return
	}
	if len(codes) == 0 {
		delete(n.monitor, rg)
	} else {
		n.monitor[rg] = slices.Clone(codes)
	}
	s.monitorFailoverLocked(rg)
	s.afterChangeLocked()
}

// SetAlarms sets the alarm descriptions `show system alarms` and `show
// chassis alarms` print for the node (none: "No alarms currently active").
func (n *Node) SetAlarms(descriptions ...string) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	n.alarms = slices.Clone(descriptions)
	n.sim.notifyLocked()
}

// Disable makes the node disabled (as after a fabric link loss): its rows
// show "disabled", its groups move to the peer at once, and only a reboot
// clears it.
func (n *Node) Disable() {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disableLocked(n)
	s.afterChangeLocked()
}

// Fail powers the node off: its sessions drop and connections are refused
// until Recover; its peer sees it "lost" and takes its groups over after
// Options.FailoverGap.
func (n *Node) Fail() {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startRebootLocked(n, true)
}

// Recover ends a Fail (or a reboot that never returns) now: the node boots
// as after a reboot. It does nothing to a node that is up.
func (n *Node) Recover() {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if n.down {
		n.srv.Reboot(0, nil)
	}
}

// Reboot reboots the node now, as a confirmed `request system reboot` does
// after Options.RebootDelay: sessions dropped, connections refused for
// Options.RebootDuration, then back on the pending version.
func (n *Node) Reboot() {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startRebootLocked(n, false)
}

// ErrNotFound is returned by ReadFile for a file that is not in /var/tmp.
var ErrNotFound = errors.New("junostest: no such file")

// ReadFile returns the content of a file in the node's /var/tmp (path as
// "/var/tmp/<name>"), or ErrNotFound.
func (n *Node) ReadFile(path string) ([]byte, error) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	f, ok := n.files[path]
	if !ok {
		return nil, fmt.Errorf("%w: %s on %s", ErrNotFound, path, n.name)
	}
	return slices.Clone(f.data), nil
}

func (n *Node) filesSizeLocked() int64 {
	var sum int64
	for _, f := range n.files {
		sum += int64(len(f.data))
	}
	return sum
}

func (n *Node) varAvailLocked() int64 {
	return varTotal - varReserve - n.varUsed - n.filesSizeLocked()
}

// upload is the SCP sink: files go to /var/tmp (a target directory
// "/var/tmp" or "/var/tmp/", or a path "/var/tmp/<name>"), if /var has room.
func (n *Node) upload(_ *sshsim.Session, up sshsim.Upload) error {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	path, err := uploadPath(up.Target, up.Name)
	if err != nil {
		return err
	}
	if text, ok := longestPrefix(s.opts.Faults.CommandError, "scp"); ok {
		return errors.New(text)
	}
	old := int64(len(n.files[path].data))
	if int64(len(up.Data))-old > n.varAvailLocked() {
		return fmt.Errorf("%s: No space left on device", path)
	}
	n.files[path] = file{data: slices.Clone(up.Data), at: time.Now()}
	n.uploaded = append(n.uploaded, path)
	s.log.Info("junostest: file uploaded", "node", n.name, "path", path, "size", len(up.Data))
	s.notifyLocked()
	return nil
}

// tmpNameRe is a file name the simulator accepts in /var/tmp.
var tmpNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$`)

// uploadPath resolves an scp target to a path in /var/tmp.
func uploadPath(target, name string) (string, error) {
	t := strings.TrimSuffix(target, "/")
	switch {
	case t == "/var/tmp" || t == "":
		t = "/var/tmp/" + name
	case !strings.HasPrefix(t, "/var/tmp/"):
		return "", fmt.Errorf("%s: Permission denied (only /var/tmp is writable on this simulator)", target)
	}
	if !tmpNameRe.MatchString(strings.TrimPrefix(t, "/var/tmp/")) {
		return "", fmt.Errorf("%s: invalid file name", target)
	}
	return t, nil
}

// longestPrefix returns m's entry for the longest key that is cmd or a
// word-prefix of cmd.
func longestPrefix[V any](m map[string]V, cmd string) (V, bool) {
	var best V
	bestLen, found := -1, false
	for k, v := range m {
		key := strings.Join(strings.Fields(k), " ")
		if (cmd == key || strings.HasPrefix(cmd, key+" ") || key == "") && len(key) > bestLen {
			best, bestLen, found = v, len(key), true
		}
	}
	return best, found
}
