package aviatrix

import (
	"fmt"
	"hash/fnv"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oldStepKey is the fmt-based step key of earlier releases; journals
// written by them must keep resuming, so the IDs may not change.
func oldStepKey(k int, names []string) string {
	h := fnv.New32a()
	for _, n := range names {
		_, _ = h.Write([]byte(n))
		_, _ = h.Write([]byte{','})
	}
	return fmt.Sprintf("b%03d-%08x", k, h.Sum32())
}

func TestStepKeyUnchangedWithoutFmt(t *testing.T) {
	for _, k := range []int{0, 1, 9, 10, 99, 100, 999, 1000, 123456} {
		for _, names := range [][]string{nil, {"a"}, {"spoke-001", "spoke-002-hagw"}, {"x", "", "é"}} {
			assert.Equal(t, oldStepKey(k, names), batch{names: names}.stepKey(k), "k=%d names=%v", k, names)
		}
	}
}

// A CID is never put in a URL, even by a caller mistake.
func TestGETNeverCarriesCID(t *testing.T) {
	c, err := NewClient(Config{URL: "https://127.0.0.1", Username: "a", Password: "p"})
	require.NoError(t, err)
	_, err = c.roundTrip(t.Context(), "list_version_info", url.Values{}, "cid-SECRET", callOpts{get: true})
	require.ErrorIs(t, err, ErrConfig)
	assert.NotContains(t, err.Error(), "cid-SECRET")
}
