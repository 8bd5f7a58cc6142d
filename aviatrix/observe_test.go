package aviatrix_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
)

// memberIDs returns the IDs of a cluster's members, in order.
func memberIDs(c upgrade.Cluster) []string {
	var ids []string
	for _, m := range c.Members() {
		ids = append(ids, m.ID())
	}
	return ids
}

// snapshotIDs returns the member IDs of a snapshot, in order.
func snapshotIDs(s upgrade.Snapshot) []string {
	var ids []string
	for _, m := range s.Members {
		ids = append(ids, m.ID)
	}
	return ids
}

// journaled starts p on fleet with a fresh file journal and stops it
// before its first step (an approval refused), so that the journal holds
// p's header: a later run with the journal is a resume, which runs no
// pre-checks, and the guard alone stands before each disruptive step.
func journaled(t *testing.T, fleet *aviatrix.Cluster, p upgrade.Plan) *upgrade.FileJournal {
	t.Helper()
	j := &upgrade.FileJournal{Path: filepath.Join(t.TempDir(), "run.journal")}
	_, err := run(t, fleet, p, &upgrade.Executor{Journal: j, Approve: func(context.Context, upgrade.Step, upgrade.Snapshot) error {
		return errors.New("not now")
	}})
	require.ErrorIs(t, err, upgrade.ErrNotApproved)
	return &upgrade.FileJournal{Path: j.Path}
}

// A gateway that is down must never look healthy because the controller's
// reply lists it twice (the last entry saying "up") or leaves it out of
// the upgrade-status list: any duplicate or missing entry, in
// list_vpcs_summary or list_gateway_upgrade_status, in either order, makes
// the gateway unknown and unhealthy with a problem naming the entry, and
// the guard then refuses to take its HA peer down; nothing is written.
func TestDuplicateOrMissingEntriesFailClosed(t *testing.T) {
	for name, tc := range map[string]struct {
		action  string
		states  []string
		problem string
	}{
		"status listed twice, down then up":  {"list_gateway_upgrade_status", []string{"down", "up"}, "listed 2 times in list_gateway_upgrade_status"},
		"status listed twice, up then down":  {"list_gateway_upgrade_status", []string{"up", "down"}, "listed 2 times in list_gateway_upgrade_status"},
		"summary listed twice, down then up": {"list_vpcs_summary", []string{"down", "up"}, "listed 2 times in list_vpcs_summary"},
		"summary listed twice, up then down": {"list_vpcs_summary", []string{"up", "down"}, "listed 2 times in list_vpcs_summary"},
		"missing from the status list":       {"list_gateway_upgrade_status", nil, "not in list_gateway_upgrade_status"},
		"missing from the summary":           {"list_vpcs_summary", nil, "not in list_vpcs_summary"},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake := aviatrixtest.NewWithPairs("6.5.2721", 2, func(o *aviatrixtest.Options) { o.GatewayVersion = "6.5.1922" })
				_, fleet := open(t, fake)
				p := hand(fleet, aviatrix.EndState{Version: "6.5.2721", Gateways: []string{"spoke-001-hagw"}}, fleet.GatewayBatchSteps("6.5.2721", 1, "spoke-001-hagw")...)
				j := journaled(t, fleet, p)
				fake.SetGatewayState("spoke-001", "down")
				if tc.action == "list_gateway_upgrade_status" {
					// The summary says up; only the status list knows better.
					fake.SetReplyEntries("list_vpcs_summary", "spoke-001", "up")
				}
				fake.SetReplyEntries(tc.action, "spoke-001", tc.states...)

				s, err := fleet.Observe(t.Context())
				require.NoError(t, err)
				assert.Equal(t, memberIDs(fleet), snapshotIDs(s), "one state per member, in Members order")
				require.NoError(t, upgrade.CheckSnapshot(fleet, s))
				assert.Empty(t, s.Problems, "a gateway's reply entries are its own problem, not the cluster's")
				m, _ := s.Member("spoke-001")
				assert.Equal(t, upgrade.RoleUnknown, m.Role)
				assert.False(t, m.Healthy)
				assert.False(t, m.Forwarding())
				assert.Contains(t, m.Problems, tc.problem)
				peer, _ := s.Member("spoke-001-hagw")
				assert.True(t, peer.Forwarding(), "the other gateways are read as usual")

				err = fleet.CheckPairs(s, []string{"spoke-001-hagw"})
				require.ErrorIs(t, err, aviatrix.ErrPairUnsafe)
				// The guard, on a resumed run (no pre-checks to catch it).
				rep, err := run(t, fleet, p, &upgrade.Executor{Journal: j})
				require.ErrorIs(t, err, upgrade.ErrUnsafe, rep.Markdown())
				assert.ErrorContains(t, err, "spoke-001 is unknown (healthy=false)")
				assert.Empty(t, fake.WriteCalls())
			})
		})
	}
}

// Observe returns exactly one state per member, in Members order, whatever
// the controller's replies hold; Snapshot.Problems holds only cluster-wide
// problems (gateways on the controller that the cluster does not know, in
// either reply), while a gateway's transitional state during its upgrade
// stays in its own MemberState.Problems. The guard refuses any disruptive
// step on a snapshot with cluster-wide problems.
func TestSnapshotMatchesMembersAndKeepsTransitionsPerMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.2721", 2, func(o *aviatrixtest.Options) { o.GatewayVersion = "6.5.1922" })
		c, fleet := open(t, fake)
		require.NoError(t, c.UpgradeGateways(t.Context(), []string{"spoke-001-hagw"}, "6.5.2721"))

		s, err := fleet.Observe(t.Context())
		require.NoError(t, err)
		assert.Equal(t, memberIDs(fleet), snapshotIDs(s))
		assert.Empty(t, s.Problems, "an upgrade in progress is not a cluster-wide problem")
		m, _ := s.Member("spoke-001-hagw")
		assert.Equal(t, upgrade.RoleDown, m.Role)
		assert.Equal(t, []string{"upgrade in progress (upgrading)"}, m.Problems)

		// Gateways the cluster does not know, in either reply; a known one
		// listed twice.
		fake.SetReplyEntries("list_gateway_upgrade_status", "ghost-status", "up")
		fake.SetReplyEntries("list_vpcs_summary", "ghost-summary", "up")
		fake.SetReplyEntries("list_vpcs_summary", "spoke-002", "up", "up")
		s, err = fleet.Observe(t.Context())
		require.NoError(t, err)
		assert.Equal(t, memberIDs(fleet), snapshotIDs(s), "no ghost, no duplicate, none missing")
		require.NoError(t, upgrade.CheckSnapshot(fleet, s))
		assert.Equal(t, []string{"gateways on the controller that are not in cluster avx (re-open the cluster): ghost-status, ghost-summary"}, s.Problems)
		d, _ := s.Member("spoke-002")
		assert.Equal(t, upgrade.RoleUnknown, d.Role)

		// Nothing disruptive runs on such a snapshot (here: the fresh
		// run's pre-check on cluster-wide problems).
		<-time.After(5 * time.Minute) // spoke-001-hagw's upgrade completes (virtual time)
		fake.SetReplyEntries("list_vpcs_summary", "spoke-002", "up")
		p := hand(fleet, aviatrix.EndState{Version: "6.5.2721", Gateways: []string{"spoke-002-hagw"}}, fleet.GatewayBatchSteps("6.5.2721", 1, "spoke-002-hagw")...)
		_, err = run(t, fleet, p, nil)
		require.ErrorIs(t, err, upgrade.ErrPreCheck)
		assert.ErrorContains(t, err, "ghost-status")
		assert.Len(t, fake.WriteCalls(), 1, "only the upgrade sent above")
	})
}
