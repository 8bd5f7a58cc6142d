package checkpoint_test

// End-to-end tests: the real driver over real SSH on 127.0.0.1 against the
// checkpointtest simulator, and the real management client over TLS
// against the checkpointtest management fake (no synctest bubbles: real
// sockets), with millisecond durations. Nothing sleeps: every wait is a
// gate, a redial with backoff or a simulator wait, bounded by contexts.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// cpTiming makes gates poll fast; the deadline covers a simulated reboot.
var cpTiming = upgrade.Timing{Interval: 30 * time.Millisecond, MinHealthy: 60 * time.Millisecond, Deadline: 10 * time.Second}

// cpRetry retries idempotent steps quickly.
var cpRetry = upgrade.Retry{Attempts: 2, Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}

// cpCluster is the cluster object's name on the management fake.
const cpCluster = "cpcluster"

// harness is one simulated cluster with its management fake.
type harness struct {
	sim   *checkpointtest.Sim
	mgmt  *checkpointtest.MgmtServer
	cfg   checkpoint.Config
	dir   string
	tasks *checkpoint.FileTaskLog
	from  string
	to    string
	// timing is the planner's gate timing (cpTiming unless a test
	// shortens it to meet a fault sooner).
	timing upgrade.Timing
}

// harnessOpts configure startHarness.
type harnessOpts struct {
	sim    checkpointtest.Options
	target string
	vsx    bool
	jumbo  int // VSX: a Jumbo take to install after the major upgrade
	mgmt   func(*checkpointtest.MgmtOptions)
	cfg    func(*checkpoint.Config)
}

// startHarness starts a simulated cluster (fast durations) and a TLS
// management fake wired to it: install-policy outcomes per member come
// from the simulator's MVC model and successful installs are reported back
// to it.
func startHarness(t *testing.T, ho harnessOpts) *harness {
	t.Helper()
	o := ho.sim
	if o.ImportDuration == 0 {
		o.ImportDuration = 30 * time.Millisecond
	}
	if o.ApplyDelay == 0 {
		o.ApplyDelay = 30 * time.Millisecond
	}
	if o.RebootDuration == 0 {
		o.RebootDuration = 300 * time.Millisecond
	}
	if o.FailoverGap == 0 {
		o.FailoverGap = 200 * time.Millisecond
	}
	o.ProbeEvery = 10 * time.Millisecond
	if ho.vsx {
		o.VSX = true
	}
	if ho.target == "" {
		ho.target = "R82"
		if ho.vsx {
			ho.target = "R81.20"
		}
	}
	if o.Version == "" && ho.vsx {
		o.Version = "R81.10"
	}
	sim, err := checkpointtest.Start(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	from := sim.Options().Version

	var members []checkpointtest.MgmtMember
	var gws []checkpoint.Gateway
	for _, m := range sim.Members() {
		members = append(members, checkpointtest.MgmtMember{Name: m.Name(), IPAddress: m.Host()})
		gws = append(gws, checkpoint.Gateway{Name: m.Name(), Host: m.Host(), Port: m.Port()})
	}
	mo := checkpointtest.MgmtOptions{
		PolicyInstall: 40 * time.Millisecond, VSXUpgrade: 40 * time.Millisecond, TaskTime: 10 * time.Millisecond,
		PolicyResult:      func(_, member string) string { return sim.PolicyResult(member) },
		OnPolicyInstalled: func(_, member string, _, _ bool) { sim.PolicyInstalled(member) },
	}
	var vsNames []string
	if ho.vsx {
		for _, vs := range sim.Options().VirtualSystems {
			vsNames = append(vsNames, vs.Name)
		}
		mo.VSXClusters = []checkpointtest.MgmtVSXCluster{{Name: cpCluster, Version: from, Members: members, VirtualSystems: vsNames}}
	} else {
		mo.Clusters = []checkpointtest.MgmtCluster{{Name: cpCluster, Version: from, Members: members}}
	}
	if ho.mgmt != nil {
		ho.mgmt(&mo)
	}
	mgmt, err := checkpointtest.NewMgmtServer(mo)
	require.NoError(t, err)
	t.Cleanup(mgmt.Close)

	dir := t.TempDir()
	pkg, err := checkpointtest.WritePackage(dir, checkpointtest.Package{Kind: checkpointtest.KindMajor, Release: ho.target})
	require.NoError(t, err)
	mc := mgmt.ClientConfig()
	mc.Timeout = 5 * time.Second
	mc.RetryBackoff = 10 * time.Millisecond
	cfg := checkpoint.Config{
		Name:             "hq",
		ClusterObject:    cpCluster,
		Members:          gws,
		VSX:              ho.vsx,
		VirtualSystems:   vsNames,
		Username:         sim.Username(),
		Password:         sim.Password(),
		ExpertPassword:   sim.ExpertPassword(),
		KnownHostsFile:   sim.KnownHostsFile(),
		PackagePath:      pkg,
		Mgmt:             mc,
		MinFreeDiskMB:    -1, // the simulator has no df
		CommandTimeout:   5 * time.Second,
		DialTimeout:      10 * time.Second, // generous: handshakes under the race detector
		ReconnectTimeout: 300 * time.Millisecond,
		ReconnectBackoff: driver.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond, Factor: 2},
		ApplyGrace:       time.Second,
		ImportTiming:     upgrade.Timing{Interval: 20 * time.Millisecond, Deadline: 3 * time.Second},
		TaskTiming:       upgrade.Timing{Interval: 20 * time.Millisecond, Deadline: 5 * time.Second},
		Transcript:       driver.NewTranscript(),
	}
	if ho.jumbo > 0 {
		jp, err := checkpointtest.WritePackage(dir, checkpointtest.Package{Kind: checkpointtest.KindJumbo, Release: ho.target, Take: ho.jumbo})
		require.NoError(t, err)
		cfg.JumboPath, cfg.JumboTake = jp, ho.jumbo
	}
	if ho.cfg != nil {
		ho.cfg(&cfg)
	}
	return &harness{sim: sim, mgmt: mgmt, cfg: cfg, dir: dir, tasks: &checkpoint.FileTaskLog{Path: filepath.Join(dir, "tasks.json")},
		from: from, to: ho.target, timing: cpTiming}
}

// planner returns the planner for c with the harness's task log.
func (h *harness) planner(c *checkpoint.Cluster, restore string) checkpoint.Planner {
	return checkpoint.Planner{Cluster: c, GateTiming: h.timing, RestoreActive: restore, Tasks: h.tasks}
}

// run is one "process": connect, observe, plan, execute with journal j.
func (h *harness) run(ctx context.Context, j upgrade.Journal, restore string) (*upgrade.Report, upgrade.Plan, error) {
	c, err := checkpoint.New(ctx, h.cfg)
	if err != nil {
		return nil, upgrade.Plan{}, fmt.Errorf("New: %w", err)
	}
	defer func() { _ = c.Close() }()
	snap, err := c.Observe(ctx)
	if err != nil {
		return nil, upgrade.Plan{}, err
	}
	plan, err := h.planner(c, restore).Plan(snap, h.to)
	if err != nil {
		return nil, plan, err
	}
	ex := &upgrade.Executor{Journal: j, Retry: cpRetry, Logger: h.cfg.Logger, SettleTiming: upgrade.Timing{Interval: 20 * time.Millisecond, Deadline: 5 * time.Second},
		Redact: []string{h.cfg.Password, h.cfg.ExpertPassword, checkpointtest.DefaultMgmtPassword}}
	rep, err := ex.Run(ctx, c, plan)
	return rep, plan, err
}

// reads are the read-only commands the SDK sends (with their prefixes).
var reads = []string{"cphaprob state", "fw ver", "cphaprob mvc", "vsx stat -v", "cphaprob -a if", "fw ctl multik stat",
	"cpinfo -y all", "show installer packages imported", "show installer packages installed", "lock database override",
	"set clienv rows 0", "expert", "exit", "echo hitless-expert-ok", "echo hitless-rc=$?", "set virtual-system 0",
	`clish -c "show installer packages installed"`}

// isRead reports whether a device command only reads (a VS wrapper
// `bash -lc 'vsenv N >/dev/null && <cmd>'` is judged by its command).
func isRead(cmd string) bool {
	if inner, ok := strings.CutPrefix(cmd, "bash -lc 'vsenv "); ok {
		if _, rest, ok := strings.Cut(inner, " >/dev/null && "); ok {
			cmd = strings.TrimSuffix(rest, "'")
		}
	}
	return slices.Contains(reads, cmd) || strings.HasPrefix(cmd, "ls -l ") || strings.HasPrefix(cmd, "cat ") ||
		strings.HasPrefix(cmd, "installer verify ") || strings.HasPrefix(cmd, "df ")
}

// actions returns the state-changing device commands as "member: command"
// in order (reads left out), from the simulator's own record.
func (h *harness) actions() []string {
	var out []string
	for _, m := range h.sim.Members() {
		for _, cmd := range m.Commands() {
			if !isRead(cmd) {
				out = append(out, m.Name()+": "+cmd)
			}
		}
	}
	return out
}

// changes returns the simulator's state-changing commands of one member
// in order.
func (h *harness) changes(member string) []string {
	var out []string
	for _, a := range h.actions() {
		if c, ok := strings.CutPrefix(a, member+": "); ok {
			out = append(out, c)
		}
	}
	return out
}

// count counts the device commands containing fragment on every member.
func (h *harness) count(fragment string) int {
	n := 0
	for _, m := range h.sim.Members() {
		for _, c := range m.Commands() {
			if strings.Contains(c, fragment) {
				n++
			}
		}
	}
	return n
}

// policyInstalls returns the install-policy calls the fake received,
// as "target access/tp all-or-fail".
func (h *harness) policyInstalls() []string {
	var out []string
	for _, c := range h.mgmt.Calls() {
		if c.Command != "install-policy" {
			continue
		}
		out = append(out, fmt.Sprintf("%v access=%v tp=%v all=%v", c.Body["targets"], c.Body["access"], c.Body["threat-prevention"], c.Body["install-on-all-cluster-members-or-fail"]))
	}
	return out
}

// expectConverged asserts the simulator's own end state.
func (h *harness) expectConverged(t *testing.T, active string) {
	t.Helper()
	for _, m := range h.sim.Members() {
		assert.Equal(t, h.to, m.Version(), "%s release", m.Name())
		assert.False(t, m.MVC(), "%s MVC still on", m.Name())
		assert.False(t, m.AdminDown(), "%s still admin down", m.Name())
		if m.Name() == active {
			assert.Equal(t, "ACTIVE", m.State(), m.Name())
		} else {
			assert.Equal(t, "STANDBY", m.State(), m.Name())
		}
	}
	assert.Equal(t, 0, h.sim.Probe().LostTicks(), "lost probe ticks (outage %v)", h.sim.Probe().Outage())
}

func TestE2EGatewayUpgrade(t *testing.T) {
	for _, restore := range []string{"", "gw-a"} {
		t.Run("RestoreActive="+strconv.Quote(restore), func(t *testing.T) {
			h := startHarness(t, harnessOpts{})
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			j := &upgrade.MemoryJournal{}
			rep, plan, err := h.run(ctx, j, restore)
			require.NoError(t, err, "plan:\n%s", plan.Render())
			require.True(t, rep.OK, rep.Error)
			t.Logf("plan:\n%s\nprobe %+v", plan.Render(), h.sim.ProbeSummary())
			wantActive, wantFailovers := "gw-b", 1
			if restore != "" {
				wantActive, wantFailovers = "gw-a", 2
			}
			h.expectConverged(t, wantActive)
			assert.Equal(t, wantFailovers, h.sim.Failovers(), "failovers")
			assert.Equal(t, wantFailovers, rep.Failovers, "failover steps in the report")
			pkg := filepath.Base(h.cfg.PackagePath)
			wantB := []string{
				"installer import local /var/log/upload/" + pkg + " not-interactive",
				"installer upgrade " + pkg + " not-interactive",
				"cphaconf mvc on",
				"cphaconf mvc off",
			}
			if restore != "" {
				wantB = append(wantB, "clusterXL_admin down", "clusterXL_admin up")
			}
			assert.Equal(t, wantB, h.changes("gw-b"))
			wantA := []string{
				"clusterXL_admin down",
				"installer import local /var/log/upload/" + pkg + " not-interactive",
				"installer upgrade " + pkg + " not-interactive",
				"cphaconf mvc off",
			}
			assert.Equal(t, wantA, h.changes("gw-a"))
			assert.Equal(t, []string{
				"[cpcluster] access=true tp=false all=false",
				"[cpcluster] access=true tp=true all=true",
			}, h.policyInstalls())
			assert.Equal(t, "R82", h.mgmt.ClusterVersion(cpCluster))
			// Notes: the mixed-cluster install partially succeeded.
			for _, s := range rep.Steps {
				if s.Name == "policy:mvc:gw-b@R82" {
					assert.Contains(t, s.Note, "partially succeeded")
					assert.Contains(t, s.Note, "succeeded on gw-b")
				}
			}
			// Re-planning at the end: nothing left.
			c, err := checkpoint.New(ctx, h.cfg)
			require.NoError(t, err)
			defer func() { _ = c.Close() }()
			snap, err := c.Observe(ctx)
			require.NoError(t, err)
			again, err := h.planner(c, restore).Plan(snap, h.to)
			require.NoError(t, err)
			assert.Empty(t, again.StepIDs())
			require.NoError(t, again.Converged(snap))
			// No secret in the transcript.
			for _, e := range h.cfg.Transcript.Entries() {
				for _, secret := range []string{h.cfg.Password, h.cfg.ExpertPassword} {
					require.NotContains(t, e.Command+e.Output+e.Error, secret)
				}
			}
		})
	}
}

// TestE2EPlanShape pins the documented step order of a fresh two-member
// cluster.
func TestE2EPlanShape(t *testing.T) {
	h := startHarness(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := checkpoint.New(ctx, h.cfg)
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	snap, err := c.Observe(ctx)
	require.NoError(t, err)
	assert.Empty(t, snap.Problems)
	plan, err := h.planner(c, "gw-a").Plan(snap, "R82")
	require.NoError(t, err)
	assert.Equal(t, []string{
		"precheck@R82", "cluster-version@R82",
		"stage:gw-b@R82", "upgrade:gw-b@R82", "wait:gw-b@R82", "mvc-on:gw-b@R82", "policy:mvc:gw-b@R82", "wait:joined:gw-b@R82",
		"failover:from:gw-a@R82", "wait:failover:from:gw-a@R82",
		"stage:gw-a@R82", "upgrade:gw-a@R82", "wait:gw-a@R82",
		"policy:final@R82", "mvc-off:gw-a@R82", "mvc-off:gw-b@R82",
		"restore:to:gw-a@R82", "wait:restore:to:gw-a@R82", "admin-up@R82", "postcheck@R82",
	}, plan.StepIDs())
	for _, st := range plan.Steps {
		switch {
		case strings.HasPrefix(st.ID(), "upgrade:gw-b"):
			assert.Equal(t, []string{"gw-b"}, st.Disrupts())
		case strings.HasPrefix(st.ID(), "upgrade:gw-a"):
			assert.Equal(t, []string{"gw-a"}, st.Disrupts())
		default:
			assert.Empty(t, st.Disrupts(), "%s disrupts nothing", st.ID())
		}
		if fd, ok := st.(upgrade.FailoverDeclarer); ok && fd.Failover() {
			assert.Contains(t, []string{"failover:from:gw-a@R82", "restore:to:gw-a@R82"}, st.ID())
		}
	}
	// Nothing was changed by planning and observing.
	assert.Empty(t, h.actions())
	assert.Empty(t, h.mgmt.WriteCalls())
}

// errorsOf returns every error of type T in err's tree.
func errorsOf[T error](err error) []T {
	var out []T
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
		switch x := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// expectRule asserts err holds a *checkpoint.RuleError for member (or
// object when member is "") and rule, and matches every target.
func expectRule(t *testing.T, err error, member, rule string, targets ...error) {
	t.Helper()
	require.Error(t, err)
	found := false
	for _, re := range errorsOf[*checkpoint.RuleError](err) {
		if (re.Member == member || member == "*") && re.Rule == rule {
			found = true
		}
	}
	assert.True(t, found, "no *RuleError for member %q rule %q in: %v", member, rule, err)
	for _, target := range targets {
		assert.ErrorIs(t, err, target)
	}
}

// expectUntouched asserts nothing changed on any device or on management.
func (h *harness) expectUntouched(t *testing.T) {
	t.Helper()
	assert.Empty(t, h.actions(), "state-changing device commands")
	assert.Empty(t, h.mgmt.WriteCalls(), "management writes")
	for _, m := range h.sim.Members() {
		assert.Equal(t, h.from, m.Version())
		assert.Empty(t, m.Uploaded(), "%s uploads", m.Name())
	}
}

// expectForwarding asserts the cluster still forwards.
func (h *harness) expectForwarding(t *testing.T) {
	t.Helper()
	assert.True(t, h.sim.Probe().Forwarding(), "the cluster does not forward")
	assert.NotNil(t, h.sim.Active(), "no ACTIVE member")
}

// vsxSystems are the three Virtual Systems of the VSX tests.
var vsxSystems = []checkpointtest.VirtualSystem{{ID: 1, Name: "vs1"}, {ID: 2, Name: "vs2"}, {ID: 3, Name: "vs3"}}

func TestE2EVSXUpgrade(t *testing.T) {
	for _, jumbo := range []int{0, 92} {
		t.Run(fmt.Sprintf("jumbo=%d", jumbo), func(t *testing.T) {
			h := startHarness(t, harnessOpts{vsx: true, jumbo: jumbo, sim: checkpointtest.Options{VirtualSystems: vsxSystems, LoginContext: 2}})
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			rep, plan, err := h.run(ctx, &upgrade.MemoryJournal{}, "")
			require.NoError(t, err, "plan:\n%s", plan.Render())
			require.True(t, rep.OK, rep.Error)
			t.Logf("plan:\n%s\nprobe %+v", plan.Render(), h.sim.ProbeSummary())
			h.expectConverged(t, "gw-b")
			assert.Equal(t, 1, h.sim.Failovers())
			assert.Equal(t, "R81.20", h.mgmt.ClusterVersion(cpCluster), "VSX object upgraded on management")
			assert.Equal(t, "vsx-object@R81.20", plan.StepIDs()[1], "the VSX object first")
			assert.Equal(t, []string{
				"[cpcluster] access=true tp=false all=false",
				"[cpcluster] access=true tp=true all=true",
				"[vs1] access=true tp=true all=true",
				"[vs2] access=true tp=true all=true",
				"[vs3] access=true tp=true all=true",
			}, h.policyInstalls())
			for _, m := range h.sim.Members() {
				assert.False(t, m.DynamicBalancing(), "%s: CoreXL Dynamic Balancing turned on", m.Name())
				if jumbo > 0 {
					assert.Equal(t, jumbo, m.Take(), m.Name())
					conf, ok := m.File(m.FWDir() + "/conf/dynamic_split.conf")
					require.True(t, ok)
					assert.Contains(t, conf, "OFF_BY_DEFAULT_ON_VSX=1")
					_, ok = m.File(m.FWDir() + "/conf/dynamic_split.conf.hitless-backup")
					assert.True(t, ok, "backup of dynamic_split.conf on %s", m.Name())
				}
				// Cluster commands run in VS0 although the sessions land in VS 2.
				assert.Contains(t, m.Commands(), "bash -lc 'vsenv 0 >/dev/null && cphaprob state'")
			}
			for _, s := range rep.Steps {
				if s.Name == "vsx-object@R81.20" {
					assert.Contains(t, s.Note, "upgraded to R81.20")
				}
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers (a logger).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestE2ESecretsNeverLogged: a whole run with every record at Debug level
// (SDK, driver, management client, executor) and its report carry no
// password and no management session ID.
func TestE2ESecretsNeverLogged(t *testing.T) {
	h := startHarness(t, harnessOpts{})
	var logs lockedBuffer
	h.cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	rep, _, err := h.run(ctx, &upgrade.MemoryJournal{}, "")
	require.NoError(t, err)
	js, err := rep.JSON()
	require.NoError(t, err)
	text := logs.String() + string(js) + rep.Markdown()
	require.NotEmpty(t, logs.String())
	secrets := append([]string{h.cfg.Password, h.cfg.ExpertPassword, checkpointtest.DefaultMgmtPassword}, h.mgmt.IssuedSIDs()...)
	for _, s := range secrets {
		assert.NotContains(t, text, s)
	}
	for _, e := range h.cfg.Transcript.Entries() {
		for _, s := range secrets {
			assert.NotContains(t, e.Command+e.Output+e.Error, s)
		}
	}
}

// TestE2EThreeMembers: every STANDBY member is upgraded and joins, one at a
// time, before the failover; the ACTIVE member goes last.
func TestE2EThreeMembers(t *testing.T) {
	h := startHarness(t, harnessOpts{sim: checkpointtest.Options{Names: []string{"gw-a", "gw-b", "gw-c"}}})
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	rep, plan, err := h.run(ctx, &upgrade.MemoryJournal{}, "")
	require.NoError(t, err, "plan:\n%s", plan.Render())
	require.True(t, rep.OK)
	for _, m := range h.sim.Members() {
		assert.Equal(t, "R82", m.Version(), m.Name())
		assert.False(t, m.MVC(), m.Name())
	}
	assert.Equal(t, 0, h.sim.Probe().LostTicks())
	assert.Equal(t, 1, h.sim.Failovers())
	assert.Equal(t, []string{
		"[cpcluster] access=true tp=false all=false",
		"[cpcluster] access=true tp=false all=false",
		"[cpcluster] access=true tp=true all=true",
	}, h.policyInstalls())
	assert.Equal(t, 1, h.count("clusterXL_admin down"))
}
