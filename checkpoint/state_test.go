package checkpoint

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	fixtureStateClish    = "cphaprob-state/r82-ha-healthy-clish.txt"
	fixtureStateWatch    = "cphaprob-state/r82-ha-healthy-watch.txt"
	fixtureStateFailover = "cphaprob-state/r8x-local-member2-active-failover-event.txt"
	fixtureStateR8010    = "cphaprob-state/r80.10-vsx-vsls-old-number-column.txt"
	fixtureStateRejoin   = "cphaprob-state/lab-local-standby-after-rejoin.txt"
)

const haMode = "High Availability (Active Up) with IGMP Membership"

func st(base, flags, raw string) State { return State{Base: base, Flags: flags, Raw: raw} }

// TestParseClusterStateFixtures: every `cphaprob state` capture parses to
// the facts its provenance row states (testdata/README.md).
func TestParseClusterStateFixtures(t *testing.T) {
	r82Members := []Member{
		{ID: 1, Local: true, Address: addr("192.168.255.1"), Load: 100, State: st("ACTIVE", "", "ACTIVE"), Name: "CPGW1A"},
		{ID: 2, Address: addr("192.168.255.2"), Load: 0, State: st("STANDBY", "", "STANDBY"), Name: "CPGW1B"},
	}
	tests := []struct {
		file string
		want ClusterState
	}{
		{fixtureStateClish, ClusterState{
			Mode:        haMode,
			Members:     r82Members,
			PNOTEsShown: true,
			LastStateChange: &StateChange{
				Code:   "CLUS-114904",
				From:   st("ACTIVE", "!", "ACTIVE(!)"),
				To:     st("ACTIVE", "", "ACTIVE"),
				Reason: "Reason for ACTIVE! alert has been resolved",
				Time:   "Fri May 15 10:50:59 2026",
			},
			FailoverCount: &FailoverCount{Counter: 0, Reset: "Fri May 15 09:32:29 2026 (reboot)"},
		}},
		{fixtureStateWatch, ClusterState{Mode: haMode, Members: r82Members}},
		{fixtureStateFailover, ClusterState{
			Mode: haMode,
			Members: []Member{
				{ID: 1, Address: addr("10.90.1.146"), Load: 0, State: st("STANDBY", "", "STANDBY"), Name: "tv2-cp-fw6-2"},
				{ID: 2, Local: true, Address: addr("10.90.1.145"), Load: 100, State: st("ACTIVE", "", "ACTIVE"), Name: "tv2-cp-fw6-1"},
			},
			PNOTEsShown: true,
			LastStateChange: &StateChange{
				Code:   "CLUS-114904",
				From:   st("ACTIVE", "!", "ACTIVE(!)"),
				To:     st("ACTIVE", "", "ACTIVE"),
				Reason: "Reason for ACTIVE! alert has been resolved",
				Time:   "Fri Mar 11 09:38:04 2022",
			},
			LastFailover: &Failover{
				Transition: "Member 1 -> Member 2", FromID: 1, ToID: 2,
				Reason: "Reboot", Time: "Fri Mar 11 09:37:02 2022",
			},
			FailoverCount: &FailoverCount{Counter: 5, Reset: "Thu Aug 19 00:03:13 2021 (reboot)"},
		}},
		{fixtureStateR8010, ClusterState{
			Mode: "Virtual System Load Sharing",
			Members: []Member{
				{ID: 1, Local: true, Address: addr("10.1.1.36"), Load: 0, State: st("STANDBY", "", "Standby")},
				{ID: 2, Address: addr("10.1.1.37"), Load: 100, State: st("ACTIVE", "", "Active")},
			},
			LocalSince: "Fri Dec 10 05:28:16 2021",
		}},
		{fixtureStateRejoin, ClusterState{
			Mode: haMode,
			Members: []Member{
				{ID: 1, Local: true, Address: addr("192.0.2.101"), Load: 0, State: st("STANDBY", "", "STANDBY"), Name: "gw-member-a"},
				{ID: 2, Address: addr("192.0.2.102"), Load: 100, State: st("ACTIVE", "", "ACTIVE"), Name: "gw-member-b"},
			},
			PNOTEsShown: true,
			LastStateChange: &StateChange{
				Code:   "CLUS-114802",
				From:   st("DOWN", "", "DOWN"),
				To:     st("STANDBY", "", "STANDBY"),
				Reason: "There is already an ACTIVE member in the cluster (member 2)",
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseClusterState(readFixture(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			local, ok := got.Local()
			require.True(t, ok)
			assert.True(t, local.Local)
			for _, m := range got.Members {
				assert.True(t, m.State.Known())
				assert.True(t, m.State.Healthy(), "member %d", m.ID)
			}
		})
	}
}

// TestParseClusterStateFixtureFacts spells out the facts the provenance rows
// stress, independently of the struct layout.
func TestParseClusterStateFixtureFacts(t *testing.T) {
	cs, err := ParseClusterState(readFixture(t, fixtureStateFailover))
	require.NoError(t, err)
	local, _ := cs.Local()
	assert.Equal(t, 2, local.ID, "the local row is ID 2 on row 2")
	assert.Equal(t, "tv2-cp-fw6-1", local.Name)
	assert.Equal(t, StateActive, local.State.Base)
	assert.Equal(t, 5, cs.FailoverCount.Counter)
	assert.Equal(t, ModeHighAvailability, cs.ModeKind())
	peer, ok := cs.ByID(1)
	require.True(t, ok)
	assert.Equal(t, "tv2-cp-fw6-2", peer.Name)
	_, ok = cs.ByID(3)
	assert.False(t, ok)

	cs, err = ParseClusterState(readFixture(t, fixtureStateR8010))
	require.NoError(t, err)
	assert.Equal(t, ModeVirtualSystemLoadSharing, cs.ModeKind())
	assert.Equal(t, "Standby", cs.Members[0].State.Raw, "Raw keeps the printed case")
	assert.Equal(t, "STANDBY", cs.Members[0].State.String())

	cs, err = ParseClusterState(readFixture(t, fixtureStateClish))
	require.NoError(t, err)
	assert.True(t, cs.LastStateChange.From.Attention(), "ACTIVE(!) is never plain ACTIVE")
	assert.Equal(t, "ACTIVE(!)", cs.LastStateChange.From.String())
	assert.False(t, cs.LastStateChange.To.Attention())
}

// TestParseClusterStateShapes re-frames the R82 capture the ways a session
// can deliver it: CRLF, no prompt, syslog lines in the middle, pager
// artefacts, tabs, Expert prompts.
func TestParseClusterStateShapes(t *testing.T) {
	capture := readFixture(t, fixtureStateClish)
	want, err := ParseClusterState(capture)
	require.NoError(t, err)
	body := strings.TrimPrefix(capture, "CPGW1A> show cluster state\n")
	require.NotEqual(t, capture, body)
	row2 := "2          192.168.255.2   0%              STANDBY        CPGW1B\n"
	require.Contains(t, body, row2)
	syslog := "\nMessage from syslogd@CPGW1A at May 15 10:50:59 ...\n kernel:[fw4_1];CLUS-110305-1: State change: ACTIVE -> ACTIVE(!) | Reason: Interface eth1 is down\n"
	shapes := map[string]string{
		"CRLF line ends":    strings.ReplaceAll(capture, "\n", "\r\n"),
		"no prompt":         body,
		"Expert prompt":     "[Expert@CPGW1A:0]# cphaprob state\n" + body + "[Expert@CPGW1A:0]# ",
		"command echo only": "cphaprob state\n" + body,
		"tabs between columns": strings.ReplaceAll(body, row2,
			"2\t192.168.255.2\t0%\tSTANDBY\tCPGW1B\n"),
		"single spaces (flattened columns)": strings.ReplaceAll(body, row2,
			"2 192.168.255.2 0% STANDBY CPGW1B\n"),
		"variant (hand-written): syslog broadcast inside the member table": strings.ReplaceAll(body, row2, syslog+row2),
		"variant (hand-written): syslog broadcast inside the event block": strings.ReplaceAll(body,
			"   Event Code:", strings.TrimPrefix(syslog, "\n")+"   Event Code:"),
		"variant (hand-written): plain syslog line in the table": strings.ReplaceAll(body, row2,
			"May 15 10:50:59 2026 CPGW1A kernel: [fw4_1];CLUS-114904-1: State change: ACTIVE(!) -> ACTIVE | Reason: resolved\n"+row2),
		"variant (hand-written): --More-- on its own line":   strings.ReplaceAll(body, row2, "--More--\n"+row2),
		"variant (hand-written): -- More -- with percentage": strings.ReplaceAll(body, row2, " -- More -- (42%)\n"+row2),
		"variant (hand-written): --More-- erased with backspaces before the row": strings.ReplaceAll(body, row2,
			"--More--\b\b\b\b\b\b\b\b        \b\b\b\b\b\b\b\b"+row2),
		"variant (hand-written): --More-- erased with carriage returns": strings.ReplaceAll(body, row2,
			"--More--\r        \r"+row2),
		"variant (hand-written): reverse-video --More-- with ANSI escapes": strings.ReplaceAll(body, row2,
			"\x1b[7m--More--\x1b[m\x1b[K\r"+row2),
		"variant (hand-written): --More-- left before a row's fields": strings.ReplaceAll(body, row2, "--More-- "+row2),
		"variant (hand-written): --More-- inside a value line": strings.ReplaceAll(body,
			"   Failover counter:           0", "   Failover counter:   --More--        0"),
	}
	for name, out := range shapes {
		t.Run(name, func(t *testing.T) {
			got, err := ParseClusterState(out)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

// TestParseClusterStatePagerNeverShifts: a pager artefact among the fields
// of a row is removed, so no value lands in another field.
func TestParseClusterStatePagerNeverShifts(t *testing.T) {
	in := "Cluster Mode:   High Availability (Active Up)\n\nID  Unique Address  Assigned Load  State  Name\n" +
		"1 (local)  10.0.0.1  100%  ACTIVE  fw-more-1\n" +
		"2  --More--  10.0.0.2  0%  STANDBY  fw-b\n"
	got, err := ParseClusterState(in)
	require.NoError(t, err)
	assert.Equal(t, "fw-more-1", got.Members[0].Name, "a name containing -more- is kept")
	assert.Equal(t, Member{ID: 2, Address: addr("10.0.0.2"), Load: 0, State: st("STANDBY", "", "STANDBY"), Name: "fw-b"}, got.Members[1])
}

// TestParseClusterStateEveryState: every documented state token, on a
// member that is not the first row (hand-written: no public capture shows
// most of them).
func TestParseClusterStateEveryState(t *testing.T) {
	tests := []struct {
		token   string
		want    State
		healthy bool
	}{
		{"ACTIVE", st("ACTIVE", "", "ACTIVE"), true},
		{"ACTIVE(!)", st("ACTIVE", "!", "ACTIVE(!)"), false},
		{"ACTIVE(!F)", st("ACTIVE", "!F", "ACTIVE(!F)"), false},
		{"ACTIVE(!P)", st("ACTIVE", "!P", "ACTIVE(!P)"), false},
		{"ACTIVE(!FP)", st("ACTIVE", "!FP", "ACTIVE(!FP)"), false},
		{"DOWN", st("DOWN", "", "DOWN"), false},
		{"LOST", st("LOST", "", "LOST"), false},
		{"READY", st("READY", "", "READY"), false},
		{"STANDBY", st("STANDBY", "", "STANDBY"), true},
		{"BACKUP", st("BACKUP", "", "BACKUP"), true},
		{"INIT", st("INIT", "", "INIT"), false},
		// Old mixed-case wording (R80.10 and older).
		{"Active", st("ACTIVE", "", "Active"), true},
		{"Active Attention", st("ACTIVE", "!", "Active Attention"), false},
		{"Ready", st("READY", "", "Ready"), false},
		{"Down", st("DOWN", "", "Down"), false},
		{"Standby", st("STANDBY", "", "Standby"), true},
		{"Active(!)", st("ACTIVE", "!", "Active(!)"), false},
	}
	for _, tt := range tests {
		for _, withName := range []bool{true, false} {
			name := fmt.Sprintf("variant (documented, no capture): %s, name column %v", tt.token, withName)
			t.Run(name, func(t *testing.T) {
				header, suffix := "ID         Unique Address  Assigned Load   State          Name\n", "  gw-b"
				if !withName {
					header, suffix = "ID         Unique Address  Assigned Load   State\n", ""
				}
				in := "Cluster Mode:   High Availability (Active Up)\n\n" + header + "\n" +
					"1 (local)  10.0.0.1        100%            ACTIVE" + map[bool]string{true: "  gw-a", false: ""}[withName] + "\n" +
					"2          10.0.0.2        0%              " + tt.token + suffix + "\n\nActive PNOTEs: None\n"
				got, err := ParseClusterState(in)
				require.NoError(t, err)
				require.Len(t, got.Members, 2)
				m := got.Members[1]
				assert.Equal(t, tt.want, m.State)
				assert.Equal(t, tt.healthy, m.State.Healthy())
				assert.Equal(t, tt.want.Flags != "", m.State.Attention())
				assert.True(t, m.State.Known())
				if withName {
					assert.Equal(t, "gw-b", m.Name)
				} else {
					assert.Empty(t, m.Name)
				}
			})
		}
	}
}

// TestParseClusterStateVariants are hand-written outputs of documented
// shapes no capture shows.
func TestParseClusterStateVariants(t *testing.T) {
	const v = "variant (documented, no capture): "
	tests := []struct {
		name string
		in   string
		want ClusterState
		kind ModeKind
	}{
		{
			// Shape of the Quantum Spark R81.10.X CLI Reference Guide example.
			name: v + "Quantum Spark, Sync Mode line, no Name column",
			in: "[Expert@Member1]# cphaprob state\n\nCluster Mode:   High Availability (Active Up)\n\nSync Mode:   Optimized Sync\n\n" +
				"ID         Unique Address  Assigned Load   State\n\n" +
				"1 (local)  10.231.149.1    100%            ACTIVE\n2          10.231.149.2    0%              STANDBY\n\n" +
				"Active PNOTEs: None\n\nCluster failover count:\n   Failover counter:           0\n   Time of counter reset:      Wed Mar 12 00:32:50 2025 (reboot)\n\n[Expert@Member1]#\n",
			want: ClusterState{
				Mode: "High Availability (Active Up)", SyncMode: "Optimized Sync",
				Members: []Member{
					{ID: 1, Local: true, Address: addr("10.231.149.1"), Load: 100, State: st("ACTIVE", "", "ACTIVE")},
					{ID: 2, Address: addr("10.231.149.2"), Load: 0, State: st("STANDBY", "", "STANDBY")},
				},
				PNOTEsShown:   true,
				FailoverCount: &FailoverCount{Reset: "Wed Mar 12 00:32:50 2025 (reboot)"},
			},
			kind: ModeHighAvailability,
		},
		{
			name: v + "Load Sharing (Multicast), three members, local last, PNOTEs list",
			in: "Cluster Mode:   Load Sharing (Multicast)\n\nID         Unique Address  Assigned Load   State          Name\n\n" +
				"1          10.0.0.1        34%             ACTIVE         gw-a\n3          10.0.0.3        33%             ACTIVE(!P)     gw-c\n" +
				"2 (local)  10.0.0.2        33%             ACTIVE         gw-b\n\nActive PNOTEs: LPRB, COREXL\n",
			want: ClusterState{
				Mode: "Load Sharing (Multicast)",
				Members: []Member{
					{ID: 1, Address: addr("10.0.0.1"), Load: 34, State: st("ACTIVE", "", "ACTIVE"), Name: "gw-a"},
					{ID: 3, Address: addr("10.0.0.3"), Load: 33, State: st("ACTIVE", "!P", "ACTIVE(!P)"), Name: "gw-c"},
					{ID: 2, Local: true, Address: addr("10.0.0.2"), Load: 33, State: st("ACTIVE", "", "ACTIVE"), Name: "gw-b"},
				},
				PNOTEsShown: true, PNOTEs: []string{"LPRB", "COREXL"},
			},
			kind: ModeLoadSharing,
		},
		{
			name: v + "mixed versions: upgraded member READY, old member sees it LOST",
			in: "Cluster Mode:   High Availability (Primary Up)\n\nID         Unique Address  Assigned Load   State          Name\n\n" +
				"1 (local)  10.0.0.1        100%            ACTIVE(!)      gw-a\n2          10.0.0.2        0%              LOST           gw-b\n\n" +
				"Active PNOTEs: None\n\nLast member state change event:\n   Event Code:                 CLUS-110305\n   State change:               ACTIVE -> ACTIVE(!)\n" +
				"   Reason for state change:    Interface eth1 is down\n",
			want: ClusterState{
				Mode: "High Availability (Primary Up)",
				Members: []Member{
					{ID: 1, Local: true, Address: addr("10.0.0.1"), Load: 100, State: st("ACTIVE", "!", "ACTIVE(!)"), Name: "gw-a"},
					{ID: 2, Address: addr("10.0.0.2"), Load: 0, State: st("LOST", "", "LOST"), Name: "gw-b"},
				},
				PNOTEsShown: true,
				LastStateChange: &StateChange{Code: "CLUS-110305", From: st("ACTIVE", "", "ACTIVE"), To: st("ACTIVE", "!", "ACTIVE(!)"),
					Reason: "Interface eth1 is down"},
			},
			kind: ModeHighAvailability,
		},
		{
			name: v + "old wording Active Attention, Number column, IPv6 address",
			in: "Cluster Mode:   Virtual System Load Sharing (Active Up)\n\nNumber     Unique Address  Assigned Load   State\n\n" +
				"1 (local)  fd00::1         100%            Active Attention\n2          fd00::2         0%              Down\n\n" +
				"Local member is in current state since Fri Dec 10 05:28:16 2021\n",
			want: ClusterState{
				Mode: "Virtual System Load Sharing (Active Up)",
				Members: []Member{
					{ID: 1, Local: true, Address: addr("fd00::1"), Load: 100, State: st("ACTIVE", "!", "Active Attention")},
					{ID: 2, Address: addr("fd00::2"), Load: 0, State: st("DOWN", "", "Down")},
				},
				LocalSince: "Fri Dec 10 05:28:16 2021",
			},
			kind: ModeVirtualSystemLoadSharing,
		},
		{
			name: v + "VSLS per-VS table kept uninterpreted; unknown mode text kept verbatim",
			in: "Cluster Mode:   Service\n\nID  Unique Address  Assigned Load  State  Name\n1 (local)  10.0.0.1  50%  ACTIVE  a\n2  10.0.0.2  50%  BACKUP  b\n\n" +
				"Virtual Devices Status on each Cluster Member\n==============================================\n ID | Weight| a | b\n 1  | 10    | ACTIVE | BACKUP\n",
			want: ClusterState{
				Mode: "Service",
				Members: []Member{
					{ID: 1, Local: true, Address: addr("10.0.0.1"), Load: 50, State: st("ACTIVE", "", "ACTIVE"), Name: "a"},
					{ID: 2, Address: addr("10.0.0.2"), Load: 50, State: st("BACKUP", "", "BACKUP"), Name: "b"},
				},
				VirtualDevices: []string{"==============================================", "ID | Weight| a | b", "1  | 10    | ACTIVE | BACKUP"},
			},
			kind: ModeUnknown,
		},
		{
			name: v + "failover block with an unusual transition text; glued (local) marker",
			in: "Cluster Mode: High Availability (Active Up)\nID Unique Address Assigned Load State Name\n1(local) 10.0.0.1 100% ACTIVE a\n" +
				"Last cluster failover event:\n   Transition to new ACTIVE:   Member a -> Member b\n   Reason:   ADMIN_DOWN PNOTE\n",
			want: ClusterState{
				Mode:         "High Availability (Active Up)",
				Members:      []Member{{ID: 1, Local: true, Address: addr("10.0.0.1"), Load: 100, State: st("ACTIVE", "", "ACTIVE"), Name: "a"}},
				LastFailover: &Failover{Transition: "Member a -> Member b", Reason: "ADMIN_DOWN PNOTE"},
			},
			kind: ModeHighAvailability,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClusterState(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.kind, got.ModeKind())
		})
	}
}

// TestParseClusterStateFailsClosed: unknown or ambiguous output is a typed
// error, never a state.
func TestParseClusterStateFailsClosed(t *testing.T) {
	const (
		mode   = "Cluster Mode:   High Availability (Active Up)\n"
		header = "ID         Unique Address  Assigned Load   State          Name\n"
		row1   = "1 (local)  10.0.0.1        100%            ACTIVE         gw-a\n"
		row2   = "2          10.0.0.2        0%              STANDBY        gw-b\n"
	)
	tests := []struct {
		name string
		in   string
		line int // expected ParseError.Line, -1 to skip the check
	}{
		{"empty", "", 0},
		{"white space only", " \r\n\t\n", 0},
		{"prompt only", "[Expert@gw:0]# cphaprob state\n[Expert@gw:0]#", 0},
		{"HA module not started", "HA module not started.\n", 0},
		{"no Cluster Mode line", header + row1 + row2, 0},
		{"empty Cluster Mode", "Cluster Mode:\n" + header + row1, 1},
		{"no member table", mode + "\nActive PNOTEs: None\n", 0},
		{"table without rows", mode + header + "\nActive PNOTEs: None\n", 2},
		{"variant (hand-written): unknown state word", mode + header + row1 + "2  10.0.0.2  0%  STANDBYE  gw-b\n", 4},
		{"unknown state word ACTIVE!", mode + header + row1 + "2  10.0.0.2  0%  ACTIVE!  gw-b\n", 4},
		{"unknown attention suffix", mode + header + row1 + "2  10.0.0.2  0%  ACTIVE(!X)  gw-b\n", 4},
		{"attention suffix on STANDBY", mode + header + row1 + "2  10.0.0.2  0%  STANDBY(!)  gw-b\n", 4},
		{"suffix reversed", mode + header + row1 + "2  10.0.0.2  0%  ACTIVE(!PF)  gw-b\n", 4},
		{"variant (hand-written): duplicate member ID", mode + header + row1 + "1  10.0.0.2  0%  STANDBY  gw-b\n", 4},
		{"no local member", mode + header + "1  10.0.0.1  100%  ACTIVE  gw-a\n" + row2, 2},
		{"two local members", mode + header + row1 + "2 (local)  10.0.0.2  0%  STANDBY  gw-b\n", 2},
		{"address not an IP", mode + header + row1 + "2  10.0.0.256  0%  STANDBY  gw-b\n", 4},
		{"load not a percentage", mode + header + row1 + "2  10.0.0.2  0  STANDBY  gw-b\n", 4},
		{"load above 100%", mode + header + row1 + "2  10.0.0.2  101%  STANDBY  gw-b\n", 4},
		{"fractional load", mode + header + row1 + "2  10.0.0.2  33.3%  STANDBY  gw-b\n", 4},
		{"missing address (shifted fields)", mode + header + row1 + "2  0%  STANDBY  gw-b\n", 4},
		{"extra field", mode + header + row1 + "2  10.0.0.2  0%  STANDBY  gw-b  extra\n", 4},
		{"name without a Name column", mode + "ID  Unique Address  Assigned Load  State\n" + row1, 3},
		{"row ends early", mode + header + row1 + "2  10.0.0.2\n", 4},
		{"ID not a number in a row", mode + header + row1 + "2a  10.0.0.2  0%  STANDBY  gw-b\n", 4},
		{"non-row line with a state word in the table", mode + header + row1 + "   STANDBY   gw-b\n", 4},
		{"non-row line with an address in the table", mode + header + row1 + "x  10.0.0.2  0%  STANDBY  gw-b\n", 4},
		{"unknown column", mode + "ID  Unique Address  Priority  State  Name\n" + row1, 2},
		{"column twice", mode + "ID  State  State\n" + row1, 2},
		{"second Cluster Mode (two outputs)", mode + header + row1 + row2 + mode, 5},
		{"second member table", mode + header + row1 + header + row2, 4},
		{"member row after the table", mode + header + row1 + "Active PNOTEs: None\n3  10.0.0.3  0%  DOWN  gw-c\n", 5},
		{"member row inside an event block", mode + header + row1 + "Last member state change event:\n2 10.0.0.2 0% DOWN gw-b\n", 5},
		{"second Sync Mode", mode + "Sync Mode: a\nSync Mode: b\n" + header + row1, 3},
		{"second Active PNOTEs", mode + header + row1 + "Active PNOTEs: None\nActive PNOTEs: None\n", 5},
		{"empty Active PNOTEs", mode + header + row1 + "Active PNOTEs:\n", 4},
		{"unknown state in State change", mode + header + row1 + "Last member state change event:\n  State change:  DOWN -> SLEEPING\n", 5},
		{"malformed State change", mode + header + row1 + "Last member state change event:\n  State change:  DOWN to STANDBY\n", 5},
		{"second event block", mode + header + row1 + "Last member state change event:\nLast member state change event:\n", 5},
		{"failover counter not a number", mode + header + row1 + "Cluster failover count:\n  Failover counter:  five\n", 5},
		{"failover count block without counter", mode + header + row1 + "Cluster failover count:\n  Time of counter reset:  now\n", 0},
		{"second failover counter", mode + header + row1 + "Cluster failover count:\n  Failover counter:  1\n  Failover counter:  2\n", 6},
		{"second local-since footer", mode + header + row1 + "Local member is in current state since a\nLocal member is in current state since b\n", 5},
		{"other command's output", readFixture(t, "cphaprob-a-if/spark-r82.00.x-manual-unicast-example1.txt"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClusterState(tt.in)
			pe := requireParseError(t, err, "cphaprob state", ErrUnrecognized)
			assert.Equal(t, ClusterState{}, got)
			if tt.line >= 0 {
				assert.Equal(t, tt.line, pe.Line, pe.Error())
			}
		})
	}
}

func TestStateMethods(t *testing.T) {
	assert.False(t, State{}.Known())
	assert.False(t, State{}.Healthy())
	assert.False(t, State{Base: "SLEEPING"}.Healthy())
	assert.False(t, State{Base: StateStandby, Flags: "!"}.Healthy())
	assert.Equal(t, "ACTIVE(!FP)", State{Base: StateActive, Flags: "!FP"}.String())
	_, ok := ClusterState{}.Local()
	assert.False(t, ok)
	assert.Equal(t, ModeUnknown, ClusterState{Mode: "Bridge"}.ModeKind())
}
