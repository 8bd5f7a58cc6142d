package upgrade

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	Name  string
	Check func(ctx context.Context, s Snapshot) error
}

// Executor runs plans. The zero value is usable: no journal, no events,
// default retry, logs discarded. An Executor may run several plans one after
// another; it holds no per-run state.
type Executor struct {
	// Logger receives every event; nil discards.
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
	// PreChecks run (with every PreChecker of the cluster and its members)
	// before the first step of a fresh run. They are skipped on resume,
	// since a half-upgraded cluster fails "versions consistent" checks by
	// design.
	PreChecks []PreCheck
	// Approve, if set, is asked before every disruptive step, after the
	// guard accepted it; a non-nil error refuses the step and stops the run.
	Approve func(ctx context.Context, s Step, snap Snapshot) error
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
// *InvalidError: cluster mismatch, empty or duplicate step IDs, steps
// disrupting unknown members, Func steps without Do, gates with invalid
// Timing or no Check.
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
	prog    progress
	lastRun string // ID of the last step that finished or was skipped
}

func (r *run) emit(ctx context.Context, ev Event) {
	if r.e.Logger == nil && r.e.OnEvent == nil {
		return
	}
	ev.Time = time.Now()
	ev.Cluster = r.p.Cluster
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
	rec.Seq = r.prog.next
	rec.Time = time.Now()
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
	rep.Finished = time.Now()
	if err != nil {
		rep.Error = err.Error()
		var se *StoppedError
		if errors.As(err, &se) {
			rep.StoppedAfter, rep.StoppedBefore = se.After, se.Before
		}
	}
	rep.OK = err == nil
	r.emit(ctx, Event{Kind: EventDone, Message: fmt.Sprintf("run finished ok=%t", rep.OK), Err: rep.Error})
	return rep, err
}

func (r *run) do(ctx context.Context) error {
	if err := ValidatePlan(r.c, r.p); err != nil {
		return err
	}
	r.rep.Fingerprint = r.p.Fingerprint()
	r.prog = readProgress(nil)
	if r.e.Journal != nil {
		recs, err := r.e.Journal.Load(ctx)
		if err != nil {
			return err
		}
		if err := checkRecords(recs); err != nil {
			return &JournalError{Op: "load", Err: err}
		}
		r.prog = readProgress(recs)
		if r.prog.plan != nil {
			if err := compatible(r.prog.plan, r.p); err != nil {
				return &JournalError{Op: "resume", Err: err}
			}
			r.emit(ctx, Event{Kind: EventResume, Message: fmt.Sprintf("resuming: %d step(s) finished, %d interrupted", len(r.prog.finished), len(r.prog.interrupted))})
		}
	}
	if r.e.Logger != nil || r.e.OnEvent != nil {
		r.emit(ctx, Event{Kind: EventPlan, Message: r.p.Render()})
	}

	fresh := r.prog.plan == nil
	if fresh {
		snap, err := r.c.Observe(ctx)
		if err != nil {
			return &PreCheckError{Failures: []error{fmt.Errorf("observe cluster %s: %w", r.p.Cluster, err)}}
		}
		if err := r.preChecks(ctx, snap); err != nil {
			return err
		}
	}
	if r.e.DryRun {
		for i := range r.rep.Steps {
			if r.prog.finished[r.rep.Steps[i].Name] {
				r.rep.Steps[i].Status = StatusSkipped
				r.rep.Steps[i].Note = "done in journal"
			}
		}
		return nil
	}
	if fresh {
		if err := r.journal(ctx, Record{Kind: RecordPlan, Cluster: r.p.Cluster, Target: r.p.Target, Fingerprint: r.rep.Fingerprint, Steps: r.p.StepIDs()}); err != nil {
			return err
		}
		r.prog.plan = &Record{Kind: RecordPlan, Cluster: r.p.Cluster, Target: r.p.Target, Fingerprint: r.rep.Fingerprint, Steps: r.p.StepIDs()}
	}
	for i, st := range r.p.Steps {
		if err := ctx.Err(); err != nil {
			return r.stopped(ctx, st.ID(), err)
		}
		if err := r.step(ctx, st, &r.rep.Steps[i]); err != nil {
			return err
		}
		r.lastRun = st.ID()
	}
	if snap, err := r.c.Observe(ctx); err == nil {
		r.rep.FinalVersions = snap.Versions()
	}
	return nil
}

func (r *run) stopped(ctx context.Context, before string, cause error) error {
	err := &StoppedError{After: r.lastRun, Before: before, Cause: cause}
	r.emit(ctx, Event{Kind: EventStopped, Step: before, Message: err.Error()})
	return err
}

func (r *run) preChecks(ctx context.Context, snap Snapshot) error {
	checks := []PreCheck{{Name: "cluster forwards traffic", Check: func(_ context.Context, s Snapshot) error {
		if err := CheckAvailability(s, nil); err != nil {
			return fmt.Errorf("cluster %s: %w", s.Cluster, err)
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
	checks = append(checks, r.e.PreChecks...)
	var fails []error
	for _, pc := range checks {
		err := pc.Check(ctx, snap)
		ev := Event{Kind: EventPreCheck, Message: pc.Name}
		if err != nil {
			ev.Err = err.Error()
			fails = append(fails, fmt.Errorf("%s: %w", pc.Name, err))
		}
		r.emit(ctx, ev)
	}
	if len(fails) > 0 {
		return &PreCheckError{Failures: fails}
	}
	return nil
}

func idempotent(s Step) bool {
	i, ok := s.(Idempotenter)
	return ok && i.Idempotent()
}

func (r *run) finish(ctx context.Context, st Step, sr *StepReport) error {
	if err := r.journal(ctx, Record{Kind: RecordFinish, Step: st.ID()}); err != nil {
		return err
	}
	now := time.Now()
	sr.Finished = &now
	return nil
}

func (r *run) step(ctx context.Context, st Step, sr *StepReport) error {
	id := st.ID()
	if r.prog.finished[id] {
		sr.Status, sr.Note = StatusSkipped, "done in journal"
		r.emit(ctx, Event{Kind: EventStepSkip, Step: id, Message: "finished in an earlier run"})
		return nil
	}
	if r.prog.interrupted[id] {
		v, ok := verifiable(st)
		switch {
		case ok:
			done, err := v.Verify(ctx)
			if err != nil {
				sr.Status, sr.Error = StatusFailed, err.Error()
				return &StepError{Step: id, Err: fmt.Errorf("verify interrupted step: %w", err)}
			}
			if done {
				sr.Status, sr.Note = StatusSkipped, "interrupted earlier; verified done"
				r.emit(ctx, Event{Kind: EventStepSkip, Step: id, Message: "interrupted earlier, verified done"})
				return r.journal(ctx, Record{Kind: RecordFinish, Step: id})
			}
		case len(st.Disrupts()) > 0 && !idempotent(st):
			sr.Status = StatusFailed
			err := &StepError{Step: id, Err: ErrUnverifiable}
			sr.Error = err.Error()
			return err
		}
	}
	downtime := false
	if dd, ok := st.(DowntimeDeclarer); ok && dd.Downtime() {
		downtime = true
	}
	sc, hasSafe := st.(SafetyChecker)
	if f, ok := st.(*Func); ok && f.Safe == nil {
		hasSafe = false
	}
	if (len(st.Disrupts()) > 0 || hasSafe) && !downtime {
		snap, err := r.c.Observe(ctx)
		reason := ""
		switch {
		case err != nil:
			reason = "cannot observe the cluster: " + err.Error()
		default:
			if len(st.Disrupts()) > 0 {
				if aerr := CheckAvailability(snap, st.Disrupts()); aerr != nil {
					reason = aerr.Error()
				}
			}
			if reason == "" && hasSafe {
				if serr := sc.CheckSafe(snap); serr != nil {
					reason = serr.Error()
				}
			}
		}
		if reason != "" {
			uerr := &UnsafeError{Step: id, Members: st.Disrupts(), Reason: reason, Snapshot: snap}
			sr.Status, sr.Error = StatusRefused, uerr.Error()
			r.emit(ctx, Event{Kind: EventGuard, Step: id, Message: "refused", Err: uerr.Error()})
			return uerr
		}
		r.emit(ctx, Event{Kind: EventGuard, Step: id, Message: "accepted: another member forwards"})
		if r.e.Approve != nil && len(st.Disrupts()) > 0 {
			if err := r.e.Approve(ctx, st, snap); err != nil {
				sr.Status, sr.Error = StatusRefused, "not approved: "+err.Error()
				return &StepError{Step: id, Err: fmt.Errorf("%w: %w", ErrNotApproved, err)}
			}
		}
	}
	if downtime {
		r.rep.Downtime = true
	}
	if err := r.journal(ctx, Record{Kind: RecordStart, Step: id}); err != nil {
		return err
	}
	now := time.Now()
	sr.Started = &now
	retry := r.e.Retry.withDefaults()
	if _, gated := st.(Gated); gated || !idempotent(st) {
		// A gate's Deadline is its whole budget: it is not retried.
		retry.Attempts = 1
	}
	backoff := retry.Initial
	var err error
	for attempt := 1; ; attempt++ {
		sr.Attempts = attempt
		r.emit(ctx, Event{Kind: EventStepStart, Step: id, Attempt: attempt, Message: st.Description()})
		if g, ok := st.(Gated); ok {
			_, err = WaitFor(ctx, r.c, g.Gate(), func(p Poll) {
				sr.Polls++
				ev := Event{Kind: EventGatePoll, Step: id, Poll: p.N, Message: fmt.Sprintf("%s: poll %d at +%v", g.Gate().Name, p.N, p.Elapsed)}
				if p.Err != nil {
					ev.Err = p.Err.Error()
				}
				r.emit(ctx, ev)
			})
		} else {
			err = st.Run(ctx)
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
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
			return r.stopped(ctx, id, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, retry.Max)
	}
	if err != nil {
		fin := time.Now()
		sr.Finished = &fin
		sr.Status, sr.Error = StatusFailed, err.Error()
		r.emit(ctx, Event{Kind: EventStepFail, Step: id, Attempt: sr.Attempts, Err: err.Error()})
		if jerr := r.journal(ctx, Record{Kind: RecordFail, Step: id, Error: err.Error()}); jerr != nil {
			return errors.Join(&StepError{Step: id, Attempts: sr.Attempts, Err: err}, jerr)
		}
		return &StepError{Step: id, Attempts: sr.Attempts, Err: err}
	}
	if err := r.finish(ctx, st, sr); err != nil {
		return err
	}
	sr.Status = StatusDone
	r.emit(ctx, Event{Kind: EventStepFinish, Step: id, Attempt: sr.Attempts, Message: st.Description()})
	return nil
}
