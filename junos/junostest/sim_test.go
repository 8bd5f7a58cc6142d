package junostest_test

// End-to-end tests: the real driver (scrapligo over x/crypto/ssh, platform
// juniper_junos) against the simulator on 127.0.0.1, outputs read back with
// the junos parsers. Nothing sleeps: waits are on the simulator's change
// notifications (Sim.WaitFor), redials with backoff, or upgrade.PollUntil.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/junos/junostest"
)

const target = "22.4R3-S2.11"

// status runs `show chassis cluster status` and parses it.
func status(t *testing.T, s driver.Session) junos.ClusterStatus {
	t.Helper()
	out := send(t, s, "show chassis cluster status")
	st, err := junos.ParseChassisClusterStatus(out)
	require.NoError(t, err, out)
	return st
}

// nodeRow returns node's row in group rg.
func nodeRow(t *testing.T, st junos.ClusterStatus, rg int, node string) junos.NodeStatus {
	t.Helper()
	g, ok := st.Group(rg)
	require.True(t, ok, "RG%d", rg)
	n, ok := g.Node(node)
	require.True(t, ok, "RG%d %s", rg, node)
	return n
}

// capture reads a capture of package junos's testdata.
func capture(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "testdata"}, parts...)...))
	require.NoError(t, err)
	return string(b)
}

func TestStartDefaults(t *testing.T) {
	sim := startSim(t, junostest.Options{})
	n0, n1 := sim.Node(0), sim.Node(1)
	assert.Same(t, n0, sim.NodeByName("node0"))
	assert.Same(t, n1, sim.Nodes()[1])
	assert.Nil(t, sim.Node(2))
	assert.Nil(t, sim.NodeByName("node2"))
	assert.Equal(t, "root", sim.Username())
	assert.NotEmpty(t, sim.Password())
	assert.Equal(t, []int{0, 1}, sim.RedundancyGroups())
	for i, n := range sim.Nodes() {
		assert.Equal(t, "node"+strconv.Itoa(i), n.Name())
		assert.Equal(t, i, n.Index())
		assert.Equal(t, junostest.DefaultVersion, n.Version())
		assert.Equal(t, "", n.PendingVersion())
		assert.Equal(t, "127.0.0.1", n.Host())
		assert.Equal(t, "127.0.0.1:"+strconv.Itoa(n.Port()), n.Addr())
		assert.False(t, n.Down())
		assert.False(t, n.Disabled())
		assert.Equal(t, 1, n.Boots())
	}
	assert.Equal(t, "vsrx-node0", n0.Hostname())
	assert.Equal(t, "vsrx-node1", n1.Hostname())
	for _, rg := range sim.RedundancyGroups() {
		assert.Equal(t, "node0", sim.Primary(rg))
		assert.Equal(t, 1, sim.FailoverCount(rg))
		assert.Equal(t, 0, sim.Failovers(rg))
		assert.False(t, sim.Manual(rg))
		assert.False(t, sim.Preempt(rg))
		assert.Equal(t, "primary", n0.Status(rg))
		assert.Equal(t, "secondary", n1.Status(rg))
		assert.Equal(t, 100, n0.Priority(rg))
		assert.Equal(t, 1, n1.Priority(rg))
	}
	assert.True(t, sim.ControlLink())
	assert.True(t, sim.FabricLink())
	assert.True(t, sim.Probe().Forwarding())
	assert.Equal(t, 1, sim.Commits())
	kh, err := os.ReadFile(sim.KnownHostsFile())
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	require.Len(t, lines, 2, "one known_hosts line per node")
	assert.NotEqual(t, strings.Fields(lines[0])[2], strings.Fields(lines[1])[2], "each node has its own host key")
}

func TestOptionsValidation(t *testing.T) {
	for _, o := range []junostest.Options{
		{Version: "17.3-2017-07-02.0_x"},
		{Hostnames: [2]string{"-bad", "ok"}},
		{ClusterID: 300},
		{RedundancyGroups: 4},
		{Priorities: [2]int{0, 255}},
		{Preempt: []int{0}},
		{AddOutput: "fancy"},
		{Faults: junostest.Faults{BackOnOld: "node2"}},
		{Faults: junostest.Faults{MonitorFailures: []junostest.MonitorFailure{{Node: "node1", RG: 5, Codes: []string{"IF"}}}}},
		{Faults: junostest.Faults{MonitorFailures: []junostest.MonitorFailure{{Node: "node1", RG: 1, Codes: []string{"if"}}}}},
		{Faults: junostest.Faults{VarAvailable: map[string]int64{"nodeX": 1}}},
		{Faults: junostest.Faults{ThirdPartyCommit: &junostest.ThirdPartyCommit{}}},
	} {
		_, err := junostest.Start(o)
		assert.ErrorContains(t, err, "junostest: invalid options", "%+v", o)
	}
}

// TestBannerStrippedFromResults: the {state:nodeN} banner and the prompt are
// part of the platform's prompt pattern, so results carry neither.
func TestBannerStrippedFromResults(t *testing.T) {
	sim := startSim(t, fastOptions())
	s0, s1 := open(t, sim, sim.Node(0)), open(t, sim, sim.Node(1))

	out := send(t, s0, "show chassis cluster status")
	assert.NotContains(t, out, "{primary:node0}")
	assert.NotContains(t, out, "root@vsrx-node0")
	assert.True(t, strings.HasPrefix(out, "Monitor Failure codes:\n"), out)
	assert.True(t, strings.HasSuffix(out, "node1  1        secondary            no      no       None"), out)
	st, err := junos.ParseChassisClusterStatus(out)
	require.NoError(t, err)
	assert.Equal(t, 1, st.ClusterID)
	assert.Len(t, st.Groups, 2)
	assert.Empty(t, st.LocalNode, "the banner line was stripped")
	require.NoError(t, st.Healthy())
	p, ok := st.Primary(1)
	assert.True(t, ok)
	assert.Equal(t, "node0", p)

	// The XML reply keeps its own <cli><banner>, which gives the local node.
	out = send(t, s1, "show chassis cluster status | display xml")
	assert.True(t, strings.HasSuffix(out, "</rpc-reply>"), out)
	assert.Contains(t, out, "<banner>{secondary:node1}</banner>")
	st, err = junos.ParseChassisClusterStatus(out)
	require.NoError(t, err)
	assert.Equal(t, "node1", st.LocalNode)
	assert.Equal(t, junos.StateSecondary, st.LocalState)
	require.NoError(t, st.Healthy())
}

// TestStatusShapeFollowsCapture: the status text has exactly the lines of
// the vSRX 19.x capture (its documentation indentation removed) from the
// "Cluster ID" line on, and the legend of the raw ntc-templates capture.
func TestStatusShapeFollowsCapture(t *testing.T) {
	sim := startSim(t, junostest.Options{ClusterID: 2})
	s := open(t, sim, sim.Node(0))
	got := strings.Split(send(t, s, "show chassis cluster status"), "\n")

	raw := capture(t, "chassis-cluster-status", "vsrx-19-healthy-preempt-no.txt")
	var want []string
	for _, l := range strings.Split(strings.TrimRight(raw, "\n"), "\n")[1:] { // without the prompt line
		want = append(want, strings.TrimPrefix(l, "    "))
	}
	require.Equal(t, "{primary:node0}", want[len(want)-1])
	want = want[:len(want)-2] // the blank line and banner belong to the prompt
	idx := func(lines []string) int {
		for i, l := range lines {
			if strings.HasPrefix(l, "Cluster ID:") {
				return i
			}
		}
		return -1
	}
	require.GreaterOrEqual(t, idx(want), 0)
	assert.Equal(t, want[idx(want):], got[idx(got):])

	ntc := strings.Split(capture(t, "chassis-cluster-status", "ntc-peer-lost-rg1-rg3-prio0-cs.txt"), "\n")
	assert.Equal(t, ntc[:idx(ntc)], got[:idx(got)], "legend of the raw capture")

	a, err := junos.ParseChassisClusterStatus(raw)
	require.NoError(t, err)
	b, err := junos.ParseChassisClusterStatus(strings.Join(got, "\n"))
	require.NoError(t, err)
	a.LocalNode, a.LocalState = "", ""
	assert.Equal(t, a, b)
}

// TestVersionAndStorageParse: `show version` and `show system storage`, text
// and XML, parse with the junos parsers and agree with the model.
func TestVersionAndStorageParse(t *testing.T) {
	sim := startSim(t, fastOptions())
	s := open(t, sim, sim.Node(0))
	for _, cmd := range []string{"show version", "show version | display xml", "show version | no-more"} {
		out := send(t, s, cmd)
		sw, err := junos.ParseSoftwareInformation(out)
		require.NoError(t, err, cmd)
		require.Len(t, sw.Nodes, 2, cmd)
		for i, n := range sw.Nodes {
			assert.Equal(t, "node"+strconv.Itoa(i), n.Node)
			assert.Equal(t, sim.Node(i).Hostname(), n.Hostname)
			assert.Equal(t, "vsrx", n.Model)
			assert.Equal(t, junostest.DefaultVersion, n.Version.String())
		}
	}

	// Package lines in the shape of the SRX1500 capture (bracket contents aside).
	brackets := regexp.MustCompile(`\[[^\]]*\]`)
	norm := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "Hostname:") || strings.HasPrefix(l, "Model:") || strings.HasPrefix(l, "Junos:") {
				l, _, _ = strings.Cut(l, ":")
			}
			out = append(out, brackets.ReplaceAllString(l, "[]"))
		}
		return out
	}
	want := norm(strings.TrimSuffix(capture(t, "show-version", "srx1500-19.4-cluster.txt"), "\n\n{primary:node0}\n"))
	assert.Equal(t, want, norm(send(t, s, "show version")))

	n1 := sim.Node(1)
	n1.SetVarAvailable(3 << 30)
	for _, cmd := range []string{"show system storage", "show system storage | display xml", "show system storage no-forwarding"} {
		out := send(t, s, cmd)
		st, err := junos.ParseSystemStorage(out)
		require.NoError(t, err, cmd)
		require.Len(t, st.Nodes, 2)
		for i, ns := range st.Nodes {
			assert.Equal(t, "node"+strconv.Itoa(i), ns.Node)
			assert.Len(t, ns.Filesystems, 5)
			got, ok := ns.Available("/var")
			require.True(t, ok)
			assert.InDelta(t, float64(sim.Node(i).VarAvailable()), float64(got), float64(100<<20), cmd)
		}
		avail, ok := st.Available("/var")
		require.True(t, ok)
		assert.InDelta(t, float64(3<<30), float64(avail), float64(100<<20), "the smaller node wins")
	}

	// The storage rows of node0 are the capture's rows.
	golden := capture(t, "show-system-storage", "genie-freebsd11-golden.txt")
	out := send(t, s, "show system storage")
	for _, l := range strings.Split(strings.TrimSpace(golden), "\n")[1:] {
		assert.Contains(t, out, strings.TrimSpace(l)+"\n")
	}
}

// TestPromptIgnoresPercentAndDollarLines: output lines ending in "%" or "$",
// or looking like the FreeBSD shell prompt, are returned, not taken for the
// prompt.
func TestPromptIgnoresPercentAndDollarLines(t *testing.T) {
	sim := startSim(t, fastOptions())
	n := sim.Node(0)
	text := "usage at 90%\nprice in $\nroot@vsrx-node0:~ # \nroot@vsrx-node0% \n/dev/gpt/var 7.0G 117M 6.3G 2%\nlast line"
	local := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(local, []byte(text+"\n"), 0o600))
	s := open(t, sim, n)
	verify := func(ctx context.Context, remote string) (int64, error) {
		out, err := s.Send(ctx, "file list detail "+remote)
		if err != nil {
			return 0, err
		}
		f := strings.Fields(out)
		if len(f) < 5 {
			return 0, errors.New("unexpected file list: " + out)
		}
		return strconv.ParseInt(f[4], 10, 64)
	}
	require.NoError(t, driver.Upload(ctxT(t), configFor(t, sim, n), local, "/var/tmp/notes.txt", verify))
	assert.Equal(t, []string{"/var/tmp/notes.txt"}, n.Files())
	assert.Equal(t, []string{"/var/tmp/notes.txt"}, n.Uploaded())
	out := send(t, s, "file show /var/tmp/notes.txt")
	assert.Equal(t, strings.ReplaceAll(text, " \n", "\n"), out, "trailing spaces are trimmed by scrapligo")
	data, err := n.ReadFile("/var/tmp/notes.txt")
	require.NoError(t, err)
	assert.Equal(t, text+"\n", string(data))
	_, err = n.ReadFile("/var/tmp/none")
	assert.ErrorIs(t, err, junostest.ErrNotFound)

	list := send(t, s, "file list /var/tmp")
	assert.Equal(t, "/var/tmp/:\nnotes.txt", list)
	assert.Contains(t, send(t, s, "file list detail /var/tmp/"), "total files: 1")
	assert.Equal(t, "", send(t, s, "file copy /var/tmp/notes.txt node1:/var/tmp/"))
	assert.Equal(t, []string{"/var/tmp/notes.txt"}, sim.Node(1).Files())
	assert.Equal(t, "", send(t, s, "file delete /var/tmp/notes.txt"))
	assert.Empty(t, n.Files())
	assert.Contains(t, rejected(t, s, "file delete /var/tmp/notes.txt"), "No such file or directory")
	assert.Contains(t, rejected(t, s, "file show /etc/passwd"), "error: could not resolve file")
}

// TestConfigurationModeAndCommit: configure, set, show | compare, commit,
// exit, and the configuration export.
func TestConfigurationModeAndCommit(t *testing.T) {
	sim := startSim(t, fastOptions())
	s := open(t, sim, sim.Node(1)) // the RG0 secondary: the configuration is shared
	before := sim.Configuration()

	out := send(t, s, "configure")
	assert.Equal(t, "warning: Clustering enabled; using private edit\nwarning: uncommitted changes will be discarded on exit\nEntering configuration mode", out)
	assert.Equal(t, "", send(t, s, "set chassis cluster redundancy-group 1 preempt"), "the {secondary:node1}[edit] banner is stripped too")
	assert.Equal(t, "[edit chassis cluster redundancy-group 1]\n+    preempt;", send(t, s, "show | compare"))
	assert.Contains(t, send(t, s, "show chassis cluster redundancy-group 1"), "preempt;")
	assert.False(t, sim.Preempt(1), "not committed yet")
	st, err := junos.ParseChassisClusterStatus(send(t, s, "run show chassis cluster status"))
	require.NoError(t, err)
	assert.Equal(t, junos.FlagNo, nodeRow(t, st, 1, "node0").Preempt)

	assert.Equal(t, "configuration check succeeds", send(t, s, "commit check"))
	out = send(t, s, "commit")
	assert.Equal(t, "node1:\nconfiguration check succeeds\nnode0:\ncommit complete\nnode1:\ncommit complete", out)
	assert.True(t, sim.Preempt(1))
	assert.Equal(t, 2, sim.Commits())
	assert.Equal(t, "", send(t, s, "show | compare"))
	st, err = junos.ParseChassisClusterStatus(send(t, s, "run show chassis cluster status | display xml"))
	require.NoError(t, err)
	assert.Equal(t, junos.FlagYes, nodeRow(t, st, 1, "node0").Preempt)
	assert.Equal(t, junos.FlagYes, nodeRow(t, st, 1, "node1").Preempt)
	assert.Equal(t, "Exiting configuration mode", send(t, s, "exit"))

	assert.Contains(t, send(t, s, "show configuration chassis cluster"), "redundancy-group 1 {\n    node 0 priority 100;\n    node 1 priority 1;\n")
	assert.Contains(t, send(t, s, "show configuration chassis cluster"), "\n    preempt;\n")
	export := send(t, s, "show configuration | display set")
	assert.Equal(t, strings.TrimSpace(sim.Configuration()), export)
	assert.Contains(t, export, "\nset chassis cluster redundancy-group 1 preempt\n")
	assert.NotEqual(t, before, sim.Configuration())
	assert.Equal(t, "set chassis cluster redundancy-group 1 preempt",
		send(t, s, "show configuration chassis cluster redundancy-group 1 | display set | match preempt"))
	full := send(t, s, "show configuration")
	assert.True(t, strings.HasPrefix(full, "## Last commit: "), full)
	assert.Contains(t, full, "\nversion "+junostest.DefaultVersion+";\n")
	assert.Contains(t, full, `encrypted-password "$6$hitless$simulated.password.hash"; ## SECRET-DATA`)
	assert.Contains(t, full, `apply-groups "${node}";`)

	// Deactivate, then delete.
	send(t, s, "configure")
	assert.Equal(t, "", send(t, s, "deactivate chassis cluster redundancy-group 1 preempt"))
	assert.Equal(t, "[edit chassis cluster redundancy-group 1]\n-    preempt;\n+    inactive: preempt;", send(t, s, "show | compare"))
	assert.Contains(t, send(t, s, "commit and-quit"), "Exiting configuration mode")
	assert.False(t, sim.Preempt(1))
	assert.Contains(t, sim.Configuration(), "\ndeactivate chassis cluster redundancy-group 1 preempt\n")
	assert.Contains(t, send(t, s, "show configuration chassis cluster"), "    inactive: preempt;\n")
	send(t, s, "configure")
	send(t, s, "delete chassis cluster redundancy-group 1 preempt")
	assert.Equal(t, "warning: statement not found", send(t, s, "delete chassis cluster redundancy-group 1 preempt"))
	assert.Contains(t, send(t, s, "commit"), "commit complete")
	assert.NotContains(t, sim.Configuration(), "preempt")
	assert.Equal(t, before, sim.Configuration(), "back to the original configuration")

	// Rejected statements and commits; the session stays in configuration mode.
	assert.Contains(t, rejected(t, s, "set chassis cluster redundancy-group 1 node 0 priority abc"), "invalid numeric value: 'abc'.")
	assert.Contains(t, rejected(t, s, "set chassis cluster redundancy-group 1 node 0 priority 300"), "error: value 300 is not within range (1..254)")
	assert.Contains(t, rejected(t, s, "set chassis cluster redundancy-group 1 node 0"), "missing mandatory argument")
	assert.Contains(t, rejected(t, s, "set chassis clutser"), "syntax error.")
	assert.Contains(t, rejected(t, s, "set bogus statement"), "syntax error.")
	assert.Equal(t, "", send(t, s, "set chassis cluster redundancy-group 0 preempt"))
	out = rejected(t, s, "commit")
	assert.Contains(t, out, "[edit chassis cluster redundancy-group 0]\n  'preempt'\n")
	assert.Contains(t, out, "error: configuration check-out failed")
	assert.Equal(t, "load complete", send(t, s, "rollback"))
	assert.Equal(t, "", send(t, s, "show | compare"))
	assert.Equal(t, "", send(t, s, "delete chassis cluster redundancy-group 1 node 1 priority"))
	assert.Contains(t, rejected(t, s, "commit"), "Missing mandatory statement: 'priority'")
	assert.Equal(t, "Exiting configuration mode", send(t, s, "exit"), "uncommitted changes are discarded")
	assert.Equal(t, before, sim.Configuration())

	// A priority change applies to the cluster status.
	send(t, s, "configure")
	send(t, s, "set chassis cluster redundancy-group 1 node 1 priority 200")
	send(t, s, "commit and-quit")
	assert.Equal(t, 200, sim.Node(1).Priority(1))
	assert.Equal(t, "node0", sim.Primary(1), "no preempt: the lower-priority primary keeps the group")
}

func TestCommitFailsWhenPreemptLocked(t *testing.T) {
	o := fastOptions()
	o.Faults.PreemptLocked = true
	sim := startSim(t, o)
	s := open(t, sim, sim.Node(0))
	send(t, s, "configure")
	send(t, s, "set chassis cluster redundancy-group 1 preempt")
	out := rejected(t, s, "commit")
	assert.Contains(t, out, "'preempt'")
	assert.Contains(t, out, "error: configuration check-out failed")
	assert.Contains(t, rejected(t, s, "commit check"), "error: configuration check-out failed")
	assert.False(t, sim.Preempt(1))
	assert.Equal(t, 1, sim.Commits())
	send(t, s, "rollback")
	send(t, s, "set chassis cluster redundancy-group 1 node 1 priority 50")
	assert.Contains(t, send(t, s, "commit"), "commit complete", "other changes commit")
	assert.Equal(t, 2, sim.Commits())
}

// TestThirdPartyCommit: someone else commits during a run; the exported
// configuration differs and `show system commit` names them.
func TestThirdPartyCommit(t *testing.T) {
	o := fastOptions()
	o.Faults.ThirdPartyCommit = &junostest.ThirdPartyCommit{After: "show version", User: "alice",
		Statements: []string{"set system ntp server 192.0.2.123"}}
	sim := startSim(t, o)
	s := open(t, sim, sim.Node(0))
	before := send(t, s, "show configuration | display set")
	assert.Equal(t, before, send(t, s, "show configuration | display set"), "stable export")
	send(t, s, "show version")
	after := send(t, s, "show configuration | display set")
	assert.NotEqual(t, before, after)
	assert.Contains(t, after, "set system ntp server 192.0.2.123")
	commits := strings.Split(send(t, s, "show system commit"), "\n")
	require.Len(t, commits, 2)
	assert.Regexp(t, `^0   \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by alice via cli$`, commits[0])
	assert.Regexp(t, `^1   .* by root via cli$`, commits[1])
	send(t, s, "show version")
	assert.Equal(t, 2, sim.Commits(), "the fault fires once")

	require.NoError(t, sim.ThirdPartyCommit("bob", "delete system ntp", "set chassis cluster redundancy-group 1 preempt"))
	assert.True(t, sim.Preempt(1))
	assert.NotContains(t, sim.Configuration(), "ntp")
	assert.Error(t, sim.ThirdPartyCommit("bob", "set chassis cluster redundancy-group 1 node 0 priority 999"))
	assert.Error(t, sim.ThirdPartyCommit("bob", "set"))
	assert.Equal(t, 3, sim.Commits())
}

// uploadPackage writes a package for version and uploads it to n's /var/tmp.
func uploadPackage(t *testing.T, sim *junostest.Sim, n *junostest.Node, platform, version string) string {
	t.Helper()
	pkg, err := junostest.WritePackageFor(t.TempDir(), platform, version)
	require.NoError(t, err)
	remote := "/var/tmp/" + filepath.Base(pkg)
	require.NoError(t, driver.Upload(ctxT(t), configFor(t, sim, n), pkg, remote, nil))
	return remote
}

// rebootExchange confirms `request system reboot`.
var rebootExchange = []driver.Exchange{
	{Input: "request system reboot", Expect: `Reboot the system \? \[yes,no\] \(no\)\s*$`},
	{Input: "yes"},
}

// TestSoftwareAddAndReboot: stage and install on the secondary node, reboot
// it with the confirmation; it drops its sessions, refuses connections, and
// comes back on the new version as secondary. No probe tick is lost.
func TestSoftwareAddAndReboot(t *testing.T) {
	o := fastOptions()
	o.RebootDuration = time.Hour // ended by Recover, so that "down" can be observed
	sim := startSim(t, o)
	n0, n1 := sim.Node(0), sim.Node(1)
	remote := uploadPackage(t, sim, n1, junostest.PackagePlatform, target)
	assert.Equal(t, "/var/tmp/"+junostest.PackageName("vsrx3", target), remote)
	s1 := open(t, sim, n1)

	out := send(t, s1, "request system software add "+remote+" no-copy")
	assert.Contains(t, out, "NOTICE: Validating configuration against "+filepath.Base(remote)+".")
	assert.Contains(t, out, "Validation succeeded")
	assert.Contains(t, out, "WARNING: A reboot is required to install the software")
	res, err := junos.ParseSoftwareAdd(out)
	require.NoError(t, err, out)
	assert.True(t, res.Pending)
	assert.Equal(t, target, n1.PendingVersion())
	assert.Equal(t, junostest.DefaultVersion, n1.Version())

	out = send(t, s1, "request system software add "+remote+" no-copy")
	assert.True(t, strings.HasPrefix(out, "There is already an install pending."), out)
	_, err = junos.ParseSoftwareAdd(out)
	assert.ErrorIs(t, err, junos.ErrInstallPending)

	out, err = s1.Interact(ctxT(t), rebootExchange)
	if err == nil {
		assert.Contains(t, out, "Shutdown NOW!")
	} else {
		assert.ErrorIs(t, err, driver.ErrDropped, "the node may drop before the prompt")
	}
	waitFor(t, sim, "node1 down", n1.Down)
	_, err = s1.Send(ctxT(t), "show version")
	assert.Error(t, err, "the session is gone")
	cfg := configFor(t, sim, n1)
	cfg.DialTimeout = time.Second
	_, err = driver.Open(ctxT(t), cfg)
	assert.ErrorIs(t, err, driver.ErrUnreachable, "connections are refused while down")

	s0 := open(t, sim, n0)
	st := status(t, s0)
	for _, rg := range []int{0, 1} {
		r := nodeRow(t, st, rg, "node1")
		assert.Equal(t, junos.StateLost, r.Status)
		assert.Equal(t, 0, r.Priority)
		assert.Equal(t, junos.FlagNA, r.Manual)
	}
	assert.ErrorIs(t, st.Healthy(), junos.ErrNodeDown)
	sw, err := junos.ParseSoftwareInformation(send(t, s0, "show version"))
	require.NoError(t, err)
	assert.Len(t, sw.Nodes, 1, "only the visible node")

	n1.Recover()
	s1 = reconnect(t, sim, n1)
	assert.Equal(t, target, n1.Version())
	assert.Equal(t, "", n1.PendingVersion())
	assert.Equal(t, 2, n1.Boots())
	sw, err = junos.ParseSoftwareInformation(send(t, s1, "show version | display xml"))
	require.NoError(t, err)
	v1, _ := sw.Node("node1")
	v0, _ := sw.Node("node0")
	assert.Equal(t, target, v1.Version.String())
	assert.Equal(t, junostest.DefaultVersion, v0.Version.String())

	st = status(t, s1)
	for _, rg := range []int{0, 1} {
		assert.Equal(t, junos.StateSecondary, nodeRow(t, st, rg, "node1").Status)
		assert.Equal(t, junos.StatePrimary, nodeRow(t, st, rg, "node0").Status)
	}
	waitFor(t, sim, "cold sync over", func() bool { return n1.Priority(1) == 1 })
	require.NoError(t, status(t, s1).Healthy())
	assert.Equal(t, 0, sim.Probe().LostTicks(), "the secondary's reboot loses no traffic")
	assert.Equal(t, 0, sim.Failovers(1))
	assert.Contains(t, n1.Commands(), "request system reboot")
}

// TestRebootReturnsAfterRebootDuration: a plain reboot comes back by itself,
// on the same version; during cold sync RG1 shows priority 0 and CS.
func TestRebootReturnsAfterRebootDuration(t *testing.T) {
	o := fastOptions()
	o.ColdSync = 300 * time.Millisecond
	sim := startSim(t, o)
	n1 := sim.Node(1)
	s1 := open(t, sim, n1)
	_, _ = s1.Interact(ctxT(t), rebootExchange)
	waitFor(t, sim, "node1 down", n1.Down)
	waitFor(t, sim, "node1 back", func() bool { return !n1.Down() })
	s1 = open(t, sim, n1)
	assert.Equal(t, junostest.DefaultVersion, n1.Version())
	poll(t, "cold sync seen or over", func(context.Context) error {
		st := status(t, s1)
		r := nodeRow(t, st, 1, "node1")
		if r.Priority == 0 {
			assert.Equal(t, []string{"CS"}, r.MonitorFailures)
			assert.ErrorIs(t, st.Healthy(), junos.ErrMonitorFailure)
		}
		if r.Priority == 1 {
			return nil
		}
		return errNotYet
	})
}

func TestRebootAnswerNo(t *testing.T) {
	sim := startSim(t, fastOptions())
	n1 := sim.Node(1)
	s := open(t, sim, n1)
	out, err := s.Interact(ctxT(t), []driver.Exchange{
		{Input: "request system reboot", Expect: `\(no\)\s*$`}, {Input: "no"}})
	require.NoError(t, err)
	assert.NotContains(t, out, "Shutdown")
	assert.False(t, n1.Down())
	assert.Equal(t, 1, n1.Boots())
	send(t, s, "show version")
}

// TestSoftwareAddFailures: the failure outputs are rejected by the platform
// (CommandError) and classified by junos.ParseSoftwareAdd.
func TestSoftwareAddFailures(t *testing.T) {
	t.Run("insufficient space", func(t *testing.T) {
		sim := startSim(t, fastOptions())
		n := sim.Node(1)
		n.SetVarAvailable(100 << 10)
		remote := uploadPackage(t, sim, n, junostest.PackagePlatform, target)
		assert.Less(t, n.VarAvailable(), int64(100<<10))
		out := rejected(t, open(t, sim, n), "request system software add "+remote+" no-copy")
		_, err := junos.ParseSoftwareAdd(out)
		assert.ErrorIs(t, err, junos.ErrInsufficientSpace, out)
		assert.Equal(t, "", n.PendingVersion())
	})
	t.Run("upload without space", func(t *testing.T) {
		sim := startSim(t, fastOptions())
		n := sim.Node(1)
		n.SetVarAvailable(1000)
		pkg, err := junostest.WritePackage(t.TempDir(), target)
		require.NoError(t, err)
		err = driver.Upload(ctxT(t), configFor(t, sim, n), pkg, "/var/tmp/", nil)
		assert.ErrorIs(t, err, driver.ErrUpload, "the sink answers No space left on device")
		assert.Empty(t, n.Files())
	})
	t.Run("wrong platform package", func(t *testing.T) {
		sim := startSim(t, fastOptions())
		n := sim.Node(1)
		remote := uploadPackage(t, sim, n, "srx5000", target)
		out := rejected(t, open(t, sim, n), "request system software add "+remote+" no-copy")
		_, err := junos.ParseSoftwareAdd(out)
		assert.ErrorIs(t, err, junos.ErrWrongPlatform, out)
	})
	t.Run("wrong platform fault", func(t *testing.T) {
		o := fastOptions()
		o.Faults.WrongPlatform = "node1"
		sim := startSim(t, o)
		remote := uploadPackage(t, sim, sim.Node(1), junostest.PackagePlatform, target)
		out := rejected(t, open(t, sim, sim.Node(1)), "request system software add "+remote)
		_, err := junos.ParseSoftwareAdd(out)
		assert.ErrorIs(t, err, junos.ErrWrongPlatform, out)
		remote = uploadPackage(t, sim, sim.Node(0), junostest.PackagePlatform, target)
		_, err = junos.ParseSoftwareAdd(send(t, open(t, sim, sim.Node(0)), "request system software add "+remote))
		assert.NoError(t, err, "only node1 is affected")
	})
	t.Run("validation fails", func(t *testing.T) {
		o := fastOptions()
		o.Faults.ValidationFails = "node1"
		sim := startSim(t, o)
		n := sim.Node(1)
		remote := uploadPackage(t, sim, n, junostest.PackagePlatform, target)
		s := open(t, sim, n)
		out := rejected(t, s, "request system software add "+remote+" no-copy")
		assert.Contains(t, out, "Validation failed")
		_, err := junos.ParseSoftwareAdd(out)
		assert.ErrorIs(t, err, junos.ErrValidation, out)
		out = send(t, s, "request system software add "+remote+" no-copy no-validate")
		assert.NotContains(t, out, "Validating")
		_, err = junos.ParseSoftwareAdd(out)
		require.NoError(t, err)
		assert.Equal(t, target, n.PendingVersion())
	})
	t.Run("damaged package and missing file", func(t *testing.T) {
		sim := startSim(t, fastOptions())
		n := sim.Node(1)
		local := filepath.Join(t.TempDir(), "junos-install-vsrx3-x86-64-"+target+".tgz")
		require.NoError(t, os.WriteFile(local, []byte("not a package\n"), 0o600))
		require.NoError(t, driver.Upload(ctxT(t), configFor(t, sim, n), local, "/var/tmp/"+filepath.Base(local), nil))
		s := open(t, sim, n)
		out := rejected(t, s, "request system software add /var/tmp/"+filepath.Base(local))
		_, err := junos.ParseSoftwareAdd(out)
		assert.ErrorIs(t, err, junos.ErrValidation, out)
		out = rejected(t, s, "request system software add /var/tmp/missing.tgz")
		assert.Contains(t, out, "is not found or empty")
		_, err = junos.ParseSoftwareAdd(out)
		assert.ErrorIs(t, err, junos.ErrSoftwareAdd)
		assert.Contains(t, rejected(t, s, "request system software add /var/tmp/missing.tgz no-reboot"), "syntax error.")
		assert.Contains(t, rejected(t, s, "request system software add"), "missing mandatory argument")
	})
	t.Run("legacy wording, unlink and rollback", func(t *testing.T) {
		o := fastOptions()
		o.AddOutput = junostest.AddLegacy
		sim := startSim(t, o)
		n := sim.Node(1)
		remote := uploadPackage(t, sim, n, junostest.PackagePlatform, target)
		s := open(t, sim, n)
		out := send(t, s, "request system software add "+remote+" no-copy unlink")
		res, err := junos.ParseSoftwareAdd(out)
		require.NoError(t, err, out)
		assert.Equal(t, target, res.Version)
		assert.Contains(t, res.Warnings, "WARNING: A reboot is required to load this software correctly")
		assert.Empty(t, n.Files(), "unlink removes the package")
		out = send(t, s, "request system software rollback")
		assert.Equal(t, "Junos version '"+junostest.DefaultVersion+"' will become active at next reboot", out)
		assert.Equal(t, "", n.PendingVersion())
		assert.Contains(t, rejected(t, s, "request system software rollback"), "error: rollback is not possible")
	})
}

// TestAddWithRebootAndRollbackAfterUpgrade: `... add ... reboot` reboots by
// itself; afterwards a rollback makes the old version pending again.
func TestAddWithRebootAndRollbackAfterUpgrade(t *testing.T) {
	sim := startSim(t, fastOptions())
	n := sim.Node(1)
	remote := uploadPackage(t, sim, n, junostest.PackagePlatform, target)
	s := open(t, sim, n)
	out, err := s.Send(ctxT(t), "request system software add "+remote+" no-copy reboot")
	if err == nil {
		assert.Contains(t, out, "Rebooting ...")
	}
	waitFor(t, sim, "node1 rebooted onto the target", func() bool { return n.Boots() == 2 && !n.Down() })
	assert.Equal(t, target, n.Version())
	s = open(t, sim, n)
	out = send(t, s, "request system software rollback")
	assert.Contains(t, out, "Junos version '"+junostest.DefaultVersion+"' will become active at next reboot")
	assert.Equal(t, junostest.DefaultVersion, n.PendingVersion())
}

// TestManualFailoverRG1ThenRG0: RG1 moves with Manual yes and priority 255,
// losing no probe tick; the reset clears Manual; an RG0 failover leaves the
// old primary secondary-hold until the hold-down passes, refusing another RG0
// failover meanwhile.
func TestManualFailoverRG1ThenRG0(t *testing.T) {
	o := fastOptions()
	o.HoldDown = time.Second // the checks during the hold-down take far less
	sim := startSim(t, o)
	n0, n1 := sim.Node(0), sim.Node(1)
	s0, s1 := open(t, sim, n0), open(t, sim, n1)

	out := send(t, s0, "request chassis cluster failover redundancy-group 1 node 1")
	assert.Equal(t, "node1:\n--------------------------------------------------------------------------\nInitiated manual failover for redundancy group 1", out)
	assert.Equal(t, "node1", sim.Primary(1))
	assert.True(t, sim.Manual(1))
	assert.Equal(t, 1, sim.Failovers(1))
	for _, s := range []driver.Session{s0, s1} {
		st := status(t, s)
		r1, r0 := nodeRow(t, st, 1, "node1"), nodeRow(t, st, 1, "node0")
		assert.Equal(t, junos.StatePrimary, r1.Status)
		assert.Equal(t, 255, r1.Priority)
		assert.Equal(t, junos.FlagYes, r1.Manual)
		assert.Equal(t, junos.StateSecondary, r0.Status)
		assert.Equal(t, 100, r0.Priority)
		assert.Equal(t, junos.FlagYes, r0.Manual)
		g, _ := st.Group(1)
		assert.Equal(t, 2, g.FailoverCount)
		assert.ErrorIs(t, st.Healthy(), junos.ErrManualFailover)
	}
	assert.Contains(t, rejected(t, s0, "request chassis cluster failover redundancy-group 1 node 1"), "already primary")

	out = send(t, s0, "request chassis cluster failover reset redundancy-group 1")
	assert.Contains(t, out, "node0:\n"+strings.Repeat("-", 74)+"\nNo reset required for redundancy group 1.")
	assert.Contains(t, out, "node1:\n"+strings.Repeat("-", 74)+"\nSuccessfully reset manual failover for redundancy group 1")
	st := status(t, s0)
	assert.Equal(t, 1, nodeRow(t, st, 1, "node1").Priority)
	assert.Equal(t, junos.FlagNo, nodeRow(t, st, 1, "node1").Manual)
	assert.Equal(t, "node1", sim.Primary(1), "no preempt: the group stays")

	// RG0.
	out = send(t, s0, "request chassis cluster failover redundancy-group 0 node 1")
	assert.Contains(t, out, "Initiated manual failover for redundancy group 0")
	for _, s := range []driver.Session{s0, s1} {
		st := status(t, s)
		assert.Equal(t, junos.StateSecondaryHold, nodeRow(t, st, 0, "node0").Status)
		assert.Equal(t, junos.StatePrimary, nodeRow(t, st, 0, "node1").Status)
		assert.Equal(t, 255, nodeRow(t, st, 0, "node1").Priority)
	}
	st, err := junos.ParseChassisClusterStatus(send(t, s0, "show chassis cluster status | display xml"))
	require.NoError(t, err)
	assert.Equal(t, junos.StateSecondaryHold, st.LocalState, "banner of node0")
	assert.Equal(t, "secondary-hold", n0.Status(0))
	assert.Contains(t, rejected(t, s1, "request chassis cluster failover redundancy-group 0 node 0"), "secondary-hold")
	send(t, s1, "request chassis cluster failover reset redundancy-group 0")
	st = status(t, s1)
	assert.Equal(t, junos.StateSecondaryHold, nodeRow(t, st, 0, "node0").Status, "the reset does not end the hold-down")
	assert.Equal(t, 1, nodeRow(t, st, 0, "node1").Priority)
	waitFor(t, sim, "hold-down over", func() bool { return n0.Status(0) == "secondary" })
	assert.Equal(t, junos.StateSecondary, nodeRow(t, status(t, s1), 0, "node0").Status)
	send(t, s1, "request chassis cluster failover redundancy-group 0 node 0")
	assert.Equal(t, "node0", sim.Primary(0))
	send(t, s1, "request chassis cluster failover reset redundancy-group 0")

	assert.Equal(t, 2, sim.Failovers(0))
	assert.Equal(t, 1, sim.Failovers(1))
	assert.Equal(t, 0, sim.Probe().LostTicks(), "manual failovers lose no traffic")
	assert.Positive(t, sim.Probe().Ticks())

	// Malformed or refused failovers.
	assert.Contains(t, rejected(t, s0, "request chassis cluster failover redundancy-group 7 node 1"), "redundancy-group 7 not configured")
	assert.Contains(t, rejected(t, s0, "request chassis cluster failover redundancy-group 1 node 2"), "not within range (0..1)")
	assert.Contains(t, rejected(t, s0, "request chassis cluster failover redundancy-group x node 1"), "invalid numeric value: 'x'.")
	assert.Contains(t, rejected(t, s0, "request chassis cluster failover redundancy-group 1"), "syntax error, expecting <command>.")
}

// TestNoLostTicksAcrossRG1Failovers: RG1 moves back and forth with a 1 ms
// probe: no tick is lost.
func TestNoLostTicksAcrossRG1Failovers(t *testing.T) {
	o := fastOptions()
	o.ProbeEvery = time.Millisecond
	sim := startSim(t, o)
	s := open(t, sim, sim.Node(0))
	for i := range 6 {
		node := strconv.Itoa((i + 1) % 2)
		send(t, s, "request chassis cluster failover redundancy-group 1 node "+node)
		send(t, s, "request chassis cluster failover reset redundancy-group 1")
		require.Equal(t, "node"+node, sim.Primary(1))
	}
	assert.Equal(t, 6, sim.Failovers(1))
	assert.Equal(t, 0, sim.Probe().LostTicks())
	assert.Equal(t, time.Duration(0), sim.Probe().Outage())
}

// TestPrimaryRebootLosesTraffic: rebooting the RG1 primary without a
// failover first leaves RG1 without a primary for FailoverGap.
func TestPrimaryRebootLosesTraffic(t *testing.T) {
	o := fastOptions()
	o.ProbeEvery = time.Millisecond
	sim := startSim(t, o)
	n0 := sim.Node(0)
	s := open(t, sim, n0)
	_, _ = s.Interact(ctxT(t), rebootExchange)
	waitFor(t, sim, "node1 takes over", func() bool { return sim.Primary(1) == "node1" && sim.Primary(0) == "node1" })
	waitFor(t, sim, "node0 back", func() bool { return !n0.Down() })
	assert.Greater(t, sim.Probe().LostTicks(), 0)
	assert.GreaterOrEqual(t, sim.Probe().Outage(), o.FailoverGap)
	assert.Equal(t, 1, sim.Failovers(1))
	assert.Equal(t, 1, sim.Failovers(0))
	assert.Equal(t, "node1", sim.Primary(1), "no preempt: node0 comes back secondary")
	st := status(t, open(t, sim, n0))
	assert.Equal(t, junos.StateSecondary, nodeRow(t, st, 0, "node0").Status)
}

// TestPreempt: with preempt on RG1, the higher-priority node takes RG1 back
// after a reset, and when it returns from a reboot (after its cold sync).
func TestPreempt(t *testing.T) {
	o := fastOptions()
	o.Preempt = []int{1}
	o.ColdSync = 500 * time.Millisecond // long enough to observe it
	sim := startSim(t, o)
	n0 := sim.Node(0)
	s := open(t, sim, sim.Node(1))
	assert.True(t, sim.Preempt(1))
	assert.False(t, sim.Preempt(0))

	send(t, s, "request chassis cluster failover redundancy-group 1 node 1")
	assert.Equal(t, "node1", sim.Primary(1), "a manual failover holds against preempt")
	send(t, s, "request chassis cluster failover reset redundancy-group 1")
	assert.Equal(t, "node0", sim.Primary(1), "preempt takes the group back at the reset")
	assert.Equal(t, 2, sim.Failovers(1))

	// The higher-priority node reboots while node1 holds everything.
	send(t, s, "request chassis cluster failover redundancy-group 1 node 1")
	send(t, s, "request chassis cluster failover redundancy-group 0 node 1")
	n0.Reboot()
	send(t, s, "request chassis cluster failover reset redundancy-group 1")
	send(t, s, "request chassis cluster failover reset redundancy-group 0")
	assert.Equal(t, "node1", sim.Primary(1), "node0 is down: nothing to preempt")
	waitFor(t, sim, "node0 back", func() bool { return !n0.Down() })
	assert.Equal(t, 0, n0.Priority(1), "cold sync first")
	waitFor(t, sim, "preempt after the cold sync", func() bool { return sim.Primary(1) == "node0" })
	assert.Equal(t, "node1", sim.Primary(0), "RG0 does not preempt")
	assert.Equal(t, 4, sim.Failovers(1))
	assert.Equal(t, 0, sim.Probe().LostTicks())
	st := status(t, s)
	assert.Equal(t, junos.FlagYes, nodeRow(t, st, 1, "node0").Preempt)
	assert.Equal(t, junos.StatePrimary, nodeRow(t, st, 1, "node0").Status)
}

// TestMonitorFailures: an interface-monitor failure gives priority 0 and the
// code in the status, blocks failovers to that node and moves the group off
// a failing primary.
func TestMonitorFailures(t *testing.T) {
	o := fastOptions()
	o.Faults.MonitorFailures = []junostest.MonitorFailure{{Node: "node1", RG: 1, Codes: []string{"IF"}}}
	sim := startSim(t, o)
	n0, n1 := sim.Node(0), sim.Node(1)
	s := open(t, sim, n0)
	for _, cmd := range []string{"show chassis cluster status", "show chassis cluster status | display xml"} {
		st, err := junos.ParseChassisClusterStatus(send(t, s, cmd))
		require.NoError(t, err)
		r := nodeRow(t, st, 1, "node1")
		assert.Equal(t, 0, r.Priority)
		assert.Equal(t, []string{"IF"}, r.MonitorFailures)
		assert.ErrorIs(t, st.Healthy(), junos.ErrMonitorFailure)
	}
	assert.Contains(t, rejected(t, s, "request chassis cluster failover redundancy-group 1 node 1"), "priority 0")
	assert.Contains(t, send(t, s, "show chassis cluster interfaces"), "    ge-7/0/1          255       Down / Down               1")

	n0.SetMonitorFailures(1, "IF", "IP")
	assert.Equal(t, "node0", sim.Primary(1), "the peer is not eligible either")
	st := status(t, s)
	assert.Equal(t, []string{"IF", "IP"}, nodeRow(t, st, 1, "node0").MonitorFailures)
	n1.SetMonitorFailures(1)
	assert.Equal(t, "node1", sim.Primary(1), "the group leaves the failing primary")
	assert.Equal(t, 1, sim.Failovers(1))
	assert.Equal(t, 0, sim.Probe().LostTicks())
	n0.SetMonitorFailures(1)
	require.NoError(t, status(t, s).Healthy())
}

// TestLinksAndDisabledNodes: a fabric link loss disables the RG0 secondary;
// a control link loss makes each node see the other lost; only a reboot
// clears disabled.
func TestLinksAndDisabledNodes(t *testing.T) {
	sim := startSim(t, fastOptions())
	n0, n1 := sim.Node(0), sim.Node(1)
	s0, s1 := open(t, sim, n0), open(t, sim, n1)

	sim.SetFabricLink(false)
	assert.False(t, sim.FabricLink())
	assert.True(t, n1.Disabled())
	st := status(t, s0)
	assert.Equal(t, junos.StateDisabled, nodeRow(t, st, 1, "node1").Status)
	assert.ErrorIs(t, st.Healthy(), junos.ErrNodeDown)
	assert.Contains(t, send(t, s0, "show chassis cluster interfaces"), "Fabric link status: Down\n")
	assert.Contains(t, rejected(t, s0, "request chassis cluster failover redundancy-group 1 node 1"), "disabled")
	st, err := junos.ParseChassisClusterStatus(send(t, s1, "show chassis cluster status | display xml"))
	require.NoError(t, err)
	assert.Equal(t, junos.StateDisabled, st.LocalState, "node1's banner")
	assert.Equal(t, "disabled", n1.Status(0))
	sim.SetFabricLink(true)
	assert.True(t, n1.Disabled(), "disabled until a reboot")
	n1.Reboot()
	waitFor(t, sim, "node1 back", func() bool { return !n1.Down() })
	assert.False(t, n1.Disabled())

	s1 = open(t, sim, n1)
	sim.SetControlLink(false)
	assert.False(t, sim.ControlLink())
	st = status(t, s0)
	assert.Equal(t, junos.StateLost, nodeRow(t, st, 0, "node1").Status)
	st = status(t, s1)
	assert.Equal(t, junos.StateLost, nodeRow(t, st, 0, "node0").Status)
	assert.Equal(t, junos.StateDisabled, nodeRow(t, st, 0, "node1").Status)
	assert.Contains(t, send(t, s0, "show chassis cluster interfaces"), "Control link status: Down\n")
	sim.SetControlLink(true)
	assert.Equal(t, junos.StateDisabled, nodeRow(t, status(t, s0), 1, "node1").Status)
	assert.Equal(t, 0, sim.Probe().LostTicks(), "the primary kept forwarding")

	n1.Reboot()
	waitFor(t, sim, "node1 back", func() bool { return !n1.Down() })
	n0.Disable()
	assert.Equal(t, "node1", sim.Primary(1))
	assert.Equal(t, "node1", sim.Primary(0))
}

// TestNodeFailAndRecover: a node that fails drops its sessions; its peer
// takes over after FailoverGap.
func TestNodeFailAndRecover(t *testing.T) {
	sim := startSim(t, fastOptions())
	n0 := sim.Node(0)
	s := open(t, sim, n0)
	n0.Fail()
	_, err := s.Send(ctxT(t), "show version")
	assert.ErrorIs(t, err, driver.ErrDropped)
	waitFor(t, sim, "node1 takes over", func() bool { return sim.Primary(1) == "node1" })
	assert.Positive(t, sim.Probe().LostTicks())
	assert.True(t, n0.Down())
	n0.Recover()
	s = reconnect(t, sim, n0)
	assert.Equal(t, junos.StateSecondary, nodeRow(t, status(t, s), 1, "node0").Status)
}

func TestFaultNeverReturnsAndBackOnOld(t *testing.T) {
	o := fastOptions()
	o.Faults.NeverReturns = "node1"
	o.Faults.BackOnOld = "node1"
	sim := startSim(t, o)
	n1 := sim.Node(1)
	remote := uploadPackage(t, sim, n1, junostest.PackagePlatform, target)
	s := open(t, sim, n1)
	send(t, s, "request system software add "+remote+" no-copy")
	_, _ = s.Interact(ctxT(t), rebootExchange)
	waitFor(t, sim, "node1 down", n1.Down)
	ctx, cancel := context.WithTimeout(context.Background(), 5*o.RebootDuration)
	defer cancel()
	_, err := driver.WaitReachable(ctx, configFor(t, sim, n1), driver.Backoff{Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond})
	var we *driver.WaitError
	require.ErrorAs(t, err, &we, "never returns")
	n1.Recover()
	reconnect(t, sim, n1)
	assert.Equal(t, junostest.DefaultVersion, n1.Version(), "back on the old version")
	assert.Equal(t, "", n1.PendingVersion())
}

func TestFaultFailoverRefusedAndCommandError(t *testing.T) {
	o := fastOptions()
	o.Faults.FailoverRefused = "Chassis cluster is busy"
	o.Faults.CommandError = map[string]string{"show system storage": "storage daemon not responding"}
	sim := startSim(t, o)
	s := open(t, sim, sim.Node(0))
	assert.Equal(t, "error: Chassis cluster is busy", rejected(t, s, "request chassis cluster failover redundancy-group 1 node 1"))
	assert.Equal(t, "node0", sim.Primary(1))
	assert.Contains(t, send(t, s, "request chassis cluster failover reset redundancy-group 1"), "No reset required")
	out := rejected(t, s, "show system storage | display xml")
	assert.Equal(t, "error: storage daemon not responding", out)
	_, err := junos.ParseSystemStorage(out)
	assert.ErrorIs(t, err, junos.ErrDeviceError)
}

// TestFaultSlow: a slow command outlasts a short call timeout (the session
// is aborted) and completes under a longer one.
func TestFaultSlow(t *testing.T) {
	o := fastOptions()
	o.Faults.Slow = map[string]time.Duration{"show chassis cluster": time.Second}
	sim := startSim(t, o)
	cfg := configFor(t, sim, sim.Node(0))
	cfg.Timeout = 200 * time.Millisecond
	s, err := driver.Open(ctxT(t), cfg)
	require.NoError(t, err)
	defer func() { _ = s.Close() }()
	_, err = s.Send(ctxT(t), "show chassis cluster status")
	assert.ErrorIs(t, err, driver.ErrAborted)
	s2 := open(t, sim, sim.Node(0))
	status(t, s2)
	send(t, s2, "show version")
}

// TestCommandErrors: rejected commands print a caret under the offending
// word, as the Junos CLI does; the platform turns them into CommandErrors.
func TestCommandErrors(t *testing.T) {
	sim := startSim(t, fastOptions())
	s := open(t, sim, sim.Node(0))
	prompt := len("root@vsrx-node0> ")
	assert.Equal(t, strings.Repeat(" ", prompt)+"^\nunknown command.", rejected(t, s, "foo bar"))
	assert.Equal(t, strings.Repeat(" ", prompt+5)+"^\nsyntax error, expecting <command>.", rejected(t, s, "show foo"))
	assert.Contains(t, rejected(t, s, "show version extra"), "syntax error.")
	assert.Contains(t, rejected(t, s, "show version | display json"), "syntax error")
	assert.Contains(t, rejected(t, s, "show chassis cluster interfaces | display xml"), "error: junostest: '| display xml' is not simulated")
	assert.Contains(t, rejected(t, s, "request chassis cluster failover reset redundancy-group 9"), "not configured")
	assert.Contains(t, rejected(t, s, "show chassis cluster status redundancy-group 9"), "not configured")
	st, err := junos.ParseChassisClusterStatus(send(t, s, "show chassis cluster status redundancy-group 1"))
	require.NoError(t, err)
	require.Len(t, st.Groups, 1)
	assert.Equal(t, 1, st.Groups[0].ID)
	assert.Equal(t, "Count: 4 lines", send(t, s, "show chassis cluster status | match ^node | count"))
	assert.Equal(t, "No alarms currently active\nNo alarms currently active", send(t, s, "show system alarms | match alarms"))
	assert.Equal(t, "node0:\n\nnode1:", send(t, s, "show system alarms | except alarms | except ^-"))
	sim.Node(1).SetAlarms("FPC 0 PIC 0 link down")
	assert.Contains(t, send(t, s, "show chassis alarms"), "1 alarms currently active\n")
	for _, c := range []string{"set cli screen-length 0", "set cli screen-width 0", "set cli complete-on-space off"} {
		assert.Contains(t, sim.Node(0).Commands(), c, "the platform's on-open commands")
	}
}

// TestHostKeyVerification: each node presents its own host key; a key not in
// the known_hosts file, or another node's key, is refused.
func TestHostKeyVerification(t *testing.T) {
	sim := startSim(t, fastOptions())
	kh, err := os.ReadFile(sim.KnownHostsFile())
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	require.Len(t, lines, 2)
	dir := t.TempDir()

	only0 := filepath.Join(dir, "only0")
	require.NoError(t, os.WriteFile(only0, []byte(lines[0]+"\n"), 0o600))
	cfg := configFor(t, sim, sim.Node(1))
	cfg.KnownHostsFile = only0
	_, err = driver.Open(ctxT(t), cfg)
	var he *driver.HostKeyError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, driver.HostKeyUnknown, he.Reason)

	swapped := filepath.Join(dir, "swapped")
	f0 := strings.Fields(lines[0])
	f1 := strings.Fields(lines[1])
	require.NoError(t, os.WriteFile(swapped, []byte(f1[0]+" "+f0[1]+" "+f0[2]+"\n"), 0o600))
	cfg.KnownHostsFile = swapped
	_, err = driver.Open(ctxT(t), cfg)
	require.ErrorAs(t, err, &he)
	assert.Equal(t, driver.HostKeyChanged, he.Reason)

	cfg = configFor(t, sim, sim.Node(1))
	cfg.Password = "wrong"
	_, err = driver.Open(ctxT(t), cfg)
	assert.ErrorIs(t, err, driver.ErrAuth)
	open(t, sim, sim.Node(1))
}

func TestWaitForHonoursContext(t *testing.T) {
	sim := startSim(t, fastOptions())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := sim.WaitFor(ctx, func() bool { return false })
	assert.ErrorIs(t, err, context.Canceled)
	require.NoError(t, sim.WaitFor(context.Background(), func() bool { return true }))
}

func TestWritePackage(t *testing.T) {
	_, err := junostest.WritePackage(t.TempDir(), "not-a-version")
	assert.Error(t, err)
	_, err = junostest.WritePackageFor(t.TempDir(), "SRX 5000", target)
	assert.Error(t, err)
	p, err := junostest.WritePackage(t.TempDir(), target)
	require.NoError(t, err)
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, int64(junostest.PackageSize), fi.Size())
	assert.Equal(t, "junos-install-vsrx3-x86-64-"+target+".tgz", filepath.Base(p))
}

// TestThreeRedundancyGroups: RG2 is a second data-plane group; the probe
// needs a primary for both.
func TestThreeRedundancyGroups(t *testing.T) {
	o := fastOptions()
	o.RedundancyGroups = 3
	o.Priorities = [2]int{200, 150}
	sim := startSim(t, o)
	assert.Equal(t, []int{0, 1, 2}, sim.RedundancyGroups())
	assert.Equal(t, 3, sim.Options().RedundancyGroups)
	s := open(t, sim, sim.Node(0))
	st := status(t, s)
	require.Len(t, st.Groups, 3)
	assert.Equal(t, 150, nodeRow(t, st, 2, "node1").Priority)
	require.NoError(t, st.Healthy())
	ifs := send(t, s, "show chassis cluster interfaces")
	assert.Contains(t, ifs, "    reth1        Up          2\n")
	assert.Contains(t, ifs, "    ge-7/0/2          255       Up / Up                   2")
	assert.Contains(t, sim.Configuration(), "set interfaces reth1 redundant-ether-options redundancy-group 2\n")
	send(t, s, "request chassis cluster failover redundancy-group 2 node 1")
	assert.Equal(t, "node1", sim.Primary(2))
	assert.Equal(t, "node0", sim.Primary(1))
	sim.Node(1).Fail()
	waitFor(t, sim, "RG2 back on node0", func() bool { return sim.Primary(2) == "node0" })
	assert.Positive(t, sim.Probe().LostTicks(), "RG2 had no primary for the failover gap")
	assert.False(t, sim.Manual(2), "the manual failover ended with its node")
}

// TestSplitBrainAfterBootWithControlLinkDown: a node that boots while the
// control link is down sees itself primary of everything; the data plane
// stays with the other node; the views agree again when the link returns.
func TestSplitBrainAfterBootWithControlLinkDown(t *testing.T) {
	sim := startSim(t, fastOptions())
	n1 := sim.Node(1)
	sim.SetControlLink(false)
	require.True(t, n1.Disabled())
	n1.Reboot()
	waitFor(t, sim, "node1 back", func() bool { return !n1.Down() })
	assert.False(t, n1.Disabled())
	st := status(t, open(t, sim, n1))
	for _, rg := range []int{0, 1} {
		assert.Equal(t, junos.StatePrimary, nodeRow(t, st, rg, "node1").Status)
		assert.Equal(t, junos.StateLost, nodeRow(t, st, rg, "node0").Status)
	}
	assert.Equal(t, "node0", sim.Primary(1))
	sim.SetControlLink(true)
	assert.Equal(t, "secondary", n1.Status(1))
	assert.Equal(t, 0, sim.Probe().LostTicks())
}
