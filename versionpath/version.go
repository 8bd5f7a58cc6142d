package versionpath

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// MaxVersionLen is the longest version text, in bytes, that the grammars of
// this package accept. Longer input is malformed. It bounds the work and the
// memory spent on hostile input; no vendor version comes close to it.
const MaxVersionLen = 128

// Version is one parsed version of some vendor grammar.
//
// Implementations in this package are immutable values, safe to copy and to
// share between goroutines.
type Version interface {
	// String returns the canonical text of the version: for the grammars of
	// this package, the validated input text itself.
	String() string
	// Compare returns -1, 0 or +1 when the version is lower than, equal to or
	// higher than other. Versions of another grammar compare by String()
	// (byte-wise); a nil other sorts lowest (Compare returns +1).
	Compare(other Version) int
}

// Grammar parses the version strings of one vendor.
type Grammar interface {
	// Name returns the grammar's short name, e.g. "dotted"; it appears in
	// ParseError.
	Name() string
	// Parse validates s and returns its Version. Errors are always a
	// *ParseError wrapping ErrMalformed. Parse never trims or rewrites its
	// input: surrounding whitespace is malformed.
	Parse(s string) (Version, error)
}

// ErrMalformed is the category of every parse failure: errors.Is(err,
// ErrMalformed) holds for every error returned by a Grammar of this package.
var ErrMalformed = errors.New("versionpath: malformed version")

// ParseError reports version text that a grammar rejected. It wraps
// ErrMalformed.
type ParseError struct {
	Grammar string // Grammar.Name() of the grammar that rejected the input
	Input   string // the rejected text, verbatim
	Reason  string // what is wrong, e.g. `field 2 "a" is not a decimal number`
}

// Error names the grammar, the (quoted, at most 64 bytes) input and the
// reason.
func (e *ParseError) Error() string {
	in := e.Input
	if len(in) > 64 {
		in = in[:64] + "..."
	}
	return fmt.Sprintf("versionpath: %s: malformed version %q: %s", e.Grammar, in, e.Reason)
}

// Unwrap returns ErrMalformed.
func (e *ParseError) Unwrap() error { return ErrMalformed }

// MustParse is like g.Parse(s) but panics on error. It is meant for
// constants in tests, examples and hand-written tables.
func MustParse(g Grammar, s string) Version {
	v, err := g.Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// compareText orders versions of different grammars by their text.
func compareText(a Version, b Version) int {
	if b == nil {
		return 1
	}
	return strings.Compare(a.String(), b.String())
}

// versionString renders v for messages, tolerating nil.
func versionString(v Version) string {
	if v == nil {
		return "<nil>"
	}
	return v.String()
}

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// hasSpace reports whether s contains Unicode white space.
// failer returns the error constructor of one Parse call: a *ParseError of
// grammar for input s with a formatted reason.
func failer(grammar, s string) func(format string, args ...any) (Version, error) {
	return func(format string, args ...any) (Version, error) {
		return nil, &ParseError{Grammar: grammar, Input: s, Reason: fmt.Sprintf(format, args...)}
	}
}

// checkInput returns why s cannot be a version of any grammar (empty, too
// long, white space), or "".
func checkInput(s string) string {
	switch {
	case s == "":
		return "empty"
	case len(s) > MaxVersionLen:
		return fmt.Sprintf("longer than %d bytes", MaxVersionLen)
	case hasSpace(s):
		return "contains white space"
	}
	return ""
}

func hasSpace(s string) bool {
	return strings.ContainsFunc(s, unicode.IsSpace)
}

// compareFields compares numeric fields; a missing field counts as 0.
func compareFields(a, b []uint64) int {
	n := max(len(a), len(b))
	for i := range n {
		var x, y uint64
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
