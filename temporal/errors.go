package temporal

import (
	"context"
	"errors"
	"strings"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
	temporalsdk "go.temporal.io/sdk/temporal"
)

// Error types of the Temporal ApplicationErrors that the activities and
// workflows of this package return, one per category of hitless error
// (ApplicationError.Type). Every type is non-retryable except TypeTransport,
// TypeHeartbeat, TypeReplan and TypeStopped, which an activity retry may
// cure: the retried attempt resumes from the journal records it
// heartbeated, with the executor's crash semantics.
const (
	// TypeUnsafe: the availability guard refused a step (upgrade.ErrUnsafe).
	TypeUnsafe = "hitless.Unsafe"
	// TypeUndeclaredDisruption: after a step a member stopped forwarding
	// without being declared, or none forwards
	// (upgrade.ErrUndeclaredDisruption).
	TypeUndeclaredDisruption = "hitless.UndeclaredDisruption"
	// TypeNeedsDecision: a step that failed or was interrupted can neither
	// verify itself nor run twice; an operator must check the device and
	// list it in UpgradeInput.Rerun (upgrade.ErrNeedsDecision).
	TypeNeedsDecision = "hitless.NeedsDecision"
	// TypeNotConverged: every step is done but the cluster is not in the
	// plan's end state (upgrade.ErrNotConverged).
	TypeNotConverged = "hitless.NotConverged"
	// TypePermanent: a condition that waiting cannot fix, e.g. a unit back
	// on its old version (upgrade.ErrPermanent).
	TypePermanent = "hitless.Permanent"
	// TypeGateTimeout: a health gate did not pass before its deadline
	// (upgrade.ErrGateTimeout).
	TypeGateTimeout = "hitless.GateTimeout"
	// TypeAuth: a device or controller refused the credentials
	// (*driver.AuthError, aviatrix.ErrAuth).
	TypeAuth = "hitless.Auth"
	// TypeHostKey: an SSH host key did not verify against known_hosts
	// (*driver.HostKeyError).
	TypeHostKey = "hitless.HostKey"
	// TypeTLS: a controller's certificate did not verify (aviatrix.ErrTLS).
	TypeTLS = "hitless.TLS"
	// TypePreCheck: one or more pre-checks failed; nothing ran
	// (upgrade.ErrPreCheck).
	TypePreCheck = "hitless.PreCheck"
	// TypeInvalid: bad input (a malformed cluster, plan, target or
	// configuration, an unknown cluster reference); nothing ran
	// (upgrade.ErrInvalid and the vendors' configuration errors).
	TypeInvalid = "hitless.Invalid"
	// TypeJournal: the records do not fit the plan (upgrade.ErrJournal,
	// e.g. a step that disrupts other members than recorded).
	TypeJournal = "hitless.Journal"
	// TypeBusy: the controller runs another upgrade (aviatrix.ErrBusy).
	TypeBusy = "hitless.Busy"
	// TypeClusterBusy: another workflow is upgrading the same cluster.
	TypeClusterBusy = "hitless.ClusterBusy"
	// TypeStepFailed: a step failed for another reason (a command the
	// device rejected, a failed vendor upgrade, …).
	TypeStepFailed = "hitless.StepFailed"
	// TypeTransport: a device, controller or the network did not answer
	// (driver.ErrUnreachable, driver.ErrDropped, aviatrix.ErrTransport,
	// aviatrix.ErrRestarting), or the observation before a step that the
	// guard does not cover failed (nothing ran). Retryable.
	TypeTransport = "hitless.Transport"
	// TypeHeartbeat: a journal record could not be heartbeated to the
	// Temporal server, so the step it announced did not run. Retryable.
	TypeHeartbeat = "hitless.Heartbeat"
	// TypeReplan: re-planning from the cluster's current state failed in a
	// step activity (a state the planner refuses may be transient).
	// Retryable, within the activity's attempts.
	TypeReplan = "hitless.Replan"
	// TypeStopped: the run stopped at a safe point (cancellation, the
	// worker shutting down, UpgradeInput.StopAt). Retryable when an
	// activity returns it; final when a workflow does.
	TypeStopped = "hitless.Stopped"
	// TypeActivityTimeout: an activity ran out of time or attempts (for
	// example workers that kept dying).
	TypeActivityTimeout = "hitless.ActivityTimeout"
	// TypeRolloutHalted: the rollout stopped starting clusters (canary
	// failed, failure budget spent, window closed, approval refused or not
	// given in time).
	TypeRolloutHalted = "hitless.RolloutHalted"
	// TypeRolloutFailed: the rollout ran to its end but some clusters
	// failed.
	TypeRolloutFailed = "hitless.RolloutFailed"
)

// nonRetryableTypes lists every non-retryable type, for the activities'
// RetryPolicy.NonRetryableErrorTypes (the errors are created
// non-retryable too; this is a second line).
var nonRetryableTypes = []string{
	TypeUnsafe, TypeUndeclaredDisruption, TypeNeedsDecision, TypeNotConverged,
	TypePermanent, TypeGateTimeout, TypeAuth, TypeHostKey, TypeTLS, TypePreCheck,
	TypeInvalid, TypeJournal, TypeBusy, TypeClusterBusy, TypeStepFailed,
}

// heartbeatError is a failure to heartbeat a journal record: the record
// is not durable, so the executor did not run what it announced.
type heartbeatError struct{ err error }

func (e *heartbeatError) Error() string { return "heartbeat to the Temporal server: " + e.err.Error() }
func (e *heartbeatError) Unwrap() error { return e.err }

// replanError is a planning failure in a step or end-state activity.
type replanError struct{ err error }

func (e *replanError) Error() string { return "re-plan from the current state: " + e.err.Error() }
func (e *replanError) Unwrap() error { return e.err }

// observeError is a failed observation before a step that the executor
// does not guard: nothing ran, and a retry observes again.
type observeError struct{ err error }

func (e *observeError) Error() string { return "observe before the step: " + e.err.Error() }
func (e *observeError) Unwrap() error { return e.err }

// Classify returns the ApplicationError type for a hitless error and
// whether a retry of the activity may cure it. The first matching
// category wins, in the order of the Type constants: the executor's
// safety verdicts first, then credentials and bad input, then transport
// errors; anything else is TypeStepFailed (not retried: an unknown failure
// stops the run, as the executor does).
func Classify(err error) (typ string, retryable bool) {
	var (
		authErr    *driver.AuthError
		hostKeyErr *driver.HostKeyError
	)
	switch {
	case err == nil:
		return "", false
	case errors.Is(err, upgrade.ErrUnsafe):
		return TypeUnsafe, false
	case errors.Is(err, upgrade.ErrUndeclaredDisruption):
		return TypeUndeclaredDisruption, false
	case errors.Is(err, upgrade.ErrNeedsDecision):
		return TypeNeedsDecision, false
	case errors.Is(err, upgrade.ErrNotConverged):
		return TypeNotConverged, false
	case errors.Is(err, upgrade.ErrPermanent):
		return TypePermanent, false
	case errors.Is(err, upgrade.ErrGateTimeout):
		return TypeGateTimeout, false
	case errors.As(err, &authErr), errors.Is(err, driver.ErrAuth), errors.Is(err, aviatrix.ErrAuth):
		return TypeAuth, false
	case errors.As(err, &hostKeyErr), errors.Is(err, driver.ErrHostKey):
		return TypeHostKey, false
	case errors.Is(err, aviatrix.ErrTLS):
		return TypeTLS, false
	}
	var oe *observeError
	switch {
	case errors.As(err, &oe):
		return TypeTransport, true
	case errors.Is(err, upgrade.ErrPreCheck):
		return TypePreCheck, false
	}
	var rp *replanError
	if errors.As(err, &rp) {
		return TypeReplan, true
	}
	switch {
	case errors.Is(err, upgrade.ErrInvalid), errors.Is(err, clavister.ErrConfig),
		errors.Is(err, aviatrix.ErrConfig), errors.Is(err, driver.ErrConfig):
		return TypeInvalid, false
	}
	var hb *heartbeatError
	switch {
	case errors.As(err, &hb):
		return TypeHeartbeat, true
	case errors.Is(err, upgrade.ErrJournal):
		return TypeJournal, false
	case errors.Is(err, aviatrix.ErrBusy):
		return TypeBusy, false
	case errors.Is(err, driver.ErrUnreachable), errors.Is(err, driver.ErrDropped),
		errors.Is(err, aviatrix.ErrTransport), errors.Is(err, aviatrix.ErrRestarting):
		return TypeTransport, true
	case errors.Is(err, upgrade.ErrStopped), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return TypeStopped, true
	}
	return TypeStepFailed, false
}

// applicationError converts err into the ApplicationError an activity
// returns: its type from Classify, its message redacted, no Go cause (a
// cause's text would reach the history unredacted), and details (the
// partial report) attached.
func applicationError(err error, redact []string, details ...any) error {
	typ, retryable := Classify(err)
	msg := redactText(err.Error(), redact)
	if retryable {
		return temporalsdk.NewApplicationErrorWithOptions(msg, typ, temporalsdk.ApplicationErrorOptions{Details: details})
	}
	return temporalsdk.NewNonRetryableApplicationError(msg, typ, nil, details...)
}

// redactText replaces every secret in s by "********".
func redactText(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "********")
		}
	}
	return s
}

// ErrorType returns the ApplicationError type carried by err (an error
// returned by a workflow run's Get, a child workflow or an activity
// future), or "" when it carries none.
func ErrorType(err error) string {
	var appErr *temporalsdk.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

// ReportFromError returns the upgrade report that a failed UpgradeWorkflow
// attaches to its error (the same shape as the executor's, with OK false
// and the error text), or false when err carries none.
func ReportFromError(err error) (*upgrade.Report, bool) {
	var rep upgrade.Report
	if !detailsOf(err, &rep) || rep.Cluster == "" {
		return nil, false
	}
	return &rep, true
}

// RolloutReportFromError returns the rollout report that a failed or
// halted RolloutWorkflow attaches to its error, or false when err carries
// none.
func RolloutReportFromError(err error) (*upgrade.RolloutReport, bool) {
	var rep upgrade.RolloutReport
	if !detailsOf(err, &rep) || rep.Results == nil {
		return nil, false
	}
	return &rep, true
}

// detailsOf decodes the details of the outermost ApplicationError in err
// into v.
func detailsOf(err error, v any) bool {
	var appErr *temporalsdk.ApplicationError
	if !errors.As(err, &appErr) || !appErr.HasDetails() {
		return false
	}
	return appErr.Details(v) == nil
}
