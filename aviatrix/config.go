package aviatrix

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hitless/hitless/aviatrix/internal/memtransport"
)

// DefaultAPIPath is the controller API endpoint ("/v2/api";
// it was "/v1/api" until provider PR #1473, 2022-11, so old controllers need
// Config.APIPath "/v1/api").
const DefaultAPIPath = "/v2/api"

// DefaultReleaseListAction is the action Client.Releases sends to list the
// releases a controller can upgrade to. It is a hitless convention, NOT a
// documented Aviatrix action: the API field behind the UI's "Release
// Versions" hint is not in the Terraform provider nor in Aviatrix Docs. The
// fake
// controller in aviatrixtest answers it. Against a real controller, either
// set Config.ReleaseListAction to the action captured on a lab controller or
// give the catalog yourself (UpgradeRequest.Catalog).
const DefaultReleaseListAction = "hitless_list_releases"

// NoReleaseListAction, as Config.ReleaseListAction, disables the release
// list: the catalog must then come from UpgradeRequest.Catalog.
const NoReleaseListAction = "-"

// Defaults for Config's durations.
const (
	// DefaultTimeout bounds one HTTP request.
	DefaultTimeout = 60 * time.Second
	// DefaultRetryFor bounds how long one read keeps retrying while the
	// controller restarts (on top of the context deadline).
	DefaultRetryFor = 5 * time.Minute
	// DefaultBackoff is the first retry delay; it doubles up to
	// DefaultMaxBackoff.
	DefaultBackoff    = 2 * time.Second
	DefaultMaxBackoff = 30 * time.Second
)

var actionRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Config configures a Client. Secrets live only here and in the Client;
// no rendering shows the password: String and GoString, Format (every fmt
// verb, %d and %x included), LogValue and MarshalJSON all redact it.
type Config struct {
	// URL is the controller's base URL, "https://<controller>" (no path,
	// query or user info). Only https is accepted.
	URL string
	// APIPath is the API endpoint path; "" means DefaultAPIPath ("/v2/api").
	APIPath string
	// Username and Password are the controller login; both required.
	// Password is never rendered by String, GoString or LogValue, and is
	// left out of JSON.
	Username string
	Password string `json:"-"`
	// CACertFile is a PEM bundle with the controller's CA (the controller
	// ships a self-signed certificate: give that certificate here).
	// Mutually exclusive with RootCAs. With neither, the system roots are
	// used. TLS is always verified: there is no skip-verify switch.
	CACertFile string
	// RootCAs is the CA pool to verify the controller with.
	RootCAs *x509.CertPool
	// Transport, when set, replaces the HTTPS transport hitless builds for
	// itself. hitless owns TLS verification, so only transports whose
	// verification it can see are accepted (Validate refuses anything else
	// with ErrConfig):
	//   - a *http.Transport: the Client uses a clone of it (its proxy,
	//     dialer, timeouts and connection limits) with TLS verified against
	//     RootCAs/CACertFile, or its own TLSClientConfig.RootCAs, or the
	//     system roots, and at least TLS 1.2. Refused when
	//     TLSClientConfig.InsecureSkipVerify is set, when DialTLS or
	//     DialTLSContext is set (they replace the handshake hitless
	//     verifies), or when TLSClientConfig.RootCAs and RootCAs/CACertFile
	//     are both set. Protocols added with RegisterProtocol are not
	//     cloned. A nil *http.Transport is refused.
	//   - an in-memory transport of package aviatrixtest (Fake.Transport,
	//     aviatrixtest.HandlerTransport): it never opens a connection, so
	//     there is no certificate to verify. For tests only: URL must be a
	//     loopback one (host 127.0.0.1, ::1 or localhost; the transport
	//     itself refuses any other host), and CACertFile/RootCAs are
	//     refused with it.
	// Any other http.RoundTripper (e.g. a wrapper around an *http.Transport
	// that skips verification) is refused: hitless cannot tell whether it
	// verifies the controller's certificate. nil (the default) means a
	// fresh transport that does not depend on http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds each HTTP request; 0 means DefaultTimeout.
	Timeout time.Duration
	// RetryFor bounds how long a read (or a write the controller refused
	// outright) is retried while the controller restarts; the context
	// deadline bounds it too. 0 means DefaultRetryFor.
	RetryFor time.Duration
	// Backoff is the first retry delay, doubled each time up to MaxBackoff;
	// 0 means DefaultBackoff / DefaultMaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// ReleaseListAction names the release-list action (see
	// DefaultReleaseListAction, a hitless convention); "" means the default,
	// NoReleaseListAction ("-") disables it.
	ReleaseListAction string
	// Logger receives debug/warn records (action names, statuses, retry
	// delays; never URLs, parameters, credentials or CIDs). nil discards.
	Logger *slog.Logger
}

// String renders the config without secrets.
func (c Config) String() string {
	return fmt.Sprintf("aviatrix.Config{URL:%q APIPath:%q Username:%q Password:[REDACTED]}", c.URL, c.apiPath(), c.Username)
}

// GoString renders the config without secrets (for %#v).
func (c Config) GoString() string { return c.String() }

// LogValue renders the config for slog without secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.URL), slog.String("api_path", c.apiPath()), slog.String("username", c.Username))
}

func (c Config) apiPath() string {
	if c.APIPath == "" {
		return DefaultAPIPath
	}
	return c.APIPath
}

func (c Config) releaseAction() string {
	if c.ReleaseListAction == "" {
		return DefaultReleaseListAction
	}
	return c.ReleaseListAction
}

// Validate reports every problem at once, wrapped in ErrConfig: URL not
// https or with a path/query/user info, APIPath not starting with "/",
// missing username or password, both CACertFile and RootCAs, a Transport
// that hitless cannot verify TLS with (see Config.Transport), negative
// durations, a malformed ReleaseListAction. It does not read CACertFile
// (NewClient does).
func (c Config) Validate() error {
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
			probs = append(probs, "URL must not carry user info (use Username/Password)")
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			probs = append(probs, "URL must have no path, query or fragment (use APIPath)")
		}
	}
	if c.APIPath != "" && (!strings.HasPrefix(c.APIPath, "/") || strings.ContainsAny(c.APIPath, "?# ")) {
		probs = append(probs, fmt.Sprintf("APIPath %q must be a path starting with /", c.APIPath))
	}
	if c.Username == "" {
		probs = append(probs, "Username is empty")
	}
	if c.Password == "" {
		probs = append(probs, "Password is empty")
	}
	if c.CACertFile != "" && c.RootCAs != nil {
		probs = append(probs, "set CACertFile or RootCAs, not both")
	}
	probs = append(probs, c.transportProblems()...)
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Timeout", c.Timeout}, {"RetryFor", c.RetryFor}, {"Backoff", c.Backoff}, {"MaxBackoff", c.MaxBackoff}} {
		if d.v < 0 {
			probs = append(probs, fmt.Sprintf("%s %v is negative", d.name, d.v))
		}
	}
	if c.ReleaseListAction != "" && c.ReleaseListAction != NoReleaseListAction && !actionRE.MatchString(c.ReleaseListAction) {
		probs = append(probs, fmt.Sprintf("ReleaseListAction %q is not an action name", c.ReleaseListAction))
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(probs, "; "))
	}
	return nil
}

// transportProblems checks Config.Transport against the rule documented
// there.
func (c Config) transportProblems() []string {
	ownCA := c.CACertFile != "" || c.RootCAs != nil
	switch t := c.Transport.(type) {
	case nil:
		return nil
	case *memtransport.Transport:
		var probs []string
		switch {
		case t == nil || t.Handler == nil:
			probs = append(probs, "Transport is an in-memory transport without a handler")
		case ownCA:
			probs = append(probs, "an in-memory Transport opens no TLS connection: CACertFile/RootCAs do not apply")
		}
		if u, err := url.Parse(c.URL); err == nil && u.Host != "" && !memtransport.Loopback(u.Host) {
			probs = append(probs, "an in-memory test transport verifies no certificate, so it serves loopback URLs only (127.0.0.1, ::1, localhost), not this URL's host")
		}
		return probs
	case *http.Transport:
		if t == nil {
			return []string{"Transport is a nil *http.Transport"}
		}
		var probs []string
		if tc := t.TLSClientConfig; tc != nil {
			if tc.InsecureSkipVerify {
				probs = append(probs, "Transport skips TLS verification (InsecureSkipVerify); hitless always verifies (give the controller's CA with CACertFile or RootCAs)")
			}
			if tc.RootCAs != nil && ownCA {
				probs = append(probs, "set the CA in Transport.TLSClientConfig.RootCAs or in CACertFile/RootCAs, not both")
			}
		}
		//lint:ignore SA1019 the deprecated DialTLS is checked so that it cannot replace the verified handshake
		if t.DialTLS != nil || t.DialTLSContext != nil {
			probs = append(probs, "Transport has its own TLS dialer (DialTLS/DialTLSContext): hitless cannot verify the handshake it makes")
		}
		return probs
	default:
		return []string{fmt.Sprintf("Transport of type %T is not accepted: hitless must see that it verifies TLS (use a *http.Transport, or nil)", c.Transport)}
	}
}
