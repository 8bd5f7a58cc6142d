package temporal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/hitless/hitless/upgrade"
	"go.temporal.io/sdk/activity"
	temporalsdk "go.temporal.io/sdk/temporal"
)

// Names under which Register registers the activities; workflows call
// them by these names.
const (
	// ActivityPreCheck is the name of Activities.PreCheck.
	ActivityPreCheck = "hitless.PreCheck"
	// ActivityRunSteps is the name of Activities.RunSteps.
	ActivityRunSteps = "hitless.RunSteps"
	// ActivityConverge is the name of Activities.Converge.
	ActivityConverge = "hitless.Converge"
)

// ClusterRef names the cluster of an activity: its name, the Registry
// entry that builds it, and the target. It carries no credentials.
type ClusterRef struct {
	// Cluster is the cluster's name (upgrade.Cluster.Name): the plan,
	// journal and report key. The cluster the worker builds must have this
	// name.
	Cluster string `json:"cluster"`
	// Ref is the Registry name of the Builder; "" means Cluster.
	Ref string `json:"ref,omitempty"`
	// Target is the target version passed to the planner.
	Target string `json:"target"`
}

func (r ClusterRef) ref() string {
	if r.Ref == "" {
		return r.Cluster
	}
	return r.Ref
}

// PlanInfo is what the workflow keeps of the plan made at its start: the
// step IDs with the members each disrupts (the journal's plan record) and
// each step's batch group, from which the workflow forms its units of
// work.
type PlanInfo struct {
	// Target is the plan's target (the planner may resolve the requested
	// one, e.g. an Aviatrix "6.7" to its latest build).
	Target string `json:"target"`
	// Fingerprint is upgrade.Plan.Fingerprint.
	Fingerprint string `json:"fingerprint"`
	// Steps are the step IDs in plan order.
	Steps []string `json:"steps"`
	// Disrupts[i] lists the members Steps[i] disrupts.
	Disrupts [][]string `json:"disrupts"`
	// Groups[i] is Steps[i]'s batch group (upgrade.Grouper), "" for none.
	Groups []string `json:"groups"`
	// Snapshot is the observation the plan was made from. Every later
	// activity makes the plan again from it, which gives back this very
	// plan (checked with Fingerprint): the workflow runs the plan it
	// started with, as the executor runs the plan it is given.
	Snapshot upgrade.Snapshot `json:"snapshot"`
}

// Units returns the plan's units of work in order: each step alone, except
// consecutive steps of one non-empty group (a batch), which the executor
// runs together under one guard verdict on the union of their members and
// which therefore run in one activity.
func (p PlanInfo) Units() [][]string {
	var units [][]string
	for i := 0; i < len(p.Steps); {
		j := i + 1
		if g := p.group(i); g != "" {
			for j < len(p.Steps) && p.group(j) == g {
				j++
			}
		}
		units = append(units, slices.Clone(p.Steps[i:j]))
		i = j
	}
	return units
}

func (p PlanInfo) group(i int) string {
	if i < len(p.Groups) {
		return p.Groups[i]
	}
	return ""
}

// planRecord is the journal's plan record for the sub-runs of this plan,
// with the given target ("" for step sub-runs, the plan's for the
// end-state run).
func (p PlanInfo) planRecord(cluster, target string) upgrade.Record {
	return upgrade.Record{Seq: 1, Kind: upgrade.RecordPlan, Cluster: cluster, Target: target,
		Fingerprint: p.Fingerprint, Steps: slices.Clone(p.Steps), Disrupts: slices.Clone(p.Disrupts)}
}

func planInfo(p upgrade.Plan) PlanInfo {
	info := PlanInfo{Target: p.Target, Fingerprint: p.Fingerprint(), Steps: p.StepIDs(),
		Disrupts: make([][]string, len(p.Steps)), Groups: make([]string, len(p.Steps))}
	for i, s := range p.Steps {
		info.Disrupts[i] = slices.Clone(s.Disrupts())
		if info.Disrupts[i] == nil {
			info.Disrupts[i] = []string{}
		}
		if g, ok := s.(upgrade.Grouper); ok {
			info.Groups[i] = g.Group()
		}
	}
	return info
}

// PreCheckInput is the input of the PreCheck activity.
type PreCheckInput struct {
	ClusterRef
}

// PreCheckOutput is what the PreCheck activity returns: the dry run's
// report (pre-checks, initial versions, the planned steps) and the plan.
type PreCheckOutput struct {
	// Report is the executor's dry-run report.
	Report *upgrade.Report `json:"report"`
	// Plan is the plan the workflow runs.
	Plan PlanInfo `json:"plan"`
	// Rendered is the plan as the dry run prints it (upgrade.Plan.Render).
	Rendered string `json:"rendered"`
}

// StepsInput is the input of the RunSteps activity: one unit of work (a
// step, or the steps of one batch) of the plan, and the journal records of
// the workflow run so far.
type StepsInput struct {
	ClusterRef
	// Plan is the plan made at the start (PreCheckOutput.Plan).
	Plan PlanInfo `json:"plan"`
	// Steps are the IDs to run now, in plan order.
	Steps []string `json:"steps"`
	// Records are the step records (start, finish, fail) of the earlier
	// units, oldest first.
	Records []upgrade.Record `json:"records,omitempty"`
	// Rerun is passed to upgrade.Executor.Rerun.
	Rerun []string `json:"rerun,omitempty"`
}

// StepsOutput is what the RunSteps activity returns (on failure, as the
// details of its ApplicationError).
type StepsOutput struct {
	// Report is the sub-run's report: one entry per step of the unit.
	Report *upgrade.Report `json:"report"`
	// Records are the records this unit added, oldest first.
	Records []upgrade.Record `json:"records,omitempty"`
}

// ConvergeInput is the input of the Converge activity.
type ConvergeInput struct {
	ClusterRef
	// Plan is the plan made at the start.
	Plan PlanInfo `json:"plan"`
	// Records are every step record of the workflow run.
	Records []upgrade.Record `json:"records,omitempty"`
}

// Progress is the heartbeat detail of the RunSteps activity: the step
// records of the workflow run so far, including those of the running
// unit. A retried attempt (the worker died) starts from them, so an
// interrupted step is verified before it is redone and a finished one is
// skipped.
type Progress struct {
	// Records are the step records, oldest first.
	Records []upgrade.Record `json:"records,omitempty"`
}

// Activities are the activities of a worker: they build clusters and
// plans from the Registry and run them through the core executor. The
// rules of a safe upgrade (pre-checks, the availability guard before every
// disruptive step, the check after every step, gates, retries of
// idempotent steps, the journal's resume semantics, the end-state check)
// are all the executor's; the activities only choose what it runs and
// where its journal lives.
type Activities struct {
	// Registry resolves ClusterRef.Ref to a Builder.
	Registry *Registry
	// Executor is the template of every executor the activities create:
	// Logger, Retry, SettleTiming, Redact (the secrets the worker holds:
	// kept out of records, events, reports and the errors that reach the
	// workflow history) and Approve are used as they are; PreChecks run in
	// the PreCheck activity only (the fresh run); OnEvent is called with
	// every event besides the activity's own use of it (a heartbeat per
	// event). Journal, DryRun and Rerun are set by the activities.
	Executor upgrade.Executor
}

// executor returns a copy of the template for one activity.
func (a *Activities) executor(hb *hbJournal) *upgrade.Executor {
	ex := a.Executor
	ex.Journal, ex.DryRun, ex.Rerun, ex.PreChecks = nil, false, nil, nil
	user := a.Executor.OnEvent
	ex.OnEvent = func(ev upgrade.Event) {
		hb.kickNow()
		if user != nil {
			user(ev)
		}
	}
	return &ex
}

// open builds the cluster of ref and makes the plan: from the snapshot
// the workflow's plan was made from (from, with its fingerprint), which
// gives back that very plan when the planner is, as the contract says, a
// pure function of (snapshot, target); otherwise (no snapshot yet, a
// planner that reads more than the snapshot, or one that now refuses it)
// from a fresh observation, the planner contract's resume path (the
// remaining work under the same step IDs; replanned is then true, and its
// failures are *replanError values).
func (a *Activities) open(ctx context.Context, ref ClusterRef, j upgrade.Journal, from *upgrade.Snapshot, fingerprint string) (c upgrade.Cluster, p upgrade.Plan, snap upgrade.Snapshot, closeFn func(), replanned bool, err error) {
	closeFn = func() {}
	b, err := a.Registry.lookup(ref.ref())
	if err != nil {
		return nil, p, snap, closeFn, false, err
	}
	c, planner, err := b(ctx, j)
	if err != nil {
		return nil, p, snap, closeFn, false, err
	}
	closeFn = func() {
		if cl, ok := c.(io.Closer); ok {
			_ = cl.Close()
		}
	}
	fail := func(err error) (upgrade.Cluster, upgrade.Plan, upgrade.Snapshot, func(), bool, error) {
		closeFn()
		return nil, upgrade.Plan{}, snap, func() {}, replanned, err
	}
	if err := upgrade.ValidateCluster(c); err != nil {
		return fail(err)
	}
	if planner == nil {
		return fail(&upgrade.InvalidError{What: "cluster reference " + ref.ref(), Problems: []string{"the Builder returned no planner"}})
	}
	if c.Name() != ref.Cluster {
		return fail(&upgrade.InvalidError{What: "cluster reference " + ref.ref(), Problems: []string{
			fmt.Sprintf("the worker builds cluster %q, the workflow upgrades %q", c.Name(), ref.Cluster)}})
	}
	if from != nil {
		if p, err := planner.Plan(*from, ref.Target); err == nil && p.Cluster == ref.Cluster && p.Fingerprint() == fingerprint {
			return c, p, *from, closeFn, false, nil
		}
		replanned = true
	}
	snap, err = c.Observe(ctx)
	if err != nil {
		return fail(fmt.Errorf("observe cluster %s: %w", ref.Cluster, err))
	}
	p, err = planner.Plan(snap, ref.Target)
	if err != nil {
		if replanned {
			err = &replanError{err}
		}
		return fail(err)
	}
	if p.Cluster != ref.Cluster {
		return fail(&upgrade.InvalidError{What: "plan", Problems: []string{fmt.Sprintf("plan is for cluster %q, not %q", p.Cluster, ref.Cluster)}})
	}
	return c, p, snap, closeFn, replanned, nil
}

// PreCheck is the first activity of an upgrade: it builds the cluster,
// observes it, plans the target, and runs that plan through a fresh
// executor with DryRun set. That is the executor's own fresh-run path
// without any step: validation, the fresh-run pre-checks (the built-in
// "some member forwards" and "no cluster-wide problems", every PreChecker
// of the cluster and its members, Executor.PreChecks), and the
// state-independent part of the guard on every step (a step that would
// disrupt every member, or both members of a pair, is refused here
// already). Nothing on a device changes. A failure is a non-retryable
// ApplicationError (TypePreCheck, TypeInvalid, TypeUnsafe, TypeAuth, …)
// with the dry-run report as details.
func (a *Activities) PreCheck(ctx context.Context, in PreCheckInput) (*PreCheckOutput, error) {
	hb, done := a.heartbeater(ctx, nil)
	defer done()
	c, p, snap, closeFn, _, err := a.open(hb.runCtx, in.ClusterRef, &upgrade.MemoryJournal{}, nil, "")
	if err != nil {
		return nil, applicationError(err, a.Executor.Redact)
	}
	defer closeFn()
	ex := a.executor(hb)
	ex.DryRun, ex.PreChecks = true, a.Executor.PreChecks
	rep, err := ex.Run(hb.runCtx, c, p)
	info := planInfo(p)
	info.Snapshot = snap
	out := &PreCheckOutput{Report: rep, Plan: info, Rendered: p.Render()}
	if err != nil {
		return nil, applicationError(err, a.Executor.Redact, rep)
	}
	return out, nil
}

// RunSteps runs one unit of work of the plan (a step, or the steps of a
// batch) through a fresh executor on a sub-plan holding only those steps
// (same cluster, no target), whose journal already holds the plan's record
// and the workflow's records so far: the executor is therefore in resume
// mode, with no fresh-run pre-checks, and applies all its rules to the
// unit: a finished step is skipped; an interrupted or failed one is
// verified before it is redone (or stops the run with TypeNeedsDecision
// unless listed in Rerun); the availability guard re-observes the cluster
// right before a disruptive step; gates poll inside the activity; the
// check after every step; retries of idempotent steps.
//
// The plan is made again from the snapshot it was first made from
// (PlanInfo.Snapshot), which gives back the workflow's plan, step closures
// included, when the planner is a pure function of (snapshot, target), as
// the upgrade.Planner contract asks (upgrade.Rolling, clavister.Planner,
// aviatrix.Cluster). When it does not (the fingerprint differs, or the
// planner refuses), the plan is made from a fresh observation instead: the
// contract's resume path, the remaining work under the same step IDs; a
// step of the unit that this re-plan no longer holds is then reported
// skipped ("not in the re-plan"), and the end-state check at the end of
// the workflow judges the result. A step that is not gated nor guarded
// gets an observation right before it, as in a continuous run, so the
// check after it compares with a fresh "before".
//
// Every journal record is heartbeated to the Temporal server before
// Append returns (see Progress): the start of a reboot is durable before
// the reboot is sent, so a worker that dies mid-step leaves the step
// interrupted in the heartbeat, and the retried attempt verifies it rather
// than sending the command again.
func (a *Activities) RunSteps(ctx context.Context, in StepsInput) (*StepsOutput, error) {
	seed := in.Records
	if activity.HasHeartbeatDetails(ctx) {
		var p Progress
		if err := activity.GetHeartbeatDetails(ctx, &p); err == nil && len(p.Records) >= len(in.Records) {
			seed = p.Records
		}
	}
	hb, done := a.heartbeater(ctx, seed)
	defer done()
	rec := in.Plan.planRecord(in.Cluster, "")
	hb.setPlan(rec)
	base := len(in.Records)
	out := &StepsOutput{}
	result := func(err error) (*StepsOutput, error) {
		out.Records = hb.since(base)
		if err != nil {
			return nil, applicationError(err, a.Executor.Redact, out)
		}
		return out, nil
	}
	c, p, _, closeFn, replanned, err := a.open(hb.runCtx, in.ClusterRef, hb, &in.Plan.Snapshot, in.Plan.Fingerprint)
	if err != nil {
		return result(err)
	}
	defer closeFn()
	byID := map[string]upgrade.Step{}
	for _, s := range p.Steps {
		if s != nil {
			byID[s.ID()] = s
		}
	}
	sub := upgrade.Plan{Cluster: p.Cluster}
	var missing []string
	for _, id := range in.Steps {
		if s, ok := byID[id]; ok {
			sub.Steps = append(sub.Steps, s)
		} else {
			missing = append(missing, id)
		}
	}
	ex := a.executor(hb)
	ex.Journal, ex.Rerun = hb, in.Rerun
	if len(sub.Steps) > 0 && !observesFirst(sub.Steps) {
		ex.PreChecks = []upgrade.PreCheck{{Name: observeBefore, Check: func(context.Context, upgrade.Snapshot) error { return nil }}}
	}
	var rep *upgrade.Report
	if len(sub.Steps) > 0 {
		rep, err = ex.Run(hb.runCtx, c, sub)
		if ex.PreChecks != nil && errors.Is(err, upgrade.ErrPreCheck) {
			// Only the observation before the step can fail here.
			err = &observeError{err}
		}
		rep.PreChecks, rep.InitialVersions = nil, nil
	} else {
		now := time.Now()
		rep = &upgrade.Report{Cluster: p.Cluster, Started: now, Finished: now, OK: true, FinalVersions: map[string]string{}}
	}
	for _, id := range missing {
		note := "not in the plan"
		if replanned {
			note = "not in the re-plan from the current state: nothing left to do"
		}
		rep.Steps = append(rep.Steps, upgrade.StepReport{Name: id, Status: upgrade.StatusSkipped, Note: note})
	}
	out.Report = rep
	return result(err)
}

// observeBefore names the pre-check that only makes a resumed sub-run
// observe the cluster before its first step.
const observeBefore = "observe before the step"

// observesFirst reports whether the executor observes the cluster itself
// before the first of steps runs: a gate (whose first poll must be the
// first look, as in any resumed run) or a step that passes the guard.
func observesFirst(steps []upgrade.Step) bool {
	s := steps[0]
	if _, ok := s.(upgrade.Gated); ok {
		return true
	}
	if len(s.Disrupts()) > 0 {
		return true
	}
	if d, ok := s.(upgrade.DowntimeDeclarer); ok && d.Downtime() {
		return true
	}
	if f, ok := s.(*upgrade.Func); ok {
		return f.Safe != nil
	}
	_, ok := s.(upgrade.SafetyChecker)
	return ok
}

// Converge is the last activity of an upgrade: the end-state check. It
// makes the plan again (as RunSteps does) and runs, through a fresh
// executor in resume mode (the journal holds the plan record with the real
// target and every step record of the workflow), a plan with no step but
// the real Target and the planner's end state (upgrade.Plan.Converged):
// the executor observes the cluster and fails with TypeNotConverged unless
// it shows the end state. It returns that run's report (final versions).
func (a *Activities) Converge(ctx context.Context, in ConvergeInput) (*upgrade.Report, error) {
	hb, done := a.heartbeater(ctx, in.Records)
	defer done()
	c, p, _, closeFn, _, err := a.open(hb.runCtx, in.ClusterRef, hb, &in.Plan.Snapshot, in.Plan.Fingerprint)
	if err != nil {
		return nil, applicationError(err, a.Executor.Redact)
	}
	defer closeFn()
	hb.setPlan(in.Plan.planRecord(in.Cluster, p.Target))
	ex := a.executor(hb)
	ex.Journal = hb
	rep, err := ex.Run(hb.runCtx, c, upgrade.Plan{Cluster: p.Cluster, Target: p.Target, Converged: p.Converged})
	if err != nil {
		return nil, applicationError(err, a.Executor.Redact, rep)
	}
	return rep, nil
}

// errCancelRequested is the cause of a run stopped because the workflow
// cancelled the activity.
var errCancelRequested = errors.New("the workflow cancelled the activity")

// hbJournal is the journal of one activity's sub-run: an in-memory
// journal (the plan record, then the step records) that heartbeats every
// record to the Temporal server before Append returns. It heartbeats
// through the worker's client (RecordActivityHeartbeat with the task
// token), which sends at once and reports the outcome, rather than
// activity.RecordHeartbeat, which batches calls within a throttle
// interval and returns nothing: Append's contract is that a record
// survives a crash once Append returned nil. Every heartbeat carries all
// records so far and heartbeats are serialised, so the server's last
// details are always the full journal. Between records it heartbeats on
// every executor event (gate polls) and on a timer, to keep the lease.
type hbJournal struct {
	actx   context.Context // the activity's context: no heartbeat after it ends
	runCtx context.Context // the executor's context, cancelled by stop
	stop   context.CancelCauseFunc
	send   func(ctx context.Context, p Progress) error
	every  time.Duration // keep-alive period
	gap    time.Duration // least time between event-driven heartbeats
	kick   chan struct{}

	mu   sync.Mutex
	plan *upgrade.Record
	recs []upgrade.Record
	last time.Time
}

// heartbeater returns the activity's heartbeating journal seeded with
// records, after a first heartbeat, and a function that ends it.
func (a *Activities) heartbeater(ctx context.Context, records []upgrade.Record) (*hbJournal, func()) {
	info := activity.GetInfo(ctx)
	hbt := info.HeartbeatTimeout
	if hbt <= 0 {
		hbt = DefaultHeartbeatTimeout
	}
	runCtx, stop := context.WithCancelCause(ctx)
	client := activity.GetClient(ctx)
	token := info.TaskToken
	j := &hbJournal{actx: ctx, runCtx: runCtx, stop: stop, every: max(hbt/4, time.Millisecond), gap: max(hbt/20, time.Millisecond),
		kick: make(chan struct{}, 1), recs: slices.Clone(records),
		send: func(ctx context.Context, p Progress) error {
			sctx, cancel := context.WithTimeout(ctx, hbt)
			defer cancel()
			return client.RecordActivityHeartbeat(sctx, token, p)
		}}
	j.mu.Lock()
	_ = j.sendLocked(j.recs)
	j.mu.Unlock()
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { j.keepAlive(quit) })
	return j, func() {
		close(quit)
		wg.Wait()
		stop(nil)
	}
}

func (j *hbJournal) setPlan(r upgrade.Record) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.plan = &r
}

// since returns the step records after the first n.
func (j *hbJournal) since(n int) []upgrade.Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	if n >= len(j.recs) {
		return nil
	}
	return slices.Clone(j.recs[n:])
}

// Load implements upgrade.Journal: the plan record, then the step
// records, numbered 1, 2, 3….
func (j *hbJournal) Load(context.Context) ([]upgrade.Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]upgrade.Record, 0, len(j.recs)+1)
	if j.plan != nil {
		out = append(out, *j.plan)
	}
	out = append(out, j.recs...)
	for i := range out {
		out[i].Seq = i + 1
	}
	return out, nil
}

// Append implements upgrade.Journal: the record is kept only once the
// server acknowledged a heartbeat holding it.
func (j *hbJournal) Append(_ context.Context, r upgrade.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if r.Kind == upgrade.RecordPlan {
		j.plan = &r
		return nil
	}
	next := append(slices.Clone(j.recs), r)
	if err := j.sendLocked(next); err != nil {
		return err
	}
	j.recs = next
	return nil
}

// sendLocked heartbeats recs. A heartbeat the server answers with a
// cancellation was recorded: the run is stopped at its next safe point.
// Any other failure may mean the lease is lost (the server timed the
// attempt out and another may run): the run is stopped too.
func (j *hbJournal) sendLocked(recs []upgrade.Record) error {
	if err := j.actx.Err(); err != nil {
		j.stop(err)
		return &heartbeatError{err}
	}
	err := j.send(j.actx, Progress{Records: recs})
	j.last = time.Now()
	switch {
	case err == nil:
		return nil
	case temporalsdk.IsCanceledError(err), errors.Is(err, activity.ErrActivityPaused), errors.Is(err, activity.ErrActivityReset):
		j.stop(errCancelRequested)
		return nil
	default:
		j.stop(err)
		return &heartbeatError{err}
	}
}

// kickNow asks for a heartbeat soon (an executor event: a gate poll, a
// step start); it never blocks.
func (j *hbJournal) kickNow() {
	if j == nil {
		return
	}
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// keepAlive heartbeats every j.every, and after events at most every
// j.gap, until quit or the activity's context ends.
func (j *hbJournal) keepAlive(quit <-chan struct{}) {
	t := time.NewTicker(j.every)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-j.actx.Done():
			j.stop(j.actx.Err())
			return
		case <-t.C:
		case <-j.kick:
			j.mu.Lock()
			recent := time.Since(j.last) < j.gap
			j.mu.Unlock()
			if recent {
				continue
			}
		}
		j.mu.Lock()
		_ = j.sendLocked(j.recs)
		j.mu.Unlock()
	}
}
