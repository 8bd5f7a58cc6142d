package clavister

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/hitless/hitless/versionpath"
)

// GrammarName is the versionpath grammar name of cOS Core versions.
const GrammarName = "clavister-cos-core"

// Version is a cOS Core firmware version (Clavister KB 324735653, version
// numbering):
//
//	LTS.Feature.Maintenance[.Patch][-Build][ TP]
//
// e.g. "14.00.10", "14.00.10.01-12345", "12.00.12.03-12345" (REST
// /api/about), "10.21.02.01-25325" and "9.30.08.21-22257 TP" (SNMP
// sysDescr). Each dotted field is one or two decimal digits (the scheme uses
// two, older LTS majors print one: "9.30"); the build is 1 to 9 digits; " TP"
// (exactly one space, upper case) marks a technical preview. The patch field
// is inferred from examples, not documented.
//
// The zero value is "0.00.00". Version is comparable with ==, which compares
// every field; use Compare for ordering.
type Version struct {
	LTS, Feature, Maintenance int
	// Patch is the optional 4th field; meaningful only when HasPatch.
	Patch int
	// Build is the "-NNNNN" build number; meaningful only when HasBuild.
	Build                           int
	HasPatch, HasBuild, TechPreview bool
}

// ParseVersion parses a cOS Core version (see Version). It never trims its
// input: surrounding white space is malformed. Errors are a
// *versionpath.ParseError (Grammar "clavister-cos-core", Input s) wrapping
// versionpath.ErrMalformed. Malformed examples: "", "14", "14.00",
// "14.0a.1", "14.00.10-", "-1.00.00", "14.00.10 tp", "14.00.10.01.02".
func ParseVersion(s string) (Version, error) {
	fail := func(format string, args ...any) (Version, error) {
		return Version{}, &versionpath.ParseError{Grammar: GrammarName, Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case s == "":
		return fail("empty")
	case len(s) > versionpath.MaxVersionLen:
		return fail("longer than %d bytes", versionpath.MaxVersionLen)
	}
	var v Version
	rest := s
	if r, ok := strings.CutSuffix(rest, " TP"); ok {
		v.TechPreview, rest = true, r
	}
	if strings.ContainsFunc(rest, func(r rune) bool { return r < '0' && r != '.' && r != '-' || r > '9' }) {
		return fail(`only digits, ".", "-" and a final " TP" are allowed`)
	}
	if strings.HasPrefix(rest, "-") {
		return fail(`starts with "-"`)
	}
	num, build, hasBuild := strings.Cut(rest, "-")
	if hasBuild {
		if !isDigits(build, 9) {
			return fail("build %q is not 1 to 9 decimal digits", build)
		}
		v.Build, _ = strconv.Atoi(build)
		v.HasBuild = true
	}
	fields := strings.Split(num, ".")
	if len(fields) < 3 || len(fields) > 4 {
		return fail("want LTS.Feature.Maintenance[.Patch], got %d dotted fields", len(fields))
	}
	names := [...]string{"LTS", "feature", "maintenance", "patch"}
	ptrs := [...]*int{&v.LTS, &v.Feature, &v.Maintenance, &v.Patch}
	for i, f := range fields {
		if !isDigits(f, 2) {
			return fail("%s field %q is not 1 or 2 decimal digits", names[i], f)
		}
		*ptrs[i], _ = strconv.Atoi(f)
	}
	v.HasPatch = len(fields) == 4
	return v, nil
}

// isDigits reports whether s is 1 to n ASCII digits.
func isDigits(s string, n int) bool {
	if s == "" || len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String returns the canonical text: LTS as a plain number, the other dotted
// fields with two digits ("9.30.08.21-22257 TP", "14.00.10"). The patch and
// the build appear only when present. ParseVersion(v.String()) == v.
func (v Version) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d.%02d.%02d", v.LTS, v.Feature, v.Maintenance)
	if v.HasPatch {
		fmt.Fprintf(&b, ".%02d", v.Patch)
	}
	if v.HasBuild {
		fmt.Fprintf(&b, "-%d", v.Build)
	}
	if v.TechPreview {
		b.WriteString(" TP")
	}
	return b.String()
}

// Compare returns -1, 0 or +1 when v is lower than, equal to or higher than
// o. Rules (after Clavister KB 324735653: compare numerically field by
// field, the build breaks ties, a technical preview is not GA):
//
//  1. LTS, Feature, Maintenance and Patch compare numerically, field by
//     field; a missing patch counts as 0.
//  2. With equal numbers, the build decides only when BOTH have one: a
//     version without a build equals the same numbers with any build
//     ("14.00.10" == "14.00.10-12345"), which is why Compare is not a total
//     order when builds are partly missing.
//  3. Still equal, a technical preview sorts before the release ("... TP" <
//     the same without TP): a TP build does not count as GA.
//
// o may be a Version or a non-nil *Version; a nil o sorts lowest (+1);
// another grammar's version compares by String(), byte-wise, as in package
// versionpath.
func (v Version) Compare(o versionpath.Version) int {
	switch t := o.(type) {
	case nil:
		return 1
	case Version:
		return v.compare(t)
	case *Version:
		if t == nil {
			return 1
		}
		return v.compare(*t)
	default:
		return strings.Compare(v.String(), o.String())
	}
}

func (v Version) compare(o Version) int {
	if c := cmp.Compare(v.LTS, o.LTS); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Feature, o.Feature); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Maintenance, o.Maintenance); c != 0 {
		return c
	}
	if c := cmp.Compare(v.patch(), o.patch()); c != 0 {
		return c
	}
	if v.HasBuild && o.HasBuild {
		if c := cmp.Compare(v.Build, o.Build); c != 0 {
			return c
		}
	}
	switch {
	case v.TechPreview && !o.TechPreview:
		return -1
	case !v.TechPreview && o.TechPreview:
		return 1
	}
	return 0
}

func (v Version) patch() int {
	if v.HasPatch {
		return v.Patch
	}
	return 0
}

// Grammar is the versionpath.Grammar of cOS Core versions, named
// "clavister-cos-core". Parse is ParseVersion; the Version it returns has
// the dynamic type clavister.Version.
type Grammar struct{}

var _ versionpath.Grammar = Grammar{}

// Name returns "clavister-cos-core".
func (Grammar) Name() string { return GrammarName }

// Parse parses s with ParseVersion. Errors are a *versionpath.ParseError
// wrapping versionpath.ErrMalformed.
func (Grammar) Parse(s string) (versionpath.Version, error) {
	v, err := ParseVersion(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}
