package checkpoint

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/hitless/hitless/versionpath"
)

// Take is the installed Jumbo Hotfix Accumulator (JHF) of a gateway or
// management server.
type Take struct {
	// Number is the JHF take number of the main Jumbo, e.g. 122 (from
	// "HOTFIX_R81_20_JUMBO_HF_MAIN  Take:  122"). Always >= 0.
	Number int
	// Release is the release the Jumbo belongs to, from its name, e.g.
	// "R81.20" for HOTFIX_R81_20_JUMBO_HF_MAIN, "R80.20" for the legacy
	// HOTFIX_R80_20_JHF_T118_EQ_251_MAIN, "R82" for "R82 Jumbo Hotfix
	// Accumulator ... Take 91"; "" when not printed (the bare take number of
	// a grep/cut pipeline). When set it is valid in the versionpath.CheckPoint
	// grammar.
	Release string
	// Hotfixes are the installed hotfix and bundle names in order of first
	// appearance, without duplicates: cpinfo names such as
	// "HOTFIX_R81_20_JUMBO_HF_MAIN", "HOTFIX_GOT_MGMT_AUTOUPDATE",
	// "BUNDLE_R81_20_JUMBO_HF_MAIN", or CPUSE display names such as "R82
	// Jumbo Hotfix Accumulator Recommended Jumbo Take 91" (rows whose
	// status starts with "Installed", including "Installed as part of", or
	// every row of a Type table).
	Hotfixes []string
}

// ReleaseVersion returns Release as a versionpath.Version of the
// versionpath.CheckPoint grammar. The error is a *versionpath.ParseError
// (errors.Is versionpath.ErrMalformed) when Release is empty or malformed.
func (t Take) ReleaseVersion() (versionpath.Version, error) {
	return versionpath.CheckPoint{}.Parse(t.Release)
}

const whatTake = "cpinfo -y all / show installer packages installed"

// relPart is a release in a package name: R81_20, R82, R80_20SP.
const relPart = `R\d{1,4}(?:SP)?(?:_\d{1,4}(?:SP)?)*`

var (
	// jumboRe is the current form: HOTFIX_R81_20_JUMBO_HF_MAIN or
	// BUNDLE_R81_20_JUMBO_HF_MAIN.
	jumboRe = regexp.MustCompile(`^(?:HOTFIX|BUNDLE)_(` + relPart + `)_JUMBO_HF_MAIN$`)
	// legacyJumboRe is the legacy take-in-name form
	// HOTFIX_R80_20_JHF_T118_EQ_251_MAIN.
	legacyJumboRe = regexp.MustCompile(`^HOTFIX_(` + relPart + `)_JHF_T(\d{1,6})(?:_[A-Za-z0-9_]*)?$`)
	// hotfixNameRe is a cpinfo hotfix or bundle name.
	hotfixNameRe = regexp.MustCompile(`^(?:HOTFIX|BUNDLE)_[A-Za-z0-9_.\-]+$`)
	// takeFieldRe is "Take:  122" after a name.
	takeFieldRe = regexp.MustCompile(`(?i)^take\s*:\s*(\S*)`)
	// takeAloneRe is "Take: 25" alone on its line (a cut pipeline).
	takeAloneRe = regexp.MustCompile(`(?i)^take\s*:\s*(\d{1,6})$`)
	// bareTakeRe is the output of a cut pipeline: the take number alone.
	bareTakeRe = regexp.MustCompile(`^\d{1,6}$`)
	// sectionRe is a cpinfo product section, "[FW1]".
	sectionRe = regexp.MustCompile(`^\[([A-Za-z0-9_ .\-]+)\]$`)
	// noHotfixesRe is cpinfo's "No hotfixes.." line.
	noHotfixesRe = regexp.MustCompile(`(?i)^no hotfixes\b`)
	// cpuseJumboRe is a CPUSE row of the main Jumbo: "R82 Jumbo Hotfix
	// Accumulator Recommended Jumbo Take 91   Installed".
	cpuseJumboRe = regexp.MustCompile(`(?i)^(R\d{1,4}(?:\.\d{1,4})*(?:SP)?(?:\.\d{1,4})*)\s+Jumbo\s+Hotfix\s+Accumulator\b.*?\(?\bTake\s+(\d{1,6})\)?(?:\s+|$)(.*)$`)
	// cpuseSectionRe is a CPUSE heading, "**   Hotfixes   **".
	cpuseSectionRe = regexp.MustCompile(`^\*\*\s*(.*?)\s*\*\*$`)
	// cpuseHeaderRe is a CPUSE column header, "Display name   Status".
	cpuseHeaderRe = regexp.MustCompile(`(?i)^display\s+name\s+(status|type)\b`)
	// cpuseColumnSplitRe separates the Display name cell from the last cell.
	cpuseColumnSplitRe = regexp.MustCompile(`\s{2,}|\t`)
	// softwareVersionRe is the `fw ver` line that cpinfo repeats.
	softwareVersionRe = regexp.MustCompile(`(?i)^This is Check Point['’]s software version (R\S+) - Build (\d{1,9})\b`)
)

// release turns a package-name release ("R81_20") into a release name
// ("R81.20") and validates it.
func release(rel string) (string, error) {
	r := strings.ReplaceAll(rel, "_", ".")
	if _, err := (versionpath.CheckPoint{}).Parse(r); err != nil {
		return "", err
	}
	return r, nil
}

// ParseJumboTake reads the installed Jumbo Hotfix Accumulator take from the
// output of `cpinfo -y all` or of Clish `show installer packages installed`.
//
// cpinfo forms (hotfix lines are TAB- or space-indented under a product
// section such as "[FW1]"; sections and indentation are optional, so grep
// output reads the same):
//
//	HOTFIX_R81_20_JUMBO_HF_MAIN     Take:  122      current form (also BUNDLE_..._JUMBO_HF_MAIN)
//	HOTFIX_R81_20_JUMBO_HF_MAIN                     a heading without a take: skipped
//	HOTFIX_R80_20_JHF_T118_EQ_251_MAIN              legacy form, take 118 in the name
//	Take:  25    or    25                           a grep/cut pipeline's output
//	No hotfixes..                                   none in that section
//
// CPUSE form: under the "Hotfixes" heading (when headings are printed), rows
// "<release> Jumbo Hotfix Accumulator ... Take <N>" followed by a Status or a
// Type cell, as the column header says. With a Status column only rows whose
// status is exactly "Installed" count ("Installed as part of ..." does not);
// with a Type column every row counts, which holds only for the "installed"
// scope of the command. The highest take counts, and lines after a take
// (annotations, "...") are tolerated: only the name, the "Take:" field and
// the CPUSE cells are read.
//
// The main Jumbo take is the one printed with a number; every printed take
// must be the same (the same take appears under several products and under
// [CPUpdates]) and every release the same; when cpinfo repeats the `fw ver`
// line ("This is Check Point's software version R80.20 - Build 257"), the
// Jumbo's release must match it, otherwise the data is stale.
//
// Errors are *ParseError values: ErrNoHotfixes (which also matches
// ErrNoTake) when every product section says "No hotfixes.." and no hotfix
// is named; ErrNoTake when no take number is printed otherwise (only
// headings without take, only other hotfixes, no hotfix lines at all);
// ErrUnrecognized for a "Take:" field without a number, a take or release
// that does not parse, two different takes or releases, or a Jumbo release
// that differs from the printed software version.
//
// Source: Check Point Gaia R81.20 and R82 Administration Guides, CPUSE
// commands in Gaia Clish ("show installer packages"); real `cpinfo -y all`
// captures of R80.20, R81 and R81.20 management servers and CPUSE listings
// of an R82 lab.
func ParseJumboTake(output string) (Take, error) {
	f := failer{what: whatTake}
	var (
		t          Take
		found      bool
		takeLine   line
		seen       = map[string]bool{}
		sections   int
		noneCount  int
		software   string
		softLine   line
		cpuseKind  string // "status" or "type" once a CPUSE header was read
		cpuseSect  string // current CPUSE heading, "" when none printed yet
		cpuseSeen  bool   // a CPUSE heading was printed
		cpuseBest  = -1
		cpuseLine  line
		cpuseRel   string
		cpuseNames []string
	)
	addName := func(n string) {
		if !seen[n] {
			seen[n] = true
			t.Hotfixes = append(t.Hotfixes, n)
		}
	}
	setTake := func(l line, n int, rel string) *ParseError {
		if found && n != t.Number {
			return f.at(l, "take %d differs from take %d on line %d", n, t.Number, takeLine.n)
		}
		if rel != "" && t.Release != "" && rel != t.Release {
			return f.at(l, "release %s differs from release %s on line %d", rel, t.Release, takeLine.n)
		}
		if !found {
			takeLine = l
		}
		found, t.Number = true, n
		if rel != "" {
			t.Release = rel
		}
		return nil
	}
	commands := []string{"cpinfo -y all", "show installer packages installed", "show installer packages"}
	for _, l := range content(output, nil, commands...) {
		text := l.text
		fs := l.fields()
		if m := softwareVersionRe.FindStringSubmatch(text); m != nil {
			if software != "" && software != m[1] {
				return Take{}, f.at(l, "software version %s differs from %s on line %d", m[1], software, softLine.n)
			}
			software, softLine = m[1], l
			continue
		}
		if sectionRe.MatchString(text) {
			sections++
			continue
		}
		if noHotfixesRe.MatchString(text) {
			noneCount++
			continue
		}
		// CPUSE headings, header and rows.
		if m := cpuseSectionRe.FindStringSubmatch(text); m != nil {
			switch normalize(m[1]) {
			case "hotfixes", "major", "minor", "blink", "legacy", "big bundle", "majors", "minors":
				cpuseSect, cpuseSeen = normalize(m[1]), true
			}
			continue // other ** banners (e.g. a connection error) are notes
		}
		if m := cpuseHeaderRe.FindStringSubmatch(text); m != nil {
			cpuseKind = strings.ToLower(m[1])
			continue
		}
		if m := cpuseJumboRe.FindStringSubmatch(text); m != nil {
			if cpuseSeen && cpuseSect != "hotfixes" {
				continue // e.g. a Blink image that embeds a Jumbo
			}
			rel, err := release(m[1])
			if err != nil {
				return Take{}, &ParseError{What: whatTake, Line: l.n, Text: cut(text, maxErrorText),
					Reason: "release " + quote(m[1]) + " does not parse", Err: ErrUnrecognized, cause: err}
			}
			n, _ := strconv.Atoi(m[2])
			cell := strings.TrimSpace(m[3])
			name := strings.TrimSpace(strings.TrimSuffix(text, m[3]))
			counts, installed := true, true
			if cpuseKind == "status" {
				counts = strings.EqualFold(cell, "Installed")
				installed = strings.HasPrefix(strings.ToLower(cell), "installed")
			}
			if installed {
				cpuseNames = append(cpuseNames, name)
			}
			if cpuseRel != "" && rel != cpuseRel && counts {
				return Take{}, f.at(l, "release %s differs from release %s on line %d", rel, cpuseRel, cpuseLine.n)
			}
			if counts {
				if n > cpuseBest {
					cpuseBest, cpuseLine, cpuseRel = n, l, rel
				}
			}
			continue
		}
		if cpuseKind != "" && (!cpuseSeen || cpuseSect == "hotfixes") {
			// Another CPUSE row: keep its display name when it is installed.
			cells := cpuseColumnSplitRe.Split(text, -1)
			if len(cells) >= 2 {
				cell := strings.TrimSpace(cells[len(cells)-1])
				if cpuseKind == "type" || strings.HasPrefix(strings.ToLower(cell), "installed") {
					cpuseNames = append(cpuseNames, strings.TrimSpace(strings.Join(cells[:len(cells)-1], " ")))
				}
				continue
			}
		}
		// cpinfo lines.
		switch {
		case len(fs) > 0 && hotfixNameRe.MatchString(fs[0]):
			name := fs[0]
			addName(name)
			if m := legacyJumboRe.FindStringSubmatch(name); m != nil {
				rel, err := release(m[1])
				if err != nil {
					return Take{}, &ParseError{What: whatTake, Line: l.n, Text: cut(text, maxErrorText),
						Reason: "release " + quote(m[1]) + " does not parse", Err: ErrUnrecognized, cause: err}
				}
				n, _ := strconv.Atoi(m[2])
				if pe := setTake(l, n, rel); pe != nil {
					return Take{}, pe
				}
				continue
			}
			m := jumboRe.FindStringSubmatch(name)
			if m == nil {
				continue // another hotfix
			}
			rest := strings.TrimSpace(strings.TrimPrefix(text, name))
			tm := takeFieldRe.FindStringSubmatch(rest)
			if tm == nil {
				continue // a heading without a take (or an annotation)
			}
			if !bareTakeRe.MatchString(tm[1]) {
				return Take{}, f.at(l, "\"Take:\" is not followed by a number")
			}
			rel, err := release(m[1])
			if err != nil {
				return Take{}, &ParseError{What: whatTake, Line: l.n, Text: cut(text, maxErrorText),
					Reason: "release " + quote(m[1]) + " does not parse", Err: ErrUnrecognized, cause: err}
			}
			n, _ := strconv.Atoi(tm[1])
			if pe := setTake(l, n, rel); pe != nil {
				return Take{}, pe
			}
		case takeFieldRe.MatchString(text):
			m := takeAloneRe.FindStringSubmatch(text)
			if m == nil {
				return Take{}, f.at(l, "\"Take:\" is not followed by a number alone")
			}
			n, _ := strconv.Atoi(m[1])
			if pe := setTake(l, n, ""); pe != nil {
				return Take{}, pe
			}
		case bareTakeRe.MatchString(text):
			n, _ := strconv.Atoi(text)
			if pe := setTake(l, n, ""); pe != nil {
				return Take{}, pe
			}
		}
	}
	if cpuseBest >= 0 {
		if pe := setTake(cpuseLine, cpuseBest, cpuseRel); pe != nil {
			return Take{}, pe
		}
		for _, n := range cpuseNames {
			addName(n)
		}
	}
	if !found {
		if len(t.Hotfixes) == 0 && len(cpuseNames) == 0 && noneCount > 0 && noneCount >= sections {
			return Take{}, &ParseError{What: whatTake, Reason: "every section says \"No hotfixes..\"", Err: ErrNoHotfixes}
		}
		return Take{}, &ParseError{What: whatTake, Reason: "no Jumbo Hotfix take number printed", Err: ErrNoTake}
	}
	if software != "" && t.Release != "" && software != t.Release {
		return Take{}, f.at(takeLine, "Jumbo release %s differs from software version %s on line %d (stale data)",
			t.Release, software, softLine.n)
	}
	return t, nil
}
