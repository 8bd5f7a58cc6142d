package aviatrix_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/versionpath"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in                  string
		text                string
		major, minor, build uint64
		tag                 string
		hasBuild            bool
	}{
		{"6.5.2721", "6.5.2721", 6, 5, 2721, "", true},
		{"UserConnect-7.1.1794", "7.1.1794", 7, 1, 1794, "", true}, // fixtures README: UserConnect-7.2.5090 form
		{"UserConnect-7.2.5090", "7.2.5090", 7, 2, 5090, "", true},
		{"6.5", "6.5", 6, 5, 0, "", false},
		{"6.3-patch.2309", "6.3-patch.2309", 6, 3, 2309, "patch", true},
		{"6.5.0", "6.5.0", 6, 5, 0, "", true},
	} {
		v, err := aviatrix.ParseVersion(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.text, v.String(), tc.in)
		assert.Equal(t, []uint64{tc.major, tc.minor, tc.build}, []uint64{v.Major(), v.Minor(), v.Build()}, tc.in)
		assert.Equal(t, tc.tag, v.Tag(), tc.in)
		assert.Equal(t, tc.hasBuild, v.HasBuild(), tc.in)
	}
}

func TestParseVersionErrors(t *testing.T) {
	for _, in := range []string{"", "6", "6.", "6.a", "6.5.", "6.5.x", " 6.5.1", "6.5.1 ", "v6.5.1", "+6.5.1", "6..5",
		"6.5-", "6.5-1x.2", "latest", "UserConnect-", "1234567890.1.1", "6.5.1.2", "6.5.1-rc1"} {
		_, err := aviatrix.ParseVersion(in)
		var ve *aviatrix.VersionError
		require.ErrorAs(t, err, &ve, "%q", in)
		assert.ErrorIs(t, err, aviatrix.ErrVersion, "%q", in)
		assert.NotErrorIs(t, err, aviatrix.ErrUnsupportedVersion, "%q", in)
	}
	// 8.x is out of scope: the 8.x upgrade API is not public (aviatrix.md
	// scope warning; fixtures README version string 8.0.0-1000.2432).
	for _, in := range []string{"8.0.0-1000.2432", "UserConnect-8.0.0-1000.2432", "8.0", "8.1.1234", "9.0.1"} {
		_, err := aviatrix.ParseVersion(in)
		assert.ErrorIs(t, err, aviatrix.ErrUnsupportedVersion, in)
	}
}

func TestVersionOrder(t *testing.T) {
	// Ascending; explicitly not the provider's CompareSoftwareVersions
	// quirks (6.5 above 6.5.100; different tags equal).
	asc := []string{"6.3.100", "6.3-patch.2309", "6.3-zzz.1", "6.5", "6.5.0", "6.5.100", "6.5.2721", "6.6.100", "6.10.1", "7.0.1"}
	for i := range asc {
		for j := range asc {
			a, b := aviatrix.MustParseVersion(asc[i]), aviatrix.MustParseVersion(asc[j])
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			assert.Equal(t, want, a.Compare(b), "%s vs %s", asc[i], asc[j])
		}
	}
	assert.Equal(t, 0, aviatrix.MustParseVersion("UserConnect-6.5.100").Compare(aviatrix.MustParseVersion("6.5.100")))
	assert.Equal(t, 1, aviatrix.MustParseVersion("6.5.1").Compare(nil))
}

// The Aviatrix Version works with versionpath's path finding directly.
func TestVersionWithVersionpathPath(t *testing.T) {
	cat, err := versionpath.ParseCatalog(aviatrix.Grammar{}, "6.5.100", "6.5.2721", "6.6.123", "6.6.900", "6.7.50")
	require.NoError(t, err)
	hops, err := versionpath.Path(cat, aviatrix.MustParseVersion("UserConnect-6.5.100"), aviatrix.MustParseVersion("6.7.50"))
	require.NoError(t, err)
	var got []string
	for _, h := range hops {
		got = append(got, h.String())
	}
	assert.Equal(t, []string{"6.5.2721", "6.6.900", "6.7.50"}, got)
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"6.5.2721", "UserConnect-7.1.1794", "6.3-patch.2309", "8.0.0-1000.2432", "6.5", "6", "6.a", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := aviatrix.ParseVersion(s)
		if err != nil {
			var ve *aviatrix.VersionError
			if !errors.As(err, &ve) || (!errors.Is(err, aviatrix.ErrVersion) && !errors.Is(err, aviatrix.ErrUnsupportedVersion)) {
				t.Fatalf("ParseVersion(%q): untyped error %T %v", s, err, err)
			}
			_ = err.Error()
			return
		}
		if v.IsZero() || v.Major() >= 8 {
			t.Fatalf("ParseVersion(%q) accepted %v", s, v)
		}
		again, err := aviatrix.ParseVersion(v.String())
		if err != nil || again.Compare(v) != 0 || again.String() != v.String() {
			t.Fatalf("ParseVersion(%q): %q does not round-trip (%v)", s, v.String(), err)
		}
		if v.Compare(v) != 0 {
			t.Fatalf("%q not equal to itself", s)
		}
	})
}
