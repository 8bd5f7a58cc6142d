package clavister

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseListingFixture: the E5Web (OEM cOS Core) root listing gives its
// eight names in order, directories marked by their trailing "/". The
// capture prints no sizes.
func TestParseListingFixture(t *testing.T) {
	in := readFixture(t, fixtureListing)
	want := []Entry{
		{Name: "HTTPALGBanners", Dir: true},
		{Name: "HTTPAuthBanners", Dir: true},
		{Name: "certificate", Dir: true},
		{Name: "config.bak"},
		{Name: "full.bak"},
		{Name: "license.lic"},
		{Name: "script", Dir: true},
		{Name: "sshclientkey", Dir: true},
	}
	for name, s := range map[string]string{
		"capture":                  in,
		"capture, CRLF":            strings.ReplaceAll(in, "\n", "\r\n"),
		"capture, trailing prompt": in + "Device:/> \n",
		"capture, prompt and command on separate lines (docs)": strings.Replace(in, "Device:/> ls\n", "Device:/>\nls\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseListing(s)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestParseListingVariants(t *testing.T) {
	const v = "variant (no capture): "
	tests := []struct {
		name, in string
		want     []Entry
	}{
		{v + "no prompt", "full.bak\nscript/\n", []Entry{{Name: "full.bak"}, {Name: "script", Dir: true}}},
		{v + "ls of a directory, other prompt", "fw-a:/> ls script\n\nupgrade.sgs\n", []Entry{{Name: "upgrade.sgs"}}},
		{v + "names that start like an error word", "error.log\nfailed-1.txt\nusage.txt\n",
			[]Entry{{Name: "error.log"}, {Name: "failed-1.txt"}, {Name: "usage.txt"}}},
		{v + "a file named ls, not after a bare prompt", "Device:/> ls\nls\n", []Entry{{Name: "ls"}}},
		{v + "firmware package", "Device:/> ls\ncos-core-14.00.10-fw.upg\n", []Entry{{Name: "cos-core-14.00.10-fw.upg"}}},
		{v + "every accepted character", "Aa0_.-+~@#,=()[]/\n" + strings.Repeat("a", 255) + "\n",
			[]Entry{{Name: "Aa0_.-+~@#,=()[]", Dir: true}, {Name: strings.Repeat("a", 255)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseListing(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseListingFailsClosed(t *testing.T) {
	tests := map[string]string{
		"empty":                  "",
		"white space":            " \r\n\n",
		"prompt only":            "Device:/> ls\n",
		"bare prompt and ls":     "Device:/>\nls\n",
		"error line":             "Device:/> ls\nError: Unknown command: ls\n",
		"error line after name":  "Device:/> ls nosuch\nconfig.bak\nError: No such directory\n",
		"error word then space":  "Device:/> ls\nFailed to list directory\n",
		"unknown command":        "Device:/> ls\nUnknown command: ls\n",
		"other command":          "Device:/> ha\nThis device is a HA SLAVE\n",
		"lsx is not ls":          "Device:/> lsx\nconfig.bak\n",
		"sizes (unknown format)": "Device:/> ls\nconfig.bak 1234\nfull.bak 5678\n",
		"tab inside":             "config.bak\t1234\n",
		"control character":      "config\x00.bak\n",
		"invalid UTF-8":          "config\xff.bak\n",
		"slash only":             "/\n",
		"dot":                    ".\n",
		"dot dot":                "../\n",
		"path":                   "script/upgrade.sgs\n",
		"two slashes":            "script//\n",
		"listed twice":           "config.bak\nconfig.bak\n",
		"file and dir same":      "script\nscript/\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseListing(in)
			pe := requireParseError(t, err, "ls")
			assert.Nil(t, got)
			assert.True(t, strings.HasPrefix(in, pe.Output))
		})
	}
}

// FuzzParseListing: ParseListing never panics; failures are *ParseError
// (ErrUnrecognized) for "ls" with the output cut to 512 bytes and no
// entries; successes list at least one unique, single-token name.
func FuzzParseListing(f *testing.F) {
	in := readFixture(f, fixtureListing)
	for _, s := range []string{
		in,
		strings.ReplaceAll(in, "\n", "\r\n"),
		"Device:/>\nls\nscript/\n",
		"Device:/> ls\nError: Unknown command: ls\n",
		"config.bak 1234\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := ParseListing(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("untyped error %T %v", err, err)
			}
			if pe.Command != "ls" || pe.Reason == "" || len(pe.Output) > maxErrorOutput || !strings.HasPrefix(in, pe.Output) {
				t.Fatalf("bad ParseError %+v", pe)
			}
			if entries != nil {
				t.Fatalf("error with entries %v", entries)
			}
			return
		}
		if len(entries) == 0 {
			t.Fatal("no entries and no error")
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if e.Name == "" || e.Name == "." || e.Name == ".." || !lsNameRe.MatchString(e.Name) || seen[e.Name] {
				t.Fatalf("bad entry %+v in %v", e, entries)
			}
			if !strings.Contains(in, e.Name) {
				t.Fatalf("entry %q not in the output", e.Name)
			}
			seen[e.Name] = true
		}
	})
}
