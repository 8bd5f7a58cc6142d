package checkpointtest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// fastMaestro sets millisecond durations on o.
func fastMaestro(o MaestroOptions) MaestroOptions {
	o.ImportDuration = 30 * time.Millisecond
	o.ApplyDelay = 20 * time.Millisecond
	o.RebootDuration = 150 * time.Millisecond
	o.ProbeEvery = time.Millisecond
	return o
}

// startMaestro starts a security group and closes it at cleanup.
func startMaestro(t *testing.T, o MaestroOptions) *Maestro {
	t.Helper()
	mz, err := StartMaestro(o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, mz.Close()) })
	return mz
}

// mzConfig is the driver configuration for the endpoint on port.
func mzConfig(t testing.TB, mz *Maestro, port int) driver.Config {
	return driver.Config{
		Host: "127.0.0.1", Port: port, Username: mz.Username(), Password: mz.Password(),
		KnownHostsFile: mz.KnownHostsFile(), Platform: gaia(t), Timeout: waitTimeout, DialTimeout: waitTimeout,
	}
}

// mzOpen opens a driver session on the endpoint on port.
func mzOpen(t *testing.T, mz *Maestro, port int) driver.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	sess, err := driver.Open(ctx, mzConfig(t, mz, port))
	require.NoError(t, err, "open port %d", port)
	t.Cleanup(func() { _ = sess.Close() })
	return sess
}

// mzExpert switches sess to Expert mode.
func mzExpert(t *testing.T, mz *Maestro, sess driver.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	_, err := sess.Interact(ctx, []driver.Exchange{
		{Input: "expert", Expect: `Enter expert password:\s*$`},
		{Input: mz.ExpertPassword(), Secret: true, Expect: expertPrompt},
	})
	require.NoError(t, err)
}

// sgExpert opens an Expert session on the SG endpoint.
func sgExpert(t *testing.T, mz *Maestro) driver.Session {
	t.Helper()
	sess := mzOpen(t, mz, mz.SGPort())
	mzExpert(t, mz, sess)
	return sess
}

// mzWait waits (Maestro.Wait, no sleeps) until cond holds.
func mzWait(t *testing.T, mz *Maestro, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	require.NoError(t, mz.Wait(ctx, cond), "waiting for %s", what)
}

// failOut runs cmd, requires a CommandError and returns its output.
func failOut(t *testing.T, sess driver.Session, cmd string) string {
	t.Helper()
	_, err := sess.Send(t.Context(), cmd)
	var ce *driver.CommandError
	require.ErrorAs(t, err, &ce, cmd)
	return ce.Output
}

// asgStat runs and parses asg stat -v.
func asgStat(t *testing.T, sess driver.Session) checkpoint.ASGStat {
	t.Helper()
	a, err := checkpoint.ParseASGStat(send(t, sess, "asg stat -v"))
	require.NoError(t, err)
	return a
}

// sgStage uploads a package to the SG endpoint, imports it and waits for
// the import; it returns the file name.
func sgStage(t *testing.T, mz *Maestro, port int, sess driver.Session, p Package, imported func() []string) string {
	t.Helper()
	local := writePkg(t, p)
	name := filepath.Base(local)
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	require.NoError(t, driver.Upload(ctx, mzConfig(t, mz, port), local, uploadDir+"/"+name, nil))
	assert.Contains(t, send(t, sess, "installer import local "+uploadDir+"/"+name), "Info: Initiating import of "+name+"...")
	mzWait(t, mz, name+" imported", func() bool { return slices.Contains(imported(), name) })
	return name
}

// sgImported lists the SG's CPUSE repository.
func (mz *Maestro) sgImported() []string { return mz.sgHost.Imported() }

// mgmtClient returns a client of the Maestro's management fake.
func mgmtClient(t *testing.T, mz *Maestro) *checkpoint.MgmtClient {
	t.Helper()
	cfg := mz.Mgmt().ClientConfig()
	cfg.PlatformWait = upgrade.Timing{Interval: 5 * time.Millisecond, Deadline: waitTimeout}
	c, err := checkpoint.NewMgmtClient(cfg)
	require.NoError(t, err)
	return c
}

// installPolicy installs the policy on the SG object and waits for the task.
func installPolicy(t *testing.T, mz *Maestro) checkpoint.Task {
	t.Helper()
	c := mgmtClient(t, mz)
	id, err := c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: DefaultMgmtPolicyPackage,
		Targets: []string{mz.Options().Name}, Access: true, ThreatPrevention: true})
	require.NoError(t, err)
	task, err := c.WaitTask(t.Context(), id, upgrade.Timing{Interval: 5 * time.Millisecond, Deadline: waitTimeout})
	require.NoError(t, err)
	return task
}

func TestMaestroDefaults(t *testing.T) {
	mz := startMaestro(t, fastMaestro(MaestroOptions{}))
	assert.Equal(t, []string{"1_1", "1_2", "1_3", "1_4", "2_1", "2_2", "2_3", "2_4"}, mz.SGMs())
	for _, id := range mz.SGMs() {
		assert.Equal(t, DefaultVersion, mz.SGMVersion(id))
		assert.Equal(t, DefaultTake, mz.SGMTake(id))
		assert.True(t, mz.SGMUp(id))
		assert.True(t, mz.SGMForwarding(id))
		assert.False(t, mz.SGMAdminDown(id))
		assert.False(t, mz.SGMMVC(id))
		assert.Zero(t, mz.SGMReboots(id))
	}
	assert.True(t, mz.AutoClone())
	assert.Equal(t, "127.0.0.1", mz.SGHost())
	assert.Equal(t, "admin", mz.Username())
	assert.NotEqual(t, mz.Password(), mz.ExpertPassword())
	hs := mz.Orchestrators()
	require.Len(t, hs, 2)
	assert.Equal(t, "mho1", hs[0].Name())
	assert.Equal(t, "mho2", hs[1].Name())
	for _, h := range hs {
		assert.Equal(t, "127.0.0.1", h.Host())
		assert.Equal(t, DefaultVersion, h.Version())
		assert.False(t, h.Down())
		assert.Zero(t, h.Reboots())
		assert.NotEqual(t, mz.SGPort(), h.Port())
	}
	kh, err := os.ReadFile(mz.KnownHostsFile())
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(kh), "\n"), "the SG and two MHOs")
	assert.True(t, mz.Probe().Forwarding())

	// The management fake: get-platform of "mgmt" and of the SG.
	c := mgmtClient(t, mz)
	p, err := c.GetPlatform(t.Context(), MaestroMgmtObject)
	require.NoError(t, err)
	assert.Equal(t, DefaultMgmtVersion, p.Version)
	p, err = c.GetPlatform(t.Context(), "sg1")
	require.NoError(t, err)
	assert.Equal(t, DefaultVersion, p.Version)

	require.Len(t, mz.PackageFiles(), 1)
	assert.Equal(t, "Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar", filepath.Base(mz.PackageFiles()[0]))
	assert.Empty(t, mz.Writes())
}

func TestMaestroOptionsValidation(t *testing.T) {
	_, err := StartMaestro(MaestroOptions{
		Name: "bad name", Sites: 3, Orchestrators: []string{"m", "m"}, Version: "R99.x",
		SGMVersions: map[string]string{"9_1": "R82"}, StuckSGM: "9_9", DeadMHO: "nobody",
	})
	require.Error(t, err)
	for _, want := range []string{`Name "bad name"`, "Sites 3", `"m" twice`, `Version "R99.x"`,
		`SGMVersions: "9_1"`, `StuckSGM "9_9"`, `DeadMHO "nobody"`} {
		assert.Contains(t, err.Error(), want)
	}
}

// TestMaestroASGStatShape: the contract's R81+ layout, 80 columns, one
// section per site, the SMO marked (local); the parser reads it.
func TestMaestroASGStatShape(t *testing.T) {
	mz := startMaestro(t, fastMaestro(MaestroOptions{}))
	sess := sgExpert(t, mz)
	out := send(t, sess, "asg stat -v")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	dash := strings.Repeat("-", 80)
	want := []string{
		dash,
		"| System Status - Maestro                                                      |",
		dash,
	}
	assert.Equal(t, want, lines[:3])
	assert.Regexp(t, `^\| Up time              \| 0 days, 00:00:\d\d hours                                \|$`, lines[3])
	assert.Equal(t, []string{
		"| SGMs                 | 8 / 8                                                 |",
		"| Version              | R81.20 (Build 631)                                    |",
		dash,
		"| Site 1 ACTIVE                                                                |",
		dash,
		"| SGM ID        State            Process              Policy Date              |",
	}, lines[4:10])
	assert.Regexp(t, `^\| 1_1 \(local\)   UP               Enforcing Security   \d\d[A-Z][a-z]{2}\d\d \d\d:\d\d            \|$`, lines[10])
	assert.Regexp(t, `^\| 1_2           UP               Enforcing Security   `, lines[11])
	assert.Equal(t, dash, lines[14])
	assert.Equal(t, "| Site 2 ACTIVE                                                                |", lines[15])
	assert.Equal(t, dash, lines[len(lines)-1])
	for _, l := range lines {
		assert.Len(t, l, 80, "%q", l)
	}
	a, err := checkpoint.ParseASGStat(out)
	require.NoError(t, err)
	assert.True(t, a.Maestro)
	assert.False(t, a.VSX)
	assert.Len(t, a.Sites, 2)
	require.Len(t, a.SGMs, 8)
	assert.True(t, a.SGMs[0].Local)
	for _, g := range a.SGMs {
		assert.True(t, g.Forwarding(), g.ID)
	}

	// VSX header.
	vsx := startMaestro(t, fastMaestro(MaestroOptions{VSX: true, VSName: "sg-vsx", Sites: 1, SGMsPerSite: 2}))
	out = send(t, sgExpert(t, vsx), "asg stat -v")
	lines = strings.Split(out, "\n")
	assert.Equal(t, "| VSX System Status - Maestro                                                  |", lines[1])
	assert.Equal(t, "| VS ID: 0 VS Name: sg-vsx                                                     |", lines[3])
	a, err = checkpoint.ParseASGStat(out)
	require.NoError(t, err)
	assert.True(t, a.VSX)
	assert.Equal(t, "sg-vsx", a.VSName)
	assert.Len(t, a.SGMs, 2)
}

// TestMaestroGAllMixedVersions: identical outputs grouped under one banner
// with zero-padded ids; newer SGMs without MVC are DOWN / Ready.
func TestMaestroGAllMixedVersions(t *testing.T) {
	mz := startMaestro(t, fastMaestro(MaestroOptions{SGMVersions: map[string]string{"1_4": "R82", "2_4": "R82"}}))
	sess := sgExpert(t, mz)
	assert.Equal(t, "-*- 6 blades: 1_01 1_02 1_03 2_01 2_02 2_03 -*-\n"+
		"This is Check Point's software version R81.20 - Build 631\n"+
		"-*- 2 blades: 1_04 2_04 -*-\n"+
		"This is Check Point's software version R82 - Build 777", send(t, sess, "g_all fw ver"))
	blocks, err := checkpoint.ParseGAll(send(t, sess, "g_all -b 1_4,2_01 fw ver"))
	require.NoError(t, err)
	require.Len(t, blocks, 2)
	assert.Equal(t, []string{"1_4"}, blocks[0].SGMs)
	assert.Equal(t, []string{"2_1"}, blocks[1].SGMs)
	out := send(t, sess, "g_all cpinfo -y all")
	assert.Contains(t, out, "HOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  92")
	assert.Contains(t, send(t, sess, "g_all cphaprob mvc"), "-*- 8 blades: 1_01 1_02 1_03 1_04 2_01 2_02 2_03 2_04 -*-\nMVC: Off")

	a := asgStat(t, sess)
	g, _ := a.SGM("1_4")
	assert.Equal(t, "DOWN", g.State)
	assert.Equal(t, "Ready", g.Process)
	assert.False(t, mz.SGMUp("1_4"))
	g, _ = a.SGM("1_3")
	assert.True(t, g.Forwarding())
	assert.Empty(t, mz.Writes())
}

// TestMaestroAdminDownUp: g_clusterXL_admin down / up and the refusal to
// leave no SGM forwarding.
func TestMaestroAdminDownUp(t *testing.T) {
	mz := startMaestro(t, fastMaestro(MaestroOptions{Sites: 1}))
	sess := sgExpert(t, mz)
	assert.Equal(t, "1_3: This member is now administratively DOWN", send(t, sess, "g_clusterXL_admin -b 1_3 down"))
	assert.True(t, mz.SGMAdminDown("1_3"))
	assert.False(t, mz.SGMForwarding("1_3"))
	g, _ := asgStat(t, sess).SGM("1_3")
	assert.Equal(t, "DOWN", g.State)
	assert.True(t, g.Admin)
	assert.Equal(t, "Inactive", g.Process)
	assert.Contains(t, send(t, sess, "asg stat -v"), "| 1_3           DOWN (admin)     Inactive             ")

	out := failOut(t, sess, "g_clusterXL_admin -b 1_1,1_2,1_4 down")
	assert.Contains(t, out, "Error: Setting SGMs 1_1,1_2,1_4 administratively DOWN would leave no SGM in state UP")
	assert.Equal(t, "1", send(t, sess, "echo $?"))
	for _, id := range []string{"1_1", "1_2", "1_4"} {
		assert.True(t, mz.SGMForwarding(id), "the refused down changed nothing on %s", id)
	}
	assert.Zero(t, mz.ProbeSummary().LostTicks)

	assert.Equal(t, "1_3: This member is now administratively UP", send(t, sess, "g_clusterXL_admin -b 1_3 up"))
	assert.True(t, mz.SGMForwarding("1_3"))
	assert.Equal(t, []string{
		"sg1: g_clusterXL_admin -b 1_3 down",
		"sg1: g_clusterXL_admin -b 1_1,1_2,1_4 down",
		"sg1: g_clusterXL_admin -b 1_3 up",
	}, mz.Writes())

	// Admin down is not persistent: a reboot clears it.
	send(t, sess, "g_clusterXL_admin -b 1_2 down")
	send(t, sess, "g_all -b 1_2 reboot")
	mzWait(t, mz, "1_2 back", func() bool { return mz.SGMReboots("1_2") == 1 && !mz.SGMDown("1_2") })
	assert.False(t, mz.SGMAdminDown("1_2"))
	assert.True(t, mz.SGMForwarding("1_2"))
	assert.Zero(t, mz.ProbeSummary().LostTicks)
}

// TestMaestroUpgradeSubGroup: the listed SGMs reboot into the package;
// the SMO's reboot drops the SG session and another SGM answers; the
// upgraded SGMs wait in Ready until MVC is on and a policy was installed,
// then join UP; MVC off with mixed versions drops them; traffic never stops.
func TestMaestroUpgradeSubGroup(t *testing.T) {
	mz := startMaestro(t, fastMaestro(MaestroOptions{}))
	clish := mzOpen(t, mz, mz.SGPort())
	name := sgStage(t, mz, mz.SGPort(), clish, Package{Kind: KindMajor, Release: "R82"}, mz.sgImported)
	assert.Contains(t, send(t, clish, "show installer packages imported"), "Check Point R82 Gaia Fresh Install and Upgrade (Build 777)")
	assert.Contains(t, send(t, clish, "installer verify "+name), "Upgrade: Upgrade is allowed.")

	out := failOut(t, clish, "installer upgrade "+name+" member_ids all not-interactive")
	assert.Contains(t, out, "CLINFR0409")
	out = failOut(t, clish, "installer upgrade "+name+" member_ids "+strings.Join(mz.SGMs(), ",")+" not-interactive")
	assert.Contains(t, out, "would stop traffic")
	failOut(t, clish, "installer upgrade "+name+" not-interactive")
	failOut(t, clish, "installer upgrade missing.tar member_ids 1_1 not-interactive")
	for _, id := range mz.SGMs() {
		assert.Zero(t, mz.SGMReboots(id), "refused upgrades change nothing")
	}

	group := []string{"1_1", "1_2", "2_1", "2_2"}
	_, err := clish.Send(t.Context(), "installer upgrade "+name+" member_ids 1_1,1_2,2_1,2_2 not-interactive")
	if err != nil {
		var de *driver.DroppedError
		require.ErrorAs(t, err, &de)
	}
	mzWait(t, mz, "1_1 rebooting", func() bool { return mz.SGMDown("1_1") })
	_, err = clish.Send(t.Context(), "show cluster configuration image auto-clone state")
	var de *driver.DroppedError
	require.ErrorAs(t, err, &de, "the SMO's reboot dropped the SG session")

	// Another SGM answers the same address, with the same prompt.
	sess := sgExpert(t, mz)
	assert.Equal(t, "sg1-ch01-01", send(t, sess, "echo $HOSTNAME"))
	assert.Equal(t, "sg1-ch01-01", mz.SGPrompt())
	a := asgStat(t, sess)
	g, _ := a.SGM("1_3")
	assert.True(t, g.Local, "1_3 is the SMO while 1_1 and 1_2 reboot")
	g, _ = a.SGM("1_1")
	assert.Equal(t, "DOWN", g.State)
	assert.Equal(t, "NA", g.Policy)
	assert.NotContains(t, send(t, sess, "g_all fw ver"), "1_01", "rebooting SGMs are absent from g_all")

	mzWait(t, mz, "the group back", func() bool {
		for _, id := range group {
			if mz.SGMReboots(id) != 1 || mz.SGMDown(id) {
				return false
			}
		}
		return true
	})
	sess = sgExpert(t, mz)
	for _, id := range group {
		assert.Equal(t, "R82", mz.SGMVersion(id))
		assert.False(t, mz.SGMUp(id), "%s waits in Ready", id)
		st, proc := mz.SGMState(id)
		assert.Equal(t, "DOWN", st)
		assert.Equal(t, "Ready", proc)
	}
	assert.Equal(t, "-*- 4 blades: 1_01 1_02 2_01 2_02 -*-\n"+
		"This is Check Point's software version R82 - Build 777\n"+
		"-*- 4 blades: 1_03 1_04 2_03 2_04 -*-\n"+
		"This is Check Point's software version R81.20 - Build 631", send(t, sess, "g_all fw ver"))

	// MVC alone is not enough; a policy alone is not enough.
	assert.Equal(t, "-*- 4 blades: 1_01 1_02 2_01 2_02 -*-", send(t, sess, "g_all -b 1_1,1_2,2_1,2_2 cphaconf mvc on"))
	assert.True(t, mz.SGMMVC("1_1"))
	assert.False(t, mz.SGMUp("1_1"))
	task := installPolicy(t, mz)
	assert.Equal(t, checkpoint.TaskStatusSucceeded, task.Status)
	for _, id := range mz.SGMs() {
		assert.True(t, mz.SGMUp(id), id)
	}
	a = asgStat(t, sess)
	assert.Len(t, slices.DeleteFunc(a.SGMs, func(s checkpoint.SGMStatus) bool { return !s.Forwarding() }), 8)

	// MVC off while versions are mixed: the newer SGMs drop out.
	send(t, sess, "g_all -b 1_1,1_2,2_1,2_2 cphaconf mvc off")
	assert.False(t, mz.SGMForwarding("1_1"))
	st, proc := mz.SGMState("1_1")
	assert.Equal(t, []string{"DOWN", "Ready"}, []string{st, proc})
	send(t, sess, "g_all -b 1_1,1_2,2_1,2_2 cphaconf mvc on")
	assert.True(t, mz.SGMForwarding("1_1"), "the policy is still there")

	// The rest of the group: once every SGM in the group runs R82, the
	// ones coming back on R82 join at once.
	send(t, sess, "exit")
	_, err = sess.Send(t.Context(), "installer upgrade "+name+" member_ids 1_3,1_4,2_3,2_4 not-interactive")
	require.NoError(t, err, "the SMO 1_1 does not reboot this time")
	rest := []string{"1_3", "1_4", "2_3", "2_4"}
	mzWait(t, mz, "the rest back and UP", func() bool {
		for _, id := range rest {
			if mz.SGMReboots(id) != 1 || !mz.SGMUp(id) {
				return false
			}
		}
		return true
	})
	for _, id := range mz.SGMs() {
		assert.Equal(t, "R82", mz.SGMVersion(id))
	}
	assert.Zero(t, mz.ProbeSummary().LostTicks, "some SGM forwarded all the time")

	w := mz.Writes()
	assert.Contains(t, w, "sg1: scp "+uploadDir+"/"+name)
	assert.Contains(t, w, "sg1: installer import local "+uploadDir+"/"+name)
	assert.Contains(t, w, "sg1: installer upgrade "+name+" member_ids 1_1,1_2,2_1,2_2 not-interactive")
	assert.Contains(t, w, "sg1: g_all -b 1_1,1_2,2_1,2_2 cphaconf mvc on")
	assert.NotContains(t, w, "sg1: installer verify "+name)
	assert.NotContains(t, w, "sg1: asg stat -v")

	// Revert two of them.
	sess = sgExpert(t, mz)
	out = send(t, sess, "sp_upgrade --revert -b 2_3,2_4")
	assert.Contains(t, out, "Reverting SGM 2_3 from R82 to R81.20 (Build 631)...")
	mzWait(t, mz, "2_3, 2_4 reverted", func() bool {
		return mz.SGMReboots("2_3") == 2 && mz.SGMReboots("2_4") == 2 && !mz.SGMDown("2_3") && !mz.SGMDown("2_4")
	})
	assert.Equal(t, "R81.20", mz.SGMVersion("2_3"))
	assert.Equal(t, DefaultTake, mz.SGMTake("2_3"))
	assert.True(t, mz.SGMUp("2_3"), "back on the oldest release: joins at once")
	assert.Contains(t, failOut(t, sess, "sp_upgrade --revert -b 2_3"), "no previous version")
}

// TestMaestroStuckSGM: StuckSGM reboots but comes back on its old release.
func TestMaestroStuckSGM(t *testing.T) {
	mz := startMaestro(t, fastMaestro(MaestroOptions{StuckSGM: "2_1"}))
	sess := mzOpen(t, mz, mz.SGPort())
	name := sgStage(t, mz, mz.SGPort(), sess, Package{Kind: KindMajor, Release: "R82"}, mz.sgImported)
	out := send(t, sess, "installer upgrade "+name+" member_ids 2_1,2_2 not-interactive")
	assert.Contains(t, out, "Info: Initiating upgrade of "+name+" on SGMs 2_1,2_2...")
	mzWait(t, mz, "back", func() bool {
		return mz.SGMReboots("2_1") == 1 && mz.SGMReboots("2_2") == 1 && !mz.SGMDown("2_1") && !mz.SGMDown("2_2")
	})
	assert.Equal(t, "R81.20", mz.SGMVersion("2_1"))
	assert.True(t, mz.SGMUp("2_1"), "on the old release it simply rejoins")
	assert.Equal(t, "R82", mz.SGMVersion("2_2"))
	assert.False(t, mz.SGMUp("2_2"))
	mzExpert(t, mz, sess)
	assert.Contains(t, send(t, sess, "g_all -b 2_1,2_2 fw ver"), "-*- 1 blade: 2_01 -*-\nThis is Check Point's software version R81.20 - Build 631")
}

// TestMaestroMHOs: an MHO speaks Gaia (asset, fw ver, cpinfo, staging);
// DeadMHO never returns from its upgrade; no MHO up loses traffic.
func TestMaestroMHOs(t *testing.T) {
	mz := startMaestro(t, fastMaestro(MaestroOptions{DeadMHO: "mho2"}))
	mho1, mho2 := mz.Orchestrators()[0], mz.Orchestrators()[1]
	s1 := mzOpen(t, mz, mho1.Port())
	asset := send(t, s1, "show asset system")
	model, err := checkpoint.ParseAssetModel(asset)
	require.NoError(t, err)
	assert.Equal(t, "MHO-140", model)
	assert.Contains(t, asset, "Platform: Maestro Orchestrator")
	mzExpert(t, mz, s1)
	assert.Equal(t, "This is Check Point's software version R81.20 - Build 631", send(t, s1, "fw ver"))
	assert.Contains(t, send(t, s1, "cpinfo -y all"), "HOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  92")
	send(t, s1, "exit")
	assert.Empty(t, mz.Writes(), "read-only so far")

	s2 := mzOpen(t, mz, mho2.Port())
	name := sgStage(t, mz, mho2.Port(), s2, Package{Kind: KindMajor, Release: "R82"}, mho2.Imported)
	mzExpert(t, mz, s2)
	assert.Contains(t, send(t, s2, "ls -l "+uploadDir+"/"+name), strconv.Itoa(PackageSize))
	send(t, s2, "exit")
	_, err = s2.Send(t.Context(), "installer upgrade "+name+" not-interactive")
	if err != nil {
		var de *driver.DroppedError
		require.ErrorAs(t, err, &de)
	}
	mzWait(t, mz, "mho2 down", mho2.Down)
	assert.True(t, mz.Probe().Forwarding(), "mho1 still forwards")

	name1 := sgStage(t, mz, mho1.Port(), s1, Package{Kind: KindMajor, Release: "R82"}, mho1.Imported)
	_, err = s1.Send(t.Context(), "installer upgrade "+name1+" not-interactive")
	if err != nil {
		var de *driver.DroppedError
		require.ErrorAs(t, err, &de)
	}
	mzWait(t, mz, "mho1 back", func() bool { return mho1.Reboots() == 1 && !mho1.Down() })
	assert.Equal(t, "R82", mho1.Version())
	assert.Greater(t, mz.ProbeSummary().LostTicks, 0, "no MHO was up during mho1's reboot")
	assert.True(t, mho2.Down(), "the dead MHO never came back")
	assert.Zero(t, mho2.Reboots())
	assert.Equal(t, DefaultVersion, mho2.Version())
	_, err = net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(mho2.Port()), time.Second)
	assert.Error(t, err, "connection refused")

	assert.Contains(t, mz.Writes(), "mho2: installer upgrade "+name+" not-interactive")
	assert.Contains(t, mz.Writes(), "mho1: scp "+uploadDir+"/"+name1)
}

// TestMaestroVerifier: migrate_server verify succeeds, or prints the
// VerifierErrors and fails.
func TestMaestroVerifier(t *testing.T) {
	mz := startMaestro(t, fastMaestro(MaestroOptions{Sites: 1, SGMsPerSite: 2}))
	sess := sgExpert(t, mz)
	out := send(t, sess, "$FWDIR/scripts/migrate_server verify -v R82")
	assert.Equal(t, "Verifying the configuration for upgrade to R82...\nChecking SGM 1_1 ... done\nChecking SGM 1_2 ... done\nVerification succeeded.", out)
	rep, err := checkpoint.ParseVerifier(out)
	require.NoError(t, err)
	assert.True(t, rep.OK)

	bad := startMaestro(t, fastMaestro(MaestroOptions{VerifierErrors: []string{"Not enough free disk space on SGM 1_2 (/var/log)", "Unsupported blade"}}))
	sess = sgExpert(t, bad)
	out = failOut(t, sess, "$FWDIR/scripts/migrate_server verify -v R82")
	assert.Equal(t, "Verifying the configuration for upgrade to R82...\n"+
		"Error: Not enough free disk space on SGM 1_2 (/var/log)\nError: Unsupported blade\nVerification failed.", strings.TrimSpace(out))
	assert.Equal(t, "1", send(t, sess, "echo $?"))
	rep, err = checkpoint.ParseVerifier(out)
	require.NoError(t, err)
	assert.False(t, rep.OK)
	assert.Len(t, rep.Errors, 2)
	assert.Empty(t, bad.Writes())
}

// TestMaestroBondsAndAutoClone: the bonding lines and the auto-clone state.
func TestMaestroBondsAndAutoClone(t *testing.T) {
	const bondCmd = "grep -H 'Bonding Mode' /proc/net/bonding/* 2>/dev/null; true"
	lacp := startMaestro(t, fastMaestro(MaestroOptions{LACP: true, AutoCloneOff: true}))
	sess := sgExpert(t, lacp)
	out := send(t, sess, bondCmd)
	assert.Equal(t, "/proc/net/bonding/bond1:Bonding Mode: IEEE 802.3ad Dynamic link aggregation", out)
	bonds, err := checkpoint.ParseBondModes(out)
	require.NoError(t, err)
	require.Len(t, bonds, 1)
	assert.True(t, bonds[0].LACP)

	plain := startMaestro(t, fastMaestro(MaestroOptions{}))
	assert.Equal(t, "/proc/net/bonding/bond1:Bonding Mode: fault-tolerance (active-backup)", send(t, sgExpert(t, plain), bondCmd))

	clish := mzOpen(t, lacp, lacp.SGPort())
	assert.Equal(t, "Image auto-clone state: off", send(t, clish, "show cluster configuration image auto-clone state"))
	assert.Empty(t, lacp.Writes())
	assert.Equal(t, "", send(t, clish, "set cluster configuration image auto-clone state on"))
	assert.True(t, lacp.AutoClone())
	on, err := checkpoint.ParseAutoClone(send(t, clish, "show cluster configuration image auto-clone state"))
	require.NoError(t, err)
	assert.True(t, on)
	assert.Equal(t, []string{"sg1: set cluster configuration image auto-clone state on"}, lacp.Writes())
	assert.Contains(t, failOut(t, clish, "show cluster configuration"), "Incomplete command")
}

// TestMaestroReadOnlySession: reads on every endpoint record commands but
// no writes.
func TestMaestroReadOnlySession(t *testing.T) {
	mz := startMaestro(t, fastMaestro(MaestroOptions{}))
	sess := sgExpert(t, mz)
	for _, cmd := range []string{"asg stat -v", "g_all fw ver", "g_all -b 1_1 cpinfo -y all", "g_all cphaprob mvc",
		"grep -H 'Bonding Mode' /proc/net/bonding/* 2>/dev/null; true", "$FWDIR/scripts/migrate_server verify -v R82",
		"fw ver", "clish -c 'show cluster configuration image auto-clone state'"} {
		send(t, sess, cmd)
	}
	send(t, sess, "exit")
	send(t, sess, "show installer packages imported")
	h := mzOpen(t, mz, mz.Orchestrators()[1].Port())
	send(t, h, "show asset system")
	send(t, h, "show installer packages imported")
	assert.Empty(t, mz.Writes())
	cmds := mz.Commands()
	assert.Contains(t, cmds, "sg1: lock database override")
	assert.Contains(t, cmds, "sg1: asg stat -v")
	assert.Contains(t, cmds, "mho2: show asset system")
	assert.NotContains(t, strings.Join(cmds, "\n"), mz.ExpertPassword())
}

// TestMaestroAllSGMsReboot: while every SGM reboots, nothing forwards and
// the SG address refuses connections; afterwards all is back.
func TestMaestroAllSGMsReboot(t *testing.T) {
	mz := startMaestro(t, fastMaestro(MaestroOptions{Sites: 1, SGMsPerSite: 2}))
	sess := sgExpert(t, mz)
	_, err := sess.Send(t.Context(), "g_all reboot")
	if err != nil {
		var de *driver.DroppedError
		require.ErrorAs(t, err, &de)
	}
	mzWait(t, mz, "every SGM down", func() bool { return mz.SGMDown("1_1") && mz.SGMDown("1_2") })
	assert.False(t, mz.Probe().Forwarding())
	_, err = net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(mz.SGPort()), time.Second)
	assert.Error(t, err, "nobody answers the SG address")
	mzWait(t, mz, "back", func() bool { return mz.SGMUp("1_1") && mz.SGMUp("1_2") })
	assert.Greater(t, mz.ProbeSummary().LostTicks, 0)
	assert.Equal(t, []string{"sg1: g_all reboot"}, mz.Writes())
	err = poll(t, "SG address", waitTimeout, func(ctx context.Context) error {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(mz.SGPort()), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	require.NoError(t, err)
	a := asgStat(t, sgExpert(t, mz))
	assert.Len(t, a.SGMs, 2)
}
