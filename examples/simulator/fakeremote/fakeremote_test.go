package fakeremote_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/examples/simulator/fakeremote"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

const password = "fakeremote-test-token"

// serve starts a served fake pair and dials it.
func serve(t *testing.T) (*upgradetest.Cluster, *fakeremote.Server, *fakeremote.Cluster) {
	t.Helper()
	fc := upgradetest.NewCluster("remote", 5*time.Millisecond,
		&upgradetest.Member{Name: "a", Version: "8.1.7", Role: upgrade.RoleActive, RebootDuration: 60 * time.Millisecond},
		&upgradetest.Member{Name: "b", Version: "8.1.7", Role: upgrade.RoleStandby, RebootDuration: 60 * time.Millisecond})
	srv, err := fakeremote.Serve(fc, password)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	c, err := fakeremote.Dial(context.Background(), fakeremote.Config{Addr: srv.Addr(), Password: password})
	require.NoError(t, err)
	return fc, srv, c
}

// TestConformance: the served fake, through the client, is an
// upgrade.Cluster like any other (real sockets: no bubble).
func TestConformance(t *testing.T) {
	upgradetest.TestCluster(t, upgradetest.Conformance{
		New: func(t *testing.T) upgrade.Cluster {
			_, _, c := serve(t)
			return c
		},
		Target:     "8.2.1",
		Grammar:    versionpath.Dotted{},
		GateTiming: upgrade.Timing{Interval: 10 * time.Millisecond, MinHealthy: 30 * time.Millisecond, Deadline: 5 * time.Second},
	})
}

// TestUpgradeOverHTTP: a rolling upgrade through the client keeps every
// probe tick and the probe is readable remotely.
func TestUpgradeOverHTTP(t *testing.T) {
	fc, _, c := serve(t)
	assert.Equal(t, "remote", c.Name())
	plan := upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{}, GateTiming: upgrade.Timing{Interval: 10 * time.Millisecond, MinHealthy: 30 * time.Millisecond, Deadline: 5 * time.Second}}
	rep, err := (&upgrade.Executor{}).Upgrade(context.Background(), c, plan, "8.2.1")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "8.2.1", "b": "8.2.1"}, rep.FinalVersions)
	p, err := c.Probe(context.Background())
	require.NoError(t, err)
	assert.Zero(t, p.LostTicks)
	assert.True(t, p.Forwarding)
	assert.Equal(t, 1, fc.CountCalls("install", "a"))
}

// TestRefusals: a wrong password, a non-loopback address, a missing
// password; no error quotes the password.
func TestRefusals(t *testing.T) {
	_, srv, _ := serve(t)
	ctx := context.Background()
	_, err := fakeremote.Dial(ctx, fakeremote.Config{Addr: srv.Addr(), Password: "wrong-" + password})
	require.ErrorIs(t, err, fakeremote.ErrAuth)
	assert.NotContains(t, err.Error(), password)
	_, err = fakeremote.Dial(ctx, fakeremote.Config{Addr: "192.0.2.1:80", Password: password})
	require.ErrorIs(t, err, fakeremote.ErrNotLoopback)
	_, err = fakeremote.Dial(ctx, fakeremote.Config{Addr: srv.Addr()})
	require.Error(t, err)
	require.NoError(t, srv.Close())
	_, err = fakeremote.Dial(ctx, fakeremote.Config{Addr: srv.Addr(), Password: password})
	require.ErrorIs(t, err, fakeremote.ErrUnreachable)
	assert.NotContains(t, err.Error(), password)
}
