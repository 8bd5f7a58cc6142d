package upgrade

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"
)

// RolloutTarget is one cluster of a rollout.
type RolloutTarget struct {
	// Cluster to upgrade; its Name must be unique in the rollout.
	Cluster Cluster
	// Planner turns the cluster's snapshot into its plan (e.g.
	// upgrade.Rolling, a vendor planner).
	Planner Planner
	// Version is the target version passed to Planner.
	Version string
	// Group is the topology key (pod, site, region) that limits
	// concurrency: at most Rollout.PerGroup (or Rollout.GroupLimits[Group])
	// clusters of one group run at once (IBM Cloud vSRX: one gateway per
	// pod). Empty means the cluster is its own group.
	Group string
	// Journal, if set, is used for this cluster's run (resume after crash).
	Journal Journal
	// Expected is the expected duration of this cluster's upgrade (an
	// estimate, e.g. members × reboot time); unless Rollout.KeepOrder is
	// set, the clusters of the group with the most expected work left
	// start first, the longest first within it, which shortens the
	// rollout (a critical-path heuristic). 0 = unknown.
	Expected time.Duration
	// ConvergeWithin bounds this cluster's run: a cluster in mixed versions
	// must converge within its vendor's window (e.g. 72 hours between the
	// first and the last Check Point Maestro SGM). At the bound the run
	// stops at its next safe point and the cluster fails; 0 = no bound.
	ConvergeWithin time.Duration
}

// RolloutResult is one cluster's outcome in a RolloutReport.
type RolloutResult struct {
	// Cluster is the cluster's name.
	Cluster string `json:"cluster"`
	// Group is the target's topology group (pod, site).
	Group string `json:"group,omitempty"`
	// Canary is true for the targets that ran first and alone.
	Canary bool `json:"canary,omitempty"`
	// Status is "done", "failed", "skipped" (not approved) or "not-started".
	Status string `json:"status"`
	// Reason is the error text of a failed or skipped cluster.
	Reason string `json:"reason,omitempty"`
	// Report is the cluster's own run report (nil if it never ran).
	Report *Report `json:"report,omitempty"`
}

// RolloutReport is the outcome of a Rollout, one entry per target in input
// order.
type RolloutReport struct {
	// OK is true when every target is done.
	OK bool `json:"ok"`
	// Started and Finished bound the rollout.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Results has one entry per target, in input order.
	Results []RolloutResult `json:"results"`
}

// ErrRolloutHalted: the rollout stopped starting clusters (canary failed,
// failure budget spent, window closed, approval refused or not given in
// time).
var ErrRolloutHalted = errors.New("rollout halted")

// Rollout upgrades many clusters of any vendors in one run.
//
// Canaries (the first Canaries targets, in input order) run first, one at
// a time; any canary failure halts the rollout. ApproveRest, if set, is
// then asked once before the rest. The rest are scheduled work-conserving:
// whenever a slot frees, the next eligible cluster starts at once (no
// batch barriers), eligible meaning at most MaxParallelClusters running
// and at most the group's limit running in its group; among the eligible,
// the one whose group has the most Expected work left per slot, then the
// longest Expected, unless KeepOrder (measured against a lower bound and a
// batch-barrier baseline in the package benchmarks). No cluster starts once
// MaxFailures clusters (or MaxFailurePercent of all) have failed, once an
// approval is refused or not given within ApprovalTimeout, or at or after
// WindowEnd; at WindowEnd the running clusters stop at their next safe
// point (their executors see the context end). Each cluster runs under its
// own Executor from NewExecutor, so the availability guard and the check
// after every step apply to every cluster.
type Rollout struct {
	// MaxParallelClusters bounds the clusters running at once; >= 1.
	MaxParallelClusters int
	// PerGroup bounds the running clusters of one Group; 0 means 1.
	PerGroup int
	// GroupLimits overrides PerGroup for the groups it names (e.g. a lab
	// pod that may run three at once); every key must be the Group of
	// some target, and every value >= 1.
	GroupLimits map[string]int
	// Canaries is how many targets, from the start of the list, run first
	// and alone; any canary failure halts the rollout.
	Canaries int
	// MaxFailures halts the rollout once this many clusters failed; 0
	// means 1 (stop at the first failure) unless MaxFailurePercent is set.
	MaxFailures int
	// MaxFailurePercent, if > 0, halts the rollout once failed clusters
	// reach this percentage of all targets (e.g. 10).
	MaxFailurePercent int
	// WindowEnd, if not zero, is the end of the maintenance window: no
	// cluster starts at or after it, and running clusters stop at their
	// next safe point when it passes. A window already closed when Run is
	// called is an *InvalidError.
	WindowEnd time.Time
	// Approve, if set, is asked before each cluster starts; an error skips
	// it and halts the rollout.
	Approve func(ctx context.Context, t RolloutTarget) error
	// ApproveRest, if set, is asked once after the canaries succeeded and
	// before any other cluster starts, with the canaries' results; an
	// error halts the rollout.
	ApproveRest func(ctx context.Context, canaries []RolloutResult) error
	// ApprovalTimeout bounds every Approve and ApproveRest call: an answer
	// that has not come by then counts as a refusal. 0 means no bound
	// beyond ctx.
	ApprovalTimeout time.Duration
	// KeepOrder starts the non-canary clusters in input order (still
	// skipping past any whose group is full) instead of longest Expected
	// first.
	KeepOrder bool
	// NewExecutor returns the executor for one target; nil means a plain
	// Executor. The target's Journal is used when the executor has none. A
	// nil executor fails that cluster with an *InvalidError.
	NewExecutor func(t RolloutTarget) *Executor
}

// validate reports every problem with the rollout and its targets at once.
func (r *Rollout) validate(targets []RolloutTarget) error {
	var probs []string
	if r.MaxParallelClusters <= 0 {
		probs = append(probs, fmt.Sprintf("MaxParallelClusters %d must be >= 1", r.MaxParallelClusters))
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"PerGroup", r.PerGroup}, {"Canaries", r.Canaries}, {"MaxFailures", r.MaxFailures}, {"MaxFailurePercent", r.MaxFailurePercent}} {
		if n.v < 0 {
			probs = append(probs, fmt.Sprintf("%s %d must be >= 0", n.name, n.v))
		}
	}
	if r.MaxFailurePercent > 100 {
		probs = append(probs, fmt.Sprintf("MaxFailurePercent %d must be <= 100", r.MaxFailurePercent))
	}
	if r.ApprovalTimeout < 0 {
		probs = append(probs, fmt.Sprintf("ApprovalTimeout %v must be >= 0", r.ApprovalTimeout))
	}
	if !r.WindowEnd.IsZero() && !time.Now().Before(r.WindowEnd) {
		probs = append(probs, fmt.Sprintf("the maintenance window already ended at %s", r.WindowEnd.Format(time.RFC3339)))
	}
	groups := map[string]bool{}
	seen := map[string]bool{}
	for i, t := range targets {
		if t.Cluster == nil || t.Planner == nil {
			probs = append(probs, fmt.Sprintf("target %d has no cluster or planner", i))
			continue
		}
		if seen[t.Cluster.Name()] {
			probs = append(probs, fmt.Sprintf("cluster %q listed twice", t.Cluster.Name()))
		}
		seen[t.Cluster.Name()] = true
		groups[t.Group] = true
		if t.Expected < 0 || t.ConvergeWithin < 0 {
			probs = append(probs, fmt.Sprintf("cluster %q: Expected and ConvergeWithin must be >= 0", t.Cluster.Name()))
		}
	}
	for _, g := range slices.Sorted(func(yield func(string) bool) {
		for g := range r.GroupLimits {
			if !yield(g) {
				return
			}
		}
	}) {
		if !groups[g] || g == "" {
			probs = append(probs, fmt.Sprintf("GroupLimits names group %q, which no target has", g))
		}
		if r.GroupLimits[g] < 1 {
			probs = append(probs, fmt.Sprintf("GroupLimits[%q] %d must be >= 1", g, r.GroupLimits[g]))
		}
	}
	if len(probs) > 0 {
		return &InvalidError{What: "rollout", Problems: probs}
	}
	return nil
}

// oneLine formats a multierror with one line per cluster.
func oneLine(es []error) string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = "- " + strings.ReplaceAll(e.Error(), "\n", " ")
	}
	return fmt.Sprintf("%d problem(s) in the rollout:\n%s", len(es), strings.Join(lines, "\n"))
}

// Run executes the rollout. The error is nil only when every target is
// done; otherwise it is a *multierror.Error (github.com/hashicorp/
// go-multierror) with one entry per failed or skipped cluster, formatted
// one line each, plus, when the rollout halted, an entry matching
// ErrRolloutHalted that says why. errors.Is and errors.As reach every
// entry. Bad input (see the field docs) is an *InvalidError listing every
// problem, and no cluster starts.
func (r *Rollout) Run(ctx context.Context, targets []RolloutTarget) (*RolloutReport, error) {
	rep := &RolloutReport{Started: time.Now(), Results: make([]RolloutResult, len(targets))}
	for i, t := range targets {
		rep.Results[i] = RolloutResult{Status: "not-started", Group: t.Group, Canary: i < r.Canaries}
		if t.Cluster != nil {
			rep.Results[i].Cluster = t.Cluster.Name()
		}
	}
	if err := r.validate(targets); err != nil {
		rep.Finished = time.Now()
		return rep, err
	}
	maxFail := r.MaxFailures
	if maxFail == 0 && r.MaxFailurePercent == 0 {
		maxFail = 1
	}
	// The window's end cancels the running clusters (their executors stop
	// at the next safe point).
	runCtx, cancelRuns := ctx, context.CancelFunc(func() {})
	if !r.WindowEnd.IsZero() {
		runCtx, cancelRuns = context.WithDeadline(ctx, r.WindowEnd)
	}
	defer cancelRuns()

	s := &scheduler{r: r, targets: targets, rep: rep, maxFail: maxFail, inGroup: map[string]int{}}
	s.cond = sync.NewCond(&s.mu)
	stop := context.AfterFunc(runCtx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()

	canaries := min(r.Canaries, len(targets))
	for i := range canaries {
		if !s.startAlone(ctx, runCtx, i) {
			break
		}
	}
	s.wg.Wait()
	if r.ApproveRest != nil && canaries < len(targets) && s.halted == nil {
		if err := r.approve(ctx, func(ctx context.Context) error { return r.ApproveRest(ctx, slices.Clone(rep.Results[:canaries])) }); err != nil {
			s.halted = fmt.Errorf("%w: the rest after the canaries was not approved: %w", ErrRolloutHalted, err)
		}
	}
	rest := make([]int, 0, len(targets)-canaries)
	for i := canaries; i < len(targets); i++ {
		rest = append(rest, i)
	}
	if !r.KeepOrder {
		slices.SortStableFunc(rest, func(a, b int) int { return cmp.Compare(targets[b].Expected, targets[a].Expected) })
	}
	s.schedule(ctx, runCtx, rest)
	s.wg.Wait()
	rep.Finished = time.Now()
	errs := s.errs
	if s.halted != nil {
		errs = append(errs, s.halted)
	}
	if len(errs) == 0 {
		rep.OK = true
		return rep, nil
	}
	return rep, &multierror.Error{Errors: errs, ErrorFormat: oneLine}
}

// approve calls f bounded by ApprovalTimeout: an answer that does not come
// in time is a refusal, even if f ignores its context.
func (r *Rollout) approve(ctx context.Context, f func(ctx context.Context) error) error {
	if r.ApprovalTimeout <= 0 {
		return f(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, r.ApprovalTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(actx) }()
	select {
	case err := <-done:
		return err
	case <-actx.Done():
		return fmt.Errorf("no answer within %v: %w", r.ApprovalTimeout, actx.Err())
	}
}

// scheduler is the state of one Rollout.Run.
type scheduler struct {
	r       *Rollout
	targets []RolloutTarget
	rep     *RolloutReport
	maxFail int

	mu       sync.Mutex
	cond     *sync.Cond
	running  int
	inGroup  map[string]int
	failures int
	halted   error
	errs     []error
	wg       sync.WaitGroup
}

func (s *scheduler) group(t RolloutTarget) string {
	if t.Group == "" {
		return "\x00" + t.Cluster.Name()
	}
	return t.Group
}

func (s *scheduler) groupLimit(t RolloutTarget) int {
	if n, ok := s.r.GroupLimits[t.Group]; ok && t.Group != "" {
		return n
	}
	return max(s.r.PerGroup, 1)
}

// checkStopLocked reports whether the rollout stops starting clusters,
// recording why (the first reason wins) when the context or the window
// ended.
func (s *scheduler) checkStopLocked(ctx, runCtx context.Context) bool {
	switch {
	case s.halted != nil:
	case ctx.Err() != nil:
		s.halted = fmt.Errorf("%w: %w", ErrRolloutHalted, ctx.Err())
	case runCtx.Err() != nil || (!s.r.WindowEnd.IsZero() && !time.Now().Before(s.r.WindowEnd)):
		s.halted = fmt.Errorf("%w: maintenance window ended at %s", ErrRolloutHalted, s.r.WindowEnd.Format(time.RFC3339))
	}
	return s.halted != nil
}

// startAlone runs canary i with nothing else running; false when the
// rollout halted.
func (s *scheduler) startAlone(ctx, runCtx context.Context, i int) bool {
	s.mu.Lock()
	for s.running > 0 && !s.checkStopLocked(ctx, runCtx) {
		s.cond.Wait()
	}
	if s.checkStopLocked(ctx, runCtx) {
		s.mu.Unlock()
		return false
	}
	s.mu.Unlock()
	if !s.launch(ctx, runCtx, i) {
		return false
	}
	s.mu.Lock()
	for s.running > 0 {
		s.cond.Wait()
	}
	s.mu.Unlock()
	return true
}

// schedule starts the targets of pending as slots free, work-conserving:
// the first eligible one (in pending's order) starts as soon as a slot and
// its group allow.
func (s *scheduler) schedule(ctx, runCtx context.Context, pending []int) {
	for len(pending) > 0 {
		s.mu.Lock()
		pick := -1
		for !s.checkStopLocked(ctx, runCtx) {
			if s.running < s.r.MaxParallelClusters {
				if pick = s.pickLocked(pending); pick >= 0 {
					break
				}
			}
			s.cond.Wait()
		}
		stopped := s.halted != nil
		s.mu.Unlock()
		if stopped {
			return
		}
		i := pending[pick]
		pending = slices.Delete(pending, pick, pick+1)
		if !s.launch(ctx, runCtx, i) {
			return
		}
	}
}

// pickLocked returns the index in pending of the cluster to start next,
// or -1 when none is eligible (its group full). With KeepOrder it is the
// first eligible one. Otherwise it is the eligible cluster whose group has
// the most expected work left per slot of the group (the group is then
// the fleet's bottleneck: one cluster per pod makes a pod's clusters run
// one after another), the longest Expected breaking ties, then input
// order. Without any Expected this is input order.
func (s *scheduler) pickLocked(pending []int) int {
	eligible := func(i int) bool {
		t := s.targets[i]
		return s.inGroup[s.group(t)] < s.groupLimit(t)
	}
	if s.r.KeepOrder {
		return slices.IndexFunc(pending, eligible)
	}
	left := map[string]time.Duration{}
	for _, i := range pending {
		left[s.group(s.targets[i])] += s.targets[i].Expected
	}
	best := -1
	var bestLoad, bestExp time.Duration
	for k, i := range pending {
		if !eligible(i) {
			continue
		}
		t := s.targets[i]
		load := left[s.group(t)] / time.Duration(s.groupLimit(t))
		if best < 0 || load > bestLoad || (load == bestLoad && t.Expected > bestExp) {
			best, bestLoad, bestExp = k, load, t.Expected
		}
	}
	return best
}

// launch takes a slot for target i, asks Approve, and starts its run in a
// goroutine; false when the approval refused (the rollout then halts).
func (s *scheduler) launch(ctx, runCtx context.Context, i int) bool {
	t := s.targets[i]
	s.mu.Lock()
	s.running++
	s.inGroup[s.group(t)]++
	s.mu.Unlock()
	if s.r.Approve != nil {
		err := s.r.approve(ctx, func(ctx context.Context) error { return s.r.Approve(ctx, t) })
		if err == nil && !s.r.WindowEnd.IsZero() && !time.Now().Before(s.r.WindowEnd) {
			err = fmt.Errorf("approved after the maintenance window ended at %s", s.r.WindowEnd.Format(time.RFC3339))
		}
		if err != nil {
			s.mu.Lock()
			s.running--
			s.inGroup[s.group(t)]--
			s.rep.Results[i].Status, s.rep.Results[i].Reason = "skipped", "not approved: "+err.Error()
			if s.halted == nil {
				s.halted = fmt.Errorf("%w: cluster %s not approved: %w", ErrRolloutHalted, t.Cluster.Name(), err)
			}
			s.cond.Broadcast()
			s.mu.Unlock()
			return false
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runOne(runCtx, i)
	}()
	return true
}

// runOne observes, plans and runs target i, then frees its slot.
func (s *scheduler) runOne(ctx context.Context, i int) {
	t := s.targets[i]
	res := &s.rep.Results[i]
	if t.ConvergeWithin > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.ConvergeWithin)
		defer cancel()
	}
	var report *Report
	err := func() error {
		ex := &Executor{Journal: t.Journal}
		if s.r.NewExecutor != nil {
			ex = s.r.NewExecutor(t)
			if ex == nil {
				return &InvalidError{What: "rollout target " + t.Cluster.Name(), Problems: []string{"Rollout.NewExecutor returned nil"}}
			}
			if ex.Journal == nil && t.Journal != nil {
				c := *ex // the caller's executor is not changed
				c.Journal = t.Journal
				ex = &c
			}
		}
		rep, err := ex.Upgrade(ctx, t.Cluster, t.Planner, t.Version)
		report = rep
		return err
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	res.Report = report
	s.running--
	s.inGroup[s.group(t)]--
	if err != nil {
		res.Status, res.Reason = "failed", err.Error()
		s.failures++
		s.errs = append(s.errs, fmt.Errorf("cluster %s: %w", t.Cluster.Name(), err))
		windowEnded := !s.r.WindowEnd.IsZero() && !time.Now().Before(s.r.WindowEnd)
		switch {
		case s.halted != nil:
		case windowEnded:
			s.halted = fmt.Errorf("%w: maintenance window ended at %s", ErrRolloutHalted, s.r.WindowEnd.Format(time.RFC3339))
		case res.Canary:
			s.halted = fmt.Errorf("%w: canary %s failed", ErrRolloutHalted, t.Cluster.Name())
		case s.maxFail > 0 && s.failures >= s.maxFail:
			s.halted = fmt.Errorf("%w: %d cluster(s) failed (budget %d)", ErrRolloutHalted, s.failures, s.maxFail)
		case s.r.MaxFailurePercent > 0 && s.failures*100 >= s.r.MaxFailurePercent*len(s.targets):
			s.halted = fmt.Errorf("%w: %d of %d clusters failed (budget %d%%)", ErrRolloutHalted, s.failures, len(s.targets), s.r.MaxFailurePercent)
		}
	} else {
		res.Status = "done"
	}
	s.cond.Broadcast()
}
