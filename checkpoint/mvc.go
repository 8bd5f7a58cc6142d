package checkpoint

import (
	"regexp"
	"strings"
)

// MVC is the Multi-Version Cluster setting of one member, as read back
// after `cphaconf mvc on|off` (Clish `set cluster member mvc on|off`), which
// itself prints nothing.
type MVC struct {
	// Enabled reports that MVC is on on this member.
	Enabled bool
	// Text is the line the setting was read from, e.g. "MVC: On".
	Text string
}

const whatMVC = "cphaprob mvc"

var (
	// mvcWordRe finds the setting words.
	mvcWordRe = regexp.MustCompile(`(?i)\b(on|off|enabled|disabled|enable|disable)\b`)
	// mvcLineRe is a whole setting line: an optional label naming MVC, an
	// optional separator, the word, an optional full stop.
	mvcLineRe = regexp.MustCompile(`(?i)^(?:((?:cluster\s+)?(?:members?\s+)?(?:mvc|multi[- ]?version\s+cluster(?:\s*\(mvc\))?)(?:\s+(?:mechanism|state|status|mode|setting))?)\s*(?::|=|\bis\b)?\s*)?(on|off|enabled|disabled)\s*\.?$`)
	// mvcLabelRe is a label alone on its line, "MVC status:".
	mvcLabelRe = regexp.MustCompile(`(?i)^(?:cluster\s+)?(?:members?\s+)?(?:mvc|multi[- ]?version\s+cluster(?:\s*\(mvc\))?)(?:\s+(?:mechanism|state|status|mode|setting))?\s*:$`)
	// mvcTopicRe spots a line about MVC that is not a recognised setting.
	mvcTopicRe = regexp.MustCompile(`(?i)\bmvc\b|multi[- ]?version`)
	// mvcNegationRe makes a setting word ambiguous.
	mvcNegationRe = regexp.MustCompile(`(?i)\bnot\b|\bno\b|n't\b`)
	// mvcErrorRe marks a rejected command or a refusal.
	mvcErrorRe = regexp.MustCompile(`(?i)\b(?:error|usage|invalid|unknown|failed|not supported|denied|cannot)\b`)
)

// ParseMVC reads the Multi-Version Cluster (MVC) setting from the output of
// Expert `cphaprob mvc` or Clish `show cluster members mvc`.
//
// NOT VERIFIED against a real capture: no real output of either command is
// public (the Check Point R81 CLI Reference Guide documents the commands,
// not their output). The parser therefore accepts any of these
// shapes, any case, and nothing ambiguous:
//
//	ON | OFF | enabled | disabled                    a bare word on its own line
//	MVC: On   MVC = off   mvc is off                 a label naming MVC, then ":", "=" or "is"
//	Multi-Version Cluster: enabled                   "Multi-Version Cluster", "Multi Version
//	Multi-Version Cluster (MVC) status: disabled      Cluster", optional "(MVC)", optional
//	                                                  mechanism/state/status/mode/setting
//	MVC status:                                      a label alone, the word on a later line
//	On
//
// Prompts, the command echo, pager artefacts, syslog lines and unrelated
// lines (banners) are skipped. A full stop after the word is allowed.
//
// It fails closed with a *ParseError (errors.Is ErrUnrecognized) for: no
// setting word at all; both an "on" word and an "off" word (on one line or
// on several); a setting word with a negation ("not", "no", "n't") or inside
// other text ("MVC will be enabled after reboot"); a line about MVC that is
// not a setting ("MVC is not supported"); an error, usage or refusal line.
//
// Source: Check Point R81 CLI Reference Guide, "Configuring the Multi-Version
// Cluster Mechanism" (commands only); sk107042; the R81.20 Installation and
// Upgrade Guide, MVC upgrade of a VSX cluster (enable MVC, then verify it).
func ParseMVC(output string) (MVC, error) {
	f := failer{what: whatMVC}
	var (
		found   bool
		st      MVC
		setLine line
	)
	for _, l := range content(output, nil, "cphaprob mvc", "show cluster members mvc", "show cluster member mvc") {
		t := l.text
		if mvcErrorRe.MatchString(t) {
			return MVC{}, f.at(l, "the device reported an error or refusal")
		}
		words := mvcWordRe.FindAllString(t, -1)
		if len(words) == 0 {
			if mvcLabelRe.MatchString(t) {
				continue
			}
			if mvcTopicRe.MatchString(t) {
				return MVC{}, f.at(l, "line about MVC without a recognised setting")
			}
			continue // a banner
		}
		if mvcNegationRe.MatchString(t) {
			return MVC{}, f.at(l, "setting word with a negation is ambiguous")
		}
		m := mvcLineRe.FindStringSubmatch(t)
		if m == nil {
			return MVC{}, f.at(l, "setting word inside unrecognised text")
		}
		on := strings.EqualFold(m[2], "on") || strings.EqualFold(m[2], "enabled")
		if found && on != st.Enabled {
			return MVC{}, f.at(l, "contradicts line %d %s", setLine.n, quote(setLine.text))
		}
		if !found {
			found, st, setLine = true, MVC{Enabled: on, Text: t}, l
		}
	}
	if !found {
		return MVC{}, f.whole("no MVC setting (on/off/enabled/disabled) found")
	}
	return st, nil
}
