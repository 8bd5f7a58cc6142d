package junos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// Condition sentinels: what is wrong with a node, a redundancy group or the
// run. They come wrapped in *NodeError values (errors.Is finds them) and, as
// text, at the start of upgrade.MemberState.Problems and
// upgrade.Snapshot.Problems, so a gate's last failure names the category.
var (
	// ErrUnreachable: no session to the node could be (re)established
	// (rebooting, powered off, wrong address).
	ErrUnreachable = errors.New("junos: node unreachable")
	// ErrUnreadable: the node answered but its state could not be read
	// (unrecognised output, a rejected command). Fail closed: never
	// healthy.
	ErrUnreadable = errors.New("junos: node state unreadable")
	// ErrWrongNode: the address configured for a node answers as the other
	// node (its {state:nodeN} banner): Config.Nodes is swapped or wrong.
	ErrWrongNode = errors.New("junos: the address answers as another node")
	// ErrUnknownNode: a node name other than node0 and node1.
	ErrUnknownNode = errors.New("junos: unknown node")
	// ErrSplitBrain: both nodes claim to be primary of one redundancy group
	// (or their views of the primary disagree).
	ErrSplitBrain = errors.New("junos: split brain: both nodes primary of one redundancy group")
	// ErrNoPrimary: a data redundancy group (RG1 and up) has no primary
	// node: nothing forwards it.
	ErrNoPrimary = errors.New("junos: redundancy group without a primary node")
	// ErrRolesSplit: no node is secondary of every redundancy group, so no
	// node can be upgraded first without a failover (Juniper KB17947: make
	// one node primary of all groups first).
	ErrRolesSplit = errors.New("junos: no node is secondary of every redundancy group")
	// ErrUnexpectedRole: a node is not in the redundancy group state a step
	// needs (primary where it must be secondary, secondary-hold, hold ...).
	ErrUnexpectedRole = errors.New("junos: node in an unexpected redundancy group state")
	// ErrPeerNotForwarding: right before a reboot, the check on the devices
	// did not show the peer primary of every redundancy group and
	// forwarding; nothing was sent.
	ErrPeerNotForwarding = errors.New("junos: the peer is not verified primary of every redundancy group and forwarding")
	// ErrVersionMismatch: the nodes run different Junos versions while
	// connected (Juniper KB17947 warns of configuration loss and traffic
	// loss; IBM Cloud counts a minor mismatch as a mismatch).
	ErrVersionMismatch = errors.New("junos: the nodes run different Junos versions")
	// ErrAheadOfTarget: a node runs a version newer than the target; a
	// downgrade is not a rolling upgrade (use Node.Rollback).
	ErrAheadOfTarget = errors.New("junos: node ahead of the target version")
	// ErrStorage: /var on a node has less free space than
	// Config.StorageFactor times the package.
	ErrStorage = errors.New("junos: not enough free space on /var for the package")
	// ErrLinkDown: the chassis cluster control or fabric link is not Up.
	ErrLinkDown = errors.New("junos: chassis cluster control or fabric link not up")
	// ErrAlarm: a major system alarm is active on a node.
	ErrAlarm = errors.New("junos: major alarm active")
	// ErrUncommitted: the shared candidate configuration has uncommitted
	// changes (`configure private` is refused), or another edit is in
	// progress: the upgrade would otherwise commit or validate someone
	// else's half-made change.
	ErrUncommitted = errors.New("junos: uncommitted configuration changes")
	// ErrPreempt: the preempt statements could not be changed or read back
	// as intended (a refused commit, a preempt still in effect).
	ErrPreempt = errors.New("junos: preempt could not be changed")
	// ErrConfigChanged: the configuration differs from the export taken
	// before the upgrade, other than by the upgrade's own preempt change:
	// someone else changed it during the run (see *ConfigChangedError).
	ErrConfigChanged = errors.New("junos: the configuration changed during the upgrade")
	// ErrFailoverRefused: `request chassis cluster failover` was refused
	// by the device, or the target node is not eligible (secondary-hold,
	// priority 0, not on the target version); nothing moved.
	ErrFailoverRefused = errors.New("junos: manual failover refused")
	// ErrInstallNotTaken: the node rebooted after its install and came back
	// on another version than the target (a package that did not take, or
	// a rollback). Waiting cannot fix it: it matches upgrade.ErrPermanent,
	// so health gates stop at once.
	ErrInstallNotTaken = fmt.Errorf("junos: node rebooted after the install but runs another version: %w", upgrade.ErrPermanent)
	// ErrNotStaged: a reboot was asked for a node whose package was not
	// staged by this SDK (no staged marker in Config.ArtifactsDir): a
	// reboot would not upgrade it. Nothing was sent.
	ErrNotStaged = errors.New("junos: package not staged on the node")
	// ErrPackage: the package does not fit the node or the target: its
	// name does not name the target version, or names another platform
	// than the node's model.
	ErrPackage = errors.New("junos: package does not fit the node or the target")
	// ErrReloadNotReady: an IBM Cloud OS Reload readiness check failed (see
	// ReloadCheck).
	ErrReloadNotReady = errors.New("junos: not ready for an IBM Cloud OS Reload")
	// ErrRollback: a rollback was refused: the version to return to is not
	// older than the running one, or `request system software rollback`
	// would activate another version than the one asked for.
	ErrRollback = errors.New("junos: rollback refused")
)

// conditions lists every condition sentinel, for classify.
var conditions = []error{
	ErrUnreachable, ErrUnreadable, ErrWrongNode, ErrUnknownNode, ErrSplitBrain, ErrNoPrimary,
	ErrRolesSplit, ErrUnexpectedRole, ErrPeerNotForwarding, ErrVersionMismatch, ErrAheadOfTarget,
	ErrStorage, ErrLinkDown, ErrAlarm, ErrUncommitted, ErrPreempt, ErrConfigChanged,
	ErrFailoverRefused, ErrInstallNotTaken, ErrNotStaged, ErrPackage, ErrReloadNotReady, ErrRollback,
	ErrMonitorFailure, ErrNodeDown, ErrNotClustered, ErrRoles, ErrManualFailover,
}

// condError is a condition sentinel with details; its text starts with the
// sentinel's text, which is how problem strings are classified again.
type condError struct {
	kind   error
	detail string
}

func (e *condError) Error() string {
	if e.detail == "" {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.detail
}

func (e *condError) Unwrap() error { return e.kind }

// cond builds a condition error of kind with a formatted detail.
func cond(kind error, format string, args ...any) error {
	return &condError{kind: kind, detail: fmt.Sprintf(format, args...)}
}

// classify turns a problem string produced by this package back into a
// typed error: its category is the condition sentinel its text starts with
// (ErrUnreadable when none does, failing closed).
func classify(problem string) error {
	for _, k := range conditions {
		if p := k.Error(); problem == p || strings.HasPrefix(problem, p+": ") {
			return &condError{kind: k, detail: strings.TrimPrefix(strings.TrimPrefix(problem, p), ": ")}
		}
	}
	return &condError{kind: ErrUnreadable, detail: problem}
}

// NodeError is a failure on one node of the chassis cluster: it names the
// node, its address, the redundancy group when the failure is about one,
// and the operation. Err carries the cause: a driver error
// (*driver.AuthError, *driver.HostKeyError, *driver.UnreachableError,
// *driver.CommandError, *driver.UploadError...), a parser error of this
// package (*ParseError, *DeviceError, *HealthError, *SoftwareAddError), a
// *ConfigChangedError, or a condition sentinel (ErrPeerNotForwarding,
// ErrStorage...); errors.Is and errors.As see through it.
type NodeError struct {
	// Node is "node0" or "node1" (the member ID).
	Node string
	// Host is the node's "host:port", or "" when the failure is not tied
	// to a connection (a gate reading a snapshot, a plan).
	Host string
	// RG is the redundancy group the failure is about, or -1.
	RG int
	// Op is what was being done: "connect", "status", "version",
	// "storage", "configuration", "precheck", "stage", "upload",
	// "software add", "reboot", "failover", "failover reset", "preempt",
	// "rollback", "gate", "plan", "verify", "reload readiness".
	Op string
	// Err is the cause.
	Err error
}

// Error returns "junos: <node> (<host>): <op> RG<n>: <cause>".
func (e *NodeError) Error() string {
	var b strings.Builder
	b.WriteString("junos: " + e.Node)
	if e.Host != "" {
		b.WriteString(" (" + e.Host + ")")
	}
	b.WriteString(": " + e.Op)
	if e.RG >= 0 {
		b.WriteString(" RG" + strconv.Itoa(e.RG))
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "junos: "))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *NodeError) Unwrap() error { return e.Err }

// ConfigChangedError says how the configuration differs from the export
// taken before the upgrade (Config.ArtifactsDir), leaving out the `version`
// statement and the preempt statements of RG1 and up, which the upgrade
// itself changes. Statements are `display set` lines with secret values
// replaced by "<redacted>". It matches ErrConfigChanged.
type ConfigChangedError struct {
	// Node is the node the configuration was read on.
	Node string
	// Export is the path of the export it was compared with.
	Export string
	// Added are statements in the configuration now but not in the export;
	// Removed the reverse (each list cut to 20 lines, Truncated says so).
	Added, Removed []string
	Truncated      bool
}

// Error names the node, the export and the statements.
func (e *ConfigChangedError) Error() string {
	var parts []string
	for _, l := range e.Added {
		parts = append(parts, "+ "+l)
	}
	for _, l := range e.Removed {
		parts = append(parts, "- "+l)
	}
	more := ""
	if e.Truncated {
		more = " (more not shown)"
	}
	return fmt.Sprintf("junos: the configuration read on %s differs from the export %s (not by this upgrade): %s%s",
		e.Node, e.Export, strings.Join(parts, "; "), more)
}

// Is matches ErrConfigChanged.
func (e *ConfigChangedError) Is(target error) bool { return target == ErrConfigChanged }

// rgView is one node's row of one redundancy group as upgrade.MemberState.Raw
// carries it.
type rgView struct {
	state   State
	prio    int
	manual  bool
	preempt bool
}

// formatRaw renders a node's own rows for MemberState.Raw, e.g. "RG0
// primary (prio 100), RG1 primary (prio 255, manual, preempt)". Planner and
// gates read it back with parseRaw.
func formatRaw(rows map[int]rgView) string {
	ids := make([]int, 0, len(rows))
	for g := range rows {
		ids = append(ids, g)
	}
	sort.Ints(ids)
	parts := make([]string, len(ids))
	for i, g := range ids {
		r := rows[g]
		s := fmt.Sprintf("RG%d %s (prio %d", g, r.state, r.prio)
		if r.manual {
			s += ", manual"
		}
		if r.preempt {
			s += ", preempt"
		}
		parts[i] = s + ")"
	}
	return strings.Join(parts, ", ")
}

var rawRowRe = regexp.MustCompile(`RG(\d{1,5}) ([a-z-]+) \(prio (\d{1,3})((?:, [a-z]+)*)\)`)

// parseRaw reads formatRaw's text back; ok is false for any other text (a
// node that was unreachable or unreadable).
func parseRaw(raw string) (map[int]rgView, bool) {
	ms := rawRowRe.FindAllStringSubmatch(raw, -1)
	if len(ms) == 0 {
		return nil, false
	}
	rows := make(map[int]rgView, len(ms))
	for _, m := range ms {
		g, _ := strconv.Atoi(m[1])
		p, _ := strconv.Atoi(m[3])
		st, ok := parseState(m[2])
		if !ok {
			return nil, false
		}
		rows[g] = rgView{state: st, prio: p, manual: strings.Contains(m[4], "manual"), preempt: strings.Contains(m[4], "preempt")}
	}
	return rows, true
}

// nodeView is what one node's own session showed at one moment.
type nodeView struct {
	status ClusterStatus
	sw     NodeSoftware
	err    error // the status could not be read
	verErr error // the version could not be read
}

// transport-independent state of a Cluster.

// Cluster is a Juniper SRX/vSRX chassis cluster of two nodes. It implements
// upgrade.Cluster (Observe reads each node on its own session; Failover
// moves every redundancy group to a node), upgrade.PreChecker (the
// healthy-start checks of Juniper KB17947 and IBM Cloud's readiness
// conditions) and upgrade.DisruptionChecker (a node that is primary of any
// redundancy group is never disrupted). Its members are *Node values.
//
// A Cluster holds one CLI session per node, each on the node's fxp0
// address, and is safe for concurrent use; calls on one node are
// serialised. Close it when done.
type Cluster struct {
	cfg   Config // validated, with defaults
	log   *slog.Logger
	tr    transport
	plat  *driver.Platform
	nodes [2]*Node

	baseMu sync.Mutex
	// baselines caches the configuration exports read from
	// Config.ArtifactsDir, by target.
	baselines map[string][]string
}

var (
	_ upgrade.Cluster           = (*Cluster)(nil)
	_ upgrade.PreChecker        = (*Cluster)(nil)
	_ upgrade.DisruptionChecker = (*Cluster)(nil)
)

// New validates cfg and opens one SSH session to each node's fxp0 address
// (concurrently, one attempt each) with the driver's juniper_junos
// platform: after login it sends only the platform's CLI settings (`set
// cli screen-length 0`, `set cli screen-width 0`, `set cli
// complete-on-space off`); nothing changes on any device.
//
// A node that cannot be reached (rebooting, when a restarted process
// resumes) does not make New fail when the other one answers: it is
// redialled by the next call that needs it and reported down (or lost,
// when its peer says so) by Observe; a fresh run's pre-checks refuse it.
// New fails when BOTH nodes are unreachable, or when a login or host key is
// refused.
//
// Errors: the joined *ConfigError values of cfg.Validate (nothing is
// dialled); otherwise one *NodeError per node that could not be opened (Op
// "connect", wrapping *driver.AuthError, *driver.HostKeyError or
// *driver.UnreachableError), joined. Sessions already open are closed
// again on error.
func New(ctx context.Context, cfg Config) (*Cluster, error) {
	return newCluster(ctx, cfg, driverTransport())
}

func newCluster(ctx context.Context, cfg Config, tr transport) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	plat, err := driver.LoadPlatform("juniper_junos")
	if err != nil {
		return nil, fmt.Errorf("junos: load CLI platform: %w", err)
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{cfg: cfg, log: log.With("cluster", cfg.Name), tr: tr, plat: plat, baselines: map[string][]string{}}
	for i, name := range NodeNames {
		dc := cfg.driverConfig(i)
		dc.Platform = plat
		c.nodes[i] = &Node{c: c, name: name, idx: i, dcfg: &dc, host: cfg.Nodes[i].String()}
	}
	errs := make([]error, 2)
	fatal := false
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Go(func() {
			s, err := tr.open(ctx, *n.dcfg)
			if err != nil {
				errs[i] = &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "connect", Err: err}
				mu.Lock()
				fatal = fatal || fatalOpen(err) || ctx.Err() != nil
				mu.Unlock()
				return
			}
			n.sess = s
		})
	}
	wg.Wait()
	if fatal || (errs[0] != nil && errs[1] != nil) {
		_ = c.Close()
		return nil, errors.Join(errs...)
	}
	for i, n := range c.nodes {
		if errs[i] != nil {
			n.noteAway()
			c.log.Warn("junos: node unreachable; continuing without it (reported down until it answers)", "node", n.name, "error", errs[i])
		}
	}
	c.log.Info("junos: connected", "node0", cfg.Nodes[0].String(), "node1", cfg.Nodes[1].String())
	return c, nil
}

// String describes the cluster by name and addresses, never a password.
func (c *Cluster) String() string {
	return fmt.Sprintf("junos.Cluster{Name:%q Pod:%q Nodes:[node0 %s, node1 %s]}", c.cfg.Name, c.cfg.Pod, c.cfg.Nodes[0], c.cfg.Nodes[1])
}

// Format implements fmt.Formatter: every verb prints String (a Cluster
// keeps the Config, with the passwords, in an unexported field).
func (c *Cluster) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue implements slog.LogValuer without the passwords.
func (c *Cluster) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", c.cfg.Name), slog.String("pod", c.cfg.Pod),
		slog.String("node0", c.cfg.Nodes[0].String()), slog.String("node1", c.cfg.Nodes[1].String()))
}

// MarshalJSON encodes the cluster as its redacted Config.
func (c *Cluster) MarshalJSON() ([]byte, error) { return c.cfg.MarshalJSON() }

// Name implements upgrade.Cluster: Config.Name.
func (c *Cluster) Name() string { return c.cfg.Name }

// Pod returns Config.Pod ("" when not set).
func (c *Cluster) Pod() string { return c.cfg.Pod }

// Members implements upgrade.Cluster: node0 and node1, in that order.
func (c *Cluster) Members() []upgrade.Member {
	return []upgrade.Member{c.nodes[0], c.nodes[1]}
}

// Node returns the node named name ("node0", "node1"), or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// peer returns the other node.
func (c *Cluster) peer(n *Node) *Node { return c.nodes[1-n.idx] }

// RolloutTarget returns the upgrade.RolloutTarget of the cluster for a
// fleet rollout: its Group is Config.Pod, so that upgrade.Rollout.PerGroup
// (default 1) keeps two gateways of one IBM Cloud pod from being upgraded
// at once (IBM Cloud docs, "Upgrading the vSRX": only one gateway per pod
// at a time). Without a Pod the cluster is its own group.
func (c *Cluster) RolloutTarget(p upgrade.Planner, target string, j upgrade.Journal) upgrade.RolloutTarget {
	return upgrade.RolloutTarget{Cluster: c, Planner: p, Version: target, Group: c.cfg.Pod, Journal: j}
}

// Close closes both sessions. It is safe to call more than once.
func (c *Cluster) Close() error {
	var errs []error
	for _, n := range c.nodes {
		if n != nil {
			errs = append(errs, n.close())
		}
	}
	return errors.Join(errs...)
}

// lockPair locks both nodes' sessions, always node0 first, and returns the
// unlock: a check of both nodes and the command it allows run back to back
// with nothing sent to either node in between.
func (c *Cluster) lockPair() (unlock func()) {
	c.nodes[0].mu.Lock()
	c.nodes[1].mu.Lock()
	return func() {
		c.nodes[1].mu.Unlock()
		c.nodes[0].mu.Unlock()
	}
}

// view reads one node's own status and version (one connection attempt
// when there is no session: a rebooting node is not waited for).
func (n *Node) view(ctx context.Context, patient bool) nodeView {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.viewLocked(ctx, patient)
}

// viewLocked is view with n.mu held.
func (n *Node) viewLocked(ctx context.Context, patient bool) nodeView {
	var v nodeView
	v.status, v.err = n.readStatusLocked(ctx, patient)
	if v.err == nil && v.status.LocalNode != "" && v.status.LocalNode != n.name {
		v.err = &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "status", Err: cond(ErrWrongNode,
			"the address configured for %s answers as %s (banner {%s:%s}); check Config.Nodes", n.name, v.status.LocalNode, v.status.LocalState, v.status.LocalNode)}
	}
	if v.err != nil {
		return v
	}
	v.sw, v.verErr = n.readSoftwareLocked(ctx, patient)
	return v
}

// Observe implements upgrade.Cluster. It reads `show chassis cluster status
// | display xml` and `show version | display xml` on each node's own
// session, at once, and returns exactly one MemberState per node, in
// Members order:
//
//   - Role: from the node's own row of RG1 as the node itself prints it:
//     primary → upgrade.RoleActive, secondary → upgrade.RoleStandby,
//     hold → RoleStandby (booting or cold-syncing, unhealthy), disabled,
//     ineligible, unavailable, not-configured → upgrade.RoleDown. A node
//     that cannot be reached is upgrade.RoleLost when its peer shows it
//     "lost", otherwise upgrade.RoleDown; one whose output is not
//     recognised is upgrade.RoleUnknown (fail closed).
//   - Version: its own `show version` entry (junos-version), e.g.
//     "21.4R3-S5.4".
//   - Healthy: reachable and readable; its own rows are primary or
//     secondary in every group (secondary-hold, hold and the rest are not
//     healthy); no monitor failure and no priority 0 on its rows; its view
//     shows its peer (not lost). A manual failover in effect (Manual yes,
//     priority 255) does not make a node unhealthy: it is a step of the
//     upgrade.
//   - Raw: its own rows, e.g. "RG0 primary (prio 100), RG1 primary (prio
//     255, manual, preempt)".
//   - Problems: why it is not healthy, each starting with a condition
//     sentinel's text.
//
// Snapshot.Problems holds the cluster-wide problems, each starting with a
// condition sentinel's text: two primaries for one group (ErrSplitBrain),
// a data group without a primary (ErrNoPrimary), and monitor failures
// (ErrMonitorFailure, naming the group and node). Observe returns an error
// only when ctx ends.
func (c *Cluster) Observe(ctx context.Context) (upgrade.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return upgrade.Snapshot{}, err
	}
	at := time.Now()
	views := c.readViews(ctx, false)
	if err := ctx.Err(); err != nil {
		return upgrade.Snapshot{}, err
	}
	return c.snapshot(at, views), nil
}

// readViews reads both nodes' views at once.
func (c *Cluster) readViews(ctx context.Context, patient bool) [2]nodeView {
	var views [2]nodeView
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Go(func() { views[i] = n.view(ctx, patient) })
	}
	wg.Wait()
	return views
}

// snapshot maps two views to a Snapshot (see Observe).
func (c *Cluster) snapshot(at time.Time, views [2]nodeView) upgrade.Snapshot {
	s := upgrade.Snapshot{Cluster: c.cfg.Name, At: at, Members: make([]upgrade.MemberState, 2)}
	for i, n := range c.nodes {
		s.Members[i] = memberState(n, views[i], views[1-i], c.nodes[1-i].name)
		if views[i].err == nil && views[i].verErr == nil {
			n.noteVersion(views[i].sw.Version)
		}
	}
	s.Problems = clusterProblems(views)
	return s
}

// memberState maps a node's own view (and its peer's view, for a node that
// cannot be reached) to its MemberState.
func memberState(n *Node, own, peerView nodeView, peer string) upgrade.MemberState {
	st := upgrade.MemberState{ID: n.name, Role: upgrade.RoleUnknown}
	if own.err != nil {
		st.Problems = append(st.Problems, problemOf(own.err))
		if unreachable(own.err) {
			st.Role, st.Raw = upgrade.RoleDown, "unreachable"
			if peerView.err == nil && seesLost(peerView.status, n.name) {
				st.Role, st.Raw = upgrade.RoleLost, "lost (as "+peer+" sees it)"
			}
		}
		return st
	}
	rows := map[int]rgView{}
	healthy := true
	var probs []string
	for _, g := range own.status.Groups {
		r, ok := g.Node(n.name)
		if !ok {
			healthy = false
			probs = append(probs, cond(ErrUnreadable, "RG%d has no row for %s", g.ID, n.name).Error())
			continue
		}
		rows[g.ID] = rgView{state: r.Status, prio: r.Priority, manual: r.Manual == FlagYes, preempt: r.Preempt == FlagYes}
		switch r.Status {
		case StatePrimary, StateSecondary:
		case StateDisabled:
			healthy = false
			probs = append(probs, cond(ErrNodeDown, "RG%d %s is disabled (it needs a reboot)", g.ID, n.name).Error())
		default:
			healthy = false
			probs = append(probs, cond(ErrUnexpectedRole, "RG%d %s is %s", g.ID, n.name, r.Status).Error())
		}
		if len(r.MonitorFailures) > 0 || r.Priority == 0 && r.Status != StateDisabled {
			healthy = false
			probs = append(probs, cond(ErrMonitorFailure, "RG%d %s: %s", g.ID, n.name, monitorText(r)).Error())
		}
		if p, ok := g.Node(peer); !ok || p.Status == StateLost {
			healthy = false
			probs = append(probs, cond(ErrNodeDown, "RG%d: %s sees %s lost", g.ID, n.name, peer).Error())
		}
	}
	st.Raw = formatRaw(rows)
	rg1, ok := rows[1]
	switch {
	case !ok:
		healthy = false
		probs = append(probs, cond(ErrUnreadable, "no redundancy group 1 (the data plane) in the status").Error())
	case rg1.state == StatePrimary:
		st.Role = upgrade.RoleActive
	case rg1.state == StateSecondary || rg1.state == StateHold:
		st.Role = upgrade.RoleStandby
	default:
		st.Role = upgrade.RoleDown
	}
	if own.verErr != nil {
		healthy = false
		probs = append(probs, problemOf(own.verErr))
	} else {
		st.Version = own.sw.Version.String()
	}
	st.Healthy = healthy
	st.Problems = append(st.Problems, probs...)
	return st
}

// seesLost reports whether a view shows node lost in any group.
func seesLost(s ClusterStatus, node string) bool {
	for _, g := range s.Groups {
		if r, ok := g.Node(node); ok && r.Status == StateLost {
			return true
		}
	}
	return false
}

// monitorText describes a row's monitor failures: "CS (priority 0)".
func monitorText(r NodeStatus) string {
	var parts []string
	if len(r.MonitorFailures) > 0 {
		parts = append(parts, "monitor failures "+strings.Join(r.MonitorFailures, " "))
	}
	parts = append(parts, "priority "+strconv.Itoa(r.Priority))
	return strings.Join(parts, ", ")
}

// problemOf returns an error's text as a problem string starting with a
// condition sentinel's text.
func problemOf(err error) string {
	for _, k := range conditions {
		if errors.Is(err, k) {
			msg := err.Error()
			if strings.HasPrefix(msg, k.Error()) {
				return msg
			}
			return k.Error() + ": " + strings.TrimPrefix(msg, "junos: ")
		}
	}
	kind := ErrUnreadable
	if unreachable(err) {
		kind = ErrUnreachable
	}
	return kind.Error() + ": " + strings.TrimPrefix(err.Error(), "junos: ")
}

// clusterProblems returns the cluster-wide problems of two views: split
// brain, a data group without a primary, monitor failures.
func clusterProblems(views [2]nodeView) []string {
	var probs []string
	groups := map[int]bool{}
	primaries := map[int]map[string]bool{}
	for i, v := range views {
		if v.err != nil {
			continue
		}
		own := NodeNames[i]
		for _, g := range v.status.Groups {
			groups[g.ID] = true
			if primaries[g.ID] == nil {
				primaries[g.ID] = map[string]bool{}
			}
			for _, r := range g.Nodes {
				if r.Status == StatePrimary {
					primaries[g.ID][r.Node] = true
				}
				// Monitor failures as the node itself reports them (a
				// peer's row may be stale or lost).
				if r.Node == own && (len(r.MonitorFailures) > 0 || r.Priority == 0 && r.Status != StateDisabled && r.Status != StateLost) {
					probs = append(probs, cond(ErrMonitorFailure, "RG%d %s: %s", g.ID, r.Node, monitorText(r)).Error())
				}
			}
		}
	}
	ids := make([]int, 0, len(groups))
	for g := range groups {
		ids = append(ids, g)
	}
	sort.Ints(ids)
	for _, g := range ids {
		p := primaries[g]
		switch {
		case len(p) > 1:
			probs = append(probs, cond(ErrSplitBrain, "RG%d: node0 and node1 are both primary", g).Error())
		case len(p) == 0 && g > 0:
			probs = append(probs, cond(ErrNoPrimary, "RG%d has no primary node: nothing forwards it", g).Error())
		}
	}
	return probs
}

// CheckDisruption implements upgrade.DisruptionChecker: it refuses to
// disrupt (reboot) a node that the snapshot shows primary of ANY
// redundancy group (RG0, the routing engine, included), or whose state the
// snapshot cannot show as secondary of every group (an unreachable,
// unreadable node: fail closed), and it refuses to disrupt both nodes. The
// availability guard calls it before every disruptive step of any plan,
// hand-written ones included. Executor dry runs call CheckTopology
// instead (they judge every step on the snapshot taken at the start, where
// a node rebooted later is still primary). The error is a *NodeError
// naming the node and the group (ErrUnexpectedRole).
func (c *Cluster) CheckDisruption(s upgrade.Snapshot, members []string) error {
	var errs []error
	if len(members) > 1 {
		return cond(ErrUnexpectedRole, "refusing to disrupt %s together: a chassis cluster keeps one node forwarding", strings.Join(members, " and "))
	}
	for _, id := range members {
		if c.Node(id) == nil {
			errs = append(errs, &NodeError{Node: id, RG: -1, Op: "guard", Err: ErrUnknownNode})
			continue
		}
		m, ok := s.Member(id)
		if !ok {
			errs = append(errs, &NodeError{Node: id, RG: -1, Op: "guard", Err: cond(ErrUnreadable, "missing from the snapshot")})
			continue
		}
		rows, ok := parseRaw(m.Raw)
		if !ok {
			errs = append(errs, &NodeError{Node: id, RG: -1, Op: "guard", Err: cond(ErrUnreadable, "its redundancy group states are unknown (%s): not disrupting it", m.Role)})
			continue
		}
		for _, g := range sortedRGs(rows) {
			if r := rows[g]; r.state == StatePrimary {
				errs = append(errs, &NodeError{Node: id, RG: g, Op: "guard", Err: cond(ErrUnexpectedRole, "%s is primary of RG%d: a primary node is never rebooted; fail the group over first", id, g)})
			}
		}
	}
	return errors.Join(errs...)
}

// CheckTopology implements upgrade.TopologyChecker, the part of
// CheckDisruption that holds whatever the state, used by executor dry
// runs: never both nodes together, only nodes of this cluster. The
// state-dependent rule (never a node that is primary of any group) is
// checked by the guard in real runs. The error is a *NodeError or matches
// ErrUnexpectedRole.
func (c *Cluster) CheckTopology(members []string) error {
	if len(members) > 1 {
		return cond(ErrUnexpectedRole, "refusing to disrupt %s together: a chassis cluster keeps one node forwarding", strings.Join(members, " and "))
	}
	for _, id := range members {
		if c.Node(id) == nil {
			return &NodeError{Node: id, RG: -1, Op: "guard", Err: ErrUnknownNode}
		}
	}
	return nil
}

// sortedRGs returns the group IDs of rows in ascending order.
func sortedRGs(rows map[int]rgView) []int {
	ids := make([]int, 0, len(rows))
	for g := range rows {
		ids = append(ids, g)
	}
	sort.Ints(ids)
	return ids
}

// Failover implements upgrade.Cluster: it makes node to primary of every
// redundancy group, the data groups (RG1 and up, in order) first and RG0
// last, with `request chassis cluster failover redundancy-group N node X`
// (Junos OS Chassis Cluster User Guide for SRX Series, "manual failover"),
// one group at a time, skipping groups to is already primary of. Before
// each command it reads both nodes' status on their own sessions and
// refuses (ErrFailoverRefused, nothing sent) unless to is secondary of the
// group with a non-zero priority and no monitor failure (for RG0 not in
// secondary-hold), and the other node is primary of it.
//
// The manual failover stays in effect (Manual yes, priority 255 on to),
// which keeps the groups on to even with preempt configured; run
// ResetFailover for each group once done (the Planner's failover-reset
// step does). After an RG0 failover the former primary is secondary-hold
// for the RG0 hold-down interval (300 s by default). Callers verify the
// result with Observe. Errors are *NodeError values naming the node and
// the group.
func (c *Cluster) Failover(ctx context.Context, to string) error {
	n := c.Node(to)
	if n == nil {
		return &NodeError{Node: to, RG: -1, Op: "failover", Err: ErrUnknownNode}
	}
	views := c.readViews(ctx, true)
	if views[n.idx].err != nil {
		return views[n.idx].err
	}
	var groups []int
	for _, g := range views[n.idx].status.Groups {
		if g.ID > 0 {
			groups = append(groups, g.ID)
		}
	}
	sort.Ints(groups)
	groups = append(groups, 0)
	for _, g := range groups {
		if err := c.failoverRG(ctx, g, to, ""); err != nil {
			return err
		}
	}
	return nil
}

// failoverRG makes to primary of group g (see Failover). With target set,
// to must run it. It does nothing when to is primary of g already.
func (c *Cluster) failoverRG(ctx context.Context, g int, to, target string) error {
	n := c.Node(to)
	if n == nil {
		return &NodeError{Node: to, RG: g, Op: "failover", Err: ErrUnknownNode}
	}
	from := c.peer(n)
	refuse := func(format string, args ...any) error {
		return &NodeError{Node: to, Host: n.host, RG: g, Op: "failover", Err: cond(ErrFailoverRefused, format, args...)}
	}
	unlock := c.lockPair()
	defer unlock()
	tv := n.viewLocked(ctx, true)
	if tv.err != nil {
		return tv.err
	}
	fv := from.viewLocked(ctx, true)
	if fv.err != nil {
		return fv.err
	}
	tg, ok1 := tv.status.Group(g)
	fg, ok2 := fv.status.Group(g)
	if !ok1 || !ok2 {
		return refuse("redundancy group %d is not configured", g)
	}
	tRow, _ := tg.Node(to)
	fRow, _ := fg.Node(from.name)
	if tRow.Status == StatePrimary && fRow.Status != StatePrimary {
		c.log.Info("junos: failover: already primary", "node", to, "rg", g)
		return nil
	}
	if target != "" {
		tver, err := ParseVersion(target)
		if err != nil {
			return &NodeError{Node: to, Host: n.host, RG: g, Op: "failover", Err: err}
		}
		if tv.verErr != nil {
			return tv.verErr
		}
		if !SameRelease(tv.sw.Version, tver) {
			return refuse("%s runs %s, not the target %s: traffic is never moved to a node that is not upgraded", to, tv.sw.Version, target)
		}
	}
	var why []string
	switch {
	case tRow.Status == StateSecondaryHold:
		why = append(why, fmt.Sprintf("%s is secondary-hold (the RG0 hold-down interval has not passed)", to))
	case tRow.Status != StateSecondary:
		why = append(why, fmt.Sprintf("%s is %s, not secondary", to, tRow.Status))
	}
	if tRow.Priority == 0 || len(tRow.MonitorFailures) > 0 {
		why = append(why, fmt.Sprintf("%s has %s", to, monitorText(tRow)))
	}
	if fRow.Status != StatePrimary {
		why = append(why, fmt.Sprintf("%s is %s, not primary", from.name, fRow.Status))
	}
	if len(why) > 0 {
		return refuse("%s", strings.Join(why, "; "))
	}
	cmd := fmt.Sprintf("request chassis cluster failover redundancy-group %d node %d", g, n.idx)
	c.log.Info("junos: failover", "rg", g, "from", from.name, "to", to)
	out, err := from.sendLocked(ctx, "failover", cmd, false, true)
	if err != nil {
		var ce *driver.CommandError
		if errors.As(err, &ce) {
			return refuse("the device refused %q: %s", cmd, firstLine(ce.Output))
		}
		return err
	}
	c.log.Debug("junos: failover output", "rg", g, "output", firstLine(out))
	return nil
}

// firstLine returns the first line of out that says something (not blank,
// not only a caret), trimmed and cut to 160 bytes.
func firstLine(out string) string {
	for _, l := range splitLines(out) {
		if t := strings.Trim(l.text, " ^"); t != "" && !strings.HasPrefix(t, "node") && !strings.HasPrefix(t, "---") {
			return cut(l.text, maxErrorText)
		}
	}
	return ""
}

// ResetFailover runs `request chassis cluster failover reset
// redundancy-group g` (on the node that is RG0 primary): the manual
// failover of g ends, Manual shows no again and the priorities return to
// their configured values (with preempt configured, the group may then
// move). Junos needs it after every manual failover (Junos OS Chassis
// Cluster User Guide for SRX Series). Errors are *NodeError values naming
// the group.
func (c *Cluster) ResetFailover(ctx context.Context, g int) error {
	if g < 0 || g > 128 {
		return &NodeError{Node: "cluster", RG: g, Op: "failover reset", Err: cond(ErrUnreadable, "redundancy group %d out of range", g)}
	}
	n, err := c.rg0Primary(ctx)
	if err != nil {
		return err
	}
	cmd := fmt.Sprintf("request chassis cluster failover reset redundancy-group %d", g)
	if _, err := n.send(ctx, "failover reset", cmd, false, true); err != nil {
		var ne *NodeError
		if errors.As(err, &ne) {
			ne.RG = g
		}
		return err
	}
	return nil
}

// rg0Primary returns the node that its own view shows RG0 primary (the
// node to commit and run cluster-wide commands on), or the one reachable
// node when its peer is lost.
func (c *Cluster) rg0Primary(ctx context.Context) (*Node, error) {
	views := c.readViews(ctx, true)
	var errs []error
	for i, v := range views {
		if v.err != nil {
			errs = append(errs, v.err)
			continue
		}
		if g, ok := v.status.Group(0); ok {
			if r, ok := g.Node(NodeNames[i]); ok && r.Status == StatePrimary {
				return c.nodes[i], nil
			}
		}
	}
	errs = append(errs, cond(ErrNoPrimary, "no node shows itself primary of RG0"))
	return nil, &NodeError{Node: "cluster", RG: 0, Op: "status", Err: errors.Join(errs...)}
}

// PreCheck implements upgrade.PreChecker: the healthy start of Juniper
// KB17947's procedure and IBM Cloud's readiness conditions, on both nodes,
// each on its own session. Every problem is returned at once, joined; each
// names its node and, where it has one, its redundancy group:
//
//   - each node answers on its address as itself (ErrWrongNode), is a
//     chassis cluster node (ErrNotClustered), and its status is healthy
//     (ClusterStatus.Healthy: one primary and one secondary per group, no
//     lost or disabled node, no monitor failure or priority 0, no manual
//     failover in effect: *HealthError values of kinds ErrRoles,
//     ErrNodeDown, ErrMonitorFailure, ErrManualFailover);
//   - both nodes see the same primary of every group (ErrSplitBrain);
//   - both run the same Junos version (ErrVersionMismatch);
//   - the control and fabric links are Up (`show chassis cluster
//     interfaces`, ErrLinkDown);
//   - no major alarm (`show system alarms`, ErrAlarm; minor ones are
//     logged);
//   - /var has Config.StorageFactor times the package free on each node
//     (`show system storage`, ErrStorage);
//   - the package name names the node's platform (a vSRX takes only
//     "vsrx" packages, ErrPackage);
//   - the shared configuration has no uncommitted change: `configure
//     private` is accepted and `show | compare` is empty, then left with
//     `exit configuration-mode` (ErrUncommitted);
//   - with Config.Reload, the OS Reload readiness (CheckReloadReadiness).
func (c *Cluster) PreCheck(ctx context.Context) error {
	var errs []error
	views := c.readViews(ctx, true)
	seen := map[string]bool{}
	for i, n := range c.nodes {
		v := views[i]
		if v.err != nil {
			errs = append(errs, v.err)
			continue
		}
		// One error per problem, naming the node and group the problem is
		// about (both nodes' views usually report it: once is enough).
		for _, he := range healthErrors(v.status.Healthy()) {
			key := fmt.Sprintf("%d/%s/%v/%s", he.RG, he.Node, he.Kind, he.Detail)
			if seen[key] {
				continue
			}
			seen[key] = true
			about, host := he.Node, ""
			if m := c.Node(about); m != nil {
				host = m.host
			} else {
				about = "cluster"
			}
			errs = append(errs, &NodeError{Node: about, Host: host, RG: he.RG, Op: "precheck (as " + n.name + " sees it)", Err: he})
		}
		if v.verErr != nil {
			errs = append(errs, v.verErr)
		} else if err := c.checkPackagePlatform(n, v.sw); err != nil {
			errs = append(errs, err)
		}
		errs = append(errs, n.precheckNode(ctx)...)
	}
	if views[0].err == nil && views[1].err == nil {
		for _, g := range views[0].status.Groups {
			p0, ok0 := views[0].status.Primary(g.ID)
			p1, ok1 := views[1].status.Primary(g.ID)
			if ok0 && ok1 && p0 != p1 {
				errs = append(errs, &NodeError{Node: "cluster", RG: g.ID, Op: "precheck", Err: cond(ErrSplitBrain, "node0 sees %s primary of RG%d, node1 sees %s", p0, g.ID, p1)})
			}
		}
		if views[0].verErr == nil && views[1].verErr == nil && views[0].sw.Version.String() != views[1].sw.Version.String() {
			errs = append(errs, &NodeError{Node: "cluster", RG: -1, Op: "precheck", Err: cond(ErrVersionMismatch, "node0 runs %s, node1 runs %s", views[0].sw.Version, views[1].sw.Version)})
		}
	}
	if err := c.checkUncommitted(ctx); err != nil {
		errs = append(errs, err)
	}
	if c.cfg.Reload != nil {
		if err := c.CheckReloadReadiness(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// healthErrors returns the *HealthError values of ClusterStatus.Healthy's
// joined error.
func healthErrors(err error) []*HealthError {
	if err == nil {
		return nil
	}
	var out []*HealthError
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range u.Unwrap() {
			out = append(out, healthErrors(e)...)
		}
		return out
	}
	var he *HealthError
	if errors.As(err, &he) {
		out = append(out, he)
	}
	return out
}

// packagePlatforms maps a model prefix (as `show version` prints Model) to
// the word its install packages carry: vSRX 3.0 packages are
// junos-install-vsrx3-x86-64-<version>.tgz, older vSRX ones
// junos-vsrx-x86-64-<version>.tgz.
var packagePlatforms = map[string]string{"vsrx": "vsrx"}

// checkPackagePlatform refuses a package whose name does not carry the
// platform word of the node's model (when the model is one this package
// knows; the device validates the rest at `request system software add`).
func (c *Cluster) checkPackagePlatform(n *Node, sw NodeSoftware) error {
	model := strings.ToLower(sw.Model)
	name := strings.ToLower(c.cfg.packageName())
	for prefix, word := range packagePlatforms {
		if strings.HasPrefix(model, prefix) && !strings.Contains(name, word) {
			return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "precheck", Err: cond(ErrPackage,
				"%s is a %s, but the package %s is not a %s package", n.name, sw.Model, c.cfg.packageName(), word)}
		}
	}
	return nil
}

// precheckNode runs the per-node pre-checks that need their own commands:
// links, alarms, storage.
func (n *Node) precheckNode(ctx context.Context) []error {
	var errs []error
	fail := func(kind error, format string, args ...any) {
		errs = append(errs, &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "precheck", Err: cond(kind, format, args...)})
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if out, err := n.sendLocked(ctx, "interfaces", cmdInterfaces, true, true); err != nil {
		errs = append(errs, err)
	} else if l, err := parseClusterLinks(out); err != nil {
		errs = append(errs, &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "precheck", Err: err})
	} else {
		if !strings.EqualFold(l.control, "up") {
			fail(ErrLinkDown, "control link %s", l.control)
		}
		if !strings.EqualFold(l.fabric, "up") {
			fail(ErrLinkDown, "fabric link %s", l.fabric)
		}
	}
	if out, err := n.sendLocked(ctx, "alarms", cmdAlarms, true, true); err != nil {
		errs = append(errs, err)
	} else if a, err := parseAlarms(out, n.name); err != nil {
		errs = append(errs, &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "precheck", Err: err})
	} else {
		for _, m := range a.major {
			fail(ErrAlarm, "major alarm: %s", m)
		}
		for _, m := range a.minor {
			n.c.log.Warn("junos: minor alarm", "node", n.name, "alarm", m)
		}
	}
	if err := n.checkStorageLocked(ctx); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// checkStorageLocked refuses when /var lacks Config.StorageFactor times
// the package size. n.mu must be held.
func (n *Node) checkStorageLocked(ctx context.Context) error {
	size, err := n.c.packageSize()
	if err != nil {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "storage", Err: err}
	}
	avail, err := n.readStorageLocked(ctx)
	if err != nil {
		return err
	}
	need := int64(n.c.cfg.StorageFactor) * size
	if avail < need {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "storage", Err: cond(ErrStorage,
			"/var on %s has %d bytes free, the package needs %d (%d × %d bytes)", n.name, avail, need, n.c.cfg.StorageFactor, size)}
	}
	return nil
}

// checkUncommitted enters `configure private` on the RG0 primary: Junos
// refuses it while the shared configuration has uncommitted changes; then
// `show | compare` must be empty, and the session leaves configuration
// mode.
func (c *Cluster) checkUncommitted(ctx context.Context) error {
	n, err := c.rg0Primary(ctx)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := n.sendLocked(ctx, "precheck", cmdConfigure, false, true); err != nil {
		n.exitConfigureLocked(ctx)
		var ce *driver.CommandError
		if errors.As(err, &ce) {
			return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "precheck", Err: cond(ErrUncommitted, "%q refused: %s", cmdConfigure, firstLine(ce.Output))}
		}
		return err
	}
	out, err := n.sendLocked(ctx, "precheck", "show | compare", true, true)
	n.exitConfigureLocked(ctx)
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) != "" {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "precheck", Err: cond(ErrUncommitted, "show | compare in a private edit is not empty: %s", firstLine(out))}
	}
	return nil
}

// exitConfigureLocked leaves configuration mode, discarding the private
// candidate; on failure the session is closed (a fresh one starts in
// operational mode). n.mu must be held.
func (n *Node) exitConfigureLocked(ctx context.Context) {
	if n.sess == nil {
		return
	}
	if _, err := n.sess.Send(context.WithoutCancel(ctx), cmdExitConfigure); err != nil {
		n.dropLocked(err)
	}
}

// rootLoginDenyRe finds a configuration that refuses root SSH logins.
var rootLoginDenyRe = regexp.MustCompile(`(?m)^set system services ssh root-login (deny|deny-password)\s*$`)

// CheckReloadReadiness runs the IBM Cloud OS Reload readiness checks of
// Config.Reload (see ReloadCheck) on both nodes: root SSH login allowed by
// the configuration, and a root login with the portal's password accepted
// on each node's own address. Every problem is returned at once as
// *NodeError values (Op "reload readiness") matching ErrReloadNotReady; the
// password never appears in them. Without Config.Reload it returns nil.
func (c *Cluster) CheckReloadReadiness(ctx context.Context) error {
	if c.cfg.Reload == nil {
		return nil
	}
	var errs []error
	for _, n := range c.nodes {
		fail := func(format string, args ...any) {
			errs = append(errs, &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "reload readiness", Err: cond(ErrReloadNotReady, format, args...)})
		}
		n.mu.Lock()
		cfgText, err := n.readConfigLocked(ctx)
		n.mu.Unlock()
		switch {
		case err != nil:
			errs = append(errs, err)
		case rootLoginDenyRe.MatchString(cfgText):
			fail("the configuration refuses root SSH logins (%s): the reload logs in as root with the portal's password", strings.TrimSpace(rootLoginDenyRe.FindString(cfgText)))
		}
		dc := *n.dcfg
		dc.Username = "root"
		dc.Password = c.cfg.Reload.PortalRootPassword
		dc.Transcript = nil
		s, err := c.tr.open(ctx, dc)
		switch {
		case errors.Is(err, driver.ErrAuth):
			fail("a root SSH login with the IBM Cloud portal's root password is refused on %s: the device's root password differs from the portal's, or root login is not allowed", n.host)
		case err != nil:
			errs = append(errs, &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "reload readiness", Err: err})
		default:
			_ = s.Close()
		}
	}
	return errors.Join(errs...)
}

// packageSize returns the local package's size in bytes.
func (c *Cluster) packageSize() (int64, error) {
	if err := readableFile(c.cfg.PackagePath); err != nil {
		return 0, &ConfigError{Field: "PackagePath", Problem: err.Error(), Err: err}
	}
	fi, err := statFile(c.cfg.PackagePath)
	if err != nil {
		return 0, err
	}
	return fi, nil
}

// rgsOf returns the redundancy groups of a snapshot as the up nodes print
// them (ascending), or nil when no node's rows are readable.
func rgsOf(s upgrade.Snapshot) []int {
	seen := map[int]bool{}
	for _, m := range s.Members {
		if rows, ok := parseRaw(m.Raw); ok {
			for g := range rows {
				seen[g] = true
			}
		}
	}
	ids := make([]int, 0, len(seen))
	for g := range seen {
		ids = append(ids, g)
	}
	slices.Sort(ids)
	return ids
}
