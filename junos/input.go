package junos

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// outLine is one output line: its 1-based number and its text trimmed of
// surrounding white space (spaces, tabs, "\r").
type outLine struct {
	n    int
	text string
}

func splitLines(s string) []outLine {
	raw := strings.Split(s, "\n")
	out := make([]outLine, len(raw))
	for i, r := range raw {
		out[i] = outLine{n: i + 1, text: strings.TrimSpace(r)}
	}
	return out
}

var (
	// promptRe is a Junos CLI prompt line, "user@host> command" or
	// "user@host# command", or a bare "> command" as operators' notes
	// print it; group 1 is the command typed, if any.
	promptRe = regexp.MustCompile(`^(?:[\w.\-]{1,64}@[\w.\-]{1,64})?[>#](?:\s+(.*?))?\s*$`)
	// bannerRe is the banner line Junos prints before a prompt:
	// {primary:node0}, {secondary-hold:node1}, {master:0}, {backup}.
	bannerRe = regexp.MustCompile(`^\{([\w-]+)(?::([\w-]+))?\}$`)
	// editRe is the "[edit]" context line of configuration mode.
	editRe = regexp.MustCompile(`^\[edit(?:\s[^\]]*)?\]$`)
	// cliErrorRe is a CLI error line ("error: ...", any case).
	cliErrorRe = regexp.MustCompile(`(?i)^error:`)
)

// prompt returns the command typed on a prompt line; ok is false when the
// line is not a prompt.
func prompt(line string) (cmd string, ok bool) {
	if !strings.ContainsAny(line, ">#") { // cheap gate before the regexp
		return "", false
	}
	m := promptRe.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// commandMatches reports whether cmd (typed after a prompt) is want or want
// followed by arguments or a pipe: "show chassis cluster status | display
// xml", also behind "run " (configuration mode). An empty cmd (a bare
// prompt) matches; abbreviations ("show chassis cluster st") do not.
// `show system storage partitions` is another command with another format
// and is refused.
func commandMatches(cmd, want string) bool {
	norm := strings.ToLower(strings.Join(strings.Fields(cmd), " "))
	norm = strings.TrimPrefix(norm, "run ") // from configuration mode
	if norm == "" || norm == want {
		return true
	}
	rest, ok := strings.CutPrefix(norm, want+" ")
	if !ok {
		return false
	}
	next, _, _ := strings.Cut(rest, " ")
	return !(want == whatStorage && next == "partitions")
}

// frame classifies the lines every Junos output may carry around its body:
// blank lines, prompts (their command must be want), banners and [edit]
// lines. It returns skip=true for such a line, and an error for a prompt
// with another command.
func frame(what, want string, l outLine) (skip bool, err error) {
	switch {
	case l.text == "":
		return true, nil
	case bannerRe.MatchString(l.text), editRe.MatchString(l.text):
		return true, nil
	}
	if cmd, ok := prompt(l.text); ok {
		if !commandMatches(cmd, want) {
			return true, newParseError(what, l.n, l.text, "prompt with another command: not the output of "+want, nil)
		}
		return true, nil
	}
	return false, nil
}

// isXML reports whether output is an XML reply: its first line that is not
// blank, a banner or a prompt with the command want starts with "<". It returns the XML text from
// that line on and the number of lines skipped before it.
func isXML(output, want string) (body string, skipped int, ok bool) {
	rest := output
	for rest != "" {
		line, tail, _ := strings.Cut(rest, "\n")
		t := strings.TrimSpace(line)
		cmd, isPrompt := prompt(t)
		switch {
		case t == "" || bannerRe.MatchString(t) || isPrompt && commandMatches(cmd, want):
			rest = tail
			skipped++
			continue
		case strings.HasPrefix(t, "<"):
			return rest, skipped, true
		}
		return "", 0, false
	}
	return "", 0, false
}

// xnode is one element of a parsed XML reply. Names are local names: the
// namespace (junos:, xnm:, a default xmlns) is ignored.
type xnode struct {
	name  string
	attrs []xml.Attr
	text  string // character data directly inside, untrimmed
	kids  []*xnode
	line  int // line of the start tag in the whole output
	// banners are the banner lines after the root element (root only).
	banners []string
}

// value returns the element's text, trimmed.
func (n *xnode) value() string { return strings.TrimSpace(n.text) }

// children returns the direct children named name.
func (n *xnode) children(name string) []*xnode {
	var out []*xnode
	for _, k := range n.kids {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

// find returns every descendant (not n itself) named name, depth first.
func (n *xnode) find(name string) []*xnode {
	var out []*xnode
	var walk func(*xnode)
	walk = func(x *xnode) {
		for _, k := range x.kids {
			if k.name == name {
				out = append(out, k)
			}
			walk(k)
		}
	}
	walk(n)
	return out
}

// attr returns the attribute with local name local.
func (n *xnode) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// Bounds on XML replies: deeper or larger documents are refused.
const (
	maxXMLDepth = 64
	maxXMLNodes = 1 << 16
)

// parseXML parses an XML reply (body starts at line skipped+1 of the
// output) into a tree. After the root element only blank, prompt, banner
// and NETCONF end-of-message ("]]>]]>") lines may follow. DTDs are refused.
func parseXML(what, body string, skipped int) (*xnode, error) {
	fail := func(line int, text, reason string, cause error) (*xnode, error) {
		return nil, newParseError(what, line, text, reason, cause)
	}
	d := xml.NewDecoder(strings.NewReader(body))
	seenOff, seenLine := 0, skipped+1
	lineAt := func(off int64) int { // offsets only grow
		o := min(int(off), len(body))
		if o > seenOff {
			seenLine += strings.Count(body[seenOff:o], "\n")
			seenOff = o
		}
		return seenLine
	}
	var (
		root  *xnode
		stack []*xnode
		count int
	)
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return fail(skipped+se.Line, "", "XML syntax error: "+se.Msg, err)
			}
			return fail(lineAt(off), "", "XML reply not complete: "+err.Error(), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return fail(lineAt(off), t.Name.Local, "second root element", nil)
			}
			count++
			if len(stack) >= maxXMLDepth || count > maxXMLNodes {
				return fail(lineAt(off), t.Name.Local, "XML reply too deep or too large", nil)
			}
			n := &xnode{name: t.Name.Local, attrs: t.Attr, line: lineAt(off)}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				banners, err := checkTrailer(what, body[d.InputOffset():], lineAt(d.InputOffset()))
				root.banners = banners
				return root, err
			}
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return fail(lineAt(off), string(t), "text outside the XML root element", nil)
				}
				continue
			}
			stack[len(stack)-1].text += string(t)
		case xml.Directive:
			return fail(lineAt(off), "", "XML directive (DTD) not allowed in a reply", nil)
		}
	}
}

// checkTrailer accepts what may follow the root element of a reply and
// returns the banner lines found there.
func checkTrailer(what, rest string, firstLine int) ([]string, error) {
	var banners []string
	for i, l := range strings.Split(rest, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case bannerRe.MatchString(t):
			banners = append(banners, t)
		case t == "" || t == "]]>]]>":
		case func() bool { _, ok := prompt(t); return ok }():
		default:
			return nil, newParseError(what, firstLine+i, t, "unexpected text after the XML reply", nil)
		}
	}
	return banners, nil
}

// replyError returns a *DeviceError for the first xnm:error (an element
// named error with a message) or rpc-error of severity error in the tree.
func replyError(what string, root *xnode) error {
	var all []*xnode
	if root.name == "error" || root.name == "rpc-error" {
		all = append(all, root)
	}
	all = append(all, root.find("error")...)
	all = append(all, root.find("rpc-error")...)
	for _, e := range all {
		msg := ""
		for _, name := range []string{"message", "error-message"} {
			if m := e.children(name); len(m) > 0 {
				msg = m[0].value()
			}
		}
		if e.name == "rpc-error" {
			if sev := e.children("error-severity"); len(sev) > 0 && sev[0].value() == "warning" {
				continue
			}
		} else if msg == "" {
			continue // an element named "error" that is not an xnm:error
		}
		daemon := ""
		if s := e.children("source-daemon"); len(s) > 0 {
			daemon = s[0].value()
		}
		if msg == "" {
			msg = "(rpc-error without message)"
		}
		return &DeviceError{What: what, Message: cut(msg, maxErrorText), Daemon: daemon}
	}
	return nil
}

// payload returns the elements of the reply that carry data: the children
// of <rpc-reply>, or the root itself when the reply has no wrapper. <cli>
// (banner) children are left out.
func payload(root *xnode) []*xnode {
	if root.name != "rpc-reply" {
		return []*xnode{root}
	}
	var out []*xnode
	for _, k := range root.kids {
		if k.name != "cli" {
			out = append(out, k)
		}
	}
	return out
}

// oneChild returns the single child named name of n: ok is false when it is
// missing; an error when it is repeated.
func oneChild(what string, n *xnode, name string) (*xnode, bool, error) {
	c := n.children(name)
	switch len(c) {
	case 0:
		return nil, false, nil
	case 1:
		return c[0], true, nil
	}
	return nil, false, newParseError(what, c[1].line, "", fmt.Sprintf("<%s> repeated in <%s>", name, n.name), nil)
}

// isDigits reports whether s is 1 to n ASCII digits.
func isDigits(s string, n int) bool {
	if s == "" || len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
