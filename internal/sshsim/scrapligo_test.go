package sshsim

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/scrapli/scrapligo/channel"
	"github.com/scrapli/scrapligo/driver/generic"
	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScrapligoGenericDriver proves that scrapligo v1.4.3's standard
// (crypto/ssh) transport with strict host key checking can drive the
// simulator: it sends the command, waits for its echo, sends "\n" and reads
// up to the prompt.
func TestScrapligoGenericDriver(t *testing.T) {
	srv, kh := startServer(t, testConfig(t))
	_, portStr, _ := splitAddr(t, srv.Addr())
	port, err := strconv.Atoi(portStr)
	require.NoError(t, err)

	d, err := generic.NewDriver("127.0.0.1",
		options.WithAuthUsername(testUser),
		options.WithAuthPassword(testPassword),
		options.WithPort(port),
		options.WithTransportType(transport.StandardTransport),
		options.WithSSHKnownHostsFile(kh), // strict key checking is scrapligo's default
		options.WithPromptPattern(regexp.MustCompile(`(?m)^Dev:/[\w.-]*>[ \t]*$`)),
		options.WithTimeoutSocket(waitTimeout),
		options.WithTimeoutOps(waitTimeout),
	)
	require.NoError(t, err)
	require.NoError(t, d.Open())
	t.Cleanup(func() { _ = d.Close() })

	prompt, err := d.GetPrompt()
	require.NoError(t, err)
	assert.Equal(t, "Dev:/> ", prompt)

	r, err := d.SendCommand("show version")
	require.NoError(t, err)
	require.NoError(t, r.Failed)
	assert.Equal(t, "SimOS 1.0\nbuild 42", r.Result, "output only: no echo, no prompt")

	r, err = d.SendCommand("set ctx vsys1")
	require.NoError(t, err)
	assert.Equal(t, "", r.Result)

	mr, err := d.SendCommands([]string{"get ctx", "whoami", "bogus"},
		opoptions.WithFailedWhenContains([]string{"Error:"})) // options.With... would be silently ignored
	require.NoError(t, err)
	require.Len(t, mr.Responses, 3)
	assert.Equal(t, "ctx=vsys1", mr.Responses[0].Result)
	assert.Equal(t, "admin #1", mr.Responses[1].Result)
	assert.Equal(t, "Error: Unknown command: bogus", mr.Responses[2].Result)
	assert.Error(t, mr.Responses[2].Failed)

	ir, err := d.SendInteractive([]*channel.SendInteractiveEvent{
		{ChannelInput: "confirm", ChannelResponse: `\[yes/no\]: `},
		{ChannelInput: "yes", ChannelResponse: ""},
	})
	require.NoError(t, err)
	assert.Contains(t, ir.Result, "Service restarted")

	assert.Equal(t, 1, srv.Sessions())
	require.NoError(t, d.Close())
	eventually(t, func() bool { return srv.Sessions() == 0 }, "scrapligo closed its session")
}
