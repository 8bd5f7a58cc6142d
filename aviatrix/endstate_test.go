package aviatrix_test

import (
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/upgrade"
)

// A journal of a finished run, replayed against a cluster that does not
// show the work (a fresh controller still on the old versions), skips
// every step as done in the journal, but the plan's end-state check fails
// the run with upgrade.ErrNotConverged, naming each member that falls
// short and its version, and nothing is written to the controller. The
// same replay against the cluster that did the work is ok.
func TestReplayedJournalOnUnchangedClusterIsNotConverged(t *testing.T) {
	onCtl := func(o *aviatrixtest.Options) { o.ControllerVersion, o.PreviousVersion = "6.6.5545", "6.6.5224" }
	aws, awsOld := aviatrixtest.DefaultImages()[1], aviatrixtest.StartImage(1)
	for name, tc := range map[string]struct {
		opts func(*aviatrixtest.Options)
		plan func(t *testing.T, f *aviatrix.Cluster) upgrade.Plan
		want []string
	}{
		"PlanUpgrade": {
			plan: func(t *testing.T, f *aviatrix.Cluster) upgrade.Plan {
				p, err := f.PlanUpgrade(aviatrix.UpgradeRequest{Target: "6.6.5545", BatchSize: 2})
				require.NoError(t, err)
				return p.Plan
			},
			want: []string{"controller: have 6.6.5224, want 6.6.5545", "gateway spoke-001: have 6.6.5224, want 6.6.5545",
				"gateway spoke-001-hagw: have 6.6.5224, want 6.6.5545", "gateway spoke-002: have 6.6.5224, want 6.6.5545", "gateway spoke-002-hagw: have 6.6.5224, want 6.6.5545"},
		},
		"Cluster.Plan": {
			plan: func(t *testing.T, f *aviatrix.Cluster) upgrade.Plan {
				s, err := f.Observe(t.Context())
				require.NoError(t, err)
				p, err := f.Plan(s, "6.6.5545")
				require.NoError(t, err)
				return p
			},
			want: []string{"controller: have 6.6.5224, want 6.6.5545", "gateway spoke-002-hagw: have 6.6.5224, want 6.6.5545"},
		},
		"PlanRollback": {
			opts: onCtl,
			plan: func(t *testing.T, f *aviatrix.Cluster) upgrade.Plan {
				p, err := f.PlanRollback(aviatrix.RollbackRequest{BatchSize: 2})
				require.NoError(t, err)
				return p.Plan
			},
			want: []string{"gateway spoke-001: have 6.6.5545, want 6.6.5224", "gateway spoke-002-hagw: have 6.6.5545, want 6.6.5224"},
		},
		"PlanImageUpgrade, images asked at run time": {
			opts: onCtl,
			plan: func(t *testing.T, f *aviatrix.Cluster) upgrade.Plan {
				p, err := f.PlanImageUpgrade(aviatrix.ImageRequest{})
				require.NoError(t, err)
				return p.Plan
			},
			want: []string{"gateway spoke-001: have image " + awsOld + ", want image " + aws, "gateway spoke-002-hagw: have image " + awsOld + ", want image " + aws},
		},
		"PlanImageUpgrade, images given": {
			opts: onCtl,
			plan: func(t *testing.T, f *aviatrix.Cluster) upgrade.Plan {
				p, err := f.PlanImageUpgrade(aviatrix.ImageRequest{Images: map[int]string{1: aws}})
				require.NoError(t, err)
				return p.Plan
			},
			want: []string{"gateway spoke-001: have image " + awsOld + ", want image " + aws, "gateway spoke-002-hagw: have image " + awsOld + ", want image " + aws},
		},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mods []func(*aviatrixtest.Options)
				if tc.opts != nil {
					mods = append(mods, tc.opts)
				}
				path := filepath.Join(t.TempDir(), "run.journal")
				done := aviatrixtest.NewWithPairs("6.6.5224", 2, mods...)
				_, f1 := open(t, done)
				p1 := tc.plan(t, f1)
				rep, err := (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}}).Run(t.Context(), f1, p1)
				require.NoError(t, err, rep.Markdown())
				writes := len(done.WriteCalls())
				require.NotZero(t, writes)

				fresh := aviatrixtest.NewWithPairs("6.6.5224", 2, mods...)
				_, f2 := open(t, fresh)
				p2 := tc.plan(t, f2)
				require.Equal(t, p1.Fingerprint(), p2.Fingerprint(), "the same plan, so the journal resumes")
				rep, err = (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}}).Run(t.Context(), f2, p2)
				require.ErrorIs(t, err, upgrade.ErrNotConverged, rep.Markdown())
				var ee *aviatrix.EndStateError
				require.ErrorAs(t, err, &ee)
				for _, w := range tc.want {
					assert.ErrorContains(t, err, w)
				}
				assert.False(t, rep.OK)
				for _, s := range rep.Steps {
					assert.Equal(t, upgrade.StatusSkipped, s.Status, s.Name)
					assert.Equal(t, "done in journal", s.Note, s.Name)
				}
				assert.Empty(t, fresh.WriteCalls(), "nothing written to the cluster that did not do the work")

				// The same journal against the cluster that did the work.
				rep, err = (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: path}}).Run(t.Context(), f1, p1)
				require.NoError(t, err, rep.Markdown())
				assert.Len(t, done.WriteCalls(), writes)
			})
		})
	}
}

// The end-state check reads only the snapshot and names every member that
// falls short: the controller's version, a gateway's version, health and
// image, and an HA set of the selection without a forwarding member.
func TestEndStateNamesEveryMemberShort(t *testing.T) {
	f := fleetOf(t, "6.6.5545", "6.6.5224", pairOf("a", "6.6.5545"), pairOf("b", "6.6.5545"), groupOf("g", 3, "6.6.5545"))
	st := func(id, v string, role upgrade.Role, healthy bool, raw string) upgrade.MemberState {
		return upgrade.MemberState{ID: id, Version: v, Role: role, Healthy: healthy, Raw: raw}
	}
	up := func(id, v string) upgrade.MemberState {
		return st(id, v, upgrade.RoleActive, true, "up/complete image=img-new")
	}
	s := upgrade.Snapshot{Members: []upgrade.MemberState{
		st(aviatrix.ControllerID, "6.6.5545", upgrade.RoleStandby, true, "controller"),
		up("a", "6.6.5545"), up("a-hagw", "6.6.5545"),
		st("b", "6.6.5545", upgrade.RoleDown, false, "down/complete"), st("b-hagw", "6.6.5545", upgrade.RoleDown, false, "down/upgrading"),
		up("g", "6.6.5545"), up("g-1", "6.6.5224"), // g-2 not observed
	}}
	all := []string{"a", "a-hagw", "b", "b-hagw", "g", "g-1", "g-2"}
	require.NoError(t, f.Converged(aviatrix.EndState{Controller: "6.6.5545", Version: "6.6.5545", Gateways: []string{"a", "a-hagw", "g"}})(s))
	err := f.Converged(aviatrix.EndState{Controller: "6.7.1574", Version: "6.6.5545", Gateways: all})(s)
	require.ErrorIs(t, err, upgrade.ErrNotConverged)
	var ee *aviatrix.EndStateError
	require.ErrorAs(t, err, &ee)
	var who []string
	for _, p := range ee.Problems {
		who = append(who, p.Member)
	}
	assert.Equal(t, []string{aviatrix.ControllerID, "b", "b-hagw", "g-1", "g-2", "b"}, who, "controller, gateways in order, then the set b without a forwarding member")
	assert.Equal(t, aviatrix.EndStateProblem{Member: "g-1", Have: "6.6.5224", Want: "6.6.5545"}, ee.Problems[3])
	assert.Equal(t, aviatrix.EndStateProblem{Member: "g-2", Have: "not observed", Want: "6.6.5545"}, ee.Problems[4])
	assert.ErrorContains(t, err, "controller: have 6.6.5545, want 6.7.1574")
	assert.ErrorContains(t, err, "gateway b-hagw: have down/upgrading on 6.6.5545, down (healthy=false)")

	// Images: each gateway's cloud's target image.
	err = f.Converged(aviatrix.EndState{Version: "6.6.5545", Gateways: []string{"a", "g"}, Images: map[int]string{1: "img-new", 8: "img-azure"}})(s)
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, []aviatrix.EndStateProblem{{Member: "g", Have: "image img-new", Want: "image img-azure"}}, ee.Problems)
}
