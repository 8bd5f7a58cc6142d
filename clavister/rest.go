package clavister

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Commands named in the *ParseError of the REST parsers.
const (
	restHACommand    = "GET /api/oper/ha"
	restAboutCommand = "GET /api/about"
	restStatsCommand = "GET /api/stats"
)

// maxRESTBody is the largest REST body read (1 MiB). The documented replies
// are well under 1 KiB; a larger body is refused, not read.
const maxRESTBody = 1 << 20

// jsonObject is one JSON object read by name, with its dotted path for
// error texts ("" for the body, "status.peer" for a nested one).
type jsonObject struct {
	path   string
	fields map[string]json.RawMessage
}

// decodeRESTBody checks that body is one JSON object of at most maxRESTBody
// bytes and returns its members. The error is the Reason of a *ParseError
// (and its cause, for a JSON syntax error).
func decodeRESTBody(body []byte) (jsonObject, string, error) {
	if len(body) > maxRESTBody {
		return jsonObject{}, fmt.Sprintf("body of %d bytes is larger than %d bytes", len(body), maxRESTBody), nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return jsonObject{}, "empty body", nil
	}
	var raw json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return jsonObject{}, "not valid JSON: " + err.Error(), err
	}
	obj, err := readObject("", raw)
	if err != nil {
		return jsonObject{}, err.Error(), nil
	}
	return obj, "", nil
}

// readObject reads raw (a syntactically valid JSON value) as an object,
// refusing a member name given twice.
func readObject(path string, raw json.RawMessage) (jsonObject, error) {
	what := "the body"
	if path != "" {
		what = "field " + path
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return jsonObject{}, fmt.Errorf("%s: %v", what, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return jsonObject{}, fmt.Errorf("%s is %s, want a JSON object", what, describeJSON(raw))
	}
	obj := jsonObject{path: path, fields: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonObject{}, fmt.Errorf("%s: %v", what, err)
		}
		name, _ := tok.(string) // a member name is always a string
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return jsonObject{}, fmt.Errorf("%s: %v", what, err)
		}
		if _, dup := obj.fields[name]; dup {
			return jsonObject{}, fmt.Errorf("field %s given twice", obj.name(name))
		}
		obj.fields[name] = bytes.TrimSpace(v)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return jsonObject{}, fmt.Errorf("%s: %v", what, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return jsonObject{}, fmt.Errorf("%s: data after the object", what)
	}
	return obj, nil
}

// name returns the dotted path of member f, quoted: `"status.time"`.
func (o jsonObject) name(f string) string {
	if o.path == "" {
		return fmt.Sprintf("%q", f)
	}
	return fmt.Sprintf("%q", o.path+"."+f)
}

func (o jsonObject) has(f string) bool {
	_, ok := o.fields[f]
	return ok
}

// get returns member f, refusing a missing member and null.
func (o jsonObject) get(f string) (json.RawMessage, error) {
	v, ok := o.fields[f]
	switch {
	case !ok:
		return nil, fmt.Errorf("required field %s missing", o.name(f))
	case string(v) == "null":
		return nil, fmt.Errorf("field %s is null", o.name(f))
	}
	return v, nil
}

func (o jsonObject) object(f string) (jsonObject, error) {
	v, err := o.get(f)
	if err != nil {
		return jsonObject{}, err
	}
	p := f
	if o.path != "" {
		p = o.path + "." + f
	}
	return readObject(p, v)
}

func (o jsonObject) boolean(f string) (bool, error) {
	v, err := o.get(f)
	if err != nil {
		return false, err
	}
	switch string(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("field %s is %s, want true or false", o.name(f), describeJSON(v))
}

func (o jsonObject) str(f string) (string, error) {
	v, err := o.get(f)
	if err != nil {
		return "", err
	}
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", fmt.Errorf("field %s is %s, want a string", o.name(f), describeJSON(v))
	}
	return s, nil
}

// count returns member f as a non-negative integer that fits an int.
func (o jsonObject) count(f string) (int, error) {
	v, err := o.get(f)
	if err != nil {
		return 0, err
	}
	return countValue(o.name(f), v)
}

func countValue(name string, v json.RawMessage) (int, error) {
	var n int64
	if len(v) == 0 || v[0] < '0' || v[0] > '9' || json.Unmarshal(v, &n) != nil || n > math.MaxInt {
		return 0, fmt.Errorf("field %s is %s, want a non-negative integer", name, describeJSON(v))
	}
	return int(n), nil
}

// counts returns member f as an array of non-negative integers.
func (o jsonObject) counts(f string) ([]int, error) {
	v, err := o.get(f)
	if err != nil {
		return nil, err
	}
	var elems []json.RawMessage
	if len(v) == 0 || v[0] != '[' || json.Unmarshal(v, &elems) != nil {
		return nil, fmt.Errorf("field %s is %s, want an array of integers", o.name(f), describeJSON(v))
	}
	out := make([]int, len(elems))
	for i, e := range elems {
		if out[i], err = countValue(fmt.Sprintf("%s[%d]", o.name(f), i), e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkNoError refuses a reply whose "error" member is not false.
func (o jsonObject) checkNoError() error {
	failed, err := o.boolean("error")
	if err != nil {
		return err
	}
	if failed {
		return errors.New(`the device reported an error ("error": true)`)
	}
	return nil
}

// describeJSON names a JSON value for an error text: its kind and its
// first bytes.
func describeJSON(v json.RawMessage) string {
	kind := "a number"
	switch {
	case len(v) == 0:
		return "empty"
	case v[0] == '{':
		kind = "an object"
	case v[0] == '[':
		kind = "an array"
	case v[0] == '"':
		kind = "a string"
	case string(v) == "true" || string(v) == "false":
		kind = "a boolean"
	case string(v) == "null":
		return "null"
	}
	return kind + " " + quote(string(v))
}

// ParseRESTHA reads the body of the cOS Core REST call GET /api/oper/ha
// (cOS Core REST API Guide 15.00, chapter 11; a copy of its example is in
// this package's testdata/rest-api-oper-ha). Documented shape:
//
//	{
//	  "error": false,                 required, must be false
//	  "enabled": true,                required; false = HA not configured
//	  "status": {                     required when enabled
//	    "active": true,               required: this unit forwards traffic
//	    "time": 8,                    optional: seconds in the current state
//	    "role": 0,                    NOT read (see below)
//	    "role_description": "master", required: "master" or "slave" (any case)
//	    "peer": {"alive": false}      required: the peer's heartbeat is seen
//	  }
//	}
//
// The numeric "role" is not read: the guide's example prints "role": 0
// beside "role_description": "master", while CLAVISTER-MIB
// clvHAStatusRole says 0 is slave and 1 is master. The two numberings
// disagree, so only role_description counts.
//
// The result has the meaning of ParseHA's, with these differences:
// Role is role_description in lower case; TimeInState is "time" seconds
// (TimeKnown false when "time" is absent); PeerAlive is "peer.alive";
// SyncKnown is always false (the reply has no sync figure: get it from the
// CLI `ha` of newer builds). StateText is not device text but a summary
// made here, e.g. `GET /api/oper/ha: role_description "master", active
// true, time 8 s, peer.alive false`. With "enabled": false the result is
// {Configured: false, StateText: "GET /api/oper/ha: enabled false (HA not
// configured)"} and "status" is not read.
//
// Decoding rules, the same for ParseRESTAbout and ParseRESTStats:
//
//   - The body must be exactly one JSON object (RFC 8259), white space
//     around it allowed, at most 1 MiB.
//   - Field names are matched exactly (case-sensitive, unlike
//     encoding/json): "Active" is not "active".
//   - A name given twice in an object that is read is refused (which value
//     is meant is ambiguous).
//   - Types are strict: a boolean is JSON true or false (not 0, 1 or a
//     string); a count (seconds, connections, version numbers) is a JSON
//     integer without sign, fraction or exponent that fits an int; null is
//     refused for every field that is read.
//   - Fields that are not read are ignored whatever their type, so newer
//     firmware may add fields.
//   - Every reply must carry "error": false.
//
// It returns a *ParseError (errors.Is ErrUnrecognized, Command "GET
// /api/oper/ha") for: a body that is not one JSON object (a JSON syntax
// error is wrapped); "error" true or missing; a required field missing,
// null or of the wrong type; a name given twice; a role_description other
// than master or slave; a time that does not fit a time.Duration.
func ParseRESTHA(body []byte) (HAStatus, error) {
	fail := func(reason string, cause error) (HAStatus, error) {
		return HAStatus{}, newParseError(restHACommand, string(body), reason, cause)
	}
	top, reason, cause := decodeRESTBody(body)
	if reason != "" {
		return fail(reason, cause)
	}
	if err := top.checkNoError(); err != nil {
		return fail(err.Error(), nil)
	}
	enabled, err := top.boolean("enabled")
	if err != nil {
		return fail(err.Error(), nil)
	}
	if !enabled {
		return HAStatus{StateText: restHACommand + ": enabled false (HA not configured)"}, nil
	}
	status, err := top.object("status")
	if err != nil {
		return fail(err.Error(), nil)
	}
	var st HAStatus
	if st.Active, err = status.boolean("active"); err != nil {
		return fail(err.Error(), nil)
	}
	desc, err := status.str("role_description")
	if err != nil {
		return fail(err.Error(), nil)
	}
	switch {
	case strings.EqualFold(desc, "master"):
		st.Role = "master"
	case strings.EqualFold(desc, "slave"):
		st.Role = "slave"
	default:
		return fail(fmt.Sprintf("unknown role_description %s (want master or slave)", quote(desc)), nil)
	}
	peer, err := status.object("peer")
	if err != nil {
		return fail(err.Error(), nil)
	}
	if st.PeerAlive, err = peer.boolean("alive"); err != nil {
		return fail(err.Error(), nil)
	}
	timeText := "time unknown"
	if status.has("time") {
		secs, err := status.count("time")
		if err != nil {
			return fail(err.Error(), nil)
		}
		if int64(secs) > maxSeconds {
			return fail(fmt.Sprintf("field \"status.time\" %d s is too long", secs), nil)
		}
		st.TimeInState, st.TimeKnown = time.Duration(secs)*time.Second, true
		timeText = fmt.Sprintf("time %d s", secs)
	}
	st.Configured = true
	st.StateText = fmt.Sprintf("%s: role_description %q, active %t, %s, peer.alive %t",
		restHACommand, st.Role, st.Active, timeText, st.PeerAlive)
	return st, nil
}

// ParseRESTAbout reads the firmware version from the body of the cOS Core
// REST call GET /api/about (cOS Core REST API Guide 15.00, chapter 16; a
// copy of its example is in this package's testdata/rest-api-about).
// Documented shape:
//
//	{ "error": false,                        required, must be false
//	  "version": "12.00.12.03-12345",        required, read with ParseVersion
//	  "version_numbers": [12, 0, 12, 3, 12345],  required, must agree
//	  "buildtype": "Release",                required
//	  "vendor": "Clavister", "product": "cOS Core", "model": "E10",
//	  "device_name": "MyDevice" }            not read
//
// version_numbers must list the numbers of version in order: LTS, feature,
// maintenance, then the patch and the build when version has them. A
// missing patch may also be given as 0 ([12, 0, 12, 0, 12345] for
// "12.00.12-12345"): how the device lists a version without a patch is not
// documented.
//
// buildtype is "Release" unless the firmware is a technical preview
// (REST API Guide); any other value sets Version.TechPreview, so that the
// build never counts as GA. The TP buildtype's exact text is not
// documented. A version string ending in " TP" with buildtype "Release" is
// a contradiction and refused.
//
// It returns a *ParseError (errors.Is ErrUnrecognized, Command "GET
// /api/about") for: a body that is not one JSON object; "error" true or
// missing; a required field missing, null or of the wrong type, or a name
// given twice (decoding rules of ParseRESTHA); a malformed version (the *versionpath.ParseError is
// wrapped too); version_numbers that disagree with version; the TP
// contradiction. Unknown extra fields are ignored.
func ParseRESTAbout(body []byte) (Version, error) {
	fail := func(reason string, cause error) (Version, error) {
		return Version{}, newParseError(restAboutCommand, string(body), reason, cause)
	}
	top, reason, cause := decodeRESTBody(body)
	if reason != "" {
		return fail(reason, cause)
	}
	if err := top.checkNoError(); err != nil {
		return fail(err.Error(), nil)
	}
	text, err := top.str("version")
	if err != nil {
		return fail(err.Error(), nil)
	}
	numbers, err := top.counts("version_numbers")
	if err != nil {
		return fail(err.Error(), nil)
	}
	buildType, err := top.str("buildtype")
	if err != nil {
		return fail(err.Error(), nil)
	}
	v, err := ParseVersion(text)
	if err != nil {
		return fail(`field "version": `+err.Error(), err)
	}
	want := []int{v.LTS, v.Feature, v.Maintenance}
	if v.HasPatch {
		want = append(want, v.Patch)
	}
	if v.HasBuild {
		want = append(want, v.Build)
	}
	ok := slices.Equal(numbers, want)
	if !ok && !v.HasPatch { // a missing patch given as 0
		alt := []int{v.LTS, v.Feature, v.Maintenance, 0}
		if v.HasBuild {
			alt = append(alt, v.Build)
		}
		ok = slices.Equal(numbers, alt)
	}
	if !ok {
		return fail(fmt.Sprintf(`"version" %q and "version_numbers" %v disagree (want %v)`, text, numbers, want), nil)
	}
	if buildType != "Release" {
		v.TechPreview = true
	} else if v.TechPreview {
		return fail(fmt.Sprintf(`"version" %q is a technical preview but "buildtype" is "Release"`, text), nil)
	}
	return v, nil
}

// ParseRESTStats reads the body of the cOS Core REST call GET /api/stats
// (cOS Core REST API Guide 15.00, chapter 14). Documented shape (the
// guide's example, copied in this package's testdata/rest-api-stats, is not
// valid JSON as printed: "Not Configured } lacks its closing quote, and it
// is refused like any invalid JSON):
//
//	{ "error": false,                                   required, must be false
//	  "uptime": { "seconds_total": 191,                 required → Uptime
//	              "days": 0, "hours": 0, "minutes": 3, "seconds": 11 },
//	                                                    optional; when all four
//	                                                    are given they must add
//	                                                    up to seconds_total
//	  "last_event": "2018-02-06 18:23:49: Firmware upgrade request from WebUI by admin (192.168.1.11).",
//	                                                    optional → LastEvent, verbatim
//	  "connections": { "allocated": 256000, "active": 7 },
//	                                                    required → ConnectionsMax,
//	                                                    ConnectionsActive
//	  "cpu_load": 14, "memory": {…}, "fragments": {…}, "buffers": {…},
//	  "fragbufs": {…}, "active_poll_cores": 1, "incontrol_status": "…" }
//	                                                    not read
//
// Units: seconds for uptime; connections are counts, "allocated" being the
// table size (the CLI's "Connections : 7 out of 256000").
//
// It returns a *ParseError (errors.Is ErrUnrecognized, Command "GET
// /api/stats") for: a body that is not one JSON object (the JSON syntax
// error is wrapped); "error" true or missing; a required field missing,
// null or of the wrong type, or a name given twice (decoding rules of
// ParseRESTHA); days, hours,
// minutes and seconds that disagree with seconds_total; an uptime that does
// not fit a time.Duration. Unknown extra fields are ignored.
func ParseRESTStats(body []byte) (Stats, error) {
	fail := func(reason string, cause error) (Stats, error) {
		return Stats{}, newParseError(restStatsCommand, string(body), reason, cause)
	}
	top, reason, cause := decodeRESTBody(body)
	if reason != "" {
		return fail(reason, cause)
	}
	if err := top.checkNoError(); err != nil {
		return fail(err.Error(), nil)
	}
	uptime, err := top.object("uptime")
	if err != nil {
		return fail(err.Error(), nil)
	}
	total, err := uptime.count("seconds_total")
	if err != nil {
		return fail(err.Error(), nil)
	}
	if int64(total) > maxSeconds {
		return fail(fmt.Sprintf(`field "uptime.seconds_total" %d s is too long`, total), nil)
	}
	parts := [...]struct {
		name string
		unit int64
	}{{"days", 86400}, {"hours", 3600}, {"minutes", 60}, {"seconds", 1}}
	var sum int64
	given, overflow := 0, false
	for _, p := range parts {
		if !uptime.has(p.name) {
			continue
		}
		n, err := uptime.count(p.name)
		if err != nil {
			return fail(err.Error(), nil)
		}
		given++
		if int64(n) > math.MaxInt64/p.unit || sum > math.MaxInt64-int64(n)*p.unit {
			overflow = true
			continue
		}
		sum += int64(n) * p.unit
	}
	if given == len(parts) && (overflow || sum != int64(total)) {
		return fail(fmt.Sprintf(`"uptime": days, hours, minutes and seconds do not add up to seconds_total %d`, total), nil)
	}
	st := Stats{Uptime: time.Duration(total) * time.Second}
	if top.has("last_event") {
		if st.LastEvent, err = top.str("last_event"); err != nil {
			return fail(err.Error(), nil)
		}
	}
	conns, err := top.object("connections")
	if err != nil {
		return fail(err.Error(), nil)
	}
	if st.ConnectionsActive, err = conns.count("active"); err != nil {
		return fail(err.Error(), nil)
	}
	if st.ConnectionsMax, err = conns.count("allocated"); err != nil {
		return fail(err.Error(), nil)
	}
	return st, nil
}
