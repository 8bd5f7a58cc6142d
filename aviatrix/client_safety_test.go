package aviatrix_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
)

const html200 = "<html><title>502 Proxy Error</title></html>"

// A write that meets an HTML page (even with HTTP 200), a 502 or a dropped
// connection is sent once: its outcome is unknown. A JSON "not ready"
// refusal or an HTTP 503 proves nothing happened: it is sent again.
func TestWritesAfterAmbiguousRepliesAreNotResent(t *testing.T) {
	writesOf := map[string]func(context.Context, *aviatrix.Client) error{
		"upgrade_platform": func(ctx context.Context, c *aviatrix.Client) error { return c.UpgradePlatform(ctx, "6.6.5545") },
		"upgrade_selected_gateway": func(ctx context.Context, c *aviatrix.Client) error {
			return c.UpgradeGateways(ctx, []string{"gw-1"}, "6.6.5545")
		},
	}
	ambiguous := map[string]func(http.ResponseWriter){
		"HTML with HTTP 200": htmlReply(200, html200),
		"HTML with HTTP 502": htmlReply(502, html200),
		"empty HTTP 504":     func(w http.ResponseWriter) { w.WriteHeader(http.StatusGatewayTimeout) },
		"dropped connection": func(http.ResponseWriter) { panic(http.ErrAbortHandler) },
	}
	proven := map[string]func(http.ResponseWriter){
		"JSON Valid action required: login": jsonReply(`{"return":false,"reason":"Valid action required: login"}`),
		"JSON RequestRefused":               jsonReply(`{"return":false,"reason":"RequestRefused"}`),
		"HTTP 503 page":                     htmlReply(503, "<html><h1>503 Service Unavailable</h1></html>"),
	}
	synctest.Test(t, func(t *testing.T) {
		for action, write := range writesOf {
			for name, reply := range ambiguous {
				s := &scripted{n: map[string]int{}, script: []func(http.ResponseWriter){reply, jsonReply(`{"return":true,"results":"ok"}`)}}
				err := write(t.Context(), scriptedClient(t, s))
				require.Error(t, err, "%s %s", action, name)
				assert.True(t, aviatrix.WriteOutcomeUnknown(err), "%s %s: %v", action, name, err)
				assert.Equal(t, 1, s.count(action), "%s %s: sent once", action, name)
			}
			for name, reply := range proven {
				s := &scripted{n: map[string]int{}, script: []func(http.ResponseWriter){reply, jsonReply(`{"return":true,"results":"ok"}`)}}
				require.NoError(t, write(t.Context(), scriptedClient(t, s)), "%s %s", action, name)
				assert.Equal(t, 2, s.count(action), "%s %s: sent again", action, name)
			}
		}
	})
	// The HTML flag is recorded on the error.
	_, err := aviatrix.DecodeEnvelope("upgrade_platform", 200, []byte(html200))
	var ae *aviatrix.APIError
	require.ErrorAs(t, err, &ae)
	assert.True(t, ae.HTML)
	assert.Equal(t, 200, ae.Status)
	_, err = aviatrix.DecodeEnvelope("upgrade_platform", 200, []byte(`{"return":false,"reason":"RequestRefused"}`))
	require.ErrorAs(t, err, &ae)
	assert.False(t, ae.HTML)
	assert.False(t, aviatrix.WriteOutcomeUnknown(err))
	assert.False(t, aviatrix.WriteOutcomeUnknown(nil))
	assert.False(t, aviatrix.WriteOutcomeUnknown(aviatrix.ErrBusy))
}

// End to end over the fake's write faults: an ambiguous upgrade_platform
// reply is followed by polling platform_upgrade_status, which tells
// whether the upgrade started; it is never sent twice.
func TestControllerHopAfterAmbiguousReply(t *testing.T) {
	for _, tc := range []struct {
		fault  aviatrixtest.WriteFault
		ok     bool
		writes int
	}{
		{aviatrixtest.FaultHTMLAfterAct, true, 1}, // started: the hop completes
		{aviatrixtest.FaultDropAfterAct, true, 1}, // started, connection lost: completes
		{aviatrixtest.FaultHTMLNoAct, false, 1},   // not started: the hop fails, typed
		{aviatrixtest.Fault503, true, 2},          // proven refusal: sent again
	} {
		synctest.Test(t, func(t *testing.T) {
			fake := aviatrixtest.NewWithPairs("6.5.2721", 1)
			fake.SetWriteFault("upgrade_platform", tc.fault, 1)
			_, fleet := open(t, fake)
			p := hand(fleet, aviatrix.EndState{Controller: "6.6.5545", Version: "6.6.5545"}, fleet.ControllerHopSteps("6.6.5545")...)
			rep, err := run(t, fleet, p, nil)
			ws := fake.WriteCalls()
			require.Len(t, ws, tc.writes, "fault %d", tc.fault)
			assert.Equal(t, tc.fault, ws[0].Fault)
			if tc.ok {
				require.NoError(t, err, rep.Markdown())
				assert.Equal(t, "6.6.5545", fake.ControllerVersion())
				return
			}
			require.ErrorIs(t, err, aviatrix.ErrUpgradeFailed)
			require.ErrorIs(t, err, aviatrix.ErrRestarting, "the ambiguous reply is kept")
			var ue *aviatrix.UpgradeError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, "not started", ue.Status)
			assert.Equal(t, "6.5.2721", fake.ControllerVersion())
			assert.Equal(t, 1, rep.Steps[0].Attempts, "the hop is not retried")
		})
	}
}

// A gateway write with an ambiguous reply fails its step without a second
// send; a 503 is sent again and the batch completes.
func TestGatewayWriteAfterAmbiguousReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := aviatrixtest.NewWithPairs("6.5.2721", 1, func(o *aviatrixtest.Options) { o.GatewayVersion = "6.5.1922" })
		_, fleet := open(t, fake)
		fake.SetWriteFault("upgrade_selected_gateway", aviatrixtest.FaultHTMLAfterAct, 1)
		p := hand(fleet, aviatrix.EndState{Version: "6.5.2721", Gateways: []string{"spoke-001-hagw"}}, fleet.GatewayBatchSteps("6.5.2721", 1, "spoke-001-hagw")...)
		_, err := run(t, fleet, p, nil)
		require.ErrorIs(t, err, aviatrix.ErrRestarting)
		assert.True(t, aviatrix.WriteOutcomeUnknown(err))
		assert.Len(t, fake.WriteCalls(), 1, "never re-sent")

		<-time.After(5 * time.Minute) // the write the fake acted on completes
		fake.SetWriteFault("upgrade_selected_gateway", aviatrixtest.Fault503, 1)
		p = hand(fleet, aviatrix.EndState{Version: "6.5.2721", Gateways: []string{"spoke-001"}}, fleet.GatewayBatchSteps("6.5.2721", 2, "spoke-001")...)
		rep, err := run(t, fleet, p, nil)
		require.NoError(t, err, rep.Markdown())
		ws := fake.WriteCalls()
		require.Len(t, ws, 3)
		assert.Equal(t, aviatrixtest.Fault503, ws[1].Fault)
		assert.Equal(t, aviatrixtest.NoFault, ws[2].Fault)
		assert.Equal(t, "6.5.2721", fake.GatewayVersion("spoke-001"))
		assert.Equal(t, 0, fake.ProbeSummary().LostTicks)
	})
}

// Over real TLS a connection dropped after the controller acted is a
// transport error and the write is not sent again.
func TestDroppedWriteOverTLS(t *testing.T) {
	fake, err := aviatrixtest.Start(aviatrixtest.Options{ControllerVersion: "6.5.2721", GatewayVersion: "6.5.1922", Pairs: 1, GatewayUpgrade: time.Millisecond})
	require.NoError(t, err)
	defer fake.Close()
	fake.SetWriteFault("", aviatrixtest.FaultDropAfterAct, 1)
	c := newClient(t, fake.ClientConfig())
	err = c.UpgradeGateways(t.Context(), []string{"spoke-001-hagw"}, "6.5.2721")
	require.ErrorIs(t, err, aviatrix.ErrTransport)
	assert.True(t, aviatrix.WriteOutcomeUnknown(err))
	assert.Len(t, fake.WriteCalls(), 1)
	assertNoSecrets(t, fake, err.Error())
}

// wrapRT hides its transport from hitless.
type wrapRT struct{ rt http.RoundTripper }

func (w wrapRT) RoundTrip(r *http.Request) (*http.Response, error) { return w.rt.RoundTrip(r) }

// Config.Transport: only a *http.Transport hitless can verify TLS with, or
// an in-memory test transport, is accepted.
func TestTransportMustLeaveTLSVerificationToHitless(t *testing.T) {
	insecure := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the refusal is under test
	ok := aviatrix.Config{URL: "https://ctl.example.com", Username: "admin", Password: "pw"}
	for name, rt := range map[string]http.RoundTripper{
		"wrapper around an insecure transport": wrapRT{insecure},
		"wrapper around a default transport":   wrapRT{&http.Transport{}},
		"nil *http.Transport":                  (*http.Transport)(nil),
		"InsecureSkipVerify":                   insecure,
		"own TLS dialer": &http.Transport{DialTLSContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, fmt.Errorf("unused")
		}},
		"in-memory without handler": aviatrixtest.HandlerTransport(nil),
		"http.DefaultClient's nil":  http.DefaultClient.Transport,
	} {
		cfg := ok
		cfg.Transport = rt
		if rt == nil {
			require.NoError(t, cfg.Validate(), "nil means hitless's own transport")
			continue
		}
		require.ErrorIs(t, cfg.Validate(), aviatrix.ErrConfig, name)
		_, err := aviatrix.NewClient(cfg)
		require.ErrorIs(t, err, aviatrix.ErrConfig, name)
	}
	cfg := ok
	cfg.Transport, cfg.RootCAs = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}, x509.NewCertPool()
	require.ErrorIs(t, cfg.Validate(), aviatrix.ErrConfig, "CA in two places")

	fake, err := aviatrixtest.Start(aviatrixtest.Options{ControllerVersion: "6.5.2721", Pairs: 1})
	require.NoError(t, err)
	defer fake.Close()
	base := fake.ClientConfig()
	base.RetryFor = time.Millisecond
	call := func(cfg aviatrix.Config) error {
		c, err := aviatrix.NewClient(cfg)
		require.NoError(t, err)
		_, err = c.VersionInfo(t.Context())
		return err
	}
	// A caller's *http.Transport is verified against RootCAs, or against
	// its own TLSClientConfig.RootCAs, or the system roots (untrusted here).
	cfg = base
	cfg.Transport = &http.Transport{IdleConnTimeout: time.Second}
	require.NoError(t, call(cfg))
	cfg.Transport, cfg.RootCAs = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: fake.CertPool()}}, nil
	require.NoError(t, call(cfg))
	cfg.Transport = &http.Transport{}
	require.ErrorIs(t, call(cfg), aviatrix.ErrTLS)

	// With no Transport, hitless's own is used even when the process-wide
	// http.DefaultTransport was told to skip verification.
	dt := http.DefaultTransport.(*http.Transport)
	old := dt.TLSClientConfig
	dt.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the bypass under test
	t.Cleanup(func() { dt.TLSClientConfig = old })
	cfg = base
	cfg.RootCAs = nil
	n := len(fake.Calls())
	require.ErrorIs(t, call(cfg), aviatrix.ErrTLS)
	assert.Len(t, fake.Calls(), n, "nothing unverified reached the controller")
}

// The Client never shows the password, the API token or the CID through
// fmt or slog.
func TestClientPrintsNoSecrets(t *testing.T) {
	s := &scripted{n: map[string]int{}, script: []func(http.ResponseWriter){jsonReply(vinfo)}}
	c := scriptedClient(t, s)
	before := fmt.Sprintf("%v", c)
	assert.Contains(t, before, "Session:none")
	_, err := c.VersionInfo(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, c.Logins())

	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("x", "client", c)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "client", c, "holder", struct{ C *aviatrix.Client }{c})
	cfgJSON, err := json.Marshal(aviatrix.Config{URL: "https://127.0.0.1", Username: "admin", Password: "pw-SECRET"})
	require.NoError(t, err)
	pct := fmt.Sprintf("%s", c)
	outs := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c), "%s": pct,
		"holder %+v": fmt.Sprintf("%+v", struct{ C *aviatrix.Client }{c}), "holder %#v": fmt.Sprintf("%#v", []any{c}),
		"slog text": text.String(), "slog json": js.String(), "config json": string(cfgJSON),
	}
	for name, out := range outs {
		for _, secret := range []string{"pw-SECRET", "c1d-SECRET", "t0k3n"} {
			assert.NotContains(t, out, secret, name)
		}
	}
	for _, name := range []string{"%v", "%+v", "%#v", "%s", "holder %+v"} {
		assert.Contains(t, outs[name], "Password:[REDACTED] Session:[REDACTED]", name)
	}
	assert.Contains(t, text.String(), "client.username=admin client.logged_in=true")
	assert.Contains(t, js.String(), `"logged_in":true`)
}

// No verb, no JSON encoding and no slog handler shows a secret (the
// password, the API token, a CID) of any type of the package that holds
// one: Config, Client, Envelope and Cluster, as values, pointers and
// inside a caller's struct.
func TestNoFormatLeaksSecrets(t *testing.T) {
	const password, token, cid = "pw-SECRET", "t0k3n", "c1d-SECRET"
	s := &scripted{n: map[string]int{}, script: []func(http.ResponseWriter){jsonReply(vinfo), jsonReply(`{"return":true,"results":[]}`), jsonReply(`{"return":true,"results":{"gw_info":[]}}`)}}
	c := scriptedClient(t, s)
	fleet, err := aviatrix.Open(t.Context(), c, aviatrix.ClusterOptions{Name: "avx"})
	require.NoError(t, err)
	require.Equal(t, 1, c.Logins(), "logged in: the client holds the token and the CID")
	cfg := aviatrix.Config{URL: "https://127.0.0.1", Username: "admin", Password: password}
	env, err := aviatrix.DecodeEnvelope("login", 200, []byte(`{"return":true,"CID":"`+cid+`"}`))
	require.NoError(t, err)
	tok, err := aviatrix.DecodeEnvelope("get_api_token", 200, []byte(`{"return":true,"results":{"api_token":"`+token+`"}}`))
	require.NoError(t, err)
	values := map[string]any{
		"Config": cfg, "*Config": &cfg, "*Client": c, "Envelope": *env, "*Envelope": env, "token Envelope": *tok, "*Cluster": fleet,
		"holder": struct {
			Cfg aviatrix.Config
			C   *aviatrix.Client
			E   aviatrix.Envelope
			F   *aviatrix.Cluster
		}{cfg, c, *env, fleet},
	}
	for name, v := range values {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%t", "%x", "%X"} {
			outs = append(outs, verb+": "+fmt.Sprintf(verb, v))
		}
		js, err := json.Marshal(v)
		require.NoError(t, err, name)
		outs = append(outs, "json: "+string(js))
		var text, jsl bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("x", "v", v)
		slog.New(slog.NewJSONHandler(&jsl, nil)).Info("x", "v", v)
		outs = append(outs, "slog text: "+text.String(), "slog json: "+jsl.String())
		for _, out := range outs {
			for _, secret := range []string{password, token, cid} {
				assert.NotContains(t, out, secret, "%s %s", name, out)
			}
			for _, hex := range []string{fmt.Sprintf("%x", password), fmt.Sprintf("%X", password), fmt.Sprintf("%x", cid), fmt.Sprintf("%x", token)} {
				assert.NotContains(t, out, hex, "%s: hex-encoded secret in %s", name, out)
			}
		}
	}
	// The redacted renderings still say what the value is.
	d, tv := "%d", "%t" // verbs that do not fit the types: fmt still goes through Format
	assert.Equal(t, `aviatrix.Config{URL:"https://127.0.0.1" APIPath:"/v2/api" Username:"admin" Password:[REDACTED]}`, fmt.Sprintf(d, cfg))
	assert.Contains(t, fmt.Sprintf(tv, c), "Session:[REDACTED]")
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.JSONEq(t, `{"url":"https://127.0.0.1","api_path":"/v2/api","username":"admin","password":"[REDACTED]"}`, string(js))
}

// The in-memory test transports serve loopback URLs only: a request to
// any other host is refused with an error (never a panic) before the
// handler sees it, so a test transport can never stand in for a real,
// verified connection to a production controller; Config.Validate refuses
// the combination up front.
func TestTestTransportServesLoopbackOnly(t *testing.T) {
	fake := aviatrixtest.NewWithPairs("6.5.2721", 1)
	served := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		fake.ServeHTTP(w, r)
	})
	for _, rt := range []http.RoundTripper{aviatrixtest.HandlerTransport(h), fake.Transport()} {
		hc := &http.Client{Transport: rt}
		for _, u := range []string{"https://controller.example.com/v2/api", "https://10.0.0.1/v2/api", "https://localhost.example.com/v2/api",
			"https://127.0.0.1.nip.io/v2/api", "https://[::2]/v2/api", "https://192.168.1.1:443/v2/api", "https://ctl/v2/api"} {
			before := served
			resp, err := hc.Post(u, "application/x-www-form-urlencoded", nil)
			if resp != nil {
				_ = resp.Body.Close()
			}
			require.ErrorIs(t, err, aviatrixtest.ErrNotLoopback, u)
			assert.Equal(t, before, served, "%s: the handler saw nothing", u)
		}
		// A loopback URL with another Host header is refused too.
		req, err := http.NewRequest(http.MethodPost, "https://127.0.0.1/v2/api", nil)
		require.NoError(t, err)
		req.Host = "controller.example.com"
		_, err = rt.RoundTrip(req)
		require.ErrorIs(t, err, aviatrixtest.ErrNotLoopback)
		for _, u := range []string{"https://127.0.0.1/v2/api", "https://localhost:8443/v2/api", "https://[::1]/v2/api", "https://LOCALHOST/v2/api", aviatrixtest.InMemoryURL + "/v2/api"} {
			resp, err := hc.Post(u, "application/x-www-form-urlencoded", nil)
			require.NoError(t, err, u)
			_ = resp.Body.Close()
		}
	}
	assert.NotZero(t, served)

	cfg := aviatrix.Config{URL: "https://ctl.example.com", Username: "admin", Password: "pw", Transport: aviatrixtest.HandlerTransport(h)}
	require.ErrorIs(t, cfg.Validate(), aviatrix.ErrConfig)
	assert.ErrorContains(t, cfg.Validate(), "in-memory test transport")
	_, err := aviatrix.NewClient(cfg)
	require.ErrorIs(t, err, aviatrix.ErrConfig)
	cfg.URL = "https://127.0.0.1"
	require.NoError(t, cfg.Validate())
}
