package clavister

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitless/hitless/versionpath"
)

// haSeeds returns the `ha` captures in testdata/ha plus the documented
// variants (no capture) as fuzz seeds.
func haSeeds(f *testing.F) []string {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "ha", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no ha fixtures: %v", err)
	}
	var seeds []string
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, string(b), strings.ReplaceAll(string(b), "\n", "\r\n"))
	}
	return append(seeds,
		"This device is an HA MASTER\nThis device is currently Active (for 1m 12s)\nHA cluster peer is ALIVE\nHA object sync: 100%\n",
		"This device is a HA SLAVE\nThis device is currently INACTIVE (will not forward traffic)\nThis device has been inactive: 3 sec\nHA cluster peer is NOT ALIVE\nHA object sync: 42%\n",
		"Device:/>\nha\nThis device is a HA SLAVE\nInactive (for 2d 3h 4m 5s)\n",
		"Error: Unknown command: ha\n",
		"",
	)
}

// FuzzParseHA: ParseHA never panics; failures are *ParseError (ErrUnrecognized)
// with the output cut to 512 bytes; successes are internally consistent.
func FuzzParseHA(f *testing.F) {
	for _, s := range haSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseHA(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("untyped error %T %v", err, err)
			}
			if pe.Command != "ha" || pe.Reason == "" || len(pe.Output) > maxErrorOutput || !strings.HasPrefix(in, pe.Output) {
				t.Fatalf("bad ParseError %+v", pe)
			}
			if st != (HAStatus{}) {
				t.Fatalf("error with a non-zero status %+v", st)
			}
			return
		}
		if !st.Configured {
			if st != (HAStatus{StateText: st.StateText}) || st.StateText == "" {
				t.Fatalf("standalone with HA facts %+v", st)
			}
			return
		}
		if st.Role != "master" && st.Role != "slave" {
			t.Fatalf("role %q", st.Role)
		}
		if st.StateText == "" || !strings.Contains(in, st.StateText) {
			t.Fatalf("state text %q not from the input", st.StateText)
		}
		if st.SyncPercent < 0 || st.SyncPercent > 100 || (!st.SyncKnown && st.SyncPercent != 0) {
			t.Fatalf("sync %d known=%v", st.SyncPercent, st.SyncKnown)
		}
		if st.TimeInState < 0 || (!st.TimeKnown && st.TimeInState != 0) {
			t.Fatalf("time in state %v known=%v", st.TimeInState, st.TimeKnown)
		}
		if st.PeerAlive && !strings.Contains(strings.ToUpper(in), "ALIVE") {
			t.Fatal("peer alive without ALIVE in the input")
		}
	})
}

// FuzzParseVersion: ParseVersion never panics; failures are
// *versionpath.ParseError naming the input; successes round-trip through
// String and compare equal to themselves.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{
		"14.00.10", "14.00.10.01-12345", "12.00.12.03-12345", "10.21.02.01-25325",
		"9.30.08.21-22257 TP", "9.30.04.10-18175", "14.00.09.00-31234",
		"", "14", "14.00", "14.0a.1", "14.00.10-", "-1.00.00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := ParseVersion(in)
		if err != nil {
			var pe *versionpath.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, versionpath.ErrMalformed) {
				t.Fatalf("untyped error %T %v", err, err)
			}
			if pe.Input != in || pe.Grammar != GrammarName {
				t.Fatalf("bad ParseError %+v", pe)
			}
			return
		}
		again, err := ParseVersion(v.String())
		if err != nil || again != v {
			t.Fatalf("%q -> %q -> %+v, %v", in, v.String(), again, err)
		}
		if v.Compare(v) != 0 || v.Compare(again) != 0 {
			t.Fatalf("%q does not equal itself", in)
		}
		if v.LTS < 0 || v.Feature < 0 || v.Maintenance < 0 || v.Patch < 0 || v.Build < 0 {
			t.Fatalf("negative field in %+v", v)
		}
	})
}

// FuzzParseStats: no panic; failures are typed.
func FuzzParseStats(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "stats", "kb309987444-e80-screenshot-transcription.txt"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("Uptime : 1 day, 00:00:05\nConnections : 0 out of 256000\n")
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseStats(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrUnrecognized) || pe.Command != "stats" {
				t.Fatalf("untyped error %T %v", err, err)
			}
			return
		}
		if st.Uptime < 0 || st.ConnectionsActive < 0 || st.ConnectionsMax < 0 {
			t.Fatalf("negative value in %+v", st)
		}
	})
}

// FuzzParseAbout: no panic; failures are typed; a found version is valid.
func FuzzParseAbout(f *testing.F) {
	f.Add("Clavister cOS Core 10.21.02.01-25325")
	f.Add("Clavister CorePlus 9.30.08.21-22257 TP")
	f.Add("fw-a:/> about\nClavister cOS Core 14.00.09.00-31234\n")
	f.Fuzz(func(t *testing.T, in string) {
		v, err := ParseAbout(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrUnrecognized) || pe.Command != "about" {
				t.Fatalf("untyped error %T %v", err, err)
			}
			return
		}
		if _, err := ParseVersion(v.String()); err != nil {
			t.Fatalf("found invalid version %+v: %v", v, err)
		}
	})
}
