package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/examples/simulator/simkit"
	"github.com/hitless/hitless/upgrade"
)

// fleetRun runs the fleet in-process and returns the exit code, stdout,
// stderr and the report file's text.
func fleetRun(t *testing.T, args ...string) (int, string, string, string) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "fleet-report.md")
	var out, errb bytes.Buffer
	code := mainErr(append([]string{"-report", report}, args...), &out, &errb)
	md, err := os.ReadFile(report)
	require.NoError(t, err, "the report must be written\nstdout: %s\nstderr: %s", out.String(), errb.String())
	// The simulators' passwords (set by mainErr) never reach any output.
	for _, name := range simPasswordEnv {
		pw := os.Getenv(name)
		require.NotEmpty(t, pw)
		for what, text := range map[string]string{"stdout": out.String(), "stderr": errb.String(), "report": string(md)} {
			require.NotContains(t, text, pw, "the password of %s reached the %s", name, what)
		}
	}
	return code, out.String(), errb.String(), string(md)
}

// TestDefaultInventoryRun is the whole default run: the mixed fleet is
// upgraded with every probe tick kept, and the Markdown report holds the
// summary table and the Mermaid timeline.
func TestDefaultInventoryRun(t *testing.T) {
	code, out, errb, md := fleetRun(t, "-json")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errb)

	var res result
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.True(t, res.OK)
	assert.Equal(t, 0, res.TrafficLostTicks)
	assert.Greater(t, res.ProbeTicks, 100)
	require.Len(t, res.Clusters, 11)
	vendorsSeen := map[string]bool{}
	for _, c := range res.Clusters {
		assert.Equal(t, "done", c.Status, c.Cluster)
		assert.True(t, c.Simulated, c.Cluster)
		assert.Zero(t, c.LostTicks, c.Cluster)
		assert.Positive(t, c.ProbeTicks, c.Cluster)
		vendorsSeen[c.Vendor] = true
	}
	assert.Equal(t, map[string]bool{"clavister": true, "aviatrix": true, "junos": true, "checkpoint": true, "fake": true}, vendorsSeen)
	require.NotNil(t, res.Rollout)
	assert.True(t, res.Rollout.Results[0].Canary)
	assert.Equal(t, "14.00.10.00-31870", res.Rollout.Results[0].Report.FinalVersions["fw-b"])

	// The report: verdict, one row per cluster, the timeline, the probes.
	assert.Contains(t, md, "# Rollout report (OK)")
	assert.Contains(t, md, "- 11 of 11 clusters done")
	assert.Contains(t, md, "| cluster | group | canary | status | versions before | versions after | failovers | duration | reason |")
	assert.Contains(t, md, "| cos-a1 | pod-a | true | done | fw-a=14.00.09.00-31234, fw-b=14.00.09.00-31234 | fw-a=14.00.10.00-31870, fw-b=14.00.10.00-31870 | 1 |")
	for _, name := range []string{"cos-a2", "lab-a3", "avx-b", "cos-b1", "lab-b2", "srx-c4", "cp-c5", "cos-c1", "lab-c2", "lab-c3"} {
		assert.Regexp(t, fmt.Sprintf(`\n\| %s \| pod-[abc] \| false \| done \|`, name), md)
	}
	assert.Contains(t, md, "@controller=6.6.5545")
	assert.Contains(t, md, "```mermaid\ngantt\n    title rollout\n    dateFormat x\n")
	assert.Contains(t, md, "    section cos-a1 fw-b\n    install fw-b@14.00.10.00-31870 :done, ")
	assert.Contains(t, md, "    section avx-b @controller\n")
	assert.Contains(t, md, "node0=21.4R3-S5.4, node1=21.4R3-S5.4 | node0=22.4R3-S2, node1=22.4R3-S2")
	// The Check Point pair: both members on R82, the STANDBY first, one
	// failover, the management steps in the timeline.
	assert.Contains(t, md, "| cp-c5 | pod-c | false | done | gw-a=R81.20, gw-b=R81.20 | gw-a=R82, gw-b=R82 | 1 |")
	assert.Contains(t, md, "    section cp-c5 gw-b\n")
	assert.Contains(t, md, "| cp-c5 | checkpoint | 0 |")
	assert.NotContains(t, md, ":crit,")
	assert.Contains(t, md, "## Traffic probes")
	assert.Contains(t, md, fmt.Sprintf("Total lost probe ticks: 0 of %d.", res.ProbeTicks))

	// Progress went to stderr (-json), ending with the one-line summary.
	assert.Contains(t, errb, "start (canary) plan of 8 steps")
	assert.Contains(t, errb, "approval: yes, the rest starts")
	assert.Contains(t, errb, "cp-c5      pod-c  checkpoint R81.20 -> R82: gw-a at 127.0.0.1:")
	assert.Contains(t, errb, "cp-c5      ✔ done         18/18 postcheck@R82")
	assert.Contains(t, errb, "fleet OK: 11 of 11 clusters upgraded in ")
	assert.Contains(t, errb, fmt.Sprintf("lost probe ticks: 0 (of %d, over 11 simulated clusters)", res.ProbeTicks))
}

// TestCanaryFaultHaltsRollout: a fault in the canary fails it, nothing
// else starts, the cluster kept forwarding, exit code 1.
func TestCanaryFaultHaltsRollout(t *testing.T) {
	code, out, errb, md := fleetRun(t, "-fail", "cos-a1")
	require.Equal(t, 1, code, "stdout: %s\nstderr: %s", out, errb)
	assert.Contains(t, md, "# Rollout report (FAILED)")
	assert.Contains(t, md, "| cos-a1 | pod-a | true | failed |")
	assert.Contains(t, md, "| cos-a2 | pod-a | false | not-started |")
	assert.Contains(t, md, ":crit,")
	assert.Contains(t, md, "Total lost probe ticks: 0 of")
	assert.Contains(t, out, "rollout halted: canary cos-a1 failed")
	assert.Contains(t, out, "fleet STOPPED: 0 of 11 clusters upgraded")
	assert.Contains(t, out, "lost probe ticks: 0 (of")
}

// TestApprovalRefused: -approve=no stops the rollout after the canary.
func TestApprovalRefused(t *testing.T) {
	code, out, _, md := fleetRun(t, "-approve=no")
	require.Equal(t, 1, code, out)
	assert.Contains(t, md, "| cos-a1 | pod-a | true | done |")
	assert.Contains(t, md, "| avx-b | pod-b | false | not-started |")
	assert.Contains(t, out, "the rest after the canaries was not approved: refused by the operator (-approve=no)")
	assert.Contains(t, out, "fleet STOPPED: 1 of 11 clusters upgraded")
}

// problems loads data and returns the inventory's typed problems.
func problems(t *testing.T, data string, env map[string]string) []error {
	t.Helper()
	_, err := Parse("inv.yaml", []byte(data), LoadOptions{BaseDir: t.TempDir(), LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)})
	require.Error(t, err)
	var ie *InventoryError
	require.ErrorAs(t, err, &ie)
	return ie.Problems
}

// findAs returns the first problem of type T.
func findAs[T error](t *testing.T, probs []error) T {
	t.Helper()
	for _, p := range probs {
		var target T
		if errors.As(p, &target) {
			return target
		}
	}
	var zero T
	require.Failf(t, "problem not found", "no %T among %v", zero, probs)
	return zero
}

// TestBadInventoryFile: every problem of testdata/bad.yaml at once, typed,
// with its line and cluster, in line order; the inline password is never
// repeated; the fleet exits 2 before starting anything.
func TestBadInventoryFile(t *testing.T) {
	_, err := Load("testdata/bad.yaml", LoadOptions{Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), LookupEnv: func(string) (string, bool) { return "", false }})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2-inline")
	var ie *InventoryError
	require.ErrorAs(t, err, &ie)
	type want struct {
		line    int
		cluster string
		check   func(error) bool
	}
	is := func(target any) func(error) bool { return func(e error) bool { return errors.As(e, target) } }
	wants := []want{
		{2, "", is(new(*SettingError))},
		{3, "", is(new(*UnknownGroupError))},
		{4, "", is(new(*WindowClosedError))},
		{6, "", is(new(*UnknownKeyError))},
		{14, "fw-1", is(new(*InlinePasswordError))},
		{15, "fw-1", is(new(*FileError))},
		{16, "fw-1", is(new(*FileError))},
		{17, "fw-1", is(new(*DuplicateClusterError))},
		{18, "fw-1", is(new(*UnknownVendorError))},
		{20, "cp-1", is(new(*FieldError))},
		{30, "avx", is(new(*VersionError))},
		{33, "avx", is(new(*MissingSecretError))},
		{38, "lab", func(e error) bool { return errors.Is(e, fs.ErrNotExist) }},
		{39, "lab", is(new(*UnknownKeyError))},
	}
	require.Len(t, ie.Problems, len(wants), "%v", err)
	for i, w := range wants {
		p := ie.Problems[i]
		loc := p.(located).Where()
		assert.Equal(t, w.line, loc.Line, "problem %d: %v", i, p)
		assert.Equal(t, w.cluster, loc.Cluster, "problem %d: %v", i, p)
		assert.True(t, w.check(p), "problem %d has the wrong type: %T %v", i, p, p)
		assert.Contains(t, p.Error(), fmt.Sprintf("testdata/bad.yaml:%d: ", w.line))
	}
	assert.Contains(t, err.Error(), `rollout.max_parallel_clusters: 0 must be >= 1`)
	assert.Contains(t, err.Error(), `cluster cp-1: mgmt: required: the management server`)
	assert.Contains(t, err.Error(), `unknown key "addres"`)

	var out, errb bytes.Buffer
	assert.Equal(t, 2, mainErr([]string{"-inventory", "testdata/bad.yaml"}, &out, &errb))
	assert.Contains(t, errb.String(), "14 problem(s)")
	assert.NotContains(t, out.String()+errb.String(), "hunter2-inline")
	assert.Empty(t, out.String(), "nothing starts")
}

// minimal is a valid one-cluster inventory that the cases below break.
const minimal = `
rollout:
  max_parallel_clusters: 2
clusters:
  - name: lab-1
    vendor: fake
    pod: pod-a
    target: 8.2.1
    members: [{name: a}, {name: b}]
    simulate: {version: 8.1.7}
`

// TestBadInventoryInputs: one typed problem per broken input.
func TestBadInventoryInputs(t *testing.T) {
	clav := func(extra string) string {
		return `
rollout: {max_parallel_clusters: 1}
clusters:
  - name: fw-1
    vendor: clavister
    target: 14.00.10.00-31870
    members: [{name: a}, {name: b}]
    simulate: {}
` + extra
	}
	cases := []struct {
		name string
		data string
		env  map[string]string
		line int
		want func(t *testing.T, probs []error)
	}{
		{"inline password names cluster and line", clav("    password: s3cret-value\n"), nil, 9, func(t *testing.T, ps []error) {
			e := findAs[*InlinePasswordError](t, ps)
			assert.Equal(t, "fw-1", e.Cluster)
			assert.NotContains(t, e.Error(), "s3cret-value")
			assert.Len(t, ps, 1, "no second 'password required': %v", ps)
		}},
		{"inline password in a member", strings.Replace(clav("    password_env: X\n"), "{name: b}", "{name: b, password: pw}", 1), map[string]string{"X": "v"}, 7, func(t *testing.T, ps []error) {
			assert.Equal(t, "fw-1", findAs[*InlinePasswordError](t, ps).Cluster)
		}},
		{"duplicate cluster", minimal + "  - name: lab-1\n    vendor: fake\n    target: 8.2.1\n    members: [{name: a}, {name: b}]\n    simulate: {}\n", nil, 11, func(t *testing.T, ps []error) {
			assert.Equal(t, 5, findAs[*DuplicateClusterError](t, ps).FirstLine)
		}},
		{"unknown vendor", strings.Replace(minimal, "vendor: fake", "vendor: paloalto", 1), nil, 6, func(t *testing.T, ps []error) {
			e := findAs[*UnknownVendorError](t, ps)
			assert.Equal(t, "paloalto", e.Vendor)
			assert.Contains(t, e.Error(), "(aviatrix, checkpoint, clavister, fake, junos)")
		}},
		{"junos members are node0 and node1", strings.NewReplacer("vendor: fake", "vendor: junos\n    password_env: X", "target: 8.2.1", "target: 22.4R3-S2", "version: 8.1.7", "version: 21.4R3-S5.4").Replace(minimal), map[string]string{"X": "v"}, 10, func(t *testing.T, ps []error) {
			assert.Contains(t, findAs[*FieldError](t, ps).Error(), "node0 and node1 in that order")
			assert.Len(t, ps, 1, "%v", ps)
		}},
		{"missing env var", clav("    password_env: HITLESS_NOT_SET\n"), nil, 9, func(t *testing.T, ps []error) {
			assert.Equal(t, "HITLESS_NOT_SET", findAs[*MissingSecretError](t, ps).Env)
		}},
		{"missing password file", clav("    password_file: nowhere.txt\n"), nil, 9, func(t *testing.T, ps []error) {
			assert.ErrorIs(t, findAs[*MissingSecretError](t, ps), fs.ErrNotExist)
		}},
		{"no password reference", clav(""), nil, 4, func(t *testing.T, ps []error) {
			assert.Contains(t, findAs[*MissingSecretError](t, ps).Error(), "a password is required")
		}},
		{"bad target version", strings.Replace(minimal, "target: 8.2.1", "target: eight", 1), nil, 8, func(t *testing.T, ps []error) {
			e := findAs[*VersionError](t, ps)
			assert.Equal(t, "target", e.Field)
			assert.Equal(t, "eight", e.Version)
		}},
		{"bad simulated version", strings.Replace(clav("    password_env: X\n"), "simulate: {}", "simulate: {version: 14.x}", 1), map[string]string{"X": "v"}, 8, func(t *testing.T, ps []error) {
			assert.Equal(t, "simulate.version", findAs[*VersionError](t, ps).Field)
		}},
		{"max parallel zero", strings.Replace(minimal, "max_parallel_clusters: 2", "max_parallel_clusters: 0", 1), nil, 3, func(t *testing.T, ps []error) {
			assert.Equal(t, "max_parallel_clusters", findAs[*SettingError](t, ps).Field)
		}},
		{"max parallel missing", strings.Replace(minimal, "  max_parallel_clusters: 2\n", "  per_group: 1\n", 1), nil, 2, func(t *testing.T, ps []error) {
			assert.Equal(t, "max_parallel_clusters", findAs[*SettingError](t, ps).Field)
		}},
		{"window already closed", strings.Replace(minimal, "max_parallel_clusters: 2", "max_parallel_clusters: 2\n  window_end: 2026-06-01T11:59:00Z", 1), nil, 4, func(t *testing.T, ps []error) {
			assert.Equal(t, time.Date(2026, 6, 1, 11, 59, 0, 0, time.UTC), findAs[*WindowClosedError](t, ps).End)
		}},
		{"window not a time", strings.Replace(minimal, "max_parallel_clusters: 2", "max_parallel_clusters: 2\n  window_end: tomorrow", 1), nil, 4, func(t *testing.T, ps []error) {
			assert.Equal(t, "window_end", findAs[*SettingError](t, ps).Field)
		}},
		{"group limits of an unknown pod", strings.Replace(minimal, "max_parallel_clusters: 2", "max_parallel_clusters: 2\n  group_limits: {pod-a: 2, pod-q: 3}", 1), nil, 4, func(t *testing.T, ps []error) {
			assert.Equal(t, "pod-q", findAs[*UnknownGroupError](t, ps).Group)
			assert.Len(t, ps, 1, "pod-a exists: %v", ps)
		}},
		{"unknown key", strings.Replace(minimal, "pod: pod-a", "pod: pod-a\n    colour: blue", 1), nil, 8, func(t *testing.T, ps []error) {
			e := findAs[*UnknownKeyError](t, ps)
			assert.Equal(t, "colour", e.Key)
			assert.Equal(t, "lab-1", e.Cluster)
		}},
		{"wrong type", strings.Replace(minimal, "max_parallel_clusters: 2", "max_parallel_clusters: many", 1), nil, 3, func(t *testing.T, ps []error) {
			findAs[*FieldError](t, ps)
			assert.Len(t, ps, 1, "no second 'must be >= 1': %v", ps)
		}},
		{"key of another vendor", strings.Replace(minimal, "pod: pod-a", "pod: pod-a\n    known_hosts: kh", 1), nil, 8, func(t *testing.T, ps []error) {
			assert.Contains(t, findAs[*FieldError](t, ps).Error(), "known_hosts: not used by vendor fake")
		}},
		{"address of a simulated cluster", strings.Replace(clav("    password_env: X\n"), "{name: a}", "{name: a, address: 10.0.0.1}", 1), map[string]string{"X": "v"}, 7, func(t *testing.T, ps []error) {
			assert.Contains(t, findAs[*FieldError](t, ps).Error(), "gets its addresses from the simulator")
		}},
		{"real cluster without addresses and files", strings.Replace(clav("    password_env: X\n    username: admin\n"), "    simulate: {}\n", "", 1), map[string]string{"X": "v"}, 4, func(t *testing.T, ps []error) {
			require.Len(t, ps, 4, "%v", ps)
			for i, want := range []string{"known_hosts: required", "firmware: required", "members[0].address: required", "members[1].address: required"} {
				assert.Contains(t, ps[i].Error(), want)
			}
		}},
		{"three units in a pair", strings.Replace(clav("    password_env: X\n"), "{name: b}", "{name: b}, {name: c}", 1), map[string]string{"X": "v"}, 7, func(t *testing.T, ps []error) {
			assert.Contains(t, findAs[*FieldError](t, ps).Error(), "exactly 2 members")
		}},
		{"two documents", minimal + "---\nrollout: {}\n", nil, 0, func(t *testing.T, ps []error) {
			assert.Contains(t, findAs[*SyntaxError](t, ps).Error(), "more than one YAML document")
		}},
		{"not YAML", "rollout: [\n", nil, 0, func(t *testing.T, ps []error) { findAs[*SyntaxError](t, ps) }},
		{"empty", "", nil, 1, func(t *testing.T, ps []error) { findAs[*SyntaxError](t, ps) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := problems(t, tc.data, tc.env)
			tc.want(t, ps)
			if tc.line > 0 {
				assert.Equal(t, tc.line, ps[0].(located).Where().Line, "%v", ps)
			}
		})
	}
}

// TestRealInventoryShape loads testdata/real.yaml: paths resolve against
// the file's directory, credentials by reference, nothing renders the
// password.
func TestRealInventoryShape(t *testing.T) {
	inv, err := Load("testdata/real.yaml", LoadOptions{LookupEnv: func(k string) (string, bool) {
		return map[string]string{"FW_EAST_PASSWORD": "env-secret-value"}[k], k == "FW_EAST_PASSWORD"
	}, Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Len(t, inv.Clusters, 5)
	fw, avx, srx, cp, lab := inv.Clusters[0], inv.Clusters[1], inv.Clusters[2], inv.Clusters[3], inv.Clusters[4]
	assert.Equal(t, filepath.Join("testdata", "junos-install-vsrx3-x86-64-22.4R3-S2.tgz"), srx.Firmware)
	assert.Equal(t, "dal10-pod01", srx.Group())
	assert.Equal(t, "dc-east", fw.Group())
	assert.Equal(t, "env-secret-value", fw.password.value())
	assert.Equal(t, "not-a-real-password-only-a-test-fixture", avx.password.value())
	assert.Equal(t, filepath.Join("testdata", "known_hosts"), fw.KnownHosts)
	assert.Equal(t, filepath.Join("testdata", "controller-ca.pem"), avx.CABundle)
	assert.Equal(t, 30*time.Minute, fw.expected)
	assert.Equal(t, 24*time.Hour, avx.convergeWithin)
	assert.Equal(t, gateTiming{10 * time.Second, 30 * time.Second, 25 * time.Minute}, fw.gate)
	assert.Equal(t, "lab", lab.Group())
	// Check Point: the members' own addresses, the CPUSE package, the
	// expert password and the management server's credentials by
	// reference, its CA bundle resolved against the file's directory.
	assert.Equal(t, "dc-north", cp.Group())
	assert.Equal(t, []MemberSpec{{Name: "cp-gw-a", Address: "10.0.3.11"}, {Name: "cp-gw-b", Address: "10.0.3.12:2222"}}, cp.Members)
	assert.Equal(t, "cp-north-cluster", cp.ClusterObject)
	assert.Equal(t, "North_Policy", cp.PolicyPackage)
	assert.Equal(t, filepath.Join("testdata", "Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar"), cp.Firmware)
	assert.Equal(t, "env-secret-value", cp.password.value())
	assert.Equal(t, "not-a-real-expert-password-test-fixture", cp.expertPassword.value())
	require.NotNil(t, cp.Mgmt)
	assert.Equal(t, "https://mgmt.example.net", cp.Mgmt.URL)
	assert.Equal(t, filepath.Join("testdata", "cp-mgmt-ca.pem"), cp.Mgmt.CABundle)
	assert.Equal(t, "North", cp.Mgmt.Domain)
	assert.Equal(t, "hitless-api", cp.Mgmt.Username)
	assert.Equal(t, "not-a-real-mgmt-password-test-fixture", cp.Mgmt.password.value())
	assert.Nil(t, cp.Mgmt.apiKey)
	assert.Equal(t, gateTiming{15 * time.Second, 30 * time.Second, 40 * time.Minute}, cp.gate)
	assert.Equal(t, 10, inv.Rollout.MaxFailurePercent)
	assert.Equal(t, 30*time.Minute, inv.Rollout.approvalTimeout)
	assert.Equal(t, time.Date(2099, 1, 1, 6, 0, 0, 0, time.UTC), inv.Rollout.windowEnd)
	secrets := []string{"env-secret-value", "not-a-real-expert-password-test-fixture", "not-a-real-mgmt-password-test-fixture"}
	b, err := json.Marshal(inv)
	require.NoError(t, err)
	for _, sv := range secrets {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			assert.NotContains(t, fmt.Sprintf(verb, inv), sv, verb)
			assert.NotContains(t, fmt.Sprintf(verb, *cp.Mgmt), sv, verb)
		}
		assert.NotContains(t, string(b), sv)
	}
}

// TestApproveFlagChecks: -approve and -fail must make sense for the
// inventory.
func TestApproveFlagChecks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inv.yaml")
	require.NoError(t, os.WriteFile(path, []byte(minimal), 0o600))
	for _, args := range [][]string{
		{"-inventory", path, "-approve=no"},   // asks for no approval
		{"-inventory", path, "-fail", "nope"}, // no such cluster
		{"-approve=sometimes"},
		{"-bogus"},
	} {
		var out, errb bytes.Buffer
		assert.Equal(t, 2, mainErr(args, &out, &errb), "%v: %s", args, errb.String())
	}
}

// TestBarDisplay drives the live bars through a cluster's events.
func TestBarDisplay(t *testing.T) {
	var buf bytes.Buffer
	d := newBarDisplay(&buf, map[string]info{"c1": {group: "pod-a", canary: true}, "c2": {group: "pod-b"}})
	d.planned("c1", 2)
	d.planned("c2", 3)
	for _, ev := range []upgrade.Event{
		{Cluster: "c1", Kind: upgrade.EventStepStart, Step: "install:a@2"},
		{Cluster: "c1", Kind: upgrade.EventStepFinish, Step: "install:a@2"},
		{Cluster: "c2", Kind: upgrade.EventStepStart, Step: "install:x@2"},
		{Cluster: "c1", Kind: upgrade.EventStepSkip, Step: "wait:a@2"},
		{Cluster: "c1", Kind: upgrade.EventDone},
		{Cluster: "c2", Kind: upgrade.EventStepFail, Step: "install:x@2", Err: "boom"},
		{Cluster: "c2", Kind: upgrade.EventDone, Err: "boom"},
	} {
		d.event(ev)
	}
	d.note("approval: %s", "yes")
	d.planned("c3", 1) // never finishes: stop aborts it
	d.stop()
	d.note("after stop: dropped")
	assert.Contains(t, buf.String(), "c1         pod-a  done in")
	assert.Contains(t, buf.String(), "c2         pod-b  FAILED after")
	assert.Contains(t, buf.String(), "approval: yes")
	assert.NotContains(t, buf.String(), "after stop")
}

// cancelOn is a progress writer that cancels a context once the output
// shows match (a simulated crash at a precise point, without sleeping).
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	match  string
	cancel context.CancelFunc
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.match) {
		w.cancel()
	}
	return n, err
}

func (w *cancelOn) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestRemoteFakeCrashResume: a fake served the way examples/simulator
// serves it, reached by address with a password_file; the fleet is
// interrupted right after the standby's install, and a second run with the
// same -journal-dir resumes: the install is not repeated, the cluster ends
// on the target, no probe tick is lost.
func TestRemoteFakeCrashResume(t *testing.T) {
	dir := t.TempDir()
	sim, err := simkit.Start("fake", simkit.Options{Speed: 4, Serve: true, Dir: dir, Name: "remote-lab"})
	require.NoError(t, err)
	defer sim.Close()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pw"), []byte(sim.Password+"\n"), 0o600))
	g := sim.GateTiming()
	inv := filepath.Join(dir, "inv.yaml")
	require.NoError(t, os.WriteFile(inv, []byte(fmt.Sprintf(`rollout: {max_parallel_clusters: 1}
clusters:
  - name: remote-lab
    vendor: fake
    target: 8.2.1
    address: %q
    password_file: pw
    gate: {interval: %s, min_healthy: %s, deadline: %s}
`, sim.Endpoints[0].Addr, g.Interval, g.MinHealthy, g.Deadline)), 0o600))
	args := []string{"-inventory", inv, "-journal-dir", filepath.Join(dir, "journals"), "-report", filepath.Join(dir, "r.md")}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOn{match: "1/6 install:node-2@8.2.1", cancel: cancel}
	var errb1 bytes.Buffer
	require.Equal(t, 1, mainCtx(ctx, args, w, &errb1), w.String()+errb1.String())
	assert.Contains(t, w.String(), "interrupted: the running clusters stopped at their next safe point")
	assert.Equal(t, 1, sim.Fake.CountCalls("install", "node-2"))

	var out2, errb bytes.Buffer
	require.Equal(t, 0, mainCtx(context.Background(), args, &out2, &errb), out2.String()+errb.String())
	assert.Contains(t, out2.String(), "fleet OK: 1 of 1 clusters upgraded")
	assert.Contains(t, out2.String(), "↷ skipped      1/6 install:node-2@8.2.1", "the journal says it is done")
	assert.Equal(t, 1, sim.Fake.CountCalls("install", "node-2"), "the finished install was not repeated")
	assert.Equal(t, 1, sim.Fake.CountCalls("install", "node-1"))
	snap, err := sim.Fake.Observe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"node-1": "8.2.1", "node-2": "8.2.1"}, snap.Versions())
	lost, _ := sim.Probe()
	assert.Zero(t, lost)
	assert.NotContains(t, w.String()+errb1.String()+out2.String()+errb.String(), sim.Password)
}

// TestIsTerminal: buffers, files and the null device get plain lines.
func TestIsTerminal(t *testing.T) {
	assert.False(t, isTerminal(&bytes.Buffer{}))
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, isTerminal(f))
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	assert.False(t, isTerminal(null), "go run ./examples/fleet >/dev/null prints lines, not bars")
}

// TestPrintInventory: -print-inventory prints the built-in file, which
// loads.
func TestPrintInventory(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, mainErr([]string{"-print-inventory"}, &out, &errb))
	assert.Equal(t, string(defaultInventory), out.String())
	require.NoError(t, setSimPasswords())
	inv, err := Parse("fleet.yaml", out.Bytes(), LoadOptions{})
	require.NoError(t, err)
	assert.Len(t, inv.Clusters, 11)
	assert.Equal(t, 2, inv.Rollout.GroupLimits["pod-c"])
}

// TestCheckPointInventoryRun runs testdata/checkpoint.yaml end to end: a
// simulated three-member ClusterXL cluster and its fake management
// server, reached with an administrator whose password is in a file; the
// policy package is the inventory's; no probe tick is lost, no secret is
// printed.
func TestCheckPointInventoryRun(t *testing.T) {
	code, out, errb, md := fleetRun(t, "-inventory", "testdata/checkpoint.yaml", "-json")
	require.Equal(t, 0, code, "stdout: %s\nstderr: %s", out, errb)
	var res result
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.True(t, res.OK)
	require.Len(t, res.Clusters, 1)
	c := res.Clusters[0]
	assert.Equal(t, clusterResult{Cluster: "cp-lab", Vendor: "checkpoint", Group: "lab", Simulated: true, Status: "done", ProbeTicks: c.ProbeTicks}, c)
	assert.Positive(t, c.ProbeTicks)
	assert.Equal(t, map[string]string{"fw-1": "R82", "fw-2": "R82", "fw-3": "R82"}, res.Rollout.Results[0].Report.FinalVersions)
	assert.Contains(t, md, "| cp-lab | lab | false | done | fw-1=R81.20, fw-2=R81.20, fw-3=R81.20 | fw-1=R82, fw-2=R82, fw-3=R82 |")
	assert.Contains(t, md, "Total lost probe ticks: 0 of")
	assert.Contains(t, errb, "with cluster object cp-lab")
	assert.Contains(t, errb, "policy:final@R82")
	pw, err := os.ReadFile("testdata/cp-mgmt-password.txt")
	require.NoError(t, err)
	assert.NotContains(t, out+errb+md, strings.TrimSpace(string(pw)), "the management password is never printed")
}

// TestCheckPointFault: -fail on the Check Point cluster injects its
// default fault (the upgraded member stays READY): the run stops before
// the failover, the ACTIVE member kept forwarding, exit code 1.
func TestCheckPointFault(t *testing.T) {
	code, out, _, md := fleetRun(t, "-inventory", "testdata/checkpoint.yaml", "-fail", "cp-lab")
	require.Equal(t, 1, code, out)
	assert.Contains(t, md, "| cp-lab | lab | false | failed |")
	assert.Contains(t, md, "Total lost probe ticks: 0 of")
	assert.Contains(t, out, "is still READY after MVC on")
	assert.Contains(t, out, "fleet STOPPED: 0 of 1 clusters upgraded")
}

// TestCheckPointBadInputs: a broken Check Point entry is refused with a
// typed problem naming the cluster and the field, and the fleet exits 2
// before starting anything (no simulator, nothing printed on stdout).
func TestCheckPointBadInputs(t *testing.T) {
	// real is a valid entry of a real cluster (files of testdata/).
	real := `
rollout: {max_parallel_clusters: 1}
clusters:
  - name: cp-1
    vendor: checkpoint
    target: R82
    members: [{name: gw-a, address: 10.0.0.1}, {name: gw-b, address: 10.0.0.2}]
    username: admin
    password_env: CP_PW
    expert_password_env: CP_EXPERT
    known_hosts: known_hosts
    firmware: Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar
    mgmt:
      url: https://10.0.0.5
      fingerprint: "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
      api_key_env: CP_KEY
`
	env := map[string]string{"CP_PW": "pw-value-1", "CP_EXPERT": "pw-value-2", "CP_KEY": "key-value-3"}
	cases := []struct {
		name string
		data string
		line int
		want func(t *testing.T, ps []error)
	}{
		{"inline password", strings.Replace(real, "    password_env: CP_PW\n", "    password: s3cret-inline\n", 1), 9, func(t *testing.T, ps []error) {
			e := findAs[*InlinePasswordError](t, ps)
			assert.Equal(t, "cp-1", e.Cluster)
			assert.Equal(t, "password", e.Key)
			assert.Len(t, ps, 1, "no second 'password required': %v", ps)
		}},
		{"inline expert password", strings.Replace(real, "expert_password_env: CP_EXPERT", "expert_password: s3cret-inline", 1), 10, func(t *testing.T, ps []error) {
			assert.Equal(t, "expert_password", findAs[*InlinePasswordError](t, ps).Key)
			assert.Len(t, ps, 1, "%v", ps)
		}},
		{"inline API key in mgmt", strings.Replace(real, "api_key_env: CP_KEY", "api_key: s3cret-inline", 1), 16, func(t *testing.T, ps []error) {
			e := findAs[*InlinePasswordError](t, ps)
			assert.Equal(t, "cp-1", e.Cluster)
			assert.Equal(t, "api_key", e.Key)
			assert.Len(t, ps, 1, "no second 'credentials required': %v", ps)
		}},
		{"missing mgmt section", real[:strings.Index(real, "    mgmt:")], 4, func(t *testing.T, ps []error) {
			e := findAs[*FieldError](t, ps)
			assert.Equal(t, "cp-1", e.Cluster)
			assert.Equal(t, "mgmt", e.Field)
			assert.Contains(t, e.Error(), "inv.yaml:4: cluster cp-1: mgmt: required: the management server")
			assert.Len(t, ps, 1, "%v", ps)
		}},
		{"unknown key in mgmt", strings.Replace(real, "      url:", "      domian: North\n      url:", 1), 14, func(t *testing.T, ps []error) {
			e := findAs[*UnknownKeyError](t, ps)
			assert.Equal(t, "domian", e.Key)
			assert.Equal(t, "cp-1", e.Cluster)
			assert.Len(t, ps, 1, "%v", ps)
		}},
		{"unknown key in the entry", strings.Replace(real, "    username: admin\n", "    username: admin\n    cluster_objekt: cp\n", 1), 9, func(t *testing.T, ps []error) {
			e := findAs[*UnknownKeyError](t, ps)
			assert.Equal(t, "cluster_objekt", e.Key)
			assert.Equal(t, "cp-1", e.Cluster)
		}},
		{"no expert password", strings.Replace(real, "    expert_password_env: CP_EXPERT\n", "", 1), 4, func(t *testing.T, ps []error) {
			e := findAs[*MissingSecretError](t, ps)
			assert.Equal(t, "expert_password", e.Secret)
			assert.Contains(t, e.Error(), "cluster cp-1: expert_password is required: expert_password_env: NAME or expert_password_file: PATH")
		}},
		{"API key not set", strings.Replace(real, "CP_KEY", "CP_UNSET", 1), 16, func(t *testing.T, ps []error) {
			e := findAs[*MissingSecretError](t, ps)
			assert.Equal(t, "CP_UNSET", e.Env)
			assert.Contains(t, e.Error(), "mgmt.api_key_env CP_UNSET is not set")
		}},
		{"no mgmt credentials", strings.Replace(real, "      api_key_env: CP_KEY\n", "", 1), 13, func(t *testing.T, ps []error) {
			e := findAs[*MissingSecretError](t, ps)
			assert.Equal(t, "mgmt", e.Secret)
			assert.Contains(t, e.Error(), "mgmt: credentials are required")
		}},
		{"API key and administrator", strings.Replace(real, "      api_key_env: CP_KEY\n", "      api_key_env: CP_KEY\n      username: admin\n      password_env: CP_PW\n", 1), 17, func(t *testing.T, ps []error) {
			assert.Equal(t, "mgmt.username", findAs[*FieldError](t, ps).Field)
		}},
		{"administrator without password", strings.Replace(real, "      api_key_env: CP_KEY\n", "      username: admin\n", 1), 13, func(t *testing.T, ps []error) {
			assert.Equal(t, "mgmt.password", findAs[*MissingSecretError](t, ps).Secret)
		}},
		{"unverified server", strings.Replace(real, "      fingerprint:", "      domain:", 1), 13, func(t *testing.T, ps []error) {
			e := findAs[*FieldError](t, ps)
			assert.Equal(t, "mgmt", e.Field)
			assert.Contains(t, e.Error(), "the server is always verified")
		}},
		{"bad fingerprint", strings.Replace(real, `"AB:CD:EF:01`, `"ZZ:CD:EF:01`, 1), 15, func(t *testing.T, ps []error) {
			assert.Equal(t, "mgmt.fingerprint", findAs[*FieldError](t, ps).Field)
		}},
		{"http url", strings.Replace(real, "https://10.0.0.5", "http://10.0.0.5", 1), 14, func(t *testing.T, ps []error) {
			assert.Equal(t, "mgmt.url", findAs[*FieldError](t, ps).Field)
		}},
		{"missing CA bundle file", strings.Replace(real, "      api_key_env:", "      ca_bundle: nowhere.pem\n      api_key_env:", 1), 16, func(t *testing.T, ps []error) {
			e := findAs[*FileError](t, ps)
			assert.Equal(t, "mgmt.ca_bundle", e.Field)
			assert.ErrorIs(t, e, fs.ErrNotExist)
		}},
		{"not a CPUSE package", strings.Replace(real, "firmware: Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar", "firmware: cos-core-14.00.10.00-31870.upg", 1), 12, func(t *testing.T, ps []error) {
			assert.Equal(t, "firmware", findAs[*FieldError](t, ps).Field)
		}},
		{"one member", strings.Replace(real, ", {name: gw-b, address: 10.0.0.2}", "", 1), 7, func(t *testing.T, ps []error) {
			assert.Contains(t, findAs[*FieldError](t, ps).Error(), "2 to 8 members")
		}},
		{"bad target", strings.Replace(real, "target: R82", "target: 82", 1), 6, func(t *testing.T, ps []error) {
			assert.Equal(t, "target", findAs[*VersionError](t, ps).Field)
		}},
		{"simulated with the server's URL", `
rollout: {max_parallel_clusters: 1}
clusters:
  - name: cp-1
    vendor: checkpoint
    target: R82
    members: [{name: gw-a}, {name: gw-b}]
    password_env: CP_PW
    expert_password_env: CP_EXPERT
    mgmt:
      url: https://10.0.0.5
      api_key_env: CP_KEY
    simulate: {version: R81.20}
`, 11, func(t *testing.T, ps []error) {
			e := findAs[*FieldError](t, ps)
			assert.Equal(t, "mgmt.url", e.Field)
			assert.Contains(t, e.Error(), "comes from the simulator")
			assert.Len(t, ps, 1, "%v", ps)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("inv.yaml", []byte(tc.data), LoadOptions{BaseDir: "testdata", LookupEnv: func(k string) (string, bool) {
				v, ok := env[k]
				return v, ok
			}, Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)})
			require.Error(t, err)
			var ie *InventoryError
			require.ErrorAs(t, err, &ie)
			ps := ie.Problems
			tc.want(t, ps)
			assert.Equal(t, tc.line, ps[0].(located).Where().Line, "%v", ps)
			assert.Equal(t, "cp-1", ps[0].(located).Where().Cluster, "%v", ps)
			for _, v := range []string{"s3cret-inline", "pw-value-1", "pw-value-2", "key-value-3"} {
				assert.NotContains(t, err.Error(), v)
			}

			// The program: exit 2, nothing started. The inventory's
			// relative paths resolve against its directory.
			dir := t.TempDir()
			for _, f := range []string{"known_hosts", "Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar", "cos-core-14.00.10.00-31870.upg"} {
				b, err := os.ReadFile(filepath.Join("testdata", f))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o600))
			}
			path := filepath.Join(dir, "inv.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.data), 0o600))
			for k, v := range env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			assert.Equal(t, 2, mainErr([]string{"-inventory", path}, &out, &errb), errb.String())
			assert.Empty(t, out.String(), "nothing starts")
			assert.Contains(t, errb.String(), "cluster cp-1: ")
			assert.NotContains(t, errb.String(), "s3cret-inline")
		})
	}
}
