package upgrade

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// RolloutTarget is one cluster of a fleet rollout.
type RolloutTarget struct {
	// Cluster to upgrade; its Name must be unique in the rollout.
	Cluster Cluster
	// Planner turns the cluster's snapshot into its plan (e.g.
	// upgrade.Rolling, a vendor planner).
	Planner Planner
	// Version is the target version passed to Planner.
	Version string
	// Group is the topology unit (pod, site, region) that limits
	// concurrency: at most Rollout.PerGroup clusters of one group run at
	// once. Empty means the cluster is its own group.
	Group string
	// Journal, if set, is used for this cluster's run (resume after crash).
	Journal Journal
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
// failure budget spent, window closed, approval refused).
var ErrRolloutHalted = errors.New("rollout halted")

// Rollout upgrades many clusters: canaries first (one at a time, all must
// succeed), then the rest with at most MaxParallelClusters clusters at once and at
// most PerGroup per topology group (e.g. Junos "one cluster per pod at a
// time"). It stops starting new clusters after MaxFailures failures, when
// the maintenance window ends, or when Approve refuses; clusters already
// running finish (each one's own executor stops only at safe points when
// ctx is cancelled). Each cluster runs under its own Executor built by
// NewExecutor, so the availability guard applies to every cluster.
type Rollout struct {
	// MaxParallelClusters bounds concurrent clusters; 0 means 1.
	MaxParallelClusters int
	// PerGroup bounds concurrent clusters of one Group; 0 means 1.
	PerGroup int
	// Canaries is how many targets, from the start of the list, run first
	// and alone; any canary failure halts the rollout.
	Canaries int
	// MaxFailures halts the rollout once this many clusters failed; 0
	// means 1 (stop at the first failure).
	MaxFailures int
	// WindowEnd, if not zero, is the end of the maintenance window: no
	// cluster starts at or after it.
	WindowEnd time.Time
	// Approve, if set, is asked before each cluster starts.
	Approve func(ctx context.Context, t RolloutTarget) error
	// NewExecutor returns the executor for one target; nil means a plain
	// Executor. The target's Journal is used when the executor has none. A
	// nil executor fails that cluster with an *InvalidError.
	NewExecutor func(t RolloutTarget) *Executor
}

// Run executes the rollout. The error is nil only when every target is
// done; otherwise it joins each cluster's error and, when the rollout
// halted, an error matching ErrRolloutHalted that says why.
func (r *Rollout) Run(ctx context.Context, targets []RolloutTarget) (*RolloutReport, error) {
	rep := &RolloutReport{Started: time.Now(), Results: make([]RolloutResult, len(targets))}
	var probs []string
	seen := map[string]bool{}
	for i, t := range targets {
		rep.Results[i] = RolloutResult{Status: "not-started", Group: t.Group, Canary: i < r.Canaries}
		if t.Cluster == nil || t.Planner == nil {
			probs = append(probs, fmt.Sprintf("target %d has no cluster or planner", i))
			continue
		}
		rep.Results[i].Cluster = t.Cluster.Name()
		if seen[t.Cluster.Name()] {
			probs = append(probs, fmt.Sprintf("cluster %q listed twice", t.Cluster.Name()))
		}
		seen[t.Cluster.Name()] = true
	}
	if len(probs) > 0 {
		rep.Finished = time.Now()
		return rep, &InvalidError{What: "rollout", Problems: probs}
	}
	maxPar, perGroup, maxFail := max(r.MaxParallelClusters, 1), max(r.PerGroup, 1), max(r.MaxFailures, 1)

	var (
		mu       sync.Mutex
		cond     = sync.NewCond(&mu)
		running  int
		inGroup  = map[string]int{}
		failures int
		halted   error
		errs     []error
		wg       sync.WaitGroup
	)
	group := func(t RolloutTarget) string {
		if t.Group == "" {
			return "\x00" + t.Cluster.Name()
		}
		return t.Group
	}
	runOne := func(i int) {
		t := targets[i]
		res := &rep.Results[i]
		err := func() error {
			snap, err := t.Cluster.Observe(ctx)
			if err != nil {
				return fmt.Errorf("observe: %w", err)
			}
			p, err := t.Planner.Plan(snap, t.Version)
			if err != nil {
				return err
			}
			ex := &Executor{Journal: t.Journal}
			if r.NewExecutor != nil {
				ex = r.NewExecutor(t)
				if ex == nil {
					return &InvalidError{What: "rollout target " + t.Cluster.Name(), Problems: []string{"Rollout.NewExecutor returned nil"}}
				}
				if ex.Journal == nil {
					ex.Journal = t.Journal
				}
			}
			res.Report, err = ex.Run(ctx, t.Cluster, p)
			return err
		}()
		mu.Lock()
		defer mu.Unlock()
		running--
		inGroup[group(t)]--
		if err != nil {
			res.Status, res.Reason = "failed", err.Error()
			failures++
			errs = append(errs, fmt.Errorf("cluster %s: %w", t.Cluster.Name(), err))
			if res.Canary && halted == nil {
				halted = fmt.Errorf("%w: canary %s failed", ErrRolloutHalted, t.Cluster.Name())
			} else if failures >= maxFail && halted == nil {
				halted = fmt.Errorf("%w: %d cluster(s) failed (budget %d)", ErrRolloutHalted, failures, maxFail)
			}
		} else {
			res.Status = "done"
		}
		cond.Broadcast()
	}

	// start waits for a free slot for target i and launches it; false when
	// the rollout halted.
	start := func(i int, alone bool) bool {
		t := targets[i]
		mu.Lock()
		for halted == nil && ctx.Err() == nil &&
			(running >= maxPar || inGroup[group(t)] >= perGroup || (alone && running > 0)) {
			cond.Wait()
		}
		switch {
		case halted != nil:
		case ctx.Err() != nil:
			halted = fmt.Errorf("%w: %w", ErrRolloutHalted, ctx.Err())
		case !r.WindowEnd.IsZero() && !time.Now().Before(r.WindowEnd):
			halted = fmt.Errorf("%w: maintenance window ended at %s", ErrRolloutHalted, r.WindowEnd.Format(time.RFC3339))
		}
		if halted != nil {
			mu.Unlock()
			return false
		}
		running++
		inGroup[group(t)]++
		mu.Unlock()
		if r.Approve != nil {
			err := r.Approve(ctx, t)
			if err == nil && !r.WindowEnd.IsZero() && !time.Now().Before(r.WindowEnd) {
				err = fmt.Errorf("approved after the maintenance window ended at %s", r.WindowEnd.Format(time.RFC3339))
			}
			if err != nil {
				mu.Lock()
				running--
				inGroup[group(t)]--
				rep.Results[i].Status, rep.Results[i].Reason = "skipped", "not approved: "+err.Error()
				halted = fmt.Errorf("%w: cluster %s not approved: %w", ErrRolloutHalted, t.Cluster.Name(), err)
				cond.Broadcast()
				mu.Unlock()
				return false
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runOne(i)
		}()
		return true
	}
	// Wake waiters when ctx ends.
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		cond.Broadcast()
		mu.Unlock()
	})
	defer stop()

	for i := range targets {
		canary := i < r.Canaries
		if !start(i, canary) {
			break
		}
		if canary {
			// A canary runs alone: wait for it before starting anything else.
			mu.Lock()
			for running > 0 {
				cond.Wait()
			}
			mu.Unlock()
		}
	}
	wg.Wait()
	rep.Finished = time.Now()
	if halted != nil {
		errs = append(errs, halted)
	}
	err := errors.Join(errs...)
	rep.OK = err == nil
	return rep, err
}
