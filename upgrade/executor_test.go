package upgrade_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

var gate = upgrade.Timing{Interval: 10 * time.Second, MinHealthy: 30 * time.Second, Deadline: 20 * time.Minute}

// pair returns a fake active/standby pair on 1.0 whose members take 5s to
// install and 5 min to reboot.
func pair() *upgradetest.Cluster {
	c := upgradetest.NewCluster("fw1", time.Second,
		&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, InstallDuration: 5 * time.Second, RebootDuration: 5 * time.Minute},
		&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, InstallDuration: 5 * time.Second, RebootDuration: 5 * time.Minute},
	)
	return c
}

func plan(t *testing.T, c upgrade.Cluster, target string) upgrade.Plan {
	t.Helper()
	snap, err := c.Observe(context.Background())
	require.NoError(t, err)
	p, err := upgrade.Rolling{Cluster: c, GateTiming: gate, Grammar: versionpath.Dotted{}}.Plan(snap, target)
	require.NoError(t, err)
	return p
}

func TestRollingPlanShape(t *testing.T) {
	c := pair()
	p := plan(t, c, "2.0")
	assert.Equal(t, []string{
		"install:b@2.0", "wait:b@2.0", "failover:to:b", "wait:active:b", "install:a@2.0", "wait:a@2.0",
	}, p.StepIDs())
	assert.Equal(t, []string{"b"}, p.Steps[0].Disrupts())
	assert.Empty(t, p.Steps[2].Disrupts(), "a failover moves traffic but takes no member down")
}

// TestRollingPairVirtualTime: 5 s install + 5 min reboot per member, polls
// every 10 s, 30 s minimum healthy. b is back at 305 s, first healthy poll at
// 310 s, gate passes at 340 s; the failover gate passes 30 s later (370 s);
// a is back at 675 s, healthy at 680 s, gate passes at 710 s.
func TestRollingPairVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		p := plan(t, c, "2.0")
		start := time.Now()
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.NoError(t, err)
		assert.Equal(t, 710*time.Second, time.Since(start))
		assert.True(t, rep.OK)
		assert.Equal(t, map[string]string{"a": "2.0", "b": "2.0"}, rep.FinalVersions)
		assert.Equal(t, 0, c.Probe.LostTicks(), "an accepted rolling plan loses no probe tick")
		assert.Equal(t, 1, c.CountCalls("install", "a"))
		assert.Equal(t, 1, c.CountCalls("install", "b"))
		// the wait for b polled at 0,10,…,340 s: 35 polls.
		assert.Equal(t, 35, rep.Steps[1].Polls)
		for _, s := range rep.Steps {
			assert.Equal(t, upgrade.StatusDone, s.Status, s.Name)
		}
	})
}

func TestGuardRefusesRebootingActiveWhileStandbyDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		c.Member("b").PeerLost = true // standby unhealthy
		a := c.Member("a")
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "reboot-active", Desc: "install on the active", Members: []string{"a"},
				Do: func(ctx context.Context) error { return a.Install(ctx, "2.0") }},
		}}
		// Pre-checks pass (a forwards); the guard is what refuses.
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		var ue *upgrade.UnsafeError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, "reboot-active", ue.Step)
		assert.Equal(t, []string{"a"}, ue.Members)
		assert.Contains(t, ue.Reason, "b is standby (healthy=false)")
		assert.Equal(t, upgrade.StatusRefused, rep.Steps[0].Status)
		assert.Equal(t, 0, c.CountCalls("install", ""), "nothing touched")
		assert.Equal(t, 0, c.Probe.LostTicks())
	})
}

func TestGuardAcceptsDeclaredDowntimeAndReportsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		a, b := c.Member("a"), c.Member("b")
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "all-down", Members: []string{"a", "b"}, WholeClusterDown: true,
				Do: func(ctx context.Context) error {
					return errors.Join(a.Install(ctx, "2.0"), b.Install(ctx, "2.0"))
				}},
			&upgrade.Wait{StepID: "wait", G: upgrade.Gate{Name: "back", Timing: gate, Check: func(s upgrade.Snapshot) error {
				return upgrade.CheckAvailability(s, nil)
			}}},
		}}
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.NoError(t, err)
		assert.True(t, rep.Downtime)
		assert.True(t, rep.Steps[0].Downtime)
		assert.Greater(t, c.Probe.LostTicks(), 0, "declared downtime really loses traffic")
		assert.Contains(t, p.Render(), "[DOWNTIME]")
	})
}

func TestGuardRefusesFailoverToUnupgradedMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		p := plan(t, c, "2.0")
		// Drop the install and wait of b: the failover's safety check must refuse.
		p.Steps = p.Steps[2:]
		_, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.Contains(t, err.Error(), `version "1.0", want "2.0"`)
		assert.Equal(t, 0, c.CountCalls("failover", ""))
	})
}

func TestBadInputListsEveryProblemAndRunsNothing(t *testing.T) {
	t.Run("empty cluster", func(t *testing.T) {
		c := upgradetest.NewCluster("", 0)
		_, err := (&upgrade.Executor{}).Run(t.Context(), c, upgrade.Plan{})
		var ie *upgrade.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.ElementsMatch(t, []string{"cluster name is empty", "cluster has no members"}, ie.Problems)
	})
	t.Run("duplicate members", func(t *testing.T) {
		c := upgradetest.NewCluster("fw", 0,
			&upgradetest.Member{Name: "a", Role: upgrade.RoleActive},
			&upgradetest.Member{Name: "a"}, &upgradetest.Member{Name: ""})
		err := upgrade.ValidateCluster(c)
		require.ErrorIs(t, err, upgrade.ErrInvalid)
		assert.Contains(t, err.Error(), `duplicate member ID "a"`)
		assert.Contains(t, err.Error(), "member 2 has an empty ID")
	})
	t.Run("bad plan", func(t *testing.T) {
		c := pair()
		p := upgrade.Plan{Cluster: "other", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "x", Members: []string{"zz"}, Do: func(context.Context) error { return nil }},
			&upgrade.Func{StepID: "x"},
			&upgrade.Wait{StepID: "w", G: upgrade.Gate{Name: "g", Timing: upgrade.Timing{Interval: 0, MinHealthy: time.Minute, Deadline: time.Second}}},
		}}
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		var ie *upgrade.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Len(t, ie.Problems, 6, ie.Problems)
		assert.False(t, rep.OK)
		assert.Empty(t, c.Calls(), "nothing touched")
		assert.Zero(t, c.StatusCalls(), "not even observed")
	})
	t.Run("invalid timing", func(t *testing.T) {
		err := upgrade.Timing{Interval: -1, MinHealthy: 2 * time.Second, Deadline: time.Second}.Validate()
		require.ErrorIs(t, err, upgrade.ErrInvalidTiming)
		var te *upgrade.TimingError
		require.ErrorAs(t, err, &te)
		assert.Len(t, te.Problems, 2)
	})
	t.Run("malformed versions and unknown target", func(t *testing.T) {
		c := upgradetest.NewCluster("fw", 0,
			&upgradetest.Member{Name: "a", Version: "1.x", Role: upgrade.RoleActive},
			&upgradetest.Member{Name: "b", Version: "3.0", Role: upgrade.RoleStandby})
		snap, err := c.Observe(t.Context())
		require.NoError(t, err)
		_, err = upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}}.Plan(snap, "2..0")
		var ie *upgrade.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Len(t, ie.Problems, 2, ie.Problems) // target, member a (b cannot be compared without a target)
		_, err = upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}}.Plan(snap, "2.0")
		require.ErrorAs(t, err, &ie)
		assert.Len(t, ie.Problems, 2, ie.Problems) // a malformed, b ahead of target
		assert.Contains(t, ie.Error(), "ahead of target")
	})
	t.Run("single member cannot roll", func(t *testing.T) {
		c := upgradetest.NewCluster("fw", 0, &upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive})
		snap, _ := c.Observe(t.Context())
		_, err := upgrade.Rolling{Cluster: c}.Plan(snap, "2.0")
		require.ErrorIs(t, err, upgrade.ErrInvalid)
	})
}

func TestPreChecksReportEveryProblemAtOnce(t *testing.T) {
	c := pair()
	c.Member("a").PeerLost = true // nobody forwards
	p := plan(t, c, "2.0")
	ex := &upgrade.Executor{PreChecks: []upgrade.PreCheck{
		{Name: "change ticket", Check: func(context.Context, upgrade.Snapshot) error { return errors.New("no ticket") }},
		{Name: "backup", Check: func(context.Context, upgrade.Snapshot) error { return nil }},
	}}
	_, err := ex.Run(t.Context(), c, p)
	var pe *upgrade.PreCheckError
	require.ErrorAs(t, err, &pe)
	require.Len(t, pe.Failures, 2)
	assert.Contains(t, pe.Failures[0].Error(), "no other member forwards")
	assert.Contains(t, pe.Failures[1].Error(), "no ticket")
	assert.Equal(t, 0, c.CountCalls("install", ""))
}

func TestDryRunTouchesNothing(t *testing.T) {
	c := pair()
	p := plan(t, c, "2.0")
	j := &upgrade.MemoryJournal{}
	var kinds []upgrade.EventKind
	rep, err := (&upgrade.Executor{DryRun: true, Journal: j, OnEvent: func(e upgrade.Event) { kinds = append(kinds, e.Kind) }}).Run(t.Context(), c, p)
	require.NoError(t, err)
	assert.True(t, rep.DryRun)
	assert.Equal(t, 0, c.CountCalls("install", ""))
	assert.Equal(t, 0, c.CountCalls("failover", ""))
	recs, _ := j.Load(t.Context())
	assert.Empty(t, recs)
	for _, s := range rep.Steps {
		assert.Equal(t, upgrade.StatusPlanned, s.Status)
	}
	assert.Contains(t, kinds, upgrade.EventPlan)
	assert.Contains(t, rep.Markdown(), "DRY RUN")
}

func TestGateTimeoutCarriesLastFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		c.Member("b").NeverReturns = true
		p := plan(t, c, "2.0")
		start := time.Now()
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrGateTimeout)
		var ge *upgrade.GateError
		require.ErrorAs(t, err, &ge)
		assert.False(t, ge.Permanent, "a member that never returns may still return: a timeout, not permanent")
		assert.Contains(t, ge.Last.Error(), "unreachable")
		assert.Equal(t, 20*time.Minute, time.Since(start))
		assert.Equal(t, upgrade.StatusFailed, rep.Steps[1].Status)
		assert.Equal(t, 0, c.CountCalls("failover", ""), "stopped before failing over")
		assert.Equal(t, 0, c.Probe.LostTicks(), "a is still forwarding")
	})
}

func TestWrongVersionAfterInstallStopsBeforeFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		c.Member("b").WrongVersion = "1.0"
		start := time.Now()
		_, err := (&upgrade.Executor{}).Run(t.Context(), c, plan(t, c, "2.0"))
		require.ErrorIs(t, err, upgrade.ErrPermanent)
		var ge *upgrade.GateError
		require.ErrorAs(t, err, &ge)
		assert.True(t, ge.Permanent)
		assert.Contains(t, err.Error(), "came back on 1.0, not 2.0")
		// b is back at 305 s; the poll at 310 s sees it on 1.0: no 20-minute wait.
		assert.Equal(t, 310*time.Second, time.Since(start))
		assert.Equal(t, 0, c.CountCalls("failover", ""))
	})
}

func TestRetryOnlyIdempotentSteps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		var tries, once int
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "flaky-read", Retryable: true, Do: func(context.Context) error {
				tries++
				if tries < 3 {
					return errors.New("busy")
				}
				return nil
			}},
			&upgrade.Func{StepID: "once", Do: func(context.Context) error { once++; return errors.New("boom") }},
		}}
		var retries int
		start := time.Now()
		rep, err := (&upgrade.Executor{Retry: upgrade.Retry{Attempts: 4, Initial: time.Second, Max: 10 * time.Second},
			OnEvent: func(e upgrade.Event) {
				if e.Kind == upgrade.EventStepRetry {
					retries++
				}
			}}).Run(t.Context(), c, p)
		var se *upgrade.StepError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "once", se.Step)
		assert.Equal(t, 3, tries)
		assert.Equal(t, 1, once, "non-idempotent steps are not retried")
		assert.Equal(t, 2, retries)
		assert.Equal(t, 3*time.Second, time.Since(start), "backoff 1s then 2s")
		assert.Equal(t, 3, rep.Steps[0].Attempts)
	})
}

func TestCancelStopsAtSafePointAndSaysWhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		p := plan(t, c, "2.0")
		ctx, cancel := context.WithCancel(t.Context())
		ex := &upgrade.Executor{OnEvent: func(e upgrade.Event) {
			if e.Kind == upgrade.EventStepFinish && e.Step == "wait:b@2.0" {
				cancel()
			}
		}}
		rep, err := ex.Run(ctx, c, p)
		var se *upgrade.StoppedError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "wait:b@2.0", se.After)
		assert.Equal(t, "failover:to:b", se.Before)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, "failover:to:b", rep.StoppedBefore)
		assert.Equal(t, 0, c.CountCalls("failover", ""))
	})
}

// crashJournal accepts limit appends, then fails every later one as if the
// process died right there.
type crashJournal struct {
	inner *upgrade.MemoryJournal
	limit int
	n     int
}

var errCrash = errors.New("crash")

func (j *crashJournal) Load(ctx context.Context) ([]upgrade.Record, error) { return j.inner.Load(ctx) }
func (j *crashJournal) Append(ctx context.Context, r upgrade.Record) error {
	if j.n >= j.limit {
		return errCrash
	}
	j.n++
	return j.inner.Append(ctx, r)
}

// TestCrashResumeEveryCutPoint kills the executor between every two journal
// writes of a full run, then resumes with a new executor and a plan made
// from a fresh snapshot. Every resume must converge, never repeat a
// disruptive step, and lose no traffic.
func TestCrashResumeEveryCutPoint(t *testing.T) {
	// A full run writes: plan + (start, finish) × 6 steps = 13 records.
	const writes = 13
	for cut := 0; cut <= writes; cut++ {
		for _, replan := range []bool{false, true} {
			name := "same-plan"
			if replan {
				name = "replanned"
			}
			t.Run(name+"/cut="+string(rune('0'+cut/10))+string(rune('0'+cut%10)), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					c := pair()
					p := plan(t, c, "2.0")
					mem := &upgrade.MemoryJournal{}
					_, err := (&upgrade.Executor{Journal: &crashJournal{inner: mem, limit: cut}}).Run(t.Context(), c, p)
					if cut < writes {
						require.ErrorIs(t, err, errCrash)
						require.ErrorIs(t, err, upgrade.ErrJournal)
					} else {
						require.NoError(t, err)
					}
					p2 := p
					if replan {
						p2 = plan(t, c, "2.0")
					}
					rep, err := (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, p2)
					require.NoError(t, err)
					assert.True(t, rep.OK)
					assert.Equal(t, "2.0", c.Member("a").Version)
					assert.Equal(t, "2.0", c.Member("b").Version)
					assert.Equal(t, 1, c.CountCalls("install", "a"), "disruptive step never repeated")
					assert.Equal(t, 1, c.CountCalls("install", "b"), "disruptive step never repeated")
					assert.LessOrEqual(t, c.CountCalls("failover", ""), 1)
					assert.Equal(t, 0, c.Probe.LostTicks())
				})
			})
		}
	}
}

func TestJournalOfAnotherPlanIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		mem := &upgrade.MemoryJournal{}
		_, err := (&upgrade.Executor{Journal: &crashJournal{inner: mem, limit: 3}}).Run(t.Context(), c, plan(t, c, "2.0"))
		require.Error(t, err)
		other := upgrade.Plan{Cluster: "fw1", Target: "3.0", Converged: upgrade.ConvergedOn(versionpath.Dotted{}, "3.0"), Steps: []upgrade.Step{
			&upgrade.Func{StepID: "new-step", Do: func(context.Context) error { return nil }},
		}}
		_, err = (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, other)
		require.ErrorIs(t, err, upgrade.ErrJournalMismatch)
		assert.Contains(t, err.Error(), `target "3.0", journal has "2.0"`)
		assert.Contains(t, err.Error(), `step "new-step" is not in the journal's plan`)
	})
}

func TestFileJournalAtomicResumeAndCorruption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "run.journal")
		c := pair()
		p := plan(t, c, "2.0")
		fj := &upgrade.FileJournal{Path: path}
		ctx, cancel := context.WithCancel(t.Context())
		_, err := (&upgrade.Executor{Journal: fj, OnEvent: func(e upgrade.Event) {
			if e.Kind == upgrade.EventStepFinish && e.Step == "failover:to:b" {
				cancel()
			}
		}}).Run(ctx, c, p)
		require.ErrorIs(t, err, upgrade.ErrStopped)
		info, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
		data, _ := os.ReadFile(path)
		assert.NotContains(t, string(data), "password")
		// A new process: new journal object over the same file.
		rep, err := (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}}).Run(t.Context(), c, plan(t, c, "2.0"))
		require.NoError(t, err)
		assert.True(t, rep.OK)
		assert.Equal(t, 1, c.CountCalls("failover", ""))
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		assert.ElementsMatch(t, []string{"run.journal", "run.journal.lock"}, names, "no temp files left behind; the lock file holds no data")

		require.NoError(t, os.WriteFile(path, []byte("{\"seq\":1,\"kind\":\"plan\"}\nnot json\n"), 0o600))
		_, err = (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}}).Run(t.Context(), c, plan(t, c, "2.0"))
		require.ErrorIs(t, err, upgrade.ErrJournalCorrupt)
		assert.Contains(t, err.Error(), "line 2")
	})
}

func TestReportJSONAndMarkdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, plan(t, c, "2.0"))
		require.NoError(t, err)
		data, err := rep.JSON()
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		for _, k := range []string{"ok", "final_versions", "steps", "cluster", "target"} {
			assert.Contains(t, m, k)
		}
		step := m["steps"].([]any)[0].(map[string]any)
		for _, k := range []string{"name", "status", "started", "finished"} {
			assert.Contains(t, step, k)
		}
		md := rep.Markdown()
		assert.Contains(t, md, "| 3 | `failover:to:b` | done | +5m40s | 0s |")
		assert.True(t, strings.HasPrefix(md, "# Upgrade report: fw1 -> 2.0 (OK)"))
	})
}

func TestGateStopsAtOnceOnPermanentFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		polls := 0
		start := time.Now()
		_, err := upgrade.WaitFor(t.Context(), c, upgrade.Gate{Name: "g", Timing: gate, Check: func(upgrade.Snapshot) error {
			polls++
			if polls < 3 {
				return errors.New("not yet")
			}
			return fmt.Errorf("member came back on the old version: %w", upgrade.ErrPermanent)
		}}, nil)
		var ge *upgrade.GateError
		require.ErrorAs(t, err, &ge)
		assert.True(t, ge.Permanent)
		assert.ErrorIs(t, err, upgrade.ErrPermanent)
		assert.NotErrorIs(t, err, upgrade.ErrGateTimeout, "a permanent failure is not a timeout")
		assert.Equal(t, 3, ge.Polls)
		assert.Equal(t, 20*time.Second, time.Since(start), "third poll at 20 s, not the 20 min deadline")
	})
}

func TestRollingBackupFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		snap, _ := c.Observe(t.Context())
		p, err := upgrade.Rolling{Cluster: c, GateTiming: gate, Grammar: versionpath.Dotted{}, Backup: true}.Plan(snap, "2.0")
		require.NoError(t, err)
		assert.Equal(t, []string{"backup:b", "backup:a", "install:b@2.0"}, p.StepIDs()[:3])
		c.Member("a").BackupFails = true
		_, err = (&upgrade.Executor{Retry: upgrade.Retry{Attempts: 2, Initial: time.Second}}).Run(t.Context(), c, p)
		require.ErrorContains(t, err, "member a backup")
		assert.Equal(t, 1, c.CountCalls("backup", "b"))
		assert.Zero(t, c.CountCalls("install", ""), "no backup, no upgrade")
	})
}
