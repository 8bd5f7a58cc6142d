package clavister

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/versionpath"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want Version
	}{
		{"14.00.10", Version{LTS: 14, Feature: 0, Maintenance: 10}},
		{"14.00.10.01-12345", Version{LTS: 14, Maintenance: 10, Patch: 1, Build: 12345, HasPatch: true, HasBuild: true}},
		{"12.00.12.03-12345", Version{LTS: 12, Maintenance: 12, Patch: 3, Build: 12345, HasPatch: true, HasBuild: true}},
		{"10.21.02.01-25325", Version{LTS: 10, Feature: 21, Maintenance: 2, Patch: 1, Build: 25325, HasPatch: true, HasBuild: true}},
		{"9.30.08.21-22257 TP", Version{LTS: 9, Feature: 30, Maintenance: 8, Patch: 21, Build: 22257, HasPatch: true, HasBuild: true, TechPreview: true}},
		{"14.00.09-31234", Version{LTS: 14, Maintenance: 9, Build: 31234, HasBuild: true}},
		{"14.00.10 TP", Version{LTS: 14, Maintenance: 10, TechPreview: true}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVersion(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.in, got.String(), "canonical text round-trips")
			again, err := ParseVersion(got.String())
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
}

// TestParseVersionCanonical: one-digit fields are accepted and printed with
// two digits (LTS excepted).
func TestParseVersionCanonical(t *testing.T) {
	v, err := ParseVersion("14.0.9.3-7")
	require.NoError(t, err)
	assert.Equal(t, "14.00.09.03-7", v.String())
	assert.Equal(t, "0.00.00", Version{}.String())
}

// TestVersionFromRESTAbout: the REST /api/about example's version string
// agrees with its version_numbers array (REST API Guide 15.00 ch16).
func TestVersionFromRESTAbout(t *testing.T) {
	var about struct {
		Version        string `json:"version"`
		VersionNumbers []int  `json:"version_numbers"`
		BuildType      string `json:"buildtype"`
	}
	require.NoError(t, json.Unmarshal([]byte(readFixture(t, "rest-api-about/rest-guide-15.00-example.json")), &about))
	v, err := ParseVersion(about.Version)
	require.NoError(t, err)
	assert.Equal(t, about.VersionNumbers, []int{v.LTS, v.Feature, v.Maintenance, v.Patch, v.Build})
	assert.Equal(t, "Release", about.BuildType)
	assert.False(t, v.TechPreview)
}

func TestParseVersionMalformed(t *testing.T) {
	for _, in := range []string{
		"", "14", "14.00", "14.0a.1", "14.00.10-", "-1.00.00",
		" 14.00.10", "14.00.10 ", "14.00.10 tp", "14.00.10  TP", "14.00.10TP", "TP",
		"14.00.10.01.02", "v14.00.10", "14.00.10-1-2", "14.00.10-1234567890",
		"144.00.10", "14..10", "14.00.10-12 TP TP", "14.00.10-a", "+14.00.10",
		"14.00.10.", ".14.00.10", "14.00.10-1.2", "１４.00.10", "14.00.10\n",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseVersion(in)
			require.Error(t, err)
			assert.ErrorIs(t, err, versionpath.ErrMalformed)
			var pe *versionpath.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, GrammarName, pe.Grammar)
			assert.Equal(t, in, pe.Input, "error names its input")
			assert.NotEmpty(t, pe.Reason)
		})
	}
}

func mustVersion(t *testing.T, s string) Version {
	t.Helper()
	v, err := ParseVersion(s)
	require.NoError(t, err)
	return v
}

// TestVersionOrdering sorts the documented examples (clavister.md §4).
func TestVersionOrdering(t *testing.T) {
	ascending := []string{
		"9.30.08.21-22257 TP",
		"10.21.02.01-25325",
		"12.00.12.03-12345",
		"14.00.09.00-31234",
		"14.00.10",
		"14.00.10.01-12345",
		"14.00.11",
	}
	for i := range ascending {
		for j := range ascending {
			a, b := mustVersion(t, ascending[i]), mustVersion(t, ascending[j])
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			assert.Equal(t, want, a.Compare(b), "%s vs %s", a, b)
		}
	}
	shuffled := []Version{}
	for _, i := range []int{4, 0, 6, 2, 5, 1, 3} {
		shuffled = append(shuffled, mustVersion(t, ascending[i]))
	}
	slices.SortFunc(shuffled, func(a, b Version) int { return a.Compare(b) })
	var got []string
	for _, v := range shuffled {
		got = append(got, v.String())
	}
	assert.Equal(t, ascending, got)
}

func TestVersionCompareRules(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"14.00.10", "14.00.10-12345", 0},       // no build: equal to any build
		{"14.00.10-200", "14.00.10", 0},         // symmetric
		{"14.00.10-100", "14.00.10-200", -1},    // build breaks ties when both have one
		{"14.00.10-99999", "14.00.11-1", -1},    // numbers first
		{"14.00.10", "14.00.10.00", 0},          // missing patch counts as 0
		{"14.00.10.00-5", "14.00.10.01-1", -1},  // patch before build
		{"14.00.10-100 TP", "14.00.10-100", -1}, // preview before release
		{"14.00.10 TP", "14.00.10-100", -1},     // ... also when builds are skipped
		{"14.00.10-101 TP", "14.00.10-100", 1},  // build decides before TP
		{"9.30.08.21-22257 TP", "9.30.08.21-22257", -1},
		{"14.1.2", "14.01.02", 0},
	}
	for _, tt := range tests {
		a, b := mustVersion(t, tt.a), mustVersion(t, tt.b)
		assert.Equal(t, tt.want, a.Compare(b), "%s vs %s", tt.a, tt.b)
		assert.Equal(t, -tt.want, b.Compare(a), "%s vs %s", tt.b, tt.a)
	}
}

func TestVersionCompareOtherTypes(t *testing.T) {
	v := mustVersion(t, "14.00.10")
	w := mustVersion(t, "14.00.11")
	assert.Equal(t, 1, v.Compare(nil))
	assert.Equal(t, 1, v.Compare((*Version)(nil)))
	assert.Equal(t, -1, v.Compare(&w))
	dotted := versionpath.MustParse(versionpath.Dotted{}, "14.00.10")
	assert.Equal(t, 0, v.Compare(dotted), "another grammar compares by text")
	assert.Equal(t, -1, v.Compare(versionpath.MustParse(versionpath.Dotted{}, "9.30.08")), "byte-wise, as documented")
}

func TestGrammar(t *testing.T) {
	var g versionpath.Grammar = Grammar{}
	assert.Equal(t, "clavister-cos-core", g.Name())
	v, err := g.Parse("14.00.10.01-12345")
	require.NoError(t, err)
	cv, ok := v.(Version)
	require.True(t, ok, "dynamic type is clavister.Version, got %T", v)
	assert.Equal(t, 12345, cv.Build)
	assert.Equal(t, -1, versionpath.MustParse(g, "14.00.10").Compare(versionpath.MustParse(g, "14.00.11")))

	v, err = g.Parse("14.00")
	assert.Nil(t, v, "no typed-nil Version on error")
	var pe *versionpath.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "clavister-cos-core", pe.Grammar)
	assert.True(t, errors.Is(err, versionpath.ErrMalformed))
}
