package versionpath

import (
	"errors"
	"fmt"
	"slices"
)

// Sentinel categories of path errors. A *PathError unwraps to one of them.
var (
	// ErrDowngrade: the target is lower than the current version. Upgrade
	// paths only move forward (Aviatrix: "a target can never be lower than
	// the running version", Aviatrix upgrade overview).
	ErrDowngrade = errors.New("versionpath: target is behind the current version")
	// ErrNotInCatalog: the target release is not in the catalog.
	ErrNotInCatalog = errors.New("versionpath: target not in catalog")
	// ErrMissingMinor: a minor (or the first minor of the next major) that
	// the sequential walk must pass through is missing from the catalog (or,
	// with PathRules, skipped by it).
	ErrMissingMinor = errors.New("versionpath: intermediate minor release missing from catalog")
	// ErrNoLevels: a version (endpoint or catalog entry) has no major.minor
	// levels, e.g. Dotted "6" or any CheckPoint release.
	ErrNoLevels = errors.New("versionpath: version has no major.minor levels")
	// ErrBadTable: a rule table (TakeMinimum, MultiStage, PathRules) is
	// inconsistent, holds malformed releases or contradicts the catalog. It signals a configuration mistake, not a
	// rule violation.
	ErrBadTable = errors.New("versionpath: invalid rule table")
)

// PathError reports why no upgrade path exists. It unwraps to Err, one of
// ErrDowngrade, ErrNotInCatalog, ErrMissingMinor, ErrNoLevels or ErrBadTable.
type PathError struct {
	From, To Version // the requested endpoints, as given (may be nil)
	// At names what the problem is about: the missing minor ("6.5") or major
	// ("7.x"), the version without levels, or the offending table entry.
	At  string
	Err error
}

// Error names the path, the category and At.
func (e *PathError) Error() string {
	msg := fmt.Sprintf("%v (path %s -> %s)", e.Err, versionString(e.From), versionString(e.To))
	if e.At != "" {
		msg += ": " + e.At
	}
	return msg
}

// Unwrap returns Err.
func (e *PathError) Unwrap() error { return e.Err }

// Leveled is a Version with major and minor release levels, as Path needs.
// DottedVersion (two or more fields) and SemVerVersion implement it.
type Leveled interface {
	Version
	// MajorMinor returns the major and minor numbers; ok is false when the
	// version has none.
	MajorMinor() (major, minor uint64, ok bool)
}

// Catalog is the list of releases available for upgrade (e.g. what the
// Aviatrix controller lists), in any order; duplicates are harmless. Path
// needs every entry to be Leveled.
type Catalog []Version

// ParseCatalog parses every text with g. All parse errors are reported at
// once (errors.Join of *ParseError).
func ParseCatalog(g Grammar, versions ...string) (Catalog, error) {
	c := make(Catalog, 0, len(versions))
	var errs []error
	for _, s := range versions {
		v, err := g.Parse(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c = append(c, v)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

type minorKey struct{ major, minor uint64 }

func (k minorKey) String() string { return fmt.Sprintf("%d.%d", k.major, k.minor) }

func compareKeys(a, b minorKey) int {
	switch {
	case a.major != b.major:
		if a.major < b.major {
			return -1
		}
		return 1
	case a.minor < b.minor:
		return -1
	case a.minor > b.minor:
		return 1
	}
	return 0
}

func levels(v Version) (minorKey, bool) {
	l, ok := v.(Leveled)
	if !ok || l == nil {
		return minorKey{}, false
	}
	ma, mi, ok := l.MajorMinor()
	return minorKey{ma, mi}, ok
}

// Path returns the hops that take a controller from `from` to `to` over the
// releases in c, following the Aviatrix selective-upgrade rules
// (Aviatrix Docs HowTos/selective_upgrade.rst and docs.aviatrix.com
// upgrade-aviatrix/upgrade-overview):
//
//   - Builds within a major.minor may be skipped: a target in the current
//     minor is reached in one hop (6.6.100 -> 6.6.900).
//   - Minors are sequential. "Each hop: the controller first goes to the
//     latest build of its current minor, then to the next minor": before
//     leaving a minor, Path first hops to that minor's latest build in c
//     when `from` is below it; every intermediate minor is entered at its
//     latest build in c; the last hop is exactly `to` (not that minor's
//     latest build). 6.4.321 -> 6.6.123 gives [6.4.<latest>] 6.5.<latest>
//     6.6.123, the bracketed hop only when c has a 6.4 build above 6.4.321.
//   - Majors: every minor of the current major present in c is walked up to
//     the highest one in c, then the walk enters the lowest minor of the next
//     major present in c (6.9.x -> 7.0.x). c is trusted to list the last
//     minor of each major; Path cannot know about releases c omits. When the
//     last minor of each major is known, state it with PathWith and
//     PathRules.LastMinor: a catalog without 6.9 then cannot take 6.8.x
//     straight to 7.0.x.
//
// The result lists explicit catalog versions, never "latest" (AVX-44255:
// "latest" with several pending versions targeted the wrong hop), excluding
// `from` and ending with `to`; it is empty when to equals from. `from` need
// not be in c.
//
// Errors (*PathError): ErrNoLevels when from, to or an entry of c is not
// Leveled with major.minor (e.g. Dotted "6"); ErrDowngrade when to is below
// from; ErrNotInCatalog when to is not in c; ErrMissingMinor when a minor
// between the two (or the next major) is absent from c.
func Path(c Catalog, from, to Version) ([]Version, error) {
	return PathWith(c, from, to, PathRules{})
}

// PathRules are facts about a vendor's release train that a catalog may not
// show. The zero value states none: PathWith is then Path.
type PathRules struct {
	// LastMinor maps a major to its last minor. For Aviatrix it is
	// {6: 9, 7: 2}, from the documented walk "… → 6.9.latest → 7.0 → … →
	// 7.2.latest → 8.0" (Aviatrix Docs upgrade-overview). For a major M listed here, a path
	// leaves M only from minor LastMinor[M] and enters M+1 at its minor 0
	// (the same walk: 6.9 -> 7.0, 7.2 -> 8.0). Majors not listed are
	// trusted to the catalog, as Path does.
	LastMinor map[uint64]uint64
}

// PathWith is Path with the release-train facts of r. Beyond Path's
// errors, for a major M listed in r.LastMinor it returns (*PathError):
//
//   - ErrMissingMinor when the path would leave M from a minor other than
//     LastMinor[M], naming the first minor skipped (6.8.x -> 7.0.x with
//     LastMinor[6] = 9: "6.9"), even though c does not list it; and when it
//     would enter M+1 above minor 0 ("7.0" for 6.9.x -> 7.1.x);
//   - ErrBadTable when from, to or a catalog release the path walks
//     through is of major M and above minor LastMinor[M] (the table and the
//     catalog contradict each other).
func PathWith(c Catalog, from, to Version, r PathRules) ([]Version, error) {
	fail := func(err error, at string) ([]Version, error) {
		return nil, &PathError{From: from, To: to, At: at, Err: err}
	}
	fk, ok := levels(from)
	if !ok {
		return fail(ErrNoLevels, versionString(from))
	}
	tk, ok := levels(to)
	if !ok {
		return fail(ErrNoLevels, versionString(to))
	}
	switch d := to.Compare(from); {
	case d < 0 || compareKeys(tk, fk) < 0:
		return fail(ErrDowngrade, "")
	case d == 0:
		return []Version{}, nil
	}

	// Latest build per minor, and whether the target is listed.
	latest := make(map[minorKey]Version)
	found := false
	for _, v := range c {
		k, ok := levels(v)
		if !ok {
			return fail(ErrNoLevels, "catalog entry "+versionString(v))
		}
		if l, seen := latest[k]; !seen || v.Compare(l) > 0 {
			latest[k] = v
		}
		if v.Compare(to) == 0 {
			found = true
		}
	}
	if !found {
		return fail(ErrNotInCatalog, to.String())
	}
	keys := make([]minorKey, 0, len(latest))
	for k := range latest {
		if compareKeys(k, fk) > 0 && compareKeys(k, tk) <= 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareKeys)

	beyondLast := func(k minorKey) bool {
		last, ok := r.LastMinor[k.major]
		return ok && k.minor > last
	}
	for _, k := range append([]minorKey{fk, tk}, keys...) {
		if beyondLast(k) {
			return fail(ErrBadTable, fmt.Sprintf("%s is above the last minor of major %d (%d.%d)", k, k.major, k.major, r.LastMinor[k.major]))
		}
	}

	var hops []Version
	cur, ck := from, fk
	for _, nk := range keys {
		// Leave the current minor from its latest build.
		if l, ok := latest[ck]; ok && l.Compare(cur) > 0 {
			hops = append(hops, l)
			cur = l
		}
		switch {
		case nk.major == ck.major && nk.minor != ck.minor+1:
			return fail(ErrMissingMinor, minorKey{ck.major, ck.minor + 1}.String())
		case nk.major != ck.major && nk.major != ck.major+1:
			return fail(ErrMissingMinor, fmt.Sprintf("%d.x", ck.major+1))
		}
		if last, ok := r.LastMinor[ck.major]; ok && nk.major != ck.major {
			switch {
			case ck.minor != last:
				return fail(ErrMissingMinor, minorKey{ck.major, ck.minor + 1}.String())
			case nk.minor != 0:
				return fail(ErrMissingMinor, minorKey{nk.major, 0}.String())
			}
		}
		ck = nk
		if nk == tk {
			break
		}
		cur = latest[nk]
		hops = append(hops, cur)
	}
	return append(hops, to), nil
}
