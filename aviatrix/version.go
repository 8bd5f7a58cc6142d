package aviatrix

import (
	"cmp"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/hitless/hitless/versionpath"
)

// PathRules returns the Aviatrix release-train facts for
// versionpath.PathWith: the last minor of each major in scope, 6 -> 9 and
// 7 -> 2. Source: the documented walk across majors, "… -> 6.9.latest ->
// 7.0 -> … -> 7.2.latest -> 8.0" (docs.aviatrix.com
// upgrade-aviatrix/upgrade-overview, "Upgrade Overview"). The
// planner (PlanUpgrade, Cluster.Plan) and every controller hop check
// (ControllerHopSteps, the controller member's Install) use it, so a
// catalog that omits 6.9 cannot take 6.8.x straight to 7.0.x
// (versionpath.ErrMissingMinor, "6.9"). A new call returns a new map.
func PathRules() versionpath.PathRules {
	return versionpath.PathRules{LastMinor: map[uint64]uint64{6: 9, 7: 2}}
}

// VersionPrefix is the product prefix the controller puts on versions
// ("UserConnect-7.1.1794"); ParseVersion strips it (as the Terraform
// provider's ParseVersion does).
const VersionPrefix = "UserConnect-"

// maxVersionLen bounds version text, prefix included, in bytes.
const maxVersionLen = 64

// Version is one Aviatrix software release, Major.Minor.Build
// (Aviatrix Docs, "Upgrade Overview", "About Release Numbers"): 6.5.100 is major 6, minor 5, build 100. It implements
// versionpath.Version and versionpath.Leveled, so versionpath.Path and the
// controller-before-gateway checks (versionpath.CheckControllerHop, …) run
// on it directly.
//
// Forms accepted by ParseVersion:
//
//	6.5.2721                  Major.Minor.Build
//	UserConnect-7.1.1794      the controller's prefixed form (prefix dropped)
//	6.5                       Major.Minor without a build (HasBuild false)
//	6.3-patch.2309            a tagged minor (Tag "patch"); parsed, but the
//	                          planner refuses it (ErrUnsupportedVersion)
//
// 8.x strings ("8.0.0-1000.2432") are refused with ErrUnsupportedVersion:
// no public 8.x upgrade API exists (Terraform provider PR #2100 removed
// every upgrade call).
//
// Ordering (Compare): major, minor, then untagged before tagged (tags
// byte-wise), then a version without a build before any build of its minor,
// then build, numerically. This deliberately differs from the provider's
// CompareSoftwareVersions, where "6.5" sorts above "6.5.100" and two
// different tags compare equal (quirks not worth copying).
// Major.Minor.Build comparison uses github.com/Masterminds/semver/v3.
//
// The zero Version is invalid; obtain one from ParseVersion.
type Version struct {
	sv       *semver.Version // Major.Minor.Build (Build 0 when absent); never mutated
	tag      string
	hasBuild bool
	text     string // canonical text: the input without VersionPrefix
}

// ParseVersion parses Aviatrix version text (see Version for the forms).
// Errors are *VersionError wrapping ErrVersion (malformed: "", "6", "6.",
// "6.a", "6.5.", white space, a sign, more than 64 bytes, fields above
// 999999999) or ErrUnsupportedVersion (8.x and later).
func ParseVersion(s string) (Version, error) {
	fail := func(reason string) (Version, error) {
		return Version{}, &VersionError{Input: s, Reason: reason, Err: ErrVersion}
	}
	if s == "" {
		return fail("empty")
	}
	if len(s) > maxVersionLen {
		return fail("longer than 64 bytes")
	}
	text := strings.TrimPrefix(s, VersionPrefix)
	major, rest, ok := number(text)
	if !ok {
		return fail("major is not a decimal number")
	}
	if major >= 8 {
		if _, err := semver.NewVersion(text); err == nil && strings.HasPrefix(rest, ".") {
			return Version{}, &VersionError{Input: s, Err: ErrUnsupportedVersion,
				Reason: "8.x releases are out of scope: the 8.x (CoPilot) upgrade API is not public (provider PR #2100)"}
		}
		return fail("not an Aviatrix release (major 8 and later use another scheme)")
	}
	if !strings.HasPrefix(rest, ".") {
		return fail("missing minor: want Major.Minor[.Build]")
	}
	minor, rest, ok := number(rest[1:])
	if !ok {
		return fail("minor is not a decimal number")
	}
	var tag string
	if strings.HasPrefix(rest, "-") {
		i := 1
		for i < len(rest) && isAlnum(rest[i]) {
			i++
		}
		tag, rest = rest[1:i], rest[i:]
		if tag == "" || !isLetter(tag[0]) {
			return fail("minor tag must start with a letter, e.g. 6.3-patch.2309")
		}
	}
	var build uint64
	hasBuild := false
	if strings.HasPrefix(rest, ".") {
		build, rest, ok = number(rest[1:])
		if !ok {
			return fail("build is not a decimal number")
		}
		hasBuild = true
	}
	if rest != "" {
		return fail("unexpected text " + strconv.Quote(rest))
	}
	return Version{sv: semver.New(major, minor, build, "", ""), tag: tag, hasBuild: hasBuild, text: text}, nil
}

// MustParseVersion is ParseVersion that panics on error; for constants in
// tests and examples.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// number reads 1..9 ASCII digits at the start of s.
func number(s string) (n uint64, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 9 {
		return 0, s, false
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	return n, s[i:], err == nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool  { return isLetter(c) || c >= '0' && c <= '9' }

// IsZero reports whether v is the zero (invalid) Version.
func (v Version) IsZero() bool { return v.sv == nil }

// String returns the canonical text: the parsed input without
// "UserConnect-" (e.g. "6.5.2721", "6.3-patch.2309", "6.5").
func (v Version) String() string { return v.text }

// Major returns the major number.
func (v Version) Major() uint64 { return v.field(0) }

// Minor returns the minor number.
func (v Version) Minor() uint64 { return v.field(1) }

// Build returns the build number (0 when HasBuild is false).
func (v Version) Build() uint64 { return v.field(2) }

// HasBuild reports whether the text had a build ("6.5.100", not "6.5").
func (v Version) HasBuild() bool { return v.hasBuild }

// Tag returns the minor's build-id tag ("patch" in "6.3-patch.2309"), or "".
func (v Version) Tag() string { return v.tag }

// MajorMinor implements versionpath.Leveled.
func (v Version) MajorMinor() (major, minor uint64, ok bool) {
	if v.sv == nil {
		return 0, 0, false
	}
	return v.sv.Major(), v.sv.Minor(), true
}

// SameMinor reports whether v and o share major.minor (and tag).
func (v Version) SameMinor(o Version) bool {
	return v.Major() == o.Major() && v.Minor() == o.Minor() && v.tag == o.tag
}

func (v Version) field(i int) uint64 {
	if v.sv == nil {
		return 0
	}
	switch i {
	case 0:
		return v.sv.Major()
	case 1:
		return v.sv.Minor()
	}
	return v.sv.Patch()
}

// Compare implements versionpath.Version with the order documented on
// Version. A version of another grammar compares by String(); nil sorts
// lowest.
func (v Version) Compare(other versionpath.Version) int {
	var o Version
	switch t := other.(type) {
	case Version:
		o = t
	case *Version:
		if t == nil {
			return 1
		}
		o = *t
	case nil:
		return 1
	default:
		return strings.Compare(v.String(), other.String())
	}
	switch {
	case v.sv == nil && o.sv == nil:
		return 0
	case v.sv == nil:
		return -1
	case o.sv == nil:
		return 1
	}
	if c := cmp.Compare(v.sv.Major(), o.sv.Major()); c != 0 {
		return c
	}
	if c := cmp.Compare(v.sv.Minor(), o.sv.Minor()); c != 0 {
		return c
	}
	if v.tag != o.tag {
		switch {
		case v.tag == "":
			return -1
		case o.tag == "":
			return 1
		}
		return strings.Compare(v.tag, o.tag)
	}
	if v.hasBuild != o.hasBuild {
		if !v.hasBuild {
			return -1
		}
		return 1
	}
	return v.sv.Compare(o.sv)
}

// Equal reports whether v and o compare equal.
func (v Version) Equal(o Version) bool { return v.Compare(o) == 0 }

// Grammar is the versionpath.Grammar of Aviatrix versions ("aviatrix"). It
// lets versionpath and upgrade (e.g. upgrade.Rolling) compare Aviatrix
// versions. Parse returns a Version; its errors are *VersionError (not
// *versionpath.ParseError) wrapping ErrVersion or ErrUnsupportedVersion.
type Grammar struct{}

// Name returns "aviatrix".
func (Grammar) Name() string { return "aviatrix" }

// Parse implements versionpath.Grammar with ParseVersion.
func (Grammar) Parse(s string) (versionpath.Version, error) {
	v, err := ParseVersion(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}
