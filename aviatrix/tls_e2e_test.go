package aviatrix_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
)

// TestEndToEndOverTLS runs a two-hop upgrade against the fake over real TLS
// on 127.0.0.1, verifying the server with a CA pool built from the httptest
// certificate, with millisecond durations (real time, no bubble).
func TestEndToEndOverTLS(t *testing.T) {
	fake, err := aviatrixtest.Start(aviatrixtest.Options{
		ControllerVersion: "6.6.5224", Pairs: 3, Groups: 1,
		PlatformUpgrade: 40 * time.Millisecond, RestartWindow: 40 * time.Millisecond, NotReadyWindow: 20 * time.Millisecond,
		GatewayUpgrade: 30 * time.Millisecond, ProbeEvery: time.Millisecond,
	})
	require.NoError(t, err)
	defer fake.Close()
	cfg := fake.ClientConfig()
	require.NotNil(t, cfg.RootCAs)
	cfg.Backoff, cfg.MaxBackoff, cfg.Timeout = 5*time.Millisecond, 20*time.Millisecond, 5*time.Second
	c, err := aviatrix.NewClient(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	fleet, err := aviatrix.Open(ctx, c, aviatrix.ClusterOptions{Name: "tls", Waits: aviatrix.Waits{
		ControllerSettle: 10 * time.Millisecond, ControllerPoll: 10 * time.Millisecond, ControllerDeadline: 20 * time.Second,
		GatewayPoll: 5 * time.Millisecond, GatewayDeadline: 20 * time.Second,
		Verify: upgrade.Timing{Interval: 5 * time.Millisecond, MinHealthy: 10 * time.Millisecond, Deadline: 20 * time.Second},
	}})
	require.NoError(t, err)
	p, err := fleet.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.7", BatchSize: 3})
	require.NoError(t, err)
	assert.Equal(t, []string{"6.6.5545", "6.7.1574"}, p.Hops)
	rep, err := (&upgrade.Executor{}).Run(ctx, fleet, p.Plan)
	require.NoError(t, err, rep.Markdown())
	assert.Equal(t, "6.7.1574", fake.ControllerVersion())
	for _, n := range fake.GatewayNames() {
		assert.Equal(t, "6.7.1574", fake.GatewayVersion(n), n)
	}
	assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
	for _, k := range fake.Calls() {
		assert.False(t, k.CIDInURL)
		if k.Action != "get_api_token" {
			assert.Equal(t, "POST", k.Method, k.Action)
		}
	}
	assert.Len(t, rep.FinalVersions, 1+2*3+3, "controller, 3 pairs and a group of 3 observed at the end")
}
