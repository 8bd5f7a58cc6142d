package checkpointtest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// uploadDir is where packages are copied, as for CPUSE "import local".
const uploadDir = "/var/log/upload"

// writePkg writes a simulated package into a temporary directory.
func writePkg(t *testing.T, p Package) string {
	t.Helper()
	path, err := WritePackage(t.TempDir(), p)
	require.NoError(t, err)
	return path
}

// stage uploads the package at local to m by SCP (driver.Upload),
// imports it and waits until CPUSE lists it. It returns the file name.
func stage(t *testing.T, s *Sim, m *Member, sess driver.Session, local string) string {
	t.Helper()
	name := filepath.Base(local)
	remote := uploadDir + "/" + name
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	require.NoError(t, driver.Upload(ctx, driverConfig(t, s, m), local, remote, nil))
	require.Contains(t, m.Uploaded(), remote)
	out := send(t, sess, "installer import local "+remote)
	assert.Contains(t, out, "Info: Initiating import of "+name+"...")
	waitFor(t, s, name+" imported on "+m.Name(), func() bool { return slices.Contains(m.Imported(), name) })
	return name
}

// clusterState runs `show cluster state` and parses it.
func clusterState(t *testing.T, sess driver.Session) checkpoint.ClusterState {
	t.Helper()
	cs, err := checkpoint.ParseClusterState(send(t, sess, "show cluster state"))
	require.NoError(t, err)
	return cs
}

// states maps member names to their state in cs (as printed).
func states(cs checkpoint.ClusterState) map[string]string {
	out := map[string]string{}
	for _, m := range cs.Members {
		out[m.Name] = m.State.String()
	}
	return out
}

// upgradeNow runs `installer upgrade <file> not-interactive` on m: the
// command returns its output or the session drops with the reboot; either
// way the session is gone afterwards. It waits until m is back.
func upgradeNow(t *testing.T, s *Sim, m *Member, sess driver.Session, file string) {
	t.Helper()
	boots := m.Reboots()
	out, err := sess.Send(t.Context(), "installer upgrade "+file+" not-interactive")
	if err == nil {
		assert.Contains(t, out, "Info: Initiating upgrade of "+file+"...")
	} else {
		var de *driver.DroppedError
		require.ErrorAs(t, err, &de)
	}
	waitFor(t, s, m.Name()+" rebooting", m.Down)
	_, err = sess.Send(t.Context(), "show cluster state")
	var de *driver.DroppedError
	require.ErrorAs(t, err, &de, "the reboot dropped the session")
	waitFor(t, s, m.Name()+" back", func() bool { return m.Reboots() > boots && !m.Down() })
}

// TestAsyncImport: `installer import local` returns at once; the package is
// listed as imported only after ImportDuration.
func TestAsyncImport(t *testing.T) {
	o := fastOptions()
	o.ImportDuration = 500 * time.Millisecond
	s := startSim(t, o)
	b := s.Members()[1]
	sess := open(t, s, b)
	local := writePkg(t, Package{Kind: KindMajor, Release: "R82"})
	name := filepath.Base(local)
	assert.Equal(t, "Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar", name)
	require.NoError(t, driver.Upload(t.Context(), driverConfig(t, s, b), local, uploadDir+"/"+name, nil))

	out := send(t, sess, "installer import local "+uploadDir+"/"+name)
	assert.Equal(t, "Preparing package for import. This operation might take a few moments\n"+
		"Note: The selected package will be copied into CPUSE repository\n"+
		"Info: Initiating import of "+name+"...", out)
	assert.Empty(t, b.Imported(), "not imported yet")
	assert.NotContains(t, send(t, sess, "show installer packages imported"), "R82")
	assert.Contains(t, send(t, sess, "installer import local "+uploadDir+"/"+name), "already in progress")

	waitFor(t, s, "imported", func() bool { return len(b.Imported()) == 1 })
	listing := send(t, sess, "show installer packages imported")
	assert.Contains(t, listing, "Check Point R82 Gaia Fresh Install and Upgrade (Build 777)")
	assert.Contains(t, listing, "Available for Upgrade")
	assert.Equal(t, "Info: Initiating verify of "+name+"...\nResult: Verifier results:\nUpgrade: Upgrade is allowed.",
		send(t, sess, "installer verify "+strings.TrimSuffix(name, ".tar")))

	_, err := sess.Send(t.Context(), "installer import local /var/log/upload/missing.tar")
	var ce *driver.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, ce.Output, "was not found")
	_, err = sess.Send(t.Context(), "installer upgrade missing.tar not-interactive")
	require.ErrorAs(t, err, &ce)
}

// TestImportNeverFinishes: with the fault, a bounded wait for the import
// fails with the gate's timeout.
func TestImportNeverFinishes(t *testing.T) {
	o := fastOptions()
	o.Faults.ImportNeverFinishes = "gw-b"
	s := startSim(t, o)
	b := s.Members()[1]
	sess := open(t, s, b)
	local := writePkg(t, Package{Kind: KindMajor, Release: "R82"})
	require.NoError(t, driver.Upload(t.Context(), driverConfig(t, s, b), local, uploadDir+"/"+filepath.Base(local), nil))
	send(t, sess, "installer import local "+uploadDir+"/"+filepath.Base(local))
	err := poll(t, "import", 300*time.Millisecond, func(ctx context.Context) error {
		if strings.Contains(send(t, sess, "show installer packages imported"), "R82") {
			return nil
		}
		return errors.New("not imported yet")
	})
	require.ErrorIs(t, err, upgrade.ErrGateTimeout)
}

// TestRebootDropRefuseReturn: `installer upgrade` drops the session, the
// member refuses connections while it reboots and comes back on the new
// version, READY and seen LOST by its old peer, which stays ACTIVE(!) and
// forwards all along.
func TestRebootDropRefuseReturn(t *testing.T) {
	o := fastOptions()
	o.RebootDuration = 500 * time.Millisecond
	s := startSim(t, o)
	a, b := s.Members()[0], s.Members()[1]
	sa, sb := open(t, s, a), open(t, s, b)
	file := stage(t, s, b, sb, writePkg(t, Package{Kind: KindMajor, Release: "R82"}))

	boots := b.Reboots()
	out, err := sb.Send(t.Context(), "installer upgrade "+file+" not-interactive")
	require.NoError(t, err, "ApplyDelay lets the output arrive")
	assert.Contains(t, out, "reboot automatically")
	waitFor(t, s, "gw-b rebooting", b.Down)
	_, err = dialRaw(t, s, b)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused")
	_, err = sb.Send(t.Context(), "show cluster state")
	var de *driver.DroppedError
	require.ErrorAs(t, err, &de)

	cs := clusterState(t, sa)
	assert.Equal(t, map[string]string{"gw-a": "ACTIVE(!)", "gw-b": "LOST"}, states(cs))
	assert.Equal(t, []string{"IAC"}, cs.PNOTEs)

	waitFor(t, s, "gw-b back", func() bool { return b.Reboots() > boots && !b.Down() })
	assert.Equal(t, "R82", b.Version())
	assert.Equal(t, "777", b.Build())
	sb = open(t, s, b)
	v, err := checkpoint.ParseVersion(send(t, sb, "show version all"))
	require.NoError(t, err)
	assert.Equal(t, "R82", v.Release)
	assert.Equal(t, "4.18.0-372.9.1cpx86_64", v.Kernel)
	cs = clusterState(t, sb)
	assert.Equal(t, map[string]string{"gw-a": "ACTIVE(!)", "gw-b": "READY"}, states(cs))
	assert.Equal(t, "CLUS-113500", cs.LastStateChange.Code)
	assert.Equal(t, "DOWN", cs.LastStateChange.From.String())
	assert.Equal(t, 0, cs.FailoverCount.Counter, "the counter restarts at boot")
	assert.Equal(t, map[string]string{"gw-a": "ACTIVE(!)", "gw-b": "LOST"}, states(clusterState(t, sa)))
	assert.Equal(t, 0, s.Probe().LostTicks(), "the ACTIVE member forwarded all along")
	assert.Equal(t, 0, s.Failovers())
	assert.Empty(t, b.Imported(), "the repository is emptied by a major upgrade")
}

// TestLostPeersUnlisted: the documented variant where the old member does
// not list the upgraded one at all.
func TestLostPeersUnlisted(t *testing.T) {
	o := fastOptions()
	o.LostPeersUnlisted = true
	s := startSim(t, o)
	a, b := s.Members()[0], s.Members()[1]
	sb := open(t, s, b)
	upgradeNow(t, s, b, sb, stage(t, s, b, sb, writePkg(t, Package{Kind: KindMajor, Release: "R82"})))
	cs := clusterState(t, open(t, s, a))
	assert.Equal(t, map[string]string{"gw-a": "ACTIVE(!)"}, states(cs))
	assert.Equal(t, "READY", b.State())
}

// TestMVCJoinsAfterPolicy: the upgraded member stays READY (LOST for its
// peer) with MVC on until a policy is installed on it; then it is STANDBY
// in both views. The policy result for the mixed cluster is "succeeded" on
// the new member and "failed" on the old one.
func TestMVCJoinsAfterPolicy(t *testing.T) {
	s := startSim(t, fastOptions())
	a, b := s.Members()[0], s.Members()[1]
	sa, sb := open(t, s, a), open(t, s, b)
	upgradeNow(t, s, b, sb, stage(t, s, b, sb, writePkg(t, Package{Kind: KindMajor, Release: "R82"})))
	sb = open(t, s, b)

	assert.Equal(t, "succeeded", s.PolicyResult("gw-b"))
	assert.Equal(t, "failed", s.PolicyResult("gw-a"))
	assert.Equal(t, "succeeded", s.PolicyResultFor("gw-a", "R81.20"))
	assert.Equal(t, "failed", s.PolicyResult("nobody"))

	// Policy without MVC: still READY.
	s.PolicyInstalled("gw-b")
	assert.Equal(t, "READY", b.State())

	enterExpert(t, s, sb)
	mvc, err := checkpoint.ParseMVC(send(t, sb, "cphaprob mvc"))
	require.NoError(t, err)
	assert.False(t, mvc.Enabled)
	assert.Equal(t, "", send(t, sb, "cphaconf mvc on"))
	assert.Equal(t, "0", send(t, sb, "echo $?"))
	mvc, err = checkpoint.ParseMVC(send(t, sb, "cphaprob mvc"))
	require.NoError(t, err)
	assert.True(t, mvc.Enabled)
	assert.Equal(t, "MVC: On", mvc.Text)

	cs, err := checkpoint.ParseClusterState(send(t, sb, "cphaprob state"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"gw-a": "ACTIVE", "gw-b": "STANDBY"}, states(cs), "MVC on and the policy: joined")
	assert.Equal(t, "CLUS-114802", cs.LastStateChange.Code)
	assert.Equal(t, "READY", cs.LastStateChange.From.String())
	csa := clusterState(t, sa)
	assert.Equal(t, map[string]string{"gw-a": "ACTIVE", "gw-b": "STANDBY"}, states(csa))
	assert.Equal(t, "CLUS-114904", csa.LastStateChange.Code, "ACTIVE(!) -> ACTIVE")
	assert.Empty(t, csa.PNOTEs)

	// MVC off again: READY/LOST again.
	assert.Equal(t, "", send(t, sb, "cphaconf mvc off"))
	assert.Equal(t, "READY", b.State())
	assert.Equal(t, "LOST", a.StateOf("gw-b"))
	assert.Equal(t, 0, s.Probe().LostTicks())
}

// TestClusterXLAdminFailover: clusterXL_admin down on the ACTIVE member
// moves the role to the STANDBY at once (no lost probe tick), counts one
// failover and prints the failover block; up brings it back as STANDBY.
func TestClusterXLAdminFailover(t *testing.T) {
	s := startSim(t, fastOptions())
	a, b := s.Members()[0], s.Members()[1]
	sa, sb := open(t, s, a), open(t, s, b)
	enterExpert(t, s, sa)
	out := send(t, sa, "clusterXL_admin down")
	assert.Contains(t, out, "Setting member to administratively down state ...")
	assert.Contains(t, out, "Member current state is DOWN")
	assert.True(t, a.AdminDown())
	assert.Same(t, b, s.Active())
	assert.Equal(t, 1, s.Failovers())

	for _, sess := range []driver.Session{sa, sb} {
		cs, err := checkpoint.ParseClusterState(send(t, sess, "cphaprob state"))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"gw-a": "DOWN", "gw-b": "ACTIVE"}, states(cs))
		require.NotNil(t, cs.LastFailover)
		assert.Equal(t, 1, cs.LastFailover.FromID)
		assert.Equal(t, 2, cs.LastFailover.ToID)
		assert.Equal(t, "ADMIN_DOWN PNOTE", cs.LastFailover.Reason)
		assert.Equal(t, 1, cs.FailoverCount.Counter)
		local, _ := cs.Local()
		if local.Name == "gw-a" {
			assert.Equal(t, []string{"ADMIN"}, cs.PNOTEs)
			assert.Equal(t, "CLUS-110200", cs.LastStateChange.Code)
		} else {
			assert.Empty(t, cs.PNOTEs)
			assert.Equal(t, "CLUS-114704", cs.LastStateChange.Code)
		}
	}
	out = send(t, sa, "clusterXL_admin up")
	assert.Contains(t, out, "Member current state is STANDBY")
	assert.Equal(t, "STANDBY", a.State())
	assert.Same(t, b, s.Active(), "Active Up: no fail-back")

	// The Clish form does the same.
	send(t, sb, "set cluster member admin down")
	assert.Same(t, a, s.Active())
	send(t, sb, "set cluster member admin up")
	assert.Equal(t, 2, s.Failovers())
	sum := s.ProbeSummary()
	assert.Equal(t, 0, sum.LostTicks)
	assert.Equal(t, time.Duration(0), sum.Outage)
	assert.Equal(t, 2, sum.Failovers)
	assert.Positive(t, sum.Ticks)
}

// TestAdminDownLastMember: with no other member able to take over, the
// admin-down member stays ACTIVE(!) with the ADMIN PNOTE and keeps
// forwarding (the ClusterXL rule for a problem on the last member).
func TestAdminDownLastMember(t *testing.T) {
	s := startSim(t, fastOptions())
	a, b := s.Members()[0], s.Members()[1]
	sa := open(t, s, a)
	b.Fail()
	waitFor(t, s, "gw-b down", b.Down)
	enterExpert(t, s, sa)
	out := send(t, sa, "clusterXL_admin down")
	assert.Contains(t, out, "Member current state is ACTIVE(!)")
	cs, err := checkpoint.ParseClusterState(send(t, sa, "cphaprob state"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"gw-a": "ACTIVE(!)", "gw-b": "LOST"}, states(cs))
	assert.Equal(t, []string{"ADMIN", "IAC"}, cs.PNOTEs)
	assert.Equal(t, 0, s.Probe().LostTicks())
}

// TestUnannouncedRebootLosesTicks: rebooting the ACTIVE member without a
// hand-over stops forwarding for FailoverGap: the probe counts the loss.
func TestUnannouncedRebootLosesTicks(t *testing.T) {
	s := startSim(t, fastOptions())
	a, b := s.Members()[0], s.Members()[1]
	a.Reboot()
	assert.False(t, s.Probe().Forwarding())
	waitFor(t, s, "gw-b takes over", b.Forwarding)
	assert.Greater(t, s.Probe().LostTicks(), 0)
	assert.GreaterOrEqual(t, s.Probe().Outage(), 50*time.Millisecond)
	assert.Equal(t, 1, s.Failovers())
	waitFor(t, s, "gw-a back", func() bool { return !a.Down() && a.State() == "STANDBY" })
	cs, err := checkpoint.ParseClusterState(a.ClusterState())
	require.NoError(t, err)
	assert.Nil(t, cs.LastFailover, "a rebooted member has no failover since its counter reset")
	cs, err = checkpoint.ParseClusterState(b.ClusterState())
	require.NoError(t, err)
	assert.Equal(t, "Reboot", cs.LastFailover.Reason)
}

// TestRollingMVCUpgrade runs the whole gateway-mode MVC procedure by hand
// through the driver: upgrade the STANDBY, MVC on, policy, fail over with
// clusterXL_admin down, upgrade the old ACTIVE, final policy, MVC off. The
// probe loses no tick.
func TestRollingMVCUpgrade(t *testing.T) {
	s := startSim(t, fastOptions())
	a, b := s.Members()[0], s.Members()[1]
	local := writePkg(t, Package{Kind: KindMajor, Release: "R82", Take: 60})

	// 2. Upgrade the STANDBY.
	sb := open(t, s, b)
	file := stage(t, s, b, sb, local)
	assert.Contains(t, send(t, sb, "installer verify "+file), "Upgrade is allowed.")
	upgradeNow(t, s, b, sb, file)
	assert.Equal(t, "READY", b.State())
	assert.Equal(t, "LOST", a.StateOf("gw-b"))

	// 3. MVC on (Clish form) and read back.
	sb = open(t, s, b)
	assert.Equal(t, "", send(t, sb, "set cluster member mvc on"))
	mvc, err := checkpoint.ParseMVC(send(t, sb, "show cluster members mvc"))
	require.NoError(t, err)
	require.True(t, mvc.Enabled)
	// 4. Policy: partially succeeded (new member only).
	require.Equal(t, "succeeded", s.PolicyResult("gw-b"))
	require.Equal(t, "failed", s.PolicyResult("gw-a"))
	s.PolicyInstalled("gw-b")
	assert.Equal(t, map[string]string{"gw-a": "ACTIVE", "gw-b": "STANDBY"}, states(clusterState(t, sb)))

	// 5. Fail over to the upgraded member.
	sa := open(t, s, a)
	enterExpert(t, s, sa)
	send(t, sa, "clusterXL_admin down")
	require.Same(t, b, s.Active())
	send(t, sa, "exit")

	// 7. Upgrade the old ACTIVE.
	file = stage(t, s, a, sa, local)
	upgradeNow(t, s, a, sa, file)
	assert.Equal(t, "R82", a.Version())
	assert.Equal(t, 60, a.Take())
	assert.Equal(t, "STANDBY", a.State(), "back on the new version as STANDBY")
	assert.Equal(t, "ACTIVE", b.State())

	// 8. Final policy on both, 9. MVC off everywhere.
	assert.Equal(t, "succeeded", s.PolicyResult("gw-a"))
	assert.Equal(t, "succeeded", s.PolicyResult("gw-b"))
	s.PolicyInstalled("gw-a")
	s.PolicyInstalled("gw-b")
	sb = open(t, s, b)
	send(t, sb, "set cluster member mvc off")
	sa = open(t, s, a)
	cs := clusterState(t, sa)
	assert.Equal(t, map[string]string{"gw-a": "STANDBY", "gw-b": "ACTIVE"}, states(cs))
	assert.Empty(t, cs.PNOTEs)
	for _, m := range []*Member{a, b} {
		assert.False(t, m.MVC())
		installed, rel := m.Policy()
		assert.True(t, installed)
		assert.Equal(t, "R82", rel)
	}
	take, err := checkpoint.ParseJumboTake(send(t, sa, "show installer packages installed"))
	require.NoError(t, err)
	assert.Equal(t, 60, take.Number)
	assert.Equal(t, "R82", take.Release)

	sum := s.ProbeSummary()
	assert.Equal(t, 0, sum.LostTicks, "the rolling MVC upgrade loses no probe tick")
	assert.Equal(t, 1, sum.Failovers)
}

// TestMVCFaults: a member that stays READY, an MVC setting that does not
// take, a member that comes back on its old version.
func TestMVCFaults(t *testing.T) {
	t.Run("StaysReady", func(t *testing.T) {
		o := fastOptions()
		o.Faults.StaysReady = "gw-b"
		s := startSim(t, o)
		b := s.Members()[1]
		sb := open(t, s, b)
		upgradeNow(t, s, b, sb, stage(t, s, b, sb, writePkg(t, Package{Kind: KindMajor, Release: "R82"})))
		sb = open(t, s, b)
		send(t, sb, "set cluster member mvc on")
		s.PolicyInstalled("gw-b")
		assert.True(t, b.MVC())
		assert.Equal(t, "READY", b.State())
		assert.Equal(t, "LOST", s.Members()[0].StateOf("gw-b"))
	})
	t.Run("MVCStaysOff", func(t *testing.T) {
		o := fastOptions()
		o.Faults.MVCStaysOff = "gw-b"
		s := startSim(t, o)
		b := s.Members()[1]
		sb := open(t, s, b)
		upgradeNow(t, s, b, sb, stage(t, s, b, sb, writePkg(t, Package{Kind: KindMajor, Release: "R82"})))
		sb = open(t, s, b)
		enterExpert(t, s, sb)
		assert.Equal(t, "", send(t, sb, "cphaconf mvc on"))
		assert.Equal(t, "0", send(t, sb, "echo $?"))
		mvc, err := checkpoint.ParseMVC(send(t, sb, "cphaprob mvc"))
		require.NoError(t, err)
		assert.False(t, mvc.Enabled, "the read-back says Off")
		s.PolicyInstalled("gw-b")
		assert.Equal(t, "READY", b.State())
	})
	t.Run("BackOnOld", func(t *testing.T) {
		o := fastOptions()
		o.Faults.BackOnOld = "gw-b"
		s := startSim(t, o)
		b := s.Members()[1]
		sb := open(t, s, b)
		upgradeNow(t, s, b, sb, stage(t, s, b, sb, writePkg(t, Package{Kind: KindMajor, Release: "R82"})))
		assert.Equal(t, "R81.20", b.Version())
		assert.Equal(t, "STANDBY", b.State())
		v, err := checkpoint.ParseVersion(send(t, open(t, s, b), "fw ver"))
		require.NoError(t, err)
		assert.Equal(t, "R81.20", v.Release)
	})
}

// TestPeerLostMidUpgrade: the ACTIVE member fails while the STANDBY
// reboots into its upgrade: nothing forwards until the upgraded member is
// back, alone, and ACTIVE.
func TestPeerLostMidUpgrade(t *testing.T) {
	o := fastOptions()
	o.Faults.PeerLostMidUpgrade = "gw-b"
	s := startSim(t, o)
	a, b := s.Members()[0], s.Members()[1]
	sb := open(t, s, b)
	upgradeNow(t, s, b, sb, stage(t, s, b, sb, writePkg(t, Package{Kind: KindMajor, Release: "R82"})))
	select {
	case <-s.PeerLost():
	default:
		t.Fatal("PeerLost not closed")
	}
	assert.True(t, a.Down())
	waitFor(t, s, "gw-b ACTIVE alone", b.Forwarding)
	assert.Equal(t, "ACTIVE(!)", b.State())
	assert.Equal(t, "LOST", b.StateOf("gw-a"))
	assert.Greater(t, s.Probe().LostTicks(), 0, "an outage the SDK must detect")
	_, err := dialRaw(t, s, a)
	require.Error(t, err)
}

// TestExecRequest: an SSH exec request runs in Clish, as `ssh gw 'cmd'`
// does on Gaia.
func TestExecRequest(t *testing.T) {
	s := startSim(t, fastOptions())
	client, err := dialRaw(t, s, s.Members()[0])
	require.NoError(t, err)
	defer func() { _ = client.Close() }()
	sess, err := client.NewSession()
	require.NoError(t, err)
	out, err := sess.Output("show version all")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(out), "Product version Check Point Gaia R81.20\n"), string(out))
}

// TestSCPRefused: the "scp" CommandError fault makes uploads fail.
func TestSCPRefused(t *testing.T) {
	o := fastOptions()
	o.Faults.CommandError = map[string]string{"scp": "disk full"}
	s := startSim(t, o)
	b := s.Members()[1]
	local := writePkg(t, Package{Kind: KindJumbo, Release: "R81.20", Take: 99})
	err := driver.Upload(t.Context(), driverConfig(t, s, b), local, uploadDir+"/"+filepath.Base(local), nil)
	require.ErrorIs(t, err, driver.ErrUpload)
	assert.Empty(t, b.Uploaded())
}

// TestJumboInstall: a Jumbo on the same release installs with `installer
// install`, reboots and changes only the take.
func TestJumboInstall(t *testing.T) {
	s := startSim(t, fastOptions())
	b := s.Members()[1]
	sb := open(t, s, b)
	local := writePkg(t, Package{Kind: KindJumbo, Release: "R81.20", Take: 99})
	assert.Equal(t, "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T99_FULL.tgz", filepath.Base(local))
	file := stage(t, s, b, sb, local)
	assert.Contains(t, send(t, sb, "show installer packages imported"), "R81.20 Jumbo Hotfix Accumulator Recommended Jumbo Take 99")
	assert.Contains(t, send(t, sb, "installer verify "+file), "Installation is allowed.")
	boots := b.Reboots()
	_, err := sb.Send(t.Context(), "installer install "+file+" not-interactive")
	if err != nil {
		var de *driver.DroppedError
		require.ErrorAs(t, err, &de)
	}
	waitFor(t, s, "gw-b back", func() bool { return b.Reboots() > boots && !b.Down() })
	assert.Equal(t, 99, b.Take())
	assert.Equal(t, "STANDBY", b.State(), "same release: no MVC needed")
	take, err := checkpoint.ParseJumboTake(send(t, open(t, s, b), "cpinfo -y all"))
	require.NoError(t, err)
	assert.Equal(t, 99, take.Number)
	// Re-installing the same take is refused.
	sb = open(t, s, b)
	file = stage(t, s, b, sb, local)
	assert.Contains(t, send(t, sb, "installer verify "+file), "Installation is not allowed.")
}

// TestInteractiveUpgradeQuestion: without not-interactive, `installer
// upgrade` asks before it starts (answered through Interact).
func TestInteractiveUpgradeQuestion(t *testing.T) {
	s := startSim(t, fastOptions())
	b := s.Members()[1]
	sb := open(t, s, b)
	file := stage(t, s, b, sb, writePkg(t, Package{Kind: KindMajor, Release: "R82"}))
	out, err := sb.Interact(t.Context(), []driver.Exchange{
		{Input: "installer upgrade " + file, Expect: `\(y-yes, else no\):\s*$`},
		{Input: "n"},
	})
	require.NoError(t, err)
	assert.Contains(t, out, "Operation cancelled.")
	assert.False(t, b.Down())
	_, err = sb.Interact(t.Context(), []driver.Exchange{
		{Input: "installer upgrade " + file, Expect: `\(y-yes, else no\):\s*$`},
		{Input: "y"},
	})
	if err != nil {
		var de *driver.DroppedError
		require.ErrorAs(t, err, &de)
	}
	waitFor(t, s, "gw-b upgraded", func() bool { return b.Version() == "R82" && !b.Down() })
}

// TestInterfaceDown: an interface down on the ACTIVE member hands over at
// once; `cphaprob -a if` shows it DOWN.
func TestInterfaceDown(t *testing.T) {
	s := startSim(t, fastOptions())
	a, b := s.Members()[0], s.Members()[1]
	require.NoError(t, a.SetInterfaceUp("eth2", false))
	assert.Same(t, b, s.Active())
	assert.Equal(t, "DOWN", a.State())
	sa := open(t, s, a)
	x, err := checkpoint.ParseClusterInterfaces(send(t, sa, "cphaprob -a if"))
	require.NoError(t, err)
	require.Len(t, x.Down(), 1)
	assert.Equal(t, "eth2", x.Down()[0].Name)
	cs := clusterState(t, sa)
	assert.Equal(t, []string{"IAC"}, cs.PNOTEs)
	assert.Equal(t, "Interface Active Check", cs.LastFailover.Reason)
	require.NoError(t, a.SetInterfaceUp("eth2", true))
	assert.Equal(t, "STANDBY", a.State())
	assert.Error(t, a.SetInterfaceUp("eth9", false))
	assert.Equal(t, 0, s.Probe().LostTicks())
}

// TestCoreXLMismatch: a member whose CoreXL layout differs from the
// ACTIVE's goes READY.
func TestCoreXLMismatch(t *testing.T) {
	s := startSim(t, fastOptions())
	b := s.Members()[1]
	require.NoError(t, b.SetCoreXL(6))
	assert.Equal(t, "READY", b.State())
	assert.Equal(t, "READY", s.Members()[0].StateOf("gw-b"))
	sb := open(t, s, b)
	assert.Equal(t, []string{"COREXL"}, clusterState(t, sb).PNOTEs)
	enterExpert(t, s, sb)
	assert.Equal(t, 6+2, strings.Count(send(t, sb, "fw ctl multik stat"), "\n")+1)
	require.NoError(t, b.SetCoreXL(DefaultCoreXL))
	assert.Equal(t, "STANDBY", b.State())
}

func ExampleStart() {
	sim, err := Start(Options{Names: []string{"gw1", "gw2"}, Version: "R81.20", Take: 92})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = sim.Close() }()
	for _, m := range sim.Members() {
		fmt.Println(m.ID(), m.Name(), m.Version(), m.Take(), m.State())
	}
	fmt.Println(sim.PolicyResult("gw2"))
	// Output:
	// 1 gw1 R81.20 92 ACTIVE
	// 2 gw2 R81.20 92 STANDBY
	// succeeded
}
