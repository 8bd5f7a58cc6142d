package aviatrix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Envelope is the controller's reply to every /v2/api action (Terraform
// provider before v8, goaviatrix/client.go, and the replies its tests and
// the Controller-HA-for-AWS tests use):
//
//	{"return": bool, "results": <string|object|array|int>, "reason": "<string>"}
//
// login adds a top-level "CID", which DecodeEnvelope keeps unexported (it is
// a secret) for the Client; extra top-level fields (e.g. "ha_gw_name") are
// ignored.
type Envelope struct {
	// Return is the controller's verdict.
	Return bool
	// Results is the raw "results" value, decoded later per action; nil
	// when absent.
	Results json.RawMessage
	// Reason is the "reason" text (non-string reasons are kept as their
	// JSON text). Session reasons have the CID replaced by [REDACTED].
	Reason string

	cid secret
}

// Markers of a reply that is not the envelope but a restarting controller
// (Terraform provider: HTML 502/503 pages and "Valid action required"
// while the controller restarts).
var (
	sessionExpiredRE = regexp.MustCompile(`Session (\S+) expired`)
)

// classifyReason maps a return:false reason to its category, or nil.
func classifyReason(reason string) error {
	switch {
	case strings.Contains(reason, "CID is invalid"),
		strings.Contains(reason, "Invalid session. Please login again."),
		sessionExpiredRE.MatchString(reason):
		return ErrSessionExpired
	case strings.Contains(reason, "Valid action required: login"),
		strings.Contains(reason, "RequestRefused"):
		return ErrRestarting
	case strings.Contains(reason, "Active upgrade in progress."):
		return ErrBusy
	}
	return nil
}

// looksHTML reports whether body is an HTML page (a proxy error page while
// the controller restarts) rather than JSON.
func looksHTML(body []byte) bool {
	b := bytes.TrimSpace(body)
	if len(b) > 512 {
		b = b[:512]
	}
	l := bytes.ToLower(b)
	return bytes.HasPrefix(l, []byte("<")) || bytes.Contains(l, []byte("<html")) || bytes.Contains(l, []byte("<!doctype"))
}

// DecodeEnvelope decodes one reply to action with HTTP status code status.
//
// It returns the envelope and nil for return:true. Otherwise the error is an
// *APIError whose Kind says what to do:
//   - HTML bodies (e.g. "502 Proxy Error", "503 Service Unavailable"),
//     whatever the status, and HTTP 502/503/504: ErrRestarting, with
//     APIError.HTML set for HTML bodies (for a write, an HTML page leaves
//     it unknown whether the controller acted: WriteOutcomeUnknown);
//   - reasons "Valid action required: login" / "RequestRefused":
//     ErrRestarting;
//   - "CID is invalid", "Invalid session. Please login again.",
//     "Session <CID> expired": ErrSessionExpired (the CID is redacted);
//   - "Active upgrade in progress.": ErrBusy;
//   - HTTP 401/403: ErrAuth;
//   - any other refusal: Kind nil.
//
// A body that is neither HTML nor the JSON envelope is ErrProtocol. For
// return:false replies the envelope is returned too (callers such as
// check_task_status read its reason). DecodeEnvelope never panics, whatever
// the input.
func DecodeEnvelope(action string, status int, body []byte) (*Envelope, error) {
	if html := looksHTML(body); html || status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout {
		return nil, &APIError{Action: action, Status: status, Reason: htmlReason(status, body), Kind: ErrRestarting, HTML: html}
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return nil, &APIError{Action: action, Status: status, Reason: http.StatusText(status), Kind: ErrAuth}
	}
	var w struct {
		Return  *flexBool       `json:"return"`
		Results json.RawMessage `json:"results"`
		Reason  json.RawMessage `json:"reason"`
		CID     *flexString     `json:"CID"`
	}
	if err := json.Unmarshal(body, &w); err != nil || w.Return == nil {
		what := "no \"return\" field"
		if err != nil {
			what = "not a JSON object"
		}
		return nil, &APIError{Action: action, Status: status, Reason: fmt.Sprintf("reply is %s (%d bytes)", what, len(body)), Kind: ErrProtocol}
	}
	env := &Envelope{Return: bool(*w.Return), Reason: rawText(w.Reason)}
	if len(w.Results) > 0 && string(w.Results) != "null" {
		env.Results = w.Results
	}
	if w.CID != nil && *w.CID != "" {
		env.cid = newSecret(string(*w.CID))
	}
	env.Reason = sessionExpiredRE.ReplaceAllString(env.Reason, "Session [REDACTED] expired")
	if status != http.StatusOK {
		return env, &APIError{Action: action, Status: status, Reason: env.Reason, Kind: ErrProtocol}
	}
	if !env.Return {
		return env, &APIError{Action: action, Status: status, Reason: env.Reason, Kind: classifyReason(env.Reason)}
	}
	return env, nil
}

// htmlReason summarises a restarting controller's HTML page without
// copying it.
func htmlReason(status int, body []byte) string {
	for _, m := range []string{"502 Proxy Error", "503 Service Unavailable", "504 Gateway Timeout"} {
		if bytes.Contains(body, []byte(m)) {
			return "HTML page: " + m
		}
	}
	if status != 0 && status != http.StatusOK {
		return "HTML page with HTTP " + strconv.Itoa(status)
	}
	return "HTML page instead of JSON"
}

// rawText returns a JSON string's value, or the raw JSON text of any other
// value, or "" for null/absent.
func rawText(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

// flexBool decodes the controller's booleans, which are sometimes JSON
// bools, sometimes "yes"/"no"/"true"/"false" strings, sometimes 0/1
// (as seen in the provider's and Controller-HA-for-AWS's payloads).
// Unrecognised text is false.
type flexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *flexBool) UnmarshalJSON(p []byte) error {
	var v any
	if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	switch t := v.(type) {
	case bool:
		*b = flexBool(t)
	case float64:
		*b = t != 0
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "yes", "true", "1", "on", "enabled":
			*b = true
		default:
			*b = false
		}
	default:
		*b = false
	}
	return nil
}

// flexString decodes strings, numbers and bools as text; null is "".
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *flexString) UnmarshalJSON(p []byte) error {
	var v any
	if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	switch t := v.(type) {
	case string:
		*s = flexString(t)
	case float64:
		*s = flexString(strconv.FormatFloat(t, 'f', -1, 64))
	case bool:
		*s = flexString(strconv.FormatBool(t))
	default:
		*s = ""
	}
	return nil
}

// flexInt decodes numbers and numeric strings; anything else is 0.
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *flexInt) UnmarshalJSON(p []byte) error {
	var v any
	if err := json.Unmarshal(p, &v); err != nil {
		return err
	}
	switch t := v.(type) {
	case float64:
		*n = flexInt(t)
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		if err == nil {
			*n = flexInt(i)
		}
	}
	return nil
}
