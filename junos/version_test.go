package junos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/versionpath"
)

func TestParseVersion(t *testing.T) {
	for _, s := range []string{"21.4R3-S10", "21.4R3-S5", "22.4R3-S2", "15.1X49-D180.2", "12.3X48-D10.3", "19.4R3-S4.1", "21.4R3.15", "23.4R2-S2.1"} {
		v, err := ParseVersion(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, v.String())
		g, err := Grammar{}.Parse(s)
		require.NoError(t, err)
		assert.Equal(t, 0, g.Compare(v))
	}
	assert.Equal(t, "junos", Grammar{}.Name())
	assert.Equal(t, "junos", GrammarName)

	assert.Equal(t, 1, mustVersion(t, "21.4R3-S10").Compare(mustVersion(t, "21.4R3-S5")))
	assert.Equal(t, -1, mustVersion(t, "15.1X49-D180.2").Compare(mustVersion(t, "17.3R1.10")))

	for _, s := range []string{"", "21.4", "21.4r3", " 21.4R3", "21.4R3-S5-EVO", "17.3-2017-07-02.0_builder", "13.3-20131120", "21.4R3; request system reboot"} {
		_, err := ParseVersion(s)
		require.ErrorIs(t, err, versionpath.ErrMalformed, s)
		var pe *versionpath.ParseError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, GrammarName, pe.Grammar)
		assert.Equal(t, s, pe.Input)
		assert.Contains(t, err.Error(), "junos")
	}
}

func TestSameRelease(t *testing.T) {
	for _, tc := range []struct {
		running, target string
		want            bool
	}{
		{"23.4R2-S5.5", "23.4R2-S5", true}, // IBM base version vs release version
		{"23.4R2-S5", "23.4R2-S5.5", true},
		{"21.4R3.15", "21.4R3", true},
		{"21.4R3-S5.4", "21.4R3-S5.5", false},
		{"21.4R3-S5.4", "21.4R3-S10", false},
		{"21.4R3", "21.4R3-S5", false},
	} {
		assert.Equal(t, tc.want, SameRelease(mustVersion(t, tc.running), mustVersion(t, tc.target)), "%s vs %s", tc.running, tc.target)
	}
	// Compare stays strict where SameRelease is lenient.
	assert.Equal(t, -1, mustVersion(t, "23.4R2-S5").Compare(mustVersion(t, "23.4R2-S5.5")))
}

// TestSoftwareVersionsMatchRule: the per-node versions of the captures feed
// the upgrade-path rule directly.
func TestSoftwareVersionsMatchRule(t *testing.T) {
	sw, err := ParseSoftwareInformation(readFixture(t, fxVersion1500))
	require.NoError(t, err)
	target := mustVersion(t, "21.4R3-S7.9")
	for _, n := range sw.Nodes {
		assert.NoError(t, versionpath.CheckJunosHop(versionpath.DefaultJunosReleases(), n.Version, target), n.Node)
		assert.Error(t, versionpath.CheckJunosHop(versionpath.DefaultJunosReleases(), n.Version, mustVersion(t, "22.4R3-S2")), n.Node)
	}
}
