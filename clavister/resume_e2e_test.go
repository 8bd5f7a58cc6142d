package clavister_test

// Crash and resume, end to end: one simulated pair outlives two "processes"
// (a clavister.Cluster and an upgrade.Executor each) that share a journal
// file. The first process dies at a journal write; the second resumes with
// a new clavister.New, Observe, Planner.Plan and Executor.Run on the same
// journal path. Invariants: the upgrade completes, each unit gets ONE apply
// command (a second one would reboot it twice), ONE `ha -deactivate` in
// all, no probe tick lost.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/clavister/clavistertest"
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

// crashed reports whether the process died (an append failed).
func (j *crashJournal) crashed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n > j.writes || j.n == j.writes && j.afterWrite
}

// runAll runs one subtest per name at once. The subtests wait on
// simulated reboots and gates (little CPU), so they run concurrently
// without the -parallel limit (GOMAXPROCS) that t.Parallel would impose;
// testing.T.Run may be called from several goroutines.
//
// At most runAllLimit run at a time: each drives two simulated units over
// SSH, and a loaded machine (the race detector, two CPUs) must still
// complete their handshakes within the dial timeout.
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

// runAllLimit bounds the subtests runAll runs at once.
const runAllLimit = 8

// process is one run of the tool: connect, observe, plan (Planner.Journal
// set to j when withJournal), execute with journal j. The cluster is
// closed on return, as when the process exits.
func process(ctx context.Context, cfg clavister.Config, gate upgrade.Timing, j upgrade.Journal, withJournal bool) (*upgrade.Report, upgrade.Plan, error) {
	c, err := clavister.New(ctx, cfg)
	if err != nil {
		return nil, upgrade.Plan{}, fmt.Errorf("New: %w", err)
	}
	defer func() { _ = c.Close() }()
	snap, err := c.Observe(ctx)
	if err != nil {
		return nil, upgrade.Plan{}, err
	}
	p := clavister.Planner{Cluster: c, GateTiming: gate}
	if withJournal {
		p.Journal = j
	}
	plan, err := p.Plan(snap, e2eTarget)
	if err != nil {
		return nil, plan, fmt.Errorf("plan: %w", err)
	}
	rep, err := (&upgrade.Executor{Journal: j}).Run(ctx, c, plan)
	return rep, plan, err
}

// crashPair starts a pair whose units keep answering for applyDelay after
// acknowledging the apply command (the window in which a resumed run must
// not apply again) and returns it with a config whose ApplyGrace covers it.
func crashPair(t *testing.T, applyDelay, reboot time.Duration, faults clavistertest.Faults) (*clavistertest.Pair, clavister.Config) {
	t.Helper()
	pair, err := clavistertest.Start(clavistertest.Options{ListSizes: true, ApplyDelay: applyDelay, RebootDuration: reboot,
		SyncDuration: 200 * time.Millisecond, FailoverGap: 200 * time.Millisecond, ProbeEvery: 10 * time.Millisecond, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pair.Close() })
	fw, err := pair.WriteFirmware(t.TempDir(), e2eTarget)
	if err != nil {
		t.Fatal(err)
	}
	cfg := configFor(pair, fw)
	// A wide margin: under load (race detector, parallel subtests) the
	// simulator's restart can come well after its nominal delay.
	cfg.ApplyGrace = applyDelay + 2*time.Second
	return pair, cfg
}

// applies counts the apply commands each unit received.
func applies(pair *clavistertest.Pair) map[string]int {
	n := map[string]int{}
	for _, u := range pair.Units() {
		n[u.Name()] = countOf(u.Commands(), clavistertest.DefaultApplyCommand)
	}
	return n
}

func countOf(cmds []string, cmd string) int {
	n := 0
	for _, c := range cmds {
		if c == cmd {
			n++
		}
	}
	return n
}

// deactivations counts `ha -deactivate` on both units.
func deactivations(pair *clavistertest.Pair) int {
	n := 0
	for _, u := range pair.Units() {
		n += countOf(u.Commands(), "ha -deactivate")
	}
	return n
}

// expectCompleted asserts the resumed upgrade's invariants.
func expectCompleted(t *testing.T, pair *clavistertest.Pair, rep *upgrade.Report, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if !rep.OK {
		t.Fatalf("resume report: %s", rep.Error)
	}
	for _, u := range pair.Units() {
		if v := u.Version(); v != e2eTarget {
			t.Errorf("%s runs %s, want %s", u.Name(), v, e2eTarget)
		}
	}
	if got := applies(pair); got["fw-a"] != 1 || got["fw-b"] != 1 {
		t.Errorf("apply commands per unit %v, want one each", got)
	}
	if n := deactivations(pair); n != 1 {
		t.Errorf("%d ha -deactivate, want 1", n)
	}
	if lost := pair.Probe().LostTicks(); lost != 0 {
		t.Errorf("lost %d probe ticks (outage %v)", lost, pair.Probe().Outage())
	}
	if !pair.Unit("fw-b").Active() {
		t.Error("fw-b is not active at the end")
	}
}

// TestE2ECrashResumeEveryJournalWrite cuts a full run at every journal
// write, just before it and just after it, and resumes in a new process.
func TestE2ECrashResumeEveryJournalWrite(t *testing.T) {
	t.Parallel()
	// A full run writes the plan, then a start and a finish per step.
	const steps = 8 // stage, install, wait, failover, wait:active, stage, install, postcheck
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
		pair, cfg := crashPair(t, 150*time.Millisecond, 300*time.Millisecond, clavistertest.Faults{})
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: cut.writes, afterWrite: cut.afterWrite}
		_, p1, err := process(ctx, cfg, e2eTiming, j, true)
		if len(p1.Steps) != steps {
			t.Fatalf("first plan %q, want %d steps", p1.StepIDs(), steps)
		}
		if !errors.Is(err, errCrashed) || !j.crashed() {
			t.Fatalf("first process: want a crash at the journal, got %v", err)
		}
		rep, p2, err := process(ctx, cfg, e2eTiming, &upgrade.FileJournal{Path: path}, true)
		if err != nil {
			t.Logf("re-plan %q", p2.StepIDs())
		}
		expectCompleted(t, pair, rep, err)
	})
}

// TestE2EResumeInApplyWindow: the process dies right after the apply
// command was acknowledged (the install's finish is not journaled) while
// the unit still answers on its old version. The resumed verification must
// wait for the reboot instead of applying again (the unit would answer "A
// restart is already in progress" and reboot twice).
func TestE2EResumeInApplyWindow(t *testing.T) {
	t.Parallel()
	type tc struct {
		applyDelay  time.Duration
		withJournal bool
	}
	var tcs []tc
	var names []string
	for _, d := range []time.Duration{300 * time.Millisecond, time.Second} {
		for _, wj := range []bool{true, false} {
			tcs = append(tcs, tc{d, wj})
			names = append(names, fmt.Sprintf("delay=%v/Planner.Journal=%t", d, wj))
		}
	}
	runAll(t, names, func(t *testing.T, i int) {
		tt := tcs[i]
		pair, cfg := crashPair(t, tt.applyDelay, 300*time.Millisecond, clavistertest.Faults{})
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		// Written: plan, start and finish of stage:fw-b, start of
		// install:fw-b. The install's finish fails.
		j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: 4}
		if _, _, err := process(ctx, cfg, e2eTiming, j, tt.withJournal); !errors.Is(err, errCrashed) {
			t.Fatalf("first process: %v", err)
		}
		if b := pair.Unit("fw-b"); b.Down() || b.Version() != e2eFrom || applies(pair)["fw-b"] != 1 {
			t.Fatalf("want fw-b up on %s with its apply command pending: down %t, %s, %v", e2eFrom, b.Down(), b.Version(), applies(pair))
		}
		rep, _, err := process(ctx, cfg, e2eTiming, &upgrade.FileJournal{Path: path}, tt.withJournal)
		expectCompleted(t, pair, rep, err)
		if rep != nil {
			i := slices.IndexFunc(rep.Steps, func(s upgrade.StepReport) bool { return s.Name == "install:fw-b@"+e2eTarget })
			switch {
			case i < 0:
				t.Errorf("the resume planned after fw-b's reboot (steps %v): the apply window was missed", rep.Steps)
			case rep.Steps[i].Status != upgrade.StatusSkipped:
				t.Errorf("install:fw-b: %s (%s), want skipped as verified done", rep.Steps[i].Status, rep.Steps[i].Error)
			}
		}
	})
}

// waitUntil polls cond every few milliseconds until it holds or ctx ends.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting until %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// TestE2EResumeInstallNotTaken: fw-b comes back from its install on the
// old version (the package did not take) around a process restart. The
// resumed run must neither apply again nor fail over, and must say why at
// once: ErrInstallNotTaken naming fw-b.
func TestE2EResumeInstallNotTaken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// writes before the crash: 4 (plan, stage start and finish,
		// install start) = the install's finish is not journaled (its
		// verification decides); 5 = it is, and the run died before its
		// gate (the gate decides).
		writes int
		// backFirst: fw-b is back (on the old version) before the resume,
		// so only the journal's start time and `stats` Uptime show that it
		// restarted; otherwise the resume meets it rebooting.
		backFirst   bool
		withJournal bool
	}{
		{"verify/rebooting at resume", 4, false, false},
		{"verify/back before resume", 4, true, true},
		{"gate/rebooting at resume", 5, false, false},
		{"gate/back before resume", 5, true, true},
	}
	names := make([]string, len(tests))
	for i, tt := range tests {
		names[i] = tt.name
	}
	runAll(t, names, func(t *testing.T, i int) {
		tt := tests[i]
		// A reboot longer than the one-second resolution of Uptime,
		// so that "back before resume" is visible in stats.
		pair, cfg := crashPair(t, 20*time.Millisecond, 1200*time.Millisecond, clavistertest.Faults{BackOnOld: "fw-b"})
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		// A long gate deadline: the failure must be found at once.
		gate := upgrade.Timing{Interval: 40 * time.Millisecond, MinHealthy: 80 * time.Millisecond, Deadline: time.Minute}
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: tt.writes}
		if _, _, err := process(ctx, cfg, gate, j, tt.withJournal); !errors.Is(err, errCrashed) {
			t.Fatalf("first process: %v", err)
		}
		b := pair.Unit("fw-b")
		if tt.backFirst {
			waitUntil(t, ctx, "fw-b is back from its restart", func() bool { return b.Restarts() == 1 && !b.Down() })
		}
		start := time.Now()
		rep, _, err := process(ctx, cfg, gate, &upgrade.FileJournal{Path: path}, tt.withJournal)
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("resume took %v: the failure was not found at once", took)
		}
		expectUnitError(t, err, "fw-b", clavister.ErrInstallNotTaken)
		if tt.writes == 4 && !errors.Is(err, upgrade.ErrUnverifiable) {
			t.Errorf("verification: want ErrUnverifiable, got %v", err)
		}
		var ge *upgrade.GateError
		if tt.writes == 5 && (!errors.As(err, &ge) || !ge.Permanent) {
			t.Errorf("gate: want a permanent gate failure, got %v", err)
		}
		if rep == nil || slices.ContainsFunc(rep.Steps, func(s upgrade.StepReport) bool {
			return strings.HasPrefix(s.Name, "failover") && s.Status != upgrade.StatusPlanned
		}) {
			t.Errorf("the failover was reached: %+v", rep)
		}
		if got := applies(pair); got["fw-a"] != 0 || got["fw-b"] != 1 {
			t.Errorf("apply commands %v, want fw-b once", got)
		}
		if b.Version() != e2eFrom {
			t.Errorf("fw-b runs %s", b.Version())
		}
		expectSafe(t, pair)
	})
}

// TestE2EResumeInterruptedStage: the process dies during stage:fw-b,
// before or after the upload. The resumed run verifies the stage (the
// package listed with the local file's size: done, not copied again) or
// simply runs it again (not listed, or listed without a size), with or
// without Planner.Journal, and completes: one apply per unit.
func TestE2EResumeInterruptedStage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// afterWrite false: the stage ran and its finish was not
		// journaled; true: the process died right after journaling its
		// start, before the upload.
		afterWrite  bool
		listSizes   bool
		withJournal bool
		uploads     int
		verified    bool // the resumed run skips the stage as verified done
	}{
		{"before the upload", true, true, false, 1, false},
		{"before the upload, Planner.Journal", true, true, true, 1, false},
		{"after the upload", false, true, false, 1, true},
		{"after the upload, ls without sizes", false, false, false, 2, false},
	}
	names := make([]string, len(tests))
	for i, tt := range tests {
		names[i] = tt.name
	}
	runAll(t, names, func(t *testing.T, i int) {
		tt := tests[i]
		pair, err := clavistertest.Start(clavistertest.Options{ListSizes: tt.listSizes, ApplyDelay: 20 * time.Millisecond, RebootDuration: 300 * time.Millisecond,
			SyncDuration: 200 * time.Millisecond, FailoverGap: 200 * time.Millisecond, ProbeEvery: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pair.Close() })
		fw, err := pair.WriteFirmware(t.TempDir(), e2eTarget)
		if err != nil {
			t.Fatal(err)
		}
		cfg := configFor(pair, fw)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		// Written: the plan and the stage's start.
		j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: 2, afterWrite: tt.afterWrite}
		if _, _, err := process(ctx, cfg, e2eTiming, j, tt.withJournal); !errors.Is(err, errCrashed) {
			t.Fatalf("first process: %v", err)
		}
		rep, _, err := process(ctx, cfg, e2eTiming, &upgrade.FileJournal{Path: path}, tt.withJournal)
		expectCompleted(t, pair, rep, err)
		if up := pair.Unit("fw-b").Uploaded(); len(up) != tt.uploads {
			t.Errorf("fw-b uploads %q, want %d", up, tt.uploads)
		}
		if got := rep.Steps[0]; got.Name != "stage:fw-b@"+e2eTarget || (got.Status == upgrade.StatusSkipped) != tt.verified {
			t.Errorf("%s: %s (%s), verified done %t", got.Name, got.Status, got.Note, tt.verified)
		}
	})
}

// TestE2EResumeUnverifiableWithoutJournal: the process died right after
// fw-b acknowledged its apply command (the install's finish is not
// journaled), and fw-b came back on its OLD version before the resume
// (the package did not take and was consumed by the reboot). Without
// Planner.Journal nothing tells "never applied" from "already came back
// from a failed install" (no package listed, no restart seen by this
// process): the resume stops with ErrUnverifiable naming fw-b instead of
// risking a second apply. With Planner.Journal, `stats` Uptime settles it
// (TestE2EResumeInstallNotTaken).
func TestE2EResumeUnverifiableWithoutJournal(t *testing.T) {
	t.Parallel()
	pair, cfg := crashPair(t, 20*time.Millisecond, 300*time.Millisecond, clavistertest.Faults{BackOnOld: "fw-b"})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	// Written: plan, stage start and finish, install start.
	j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: 4}
	if _, _, err := process(ctx, cfg, e2eTiming, j, false); !errors.Is(err, errCrashed) {
		t.Fatalf("first process: %v", err)
	}
	b := pair.Unit("fw-b")
	waitUntil(t, ctx, "fw-b is back from its restart", func() bool { return b.Restarts() == 1 && !b.Down() })
	_, _, err := process(ctx, cfg, e2eTiming, &upgrade.FileJournal{Path: path}, false)
	expectUnitError(t, err, "fw-b", upgrade.ErrUnverifiable)
	if got := applies(pair); got["fw-a"] != 0 || got["fw-b"] != 1 {
		t.Errorf("apply commands %v, want fw-b once", got)
	}
	if up := b.Uploaded(); len(up) != 1 {
		t.Errorf("uploads %q, want one", up)
	}
	expectSafe(t, pair)
}

// TestE2ENewWhileUnitReboots: a process started while a unit reboots
// connects (the unit is reported down until it answers) and can resume.
func TestE2ENewWhileUnitReboots(t *testing.T) {
	t.Parallel()
	pair, cfg := crashPair(t, 20*time.Millisecond, 1200*time.Millisecond, clavistertest.Faults{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c1, err := clavister.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.Member("fw-b").Install(ctx, e2eTarget); err != nil {
		t.Fatal(err)
	}
	_ = c1.Close()
	b := pair.Unit("fw-b")
	waitUntil(t, ctx, "fw-b restarts", func() bool { return b.Down() || b.Restarts() > 0 })
	cfg.ReconnectTimeout = 100 * time.Millisecond
	c2, err := clavister.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New while fw-b reboots: %v", err)
	}
	defer func() { _ = c2.Close() }()
	snap, err := c2.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := snap.Member("fw-b"); b.Down() && m.Role != upgrade.RoleDown {
		t.Errorf("fw-b is rebooting but observed %s", m.Role)
	}
	if _, err := (clavister.Planner{Cluster: c2, GateTiming: e2eTiming}).Plan(snap, e2eTarget); err != nil {
		t.Errorf("plan while fw-b reboots: %v", err)
	}
}
