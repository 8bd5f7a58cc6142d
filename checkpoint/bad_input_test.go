package checkpoint_test

// Bad input, end to end over SSH and TLS: each case is refused with a
// typed error naming the member (or the management server) and the rule,
// and nothing changes on any device or on management.

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/checkpoint/checkpointtest"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// refuse runs one process and returns its error.
func (h *harness) refuse(t *testing.T) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	rep, _, err := h.run(ctx, &upgrade.MemoryJournal{}, "")
	require.Error(t, err)
	if rep != nil {
		assert.False(t, rep.OK)
	}
	return err
}

func TestBadInputTakeBelowMinimum(t *testing.T) {
	h := startHarness(t, harnessOpts{sim: checkpointtest.Options{Version: "R81.20", Take: 80}})
	err := h.refuse(t)
	for _, m := range []string{"gw-a", "gw-b"} {
		expectRule(t, err, m, checkpoint.RuleMinimumTake, checkpoint.ErrTakeTooLow, versionpath.ErrTakeTooLow, upgrade.ErrPreCheck)
	}
	assert.Contains(t, err.Error(), "have 80, want 92")
	h.expectUntouched(t)
}

func TestBadInputTakeMinimumOverride(t *testing.T) {
	// The user's own table replaces the built-in one: take 80 is enough.
	h := startHarness(t, harnessOpts{sim: checkpointtest.Options{Version: "R81.20", Take: 80},
		cfg: func(c *checkpoint.Config) {
			c.TakeMinimums = []versionpath.TakeMinimum{{From: "R81.20", MinTake: 70, To: "R82"}}
		}})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	rep, _, err := h.run(ctx, &upgrade.MemoryJournal{}, "")
	require.NoError(t, err)
	require.True(t, rep.OK)
}

func TestBadInputScalablePlatformsWithoutIntermediate(t *testing.T) {
	h := startHarness(t, harnessOpts{sim: checkpointtest.Options{Version: "R80.20SP"},
		mgmt: func(o *checkpointtest.MgmtOptions) { o.Clusters[0].Version = "R80.20" }})
	err := h.refuse(t)
	for _, m := range []string{"gw-a", "gw-b"} {
		expectRule(t, err, m, checkpoint.RuleMultiStage, checkpoint.ErrMultiStage, versionpath.ErrStageSkipped, upgrade.ErrInvalid)
	}
	assert.Contains(t, err.Error(), "only via R81.20")
	h.expectUntouched(t)
}

func TestBadInputTargetBelowR8040(t *testing.T) {
	h := startHarness(t, harnessOpts{sim: checkpointtest.Options{Version: "R80.20"}, target: "R80.30"})
	err := h.refuse(t)
	expectRule(t, err, "", checkpoint.RuleMVCRelease, checkpoint.ErrMVCUnsupported, upgrade.ErrInvalid)
	assert.Contains(t, err.Error(), "Connectivity Upgrade")
	h.expectUntouched(t)
}

func TestBadInputActiveAttentionOnTheMemberThatMustStayUp(t *testing.T) {
	h := startHarness(t, harnessOpts{})
	a, b := h.sim.Member("gw-a"), h.sim.Member("gw-b")
	require.NoError(t, b.SetInterfaceUp("eth0", false)) // gw-b DOWN
	require.NoError(t, a.SetInterfaceUp("eth0", false)) // nobody else can take over: gw-a ACTIVE(!)
	require.Equal(t, "ACTIVE(!)", a.State())
	err := h.refuse(t)
	expectRule(t, err, "gw-a", checkpoint.RuleNoAttention, checkpoint.ErrAttention, upgrade.ErrInvalid)
	expectRule(t, err, "gw-b", checkpoint.RuleStandby, checkpoint.ErrMemberDown)
	h.expectUntouched(t)
}

func TestBadInputInterfaceDownOnStandby(t *testing.T) {
	h := startHarness(t, harnessOpts{})
	require.NoError(t, h.sim.Member("gw-b").SetInterfaceUp("eth2", false))
	err := h.refuse(t)
	expectRule(t, err, "gw-b", checkpoint.RuleStandby, checkpoint.ErrMemberDown)
	h.expectUntouched(t)
}

func TestBadInputCoreXLMismatch(t *testing.T) {
	h := startHarness(t, harnessOpts{})
	require.NoError(t, h.sim.Member("gw-b").SetCoreXL(8)) // gw-b goes READY (COREXL)
	err := h.refuse(t)
	expectRule(t, err, "gw-b", checkpoint.RuleStandby, checkpoint.ErrStillReady)
	h.expectUntouched(t)
}

func TestBadInputVSXVirtualSystemNotLoaded(t *testing.T) {
	h := startHarness(t, harnessOpts{vsx: true, sim: checkpointtest.Options{VirtualSystems: vsxSystems}})
	require.NoError(t, h.sim.Member("gw-b").SetVSLoaded(2, false))
	err := h.refuse(t)
	expectRule(t, err, "gw-b", checkpoint.RuleVirtualDevices, checkpoint.ErrVSNotReady, upgrade.ErrInvalid)
	assert.Contains(t, err.Error(), "vs2")
	h.expectUntouched(t)
}

func TestBadInputManagementCertificateNotTheConfiguredOne(t *testing.T) {
	t.Run("CA bundle, other certificate", func(t *testing.T) {
		h := startHarness(t, harnessOpts{})
		h.mgmt.SwapCertificate(true)
		err := h.refuse(t)
		expectRule(t, err, "", checkpoint.RuleManagement, checkpoint.ErrManagement, checkpoint.ErrMgmtTLS, upgrade.ErrPreCheck)
		h.expectUntouched(t)
		assert.Zero(t, h.mgmt.Logins())
	})
	t.Run("pinned fingerprint of another certificate", func(t *testing.T) {
		h := startHarness(t, harnessOpts{})
		h.cfg.Mgmt.CACertPEM = nil
		h.cfg.Mgmt.PinnedSHA256 = h.mgmt.ImpostorFingerprint()
		err := h.refuse(t)
		expectRule(t, err, "", checkpoint.RuleManagement, checkpoint.ErrManagement, checkpoint.ErrCertificateMismatch)
		h.expectUntouched(t)
		assert.Zero(t, h.mgmt.Logins())
	})
}

func TestBadInputWrongManagementPassword(t *testing.T) {
	h := startHarness(t, harnessOpts{})
	h.cfg.Mgmt.Password = "not-the-password"
	err := h.refuse(t)
	expectRule(t, err, "", checkpoint.RuleManagement, checkpoint.ErrManagement, checkpoint.ErrAuth, upgrade.ErrPreCheck)
	assert.NotContains(t, err.Error(), "not-the-password")
	assert.Contains(t, err.Error(), checkpointtest.DefaultMgmtUser)
	h.expectUntouched(t)
}

func TestBadInputClusterObjectVersion(t *testing.T) {
	h := startHarness(t, harnessOpts{mgmt: func(o *checkpointtest.MgmtOptions) { o.Clusters[0].Version = "R81.10" }})
	err := h.refuse(t)
	expectRule(t, err, "", checkpoint.RuleClusterObject, checkpoint.ErrClusterObject)
	h.expectUntouched(t)
}

func TestBadInputWrongExpertPassword(t *testing.T) {
	h := startHarness(t, harnessOpts{})
	h.cfg.ExpertPassword = "not-the-expert-password"
	err := h.refuse(t)
	assert.ErrorIs(t, err, checkpoint.ErrExpert)
	assert.NotContains(t, err.Error(), "not-the-expert-password")
	h.expectUntouched(t)
}
