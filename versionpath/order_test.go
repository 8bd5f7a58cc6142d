package versionpath

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func fmtQ(s string) string { return fmt.Sprintf("%q", s) }

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestCompare(t *testing.T) {
	d, s, c := Dotted{}, SemVer{}, CheckPoint{}
	for _, tc := range []struct {
		g    Grammar
		a, b string
		want int
	}{
		{d, "6.5", "6.5.0", 0},
		{d, "6.05", "6.5", 0},
		{d, "6", "6.0.0", 0},
		{d, "6.5.100", "6.5.900", -1},
		{d, "6.5.900", "6.6.100", -1},
		{d, "6.10", "6.9", 1},
		{d, "7.0", "6.99.99999", 1},
		{d, "6.5.100", "6.5", 1}, // unlike the Aviatrix provider quirk
		{d, "6.5.100", "6.5.100-1", -1},
		{d, "8.0.0-1000.2432", "8.0.0-999.9999", 1},
		{d, "8.0.0-1000.2432", "8.0.0-1000.2432.1", -1},
		{d, "6.5-1", "6.5-a", -1},
		{d, "6.5-a", "6.5-b", -1},
		{d, "6.5-007", "6.5-7", 0},
		{d, "6.5-a.b", "6.5-a-b", 0},
		{d, "6.5-10", "6.5-9", 1},
		{s, "1.0.0-rc.1", "1.0.0", -1},
		{s, "1.0.0+a", "1.0.0+b", 0},
		{s, "1.2.3", "1.10.0", -1},
		{s, "8.0.0-1000.2432", "8.0.0", -1},
		{c, "R80.40", "R81", -1},
		{c, "R81", "R81.10", -1},
		{c, "R81", "R81.0", 0},
		{c, "R81.10", "R81.20", -1},
		{c, "R81.20", "R82", -1},
		{c, "R80.20", "R80.20SP", -1},
		{c, "R80.20SP", "R80.30", -1},
		{c, "R80.30SP", "R81.20", -1},
		{c, "R76SP.10", "R77.30", -1},
		{c, "R76SP.10", "R76SP.10", 0},
	} {
		a, b := MustParse(tc.g, tc.a), MustParse(tc.g, tc.b)
		if got := a.Compare(b); got != tc.want {
			t.Errorf("%s: %s.Compare(%s) = %d, want %d", tc.g.Name(), tc.a, tc.b, got, tc.want)
		}
		if got := b.Compare(a); got != -tc.want {
			t.Errorf("%s: %s.Compare(%s) = %d, want %d (antisymmetry)", tc.g.Name(), tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestCompareAcrossGrammarsAndNil(t *testing.T) {
	dv := MustParse(Dotted{}, "1.2.3")
	sv := MustParse(SemVer{}, "1.2.3")
	cv := MustParse(CheckPoint{}, "R81.20")
	if dv.Compare(sv) != 0 || sv.Compare(dv) != 0 {
		t.Errorf("same text must compare equal across grammars")
	}
	if got := dv.Compare(cv); got != -1 { // "1.2.3" < "R81.20" byte-wise
		t.Errorf("Dotted vs CheckPoint = %d, want -1", got)
	}
	if cv.Compare(sv) != 1 {
		t.Errorf("CheckPoint vs SemVer must compare by text")
	}
	for _, v := range []Version{dv, sv, cv} {
		if v.Compare(nil) != 1 {
			t.Errorf("%T.Compare(nil) != 1", v)
		}
	}
	// Pointers to the value types compare like values.
	d2 := MustParse(Dotted{}, "1.2.4").(DottedVersion)
	if dv.Compare(&d2) != -1 || dv.Compare((*DottedVersion)(nil)) != 1 {
		t.Errorf("pointer compare")
	}
	s2 := MustParse(SemVer{}, "1.2.4").(SemVerVersion)
	if sv.Compare(&s2) != -1 || sv.Compare((*SemVerVersion)(nil)) != 1 {
		t.Errorf("pointer compare")
	}
	c2 := MustParse(CheckPoint{}, "R82").(CheckPointVersion)
	if cv.Compare(&c2) != -1 || cv.Compare((*CheckPointVersion)(nil)) != 1 {
		t.Errorf("pointer compare")
	}
}

// TestSortOrder sorts shuffled versions and checks the total order.
func TestSortOrder(t *testing.T) {
	for _, tc := range []struct {
		g    Grammar
		want []string
	}{
		{Dotted{}, []string{"6.4.321", "6.5", "6.5.100", "6.5.100-1", "6.5.100-2", "6.5.100-10", "6.5.100-a", "6.5.2721", "6.6.123", "6.9.1", "6.10.0", "7.0.1", "7.2.5000", "8.0.0-1000.2432"}},
		{SemVer{}, []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0", "2.0.0"}},
		{CheckPoint{}, []string{"R76SP.10", "R77.30", "R80.20", "R80.20SP", "R80.30", "R80.30SP", "R80.40", "R81", "R81.10", "R81.20", "R82", "R82.10"}},
	} {
		r := rand.New(rand.NewPCG(1, 2))
		for range 20 {
			vs := make([]Version, len(tc.want))
			for i, s := range tc.want {
				vs[i] = MustParse(tc.g, s)
			}
			r.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
			slices.SortFunc(vs, func(a, b Version) int { return a.Compare(b) })
			got := make([]string, len(vs))
			for i, v := range vs {
				got[i] = v.String()
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%s sort = %v, want %v", tc.g.Name(), got, tc.want)
			}
		}
		// Transitivity/consistency over all pairs.
		for i := range tc.want {
			for j := range tc.want {
				a, b := MustParse(tc.g, tc.want[i]), MustParse(tc.g, tc.want[j])
				if got, want := a.Compare(b), sign(i-j); got != want {
					t.Errorf("%s: %s vs %s = %d, want %d", tc.g.Name(), tc.want[i], tc.want[j], got, want)
				}
			}
		}
	}
}
