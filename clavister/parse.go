package clavister

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrUnrecognized is the category of every parse failure of this package:
// errors.Is(err, ErrUnrecognized) holds for every *ParseError. Fail closed: an
// output that cannot be read is never taken for a healthy state.
var ErrUnrecognized = errors.New("clavister: unrecognized command output")

// maxErrorOutput is how much of the offending output a *ParseError keeps.
const maxErrorOutput = 512

// ParseError says which command's output could not be read and why.
// errors.Is(err, ErrUnrecognized) is true for every *ParseError; errors.As
// gives access to the fields. When the failure comes from a lower layer (a
// malformed version inside `about` output), Unwrap returns that error too.
type ParseError struct {
	// Command is the CLI command whose output was parsed, e.g. "ha".
	Command string
	// Reason says what is wrong, with the 1-based line number where one
	// applies, e.g. `line 3: unknown state word "STANDBY"`.
	Reason string
	// Output is the output that was parsed, cut to its first 512 bytes (on
	// a UTF-8 boundary). Command outputs read here carry no secrets.
	Output string

	err error // optional cause, returned by Unwrap
}

// Error returns "clavister: cannot read <command> output: <reason>". The
// output itself is not repeated; it is in the Output field.
func (e *ParseError) Error() string {
	return fmt.Sprintf("clavister: cannot read %q output: %s", e.Command, e.Reason)
}

// Is reports whether target is ErrUnrecognized.
func (e *ParseError) Is(target error) bool { return target == ErrUnrecognized }

// Unwrap returns the underlying cause, if any (e.g. a *versionpath.ParseError).
func (e *ParseError) Unwrap() error { return e.err }

// newParseError builds a *ParseError, cutting output to maxErrorOutput bytes.
func newParseError(command, output, reason string, cause error) *ParseError {
	return &ParseError{Command: command, Reason: reason, Output: cut(output, maxErrorOutput), err: cause}
}

// cut returns at most n bytes of s without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// quote renders a line for a Reason: quoted and at most 80 bytes.
func quote(s string) string {
	if len(s) > 80 {
		return strconv.Quote(cut(s, 80)) + "..."
	}
	return strconv.Quote(s)
}

// HAStatus is what `ha` says about the unit it runs on (cOS Core
// Administration Guide, High Availability chapter).
// The role is fixed by configuration (master or slave); the state
// (active/inactive) changes at runtime. A unit is healthy on its own when
// Configured, PeerAlive, and SyncPercent is 100 where SyncKnown.
type HAStatus struct {
	// Configured is false for a standalone unit ("HA not configured"); all
	// other fields are then zero except StateText.
	Configured bool
	// Role is "master" or "slave" (lower case), from "This device is a HA
	// MASTER|SLAVE".
	Role string
	// Active reports that the unit is currently ACTIVE (forwards traffic).
	// The state word is matched whole: "INACTIVE"/"Inactive" is not active.
	Active bool
	// StateText is the raw state line, e.g. "This device is currently
	// ACTIVE (will forward traffic)"; for a standalone unit, the standalone
	// line.
	StateText string
	// TimeInState is how long the unit has been in its current state, from
	// "This device has been active: N sec" (cOS Core 14.00 wording) or from
	// the "(for 48s)" / "(for 1m 12s)" suffix of the state line (newer
	// wording). Meaningful only when TimeKnown. A value that went down
	// between two polls means the state changed in between (a failover).
	TimeInState time.Duration
	// TimeKnown reports whether a time in state was printed.
	TimeKnown bool
	// PeerAlive is true ONLY for an explicit "HA cluster peer is ALIVE".
	// Any other peer wording, or no peer line, is false (no public page
	// shows the wording printed when the peer is down).
	PeerAlive bool
	// SyncKnown reports whether an "HA object sync: N%" line was printed
	// (newer builds only); a missing line is unknown, not 0.
	SyncKnown bool
	// SyncPercent is the HA object sync progress 0..100, meaningful only
	// when SyncKnown.
	SyncPercent int
}

// Line shapes of `ha` output. All are matched case-insensitively on lines
// trimmed of surrounding white space (and of "\r").
var (
	// promptRe is a CLI prompt, optionally followed by the command typed:
	// "Device:/> ha", "gw-world:/>", "Device:/RoutingTable/main> ".
	// Same idea as driver/platforms/clavister_cos_core.yaml.
	promptRe = regexp.MustCompile(`^[\w.\-]{1,63}:/[^\r\n>]*>\s*(.*)$`)
	// errorLineRe marks a rejected command (the error strings of the CLI
	// are not documented: these are the plausible ones).
	errorLineRe = regexp.MustCompile(`(?i)^(?:error|unknown command|invalid|failed|usage:)\b`)

	haStandaloneRe = regexp.MustCompile(`(?i)^(?:this (?:device|unit) is )?an? standalone (?:system|device|unit)\b|\bHA not configured\b`)
	haRoleRe       = regexp.MustCompile(`(?i)^this (?:device|unit) is an? HA\s+(\S+)$`)
	haStateRe      = regexp.MustCompile(`(?i)^(?:this (?:device|unit) is\s+)?currently\s+(\S+)\s*(.*)$`)
	haBareStateRe  = regexp.MustCompile(`(?i)^(active|inactive)\s*(\(.*)$`)
	haTimeRe       = regexp.MustCompile(`(?i)^this (?:device|unit) has been\s+(\S+?)\s*:\s*(.*)$`)
	haPeerRe       = regexp.MustCompile(`(?i)^(?:HA\s+)?(?:cluster\s+)?peer\s+is\s+(.*?)\.?$`)
	haSyncRe       = regexp.MustCompile(`(?i)^(?:HA\s+)?object\s+sync\s*:\s*(.*)$`)
	haPercentRe    = regexp.MustCompile(`^(\d{1,3})\s*%$`)
	haForwardRe    = regexp.MustCompile(`(?i)^\(will (not )?forward traffic\)$`)
	haForRe        = regexp.MustCompile(`(?i)^\(for\s+(.+?)\s*\)$`)
	// haThisDeviceRe and haKeywordRe catch lines that look like HA status
	// but matched no known shape: they are errors, never skipped.
	haThisDeviceRe = regexp.MustCompile(`(?i)^this (?:device|unit)\b`)
	haKeywordRe    = regexp.MustCompile(`(?i)\b(?:master|slave|active|inactive|alive|standalone|sync\w*|peer|heartbeat\w*|fail\w*|lost|down|dead|not)\b`)
)

// ParseHA reads the output of the cOS Core CLI command `ha`. The shapes
// come from the cOS Core 14.00 Administration Guide's example and from OEM
// manuals (D-Link NetDefendOS, Radisys SEG-100), copies of which are in
// this package's testdata/ha. Accepted shapes:
//
//	Device:/> ha                                     (optional; any prompt name and
//	                                                  path; or the prompt alone and
//	                                                  "ha" on the next line)
//	This device is a HA SLAVE                        role: "a"/"an", any case
//	This device is currently ACTIVE (will forward traffic)
//	                                                 or "currently INACTIVE (will not
//	                                                  forward traffic)", "currently
//	                                                  Active (for 48s)", "Inactive
//	                                                  (for 1m 12s)", no suffix
//	This device has been active: 430697 sec          optional
//	HA cluster peer is ALIVE                         anything but ALIVE = not alive
//	HA object sync: 100%                             optional (newer builds), 0..100
//
// or the standalone one-liner "This device is a standalone system (HA not
// configured)". Durations are "N sec" or "[Nd ][Nh ][Nm ][Ns]" (day and hour
// units inferred from the minutes-and-seconds form). Blank lines and prompt lines are skipped
// anywhere. Other unknown lines (banners) are skipped only BEFORE the first
// status line, and only when they do not look like HA status (they start
// with "This device" or mention master, slave, active, inactive, alive,
// standalone, sync…, peer, heartbeat…, fail…, lost, down, dead or not).
// After the first status line every line must be one of the shapes above.
//
// ParseHA fails closed with a *ParseError (errors.Is ErrUnrecognized) for:
// empty output; an "Error:"-style line; any unrecognised line after the
// first status line, or one that looks like HA status anywhere; a prompt followed by a command other
// than ha; a missing role or state line on an HA unit; an unknown role or
// state word or state suffix; a sync figure outside 0..100; any second role,
// state, time, peer, sync or standalone line; contradictions (standalone plus
// HA lines, "ACTIVE (will not forward traffic)", a time line saying inactive
// for an active state, two different times in state).
func ParseHA(output string) (HAStatus, error) {
	fail := func(format string, args ...any) (HAStatus, error) {
		return HAStatus{}, newParseError("ha", output, fmt.Sprintf(format, args...), nil)
	}
	if strings.TrimSpace(output) == "" {
		return fail("empty output")
	}
	var (
		st                       HAStatus
		standalone               string // the standalone line, if any
		haLine                   int    // first HA (non-standalone) line
		roleSeen, stateSeen      bool
		timeSeen, peerSeen       bool
		timeWord                 string // "active"/"inactive" from the time line
		timeFromLine, timeFromSt time.Duration
		timeInState              bool // the state line carried "(for …)"
	)
	for i, raw := range strings.Split(output, "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || strings.EqualFold(line, "ha") {
			continue // blank, or the command on its own line (docs)
		}
		if m := promptRe.FindStringSubmatch(line); m != nil {
			if cmd := strings.TrimSpace(m[1]); cmd != "" && !strings.EqualFold(cmd, "ha") {
				return fail("line %d: prompt with command %s: not the output of ha", n, quote(cmd))
			}
			continue
		}
		if errorLineRe.MatchString(line) {
			return fail("line %d: the device reported an error: %s", n, quote(line))
		}
		if m := haStandaloneRe.FindString(line); m != "" {
			if standalone != "" {
				return fail("line %d: second standalone line %s", n, quote(line))
			}
			standalone = line
			continue
		}
		switch {
		case haRoleRe.MatchString(line):
			if roleSeen {
				return fail("line %d: second role line %s", n, quote(line))
			}
			roleSeen = true
			word := haRoleRe.FindStringSubmatch(line)[1]
			switch {
			case strings.EqualFold(word, "master"):
				st.Role = "master"
			case strings.EqualFold(word, "slave"):
				st.Role = "slave"
			default:
				return fail("line %d: unknown role word %s", n, quote(word))
			}
		case haStateRe.MatchString(line) || haBareStateRe.MatchString(line):
			if stateSeen {
				return fail("line %d: second state line %s", n, quote(line))
			}
			stateSeen = true
			m := haStateRe.FindStringSubmatch(line)
			if m == nil {
				m = haBareStateRe.FindStringSubmatch(line)
			}
			word, suffix := m[1], strings.TrimSpace(m[2])
			switch {
			case strings.EqualFold(word, "active"):
				st.Active = true
			case strings.EqualFold(word, "inactive"):
				st.Active = false
			default:
				return fail("line %d: unknown state word %s", n, quote(word))
			}
			st.StateText = line
			switch {
			case suffix == "":
			case haForwardRe.MatchString(suffix):
				not := haForwardRe.FindStringSubmatch(suffix)[1] != ""
				if not == st.Active {
					return fail("line %d: contradictory state line %s", n, quote(line))
				}
			case haForRe.MatchString(suffix):
				d, err := parseDuration(haForRe.FindStringSubmatch(suffix)[1])
				if err != nil {
					return fail("line %d: state line %s: %v", n, quote(line), err)
				}
				timeFromSt, timeInState = d, true
			default:
				return fail("line %d: unknown state suffix %s", n, quote(suffix))
			}
		case haTimeRe.MatchString(line):
			if timeSeen {
				return fail("line %d: second time-in-state line %s", n, quote(line))
			}
			timeSeen = true
			m := haTimeRe.FindStringSubmatch(line)
			timeWord = strings.ToLower(m[1])
			if timeWord != "active" && timeWord != "inactive" {
				return fail("line %d: unknown state word %s in time line", n, quote(m[1]))
			}
			d, err := parseDuration(m[2])
			if err != nil {
				return fail("line %d: time line %s: %v", n, quote(line), err)
			}
			timeFromLine = d
		case haPeerRe.MatchString(line):
			if peerSeen {
				return fail("line %d: second peer line %s", n, quote(line))
			}
			peerSeen = true
			// Only the explicit word counts (fail closed).
			st.PeerAlive = strings.EqualFold(strings.TrimSpace(haPeerRe.FindStringSubmatch(line)[1]), "ALIVE")
		case haSyncRe.MatchString(line):
			if st.SyncKnown {
				return fail("line %d: second sync line %s", n, quote(line))
			}
			v := strings.TrimSpace(haSyncRe.FindStringSubmatch(line)[1])
			m := haPercentRe.FindStringSubmatch(v)
			if m == nil {
				return fail("line %d: sync figure %s is not a percentage", n, quote(v))
			}
			p, _ := strconv.Atoi(m[1]) // at most 3 digits
			if p > 100 {
				return fail("line %d: sync figure %d%% is above 100%%", n, p)
			}
			st.SyncKnown, st.SyncPercent = true, p
		case haThisDeviceRe.MatchString(line) || haKeywordRe.MatchString(line):
			return fail("line %d: unrecognized HA status line %s", n, quote(line))
		case haLine != 0 || standalone != "":
			// Fail closed: once the status has begun, every line must be understood (a
			// progress, sync or failover line in an unknown wording could mean unhealthy).
			return fail("line %d: unrecognized line %s after the HA status", n, quote(line))
		default:
			continue // a banner before the status
		}
		if haLine == 0 {
			haLine = n
		}
	}

	switch {
	case standalone != "" && haLine != 0:
		return fail("contradictory output: standalone line and HA status line %d", haLine)
	case standalone != "":
		return HAStatus{StateText: standalone}, nil
	case haLine == 0:
		return fail("no HA status line found")
	case !roleSeen:
		return fail("role line (This device is a HA MASTER|SLAVE) missing")
	case !stateSeen:
		return fail("state line (This device is currently ACTIVE|INACTIVE) missing")
	}
	st.Configured = true
	if timeSeen {
		if (timeWord == "active") != st.Active {
			return fail("contradictory output: state line %s but time line says %s", quote(st.StateText), timeWord)
		}
		if timeInState && timeFromSt != timeFromLine {
			return fail("contradictory output: two different times in state (%s, %s)", timeFromSt, timeFromLine)
		}
		st.TimeInState, st.TimeKnown = timeFromLine, true
	} else if timeInState {
		st.TimeInState, st.TimeKnown = timeFromSt, true
	}
	return st, nil
}

var (
	secondsRe  = regexp.MustCompile(`(?i)^(\d{1,10})\s*(?:s|secs?|seconds?)$`)
	compoundRe = regexp.MustCompile(`(?i)^(?:(\d{1,6})d\s*)?(?:(\d{1,8})h\s*)?(?:(\d{1,9})m\s*)?(?:(\d{1,10})s)?$`)
)

// maxSeconds is the largest whole number of seconds a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// parseDuration reads a time in state: "430697 sec" (14.00 wording), "48s",
// "1m 12s", "2d 3h 4m 5s" (newer wording; d and h are inferred units).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var secs int64
	if m := secondsRe.FindStringSubmatch(s); m != nil {
		secs, _ = strconv.ParseInt(m[1], 10, 64)
	} else if m := compoundRe.FindStringSubmatch(s); m != nil && s != "" {
		for i, unit := range []int64{86400, 3600, 60, 1} {
			if m[i+1] != "" {
				v, _ := strconv.ParseInt(m[i+1], 10, 64) // at most 10 digits
				secs += v * unit
			}
		}
	} else {
		return 0, fmt.Errorf("duration %s is neither \"N sec\" nor \"[Nd ][Nh ][Nm ][Ns]\"", quote(s))
	}
	if secs > maxSeconds {
		return 0, fmt.Errorf("duration %s is too long", quote(s))
	}
	return time.Duration(secs) * time.Second, nil
}

// aboutRe finds the version in `about`-style output. Same as the SNMP
// sysDescr shapes "Clavister cOS Core 10.21.02.01-25325" and "Clavister
// CorePlus 9.30.08.21-22257 TP" (the regular expression Observium uses); the
// version must not run on into more version characters.
var aboutRe = regexp.MustCompile(`(?i)(?:cOS Core|CorePlus)\s+(\d+\.\d+\.\d+(?:\.\d+)?(?:-\d+)?)(?: (TP))?(?:[^\w.\-]|$)`)

// ParseAbout reads the firmware version from the output of the CLI command
// `about`, or from any text carrying "cOS Core <version>" or "CorePlus
// <version>" (an SNMP sysDescr, a banner).
//
// UNVERIFIED: the real `about` output of cOS Core is not public; this
// parser assumes it contains the same "cOS Core <version>" string as SNMP
// sysDescr. Prefer REST GET /api/about or SNMP where available and capture
// `about` on a lab unit.
//
// It returns a *ParseError (errors.Is ErrUnrecognized) when the output has
// an "Error:"-style line, when no version is found, when the output names
// two different versions, or when the version found is malformed (the
// *versionpath.ParseError is then wrapped too).
func ParseAbout(output string) (Version, error) {
	for i, raw := range strings.Split(output, "\n") {
		if line := strings.TrimSpace(raw); errorLineRe.MatchString(line) {
			return Version{}, newParseError("about", output,
				fmt.Sprintf("line %d: the device reported an error: %s", i+1, quote(line)), nil)
		}
	}
	matches := aboutRe.FindAllStringSubmatch(output, -1)
	if len(matches) == 0 {
		return Version{}, newParseError("about", output, `no "cOS Core <version>" or "CorePlus <version>" found`, nil)
	}
	var found Version
	for i, m := range matches {
		text := m[1]
		if m[2] != "" {
			text += " TP"
		}
		v, err := ParseVersion(text)
		if err != nil {
			return Version{}, newParseError("about", output, err.Error(), err)
		}
		if i > 0 && v != found {
			return Version{}, newParseError("about", output,
				fmt.Sprintf("two different versions %q and %q", found, v), nil)
		}
		found = v
	}
	return found, nil
}

// Stats is what `stats` reports that hitless uses (the shape of the
// capture in Clavister KB 309987444; a transcription is in this package's
// testdata/stats).
type Stats struct {
	// Uptime is the time since the unit last started, from
	// "Uptime : 0 days, 01:00:21". A smaller value than at the previous poll
	// means the unit restarted.
	Uptime time.Duration
	// LastEvent is the raw "Last Event" text, e.g. "2019-08-12 14:01:18:
	// Restart ..." or "...: Firmware upgrade request from WebUI by admin
	// (192.168.1.11)." (REST example); "" when the line is absent.
	LastEvent string
	// ConnectionsActive and ConnectionsMax come from
	// "Connections : 8 out of 256000".
	ConnectionsActive, ConnectionsMax int
}

var (
	statsLineRe   = regexp.MustCompile(`^([A-Za-z][A-Za-z ]*?)\s*:\s*(.*)$`)
	uptimeDaysRe  = regexp.MustCompile(`(?i)^(\d{1,6})\s+days?,\s*(\d{1,2}):(\d{2}):(\d{2})$`)
	uptimeClockRe = regexp.MustCompile(`^(\d{1,2}):(\d{2}):(\d{2})$`)
	connectionsRe = regexp.MustCompile(`(?i)^(\d{1,12})\s+out of\s+(\d{1,12})$`)
)

// ParseStats reads the output of the CLI command `stats`:
//
//	skrivbordet:/> stats                       optional prompt line
//	Uptime             : 0 days, 01:00:21      required ("N day(s), hh:mm:ss" or "hh:mm:ss")
//	Last Event         : 2019-08-12 14:01:18: Restart...   optional, kept verbatim
//	CPU Load           : 0%, 0%                other "Key : value" lines are skipped
//	Connections        : 8 out of 256000       required
//
// Keys match case-insensitively. It returns a *ParseError (errors.Is
// ErrUnrecognized) for empty output, an "Error:"-style line, a missing
// Uptime or Connections line, a malformed value of either, or a key printed
// twice.
func ParseStats(output string) (Stats, error) {
	fail := func(format string, args ...any) (Stats, error) {
		return Stats{}, newParseError("stats", output, fmt.Sprintf(format, args...), nil)
	}
	if strings.TrimSpace(output) == "" {
		return fail("empty output")
	}
	var (
		st            Stats
		uptime, conns bool
		seen          = map[string]bool{}
	)
	for i, raw := range strings.Split(output, "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || strings.EqualFold(line, "stats") {
			continue
		}
		if m := promptRe.FindStringSubmatch(line); m != nil {
			if cmd := strings.TrimSpace(m[1]); cmd != "" && !strings.EqualFold(cmd, "stats") {
				return fail("line %d: prompt with command %s: not the output of stats", n, quote(cmd))
			}
			continue
		}
		if errorLineRe.MatchString(line) {
			return fail("line %d: the device reported an error: %s", n, quote(line))
		}
		m := statsLineRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key := strings.ToLower(strings.Join(strings.Fields(m[1]), " "))
		val := m[2]
		if seen[key] {
			return fail("line %d: %s printed twice", n, quote(m[1]))
		}
		seen[key] = true
		switch key {
		case "uptime":
			d, err := parseUptime(val)
			if err != nil {
				return fail("line %d: %v", n, err)
			}
			st.Uptime, uptime = d, true
		case "last event":
			st.LastEvent = val
		case "connections":
			c := connectionsRe.FindStringSubmatch(val)
			if c == nil {
				return fail("line %d: connections %s is not \"A out of B\"", n, quote(val))
			}
			a, err1 := strconv.Atoi(c[1])
			b, err2 := strconv.Atoi(c[2])
			if err1 != nil || err2 != nil {
				return fail("line %d: connections %s out of range", n, quote(val))
			}
			st.ConnectionsActive, st.ConnectionsMax, conns = a, b, true
		}
	}
	switch {
	case !uptime:
		return fail("Uptime line missing")
	case !conns:
		return fail("Connections line missing")
	}
	return st, nil
}

// parseUptime reads "0 days, 01:00:21", "1 day, 23:59:59" or "01:00:21".
func parseUptime(s string) (time.Duration, error) {
	var days, h, m, sec int64
	if x := uptimeDaysRe.FindStringSubmatch(s); x != nil {
		days, _ = strconv.ParseInt(x[1], 10, 64)
		h, _ = strconv.ParseInt(x[2], 10, 64)
		m, _ = strconv.ParseInt(x[3], 10, 64)
		sec, _ = strconv.ParseInt(x[4], 10, 64)
		if h > 23 {
			return 0, fmt.Errorf("uptime %s: hour %d above 23", quote(s), h)
		}
	} else if x := uptimeClockRe.FindStringSubmatch(s); x != nil {
		h, _ = strconv.ParseInt(x[1], 10, 64)
		m, _ = strconv.ParseInt(x[2], 10, 64)
		sec, _ = strconv.ParseInt(x[3], 10, 64)
	} else {
		return 0, fmt.Errorf("uptime %s is not \"N days, hh:mm:ss\"", quote(s))
	}
	if m > 59 || sec > 59 {
		return 0, fmt.Errorf("uptime %s: minutes or seconds above 59", quote(s))
	}
	total := days*86400 + h*3600 + m*60 + sec
	return time.Duration(total) * time.Second, nil
}
