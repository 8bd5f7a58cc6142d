package checkpoint_test

// Every fault knob of the simulator (and of the management fake) ends in an
// explained stop, a typed error naming the member and the cause, with the
// cluster still forwarding; a slow device or an expiring management
// session does not stop the run.

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/checkpoint/checkpointtest"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// faultTiming meets a fault that only a deadline reveals sooner.
var faultTiming = upgrade.Timing{Interval: 30 * time.Millisecond, MinHealthy: 60 * time.Millisecond, Deadline: 3 * time.Second}

// memberErrorFor asserts err holds a *checkpoint.MemberError or
// *checkpoint.RuleError naming member.
func namesMember(t *testing.T, err error, member string) {
	t.Helper()
	for _, me := range errorsOf[*checkpoint.MemberError](err) {
		if me.Member == member {
			return
		}
	}
	for _, re := range errorsOf[*checkpoint.RuleError](err) {
		if re.Member == member {
			return
		}
	}
	t.Errorf("no error names member %s: %v", member, err)
}

func TestE2EFaultsStopExplained(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ho      harnessOpts
		setup   func(h *harness)
		member  string
		targets []error
		anyOf   []error // at least one of them (the fault is met by whichever check sees it first)
		lossOK  bool    // the fault itself takes the cluster down for a while
	}{
		{name: "import never finishes", ho: harnessOpts{sim: checkpointtest.Options{Faults: checkpointtest.Faults{ImportNeverFinishes: "gw-b"}}},
			member: "gw-b", targets: []error{checkpoint.ErrImportTimeout, upgrade.ErrGateTimeout}},
		{name: "stays READY", ho: harnessOpts{sim: checkpointtest.Options{Faults: checkpointtest.Faults{StaysReady: "gw-b"}}},
			member: "gw-b", targets: []error{checkpoint.ErrStillReady, upgrade.ErrGateTimeout}},
		{name: "MVC read-back stays off", ho: harnessOpts{sim: checkpointtest.Options{Faults: checkpointtest.Faults{MVCStaysOff: "gw-b"}}},
			member: "gw-b", targets: []error{checkpoint.ErrMVCReadBack}},
		{name: "VS not loaded after the reboot", ho: harnessOpts{vsx: true, sim: checkpointtest.Options{Faults: checkpointtest.Faults{VSNotLoaded: map[string]int{"gw-b": 2}}}},
			member: "gw-b", targets: []error{checkpoint.ErrVSNotReady, upgrade.ErrGateTimeout}},
		{name: "peer lost mid-upgrade", ho: harnessOpts{sim: checkpointtest.Options{Faults: checkpointtest.Faults{PeerLostMidUpgrade: "gw-b"}}},
			anyOf: []error{checkpoint.ErrPeerNotForwarding, upgrade.ErrUndeclaredDisruption}, lossOK: true},
		{name: "back on old release", ho: harnessOpts{sim: checkpointtest.Options{Faults: checkpointtest.Faults{BackOnOld: "gw-b"}}},
			member: "gw-b", targets: []error{checkpoint.ErrInstallNotTaken, upgrade.ErrPermanent}},
		{name: "reboot never returns", ho: harnessOpts{sim: checkpointtest.Options{Faults: checkpointtest.Faults{NeverReturns: "gw-b"}}},
			member: "gw-b", targets: []error{checkpoint.ErrUnreachable, upgrade.ErrGateTimeout}},
		{name: "cphaconf fails", ho: harnessOpts{sim: checkpointtest.Options{Faults: checkpointtest.Faults{CommandError: map[string]string{"cphaconf": "cphaconf: failed to change the MVC state"}}}},
			member: "gw-b", targets: []error{checkpoint.ErrCommandFailed}},
		{name: "installer refused (configuration lock)", ho: harnessOpts{sim: checkpointtest.Options{Faults: checkpointtest.Faults{CommandError: map[string]string{
			"installer": "CLINFR0519  Configuration lock present. Can not execute this command."}}}},
			member: "gw-b", targets: []error{driver.ErrCommand}},
		{name: "SCP refused", ho: harnessOpts{sim: checkpointtest.Options{Faults: checkpointtest.Faults{CommandError: map[string]string{"scp": "scp: /var/log/upload: No space left on device"}}}},
			member: "gw-b", targets: []error{driver.ErrUpload}},
		{name: "policy fails on the upgraded member", setup: func(h *harness) { h.mgmt.FailPolicyOn("gw-b", true) },
			member: "gw-b", targets: []error{checkpoint.ErrPolicyFailed}},
		{name: "final policy fails", setup: func(h *harness) {
			h.mgmt.SetPolicyResult(func(target, member string) string {
				if member == "gw-a" && h.sim.Member("gw-a").Version() == "R82" {
					return "Policy verification failed: rule 7"
				}
				return h.sim.PolicyResult(member)
			})
		}, member: "gw-a", targets: []error{checkpoint.ErrPolicyFailed}},
		{name: "policy task never ends", setup: func(h *harness) { h.mgmt.HangTasks("install-policy", true) },
			member: "", targets: []error{checkpoint.ErrPolicyFailed, checkpoint.ErrTaskTimeout}},
	}
	names := make([]string, len(tests))
	for i, tt := range tests {
		names[i] = tt.name
	}
	runAll(t, names, func(t *testing.T, i int) {
		tt := tests[i]
		h := startHarness(t, tt.ho)
		h.timing = faultTiming
		if tt.setup != nil {
			tt.setup(h)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		rep, _, err := h.run(ctx, &upgrade.MemoryJournal{}, "")
		require.Error(t, err)
		t.Logf("stopped: %v", err)
		require.NotNil(t, rep)
		assert.False(t, rep.OK)
		for _, target := range tt.targets {
			assert.ErrorIs(t, err, target)
		}
		if len(tt.anyOf) > 0 {
			found := false
			for _, target := range tt.anyOf {
				found = found || errors.Is(err, target)
			}
			assert.True(t, found, "want one of %v in %v", tt.anyOf, err)
		}
		if tt.member != "" {
			namesMember(t, err, tt.member)
		}
		if !tt.lossOK {
			assert.Zero(t, h.sim.Probe().LostTicks(), "lost ticks")
		}
		// Wait for the fault's own effects to settle (a reboot, a takeover
		// after a lost peer), then the cluster must forward.
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		require.NoError(t, h.sim.Wait(wctx, func() bool { return h.sim.Active() != nil }))
		h.expectForwarding(t)
		for _, e := range h.cfg.Transcript.Entries() {
			require.NotContains(t, e.Command+e.Output+e.Error, h.cfg.Password)
		}
	})
}

// TestE2ESlowDeviceAndExpiringSessions: slow answers and a management
// session that expires during the run do not stop it.
func TestE2ESlowDeviceAndExpiringSessions(t *testing.T) {
	t.Parallel()
	h := startHarness(t, harnessOpts{sim: checkpointtest.Options{Faults: checkpointtest.Faults{Slow: map[string]time.Duration{"*": 3 * time.Millisecond}}}})
	// Every session ends right after the first policy installation: the
	// next call is refused and the client logs in again by itself.
	var once sync.Once
	h.mgmt.SetOnPolicyInstalled(func(_, member string, _, _ bool) {
		h.sim.PolicyInstalled(member)
		once.Do(h.mgmt.ExpireSessions)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	rep, _, err := h.run(ctx, &upgrade.MemoryJournal{}, "")
	require.NoError(t, err)
	require.True(t, rep.OK)
	h.expectConverged(t, "gw-b")
	assert.GreaterOrEqual(t, h.mgmt.Logins(), 2, "the client logged in again after the expiry")
}
