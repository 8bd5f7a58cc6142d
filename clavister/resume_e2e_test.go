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
	return processAfterNew(ctx, cfg, gate, j, withJournal, nil)
}

// processAfterNew is process with a hook called once clavister.New has
// returned, before the first observation.
func processAfterNew(ctx context.Context, cfg clavister.Config, gate upgrade.Timing, j upgrade.Journal, withJournal bool, afterNew func()) (*upgrade.Report, upgrade.Plan, error) {
	c, err := clavister.New(ctx, cfg)
	if afterNew != nil {
		afterNew()
	}
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
	return crashPairWith(t, clavistertest.Options{ApplyDelay: applyDelay, RebootDuration: reboot, Faults: faults})
}

// crashPairWith is crashPair with more options (ApplyDelay, RebootDuration,
// Faults and hooks are taken from o; the other durations are set here).
func crashPairWith(t *testing.T, o clavistertest.Options) (*clavistertest.Pair, clavister.Config) {
	t.Helper()
	applyDelay := o.ApplyDelay
	o.ListSizes = true
	o.SyncDuration, o.FailoverGap, o.ProbeEvery = 200*time.Millisecond, 200*time.Millisecond, 10*time.Millisecond
	pair, err := clavistertest.Start(o)
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

// TestE2EResumeUnitRestartsDuringObserve: the first process dies right
// after install:fw-a was journaled finished (write 15 of
// TestE2ECrashResumeEveryJournalWrite), with fw-a still up on its old
// version (its restart held), and fw-a restarts exactly between the `ha`
// and the `about` of the resumed process's first Observe: `ha` answered
// before the restart (INACTIVE, in sync, peer ALIVE), `about` after it
// (the target). Combined, they made fw-a look upgraded and healthy, the
// re-plan came out empty and the end-state check failed on fw-a still
// resynchronising (held at 33 % until the post-check has seen it). The
// observation must read `ha` again after the reconnection, so the re-plan
// keeps the post-check (the resync gate of the last unit installed, a
// step of the journal's plan), which waits for the sync.
func TestE2EResumeUnitRestartsDuringObserve(t *testing.T) {
	t.Parallel()
	var (
		mu           sync.Mutex
		armed        bool
		restartFwA   func()
		releaseSync  func()
		postcheckErr string
	)
	pair, cfg := crashPairWith(t, clavistertest.Options{ApplyDelay: 20 * time.Millisecond, RebootDuration: 300 * time.Millisecond,
		BeforeCommand: func(u *clavistertest.Unit, cmd string) {
			mu.Lock()
			restart := restartFwA
			if !armed || u.Name() != "fw-a" || cmd != "about" {
				restart = nil
			}
			mu.Unlock()
			if restart != nil {
				restart() // fw-a drops its sessions before it answers
			}
		}})
	a := pair.Unit("fw-a")
	mu.Lock()
	restartFwA = a.HoldRestart()
	mu.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: 15, afterWrite: true}
	if _, _, err := process(ctx, cfg, e2eTiming, j, true); !errors.Is(err, errCrashed) {
		t.Fatalf("first process: %v", err)
	}
	if a.Down() || a.Version() != e2eFrom || applies(pair)["fw-a"] != 1 {
		t.Fatalf("want fw-a up on %s with its restart held: down %t, %s, %v", e2eFrom, a.Down(), a.Version(), applies(pair))
	}
	mu.Lock()
	armed = true
	releaseSync = a.HoldSync(33)
	mu.Unlock()

	c, err := clavister.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	snap, err := c.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Down() && a.Restarts() != 1 {
		t.Fatal("fw-a did not restart during the observation")
	}
	if m, _ := snap.Member("fw-a"); m.Healthy || m.Version != e2eTarget {
		t.Errorf("fw-a observed %s healthy=%t %v: want it on the target and resyncing (ha read after its restart)", m.Version, m.Healthy, m.Problems)
	}
	plan, err := clavister.Planner{Cluster: c, GateTiming: e2eTiming, Journal: &upgrade.FileJournal{Path: path}}.Plan(snap, e2eTarget)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"postcheck@" + e2eTarget}; !slices.Equal(plan.StepIDs(), want) {
		t.Errorf("re-plan %q, want %q", plan.StepIDs(), want)
	}
	ex := &upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}, OnEvent: func(ev upgrade.Event) {
		if ev.Kind != upgrade.EventGatePoll || ev.Step != "postcheck@"+e2eTarget || ev.Err == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if postcheckErr == "" {
			postcheckErr = ev.Err
			releaseSync() // the post-check has seen fw-a resyncing
		}
	}}
	rep, err := ex.Run(ctx, c, plan)
	expectCompleted(t, pair, rep, err)
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(postcheckErr, "fw-a") || !strings.Contains(postcheckErr, clavister.ErrSyncIncomplete.Error()) {
		t.Errorf("the post-check's first failing poll %q does not show fw-a resyncing", postcheckErr)
	}
}

// TestE2EResumeInApplyWindow: the process dies right after the apply
// command was acknowledged (the install's finish is not journaled) while
// the unit still answers on its old version. The resumed verification must
// wait for the reboot instead of applying again (the unit would answer "A
// restart is already in progress" and reboot twice).
//
// The restart is held (it used to follow after ApplyDelay, which a loaded
// machine could outrun: the resume then planned after the reboot and the
// window was missed) until the verification's second poll, so that the
// resumed process plans with fw-b up on its old version and the
// verification sees it so at least once before the restart.
func TestE2EResumeInApplyWindow(t *testing.T) {
	t.Parallel()
	names := []string{"Planner.Journal=true", "Planner.Journal=false"}
	runAll(t, names, func(t *testing.T, i int) {
		withJournal := i == 0
		var (
			mu      sync.Mutex
			armed   bool
			stats   int
			restart func()
		)
		pair, cfg := crashPairWith(t, clavistertest.Options{ApplyDelay: 20 * time.Millisecond, RebootDuration: 300 * time.Millisecond,
			BeforeCommand: func(u *clavistertest.Unit, cmd string) {
				mu.Lock()
				var r func()
				if armed && u.Name() == "fw-b" && cmd == "stats" {
					// `stats` opens every poll of the verification (the
					// resumed Observe does not read it).
					if stats++; stats == 2 {
						r = restart
					}
				}
				mu.Unlock()
				if r != nil {
					r()
				}
			}})
		// The verification may not conclude "not applied" before the
		// restart: ApplyGrace is far longer than one poll.
		cfg.ApplyGrace = 10 * time.Second
		b := pair.Unit("fw-b")
		mu.Lock()
		restart = b.HoldRestart()
		mu.Unlock()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		// Written: plan, start and finish of stage:fw-b, start of
		// install:fw-b. The install's finish fails.
		j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: 4}
		if _, _, err := process(ctx, cfg, e2eTiming, j, withJournal); !errors.Is(err, errCrashed) {
			t.Fatalf("first process: %v", err)
		}
		if b.Down() || b.Version() != e2eFrom || applies(pair)["fw-b"] != 1 {
			t.Fatalf("want fw-b up on %s with its apply command pending: down %t, %s, %v", e2eFrom, b.Down(), b.Version(), applies(pair))
		}
		mu.Lock()
		armed = true
		mu.Unlock()
		rep, _, err := process(ctx, cfg, e2eTiming, &upgrade.FileJournal{Path: path}, withJournal)
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
		mu.Lock()
		defer mu.Unlock()
		if stats < 2 {
			t.Errorf("the verification polled fw-b %d time(s) before its restart, want 2", stats)
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
// resumed run must neither apply again nor fail over, and must say why:
// ErrInstallNotTaken naming fw-b, at once when it can tell that fw-b
// restarted, and within Config.ApplyGrace (far from the gate's one-minute
// deadline) when it cannot.
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
		// so that only the journal's start time and `stats` Uptime can
		// show that it restarted; otherwise fw-b is held down until the
		// resumed process has connected, so that it sees fw-b away.
		backFirst   bool
		withJournal bool
		// why is the restart evidence the error must give.
		why string
	}{
		{"verify/rebooting at resume", 4, false, false, "went away"},
		{"verify/back before resume", 4, true, true, "stats Uptime"},
		{"gate/rebooting at resume", 5, false, false, "went away"},
		{"gate/back before resume", 5, true, true, "stats Uptime"},
		// Without Planner.Journal nothing tells that fw-b restarted before
		// the resume, but its install was journaled finished (its apply
		// command acknowledged): fw-b answering on the old version for
		// Config.ApplyGrace settles it.
		{"gate/back before resume, no Planner.Journal", 5, true, false, "Config.ApplyGrace"},
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
		b := pair.Unit("fw-b")
		release := func() {}
		if !tt.backFirst {
			// Without the hold, the first process's check after the install
			// (or a slow exit) can outlast the reboot: the resume would then
			// meet fw-b back already, never having seen it away.
			release = b.HoldReturn()
			defer release()
		}
		// A long gate deadline: the failure must be found well before it.
		gate := upgrade.Timing{Interval: 40 * time.Millisecond, MinHealthy: 80 * time.Millisecond, Deadline: time.Minute}
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		j := &crashJournal{FileJournal: &upgrade.FileJournal{Path: path}, writes: tt.writes}
		if _, _, err := process(ctx, cfg, gate, j, tt.withJournal); !errors.Is(err, errCrashed) {
			t.Fatalf("first process: %v", err)
		}
		if tt.backFirst {
			waitUntil(t, ctx, "fw-b is back from its restart", func() bool { return b.Restarts() == 1 && !b.Down() })
		} else {
			waitUntil(t, ctx, "fw-b is rebooting", b.Down)
		}
		start := time.Now()
		rep, _, err := processAfterNew(ctx, cfg, gate, &upgrade.FileJournal{Path: path}, tt.withJournal, release)
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("resume took %v: the failure was not found in time", took)
		}
		expectUnitError(t, err, "fw-b", clavister.ErrInstallNotTaken)
		if err != nil && !strings.Contains(err.Error(), tt.why) {
			t.Errorf("the error does not give the evidence %q: %v", tt.why, err)
		}
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
