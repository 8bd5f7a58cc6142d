package upgrade

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Step is one named action of a plan.
//
// Steps should be idempotent where the device allows it: running a finished
// step again is a no-op. Optional capabilities are found by type assertion:
// Verifier, Idempotenter, DowntimeDeclarer, SafetyChecker, Gated,
// Grouper and Noter.
type Step interface {
	// ID is stable across re-planning (e.g. "install:node1@14.00.11"); the
	// journal keys on it.
	ID() string
	// Description is one human sentence for plans and reports.
	Description() string
	// Disrupts lists the IDs of the members this step takes out of
	// forwarding. The availability guard checks them before Run.
	Disrupts() []string
	// Run performs the step. It honours ctx cancellation.
	Run(ctx context.Context) error
}

// Verifier is implemented by steps that can tell whether their effect is
// already in place. The executor calls Verify for a step the journal shows
// as started but not finished (the process died during it): done=true means
// the step is recorded as finished without running it again.
type Verifier interface {
	Verify(ctx context.Context) (done bool, err error)
}

// Idempotenter is implemented by steps that are safe to run twice. Only
// those are retried with backoff after a failure, and only those are re-run
// after an interruption when they cannot be verified.
type Idempotenter interface {
	Idempotent() bool
}

// DowntimeDeclarer is implemented by steps that knowingly take the whole
// cluster out of forwarding. Such a step bypasses the guard's availability
// check (its safety precondition and approval still apply) and is reported
// as downtime. There is no other way around the guard.
type DowntimeDeclarer interface {
	Downtime() bool
}

// FailoverDeclarer is implemented by steps that move the forwarding role
// from one member to another (a failover: Check Point clusterXL_admin
// down, Clavister ha -deactivate, Junos request chassis cluster
// failover). After such a step the member that forwarded before may stop
// forwarding without being listed in Disrupts, as long as another member
// forwards; the executor gives the handover Executor.SettleTiming to
// complete. Every other step that makes a forwarding member stop must list
// it in Disrupts, or the run stops with ErrUndeclaredDisruption.
type FailoverDeclarer interface {
	Failover() bool
}

// SafetyChecker is implemented by steps with a precondition beyond "some
// other member forwards", e.g. a failover that needs a healthy, upgraded
// standby. The guard calls it with a fresh snapshot before the step runs;
// a non-nil error refuses the step with ErrUnsafe.
type SafetyChecker interface {
	CheckSafe(s Snapshot) error
}

// Grouper is implemented by steps that run concurrently with their
// neighbours: consecutive steps with the same non-empty Group run at once,
// the guard checking the union of the members they disrupt (one batch of
// an upgrade). Each keeps its own ID, so re-planning never changes a
// step's identity.
type Grouper interface {
	Group() string
}

// Noter is implemented by steps that leave a note for the report after
// they ran (e.g. the reference of a backup).
type Noter interface {
	Note() string
}

// Gated is implemented by steps that wait for a health condition. The
// executor runs the Gate itself (so it can report every poll as an event)
// instead of calling Run.
type Gated interface {
	Gate() Gate
}

// Func is a Step built from plain fields: the easiest way to write a custom
// step. Zero-valued optional fields mean "not supported".
type Func struct {
	// StepID is returned by ID; required, unique within a plan.
	StepID string
	// Desc is returned by Description.
	Desc string
	// Members lists the member IDs the step disrupts (see Step.Disrupts).
	Members []string
	// Do performs the step; required.
	Do func(ctx context.Context) error
	// Check, when set, makes the step a Verifier.
	Check func(ctx context.Context) (bool, error)
	// Safe, when set, is the step's SafetyChecker precondition.
	Safe func(s Snapshot) error
	// Retryable marks the step idempotent (retried with backoff).
	Retryable bool
	// IsFailover declares that the step moves the forwarding role to
	// another member (see FailoverDeclarer).
	IsFailover bool
	// WholeClusterDown declares planned downtime (bypasses the guard's
	// availability check, not Safe nor approval; reported as downtime).
	WholeClusterDown bool
	// Batch, when not empty, runs the step concurrently with neighbouring
	// steps of the same Batch (see Grouper).
	Batch string
}

// Group implements Grouper.
func (f *Func) Group() string { return f.Batch }

// ID implements Step.
func (f *Func) ID() string { return f.StepID }

// Description implements Step.
func (f *Func) Description() string { return f.Desc }

// Disrupts implements Step.
func (f *Func) Disrupts() []string { return f.Members }

// Run implements Step.
func (f *Func) Run(ctx context.Context) error {
	if f.Do == nil {
		return fmt.Errorf("step %q: %w", f.StepID, ErrNoAction)
	}
	return f.Do(ctx)
}

// Verify implements Verifier; without Check it reports not done.
func (f *Func) Verify(ctx context.Context) (bool, error) {
	if f.Check == nil {
		return false, nil
	}
	return f.Check(ctx)
}

// CheckSafe implements SafetyChecker; without Safe it accepts.
func (f *Func) CheckSafe(s Snapshot) error {
	if f.Safe == nil {
		return nil
	}
	return f.Safe(s)
}

// Idempotent implements Idempotenter.
func (f *Func) Idempotent() bool { return f.Retryable }

// Downtime implements DowntimeDeclarer.
func (f *Func) Downtime() bool { return f.WholeClusterDown }

// Failover implements FailoverDeclarer.
func (f *Func) Failover() bool { return f.IsFailover }

// verifiable reports whether the step really can verify itself.
func verifiable(s Step) (Verifier, bool) {
	if f, ok := s.(*Func); ok {
		return f, f.Check != nil
	}
	v, ok := s.(Verifier)
	return v, ok
}

// Wait is a Step that waits for a Gate and disrupts nothing. It is
// idempotent: after an interruption it simply waits again.
type Wait struct {
	// StepID is returned by ID.
	StepID string
	// Desc is returned by Description.
	Desc string
	// G is the gate to wait for.
	G Gate
	// Cluster is observed by Run when the step is used outside an Executor.
	Cluster Cluster
}

// ID implements Step.
func (w *Wait) ID() string { return w.StepID }

// Description implements Step.
func (w *Wait) Description() string { return w.Desc }

// Disrupts implements Step: a wait disrupts nothing.
func (w *Wait) Disrupts() []string { return nil }

// Gate implements Gated.
func (w *Wait) Gate() Gate { return w.G }

// Idempotent implements Idempotenter: waiting again is harmless.
func (w *Wait) Idempotent() bool { return true }

// Run waits for the gate without emitting events.
func (w *Wait) Run(ctx context.Context) error {
	if w.Cluster == nil {
		return fmt.Errorf("wait step %q: %w", w.StepID, ErrNoAction)
	}
	_, err := WaitFor(ctx, w.Cluster, w.G, nil)
	return err
}

// Plan is an ordered list of steps for one cluster and one target version.
// It is produced by a Planner (a pure function of a Snapshot and a target)
// or written by hand.
type Plan struct {
	// Cluster is the name of the cluster the plan is for.
	Cluster string
	// Target is the version the plan converges to; free text for
	// hand-written plans.
	Target string
	// Steps run in order.
	Steps []Step
	// Converged is the plan's end state, required when Target is set
	// (ValidatePlan refuses a plan with a target and no end state): after
	// the last step, also when every step was already done in the journal,
	// the executor observes the cluster and fails with a
	// *NotConvergedError (ErrNotConverged) naming every member and its
	// version when Converged returns an error. It catches a journal that
	// claims work the cluster does not show. Rolling sets it (ConvergedOn);
	// vendor planners set their own; hand-written plans can use ConvergedOn.
	Converged func(s Snapshot) error
}

// Planner turns an observed snapshot and a target version into a plan.
// Planning does no I/O and is deterministic: re-planning from a fresh
// snapshot after a crash yields only the remaining work, with the same step
// IDs as the original plan.
type Planner interface {
	Plan(s Snapshot, target string) (Plan, error)
}

// StepIDs returns the IDs of the plan's steps in order.
func (p Plan) StepIDs() []string {
	ids := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		ids[i] = s.ID()
	}
	return ids
}

// Fingerprint is a hex SHA-256 over the cluster name, target and the ordered
// step IDs with their disrupted members. Two plans with the same fingerprint
// do the same thing; the journal records it.
func (p Plan) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "cluster=%q\ntarget=%q\n", p.Cluster, p.Target)
	for _, s := range p.Steps {
		fmt.Fprintf(h, "step=%q disrupts=%q\n", s.ID(), s.Disrupts())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Render returns the plan as numbered text lines, one per step, with the
// members each step disrupts; this is what a dry run prints.
func (p Plan) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for cluster %s -> %s (%d steps)\n", p.Cluster, p.Target, len(p.Steps))
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "%3d. %-34s %s", i+1, s.ID(), s.Description())
		if d := s.Disrupts(); len(d) > 0 {
			fmt.Fprintf(&b, " [disrupts %s]", strings.Join(d, ", "))
		}
		if dd, ok := s.(DowntimeDeclarer); ok && dd.Downtime() {
			b.WriteString(" [DOWNTIME]")
		}
		b.WriteByte('\n')
	}
	return b.String()
}
