package versionpath

import (
	"github.com/Masterminds/semver/v3"
)

// SemVer is a strict Semantic Versioning 2.0.0 Grammar ("semver") backed by
// github.com/Masterminds/semver/v3 StrictNewVersion: exactly
// MAJOR.MINOR.PATCH, no "v" prefix, no leading zeros, optional
// "-prerelease" and "+metadata". "6", "6.5" and "v1.2.3" are malformed.
//
// Ordering is SemVer precedence: a pre-release sorts before its release and
// build metadata is ignored (1.0.0+a == 1.0.0+b). It fits Aviatrix 8.x
// version strings such as "8.0.0-1000.2432"; parsed with Masterminds/semver.
type SemVer struct{}

// Name returns "semver".
func (SemVer) Name() string { return "semver" }

// Parse validates s as a strict semantic version and returns a
// SemVerVersion. Errors are *ParseError wrapping ErrMalformed.
func (SemVer) Parse(s string) (Version, error) {
	fail := failer("semver", s)
	if reason := checkInput(s); reason != "" {
		return fail("%s", reason)
	}
	v, err := semver.StrictNewVersion(s)
	if err != nil {
		return fail("%v", err)
	}
	return SemVerVersion{v: v}, nil
}

// SemVerVersion is a Version of the SemVer grammar. Obtain one from
// SemVer.Parse; the zero value is not a valid version.
type SemVerVersion struct {
	v *semver.Version // never mutated after Parse
}

// String returns the version text (equal to the parsed input, since parsing
// is strict).
func (v SemVerVersion) String() string {
	if v.v == nil {
		return ""
	}
	return v.v.Original()
}

// Semver returns a copy of the underlying Masterminds version, for
// constraint checks and the like.
func (v SemVerVersion) Semver() *semver.Version {
	if v.v == nil {
		return nil
	}
	c := *v.v
	return &c
}

// MajorMinor returns the major and minor numbers; ok is always true for a
// parsed version.
func (v SemVerVersion) MajorMinor() (major, minor uint64, ok bool) {
	if v.v == nil {
		return 0, 0, false
	}
	return v.v.Major(), v.v.Minor(), true
}

// Compare orders by SemVer precedence. Another grammar's version compares by
// String(); nil sorts lowest.
func (v SemVerVersion) Compare(other Version) int {
	var o SemVerVersion
	switch t := other.(type) {
	case SemVerVersion:
		o = t
	case *SemVerVersion:
		if t == nil {
			return 1
		}
		o = *t
	default:
		return compareText(v, other)
	}
	switch {
	case v.v == nil && o.v == nil:
		return 0
	case v.v == nil:
		return -1
	case o.v == nil:
		return 1
	}
	return v.v.Compare(o.v)
}
