package checkpoint

// Plans are pure: table tests from hand-made snapshots to step IDs.

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// ms is a member state for a snapshot.
func ms(id string, role upgrade.Role, version string, healthy bool, problems ...string) upgrade.MemberState {
	raw := map[upgrade.Role]string{upgrade.RoleActive: "ACTIVE", upgrade.RoleStandby: "STANDBY", upgrade.RoleReady: "READY", upgrade.RoleDown: "DOWN"}[role]
	return upgrade.MemberState{ID: id, Role: role, Raw: raw, Version: version, Healthy: healthy, Problems: problems}
}

func snap(members ...upgrade.MemberState) upgrade.Snapshot {
	return upgrade.Snapshot{Cluster: "hq", At: time.Now(), Members: members}
}

// planCluster is a Cluster for pure planning tests (its scripted sessions
// are never used by Plan).
func planCluster(t *testing.T, mutate func(*Config), names ...string) *Cluster {
	t.Helper()
	cfg := testConfig(t, names...)
	if mutate != nil {
		mutate(&cfg)
	}
	var gws []*gw
	for i, n := range names {
		gws = append(gws, newGW(n, cfg.Members[i].addr(), "R81.20", ""))
	}
	return scriptedCluster(t, cfg, gws...)
}

func TestPlanPhases(t *testing.T) {
	c := planCluster(t, nil, "gw-a", "gw-b")
	p := Planner{Cluster: c, GateTiming: upgrade.Timing{Interval: time.Second, Deadline: time.Minute}}
	full := []string{
		"precheck@R82", "cluster-version@R82",
		"stage:gw-b@R82", "upgrade:gw-b@R82", "wait:gw-b@R82", "mvc-on:gw-b@R82", "policy:mvc:gw-b@R82", "wait:joined:gw-b@R82",
		"failover:from:gw-a@R82", "wait:failover:from:gw-a@R82",
		"stage:gw-a@R82", "upgrade:gw-a@R82", "wait:gw-a@R82",
		"policy:final@R82", "mvc-off:gw-a@R82", "mvc-off:gw-b@R82", "admin-up@R82", "postcheck@R82",
	}
	tests := []struct {
		name string
		s    upgrade.Snapshot
		want []string
	}{
		{"fresh", snap(ms("gw-a", upgrade.RoleActive, "R81.20", true), ms("gw-b", upgrade.RoleStandby, "R81.20", true)), full},
		{"fresh, members listed the other way round", snap(ms("gw-b", upgrade.RoleStandby, "R81.20", true), ms("gw-a", upgrade.RoleActive, "R81.20", true)), full},
		{"gw-b rebooting into the upgrade", snap(ms("gw-a", upgrade.RoleActive, "R81.20", false, "checkpoint: ACTIVE member reports a problem (attention flag): x"),
			upgrade.MemberState{ID: "gw-b", Role: upgrade.RoleDown, Problems: []string{"checkpoint: member unreachable: refused"}}), full},
		{"gw-b READY on the target", snap(ms("gw-a", upgrade.RoleActive, "R81.20", true), ms("gw-b", upgrade.RoleReady, "R82", true)),
			slices.Concat([]string{"wait:gw-b@R82", "mvc-on:gw-b@R82", "policy:mvc:gw-b@R82", "wait:joined:gw-b@R82"}, full[8:])},
		{"failed over", snap(ms("gw-a", upgrade.RoleDown, "R81.20", false, "checkpoint: member administratively down: x"), ms("gw-b", upgrade.RoleActive, "R82", true)),
			full[9:]},
		{"gw-a rebooting into the upgrade", snap(upgrade.MemberState{ID: "gw-a", Role: upgrade.RoleDown}, ms("gw-b", upgrade.RoleActive, "R82", true)),
			full[9:]},
		{"every member on the target, end state not read", snap(ms("gw-a", upgrade.RoleStandby, "R82", true), ms("gw-b", upgrade.RoleActive, "R82", true)),
			full[13:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := p.Plan(tt.s, "R82")
			require.NoError(t, err)
			assert.Equal(t, tt.want, plan.StepIDs())
			require.NotNil(t, plan.Converged)
			assert.Equal(t, "hq", plan.Cluster)
			assert.Equal(t, "R82", plan.Target)
			for _, id := range plan.StepIDs() {
				assert.Contains(t, full, id, "a re-plan only has steps of the first plan")
			}
			again, err := p.Plan(tt.s, "R82")
			require.NoError(t, err)
			assert.Equal(t, plan.StepIDs(), again.StepIDs(), "deterministic")
			assert.Equal(t, plan.Fingerprint(), again.Fingerprint())
		})
	}
}

func TestPlanThreeMembersUpgradesEveryStandbyBeforeTheFailover(t *testing.T) {
	c := planCluster(t, nil, "gw-a", "gw-b", "gw-c")
	plan, err := Planner{Cluster: c}.Plan(snap(ms("gw-a", upgrade.RoleStandby, "R81.20", true),
		ms("gw-b", upgrade.RoleActive, "R81.20", true), ms("gw-c", upgrade.RoleStandby, "R81.20", true)), "R82")
	require.NoError(t, err)
	ids := plan.StepIDs()
	fo := slices.Index(ids, "failover:from:gw-b@R82")
	require.Positive(t, fo)
	for _, n := range []string{"gw-a", "gw-c"} {
		assert.Less(t, slices.Index(ids, "wait:joined:"+n+"@R82"), fo, n)
	}
	assert.Greater(t, slices.Index(ids, "upgrade:gw-b@R82"), fo)
	assert.Less(t, slices.Index(ids, "wait:joined:gw-a@R82"), slices.Index(ids, "upgrade:gw-c@R82"), "one member at a time")
}

func TestPlanVSXShape(t *testing.T) {
	c := planCluster(t, func(cfg *Config) {
		cfg.VSX = true
		cfg.VirtualSystems = []string{"vs1", "vs2"}
		jumbo := siblingFile(t, cfg.PackagePath, "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T92_FULL.tgz")
		cfg.JumboPath, cfg.JumboTake = jumbo, 92
	}, "gw-a", "gw-b")
	plan, err := Planner{Cluster: c}.Plan(snap(ms("gw-a", upgrade.RoleActive, "R81.10", true), ms("gw-b", upgrade.RoleStandby, "R81.10", true)), "R81.20")
	require.NoError(t, err)
	assert.Equal(t, []string{
		"precheck@R81.20", "vsx-object@R81.20",
		"stage:gw-b@R81.20", "upgrade:gw-b@R81.20", "wait:gw-b@R81.20",
		"dynsplit:gw-b@R81.20", "stage-jumbo:gw-b@R81.20", "jumbo:gw-b@R81.20", "wait-jumbo:gw-b@R81.20", "vsx-check:gw-b@R81.20",
		"mvc-on:gw-b@R81.20", "policy:mvc:gw-b@R81.20", "wait:joined:gw-b@R81.20",
		"failover:from:gw-a@R81.20", "wait:failover:from:gw-a@R81.20",
		"stage:gw-a@R81.20", "upgrade:gw-a@R81.20", "wait:gw-a@R81.20",
		"dynsplit:gw-a@R81.20", "stage-jumbo:gw-a@R81.20", "jumbo:gw-a@R81.20", "wait-jumbo:gw-a@R81.20", "vsx-check:gw-a@R81.20",
		"policy:final@R81.20", "mvc-off:gw-a@R81.20", "mvc-off:gw-b@R81.20",
		"policy:vs:vs1@R81.20", "policy:vs:vs2@R81.20", "admin-up@R81.20", "postcheck@R81.20",
	}, plan.StepIDs())
	for _, st := range plan.Steps {
		want := []string(nil)
		for _, kind := range []string{"upgrade", "jumbo"} {
			for _, n := range []string{"gw-a", "gw-b"} {
				if st.ID() == kind+":"+n+"@R81.20" {
					want = []string{n}
				}
			}
		}
		assert.Equal(t, want, st.Disrupts(), st.ID())
	}
	// On R82 there is no Dynamic Balancing workaround (it is for R81.20).
	plan, err = Planner{Cluster: c}.Plan(snap(ms("gw-a", upgrade.RoleActive, "R81.20", true), ms("gw-b", upgrade.RoleStandby, "R81.20", true)), "R82")
	require.NoError(t, err)
	assert.NotContains(t, strings.Join(plan.StepIDs(), " "), "dynsplit")
}

// siblingFile creates a file next to p, for a second package.
func siblingFile(t *testing.T, p, name string) string {
	t.Helper()
	out := p[:strings.LastIndex(p, "/")] + "/" + name
	require.NoError(t, os.WriteFile(out, make([]byte, 1024), 0o600))
	return out
}

func TestPlanRefusals(t *testing.T) {
	c := planCluster(t, nil, "gw-a", "gw-b")
	healthy := func(v string) upgrade.Snapshot {
		return snap(ms("gw-a", upgrade.RoleActive, v, true), ms("gw-b", upgrade.RoleStandby, v, true))
	}
	tests := []struct {
		name    string
		s       upgrade.Snapshot
		target  string
		member  string
		rule    string
		targets []error
	}{
		{"target below R80.40", healthy("R80.20"), "R80.30", "", RuleMVCRelease, []error{ErrMVCUnsupported}},
		{"scalable platforms without the intermediate release", healthy("R80.30SP"), "R82", "gw-a", RuleMultiStage, []error{ErrMultiStage, versionpath.ErrStageSkipped}},
		{"member ahead of the target", snap(ms("gw-a", upgrade.RoleActive, "R81.20", true), ms("gw-b", upgrade.RoleStandby, "R82", true)), "R81.20", "gw-b", RuleNotAhead, []error{ErrAheadOfTarget}},
		{"unknown state", snap(ms("gw-a", upgrade.RoleActive, "R81.20", true), upgrade.MemberState{ID: "gw-b", Role: upgrade.RoleUnknown, Problems: []string{"checkpoint: cluster state not recognised: \"SLEEPING\""}}), "R82", "gw-b", RuleKnownState, []error{ErrUnknownState}},
		{"two ACTIVE", snap(ms("gw-a", upgrade.RoleActive, "R81.20", true), ms("gw-b", upgrade.RoleActive, "R81.20", true)), "R82", "gw-b", RuleOneActive, []error{ErrSplitBrain}},
		{"ACTIVE(!) on the member that must stay up", snap(ms("gw-a", upgrade.RoleActive, "R81.20", false, "checkpoint: ACTIVE member reports a problem (attention flag): gw-a is ACTIVE(!)"),
			ms("gw-b", upgrade.RoleStandby, "R81.20", true)), "R82", "gw-a", RuleNoAttention, []error{ErrAttention}},
		{"standby with PNOTEs", snap(ms("gw-a", upgrade.RoleActive, "R81.20", true), ms("gw-b", upgrade.RoleStandby, "R81.20", false, "checkpoint: Active PNOTEs not None: COREXL")), "R82", "gw-b", RulePNOTEs, []error{ErrPNOTEs}},
		{"no member ACTIVE", snap(ms("gw-a", upgrade.RoleStandby, "R81.20", true), ms("gw-b", upgrade.RoleStandby, "R81.20", true)), "R82", "", RuleOneActive, []error{ErrNoActive}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Planner{Cluster: c}.Plan(tt.s, tt.target)
			var pe *PlanError
			require.ErrorAs(t, err, &pe)
			assert.ErrorIs(t, err, upgrade.ErrInvalid)
			assertRule(t, err, tt.member, tt.rule, tt.targets...)
		})
	}
	t.Run("every problem at once", func(t *testing.T) {
		_, err := Planner{Cluster: c}.Plan(snap(ms("gw-a", upgrade.RoleActive, "R80.30SP", true), ms("gw-b", upgrade.RoleActive, "R80.30SP", true)), "R82")
		assertRule(t, err, "gw-a", RuleMultiStage)
		assertRule(t, err, "gw-b", RuleMultiStage)
		assertRule(t, err, "gw-a", RuleOneActive)
	})
	t.Run("no management server", func(t *testing.T) {
		c := planCluster(t, func(cfg *Config) { cfg.Mgmt = MgmtConfig{} }, "gw-a", "gw-b")
		_, err := Planner{Cluster: c}.Plan(healthy("R81.20"), "R82")
		require.ErrorIs(t, err, upgrade.ErrInvalid)
		assert.Contains(t, err.Error(), "no management server")
	})
	t.Run("RestoreActive not a member", func(t *testing.T) {
		_, err := Planner{Cluster: c, RestoreActive: "gw-z"}.Plan(healthy("R81.20"), "R82")
		require.ErrorIs(t, err, ErrUnknownMember)
	})
	t.Run("multi-stage table is the user's", func(t *testing.T) {
		c := planCluster(t, func(cfg *Config) { cfg.MultiStages = []versionpath.MultiStage{} }, "gw-a", "gw-b")
		_, err := Planner{Cluster: c}.Plan(healthy("R80.30SP"), "R82")
		require.NoError(t, err, "an empty table checks nothing")
	})
}

func TestConvergedNeedsTheObservation(t *testing.T) {
	c := planCluster(t, nil, "gw-a", "gw-b")
	plan, err := Planner{Cluster: c}.Plan(snap(ms("gw-a", upgrade.RoleActive, "R81.20", true), ms("gw-b", upgrade.RoleStandby, "R81.20", true)), "R82")
	require.NoError(t, err)
	// A snapshot Observe did not take: the MVC setting is unknown, fail
	// closed; versions are named.
	err = plan.Converged(snap(ms("gw-a", upgrade.RoleActive, "R82", true), ms("gw-b", upgrade.RoleStandby, "R82", true)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gw-a runs R82")
	assert.Contains(t, err.Error(), "MVC setting not read")
	err = plan.Converged(snap(ms("gw-a", upgrade.RoleActive, "R81.20", true), ms("gw-b", upgrade.RoleStandby, "R82", true)))
	assert.ErrorIs(t, err, ErrUnexpectedVersion)
}
