package upgradetest_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
)

func trio() *upgradetest.Cluster {
	return upgradetest.NewCluster("fw", time.Second,
		&upgradetest.Member{Name: "a", Version: "1.0", Role: upgrade.RoleActive, RebootDuration: time.Minute},
		&upgradetest.Member{Name: "b", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute},
		&upgradetest.Member{Name: "c", Version: "1.0", Role: upgrade.RoleStandby, RebootDuration: time.Minute},
	)
}

func faults(c *upgradetest.Cluster) []upgradetest.Call {
	var out []upgradetest.Call
	for _, k := range c.Calls() {
		if k.Op == "fault" || k.Op == "recover" {
			out = append(out, k)
		}
	}
	return out
}

// The active member dies at a moment: traffic is lost until a standby takes
// over, and the record says a fault (not hitless) did it.
func TestFaultDownAtAMoment(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		require.NoError(t, c.AddFault(upgradetest.Fault{Kind: upgradetest.FaultDown, After: 10 * time.Second, For: time.Minute}))
		<-time.After(10*time.Second + time.Millisecond)
		assert.False(t, c.Probe.Forwarding(), "no member forwards until the takeover")
		st, err := c.Member("a").Status(t.Context())
		assert.ErrorIs(t, err, upgradetest.ErrUnreachable, "%+v", st)
		<-time.After(3 * time.Second) // FailoverDelay
		assert.True(t, c.Probe.Forwarding())
		assert.Equal(t, upgrade.RoleActive, c.Member("b").Role, "the first healthy standby took over")
		<-time.After(time.Minute)
		assert.Equal(t, upgrade.RoleStandby, c.Member("a").Role, "back as standby: b forwards")
		c.Probe.Stop()
		assert.Equal(t, 3, c.Probe.LostTicks())

		fs := faults(c)
		require.Len(t, fs, 2)
		assert.Equal(t, "fault", fs[0].Op)
		assert.Equal(t, "a", fs[0].Member, "the active member when it fired")
		assert.Equal(t, string(upgradetest.FaultDown), fs[0].Arg)
		assert.Equal(t, "time", fs[0].Cause)
		assert.Equal(t, upgrade.RoleActive, fs[0].Was)
		assert.Equal(t, []string{"a"}, fs[0].Forwarding)
		assert.Equal(t, "recover", fs[1].Op)
		assert.NoError(t, upgradetest.Invariants(c, &upgrade.Report{OK: false, Error: "x"}, "2.0"), "an outage a fault began is not hitless's")
	})
}

// A reboot that ends while a FaultDown holds the member keeps it down.
func TestFaultDownOutlastsAReboot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		require.NoError(t, c.Member("b").Install(t.Context(), "2.0"))
		c.Inject(upgradetest.FaultDown, "b", 0)
		<-time.After(2 * time.Minute)
		_, err := c.Member("b").Status(t.Context())
		assert.ErrorIs(t, err, upgradetest.ErrUnreachable)
		assert.Equal(t, "2.0", c.Member("b").Version, "the install took effect")
		err = c.Member("b").Install(t.Context(), "2.0")
		assert.ErrorIs(t, err, upgradetest.ErrUnreachable)
		calls := c.Calls()
		last := calls[len(calls)-1]
		assert.Equal(t, "install", last.Op)
		assert.True(t, last.Failed, "an install on an unreachable member is recorded as failed")
	})
}

// "When b is installed, the active member dies": the fault fires right
// after the install took effect and records the call that fired it.
func TestFaultOnACall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		require.NoError(t, c.AddFault(upgradetest.Fault{Kind: upgradetest.FaultDown, OnCall: 1, CallOp: "install", CallMember: "b"}))
		require.NoError(t, c.Member("c").Install(t.Context(), "2.0"))
		assert.True(t, c.Probe.Forwarding(), "installing c fires nothing")
		require.NoError(t, c.Member("b").Install(t.Context(), "2.0"))
		calls := c.Calls()
		require.Len(t, calls, 3)
		f := calls[2]
		assert.Equal(t, "fault", f.Op)
		assert.Equal(t, "a", f.Member)
		assert.Equal(t, "call", f.Cause)
		assert.Equal(t, 2, f.Trigger, "the install of b, 1-based")
		assert.False(t, c.Probe.Forwarding(), "a dead, b and c rebooting")
	})
}

// A fault at the N-th status read: the member being read sees it.
func TestFaultAtAStatusRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		require.NoError(t, c.AddFault(upgradetest.Fault{Kind: upgradetest.FaultPeerLost, Member: "b", AtStatus: 5}))
		s, err := c.Observe(t.Context()) // reads 1-3
		require.NoError(t, err)
		m, _ := s.Member("b")
		assert.True(t, m.Healthy)
		s, err = c.Observe(t.Context()) // reads 4-6: b is read fifth
		require.NoError(t, err)
		m, _ = s.Member("b")
		assert.False(t, m.Healthy)
		assert.Contains(t, m.Problems, "peer lost")
		assert.Equal(t, "status", faults(c)[0].Cause)
	})
}

// A peer-lost active member does not forward (no takeover); when the fault
// ends while another member forwards, it steps down to standby.
func TestFaultPeerLostOnTheActive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := upgradetest.Pair("fw", "1.0", time.Minute)
		require.NoError(t, c.AddFault(upgradetest.Fault{Kind: upgradetest.FaultPeerLost, After: time.Second, For: 5 * time.Minute}))
		<-time.After(time.Minute)
		assert.False(t, c.Probe.Forwarding())
		assert.Equal(t, upgrade.RoleStandby, c.Member("fw-b").Role, "no takeover from a live active member")
		// b is installed and comes back: nobody forwards, so it becomes active.
		require.NoError(t, c.Member("fw-b").Install(t.Context(), "2.0"))
		<-time.After(2 * time.Minute)
		assert.True(t, c.Probe.Forwarding())
		<-time.After(3 * time.Minute)
		assert.Equal(t, upgrade.RoleStandby, c.Member("fw-a").Role, "the fault ended: the cluster resolves the two actives")
		assert.Equal(t, upgrade.RoleActive, c.Member("fw-b").Role)
	})
}

// Flap makes the reading flap every k reads, not the member.
func TestStatusFlaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := upgradetest.Pair("fw", "1.0", time.Minute)
		a := c.Member("fw-a")
		a.Flap = 2
		var healthy []bool
		for range 6 {
			st, err := a.Status(t.Context())
			require.NoError(t, err)
			healthy = append(healthy, st.Healthy)
		}
		assert.Equal(t, []bool{true, true, false, false, true, true}, healthy)
		a.FlapUnreachable = true
		var errs []bool
		for range 4 {
			_, err := a.Status(t.Context())
			errs = append(errs, errors.Is(err, upgradetest.ErrUnreachable))
		}
		assert.Equal(t, []bool{true, true, false, false}, errs, "reads 7-8 bad, 9-10 good")
		assert.True(t, c.Probe.Forwarding(), "the probe never saw it")
		assert.Empty(t, c.Calls())
	})
}

func TestAddFaultRefusesAnAmbiguousTrigger(t *testing.T) {
	c := trio()
	err := c.AddFault(upgradetest.Fault{Kind: upgradetest.FaultDown, After: time.Second, OnCall: 1})
	assert.ErrorIs(t, err, upgrade.ErrInvalid)
	err = c.AddFault(upgradetest.Fault{Kind: "melt", AtStatus: 1})
	assert.ErrorIs(t, err, upgrade.ErrInvalid)
	assert.ErrorIs(t, c.AddFault(upgradetest.Fault{Kind: upgradetest.FaultPeerLost}), upgrade.ErrInvalid)
}

// Every call records what forwarded and what its caller last saw.
func TestCallsRecordForwardingAndWhatWasSeen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := trio()
		_, err := c.Observe(t.Context())
		require.NoError(t, err)
		require.NoError(t, c.Member("b").Install(t.Context(), "2.0"))
		require.NoError(t, c.Failover(t.Context(), "c"))
		calls := c.Calls()
		require.Len(t, calls, 2)
		assert.Equal(t, []string{"a"}, calls[0].Forwarding)
		assert.Equal(t, []string{"a"}, calls[0].SeenForwarding)
		assert.Equal(t, upgrade.RoleStandby, calls[0].Was)
		assert.Equal(t, upgrade.RoleStandby, calls[0].WasSeen)
		assert.Equal(t, "1.0", calls[0].Version)
		assert.Equal(t, "c", calls[1].Member)
		assert.False(t, calls[1].Failed)

		c.FailoverRefused = true
		assert.ErrorIs(t, c.Failover(t.Context(), "a"), upgradetest.ErrFailoverRefused)
		calls = c.Calls()
		assert.True(t, calls[2].Failed)

		assert.ErrorIs(t, c.Member("a").Rollback(t.Context(), "1.0"), upgradetest.ErrNotEarlier)
		c.Member("c").BackupFails = true
		_, err = c.Member("c").Backup(context.Background())
		assert.ErrorIs(t, err, upgradetest.ErrBackupFailed)
		assert.EqualError(t, err, "member c: backup failed")
	})
}
