package upgrade

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Retry governs how idempotent steps are retried after a failure. Steps
// that are not idempotent are never retried.
type Retry struct {
	// Attempts is the total number of tries (1 = no retry). 0 means 3.
	Attempts int
	// Initial backoff before the second try; doubled each time. 0 means 5s.
	Initial time.Duration
	// Max caps the backoff. 0 means 1 minute.
	Max time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 3
	}
	if r.Initial <= 0 {
		r.Initial = 5 * time.Second
	}
	if r.Max <= 0 {
		r.Max = time.Minute
	}
	return r
}

// PreCheck is a named read-only check run before the first step. All
// pre-checks run; every failure is reported at once in a *PreCheckError.
type PreCheck struct {
	// Name identifies the check in events and errors.
	Name string
	// Check returns nil when the snapshot (taken just before the
	// pre-checks) and whatever it reads itself are fine.
	Check func(ctx context.Context, s Snapshot) error
}

// Executor runs plans. The zero value is usable: no journal, no events,
// default retry, logs discarded. An Executor may run several plans one after
// another; it holds no per-run state.
type Executor struct {
	// Logger receives every event as one record (message = the event's
	// Message; attributes cluster, kind, step, attempt, poll, error); nil
	// discards. Levels: gate-poll at Debug; any event with an error
	// (a failed pre-check, a guard refusal, a retry, a step failure, a
	// stop, a done with an error, a check after a step that found a
	// disruption) at Warn; everything else (plan, resume, precheck passed,
	// step start/finish/skip, guard accepted, done ok) at Info. Vendor
	// packages take their own Logger in their configuration and pass it to
	// the layers below them (driver sessions, API clients).
	Logger *slog.Logger
	// OnEvent, if set, is called synchronously with every event (progress
	// bars, audit). It must not block for long.
	OnEvent func(Event)
	// Journal records progress durably so a new Executor can resume;
	// nil runs without one.
	Journal Journal
	// Retry applies to idempotent steps.
	Retry Retry
	// DryRun renders the plan and runs read-only pre-checks; no step runs
	// and the journal is not written.
	DryRun bool
	// PreChecks run before the first step, with (on a fresh run only) the
	// built-in "some member forwards" check and every PreChecker of the
	// cluster and its members; on a resume only these run, since a
	// half-upgraded cluster fails vendor checks such as "versions
	// consistent" by design.
	PreChecks []PreCheck
	// Approve, if set, is asked before every step that disrupts members,
	// declares downtime or has a safety precondition (a failover), with a
	// fresh snapshot; a non-nil error refuses the step and stops the run.
	// The guard runs after the approval, right before the step, so a slow
	// approval never acts on a stale verdict.
	Approve func(ctx context.Context, s Step, snap Snapshot) error
	// Redact lists secrets (passwords, API keys) replaced by "********" in
	// every event, journal record and report this executor writes, and in
	// the text of the error Run returns: a safety net for vendor errors
	// that would quote them.
	Redact []string
	// SettleTiming bounds the check after a step that declares a failover
	// (FailoverDeclarer): the handover may show no active member for a
	// moment, so the executor polls until one member is active again.
	// Zero means DefaultSettleTiming.
	SettleTiming Timing
	// Rerun lists IDs of steps that failed or were interrupted in an
	// earlier run, cannot verify their effect and are not idempotent, and
	// that an operator has checked on the device and allows to run again.
	// Without it such a step stops the run with a *DecisionError
	// (ErrNeedsDecision) instead of repeating itself on every restart.
	Rerun []string
}

// DefaultSettleTiming is the SettleTiming used when none is given: poll
// every second for up to 2 minutes until an active member is seen after a
// failover (cluster handovers take seconds on every vendor in scope).
func DefaultSettleTiming() Timing {
	return Timing{Interval: time.Second, Deadline: 2 * time.Minute}
}

// Upgrade is the common path in one call: observe c, plan target with
// planner, and Run the plan. Errors are the planner's (nothing ran) or
// Run's; the report is nil only when observing or planning failed.
func (e *Executor) Upgrade(ctx context.Context, c Cluster, planner Planner, target string) (*Report, error) {
	if err := ValidateCluster(c); err != nil {
		return nil, err
	}
	if planner == nil {
		return nil, &InvalidError{What: "upgrade of " + c.Name(), Problems: []string{"no planner"}}
	}
	snap, err := c.Observe(ctx)
	if err != nil {
		if ctx.Err() != nil {
			// Nothing ran: a stop at a safe point, like any cancellation.
			return nil, &StoppedError{Cause: ctx.Err()}
		}
		return nil, fmt.Errorf("observe cluster %s: %w", c.Name(), err)
	}
	p, err := planner.Plan(snap, target)
	if err != nil {
		return nil, err
	}
	return e.Run(ctx, c, p)
}

// ValidateCluster reports every structural problem of c at once as an
// *InvalidError: nil cluster, no members, empty or duplicate member IDs.
func ValidateCluster(c Cluster) error {
	if c == nil {
		return &InvalidError{What: "cluster", Problems: []string{"cluster is nil"}}
	}
	var probs []string
	if c.Name() == "" {
		probs = append(probs, "cluster name is empty")
	}
	ms := c.Members()
	if len(ms) == 0 {
		probs = append(probs, "cluster has no members")
	}
	seen := map[string]bool{}
	for i, m := range ms {
		switch {
		case m == nil:
			probs = append(probs, fmt.Sprintf("member %d is nil", i))
		case m.ID() == "":
			probs = append(probs, fmt.Sprintf("member %d has an empty ID", i))
		case seen[m.ID()]:
			probs = append(probs, fmt.Sprintf("duplicate member ID %q", m.ID()))
		default:
			seen[m.ID()] = true
		}
	}
	if len(probs) > 0 {
		return &InvalidError{What: "cluster " + c.Name(), Problems: probs}
	}
	return nil
}

// ValidatePlan reports every problem of p against c at once as an
// *InvalidError: cluster mismatch, a target without an end-state check
// (Plan.Converged), empty or duplicate step IDs, steps disrupting unknown
// members, Func steps without Do, gates with invalid Timing or no Check.
func ValidatePlan(c Cluster, p Plan) error {
	if err := ValidateCluster(c); err != nil {
		return err
	}
	members := map[string]bool{}
	for _, m := range c.Members() {
		members[m.ID()] = true
	}
	var probs []string
	if p.Cluster != c.Name() {
		probs = append(probs, fmt.Sprintf("plan is for cluster %q, not %q", p.Cluster, c.Name()))
	}
	if p.Target != "" && p.Converged == nil {
		probs = append(probs, fmt.Sprintf("plan to %q has no end-state check (Plan.Converged; ConvergedOn gives the generic one)", p.Target))
	}
	seen := map[string]bool{}
	for i, s := range p.Steps {
		if s == nil {
			probs = append(probs, fmt.Sprintf("step %d is nil", i+1))
			continue
		}
		id := s.ID()
		switch {
		case id == "":
			probs = append(probs, fmt.Sprintf("step %d has an empty ID", i+1))
		case seen[id]:
			probs = append(probs, fmt.Sprintf("duplicate step ID %q", id))
		}
		seen[id] = true
		for _, d := range s.Disrupts() {
			if !members[d] {
				probs = append(probs, fmt.Sprintf("step %q disrupts unknown member %q", id, d))
			}
		}
		if f, ok := s.(*Func); ok && f.Do == nil {
			probs = append(probs, fmt.Sprintf("step %q has no Do function", id))
		}
		if g, ok := s.(Gated); ok {
			gate := g.Gate()
			if err := gate.Timing.Validate(); err != nil {
				probs = append(probs, fmt.Sprintf("step %q: %v", id, err))
			}
			if gate.Check == nil {
				probs = append(probs, fmt.Sprintf("step %q: gate has no check", id))
			}
		}
	}
	if len(probs) > 0 {
		return &InvalidError{What: "plan", Problems: probs}
	}
	return nil
}

// run is the state of one Executor.Run call.
type run struct {
	e       *Executor
	c       Cluster
	p       Plan
	rep     *Report
	lastRun string // ID of the last step that finished or was skipped

	mu   sync.Mutex // guards prog, emit and journal writes (grouped steps run concurrently)
	prog progress
	last *Snapshot // the latest valid observation, the "before" of the next step's check
}

// observe reads the cluster and checks that the snapshot describes its
// members exactly (CheckSnapshot); a valid one becomes r.last.
func (r *run) observe(ctx context.Context) (Snapshot, error) {
	snap, err := r.c.Observe(ctx)
	if err == nil {
		err = CheckSnapshot(r.c, snap)
	}
	if err != nil {
		return snap, err
	}
	r.mu.Lock()
	r.last = &snap
	r.mu.Unlock()
	return snap, nil
}

// CheckSnapshot reports whether s describes c's members exactly: one
// state per member of c.Members(), none missing, none that c does not
// have, none twice. The error matches ErrBadSnapshot and lists every
// problem; the guard refuses on such a snapshot (a vendor reading that
// lost or invented a member cannot be reasoned about).
func CheckSnapshot(c Cluster, s Snapshot) error {
	want := map[string]bool{}
	for _, m := range c.Members() {
		if m != nil {
			want[m.ID()] = true
		}
	}
	var probs []string
	seen := map[string]bool{}
	for _, m := range s.Members {
		switch {
		case seen[m.ID]:
			probs = append(probs, fmt.Sprintf("member %q listed twice", m.ID))
		case !want[m.ID]:
			probs = append(probs, fmt.Sprintf("member %q is not a member of cluster %s", m.ID, c.Name()))
		}
		seen[m.ID] = true
	}
	for _, m := range c.Members() {
		if m != nil && !seen[m.ID()] {
			probs = append(probs, fmt.Sprintf("member %q is missing", m.ID()))
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w: %s", ErrBadSnapshot, strings.Join(probs, "; "))
	}
	return nil
}

func (r *run) redact(s string) string {
	for _, sec := range r.e.Redact {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "********")
		}
	}
	return s
}

func (r *run) emit(ctx context.Context, ev Event) {
	if r.e.Logger == nil && r.e.OnEvent == nil {
		return
	}
	ev.Time = time.Now()
	ev.Cluster = r.p.Cluster
	ev.Message, ev.Err = r.redact(ev.Message), r.redact(ev.Err)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.e.Logger != nil {
		ev.log(ctx, r.e.Logger)
	}
	if r.e.OnEvent != nil {
		r.e.OnEvent(ev)
	}
}

func (r *run) journal(ctx context.Context, rec Record) error {
	if r.e.Journal == nil || r.e.DryRun {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rec.Seq = r.prog.next
	rec.Time = time.Now()
	rec.Error = r.redact(rec.Error)
	if err := r.e.Journal.Append(ctx, rec); err != nil {
		var je *JournalError
		if !errors.As(err, &je) {
			err = &JournalError{Op: "append", Err: err}
		}
		return err
	}
	r.prog.next++
	return nil
}

// Run executes p against c and returns the report, which is never nil.
//
// Order: validate (every problem at once; nothing runs), load the journal
// (a journal of another plan or a corrupt one stops here), observe,
// pre-checks (fresh runs only), then each step: skip if the journal says
// finished; verify if it was interrupted; for disruptive steps the
// availability guard re-observes the cluster and refuses with an
// *UnsafeError (ErrUnsafe) unless another healthy member forwards; run
// (gates are polled with events; idempotent steps retried with backoff);
// journal the outcome. Cancelling ctx stops at the next safe point with a
// *StoppedError naming the steps either side.
func (e *Executor) Run(ctx context.Context, c Cluster, p Plan) (*Report, error) {
	rep := &Report{Cluster: p.Cluster, Target: p.Target, DryRun: e.DryRun, Started: time.Now(), FinalVersions: map[string]string{}}
	rep.Steps = make([]StepReport, 0, len(p.Steps))
	for _, s := range p.Steps {
		if s == nil {
			continue
		}
		sr := StepReport{Name: s.ID(), Description: s.Description(), Status: StatusPlanned, Disrupts: s.Disrupts()}
		if dd, ok := s.(DowntimeDeclarer); ok && dd.Downtime() {
			sr.Downtime = true
		}
		rep.Steps = append(rep.Steps, sr)
	}
	r := &run{e: e, c: c, p: p, rep: rep}
	err := r.do(ctx)
	if err != nil && len(e.Redact) > 0 {
		if red := r.redact(err.Error()); red != err.Error() {
			err = &redactedError{msg: red, err: err}
		}
	}
	rep.Finished = time.Now()
	for i := range rep.Steps {
		rep.Steps[i].Error = r.redact(rep.Steps[i].Error)
		rep.Steps[i].Note = r.redact(rep.Steps[i].Note)
	}
	if err != nil {
		rep.Error = r.redact(err.Error())
		var se *StoppedError
		if errors.As(err, &se) {
			rep.StoppedAfter, rep.StoppedBefore = se.After, se.Before
		}
	}
	rep.OK = err == nil
	r.emit(ctx, Event{Kind: EventDone, Message: fmt.Sprintf("run finished ok=%t", rep.OK), Err: rep.Error})
	return rep, err
}

// redactedError is the error Run returns when Executor.Redact changed its
// text: Error gives the redacted text; errors.Is and errors.As still reach
// the original chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (r *run) do(ctx context.Context) error {
	if err := ValidatePlan(r.c, r.p); err != nil {
		return err
	}
	r.rep.Fingerprint = r.p.Fingerprint()
	r.prog = readProgress(nil)
	if r.e.Journal != nil {
		if l, ok := r.e.Journal.(JournalLocker); ok && !r.e.DryRun {
			if err := l.Lock(); err != nil {
				return err
			}
			defer l.Unlock()
		}
		recs, err := r.e.Journal.Load(ctx)
		if err != nil {
			return err
		}
		if err := checkRecords(recs); err != nil {
			return &JournalError{Path: journalPath(r.e.Journal), Op: "load", Err: err}
		}
		r.prog = readProgress(recs)
		if r.prog.plan != nil {
			if err := compatible(r.prog.plan, r.p); err != nil {
				return &JournalError{Path: journalPath(r.e.Journal), Op: "resume", Err: err}
			}
			r.emit(ctx, Event{Kind: EventResume, Message: fmt.Sprintf("resuming: %d step(s) finished, %d interrupted", len(r.prog.finished), len(r.prog.interrupted))})
		}
	}
	if r.e.Logger != nil || r.e.OnEvent != nil {
		r.emit(ctx, Event{Kind: EventPlan, Message: r.p.Render()})
	}

	fresh := r.prog.plan == nil
	if fresh || len(r.e.PreChecks) > 0 {
		snap, err := r.observe(ctx)
		if err != nil {
			return &PreCheckError{Failures: []error{fmt.Errorf("observe cluster %s: %w", r.p.Cluster, err)}}
		}
		r.rep.InitialVersions = snap.Versions()
		if err := r.preChecks(ctx, snap, fresh); err != nil {
			return err
		}
	}
	// A resume without pre-checks observes nothing here: its first step
	// gets its "before" in runGroup.
	if r.e.DryRun {
		for i := range r.rep.Steps {
			if r.prog.finished[r.rep.Steps[i].Name] {
				r.rep.Steps[i].Status = StatusSkipped
				r.rep.Steps[i].Note = "done in journal"
			}
		}
		return r.dryRunTopology(ctx)
	}
	if fresh {
		hdr := Record{Kind: RecordPlan, Cluster: r.p.Cluster, Target: r.p.Target, Fingerprint: r.rep.Fingerprint, Steps: r.p.StepIDs(), Disrupts: planDisrupts(r.p)}
		if err := r.journal(ctx, hdr); err != nil {
			return err
		}
		r.prog.plan = &hdr
	}
	steps := r.p.Steps
	for i := 0; i < len(steps); {
		j := i + 1
		if g := groupOf(steps[i]); g != "" {
			for j < len(steps) && groupOf(steps[j]) == g {
				j++
			}
		}
		if err := ctx.Err(); err != nil {
			return r.stopped(ctx, steps[i].ID(), err)
		}
		reps := make([]*StepReport, 0, j-i)
		for k := i; k < j; k++ {
			reps = append(reps, &r.rep.Steps[k])
		}
		ran, err := r.group(ctx, steps[i:j], reps)
		if err != nil {
			return err
		}
		if ran {
			if err := r.afterStep(ctx, steps[i:j]); err != nil {
				return err
			}
		}
		r.lastRun = steps[j-1].ID()
		i = j
	}
	snap, err := r.observe(ctx)
	if err == nil {
		r.rep.FinalVersions = snap.Versions()
	}
	if r.p.Converged != nil {
		if err != nil {
			return &NotConvergedError{Cluster: r.p.Cluster, Target: r.p.Target, Err: fmt.Errorf("cannot observe the cluster at the end: %w", err)}
		}
		if cerr := r.p.Converged(snap); cerr != nil {
			return &NotConvergedError{Cluster: r.p.Cluster, Target: r.p.Target, Versions: snap.Versions(), Err: cerr}
		}
	}
	return nil
}

// active reports whether a member carries traffic in the sense of the
// check after a step: its role is active, healthy or not (an active member
// whose peer is rebooting still forwards; the guard, before a disruption,
// asks for more: active and healthy).
func active(m MemberState) bool { return m.Role == RoleActive }

// afterStep is the check after every step (or batch) that ran: the
// executor observes again and stops the run with a *DisruptionError when
// no member is active, or when a member that was active before the step
// is not any more although the step did not list it in Disrupts nor
// declare a failover. Steps that declare whole-cluster downtime are
// exempt. After a failover the handover gets Executor.SettleTiming to show
// an active member again. An observation that fails is reported as an
// event and the check is skipped (the guard observes again before the next
// disruptive step and refuses if it cannot).
func (r *run) afterStep(ctx context.Context, steps []Step) error {
	var declared []string
	failover := false
	for _, st := range steps {
		if downtime(st) {
			// Exempt, but the next step's check needs a fresh "before".
			if _, err := r.observe(ctx); err != nil {
				r.mu.Lock()
				r.last = nil
				r.mu.Unlock()
			}
			return nil
		}
		declared = append(declared, st.Disrupts()...)
		if f, ok := st.(FailoverDeclarer); ok && f.Failover() {
			failover = true
		}
	}
	r.mu.Lock()
	before := r.last
	r.mu.Unlock()
	id := steps[0].ID()
	check := func(after Snapshot) *DisruptionError {
		derr := &DisruptionError{Step: id, Snapshot: after}
		if !slices.ContainsFunc(after.Members, active) {
			derr.NoneForwarding = true
		}
		if before != nil && !failover {
			for _, m := range before.Members {
				if !active(m) || slices.Contains(declared, m.ID) {
					continue
				}
				if now, ok := after.Member(m.ID); !ok || !active(now) {
					derr.Undeclared = append(derr.Undeclared, m.ID)
				}
			}
		}
		if derr.NoneForwarding || len(derr.Undeclared) > 0 {
			return derr
		}
		return nil
	}
	var derr *DisruptionError
	if failover {
		t := r.e.SettleTiming
		if t == (Timing{}) {
			t = DefaultSettleTiming()
		}
		err := PollUntil(ctx, "after failover "+id, t, func(ctx context.Context) error {
			after, err := r.observe(ctx)
			if err != nil {
				return err
			}
			if derr = check(after); derr != nil {
				return derr
			}
			return nil
		}, nil)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return nil // the run loop stops at the next safe point and says where
		}
		if derr == nil {
			r.emit(ctx, Event{Kind: EventCheck, Step: id, Message: "check after the failover skipped: cannot observe the cluster", Err: err.Error()})
			return nil
		}
	} else {
		after, err := r.observe(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil // the run loop stops at the next safe point and says where
			}
			r.mu.Lock()
			r.last = nil
			r.mu.Unlock()
			r.emit(ctx, Event{Kind: EventCheck, Step: id, Message: "check after the step skipped: cannot observe the cluster", Err: err.Error()})
			return nil
		}
		if derr = check(after); derr == nil {
			r.emit(ctx, Event{Kind: EventCheck, Step: id, Message: "after the step: " + strings.Join(after.Forwarding(), ", ") + " forwarding"})
			return nil
		}
	}
	r.emit(ctx, Event{Kind: EventCheck, Step: id, Message: "stopping: disruption after the step", Err: derr.Error()})
	for k := range r.rep.Steps {
		if r.rep.Steps[k].Name == id {
			if r.rep.Steps[k].Error == "" {
				r.rep.Steps[k].Error = derr.Error()
			}
		}
	}
	return derr
}

func (r *run) stopped(ctx context.Context, before string, cause error) error {
	err := &StoppedError{After: r.lastRun, Before: before, Cause: cause}
	r.emit(ctx, Event{Kind: EventStopped, Step: before, Message: err.Error()})
	return err
}

// preChecks runs the pre-checks: on a fresh run the built-in availability
// check, the cluster's and members' PreCheckers and Executor.PreChecks; on
// a resume only Executor.PreChecks (a change window, an approval ticket),
// since vendor checks such as "versions consistent" fail mid-upgrade by
// design.
func (r *run) preChecks(ctx context.Context, snap Snapshot, fresh bool) error {
	var checks []PreCheck
	if fresh {
		checks = r.builtinPreChecks()
	}
	checks = append(checks, r.e.PreChecks...)
	var fails []error
	for _, pc := range checks {
		err := pc.Check(ctx, snap)
		ev := Event{Kind: EventPreCheck, Message: pc.Name}
		res := PreCheckResult{Name: pc.Name}
		if err != nil {
			ev.Err = err.Error()
			res.Error = r.redact(err.Error())
			fails = append(fails, fmt.Errorf("%s: %w", pc.Name, err))
		}
		r.rep.PreChecks = append(r.rep.PreChecks, res)
		r.emit(ctx, ev)
	}
	if len(fails) > 0 {
		return &PreCheckError{Failures: fails}
	}
	return nil
}

func (r *run) builtinPreChecks() []PreCheck {
	checks := []PreCheck{{Name: "cluster forwards traffic", Check: func(_ context.Context, s Snapshot) error {
		if err := CheckAvailability(s, nil); err != nil {
			return fmt.Errorf("cluster %s: %w", s.Cluster, err)
		}
		return nil
	}}, {Name: "no cluster-wide problems", Check: func(_ context.Context, s Snapshot) error {
		if len(s.Problems) > 0 {
			return fmt.Errorf("cluster %s reports: %s", s.Cluster, strings.Join(s.Problems, "; "))
		}
		return nil
	}}}
	if pc, ok := r.c.(PreChecker); ok {
		checks = append(checks, PreCheck{Name: "cluster " + r.c.Name(), Check: func(ctx context.Context, _ Snapshot) error { return pc.PreCheck(ctx) }})
	}
	for _, m := range r.c.Members() {
		if pc, ok := m.(PreChecker); ok {
			checks = append(checks, PreCheck{Name: "member " + m.ID(), Check: func(ctx context.Context, _ Snapshot) error { return pc.PreCheck(ctx) }})
		}
	}
	return checks
}

// checkTopology is the state-independent part of the guard: the members
// disrupted together must not be all the cluster's members, and the
// cluster's TopologyChecker, or else its DisruptionChecker (if any, dc may
// be nil), must accept them.
func checkTopology(dc DisruptionChecker, s Snapshot, union []string) error {
	all := true
	for _, m := range s.Members {
		if !slices.Contains(union, m.ID) {
			all = false
			break
		}
	}
	if all && len(s.Members) > 0 {
		return fmt.Errorf("the step(s) would disrupt every member of the cluster (%s)", strings.Join(union, ", "))
	}
	if tc, ok := dc.(TopologyChecker); ok {
		return tc.CheckTopology(union)
	}
	if dc != nil {
		return dc.CheckDisruption(s, union)
	}
	return nil
}

// dryRunTopology applies the state-independent guard checks (checkTopology)
// to every step (or batch of steps) that disrupts members, on one
// snapshot: a plan that would take down every member, or both members of a
// pair, is refused in the dry run already. Other guard checks depend on
// the state each step finds, so they run for real only.
func (r *run) dryRunTopology(ctx context.Context) error {
	dc, _ := r.c.(DisruptionChecker)
	snap, err := r.observe(ctx)
	if err != nil {
		return fmt.Errorf("dry run: observe cluster %s: %w", r.p.Cluster, err)
	}
	steps := r.p.Steps
	for i := 0; i < len(steps); {
		j := i + 1
		if g := groupOf(steps[i]); g != "" {
			for j < len(steps) && groupOf(steps[j]) == g {
				j++
			}
		}
		var union []string
		for _, st := range steps[i:j] {
			if !downtime(st) {
				union = append(union, st.Disrupts()...)
			}
		}
		if len(union) > 0 {
			if derr := checkTopology(dc, snap, union); derr != nil {
				uerr := &UnsafeError{Step: steps[i].ID(), Members: union, Reason: derr.Error(), Snapshot: snap, Cause: derr}
				for k := i; k < j; k++ {
					r.rep.Steps[k].Status, r.rep.Steps[k].Error = StatusRefused, uerr.Error()
				}
				return uerr
			}
		}
		i = j
	}
	return nil
}

func idempotent(s Step) bool {
	i, ok := s.(Idempotenter)
	return ok && i.Idempotent()
}

func downtime(s Step) bool {
	d, ok := s.(DowntimeDeclarer)
	return ok && d.Downtime()
}

// safety returns the step's SafetyChecker, if it really has one.
func safety(s Step) (SafetyChecker, bool) {
	if f, ok := s.(*Func); ok {
		return f, f.Safe != nil
	}
	sc, ok := s.(SafetyChecker)
	return sc, ok
}

func groupOf(s Step) string {
	if g, ok := s.(Grouper); ok {
		return g.Group()
	}
	return ""
}

// guarded reports whether a step goes through approval and the guard.
func guarded(s Step) bool {
	_, hasSafe := safety(s)
	return len(s.Disrupts()) > 0 || hasSafe || downtime(s)
}

// group runs consecutive steps of one Group concurrently (a lone step is
// a group of one): each is first checked against the journal, then every
// step still to run is approved, then the guard checks them together (the
// union of their disrupted members) on a fresh snapshot, then they run.
func (r *run) group(ctx context.Context, steps []Step, srs []*StepReport) (bool, error) {
	var todo []int
	for k, st := range steps {
		run, err := r.prepare(ctx, st, srs[k])
		if err != nil {
			return false, err
		}
		if run {
			todo = append(todo, k)
		}
	}
	if len(todo) == 0 {
		return false, nil
	}
	err := r.runGroup(ctx, steps, srs, todo)
	return true, err
}

// runGroup approves, guards and runs the steps todo of one group.
func (r *run) runGroup(ctx context.Context, steps []Step, srs []*StepReport, todo []int) error {
	if r.e.Approve != nil {
		for _, k := range todo {
			if !guarded(steps[k]) {
				continue
			}
			snap, err := r.observe(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return r.stopped(ctx, steps[k].ID(), ctx.Err())
				}
				srs[k].Status, srs[k].Error = StatusFailed, "cannot observe the cluster for the approval: "+err.Error()
				return &StepError{Step: steps[k].ID(), Err: fmt.Errorf("observe for approval: %w", err)}
			}
			if err := r.e.Approve(ctx, steps[k], snap); err != nil {
				if ctx.Err() != nil {
					return r.stopped(ctx, steps[k].ID(), ctx.Err())
				}
				srs[k].Status, srs[k].Error = StatusRefused, "not approved: "+err.Error()
				return &StepError{Step: steps[k].ID(), Err: fmt.Errorf("%w: %w", ErrNotApproved, err)}
			}
		}
	}
	run := make([]Step, len(todo))
	for n, k := range todo {
		run[n] = steps[k]
	}
	r.mu.Lock()
	unseen := r.last == nil
	r.mu.Unlock()
	if unseen {
		// The check after these steps needs to know who was active
		// before them (a resume's first step, a gate included; a step
		// after an observation failed): without it a member lost while
		// they ran goes unnoticed. A failure here leaves it to the guard
		// (and, for a gate, to the check after it, which then only asks
		// that some member be active).
		_, _ = r.observe(ctx)
	}
	if err := r.guard(ctx, run, func(_ int, err error) {
		for _, k := range todo {
			srs[k].Status, srs[k].Error = StatusRefused, err.Error()
		}
	}); err != nil {
		return err
	}
	if len(todo) == 1 {
		return r.runOne(ctx, steps[todo[0]], srs[todo[0]], run)
	}
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for n, k := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[n] = r.runOne(ctx, steps[k], srs[k], run)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prepare decides from the journal whether st must run: a finished step
// is skipped; an interrupted one (started, no outcome: the process died)
// is verified first and skipped when done; one that failed earlier is
// verified and run again when not done. Interrupted or failed steps that
// cannot verify themselves run again only when idempotent or listed in
// Executor.Rerun (a *DecisionError, ErrNeedsDecision, otherwise).
func (r *run) prepare(ctx context.Context, st Step, sr *StepReport) (bool, error) {
	id := st.ID()
	r.mu.Lock()
	finished, interrupted, failed := r.prog.finished[id], r.prog.interrupted[id], r.prog.failed[id]
	r.mu.Unlock()
	if finished {
		sr.Status, sr.Note = StatusSkipped, "done in journal"
		r.emit(ctx, Event{Kind: EventStepSkip, Step: id, Message: "finished in an earlier run"})
		return false, nil
	}
	if !interrupted && !failed {
		return true, nil
	}
	v, ok := verifiable(st)
	if !ok {
		if idempotent(st) || slices.Contains(r.e.Rerun, id) {
			return true, nil
		}
		earlier := "failed"
		if interrupted {
			earlier = "was interrupted"
		}
		sr.Status = StatusFailed
		err := &StepError{Step: id, Err: &DecisionError{Step: id, Earlier: earlier}}
		sr.Error = err.Error()
		return false, err
	}
	done, err := v.Verify(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		return false, r.stopped(ctx, id, ctx.Err())
	case err != nil && failed && !interrupted && errors.Is(err, ErrUnverifiable):
		// It failed (not crashed) earlier and its effect is not there: run it
		// again, under the guard.
		return true, nil
	case err != nil:
		sr.Status, sr.Error = StatusFailed, err.Error()
		return false, &StepError{Step: id, Err: fmt.Errorf("verify interrupted step: %w", err)}
	case done:
		sr.Status, sr.Note = StatusSkipped, "interrupted earlier; verified done"
		r.emit(ctx, Event{Kind: EventStepSkip, Step: id, Message: "interrupted earlier, verified done"})
		return false, r.journal(ctx, Record{Kind: RecordFinish, Step: id})
	}
	return true, nil
}

// guard is the availability guard for steps about to run together: on a
// fresh snapshot that describes the cluster's members exactly
// (CheckSnapshot) and carries no cluster-wide problem (split brain, an
// unplanned failover), another healthy member must forward after
// disrupting the union of their members (steps that declare downtime are
// left out of the union), the cluster's DisruptionChecker must accept the
// union, and every step's own safety precondition must hold. refused is
// told which step (index) was refused and why.
func (r *run) guard(ctx context.Context, steps []Step, refused func(k int, err error)) error {
	var union []string
	need := false
	for _, st := range steps {
		if !guarded(st) {
			continue
		}
		need = true
		if !downtime(st) {
			union = append(union, st.Disrupts()...)
		}
	}
	if !need {
		return nil
	}
	id := steps[0].ID()
	snap, err := r.observe(ctx)
	if err != nil && ctx.Err() != nil {
		return r.stopped(ctx, id, ctx.Err())
	}
	reason, at := "", 0
	var cause error
	switch {
	case err != nil:
		reason, cause = "cannot observe the cluster: "+err.Error(), err
	case len(snap.Problems) > 0:
		reason = "the cluster reports problems: " + strings.Join(snap.Problems, "; ")
	case len(union) > 0:
		if aerr := CheckAvailability(snap, union); aerr != nil {
			reason = aerr.Error()
		} else if dc, ok := r.c.(DisruptionChecker); ok {
			if derr := dc.CheckDisruption(snap, union); derr != nil {
				reason, cause = derr.Error(), derr
			}
		}
	}
	if reason == "" {
		for k, st := range steps {
			if sc, ok := safety(st); ok {
				if serr := sc.CheckSafe(snap); serr != nil {
					reason, cause, at = serr.Error(), serr, k
					break
				}
			}
		}
	}
	if reason != "" {
		uerr := &UnsafeError{Step: steps[at].ID(), Members: union, Reason: reason, Snapshot: snap, Cause: cause}
		if len(union) == 0 {
			uerr.Members = steps[at].Disrupts()
		}
		refused(at, uerr)
		r.emit(ctx, Event{Kind: EventGuard, Step: steps[at].ID(), Message: "refused", Err: uerr.Error()})
		return uerr
	}
	for _, st := range steps {
		if guarded(st) {
			r.emit(ctx, Event{Kind: EventGuard, Step: st.ID(), Message: "accepted: another member forwards"})
		}
	}
	return nil
}

// runOne journals and runs one step of batch (the steps running with it,
// itself included), retrying idempotent non-gate steps with backoff; the
// guard is asked again, for the whole batch, before every retry. A gate is
// polled with events and stops at once on cancellation; any other step's
// action runs to its end (each vendor action has its own timeouts) and the
// run stops before the next step.
func (r *run) runOne(ctx context.Context, st Step, sr *StepReport, batch []Step) error {
	id := st.ID()
	if downtime(st) {
		r.mu.Lock()
		r.rep.Downtime = true
		r.mu.Unlock()
	}
	if err := r.journal(context.WithoutCancel(ctx), Record{Kind: RecordStart, Step: id}); err != nil {
		return err
	}
	now := time.Now()
	sr.Started = &now
	retry := r.e.Retry.withDefaults()
	g, gated := st.(Gated)
	if gated || !idempotent(st) {
		// A gate's Deadline is its whole budget: it is not retried.
		retry.Attempts = 1
	}
	backoff := retry.Initial
	var err error
	for attempt := 1; ; attempt++ {
		sr.Attempts = attempt
		if attempt > 1 {
			// The whole running batch is guarded again: its other members
			// may be down right now, and the cluster's DisruptionChecker
			// must see them all.
			if gerr := r.guard(ctx, batch, func(int, error) {}); gerr != nil {
				err = gerr
				break
			}
		}
		r.emit(ctx, Event{Kind: EventStepStart, Step: id, Attempt: attempt, Message: st.Description()})
		if gated {
			gate := g.Gate()
			_, err = WaitFor(ctx, r.c, gate, func(p Poll) {
				sr.Polls++
				ev := Event{Kind: EventGatePoll, Step: id, Poll: p.N, Message: fmt.Sprintf("%s: poll %d at +%v", gate.Name, p.N, p.Elapsed)}
				if p.Err != nil {
					ev.Err = p.Err.Error()
				}
				r.emit(ctx, ev)
			})
		} else {
			err = st.Run(context.WithoutCancel(ctx))
		}
		if err == nil {
			break
		}
		if gated && ctx.Err() != nil {
			sr.Status, sr.Error = StatusInterrupted, err.Error()
			if jerr := r.journal(context.WithoutCancel(ctx), Record{Kind: RecordFail, Step: id, Error: err.Error()}); jerr != nil {
				return jerr
			}
			return r.stopped(ctx, id, ctx.Err())
		}
		if attempt >= retry.Attempts {
			break
		}
		r.emit(ctx, Event{Kind: EventStepRetry, Step: id, Attempt: attempt, Message: fmt.Sprintf("retrying in %v", backoff), Err: err.Error()})
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			sr.Status, sr.Error = StatusInterrupted, err.Error()
			if jerr := r.journal(context.WithoutCancel(ctx), Record{Kind: RecordFail, Step: id, Error: err.Error()}); jerr != nil {
				return jerr
			}
			return r.stopped(ctx, id, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, retry.Max)
	}
	if err != nil {
		fin := time.Now()
		sr.Finished = &fin
		sr.Status, sr.Error = StatusFailed, err.Error()
		var uerr *UnsafeError
		if errors.As(err, &uerr) {
			sr.Status = StatusRefused
		}
		r.emit(ctx, Event{Kind: EventStepFail, Step: id, Attempt: sr.Attempts, Err: err.Error()})
		serr := &StepError{Step: id, Attempts: sr.Attempts, Err: err}
		if jerr := r.journal(context.WithoutCancel(ctx), Record{Kind: RecordFail, Step: id, Error: err.Error()}); jerr != nil {
			return errors.Join(serr, jerr)
		}
		return serr
	}
	fin := time.Now()
	sr.Finished = &fin
	if err := r.journal(context.WithoutCancel(ctx), Record{Kind: RecordFinish, Step: id}); err != nil {
		// The action ran but its outcome could not be recorded: say so.
		sr.Status, sr.Error = StatusFailed, "ran, but its outcome could not be journaled: "+err.Error()
		r.emit(ctx, Event{Kind: EventStepFail, Step: id, Attempt: sr.Attempts, Err: sr.Error})
		return err
	}
	sr.Status = StatusDone
	r.mu.Lock()
	r.lastRun = id
	if f, ok := st.(FailoverDeclarer); ok && f.Failover() {
		r.rep.Failovers++
	}
	r.mu.Unlock()
	if n, ok := st.(Noter); ok {
		sr.Note = n.Note()
	}
	r.emit(ctx, Event{Kind: EventStepFinish, Step: id, Attempt: sr.Attempts, Message: st.Description()})
	return nil
}
