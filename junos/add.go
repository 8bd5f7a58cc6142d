package junos

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

const whatAdd = "request system software add"

// AddResult is a successful `request system software add` (RPC
// request-package-add): the package is installed and waits for a reboot.
// The command does not reboot by itself unless its "reboot" option was
// given.
type AddResult struct {
	// Pending is true when the output says the new software becomes active
	// at the next reboot (see ParseSoftwareAdd for the markers). It is false
	// only when an XML <package-result>0</package-result> alone decided
	// (replies of request-package-validate or
	// request-package-in-service-upgrade share this shape).
	Pending bool
	// Version is the version the marker names ("JUNOS 15.1X49-D170.4 will
	// become active at next reboot"), verbatim; "" when not printed. It is
	// not parsed: rollback replies print e.g. "D10.2".
	Version string
	// Marker is the first success line, trimmed (cut to 160 bytes); "" when
	// only <package-result> decided.
	Marker string
	// Warnings are the "WARNING:" lines in output order, then the messages
	// of <xnm:warning> elements of an XML reply, trimmed (each cut to 160
	// bytes). They do not make the install fail.
	Warnings []string
	// PackageResult is the XML <package-result> (0 here); meaningful only
	// when HasPackageResult.
	PackageResult    int
	HasPackageResult bool
}

// Output markers of `request system software add`. They are matched
// against the line in lower case (strings.ToLower), each only when the line
// contains its gate word: every alternative of a pattern contains one of
// its gate words, so the gate never hides a match.
var (
	addPendingRe  = regexp.MustCompile(`there is already an install pending`)
	addSpaceRe    = regexp.MustCompile(`insufficient (?:disk |storage |free )?space|no space left on device|not enough (?:disk |storage |free )?space|file ?system (?:is )?full`)
	addPlatformRe = regexp.MustCompile(`\bnot valid (?:on|for) (?:the|this)\b|\bnot (?:supported|compatible) (?:on|with|for) (?:the|this) (?:platform|hardware|device|model|system)\b|\bincompatible with (?:the|this) (?:platform|hardware|device|model|system)\b|\bwrong platform\b|\bplatform mismatch\b`)
	addOtherRe    = regexp.MustCompile(`\bis not found or empty\b|'reboot' keyword must be specified|\bsyntax error\b`)
	// addValidationRe marks a validation failure; so does a line starting
	// "ERROR:" (upper case only: "mgd: error:" and CLI "error:" lines are
	// not validation failures).
	addValidationRe = regexp.MustCompile(`\bvalidation failed\b|\bchecksum (?:mismatch|failed|error)\b|\bbad checksum\b|\bsignature (?:verification )?failed\b|\bfailed to verify\b|\bverification failed\b`)
	addSuccessRe    = regexp.MustCompile(`will become active at next reboot|'pending' set will be activated at next reboot|\ba reboot is required to (?:complete|install|load)\b|\bsaving package file\b`)
	addVersionRe    = regexp.MustCompile(`(?i)\bJUNOS\s+(?:version\s+)?["']?([0-9A-Za-z][0-9A-Za-z.\-]*)["']?\s+will become active at next reboot`)
)

// containsAny reports whether s contains one of the words.
func containsAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// addFailureKind classifies one output line: the failure kind it reports
// and its rank (0 = most specific), or ok false.
func addFailureKind(line string) (kind AddErrorKind, rank int, ok bool) {
	low := strings.ToLower(line)
	switch {
	case strings.Contains(low, "pending") && addPendingRe.MatchString(low):
		return AddPending, 0, true
	case containsAny(low, "space", "full") && addSpaceRe.MatchString(low):
		return AddInsufficientSpace, 1, true
	case containsAny(low, "valid", "support", "compatib", "platform") && addPlatformRe.MatchString(low):
		return AddWrongPlatform, 2, true
	case containsAny(low, "not found", "keyword", "syntax") && addOtherRe.MatchString(low):
		return AddOther, 3, true
	case strings.HasPrefix(line, "ERROR:"),
		containsAny(low, "fail", "checksum") && addValidationRe.MatchString(low):
		return AddValidation, 4, true
	case strings.HasPrefix(low, "error:"):
		return AddOther, 5, true
	}
	return "", 0, false
}

// addSuccess reports whether a line is a success marker.
func addSuccess(line string) bool {
	low := strings.ToLower(line)
	return containsAny(low, "next reboot", "reboot is required", "saving package file") && addSuccessRe.MatchString(low)
}

// ParseSoftwareAdd reads the outcome of `request system software add`, as
// CLI text or as the XML reply of RPC request-package-add (also the reply
// of request-package-checks-pending-install). Sources: the Junos OS
// Installation and Upgrade Guide, Juniper KB17947, and captures of SRX
// branch 11.1 to 15.1X49 and EX 12.3 to 21.4 installs.
//
// In XML, the text of every element is read (the <output> install log of
// each Routing Engine or member), except <xnm:warning> messages (kept as
// warnings), xnm:error messages (failures), <cli> and <package-result>.
//
// Success needs a success marker and no failure marker. Markers (any case):
// "will become active at next reboot" (legacy), "'pending' set will be
// activated at next reboot" (Junos with the FreeBSD 10+ package manager,
// vSRX 3.0), "A reboot is required to complete|install|load ...", "Saving
// package file"; in XML, <package-result>0</package-result> (whitespace
// allowed) also succeeds, with Pending false when no marker was printed.
// Not failures: "usage:" lines, "warning:" and "WARNING:" lines, inline
// <xnm:warning> text, "mgd: error:" lines, and one "Validation succeeded"
// per configuration file validated.
//
// Failures are a *SoftwareAddError (errors.Is ErrSoftwareAdd and the kind's
// sentinel), of the first kind found in this order: pending ("There is
// already an install pending.", ErrInstallPending); insufficient space
// ("insufficient space", "No space left on device", "filesystem full",
// ErrInsufficientSpace); wrong platform ("... not valid on the vsrx", "not
// supported on this platform", ErrWrongPlatform); other ("... is not found
// or empty", "'reboot' keyword must be specified", "syntax error"); validation
// ("Validation failed", checksum or signature failures, any line starting
// "ERROR:", ErrValidation); other (a line starting "error:", an xnm:error,
// a non-zero <package-result> without a marker). Output with neither a
// success nor a failure marker, and empty output, are a *ParseError
// (ErrUnrecognized): an install is never assumed. So is a prompt with a
// command other than `request system software ...` and two markers naming
// different versions.
func ParseSoftwareAdd(output string) (AddResult, error) {
	var (
		lines       []outLine
		res         AddResult
		results     []int
		xmlFails    []string
		xmlWarnings []string
	)
	if body, skipped, ok := isXML(output, "request system software"); ok {
		root, err := parseXML(whatAdd, body, skipped)
		if err != nil {
			return AddResult{}, err
		}
		// The text of every element is read (<output> holds the install
		// log), except warnings, errors (read below), <cli> and the
		// package-result numbers.
		var walk func(*xnode)
		walk = func(n *xnode) {
			switch n.name {
			case "warning", "error", "rpc-error", "cli", "package-result":
				return
			}
			for i, l := range splitLines(n.text) {
				if l.text != "" {
					lines = append(lines, outLine{n: n.line + i, text: l.text})
				}
			}
			for _, k := range n.kids {
				walk(k)
			}
		}
		walk(root)
		for _, w := range root.find("warning") {
			if m := w.children("message"); len(m) > 0 && m[0].value() != "" {
				xmlWarnings = append(xmlWarnings, cut(m[0].value(), maxErrorText))
			}
		}
		if de, ok := replyError(whatAdd, root).(*DeviceError); ok {
			xmlFails = append(xmlFails, de.Message)
		}
		for _, pr := range root.find("package-result") {
			v := pr.value()
			n, err := strconv.Atoi(v)
			if !isDigits(strings.TrimPrefix(v, "-"), 9) || err != nil {
				return AddResult{}, newParseError(whatAdd, pr.line, v, "package-result is not a number", nil)
			}
			results = append(results, n)
		}
		if len(lines) == 0 && len(results) == 0 && len(xmlFails) == 0 {
			return AddResult{}, newParseError(whatAdd, root.line, root.name, "no output text, <package-result> or error in the reply", nil)
		}
	} else {
		if strings.TrimSpace(output) == "" {
			return AddResult{}, newParseError(whatAdd, 0, "", "empty output", nil)
		}
		for _, l := range splitLines(output) {
			if cmd, ok := prompt(l.text); ok {
				if !commandMatches(cmd, "request system software") {
					return AddResult{}, newParseError(whatAdd, l.n, l.text, "prompt with another command: not the output of "+whatAdd, nil)
				}
				continue
			}
			lines = append(lines, l)
		}
	}

	// Failures.
	var (
		fail     *SoftwareAddError
		failRank int
	)
	note := func(text string) {
		kind, rank, ok := addFailureKind(text)
		if !ok {
			return
		}
		if fail == nil {
			fail, failRank = &SoftwareAddError{Kind: kind, Message: cut(text, maxErrorText)}, rank
		} else if rank < failRank {
			fail.Kind, fail.Message, failRank = kind, cut(text, maxErrorText), rank
		}
		fail.Lines = append(fail.Lines, cut(text, maxErrorText))
	}
	for _, l := range lines {
		if l.text != "" {
			note(l.text)
		}
	}
	for _, m := range xmlFails { // an xnm:error is a failure even without a known pattern
		if _, _, ok := addFailureKind(m); ok {
			note(m)
			continue
		}
		if fail == nil {
			fail, failRank = &SoftwareAddError{Kind: AddOther, Message: m}, 5
		}
		fail.Lines = append(fail.Lines, m)
	}
	if len(results) > 0 {
		res.PackageResult, res.HasPackageResult = results[0], true
		for _, r := range results {
			if r != 0 {
				res.PackageResult = r
				break
			}
		}
	}
	if fail == nil && res.PackageResult != 0 {
		msg := "package-result " + strconv.Itoa(res.PackageResult)
		fail = &SoftwareAddError{Kind: AddOther, Message: msg, Lines: []string{msg}}
	}
	if fail != nil {
		fail.PackageResult, fail.HasPackageResult = res.PackageResult, res.HasPackageResult
		return AddResult{}, fail
	}

	// Success.
	for _, l := range lines {
		if strings.HasPrefix(l.text, "WARNING:") {
			res.Warnings = append(res.Warnings, cut(l.text, maxErrorText))
		}
		if addSuccess(l.text) {
			res.Pending = true
			if res.Marker == "" {
				res.Marker = cut(l.text, maxErrorText)
			}
			if m := addVersionRe.FindStringSubmatch(l.text); m != nil {
				if res.Version != "" && res.Version != m[1] {
					return AddResult{}, newParseError(whatAdd, l.n, l.text,
						fmt.Sprintf("two versions become active at next reboot: %q and %q", res.Version, m[1]), nil)
				}
				res.Version = m[1]
			}
		}
	}
	res.Warnings = append(res.Warnings, xmlWarnings...)
	if !res.Pending && !res.HasPackageResult {
		return AddResult{}, newParseError(whatAdd, 0, "", "no success or failure marker in the output: install outcome unknown", nil)
	}
	return res, nil
}
