package checkpoint

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/versionpath"
)

const (
	fixtureTake122    = "cpinfo-y-all/r81.20-take-122.txt"
	fixtureTake25     = "cpinfo-y-all/r81-mds-take-25-grep-cut.txt"
	fixtureTakeLegacy = "cpinfo-y-all/r80.20-legacy-jhf-t118-in-name.txt"
	fixtureCPUSEType  = "show-installer-packages/r82-lab-hotfixes-type-column.txt"
	fixtureCPUSEStat  = "show-installer-packages/r82-lab-hotfixes-status-column.txt"
)

func TestParseJumboTakeFixtures(t *testing.T) {
	tests := []struct {
		file string
		want Take
	}{
		{fixtureTake122, Take{Number: 122, Release: "R81.20", Hotfixes: []string{
			"HOTFIX_R81_20_JUMBO_HF_MAIN", "HOTFIX_INEXT_NANO_EGG_AUTOUPDATE", "HOTFIX_GOT_MGMT_AUTOUPDATE",
			"HOTFIX_CLOUDGUARD_CONTROLLER_R81_20_AUTOUPDATE", "BUNDLE_R81_20_JUMBO_HF_MAIN",
		}}},
		{fixtureTake25, Take{Number: 25, Release: "R81", Hotfixes: []string{"HOTFIX_R81_JUMBO_HF_MAIN"}}},
		{fixtureTakeLegacy, Take{Number: 118, Release: "R80.20", Hotfixes: []string{"HOTFIX_R80_20_JHF_T118_EQ_251_MAIN"}}},
		{fixtureCPUSEType, Take{Number: 91, Release: "R82", Hotfixes: []string{
			"R82 Jumbo Hotfix Accumulator Recommended Jumbo Take 60",
			"R82 Jumbo Hotfix Accumulator Recommended Jumbo Take 91",
		}}},
		{fixtureCPUSEStat, Take{Number: 91, Release: "R82", Hotfixes: []string{
			"R82 Jumbo Hotfix Accumulator Recommended Jumbo Take 60",
			"R82 Jumbo Hotfix Accumulator Recommended Jumbo Take 91",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseJumboTake(readFixture(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			v, err := got.ReleaseVersion()
			require.NoError(t, err)
			assert.Equal(t, tt.want.Release, v.String())
		})
	}
}

// TestParseJumboTakeFixtureShapes: the grep/cut capture's bare outputs, the
// real device's TAB layout, CRLF.
func TestParseJumboTakeFixtureShapes(t *testing.T) {
	capture := readFixture(t, fixtureTake25)
	i := strings.LastIndex(capture, "[Expert@")
	require.Positive(t, i)
	cutPart := capture[i:] // the `| cut -d " " -f 3` run: banner and the bare take
	got, err := ParseJumboTake(cutPart)
	require.NoError(t, err)
	assert.Equal(t, Take{Number: 25}, got, "the bare number of the cut pipeline, no release")

	shapes := map[string]Take{
		"Take: 25": {Number: 25},
		"25\n":     {Number: 25},
		"\tHOTFIX_R81_JUMBO_HF_MAIN\tTake:  25\n": {Number: 25, Release: "R81", Hotfixes: []string{"HOTFIX_R81_JUMBO_HF_MAIN"}},
		strings.ReplaceAll(capture, "\n", "\r\n"): {Number: 25, Release: "R81", Hotfixes: []string{"HOTFIX_R81_JUMBO_HF_MAIN"}},
		strings.ReplaceAll(readFixture(t, fixtureTake122), "        ", "\t"): {Number: 122, Release: "R81.20", Hotfixes: []string{
			"HOTFIX_R81_20_JUMBO_HF_MAIN", "HOTFIX_INEXT_NANO_EGG_AUTOUPDATE", "HOTFIX_GOT_MGMT_AUTOUPDATE",
			"HOTFIX_CLOUDGUARD_CONTROLLER_R81_20_AUTOUPDATE", "BUNDLE_R81_20_JUMBO_HF_MAIN",
		}},
	}
	for in, want := range shapes {
		t.Run(strings.SplitN(in, "\n", 2)[0], func(t *testing.T) {
			got, err := ParseJumboTake(in)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestParseJumboTakeVariants(t *testing.T) {
	const v = "variant (hand-written): "
	tests := []struct {
		name string
		in   string
		want Take
	}{
		{v + "BUNDLE form only, under [CPUpdates], R82", "[CPUpdates]\n\tBUNDLE_R82_JUMBO_HF_MAIN\tTake:  91\n",
			Take{Number: 91, Release: "R82", Hotfixes: []string{"BUNDLE_R82_JUMBO_HF_MAIN"}}},
		{v + "heading without take before the numbered one", "[VSEC]\n\tHOTFIX_R81_20_JUMBO_HF_MAIN\n[FW1]\n\tHOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  89\n",
			Take{Number: 89, Release: "R81.20", Hotfixes: []string{"HOTFIX_R81_20_JUMBO_HF_MAIN"}}},
		{v + "Clish config-lock line first, software version agrees", "CLINFR0771  Config lock is owned by admin.\n" +
			"This is Check Point's software version R81.10 - Build 335\n[FW1]\n\tHOTFIX_R81_10_JUMBO_HF_MAIN\tTake:  172\n",
			Take{Number: 172, Release: "R81.10", Hotfixes: []string{"HOTFIX_R81_10_JUMBO_HF_MAIN"}}},
		{v + "CPUSE with headings: a Blink image in the Major section is not read", "** Connection error. Packages list might be incomplete **\n" +
			"**                                 Major                                      **\n" +
			"Display name                                                                                    Status\n" +
			"R82 Jumbo Hotfix Accumulator Take 99 embedded image                                             Installed\n" +
			"**                                 Hotfixes                                   **\n" +
			"Display name                                                                                    Status\n" +
			"R82 Jumbo Hotfix Accumulator Recommended Jumbo Take 91                                          Installed\n" +
			"Some other hotfix                                                                               Installed\n" +
			"Some available hotfix                                                                           Available for Install\n",
			Take{Number: 91, Release: "R82", Hotfixes: []string{"R82 Jumbo Hotfix Accumulator Recommended Jumbo Take 91", "Some other hotfix"}}},
		{v + "CPUSE (Take N) wording, R81.20", "Display name                                  Status\n" +
			"R81.20 Jumbo Hotfix Accumulator General Availability (Take 89)      Installed\n",
			Take{Number: 89, Release: "R81.20", Hotfixes: []string{"R81.20 Jumbo Hotfix Accumulator General Availability (Take 89)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJumboTake(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseJumboTakeNoTake(t *testing.T) {
	t.Run("no hotfixes at all", func(t *testing.T) {
		for _, in := range []string{
			"No hotfixes..\n",
			"This is Check Point CPinfo Build 914000215 for GAIA\n[IDA]\n\tNo hotfixes..\n\n[FW1]\n\tNo hotfixes..\n",
		} {
			got, err := ParseJumboTake(in)
			requireParseError(t, err, whatTake, ErrNoHotfixes)
			assert.ErrorIs(t, err, ErrNoTake, "ErrNoHotfixes is also ErrNoTake")
			assert.NotErrorIs(t, err, ErrUnrecognized)
			assert.Equal(t, Take{}, got)
		}
	})
	for name, in := range map[string]string{
		"empty":                                           "",
		"heading without take only":                       "[VSEC]\n\tHOTFIX_R81_20_JUMBO_HF_MAIN            <- no take on this heading\n",
		"other hotfixes only":                             "[FW1]\n\tHOTFIX_GOT_MGMT_AUTOUPDATE\n",
		"some sections without hotfix":                    "[IDA]\n\tNo hotfixes..\n[FW1]\n\tHOTFIX_GOT_MGMT_AUTOUPDATE\n",
		"more sections than No lines":                     "[IDA]\n\tNo hotfixes..\n[FW1]\n[MGMT]\n",
		"annotations only":                                "...\n... (auto-update bundles, each with its own take)\n",
		"CPUSE installed as part of":                      "Display name      Status\nR82 Jumbo Hotfix Accumulator Recommended Jumbo Take 60      Installed as part of\n",
		"CPUSE available, not installed":                  "Display name      Status\nR82 Jumbo Hotfix Accumulator Recommended Jumbo Take 99      Available for Install\n",
		"other command's output":                          readFixture(t, fixtureStateClish),
		"a shell pipeline after the prompt is not output": "[Expert@gw:0]# cpinfo -y all | grep 'Take:  25'\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseJumboTake(in)
			requireParseError(t, err, whatTake, ErrNoTake)
			assert.NotErrorIs(t, err, ErrNoHotfixes)
			assert.Equal(t, Take{}, got)
		})
	}
}

func TestParseJumboTakeFailsClosed(t *testing.T) {
	tests := map[string]string{
		"Take: without number":         "\tHOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  abc\n",
		"Take: empty":                  "\tHOTFIX_R81_20_JUMBO_HF_MAIN\tTake:\n",
		"Take: alone without number":   "Take: x\n",
		"Take: with trailing text":     "Take: 25 maybe\n",
		"two different takes":          "[MGMT]\n\tHOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  122\n[FW1]\n\tHOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  118\n",
		"bare take differs":            "\tHOTFIX_R81_JUMBO_HF_MAIN\tTake:  25\n26\n",
		"two different releases":       "\tHOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  89\n\tBUNDLE_R81_10_JUMBO_HF_MAIN\tTake:  89\n",
		"legacy and current disagree":  "\tHOTFIX_R80_20_JHF_T118_EQ_251_MAIN\n\tHOTFIX_R80_20_JUMBO_HF_MAIN\tTake:  117\n",
		"stale: software version":      "This is Check Point's software version R81.10 - Build 335\n\tHOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  89\n",
		"two software versions":        "This is Check Point's software version R81.10 - Build 335\nThis is Check Point's software version R81.20 - Build 631\n",
		"release with two SP":          "\tHOTFIX_R80SP_20SP_JUMBO_HF_MAIN\tTake:  5\n",
		"CPUSE two releases installed": "Display name      Type\nR82 Jumbo Hotfix Accumulator Take 60      Hotfix\nR81.20 Jumbo Hotfix Accumulator Take 89      Hotfix\n",
		"CPUSE and cpinfo disagree":    "\tHOTFIX_R82_JUMBO_HF_MAIN\tTake:  60\nDisplay name      Status\nR82 Jumbo Hotfix Accumulator Take 91      Installed\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseJumboTake(in)
			requireParseError(t, err, whatTake, ErrUnrecognized)
			assert.Equal(t, Take{}, got)
		})
	}
	_, err := ParseJumboTake("\tHOTFIX_R80SP_20SP_JUMBO_HF_MAIN\tTake:  5\n")
	var vpe *versionpath.ParseError
	require.ErrorAs(t, err, &vpe, "the grammar's error is wrapped")
	assert.ErrorIs(t, err, versionpath.ErrMalformed)
}

// TestTakeFeedsTakeMinimum: the parsed take and release plug into the
// versionpath take-minimum table (R81.20 take 122 meets the default R82
// minimum of 92).
func TestTakeFeedsTakeMinimum(t *testing.T) {
	take, err := ParseJumboTake(readFixture(t, fixtureTake122))
	require.NoError(t, err)
	from, err := take.ReleaseVersion()
	require.NoError(t, err)
	to := versionpath.MustParse(versionpath.CheckPoint{}, "R82")
	assert.NoError(t, versionpath.CheckTakeMinimum(versionpath.DefaultTakeMinimums(), from, take.Number, to))
	assert.Error(t, versionpath.CheckTakeMinimum(versionpath.DefaultTakeMinimums(), from, 91, to))
	_, err = Take{}.ReleaseVersion()
	assert.ErrorIs(t, err, versionpath.ErrMalformed)
}
