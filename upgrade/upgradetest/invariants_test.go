package upgradetest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

func rolling(c upgrade.Cluster) upgrade.Rolling {
	return upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}, GateTiming: timing}
}

func checker() upgradetest.Checker {
	return upgradetest.Checker{Target: "2.0", Grammar: versionpath.Dotted{}, FailoverToTarget: true}
}

func TestCheckRunAcceptsAGuardedUpgrade(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		rep, err := (&upgrade.Executor{}).Upgrade(t.Context(), c, rolling(c), "2.0")
		require.NoError(t, err)
		assert.NoError(t, upgradetest.CheckRun(c, rep, err, "2.0"))
		assert.NoError(t, checker().Check(c, upgradetest.Outcome{Report: rep, Err: err}))
	})
}

// A hand-written step that installs the active member without declaring it
// goes around the guard: the checker sees the install reach the only
// forwarding member and the ticks it cost.
func TestCheckerCatchesAnUnguardedDisruption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		p := upgrade.Plan{Cluster: "fw", Steps: []upgrade.Step{&upgrade.Func{StepID: "sneaky", Do: func(ctx context.Context) error {
			return c.Member("a").Install(ctx, "2.0")
		}}}}
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUndeclaredDisruption, "the executor stops it afterwards")
		<-time.After(time.Minute)
		verr := upgradetest.CheckRun(c, rep, err, "2.0")
		require.Error(t, verr)
		assert.Contains(t, verr.Error(), "install a@2.0")
		assert.Contains(t, verr.Error(), "while no other member forwarded")
		assert.Contains(t, verr.Error(), "probe ticks lost without declared downtime")
	})
}

func TestCheckerCatchesARepeatedInstallAndAFalseSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		c.BeginRun()
		require.NoError(t, c.Member("b").Install(t.Context(), "2.0"))
		c.EndRun()
		<-time.After(2 * time.Minute)
		c.BeginRun()
		require.NoError(t, c.Member("b").Install(t.Context(), "2.0"))
		c.EndRun()
		ok := &upgrade.Report{OK: true, Steps: []upgrade.StepReport{{Name: "install:c@2.0", Status: upgrade.StatusDone}}}
		verr := checker().Check(c, upgradetest.Outcome{Report: &upgrade.Report{Error: "x"}, Err: upgrade.ErrUnsafe}, upgradetest.Outcome{Report: ok})
		require.Error(t, verr)
		for _, want := range []string{
			"install b@2.0 issued 2 times",
			"run 2 reports step install:c@2.0 done but sent no install to c",
			"run 2 reports OK but at its end member a runs \"1.0\"",
			"run 2 reports OK but at its end member b is not healthy",
		} {
			assert.Contains(t, verr.Error(), want)
		}
		assert.ErrorContains(t, checker().Check(c, upgradetest.Outcome{}), "2 run(s) marked")
	})
}

// An install that failed without effect may be sent again.
func TestCheckerAllowsRetryingAFailedInstall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		c.Member("b").InstallFails = true
		require.Error(t, c.Member("b").Install(t.Context(), "2.0"))
		c.Member("b").InstallFails = false
		require.NoError(t, c.Member("b").Install(t.Context(), "2.0"))
		assert.NoError(t, upgradetest.CheckRun(c, &upgrade.Report{Error: "x"}, upgrade.ErrGateTimeout, "2.0"))
	})
}

// A step that takes the active member down must stop its run at once; the
// checker knows the fault from the record (Inject) and excuses the lost
// ticks, but not a run that went on.
func TestCheckerStoppedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		p, err := rolling(c).Plan(upgrade.Snapshot{Cluster: "fw", Members: []upgrade.MemberState{
			{ID: "a", Role: upgrade.RoleActive, Version: "1.0", Healthy: true},
			{ID: "b", Role: upgrade.RoleStandby, Version: "1.0", Healthy: true},
			{ID: "c", Role: upgrade.RoleStandby, Version: "1.0", Healthy: true},
		}}, "2.0")
		require.NoError(t, err)
		rogue := &upgrade.Func{StepID: "rogue", Do: func(context.Context) error { c.Inject(upgradetest.FaultDown, "", 0); return nil }}
		p.Steps = append([]upgrade.Step{rogue}, p.Steps...)
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		require.ErrorIs(t, err, upgrade.ErrUndeclaredDisruption)
		<-time.After(time.Minute)
		assert.NoError(t, checker().Check(c, upgradetest.Outcome{Report: rep, Err: err}))

		// Had the executor gone on and installed b, that would be a violation.
		require.NoError(t, c.Member("b").Install(t.Context(), "2.0"))
		verr := checker().Check(c, upgradetest.Outcome{Report: rep, Err: err})
		require.Error(t, verr)
		assert.Contains(t, verr.Error(), "yet run 1 went on: install b@2.0")
		verr = checker().Check(c, upgradetest.Outcome{Report: rep, Err: upgrade.ErrGateTimeout})
		assert.Contains(t, verr.Error(), "want upgrade.ErrUndeclaredDisruption")
	})
}

func TestCheckerFailoverToTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		require.NoError(t, c.Failover(t.Context(), "b"))
		verr := checker().Check(c, upgradetest.Outcome{Report: &upgrade.Report{Error: "x"}, Err: upgrade.ErrUnsafe})
		assert.ErrorContains(t, verr, `failover to b`)
		c2 := trio()
		require.NoError(t, c2.Failover(t.Context(), "b"))
		assert.NoError(t, upgradetest.CheckRun(c2, &upgrade.Report{Error: "x"}, upgrade.ErrUnsafe, "2.0"), "only with FailoverToTarget")
	})
}

func TestCheckTyped(t *testing.T) {
	plain := errors.New("device said no")
	step := &upgrade.StepError{Step: "install:b@2.0", Attempts: 1, Err: fmt.Errorf("member b: %w", upgradetest.ErrInstallFailed)}
	for _, tc := range []struct {
		name  string
		err   error
		typed bool
	}{
		{"nil", nil, true},
		{"sentinel", upgrade.ErrUnsafe, true},
		{"typed error", &upgrade.GateError{Gate: "g", Last: plain}, true},
		{"permanent gate", &upgrade.GateError{Gate: "g", Permanent: true, Last: fmt.Errorf("%w: back on 1.0", upgrade.ErrPermanent)}, true},
		{"step error wrapping a fake sentinel", step, true},
		{"step error wrapping a plain error", &upgrade.StepError{Step: "x", Err: plain}, false},
		{"plain", plain, false},
		{"bare context error", fmt.Errorf("observe: %w", context.Canceled), false},
		{"join of typed", errors.Join(step, &upgrade.JournalError{Op: "append", Err: plain}), true},
		{"join with an untyped entry", errors.Join(step, plain), false},
		{"several %w, one typed", fmt.Errorf("%w: %w", upgrade.ErrNotApproved, plain), true},
		{"multierror of typed", &multierror.Error{Errors: []error{fmt.Errorf("cluster a: %w", step), upgrade.ErrRolloutHalted}}, true},
		{"multierror with an untyped entry", &multierror.Error{Errors: []error{upgrade.ErrRolloutHalted, fmt.Errorf("cluster b: %v", step)}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := upgradetest.CheckTyped(tc.err)
			if tc.typed {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}
