package clavister

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Entry is one name listed by the cOS Core CLI command `ls`.
type Entry struct {
	// Name is the file or directory name as listed, without the trailing
	// "/" of a directory, e.g. "full.bak" or "script".
	Name string
	// Dir reports that the name was listed with a trailing "/".
	Dir bool
}

// lsErrorRe is a line that reports a failure ("Error: ...", "Unknown
// command: ...", "Usage: ...": the lines that mean a rejected command). A
// file name such as "error.log" is not one: the word must be followed by a
// colon or by white space.
var lsErrorRe = regexp.MustCompile(`(?i)^(?:error|unknown command|invalid|failed|usage)(?:\s*:|\s)`)

// lsNameRe is the character set accepted in a listed name: ASCII letters,
// digits and _ . - + ~ @ # , = ( ) [ ], 1 to 255 bytes. The capture uses
// only letters, digits and "."; anything else (quotes, braces, colons,
// non-ASCII) is refused, so text that is not a listing fails closed.
var lsNameRe = regexp.MustCompile(`^[A-Za-z0-9_.\-+~@#,=()\[\]]{1,255}$`)

// ParseListing reads the output of the cOS Core CLI command `ls` (the only
// public capture is in the Amer Networks E5Web manual, p.56, an OEM build
// of cOS Core; a copy is in this package's testdata/ls). Accepted shape,
// one name per line, in the order listed:
//
//	Device:/> ls                 optional prompt line: any prompt, with "ls",
//	                             "ls <path>" or no command (then a bare "ls"
//	                             on the next line is the command, as docs
//	                             print it)
//	HTTPALGBanners/              a directory: trailing "/" → Dir true
//	config.bak                   a file
//	full.bak
//	Device:/>                    optional trailing prompt
//
// Blank lines are skipped. Names keep their case and their order. The capture prints names
// only: no sizes, dates or permissions, so Entry has none (whether any
// firmware prints sizes is not documented); a line with white
// space inside is not a name and is refused, so that an unknown format with
// sizes fails closed instead of yielding wrong names.
//
// It returns a *ParseError (errors.Is ErrUnrecognized, Command "ls") for:
// empty output, or output with no name at all (an empty directory cannot
// be told apart from a lost reply); an "Error:"-style line; a prompt
// followed by a command other than ls; a line with white space or control
// characters inside; a name that is empty, ".", "..", longer than 255
// bytes, has a "/" other than one trailing, or has a character other than
// ASCII letters, digits and _ . - + ~ @ # , = ( ) [ ] (so JSON, "Key :
// value" lines and other text are not taken for names); a name listed
// twice.
func ParseListing(output string) ([]Entry, error) {
	fail := func(format string, args ...any) ([]Entry, error) {
		return nil, newParseError("ls", output, fmt.Sprintf(format, args...), nil)
	}
	if strings.TrimSpace(output) == "" {
		return fail("empty output")
	}
	var (
		entries     []Entry
		seen        = map[string]bool{}
		bareCommand bool // the previous line was a prompt without a command
	)
	for i, raw := range strings.Split(output, "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		afterBarePrompt := bareCommand
		bareCommand = false
		if m := promptRe.FindStringSubmatch(line); m != nil {
			cmd := strings.TrimSpace(m[1])
			if cmd == "" {
				bareCommand = true
				continue
			}
			if f := strings.Fields(cmd); f[0] != "ls" {
				return fail("line %d: prompt with command %s: not the output of ls", n, quote(cmd))
			}
			continue
		}
		if afterBarePrompt && line == "ls" {
			continue // the command on its own line (docs)
		}
		if lsErrorRe.MatchString(line) {
			return fail("line %d: the device reported an error: %s", n, quote(line))
		}
		if strings.ContainsFunc(line, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			return fail("line %d: %s is not a single name (white space or control character inside)", n, quote(line))
		}
		name, dir := strings.CutSuffix(line, "/")
		switch {
		case name == "" || name == "." || name == "..":
			return fail("line %d: %s is not a file or directory name", n, quote(line))
		case strings.Contains(name, "/"):
			return fail("line %d: %s has a \"/\" inside", n, quote(line))
		case !lsNameRe.MatchString(name):
			return fail("line %d: %s is not a name (only ASCII letters, digits and _.-+~@#,=()[] are accepted)", n, quote(line))
		case seen[name]:
			return fail("line %d: %s listed twice", n, quote(name))
		}
		seen[name] = true
		entries = append(entries, Entry{Name: name, Dir: dir})
	}
	if len(entries) == 0 {
		return fail("no file or directory listed")
	}
	return entries, nil
}
