package simkit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/examples/simulator/simkit"
)

// TestStartRefusals: unknown vendors and faults are refused before
// anything starts.
func TestStartRefusals(t *testing.T) {
	_, err := simkit.Start("paloalto", simkit.Options{})
	require.ErrorIs(t, err, simkit.ErrVendor)
	_, err = simkit.Start("fake", simkit.Options{Fault: "nope"})
	require.ErrorContains(t, err, `unknown fake fault "nope"`)
	_, err = simkit.Start("aviatrix", simkit.Options{})
	require.ErrorContains(t, err, "needs a Dir")
	assert.Equal(t, []string{"aviatrix", "clavister", "fake", "junos"}, simkit.Vendors())
	for _, v := range simkit.Vendors() {
		assert.Contains(t, simkit.Faults(v), simkit.DefaultFault(v), v)
		assert.NotEmpty(t, simkit.DefaultTarget(v), v)
	}
}

// TestFakeDefaults: an in-memory fake pair, first member active, no
// address unless served.
func TestFakeDefaults(t *testing.T) {
	s, err := simkit.Start("fake", simkit.Options{Speed: 2})
	require.NoError(t, err)
	defer s.Close()
	assert.Empty(t, s.Endpoints)
	assert.Equal(t, []string{"node-1: active, 8.1.7", "node-2: standby, 8.1.7"}, s.State())
	assert.Positive(t, s.GateTiming().Deadline)
	lost, _ := s.Probe()
	assert.Zero(t, lost)
}
