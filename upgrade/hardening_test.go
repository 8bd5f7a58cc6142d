package upgrade_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// Regression tests for the safety-hardening issue: each fails on the core
// as it was before it (see the closing note for the mapping).

// A journal that says every step is done, replayed against a cluster still
// on the old version, must not report success: the end state is checked
// after the last step even when every step came from the journal.
func TestEndStateCheckedWhenEveryStepIsFromTheJournal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		j := &upgrade.MemoryJournal{}
		p := plan(t, c, "2.0")
		_, err := (&upgrade.Executor{Journal: j}).Run(t.Context(), c, p)
		require.NoError(t, err)

		// The same journal against a pair that is (again) on 1.0.
		old := pair()
		rep, err := (&upgrade.Executor{Journal: j}).Run(t.Context(), old, p)
		require.ErrorIs(t, err, upgrade.ErrNotConverged)
		var nc *upgrade.NotConvergedError
		require.ErrorAs(t, err, &nc)
		assert.Equal(t, map[string]string{"a": "1.0", "b": "1.0"}, nc.Versions)
		assert.Contains(t, err.Error(), "a=1.0")
		assert.Contains(t, err.Error(), "b=1.0")
		assert.False(t, rep.OK)
		assert.Zero(t, old.CountCalls("install", ""), "nothing ran")
	})
}

// ValidatePlan refuses a plan with a target and no end-state check.
func TestValidatePlanRequiresEndState(t *testing.T) {
	c := pair()
	p := upgrade.Plan{Cluster: "fw1", Target: "2.0", Steps: []upgrade.Step{&upgrade.Func{StepID: "s", Do: func(context.Context) error { return nil }}}}
	err := upgrade.ValidatePlan(c, p)
	require.ErrorIs(t, err, upgrade.ErrInvalid)
	assert.Contains(t, err.Error(), "end-state check")
	p.Converged = upgrade.ConvergedOn(versionpath.Dotted{}, "2.0")
	require.NoError(t, upgrade.ValidatePlan(c, p))
}

// Two hand-written steps that install on b then a without declaring them:
// the check after each step stops the run at the first step after which
// no member is active, naming the step and the member.
func TestUndeclaredDisruptionStopsTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		install := func(id string) *upgrade.Func {
			return &upgrade.Func{StepID: "sneaky:" + id, Do: func(ctx context.Context) error { return c.Member(id).Install(ctx, "2.0") }}
		}
		var events []upgrade.Event
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{install("b"), install("a"), install("never")}}
		rep, err := (&upgrade.Executor{OnEvent: func(e upgrade.Event) { events = append(events, e) }}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUndeclaredDisruption)
		var de *upgrade.DisruptionError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, "sneaky:a", de.Step)
		assert.Equal(t, []string{"a"}, de.Undeclared)
		assert.True(t, de.NoneForwarding)
		assert.False(t, rep.OK)
		assert.Equal(t, 1, c.CountCalls("install", "a"))
		assert.Equal(t, upgrade.StatusPlanned, rep.Steps[2].Status, "the run stopped at once")
		assert.True(t, slices.ContainsFunc(events, func(e upgrade.Event) bool { return e.Kind == upgrade.EventCheck && e.Err != "" }))
	})
}

// A failover done by a step that does not declare it is an undeclared
// disruption of the old active member; declared, it passes.
func TestUndeclaredFailoverStopsDeclaredOnePasses(t *testing.T) {
	for _, declared := range []bool{false, true} {
		t.Run(fmt.Sprintf("declared=%t", declared), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := pair()
				p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{&upgrade.Func{
					StepID: "move", IsFailover: declared,
					Do: func(ctx context.Context) error { return c.Failover(ctx, "b") },
				}}}
				_, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
				if declared {
					require.NoError(t, err)
					return
				}
				var de *upgrade.DisruptionError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, []string{"a"}, de.Undeclared)
				assert.False(t, de.NoneForwarding)
			})
		})
	}
}

// After a declared failover the handover may show no active member for a
// moment: the check waits (SettleTiming) instead of stopping the run.
func TestFailoverHandoverSettles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		c.FailoverDelay = 2500 * time.Millisecond
		start := time.Now()
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{&upgrade.Func{
			StepID: "handover", IsFailover: true,
			// The active member steps down; the fake's standby takes over
			// after FailoverDelay.
			Do: func(ctx context.Context) error { return c.Member("a").Install(ctx, "1.0") },
		}}}
		c.Member("a").NeverReturns = true
		_, err := (&upgrade.Executor{SettleTiming: upgrade.Timing{Interval: time.Second, Deadline: time.Minute}}).Run(t.Context(), c, p)
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, time.Since(start), "settled at the first poll after b took over (2.5 s)")
	})
}

// disruptionRecorder is a cluster whose DisruptionChecker records the
// member sets it is asked about.
type disruptionRecorder struct {
	*upgradetest.Cluster
	mu   sync.Mutex
	asks [][]string
}

func (d *disruptionRecorder) CheckDisruption(_ upgrade.Snapshot, members []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asks = append(d.asks, slices.Sorted(slices.Values(members)))
	return nil
}

// A retried step of a batch is guarded again together with the whole
// running batch: the DisruptionChecker sees the union, not one member.
func TestRetryInBatchGuardsTheWholeBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &disruptionRecorder{Cluster: upgradetest.NewCluster("fw1", time.Second,
			&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive},
			&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby},
			&upgradetest.Member{Name: "c", Version: "1.0", Role: upgrade.RoleStandby},
		)}
		tries := 0
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "work:b", Members: []string{"b"}, Batch: "x", Do: func(context.Context) error { return nil }},
			&upgrade.Func{StepID: "work:c", Members: []string{"c"}, Batch: "x", Retryable: true, Do: func(context.Context) error {
				tries++
				if tries == 1 {
					return errors.New("transient")
				}
				return nil
			}},
		}}
		_, err := (&upgrade.Executor{Retry: upgrade.Retry{Attempts: 2, Initial: time.Second}}).Run(t.Context(), c, p)
		require.NoError(t, err)
		require.Len(t, c.asks, 2, "first guard and the retry's guard")
		assert.Equal(t, []string{"b", "c"}, c.asks[1], "the retry is guarded with its batch")
	})
}

// Two runs on one journal file: the second gets a typed error naming the
// file and touches nothing while the first holds the journal.
func TestSecondRunOnALockedJournalTouchesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.journal")
	c := pair()
	release, inside := make(chan struct{}), make(chan struct{})
	first := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{&upgrade.Func{StepID: "hold", Do: func(context.Context) error {
		close(inside)
		<-release
		return nil
	}}}}
	done := make(chan error, 1)
	go func() {
		_, err := (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}}).Run(context.Background(), c, first)
		done <- err
	}()
	<-inside
	ran := false
	second := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{&upgrade.Func{StepID: "hold", Do: func(context.Context) error { ran = true; return nil }}}}
	_, err := (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}}).Run(context.Background(), c, second)
	require.ErrorIs(t, err, upgrade.ErrJournalLocked)
	var je *upgrade.JournalError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, path, je.Path)
	assert.False(t, ran)
	close(release)
	require.NoError(t, <-done)
	// Released at the end of the first run: a resume may take it.
	_, err = (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}}).Run(context.Background(), c, second)
	require.NoError(t, err)
	assert.False(t, ran, "finished in the journal")
}

func TestJournalDecoderIsStrict(t *testing.T) {
	plan := `{"seq":1,"time":"2026-01-01T00:00:00Z","kind":"plan","cluster":"fw1","steps":["s"],"disrupts":[[]]}`
	start := `{"seq":2,"time":"2026-01-01T00:00:00Z","kind":"start","step":"s"}`
	for name, data := range map[string]string{
		"trailing data":          plan + " garbage\n",
		"two records on a line":  plan + start + "\n",
		"plan without disrupts":  `{"seq":1,"time":"2026-01-01T00:00:00Z","kind":"plan","cluster":"fw1","steps":["s"]}` + "\n",
		"disrupts of wrong size": `{"seq":1,"time":"2026-01-01T00:00:00Z","kind":"plan","cluster":"fw1","steps":["s"],"disrupts":[]}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := upgrade.DecodeRecords([]byte(data))
			require.ErrorIs(t, err, upgrade.ErrJournalCorrupt)
		})
	}
	recs, err := upgrade.DecodeRecords([]byte(plan + "\n" + start + "\n"))
	require.NoError(t, err)
	assert.Len(t, recs, 2)
}

// A corrupt file journal's error carries its path.
func TestJournalErrorCarriesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	require.NoError(t, os.WriteFile(path, []byte("{\"seq\":1,\"kind\":\"plan\"} {}\n"), 0o600))
	_, err := (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}}).Run(t.Context(), pair(), upgrade.Plan{Cluster: "fw1"})
	var je *upgrade.JournalError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, path, je.Path)
}

// lyingCluster returns snapshots edited by mutate.
type lyingCluster struct {
	*upgradetest.Cluster
	mutate func(*upgrade.Snapshot)
}

func (l *lyingCluster) Observe(ctx context.Context) (upgrade.Snapshot, error) {
	s, err := l.Cluster.Observe(ctx)
	if err == nil && l.mutate != nil {
		l.mutate(&s)
	}
	return s, err
}

// The guard refuses on a snapshot that does not describe the cluster's
// members exactly, or that carries cluster-wide problems.
func TestGuardRefusesASnapshotItCannotTrust(t *testing.T) {
	ghost := upgrade.MemberState{ID: "ghost", Role: upgrade.RoleActive, Healthy: true, Version: "1.0"}
	for name, mutate := range map[string]func(*upgrade.Snapshot){
		"ghost member": func(s *upgrade.Snapshot) {
			// a (the only forwarder) is replaced by a forwarding ghost
			s.Members[0] = ghost
		},
		"duplicate member": func(s *upgrade.Snapshot) { s.Members = append(s.Members, s.Members[0]) },
		"missing member":   func(s *upgrade.Snapshot) { s.Members = s.Members[:1] },
		"split brain":      func(s *upgrade.Snapshot) { s.Problems = append(s.Problems, "split brain: both units ACTIVE") },
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				inner := pair()
				c := &lyingCluster{Cluster: inner}
				p := plan(t, c, "2.0")
				c.mutate = mutate
				// Pre-checks would catch some of these before the guard:
				// run as a resume so that only the guard stands in between.
				j := &upgrade.MemoryJournal{}
				require.NoError(t, j.Append(t.Context(), upgrade.Record{Seq: 1, Kind: upgrade.RecordPlan, Cluster: "fw1", Target: "2.0", Steps: p.StepIDs(), Disrupts: disrupts(p)}))
				_, err := (&upgrade.Executor{Journal: j}).Run(t.Context(), c, p)
				require.ErrorIs(t, err, upgrade.ErrUnsafe)
				assert.Zero(t, inner.CountCalls("install", ""), "nothing was disrupted")
			})
		})
	}
}

func disrupts(p upgrade.Plan) [][]string {
	d := make([][]string, len(p.Steps))
	for i, s := range p.Steps {
		d[i] = append([]string{}, s.Disrupts()...)
	}
	return d
}

// A fresh run refuses to start on a cluster that reports cluster-wide
// problems.
func TestPreCheckRefusesClusterProblems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := pair()
		c := &lyingCluster{Cluster: inner, mutate: func(s *upgrade.Snapshot) { s.Problems = []string{"unplanned failover at 03:12"} }}
		p := plan(t, c, "2.0")
		_, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrPreCheck)
		assert.Contains(t, err.Error(), "unplanned failover")
		assert.Zero(t, inner.CountCalls("install", ""))
	})
}

func TestRolloutNilExecutorIsAnError(t *testing.T) {
	c := pair()
	r := &upgrade.Rollout{MaxParallelClusters: 1, NewExecutor: func(upgrade.RolloutTarget) *upgrade.Executor { return nil }}
	rep, err := r.Run(t.Context(), []upgrade.RolloutTarget{{Cluster: c, Version: "2.0", Planner: upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}}}})
	require.ErrorIs(t, err, upgrade.ErrInvalid)
	assert.Equal(t, "failed", rep.Results[0].Status)
	assert.Zero(t, c.CountCalls("install", ""))
}

func TestTimingIntervalAboveDeadlineIsInvalid(t *testing.T) {
	err := upgrade.Timing{Interval: 5 * time.Minute, Deadline: time.Minute}.Validate()
	require.ErrorIs(t, err, upgrade.ErrInvalidTiming)
	assert.Contains(t, err.Error(), "interval")
}

// The wait gives up at its deadline, not at the next poll after it.
func TestGateNeverOutlastsItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		start := time.Now()
		_, err := upgrade.WaitFor(t.Context(), c, upgrade.Gate{Name: "g", Timing: upgrade.Timing{Interval: 40 * time.Second, Deadline: time.Minute},
			Check: func(upgrade.Snapshot) error { return errors.New("not yet") }}, nil)
		require.ErrorIs(t, err, upgrade.ErrGateTimeout)
		assert.Equal(t, time.Minute, time.Since(start))
	})
}

// The error Run returns is redacted like its events and report.
func TestRunErrorIsRedacted(t *testing.T) {
	c := pair()
	p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{&upgrade.Func{StepID: "s", Do: func(context.Context) error {
		return fmt.Errorf("login with password %s refused: %w", "Hunter2!", upgrade.ErrNoAction)
	}}}}
	_, err := (&upgrade.Executor{Redact: []string{"Hunter2!"}}).Run(t.Context(), c, p)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "Hunter2!")
	assert.ErrorIs(t, err, upgrade.ErrNoAction, "the chain survives redaction")
	var se *upgrade.StepError
	assert.ErrorAs(t, err, &se)
}

func TestRollingRequiresAGrammar(t *testing.T) {
	c := pair()
	c.Member("a").Version = "3.0"
	snap, _ := c.Observe(t.Context())
	_, err := upgrade.Rolling{Cluster: c}.Plan(snap, "2.0")
	require.ErrorIs(t, err, upgrade.ErrInvalid)
	assert.Contains(t, err.Error(), "grammar")
}

// A failed step that can neither verify itself nor run twice does not
// re-run on every restart: it asks for a decision, and runs again only
// when the operator lists it in Executor.Rerun.
func TestFailedUnverifiableStepAsksForADecision(t *testing.T) {
	c := pair()
	runs := 0
	fail := true
	p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{&upgrade.Func{StepID: "push-config", Do: func(context.Context) error {
		runs++
		if fail {
			return errors.New("device said no")
		}
		return nil
	}}}}
	j := &upgrade.MemoryJournal{}
	_, err := (&upgrade.Executor{Journal: j}).Run(t.Context(), c, p)
	require.Error(t, err)
	fail = false
	_, err = (&upgrade.Executor{Journal: j}).Run(t.Context(), c, p)
	require.ErrorIs(t, err, upgrade.ErrNeedsDecision)
	var de *upgrade.DecisionError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "push-config", de.Step)
	assert.Equal(t, 1, runs, "not re-run without a decision")
	_, err = (&upgrade.Executor{Journal: j, Rerun: []string{"push-config"}}).Run(t.Context(), c, p)
	require.NoError(t, err)
	assert.Equal(t, 2, runs)
}

// Rolling with Rollback returns every member to the explicit earlier
// version through the Rollbacker capability, standby first, under the
// guard and journal like an upgrade.
func TestRollingRollback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		c.Member("a").Version, c.Member("b").Version = "2.0", "2.0"
		snap, err := c.Observe(t.Context())
		require.NoError(t, err)
		r := upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}, GateTiming: gate, Rollback: true}
		p, err := r.Plan(snap, "1.0")
		require.NoError(t, err)
		assert.Equal(t, []string{"rollback:b@1.0", "wait:b@1.0", "failover:to:b", "wait:active:b", "rollback:a@1.0", "wait:a@1.0"}, p.StepIDs())
		rep, err := (&upgrade.Executor{Journal: &upgrade.MemoryJournal{}}).Run(t.Context(), c, p)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"a": "1.0", "b": "1.0"}, rep.FinalVersions)
		assert.Equal(t, 1, c.CountCalls("rollback", "a"))
		assert.Equal(t, 1, c.CountCalls("rollback", "b"))
		assert.Zero(t, c.Probe.LostTicks())

		// Without Rollback a lower target is refused, and with it a higher one.
		_, err = upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}}.Plan(snap, "1.0")
		require.ErrorIs(t, err, upgrade.ErrInvalid)
		_, err = r.Plan(snap, "3.0")
		require.ErrorIs(t, err, upgrade.ErrInvalid)
	})
}

// Executor.Upgrade is observe, plan and run in one call.
func TestExecutorUpgradeIsTheCommonPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		rep, err := (&upgrade.Executor{}).Upgrade(t.Context(), c, upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}, GateTiming: gate}, "2.0")
		require.NoError(t, err)
		assert.True(t, rep.OK)
		assert.Equal(t, map[string]string{"a": "2.0", "b": "2.0"}, rep.FinalVersions)
		_, err = (&upgrade.Executor{}).Upgrade(t.Context(), c, upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}}, "2..0")
		require.ErrorIs(t, err, upgrade.ErrInvalid)
		assert.True(t, strings.Contains(err.Error(), "2..0"))
	})
}

// The report renders a Mermaid gantt timeline (one section per member, a
// bar per step, failures crit), the versions before and after, the
// pre-checks and the failovers; the rollout report adds a summary table.
func TestReportsRenderTimelineAndSummary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, plan(t, c, "2.0"))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"a": "1.0", "b": "1.0"}, rep.InitialVersions)
		assert.Equal(t, 1, rep.Failovers)
		md := rep.Markdown()
		for _, want := range []string{"```mermaid\ngantt\n", "dateFormat x", "    section b\n", "    section a\n", "    section cluster\n",
			"    install b@2.0 :done, 0, 1\n", "    wait b@2.0 :done, 0, 340000\n", "| a | 1.0 | 2.0 |", "Failovers: 1", "- passed: cluster forwards traffic"} {
			assert.Contains(t, md, want)
		}

		ts, cs := fleet(2, "p")
		cs[1].Member("b").InstallFails = true
		rr, err := (&upgrade.Rollout{MaxParallelClusters: 2, MaxFailures: 5}).Run(t.Context(), ts)
		require.Error(t, err)
		md = rr.Markdown()
		for _, want := range []string{"# Rollout report (FAILED)", "1 of 2 clusters done", "| fw0 | p | false | done | a=1.0, b=1.0 | a=2.0, b=2.0 | 1 |",
			"| fw1 | p | false | failed |", "    section fw0 b\n", "    section fw1 b\n", ":crit, "} {
			assert.Contains(t, md, want)
		}
		j, err := rr.JSON()
		require.NoError(t, err)
		assert.Contains(t, string(j), `"initial_versions"`)
	})
}

// stateRule refuses, like a Junos chassis cluster, to disrupt the member
// that is active now; with topo set it also tells dry runs its topology.
type stateRule struct {
	*upgradetest.Cluster
}

func (s *stateRule) CheckDisruption(snap upgrade.Snapshot, members []string) error {
	for _, id := range members {
		if m, _ := snap.Member(id); m.Role == upgrade.RoleActive {
			return fmt.Errorf("%s is active now", id)
		}
	}
	return nil
}

type stateRuleWithTopology struct{ stateRule }

func (s *stateRuleWithTopology) CheckTopology(members []string) error {
	if len(members) > 1 {
		return errors.New("one member at a time")
	}
	return nil
}

// A dry run judges a state-dependent DisruptionChecker through its
// TopologyChecker when it has one (the active member is upgraded later,
// after the failover); a real run still asks CheckDisruption.
func TestDryRunUsesTopologyChecker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plain := &stateRule{Cluster: pair()}
		_, err := (&upgrade.Executor{DryRun: true}).Run(t.Context(), plain, plan(t, plain, "2.0"))
		require.ErrorIs(t, err, upgrade.ErrUnsafe, "without a topology the dry run judges the start state")

		topo := &stateRuleWithTopology{stateRule{Cluster: pair()}}
		_, err = (&upgrade.Executor{DryRun: true}).Run(t.Context(), topo, plan(t, topo, "2.0"))
		require.NoError(t, err)
		rep, err := (&upgrade.Executor{}).Run(t.Context(), topo, plan(t, topo, "2.0"))
		require.NoError(t, err)
		assert.True(t, rep.OK)
	})
}
