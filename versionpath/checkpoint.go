package versionpath

import (
	"strconv"
	"strings"
)

// CheckPoint is the Grammar ("checkpoint") of Check Point release names as
// printed by `fw ver` and `show version all` (Check Point
// R81.x and R82 release names):
//
//	release = "R" field *( "." field ) with at most one "SP" placed directly
//	          after any field, e.g. R82, R81.20, R80.20SP, R76SP.10
//	field   = 1*DIGIT                  ; fits in uint64
//
// "SP" marks the legacy Scalable Platforms (Maestro / chassis) line.
// Case matters; white space, "R", "R81.", "R81..20", "R80SP20", a repeated
// "SP" and anything else are malformed. The build number and the Jumbo
// Hotfix take are not part of the release name.
//
// Parse returns a CheckPointVersion. Ordering: fields numerically, field by
// field, a missing field counting as 0 (R81 < R81.10 < R81.20 < R82); with
// equal fields a non-SP release sorts before the SP one (R80.20 < R80.20SP <
// R80.30). So R81 == R81.0, as with Dotted.
type CheckPoint struct{}

// Name returns "checkpoint".
func (CheckPoint) Name() string { return "checkpoint" }

// Parse validates s as a Check Point release name and returns a
// CheckPointVersion. Errors are *ParseError wrapping ErrMalformed.
func (CheckPoint) Parse(s string) (Version, error) {
	fail := failer("checkpoint", s)
	if reason := checkInput(s); reason != "" {
		return fail("%s", reason)
	}
	if s[0] != 'R' {
		return fail(`does not start with "R"`)
	}
	rest := s[1:]
	var fields []uint64
	sp := false
	for {
		// One field.
		end := 0
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		if end == 0 {
			return fail("field %d is not a decimal number", len(fields)+1)
		}
		n, err := strconv.ParseUint(rest[:end], 10, 64)
		if err != nil {
			return fail("field %d %q does not fit in 64 bits", len(fields)+1, rest[:end])
		}
		fields = append(fields, n)
		rest = rest[end:]
		if strings.HasPrefix(rest, "SP") {
			if sp {
				return fail(`"SP" appears twice`)
			}
			sp = true
			rest = rest[2:]
		}
		if rest == "" {
			break
		}
		if rest[0] != '.' {
			return fail("unexpected %q after field %d", rest, len(fields))
		}
		rest = rest[1:]
	}
	return CheckPointVersion{text: s, fields: fields, sp: sp}, nil
}

// CheckPointVersion is a Version of the CheckPoint grammar. Obtain one from
// CheckPoint.Parse; the zero value is not a valid version. It deliberately
// has no MajorMinor method: Check Point releases do not follow the catalog
// rules of Path.
type CheckPointVersion struct {
	text   string
	fields []uint64
	sp     bool
}

// String returns the release name as parsed, e.g. "R81.20".
func (v CheckPointVersion) String() string { return v.text }

// Fields returns a copy of the numeric fields ([81 20] for R81.20).
func (v CheckPointVersion) Fields() []uint64 { return append([]uint64(nil), v.fields...) }

// ScalablePlatforms reports whether the release carries the "SP" marker of
// the Scalable Platforms line (R80.20SP, R80.30SP, R76SP.10).
func (v CheckPointVersion) ScalablePlatforms() bool { return v.sp }

// Compare orders releases as documented on CheckPoint. Another grammar's
// version compares by String(); nil sorts lowest.
func (v CheckPointVersion) Compare(other Version) int {
	var o CheckPointVersion
	switch t := other.(type) {
	case CheckPointVersion:
		o = t
	case *CheckPointVersion:
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
	switch {
	case !v.sp && o.sp:
		return -1
	case v.sp && !o.sp:
		return 1
	}
	return 0
}
