package aviatrix_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
)

// TestFleetClusterContract checks Aviatrix specifics of the cluster
// contract beyond the conformance suite (TestConformance, run with
// ActiveActive): gateway groups, lagging gateways, the controller member.
func TestFleetClusterContract(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.6.5545", 2, func(o *aviatrixtest.Options) {
			o.Groups, o.PreviousVersion, o.GatewayVersion = 1, "6.6.5224", "6.6.5224"
		})
		_, fleet := open(t, fake)
		require.NoError(t, upgrade.ValidateCluster(fleet))
		ids := []string{}
		for _, m := range fleet.Members() {
			ids = append(ids, m.ID())
		}
		assert.Equal(t, []string{aviatrix.ControllerID, "spoke-001", "spoke-001-hagw", "spoke-002", "spoke-002-hagw", "transit-01", "transit-01-1", "transit-01-2"}, ids)

		s, err := fleet.Observe(t.Context())
		require.NoError(t, err)
		assert.Len(t, s.Members, len(ids))
		assert.Len(t, s.Forwarding(), 7, "every ActiveMesh gateway forwards; the controller does not")
		ctl, _ := s.Member(aviatrix.ControllerID)
		assert.Equal(t, upgrade.MemberState{ID: aviatrix.ControllerID, Role: upgrade.RoleStandby, Raw: "controller", Version: "6.6.5545", Healthy: true}, ctl)
		require.NoError(t, fleet.PreCheck(t.Context()))

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = fleet.Observe(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, fleet.Failover(t.Context(), "spoke-001"), aviatrix.ErrNotSupported)

		// Member.Install on one HA gateway: it goes down, then comes back on
		// the controller's version.
		var hagw upgrade.Member
		for _, m := range fleet.Members() {
			if m.ID() == "spoke-001-hagw" {
				hagw = m
			}
		}
		require.NoError(t, hagw.Install(t.Context(), "6.6.5545"))
		st, err := hagw.Status(t.Context())
		require.NoError(t, err)
		assert.Equal(t, upgrade.RoleDown, st.Role)
		_, err = upgrade.WaitFor(t.Context(), fleet, upgrade.Gate{Name: "back", Timing: upgrade.Timing{Interval: 10 * time.Second, Deadline: 10 * time.Minute},
			Check: func(s upgrade.Snapshot) error {
				m, _ := s.Member("spoke-001-hagw")
				if !m.Forwarding() || m.Version != "6.6.5545" {
					return assert.AnError
				}
				return nil
			}}, nil)
		require.NoError(t, err)

		// upgrade.Rollbacker: back to the controller's previous version,
		// named explicitly.
		rb, ok := hagw.(upgrade.Rollbacker)
		require.True(t, ok)
		require.NoError(t, rb.Rollback(t.Context(), "6.6.5224"))
		<-time.After(5 * time.Minute)
		assert.Equal(t, "6.6.5224", fake.GatewayVersion("spoke-001-hagw"))
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)

		// A planning-only fleet has no client.
		inv := fleet.Inventory()
		offline, err := aviatrix.NewCluster(nil, &inv, aviatrix.ClusterOptions{})
		require.NoError(t, err)
		_, err = offline.Observe(t.Context())
		assert.ErrorIs(t, err, aviatrix.ErrNotSupported)
	})
}
