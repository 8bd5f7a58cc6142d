package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// builder makes the steps of one plan.
type builder struct {
	c       *Cluster
	p       Planner
	target  string
	tv      versionpath.Version
	timing  upgrade.Timing
	restore string
}

// Step ID shapes (stable: the journal keys on them).
func (b *builder) id(kind, member string) string {
	if member == "" {
		return kind + "@" + b.target
	}
	return kind + ":" + member + "@" + b.target
}

func (b *builder) member(name string) *ClusterMember { return b.c.Member(name) }

// others returns every member name but skip, in Config order.
func (b *builder) others(skip string) []string {
	var out []string
	for _, m := range b.c.members {
		if m.gw.Name != skip {
			out = append(out, m.gw.Name)
		}
	}
	return out
}

// beforeFailover is the plan while the member ACTIVE on the old release
// (final) still forwards.
func (b *builder) beforeFailover(onT map[string]bool, final string) []upgrade.Step {
	var steps []upgrade.Step
	if len(onT) == 0 {
		steps = append(steps, b.precheck(), b.objectStep())
	}
	for _, n := range b.others(final) {
		if !onT[n] {
			steps = append(steps, b.stage(n), b.upgrade(n))
		}
		steps = append(steps, b.waitBack(n))
		steps = append(steps, b.afterBack(n)...)
		steps = append(steps, b.mvcOn(n), b.policyMVC(n), b.waitJoined(n))
	}
	steps = append(steps, b.failover(final))
	return append(steps, b.afterFailover(final)...)
}

// afterFailover is the plan once the last member (final) no longer
// forwards.
func (b *builder) afterFailover(final string) []upgrade.Step {
	steps := []upgrade.Step{b.waitFailover(final), b.stage(final), b.upgrade(final), b.waitBack(final)}
	steps = append(steps, b.afterBack(final)...)
	return append(steps, b.tail()...)
}

// allOnTarget is the plan once every member runs the target: nothing when
// the end state holds and (VSX) every per-Virtual-System installation is
// recorded done in Planner.Tasks; otherwise, on VSX, the Jumbo steps of
// every member still without the Jumbo take, then the final steps.
func (b *builder) allOnTarget(s upgrade.Snapshot) []upgrade.Step {
	var steps []upgrade.Step
	if b.c.cfg.VSX && b.c.cfg.JumboPath != "" {
		rs := b.c.readingsOf(s)
		for i, m := range b.c.members {
			if rs == nil || i >= len(rs) || rs[i].take < b.c.cfg.JumboTake {
				steps = append(steps, b.vsxAfterBack(m.gw.Name)...)
			}
		}
	}
	if len(steps) == 0 && b.endState(s) == nil && b.vsRecorded() {
		return nil
	}
	return append(steps, b.tail()...)
}

// vsRecorded reports whether Planner.Tasks records every per-Virtual-System
// installation of the VSX plan as succeeded (true outside VSX). It is the
// only local read of planning: those installations come after MVC is
// disabled, so the devices do not show them.
func (b *builder) vsRecorded() bool {
	if !b.c.cfg.VSX || len(b.c.cfg.VirtualSystems) == 0 {
		return true
	}
	if b.p.Tasks == nil {
		return false
	}
	for _, vs := range b.c.cfg.VirtualSystems {
		rec, ok, err := b.p.Tasks.Get(context.Background(), b.id("policy:vs", vs))
		if err != nil || !ok || !rec.Succeeded {
			return false
		}
	}
	return true
}

// afterBack are the steps after a member is back on the target, before MVC
// is enabled on it: on VSX the Jumbo (with the Dynamic Balancing
// workaround) and the VSX checks.
func (b *builder) afterBack(n string) []upgrade.Step {
	if !b.c.cfg.VSX {
		return nil
	}
	return b.vsxAfterBack(n)
}

// tail is what follows the last member's upgrade.
func (b *builder) tail() []upgrade.Step {
	steps := []upgrade.Step{b.policyFinal()}
	for _, m := range b.c.members {
		steps = append(steps, b.mvcOff(m.gw.Name))
	}
	if b.c.cfg.VSX {
		for _, vs := range b.c.cfg.VirtualSystems {
			steps = append(steps, b.policyVS(vs))
		}
	}
	if b.restore != "" {
		steps = append(steps, b.restoreStep(b.restore), b.waitRestore(b.restore))
	}
	return append(steps, b.adminUp(), b.postcheck())
}

// objectStep updates the cluster object on management.
func (b *builder) objectStep() upgrade.Step {
	if b.c.cfg.VSX {
		return b.vsxObject()
	}
	return b.clusterVersion()
}

// ---- pre-checks ----

// precheck reads everything the upgrade depends on and reports every
// problem at once (an *upgrade.PreCheckError of *RuleError values). It
// changes nothing.
func (b *builder) precheck() upgrade.Step {
	return &upgrade.Func{
		StepID: b.id("precheck", ""),
		Desc: fmt.Sprintf("pre-checks for %s (R81.20 Installation and Upgrade Guide, \"Multi-Version Cluster Upgrade\" prerequisites; ClusterXL Administration Guide, \"Viewing Cluster State\"): one ACTIVE, the others STANDBY, members agree, Active PNOTEs None, interfaces UP, CoreXL instances, disk space, Jumbo take minimum, cluster object and management login; changes nothing",
			b.target),
		Retryable: true,
		Do: func(ctx context.Context) error {
			if errs := b.c.precheck(ctx, b.target); len(errs) > 0 {
				return &upgrade.PreCheckError{Failures: errs}
			}
			return nil
		},
	}
}

// precheck runs the pre-checks of an upgrade to target (see Planner).
func (c *Cluster) precheck(ctx context.Context, target string) []error {
	g := versionpath.CheckPoint{}
	tv, err := g.Parse(target)
	if err != nil {
		return []error{fmt.Errorf("checkpoint: target: %w", err)}
	}
	var errs []error
	rule := func(member, object, r string, err error) {
		errs = append(errs, &RuleError{Member: member, Object: object, Rule: r, Err: err})
	}
	snap, err := c.Observe(ctx)
	if err != nil {
		return []error{err}
	}
	rs := c.readingsOf(snap)
	if rs == nil {
		return []error{cond(ErrUnreadable, "observation not recorded")}
	}
	errs = append(errs, freshProblems(snap)...)
	for _, st := range snap.Members {
		if st.Role == upgrade.RoleUnknown {
			rule(st.ID, "", RuleKnownState, firstProblem(st, ErrUnknownState))
		}
	}
	source := ""
	cores := map[string]int{}
	for i, m := range c.members {
		r := rs[i]
		if r.err != nil {
			continue // reported by freshProblems (not STANDBY/ACTIVE)
		}
		if k := r.cs.ModeKind(); k != ModeHighAvailability {
			rule(m.gw.Name, "", RuleHighAvailability, cond(ErrNotHA, "cluster mode %q", r.cs.Mode))
		}
		if source == "" {
			source = r.version.Release
		}
		// Interfaces.
		if out, err := m.expert(ctx, "cphaprob -a if", "cphaprob -a if", true); err != nil {
			rule(m.gw.Name, "", RuleInterfaces, fmt.Errorf("%w: %w", ErrUnreadable, err))
		} else if ifs, err := ParseClusterInterfaces(out); err != nil {
			rule(m.gw.Name, "", RuleInterfaces, fmt.Errorf("%w: %w", ErrUnreadable, err))
		} else {
			up := 0
			for _, itf := range ifs.Interfaces {
				if itf.Monitored() && itf.Up() {
					up++
				}
			}
			for _, d := range ifs.Down() {
				rule(m.gw.Name, "", RuleInterfaces, cond(ErrInterfaceDown, "%s is %s", d.Name, linkText(d)))
			}
			if ifs.Required >= 0 && up < ifs.Required {
				rule(m.gw.Name, "", RuleInterfaces, cond(ErrInterfaceDown, "%d interfaces up, %d required", up, ifs.Required))
			}
		}
		// CoreXL instances (compared below, where readable).
		if out, err := m.expert(ctx, "fw ctl multik stat", "fw ctl multik stat", true); err == nil {
			if n, err := parseMultikStat(out); err == nil {
				cores[m.gw.Name] = n
			} else {
				c.log.Warn("checkpoint: precheck: CoreXL instances not readable; not compared", "member", m.gw.Name, "error", err)
			}
		}
		// Disk space.
		if need := c.diskNeed(); need > 0 {
			if out, err := m.expert(ctx, "df", "df -P -k "+c.cfg.RemoteDir, false); err != nil {
				rule(m.gw.Name, "", RuleDiskSpace, fmt.Errorf("%w: %w", ErrUnreadable, err))
			} else if avail, err := parseDF(out); err != nil {
				rule(m.gw.Name, "", RuleDiskSpace, err)
			} else if avail < need {
				rule(m.gw.Name, "", RuleDiskSpace, cond(ErrDiskSpace, "%d MiB free in %s, %d MiB needed", avail/1024, c.cfg.RemoteDir, need/1024))
			}
		}
		// Jumbo take minimum.
		if from, err := g.Parse(r.version.Release); err == nil && from.Compare(tv) < 0 {
			take, terr := m.readTakeExpert(ctx)
			if terr != nil {
				c.log.Warn("checkpoint: precheck: Jumbo take not readable; checked as unknown", "member", m.gw.Name, "error", terr)
				take = versionpath.TakeUnknown
			}
			if err := versionpath.CheckTakeMinimum(c.cfg.TakeMinimums, from, take, tv); err != nil {
				rule(m.gw.Name, "", RuleMinimumTake, fmt.Errorf("%w: %w", ErrTakeTooLow, err))
			}
		}
		// VSX: every virtual device ready, every Virtual System agrees.
		if c.cfg.VSX {
			errs = append(errs, c.vsxProblems(ctx, m, r)...)
		}
	}
	if len(cores) == len(c.members) {
		var distinct []int
		for _, n := range cores {
			if !slices.Contains(distinct, n) {
				distinct = append(distinct, n)
			}
		}
		if len(distinct) > 1 {
			var parts []string
			for _, m := range c.members {
				parts = append(parts, fmt.Sprintf("%s %d", m.gw.Name, cores[m.gw.Name]))
			}
			for _, m := range c.members {
				rule(m.gw.Name, "", RuleCoreXL, cond(ErrCoreXLMismatch, "CoreXL instances: %s (sk106912)", strings.Join(parts, ", ")))
			}
		}
	}
	errs = append(errs, c.mgmtPrecheck(ctx, source, target)...)
	return errs
}

// diskNeed is the free space, in KiB, the pre-check requires (0: none).
func (c *Cluster) diskNeed() int64 {
	switch {
	case c.cfg.MinFreeDiskMB < 0:
		return 0
	case c.cfg.MinFreeDiskMB > 0:
		return int64(c.cfg.MinFreeDiskMB) * 1024
	}
	var size int64
	for _, p := range []string{c.cfg.PackagePath, c.cfg.JumboPath} {
		if p == "" {
			continue
		}
		if fi, err := statFile(p); err == nil {
			size += fi
		}
	}
	return 3 * size / 1024
}

// linkText renders an interface's state.
func linkText(i Interface) string {
	if i.Status.State != "" {
		return i.Status.State
	}
	return fmt.Sprintf("Inbound %s, Outbound %s", orNone(i.Inbound.State), orNone(i.Outbound.State))
}

func orNone(s string) string {
	if s == "" {
		return "(not printed)"
	}
	return s
}

// mgmtPrecheck logs in to management and checks the cluster object.
func (c *Cluster) mgmtPrecheck(ctx context.Context, source, target string) []error {
	if c.mgmt == nil {
		return []error{&RuleError{Rule: RuleManagement, Err: cond(ErrManagement, "no management server configured (Config.Mgmt)")}}
	}
	server := c.mgmt.server
	if err := c.mgmt.Login(ctx); err != nil {
		return []error{&RuleError{Object: server, Rule: RuleManagement, Err: fmt.Errorf("%w: %w", ErrManagement, err)}}
	}
	if c.cfg.VSX {
		// No read of a VSX cluster object's version in the client: the
		// vsx-run-operation upgrade leaves an object at the target alone.
		return nil
	}
	obj := c.cfg.ClusterObject
	sc, err := c.mgmt.ShowSimpleCluster(ctx, obj)
	if err != nil {
		return []error{&RuleError{Object: obj, Rule: RuleClusterObject, Err: fmt.Errorf("%w: %w", ErrClusterObject, err)}}
	}
	var errs []error
	if !sameRelease(sc.Version, target) && (source == "" || !sameRelease(sc.Version, source)) {
		errs = append(errs, &RuleError{Object: obj, Rule: RuleClusterObject,
			Err: cond(ErrClusterObject, "the cluster object's version is %q, neither the members' %s nor the target %s", sc.Version, source, target)})
	}
	for _, m := range c.members {
		if !slices.ContainsFunc(sc.Members, func(o ClusterMemberObject) bool { return o.Name == m.gw.Name }) {
			errs = append(errs, &RuleError{Member: m.gw.Name, Object: obj, Rule: RuleClusterObject,
				Err: cond(ErrClusterObject, "cluster object %s has no member %s", obj, m.gw.Name)})
		}
	}
	return errs
}

// ---- management steps ----

// clusterVersion sets the cluster object's version and publishes.
func (b *builder) clusterVersion() upgrade.Step {
	c, obj := b.c, b.c.cfg.ClusterObject
	return &upgrade.Func{
		StepID: b.id("cluster-version", ""),
		Desc: fmt.Sprintf("set cluster object %s to version %s on management and publish (Management API set-simple-cluster, publish; R81.20 Installation and Upgrade Guide, \"Multi-Version Cluster Upgrade\")",
			obj, b.target),
		Retryable: true,
		Do: func(ctx context.Context) error {
			fail := func(err error) error {
				return &RuleError{Object: obj, Rule: RuleClusterObject, Err: fmt.Errorf("%w: %w", ErrClusterObject, err)}
			}
			id, err := c.mgmt.SetSimpleClusterVersion(ctx, obj, b.target)
			if err != nil {
				return fail(err)
			}
			if id != "" {
				if _, err := c.mgmt.WaitTask(ctx, id, c.cfg.TaskTiming); err != nil {
					return fail(err)
				}
			}
			pub, err := c.mgmt.Publish(ctx)
			if err != nil {
				return fail(err)
			}
			if _, err := c.mgmt.WaitTask(ctx, pub, c.cfg.TaskTiming); err != nil {
				return fail(err)
			}
			return nil
		},
		Check: func(ctx context.Context) (bool, error) {
			sc, err := c.mgmt.ShowSimpleCluster(ctx, obj)
			if err != nil {
				return false, err
			}
			return sameRelease(sc.Version, b.target), nil
		},
	}
}

// policySpec describes one policy installation and what success means.
type policySpec struct {
	target    string // install target (cluster, VSX cluster or Virtual System object)
	access    bool
	threat    bool
	allOrFail bool
	// required are the members whose own result must be success; nil:
	// the task must fully succeed, every result a success.
	required []string
}

// taskStep is a step that starts a management task, records it in
// Planner.Tasks, waits for it and judges it; a recorded task is looked up
// instead of starting a new one. It leaves the task's outcome as its note.
type taskStep struct {
	id, desc   string
	idempotent bool
	start      func(ctx context.Context) (string, error)
	judge      func(t Task, waitErr error) (note string, err error)
	evidence   func(ctx context.Context) (bool, error) // nil: none
	b          *builder

	mu   sync.Mutex
	note string
}

var (
	_ upgrade.Verifier     = (*taskStep)(nil)
	_ upgrade.Idempotenter = (*taskStep)(nil)
	_ upgrade.Noter        = (*taskStep)(nil)
)

// ID implements upgrade.Step.
func (s *taskStep) ID() string { return s.id }

// Description implements upgrade.Step.
func (s *taskStep) Description() string { return s.desc }

// Disrupts implements upgrade.Step: a management task disrupts no member.
func (s *taskStep) Disrupts() []string { return nil }

// Idempotent implements upgrade.Idempotenter.
func (s *taskStep) Idempotent() bool { return s.idempotent }

// Note implements upgrade.Noter: the task's outcome.
func (s *taskStep) Note() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.note
}

func (s *taskStep) setNote(n string) {
	s.mu.Lock()
	s.note = n
	s.mu.Unlock()
}

// recorded looks the step's recorded task up: done when it succeeded (as
// judged), found=false when there is none (or the server does not know it).
func (s *taskStep) recorded(ctx context.Context) (done, found bool, err error) {
	tl := s.b.p.Tasks
	if tl == nil {
		return false, false, nil
	}
	rec, ok, err := tl.Get(ctx, s.id)
	if err != nil || !ok {
		return false, false, err
	}
	id := rec.TaskID
	mc := s.b.c.mgmt
	t, err := mc.ShowTask(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, true, err
	}
	var werr error
	if !t.Done() {
		t, werr = mc.WaitTask(ctx, id, s.b.c.cfg.TaskTiming)
	} else if t.Status != TaskStatusSucceeded && t.Status != TaskStatusPartiallySucceeded {
		werr = &TaskError{ID: t.ID, Name: t.Name, Status: t.Status, Progress: t.Progress, Messages: t.Messages(), Err: ErrTaskFailed}
	}
	note, jerr := s.judge(t, werr)
	if jerr != nil {
		return false, true, nil
	}
	s.setNote(note + " (recorded task, not started again)")
	if !rec.Succeeded {
		if err := tl.Put(ctx, s.id, TaskRecord{TaskID: id, Succeeded: true}); err != nil {
			return false, true, err
		}
	}
	return true, true, nil
}

// Run implements upgrade.Step.
func (s *taskStep) Run(ctx context.Context) error {
	if done, _, err := s.recorded(ctx); err != nil {
		return err
	} else if done {
		return nil
	}
	id, err := s.start(ctx)
	if err != nil {
		return err
	}
	tl := s.b.p.Tasks
	if tl != nil {
		if err := tl.Put(ctx, s.id, TaskRecord{TaskID: id}); err != nil {
			return fmt.Errorf("checkpoint: record task %s of step %s: %w", id, s.id, err)
		}
	}
	t, werr := s.b.c.mgmt.WaitTask(ctx, id, s.b.c.cfg.TaskTiming)
	note, err := s.judge(t, werr)
	s.setNote(note)
	if err != nil {
		return err
	}
	if tl != nil {
		if err := tl.Put(ctx, s.id, TaskRecord{TaskID: id, Succeeded: true}); err != nil {
			return fmt.Errorf("checkpoint: record task %s of step %s: %w", id, s.id, err)
		}
	}
	return nil
}

// Verify implements upgrade.Verifier: a recorded task that succeeded, or
// the devices' evidence, proves the step done.
func (s *taskStep) Verify(ctx context.Context) (bool, error) {
	done, found, err := s.recorded(ctx)
	if err != nil || done || found {
		return done, err
	}
	if s.evidence == nil {
		return false, nil
	}
	return s.evidence(ctx)
}

// policyStep installs a policy as spec says.
func (b *builder) policyStep(id, desc string, spec policySpec, evidence func(ctx context.Context) (bool, error)) upgrade.Step {
	c := b.c
	return &taskStep{
		id: id, desc: desc, b: b, evidence: evidence,
		start: func(ctx context.Context) (string, error) {
			tid, err := c.mgmt.InstallPolicy(ctx, InstallPolicyRequest{PolicyPackage: c.cfg.PolicyPackage, Targets: []string{spec.target},
				Access: spec.access, ThreatPrevention: spec.threat, InstallOnAllClusterMembersOrFail: spec.allOrFail})
			if err != nil {
				return "", &RuleError{Object: spec.target, Rule: RulePolicy, Err: fmt.Errorf("%w: %w", ErrPolicyFailed, err)}
			}
			return tid, nil
		},
		judge: func(t Task, werr error) (string, error) { return judgePolicy(spec, t, werr) },
	}
}

// judgePolicy decides whether an install-policy task met spec.
func judgePolicy(spec policySpec, t Task, werr error) (string, error) {
	fail := func(member string, err error) error {
		return &RuleError{Member: member, Object: spec.target, Rule: RulePolicy, Err: err}
	}
	if werr != nil && !errors.Is(werr, ErrTaskFailed) {
		return "", fail("", fmt.Errorf("%w: %w", ErrPolicyFailed, werr))
	}
	note := fmt.Sprintf("install-policy task %s on %s: %s", t.ID, spec.target, t.Status)
	results, rerr := t.GatewayResults()
	var ok, failed []string
	for _, r := range results {
		if r.Succeeded {
			ok = append(ok, r.Name())
		} else {
			failed = append(failed, r.Name())
		}
	}
	if len(ok) > 0 {
		note += "; succeeded on " + strings.Join(ok, ", ")
	}
	if len(failed) > 0 {
		note += "; failed on " + strings.Join(failed, ", ")
	}
	if spec.required == nil {
		switch {
		case werr != nil:
			return note, fail(culprit(results), fmt.Errorf("%w: the installation must fully succeed: %w", ErrPolicyFailed, werr))
		case t.Status != TaskStatusSucceeded:
			return note, fail(culprit(results), cond(ErrPolicyFailed, "task %s %s (failed on %s; messages: %s): the installation must fully succeed",
				t.ID, t.Status, strings.Join(failed, ", "), strings.Join(t.Messages(), "; ")))
		case rerr != nil:
			return note, fail("", fmt.Errorf("%w: %w", ErrPolicyFailed, rerr))
		case len(failed) > 0:
			return note, fail(culprit(results), cond(ErrPolicyFailed, "task succeeded but %s report failure", strings.Join(failed, ", ")))
		}
		return note, nil
	}
	if rerr != nil {
		return note, fail("", fmt.Errorf("%w: %w", ErrPolicyFailed, rerr))
	}
	for _, m := range spec.required {
		i := slices.IndexFunc(results, func(r GatewayResult) bool { return r.Name() == m })
		switch {
		case i < 0:
			return note, fail(m, cond(ErrPolicyFailed, "task %s has no result for %s", t.ID, m))
		case !results[i].Succeeded:
			msg := strings.Join(append(slices.Clone(results[i].Errors), results[i].FaultMessage), "; ")
			return note, fail(m, cond(ErrPolicyFailed, "task %s %s: %s's own result is %q (%s): it must succeed", t.ID, t.Status, m, results[i].Status, strings.Trim(msg, "; ")))
		}
	}
	if len(failed) > 0 {
		note += " (expected: members still on the old release)"
	}
	return note, nil
}

// culprit returns the member whose own installation failed: the first
// failed result that does not merely say it was skipped because another
// member failed (install-on-all-cluster-members-or-fail), else the first
// failed one, else "".
func culprit(results []GatewayResult) string {
	first := ""
	for _, r := range results {
		if r.Succeeded {
			continue
		}
		if first == "" {
			first = r.Name()
		}
		text := strings.ToLower(r.FaultMessage + " " + strings.Join(r.Errors, " "))
		if !strings.Contains(text, "because it failed on") && !strings.Contains(text, "not performed") {
			return r.Name()
		}
	}
	return first
}

// policyMVC installs the Access policy for the mixed cluster; n's result
// must be success.
func (b *builder) policyMVC(n string) upgrade.Step {
	obj := b.c.cfg.ClusterObject
	return b.policyStep(b.id("policy:mvc", n),
		fmt.Sprintf("install the Access Control policy on %s with install-on-all-cluster-members-or-fail false: \"partially succeeded\" is expected (the old members fail), %s's own result must be success (R81.20 Installation and Upgrade Guide, \"Multi-Version Cluster Upgrade\"; Management API install-policy)", obj, n),
		policySpec{target: obj, access: true, required: []string{n}},
		func(ctx context.Context) (bool, error) {
			s, err := b.c.Observe(ctx)
			if err != nil {
				return false, err
			}
			st, _ := s.Member(n)
			// Only a policy installed for its release lets an upgraded
			// member leave READY and join as STANDBY (sk107042).
			return st.Role == upgrade.RoleStandby && st.Healthy && sameRelease(st.Version, b.target), nil
		})
}

// policyFinal installs Access and Threat Prevention on the cluster; it must
// fully succeed.
func (b *builder) policyFinal() upgrade.Step {
	obj := b.c.cfg.ClusterObject
	return b.policyStep(b.id("policy:final", ""),
		fmt.Sprintf("install Access Control and Threat Prevention on %s with install-on-all-cluster-members-or-fail true: it must fully succeed (R81.20 Installation and Upgrade Guide, \"Multi-Version Cluster Upgrade\")", obj),
		policySpec{target: obj, access: true, threat: true, allOrFail: true}, nil)
}

// policyVS installs Access and Threat Prevention on one Virtual System.
func (b *builder) policyVS(vs string) upgrade.Step {
	return b.policyStep(b.id("policy:vs", vs),
		fmt.Sprintf("install Access Control and Threat Prevention on Virtual System %s: it must fully succeed (R81.20 Installation and Upgrade Guide, \"MVC Upgrade Procedure - VSX Mode\")", vs),
		policySpec{target: vs, access: true, threat: true, allOrFail: true}, nil)
}

// logFileRe finds log file names in task messages (vsx_util writes
// /opt/CPsuite-<ver>/fw1/log/vsx_util_YYYYMMDD_HH_MM.log).
var logFileRe = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]+\.log\b`)

// vsxObject upgrades the VSX cluster object on management.
func (b *builder) vsxObject() upgrade.Step {
	c, obj := b.c, b.c.cfg.ClusterObject
	return &taskStep{
		id: b.id("vsx-object", ""),
		desc: fmt.Sprintf("upgrade VSX cluster object %s to %s on management (Management API vsx-run-operation upgrade, the equivalent of vsx_util upgrade; it publishes by itself; R81.20 Installation and Upgrade Guide, \"MVC Upgrade Procedure - VSX Mode\" step 1)",
			obj, b.target),
		b: b, idempotent: true,
		start: func(ctx context.Context) (string, error) {
			id, err := c.mgmt.VSXUpgrade(ctx, obj, b.target)
			if err != nil {
				return "", &RuleError{Object: obj, Rule: RuleClusterObject, Err: fmt.Errorf("%w: %w", ErrClusterObject, err)}
			}
			return id, nil
		},
		judge: func(t Task, werr error) (string, error) {
			msgs := t.Messages()
			note := fmt.Sprintf("vsx-run-operation task %s: %s", t.ID, t.Status)
			if len(msgs) > 0 {
				note += ": " + strings.Join(msgs, "; ")
			}
			var logs []string
			for _, m := range msgs {
				logs = append(logs, logFileRe.FindAllString(m, -1)...)
			}
			if len(logs) > 0 {
				note += " (log files: " + strings.Join(logs, ", ") + ")"
			}
			if werr == nil && t.Status != TaskStatusSucceeded {
				werr = cond(ErrTaskFailed, "task %s %s", t.ID, t.Status)
			}
			if werr != nil {
				return note, &RuleError{Object: obj, Rule: RuleClusterObject, Err: fmt.Errorf("%w: %w", ErrClusterObject, werr)}
			}
			return note, nil
		},
	}
}

// ---- member steps ----

// stage imports and verifies the package on n (not disruptive).
func (b *builder) stage(n string) upgrade.Step {
	return &upgrade.Func{
		StepID: b.id("stage", n),
		Desc: fmt.Sprintf("stage %s on %s with CPUSE: SCP %s to %s, installer import local (asynchronous, polled), installer verify (Gaia Administration Guide, CPUSE); disrupts nothing",
			b.target, n, filepath.Base(b.c.cfg.PackagePath), b.c.cfg.RemoteDir),
		Retryable: true,
		Do:        func(ctx context.Context) error { return b.member(n).Stage(ctx, b.target) },
	}
}

// upgrade runs installer upgrade on n (disruptive).
func (b *builder) upgrade(n string) upgrade.Step {
	m := b.member(n)
	return &upgrade.Func{
		StepID: b.id("upgrade", n),
		Desc: fmt.Sprintf("upgrade %s to %s: installer upgrade %s not-interactive, after checking on every member that %s is STANDBY (or administratively down) and another member ACTIVE and forwarding (R81.20 Installation and Upgrade Guide, \"Multi-Version Cluster Upgrade\"); %s reboots",
			n, b.target, filepath.Base(b.c.cfg.PackagePath), n, n),
		Members: []string{n},
		Do:      func(ctx context.Context) error { return m.Upgrade(ctx, b.target) },
		Check: func(ctx context.Context) (bool, error) {
			return b.verifyApplied(ctx, m, "upgrade", func(ctx context.Context, r reading) (bool, error) {
				return sameRelease(r.version.Release, b.target), nil
			})
		},
	}
}

// errNotYet is a poll's "not yet" (never returned to callers).
var errNotYet = errors.New("not yet")

// verifyApplied verifies an interrupted disruptive CPUSE step on m: it
// polls m for at most Config.ApplyGrace + the gate deadline and decides on
// the first of: taken (done); m went away (a reboot) and is back without
// it taken (an error matching upgrade.ErrUnverifiable and
// ErrInstallNotTaken: an operator decides); m stayed up without it for
// ApplyGrace (not done: a command acknowledged before the interruption
// would have rebooted m by then, so the step runs, once).
func (b *builder) verifyApplied(ctx context.Context, m *ClusterMember, what string, taken func(context.Context, reading) (bool, error)) (bool, error) {
	grace := b.c.cfg.ApplyGrace
	t := upgrade.Timing{Interval: b.timing.Interval, Deadline: grace + b.timing.Deadline}
	start := time.Now()
	away := m.awayCount() > 0
	var done bool
	var permanent error
	err := upgrade.PollUntil(ctx, "verify interrupted "+what+" of "+m.gw.Name, t, func(ctx context.Context) error {
		r := m.read(ctx, false)
		switch {
		case r.err != nil && errors.Is(r.err, driver.ErrHostKey):
			permanent = fmt.Errorf("%w: %w", ErrHostKeyChanged, r.err)
			return fmt.Errorf("%w: %w", upgrade.ErrPermanent, permanent)
		case r.err != nil:
			if r.unreachable {
				away = true
			}
			return r.err
		}
		ok, err := taken(ctx, r)
		if err != nil {
			return err
		}
		switch {
		case ok:
			done = true
			return nil
		case away || m.awayCount() > 0:
			permanent = &MemberError{Member: m.gw.Name, Host: m.host, Op: "verify",
				Err: fmt.Errorf("%w: %w: the %s of %s was interrupted and %s came back on %s", upgrade.ErrUnverifiable, ErrInstallNotTaken, what, b.target, m.gw.Name, r.version.Release)}
			return fmt.Errorf("%w: %w", upgrade.ErrPermanent, permanent)
		case time.Since(start) >= grace:
			return nil // up all along without it: nothing pending
		}
		return errNotYet
	}, nil)
	if permanent != nil {
		return false, permanent
	}
	if err != nil {
		return false, err
	}
	return done, nil
}

// awayCount returns how many times m was seen to go away since New.
func (m *ClusterMember) awayCount() int {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	return m.away
}

// memberCond checks one member of a snapshot: present, its state readable,
// on the target when onTarget, in one of roles, healthy. It returns a
// *MemberError (Op "gate") joining every failure, or nil; a problem that
// waiting cannot fix (host key, install not taken) matches
// upgrade.ErrPermanent.
func (b *builder) memberCond(s upgrade.Snapshot, n string, onTarget bool, roles ...upgrade.Role) error {
	fail := func(errs ...error) error { return &MemberError{Member: n, Op: "gate", Err: errors.Join(errs...)} }
	st, ok := s.Member(n)
	if !ok {
		return fail(cond(ErrUnreadable, "missing from the snapshot"))
	}
	var errs []error
	for _, p := range st.Problems {
		e := classify(p)
		if errors.Is(e, ErrHostKeyChanged) || errors.Is(e, ErrInstallNotTaken) {
			return fail(e)
		}
	}
	if st.Role == upgrade.RoleDown || st.Role == upgrade.RoleUnknown {
		return fail(firstProblem(st, ErrUnreachable))
	}
	if onTarget && !sameRelease(st.Version, b.target) {
		errs = append(errs, cond(ErrUnexpectedVersion, "runs %s, want %s", st.Version, b.target))
	}
	if !slices.Contains(roles, st.Role) {
		errs = append(errs, cond(ErrUnexpectedRole, "is %s (%s)", st.Raw, st.Role))
	}
	if !st.Healthy {
		errs = append(errs, firstProblem(st, ErrUnreadable))
	}
	if len(errs) > 0 {
		return fail(errs...)
	}
	return nil
}

// otherActive requires a member other than n to be ACTIVE (with or without
// attention flag) and reachable; when every other member is unreachable
// the failure is permanent (the member that had to forward is gone).
func (b *builder) otherActive(s upgrade.Snapshot, n string) error {
	allGone := true
	for _, st := range s.Members {
		if st.ID == n {
			continue
		}
		if st.Role == upgrade.RoleActive {
			return nil
		}
		if st.Role != upgrade.RoleDown || !slices.ContainsFunc(st.Problems, func(p string) bool { return errors.Is(classify(p), ErrUnreachable) }) {
			allGone = false
		}
	}
	err := cond(ErrPeerNotForwarding, "no member other than %s is ACTIVE", n)
	if allGone {
		return fmt.Errorf("%w: %w (every other member is unreachable)", upgrade.ErrPermanent, err)
	}
	return err
}

// waitBack waits until n is back on the target.
func (b *builder) waitBack(n string) upgrade.Step {
	m := b.member(n)
	return &upgrade.Wait{
		StepID:  b.id("wait", n),
		Desc:    fmt.Sprintf("wait until %s is back on %s, READY (sk107042: an upgraded member is READY until MVC is on and a policy is installed) or STANDBY, Active PNOTEs None; another member ACTIVE", n, b.target),
		Cluster: b.c,
		G: upgrade.Gate{Name: n + " back on " + b.target, Timing: b.timing, Check: func(s upgrade.Snapshot) error {
			if st, ok := s.Member(n); ok && st.Version != "" && !sameRelease(st.Version, b.target) {
				m.armPending(b.target)
			}
			return errors.Join(b.memberCond(s, n, true, upgrade.RoleReady, upgrade.RoleStandby), b.otherActive(s, n))
		}},
	}
}

// mvcOn enables MVC on n and reads it back.
func (b *builder) mvcOn(n string) upgrade.Step { return b.mvcStep(n, true) }

// mvcOff disables MVC on n and reads it back.
func (b *builder) mvcOff(n string) upgrade.Step { return b.mvcStep(n, false) }

func (b *builder) mvcStep(n string, on bool) upgrade.Step {
	m := b.member(n)
	kind, word := "mvc-off", "off"
	desc := fmt.Sprintf("disable MVC on %s: cphaconf mvc off (prints nothing), read back with cphaprob mvc (R81 CLI Reference Guide, \"Configuring the Multi-Version Cluster Mechanism\"; R81.20 Installation and Upgrade Guide)", n)
	if on {
		kind, word = "mvc-on", "on"
		desc = fmt.Sprintf("enable MVC on %s: cphaconf mvc on (prints nothing), read back with cphaprob mvc (R81 CLI Reference Guide, \"Configuring the Multi-Version Cluster Mechanism\"; sk107042)", n)
	}
	if b.c.cfg.VSX {
		desc += ", in VS0"
	}
	// Three polls, and at least 2 s for one `cphaprob mvc` round trip on a
	// slow session, never more than the gate's own deadline.
	readBack := upgrade.Timing{Interval: b.timing.Interval, Deadline: min(max(3*b.timing.Interval, 2*time.Second), b.timing.Deadline)}
	return &upgrade.Func{
		StepID:    b.id(kind, n),
		Desc:      desc,
		Retryable: true,
		Do: func(ctx context.Context) error {
			if err := m.setMVC(ctx, on, readBack); err != nil {
				return fmt.Errorf("checkpoint: MVC %s on %s: %w", word, n, err)
			}
			return nil
		},
		Check: func(ctx context.Context) (bool, error) {
			got, _, err := m.readMVC(ctx)
			if err != nil {
				return false, err
			}
			return got == on, nil
		},
	}
}

// waitJoined waits until n joined the cluster as STANDBY.
func (b *builder) waitJoined(n string) upgrade.Step {
	return &upgrade.Wait{
		StepID:  b.id("wait:joined", n),
		Desc:    fmt.Sprintf("wait until %s has joined the cluster as STANDBY on %s (MVC on and a policy for its release, sk107042) and the ACTIVE member shows no attention flag", n, b.target),
		Cluster: b.c,
		G: upgrade.Gate{Name: n + " joined as STANDBY", Timing: b.timing, Check: func(s upgrade.Snapshot) error {
			var errs []error
			if st, ok := s.Member(n); ok && st.Role == upgrade.RoleReady {
				errs = append(errs, &MemberError{Member: n, Op: "gate", Err: cond(ErrStillReady,
					"%s is still READY after MVC on and a policy installation (CoreXL instance or core counts that differ keep a member READY: sk106912)", n)})
			} else if err := b.memberCond(s, n, true, upgrade.RoleStandby); err != nil {
				errs = append(errs, err)
			}
			if len(s.Forwarding()) == 0 {
				errs = append(errs, cond(ErrPeerNotForwarding, "no member is ACTIVE without attention flag"))
			}
			for _, p := range s.Problems {
				errs = append(errs, classify(p))
			}
			return errors.Join(errs...)
		}},
	}
}

// failoverSafe is the failover's precondition: every member but final on
// the target, STANDBY and healthy; final forwarding; no cluster problem.
func (b *builder) failoverSafe(final string) func(upgrade.Snapshot) error {
	return func(s upgrade.Snapshot) error {
		var errs []error
		for _, n := range b.others(final) {
			if err := b.memberCond(s, n, true, upgrade.RoleStandby); err != nil {
				errs = append(errs, err)
			}
		}
		if st, _ := s.Member(final); !st.Forwarding() {
			errs = append(errs, &MemberError{Member: final, Op: "failover", Err: cond(ErrUnexpectedRole, "%s is %s, not ACTIVE and forwarding", final, st.Raw)})
		}
		for _, p := range s.Problems {
			errs = append(errs, classify(p))
		}
		return errors.Join(errs...)
	}
}

// failover hands over from final to the upgraded members.
func (b *builder) failover(final string) upgrade.Step {
	c := b.c
	up := b.others(final)
	return &upgrade.Func{
		StepID: b.id("failover:from", final),
		Desc: fmt.Sprintf("fail over from %s to the upgraded %s: clusterXL_admin down on %s (ClusterXL Administration Guide, \"clusterXL_admin\"; R81.20 Installation and Upgrade Guide, \"Multi-Version Cluster Upgrade\")",
			final, strings.Join(up, ", "), final),
		IsFailover: true,
		Safe:       b.failoverSafe(final),
		Do: func(ctx context.Context) error {
			unlock := c.lockAll()
			defer unlock()
			return c.failoverLocked(ctx, c.Member(up[0]), up)
		},
		Check: func(ctx context.Context) (bool, error) {
			s, err := c.Observe(ctx)
			if err != nil {
				return false, err
			}
			return b.failedOver(s, final) == nil, nil
		},
	}
}

// failedOver: an upgraded member forwards and final is not ACTIVE.
func (b *builder) failedOver(s upgrade.Snapshot, final string) error {
	if st, _ := s.Member(final); st.Role == upgrade.RoleActive {
		return &MemberError{Member: final, Op: "gate", Err: cond(ErrUnexpectedRole, "%s is still %s", final, st.Raw)}
	}
	for _, n := range b.others(final) {
		if st, _ := s.Member(n); st.Forwarding() && sameRelease(st.Version, b.target) {
			return nil
		}
	}
	return cond(ErrPeerNotForwarding, "no upgraded member is ACTIVE and forwarding yet")
}

// waitFailover waits until an upgraded member forwards.
func (b *builder) waitFailover(final string) upgrade.Step {
	return &upgrade.Wait{
		StepID:  b.id("wait:failover:from", final),
		Desc:    fmt.Sprintf("wait until an upgraded member is ACTIVE and forwarding on %s and %s is no longer ACTIVE", b.target, final),
		Cluster: b.c,
		G: upgrade.Gate{Name: "failover from " + final, Timing: b.timing, Check: func(s upgrade.Snapshot) error {
			return b.failedOver(s, final)
		}},
	}
}

// restoreStep fails back to x (the optional restore of the original
// ACTIVE).
func (b *builder) restoreStep(x string) upgrade.Step {
	c := b.c
	return &upgrade.Func{
		StepID:     b.id("restore:to", x),
		Desc:       fmt.Sprintf("restore %s as the ACTIVE member: clusterXL_admin down on the current ACTIVE member (R81.20 Installation and Upgrade Guide; ClusterXL Administration Guide, \"clusterXL_admin\")", x),
		IsFailover: true,
		Safe: func(s upgrade.Snapshot) error {
			if st, _ := s.Member(x); st.Forwarding() {
				return nil
			}
			errs := []error{b.memberCond(s, x, true, upgrade.RoleStandby)}
			if len(s.Forwarding()) == 0 {
				errs = append(errs, cond(ErrPeerNotForwarding, "no member forwards"))
			}
			for _, p := range s.Problems {
				errs = append(errs, classify(p))
			}
			return errors.Join(errs...)
		},
		Do: func(ctx context.Context) error { return c.Failover(ctx, x) },
		Check: func(ctx context.Context) (bool, error) {
			s, err := c.Observe(ctx)
			if err != nil {
				return false, err
			}
			st, _ := s.Member(x)
			return st.Forwarding(), nil
		},
	}
}

// waitRestore waits until x forwards.
func (b *builder) waitRestore(x string) upgrade.Step {
	return &upgrade.Wait{
		StepID:  b.id("wait:restore:to", x),
		Desc:    fmt.Sprintf("wait until %s is ACTIVE and forwarding", x),
		Cluster: b.c,
		G: upgrade.Gate{Name: x + " ACTIVE again", Timing: b.timing, Check: func(s upgrade.Snapshot) error {
			return b.memberCond(s, x, true, upgrade.RoleActive)
		}},
	}
}

// adminUp brings administratively down members back.
func (b *builder) adminUp() upgrade.Step {
	c := b.c
	downed := func(s upgrade.Snapshot) []string {
		var out []string
		for _, st := range s.Members {
			if slices.ContainsFunc(st.Problems, func(p string) bool { return errors.Is(classify(p), ErrAdminDown) }) {
				out = append(out, st.ID)
			}
		}
		return out
	}
	return &upgrade.Func{
		StepID:    b.id("admin-up", ""),
		Desc:      "clusterXL_admin up on every member still administratively down (clusterXL_admin down is not persistent: a reboot already undoes it), then read the states back",
		Retryable: true,
		Do: func(ctx context.Context) error {
			s, err := c.Observe(ctx)
			if err != nil {
				return err
			}
			for _, n := range downed(s) {
				if err := c.adminUp(ctx, c.Member(n)); err != nil {
					return err
				}
			}
			return upgrade.PollUntil(ctx, "members back from admin down", b.timing, func(ctx context.Context) error {
				s, err := c.Observe(ctx)
				if err != nil {
					return err
				}
				if d := downed(s); len(d) > 0 {
					return cond(ErrAdminDown, "%s still administratively down", strings.Join(d, ", "))
				}
				return nil
			}, nil)
		},
		Check: func(ctx context.Context) (bool, error) {
			s, err := c.Observe(ctx)
			if err != nil {
				return false, err
			}
			return len(downed(s)) == 0, nil
		},
	}
}

// postcheck waits for the end state.
func (b *builder) postcheck() upgrade.Step {
	return &upgrade.Wait{
		StepID:  b.id("postcheck", ""),
		Desc:    fmt.Sprintf("post-check: every member on %s, one ACTIVE, the others STANDBY, Active PNOTEs None, MVC off, the members agree", b.target),
		Cluster: b.c,
		G:       upgrade.Gate{Name: "post-check", Timing: b.timing, Check: b.endState},
	}
}

// endState is the plan's end state (see Planner).
func (b *builder) endState(s upgrade.Snapshot) error {
	var errs []error
	rs := b.c.readingsOf(s)
	active := ""
	for i, m := range b.c.members {
		n := m.gw.Name
		st, ok := s.Member(n)
		if !ok {
			errs = append(errs, &MemberError{Member: n, Op: "end state", Err: cond(ErrUnreadable, "missing from the snapshot")})
			continue
		}
		if st.Role == upgrade.RoleActive {
			if active != "" {
				errs = append(errs, cond(ErrSplitBrain, "%s and %s both ACTIVE", active, n))
			}
			active = n
			if err := b.memberCond(s, n, true, upgrade.RoleActive); err != nil {
				errs = append(errs, err)
			}
		} else if err := b.memberCond(s, n, true, upgrade.RoleStandby); err != nil {
			errs = append(errs, err)
		}
		switch {
		case rs == nil || i >= len(rs) || rs[i].mvc == nil:
			errs = append(errs, &MemberError{Member: n, Op: "end state", Err: cond(ErrUnreadable, "MVC setting not read")})
		case rs[i].mvc.Enabled:
			errs = append(errs, &MemberError{Member: n, Op: "end state", Err: cond(ErrMVCReadBack, "MVC is still on (%s)", rs[i].mvc.Text)})
		}
	}
	if jt := b.c.cfg.JumboTake; b.c.cfg.JumboPath != "" {
		for i, m := range b.c.members {
			if rs == nil || i >= len(rs) || rs[i].take < jt {
				have := "unknown"
				if rs != nil && i < len(rs) && rs[i].take >= 0 {
					have = fmt.Sprint(rs[i].take)
				}
				errs = append(errs, &MemberError{Member: m.gw.Name, Op: "end state", Err: cond(ErrUnexpectedVersion, "Jumbo take %s, want %d", have, jt)})
			}
		}
	}
	if active == "" {
		errs = append(errs, cond(ErrNoActive, "no member is ACTIVE"))
	} else if b.restore != "" && active != b.restore {
		errs = append(errs, &MemberError{Member: b.restore, Op: "end state", Err: cond(ErrUnexpectedRole, "%s is ACTIVE, not %s", active, b.restore)})
	}
	for _, p := range s.Problems {
		errs = append(errs, classify(p))
	}
	return errors.Join(errs...)
}

// converged is the plan's end state (upgrade.Plan.Converged), its error
// prefixed with every member's release and state.
func (b *builder) converged(s upgrade.Snapshot) error {
	err := b.endState(s)
	if err == nil {
		return nil
	}
	var ms []string
	for _, m := range b.c.members {
		st, ok := s.Member(m.gw.Name)
		switch {
		case !ok:
			ms = append(ms, m.gw.Name+" not observed")
		case st.Version == "":
			ms = append(ms, fmt.Sprintf("%s runs an unknown release (%s)", m.gw.Name, st.Role))
		default:
			ms = append(ms, fmt.Sprintf("%s runs %s (%s)", m.gw.Name, st.Version, st.Raw))
		}
	}
	return fmt.Errorf("checkpoint: cluster %s is not in its end state (every member on %s, one ACTIVE, the others STANDBY, PNOTEs None, MVC off): %s: %w",
		b.c.Name(), b.target, strings.Join(ms, ", "), err)
}
