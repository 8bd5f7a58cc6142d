package checkpointtest

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The captures are read from package checkpoint's testdata (byte-for-byte
// copies of the project's fixture corpus).

func capture(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", rel))
	require.NoError(t, err)
	return string(b)
}

// timeRe is an "Event time" value, "Fri May 15 10:50:59 2026".
var timeRe = regexp.MustCompile(`[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}`)

// rawRun runs cmd in a raw PTY shell (no driver normalisation) and returns
// the transcript "<prompt>cmd\n<output><prompt>" with LF line ends.
func rawRun(t *testing.T, s *Sim, m *Member, prompt string, cmds ...string) string {
	t.Helper()
	sh, _ := openShell(t, s, m)
	var out string
	for _, c := range cmds {
		require.NoError(t, sh.typeLine(c))
		got, err := sh.readUntil(prompt)
		require.NoError(t, err)
		out = prompt + lf(got)
	}
	return out
}

// TestStateShapeIsTheR82Capture: on a cluster named like the real R82
// capture, `show cluster state` prints the capture byte for byte (event
// times aside), followed by the two trailing blank lines of the R8x
// capture.
func TestStateShapeIsTheR82Capture(t *testing.T) {
	want := capture(t, "cphaprob-state/r82-ha-healthy-clish.txt")
	o := fastOptions()
	o.Names = []string{"CPGW1A", "CPGW1B"}
	o.Version = "R82"
	o.ClishRows = -1
	s := startSim(t, o)
	got := rawRun(t, s, s.Members()[0], "CPGW1A> ", "show cluster state")
	got, want = timeRe.ReplaceAllString(got, "TIME"), timeRe.ReplaceAllString(want, "TIME")
	assert.Equal(t, want+"\n\nCPGW1A> ", got)
}

// TestFailoverBlockShapeIsTheR8xCapture: after the ACTIVE member 1
// rebooted, member 2 prints the "Last cluster failover event" block and
// the ending of the real R8x Expert capture.
func TestFailoverBlockShapeIsTheR8xCapture(t *testing.T) {
	want := timeRe.ReplaceAllString(capture(t, "cphaprob-state/r8x-local-member2-active-failover-event.txt"), "TIME")
	s := startSim(t, fastOptions())
	a, b := s.Members()[0], s.Members()[1]
	a.Reboot()
	waitFor(t, s, "gw-b ACTIVE", func() bool { return b.Forwarding() })
	waitFor(t, s, "gw-a back", func() bool { return !a.Down() && a.State() == "STANDBY" })
	// The raw stream of an Expert session.
	sh, _ := openShell(t, s, b)
	require.NoError(t, sh.typeLine("expert"))
	_, err := sh.readUntil("Enter expert password:")
	require.NoError(t, err)
	require.NoError(t, sh.typeLine(s.ExpertPassword()))
	_, err = sh.readUntil("[Expert@gw-b:0]# ")
	require.NoError(t, err)
	require.NoError(t, sh.typeLine("cphaprob state"))
	out, err := sh.readUntil("[Expert@gw-b:0]# ")
	require.NoError(t, err)
	got := timeRe.ReplaceAllString("[Expert@gw-b:0]# "+lf(out), "TIME")

	block := func(text string) string {
		i := strings.Index(text, "Last cluster failover event:")
		j := strings.Index(text, "Cluster failover count:")
		require.True(t, i >= 0 && j > i, text)
		return text[i:j]
	}
	assert.Equal(t, block(want), block(got))
	assert.True(t, strings.HasPrefix(got, "[Expert@gw-b:0]# cphaprob state\n\nCluster Mode:   High Availability (Active Up) with IGMP Membership\n\nID         Unique Address  Assigned Load   State          Name\n\n"), got)
	assert.Contains(t, got, "\n1          192.168.255.1   0%              STANDBY        gw-a\n2 (local)  192.168.255.2   100%            ACTIVE         gw-b\n\n\nActive PNOTEs: None\n")
	assert.Regexp(t, `\n   Failover counter:           1\n   Time of counter reset:      TIME \(reboot\)\n\n\n\[Expert@gw-b:0\]# $`, got)
}

// TestVersionShapes: `show version all` on R81.10 is the real capture;
// `fw ver` has the capture's shape.
func TestVersionShapes(t *testing.T) {
	o := fastOptions()
	o.Version = "R81.10"
	o.ClishRows = -1
	s := startSim(t, o)
	a := s.Members()[0]
	got := rawRun(t, s, a, "gw-a> ", "show version all")
	assert.Equal(t, "gw-a> show version all\n"+capture(t, "show-version-all/r81.10-build-335.txt")+"gw-a> ", got)
	got = rawRun(t, s, a, "gw-a> ", "fw ver")
	build := regexp.MustCompile(`Build \d+`)
	assert.Equal(t, "gw-a> fw ver\n"+build.ReplaceAllString(capture(t, "fw-ver/r81.20-mds-build-059.txt"), "Build N")+"gw-a> ",
		strings.ReplaceAll(build.ReplaceAllString(got, "Build N"), "R81.10", "R81.20"))
}

// TestCpinfoShape: the Jumbo, bundle and "No hotfixes.." lines are the
// R81.20 capture's lines once the TABs are expanded.
func TestCpinfoShape(t *testing.T) {
	o := fastOptions()
	o.Take = 122
	o.ClishRows = -1
	s := startSim(t, o)
	got := rawRun(t, s, s.Members()[0], "gw-a> ", "cpinfo -y all")
	assert.Contains(t, got, "\tHOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  122\n", "TABs as on a device")
	want := strings.Split(capture(t, "cpinfo-y-all/r81.20-take-122.txt"), "\n")
	lines := strings.Split(expandTabs(got), "\n")
	assert.Equal(t, "gw-a> cpinfo -y all", lines[0])
	assert.Equal(t, want[0], lines[1], "banner")
	for _, w := range []string{want[2], want[4], want[13]} { // Jumbo, No hotfixes.., bundle
		assert.Contains(t, lines, w)
	}
}

// expandTabs expands TABs to 8-column tab stops, as a terminal shows them.
func expandTabs(s string) string {
	var b strings.Builder
	col := 0
	for _, r := range s {
		switch r {
		case '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case '\n':
			b.WriteRune(r)
			col = 0
		default:
			b.WriteRune(r)
			col++
		}
	}
	return b.String()
}

// TestInstalledShapeIsTheR82Capture: the CPUSE heading, header and
// "Installed" row are the R82 lab listing's lines.
func TestInstalledShapeIsTheR82Capture(t *testing.T) {
	o := fastOptions()
	o.Version = "R82"
	o.Take = 91
	o.ClishRows = -1
	s := startSim(t, o)
	want := strings.Split(capture(t, "show-installer-packages/r82-lab-hotfixes-status-column.txt"), "\n")
	got := rawRun(t, s, s.Members()[0], "gw-a> ", "show installer packages installed")
	assert.Equal(t, "gw-a> show installer packages installed\n"+want[0]+"\n"+want[1]+"\n"+want[3]+"\ngw-a> ", got)
}

// TestInterfacesShapeIsSk20576: on an R80.20 cluster with four interfaces
// the interface lines and counts are those of the sk20576 layout.
func TestInterfacesShapeIsSk20576(t *testing.T) {
	o := fastOptions()
	o.Version = "R80.20"
	o.ClishRows = -1
	o.Interfaces = []Interface{
		{Name: "eth0", VIP: netip.MustParseAddr("192.168.3.55")}, {Name: "eth1", Sync: true},
		{Name: "eth2", VIP: netip.MustParseAddr("192.250.3.55")}, {Name: "eth3"},
	}
	s := startSim(t, o)
	got := rawRun(t, s, s.Members()[0], "gw-a> ", "cphaprob -a if")
	assert.Contains(t, got, "gw-a> cphaprob -a if\nCCP mode: Automatic\n"+capture(t, "cphaprob-a-if/sk20576-per-interface-ccp-layout.txt")+
		"\nVirtual cluster interfaces: 2\n\n"+
		"eth0           192.168.3.55    VMAC address: 00:1C:7F:00:36:70\n"+
		"eth2           192.250.3.55    VMAC address: 00:1C:7F:00:36:70\n\ngw-a> ")
}

// TestVSXStatShape: the fixed lines of `vsx stat -v` are the R80.10
// capture's, counts end at column 57 and table cells are separated at the
// capture's columns.
func TestVSXStatShape(t *testing.T) {
	o := fastOptions()
	o.VSX = true
	o.ClishRows = -1
	o.VirtualSystems = []VirtualSystem{{ID: 1, Name: "sw1-ext", Switch: true}, {ID: 3, Name: "fw1-userext"}}
	s := startSim(t, o)
	want := strings.Split(capture(t, "vsx-stat-v/r80.10-vsx-gateway-with-fw-ver.txt"), "\n")
	got := strings.Split(rawRun(t, s, s.Members()[0], "gw-a:0> ", "vsx stat -v"), "\n")
	require.Len(t, got, 26)
	body := got[1:]
	// want[5:] starts at "VSX Gateway Status".
	for i, w := range want[5 : 5+2] {
		assert.Equal(t, w, body[i])
	}
	assert.Equal(t, "Name:            gw-a", body[2])
	assert.Equal(t, want[8], body[3], "Access Control Policy")
	assert.Regexp(t, `^Installed at:    [ \d]\d[A-Z][a-z]{2}\d{4} [ \d]\d:\d{2}:\d{2}$`, body[4])
	assert.Equal(t, want[10], body[5])
	assert.Equal(t, want[11], body[6])
	assert.Equal(t, want[12], body[7])
	assert.Equal(t, want[13], body[8], "license count")
	assert.Equal(t, "Virtual Systems [active / configured]:                  1 / 1", body[9])
	assert.Equal(t, "Virtual Routers and Switches [active / configured]:     1 / 1", body[10])
	assert.Equal(t, want[16], body[11], "connections")
	for i := 12; i <= 17; i++ { // blank, heading, ====, blank, header, separator
		assert.Equal(t, want[i+5], body[i], "line %d", i)
	}
	pipes := func(l string) []int {
		var p []int
		for i, c := range l {
			if c == '|' {
				p = append(p, i)
			}
		}
		return p
	}
	assert.Equal(t, want[23], body[18], "the Virtual Switch row is the capture's row 1")
	assert.Equal(t, pipes(want[25]), pipes(body[19]), "Virtual System row")
	assert.Regexp(t, `^   3 \| S fw1-userext +\| Standard +\| [ \d]\d[A-Z][a-z]{2}\d{4} [ \d]\d:\d{2} \| Standard +\| Trust$`, body[19])
	assert.Equal(t, want[37:41], body[20:24], "legend and trailing blank line")
}
