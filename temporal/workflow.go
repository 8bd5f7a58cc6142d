package temporal

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hitless/hitless/upgrade"
	enumspb "go.temporal.io/api/enums/v1"
	temporalsdk "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Names under which Register registers the workflows.
const (
	// WorkflowUpgrade is the name of UpgradeWorkflow.
	WorkflowUpgrade = "hitless.Upgrade"
	// WorkflowRollout is the name of RolloutWorkflow.
	WorkflowRollout = "hitless.Rollout"
	// WorkflowClusterLock is the name of ClusterLockWorkflow.
	WorkflowClusterLock = "hitless.ClusterLock"
)

// QueryReport is the query both workflows answer with their report so
// far (an upgrade.Report for UpgradeWorkflow, an upgrade.RolloutReport for
// RolloutWorkflow, where a cluster whose upgrade runs has the status
// "running"), e.g. for a progress display.
const QueryReport = "hitless.report"

// Defaults of ActivityOptions.
const (
	// DefaultStepTimeout bounds one activity (StartToClose): long enough
	// for the longest step of the vendors in scope (an Aviatrix controller
	// hop: 30 minutes; a Clavister interrupted-install verification:
	// ApplyGrace plus a gate deadline).
	DefaultStepTimeout = 2 * time.Hour
	// DefaultHeartbeatTimeout is how long the server waits for a heartbeat
	// before it declares the worker gone and retries the activity.
	DefaultHeartbeatTimeout = 30 * time.Second
	// DefaultRetryInterval is the delay before the first retry of an
	// activity (doubled each time, at most a minute).
	DefaultRetryInterval = time.Second
	// DefaultMaxAttempts bounds the attempts of one activity (worker
	// deaths and transport errors).
	DefaultMaxAttempts = 10
)

// ActivityOptions tune the activities of an upgrade. Zero fields take the
// defaults above.
type ActivityOptions struct {
	// StepTimeout bounds one activity (one unit of work of the plan).
	StepTimeout time.Duration `json:"step_timeout,omitempty"`
	// HeartbeatTimeout is the lease of a worker on its activity: without
	// a heartbeat for this long the server retries the activity elsewhere.
	HeartbeatTimeout time.Duration `json:"heartbeat_timeout,omitempty"`
	// RetryInterval is the delay before the first retry.
	RetryInterval time.Duration `json:"retry_interval,omitempty"`
	// MaxAttempts bounds the attempts of one activity.
	MaxAttempts int `json:"max_attempts,omitempty"`
}

func (o ActivityOptions) workflowOptions() workflow.ActivityOptions {
	d := func(v, def time.Duration) time.Duration {
		if v <= 0 {
			return def
		}
		return v
	}
	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	return workflow.ActivityOptions{
		StartToCloseTimeout: d(o.StepTimeout, DefaultStepTimeout),
		HeartbeatTimeout:    d(o.HeartbeatTimeout, DefaultHeartbeatTimeout),
		// The workflow waits for a cancelled activity to stop at its safe
		// point before it goes on.
		WaitForCancellation: true,
		RetryPolicy: &temporalsdk.RetryPolicy{
			InitialInterval:        d(o.RetryInterval, DefaultRetryInterval),
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        int32(attempts),
			NonRetryableErrorTypes: nonRetryableTypes,
		},
	}
}

// UpgradeInput is the input of UpgradeWorkflow. It names the cluster and
// where the worker finds its constructor; it never carries credentials.
type UpgradeInput struct {
	// Cluster is the cluster's name; the cluster the worker builds must
	// have it.
	Cluster string `json:"cluster"`
	// Ref is the worker's Registry name for the cluster; "" means Cluster.
	Ref string `json:"ref,omitempty"`
	// Target is the target version.
	Target string `json:"target"`
	// Rerun lists steps an operator checked on the device and allows to
	// run again (upgrade.Executor.Rerun), after TypeNeedsDecision.
	Rerun []string `json:"rerun,omitempty"`
	// StopAt, if set, ends the run at its next safe point at that time (a
	// maintenance window, a vendor's convergence window): no unit starts
	// at or after it and the running one is cancelled, which stops a gate
	// at once and any other step after it finished.
	StopAt time.Time `json:"stop_at,omitzero"`
	// Activity tunes the activities.
	Activity ActivityOptions `json:"activity,omitzero"`
}

func (in UpgradeInput) ref() ClusterRef {
	return ClusterRef{Cluster: in.Cluster, Ref: in.Ref, Target: in.Target}
}

// UpgradeWorkflowID is the workflow ID of an upgrade: cluster + "/" +
// target. StartUpgrade and RolloutWorkflow start upgrades under it with a
// policy that refuses a second one while the first runs.
func UpgradeWorkflowID(cluster, target string) string { return cluster + "/" + target }

// ClusterLockWorkflowID is the workflow ID of the lock UpgradeWorkflow
// holds on its cluster while it runs.
func ClusterLockWorkflowID(cluster string) string { return "hitless-lock/" + cluster }

// UpgradeWorkflow upgrades one cluster: the core executor's run, one
// activity per unit of work.
//
//  1. It takes the cluster's lock: a ClusterLockWorkflow child with the
//     ID ClusterLockWorkflowID(cluster). A second upgrade of the same
//     cluster, to any target, fails with TypeClusterBusy while this one
//     runs (the workflow ID, cluster/target, only refuses the same target).
//  2. PreCheck: observe, plan, and the executor's dry run (the fresh-run
//     pre-checks and the topology part of the guard).
//  3. RunSteps for each unit of work (a step, or a batch) in plan order,
//     each the executor on a one-unit sub-plan in resume mode, with the
//     journal records of the run so far.
//  4. Converge: the executor's end-state check.
//
// It returns the report of the whole run, in the executor's shape: one
// entry per step of the plan, the pre-checks and initial versions of the
// dry run, the final versions of the end-state check, the failovers and
// downtime of every unit. On failure the error is a non-retryable
// ApplicationError whose type is the failing activity's (TypeUnsafe,
// TypeGateTimeout, …; see Classify) and whose details hold the report so
// far (ReportFromError).
func UpgradeWorkflow(ctx workflow.Context, in UpgradeInput) (*upgrade.Report, error) {
	rep := &upgrade.Report{Cluster: in.Cluster, Target: in.Target, Started: workflow.Now(ctx), FinalVersions: map[string]string{}}
	if err := workflow.SetQueryHandler(ctx, QueryReport, func() (*upgrade.Report, error) { return rep, nil }); err != nil {
		return nil, err
	}
	fail := func(err error) (*upgrade.Report, error) {
		rep.Finished, rep.OK = workflow.Now(ctx), false
		typ := ErrorType(err)
		var stopped bool
		if typ == "" {
			var te *temporalsdk.TimeoutError
			switch {
			case temporalsdk.IsCanceledError(err):
				typ, stopped = TypeStopped, true
			case errors.As(err, &te):
				typ = TypeActivityTimeout
			default:
				typ = TypeStepFailed
			}
		}
		msg := errorMessage(err)
		if rep.Error == "" || stopped {
			rep.Error = msg
		}
		if rep.StoppedAfter == "" && rep.StoppedBefore == "" {
			rep.StoppedAfter, rep.StoppedBefore = stopPoint(rep)
		}
		return nil, temporalsdk.NewNonRetryableApplicationError(msg, typ, nil, rep)
	}
	var probs []string
	if in.Cluster == "" {
		probs = append(probs, "cluster is empty")
	}
	if in.Target == "" {
		probs = append(probs, "target is empty")
	}
	if len(probs) > 0 {
		return fail(temporalsdk.NewNonRetryableApplicationError((&upgrade.InvalidError{What: "upgrade input", Problems: probs}).Error(), TypeInvalid, nil))
	}
	unlock, err := lockCluster(ctx, in.Cluster)
	if err != nil {
		return fail(err)
	}
	defer unlock()

	runCtx, cancelRun := workflow.WithCancel(ctx)
	defer cancelRun()
	if !in.StopAt.IsZero() {
		d := in.StopAt.Sub(workflow.Now(ctx))
		if d <= 0 {
			return fail(temporalsdk.NewNonRetryableApplicationError(
				fmt.Sprintf("stopped before the first step: the run had to stop at %s", in.StopAt.Format(time.RFC3339)), TypeStopped, nil))
		}
		workflow.Go(ctx, func(gctx workflow.Context) {
			if workflow.NewTimer(gctx, d).Get(gctx, nil) == nil {
				cancelRun()
			}
		})
	}
	actx := workflow.WithActivityOptions(runCtx, in.Activity.workflowOptions())
	ref := in.ref()

	var pre PreCheckOutput
	if err := workflow.ExecuteActivity(actx, ActivityPreCheck, PreCheckInput{ClusterRef: ref}).Get(ctx, &pre); err != nil {
		var dry upgrade.Report
		if detailsOf(err, &dry) {
			dry.Started, dry.Finished = rep.Started, workflow.Now(ctx)
			*rep = dry
			rep.DryRun = false
		}
		return fail(err)
	}
	if pre.Report != nil {
		rep.Target, rep.Fingerprint = pre.Report.Target, pre.Report.Fingerprint
		rep.Steps, rep.InitialVersions, rep.PreChecks = pre.Report.Steps, pre.Report.InitialVersions, pre.Report.PreChecks
		for k, v := range pre.Report.InitialVersions {
			rep.FinalVersions[k] = v
		}
	}
	var records []upgrade.Record
	for _, unit := range pre.Plan.Units() {
		if err := runCtx.Err(); err != nil {
			return fail(temporalsdk.NewNonRetryableApplicationError(
				fmt.Sprintf("stopped at a safe point before %s: the run had to stop at %s", unit[0], in.StopAt.Format(time.RFC3339)), TypeStopped, nil))
		}
		var out StepsOutput
		err := workflow.ExecuteActivity(actx, ActivityRunSteps, StepsInput{ClusterRef: ref, Plan: pre.Plan, Steps: unit, Records: records, Rerun: in.Rerun}).Get(ctx, &out)
		if err != nil {
			detailsOf(err, &out)
		}
		merge(rep, out.Report)
		records = append(records, out.Records...)
		if err != nil {
			return fail(err)
		}
	}
	var fin upgrade.Report
	if err := workflow.ExecuteActivity(actx, ActivityConverge, ConvergeInput{ClusterRef: ref, Plan: pre.Plan, Records: records}).Get(ctx, &fin); err != nil {
		if detailsOf(err, &fin) {
			rep.FinalVersions = fin.FinalVersions
		}
		return fail(err)
	}
	rep.FinalVersions = fin.FinalVersions
	rep.Target = fin.Target
	rep.Finished, rep.OK = workflow.Now(ctx), true
	return rep, nil
}

// merge folds a sub-run's report into the workflow's: its step entries
// replace the planned ones, failovers add up, downtime and the stop point
// carry over, the latest observation's versions win.
func merge(rep, sub *upgrade.Report) {
	if sub == nil {
		return
	}
	for _, sr := range sub.Steps {
		found := false
		for i := range rep.Steps {
			if rep.Steps[i].Name == sr.Name {
				rep.Steps[i], found = sr, true
				break
			}
		}
		if !found {
			rep.Steps = append(rep.Steps, sr)
		}
	}
	rep.Failovers += sub.Failovers
	rep.Downtime = rep.Downtime || sub.Downtime
	if len(sub.FinalVersions) > 0 {
		rep.FinalVersions = sub.FinalVersions
	}
	if sub.StoppedAfter != "" || sub.StoppedBefore != "" {
		// The sub-run knows only its own steps: the last step done before
		// it is the workflow's.
		after, _ := stopPoint(rep)
		if sub.StoppedAfter != "" {
			after = sub.StoppedAfter
		}
		rep.StoppedAfter, rep.StoppedBefore = after, sub.StoppedBefore
	}
	if sub.Error != "" {
		rep.Error = sub.Error
	}
}

// stopPoint returns the last step done (or skipped) and the first one
// not done, for a report of a run that stopped.
func stopPoint(rep *upgrade.Report) (after, before string) {
	for _, s := range rep.Steps {
		switch s.Status {
		case upgrade.StatusDone, upgrade.StatusSkipped:
			after = s.Name
		default:
			return after, s.Name
		}
	}
	return after, ""
}

// errorMessage returns the message of the ApplicationError inside err
// (the activity's or child's own text), else err's text.
func errorMessage(err error) string {
	var appErr *temporalsdk.ApplicationError
	if errors.As(err, &appErr) && appErr.Message() != "" {
		return appErr.Message()
	}
	return err.Error()
}

// lockCluster starts the cluster's lock workflow and returns the function
// that releases it (cancels it and waits until it closed, so that the
// next upgrade can take it at once). A lock held by another run is a
// TypeClusterBusy error.
func lockCluster(ctx workflow.Context, cluster string) (func(), error) {
	lctx, cancel := workflow.WithCancel(ctx)
	cctx := workflow.WithChildOptions(lctx, workflow.ChildWorkflowOptions{
		WorkflowID:            ClusterLockWorkflowID(cluster),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// The lock never outlives its holder.
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_TERMINATE,
		WaitForCancellation: true,
	})
	f := workflow.ExecuteChildWorkflow(cctx, WorkflowClusterLock)
	if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		cancel()
		if temporalsdk.IsWorkflowExecutionAlreadyStartedError(err) {
			return nil, temporalsdk.NewNonRetryableApplicationError(
				fmt.Sprintf("cluster %s is being upgraded by another workflow (its lock %s is held)", cluster, ClusterLockWorkflowID(cluster)), TypeClusterBusy, nil)
		}
		return nil, err
	}
	return func() {
		cancel()
		dctx, dcancel := workflow.NewDisconnectedContext(ctx)
		defer dcancel()
		_ = f.Get(dctx, nil)
	}, nil
}

// ClusterLockWorkflow is the lock an UpgradeWorkflow holds on its cluster:
// a child workflow with the ID ClusterLockWorkflowID(cluster) that does
// nothing until it is cancelled. The server's guarantee that one workflow
// ID runs once at a time makes it a lock.
func ClusterLockWorkflow(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return false })
}

// oneLine folds a multi-line error text into one line.
func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }
