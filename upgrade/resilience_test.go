package upgrade_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// The guard is asked again before a retry: a step that would be safe at
// its first attempt is refused at the second when the other member died in
// between.
func TestGuardCheckedBeforeEveryRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		a, b := c.Member("a"), c.Member("b")
		a.NeverReturns = true
		tries := 0
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "reboot-b", Members: []string{"b"}, Retryable: true, Do: func(ctx context.Context) error {
				tries++
				if tries == 1 {
					_ = a.Install(ctx, "dead") // a goes away; b takes over after 3 s
					return errors.New("transient")
				}
				return b.Install(ctx, "2.0")
			}},
		}}
		_, err := (&upgrade.Executor{Retry: upgrade.Retry{Attempts: 2, Initial: 10 * time.Second}}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.Equal(t, 1, tries)
		assert.Zero(t, c.CountCalls("install", "b"))
	})
}

// A slow approval never acts on a stale verdict: the guard runs after it.
func TestGuardRunsAfterApproval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		a, b := c.Member("a"), c.Member("b")
		a.NeverReturns = true
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "reboot-b", Members: []string{"b"}, Do: func(ctx context.Context) error { return b.Install(ctx, "2.0") }},
		}}
		_, err := (&upgrade.Executor{Approve: func(ctx context.Context, _ upgrade.Step, _ upgrade.Snapshot) error {
			_ = a.Install(ctx, "dead") // a dies while the operator thinks
			<-time.After(10 * time.Minute)
			return nil
		}}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.Zero(t, c.CountCalls("install", "b"))
	})
}

// Declared downtime bypasses only the availability check: approval and the
// step's own precondition still apply.
func TestDowntimeStepStillApprovedAndChecked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		ran := false
		step := &upgrade.Func{StepID: "all-down", Members: []string{"a", "b"}, WholeClusterDown: true,
			Do: func(context.Context) error { ran = true; return nil }}
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{step}}
		_, err := (&upgrade.Executor{Approve: func(context.Context, upgrade.Step, upgrade.Snapshot) error {
			return errors.New("change board said no")
		}}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrNotApproved)
		step.Safe = func(upgrade.Snapshot) error { return errors.New("precondition fails") }
		_, err = (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.False(t, ran)
	})
}

// A journal whose step now disrupts other members is another plan.
func TestJournalRefusesChangedDisruptedMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		mem := &upgrade.MemoryJournal{}
		mk := func(m string) upgrade.Plan {
			return upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
				&upgrade.Func{StepID: "reboot", Members: []string{m}, Do: func(context.Context) error { return nil }},
				&upgrade.Func{StepID: "after", Do: func(context.Context) error { return errors.New("stop") }},
			}}
		}
		_, err := (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, mk("b"))
		require.Error(t, err)
		_, err = (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, mk("a"))
		require.ErrorIs(t, err, upgrade.ErrJournalMismatch)
		assert.Contains(t, err.Error(), `step "reboot" disrupts [a], the journal's plan [b]`)
	})
}

// Cancelling during a device action lets it finish (it has its own
// timeouts), records it, and stops before the next step; the resume does
// not run it again.
func TestCancelLetsTheRunningActionFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(5*time.Second, cancel)
		mem := &upgrade.MemoryJournal{}
		runs := 0
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "push-image-b", Members: []string{"b"}, Do: func(ctx context.Context) error {
				runs++
				select {
				case <-time.After(10 * time.Second): // a 10 s upload
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}},
			&upgrade.Func{StepID: "next", Do: func(context.Context) error { return nil }},
		}}
		rep, err := (&upgrade.Executor{Journal: mem}).Run(ctx, c, p)
		var se *upgrade.StoppedError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "push-image-b", se.After)
		assert.Equal(t, "next", se.Before)
		assert.Equal(t, upgrade.StatusDone, rep.Steps[0].Status)
		rep, err = (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, p)
		require.NoError(t, err)
		assert.Equal(t, 1, runs)
		assert.Equal(t, upgrade.StatusSkipped, rep.Steps[0].Status)
	})
}

// Cancelling while the guard observes is a stop, not an unsafe verdict.
func TestCancelDuringGuardIsAStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "slow-read", Do: func(context.Context) error {
				c.Member("a").StatusDelay = time.Minute
				return nil
			}},
			&upgrade.Func{StepID: "reboot-b", Members: []string{"b"}, Do: func(context.Context) error { return nil }},
		}}
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(30*time.Second, cancel)
		_, err := (&upgrade.Executor{}).Run(ctx, c, p)
		require.ErrorIs(t, err, upgrade.ErrStopped)
		assert.NotErrorIs(t, err, upgrade.ErrUnsafe)
	})
}

// A gate's deadline also cuts off a status read that never answers.
func TestGateDeadlineBoundsAHangingRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		c.Member("b").StatusDelay = time.Hour
		start := time.Now()
		_, err := upgrade.WaitFor(t.Context(), c, upgrade.Gate{Name: "g", Timing: upgrade.Timing{Interval: time.Second, Deadline: time.Minute},
			Check: func(upgrade.Snapshot) error { return nil }}, nil)
		require.ErrorIs(t, err, upgrade.ErrGateTimeout)
		assert.Equal(t, time.Minute, time.Since(start), "the wait never outlasts its deadline")
	})
}

// A step that failed (not crashed) runs again on resume once the cause is
// fixed, under the guard.
func TestFailedInstallRunsAgainOnResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		c.Member("b").InstallFails = true
		mem := &upgrade.MemoryJournal{}
		_, err := (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, plan(t, c, "2.0"))
		require.ErrorIs(t, err, upgradetest.ErrInstallFailed)
		c.Member("b").InstallFails = false
		rep, err := (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, plan(t, c, "2.0"))
		require.NoError(t, err, rep.Markdown())
		assert.Equal(t, 1, c.CountCalls("install", "b"))
		assert.Equal(t, 1, c.CountCalls("install-failed", "b"))
		assert.Equal(t, 0, c.Probe.LostTicks())
	})
}

// An interrupted step that can neither be verified nor safely repeated
// stops the resume, whether or not it disrupts members.
func TestInterruptedNonIdempotentStepIsNotRepeated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		runs := 0
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "send-config", Do: func(context.Context) error { runs++; return nil }},
		}}
		mem := &upgrade.MemoryJournal{}
		_, err := (&upgrade.Executor{Journal: &crashJournal{inner: mem, limit: 2}}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, errCrash) // crashed after "start", before "finish"
		_, err = (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnverifiable)
		assert.Equal(t, 1, runs)
	})
}

func TestCorruptJournalRecordsAreRefused(t *testing.T) {
	plan := `{"seq":1,"time":"2026-01-01T00:00:00Z","kind":"plan","cluster":"fw","steps":["a"]}` + "\n"
	for name, extra := range map[string]string{
		"unknown kind":      `{"seq":2,"time":"2026-01-01T00:00:00Z","kind":"strat","step":"a"}`,
		"step not in plan":  `{"seq":2,"time":"2026-01-01T00:00:00Z","kind":"start","step":"zz"}`,
		"second plan":       `{"seq":2,"time":"2026-01-01T00:00:00Z","kind":"plan","steps":["a"]}`,
		"sequence gap":      `{"seq":3,"time":"2026-01-01T00:00:00Z","kind":"start","step":"a"}`,
		"unknown field":     `{"seq":2,"time":"2026-01-01T00:00:00Z","kind":"start","step":"a","x":1}`,
		"truncated json":    `{"seq":2,"time":"2026-01-01T00:00:00Z","kind":"sta`,
		"bad disrupts list": "",
	} {
		t.Run(name, func(t *testing.T) {
			data := plan + extra + "\n"
			if name == "bad disrupts list" {
				data = `{"seq":1,"time":"2026-01-01T00:00:00Z","kind":"plan","steps":["a","b"],"disrupts":[["x"]]}` + "\n"
			}
			_, err := upgrade.DecodeRecords([]byte(data))
			require.ErrorIs(t, err, upgrade.ErrJournalCorrupt)
		})
	}
}

// With batches, every member keeps its own install step, so a crash in the
// middle of a batch and a re-plan that regroups the rest still resume.
func TestBatchResumeAfterCrashMidBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := upgradetest.NewCluster("fw1", time.Second,
			&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, RebootDuration: time.Minute},
			&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute},
			&upgradetest.Member{Name: "c", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: 10 * time.Minute},
			&upgradetest.Member{Name: "d", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute},
		)
		r := upgrade.Rolling{Cluster: c, GateTiming: gate, Grammar: versionpath.Dotted{}, BatchSize: 2}
		snap, _ := c.Observe(t.Context())
		p, err := r.Plan(snap, "2.0")
		require.NoError(t, err)
		assert.Equal(t, []string{"install:b@2.0", "install:c@2.0", "wait:b@2.0", "wait:c@2.0", "install:d@2.0", "wait:d@2.0"}, p.StepIDs()[:6])
		mem := &upgrade.MemoryJournal{}
		ctx, cancel := context.WithCancel(t.Context())
		_, err = (&upgrade.Executor{Journal: mem, OnEvent: func(e upgrade.Event) {
			if e.Kind == upgrade.EventStepFinish && e.Step == "wait:b@2.0" {
				cancel() // c still reboots
			}
		}}).Run(ctx, c, p)
		require.ErrorIs(t, err, upgrade.ErrStopped)
		snap, _ = c.Observe(t.Context())
		p2, err := r.Plan(snap, "2.0")
		require.NoError(t, err)
		rep, err := (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, p2)
		require.NoError(t, err, rep.Markdown())
		for _, m := range []string{"a", "b", "c", "d"} {
			assert.Equal(t, 1, c.CountCalls("install", m), m)
		}
		assert.Equal(t, 0, c.Probe.LostTicks())
	})
}

// Batched installs run together: two standbys reboot at once.
func TestBatchInstallsRunTogether(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := upgradetest.NewCluster("fw1", time.Second,
			&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, RebootDuration: time.Minute},
			&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute},
			&upgradetest.Member{Name: "c", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute},
		)
		snap, _ := c.Observe(t.Context())
		p, err := upgrade.Rolling{Cluster: c, GateTiming: gate, Grammar: versionpath.Dotted{}, BatchSize: 2}.Plan(snap, "2.0")
		require.NoError(t, err)
		_, err = (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.NoError(t, err)
		var at []time.Time
		for _, k := range c.Calls() {
			if k.Op == "install" && (k.Member == "b" || k.Member == "c") {
				at = append(at, k.At)
			}
		}
		require.Len(t, at, 2)
		assert.Equal(t, at[0], at[1], "same instant")
	})
}

func TestMarkdownKeepsMultiLineErrorsInTheirRow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "s", Do: func(context.Context) error {
				return errors.Join(errors.New("member a: x"), errors.New("member b: y"))
			}},
		}}
		rep, _ := (&upgrade.Executor{}).Run(t.Context(), c, p)
		for _, l := range strings.Split(rep.Markdown(), "\n") {
			assert.False(t, strings.HasPrefix(l, "member b"), "row split: %q", l)
		}
	})
}

// A crash during the upgraded member's health gate, then a re-plan: the
// re-plan waits for that member again before failing over to it.
func TestReplanAfterCrashInGateWaitsBeforeFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		r := upgrade.Rolling{Cluster: c, GateTiming: gate, Grammar: versionpath.Dotted{}}
		mem := &upgrade.MemoryJournal{}
		ctx, cancel := context.WithCancel(t.Context())
		_, err := (&upgrade.Executor{Journal: mem, OnEvent: func(e upgrade.Event) {
			if e.Kind == upgrade.EventGatePoll && e.Step == "wait:b@2.0" && e.Err == "" {
				cancel() // first healthy poll; MinHealthy not served yet
			}
		}}).Run(ctx, c, plan(t, c, "2.0"))
		require.ErrorIs(t, err, upgrade.ErrStopped)
		snap, _ := c.Observe(t.Context())
		p2, err := r.Plan(snap, "2.0")
		require.NoError(t, err)
		assert.Equal(t, "wait:b@2.0", p2.StepIDs()[0])
		t0 := time.Now()
		var failoverAt time.Duration
		_, err = (&upgrade.Executor{Journal: mem, OnEvent: func(e upgrade.Event) {
			if e.Kind == upgrade.EventStepStart && e.Step == "failover:to:b" {
				failoverAt = time.Since(t0)
			}
		}}).Run(t.Context(), c, p2)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, failoverAt, gate.MinHealthy)
	})
}

// Secrets given to Redact never reach events, the journal or the report,
// even when a vendor error quotes them.
func TestRedactKeepsSecretsOutOfEventsJournalAndReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const secret = "S3cret-pw!"
		c := pair()
		mem := &upgrade.MemoryJournal{}
		var events []upgrade.Event
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "login", Do: func(context.Context) error {
				return errors.New("device said: bad password " + secret)
			}},
		}}
		rep, err := (&upgrade.Executor{Journal: mem, Redact: []string{secret}, OnEvent: func(e upgrade.Event) { events = append(events, e) }}).Run(t.Context(), c, p)
		require.Error(t, err)
		recs, _ := mem.Load(t.Context())
		for _, v := range []any{recs, events, rep} {
			data, jerr := json.Marshal(v)
			require.NoError(t, jerr)
			assert.NotContains(t, string(data), secret)
			assert.Contains(t, string(data), "********")
		}
		assert.NotContains(t, rep.Markdown(), secret)
	})
}

// pairCluster is a fake whose topology forbids disrupting a and b together
// (as an ActiveMesh pair inside a larger fleet).
type pairCluster struct{ *upgradetest.Cluster }

func (pairCluster) CheckDisruption(_ upgrade.Snapshot, members []string) error {
	if slices.Contains(members, "b") && slices.Contains(members, "c") {
		return errors.New("b and c are one HA pair")
	}
	return nil
}

func TestDisruptionCheckerRefusesEvenHandWrittenPlansAndDryRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := upgradetest.NewCluster("fw1", time.Second,
			&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive},
			&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleActive},
			&upgradetest.Member{Name: "c", Version: "1.0", Role: upgrade.RoleActive},
		)
		c := pairCluster{fc}
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "both", Members: []string{"b", "c"}, Do: func(context.Context) error { return nil }},
		}}
		rep, err := (&upgrade.Executor{DryRun: true}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.Equal(t, upgrade.StatusRefused, rep.Steps[0].Status)
		_, err = (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.Contains(t, err.Error(), "one HA pair")
		p.Steps[0].(*upgrade.Func).Members = []string{"b"}
		_, err = (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.NoError(t, err)
	})
}

func TestBackupReferenceInReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		snap, _ := c.Observe(t.Context())
		p, err := upgrade.Rolling{Cluster: c, GateTiming: gate, Grammar: versionpath.Dotted{}, Backup: true}.Plan(snap, "2.0")
		require.NoError(t, err)
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.NoError(t, err)
		assert.Equal(t, "backup b-1.bak", rep.Steps[0].Note)
	})
}

// In a batch, b's install fails and c's succeeds: the re-plan still fails
// over to b (the same target as the original plan), so the journal resumes.
func TestBatchPartialFailureResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := upgradetest.NewCluster("fw1", time.Second,
			&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, RebootDuration: time.Minute},
			&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute, InstallFails: true},
			&upgradetest.Member{Name: "c", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute},
		)
		r := upgrade.Rolling{Cluster: c, GateTiming: gate, Grammar: versionpath.Dotted{}, BatchSize: 2}
		mem := &upgrade.MemoryJournal{}
		snap, _ := c.Observe(t.Context())
		p, err := r.Plan(snap, "2.0")
		require.NoError(t, err)
		_, err = (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgradetest.ErrInstallFailed)
		<-time.After(2 * time.Minute) // c comes back on 2.0
		c.Member("b").InstallFails = false
		snap, _ = c.Observe(t.Context())
		p2, err := r.Plan(snap, "2.0")
		require.NoError(t, err)
		assert.Contains(t, p2.StepIDs(), "failover:to:b")
		rep, err := (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, p2)
		require.NoError(t, err, rep.Markdown())
		assert.Equal(t, 0, c.Probe.LostTicks())
	})
}

// A journal that says everything is done, replayed against a cluster that
// is not on the target (e.g. restored from a snapshot): not "OK".
func TestConvergedCatchesAJournalTheClusterContradicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		mem := &upgrade.MemoryJournal{}
		p := plan(t, c, "2.0")
		_, err := (&upgrade.Executor{Journal: mem}).Run(t.Context(), c, p)
		require.NoError(t, err)
		restored := pair() // same names, back on 1.0
		rep, err := (&upgrade.Executor{Journal: mem}).Run(t.Context(), restored, p)
		require.ErrorIs(t, err, upgrade.ErrNotConverged)
		assert.False(t, rep.OK)
		assert.Contains(t, err.Error(), `member a runs "1.0", not 2.0`)
	})
}

func TestRedactAlsoOnSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{noteStep{"token S3cret"}}}
		rep, err := (&upgrade.Executor{Redact: []string{"S3cret"}}).Run(t.Context(), c, p)
		require.NoError(t, err)
		assert.Equal(t, "token ********", rep.Steps[0].Note)
		assert.NotContains(t, rep.Markdown(), "S3cret")
	})
}

type noteStep struct{ note string }

func (n noteStep) ID() string                { return "noted" }
func (n noteStep) Description() string       { return "a step with a note" }
func (n noteStep) Disrupts() []string        { return nil }
func (n noteStep) Run(context.Context) error { return nil }
func (n noteStep) Note() string              { return n.note }

// The user's own pre-checks (a change window) also guard a resumed run.
func TestUserPreChecksRunOnResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		mem := &upgrade.MemoryJournal{}
		ctx, cancel := context.WithCancel(t.Context())
		_, err := (&upgrade.Executor{Journal: mem, OnEvent: func(e upgrade.Event) {
			if e.Kind == upgrade.EventStepFinish && e.Step == "install:b@2.0" {
				cancel()
			}
		}}).Run(ctx, c, plan(t, c, "2.0"))
		require.ErrorIs(t, err, upgrade.ErrStopped)
		closed := upgrade.PreCheck{Name: "change window", Check: func(context.Context, upgrade.Snapshot) error {
			return errors.New("window closed")
		}}
		_, err = (&upgrade.Executor{Journal: mem, PreChecks: []upgrade.PreCheck{closed}}).Run(t.Context(), c, plan(t, c, "2.0"))
		require.ErrorIs(t, err, upgrade.ErrPreCheck)
		assert.Contains(t, err.Error(), "window closed")
		assert.Zero(t, c.CountCalls("failover", ""))
	})
}

// Disrupting every member is refused by the dry run (it does not depend on
// state), and the real run marks every step of the batch refused.
func TestWholeClusterBatchRefusedInDryRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "x:a", Batch: "x", Members: []string{"a"}, Do: func(context.Context) error { return nil }},
			&upgrade.Func{StepID: "x:b", Batch: "x", Members: []string{"b"}, Do: func(context.Context) error { return nil }},
		}}
		rep, err := (&upgrade.Executor{DryRun: true}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.Contains(t, err.Error(), "every member")
		assert.Equal(t, upgrade.StatusRefused, rep.Steps[1].Status)
		rep, err = (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		assert.Equal(t, upgrade.StatusRefused, rep.Steps[0].Status)
		assert.Equal(t, upgrade.StatusRefused, rep.Steps[1].Status)
	})
}

var errPrecondition = errors.New("vendor precondition")

// A refusal by a step's safety precondition keeps the vendor's error type.
func TestUnsafeErrorKeepsTheCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := pair()
		p := upgrade.Plan{Cluster: "fw1", Steps: []upgrade.Step{
			&upgrade.Func{StepID: "hop", Safe: func(upgrade.Snapshot) error { return fmt.Errorf("hop skips a minor: %w", errPrecondition) },
				Do: func(context.Context) error { return nil }},
		}}
		_, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUnsafe)
		require.ErrorIs(t, err, errPrecondition)
	})
}
