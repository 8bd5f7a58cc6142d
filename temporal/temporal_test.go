package temporal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/clavister/clavistertest"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/temporal"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	temporalsdk "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/proto"
)

// Test timings: short heartbeat lease and retry delay so that a dead
// worker is noticed within seconds.
var fastActivities = temporal.ActivityOptions{StepTimeout: time.Minute, HeartbeatTimeout: 2 * time.Second, RetryInterval: 100 * time.Millisecond, MaxAttempts: 5}

const clavisterTarget = "14.00.10.00-31870"

// pair starts a simulated cOS Core HA pair and returns it with the
// clavister configuration that reaches it.
func pair(t *testing.T, name, password string) (*clavistertest.Pair, clavister.Config) {
	t.Helper()
	sim, err := clavistertest.Start(clavistertest.Options{
		Password: password, ListSizes: true,
		ApplyDelay: 100 * time.Millisecond, RebootDuration: time.Second, SyncDuration: 500 * time.Millisecond,
		ProbeEvery: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	fw, err := sim.WriteFirmware(t.TempDir(), clavisterTarget)
	if err != nil {
		t.Fatal(err)
	}
	cfg := clavister.Config{Name: name, Username: sim.Username(), Password: sim.Password(), KnownHostsFile: sim.KnownHostsFile(),
		FirmwarePath: fw, CommandTimeout: 10 * time.Second, ReconnectTimeout: time.Second, ApplyGrace: time.Second}
	for i, u := range sim.Units() {
		cfg.Units[i] = clavister.Unit{Name: u.Name(), Host: u.Host(), Port: u.Port()}
	}
	return sim, cfg
}

var clavisterGates = clavister.Planner{GateTiming: upgrade.Timing{Interval: 50 * time.Millisecond, MinHealthy: 150 * time.Millisecond, Deadline: 20 * time.Second}}

// worker starts a worker of the hitless workflows and activities on queue.
func startWorker(t *testing.T, ts *temporaltest.TestServer, queue string, reg *temporal.Registry, redact ...string) worker.Worker {
	t.Helper()
	acts := &temporal.Activities{Registry: reg, Executor: upgrade.Executor{Redact: redact,
		Retry: upgrade.Retry{Attempts: 3, Initial: 100 * time.Millisecond, Max: time.Second}}}
	return ts.NewWorker(queue, func(r worker.Registry) { temporal.Register(r, acts) })
}

// noSecretInHistory reads back the history of workflowID (and of every
// child workflow it started) and fails when any event holds one of the
// secrets.
func noSecretInHistory(t *testing.T, c client.Client, workflowID string, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	seen := map[string]bool{}
	ids := []string{workflowID}
	events := 0
	for len(ids) > 0 {
		id := ids[0]
		ids = ids[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatalf("history of %s: %v", id, err)
			}
			events++
			raw, err := proto.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("history of %s: event %d (%s) holds a secret", id, ev.GetEventId(), ev.GetEventType())
				}
			}
			if a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes(); a != nil {
				ids = append(ids, a.GetWorkflowId())
			}
		}
	}
	if events == 0 {
		t.Fatalf("no history read for %s", workflowID)
	}
	t.Logf("%d history events of %d workflow(s) hold no secret", events, len(seen))
}

func upgradeReport(t *testing.T, run client.WorkflowRun, timeout time.Duration) (*upgrade.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var rep upgrade.Report
	err := run.Get(ctx, &rep)
	if err != nil {
		r, _ := temporal.ReportFromError(err)
		return r, err
	}
	return &rep, nil
}

func countCommands(u *clavistertest.Unit, cmd string) int {
	n := 0
	for _, c := range u.Commands() {
		if c == cmd {
			n++
		}
	}
	return n
}

// TestClavisterPairOverSSH upgrades a simulated cOS Core pair over SSH as
// a workflow: every step done, both units on the target, no probe tick
// lost, no secret in the history; a second upgrade of the same cluster is
// refused while it runs, for the same target (workflow ID) and for another
// one (the cluster lock).
func TestClavisterPairOverSSH(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	const password = "Tmprl-Clav-Secret-91x"
	sim, cfg := pair(t, "cos-ha", password)
	reg := &temporal.Registry{}
	if err := reg.Register("cos-ha", temporal.Clavister(cfg, clavisterGates)); err != nil {
		t.Fatal(err)
	}
	startWorker(t, ts, "clavister", reg, password)
	c := ts.GetDefaultClient()
	ctx := context.Background()
	in := temporal.UpgradeInput{Cluster: "cos-ha", Target: clavisterTarget, Activity: fastActivities}
	run, err := temporal.StartUpgrade(ctx, c, "clavister", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := temporal.StartUpgrade(ctx, c, "clavister", in); !temporalsdk.IsWorkflowExecutionAlreadyStartedError(err) {
		t.Errorf("second start of %s: got %v, want WorkflowExecutionAlreadyStarted", temporal.UpgradeWorkflowID(in.Cluster, in.Target), err)
	}
	// The lock is taken before the first activity; wait until the
	// PreCheck has been scheduled, then try another target.
	waitForActivity(t, c, run.GetID(), temporal.ActivityPreCheck)
	other := in
	other.Target = "14.00.11.00-32000"
	run2, err := temporal.StartUpgrade(ctx, c, "clavister", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := upgradeReport(t, run2, 30*time.Second); temporal.ErrorType(err) != temporal.TypeClusterBusy {
		t.Errorf("upgrade to another target while one runs: got %v, want %s", err, temporal.TypeClusterBusy)
	}

	rep, err := upgradeReport(t, run, 2*time.Minute)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	probe := sim.Probe()
	probe.Stop()
	if !rep.OK || rep.Failovers != 1 {
		t.Errorf("report ok=%t failovers=%d, want ok and 1 failover", rep.OK, rep.Failovers)
	}
	for _, s := range rep.Steps {
		if s.Status != upgrade.StatusDone {
			t.Errorf("step %s: %s %s", s.Name, s.Status, s.Error)
		}
	}
	if len(rep.Steps) != 8 || len(rep.PreChecks) == 0 {
		t.Errorf("report has %d steps and %d pre-checks, want the 8 steps of the plan and the dry run's pre-checks", len(rep.Steps), len(rep.PreChecks))
	}
	for _, u := range sim.Units() {
		if u.Version() != clavisterTarget || rep.FinalVersions[u.Name()] != clavisterTarget {
			t.Errorf("unit %s runs %s (report: %s), want %s", u.Name(), u.Version(), rep.FinalVersions[u.Name()], clavisterTarget)
		}
		if n := countCommands(u, "shutdown -reboot"); n != 1 {
			t.Errorf("unit %s got %d apply commands, want 1", u.Name(), n)
		}
	}
	if lost := probe.LostTicks(); lost != 0 {
		t.Errorf("traffic probe lost %d of %d ticks", lost, probe.Ticks())
	}
	t.Logf("upgraded in %v, %d probe ticks, 0 lost", rep.Finished.Sub(rep.Started).Round(time.Millisecond), probe.Ticks())
	noSecretInHistory(t, c, run.GetID(), password)
	noSecretInHistory(t, c, run2.GetID(), password)

	// The lock was released and the closed workflow's ID may be reused: the
	// same upgrade again plans nothing and passes the end-state check.
	again, err := temporal.StartUpgrade(ctx, c, "clavister", in)
	if err != nil {
		t.Fatal(err)
	}
	rep, err = upgradeReport(t, again, time.Minute)
	if err != nil || !rep.OK || len(rep.Steps) != 0 {
		t.Errorf("upgrade of a converged pair: %v, report %+v", err, rep)
	}
	for _, u := range sim.Units() {
		if n := countCommands(u, "shutdown -reboot"); n != 1 {
			t.Errorf("unit %s got %d apply commands after the second run, want 1", u.Name(), n)
		}
	}
}

// waitForActivity blocks until workflowID's history shows activity name
// scheduled.
func waitForActivity(t *testing.T, c client.Client, workflowID, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, workflowID, "", true, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", workflowID, err)
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == name {
			return
		}
	}
	t.Fatalf("%s never scheduled %s", workflowID, name)
}

// TestAviatrixControllerOverTLS upgrades a fake Aviatrix controller and
// its gateways (two ActiveMesh pairs, over TLS on 127.0.0.1) through two
// controller hops: no HA pair lost a probe tick, no secret in the history.
func TestAviatrixControllerOverTLS(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	opts := aviatrixtest.Options{ControllerVersion: "6.5.1922", Pairs: 2, Password: "Tmprl-Avx-Secret-77q"}
	aviatrixtest.Fast(&opts)
	fake, err := aviatrixtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	cfg := fake.ClientConfig()
	reg := &temporal.Registry{}
	if err := reg.Register("avx", temporal.Aviatrix(cfg, aviatrix.ClusterOptions{Name: "avx", Waits: aviatrixtest.FastTiming()})); err != nil {
		t.Fatal(err)
	}
	startWorker(t, ts, "aviatrix", reg, cfg.Password)
	c := ts.GetDefaultClient()
	run, err := temporal.StartUpgrade(context.Background(), c, "aviatrix", temporal.UpgradeInput{Cluster: "avx", Target: "6.6", Activity: fastActivities})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := upgradeReport(t, run, 2*time.Minute)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	for _, p := range fake.Probes() {
		p.Stop()
	}
	sum := fake.ProbeSummary()
	if !rep.OK || rep.Target != "6.6.5545" {
		t.Errorf("report ok=%t target=%q, want ok to 6.6.5545", rep.OK, rep.Target)
	}
	for _, s := range rep.Steps {
		if s.Status != upgrade.StatusDone {
			t.Errorf("step %s: %s %s", s.Name, s.Status, s.Error)
		}
	}
	if v := fake.ControllerVersion(); v != "6.6.5545" {
		t.Errorf("controller runs %s", v)
	}
	for _, n := range fake.GatewayNames() {
		if v := fake.GatewayVersion(n); v != "6.6.5545" || rep.FinalVersions[n] != v {
			t.Errorf("gateway %s runs %s (report %s)", n, v, rep.FinalVersions[n])
		}
	}
	if sum.LostTicks != 0 {
		t.Errorf("probes lost %d of %d ticks", sum.LostTicks, sum.Ticks)
	}
	t.Logf("%d steps in %v, %d probe ticks, 0 lost", len(rep.Steps), rep.Finished.Sub(rep.Started).Round(time.Millisecond), sum.Ticks)
	noSecretInHistory(t, c, run.GetID(), cfg.Password)
}

// blockingPlanner makes install:<unit>@<target> block after its apply
// command was sent, until release closes: a worker stuck (or dead) in the
// middle of a reboot.
type blockingPlanner struct {
	upgrade.Planner
	step    string
	applied chan struct{}
	release chan struct{}
	once    *atomic.Bool
}

func (p blockingPlanner) Plan(s upgrade.Snapshot, target string) (upgrade.Plan, error) {
	plan, err := p.Planner.Plan(s, target)
	if err != nil {
		return plan, err
	}
	for i, st := range plan.Steps {
		f, ok := st.(*upgrade.Func)
		if !ok || f.StepID != p.step {
			continue
		}
		g := *f
		g.Do = func(ctx context.Context) error {
			err := f.Do(ctx)
			if p.once.CompareAndSwap(false, true) {
				close(p.applied)
			}
			<-p.release
			return err
		}
		plan.Steps[i] = &g
	}
	return plan, nil
}

// TestWorkerKilledMidStep stops the worker while it runs the install of
// the first unit (the apply command sent, the unit rebooting) and starts
// another: the retried activity starts from the heartbeated journal, so
// the interrupted install is verified (the unit came back on the target)
// instead of being sent again. Each unit gets exactly one apply command
// and the pair never stops forwarding.
func TestWorkerKilledMidStep(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	const password = "Tmprl-Kill-Secret-33z"
	sim, cfg := pair(t, "cos-kill", password)
	block := blockingPlanner{step: "install:fw-b@" + clavisterTarget, applied: make(chan struct{}), release: make(chan struct{}), once: &atomic.Bool{}}
	t.Cleanup(func() { close(block.release) })
	dying := &temporal.Registry{}
	base := temporal.Clavister(cfg, clavisterGates)
	if err := dying.Register("cos-kill", func(ctx context.Context, j upgrade.Journal) (upgrade.Cluster, upgrade.Planner, error) {
		c, p, err := base(ctx, j)
		if err != nil {
			return nil, nil, err
		}
		b := block
		b.Planner = p
		return c, b, nil
	}); err != nil {
		t.Fatal(err)
	}
	healthy := &temporal.Registry{}
	if err := healthy.Register("cos-kill", base); err != nil {
		t.Fatal(err)
	}
	// The dying worker's client logs nowhere: its stuck activity ends
	// after the test.
	quiet := ts.NewClientWithOptions(client.Options{Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	acts := &temporal.Activities{Registry: dying, Executor: upgrade.Executor{Redact: []string{password}}}
	w1 := worker.New(quiet, "kill", worker.Options{})
	temporal.Register(w1, acts)
	if err := w1.Start(); err != nil {
		t.Fatal(err)
	}
	c := ts.GetDefaultClient()
	run, err := temporal.StartUpgrade(context.Background(), c, "kill", temporal.UpgradeInput{Cluster: "cos-kill", Target: clavisterTarget, Activity: fastActivities})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-block.applied:
	case <-time.After(time.Minute):
		t.Fatal("the install never sent its apply command")
	}
	w1.Stop()
	t.Log("worker 1 stopped in the middle of install:fw-b (apply command sent); starting worker 2")
	startWorker(t, ts, "kill", healthy, password)

	rep, err := upgradeReport(t, run, 2*time.Minute)
	if err != nil {
		t.Fatalf("upgrade after the worker died: %v", err)
	}
	probe := sim.Probe()
	probe.Stop()
	for _, u := range sim.Units() {
		if n := countCommands(u, "shutdown -reboot"); n != 1 {
			t.Errorf("unit %s got %d apply commands, want exactly 1 (%v)", u.Name(), n, u.Commands())
		}
		if u.Version() != clavisterTarget {
			t.Errorf("unit %s runs %s", u.Name(), u.Version())
		}
	}
	i := slices.IndexFunc(rep.Steps, func(s upgrade.StepReport) bool { return s.Name == block.step })
	if i < 0 || rep.Steps[i].Status != upgrade.StatusSkipped || !strings.Contains(rep.Steps[i].Note, "verified done") {
		t.Errorf("interrupted install in the report: %+v, want skipped after verification", rep.Steps[max(i, 0)])
	}
	if lost := probe.LostTicks(); lost != 0 {
		t.Errorf("traffic probe lost %d of %d ticks", lost, probe.Ticks())
	}
	attempts := activityAttempts(t, c, run.GetID(), temporal.ActivityRunSteps)
	t.Logf("RunSteps attempts per scheduled activity: %v", attempts)
	if !slices.Contains(attempts, 2) {
		t.Errorf("no RunSteps activity was retried: %v", attempts)
	}
}

// activityAttempts returns, per started activity of type name, the attempt
// of its start event.
func activityAttempts(t *testing.T, c client.Client, workflowID, name string) []int {
	t.Helper()
	types := map[int64]string{}
	var out []int
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			types[ev.GetEventId()] = a.GetActivityType().GetName()
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && types[a.GetScheduledEventId()] == name {
			out = append(out, int(a.GetAttempt()))
		}
	}
	return out
}

// plannerFunc adapts a function to upgrade.Planner.
type plannerFunc func(s upgrade.Snapshot, target string) (upgrade.Plan, error)

func (f plannerFunc) Plan(s upgrade.Snapshot, target string) (upgrade.Plan, error) {
	return f(s, target)
}

// fakeBuilder returns a Builder of an in-memory fake cluster (the same
// one in every activity) planned by upgrade.Rolling.
func fakeBuilder(c *upgradetest.Cluster) temporal.Builder {
	return func(context.Context, upgrade.Journal) (upgrade.Cluster, upgrade.Planner, error) {
		return c, upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{},
			GateTiming: upgrade.Timing{Interval: 10 * time.Millisecond, MinHealthy: 20 * time.Millisecond, Deadline: 10 * time.Second}}, nil
	}
}

// TestGuardRefusalIsFinal: a step that would disrupt the only forwarding
// member is refused by the executor's guard inside the activity; the
// workflow ends with a non-retryable hitless.Unsafe error after one
// attempt, and the step's action never ran.
func TestGuardRefusalIsFinal(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	lab := upgradetest.NewCluster("lab", 10*time.Millisecond,
		&upgradetest.Member{Name: "lab-a", Version: "1.0", Role: upgrade.RoleActive},
		&upgradetest.Member{Name: "lab-b", Version: "1.0", Role: upgrade.RoleStandby})
	var ran atomic.Int32
	reg := &temporal.Registry{}
	_ = reg.Register("lab", func(context.Context, upgrade.Journal) (upgrade.Cluster, upgrade.Planner, error) {
		return lab, plannerFunc(func(_ upgrade.Snapshot, target string) (upgrade.Plan, error) {
			return upgrade.Plan{Cluster: "lab", Target: target, Converged: upgrade.ConvergedOn(versionpath.Dotted{}, target),
				Steps: []upgrade.Step{&upgrade.Func{StepID: "install:lab-a@" + target, Desc: "install the ACTIVE member first",
					Members: []string{"lab-a"}, Do: func(context.Context) error { ran.Add(1); return nil }}}}, nil
		}), nil
	})
	startWorker(t, ts, "guard", reg)
	c := ts.GetDefaultClient()
	run, err := temporal.StartUpgrade(context.Background(), c, "guard", temporal.UpgradeInput{Cluster: "lab", Target: "2.0", Activity: fastActivities})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := upgradeReport(t, run, time.Minute)
	var appErr *temporalsdk.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != temporal.TypeUnsafe || !appErr.NonRetryable() {
		t.Fatalf("got %v, want a non-retryable %s", err, temporal.TypeUnsafe)
	}
	if ran.Load() != 0 {
		t.Errorf("the refused step ran %d time(s)", ran.Load())
	}
	if rep == nil || len(rep.Steps) != 1 || rep.Steps[0].Status != upgrade.StatusRefused || rep.OK {
		t.Errorf("report: %+v, want the step refused", rep)
	}
	if a := activityAttempts(t, c, run.GetID(), temporal.ActivityRunSteps); !slices.Equal(a, []int{1}) {
		t.Errorf("RunSteps attempts %v, want one", a)
	}
	t.Logf("refused: %s", appErr.Message())
}

// TestStopAtSafePoint: at UpgradeInput.StopAt (a maintenance window's
// end, as a rollout passes it to its clusters) the running gate stops at
// once and no further step starts; the workflow ends with hitless.Stopped
// and the report says where.
func TestStopAtSafePoint(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	lab := upgradetest.NewCluster("st", 10*time.Millisecond,
		&upgradetest.Member{Name: "st-a", Version: "1.0", Role: upgrade.RoleActive},
		&upgradetest.Member{Name: "st-b", Version: "1.0", Role: upgrade.RoleStandby, NeverReturns: true})
	reg := &temporal.Registry{}
	_ = reg.Register("st", fakeBuilder(lab))
	startWorker(t, ts, "stop", reg)
	run, err := temporal.StartUpgrade(context.Background(), ts.GetDefaultClient(), "stop",
		temporal.UpgradeInput{Cluster: "st", Target: "2.0", StopAt: time.Now().Add(2 * time.Second), Activity: fastActivities})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := upgradeReport(t, run, time.Minute)
	if temporal.ErrorType(err) != temporal.TypeStopped || rep == nil {
		t.Fatalf("got %v, want %s with a report", err, temporal.TypeStopped)
	}
	if rep.StoppedAfter != "install:st-b@2.0" || rep.StoppedBefore != "wait:st-b@2.0" {
		t.Errorf("stopped after %q before %q, want after the install, before its gate", rep.StoppedAfter, rep.StoppedBefore)
	}
	if n := lab.CountCalls("install", "st-a"); n != 0 {
		t.Errorf("st-a was installed %d time(s) after the stop", n)
	}
}

// TestRolloutApprovalDenied runs a fleet rollout of in-memory pairs: the
// canary upgrades, the approval signal refuses the rest, and no other
// cluster starts. A second rollout, approved, upgrades four clusters two
// at a time, never two of one pod at once.
func TestRolloutApprovalDenied(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	reg := &temporal.Registry{}
	fakes := map[string]*upgradetest.Cluster{}
	for _, n := range []string{"r1", "r2", "r3", "p1", "p2", "p3", "p4"} {
		fakes[n] = upgradetest.Pair(n, "1.0", 30*time.Millisecond)
		_ = reg.Register(n, fakeBuilder(fakes[n]))
	}
	startWorker(t, ts, "fleet", reg)
	c := ts.GetDefaultClient()
	ctx := context.Background()

	denied := temporal.RolloutInput{MaxParallelClusters: 2, Canaries: 1, ApproveRest: true, ApprovalTimeout: time.Minute, Activity: fastActivities}
	for _, n := range []string{"r1", "r2", "r3"} {
		denied.Targets = append(denied.Targets, temporal.RolloutTarget{Cluster: n, Version: "2.0"})
	}
	run, err := temporal.StartRollout(ctx, c, "fleet", "rollout-denied", denied)
	if err != nil {
		t.Fatal(err)
	}
	if err := temporal.Approve(ctx, c, "rollout-denied", temporal.Approval{Approved: false, By: "change board", Reason: "canary looked slow"}); err != nil {
		t.Fatal(err)
	}
	gctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	err = run.Get(gctx, nil)
	if temporal.ErrorType(err) != temporal.TypeRolloutHalted {
		t.Fatalf("denied rollout: got %v, want %s", err, temporal.TypeRolloutHalted)
	}
	rep, ok := temporal.RolloutReportFromError(err)
	if !ok {
		t.Fatal("no rollout report in the error")
	}
	want := []string{"done", "not-started", "not-started"}
	for i, res := range rep.Results {
		if res.Status != want[i] {
			t.Errorf("cluster %s: %s (%s), want %s", res.Cluster, res.Status, res.Reason, want[i])
		}
	}
	for _, n := range []string{"r2", "r3"} {
		if k := len(fakes[n].Calls()); k != 0 {
			t.Errorf("cluster %s saw %d calls after the refusal", n, k)
		}
	}
	if !strings.Contains(errorText(err), "change board: canary looked slow") {
		t.Errorf("error does not say who refused: %v", err)
	}

	approved := temporal.RolloutInput{MaxParallelClusters: 2, PerGroup: 1, Activity: fastActivities}
	for i, n := range []string{"p1", "p2", "p3", "p4"} {
		approved.Targets = append(approved.Targets, temporal.RolloutTarget{Cluster: n, Version: "2.0", Group: []string{"pod-1", "pod-2"}[i%2]})
	}
	run, err = temporal.StartRollout(ctx, c, "fleet", "rollout-approved", approved)
	if err != nil {
		t.Fatal(err)
	}
	var done upgrade.RolloutReport
	if err := run.Get(gctx, &done); err != nil {
		t.Fatalf("approved rollout: %v", err)
	}
	byGroup := map[string][]upgrade.RolloutResult{}
	for _, res := range done.Results {
		if res.Status != "done" || res.Report == nil || !res.Report.OK {
			t.Errorf("cluster %s: %s %s", res.Cluster, res.Status, res.Reason)
			continue
		}
		byGroup[res.Group] = append(byGroup[res.Group], res)
		if lost := fakes[res.Cluster].Probe.LostTicks(); lost != 0 {
			t.Errorf("cluster %s lost %d ticks", res.Cluster, lost)
		}
	}
	for g, rs := range byGroup {
		if len(rs) == 2 && rs[0].Report.Finished.After(rs[1].Report.Started) && rs[1].Report.Finished.After(rs[0].Report.Started) {
			t.Errorf("group %s ran two clusters at once", g)
		}
	}
	t.Log("\n" + done.Markdown())
}

func errorText(err error) string {
	var appErr *temporalsdk.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return ""
}

// TestClassify maps each category of hitless error to its ApplicationError
// type and retryability.
func TestClassify(t *testing.T) {
	unreachable := &driver.UnreachableError{Host: "127.0.0.1:22", Err: errors.New("connection refused")}
	cases := []struct {
		err       error
		typ       string
		retryable bool
	}{
		{&upgrade.StepError{Step: "install:b", Err: &upgrade.UnsafeError{Step: "install:b"}}, temporal.TypeUnsafe, false},
		{&upgrade.DisruptionError{Step: "stage:b", Undeclared: []string{"a"}}, temporal.TypeUndeclaredDisruption, false},
		{&upgrade.StepError{Step: "install:b", Err: &upgrade.DecisionError{Step: "install:b", Earlier: "interrupted"}}, temporal.TypeNeedsDecision, false},
		{&upgrade.NotConvergedError{Cluster: "c", Target: "2.0", Err: errors.New("b on 1.0")}, temporal.TypeNotConverged, false},
		{&upgrade.GateError{Gate: "g", Permanent: true, Last: fmt.Errorf("back on old: %w", upgrade.ErrPermanent)}, temporal.TypePermanent, false},
		{&upgrade.StepError{Step: "wait:b", Err: &upgrade.GateError{Gate: "g", Last: unreachable}}, temporal.TypeGateTimeout, false},
		{&clavister.UnitError{Unit: "fw-a", Op: "connect", Err: &driver.AuthError{Host: "h", User: "admin", Err: errors.New("denied")}}, temporal.TypeAuth, false},
		{&clavister.UnitError{Unit: "fw-a", Op: "connect", Err: &driver.HostKeyError{Host: "h", Reason: driver.HostKeyChanged}}, temporal.TypeHostKey, false},
		{fmt.Errorf("login: %w", aviatrix.ErrAuth), temporal.TypeAuth, false},
		{&upgrade.PreCheckError{Failures: []error{unreachable}}, temporal.TypePreCheck, false},
		{&upgrade.InvalidError{What: "plan", Problems: []string{"no steps"}}, temporal.TypeInvalid, false},
		{&upgrade.StepError{Step: "stage:b", Err: &clavister.UnitError{Unit: "fw-b", Op: "stage", Err: unreachable}}, temporal.TypeTransport, true},
		{&upgrade.StoppedError{After: "a", Before: "b", Cause: context.Canceled}, temporal.TypeStopped, true},
		{&upgrade.StepError{Step: "x", Err: errors.New("device said no")}, temporal.TypeStepFailed, false},
	}
	for _, c := range cases {
		typ, retryable := temporal.Classify(c.err)
		if typ != c.typ || retryable != c.retryable {
			t.Errorf("%T %v: got %s retryable=%t, want %s retryable=%t", c.err, c.err, typ, retryable, c.typ, c.retryable)
		}
	}
}
