package driver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClavisterRejections: clavister.md §8.9 — a line starting with error, unknown command,
// invalid, failed or usage: (any case) is a rejection; the same words mid-line are not.
func TestClavisterRejections(t *testing.T) {
	p, err := LoadPlatform("clavister_cos_core")
	require.NoError(t, err)
	for _, out := range []string{
		"error: invalid option",
		"Failed to deactivate: peer not in sync",
		"usage: ha [-activate|-deactivate]",
		"unknown command 'upgrade'",
		"This device is a HA SLAVE\n  Invalid argument: -foo",
		"ERROR something",
	} {
		assert.NotEmpty(t, p.rejection(out), out)
	}
	for _, out := range []string{
		"This device is a HA SLAVE\nThis device is currently ACTIVE (will forward traffic)\nHA cluster peer is ALIVE",
		"Interface  Packets  Invalid packets\nIf1        10       0",
		"Connections        : 8 out of 256000\nDrops: 0 (failed lookups 0)",
		"Last Event         : 2019-08-12 14:01:18: Firmware upgrade failed: invalid upgrade package x.upg.",
	} {
		assert.Empty(t, p.rejection(out), out)
	}
}
