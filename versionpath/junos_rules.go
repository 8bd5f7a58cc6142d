package versionpath

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// JunosGrammarName is the grammar name of Junos versions, as reported in
// ParseError.Grammar.
const JunosGrammarName = "junos"

// Junos is the Grammar ("junos") of Juniper Junos OS versions as printed by
// `show version` ("Junos: 19.4R3-S1.3") and by the junos-version element of
// the get-software-information RPC:
//
//	version = major "." minor type release [ x-part / s-part ] [ "." spin ]
//	major   = number (1 to 3 digits)       ; 12, 15, 21
//	minor   = number (1 or 2 digits)       ; 1, 3, 4
//	type    = "R" / "X" / "F" / "B" / "A" / "I" / "D"
//	release = number (1 to 4 digits)       ; R3, X49
//	x-part  = "-D" pos                      ; required after "X", forbidden otherwise
//	s-part  = "-S" pos                      ; service release, never after "X"
//	spin    = pos                           ; build respin
//	number  = "0" / pos ; pos = %x31-39 *DIGIT (no leading zeros)
//
// Examples: 21.4R3-S10, 21.4R3-S5, 22.4R3-S2, 15.1X49-D180.2, 12.3X48-D10.3,
// 19.4R3-S4.1, 21.4R3.15, 23.4R2-S2.1, 12.3R12-S20.1. The type letters are R
// (release), X (special train such as the SRX trains 12.1X44 to 15.1X49),
// F (feature velocity), B (beta), A (alpha), I (internal) and D
// (development), after the release naming of the Junos OS Installation and
// Upgrade Guide ("m.nZx.y"). Letters are upper case only. Malformed, among
// others: "", "21.4", "21.4R", "21.4r3", "21.04R3", "21.4R3-S", "21.4R3-S0",
// "15.1X49", "15.1X49-S1", "21.4R3-D10", "21.4R3-S5-EVO" (Junos OS Evolved,
// not run by SRX), development builds ("17.3-2017-07-02.0", "13.3-20131120",
// "13.2I20140401_1054_katharh"), white space anywhere. These strings end up in
// device commands: nothing outside this grammar is accepted.
//
// Parse returns a JunosVersion. Ordering compares the tuple (major, minor,
// type, release, D, S, spin) numerically, a missing part counting as 0, so
// 21.4R3 < 21.4R3.13 < 21.4R3-S5 < 21.4R3-S5.4 < 21.4R3-S10.2 and 21.4R3-S10
// is newer than 21.4R3-S5 (unlike a string compare). Across types major.minor
// decides first (15.1X49-D180.2 < 17.3R1.10). Within one major.minor the
// types order I < D < A < B < R < F < X: pre-releases (internal, development,
// alpha, beta builds) come before the release of the same major.minor, and
// the feature-velocity and special (X) trains are built from that release and
// ship after its R1. Juniper does not define an order across types; this one
// only makes Compare total and deterministic, and the upgrade-path rule
// (CheckJunosHop) never relies on it. With no leading zeros and positive
// D/S/spin numbers, Compare is 0 only for identical text. For "already at
// target" use JunosVersion.SameRelease, where a version without a spin
// matches every spin of it.
//
// JunosVersion deliberately has no MajorMinor method: Junos releases do not
// follow the catalog rules of Path; use JunosPath.
type Junos struct{}

// Name returns "junos".
func (Junos) Name() string { return JunosGrammarName }

// Parse validates s with ParseJunos. The Version it returns has the dynamic
// type JunosVersion. Errors are *ParseError wrapping ErrMalformed.
func (Junos) Parse(s string) (Version, error) {
	v, err := ParseJunos(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// junosTypes lists the accepted type letters in Compare order.
const junosTypes = "IDABRFX"

// junosMaxDigits bounds every number of a Junos version (dates of
// development builds are longer and are refused).
const junosMaxDigits = 4

// ParseJunos parses s as a Junos version (see Junos for the grammar). It
// never trims or rewrites its input. Errors are a *ParseError (Grammar
// "junos", Input s) wrapping ErrMalformed, whose Reason names the part that
// is wrong, e.g. `service release "-S0" must be positive`.
func ParseJunos(s string) (JunosVersion, error) {
	fail := func(format string, args ...any) (JunosVersion, error) {
		return JunosVersion{}, &ParseError{Grammar: JunosGrammarName, Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	if reason := checkInput(s); reason != "" {
		return fail("%s", reason)
	}
	sc := junosScanner{s: s}
	v := JunosVersion{text: s}
	var ok bool
	if v.major, ok = sc.number(3); !ok {
		return fail("major %s", sc.why)
	}
	if !sc.take('.') {
		return fail(`want "." after the major %d`, v.major)
	}
	if v.minor, ok = sc.number(2); !ok {
		return fail("minor %s", sc.why)
	}
	if sc.done() {
		return fail(`release type letter missing after %q (want e.g. "R3" or "X49-D180")`, s)
	}
	c := sc.s[sc.i]
	if strings.IndexByte(junosTypes, c) < 0 {
		return fail("unknown release type %q (want one of R, X, F, B, A, I, D)", c)
	}
	v.typ = c
	sc.i++
	if v.rel, ok = sc.number(junosMaxDigits); !ok {
		return fail("release number after %q %s", c, sc.why)
	}
	switch {
	case v.typ == 'X':
		if !sc.takeStr("-D") {
			return fail(`an X train needs "-D<n>" after X%d`, v.rel)
		}
		if v.d, ok = sc.positive(); !ok {
			return fail("D number %s", sc.why)
		}
	case sc.takeStr("-S"):
		if v.s, ok = sc.positive(); !ok {
			return fail("service release %s", sc.why)
		}
	}
	if sc.take('.') {
		if v.spin, ok = sc.positive(); !ok {
			return fail("spin %s", sc.why)
		}
	}
	if !sc.done() {
		return fail("unexpected %q after %q", s[sc.i:], s[:sc.i])
	}
	return v, nil
}

// junosScanner reads a Junos version left to right.
type junosScanner struct {
	s   string
	i   int
	why string // why the last number failed
}

func (sc *junosScanner) done() bool { return sc.i >= len(sc.s) }

func (sc *junosScanner) take(c byte) bool {
	if sc.i < len(sc.s) && sc.s[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

func (sc *junosScanner) takeStr(p string) bool {
	if strings.HasPrefix(sc.s[sc.i:], p) {
		sc.i += len(p)
		return true
	}
	return false
}

// number reads 1 to max decimal digits without a leading zero ("0" alone is
// allowed).
func (sc *junosScanner) number(max int) (int, bool) {
	j := sc.i
	for j < len(sc.s) && sc.s[j] >= '0' && sc.s[j] <= '9' {
		j++
	}
	digits := sc.s[sc.i:j]
	switch {
	case digits == "":
		sc.why = "is not a decimal number"
		return 0, false
	case len(digits) > max:
		sc.why = fmt.Sprintf("%q has more than %d digits", digits, max)
		return 0, false
	case len(digits) > 1 && digits[0] == '0':
		sc.why = fmt.Sprintf("%q has a leading zero", digits)
		return 0, false
	}
	n, _ := strconv.Atoi(digits) // at most 4 digits
	sc.i = j
	return n, true
}

// positive reads a number that must not be 0.
func (sc *junosScanner) positive() (int, bool) {
	n, ok := sc.number(junosMaxDigits)
	if ok && n == 0 {
		sc.why = `"0" must be positive`
		return 0, false
	}
	return n, ok
}

// JunosVersion is a Version of the Junos grammar. Obtain one from
// ParseJunos or Junos.Parse; the zero value is not a valid version. It is
// comparable with == (same text) and safe to copy.
type JunosVersion struct {
	text         string
	major, minor int
	typ          byte
	rel          int
	d, s, spin   int // 0 = absent
}

// String returns the version text as parsed, e.g. "21.4R3-S10".
func (v JunosVersion) String() string { return v.text }

// Major returns the major number (21 in 21.4R3-S10).
func (v JunosVersion) Major() int { return v.major }

// Minor returns the minor number (4 in 21.4R3-S10).
func (v JunosVersion) Minor() int { return v.minor }

// Type returns the release type letter: 'R', 'X', 'F', 'B', 'A', 'I' or 'D'.
func (v JunosVersion) Type() byte { return v.typ }

// Release returns the number after the type letter: the maintenance release
// (3 in 21.4R3-S10) or, for an X train, the train number (49 in
// 15.1X49-D180.2).
func (v JunosVersion) Release() int { return v.rel }

// DNumber returns the -D number of an X train (180 in 15.1X49-D180.2); 0 for
// other types.
func (v JunosVersion) DNumber() int { return v.d }

// ServiceRelease returns the -S number (10 in 21.4R3-S10); 0 when absent.
func (v JunosVersion) ServiceRelease() int { return v.s }

// Spin returns the respin after the last "." (2 in 15.1X49-D180.2, 15 in
// 21.4R3.15); 0 when absent.
func (v JunosVersion) Spin() int { return v.spin }

// Train returns the release train the version belongs to, as used by the
// release table of CheckJunosHop: "21.4" for R releases, "15.1X49" for X
// trains, and major.minor plus the type letter for the other types ("15.1F",
// "14.2I"), which no release table lists.
func (v JunosVersion) Train() string {
	return junosTrain{v.major, v.minor, v.typ, v.trainRel()}.String()
}

func (v JunosVersion) trainRel() int {
	if v.typ == 'X' {
		return v.rel
	}
	return 0
}

// SameRelease reports whether v and o name the same release for an "already
// at target" decision: every part is equal except the spin, and a version
// without a spin matches any spin. So 21.4R3-S5 matches 21.4R3-S5.4 and
// 21.4R3-S5.5 (a base version as IBM Cloud lists it, against the release
// version a device prints), but 21.4R3-S5.4 does not match 21.4R3-S5.5, and
// 21.4R3 does not match 21.4R3-S5 (a service release is a different
// release). SameRelease is symmetric but, unlike Compare, not transitive.
func (v JunosVersion) SameRelease(o JunosVersion) bool {
	if v.major != o.major || v.minor != o.minor || v.typ != o.typ || v.rel != o.rel || v.d != o.d || v.s != o.s {
		return false
	}
	return v.spin == 0 || o.spin == 0 || v.spin == o.spin
}

// Compare orders versions as documented on Junos. Another grammar's version
// compares by String(), byte-wise; nil sorts lowest (+1).
func (v JunosVersion) Compare(other Version) int {
	var o JunosVersion
	switch t := other.(type) {
	case JunosVersion:
		o = t
	case *JunosVersion:
		if t == nil {
			return 1
		}
		o = *t
	default:
		return compareText(v, other)
	}
	for _, c := range [...]int{
		cmp.Compare(v.major, o.major),
		cmp.Compare(v.minor, o.minor),
		cmp.Compare(strings.IndexByte(junosTypes, v.typ), strings.IndexByte(junosTypes, o.typ)),
		cmp.Compare(v.rel, o.rel),
		cmp.Compare(v.d, o.d),
		cmp.Compare(v.s, o.s),
		cmp.Compare(v.spin, o.spin),
	} {
		if c != 0 {
			return c
		}
	}
	return 0
}

// junosTrain identifies a release train: major.minor, the type letter and,
// for X trains only, the train number.
type junosTrain struct {
	major, minor int
	typ          byte
	rel          int
}

func (t junosTrain) String() string {
	s := strconv.Itoa(t.major) + "." + strconv.Itoa(t.minor)
	switch t.typ {
	case 'R':
		return s
	case 'X':
		return s + "X" + strconv.Itoa(t.rel)
	}
	return s + string(t.typ)
}

func compareTrains(a, b junosTrain) int {
	if c := cmp.Compare(a.major, b.major); c != 0 {
		return c
	}
	if c := cmp.Compare(a.minor, b.minor); c != 0 {
		return c
	}
	if c := cmp.Compare(strings.IndexByte(junosTypes, a.typ), strings.IndexByte(junosTypes, b.typ)); c != 0 {
		return c
	}
	return cmp.Compare(a.rel, b.rel)
}

// parseTrain parses a release-table train name: "M.n" or "M.nX<rel>".
func parseTrain(s string) (junosTrain, error) {
	fail := func(format string, args ...any) (junosTrain, error) {
		return junosTrain{}, &ParseError{Grammar: JunosGrammarName + "-train", Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	if reason := checkInput(s); reason != "" {
		return fail("%s", reason)
	}
	sc := junosScanner{s: s}
	t := junosTrain{typ: 'R'}
	var ok bool
	if t.major, ok = sc.number(3); !ok {
		return fail("major %s", sc.why)
	}
	if !sc.take('.') {
		return fail(`want "." after the major %d`, t.major)
	}
	if t.minor, ok = sc.number(2); !ok {
		return fail("minor %s", sc.why)
	}
	if sc.take('X') {
		t.typ = 'X'
		if t.rel, ok = sc.number(junosMaxDigits); !ok {
			return fail("X train number %s", sc.why)
		}
	}
	if !sc.done() {
		return fail(`unexpected %q: a train is "M.n" or "M.nX<n>", e.g. "21.4" or "15.1X49"`, s[sc.i:])
	}
	return t, nil
}

// RuleJunosReleaseSpan is the Junos three-release span rule with its EEOL
// exception (CheckJunosHop, CheckJunosPath), as reported in Violation.Rule.
const RuleJunosReleaseSpan = "junos-release-span"

// JunosMaxSpan is the largest number of releases one Junos upgrade or
// downgrade may span outside the EEOL exception ("Support for upgrades and
// downgrades that span more than three Junos OS releases at a time is not
// provided", Junos OS release notes, "Upgrade and Downgrade Support Policy
// for Junos OS Releases").
const JunosMaxSpan = 3

// Violation kinds of the Junos release-span rule, found in Violation.Kind
// and matched with errors.Is.
var (
	// ErrSpanExceeded: a hop spans more than JunosMaxSpan releases and is
	// not an EEOL-to-EEOL hop within the next two EEOL releases.
	ErrSpanExceeded = errors.New("versionpath: upgrade spans more than three Junos releases")
	// ErrReleaseNotInTable: a version's release train is not in the release
	// table (or the version is not a Junos release train at all: F, B, A, I
	// and D builds), so the rule cannot place it. Fail closed.
	ErrReleaseNotInTable = errors.New("versionpath: release train not in the Junos release table")
)

// JunosRelease is one row of a Junos release table: a release train and
// whether Juniper designates it an Extended End-of-Life (EEOL) release. A
// table lists every release train of the platform, oldest first, without
// gaps: the rule counts the rows between two trains.
type JunosRelease struct {
	// Train is "M.n" for a release ("21.4") or "M.nX<n>" for an X train
	// ("15.1X49"), as JunosVersion.Train prints it.
	Train string
	// EEOL marks an Extended End-of-Life release.
	EEOL bool
}

// DefaultJunosReleases returns a fresh copy of the built-in SRX release
// table: 15.1X49 (EEOL), 16.1, 16.2, 17.1 to 17.4, 18.1 to 18.4 (18.4 EEOL),
// 19.1 to 19.4 (19.4 EEOL), 20.1 to 20.4 (20.4 EEOL), 21.1 to 21.4 (21.4
// EEOL), 22.1 to 22.4, 23.1, 23.2, 23.4, 24.2, 24.4.
//
// Sources. Release trains: Juniper's documentation archives ("Junos OS and
// Junos OS Evolved Docs: EOS Releases" and "Technical Documentation
// Archives", 16.1 to 23.2; 23.1 is listed there, so it counts, although it
// was withdrawn on most platforms) and the Junos OS Chassis Cluster User
// Guide for SRX Series (ISSU from 23.4R1 and 24.2R1, ICU into 24.4R1).
// EEOL flags: only the releases that the documented SRX upgrade paths need
// to be EEOL: Juniper's "Junos upgrade paths for SRX platforms" hop list
// 15.1X49-D70.3 → 15.1X49-D170.4 → 19.4R3-S4.1 → 20.4R2-S2.2 → 21.4R3-S7.9
// → 22.2R3-S7.4 and a community SRX300-series runbook (15.1X49 → 19.4, 18.2
// → 18.4 → 19.4, 19.4 → 20.4 → 21.4, 21.4 → 22.2). Juniper's own EEOL list
// (the Junos OS Dates & Milestones page) was not available, so 22.4 and
// later are not marked EEOL here: that refuses long hops to and from them
// and proposes shorter ones instead. A missing EEOL flag can also let an
// EEOL-to-EEOL hop over that release pass; between 15.1X49 and 21.4 the
// EEOL-to-EEOL hops this table allows are the documented ones above (and
// 19.4 -> 21.4, 18.4 -> 20.4 over one EEOL). Trains older than 15.1X49 are not listed (their position among the
// mainline trains was not verified); versions on them are refused with
// ErrReleaseNotInTable. Pass your own table to override any of this.
func DefaultJunosReleases() []JunosRelease {
	var t []JunosRelease
	add := func(eeol bool, trains ...string) {
		for _, s := range trains {
			t = append(t, JunosRelease{Train: s})
		}
		t[len(t)-1].EEOL = eeol
	}
	add(true, "15.1X49")
	add(false, "16.1", "16.2", "17.1", "17.2", "17.3", "17.4", "18.1", "18.2", "18.3")
	add(true, "18.4")
	add(false, "19.1", "19.2", "19.3")
	add(true, "19.4")
	add(false, "20.1", "20.2", "20.3")
	add(true, "20.4")
	add(false, "21.1", "21.2", "21.3")
	add(true, "21.4")
	add(false, "22.1", "22.2", "22.3", "22.4", "23.1", "23.2", "23.4", "24.2", "24.4")
	return t
}

// releaseTable is a parsed, validated JunosRelease table.
type releaseTable struct {
	trains []junosTrain
	eeol   []bool
}

func parseReleaseTable(table []JunosRelease) (releaseTable, error) {
	if len(table) == 0 {
		return releaseTable{}, fmt.Errorf("%w: empty Junos release table", ErrBadTable)
	}
	rt := releaseTable{trains: make([]junosTrain, 0, len(table)), eeol: make([]bool, 0, len(table))}
	var bad []error
	for i, row := range table {
		t, err := parseTrain(row.Train)
		if err != nil {
			bad = append(bad, fmt.Errorf("%w: JunosRelease row %d: %w", ErrBadTable, i, err))
			continue
		}
		if n := len(rt.trains); n > 0 && compareTrains(rt.trains[n-1], t) >= 0 {
			bad = append(bad, fmt.Errorf("%w: JunosRelease row %d: %s is not above %s (rows must be strictly ascending)", ErrBadTable, i, t, rt.trains[n-1]))
			continue
		}
		rt.trains = append(rt.trains, t)
		rt.eeol = append(rt.eeol, row.EEOL)
	}
	if len(bad) > 0 {
		return releaseTable{}, errors.Join(bad...)
	}
	return rt, nil
}

// index returns the row of train t, or -1.
func (rt releaseTable) index(t junosTrain) int {
	for i, x := range rt.trains {
		if x == t {
			return i
		}
	}
	return -1
}

// allowed reports whether one hop between rows i and j obeys the policy:
// at most JunosMaxSpan releases apart, or both EEOL with at most one EEOL
// release between them ("the next EEOL release or the one after it"). The
// policy is the same for upgrades and downgrades.
func (rt releaseTable) allowed(i, j int) bool {
	lo, hi := min(i, j), max(i, j)
	if hi-lo <= JunosMaxSpan {
		return true
	}
	if !rt.eeol[lo] || !rt.eeol[hi] {
		return false
	}
	between := 0
	for k := lo + 1; k < hi; k++ {
		if rt.eeol[k] {
			between++
		}
	}
	return between <= 1
}

// route returns the rows of a shortest path of allowed hops from row from to
// row to (excluding from, ending with to) through rows for which usable is
// true, moving monotonically towards to; nil when there is none. Among
// shortest paths, each hop prefers an EEOL release, then the row nearest the
// target (the policy: "first upgrade to the next EEOL release").
func (rt releaseTable) route(from, to int, usable func(int) bool) []int {
	if from == to {
		return []int{}
	}
	step := 1
	if to < from {
		step = -1
	}
	const inf = 1 << 30
	dist := make(map[int]int, abs(to-from)+1)
	dist[to] = 0
	for k := to - step; k != from-step; k -= step {
		dist[k] = inf
		if k != from && !usable(k) {
			continue
		}
		for m := k + step; m != to+step; m += step {
			if dist[m] < inf && rt.allowed(k, m) && dist[m]+1 < dist[k] {
				dist[k] = dist[m] + 1
			}
		}
	}
	if dist[from] >= inf {
		return nil
	}
	var hops []int
	for cur := from; cur != to; {
		best := -1
		for m := cur + step; m != to+step; m += step {
			if dist[m] != dist[cur]-1 || !rt.allowed(cur, m) {
				continue
			}
			if best < 0 || rt.eeol[m] && !rt.eeol[best] || rt.eeol[m] == rt.eeol[best] {
				best = m // later rows are nearer the target
			}
		}
		hops = append(hops, best)
		cur = best
	}
	return hops
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// junosString renders v for messages, tolerating nil and a nil
// *JunosVersion.
func junosString(v Version) string {
	return versionString(junosNil(v))
}

// junosNil returns nil for a nil *JunosVersion, v otherwise.
func junosNil(v Version) Version {
	if p, ok := v.(*JunosVersion); ok && p == nil {
		return nil
	}
	return v
}

// junosOf returns v as a JunosVersion.
func junosOf(v Version) (JunosVersion, bool) {
	switch t := v.(type) {
	case JunosVersion:
		return t, true
	case *JunosVersion:
		if t != nil {
			return *t, true
		}
	}
	return JunosVersion{}, false
}

// CheckJunosHop checks one upgrade (or downgrade) hop from `from` to `to`
// against the Junos release-span rule over table (pass
// DefaultJunosReleases() or your own):
//
//   - a hop within one release train (15.1X49-D70.3 -> 15.1X49-D170.4) or
//     spanning at most JunosMaxSpan rows of the table (21.4 -> 22.2) is
//     allowed;
//   - from an EEOL release, a hop to the next EEOL release or the one after
//     it is allowed whatever the span (19.4 -> 20.4, 15.1X49 -> 19.4 over
//     18.4);
//   - anything else is a violation: Rule RuleJunosReleaseSpan, Kind
//     ErrSpanExceeded, Party PartyRelease, Name `from`, Have e.g.
//     "15.1X49 -> 22.2: 24 releases", Want the first hop of the shortest
//     allowed path over the table, e.g. "via 19.4", Target `to`.
//
// Source: the Junos OS release notes, "Upgrade and Downgrade Support Policy
// for Junos OS Releases": "Support for upgrades and downgrades that span
// more than three Junos OS releases at a time is not provided, except for
// releases that are designated as Extended End-of-Life (EEOL) releases ...
// You can upgrade or downgrade to the EEOL release that occurs directly
// before or after the currently installed EEOL release, or to two EEOL
// releases before or after ... first upgrade to the next EEOL release". The
// policy is symmetric, so a downgrade hop is checked the same way.
//
// Versions must be JunosVersion values (a nil or other version is an
// ErrUnknownVersion violation) whose train is in the table (else one
// ErrReleaseNotInTable violation per version, Have its train). It returns
// nil, Violations, or an error wrapping ErrBadTable for a malformed,
// unordered or empty table. ISSU and ICU have further limits of their own;
// this rule does not check them.
func CheckJunosHop(table []JunosRelease, from, to Version) error {
	rt, err := parseReleaseTable(table)
	if err != nil {
		return err
	}
	return checkJunosHop(rt, from, to).Err()
}

func checkJunosHop(rt releaseTable, from, to Version) Violations {
	f, okF := junosOf(from)
	t, okT := junosOf(to)
	if !okF || !okT {
		return Violations{{Rule: RuleJunosReleaseSpan, Kind: ErrUnknownVersion, Party: PartyRelease,
			Name: junosString(from), Target: junosString(to)}}
	}
	fi := rt.index(junosTrain{f.major, f.minor, f.typ, f.trainRel()})
	ti := rt.index(junosTrain{t.major, t.minor, t.typ, t.trainRel()})
	var vs Violations
	for _, x := range []struct {
		v JunosVersion
		i int
	}{{f, fi}, {t, ti}} {
		if x.i < 0 {
			vs = append(vs, &Violation{Rule: RuleJunosReleaseSpan, Kind: ErrReleaseNotInTable, Party: PartyRelease,
				Name: x.v.String(), Have: x.v.Train(), Target: t.String()})
		}
	}
	if len(vs) > 0 || rt.allowed(fi, ti) {
		return vs
	}
	want := ""
	if r := rt.route(fi, ti, func(int) bool { return true }); len(r) > 0 {
		want = "via " + rt.trains[r[0]].String()
	}
	return Violations{{Rule: RuleJunosReleaseSpan, Kind: ErrSpanExceeded, Party: PartyRelease, Name: f.String(),
		Have:   fmt.Sprintf("%s -> %s: %d releases", f.Train(), t.Train(), abs(ti-fi)),
		Want:   want,
		Target: t.String()}}
}

// CheckJunosPath checks every hop of path (path[0] -> path[1] -> ...) with
// CheckJunosHop and reports all violations at once, hop by hop in order. A
// path of fewer than two versions has no hop and is nil. Errors as for
// CheckJunosHop.
func CheckJunosPath(table []JunosRelease, path ...Version) error {
	rt, err := parseReleaseTable(table)
	if err != nil {
		return err
	}
	var vs Violations
	for i := 1; i < len(path); i++ {
		vs = append(vs, checkJunosHop(rt, path[i-1], path[i])...)
	}
	return vs.Err()
}

// JunosPath returns the hops that take a Junos device from `from` to `to`
// under the release-span rule of CheckJunosHop: [to] when the direct hop is
// allowed (also within one train); otherwise the fewest hops through the
// releases of catalog c (the packages available), each hop preferring an
// EEOL release and then the release nearest the target, and ending with
// `to`. The hop chosen in an intermediate train is the highest version of
// that train in c. Every hop of the result passes CheckJunosHop. The result
// excludes `from` and is empty when to equals from; `to` need not be in c.
// Catalog versions of trains the table does not list are ignored.
//
// With DefaultJunosReleases and c = {15.1X49-D170.4, 19.4R3-S4.1,
// 20.4R2-S2.2, 21.4R3-S7.9, 22.2R3-S7.4}, 15.1X49-D70.3 -> 22.2R3-S7.4
// gives [19.4R3-S4.1 21.4R3-S7.9 22.2R3-S7.4].
//
// Errors (*PathError): ErrNoLevels for a nil endpoint (also a nil
// *JunosVersion); ErrDowngrade when to
// is below from; ErrReleaseNotInTable when an endpoint is not a JunosVersion
// or its train is not in the table; ErrMissingMinor when c lacks a release
// the path needs (At names the trains of the shortest path over the table
// that c does not provide); ErrBadTable for a catalog entry that is not a
// JunosVersion. An invalid table is an error wrapping ErrBadTable.
func JunosPath(table []JunosRelease, c Catalog, from, to Version) ([]Version, error) {
	from, to = junosNil(from), junosNil(to)
	if from == nil || to == nil {
		return nil, &PathError{From: from, To: to, At: "<nil>", Err: ErrNoLevels}
	}
	rt, err := parseReleaseTable(table)
	if err != nil {
		return nil, err
	}
	fail := func(e error, at string) ([]Version, error) {
		return nil, &PathError{From: from, To: to, At: at, Err: e}
	}
	f, okF := junosOf(from)
	t, okT := junosOf(to)
	switch {
	case !okF:
		return fail(ErrReleaseNotInTable, "not a Junos version: "+junosString(from))
	case !okT:
		return fail(ErrReleaseNotInTable, "not a Junos version: "+junosString(to))
	}
	switch d := t.Compare(f); {
	case d < 0:
		return fail(ErrDowngrade, "")
	case d == 0:
		return []Version{}, nil
	}
	fi := rt.index(junosTrain{f.major, f.minor, f.typ, f.trainRel()})
	ti := rt.index(junosTrain{t.major, t.minor, t.typ, t.trainRel()})
	switch {
	case fi < 0:
		return fail(ErrReleaseNotInTable, f.Train())
	case ti < 0:
		return fail(ErrReleaseNotInTable, t.Train())
	case rt.allowed(fi, ti):
		return []Version{to}, nil
	}
	best := map[int]JunosVersion{} // highest catalog version per row strictly between
	for _, e := range c {
		v, ok := junosOf(e)
		if !ok {
			return fail(ErrBadTable, "catalog entry "+junosString(e)+" is not a Junos version")
		}
		i := rt.index(junosTrain{v.major, v.minor, v.typ, v.trainRel()})
		if i <= fi || i >= ti {
			continue
		}
		if b, seen := best[i]; !seen || v.Compare(b) > 0 {
			best[i] = v
		}
	}
	r := rt.route(fi, ti, func(i int) bool { _, ok := best[i]; return ok })
	if r == nil {
		var missing []string
		for _, i := range rt.route(fi, ti, func(int) bool { return true }) {
			if _, ok := best[i]; !ok && i != ti {
				missing = append(missing, rt.trains[i].String())
			}
		}
		return fail(ErrMissingMinor, "no catalog release of "+strings.Join(missing, ", "))
	}
	hops := make([]Version, 0, len(r))
	for _, i := range r[:len(r)-1] {
		hops = append(hops, best[i])
	}
	return append(hops, to), nil
}
