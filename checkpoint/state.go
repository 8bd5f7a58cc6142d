package checkpoint

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Base cluster member states, as [State.Base] holds them (upper case).
// Source: Check Point R81 CLI Reference Guide and R80.40 ClusterXL
// Administration Guide, "Viewing Cluster State" (description of the cluster
// states), and the Quantum Spark R81.10.X CLI Reference Guide, "cphaprob
// state".
const (
	// StateActive: the member forwards traffic. With attention flags
	// (ACTIVE(!), ACTIVE(!F), ACTIVE(!P), ACTIVE(!FP)) it forwards traffic
	// but has a problem; see [State.Attention].
	StateActive = "ACTIVE"
	// StateStandby: the member is ready to take over (High Availability).
	StateStandby = "STANDBY"
	// StateBackup: the member is a backup of a Virtual System (VSX Virtual
	// System Load Sharing).
	StateBackup = "BACKUP"
	// StateReady: the member does not forward traffic or synchronize. A
	// member that runs a newer version than its peers sits in READY until
	// MVC is enabled and policy installed; a CoreXL mismatch also causes it.
	StateReady = "READY"
	// StateDown: a critical device reports a problem (or the member was set
	// administratively down); the member does not forward traffic.
	StateDown = "DOWN"
	// StateLost: the peer member does not answer (seen from the local member).
	StateLost = "LOST"
	// StateInit: the member is starting its cluster module.
	StateInit = "INIT"
)

// State is the cluster state of one member as `cphaprob state` prints it.
// ACTIVE(!), ACTIVE(!F), ACTIVE(!P) and ACTIVE(!FP) are never plain ACTIVE:
// they give Base "ACTIVE" with Flags "!", "!F", "!P" or "!FP". The old
// mixed-case format (R80.10 and older: "Active", "Standby", "Ready", "Down",
// "Active Attention") is normalised: Base is upper case, "Active Attention"
// gives Flags "!", and Raw keeps the printed text.
//
// Source: Check Point R81 CLI Reference Guide and R80.40 ClusterXL
// Administration Guide, "Viewing Cluster State"; sk107042 (Multi-Version
// Cluster, READY and LOST members); a real R80.10 VSX capture (mixed case).
type State struct {
	// Base is one of StateActive, StateStandby, StateBackup, StateReady,
	// StateDown, StateLost, StateInit. A parser of this package never
	// returns another value; an unknown word is an error.
	Base string
	// Flags is the attention suffix of an ACTIVE member without its
	// parentheses: "" (none), "!" (a problem), "!F" or "!P" or "!FP" (the
	// documented variants of the problem flag).
	Flags string
	// Raw is the state as printed, e.g. "ACTIVE(!F)", "Standby",
	// "Active Attention".
	Raw string
}

// Attention reports whether the state carries an attention flag (ACTIVE(!),
// ACTIVE(!F), ACTIVE(!P), ACTIVE(!FP), old "Active Attention"): the member
// forwards traffic but reports a problem.
func (s State) Attention() bool { return s.Flags != "" }

// Known reports whether Base is one of the documented states.
func (s State) Known() bool {
	switch s.Base {
	case StateActive, StateStandby, StateBackup, StateReady, StateDown, StateLost, StateInit:
		return true
	}
	return false
}

// Healthy reports whether the state is a normal working state on its own:
// ACTIVE without attention flag, STANDBY or BACKUP. READY, DOWN, LOST, INIT,
// any attention flag and unknown states are not healthy. Whether the cluster
// as a whole is healthy depends on the mode (High Availability: exactly one
// ACTIVE member, the others STANDBY; Load Sharing: all ACTIVE) and on every
// member reporting the same picture.
func (s State) Healthy() bool {
	switch s.Base {
	case StateActive, StateStandby, StateBackup:
		return s.Flags == ""
	}
	return false
}

// String returns the canonical form: Base, or Base(Flags), e.g. "ACTIVE(!F)".
func (s State) String() string {
	if s.Flags == "" {
		return s.Base
	}
	return s.Base + "(" + s.Flags + ")"
}

// ModeKind classifies [ClusterState.Mode].
type ModeKind string

// Mode kinds. Source: Check Point R81 CLI Reference Guide, "Viewing Cluster
// State" (Cluster Mode field); Quantum Spark R81.10.X CLI Reference Guide,
// "cphaprob state".
const (
	// ModeUnknown: a mode text this package does not classify. A health
	// check must not guess what "healthy" means for it.
	ModeUnknown ModeKind = ""
	// ModeHighAvailability: "High Availability (Active Up)", "High
	// Availability (Primary Up)", optionally "... with IGMP Membership".
	// Healthy: exactly one ACTIVE member, the others STANDBY.
	ModeHighAvailability ModeKind = "High Availability"
	// ModeLoadSharing: "Load Sharing (Multicast)", "Load Sharing (Unicast)".
	// Healthy: all members ACTIVE.
	ModeLoadSharing ModeKind = "Load Sharing"
	// ModeVirtualSystemLoadSharing: VSX "Virtual System Load Sharing",
	// optionally "(Active Up)". Each Virtual System is active on one member.
	ModeVirtualSystemLoadSharing ModeKind = "Virtual System Load Sharing"
)

// Member is one row of the member table of `cphaprob state`.
type Member struct {
	// ID is the member ID (column "ID", or "Number" in R80.10 and older). It
	// is the member's priority, not the row index.
	ID int
	// Local is true for the row marked "(local)": the member the command ran
	// on. It is not always the first row.
	Local bool
	// Address is the Unique Address (usually the sync interface address);
	// the zero netip.Addr when the table has no Unique Address column.
	Address netip.Addr
	// Load is the Assigned Load in percent, 0..100; -1 when the table has no
	// Assigned Load column.
	Load int
	// State is the member's cluster state.
	State State
	// Name is the member's object name; "" when the table has no Name column
	// (Quantum Spark) or the row has no name.
	Name string
}

// StateChange is the "Last member state change event" block.
type StateChange struct {
	// Code is the event code, e.g. "CLUS-114904" (sk125152 lists them).
	Code string
	// From and To are the states of "State change: ACTIVE(!) -> ACTIVE";
	// zero values when that line is absent.
	From, To State
	// Reason is the "Reason for state change" text, verbatim.
	Reason string
	// Time is the "Event time" text as printed, e.g. "Fri May 15 10:50:59
	// 2026" (local time of the member, no zone); "" when absent (some builds
	// omit it).
	Time string
}

// Failover is the "Last cluster failover event" block, printed only after a
// failover happened.
type Failover struct {
	// Transition is the "Transition to new ACTIVE" text, e.g. "Member 1 ->
	// Member 2".
	Transition string
	// FromID and ToID are the member IDs of Transition; 0 when Transition is
	// not of the form "Member N -> Member M".
	FromID, ToID int
	// Reason is the "Reason" text, e.g. "Reboot".
	Reason string
	// Time is the "Event time" text as printed; "" when absent.
	Time string
}

// FailoverCount is the "Cluster failover count" block.
type FailoverCount struct {
	// Counter is the "Failover counter" value: failovers since Reset.
	Counter int
	// Reset is the "Time of counter reset" text, e.g. "Fri May 15 09:32:29
	// 2026 (reboot)"; "" when absent.
	Reset string
}

// ClusterState is what `cphaprob state` (Clish `show cluster state`) reports
// on one member.
type ClusterState struct {
	// Mode is the Cluster Mode text, verbatim, e.g. "High Availability
	// (Active Up) with IGMP Membership", "Load Sharing (Multicast)",
	// "Virtual System Load Sharing". See ModeKind.
	Mode string
	// SyncMode is the "Sync Mode" text (some platforms, e.g. Quantum Spark
	// "Optimized Sync"); "" when not printed.
	SyncMode string
	// Members are the rows of the member table, in printed order (at least
	// one, IDs unique, exactly one Local).
	Members []Member
	// PNOTEsShown reports that an "Active PNOTEs" line was printed.
	PNOTEsShown bool
	// PNOTEs are the Active PNOTEs (critical devices reporting a problem),
	// e.g. ["LPRB", "COREXL"]; empty for "Active PNOTEs: None".
	PNOTEs []string
	// LastStateChange is the "Last member state change event" block; nil
	// when not printed.
	LastStateChange *StateChange
	// LastFailover is the "Last cluster failover event" block; nil when not
	// printed (no failover since the counter reset).
	LastFailover *Failover
	// FailoverCount is the "Cluster failover count" block; nil when not
	// printed (old builds, `watch` excerpts).
	FailoverCount *FailoverCount
	// LocalSince is the date of the old-format footer "Local member is in
	// current state since <date>", verbatim; "" when absent.
	LocalSince string
	// VirtualDevices are the lines of the VSX Virtual System Load Sharing
	// table "Virtual Devices Status on each Cluster Member", uninterpreted
	// (no public capture of that table exists); nil when absent.
	VirtualDevices []string
}

// ModeKind classifies Mode by its leading words.
func (c ClusterState) ModeKind() ModeKind {
	m := normalize(c.Mode)
	switch {
	case strings.HasPrefix(m, "high availability"):
		return ModeHighAvailability
	case strings.HasPrefix(m, "load sharing"):
		return ModeLoadSharing
	case strings.HasPrefix(m, "virtual system load sharing"):
		return ModeVirtualSystemLoadSharing
	}
	return ModeUnknown
}

// Local returns the member marked "(local)", and false when there is none
// (only for a ClusterState not returned by ParseClusterState).
func (c ClusterState) Local() (Member, bool) {
	for _, m := range c.Members {
		if m.Local {
			return m, true
		}
	}
	return Member{}, false
}

// ByID returns the member with the given ID, and false when there is none.
func (c ClusterState) ByID(id int) (Member, bool) {
	for _, m := range c.Members {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

const whatState = "cphaprob state"

// Keys of `cphaprob state` lines, normalized.
const (
	keyMode         = "cluster mode"
	keySyncMode     = "sync mode"
	keyPNOTEs       = "active pnotes"
	keyStateChange  = "last member state change event"
	keyFailover     = "last cluster failover event"
	keyCount        = "cluster failover count"
	keyEventCode    = "event code"
	keyChange       = "state change"
	keyChangeReason = "reason for state change"
	keyEventTime    = "event time"
	keyTransition   = "transition to new active"
	keyReason       = "reason"
	keyCounter      = "failover counter"
	keyCounterReset = "time of counter reset"
)

// stateKeys are the field names of `cphaprob state` output (normalized).
func stateKeys(k string) bool {
	switch k {
	case keyMode, keySyncMode, keyPNOTEs, keyStateChange, keyFailover, keyCount,
		keyEventCode, keyChange, keyChangeReason, keyEventTime, keyTransition,
		keyReason, keyCounter, keyCounterReset:
		return true
	}
	return false
}

var (
	// stateWordRe is one state token: a word and an optional parenthesised
	// attention suffix, "ACTIVE", "ACTIVE(!FP)", "Standby".
	stateWordRe = regexp.MustCompile(`^([A-Za-z]+)(?:\((![A-Za-z]*)\))?$`)
	// loadRe is an Assigned Load cell, "100%".
	loadRe = regexp.MustCompile(`^(\d{1,3})%$`)
	// idRe is a member ID, optionally with the local marker glued to it.
	idRe = regexp.MustCompile(`^(\d{1,6})(\(local\))?$`)
	// transitionRe is "Member 1 -> Member 2".
	transitionRe = regexp.MustCompile(`(?i)^member\s+(\d{1,6})\s*->\s*member\s+(\d{1,6})$`)
	// counterRe is a failover counter value.
	counterRe = regexp.MustCompile(`^\d{1,9}$`)
	// localSinceRe is the old-format footer.
	localSinceRe = regexp.MustCompile(`(?i)^local\s+member\s+is\s+in\s+current\s+state\s+since\b\s*(.*)$`)
	// pnoteSepRe separates Active PNOTEs.
	pnoteSepRe = regexp.MustCompile(`[,\s]+`)
	// stateLikeRe spots a token that looks like a member state in a line that
	// is not a member row: such a line is an error, never skipped.
	stateLikeRe = regexp.MustCompile(`(?i)^(?:active|standby|backup|ready|down|lost|init)(?:\(.*\))?$|%$`)
)

// parseStateTokens reads a state from the start of toks: one state token, or
// the old two-word "Active Attention". It returns the state and the number of
// tokens used; ok is false for an unknown state word or suffix.
func parseStateTokens(toks []string) (st State, used int, reason string) {
	if len(toks) == 0 {
		return State{}, 0, "state missing"
	}
	m := stateWordRe.FindStringSubmatch(toks[0])
	if m == nil {
		return State{}, 0, "unknown state word " + quote(toks[0])
	}
	base := strings.ToUpper(m[1])
	flags := strings.ToUpper(m[2])
	st = State{Base: base, Flags: flags, Raw: toks[0]}
	if !st.Known() {
		return State{}, 0, "unknown state word " + quote(toks[0])
	}
	if m[0] != m[1] { // a parenthesised suffix was printed
		if base != StateActive {
			return State{}, 0, "attention suffix on a state other than ACTIVE: " + quote(toks[0])
		}
		switch flags {
		case "!", "!F", "!P", "!FP":
		default:
			return State{}, 0, "unknown attention suffix in " + quote(toks[0])
		}
	}
	if base == StateActive && flags == "" && len(toks) > 1 && strings.EqualFold(toks[1], "Attention") {
		return State{Base: StateActive, Flags: "!", Raw: toks[0] + " " + toks[1]}, 2, ""
	}
	return st, 1, ""
}

// parseStateText reads a whole text as one state ("ACTIVE(!)", "Active
// Attention").
func parseStateText(s string) (State, string) {
	toks := strings.Fields(s)
	st, used, reason := parseStateTokens(toks)
	if reason != "" {
		return State{}, reason
	}
	if used != len(toks) {
		return State{}, "unexpected text after the state in " + quote(s)
	}
	return st, ""
}

// Member table columns.
type column int

const (
	colAddress column = iota + 1
	colLoad
	colState
	colName
)

// parseHeader reads a member table header: "ID" or "Number", then any of
// "Unique Address", "Assigned Load", "State", "Name" (each once, State
// required). isHeader is false when the line is not a header at all.
func parseHeader(l line) (cols []column, isHeader bool, reason string) {
	fs := l.fields()
	if len(fs) < 2 || !(strings.EqualFold(fs[0], "ID") || strings.EqualFold(fs[0], "Number")) {
		return nil, false, ""
	}
	hasState := false
	for _, f := range fs[1:] {
		if strings.EqualFold(f, "State") {
			hasState = true
		}
	}
	if !hasState {
		return nil, false, ""
	}
	seen := map[column]bool{}
	for i := 1; i < len(fs); i++ {
		var c column
		switch w := strings.ToLower(fs[i]); {
		case w == "unique" && i+1 < len(fs) && strings.EqualFold(fs[i+1], "address"):
			c, i = colAddress, i+1
		case w == "assigned" && i+1 < len(fs) && strings.EqualFold(fs[i+1], "load"):
			c, i = colLoad, i+1
		case w == "state":
			c = colState
		case w == "name":
			c = colName
		default:
			return nil, true, "unrecognized member table column " + quote(fs[i])
		}
		if seen[c] {
			return nil, true, "column printed twice"
		}
		seen[c] = true
		cols = append(cols, c)
	}
	return cols, true, ""
}

// parseRow reads one member row by its white-space separated fields, in the
// order the header gave. reason is "" on success.
func parseRow(l line, cols []column) (Member, string) {
	fs := l.fields()
	m := Member{Load: -1}
	id := idRe.FindStringSubmatch(fs[0])
	if id == nil {
		return Member{}, "member ID " + quote(fs[0]) + " is not a number"
	}
	m.ID, _ = strconv.Atoi(id[1]) // at most 6 digits
	m.Local = id[2] != ""
	i := 1
	if !m.Local && i < len(fs) && fs[i] == "(local)" {
		m.Local = true
		i++
	}
	for ci, c := range cols {
		if i >= len(fs) {
			if c == colName && ci == len(cols)-1 {
				break // the Name cell may be empty
			}
			return Member{}, "row ends before all columns are read"
		}
		switch c {
		case colAddress:
			a, err := netip.ParseAddr(fs[i])
			if err != nil {
				return Member{}, "unique address " + quote(fs[i]) + " is not an IP address"
			}
			m.Address = a
			i++
		case colLoad:
			lm := loadRe.FindStringSubmatch(fs[i])
			if lm == nil {
				return Member{}, "assigned load " + quote(fs[i]) + " is not a percentage"
			}
			m.Load, _ = strconv.Atoi(lm[1])
			if m.Load > 100 {
				return Member{}, "assigned load " + quote(fs[i]) + " is above 100%"
			}
			i++
		case colState:
			st, used, reason := parseStateTokens(fs[i:])
			if reason != "" {
				return Member{}, reason
			}
			m.State = st
			i += used
		case colName:
			m.Name = fs[i]
			i++
		}
	}
	if i != len(fs) {
		return Member{}, "unexpected text " + quote(strings.Join(fs[i:], " ")) + " after the last column"
	}
	return m, ""
}

// ParseClusterState reads the output of Expert `cphaprob state` (also
// `cphaprob stat`) or Clish `show cluster state`:
//
//	[Expert@gw1:0]# cphaprob state           optional prompt/echo, `watch` header
//	Cluster Mode:   High Availability (Active Up) with IGMP Membership
//	Sync Mode:      Optimized Sync           optional
//	ID         Unique Address  Assigned Load   State          Name
//	1          10.90.1.146     0%              STANDBY        gw-b
//	2 (local)  10.90.1.145     100%            ACTIVE         gw-a
//	Active PNOTEs: None                      or a list, optional
//	Last member state change event:          optional block: Event Code, State change
//	                                         (A -> B), Reason for state change, Event time
//	Last cluster failover event:             optional block: Transition to new ACTIVE
//	                                         (Member N -> Member M), Reason, Event time
//	Cluster failover count:                  optional block: Failover counter,
//	                                         Time of counter reset
//	Local member is in current state since <date>    old format, optional
//
// The member table header names its columns: "ID" (R80.20 and later) or
// "Number" (R80.10), then any of Unique Address, Assigned Load, State and
// Name (Quantum Spark prints no Name column). Rows are read by their
// white-space separated fields in that order, never by character offsets;
// the "(local)" marker follows the ID on whichever row it is. States are
// those of [State]; the older mixed-case words are normalised.
//
// Blank lines, prompts, the command echo, a `watch` header, pager artefacts
// ("--More--") and syslog lines are skipped anywhere (see the package doc);
// other unknown lines are skipped, with two exceptions that fail instead:
// inside the member table, a line starting with a digit must be a valid row
// and any other line carrying a state word, a percentage, an IP address or
// "(local)" is an error; outside it, a line starting with a digit that
// carries a state word or a percentage (a member row out of place) is an
// error. The VSX Virtual System Load Sharing table ("Virtual Devices Status
// on each Cluster Member") is kept uninterpreted in VirtualDevices.
//
// It fails closed with a *ParseError (errors.Is ErrUnrecognized) for: no
// "Cluster Mode" line or an empty one; no member table or a table without
// rows; a row that does not parse (ID not a number, address not an IP
// address, load not a percentage 0..100, missing or extra fields); an
// unknown state word or attention suffix, in the table or in a "State
// change" line; two members with the same ID; no member or more than one
// member marked "(local)"; a second Cluster Mode, Sync Mode, member table,
// Active PNOTEs line or event block (two outputs run together); an empty
// "Active PNOTEs" value; a "Failover counter" that is not a number or a
// "Cluster failover count" block without it.
//
// Source: Check Point R81 CLI Reference Guide and R80.40 ClusterXL
// Administration Guide, "Viewing Cluster State"; Quantum Spark R81.10.X CLI
// Reference Guide, "cphaprob state"; real captures of R80.10 VSX, R8x and
// R82 clusters.
func ParseClusterState(output string) (ClusterState, error) {
	f := failer{what: whatState}
	var (
		cs         ClusterState
		modeSeen   bool
		syncSeen   bool
		cols       []column
		tableLine  line
		tableSeen  bool
		ids        = map[int]bool{}
		locals     int
		section    string // "table", keyStateChange, keyFailover, keyCount, "vsls", ""
		counterSet bool
	)
	for _, l := range content(output, stateKeys, "cphaprob state", "cphaprob stat", "show cluster state") {
		t := l.text
		key, val, hasKey := splitKey(t)
		if hasKey {
			switch key {
			case keyMode:
				if modeSeen {
					return ClusterState{}, f.at(l, "second Cluster Mode line")
				}
				if val == "" {
					return ClusterState{}, f.at(l, "empty Cluster Mode")
				}
				modeSeen, cs.Mode, section = true, val, ""
				continue
			case keySyncMode:
				if syncSeen {
					return ClusterState{}, f.at(l, "second Sync Mode line")
				}
				syncSeen, cs.SyncMode, section = true, val, ""
				continue
			case keyPNOTEs:
				if cs.PNOTEsShown {
					return ClusterState{}, f.at(l, "second Active PNOTEs line")
				}
				if val == "" {
					return ClusterState{}, f.at(l, "empty Active PNOTEs value")
				}
				cs.PNOTEsShown, section = true, ""
				if !strings.EqualFold(val, "none") {
					for _, p := range pnoteSepRe.Split(val, -1) {
						if p != "" {
							cs.PNOTEs = append(cs.PNOTEs, p)
						}
					}
				}
				continue
			case keyStateChange, keyFailover, keyCount:
				if val != "" {
					break // not a block header; read below
				}
				switch {
				case key == keyStateChange && cs.LastStateChange == nil:
					cs.LastStateChange = &StateChange{}
				case key == keyFailover && cs.LastFailover == nil:
					cs.LastFailover = &Failover{}
				case key == keyCount && cs.FailoverCount == nil:
					cs.FailoverCount = &FailoverCount{}
				default:
					return ClusterState{}, f.at(l, "second %s block", quote(t))
				}
				section = key
				continue
			}
		}
		if m := localSinceRe.FindStringSubmatch(t); m != nil {
			if cs.LocalSince != "" {
				return ClusterState{}, f.at(l, "second \"Local member is in current state since\" line")
			}
			if m[1] == "" {
				return ClusterState{}, f.at(l, "no date after \"since\"")
			}
			cs.LocalSince, section = m[1], ""
			continue
		}
		if strings.HasPrefix(normalize(t), "virtual devices status on each cluster member") {
			section = "vsls"
			continue
		}
		if c, isHeader, reason := parseHeader(l); isHeader && section != "vsls" {
			if reason != "" {
				return ClusterState{}, f.at(l, "%s", reason)
			}
			if tableSeen {
				return ClusterState{}, f.at(l, "second member table")
			}
			cols, tableSeen, tableLine, section = c, true, l, "table"
			continue
		}
		if section != "table" && section != "vsls" && t[0] >= '0' && t[0] <= '9' {
			for _, fld := range l.fields()[1:] {
				if stateLikeRe.MatchString(fld) {
					return ClusterState{}, f.at(l, "member row outside the member table")
				}
			}
		}
		switch section {
		case "table":
			if t[0] >= '0' && t[0] <= '9' {
				m, reason := parseRow(l, cols)
				if reason != "" {
					return ClusterState{}, f.at(l, "member row does not parse: %s", reason)
				}
				if ids[m.ID] {
					return ClusterState{}, f.at(l, "member ID %d printed twice", m.ID)
				}
				ids[m.ID] = true
				if m.Local {
					locals++
				}
				cs.Members = append(cs.Members, m)
				continue
			}
			for _, fld := range l.fields() {
				if stateLikeRe.MatchString(fld) || fld == "(local)" {
					return ClusterState{}, f.at(l, "line in the member table is not a member row")
				}
				if _, err := netip.ParseAddr(fld); err == nil {
					return ClusterState{}, f.at(l, "line in the member table is not a member row")
				}
			}
		case keyStateChange:
			if !hasKey {
				continue
			}
			ev := cs.LastStateChange
			switch key {
			case keyEventCode:
				ev.Code = val
			case keyChange:
				parts := strings.Split(val, "->")
				if len(parts) != 2 {
					return ClusterState{}, f.at(l, "state change is not \"<state> -> <state>\"")
				}
				from, r1 := parseStateText(parts[0])
				to, r2 := parseStateText(parts[1])
				if r1 != "" || r2 != "" {
					return ClusterState{}, f.at(l, "state change: %s", r1+r2)
				}
				ev.From, ev.To = from, to
			case keyChangeReason:
				ev.Reason = val
			case keyEventTime:
				ev.Time = val
			}
		case keyFailover:
			if !hasKey {
				continue
			}
			ev := cs.LastFailover
			switch key {
			case keyTransition:
				ev.Transition = val
				if m := transitionRe.FindStringSubmatch(val); m != nil {
					ev.FromID, _ = strconv.Atoi(m[1])
					ev.ToID, _ = strconv.Atoi(m[2])
				}
			case keyReason:
				ev.Reason = val
			case keyEventTime:
				ev.Time = val
			}
		case keyCount:
			if !hasKey {
				continue
			}
			switch key {
			case keyCounter:
				if !counterRe.MatchString(val) {
					return ClusterState{}, f.at(l, "failover counter %s is not a number", quote(val))
				}
				if counterSet {
					return ClusterState{}, f.at(l, "second failover counter")
				}
				cs.FailoverCount.Counter, _ = strconv.Atoi(val)
				counterSet = true
			case keyCounterReset:
				cs.FailoverCount.Reset = val
			}
		case "vsls":
			cs.VirtualDevices = append(cs.VirtualDevices, t)
		}
	}
	switch {
	case !modeSeen:
		return ClusterState{}, f.whole("no \"Cluster Mode:\" line")
	case !tableSeen:
		return ClusterState{}, f.whole("no member table")
	case len(cs.Members) == 0:
		return ClusterState{}, f.at(tableLine, "member table has no rows")
	case locals == 0:
		return ClusterState{}, f.at(tableLine, "no member is marked (local)")
	case locals > 1:
		return ClusterState{}, f.at(tableLine, "%d members are marked (local)", locals)
	case cs.FailoverCount != nil && !counterSet:
		return ClusterState{}, f.whole("\"Cluster failover count\" block without a \"Failover counter\" line")
	}
	return cs, nil
}
