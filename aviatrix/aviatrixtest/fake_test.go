package aviatrixtest_test

import (
	"net/url"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
)

func client(t *testing.T, f *aviatrixtest.Fake) *aviatrix.Client {
	t.Helper()
	c, err := aviatrix.NewClient(f.ClientConfig())
	require.NoError(t, err)
	return c
}

// The probe is not vacuous: upgrading both members of a pair at once loses
// that pair's traffic for the whole upgrade, and only that pair's.
func TestProbeSeesAWholePairDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := aviatrixtest.NewWithPairs("6.5.2721", 2, func(o *aviatrixtest.Options) { o.GatewayVersion = "6.5.1922" })
		c := client(t, f)
		_, err := c.Do(t.Context(), "upgrade_selected_gateway", url.Values{"gateway_list": {"spoke-001,spoke-001-hagw"},
			"version": {"6.5.2721"}, "software_version": {"6.5.2721"}}, true)
		require.NoError(t, err)
		<-time.After(10 * time.Minute)
		s := f.ProbeSummary()
		// Down over [0, 240 s): ticks 1 s … 239 s are lost, the 240 s tick
		// sees the pair back.
		assert.Equal(t, map[string]int{"spoke-001": 239}, s.LostBySet)
		assert.Equal(t, map[string]int{"spoke-001": 2, "spoke-002": 0}, f.MaxDownBySet(), "both members were down together")
		assert.Equal(t, 4*time.Minute, s.Outage)
		assert.Equal(t, "6.5.2721", f.GatewayVersion("spoke-001"))
	})
}

func TestFakeRequiresVersionField(t *testing.T) {
	f := aviatrixtest.NewWithPairs("7.1.1794", 1, func(o *aviatrixtest.Options) { o.Releases = []string{"7.1.1794"} })
	c := client(t, f)
	_, err := c.Do(t.Context(), "upgrade_selected_gateway", url.Values{"gateway_list": {"spoke-001"}, "software_version": {"7.1.1794"}}, true)
	var ae *aviatrix.APIError
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, ae.Reason, "following parameters are required: gateway_list, version", "issue #1907")
}

func TestFakeControllerRestartSequence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := aviatrixtest.NewWithPairs("6.5.2721", 1)
		c := client(t, f)
		require.NoError(t, c.UpgradePlatform(t.Context(), "6.6.5545"))
		ps, err := c.PlatformUpgradeStatus(t.Context())
		require.NoError(t, err)
		assert.True(t, ps.Running())
		assert.ErrorIs(t, c.UpgradeGateways(t.Context(), []string{"spoke-001"}, "6.5.2721"), aviatrix.ErrBusy)

		<-time.After(3*time.Minute + time.Second)                  // restart window: 502 pages
		_, err = c.Do(t.Context(), "list_version_info", nil, true) // as a write: not retried
		require.ErrorIs(t, err, aviatrix.ErrRestarting)
		assert.Contains(t, err.Error(), "502 Proxy Error")

		<-time.After(2 * time.Minute) // backend not ready: "Valid action required: login"
		notReady := time.Now()
		logins := c.Logins()
		info, err := c.VersionInfo(t.Context()) // retried until the controller is back
		require.NoError(t, err)
		assert.Equal(t, 30*time.Second, time.Since(notReady).Round(10*time.Second), "answered once the window closed")
		assert.Equal(t, "6.6.5545", info.Current)
		assert.Equal(t, "6.5.2721", info.Previous)
		assert.Equal(t, logins+1, c.Logins(), "the old CID was rejected after the restart; one new login")
		refused := 0
		for _, k := range f.Calls() {
			if k.Action == "list_version_info" && !k.OK {
				refused++
			}
		}
		assert.GreaterOrEqual(t, refused, 3, "502 page, then not-ready refusals")
		ps, err = c.PlatformUpgradeStatus(t.Context())
		require.NoError(t, err)
		assert.True(t, ps.Done())
	})
}

func TestFakeRefusesBadHops(t *testing.T) {
	f := aviatrixtest.NewWithPairs("6.5.1922", 1)
	c := client(t, f)
	for _, v := range []string{"6.6.5545", "6.7.1574", "6.5.1000"} { // must first reach the latest 6.5 build; no skipping; no downgrade
		var ae *aviatrix.APIError
		require.ErrorAs(t, c.UpgradePlatform(t.Context(), v), &ae, v)
	}
	require.NoError(t, c.UpgradePlatform(t.Context(), "6.5.2721"))
}

func TestFakeInventoryShapes(t *testing.T) {
	f := aviatrixtest.NewWithPairs("7.0.1373", 2, func(o *aviatrixtest.Options) {
		o.NestedHAOnly, o.Groups, o.GroupSize, o.Standalone = true, 1, 4, 1
		o.Releases = []string{"7.0.1373"}
	})
	c := client(t, f)
	inv, err := c.Inventory(t.Context())
	require.NoError(t, err)
	assert.Len(t, inv.Gateways, 2*2+4+1)
	sets, err := inv.Sets()
	require.NoError(t, err)
	assert.Equal(t, []aviatrix.HASet{
		{Primary: "egress-01"},
		{Primary: "spoke-001", HA: []string{"spoke-001-hagw"}},
		{Primary: "spoke-002", HA: []string{"spoke-002-hagw"}},
		{Primary: "transit-01", HA: []string{"transit-01-1", "transit-01-2", "transit-01-3"}, Group: "transit-01-group"},
	}, sets)
	for _, g := range inv.Gateways {
		assert.Equal(t, "up", g.State, g.Name)
		assert.Equal(t, "7.0.1373", g.Version, g.Name)
	}
	assert.Equal(t, []string{"7.0.1373"}, inv.Releases)
}

func TestFakeTaskStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := aviatrixtest.NewWithPairs("6.5.2721", 1, func(o *aviatrixtest.Options) { o.GatewayVersion = "6.5.1922" })
		c := client(t, f)
		raw, err := c.Do(t.Context(), "upgrade_selected_gateway", url.Values{"gateway_list": {"spoke-001-hagw"}, "version": {"6.5.2721"}, "software_version": {"6.5.2721"}}, true)
		require.NoError(t, err)
		id := string(raw[1 : len(raw)-1])
		done, err := c.TaskStatus(t.Context(), id)
		require.NoError(t, err)
		assert.False(t, done)
		<-time.After(5 * time.Minute)
		done, err = c.TaskStatus(t.Context(), id)
		require.NoError(t, err)
		assert.True(t, done)
	})
}

// An image upgrade replaces one gateway: down while replaced, then back on
// the same version with the compatible image. Wrong images and gateways
// behind the controller are refused.
func TestFakeImageUpgrade(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := aviatrixtest.NewWithPairs("6.6.5545", 1, func(o *aviatrixtest.Options) { o.Groups = 1 })
		c := client(t, f)
		assert.Equal(t, aviatrixtest.StartImage(1), f.GatewayImage("spoke-001-hagw"))
		img, err := c.CompatibleImageVersion(t.Context(), "6.6.5545", 8)
		require.NoError(t, err)
		assert.Equal(t, aviatrixtest.DefaultImages()[8], img)

		var ae *aviatrix.APIError
		require.ErrorAs(t, c.UpgradeGatewayImage(t.Context(), []string{"transit-01-1"}, "6.6.5545", aviatrixtest.DefaultImages()[1]), &ae)
		assert.Contains(t, ae.Reason, "not compatible")
		f.SetGatewayVersion("transit-01-2", "6.6.5224")
		require.ErrorAs(t, c.UpgradeGatewayImage(t.Context(), []string{"transit-01-2"}, "6.6.5545", img), &ae)
		assert.Contains(t, ae.Reason, "upgrade its software first")

		require.NoError(t, c.UpgradeGatewayImage(t.Context(), []string{"transit-01-1"}, "6.6.5545", img))
		gws, err := c.Gateways(t.Context())
		require.NoError(t, err)
		for _, g := range gws {
			if g.Name == "transit-01-1" {
				assert.Equal(t, "down", g.State, "down while replaced")
				assert.Equal(t, aviatrixtest.StartImage(8), g.Image)
			}
		}
		<-time.After(5 * time.Minute)
		assert.Equal(t, img, f.GatewayImage("transit-01-1"))
		assert.Equal(t, "6.6.5545", f.GatewayVersion("transit-01-1"))
		assert.Equal(t, map[string]int{"spoke-001": 0, "transit-01": 1}, f.MaxDownBySet())
		assert.Equal(t, 0, f.ProbeSummary().LostTicks)
	})
}
