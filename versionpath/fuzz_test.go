package versionpath

import (
	"errors"
	"testing"
)

func fuzzGrammar(f *testing.F, g Grammar, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := g.Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) || pe.Grammar != g.Name() || pe.Input != s {
				t.Fatalf("Parse(%q): error %T %v breaks the contract", s, err, err)
			}
			if v != nil {
				t.Fatalf("Parse(%q): version with error", s)
			}
			_ = err.Error()
			return
		}
		if v.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, v.String())
		}
		if v.Compare(v) != 0 {
			t.Fatalf("Parse(%q) does not compare equal to itself", s)
		}
		w, err := g.Parse(v.String())
		if err != nil || w.Compare(v) != 0 || v.Compare(w) != 0 {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

func FuzzDottedParse(f *testing.F) {
	fuzzGrammar(f, Dotted{}, "", "6", "6.", "6.a", "1..2", " 6.5", "6.5.2721", "8.0.0-1000.2432", "6.3-patch.2309", "18446744073709551616", "6.5-a..b")
}

func FuzzCheckPointParse(f *testing.F) {
	fuzzGrammar(f, CheckPoint{}, "", "R", "R81.20", "R82", "R80.20SP", "R76SP.10", "R80SP20", "R81..20")
}
