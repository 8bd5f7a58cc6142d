// Package drivertest provides in-memory driver.Session implementations for tests, like
// net/http/httptest does for HTTP: a Scripted session answering from a table, and wrappers
// that inject faults (drops, hangs, device errors, slowness) into any Session. Hangs end like
// the real driver's calls: at the per-call timeout or the context's end, closing the session.
//
// Everything here is free of sockets and uses only the time package and contexts, so it works
// inside testing/synctest bubbles.
package drivertest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/hitless/hitless/driver"
)

// ErrUnscripted is returned (wrapped) by a Scripted session for a command it has no reply
// for, or for an exchange that does not follow the script.
var ErrUnscripted = errors.New("drivertest: not in script")

// Prompt is one question a scripted device asks during Interact.
type Prompt struct {
	// Text is what the device prints, e.g. "Are you sure? [yes/no]: ". The caller's
	// Exchange.Expect must match it.
	Text string
	// Answer is the input the device requires in reply, e.g. "yes".
	Answer string
}

// Reply is a scripted device's answer to one command.
type Reply struct {
	// Output is returned by Send (or, after the prompts, by Interact).
	Output string
	// Fail makes the call return a *driver.CommandError carrying Output.
	Fail bool
	// Err, if set, is returned as is (e.g. &driver.DroppedError{...}).
	Err error
	// Prompts are the questions asked, in order, when the command is run with Interact.
	// Interact must then have len(Prompts)+1 steps: step i's Expect must match Prompts[i].Text
	// and step i+1's Input must equal Prompts[i].Answer.
	Prompts []Prompt
	// Func, if set, computes the reply dynamically (Output/Fail/Err are then ignored); it
	// gets the call's context and command.
	Func func(ctx context.Context, command string) (string, error)
}

// Call is one recorded call on a Scripted session.
type Call struct {
	// Method is "Send" or "Interact".
	Method string
	// Command is the command (for Interact, the first step's input).
	Command string
	// Steps are Interact's steps (Secret inputs replaced by "********"); nil for Send.
	Steps []driver.Exchange
}

// Scripted is a driver.Session that answers from a table of command → Reply. It records
// every call. It is safe for concurrent use.
//
// A command with several replies (On with more than one Reply) gets them in order, the last
// one repeating, which scripts a device whose state changes between polls.
type Scripted struct {
	host string

	mu      sync.Mutex
	replies map[string][]Reply
	calls   []Call
	closed  bool
}

// NewScripted returns a Scripted session for host ("host:port", reported by Host) answering
// from table (which is copied).
func NewScripted(host string, table map[string]Reply) *Scripted {
	s := &Scripted{host: host, replies: make(map[string][]Reply, len(table))}
	for cmd, r := range table {
		s.replies[cmd] = []Reply{r}
	}
	return s
}

// On scripts command to return replies in order (the last one repeats), replacing any
// earlier script for it. It returns s for chaining.
func (s *Scripted) On(command string, replies ...Reply) *Scripted {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[command] = slices.Clone(replies)
	return s
}

// Calls returns a copy of the calls made so far, oldest first.
func (s *Scripted) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		c.Steps = slices.Clone(c.Steps)
		out[i] = c
	}
	return out
}

// Commands returns the commands sent so far, oldest first.
func (s *Scripted) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.calls))
	for i, c := range s.calls {
		out[i] = c.Command
	}
	return out
}

// Closed reports whether Close was called.
func (s *Scripted) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Host implements driver.Session.
func (s *Scripted) Host() string { return s.host }

// Close implements driver.Session. Later calls return an error matching driver.ErrClosed.
func (s *Scripted) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// next records the call and returns the reply to use.
func (s *Scripted) next(c Call) (Reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Reply{}, fmt.Errorf("drivertest: %s: %q: %w", s.host, c.Command, driver.ErrClosed)
	}
	s.calls = append(s.calls, c)
	rs, ok := s.replies[c.Command]
	if !ok || len(rs) == 0 {
		return Reply{}, fmt.Errorf("drivertest: %s: command %q: %w", s.host, c.Command, ErrUnscripted)
	}
	r := rs[0]
	if len(rs) > 1 {
		s.replies[c.Command] = rs[1:]
	}
	return r, nil
}

func (s *Scripted) answer(ctx context.Context, command, prefix string, r Reply) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("drivertest: %s: %q not sent: %w", s.host, command, err)
	}
	if r.Func != nil {
		out, err := r.Func(ctx, command)
		if err != nil {
			return "", err
		}
		return prefix + out, nil
	}
	if r.Err != nil {
		return "", r.Err
	}
	out := prefix + r.Output
	if r.Fail {
		return "", &driver.CommandError{Host: s.host, Command: command, Output: out}
	}
	return out, nil
}

// Send implements driver.Session.
func (s *Scripted) Send(ctx context.Context, command string) (string, error) {
	r, err := s.next(Call{Method: "Send", Command: command})
	if err != nil {
		return "", err
	}
	if len(r.Prompts) > 0 {
		return "", fmt.Errorf("drivertest: %s: %q asks %q; use Interact: %w", s.host, command, r.Prompts[0].Text, ErrUnscripted)
	}
	return s.answer(ctx, command, "", r)
}

// Interact implements driver.Session. It checks the steps against the reply's Prompts and
// returns the prompts' texts followed by the output (secret answers are never echoed).
func (s *Scripted) Interact(ctx context.Context, steps []driver.Exchange) (string, error) {
	if len(steps) == 0 {
		return "", fmt.Errorf("drivertest: %s: interact without steps: %w", s.host, driver.ErrInput)
	}
	rec := make([]driver.Exchange, len(steps))
	for i, st := range steps {
		rec[i] = st
		if st.Secret {
			rec[i].Input = "********"
		}
	}
	command := rec[0].Input
	r, err := s.next(Call{Method: "Interact", Command: command, Steps: rec})
	if err != nil {
		return "", err
	}
	if len(steps) != len(r.Prompts)+1 {
		return "", fmt.Errorf("drivertest: %s: %q: %d steps for %d prompt(s): %w", s.host, command, len(steps), len(r.Prompts), ErrUnscripted)
	}
	var shown strings.Builder
	for i, p := range r.Prompts {
		re, err := regexp.Compile(steps[i].Expect)
		if err != nil || steps[i].Expect == "" {
			return "", fmt.Errorf("drivertest: %s: %q step %d: expect %q is not a usable pattern for prompt %q: %w", s.host, command, i, steps[i].Expect, p.Text, ErrUnscripted)
		}
		if !re.MatchString(p.Text) {
			return "", fmt.Errorf("drivertest: %s: %q step %d: expect %q does not match prompt %q: %w", s.host, command, i, steps[i].Expect, p.Text, ErrUnscripted)
		}
		if steps[i+1].Input != p.Answer {
			if steps[i+1].Secret {
				// Neither the secret given nor the scripted one goes into the error.
				return "", fmt.Errorf("drivertest: %s: %q step %d: wrong secret answer to prompt %q: %w", s.host, command, i+1, p.Text, ErrUnscripted)
			}
			return "", fmt.Errorf("drivertest: %s: %q step %d: answer %q to prompt %q, want %q: %w", s.host, command, i+1, rec[i+1].Input, p.Text, p.Answer, ErrUnscripted)
		}
		shown.WriteString(p.Text)
		if !steps[i+1].Secret {
			shown.WriteString(p.Answer)
		}
		shown.WriteString("\n")
	}
	if last := steps[len(steps)-1].Expect; last != "" {
		if re, err := regexp.Compile(last); err != nil || !re.MatchString(r.Output) {
			return "", fmt.Errorf("drivertest: %s: %q last step expect %q does not match output: %w", s.host, command, last, ErrUnscripted)
		}
	}
	return s.answer(ctx, command, shown.String(), r)
}

var _ driver.Session = (*Scripted)(nil)
