package checkpoint

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixtureVSX = "vsx-stat-v/r80.10-vsx-gateway-with-fw-ver.txt"

func TestParseVSXStatFixture(t *testing.T) {
	got, err := ParseVSXStat(readFixture(t, fixtureVSX))
	require.NoError(t, err)
	assert.Equal(t, VSXGateway{Name: "hostname", AccessPolicy: "Standard", InstalledAt: "10Dec2021  5:26:32",
		ThreatPolicy: "Standard", SIC: "Trust"}, got.Gateway)
	assert.Equal(t, VSXTotals{Licensed: 10, VirtualSystemsActive: 10, VirtualSystemsConfigured: 10,
		RoutersSwitchesActive: 4, RoutersSwitchesConfigured: 4, ConnectionsCurrent: 25445, ConnectionsLimit: 1502500}, got.Totals)
	assert.True(t, got.Totals.AllActive())

	sw := func(id int, name string) VirtualDevice {
		return VirtualDevice{ID: id, TypeCode: "W", Type: TypeVirtualSwitch, Name: name,
			AccessPolicy: "<Not Applicable>", ThreatPolicy: "<Not Applicable>", SIC: "Trust"}
	}
	vs := func(id int, name, policy, at, tp string) VirtualDevice {
		return VirtualDevice{ID: id, TypeCode: "S", Type: TypeVirtualSystem, Name: name,
			AccessPolicy: policy, InstalledAt: at, ThreatPolicy: tp, SIC: "Trust"}
	}
	want := []VirtualDevice{
		sw(1, "sw1-ext"),
		sw(2, "sw1-fwbackbone"),
		vs(3, "fw1-userext", "Standard", "29Dec2021 11:28", "Standard"),
		sw(4, "sw1-uservpn"),
		vs(5, "fw1-vpn", "Standard", "16Dec2021 10:15", "<No Policy>"),
		vs(6, "fw1-guest", "Standard", "10Dec2021  5:27", "Standard"),
		vs(7, "fw1-sumoplayout", "Standard", "10Dec2021  5:27", "<No Policy>"),
		vs(8, "fw1-serverext", "Standard", "15Dec2021 12:13", "Standard"),
		vs(9, "fw1-lab", "Standard", "10Dec2021  5:27", "<No Policy>"),
		vs(10, "fw1-dmz2", "Standard", "27Dec2021 13:03", "<No Policy>"),
		sw(12, "sw1-ext-2"),
		vs(13, "fw1-dmz1", "Standard", "27Dec2021 13:03", "Standard"),
		vs(14, "fw1-dmz3", "Standard", "4Jan2022  9:11", "<No Policy>"),
		vs(15, "fw1-hosting", "Hosting", "27Dec2021 13:00", "Hosting"),
	}
	assert.Equal(t, want, got.Devices)
	for _, d := range got.Devices {
		assert.NotEqual(t, 11, d.ID, "VSID 11 is missing in the capture")
		assert.Empty(t, d.Problem(), "device %d", d.ID)
	}
	assert.Empty(t, got.NotReady(), "a missing Threat Prevention policy is not a problem")
}

func TestParseVSXStatVariants(t *testing.T) {
	capture := readFixture(t, fixtureVSX)
	t.Run("CRLF", func(t *testing.T) {
		want, err := ParseVSXStat(capture)
		require.NoError(t, err)
		got, err := ParseVSXStat(strings.ReplaceAll(capture, "\n", "\r\n"))
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})

	const head = "VSX Gateway Status\n==================\nName:            gw\nSecurity Policy: Standard\nSIC Status:      Trust\n\n" +
		"Virtual Devices Status\n======================\n\n"
	t.Run("variant (hand-written): problems listed by NotReady", func(t *testing.T) {
		in := head +
			" ID  | Type & Name   | Policy Name    | Installed at    | SIC Stat\n" +
			"-----+---------------+----------------+-----------------+---------\n" +
			"   1 | S vs-ok       | Standard       | 29Dec2021 11:28 | Trust\n" +
			"   2 | S vs-nopolicy | <No Policy>    |                 | Trust\n" +
			"   3 | R vr-untrust  | Standard       | 29Dec2021 11:28 | Initialized\n" +
			"   4 | B vs-bridge   | <Not Loaded>   |                 | Trust\n" +
			"   5 | W sw-bad      | <Not Loaded>   |                 | Trust\n" +
			"   6 | W sw-ok       | <Not Applicable> |               | Trust\n" +
			"   7 | T tgt-1       | Standard       | 29Dec2021 11:28 | Trust\n\n" +
			"Type: S - Virtual System, B - Virtual System in Bridge mode,\n      R - Virtual Router, W - Virtual Switch, T - Target.\n"
		got, err := ParseVSXStat(in)
		require.NoError(t, err)
		assert.Equal(t, VSXGateway{Name: "gw", AccessPolicy: "Standard", SIC: "Trust"}, got.Gateway)
		assert.Equal(t, VSXTotals{-1, -1, -1, -1, -1, -1, -1}, got.Totals)
		assert.False(t, got.Totals.AllActive(), "no counts printed: not known to be all active")
		require.Len(t, got.Devices, 7)
		assert.Equal(t, TypeVirtualRouter, got.Devices[2].Type)
		assert.Equal(t, TypeVirtualSystemBridge, got.Devices[3].Type)
		assert.Equal(t, "Target", got.Devices[6].Type, "a letter the legend defines")
		var ids []int
		for _, d := range got.NotReady() {
			ids = append(ids, d.ID)
			assert.NotEmpty(t, d.Problem())
		}
		assert.Equal(t, []int{2, 3, 4, 5}, ids)
		assert.Contains(t, got.Devices[2].Problem(), "Initialized")
	})
	t.Run("variant (hand-written): counts say one VS inactive", func(t *testing.T) {
		in := head + "Virtual Systems [active / configured]:  1 / 2\n" +
			" ID | Type & Name | Access Control Policy | SIC Stat\n 1 | S a | Standard | Trust\n 2 | S b | Standard | Trust\n"
		got, err := ParseVSXStat(in)
		require.NoError(t, err)
		assert.False(t, got.Totals.AllActive())
		assert.Equal(t, 1, got.Totals.VirtualSystemsActive)
	})
}

func TestParseVSXStatNotVSX(t *testing.T) {
	for _, in := range []string{
		"VSX is not supported on this platform\n",
		"[Expert@gw:0]# vsx stat -v\nVSX is not supported on this gateway\n[Expert@gw:0]#\n",
		"This gateway is not a VSX gateway\n",
	} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseVSXStat(in)
			pe := requireParseError(t, err, "vsx stat -v", ErrNotVSX)
			assert.NotErrorIs(t, err, ErrUnrecognized)
			assert.NotZero(t, pe.Line)
			assert.Equal(t, VSXStat{}, got)
		})
	}
}

func TestParseVSXStatFailsClosed(t *testing.T) {
	const (
		header = " ID  | Type & Name   | Access Control Policy | Installed at | SIC Stat\n"
		row    = "   1 | S vs1         | Standard              | 1Jan2024 1:00 | Trust\n"
	)
	tests := map[string]string{
		"empty":                        "",
		"fw ver only":                  "This is Check Point's software version R80.10 - Build 236\n",
		"row before header":            row,
		"cell count differs":           header + "   2 | S vs2 | Standard | Trust\n",
		"ID not a number":              header + "   x | S vs2         | Standard              |               | Trust\n",
		"no type letter":               header + "   2 | vs2           | Standard              |               | Trust\n",
		"unknown type letter":          header + "   2 | Q vs2         | Standard              |               | Trust\n",
		"duplicate ID":                 header + row + row,
		"header without SIC":           " ID | Type & Name | Access Control Policy\n",
		"header without policy":        " ID | Type & Name | SIC Stat\n",
		"header without type":          " ID | Access Control Policy | SIC Stat\n",
		"column twice":                 " ID | ID | Type & Name | Access Control Policy | SIC Stat\n",
		"second header":                header + row + header,
		"second heading":               "VSX Gateway Status\nVSX Gateway Status\n",
		"license count not a number":   "VSX Gateway Status\nNumber of Virtual Systems allowed by license: ten\n",
		"VS count malformed":           "VSX Gateway Status\nVirtual Systems [active / configured]: 10\n",
		"VS count twice":               "VSX Gateway Status\nVirtual Systems [active / configured]: 1 / 1\nVirtual Systems [active / configured]: 1 / 1\n",
		"VR count malformed":           "VSX Gateway Status\nVirtual Routers and Switches [active / configured]: 4 of 4\n",
		"connections malformed":        "VSX Gateway Status\nTotal connections [current / limit]: many\n",
		"rows lost (VS count)":         "VSX Gateway Status\nVirtual Systems [active / configured]: 2 / 2\n" + header + row,
		"rows lost (VR count)":         "VSX Gateway Status\nVirtual Routers and Switches [active / configured]: 1 / 1\n" + header + row,
		"gateway field twice":          "VSX Gateway Status\nName: a\nName: b\n",
		"legend redefines a letter":    header + row + "Type: S - Virtual Switch.\n",
		"VSX and not-VSX texts":        "VSX Gateway Status\nVSX is not supported on this platform\n",
		"other command's output":       readFixture(t, fixtureStateClish),
		"asg stat (other issue)":       readFixture(t, "asg-stat-v/r76sp.10-61k-vsx-flattened.txt"),
		"installer status (no parser)": readFixture(t, "show-installer-status-all/r82-lab-agent-build-2771.txt"),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseVSXStat(in)
			requireParseError(t, err, "vsx stat -v", ErrUnrecognized)
			assert.Equal(t, VSXStat{}, got)
		})
	}
}
