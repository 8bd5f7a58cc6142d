package upgrade_test

import (
	"errors"
	"testing"

	"github.com/hitless/hitless/upgrade"
)

// FuzzDecodeRecords: a journal file of any content decodes or fails with
// ErrJournalCorrupt; it never panics, and what decodes is a valid sequence.
func FuzzDecodeRecords(f *testing.F) {
	f.Add([]byte(`{"seq":1,"time":"2026-01-01T00:00:00Z","kind":"plan","cluster":"fw","target":"2.0","fingerprint":"ab","steps":["a"]}` + "\n" +
		`{"seq":2,"time":"2026-01-01T00:00:01Z","kind":"start","step":"a"}` + "\n"))
	f.Add([]byte(`{"seq":2,"kind":"plan"}`))
	f.Add([]byte("not json\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := upgrade.DecodeRecords(data)
		if err != nil {
			if !errors.Is(err, upgrade.ErrJournalCorrupt) {
				t.Fatalf("error %v does not match ErrJournalCorrupt", err)
			}
			return
		}
		for i, r := range recs {
			if r.Seq != i+1 {
				t.Fatalf("record %d has seq %d", i, r.Seq)
			}
		}
		if len(recs) > 0 && recs[0].Kind != upgrade.RecordPlan {
			t.Fatal("first record is not the plan")
		}
	})
}
