package checkpoint

import (
	"regexp"
	"strings"
)

// line is one line of a command output.
type line struct {
	n    int    // 1-based line number in the output
	text string // cleaned (see clean) and trimmed of surrounding white space
}

// Terminal noise shapes shared by every parser. Immutable.
var (
	// ansiRe is an ANSI escape sequence (CSI, or a two-byte escape).
	ansiRe = regexp.MustCompile("\x1b(?:\\[[0-9;?]*[ -/]*[@-~]|[()#][0-9A-Za-z]|[@-_])?")
	// pagerRe is a pager prompt left in the output: "--More--",
	// "-- More --", "<--- More --->", optionally "(42%)". It must stand
	// alone between white space, so names such as "fw-more-1" are kept.
	pagerRe = regexp.MustCompile(`(?i)(?:^|\s)<?-{2,} ?more ?-{2,}>?(?: ?\(\d{1,3}%\))?(?:\s|$)`)
	// expertPromptRe is an Expert mode prompt, "[Expert@host:0]#" (":N" is
	// the VSX context) or "[Expert@host]#", optionally with the command.
	expertPromptRe = regexp.MustCompile(`^\[Expert@[^\]\s]+\]#\s*(.*)$`)
	// clishPromptRe is a Clish prompt, "host>" or "host:3>", optionally with
	// the command.
	clishPromptRe = regexp.MustCompile(`^[A-Za-z0-9][\w.\-]*(?::\d+)?>(?:\s+(.*))?$`)
	// watchRe is the header of `watch`: "Every 2.0s: cphaprob state  host: date".
	watchRe = regexp.MustCompile(`^Every \d+(?:\.\d+)?s: `)
	// syslogHeaderRe is the first line of a message broadcast to terminals.
	syslogHeaderRe = regexp.MustCompile(`^(?:Message from syslogd@\S+|Broadcast message from \S+)(?:\s|$)`)
	// syslogLineRe is a plain syslog line: "May 15 10:50:59 [2026] host tag: ..."
	// or an RFC 3339 time stamp, host, tag.
	syslogLineRe = regexp.MustCompile(`^(?:[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?: \d{4})?|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\S*) \S+ [^\s:]+:`)
	// syslogBodyRe is the message line that follows a broadcast header:
	// "kernel:[fw4_1];CLUS-..." or "cphad[1234]: ...".
	syslogBodyRe = regexp.MustCompile(`^([A-Za-z][\w.\-/]*)(?:\[[\w.\-]+\])?:`)
)

// clean returns what a terminal shows of one raw line: ANSI escapes removed,
// a carriage return starting the line over (the last non-blank segment is
// kept), a backspace deleting the character before it, other control
// characters (except TAB) turned into spaces, pager prompts removed, white
// space trimmed.
func clean(raw string) string {
	raw = strings.TrimRight(raw, "\r")
	if strings.IndexFunc(raw, isControl) < 0 && !strings.Contains(strings.ToLower(raw), "more") {
		return strings.TrimSpace(raw)
	}
	s := ansiRe.ReplaceAllString(raw, "")
	if strings.Contains(s, "\r") {
		segs := strings.Split(s, "\r")
		s = ""
		for i := len(segs) - 1; i >= 0; i-- {
			if strings.TrimSpace(strings.ReplaceAll(segs[i], "\b", "")) != "" {
				s = segs[i]
				break
			}
		}
	}
	if strings.Contains(s, "\b") {
		out := make([]rune, 0, len(s))
		for _, r := range s {
			if r == '\b' {
				if len(out) > 0 {
					out = out[:len(out)-1]
				}
				continue
			}
			out = append(out, r)
		}
		s = string(out)
	}
	s = strings.Map(func(r rune) rune {
		if r != '\t' && isControl(r) {
			return ' '
		}
		return r
	}, s)
	for i := 0; i < 8 && pagerRe.MatchString(s); i++ {
		s = pagerRe.ReplaceAllString(s, " ")
	}
	return strings.TrimSpace(s)
}

// isControl reports an ASCII control character or DEL (TAB included).
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// splitLines cuts output into cleaned lines, numbered from 1.
func splitLines(output string) []line {
	raws := strings.Split(output, "\n")
	ls := make([]line, 0, len(raws))
	for i, raw := range raws {
		ls = append(ls, line{n: i + 1, text: clean(raw)})
	}
	return ls
}

// fields is strings.Fields of a line's text.
func (l line) fields() []string { return strings.Fields(l.text) }

// normalize lower-cases s and collapses white space runs to one space.
func normalize(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// content returns the lines of output that are not session noise: blank
// lines, prompt lines (with or without a command), the bare command echo
// (any of commands, compared case-insensitively with white space collapsed),
// the `watch` header, and syslog lines. After a broadcast header ("Message
// from syslogd@..."), the next line is its message and is skipped too when it
// starts with a syslog tag ("kernel:", "cphad[12]:") that known does not
// accept as a field name of the command.
//
// A prompt line whose command is one of commands and is followed by more text
// on the same line (a vendor-document copy flattened by HTML) is kept, with
// the prompt and the command removed, unless that text starts a shell
// redirection or pipeline.
func content(output string, known func(key string) bool, commands ...string) []line {
	var out []line
	body := false // the previous line was a broadcast header
	for _, l := range splitLines(output) {
		wasBody := body
		body = false
		t := l.text
		switch {
		case t == "":
			continue
		case watchRe.MatchString(t):
			continue
		case syslogHeaderRe.MatchString(t):
			body = true
			continue
		case syslogLineRe.MatchString(t):
			continue
		}
		if rest, ok := afterPrompt(t); ok {
			after, mine := afterCommand(rest, commands)
			if !mine || after == "" || strings.ContainsAny(after[:1], "<>|;&") {
				continue // a foreign command, the echo alone, or a shell pipeline
			}
			l.text = after
			out = append(out, l)
			continue
		}
		if wasBody {
			if m := syslogBodyRe.FindStringSubmatch(t); m != nil && (known == nil || !known(normalize(m[1]))) {
				continue
			}
		}
		if isEcho(t, commands) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// afterPrompt returns what follows an Expert or Clish prompt at the start of
// t, and false when t does not start with a prompt.
func afterPrompt(t string) (string, bool) {
	if m := expertPromptRe.FindStringSubmatch(t); m != nil {
		return strings.TrimSpace(m[1]), true
	}
	if m := clishPromptRe.FindStringSubmatch(t); m != nil {
		return strings.TrimSpace(m[1]), true
	}
	return "", false
}

// afterCommand reports whether rest starts with one of commands (whole
// words, case-insensitive) and returns the text after it, white space
// collapsed. The longest matching command wins.
func afterCommand(rest string, commands []string) (string, bool) {
	rf := strings.Fields(rest)
	best := -1
	for _, c := range commands {
		cf := strings.Fields(c)
		if len(cf) > len(rf) || len(cf) <= best {
			continue
		}
		match := true
		for i := range cf {
			if !strings.EqualFold(cf[i], rf[i]) {
				match = false
				break
			}
		}
		if match {
			best = len(cf)
		}
	}
	if best < 0 {
		return "", false
	}
	return strings.Join(rf[best:], " "), true
}

// isEcho reports whether t is one of commands typed on its own line.
func isEcho(t string, commands []string) bool {
	n := normalize(t)
	for _, c := range commands {
		if n == c {
			return true
		}
	}
	return false
}

// splitKey splits "Key:   value" at the first colon into the normalized key
// and the trimmed value. ok is false when there is no colon or no key.
func splitKey(t string) (key, value string, ok bool) {
	i := strings.IndexByte(t, ':')
	if i <= 0 {
		return "", "", false
	}
	return normalize(t[:i]), strings.TrimSpace(t[i+1:]), true
}
