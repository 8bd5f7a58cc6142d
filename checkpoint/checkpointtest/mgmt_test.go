package checkpointtest_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

func mgmtFakeOpts() checkpointtest.MgmtOptions {
	return checkpointtest.MgmtOptions{
		Clusters: []checkpointtest.MgmtCluster{{Name: "cl", Version: "R81.10", Members: []checkpointtest.MgmtMember{
			{Name: "m1", IPAddress: "192.0.2.1", Version: "R81.20"}, {Name: "m2", IPAddress: "192.0.2.2"}}}},
		VSXClusters: []checkpointtest.MgmtVSXCluster{{Name: "vsx", Version: "R81.20",
			Members: []checkpointtest.MgmtMember{{Name: "v1"}, {Name: "v2"}}, VirtualSystems: []string{"vs1"}}},
		Gateways: []checkpointtest.MgmtMember{{Name: "gw", Version: "R81.20"}},
	}
}

// rawPost sends one API request and returns the status and decoded body.
func rawPost(t *testing.T, hc *http.Client, base, cmd, sid string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/web_api/"+cmd, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if sid != "" {
		req.Header.Set("X-chkp-sid", sid)
	}
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m), string(data))
	return resp.StatusCode, m
}

func memServer(t *testing.T, mods ...func(*checkpointtest.MgmtOptions)) (*checkpointtest.MgmtServer, *http.Client) {
	t.Helper()
	o := mgmtFakeOpts()
	for _, m := range mods {
		m(&o)
	}
	s, err := checkpointtest.NewMgmtServerInMemory(o)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s, &http.Client{Transport: s.Transport()}
}

func login(t *testing.T, hc *http.Client, base string) string {
	t.Helper()
	st, m := rawPost(t, hc, base, "login", "", map[string]any{"user": checkpointtest.DefaultMgmtUser, "password": checkpointtest.DefaultMgmtPassword})
	require.Equal(t, 200, st, m)
	return m["sid"].(string)
}

// The TLS server listens on 127.0.0.1 only, with a certificate issued by
// its own CA, whose fingerprint it reports; a swapped certificate is from
// another CA.
func TestMgmtServerTLSOnLoopback(t *testing.T) {
	s, err := checkpointtest.NewMgmtServer(mgmtFakeOpts())
	require.NoError(t, err)
	defer s.Close()
	u, err := url.Parse(s.URL())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", u.Hostname())
	assert.Equal(t, checkpoint.MgmtFingerprint(s.Certificate().Raw), s.Fingerprint())
	assert.NotEqual(t, s.Fingerprint(), s.ImpostorFingerprint())

	var seen []string
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			seen = append(seen, checkpoint.MgmtFingerprint(cs.PeerCertificates[0].Raw))
			return nil
		}}}}
	defer hc.CloseIdleConnections()
	sid := login(t, hc, s.URL())
	assert.NotEmpty(t, sid)
	assert.Equal(t, []string{s.Fingerprint()}, seen)

	s.SwapCertificate(true)
	hc.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/web_api/keepalive", bytes.NewReader([]byte("{}")))
	_, err = hc.Do(req)
	require.Error(t, err, "the impostor is not from the fake's CA")
	assert.Len(t, s.Calls(), 1)
}

// Wire shapes: a wrong password is HTTP 400 err_login_failed; the login
// reply carries sid, uid, url, session-timeout, last-login-was-at and
// api-server-version; a missing sid is 401; an unknown command 404.
func TestMgmtServerWireShapes(t *testing.T) {
	s, hc := memServer(t)
	base := checkpointtest.MgmtInMemoryURL
	st, m := rawPost(t, hc, base, "login", "", map[string]any{"user": "admin", "password": "nope"})
	assert.Equal(t, 400, st)
	assert.Equal(t, map[string]any{"code": "err_login_failed", "message": "Authentication to server failed."}, m)
	st, m = rawPost(t, hc, base, "login", "", map[string]any{"api-key": checkpointtest.DefaultMgmtAPIKey})
	require.Equal(t, 200, st)
	for _, k := range []string{"sid", "uid", "url", "session-timeout", "last-login-was-at", "api-server-version"} {
		assert.Contains(t, m, k)
	}
	assert.EqualValues(t, 600, m["session-timeout"])
	sid := m["sid"].(string)
	assert.Len(t, sid, 43, "shaped like a real sid")
	st, m = rawPost(t, hc, base, "keepalive", "", map[string]any{})
	assert.Equal(t, 401, st)
	assert.Equal(t, "generic_err_missing_session_id", m["code"])
	st, m = rawPost(t, hc, base, "show-hosts", sid, map[string]any{})
	assert.Equal(t, 404, st)
	assert.Equal(t, "generic_err_command_not_found", m["code"])
	st, m = rawPost(t, hc, base, "login", "", map[string]any{"user": "admin", "password": checkpointtest.DefaultMgmtPassword, "session-timeout": 5})
	assert.Equal(t, 400, st, m)
	st, m = rawPost(t, hc, base, "show-task", sid, map[string]any{"task-id": "nope"})
	assert.Equal(t, 404, st)
	assert.Equal(t, "generic_err_object_not_found", m["code"])

	calls := s.Calls()
	assert.Equal(t, "[REDACTED]", calls[0].Body["password"])
	assert.Equal(t, "[REDACTED]", calls[1].Body["api-key"])
	assert.Equal(t, "err_login_failed", calls[0].Code)
	assert.Empty(t, s.WriteCalls())
}

// Sessions expire after their timeout without activity, or (KeepaliveOnly)
// without keepalive; ExpireSessions ends them at once; logout ends one.
func TestMgmtServerSessionExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, hc := memServer(t)
		base := checkpointtest.MgmtInMemoryURL
		sid := login(t, hc, base)
		advance(599 * time.Second)
		st, _ := rawPost(t, hc, base, "show-simple-cluster", sid, map[string]any{"name": "cl"})
		assert.Equal(t, 200, st, "activity extends the session")
		advance(600 * time.Second)
		st, m := rawPost(t, hc, base, "keepalive", sid, map[string]any{})
		assert.Equal(t, 401, st)
		assert.Equal(t, "generic_err_wrong_session_id", m["code"])

		sid = login(t, hc, base)
		s.ExpireSessions()
		st, _ = rawPost(t, hc, base, "keepalive", sid, map[string]any{})
		assert.Equal(t, 401, st)
		sid = login(t, hc, base)
		st, _ = rawPost(t, hc, base, "logout", sid, map[string]any{})
		assert.Equal(t, 200, st)
		st, _ = rawPost(t, hc, base, "keepalive", sid, map[string]any{})
		assert.Equal(t, 401, st)
	})
	synctest.Test(t, func(t *testing.T) {
		s, hc := memServer(t, func(o *checkpointtest.MgmtOptions) {
			o.KeepaliveOnly, o.ExpiredCode = true, "generic_err_session_expired"
		})
		base := checkpointtest.MgmtInMemoryURL
		sid := login(t, hc, base)
		for range 3 {
			advance(300 * time.Second)
			st, _ := rawPost(t, hc, base, "keepalive", sid, map[string]any{})
			require.Equal(t, 200, st)
		}
		advance(400 * time.Second)
		st, _ := rawPost(t, hc, base, "show-simple-cluster", sid, map[string]any{"name": "cl"})
		require.Equal(t, 200, st)
		advance(200 * time.Second)
		st, m := rawPost(t, hc, base, "show-simple-cluster", sid, map[string]any{"name": "cl"})
		assert.Equal(t, 401, st, "only keepalive extends the session")
		assert.Equal(t, "generic_err_session_expired", m["code"])
		s.ExpireSessionsAfter(time.Minute)
		sid = login(t, hc, base)
		advance(61 * time.Second)
		st, _ = rawPost(t, hc, base, "keepalive", sid, map[string]any{})
		assert.Equal(t, 401, st)
	})
}

// install-policy: per-member outcomes from PolicyResult and FailPolicyOn,
// OnPolicyInstalled for each member that installed, all-or-fail on
// cluster targets (true when absent), Virtual Systems installed on every
// VSX member, timing by virtual time.
func TestMgmtServerInstallPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []string
		s, _ := memServer(t, func(o *checkpointtest.MgmtOptions) {
			o.PolicyResult = func(target, member string) string {
				if member == "m2" {
					return "old version"
				}
				return ""
			}
			o.OnPolicyInstalled = func(target, member string, access, tp bool) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, target+"/"+member)
			}
		})
		cfg := s.ClientConfig()
		c, err := checkpoint.NewMgmtClient(cfg)
		require.NoError(t, err)
		run := func(req checkpoint.InstallPolicyRequest) (checkpoint.Task, error) {
			id, err := c.InstallPolicy(t.Context(), req)
			require.NoError(t, err)
			assert.Equal(t, checkpoint.TaskStatusInProgress, s.TaskStatus(id))
			advance(29 * time.Second)
			assert.Equal(t, checkpoint.TaskStatusInProgress, s.TaskStatus(id))
			return c.WaitTask(t.Context(), id, upgrade.Timing{Interval: 7 * time.Second, Deadline: time.Minute})
		}
		task, err := run(checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"cl", "gw"}, Access: true})
		require.NoError(t, err)
		assert.Equal(t, checkpoint.TaskStatusPartiallySucceeded, task.Status)
		res, err := task.GatewayResults()
		require.NoError(t, err)
		outcome := map[string]bool{}
		for _, r := range res {
			outcome[r.Name()] = r.Succeeded
		}
		assert.Equal(t, map[string]bool{"m1": true, "m2": false, "gw": true}, outcome)
		assert.Equal(t, []string{"cl/m1", "gw/gw"}, got)

		got = nil
		task, err = run(checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"cl"}, Access: true, InstallOnAllClusterMembersOrFail: true})
		require.ErrorIs(t, err, checkpoint.ErrTaskFailed)
		assert.Equal(t, checkpoint.TaskStatusFailed, task.Status)
		assert.Empty(t, got, "all-or-fail: nothing installed")

		s.SetPolicyResult(nil)
		s.FailPolicyOn("v2", true)
		task, err = run(checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"vs1"}, ThreatPrevention: true})
		require.NoError(t, err)
		res, err = task.GatewayResults()
		require.NoError(t, err)
		require.Len(t, res, 2)
		assert.True(t, res[0].Succeeded)
		assert.False(t, res[1].Succeeded)
		assert.Equal(t, []string{"vs1/v1"}, got)
		s.FailPolicyOn("v2", false)
		task, err = run(checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"vsx"}, Access: true, ThreatPrevention: true})
		require.NoError(t, err)
		assert.Equal(t, checkpoint.TaskStatusSucceeded, task.Status)

		_, err = c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "Other", Targets: []string{"cl"}, Access: true})
		assert.ErrorIs(t, err, checkpoint.ErrNotFound)
		_, err = c.InstallPolicy(t.Context(), checkpoint.InstallPolicyRequest{PolicyPackage: "Standard", Targets: []string{"nope"}, Access: true})
		assert.ErrorIs(t, err, checkpoint.ErrNotFound)
		assert.Len(t, s.WriteCalls(), 6, "refused writes are recorded too")
	})
}

// set-simple-cluster changes stay in the session until publish; a
// vsx-run-operation upgrade publishes by itself and never downgrades;
// get-platform answers from the table, SetPlatform or the Platform
// callback.
func TestMgmtServerObjectModel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := memServer(t)
		ctx := t.Context()
		timing := upgrade.Timing{Interval: time.Second, Deadline: time.Minute}
		a, err := checkpoint.NewMgmtClient(s.ClientConfig())
		require.NoError(t, err)
		b, err := checkpoint.NewMgmtClient(s.ClientConfig())
		require.NoError(t, err)
		id, err := a.SetSimpleClusterVersion(ctx, "cl", "R81.20")
		require.NoError(t, err)
		_, err = a.WaitTask(ctx, id, timing)
		require.NoError(t, err)
		view := func(c *checkpoint.MgmtClient) string {
			sc, err := c.ShowSimpleCluster(ctx, "cl")
			require.NoError(t, err)
			return sc.Version
		}
		assert.Equal(t, "R81.20", view(a))
		assert.Equal(t, "R81.10", view(b), "another session sees the published object")
		id, err = a.Publish(ctx)
		require.NoError(t, err)
		task, err := a.WaitTask(ctx, id, timing)
		require.NoError(t, err)
		assert.Equal(t, "Publish operation", task.Name)
		assert.Equal(t, "R81.20", view(b))
		_, err = a.SetSimpleClusterVersion(ctx, "cl", "R8120")
		assert.Error(t, err)

		id, err = a.VSXUpgrade(ctx, "vsx", "R81.10")
		require.NoError(t, err)
		_, err = a.WaitTask(ctx, id, timing)
		require.NoError(t, err)
		assert.Equal(t, "R81.20", s.ClusterVersion("vsx"), "no downgrade")
		id, err = a.VSXUpgrade(ctx, "vsx", "R82")
		require.NoError(t, err)
		_, err = a.WaitTask(ctx, id, timing)
		require.NoError(t, err)
		assert.Equal(t, "R82", s.ClusterVersion("vsx"))
		_, err = a.VSXUpgrade(ctx, "nope", "R82")
		assert.ErrorIs(t, err, checkpoint.ErrNotFound)

		cfg := s.ClientConfig()
		cfg.PlatformWait = timing
		p, err := checkpoint.NewMgmtClient(cfg)
		require.NoError(t, err)
		got, err := p.GetPlatform(ctx, "m2")
		require.NoError(t, err)
		assert.Equal(t, "R81.10", got.Version, "a member without its own version runs the object's")
		s.SetPlatformFunc(func(name string) (checkpoint.Platform, bool) {
			return checkpoint.Platform{OSName: "Gaia", Version: "R82", Hardware: "Smart-1"}, name == "m1"
		})
		got, err = p.GetPlatform(ctx, "m1")
		require.NoError(t, err)
		assert.Equal(t, checkpoint.Platform{OSName: "Gaia", Version: "R82", Hardware: "Smart-1"}, got)
		got, err = p.GetPlatform(ctx, "gw")
		require.NoError(t, err)
		assert.Equal(t, "R81.20", got.Version)
	})
}

// Fault knobs: 502 once, drops before and after acting, a hang after
// acting, tasks that never finish, a locked object.
func TestMgmtServerFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, hc := memServer(t)
		base := checkpointtest.MgmtInMemoryURL
		sid := login(t, hc, base)
		post := func(cmd string, body any) (*http.Response, error) {
			b, _ := json.Marshal(body)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/web_api/"+cmd, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-chkp-sid", sid)
			return hc.Do(req)
		}
		s.Reply502Once("publish")
		resp, err := post("publish", map[string]any{})
		require.NoError(t, err)
		assert.Equal(t, 502, resp.StatusCode)
		_ = resp.Body.Close()
		resp, err = post("publish", map[string]any{})
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode, "once only")
		_ = resp.Body.Close()

		s.InjectFault("set-simple-cluster", checkpointtest.MgmtFaultDropBefore)
		_, err = post("set-simple-cluster", map[string]any{"name": "cl", "version": "R81.20"})
		require.ErrorIs(t, err, checkpoint.ErrMgmtConnectionReset)
		s.InjectFault("set-simple-cluster", checkpointtest.MgmtFaultDropAfter)
		_, err = post("set-simple-cluster", map[string]any{"name": "cl", "version": "R81.20"})
		require.ErrorIs(t, err, checkpoint.ErrMgmtConnectionReset)
		s.InjectFault("install-policy", checkpointtest.MgmtFaultHangAfter)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		b, _ := json.Marshal(map[string]any{"policy-package": "Standard", "targets": []string{"gw"}})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/web_api/install-policy", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-chkp-sid", sid)
		start := time.Now()
		_, err = hc.Do(req)
		cancel()
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 10*time.Second, time.Since(start))
		var faults []string
		var tasks int
		for _, c := range s.Calls() {
			if c.Fault != 0 {
				faults = append(faults, c.Command+":"+c.Fault.String())
			}
		}
		assert.Equal(t, []string{"publish:502", "set-simple-cluster:drop-before", "set-simple-cluster:drop-after", "install-policy:hang-after"}, faults)
		advance(time.Minute)
		for i := 1; i <= 10; i++ {
			if st := s.TaskStatus(taskID(i)); st != "" {
				tasks++
				assert.Equal(t, checkpoint.TaskStatusSucceeded, st, "task %d", i)
			}
		}
		assert.Equal(t, 3, tasks, "publish, set-simple-cluster after acting, install-policy after acting; none for the 502 or the early drop")

		s.HangTasks("", true)
		c, err := checkpoint.NewMgmtClient(s.ClientConfig())
		require.NoError(t, err)
		id, err := c.Publish(t.Context())
		require.NoError(t, err)
		advance(time.Hour)
		assert.Equal(t, checkpoint.TaskStatusInProgress, s.TaskStatus(id))
		s.LockObject("cl", true)
		_, err = c.SetSimpleClusterVersion(t.Context(), "cl", "R81.20")
		assert.ErrorIs(t, err, checkpoint.ErrLocked)
	})
}

// taskID is the fake's n-th task id.
func taskID(n int) string { return fmt.Sprintf("01234567-89ab-cdef-%04x-%012x", n, n) }

func TestMgmtServerRefusesInvalidOptions(t *testing.T) {
	for name, o := range map[string]checkpointtest.MgmtOptions{
		"duplicate": {Clusters: []checkpointtest.MgmtCluster{{Name: "a", Version: "R81.20", Members: []checkpointtest.MgmtMember{{Name: "a"}}}}},
		"version":   {Gateways: []checkpointtest.MgmtMember{{Name: "g", Version: "81.20"}}},
		"no name":   {VSXClusters: []checkpointtest.MgmtVSXCluster{{Version: "R81.20"}}},
	} {
		_, err := checkpointtest.NewMgmtServerInMemory(o)
		assert.Error(t, err, name)
	}
	assert.True(t, checkpointtest.IsMgmtWrite("set-simple-cluster"))
	assert.True(t, checkpointtest.IsMgmtWrite("add-host"))
	assert.False(t, checkpointtest.IsMgmtWrite("show-task"))
	for _, cmd := range []string{"login", "logout", "keepalive", "get-platform", "show-simple-cluster"} {
		assert.False(t, checkpointtest.IsMgmtWrite(cmd), cmd)
	}
}

// advance lets d pass on the synctest bubble's virtual clock (every caller
// runs inside synctest.Test): nothing waits for state, time just moves.
func advance(d time.Duration) { <-time.After(d) }
