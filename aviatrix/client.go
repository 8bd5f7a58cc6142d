package aviatrix

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/aviatrix/internal/memtransport"
)

// maxBody bounds a reply; list_vpcs_summary for 10,000 gateways is a few
// megabytes.
const maxBody = 64 << 20

// Client talks to one Aviatrix controller over its HTTPS API with net/http.
// It is safe for concurrent use: one session (CID) is shared, and a rejected
// session is replaced by one login however many calls saw it.
//
// Wire behaviour (Terraform provider before v8, goaviatrix/client.go):
//   - every action is a form POST to URL+APIPath with "action" and "CID" as
//     fields, never in the URL, except get_api_token (a GET without CID).
//     There is no GET mode for reads: the provider's GETs put the CID in
//     URLs, which land in access logs;
//   - login is get_api_token, then login with header X-Access-Key, falling
//     back to a plain login when get_api_token answers return:false;
//   - a rejected session (ErrSessionExpired) triggers one re-login and one
//     retry of the call;
//   - a restarting controller (ErrRestarting) and transport errors are
//     retried with exponential backoff for reads, within ctx and
//     Config.RetryFor; writes are retried only when the controller provably
//     did not act: a JSON return:false "Valid action required: login" or
//     "RequestRefused" refusal, or an HTTP 503. Any other failure of a
//     write (an HTML page, even with HTTP 200; a 502 or 504; a transport
//     error; an unexpected reply) leaves its outcome unknown
//     (WriteOutcomeUnknown) and is returned at once, never re-sent;
//   - ErrBusy, ErrTLS and ordinary refusals are returned at once.
//
// Errors never contain the password, the API token, a CID or a URL. The
// Client itself prints, logs and encodes without them (String, GoString,
// Format for every fmt verb, LogValue, MarshalJSON); they are held in a
// type that renders "[REDACTED]".
type Client struct {
	cfg      Config // Password cleared: it lives in password
	password secret
	endpoint string
	hc       *http.Client
	log      *slog.Logger

	mu      sync.Mutex
	cid     secret
	secrets []secret // password, API tokens, CIDs (most recent last), for redaction
	logins  int

	loginMu sync.Mutex // one login at a time
}

// Redacted is how secrets render.
const Redacted = "[REDACTED]"

// secret holds a credential: the password, an API token or a CID. The text
// sits behind a pointer, so even reflection-based printing of a struct
// holding one (fmt's %+v of unexported fields) shows an address, never the
// text; String, GoString, LogValue, Format and MarshalText render
// "[REDACTED]". The zero secret is empty.
type secret struct{ p *string }

// newSecret holds s as a secret.
func newSecret(s string) secret { return secret{p: &s} }

// reveal returns the text, for the request that needs it.
func (s secret) reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// empty reports whether the secret holds no text.
func (s secret) empty() bool { return s.reveal() == "" }

// String implements fmt.Stringer: "[REDACTED]".
func (s secret) String() string { return Redacted }

// GoString implements fmt.GoStringer: "[REDACTED]".
func (s secret) GoString() string { return Redacted }

// Format implements fmt.Formatter: "[REDACTED]" for every verb.
func (s secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue implements slog.LogValuer: "[REDACTED]".
func (s secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText implements encoding.TextMarshaler (JSON too): "[REDACTED]".
func (s secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// String renders the client without secrets, e.g.
// `aviatrix.Client{URL:"https://ctl" APIPath:"/v2/api" Username:"admin"
// Password:[REDACTED] Session:[REDACTED]}` (Session:none before the first
// login). %v, %+v and %s use it.
func (c *Client) String() string {
	if c == nil {
		return "aviatrix.Client(nil)"
	}
	session := "none"
	c.mu.Lock()
	if !c.cid.empty() {
		session = Redacted
	}
	c.mu.Unlock()
	return fmt.Sprintf("aviatrix.Client{URL:%q APIPath:%q Username:%q Password:%s Session:%s}", c.cfg.URL, c.cfg.apiPath(), c.cfg.Username, Redacted, session)
}

// GoString renders the client without secrets for %#v (as String).
func (c *Client) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: url, api_path, username and
// logged_in, never a credential or CID.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("aviatrix.Client(nil)")
	}
	c.mu.Lock()
	in := !c.cid.empty()
	c.mu.Unlock()
	return slog.GroupValue(slog.String("url", c.cfg.URL), slog.String("api_path", c.cfg.apiPath()),
		slog.String("username", c.cfg.Username), slog.Bool("logged_in", in))
}

// NewClient validates cfg, loads CACertFile if set, and returns a Client.
// It sends nothing; the first call logs in. The HTTP transport follows the
// rule of Config.Transport; redirects are never followed (a redirect could
// move the form, and the CID, elsewhere).
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var roots *x509.CertPool
	if cfg.CACertFile != "" {
		pem, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("%w: CACertFile: %v", ErrConfig, err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: CACertFile %s holds no PEM certificate", ErrConfig, cfg.CACertFile)
		}
	} else if cfg.RootCAs != nil {
		roots = cfg.RootCAs
	}
	var rt http.RoundTripper
	switch t := cfg.Transport.(type) {
	case *memtransport.Transport:
		rt = t // no connection, no certificate (Validate checked it)
	case *http.Transport:
		rt = verifiedClone(t, roots)
	default: // nil: Validate refuses every other type
		rt = newTransport(roots)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pw := newSecret(cfg.Password)
	cfg.Password = ""
	return &Client{
		cfg:      cfg,
		password: pw,
		endpoint: strings.TrimSuffix(cfg.URL, "/") + cfg.apiPath(),
		hc: &http.Client{Transport: rt,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		log:     log,
		secrets: []secret{pw},
	}, nil
}

// newTransport returns a fresh HTTPS transport with the settings of
// net/http's default transport (proxy from the environment, 30 s dial, 10 s
// TLS handshake, 90 s idle connections) verifying TLS against roots (nil:
// the system roots), at least TLS 1.2. It is built from scratch rather than
// cloned from http.DefaultTransport, which any code in the process could
// have weakened.
func newTransport(roots *x509.CertPool) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}
}

// verifiedClone returns a clone of a caller's *http.Transport (accepted by
// Validate: no InsecureSkipVerify, no own TLS dialer) with verification
// forced on, roots (when not nil) as its CA pool and at least TLS 1.2.
func verifiedClone(t *http.Transport, roots *x509.CertPool) *http.Transport {
	c := t.Clone()
	if c.TLSClientConfig == nil {
		c.TLSClientConfig = &tls.Config{}
	}
	c.TLSClientConfig.InsecureSkipVerify = false
	if roots != nil {
		c.TLSClientConfig.RootCAs = roots
	}
	if c.TLSClientConfig.MinVersion < tls.VersionTLS12 {
		c.TLSClientConfig.MinVersion = tls.VersionTLS12
	}
	return c
}

// Logins returns how many successful logins the client has made (for tests
// and reports: a CID refresh shows as one more login).
func (c *Client) Logins() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logins
}

// callOpts tunes one call.
type callOpts struct {
	write   bool        // the action changes controller state
	get     bool        // force GET (get_api_token)
	noLogin bool        // send without a CID (login flow)
	noRetry bool        // one attempt only (pollers loop themselves)
	header  http.Header // extra headers (X-Access-Key)
}

// Do sends any action and returns its raw "results". params must not hold
// "action" or "CID". Set write for actions that change controller state:
// writes are never retried after an ambiguous failure. It is the building
// block of the typed methods and of users' custom steps.
func (c *Client) Do(ctx context.Context, action string, params url.Values, write bool) (json.RawMessage, error) {
	if !actionRE.MatchString(action) {
		return nil, fmt.Errorf("%w: action %q is not an action name", ErrConfig, action)
	}
	env, err := c.call(ctx, action, params, callOpts{write: write})
	if err != nil {
		return nil, err
	}
	return env.Results, nil
}

// call runs one action with login, session refresh and retries.
func (c *Client) call(ctx context.Context, action string, params url.Values, o callOpts) (*Envelope, error) {
	start := time.Now()
	backoff := c.cfg.Backoff
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	maxBackoff := c.cfg.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = DefaultMaxBackoff
	}
	retryFor := c.cfg.RetryFor
	if retryFor <= 0 {
		retryFor = DefaultRetryFor
	}
	relogged := false
	var prev error // last failure not caused by ctx
	for attempt := 1; ; attempt++ {
		var (
			env *Envelope
			err error
			cid string
		)
		policy := o
		if !o.noLogin {
			cid, err = c.session(ctx)
			// The call itself was not sent: retry like a read.
			policy.write = false
		}
		if err == nil {
			policy = o
			env, err = c.roundTrip(ctx, action, params, cid, o)
		}
		if err == nil {
			return env, nil
		}
		if ctx.Err() != nil {
			// The attempt was cut by ctx: report the last real failure.
			if prev != nil {
				err = prev
			}
			return nil, c.ctxError(action, ctx, err)
		}
		prev = err
		switch {
		case errors.Is(err, ErrSessionExpired) && !o.noLogin:
			c.dropSession(cid)
			if relogged {
				return nil, fmt.Errorf("%w: %s: session rejected again right after a new login: %w", ErrAuth, action, err)
			}
			relogged = true
			c.log.DebugContext(ctx, "aviatrix: session rejected; logging in again", "action", action)
			continue
		case !c.retryable(err, policy) || o.noRetry:
			return nil, err
		}
		if time.Since(start)+backoff > retryFor {
			return nil, fmt.Errorf("%s: still failing after %v: %w", action, time.Since(start).Round(time.Millisecond), err)
		}
		c.log.WarnContext(ctx, "aviatrix: controller not ready; retrying", "action", action, "attempt", attempt, "in", backoff, "error", err.Error())
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, c.ctxError(action, ctx, err)
		case <-t.C:
		}
		if ctx.Err() != nil { // the deadline fell with the timer: report the real last error
			return nil, c.ctxError(action, ctx, err)
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// retryable says whether err may be retried for a call with options o.
func (c *Client) retryable(err error, o callOpts) bool {
	switch {
	case errors.Is(err, ErrTLS), errors.Is(err, ErrBusy), errors.Is(err, ErrAuth), errors.Is(err, ErrConfig):
		return false
	case !o.write:
		return errors.Is(err, ErrRestarting) || errors.Is(err, ErrTransport)
	}
	return notActed(err)
}

// notActed reports whether a failed write provably was not acted on, so
// that sending it again cannot repeat it: a JSON return:false refusal
// "Valid action required: login" or "RequestRefused" with HTTP 200 (the API
// server refused before dispatching), or an HTTP 503 (the
// proxy had no backend to pass the request to).
func notActed(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || !errors.Is(ae.Kind, ErrRestarting) {
		return false
	}
	return ae.Status == http.StatusServiceUnavailable || (ae.Status == http.StatusOK && !ae.HTML)
}

// WriteOutcomeUnknown reports whether err, returned by a write (Do with
// write=true, UpgradePlatform, UpgradeGateways, RollbackGateways,
// UpgradeGatewayImage), leaves it unknown whether the controller acted on
// it: a transport error (ErrTransport), an HTML page instead of JSON
// (APIError.HTML, whatever the HTTP status, 200 included), an HTTP 502 or
// 504, or a reply that is not the envelope (ErrProtocol). The Client never
// re-sends such a write; the caller must learn the outcome by reading (the
// controller hop polls platform_upgrade_status). It is false for nil, for
// refusals that prove nothing happened (see Client) and for ordinary
// refusals.
func WriteOutcomeUnknown(err error) bool {
	switch {
	case err == nil, errors.Is(err, ErrTLS), errors.Is(err, ErrConfig), errors.Is(err, ErrVersion),
		errors.Is(err, ErrUnsupportedVersion), errors.Is(err, ErrInventory):
		return false
	case errors.Is(err, ErrTransport), errors.Is(err, ErrProtocol):
		return true
	case errors.Is(err, ErrRestarting):
		return !notActed(err)
	}
	return false
}

func (c *Client) ctxError(action string, ctx context.Context, last error) error {
	return fmt.Errorf("%s: %w (last error: %v)", action, ctx.Err(), last)
}

// session returns the current CID, logging in first when there is none.
func (c *Client) session(ctx context.Context) (string, error) {
	c.mu.Lock()
	cid := c.cid.reveal()
	c.mu.Unlock()
	if cid != "" {
		return cid, nil
	}
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	c.mu.Lock()
	cid = c.cid.reveal()
	c.mu.Unlock()
	if cid != "" {
		return cid, nil
	}
	return c.login(ctx)
}

// dropSession forgets cid if it is still the current session.
func (c *Client) dropSession(cid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cid.reveal() == cid {
		c.cid = secret{}
	}
}

// Login logs in now, replacing any current session. The Client logs in by
// itself on first use and after a rejected session; call Login after a
// controller upgrade completes (the old session can be
// invalidated, provider #769). Restarting/transport errors are retried like
// reads.
func (c *Client) Login(ctx context.Context) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	c.mu.Lock()
	c.cid = secret{}
	c.mu.Unlock()
	_, err := c.login(ctx)
	return err
}

// login performs get_api_token + login (each retried while the controller
// restarts); loginMu is held. A refused login is an *APIError of kind
// ErrAuth whose reason is redacted.
func (c *Client) login(ctx context.Context) (string, error) {
	token := ""
	env, err := c.call(ctx, "get_api_token", nil, callOpts{noLogin: true, get: true})
	var ae *APIError
	switch {
	case err == nil:
		var r struct {
			APIToken flexString `json:"api_token"`
		}
		if len(env.Results) > 0 {
			_ = json.Unmarshal(env.Results, &r)
		}
		token = string(r.APIToken)
	case errors.As(err, &ae) && ae.Kind == nil:
		// return:false: a controller older than ~Oct 2022; plain login.
		c.log.DebugContext(ctx, "aviatrix: get_api_token refused; plain login")
	default:
		return "", err
	}
	if token != "" {
		c.addSecret(newSecret(token))
	}
	hdr := http.Header{}
	if token != "" {
		hdr.Set("X-Access-Key", token)
	}
	params := url.Values{"username": {c.cfg.Username}, "password": {c.password.reveal()}}
	env, err = c.call(ctx, "login", params, callOpts{noLogin: true, header: hdr})
	if err != nil {
		if errors.As(err, &ae) && (ae.Kind == nil || errors.Is(ae.Kind, ErrAuth)) {
			return "", &APIError{Action: "login", Status: ae.Status, Reason: c.redact(ae.Reason), Kind: ErrAuth}
		}
		return "", err
	}
	if env.cid.empty() {
		return "", &APIError{Action: "login", Status: http.StatusOK, Reason: "return:true without a CID", Kind: ErrProtocol}
	}
	c.addSecret(env.cid)
	c.mu.Lock()
	c.cid = env.cid
	c.logins++
	c.mu.Unlock()
	c.log.DebugContext(ctx, "aviatrix: logged in", "api_token", token != "")
	return env.cid.reveal(), nil
}

// addSecret remembers a value to redact (the last 16 are kept besides the
// password).
func (c *Client) addSecret(s secret) {
	if s.empty() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets = append(c.secrets, s)
	if len(c.secrets) > 17 {
		c.secrets = append(c.secrets[:1], c.secrets[len(c.secrets)-16:]...)
	}
}

// redact replaces every known secret in s with [REDACTED].
func (c *Client) redact(s string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sec := range c.secrets {
		if t := sec.reveal(); len(t) >= 3 {
			s = strings.ReplaceAll(s, t, Redacted)
		}
	}
	return s
}

// roundTrip sends one request and decodes the reply. Errors are redacted
// and never mention the URL.
func (c *Client) roundTrip(ctx context.Context, action string, params url.Values, cid string, o callOpts) (*Envelope, error) {
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("action", action)
	if cid != "" {
		form.Set("CID", cid)
	}
	timeout := c.cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	method := http.MethodPost
	var req *http.Request
	var err error
	if o.get {
		// get_api_token only. A CID is never put in a URL (access logs).
		if cid != "" {
			return nil, fmt.Errorf("%w: %s: refusing to send a CID in a URL", ErrConfig, action)
		}
		method = http.MethodGet
		req, err = http.NewRequestWithContext(rctx, method, c.endpoint+"?"+form.Encode(), nil)
	} else {
		req, err = http.NewRequestWithContext(rctx, method, c.endpoint, strings.NewReader(form.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: cannot build request", ErrConfig, action)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range o.header {
		req.Header[k] = v
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, method, action, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, c.transportError(ctx, method, action, err)
	}
	if len(body) > maxBody {
		return nil, &APIError{Action: action, Status: resp.StatusCode, Reason: "reply larger than 64 MiB", Kind: ErrProtocol}
	}
	c.log.DebugContext(ctx, "aviatrix: call", "action", action, "method", method, "status", resp.StatusCode, "bytes", len(body))
	env, err := DecodeEnvelope(action, resp.StatusCode, body)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			ae.Reason = c.redact(ae.Reason)
		}
		return env, err
	}
	return env, nil
}

// transportError turns a net/http error into ErrTLS or ErrTransport without
// the URL (*url.Error would print it, and a GET URL may carry the CID).
func (c *Client) transportError(ctx context.Context, method, action string, err error) error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	var (
		unknownAuth x509.UnknownAuthorityError
		certInvalid x509.CertificateInvalidError
		hostname    x509.HostnameError
		verify      *tls.CertificateVerificationError
	)
	if errors.As(inner, &unknownAuth) || errors.As(inner, &certInvalid) || errors.As(inner, &hostname) || errors.As(inner, &verify) {
		return fmt.Errorf("%w: %s %s: %s", ErrTLS, method, action, c.redact(inner.Error()))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", method, action, ctx.Err())
	}
	return fmt.Errorf("%w: %s %s: %s", ErrTransport, method, action, c.redact(inner.Error()))
}
