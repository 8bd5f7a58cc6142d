package aviatrix_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
)

func newClient(t *testing.T, cfg aviatrix.Config) *aviatrix.Client {
	t.Helper()
	c, err := aviatrix.NewClient(cfg)
	require.NoError(t, err)
	return c
}

// assertNoSecrets fails if s holds the password, any CID the fake issued,
// or a URL.
func assertNoSecrets(t *testing.T, fake *aviatrixtest.Fake, s string) {
	t.Helper()
	assert.NotContains(t, s, fake.Password())
	for _, cid := range fake.IssuedCIDs() {
		assert.NotContains(t, s, cid)
	}
	assert.NotContains(t, s, "https://")
}

func TestConfigValidate(t *testing.T) {
	ok := aviatrix.Config{URL: "https://ctl.example.com", Username: "admin", Password: "pw"}
	require.NoError(t, ok.Validate())
	insecure := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the refusal is under test
	for name, mod := range map[string]func(*aviatrix.Config){
		"empty URL":      func(c *aviatrix.Config) { c.URL = "" },
		"http":           func(c *aviatrix.Config) { c.URL = "http://ctl" },
		"path in URL":    func(c *aviatrix.Config) { c.URL = "https://ctl/v2/api" },
		"user info":      func(c *aviatrix.Config) { c.URL = "https://u:p@ctl" },
		"api path":       func(c *aviatrix.Config) { c.APIPath = "v2/api" },
		"no username":    func(c *aviatrix.Config) { c.Username = "" },
		"no password":    func(c *aviatrix.Config) { c.Password = "" },
		"two CA sources": func(c *aviatrix.Config) { c.CACertFile, c.RootCAs = "x.pem", x509.NewCertPool() },
		"in-memory and CA": func(c *aviatrix.Config) {
			c.Transport, c.CACertFile = aviatrixtest.HandlerTransport(http.NotFoundHandler()), "x.pem"
		},
		"skip verify":        func(c *aviatrix.Config) { c.Transport = insecure },
		"negative timeout":   func(c *aviatrix.Config) { c.Timeout = -1 },
		"bad release action": func(c *aviatrix.Config) { c.ReleaseListAction = "list releases" },
	} {
		cfg := ok
		mod(&cfg)
		err := cfg.Validate()
		assert.ErrorIs(t, err, aviatrix.ErrConfig, name)
		_, err = aviatrix.NewClient(cfg)
		assert.ErrorIs(t, err, aviatrix.ErrConfig, name)
	}
	s := fmt.Sprintf("%v %+v %#v", ok, ok, ok)
	assert.NotContains(t, s, "pw}")
	assert.Contains(t, s, "[REDACTED]")
}

func TestLoginWithAPIToken(t *testing.T) {
	fake := aviatrixtest.NewWithPairs("6.5.2721", 1)
	c := newClient(t, fake.ClientConfig())
	info, err := c.VersionInfo(t.Context())
	require.NoError(t, err)
	assert.Equal(t, aviatrix.VersionInfo{Current: "6.5.2721", Latest: "6.5.2721", Kernel: "5.4.0-1103-aws"}, info, "UserConnect- stripped")
	calls := fake.Calls()
	require.Len(t, calls, 3)
	assert.Equal(t, []string{"get_api_token GET", "login POST", "list_version_info POST"},
		[]string{calls[0].Action + " " + calls[0].Method, calls[1].Action + " " + calls[1].Method, calls[2].Action + " " + calls[2].Method})
	for _, k := range calls {
		assert.False(t, k.CIDInURL, "CID never in a URL")
	}
	assert.Equal(t, 1, c.Logins())
}

func TestLoginFallbackWithoutToken(t *testing.T) {
	fake := aviatrixtest.NewWithPairs("6.5.2721", 1, func(o *aviatrixtest.Options) { o.LegacyLogin = true })
	c := newClient(t, fake.ClientConfig())
	_, err := c.VersionInfo(t.Context())
	require.NoError(t, err)
	calls := fake.Calls()
	assert.False(t, calls[0].OK, "get_api_token refused")
	assert.Equal(t, "login", calls[1].Action)
	assert.True(t, calls[1].OK, "plain login accepted")
}

func TestSessionRefreshedOnce(t *testing.T) {
	fake := aviatrixtest.NewWithPairs("6.5.2721", 1)
	c := newClient(t, fake.ClientConfig())
	ctx := t.Context()
	_, err := c.VersionInfo(ctx)
	require.NoError(t, err)
	for i := range 3 { // each documented reason in turn
		fake.ExpireSessions()
		_, err = c.VersionInfo(ctx)
		require.NoError(t, err, "expiry %d", i)
	}
	assert.Equal(t, 4, c.Logins(), "one new login per expired session")
}

func TestSessionRejectedAfterReloginIsErrAuth(t *testing.T) {
	// Every CID expires at once: the retry after the new login fails too.
	fake := aviatrixtest.NewWithPairs("6.5.2721", 1, func(o *aviatrixtest.Options) { o.SessionTTL = time.Nanosecond })
	var logs bytes.Buffer
	cfg := fake.ClientConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, cfg)
	for range 3 {
		_, err := c.VersionInfo(t.Context())
		require.ErrorIs(t, err, aviatrix.ErrAuth)
		require.ErrorIs(t, err, aviatrix.ErrSessionExpired)
		assertNoSecrets(t, fake, err.Error())
	}
	assertNoSecrets(t, fake, logs.String())
	assert.Contains(t, logs.String(), "list_version_info")
}

func TestFailedLoginLeaksNoSecrets(t *testing.T) {
	fake := aviatrixtest.NewWithPairs("6.5.2721", 1)
	cfg := fake.ClientConfig()
	cfg.Password = "Wrong-Secret-Passw0rd"
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, cfg)
	_, err := c.VersionInfo(t.Context())
	require.ErrorIs(t, err, aviatrix.ErrAuth)
	var ae *aviatrix.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "login", ae.Action)
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v %#v", err, err), logs.String()} {
		assert.NotContains(t, s, "Wrong-Secret-Passw0rd")
		assert.NotContains(t, s, fake.Password())
		assert.NotContains(t, s, "tok-", "API token")
	}
	assert.Empty(t, fake.WriteCalls())
}

// scripted is a controller whose non-login replies follow a script (one
// entry per request, the last repeating); it counts requests per action.
type scripted struct {
	mu        sync.Mutex
	script    []func(w http.ResponseWriter)
	n         map[string]int
	tokenFail int // first get_api_token replies that are 502 pages
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	a := r.Form.Get("action")
	s.mu.Lock()
	s.n[a]++
	var f func(http.ResponseWriter)
	switch a {
	case "get_api_token":
		f = jsonReply(`{"return":true,"results":{"api_token":"t0k3n"}}`)
		if s.tokenFail > 0 {
			s.tokenFail--
			f = htmlReply(502, "<html>502 Proxy Error</html>")
		}
	case "login":
		f = jsonReply(`{"return":true,"CID":"c1d-SECRET"}`)
	default:
		f = s.script[0]
		if len(s.script) > 1 {
			s.script = s.script[1:]
		}
	}
	s.mu.Unlock()
	f(w)
}

func (s *scripted) count(a string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[a]
}

func jsonReply(body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { _, _ = w.Write([]byte(body)) }
}

func htmlReply(status int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func scriptedClient(t *testing.T, h http.Handler) *aviatrix.Client {
	return newClient(t, aviatrix.Config{URL: "https://127.0.0.1", Username: "admin", Password: "pw-SECRET",
		Transport: aviatrixtest.HandlerTransport(h)})
}

const vinfo = `{"return":true,"results":{"current_version":"UserConnect-6.6.5545"}}`

func TestRestartingControllerRetriedForReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{n: map[string]int{}, script: []func(http.ResponseWriter){
			htmlReply(502, "<html><title>502 Proxy Error</title></html>"),
			htmlReply(503, "<html><h1>503 Service Unavailable</h1></html>"),
			jsonReply(`{"return":false,"reason":"Valid action required: login"}`),
			jsonReply(`{"return":false,"reason":"RequestRefused"}`),
			jsonReply(vinfo),
		}}
		c := scriptedClient(t, s)
		start := time.Now()
		info, err := c.VersionInfo(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "6.6.5545", info.Current)
		assert.Equal(t, 5, s.count("list_version_info"))
		assert.Equal(t, (2+4+8+16)*time.Second, time.Since(start), "exponential backoff from 2 s")
	})
}

func TestRestartingBoundedByContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{n: map[string]int{}, script: []func(http.ResponseWriter){htmlReply(502, "<html>502 Proxy Error</html>")}}
		c := scriptedClient(t, s)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		_, err := c.VersionInfo(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "502 Proxy Error")
		s2 := &scripted{n: map[string]int{}, script: []func(http.ResponseWriter){htmlReply(502, "<html>502 Proxy Error</html>")}}
		c2 := newClient(t, aviatrix.Config{URL: "https://127.0.0.1", Username: "a", Password: "p", RetryFor: 10 * time.Minute,
			Transport: aviatrixtest.HandlerTransport(s2)})
		_, err = c2.VersionInfo(t.Context())
		require.ErrorIs(t, err, aviatrix.ErrRestarting)
	})
}

func TestWritesNotRetriedBlindly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A 502 may come after the backend acted: a write is not retried.
		s := &scripted{n: map[string]int{}, script: []func(http.ResponseWriter){htmlReply(502, "<html>502 Proxy Error</html>"), jsonReply(`{"return":true}`)}}
		c := scriptedClient(t, s)
		err := c.UpgradePlatform(t.Context(), "6.6.5545")
		require.ErrorIs(t, err, aviatrix.ErrRestarting)
		assert.Equal(t, 1, s.count("upgrade_platform"))

		// A refusal proves nothing happened: retried.
		s = &scripted{n: map[string]int{}, script: []func(http.ResponseWriter){jsonReply(`{"return":false,"reason":"RequestRefused"}`), jsonReply(`{"return":true,"results":"ok"}`)}}
		c = scriptedClient(t, s)
		require.NoError(t, c.UpgradePlatform(t.Context(), "6.6.5545"))
		assert.Equal(t, 2, s.count("upgrade_platform"))

		// A login that meets the restart window is retried before the
		// write is sent (once).
		s = &scripted{n: map[string]int{}, tokenFail: 2, script: []func(http.ResponseWriter){jsonReply(`{"return":true,"results":"ok"}`)}}
		c = scriptedClient(t, s)
		require.NoError(t, c.UpgradePlatform(t.Context(), "6.6.5545"))
		assert.Equal(t, 3, s.count("get_api_token"))
		assert.Equal(t, 1, s.count("upgrade_platform"))

		// Busy is never retried.
		s = &scripted{n: map[string]int{}, script: []func(http.ResponseWriter){jsonReply(`{"return":false,"reason":"Active upgrade in progress."}`)}}
		c = scriptedClient(t, s)
		err = c.UpgradeGateways(t.Context(), []string{"gw-1"}, "6.6.5545")
		require.ErrorIs(t, err, aviatrix.ErrBusy)
		assert.Equal(t, 1, s.count("upgrade_selected_gateway"))
	})
}

// dropping is a controller whose every request loses its connection.
type dropping struct {
	mu sync.Mutex
	n  int
}

func (d *dropping) ServeHTTP(http.ResponseWriter, *http.Request) {
	d.mu.Lock()
	d.n++
	d.mu.Unlock()
	panic(http.ErrAbortHandler)
}

func TestTransportErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &dropping{}
		c := newClient(t, aviatrix.Config{URL: "https://127.0.0.1", Username: "a", Password: "p", RetryFor: time.Minute, Transport: aviatrixtest.HandlerTransport(d)})
		_, err := c.VersionInfo(t.Context())
		require.ErrorIs(t, err, aviatrix.ErrTransport)
		assert.Greater(t, d.n, 3, "reads (and the login) retried")
		assert.NotContains(t, err.Error(), "https://")
	})
}

func TestExplicitVersionsOnly(t *testing.T) {
	fake := aviatrixtest.NewWithPairs("6.5.2721", 1)
	c := newClient(t, fake.ClientConfig())
	for _, v := range []string{"latest", "6.6", "", "8.0.0-1000.2432", "6.3-patch.2309"} {
		assert.Error(t, c.UpgradePlatform(t.Context(), v), v)
		assert.Error(t, c.UpgradeGateways(t.Context(), []string{"spoke-001"}, v), v)
	}
	assert.ErrorIs(t, c.UpgradeGateways(t.Context(), []string{"a,b"}, "6.5.2721"), aviatrix.ErrInventory)
	assert.Empty(t, fake.WriteCalls(), "nothing malformed was sent")
}

func TestGatewayUpgradeSendsBothVersions(t *testing.T) {
	fake := aviatrixtest.NewWithPairs("6.5.2721", 1, func(o *aviatrixtest.Options) { o.GatewayVersion = "6.5.1922"; o.GatewayUpgrade = time.Millisecond })
	c := newClient(t, fake.ClientConfig())
	require.NoError(t, c.UpgradeGateways(t.Context(), []string{"spoke-001-hagw"}, "6.5.2721"))
	w := fake.WriteCalls()
	require.Len(t, w, 1)
	assert.Equal(t, map[string]string{"gateway_list": "spoke-001-hagw", "version": "6.5.2721", "software_version": "6.5.2721", "async": "true"}, w[0].Params, "issue #1907")
	sts, err := c.GatewayUpgradeStatus(t.Context())
	require.NoError(t, err)
	assert.Len(t, sts, 2)
}

func TestBusyController(t *testing.T) {
	fake := aviatrixtest.NewWithPairs("6.5.1922", 1, func(o *aviatrixtest.Options) { o.Busy = true })
	c := newClient(t, fake.ClientConfig())
	err := c.UpgradePlatform(t.Context(), "6.5.2721")
	require.ErrorIs(t, err, aviatrix.ErrBusy)
	assert.Len(t, fake.WriteCalls(), 1)
}

func TestOtherActions(t *testing.T) {
	fake := aviatrixtest.NewWithPairs("6.5.1922", 2)
	c := newClient(t, fake.ClientConfig())
	ctx := t.Context()
	b, err := c.BackupConfig(ctx)
	require.NoError(t, err)
	assert.True(t, b.Enabled)
	rel, err := c.Releases(ctx)
	require.NoError(t, err)
	assert.Contains(t, rel, "6.7.1574")
	ps, err := c.PlatformUpgradeStatus(ctx)
	require.NoError(t, err)
	assert.False(t, ps.Running())
	raw, err := c.Do(ctx, "list_version_info", nil, false)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "UserConnect-6.5.1922")
	_, err = c.Do(ctx, "no_such_action", nil, false)
	var ae *aviatrix.APIError
	require.ErrorAs(t, err, &ae)
	_, err = c.Do(ctx, "bad action", nil, false)
	require.ErrorIs(t, err, aviatrix.ErrConfig)
	done, err := c.TaskStatus(ctx, "req-999999")
	assert.False(t, done)
	assert.Error(t, err)
}

func TestTLSVerification(t *testing.T) {
	fake, err := aviatrixtest.Start(aviatrixtest.Options{ControllerVersion: "6.5.2721", Pairs: 1})
	require.NoError(t, err)
	defer fake.Close()

	// Untrusted: system roots do not know the httptest certificate.
	cfg := fake.ClientConfig()
	cfg.RootCAs = nil
	cfg.RetryFor = time.Millisecond
	c := newClient(t, cfg)
	_, err = c.VersionInfo(t.Context())
	require.ErrorIs(t, err, aviatrix.ErrTLS)
	assertNoSecrets(t, fake, err.Error())
	assert.Empty(t, fake.Calls(), "nothing reached the handler")

	// Trusted through RootCAs.
	c = newClient(t, fake.ClientConfig())
	_, err = c.VersionInfo(t.Context())
	require.NoError(t, err)

	// Trusted through a CA file.
	file := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw}), 0o600))
	cfg = fake.ClientConfig()
	cfg.RootCAs, cfg.CACertFile = nil, file
	c = newClient(t, cfg)
	_, err = c.VersionInfo(t.Context())
	require.NoError(t, err)

	cfg.CACertFile = filepath.Join(t.TempDir(), "missing.pem")
	_, err = aviatrix.NewClient(cfg)
	require.ErrorIs(t, err, aviatrix.ErrConfig)
	assert.True(t, strings.HasPrefix(fake.URL(), "https://127.0.0.1:"), "loopback only")
}
