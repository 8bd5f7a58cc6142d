package clavister

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/versionpath"
)

// readFixture returns testdata/<rel> (a copy of a shared fixture, see
// testdata/README.md).
func readFixture(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	require.NoError(t, err)
	return string(b)
}

const (
	fixtureHASlaveActive = "ha/admin-guide-14.00-slave-active.txt"
	fixtureHAStandalone  = "ha/radisys-seg100-standalone.txt"
	fixtureStats         = "stats/kb309987444-e80-screenshot-transcription.txt"
)

// TestParseHAFixtures: every shared `ha` capture parses to the facts its
// provenance row states (fixtures/README.md, Clavister rows).
func TestParseHAFixtures(t *testing.T) {
	tests := []struct {
		file string
		want HAStatus
	}{
		{fixtureHASlaveActive, HAStatus{
			Configured:  true,
			Role:        "slave",
			Active:      true,
			StateText:   "This device is currently ACTIVE (will forward traffic)",
			TimeInState: 430697 * time.Second,
			TimeKnown:   true,
			PeerAlive:   true,
		}},
		{fixtureHAStandalone, HAStatus{
			StateText: "This device is a standalone system (HA not configured)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseHA(readFixture(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestParseHAFixtureShapes re-frames the 14.00 capture the ways a session
// delivers it (clavister.md §2 and the "Known variations" list): CRLF, no
// prompt, the docs' prompt-then-command layout, other prompt shapes, a
// trailing prompt, a banner.
func TestParseHAFixtureShapes(t *testing.T) {
	capture := readFixture(t, fixtureHASlaveActive)
	body := strings.TrimPrefix(capture, "Device:/> ha\n")
	require.NotEqual(t, capture, body, "fixture starts with its prompt line")
	shapes := map[string]string{
		"CRLF line ends":                 strings.ReplaceAll(capture, "\n", "\r\n"),
		"no prompt line":                 body,
		"prompt and command on 2 lines":  "Device:/>\nha\n" + body,
		"prompt alone then output":       "Device:/> \n" + body,
		"hostname prompt":                "fw-a:/> ha\n" + body,
		"NetDefendOS prompt":             "gw-world:/> ha\n" + body,
		"context path prompt":            "Device:/RoutingTable/main> ha\n" + body,
		"trailing prompt":                capture + "Device:/> ",
		"banner before prompt":           "Welcome to the firewall\nAuthorized access only\nDevice:/> ha\n" + body,
		"blank lines and trailing space": "\n\nDevice:/> ha  \n\n" + strings.ReplaceAll(body, "\n", "  \n\n"),
		"tabs":                           strings.ReplaceAll(body, "\n", "\t\n"),
	}
	for name, out := range shapes {
		t.Run(name, func(t *testing.T) {
			got, err := ParseHA(out)
			require.NoError(t, err)
			assert.True(t, got.Configured)
			assert.Equal(t, "slave", got.Role)
			assert.True(t, got.Active)
			assert.Equal(t, 430697*time.Second, got.TimeInState)
			assert.True(t, got.PeerAlive)
			assert.False(t, got.SyncKnown)
		})
	}
}

// TestParseHAVariants are hand-written outputs of the documented wording
// variants (clavister.md §3; fixtures/README.md "Known variations"). No public
// capture exists for any of them.
func TestParseHAVariants(t *testing.T) {
	const v = "variant (documented, no capture): "
	tests := []struct {
		name string
		in   string
		want HAStatus
	}{
		{
			name: v + "14.00 wording, master inactive",
			in: "Device:/> ha\nThis device is a HA MASTER\nThis device is currently INACTIVE (will not forward traffic)\n" +
				"This device has been inactive: 12 sec\nHA cluster peer is ALIVE\n",
			want: HAStatus{Configured: true, Role: "master", StateText: "This device is currently INACTIVE (will not forward traffic)",
				TimeInState: 12 * time.Second, TimeKnown: true, PeerAlive: true},
		},
		{
			name: v + "14.00 wording, no time line, peer NOT ALIVE (guessed wording)",
			in:   "This device is a HA MASTER\nThis device is currently ACTIVE (will forward traffic)\nHA cluster peer is NOT ALIVE\n",
			want: HAStatus{Configured: true, Role: "master", Active: true, StateText: "This device is currently ACTIVE (will forward traffic)"},
		},
		{
			name: v + "14.00 wording plus sync line below 100%",
			in: "This device is a HA SLAVE\nThis device is currently INACTIVE (will not forward traffic)\n" +
				"This device has been inactive: 3 sec\nHA cluster peer is ALIVE\nHA object sync: 42%\n",
			want: HAStatus{Configured: true, Role: "slave", StateText: "This device is currently INACTIVE (will not forward traffic)",
				TimeInState: 3 * time.Second, TimeKnown: true, PeerAlive: true, SyncKnown: true, SyncPercent: 42},
		},
		{
			name: v + "newer wording, Active (for 48s), sync 100%",
			in:   "Device:/> ha\nThis device is an HA MASTER\nThis device is currently Active (for 48s)\nHA cluster peer is ALIVE\nHA object sync: 100%\n",
			want: HAStatus{Configured: true, Role: "master", Active: true, StateText: "This device is currently Active (for 48s)",
				TimeInState: 48 * time.Second, TimeKnown: true, PeerAlive: true, SyncKnown: true, SyncPercent: 100},
		},
		{
			name: v + "newer wording, Inactive (for 1m 12s), sync 0%",
			in:   "This device is an HA slave\nThis device is currently Inactive (for 1m 12s)\nHA cluster peer is ALIVE\nHA object sync: 0%\n",
			want: HAStatus{Configured: true, Role: "slave", StateText: "This device is currently Inactive (for 1m 12s)",
				TimeInState: 72 * time.Second, TimeKnown: true, PeerAlive: true, SyncKnown: true, SyncPercent: 0},
		},
		{
			name: v + "newer wording, bare state line Inactive (for 1m 12s)",
			in:   "This device is an HA SLAVE\nInactive (for 1m 12s)\nHA cluster peer is ALIVE\nHA object sync: 97 %\n",
			want: HAStatus{Configured: true, Role: "slave", StateText: "Inactive (for 1m 12s)",
				TimeInState: 72 * time.Second, TimeKnown: true, PeerAlive: true, SyncKnown: true, SyncPercent: 97},
		},
		{
			name: v + "compound duration with days and hours (inferred units)",
			in:   "This device is a HA MASTER\nThis device is currently Active (for 2d 3h 4m 5s)\nHA cluster peer is ALIVE\n",
			want: HAStatus{Configured: true, Role: "master", Active: true, StateText: "This device is currently Active (for 2d 3h 4m 5s)",
				TimeInState: 2*24*time.Hour + 3*time.Hour + 4*time.Minute + 5*time.Second, TimeKnown: true, PeerAlive: true},
		},
		{
			name: v + "state line without suffix, lower-case everything",
			in:   "this device is a ha master\nthis device is currently active\nha cluster peer is alive\n",
			want: HAStatus{Configured: true, Role: "master", Active: true, StateText: "this device is currently active", PeerAlive: true},
		},
		{
			name: v + "peer line missing: not alive",
			in:   "This device is a HA SLAVE\nThis device is currently INACTIVE (will not forward traffic)\n",
			want: HAStatus{Configured: true, Role: "slave", StateText: "This device is currently INACTIVE (will not forward traffic)"},
		},
		{
			name: v + "unknown peer wording: not alive",
			in:   "This device is a HA SLAVE\nThis device is currently INACTIVE\nHA cluster peer is DEAD\n",
			want: HAStatus{Configured: true, Role: "slave", StateText: "This device is currently INACTIVE"},
		},
		{
			name: v + "time line and equal (for …) suffix agree",
			in:   "This device is a HA SLAVE\nThis device is currently Active (for 1m)\nThis device has been active: 60 sec\nHA cluster peer is ALIVE\n",
			want: HAStatus{Configured: true, Role: "slave", Active: true, StateText: "This device is currently Active (for 1m)",
				TimeInState: time.Minute, TimeKnown: true, PeerAlive: true},
		},
		{
			name: v + "standalone one-liner, other wording",
			in:   "gw-world:/> ha\nHA not configured\n",
			want: HAStatus{StateText: "HA not configured"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHA(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestParseHAFailsClosed: every ambiguous or unknown output is a typed error,
// never a state.
func TestParseHAFailsClosed(t *testing.T) {
	const (
		role   = "This device is a HA MASTER\n"
		active = "This device is currently ACTIVE (will forward traffic)\n"
		peer   = "HA cluster peer is ALIVE\n"
	)
	tests := map[string]string{
		"empty":                          "",
		"white space only":               " \r\n\t\n",
		"prompt only":                    "Device:/> ha\nDevice:/> ",
		"banner only":                    "Welcome\n",
		"error line":                     "Device:/> ha\nError: Unknown command: ha\n",
		"unknown command line":           "Unknown command\n",
		"usage text":                     "Usage: ha [-activate|-deactivate]\n",
		"other command's output":         "Device:/> stats\n" + role + active + peer,
		"role missing":                   active + peer,
		"state missing":                  role + peer,
		"unknown role word":              "This device is a HA BACKUP\n" + active + peer,
		"role with trailing text":        "This device is a HA MASTER (primary)\n" + active + peer,
		"unknown state word":             role + "This device is currently STANDBY\n" + peer,
		"state word with punctuation":    role + "This device is currently ACTIVE, forwarding\n" + peer,
		"unknown state suffix":           role + "This device is currently ACTIVE (maybe)\n" + peer,
		"active but will not forward":    role + "This device is currently ACTIVE (will not forward traffic)\n" + peer,
		"inactive but will forward":      role + "This device is currently INACTIVE (will forward traffic)\n" + peer,
		"time line contradicts state":    role + active + "This device has been inactive: 5 sec\n" + peer,
		"time line unknown word":         role + active + "This device has been standby: 5 sec\n" + peer,
		"time line bad duration":         role + active + "This device has been active: five sec\n" + peer,
		"two different times":            role + "This device is currently Active (for 48s)\nThis device has been active: 49 sec\n" + peer,
		"bad (for) duration":             role + "This device is currently Active (for ever)\n" + peer,
		"empty (for) duration":           role + "This device is currently Active (for )\n" + peer,
		"duration too long":              role + "This device is currently Active (for 999999d 99999999h)\n" + peer,
		"second role line same":          role + role + active + peer,
		"second role line other":         role + "This device is a HA SLAVE\n" + active + peer,
		"second state line":              role + active + "This device is currently INACTIVE\n" + peer,
		"second peer line":               role + active + peer + "HA cluster peer is NOT ALIVE\n",
		"second time line":               role + active + "This device has been active: 1 sec\nThis device has been active: 1 sec\n" + peer,
		"sync above 100":                 role + active + peer + "HA object sync: 101%\n",
		"sync not a number":              role + active + peer + "HA object sync: high\n",
		"sync negative":                  role + active + peer + "HA object sync: -1%\n",
		"sync without percent":           role + active + peer + "HA object sync: 50\n",
		"second sync line":               role + active + peer + "HA object sync: 100%\nHA object sync: 100%\n",
		"standalone plus HA lines":       "This device is a standalone system (HA not configured)\n" + role + active + peer,
		"two standalone lines":           "HA not configured\nHA not configured\n",
		"unknown This device line":       role + active + "This device is rebooting\n" + peer,
		"unknown line mentioning master": role + active + peer + "Master unit: fw-a\n",
		"unknown line mentioning sync":   role + active + peer + "Sync interface: down\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseHA(in)
			require.Error(t, err, "parsed as %+v", got)
			assert.Equal(t, HAStatus{}, got)
			assert.ErrorIs(t, err, ErrUnrecognized)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "ha", pe.Command)
			assert.NotEmpty(t, pe.Reason)
			assert.Equal(t, in, pe.Output)
			assert.Contains(t, err.Error(), pe.Reason)
		})
	}
}

// TestParseHABannerSkipped: unrelated lines are skipped; "Inactive" is never
// read as active (anchored state word).
func TestParseHABannerSkipped(t *testing.T) {
	got, err := ParseHA("Clavister cOS Core\nDevice:/> ha\nThis device is a HA SLAVE\n" +
		"This device is currently INACTIVE (will not forward traffic)\nHA cluster peer is ALIVE\n")
	require.NoError(t, err)
	assert.False(t, got.Active)
	assert.Equal(t, "slave", got.Role)
}

func TestParseErrorOutputCut(t *testing.T) {
	long := strings.Repeat("é", 400) + "\nError: boom\n" // 800+ bytes, 2-byte runes
	_, err := ParseHA(long)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.LessOrEqual(t, len(pe.Output), maxErrorOutput)
	assert.True(t, strings.HasPrefix(long, pe.Output))
	assert.Equal(t, strings.Repeat("é", 256), pe.Output)
}

func TestParseStatsFixture(t *testing.T) {
	got, err := ParseStats(readFixture(t, fixtureStats))
	require.NoError(t, err)
	assert.Equal(t, time.Hour+21*time.Second, got.Uptime)
	// The capture is cut off in the screenshot; the researcher's
	// "<- cut off in screenshot" note is tolerated, not interpreted.
	assert.True(t, strings.HasPrefix(got.LastEvent, "2019-08-12 14:01:18: Restar"), got.LastEvent)
	assert.Equal(t, 8, got.ConnectionsActive)
	assert.Equal(t, 256000, got.ConnectionsMax)
}

func TestParseStatsVariants(t *testing.T) {
	const v = "variant (documented, no capture): "
	tests := []struct {
		name string
		in   string
		want Stats
	}{
		{
			name: v + "REST last_event text, dossier connection count, CRLF",
			in: "fw-a:/> stats\r\nUptime             : 12 days, 23:59:59\r\n" +
				"Last Event         : 2018-02-06 18:23:49: Firmware upgrade request from WebUI by admin (192.168.1.11).\r\n" +
				"CPU Load           : 14%\r\nConnections        : 2726 out of 128000\r\n",
			want: Stats{Uptime: 12*24*time.Hour + 23*time.Hour + 59*time.Minute + 59*time.Second,
				LastEvent:         "2018-02-06 18:23:49: Firmware upgrade request from WebUI by admin (192.168.1.11).",
				ConnectionsActive: 2726, ConnectionsMax: 128000},
		},
		{
			name: v + "1 day, no Last Event line",
			in:   "Uptime : 1 day, 00:00:05\nConnections : 0 out of 256000\n",
			want: Stats{Uptime: 24*time.Hour + 5*time.Second, ConnectionsMax: 256000},
		},
		{
			name: v + "clock-only uptime",
			in:   "Uptime : 00:00:03\nConnections : 1 out of 2\n",
			want: Stats{Uptime: 3 * time.Second, ConnectionsActive: 1, ConnectionsMax: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStats(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseStatsFailsClosed(t *testing.T) {
	const up, conns = "Uptime : 0 days, 01:00:21\n", "Connections : 8 out of 256000\n"
	tests := map[string]string{
		"empty":               "",
		"error line":          "Device:/> stats\nError: Unknown command: stats\n",
		"other command":       "Device:/> ha\n" + up + conns,
		"uptime missing":      conns,
		"connections missing": up,
		"bad uptime":          "Uptime : forever\n" + conns,
		"uptime minutes 60":   "Uptime : 0 days, 01:60:00\n" + conns,
		"uptime hours 24":     "Uptime : 1 days, 24:00:00\n" + conns,
		"bad connections":     up + "Connections : 8 of 256000\n",
		"uptime twice":        up + up + conns,
		"connections twice":   up + conns + conns,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseStats(in)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnrecognized)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "stats", pe.Command)
		})
	}
}

func TestParseAbout(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// The SNMP sysDescr strings are verbatim (fixtures/README.md "Inline
		// verbatim strings"); the `about` shapes are unverified guesses.
		{"sysDescr cOS Core", "Clavister cOS Core 10.21.02.01-25325", "10.21.02.01-25325"},
		{"sysDescr CorePlus TP", "Clavister CorePlus 9.30.08.21-22257 TP", "9.30.08.21-22257 TP"},
		{"sysDescr CorePlus", "Clavister CorePlus 9.30.04.10-18175", "9.30.04.10-18175"},
		{"about-style (unverified)", "fw-a:/> about\nClavister cOS Core 14.00.09.00-31234\nCopyright Clavister AB.\n", "14.00.09.00-31234"},
		{"no build", "cos core 14.00.10\n", "14.00.10"},
		{"same version twice", "cOS Core 14.00.10-1 (cOS Core 14.00.10-1)", "14.00.10-1"},
		{"TP must be a word", "cOS Core 14.00.10-1 TPM enabled", "14.00.10-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAbout(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.String())
		})
	}
	for name, in := range map[string]string{
		"empty":                       "",
		"no version":                  "Clavister cOS Stream 4.00.02\n",
		"two versions":                "cOS Core 14.00.10-1\ncOS Core 14.00.09-1\n",
		"malformed version":           "cOS Core 14.000.10\n",
		"version runs on":             "cOS Core 14.00.10.01.99\n",
		"build too long":              "cOS Core 14.00.10-1234567890\n",
		"prompt, no version":          "Device:/> about\n",
		"unknown command only":        "Error: Unknown command: about\n",
		"error line beside a version": "Clavister cOS Core 14.00.10\nError: license expired\n",
	} {
		t.Run("error/"+name, func(t *testing.T) {
			_, err := ParseAbout(in)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnrecognized)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "about", pe.Command)
		})
	}
}

func TestParseAboutWrapsVersionError(t *testing.T) {
	_, err := ParseAbout("cOS Core 14.000.10")
	require.Error(t, err)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.NotNil(t, errors.Unwrap(err), "cause kept")
	assert.ErrorIs(t, err, versionpath.ErrMalformed)
	assert.ErrorIs(t, err, ErrUnrecognized)
}

// TestParseHAUnhealthyLinesAfterStatus: a healthy capture followed by a line in an unknown
// wording that could mean "not healthy" must not parse as healthy (fail closed). Before the
// first status line such text would be a banner; after it, nothing unknown is skipped.
func TestParseHAUnhealthyLinesAfterStatus(t *testing.T) {
	capture := readFixture(t, fixtureHASlaveActive)
	healthy, err := ParseHA(capture)
	require.NoError(t, err)
	require.True(t, healthy.Configured && healthy.PeerAlive)
	for _, extra := range []string{
		"HA object synchronization: 42%",
		"Synchronizing configuration: 10%",
		"Cluster NOT synchronized",
		"Heartbeats lost on interface If3",
		"Failover in progress",
		"Progress: 42%", // no keyword at all: refused because it follows the status
		"Peer unit is dead",
		"Sync link down",
	} {
		for _, in := range []string{
			strings.TrimRight(capture, "\n") + "\n" + extra + "\n",
			strings.Replace(capture, "HA cluster peer is ALIVE", extra+"\nHA cluster peer is ALIVE", 1),
		} {
			got, err := ParseHA(in)
			var pe *ParseError
			require.ErrorAs(t, err, &pe, "%q parsed as %+v", extra, got)
			assert.ErrorIs(t, err, ErrUnrecognized)
			assert.Equal(t, "ha", pe.Command)
			assert.Contains(t, pe.Reason, extra)
			assert.Equal(t, HAStatus{}, got)
		}
	}
	// A standalone line followed by unknown text fails closed too.
	_, err = ParseHA(readFixture(t, fixtureHAStandalone) + "Progress: 42%\n")
	require.ErrorIs(t, err, ErrUnrecognized)
	// Unrelated text before the status is still a banner.
	_, err = ParseHA("Welcome to fw-a\n" + capture)
	require.NoError(t, err)
}
