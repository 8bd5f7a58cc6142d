package junos_test

// Crash and resume, end to end: one simulated cluster outlives two
// "processes" (a junos.Cluster and an upgrade.Executor each) that share a
// journal file. The first process dies at a journal write; the second
// resumes with a new junos.New, Observe, Planner.Plan and Executor.Run on
// the same journal path and artifacts directory. Invariants: the upgrade
// completes; each node gets ONE software add and ONE reboot; each
// redundancy group ONE failover command and ONE failover; no probe tick
// lost.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/junos/junostest"
	"github.com/hitless/hitless/upgrade"
)

// errCrashed is what crashJournal returns once the simulated process died.
var errCrashed = errors.New("simulated crash: the process died")

// crashJournal is a FileJournal whose process dies at a journal write: the
// first `writes` appends are written; with afterWrite the last of them
// returns errCrashed once written (the process died right after the
// write), otherwise the next append fails unwritten (it died right
// before). Every later append fails unwritten.
type crashJournal struct {
	*upgrade.FileJournal
	writes     int
	afterWrite bool

	mu sync.Mutex
	n  int
}

func (j *crashJournal) Append(ctx context.Context, r upgrade.Record) error {
	j.mu.Lock()
	j.n++
	n := j.n
	j.mu.Unlock()
	if n > j.writes {
		return errCrashed
	}
	if err := j.FileJournal.Append(ctx, r); err != nil {
		return err
	}
	if n == j.writes && j.afterWrite {
		return errCrashed
	}
	return nil
}

// process is one run of the tool: connect, observe, plan, execute with
// journal j. The cluster is closed on return, as when the process exits.
func process(ctx context.Context, cfg junos.Config, j upgrade.Journal) (*upgrade.Report, upgrade.Plan, error) {
	c, err := junos.New(ctx, cfg)
	if err != nil {
		return nil, upgrade.Plan{}, fmt.Errorf("New: %w", err)
	}
	defer func() { _ = c.Close() }()
	snap, err := c.Observe(ctx)
	if err != nil {
		return nil, upgrade.Plan{}, err
	}
	plan, err := junos.Planner{Cluster: c, GateTiming: e2eTiming}.Plan(snap, e2eTarget)
	if err != nil {
		return nil, plan, fmt.Errorf("plan: %w", err)
	}
	rep, err := (&upgrade.Executor{Journal: j, Retry: e2eRetry, Redact: cfg.Secrets()}).Run(ctx, c, plan)
	return rep, plan, err
}

// runAll runs one subtest per name, at most runAllLimit at once (each
// drives a simulated cluster over SSH; a loaded machine must still
// complete the handshakes within the dial timeout).
func runAll(t *testing.T, names []string, f func(t *testing.T, i int)) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, runAllLimit)
	for i, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(name, func(t *testing.T) { f(t, i) })
		})
	}
	wg.Wait()
}

const runAllLimit = 6

// failoverCommands counts `request chassis cluster failover
// redundancy-group g node ...` on both nodes.
func failoverCommands(sim *junostest.Sim, g int) int {
	k := 0
	for _, n := range sim.Nodes() {
		k += count(n, fmt.Sprintf("request chassis cluster failover redundancy-group %d node", g))
	}
	return k
}

// expectCompleted asserts the resumed upgrade's invariants.
func expectCompleted(t *testing.T, sim *junostest.Sim, rep *upgrade.Report, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if !rep.OK {
		t.Fatalf("resume report: %s", rep.Error)
	}
	for _, n := range sim.Nodes() {
		if v := n.Version(); v != e2eTarget {
			t.Errorf("%s runs %s, want %s", n.Name(), v, e2eTarget)
		}
		if r := count(n, "request system reboot"); r != 1 || n.Boots() != 2 {
			t.Errorf("%s: %d reboot commands, %d boots; want one reboot", n.Name(), r, n.Boots())
		}
		if k := count(n, "request system software add"); k != 1 {
			t.Errorf("%s: %d software adds, want 1", n.Name(), k)
		}
	}
	for _, g := range sim.RedundancyGroups() {
		if k, f := failoverCommands(sim, g), sim.Failovers(g); k != 1 || f != 1 {
			t.Errorf("RG%d: %d failover commands, %d failovers; want one each", g, k, f)
		}
		if sim.Manual(g) {
			t.Errorf("RG%d: manual failover left in effect", g)
		}
	}
	if sim.Preempt(1) {
		t.Error("RG1 preempt is on at the end")
	}
	if lost := sim.Probe().LostTicks(); lost != 0 {
		t.Errorf("lost %d probe ticks (outage %v)", lost, sim.Probe().Outage())
	}
}

// TestE2ECrashResumeEveryJournalWrite cuts a full run at every journal
// write, just before it and just after it, and resumes in a new process.
func TestE2ECrashResumeEveryJournalWrite(t *testing.T) {
	t.Parallel()
	// A full run writes the plan, then a start and a finish per step.
	const steps = 13
	const records = 1 + 2*steps
	type cut struct {
		writes     int
		afterWrite bool
	}
	var cuts []cut
	for n := 0; n < records; n++ {
		cuts = append(cuts, cut{n, false})
	}
	for n := 1; n <= records; n++ {
		cuts = append(cuts, cut{n, true})
	}
	names := make([]string, len(cuts))
	for i, cut := range cuts {
		names[i] = fmt.Sprintf("before-write-%02d", cut.writes+1)
		if cut.afterWrite {
			names[i] = fmt.Sprintf("after-write-%02d", cut.writes)
		}
	}
	runAll(t, names, func(t *testing.T, i int) {
		cut := cuts[i]
		sim, cfg := startSim(t, junostest.Options{Preempt: []int{1}})
		ctx := ctxFor(t, 60*time.Second)
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: cut.writes, afterWrite: cut.afterWrite}
		_, p1, err := process(ctx, cfg, j)
		if len(p1.Steps) != steps {
			t.Fatalf("first plan %q, want %d steps", p1.StepIDs(), steps)
		}
		if !errors.Is(err, errCrashed) {
			t.Fatalf("first process: want a crash at the journal, got %v", err)
		}
		rep, p2, err := process(ctx, cfg, &upgrade.FileJournal{Path: path})
		if err != nil {
			t.Logf("re-plan %q", p2.StepIDs())
		}
		expectCompleted(t, sim, rep, err)
		// The resumed plan is the remaining work, with the first plan's IDs.
		for _, id := range p2.StepIDs() {
			if !strings.Contains(strings.Join(p1.StepIDs(), " "), id) {
				t.Errorf("re-planned step %s is not in the first plan", id)
			}
		}
	})
}
