package checkpoint

import (
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Interface states of `cphaprob -a if`, as [Link.State] holds them.
// Source: Check Point ClusterXL R81 and R81.10 Administration Guides and
// Quantum Spark R82.00.X CLI Reference Guide, "Viewing Cluster Interfaces".
const (
	// InterfaceUp: the interface sends and receives CCP packets.
	InterfaceUp = "UP"
	// InterfaceDown: the interface cannot send or receive CCP packets (or
	// both); the member may fail over when fewer interfaces than required
	// are up.
	InterfaceDown = "DOWN"
	// InterfaceNonMonitored: ClusterXL does not monitor the interface (e.g.
	// the loopback); it does not count for the required interfaces.
	InterfaceNonMonitored = "Non-Monitored"
)

// Link is an interface state with the time since the last CCP packet.
type Link struct {
	// State is InterfaceUp, InterfaceDown or InterfaceNonMonitored; "" when
	// not printed.
	State string
	// Elapsed is the time printed after the state, "DOWN (566.1 secs)": the
	// time since the interface last received or sent a CCP packet; 0 when
	// not printed.
	Elapsed time.Duration
}

// Interface is one monitored or non-monitored cluster interface of
// `cphaprob -a if`.
type Interface struct {
	// Name is the interface name, e.g. "eth1", "bond0.100", "SYNCBOND".
	Name string
	// Markers is the text of the parenthesised markers after the name, e.g.
	// "S", "S-HA", "P"; "" when none (legend: S - sync, HA/LS - bond type,
	// LM - link monitor, P - probing).
	Markers string
	// Sync reports a synchronization interface: marker "S" or "sync(...)"
	// in the older layout.
	Sync bool
	// Secured reports "sync(secured)" in the older layout (sk20576); false
	// when not printed.
	Secured bool
	// Bond is the bond type of marker "S-HA" / "S-LS": "HA", "LS" or "".
	Bond string
	// LinkMonitor reports marker "LM".
	LinkMonitor bool
	// Probing reports marker "P" (the member probes the segment).
	Probing bool
	// Status is the state when it is printed as one value ("UP", "DOWN
	// (12.3 secs)", "Non-Monitored"); zero when the state is split into
	// Inbound and Outbound.
	Status Link
	// Inbound and Outbound are the split states of "Inbound: UP" /
	// "Outbound: DOWN (566.1 secs)" (Quantum Spark); zero when not printed.
	Inbound, Outbound Link
	// CCP is the per-interface CCP mode of the older layout ("multicast",
	// "unicast", "broadcast"); "" when not printed.
	CCP string
}

// Monitored reports whether ClusterXL monitors the interface (it is not
// "Non-Monitored").
func (i Interface) Monitored() bool { return i.Status.State != InterfaceNonMonitored }

// Up reports whether the interface is up in every printed direction: Status
// UP, or both Inbound and Outbound UP. A split state with one direction
// missing is not up (fail closed).
func (i Interface) Up() bool {
	if i.Status.State != "" {
		return i.Status.State == InterfaceUp && i.Inbound.State == "" && i.Outbound.State == ""
	}
	return i.Inbound.State == InterfaceUp && i.Outbound.State == InterfaceUp
}

// VirtualInterface is one row of "Virtual cluster interfaces".
type VirtualInterface struct {
	// Name is the interface the virtual IP is on, e.g. "eth0".
	Name string
	// Address is the cluster virtual IP address.
	Address netip.Addr
	// VMAC is the "VMAC address" when printed (e.g. "00:1C:7F:00:23:7F",
	// as printed); "" otherwise.
	VMAC string
}

// Interfaces is what `cphaprob -a if` reports on one member.
type Interfaces struct {
	// CCPMode is the cluster-wide "CCP mode" text, e.g. "Manual (Unicast)",
	// "Automatic"; "" when not printed (older layouts print it per
	// interface, see Interface.CCP).
	CCPMode string
	// Required is the "Required interfaces" count, -1 when not printed.
	// ClusterXL sets it to the largest number of working interfaces seen
	// since the last boot (it is sticky: compare it before and after a
	// change).
	Required int
	// RequiredSecured is the "Required secured interfaces" count (sync
	// interfaces), -1 when not printed.
	RequiredSecured int
	// Interfaces are the cluster interfaces in printed order (at least one,
	// names unique).
	Interfaces []Interface
	// VirtualCount is the count of "Virtual cluster interfaces: N", -1 when
	// not printed. When printed it equals len(Virtual).
	VirtualCount int
	// Virtual are the virtual cluster interfaces in printed order.
	Virtual []VirtualInterface
}

// Down returns the monitored interfaces that are not Up (DOWN in any
// direction, or a direction missing), in printed order.
func (x Interfaces) Down() []Interface {
	var out []Interface
	for _, i := range x.Interfaces {
		if i.Monitored() && !i.Up() {
			out = append(out, i)
		}
	}
	return out
}

const whatInterfaces = "cphaprob -a if"

var (
	// promptTokRe is a prompt left inside a flattened line.
	promptTokRe = regexp.MustCompile(`^(?:\[Expert@[^\]\s]+\]#|[A-Za-z0-9][\w.\-]*(?::\d+)?>)$`)
	// ifNameRe is an interface name.
	ifNameRe = regexp.MustCompile(`^[A-Za-z0-9][\w.\-@/]*$`)
	// markersRe is "(S)", "(S-HA)", "(P)".
	markersRe = regexp.MustCompile(`^\(([A-Za-z][A-Za-z,\-/ ]*)\)$`)
	// elapsedRe is "(566.1 secs)".
	elapsedRe = regexp.MustCompile(`(?i)^\((\d{1,9}(?:\.\d{1,3})?) ?secs?\)$`)
	// macRe is a MAC address.
	macRe = regexp.MustCompile(`^[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}$`)
)

// itok is one token of `cphaprob -a if` output and the line it is on.
type itok struct {
	s string
	l line
}

// ParseClusterInterfaces reads the output of `cphaprob -a if` (also
// `cphaprob if`, `cphaprob -a -m if`). It reads the output as a stream of
// white-space separated words, so the layouts below, and vendor-document
// copies whose HTML rendering put several logical lines on one line, read
// the same:
//
//	CCP mode: Manual (Unicast)            optional (R80.20 and later)
//	Required interfaces: 3                optional
//	Required secured interfaces: 1        optional
//	Interface Name:      Status:          optional heading
//	lo                   Non-Monitored
//	WAN (P)              UP               markers: S, S-HA, S-LS, LM, P
//	LAN1 (P)             Inbound: UP      split state (Quantum Spark), the
//	                     Outbound: DOWN (566.1 secs)     Outbound part may wrap
//	eth1       UP        sync(secured), multicast        older layout (sk20576)
//	S - sync, HA/LS - bond type, LM - link monitor, P - probing    legend, skipped
//	Virtual cluster interfaces: 2         optional, then per row:
//	WAN   44.55.66.247   VMAC address: 00:1C:7F:00:23:7F         VMAC optional
//
// Prompts, the command echo, pager artefacts and syslog lines are skipped.
//
// It fails closed with a *ParseError (errors.Is ErrUnrecognized) for: no
// interface at all; an interface state other than UP, DOWN or Non-Monitored
// (any case); an interface name followed by anything but markers and a
// state; an unknown marker; a malformed elapsed time, count, CCP mode,
// traffic description or virtual interface row (address not an IP address,
// VMAC not a MAC address); a count or "CCP mode" printed twice; an interface
// or virtual interface printed twice; a virtual interface count that
// differs from the rows printed. Anything this parser does not know (for
// example a per-Virtual-System heading) therefore fails rather than being
// skipped.
//
// Source: Check Point ClusterXL R80.20 Administration Guide ("cphaprob -a
// if" example), ClusterXL R81 and R81.10 Administration Guides, "Viewing
// Cluster Interfaces"; Quantum Spark R82.00.X CLI Reference Guide, "Viewing
// Cluster Interfaces" ("cphaprob -a -m if" examples); sk20576.
func ParseClusterInterfaces(output string) (Interfaces, error) {
	f := failer{what: whatInterfaces}
	toks := interfaceTokens(output)
	x := Interfaces{Required: -1, RequiredSecured: -1, VirtualCount: -1}
	var (
		ccpSeen  bool
		virtual  bool
		names    = map[string]bool{}
		vnames   = map[string]bool{}
		lastLine line
	)
	at := func(p int) string {
		if p < len(toks) {
			return toks[p].s
		}
		return ""
	}
	is := func(p int, words ...string) bool {
		for i, w := range words {
			if !strings.EqualFold(at(p+i), w) {
				return false
			}
		}
		return true
	}
	number := func(p int) (int, bool) {
		s := at(p)
		if len(s) == 0 || len(s) > 6 || strings.Trim(s, "0123456789") != "" {
			return 0, false
		}
		n, _ := strconv.Atoi(s)
		return n, true
	}
	for p := 0; p < len(toks); {
		t := toks[p]
		lastLine = t.l
		switch {
		case is(p, "CCP", "mode:"):
			if ccpSeen {
				return Interfaces{}, f.at(t.l, "second \"CCP mode\"")
			}
			ccpSeen = true
			p += 2
			var words []string
			for p < len(toks) && toks[p].l.n == t.l.n && !strings.EqualFold(at(p), "Required") {
				words = append(words, at(p))
				p++
			}
			if len(words) == 0 {
				return Interfaces{}, f.at(t.l, "empty \"CCP mode\"")
			}
			x.CCPMode = strings.Join(words, " ")
		case is(p, "Required", "interfaces:"):
			n, ok := number(p + 2)
			if !ok {
				return Interfaces{}, f.at(t.l, "\"Required interfaces\" is not followed by a number")
			}
			if x.Required >= 0 {
				return Interfaces{}, f.at(t.l, "second \"Required interfaces\"")
			}
			x.Required = n
			p += 3
		case is(p, "Required", "secured", "interfaces:"):
			n, ok := number(p + 3)
			if !ok {
				return Interfaces{}, f.at(t.l, "\"Required secured interfaces\" is not followed by a number")
			}
			if x.RequiredSecured >= 0 {
				return Interfaces{}, f.at(t.l, "second \"Required secured interfaces\"")
			}
			x.RequiredSecured = n
			p += 4
		case is(p, "Interface", "Name:"):
			p += 2
			if is(p, "Status:") {
				p++
			}
		case is(p, "S", "-") && strings.HasPrefix(strings.ToLower(at(p+2)), "sync"):
			// The legend: skip to the end of its line or to the next heading.
			for p < len(toks) && toks[p].l.n == t.l.n && !is(p, "Virtual", "cluster", "interfaces:") {
				p++
			}
		case is(p, "Virtual", "cluster", "interfaces:"):
			n, ok := number(p + 3)
			if !ok {
				return Interfaces{}, f.at(t.l, "\"Virtual cluster interfaces\" is not followed by a number")
			}
			if x.VirtualCount >= 0 {
				return Interfaces{}, f.at(t.l, "second \"Virtual cluster interfaces\"")
			}
			x.VirtualCount, virtual = n, true
			p += 4
		case virtual:
			v, next, reason := parseVirtual(toks, p)
			if reason != "" {
				return Interfaces{}, f.at(t.l, "virtual cluster interface: %s", reason)
			}
			if vnames[v.Name+" "+v.Address.String()] {
				return Interfaces{}, f.at(t.l, "virtual cluster interface %s %s printed twice", v.Name, v.Address)
			}
			vnames[v.Name+" "+v.Address.String()] = true
			x.Virtual = append(x.Virtual, v)
			p = next
		default:
			i, next, reason := parseInterface(toks, p)
			if reason != "" {
				return Interfaces{}, f.at(t.l, "interface: %s", reason)
			}
			if names[i.Name] {
				return Interfaces{}, f.at(t.l, "interface %s printed twice", quote(i.Name))
			}
			names[i.Name] = true
			x.Interfaces = append(x.Interfaces, i)
			p = next
		}
	}
	switch {
	case len(x.Interfaces) == 0:
		return Interfaces{}, f.whole("no cluster interface found")
	case x.VirtualCount >= 0 && x.VirtualCount != len(x.Virtual):
		return Interfaces{}, f.at(lastLine, "\"Virtual cluster interfaces: %d\" but %d rows printed", x.VirtualCount, len(x.Virtual))
	}
	return x, nil
}

// interfaceTokens returns the words of the output, without prompts, command
// echoes and the other session noise.
func interfaceTokens(output string) []itok {
	var toks []itok
	cmd := map[string]bool{"cphaprob": true, "-a": true, "-m": true, "if": true}
	for _, l := range content(output, nil,
		"cphaprob -a if", "cphaprob -a -m if", "cphaprob -m -a if", "cphaprob -m if", "cphaprob if",
		"show cluster members interfaces all", "show cluster members interfaces") {
		fs := l.fields()
		for i := 0; i < len(fs); i++ {
			if promptTokRe.MatchString(fs[i]) {
				// A prompt inside a flattened line, and its command.
				for i+1 < len(fs) && cmd[strings.ToLower(fs[i+1])] {
					i++
				}
				continue
			}
			toks = append(toks, itok{s: fs[i], l: l})
		}
	}
	return toks
}

// readLink reads a state word and an optional "(N secs)" at p.
func readLink(toks []itok, p int) (Link, int, string) {
	if p >= len(toks) {
		return Link{}, p, "state missing"
	}
	var lk Link
	switch w := toks[p].s; {
	case strings.EqualFold(w, InterfaceUp):
		lk.State = InterfaceUp
	case strings.EqualFold(w, InterfaceDown):
		lk.State = InterfaceDown
	case strings.EqualFold(w, InterfaceNonMonitored):
		lk.State = InterfaceNonMonitored
	default:
		return Link{}, p, "unknown interface state " + quote(w)
	}
	p++
	if p < len(toks) && strings.HasPrefix(toks[p].s, "(") && toks[p].l.n == toks[p-1].l.n {
		text := toks[p].s
		end := p
		for !strings.HasSuffix(text, ")") && end+1 < len(toks) && end-p < 2 && toks[end+1].l.n == toks[p].l.n {
			end++
			text += " " + toks[end].s
		}
		m := elapsedRe.FindStringSubmatch(text)
		if m == nil {
			return Link{}, p, "malformed elapsed time " + quote(text)
		}
		secs, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return Link{}, p, "malformed elapsed time " + quote(text)
		}
		lk.Elapsed = time.Duration(secs * float64(time.Second))
		p = end + 1
	}
	return lk, p, ""
}

// parseInterface reads one interface entry at p and returns the index after
// it.
func parseInterface(toks []itok, p int) (Interface, int, string) {
	var i Interface
	name := toks[p].s
	if !ifNameRe.MatchString(name) {
		return Interface{}, p, "unrecognized word " + quote(name)
	}
	i.Name = name
	p++
	if p < len(toks) && markersRe.MatchString(toks[p].s) {
		i.Markers = markersRe.FindStringSubmatch(toks[p].s)[1]
		for _, m := range strings.FieldsFunc(i.Markers, func(r rune) bool { return r == '-' || r == ',' || r == '/' || r == ' ' }) {
			switch strings.ToUpper(m) {
			case "S":
				i.Sync = true
			case "HA", "LS":
				if i.Bond != "" {
					return Interface{}, p, "two bond types in " + quote(toks[p].s)
				}
				i.Bond = strings.ToUpper(m)
			case "LM":
				i.LinkMonitor = true
			case "P":
				i.Probing = true
			default:
				return Interface{}, p, "unknown marker " + quote(m) + " in " + quote(toks[p].s)
			}
		}
		p++
	}
	var reason string
	switch {
	case p < len(toks) && strings.EqualFold(toks[p].s, "Inbound:"):
		if i.Inbound, p, reason = readLink(toks, p+1); reason != "" {
			return Interface{}, p, "inbound: " + reason
		}
		if p < len(toks) && strings.EqualFold(toks[p].s, "Outbound:") {
			if i.Outbound, p, reason = readLink(toks, p+1); reason != "" {
				return Interface{}, p, "outbound: " + reason
			}
		}
	case p < len(toks) && strings.EqualFold(toks[p].s, "Outbound:"):
		if i.Outbound, p, reason = readLink(toks, p+1); reason != "" {
			return Interface{}, p, "outbound: " + reason
		}
	default:
		if p >= len(toks) {
			return Interface{}, p, "no state after interface " + quote(name)
		}
		if i.Status, p, reason = readLink(toks, p); reason != "" {
			return Interface{}, p, reason + " after interface " + quote(name)
		}
	}
	if (i.Inbound.State == InterfaceNonMonitored) || (i.Outbound.State == InterfaceNonMonitored) {
		return Interface{}, p, "Non-Monitored as an inbound or outbound state"
	}
	// Older layout: "non sync(non secured), multicast" / "sync(secured), unicast".
	if p < len(toks) && (strings.EqualFold(toks[p].s, "non") || strings.HasPrefix(strings.ToLower(toks[p].s), "sync(")) {
		start := p
		var words []string
		for p < len(toks) && p-start < 4 {
			words = append(words, toks[p].s)
			p++
			if strings.HasSuffix(words[len(words)-1], ")") || strings.HasSuffix(words[len(words)-1], "),") {
				break
			}
		}
		desc := strings.ToLower(strings.Join(words, " "))
		comma := strings.HasSuffix(desc, ",")
		switch strings.TrimSuffix(desc, ",") {
		case "non sync(non secured)":
		case "sync(secured)":
			i.Sync, i.Secured = true, true
		case "sync(non secured)":
			i.Sync = true
		default:
			return Interface{}, p, "unrecognized traffic description " + quote(strings.Join(words, " "))
		}
		if comma {
			if p >= len(toks) {
				return Interface{}, p, "CCP mode missing after " + quote(strings.Join(words, " "))
			}
			switch c := strings.ToLower(toks[p].s); c {
			case "multicast", "unicast", "broadcast":
				i.CCP = c
			default:
				return Interface{}, p, "unknown CCP mode " + quote(toks[p].s)
			}
			p++
		}
	}
	return i, p, ""
}

// parseVirtual reads one virtual cluster interface row at p.
func parseVirtual(toks []itok, p int) (VirtualInterface, int, string) {
	var v VirtualInterface
	if !ifNameRe.MatchString(toks[p].s) {
		return v, p, "unrecognized word " + quote(toks[p].s)
	}
	v.Name = toks[p].s
	p++
	if p >= len(toks) {
		return VirtualInterface{}, p, "address missing after " + quote(v.Name)
	}
	a, err := netip.ParseAddr(toks[p].s)
	if err != nil {
		return VirtualInterface{}, p, "address " + quote(toks[p].s) + " is not an IP address"
	}
	v.Address = a
	p++
	if p+1 < len(toks) && strings.EqualFold(toks[p].s, "VMAC") && strings.EqualFold(toks[p+1].s, "address:") {
		if p+2 >= len(toks) || !macRe.MatchString(toks[p+2].s) {
			return VirtualInterface{}, p, "VMAC address missing or malformed"
		}
		if _, err := net.ParseMAC(toks[p+2].s); err != nil {
			return VirtualInterface{}, p, "VMAC address " + quote(toks[p+2].s) + " is malformed"
		}
		v.VMAC = toks[p+2].s
		p += 3
	}
	return v, p, ""
}
