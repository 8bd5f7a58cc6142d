package junostest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// config is a Junos configuration: statements (token lists such as
// ["chassis", "cluster", "redundancy-group", "1", "preempt"]) in insertion
// order, and the deactivated statement prefixes ("inactive:").
type config struct {
	stmts    [][]string
	inactive [][]string
}

// cfgError is a rejected configuration statement: a message and the index of
// the offending token (-1: none; len(tokens): missing at the end).
type cfgError struct {
	msg string
	pos int
}

// defaultConfig is the configuration of a freshly clustered vSRX pair: per
// node host names and fxp0 addresses in groups node0/node1, the cluster's
// redundancy groups with priorities, interface monitoring and reths, and
// fabric links. Addresses are documentation ranges (RFC 5737).
func defaultConfig(o Options) *config {
	lines := []string{
		"version " + o.Version,
		"groups node0 system host-name " + o.Hostnames[0],
		"groups node0 interfaces fxp0 unit 0 family inet address 192.0.2.10/24",
		"groups node1 system host-name " + o.Hostnames[1],
		"groups node1 interfaces fxp0 unit 0 family inet address 192.0.2.11/24",
		`apply-groups "${node}"`,
		`system root-authentication encrypted-password "$6$hitless$simulated.password.hash"`,
		"system services ssh",
		"system services netconf ssh",
		"chassis cluster reth-count " + strconv.Itoa(o.RedundancyGroups-1),
	}
	for g := range o.RedundancyGroups {
		rg := "chassis cluster redundancy-group " + strconv.Itoa(g)
		lines = append(lines,
			rg+" node 0 priority "+strconv.Itoa(o.Priorities[0]),
			rg+" node 1 priority "+strconv.Itoa(o.Priorities[1]))
		if g == 0 {
			continue
		}
		if slices.Contains(o.Preempt, g) {
			lines = append(lines, rg+" preempt")
		}
		lines = append(lines,
			fmt.Sprintf("%s interface-monitor ge-0/0/%d weight 255", rg, g),
			fmt.Sprintf("%s interface-monitor ge-7/0/%d weight 255", rg, g))
	}
	for g := 1; g < o.RedundancyGroups; g++ {
		lines = append(lines,
			fmt.Sprintf("interfaces ge-0/0/%d gigether-options redundant-parent reth%d", g, g-1),
			fmt.Sprintf("interfaces ge-7/0/%d gigether-options redundant-parent reth%d", g, g-1))
	}
	lines = append(lines,
		"interfaces fab0 fabric-options member-interfaces ge-0/0/0",
		"interfaces fab1 fabric-options member-interfaces ge-7/0/0")
	addrs := []string{"198.51.100.1/24", "203.0.113.1/24"}
	for g := 1; g < o.RedundancyGroups; g++ {
		lines = append(lines,
			fmt.Sprintf("interfaces reth%d redundant-ether-options redundancy-group %d", g-1, g),
			fmt.Sprintf("interfaces reth%d unit 0 family inet address %s", g-1, addrs[g-1]))
	}
	c := &config{}
	for _, l := range lines {
		toks, err := splitWords(l)
		if err != nil {
			panic("junostest: default configuration: " + err.Error())
		}
		c.stmts = append(c.stmts, toks)
	}
	return c
}

// splitWords splits a line into words; double-quoted strings are one word
// (without the quotes).
func splitWords(s string) ([]string, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.text
	}
	return out, nil
}

func (c *config) clone() *config {
	n := &config{}
	for _, s := range c.stmts {
		n.stmts = append(n.stmts, slices.Clone(s))
	}
	for _, s := range c.inactive {
		n.inactive = append(n.inactive, slices.Clone(s))
	}
	return n
}

// hasPrefix reports whether p is a token prefix of st (or st itself).
func hasPrefix(st, p []string) bool {
	return len(p) <= len(st) && slices.Equal(st[:len(p)], p)
}

// isInactive reports whether st lies under a deactivated prefix.
func (c *config) isInactive(st []string) bool {
	return slices.ContainsFunc(c.inactive, func(p []string) bool { return hasPrefix(st, p) })
}

// find returns the first active statement with prefix p.
func (c *config) find(p ...string) ([]string, bool) {
	for _, st := range c.stmts {
		if hasPrefix(st, p) && !c.isInactive(st) {
			return st, true
		}
	}
	return nil, false
}

// preempt reports whether preempt is configured and active for g.
func (c *config) preempt(g int) bool {
	st, ok := c.find("chassis", "cluster", "redundancy-group", strconv.Itoa(g), "preempt")
	return ok && len(st) == 5
}

// priority returns the configured priority of node (0 or 1) in g; 0 if
// missing.
func (c *config) priority(g, node int) int {
	st, ok := c.find("chassis", "cluster", "redundancy-group", strconv.Itoa(g), "node", strconv.Itoa(node), "priority")
	if !ok || len(st) != 8 {
		return 0
	}
	p, _ := strconv.Atoi(st[7])
	return p
}

// hostname returns the host name configured for node ("node0"), from
// "groups <node> system host-name" or else "system host-name".
func (c *config) hostname(node string) string {
	if st, ok := c.find("groups", node, "system", "host-name"); ok && len(st) == 5 {
		return st[4]
	}
	if st, ok := c.find("system", "host-name"); ok && len(st) == 3 {
		return st[2]
	}
	return ""
}

// interfaceMonitors returns the monitored interfaces of g, in order.
func (c *config) interfaceMonitors(g int) []string {
	var out []string
	p := []string{"chassis", "cluster", "redundancy-group", strconv.Itoa(g), "interface-monitor"}
	for _, st := range c.stmts {
		if hasPrefix(st, p) && len(st) == 8 && !c.isInactive(st) {
			out = append(out, st[5]+" "+st[7])
		}
	}
	return out
}

// reths returns "rethN G" for every reth with a redundancy group, in order.
func (c *config) reths() []string {
	var out []string
	for _, st := range c.stmts {
		if len(st) == 5 && st[0] == "interfaces" && strings.HasPrefix(st[1], "reth") &&
			st[2] == "redundant-ether-options" && st[3] == "redundancy-group" && !c.isInactive(st) {
			out = append(out, st[1]+" "+st[4])
		}
	}
	return out
}

// singleValued are leaf keywords that take one value: setting them again
// replaces the value.
var singleValued = []string{"priority", "hold-down-interval", "host-name", "reth-count", "weight",
	"redundancy-group", "redundant-parent", "encrypted-password", "version", "heartbeat-interval",
	"heartbeat-threshold", "description", "gratuitous-arp-count"}

// apply runs one configuration-mode operation ("set", "delete",
// "deactivate", "activate") on c. A statement that is not there gives a
// warning, not an error (as Junos prints "warning: statement not found").
func (c *config) apply(op string, toks []string) (warning string, err *cfgError) {
	if len(toks) == 0 {
		return "", &cfgError{msg: "missing mandatory argument: statement.", pos: 0}
	}
	switch op {
	case "set":
		if err := validateSet(toks); err != nil {
			return "", err
		}
		if len(toks) >= 3 && slices.Contains(singleValued, toks[len(toks)-2]) {
			key := toks[:len(toks)-1]
			for i, st := range c.stmts {
				if len(st) == len(toks) && hasPrefix(st, key) {
					c.stmts[i] = slices.Clone(toks)
					return "", nil
				}
			}
		}
		for _, st := range c.stmts {
			if hasPrefix(st, toks) {
				return "", nil // already there (or a container of existing statements)
			}
		}
		c.stmts = append(c.stmts, slices.Clone(toks))
		return "", nil
	case "delete":
		n := len(c.stmts)
		c.stmts = slices.DeleteFunc(c.stmts, func(st []string) bool { return hasPrefix(st, toks) })
		c.inactive = slices.DeleteFunc(c.inactive, func(p []string) bool { return hasPrefix(p, toks) })
		if len(c.stmts) == n {
			return "warning: statement not found", nil
		}
		return "", nil
	case "deactivate", "activate":
		if !slices.ContainsFunc(c.stmts, func(st []string) bool { return hasPrefix(st, toks) }) {
			return "warning: statement not found", nil
		}
		i := slices.IndexFunc(c.inactive, func(p []string) bool { return slices.Equal(p, toks) })
		switch {
		case op == "deactivate" && i < 0:
			c.inactive = append(c.inactive, slices.Clone(toks))
		case op == "activate" && i >= 0:
			c.inactive = slices.Delete(c.inactive, i, i+1)
		}
		return "", nil
	}
	return "", &cfgError{msg: "syntax error.", pos: -1}
}

// topKeywords are the top-level statements the simulator accepts.
var topKeywords = []string{"version", "groups", "apply-groups", "system", "chassis", "interfaces",
	"security", "snmp", "routing-options", "protocols", "policy-options"}

// validateSet checks a "set" statement: a known top-level keyword, and for
// "chassis cluster" the statements of the Junos chassis cluster hierarchy
// (reth-count, control-link-recovery, heartbeat-*, redundancy-group N {node
// N priority P, preempt, hold-down-interval, gratuitous-arp-count,
// interface-monitor IF weight W}).
func validateSet(toks []string) *cfgError {
	syntax := func(i int) *cfgError { return &cfgError{msg: "syntax error.", pos: i} }
	missing := func(what string) *cfgError {
		return &cfgError{msg: "missing mandatory argument: " + what + ".", pos: len(toks)}
	}
	number := func(i, lo, hi int, what string) *cfgError {
		if i >= len(toks) {
			return missing(what)
		}
		v, err := strconv.Atoi(toks[i])
		if err != nil || !isDigits(toks[i]) {
			return &cfgError{msg: fmt.Sprintf("invalid numeric value: '%s'.", toks[i]), pos: i}
		}
		if v < lo || v > hi {
			return &cfgError{msg: fmt.Sprintf("error: value %d is not within range (%d..%d)", v, lo, hi), pos: i}
		}
		return nil
	}
	end := func(i int) *cfgError {
		if len(toks) > i {
			return syntax(i)
		}
		return nil
	}
	base := 0
	if toks[0] == "groups" {
		if len(toks) < 3 {
			return missing("statement")
		}
		base = 2
	}
	if !slices.Contains(topKeywords, toks[base]) || base > 0 && toks[base] == "groups" {
		return syntax(base)
	}
	switch toks[base] {
	case "version", "apply-groups":
		if len(toks) < base+2 {
			return missing("value")
		}
		return end(base + 2)
	case "chassis":
	default:
		if len(toks) < base+2 {
			return missing("statement")
		}
		return nil
	}
	i := base + 1
	if i >= len(toks) {
		return missing("statement")
	}
	if toks[i] != "cluster" {
		return syntax(i)
	}
	i++
	if i >= len(toks) {
		return nil
	}
	switch toks[i] {
	case "reth-count":
		if err := number(i+1, 1, 128, "reth-count"); err != nil {
			return err
		}
		return end(i + 2)
	case "control-link-recovery":
		return end(i + 1)
	case "heartbeat-interval", "heartbeat-threshold":
		if err := number(i+1, 1, 2000, toks[i]); err != nil {
			return err
		}
		return end(i + 2)
	case "redundancy-group":
	default:
		return syntax(i)
	}
	if err := number(i+1, 0, 128, "redundancy-group"); err != nil {
		return err
	}
	i += 2
	if i >= len(toks) {
		return nil
	}
	switch toks[i] {
	case "node":
		if err := number(i+1, 0, 1, "node"); err != nil {
			return err
		}
		if i+2 >= len(toks) {
			return missing("priority")
		}
		if toks[i+2] != "priority" {
			return syntax(i + 2)
		}
		if err := number(i+3, 1, 254, "priority"); err != nil {
			return err
		}
		return end(i + 4)
	case "preempt":
		return end(i + 1)
	case "hold-down-interval":
		if err := number(i+1, 0, 1800, "hold-down-interval"); err != nil {
			return err
		}
		return end(i + 2)
	case "gratuitous-arp-count":
		if err := number(i+1, 1, 16, "gratuitous-arp-count"); err != nil {
			return err
		}
		return end(i + 2)
	case "interface-monitor":
		if i+1 >= len(toks) {
			return missing("interface")
		}
		if i+2 >= len(toks) {
			return missing("weight")
		}
		if toks[i+2] != "weight" {
			return syntax(i + 2)
		}
		if err := number(i+3, 0, 255, "weight"); err != nil {
			return err
		}
		return end(i + 4)
	}
	return syntax(i)
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// errCommit is a commit refused by validation; its text is the lines to
// print.
var errCommit = errors.New("configuration check-out failed")

// checkCommit validates next against the cluster's redundancy groups: every
// group needs both node priorities, RG0 cannot preempt, and with
// preemptLocked the effective preempt of a group must not change from old.
func checkCommit(old, next *config, groups int, preemptLocked bool) (string, error) {
	var b strings.Builder
	for g := range groups {
		for node := range 2 {
			if next.priority(g, node) == 0 {
				fmt.Fprintf(&b, "[edit chassis cluster redundancy-group %d]\n  'node %d'\n    Missing mandatory statement: 'priority'\n", g, node)
			}
		}
	}
	if next.preempt(0) {
		b.WriteString("[edit chassis cluster redundancy-group 0]\n  'preempt'\n    Preempt is not supported for redundancy-group 0\n")
	}
	if preemptLocked {
		for g := 1; g < groups; g++ {
			if old.preempt(g) != next.preempt(g) {
				fmt.Fprintf(&b, "[edit chassis cluster redundancy-group %d]\n  'preempt'\n    preempt cannot be changed: redundancy-group %d is locked by jsrpd\n", g, g)
			}
		}
	}
	if b.Len() == 0 {
		return "", nil
	}
	b.WriteString("error: configuration check-out failed\n")
	return b.String(), errCommit
}

// tnode is a node of the rendered configuration tree: a container (seg is
// its words, e.g. ["redundancy-group", "1"]) or a leaf statement.
type tnode struct {
	seg  []string
	path []string // every token from the top down to and including seg
	leaf bool
	kids []*tnode
}

// containerRule says whether word w opens a container in context ctx: the
// new context and how many words follow w in the container's name.
func containerRule(ctx, w string) (next string, arity int, ok bool) {
	switch ctx {
	case "top", "group":
		switch w {
		case "groups":
			if ctx == "top" {
				return "groups", 0, true
			}
		case "system":
			return "system", 0, true
		case "chassis":
			return "chassis", 0, true
		case "interfaces":
			return "interfaces", 0, true
		case "security", "snmp", "routing-options", "protocols", "policy-options":
			return "other", 0, true
		}
	case "groups":
		return "group", 0, true
	case "system":
		switch w {
		case "services":
			return "services", 0, true
		case "root-authentication", "login", "syslog":
			return "other", 0, true
		}
	case "services":
		if w == "netconf" {
			return "other", 0, true
		}
	case "chassis":
		if w == "cluster" {
			return "cluster", 0, true
		}
	case "cluster":
		if w == "redundancy-group" {
			return "rg", 1, true
		}
	case "rg":
		switch w {
		case "interface-monitor", "ip-monitoring":
			return "other", 0, true
		}
	case "interfaces":
		return "iface", 0, true
	case "iface":
		switch w {
		case "unit":
			return "unit", 1, true
		case "gigether-options", "redundant-ether-options":
			return "other", 0, true
		case "fabric-options":
			return "fabopts", 0, true
		}
	case "fabopts":
		if w == "member-interfaces" {
			return "other", 0, true
		}
	case "unit":
		if w == "family" {
			return "other", 1, true
		}
	}
	return "", 0, false
}

// segments splits a statement into its containers and its leaf (nil when
// the statement names a container only).
func segments(toks []string) (conts [][]string, leaf []string) {
	ctx, i := "top", 0
	for i < len(toks) {
		next, arity, ok := containerRule(ctx, toks[i])
		if !ok || i+1+arity > len(toks) {
			break
		}
		conts = append(conts, toks[i:i+1+arity])
		i += 1 + arity
		ctx = next
	}
	if i < len(toks) {
		leaf = toks[i:]
	}
	return conts, leaf
}

// tree builds the rendered tree of c, containers and leaves in order of
// first appearance.
func (c *config) tree() *tnode {
	root := &tnode{}
	for _, st := range c.stmts {
		conts, leaf := segments(st)
		cur := root
		var path []string
		for _, seg := range conts {
			path = append(path, seg...)
			i := slices.IndexFunc(cur.kids, func(k *tnode) bool { return !k.leaf && slices.Equal(k.seg, seg) })
			if i < 0 {
				cur.kids = append(cur.kids, &tnode{seg: seg, path: slices.Clone(path)})
				i = len(cur.kids) - 1
			}
			cur = cur.kids[i]
		}
		if leaf != nil && !slices.ContainsFunc(cur.kids, func(k *tnode) bool { return k.leaf && slices.Equal(k.seg, leaf) }) {
			cur.kids = append(cur.kids, &tnode{seg: leaf, path: slices.Clone(st), leaf: true})
		}
	}
	return root
}

// quoteWord quotes a word for display when it holds characters the CLI
// would split or interpret.
func quoteWord(w string) string {
	if w == "" || strings.ContainsAny(w, " \t;{}#\"'$&|<>()*!") {
		return `"` + strings.ReplaceAll(w, `"`, `\"`) + `"`
	}
	return w
}

func joinWords(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = quoteWord(w)
	}
	return strings.Join(q, " ")
}

// deactivated reports whether exactly path was deactivated.
func (c *config) deactivated(path []string) bool {
	return slices.ContainsFunc(c.inactive, func(p []string) bool { return slices.Equal(p, path) })
}

// render writes the kids of n in curly-brace format at depth.
func (c *config) render(b *strings.Builder, n *tnode, depth int) {
	indent := strings.Repeat("    ", depth)
	for _, k := range n.kids {
		prefix := ""
		if c.deactivated(k.path) {
			prefix = "inactive: "
		}
		switch {
		case k.leaf || len(k.kids) == 0:
			line := indent + prefix + joinWords(k.seg) + ";"
			if k.leaf && slices.Contains(k.seg, "encrypted-password") {
				line += " ## SECRET-DATA"
			}
			b.WriteString(line + "\n")
		default:
			b.WriteString(indent + prefix + joinWords(k.seg) + " {\n")
			c.render(b, k, depth+1)
			b.WriteString(indent + "}\n")
		}
	}
}

// subtree returns the tree node at path (container words, then optionally a
// leaf prefix): the node to render and whether path named a leaf.
func (c *config) subtree(path []string) (*tnode, bool) {
	cur := c.tree()
	rest := path
	for len(rest) > 0 {
		var next *tnode
		for _, k := range cur.kids {
			if hasPrefix(rest, k.seg) && !k.leaf {
				next = k
				break
			}
		}
		if next == nil {
			// A leaf (or leaves) starting with the remaining words.
			leafs := &tnode{}
			for _, k := range cur.kids {
				if hasPrefix(k.seg, rest) {
					leafs.kids = append(leafs.kids, k)
				}
			}
			return leafs, true
		}
		rest = rest[len(next.seg):]
		cur = next
	}
	return cur, false
}

// curly renders the configuration (or the hierarchy at path) in
// curly-brace format, as `show configuration [path]` does.
func (c *config) curly(path []string) string {
	n, _ := c.subtree(path)
	var b strings.Builder
	c.render(&b, n, 0)
	return b.String()
}

// displaySet renders c (or the statements under prefix) as `| display set`
// does: one "set" line per leaf in tree order, then one "deactivate" line
// per deactivated prefix.
func (c *config) displaySet(prefix []string) string {
	var b strings.Builder
	var walk func(n *tnode)
	walk = func(n *tnode) {
		for _, k := range n.kids {
			if k.leaf || len(k.kids) == 0 {
				if hasPrefix(k.path, prefix) {
					b.WriteString("set " + joinWords(k.path) + "\n")
				}
				continue
			}
			walk(k)
		}
	}
	walk(c.tree())
	for _, p := range c.inactive {
		if hasPrefix(p, prefix) {
			b.WriteString("deactivate " + joinWords(p) + "\n")
		}
	}
	return b.String()
}

// diffEntry is one leaf of a configuration in `show | compare` terms.
type diffEntry struct{ ctx, line string }

// entries lists c's leaves with their context ("[edit chassis cluster
// redundancy-group 1]") and their rendered line ("preempt;", "inactive:
// preempt;").
func (c *config) entries() []diffEntry {
	var out []diffEntry
	var walk func(n *tnode, ctx []string)
	walk = func(n *tnode, ctx []string) {
		for _, k := range n.kids {
			prefix := ""
			if c.deactivated(k.path) {
				prefix = "inactive: "
			}
			if k.leaf || len(k.kids) == 0 {
				out = append(out, diffEntry{editContext(ctx), prefix + joinWords(k.seg) + ";"})
				continue
			}
			if prefix != "" {
				out = append(out, diffEntry{editContext(ctx), prefix + joinWords(k.seg) + " { ... }"})
			}
			walk(k, append(slices.Clone(ctx), k.seg...))
		}
	}
	walk(c.tree(), nil)
	return out
}

func editContext(ctx []string) string {
	if len(ctx) == 0 {
		return "[edit]"
	}
	return "[edit " + joinWords(ctx) + "]"
}

// compare renders the differences from old to next as `show | compare`
// does: per context a "[edit ...]" line, then "-    " lines removed and
// "+    " lines added. Empty when nothing changed.
func compare(old, next *config) string {
	o, n := old.entries(), next.entries()
	var ctxs []string
	removed, added := map[string][]string{}, map[string][]string{}
	note := func(m map[string][]string, e diffEntry) {
		if !slices.Contains(ctxs, e.ctx) {
			ctxs = append(ctxs, e.ctx)
		}
		m[e.ctx] = append(m[e.ctx], e.line)
	}
	for _, e := range o {
		if !slices.Contains(n, e) {
			note(removed, e)
		}
	}
	for _, e := range n {
		if !slices.Contains(o, e) {
			note(added, e)
		}
	}
	var b strings.Builder
	for _, ctx := range ctxs {
		b.WriteString(ctx + "\n")
		for _, l := range removed[ctx] {
			b.WriteString("-    " + l + "\n")
		}
		for _, l := range added[ctx] {
			b.WriteString("+    " + l + "\n")
		}
	}
	return b.String()
}
