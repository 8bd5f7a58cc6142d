package versionpath

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func strs(vs []Version) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

func TestPath(t *testing.T) {
	base := []string{
		"6.4.100", "6.4.321",
		"6.5.100", "6.5.2721", "6.5.900",
		"6.6.100", "6.6.123", "6.6.900",
		"6.7.1574",
		"6.8.1148", "6.8.2000",
		"6.9.300",
		"7.0.1", "7.0.2",
		"7.1.1794",
		"7.2.5000",
	}
	for _, tc := range []struct {
		name     string
		catalog  []string
		from, to string
		want     []string
	}{
		{"builds skipped within a minor", base, "6.6.100", "6.6.900", []string{"6.6.900"}},
		{"brief example, on latest build", base, "6.4.321", "6.6.123", []string{"6.5.2721", "6.6.123"}},
		{"latest build of current minor first", base, "6.4.100", "6.6.123", []string{"6.4.321", "6.5.2721", "6.6.123"}},
		{"current minor absent from catalog", base[2:], "6.4.1", "6.5.100", []string{"6.5.100"}},
		{"running build above catalog", base, "6.4.999", "6.6.123", []string{"6.5.2721", "6.6.123"}},
		{"final hop is exact target, not latest", base, "6.5.2721", "6.6.100", []string{"6.6.100"}},
		{"next minor exact target is latest", base, "6.5.100", "6.6.900", []string{"6.5.2721", "6.6.900"}},
		{"walk every minor then next major", base, "6.7.1574", "7.1.1794", []string{"6.8.2000", "6.9.300", "7.0.2", "7.1.1794"}},
		{"major boundary", base, "6.9.1", "7.0.1", []string{"6.9.300", "7.0.1"}},
		{"full walk", base, "6.4.100", "7.2.5000", []string{"6.4.321", "6.5.2721", "6.6.900", "6.7.1574", "6.8.2000", "6.9.300", "7.0.2", "7.1.1794", "7.2.5000"}},
		{"same version is empty", base, "6.6.123", "6.6.123", []string{}},
		{"major.minor only target", []string{"6.5", "6.6"}, "6.5", "6.6", []string{"6.6"}},
		{"next major's first minor present", []string{"6.9.3", "7.1.1", "7.2.1"}, "6.9.3", "7.2.1", []string{"7.1.1", "7.2.1"}},
		{"suffix builds", []string{"6.5.1", "6.5.1-2", "6.6.1"}, "6.5.1", "6.6.1", []string{"6.5.1-2", "6.6.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCatalog(Dotted{}, tc.catalog...)
			if err != nil {
				t.Fatal(err)
			}
			// Catalog order must not matter.
			slices.Reverse(c)
			got, err := Path(c, MustParse(Dotted{}, tc.from), MustParse(Dotted{}, tc.to))
			if err != nil {
				t.Fatalf("Path: %v", err)
			}
			if got == nil || !slices.Equal(strs(got), tc.want) {
				t.Errorf("Path(%s -> %s) = %v, want %v", tc.from, tc.to, strs(got), tc.want)
			}
			for _, h := range got {
				if strings.Contains(h.String(), "latest") {
					t.Errorf("hop %q is not explicit", h)
				}
			}
		})
	}
}

func TestPathSemVer(t *testing.T) {
	c, err := ParseCatalog(SemVer{}, "7.2.0", "8.0.0-1000.2432", "8.0.0", "8.1.0")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Path(c, MustParse(SemVer{}, "7.2.0"), MustParse(SemVer{}, "8.1.0"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"8.0.0", "8.1.0"}; !slices.Equal(strs(got), want) {
		t.Errorf("Path = %v, want %v", strs(got), want)
	}
}

func TestPathErrors(t *testing.T) {
	d := func(s string) Version { return MustParse(Dotted{}, s) }
	cat := func(vs ...string) Catalog {
		c, err := ParseCatalog(Dotted{}, vs...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	full := cat("6.4.321", "6.5.100", "6.6.123", "7.0.1", "8.0.1")
	for _, tc := range []struct {
		name     string
		c        Catalog
		from, to Version
		want     error
		at       string
	}{
		{"target behind", full, d("6.6.123"), d("6.5.100"), ErrDowngrade, ""},
		{"target behind within minor", full, d("6.6.200"), d("6.6.123"), ErrDowngrade, ""},
		{"target not in catalog", full, d("6.4.321"), d("6.6.124"), ErrNotInCatalog, "6.6.124"},
		{"missing minor", cat("6.4.1", "6.6.1"), d("6.4.1"), d("6.6.1"), ErrMissingMinor, "6.5"},
		{"missing first minor", cat("6.6.1"), d("6.4.1"), d("6.6.1"), ErrMissingMinor, "6.5"},
		{"missing minor after major", cat("6.9.1", "7.0.1", "7.2.1"), d("6.9.1"), d("7.2.1"), ErrMissingMinor, "7.1"},
		{"missing major", full, d("7.0.1"), d("8.0.1"), nil, ""}, // 7 -> 8 adjacent: fine
		{"skipped major", cat("6.9.1", "8.0.1"), d("6.9.1"), d("8.0.1"), ErrMissingMinor, "7.x"},
		{"from without levels", full, d("6"), d("6.5.100"), ErrNoLevels, "6"},
		{"to without levels", full, d("6.4.321"), d("7"), ErrNoLevels, "7"},
		{"nil from", full, nil, d("6.5.100"), ErrNoLevels, "<nil>"},
		{"catalog entry without levels", append(cat("6.5.100"), d("6")), d("6.4.1"), d("6.5.100"), ErrNoLevels, "catalog entry 6"},
		{"check point releases", Catalog{MustParse(CheckPoint{}, "R82")}, MustParse(CheckPoint{}, "R81.20"), MustParse(CheckPoint{}, "R82"), ErrNoLevels, "R81.20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Path(tc.c, tc.from, tc.to)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Path = %v, want error %v", strs(got), tc.want)
			}
			if got != nil {
				t.Errorf("hops %v returned with error", strs(got))
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v is not %v", err, tc.want)
			}
			var pe *PathError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *PathError", err)
			}
			if pe.At != tc.at {
				t.Errorf("At = %q, want %q", pe.At, tc.at)
			}
			if !strings.Contains(err.Error(), "path ") {
				t.Errorf("message %q does not name the path", err)
			}
		})
	}
}

func TestParseCatalogReportsAllErrors(t *testing.T) {
	_, err := ParseCatalog(Dotted{}, "6.5.1", "6.", "6.a", "7.0.1")
	if err == nil {
		t.Fatal("want error")
	}
	for _, in := range []string{`"6."`, `"6.a"`} {
		if !strings.Contains(err.Error(), in) {
			t.Errorf("error %q misses %s", err, in)
		}
	}
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("error does not wrap ErrMalformed")
	}
}

// TestPathWithLastMinor: with the last minor of each major stated, a
// catalog that omits a major's last minor cannot cross the major from an
// earlier one, and the next major is entered at its minor 0.
func TestPathWithLastMinor(t *testing.T) {
	d := func(s string) Version { return MustParse(Dotted{}, s) }
	cat := func(vs ...string) Catalog {
		c, err := ParseCatalog(Dotted{}, vs...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	avx := PathRules{LastMinor: map[uint64]uint64{6: 9, 7: 2}}
	for _, tc := range []struct {
		name     string
		c        Catalog
		r        PathRules
		from, to string
		want     []string // nil: an error
		err      error
		at       string
	}{
		{"no rules: trusted catalog", cat("6.8.1509", "7.0.1373"), PathRules{}, "6.8.1509", "7.0.1373", []string{"7.0.1373"}, nil, ""},
		{"6.8 -> 7.0 skips 6.9", cat("6.8.1509", "7.0.1373"), avx, "6.8.1509", "7.0.1373", nil, ErrMissingMinor, "6.9"},
		{"6.7 -> 7.0 skips 6.9 (first skipped: 6.8 listed)", cat("6.7.1", "6.8.1", "7.0.1"), avx, "6.7.1", "7.0.1", nil, ErrMissingMinor, "6.9"},
		{"6.9 -> 7.0", cat("6.9.221", "6.9.349", "7.0.1373"), avx, "6.9.221", "7.0.1373", []string{"6.9.349", "7.0.1373"}, nil, ""},
		{"full walk", cat("6.8.1", "6.9.1", "7.0.1", "7.1.1", "7.2.1", "8.0.1"), avx, "6.8.1", "8.0.1", []string{"6.9.1", "7.0.1", "7.1.1", "7.2.1", "8.0.1"}, nil, ""},
		{"7.1 -> 8.0 skips 7.2", cat("7.1.1", "8.0.1"), avx, "7.1.1", "8.0.1", nil, ErrMissingMinor, "7.2"},
		{"6.9 -> 7.1 skips 7.0", cat("6.9.1", "7.1.1"), avx, "6.9.1", "7.1.1", nil, ErrMissingMinor, "7.0"},
		{"within a major: unchanged", cat("6.5.1", "6.6.1"), avx, "6.5.1", "6.6.1", []string{"6.6.1"}, nil, ""},
		{"unlisted major trusted", cat("5.3.1", "6.0.1"), avx, "5.3.1", "6.0.1", []string{"6.0.1"}, nil, ""},
		{"catalog contradicts the table", cat("6.9.1", "6.10.1", "7.0.1"), avx, "6.9.1", "7.0.1", nil, ErrBadTable, "6.10 is above the last minor of major 6 (6.9)"},
		{"from contradicts the table", cat("7.0.1"), avx, "6.10.1", "7.0.1", nil, ErrBadTable, "6.10 is above the last minor of major 6 (6.9)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PathWith(tc.c, d(tc.from), d(tc.to), tc.r)
			if tc.want != nil {
				if err != nil {
					t.Fatalf("PathWith: %v", err)
				}
				if !slices.Equal(strs(got), tc.want) {
					t.Errorf("PathWith = %v, want %v", strs(got), tc.want)
				}
				return
			}
			var pe *PathError
			if !errors.Is(err, tc.err) || !errors.As(err, &pe) {
				t.Fatalf("PathWith = %v, %v; want *PathError %v", strs(got), err, tc.err)
			}
			if pe.At != tc.at {
				t.Errorf("At = %q, want %q", pe.At, tc.at)
			}
			if got != nil {
				t.Errorf("hops %v returned with error", strs(got))
			}
		})
	}
	// Path keeps its signature and trusts the catalog.
	if got, err := Path(cat("6.8.1509", "7.0.1373"), d("6.8.1509"), d("7.0.1373")); err != nil || len(got) != 1 {
		t.Errorf("Path = %v, %v", strs(got), err)
	}
}
