package checkpoint

import (
	"regexp"
	"strings"

	"github.com/hitless/hitless/versionpath"
)

// Version is the software version of a Check Point gateway or management
// server. The version alone does not give the Jumbo Hotfix take; see
// ParseJumboTake.
type Version struct {
	// Release is the release name, e.g. "R81.20", "R82", "R80.20SP"; valid
	// in the versionpath.CheckPoint grammar.
	Release string
	// Build is the software build of `fw ver` as printed (decimal digits,
	// leading zeros kept, e.g. "059"); "" when only `show version all` was
	// read.
	Build string
	// Product is the Clish "Product version" text, e.g. "Check Point Gaia
	// R81.10"; "" when not printed.
	Product string
	// OSBuild is the Clish "OS build" number as printed, e.g. "335"; "" when
	// not printed.
	OSBuild string
	// Kernel is the Clish "OS kernel version", e.g.
	// "3.10.0-957.21.3cpx86_64"; "" when not printed.
	Kernel string
	// Edition is the Clish "OS edition", e.g. "64-bit"; "" when not printed.
	Edition string
}

// ReleaseVersion returns Release as a versionpath.Version of the
// versionpath.CheckPoint grammar (ordered R81 < R81.10 < R81.20 < R82). The
// error is a *versionpath.ParseError (errors.Is versionpath.ErrMalformed)
// only for a Version not returned by ParseVersion (empty or malformed
// Release).
func (v Version) ReleaseVersion() (versionpath.Version, error) {
	return versionpath.CheckPoint{}.Parse(v.Release)
}

const whatVersion = "fw ver / show version all"

var (
	fwVerRe     = regexp.MustCompile(`(?i)^This is Check Point['’]s software version (\S+) - Build (\S+)$`)
	fwVerKRe    = regexp.MustCompile(`(?i)^kernel:\s+(\S+) - Build (\S+)$`)
	productRe   = regexp.MustCompile(`(?i)^Product version\b:?\s*(.*)$`)
	osBuildRe   = regexp.MustCompile(`(?i)^OS build\b:?\s*(.*)$`)
	osKernelRe  = regexp.MustCompile(`(?i)^OS kernel version\b:?\s*(.*)$`)
	osEditionRe = regexp.MustCompile(`(?i)^OS edition\b:?\s*(.*)$`)
	digitsRe    = regexp.MustCompile(`^\d{1,9}$`)
	releaseTok  = regexp.MustCompile(`^R\d`)
)

// ParseVersion reads the software version from the output of Expert
// `fw ver` (also `fw ver -k`) or Clish `show version all`:
//
//	This is Check Point's software version R81.20 - Build 059      fw ver
//	kernel: R81.20 - Build 059                                     fw ver -k, optional
//	Product version Check Point Gaia R81.10                        show version all
//	OS build 335
//	OS kernel version 3.10.0-957.21.3cpx86_64
//	OS edition 64-bit
//
// A colon after the Clish field names is accepted. The release is the
// "R..." word (the last word of the Product version), checked with the
// versionpath.CheckPoint grammar. Other lines (prompts, other commands'
// output, e.g. `vsx stat -v` after `fw ver`) are skipped.
//
// It fails closed with a *ParseError (errors.Is ErrUnrecognized) for: no
// release found; a release the grammar refuses (the *versionpath.ParseError
// is wrapped too); a build or OS build that is not a number; a Product
// version without an "R..." release; a field printed twice with different
// values; a `fw ver` release or build that differs from another line of the
// same output (the kernel line, the Product version).
//
// Source: Check Point CLI Reference Guide, "fw ver"; Gaia Administration
// Guide, "show version" (the Gaia API "show-version" returns the same
// fields); real captures of R80.10,
// R81.10 and R81.20.
func ParseVersion(output string) (Version, error) {
	f := failer{what: whatVersion}
	var v Version
	relLine := line{}
	setRel := func(l line, rel string) *ParseError {
		if _, err := (versionpath.CheckPoint{}).Parse(rel); err != nil {
			return &ParseError{What: whatVersion, Line: l.n, Text: cut(l.text, maxErrorText),
				Reason: "release " + quote(rel) + " does not parse", Err: ErrUnrecognized, cause: err}
		}
		if v.Release != "" && v.Release != rel {
			return f.at(l, "release %s differs from release %s on line %d", rel, v.Release, relLine.n)
		}
		if v.Release == "" {
			relLine = l
		}
		v.Release = rel
		return nil
	}
	setField := func(l line, p *string, val, name string) *ParseError {
		if *p != "" && *p != val {
			return f.at(l, "%s %s differs from %s printed before", name, quote(val), quote(*p))
		}
		*p = val
		return nil
	}
	for _, l := range content(output, nil, "fw ver", "fw ver -k", "show version all", "show version") {
		t := l.text
		var pe *ParseError
		switch {
		case fwVerRe.MatchString(t) || fwVerKRe.MatchString(t):
			m := fwVerRe.FindStringSubmatch(t)
			if m == nil {
				m = fwVerKRe.FindStringSubmatch(t)
			}
			if !digitsRe.MatchString(m[2]) {
				return Version{}, f.at(l, "build %s is not a number", quote(m[2]))
			}
			if pe = setRel(l, m[1]); pe == nil {
				pe = setField(l, &v.Build, m[2], "build")
			}
		case productRe.MatchString(t):
			val := strings.TrimSpace(productRe.FindStringSubmatch(t)[1])
			fs := strings.Fields(val)
			if len(fs) == 0 || !releaseTok.MatchString(fs[len(fs)-1]) {
				return Version{}, f.at(l, "Product version without a release")
			}
			if pe = setRel(l, fs[len(fs)-1]); pe == nil {
				pe = setField(l, &v.Product, strings.Join(fs, " "), "Product version")
			}
		case osBuildRe.MatchString(t):
			val := strings.TrimSpace(osBuildRe.FindStringSubmatch(t)[1])
			if !digitsRe.MatchString(val) {
				return Version{}, f.at(l, "OS build %s is not a number", quote(val))
			}
			pe = setField(l, &v.OSBuild, val, "OS build")
		case osKernelRe.MatchString(t):
			val := strings.TrimSpace(osKernelRe.FindStringSubmatch(t)[1])
			if val == "" || strings.ContainsAny(val, " \t") {
				return Version{}, f.at(l, "malformed OS kernel version")
			}
			pe = setField(l, &v.Kernel, val, "OS kernel version")
		case osEditionRe.MatchString(t):
			val := strings.TrimSpace(osEditionRe.FindStringSubmatch(t)[1])
			if val == "" || strings.ContainsAny(val, " \t") {
				return Version{}, f.at(l, "malformed OS edition")
			}
			pe = setField(l, &v.Edition, val, "OS edition")
		}
		if pe != nil {
			return Version{}, pe
		}
	}
	if v.Release == "" {
		return Version{}, f.whole("no release found (neither \"This is Check Point's software version\" nor \"Product version\")")
	}
	return v, nil
}
