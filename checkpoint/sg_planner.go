package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// Time rules of the security-group procedure.
const (
	// MixedVersionWindow is how long SGMs may run different releases:
	// every SGM must be on one release within 72 hours of the first SGM's
	// upgrade (R82 Installation and Upgrade Guide, "Upgrading a Security
	// Group in MVC mode"; UNVERIFIED, project seed).
	MixedVersionWindow = 72 * time.Hour
	// RollbackWindow is how long after their upgrade SGMs may be reverted
	// with `sp_upgrade --revert` (project seed; UNVERIFIED).
	RollbackWindow = 4 * time.Hour
	// DefaultWindowWarning is how long before the mixed-version window
	// closes a step logs a warning.
	DefaultWindowWarning = 12 * time.Hour
)

// SGDurations are the expected durations the window rule plans with.
// Zero fields take the defaults (UNVERIFIED estimates: measure a lab
// security group and set them).
type SGDurations struct {
	// SubGroup is one sub-group's upgrade: `installer upgrade`, the
	// reboot, the SGMs back (default 90 minutes).
	SubGroup time.Duration
	// Policy is one policy installation and the SGMs joining (default 20
	// minutes).
	Policy time.Duration
}

func (d SGDurations) withDefaults() SGDurations {
	if d.SubGroup == 0 {
		d.SubGroup = 90 * time.Minute
	}
	if d.Policy == 0 {
		d.Policy = 20 * time.Minute
	}
	return d
}

// SecurityGroupPlanner encodes the zero-downtime upgrade of a Maestro
// security group in two sub-groups with the Multi-Version Cluster (MVC)
// mechanism, as an upgrade.Planner (Maestro Administration Guide R81.20
// and R82; R82 Installation and Upgrade Guide, "Upgrading a Security Group
// in MVC mode", whose body is not public: UNVERIFIED; R82 Scalable
// Platforms Administration Guide, "Installing a Hotfix with connections
// kept": split into A and B, fail A over to B and install on A, then B).
//
// For orchestrators mho1, mho2, SGMs 1_1..1_4 and 2_1..2_4, the default
// split (A = the first half of every site: 1_1,1_2,2_1,2_2) and target
// R82 the steps are:
//
//  1. precheck@R82 — every problem at once, nothing changed: management
//     runs R82 or newer (get-platform of MgmtServerObject); orchestrator
//     models (OrchestratorModels); every SGM UP Enforcing Security on one
//     release; the Jumbo take minimums on every SGM (R81.20 >= 92, R81.10
//     >= 172); the multi-stage path (R80.20SP/R80.30SP via R81.20); no
//     LACP uplink bond (*LACPError, PMTR-88191) unless MinimumDowntime;
//     the pre-upgrade verifier (`migrate_server verify`), whose report
//     becomes the step's note (kept in the report for change approval);
//  2. autoclone-off@R82 — SMO image auto-clone off for the run (its prior
//     state recorded in Tasks);
//  3. per orchestrator: stage:mho1@R82 (SCP, `installer import`,
//     `installer verify`), upgrade:mho1@R82 (`installer upgrade`; the
//     other orchestrator must answer), wait:mho1@R82 (back on R82, the
//     other still up); then mho2;
//  4. stage:sg@R82 — the SGM package imported and verified on the group;
//  5. VSX only: vsx-object@R82 — vsx-run-operation upgrade;
//  6. admin-down:A@R82 — `g_clusterXL_admin -b 1_1,1_2,2_1,2_2 down`: B
//     carries the traffic;
//  7. upgrade:A@R82 — `installer upgrade <pkg> member_ids ... not-interactive`
//     after the on-device re-check; the 72-hour window opens here;
//  8. wait:A@R82 — A back on R82 (Ready), B forwarding on every site;
//  9. mvc-on:A@R82 — `g_all -b A cphaconf mvc on`, read back;
//  10. policy:mvc@R82 — Access on the security group object;
//  11. validate:A@R82 — A UP Enforcing Security on R82 with MVC on, B
//     forwarding;
//  12. admin-down:B@R82 — traffic moves to A; 13. upgrade:B@R82;
//  14. wait:B@R82 — B back on R82;
//  15. mvc-off@R82 — `g_all cphaconf mvc off` on every SGM, read back;
//  16. policy:final@R82 — Access and Threat Prevention: must fully succeed;
//     VSX: policy:vs:<name>@R82 per Virtual System;
//  17. admin-up@R82 — `g_clusterXL_admin -b <ids> up` for any SGM still
//     administratively DOWN; 18. autoclone-restore@R82; 19. postcheck@R82.
//
// Every disruptive step from upgrade:A on checks the window right before
// it runs: it is refused with a *WindowError when what it starts (from
// Durations) cannot finish before 72 h after the start of upgrade:A (read
// from Journal, so a resumed run keeps the window), and logs a warning
// within WindowWarning of the deadline.
//
// With MinimumDowntime (the documented alternative when LACP bonds block
// MVC) steps 9-12 are left out, and upgrade:B and policy:final declare
// downtime (upgrade.DowntimeDeclarer): sub-group B is upgraded while it
// forwards, and nothing forwards from then until the policy is installed
// on the upgraded group.
//
// Plan is deterministic and does no device I/O: the full list is returned
// until the end state holds (then an empty plan); finished steps are
// skipped by the executor's journal, interrupted ones verify themselves
// on the devices. Every plan carries its end state (Converged): every
// orchestrator and SGM on the target, every SGM UP Enforcing Security
// with MVC off, no SGM administratively DOWN.
type SecurityGroupPlanner struct {
	// Group is the security group; required.
	Group *SecurityGroup
	// GateTiming is the timing of the waits (zero: DefaultGateTiming).
	GateTiming upgrade.Timing
	// SubGroupA is the user's sub-group A (SGM IDs); nil: the first half
	// (rounded down, at least one) of every site's SGMs in ID order. Sub-
	// group B is every other SGM. Each sub-group must keep an SGM on every
	// site (*SplitError).
	SubGroupA []string
	// Tasks records management tasks (policy installs, the VSX object
	// upgrade) and the auto-clone state found before the run; required
	// (FileTaskLog next to the journal; MemoryTaskLog in tests).
	Tasks TaskLog
	// Journal is the executor's journal, read for the time upgrade:A
	// started (the window's start); nil: the window starts when the
	// step runs and is not kept across processes.
	Journal upgrade.Journal
	// MinimumDowntime selects the minimum-downtime procedure (no MVC;
	// declared downtime while the second sub-group reboots). Only for
	// security groups the MVC path refuses (LACP uplink bonds).
	MinimumDowntime bool
	// Durations are the expected durations of the phases.
	Durations SGDurations
	// WindowWarning is how long before the window closes a warning is
	// logged (zero: DefaultWindowWarning).
	WindowWarning time.Duration
	// Now is the clock (nil: time.Now); tests set it.
	Now func() time.Time
}

var _ upgrade.Planner = SecurityGroupPlanner{}

// SplitError is a sub-group split that leaves a site without a forwarding
// SGM while the other sub-group is upgraded, or names unknown SGMs. It
// matches ErrSiteNotForwarding.
type SplitError struct {
	// Group is the security group; A the sub-group A asked for.
	Group string
	A     []string
	// Site is the site left without an SGM in one sub-group (0 when the
	// problem is an unknown SGM); SubGroup "A" or "B" is the sub-group
	// without an SGM there; Unknown lists IDs that are no SGM.
	Site     int
	SubGroup string
	Unknown  []string
}

// Error names the site or the unknown SGMs.
func (e *SplitError) Error() string {
	if len(e.Unknown) > 0 {
		return fmt.Sprintf("checkpoint: security group %s: rule %s: sub-group A %s names SGMs that do not exist: %s", e.Group, RuleSplit, strings.Join(e.A, ","), strings.Join(e.Unknown, ","))
	}
	other := map[string]string{"A": "B", "B": "A"}[e.SubGroup]
	return fmt.Sprintf("checkpoint: security group %s: rule %s: sub-group %s has no SGM on site %d, so site %d would have no forwarding SGM while sub-group %s is upgraded (A = %s)",
		e.Group, RuleSplit, e.SubGroup, e.Site, e.Site, other, strings.Join(e.A, ","))
}

// Unwrap returns ErrSiteNotForwarding.
func (e *SplitError) Unwrap() error { return ErrSiteNotForwarding }

// Split returns sub-groups A and B as the planner uses them (see
// SubGroupA), or a *SplitError.
func (p SecurityGroupPlanner) Split() (a, b []string, err error) {
	g := p.Group
	if g == nil {
		return nil, nil, errors.New("checkpoint: security group planner has no Group")
	}
	sites := g.Sites()
	if p.SubGroupA == nil {
		for _, ids := range sites {
			a = append(a, ids[:max(1, len(ids)/2)]...)
		}
	} else {
		var unknown []string
		for _, raw := range p.SubGroupA {
			id, _, _, perr := ParseSGMID(raw)
			if perr != nil || !g.isSGM(id) {
				unknown = append(unknown, raw)
				continue
			}
			if !slices.Contains(a, id) {
				a = append(a, id)
			}
		}
		if len(unknown) > 0 {
			return nil, nil, &SplitError{Group: g.Name(), A: p.SubGroupA, Unknown: unknown}
		}
	}
	order := g.SGMIDs()
	slices.SortFunc(a, func(x, y string) int { return slices.Index(order, x) - slices.Index(order, y) })
	for _, id := range order {
		if !slices.Contains(a, id) {
			b = append(b, id)
		}
	}
	keys := make([]int, 0, len(sites))
	for k := range sites {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, site := range keys {
		inA := slices.ContainsFunc(sites[site], func(id string) bool { return slices.Contains(a, id) })
		inB := slices.ContainsFunc(sites[site], func(id string) bool { return !slices.Contains(a, id) })
		switch {
		case !inA:
			return nil, nil, &SplitError{Group: g.Name(), A: a, Site: site, SubGroup: "A"}
		case !inB:
			return nil, nil, &SplitError{Group: g.Name(), A: a, Site: site, SubGroup: "B"}
		}
	}
	return a, b, nil
}

// sgBuilder makes the steps of one security-group plan.
type sgBuilder struct {
	p      SecurityGroupPlanner
	g      *SecurityGroup
	target string
	timing upgrade.Timing
	a, b   []string
	dur    SGDurations
	cp     *builder // the ClusterXL builder over the internal sessions, for the management task steps
}

func (b *sgBuilder) id(kind, who string) string {
	if who == "" {
		return kind + "@" + b.target
	}
	return kind + ":" + who + "@" + b.target
}

func (b *sgBuilder) now() time.Time {
	if b.p.Now != nil {
		return b.p.Now()
	}
	return time.Now()
}

// Plan implements upgrade.Planner (see SecurityGroupPlanner). Errors: a
// *PlanError listing every problem (a *SplitError, a bad target, no
// Tasks, an invalid GateTiming, a snapshot that does not describe the
// group).
func (p SecurityGroupPlanner) Plan(s upgrade.Snapshot, target string) (upgrade.Plan, error) {
	g := p.Group
	if g == nil {
		return upgrade.Plan{}, &PlanError{Cluster: s.Cluster, Target: target, Problems: []error{errors.New("checkpoint: security group planner has no Group")}}
	}
	fail := &PlanError{Cluster: g.Name(), Target: target}
	bad := func(err error) { fail.Problems = append(fail.Problems, err) }
	tv, err := checkTarget(target)
	if err != nil {
		bad(fmt.Errorf("checkpoint: target: %w", err))
	} else if min, _ := checkTarget(minMVC); tv.Compare(min) < 0 {
		bad(&RuleError{Rule: RuleMVCRelease, Err: cond(ErrMVCUnsupported, "target %s is below %s", target, minMVC)})
	}
	if p.Tasks == nil {
		bad(errors.New("checkpoint: SecurityGroupPlanner.Tasks is required: it records the policy installations and the auto-clone state to restore"))
	}
	timing := p.GateTiming
	if timing == (upgrade.Timing{}) {
		timing = DefaultGateTiming()
	}
	if err := timing.Validate(); err != nil {
		bad(fmt.Errorf("checkpoint: planner gate: %w", err))
	}
	if err := upgrade.CheckSnapshot(g, s); err != nil {
		bad(err)
	}
	a, bb, err := p.Split()
	if err != nil {
		bad(err)
	}
	if len(fail.Problems) > 0 {
		return upgrade.Plan{}, fail
	}
	cp := &builder{c: g.sess, p: Planner{Cluster: g.sess, Tasks: p.Tasks}, target: target, tv: tv, timing: timing}
	b := &sgBuilder{p: p, g: g, target: target, timing: timing, a: a, b: bb, dur: p.Durations.withDefaults(), cp: cp}
	plan := upgrade.Plan{Cluster: g.Name(), Target: target, Converged: b.converged}
	if b.endState(s) == nil {
		// Converged; an interrupted run may still owe the auto-clone
		// restore (Observe does not read it).
		if b.restorePending() {
			plan.Steps = []upgrade.Step{b.autoCloneRestore(), b.postcheck()}
		}
		return plan, nil
	}
	plan.Steps = b.steps()
	return plan, nil
}

// steps is the full step list.
func (b *sgBuilder) steps() []upgrade.Step {
	g := b.g
	st := []upgrade.Step{b.precheck(), b.autoCloneOff()}
	for _, o := range g.mhos {
		st = append(st, b.stageMHO(o), b.upgradeMHO(o), b.waitMHO(o))
	}
	st = append(st, b.stageSG())
	if g.cfg.VSX {
		st = append(st, b.cp.vsxObject())
	}
	md := b.p.MinimumDowntime
	st = append(st, b.adminDown("A", b.a, false), b.upgradeSub("A", b.a, false), b.waitSub("A", b.a, false))
	if !md {
		st = append(st, b.mvcOn(), b.policyMVC(), b.validateA())
	}
	if !md {
		st = append(st, b.adminDown("B", b.b, false))
	}
	// Minimum downtime: B is upgraded while it forwards (sub-group A, on
	// the new release without MVC, cannot take its traffic).
	st = append(st, b.upgradeSub("B", b.b, md), b.waitSub("B", b.b, md))
	if !md {
		st = append(st, b.mvcOff())
	}
	st = append(st, b.policyFinal(md))
	if g.cfg.VSX {
		for _, vs := range g.cfg.VirtualSystems {
			st = append(st, b.cp.policyVS(vs))
		}
	}
	return append(st, b.adminUp(), b.autoCloneRestore(), b.postcheck())
}

// noteStep is an upgrade.Func with a note for the report.
type noteStep struct {
	upgrade.Func
	mu   sync.Mutex
	note string
}

func (s *noteStep) Note() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.note
}

func (s *noteStep) setNote(n string) {
	s.mu.Lock()
	s.note = n
	s.mu.Unlock()
}

func (b *sgBuilder) precheck() upgrade.Step {
	s := &noteStep{}
	s.Func = upgrade.Func{
		StepID: b.id("precheck", ""),
		Desc: fmt.Sprintf("pre-check for %s, every problem at once, nothing changed: management version, orchestrator models, every SGM UP on one release, Jumbo take minimums, multi-stage path, LACP uplink bonds (PMTR-88191), the pre-upgrade verifier (migrate_server verify; its report kept); sub-groups A = %s, B = %s",
			b.target, JoinSGMIDs(b.a), JoinSGMIDs(b.b)),
		Retryable: true,
		Do: func(ctx context.Context) error {
			rep, errs := b.g.precheck(ctx, b.target, b.p.MinimumDowntime)
			if rep.Text != "" {
				s.setNote("migrate_server verify report:\n" + rep.Text)
			}
			if len(errs) > 0 {
				return &PlanError{Cluster: b.g.Name(), Target: b.target, Problems: errs}
			}
			return nil
		},
	}
	return s
}

// autoCloneKey is the TaskLog key of the auto-clone state found before
// the run.
func (b *sgBuilder) autoCloneKey() string { return b.id("autoclone-off", "") }

func (b *sgBuilder) autoCloneOff() upgrade.Step {
	return &upgrade.Func{
		StepID:    b.id("autoclone-off", ""),
		Desc:      "disable SMO image auto-clone for the run (Maestro Administration Guide, \"SMO Image Cloning\": disable it during gradual installs); its state before is recorded and restored at the end",
		Retryable: true,
		Do: func(ctx context.Context) error {
			tl := b.p.Tasks
			if _, ok, err := tl.Get(ctx, b.autoCloneKey()); err != nil {
				return err
			} else if !ok {
				on, err := b.g.AutoClone(ctx)
				if err != nil {
					return err
				}
				if err := tl.Put(ctx, b.autoCloneKey(), TaskRecord{TaskID: "auto-clone:" + onOff(on)}); err != nil {
					return fmt.Errorf("checkpoint: record the auto-clone state: %w", err)
				}
			}
			return b.g.SetAutoClone(ctx, false)
		},
		Check: func(ctx context.Context) (bool, error) {
			if _, ok, err := b.p.Tasks.Get(ctx, b.autoCloneKey()); err != nil || !ok {
				return false, err
			}
			on, err := b.g.AutoClone(ctx)
			return !on, err
		},
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func (b *sgBuilder) autoCloneRestore() upgrade.Step {
	return &upgrade.Func{
		StepID:    b.id("autoclone-restore", ""),
		Desc:      "restore SMO image auto-clone to its state before the run",
		Retryable: true,
		Do: func(ctx context.Context) error {
			rec, ok, err := b.p.Tasks.Get(ctx, b.autoCloneKey())
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("checkpoint: no recorded auto-clone state (step %s): set it by hand", b.autoCloneKey())
			}
			if err := b.g.SetAutoClone(ctx, rec.TaskID == "auto-clone:on"); err != nil {
				return err
			}
			return b.p.Tasks.Put(ctx, b.id("autoclone-restore", ""), TaskRecord{TaskID: "auto-clone:restored", Succeeded: true})
		},
	}
}

// restorePending reports (from Tasks, a local read) that auto-clone was
// turned off for this target and not restored yet.
func (b *sgBuilder) restorePending() bool {
	ctx := context.Background()
	if _, ok, err := b.p.Tasks.Get(ctx, b.autoCloneKey()); err != nil || !ok {
		return false
	}
	_, done, err := b.p.Tasks.Get(ctx, b.id("autoclone-restore", ""))
	return err == nil && !done
}

func (b *sgBuilder) stageMHO(o *Orchestrator) upgrade.Step {
	return &upgrade.Func{
		StepID:    b.id("stage", o.ID()),
		Desc:      fmt.Sprintf("stage %s on orchestrator %s: SCP, installer import local, installer verify (not disruptive)", baseName(b.g.cfg.OrchestratorPackagePath), o.ID()),
		Retryable: true,
		Do:        func(ctx context.Context) error { return o.Stage(ctx, b.target) },
	}
}

func (b *sgBuilder) upgradeMHO(o *Orchestrator) upgrade.Step {
	return &upgrade.Func{
		StepID:  b.id("upgrade", o.ID()),
		Desc:    fmt.Sprintf("upgrade orchestrator %s: installer upgrade %s not-interactive (it reboots into %s); the other orchestrator carries the traffic", o.ID(), baseName(b.g.cfg.OrchestratorPackagePath), b.target),
		Members: []string{o.ID()},
		Do:      func(ctx context.Context) error { return o.Upgrade(ctx, b.target) },
		Check:   func(ctx context.Context) (bool, error) { return o.onTarget(ctx, b.target) },
	}
}

func (b *sgBuilder) waitMHO(o *Orchestrator) upgrade.Step {
	return &upgrade.Wait{
		StepID:  b.id("wait", o.ID()),
		Desc:    fmt.Sprintf("wait until orchestrator %s is back on %s and every orchestrator answers", o.ID(), b.target),
		Cluster: b.g,
		G: upgrade.Gate{Name: o.ID() + " back on " + b.target, Timing: b.timing, Check: func(s upgrade.Snapshot) error {
			var errs []error
			for _, m := range b.g.mhos {
				st, _ := s.Member(m.ID())
				switch {
				case !st.Forwarding():
					errs = append(errs, &MemberError{Member: m.ID(), Op: "gate", Err: cond(ErrUnreachable, "orchestrator %s is not up", m.ID())})
				case m == o && !sameRelease(st.Version, b.target):
					errs = append(errs, &MemberError{Member: m.ID(), Op: "gate", Err: cond(ErrUnexpectedVersion, "orchestrator %s runs %s, not %s", m.ID(), st.Version, b.target)})
				}
			}
			return errors.Join(errs...)
		}},
	}
}

func (b *sgBuilder) stageSG() upgrade.Step {
	return &upgrade.Func{
		StepID:    b.id("stage", "sg"),
		Desc:      fmt.Sprintf("stage %s on the security group: SCP to the SMO, installer import local, installer verify (gClish, for every SGM; not disruptive)", baseName(b.g.cfg.PackagePath)),
		Retryable: true,
		Do:        func(ctx context.Context) error { return b.g.StageSGMs(ctx, b.target) },
	}
}

// windowStart is when upgrade:A started according to the journal (zero
// when it has not).
func (b *sgBuilder) windowStart(ctx context.Context) (time.Time, error) {
	if b.p.Journal == nil {
		return time.Time{}, nil
	}
	recs, err := b.p.Journal.Load(ctx)
	if err != nil {
		return time.Time{}, err
	}
	first := b.id("upgrade", "A")
	for _, r := range recs {
		if r.Kind == upgrade.RecordStart && r.Step == first {
			return r.Time, nil
		}
	}
	return time.Time{}, nil
}

// need is the expected duration of what step starts, until every SGM is
// on the target.
func (b *sgBuilder) need(step string) time.Duration {
	d := b.dur
	switch step {
	case b.id("upgrade", "A"):
		return 2*d.SubGroup + 2*d.Policy
	default: // admin-down:B, upgrade:B
		return d.SubGroup + d.Policy
	}
}

// checkWindow refuses step with a *WindowError when what it starts cannot
// finish inside the mixed-version window, and logs a warning near its end.
func (b *sgBuilder) checkWindow(ctx context.Context, step string) error {
	start, err := b.windowStart(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint: read the journal for the mixed-version window: %w", err)
	}
	now := b.now()
	if start.IsZero() {
		start = now
	}
	deadline := start.Add(MixedVersionWindow)
	need := b.need(step)
	if now.Add(need).After(deadline) {
		return &WindowError{Rule: "mixed-version", Step: step, Start: start, Deadline: deadline, Now: now, Need: need}
	}
	warn := b.p.WindowWarning
	if warn == 0 {
		warn = DefaultWindowWarning
	}
	if left := deadline.Sub(now); left <= warn {
		b.g.log.Warn("checkpoint: the mixed-version window closes soon", "step", step, "deadline", deadline.UTC(), "left", left, "need", need)
	}
	return nil
}

func (b *sgBuilder) adminDown(sub string, ids []string, downtime bool) upgrade.Step {
	desc := fmt.Sprintf("set sub-group %s (%s) administratively DOWN: g_clusterXL_admin -b %s down (Maestro Administration Guide); ", sub, JoinSGMIDs(ids), JoinSGMIDs(ids))
	if sub == "A" {
		desc += "sub-group B carries the traffic"
	} else {
		desc += "the traffic moves to sub-group A"
	}
	if downtime {
		desc += " (MINIMUM-DOWNTIME procedure: nothing forwards until the upgraded group has its policy)"
	}
	step := b.id("admin-down", sub)
	f := &upgrade.Func{
		StepID:           step,
		Desc:             desc,
		Members:          ids,
		WholeClusterDown: downtime,
		Safe: func(upgrade.Snapshot) error {
			if sub == "B" {
				return b.checkWindow(context.Background(), step)
			}
			return nil
		},
		Do: func(ctx context.Context) error {
			if sub == "B" {
				if err := b.checkWindow(ctx, step); err != nil {
					return err
				}
			}
			if downtime {
				_, err := b.g.change(ctx, "g_clusterXL_admin", "g_clusterXL_admin -b "+JoinSGMIDs(ids)+" down")
				return err
			}
			return b.g.SetAdmin(ctx, ids, true)
		},
		Check: func(ctx context.Context) (bool, error) {
			asg, err := b.g.readASG(ctx)
			if err != nil {
				return false, err
			}
			rel, err := b.g.releases(ctx, false)
			if err != nil {
				return false, err
			}
			for _, id := range ids {
				row, ok := asg.SGM(id)
				if !ok || !(row.Admin || sameRelease(rel[id], b.target) && !row.Forwarding()) {
					return false, nil
				}
			}
			return true, nil
		},
	}
	return f
}

func (b *sgBuilder) upgradeSub(sub string, ids []string, downtime bool) upgrade.Step {
	step := b.id("upgrade", sub)
	return &upgrade.Func{
		StepID: step,
		Desc: fmt.Sprintf("upgrade sub-group %s (%s): installer upgrade %s member_ids %s not-interactive (they reboot into %s), after the on-device re-check and the 72-hour window check",
			sub, JoinSGMIDs(ids), baseName(b.g.cfg.PackagePath), JoinSGMIDs(ids), b.target),
		Members:          ids,
		WholeClusterDown: downtime,
		Safe:             func(upgrade.Snapshot) error { return b.checkWindow(context.Background(), step) },
		Do: func(ctx context.Context) error {
			if err := b.checkWindow(ctx, step); err != nil {
				return err
			}
			if downtime {
				return b.g.upgradeAll(ctx, b.target, ids)
			}
			return b.g.UpgradeSGMs(ctx, b.target, ids)
		},
		Check: func(ctx context.Context) (bool, error) { return b.g.applied(ctx, ids, b.target) },
	}
}

// applied is the Verify of an interrupted upgrade (or revert) of ids to
// release: done when all of them run release, or when one of them does
// not answer (the command was sent and they reboot: the wait after the
// step judges what they come back on). When every SGM still answers on another release, the command may
// have been sent just before the process died: it polls for
// SecurityGroupConfig.ApplyGrace for one of them to go away before
// concluding that it was not (the step then runs, and sends the command
// to the SGMs that still answer).
func (g *SecurityGroup) applied(ctx context.Context, ids []string, release string) (bool, error) {
	timing := upgrade.Timing{Interval: max(g.sess.cfg.ApplyGrace/20, 10*time.Millisecond), Deadline: g.sess.cfg.ApplyGrace}
	done := false
	err := upgrade.PollUntil(ctx, "interrupted command on "+JoinSGMIDs(ids), timing, func(ctx context.Context) error {
		rel, err := g.releases(ctx, false)
		if err != nil {
			return err
		}
		away, on := 0, 0
		for _, id := range ids {
			r, ok := rel[id]
			switch {
			case !ok:
				away++
			case sameRelease(r, release):
				on++
			}
		}
		if away > 0 || on == len(ids) {
			// One of them went away: the command was sent, and every SGM
			// it lists reboots.
			done = true
			return nil
		}
		return errors.New("every SGM still answers on its old release")
	}, nil)
	if err != nil && ctx.Err() == nil {
		return false, nil // the grace ended: the command was not sent
	}
	return done, err
}

// upgradeAll is UpgradeSGMs without the forwarding re-check (declared
// downtime: the minimum-downtime procedure's second sub-group).
func (g *SecurityGroup) upgradeAll(ctx context.Context, target string, ids []string) error {
	rel, err := g.releases(ctx, false)
	if err != nil {
		return err
	}
	var todo []string
	for _, id := range ids {
		if !sameRelease(rel[id], target) {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	_, err = g.clish(ctx, "installer upgrade", "installer upgrade "+baseName(g.cfg.PackagePath)+" member_ids "+JoinSGMIDs(todo)+" not-interactive", false)
	switch {
	case err == nil, errors.Is(err, driver.ErrDropped):
		return nil
	case errors.Is(err, driver.ErrAborted) && ctx.Err() == nil:
		return nil
	}
	return err
}

// sgmCond checks that every SGM of ids is on the target in one of roles.
func (b *sgBuilder) sgmCond(s upgrade.Snapshot, ids []string, roles ...upgrade.Role) error {
	var errs []error
	for _, id := range ids {
		st, ok := s.Member(id)
		switch {
		case !ok:
			errs = append(errs, &MemberError{Member: id, Op: "gate", Err: cond(ErrUnreadable, "missing from the snapshot")})
		case st.Version != "" && !sameRelease(st.Version, b.target) && st.Role != upgrade.RoleDown:
			errs = append(errs, &MemberError{Member: id, Op: "gate", Err: cond(ErrUnexpectedVersion, "SGM %s runs %s, not %s", id, st.Version, b.target)})
		case !sameRelease(st.Version, b.target) || !slices.Contains(roles, st.Role) || !st.Healthy:
			errs = append(errs, &MemberError{Member: id, Op: "gate", Err: cond(ErrSGMDown, "SGM %s is %s (%s) on %q", id, st.Role, st.Raw, st.Version)})
		}
	}
	return errors.Join(errs...)
}

// forwardingEverySite checks that an SGM of ids forwards on every site.
func (b *sgBuilder) forwardingEverySite(s upgrade.Snapshot, ids []string) error {
	sites := map[int]bool{}
	for _, id := range ids {
		if st, ok := s.Member(id); ok && st.Forwarding() {
			sites[b.g.siteOf(id)] = true
		}
	}
	var errs []error
	for site := range b.g.Sites() {
		if !sites[site] {
			errs = append(errs, &RuleError{Rule: RuleSplit, Err: cond(ErrSiteNotForwarding, "no SGM of %s forwards on site %d", JoinSGMIDs(ids), site)})
		}
	}
	return errors.Join(errs...)
}

func (b *sgBuilder) waitSub(sub string, ids []string, downtime bool) upgrade.Step {
	other := b.b
	if sub == "B" {
		other = b.a
	}
	return &upgrade.Wait{
		StepID:  b.id("wait", sub),
		Desc:    fmt.Sprintf("wait until sub-group %s (%s) is back on %s (Ready until MVC is on and a policy is installed, sk107042)", sub, JoinSGMIDs(ids), b.target),
		Cluster: b.g,
		G: upgrade.Gate{Name: "sub-group " + sub + " back on " + b.target, Timing: b.timing, Check: func(s upgrade.Snapshot) error {
			err := b.sgmCond(s, ids, upgrade.RoleReady, upgrade.RoleActive, upgrade.RoleStandby)
			if !downtime {
				err = errors.Join(err, b.forwardingEverySite(s, other))
			}
			return err
		}},
	}
}

func (b *sgBuilder) readBack() upgrade.Timing {
	return upgrade.Timing{Interval: b.timing.Interval, Deadline: min(max(3*b.timing.Interval, 2*time.Second), b.timing.Deadline)}
}

func (b *sgBuilder) mvcOn() upgrade.Step {
	return &upgrade.Func{
		StepID:    b.id("mvc-on", "A"),
		Desc:      fmt.Sprintf("enable MVC on sub-group A: g_all -b %s cphaconf mvc on, read back with cphaprob mvc (sk107042)", JoinSGMIDs(b.a)),
		Retryable: true,
		Do:        func(ctx context.Context) error { return b.g.SetMVC(ctx, b.a, true, b.readBack()) },
	}
}

func (b *sgBuilder) mvcOff() upgrade.Step {
	all := b.g.SGMIDs()
	return &upgrade.Func{
		StepID:    b.id("mvc-off", ""),
		Desc:      fmt.Sprintf("disable MVC on every SGM: g_all -b %s cphaconf mvc off, read back", JoinSGMIDs(all)),
		Retryable: true,
		Do:        func(ctx context.Context) error { return b.g.SetMVC(ctx, all, false, b.readBack()) },
	}
}

func (b *sgBuilder) policyMVC() upgrade.Step {
	obj := b.g.cfg.GatewayObject
	return b.cp.policyStep(b.id("policy:mvc", ""),
		fmt.Sprintf("install the Access Control policy on %s for the upgraded sub-group A (MVC on), install-on-all-cluster-members-or-fail false", obj),
		policySpec{target: obj, access: true},
		func(ctx context.Context) (bool, error) {
			s, err := b.g.Observe(ctx)
			if err != nil {
				return false, err
			}
			return b.sgmCond(s, b.a, upgrade.RoleActive) == nil, nil
		})
}

func (b *sgBuilder) validateA() upgrade.Step {
	return &upgrade.Wait{
		StepID:  b.id("validate", "A"),
		Desc:    fmt.Sprintf("validate sub-group A: %s UP Enforcing Security on %s with MVC on, sub-group B forwarding on every site", JoinSGMIDs(b.a), b.target),
		Cluster: b.g,
		G: upgrade.Gate{Name: "sub-group A validated", Timing: b.timing, Check: func(s upgrade.Snapshot) error {
			errs := []error{b.sgmCond(s, b.a, upgrade.RoleActive), b.forwardingEverySite(s, b.b)}
			if o, ok := b.g.observedAt(s.At); ok {
				for _, id := range b.a {
					if !o.mvc[id] {
						errs = append(errs, &MemberError{Member: id, Op: "gate", Err: cond(ErrMVCReadBack, "MVC is not on on %s", id)})
					}
				}
			}
			return errors.Join(errs...)
		}},
	}
}

func (b *sgBuilder) policyFinal(downtime bool) upgrade.Step {
	obj := b.g.cfg.GatewayObject
	desc := fmt.Sprintf("install Access Control and Threat Prevention on %s: it must fully succeed", obj)
	if downtime {
		desc += " (MINIMUM-DOWNTIME procedure: the upgraded SGMs forward again once it is installed)"
	}
	st := b.cp.policyStep(b.id("policy:final", ""), desc, policySpec{target: obj, access: true, threat: true, allOrFail: true}, nil)
	if downtime {
		return &downtimeStep{Step: st}
	}
	return st
}

// downtimeStep declares whole-cluster downtime for a step.
type downtimeStep struct{ upgrade.Step }

func (d *downtimeStep) Downtime() bool { return true }
func (d *downtimeStep) Idempotent() bool {
	i, ok := d.Step.(upgrade.Idempotenter)
	return ok && i.Idempotent()
}
func (d *downtimeStep) Verify(ctx context.Context) (bool, error) {
	if v, ok := d.Step.(upgrade.Verifier); ok {
		return v.Verify(ctx)
	}
	return false, nil
}
func (d *downtimeStep) Note() string {
	if n, ok := d.Step.(upgrade.Noter); ok {
		return n.Note()
	}
	return ""
}

func (b *sgBuilder) adminUp() upgrade.Step {
	return &upgrade.Func{
		StepID:    b.id("admin-up", ""),
		Desc:      "g_clusterXL_admin -b <ids> up for every SGM still administratively DOWN (none, usually: a reboot clears it)",
		Retryable: true,
		Do: func(ctx context.Context) error {
			asg, err := b.g.readASG(ctx)
			if err != nil {
				return err
			}
			down, _ := adminState(asg, b.g.SGMIDs())
			if len(down) == 0 {
				return nil
			}
			return b.g.SetAdmin(ctx, down, false)
		},
	}
}

func (b *sgBuilder) postcheck() upgrade.Step {
	return &upgrade.Wait{
		StepID:  b.id("postcheck", ""),
		Desc:    fmt.Sprintf("post-check: every orchestrator and SGM on %s, every SGM UP Enforcing Security, MVC off, none administratively DOWN", b.target),
		Cluster: b.g,
		G:       upgrade.Gate{Name: "post-check", Timing: b.timing, Check: b.endState},
	}
}

// endState is the plan's end state.
func (b *sgBuilder) endState(s upgrade.Snapshot) error {
	var errs []error
	for _, o := range b.g.mhos {
		st, ok := s.Member(o.ID())
		if !ok || !st.Forwarding() || !sameRelease(st.Version, b.target) {
			errs = append(errs, &MemberError{Member: o.ID(), Op: "end state", Err: cond(ErrUnexpectedVersion, "orchestrator %s is %s on %q", o.ID(), st.Role, st.Version)})
		}
	}
	errs = append(errs, b.sgmCond(s, b.g.SGMIDs(), upgrade.RoleActive))
	o, ok := b.g.observedAt(s.At)
	if !ok {
		errs = append(errs, cond(ErrUnreadable, "the MVC settings of this snapshot were not read"))
	} else {
		for _, id := range b.g.SGMIDs() {
			on, read := o.mvc[id]
			switch {
			case !read:
				errs = append(errs, &MemberError{Member: id, Op: "end state", Err: cond(ErrUnreadable, "MVC setting not read")})
			case on:
				errs = append(errs, &MemberError{Member: id, Op: "end state", Err: cond(ErrMVCReadBack, "MVC is still on")})
			}
		}
	}
	for _, p := range s.Problems {
		errs = append(errs, classify(p))
	}
	return errors.Join(errs...)
}

// converged is Plan.Converged: endState with every member's release.
func (b *sgBuilder) converged(s upgrade.Snapshot) error {
	err := b.endState(s)
	if err == nil {
		return nil
	}
	var ms []string
	for _, m := range s.Members {
		ms = append(ms, fmt.Sprintf("%s %s (%s)", m.ID, orNone(m.Version), m.Role))
	}
	return fmt.Errorf("checkpoint: security group %s is not in its end state (every member on %s, every SGM UP Enforcing Security, MVC off): %s: %w",
		b.g.Name(), b.target, strings.Join(ms, ", "), err)
}

// Rollback plans the rollback of the SGMs that run a release newer than to
// while others still run to (R82 Scalable Platforms Administration Guide,
// "Rolling back": `sp_upgrade --revert` runs only on the upgraded SGMs):
//
//  1. revert@<to> — `sp_upgrade --revert -b <upgraded>`; disruptive for
//     them (the others keep forwarding on every site); allowed only
//     within RollbackWindow (4 h) of their upgrade, whose start Journal
//     records (refused with a *WindowError naming the SGMs and the times
//     otherwise, checked in the plan, before the step and right before
//     the command);
//  2. wait:revert@<to> — they are back on to and UP Enforcing Security;
//  3. mvc-off:revert@<to> — MVC off on them, read back;
//  4. policy:rollback@<to> — Access and Threat Prevention on the security
//     group: must fully succeed;
//  5. postcheck:rollback@<to> — every SGM UP Enforcing Security on to,
//     MVC off.
//
// Orchestrators are not rolled back. Errors: a *PlanError with the
// problems (no Journal; no upgraded SGM and none on to; every SGM
// upgraded — revert a sub-group first with a plan of your own; the window
// closed: *WindowError).
func (p SecurityGroupPlanner) Rollback(s upgrade.Snapshot, to string) (upgrade.Plan, error) {
	g := p.Group
	if g == nil {
		return upgrade.Plan{}, &PlanError{Cluster: s.Cluster, Target: to, Problems: []error{errors.New("checkpoint: security group planner has no Group")}}
	}
	fail := &PlanError{Cluster: g.Name(), Target: to}
	bad := func(err error) { fail.Problems = append(fail.Problems, err) }
	if _, err := checkTarget(to); err != nil {
		bad(fmt.Errorf("checkpoint: rollback release: %w", err))
	}
	if p.Journal == nil {
		bad(errors.New("checkpoint: SecurityGroupPlanner.Journal is required for a rollback: it holds the time of the upgrade, which the 4-hour rule needs"))
	}
	if p.Tasks == nil {
		bad(errors.New("checkpoint: SecurityGroupPlanner.Tasks is required"))
	}
	if err := upgrade.CheckSnapshot(g, s); err != nil {
		bad(err)
	}
	timing := p.GateTiming
	if timing == (upgrade.Timing{}) {
		timing = DefaultGateTiming()
	}
	var upgraded []string
	from := ""
	for _, id := range g.SGMIDs() {
		st, _ := s.Member(id)
		if st.Version != "" && !sameRelease(st.Version, to) {
			upgraded = append(upgraded, id)
			from = st.Version
		}
	}
	switch {
	case len(upgraded) == len(g.SGMIDs()):
		bad(&RuleError{Rule: RuleSplit, Err: cond(ErrSiteNotForwarding, "every SGM runs %s: a revert of all of them at once stops traffic; revert one sub-group at a time", from)})
	}
	if len(fail.Problems) > 0 {
		return upgrade.Plan{}, fail
	}
	cp := &builder{c: g.sess, p: Planner{Cluster: g.sess, Tasks: p.Tasks}, target: to, timing: timing}
	b := &sgBuilder{p: p, g: g, target: to, timing: timing, a: upgraded, dur: p.Durations.withDefaults(), cp: cp}
	end := func(s upgrade.Snapshot) error {
		errs := []error{b.sgmCond(s, g.SGMIDs(), upgrade.RoleActive)}
		if o, ok := g.observedAt(s.At); !ok {
			errs = append(errs, cond(ErrUnreadable, "the MVC settings of this snapshot were not read"))
		} else {
			for _, id := range g.SGMIDs() {
				if o.mvc[id] {
					errs = append(errs, &MemberError{Member: id, Op: "end state", Err: cond(ErrMVCReadBack, "MVC is still on")})
				}
			}
		}
		return errors.Join(errs...)
	}
	plan := upgrade.Plan{Cluster: g.Name(), Target: to, Converged: func(s upgrade.Snapshot) error {
		if err := end(s); err != nil {
			return fmt.Errorf("checkpoint: security group %s is not back on %s: %w", g.Name(), to, err)
		}
		return nil
	}}
	if len(upgraded) == 0 {
		return plan, nil
	}
	window := func(ctx context.Context) error { return b.rollbackWindow(ctx, from, upgraded) }
	if err := window(context.Background()); err != nil {
		fail.Problems = append(fail.Problems, err)
		return upgrade.Plan{}, fail
	}
	plan.Steps = []upgrade.Step{
		&upgrade.Func{
			StepID:  b.id("revert", ""),
			Desc:    fmt.Sprintf("roll back %s from %s to %s: sp_upgrade --revert -b %s (only the upgraded SGMs), within 4 h of their upgrade", JoinSGMIDs(upgraded), from, to, JoinSGMIDs(upgraded)),
			Members: upgraded,
			Safe:    func(upgrade.Snapshot) error { return window(context.Background()) },
			Do: func(ctx context.Context) error {
				if err := window(ctx); err != nil {
					return err
				}
				return g.RevertSGMs(ctx, upgraded)
			},
			Check: func(ctx context.Context) (bool, error) { return g.applied(ctx, upgraded, to) },
		},
		&upgrade.Wait{StepID: b.id("wait:revert", ""), Desc: fmt.Sprintf("wait until %s are back on %s and forwarding", JoinSGMIDs(upgraded), to), Cluster: g,
			G: upgrade.Gate{Name: "reverted SGMs back on " + to, Timing: timing, Check: func(s upgrade.Snapshot) error {
				return b.sgmCond(s, upgraded, upgrade.RoleActive, upgrade.RoleReady)
			}}},
		&upgrade.Func{StepID: b.id("mvc-off:revert", ""), Desc: "MVC off on the reverted SGMs, read back", Retryable: true,
			Do: func(ctx context.Context) error { return g.SetMVC(ctx, upgraded, false, b.readBack()) }},
		cp.policyStep(b.id("policy:rollback", ""), fmt.Sprintf("install Access Control and Threat Prevention on %s after the rollback: it must fully succeed", g.cfg.GatewayObject),
			policySpec{target: g.cfg.GatewayObject, access: true, threat: true, allOrFail: true}, nil),
		&upgrade.Wait{StepID: b.id("postcheck:rollback", ""), Desc: fmt.Sprintf("post-check: every SGM UP Enforcing Security on %s, MVC off", to), Cluster: g,
			G: upgrade.Gate{Name: "rollback post-check", Timing: timing, Check: end}},
	}
	return plan, nil
}

// rollbackWindow refuses a revert of ids (upgraded to from) more than
// RollbackWindow after the start of their sub-group's upgrade.
func (b *sgBuilder) rollbackWindow(ctx context.Context, from string, ids []string) error {
	recs, err := b.p.Journal.Load(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint: read the journal for the rollback window: %w", err)
	}
	var start time.Time
	for _, r := range recs {
		if r.Kind != upgrade.RecordStart || !strings.HasPrefix(r.Step, "upgrade:") || !strings.HasSuffix(r.Step, "@"+from) {
			continue
		}
		sub := strings.TrimSuffix(strings.TrimPrefix(r.Step, "upgrade:"), "@"+from)
		if sub != "A" && sub != "B" {
			continue
		}
		if start.IsZero() || r.Time.Before(start) {
			start = r.Time
		}
	}
	now := b.now()
	if start.IsZero() {
		return &WindowError{Rule: "rollback", Step: b.id("revert", ""), Now: now, SGMs: ids}
	}
	deadline := start.Add(RollbackWindow)
	if now.After(deadline) {
		return &WindowError{Rule: "rollback", Step: b.id("revert", ""), Start: start, Deadline: deadline, Now: now, SGMs: ids}
	}
	return nil
}
