package upgrade

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sentinel errors for categories; test with errors.Is.
var (
	// ErrUnsafe: the availability guard refused a step (see UnsafeError).
	ErrUnsafe = errors.New("unsafe: step would leave the cluster without a forwarding member")
	// ErrInvalid: the cluster, plan, timing or target is malformed; nothing ran.
	ErrInvalid = errors.New("invalid input")
	// ErrInvalidTiming: a Timing failed validation.
	ErrInvalidTiming = errors.New("invalid timing")
	// ErrPreCheck: one or more pre-checks failed; nothing ran.
	ErrPreCheck = errors.New("pre-check failed")
	// ErrGateTimeout: a health gate did not pass before its deadline.
	ErrGateTimeout = errors.New("health gate deadline exceeded")
	// ErrPermanent marks a gate condition that waiting cannot fix (e.g. a
	// member that rebooted after its install and came back on the old
	// version). A Gate.Check error matching it ends WaitFor at once with a
	// *GateError instead of polling until the deadline.
	ErrPermanent = errors.New("condition cannot recover by waiting")
	// ErrNotConverged: every step is done (or recorded done in the journal)
	// but the cluster is not in the plan's end state (Plan.Converged), e.g.
	// a journal replayed against a cluster that was restored meanwhile.
	ErrNotConverged = errors.New("cluster did not converge to the plan's end state")
	// ErrStopped: the run stopped at a safe point (cancellation).
	ErrStopped = errors.New("run stopped")
	// ErrJournal: the journal could not be read or written.
	ErrJournal = errors.New("journal error")
	// ErrJournalMismatch: the journal belongs to another plan.
	ErrJournalMismatch = errors.New("journal belongs to another plan")
	// ErrJournalCorrupt: the journal file could not be decoded.
	ErrJournalCorrupt = errors.New("journal is corrupt")
	// ErrNotApproved: the Executor's Approve hook refused a disruptive step.
	ErrNotApproved = errors.New("step not approved")
	// ErrNoAction: a step or gate lacks the function it needs.
	ErrNoAction = errors.New("no action defined")
	// ErrUnverifiable: an interrupted disruptive step cannot be verified
	// and is not idempotent, so it is neither skipped nor repeated.
	ErrUnverifiable = errors.New("interrupted step cannot be verified")
	// ErrNeedsDecision: a step that failed or was interrupted in an earlier
	// run can neither verify its effect nor safely run twice; the run stops
	// until the step verifies itself or an operator lists it in
	// Executor.Rerun after checking the device (see DecisionError).
	ErrNeedsDecision = errors.New("step needs an operator decision before it runs again")
	// ErrUndeclaredDisruption: after a step, a member that forwarded before
	// it no longer forwards although the step did not declare it (Disrupts)
	// nor declared a failover, or no member forwards at all (see
	// DisruptionError).
	ErrUndeclaredDisruption = errors.New("a step disrupted members it did not declare")
	// ErrJournalLocked: another run holds the journal (FileJournal's
	// exclusive lock); nothing was run.
	ErrJournalLocked = errors.New("journal is in use by another run")
	// ErrBadSnapshot: an observation does not describe the cluster's
	// members exactly (a member missing, one the cluster does not have, or
	// one listed twice); the guard refuses on it.
	ErrBadSnapshot = errors.New("snapshot does not match the cluster's members")
)

// NotConvergedError says how the cluster differs from the plan's end state
// (Plan.Converged) after the last step: the end-state check's reason and
// every member's observed version. It matches ErrNotConverged.
type NotConvergedError struct {
	// Cluster is the cluster's name.
	Cluster string
	// Target is the plan's target.
	Target string
	// Versions maps each member ID to the version observed at the end ("" when
	// unreadable); nil when the cluster could not be observed.
	Versions map[string]string
	// Err is the end-state check's error, or the observation error.
	Err error
}

// Error names the cluster, target, every member with its version, and why.
func (e *NotConvergedError) Error() string {
	ids := make([]string, 0, len(e.Versions))
	for id := range e.Versions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	vs := make([]string, len(ids))
	for i, id := range ids {
		v := e.Versions[id]
		if v == "" {
			v = "(unknown)"
		}
		vs[i] = id + "=" + v
	}
	seen := "not observed"
	if e.Versions != nil {
		seen = strings.Join(vs, ", ")
	}
	return fmt.Sprintf("cluster %s did not converge to %s (members: %s): %v", e.Cluster, e.Target, seen, e.Err)
}

// Is matches ErrNotConverged.
func (e *NotConvergedError) Is(target error) bool { return target == ErrNotConverged }

// Unwrap returns the end-state check's error.
func (e *NotConvergedError) Unwrap() error { return e.Err }

// DisruptionError reports what the executor's check after a step found:
// members that stopped forwarding during the step without being declared
// (Undeclared), or no forwarding member at all (NoneForwarding). It
// matches ErrUndeclaredDisruption.
type DisruptionError struct {
	// Step is the ID of the step (the first of a batch) after which it was
	// seen.
	Step string
	// Undeclared lists the members that forwarded before the step and do
	// not after it, although the step neither listed them in Disrupts nor
	// declared a failover.
	Undeclared []string
	// NoneForwarding is true when no member forwards after the step.
	NoneForwarding bool
	// Snapshot is the observation after the step.
	Snapshot Snapshot
}

// Error names the step and the members.
func (e *DisruptionError) Error() string {
	var parts []string
	if len(e.Undeclared) > 0 {
		parts = append(parts, fmt.Sprintf("members [%s] stopped forwarding but the step did not declare them", strings.Join(e.Undeclared, ", ")))
	}
	if e.NoneForwarding {
		var st []string
		for _, m := range e.Snapshot.Members {
			st = append(st, fmt.Sprintf("%s is %s (healthy=%t)", m.ID, m.Role, m.Healthy))
		}
		parts = append(parts, "no member forwards: "+strings.Join(st, ", "))
	}
	return fmt.Sprintf("after step %q: %s", e.Step, strings.Join(parts, "; "))
}

// Is matches ErrUndeclaredDisruption.
func (e *DisruptionError) Is(target error) bool { return target == ErrUndeclaredDisruption }

// DecisionError says that a step which failed or was interrupted earlier
// cannot run again on its own: it cannot verify its effect and is not
// idempotent. Check the device, then either fix the state so the step
// verifies, or list the step in Executor.Rerun. It matches
// ErrNeedsDecision.
type DecisionError struct {
	// Step is the step's ID.
	Step string
	// Earlier is "failed" or "interrupted": what the journal recorded.
	Earlier string
}

// Error names the step and says what to do.
func (e *DecisionError) Error() string {
	return fmt.Sprintf("step %q %s in an earlier run and can neither verify its effect nor run twice safely: check the device, then list it in Executor.Rerun to run it again", e.Step, e.Earlier)
}

// Is matches ErrNeedsDecision and ErrUnverifiable.
func (e *DecisionError) Is(target error) bool {
	return target == ErrNeedsDecision || target == ErrUnverifiable
}

// UnsafeError says which step the guard refused, which members it would
// have disrupted, and what the guard saw.
type UnsafeError struct {
	// Step is the refused step's ID.
	Step string
	// Members are the members it (with its batch) would have disrupted.
	Members []string
	// Reason says what the guard saw, e.g. "no other member forwards: …".
	Reason string
	// Snapshot is the observation the verdict was made on.
	Snapshot Snapshot
	// Cause is the typed error behind Reason when a safety precondition
	// (SafetyChecker) or the cluster's DisruptionChecker refused, so
	// errors.Is/As reach the vendor's own error; nil otherwise.
	Cause error
}

// Error describes the failure in one line, naming the step, gate or file.
func (e *UnsafeError) Error() string {
	return fmt.Sprintf("step %q refused: disrupting [%s] is unsafe: %s", e.Step, strings.Join(e.Members, ", "), e.Reason)
}

// Is matches ErrUnsafe.
func (e *UnsafeError) Is(target error) bool { return target == ErrUnsafe }

// Unwrap returns Cause.
func (e *UnsafeError) Unwrap() error { return e.Cause }

// InvalidError lists every problem found in a cluster, plan or target.
type InvalidError struct {
	// What names the invalid thing ("plan", "cluster fw1", …).
	What string
	// Problems lists every problem found, in plain words.
	Problems []string
}

// Error describes the failure in one line, naming the step, gate or file.
func (e *InvalidError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.What, strings.Join(e.Problems, "; "))
}

// Is matches ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// TimingError lists every problem with a Timing.
type TimingError struct {
	// Timing is the rejected value.
	Timing Timing
	// Problems lists every problem with it.
	Problems []string
}

// Error describes the failure in one line, naming the step, gate or file.
func (e *TimingError) Error() string {
	return "invalid timing: " + strings.Join(e.Problems, "; ")
}

// Is matches ErrInvalidTiming and ErrInvalid.
func (e *TimingError) Is(target error) bool {
	return target == ErrInvalidTiming || target == ErrInvalid
}

// GateError reports a gate that did not pass in time, or that met a
// permanent failure (Permanent; Last matches ErrPermanent), with its last
// failure.
type GateError struct {
	// Gate is the gate's name.
	Gate string
	// Deadline is the gate's Timing.Deadline.
	Deadline time.Duration
	// Polls counts the polls made.
	Polls int
	// Permanent is true when a failure matching ErrPermanent ended the
	// wait before the deadline.
	Permanent bool
	// Last is the last failure seen.
	Last error
}

// Error describes the failure in one line, naming the step, gate or file.
func (e *GateError) Error() string {
	if e.Permanent {
		return fmt.Sprintf("gate %q failed for good at poll %d (waiting cannot fix it): %v", e.Gate, e.Polls, e.Last)
	}
	return fmt.Sprintf("gate %q not healthy after %v (%d polls): %v", e.Gate, e.Deadline, e.Polls, e.Last)
}

// Is matches ErrGateTimeout when the deadline passed; a permanent failure
// is not a timeout (it matches ErrPermanent through Last instead).
func (e *GateError) Is(target error) bool { return target == ErrGateTimeout && !e.Permanent }

// Unwrap returns the last failure.
func (e *GateError) Unwrap() error { return e.Last }

// StepError wraps the failure of one step.
type StepError struct {
	// Step is the failed step's ID.
	Step string
	// Attempts counts the tries (0: the step did not run, e.g. refused
	// approval or a failed verification).
	Attempts int
	// Err is the step's last error.
	Err error
}

// Error describes the failure in one line, naming the step, gate or file.
func (e *StepError) Error() string {
	if e.Attempts == 0 {
		return fmt.Sprintf("step %q did not run: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("step %q failed after %d attempt(s): %v", e.Step, e.Attempts, e.Err)
}

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// StoppedError says where a cancelled run stopped: after the last finished
// step and before the next one. Both are empty at the plan's edges.
type StoppedError struct {
	// After is the ID of the last step finished or skipped ("" at the start).
	After string
	// Before is the ID of the step that did not start (or was interrupted
	// while waiting on a gate).
	Before string
	// Cause is why: usually context.Canceled or DeadlineExceeded.
	Cause error
}

// Error describes the failure in one line, naming the step, gate or file.
func (e *StoppedError) Error() string {
	after, before := e.After, e.Before
	if after == "" {
		after = "(start)"
	}
	if before == "" {
		before = "(end)"
	}
	return fmt.Sprintf("stopped at a safe point after %s, before %s: %v", after, before, e.Cause)
}

// Is matches ErrStopped.
func (e *StoppedError) Is(target error) bool { return target == ErrStopped }

// Unwrap returns the cause (usually context.Canceled or DeadlineExceeded).
func (e *StoppedError) Unwrap() error { return e.Cause }

// PreCheckError carries every failed pre-check at once.
type PreCheckError struct {
	// Failures has one error per failed pre-check, named.
	Failures []error
}

// Error describes the failure in one line, naming the step, gate or file.
func (e *PreCheckError) Error() string {
	msgs := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		msgs[i] = f.Error()
	}
	return fmt.Sprintf("%d pre-check(s) failed: %s", len(e.Failures), strings.Join(msgs, "; "))
}

// Is matches ErrPreCheck.
func (e *PreCheckError) Is(target error) bool { return target == ErrPreCheck }

// Unwrap returns the individual failures.
func (e *PreCheckError) Unwrap() []error { return e.Failures }

// JournalError wraps a journal read/write failure with its path.
type JournalError struct {
	// Path is the journal file ("" for other journals).
	Path string
	// Op is what failed: "read", "decode", "write", "append", "load",
	// "resume".
	Op string
	// Err is the cause (ErrJournalCorrupt, ErrJournalMismatch, an I/O error).
	Err error
}

// Error describes the failure in one line, naming the step, gate or file.
func (e *JournalError) Error() string {
	return fmt.Sprintf("journal %s %s: %v", e.Op, e.Path, e.Err)
}

// Is matches ErrJournal.
func (e *JournalError) Is(target error) bool { return target == ErrJournal }

// Unwrap returns the underlying error.
func (e *JournalError) Unwrap() error { return e.Err }
