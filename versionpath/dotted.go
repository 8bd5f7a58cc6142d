package versionpath

import (
	"fmt"
	"strconv"
	"strings"
)

// Dotted is the default Grammar ("dotted"): unsigned decimal fields separated
// by dots, optionally followed by "-" and a suffix:
//
//	version = field *( "." field ) [ "-" suffix ]
//	field   = 1*DIGIT                     ; fits in uint64; leading zeros kept
//	suffix  = ident *( ( "." / "-" ) ident )
//	ident   = 1*( ALPHA / DIGIT )          ; ASCII only
//
// Anything else is malformed: "", "6.", "6.a", "1..2", ".6", "6.5-",
// "v6.5", a sign, white space anywhere, or more than MaxVersionLen bytes.
// A single field ("6") is valid for Dotted; rules that need major.minor (Path)
// reject it themselves with ErrNoLevels.
//
// Parse returns a DottedVersion. Ordering: fields compare numerically, field
// by field, a missing field counting as 0 (so "6.5" == "6.5.0" and
// "6.05" == "6.5": Compare can be 0 for different text); with equal fields, no suffix sorts before any suffix
// (the suffix refines a release, as in Aviatrix "8.0.0-1000.2432"), and
// suffixes compare identifier by identifier, numerically when both are
// digits, digits before letters, otherwise byte-wise. This is deliberately
// not SemVer pre-release ordering: use SemVer for that.
//
// Versions of this shape come from Aviatrix (Major.Minor.Build) and other dotted vendor schemes. Unlike the
// Aviatrix Terraform provider's CompareSoftwareVersions, a version without a
// build is not higher than the same minor with a build.
type Dotted struct{}

// Name returns "dotted".
func (Dotted) Name() string { return "dotted" }

// Parse validates s against the Dotted grammar and returns a DottedVersion.
// Errors are *ParseError wrapping ErrMalformed.
func (Dotted) Parse(s string) (Version, error) {
	fail := failer("dotted", s)
	if reason := checkInput(s); reason != "" {
		return fail("%s", reason)
	}
	num, suffix, hasSuffix := strings.Cut(s, "-")
	if hasSuffix {
		if reason := checkSuffix(suffix); reason != "" {
			return fail("suffix %q: %s", suffix, reason)
		}
	}
	fields := make([]uint64, 0, strings.Count(num, ".")+1)
	rest := num
	for i := 1; ; i++ {
		f, tail, more := strings.Cut(rest, ".")
		if f == "" {
			return fail("field %d is empty", i)
		}
		if !isDigits(f) {
			return fail("field %d %q is not a decimal number", i, f)
		}
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return fail("field %d %q does not fit in 64 bits", i, f)
		}
		fields = append(fields, n)
		if !more {
			break
		}
		rest = tail
	}
	return DottedVersion{text: s, fields: fields, suffix: suffix}, nil
}

// checkSuffix validates a Dotted suffix and returns "" or the reason.
func checkSuffix(s string) string {
	if s == "" {
		return "empty"
	}
	prevSep := true // the suffix must not start with a separator
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' || c == '-':
			if prevSep {
				return "empty identifier"
			}
			prevSep = true
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			prevSep = false
		default:
			return fmt.Sprintf("character %q is not a letter, digit, '.' or '-'", c)
		}
	}
	if prevSep {
		return "empty identifier"
	}
	return ""
}

// DottedVersion is a Version of the Dotted grammar. Obtain one from
// Dotted.Parse (the Version it returns has this dynamic type); the zero value
// is not a valid version.
type DottedVersion struct {
	text   string
	fields []uint64
	suffix string
}

// String returns the parsed text, verbatim (leading zeros included).
func (v DottedVersion) String() string { return v.text }

// NumFields returns the number of numeric fields (1 for "6", 3 for
// "6.5.2721").
func (v DottedVersion) NumFields() int { return len(v.fields) }

// Field returns numeric field i (0-based: 0 is the major); a missing field is
// 0.
func (v DottedVersion) Field(i int) uint64 {
	if i < 0 || i >= len(v.fields) {
		return 0
	}
	return v.fields[i]
}

// Fields returns a copy of the numeric fields.
func (v DottedVersion) Fields() []uint64 { return append([]uint64(nil), v.fields...) }

// Suffix returns the text after the first "-", or "" when there is none.
func (v DottedVersion) Suffix() string { return v.suffix }

// MajorMinor returns fields 0 and 1. ok is false when the version has a
// single field, since a release catalog cannot place it in a minor.
func (v DottedVersion) MajorMinor() (major, minor uint64, ok bool) {
	if len(v.fields) < 2 {
		return 0, 0, false
	}
	return v.fields[0], v.fields[1], true
}

// Compare orders v against other as documented on Dotted. Another grammar's
// version compares by String(); nil sorts lowest.
func (v DottedVersion) Compare(other Version) int {
	var o DottedVersion
	switch t := other.(type) {
	case DottedVersion:
		o = t
	case *DottedVersion:
		if t == nil {
			return 1
		}
		o = *t
	default:
		return compareText(v, other)
	}
	if c := compareFields(v.fields, o.fields); c != 0 {
		return c
	}
	if c := compareSuffix(v.suffix, o.suffix); c != 0 {
		return c
	}
	return 0
}

// compareSuffix orders Dotted suffixes: none first, then identifier by
// identifier; suffixes that differ only in separators or in leading zeros of
// numeric identifiers compare equal, like numeric fields do.
func compareSuffix(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	x, y := a, b
	for x != "" && y != "" {
		var i, j string
		i, x = nextIdent(x)
		j, y = nextIdent(y)
		if c := compareIdent(i, j); c != 0 {
			return c
		}
	}
	switch {
	case x == "" && y != "":
		return -1
	case x != "" && y == "":
		return 1
	}
	return 0
}

// nextIdent splits off the first identifier of a suffix.
func nextIdent(s string) (ident, rest string) {
	i := strings.IndexAny(s, ".-")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// compareIdent compares two suffix identifiers: both numeric compare by value
// (any length), numeric sorts before alphanumeric, otherwise byte-wise.
func compareIdent(a, b string) int {
	da, db := isDigits(a), isDigits(b)
	switch {
	case da && db:
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	case da:
		return -1
	case db:
		return 1
	}
	return strings.Compare(a, b)
}
