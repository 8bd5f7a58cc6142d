package versionpath

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// assertMalformed checks the error contract of every Grammar.
func assertMalformed(t *testing.T, g Grammar, in string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s.Parse(%q): want error, got nil", g.Name(), in)
	}
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("%s.Parse(%q): error %v does not wrap ErrMalformed", g.Name(), in, err)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("%s.Parse(%q): error %T is not *ParseError", g.Name(), in, err)
	}
	if pe.Grammar != g.Name() || pe.Input != in || pe.Reason == "" {
		t.Errorf("%s.Parse(%q): ParseError = %+v", g.Name(), in, pe)
	}
	if msg := err.Error(); !strings.Contains(msg, g.Name()) || (len(in) <= 64 && !strings.Contains(msg, fmtQ(in))) {
		t.Errorf("%s.Parse(%q): message %q does not name grammar and input", g.Name(), in, msg)
	}
}

func TestGrammarNames(t *testing.T) {
	for _, tc := range []struct {
		g    Grammar
		want string
	}{{Dotted{}, "dotted"}, {SemVer{}, "semver"}, {CheckPoint{}, "checkpoint"}} {
		if got := tc.g.Name(); got != tc.want {
			t.Errorf("Name() = %q, want %q", got, tc.want)
		}
	}
}

func TestDottedParse(t *testing.T) {
	valid := []struct {
		in     string
		fields []uint64
		suffix string
	}{
		{"6", []uint64{6}, ""},
		{"6.5", []uint64{6, 5}, ""},
		{"6.5.2721", []uint64{6, 5, 2721}, ""},
		{"14.00.10", []uint64{14, 0, 10}, ""},
		{"1.2.3.4.5", []uint64{1, 2, 3, 4, 5}, ""},
		{"0", []uint64{0}, ""},
		{"8.0.0-1000.2432", []uint64{8, 0, 0}, "1000.2432"},
		{"6.3-patch.2309", []uint64{6, 3}, "patch.2309"},
		{"7.1.1794-rc-1", []uint64{7, 1, 1794}, "rc-1"},
		{"18446744073709551615.1", []uint64{18446744073709551615, 1}, ""},
	}
	for _, tc := range valid {
		t.Run("valid/"+tc.in, func(t *testing.T) {
			v, err := Dotted{}.Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			d, ok := v.(DottedVersion)
			if !ok {
				t.Fatalf("Parse(%q) returned %T", tc.in, v)
			}
			if d.String() != tc.in || !slices.Equal(d.Fields(), tc.fields) || d.Suffix() != tc.suffix || d.NumFields() != len(tc.fields) {
				t.Errorf("Parse(%q) = %q %v %q", tc.in, d.String(), d.Fields(), d.Suffix())
			}
			if d.Field(len(tc.fields)) != 0 || d.Field(-1) != 0 {
				t.Errorf("missing fields must read as 0")
			}
		})
	}
	malformed := []string{
		"", "6.", "6.a", "1..2", ".6", "6.5.", "a", "v6.5", "+6", "-6", "6.-5",
		" 6.5", "6.5 ", "6.5\n", "\t6.5", "6. 5", "6\u00a0.5", " ",
		"6.5-", "6.5-a..b", "6.5-.a", "6.5-a.", "6.5-a_b", "6.5-ä", "6.5+meta",
		"18446744073709551616.1", "6,5", "６.５",
		strings.Repeat("1.", 64) + "1",
	}
	for _, in := range malformed {
		t.Run("malformed/"+in, func(t *testing.T) {
			v, err := Dotted{}.Parse(in)
			if v != nil {
				t.Errorf("Parse(%q) returned a version %v with the error", in, v)
			}
			assertMalformed(t, Dotted{}, in, err)
		})
	}
}

func TestSemVerParse(t *testing.T) {
	for _, in := range []string{"1.2.3", "0.0.0", "8.0.0-1000.2432", "1.0.0-rc.1+build.5", "10.20.30"} {
		v, err := SemVer{}.Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if v.String() != in {
			t.Errorf("String() = %q, want %q", v.String(), in)
		}
		sv := v.(SemVerVersion)
		if sv.Semver() == nil || sv.Semver().Original() != in {
			t.Errorf("Semver() of %q = %v", in, sv.Semver())
		}
		if _, _, ok := sv.MajorMinor(); !ok {
			t.Errorf("MajorMinor of %q not ok", in)
		}
	}
	for _, in := range []string{"", "6", "6.", "6.a", "1..2", "6.5", "v1.2.3", "01.2.3", " 1.2.3", "1.2.3 ", "1.2.3-", "1.2.3-a..b", "1.2.3.4", strings.Repeat("9", 200)} {
		v, err := SemVer{}.Parse(in)
		if v != nil {
			t.Errorf("Parse(%q) returned %v with the error", in, v)
		}
		assertMalformed(t, SemVer{}, in, err)
	}
}

func TestCheckPointParse(t *testing.T) {
	for _, tc := range []struct {
		in     string
		fields []uint64
		sp     bool
	}{
		{"R82", []uint64{82}, false},
		{"R81.20", []uint64{81, 20}, false},
		{"R81.10", []uint64{81, 10}, false},
		{"R80.20SP", []uint64{80, 20}, true},
		{"R80.30SP", []uint64{80, 30}, true},
		{"R76SP.10", []uint64{76, 10}, true},
		{"R76SP", []uint64{76}, true},
		{"R77.30", []uint64{77, 30}, false},
		{"R82.10", []uint64{82, 10}, false},
	} {
		v, err := CheckPoint{}.Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		c := v.(CheckPointVersion)
		if c.String() != tc.in || !slices.Equal(c.Fields(), tc.fields) || c.ScalablePlatforms() != tc.sp {
			t.Errorf("Parse(%q) = %q %v sp=%v", tc.in, c.String(), c.Fields(), c.ScalablePlatforms())
		}
	}
	for _, in := range []string{
		"", "6", "6.", "6.a", "1..2", "R", "R.", "R81.", "R81..20", "r81.20", "R81.a",
		"R80.20SPSP", "R80SP.20SP", "R80SP20", "R80.20sp", "R80.20 SP", " R81.20", "R81.20\n",
		"R81.20-T92", "81.20", "RR81", "R-81", "R99999999999999999999",
	} {
		v, err := CheckPoint{}.Parse(in)
		if v != nil {
			t.Errorf("Parse(%q) returned %v with the error", in, v)
		}
		assertMalformed(t, CheckPoint{}, in, err)
	}
}

func TestParseErrorTruncatesLongInput(t *testing.T) {
	in := strings.Repeat("x", 1000)
	_, err := Dotted{}.Parse(in)
	if len(err.Error()) > 200 {
		t.Errorf("message not truncated: %d bytes", len(err.Error()))
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Input != in {
		t.Errorf("Input must keep the full text")
	}
}

func TestMustParse(t *testing.T) {
	if got := MustParse(Dotted{}, "6.5.1").String(); got != "6.5.1" {
		t.Errorf("MustParse = %q", got)
	}
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("MustParse panic = %v, want a malformed error", r)
		}
	}()
	MustParse(Dotted{}, "6.a")
}
