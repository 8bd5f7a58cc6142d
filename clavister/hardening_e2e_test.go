package clavister_test

// End-to-end regression tests of the safety hardening, over real SSH on
// 127.0.0.1 against the simulated pair: a replayed journal must not report
// success on a pair that did not change; a unit is never rebooted unless
// its peer forwards at that very moment; no step makes a forwarding unit
// stop forwarding without declaring it.

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
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// readOnly are the commands that change nothing on a unit.
var readOnly = []string{"ha", "about", "stats", "ls"}

// expectUntouched asserts that u received only reads and no upload, and
// still runs version.
func expectUntouched(t *testing.T, u *clavistertest.Unit, version string) {
	t.Helper()
	for _, cmd := range u.Commands() {
		if !slices.Contains(readOnly, cmd) {
			t.Errorf("%s received %q", u.Name(), cmd)
		}
	}
	if up := u.Uploaded(); len(up) != 0 {
		t.Errorf("%s received uploads %q", u.Name(), up)
	}
	if v := u.Version(); v != version || u.Down() {
		t.Errorf("%s runs %s (down %t), want %s", u.Name(), v, u.Down(), version)
	}
}

// TestE2EReplayedJournalNotConverged: the journal of a finished upgrade is
// replayed against another pair that still runs the old firmware (a pair
// restored meanwhile, or the wrong journal). Every step is "done in
// journal", so nothing runs; the end-state check must still fail the run
// with upgrade.ErrNotConverged naming both units and their versions, and
// nothing may be sent to either unit.
func TestE2EReplayedJournalNotConverged(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "journal.jsonl")

	first, cfg1 := startPair(t, clavistertest.Faults{})
	rep, plan1, err := process(ctx, cfg1, e2eTiming, &upgrade.FileJournal{Path: path}, true)
	if err != nil || !rep.OK {
		t.Fatalf("first upgrade: %v", err)
	}
	for _, u := range first.Units() {
		if u.Version() != e2eTarget {
			t.Fatalf("first pair: %s runs %s", u.Name(), u.Version())
		}
	}

	pair, cfg := startPair(t, clavistertest.Faults{})
	rep, plan, err := process(ctx, cfg, e2eTiming, &upgrade.FileJournal{Path: path}, true)
	if !slices.Equal(plan.StepIDs(), plan1.StepIDs()) {
		t.Fatalf("replayed plan %q, want the first run's %q", plan.StepIDs(), plan1.StepIDs())
	}
	if !errors.Is(err, upgrade.ErrNotConverged) {
		t.Fatalf("want upgrade.ErrNotConverged, got %v", err)
	}
	if rep == nil || rep.OK {
		t.Fatalf("report says OK: %+v", rep)
	}
	for _, s := range rep.Steps {
		if s.Status != upgrade.StatusSkipped {
			t.Errorf("step %s: %s, want skipped (done in journal)", s.Name, s.Status)
		}
	}
	for _, unit := range []string{"fw-a", "fw-b"} {
		if want := unit + " runs " + e2eFrom; !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if !errors.Is(err, clavister.ErrUnexpectedVersion) {
		t.Errorf("want ErrUnexpectedVersion in the error, got %v", err)
	}
	for _, u := range pair.Units() {
		expectUntouched(t, u, e2eFrom)
	}
	if lost := pair.Probe().LostTicks(); lost != 0 {
		t.Errorf("lost %d probe ticks", lost)
	}
}

// failPair starts a pair whose active unit fw-a fails (for good) while fw-b
// receives the firmware. fw-b takes over after gap; a reboot takes 5 s, as
// a stand-in for the minutes a real unit needs, so that rebooting the last
// unit standing would cost hundreds of probe ticks.
func failPair(t *testing.T, gap time.Duration) (*clavistertest.Pair, clavister.Config) {
	t.Helper()
	pair, err := clavistertest.Start(clavistertest.Options{
		ListSizes: true, ApplyDelay: 20 * time.Millisecond, RebootDuration: 5 * time.Second,
		SyncDuration: 200 * time.Millisecond, FailoverGap: gap, ProbeEvery: 10 * time.Millisecond,
		Faults: clavistertest.Faults{ActiveFailsDuringUpload: "fw-b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pair.Close() })
	fw, err := pair.WriteFirmware(t.TempDir(), e2eTarget)
	if err != nil {
		t.Fatal(err)
	}
	cfg := configFor(pair, fw)
	cfg.ReconnectTimeout = 200 * time.Millisecond
	return pair, cfg
}

// expectLastUnitKept asserts that the fault fired, that fw-b (the last unit
// standing) received the firmware but no apply command and never went
// down; then, with takeover, it waits until fw-b has taken over and logs
// the probe ticks lost to the failure itself.
func expectLastUnitKept(t *testing.T, ctx context.Context, pair *clavistertest.Pair, takeover bool) {
	t.Helper()
	select {
	case <-pair.ActiveFailed():
	case <-ctx.Done():
		t.Fatal("the active unit never failed")
	}
	b := pair.Unit("fw-b")
	if up := b.Uploaded(); len(up) != 1 {
		t.Errorf("fw-b uploads %q, want one", up)
	}
	if cmds := b.Commands(); slices.Contains(cmds, clavistertest.DefaultApplyCommand) {
		t.Fatalf("hitless rebooted the last unit standing: %q", cmds)
	}
	if !takeover {
		if b.Down() || b.Version() != e2eFrom {
			t.Errorf("fw-b down %t, version %s", b.Down(), b.Version())
		}
		return
	}
	waitUntil(t, ctx, "fw-b takes over", b.Active)
	probe := pair.Probe()
	probe.Stop()
	if b.Down() || b.Version() != e2eFrom || !probe.Forwarding() {
		t.Errorf("fw-b down %t, version %s, forwarding %t", b.Down(), b.Version(), probe.Forwarding())
	}
	t.Logf("probe ticks lost to the failure of fw-a itself (until fw-b took over): %d of %d (outage %v)", probe.LostTicks(), probe.Ticks(), probe.Outage())
}

// TestE2EActiveFailsDuringUpload: fw-a, the active unit, fails while fw-b's
// firmware is being uploaded. hitless must not reboot fw-b, the only unit
// left.
func TestE2EActiveFailsDuringUpload(t *testing.T) {
	t.Parallel()
	t.Run("Member.Install", func(t *testing.T) {
		t.Parallel()
		// Upload and apply in one call: the check on the devices right
		// before the apply command refuses.
		pair, cfg := failPair(t, 200*time.Millisecond)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		c, err := clavister.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		err = c.Member("fw-b").Install(ctx, e2eTarget)
		expectUnitError(t, err, "fw-b", clavister.ErrPeerNotForwarding, driver.ErrUnreachable)
		var ue *clavister.UnitError
		if !errors.As(err, &ue) || ue.Unit != "fw-b" || ue.Op != "install" {
			t.Errorf("want a *UnitError{fw-b, install} first, got %v", err)
		}
		if !strings.Contains(err.Error(), "fw-a") {
			t.Errorf("the error does not name the peer fw-a: %v", err)
		}
		expectLastUnitKept(t, ctx, pair, true)
	})
	t.Run("Stage then Apply", func(t *testing.T) {
		t.Parallel()
		// The plan's two halves called directly, as by a custom plan whose
		// check before the apply is stale: the check on the devices in
		// Apply refuses. fw-b does not take over in this test (a long
		// failover gap), so it is still INACTIVE when Apply reads it.
		pair, cfg := failPair(t, time.Hour)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		c, err := clavister.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		if err := c.Member("fw-b").Stage(ctx, e2eTarget); err != nil {
			t.Fatalf("stage: %v", err)
		}
		err = c.Member("fw-b").Apply(ctx, e2eTarget)
		expectUnitError(t, err, "fw-b", clavister.ErrPeerNotForwarding, driver.ErrUnreachable)
		expectLastUnitKept(t, ctx, pair, false)
	})
	t.Run("plan", func(t *testing.T) {
		t.Parallel()
		// The upload is its own step: the executor's check after it (the
		// active unit stopped forwarding, nothing forwards), or else the
		// guard right before the install step, stops the run before the
		// install.
		pair, cfg := failPair(t, 200*time.Millisecond)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		c, err := clavister.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		rep, plan, err := run(t, ctx, c, clavister.Planner{})
		if !errors.Is(err, upgrade.ErrUndeclaredDisruption) && !errors.Is(err, upgrade.ErrUnsafe) {
			t.Fatalf("want the run stopped by the check after the stage or by the guard, got %v\n%s", err, plan.Render())
		}
		t.Logf("stopped: %v", err)
		stage, install := "stage:fw-b@"+e2eTarget, "install:fw-b@"+e2eTarget
		for _, s := range rep.Steps {
			switch s.Name {
			case stage:
				if s.Status != upgrade.StatusDone {
					t.Errorf("%s: %s, want done", s.Name, s.Status)
				}
			case install:
				if s.Status != upgrade.StatusPlanned && s.Status != upgrade.StatusRefused {
					t.Errorf("%s: %s, want not run", s.Name, s.Status)
				}
			}
		}
		expectLastUnitKept(t, ctx, pair, true)
	})
}

// failoverDeclarer is upgrade.FailoverDeclarer (declared here too, so the
// test states the convention it checks).
type failoverDeclarer interface{ Failover() bool }

// active returns the units in the ACTIVE role: the units that carry the
// traffic, in the sense of the executor's check after a step (an ACTIVE
// unit whose peer reboots does not see it ALIVE and is not healthy, but
// still forwards; the guard asks for more before a disruption).
func active(s upgrade.Snapshot) []string {
	var ids []string
	for _, m := range s.Members {
		if m.Role == upgrade.RoleActive {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// disruptionChecker emulates the executor's check after every step: a unit
// that forwarded (was ACTIVE) when the step started and no longer does when
// it finished must be listed in the step's Disrupts, or the step must
// declare a failover; and exactly one unit must be ACTIVE after every step.
type disruptionChecker struct {
	t     *testing.T
	ctx   context.Context
	c     *clavister.Cluster
	pair  *clavistertest.Pair
	steps map[string]upgrade.Step

	mu     sync.Mutex
	before map[string][]string // step ID → forwarding units at its start
	checks int
}

func (d *disruptionChecker) onEvent(ev upgrade.Event) {
	switch ev.Kind {
	case upgrade.EventStepStart:
		s, err := d.c.Observe(d.ctx)
		if err != nil {
			d.t.Errorf("observe before %s: %v", ev.Step, err)
			return
		}
		d.mu.Lock()
		d.before[ev.Step] = active(s)
		d.mu.Unlock()
	case upgrade.EventStepFinish:
		st := d.steps[ev.Step]
		if strings.HasPrefix(ev.Step, "install:") {
			// Observe while the unit reboots: the state the executor's
			// check meets on a device that drops at once.
			u := d.pair.Unit(st.Disrupts()[0])
			waitUntil(d.t, d.ctx, u.Name()+" reboots", u.Down)
		}
		s, err := d.c.Observe(d.ctx)
		if err != nil {
			d.t.Errorf("observe after %s: %v", ev.Step, err)
			return
		}
		d.mu.Lock()
		before := d.before[ev.Step]
		d.checks++
		d.mu.Unlock()
		fo, ok := st.(failoverDeclarer)
		failover := ok && fo.Failover()
		for _, id := range before {
			if m, _ := s.Member(id); m.Role != upgrade.RoleActive && !slices.Contains(st.Disrupts(), id) && !failover {
				d.t.Errorf("after %s: %s stopped forwarding (%s, problems %q) although the step declares neither it nor a failover",
					ev.Step, id, m.Role, m.Problems)
			}
		}
		if len(active(s)) != 1 {
			d.t.Errorf("after %s: %d units ACTIVE, want one: %+v", ev.Step, len(active(s)), s.Members)
		}
		if len(s.Problems) > 0 {
			d.t.Errorf("after %s: cluster-wide problems %q", ev.Step, s.Problems)
		}
	}
}

// TestE2ENoUndeclaredDisruption runs whole upgrades while checking, after
// every step, what the executor's post-step check will: no unit stops
// forwarding unless the step declared it (Disrupts, or a failover), some
// unit forwards, and the snapshot carries no cluster-wide problem. While a
// unit reboots, its peer keeps forwarding and reports the reboot as its own
// problem (peer not ALIVE), not as a pair problem.
func TestE2ENoUndeclaredDisruption(t *testing.T) {
	t.Parallel()
	for _, restore := range []bool{false, true} {
		t.Run(fmt.Sprintf("RestoreRoles=%t", restore), func(t *testing.T) {
			t.Parallel()
			pair, cfg := startPair(t, clavistertest.Faults{})
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			c, err := clavister.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			snap, err := c.Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := clavister.Planner{Cluster: c, GateTiming: e2eTiming, RestoreRoles: restore}.Plan(snap, e2eTarget)
			if err != nil {
				t.Fatal(err)
			}
			d := &disruptionChecker{t: t, ctx: ctx, c: c, pair: pair, steps: map[string]upgrade.Step{}, before: map[string][]string{}}
			for _, s := range plan.Steps {
				d.steps[s.ID()] = s
			}
			rep, err := (&upgrade.Executor{OnEvent: d.onEvent}).Run(ctx, c, plan)
			if err != nil || !rep.OK {
				t.Fatalf("upgrade: %v\n%s", err, plan.Render())
			}
			if d.checks != len(plan.Steps) {
				t.Errorf("checked %d steps, want %d", d.checks, len(plan.Steps))
			}
			if lost := pair.Probe().LostTicks(); lost != 0 {
				t.Errorf("lost %d probe ticks", lost)
			}
		})
	}
}
