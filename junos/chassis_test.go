package junos

// Observation and guard tests over scripted sessions: text fallback, the
// node identity check, cluster-wide problems, the DisruptionChecker.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hitless/hitless/driver/drivertest"
	"github.com/hitless/hitless/upgrade"
)

// statusText renders `show chassis cluster status` text with the rows
// given per group: "node0 100 primary", "node1 1 secondary IF"...
func statusText(groups ...[]string) string {
	var b strings.Builder
	b.WriteString("Cluster ID: 1\nNode   Priority Status               Preempt Manual   Monitor-failures\n")
	for g, rows := range groups {
		fmt.Fprintf(&b, "\nRedundancy group: %d , Failover count: 1\n", g)
		for _, r := range rows {
			f := strings.Fields(r)
			mon := "None"
			if len(f) > 3 {
				mon = f[3]
			}
			pre, man := "no", "no"
			if f[2] == "lost" {
				pre, man, mon = "n/a", "n/a", "n/a"
			}
			fmt.Fprintf(&b, "%-7s%-9s%-21s%-8s%-9s%s\n", f[0], f[1], f[2], pre, man, mon)
		}
	}
	return b.String()
}

const versionText = `node0:
--------------------------------------------------------------------------
Hostname: vsrx-node0
Model: vsrx
Junos: 21.4R3-S5.4

node1:
--------------------------------------------------------------------------
Hostname: vsrx-node1
Model: vsrx
Junos: 21.4R3-S5.4
`

// textNode scripts a node that rejects "| display xml" and prints text.
func textNode(status string) map[string]drivertest.Reply {
	return map[string]drivertest.Reply{
		cmdStatusXML:  {Fail: true, Output: "                 ^\nsyntax error, expecting <command>."},
		cmdStatus:     {Output: status},
		cmdVersionXML: {Fail: true, Output: "syntax error"},
		cmdVersion:    {Output: versionText},
	}
}

func TestObserveTextFallback(t *testing.T) {
	healthy := statusText([]string{"node0 100 primary", "node1 1 secondary"}, []string{"node0 100 primary", "node1 1 secondary"})
	c, _ := scriptedCluster(t, [2]map[string]drivertest.Reply{textNode(healthy), textNode(healthy)}, nil)
	s, err := c.Observe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := upgrade.CheckSnapshot(c, s); err != nil {
		t.Fatal(err)
	}
	m0, _ := s.Member("node0")
	m1, _ := s.Member("node1")
	if m0.Role != upgrade.RoleActive || !m0.Healthy || m0.Version != ptFrom || m0.Raw != "RG0 primary (prio 100), RG1 primary (prio 100)" {
		t.Errorf("node0: %+v", m0)
	}
	if m1.Role != upgrade.RoleStandby || !m1.Healthy {
		t.Errorf("node1: %+v", m1)
	}
	if len(s.Problems) != 0 || len(s.Forwarding()) != 1 {
		t.Errorf("problems %q, forwarding %q", s.Problems, s.Forwarding())
	}
}

func TestObserveProblems(t *testing.T) {
	tests := []struct {
		name     string
		s0, s1   string
		kind     error
		node1    upgrade.Role
		healthy1 bool
	}{
		{"split brain", statusText([]string{"node0 100 primary", "node1 0 lost"}, []string{"node0 100 primary", "node1 0 lost"}),
			statusText([]string{"node0 0 lost", "node1 1 primary"}, []string{"node0 0 lost", "node1 1 primary"}), ErrSplitBrain, upgrade.RoleActive, false},
		{"monitor failure", statusText([]string{"node0 100 primary", "node1 1 secondary"}, []string{"node0 100 primary", "node1 0 secondary IF"}),
			statusText([]string{"node0 100 primary", "node1 1 secondary"}, []string{"node0 100 primary", "node1 0 secondary IF"}), ErrMonitorFailure, upgrade.RoleStandby, false},
		{"no primary", statusText([]string{"node0 100 primary", "node1 1 secondary"}, []string{"node0 100 hold", "node1 1 secondary"}),
			statusText([]string{"node0 100 primary", "node1 1 secondary"}, []string{"node0 100 hold", "node1 1 secondary"}), ErrNoPrimary, upgrade.RoleStandby, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := scriptedCluster(t, [2]map[string]drivertest.Reply{textNode(tt.s0), textNode(tt.s1)}, nil)
			s, err := c.Observe(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range s.Problems {
				found = found || errors.Is(classify(p), tt.kind)
			}
			if !found {
				t.Errorf("problems %q lack %v", s.Problems, tt.kind)
			}
			m1, _ := s.Member("node1")
			if m1.Role != tt.node1 || m1.Healthy != tt.healthy1 {
				t.Errorf("node1: %+v", m1)
			}
		})
	}
}

func TestObserveUnreachableAndWrongNode(t *testing.T) {
	lostView := statusText([]string{"node0 100 primary", "node1 0 lost"}, []string{"node0 100 primary", "node1 0 lost"})
	c, sess := scriptedCluster(t, [2]map[string]drivertest.Reply{textNode(lostView), nil}, nil)
	_ = sess[1].Close() // node1's session is gone; redialling is refused
	s, err := c.Observe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m1, _ := s.Member("node1")
	if m1.Role != upgrade.RoleLost || m1.Healthy || len(m1.Problems) == 0 {
		t.Errorf("node1: %+v", m1)
	}
	m0, _ := s.Member("node0")
	if m0.Healthy {
		t.Errorf("node0 healthy while it sees its peer lost: %+v", m0)
	}
	if err := c.CheckDisruption(s, []string{"node1"}); !errors.Is(err, ErrUnreadable) {
		t.Errorf("CheckDisruption of a node whose state is unknown: %v", err)
	}
	if err := c.CheckDisruption(s, []string{"node0", "node1"}); err == nil {
		t.Error("CheckDisruption accepts disrupting both nodes")
	}

	// XML with a banner of the other node: the addresses are swapped.
	xml := "<rpc-reply>\n<chassis-cluster-status><cluster-id>1</cluster-id><redundancy-group><redundancy-group-id>0</redundancy-group-id>" +
		"<device-stats><device-name>node0</device-name><device-priority>100</device-priority><redundancy-group-status>primary</redundancy-group-status>" +
		"<device-name>node1</device-name><device-priority>1</device-priority><redundancy-group-status>secondary</redundancy-group-status></device-stats>" +
		"</redundancy-group></chassis-cluster-status>\n<cli><banner>{secondary:node1}</banner></cli>\n</rpc-reply>\n"
	c, _ = scriptedCluster(t, [2]map[string]drivertest.Reply{{cmdStatusXML: {Output: xml}}, {cmdStatusXML: {Output: xml}}}, nil)
	s, err = c.Observe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m0, _ = s.Member("node0")
	if m0.Role != upgrade.RoleUnknown || !errors.Is(classify(m0.Problems[0]), ErrWrongNode) {
		t.Errorf("node0 answering as node1: %+v", m0)
	}
}

func TestRawRoundTrip(t *testing.T) {
	rows := map[int]rgView{0: {state: StateSecondaryHold, prio: 100}, 1: {state: StatePrimary, prio: 255, manual: true, preempt: true}, 2: {state: StateSecondary, prio: 1, preempt: true}}
	raw := formatRaw(rows)
	got, ok := parseRaw(raw)
	if !ok || len(got) != 3 || got[0] != rows[0] || got[1] != rows[1] || got[2] != rows[2] {
		t.Errorf("%q read back as %+v", raw, got)
	}
	for _, bad := range []string{"", "unreachable", "lost (as node0 sees it)", "RG1 bogus (prio 1)"} {
		if _, ok := parseRaw(bad); ok {
			t.Errorf("parseRaw(%q) accepted", bad)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, k := range conditions {
		p := cond(k, "detail %d", 1).Error()
		if got := classify(p); !errors.Is(got, k) {
			t.Errorf("classify(%q) = %v", p, got)
		}
	}
	if got := classify("something else"); !errors.Is(got, ErrUnreadable) {
		t.Errorf("unknown problem classified as %v", got)
	}
	ne := &NodeError{Node: "node1", Host: "h:22", RG: 1, Op: "failover", Err: cond(ErrFailoverRefused, "x")}
	if got := problemOf(ne); !errors.Is(classify(got), ErrFailoverRefused) {
		t.Errorf("problemOf(%v) = %q", ne, got)
	}
	if want := "junos: node1 (h:22): failover RG1: manual failover refused: x"; ne.Error() != want {
		t.Errorf("NodeError text %q, want %q", ne.Error(), want)
	}
}
