package aviatrix

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"
)

// Every type of this package that holds a credential (Config: the
// password; Client: the password, API tokens and the session's CID;
// Envelope: a login's CID, or get_api_token's token in its results;
// Cluster: its Client) renders without it however it is printed: a Format
// method answers every fmt verb (%v, %+v, %#v, %s, %q, %d, %t, %x, %X…)
// with the redacted String, a LogValue method serves log/slog, and a
// MarshalJSON method writes JSON without the secret (also inside a
// caller's struct, which slog's JSON handler encodes with encoding/json).

// writeRedacted is the Format of the package's credential-carrying types:
// s (already without secrets) for every verb, quoted for %q.
func writeRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}

// Format implements fmt.Formatter: String for every verb (%q quotes it),
// so no verb prints the password.
func (c Config) Format(f fmt.State, verb rune) { writeRedacted(f, verb, c.String()) }

// configJSON is Config's JSON shape: no transport, CA pool or logger, and
// the password as "[REDACTED]" when set.
type configJSON struct {
	URL               string `json:"url"`
	APIPath           string `json:"api_path"`
	Username          string `json:"username"`
	Password          string `json:"password,omitempty"`
	CACertFile        string `json:"ca_cert_file,omitempty"`
	Timeout           string `json:"timeout,omitempty"`
	RetryFor          string `json:"retry_for,omitempty"`
	Backoff           string `json:"backoff,omitempty"`
	MaxBackoff        string `json:"max_backoff,omitempty"`
	ReleaseListAction string `json:"release_list_action,omitempty"`
}

// MarshalJSON implements json.Marshaler: url, api_path, username,
// password ("[REDACTED]" when set, absent otherwise) and, when set,
// ca_cert_file, the durations (Go duration text, e.g. "1m0s") and
// release_list_action. The transport, CA pool and logger are left out.
func (c Config) MarshalJSON() ([]byte, error) {
	d := func(v time.Duration) string {
		if v == 0 {
			return ""
		}
		return v.String()
	}
	j := configJSON{URL: c.URL, APIPath: c.apiPath(), Username: c.Username, CACertFile: c.CACertFile,
		Timeout: d(c.Timeout), RetryFor: d(c.RetryFor), Backoff: d(c.Backoff), MaxBackoff: d(c.MaxBackoff), ReleaseListAction: c.ReleaseListAction}
	if c.Password != "" {
		j.Password = Redacted
	}
	return json.Marshal(j)
}

// Format implements fmt.Formatter: String for every verb (%q quotes it),
// so no verb prints a credential or the session's CID.
func (c *Client) Format(f fmt.State, verb rune) { writeRedacted(f, verb, c.String()) }

// MarshalJSON implements json.Marshaler: url, api_path, username and
// logged_in, as LogValue; null for a nil Client.
func (c *Client) MarshalJSON() ([]byte, error) {
	if c == nil {
		return []byte("null"), nil
	}
	c.mu.Lock()
	in := !c.cid.empty()
	c.mu.Unlock()
	return json.Marshal(struct {
		URL      string `json:"url"`
		APIPath  string `json:"api_path"`
		Username string `json:"username"`
		LoggedIn bool   `json:"logged_in"`
	}{c.cfg.URL, c.cfg.apiPath(), c.cfg.Username, in})
}

// String renders the envelope without its results (get_api_token's hold
// the API token) or CID, e.g. `aviatrix.Envelope{Return:true Reason:""
// Results:42 bytes CID:[REDACTED]}` (CID:none when the reply carried
// none).
func (e Envelope) String() string {
	cid := "none"
	if !e.cid.empty() {
		cid = Redacted
	}
	return fmt.Sprintf("aviatrix.Envelope{Return:%t Reason:%q Results:%d bytes CID:%s}", e.Return, e.Reason, len(e.Results), cid)
}

// GoString renders the envelope as String does (for %#v).
func (e Envelope) GoString() string { return e.String() }

// Format implements fmt.Formatter: String for every verb (%q quotes it).
func (e Envelope) Format(f fmt.State, verb rune) { writeRedacted(f, verb, e.String()) }

// LogValue implements slog.LogValuer: return, reason, results_bytes and
// has_cid; never the results or the CID.
func (e Envelope) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("return", e.Return), slog.String("reason", e.Reason),
		slog.Int("results_bytes", len(e.Results)), slog.Bool("has_cid", !e.cid.empty()))
}

// MarshalJSON implements json.Marshaler: return, reason, results_bytes
// and has_cid, as LogValue. The results are left out: get_api_token's hold
// the API token; decode them with the action's decoder instead.
func (e Envelope) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Return       bool   `json:"return"`
		Reason       string `json:"reason,omitempty"`
		ResultsBytes int    `json:"results_bytes"`
		HasCID       bool   `json:"has_cid"`
	}{e.Return, e.Reason, len(e.Results), !e.cid.empty()})
}

// String renders the cluster by name, member count and client (without
// secrets), e.g. `aviatrix.Cluster{Name:"prod" Members:21
// Client:aviatrix.Client{…}}`.
func (f *Cluster) String() string {
	if f == nil {
		return "aviatrix.Cluster(nil)"
	}
	client := "none (planning only)"
	if f.c != nil {
		client = f.c.String()
	}
	return fmt.Sprintf("aviatrix.Cluster{Name:%q Members:%d Client:%s}", f.name, len(f.members), client)
}

// GoString renders the cluster as String does (for %#v).
func (f *Cluster) GoString() string { return f.String() }

// Format implements fmt.Formatter: String for every verb (%q quotes it),
// so no verb reaches the Client's credentials.
func (f *Cluster) Format(s fmt.State, verb rune) { writeRedacted(s, verb, f.String()) }

// LogValue implements slog.LogValuer: name, members and the client's
// LogValue.
func (f *Cluster) LogValue() slog.Value {
	if f == nil {
		return slog.StringValue("aviatrix.Cluster(nil)")
	}
	attrs := []slog.Attr{slog.String("name", f.name), slog.Int("members", len(f.members))}
	if f.c != nil {
		attrs = append(attrs, slog.Any("client", f.c.LogValue()))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON implements json.Marshaler: name, members (the count) and
// client (Client.MarshalJSON; null for a planning-only cluster).
func (f *Cluster) MarshalJSON() ([]byte, error) {
	if f == nil {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		Name    string  `json:"name"`
		Members int     `json:"members"`
		Client  *Client `json:"client"`
	}{f.name, len(f.members), f.c})
}
