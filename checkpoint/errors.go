package checkpoint

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// ErrUnrecognized is the category of a command output that could not be
// read: a line that does not parse where a value is required, an unknown
// state word, a missing or duplicated table or value, contradictory facts.
// errors.Is(err, ErrUnrecognized) holds for such a *ParseError. Fail closed:
// an output that cannot be read is never taken for a healthy state.
var ErrUnrecognized = errors.New("checkpoint: unrecognized command output")

// ErrNotVSX is the category of a `vsx stat -v` output that says the gateway
// does not run VSX ("VSX is not supported on this platform"); the command
// still exits 0 there. Returned as a *ParseError by ParseVSXStat.
var ErrNotVSX = errors.New("checkpoint: not a VSX gateway")

// ErrNoTake is the category of an output that names no Jumbo Hotfix
// Accumulator take: ParseJumboTake returns a *ParseError matching it when no
// take number is printed (e.g. only a Jumbo heading without "Take:"). The
// installed take is then unknown: pass versionpath.TakeUnknown to take
// minimum checks.
var ErrNoTake = errors.New("checkpoint: no Jumbo Hotfix take found")

// ErrNoHotfixes is the category of a `cpinfo -y all` output in which every
// product section says "No hotfixes.." and no hotfix is named: no hotfix,
// hence no Jumbo Hotfix, is installed. errors.Is(err, ErrNoTake) is true for
// it too. A caller may take it as take 0 (versionpath: take 0 means no
// hotfix installed).
var ErrNoHotfixes = fmt.Errorf("%w: no hotfixes installed", ErrNoTake)

// maxErrorText is how much of the offending line a *ParseError keeps.
const maxErrorText = 200

// ParseError says which command output could not be read, where, and why.
// errors.Is(err, Err) holds for its category (ErrUnrecognized, ErrNotVSX,
// ErrNoTake or ErrNoHotfixes); errors.As gives access to the fields. When
// the failure comes from a lower layer (a release name the
// versionpath.CheckPoint grammar refuses), errors.As also finds that
// *versionpath.ParseError.
type ParseError struct {
	// What is the command whose output was read, e.g. "cphaprob state",
	// "cphaprob -a if", "vsx stat -v", "cpinfo -y all / show installer
	// packages installed", "fw ver / show version all", "cphaprob mvc".
	What string
	// Line is the 1-based line number of the offending line in the output,
	// or 0 when the problem is not on one line (e.g. no member table).
	Line int
	// Text is the offending line with the line end, pager artefacts and
	// surrounding white space removed, cut to its first 200 bytes (on a UTF-8
	// boundary); "" when Line is 0.
	Text string
	// Reason says what is wrong, e.g. `unknown state word "SLEEPING"`.
	Reason string
	// Err is the category: ErrUnrecognized, ErrNotVSX, ErrNoTake or
	// ErrNoHotfixes. Never nil for errors returned by this package.
	Err error

	cause error // optional lower-layer error, e.g. *versionpath.ParseError
}

// Error returns "checkpoint: <what>: line <n> <text>: <reason>" (without the
// line part when Line is 0).
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("checkpoint: %s: line %d %s: %s", e.What, e.Line, quote(e.Text), e.Reason)
	}
	return fmt.Sprintf("checkpoint: %s: %s", e.What, e.Reason)
}

// Unwrap returns the category and, when there is one, the lower-layer cause.
func (e *ParseError) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// failer builds the *ParseError values of one parse call.
type failer struct{ what string }

// at returns an ErrUnrecognized *ParseError for line l.
func (f failer) at(l line, format string, args ...any) *ParseError {
	return &ParseError{What: f.what, Line: l.n, Text: cut(l.text, maxErrorText),
		Reason: fmt.Sprintf(format, args...), Err: ErrUnrecognized}
}

// whole returns an ErrUnrecognized *ParseError about the whole output.
func (f failer) whole(format string, args ...any) *ParseError {
	return &ParseError{What: f.what, Reason: fmt.Sprintf(format, args...), Err: ErrUnrecognized}
}

// cut returns at most n bytes of s without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// quote renders text for a message: quoted and at most 80 bytes.
func quote(s string) string {
	if len(s) > 80 {
		return strconv.Quote(cut(s, 80)) + "..."
	}
	return strconv.Quote(s)
}
