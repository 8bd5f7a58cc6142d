package checkpoint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hitless/hitless/upgrade"
)

// mgmtMaxBody bounds a reply.
const mgmtMaxBody = 64 << 20

// MgmtClient is a thin client of the Check Point Management API (web_api)
// over net/http, for the calls a Multi-Version Cluster (MVC) upgrade needs:
// login, keepalive, logout, publish, show-task, install-policy,
// set-simple-cluster, show-simple-cluster, vsx-run-operation and
// get-platform. It is safe for concurrent use: one session is shared, and
// a rejected session is replaced by one login however many calls saw it.
//
// Wire behaviour (Check Point Management API Reference): every command is
// a POST of a JSON object to <URL>/web_api[/v<version>]/<command> with
// Content-Type application/json; after login, the session ID travels in
// the X-chkp-sid header only (never in a URL or a body). Redirects are not
// followed.
//
// Every request has a deadline: the earlier of the context's and
// MgmtConfig.Timeout. Reads (show-task, show-simple-cluster, get-platform,
// keepalive) are sent again up to MgmtReadRetries times, with doubling
// backoff from MgmtConfig.RetryBackoff, after a transport error, an HTTP
// 5xx or an unusable reply, as long as the context's deadline allows the
// wait. Writes (login, publish, install-policy, set-simple-cluster,
// vsx-run-operation) are sent once: when the reply is lost or unusable
// after the request was written (connection dropped or timed out, HTTP
// 5xx, a reply that is not the documented JSON), the error matches
// ErrAmbiguous and the caller must verify by reading. A rejected session
// (ErrSession) is not ambiguous: the server refused before acting, so the
// client logs in again once and sends the call once more, write or read.
//
// TLS is always verified, by the configured CA bundle, or by the pinned
// leaf fingerprint, or by the system roots (see MgmtConfig.PinnedSHA256).
// The client builds its own transport and changes no global state.
//
// The password, the API key and session IDs never appear in errors, logs,
// fmt output (String, GoString and Format for every verb) or JSON
// (MarshalJSON); server messages are scrubbed of them before use.
type MgmtClient struct {
	cfg          MgmtConfig // Password, APIKey cleared: they live below
	password     mgmtSecret
	apiKey       mgmtSecret
	base         string // <URL>/web_api[/v<version>]
	server       string // host[:port]
	hc           *http.Client
	log          *slog.Logger
	timeout      time.Duration
	backoff      time.Duration
	platformWait upgrade.Timing

	mu         sync.Mutex
	sid        mgmtSecret
	sessionTTL time.Duration // from the last login reply; 0 unknown
	lastAlive  time.Time     // last login or keepalive
	logins     int
	creds      []mgmtSecret // password, API key
	sids       []mgmtSecret // session IDs, newest last

	loginMu sync.Mutex // one login at a time
}

// NewMgmtClient validates cfg, reads CACertFile if set, and returns a
// client with its own HTTPS transport (TLS 1.2 or later, verified as
// MgmtConfig.PinnedSHA256 describes; never http.DefaultTransport). It sends
// nothing: the first call logs in. Errors match ErrMgmtConfig.
func NewMgmtClient(cfg MgmtConfig) (*MgmtClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var roots *x509.CertPool
	pemBytes := cfg.CACertPEM
	if cfg.CACertFile != "" {
		b, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("%w: CACertFile: %v", ErrMgmtConfig, err)
		}
		if !mgmtHasPEMCert(b) {
			return nil, fmt.Errorf("%w: CACertFile %s holds no PEM certificate", ErrMgmtConfig, cfg.CACertFile)
		}
		pemBytes = b
	}
	if len(pemBytes) > 0 {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("%w: the CA bundle holds no usable certificate", ErrMgmtConfig)
		}
	}
	var pin []byte
	if cfg.PinnedSHA256 != "" {
		pin, _ = ParseMgmtFingerprint(cfg.PinnedSHA256) // Validate checked it
	}
	u, _ := url.Parse(cfg.URL) // Validate checked it
	server := u.Host
	var rt http.RoundTripper
	if mt, ok := cfg.Transport.(*mgmtMemTransport); ok {
		rt = mt // in memory: no connection, no certificate (Validate checked it)
	} else {
		rt = newMgmtTransport(mgmtTLSConfig(roots, pin, server))
	}
	base := strings.TrimSuffix(cfg.URL, "/") + "/web_api"
	if cfg.APIVersion != "" {
		base += "/v" + strings.TrimPrefix(cfg.APIVersion, "v")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &MgmtClient{
		password: newMgmtSecret(cfg.Password),
		apiKey:   newMgmtSecret(cfg.APIKey),
		base:     base,
		server:   server,
		hc: &http.Client{Transport: rt,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		log:          log,
		timeout:      cfg.Timeout,
		backoff:      cfg.RetryBackoff,
		platformWait: cfg.PlatformWait,
	}
	if c.timeout == 0 {
		c.timeout = DefaultMgmtTimeout
	}
	if c.backoff == 0 {
		c.backoff = DefaultMgmtRetryBackoff
	}
	if c.platformWait == (upgrade.Timing{}) {
		c.platformWait = upgrade.Timing{Interval: DefaultMgmtPlatformPoll, Deadline: DefaultMgmtPlatformDeadline}
	}
	for _, s := range []mgmtSecret{c.password, c.apiKey} {
		if !s.empty() {
			c.creds = append(c.creds, s)
		}
	}
	cfg.Password, cfg.APIKey = "", ""
	c.cfg = cfg
	return c, nil
}

// newMgmtTransport returns a fresh HTTPS transport with the settings of
// net/http's default transport (proxy from the environment, 30 s dial, 10 s
// TLS handshake, 90 s idle connections) and tc. It is built from scratch
// rather than cloned from http.DefaultTransport, which any code in the
// process could have weakened.
func newMgmtTransport(tc *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       tc,
	}
}

// mgmtTLSConfig returns the client's TLS settings: at least TLS 1.2, the
// chain verified against roots (nil: the system roots), and, with a pin,
// the leaf's SHA-256 checked in VerifyConnection, which crypto/tls runs on
// every handshake (resumptions included) whatever the other settings; a
// mismatch aborts the handshake before any request byte is sent.
//
// With a pin and no CA bundle, chain verification is switched off
// (InsecureSkipVerify) because a Check Point server's certificate is
// usually issued by its own Internal CA, which no system root trusts and
// whose name need not match the address used: the pin then replaces chain
// and host-name verification, and it is mandatory on that path (the
// verifier is installed whenever pin is set, and pin is the only way to
// reach it). Without a pin, InsecureSkipVerify stays false.
func mgmtTLSConfig(roots *x509.CertPool, pin []byte, host string) *tls.Config {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	if len(pin) != sha256.Size {
		return tc
	}
	want := append([]byte(nil), pin...)
	expected := mgmtFormatFingerprint(want)
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return &CertificateMismatchError{Host: host, Expected: expected, Seen: "none"}
		}
		sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
		if !bytes.Equal(sum[:], want) {
			return &CertificateMismatchError{Host: host, Expected: expected, Seen: mgmtFormatFingerprint(sum[:])}
		}
		return nil
	}
	pinReplacesChain := roots == nil
	tc.InsecureSkipVerify = pinReplacesChain
	return tc
}

// String renders the client without secrets, e.g.
// `checkpoint.MgmtClient{URL:"https://10.0.0.5" User:"admin"
// Domain:"" Session:[REDACTED]}` (Session:none before the first login).
func (c *MgmtClient) String() string {
	if c == nil {
		return "checkpoint.MgmtClient(nil)"
	}
	session := "none"
	if c.loggedIn() {
		session = mgmtRedacted
	}
	return fmt.Sprintf("checkpoint.MgmtClient{URL:%q User:%q Credential:%s Domain:%q Session:%s}",
		c.cfg.URL, c.cfg.User, c.credentialKind(), c.cfg.Domain, session)
}

func (c *MgmtClient) credentialKind() string {
	if !c.apiKey.empty() {
		return "api-key"
	}
	return "password"
}

// GoString renders the client as String does (for %#v).
func (c *MgmtClient) GoString() string { return c.String() }

// Format implements fmt.Formatter: String for every verb (%q quotes it).
func (c *MgmtClient) Format(f fmt.State, verb rune) { mgmtWriteRedacted(f, verb, c.String()) }

// LogValue implements slog.LogValuer: url, user, credential ("password"
// or "api-key"), domain and logged_in; never a secret.
func (c *MgmtClient) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("checkpoint.MgmtClient(nil)")
	}
	return slog.GroupValue(slog.String("url", c.cfg.URL), slog.String("user", c.cfg.User),
		slog.String("credential", c.credentialKind()), slog.String("domain", c.cfg.Domain),
		slog.Bool("logged_in", c.loggedIn()))
}

// MarshalJSON implements json.Marshaler with the fields of LogValue; null
// for a nil client.
func (c *MgmtClient) MarshalJSON() ([]byte, error) {
	if c == nil {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		URL        string `json:"url"`
		User       string `json:"user,omitempty"`
		Credential string `json:"credential"`
		Domain     string `json:"domain,omitempty"`
		LoggedIn   bool   `json:"logged_in"`
	}{c.cfg.URL, c.cfg.User, c.credentialKind(), c.cfg.Domain, c.loggedIn()})
}

func (c *MgmtClient) loggedIn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.sid.empty()
}

// Logins returns how many successful logins the client has made (a
// session replaced after ErrSession counts as one more).
func (c *MgmtClient) Logins() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logins
}

// SessionTimeout returns the session timeout in force: the login reply's
// session-timeout, else MgmtConfig.SessionTimeout, else
// DefaultMgmtSessionTimeout.
func (c *MgmtClient) SessionTimeout() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ttlLocked()
}

func (c *MgmtClient) ttlLocked() time.Duration {
	switch {
	case c.sessionTTL > 0:
		return c.sessionTTL
	case c.cfg.SessionTimeout > 0:
		return c.cfg.SessionTimeout
	}
	return DefaultMgmtSessionTimeout
}

// mgmtOpts tunes one call.
type mgmtOpts struct {
	write     bool   // changes management state: sent once
	noSession bool   // login: no sid
	sid       string // logout: this session only (no login, no re-login)
}

// call sends cmd with body (marshalled to JSON) and returns the raw reply
// object, with session handling and read retries.
func (c *MgmtClient) call(ctx context.Context, cmd string, body any, o mgmtOpts) (json.RawMessage, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: cannot encode the request", ErrMgmtConfig, cmd)
	}
	relogged := false
	backoff := c.backoff
	for retries := 0; ; {
		var (
			sid string
			raw json.RawMessage
			err error
		)
		switch {
		case o.sid != "":
			sid = o.sid
		case !o.noSession:
			sid, err = c.session(ctx) // a failed login is retried below like the read itself, unless ambiguous
		}
		if err == nil {
			if raw, err = c.roundTrip(ctx, cmd, payload, sid, o); err == nil {
				return raw, nil
			}
			if sid != "" && errors.Is(err, ErrSession) {
				c.dropSession(sid)
				if o.sid != "" {
					return nil, err
				}
				if relogged {
					return nil, fmt.Errorf("checkpoint: mgmt %s: session rejected again right after a new login: %w", cmd, err)
				}
				relogged = true
				c.log.DebugContext(ctx, "checkpoint: mgmt session rejected; logging in again", "command", cmd)
				continue
			}
		}
		if ctx.Err() != nil || o.write || !mgmtTransient(err) || errors.Is(err, ErrAmbiguous) || retries >= MgmtReadRetries {
			if retries > 0 {
				return nil, fmt.Errorf("checkpoint: mgmt %s: failed after %d attempts: %w", cmd, retries+1, err)
			}
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= backoff {
			return nil, fmt.Errorf("checkpoint: mgmt %s: no time left to retry before the deadline: %w", cmd, err)
		}
		retries++
		c.log.WarnContext(ctx, "checkpoint: mgmt read failed; retrying", "command", cmd, "attempt", retries+1, "in", backoff, "error", err.Error())
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("checkpoint: mgmt %s: %w (last error: %v)", cmd, ctx.Err(), err)
		case <-t.C:
		}
		backoff *= 2
	}
}

// mgmtTransient reports whether a read failing with err may succeed when
// sent again: a transport error other than a certificate problem, an HTTP
// 5xx, or an unusable reply.
func mgmtTransient(err error) bool {
	switch {
	case errors.Is(err, ErrCertificateMismatch), errors.Is(err, ErrMgmtTLS), errors.Is(err, ErrMgmtConfig),
		errors.Is(err, ErrAuth), errors.Is(err, ErrNotFound), errors.Is(err, ErrLocked):
		return false
	}
	return errors.Is(err, ErrMgmtTransport) || errors.Is(err, ErrMgmtServer) || errors.Is(err, ErrMgmtProtocol)
}

// session returns the current sid, logging in first when there is none.
func (c *MgmtClient) session(ctx context.Context) (string, error) {
	if sid := c.currentSID(); sid != "" {
		return sid, nil
	}
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	if sid := c.currentSID(); sid != "" {
		return sid, nil
	}
	return c.login(ctx)
}

func (c *MgmtClient) currentSID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sid.reveal()
}

// dropSession forgets sid if it is still the current session.
func (c *MgmtClient) dropSession(sid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sid != "" && c.sid.reveal() == sid {
		c.sid = mgmtSecret{}
	}
}

// Login logs in now (command login, with user and password or api-key,
// and domain and session-timeout when configured), replacing any current
// session. The client logs in by itself on first use and once after a
// rejected session, so calling Login is optional. A refused login is an
// *APIError matching ErrAuth that names the user (or "API key") and the
// server; a lost reply matches ErrAmbiguous (login is never sent twice
// for one attempt).
func (c *MgmtClient) Login(ctx context.Context) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	c.mu.Lock()
	c.sid = mgmtSecret{}
	c.mu.Unlock()
	_, err := c.login(ctx)
	return err
}

// login performs the login command; loginMu is held.
func (c *MgmtClient) login(ctx context.Context) (string, error) {
	body := map[string]any{}
	who := c.cfg.User
	if !c.apiKey.empty() {
		body["api-key"] = c.apiKey.reveal()
		who = mgmtAPIKeyUser
	} else {
		body["user"] = c.cfg.User
		body["password"] = c.password.reveal()
	}
	if c.cfg.Domain != "" {
		body["domain"] = c.cfg.Domain
	}
	if st := c.cfg.SessionTimeout; st > 0 {
		body["session-timeout"] = int(st / time.Second)
	}
	raw, err := c.call(ctx, "login", body, mgmtOpts{write: true, noSession: true})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Command == "login" {
			ae.User = who
		}
		return "", err
	}
	var r struct {
		SID              string `json:"sid"`
		SessionTimeout   int    `json:"session-timeout"`
		APIServerVersion string `json:"api-server-version"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.SID == "" {
		return "", &APIError{Command: "login", HTTPStatus: http.StatusOK, Message: "reply has no sid", Server: c.server, User: who, Protocol: true}
	}
	sid := newMgmtSecret(r.SID)
	c.mu.Lock()
	c.sid = sid
	c.sids = append(c.sids, sid)
	if len(c.sids) > 16 { // the last 16 sessions are enough to scrub replies
		c.sids = append([]mgmtSecret(nil), c.sids[len(c.sids)-16:]...)
	}
	if r.SessionTimeout > 0 {
		c.sessionTTL = time.Duration(r.SessionTimeout) * time.Second
	}
	c.lastAlive = time.Now()
	c.logins++
	c.mu.Unlock()
	c.log.DebugContext(ctx, "checkpoint: mgmt logged in", "user", c.cfg.User, "domain", c.cfg.Domain,
		"api_server_version", r.APIServerVersion, "session_timeout_s", r.SessionTimeout)
	return r.SID, nil
}

// Logout ends the current session (command logout; the reply is
// {"message": "OK"}). Without a session it sends nothing. A session the
// server already rejects counts as logged out. The session is forgotten
// whatever the outcome; unpublished changes of the session are discarded
// by the server.
func (c *MgmtClient) Logout(ctx context.Context) error {
	sid := c.currentSID()
	if sid == "" {
		return nil
	}
	_, err := c.call(ctx, "logout", struct{}{}, mgmtOpts{sid: sid})
	c.dropSession(sid)
	if errors.Is(err, ErrSession) {
		return nil
	}
	return err
}

// Keepalive keeps the session alive (command keepalive; the reply is
// {"message": "OK"}), logging in first when there is no session. It is a
// read: retried like one. WaitTask sends it by itself during long waits.
func (c *MgmtClient) Keepalive(ctx context.Context) error {
	if _, err := c.call(ctx, "keepalive", struct{}{}, mgmtOpts{}); err != nil {
		return err
	}
	c.mu.Lock()
	c.lastAlive = time.Now()
	c.mu.Unlock()
	return nil
}

// Publish publishes the session's changes (command publish, an
// asynchronous task; Check Point Management API Reference, publish) and
// returns its task-id; wait for it with WaitTask. A write: an ambiguous
// failure matches ErrAmbiguous and is not sent again.
func (c *MgmtClient) Publish(ctx context.Context) (string, error) {
	return c.taskCall(ctx, "publish", struct{}{})
}

// InstallPolicyRequest is the body of install-policy (Check Point
// Management API Reference, install-policy).
type InstallPolicyRequest struct {
	// PolicyPackage is the policy package name ("policy-package"), e.g.
	// "Standard"; required.
	PolicyPackage string
	// Targets are the gateway, cluster or Virtual System object names or
	// UIDs to install on ("targets"); at least one.
	Targets []string
	// Access and ThreatPrevention select the policy layers ("access",
	// "threat-prevention"); at least one must be true. Both are always
	// sent explicitly.
	Access, ThreatPrevention bool
	// InstallOnAllClusterMembersOrFail is sent explicitly as
	// "install-on-all-cluster-members-or-fail" (R80.10 and later), true or
	// false: the server's default is true, under which a cluster install
	// fails on every member when it fails on one. An MVC upgrade's
	// intermediate install needs false (the member on the old version is
	// expected to fail), the final one true.
	InstallOnAllClusterMembersOrFail bool
}

// InstallPolicy starts a policy installation (command install-policy, an
// asynchronous task) and returns its task-id. Wait with WaitTask and read
// each gateway's outcome with Task.GatewayResults: a "partially succeeded"
// task is expected during an MVC upgrade. A write: an ambiguous failure
// matches ErrAmbiguous and is not sent again. An invalid request matches
// ErrMgmtConfig and sends nothing.
func (c *MgmtClient) InstallPolicy(ctx context.Context, req InstallPolicyRequest) (string, error) {
	var probs []string
	if strings.TrimSpace(req.PolicyPackage) == "" {
		probs = append(probs, "PolicyPackage is empty")
	}
	if len(req.Targets) == 0 {
		probs = append(probs, "no Targets")
	}
	for i, t := range req.Targets {
		if strings.TrimSpace(t) == "" {
			probs = append(probs, fmt.Sprintf("Targets[%d] is empty", i))
		}
	}
	if !req.Access && !req.ThreatPrevention {
		probs = append(probs, "neither Access nor ThreatPrevention: nothing to install")
	}
	if len(probs) > 0 {
		return "", fmt.Errorf("%w: install-policy: %s", ErrMgmtConfig, strings.Join(probs, "; "))
	}
	return c.taskCall(ctx, "install-policy", map[string]any{
		"policy-package":                         req.PolicyPackage,
		"targets":                                req.Targets,
		"access":                                 req.Access,
		"threat-prevention":                      req.ThreatPrevention,
		"install-on-all-cluster-members-or-fail": req.InstallOnAllClusterMembersOrFail,
	})
}

// SetSimpleClusterVersion sets the version of a ClusterXL cluster object
// (command set-simple-cluster with name and version, e.g. "R81.20"; Check
// Point Management API Reference, set-simple-cluster). The change belongs
// to the session until Publish. The command is asynchronous and returns a
// task-id; when a server applies it at once and answers with the cluster
// object instead (carrying the new version), the task-id is "". A write:
// an ambiguous failure matches ErrAmbiguous and is not sent again; an
// object locked by another session matches ErrLocked.
func (c *MgmtClient) SetSimpleClusterVersion(ctx context.Context, cluster, version string) (string, error) {
	if err := mgmtNonEmpty("set-simple-cluster", "cluster", cluster, "version", version); err != nil {
		return "", err
	}
	raw, err := c.call(ctx, "set-simple-cluster", map[string]any{"name": cluster, "version": version}, mgmtOpts{write: true})
	if err != nil {
		return "", err
	}
	if id, ok := mgmtTaskID(raw); ok {
		return id, nil
	}
	var obj struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Version == version {
		return "", nil
	}
	return "", &APIError{Command: "set-simple-cluster", HTTPStatus: http.StatusOK, Server: c.server,
		Message: "reply has neither a task-id nor the cluster object with the new version", Protocol: true, Ambiguous: true}
}

// SimpleCluster is a ClusterXL cluster object as show-simple-cluster
// returns it (Check Point Management API Reference, show-simple-cluster).
type SimpleCluster struct {
	// Name is the object name ("name").
	Name string `json:"name"`
	// Version is the object's version ("version"), e.g. "R81.20": the
	// version the policy is compiled for, not necessarily what the
	// members run.
	Version string `json:"version"`
	// Hardware is "hardware", e.g. "Open server".
	Hardware string `json:"hardware"`
	// OSName is "os-name", e.g. "Gaia".
	OSName string `json:"os-name"`
	// ClusterMode is "cluster-mode", e.g. "cluster-xl-ha".
	ClusterMode string `json:"cluster-mode"`
	// Members are "cluster-members".
	Members []ClusterMemberObject `json:"cluster-members"`
}

// ClusterMemberObject is one entry of a cluster object's cluster-members.
type ClusterMemberObject struct {
	// Name is the member's object name ("name").
	Name string `json:"name"`
	// IPAddress is its main address ("ip-address").
	IPAddress string `json:"ip-address"`
	// SICState is its SIC state ("sic-state"), e.g. "communicating".
	SICState string `json:"sic-state"`
}

// ShowSimpleCluster reads a ClusterXL cluster object (command
// show-simple-cluster with name). A read: retried. An unknown name matches
// ErrNotFound; a reply without a name matches ErrMgmtProtocol.
func (c *MgmtClient) ShowSimpleCluster(ctx context.Context, name string) (SimpleCluster, error) {
	if err := mgmtNonEmpty("show-simple-cluster", "name", name); err != nil {
		return SimpleCluster{}, err
	}
	raw, err := c.call(ctx, "show-simple-cluster", map[string]any{"name": name}, mgmtOpts{})
	if err != nil {
		return SimpleCluster{}, err
	}
	var sc SimpleCluster
	if err := json.Unmarshal(raw, &sc); err != nil || sc.Name == "" {
		return SimpleCluster{}, &APIError{Command: "show-simple-cluster", HTTPStatus: http.StatusOK, Server: c.server,
			Message: "reply is not a cluster object", Protocol: true}
	}
	return sc, nil
}

// VSXUpgrade upgrades a VSX cluster object to targetVersion (command
// vsx-run-operation with operation "upgrade" and upgrade-params
// {target-version, vsx-name}; Check Point Management API Reference,
// vsx-run-operation), the API equivalent of `vsx_util upgrade`. The
// operation publishes by itself. It returns the task-id; a server leaves
// an object already at or above the target unchanged. A write: an
// ambiguous failure matches ErrAmbiguous and is not sent again.
func (c *MgmtClient) VSXUpgrade(ctx context.Context, vsxName, targetVersion string) (string, error) {
	if err := mgmtNonEmpty("vsx-run-operation", "vsxName", vsxName, "targetVersion", targetVersion); err != nil {
		return "", err
	}
	return c.taskCall(ctx, "vsx-run-operation", map[string]any{
		"operation":      "upgrade",
		"upgrade-params": map[string]any{"target-version": targetVersion, "vsx-name": vsxName},
	})
}

// Platform is what get-platform reports about a gateway or member: the
// software it actually runs, read by the management server from the
// gateway itself.
type Platform struct {
	// OSName is "os-name", e.g. "Gaia".
	OSName string `json:"os-name"`
	// Version is "version", e.g. "R81.10".
	Version string `json:"version"`
	// Hardware is "hardware", e.g. "Open Server".
	Hardware string `json:"hardware"`
}

// GetPlatform reads a gateway's running version from management (command
// get-platform with name; it answers a task whose task-details[0] holds
// {"os-name", "version", "hardware"}; Check Point Management API
// Reference, get-platform), waiting for the task as
// MgmtConfig.PlatformWait says. A read: retried. A failed task matches
// ErrTaskFailed, a task that does not finish ErrTaskTimeout, a reply
// without a version ErrMgmtProtocol.
func (c *MgmtClient) GetPlatform(ctx context.Context, gateway string) (Platform, error) {
	if err := mgmtNonEmpty("get-platform", "gateway", gateway); err != nil {
		return Platform{}, err
	}
	raw, err := c.call(ctx, "get-platform", map[string]any{"name": gateway}, mgmtOpts{})
	if err != nil {
		return Platform{}, err
	}
	task, done, err := mgmtInlineTask(raw)
	if err != nil {
		return Platform{}, &APIError{Command: "get-platform", HTTPStatus: http.StatusOK, Server: c.server, Message: err.Error(), Protocol: true}
	}
	if !done {
		id, ok := mgmtTaskID(raw)
		if !ok {
			return Platform{}, &APIError{Command: "get-platform", HTTPStatus: http.StatusOK, Server: c.server, Message: "reply has no task-id", Protocol: true}
		}
		if task, err = c.WaitTask(ctx, id, c.platformWait); err != nil {
			return Platform{}, err
		}
	}
	if task.Status != TaskStatusSucceeded {
		return Platform{}, &TaskError{ID: task.ID, Name: task.Name, Status: task.Status, Progress: task.Progress, Messages: task.Messages(), Err: ErrTaskFailed}
	}
	var p Platform
	if len(task.Details) == 0 || json.Unmarshal(task.Details[0], &p) != nil || p.Version == "" {
		return Platform{}, &APIError{Command: "get-platform", HTTPStatus: http.StatusOK, Server: c.server,
			Message: "task-details[0] has no version", Protocol: true}
	}
	return p, nil
}

// taskCall sends a write whose reply is {"task-id": "…"} and returns the id.
func (c *MgmtClient) taskCall(ctx context.Context, cmd string, body any) (string, error) {
	raw, err := c.call(ctx, cmd, body, mgmtOpts{write: true})
	if err != nil {
		return "", err
	}
	id, ok := mgmtTaskID(raw)
	if !ok {
		return "", &APIError{Command: cmd, HTTPStatus: http.StatusOK, Server: c.server, Message: "reply has no task-id", Protocol: true, Ambiguous: true}
	}
	return id, nil
}

// mgmtTaskID reads "task-id", or "tasks"[0]."task-id" (a form some
// commands answer with).
func mgmtTaskID(raw json.RawMessage) (string, bool) {
	var r struct {
		TaskID string `json:"task-id"`
		Tasks  []struct {
			TaskID string `json:"task-id"`
		} `json:"tasks"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return "", false
	}
	if r.TaskID != "" {
		return r.TaskID, true
	}
	if len(r.Tasks) > 0 && r.Tasks[0].TaskID != "" {
		return r.Tasks[0].TaskID, true
	}
	return "", false
}

// mgmtInlineTask returns the finished task a reply carries in "tasks"
// (done=false when it carries none, or one still in progress).
func mgmtInlineTask(raw json.RawMessage) (Task, bool, error) {
	var r struct {
		Tasks []json.RawMessage `json:"tasks"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return Task{}, false, fmt.Errorf("reply does not decode: %v", err)
	}
	if len(r.Tasks) == 0 {
		return Task{}, false, nil
	}
	t, err := decodeMgmtTask(r.Tasks[0])
	if err != nil {
		return Task{}, false, err
	}
	return t, t.Status != TaskStatusInProgress, nil
}

// mgmtNonEmpty checks name/value pairs of arguments.
func mgmtNonEmpty(cmd string, pairs ...string) error {
	var probs []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			probs = append(probs, pairs[i]+" is empty")
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrMgmtConfig, cmd, strings.Join(probs, "; "))
	}
	return nil
}

// roundTrip sends one request and decodes the reply. Errors never mention
// the URL, the sid or a credential.
func (c *MgmtClient) roundTrip(ctx context.Context, cmd string, payload []byte, sid string, o mgmtOpts) (json.RawMessage, error) {
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var written atomic.Bool
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				written.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.base+"/"+cmd, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: cannot build the request", ErrMgmtConfig, cmd)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if sid != "" {
		req.Header.Set("X-chkp-sid", sid)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "checkpoint: mgmt call failed", "command", cmd, "duration", time.Since(start), "written", written.Load())
		return nil, c.transportError(cmd, err, o.write, written.Load())
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, mgmtMaxBody+1))
	c.log.DebugContext(ctx, "checkpoint: mgmt call", "command", cmd, "status", resp.StatusCode, "duration", time.Since(start))
	if err != nil {
		return nil, c.transportError(cmd, err, o.write, true)
	}
	if len(data) > mgmtMaxBody {
		return nil, &APIError{Command: cmd, HTTPStatus: resp.StatusCode, Server: c.server, Message: "reply larger than 64 MiB", Protocol: true, Ambiguous: o.write}
	}
	return c.decode(cmd, resp.StatusCode, data, o)
}

// decode turns a reply into its JSON object or an *APIError.
func (c *MgmtClient) decode(cmd string, status int, data []byte, o mgmtOpts) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(data)
	isObject := len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed)
	if status == http.StatusOK && isObject {
		return json.RawMessage(trimmed), nil
	}
	ae := &APIError{Command: cmd, HTTPStatus: status, Server: c.server}
	switch {
	case status >= 300 && status < 400:
		ae.Message, ae.Protocol = "redirect refused (redirects are not followed)", true
	case isObject:
		var body struct {
			Code           string            `json:"code"`
			Message        string            `json:"message"`
			Errors         []json.RawMessage `json:"errors"`
			BlockingErrors []json.RawMessage `json:"blocking-errors"`
			Warnings       []json.RawMessage `json:"warnings"`
		}
		if err := json.Unmarshal(trimmed, &body); err != nil {
			ae.Message, ae.Protocol = "error reply does not decode", true
			break
		}
		ae.Code = body.Code
		ae.Message = c.redact(body.Message)
		for _, e := range append(body.Errors, body.BlockingErrors...) {
			ae.Errors = append(ae.Errors, c.redact(mgmtEntryMessage(e)))
		}
		for _, w := range body.Warnings {
			ae.Warnings = append(ae.Warnings, c.redact(mgmtEntryMessage(w)))
		}
		if status == http.StatusOK { // a JSON object that is an error?
			ae.Protocol = true
		}
	case len(trimmed) > 0 && trimmed[0] == '<':
		ae.Message, ae.Protocol = "reply is an HTML page, not JSON", true
		if cmd == "login" {
			ae.Message += " (a management API that accepts requests from its own host only answers so: allow this client's address in the API settings)"
		}
	default:
		ae.Message, ae.Protocol = "reply is not a JSON object", true
	}
	if o.write && (status >= 500 || (status == http.StatusOK && ae.Protocol)) {
		ae.Ambiguous = true
	}
	return nil, ae
}

// mgmtEntryMessage reads an errors/warnings entry: a string or {"message"}.
func mgmtEntryMessage(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &m) == nil && m.Message != "" {
		return m.Message
	}
	return strings.TrimSpace(string(raw))
}

// transportError turns a net/http error into a *CertificateMismatchError
// or a *MgmtTransportError without the URL.
func (c *MgmtClient) transportError(cmd string, err error, write, written bool) error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	var cme *CertificateMismatchError
	if errors.As(inner, &cme) {
		return cme
	}
	var (
		unknownAuth x509.UnknownAuthorityError
		certInvalid x509.CertificateInvalidError
		hostname    x509.HostnameError
		verify      *tls.CertificateVerificationError
	)
	isTLS := errors.As(inner, &unknownAuth) || errors.As(inner, &certInvalid) || errors.As(inner, &hostname) || errors.As(inner, &verify)
	return &MgmtTransportError{Command: cmd, Server: c.server, Write: write, Written: written && !isTLS, TLS: isTLS, Err: inner}
}

// redact replaces every known secret in s with "[REDACTED]".
func (c *MgmtClient) redact(s string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sec := range append(append([]mgmtSecret(nil), c.creds...), c.sids...) {
		if t := sec.reveal(); len(t) >= 4 {
			s = strings.ReplaceAll(s, t, mgmtRedacted)
		}
	}
	return s
}
