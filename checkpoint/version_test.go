package checkpoint

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/versionpath"
)

func TestParseVersionFixtures(t *testing.T) {
	tests := []struct {
		file string
		want Version
	}{
		{"fw-ver/r81.20-mds-build-059.txt", Version{Release: "R81.20", Build: "059"}},
		{"show-version-all/r81.10-build-335.txt", Version{Release: "R81.10", Product: "Check Point Gaia R81.10",
			OSBuild: "335", Kernel: "3.10.0-957.21.3cpx86_64", Edition: "64-bit"}},
		// `fw ver` run before `vsx stat -v` in the same capture.
		{fixtureVSX, Version{Release: "R80.10", Build: "236"}},
		// cpinfo repeats `fw ver`; the "Security Management Server ... Build
		// 082" line is another product line and is not read.
		{fixtureTakeLegacy, Version{Release: "R80.20", Build: "257"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseVersion(readFixture(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			v, err := got.ReleaseVersion()
			require.NoError(t, err)
			assert.Equal(t, tt.want.Release, v.String())
			assert.IsType(t, versionpath.CheckPointVersion{}, v)
		})
	}
}

// TestParseVersionOrdering: the release orders through the existing grammar.
func TestParseVersionOrdering(t *testing.T) {
	got, err := ParseVersion(readFixture(t, "fw-ver/r81.20-mds-build-059.txt"))
	require.NoError(t, err)
	v, err := got.ReleaseVersion()
	require.NoError(t, err)
	g := versionpath.CheckPoint{}
	assert.Equal(t, 1, v.Compare(versionpath.MustParse(g, "R81.10")))
	assert.Equal(t, -1, v.Compare(versionpath.MustParse(g, "R82")))
	assert.Equal(t, 0, v.Compare(versionpath.MustParse(g, "R81.20")))
}

func TestParseVersionVariants(t *testing.T) {
	const v = "variant (hand-written): "
	tests := []struct {
		name string
		in   string
		want Version
	}{
		{v + "SGT lab show version all values, Clish prompt", "gw1> show version all\nProduct version Check Point Gaia R82\nOS build 777\n" +
			"OS kernel version 3.10.0-1160.15.2cpx86_64\nOS edition 64-bit\ngw1> ",
			Version{Release: "R82", Product: "Check Point Gaia R82", OSBuild: "777", Kernel: "3.10.0-1160.15.2cpx86_64", Edition: "64-bit"}},
		{v + "colons after the field names, CRLF", "Product version: Check Point Gaia R81.20\r\nOS build: 634\r\n",
			Version{Release: "R81.20", Product: "Check Point Gaia R81.20", OSBuild: "634"}},
		{v + "fw ver -k", "This is Check Point's software version R81.20 - Build 631\nkernel: R81.20 - Build 631\n",
			Version{Release: "R81.20", Build: "631"}},
		{v + "fw ver and show version all agree", "This is Check Point's software version R81.10 - Build 335\nProduct version Check Point Gaia R81.10\nOS build 335\n",
			Version{Release: "R81.10", Build: "335", Product: "Check Point Gaia R81.10", OSBuild: "335"}},
		{v + "Scalable Platforms release", "This is Check Point's software version R80.20SP - Build 123\n",
			Version{Release: "R80.20SP", Build: "123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVersion(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseVersionFailsClosed(t *testing.T) {
	tests := map[string]string{
		"empty":                      "",
		"no release":                 "OS build 335\n",
		"Product version no release": "Product version Check Point Gaia\n",
		"malformed release":          "This is Check Point's software version R81.x - Build 059\n",
		"build not a number":         "This is Check Point's software version R81.20 - Build 05a\n",
		"OS build not a number":      "Product version Check Point Gaia R81.10\nOS build three\n",
		"releases differ":            "This is Check Point's software version R81.10 - Build 335\nProduct version Check Point Gaia R81.20\n",
		"kernel line differs":        "This is Check Point's software version R81.20 - Build 631\nkernel: R81.20 - Build 632\n",
		"kernel version empty":       "Product version Check Point Gaia R81.10\nOS kernel version\n",
		"edition with spaces":        "Product version Check Point Gaia R81.10\nOS edition 64 bit\n",
		"OS build twice, different":  "Product version Check Point Gaia R81.10\nOS build 1\nOS build 2\n",
		"other product line only":    "This is Check Point Security Management Server R80.20 - Build 082\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseVersion(in)
			requireParseError(t, err, whatVersion, ErrUnrecognized)
			assert.Equal(t, Version{}, got)
		})
	}
	_, err := ParseVersion("This is Check Point's software version R81.x - Build 059\n")
	var vpe *versionpath.ParseError
	require.ErrorAs(t, err, &vpe)
	assert.Equal(t, "R81.x", vpe.Input)
	_, err = Version{}.ReleaseVersion()
	assert.ErrorIs(t, err, versionpath.ErrMalformed)
}

func TestParseErrorText(t *testing.T) {
	_, err := ParseClusterState("Cluster Mode: HA\nID State\n1 (local) SLEEPING\n")
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Line)
	assert.Equal(t, "1 (local) SLEEPING", pe.Text)
	assert.Equal(t, `checkpoint: cphaprob state: line 3 "1 (local) SLEEPING": member row does not parse: unknown state word "SLEEPING"`, err.Error())

	_, err = ParseClusterState("")
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, `checkpoint: cphaprob state: no "Cluster Mode:" line`, err.Error())

	// The offending line is cut to 200 bytes on a UTF-8 boundary (the 19-byte
	// prefix puts byte 200 inside a two-byte rune).
	long := "Cluster Mode: HA\nID State\n1 (local) SLEEPINGx" + strings.Repeat("é", 300) + "\n"
	_, err = ParseClusterState(long)
	require.ErrorAs(t, err, &pe)
	assert.Len(t, pe.Text, maxErrorText-1)
	assert.True(t, utf8.ValidString(pe.Text))
	assert.Less(t, len(err.Error()), 300, "the message quotes at most 80 bytes of the line")
}
