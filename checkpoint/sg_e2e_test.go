package checkpoint_test

// End-to-end tests of the Maestro security-group procedure: the real
// driver over real SSH on 127.0.0.1 against checkpointtest.StartMaestro,
// the real management client against its management fake.

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/checkpoint/checkpointtest"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// sgHarness is one simulated security group.
type sgHarness struct {
	mz    *checkpointtest.Maestro
	cfg   checkpoint.SecurityGroupConfig
	dir   string
	tasks *checkpoint.FileTaskLog
	// onEvent, when set, sees the executor's events.
	onEvent func(upgrade.Event)
}

func startSG(t *testing.T, o checkpointtest.MaestroOptions, edit func(*checkpoint.SecurityGroupConfig)) *sgHarness {
	t.Helper()
	if o.ImportDuration == 0 {
		o.ImportDuration = 30 * time.Millisecond
	}
	if o.ApplyDelay == 0 {
		o.ApplyDelay = 30 * time.Millisecond
	}
	if o.RebootDuration == 0 {
		o.RebootDuration = 300 * time.Millisecond
	}
	if o.ProbeEvery == 0 {
		o.ProbeEvery = 10 * time.Millisecond
	}
	mz, err := checkpointtest.StartMaestro(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = mz.Close() })
	dir := t.TempDir()
	pkg := mz.PackageFiles()[0]
	cfg := checkpoint.SecurityGroupConfig{
		Name: mz.Options().Name, Host: mz.SGHost(), Port: mz.SGPort(),
		Username: mz.Username(), Password: mz.Password(), ExpertPassword: mz.ExpertPassword(),
		KnownHostsFile: mz.KnownHostsFile(), PackagePath: pkg, OrchestratorPackagePath: pkg,
		Mgmt: mz.Mgmt().ClientConfig(), MgmtServerObject: checkpointtest.MaestroMgmtObject,
		CommandTimeout: 5 * time.Second, ReconnectTimeout: 2 * time.Second,
		ReconnectBackoff: driver.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond, Factor: 2},
		ApplyGrace:       time.Second,
		ImportTiming:     upgrade.Timing{Interval: 20 * time.Millisecond, Deadline: 5 * time.Second},
		TaskTiming:       upgrade.Timing{Interval: 20 * time.Millisecond, Deadline: 10 * time.Second},
	}
	for _, h := range mz.Orchestrators() {
		cfg.Orchestrators = append(cfg.Orchestrators, checkpoint.Gateway{Name: h.Name(), Host: h.Host(), Port: h.Port()})
	}
	if edit != nil {
		edit(&cfg)
	}
	return &sgHarness{mz: mz, cfg: cfg, dir: dir, tasks: &checkpoint.FileTaskLog{Path: filepath.Join(dir, "tasks.json")}}
}

// run is one process: connect, observe, plan, execute with journal j.
func (h *sgHarness) run(ctx context.Context, t *testing.T, j upgrade.Journal, edit func(*checkpoint.SecurityGroupPlanner)) (*upgrade.Report, error) {
	g, err := checkpoint.NewSecurityGroup(ctx, h.cfg)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	p := checkpoint.SecurityGroupPlanner{Group: g, GateTiming: cpTiming, Tasks: h.tasks, Journal: j}
	if edit != nil {
		edit(&p)
	}
	ex := &upgrade.Executor{Journal: j, Retry: cpRetry, SettleTiming: upgrade.Timing{Interval: 20 * time.Millisecond, Deadline: 5 * time.Second}}
	if h.onEvent != nil {
		ex.OnEvent = h.onEvent
	}
	return ex.Upgrade(ctx, g, p, "R82")
}

func TestSecurityGroupUpgradeEndToEnd(t *testing.T) {
	h := startSG(t, checkpointtest.MaestroOptions{}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	j := &upgrade.FileJournal{Path: filepath.Join(h.dir, "journal.jsonl")}
	rep, err := h.run(ctx, t, j, nil)
	require.NoError(t, err, "report: %+v", rep)
	require.True(t, rep.OK)
	for _, id := range h.mz.SGMs() {
		assert.Equal(t, "R82", h.mz.SGMVersion(id), id)
		assert.True(t, h.mz.SGMForwarding(id), id)
		assert.False(t, h.mz.SGMMVC(id), id)
		assert.Equal(t, 1, h.mz.SGMReboots(id), id)
	}
	for _, o := range h.mz.Orchestrators() {
		assert.Equal(t, "R82", o.Version(), o.Name())
		assert.Equal(t, 1, o.Reboots(), o.Name())
	}
	assert.True(t, h.mz.AutoClone(), "auto-clone restored to its state before the run")
	ps := h.mz.ProbeSummary()
	assert.Zero(t, ps.LostTicks, "traffic lost")
	assert.Positive(t, ps.Ticks)

	// Writes in the documented order: orchestrators one at a time, A down
	// and upgraded before B.
	var order []string
	for _, w := range h.mz.Writes() {
		for _, key := range []string{"installer upgrade", "g_clusterXL_admin", "cphaconf mvc", "auto-clone state"} {
			if strings.Contains(w, key) {
				order = append(order, w)
			}
		}
	}
	idx := func(sub string) int {
		return slices.IndexFunc(order, func(w string) bool { return strings.Contains(w, sub) })
	}
	require.NotEqual(t, -1, idx("mho1: installer upgrade"), "%q", order)
	assert.Less(t, idx("mho1: installer upgrade"), idx("mho2: installer upgrade"))
	assert.Less(t, idx("mho2: installer upgrade"), idx("g_clusterXL_admin -b 1_1,1_2,2_1,2_2 down"))
	assert.Less(t, idx("g_clusterXL_admin -b 1_1,1_2,2_1,2_2 down"), idx("member_ids 1_1,1_2,2_1,2_2"))
	assert.Less(t, idx("member_ids 1_1,1_2,2_1,2_2"), idx("cphaconf mvc on"))
	assert.Less(t, idx("cphaconf mvc on"), idx("g_clusterXL_admin -b 1_3,1_4,2_3,2_4 down"))
	assert.Less(t, idx("g_clusterXL_admin -b 1_3,1_4,2_3,2_4 down"), idx("member_ids 1_3,1_4,2_3,2_4"))
	assert.Less(t, idx("member_ids 1_3,1_4,2_3,2_4"), idx("cphaconf mvc off"))

	// The precheck's note keeps the verifier report.
	i := slices.IndexFunc(rep.Steps, func(s upgrade.StepReport) bool { return s.Name == "precheck@R82" })
	require.GreaterOrEqual(t, i, 0)
	assert.Contains(t, rep.Steps[i].Note, "Verification succeeded.")

	// A second run on the converged group plans nothing and passes the
	// end-state check; the journal has done its job.
	rep, err = h.run(ctx, t, &upgrade.MemoryJournal{}, nil)
	require.NoError(t, err)
	assert.Empty(t, rep.Steps)
}

func TestSecurityGroupRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   checkpointtest.MaestroOptions
		edit   func(*checkpoint.SecurityGroupPlanner)
		is     error
		checks func(t *testing.T, err error)
	}{
		{name: "LACP bond", opts: checkpointtest.MaestroOptions{LACP: true}, is: checkpoint.ErrLACPBond, checks: func(t *testing.T, err error) {
			var le *checkpoint.LACPError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, "bond1", le.Bond)
			assert.Contains(t, err.Error(), "minimum-downtime")
		}},
		{name: "take below the minimum on one SGM", opts: checkpointtest.MaestroOptions{SGMTakes: map[string]int{"2_3": 80}}, is: checkpoint.ErrTakeTooLow, checks: func(t *testing.T, err error) {
			var re *checkpoint.RuleError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "2_3", re.Member)
			assert.Equal(t, checkpoint.RuleMinimumTake, re.Rule)
		}},
		{name: "management older than the target", opts: checkpointtest.MaestroOptions{MgmtVersion: "R81.20"}, is: checkpoint.ErrManagementVersion, checks: func(t *testing.T, err error) {
			assert.Contains(t, err.Error(), "management server runs R81.20, below the target R82")
		}},
		{name: "SP source without the intermediate hop", opts: checkpointtest.MaestroOptions{Version: "R80.20SP"}, is: checkpoint.ErrMultiStage, checks: func(t *testing.T, err error) {
			assert.Contains(t, err.Error(), "upgrade to R81.20 first")
		}},
		{name: "verifier failure", opts: checkpointtest.MaestroOptions{VerifierErrors: []string{"Pending changes on the Security Group"}}, is: checkpoint.ErrVerifierFailed, checks: func(t *testing.T, err error) {
			assert.Contains(t, err.Error(), "Pending changes on the Security Group")
		}},
		{name: "orchestrator model", opts: checkpointtest.MaestroOptions{MHOModel: "MHO-170"}, is: checkpoint.ErrOrchestrator, checks: func(t *testing.T, err error) {
			assert.Contains(t, err.Error(), "orchestrator mho1 is a MHO-170")
		}},
		{name: "split leaves a site without a forwarding SGM", edit: func(p *checkpoint.SecurityGroupPlanner) { p.SubGroupA = []string{"1_1", "1_2"} }, is: checkpoint.ErrSiteNotForwarding, checks: func(t *testing.T, err error) {
			var se *checkpoint.SplitError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 2, se.Site)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startSG(t, tc.opts, nil)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			_, err := h.run(ctx, t, &upgrade.MemoryJournal{}, tc.edit)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			if tc.checks != nil {
				tc.checks(t, err)
			}
			assert.Empty(t, h.mz.Writes(), "a refused plan changes nothing on any device")
			assert.Empty(t, h.mz.Mgmt().WriteCalls(), "nor on management")
		})
	}
}

func TestSecurityGroupResumeAtEveryJournalWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("one simulated security group per journal write")
	}
	fast := checkpointtest.MaestroOptions{ImportDuration: 20 * time.Millisecond, ApplyDelay: 20 * time.Millisecond, RebootDuration: 150 * time.Millisecond}
	// Count the journal writes of one clean run first.
	h := startSG(t, fast, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cj := &countingJournal{Journal: &upgrade.MemoryJournal{}}
	_, err := h.run(ctx, t, cj, nil)
	require.NoError(t, err)
	writes := cj.n
	require.Greater(t, writes, 40)
	// The runs wait on simulated reboots, not on the CPU: 8 at a time
	// (t.Run may be called from several goroutines).
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	defer wg.Wait()
	for k := 1; k <= writes; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run("kill at write "+strconv.Itoa(k), func(t *testing.T) { killAndResume(t, fast, k) })
		}()
	}
}

// killAndResume runs the upgrade, kills the process at its k-th journal
// write, resumes it and checks the outcome.
func killAndResume(t *testing.T, fast checkpointtest.MaestroOptions, k int) {
	h := startSG(t, fast, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	j := &upgrade.FileJournal{Path: filepath.Join(h.dir, "journal.jsonl")}
	kctx, kill := context.WithCancel(ctx)
	kj := &countingJournal{Journal: j, killAt: k, kill: kill}
	_, err := h.run(kctx, t, kj, nil)
	require.Error(t, err, "the first process is killed")
	kill()
	_, err = h.run(ctx, t, j, nil)
	require.NoError(t, err, "resumed run")
	for _, id := range h.mz.SGMs() {
		assert.Equal(t, 1, h.mz.SGMReboots(id), "SGM %s rebooted once", id)
		st, proc := h.mz.SGMState(id)
		assert.True(t, h.mz.SGMForwarding(id), "SGM %s is %s %s on %s", id, st, proc, h.mz.SGMVersion(id))
	}
	for _, o := range h.mz.Orchestrators() {
		assert.Equal(t, 1, o.Reboots(), o.Name())
	}
	assert.Zero(t, h.mz.ProbeSummary().LostTicks)
	assert.True(t, h.mz.AutoClone(), "auto-clone restored")
	// No disruptive command twice.
	seen := map[string]int{}
	for _, w := range h.mz.Writes() {
		if strings.Contains(w, "installer upgrade") || strings.Contains(w, " down") {
			seen[w]++
		}
	}
	for w, n := range seen {
		assert.Equal(t, 1, n, "%q sent %d times", w, n)
	}
	// The window keeps the first process's start of upgrade:A.
	if first, ok := kj.firstStart("upgrade:A@R82"); ok {
		recs, err := j.Load(ctx)
		require.NoError(t, err)
		i := slices.IndexFunc(recs, func(r upgrade.Record) bool { return r.Kind == upgrade.RecordStart && r.Step == "upgrade:A@R82" })
		require.GreaterOrEqual(t, i, 0)
		assert.True(t, recs[i].Time.Equal(first), "window start %v, want the first process's %v", recs[i].Time, first)
	}
}

// countingJournal fails every append from the killAt-th on (and cancels
// the process's context), like a process killed there.
type countingJournal struct {
	upgrade.Journal
	n      int
	killAt int
	kill   func()
	starts []upgrade.Record
}

var errKilled = errors.New("killed")

func (c *countingJournal) Append(ctx context.Context, r upgrade.Record) error {
	c.n++
	if c.killAt > 0 && c.n >= c.killAt {
		c.kill()
		return errKilled
	}
	if r.Kind == upgrade.RecordStart {
		c.starts = append(c.starts, r)
	}
	return c.Journal.Append(ctx, r)
}

// firstStart is the time of the first start record of step that reached
// the journal.
func (c *countingJournal) firstStart(step string) (time.Time, bool) {
	for _, r := range c.starts {
		if r.Step == step {
			return r.Time, true
		}
	}
	return time.Time{}, false
}

// TestSecurityGroupConformance runs the conformance suite against a
// SecurityGroup driving the Maestro simulator over real SSH (every member
// forwards: ActiveActive).
func TestSecurityGroupConformance(t *testing.T) {
	harnesses := map[upgrade.Cluster]*sgHarness{}
	upgradetest.TestCluster(t, upgradetest.Conformance{
		New: func(t *testing.T) upgrade.Cluster {
			h := startSG(t, checkpointtest.MaestroOptions{}, nil)
			g, err := checkpoint.NewSecurityGroup(t.Context(), h.cfg)
			require.NoError(t, err)
			t.Cleanup(func() {
				_ = g.Close()
				if lost := h.mz.ProbeSummary().LostTicks; lost != 0 {
					t.Errorf("traffic probe lost %d ticks", lost)
				}
			})
			harnesses[g] = h
			return g
		},
		Target:       "R82",
		Grammar:      versionpath.CheckPoint{},
		GateTiming:   cpTiming,
		ActiveActive: true,
		Planner: func(c upgrade.Cluster) upgrade.Planner {
			return checkpoint.SecurityGroupPlanner{Group: c.(*checkpoint.SecurityGroup), GateTiming: cpTiming, Tasks: harnesses[c].tasks}
		},
	})
}

// TestSecurityGroupWindowAndRollback: a planner clock 71 h ahead makes the
// second sub-group's phase not fit the 72-hour window: it is refused
// before anything touches B, A stays upgraded and forwarding. A rollback
// of A within 4 h of its upgrade brings it back; one planned 5 h later is
// refused with the times.
func TestSecurityGroupWindowAndRollback(t *testing.T) {
	h := startSG(t, checkpointtest.MaestroOptions{}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	j := &upgrade.FileJournal{Path: filepath.Join(h.dir, "journal.jsonl")}
	ahead := func(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(d) } }
	// The planner's clock jumps 71 h once sub-group A is validated.
	var jumped atomic.Bool
	h.onEvent = func(e upgrade.Event) {
		if e.Kind == upgrade.EventStepFinish && e.Step == "validate:A@R82" {
			jumped.Store(true)
		}
	}
	clock := func() time.Time {
		if jumped.Load() {
			return time.Now().Add(71 * time.Hour)
		}
		return time.Now()
	}
	_, err := h.run(ctx, t, j, func(p *checkpoint.SecurityGroupPlanner) { p.Now = clock })
	var we *checkpoint.WindowError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, checkpoint.ErrWindow)
	assert.Equal(t, "admin-down:B@R82", we.Step)
	assert.Equal(t, 110*time.Minute, we.Need)
	assert.Equal(t, checkpoint.MixedVersionWindow, we.Deadline.Sub(we.Start))
	assert.Less(t, we.Deadline.Sub(we.Now), we.Need)
	for _, id := range []string{"1_1", "1_2", "2_1", "2_2"} {
		assert.Equal(t, "R82", h.mz.SGMVersion(id))
		assert.True(t, h.mz.SGMForwarding(id), id)
	}
	for _, id := range []string{"1_3", "1_4", "2_3", "2_4"} {
		assert.Equal(t, "R81.20", h.mz.SGMVersion(id))
		assert.False(t, h.mz.SGMAdminDown(id), id)
	}
	for _, w := range h.mz.Writes() {
		assert.NotContains(t, w, "1_3,1_4,2_3,2_4", "nothing sent to sub-group B")
	}

	g, err := checkpoint.NewSecurityGroup(ctx, h.cfg)
	require.NoError(t, err)
	defer g.Close()
	s, err := g.Observe(ctx)
	require.NoError(t, err)
	// 5 h later: refused, with the times.
	late := checkpoint.SecurityGroupPlanner{Group: g, GateTiming: cpTiming, Tasks: h.tasks, Journal: j, Now: ahead(5 * time.Hour)}
	_, err = late.Rollback(s, "R81.20")
	require.ErrorAs(t, err, &we)
	assert.Equal(t, "rollback", we.Rule)
	assert.Equal(t, []string{"1_1", "1_2", "2_1", "2_2"}, we.SGMs)
	assert.Equal(t, checkpoint.RollbackWindow, we.Deadline.Sub(we.Start))
	assert.Contains(t, err.Error(), "sp_upgrade --revert is allowed only until")
	// Within the window: A goes back to R81.20, B never stops forwarding.
	p := checkpoint.SecurityGroupPlanner{Group: g, GateTiming: cpTiming, Tasks: h.tasks, Journal: j}
	plan, err := p.Rollback(s, "R81.20")
	require.NoError(t, err)
	assert.Equal(t, []string{"revert@R81.20", "wait:revert@R81.20", "mvc-off:revert@R81.20", "policy:rollback@R81.20", "postcheck:rollback@R81.20"}, plan.StepIDs())
	_, err = (&upgrade.Executor{Retry: cpRetry}).Run(ctx, g, plan)
	require.NoError(t, err)
	for _, id := range h.mz.SGMs() {
		assert.Equal(t, "R81.20", h.mz.SGMVersion(id), id)
		assert.True(t, h.mz.SGMForwarding(id), id)
	}
	assert.Zero(t, h.mz.ProbeSummary().LostTicks)
	n := 0
	for _, w := range h.mz.Writes() {
		if strings.Contains(w, "sp_upgrade --revert") {
			n++
			assert.Contains(t, w, "-b 1_1,1_2,2_1,2_2", "only the upgraded SGMs are reverted")
		}
	}
	assert.Equal(t, 1, n)
}

// TestSecurityGroupFaults: an SGM that comes back on its old release and
// an orchestrator that never returns stop the run; the rest keeps
// forwarding.
func TestSecurityGroupFaults(t *testing.T) {
	fastGate := upgrade.Timing{Interval: 30 * time.Millisecond, MinHealthy: 60 * time.Millisecond, Deadline: 3 * time.Second}
	for _, tc := range []struct {
		name, stopped string
		opts          checkpointtest.MaestroOptions
	}{
		{"stuck SGM", "wait:A@R82", checkpointtest.MaestroOptions{StuckSGM: "2_2"}},
		{"dead orchestrator", "wait:mho1@R82", checkpointtest.MaestroOptions{DeadMHO: "mho1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startSG(t, tc.opts, nil)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			rep, err := h.run(ctx, t, &upgrade.MemoryJournal{}, func(p *checkpoint.SecurityGroupPlanner) { p.GateTiming = fastGate })
			require.Error(t, err)
			assert.ErrorIs(t, err, upgrade.ErrGateTimeout)
			i := slices.IndexFunc(rep.Steps, func(s upgrade.StepReport) bool { return s.Status == upgrade.StatusFailed })
			require.GreaterOrEqual(t, i, 0)
			assert.Equal(t, tc.stopped, rep.Steps[i].Name)
			assert.Zero(t, h.mz.ProbeSummary().LostTicks, "the other sub-group / orchestrator kept forwarding")
			for _, id := range []string{"1_3", "1_4", "2_3", "2_4"} {
				assert.Equal(t, "R81.20", h.mz.SGMVersion(id), id)
				assert.True(t, h.mz.SGMForwarding(id), id)
			}
		})
	}
}

// TestSecurityGroupMinimumDowntime: with an LACP bond the MVC path is
// refused; asked explicitly, the minimum-downtime procedure runs, its
// outage declared as downtime in the report.
func TestSecurityGroupMinimumDowntime(t *testing.T) {
	h := startSG(t, checkpointtest.MaestroOptions{LACP: true}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	rep, err := h.run(ctx, t, &upgrade.MemoryJournal{}, func(p *checkpoint.SecurityGroupPlanner) { p.MinimumDowntime = true })
	require.NoError(t, err)
	var downtime []string
	for _, s := range rep.Steps {
		if s.Downtime {
			downtime = append(downtime, s.Name)
		}
		assert.NotContains(t, s.Name, "mvc-on", "no MVC in the minimum-downtime procedure")
	}
	assert.Equal(t, []string{"upgrade:B@R82", "policy:final@R82"}, downtime)
	for _, id := range h.mz.SGMs() {
		assert.Equal(t, "R82", h.mz.SGMVersion(id), id)
		assert.True(t, h.mz.SGMForwarding(id), id)
	}
	// The simulator lets sub-group A (Ready on R82) take the traffic as
	// soon as no older SGM is up, so it may lose no tick; a real security
	// group without MVC may lose traffic here, which is why it is declared.
}

// TestSecurityGroupVSX: a VSX security group also upgrades its VSX object
// on management (vsx-run-operation upgrade, the API form of `vsx_util
// upgrade`) before the SGMs, and installs policy on its Virtual System.
func TestSecurityGroupVSX(t *testing.T) {
	h := startSG(t, checkpointtest.MaestroOptions{VSX: true, VSName: "vs1"}, func(c *checkpoint.SecurityGroupConfig) {
		c.VSX, c.VirtualSystems = true, []string{"vs1"}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	rep, err := h.run(ctx, t, &upgrade.MemoryJournal{}, nil)
	require.NoError(t, err)
	ids := make([]string, len(rep.Steps))
	for i, s := range rep.Steps {
		ids[i] = s.Name
	}
	assert.Less(t, slices.Index(ids, "vsx-object@R82"), slices.Index(ids, "admin-down:A@R82"))
	assert.Contains(t, ids, "policy:vs:vs1@R82")
	assert.Equal(t, "R82", h.mz.Mgmt().ClusterVersion("sg1"))
	for _, id := range h.mz.SGMs() {
		assert.Equal(t, "R82", h.mz.SGMVersion(id), id)
	}
	assert.Zero(t, h.mz.ProbeSummary().LostTicks)
}
