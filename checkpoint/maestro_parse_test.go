package checkpoint

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fixtures of the Maestro parsers. fixtureASGStat is the only capture; the
// files under testdata/maestro are hand-written (see its README.md).
const (
	fixtureASGStat        = "asg-stat-v/r76sp.10-61k-vsx-flattened.txt"
	maestroASGTwoSite     = "maestro/asg-stat-v/r81.20-two-site-8-sgm.txt"
	maestroASGVSX         = "maestro/asg-stat-v/r81.20-vsx-mvc-ready.txt"
	maestroGAllMixed      = "maestro/g_all/fw-ver-mixed-versions.txt"
	maestroBonds          = "maestro/proc-net-bonding/lacp-and-active-backup.txt"
	maestroAutoCloneOn    = "maestro/auto-clone/on.txt"
	maestroAutoCloneOff   = "maestro/auto-clone/off.txt"
	maestroVerifierOK     = "maestro/migrate_server-verify/success.txt"
	maestroVerifierFailed = "maestro/migrate_server-verify/failure.txt"
	maestroAsset          = "maestro/show-asset-system/mho-140.txt"
)

// maestroFixtures returns the hand-written files under testdata/maestro,
// keyed by their path relative to testdata.
func maestroFixtures(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "maestro", "*", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]string{}
	for _, name := range files {
		rel, err := filepath.Rel("testdata", name)
		require.NoError(t, err)
		out[filepath.ToSlash(rel)] = readFixture(t, filepath.ToSlash(rel))
	}
	return out
}

func sgm(id string, site, n int, local bool, state string, admin bool, proc, policy string) SGMStatus {
	return SGMStatus{ID: id, Site: site, Number: n, Local: local, State: state, Admin: admin, Process: proc, Policy: policy}
}

func TestParseASGStatCapture(t *testing.T) {
	in := readFixture(t, fixtureASGStat)
	for name, text := range map[string]string{"as copied": in, "CRLF": strings.ReplaceAll(in, "\n", "\r\n"),
		"with prompt and echo": "[Expert@ch01-01:0]# asg stat -v\n" + in + "\n[Expert@ch01-01:0]# "} {
		t.Run(name, func(t *testing.T) {
			st, err := ParseASGStat(text)
			require.NoError(t, err)
			assert.Equal(t, ASGStat{
				VSX: true, VSID: 0, VSName: "Athens",
				Sites: []ASGSite{{Kind: "Chassis", ID: 1, State: "STANDBY"}, {Kind: "Chassis", ID: 2, State: "ACTIVE"}},
				SGMs: []SGMStatus{
					sgm("1_1", 1, 1, true, SGMUp, false, ProcessEnforcing, "09Jan14 11:30"),
					sgm("1_2", 1, 2, false, SGMUp, false, ProcessEnforcing, "09Jan14 11:30"),
					sgm("1_3", 1, 3, false, SGMDown, false, ProcessInactive, "NA"),
					sgm("1_4", 1, 4, false, SGMUp, false, ProcessEnforcing, "09Jan14 11:30"),
				},
				Truncated: true,
			}, st)
			s, ok := st.SGM("1_01")
			require.True(t, ok)
			assert.True(t, s.Local)
			assert.True(t, s.Forwarding())
			s, ok = st.SGM("1_3")
			require.True(t, ok)
			assert.False(t, s.Forwarding())
			_, ok = st.SGM("2_1")
			assert.False(t, ok, "truncated: chassis 2 rows are not listed")
			_, ok = st.SGM("x")
			assert.False(t, ok)
		})
	}
}

func TestParseASGStatMaestroVariants(t *testing.T) {
	const v = "variant (hand-written): "
	t.Run(v+"two sites, 8 SGMs, one DOWN (admin), one DOWN", func(t *testing.T) {
		st, err := ParseASGStat(readFixture(t, maestroASGTwoSite))
		require.NoError(t, err)
		assert.True(t, st.Maestro)
		assert.False(t, st.VSX)
		assert.False(t, st.Truncated)
		assert.Equal(t, "R81.20 (Build 631)", st.Version)
		assert.Equal(t, []ASGSite{{"Site", 1, "ACTIVE"}, {"Site", 2, "ACTIVE"}}, st.Sites)
		require.Len(t, st.SGMs, 8)
		assert.Equal(t, sgm("1_1", 1, 1, true, SGMUp, false, ProcessEnforcing, "02Dec26 10:00"), st.SGMs[0])
		assert.Equal(t, sgm("1_3", 1, 3, false, SGMDown, true, ProcessInactive, "02Dec26 10:00"), st.SGMs[2])
		assert.Equal(t, sgm("1_4", 1, 4, false, SGMDown, false, ProcessInactive, "NA"), st.SGMs[3])
		assert.Equal(t, sgm("2_4", 2, 4, false, SGMUp, false, ProcessEnforcing, "02Dec26 10:00"), st.SGMs[7])
		var fwd []string
		for _, s := range st.SGMs {
			if s.Forwarding() {
				fwd = append(fwd, s.ID)
			}
		}
		assert.Equal(t, []string{"1_1", "1_2", "2_1", "2_2", "2_3", "2_4"}, fwd)
	})
	t.Run(v+"VSX Maestro, zero-padded ids, Ready and Initializing", func(t *testing.T) {
		st, err := ParseASGStat(readFixture(t, maestroASGVSX))
		require.NoError(t, err)
		assert.True(t, st.Maestro)
		assert.True(t, st.VSX)
		assert.Equal(t, 0, st.VSID)
		assert.Equal(t, "sg-vsx", st.VSName)
		assert.Equal(t, "R81.20 (Build 631)", st.Version)
		assert.Equal(t, []SGMStatus{
			sgm("1_1", 1, 1, true, SGMUp, false, ProcessEnforcing, "02Dec26 10:00"),
			sgm("1_2", 1, 2, false, SGMUp, false, ProcessEnforcing, "02Dec26 10:00"),
			sgm("1_3", 1, 3, false, SGMUp, false, ProcessReady, "NA"),
			sgm("1_4", 1, 4, false, SGMUp, false, ProcessInitializing, "NA"),
		}, st.SGMs)
		assert.False(t, st.SGMs[2].Forwarding())
		assert.False(t, st.SGMs[3].Forwarding())
	})
	t.Run(v+"plain System Status, no frame, ANSI and pager noise", func(t *testing.T) {
		st, err := ParseASGStat("System Status\n\x1b[1mSite 2 DOWN\x1b[0m\n--More--\r        \r2_1 DOWN Inactive NA\n")
		require.NoError(t, err)
		assert.False(t, st.Maestro)
		assert.Equal(t, []ASGSite{{"Site", 2, "DOWN"}}, st.Sites)
		assert.Equal(t, []SGMStatus{sgm("2_1", 2, 1, false, SGMDown, false, ProcessInactive, "NA")}, st.SGMs)
	})
	t.Run(v+"unknown header key ignored, truncated in the middle", func(t *testing.T) {
		st, err := ParseASGStat("| System Status - Maestro |\n| Some Future Key | 42 |\n| Site 1 ACTIVE |\n| 1_1 UP Enforcing Security 2Dec26 9:05 |\n...\n| 1_2 UP Inactive NA |\n")
		require.NoError(t, err)
		assert.True(t, st.Truncated)
		assert.Equal(t, "", st.Version)
		require.Len(t, st.SGMs, 2)
		assert.Equal(t, "2Dec26 9:05", st.SGMs[0].Policy)
	})
}

func TestParseASGStatFailsClosed(t *testing.T) {
	const hdr = "| System Status - Maestro |\n| Site 1 ACTIVE |\n"
	tests := map[string]string{
		"empty":                              "",
		"prompt only":                        "[Expert@sg:0]# asg stat -v\n[Expert@sg:0]#\n",
		"no header":                          "| Site 1 ACTIVE |\n| 1_1 UP Enforcing Security 02Dec26 10:00 |\n",
		"row before the header":              "hello\n" + hdr + "| 1_1 UP Enforcing Security 02Dec26 10:00 |\n",
		"second header":                      hdr + "| System Status |\n| 1_1 UP Enforcing Security 02Dec26 10:00 |\n",
		"SGM row before any section":         "| System Status - Maestro |\n| 1_1 UP Enforcing Security 02Dec26 10:00 |\n",
		"unknown state":                      hdr + "| 1_1 SLEEPING Enforcing Security 02Dec26 10:00 |\n",
		"lower-case state":                   hdr + "| 1_1 up Enforcing Security 02Dec26 10:00 |\n",
		"unknown process":                    hdr + "| 1_1 UP Dancing 02Dec26 10:00 |\n",
		"no process":                         hdr + "| 1_1 UP NA |\n",
		"no state":                           hdr + "| 1_1 (local) |\n",
		"duplicate SGM id":                   hdr + "| 1_1 UP Enforcing Security 02Dec26 10:00 |\n| 1_01 UP Enforcing Security 02Dec26 10:00 |\n",
		"duplicate bare number":              "| System Status |\n| Chassis 1 ACTIVE |\n| 1 UP Inactive NA |\n| 1 UP Inactive NA |\n",
		"malformed policy date":              hdr + "| 1_1 UP Enforcing Security 02Dek26 10:00 |\n",
		"policy day 32":                      hdr + "| 1_1 UP Enforcing Security 32Dec26 10:00 |\n",
		"policy time 24:00":                  hdr + "| 1_1 UP Enforcing Security 02Dec26 24:00 |\n",
		"policy date without time":           hdr + "| 1_1 UP Enforcing Security 02Dec26 |\n",
		"no SGM rows":                        hdr,
		"no SGM rows, truncated":             hdr + "...\n",
		"unknown site state":                 "| System Status - Maestro |\n| Site 1 SLEEPING |\n| 1_1 UP Inactive NA |\n",
		"site 0":                             "| System Status - Maestro |\n| Site 0 ACTIVE |\n| 0_1 UP Inactive NA |\n",
		"site listed twice":                  hdr + "| 1_1 UP Inactive NA |\n| Site 1 ACTIVE |\n",
		"site and chassis mixed":             hdr + "| 1_1 UP Inactive NA |\n| Chassis 2 ACTIVE |\n",
		"SGM under another site":             hdr + "| 2_1 UP Inactive NA |\n",
		"SGM number 0":                       hdr + "| 1_0 UP Inactive NA |\n",
		"bare SGM number 0":                  "| System Status |\n| Chassis 1 ACTIVE |\n| 0 UP Inactive NA |\n",
		"bad SGM id":                         hdr + "| 1_1_1 UP Inactive NA |\n",
		"admin after UP":                     hdr + "| 1_1 UP (admin) Inactive NA |\n",
		"two local rows":                     hdr + "| 1_1 (local) UP Inactive NA |\n| 1_2 (local) UP Inactive NA |\n",
		"unknown row":                        hdr + "| 1_1 UP Inactive NA |\n| Chassis Parameters |\n",
		"header row after the first section": hdr + "| Version | R81.20 |\n| 1_1 UP Inactive NA |\n",
		"three-cell row":                     "| System Status - Maestro |\n| a | b | c |\n| Site 1 ACTIVE |\n| 1_1 UP Inactive NA |\n",
		"empty Version":                      "| System Status - Maestro |\n| Version | |\n| Site 1 ACTIVE |\n| 1_1 UP Inactive NA |\n",
		"two Versions":                       "| System Status - Maestro |\n| Version | R81.20 |\n| Version | R82 |\n| Site 1 ACTIVE |\n| 1_1 UP Inactive NA |\n",
		"VS row without VSX":                 "| System Status - Maestro |\n| VS ID: 0 VS Name: a |\n| Site 1 ACTIVE |\n| 1_1 UP Inactive NA |\n",
		"VS row twice":                       "| VSX System Status |\n| VS ID: 0 VS Name: a |\n| VS ID: 1 VS Name: b |\n| Site 1 ACTIVE |\n| 1_1 UP Inactive NA |\n",
		"other command's output":             readFixture(t, fixtureStateClish),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseASGStat(in)
			requireParseError(t, err, whatASGStat, ErrUnrecognized)
			assert.Equal(t, ASGStat{}, got)
		})
	}
}

func TestParseSGMID(t *testing.T) {
	for in, want := range map[string][3]any{"1_1": {"1_1", 1, 1}, "1_01": {"1_1", 1, 1}, " 02_010 ": {"2_10", 2, 10}} {
		id, site, n, err := ParseSGMID(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, [3]any{id, site, n}, in)
	}
	for _, in := range []string{"", "1", "1_", "_1", "0_1", "1_0", "a_b", "1_1_1", "1-1", "1234_1", "1_1 " + "x"} {
		id, site, n, err := ParseSGMID(in)
		requireParseError(t, err, whatSGMID, ErrUnrecognized)
		assert.Equal(t, [3]any{"", 0, 0}, [3]any{id, site, n}, in)
	}
	assert.Equal(t, "1_1,1_2,2_10", JoinSGMIDs([]string{"1_01", "1_2", "2_010"}))
	assert.Equal(t, "", JoinSGMIDs(nil))
	assert.Equal(t, "1_1,all", JoinSGMIDs([]string{"1_1", " all "}))
}

func TestParseGAll(t *testing.T) {
	t.Run("variant (hand-written): mixed versions", func(t *testing.T) {
		blocks, err := ParseGAll(readFixture(t, maestroGAllMixed))
		require.NoError(t, err)
		assert.Equal(t, []GAllBlock{
			{SGMs: []string{"1_1", "1_2", "1_3", "2_1", "2_2", "2_3"}, Output: "This is Check Point's software version R81.20 - Build 631"},
			{SGMs: []string{"1_4", "2_4"}, Output: "This is Check Point's software version R82 - Build 777"},
		}, blocks)
		v, err := ParseVersion(blocks[1].Output)
		require.NoError(t, err)
		assert.Equal(t, "R82", v.Release)
		assert.Equal(t, "777", v.Build)
	})
	tests := []struct {
		name string
		in   string
		want []GAllBlock
	}{
		{"empty", "", nil},
		{"only prompt and echo (no SGM answered)", "[Expert@sg:0]# g_all fw ver\n[Expert@sg:0]# \n", nil},
		{"bare echo line", "g_all cphaconf mvc on\n\n", nil},
		{"one blade, CRLF, inner blank line kept", "-*- 1 blade: 1_04 -*-\r\n\r\nline 1\r\n\r\nline 2\r\n\r\n",
			[]GAllBlock{{SGMs: []string{"1_4"}, Output: "line 1\n\nline 2"}}},
		{"empty block (command prints nothing)", "-*- 2 blades: 1_01 2_01 -*-\n",
			[]GAllBlock{{SGMs: []string{"1_1", "2_1"}}}},
	}
	for _, tt := range tests {
		t.Run("variant (hand-written): "+tt.name, func(t *testing.T) {
			got, err := ParseGAll(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseGAllFailsClosed(t *testing.T) {
	tests := map[string]string{
		"text before the first banner": "hello\n-*- 1 blade: 1_01 -*-\nx\n",
		"no banner at all":             "This is Check Point's software version R81.20 - Build 631\n",
		"count too high":               "-*- 3 blades: 1_01 1_02 -*-\nx\n",
		"count too low":                "-*- 1 blade: 1_01 1_02 -*-\nx\n",
		"no ids":                       "-*- 0 blades: -*-\nx\n",
		"bad id":                       "-*- 1 blade: 1-01 -*-\nx\n",
		"id 0_1":                       "-*- 1 blade: 0_01 -*-\nx\n",
		"duplicate in one banner":      "-*- 2 blades: 1_01 1_1 -*-\nx\n",
		"duplicate across banners":     "-*- 1 blade: 1_01 -*-\nx\n-*- 1 blade: 1_01 -*-\ny\n",
		"malformed banner":             "-*- 1 blade: 1_01\nx\n",
		"malformed banner later":       "-*- 1 blade: 1_01 -*-\nx\n-*- blades 1_02 -*-\n",
		"other command's output":       readFixture(t, fixtureStateClish),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseGAll(in)
			requireParseError(t, err, whatGAll, ErrUnrecognized)
			assert.Nil(t, got)
		})
	}
}

func TestParseBondModes(t *testing.T) {
	got, err := ParseBondModes(readFixture(t, maestroBonds))
	require.NoError(t, err)
	assert.Equal(t, []Bond{
		{Name: "bond1", Mode: "IEEE 802.3ad Dynamic link aggregation", LACP: true},
		{Name: "bond2", Mode: "fault-tolerance (active-backup)"},
	}, got)
	for name, in := range map[string]string{"empty": "", "prompt only": "[Expert@sg:0]# grep -H 'Bonding Mode' /proc/net/bonding/* 2>/dev/null; true\n[Expert@sg:0]#\n"} {
		got, err := ParseBondModes(in)
		require.NoError(t, err, name)
		assert.Nil(t, got, name)
	}
	bad := map[string]string{
		"unknown mode":           "/proc/net/bonding/bond1:Bonding Mode: quantum entanglement\n",
		"empty mode":             "/proc/net/bonding/bond1:Bonding Mode:\n",
		"bond listed twice":      "/proc/net/bonding/bond1:Bonding Mode: IEEE 802.3ad Dynamic link aggregation\n/proc/net/bonding/bond1:Bonding Mode: fault-tolerance (active-backup)\n",
		"grep error":             "grep: /proc/net/bonding/*: No such file or directory\n",
		"no file name":           "Bonding Mode: fault-tolerance (active-backup)\n",
		"other command's output": readFixture(t, fixtureStateClish),
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			got, err := ParseBondModes(in)
			requireParseError(t, err, whatBonds, ErrUnrecognized)
			assert.Nil(t, got)
		})
	}
}

func TestParseAutoClone(t *testing.T) {
	on, err := ParseAutoClone(readFixture(t, maestroAutoCloneOn))
	require.NoError(t, err)
	assert.True(t, on)
	on, err = ParseAutoClone(readFixture(t, maestroAutoCloneOff))
	require.NoError(t, err)
	assert.False(t, on)
	on, err = ParseAutoClone("Image auto-clone state: ON\r\nImage auto-clone state: on\r\n")
	require.NoError(t, err)
	assert.True(t, on)
	bad := map[string]string{
		"empty":                  "",
		"prompt only":            "sg1> show cluster configuration image auto-clone state\nsg1> \n",
		"contradiction":          "Image auto-clone state: on\nImage auto-clone state: off\n",
		"unknown value":          "Image auto-clone state: maybe\n",
		"other line":             "Image auto-clone state: on\nCLINFR0409 Invalid command\n",
		"other command's output": readFixture(t, fixtureStateClish),
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			got, err := ParseAutoClone(in)
			requireParseError(t, err, whatAutoClone, ErrUnrecognized)
			assert.False(t, got)
		})
	}
}

func TestParseVerifier(t *testing.T) {
	r, err := ParseVerifier(readFixture(t, maestroVerifierOK))
	require.NoError(t, err)
	assert.Equal(t, VerifierReport{OK: true, Text: "Verifying the configuration for upgrade to R82...\nChecking SGM 1_1 ... done\nChecking SGM 1_2 ... done\nVerification succeeded."}, r)

	r, err = ParseVerifier(readFixture(t, maestroVerifierFailed))
	require.NoError(t, err)
	assert.False(t, r.OK)
	assert.Equal(t, []string{"Not enough free disk space on SGM 1_2 (/var/log)", "Unsupported blade configuration on SGM 2_1"}, r.Errors)
	assert.Contains(t, r.Text, "Verification failed.")
	assert.NotContains(t, r.Text, "migrate_server")

	r, err = ParseVerifier("Error: something\nVerification succeeded.\n")
	require.NoError(t, err)
	assert.False(t, r.OK, "an Error: line beats the success line")
	assert.Equal(t, []string{"something"}, r.Errors)

	bad := map[string]string{
		"empty":                  "",
		"progress only":          "Verifying...\n",
		"failed without Error":   "Verification failed.\n",
		"success and failure":    "Verification succeeded.\nVerification failed.\n",
		"failure then success":   "Error: x\nVerification failed.\nVerification succeeded.\n",
		"other command's output": readFixture(t, fixtureStateClish),
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			got, err := ParseVerifier(in)
			requireParseError(t, err, whatVerifier, ErrUnrecognized)
			assert.Equal(t, VerifierReport{}, got)
		})
	}
}

func TestParseAssetModel(t *testing.T) {
	m, err := ParseAssetModel(readFixture(t, maestroAsset))
	require.NoError(t, err)
	assert.Equal(t, "MHO-140", m)
	m, err = ParseAssetModel("Model:   MHO-175 \r\nModel: MHO-175\r\n")
	require.NoError(t, err)
	assert.Equal(t, "MHO-175", m)
	bad := map[string]string{
		"empty":                  "",
		"no Model":               "Platform: Maestro Orchestrator\n",
		"empty Model":            "Model:\n",
		"two Models":             "Model: MHO-140\nModel: MHO-175\n",
		"other command's output": readFixture(t, fixtureStateClish),
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			got, err := ParseAssetModel(in)
			requireParseError(t, err, whatAsset, ErrUnrecognized)
			assert.Equal(t, "", got)
		})
	}
}

// TestMaestroParsersAgainstEveryFile: each Maestro parser reads its own
// files (captures and hand-written variants) and refuses every capture and
// variant of another command with a typed error.
func TestMaestroParsersAgainstEveryFile(t *testing.T) {
	files := allFixtures(t)
	for k, v := range maestroFixtures(t) {
		files[k] = v
	}
	parsers := map[string]struct {
		what  string
		parse func(string) error
		reads func(file string) bool
	}{
		"asg": {whatASGStat, func(s string) error { _, err := ParseASGStat(s); return err },
			func(f string) bool { return f == fixtureASGStat || strings.HasPrefix(f, "maestro/asg-stat-v/") }},
		"gall": {whatGAll, func(s string) error { _, err := ParseGAll(s); return err },
			func(f string) bool { return strings.HasPrefix(f, "maestro/g_all/") }},
		"bonds": {whatBonds, func(s string) error { _, err := ParseBondModes(s); return err },
			func(f string) bool { return strings.HasPrefix(f, "maestro/proc-net-bonding/") }},
		"autoclone": {whatAutoClone, func(s string) error { _, err := ParseAutoClone(s); return err },
			func(f string) bool { return strings.HasPrefix(f, "maestro/auto-clone/") }},
		"verifier": {whatVerifier, func(s string) error { _, err := ParseVerifier(s); return err },
			func(f string) bool { return strings.HasPrefix(f, "maestro/migrate_server-verify/") }},
		"asset": {whatAsset, func(s string) error { _, err := ParseAssetModel(s); return err },
			func(f string) bool { return strings.HasPrefix(f, "maestro/show-asset-system/") }},
	}
	readme := readFixture(t, "maestro/README.md")
	for file, text := range files {
		if strings.HasPrefix(file, "maestro/") {
			assert.Contains(t, readme, "`"+strings.TrimPrefix(file, "maestro/")+"`", "maestro/README.md lists %s", file)
		}
		for name, p := range parsers {
			err := p.parse(text)
			if p.reads(file) {
				assert.NoError(t, err, "%s on %s", name, file)
				continue
			}
			requireParseError(t, err, p.what, ErrUnrecognized)
		}
	}
}
