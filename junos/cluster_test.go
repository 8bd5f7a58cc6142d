package junos

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// row builds a NodeStatus. monitor is "" (not printed or n/a), "None", or
// space-separated codes.
func row(node string, prio int, status string, preempt, manual Flag, monitor string) NodeStatus {
	n := NodeStatus{Node: node, Priority: prio, Status: State(strings.ToLower(status)), RawStatus: status,
		Preempt: preempt, Manual: manual}
	switch monitor {
	case "":
	case "None":
		n.MonitorKnown = true
	default:
		n.MonitorKnown = true
		n.MonitorFailures = strings.Fields(monitor)
	}
	return n
}

func group(id, failovers int, nodes ...NodeStatus) RedundancyGroup {
	return RedundancyGroup{ID: id, FailoverCount: failovers, FailoverCountKnown: true, Nodes: nodes}
}

const (
	no  = FlagNo
	yes = FlagYes
	na  = FlagNA
	unk = FlagUnknown
)

// healthSummary renders Healthy's problems as "RG node kind" strings.
func healthSummary(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	require.ErrorIs(t, err, ErrUnhealthy)
	var out []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var he *HealthError
		require.ErrorAs(t, e, &he)
		kind := map[error]string{ErrRoles: "roles", ErrMonitorFailure: "monitor", ErrNodeDown: "down", ErrManualFailover: "manual"}[he.Kind]
		require.NotEmpty(t, kind, "kind %v", he.Kind)
		require.ErrorIs(t, err, he.Kind)
		where := "cluster"
		if he.RG >= 0 {
			where = fmt.Sprintf("RG%d", he.RG)
		}
		if he.Node != "" {
			where += " " + he.Node
		}
		assert.Contains(t, he.Error(), where)
		out = append(out, where+" "+kind)
	}
	return out
}

// clusterFixtures are the facts of every chassis cluster status capture
// (testdata/README.md), and what Healthy must report for each.
var clusterFixtures = []struct {
	file    string
	want    ClusterStatus
	primary map[int]string // RG -> primary node ("" = none)
	health  []string
}{
	{fxAfterReset, ClusterStatus{ClusterID: 71, Groups: []RedundancyGroup{
		group(0, 1, row("node0", 100, "primary", no, no, "None"), row("node1", 50, "secondary-hold", no, no, "None")),
		group(1, 1, row("node0", 100, "primary", yes, no, "None"), row("node1", 50, "secondary", yes, no, "None")),
	}}, map[int]string{0: "node0", 1: "node0"}, []string{"RG0 roles"}},

	{fxManual, ClusterStatus{ClusterID: 71, Groups: []RedundancyGroup{
		group(0, 1, row("node0", 255, "primary", no, yes, "None"), row("node1", 50, "secondary-hold", no, yes, "None")),
		group(1, 1, row("node0", 100, "primary", yes, no, "None"), row("node1", 50, "secondary", yes, no, "None")),
	}}, map[int]string{0: "node0", 1: "node0"}, []string{"RG0 roles", "RG0 node0 manual", "RG0 node1 manual"}},

	// The file holds RGs 0, 1 and 4 (not 3 as its name and its README row
	// say) and no lost node: both nodes of RG4 have priority 0 with IF.
	{fxNTC, ClusterStatus{ClusterID: 1, Groups: []RedundancyGroup{
		group(0, 1, row("node0", 100, "secondary", no, no, "None"), row("node1", 1, "primary", no, no, "None")),
		group(1, 1, row("node0", 100, "secondary", no, no, "None"), row("node1", 1, "primary", no, no, "None")),
		group(4, 1, row("node0", 0, "secondary", no, no, "IF"), row("node1", 0, "primary", no, no, "IF")),
	}}, map[int]string{0: "node1", 1: "node1", 4: "node1"}, []string{"RG4 node0 monitor", "RG4 node1 monitor"}},

	{fxVSRX15, ClusterStatus{ClusterID: 3, LocalNode: "node1", LocalState: StatePrimary, Groups: []RedundancyGroup{
		group(0, 1, row("node0", 0, "lost", na, na, ""), row("node1", 1, "primary", no, no, "None")),
		group(1, 1, row("node0", 0, "lost", na, na, ""), row("node1", 0, "primary", no, no, "CS")),
	}}, map[int]string{0: "node1", 1: "node1"},
		[]string{"RG0 roles", "RG0 node0 down", "RG1 roles", "RG1 node0 down", "RG1 node1 monitor"}},

	{fxVSRX18, ClusterStatus{ClusterID: 7, Groups: []RedundancyGroup{
		group(0, 1, row("node0", 100, "primary", no, no, "None"), row("node1", 0, "lost", na, na, "")),
		group(1, 3, row("node0", 100, "primary", yes, no, "None"), row("node1", 0, "lost", na, na, "")),
	}}, map[int]string{0: "node0", 1: "node0"}, []string{"RG0 roles", "RG0 node1 down", "RG1 roles", "RG1 node1 down"}},

	{fxVSRX19, ClusterStatus{ClusterID: 2, LocalNode: "node0", LocalState: StatePrimary, Groups: []RedundancyGroup{
		group(0, 1, row("node0", 100, "primary", no, no, "None"), row("node1", 1, "secondary", no, no, "None")),
		group(1, 1, row("node0", 100, "primary", no, no, "None"), row("node1", 1, "secondary", no, no, "None")),
	}}, map[int]string{0: "node0", 1: "node0"}, nil},

	{fxIBMTab, ClusterStatus{ClusterID: 2, LocalNode: "node0", LocalState: StatePrimary, Groups: []RedundancyGroup{
		group(0, 1, row("node0", 100, "primary", no, no, "None"), row("node1", 1, "secondary", no, no, "None")),
		group(1, 1, row("node0", 100, "primary", yes, no, "None"), row("node1", 1, "secondary", yes, no, "None")),
	}}, map[int]string{0: "node0", 1: "node0"}, nil},

	// No preempt, failover-mode or monitor-failures elements: unknown, not
	// problems.
	{fxXMLExporter, ClusterStatus{ClusterID: 17, Groups: []RedundancyGroup{
		group(0, 1, row("node0", 200, "primary", unk, unk, ""), row("node1", 150, "secondary", unk, unk, "")),
		group(1, 3, row("node0", 200, "secondary", unk, unk, ""), row("node1", 150, "primary", unk, unk, "")),
	}}, map[int]string{0: "node0", 1: "node1"}, nil},

	{fxXMLPyEZLost, ClusterStatus{ClusterID: 1, LocalNode: "node0", LocalState: StatePrimary, Groups: []RedundancyGroup{
		group(0, 1, row("node0", 100, "primary", no, no, ""), row("node1", 0, "lost", na, na, "")),
	}}, map[int]string{0: "node0"}, []string{"RG0 roles", "RG0 node1 down"}},

	{fxXMLToby, ClusterStatus{ClusterID: 1, Groups: []RedundancyGroup{
		group(0, 6, row("node0", 200, "secondary", no, no, "None"), row("node1", 1, "primary", no, no, "None")),
	}}, map[int]string{0: "node1"}, nil},
}

func TestParseChassisClusterStatusFixtures(t *testing.T) {
	for _, tt := range clusterFixtures {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseChassisClusterStatus(readFixture(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			for rg, node := range tt.primary {
				p, ok := got.Primary(rg)
				assert.Equal(t, node != "", ok, "RG%d", rg)
				assert.Equal(t, node, p, "RG%d", rg)
			}
			_, ok := got.Primary(99)
			assert.False(t, ok)
			assert.Equal(t, tt.health, healthSummary(t, got.Healthy()))
		})
	}
}

// TestParseChassisClusterStatusShapes re-frames captures the ways a
// session delivers them: CRLF, no prompt, a trailing prompt, XML after a
// prompt with a banner after it.
func TestParseChassisClusterStatusShapes(t *testing.T) {
	for _, tt := range clusterFixtures {
		in := readFixture(t, tt.file)
		banner := "{primary:node0}"
		if tt.want.LocalNode != "" {
			banner = "{" + string(tt.want.LocalState) + ":" + tt.want.LocalNode + "}"
		}
		shapes := map[string]string{
			"CRLF":                        strings.ReplaceAll(in, "\n", "\r\n"),
			"trailing prompt and banner":  in + "\n" + banner + "\nroot@fw> \n",
			"leading blank lines":         "\n\n" + in,
			"pipe no-more in the command": strings.Replace(in, "show chassis cluster status", "show chassis cluster status | no-more", 1),
		}
		for name, out := range shapes {
			t.Run(tt.file+"/"+name, func(t *testing.T) {
				got, err := ParseChassisClusterStatus(out)
				require.NoError(t, err)
				want := tt.want
				if name == "trailing prompt and banner" && want.LocalNode == "" {
					want.LocalNode, want.LocalState = "node0", StatePrimary
				}
				assert.Equal(t, want, got)
			})
		}
	}
	conf, err := ParseChassisClusterStatus("[edit]\nroot@fw# run show chassis cluster status\n" + readFixture(t, fxVSRX19)[len("    root@asloma-19-10g-ha1-vsrx-vSRX-Node0> show chassis cluster status\n"):])
	require.NoError(t, err, "from configuration mode")
	assert.Equal(t, clusterFixtures[5].want, conf)
	xml := readFixture(t, fxXMLToby)
	got, err := ParseChassisClusterStatus("admin@srx> show chassis cluster status | display xml\n" + xml + "\n{secondary:node0}\nadmin@srx> ")
	require.NoError(t, err)
	assert.Equal(t, "node0", got.LocalNode)
	assert.Equal(t, StateSecondary, got.LocalState)
	assert.Equal(t, 6, got.Groups[0].FailoverCount)
}

// TestParseChassisClusterStatusVariants: hand-written outputs of the
// documented format variants (no public capture of them exists).
func TestParseChassisClusterStatusVariants(t *testing.T) {
	const v = "variant (documented, no capture): "
	tests := []struct {
		name   string
		in     string
		want   ClusterStatus
		health []string
	}{
		{
			name: v + "old format: Manual failover header, capitalised states, indented rows, no Monitor-failures column",
			in: "Cluster ID: 1\nNode name                  Priority     Status         Preempt  Manual failover\n\n" +
				"Redundancy-group: 0, Failover count: 1\n    node0                  100          Primary        no       no\n" +
				"    node1                  1            Secondary      no       no\n\n" +
				"Redundancy-group: 1, Failover count: 1\n    node0                  100          Primary        yes      no\n" +
				"    node1                  1            Secondary      yes      no\n",
			want: ClusterStatus{ClusterID: 1, Groups: []RedundancyGroup{
				group(0, 1, row("node0", 100, "Primary", no, no, ""), row("node1", 1, "Secondary", no, no, "")),
				group(1, 1, row("node0", 100, "Primary", yes, no, ""), row("node1", 1, "Secondary", yes, no, "")),
			}},
		},
		{
			name: v + "states and flags in upper case, RG header without failover count",
			in: "Node   Priority Status               Preempt Manual   Monitor-failures\nRedundancy group: 0\n" +
				"node0  100      PRIMARY              NO      NO       NONE\nnode1  1        SECONDARY-HOLD       NO      NO       NONE\n",
			want: ClusterStatus{Groups: []RedundancyGroup{{ID: 0, Nodes: []NodeStatus{
				row("node0", 100, "PRIMARY", no, no, "None"), row("node1", 1, "SECONDARY-HOLD", no, no, "None")}}}},
			health: []string{"RG0 roles"},
		},
		{
			name: v + "several monitor failures (space or comma separated), hold and ineligible nodes",
			in: "Cluster ID: 9\nNode   Priority Status               Preempt Manual   Monitor-failures\n\n" +
				"Redundancy group: 0 , Failover count: 0\nnode0  100      primary              no      no       None\n" +
				"node1  0        hold                 no      no       CS\n\n" +
				"Redundancy group: 1 , Failover count: 2\nnode0  0        ineligible           no      no       IF IP\n" +
				"node1  100      primary              no      no       CF,RE\n{hold:node1}\n",
			want: ClusterStatus{ClusterID: 9, LocalNode: "node1", LocalState: StateHold, Groups: []RedundancyGroup{
				group(0, 0, row("node0", 100, "primary", no, no, "None"), row("node1", 0, "hold", no, no, "CS")),
				group(1, 2, row("node0", 0, "ineligible", no, no, "IF IP"), row("node1", 100, "primary", no, no, "CF RE")),
			}},
			health: []string{"RG0 roles", "RG0 node1 monitor", "RG1 roles", "RG1 node0 monitor", "RG1 node1 monitor"},
		},
		{
			name: v + "disabled node after fabric link loss, banner with secondary-hold",
			in: "{secondary-hold:node1}\nNode   Priority Status         Preempt Manual   Monitor-failures\n" +
				"Redundancy group: 0 , Failover count: 1\nnode0  100      primary        no      no       None\n" +
				"node1  50       disabled       no      no       FL\n",
			want: ClusterStatus{LocalNode: "node1", LocalState: StateSecondaryHold, Groups: []RedundancyGroup{
				group(0, 1, row("node0", 100, "primary", no, no, "None"), row("node1", 50, "disabled", no, no, "FL"))}},
			health: []string{"RG0 roles", "RG0 node1 down", "RG0 node1 monitor"},
		},
		{
			name: v + "RG0 missing (output filtered to one group)",
			in: "Node   Priority Status         Preempt Manual   Monitor-failures\nRedundancy group: 1 , Failover count: 1\n" +
				"node0  100      primary        no      no       None\nnode1  1        secondary      no      no       None\n",
			want: ClusterStatus{Groups: []RedundancyGroup{
				group(1, 1, row("node0", 100, "primary", no, no, "None"), row("node1", 1, "secondary", no, no, "None"))}},
			health: []string{"cluster roles"},
		},
		{
			name: v + "message of the day and timestamp before the output",
			in: "Last login: Mon Jan  1 00:00:00 2024\n--- JUNOS 21.4R3-S5.4 built 2023-06-01\n" +
				"Node   Priority Status         Preempt Manual   Monitor-failures\nRedundancy group: 0 , Failover count: 1\n" +
				"node0  100      primary        no      no       None\nnode1  1        secondary      no      no       None\n",
			want: ClusterStatus{Groups: []RedundancyGroup{
				group(0, 1, row("node0", 100, "primary", no, no, "None"), row("node1", 1, "secondary", no, no, "None"))}},
		},
		{
			name: v + "XML with a default namespace on the payload, device-stats not interleaved",
			in: `<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos"><chassis-cluster-status xmlns="http://xml.juniper.net/junos/21.4R3/junos-chassis">` +
				`<cluster-id>5</cluster-id><redundancy-group><redundancy-group-id>0</redundancy-group-id>` +
				`<device-stats><device-name>node0</device-name><device-name>node1</device-name>` +
				`<device-priority>100</device-priority><device-priority>0</device-priority>` +
				`<redundancy-group-status>primary</redundancy-group-status><redundancy-group-status>secondary</redundancy-group-status>` +
				`<monitor-failures>None</monitor-failures><monitor-failures>CS</monitor-failures></device-stats></redundancy-group>` +
				`</chassis-cluster-status></rpc-reply>`,
			want: ClusterStatus{ClusterID: 5, Groups: []RedundancyGroup{{ID: 0, Nodes: []NodeStatus{
				row("node0", 100, "primary", unk, unk, "None"), row("node1", 0, "secondary", unk, unk, "CS")}}}},
			health: []string{"RG0 node1 monitor"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChassisClusterStatus(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.health, healthSummary(t, got.Healthy()))
		})
	}
}

// TestParseChassisClusterStatusCompletedExcerpt: the 12.3X48 excerpt is not
// well formed and must be refused; its first redundancy group, closed by
// hand (not a capture), shows priority 254 and <monitor-failures>.
func TestParseChassisClusterStatusCompletedExcerpt(t *testing.T) {
	in := readFixture(t, fxXMLExcerpt)
	_, err := ParseChassisClusterStatus(in)
	pe := requireParseError(t, err)
	assert.Contains(t, pe.Reason, "XML syntax error")

	cutAt := strings.Index(in, "</redundancy-group>") + len("</redundancy-group>")
	completed := in[:cutAt] + "\n    </chassis-cluster-status>\n</rpc-reply>\n"
	got, err := ParseChassisClusterStatus(completed)
	require.NoError(t, err)
	assert.Equal(t, ClusterStatus{ClusterID: 1, Groups: []RedundancyGroup{
		group(0, 1, row("node0", 254, "primary", no, no, "None"), row("node1", 1, "secondary", no, no, "None")),
	}}, got)
	assert.NoError(t, got.Healthy())
}

func TestParseChassisClusterStatusNotClustered(t *testing.T) {
	for name, in := range map[string]string{
		"xml capture": readFixture(t, fxXMLNotClust),
		"cli text":    "root@srx> show chassis cluster status\nerror: Chassis cluster is not enabled.\n\nroot@srx> ",
		"rpc-error":   `<rpc-reply><rpc-error><error-severity>error</error-severity><error-message>Chassis cluster is not enabled</error-message></rpc-error></rpc-reply>`,
	} {
		t.Run(name, func(t *testing.T) {
			st, err := ParseChassisClusterStatus(in)
			require.ErrorIs(t, err, ErrNotClustered)
			require.ErrorIs(t, err, ErrDeviceError)
			assert.NotErrorIs(t, err, ErrUnrecognized)
			assert.Equal(t, ClusterStatus{}, st)
			var de *DeviceError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, de.Message, "Chassis cluster is not enabled")
			if name == "xml capture" {
				assert.Equal(t, "jsrpd", de.Daemon)
				assert.Equal(t, `junos: "show chassis cluster status": the device reported an error (jsrpd): "error: Chassis cluster is not enabled"`, err.Error())
			}
		})
	}
	_, err := ParseChassisClusterStatus("error: syntax error, expecting <command>\n")
	require.ErrorIs(t, err, ErrDeviceError)
	assert.NotErrorIs(t, err, ErrNotClustered)
}

// TestParseChassisClusterStatusFailsClosed: every ambiguous or unknown
// output is a typed error, never a status.
func TestParseChassisClusterStatusFailsClosed(t *testing.T) {
	const (
		hdr = "Node   Priority Status               Preempt Manual   Monitor-failures\n"
		rg0 = "Redundancy group: 0 , Failover count: 1\n"
		n0  = "node0  100      primary              no      no       None\n"
		n1  = "node1  1        secondary            no      no       None\n"
		old = "Node name   Priority   Status   Preempt   Manual failover\n"
	)
	xmlRG := func(stats string) string {
		return "<rpc-reply><chassis-cluster-status><cluster-id>1</cluster-id><redundancy-group>" +
			"<redundancy-group-id>0</redundancy-group-id><device-stats>" + stats +
			"</device-stats></redundancy-group></chassis-cluster-status></rpc-reply>"
	}
	const xn0 = "<device-name>node0</device-name><device-priority>100</device-priority><redundancy-group-status>primary</redundancy-group-status>"
	const xn1 = "<device-name>node1</device-name><device-priority>1</device-priority><redundancy-group-status>secondary</redundancy-group-status>"
	tests := map[string]string{
		"empty":                          "",
		"white space":                    " \r\n\t\n",
		"banner only":                    "{primary:node0}\n",
		"prompt only":                    "root@fw> show chassis cluster status\nroot@fw> ",
		"legend only":                    "Monitor Failure codes:\n    CS  Cold Sync monitoring\n",
		"header only":                    hdr,
		"no header":                      rg0 + n0 + n1,
		"group without rows":             hdr + rg0,
		"group without rows then group":  hdr + rg0 + "Redundancy group: 1 , Failover count: 1\n" + n0 + n1,
		"row before group header":        hdr + n0 + rg0 + n1,
		"unknown state":                  hdr + rg0 + n0 + "node1  1        standby              no      no       None\n",
		"state active":                   hdr + rg0 + "node0  100      active               no      no       None\n" + n1,
		"priority 256":                   hdr + rg0 + "node0  256      primary              no      no       None\n" + n1,
		"priority n/a":                   hdr + rg0 + "node0  n/a      primary              no      no       None\n" + n1,
		"priority signed":                hdr + rg0 + "node0  +100     primary              no      no       None\n" + n1,
		"preempt maybe":                  hdr + rg0 + "node0  100      primary              maybe   no       None\n" + n1,
		"manual 1":                       hdr + rg0 + "node0  100      primary              no      1        None\n" + n1,
		"monitor lower case":             hdr + rg0 + "node0  100      primary              no      no       cs\n" + n1,
		"monitor malformed":              hdr + rg0 + "node0  100      primary              no      no       C5\n" + n1,
		"monitor None plus code":         hdr + rg0 + "node0  100      primary              no      no       None CS\n" + n1,
		"monitor column missing":         hdr + rg0 + "node0  100      primary              no      no\n" + n1,
		"old format extra column":        old + rg0 + "node0 100 Primary no no None\n",
		"old format short row":           old + rg0 + "node0 100 Primary no\n",
		"node2":                          hdr + rg0 + n0 + "node2  1        secondary            no      no       None\n",
		"node repeated":                  hdr + rg0 + n0 + n0,
		"three nodes":                    hdr + rg0 + n0 + n1 + "node1  1        secondary            no      no       None\n",
		"group repeated":                 hdr + rg0 + n0 + n1 + rg0 + n0 + n1,
		"second cluster ID":              "Cluster ID: 1\nCluster ID: 2\n" + hdr + rg0 + n0 + n1,
		"cluster ID above 255":           "Cluster ID: 300\n" + hdr + rg0 + n0 + n1,
		"unrecognised line after header": hdr + rg0 + n0 + "node1 is rebooting\n" + n1,
		"unknown line after header":      hdr + rg0 + n0 + n1 + "Something else\n",
		"status-like line before header": "Redundancy group 0 is primary on node0\n" + hdr + rg0 + n0 + n1,
		"other command's output":         "root@fw> show chassis cluster interfaces\n" + hdr + rg0 + n0 + n1,
		"statistics, not status":         "root@fw> show chassis cluster statistics\n" + hdr + rg0 + n0 + n1,
		"banner with unknown state":      hdr + rg0 + n0 + n1 + "{standby:node0}\n",
		"contradicting banners":          "{primary:node0}\n" + hdr + rg0 + n0 + n1 + "{secondary:node1}\n",
		"two headers differing":          hdr + rg0 + n0 + n1 + old,
		"show version output":            readFixture(t, fxVersion1500),
		"icu blog output":                readFixture(t, fxICUBlog),
		"reboot prompt":                  readFixture(t, fxReboot),

		"xml rpc request, not status": readFixture(t, fxXMLRPC),
		"xml excerpt":                 readFixture(t, fxXMLExcerpt),
		"xml other reply":             readFixture(t, fxStorageXML),
		"xml empty reply":             "<rpc-reply></rpc-reply>",
		"xml no group":                "<rpc-reply><chassis-cluster-status><cluster-id>1</cluster-id></chassis-cluster-status></rpc-reply>",
		"xml status repeated":         "<rpc-reply><chassis-cluster-status/><chassis-cluster-status/></rpc-reply>",
		"xml group without stats":     "<chassis-cluster-status><redundancy-group><redundancy-group-id>0</redundancy-group-id></redundancy-group></chassis-cluster-status>",
		"xml group without id":        "<chassis-cluster-status><redundancy-group><device-stats>" + xn0 + "</device-stats></redundancy-group></chassis-cluster-status>",
		"xml group id repeated":       "<chassis-cluster-status><redundancy-group><redundancy-group-id>0</redundancy-group-id><redundancy-group-id>1</redundancy-group-id><device-stats>" + xn0 + "</device-stats></redundancy-group></chassis-cluster-status>",
		"xml count mismatch":          xmlRG(xn0 + "<device-name>node1</device-name><device-priority>1</device-priority>"),
		"xml preempt for one node":    xmlRG(xn0 + "<preempt>no</preempt>" + xn1),
		"xml unknown status":          xmlRG(xn0 + "<device-name>node1</device-name><device-priority>1</device-priority><redundancy-group-status>backup</redundancy-group-status>"),
		"xml empty priority":          xmlRG(xn0 + "<device-name>node1</device-name><device-priority></device-priority><redundancy-group-status>secondary</redundancy-group-status>"),
		"xml priority 300":            xmlRG("<device-name>node0</device-name><device-priority>300</device-priority><redundancy-group-status>primary</redundancy-group-status>"),
		"xml node repeated":           xmlRG(xn0 + xn0),
		"xml bad monitor":             xmlRG(xn0 + xn1 + "<monitor-failures>None</monitor-failures><monitor-failures>??</monitor-failures>"),
		"xml bad cluster id":          strings.Replace(xmlRG(xn0+xn1), "<cluster-id>1<", "<cluster-id>x<", 1),
		"xml trailing garbage":        xmlRG(xn0+xn1) + "\nnode0 is primary\n",
		"xml second root":             xmlRG(xn0+xn1) + xmlRG(xn0+xn1),
		"xml dtd":                     `<!DOCTYPE x [<!ENTITY a "b">]>` + xmlRG(xn0+xn1),
		"xml unknown entity":          strings.Replace(xmlRG(xn0+xn1), "primary", "&prim;", 1),
		"xml text outside root":       "junk <rpc-reply/>",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseChassisClusterStatus(in)
			require.Error(t, err, "parsed as %+v", got)
			assert.Equal(t, ClusterStatus{}, got)
			requireParseError(t, err)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, whatClusterStatus, pe.What)
		})
	}
}

func TestParseErrorNamesLine(t *testing.T) {
	in := "Node   Priority Status   Preempt Manual   Monitor-failures\nRedundancy group: 0 , Failover count: 1\n" +
		"node0  100      standby  no      no       None\n"
	_, err := ParseChassisClusterStatus(in)
	pe := requireParseError(t, err)
	assert.Equal(t, 3, pe.Line)
	assert.Equal(t, "node0  100      standby  no      no       None", pe.Text)
	assert.Equal(t, `junos: cannot read "show chassis cluster status" output: line 3: unknown redundancy group status "standby": "node0  100      standby  no      no       None"`, err.Error())

	long := strings.Repeat("é", 200)
	_, err = ParseChassisClusterStatus("Node Priority Status Preempt Manual Monitor-failures\n" + long + " primary\n")
	pe = requireParseError(t, err)
	assert.LessOrEqual(t, len(pe.Text), maxErrorText)
	assert.True(t, strings.HasPrefix(long, pe.Text))
}

func TestHealthyEdgeCases(t *testing.T) {
	assert.Equal(t, []string{"cluster roles"}, healthSummary(t, ClusterStatus{}.Healthy()))
	one := ClusterStatus{Groups: []RedundancyGroup{{ID: 0, Nodes: []NodeStatus{row("node0", 100, "primary", no, no, "None")}}}}
	assert.Equal(t, []string{"RG0 roles"}, healthSummary(t, one.Healthy()))
	twoPrimaries := ClusterStatus{Groups: []RedundancyGroup{{ID: 0, Nodes: []NodeStatus{
		row("node0", 100, "primary", no, no, "None"), row("node1", 1, "primary", no, no, "None")}}}}
	assert.Equal(t, []string{"RG0 roles"}, healthSummary(t, twoPrimaries.Healthy()))
	_, ok := twoPrimaries.Primary(0)
	assert.False(t, ok)

	err := clusterFixtures[3].want.Healthy() // vsrx-15: five problems at once
	var msgs []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		msgs = append(msgs, e.Error())
	}
	sort.Strings(msgs)
	assert.Contains(t, msgs, "junos: chassis cluster is not healthy: RG1 node1: monitor failure: monitor failures CS, priority 0")
	assert.Contains(t, msgs, "junos: chassis cluster is not healthy: RG0 node0: node lost or disabled: status lost")
	assert.True(t, errors.Is(err, ErrNodeDown) && errors.Is(err, ErrMonitorFailure) && errors.Is(err, ErrRoles))
	assert.False(t, errors.Is(err, ErrManualFailover))
}

func TestFlagString(t *testing.T) {
	for f, s := range map[Flag]string{FlagUnknown: "", FlagNo: "no", FlagYes: "yes", FlagNA: "n/a"} {
		assert.Equal(t, s, f.String())
	}
	g := clusterFixtures[0].want.Groups[0]
	n, ok := g.Node("node1")
	assert.True(t, ok)
	assert.Equal(t, StateSecondaryHold, n.Status)
	_, ok = g.Node("node2")
	assert.False(t, ok)
}
