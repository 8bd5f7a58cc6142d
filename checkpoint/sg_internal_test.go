package checkpoint

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/upgrade"
)

// testGroup is a SecurityGroup without sessions: sites x perSite SGMs and
// the orchestrators named.
func testGroup(sites, perSite int, mhos ...string) *SecurityGroup {
	g := &SecurityGroup{cfg: SecurityGroupConfig{Name: "sg1", GatewayObject: "sg1"}, log: slog.New(slog.DiscardHandler)}
	sess := &Cluster{}
	for _, n := range mhos {
		m := &ClusterMember{c: sess, gw: Gateway{Name: n}}
		g.mhos = append(g.mhos, &Orchestrator{g: g, s: m})
	}
	for s := 1; s <= sites; s++ {
		for n := 1; n <= perSite; n++ {
			id, _, _, _ := ParseSGMID(string(rune('0'+s)) + "_" + string(rune('0'+n)))
			g.sgms = append(g.sgms, &SGM{g: g, id: id, site: s, number: n})
		}
	}
	g.sess = sess
	return g
}

func TestSplitDefaultIsHalfOfEverySite(t *testing.T) {
	g := testGroup(2, 4, "mho1", "mho2")
	a, b, err := SecurityGroupPlanner{Group: g}.Split()
	require.NoError(t, err)
	assert.Equal(t, []string{"1_1", "1_2", "2_1", "2_2"}, a)
	assert.Equal(t, []string{"1_3", "1_4", "2_3", "2_4"}, b)

	// Three per site: one in A, two in B (rounded down, at least one).
	a, b, err = SecurityGroupPlanner{Group: testGroup(2, 3)}.Split()
	require.NoError(t, err)
	assert.Equal(t, []string{"1_1", "2_1"}, a)
	assert.Equal(t, []string{"1_2", "1_3", "2_2", "2_3"}, b)
}

func TestSplitRefusesASiteWithoutForwardingSGM(t *testing.T) {
	g := testGroup(2, 4)
	for _, tc := range []struct {
		name     string
		a        []string
		site     int
		sub      string
		unknown  []string
		wantText string
	}{
		{name: "site 2 only in B", a: []string{"1_1", "1_2"}, site: 2, sub: "A", wantText: "sub-group A has no SGM on site 2"},
		{name: "site 1 entirely in A", a: []string{"1_1", "1_2", "1_3", "1_4", "2_1"}, site: 1, sub: "B", wantText: "sub-group B has no SGM on site 1"},
		{name: "unknown SGM", a: []string{"1_1", "3_1", "2_1", "x"}, unknown: []string{"3_1", "x"}, wantText: "do not exist: 3_1,x"},
		{name: "one site in one group only (one SGM per site)", a: []string{"1_1"}, site: 1, sub: "B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gg := g
			if tc.name == "one site in one group only (one SGM per site)" {
				gg = testGroup(1, 1)
			}
			_, _, err := SecurityGroupPlanner{Group: gg, SubGroupA: tc.a}.Split()
			var se *SplitError
			require.ErrorAs(t, err, &se)
			assert.ErrorIs(t, err, ErrSiteNotForwarding)
			assert.Equal(t, tc.site, se.Site)
			assert.Equal(t, tc.sub, se.SubGroup)
			assert.Equal(t, tc.unknown, se.Unknown)
			assert.Contains(t, err.Error(), tc.wantText)
		})
	}
	// Zero-padded IDs are accepted and canonicalised.
	a, _, err := SecurityGroupPlanner{Group: g, SubGroupA: []string{"2_01", "1_03"}}.Split()
	require.NoError(t, err)
	assert.Equal(t, []string{"1_3", "2_1"}, a)
}

func snapOf(g *SecurityGroup, forwarding ...string) upgrade.Snapshot {
	s := upgrade.Snapshot{Cluster: g.Name()}
	for _, m := range g.Members() {
		st := upgrade.MemberState{ID: m.ID(), Role: upgrade.RoleStandby, Healthy: true, Version: "R81.20"}
		if slices.Contains(forwarding, m.ID()) {
			st.Role = upgrade.RoleActive
		}
		s.Members = append(s.Members, st)
	}
	return s
}

func TestSecurityGroupDisruptionRules(t *testing.T) {
	g := testGroup(2, 2, "mho1", "mho2")
	all := []string{"mho1", "mho2", "1_1", "1_2", "2_1", "2_2"}
	s := snapOf(g, all...)
	require.NoError(t, g.CheckDisruption(s, []string{"1_1", "2_1"}))
	require.NoError(t, g.CheckDisruption(s, []string{"mho1"}))
	// Every SGM of site 2.
	err := g.CheckDisruption(s, []string{"2_1", "2_2"})
	assert.ErrorIs(t, err, ErrSiteNotForwarding)
	assert.Contains(t, err.Error(), "every SGM of site 2")
	assert.Error(t, g.CheckTopology([]string{"2_1", "2_2"}))
	// Both orchestrators.
	err = g.CheckDisruption(s, []string{"mho1", "mho2"})
	assert.ErrorIs(t, err, ErrSiteNotForwarding)
	assert.Contains(t, err.Error(), "every orchestrator")
	// Momentary state: 1_2 does not forward, so 1_1 may not go.
	s = snapOf(g, "mho1", "mho2", "1_1", "2_1", "2_2")
	err = g.CheckDisruption(s, []string{"1_1"})
	assert.ErrorIs(t, err, ErrSiteNotForwarding)
	assert.Contains(t, err.Error(), "no SGM of site 1 outside 1_1 forwards")
	assert.NoError(t, g.CheckTopology([]string{"1_1"}), "topology alone allows it")
	// mho2 down: mho1 may not go.
	s = snapOf(g, "mho1", "1_1", "1_2", "2_1", "2_2")
	assert.ErrorIs(t, g.CheckDisruption(s, []string{"mho1"}), ErrSiteNotForwarding)
}

func journalWith(t *testing.T, recs ...upgrade.Record) *upgrade.MemoryJournal {
	j := &upgrade.MemoryJournal{}
	for _, r := range recs {
		require.NoError(t, j.Append(context.Background(), r))
	}
	return j
}

func TestMixedVersionWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	g := testGroup(2, 4)
	j := journalWith(t, upgrade.Record{Kind: upgrade.RecordStart, Step: "upgrade:A@R82", Time: t0})
	at := func(d time.Duration) func() time.Time { return func() time.Time { return t0.Add(d) } }
	b := func(now func() time.Time) *sgBuilder {
		return &sgBuilder{p: SecurityGroupPlanner{Group: g, Journal: j, Now: now}, g: g, target: "R82", dur: SGDurations{}.withDefaults()}
	}
	// upgrade:B needs 90 min + 20 min = 110 min.
	require.NoError(t, b(at(72*time.Hour-110*time.Minute)).checkWindow(context.Background(), "upgrade:B@R82"), "exactly fits")
	err := b(at(72*time.Hour-109*time.Minute)).checkWindow(context.Background(), "upgrade:B@R82")
	var we *WindowError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, ErrWindow)
	assert.Equal(t, t0, we.Start)
	assert.Equal(t, t0.Add(72*time.Hour), we.Deadline)
	assert.Equal(t, t0.Add(72*time.Hour-109*time.Minute), we.Now)
	assert.Equal(t, 110*time.Minute, we.Need)
	assert.Equal(t, "upgrade:B@R82", we.Step)
	assert.Contains(t, err.Error(), "opened at 2026-12-01T08:00:00Z and closes at 2026-12-04T08:00:00Z")
	assert.Contains(t, err.Error(), "1h49m0s left")

	// Without a start record the window opens now: upgrade:A needs
	// 2x(90+20) min, far below 72 h.
	empty := &sgBuilder{p: SecurityGroupPlanner{Group: g, Journal: &upgrade.MemoryJournal{}, Now: at(0)}, g: g, target: "R82", dur: SGDurations{}.withDefaults()}
	require.NoError(t, empty.checkWindow(context.Background(), "upgrade:A@R82"))
	// Durations so long the whole procedure cannot fit.
	long := &sgBuilder{p: SecurityGroupPlanner{Group: g, Journal: &upgrade.MemoryJournal{}, Now: at(0)}, g: g, target: "R82", dur: SGDurations{SubGroup: 30 * time.Hour, Policy: 7 * time.Hour}.withDefaults()}
	require.ErrorAs(t, long.checkWindow(context.Background(), "upgrade:A@R82"), &we)
	assert.Equal(t, 74*time.Hour, we.Need)
}

func TestRollbackWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	g := testGroup(2, 4)
	j := journalWith(t,
		upgrade.Record{Kind: upgrade.RecordStart, Step: "admin-down:A@R82", Time: t0.Add(-time.Minute)},
		upgrade.Record{Kind: upgrade.RecordStart, Step: "upgrade:A@R82", Time: t0})
	b := func(d time.Duration) *sgBuilder {
		return &sgBuilder{p: SecurityGroupPlanner{Group: g, Journal: j, Now: func() time.Time { return t0.Add(d) }}, g: g, target: "R81.20"}
	}
	ids := []string{"1_1", "1_2", "2_1", "2_2"}
	require.NoError(t, b(4*time.Hour).rollbackWindow(context.Background(), "R82", ids))
	err := b(4*time.Hour+time.Second).rollbackWindow(context.Background(), "R82", ids)
	var we *WindowError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, t0, we.Start)
	assert.Equal(t, t0.Add(4*time.Hour), we.Deadline)
	assert.Equal(t, ids, we.SGMs)
	assert.Equal(t, "checkpoint: step revert@R81.20: rule rollback-window: SGMs 1_1,1_2,2_1,2_2 were upgraded at 2026-12-01T08:00:00Z; sp_upgrade --revert is allowed only until 2026-12-01T12:00:00Z (4 h), it is 2026-12-01T12:00:01Z (1s late)", err.Error())
	// No upgrade recorded: refused (the rule cannot be checked).
	nb := &sgBuilder{p: SecurityGroupPlanner{Group: g, Journal: &upgrade.MemoryJournal{}, Now: func() time.Time { return t0 }}, g: g, target: "R81.20"}
	err = nb.rollbackWindow(context.Background(), "R82", ids)
	require.ErrorAs(t, err, &we)
	assert.True(t, errors.Is(err, ErrWindow))
	assert.Contains(t, err.Error(), "records no upgrade")
}

func TestMixedVersionWindowWarnsBeforeItCloses(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	g := testGroup(2, 4)
	var buf strings.Builder
	g.log = slog.New(slog.NewTextHandler(&buf, nil))
	j := journalWith(t, upgrade.Record{Kind: upgrade.RecordStart, Step: "upgrade:A@R82", Time: t0})
	at := func(d time.Duration) *sgBuilder {
		return &sgBuilder{p: SecurityGroupPlanner{Group: g, Journal: j, Now: func() time.Time { return t0.Add(d) }}, g: g, target: "R82", dur: SGDurations{}.withDefaults()}
	}
	require.NoError(t, at(59*time.Hour).checkWindow(context.Background(), "upgrade:B@R82"))
	assert.Empty(t, buf.String(), "13 h left: no warning (DefaultWindowWarning is 12 h)")
	require.NoError(t, at(60*time.Hour).checkWindow(context.Background(), "upgrade:B@R82"))
	assert.Contains(t, buf.String(), "the mixed-version window closes soon")
	assert.Contains(t, buf.String(), "left=12h0m0s")
	assert.Contains(t, buf.String(), "deadline=2026-12-04T08:00:00.000Z")
}
