package checkpoint_test

// Crash and resume, end to end: one simulated cluster and one management
// fake outlive two "processes" (a checkpoint.Cluster and an
// upgrade.Executor each) that share a journal file and a task log file.
// The first process dies at a journal write, just before or just after it;
// the second resumes with a new checkpoint.New, Observe, Planner.Plan and
// Executor.Run on the same files. Invariants: the upgrade completes, no
// member gets a second `installer upgrade` for the same package (it would
// reboot twice), one `clusterXL_admin down` in all, no policy installation
// that succeeded is sent again, no probe tick is lost.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/upgrade"
)

// errCrashed is what crashJournal returns once the simulated process died.
var errCrashed = errors.New("simulated crash: the process died")

// crashJournal is a FileJournal whose process dies at a journal write: the
// first writes appends are written; with afterWrite the last of them
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

// runAll runs one subtest per name, at most 6 at a time (each drives a
// simulated cluster over SSH and TLS; a loaded machine must still finish
// its handshakes within the dial timeout).
func runAll(t *testing.T, names []string, f func(t *testing.T, i int)) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	for i, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(name, func(t *testing.T) { f(t, i) })
		})
	}
	wg.Wait()
}

// crashCuts returns every cut of a run writing records journal records:
// before each write and after each write.
func crashCuts(records int) ([]int, []bool, []string) {
	var writes []int
	var after []bool
	var names []string
	for n := 0; n < records; n++ {
		writes, after, names = append(writes, n), append(after, false), append(names, fmt.Sprintf("before-write-%02d", n+1))
	}
	for n := 1; n <= records; n++ {
		writes, after, names = append(writes, n), append(after, true), append(names, fmt.Sprintf("after-write-%02d", n))
	}
	return writes, after, names
}

// expectResumed asserts the invariants of a crashed and resumed run.
func (h *harness) expectResumed(t *testing.T, rep *upgrade.Report, err error, wantInstalls []string) {
	t.Helper()
	require.NoError(t, err)
	require.True(t, rep.OK, rep.Error)
	h.expectConverged(t, "gw-b")
	pkg := filepath.Base(h.cfg.PackagePath)
	for _, m := range h.sim.Members() {
		n := 0
		for _, c := range m.Commands() {
			if c == "installer upgrade "+pkg+" not-interactive" {
				n++
			}
		}
		assert.Equal(t, 1, n, "installer upgrade on %s", m.Name())
		reboots := 1
		if h.cfg.JumboPath != "" {
			reboots = 2
		}
		assert.Equal(t, reboots, m.Reboots(), "reboots of %s", m.Name())
		if h.cfg.JumboPath != "" {
			n := 0
			for _, c := range m.Commands() {
				if c == "installer upgrade "+filepath.Base(h.cfg.JumboPath)+" not-interactive" {
					n++
				}
			}
			assert.Equal(t, 1, n, "Jumbo installation on %s", m.Name())
		}
	}
	assert.Equal(t, 1, h.count("clusterXL_admin down"), "clusterXL_admin down")
	assert.Equal(t, 1, h.sim.Failovers())
	assert.Equal(t, wantInstalls, h.policyInstalls(), "policy installations (none repeated)")
}

// TestE2ECrashResumeEveryJournalWrite cuts a full gateway-mode run at every
// journal write, just before it and just after it, and resumes in a new
// process.
func TestE2ECrashResumeEveryJournalWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("one simulated upgrade per cut")
	}
	t.Parallel()
	const steps = 18 // see TestE2EPlanShape (without the role restore)
	writes, after, names := crashCuts(1 + 2*steps)
	runAll(t, names, func(t *testing.T, i int) {
		h := startHarness(t, harnessOpts{})
		ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
		defer cancel()
		path := filepath.Join(h.dir, "journal.jsonl")
		j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: writes[i], afterWrite: after[i]}
		_, p1, err := h.run(ctx, j, "")
		require.Len(t, p1.Steps, steps, "first plan %q", p1.StepIDs())
		require.ErrorIs(t, err, errCrashed, "first process")
		rep, p2, err := h.run(ctx, &upgrade.FileJournal{Path: path}, "")
		if err != nil {
			t.Logf("resumed plan %q", p2.StepIDs())
		}
		h.expectResumed(t, rep, err, []string{
			"[cpcluster] access=true tp=false all=false",
			"[cpcluster] access=true tp=true all=true",
		})
	})
}

// TestE2ECrashResumeVSX does the same for the VSX procedure with the
// Jumbo Hotfix and the CoreXL Dynamic Balancing workaround.
func TestE2ECrashResumeVSX(t *testing.T) {
	if testing.Short() {
		t.Skip("one simulated upgrade per cut")
	}
	t.Parallel()
	const steps = 30 // see TestE2EVSXUpgrade (two Virtual Systems here)
	writes, after, names := crashCuts(1 + 2*steps)
	runAll(t, names, func(t *testing.T, i int) {
		h := startHarness(t, harnessOpts{vsx: true, jumbo: 92})
		ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
		defer cancel()
		path := filepath.Join(h.dir, "journal.jsonl")
		j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: writes[i], afterWrite: after[i]}
		_, p1, err := h.run(ctx, j, "")
		require.Len(t, p1.Steps, steps, "first plan %q", p1.StepIDs())
		require.ErrorIs(t, err, errCrashed, "first process")
		rep, p2, err := h.run(ctx, &upgrade.FileJournal{Path: path}, "")
		if err != nil {
			t.Logf("resumed plan %q", p2.StepIDs())
		}
		h.expectResumed(t, rep, err, []string{
			"[cpcluster] access=true tp=false all=false",
			"[cpcluster] access=true tp=true all=true",
			"[vs1] access=true tp=true all=true",
			"[vs2] access=true tp=true all=true",
		})
		for _, m := range h.sim.Members() {
			assert.Equal(t, 92, m.Take(), m.Name())
			assert.False(t, m.DynamicBalancing(), m.Name())
		}
	})
}
