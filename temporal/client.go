package temporal

import (
	"context"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// RegisterWorkflows registers UpgradeWorkflow, RolloutWorkflow and
// ClusterLockWorkflow under their names (WorkflowUpgrade, …). Workflows
// hold no credentials and build nothing, so any worker of the task queue
// may run them.
func RegisterWorkflows(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(UpgradeWorkflow, workflow.RegisterOptions{Name: WorkflowUpgrade})
	r.RegisterWorkflowWithOptions(RolloutWorkflow, workflow.RegisterOptions{Name: WorkflowRollout})
	r.RegisterWorkflowWithOptions(ClusterLockWorkflow, workflow.RegisterOptions{Name: WorkflowClusterLock})
}

// RegisterActivities registers a's activities under their names
// (ActivityPreCheck, ActivityRunSteps, ActivityConverge). Every worker
// polling the task queue with activities must be able to build every
// cluster the workflows name (the same Registry entries).
func RegisterActivities(r worker.ActivityRegistry, a *Activities) {
	r.RegisterActivityWithOptions(a.PreCheck, activity.RegisterOptions{Name: ActivityPreCheck})
	r.RegisterActivityWithOptions(a.RunSteps, activity.RegisterOptions{Name: ActivityRunSteps})
	r.RegisterActivityWithOptions(a.Converge, activity.RegisterOptions{Name: ActivityConverge})
}

// Register registers the workflows and a's activities on r.
func Register(r worker.Registry, a *Activities) {
	RegisterWorkflows(r)
	RegisterActivities(r, a)
}

// NewWorker returns a worker of taskQueue with the workflows and a's
// activities registered; Start or Run it.
func NewWorker(c client.Client, taskQueue string, a *Activities, opts worker.Options) worker.Worker {
	w := worker.New(c, taskQueue, opts)
	Register(w, a)
	return w
}

// UpgradeOptions returns the start options of an upgrade: workflow ID
// UpgradeWorkflowID(cluster, target); a closed upgrade's ID may be reused
// (a new attempt after a failure), a running one's may not: a second start
// fails with the server's WorkflowExecutionAlreadyStarted error instead of
// returning the running workflow.
func UpgradeOptions(taskQueue, cluster, target string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                                       UpgradeWorkflowID(cluster, target),
		TaskQueue:                                taskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}
}

// StartUpgrade starts UpgradeWorkflow for in on taskQueue with
// UpgradeOptions. Get the run's report with run.Get(ctx, &report); on
// failure ReportFromError(err) gives the report so far.
func StartUpgrade(ctx context.Context, c client.Client, taskQueue string, in UpgradeInput) (client.WorkflowRun, error) {
	return c.ExecuteWorkflow(ctx, UpgradeOptions(taskQueue, in.Cluster, in.Target), WorkflowUpgrade, in)
}

// StartRollout starts RolloutWorkflow for in on taskQueue under
// workflowID (refused while a rollout with that ID runs).
func StartRollout(ctx context.Context, c client.Client, taskQueue, workflowID string, in RolloutInput) (client.WorkflowRun, error) {
	return c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       workflowID,
		TaskQueue:                                taskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, WorkflowRollout, in)
}

// Approve answers the approval of the running rollout workflowID
// (SignalApproval).
func Approve(ctx context.Context, c client.Client, workflowID string, a Approval) error {
	return c.SignalWorkflow(ctx, workflowID, "", SignalApproval, a)
}
