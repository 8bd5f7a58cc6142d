package driver_test

import (
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/driver"
)

func TestTranscriptRedactsAndCopies(t *testing.T) {
	tr := driver.NewTranscript("s3cret", "", "s3cret-longer")
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tr.Record(driver.Entry{Host: "h:22", Command: "set pw s3cret-longer", Inputs: []string{"s3cret"},
		Output: "pw=s3cret", Start: start, Duration: 1500 * time.Millisecond, Error: "bad s3cret"})
	e := tr.Entries()
	require.Len(t, e, 1)
	assert.Equal(t, "set pw ********", e[0].Command, "longest secret wins")
	assert.Equal(t, []string{"********"}, e[0].Inputs)
	assert.Equal(t, "pw=********", e[0].Output)
	assert.Equal(t, "bad ********", e[0].Error)

	e[0].Inputs[0] = "mutated"
	assert.Equal(t, "********", tr.Entries()[0].Inputs[0], "Entries returns a copy")

	js, err := json.Marshal(tr)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"host":"h:22","command":"set pw ********","inputs":["********"],"output":"pw=********",
		"start":"2026-01-02T03:04:05Z","duration_ns":1500000000,"error":"bad ********"}]`, string(js))
	var back []driver.Entry
	require.NoError(t, json.Unmarshal(js, &back))
	assert.Equal(t, tr.Entries(), back)
}

func TestTranscriptConcurrent(t *testing.T) {
	var tr driver.Transcript // zero value is usable
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				tr.AddSecrets("k" + strconv.Itoa(i))
				tr.Record(driver.Entry{Command: strconv.Itoa(j)})
				_ = tr.Entries()
			}
		})
	}
	wg.Wait()
	assert.Len(t, tr.Entries(), 400)
}
