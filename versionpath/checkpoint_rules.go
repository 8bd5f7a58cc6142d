package versionpath

import (
	"errors"
	"fmt"
	"strconv"
)

// TakeUnknown is the take to pass to CheckTakeMinimum when the installed
// Jumbo Hotfix take could not be read; any applicable minimum then fails
// (fail closed). Take 0 means "no hotfix installed" (cpinfo "No hotfixes..").
const TakeUnknown = -1

// TakeMinimum is one row of the minimum Jumbo Hotfix (JHF) take table: a
// cluster running release From must have JHF take MinTake or later installed
// before it upgrades to release To or any later release. Releases use the
// CheckPoint grammar.
type TakeMinimum struct {
	From    string // running release, e.g. "R81.20" (matched by Compare == 0)
	MinTake int    // minimum installed JHF take number, e.g. 92
	To      string // the row applies to targets at or above this release, e.g. "R82"
}

// DefaultTakeMinimums returns a fresh copy of the built-in table:
// R81.20 take >= 92 and R81.10 take >= 172 before R82.
//
// Source: hitless project requirements. These
// minimums were NOT found in public Check Point material (the "Supported
// Versions in Multi-Version Cluster" table and the R82 release notes were
// not reachable); verify them against Check Point's current documentation
// and pass your own table to CheckTakeMinimum to override them.
func DefaultTakeMinimums() []TakeMinimum {
	return []TakeMinimum{
		{From: "R81.20", MinTake: 92, To: "R82"},
		{From: "R81.10", MinTake: 172, To: "R82"},
	}
}

// CheckTakeMinimum checks the minimum-JHF-take rule for upgrading a cluster
// that runs release `from` with JHF take `take` (TakeUnknown if unread) to
// release `to`. Every row whose From equals `from` and whose To is at or
// below `to` applies; each unmet row is one violation (Rule
// RuleMinimumTake, Kind ErrTakeTooLow, Party PartyRelease, Name the running
// release, Have the current take or "unknown", Want the required take,
// Target `to`). Pass DefaultTakeMinimums() or your own table.
//
// Source: project requirement, NOT publicly verified (hitless Check Point requirements); see
// DefaultTakeMinimums.
//
// It returns nil, Violations, or (for a table with malformed or negative
// entries) an error wrapping ErrBadTable and the *ParseError found. nil
// from/to are ErrUnknownVersion violations.
func CheckTakeMinimum(table []TakeMinimum, from Version, take int, to Version) error {
	if from == nil || to == nil {
		return Violations{{Rule: RuleMinimumTake, Kind: ErrUnknownVersion, Party: PartyRelease,
			Name: versionString(from), Target: versionString(to)}}
	}
	var g CheckPoint
	var bad []error
	var vs Violations
	for i, row := range table {
		rf, err1 := g.Parse(row.From)
		rt, err2 := g.Parse(row.To)
		if err := errors.Join(err1, err2); err != nil {
			bad = append(bad, fmt.Errorf("%w: TakeMinimum row %d: %w", ErrBadTable, i, err))
			continue
		}
		if row.MinTake < 0 {
			bad = append(bad, fmt.Errorf("%w: TakeMinimum row %d: negative MinTake %d", ErrBadTable, i, row.MinTake))
			continue
		}
		if from.Compare(rf) != 0 || to.Compare(rt) < 0 || take >= row.MinTake {
			continue
		}
		have := strconv.Itoa(take)
		if take < 0 {
			have = "unknown"
		}
		vs = append(vs, &Violation{Rule: RuleMinimumTake, Kind: ErrTakeTooLow, Party: PartyRelease,
			Name: from.String(), Have: have, Want: strconv.Itoa(row.MinTake), Target: to.String()})
	}
	if len(bad) > 0 {
		return errors.Join(bad...)
	}
	return vs.Err()
}

// MultiStage is one row of the multi-stage path table: a cluster running
// release From reaches release To, or any later release, only through the
// releases in Via, in order. Releases use the CheckPoint grammar.
type MultiStage struct {
	From string   // running release, e.g. "R80.20SP" (matched by Compare == 0)
	To   string   // the row applies to targets at or above this release, e.g. "R82"
	Via  []string // intermediate releases, strictly ascending, each above From and below To
}

// DefaultMultiStages returns a fresh copy of the built-in table: the legacy
// Scalable Platforms releases R80.20SP and R80.30SP reach R82 only via
// R81.20.
//
// Source: hitless project requirement. This path
// was NOT found in public Check Point material (no R82 upgrade-path matrix
// was retrieved); verify it and pass your own table to override it.
func DefaultMultiStages() []MultiStage {
	return []MultiStage{
		{From: "R80.20SP", To: "R82", Via: []string{"R81.20"}},
		{From: "R80.30SP", To: "R82", Via: []string{"R81.20"}},
	}
}

// stage is a parsed MultiStage row.
type stage struct {
	from, to Version
	via      []Version
}

func parseStages(table []MultiStage) ([]stage, error) {
	var g CheckPoint
	var bad []error
	out := make([]stage, 0, len(table))
	for i, row := range table {
		rf, err1 := g.Parse(row.From)
		rt, err2 := g.Parse(row.To)
		errs := []error{err1, err2}
		via := make([]Version, 0, len(row.Via))
		for _, s := range row.Via {
			v, err := g.Parse(s)
			errs = append(errs, err)
			if err == nil {
				via = append(via, v)
			}
		}
		if err := errors.Join(errs...); err != nil {
			bad = append(bad, fmt.Errorf("%w: MultiStage row %d: %w", ErrBadTable, i, err))
			continue
		}
		if len(via) == 0 {
			bad = append(bad, fmt.Errorf("%w: MultiStage row %d: empty Via", ErrBadTable, i))
			continue
		}
		prev := rf
		for _, v := range via {
			if v.Compare(prev) <= 0 {
				bad = append(bad, fmt.Errorf("%w: MultiStage row %d: Via %s is not above %s", ErrBadTable, i, v, prev))
			}
			prev = v
		}
		if prev.Compare(rt) >= 0 {
			bad = append(bad, fmt.Errorf("%w: MultiStage row %d: Via %s is not below To %s", ErrBadTable, i, prev, rt))
		}
		out = append(out, stage{from: rf, to: rt, via: via})
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}
	return out, nil
}

// MultiStagePath returns the hops from release `from` to release `to`: the
// Via releases of the first table row whose From equals `from` and whose To
// is at or below `to`, then `to` itself; just [to] when no row applies; empty
// when to equals from. With DefaultMultiStages, R80.20SP -> R82 gives
// [R81.20 R82]. Check every hop with CheckTakeMinimum too (R81.20 needs its
// JHF minimum before R82).
//
// Source: project requirement, NOT publicly verified (hitless Check Point requirements); see
// DefaultMultiStages.
//
// Errors: *PathError with ErrDowngrade (to below from) or ErrNoLevels
// (nil endpoint); an error wrapping ErrBadTable for an invalid table.
func MultiStagePath(table []MultiStage, from, to Version) ([]Version, error) {
	if from == nil || to == nil {
		return nil, &PathError{From: from, To: to, At: "<nil>", Err: ErrNoLevels}
	}
	stages, err := parseStages(table)
	if err != nil {
		return nil, err
	}
	switch d := to.Compare(from); {
	case d < 0:
		return nil, &PathError{From: from, To: to, Err: ErrDowngrade}
	case d == 0:
		return []Version{}, nil
	}
	for _, s := range stages {
		if from.Compare(s.from) != 0 || to.Compare(s.to) < 0 {
			continue
		}
		hops := make([]Version, 0, len(s.via)+1)
		hops = append(hops, s.via...)
		return append(hops, to), nil
	}
	return []Version{to}, nil
}

// CheckMultiStageHop checks one hop from release `from` to `next` against
// the table: a hop that a row requires to go via an intermediate release is
// a violation (Rule RuleMultiStage, Kind ErrStageSkipped, Party
// PartyRelease, Name `from`, Want the first Via release, Target `next`),
// one per applicable row.
//
// Source: project requirement, NOT publicly verified (hitless Check Point requirements); see
// DefaultMultiStages.
//
// It returns nil, Violations, or an error wrapping ErrBadTable. nil
// from/next are ErrUnknownVersion violations.
func CheckMultiStageHop(table []MultiStage, from, next Version) error {
	if from == nil || next == nil {
		return Violations{{Rule: RuleMultiStage, Kind: ErrUnknownVersion, Party: PartyRelease,
			Name: versionString(from), Target: versionString(next)}}
	}
	stages, err := parseStages(table)
	if err != nil {
		return err
	}
	var vs Violations
	for _, s := range stages {
		if from.Compare(s.from) == 0 && next.Compare(s.to) >= 0 {
			vs = append(vs, &Violation{Rule: RuleMultiStage, Kind: ErrStageSkipped, Party: PartyRelease,
				Name: from.String(), Want: s.via[0].String(), Target: next.String()})
		}
	}
	return vs.Err()
}
