package checkpoint

import (
	"regexp"
	"strconv"
	"strings"
)

// Virtual device types of `vsx stat -v`, as [VirtualDevice.Type] holds them.
// Source: the legend the command prints ("Type: S - Virtual System, B -
// Virtual System in Bridge mode, R - Virtual Router, W - Virtual Switch."),
// Check Point VSX Administration Guide, "vsx stat".
const (
	// TypeVirtualSystem is type letter "S".
	TypeVirtualSystem = "Virtual System"
	// TypeVirtualSystemBridge is type letter "B".
	TypeVirtualSystemBridge = "Virtual System in Bridge mode"
	// TypeVirtualRouter is type letter "R".
	TypeVirtualRouter = "Virtual Router"
	// TypeVirtualSwitch is type letter "W".
	TypeVirtualSwitch = "Virtual Switch"
)

// VSXGateway is the "VSX Gateway Status" block of `vsx stat -v` (VS0).
type VSXGateway struct {
	// Name is the VSX gateway name.
	Name string
	// AccessPolicy is the "Access Control Policy" (older builds: "Security
	// Policy") name, verbatim.
	AccessPolicy string
	// InstalledAt is the "Installed at" date as printed, e.g. "10Dec2021
	// 5:26:32" (member local time).
	InstalledAt string
	// ThreatPolicy is the "Threat Prevention Policy" name; "" when absent.
	ThreatPolicy string
	// SIC is the "SIC Status", e.g. "Trust".
	SIC string
}

// VSXTotals are the count lines of `vsx stat -v`. A count that is not
// printed is -1.
type VSXTotals struct {
	// Licensed is "Number of Virtual Systems allowed by license".
	Licensed int
	// VirtualSystemsActive and VirtualSystemsConfigured are "Virtual
	// Systems [active / configured]".
	VirtualSystemsActive, VirtualSystemsConfigured int
	// RoutersSwitchesActive and RoutersSwitchesConfigured are "Virtual
	// Routers and Switches [active / configured]".
	RoutersSwitchesActive, RoutersSwitchesConfigured int
	// ConnectionsCurrent and ConnectionsLimit are "Total connections
	// [current / limit]".
	ConnectionsCurrent, ConnectionsLimit int
}

// AllActive reports whether the printed counts say every configured Virtual
// System and every configured Virtual Router and Switch is active. It is
// false when neither count line was printed (fail closed).
func (t VSXTotals) AllActive() bool {
	if t.VirtualSystemsConfigured < 0 && t.RoutersSwitchesConfigured < 0 {
		return false
	}
	return t.VirtualSystemsActive == t.VirtualSystemsConfigured && t.RoutersSwitchesActive == t.RoutersSwitchesConfigured
}

// VirtualDevice is one row of the "Virtual Devices Status" table.
type VirtualDevice struct {
	// ID is the VSID (the context number). IDs need not be contiguous.
	ID int
	// TypeCode is the type letter as printed: "S", "B", "R", "W", or a
	// letter the output's own legend defines.
	TypeCode string
	// Type is the type the letter stands for: TypeVirtualSystem,
	// TypeVirtualSystemBridge, TypeVirtualRouter, TypeVirtualSwitch, or the
	// legend's wording for another letter.
	Type string
	// Name is the virtual device name.
	Name string
	// AccessPolicy is the "Access Control Policy" (older: "Policy Name")
	// cell verbatim: a policy name, "<Not Applicable>" (Virtual Switches),
	// "<No Policy>".
	AccessPolicy string
	// InstalledAt is the "Installed at" cell, trimmed, e.g. "4Jan2022
	// 9:11"; "" when empty.
	InstalledAt string
	// ThreatPolicy is the "Threat Prevention Policy" cell verbatim; "" when
	// the table has no such column.
	ThreatPolicy string
	// SIC is the SIC status cell ("SIC Stat" header), e.g. "Trust".
	SIC string
}

// Problem returns why the virtual device is not ready, or "": SIC is not
// "Trust"; a Virtual System or Virtual Router has no access control policy
// (an empty cell or one in angle brackets such as "<No Policy>" or "<Not
// Loaded>"); a Virtual Switch shows an angle-bracket value other than "<Not
// Applicable>". A missing Threat Prevention policy is not a problem (many
// Virtual Systems run without one).
//
// Source: Check Point R81.20 Installation and Upgrade Guide, MVC upgrade of
// a VSX cluster (check `vsx stat -v` after each member reboots: every
// virtual device loaded, SIC trusted, policy installed).
func (d VirtualDevice) Problem() string {
	if !strings.EqualFold(d.SIC, "Trust") {
		return "SIC status " + quote(d.SIC) + " is not Trust"
	}
	p := strings.TrimSpace(d.AccessPolicy)
	if d.Type == TypeVirtualSwitch {
		if strings.HasPrefix(p, "<") && !strings.EqualFold(p, "<Not Applicable>") {
			return "access control policy " + quote(p)
		}
		return ""
	}
	if p == "" || strings.HasPrefix(p, "<") {
		return "no access control policy (" + quote(p) + ")"
	}
	return ""
}

// VSXStat is what `vsx stat -v` reports on one VSX gateway or cluster member.
type VSXStat struct {
	// Gateway is the "VSX Gateway Status" block.
	Gateway VSXGateway
	// Totals are the count lines (-1 where not printed).
	Totals VSXTotals
	// Devices are the rows of "Virtual Devices Status", in printed order,
	// IDs unique.
	Devices []VirtualDevice
}

// NotReady returns the virtual devices whose Problem is not "", in printed
// order.
func (s VSXStat) NotReady() []VirtualDevice {
	var out []VirtualDevice
	for _, d := range s.Devices {
		if d.Problem() != "" {
			out = append(out, d)
		}
	}
	return out
}

const whatVSX = "vsx stat -v"

var (
	notVSXRe     = regexp.MustCompile(`(?i)\bVSX is not (?:supported|enabled|configured|installed)\b|\bnot an? VSX\b|\bis not VSX\b`)
	pairRe       = regexp.MustCompile(`^(\d{1,12})\s*/\s*(\d{1,12})$`)
	countRe      = regexp.MustCompile(`^\d{1,12}$`)
	separatorRe  = regexp.MustCompile(`^[-=+| ]+$`)
	legendItemRe = regexp.MustCompile(`\b([A-Z])\s+-\s+([^,.]+?)\s*(?:[,.]|$)`)
	vsidRe       = regexp.MustCompile(`^\d{1,6}$`)
	typeCodeRe   = regexp.MustCompile(`^[A-Z]$`)
)

// vsxKeys are the field names of the gateway block and the count lines.
func vsxKeys(k string) bool {
	switch k {
	case "name", "access control policy", "security policy", "installed at", "threat prevention policy",
		"sic status", "number of virtual systems allowed by license", "virtual systems [active / configured]",
		"virtual routers and switches [active / configured]", "total connections [current / limit]", "type":
		return true
	}
	return false
}

// vsxColumns maps table header cells to fields.
type vsxColumns struct {
	n                                        int // number of cells
	id, typeName, access, installed, tp, sic int // cell index, -1 if absent
}

func parseVSXHeader(cells []string) (vsxColumns, string) {
	c := vsxColumns{n: len(cells), id: -1, typeName: -1, access: -1, installed: -1, tp: -1, sic: -1}
	set := func(p *int, i int) string {
		if *p >= 0 {
			return "column " + quote(cells[i]) + " printed twice"
		}
		*p = i
		return ""
	}
	for i, raw := range cells {
		var reason string
		switch h := normalize(raw); {
		case h == "id":
			reason = set(&c.id, i)
		case h == "type & name" || h == "type and name":
			reason = set(&c.typeName, i)
		case h == "access control policy" || h == "policy name" || h == "security policy":
			reason = set(&c.access, i)
		case h == "installed at":
			reason = set(&c.installed, i)
		case h == "threat prevention policy":
			reason = set(&c.tp, i)
		case strings.HasPrefix(h, "sic"):
			reason = set(&c.sic, i)
		}
		if reason != "" {
			return c, reason
		}
	}
	switch {
	case c.id < 0:
		return c, "no ID column"
	case c.typeName < 0:
		return c, "no \"Type & Name\" column"
	case c.access < 0:
		return c, "no access control policy column"
	case c.sic < 0:
		return c, "no SIC column"
	}
	return c, ""
}

// splitCells splits a table line at "|" and trims each cell.
func splitCells(t string) []string {
	cells := strings.Split(t, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

// ParseVSXStat reads the output of `vsx stat -v` on a VSX gateway or VSX
// cluster member:
//
//	VSX Gateway Status                          heading; then Name, Access Control Policy
//	==================                          (or Security Policy), Installed at, Threat
//	Name:            gw1                         Prevention Policy, SIC Status
//	Number of Virtual Systems allowed by license:          10       optional counts
//	Virtual Systems [active / configured]:                 10 / 10
//	Virtual Routers and Switches [active / configured]:     4 / 4
//	Total connections [current / limit]:                25445 / 1502500
//	Virtual Devices Status
//	 ID  | Type & Name   | Access Control Policy | Installed at    | Threat Prevention Policy | SIC Stat
//	-----+---------------+-----------------------+-----------------+--------------------------+---------
//	   3 | S fw1-userext | Standard              | 29Dec2021 11:28 | Standard                 | Trust
//	Type: S - Virtual System, B - Virtual System in Bridge mode,
//	      R - Virtual Router, W - Virtual Switch.
//
// Table cells are found by the "|" separators and named by the header (the
// SIC header may be cut to "SIC Stat"; the Threat Prevention and Installed
// at columns are optional), never by character offsets. Type letters S, B,
// R and W are known; another letter is accepted only when the output's own
// legend defines it. Lines before the heading (e.g. a preceding `fw ver`),
// prompts, pager artefacts and syslog lines are skipped.
//
// A gateway without VSX prints "VSX is not supported on this platform" (or
// a similar "not a VSX" text) and exits 0: ParseVSXStat then returns a
// *ParseError matching ErrNotVSX.
//
// Otherwise it fails closed with a *ParseError (errors.Is ErrUnrecognized)
// for: neither the "VSX Gateway Status" heading nor a device table; a table
// row that does not parse (cell count differs from the header, ID not a
// number, no type letter or no name, unknown type letter); a header without
// ID, Type & Name, policy or SIC column; two devices with the same ID; a
// count that is not a number; a legend that redefines a known letter; a
// printed "configured" count that differs from the rows of that kind (S and
// B rows for Virtual Systems, R and W rows for Virtual Routers and
// Switches), which means rows were lost (e.g. to a pager); VSX content and
// a "not VSX" text in the same output.
//
// Source: Check Point VSX Administration Guide, "vsx stat"; R81.20
// Installation and Upgrade Guide, MVC upgrade of a VSX
// cluster; a real R80.10 VSX capture.
func ParseVSXStat(output string) (VSXStat, error) {
	f := failer{what: whatVSX}
	ls := content(output, vsxKeys, "vsx stat -v", "vsx stat")
	st := VSXStat{Totals: VSXTotals{-1, -1, -1, -1, -1, -1, -1}}
	legend := map[string]string{"S": TypeVirtualSystem, "B": TypeVirtualSystemBridge, "R": TypeVirtualRouter, "W": TypeVirtualSwitch}
	known := map[string]bool{"S": true, "B": true, "R": true, "W": true}
	// First pass: the legend (printed after the table) and the non-VSX text.
	var notVSX *line
	inLegend := false
	for i, l := range ls {
		if notVSXRe.MatchString(l.text) && notVSX == nil {
			notVSX = &ls[i]
		}
		key, val, ok := splitKey(l.text)
		switch {
		case ok && key == "type":
			inLegend = true
		case inLegend && legendItemRe.MatchString(l.text) && !strings.Contains(l.text, "|"):
			val = l.text
		default:
			inLegend = false
			continue
		}
		for _, m := range legendItemRe.FindAllStringSubmatch(val, -1) {
			code, text := m[1], strings.TrimSpace(m[2])
			if def, ok := legend[code]; ok && known[code] {
				if normalize(def) != normalize(text) {
					return VSXStat{}, f.at(l, "legend redefines type %s as %s", code, quote(text))
				}
				continue
			}
			legend[code] = text
		}
	}
	var (
		heading, tableSeen bool
		cols               vsxColumns
		inTable            bool
		ids                = map[int]bool{}
		gwSeen             = map[string]bool{}
	)
	for _, l := range ls {
		t := l.text
		n := normalize(t)
		switch {
		case n == "vsx gateway status":
			if heading {
				return VSXStat{}, f.at(l, "second \"VSX Gateway Status\" heading")
			}
			heading = true
			continue
		case n == "virtual devices status":
			inTable = true
			continue
		case separatorRe.MatchString(t):
			continue
		}
		if strings.Contains(t, "|") {
			cells := splitCells(t)
			if strings.EqualFold(cells[0], "ID") {
				if tableSeen {
					return VSXStat{}, f.at(l, "second device table header")
				}
				c, reason := parseVSXHeader(cells)
				if reason != "" {
					return VSXStat{}, f.at(l, "device table header: %s", reason)
				}
				cols, tableSeen, inTable = c, true, true
				continue
			}
			if !tableSeen {
				if vsidRe.MatchString(cells[0]) {
					return VSXStat{}, f.at(l, "device row before the table header")
				}
				continue
			}
			d, reason := parseVSXRow(cells, cols, legend)
			if reason != "" {
				return VSXStat{}, f.at(l, "device row does not parse: %s", reason)
			}
			if ids[d.ID] {
				return VSXStat{}, f.at(l, "virtual device ID %d printed twice", d.ID)
			}
			ids[d.ID] = true
			st.Devices = append(st.Devices, d)
			continue
		}
		key, val, ok := splitKey(t)
		if !ok {
			continue
		}
		tot := &st.Totals
		switch key {
		case "number of virtual systems allowed by license":
			if !countRe.MatchString(val) || tot.Licensed >= 0 {
				return VSXStat{}, f.at(l, "license count is not a number or printed twice")
			}
			tot.Licensed, _ = strconv.Atoi(val)
		case "virtual systems [active / configured]":
			a, b, ok := pair(val)
			if !ok || tot.VirtualSystemsConfigured >= 0 {
				return VSXStat{}, f.at(l, "Virtual Systems count is not \"N / M\" or printed twice")
			}
			tot.VirtualSystemsActive, tot.VirtualSystemsConfigured = a, b
		case "virtual routers and switches [active / configured]":
			a, b, ok := pair(val)
			if !ok || tot.RoutersSwitchesConfigured >= 0 {
				return VSXStat{}, f.at(l, "Virtual Routers and Switches count is not \"N / M\" or printed twice")
			}
			tot.RoutersSwitchesActive, tot.RoutersSwitchesConfigured = a, b
		case "total connections [current / limit]":
			a, b, ok := pair(val)
			if !ok || tot.ConnectionsLimit >= 0 {
				return VSXStat{}, f.at(l, "connection count is not \"N / M\" or printed twice")
			}
			tot.ConnectionsCurrent, tot.ConnectionsLimit = a, b
		case "name", "access control policy", "security policy", "installed at", "threat prevention policy", "sic status":
			if !heading || inTable {
				continue
			}
			if gwSeen[key] {
				return VSXStat{}, f.at(l, "gateway field %s printed twice", quote(key))
			}
			gwSeen[key] = true
			g := &st.Gateway
			switch key {
			case "name":
				g.Name = val
			case "access control policy", "security policy":
				g.AccessPolicy = val
			case "installed at":
				g.InstalledAt = val
			case "threat prevention policy":
				g.ThreatPolicy = val
			case "sic status":
				g.SIC = val
			}
		}
	}
	vsx := heading || tableSeen
	switch {
	case notVSX != nil && vsx:
		return VSXStat{}, f.at(*notVSX, "VSX status and a \"not VSX\" text in the same output")
	case notVSX != nil:
		return VSXStat{}, &ParseError{What: whatVSX, Line: notVSX.n, Text: cut(notVSX.text, maxErrorText),
			Reason: "the gateway does not run VSX", Err: ErrNotVSX}
	case !vsx:
		return VSXStat{}, f.whole("neither \"VSX Gateway Status\" nor a virtual device table found")
	}
	var vs, vrs int
	for _, d := range st.Devices {
		switch d.TypeCode {
		case "S", "B":
			vs++
		case "R", "W":
			vrs++
		}
	}
	if c := st.Totals.VirtualSystemsConfigured; c >= 0 && c != vs {
		return VSXStat{}, f.whole("%d Virtual Systems configured but %d Virtual System rows printed", c, vs)
	}
	if c := st.Totals.RoutersSwitchesConfigured; c >= 0 && c != vrs {
		return VSXStat{}, f.whole("%d Virtual Routers and Switches configured but %d such rows printed", c, vrs)
	}
	return st, nil
}

// pair reads "N / M".
func pair(s string) (int, int, bool) {
	m := pairRe.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(m[1])
	b, err2 := strconv.Atoi(m[2])
	return a, b, err1 == nil && err2 == nil
}

// parseVSXRow reads one device row.
func parseVSXRow(cells []string, c vsxColumns, legend map[string]string) (VirtualDevice, string) {
	if len(cells) != c.n {
		return VirtualDevice{}, strconv.Itoa(len(cells)) + " cells, the header has " + strconv.Itoa(c.n)
	}
	var d VirtualDevice
	if !vsidRe.MatchString(cells[c.id]) {
		return VirtualDevice{}, "ID " + quote(cells[c.id]) + " is not a number"
	}
	d.ID, _ = strconv.Atoi(cells[c.id])
	tn := strings.Fields(cells[c.typeName])
	if len(tn) < 2 || !typeCodeRe.MatchString(tn[0]) {
		return VirtualDevice{}, "type and name " + quote(cells[c.typeName]) + " is not \"<letter> <name>\""
	}
	typ, ok := legend[tn[0]]
	if !ok {
		return VirtualDevice{}, "unknown type letter " + quote(tn[0])
	}
	d.TypeCode, d.Type, d.Name = tn[0], typ, strings.Join(tn[1:], " ")
	d.AccessPolicy = cells[c.access]
	d.SIC = cells[c.sic]
	if c.installed >= 0 {
		d.InstalledAt = cells[c.installed]
	}
	if c.tp >= 0 {
		d.ThreatPolicy = cells[c.tp]
	}
	return d, ""
}
