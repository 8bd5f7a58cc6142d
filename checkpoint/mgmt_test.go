package checkpoint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/checkpoint/checkpointtest"
	"github.com/hitless/hitless/upgrade"
)

// mgmtOpts is a fake with one ClusterXL cluster (two members, the first
// already upgraded to R81.20 while the object is still R81.10), a VSX
// cluster with two Virtual Systems and one gateway.
func mgmtOpts() checkpointtest.MgmtOptions {
	return checkpointtest.MgmtOptions{
		Domains: []string{"Europe"},
		Clusters: []checkpointtest.MgmtCluster{{Name: "cp-cluster", Version: "R81.10", Members: []checkpointtest.MgmtMember{
			{Name: "cp-m1", IPAddress: "192.0.2.11", Version: "R81.20"},
			{Name: "cp-m2", IPAddress: "192.0.2.12"},
		}}},
		VSXClusters: []checkpointtest.MgmtVSXCluster{{Name: "vsx-cluster", Version: "R81.10",
			Members:        []checkpointtest.MgmtMember{{Name: "vsx-m1", IPAddress: "192.0.2.21"}, {Name: "vsx-m2", IPAddress: "192.0.2.22"}},
			VirtualSystems: []string{"vs-1", "vs-2"}}},
		Gateways: []checkpointtest.MgmtMember{{Name: "gw-branch", IPAddress: "192.0.2.31", Version: "R81.20"}},
	}
}

// tlsFake starts a TLS fake on 127.0.0.1.
func tlsFake(t *testing.T, mods ...func(*checkpointtest.MgmtOptions)) *checkpointtest.MgmtServer {
	t.Helper()
	o := mgmtOpts()
	for _, m := range mods {
		m(&o)
	}
	s, err := checkpointtest.NewMgmtServer(o)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// memFake returns an in-memory fake (for synctest bubbles).
func memFake(t *testing.T, mods ...func(*checkpointtest.MgmtOptions)) *checkpointtest.MgmtServer {
	t.Helper()
	o := mgmtOpts()
	for _, m := range mods {
		m(&o)
	}
	s, err := checkpointtest.NewMgmtServerInMemory(o)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, cfg checkpoint.MgmtConfig) *checkpoint.MgmtClient {
	t.Helper()
	c, err := checkpoint.NewMgmtClient(cfg)
	require.NoError(t, err)
	return c
}

// logBuffer is a goroutine-safe sink for slog handlers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// assertNoSecrets fails when any secret occurs in text.
func assertNoSecrets(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		assert.NotContains(t, text, s, "%s leaks a secret", what)
	}
}

var (
	wait = upgrade.Timing{Interval: 5 * time.Second, Deadline: 10 * time.Minute}
	// wait7 polls at instants that never coincide with the fake's task
	// ends (multiples of 30 s), so virtual-time figures are exact.
	wait7 = upgrade.Timing{Interval: 7 * time.Second, Deadline: 10 * time.Minute}
)

func TestMgmtConfigValidateReportsEveryProblem(t *testing.T) {
	err := checkpoint.MgmtConfig{URL: "http://u:p@mgmt/web_api?x=1", APIVersion: "one", User: "admin", APIKey: "k",
		CACertPEM: []byte("not pem"), CACertFile: "/ca.pem", PinnedSHA256: "abc", Timeout: -1, SessionTimeout: 5 * time.Second,
		Transport: http.DefaultTransport}.Validate()
	require.ErrorIs(t, err, checkpoint.ErrMgmtConfig)
	for _, want := range []string{`scheme "http"`, "user info", "query", "web_api", "APIVersion", "not both",
		"CACertPEM or CACertFile", "no PEM certificate", "PinnedSHA256", "Timeout -1ns is negative", "SessionTimeout 5s",
		"Transport of type *http.Transport"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.ErrorContains(t, checkpoint.MgmtConfig{URL: "https://mgmt"}.Validate(), "no credentials")
	assert.ErrorContains(t, checkpoint.MgmtConfig{URL: "https://mgmt", User: "admin"}.Validate(), "Password is empty")
	assert.ErrorContains(t, checkpoint.MgmtConfig{URL: "https://mgmt", Password: "x"}.Validate(), "User is empty")
	assert.ErrorContains(t, checkpoint.MgmtConfig{URL: "https://10.0.0.5", APIKey: "k", Transport: checkpoint.NewMgmtMemoryTransport(http.NotFoundHandler())}.Validate(),
		"loopback URLs only")
	require.NoError(t, checkpoint.MgmtConfig{URL: "https://10.0.0.5:4434", APIVersion: "1.8", APIKey: "k",
		PinnedSHA256: strings.Repeat("ab:", 31) + "ab", SessionTimeout: time.Hour}.Validate())
	_, err = checkpoint.NewMgmtClient(checkpoint.MgmtConfig{URL: "https://10.0.0.5", APIKey: "k", CACertFile: filepath.Join(t.TempDir(), "missing.pem")})
	assert.ErrorIs(t, err, checkpoint.ErrMgmtConfig)
}

func TestParseMgmtFingerprintForms(t *testing.T) {
	want := bytes.Repeat([]byte{0xab}, 32)
	for _, in := range []string{strings.Repeat("AB", 32), strings.Repeat("ab:", 31) + "ab", "sha256:" + strings.Repeat("ab", 32),
		"SHA256 Fingerprint=" + strings.Repeat("AB:", 31) + "AB", strings.Repeat("ab ", 32)} {
		got, err := checkpoint.ParseMgmtFingerprint(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "ab", strings.Repeat("zz", 32), strings.Repeat("ab", 20)} {
		_, err := checkpoint.ParseMgmtFingerprint(in)
		assert.Error(t, err, in)
	}
}

// Every fmt verb, JSON and both slog handlers render the config and the
// client without the password, the API key or the session ID.
func TestMgmtSecretsNeverRendered(t *testing.T) {
	s := tlsFake(t)
	cfg := s.ClientConfig()
	keyCfg := cfg
	keyCfg.User, keyCfg.Password, keyCfg.APIKey = "", "", checkpointtest.DefaultMgmtAPIKey
	c := newClient(t, cfg)
	require.NoError(t, c.Login(t.Context()))
	secrets := append([]string{checkpointtest.DefaultMgmtPassword, checkpointtest.DefaultMgmtAPIKey}, s.IssuedSIDs()...)
	require.Len(t, secrets, 3)

	values := map[string]any{
		"config": cfg, "*config": &cfg, "api-key config": keyCfg, "client": c,
		"struct": struct {
			Cfg    checkpoint.MgmtConfig
			Client *checkpoint.MgmtClient
		}{cfg, c},
		"slice": []any{cfg, keyCfg, c},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%t", "%x", "%X", "%10.3v"} {
			assertNoSecrets(t, name+" "+verb, fmt.Sprintf(verb, v), secrets...)
		}
		b, err := json.Marshal(v)
		require.NoError(t, err, name)
		assertNoSecrets(t, name+" JSON", string(b), secrets...)
		var text, js logBuffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("x", "v", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "v", v)
		assertNoSecrets(t, name+" slog text", text.String(), secrets...)
		assertNoSecrets(t, name+" slog JSON", js.String(), secrets...)
	}
	assert.Contains(t, fmt.Sprint(cfg), "[REDACTED]")
	assert.Contains(t, fmt.Sprint(c), "Session:[REDACTED]")
	b, _ := json.Marshal(keyCfg)
	assert.Contains(t, string(b), `"api_key":"[REDACTED]"`)
}

func TestMgmtLoginUsesSessionHeaderAndLogout(t *testing.T) {
	s := tlsFake(t)
	c := newClient(t, s.ClientConfig())
	require.NoError(t, c.Keepalive(t.Context()), "the first call logs in")
	require.NoError(t, c.Logout(t.Context()))
	require.NoError(t, c.Logout(t.Context()), "no session: nothing sent")
	calls := s.Calls()
	require.Len(t, calls, 3)
	assert.Equal(t, "login", calls[0].Command)
	assert.False(t, calls[0].HadSession)
	assert.Equal(t, "[REDACTED]", calls[0].Body["password"], "the fake records no secret")
	assert.Equal(t, checkpointtest.DefaultMgmtUser, calls[0].Body["user"])
	assert.Equal(t, []string{"keepalive", "logout"}, []string{calls[1].Command, calls[2].Command})
	assert.True(t, calls[1].HadSession && calls[2].HadSession)
	assert.Empty(t, s.WriteCalls())
	assert.Equal(t, 1, c.Logins())
}

func TestMgmtAPIKeyDomainAndVersionPath(t *testing.T) {
	s := tlsFake(t)
	cfg := s.ClientConfig()
	cfg.User, cfg.Password, cfg.APIKey, cfg.Domain, cfg.APIVersion = "", "", checkpointtest.DefaultMgmtAPIKey, "Europe", "1.8"
	cfg.SessionTimeout = 20 * time.Minute
	c := newClient(t, cfg)
	require.NoError(t, c.Login(t.Context()))
	assert.Equal(t, 20*time.Minute, c.SessionTimeout(), "the login reply's session-timeout")
	login := s.Calls()[0]
	assert.Equal(t, "[REDACTED]", login.Body["api-key"])
	assert.Equal(t, "Europe", login.Body["domain"])
	assert.EqualValues(t, 1200, login.Body["session-timeout"])
	assert.Equal(t, "1.8", login.APIVersion)
	assert.NotContains(t, login.Body, "user")

	cfg.Domain = "Asia"
	err := newClient(t, cfg).Login(t.Context())
	require.ErrorIs(t, err, checkpoint.ErrAuth)
	assert.Contains(t, err.Error(), "with an API key")
	assertNoSecrets(t, "error", err.Error(), checkpointtest.DefaultMgmtAPIKey)
}

func TestMgmtWrongPasswordIsErrAuthNamingUserAndServer(t *testing.T) {
	s := tlsFake(t)
	cfg := s.ClientConfig()
	cfg.Password = "Wr0ng-Secret-Passw0rd"
	var logs logBuffer
	cfg.Logger = debugLogger(&logs)
	err := newClient(t, cfg).Keepalive(t.Context())
	require.ErrorIs(t, err, checkpoint.ErrAuth)
	var ae *checkpoint.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "login", ae.Command)
	assert.Equal(t, 400, ae.HTTPStatus)
	assert.Equal(t, "err_login_failed", ae.Code)
	assert.Equal(t, "Authentication to server failed.", ae.Message)
	assert.Equal(t, checkpointtest.DefaultMgmtUser, ae.User)
	host := strings.TrimPrefix(s.URL(), "https://")
	assert.Contains(t, err.Error(), `as user "admin" to `+host)
	assertNoSecrets(t, "error", err.Error(), cfg.Password)
	assertNoSecrets(t, "logs", logs.String(), cfg.Password)
	assert.Equal(t, 1, s.CallCount("login"), "a refused login is not retried")
	assert.Equal(t, 0, s.CallCount("keepalive"))
}

func TestMgmtPinnedFingerprint(t *testing.T) {
	s := tlsFake(t)
	cfg := s.ClientConfig()
	cfg.CACertPEM, cfg.PinnedSHA256 = nil, strings.ToLower(strings.ReplaceAll(s.Fingerprint(), ":", ""))
	c := newClient(t, cfg)
	require.NoError(t, c.Login(t.Context()), "the pin replaces chain verification")
	require.Len(t, s.Calls(), 1)

	s.SwapCertificate(true)
	fresh := newClient(t, cfg) // new connections
	before := len(s.Calls())
	err := fresh.Login(t.Context())
	require.ErrorIs(t, err, checkpoint.ErrCertificateMismatch)
	var cme *checkpoint.CertificateMismatchError
	require.ErrorAs(t, err, &cme)
	assert.Equal(t, strings.TrimPrefix(s.URL(), "https://"), cme.Host)
	assert.Equal(t, s.Fingerprint(), cme.Expected)
	assert.Equal(t, s.ImpostorFingerprint(), cme.Seen)
	assert.Contains(t, err.Error(), s.Fingerprint())
	assert.Contains(t, err.Error(), s.ImpostorFingerprint())
	assert.Len(t, s.Calls(), before, "the fake saw no request")

	// Pin and CA bundle together: both must hold.
	cfg.CACertPEM = s.CACertPEM()
	_, err = newClient(t, cfg).ShowTask(t.Context(), "x")
	require.Error(t, err)
	assert.True(t, errors.Is(err, checkpoint.ErrMgmtTLS) || errors.Is(err, checkpoint.ErrCertificateMismatch), "%v", err)
	assert.Len(t, s.Calls(), before)
}

func TestMgmtCABundleFileAndSystemRoots(t *testing.T) {
	s := tlsFake(t)
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, s.CACertPEM(), 0o600))
	cfg := s.ClientConfig()
	cfg.CACertPEM, cfg.CACertFile = nil, path
	require.NoError(t, newClient(t, cfg).Login(t.Context()))

	// The system roots do not know the fake's CA: refused, nothing sent.
	cfg.CACertFile = ""
	err := newClient(t, cfg).Login(t.Context())
	require.ErrorIs(t, err, checkpoint.ErrMgmtTLS)
	assert.False(t, errors.Is(err, checkpoint.ErrAmbiguous), "the request was never written")
	// A swapped certificate from another CA fails the CA bundle too.
	s.SwapCertificate(true)
	cfg.CACertFile = path
	err = newClient(t, cfg).Login(t.Context())
	require.ErrorIs(t, err, checkpoint.ErrMgmtTLS)
	assert.Equal(t, 1, s.CallCount("login"))
}

// The session is rejected in the middle of a wait: one login more, the
// wait goes on and ends with the task's result.
func TestMgmtSessionExpiryMidWaitTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := memFake(t, func(o *checkpointtest.MgmtOptions) { o.PolicyInstall = 3 * time.Minute })
		c := newClient(t, s.ClientConfig())
		id, err := c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"gw-branch"}, Access: true})
		require.NoError(t, err)
		s.ExpireSessionsAfter(time.Minute)
		start := time.Now()
		task, err := c.WaitTask(t.Context(), id, wait7)
		require.NoError(t, err)
		assert.Equal(t, checkpoint.TaskStatusSucceeded, task.Status)
		assert.Equal(t, 182*time.Second, time.Since(start), "the first poll after the 3-minute task")
		assert.Equal(t, 2, c.Logins())
		assert.Equal(t, 2, s.Logins())
		var rejected int
		for _, call := range s.Calls() {
			if call.Code == "generic_err_wrong_session_id" {
				rejected++
			}
		}
		assert.Equal(t, 1, rejected, "one rejected show-task, then the new session")
	})
}

// A 40-minute policy install polled every 15 minutes, on a server where
// only keepalive extends a 10-minute session: keepalive every 5 minutes
// keeps the one session alive.
func TestMgmtKeepaliveDuringLongWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := memFake(t, func(o *checkpointtest.MgmtOptions) {
			o.KeepaliveOnly, o.SessionTimeout, o.PolicyInstall = true, 10*time.Minute, 40*time.Minute
		})
		c := newClient(t, s.ClientConfig())
		id, err := c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"gw-branch"}, Access: true})
		require.NoError(t, err)
		task, err := c.WaitTask(t.Context(), id, upgrade.Timing{Interval: 15 * time.Minute, Deadline: time.Hour})
		require.NoError(t, err)
		assert.Equal(t, checkpoint.TaskStatusSucceeded, task.Status)
		assert.Equal(t, 1, s.Logins(), "the session never expired")
		var at []time.Duration
		var start time.Time
		for _, call := range s.Calls() {
			switch call.Command {
			case "login":
				start = call.At
			case "keepalive":
				at = append(at, call.At.Sub(start))
			}
			assert.Less(t, call.Status, 400, "%s answered %d", call.Command, call.Status)
		}
		// Every 5 minutes from the login until the wait ends at 45 minutes
		// (the keepalive due at 45 minutes may or may not precede the last
		// poll).
		require.GreaterOrEqual(t, len(at), 8, "a keepalive every half session timeout")
		require.LessOrEqual(t, len(at), 9)
		for i, d := range at {
			assert.Equal(t, time.Duration(i+1)*5*time.Minute, d, "keepalive %d", i+1)
		}
	})
}

// The MVC intermediate install: the upgraded member succeeds, the member
// still on the old version fails; the task is "partially succeeded",
// which WaitTask returns as a task, and GatewayResults says which member
// failed.
func TestMgmtPartiallySucceededPerGateway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var installed []string
		s := memFake(t, func(o *checkpointtest.MgmtOptions) {
			o.PolicyResult = func(target, member string) string {
				if member == "cp-m2" {
					return "Policy compiled for R81.20 cannot be installed on a member running R81.10"
				}
				return checkpointtest.MgmtPolicySucceeded
			}
			o.OnPolicyInstalled = func(target, member string, access, tp bool) {
				mu.Lock()
				defer mu.Unlock()
				installed = append(installed, fmt.Sprintf("%s/%s access=%t tp=%t", target, member, access, tp))
			}
		})
		c := newClient(t, s.ClientConfig())
		id, err := c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "Standard",
			Targets: []string{"cp-cluster"}, Access: true, InstallOnAllClusterMembersOrFail: false})
		require.NoError(t, err)
		start := time.Now()
		task, err := c.WaitTask(t.Context(), id, wait7)
		require.NoError(t, err, "partially succeeded is not an error")
		assert.Equal(t, 35*time.Second, time.Since(start), "polled every 7 s, the task ran 30 s")
		assert.Equal(t, checkpoint.TaskStatusPartiallySucceeded, task.Status)
		assert.Equal(t, "Policy installation - Standard", task.Name)
		res, err := task.GatewayResults()
		require.NoError(t, err)
		require.Len(t, res, 2)
		assert.Equal(t, "cp-m1", res[0].Name())
		assert.True(t, res[0].Succeeded)
		assert.Equal(t, "cp-m2", res[1].Name())
		assert.False(t, res[1].Succeeded)
		assert.Equal(t, checkpoint.TaskStatusFailed, res[1].Status)
		assert.Equal(t, []string{"Verification: Policy compiled for R81.20 cannot be installed on a member running R81.10"}, res[1].Errors)
		assert.Equal(t, []string{"cp-cluster/cp-m1 access=true tp=false"}, installed)

		var body map[string]any
		for _, call := range s.Calls() {
			if call.Command == "install-policy" {
				body = call.Body
			}
		}
		assert.Equal(t, false, body["install-on-all-cluster-members-or-fail"], "sent explicitly when false")
		assert.Equal(t, false, body["threat-prevention"], "sent explicitly when false")
		assert.Equal(t, true, body["access"])
		assert.Equal(t, []any{"cp-cluster"}, body["targets"])
	})
}

func TestMgmtFailedTaskIsErrTaskFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := memFake(t)
		s.FailPolicyOn("cp-m2", true)
		c := newClient(t, s.ClientConfig())
		// install-on-all-cluster-members-or-fail true: one member fails,
		// the whole cluster fails.
		id, err := c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "Standard",
			Targets: []string{"cp-cluster"}, Access: true, ThreatPrevention: true, InstallOnAllClusterMembersOrFail: true})
		require.NoError(t, err)
		task, err := c.WaitTask(t.Context(), id, wait)
		require.ErrorIs(t, err, checkpoint.ErrTaskFailed)
		var te *checkpoint.TaskError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, checkpoint.TaskStatusFailed, te.Status)
		assert.Contains(t, err.Error(), "cp-m2: Verification: Policy installation failed on gateway cp-m2")
		assert.Contains(t, err.Error(), "cp-m1: Verification: Installation was not performed on any cluster member because it failed on cp-m2")
		res, rerr := task.GatewayResults()
		require.NoError(t, rerr)
		for _, r := range res {
			assert.False(t, r.Succeeded, r.Name())
		}
		var body map[string]any
		for _, call := range s.Calls() {
			if call.Command == "install-policy" {
				body = call.Body
			}
		}
		assert.Equal(t, true, body["install-on-all-cluster-members-or-fail"])
		assert.Equal(t, true, body["threat-prevention"])
	})
}

func TestMgmtTaskNeverFinishesTimesOutAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := memFake(t)
		s.HangTasks("install-policy", true)
		c := newClient(t, s.ClientConfig())
		id, err := c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"gw-branch"}, Access: true})
		require.NoError(t, err)
		start := time.Now()
		task, err := c.WaitTask(t.Context(), id, upgrade.Timing{Interval: 7 * time.Second, Deadline: 5 * time.Minute})
		assert.Equal(t, 5*time.Minute, time.Since(start), "exactly at the deadline")
		require.ErrorIs(t, err, checkpoint.ErrTaskTimeout)
		assert.ErrorIs(t, err, upgrade.ErrGateTimeout)
		var te *checkpoint.TaskError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, checkpoint.TaskStatusInProgress, te.Status)
		assert.Equal(t, checkpoint.TaskStatusInProgress, task.Status)
		assert.Equal(t, 5*time.Minute, te.Deadline)
		assert.Equal(t, 43, s.CallCount("show-task"), "polls at 0, 7 s, … 294 s")
	})
}

// A write whose connection drops after the request was written is not
// sent again: ErrAmbiguous, and the fake saw it once (and acted on it).
func TestMgmtAmbiguousWriteOverTLS(t *testing.T) {
	s := tlsFake(t)
	cfg := s.ClientConfig()
	cfg.RetryBackoff = 10 * time.Millisecond
	c := newClient(t, cfg)
	require.NoError(t, c.Login(t.Context()))
	s.InjectFault("install-policy", checkpointtest.MgmtFaultDropAfter)
	_, err := c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"gw-branch"}, Access: true})
	require.ErrorIs(t, err, checkpoint.ErrAmbiguous)
	assert.ErrorIs(t, err, checkpoint.ErrMgmtTransport)
	var te *checkpoint.MgmtTransportError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Written)
	assert.Equal(t, 1, s.CallCount("install-policy"), "no second request")
	require.Len(t, s.WriteCalls(), 1)

	// A 502 on a write is ambiguous too; on a read it is retried.
	s.Reply502Once("publish")
	_, err = c.Publish(t.Context())
	require.ErrorIs(t, err, checkpoint.ErrAmbiguous)
	assert.ErrorIs(t, err, checkpoint.ErrMgmtServer)
	assert.Equal(t, 1, s.CallCount("publish"))
	s.Reply502Once("show-simple-cluster")
	s.InjectFault("show-simple-cluster", checkpointtest.MgmtFaultDropBefore)
	sc, err := c.ShowSimpleCluster(t.Context(), "cp-cluster")
	require.NoError(t, err)
	assert.Equal(t, "R81.10", sc.Version)
	assert.Equal(t, 3, s.CallCount("show-simple-cluster"))
}

// A write whose reply never comes is cut at MgmtConfig.Timeout, exactly,
// and reported ambiguous; it is never sent again.
func TestMgmtAmbiguousWriteTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := memFake(t)
		cfg := s.ClientConfig()
		cfg.Timeout = 30 * time.Second
		c := newClient(t, cfg)
		s.InjectFault("set-simple-cluster", checkpointtest.MgmtFaultHangAfter)
		start := time.Now()
		_, err := c.SetSimpleClusterVersion(t.Context(), "cp-cluster", "R81.20")
		assert.Equal(t, 30*time.Second, time.Since(start))
		require.ErrorIs(t, err, checkpoint.ErrAmbiguous)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 1, s.CallCount("set-simple-cluster"))
		// A login lost the same way is not re-sent either.
		s.InjectFault("login", checkpointtest.MgmtFaultDropAfter)
		err = newClient(t, cfg).Login(t.Context())
		require.ErrorIs(t, err, checkpoint.ErrAmbiguous)
		assert.Equal(t, 2, s.CallCount("login"), "one login per client")
	})
}

// Reads are retried 3 times with doubling backoff (1 s, 2 s, 4 s), then
// the last error is returned; a deadline too close stops the retries.
func TestMgmtReadRetriesAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		counts := map[string]int{}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cmd := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			mu.Lock()
			counts[cmd]++
			mu.Unlock()
			if cmd == "login" {
				_, _ = io.WriteString(w, `{"sid":"scripted-session-id-0001","session-timeout":600}`)
				return
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"code":"generic_error","message":"Server is busy"}`)
		})
		c := newClient(t, checkpoint.MgmtConfig{URL: "https://localhost", User: "a", Password: "b", Transport: checkpoint.NewMgmtMemoryTransport(h)})
		start := time.Now()
		_, err := c.ShowTask(t.Context(), "t1")
		assert.Equal(t, 7*time.Second, time.Since(start))
		require.ErrorIs(t, err, checkpoint.ErrMgmtServer)
		assert.Contains(t, err.Error(), "after 4 attempts")
		assert.Equal(t, 4, counts["show-task"])

		ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
		defer cancel()
		_, err = c.ShowSimpleCluster(ctx, "x")
		require.ErrorIs(t, err, checkpoint.ErrMgmtServer)
		assert.Equal(t, 2, counts["show-simple-cluster"], "1 s fits before the deadline, 2 s more does not")

		_, err = c.Publish(t.Context())
		require.ErrorIs(t, err, checkpoint.ErrAmbiguous)
		assert.Equal(t, 1, counts["publish"])
	})
}

// A session rejected again right after a new login is returned, after
// exactly one re-login; generic_err_session_expired is handled like
// generic_err_wrong_session_id, and its text is scrubbed of the sid.
func TestMgmtSessionRejectedTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		logins, shows := 0, 0
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if strings.HasSuffix(r.URL.Path, "/login") {
				logins++
				fmt.Fprintf(w, `{"sid":"scripted-sid-%04d"}`, logins)
				return
			}
			shows++
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"code":"generic_err_session_expired","message":"Session %s expired"}`, r.Header.Get("X-chkp-sid"))
		})
		c := newClient(t, checkpoint.MgmtConfig{URL: "https://127.0.0.1", User: "a", Password: "b", Transport: checkpoint.NewMgmtMemoryTransport(h)})
		_, err := c.ShowTask(t.Context(), "t1")
		require.ErrorIs(t, err, checkpoint.ErrSession)
		assert.Equal(t, 2, logins)
		assert.Equal(t, 2, shows)
		assert.NotContains(t, err.Error(), "scripted-sid-")
		assert.Contains(t, err.Error(), "Session [REDACTED] expired")
	})
}

func TestMgmtUnknownTaskStatusIsNotSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/login") {
				_, _ = io.WriteString(w, `{"sid":"scripted-sid"}`)
				return
			}
			_, _ = io.WriteString(w, `{"tasks":[{"task-id":"t1","task-name":"x","status":"succeeded with warnings","progress-percentage":100}]}`)
		})
		c := newClient(t, checkpoint.MgmtConfig{URL: "https://localhost", User: "a", Password: "b", Transport: checkpoint.NewMgmtMemoryTransport(h)})
		task, err := c.WaitTask(t.Context(), "t1", wait)
		require.ErrorIs(t, err, checkpoint.ErrTaskFailed)
		assert.Contains(t, err.Error(), `"succeeded with warnings", which is not success`)
		assert.Equal(t, "succeeded with warnings", task.Status)
	})
}

// Cluster object version change, publish, VSX upgrade, get-platform and a
// locked object, against the fake over TLS.
func TestMgmtObjectsOverTLS(t *testing.T) {
	s := tlsFake(t, func(o *checkpointtest.MgmtOptions) {
		o.TaskTime, o.VSXUpgrade = 10*time.Millisecond, 20*time.Millisecond
	})
	c := newClient(t, s.ClientConfig())
	ctx := t.Context()
	fast := upgrade.Timing{Interval: 5 * time.Millisecond, Deadline: 10 * time.Second}

	sc, err := c.ShowSimpleCluster(ctx, "cp-cluster")
	require.NoError(t, err)
	assert.Equal(t, checkpoint.SimpleCluster{Name: "cp-cluster", Version: "R81.10", Hardware: "Open server", OSName: "Gaia",
		ClusterMode: "cluster-xl-ha", Members: []checkpoint.ClusterMemberObject{
			{Name: "cp-m1", IPAddress: "192.0.2.11", SICState: "communicating"},
			{Name: "cp-m2", IPAddress: "192.0.2.12", SICState: "communicating"}}}, sc)
	_, err = c.ShowSimpleCluster(ctx, "nope")
	require.ErrorIs(t, err, checkpoint.ErrNotFound)

	id, err := c.SetSimpleClusterVersion(ctx, "cp-cluster", "R81.20")
	require.NoError(t, err)
	_, err = c.WaitTask(ctx, id, fast)
	require.NoError(t, err)
	sc, err = c.ShowSimpleCluster(ctx, "cp-cluster")
	require.NoError(t, err)
	assert.Equal(t, "R81.20", sc.Version, "the session sees its change")
	assert.Equal(t, "R81.10", s.ClusterVersion("cp-cluster"), "not published yet")
	id, err = c.Publish(ctx)
	require.NoError(t, err)
	_, err = c.WaitTask(ctx, id, fast)
	require.NoError(t, err)
	assert.Equal(t, "R81.20", s.ClusterVersion("cp-cluster"))

	s.LockObject("cp-cluster", true)
	_, err = c.SetSimpleClusterVersion(ctx, "cp-cluster", "R81.10")
	require.ErrorIs(t, err, checkpoint.ErrLocked)
	assert.False(t, errors.Is(err, checkpoint.ErrAmbiguous))

	id, err = c.VSXUpgrade(ctx, "vsx-cluster", "R81.20")
	require.NoError(t, err)
	_, err = c.WaitTask(ctx, id, fast)
	require.NoError(t, err)
	assert.Equal(t, "R81.20", s.ClusterVersion("vsx-cluster"))
	for _, call := range s.Calls() {
		if call.Command == "vsx-run-operation" {
			assert.Equal(t, map[string]any{"operation": "upgrade", "upgrade-params": map[string]any{"target-version": "R81.20", "vsx-name": "vsx-cluster"}}, call.Body)
		}
	}

	cfg := s.ClientConfig()
	cfg.PlatformWait = fast
	pc := newClient(t, cfg)
	p, err := pc.GetPlatform(ctx, "cp-m1")
	require.NoError(t, err)
	assert.Equal(t, checkpoint.Platform{OSName: "Gaia", Version: "R81.20", Hardware: "Open server"}, p)
	s.SetPlatform("cp-m2", checkpoint.Platform{OSName: "Gaia", Version: "R82", Hardware: "Open server"})
	p, err = pc.GetPlatform(ctx, "cp-m2")
	require.NoError(t, err)
	assert.Equal(t, "R82", p.Version)
	_, err = pc.GetPlatform(ctx, "nope")
	require.ErrorIs(t, err, checkpoint.ErrNotFound)

	_, err = c.InstallPolicy(ctx, checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"cp-cluster"}})
	require.ErrorIs(t, err, checkpoint.ErrMgmtConfig, "no layer selected: nothing sent")
	assert.Equal(t, 0, s.CallCount("install-policy"))
}

// A whole flow with a debug logger: wrong password, session expiry (the
// fake's message echoes the sid), a policy install: no secret in any log
// line or error.
func TestMgmtSecretsNeverInLogsOrErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := memFake(t)
		var logs logBuffer
		var errs []string
		cfg := s.ClientConfig()
		cfg.Logger = debugLogger(&logs)
		bad := cfg
		bad.Password = "Totally-Wrong-Passw0rd"
		_, err := newClient(t, bad).ShowSimpleCluster(t.Context(), "cp-cluster")
		require.ErrorIs(t, err, checkpoint.ErrAuth)
		errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))

		c := newClient(t, cfg)
		require.NoError(t, c.Login(t.Context()))
		s.ExpireSessions()
		id, err := c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"cp-cluster"}, Access: true})
		require.NoError(t, err, "re-login after the rejected session")
		s.ExpireSessions()
		task, err := c.WaitTask(t.Context(), id, wait)
		require.NoError(t, err)
		errs = append(errs, fmt.Sprintf("%+v %#v", task, c))
		_, err = c.ShowTask(t.Context(), "no-such-task")
		require.ErrorIs(t, err, checkpoint.ErrNotFound)
		errs = append(errs, err.Error())
		s.FailPolicyOn("cp-m1", true)
		id, err = c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"gw-branch", "cp-cluster"}, Access: true})
		require.NoError(t, err)
		_, err = c.WaitTask(t.Context(), id, wait)
		require.NoError(t, err, "partially succeeded")
		require.NoError(t, c.Logout(t.Context()))

		sids := s.IssuedSIDs()
		require.Len(t, sids, 3)
		secrets := append([]string{checkpointtest.DefaultMgmtPassword, bad.Password}, sids...)
		out := logs.String()
		assert.Contains(t, out, "command=install-policy")
		assert.Contains(t, out, "status=200")
		assert.Contains(t, out, "duration=")
		assertNoSecrets(t, "logs", out, secrets...)
		for _, e := range errs {
			assertNoSecrets(t, "error", e, secrets...)
		}
		b, _ := json.Marshal(s.Calls())
		assertNoSecrets(t, "the fake's call record", string(b), checkpointtest.DefaultMgmtPassword, bad.Password)
	})
}

func TestGatewayResultsFailClosed(t *testing.T) {
	task := func(status string, details ...string) checkpoint.Task {
		tk := checkpoint.Task{ID: "t", Status: status}
		for _, d := range details {
			tk.Details = append(tk.Details, json.RawMessage(d))
		}
		return tk
	}
	for name, tk := range map[string]checkpoint.Task{
		"in progress":     task("in progress", `{"gatewayName":"gw"}`),
		"no details":      task("succeeded"),
		"not an object":   task("succeeded", `"gw"`),
		"no gateway":      task("succeeded", `{"statusCode":"succeeded"}`),
		"wrong type":      task("succeeded", `{"gatewayName":"gw","statusCode":1}`),
		"bad stages":      task("succeeded", `{"gatewayName":"gw","stagesInfo":{"type":"err"}}`),
		"bad stage entry": task("succeeded", `{"gatewayName":"gw","stagesInfo":["err"]}`),
	} {
		_, err := tk.GatewayResults()
		assert.ErrorIs(t, err, checkpoint.ErrMgmtProtocol, name)
	}
	res, err := task("partially succeeded",
		`{"gatewayId":"u1","gatewayName":"a","statusCode":"succeeded"}`,
		`{"gatewayName":"b"}`,
		`{"gatewayName":"c","statusCode":"succeeded","fault-message":"disk full"}`,
		`{"gatewayName":"d","statusCode":"succeeded","stagesInfo":[{"stage":"Commit","type":"err","messages":[{"type":"err","message":"boom"}]}]}`,
		`{"gatewayName":"e","statusCode":"installed?"}`,
	).GatewayResults()
	require.NoError(t, err)
	got := map[string]bool{}
	for _, r := range res {
		got[r.Name()] = r.Succeeded
	}
	assert.Equal(t, map[string]bool{"a": true, "b": false, "c": false, "d": false, "e": false}, got,
		"success needs a positive statusCode (b has none in a partial task) and no error anywhere")
	assert.Equal(t, []string{"Commit: boom"}, res[3].Errors)
	res, err = task("succeeded", `{"gatewayName":"solo"}`).GatewayResults()
	require.NoError(t, err)
	assert.True(t, res[0].Succeeded, "no statusCode: the entry is success only when the whole task succeeded and nothing failed")
}

// Many calls that meet the same rejected session share one new login.
func TestMgmtConcurrentCallsShareOneRelogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := memFake(t)
		c := newClient(t, s.ClientConfig())
		require.NoError(t, c.Login(t.Context()))
		s.ExpireSessions()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				_, err := c.ShowSimpleCluster(t.Context(), "cp-cluster")
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		assert.Equal(t, 2, s.Logins())
		assert.Equal(t, 2, c.Logins())
	})
}

// Replies that are not the documented JSON: an HTML login page (an API
// server that accepts local requests only) is unusable and, login being a
// write, ambiguous; a JSON error body's errors/warnings entries are read
// whether strings or {"message"} objects.
func TestMgmtUnusableAndDetailedReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reply := func(status int, body string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/login") {
					w.WriteHeader(status)
					_, _ = io.WriteString(w, body)
					return
				}
				_, _ = io.WriteString(w, `{"sid":"scripted-sid"}`)
			})
		}
		html := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "<html><body>Access denied</body></html>")
		})
		c := newClient(t, checkpoint.MgmtConfig{URL: "https://localhost", User: "a", Password: "b", Transport: checkpoint.NewMgmtMemoryTransport(html)})
		err := c.Login(t.Context())
		require.ErrorIs(t, err, checkpoint.ErrMgmtProtocol)
		assert.ErrorIs(t, err, checkpoint.ErrAmbiguous)
		assert.Contains(t, err.Error(), "accepts requests from its own host only")

		c = newClient(t, checkpoint.MgmtConfig{URL: "https://localhost", User: "a", Password: "b", Transport: checkpoint.NewMgmtMemoryTransport(
			reply(400, `{"code":"err_validation_failed","message":"Validation failed","errors":[{"message":"bad target"},"plain"],"blocking-errors":[{"message":"blocked"}],"warnings":["careful"]}`))})
		_, err = c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "p", Targets: []string{"x"}, Access: true})
		var ae *checkpoint.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, []string{"bad target", "plain", "blocked"}, ae.Errors)
		assert.Equal(t, []string{"careful"}, ae.Warnings)
		assert.False(t, errors.Is(err, checkpoint.ErrAmbiguous), "a JSON 4xx refusal is definite")
		assert.Equal(t, "checkpoint: mgmt install-policy to localhost: HTTP 400 err_validation_failed: Validation failed (errors: bad target; plain; blocked) (warnings: careful)", err.Error())

		c = newClient(t, checkpoint.MgmtConfig{URL: "https://localhost", User: "a", Password: "b", Transport: checkpoint.NewMgmtMemoryTransport(reply(200, `{"message":"OK"}`))})
		_, err = c.Publish(t.Context())
		require.ErrorIs(t, err, checkpoint.ErrAmbiguous, "no task-id: the publish may have started")
		assert.ErrorIs(t, err, checkpoint.ErrMgmtProtocol)
	})
}
