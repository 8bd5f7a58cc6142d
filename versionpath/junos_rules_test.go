package versionpath

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func jv(s string) Version { return MustParse(Junos{}, s) }

func TestJunosParseValid(t *testing.T) {
	for _, tc := range []struct {
		in              string
		major, minor    int
		typ             byte
		rel, d, s, spin int
		train           string
	}{
		{"21.4R3-S10", 21, 4, 'R', 3, 0, 10, 0, "21.4"},
		{"21.4R3-S5", 21, 4, 'R', 3, 0, 5, 0, "21.4"},
		{"22.4R3-S2", 22, 4, 'R', 3, 0, 2, 0, "22.4"},
		{"15.1X49-D180.2", 15, 1, 'X', 49, 180, 0, 2, "15.1X49"},
		{"12.3X48-D10.3", 12, 3, 'X', 48, 10, 0, 3, "12.3X48"},
		{"19.4R3-S4.1", 19, 4, 'R', 3, 0, 4, 1, "19.4"},
		{"21.4R3.15", 21, 4, 'R', 3, 0, 0, 15, "21.4"},
		{"23.4R2-S2.1", 23, 4, 'R', 2, 0, 2, 1, "23.4"},
		{"19.4R3-S1.3", 19, 4, 'R', 3, 0, 1, 3, "19.4"}, // show-version/srx1500-19.4-cluster.txt
		{"15.1X49-D120.3", 15, 1, 'X', 49, 120, 0, 3, "15.1X49"},
		{"11.1R3.5", 11, 1, 'R', 3, 0, 0, 5, "11.1"},        // request-package-add.xml
		{"12.3R12-S20.1", 12, 3, 'R', 12, 0, 20, 1, "12.3"}, // EX3300 capture
		{"21.4R1.12", 21, 4, 'R', 1, 0, 0, 12, "21.4"},
		{"12.1X46-D55.3", 12, 1, 'X', 46, 55, 0, 3, "12.1X46"},
		{"15.1F6-S12", 15, 1, 'F', 6, 0, 12, 0, "15.1F"},
		{"14.2I0", 14, 2, 'I', 0, 0, 0, 0, "14.2I"},
		{"14.1D0", 14, 1, 'D', 0, 0, 0, 0, "14.1D"},
		{"16.1B1.3", 16, 1, 'B', 1, 0, 0, 3, "16.1B"},
		{"10.0R1", 10, 0, 'R', 1, 0, 0, 0, "10.0"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			v, err := ParseJunos(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got := []int{v.Major(), v.Minor(), int(v.Type()), v.Release(), v.DNumber(), v.ServiceRelease(), v.Spin()}
			want := []int{tc.major, tc.minor, int(tc.typ), tc.rel, tc.d, tc.s, tc.spin}
			if !slices.Equal(got, want) {
				t.Errorf("parts = %v, want %v", got, want)
			}
			if v.String() != tc.in || v.Train() != tc.train {
				t.Errorf("String %q Train %q", v.String(), v.Train())
			}
			g, err := Junos{}.Parse(tc.in)
			if err != nil || g.(JunosVersion) != v {
				t.Errorf("Junos{}.Parse = %v, %v", g, err)
			}
		})
	}
}

func TestJunosParseMalformed(t *testing.T) {
	for _, in := range []string{
		"", " 21.4R3", "21.4R3 ", "21.4", "21.4R", "21.4r3", "21.04R3", "021.4R3", "21.4R03",
		"21.4R3-S", "21.4R3-S0", "21.4R3-S05", "21.4R3.0", "21.4R3.", "21.4R3-S5.", "21.4R3-S5-EVO",
		"15.1X49", "15.1X49-D", "15.1X49-D0", "15.1X49-S1", "15.1X49-D180-S1", "21.4R3-D10",
		"17.3-2017-07-02.0_builder", "13.3-20131120", "13.2I20140401_1054_katharh", "13.2I20140401",
		"21.4Z3", "21.4R3-S10.2.1", "R21.4", "21.4R3\n", "2144.4R3", "21.444R3", "21.4R12345",
		"21.4R3-S5\x00", "２1.4R3", "JUNOS 21.4R3", "21.4R3_S5", "21.4R3-S5/", "-21.4R3",
		strings.Repeat("1", 200),
	} {
		_, err := ParseJunos(in)
		assertMalformed(t, Junos{}, in, err)
		if _, err := (Junos{}).Parse(in); err == nil {
			t.Errorf("Junos{}.Parse(%q) accepted", in)
		}
	}
}

func TestJunosParseReason(t *testing.T) {
	_, err := ParseJunos("21.4R3-S0")
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Reason != `service release "0" must be positive` {
		t.Errorf("got %v", err)
	}
	_, err = ParseJunos("15.1X49")
	if !errors.As(err, &pe) || pe.Reason != `an X train needs "-D<n>" after X49` {
		t.Errorf("got %v", err)
	}
}

func TestJunosOrder(t *testing.T) {
	// Ascending; each strictly below the next.
	order := []string{
		"12.3X48-D10.3",
		"15.1R7",
		"15.1F6-S12",
		"15.1X49-D70.3",
		"15.1X49-D170.4",
		"15.1X49-D180.2",
		"17.3R1.10",
		"19.4R3-S4.1",
		"21.4I0",
		"21.4B1",
		"21.4R1.12",
		"21.4R3",
		"21.4R3.13",
		"21.4R3-S5",
		"21.4R3-S5.4",
		"21.4R3-S7.9",
		"21.4R3-S10",
		"21.4R3-S10.2",
		"22.2R3-S7.4",
		"22.4R3-S2",
		"23.4R2-S2.1",
	}
	for i := range order {
		for j := range order {
			a, b := jv(order[i]), jv(order[j])
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
	if jv("21.4R3-S10").Compare(jv("21.4R3-S5")) != 1 {
		t.Error("21.4R3-S10 must be newer than 21.4R3-S5")
	}
	v := jv("21.4R3")
	var nilPtr *JunosVersion
	p := v.(JunosVersion)
	if v.Compare(nil) != 1 || v.Compare(nilPtr) != 1 || v.Compare(&p) != 0 {
		t.Error("nil or pointer compare")
	}
	if got := v.Compare(dv("21.4")); got != strings.Compare("21.4R3", "21.4") {
		t.Errorf("other grammar compares by text, got %d", got)
	}
}

func TestJunosSameRelease(t *testing.T) {
	j := func(s string) JunosVersion { return jv(s).(JunosVersion) }
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"21.4R3-S5", "21.4R3-S5.4", true},
		{"21.4R3-S5.4", "21.4R3-S5", true},
		{"23.4R2-S5", "23.4R2-S5.5", true},
		{"21.4R3", "21.4R3.15", true},
		{"15.1X49-D180", "15.1X49-D180.2", true},
		{"21.4R3-S5.4", "21.4R3-S5.4", true},
		{"21.4R3-S5.4", "21.4R3-S5.5", false},
		{"21.4R3", "21.4R3-S5", false},
		{"21.4R3-S5", "21.4R3-S10", false},
		{"21.4R3-S5", "22.4R3-S5", false},
		{"15.1X49-D170.4", "15.1X49-D180.2", false},
	} {
		if got := j(tc.a).SameRelease(j(tc.b)); got != tc.want {
			t.Errorf("SameRelease(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if j(tc.a).SameRelease(j(tc.b)) != j(tc.b).SameRelease(j(tc.a)) {
			t.Errorf("SameRelease(%s, %s) not symmetric", tc.a, tc.b)
		}
	}
}

// spanKinds renders violations as "rule:kind:name:want" for table tests.
func spanKinds(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var vs Violations
	if !errors.As(err, &vs) || !errors.Is(err, ErrViolation) {
		t.Fatalf("error %T %v is not Violations", err, err)
	}
	var out []string
	for _, v := range vs {
		kind := "?"
		switch v.Kind {
		case ErrSpanExceeded:
			kind = "span"
		case ErrReleaseNotInTable:
			kind = "not-in-table"
		case ErrUnknownVersion:
			kind = "unknown"
		}
		if v.Party != PartyRelease || !errors.Is(err, v.Kind) {
			t.Errorf("violation %+v", v)
		}
		out = append(out, v.Rule+":"+kind+":"+v.Name+":"+v.Want)
	}
	return out
}

// realSRXPath is Juniper's "Junos upgrade paths for SRX platforms" hop list.
var realSRXPath = []string{"15.1X49-D70.3", "15.1X49-D170.4", "19.4R3-S4.1", "20.4R2-S2.2", "21.4R3-S7.9", "22.2R3-S7.4"}

func TestCheckJunosHop(t *testing.T) {
	table := DefaultJunosReleases()
	const r = RuleJunosReleaseSpan + ":"
	for _, tc := range []struct {
		name, from, to string
		want           []string
	}{
		{"same train, newer D", "15.1X49-D70.3", "15.1X49-D170.4", nil},
		{"EEOL 15.1X49 to the second EEOL 19.4 (over 18.4)", "15.1X49-D170.4", "19.4R3-S4.1", nil},
		{"EEOL to next EEOL, 4 releases", "19.4R3-S4.1", "20.4R2-S2.2", nil},
		{"EEOL to next EEOL", "20.4R2-S2.2", "21.4R3-S7.9", nil},
		{"two releases", "21.4R3-S7.9", "22.2R3-S7.4", nil},
		{"EEOL to the EEOL after next", "19.4R3-S4.1", "21.4R3-S7.9", nil},
		{"exactly three releases", "17.1R1", "17.4R1", nil},
		{"runbook 18.2 -> 18.4", "18.2R3", "18.4R3-S1", nil},
		{"runbook 18.4 -> 19.4", "18.4R3-S1", "19.4R3-S4.1", nil},
		{"same version", "21.4R3-S7.9", "21.4R3-S7.9", nil},
		{"downgrade EEOL to previous EEOL", "21.4R3-S7.9", "20.4R2-S2.2", nil},
		{"23.2 -> 24.2 is two table rows (no 23.3, 24.1)", "23.2R2", "24.2R1", nil},

		{"real path shortcut refused: 15.1X49 -> 22.2", "15.1X49-D70.3", "22.2R3-S7.4",
			[]string{r + "span:15.1X49-D70.3:via 19.4"}},
		{"15.1X49 -> 20.4 skips two EEOLs", "15.1X49-D170.4", "20.4R2-S2.2",
			[]string{r + "span:15.1X49-D170.4:via 19.4"}},
		{"four releases from a non-EEOL", "17.1R1", "18.1R1", []string{r + "span:17.1R1:via 17.4"}},
		{"non-EEOL to EEOL beyond three: go via the next EEOL", "18.2R3", "19.4R3-S4.1",
			[]string{r + "span:18.2R3:via 18.4"}},
		{"EEOL to non-EEOL beyond three", "20.4R2-S2.2", "22.2R3-S7.4", []string{r + "span:20.4R2-S2.2:via 21.4"}},
		{"EEOL three EEOLs ahead", "18.4R3-S1", "21.4R3-S7.9", []string{r + "span:18.4R3-S1:via 20.4"}},
		{"22.4 is not marked EEOL", "21.4R3-S7.9", "22.4R3-S2", []string{r + "span:21.4R3-S7.9:via 22.3"}},
		{"downgrade beyond the span", "22.2R3-S7.4", "20.4R2-S2.2", []string{r + "span:22.2R3-S7.4:via 21.4"}},

		{"train before the table", "12.3X48-D10.3", "15.1X49-D180.2", []string{r + "not-in-table:12.3X48-D10.3:"}},
		{"train after the table", "24.4R1", "25.2R1", []string{r + "not-in-table:25.2R1:"}},
		{"feature velocity train", "15.1F6-S12", "16.1R7", []string{r + "not-in-table:15.1F6-S12:"}},
		{"internal build target", "21.4R3", "21.4I0", []string{r + "not-in-table:21.4I0:"}},
		{"both unknown", "12.1X44-D10.4", "9.3R1", []string{r + "not-in-table:12.1X44-D10.4:", r + "not-in-table:9.3R1:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckJunosHop(table, jv(tc.from), jv(tc.to))
			if got := spanKinds(t, err); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q (%v)", got, tc.want, err)
			}
			if err != nil && !strings.Contains(err.Error(), RuleJunosReleaseSpan) {
				t.Errorf("message %q does not name the rule", err)
			}
		})
	}
}

func TestCheckJunosHopMessage(t *testing.T) {
	err := CheckJunosHop(DefaultJunosReleases(), jv("15.1X49-D70.3"), jv("22.2R3-S7.4"))
	want := `versionpath: junos-release-span: release "15.1X49-D70.3": upgrade spans more than three Junos releases ` +
		`(have 15.1X49 -> 22.2: 24 releases, want via 19.4, target 22.2R3-S7.4)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if !errors.Is(err, ErrSpanExceeded) || !errors.Is(err, ErrViolation) {
		t.Error("errors.Is")
	}
}

func TestCheckJunosHopUnknownVersions(t *testing.T) {
	table := DefaultJunosReleases()
	var nilPtr *JunosVersion
	p := jv("21.4R3").(JunosVersion)
	for name, pair := range map[string][2]Version{
		"nil from":      {nil, jv("21.4R3")},
		"nil to":        {jv("21.4R3"), nil},
		"nil pointer":   {nilPtr, jv("21.4R3")},
		"other grammar": {dv("21.4"), jv("21.4R3")},
	} {
		t.Run(name, func(t *testing.T) {
			err := CheckJunosHop(table, pair[0], pair[1])
			if !errors.Is(err, ErrUnknownVersion) || !errors.Is(err, ErrViolation) {
				t.Errorf("got %v", err)
			}
		})
	}
	if err := CheckJunosHop(table, &p, jv("22.2R3")); err != nil {
		t.Errorf("pointer version: %v", err)
	}
}

func TestCheckJunosPathRealSRX(t *testing.T) {
	table := DefaultJunosReleases()
	var path []Version
	for _, s := range realSRXPath {
		path = append(path, jv(s))
	}
	// Hop by hop.
	for i := 1; i < len(path); i++ {
		if err := CheckJunosHop(table, path[i-1], path[i]); err != nil {
			t.Errorf("hop %s -> %s: %v", path[i-1], path[i], err)
		}
	}
	if err := CheckJunosPath(table, path...); err != nil {
		t.Errorf("CheckJunosPath: %v", err)
	}
	// The same path with the 19.4 and 20.4 hops dropped: both offending hops reported.
	err := CheckJunosPath(table, path[0], path[1], path[4], path[5])
	want := []string{RuleJunosReleaseSpan + ":span:15.1X49-D170.4:via 19.4"}
	if got := spanKinds(t, err); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	err = CheckJunosPath(table, jv("15.1X49-D70.3"), jv("20.4R2-S2.2"), jv("22.2R3-S7.4"))
	want = []string{RuleJunosReleaseSpan + ":span:15.1X49-D70.3:via 19.4", RuleJunosReleaseSpan + ":span:20.4R2-S2.2:via 21.4"}
	if got := spanKinds(t, err); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := CheckJunosPath(table); err != nil {
		t.Error(err)
	}
	if err := CheckJunosPath(table, path[0]); err != nil {
		t.Error(err)
	}
}

func TestJunosPath(t *testing.T) {
	table := DefaultJunosReleases()
	realCatalog, err := ParseCatalog(Junos{}, realSRXPath[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		catalog  Catalog
		from, to string
		want     []string
	}{
		{"real SRX path, fewest hops", realCatalog, "15.1X49-D70.3", "22.2R3-S7.4",
			[]string{"19.4R3-S4.1", "21.4R3-S7.9", "22.2R3-S7.4"}},
		{"direct within the span", realCatalog, "21.4R3-S7.9", "22.2R3-S7.4", []string{"22.2R3-S7.4"}},
		{"within the train", realCatalog, "15.1X49-D70.3", "15.1X49-D170.4", []string{"15.1X49-D170.4"}},
		{"same version", realCatalog, "21.4R3-S7.9", "21.4R3-S7.9", []string{}},
		{"target need not be in the catalog", realCatalog, "19.4R3-S4.1", "22.3R3", []string{"21.4R3-S7.9", "22.3R3"}},
		{"highest version of an intermediate train", mustCatalog(t, "18.4R1", "18.4R3-S10", "18.4R2", "19.4R3-S4.1"),
			"18.2R3", "19.4R3-S4.1", []string{"18.4R3-S10", "19.4R3-S4.1"}},
		{"non-EEOL catalog hops when the EEOL is missing", mustCatalog(t, "17.4R3", "18.3R3"),
			"17.1R1", "18.4R3", []string{"17.4R3", "18.3R3", "18.4R3"}},
		{"catalog entries outside the table are ignored", mustCatalog(t, "12.3X48-D10.3", "15.1F6-S12", "19.4R3-S4.1", "26.2R1"),
			"15.1X49-D170.4", "20.4R2-S2.2", []string{"19.4R3-S4.1", "20.4R2-S2.2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hops, err := JunosPath(table, tc.catalog, jv(tc.from), jv(tc.to))
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(hops))
			for i, h := range hops {
				got[i] = h.String()
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if err := CheckJunosPath(table, append([]Version{jv(tc.from)}, hops...)...); err != nil {
				t.Errorf("computed path breaks the rule: %v", err)
			}
		})
	}
}

func mustCatalog(t *testing.T, vs ...string) Catalog {
	t.Helper()
	c, err := ParseCatalog(Junos{}, vs...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestJunosPathErrors(t *testing.T) {
	table := DefaultJunosReleases()
	c := mustCatalog(t, "19.4R3-S4.1", "21.4R3-S7.9")
	for _, tc := range []struct {
		name     string
		c        Catalog
		from, to Version
		want     error
		at       string
	}{
		{"nil from", c, nil, jv("21.4R3"), ErrNoLevels, "<nil>"},
		{"nil pointer to", c, jv("21.4R3"), (*JunosVersion)(nil), ErrNoLevels, "<nil>"},
		{"downgrade", c, jv("22.2R3"), jv("21.4R3"), ErrDowngrade, ""},
		{"not junos", c, dv("19.4"), jv("21.4R3"), ErrReleaseNotInTable, "not a Junos version: 19.4"},
		{"train not in table", c, jv("12.3X48-D10.3"), jv("21.4R3"), ErrReleaseNotInTable, "12.3X48"},
		{"target train not in table", c, jv("21.4R3"), jv("26.2R1"), ErrReleaseNotInTable, "26.2"},
		{"catalog lacks the EEOL", mustCatalog(t, "21.4R3-S7.9"), jv("15.1X49-D70.3"), jv("22.2R3-S7.4"),
			ErrMissingMinor, "no catalog release of 19.4"},
		{"empty catalog", nil, jv("18.2R3"), jv("19.4R3-S4.1"), ErrMissingMinor, "no catalog release of 18.4"},
		{"foreign catalog entry", Catalog{dv("6.5.1")}, jv("18.2R3"), jv("19.4R3"), ErrBadTable, "catalog entry 6.5.1 is not a Junos version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hops, err := JunosPath(table, tc.c, tc.from, tc.to)
			var pe *PathError
			if !errors.As(err, &pe) || !errors.Is(err, tc.want) || pe.At != tc.at || hops != nil || err.Error() == "" {
				t.Errorf("got %v (%#v), want %v at %q", err, pe, tc.want, tc.at)
			}
		})
	}
}

func TestJunosReleaseTableErrors(t *testing.T) {
	for name, table := range map[string][]JunosRelease{
		"empty":       nil,
		"malformed":   {{Train: "19.4"}, {Train: "20.4R1"}},
		"type letter": {{Train: "15.1F"}},
		"descending":  {{Train: "20.4"}, {Train: "19.4"}},
		"duplicate":   {{Train: "19.4"}, {Train: "19.4", EEOL: true}},
		"space":       {{Train: " 19.4"}},
	} {
		t.Run(name, func(t *testing.T) {
			errs := []error{
				CheckJunosHop(table, jv("19.4R3"), jv("20.4R3")),
				CheckJunosPath(table, jv("19.4R3"), jv("20.4R3")),
			}
			_, err := JunosPath(table, nil, jv("19.4R3"), jv("20.4R3"))
			for _, e := range append(errs, err) {
				if !errors.Is(e, ErrBadTable) || errors.Is(e, ErrViolation) {
					t.Errorf("got %v", e)
				}
			}
		})
	}
	// A custom table: X trains order after their release train.
	custom := []JunosRelease{{Train: "12.3"}, {Train: "12.3X48", EEOL: true}, {Train: "15.1X49", EEOL: true}}
	if err := CheckJunosHop(custom, jv("12.3X48-D10.3"), jv("15.1X49-D180.2")); err != nil {
		t.Error(err)
	}
}

func TestDefaultJunosReleasesIsFresh(t *testing.T) {
	a := DefaultJunosReleases()
	a[0].EEOL = false
	if !DefaultJunosReleases()[0].EEOL {
		t.Error("DefaultJunosReleases shares its slice")
	}
	var eeol []string
	for _, r := range DefaultJunosReleases() {
		if r.EEOL {
			eeol = append(eeol, r.Train)
		}
	}
	if want := []string{"15.1X49", "18.4", "19.4", "20.4", "21.4"}; !slices.Equal(eeol, want) {
		t.Errorf("EEOL rows %q, want %q", eeol, want)
	}
}

func FuzzJunosParse(f *testing.F) {
	fuzzGrammar(f, Junos{}, append(append([]string{}, realSRXPath...),
		"", "21.4R3-S10", "21.4R3.15", "12.3X48-D10.3", "15.1X49", "21.4R3-S0", "13.2I20140401_1054_katharh", "21.04R3")...)
}

// FuzzJunosHop: the rule never panics, and an allowed hop is one JunosPath
// would accept as a single hop.
func FuzzJunosHop(f *testing.F) {
	for i := 1; i < len(realSRXPath); i++ {
		f.Add(realSRXPath[i-1], realSRXPath[i])
	}
	f.Add("15.1X49-D70.3", "22.2R3-S7.4")
	f.Add("12.3X48-D10.3", "21.4I0")
	table := DefaultJunosReleases()
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err1 := ParseJunos(a)
		vb, err2 := ParseJunos(b)
		if err1 != nil || err2 != nil {
			return
		}
		err := CheckJunosHop(table, va, vb)
		if err != nil && !errors.Is(err, ErrViolation) {
			t.Fatalf("untyped %v", err)
		}
		if va.Compare(vb) >= 0 {
			return
		}
		hops, perr := JunosPath(table, nil, va, vb)
		if err == nil && (perr != nil || len(hops) != 1) {
			t.Fatalf("allowed hop %s -> %s but JunosPath = %v, %v", a, b, hops, perr)
		}
		if err != nil && perr == nil {
			t.Fatalf("refused hop %s -> %s but JunosPath = %v without a catalog", a, b, hops)
		}
	})
}
