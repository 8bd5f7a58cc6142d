package temporal

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hitless/hitless/upgrade"
	enumspb "go.temporal.io/api/enums/v1"
	temporalsdk "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// SignalApproval is the name of the signal that answers a rollout's
// approval after its canaries (RolloutInput.ApproveRest); its payload is
// an Approval.
const SignalApproval = "hitless.approve-rest"

// Approval answers a rollout's approval (SignalApproval).
type Approval struct {
	// Approved lets the rest of the rollout start; false refuses it.
	Approved bool `json:"approved"`
	// By names who answered, for the report.
	By string `json:"by,omitempty"`
	// Reason is free text, for the report.
	Reason string `json:"reason,omitempty"`
}

// RolloutTarget is one cluster of a rollout.
type RolloutTarget struct {
	// Cluster is the cluster's name; unique in the rollout.
	Cluster string `json:"cluster"`
	// Ref is the worker's Registry name for it; "" means Cluster.
	Ref string `json:"ref,omitempty"`
	// Version is its target version.
	Version string `json:"version"`
	// Group is the topology key (pod, site) that limits concurrency; ""
	// means the cluster is its own group.
	Group string `json:"group,omitempty"`
	// Expected is the expected duration of its upgrade (0 = unknown), for
	// the scheduling order (as upgrade.RolloutTarget.Expected).
	Expected time.Duration `json:"expected,omitempty"`
	// ConvergeWithin bounds its run: it stops at its next safe point that
	// long after it started (0 = no bound).
	ConvergeWithin time.Duration `json:"converge_within,omitempty"`
}

// RolloutInput is the input of RolloutWorkflow: the targets and the rules
// of upgrade.Rollout.
type RolloutInput struct {
	// Targets are the clusters, in input order.
	Targets []RolloutTarget `json:"targets"`
	// MaxParallelClusters bounds the clusters running at once; >= 1.
	MaxParallelClusters int `json:"max_parallel_clusters"`
	// PerGroup bounds the running clusters of one Group; 0 means 1.
	PerGroup int `json:"per_group,omitempty"`
	// GroupLimits overrides PerGroup for the groups it names.
	GroupLimits map[string]int `json:"group_limits,omitempty"`
	// Canaries is how many targets, from the start, run first and alone;
	// any canary failure halts the rollout.
	Canaries int `json:"canaries,omitempty"`
	// ApproveRest makes the rollout wait, after the canaries succeeded,
	// for a SignalApproval before any other cluster starts. A refusal, or
	// no answer within ApprovalTimeout, halts the rollout.
	ApproveRest bool `json:"approve_rest,omitempty"`
	// ApprovalTimeout bounds the wait for the approval; 0 means no bound
	// but the maintenance window.
	ApprovalTimeout time.Duration `json:"approval_timeout,omitempty"`
	// MaxFailures halts the rollout once this many clusters failed; 0
	// means 1 unless MaxFailurePercent is set.
	MaxFailures int `json:"max_failures,omitempty"`
	// MaxFailurePercent, if > 0, halts the rollout once failed clusters
	// reach this percentage of all targets.
	MaxFailurePercent int `json:"max_failure_percent,omitempty"`
	// WindowEnd, if set, ends the maintenance window: no cluster starts at
	// or after it, and running clusters stop at their next safe point when
	// it passes (their UpgradeInput.StopAt).
	WindowEnd time.Time `json:"window_end,omitzero"`
	// KeepOrder starts the non-canary clusters in input order instead of
	// the group with the most expected work first.
	KeepOrder bool `json:"keep_order,omitempty"`
	// Activity tunes the activities of every cluster's upgrade.
	Activity ActivityOptions `json:"activity,omitzero"`
}

// validate reports every problem at once, as upgrade.Rollout does.
func (in RolloutInput) validate(now time.Time) error {
	var probs []string
	if in.MaxParallelClusters <= 0 {
		probs = append(probs, fmt.Sprintf("MaxParallelClusters %d must be >= 1", in.MaxParallelClusters))
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"PerGroup", in.PerGroup}, {"Canaries", in.Canaries}, {"MaxFailures", in.MaxFailures}, {"MaxFailurePercent", in.MaxFailurePercent}} {
		if n.v < 0 {
			probs = append(probs, fmt.Sprintf("%s %d must be >= 0", n.name, n.v))
		}
	}
	if in.MaxFailurePercent > 100 {
		probs = append(probs, fmt.Sprintf("MaxFailurePercent %d must be <= 100", in.MaxFailurePercent))
	}
	if in.ApprovalTimeout < 0 {
		probs = append(probs, fmt.Sprintf("ApprovalTimeout %v must be >= 0", in.ApprovalTimeout))
	}
	if !in.WindowEnd.IsZero() && !now.Before(in.WindowEnd) {
		probs = append(probs, fmt.Sprintf("the maintenance window already ended at %s", in.WindowEnd.Format(time.RFC3339)))
	}
	seen, groups := map[string]bool{}, map[string]bool{}
	for i, t := range in.Targets {
		switch {
		case t.Cluster == "" || t.Version == "":
			probs = append(probs, fmt.Sprintf("target %d has no cluster or version", i))
		case seen[t.Cluster]:
			probs = append(probs, fmt.Sprintf("cluster %q listed twice", t.Cluster))
		}
		seen[t.Cluster], groups[t.Group] = true, true
		if t.Expected < 0 || t.ConvergeWithin < 0 {
			probs = append(probs, fmt.Sprintf("cluster %q: Expected and ConvergeWithin must be >= 0", t.Cluster))
		}
	}
	keys := make([]string, 0, len(in.GroupLimits))
	for g := range in.GroupLimits {
		keys = append(keys, g)
	}
	slices.Sort(keys)
	for _, g := range keys {
		if !groups[g] || g == "" {
			probs = append(probs, fmt.Sprintf("GroupLimits names group %q, which no target has", g))
		}
		if in.GroupLimits[g] < 1 {
			probs = append(probs, fmt.Sprintf("GroupLimits[%q] %d must be >= 1", g, in.GroupLimits[g]))
		}
	}
	if len(probs) > 0 {
		return &upgrade.InvalidError{What: "rollout", Problems: probs}
	}
	return nil
}

// RolloutWorkflow upgrades many clusters, each as a child UpgradeWorkflow
// (workflow ID cluster/target, the same refusal of a second concurrent
// upgrade of a cluster), with the scheduling rules of upgrade.Rollout:
// the canaries first, one at a time, any failure halting the rollout; then
// (ApproveRest) a SignalApproval awaited with a deadline timer, no answer
// being a refusal; then the rest, work-conserving: whenever a child ends
// the next eligible cluster starts at once, eligible meaning at most
// MaxParallelClusters running and at most the group's limit in its group,
// the group with the most expected work left per slot first (then the
// longest Expected) unless KeepOrder. No cluster starts once the failure
// budget is spent, the approval was refused, or the maintenance window
// ended (a timer); running clusters stop at their next safe point at the
// window's end (StopAt) or after ConvergeWithin.
//
// This is scheduling only: each child's safety rules (pre-checks, the
// availability guard before every disruptive step, the check after every
// step, gates, the journal's resume semantics, the end-state check) are
// the core executor's, run inside the child's activities.
//
// It returns the rollout report (the shape of upgrade.RolloutReport: one
// result per target, in input order, with the child's report). When not
// every cluster is done the error is a non-retryable ApplicationError,
// TypeRolloutHalted or TypeRolloutFailed, whose details hold the report
// (RolloutReportFromError) and whose message has one line per failed or
// skipped cluster and the reason of a halt.
func RolloutWorkflow(ctx workflow.Context, in RolloutInput) (*upgrade.RolloutReport, error) {
	s := &rollout{in: in, inGroup: map[string]int{}, futures: map[int]workflow.ChildWorkflowFuture{},
		rep: &upgrade.RolloutReport{Started: workflow.Now(ctx), Results: make([]upgrade.RolloutResult, len(in.Targets))}}
	for i, t := range in.Targets {
		s.rep.Results[i] = upgrade.RolloutResult{Cluster: t.Cluster, Group: t.Group, Canary: i < in.Canaries, Status: "not-started"}
	}
	if err := workflow.SetQueryHandler(ctx, QueryReport, func() (*upgrade.RolloutReport, error) { return s.rep, nil }); err != nil {
		return nil, err
	}
	if err := in.validate(workflow.Now(ctx)); err != nil {
		s.rep.Finished = workflow.Now(ctx)
		return nil, temporalsdk.NewNonRetryableApplicationError(err.Error(), TypeInvalid, nil, s.rep)
	}
	s.maxFail = in.MaxFailures
	if s.maxFail == 0 && in.MaxFailurePercent == 0 {
		s.maxFail = 1
	}
	if !in.WindowEnd.IsZero() {
		s.window = workflow.NewTimer(ctx, in.WindowEnd.Sub(workflow.Now(ctx)))
	}

	canaries := min(in.Canaries, len(in.Targets))
	for i := range canaries {
		if s.stopped(ctx) {
			break
		}
		s.start(ctx, i)
		for s.running > 0 {
			s.wait(ctx)
		}
	}
	if in.ApproveRest && canaries < len(in.Targets) && !s.stopped(ctx) {
		s.approve(ctx)
	}
	rest := make([]int, 0, len(in.Targets)-canaries)
	for i := canaries; i < len(in.Targets); i++ {
		rest = append(rest, i)
	}
	if !in.KeepOrder {
		slices.SortStableFunc(rest, func(a, b int) int { return cmp.Compare(in.Targets[b].Expected, in.Targets[a].Expected) })
	}
	for len(rest) > 0 && !s.stopped(ctx) {
		pick := -1
		if s.running < in.MaxParallelClusters {
			pick = s.pick(rest)
		}
		if pick < 0 {
			s.wait(ctx)
			continue
		}
		i := rest[pick]
		rest = slices.Delete(rest, pick, pick+1)
		s.start(ctx, i)
	}
	for s.running > 0 {
		s.wait(ctx)
	}
	s.rep.Finished = workflow.Now(ctx)
	var lines []string
	for _, res := range s.rep.Results {
		if res.Status == "failed" || res.Status == "skipped" {
			lines = append(lines, fmt.Sprintf("- cluster %s %s: %s", res.Cluster, res.Status, oneLine(res.Reason)))
		}
	}
	if s.halted != "" {
		lines = append(lines, "- "+s.halted)
	}
	if len(lines) == 0 {
		s.rep.OK = true
		return s.rep, nil
	}
	typ := TypeRolloutFailed
	if s.halted != "" {
		typ = TypeRolloutHalted
	}
	msg := fmt.Sprintf("%d problem(s) in the rollout:\n%s", len(lines), strings.Join(lines, "\n"))
	return nil, temporalsdk.NewNonRetryableApplicationError(msg, typ, nil, s.rep)
}

// rollout is the scheduler state of one RolloutWorkflow (deterministic:
// only workflow time, timers, child futures and signals).
type rollout struct {
	in       RolloutInput
	rep      *upgrade.RolloutReport
	maxFail  int
	running  int
	inGroup  map[string]int
	failures int
	halted   string // why no cluster starts any more; "" while scheduling
	window   workflow.Future
	closed   bool // the window timer fired
	futures  map[int]workflow.ChildWorkflowFuture
	order    []int // running targets in start order (deterministic iteration)
}

func (s *rollout) group(t RolloutTarget) string {
	if t.Group == "" {
		return "\x00" + t.Cluster
	}
	return t.Group
}

func (s *rollout) limit(t RolloutTarget) int {
	if n, ok := s.in.GroupLimits[t.Group]; ok && t.Group != "" {
		return n
	}
	return max(s.in.PerGroup, 1)
}

// stopped reports whether no cluster may start any more, recording why
// when the window closed.
func (s *rollout) stopped(ctx workflow.Context) bool {
	if s.halted == "" && !s.in.WindowEnd.IsZero() && (s.closed || !workflow.Now(ctx).Before(s.in.WindowEnd)) {
		s.halted = fmt.Sprintf("%v: maintenance window ended at %s", upgrade.ErrRolloutHalted, s.in.WindowEnd.Format(time.RFC3339))
	}
	return s.halted != ""
}

// pick returns the index in pending of the next cluster to start, or -1
// when none is eligible: upgrade.Rollout's order (the first eligible with
// KeepOrder; else the eligible cluster whose group has the most expected
// work left per slot, then the longest Expected, then input order).
func (s *rollout) pick(pending []int) int {
	eligible := func(i int) bool {
		t := s.in.Targets[i]
		return s.inGroup[s.group(t)] < s.limit(t)
	}
	if s.in.KeepOrder {
		return slices.IndexFunc(pending, eligible)
	}
	left := map[string]time.Duration{}
	for _, i := range pending {
		left[s.group(s.in.Targets[i])] += s.in.Targets[i].Expected
	}
	best := -1
	var bestLoad, bestExp time.Duration
	for k, i := range pending {
		if !eligible(i) {
			continue
		}
		t := s.in.Targets[i]
		load := left[s.group(t)] / time.Duration(s.limit(t))
		if best < 0 || load > bestLoad || (load == bestLoad && t.Expected > bestExp) {
			best, bestLoad, bestExp = k, load, t.Expected
		}
	}
	return best
}

// start starts target i's child UpgradeWorkflow.
func (s *rollout) start(ctx workflow.Context, i int) {
	t := s.in.Targets[i]
	in := UpgradeInput{Cluster: t.Cluster, Ref: t.Ref, Target: t.Version, StopAt: s.in.WindowEnd, Activity: s.in.Activity}
	if t.ConvergeWithin > 0 {
		if by := workflow.Now(ctx).Add(t.ConvergeWithin); in.StopAt.IsZero() || by.Before(in.StopAt) {
			in.StopAt = by
		}
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            UpgradeWorkflowID(t.Cluster, t.Version),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// A cancelled or closed rollout asks its clusters to stop at their
		// next safe point, never terminates them mid-step.
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WaitForCancellation: true,
	})
	s.futures[i] = workflow.ExecuteChildWorkflow(cctx, WorkflowUpgrade, in)
	s.rep.Results[i].Status = "running"
	s.order = append(s.order, i)
	s.running++
	s.inGroup[s.group(t)]++
}

// wait blocks until a running child ends (and records it) or the window
// closes.
func (s *rollout) wait(ctx workflow.Context) {
	sel := workflow.NewSelector(ctx)
	for _, i := range s.order {
		sel.AddFuture(s.futures[i], func(f workflow.Future) { s.finish(ctx, i, f) })
	}
	if s.window != nil && !s.closed {
		sel.AddFuture(s.window, func(workflow.Future) { s.closed = true })
	}
	sel.Select(ctx)
}

// finish records the end of target i and applies the failure budget.
func (s *rollout) finish(ctx workflow.Context, i int, f workflow.Future) {
	t := s.in.Targets[i]
	res := &s.rep.Results[i]
	s.order = slices.DeleteFunc(s.order, func(k int) bool { return k == i })
	delete(s.futures, i)
	s.running--
	s.inGroup[s.group(t)]--
	var rep upgrade.Report
	err := f.Get(ctx, &rep)
	if err == nil {
		res.Status, res.Report = "done", &rep
		return
	}
	if r, ok := ReportFromError(err); ok {
		res.Report = r
	}
	res.Status, res.Reason = "failed", errorMessage(err)
	s.failures++
	switch {
	case s.halted != "":
	case s.stopped(ctx):
	case res.Canary:
		s.halted = fmt.Sprintf("%v: canary %s failed", upgrade.ErrRolloutHalted, t.Cluster)
	case s.maxFail > 0 && s.failures >= s.maxFail:
		s.halted = fmt.Sprintf("%v: %d cluster(s) failed (budget %d)", upgrade.ErrRolloutHalted, s.failures, s.maxFail)
	case s.in.MaxFailurePercent > 0 && s.failures*100 >= s.in.MaxFailurePercent*len(s.in.Targets):
		s.halted = fmt.Sprintf("%v: %d of %d clusters failed (budget %d%%)", upgrade.ErrRolloutHalted, s.failures, len(s.in.Targets), s.in.MaxFailurePercent)
	}
}

// approve waits for the SignalApproval after the canaries, bounded by
// ApprovalTimeout and the window; no answer in time is a refusal.
func (s *rollout) approve(ctx workflow.Context) {
	var (
		ans      Approval
		answered bool
		timedOut bool
	)
	actx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, SignalApproval), func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, &ans)
		answered = true
	})
	if s.in.ApprovalTimeout > 0 {
		sel.AddFuture(workflow.NewTimer(actx, s.in.ApprovalTimeout), func(workflow.Future) { timedOut = true })
	}
	if s.window != nil && !s.closed {
		sel.AddFuture(s.window, func(workflow.Future) { s.closed = true })
	}
	sel.Select(ctx)
	switch {
	case answered && ans.Approved:
	case answered:
		who := ""
		if ans.By != "" {
			who = " by " + ans.By
		}
		reason := ans.Reason
		if reason == "" {
			reason = "refused"
		}
		s.halted = fmt.Sprintf("%v: the rest after the canaries was not approved%s: %s", upgrade.ErrRolloutHalted, who, reason)
	case timedOut:
		s.halted = fmt.Sprintf("%v: the rest after the canaries was not approved: no answer within %v", upgrade.ErrRolloutHalted, s.in.ApprovalTimeout)
	default:
		s.stopped(ctx)
	}
}
