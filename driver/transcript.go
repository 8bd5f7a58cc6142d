package driver

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Entry is one recorded command (Send) or exchange (Interact).
type Entry struct {
	// Host is "host:port".
	Host string `json:"host"`
	// Command is the command sent, or the first input of an exchange (secrets redacted).
	Command string `json:"command"`
	// Inputs are the follow-up inputs of an exchange (Secret ones as "********").
	Inputs []string `json:"inputs,omitempty"`
	// Output is the device's output (secrets redacted).
	Output string `json:"output"`
	// Start is when the command was sent.
	Start time.Time `json:"start"`
	// Duration is how long the call took, in nanoseconds in JSON.
	Duration time.Duration `json:"duration_ns"`
	// Error is the call's error text ("" on success; secrets redacted).
	Error string `json:"error,omitempty"`
}

// Transcript records every command of the sessions it is given to (Config.Transcript), with
// secrets redacted. It is safe for concurrent use, so several sessions may share one.
// The zero value is ready to use.
//
// Redaction replaces every occurrence of a registered secret (exact string) with "********"
// in the command, inputs, output and error of each entry, at record time. Open registers
// Config.Password and Config.Passphrase; Interact registers Secret inputs.
type Transcript struct {
	mu      sync.Mutex
	entries []Entry
	secrets []string
}

// String describes t by its number of entries, never its secrets.
func (t *Transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fmt.Sprintf("driver.Transcript{entries:%d}", len(t.entries))
}

// Format implements fmt.Formatter: every verb prints String, so the secrets registered for
// redaction are never printed.
func (t *Transcript) Format(f fmt.State, verb rune) { formatRedacted(f, verb, t.String()) }

// NewTranscript returns a Transcript that redacts the given secrets (empty strings are
// ignored).
func NewTranscript(secrets ...string) *Transcript {
	t := &Transcript{}
	t.AddSecrets(secrets...)
	return t
}

// AddSecrets registers more strings to redact from entries recorded from now on.
func (t *Transcript) AddSecrets(secrets ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range secrets {
		if s != "" && !slices.Contains(t.secrets, s) {
			t.secrets = append(t.secrets, s)
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	slices.SortFunc(t.secrets, func(a, b string) int { return len(b) - len(a) })
}

// Record appends an entry after redacting the registered secrets from it.
func (t *Transcript) Record(e Entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e.Command = redact(e.Command, t.secrets)
	e.Output = redact(e.Output, t.secrets)
	e.Error = redact(e.Error, t.secrets)
	if e.Inputs != nil {
		in := make([]string, len(e.Inputs))
		for i, s := range e.Inputs {
			in[i] = redact(s, t.secrets)
		}
		e.Inputs = in
	}
	t.entries = append(t.entries, e)
}

// Entries returns a copy of the recorded entries, oldest first.
func (t *Transcript) Entries() []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Entry, len(t.entries))
	for i, e := range t.entries {
		e.Inputs = slices.Clone(e.Inputs)
		out[i] = e
	}
	return out
}

// MarshalJSON encodes the transcript as a JSON array of entries.
func (t *Transcript) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.Entries())
}

// redact replaces every secret in s with "********". secrets must be sorted longest first.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redactedText)
		}
	}
	return s
}
