package main

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/driver"
)

// run executes the quickstart in-process with -json and decodes the report.
func run(t *testing.T, args ...string) (int, map[string]any, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := mainErr(append([]string{"-json", "-speed", "4"}, args...), &out, &errb)
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m), "stdout must be JSON: %s\nstderr: %s", out.String(), errb.String())
	for _, secret := range []string{clavisterDemoPassword, aviatrixtest.DefaultPassword} {
		require.NotContains(t, out.String()+errb.String(), secret, "a password reached the output")
	}
	return code, m, errb.String()
}

// TestQuickstartClavisterJSONContract: the main job upgrades the simulated
// pair over real SSH with no lost tick and prints the documented keys.
func TestQuickstartClavisterJSONContract(t *testing.T) {
	code, m, progress := run(t)
	require.Equal(t, 0, code, "report: %v", m["error"])
	assert.Equal(t, true, m["ok"])
	assert.Equal(t, float64(0), m["traffic_lost_ticks"])
	assert.Greater(t, m["probe_ticks"], float64(10))
	assert.Equal(t, map[string]any{"fw-a": clavisterTarget, "fw-b": clavisterTarget}, m["final_versions"])
	steps := m["steps"].([]any)
	require.NotEmpty(t, steps)
	for _, s := range steps {
		step := s.(map[string]any)
		for _, k := range []string{"name", "status", "started", "finished"} {
			assert.Contains(t, step, k)
		}
		assert.Equal(t, "done", step["status"], step["name"])
	}
	assert.Contains(t, progress, "Dry run:")
	assert.Contains(t, progress, "failover:to:fw-b")
	cmds, _ := json.Marshal(m["commands"])
	assert.Contains(t, string(cmds), "ha -deactivate")
	assert.NotContains(t, string(cmds), "password")
}

// clavisterFaultErrors is a fragment of the error each fault must produce,
// so a run that fails for another reason (e.g. a timeout) does not pass.
var clavisterFaultErrors = map[string]string{
	"never-returns":    "unit unreachable",
	"back-on-old":      "failed for good",
	"sync-stuck":       "sync below 100%: 60%",
	"peer-not-alive":   "HA peer not ALIVE",
	"truncated-upload": "uploaded size mismatch",
	"bad-ha-output":    "cannot read \"ha\" output",
	"wrong-password":   "authentication failed",
	"unknown-host-key": "unknown host",
	"missing-firmware": "FirmwarePath",
}

var aviatrixFaultErrors = map[string]string{
	"controller-never-returns": "502",
	"gateway-fails":            "upgrade_fail",
	"busy":                     "Active upgrade in progress.",
	"backup-disabled":          "backup is not enabled",
	"gateway-behind":           "not the controller's",
	"wrong-password":           "authentication failed",
	"untrusted-cert":           "certificate signed by unknown authority",
}

// TestQuickstartFaultsStopCleanly: every fault ends non-zero with its own
// error, an explanation and the cluster still forwarding.
func TestQuickstartFaultsStopCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulator once per fault")
	}
	require.Len(t, clavisterFaultErrors, len(clavisterFaults))
	for name := range clavisterFaults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, m, _ := run(t, "-fault", name)
			assert.Equal(t, 1, code)
			assert.Equal(t, false, m["ok"])
			assert.Equal(t, true, m["still_forwarding"])
			assert.Equal(t, float64(0), m["traffic_lost_ticks"])
			assert.NotEmpty(t, m["explanation"])
			assert.Contains(t, m["error"], clavisterFaultErrors[name])
			assert.NotContains(t, strings.ToLower(m["error"].(string)), "not-the-password")
		})
	}
}

// runAviatrixJSON is run for -vendor aviatrix, also returning the raw -json
// stdout and the stderr progress, both checked for the fake's secrets.
func runAviatrixJSON(t *testing.T, args ...string) (int, map[string]any, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := mainErr(append([]string{"-json", "-speed", "2", "-vendor", "aviatrix"}, args...), &out, &errb)
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m), "stdout must be JSON: %s\nstderr: %s", out.String(), errb.String())
	assertNoAviatrixSecrets(t, "stdout", out.String())
	assertNoAviatrixSecrets(t, "stderr", errb.String())
	return code, m, errb.String()
}

// The shapes of aviatrixtest's secrets (fake.go): CIDs from login are
// "cid<6 digits>SECRET<hex>", API tokens from get_api_token are
// "tok-<6 digits>-fake"; the password is aviatrixtest.DefaultPassword (the
// wrong-password fault sends "not-the-password").
var aviatrixSecretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`cid\d{6}SECRET`),
	regexp.MustCompile(`SECRET`),
	regexp.MustCompile(`tok-\d{6}-fake`),
	regexp.MustCompile(regexp.QuoteMeta(aviatrixtest.DefaultPassword)),
	regexp.MustCompile(`Passw0rd`),
	regexp.MustCompile(`not-the-password`),
}

func assertNoAviatrixSecrets(t *testing.T, where, s string) {
	t.Helper()
	require.NotEmpty(t, s, where)
	for _, re := range aviatrixSecretPatterns {
		if loc := re.FindStringIndex(s); loc != nil {
			t.Errorf("%s leaks a secret (%s): …%s…", where, re, s[max(0, loc[0]-80):min(len(s), loc[1]+20)])
		}
	}
}

// The patterns match what the fake really issues, so a leak cannot hide
// behind a changed format.
func TestAviatrixSecretPatternsMatchTheFake(t *testing.T) {
	fake, err := aviatrixtest.Start(aviatrixtest.Options{ControllerVersion: "6.5.1922", Pairs: 1})
	require.NoError(t, err)
	defer fake.Close()
	c, err := aviatrix.NewClient(fake.ClientConfig())
	require.NoError(t, err)
	require.NoError(t, c.Login(t.Context()))
	cids := fake.IssuedCIDs()
	require.NotEmpty(t, cids)
	assert.Regexp(t, aviatrixSecretPatterns[0], cids[0])
	assert.Equal(t, aviatrixtest.DefaultPassword, fake.Password())
	tok, err := c.Do(t.Context(), "get_api_token", nil, false)
	require.NoError(t, err)
	assert.Regexp(t, aviatrixSecretPatterns[2], string(tok))
}

// TestQuickstartAviatrix: controller and 20 gateways in pairs through two
// minor hops, with no pair ever losing a probe tick.
func TestQuickstartAviatrix(t *testing.T) {
	code, m, progress := runAviatrixJSON(t)
	require.Equal(t, 0, code, "report: %v", m["error"])
	assert.Equal(t, true, m["ok"])
	assert.Equal(t, float64(0), m["traffic_lost_ticks"])
	versions := m["final_versions"].(map[string]any)
	assert.Len(t, versions, 21)
	for k, v := range versions {
		assert.Equal(t, "6.7.1574", v, k)
	}
	assert.Contains(t, progress, "6.5.1922 -> [6.5.2721 6.6.5545 6.7.1574]")
	cmds, _ := json.Marshal(m["commands"])
	assert.NotContains(t, string(cmds), "Passw0rd")
}

func TestQuickstartAviatrixFaultsStopCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the fake controller once per fault")
	}
	require.Len(t, aviatrixFaultErrors, len(aviatrixFaults)-1) // cid-expiry succeeds
	for name := range aviatrixFaults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, m, _ := runAviatrixJSON(t, "-fault", name)
			assert.Equal(t, float64(0), m["traffic_lost_ticks"])
			assert.Equal(t, true, m["still_forwarding"])
			if name == "cid-expiry" {
				assert.Equal(t, 0, code, "the client logs in again: %v", m["error"])
				return
			}
			assert.Equal(t, 1, code)
			assert.Equal(t, false, m["ok"])
			assert.NotEmpty(t, m["explanation"])
			assert.Contains(t, m["error"], aviatrixFaultErrors[name])
		})
	}
}

// TestQuickstartStepsNeverNull: a run that stops before planning still
// reports "steps" and "final_versions" as empty JSON values, not null.
func TestQuickstartStepsNeverNull(t *testing.T) {
	for _, fault := range []string{"wrong-password", "missing-firmware"} {
		t.Run(fault, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := mainErr([]string{"-json", "-speed", "4", "-fault", fault}, &out, &errb)
			assert.Equal(t, 1, code)
			var raw map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(out.Bytes(), &raw), out.String())
			assert.Equal(t, "[]", string(raw["steps"]))
			assert.NotEqual(t, "null", string(raw["final_versions"]))
		})
	}
}

// TestQuickstartGarbledHAFailsClosed: with -fault bad-ha-output `ha` prints a
// garbled status without any "Error:" line. The run must stop with a typed
// parse error naming each unit, plan nothing, send nothing but reads and
// keep forwarding.
func TestQuickstartGarbledHAFailsClosed(t *testing.T) {
	res, err := runClavister(t.Context(), options{target: clavisterTarget, speed: 4, fault: "bad-ha-output", out: io.Discard})
	require.Error(t, err)
	assert.ErrorIs(t, err, clavister.ErrUnreadable)
	assert.NotErrorIs(t, err, driver.ErrCommand, "no rejection was printed: the parser itself must refuse")
	for _, unit := range []string{"fw-a", "fw-b"} {
		assert.Contains(t, err.Error(), "unit "+unit+" (127.0.0.1:")
	}
	assert.Contains(t, err.Error(), `cannot read "ha" output`)
	assert.Empty(t, res.Steps, "nothing was planned")
	assert.True(t, res.StillForwarding)
	assert.Zero(t, res.TrafficLostTicks)
	for unit, v := range res.FinalVersions {
		assert.Equal(t, "14.00.09.00-31234", v, unit)
	}
	for _, c := range res.Commands {
		assert.True(t, slices.Contains([]string{"ha", "about"}, c.Command), "only reads were sent, got %q", c.Command)
	}
}

func TestQuickstartBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, mainErr([]string{"-vendor", "nokia"}, &out, &errb))
	assert.Equal(t, 2, mainErr([]string{"-fault", "meteor"}, &out, &errb))
	assert.Equal(t, 2, mainErr([]string{"-speed", "0"}, &out, &errb))
	assert.Equal(t, 0, mainErr([]string{"-list-faults"}, &out, &errb))
	assert.Contains(t, out.String(), "wrong-password")
}

// commandsOf returns the command texts of a -json report.
func commandsOf(m map[string]any) []string {
	var out []string
	cmds, _ := m["commands"].([]any)
	for _, c := range cmds {
		out = append(out, c.(map[string]any)["command"].(string))
	}
	return out
}

func countPrefix(cmds []string, prefix string) int {
	n := 0
	for _, c := range cmds {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// TestQuickstartCrashAndResumeAviatrix: a simulated crash at several
// journal writes, resumed by a new "process" from the journal: the upgrade
// completes with every write sent exactly once and no traffic lost.
func TestQuickstartCrashAndResumeAviatrix(t *testing.T) {
	for _, n := range []string{"2", "5", "11", "24"} {
		t.Run("crash-after="+n, func(t *testing.T) {
			t.Parallel()
			code, m, progress := run(t, "-vendor", "aviatrix", "-speed", "2", "-crash-after", n)
			require.Equal(t, 0, code, "report: %v", m["error"])
			assert.Contains(t, progress, "simulated crash after "+n+" journal writes")
			assert.Equal(t, float64(0), m["traffic_lost_ticks"])
			cmds := commandsOf(m)
			assert.Equal(t, 3, countPrefix(cmds, "upgrade_platform"), "one controller upgrade per hop")
			assert.Equal(t, 60, countPrefix(cmds, "upgrade_selected_gateway"), "20 gateways × 3 hops, none twice")
		})
	}
}

// TestQuickstartCrashAndResumeClavister: a crash after every journal write
// of the Clavister run, resumed by a new "process" over new SSH sessions:
// each unit is rebooted once, the roles swapped once, no traffic lost.
func TestQuickstartCrashAndResumeClavister(t *testing.T) {
	for _, n := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"} {
		t.Run("crash-after="+n, func(t *testing.T) {
			t.Parallel()
			code, m, progress := run(t, "-crash-after", n)
			require.Equal(t, 0, code, "report: %v", m["error"])
			assert.Contains(t, progress, "simulated crash after "+n+" journal writes")
			assert.Equal(t, float64(0), m["traffic_lost_ticks"])
			cmds := commandsOf(m)
			assert.Equal(t, 2, countPrefix(cmds, "shutdown -reboot"), "one firmware apply per unit")
			assert.Equal(t, 1, countPrefix(cmds, "ha -deactivate"), "one failover")
		})
	}
}
