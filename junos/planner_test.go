package junos

// Pure planner tests: hand-built snapshots (the Raw text Observe writes) to
// step IDs, on a Cluster whose sessions are scripted (nothing is dialled).

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/driver/drivertest"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

const (
	ptFrom   = "21.4R3-S5.4"
	ptTarget = "22.4R3-S2"
)

// scriptedCluster returns a Cluster over scripted sessions (one per node,
// answering from tables[i]; nil tables answer nothing) with a valid Config
// (temporary known_hosts and package files). mod, if set, edits the Config.
func scriptedCluster(t *testing.T, tables [2]map[string]drivertest.Reply, mod func(*Config)) (*Cluster, [2]*drivertest.Scripted) {
	t.Helper()
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(dir, "junos-install-vsrx3-x86-64-"+ptTarget+".tgz")
	if err := os.WriteFile(pkg, []byte("package"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Name: "pt", Nodes: [2]Address{{Host: "192.0.2.10"}, {Host: "192.0.2.11"}},
		Username: "root", Password: "secret-pw", KnownHostsFile: kh, PackagePath: pkg,
		ArtifactsDir: filepath.Join(dir, "artifacts"), CommandTimeout: time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	var sess [2]*drivertest.Scripted
	tr := transport{
		open: func(_ context.Context, dc driver.Config) (driver.Session, error) {
			for k, a := range cfg.Nodes {
				if dc.Host == a.Host && sess[k] != nil {
					return sess[k], nil
				}
			}
			return nil, &driver.UnreachableError{Host: dc.Host, Err: errors.New("refused")}
		},
		reconnect: func(context.Context, driver.Config, driver.Backoff) (driver.Session, error) {
			return nil, &driver.UnreachableError{Host: "x", Err: errors.New("refused")}
		},
	}
	for i := range 2 {
		table := tables[i]
		if table == nil {
			table = map[string]drivertest.Reply{}
		}
		sess[i] = drivertest.NewScripted(cfg.Nodes[i].String(), table)
	}
	c, err := newCluster(t.Context(), cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, sess
}

// ms is a MemberState as Observe writes it: states per group ("RG0
// primary" ...), version, healthy.
func ms(id, version string, healthy bool, states ...string) upgrade.MemberState {
	rows := map[int]rgView{}
	for g, s := range states {
		st, manual := State(strings.TrimSuffix(s, "*")), strings.HasSuffix(s, "*")
		prio := 100
		if id == "node1" {
			prio = 1
		}
		if manual && st == StatePrimary {
			prio = 255
		}
		rows[g] = rgView{state: st, prio: prio, manual: manual}
	}
	m := upgrade.MemberState{ID: id, Version: version, Healthy: healthy, Raw: formatRaw(rows), Role: upgrade.RoleStandby}
	if len(states) > 1 && strings.TrimSuffix(states[1], "*") == "primary" {
		m.Role = upgrade.RoleActive
	}
	if !healthy {
		m.Problems = []string{cond(ErrMonitorFailure, "RG1 %s: monitor failures CS, priority 0", id).Error()}
	}
	return m
}

func snapOf(members ...upgrade.MemberState) upgrade.Snapshot {
	return upgrade.Snapshot{Cluster: "pt", At: time.Unix(0, 0), Members: members}
}

func lost(id string) upgrade.MemberState {
	return upgrade.MemberState{ID: id, Role: upgrade.RoleLost, Raw: "lost (as the peer sees it)", Problems: []string{ErrUnreachable.Error() + ": refused"}}
}

func fullPlan(a, b string, rgs ...int) []string {
	ids := []string{"export-config@" + ptTarget, "preempt-off@" + ptTarget, "stage:" + a + "@" + ptTarget, "reboot:" + a + "@" + ptTarget, "wait:" + a + "@" + ptTarget}
	for _, g := range append(rgs, 0) {
		ids = append(ids, failoverStepID(g, a, ptTarget))
	}
	return append(ids, "wait:swapped:"+a+"@"+ptTarget, "stage:"+b+"@"+ptTarget, "reboot:"+b+"@"+ptTarget, "wait:"+b+"@"+ptTarget,
		"failover-reset@"+ptTarget, "postcheck@"+ptTarget)
}

func TestPlannerPhases(t *testing.T) {
	c, _ := scriptedCluster(t, [2]map[string]drivertest.Reply{}, nil)
	full := fullPlan("node1", "node0", 1)
	tests := []struct {
		name string
		s    upgrade.Snapshot
		want []string
	}{
		{"fresh: node0 primary", snapOf(ms("node0", ptFrom, true, "primary", "primary"), ms("node1", ptFrom, true, "secondary", "secondary")), full},
		{"fresh: node1 primary", snapOf(ms("node0", ptFrom, true, "secondary", "secondary"), ms("node1", ptFrom, true, "primary", "primary")), fullPlan("node0", "node1", 1)},
		{"three groups", snapOf(ms("node0", ptFrom, true, "primary", "primary", "primary"), ms("node1", ptFrom, true, "secondary", "secondary", "secondary")), fullPlan("node1", "node0", 1, 2)},
		{"first node rebooting", snapOf(ms("node0", ptFrom, false, "primary", "primary"), lost("node1")), full},
		{"first node back, cold-syncing", snapOf(ms("node0", ptFrom, true, "primary", "primary"), ms("node1", ptTarget, false, "secondary", "secondary")), full[4:]},
		{"RG1 moved, RG0 not yet", snapOf(ms("node0", ptFrom, true, "primary", "secondary"), ms("node1", ptTarget, true, "secondary", "primary*")), full[6:]},
		{"both groups moved", snapOf(ms("node0", ptFrom, true, "secondary-hold", "secondary"), ms("node1", ptTarget, true, "primary*", "primary*")), full[7:]},
		{"second node rebooting", snapOf(lost("node0"), ms("node1", ptTarget, false, "primary*", "primary*")), full[7:]},
		{"both upgraded, manual left", snapOf(ms("node0", ptTarget, true, "secondary", "secondary"), ms("node1", ptTarget, true, "primary*", "primary*")), full[10:]},
		{"converged", snapOf(ms("node0", ptTarget, true, "secondary", "secondary"), ms("node1", ptTarget, true, "primary", "primary")), nil},
		{"spin-less target matches a spin", snapOf(ms("node0", ptTarget+".11", true, "secondary", "secondary"), ms("node1", ptTarget+".11", true, "primary", "primary")), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Planner{Cluster: c}.Plan(tt.s, ptTarget)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.StepIDs(); !slices.Equal(got, tt.want) {
				t.Errorf("steps\n got %q\nwant %q", got, tt.want)
			}
			if p.Converged == nil {
				t.Error("no end-state check")
			}
			// Deterministic, and a subsequence of the full plan's IDs.
			q, _ := Planner{Cluster: c}.Plan(tt.s, ptTarget)
			if p.Fingerprint() != q.Fingerprint() {
				t.Error("two plans of one snapshot differ")
			}
			for _, s := range p.Steps {
				if len(s.Disrupts()) > 0 && !strings.HasPrefix(s.ID(), "reboot:") {
					t.Errorf("step %s disrupts %v: only reboots disrupt", s.ID(), s.Disrupts())
				}
				if f, ok := s.(upgrade.FailoverDeclarer); ok && f.Failover() != strings.HasPrefix(s.ID(), "failover:RG") {
					t.Errorf("step %s declares failover %t", s.ID(), f.Failover())
				}
			}
		})
	}
}

func TestPlannerRestorePreempt(t *testing.T) {
	c, _ := scriptedCluster(t, [2]map[string]drivertest.Reply{}, func(cfg *Config) { cfg.RestorePreempt = true })
	s := snapOf(ms("node0", ptFrom, true, "primary", "primary"), ms("node1", ptFrom, true, "secondary", "secondary"))
	p, err := Planner{Cluster: c}.Plan(s, ptTarget)
	if err != nil {
		t.Fatal(err)
	}
	ids := p.StepIDs()
	if n := len(ids); n != 14 || ids[n-2] != "preempt-restore@"+ptTarget || ids[n-3] != "failover-reset@"+ptTarget {
		t.Errorf("steps %q", ids)
	}
	conv := snapOf(ms("node0", ptTarget, true, "secondary", "secondary"), ms("node1", ptTarget, true, "primary", "primary"))
	p, err = Planner{Cluster: c}.Plan(conv, ptTarget)
	if err != nil || !slices.Equal(p.StepIDs(), []string{"preempt-restore@" + ptTarget, "postcheck@" + ptTarget}) {
		t.Errorf("converged with RestorePreempt: %q, %v", p.StepIDs(), err)
	}
}

func TestPlannerRefuses(t *testing.T) {
	c, _ := scriptedCluster(t, [2]map[string]drivertest.Reply{}, nil)
	healthy := snapOf(ms("node0", ptFrom, true, "primary", "primary"), ms("node1", ptFrom, true, "secondary", "secondary"))
	split := healthy
	split.Problems = []string{cond(ErrSplitBrain, "RG1: node0 and node1 are both primary").Error()}
	unknown := snapOf(ms("node0", ptFrom, true, "primary", "primary"), upgrade.MemberState{ID: "node1", Role: upgrade.RoleUnknown, Problems: []string{ErrUnreadable.Error() + ": garbled"}})
	tests := []struct {
		name   string
		s      upgrade.Snapshot
		target string
		p      Planner
		kind   error
	}{
		{"malformed target", healthy, "22.4R3-S2; reboot", Planner{Cluster: c}, versionpath.ErrMalformed},
		{"dev build target", healthy, "17.3-2017-07-02.0", Planner{Cluster: c}, versionpath.ErrMalformed},
		{"package for another target", healthy, "23.4R2-S5", Planner{Cluster: c}, ErrPackage},
		{"node ahead", snapOf(ms("node0", "23.2R1", true, "primary", "primary"), ms("node1", ptFrom, true, "secondary", "secondary")), ptTarget, Planner{Cluster: c}, ErrAheadOfTarget},
		{"split brain", split, ptTarget, Planner{Cluster: c}, ErrSplitBrain},
		{"roles split", snapOf(ms("node0", ptFrom, true, "primary", "secondary"), ms("node1", ptFrom, true, "secondary", "primary")), ptTarget, Planner{Cluster: c}, ErrRolesSplit},
		{"unreadable node", unknown, ptTarget, Planner{Cluster: c}, ErrUnreadable},
		{"member missing", snapOf(ms("node0", ptFrom, true, "primary", "primary")), ptTarget, Planner{Cluster: c}, ErrUnreadable},
		{"foreign member", snapOf(ms("node0", ptFrom, true, "primary", "primary"), ms("node1", ptFrom, true, "secondary", "secondary"), ms("node2", ptFrom, true)), ptTarget, Planner{Cluster: c}, ErrUnknownNode},
		{"path rule", healthy, ptTarget, Planner{Cluster: c, Releases: versionpath.DefaultJunosReleases()}, versionpath.ErrViolation},
		{"bad timing", healthy, ptTarget, Planner{Cluster: c, GateTiming: upgrade.Timing{Interval: time.Second}}, upgrade.ErrInvalidTiming},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.Plan(tt.s, tt.target)
			var pe *PlanError
			if !errors.As(err, &pe) || !errors.Is(err, upgrade.ErrInvalid) {
				t.Fatalf("want a *PlanError, got %v", err)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("want %v, got %v", tt.kind, err)
			}
		})
	}
	if _, err := (Planner{}).Plan(healthy, ptTarget); err == nil {
		t.Error("a planner without a cluster planned")
	}
}

// TestConvergedNamesEveryNode: the end state of a plan whose journal says
// everything is done fails on a cluster still on the old version, naming
// both nodes and their versions; a converged snapshot passes the pure part.
func TestConvergedNamesEveryNode(t *testing.T) {
	c, _ := scriptedCluster(t, [2]map[string]drivertest.Reply{}, nil)
	old := snapOf(ms("node0", ptFrom, true, "primary", "primary"), ms("node1", ptFrom, true, "secondary", "secondary"))
	p, err := Planner{Cluster: c}.Plan(old, ptTarget)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Converged(old)
	if err == nil || !strings.Contains(err.Error(), "node0 runs "+ptFrom) || !strings.Contains(err.Error(), "node1 runs "+ptFrom) {
		t.Errorf("Converged on the old cluster: %v", err)
	}
	conv := snapOf(ms("node0", ptTarget, true, "secondary", "secondary"), ms("node1", ptTarget, true, "primary", "primary"))
	p, err = Planner{Cluster: c}.Plan(conv, ptTarget)
	if err != nil || len(p.Steps) != 0 {
		t.Fatalf("converged plan: %q, %v", p.StepIDs(), err)
	}
	if err := p.Converged(conv); err != nil {
		t.Errorf("Converged(converged): %v", err)
	}
	manual := snapOf(ms("node0", ptTarget, true, "secondary", "secondary"), ms("node1", ptTarget, true, "primary*", "primary"))
	if err := p.Converged(manual); !errors.Is(err, ErrManualFailover) {
		t.Errorf("Converged with a manual failover: %v", err)
	}
}
