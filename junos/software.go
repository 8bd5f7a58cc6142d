package junos

import (
	"fmt"
	"regexp"
	"strings"
)

const whatVersion = "show version"

// NodeSoftware is what `show version` says about one node (or the one
// Routing Engine of a standalone device).
type NodeSoftware struct {
	// Node is the section name: "node0"/"node1" on a chassis cluster (the
	// "node0:" header, or <re-name> in XML; other multi-RE devices print
	// "fpc0", "member0", "re0"); "" on a standalone device.
	Node string
	// Hostname and Model are the "Hostname:" and "Model:" lines
	// (<host-name>, <product-model>); "" when not printed.
	Hostname string
	Model    string
	// Family is the "Family:" line that Junos 24.x prints (e.g. "junos-es");
	// "" when not printed.
	Family string
	// Version is the running Junos version, from "Junos: 19.4R3-S1.3"
	// (<junos-version>) or, on releases without that line, from "JUNOS
	// Software Release [12.1X44-D10.4]".
	Version Version
}

// Software is the output of `show version` (RPC get-software-information):
// one entry per node, in output order. A chassis cluster prints both nodes;
// neither is dropped.
type Software struct {
	Nodes []NodeSoftware
}

// Node returns the entry of the named node ("node0", "node1"; "" for a
// standalone device).
func (s Software) Node(name string) (NodeSoftware, bool) {
	for _, n := range s.Nodes {
		if n.Node == name {
			return n, true
		}
	}
	return NodeSoftware{}, false
}

var (
	swSectionRe = regexp.MustCompile(`^((?:node|fpc|member|re)\d{1,2}|localre)\s*:$`)
	swDashesRe  = regexp.MustCompile(`^-{10,}$`)
	swKeyRe     = regexp.MustCompile(`(?i)^(Hostname|Model|Junos|Family):\s*(.*)$`)
	// swReleaseRe is the package line of releases without a "Junos:" line.
	swReleaseRe = regexp.MustCompile(`(?i)^JUNOS Software Release \[([^\]]*)\]$`)
)

// ParseSoftwareInformation reads the output of `show version`, as text or
// as XML (`| display xml`, RPC get-software-information), per node. Source:
// the Junos OS CLI reference (`show version`) and captures of SRX1500 and
// SRX4100 chassis clusters.
//
// Text: an optional "node0:" / "node1:" section header per node (each
// followed by a dashed line), then "Hostname:", "Model:", "Junos:" and, in
// 24.x, "Family:" lines; package lines ("JUNOS OS Kernel ... [...]") are
// skipped, except "JUNOS Software Release [v]" which gives the version when
// there is no "Junos:" line (and must agree with it when there is). Prompt
// lines (their command must be `show version ...`), banners and blank lines
// are skipped.
//
// XML: an optional <rpc-reply> wrapper holding either <software-information>
// or <multi-routing-engine-results> with one <multi-routing-engine-item>
// {<re-name>, <software-information>} per node; namespaces are ignored.
// <software-information> gives <host-name>, <product-model> and
// <junos-version>, or without <junos-version> the <package-information>
// named "junos" whose <comment> is "JUNOS Software Release [v]".
//
// Every version must pass the strict Junos grammar (versionpath.Junos);
// development builds are refused. Errors: a *DeviceError for an "error:"
// line or an xnm:error; otherwise a *ParseError (ErrUnrecognized; for a
// malformed version it also wraps the *versionpath.ParseError) for empty
// output, a node without a version, a line or element repeated within a
// node, two versions that disagree, a node named twice, output both with and
// without node headers, and XML that is not well formed (an excerpt).
func ParseSoftwareInformation(output string) (Software, error) {
	if body, skipped, ok := isXML(output, whatVersion); ok {
		return parseSoftwareXML(body, skipped)
	}
	return parseSoftwareText(output)
}

// swBuilder collects one node's facts and checks them.
type swBuilder struct {
	n       NodeSoftware
	version string // from Junos: / junos-version
	release string // from JUNOS Software Release [...]
	seen    map[string]bool
	line    int // where the node starts
}

func (b *swBuilder) set(key, val string) error {
	key = strings.ToLower(key)
	if b.seen[key] {
		return fmt.Errorf("%s printed twice for %s", key, nodeLabel(b.n.Node))
	}
	b.seen[key] = true
	switch key {
	case "hostname":
		b.n.Hostname = val
	case "model":
		b.n.Model = val
	case "family":
		b.n.Family = val
	case "junos":
		b.version = val
	case "release":
		b.release = val
	}
	return nil
}

func (b *swBuilder) finish() (NodeSoftware, error) {
	text := b.version
	if !b.seen["junos"] {
		text = b.release
	}
	switch {
	case !b.seen["junos"] && !b.seen["release"]:
		return NodeSoftware{}, newParseError(whatVersion, b.line, "", "no Junos version for "+nodeLabel(b.n.Node), nil)
	case b.seen["junos"] && b.seen["release"] && b.version != b.release:
		return NodeSoftware{}, newParseError(whatVersion, b.line, "",
			fmt.Sprintf("%s: Junos %q and JUNOS Software Release %q disagree", nodeLabel(b.n.Node), b.version, b.release), nil)
	}
	v, err := ParseVersion(text)
	if err != nil {
		return NodeSoftware{}, newParseError(whatVersion, b.line, text, nodeLabel(b.n.Node)+": malformed Junos version", err)
	}
	b.n.Version = v
	return b.n, nil
}

func nodeLabel(node string) string {
	if node == "" {
		return "the device"
	}
	return node
}

func parseSoftwareText(output string) (Software, error) {
	fail := func(l outLine, format string, args ...any) (Software, error) {
		return Software{}, newParseError(whatVersion, l.n, l.text, fmt.Sprintf(format, args...), nil)
	}
	if strings.TrimSpace(output) == "" {
		return fail(outLine{}, "empty output")
	}
	var (
		sw       Software
		cur      *swBuilder
		sections int // named sections seen
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		n, err := cur.finish()
		if err != nil {
			return err
		}
		sw.Nodes = append(sw.Nodes, n)
		cur = nil
		return nil
	}
	for _, l := range splitLines(output) {
		if skip, err := frame(whatVersion, whatVersion, l); err != nil {
			return Software{}, err
		} else if skip || swDashesRe.MatchString(l.text) {
			continue
		}
		if cliErrorRe.MatchString(l.text) {
			return Software{}, &DeviceError{What: whatVersion, Message: cut(l.text, maxErrorText), Line: l.n}
		}
		if m := swSectionRe.FindStringSubmatch(l.text); m != nil {
			if cur != nil && cur.n.Node == "" {
				return fail(l, "node header after output without one")
			}
			if err := flush(); err != nil {
				return Software{}, err
			}
			if _, dup := sw.Node(m[1]); dup {
				return fail(l, "%s printed twice", m[1])
			}
			sections++
			cur = &swBuilder{n: NodeSoftware{Node: m[1]}, seen: map[string]bool{}, line: l.n}
			continue
		}
		key, val := "", ""
		if m := swKeyRe.FindStringSubmatch(l.text); m != nil {
			key, val = m[1], strings.TrimSpace(m[2])
		} else if m := swReleaseRe.FindStringSubmatch(l.text); m != nil {
			key, val = "release", m[1]
		} else {
			continue // a package line
		}
		if cur == nil {
			if sections > 0 {
				return fail(l, "line after a node section but outside any")
			}
			cur = &swBuilder{seen: map[string]bool{}, line: l.n}
		}
		if err := cur.set(key, val); err != nil {
			return fail(l, "%v", err)
		}
	}
	if err := flush(); err != nil {
		return Software{}, err
	}
	if len(sw.Nodes) == 0 {
		return fail(outLine{}, "no Hostname/Model/Junos lines found")
	}
	return sw, nil
}

func parseSoftwareXML(body string, skipped int) (Software, error) {
	const what = whatVersion
	root, err := parseXML(what, body, skipped)
	if err != nil {
		return Software{}, err
	}
	if err := replyError(what, root); err != nil {
		return Software{}, err
	}
	type item struct {
		node string
		si   *xnode
		line int
	}
	var items []item
	for _, p := range payload(root) {
		switch p.name {
		case "software-information":
			items = append(items, item{"", p, p.line})
		case "multi-routing-engine-results":
			for _, it := range p.children("multi-routing-engine-item") {
				name, ok, err := oneChild(what, it, "re-name")
				if err != nil {
					return Software{}, err
				}
				if !ok || name.value() == "" {
					return Software{}, newParseError(what, it.line, "", "<multi-routing-engine-item> without <re-name>", nil)
				}
				si, ok, err := oneChild(what, it, "software-information")
				if err != nil {
					return Software{}, err
				}
				if !ok {
					return Software{}, newParseError(what, it.line, name.value(), "<multi-routing-engine-item> without <software-information>", nil)
				}
				items = append(items, item{name.value(), si, it.line})
			}
		}
	}
	if len(items) == 0 {
		return Software{}, newParseError(what, root.line, root.name, "no <software-information> element", nil)
	}
	var sw Software
	for _, it := range items {
		if it.node == "" && len(items) > 1 {
			return Software{}, newParseError(what, it.line, "", "more than one <software-information> without <re-name>", nil)
		}
		if _, dup := sw.Node(it.node); dup {
			return Software{}, newParseError(what, it.line, it.node, "node repeated", nil)
		}
		b := &swBuilder{n: NodeSoftware{Node: it.node}, seen: map[string]bool{}, line: it.line}
		for _, f := range []struct{ elem, key string }{
			{"host-name", "hostname"}, {"product-model", "model"}, {"junos-version", "junos"},
		} {
			e, ok, err := oneChild(what, it.si, f.elem)
			if err != nil {
				return Software{}, err
			}
			if ok {
				_ = b.set(f.key, e.value()) // each key once: cannot fail
			}
		}
		for _, pkg := range it.si.children("package-information") {
			name, _, _ := oneChild(what, pkg, "name")
			comment, _, _ := oneChild(what, pkg, "comment")
			if name == nil || comment == nil || name.value() != "junos" {
				continue
			}
			m := swReleaseRe.FindStringSubmatch(comment.value())
			if m == nil {
				continue
			}
			if err := b.set("release", m[1]); err != nil {
				return Software{}, newParseError(what, pkg.line, "", err.Error(), nil)
			}
		}
		n, err := b.finish()
		if err != nil {
			return Software{}, err
		}
		sw.Nodes = append(sw.Nodes, n)
	}
	return sw, nil
}
