package checkpoint

import (
	"regexp"
	"strconv"
	"strings"
)

// Parsers for the outputs read on a Check Point Maestro security group (SG)
// and on its orchestrators (MHOs). Only the `asg stat -v` capture of the
// R76SP.10 Security System Administration Guide is public; every other
// shape is UNVERIFIED: hand-written from the Maestro Administration Guide, no
// public capture (see testdata/maestro/README.md).

// The command names of the *ParseError values of these parsers.
const (
	whatASGStat   = "asg stat -v"
	whatGAll      = "g_all"
	whatBonds     = "/proc/net/bonding Bonding Mode"
	whatAutoClone = "show cluster configuration image auto-clone state"
	whatVerifier  = "migrate_server verify"
	whatAsset     = "show asset system"
	whatSGMID     = "SGM ID"
)

// SGM states and processes of `asg stat -v`, as [SGMStatus] holds them.
const (
	// SGMUp: the SGM is up.
	SGMUp = "UP"
	// SGMDown: the SGM is down (rebooting, failed, or administratively down
	// when [SGMStatus.Admin] is set).
	SGMDown = "DOWN"
	// ProcessEnforcing: the SGM enforces the policy (it forwards traffic when
	// it is UP).
	ProcessEnforcing = "Enforcing Security"
	// ProcessInactive: the SGM does not enforce a policy.
	ProcessInactive = "Inactive"
	// ProcessReady: the SGM runs (with MVC) a newer release and waits for a
	// policy; it does not forward traffic.
	ProcessReady = "Ready"
	// ProcessInitializing: the SGM is starting.
	ProcessInitializing = "Initializing"
)

// ASGStat is what `asg stat -v` (Expert, on the security group) reports.
//
// Source: the R76SP.10 capture (Security System Administration Guide,
// https://sc1.checkpoint.com/documents/R76SP.10/CP_R76SP.10_SecuritySystem_AdminGuide/109325.htm);
// the R81+ Maestro shape is UNVERIFIED: hand-written from the Maestro
// Administration Guide, no public capture.
type ASGStat struct {
	// VSX reports a "VSX System Status" header.
	VSX bool
	// Maestro reports a header ending with "- Maestro" ("System Status -
	// Maestro", "VSX System Status - Maestro").
	Maestro bool
	// VSID and VSName are the "VS ID: 0 VS Name: Athens" row (VSX only);
	// 0 and "" when it is not printed.
	VSID   int
	VSName string
	// Version is the value of the "Version" header row, e.g. "R81.20 (Build
	// 631)"; "" when not printed.
	Version string
	// Sites are the "Site N STATE" (Maestro) or "Chassis N STATE" (61000 /
	// 41000) sections, in output order, unique.
	Sites []ASGSite
	// SGMs are the SGM rows in output order: at least one, IDs canonical and
	// unique, at most one Local.
	SGMs []SGMStatus
	// Truncated reports a "..." line: the listing is incomplete (e.g. the
	// vendor document cut it). A caller must not take missing SGMs for
	// absent ones.
	Truncated bool
}

// ASGSite is one "Site N STATE" or "Chassis N STATE" section of `asg stat -v`.
type ASGSite struct {
	// Kind is "Site" (Maestro) or "Chassis" (61000 / 41000).
	Kind string
	// ID is the site or chassis number (>= 1).
	ID int
	// State is "ACTIVE", "STANDBY" or "DOWN".
	State string
}

// SGMStatus is one SGM row of `asg stat -v`, e.g.
//
//	1_1 (local)   UP               Enforcing Security   02Dec26 10:00
//	1_3           DOWN (admin)     Inactive             02Dec26 10:00
//	3             DOWN             Inactive             NA              (bare number under "Chassis 1")
type SGMStatus struct {
	// ID is the canonical "<site>_<n>" id: "1_01" gives "1_1", a bare "3"
	// under "Chassis 2" gives "2_3".
	ID string
	// Site and Number are the two parts of ID.
	Site, Number int
	// Local reports "(local)": the SGM the command ran on (the SMO).
	Local bool
	// State is SGMUp or SGMDown.
	State string
	// Admin reports "DOWN (admin)": set administratively down
	// (g_clusterXL_admin; a reboot clears it).
	Admin bool
	// Process is ProcessEnforcing, ProcessInactive, ProcessReady or
	// ProcessInitializing.
	Process string
	// Policy is "NA" or the policy date as printed with single spaces, e.g.
	// "02Dec26 10:00".
	Policy string
}

// Forwarding reports whether the SGM forwards traffic: UP and Enforcing
// Security. DOWN, Ready (MVC, waiting for policy), Initializing and Inactive
// SGMs do not.
func (s SGMStatus) Forwarding() bool { return s.State == SGMUp && s.Process == ProcessEnforcing }

// SGM returns the row of SGM id (any form ParseSGMID accepts, e.g. "1_01")
// and whether it is listed.
func (a ASGStat) SGM(id string) (SGMStatus, bool) {
	c, _, _, err := ParseSGMID(id)
	if err != nil {
		return SGMStatus{}, false
	}
	for _, s := range a.SGMs {
		if s.ID == c {
			return s, true
		}
	}
	return SGMStatus{}, false
}

var (
	// sgmIDRe is "<site>_<n>", optionally zero-padded.
	sgmIDRe = regexp.MustCompile(`^(\d{1,3})_(\d{1,3})$`)
	// sgmBareRe is a bare SGM number (under a "Chassis N" section).
	sgmBareRe = regexp.MustCompile(`^\d{1,3}$`)
	// sgmRowStartRe spots a line that means to be an SGM row.
	sgmRowStartRe = regexp.MustCompile(`^\d+(?:_\d+)?(?:\s|$)`)
	// asgHeaderRe is the first row: "System Status", "VSX System Status",
	// optionally " - Maestro".
	asgHeaderRe = regexp.MustCompile(`^(VSX )?System Status( - Maestro)?$`)
	// asgVSRe is the VSX "VS ID: 0 VS Name: Athens" row.
	asgVSRe = regexp.MustCompile(`^VS ID:\s*(\d{1,5})\s+VS Name:\s*(\S.*)$`)
	// asgSectionRe is "Site 1 ACTIVE" or "Chassis 2 STANDBY".
	asgSectionRe = regexp.MustCompile(`^(Site|Chassis)\s+(\d{1,3})\s+(\S+)$`)
	// asgRuleRe is a rule line, "-----" (or "=====", "+----+").
	asgRuleRe = regexp.MustCompile(`^[-=+]{3,}$`)
	// asgKeyRe is the key of a header "key | value" row.
	asgKeyRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9 ./()_-]*$`)
	// policyDateRe is "02Dec26" (day, month, two-digit year).
	policyDateRe = regexp.MustCompile(`^(\d{1,2})(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(\d{2})$`)
	// policyTimeRe is "10:00".
	policyTimeRe = regexp.MustCompile(`^(\d{1,2}):(\d{2})$`)
)

// siteStates are the section states accepted (fail closed: another word is
// an error).
var siteStates = map[string]bool{"ACTIVE": true, "STANDBY": true, "DOWN": true}

// sgmProcesses maps the lower-case process text to its canonical form.
var sgmProcesses = map[string]string{
	"enforcing security": ProcessEnforcing,
	"inactive":           ProcessInactive,
	"ready":              ProcessReady,
	"initializing":       ProcessInitializing,
}

// ParseSGMID canonicalises an SGM id "<site>_<n>" (either part may be
// zero-padded, at most 3 digits): "1_01" gives "1_1", 1, 1. Site and number
// must be >= 1. Otherwise it returns a *ParseError (errors.Is
// ErrUnrecognized).
//
// UNVERIFIED: hand-written from the Maestro Administration Guide, no public
// capture (g_all banners print "1_01", commands take "1_1").
func ParseSGMID(s string) (id string, site, n int, err error) {
	m := sgmIDRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", 0, 0, failer{what: whatSGMID}.whole("%s is not <site>_<n>", quote(s))
	}
	site, _ = strconv.Atoi(m[1])
	n, _ = strconv.Atoi(m[2])
	if site < 1 || n < 1 {
		return "", 0, 0, failer{what: whatSGMID}.whole("%s: site and SGM number start at 1", quote(s))
	}
	return strconv.Itoa(site) + "_" + strconv.Itoa(n), site, n, nil
}

// JoinSGMIDs joins ids with "," for `g_all -b`, `g_clusterXL_admin -b`,
// `sp_upgrade --revert -b` and `installer upgrade ... member_ids`, e.g.
// "1_1,1_2". Each id is canonicalised (ParseSGMID) when it parses, else kept
// trimmed as given.
func JoinSGMIDs(ids []string) string {
	out := make([]string, 0, len(ids))
	for _, s := range ids {
		if c, _, _, err := ParseSGMID(s); err == nil {
			s = c
		}
		out = append(out, strings.TrimSpace(s))
	}
	return strings.Join(out, ",")
}

// unframe strips the "|" frame of an `asg stat -v` row: "| x |" gives "x".
func unframe(t string) string {
	t = strings.TrimSpace(t)
	if strings.HasPrefix(t, "|") {
		t = strings.TrimPrefix(t, "|")
		t = strings.TrimSuffix(t, "|")
	}
	return strings.TrimSpace(t)
}

// ParseASGStat reads the output of Expert `asg stat -v` on a Maestro
// security group (or a 61000 / 41000 chassis system). Two shapes are read:
//
// The R76SP.10 capture (rows flattened by HTML into "| … |", bare SGM
// numbers under "Chassis N" sections, ending with "..."):
//
//	| VSX System Status |
//	| VS ID: 0 VS Name: Athens |
//	| Chassis 1 STANDBY |
//	| SGM ID State Process Policy Date |
//	| 1 (local) UP Enforcing Security 09Jan14 11:30 |
//	| 3 DOWN Inactive NA |
//	...
//
// The R81+ Maestro shape (UNVERIFIED: hand-written from the Maestro
// Administration Guide, no public capture):
//
//	--------------------------------------------------------------------------------
//	| System Status - Maestro                                                      |
//	--------------------------------------------------------------------------------
//	| Up time              | 2 days, 03:14:07 hours                                |
//	| SGMs                 | 7 / 8                                                 |
//	| Version              | R81.20 (Build 631)                                    |
//	--------------------------------------------------------------------------------
//	| Site 1 ACTIVE                                                                |
//	--------------------------------------------------------------------------------
//	| SGM ID        State            Process              Policy Date              |
//	| 1_1 (local)   UP               Enforcing Security   02Dec26 10:00            |
//	| 1_3           DOWN (admin)     Inactive             02Dec26 10:00            |
//	| 1_4           DOWN             Inactive             NA                       |
//
// "VSX System Status - Maestro" is the VSX header. SGM ids may be zero-padded
// ("1_01"); they are canonicalised. Header "key | value" rows before the
// first section are read for "Version" and otherwise ignored. A "..." line
// anywhere sets Truncated. Rule lines, blank rows, the column heading,
// prompts, the command echo, pager artefacts and syslog lines are skipped.
//
// It fails closed with a *ParseError (errors.Is ErrUnrecognized) for: no
// header (or anything but rules before it), a second header, a VS row in a
// non-VSX output or twice, a header "key | value" row after the first
// section, a section with an unknown state or listed twice, Site and Chassis
// sections mixed, an SGM row before any section or under a section of
// another site, an SGM id that does not parse, an unknown SGM state (not UP
// or DOWN) or process, "(admin)" not after DOWN, a malformed policy date, two
// "(local)" rows, a duplicate SGM id, any other row, and no SGM row at all.
func ParseASGStat(output string) (ASGStat, error) {
	f := failer{what: whatASGStat}
	var (
		st       ASGStat
		header   bool
		vsSeen   bool
		cur      *ASGSite
		localRow line
		locals   int
		ids      = map[string]bool{}
		sites    = map[ASGSite]bool{}
	)
	for _, l := range content(output, nil, "asg stat -v", "asg stat") {
		t := unframe(l.text)
		switch {
		case t == "" || asgRuleRe.MatchString(t):
			continue
		case t == "...":
			st.Truncated = true
			continue
		}
		if m := asgHeaderRe.FindStringSubmatch(t); m != nil {
			if header {
				return ASGStat{}, f.at(l, "second header")
			}
			header, st.VSX, st.Maestro = true, m[1] != "", m[2] != ""
			continue
		}
		if !header {
			return ASGStat{}, f.at(l, "row before the \"System Status\" header")
		}
		if m := asgVSRe.FindStringSubmatch(t); m != nil {
			if !st.VSX || vsSeen || cur != nil {
				return ASGStat{}, f.at(l, "VS row outside a VSX header")
			}
			vsSeen = true
			st.VSID, _ = strconv.Atoi(m[1])
			st.VSName = strings.TrimSpace(m[2])
			continue
		}
		if strings.Contains(t, "|") {
			cells := splitCells(t)
			if len(cells) != 2 || !asgKeyRe.MatchString(cells[0]) {
				return ASGStat{}, f.at(l, "unrecognised table row")
			}
			if cur != nil {
				return ASGStat{}, f.at(l, "header row after the first section")
			}
			if normalize(cells[0]) == "version" {
				if cells[1] == "" || st.Version != "" {
					return ASGStat{}, f.at(l, "empty or repeated Version row")
				}
				st.Version = strings.Join(strings.Fields(cells[1]), " ")
			}
			continue
		}
		if m := asgSectionRe.FindStringSubmatch(t); m != nil {
			id, _ := strconv.Atoi(m[2])
			s := ASGSite{Kind: m[1], ID: id, State: m[3]}
			if !siteStates[s.State] {
				return ASGStat{}, f.at(l, "unknown %s state %s", s.Kind, quote(s.State))
			}
			if id < 1 {
				return ASGStat{}, f.at(l, "%s number starts at 1", s.Kind)
			}
			k := ASGSite{Kind: s.Kind, ID: id}
			if sites[k] {
				return ASGStat{}, f.at(l, "%s %d listed twice", s.Kind, id)
			}
			if len(st.Sites) > 0 && st.Sites[0].Kind != s.Kind {
				return ASGStat{}, f.at(l, "Site and Chassis sections mixed")
			}
			sites[k] = true
			st.Sites = append(st.Sites, s)
			cur = &st.Sites[len(st.Sites)-1]
			continue
		}
		if normalize(t) == "sgm id state process policy date" {
			continue
		}
		if !sgmRowStartRe.MatchString(t) {
			return ASGStat{}, f.at(l, "unrecognised row")
		}
		if cur == nil {
			return ASGStat{}, f.at(l, "SGM row before any Site or Chassis section")
		}
		s, reason := parseSGMRow(strings.Fields(t), *cur)
		if reason != "" {
			return ASGStat{}, f.at(l, "%s", reason)
		}
		if ids[s.ID] {
			return ASGStat{}, f.at(l, "SGM %s listed twice", s.ID)
		}
		ids[s.ID] = true
		if s.Local {
			locals++
			if locals > 1 {
				return ASGStat{}, f.at(l, "second (local) row, after line %d", localRow.n)
			}
			localRow = l
		}
		st.SGMs = append(st.SGMs, s)
	}
	if !header {
		return ASGStat{}, f.whole("no \"System Status\" header")
	}
	if len(st.SGMs) == 0 {
		return ASGStat{}, f.whole("no SGM row")
	}
	return st, nil
}

// parseSGMRow reads the fields of one SGM row under section sec; reason is
// non-empty when the row does not parse.
func parseSGMRow(fs []string, sec ASGSite) (SGMStatus, string) {
	var s SGMStatus
	raw := fs[0]
	switch {
	case sgmBareRe.MatchString(raw):
		n, _ := strconv.Atoi(raw)
		if n < 1 {
			return s, "SGM number starts at 1"
		}
		s.ID, s.Site, s.Number = strconv.Itoa(sec.ID)+"_"+strconv.Itoa(n), sec.ID, n
	default:
		id, site, n, err := ParseSGMID(raw)
		if err != nil {
			return s, "SGM id " + quote(raw) + " is not <site>_<n>"
		}
		if site != sec.ID {
			return s, "SGM " + id + " under " + sec.Kind + " " + strconv.Itoa(sec.ID)
		}
		s.ID, s.Site, s.Number = id, site, n
	}
	rest := fs[1:]
	if len(rest) > 0 && rest[0] == "(local)" {
		s.Local, rest = true, rest[1:]
	}
	if len(rest) == 0 {
		return s, "no state"
	}
	switch rest[0] {
	case SGMUp, SGMDown:
		s.State = rest[0]
	default:
		return s, "unknown SGM state " + quote(rest[0])
	}
	rest = rest[1:]
	if len(rest) > 0 && rest[0] == "(admin)" {
		if s.State != SGMDown {
			return s, "(admin) after " + s.State
		}
		s.Admin, rest = true, rest[1:]
	}
	var proc []string
	switch {
	case len(rest) >= 2 && rest[len(rest)-1] == "NA":
		s.Policy, proc = "NA", rest[:len(rest)-1]
	case len(rest) >= 3 && validPolicyDate(rest[len(rest)-2], rest[len(rest)-1]):
		s.Policy, proc = rest[len(rest)-2]+" "+rest[len(rest)-1], rest[:len(rest)-2]
	default:
		return s, "no process and policy date (\"NA\" or \"02Dec26 10:00\")"
	}
	p, ok := sgmProcesses[strings.ToLower(strings.Join(proc, " "))]
	if !ok {
		return s, "unknown SGM process " + quote(strings.Join(proc, " "))
	}
	s.Process = p
	return s, ""
}

// validPolicyDate reports "02Dec26" "10:00" with a valid day and time.
func validPolicyDate(date, clock string) bool {
	d := policyDateRe.FindStringSubmatch(date)
	c := policyTimeRe.FindStringSubmatch(clock)
	if d == nil || c == nil {
		return false
	}
	day, _ := strconv.Atoi(d[1])
	h, _ := strconv.Atoi(c[1])
	m, _ := strconv.Atoi(c[2])
	return day >= 1 && day <= 31 && h < 24 && m < 60
}

// GAllBlock is one group of `g_all <cmd>` output: the SGMs that printed the
// same text, and that text.
type GAllBlock struct {
	// SGMs are the canonical ids of the banner ("1_01" gives "1_1"), in
	// banner order.
	SGMs []string
	// Output is the text under the banner (cleaned lines joined with "\n",
	// surrounding blank lines removed); "" when the command printed nothing.
	Output string
}

var (
	// gallBannerRe is "-*- 6 blades: 1_01 1_02 -*-" or "-*- 1 blade: 1_04 -*-".
	gallBannerRe = regexp.MustCompile(`^-\*-\s*(\d{1,4})\s+blades?:\s*(.*?)\s*-\*-$`)
	// gallIDSepRe separates the ids of a banner.
	gallIDSepRe = regexp.MustCompile(`[\s,]+`)
)

// ParseGAll splits the output of Expert `g_all <cmd>` / `g_all -b <ids>
// <cmd>` into its blocks. Identical outputs are grouped under one banner:
//
//	-*- 6 blades: 1_01 1_02 1_03 2_01 2_02 2_03 -*-
//	This is Check Point's software version R81.20 - Build 631
//	-*- 1 blade: 1_04 -*-
//	This is Check Point's software version R82 - Build 777
//
// A rebooting SGM is absent. Empty output (only blank lines, prompts and the
// echo) gives no block and no error: no SGM answered. Prompt lines before
// the first banner or at the end, and the `g_all ...` echo before the first
// banner, are skipped.
//
// It fails closed with a *ParseError (errors.Is ErrUnrecognized) for: any
// other text before the first banner; a line starting "-*-" that is not a
// banner; a banner without ids, with an id that does not parse, or whose
// count differs from its ids; an SGM listed twice (in one or two banners).
//
// UNVERIFIED: hand-written from the Maestro Administration Guide, no public
// capture.
func ParseGAll(output string) ([]GAllBlock, error) {
	f := failer{what: whatGAll}
	ls := splitLines(output)
	end := len(ls) // lines from end on are trailing prompts and blanks
	for end > 0 {
		t := ls[end-1].text
		if _, prompt := afterPrompt(t); t != "" && !prompt {
			break
		}
		end--
	}
	var (
		blocks []GAllBlock
		body   [][]string
		seen   = map[string]bool{}
	)
	for _, l := range ls[:end] {
		t := l.text
		if strings.HasPrefix(t, "-*-") {
			m := gallBannerRe.FindStringSubmatch(t)
			if m == nil {
				return nil, f.at(l, "malformed g_all banner")
			}
			count, _ := strconv.Atoi(m[1])
			var ids []string
			for _, raw := range gallIDSepRe.Split(m[2], -1) {
				if raw == "" {
					continue
				}
				id, _, _, err := ParseSGMID(raw)
				if err != nil {
					return nil, f.at(l, "SGM id %s is not <site>_<n>", quote(raw))
				}
				if seen[id] {
					return nil, f.at(l, "SGM %s listed twice", id)
				}
				seen[id] = true
				ids = append(ids, id)
			}
			if len(ids) == 0 || len(ids) != count {
				return nil, f.at(l, "banner counts %d blades but lists %d", count, len(ids))
			}
			blocks = append(blocks, GAllBlock{SGMs: ids})
			body = append(body, nil)
			continue
		}
		if len(blocks) == 0 {
			if _, prompt := afterPrompt(t); t == "" || prompt {
				continue
			}
			if fs := l.fields(); fs[0] == "g_all" {
				continue // the command echo
			}
			return nil, f.at(l, "text before the first g_all banner")
		}
		body[len(body)-1] = append(body[len(body)-1], t)
	}
	for i := range blocks {
		b := body[i]
		for len(b) > 0 && b[0] == "" {
			b = b[1:]
		}
		for len(b) > 0 && b[len(b)-1] == "" {
			b = b[:len(b)-1]
		}
		blocks[i].Output = strings.Join(b, "\n")
	}
	return blocks, nil
}

// Bond is one bonding interface of an SGM as /proc/net/bonding reports it.
type Bond struct {
	// Name is the interface, e.g. "bond1".
	Name string
	// Mode is the text after "Bonding Mode: ", one of the Linux bonding
	// driver's mode names, e.g. "IEEE 802.3ad Dynamic link aggregation" or
	// "fault-tolerance (active-backup)".
	Mode string
	// LACP reports an 802.3ad mode.
	LACP bool
}

// bondModes are the mode names of the Linux bonding driver
// (drivers/net/bonding/bond_main.c, bond_mode_name), lower case.
var bondModes = map[string]bool{
	"load balancing (round-robin)":          true,
	"fault-tolerance (active-backup)":       true,
	"load balancing (xor)":                  true,
	"fault-tolerance (broadcast)":           true,
	"ieee 802.3ad dynamic link aggregation": true,
	"transmit load balancing":               true,
	"adaptive load balancing":               true,
}

// bondLineRe is "/proc/net/bonding/bond1:Bonding Mode: <mode>".
var bondLineRe = regexp.MustCompile(`^/proc/net/bonding/([A-Za-z0-9][\w.\-]*):Bonding Mode:\s*(.*)$`)

// ParseBondModes reads the output of Expert `grep -H 'Bonding Mode'
// /proc/net/bonding/* 2>/dev/null; true`:
//
//	/proc/net/bonding/bond1:Bonding Mode: IEEE 802.3ad Dynamic link aggregation
//	/proc/net/bonding/bond2:Bonding Mode: fault-tolerance (active-backup)
//
// Empty output (no bond) gives nil, nil. Prompts and the echo are skipped.
// It fails closed with a *ParseError (errors.Is ErrUnrecognized) for any
// other line, a mode that is not a Linux bonding driver mode name, and a
// bond listed twice.
//
// UNVERIFIED: hand-written from the Maestro Administration Guide, no public
// capture (the line format is grep -H over the Linux bonding driver's
// /proc file).
func ParseBondModes(output string) ([]Bond, error) {
	f := failer{what: whatBonds}
	var (
		bonds []Bond
		seen  = map[string]bool{}
	)
	for _, l := range content(output, nil,
		"grep -h 'bonding mode' /proc/net/bonding/* 2>/dev/null; true",
		"grep -h 'bonding mode' /proc/net/bonding/* 2>/dev/null",
		"grep -h 'bonding mode' /proc/net/bonding/*") {
		if strings.HasPrefix(normalize(l.text), "grep ") {
			continue // the echo of a variant of the command
		}
		m := bondLineRe.FindStringSubmatch(l.text)
		if m == nil {
			return nil, f.at(l, "not a /proc/net/bonding Bonding Mode line")
		}
		mode := strings.Join(strings.Fields(m[2]), " ")
		if !bondModes[strings.ToLower(mode)] {
			return nil, f.at(l, "unknown bonding mode %s", quote(mode))
		}
		if seen[m[1]] {
			return nil, f.at(l, "bond %s listed twice", m[1])
		}
		seen[m[1]] = true
		bonds = append(bonds, Bond{Name: m[1], Mode: mode, LACP: strings.Contains(mode, "802.3ad")})
	}
	return bonds, nil
}

// autoCloneRe is "Image auto-clone state: on|off".
var autoCloneRe = regexp.MustCompile(`(?i)^image auto-clone state\s*:\s*(on|off)$`)

// ParseAutoClone reads the output of gClish `show cluster configuration
// image auto-clone state`: "Image auto-clone state: on" or "... off".
// Prompts and the echo are skipped. It fails closed with a *ParseError
// (errors.Is ErrUnrecognized) for any other line, both "on" and "off", and
// no state line.
//
// UNVERIFIED: hand-written from the Maestro Administration Guide, no public
// capture.
func ParseAutoClone(output string) (on bool, err error) {
	f := failer{what: whatAutoClone}
	var (
		found bool
		first line
	)
	for _, l := range content(output, nil, "show cluster configuration image auto-clone state") {
		m := autoCloneRe.FindStringSubmatch(l.text)
		if m == nil {
			return false, f.at(l, "not an \"Image auto-clone state: on|off\" line")
		}
		v := strings.EqualFold(m[1], "on")
		if found && v != on {
			return false, f.at(l, "contradicts line %d %s", first.n, quote(first.text))
		}
		if !found {
			found, on, first = true, v, l
		}
	}
	if !found {
		return false, f.whole("no \"Image auto-clone state\" line")
	}
	return on, nil
}

// VerifierReport is the result of the pre-upgrade verifier
// `$FWDIR/scripts/migrate_server verify -v <target>`.
type VerifierReport struct {
	// OK reports "Verification succeeded." and no "Error:" line.
	OK bool
	// Errors are the texts after "Error:" of the error lines, in order.
	Errors []string
	// Text is the cleaned output (prompts, echo and blank lines removed,
	// lines joined with "\n"), kept for the change approval.
	Text string
}

var (
	// verifierErrorRe is an "Error: <text>" line.
	verifierErrorRe = regexp.MustCompile(`(?i)^error\s*:\s*(.*)$`)
	// verifierEchoRe is the echo of the verifier command.
	verifierEchoRe = regexp.MustCompile(`^\S*migrate_server(?:\s|$)`)
)

// ParseVerifier reads the output of Expert `$FWDIR/scripts/migrate_server
// verify -v <target>`. Success ends with "Verification succeeded."; failure
// prints one or more "Error: <text>" lines and "Verification failed." (exit
// status 1). Other lines (progress, warnings) are kept in Text only.
// Prompts and the echo are skipped.
//
// It fails closed with a *ParseError (errors.Is ErrUnrecognized) for: both
// "Verification succeeded." and "Verification failed."; neither the success
// line nor an "Error:" line. A success line with "Error:" lines gives OK
// false.
//
// UNVERIFIED: hand-written from the Maestro Administration Guide, no public
// capture.
func ParseVerifier(output string) (VerifierReport, error) {
	f := failer{what: whatVerifier}
	var (
		r                 VerifierReport
		text              []string
		succeeded, failed bool
	)
	for _, l := range content(output, nil) {
		t := l.text
		if verifierEchoRe.MatchString(t) {
			continue
		}
		text = append(text, t)
		switch n := normalize(t); {
		case n == "verification succeeded." || n == "verification succeeded":
			if failed {
				return VerifierReport{}, f.at(l, "success after \"Verification failed.\"")
			}
			succeeded = true
		case n == "verification failed." || n == "verification failed":
			if succeeded {
				return VerifierReport{}, f.at(l, "failure after \"Verification succeeded.\"")
			}
			failed = true
		}
		if m := verifierErrorRe.FindStringSubmatch(t); m != nil {
			r.Errors = append(r.Errors, strings.TrimSpace(m[1]))
		}
	}
	if !succeeded && len(r.Errors) == 0 {
		return VerifierReport{}, f.whole("neither \"Verification succeeded.\" nor an \"Error:\" line")
	}
	r.OK = succeeded && len(r.Errors) == 0
	r.Text = strings.Join(text, "\n")
	return r, nil
}

// ParseAssetModel returns the model of Clish `show asset system` on an
// orchestrator: the value of "Model: MHO-140". Other "Key: value" lines
// (Platform, Serial Number, ...) and any other lines are ignored; prompts and
// the echo are skipped. It fails closed with a *ParseError (errors.Is
// ErrUnrecognized) for: no Model line, an empty Model, two different
// Models.
//
// UNVERIFIED: hand-written from the Maestro Administration Guide, no public
// capture.
func ParseAssetModel(output string) (string, error) {
	f := failer{what: whatAsset}
	var (
		model string
		first line
	)
	for _, l := range content(output, nil, "show asset system") {
		key, val, ok := splitKey(l.text)
		if !ok || key != "model" {
			continue
		}
		val = strings.Join(strings.Fields(val), " ")
		if val == "" {
			return "", f.at(l, "empty Model")
		}
		if model != "" && val != model {
			return "", f.at(l, "contradicts line %d %s", first.n, quote(first.text))
		}
		if model == "" {
			model, first = val, l
		}
	}
	if model == "" {
		return "", f.whole("no \"Model:\" line")
	}
	return model, nil
}
