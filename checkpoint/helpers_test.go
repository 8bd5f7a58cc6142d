package checkpoint

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readFixture returns testdata/<rel>, a copy of a corpus capture (see
// testdata/README.md for its provenance).
func readFixture(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	require.NoError(t, err)
	return string(b)
}

// allFixtures returns every capture under testdata (each sub-directory),
// keyed by its path relative to testdata.
func allFixtures(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]string{}
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		rel, err := filepath.Rel("testdata", name)
		require.NoError(t, err)
		out[filepath.ToSlash(rel)] = string(b)
	}
	return out
}

// requireParseError asserts err is a *ParseError of command what and
// category cat, and returns it.
func requireParseError(t testing.TB, err error, what string, cat error) *ParseError {
	t.Helper()
	require.Error(t, err)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, what, pe.What)
	assert.ErrorIs(t, err, cat)
	assert.True(t, errors.Is(pe.Err, cat), "category %v, want %v", pe.Err, cat)
	assert.NotEmpty(t, pe.Reason)
	assert.Contains(t, err.Error(), pe.Reason)
	assert.LessOrEqual(t, len(pe.Text), maxErrorText)
	if pe.Line == 0 {
		assert.Empty(t, pe.Text)
	}
	return pe
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestEveryCaptureAgainstEveryParser: each parser reads exactly the
// captures of its own command and refuses every other capture with a typed
// error; every capture is listed in testdata/README.md.
func TestEveryCaptureAgainstEveryParser(t *testing.T) {
	readme := readFixture(t, "README.md")
	parsers := map[string]func(string) error{
		"state":      func(s string) error { _, err := ParseClusterState(s); return err },
		"interfaces": func(s string) error { _, err := ParseClusterInterfaces(s); return err },
		"mvc":        func(s string) error { _, err := ParseMVC(s); return err },
		"vsx":        func(s string) error { _, err := ParseVSXStat(s); return err },
		"take":       func(s string) error { _, err := ParseJumboTake(s); return err },
		"version":    func(s string) error { _, err := ParseVersion(s); return err },
	}
	reads := func(parser, file string) bool {
		dir := filepath.Dir(file)
		switch parser {
		case "state":
			return dir == "cphaprob-state"
		case "interfaces":
			return dir == "cphaprob-a-if"
		case "vsx":
			return dir == "vsx-stat-v"
		case "take":
			return dir == "cpinfo-y-all" || dir == "show-installer-packages"
		case "version":
			// fw ver output is also part of the vsx stat capture and of
			// the legacy cpinfo capture.
			return dir == "fw-ver" || dir == "show-version-all" || file == fixtureVSX || file == fixtureTakeLegacy
		}
		return false // mvc: no capture exists
	}
	fixtures := allFixtures(t)
	assert.Len(t, fixtures, 19)
	for file, text := range fixtures {
		assert.Contains(t, readme, "| `"+file+"` |", "testdata/README.md lists %s", file)
		for name, parse := range parsers {
			err := parse(text)
			if reads(name, file) {
				assert.NoError(t, err, "%s on %s", name, file)
				continue
			}
			var pe *ParseError
			if assert.Error(t, err, "%s on %s", name, file) {
				assert.ErrorAs(t, err, &pe, "%s on %s", name, file)
			}
		}
	}
}
