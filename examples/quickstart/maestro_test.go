package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/checkpoint/checkpointtest"
)

// noCheckpointSecret fails when a Check Point demo secret reached the
// output.
func noCheckpointSecret(t *testing.T, m map[string]any, progress string) {
	t.Helper()
	b, _ := json.Marshal(m)
	for _, s := range []string{checkpointDemoPassword, checkpointDemoExpertPassword, checkpointtest.DefaultMgmtPassword} {
		require.NotContains(t, string(b)+progress, s, "a password reached the output")
	}
}

// TestQuickstartMaestro: the maestro mode upgrades the simulated security
// group (two orchestrators, 8 SGMs) to R82 with no lost tick; its
// failovers are the two traffic moves between sub-groups.
func TestQuickstartMaestro(t *testing.T) {
	code, m, progress := run(t, "-vendor", "checkpoint", "-mode", "maestro")
	noCheckpointSecret(t, m, progress)
	require.Equal(t, 0, code, "report: %v", m["error"])
	assert.Equal(t, true, m["ok"])
	assert.Equal(t, float64(0), m["traffic_lost_ticks"])
	assert.Equal(t, float64(2), m["failovers"])
	final := m["final_versions"].(map[string]any)
	assert.Len(t, final, 10)
	for n, v := range final {
		assert.Equal(t, "R82", v, n)
	}
	assert.Contains(t, progress, "Dry run:")
	assert.Contains(t, progress, "sub-groups A = 1_1,1_2,2_1,2_2, B = 1_3,1_4,2_3,2_4")
	cmds, _ := json.Marshal(m["commands"])
	assert.Contains(t, string(cmds), "member_ids 1_1,1_2,2_1,2_2")
	assert.Contains(t, string(cmds), "cphaconf mvc on")
}

// TestQuickstartMaestroRefusals: each refusal fault stops before any
// state-changing command, with its explanation.
func TestQuickstartMaestroRefusals(t *testing.T) {
	for fault, want := range map[string]string{
		"lacp":          "LACP uplink bond",
		"take-too-low":  "Jumbo Hotfix take is below the minimum",
		"mgmt-too-old":  "management server runs a release below the target",
		"verifier-fail": "pre-upgrade verifier",
	} {
		t.Run(fault, func(t *testing.T) {
			code, m, progress := run(t, "-vendor", "checkpoint", "-mode", "maestro", "-fault", fault)
			noCheckpointSecret(t, m, progress)
			assert.Equal(t, 1, code)
			assert.Equal(t, false, m["ok"])
			assert.Contains(t, m["explanation"], want)
			assert.Empty(t, m["commands"], "nothing changed on any device")
		})
	}
}

// TestQuickstartMaestroFaults: an SGM back on its old release and an
// orchestrator that never returns stop the run; traffic keeps flowing.
func TestQuickstartMaestroFaults(t *testing.T) {
	for fault, step := range map[string]string{"stuck-sgm": "wait:A@R82", "dead-mho": "wait:mho1@R82"} {
		t.Run(fault, func(t *testing.T) {
			code, m, _ := run(t, "-vendor", "checkpoint", "-mode", "maestro", "-fault", fault)
			assert.Equal(t, 1, code)
			assert.Equal(t, false, m["ok"])
			assert.Equal(t, float64(0), m["traffic_lost_ticks"])
			assert.Contains(t, m["error"], step)
		})
	}
	// Faults of one mode are refused in the other.
	_, m, _ := run(t, "-vendor", "checkpoint", "-fault", "lacp")
	assert.Contains(t, m["error"], "needs -mode maestro")
	_, m, _ = run(t, "-vendor", "checkpoint", "-mode", "maestro", "-fault", "stays-ready")
	assert.True(t, strings.Contains(m["error"].(string), "does not apply to -mode maestro"))
}

// TestQuickstartCrashAndResumeMaestro: a crash part-way, then a resumed
// process: finished steps are skipped, the upgrade completes with no lost
// tick.
func TestQuickstartCrashAndResumeMaestro(t *testing.T) {
	code, m, progress := run(t, "-vendor", "checkpoint", "-mode", "maestro", "-crash-after", "25")
	require.Equal(t, 0, code, "report: %v", m["error"])
	assert.Contains(t, progress, "simulated crash after 25 journal writes")
	assert.Equal(t, float64(0), m["traffic_lost_ticks"])
	assert.Equal(t, float64(2), m["failovers"], "each sub-group set down once")
}
