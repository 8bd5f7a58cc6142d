package checkpoint

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	fixtureIfSpark     = "cphaprob-a-if/spark-r82.00.x-manual-unicast-example1.txt"
	fixtureIfPartial   = "cphaprob-a-if/spark-r82.00.x-probing-inbound-outbound-partial.txt"
	fixtureIfFlattened = "cphaprob-a-if/r80.20-ccp-automatic-flattened.txt"
	fixtureIfSK20576   = "cphaprob-a-if/sk20576-per-interface-ccp-layout.txt"
)

func up() Link { return Link{State: InterfaceUp} }

// TestParseClusterInterfacesFixtures: every `cphaprob -a if` capture parses
// to the facts of its provenance row.
func TestParseClusterInterfacesFixtures(t *testing.T) {
	sparkVirtual := []VirtualInterface{
		{Name: "WAN", Address: addr("44.55.66.247"), VMAC: "00:1C:7F:00:23:7F"},
		{Name: "LAN1", Address: addr("192.168.3.247"), VMAC: "00:1C:7F:00:23:7F"},
	}
	tests := []struct {
		file     string
		want     Interfaces
		downList []string
	}{
		{fixtureIfSpark, Interfaces{
			CCPMode: "Manual (Unicast)", Required: 3, RequiredSecured: 1,
			Interfaces: []Interface{
				{Name: "lo", Status: Link{State: InterfaceNonMonitored}},
				{Name: "WAN", Status: up()},
				{Name: "LAN1", Status: up()},
				{Name: "SYNCBOND", Markers: "S", Sync: true, Status: up()},
			},
			VirtualCount: 2, Virtual: sparkVirtual,
		}, nil},
		{fixtureIfPartial, Interfaces{
			Required: -1, RequiredSecured: -1, VirtualCount: -1,
			Interfaces: []Interface{
				{Name: "WAN", Markers: "P", Probing: true, Status: up()},
				{Name: "LAN1", Markers: "P", Probing: true, Inbound: up(),
					Outbound: Link{State: InterfaceDown, Elapsed: 566*time.Second + 100*time.Millisecond}},
				{Name: "SYNCBOND", Markers: "S-HA", Sync: true, Bond: "HA", Inbound: up()},
			},
		}, []string{"LAN1", "SYNCBOND"}},
		{fixtureIfFlattened, Interfaces{
			CCPMode: "Automatic", Required: 3, RequiredSecured: 1,
			Interfaces: []Interface{
				{Name: "eth0", Status: up(), CCP: "multicast"},
				{Name: "eth1", Sync: true, Secured: true, Status: up(), CCP: "unicast"},
				{Name: "eth2", Status: up(), CCP: "multicast"},
			},
			VirtualCount: 2,
			Virtual: []VirtualInterface{
				{Name: "eth0", Address: addr("192.168.3.55"), VMAC: "00:1C:7F:00:36:70"},
				{Name: "eth2", Address: addr("192.250.3.55"), VMAC: "00:1C:7F:00:36:70"},
			},
		}, nil},
		{fixtureIfSK20576, Interfaces{
			Required: 4, RequiredSecured: 1, VirtualCount: -1,
			Interfaces: []Interface{
				{Name: "eth0", Status: up(), CCP: "multicast"},
				{Name: "eth1", Sync: true, Secured: true, Status: up(), CCP: "multicast"},
				{Name: "eth2", Status: up(), CCP: "multicast"},
				{Name: "eth3", Status: up(), CCP: "multicast"},
			},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseClusterInterfaces(readFixture(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			var down []string
			for _, i := range got.Down() {
				down = append(down, i.Name)
			}
			assert.Equal(t, tt.downList, down)
		})
	}
}

// TestParseClusterInterfacesShapes: the Spark example read through other
// session framings and the one-line HTML flattening of the vendor page.
func TestParseClusterInterfacesShapes(t *testing.T) {
	capture := readFixture(t, fixtureIfSpark)
	want, err := ParseClusterInterfaces(capture)
	require.NoError(t, err)
	oneLine := strings.Join(strings.Fields(capture), " ")
	shapes := map[string]string{
		"CRLF": strings.ReplaceAll(capture, "\n", "\r\n"),
		"variant (hand-written): one-line HTML flattening with prompts": oneLine,
		"variant (hand-written): syslog broadcast between rows": strings.Replace(capture, "WAN                  UP\n",
			"WAN                  UP\n\nMessage from syslogd@Member1 at Jan  1 00:00:00 ...\n kernel:[fw4_0];CLUS-110200-1: Interface LAN1 is down\n", 1),
		"variant (hand-written): --More-- between rows": strings.Replace(capture, "LAN1                 UP\n", "--More--\nLAN1                 UP\n", 1),
		"Clish prompt": strings.Replace(capture, "[Expert@Member1]# cphaprob -a -m if", "Member1> show cluster members interfaces all", 1),
	}
	for name, in := range shapes {
		t.Run(name, func(t *testing.T) {
			got, err := ParseClusterInterfaces(in)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestParseClusterInterfacesVariants(t *testing.T) {
	const v = "variant (documented, no capture): "
	tests := []struct {
		name string
		in   string
		want Interfaces
	}{
		{
			name: v + "R81 layout, DOWN with elapsed time, LM marker, LS bond, no VMAC",
			in: "CCP mode: Manual (Unicast)\nRequired interfaces: 3\nRequired secured interfaces: 1\n\nInterface Name:      Status:\n\n" +
				"eth1 (S-LS)          UP\neth2 (LM)            DOWN (12.5 secs)\neth3                 up\n\n" +
				"S - sync, LM - link monitor, HA/LS - bond type\n\nVirtual cluster interfaces: 1\n\neth2           192.168.2.247\n",
			want: Interfaces{
				CCPMode: "Manual (Unicast)", Required: 3, RequiredSecured: 1,
				Interfaces: []Interface{
					{Name: "eth1", Markers: "S-LS", Sync: true, Bond: "LS", Status: up()},
					{Name: "eth2", Markers: "LM", LinkMonitor: true, Status: Link{State: InterfaceDown, Elapsed: 12500 * time.Millisecond}},
					{Name: "eth3", Status: up()},
				},
				VirtualCount: 1,
				Virtual:      []VirtualInterface{{Name: "eth2", Address: addr("192.168.2.247")}},
			},
		},
		{
			name: v + "Spark split states complete on both directions",
			in:   "LAN1 (P) Inbound: UP\nOutbound: DOWN (566.1 secs)\nSYNCBOND (S-HA) Inbound: UP\nOutbound: UP\n",
			want: Interfaces{
				Required: -1, RequiredSecured: -1, VirtualCount: -1,
				Interfaces: []Interface{
					{Name: "LAN1", Markers: "P", Probing: true, Inbound: up(), Outbound: Link{State: InterfaceDown, Elapsed: 566100 * time.Millisecond}},
					{Name: "SYNCBOND", Markers: "S-HA", Sync: true, Bond: "HA", Inbound: up(), Outbound: up()},
				},
			},
		},
		{
			name: v + "older layout, non-secured sync, broadcast",
			in:   "Required interfaces: 2\n\neth0  UP  non sync(non secured), broadcast\neth1  DOWN  sync(non secured), broadcast\n",
			want: Interfaces{
				Required: 2, RequiredSecured: -1, VirtualCount: -1,
				Interfaces: []Interface{
					{Name: "eth0", Status: up(), CCP: "broadcast"},
					{Name: "eth1", Sync: true, Status: Link{State: InterfaceDown}, CCP: "broadcast"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClusterInterfaces(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	x, err := ParseClusterInterfaces(tests[0].in)
	require.NoError(t, err)
	require.Len(t, x.Down(), 1)
	assert.Equal(t, "eth2", x.Down()[0].Name)
	assert.True(t, x.Interfaces[0].Up())
	assert.True(t, x.Interfaces[0].Monitored())
}

func TestParseClusterInterfacesFailsClosed(t *testing.T) {
	tests := map[string]string{
		"empty":                            "",
		"prompt only":                      "[Expert@gw:0]# cphaprob -a if\n[Expert@gw:0]#\n",
		"counts but no interface":          "Required interfaces: 3\nRequired secured interfaces: 1\n",
		"unknown interface state":          "eth0  DISCONNECTED\n",
		"interface without state":          "eth0\n",
		"unknown marker":                   "eth0 (X) UP\n",
		"two bond types":                   "eth0 (S-HA-LS) UP\n",
		"malformed elapsed time":           "eth0 DOWN (soon)\n",
		"Non-Monitored as inbound":         "eth0 Inbound: Non-Monitored\n",
		"unknown traffic description":      "eth0 UP sync(maybe), multicast\n",
		"unknown per-interface CCP mode":   "eth0 UP sync(secured), anycast\n",
		"CCP mode missing after comma":     "eth0 UP sync(secured),\n",
		"empty CCP mode":                   "CCP mode:\neth0 UP\n",
		"second CCP mode":                  "CCP mode: Automatic\nCCP mode: Automatic\neth0 UP\n",
		"required not a number":            "Required interfaces: three\neth0 UP\n",
		"second required":                  "Required interfaces: 3\nRequired interfaces: 3\neth0 UP\n",
		"second required secured":          "Required secured interfaces: 1\nRequired secured interfaces: 1\neth0 UP\n",
		"duplicate interface":              "eth0 UP\neth0 DOWN\n",
		"virtual count not a number":       "eth0 UP\nVirtual cluster interfaces: two\n",
		"virtual count mismatch":           "eth0 UP\nVirtual cluster interfaces: 2\neth0 10.0.0.1\n",
		"virtual address not an IP":        "eth0 UP\nVirtual cluster interfaces: 1\neth0 10.0.0.300\n",
		"virtual without address":          "eth0 UP\nVirtual cluster interfaces: 1\neth0\n",
		"malformed VMAC":                   "eth0 UP\nVirtual cluster interfaces: 1\neth0 10.0.0.1 VMAC address: 00:1C\n",
		"duplicate virtual interface":      "eth0 UP\nVirtual cluster interfaces: 2\neth0 10.0.0.1\neth0 10.0.0.1\n",
		"second virtual heading":           "eth0 UP\nVirtual cluster interfaces: 0\nVirtual cluster interfaces: 0\n",
		"per-VS heading (VSX, not read)":   "vsid 0:\n------\nCCP mode: Manual (Unicast)\neth0 UP\n",
		"error text":                       "HA module not started.\n",
		"other command's output (state)":   readFixture(t, fixtureStateClish),
		"other command's output (cpinfo)":  readFixture(t, "cpinfo-y-all/r81.20-take-122.txt"),
		"punctuation where a name belongs": "eth0 UP\n** UP\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseClusterInterfaces(in)
			requireParseError(t, err, "cphaprob -a if", ErrUnrecognized)
			assert.Equal(t, Interfaces{}, got)
		})
	}
}
