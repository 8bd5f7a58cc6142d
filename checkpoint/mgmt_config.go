package checkpoint

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hitless/hitless/upgrade"
)

// Defaults of MgmtConfig.
const (
	// DefaultMgmtTimeout bounds one HTTP request to the management server.
	DefaultMgmtTimeout = 60 * time.Second
	// DefaultMgmtSessionTimeout is the session timeout assumed when neither
	// MgmtConfig.SessionTimeout nor the login reply gives one: 600 s, the
	// value of every login sample (Check Point Management API Reference,
	// login).
	DefaultMgmtSessionTimeout = 600 * time.Second
	// DefaultMgmtRetryBackoff is the first delay between retries of a
	// read; it doubles on each retry.
	DefaultMgmtRetryBackoff = time.Second
	// MgmtReadRetries is how many times a read (show-task,
	// show-simple-cluster, get-platform, keepalive) is sent again after a
	// transport error, an HTTP 5xx or an unusable reply, within the
	// context's deadline. Writes are never sent again after an ambiguous
	// failure.
	MgmtReadRetries = 3
)

// How MgmtClient.GetPlatform waits for the get-platform task when
// MgmtConfig.PlatformWait is zero: a poll every DefaultMgmtPlatformPoll,
// for at most DefaultMgmtPlatformDeadline.
const (
	DefaultMgmtPlatformPoll     = 2 * time.Second
	DefaultMgmtPlatformDeadline = 5 * time.Minute
)

// mgmtRedacted is how secrets render.
const mgmtRedacted = "[REDACTED]"

// mgmtAPIKeyUser is APIError.User for an API-key login.
const mgmtAPIKeyUser = "API key"

var mgmtAPIVersionRE = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,3}){0,2}$`)

// MgmtConfig configures a MgmtClient for one Check Point management server
// (Security Management Server or Multi-Domain Server). Secrets live only
// here and in the client: String and GoString, Format (every fmt verb),
// LogValue and MarshalJSON all render the password and the API key as
// "[REDACTED]".
type MgmtConfig struct {
	// URL is the management server, "https://<host>[:<port>]" (for
	// instance "https://10.0.0.5" or "https://mgmt.example:4434"), with an
	// optional path prefix for a Smart-1 Cloud tenant
	// ("https://<tenant host>/<cloud-mgmt-id>"). Only https is accepted;
	// no user info, query or fragment. Requests go to
	// <URL>/web_api[/v<APIVersion>]/<command>.
	URL string
	// APIVersion pins the API version, e.g. "1.8" (the URL gets
	// "/v1.8"); "" uses the server's newest version.
	APIVersion string
	// User and Password log in with a management administrator. Give
	// them, or APIKey, not both.
	User     string
	Password string `json:"-"`
	// APIKey logs in with an API key instead of a user and password.
	APIKey string `json:"-"`
	// Domain is the domain to log in to on a Multi-Domain Server (name or
	// UID); "" logs in to the server itself (or the MDS level).
	Domain string

	// CACertPEM is a PEM bundle of the CA(s) that sign the server's
	// certificate (on a Check Point server, usually its Internal CA).
	// Give it or CACertFile, not both. The chain and the host name are
	// verified against it.
	CACertPEM []byte
	// CACertFile is the path of such a PEM bundle, read by NewMgmtClient.
	CACertFile string
	// PinnedSHA256 is the SHA-256 fingerprint of the server's own (leaf)
	// certificate, 64 hex digits, optionally separated by colons or
	// spaces, any case (e.g. the output of `openssl x509 -noout
	// -fingerprint -sha256`). A server presenting any other certificate is
	// refused with ErrCertificateMismatch before a request is sent. It is
	// taken from configuration only: the client never trusts a
	// certificate on first use. Without a CA bundle, the pin replaces
	// chain and host-name verification (the exact certificate is what is
	// trusted); with a CA bundle, both are checked. With neither a pin nor
	// a CA bundle, the system roots verify the server.
	PinnedSHA256 string

	// Timeout bounds each HTTP request (the deadline is the earlier of
	// the context's and this); 0 means DefaultMgmtTimeout.
	Timeout time.Duration
	// SessionTimeout is sent as the login's session-timeout (whole
	// seconds, 10 s to 3600 s); 0 sends none, and the server's value from
	// the login reply (default 600 s) is used. WaitTask sends keepalive at
	// least every half of the session timeout.
	SessionTimeout time.Duration
	// RetryBackoff is the first delay between read retries, doubled each
	// time; 0 means DefaultMgmtRetryBackoff.
	RetryBackoff time.Duration
	// PlatformWait is how GetPlatform waits for its task; the zero value
	// means a poll every DefaultMgmtPlatformPoll up to
	// DefaultMgmtPlatformDeadline.
	PlatformWait upgrade.Timing

	// Transport, when not nil, must be an in-memory transport made by
	// NewMgmtMemoryTransport (tests only: it serves loopback URLs only,
	// opens no connection, so there is no certificate to verify, and
	// CACertPEM, CACertFile and PinnedSHA256 are refused with it). Any
	// other http.RoundTripper is refused: the client builds its own
	// verified HTTPS transport and never uses http.DefaultTransport.
	Transport http.RoundTripper

	// Logger receives Debug records (command name, HTTP status, duration)
	// and Warn records (retries, keepalive failures); never a request or
	// reply body, a session ID, a password or an API key. nil discards.
	Logger *slog.Logger
}

// host returns the URL's host[:port], or "" when it does not parse.
func (c MgmtConfig) host() string {
	u, err := url.Parse(c.URL)
	if err != nil {
		return ""
	}
	return u.Host
}

// Validate reports every problem at once, wrapped in ErrMgmtConfig: URL not
// https, without a host, with user info, a query or a fragment, or already
// naming web_api; APIVersion not like "1.8"; neither User+Password nor
// APIKey, or both, or a User without a Password; both CACertPEM and
// CACertFile; a CACertPEM without a certificate; a PinnedSHA256 that is not
// 32 hex bytes; negative durations; a SessionTimeout outside 10 s–3600 s or
// not whole seconds; an invalid PlatformWait; a Transport that is not an
// in-memory test transport (or one used with a non-loopback URL or with TLS
// settings). It does not read CACertFile (NewMgmtClient does).
func (c MgmtConfig) Validate() error {
	var probs []string
	if c.URL == "" {
		probs = append(probs, "URL is empty")
	} else if u, err := url.Parse(c.URL); err != nil {
		probs = append(probs, "URL does not parse")
	} else {
		if u.Scheme != "https" {
			probs = append(probs, fmt.Sprintf("URL scheme %q: want https", u.Scheme))
		}
		if u.Host == "" {
			probs = append(probs, "URL has no host")
		}
		if u.User != nil {
			probs = append(probs, "URL must not carry user info (use User/Password or APIKey)")
		}
		if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			probs = append(probs, "URL must have no query or fragment")
		}
		if strings.Contains(u.Path, "web_api") {
			probs = append(probs, "URL must not include /web_api (the client adds it)")
		}
	}
	if c.APIVersion != "" && !mgmtAPIVersionRE.MatchString(strings.TrimPrefix(c.APIVersion, "v")) {
		probs = append(probs, fmt.Sprintf("APIVersion %q is not a version like \"1.8\"", c.APIVersion))
	}
	switch {
	case c.APIKey != "" && (c.User != "" || c.Password != ""):
		probs = append(probs, "give User/Password or APIKey, not both")
	case c.APIKey == "" && c.User == "" && c.Password == "":
		probs = append(probs, "no credentials: give User and Password, or APIKey")
	case c.APIKey == "" && c.User == "":
		probs = append(probs, "User is empty")
	case c.APIKey == "" && c.Password == "":
		probs = append(probs, "Password is empty")
	}
	if len(c.CACertPEM) > 0 && c.CACertFile != "" {
		probs = append(probs, "give CACertPEM or CACertFile, not both")
	}
	if len(c.CACertPEM) > 0 && !mgmtHasPEMCert(c.CACertPEM) {
		probs = append(probs, "CACertPEM holds no PEM certificate")
	}
	if c.PinnedSHA256 != "" {
		if _, err := ParseMgmtFingerprint(c.PinnedSHA256); err != nil {
			probs = append(probs, "PinnedSHA256: "+err.Error())
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Timeout", c.Timeout}, {"SessionTimeout", c.SessionTimeout}, {"RetryBackoff", c.RetryBackoff}} {
		if d.v < 0 {
			probs = append(probs, fmt.Sprintf("%s %v is negative", d.name, d.v))
		}
	}
	if st := c.SessionTimeout; st > 0 && (st < 10*time.Second || st > 3600*time.Second || st%time.Second != 0) {
		probs = append(probs, fmt.Sprintf("SessionTimeout %v must be whole seconds from 10s to 1h0m0s", st))
	}
	if c.PlatformWait != (upgrade.Timing{}) {
		if err := c.PlatformWait.Validate(); err != nil {
			probs = append(probs, "PlatformWait: "+err.Error())
		}
	}
	probs = append(probs, c.transportProblems()...)
	if len(probs) > 0 {
		return fmt.Errorf("%w: %s", ErrMgmtConfig, strings.Join(probs, "; "))
	}
	return nil
}

// transportProblems checks Transport against the rule of its doc comment.
func (c MgmtConfig) transportProblems() []string {
	if c.Transport == nil {
		return nil
	}
	t, ok := c.Transport.(*mgmtMemTransport)
	if !ok {
		return []string{fmt.Sprintf("Transport of type %T is not accepted: the client builds its own verified HTTPS transport (only an in-memory test transport from NewMgmtMemoryTransport may replace it)", c.Transport)}
	}
	var probs []string
	if t == nil || t.handler == nil {
		probs = append(probs, "Transport is an in-memory transport without a handler")
	}
	if len(c.CACertPEM) > 0 || c.CACertFile != "" || c.PinnedSHA256 != "" {
		probs = append(probs, "an in-memory Transport opens no TLS connection: CACertPEM, CACertFile and PinnedSHA256 do not apply")
	}
	if h := c.host(); h != "" && !mgmtLoopback(h) {
		probs = append(probs, "an in-memory test transport verifies no certificate, so it serves loopback URLs only (127.0.0.1, ::1, localhost), not this URL's host")
	}
	return probs
}

// mgmtHasPEMCert reports whether b holds at least one PEM certificate that
// parses.
func mgmtHasPEMCert(b []byte) bool {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return false
		}
		if blk.Type == "CERTIFICATE" {
			if _, err := x509.ParseCertificate(blk.Bytes); err == nil {
				return true
			}
		}
	}
}

// ParseMgmtFingerprint reads a SHA-256 certificate fingerprint: 64 hex
// digits, optionally separated by colons or spaces, any case, optionally
// prefixed "sha256:" or "SHA256 Fingerprint=" (openssl's output). It
// returns the 32 bytes.
func ParseMgmtFingerprint(s string) ([]byte, error) {
	t := strings.TrimSpace(s)
	if i := strings.Index(t, "="); i >= 0 && strings.Contains(strings.ToLower(t[:i]), "sha256") {
		t = t[i+1:]
	}
	t = strings.TrimPrefix(strings.TrimPrefix(t, "sha256:"), "SHA256:")
	t = strings.NewReplacer(":", "", " ", "", "\t", "").Replace(t)
	if len(t) != 2*sha256.Size {
		return nil, fmt.Errorf("fingerprint has %d hex digits, want %d (SHA-256)", len(t), 2*sha256.Size)
	}
	b, err := hex.DecodeString(t)
	if err != nil {
		return nil, fmt.Errorf("fingerprint is not hex")
	}
	return b, nil
}

// MgmtFingerprint returns the SHA-256 fingerprint of a DER certificate
// (x509.Certificate.Raw) as upper-case hex pairs separated by colons, the
// form of CertificateMismatchError and of openssl, accepted by
// MgmtConfig.PinnedSHA256.
func MgmtFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return mgmtFormatFingerprint(sum[:])
}

func mgmtFormatFingerprint(b []byte) string {
	h := strings.ToUpper(hex.EncodeToString(b))
	var sb strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

// credentialKind says how the config logs in, for renderings.
func (c MgmtConfig) credentialKind() string {
	if c.APIKey != "" {
		return "api-key"
	}
	return "password"
}

// String renders the config without secrets, e.g.
// `checkpoint.MgmtConfig{URL:"https://10.0.0.5" User:"admin"
// Password:[REDACTED] Domain:"" APIVersion:"" Pinned:true CA:false}`.
func (c MgmtConfig) String() string {
	cred := "Password:" + mgmtRedacted
	if c.APIKey != "" {
		cred = "APIKey:" + mgmtRedacted
	} else if c.Password == "" {
		cred = "Password:none"
	}
	return fmt.Sprintf("checkpoint.MgmtConfig{URL:%q User:%q %s Domain:%q APIVersion:%q Pinned:%t CA:%t}",
		c.URL, c.User, cred, c.Domain, c.APIVersion, c.PinnedSHA256 != "", len(c.CACertPEM) > 0 || c.CACertFile != "")
}

// GoString renders the config as String does (for %#v).
func (c MgmtConfig) GoString() string { return c.String() }

// Format implements fmt.Formatter: String for every verb (%q quotes it),
// so no verb (%v, %+v, %#v, %s, %d, %x…) prints a secret.
func (c MgmtConfig) Format(f fmt.State, verb rune) { mgmtWriteRedacted(f, verb, c.String()) }

// LogValue implements slog.LogValuer: url, user, credential ("password" or
// "api-key"), domain, api_version and whether a pin or CA is set; never a
// secret.
func (c MgmtConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.URL), slog.String("user", c.User),
		slog.String("credential", c.credentialKind()), slog.String("domain", c.Domain),
		slog.String("api_version", c.APIVersion), slog.Bool("pinned", c.PinnedSHA256 != ""),
		slog.Bool("ca", len(c.CACertPEM) > 0 || c.CACertFile != ""))
}

// MarshalJSON implements json.Marshaler: url, api_version, user, password
// and api_key ("[REDACTED]" when set, absent otherwise), domain,
// ca_cert_file, ca_cert_pem_bytes (the bundle's size), pinned_sha256 (a
// fingerprint is public), and the durations as Go duration text. The
// transport and logger are left out.
func (c MgmtConfig) MarshalJSON() ([]byte, error) {
	d := func(v time.Duration) string {
		if v == 0 {
			return ""
		}
		return v.String()
	}
	j := struct {
		URL            string `json:"url"`
		APIVersion     string `json:"api_version,omitempty"`
		User           string `json:"user,omitempty"`
		Password       string `json:"password,omitempty"`
		APIKey         string `json:"api_key,omitempty"`
		Domain         string `json:"domain,omitempty"`
		CACertFile     string `json:"ca_cert_file,omitempty"`
		CACertPEMBytes int    `json:"ca_cert_pem_bytes,omitempty"`
		PinnedSHA256   string `json:"pinned_sha256,omitempty"`
		Timeout        string `json:"timeout,omitempty"`
		SessionTimeout string `json:"session_timeout,omitempty"`
		RetryBackoff   string `json:"retry_backoff,omitempty"`
	}{URL: c.URL, APIVersion: c.APIVersion, User: c.User, Domain: c.Domain, CACertFile: c.CACertFile,
		CACertPEMBytes: len(c.CACertPEM), PinnedSHA256: c.PinnedSHA256,
		Timeout: d(c.Timeout), SessionTimeout: d(c.SessionTimeout), RetryBackoff: d(c.RetryBackoff)}
	if c.Password != "" {
		j.Password = mgmtRedacted
	}
	if c.APIKey != "" {
		j.APIKey = mgmtRedacted
	}
	return json.Marshal(j)
}

// mgmtWriteRedacted writes s (already without secrets) for every verb,
// quoted for %q.
func mgmtWriteRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}

// mgmtSecret holds a credential (password, API key, session ID). The text
// sits behind a pointer, so even reflection-based printing of a struct
// holding one shows an address, never the text; String, GoString, Format,
// LogValue and MarshalText render "[REDACTED]".
type mgmtSecret struct{ p *string }

func newMgmtSecret(s string) mgmtSecret { return mgmtSecret{p: &s} }

func (s mgmtSecret) reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

func (s mgmtSecret) empty() bool { return s.reveal() == "" }

// String implements fmt.Stringer: "[REDACTED]".
func (s mgmtSecret) String() string { return mgmtRedacted }

// GoString implements fmt.GoStringer: "[REDACTED]".
func (s mgmtSecret) GoString() string { return mgmtRedacted }

// Format implements fmt.Formatter: "[REDACTED]" for every verb.
func (s mgmtSecret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, mgmtRedacted) }

// LogValue implements slog.LogValuer: "[REDACTED]".
func (s mgmtSecret) LogValue() slog.Value { return slog.StringValue(mgmtRedacted) }

// MarshalText implements encoding.TextMarshaler: "[REDACTED]".
func (s mgmtSecret) MarshalText() ([]byte, error) { return []byte(mgmtRedacted), nil }
