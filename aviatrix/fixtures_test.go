package aviatrix

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixture reads testdata/api/<name> (copies of shared/fixtures/aviatrix/api;
// provenance in testdata/README.md).
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "api", name))
	require.NoError(t, err)
	return b
}

func TestFixturesDecode(t *testing.T) {
	t.Run("login reply: top-level CID", func(t *testing.T) {
		env, err := DecodeEnvelope("login", 200, fixture(t, "login-response-ha-test.json"))
		require.NoError(t, err)
		assert.True(t, env.Return)
		assert.Equal(t, "mycid", env.cid.reveal())
	})
	t.Run("get_api_token reply", func(t *testing.T) {
		env, err := DecodeEnvelope("get_api_token", 200, fixture(t, "get_api_token-response-ha-test.json"))
		require.NoError(t, err)
		var r struct {
			APIToken string `json:"api_token"`
		}
		require.NoError(t, json.Unmarshal(env.Results, &r))
		assert.Equal(t, "mytoken", r.APIToken)
	})
	t.Run("generic success: results as a string", func(t *testing.T) {
		env, err := DecodeEnvelope("upgrade_platform", 200, fixture(t, "generic-success-response-provider-test.json"))
		require.NoError(t, err)
		assert.Equal(t, `"success"`, string(env.Results))
	})
	t.Run("error whose reason embeds rest API ... failed", func(t *testing.T) {
		_, err := DecodeEnvelope("get_gateway_group_details", 200, fixture(t, "get_gateway_group_details-error-response-provider-test.json"))
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Nil(t, ae.Kind)
		assert.Equal(t, "rest API get_gateway_group_details Get failed: VPC sky-azure-transit-vnet-1:rg:uuid not found.", ae.Reason)
	})
	t.Run("backend not ready = restarting", func(t *testing.T) {
		_, err := DecodeEnvelope("list_version_info", 200, fixture(t, "backend-not-ready-valid-action-required-login.json"))
		assert.ErrorIs(t, err, ErrRestarting)
	})
	t.Run("busy reason", func(t *testing.T) {
		reason := strings.TrimSpace(string(fixture(t, "controller-busy-reason-active-upgrade-in-progress.txt")))
		body, _ := json.Marshal(map[string]any{"return": false, "reason": reason})
		_, err := DecodeEnvelope("upgrade_platform", 200, body)
		assert.ErrorIs(t, err, ErrBusy)
	})
	t.Run("issue #1907 reason is an ordinary refusal", func(t *testing.T) {
		line := strings.TrimSpace(string(fixture(t, "upgrade_selected_gateway-error-missing-version-issue1907.txt")))
		_, reason, ok := strings.Cut(line, "failed: ")
		require.True(t, ok)
		body, _ := json.Marshal(map[string]any{"return": false, "reason": reason})
		_, err := DecodeEnvelope("upgrade_selected_gateway", 200, body)
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Nil(t, ae.Kind)
		assert.Contains(t, ae.Error(), "following parameters are required: gateway_list, version")
	})
	t.Run("smoke-test request shows the fields hitless sends", func(t *testing.T) {
		req := string(fixture(t, "upgrade_selected_gateway-request-smoke-test.txt"))
		for _, f := range []string{`"action":"upgrade_selected_gateway"`, `"software_version"`, `"gateway_list"`, `"async"`, `"CID"`} {
			assert.Contains(t, req, f)
		}
		// The smoke test sent "latest"; hitless never does (AVX-44255).
		_, err := explicitVersion("latest")
		assert.ErrorIs(t, err, ErrVersion)
	})
}

func TestDecodeEnvelopeClassification(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		kind   error
	}{
		{"502 proxy page", 502, "<html><title>502 Proxy Error</title></html>", ErrRestarting},
		{"503 page", 503, "<!DOCTYPE html><h1>503 Service Unavailable</h1>", ErrRestarting},
		{"HTML with 200", 200, "<html>maintenance</html>", ErrRestarting},
		{"RequestRefused", 200, `{"return":false,"reason":"RequestRefused"}`, ErrRestarting},
		{"CID invalid", 200, `{"return":false,"reason":"CID is invalid or expired."}`, ErrSessionExpired},
		{"invalid session", 200, `{"return":false,"reason":"Invalid session. Please login again."}`, ErrSessionExpired},
		{"session expired", 200, `{"return":false,"reason":"Session abc123 expired"}`, ErrSessionExpired},
		{"401", 401, `{"return":false}`, ErrAuth},
		{"not JSON", 200, `hello`, ErrProtocol},
		{"no return", 200, `{"results":1}`, ErrProtocol},
		{"500 JSON", 500, `{"return":false,"reason":"x"}`, ErrProtocol},
	} {
		_, err := DecodeEnvelope("a", tc.status, []byte(tc.body))
		assert.ErrorIs(t, err, tc.kind, tc.name)
	}
	// The CID inside "Session <CID> expired" is redacted by the decoder.
	_, err := DecodeEnvelope("a", 200, []byte(`{"return":false,"reason":"Session cid-SECRET-1 expired"}`))
	assert.NotContains(t, err.Error(), "cid-SECRET-1")
	// Lenient flags: "yes" and numbers as strings.
	env, err := DecodeEnvelope("a", 200, []byte(`{"return":"yes","results":7}`))
	require.NoError(t, err)
	assert.Equal(t, "7", string(env.Results))
}

// Reconstructed [R] shapes (aviatrix.md §3; no public capture).
func TestReconstructedShapes(t *testing.T) {
	vi, err := decodeVersionInfo(json.RawMessage(`{"current_version":"UserConnect-7.1.1794","previous_version":"UserConnect-7.1.1000","latest_version":"7.1.4101","kernel_version":"5.4"}`))
	require.NoError(t, err)
	assert.Equal(t, VersionInfo{Current: "7.1.1794", Previous: "7.1.1000", Latest: "7.1.4101", Kernel: "5.4"}, vi)
	vi, err = decodeVersionInfo(json.RawMessage(`"UserConnect-6.5.2721"`))
	require.NoError(t, err)
	assert.Equal(t, "6.5.2721", vi.Current)
	_, err = decodeVersionInfo(json.RawMessage(`{}`))
	assert.ErrorIs(t, err, ErrProtocol)

	gws, err := DecodeGateways(json.RawMessage(`[
	 {"vpc_name":"spoke-1","account_name":"a","cloud_type":"1","vpc_region":"us-east-1","vpc_state":"up","is_hagw":"no",
	  "spoke_vpc":"yes","gw_software_version":"UserConnect-6.5.2721",
	  "hagw_details":{"vpc_name":"spoke-1-hagw","vpc_size":"t3.small","gw_software_version":"6.5.2721","cloud_type":1}},
	 {"vpc_name":"spoke-2","cloud_type":1,"vpc_state":"up","is_hagw":false,"hagw_details":{"vpc_name":"spoke-2-hagw","vpc_size":""}},
	 {"vpc_name":"t-1","cloud_type":8,"transit_vpc":"yes","group_name":"g1","hagw_details":""},
	 {"vpc_name":"t-1-1","cloud_type":8,"is_hagw":"yes","primary_gw_name":"t-1","group_name":"g1","hagw_details":null}
	]`))
	require.NoError(t, err)
	names := []string{}
	for _, g := range gws {
		names = append(names, g.Name)
	}
	assert.Equal(t, []string{"spoke-1", "spoke-1-hagw", "spoke-2", "t-1", "t-1-1"}, names, "nested HA synthesised; empty vpc_size means no HA")
	assert.Equal(t, Gateway{Name: "spoke-1-hagw", Account: "a", Cloud: CloudAWS, Region: "us-east-1", Type: TypeSpoke, IsHA: true,
		Primary: "spoke-1", Size: "t3.small", Version: "6.5.2721"}, gws[1])
	assert.Equal(t, TypeTransit, gws[3].Type)
	assert.Equal(t, "t-1", gws[4].Primary)
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, name := range []string{"login-response-ha-test.json", "get_api_token-response-ha-test.json", "generic-success-response-provider-test.json",
		"get_gateway_group_details-error-response-provider-test.json", "backend-not-ready-valid-action-required-login.json"} {
		f.Add(200, fixture(f, name))
	}
	f.Add(502, []byte("<html>502 Proxy Error</html>"))
	f.Add(200, []byte(`{"return":false,"reason":"Session x expired"}`))
	f.Add(200, []byte(`{"return":true,"results":[{"vpc_name":"a","hagw_details":{"vpc_name":"b","vpc_size":"s"}}]}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		env, err := DecodeEnvelope("fuzz", status, body)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("untyped error %T %v", err, err)
			}
			_ = err.Error()
			return
		}
		if env == nil || !env.Return {
			t.Fatalf("nil error for a non-success reply")
		}
		// Decoders of results never panic either.
		_, _ = DecodeGateways(env.Results)
		_, _ = decodeVersionInfo(env.Results)
	})
}
