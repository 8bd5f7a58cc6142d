package aviatrix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// ControllerID is the member ID of the controller in a Cluster's snapshots
// and plans. The '@' keeps it apart from every valid gateway name.
const ControllerID = "@controller"

// Waits governs the waits of Aviatrix steps. Zero fields take the
// defaults of DefaultWaits.
type Waits struct {
	// ControllerSettle is the wait after upgrade_platform before the first
	// status poll (provider: 90 s).
	ControllerSettle time.Duration `json:"controller_settle"`
	// ControllerPoll is the platform_upgrade_status poll interval (10 s).
	ControllerPoll time.Duration `json:"controller_poll"`
	// ControllerDeadline bounds a controller hop from upgrade_platform to
	// the confirmed version (provider: 180 polls × 10 s = 30 min).
	ControllerDeadline time.Duration `json:"controller_deadline"`
	// GatewayPoll is the list_gateway_upgrade_status poll interval
	// (smoke test: 15 s).
	GatewayPoll time.Duration `json:"gateway_poll"`
	// GatewayDeadline bounds one gateway batch (>= 15 min: AVX-38080 raised
	// the gateway-controller wait to 10 min). Default 20 min.
	GatewayDeadline time.Duration `json:"gateway_deadline"`
	// Verify is the health gate after each controller hop and gateway
	// batch (default: poll 10 s, healthy for 30 s, give up after 10 min).
	Verify upgrade.Timing `json:"verify"`
}

// DefaultWaits returns the documented waits (the Terraform provider's
// controller upgrade polling before v8; AVX-38080 for gateways).
func DefaultWaits() Waits {
	return Waits{
		ControllerSettle: 90 * time.Second, ControllerPoll: 10 * time.Second, ControllerDeadline: 30 * time.Minute,
		GatewayPoll: 15 * time.Second, GatewayDeadline: 20 * time.Minute,
		Verify: upgrade.Timing{Interval: 10 * time.Second, MinHealthy: 30 * time.Second, Deadline: 10 * time.Minute},
	}
}

func (t Waits) withDefaults() Waits {
	d := DefaultWaits()
	if t.ControllerSettle <= 0 {
		t.ControllerSettle = d.ControllerSettle
	}
	if t.ControllerPoll <= 0 {
		t.ControllerPoll = d.ControllerPoll
	}
	if t.ControllerDeadline <= 0 {
		t.ControllerDeadline = d.ControllerDeadline
	}
	if t.GatewayPoll <= 0 {
		t.GatewayPoll = d.GatewayPoll
	}
	if t.GatewayDeadline <= 0 {
		t.GatewayDeadline = d.GatewayDeadline
	}
	if t.Verify == (upgrade.Timing{}) {
		t.Verify = d.Verify
	}
	return t
}

// ClusterOptions configures a Cluster.
type ClusterOptions struct {
	// Name is the cluster name in plans, journals and reports; default
	// "aviatrix".
	Name string
	// Waits governs the steps' waits.
	Waits Waits
	// Logger receives step progress (no secrets); nil means the client's
	// Config.Logger (so one logger set on the client reaches every layer),
	// or discard for a planning-only cluster.
	Logger *slog.Logger
}

// Cluster is one Aviatrix controller and its gateways as a single
// upgrade.Cluster: member ControllerID plus one member per gateway (HA and
// group members included). See the package documentation for why one
// cluster, and how the availability guard is applied per HA set.
//
// The topology (which gateways exist and which HA set each belongs to) is
// read once, by Open or given to NewCluster; Observe re-reads states and
// versions. Re-open the Cluster after adding or removing gateways.
type Cluster struct {
	c      *Client
	name   string
	timing Waits
	log    *slog.Logger

	inv     Inventory
	sets    []HASet
	setOf   map[string]int // gateway name -> index in sets
	gwIdx   map[string]int // gateway name -> index in inv.Gateways
	members []upgrade.Member
	snapIdx map[string]int // member ID -> index in members, which is its index in the Cluster's snapshots

	mu       sync.Mutex
	lastInfo VersionInfo         // from the latest Observe
	compat   map[imageKey]string // get_compatible_image_version answers (see imageFor)
}

// Open reads the controller's inventory (Client.Inventory) and returns
// the Cluster.
func Open(ctx context.Context, c *Client, opts ClusterOptions) (*Cluster, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: Open needs a client", ErrConfig)
	}
	inv, err := c.Inventory(ctx)
	if err != nil {
		return nil, err
	}
	return NewCluster(c, inv, opts)
}

// NewCluster builds a Cluster over inv without I/O. c may be nil to plan only
// (planning is pure); steps and Observe then fail with ErrNotSupported.
// Errors wrap ErrInventory and list every problem (malformed or duplicate
// names, ambiguous HA sets).
func NewCluster(c *Client, inv *Inventory, opts ClusterOptions) (*Cluster, error) {
	if inv == nil {
		return nil, fmt.Errorf("%w: no inventory", ErrInventory)
	}
	f := &Cluster{c: c, name: opts.Name, timing: opts.Waits.withDefaults(), log: opts.Logger,
		inv: Inventory{Controller: inv.Controller, Gateways: slices.Clone(inv.Gateways), Releases: slices.Clone(inv.Releases)}}
	if f.name == "" {
		f.name = "aviatrix"
	}
	if f.log == nil && c != nil {
		f.log = c.log // one logger per layer: the client's reaches the cluster
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	sets, err := f.inv.Sets()
	if err != nil {
		return nil, err
	}
	f.sets = sets
	f.setOf = make(map[string]int, len(f.inv.Gateways))
	for i, s := range sets {
		for _, m := range s.Members() {
			f.setOf[m] = i
		}
	}
	f.gwIdx = make(map[string]int, len(f.inv.Gateways))
	f.members = make([]upgrade.Member, 0, len(f.inv.Gateways)+1)
	f.members = append(f.members, &controllerMember{f: f})
	for i, g := range f.inv.Gateways {
		f.gwIdx[g.Name] = i
	}
	names := make([]string, 0, len(f.inv.Gateways))
	for _, g := range f.inv.Gateways {
		names = append(names, g.Name)
	}
	slices.Sort(names)
	for _, n := range names {
		f.members = append(f.members, &gatewayMember{f: f, name: n})
	}
	f.snapIdx = make(map[string]int, len(f.members))
	for i, m := range f.members {
		f.snapIdx[m.ID()] = i
	}
	f.lastInfo = f.inv.Controller
	return f, nil
}

// Name implements upgrade.Cluster.
func (f *Cluster) Name() string { return f.name }

// Members implements upgrade.Cluster: the controller, then the gateways by
// name.
func (f *Cluster) Members() []upgrade.Member { return slices.Clone(f.members) }

// Inventory returns a copy of the inventory the Cluster was built from.
func (f *Cluster) Inventory() Inventory {
	return Inventory{Controller: f.inv.Controller, Gateways: slices.Clone(f.inv.Gateways), Releases: slices.Clone(f.inv.Releases)}
}

// Sets returns the HA sets (pairs, groups, standalone gateways), sorted by
// primary.
func (f *Cluster) Sets() []HASet { return slices.Clone(f.sets) }

// SetOf returns the HA set gateway name belongs to.
func (f *Cluster) SetOf(name string) (HASet, bool) {
	i, ok := f.setOf[name]
	if !ok {
		return HASet{}, false
	}
	return f.sets[i], true
}

// member returns the state of member id in s: in O(1) for the Cluster's own
// snapshots (members in Members order), by a scan otherwise.
func (f *Cluster) member(s upgrade.Snapshot, id string) (upgrade.MemberState, bool) {
	if i, ok := f.snapIdx[id]; ok && i < len(s.Members) && s.Members[i].ID == id {
		return s.Members[i], true
	}
	return s.Member(id)
}

// Client returns the Cluster's client (nil for a planning-only Cluster).
func (f *Cluster) Client() *Client { return f.c }

func (f *Cluster) needClient() error {
	if f.c == nil {
		return fmt.Errorf("%w: cluster %s has no client (planning only)", ErrNotSupported, f.name)
	}
	return nil
}

// upgradeRunning reports whether update_status (lower case) says a gateway
// upgrade is running (AVX-23187).
func upgradeRunning(us string) bool {
	switch us {
	case "upgrading", "downloading", "downloaded", "installing", "initializing":
		return true
	}
	return false
}

// GatewayState maps a gateway's vpc_state and update_status to a normalised
// member state (fail closed: anything unrecognised is RoleUnknown,
// unhealthy):
//
//	any Gateway.Problems           unknown, unhealthy (duplicate or
//	                               missing reply entries)
//	up + ("" | complete)           active, healthy (ActiveMesh: both
//	                               members forward); standby for the HA
//	                               member of an active-standby pair
//	upgrading … initializing       down, unhealthy (drained for upgrade)
//	upgrade_fail                   down, unhealthy
//	down | waiting | config_fail   down, unhealthy
//
// Version is the canonical gw_software_version. Raw is
// "<vpc_state>[/<update_status>][ image=<gw_image_name>]", e.g.
// "up/complete image=hvm-cloudx-aws-102021": MemberImage reads the image
// back, so image plans and gates can tell which gateways already run their
// target image.
func GatewayState(g Gateway, standby bool) upgrade.MemberState {
	st := strings.ToLower(strings.TrimSpace(g.State))
	us := strings.ToLower(strings.TrimSpace(g.UpdateStatus))
	ms := upgrade.MemberState{ID: g.Name, Version: g.Version, Raw: st}
	if us != "" {
		ms.Raw += "/" + us
	}
	if img := strings.TrimSpace(g.Image); img != "" {
		ms.Raw += rawImage + img
	}
	switch {
	case len(g.Problems) > 0:
		// The controller's replies about it are faulty (duplicate or
		// missing entries): nothing read for it can be trusted.
		ms.Role = upgrade.RoleUnknown
		ms.Problems = append(ms.Problems, g.Problems...)
	case upgradeRunning(us):
		ms.Role = upgrade.RoleDown
		ms.Problems = append(ms.Problems, "upgrade in progress ("+us+")")
	case us == "upgrade_fail":
		ms.Role = upgrade.RoleDown
		ms.Problems = append(ms.Problems, "last upgrade failed (upgrade_fail)")
	case us != "" && us != "complete":
		ms.Role = upgrade.RoleUnknown
		ms.Problems = append(ms.Problems, fmt.Sprintf("unrecognised update_status %q", g.UpdateStatus))
	case st == "up":
		ms.Role, ms.Healthy = upgrade.RoleActive, true
		if standby {
			ms.Role = upgrade.RoleStandby
		}
	case st == "down" || st == "waiting" || st == "config_fail":
		ms.Role = upgrade.RoleDown
		ms.Problems = append(ms.Problems, "vpc_state "+st)
	default:
		ms.Role = upgrade.RoleUnknown
		ms.Problems = append(ms.Problems, fmt.Sprintf("unrecognised vpc_state %q", g.State))
	}
	return ms
}

// rawImage introduces the image in a gateway's MemberState.Raw.
const rawImage = " image="

// memberStatus returns the "<vpc_state>[/<update_status>]" part of a
// gateway's MemberState.Raw.
func memberStatus(m upgrade.MemberState) string {
	st, _, _ := strings.Cut(m.Raw, rawImage)
	return st
}

// MemberImage returns the gateway image (gw_image_name) recorded in a
// gateway's MemberState.Raw by GatewayState (and so in every Cluster
// snapshot), or "" when none was reported.
func MemberImage(m upgrade.MemberState) string {
	_, img, ok := strings.Cut(m.Raw, rawImage)
	if !ok {
		return ""
	}
	return img
}

// standby reports whether gateway name is the HA member of an
// active-standby set (its primary forwards; it takes over when needed).
func (f *Cluster) standby(name string) bool {
	i, ok := f.setOf[name]
	if !ok || f.sets[i].Primary == name {
		return false
	}
	return f.inv.Gateways[f.gwIdx[f.sets[i].Primary]].ActiveStandby || f.inv.Gateways[f.gwIdx[name]].ActiveStandby
}

// Observe implements upgrade.Cluster with three reads: list_version_info,
// list_vpcs_summary and list_gateway_upgrade_status. The controller is a
// healthy, non-forwarding member (RoleStandby: it never carries data
// traffic). The snapshot has exactly one state per member, in Members
// order, whatever the replies hold. A gateway missing from either reply,
// or listed in one more than once, is RoleUnknown and unhealthy with a
// problem naming the fault (see Gateway.Problems): duplicate entries may
// contradict each other, so none is believed. Snapshot.Problems holds only
// cluster-wide problems: gateways the controller reports that the Cluster
// does not know (re-open it); a gateway's transitional state during its
// upgrade stays in its own MemberState. Observe fails only when the
// controller cannot be read (e.g. while it restarts): without it no
// gateway state is known.
func (f *Cluster) Observe(ctx context.Context) (upgrade.Snapshot, error) {
	if err := f.needClient(); err != nil {
		return upgrade.Snapshot{}, err
	}
	info, gws, err := f.read(ctx, callOpts{})
	if err != nil {
		return upgrade.Snapshot{}, err
	}
	return f.snapshot(info, gws), nil
}

// read fetches versions, inventory and upgrade statuses.
func (f *Cluster) read(ctx context.Context, o callOpts) (VersionInfo, map[string]Gateway, error) {
	info, err := f.c.versionInfo(ctx, o)
	if err != nil {
		return VersionInfo{}, nil, err
	}
	list, err := f.c.gateways(ctx, o)
	if err != nil {
		return VersionInfo{}, nil, err
	}
	sts, err := f.c.gatewayStatus(ctx, o)
	if err != nil {
		return VersionInfo{}, nil, err
	}
	unlisted := mergeStatus(list, sts)
	f.mu.Lock()
	f.lastInfo = info
	f.mu.Unlock()
	gws := make(map[string]Gateway, len(list)+len(unlisted))
	for _, g := range list {
		gws[g.Name] = g // a duplicate's copies all carry its Problems
	}
	// A gateway only the status list reports: known to the controller,
	// but its summary entry (version, state) is missing.
	for _, n := range unlisted {
		gws[n] = Gateway{Name: n, Problems: []string{"not in list_vpcs_summary"}}
	}
	return info, gws, nil
}

func (f *Cluster) snapshot(info VersionInfo, gws map[string]Gateway) upgrade.Snapshot {
	s := upgrade.Snapshot{Cluster: f.name, At: time.Now(), Members: make([]upgrade.MemberState, 0, len(f.members))}
	s.Members = append(s.Members, upgrade.MemberState{ID: ControllerID, Role: upgrade.RoleStandby, Raw: "controller", Version: info.Current, Healthy: true})
	for _, m := range f.members[1:] {
		g, ok := gws[m.ID()]
		if !ok {
			s.Members = append(s.Members, upgrade.MemberState{ID: m.ID(), Role: upgrade.RoleUnknown, Problems: []string{"not in list_vpcs_summary"}})
			continue
		}
		s.Members = append(s.Members, GatewayState(g, f.standby(g.Name)))
	}
	// Cluster-wide problems only: gateways the controller has (in either
	// reply) that this Cluster does not know. A gateway's own state,
	// transitional or faulty, stays in its MemberState.
	var extra []string
	for n := range gws {
		if _, ok := f.gwIdx[n]; !ok {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		s.Problems = append(s.Problems, fmt.Sprintf("gateways on the controller that are not in cluster %s (re-open the cluster): %s", f.name, listNames(extra)))
	}
	return s
}

// Failover implements upgrade.Cluster. Aviatrix has no failover action: the
// controller drains an ActiveMesh gateway by itself when only one member of
// a pair is upgraded (docs "Upgrading HA Gateways in an ActiveMesh
// Topology"). It returns ErrNotSupported.
func (f *Cluster) Failover(context.Context, string) error {
	return fmt.Errorf("%w: Aviatrix drains ActiveMesh gateways itself; there is no failover action", ErrNotSupported)
}

// PreCheck implements upgrade.PreChecker with the documented pre-checks
// that the API can verify (Aviatrix Docs, "Selective Gateway Upgrade",
// pre-checks and backup), all reported at once:
// the controller is reachable; the backup config is enabled
// (get_cloudn_backup_config); every gateway is up with no upgrade running
// or failed; every version parses, none is 8.x, and no gateway runs ahead
// of the controller (versionpath.CheckDeployment). DNS, outbound access, Account
// Audit, controller HA, CPU/memory/disk and bucket hygiene are not visible
// through the API and are the operator's.
func (f *Cluster) PreCheck(ctx context.Context) error {
	if err := f.needClient(); err != nil {
		return err
	}
	var errs []error
	info, gws, err := f.read(ctx, callOpts{})
	if err != nil {
		return fmt.Errorf("controller not reachable: %w", err)
	}
	if b, err := f.c.BackupConfig(ctx); err != nil {
		errs = append(errs, fmt.Errorf("backup config: %w", err))
	} else if !b.Enabled {
		errs = append(errs, errors.New("controller backup is not enabled (get_cloudn_backup_config): enable it and let a backup complete first"))
	}
	snap := f.snapshot(info, gws)
	var down []string
	for _, m := range snap.Members[1:] {
		if !m.Healthy {
			down = append(down, fmt.Sprintf("%s (%s)", m.ID, strings.Join(m.Problems, "; ")))
		}
	}
	if len(down) > 0 {
		errs = append(errs, fmt.Errorf("gateways not up and idle: %s", strings.Join(down, ", ")))
	}
	vf, verr := f.deployment(snap, nil)
	if verr != nil {
		errs = append(errs, verr)
	}
	if vf.Controller != nil {
		if err := versionpath.CheckDeployment(vf); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deployment converts a snapshot into a versionpath.Deployment with the
// controller's previous version from the latest read. only, when not nil,
// limits the gateways to those names. Unparseable versions are errors (all
// at once).
func (f *Cluster) deployment(s upgrade.Snapshot, only []string) (versionpath.Deployment, error) {
	var errs []error
	var vf versionpath.Deployment
	ctl, ok := f.member(s, ControllerID)
	if !ok {
		return vf, errors.New("snapshot has no controller")
	}
	cv, err := ParseVersion(ctl.Version)
	if err != nil {
		errs = append(errs, fmt.Errorf("controller: %w", err))
	} else {
		vf.Controller = cv
	}
	f.mu.Lock()
	prev := f.lastInfo.Previous
	f.mu.Unlock()
	if prev != "" {
		if pv, err := ParseVersion(prev); err == nil {
			vf.ControllerPrevious = pv
		}
	}
	vf.Gateways = make(map[string]versionpath.Version)
	add := func(m upgrade.MemberState) {
		if m.ID == ControllerID {
			return
		}
		if m.Version == "" {
			vf.Gateways[m.ID] = nil
			return
		}
		v, err := ParseVersion(m.Version)
		if err != nil {
			errs = append(errs, fmt.Errorf("gateway %s: %w", m.ID, err))
			return
		}
		vf.Gateways[m.ID] = v
	}
	if only == nil {
		for _, m := range s.Members {
			add(m)
		}
	} else {
		for _, n := range only {
			m, ok := f.member(s, n)
			if !ok {
				errs = append(errs, fmt.Errorf("gateway %s is not in the snapshot", n))
				continue
			}
			add(m)
		}
	}
	return vf, errors.Join(errs...)
}

// CheckPairs is the per-HA-set availability guard. It returns nil when, in
// every HA set that names (gateway names; ControllerID is ignored,
// duplicates count once) touch, exactly one member is disrupted and every
// other member is observed healthy and active (or standby, in an
// active-standby pair): at most one member of a set is ever down
// (Aviatrix Docs, "Selective Gateway Upgrade": "Never put both members of
// an ActiveMesh pair or
// group in the same batch"). A member already down, unhealthy or not
// observed counts as disrupted: in a group of three with one member down,
// disrupting a second one is refused although the third would still
// forward. Otherwise it returns a *PairError (ErrPairUnsafe,
// upgrade.ErrUnsafe) listing every failing set. A standalone gateway always
// fails it: its upgrade is an outage, which a step must declare
// (upgrade.DowntimeDeclarer) to be left out of the guard. It is the
// Cluster's upgrade.DisruptionChecker (CheckDisruption).
func (f *Cluster) CheckPairs(s upgrade.Snapshot, names []string) error {
	disrupted := make(map[string]bool, len(names))
	touched := map[int][]string{}
	var probs []string
	for _, n := range names {
		if n == ControllerID || disrupted[n] {
			continue
		}
		i, ok := f.setOf[n]
		if !ok {
			probs = append(probs, fmt.Sprintf("gateway %s is not in cluster %s", n, f.name))
			continue
		}
		disrupted[n] = true
		touched[i] = append(touched[i], n)
	}
	if len(touched) == 0 && len(probs) == 0 {
		return nil
	}
	keys := make([]int, 0, len(touched))
	for i := range touched {
		keys = append(keys, i)
	}
	slices.Sort(keys)
	for _, i := range keys {
		set, hit := f.sets[i], touched[i]
		if len(hit) > 1 {
			probs = append(probs, fmt.Sprintf("HA set of %s: %s in one batch (never both members of a pair or group at once)", set.Primary, strings.Join(hit, " and ")))
			continue
		}
		// Every other member must be up and healthy: one already down
		// (or unobserved) counts as disrupted, so disrupting hit would put
		// two members of the set down at once.
		var down []string
		up := 0
		for _, m := range set.Members() {
			if disrupted[m] {
				continue
			}
			st, seen := f.member(s, m)
			switch {
			case !seen:
				down = append(down, m+" not observed")
			case !st.Healthy || (st.Role != upgrade.RoleActive && st.Role != upgrade.RoleStandby):
				down = append(down, fmt.Sprintf("%s is %s (healthy=%t)", m, st.Role, st.Healthy))
			default:
				up++
			}
		}
		switch {
		case up == 0 && len(down) == 0:
			probs = append(probs, fmt.Sprintf("HA set of %s: %s has no HA peer (upgrading it is an outage)", set.Primary, hit[0]))
		case up == 0:
			probs = append(probs, fmt.Sprintf("HA set of %s: no other member would forward: %s", set.Primary, strings.Join(down, ", ")))
		case len(down) > 0:
			probs = append(probs, fmt.Sprintf("HA set of %s: %s would be down together with %s (never two members of a pair or group down at once)",
				set.Primary, hit[0], strings.Join(down, ", ")))
		}
	}
	if len(probs) > 0 {
		return &PairError{Gateways: slices.Clone(names), Problems: probs}
	}
	return nil
}

// CheckDisruption implements upgrade.DisruptionChecker with CheckPairs. The
// executor's availability guard calls it with a fresh snapshot and the
// union of the members a step, or a batch of grouped steps, disrupts, for
// every plan, hand-written ones included (upgrade.Func steps too), and in
// dry runs on the snapshot taken at the start; an error refuses the step
// with upgrade.ErrUnsafe before anything is sent. Steps that declare
// downtime (AllowOutage) are left out of the union by the executor.
func (f *Cluster) CheckDisruption(s upgrade.Snapshot, members []string) error {
	return f.CheckPairs(s, members)
}

// controllerMember is the controller as an upgrade.Member.
type controllerMember struct{ f *Cluster }

// ID implements upgrade.Member.
func (m *controllerMember) ID() string { return ControllerID }

// Status implements upgrade.Member.
func (m *controllerMember) Status(ctx context.Context) (upgrade.MemberState, error) {
	return m.f.memberStatus(ctx, ControllerID)
}

// Install implements upgrade.Member: it starts upgrade_platform to target
// and returns (Client.UpgradePlatform). Plans use the full controller hop
// step instead (poll, log in again, confirm). Before sending it reads the
// controller and the gateways and refuses, sending nothing: a target that
// is not the next hop of the upgrade path over the inventory's releases
// plus the controller's latest build (*HopError, ErrHopSkipped), and a hop
// while any gateway is off the controller's version or the target is below
// it (versionpath.Violations: ErrGatewayNotConverged, ErrGatewayAhead,
// ErrControllerRollback). A target equal to the current version is a no-op.
func (m *controllerMember) Install(ctx context.Context, target string) error {
	f := m.f
	if err := f.needClient(); err != nil {
		return err
	}
	next, err := explicitVersion(target)
	if err != nil {
		return err
	}
	info, gws, err := f.read(ctx, callOpts{})
	if err != nil {
		return err
	}
	if sameVersion(info.Current, next.String()) {
		return nil
	}
	s := f.snapshot(info, gws)
	if err := f.checkControllerHop(s, next, nil); err != nil {
		return fmt.Errorf("controller install %s: %w", next, err)
	}
	return f.c.UpgradePlatform(ctx, next.String())
}

// gatewayMember is one gateway as an upgrade.Member.
type gatewayMember struct {
	f    *Cluster
	name string
}

// ID implements upgrade.Member.
func (m *gatewayMember) ID() string { return m.name }

// Status implements upgrade.Member (one full Observe).
func (m *gatewayMember) Status(ctx context.Context) (upgrade.MemberState, error) {
	return m.f.memberStatus(ctx, m.name)
}

// Install implements upgrade.Member: upgrade_selected_gateway for this
// gateway (Client.UpgradeGateways). As defence in depth (a Member can be
// driven without the executor's guard) it first observes the cluster and
// refuses, sending nothing: when its HA peer(s) would not keep the set
// forwarding, or it has none (*PairError, ErrPairUnsafe); when target is
// not the controller's current version, the gateway is ahead of the
// controller, or too far behind to catch up (versionpath.Violations:
// ErrGatewayTarget, ErrGatewayAhead, ErrGatewayNotConverged).
func (m *gatewayMember) Install(ctx context.Context, target string) error {
	f := m.f
	if err := f.needClient(); err != nil {
		return err
	}
	tv, err := explicitVersion(target)
	if err != nil {
		return err
	}
	s, err := f.Observe(ctx)
	if err != nil {
		return err
	}
	only := []string{m.name}
	if err := f.CheckPairs(s, only); err != nil {
		return fmt.Errorf("gateway %s install: %w", m.name, err)
	}
	if err := f.checkGatewayVersions(s, opUpgrade, tv, only); err != nil {
		return fmt.Errorf("gateway %s install: %w", m.name, err)
	}
	return f.c.UpgradeGateways(ctx, only, tv.String())
}

// Rollback implements upgrade.Rollbacker: the gateway back to version
// to, which must be the controller's previous version (the only rollback
// target Aviatrix documents for a gateway; Aviatrix Docs, "Selective
// Gateway Upgrade"), sent explicitly in software_version and version
// (Client.RollbackGateways), never the keyword "previous". It returns once
// the controller accepted the request; the gateway is down while it is
// replaced, so wait for it with a gate (PlanRollback's steps do).
//
// Before sending anything it checks that to is an explicit
// Major.Minor.Build (*VersionError, ErrVersion), observes the cluster and
// refuses, with an error naming the gateway and to: when the controller
// reports no previous version (versionpath.ErrNoPrevious); when to is not
// the controller's previous version (a *versionpath.Violation of kind
// versionpath.ErrRollbackTarget, whose Want is the previous version); when
// its HA peer(s) would not keep its set forwarding, or it has none
// (*PairError, ErrPairUnsafe), unless the step calling it declared the
// outage (a PlanRollback step with RollbackRequest.AllowOutage); when the
// gateway is not above to (versionpath.ErrNotRollback: nothing to roll
// back).
func (m *gatewayMember) Rollback(ctx context.Context, to string) error {
	f := m.f
	if err := f.needClient(); err != nil {
		return err
	}
	tv, err := explicitVersion(to)
	if err != nil {
		return fmt.Errorf("gateway %s rollback to %q: %w", m.name, limit(to, 64), err)
	}
	s, err := f.Observe(ctx)
	if err != nil {
		return fmt.Errorf("gateway %s rollback to %s: %w", m.name, tv, err)
	}
	f.mu.Lock()
	prev := f.lastInfo.Previous
	f.mu.Unlock()
	st, _ := f.member(s, m.name)
	fail := func(err error) error { return fmt.Errorf("gateway %s rollback to %s: %w", m.name, tv, err) }
	if prev == "" {
		return fail(versionpath.Violations{{Rule: versionpath.RuleControllerFirst, Kind: versionpath.ErrNoPrevious,
			Party: versionpath.PartyGateway, Name: m.name, Have: st.Version, Target: tv.String()}})
	}
	if !sameVersion(prev, tv.String()) {
		return fail(versionpath.Violations{{Rule: versionpath.RuleControllerFirst, Kind: versionpath.ErrRollbackTarget,
			Party: versionpath.PartyGateway, Name: m.name, Have: st.Version, Want: canonical(prev), Target: tv.String()}})
	}
	only := []string{m.name}
	if !outageDeclared(ctx, m.name) {
		if err := f.CheckPairs(s, only); err != nil {
			return fail(err)
		}
	}
	if err := f.checkGatewayVersions(s, opRollback, tv, only); err != nil {
		return fail(err)
	}
	if !newerThan(st.Version, tv) {
		return fail(versionpath.Violations{{Rule: versionpath.RuleControllerFirst,
			Kind: versionpath.ErrNotRollback, Party: versionpath.PartyGateway, Name: m.name, Have: st.Version, Want: "> " + tv.String(), Target: tv.String()}})
	}
	return f.c.RollbackGateways(ctx, only, tv.String())
}

// outageKey is the context key of a declared outage (withOutage).
type outageKey struct{}

// withOutage returns ctx marked with the declared outage of gateway name:
// a step that declares downtime (upgrade.DowntimeDeclarer, AllowOutage)
// calls the gateway's Rollback with it, which then waives its HA-peer
// check for that gateway only. The key is unexported, so only this
// package's steps can set it.
func withOutage(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, outageKey{}, name)
}

// outageDeclared reports whether ctx carries the declared outage of name.
func outageDeclared(ctx context.Context, name string) bool {
	n, ok := ctx.Value(outageKey{}).(string)
	return ok && n == name
}

// newerThan reports whether version text a parses and is above v.
func newerThan(a string, v Version) bool {
	av, err := ParseVersion(a)
	return err == nil && av.Compare(v) > 0
}

func (f *Cluster) memberStatus(ctx context.Context, id string) (upgrade.MemberState, error) {
	s, err := f.Observe(ctx)
	if err != nil {
		return upgrade.MemberState{}, err
	}
	m, ok := s.Member(id)
	if !ok {
		return upgrade.MemberState{}, fmt.Errorf("%w: member %s not found", ErrInventory, id)
	}
	return m, nil
}
