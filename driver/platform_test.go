package driver_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/driver"
)

func TestEmbeddedPlatformsParse(t *testing.T) {
	names := driver.PlatformNames()
	assert.Equal(t, []string{"checkpoint_gaia", "clavister_cos_core", "generic", "juniper_junos"}, names)
	for _, n := range names {
		p, err := driver.LoadPlatform(n)
		require.NoError(t, err, n)
		assert.Equal(t, n, p.Name)
		assert.NotNil(t, p.Prompt)
		assert.Positive(t, p.OpTimeout)
		assert.Positive(t, p.DialTimeout)
	}
}

func TestClavisterPrompt(t *testing.T) {
	p, err := driver.LoadPlatform("clavister_cos_core")
	require.NoError(t, err)
	assert.Equal(t, driver.PlatformDraft, p.Status, "the failure strings are unverified (clavister.md §8.9, §9)")
	// Prompts from ../vendors/clavister.md §2.
	for _, prompt := range []string{"Device:/>", "Device:/> ", "Device:/RoutingTable/main>", "gw-world:/>", "fw-01.lab:/> "} {
		assert.True(t, p.Prompt.MatchString("ha\n"+prompt), prompt)
	}
	for _, line := range []string{"This device is a HA SLAVE", "HA cluster peer is ALIVE", "Device:/ha foo"} {
		assert.False(t, p.Prompt.MatchString(line), line)
	}
	assert.Equal(t, 60*time.Second, p.OpTimeout)
	assert.Equal(t, 15*time.Second, p.DialTimeout)
	assert.Equal(t, 511, p.TermWidth)
}

func TestParsePlatformReportsAllProblems(t *testing.T) {
	_, err := driver.ParsePlatform([]byte(`
status: beta
prompt: '(['
failed-when-contains: [""]
failed-when-matches: ['.*', '(']
timeouts: {dial: fast, ops: -1s}
`))
	require.Error(t, err)
	require.ErrorIs(t, err, driver.ErrConfig)
	for _, field := range []string{"Platform.name", "Platform.status", "Platform.prompt",
		"Platform.failed-when-contains[0]", "Platform.failed-when-matches[0]",
		"Platform.failed-when-matches[1]", "Platform.timeouts.dial", "Platform.timeouts.ops"} {
		assert.Contains(t, err.Error(), field+":")
	}
	var ce *driver.ConfigError
	assert.True(t, errors.As(err, &ce))
}

func TestParsePlatformRejectsUnknownKeys(t *testing.T) {
	_, err := driver.ParsePlatform([]byte("name: x\nprompt: '>'\nfailed-when-contain: [Error]\n"))
	require.ErrorIs(t, err, driver.ErrConfig)
	assert.Contains(t, err.Error(), "failed-when-contain")
}

func TestLoadPlatformUnknown(t *testing.T) {
	_, err := driver.LoadPlatform("cisco_ios")
	require.ErrorIs(t, err, driver.ErrConfig)
	assert.Contains(t, err.Error(), "clavister_cos_core")
	_, err = driver.LoadPlatform("../go")
	require.ErrorIs(t, err, driver.ErrConfig)
}
