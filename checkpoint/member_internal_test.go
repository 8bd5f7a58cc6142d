package checkpoint

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/driver/drivertest"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// sent reports whether a scripted gateway received cmd.
func sent(g *gw, cmd string) bool {
	for _, c := range g.s.Commands() {
		if c == cmd {
			return true
		}
	}
	return false
}

const upgradeCmd = "installer upgrade Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar not-interactive"

func TestUpgradeLastCheckOnTheDevices(t *testing.T) {
	tests := []struct {
		name    string
		a, b    func(g *gw)
		target  error // nil: the command is sent
		refused string
	}{
		{name: "STANDBY with the peer ACTIVE: sent"},
		{name: "peer ACTIVE(!) with another PNOTE", a: func(g *gw) {
			g.state = stateText(1, "Synchronization", row{1, "ACTIVE(!)", "gw-a"}, row{2, "STANDBY", "gw-b"})
		}, target: ErrPeerNotForwarding},
		{name: "peer output unreadable", a: func(g *gw) { g.state = "garbage\n" }, target: ErrPeerNotForwarding},
		{name: "the member itself is ACTIVE", a: func(g *gw) {
			g.state = stateText(1, "", row{1, "STANDBY", "gw-a"}, row{2, "ACTIVE", "gw-b"})
		}, b: func(g *gw) { g.state = stateText(2, "", row{1, "STANDBY", "gw-a"}, row{2, "ACTIVE", "gw-b"}) }, target: ErrUnexpectedRole},
		{name: "the member has PNOTEs", b: func(g *gw) {
			g.state = stateText(2, "COREXL", row{1, "ACTIVE", "gw-a"}, row{2, "STANDBY", "gw-b"})
		}, target: ErrUnexpectedRole},
		{name: "members disagree", a: func(g *gw) {
			g.state = stateText(1, "", row{1, "ACTIVE", "gw-a"}, row{2, "DOWN", "gw-b"})
		}, target: ErrPeerNotForwarding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := healthyPair("R81.20")
			if tt.a != nil {
				a.set(tt.a)
			}
			if tt.b != nil {
				b.set(tt.b)
			}
			b.s.On(upgradeCmd, drivertest.Reply{Output: "Info: Initiating upgrade of Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar...\nInfo: The machine will reboot automatically at the end of the upgrade."})
			c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
			err := c.Member("gw-b").Upgrade(t.Context(), "R82")
			if tt.target == nil {
				require.NoError(t, err)
				assert.True(t, sent(b, upgradeCmd))
				assert.Equal(t, "R82", c.Member("gw-b").pendingRelease())
				// The last command on gw-b before the upgrade is its own
				// cphaprob state / fw ver, in Clish.
				cmds := b.s.Commands()
				assert.Equal(t, []string{"cphaprob state", "fw ver", upgradeCmd}, cmds[len(cmds)-3:])
				return
			}
			require.ErrorIs(t, err, tt.target)
			var me *MemberError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, "gw-b", me.Member)
			assert.False(t, sent(b, upgradeCmd), "nothing may be sent when the last check fails")
		})
	}
}

func TestUpgradeDroppedSessionIsTheReboot(t *testing.T) {
	a, b := healthyPair("R81.20")
	b.s.On(upgradeCmd, drivertest.Reply{Err: &driver.DroppedError{Host: "127.0.0.1:2202", Err: context.Canceled}})
	c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
	require.NoError(t, c.Member("gw-b").Upgrade(t.Context(), "R82"))
	assert.Equal(t, 1, c.Member("gw-b").awayCount(), "the drop counts as the member going away")
}

func TestUpgradeRefusedByCPUSEClearsPending(t *testing.T) {
	a, b := healthyPair("R81.20")
	b.s.On(upgradeCmd, drivertest.Reply{Output: "Error: Package not found in the repository", Fail: true})
	c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
	err := c.Member("gw-b").Upgrade(t.Context(), "R82")
	require.ErrorIs(t, err, driver.ErrCommand)
	assert.Empty(t, c.Member("gw-b").pendingRelease())
}

func TestFailover(t *testing.T) {
	t.Run("clusterXL_admin down on the ACTIVE member", func(t *testing.T) {
		a, b := healthyPair("R82")
		a.s.On("clusterXL_admin down", drivertest.Reply{Output: "Setting member to administratively down state ...\nMember current state is DOWN"})
		c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
		require.NoError(t, c.Failover(t.Context(), "gw-b"))
		assert.True(t, sent(a, "clusterXL_admin down"))
		assert.False(t, sent(b, "clusterXL_admin down"))
	})
	t.Run("already ACTIVE: nothing sent", func(t *testing.T) {
		a, b := healthyPair("R82")
		c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
		require.NoError(t, c.Failover(t.Context(), "gw-a"))
		assert.False(t, sent(a, "clusterXL_admin down"))
	})
	t.Run("non-zero exit status", func(t *testing.T) {
		a, b := healthyPair("R82")
		a.s.On("clusterXL_admin down", drivertest.Reply{Output: "Usage: clusterXL_admin <up|down> [-p]"})
		a.s.On("echo hitless-rc=$?", drivertest.Reply{Output: "hitless-rc=1"})
		c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
		err := c.Failover(t.Context(), "gw-b")
		require.ErrorIs(t, err, ErrCommandFailed)
	})
	t.Run("the member to take over is READY", func(t *testing.T) {
		a := newGW("gw-a", "127.0.0.1:2201", "R81.20", stateText(1, "IAC", row{1, "ACTIVE(!)", "gw-a"}, row{2, "LOST", "gw-b"}))
		b := newGW("gw-b", "127.0.0.1:2202", "R82", stateText(2, "", row{1, "ACTIVE(!)", "gw-a"}, row{2, "READY", "gw-b"}))
		c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
		err := c.Failover(t.Context(), "gw-b")
		require.ErrorIs(t, err, ErrUnexpectedRole)
		assert.False(t, sent(a, "clusterXL_admin down"))
	})
	t.Run("unknown member", func(t *testing.T) {
		a, b := healthyPair("R82")
		c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
		require.ErrorIs(t, c.Failover(t.Context(), "gw-z"), ErrUnknownMember)
	})
}

func TestMVCReadBackStaysOff(t *testing.T) {
	a, b := healthyPair("R82")
	b.s.On("cphaconf mvc on", drivertest.Reply{}) // prints nothing, exits 0, changes nothing
	c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
	err := c.Member("gw-b").setMVC(t.Context(), true, upgrade.Timing{Interval: time.Millisecond, Deadline: 5 * time.Millisecond})
	require.ErrorIs(t, err, ErrMVCReadBack)
	assertRule(t, err, "gw-b", RuleMVCReadBack)
	b.s.On("cphaconf mvc on", drivertest.Reply{Func: func(context.Context, string) (string, error) {
		b.set(func(g *gw) { g.mvc = true })
		return "", nil
	}})
	require.NoError(t, c.Member("gw-b").setMVC(t.Context(), true, upgrade.Timing{Interval: time.Millisecond, Deadline: 5 * time.Millisecond}))
}

func TestRollback(t *testing.T) {
	const revert = "set snapshot revert pre-r82"
	upgraded := func() (*gw, *gw) { return healthyPair("R82") }
	t.Run("no snapshot configured: refused before anything is sent", func(t *testing.T) {
		a, b := upgraded()
		c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
		n := len(b.s.Commands())
		err := c.Member("gw-b").Rollback(t.Context(), "R81.20")
		require.ErrorIs(t, err, ErrRollback)
		assert.Len(t, b.s.Commands(), n)
	})
	cfg := func(t *testing.T) Config {
		c := testConfig(t, "gw-a", "gw-b")
		c.RollbackSnapshot = "pre-r82"
		return c
	}
	t.Run("STANDBY with the peer forwarding: reverted", func(t *testing.T) {
		a, b := upgraded()
		b.s.On(revert, drivertest.Reply{Output: "Reverting to snapshot pre-r82; the system reboots"})
		c := scriptedCluster(t, cfg(t), a, b)
		require.NoError(t, c.Member("gw-b").Rollback(t.Context(), "R81.20"))
		assert.True(t, sent(b, revert))
	})
	t.Run("a rollback cannot move forward", func(t *testing.T) {
		a, b := healthyPair("R81.20")
		c := scriptedCluster(t, cfg(t), a, b)
		require.ErrorIs(t, c.Member("gw-b").Rollback(t.Context(), "R82"), ErrRollback)
		assert.False(t, sent(b, revert))
	})
	t.Run("the ACTIVE member is never reverted", func(t *testing.T) {
		a, b := upgraded()
		c := scriptedCluster(t, cfg(t), a, b)
		require.ErrorIs(t, c.Member("gw-a").Rollback(t.Context(), "R81.20"), ErrUnexpectedRole)
		assert.False(t, sent(a, revert))
	})
	t.Run("Rolling with Rollback plans it under the guard", func(t *testing.T) {
		a, b := upgraded()
		c := scriptedCluster(t, cfg(t), a, b)
		s, err := c.Observe(t.Context())
		require.NoError(t, err)
		plan, err := upgrade.Rolling{Cluster: c, Grammar: versionpath.CheckPoint{}, Rollback: true}.Plan(s, "R81.20")
		require.NoError(t, err)
		ids := strings.Join(plan.StepIDs(), " ")
		assert.Contains(t, ids, "rollback:gw-b@R81.20")
		for _, st := range plan.Steps {
			if st.ID() == "rollback:gw-b@R81.20" {
				assert.Equal(t, []string{"gw-b"}, st.Disrupts())
			}
		}
	})
}

func TestStageSkipsAMemberOnTheTarget(t *testing.T) {
	a, b := healthyPair("R82")
	c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
	require.NoError(t, c.Member("gw-b").Stage(t.Context(), "R82"))
	for _, cmd := range b.s.Commands() {
		assert.False(t, strings.HasPrefix(cmd, "installer"), cmd)
	}
}

func TestStageImportsAndVerifies(t *testing.T) {
	a, b := healthyPair("R81.20")
	cfg := testConfig(t, "gw-a", "gw-b")
	cfg.ImportTiming = upgrade.Timing{Interval: time.Millisecond, Deadline: time.Second}
	remote := "/var/log/upload/Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar"
	b.s.On("ls -l "+remote, drivertest.Reply{Output: "ls: cannot access " + remote + ": No such file or directory"},
		drivertest.Reply{Output: "-rw-r--r-- 1 admin root 4096 Jan  1 00:00 " + remote})
	b.s.On("show installer packages imported",
		drivertest.Reply{Output: "**   Hotfixes   **\nDisplay name      Status\n"},
		drivertest.Reply{Output: "**   Hotfixes   **\nDisplay name      Status\n"},
		drivertest.Reply{Output: "**   Hotfixes   **\nDisplay name      Status\n**   Major   **\nDisplay name      Status\nCheck Point R82 Gaia Fresh Install and Upgrade (Build 777)      Available for Upgrade\n"})
	b.s.On("installer import local "+remote+" not-interactive", drivertest.Reply{Output: "Info: Initiating import of Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar..."})
	b.s.On("installer verify Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar", drivertest.Reply{Output: "Result: Verifier results:\nUpgrade: Upgrade is allowed."})
	c := scriptedCluster(t, cfg, a, b)
	uploads := 0
	c.tr.upload = func(ctx context.Context, _ driver.Config, _, p string, verify driver.VerifyFunc) error {
		uploads++
		n, err := verify(ctx, p)
		if err == nil && n != 4096 {
			t.Errorf("verified size %d", n)
		}
		return err
	}
	require.NoError(t, c.Member("gw-b").Stage(t.Context(), "R82"))
	assert.Equal(t, 1, uploads)

	// The verifier's refusal stops the stage.
	b.s.On("installer import local "+remote+" not-interactive", drivertest.Reply{Output: "Info: Package Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar is already imported."})
	b.s.On("installer verify Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar", drivertest.Reply{Output: "Upgrade: Upgrade is not allowed. Reason: not enough space."})
	err := c.Member("gw-b").Stage(t.Context(), "R82")
	require.ErrorIs(t, err, ErrVerifyRefused)
	assert.Contains(t, err.Error(), "not enough space")
	assert.Equal(t, 1, uploads, "the package on the member has the local size: not uploaded again")
}
