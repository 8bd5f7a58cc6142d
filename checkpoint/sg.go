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

// Security-group conditions (sentinels; the typed errors below wrap them).
var (
	// ErrSGMDown: an SGM that must be up is not (DOWN, rebooting, not
	// listed by `asg stat -v`).
	ErrSGMDown = errors.New("checkpoint: SGM not up")
	// ErrSiteNotForwarding: a step would leave a site (or the whole
	// security group) without a forwarding SGM, or disrupt every
	// orchestrator at once.
	ErrSiteNotForwarding = errors.New("checkpoint: no SGM would forward on a site")
	// ErrOrchestrator: an orchestrator does not fit the upgrade (model,
	// version, unreachable).
	ErrOrchestrator = errors.New("checkpoint: orchestrator does not fit the upgrade")
	// ErrVerifierFailed: the pre-upgrade verifier (`migrate_server
	// verify`) reported errors.
	ErrVerifierFailed = errors.New("checkpoint: pre-upgrade verifier failed")
	// ErrManagementVersion: the management server runs a release below
	// the target (it cannot manage a security group of a newer release).
	ErrManagementVersion = errors.New("checkpoint: management server below the target release")
)

// Rules of the security-group procedure (RuleError.Rule), after the Maestro
// Administration Guide and the R82 Installation and Upgrade Guide,
// "Upgrading a Security Group in Multi-Version Cluster (MVC) mode"
// (UNVERIFIED: the body of that section is not public; the rules combine
// its prerequisites, the R82 Scalable Platforms hotfix procedure and
// sk107042).
const (
	// RuleSGMsUp: every SGM is UP and in the same state before the
	// upgrade.
	RuleSGMsUp = "sgms-up"
	// RuleSameRelease: every SGM runs the same release and take before the
	// upgrade.
	RuleSameRelease = "sgms-same-release"
	// RuleManagementVersion: management runs the target or newer.
	RuleManagementVersion = "management-version"
	// RuleOrchestratorModel: the orchestrator model supports the target.
	RuleOrchestratorModel = "orchestrator-model"
	// RuleVerifier: `migrate_server verify` passes.
	RuleVerifier = "pre-upgrade-verifier"
	// RuleLACP: no LACP (802.3ad) uplink bond (defect PMTR-88191).
	RuleLACP = "no-lacp-uplink-bond"
	// RuleSplit: sub-groups A and B each keep every site forwarding.
	RuleSplit = "sub-group-split"
	// RuleWindow: the mixed-version window (72 h) and the rollback window
	// (4 h).
	RuleWindow = "mixed-version-window"
)

// SecurityGroup is a Check Point Maestro security group as an
// upgrade.Cluster: its members are the orchestrators (member IDs =
// Orchestrators[i].Name, e.g. "mho1") and the SGMs (IDs "<site>_<n>", e.g.
// "1_1", "2_4", as `asg stat -v` lists them when New runs). It also
// implements upgrade.DisruptionChecker and upgrade.TopologyChecker: a step
// may not disrupt every orchestrator at once, nor leave a site without a
// forwarding SGM.
//
// Member states (Observe):
//   - an orchestrator is upgrade.RoleActive and healthy when its session
//     answers and `fw ver` reads; upgrade.RoleDown when it cannot be
//     reached (rebooting);
//   - an SGM is RoleActive and healthy when `asg stat -v` shows it UP and
//     "Enforcing Security" (it forwards), RoleStandby (healthy) when "DOWN
//     (admin)" (g_clusterXL_admin down: it would forward if brought up),
//     RoleReady when DOWN and "Ready" (a newer release waiting for MVC and
//     a policy), RoleDown otherwise (rebooting, Inactive, not listed).
//     Its Version is its release from `g_all fw ver` ("" while it does not
//     answer).
//
// It holds one SSH session per orchestrator and one to the security
// group's management address; it is safe for concurrent use. Close it
// when done.
type SecurityGroup struct {
	cfg  SecurityGroupConfig
	log  *slog.Logger
	sess *Cluster // internal sessions: orchestrators, then the security group
	mhos []*Orchestrator
	sgms []*SGM

	obsMu sync.Mutex
	obs   []sgObserved // newest last
}

var (
	_ upgrade.Cluster           = (*SecurityGroup)(nil)
	_ upgrade.DisruptionChecker = (*SecurityGroup)(nil)
	_ upgrade.TopologyChecker   = (*SecurityGroup)(nil)
)

// sgObserved keeps what one Observe read beyond the snapshot.
type sgObserved struct {
	at  time.Time
	asg ASGStat
	mvc map[string]bool // SGM ID -> MVC on, for the SGMs that answered
}

// Orchestrator is one Maestro orchestrator (MHO) of a SecurityGroup; it
// implements upgrade.Member (Install stages the orchestrator package and
// runs `installer upgrade`).
type Orchestrator struct {
	g *SecurityGroup
	s *ClusterMember
}

// SGM is one Security Group Module of a SecurityGroup; it implements
// upgrade.Member (Install upgrades this one SGM with `installer upgrade
// <package> member_ids <id>`, after staging on the security group).
type SGM struct {
	g      *SecurityGroup
	id     string
	site   int
	number int
}

// NewSecurityGroup validates cfg, opens the SSH sessions (the security
// group's address and every orchestrator; an orchestrator that does not
// answer is reported down until it does) and reads `asg stat -v` once to
// learn the SGMs. Nothing changes on any device. Errors: the joined
// *ConfigError values of cfg.Validate; a *MemberError (Member = cfg.Name)
// when the security group cannot be reached or its `asg stat -v` cannot
// be read (a *ParseError) or is truncated; *driver.AuthError and
// *driver.HostKeyError from any session.
func NewSecurityGroup(ctx context.Context, cfg SecurityGroupConfig) (*SecurityGroup, error) {
	return newSecurityGroup(ctx, cfg, driverTransport())
}

func newSecurityGroup(ctx context.Context, cfg SecurityGroupConfig, tr transport) (*SecurityGroup, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.GatewayObject == "" {
		cfg.GatewayObject = cfg.Name
	}
	if cfg.OrchestratorModels == nil {
		cfg.OrchestratorModels = DefaultOrchestratorModels()
	}
	sc := cfg.sessionConfig()
	// The sessions are not VSX gateway sessions: orchestrators have no
	// Virtual Systems, and the security group's commands run in its
	// default context (VS0).
	sc.VSX, sc.VirtualSystems = false, nil
	sess, err := newSessions(ctx, sc, tr)
	if err != nil {
		return nil, err
	}
	g := &SecurityGroup{cfg: cfg, log: sess.log, sess: sess}
	for _, m := range sess.members[:len(cfg.Orchestrators)] {
		g.mhos = append(g.mhos, &Orchestrator{g: g, s: m})
	}
	asg, err := g.readASG(ctx)
	if err == nil && asg.Truncated {
		err = g.sgErr("asg stat -v", cond(ErrUnreadable, "the SGM listing is truncated (\"...\"): the SGMs cannot be known"))
	}
	if err != nil {
		_ = sess.Close()
		return nil, err
	}
	for _, s := range asg.SGMs {
		g.sgms = append(g.sgms, &SGM{g: g, id: s.ID, site: s.Site, number: s.Number})
	}
	slices.SortFunc(g.sgms, func(a, b *SGM) int {
		if a.site != b.site {
			return a.site - b.site
		}
		return a.number - b.number
	})
	g.log.Info("checkpoint: security group connected", "sgms", len(g.sgms), "orchestrators", len(g.mhos))
	return g, nil
}

// newSessions opens the sessions of cfg's members like New, without the
// cluster checks: a member that does not answer is redialled later, but
// the last member (the security group's address) must answer.
func newSessions(ctx context.Context, cfg Config, tr transport) (*Cluster, error) {
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
	c := &Cluster{cfg: cfg, log: log.With("security_group", cfg.Name), tr: tr}
	if c.mgmt, err = NewMgmtClient(withLogger(cfg.Mgmt, cfg.Logger)); err != nil {
		return nil, err
	}
	for i, gw := range cfg.Members {
		dc := cfg.driverConfig(i)
		dc.Platform = plat
		c.members = append(c.members, &ClusterMember{c: c, gw: gw, idx: i, dcfg: &dc, host: gw.addr()})
	}
	errs := make([]error, len(c.members))
	var wg sync.WaitGroup
	for i, m := range c.members {
		wg.Go(func() {
			s, err := tr.open(ctx, *m.dcfg)
			if err != nil {
				errs[i] = &MemberError{Member: m.gw.Name, Host: m.host, Op: "connect", Err: err}
				return
			}
			m.sess = s
		})
	}
	wg.Wait()
	last := len(c.members) - 1
	var fatal []error
	for i, e := range errs {
		if e == nil {
			continue
		}
		var me *MemberError
		if i == last || ctx.Err() != nil || errors.As(e, &me) && fatalOpen(me.Err) {
			fatal = append(fatal, e)
			continue
		}
		c.members[i].noteAway()
		c.log.Warn("checkpoint: orchestrator unreachable; continuing without it (it is reported down until it answers)", "orchestrator", c.members[i].gw.Name, "error", e)
	}
	if len(fatal) > 0 {
		_ = c.Close()
		return nil, errors.Join(fatal...)
	}
	return c, nil
}

// withLogger returns mc with Logger set to l when it has none.
func withLogger(mc MgmtConfig, l *slog.Logger) MgmtConfig {
	if mc.Logger == nil {
		mc.Logger = l
	}
	return mc
}

// sg returns the security group's session.
func (g *SecurityGroup) sg() *ClusterMember { return g.sess.members[len(g.sess.members)-1] }

// sgErr wraps err as a *MemberError of the security group.
func (g *SecurityGroup) sgErr(op string, err error) error {
	var me *MemberError
	if errors.As(err, &me) {
		return err
	}
	s := g.sg()
	return &MemberError{Member: g.cfg.Name, Host: s.host, Op: op, Err: err}
}

// readASG reads and parses `asg stat -v` on the security group.
func (g *SecurityGroup) readASG(ctx context.Context) (ASGStat, error) {
	out, err := g.sg().expert(ctx, "asg stat -v", "asg stat -v", false)
	if err != nil {
		return ASGStat{}, err
	}
	a, err := ParseASGStat(out)
	if err != nil {
		return ASGStat{}, g.sgErr("asg stat -v", err)
	}
	return a, nil
}

// gAll runs `g_all [-b ids] cmd` (read-only) and returns the output per
// SGM ID.
func (g *SecurityGroup) gAll(ctx context.Context, ids []string, cmd string) (map[string]string, error) {
	full := "g_all " + cmd
	if len(ids) > 0 {
		full = "g_all -b " + JoinSGMIDs(ids) + " " + cmd
	}
	out, err := g.sg().expert(ctx, "g_all "+cmd, full, false)
	if err != nil {
		return nil, err
	}
	blocks, err := ParseGAll(out)
	if err != nil {
		return nil, g.sgErr("g_all "+cmd, err)
	}
	res := map[string]string{}
	for _, b := range blocks {
		for _, id := range b.SGMs {
			res[id] = b.Output
		}
	}
	return res, nil
}

// change runs a state-changing Expert command on the security group (exit
// status checked, never sent twice).
func (g *SecurityGroup) change(ctx context.Context, op, cmd string) (string, error) {
	s := g.sg()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expertChangeLocked(ctx, op, cmd, false)
}

// clish runs a Clish (gClish) command on the security group.
func (g *SecurityGroup) clish(ctx context.Context, op, cmd string, readOnly bool) (string, error) {
	s := g.sg()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clishLocked(ctx, op, cmd, readOnly)
}

// Name implements upgrade.Cluster.
func (g *SecurityGroup) Name() string { return g.cfg.Name }

// Config returns the configuration (with defaults applied).
func (g *SecurityGroup) Config() SecurityGroupConfig { return g.cfg }

// Mgmt returns the management API client.
func (g *SecurityGroup) Mgmt() *MgmtClient { return g.sess.mgmt }

// String describes the security group without secrets.
func (g *SecurityGroup) String() string { return g.cfg.String() }

// Members implements upgrade.Cluster: the orchestrators, then the SGMs
// sorted by site and number.
func (g *SecurityGroup) Members() []upgrade.Member {
	ms := make([]upgrade.Member, 0, len(g.mhos)+len(g.sgms))
	for _, o := range g.mhos {
		ms = append(ms, o)
	}
	for _, s := range g.sgms {
		ms = append(ms, s)
	}
	return ms
}

// SGMIDs returns the SGM IDs, sorted by site and number.
func (g *SecurityGroup) SGMIDs() []string {
	ids := make([]string, len(g.sgms))
	for i, s := range g.sgms {
		ids[i] = s.id
	}
	return ids
}

// OrchestratorNames returns the orchestrators' names, in Config order.
func (g *SecurityGroup) OrchestratorNames() []string {
	n := make([]string, len(g.mhos))
	for i, o := range g.mhos {
		n[i] = o.ID()
	}
	return n
}

// Sites returns the SGM IDs per site number.
func (g *SecurityGroup) Sites() map[int][]string {
	m := map[int][]string{}
	for _, s := range g.sgms {
		m[s.site] = append(m[s.site], s.id)
	}
	return m
}

func (g *SecurityGroup) isSGM(id string) bool {
	return slices.ContainsFunc(g.sgms, func(s *SGM) bool { return s.id == id })
}

func (g *SecurityGroup) siteOf(id string) int {
	for _, s := range g.sgms {
		if s.id == id {
			return s.site
		}
	}
	return 0
}

// Close closes every session and logs out of management.
func (g *SecurityGroup) Close() error { return g.sess.Close() }

// Failover implements upgrade.Cluster. A security group has no single
// active member to move: traffic moves between sub-groups with
// g_clusterXL_admin, which the plan's steps do. It returns an error
// matching ErrUnexpectedRole and sends nothing.
func (g *SecurityGroup) Failover(ctx context.Context, to string) error {
	return &MemberError{Member: to, Op: "failover", Err: cond(ErrUnexpectedRole, "a security group moves traffic between sub-groups (g_clusterXL_admin), not to one member")}
}

// Observe implements upgrade.Cluster: it reads every orchestrator (`fw
// ver`) and, on the security group, `asg stat -v`, `g_all fw ver` and
// `g_all cphaprob mvc`, and returns one MemberState per member (see
// SecurityGroup). It returns an error when the security group cannot be
// read at all (a *MemberError naming it: its SGMs' states are unknown,
// not down) or ctx ends; an orchestrator that cannot be read is
// RoleDown. Snapshot.Problems holds security-group problems: a truncated
// listing, SGMs listed that New did not see.
func (g *SecurityGroup) Observe(ctx context.Context) (upgrade.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return upgrade.Snapshot{}, err
	}
	at := time.Now()
	snap := upgrade.Snapshot{Cluster: g.cfg.Name, At: at}
	mstates := make([]upgrade.MemberState, len(g.mhos))
	var wg sync.WaitGroup
	for i, o := range g.mhos {
		wg.Go(func() { mstates[i] = o.read(ctx) })
	}
	var (
		asg      ASGStat
		versions map[string]string
		mvcs     map[string]string
		sgErr    error
	)
	wg.Go(func() {
		if asg, sgErr = g.readASG(ctx); sgErr != nil {
			return
		}
		if versions, sgErr = g.gAll(ctx, nil, "fw ver"); sgErr != nil {
			return
		}
		mvcs, sgErr = g.gAll(ctx, nil, "cphaprob mvc")
	})
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return upgrade.Snapshot{}, err
	}
	if sgErr != nil {
		return upgrade.Snapshot{}, sgErr
	}
	snap.Members = append(snap.Members, mstates...)
	if asg.Truncated {
		snap.Problems = append(snap.Problems, cond(ErrUnreadable, "asg stat -v: the SGM listing is truncated").Error())
	}
	for _, s := range asg.SGMs {
		if !g.isSGM(s.ID) {
			snap.Problems = append(snap.Problems, cond(ErrUnknownMember, "asg stat -v lists SGM %s, which was not in the security group when it was opened", s.ID).Error())
		}
	}
	mvc := map[string]bool{}
	for id, out := range mvcs {
		if m, err := ParseMVC(out); err == nil {
			mvc[id] = m.Enabled
		}
	}
	for _, s := range g.sgms {
		snap.Members = append(snap.Members, s.judge(asg, versions[s.id]))
	}
	g.obsMu.Lock()
	g.obs = append(g.obs, sgObserved{at: at, asg: asg, mvc: mvc})
	if len(g.obs) > 8 {
		g.obs = slices.Delete(g.obs, 0, len(g.obs)-8)
	}
	g.obsMu.Unlock()
	return snap, nil
}

// observedAt returns what the Observe that took the snapshot at at read.
func (g *SecurityGroup) observedAt(at time.Time) (sgObserved, bool) {
	g.obsMu.Lock()
	defer g.obsMu.Unlock()
	for i := len(g.obs) - 1; i >= 0; i-- {
		if g.obs[i].at.Equal(at) {
			return g.obs[i], true
		}
	}
	return sgObserved{}, false
}

// judge is the SGM's MemberState from `asg stat -v` and its `fw ver`.
func (s *SGM) judge(asg ASGStat, fwver string) upgrade.MemberState {
	st := upgrade.MemberState{ID: s.id}
	if fwver != "" {
		if v, err := ParseVersion(fwver); err == nil {
			st.Version = v.Release
		} else {
			st.Problems = append(st.Problems, cond(ErrUnreadable, "fw ver: %v", err).Error())
		}
	}
	row, ok := asg.SGM(s.id)
	if !ok {
		st.Role = upgrade.RoleDown
		st.Problems = append(st.Problems, cond(ErrSGMDown, "SGM %s is not listed by asg stat -v", s.id).Error())
		return st
	}
	st.Raw = strings.TrimSpace(row.State + " " + row.Process)
	switch {
	case row.Forwarding():
		st.Role, st.Healthy = upgrade.RoleActive, st.Version != ""
		if st.Version == "" {
			st.Problems = append(st.Problems, cond(ErrUnreadable, "SGM %s did not answer g_all fw ver", s.id).Error())
		}
	case row.State == "DOWN" && row.Admin:
		st.Role, st.Healthy = upgrade.RoleStandby, st.Version != ""
		st.Problems = append(st.Problems, cond(ErrAdminDown, "SGM %s is DOWN (admin)", s.id).Error())
	case row.State == "DOWN" && row.Process == "Ready":
		st.Role, st.Healthy = upgrade.RoleReady, st.Version != ""
	case row.State == "DOWN":
		st.Role = upgrade.RoleDown
		st.Problems = append(st.Problems, cond(ErrSGMDown, "SGM %s is DOWN (%s)", s.id, row.Process).Error())
	default:
		st.Role = upgrade.RoleUnknown
		st.Problems = append(st.Problems, cond(ErrUnknownState, "SGM %s is %s", s.id, st.Raw).Error())
	}
	return st
}

// read is the orchestrator's MemberState.
func (o *Orchestrator) read(ctx context.Context) upgrade.MemberState {
	st := upgrade.MemberState{ID: o.ID()}
	v, err := o.version(ctx)
	if err != nil {
		st.Role = upgrade.RoleDown
		st.Problems = append(st.Problems, cond(ErrUnreachable, "orchestrator %s: %v", o.ID(), err).Error())
		return st
	}
	st.Role, st.Healthy, st.Version, st.Raw = upgrade.RoleActive, true, v.Release, "answering"
	return st
}

// version reads `fw ver` on the orchestrator.
func (o *Orchestrator) version(ctx context.Context) (Version, error) {
	out, err := o.s.expert(ctx, "fw ver", "fw ver", false)
	if err != nil {
		return Version{}, err
	}
	v, err := ParseVersion(out)
	if err != nil {
		return Version{}, &MemberError{Member: o.ID(), Host: o.s.host, Op: "fw ver", Err: err}
	}
	return v, nil
}

// ID implements upgrade.Member: the orchestrator's name.
func (o *Orchestrator) ID() string { return o.s.gw.Name }

// String describes the orchestrator by name and address.
func (o *Orchestrator) String() string {
	return fmt.Sprintf("checkpoint.Orchestrator{Name:%q Host:%q}", o.ID(), o.s.host)
}

// Status implements upgrade.Member.
func (o *Orchestrator) Status(ctx context.Context) (upgrade.MemberState, error) {
	st := o.read(ctx)
	if st.Role == upgrade.RoleDown {
		return st, &MemberError{Member: o.ID(), Host: o.s.host, Op: "status", Err: ErrUnreachable}
	}
	return st, nil
}

// Install implements upgrade.Member: Stage, then Upgrade.
func (o *Orchestrator) Install(ctx context.Context, target string) error {
	if err := o.Stage(ctx, target); err != nil {
		return err
	}
	return o.Upgrade(ctx, target)
}

// Stage copies SecurityGroupConfig.OrchestratorPackagePath to the
// orchestrator and imports and verifies it with CPUSE (`installer import
// local`, `installer verify`), like ClusterMember.Stage; not disruptive.
// It does nothing when the orchestrator already runs target.
func (o *Orchestrator) Stage(ctx context.Context, target string) error {
	on, err := o.onTarget(ctx, target)
	if err != nil || on {
		return err
	}
	return o.s.stagePackage(ctx, o.g.cfg.OrchestratorPackagePath)
}

// onTarget reads whether the orchestrator runs target.
func (o *Orchestrator) onTarget(ctx context.Context, target string) (bool, error) {
	v, err := o.version(ctx)
	if err != nil {
		return false, err
	}
	return sameRelease(v.Release, target), nil
}

// Upgrade runs `installer upgrade <package> not-interactive` on the
// orchestrator (it reboots into target), after checking on the devices
// right before that every other orchestrator answers and that some SGM
// forwards on every site (else a *MemberError wrapping
// ErrSiteNotForwarding or ErrOrchestrator; nothing sent). A dropped
// session (the reboot) is success. It does nothing when the orchestrator
// already runs target.
func (o *Orchestrator) Upgrade(ctx context.Context, target string) error {
	fail := func(err error) error {
		return &MemberError{Member: o.ID(), Host: o.s.host, Op: "installer upgrade", Err: err}
	}
	if on, err := o.onTarget(ctx, target); err != nil || on {
		return err
	}
	for _, p := range o.g.mhos {
		if p == o {
			continue
		}
		if _, err := p.version(ctx); err != nil {
			return fail(cond(ErrOrchestrator, "the other orchestrator %s does not answer (%v): upgrading %s now would leave no orchestrator", p.ID(), err, o.ID()))
		}
	}
	if asg, err := o.g.readASG(ctx); err != nil {
		return fail(err)
	} else if err := o.g.sitesForwarding(asg, nil); err != nil {
		return fail(err)
	}
	cmd := "installer upgrade " + baseName(o.g.cfg.OrchestratorPackagePath) + " not-interactive"
	o.g.log.Info("checkpoint: upgrading orchestrator", "orchestrator", o.ID(), "command", cmd)
	o.s.mu.Lock()
	_, err := o.s.clishLocked(ctx, "installer upgrade", cmd, false)
	o.s.mu.Unlock()
	switch {
	case err == nil, errors.Is(err, driver.ErrDropped):
		return nil
	case errors.Is(err, driver.ErrAborted) && ctx.Err() == nil:
		return nil
	}
	return err
}

// ID implements upgrade.Member: the SGM ID, e.g. "1_1".
func (s *SGM) ID() string { return s.id }

// Site is the SGM's site (chassis) number.
func (s *SGM) Site() int { return s.site }

// String describes the SGM.
func (s *SGM) String() string {
	return fmt.Sprintf("checkpoint.SGM{ID:%q Group:%q}", s.id, s.g.cfg.Name)
}

// Status implements upgrade.Member: the SGM's state as Observe reads it.
func (s *SGM) Status(ctx context.Context) (upgrade.MemberState, error) {
	asg, err := s.g.readASG(ctx)
	if err != nil {
		return upgrade.MemberState{ID: s.id, Role: upgrade.RoleUnknown}, err
	}
	vs, err := s.g.gAll(ctx, []string{s.id}, "fw ver")
	if err != nil {
		return upgrade.MemberState{ID: s.id, Role: upgrade.RoleUnknown}, err
	}
	return s.judge(asg, vs[s.id]), nil
}

// Install implements upgrade.Member: it upgrades this one SGM: StageSGMs,
// SetAdmin down (refused when its site would keep no forwarding SGM),
// then UpgradeSGMs. The SGM comes back Ready on the target (a newer
// release waits for MVC and a policy before it forwards again); it does
// nothing when the SGM already runs target.
func (s *SGM) Install(ctx context.Context, target string) error {
	rel, err := s.g.releases(ctx, false)
	if err != nil {
		return err
	}
	if sameRelease(rel[s.id], target) {
		return nil
	}
	if err := s.g.StageSGMs(ctx, target); err != nil {
		return err
	}
	if err := s.g.SetAdmin(ctx, []string{s.id}, true); err != nil {
		return err
	}
	return s.g.UpgradeSGMs(ctx, target, []string{s.id})
}

// sitesForwarding reports (ErrSiteNotForwarding) a site on which no SGM
// outside without forwards in asg.
func (g *SecurityGroup) sitesForwarding(asg ASGStat, without []string) error {
	fwd := map[int]int{}
	for _, s := range asg.SGMs {
		if s.Forwarding() && !slices.Contains(without, s.ID) {
			fwd[s.Site]++
		}
	}
	var bad []string
	for site := range g.Sites() {
		if fwd[site] == 0 {
			bad = append(bad, fmt.Sprint(site))
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return &RuleError{Rule: RuleSplit, Err: cond(ErrSiteNotForwarding, "no SGM would forward on site %s", strings.Join(bad, ", "))}
	}
	return nil
}

// CheckTopology implements upgrade.TopologyChecker: members may not
// include every orchestrator, nor every SGM of a site.
func (g *SecurityGroup) CheckTopology(members []string) error {
	var errs []error
	if len(g.mhos) > 0 && !slices.ContainsFunc(g.mhos, func(o *Orchestrator) bool { return !slices.Contains(members, o.ID()) }) {
		errs = append(errs, &RuleError{Rule: RuleSplit, Err: cond(ErrSiteNotForwarding, "the step would disrupt every orchestrator (%s)", strings.Join(g.OrchestratorNames(), ", "))})
	}
	for site, ids := range g.Sites() {
		if !slices.ContainsFunc(ids, func(id string) bool { return !slices.Contains(members, id) }) {
			errs = append(errs, &RuleError{Rule: RuleSplit, Err: cond(ErrSiteNotForwarding, "the step would disrupt every SGM of site %d (%s)", site, strings.Join(ids, ", "))})
		}
	}
	return errors.Join(errs...)
}

// CheckDisruption implements upgrade.DisruptionChecker: besides
// CheckTopology, an orchestrator that is not disrupted must forward in s,
// and so must an SGM of every site that is not disrupted.
func (g *SecurityGroup) CheckDisruption(s upgrade.Snapshot, members []string) error {
	if err := g.CheckTopology(members); err != nil {
		return err
	}
	var errs []error
	if len(g.mhos) > 0 && !slices.ContainsFunc(g.mhos, func(o *Orchestrator) bool {
		st, ok := s.Member(o.ID())
		return ok && st.Forwarding() && !slices.Contains(members, o.ID())
	}) {
		errs = append(errs, &RuleError{Rule: RuleSplit, Err: cond(ErrSiteNotForwarding, "no orchestrator outside %s is up", strings.Join(members, ", "))})
	}
	sites := g.Sites()
	keys := make([]int, 0, len(sites))
	for k := range sites {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, site := range keys {
		if !slices.ContainsFunc(sites[site], func(id string) bool {
			st, ok := s.Member(id)
			return ok && st.Forwarding() && !slices.Contains(members, id)
		}) {
			errs = append(errs, &RuleError{Rule: RuleSplit, Err: cond(ErrSiteNotForwarding, "no SGM of site %d outside %s forwards", site, strings.Join(members, ", "))})
		}
	}
	return errors.Join(errs...)
}

// checkTarget parses a release for the security group's commands.
func checkTarget(target string) (versionpath.Version, error) {
	return versionpath.CheckPoint{}.Parse(target)
}
