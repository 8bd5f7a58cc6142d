package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// Condition sentinels: what is wrong with a member, the cluster or the
// plan. They come wrapped in *MemberError and *RuleError values (errors.Is
// finds them) and, as text, at the start of upgrade.MemberState.Problems
// and upgrade.Snapshot.Problems, so a gate's last failure names its
// category.
var (
	// ErrUnreachable: no session to the member could be (re)established
	// (rebooting, powered off, wrong address). Observe reports it as
	// upgrade.RoleDown.
	ErrUnreachable = errors.New("checkpoint: member unreachable")
	// ErrUnreadable: the member answered but its state could not be read
	// (an output not recognised, a rejected command). Fail closed: the
	// member is upgrade.RoleUnknown and never healthy.
	ErrUnreadable = errors.New("checkpoint: member state unreadable")
	// ErrHostKeyChanged: the member's SSH host key is not the one in
	// known_hosts, typically after a major upgrade or a Blink image
	// re-installed the gateway. hitless never accepts a new key by itself:
	// check the key and update known_hosts. Waiting cannot fix it
	// (upgrade.ErrPermanent).
	ErrHostKeyChanged = fmt.Errorf("checkpoint: member's SSH host key is not the known one (a major upgrade can change it; never accepted automatically): %w", upgrade.ErrPermanent)
	// ErrExpert: Expert mode could not be entered (wrong expert password,
	// or the account's shell is not Clish).
	ErrExpert = errors.New("checkpoint: Expert mode not available")
	// ErrCommandFailed: an Expert command exited with a non-zero status.
	ErrCommandFailed = errors.New("checkpoint: command failed")
	// ErrUnknownState: a member reports a cluster state this package does
	// not map (fail closed).
	ErrUnknownState = errors.New("checkpoint: cluster state not recognised")
	// ErrSplitBrain: more than one member reports itself ACTIVE in a High
	// Availability cluster.
	ErrSplitBrain = errors.New("checkpoint: more than one member ACTIVE")
	// ErrNoActive: no member reports itself ACTIVE: nothing forwards.
	ErrNoActive = errors.New("checkpoint: no member ACTIVE")
	// ErrDisagree: members report different pictures of the cluster (a
	// member's view of a peer differs from the peer's own state) beyond
	// what a Multi-Version Cluster upgrade in progress explains.
	ErrDisagree = errors.New("checkpoint: members disagree on the cluster state")
	// ErrAttention: an ACTIVE member carries an attention flag (ACTIVE(!),
	// ACTIVE(!F), ACTIVE(!P), ACTIVE(!FP)) that the Multi-Version Cluster
	// picture does not explain: it forwards but reports a problem.
	ErrAttention = errors.New("checkpoint: ACTIVE member reports a problem (attention flag)")
	// ErrPNOTEs: a member's Active PNOTEs are not None (a critical device
	// reports a problem).
	ErrPNOTEs = errors.New("checkpoint: Active PNOTEs not None")
	// ErrAdminDown: the member was set administratively down
	// (clusterXL_admin down; Active PNOTEs ADMIN).
	ErrAdminDown = errors.New("checkpoint: member administratively down")
	// ErrMemberDown: the member reports itself DOWN or INIT.
	ErrMemberDown = errors.New("checkpoint: member DOWN")
	// ErrStillReady: a member shows READY although the Multi-Version
	// Cluster picture does not explain it (no member on an older release),
	// or stays READY after MVC was enabled and a policy installed for it:
	// CoreXL instance or core counts that differ between members keep a
	// member READY (sk106912).
	ErrStillReady = errors.New("checkpoint: member READY")
	// ErrInterfaceDown: `cphaprob -a if` shows a monitored interface not
	// UP, or fewer interfaces up than required.
	ErrInterfaceDown = errors.New("checkpoint: cluster interface not UP")
	// ErrCoreXLMismatch: the members run different numbers of CoreXL
	// firewall instances (a mismatch keeps a member READY or DOWN:
	// sk106912).
	ErrCoreXLMismatch = errors.New("checkpoint: CoreXL instance counts differ")
	// ErrDiskSpace: not enough free space for the package on a member.
	ErrDiskSpace = errors.New("checkpoint: not enough free disk space")
	// ErrTakeTooLow: the installed Jumbo Hotfix take is below the table's
	// minimum for the upgrade (versionpath.CheckTakeMinimum; also matches
	// versionpath.ErrTakeTooLow).
	ErrTakeTooLow = errors.New("checkpoint: Jumbo Hotfix take below the minimum for the target")
	// ErrMultiStage: the target cannot be reached in one hop
	// (versionpath.MultiStagePath; also matches versionpath.ErrStageSkipped
	// when the violation is there).
	ErrMultiStage = errors.New("checkpoint: the target needs an intermediate release")
	// ErrMVCUnsupported: the target is below R80.40, where the
	// Multi-Version Cluster mechanism does not exist (sk107042): those
	// releases are upgraded with the Connectivity Upgrade (CU, `cphacu`).
	ErrMVCUnsupported = errors.New("checkpoint: Multi-Version Cluster upgrade needs a target of R80.40 or later")
	// ErrNotHA: the cluster is not in High Availability mode (Load
	// Sharing has its own MVC rules, sk162637, not planned by this
	// package).
	ErrNotHA = errors.New("checkpoint: cluster mode is not High Availability")
	// ErrClusterObject: the cluster object on the management server does
	// not fit the upgrade (unknown, or a version neither the members' nor
	// the target's).
	ErrClusterObject = errors.New("checkpoint: cluster object on management does not fit the upgrade")
	// ErrManagement: the management server could not be used (login
	// refused, certificate not the configured one, unreachable); the
	// *APIError, *MgmtTransportError or *CertificateMismatchError is
	// wrapped too.
	ErrManagement = errors.New("checkpoint: management server not usable")
	// ErrAheadOfTarget: a member runs a release newer than the target.
	ErrAheadOfTarget = errors.New("checkpoint: member ahead of the target release")
	// ErrUnexpectedRole: a member is not in the state a step needs.
	ErrUnexpectedRole = errors.New("checkpoint: member in unexpected cluster state")
	// ErrUnexpectedVersion: a member runs another release than expected.
	ErrUnexpectedVersion = errors.New("checkpoint: member on unexpected release")
	// ErrPeerNotForwarding: right before a disruptive command, the check on
	// the devices did not show another member ACTIVE and forwarding (or
	// the member to disrupt not in a state that allows it): nothing was
	// sent.
	ErrPeerNotForwarding = errors.New("checkpoint: no other member verified ACTIVE and forwarding")
	// ErrImportTimeout: `installer import` did not list the package in
	// time (Config.ImportTiming).
	ErrImportTimeout = errors.New("checkpoint: CPUSE import did not finish")
	// ErrVerifyRefused: `installer verify` did not say the upgrade is
	// allowed.
	ErrVerifyRefused = errors.New("checkpoint: CPUSE verifier refused the package")
	// ErrNotStaged: the package is not on the member.
	ErrNotStaged = errors.New("checkpoint: package not staged on the member")
	// ErrInstallNotTaken: the member rebooted after its upgrade and came
	// back on another release. Waiting cannot fix it (upgrade.ErrPermanent).
	ErrInstallNotTaken = fmt.Errorf("checkpoint: member rebooted after the upgrade but runs another release: %w", upgrade.ErrPermanent)
	// ErrMVCReadBack: after `cphaconf mvc on|off` (which prints nothing)
	// the read-back does not show the setting.
	ErrMVCReadBack = errors.New("checkpoint: MVC read-back does not show the setting")
	// ErrPolicyFailed: a policy installation did not succeed where it had
	// to (the *TaskError, if any, is wrapped too).
	ErrPolicyFailed = errors.New("checkpoint: policy installation failed")
	// ErrVSNotReady: on a VSX member a virtual device is not loaded, has
	// no SIC trust or no policy (`vsx stat -v`).
	ErrVSNotReady = errors.New("checkpoint: virtual device not ready")
	// ErrVSDisagree: on a VSX member, a Virtual System shows other member
	// states than VS0.
	ErrVSDisagree = errors.New("checkpoint: Virtual Systems disagree on the member states")
	// ErrDynamicSplit: the CoreXL Dynamic Balancing workaround
	// (OFF_BY_DEFAULT_ON_VSX=1 in $FWDIR/conf/dynamic_split.conf) could not
	// be applied or read back.
	ErrDynamicSplit = errors.New("checkpoint: CoreXL Dynamic Balancing workaround not in place")
	// ErrUnknownMember: a member name that is not one of the cluster's.
	ErrUnknownMember = errors.New("checkpoint: unknown member")
	// ErrRollback: a rollback that cannot be done (no snapshot configured,
	// a target not below the member's release).
	ErrRollback = errors.New("checkpoint: rollback refused")
)

// conditions lists every condition sentinel, for classify.
var conditions = []error{
	ErrUnreachable, ErrUnreadable, ErrHostKeyChanged, ErrExpert, ErrCommandFailed, ErrUnknownState,
	ErrSplitBrain, ErrNoActive, ErrDisagree, ErrAttention, ErrPNOTEs, ErrAdminDown, ErrMemberDown,
	ErrStillReady, ErrInterfaceDown, ErrCoreXLMismatch, ErrDiskSpace, ErrTakeTooLow, ErrMultiStage,
	ErrMVCUnsupported, ErrNotHA, ErrClusterObject, ErrManagement, ErrAheadOfTarget, ErrUnexpectedRole,
	ErrUnexpectedVersion, ErrPeerNotForwarding, ErrImportTimeout, ErrVerifyRefused, ErrNotStaged,
	ErrInstallNotTaken, ErrMVCReadBack, ErrPolicyFailed, ErrVSNotReady, ErrVSDisagree, ErrDynamicSplit,
	ErrUnknownMember, ErrRollback,
}

// condError is a condition sentinel with details; its text starts with the
// sentinel's text, which is how problem strings are classified again.
type condError struct {
	kind   error
	detail string
}

// Error returns the sentinel's text, then the detail.
func (e *condError) Error() string {
	if e.detail == "" {
		return e.kind.Error()
	}
	return e.kind.Error() + ": " + e.detail
}

// Unwrap returns the sentinel.
func (e *condError) Unwrap() error { return e.kind }

// cond builds a condition error of kind with a formatted detail.
func cond(kind error, format string, args ...any) error {
	return &condError{kind: kind, detail: fmt.Sprintf(format, args...)}
}

// classify turns a problem string of this package back into a typed
// error (ErrUnreadable when no sentinel's text starts it: fail closed).
func classify(problem string) error {
	for _, k := range conditions {
		if p := k.Error(); problem == p || strings.HasPrefix(problem, p+": ") {
			return &condError{kind: k, detail: strings.TrimPrefix(strings.TrimPrefix(problem, p), ": ")}
		}
	}
	return &condError{kind: ErrUnreadable, detail: problem}
}

// Rules, as named in RuleError.Rule: the documented conditions of the
// Multi-Version Cluster upgrade (R81.20 Installation and Upgrade Guide,
// "Multi-Version Cluster Upgrade" and its prerequisites; sk107042; the
// ClusterXL Administration Guide, "Viewing Cluster State").
const (
	// RuleKnownState: every member's state is one of the documented
	// states (fail closed on anything else).
	RuleKnownState = "known-state"
	// RuleHighAvailability: the cluster runs in High Availability mode.
	RuleHighAvailability = "high-availability-mode"
	// RuleOneActive: exactly one member is ACTIVE.
	RuleOneActive = "exactly-one-active"
	// RuleStandby: every other member is STANDBY.
	RuleStandby = "others-standby"
	// RuleAgree: every member reports the same picture of the cluster.
	RuleAgree = "members-agree"
	// RuleNoAttention: the member that must keep forwarding is ACTIVE
	// without an attention flag.
	RuleNoAttention = "active-without-attention"
	// RulePNOTEs: "Active PNOTEs: None" on every member.
	RulePNOTEs = "active-pnotes-none"
	// RuleInterfaces: every monitored cluster interface is UP.
	RuleInterfaces = "interfaces-up"
	// RuleCoreXL: the same number of CoreXL instances on every member.
	RuleCoreXL = "corexl-instances-match"
	// RuleDiskSpace: enough free space for the package.
	RuleDiskSpace = "disk-space"
	// RuleMinimumTake is versionpath.RuleMinimumTake: the minimum Jumbo
	// Hotfix take before the upgrade.
	RuleMinimumTake = versionpath.RuleMinimumTake
	// RuleMultiStage is versionpath.RuleMultiStage: the target needs an
	// intermediate release first.
	RuleMultiStage = versionpath.RuleMultiStage
	// RuleMVCRelease: the Multi-Version Cluster mechanism needs a target of
	// R80.40 or later.
	RuleMVCRelease = "mvc-minimum-release"
	// RuleNotAhead: no member runs a release newer than the target.
	RuleNotAhead = "not-ahead-of-target"
	// RuleClusterObject: the cluster object's version on management is the
	// members' release or the target.
	RuleClusterObject = "cluster-object-version"
	// RuleManagement: the management server accepts the configured login
	// over a verified TLS connection.
	RuleManagement = "management-access"
	// RuleVirtualDevices: on VSX, every virtual device loaded, with SIC
	// trust and a policy, and every Virtual System shows the same member
	// states as VS0.
	RuleVirtualDevices = "vsx-virtual-devices"
	// RuleMVCReadBack: MVC reads back as set.
	RuleMVCReadBack = "mvc-read-back"
	// RulePolicy: a policy installation succeeded where it had to.
	RulePolicy = "policy-install"
)

// RuleError is one violated rule: which member (or management object), the
// rule (one of the Rule constants) and why. Err carries the condition
// sentinel (and a lower-layer error such as a *versionpath.Violation or an
// *APIError); errors.Is and errors.As see through it.
type RuleError struct {
	// Member is the member's name; "" for a rule about the whole cluster
	// or the management server.
	Member string
	// Object is the management object concerned, if any (the cluster
	// object, a Virtual System object, the management server's address).
	Object string
	// Rule is the rule's name, e.g. RuleMinimumTake.
	Rule string
	// Err is the cause.
	Err error
}

// Error returns "checkpoint: member <m>: rule <rule>: <cause>" ("management
// object <o>", "management server <host>" or "cluster" when no member is
// concerned).
func (e *RuleError) Error() string {
	var who string
	switch {
	case e.Member != "":
		who = "member " + e.Member
	case e.Object != "" && e.Rule == RuleManagement:
		who = "management server " + e.Object
	case e.Object != "":
		who = "management object " + e.Object
	default:
		who = "cluster"
	}
	return fmt.Sprintf("checkpoint: %s: rule %s: %v", who, e.Rule, e.Err)
}

// Unwrap returns the cause.
func (e *RuleError) Unwrap() error { return e.Err }

// MemberError is a failure on one member: it names the member, its address
// and the operation. Err carries the cause: a driver error
// (*driver.AuthError, *driver.HostKeyError, *driver.UnreachableError,
// *driver.CommandError, *driver.UploadError…), a *ParseError, a *RuleError
// or a condition sentinel; errors.Is and errors.As see through it.
type MemberError struct {
	// Member is the member's name (Gateway.Name, the member ID).
	Member string
	// Host is the member's "host:port", or "" when the failure is not tied
	// to a connection.
	Host string
	// Op is what was being done: "connect", "cphaprob state", "fw ver",
	// "installer import", "upgrade", "failover", "gate", "plan"…
	Op string
	// Err is the cause.
	Err error
}

// Error returns "checkpoint: member <name> (<host>): <op>: <cause>".
func (e *MemberError) Error() string {
	if e.Host == "" {
		return fmt.Sprintf("checkpoint: member %s: %s: %v", e.Member, e.Op, e.Err)
	}
	return fmt.Sprintf("checkpoint: member %s (%s): %s: %v", e.Member, e.Host, e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *MemberError) Unwrap() error { return e.Err }

// transport is how the package reaches devices; tests substitute scripted
// sessions.
type transport struct {
	open      func(ctx context.Context, cfg driver.Config) (driver.Session, error)
	reconnect func(ctx context.Context, cfg driver.Config, b driver.Backoff) (driver.Session, error)
	upload    func(ctx context.Context, cfg driver.Config, local, remote string, verify driver.VerifyFunc) error
}

func driverTransport() transport {
	return transport{open: driver.Open, reconnect: driver.WaitReachable, upload: driver.Upload}
}

// fatalOpen reports whether a failed connection attempt is one redialling
// cannot fix: bad credentials, an unknown or changed host key, an invalid
// configuration.
func fatalOpen(err error) bool {
	return errors.Is(err, driver.ErrAuth) || errors.Is(err, driver.ErrHostKey) || errors.Is(err, driver.ErrConfig)
}

// unreachable reports whether err means the member could not be talked to
// at all.
func unreachable(err error) bool {
	if errors.Is(err, driver.ErrHostKey) || errors.Is(err, driver.ErrAuth) {
		return false
	}
	return errors.Is(err, driver.ErrUnreachable) || errors.Is(err, driver.ErrDropped) ||
		errors.Is(err, driver.ErrAborted) || errors.Is(err, driver.ErrClosed)
}

// broken reports whether err leaves the session unusable.
func broken(err error) bool {
	return errors.Is(err, driver.ErrDropped) || errors.Is(err, driver.ErrClosed) || errors.Is(err, driver.ErrAborted)
}

// Cluster is a Check Point ClusterXL High Availability cluster (gateway
// mode) or VSX cluster. It implements upgrade.Cluster: Observe reads every
// member's own view of the cluster and judges the picture; Failover runs
// `clusterXL_admin down` on the ACTIVE member. Its members are
// *ClusterMember values. It holds one CLI session per member and, when
// Config.Mgmt is set, a management API client (*MgmtClient). It is safe for
// concurrent use; calls on one member are serialised. Close it when done.
type Cluster struct {
	cfg     Config // validated, with defaults
	log     *slog.Logger
	tr      transport
	members []*ClusterMember
	mgmt    *MgmtClient

	obsMu sync.Mutex
	obs   []observed // the latest observations, newest last
}

// observed keeps the readings behind one snapshot (Snapshot.At), for the
// plan's end-state check and its gates (MVC setting, PNOTEs, VSX status).
type observed struct {
	at       time.Time
	readings []reading
}

var _ upgrade.Cluster = (*Cluster)(nil)

// New validates cfg and opens one SSH session to each member's own
// management address (concurrently, one attempt each), and builds the
// management client when cfg.Mgmt is set (it sends nothing until used).
// Only the login is sent (and the platform's `lock database override`
// and `set clienv rows 0`): nothing changes on any device.
//
// A member that cannot be reached does not make New fail when another
// answers: a process restarted part-way through an upgrade must be able to
// resume while a member reboots. Such a member is redialled by the next
// call that needs it; Observe reports it as upgrade.RoleDown until it
// answers. New fails when no member is reachable, or when a member
// rejects the login or its host key (*driver.AuthError,
// *driver.HostKeyError: redialling cannot fix them), with one *MemberError
// per member (Op "connect"), joined; the joined *ConfigError values of
// cfg.Validate; an ErrMgmtConfig error from NewMgmtClient. Sessions
// already opened are closed again on error.
func New(ctx context.Context, cfg Config) (*Cluster, error) {
	return newCluster(ctx, cfg, driverTransport())
}

func newCluster(ctx context.Context, cfg Config, tr transport) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	plat, err := driver.LoadPlatform("checkpoint_gaia")
	if err != nil {
		return nil, fmt.Errorf("checkpoint: load CLI platform: %w", err)
	}
	cfg = cfg.withDefaults()
	if cfg.Transcript != nil {
		cfg.Transcript.AddSecrets(cfg.Password, cfg.ExpertPassword)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{cfg: cfg, log: log.With("cluster", cfg.Name), tr: tr}
	if cfg.mgmtSet() {
		mc := cfg.Mgmt
		if mc.Logger == nil {
			mc.Logger = cfg.Logger
		}
		if c.mgmt, err = NewMgmtClient(mc); err != nil {
			return nil, err
		}
	}
	for i, g := range cfg.Members {
		dc := cfg.driverConfig(i)
		dc.Platform = plat
		c.members = append(c.members, &ClusterMember{c: c, gw: g, idx: i, dcfg: &dc, host: g.addr()})
	}
	errs := make([]error, len(c.members))
	var fatal bool
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, m := range c.members {
		wg.Go(func() {
			s, err := tr.open(ctx, *m.dcfg)
			if err != nil {
				errs[i] = &MemberError{Member: m.gw.Name, Host: m.host, Op: "connect", Err: err}
				mu.Lock()
				fatal = fatal || fatalOpen(err) || ctx.Err() != nil
				mu.Unlock()
				return
			}
			m.sess = s
		})
	}
	wg.Wait()
	failed := 0
	for _, e := range errs {
		if e != nil {
			failed++
		}
	}
	if fatal || failed == len(c.members) {
		_ = c.Close()
		return nil, errors.Join(errs...)
	}
	for i, m := range c.members {
		if errs[i] != nil {
			m.noteAway()
			c.log.Warn("checkpoint: member unreachable; continuing without it (it is reported down until it answers)", "member", m.gw.Name, "error", errs[i])
		}
	}
	c.log.Info("checkpoint: connected", "members", len(c.members), "vsx", cfg.VSX)
	return c, nil
}

// String describes the cluster by name and members, never a secret.
func (c *Cluster) String() string {
	return fmt.Sprintf("checkpoint.Cluster{Name:%q VSX:%t Members:[%s]}", c.cfg.Name, c.cfg.VSX, c.cfg.memberList())
}

// Format implements fmt.Formatter: every verb prints String (a Cluster
// keeps its Config, with the passwords, in an unexported field).
func (c *Cluster) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue implements slog.LogValuer without any secret.
func (c *Cluster) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", c.cfg.Name), slog.String("members", c.cfg.memberList()))
}

// MarshalJSON encodes the cluster as its redacted Config.
func (c *Cluster) MarshalJSON() ([]byte, error) { return c.cfg.MarshalJSON() }

// Name implements upgrade.Cluster: Config.Name.
func (c *Cluster) Name() string { return c.cfg.Name }

// Members implements upgrade.Cluster: the *ClusterMember values in
// Config.Members order.
func (c *Cluster) Members() []upgrade.Member {
	out := make([]upgrade.Member, len(c.members))
	for i, m := range c.members {
		out[i] = m
	}
	return out
}

// Member returns the member named name, or nil.
func (c *Cluster) Member(name string) *ClusterMember {
	for _, m := range c.members {
		if m.gw.Name == name {
			return m
		}
	}
	return nil
}

// Mgmt returns the management API client (nil without Config.Mgmt).
func (c *Cluster) Mgmt() *MgmtClient { return c.mgmt }

// Close closes every session and logs out of the management server. It is
// safe to call more than once.
func (c *Cluster) Close() error {
	var errs []error
	for _, m := range c.members {
		if m != nil {
			errs = append(errs, m.close())
		}
	}
	if c.mgmt != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, c.mgmt.Logout(ctx))
		cancel()
	}
	return errors.Join(errs...)
}

// Observe implements upgrade.Cluster. It reads every member at once (see
// ClusterMember.Status) and returns one MemberState per member, in Members
// order, whatever happened, judging each member against the whole
// cluster:
//
//   - Multi-Version Cluster picture (R81.20 Installation and Upgrade
//     Guide, "Multi-Version Cluster Upgrade"; sk107042): a member on a
//     release newer than the others shows READY until MVC is on and a
//     policy is installed for it, and the old members see it LOST or do
//     not list it. Such a READY member (Active PNOTEs None) is healthy
//     (upgrade.RoleReady), and the ACTIVE member on the old release that
//     shows ACTIVE(!) only because it sees that member (or a member this
//     Cluster is rebooting into an upgrade) LOST, with no Active PNOTE
//     but Config.MixedVersionPNOTEs, is healthy and forwarding. The
//     picture is not a cluster-wide problem: the guard only needs another
//     member that forwards.
//   - Any other attention flag, PNOTE, DOWN or READY makes the member
//     unhealthy; its problems say why.
//
// Snapshot.Problems holds only problems of the cluster as a whole, each
// starting with its condition sentinel's text: more than one member
// ACTIVE (ErrSplitBrain), none ACTIVE (ErrNoActive), and members whose
// views differ beyond the Multi-Version Cluster picture (ErrDisagree: a
// member sees a peer in another state than the peer reports, or does not
// list a peer on the same release, or lists a member that is not
// configured). Observe returns an error only when ctx ends.
func (c *Cluster) Observe(ctx context.Context) (upgrade.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return upgrade.Snapshot{}, err
	}
	at := time.Now()
	rs := make([]reading, len(c.members))
	var wg sync.WaitGroup
	for i, m := range c.members {
		wg.Go(func() { rs[i] = m.read(ctx, true) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return upgrade.Snapshot{}, err
	}
	s := c.judge(rs, at)
	c.remember(at, rs)
	return s, nil
}

// remember keeps the readings of the snapshot taken at at.
func (c *Cluster) remember(at time.Time, rs []reading) {
	c.obsMu.Lock()
	defer c.obsMu.Unlock()
	c.obs = append(c.obs, observed{at: at, readings: rs})
	if len(c.obs) > 16 {
		c.obs = slices.Clone(c.obs[len(c.obs)-16:])
	}
}

// readingsOf returns the readings behind snapshot s, or nil when s was not
// taken by this Cluster's Observe.
func (c *Cluster) readingsOf(s upgrade.Snapshot) []reading {
	c.obsMu.Lock()
	defer c.obsMu.Unlock()
	for i := len(c.obs) - 1; i >= 0; i-- {
		if c.obs[i].at.Equal(s.At) {
			return c.obs[i].readings
		}
	}
	return nil
}

// rowOf returns p's row in a member's view: by name when the table has a
// Name column, else by p's cluster ID.
func rowOf(cs *ClusterState, p *ClusterMember) (Member, bool) {
	for _, r := range cs.Members {
		if r.Name != "" && r.Name == p.gw.Name {
			return r, true
		}
	}
	if id := p.knownID(); id != 0 {
		for _, r := range cs.Members {
			if r.Name == "" && r.ID == id {
				return r, true
			}
		}
	}
	return Member{}, false
}

// roleOf maps a state to a role.
func roleOf(st State) (upgrade.Role, bool) {
	switch st.Base {
	case StateActive:
		return upgrade.RoleActive, true
	case StateStandby, StateBackup:
		return upgrade.RoleStandby, true
	case StateReady:
		return upgrade.RoleReady, true
	case StateDown, StateInit:
		return upgrade.RoleDown, true
	case StateLost:
		return upgrade.RoleLost, true
	}
	return upgrade.RoleUnknown, false
}

// judge turns the readings of the cluster's members (all of them, or one
// for Status) into a snapshot; see Observe.
func (c *Cluster) judge(rs []reading, at time.Time) upgrade.Snapshot {
	g := versionpath.CheckPoint{}
	s := upgrade.Snapshot{Cluster: c.cfg.Name, At: at, Members: make([]upgrade.MemberState, len(rs))}
	byName := map[string]*reading{}
	vers := map[string]versionpath.Version{}
	var low versionpath.Version
	for i := range rs {
		r := &rs[i]
		byName[r.name] = r
		if r.err == nil && r.version != nil {
			if v, err := g.Parse(r.version.Release); err == nil {
				vers[r.name] = v
				if low == nil || v.Compare(low) < 0 {
					low = v
				}
			}
		}
	}
	ahead := func(name string) bool {
		v, ok := vers[name]
		return ok && low != nil && v.Compare(low) > 0
	}
	differ := func(a, b string) bool {
		va, ok1 := vers[a]
		vb, ok2 := vers[b]
		return ok1 && ok2 && va.Compare(vb) != 0
	}
	mixedPN := func(pn []string) bool {
		for _, p := range pn {
			if !slices.ContainsFunc(c.cfg.MixedVersionPNOTEs, func(q string) bool { return strings.EqualFold(p, q) }) {
				return false
			}
		}
		return true
	}
	actives := 0
	reachable := 0
	for i := range rs {
		r := &rs[i]
		st := upgrade.MemberState{ID: r.name, Role: upgrade.RoleUnknown}
		m := c.Member(r.name)
		switch {
		case r.err != nil && r.unreachable:
			st.Role = upgrade.RoleDown
			st.Problems = append(st.Problems, cond(ErrUnreachable, "%v", r.err).Error())
		case r.err != nil && errors.Is(r.err, driver.ErrHostKey):
			st.Problems = append(st.Problems, cond(ErrHostKeyChanged, "%v", r.err).Error())
		case r.err != nil && errors.Is(r.err, ErrExpert):
			st.Problems = append(st.Problems, cond(ErrExpert, "%v", r.err).Error())
		case r.err != nil && errors.Is(r.err, ErrUnrecognized) && r.cs == nil:
			st.Problems = append(st.Problems, cond(ErrUnknownState, "%v", r.err).Error())
		case r.err != nil:
			st.Problems = append(st.Problems, cond(ErrUnreadable, "%v", r.err).Error())
		}
		if r.err != nil {
			s.Members[i] = st
			continue
		}
		reachable++
		st.Version = r.version.Release
		st.Raw = r.local.State.Raw
		role, known := roleOf(r.local.State)
		st.Role = role
		if !known {
			st.Role = upgrade.RoleUnknown
			st.Problems = append(st.Problems, cond(ErrUnknownState, "state %q", r.local.State.Raw).Error())
			s.Members[i] = st
			continue
		}
		pn := r.cs.PNOTEs
		healthy := false
		switch r.local.State.Base {
		case StateActive:
			actives++
			switch {
			case r.local.State.Flags == "" && len(pn) == 0:
				healthy = true
			case m != nil && c.explainedAttention(r, byName, ahead, mixedPN):
				healthy = true
			case r.local.State.Flags != "":
				st.Problems = append(st.Problems, cond(ErrAttention, "%s is %s (Active PNOTEs: %s)", r.name, r.local.State.Raw, pnoteText(pn)).Error())
			default:
				st.Problems = append(st.Problems, cond(ErrPNOTEs, "%s", pnoteText(pn)).Error())
			}
		case StateStandby, StateBackup:
			if len(pn) == 0 {
				healthy = true
			} else {
				st.Problems = append(st.Problems, cond(ErrPNOTEs, "%s", pnoteText(pn)).Error())
			}
		case StateReady:
			switch {
			case ahead(r.name) && len(pn) == 0:
				healthy = true
			case ahead(r.name):
				st.Problems = append(st.Problems, cond(ErrStillReady, "READY on %s with Active PNOTEs %s", r.version.Release, pnoteText(pn)).Error())
			case len(rs) == 1:
				st.Problems = append(st.Problems, cond(ErrStillReady, "READY on %s: it neither forwards nor synchronises (judged alone; Cluster.Observe judges it against the other members)", r.version.Release).Error())
			default:
				st.Problems = append(st.Problems, cond(ErrStillReady, "READY although no member runs an older release than %s (CoreXL instance or core counts differ? sk106912; Active PNOTEs: %s)", r.version.Release, pnoteText(pn)).Error())
			}
		case StateDown, StateInit:
			if slices.ContainsFunc(pn, func(p string) bool { return strings.EqualFold(p, "ADMIN") }) {
				st.Problems = append(st.Problems, cond(ErrAdminDown, "clusterXL_admin down (Active PNOTEs: %s)", pnoteText(pn)).Error())
			} else {
				st.Problems = append(st.Problems, cond(ErrMemberDown, "%s (Active PNOTEs: %s)", r.local.State.Raw, pnoteText(pn)).Error())
			}
		default:
			st.Problems = append(st.Problems, cond(ErrUnexpectedRole, "reports itself %s", r.local.State.Raw).Error())
		}
		if r.notTaken != "" {
			healthy = false
			st.Problems = append(st.Problems, r.notTaken)
		}
		if r.vsxErr != nil {
			healthy = false
			st.Problems = append(st.Problems, cond(ErrUnreadable, "vsx stat -v: %v", r.vsxErr).Error())
		} else if r.vsx != nil {
			for _, d := range r.vsx.NotReady() {
				healthy = false
				st.Problems = append(st.Problems, cond(ErrVSNotReady, "%d (%s): %s", d.ID, d.Name, d.Problem()).Error())
			}
		}
		st.Healthy = healthy
		s.Members[i] = st
	}
	if actives > 1 {
		var names []string
		for _, r := range rs {
			if r.err == nil && r.local.State.Base == StateActive {
				names = append(names, r.name)
			}
		}
		s.Problems = append(s.Problems, cond(ErrSplitBrain, "%s all report ACTIVE", strings.Join(names, ", ")).Error())
	}
	if len(rs) > 1 && actives == 0 && reachable > 0 {
		s.Problems = append(s.Problems, cond(ErrNoActive, "no member reports ACTIVE: nothing forwards").Error())
	}
	s.Problems = append(s.Problems, c.disagreements(rs, byName, differ)...)
	return s
}

// explainedAttention reports whether an ACTIVE member's attention flag (or
// PNOTEs) is the Multi-Version Cluster picture: it runs the lowest release,
// its PNOTEs are all in Config.MixedVersionPNOTEs, and every peer it sees
// LOST or does not list runs a newer release or is rebooting into an
// upgrade this Cluster sent, with at least one such peer.
func (c *Cluster) explainedAttention(r *reading, byName map[string]*reading, ahead func(string) bool, mixedPN func([]string) bool) bool {
	if ahead(r.name) || !mixedPN(r.cs.PNOTEs) {
		return false
	}
	explained := 0
	for _, p := range c.members {
		if p.gw.Name == r.name {
			continue
		}
		row, listed := rowOf(r.cs, p)
		if listed && row.State.Base != StateLost {
			continue
		}
		pr := byName[p.gw.Name]
		switch {
		case pr == nil:
			return false
		case pr.err == nil && ahead(p.gw.Name):
			explained++
		case pr.err != nil && pr.unreachable && pr.pending != "":
			explained++
		default:
			return false
		}
	}
	return explained > 0
}

// disagreements compares every member's view of its peers with the peers'
// own states.
func (c *Cluster) disagreements(rs []reading, byName map[string]*reading, differ func(a, b string) bool) []string {
	var probs []string
	for _, r := range rs {
		if r.err != nil || r.cs == nil {
			continue
		}
		for _, row := range r.cs.Members {
			if row.Local {
				continue
			}
			known := false
			for _, p := range c.members {
				if (row.Name != "" && row.Name == p.gw.Name) || (row.Name == "" && row.ID == p.knownID()) {
					known = true
				}
			}
			if !known {
				probs = append(probs, cond(ErrDisagree, "%s lists member %d %q, which is not a configured member", r.name, row.ID, row.Name).Error())
			}
		}
		for _, p := range c.members {
			if p.gw.Name == r.name {
				continue
			}
			pr := byName[p.gw.Name]
			if pr == nil || pr.err != nil {
				continue // unreachable or unread: nothing to compare with
			}
			row, listed := rowOf(r.cs, p)
			switch {
			case !listed && differ(r.name, p.gw.Name):
			case !listed:
				probs = append(probs, cond(ErrDisagree, "%s does not list %s, which runs the same release", r.name, p.gw.Name).Error())
			case row.State.String() == pr.local.State.String():
			case row.State.Base == StateLost && differ(r.name, p.gw.Name):
			default:
				probs = append(probs, cond(ErrDisagree, "%s sees %s as %s, %s reports itself %s", r.name, p.gw.Name, row.State.Raw, p.gw.Name, pr.local.State.Raw).Error())
			}
		}
	}
	return probs
}

// pnoteText renders Active PNOTEs.
func pnoteText(pn []string) string {
	if len(pn) == 0 {
		return "None"
	}
	return strings.Join(pn, ", ")
}

// lockAll locks every member's session, always in Config.Members order, and
// returns the unlock. Nothing else is sent to any member meanwhile: a
// check on the devices and the command it allows run back to back.
func (c *Cluster) lockAll() (unlock func()) {
	for _, m := range c.members {
		m.mu.Lock()
	}
	return func() {
		for i := len(c.members) - 1; i >= 0; i-- {
			c.members[i].mu.Unlock()
		}
	}
}

// readAllLocked reads every member's view, target in Clish (its last
// command before a Clish command), the others in Expert mode with their MVC
// setting and, on VSX, `vsx stat -v` (a peer with a virtual device not
// ready does not count as forwarding). Every member's lock must be held.
func (c *Cluster) readAllLocked(ctx context.Context, target *ClusterMember) ([]reading, upgrade.Snapshot) {
	at := time.Now()
	rs := make([]reading, len(c.members))
	for i, p := range c.members {
		if p == target {
			continue
		}
		rs[i] = p.readLocked(ctx, true, modeExpert)
	}
	for i, p := range c.members {
		if p == target {
			rs[i] = p.readLocked(ctx, false, modeClish)
		}
	}
	return rs, c.judge(rs, at)
}

// lastCheckLocked verifies on the devices, right before a disruptive
// command on m, that another member forwards: it reads every member (m
// last, in Clish) and requires m to be STANDBY (or DOWN by clusterXL_admin
// down, or, with allowReady, READY on a release ahead of its peers) with
// no other problem, some other member ACTIVE and forwarding, and no
// cluster-wide problem. Every member's lock must be held. It returns the
// snapshot and m's reading.
func (c *Cluster) lastCheckLocked(ctx context.Context, m *ClusterMember, allowReady bool) (upgrade.Snapshot, reading, error) {
	rs, snap := c.readAllLocked(ctx, m)
	refuse := func(kind error, format string, args ...any) error {
		return &MemberError{Member: m.gw.Name, Host: m.host, Op: "last check", Err: cond(kind, format, args...)}
	}
	r := rs[m.idx]
	if r.err != nil {
		return snap, r, r.err
	}
	own, _ := snap.Member(m.gw.Name)
	switch {
	case own.Role == upgrade.RoleStandby && own.Healthy:
	case own.Role == upgrade.RoleDown && len(own.Problems) == 1 && errors.Is(classify(own.Problems[0]), ErrAdminDown):
	case own.Role == upgrade.RoleReady && own.Healthy && allowReady:
	default:
		return snap, r, refuse(ErrUnexpectedRole, "%s is %s (%s); not disrupting it", m.gw.Name, own.Raw, strings.Join(own.Problems, "; "))
	}
	var fwd []string
	var why []string
	for i, st := range snap.Members {
		if st.ID == m.gw.Name {
			continue
		}
		if st.Forwarding() {
			fwd = append(fwd, st.ID)
			continue
		}
		desc := fmt.Sprintf("%s is %s", st.ID, st.Role)
		if rs[i].err == nil {
			desc = fmt.Sprintf("%s is %s", st.ID, rs[i].local.State.Raw)
		}
		if len(st.Problems) > 0 {
			desc += " (" + strings.Join(st.Problems, "; ") + ")"
		}
		why = append(why, desc)
	}
	if len(fwd) == 0 {
		return snap, r, refuse(ErrPeerNotForwarding, "right before disrupting %s: %s", m.gw.Name, strings.Join(why, "; "))
	}
	if len(snap.Problems) > 0 {
		return snap, r, refuse(ErrPeerNotForwarding, "right before disrupting %s the cluster reports: %s", m.gw.Name, strings.Join(snap.Problems, "; "))
	}
	return snap, r, nil
}

// Failover implements upgrade.Cluster: it makes member to the ACTIVE one
// by running `clusterXL_admin down` (Expert, VS0 on VSX; ClusterXL
// Administration Guide, "clusterXL_admin") on the member that is ACTIVE
// now, which hands over to the STANDBY at once. The command is not
// persistent (without -p): a reboot of the downed member or
// `clusterXL_admin up` undoes it.
//
// Holding every member's session, it reads every member and sends the
// command only if to is STANDBY and healthy, another member is ACTIVE and
// forwarding, and the cluster reports no problem; otherwise it changes
// nothing and returns a *MemberError (ErrUnexpectedRole,
// ErrPeerNotForwarding). When to is already the forwarding member it does
// nothing. With more than two members ClusterXL chooses the member that
// takes over (the highest priority among the STANDBY ones); callers verify
// the result with Observe. The command's output is not parsed (UNVERIFIED
// wording); its exit status must be 0. ErrUnknownMember for a name not in
// the cluster.
func (c *Cluster) Failover(ctx context.Context, to string) error {
	m := c.Member(to)
	if m == nil {
		return &MemberError{Member: to, Op: "failover", Err: cond(ErrUnknownMember, "cluster %s has no member %q", c.cfg.Name, to)}
	}
	unlock := c.lockAll()
	defer unlock()
	return c.failoverLocked(ctx, m, nil)
}

// failoverLocked is Failover with every lock held. accept, when not nil,
// is the set of members allowed to take over besides to (all of them must
// be STANDBY and healthy for the command to be sent).
func (c *Cluster) failoverLocked(ctx context.Context, to *ClusterMember, accept []string) error {
	rs, snap := c.readAllLocked(ctx, nil)
	refuse := func(who *ClusterMember, kind error, format string, args ...any) error {
		return &MemberError{Member: who.gw.Name, Host: who.host, Op: "failover", Err: cond(kind, format, args...)}
	}
	if st, _ := snap.Member(to.gw.Name); st.Forwarding() {
		c.log.Info("checkpoint: failover: already ACTIVE", "member", to.gw.Name)
		return nil
	}
	var from *ClusterMember
	for i, st := range snap.Members {
		if st.Forwarding() {
			from = c.members[i]
		}
	}
	var errs []error
	if st, _ := snap.Member(to.gw.Name); st.Role != upgrade.RoleStandby || !st.Healthy {
		raw := st.Raw
		if rs[to.idx].err != nil {
			raw = rs[to.idx].err.Error()
		}
		errs = append(errs, refuse(to, ErrUnexpectedRole, "%s is %s (%s): it cannot take over", to.gw.Name, raw, strings.Join(st.Problems, "; ")))
	}
	for _, name := range accept {
		if st, ok := snap.Member(name); ok && name != to.gw.Name && (st.Role != upgrade.RoleStandby || !st.Healthy) && !st.Forwarding() {
			errs = append(errs, refuse(c.Member(name), ErrUnexpectedRole, "%s is %s: every member that may take over must be STANDBY and healthy", name, st.Raw))
		}
	}
	if from == nil {
		errs = append(errs, refuse(to, ErrPeerNotForwarding, "no member is ACTIVE and forwarding: nothing to hand over"))
	}
	if len(snap.Problems) > 0 {
		errs = append(errs, refuse(to, ErrPeerNotForwarding, "the cluster reports: %s", strings.Join(snap.Problems, "; ")))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.log.Info("checkpoint: failover: clusterXL_admin down on the ACTIVE member", "from", from.gw.Name, "to", to.gw.Name)
	_, err := from.expertChangeLocked(ctx, "failover", "clusterXL_admin down", true)
	return err
}

// adminUp runs `clusterXL_admin up` (Expert, VS0) on m.
func (c *Cluster) adminUp(ctx context.Context, m *ClusterMember) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.expertChangeLocked(ctx, "admin up", "clusterXL_admin up", true)
	return err
}
