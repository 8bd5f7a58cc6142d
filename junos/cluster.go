package junos

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// whatClusterStatus names the command in errors.
const whatClusterStatus = "show chassis cluster status"

// State is the status of a node in a redundancy group, in lower case as
// Junos prints it (the oldest documentation capitalises it: "Primary").
type State string

// The redundancy group states of the Junos OS Chassis Cluster User Guide
// for SRX Series (`show chassis cluster status`). Any other word is refused
// by ParseChassisClusterStatus (fail closed).
const (
	StatePrimary   State = "primary"   // active for the group
	StateSecondary State = "secondary" // standby, ready to take over
	// StateSecondaryHold: RG0 only, after an RG0 failover, for the
	// hold-down interval (default 300 s); no new RG0 failover until it is
	// secondary again.
	StateSecondaryHold State = "secondary-hold"
	StateHold          State = "hold"       // booting or cold-syncing; wait
	StateIneligible    State = "ineligible" // must not become primary
	StateDisabled      State = "disabled"   // needs a reboot
	StateLost          State = "lost"       // peer unreachable over the control link
	StateUnavailable   State = "unavailable"
	StateNotConfigured State = "not-configured"
)

// parseState normalises a state word to lower case and checks it is known.
func parseState(raw string) (State, bool) {
	s := State(strings.ToLower(raw))
	switch s {
	case StatePrimary, StateSecondary, StateSecondaryHold, StateHold, StateIneligible,
		StateDisabled, StateLost, StateUnavailable, StateNotConfigured:
		return s, true
	}
	return s, false
}

// Flag is a yes/no column of `show chassis cluster status` (Preempt,
// Manual) or XML element (preempt, failover-mode).
type Flag uint8

// Values of Flag.
const (
	FlagUnknown Flag = iota // not printed (column or element absent)
	FlagNo                  // "no"
	FlagYes                 // "yes"
	FlagNA                  // "n/a", printed for a lost node
)

// String returns "", "no", "yes" or "n/a".
func (f Flag) String() string {
	switch f {
	case FlagNo:
		return "no"
	case FlagYes:
		return "yes"
	case FlagNA:
		return "n/a"
	}
	return ""
}

func parseFlag(s string) (Flag, bool) {
	switch strings.ToLower(s) {
	case "no":
		return FlagNo, true
	case "yes":
		return FlagYes, true
	case "n/a":
		return FlagNA, true
	}
	return FlagUnknown, false
}

// NodeStatus is one node's row in one redundancy group.
type NodeStatus struct {
	// Node is "node0" or "node1".
	Node string
	// Priority is the node's current priority in the group, 0 to 255. 0 on
	// a node that is not lost means a monitor failure; 255 marks the target
	// of a manual failover.
	Priority int
	// Status is the normalised (lower-case) state; RawStatus the word as
	// printed ("Primary" in old releases).
	Status    State
	RawStatus string
	// Preempt is the Preempt column / preempt element (FlagUnknown when
	// absent, as in some XML replies).
	Preempt Flag
	// Manual is the Manual (old releases: "Manual failover") column or the
	// failover-mode element: FlagYes while a manual failover is in effect.
	Manual Flag
	// MonitorKnown reports whether the monitor failures were printed as
	// "None" or as codes. It is false when the column or element is absent
	// (older releases) and for "n/a" (a lost node).
	MonitorKnown bool
	// MonitorFailures are the monitor failure codes, upper case, in the
	// order printed (e.g. ["CS"] cold sync, ["IF"] interface monitoring;
	// codes are two or three upper-case letters);
	// nil for "None" and when not known.
	MonitorFailures []string
}

// RedundancyGroup is one redundancy group (RG0 = the Routing Engine, RG1
// and up = data-plane interfaces).
type RedundancyGroup struct {
	// ID is the group number (0, 1, ...). IDs need not be contiguous.
	ID int
	// FailoverCount is the number of failovers of the group; meaningful only
	// when FailoverCountKnown.
	FailoverCount      int
	FailoverCountKnown bool
	// Nodes are the node rows in output order (one or two).
	Nodes []NodeStatus
}

// Node returns the row of the named node ("node0", "node1").
func (g RedundancyGroup) Node(name string) (NodeStatus, bool) {
	for _, n := range g.Nodes {
		if n.Node == name {
			return n, true
		}
	}
	return NodeStatus{}, false
}

// ClusterStatus is the output of `show chassis cluster status` (RPC
// get-chassis-cluster-status).
type ClusterStatus struct {
	// ClusterID is the chassis cluster ID (1 to 255); 0 when not printed.
	ClusterID int
	// Groups are the redundancy groups in output order.
	Groups []RedundancyGroup
	// LocalNode and LocalState come from the banner line ({primary:node0})
	// or the <cli><banner> element: the node the session runs on and its
	// RG0 state. Both are "" when no such banner was printed.
	LocalNode  string
	LocalState State
}

// Group returns the redundancy group with the given ID.
func (s ClusterStatus) Group(id int) (RedundancyGroup, bool) {
	for _, g := range s.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return RedundancyGroup{}, false
}

// Primary returns the node that is primary for redundancy group rg. ok is
// false when the group is missing or does not have exactly one primary
// node.
func (s ClusterStatus) Primary(rg int) (node string, ok bool) {
	g, found := s.Group(rg)
	if !found {
		return "", false
	}
	for _, n := range g.Nodes {
		if n.Status == StatePrimary {
			if ok {
				return "", false
			}
			node, ok = n.Node, true
		}
	}
	return node, ok
}

// Healthy returns nil when the cluster is fit for an upgrade step, or every
// problem at once (errors.Join of *HealthError, in group and node order;
// errors.Is(err, ErrUnhealthy) holds). The conditions are the healthy
// precondition of Juniper KB17947 and the Junos OS Chassis Cluster User
// Guide for SRX Series:
//
//   - there is at least one redundancy group, and RG0 is among them
//     (ErrRoles);
//   - every group has exactly one primary and one secondary node; a group
//     with a lost, hold, secondary-hold, ineligible or disabled node does
//     not (ErrRoles);
//   - no node is lost or disabled (ErrNodeDown);
//   - no node lists monitor failures, and no node that is not lost has
//     priority 0 (ErrMonitorFailure);
//   - no manual failover is in effect: Manual is not "yes" and no priority
//     is 255 (ErrManualFailover; run `request chassis cluster failover reset
//     redundancy-group N`).
//
// Columns or elements the output did not print (Preempt, Manual, monitor
// failures in older releases) are not problems by themselves; priority 0
// still reveals a monitor failure. Preempt is not checked: whether it must
// be off is a decision of the upgrade procedure.
func (s ClusterStatus) Healthy() error {
	var errs []error
	add := func(rg int, node string, kind error, format string, args ...any) {
		errs = append(errs, &HealthError{RG: rg, Node: node, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	if len(s.Groups) == 0 {
		add(-1, "", ErrRoles, "no redundancy group in the status")
	} else if _, ok := s.Group(0); !ok {
		add(-1, "", ErrRoles, "redundancy group 0 missing from the status")
	}
	for _, g := range s.Groups {
		primaries, secondaries := 0, 0
		roles := make([]string, 0, len(g.Nodes))
		for _, n := range g.Nodes {
			roles = append(roles, n.Node+" "+string(n.Status))
			switch n.Status {
			case StatePrimary:
				primaries++
			case StateSecondary:
				secondaries++
			}
		}
		if primaries != 1 || secondaries != 1 || len(g.Nodes) != 2 {
			add(g.ID, "", ErrRoles, "want one primary and one secondary node, have %s", strings.Join(roles, ", "))
		}
		for _, n := range g.Nodes {
			switch n.Status {
			case StateLost, StateDisabled:
				add(g.ID, n.Node, ErrNodeDown, "status %s", n.Status)
			}
			var mon []string
			if len(n.MonitorFailures) > 0 {
				mon = append(mon, "monitor failures "+strings.Join(n.MonitorFailures, " "))
			}
			if n.Priority == 0 && n.Status != StateLost {
				mon = append(mon, "priority 0")
			}
			if len(mon) > 0 {
				add(g.ID, n.Node, ErrMonitorFailure, "%s", strings.Join(mon, ", "))
			}
			var manual []string
			if n.Manual == FlagYes {
				manual = append(manual, "manual yes")
			}
			if n.Priority == 255 {
				manual = append(manual, "priority 255")
			}
			if len(manual) > 0 {
				add(g.ID, n.Node, ErrManualFailover, "%s", strings.Join(manual, ", "))
			}
		}
	}
	return errors.Join(errs...)
}

// ParseChassisClusterStatus reads the output of `show chassis cluster
// status`, as text or as XML (`| display xml`, RPC
// get-chassis-cluster-status), after the Junos OS Chassis Cluster User Guide
// for SRX Series and the replies of SRX 12.1X44 to 23.4R2.
//
// XML: an optional <rpc-reply> wrapper (any namespaces) holding
// <chassis-cluster-status> with <cluster-id> and repeated
// <redundancy-group> {<redundancy-group-id>,
// <redundancy-group-failover-count>, <device-stats>}. <device-stats> is a
// flat list: the i-th <device-name> pairs with the i-th <device-priority>,
// <redundancy-group-status>, <preempt>, <failover-mode> and
// <monitor-failures>. preempt, failover-mode and monitor-failures may be
// absent (older releases, some replies) but, when present, there must be
// one per node. A trailing <cli><banner> gives LocalNode/LocalState.
//
// Text: header lines ("Monitor Failure codes:" and its legend, "Cluster ID:
// N", the column header "Node Priority Status Preempt Manual
// Monitor-failures" or the old "Node name Priority Status Preempt Manual
// failover"), then per group "Redundancy group: N , Failover count: M" and
// its node rows, read by white-space-separated fields (never by column
// offsets, which change by release). Indentation (spaces or tabs), blank
// lines, trailing spaces, CRLF, prompt lines (their command must be `show
// chassis cluster status ...`), the {primary:node0} banner and states in
// any case are accepted. Lines before the column header that do not look
// like status (no node, redundancy, priority, primary, secondary, failover,
// lost ...) are skipped; every line after it must be understood.
//
// Errors: a *DeviceError for an "error:" line or an xnm:error, matching
// ErrNotClustered when the chassis cluster is not enabled (a standalone
// device); otherwise a *ParseError (ErrUnrecognized) for empty or
// unrecognised output, a node row before a group header or the column
// header, an unknown status word, a priority above 255, a yes/no value
// other than yes, no or n/a, a malformed monitor-failure code, a node
// other than node0/node1, a node repeated in a group, a group repeated or
// without nodes, no group at all, a {state:nodeN} banner with an unknown
// state or contradicting another, an XML reply that is not well formed (an
// excerpt), holds the RPC request instead of the status, or whose
// <device-stats> lists differ in length.
func ParseChassisClusterStatus(output string) (ClusterStatus, error) {
	if body, skipped, ok := isXML(output, whatClusterStatus); ok {
		st, err := parseClusterXML(body, skipped)
		if err != nil {
			return ClusterStatus{}, err
		}
		return st, nil
	}
	st, err := parseClusterText(output)
	if err != nil {
		return ClusterStatus{}, err
	}
	return st, nil
}

var (
	ccLegendRe = regexp.MustCompile(`(?i)^Monitor Failure codes:$`)
	// ccLegendLineRe is one line of the legend: "CS  Cold Sync monitoring
	// FL  Fabric Connection monitoring".
	ccLegendLineRe = regexp.MustCompile(`^[A-Z]{2,3}\s+[A-Za-z]`)
	ccClusterIDRe  = regexp.MustCompile(`(?i)^Cluster ID:\s*(\d{1,5})$`)
	ccGroupRe      = regexp.MustCompile(`(?i)^Redundancy[- ]group:\s*(\d{1,5})(?:\s*,\s*Failover[- ]count:\s*(\d{1,9}))?$`)
	// ccHeaderRe is the column header: modern (Monitor-failures column) or
	// old ("Node name ... Manual failover", no monitor column).
	ccHeaderRe = regexp.MustCompile(`(?i)^Node(?:\s+name)?\s+Priority\s+Status\s+Preempt\s+Manual(?:\s+failover)?(\s+Monitor-failures)?$`)
	ccRowRe    = regexp.MustCompile(`(?i)^node\d`)
	// ccLooksRe marks a line that looks like cluster status: never skipped.
	ccLooksRe = regexp.MustCompile(`(?i)\b(?:node\d*|redundancy|priority|primary|secondary|failover|lost|disabled|ineligible|hold|preempt|manual|monitor-failures)\b`)
	// ccCodeRe is one monitor failure code (CS, IF, IP, CF, RE, IS ...).
	ccCodeRe = regexp.MustCompile(`^[A-Z]{2,3}$`)
	nodeRe   = regexp.MustCompile(`^node[01]$`)
)

func parseClusterText(output string) (ClusterStatus, error) {
	fail := func(l outLine, format string, args ...any) (ClusterStatus, error) {
		return ClusterStatus{}, newParseError(whatClusterStatus, l.n, l.text, fmt.Sprintf(format, args...), nil)
	}
	if strings.TrimSpace(output) == "" {
		return fail(outLine{}, "empty output")
	}
	var (
		st      ClusterStatus
		header  bool
		monitor bool // the header has a Monitor-failures column
		legend  bool
		idSeen  bool
		cur     = -1 // index of the current group
	)
	for _, l := range splitLines(output) {
		if m := bannerRe.FindStringSubmatch(l.text); m != nil {
			if err := st.setBanner(m[1], m[2]); err != nil {
				return fail(l, "%v", err)
			}
			continue
		}
		if skip, err := frame(whatClusterStatus, whatClusterStatus, l); err != nil {
			return ClusterStatus{}, err
		} else if skip {
			continue
		}
		if cliErrorRe.MatchString(l.text) {
			return ClusterStatus{}, &DeviceError{What: whatClusterStatus, Message: cut(l.text, maxErrorText), Line: l.n}
		}
		switch {
		case ccLegendRe.MatchString(l.text):
			legend = true
		case ccClusterIDRe.MatchString(l.text):
			id, _ := strconv.Atoi(ccClusterIDRe.FindStringSubmatch(l.text)[1])
			switch {
			case idSeen:
				return fail(l, "second Cluster ID line")
			case id > 255:
				return fail(l, "cluster ID %d above 255", id)
			}
			st.ClusterID, idSeen, legend = id, true, false
		case ccHeaderRe.MatchString(l.text):
			m := ccHeaderRe.FindStringSubmatch(l.text)
			if header && monitor != (m[1] != "") {
				return fail(l, "second column header with other columns")
			}
			header, monitor, legend = true, m[1] != "", false
		case ccGroupRe.MatchString(l.text):
			if !header {
				return fail(l, "redundancy group before the column header")
			}
			m := ccGroupRe.FindStringSubmatch(l.text)
			g := RedundancyGroup{}
			g.ID, _ = strconv.Atoi(m[1])
			if m[2] != "" {
				g.FailoverCount, _ = strconv.Atoi(m[2])
				g.FailoverCountKnown = true
			}
			if _, dup := st.Group(g.ID); dup {
				return fail(l, "redundancy group %d repeated", g.ID)
			}
			if cur >= 0 && len(st.Groups[cur].Nodes) == 0 {
				return fail(l, "redundancy group %d has no node rows", st.Groups[cur].ID)
			}
			st.Groups = append(st.Groups, g)
			cur = len(st.Groups) - 1
		case ccRowRe.MatchString(l.text):
			if !header || cur < 0 {
				return fail(l, "node row before the column header and a redundancy group header")
			}
			n, err := parseNodeRow(l.text, monitor)
			if err != nil {
				return fail(l, "%v", err)
			}
			if err := st.Groups[cur].addNode(n); err != nil {
				return fail(l, "%v", err)
			}
		case legend && !header && ccLegendLineRe.MatchString(l.text):
			// a monitor-failure code definition
		case !header && !ccLooksRe.MatchString(l.text):
			// a line before the status (message of the day, timestamp)
		default:
			return fail(l, "unrecognized line")
		}
	}
	switch {
	case !header:
		return fail(outLine{}, "no column header (Node Priority Status ...) found")
	case len(st.Groups) == 0:
		return fail(outLine{}, "no redundancy group found")
	case len(st.Groups[cur].Nodes) == 0:
		return fail(outLine{}, "redundancy group %d has no node rows", st.Groups[cur].ID)
	}
	return st, nil
}

// setBanner records a {state:nodeN} banner; other banners are ignored.
func (s *ClusterStatus) setBanner(state, node string) error {
	if !nodeRe.MatchString(strings.ToLower(node)) {
		return nil
	}
	st, ok := parseState(state)
	if !ok {
		return fmt.Errorf("unknown state %q in banner", state)
	}
	node = strings.ToLower(node)
	if s.LocalNode != "" && (s.LocalNode != node || s.LocalState != st) {
		return fmt.Errorf("second banner {%s:%s} contradicts {%s:%s}", state, node, s.LocalState, s.LocalNode)
	}
	s.LocalNode, s.LocalState = node, st
	return nil
}

// parseNodeRow reads "node0  100  primary  no  no  None" (monitor) or
// "node0  100  Primary  no  no" (old format).
func parseNodeRow(line string, monitor bool) (NodeStatus, error) {
	f := strings.Fields(line)
	switch {
	case monitor && len(f) < 6:
		return NodeStatus{}, fmt.Errorf("node row has %d fields, want 6 (Node Priority Status Preempt Manual Monitor-failures)", len(f))
	case !monitor && len(f) != 5:
		return NodeStatus{}, fmt.Errorf("node row has %d fields, want 5 (Node Priority Status Preempt Manual)", len(f))
	}
	n, err := nodeFields(f[0], f[1], f[2], f[3], f[4])
	if err != nil {
		return NodeStatus{}, err
	}
	if monitor {
		if err := n.setMonitor(strings.Join(f[5:], " ")); err != nil {
			return NodeStatus{}, err
		}
	}
	return n, nil
}

// nodeFields validates the common fields of a node row or device-stats
// entry; preempt and manual may be "" (absent).
func nodeFields(name, prio, status, preempt, manual string) (NodeStatus, error) {
	n := NodeStatus{Node: strings.ToLower(name), RawStatus: status}
	if !nodeRe.MatchString(n.Node) {
		return NodeStatus{}, fmt.Errorf("node %q is not node0 or node1", name)
	}
	p, err := strconv.Atoi(prio)
	if !isDigits(prio, 3) || err != nil || p > 255 {
		return NodeStatus{}, fmt.Errorf("priority %q is not a number from 0 to 255", prio)
	}
	n.Priority = p
	var ok bool
	if n.Status, ok = parseState(status); !ok {
		return NodeStatus{}, fmt.Errorf("unknown redundancy group status %q", status)
	}
	for _, x := range []struct {
		name, v string
		dst     *Flag
	}{{"preempt", preempt, &n.Preempt}, {"manual", manual, &n.Manual}} {
		if x.v == "" {
			continue
		}
		if *x.dst, ok = parseFlag(x.v); !ok {
			return NodeStatus{}, fmt.Errorf("%s value %q is not yes, no or n/a", x.name, x.v)
		}
	}
	return n, nil
}

// setMonitor reads a monitor-failures cell: "None", "n/a" or codes
// separated by spaces or commas ("CS", "IF IP", "CS,IF").
func (n *NodeStatus) setMonitor(cell string) error {
	switch strings.ToLower(strings.TrimSpace(cell)) {
	case "none":
		n.MonitorKnown = true
		return nil
	case "n/a":
		return nil
	case "":
		return errors.New("empty monitor-failures value")
	}
	codes := strings.FieldsFunc(cell, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	for _, c := range codes {
		if !ccCodeRe.MatchString(c) {
			return fmt.Errorf("monitor failure %q is not None, n/a or a code like CS or IF", c)
		}
		n.MonitorFailures = append(n.MonitorFailures, c)
	}
	n.MonitorKnown = true
	return nil
}

// addNode appends n, refusing a repeated node (with node0 and node1 the
// only names, a third node is always a repeat).
func (g *RedundancyGroup) addNode(n NodeStatus) error {
	if _, dup := g.Node(n.Node); dup {
		return fmt.Errorf("%s repeated in redundancy group %d", n.Node, g.ID)
	}
	g.Nodes = append(g.Nodes, n)
	return nil
}

func parseClusterXML(body string, skipped int) (ClusterStatus, error) {
	const what = whatClusterStatus
	root, err := parseXML(what, body, skipped)
	if err != nil {
		return ClusterStatus{}, err
	}
	if err := replyError(what, root); err != nil {
		return ClusterStatus{}, err
	}
	var st ClusterStatus
	for _, b := range root.find("banner") {
		if m := bannerRe.FindStringSubmatch(b.value()); m != nil {
			if err := st.setBanner(m[1], m[2]); err != nil {
				return ClusterStatus{}, newParseError(what, b.line, b.value(), err.Error(), nil)
			}
		}
	}
	for _, b := range root.banners { // the CLI's banner line after the reply
		m := bannerRe.FindStringSubmatch(b)
		if err := st.setBanner(m[1], m[2]); err != nil {
			return ClusterStatus{}, newParseError(what, 0, b, err.Error(), nil)
		}
	}
	var ccs *xnode
	for _, p := range payload(root) {
		switch p.name {
		case "chassis-cluster-status":
			if ccs != nil {
				return ClusterStatus{}, newParseError(what, p.line, "", "<chassis-cluster-status> repeated", nil)
			}
			ccs = p
		case "rpc":
			return ClusterStatus{}, newParseError(what, p.line, "", "the reply holds the RPC request (| display xml rpc), not the status", nil)
		}
	}
	if ccs == nil {
		return ClusterStatus{}, newParseError(what, root.line, root.name, "no <chassis-cluster-status> element", nil)
	}
	if id, ok, err := oneChild(what, ccs, "cluster-id"); err != nil {
		return ClusterStatus{}, err
	} else if ok {
		v, err := strconv.Atoi(id.value())
		if err != nil || v < 0 || v > 255 {
			return ClusterStatus{}, newParseError(what, id.line, id.value(), "cluster-id is not a number from 0 to 255", nil)
		}
		st.ClusterID = v
	}
	for _, rg := range ccs.children("redundancy-group") {
		g, err := xmlGroup(rg)
		if err != nil {
			return ClusterStatus{}, err
		}
		if _, dup := st.Group(g.ID); dup {
			return ClusterStatus{}, newParseError(what, rg.line, "", fmt.Sprintf("redundancy group %d repeated", g.ID), nil)
		}
		st.Groups = append(st.Groups, g)
	}
	if len(st.Groups) == 0 {
		return ClusterStatus{}, newParseError(what, ccs.line, "", "no <redundancy-group> element", nil)
	}
	return st, nil
}

// xmlGroup reads one <redundancy-group>.
func xmlGroup(rg *xnode) (RedundancyGroup, error) {
	const what = whatClusterStatus
	fail := func(n *xnode, text, format string, args ...any) (RedundancyGroup, error) {
		return RedundancyGroup{}, newParseError(what, n.line, text, fmt.Sprintf(format, args...), nil)
	}
	var g RedundancyGroup
	id, ok, err := oneChild(what, rg, "redundancy-group-id")
	if err != nil {
		return g, err
	}
	if !ok {
		return fail(rg, "", "<redundancy-group> without <redundancy-group-id>")
	}
	if g.ID, err = strconv.Atoi(id.value()); err != nil || g.ID < 0 || g.ID > 99999 || len(id.value()) > 5 {
		return fail(id, id.value(), "redundancy-group-id is not a number")
	}
	if fc, ok, err := oneChild(what, rg, "redundancy-group-failover-count"); err != nil {
		return g, err
	} else if ok {
		v, err := strconv.Atoi(fc.value())
		if err != nil || v < 0 || len(fc.value()) > 9 {
			return fail(fc, fc.value(), "redundancy-group-failover-count is not a number")
		}
		g.FailoverCount, g.FailoverCountKnown = v, true
	}
	for _, ds := range rg.children("device-stats") {
		col := func(name string) []string {
			var out []string
			for _, k := range ds.children(name) {
				out = append(out, k.value())
			}
			return out
		}
		names := col("device-name")
		prios, states := col("device-priority"), col("redundancy-group-status")
		preempt, mode, mon := col("preempt"), col("failover-mode"), col("monitor-failures")
		if len(names) == 0 {
			return fail(ds, "", "<device-stats> without <device-name>")
		}
		for _, c := range []struct {
			name string
			vals []string
			opt  bool
		}{{"device-priority", prios, false}, {"redundancy-group-status", states, false},
			{"preempt", preempt, true}, {"failover-mode", mode, true}, {"monitor-failures", mon, true}} {
			if len(c.vals) != len(names) && !(c.opt && len(c.vals) == 0) {
				return fail(ds, "", "%d <device-name> but %d <%s> in <device-stats> of redundancy group %d", len(names), len(c.vals), c.name, g.ID)
			}
		}
		at := func(vals []string, i int) string {
			if len(vals) == 0 {
				return ""
			}
			return vals[i]
		}
		for i, name := range names {
			if prios[i] == "" || states[i] == "" {
				return fail(ds, name, "empty device-priority or redundancy-group-status")
			}
			pre, man := at(preempt, i), at(mode, i)
			if len(preempt) > 0 && pre == "" || len(mode) > 0 && man == "" {
				return fail(ds, name, "empty preempt or failover-mode")
			}
			n, err := nodeFields(name, prios[i], states[i], pre, man)
			if err != nil {
				return fail(ds, name, "redundancy group %d: %v", g.ID, err)
			}
			if len(mon) > 0 {
				if err := n.setMonitor(mon[i]); err != nil {
					return fail(ds, name, "redundancy group %d: %v", g.ID, err)
				}
			}
			if err := g.addNode(n); err != nil {
				return fail(ds, name, "%v", err)
			}
		}
	}
	if len(g.Nodes) == 0 {
		return fail(rg, "", "redundancy group %d has no <device-stats>", g.ID)
	}
	return g, nil
}
