package upgrade

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// RecordKind says what a journal record marks.
type RecordKind string

// Journal record kinds.
const (
	RecordPlan   RecordKind = "plan"   // first record: cluster, target, fingerprint, step IDs
	RecordStart  RecordKind = "start"  // a step is about to run
	RecordFinish RecordKind = "finish" // a step finished (or was verified done)
	RecordFail   RecordKind = "fail"   // a step failed; its effect is unknown
)

// Record is one journal entry. It holds IDs, times and error texts only
// (passed through Executor.Redact), never credentials.
type Record struct {
	// Seq numbers records from 1 without gaps.
	Seq int `json:"seq"`
	// Time is when the record was written.
	Time time.Time `json:"time"`
	// Kind says what the record marks.
	Kind RecordKind `json:"kind"`
	// Cluster is the plan's cluster (RecordPlan only).
	Cluster string `json:"cluster,omitempty"`
	// Target is the plan's target version (RecordPlan only).
	Target string `json:"target,omitempty"`
	// Fingerprint is Plan.Fingerprint (RecordPlan only).
	Fingerprint string `json:"fingerprint,omitempty"`
	// Steps are the plan's step IDs in order (RecordPlan only).
	Steps []string `json:"steps,omitempty"`
	// Disrupts[i] lists the members Steps[i] disrupts (RecordPlan only).
	Disrupts [][]string `json:"disrupts,omitempty"`
	// Step is the step ID (start, finish, fail).
	Step string `json:"step,omitempty"`
	// Error is the failure text (fail).
	Error string `json:"error,omitempty"`
}

// planDisrupts returns, per step, the members it disrupts.
func planDisrupts(p Plan) [][]string {
	d := make([][]string, len(p.Steps))
	for i, s := range p.Steps {
		d[i] = slices.Clone(s.Disrupts())
		if d[i] == nil {
			d[i] = []string{}
		}
	}
	return d
}

// Journal is a durable, append-only record of one run: the plan, then each
// step's start and finish. A new Executor given the same journal resumes
// the run: finished steps are skipped, an interrupted step is verified
// before it is redone, and a finished disruptive step is never repeated.
type Journal interface {
	// Load returns every record so far, oldest first; none for a new journal.
	Load(ctx context.Context) ([]Record, error)
	// Append durably adds one record; when it returns nil the record
	// survives a crash.
	Append(ctx context.Context, r Record) error
}

// JournalLocker is implemented by journals that one run at a time may
// hold. The Executor calls Lock before it reads the journal and Unlock when
// the run ends; Lock fails with an error matching ErrJournalLocked when
// another run (in this process or another) holds it, and the run then
// touches nothing.
type JournalLocker interface {
	Lock() error
	Unlock() error
}

// journalPath returns the file behind j, if it has one, for JournalError.
func journalPath(j Journal) string {
	if f, ok := j.(*FileJournal); ok {
		return f.Path
	}
	return ""
}

// MemoryJournal is an in-memory Journal for tests and for callers that keep
// their own durable store. The zero value is ready to use.
type MemoryJournal struct {
	mu      sync.Mutex
	records []Record
}

// Load implements Journal.
func (j *MemoryJournal) Load(context.Context) ([]Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.records), nil
}

// Append implements Journal.
func (j *MemoryJournal) Append(_ context.Context, r Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.records = append(j.records, r)
	return nil
}

// FileJournal is the default Journal: a JSON-lines file rewritten
// atomically (write temp file, fsync, rename, fsync directory) on every
// Append, so a crash leaves either the old or the new content, never a
// torn file. Mode 0600.
//
// One run at a time: Lock (called by the Executor before it reads the
// journal, and by Append when the journal is not locked yet) takes an exclusive flock(2) on
// Path+".lock", held until Unlock. A second FileJournal on the same path,
// in this process or another, gets a *JournalError matching
// ErrJournalLocked and reads or writes nothing. On systems without
// flock, Lock fails with ErrJournalLocked's cause "not supported".
type FileJournal struct {
	// Path of the journal file; its directory must exist.
	Path string

	mu      sync.Mutex
	lock    *os.File // the held lock file, nil when not locked
	loaded  bool
	records []Record
}

// Lock implements JournalLocker: it takes the exclusive lock on
// Path+".lock" (created with mode 0600) if this value does not hold it
// yet. Errors are *JournalError with Op "lock": ErrJournalLocked when
// another holder has it, or the I/O error.
func (j *FileJournal) Lock() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lockLocked()
}

func (j *FileJournal) lockLocked() error {
	if j.lock != nil {
		return nil
	}
	f, err := os.OpenFile(j.Path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return &JournalError{Path: j.Path, Op: "lock", Err: err}
	}
	if err := flockExclusive(f); err != nil {
		f.Close()
		return &JournalError{Path: j.Path, Op: "lock", Err: err}
	}
	j.lock = f
	// Another holder may have written since this value last read.
	j.loaded, j.records = false, nil
	return nil
}

// Unlock implements JournalLocker: it releases the lock (a no-op when not
// held). The lock file stays; it holds no data.
func (j *FileJournal) Unlock() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lock == nil {
		return nil
	}
	err := j.lock.Close() // closing the descriptor releases the flock
	j.lock = nil
	if err != nil {
		return &JournalError{Path: j.Path, Op: "unlock", Err: err}
	}
	return nil
}

// Load implements Journal. A missing file is an empty journal; a file that
// does not decode is a *JournalError matching ErrJournalCorrupt.
func (j *FileJournal) Load(context.Context) ([]Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.loadLocked(); err != nil {
		return nil, err
	}
	return slices.Clone(j.records), nil
}

func (j *FileJournal) loadLocked() error {
	if j.loaded {
		return nil
	}
	data, err := os.ReadFile(j.Path)
	if errors.Is(err, fs.ErrNotExist) {
		j.loaded = true
		return nil
	}
	if err != nil {
		return &JournalError{Path: j.Path, Op: "read", Err: err}
	}
	recs, err := DecodeRecords(data)
	if err != nil {
		return &JournalError{Path: j.Path, Op: "decode", Err: err}
	}
	j.records, j.loaded = recs, true
	return nil
}

// DecodeRecords parses JSON-lines journal content: one JSON object per
// line. Any undecodable line, a line with anything after its object (a
// second record included), an unknown field, a sequence that is not 1, 2,
// 3…, or a plan record without one disrupted-members list per step is an
// error matching ErrJournalCorrupt naming the line.
func DecodeRecords(data []byte) ([]Record, error) {
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r Record
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("line %d: %w: %v", n, ErrJournalCorrupt, err)
		}
		if rest := strings.TrimSpace(line[dec.InputOffset():]); rest != "" {
			return nil, fmt.Errorf("line %d: %w: data after the record: %.40q", n, ErrJournalCorrupt, rest)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournalCorrupt, err)
	}
	if err := checkRecords(recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// checkRecords validates records from any Journal: sequence 1, 2, 3…,
// exactly one plan record and it first, known kinds only, every step
// record naming a step of the plan. Errors match ErrJournalCorrupt.
func checkRecords(recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	if recs[0].Kind != RecordPlan {
		return fmt.Errorf("%w: first record is %q, want %q", ErrJournalCorrupt, recs[0].Kind, RecordPlan)
	}
	plan := recs[0]
	if len(plan.Disrupts) != len(plan.Steps) {
		return fmt.Errorf("%w: plan record lists %d steps but %d disrupted-member lists", ErrJournalCorrupt, len(plan.Steps), len(plan.Disrupts))
	}
	for i, r := range recs {
		if r.Seq != i+1 {
			return fmt.Errorf("%w: record %d has sequence %d", ErrJournalCorrupt, i+1, r.Seq)
		}
		switch r.Kind {
		case RecordPlan:
			if i > 0 {
				return fmt.Errorf("%w: record %d is a second plan record", ErrJournalCorrupt, i+1)
			}
		case RecordStart, RecordFinish, RecordFail:
			if !slices.Contains(plan.Steps, r.Step) {
				return fmt.Errorf("%w: record %d names step %q, not in the journal's plan", ErrJournalCorrupt, i+1, r.Step)
			}
		default:
			return fmt.Errorf("%w: record %d has unknown kind %q", ErrJournalCorrupt, i+1, r.Kind)
		}
	}
	return nil
}

// Append implements Journal.
func (j *FileJournal) Append(_ context.Context, r Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.lockLocked(); err != nil {
		return err
	}
	if err := j.loadLocked(); err != nil {
		return err
	}
	next := append(slices.Clone(j.records), r)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, rec := range next {
		if err := enc.Encode(rec); err != nil {
			return &JournalError{Path: j.Path, Op: "encode", Err: err}
		}
	}
	if err := writeAtomic(j.Path, buf.Bytes()); err != nil {
		return &JournalError{Path: j.Path, Op: "write", Err: err}
	}
	j.records = next
	return nil
}

// writeAtomic replaces path with data durably: temp file in the same
// directory, fsync, rename over path, fsync the directory.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// progress is what a journal says about a run so far.
type progress struct {
	plan        *Record
	finished    map[string]bool
	interrupted map[string]bool // started, no outcome: the process died during it
	failed      map[string]bool // its last outcome was a failure
	next        int             // next sequence number
}

func readProgress(recs []Record) progress {
	p := progress{finished: map[string]bool{}, interrupted: map[string]bool{}, failed: map[string]bool{}, next: len(recs) + 1}
	for i := range recs {
		r := recs[i]
		switch r.Kind {
		case RecordPlan:
			if p.plan == nil {
				p.plan = &recs[i]
			}
		case RecordStart:
			if !p.finished[r.Step] {
				p.interrupted[r.Step] = true
			}
		case RecordFail:
			if !p.finished[r.Step] {
				p.failed[r.Step] = true
				delete(p.interrupted, r.Step)
			}
		case RecordFinish:
			p.finished[r.Step] = true
			delete(p.interrupted, r.Step)
			delete(p.failed, r.Step)
		}
	}
	return p
}

// compatible reports whether plan p may continue the run recorded in hdr:
// same cluster and target; every step of p is a step of the recorded plan
// (re-planning from a fresh snapshot drops finished work and may regroup
// batches, but never invents steps); and each step disrupts the same
// members as recorded. Order is not compared: every disruptive step passes
// the guard again anyway.
func compatible(hdr *Record, p Plan) error {
	var probs []string
	if hdr.Cluster != p.Cluster {
		probs = append(probs, fmt.Sprintf("cluster %q, journal has %q", p.Cluster, hdr.Cluster))
	}
	if hdr.Target != p.Target {
		probs = append(probs, fmt.Sprintf("target %q, journal has %q", p.Target, hdr.Target))
	}
	for _, st := range p.Steps {
		id := st.ID()
		i := slices.Index(hdr.Steps, id)
		if i < 0 {
			probs = append(probs, fmt.Sprintf("step %q is not in the journal's plan", id))
			continue
		}
		if want, have := hdr.Disrupts[i], st.Disrupts(); !slices.Equal(sortedCopy(want), sortedCopy(have)) {
			probs = append(probs, fmt.Sprintf("step %q disrupts %v, the journal's plan %v", id, have, want))
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w: %s", ErrJournalMismatch, strings.Join(probs, "; "))
	}
	return nil
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
