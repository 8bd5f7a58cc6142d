// Package aviatrixtest is a stateful fake Aviatrix controller for tests,
// examples and demos, in the spirit of net/http/httptest. It speaks the
// controller's /v2/api form API as package aviatrix expects it
// (payload shapes from the Terraform provider before v8 and its tests, and
// from Aviatrix's Controller-HA-for-AWS tests), with a state model:
//
//   - login: get_api_token, then login with X-Access-Key (or a plain login
//     with Options.LegacyLogin); CIDs expire after Options.SessionTTL or on
//     ExpireSessions, answering one of the three documented reasons
//     ("CID is invalid", "Invalid session. Please login again.",
//     "Session <CID> expired") in turn;
//   - versions: list_version_info, a release catalog under the hitless
//     release-list action (aviatrix.DefaultReleaseListAction);
//   - a controller upgrade (upgrade_platform) that runs asynchronously:
//     "in progress" for Options.PlatformUpgrade, then HTML "502 Proxy
//     Error" pages for Options.RestartWindow, then "Valid action required:
//     login" for Options.NotReadyWindow, then back on the new version with
//     every session invalidated and platform_upgrade_status "complete";
//   - gateway upgrades and rollbacks (upgrade_selected_gateway, which
//     requires both version and software_version, provider #1907; a
//     rollback names the controller's previous version in both, or sends
//     software_version "previous"): the gateway is down while its
//     update_status goes upgrading -> downloading -> installing, then
//     complete (or upgrade_fail);
//   - gateway images: get_compatible_image_version answers
//     Options.Images per cloud_type, and upgrade_selected_gateway with an
//     image_version replaces the gateway (same status sequence, down while
//     replaced), after which list_vpcs_summary reports the new
//     gw_image_name (GatewayImage);
//   - an inventory (list_vpcs_summary) of classic pairs ("<name>-hagw",
//     hagw_details), 7.0+ gateway groups (primary_gw_name, group_name) and
//     standalone gateways;
//   - a traffic probe per HA set (upgradetest.Probe): traffic of a set is
//     lost while none of its members is up; MaxDownBySet records how many
//     members of each set were ever down at once;
//   - fault knobs: controller never comes back, gateway fails, sessions
//     expire, controller busy, backup disabled, and ambiguous or refused
//     write replies (SetWriteFault: HTTP 503, an HTML page with HTTP 200
//     after or without acting, a dropped connection after acting).
//
// The fake uses the time package only (timers and time.Now), so it runs in
// testing/synctest bubbles through its in-memory transport (Transport)
// with exact virtual-time figures, and over real TLS on 127.0.0.1 (Start).
package aviatrixtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// Default credentials of the fake.
const (
	DefaultUsername = "admin"
	DefaultPassword = "Hitless-Fake-Passw0rd!"
)

// DefaultReleases returns the fake's default release catalog. The version
// numbers are illustrative (shaped like Aviatrix Major.Minor.Build
// releases), not Aviatrix's real release list.
func DefaultReleases() []string {
	return []string{
		"6.5.1922", "6.5.2721", "6.6.5224", "6.6.5545", "6.7.1376", "6.7.1574",
		"6.8.1148", "6.8.1509", "6.9.221", "6.9.349", "7.0.1373", "7.1.1794", "7.1.4101", "7.2.4820",
	}
}

// DefaultImages returns the images the fake's get_compatible_image_version
// answers by default, keyed by cloud_type (AWS 1, GCP 4, Azure 8). The
// names are shaped like Aviatrix gateway images but illustrative, not a
// real compatibility table.
func DefaultImages() map[int]string {
	return map[int]string{1: "hvm-cloudx-aws-102021", 4: "hvm-cloudx-gcp-102021", 8: "hvm-cloudx-azure-102021"}
}

// StartImage is the image (gw_image_name) every gateway of cloud_type
// cloudType runs when the fake starts, e.g. "hvm-cloudx-aws-022020": older
// than DefaultImages, so an image upgrade has something to do.
func StartImage(cloudType int) string {
	return fmt.Sprintf("hvm-cloudx-%s-022020", aviatrix.CloudType(cloudType))
}

// Options configures a Fake. Zero durations take the defaults noted.
type Options struct {
	// ControllerVersion is the controller's current version; required.
	ControllerVersion string
	// PreviousVersion is list_version_info previous_version (the gateway
	// rollback target); default "".
	PreviousVersion string
	// GatewayVersion is every gateway's version; default ControllerVersion.
	GatewayVersion string
	// Releases is the catalog; nil means DefaultReleases(). The
	// controller's version is always included.
	Releases []string
	// Images maps cloud_type to the image get_compatible_image_version
	// answers (for any known software version); clouds missing here take
	// DefaultImages(), and a cloud in neither is refused. An image upgrade
	// (upgrade_selected_gateway with image_version) must ask for exactly
	// this image.
	Images map[int]string

	// Pairs is the number of classic ActiveMesh pairs "spoke-NNN" +
	// "spoke-NNN-hagw" (spokes, AWS, regions alternating us-east-1 and
	// us-west-2, account aws-prod).
	Pairs int
	// Groups is the number of 7.0+ gateway groups "transit-NN" with
	// GroupSize-1 HA members "transit-NN-1"… (transits, Azure, eastus,
	// account azure-prod). GroupSize defaults to 3.
	Groups    int
	GroupSize int
	// Standalone is the number of gateways without HA, "egress-NN"
	// (GCP, us-central1, account gcp-prod).
	Standalone int
	// NestedHAOnly lists a classic pair's HA gateway only inside its
	// primary's hagw_details, not as an entry of its own.
	NestedHAOnly bool

	// Username and Password default to DefaultUsername/DefaultPassword.
	Username string
	Password string
	// APIPath defaults to aviatrix.DefaultAPIPath.
	APIPath string
	// ReleaseListAction defaults to aviatrix.DefaultReleaseListAction.
	ReleaseListAction string
	// LegacyLogin makes get_api_token answer return:false (controllers
	// before ~Oct 2022): login then needs no X-Access-Key.
	LegacyLogin bool
	// SessionTTL expires every CID that long after login; 0 never.
	SessionTTL time.Duration

	// PlatformUpgrade is how long upgrade_platform reports "in progress"
	// before the restart (default 3 min).
	PlatformUpgrade time.Duration
	// RestartWindow is how long every request gets an HTML 502 page
	// (default 2 min).
	RestartWindow time.Duration
	// NotReadyWindow is how long every action then gets "Valid action
	// required: login" (default 30 s).
	NotReadyWindow time.Duration
	// GatewayUpgrade is how long one gateway upgrade or rollback takes
	// (default 4 min, a third each upgrading/downloading/installing).
	GatewayUpgrade time.Duration
	// ProbeEvery is the traffic probe period (default 1 s).
	ProbeEvery time.Duration

	// BackupDisabled makes get_cloudn_backup_config report enabled "no".
	BackupDisabled bool
	// ControllerNeverReturns keeps the controller in its 502 restart window
	// forever after an upgrade starts restarting.
	ControllerNeverReturns bool
	// Busy makes every write answer "Active upgrade in progress.".
	Busy bool
	// FailGateways lists gateways whose next upgrade ends in upgrade_fail.
	FailGateways []string
}

func (o *Options) defaults() error {
	if o.ControllerVersion == "" {
		return fmt.Errorf("aviatrixtest: ControllerVersion is required")
	}
	if _, err := aviatrix.ParseVersion(o.ControllerVersion); err != nil {
		return fmt.Errorf("aviatrixtest: %w", err)
	}
	if o.GatewayVersion == "" {
		o.GatewayVersion = o.ControllerVersion
	}
	if o.Releases == nil {
		o.Releases = DefaultReleases()
	}
	if o.GroupSize <= 1 {
		o.GroupSize = 3
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.PlatformUpgrade, 3*time.Minute)
	set(&o.RestartWindow, 2*time.Minute)
	set(&o.NotReadyWindow, 30*time.Second)
	set(&o.GatewayUpgrade, 4*time.Minute)
	set(&o.ProbeEvery, time.Second)
	if o.Username == "" {
		o.Username = DefaultUsername
	}
	if o.Password == "" {
		o.Password = DefaultPassword
	}
	if o.APIPath == "" {
		o.APIPath = aviatrix.DefaultAPIPath
	}
	if o.ReleaseListAction == "" {
		o.ReleaseListAction = aviatrix.DefaultReleaseListAction
	}
	return nil
}

// Call is one request the fake received.
type Call struct {
	// At is when it arrived.
	At time.Time
	// Action is the "action" field.
	Action string
	// Method is GET or POST.
	Method string
	// Write is true for actions that change state (upgrade_platform,
	// upgrade_selected_gateway, upgrade, enable/disable backup, restore).
	Write bool
	// CIDInURL is true when the request carried a CID in its URL query.
	CIDInURL bool
	// Params are the request's fields except action, CID, username and
	// password.
	Params map[string]string
	// OK is the reply's "return" (false for refusals, 502 pages and
	// faulted replies).
	OK bool
	// Fault is the write fault this request met (SetWriteFault), or
	// NoFault.
	Fault WriteFault
}

// WriteFault is how the fake disturbs a write (SetWriteFault): the replies
// of a restarting controller or a lossy network, for the client's rule
// that a write whose outcome is unknown is never sent again.
type WriteFault int

const (
	// NoFault answers normally.
	NoFault WriteFault = iota
	// Fault503 answers an HTML "503 Service Unavailable" page with HTTP 503
	// without acting (the proxy had no backend): a client may send it
	// again.
	Fault503
	// FaultHTMLAfterAct acts on the write, then answers an HTML "502 Proxy
	// Error" page with HTTP 200 (the reply was lost in a restart): the
	// outcome is unknown to the client.
	FaultHTMLAfterAct
	// FaultHTMLNoAct answers the same HTML page with HTTP 200 without
	// acting: to the client it looks exactly like FaultHTMLAfterAct.
	FaultHTMLNoAct
	// FaultDropAfterAct acts on the write, then drops the connection
	// without a reply (a transport error for the client; over the
	// in-memory transport, a connection reset).
	FaultDropAfterAct
)

// gateway is the fake's state for one gateway.
type gateway struct {
	name, primary, group, account, region, typ string
	cloud                                      int
	isHA, nestedOnly                           bool
	version, image, state, update              string
	running                                    bool
	kickAt                                     time.Time
	set                                        int
	history                                    []string
}

// Fake is the fake controller. Create it with New, NewWithPairs or Start. All
// methods are safe for concurrent use.
type Fake struct {
	opts Options

	mu       sync.Mutex
	current  string
	previous string
	releases []string
	// controller upgrade
	ctlUpgrading bool
	ctlKickAt    time.Time
	ctlTarget    string
	ctlStatus    string
	neverReturns bool
	busy         bool
	backupOff    bool

	gws     []*gateway
	byName  map[string]*gateway
	sets    [][]*gateway
	setKey  []string
	probes  []*upgradetest.Probe
	maxDown []int // per set: most members down at once
	images  map[int]string

	cids     map[string]time.Time
	issued   []string
	tokens   map[string]bool
	seq      int
	logins   int
	expiryN  int
	failing  map[string]bool
	requests map[string]string              // request id -> gateway
	entries  map[string]map[string][]string // SetReplyEntries: action -> gateway name -> vpc_state per entry
	calls    []Call

	faultAction string     // SetWriteFault: action ("" = any write)
	fault       WriteFault // SetWriteFault: the fault
	faultN      int        // SetWriteFault: writes still to disturb

	srv *server // set by Start
}

// New returns a fake controller with the topology and knobs of opts. Its
// probes start now (call it inside the synctest bubble that uses it).
func New(opts Options) (*Fake, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	f := &Fake{opts: opts, current: opts.ControllerVersion, previous: opts.PreviousVersion,
		neverReturns: opts.ControllerNeverReturns, busy: opts.Busy, backupOff: opts.BackupDisabled,
		byName: map[string]*gateway{}, cids: map[string]time.Time{}, tokens: map[string]bool{},
		failing: map[string]bool{}, requests: map[string]string{}, entries: map[string]map[string][]string{}}
	f.releases = append([]string{}, opts.Releases...)
	f.images = DefaultImages()
	for ct, img := range opts.Images {
		f.images[ct] = img
	}
	if !slices.Contains(f.releases, f.current) {
		f.releases = append(f.releases, f.current)
	}
	for _, n := range opts.FailGateways {
		f.failing[n] = true
	}
	add := func(set []*gateway) {
		for _, g := range set {
			g.set = len(f.sets)
			g.version, g.state, g.update, g.image = opts.GatewayVersion, "up", "complete", StartImage(g.cloud)
			f.gws = append(f.gws, g)
			f.byName[g.name] = g
		}
		f.sets = append(f.sets, set)
		f.setKey = append(f.setKey, set[0].name)
	}
	regions := []string{"us-east-1", "us-west-2"}
	for i := 1; i <= opts.Pairs; i++ {
		p := fmt.Sprintf("spoke-%03d", i)
		r := regions[(i-1)%2]
		add([]*gateway{
			{name: p, account: "aws-prod", region: r, typ: "spoke", cloud: 1},
			{name: p + "-hagw", primary: p, isHA: true, nestedOnly: opts.NestedHAOnly, account: "aws-prod", region: r, typ: "spoke", cloud: 1},
		})
	}
	for i := 1; i <= opts.Groups; i++ {
		p := fmt.Sprintf("transit-%02d", i)
		grp := p + "-group"
		set := []*gateway{{name: p, group: grp, account: "azure-prod", region: "eastus", typ: "transit", cloud: 8}}
		for j := 1; j < opts.GroupSize; j++ {
			set = append(set, &gateway{name: fmt.Sprintf("%s-%d", p, j), primary: p, group: grp, isHA: true, account: "azure-prod", region: "eastus", typ: "transit", cloud: 8})
		}
		add(set)
	}
	for i := 1; i <= opts.Standalone; i++ {
		add([]*gateway{{name: fmt.Sprintf("egress-%02d", i), account: "gcp-prod", region: "us-central1", typ: "standalone", cloud: 4}})
	}
	for range f.sets {
		f.probes = append(f.probes, upgradetest.NewProbe(opts.ProbeEvery, true))
	}
	f.maxDown = make([]int, len(f.sets))
	return f, nil
}

// NewWithPairs returns a fake controller on controllerVersion with pairs
// classic HA pairs (see Options.Pairs); mods adjust the options (groups,
// durations, knobs). It panics on invalid options, like httptest.
func NewWithPairs(controllerVersion string, pairs int, mods ...func(*Options)) *Fake {
	o := Options{ControllerVersion: controllerVersion, Pairs: pairs}
	for _, m := range mods {
		m(&o)
	}
	f, err := New(o)
	if err != nil {
		panic(err)
	}
	return f
}

// Username returns the fake's login name.
func (f *Fake) Username() string { return f.opts.Username }

// Password returns the fake's password (a test secret).
func (f *Fake) Password() string { return f.opts.Password }

// ---- knobs ----

// SetControllerNeverReturns makes a controller upgrade stay in its 502
// restart window forever.
func (f *Fake) SetControllerNeverReturns(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.neverReturns = v
}

// SetBusy makes every write answer "Active upgrade in progress.".
func (f *Fake) SetBusy(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.busy = v
}

// SetGatewayFails makes the next upgrade of gateway name end in
// upgrade_fail (the gateway comes back up on its old version).
func (f *Fake) SetGatewayFails(name string, v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing[name] = v
}

// SetBackupDisabled switches the backup config off or on.
func (f *Fake) SetBackupDisabled(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backupOff = v
}

// SetWriteFault makes the next n writes of action (any write action when
// action is "") meet fault (see WriteFault). NoFault or n <= 0 clears it.
// Faulted requests are recorded in Calls with Fault set and OK false.
func (f *Fake) SetWriteFault(action string, fault WriteFault, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fault == NoFault || n <= 0 {
		f.faultAction, f.fault, f.faultN = "", NoFault, 0
		return
	}
	f.faultAction, f.fault, f.faultN = action, fault, n
}

// takeFaultLocked returns the fault the write action meets now, consuming
// one.
func (f *Fake) takeFaultLocked(action string) WriteFault {
	if f.faultN <= 0 || !isWrite(action) || (f.faultAction != "" && f.faultAction != action) {
		return NoFault
	}
	f.faultN--
	return f.fault
}

// SetReplyEntries makes the observation replies of action
// ("list_vpcs_summary" or "list_gateway_upgrade_status") list gateway name
// once per state given, in order, each entry with that vpc_state and the
// gateway's other fields as they are; with no state the gateway is left
// out of the reply. A name that is not one of the fake's gateways is added
// as a gateway the controller has and the inventory does not (a standalone
// AWS gateway on the controller's version). It models a controller whose
// replies repeat, contradict or omit a gateway; the fake's state model and
// probes are not affected. ClearReplyEntries undoes every such setting.
func (f *Fake) SetReplyEntries(action, name string, states ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.entries[action] == nil {
		f.entries[action] = map[string][]string{}
	}
	f.entries[action][name] = append([]string{}, states...)
}

// ClearReplyEntries removes every SetReplyEntries setting.
func (f *Fake) ClearReplyEntries() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.entries)
}

// extraEntriesLocked returns the names SetReplyEntries adds to action's
// reply that are not gateways of the fake, sorted.
func (f *Fake) extraEntriesLocked(action string) []string {
	var out []string
	for n := range f.entries[action] {
		if f.byName[n] == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// ExpireSessions invalidates every CID now (a session expiring mid-run).
func (f *Fake) ExpireSessions() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.cids)
}

// SetGatewayVersion sets a gateway's version (e.g. to build a deployment with a
// gateway ahead of, or behind, the controller).
func (f *Fake) SetGatewayVersion(name, version string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.byName[name]; g != nil {
		g.version = version
	}
}

// SetGatewayImage sets a gateway's image (gw_image_name), e.g. to build a
// deployment where some gateways already run their target image.
func (f *Fake) SetGatewayImage(name, image string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.byName[name]; g != nil {
		g.image = image
	}
}

// SetGatewayState sets a gateway's vpc_state ("up", "down", …) and updates
// its set's probe.
func (f *Fake) SetGatewayState(name, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.byName[name]; g != nil {
		g.state = state
		f.settleLocked(g.set)
	}
}

// ---- observation ----

// Calls returns every request received, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// WriteCalls returns the requests that were writes (whatever the reply).
func (f *Fake) WriteCalls() []Call {
	var out []Call
	for _, c := range f.Calls() {
		if c.Write {
			out = append(out, c)
		}
	}
	return out
}

// Logins counts successful logins.
func (f *Fake) Logins() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins
}

// IssuedCIDs returns every CID the fake issued, so tests can assert that
// none leaks into errors, logs or reports.
func (f *Fake) IssuedCIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.issued)
}

// ControllerVersion returns the controller's current version.
func (f *Fake) ControllerVersion() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advanceLocked(time.Now())
	return f.current
}

// GatewayVersion returns a gateway's version ("" if unknown).
func (f *Fake) GatewayVersion(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.byName[name]; g != nil {
		return g.version
	}
	return ""
}

// GatewayImage returns a gateway's image, gw_image_name ("" if unknown).
func (f *Fake) GatewayImage(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.byName[name]; g != nil {
		return g.image
	}
	return ""
}

// MaxDownBySet returns, for each HA set (named by its primary), the most
// members that were down at the same time so far (upgrading or being
// replaced, or vpc_state not "up"). A set never disrupted reports 0; a pair
// upgraded one member at a time reports 1.
func (f *Fake) MaxDownBySet() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.sets))
	for i, k := range f.setKey {
		out[k] = f.maxDown[i]
	}
	return out
}

// GatewayNames returns every gateway name, in creation order.
func (f *Fake) GatewayNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.gws))
	for i, g := range f.gws {
		out[i] = g.name
	}
	return out
}

// StatusHistory returns the update_status values the fake reported for a
// gateway, consecutive duplicates removed.
func (f *Fake) StatusHistory(name string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.byName[name]; g != nil {
		return slices.Clone(g.history)
	}
	return nil
}

// ProbeSummary is the traffic probes' verdict over all HA sets.
type ProbeSummary struct {
	// Sets is the number of HA sets (pairs, groups, standalone gateways).
	Sets int `json:"sets"`
	// Ticks is the number of probe ticks per set so far.
	Ticks int `json:"ticks"`
	// LostTicks is the total of lost ticks over all sets.
	LostTicks int `json:"lost_ticks"`
	// Outage is the total time any set forwarded nothing.
	Outage time.Duration `json:"outage"`
	// LostBySet maps a set (named by its primary) to its lost ticks, for
	// sets that lost any.
	LostBySet map[string]int `json:"lost_by_set,omitempty"`
}

// Probes returns the traffic probe of each HA set, keyed by primary name.
func (f *Fake) Probes() map[string]*upgradetest.Probe {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]*upgradetest.Probe, len(f.probes))
	for i, p := range f.probes {
		out[f.setKey[i]] = p
	}
	return out
}

// ProbeSummary sums the per-set probes.
func (f *Fake) ProbeSummary() ProbeSummary {
	ps := f.Probes()
	s := ProbeSummary{Sets: len(ps), LostBySet: map[string]int{}}
	for k, p := range ps {
		lost := p.LostTicks()
		s.LostTicks += lost
		s.Outage += p.Outage()
		s.Ticks = max(s.Ticks, p.Ticks())
		if lost > 0 {
			s.LostBySet[k] = lost
		}
	}
	return s
}

// ---- state model ----

// ctlPhase is where a controller upgrade stands.
type ctlPhase int

const (
	phaseIdle ctlPhase = iota
	phaseInProgress
	phaseRestart  // HTML 502
	phaseNotReady // "Valid action required: login"
)

// advanceLocked applies a finished controller upgrade and returns the
// current phase.
func (f *Fake) advanceLocked(now time.Time) ctlPhase {
	if !f.ctlUpgrading {
		return phaseIdle
	}
	el := now.Sub(f.ctlKickAt)
	o := f.opts
	switch {
	case el < o.PlatformUpgrade:
		return phaseInProgress
	case f.neverReturns || el < o.PlatformUpgrade+o.RestartWindow:
		return phaseRestart
	case el < o.PlatformUpgrade+o.RestartWindow+o.NotReadyWindow:
		return phaseNotReady
	}
	f.ctlUpgrading = false
	f.previous, f.current = f.current, f.ctlTarget
	f.ctlStatus = "complete"
	clear(f.cids) // the restart invalidates every session (provider #769)
	return phaseIdle
}

// forwardingLocked: some member of set i is up and not being upgraded.
func (f *Fake) forwardingLocked(i int) bool {
	for _, g := range f.sets[i] {
		if g.state == "up" && !g.running {
			return true
		}
	}
	return false
}

// settleLocked updates set i's probe and its most-members-down record.
func (f *Fake) settleLocked(i int) {
	f.probes[i].Set(f.forwardingLocked(i))
	down := 0
	for _, g := range f.sets[i] {
		if g.running || g.state != "up" {
			down++
		}
	}
	f.maxDown[i] = max(f.maxDown[i], down)
}

// kickLocked starts an upgrade (or rollback) of g to target; a non-empty
// image also replaces its image (an image upgrade).
func (f *Fake) kickLocked(g *gateway, target, image string) string {
	f.seq++
	id := fmt.Sprintf("req-%06d", f.seq)
	f.requests[id] = g.name
	g.running, g.kickAt, g.update = true, time.Now(), "upgrading"
	fail := f.failing[g.name]
	f.settleLocked(g.set)
	time.AfterFunc(f.opts.GatewayUpgrade, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		g.running = false
		if fail {
			g.update = "upgrade_fail"
			f.failing[g.name] = false
		} else {
			g.update, g.version = "complete", target
			if image != "" {
				g.image = image
			}
		}
		f.settleLocked(g.set)
	})
	return id
}

// updateStatusLocked derives the running status from the elapsed time.
func (f *Fake) updateStatusLocked(g *gateway, now time.Time) string {
	if !g.running {
		return g.update
	}
	switch el := now.Sub(g.kickAt); {
	case el < f.opts.GatewayUpgrade/3:
		return "upgrading"
	case el < 2*f.opts.GatewayUpgrade/3:
		return "downloading"
	}
	return "installing"
}

// stateLocked is the vpc_state reported: down while upgrading.
func (g *gateway) stateLocked() string {
	if g.running {
		return "down"
	}
	return g.state
}

func isWrite(action string) bool {
	switch action {
	case "upgrade_platform", "upgrade_selected_gateway", "upgrade", "enable_cloudn_backup_config",
		"disable_cloudn_backup_config", "restore_cloudx_config", "initial_setup":
		return true
	}
	return false
}

// ---- HTTP ----

// ServeHTTP implements http.Handler: the controller API at Options.APIPath.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != f.opts.APIPath {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, map[string]any{"return": false, "reason": "malformed request"})
		return
	}
	action := r.Form.Get("action")
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	call := Call{At: now, Action: action, Method: r.Method, Write: isWrite(action), CIDInURL: r.URL.Query().Get("CID") != "", Params: map[string]string{}}
	for k, v := range r.Form {
		switch k {
		case "action", "CID", "username", "password":
		default:
			call.Params[k] = strings.Join(v, ",")
		}
	}
	if call.Fault = f.takeFaultLocked(action); call.Fault != NoFault {
		f.calls = append(f.calls, call)
		switch call.Fault {
		case Fault503:
			w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprint(w, unavailablePage)
			return
		case FaultHTMLAfterAct, FaultDropAfterAct:
			_ = f.handleLocked(r, action, now)
		}
		if call.Fault == FaultDropAfterAct {
			panic(http.ErrAbortHandler) // net/http and memtransport drop the connection
		}
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.WriteHeader(http.StatusOK)
		_, _ = fmt.Fprint(w, proxyErrorPage)
		return
	}
	reply := f.handleLocked(r, action, now)
	if reply == nil {
		call.OK = false
		f.calls = append(f.calls, call)
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = fmt.Fprint(w, proxyErrorPage)
		return
	}
	call.OK, _ = reply["return"].(bool)
	f.calls = append(f.calls, call)
	writeJSON(w, reply)
}

// proxyErrorPage is the Apache page a restarting controller serves
// ("502 Proxy Error" HTML bodies).
const proxyErrorPage = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>502 Proxy Error</title>
</head><body>
<h1>Proxy Error</h1>
<p>The proxy server received an invalid
response from an upstream server.<br />
The proxy server could not handle the request <em><a href="/v2/api">POST&nbsp;/v2/api</a></em>.<p>
Reason: <strong>Error reading from remote server</strong></p></p>
</body></html>
`

// unavailablePage is the Apache page of a proxy without a backend
// ("503 Service Unavailable" HTML bodies).
const unavailablePage = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>503 Service Unavailable</title>
</head><body>
<h1>Service Unavailable</h1>
<p>The server is temporarily unable to service your
request due to maintenance downtime or capacity
problems. Please try again later.</p>
</body></html>
`

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func fail(reason string) map[string]any { return map[string]any{"return": false, "reason": reason} }
func ok(results any) map[string]any     { return map[string]any{"return": true, "results": results} }

// handleLocked answers one action; nil means an HTML 502 page.
func (f *Fake) handleLocked(r *http.Request, action string, now time.Time) map[string]any {
	switch f.advanceLocked(now) {
	case phaseRestart:
		return nil
	case phaseNotReady:
		return fail("Valid action required: login")
	}
	switch action {
	case "get_api_token":
		if f.opts.LegacyLogin {
			return fail("Invalid action: get_api_token")
		}
		f.seq++
		tok := fmt.Sprintf("tok-%06d-fake", f.seq)
		f.tokens[tok] = true
		return ok(map[string]any{"api_token": tok})
	case "login":
		if r.Form.Get("username") != f.opts.Username || r.Form.Get("password") != f.opts.Password {
			return fail("Invalid username or password")
		}
		if !f.opts.LegacyLogin {
			tok := r.Header.Get("X-Access-Key")
			if !f.tokens[tok] {
				return fail("Invalid or missing API token (X-Access-Key)")
			}
			delete(f.tokens, tok)
		}
		f.seq++
		cid := fmt.Sprintf("cid%06dSECRET%x", f.seq, now.UnixNano()&0xffffff)
		f.cids[cid] = now
		f.issued = append(f.issued, cid)
		f.logins++
		return map[string]any{"return": true, "CID": cid}
	}
	cid := r.Form.Get("CID")
	issued, valid := f.cids[cid]
	if valid && f.opts.SessionTTL > 0 && now.Sub(issued) >= f.opts.SessionTTL {
		delete(f.cids, cid)
		valid = false
	}
	if !valid {
		f.expiryN++
		switch f.expiryN % 3 {
		case 1:
			return fail("CID is invalid or expired.")
		case 2:
			return fail("Invalid session. Please login again.")
		}
		return fail("Session " + cid + " expired")
	}
	if isWrite(action) && (f.busy || f.ctlUpgrading) {
		return fail("Active upgrade in progress.")
	}
	switch action {
	case "list_version_info":
		res := map[string]any{"current_version": aviatrix.VersionPrefix + f.current, "previous_version": "", "kernel_version": "5.4.0-1103-aws"}
		if f.previous != "" {
			res["previous_version"] = aviatrix.VersionPrefix + f.previous
		}
		if r.Form.Get("latest_version") == "true" {
			res["latest_version"] = aviatrix.VersionPrefix + f.latestOfMinorLocked(f.current)
		}
		return ok(res)
	case f.opts.ReleaseListAction:
		rel := slices.Clone(f.releases)
		slices.SortFunc(rel, func(a, b string) int {
			return aviatrix.MustParseVersion(a).Compare(aviatrix.MustParseVersion(b))
		})
		return ok(rel)
	case "get_cloudn_backup_config":
		if f.backupOff {
			return ok(map[string]any{"enabled": "no"})
		}
		return ok(map[string]any{"enabled": "yes", "acct_name": "aws-prod", "cloud_type": 1, "bucket_name": "avx-backup",
			"region": "us-east-1", "multiple_bkup": "yes"})
	case "upgrade_platform":
		return f.upgradePlatformLocked(r, now)
	case "platform_upgrade_status":
		st := f.ctlStatus
		msg := ""
		if f.ctlUpgrading {
			st, msg = "in progress", "Upgrading platform to "+f.ctlTarget
		}
		return ok(map[string]any{"is_upgrade_in_progress": f.ctlUpgrading, "platform_upgrade": map[string]any{
			"progmsg": msg, "reason": "", "results": map[string]any{"status": st, "msg": msg, "reason": ""}}})
	case "upgrade_selected_gateway":
		return f.upgradeGatewaysLocked(r)
	case "get_compatible_image_version":
		return f.compatibleImageLocked(r)
	case "list_gateway_upgrade_status":
		info := make([]map[string]any, 0, len(f.gws))
		over := f.entries[action]
		for _, g := range f.gws {
			us := f.updateStatusLocked(g, now)
			if n := len(g.history); n == 0 || g.history[n-1] != us {
				g.history = append(g.history, us)
			}
			states, set := over[g.name]
			if !set {
				states = []string{g.stateLocked()}
			}
			for _, st := range states {
				info = append(info, map[string]any{"name": g.name, "vpc_state": st, "update_status": us})
			}
		}
		for _, n := range f.extraEntriesLocked(action) {
			for _, st := range over[n] {
				info = append(info, map[string]any{"name": n, "vpc_state": st, "update_status": "complete"})
			}
		}
		return ok(map[string]any{"gw_info": info})
	case "list_vpcs_summary":
		return ok(f.summaryLocked())
	case "check_task_status":
		name, known := f.requests[r.Form.Get("request_id")]
		if !known {
			return fail("request_id not found")
		}
		g := f.byName[name]
		switch {
		case g.running:
			return fail("REQUEST_IN_PROGRESS")
		case g.update == "upgrade_fail":
			return fail("gateway " + name + " upgrade failed")
		}
		return ok("success")
	}
	return fail("Invalid action: " + action)
}

// latestOfMinorLocked returns the latest catalog build in v's minor.
func (f *Fake) latestOfMinorLocked(v string) string {
	cur := aviatrix.MustParseVersion(v)
	best := cur
	for _, s := range f.releases {
		rv, err := aviatrix.ParseVersion(s)
		if err == nil && rv.SameMinor(cur) && rv.Compare(best) > 0 {
			best = rv
		}
	}
	return best.String()
}

// upgradePlatformLocked validates and starts a controller upgrade: both
// version fields, explicit, in the catalog, a valid next hop
// (versionpath.PathWith over the catalog with aviatrix.PathRules must be
// exactly [target]), and every gateway on the controller's version.
func (f *Fake) upgradePlatformLocked(r *http.Request, now time.Time) map[string]any {
	v, sv := r.Form.Get("version"), r.Form.Get("software_version")
	if v == "" || sv == "" {
		return fail("rest API upgrade_platform Post failed: following parameters are required: software_version, version")
	}
	if v != sv || v == "latest" {
		return fail("aviatrixtest: version and software_version must be the same explicit version")
	}
	target, err := aviatrix.ParseVersion(v)
	if err != nil || !slices.Contains(f.releases, target.String()) {
		return fail("aviatrixtest: version " + v + " is not an available release")
	}
	cat := versionpath.Catalog{}
	for _, s := range f.releases {
		cat = append(cat, aviatrix.MustParseVersion(s))
	}
	hops, err := versionpath.PathWith(cat, aviatrix.MustParseVersion(f.current), target, aviatrix.PathRules())
	if err != nil || len(hops) != 1 {
		return fail(fmt.Sprintf("aviatrixtest: %s is not the next upgrade hop from %s (multi-hop upgrades are not supported)", v, f.current))
	}
	var behind []string
	for _, g := range f.gws {
		if g.version != f.current {
			behind = append(behind, g.name)
		}
	}
	if len(behind) > 0 {
		return fail("aviatrixtest: gateways not on the controller version: " + strings.Join(behind, ", "))
	}
	f.ctlUpgrading, f.ctlKickAt, f.ctlTarget, f.ctlStatus = true, now, target.String(), "in progress"
	f.seq++
	return ok(fmt.Sprintf("req-%06d", f.seq))
}

// upgradeGatewaysLocked validates and starts gateway upgrades/rollbacks.
func (f *Fake) upgradeGatewaysLocked(r *http.Request) map[string]any {
	list, v, sv := r.Form.Get("gateway_list"), r.Form.Get("version"), r.Form.Get("software_version")
	if list == "" || v == "" {
		// The 7.1+ controller's text, issue #1907.
		return fail("rest API upgrade_selected_gateway Post failed: following parameters are required: gateway_list, version")
	}
	if sv == "" {
		return fail("aviatrixtest: software_version is required")
	}
	if v == "latest" || sv == "latest" {
		return fail("aviatrixtest: explicit versions only (AVX-44255)")
	}
	if img := r.Form.Get("image_version"); img != "" {
		return f.upgradeImagesLocked(list, v, sv, img)
	}
	// A rollback names the controller's previous version explicitly in
	// both fields (what hitless sends), or sends software_version
	// "previous" with version = that version.
	rollback := sv == "previous"
	if !rollback && sv != v {
		return fail("aviatrixtest: version and software_version differ")
	}
	if !rollback && v != f.current && f.previous != "" && v == f.previous {
		rollback = true
	}
	want := f.current
	if rollback {
		want = f.previous
	}
	if want == "" || v != want {
		return fail(fmt.Sprintf("aviatrixtest: gateways can only move to %q now, not %q", want, v))
	}
	var gs []*gateway
	for _, n := range strings.Split(list, ",") {
		g := f.byName[n]
		switch {
		case g == nil:
			return fail("aviatrixtest: no gateway " + n)
		case g.running:
			return fail("Active upgrade in progress.")
		case rollback && !newer(g.version, want):
			return fail("aviatrixtest: gateway " + n + " has no newer version to roll back from")
		}
		gs = append(gs, g)
	}
	var ids []string
	for _, g := range gs {
		ids = append(ids, f.kickLocked(g, want, ""))
	}
	return ok(strings.Join(ids, ","))
}

// upgradeImagesLocked validates and starts image upgrades: the software
// version stays the controller's (version = software_version = current,
// and every listed gateway must already run it), and image_version must be
// the compatible image of each gateway's cloud.
func (f *Fake) upgradeImagesLocked(list, v, sv, img string) map[string]any {
	if sv != v || v != f.current {
		return fail(fmt.Sprintf("aviatrixtest: an image upgrade keeps the controller's version %q (version and software_version), got %q/%q", f.current, v, sv))
	}
	var gs []*gateway
	for _, n := range strings.Split(list, ",") {
		g := f.byName[n]
		switch {
		case g == nil:
			return fail("aviatrixtest: no gateway " + n)
		case g.running:
			return fail("Active upgrade in progress.")
		case g.version != f.current:
			return fail(fmt.Sprintf("aviatrixtest: gateway %s runs %s, not the controller's %s: upgrade its software first", n, g.version, f.current))
		case f.images[g.cloud] != img:
			return fail(fmt.Sprintf("aviatrixtest: image_version %s is not compatible with gateway %s (cloud_type %d)", img, n, g.cloud))
		}
		gs = append(gs, g)
	}
	var ids []string
	for _, g := range gs {
		ids = append(ids, f.kickLocked(g, f.current, img))
	}
	return ok(strings.Join(ids, ","))
}

// compatibleImageLocked answers get_compatible_image_version.
func (f *Fake) compatibleImageLocked(r *http.Request) map[string]any {
	sv, ct := r.Form.Get("software_version"), r.Form.Get("cloud_type")
	if sv == "" || ct == "" {
		return fail("rest API get_compatible_image_version Get failed: following parameters are required: software_version, cloud_type")
	}
	v, err := aviatrix.ParseVersion(sv)
	if err != nil || !slices.Contains(f.releases, v.String()) {
		return fail("aviatrixtest: unknown software_version " + sv)
	}
	n, err := strconv.Atoi(ct)
	if err != nil {
		return fail("aviatrixtest: cloud_type must be an integer")
	}
	img, known := f.images[n]
	if !known {
		return fail(fmt.Sprintf("aviatrixtest: no image for cloud_type %d", n))
	}
	return ok(map[string]any{"image_version": img})
}

// newer reports whether version a is above b (false if either is junk).
func newer(a, b string) bool {
	va, err1 := aviatrix.ParseVersion(a)
	vb, err2 := aviatrix.ParseVersion(b)
	return err1 == nil && err2 == nil && va.Compare(vb) > 0
}

// summaryLocked renders list_vpcs_summary.
func (f *Fake) summaryLocked() []map[string]any {
	out := make([]map[string]any, 0, len(f.gws))
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	for _, g := range f.gws {
		if g.nestedOnly {
			continue
		}
		e := map[string]any{
			"vpc_name": g.name, "account_name": g.account, "cloud_type": g.cloud, "vpc_region": g.region,
			"gateway_zone": g.region + "a", "vpc_id": "vpc-" + g.name + "~~" + g.name, "vpc_size": "t3.medium",
			"vpc_state": g.stateLocked(), "inst_state": "running", "is_hagw": yn(g.isHA), "gw_software_version": aviatrix.VersionPrefix + g.version,
			"gw_image_name": g.image, "spoke_vpc": yn(g.typ == "spoke"), "transit_vpc": yn(g.typ == "transit"),
			"enable_active_standby": false, "private_ip": "10.0.0.10", "public_ip": "203.0.113.10",
			"hagw_details": map[string]any{},
		}
		if g.primary != "" {
			e["primary_gw_name"] = g.primary
		}
		if g.group != "" {
			e["group_name"] = g.group
		}
		if !g.isHA && g.group == "" {
			if ha := f.byName[g.name+"-hagw"]; ha != nil {
				e["hagw_details"] = map[string]any{"vpc_name": ha.name, "vpc_size": "t3.medium", "gw_software_version": aviatrix.VersionPrefix + ha.version,
					"gw_image_name": ha.image, "gateway_zone": ha.region + "b", "cloud_type": ha.cloud, "private_ip": "10.0.1.10", "public_ip": "203.0.113.11"}
			}
		}
		states, set := f.entries["list_vpcs_summary"][g.name]
		if !set {
			out = append(out, e)
			continue
		}
		for _, st := range states {
			c := make(map[string]any, len(e))
			for k, v := range e {
				c[k] = v
			}
			c["vpc_state"] = st
			out = append(out, c)
		}
	}
	for _, n := range f.extraEntriesLocked("list_vpcs_summary") {
		for _, st := range f.entries["list_vpcs_summary"][n] {
			out = append(out, map[string]any{
				"vpc_name": n, "account_name": "aws-prod", "cloud_type": 1, "vpc_region": "us-east-1", "vpc_state": st, "is_hagw": "no",
				"gw_software_version": aviatrix.VersionPrefix + f.current, "gw_image_name": StartImage(1), "spoke_vpc": "no", "transit_vpc": "no",
				"vpc_size": "t3.medium", "hagw_details": map[string]any{},
			})
		}
	}
	return out
}
