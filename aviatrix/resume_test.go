package aviatrix_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// The crash harness: one fake controller lives across two "processes"
// (Client + Cluster + Executor each) that share an upgrade.FileJournal.
// Process 1 is killed in the middle of a step: from that instant its
// transport drops every request and its journal writes fail, as if the
// process had died, while its goroutine runs on into those errors.
// Process 2 opens a new client (retrying while the controller restarts),
// re-plans, and resumes from the journal.

// killable is process 1's transport: once dead, every request is dropped.
type killable struct {
	h    http.Handler
	dead atomic.Bool
}

func (k *killable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if k.dead.Load() {
		panic(http.ErrAbortHandler) // the in-memory transport resets the connection
	}
	k.h.ServeHTTP(w, r)
}

// deadJournal is process 1's journal: it stops persisting once dead.
type deadJournal struct {
	upgrade.Journal
	dead *atomic.Bool
}

func (d deadJournal) Append(ctx context.Context, r upgrade.Record) error {
	if d.dead.Load() {
		return errors.New("process dead")
	}
	return d.Journal.Append(ctx, r)
}

// cut describes one crash scenario.
type cut struct {
	name string
	opts func(*aviatrixtest.Options)
	// plan plans process 1's run; process 2 re-plans with the same
	// request, with catchUp set (UpgradeRequest.CatchUp) when needCatchUp.
	plan        func(f *aviatrix.Cluster, catchUp bool) (*aviatrix.DetailedPlan, error)
	needCatchUp bool
	// The kill: when on matches one of process 1's events, after delay
	// (0: inside the event callback, before the executor goes on); or at
	// virtual time at.
	on    func(upgrade.Event) bool
	delay time.Duration
	at    time.Duration
	// inStep is the ID prefix of the step process 1 must be inside (started,
	// not finished) when it dies: the cut is mid-step.
	inStep string
	// atCut checks the fake at the instant of the kill (maybe on a timer's
	// goroutine or inside the executor's event callback: assert, not
	// require).
	atCut func(t *testing.T, fake *aviatrixtest.Fake)
	// writes is the complete write log, each write once (see writeLog).
	writes []string
	// final checks the fake after the resumed run.
	final func(t *testing.T, fake *aviatrixtest.Fake)
}

// writeLog renders a write as "action [gateway] version[ image=…]"; every
// write must have been accepted.
func writeLog(t *testing.T, fake *aviatrixtest.Fake) []string {
	t.Helper()
	var out []string
	for _, w := range fake.WriteCalls() {
		assert.True(t, w.OK, "write refused: %+v", w)
		s := w.Action + " "
		if g := w.Params["gateway_list"]; g != "" {
			s += g + " "
		}
		s += w.Params["version"]
		if img := w.Params["image_version"]; img != "" {
			s += " image=" + img
		}
		out = append(out, s)
	}
	return out
}

// upgradeWrites is the write log of an upgrade through hops: each hop's
// upgrade_platform, then every gateway to it.
func upgradeWrites(gateways []string, hops ...string) []string {
	var out []string
	for _, h := range hops {
		out = append(out, "upgrade_platform "+h)
		for _, g := range gateways {
			out = append(out, "upgrade_selected_gateway "+g+" "+h)
		}
	}
	return out
}

// The fleet of every cut: two classic pairs and a group of three.
func pairsAndGroup(o *aviatrixtest.Options) { o.Groups = 1 }

var cutGateways = []string{"spoke-001", "spoke-001-hagw", "spoke-002", "spoke-002-hagw", "transit-01", "transit-01-1", "transit-01-2"}

func runCut(t *testing.T, c cut) {
	synctest.Test(t, func(t *testing.T) {
		mods := []func(*aviatrixtest.Options){pairsAndGroup}
		if c.opts != nil {
			mods = append(mods, c.opts)
		}
		fake := aviatrixtest.NewWithPairs("6.5.1922", 2, mods...)
		k := &killable{h: fake}
		cfg := fake.ClientConfig()
		cfg.Transport = aviatrixtest.HandlerTransport(k)
		c1, err := aviatrix.NewClient(cfg)
		require.NoError(t, err)
		f1, err := aviatrix.Open(t.Context(), c1, aviatrix.ClusterOptions{Name: "avx"})
		require.NoError(t, err)
		p1, err := c.plan(f1, false)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "run.journal")

		var mu sync.Mutex
		running := map[string]bool{} // process 1's steps started, not finished
		var inStep []string          // running at the kill
		killed := make(chan struct{})
		j1 := &upgrade.FileJournal{Path: path}
		kill := func() {
			mu.Lock()
			defer mu.Unlock()
			if k.dead.Swap(true) {
				return
			}
			defer close(killed)
			// A dead process's journal lock goes with it (the executor of
			// process 1 never gets to release it).
			assert.NoError(t, j1.Unlock())
			for id := range running {
				inStep = append(inStep, id)
			}
			if c.atCut != nil {
				c.atCut(t, fake)
			}
		}
		ex1 := &upgrade.Executor{Journal: deadJournal{j1, &k.dead}, OnEvent: func(e upgrade.Event) {
			if k.dead.Load() {
				return
			}
			mu.Lock()
			switch e.Kind {
			case upgrade.EventStepStart:
				running[e.Step] = true
			case upgrade.EventStepFinish, upgrade.EventStepFail:
				delete(running, e.Step)
			}
			mu.Unlock()
			if c.on != nil && c.on(e) {
				if c.delay == 0 {
					// Synchronous with the event: the executor emits it
					// before it runs the step, so nothing of the step is
					// sent before the process dies. (time.AfterFunc(0, …)
					// would run kill on a new goroutine, racing the step's
					// first writes.)
					kill()
					return
				}
				time.AfterFunc(c.delay, kill)
			}
		}}
		done := make(chan error, 1)
		go func() {
			_, err := ex1.Run(context.Background(), f1, p1.Plan)
			done <- err
		}()
		if c.at > 0 {
			<-time.After(c.at) // virtual time in the bubble
			kill()
		}
		<-killed
		mu.Lock()
		require.Len(t, inStep, 1, "process 1 dies inside exactly one step")
		require.True(t, strings.HasPrefix(inStep[0], c.inStep), "died inside %s, want %s…", inStep[0], c.inStep)
		mu.Unlock()

		// Process 2: a new client, retried while the controller restarts.
		var f2 *aviatrix.Cluster
		for {
			c2, err := aviatrix.NewClient(fake.ClientConfig())
			require.NoError(t, err)
			if f2, err = aviatrix.Open(t.Context(), c2, aviatrix.ClusterOptions{Name: "avx"}); err == nil {
				break
			}
			<-time.After(30 * time.Second) // retry while the controller restarts (virtual time)
		}
		p2, err := c.plan(f2, false)
		if c.needCatchUp {
			require.ErrorIs(t, err, versionpath.ErrGatewayNotConverged)
			assert.ErrorContains(t, err, "resuming an interrupted run? set UpgradeRequest.CatchUp")
			p2, err = c.plan(f2, true)
		}
		require.NoError(t, err)
		rep, err := (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}}).Run(t.Context(), f2, p2.Plan)
		require.NoError(t, err, rep.Markdown())
		require.Error(t, <-done, "process 1 died")

		assert.ElementsMatch(t, c.writes, writeLog(t, fake), "each write exactly once")
		for set, n := range fake.MaxDownBySet() {
			assert.LessOrEqual(t, n, 1, "HA set %s had %d members down at once", set, n)
		}
		sum := fake.ProbeSummary()
		assert.Zero(t, sum.LostTicks, "lost ticks by set: %v", sum.LostBySet)
		if c.final != nil {
			c.final(t, fake)
		}
	})
}

// allOn checks that the controller and every gateway run v.
func allOn(v string) func(t *testing.T, fake *aviatrixtest.Fake) {
	return func(t *testing.T, fake *aviatrixtest.Fake) {
		assert.Equal(t, v, fake.ControllerVersion())
		for _, n := range fake.GatewayNames() {
			assert.Equal(t, v, fake.GatewayVersion(n), n)
		}
	}
}

// kickedAgo returns how long ago the last upgrade_platform was sent.
func kickedAgo(t *testing.T, fake *aviatrixtest.Fake) time.Duration {
	t.Helper()
	var at time.Time
	for _, w := range fake.WriteCalls() {
		if w.Action == "upgrade_platform" {
			at = w.At
		}
	}
	assert.False(t, at.IsZero(), "no upgrade_platform sent yet")
	return time.Since(at)
}

// gatewaysMidUpgrade checks that names were kicked and have not finished.
func gatewaysMidUpgrade(from string, names ...string) func(t *testing.T, fake *aviatrixtest.Fake) {
	return func(t *testing.T, fake *aviatrixtest.Fake) {
		kicked := map[string]bool{}
		for _, w := range fake.WriteCalls() {
			kicked[w.Params["gateway_list"]] = true
		}
		for _, n := range names {
			assert.True(t, kicked[n], "%s kicked before the cut", n)
			assert.Equal(t, from, fake.GatewayVersion(n), "%s still upgrading at the cut", n)
		}
	}
}

func stepEvent(kind upgrade.EventKind, prefix string) func(upgrade.Event) bool {
	return func(e upgrade.Event) bool { return e.Kind == kind && strings.HasPrefix(e.Step, prefix) }
}

// TestResumeAfterCutMidStep kills process 1 inside a step at each phase of
// the procedure and resumes in process 2: every write is sent exactly once,
// the run completes, no HA set ever has two members down and no probe tick
// is lost.
func TestResumeAfterCutMidStep(t *testing.T) {
	upgradeTo := func(f *aviatrix.Cluster, catchUp bool) (*aviatrix.DetailedPlan, error) {
		return f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 2, CatchUp: catchUp})
	}
	twoHops := upgradeWrites(cutGateways, "6.5.2721", "6.6.5545")
	onCtl := func(o *aviatrixtest.Options) { o.ControllerVersion, o.PreviousVersion = "6.6.5545", "6.6.5224" }
	var images, rollbacks []string
	for _, g := range cutGateways {
		img := aviatrixtest.DefaultImages()[1]
		if strings.HasPrefix(g, "transit") {
			img = aviatrixtest.DefaultImages()[8]
		}
		images = append(images, "upgrade_selected_gateway "+g+" 6.6.5545 image="+img)
		rollbacks = append(rollbacks, "upgrade_selected_gateway "+g+" 6.6.5224")
	}
	for _, c := range []cut{
		{
			// The controller answers reads while it installs: a resumed
			// hop must find the upgrade running, not send it again.
			name: "controller in progress", plan: upgradeTo, at: 2 * time.Minute, inStep: "controller@6.5.2721",
			atCut: func(t *testing.T, fake *aviatrixtest.Fake) {
				assert.Less(t, kickedAgo(t, fake), 3*time.Minute, "in the in-progress phase")
				assert.Equal(t, "6.5.1922", fake.ControllerVersion())
			},
			writes: twoHops, final: allOn("6.6.5545"),
		},
		{
			// HTML 502 pages: process 2 can only open once the controller is
			// back, on the new version, with the gateways lagging it.
			name: "controller restart window", plan: upgradeTo, needCatchUp: true, at: 4 * time.Minute, inStep: "controller@6.5.2721",
			atCut: func(t *testing.T, fake *aviatrixtest.Fake) {
				ago := kickedAgo(t, fake)
				assert.True(t, ago > 3*time.Minute && ago < 5*time.Minute, "in the restart window: %v after the kick", ago)
			},
			writes: twoHops, final: allOn("6.6.5545"),
		},
		{
			name: "between a hop and its batches", plan: upgradeTo, needCatchUp: true,
			on: stepEvent(upgrade.EventStepStart, "gateways@6.5.2721/b001"), inStep: "gateways@6.5.2721/b001",
			atCut: func(t *testing.T, fake *aviatrixtest.Fake) {
				assert.Equal(t, "6.5.2721", fake.ControllerVersion())
				assert.Equal(t, []string{"upgrade_platform 6.5.2721"}, writeLog(t, fake), "the batch sent nothing yet")
			},
			writes: twoHops, final: allOn("6.6.5545"),
		},
		{
			name: "mid gateway batch", plan: upgradeTo, needCatchUp: true,
			on: stepEvent(upgrade.EventStepStart, "gateways@6.5.2721/b002"), delay: 90 * time.Second, inStep: "gateways@6.5.2721/b002",
			atCut:  gatewaysMidUpgrade("6.5.1922", "transit-01-1"),
			writes: twoHops, final: allOn("6.6.5545"),
		},
		{
			name: "mid gateway batch of the last hop", plan: upgradeTo, needCatchUp: true,
			on: stepEvent(upgrade.EventStepStart, "gateways@6.6.5545/b003"), delay: 90 * time.Second, inStep: "gateways@6.6.5545/b003",
			atCut:  gatewaysMidUpgrade("6.5.2721", "spoke-001", "spoke-002"),
			writes: twoHops, final: allOn("6.6.5545"),
		},
		{
			name: "mid image upgrade", opts: onCtl,
			plan: func(f *aviatrix.Cluster, _ bool) (*aviatrix.DetailedPlan, error) {
				return f.PlanImageUpgrade(aviatrix.ImageRequest{BatchSize: 2})
			},
			on: stepEvent(upgrade.EventStepStart, "image@6.6.5545/b002"), delay: 90 * time.Second, inStep: "image@6.6.5545/b002",
			atCut: func(t *testing.T, fake *aviatrixtest.Fake) {
				assert.Equal(t, aviatrixtest.StartImage(8), fake.GatewayImage("transit-01-1"), "still being replaced")
			},
			writes: images,
			final: func(t *testing.T, fake *aviatrixtest.Fake) {
				for _, n := range cutGateways {
					assert.NotEqual(t, aviatrixtest.StartImage(1), fake.GatewayImage(n), n)
					assert.NotEqual(t, aviatrixtest.StartImage(8), fake.GatewayImage(n), n)
				}
			},
		},
		{
			name: "mid rollback", opts: onCtl,
			plan: func(f *aviatrix.Cluster, _ bool) (*aviatrix.DetailedPlan, error) {
				return f.PlanRollback(aviatrix.RollbackRequest{BatchSize: 2})
			},
			on: stepEvent(upgrade.EventStepStart, "rollback@6.6.5224/b002"), delay: 90 * time.Second, inStep: "rollback@6.6.5224/b002",
			atCut:  gatewaysMidUpgrade("6.6.5545", "transit-01-1"),
			writes: rollbacks,
			final: func(t *testing.T, fake *aviatrixtest.Fake) {
				for _, n := range cutGateways {
					assert.Equal(t, "6.6.5224", fake.GatewayVersion(n), n)
				}
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) { runCut(t, c) })
	}
}

// A rollback re-planned half way has a subset of the original step IDs
// (the batches cover every gateway whatever its version), and a standalone
// gateway already back needs no AllowOutage.
func TestRollbackReplanKeepsStepIDs(t *testing.T) {
	inv := func(back ...string) *aviatrix.Cluster {
		gws := slices.Concat(pairOf("a", "6.6.5545"), groupOf("g", 3, "6.6.5545"), []aviatrix.Gateway{gw("solo", "6.6.5224")})
		for i := range gws {
			if slices.Contains(back, gws[i].Name) {
				gws[i].Version = "6.6.5224"
			}
		}
		return fleetOf(t, "6.6.5545", "6.6.5224", gws)
	}
	req := aviatrix.RollbackRequest{BatchSize: 2}
	p1, err := inv().PlanRollback(req)
	require.NoError(t, err, "solo is already back: no outage to accept")
	assert.Empty(t, p1.Outages)
	p2, err := inv("a-hagw", "g-1").PlanRollback(req)
	require.NoError(t, err)
	require.Len(t, p2.StepIDs(), len(p1.StepIDs())-2, "batch 1 (a-hagw, g-1) is done")
	for _, id := range p2.StepIDs() {
		assert.Contains(t, p1.StepIDs(), id)
	}
	all, err := inv("a", "a-hagw", "g", "g-1", "g-2").PlanRollback(req)
	require.NoError(t, err)
	assert.Empty(t, all.Steps, "nothing left to roll back")

	// A standalone gateway that has to roll back still needs AllowOutage.
	f := fleetOf(t, "6.6.5545", "6.6.5224", pairOf("a", "6.6.5545"), []aviatrix.Gateway{gw("solo", "6.6.5545")})
	_, err = f.PlanRollback(req)
	require.ErrorIs(t, err, aviatrix.ErrOutage)
	p, err := f.PlanRollback(aviatrix.RollbackRequest{AllowOutage: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"solo"}, p.Outages)
	// An invalid rollback version is refused even when nothing is above it.
	_, err = inv("a", "a-hagw", "g", "g-1", "g-2").PlanRollback(aviatrix.RollbackRequest{To: "6.6.5545"})
	require.ErrorIs(t, err, versionpath.ErrRollbackTarget)
}

// In a group of three with one member down, upgrading a second member is
// refused (two members would be down at once) although the third still
// forwards: by CheckPairs, by the executor's guard on a resumed run (where
// the pre-checks that would catch the down member do not run), and by the
// gateway Member; nothing is sent.
func TestGroupMemberDownRefusesAnotherMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.2721", 0, func(o *aviatrixtest.Options) { o.Groups = 1; o.GatewayVersion = "6.5.1922" })
		_, fleet := open(t, fake)
		p, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{CatchUp: true})
		require.NoError(t, err)
		j := &upgrade.FileJournal{Path: filepath.Join(t.TempDir(), "run.journal")}
		// A run journaled, then stopped before its first step.
		_, err = (&upgrade.Executor{Journal: j, Approve: func(context.Context, upgrade.Step, upgrade.Snapshot) error {
			return errors.New("not now")
		}}).Run(t.Context(), fleet, p.Plan)
		require.Error(t, err)
		fake.SetGatewayState("transit-01-2", "down")

		snap, err := fleet.Observe(t.Context())
		require.NoError(t, err)
		err = fleet.CheckPairs(snap, []string{"transit-01-1"})
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		var pe *aviatrix.PairError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, []string{"HA set of transit-01: transit-01-1 would be down together with transit-01-2 is down (healthy=false) (never two members of a pair or group down at once)"}, pe.Problems)
		require.NoError(t, fleet.CheckPairs(snap, []string{"transit-01-2"}), "the down member itself may be worked on")

		rep, err := (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: j.Path}}).Run(t.Context(), fleet, p.Plan)
		require.ErrorIs(t, err, upgrade.ErrUnsafe, rep.Markdown())
		require.ErrorIs(t, err, aviatrix.ErrPairUnsafe)
		require.ErrorIs(t, memberOf(t, fleet, "transit-01").Install(t.Context(), "6.5.2721"), upgrade.ErrUnsafe)
		assert.Empty(t, fake.WriteCalls())
		for set, n := range fake.MaxDownBySet() {
			assert.LessOrEqual(t, n, 1, set)
		}
	})
}

// The hop rules know Aviatrix's last minor of each major: a catalog that
// omits 6.9 cannot take the controller from 6.8 straight to 7.0, in the
// planner, in a hand-written hop, or through the controller Member.
func TestMajorCrossedOnlyFromItsLastMinor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.8.1509", 1, func(o *aviatrixtest.Options) {
			o.Releases = []string{"6.8.1148", "6.8.1509", "7.0.1373", "7.1.1794"}
		})
		_, fleet := open(t, fake)
		for _, req := range []aviatrix.UpgradeRequest{
			{Target: "7.0.1373", Catalog: []string{"6.8.1509", "7.0.1373"}},
			{Target: "7.1"}, // the inventory's releases
		} {
			_, err := fleet.PlanUpgrade(req)
			require.ErrorIs(t, err, aviatrix.ErrPlan, req.Target)
			require.ErrorIs(t, err, versionpath.ErrMissingMinor, req.Target)
			var pe *versionpath.PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "6.9", pe.At)
		}
		steps := fleet.ControllerHopSteps("7.0.1373")
		_, err := run(t, fleet, hand(fleet, aviatrix.EndState{Controller: "7.0.1373", Version: "7.0.1373"}, steps...), nil)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		require.ErrorIs(t, err, aviatrix.ErrHopSkipped)
		require.ErrorIs(t, err, versionpath.ErrMissingMinor)
		err = memberOf(t, fleet, aviatrix.ControllerID).Install(t.Context(), "7.0.1373")
		require.ErrorIs(t, err, aviatrix.ErrHopSkipped)
		assert.Empty(t, fake.WriteCalls())

		// 6.9 listed: the walk goes through it.
		p, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "7.0.1373", Catalog: []string{"6.9.349", "7.0.1373"}})
		require.NoError(t, err)
		assert.Equal(t, []string{"6.9.349", "7.0.1373"}, p.Hops)
		assert.Equal(t, versionpath.PathRules{LastMinor: map[uint64]uint64{6: 9, 7: 2}}, aviatrix.PathRules())
	})
}

// The doc's resume recipe: after a controller hop the request without
// CatchUp is refused with a hint; with CatchUp it has the journal's IDs.
func TestResumeRefusalNamesCatchUp(t *testing.T) {
	f := fleetOf(t, "6.5.2721", "6.5.1922", pairOf("a", "6.5.1922"))
	_, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545"})
	require.ErrorIs(t, err, versionpath.ErrGatewayNotConverged)
	assert.ErrorContains(t, err, "resuming an interrupted run? set UpgradeRequest.CatchUp")
	_, err = f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", CatchUp: true})
	require.NoError(t, err)
}
