package drivertest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/hitless/hitless/driver"
)

// wrapper forwards to an inner session; fault wrappers override Send/Interact through before.
type wrapper struct {
	inner driver.Session
	// before is called with the command before forwarding; a non-nil error is returned
	// instead of forwarding.
	before func(ctx context.Context, command string) error
}

func (w *wrapper) Host() string { return w.inner.Host() }

func (w *wrapper) Close() error { return w.inner.Close() }

func (w *wrapper) Send(ctx context.Context, command string) (string, error) {
	if err := w.before(ctx, command); err != nil {
		return "", err
	}
	return w.inner.Send(ctx, command)
}

func (w *wrapper) Interact(ctx context.Context, steps []driver.Exchange) (string, error) {
	command := ""
	if len(steps) > 0 {
		command = steps[0].Input
		if steps[0].Secret {
			command = "********"
		}
	}
	if err := w.before(ctx, command); err != nil {
		return "", err
	}
	return w.inner.Interact(ctx, steps)
}

// DropAfter returns a Session that forwards the first n calls (Send or Interact) to s, then
// behaves like a unit that went away: every later call returns a *driver.DroppedError
// (wrapping io.EOF) and s is closed at the first drop.
func DropAfter(s driver.Session, n int) driver.Session {
	var mu sync.Mutex
	calls := 0
	return &wrapper{inner: s, before: func(_ context.Context, command string) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= n {
			return nil
		}
		if calls == n+1 {
			_ = s.Close()
		}
		return &driver.DroppedError{Host: s.Host(), Command: command, Err: io.EOF}
	}}
}

// Hang returns a Session whose calls block until their context ends and then return a
// *driver.AbortError wrapping the context's error, as a device that never answers would. With
// commands given, only those commands hang (matched against Send's command or Interact's
// first input); the others are forwarded to s.
func Hang(s driver.Session, commands ...string) driver.Session {
	return &wrapper{inner: s, before: func(ctx context.Context, command string) error {
		if len(commands) > 0 && !slices.Contains(commands, command) {
			return nil
		}
		<-ctx.Done()
		return &driver.AbortError{Host: s.Host(), Command: command, Err: ctx.Err()}
	}}
}

// ErrorText returns a Session that answers command with a *driver.CommandError whose Output
// is text (as a device rejecting it would), without forwarding it; other commands are
// forwarded to s.
func ErrorText(s driver.Session, command, text string) driver.Session {
	return &wrapper{inner: s, before: func(_ context.Context, c string) error {
		if c != command {
			return nil
		}
		return &driver.CommandError{Host: s.Host(), Command: c, Output: text}
	}}
}

// Slow returns a Session that waits d (a time.Timer, so virtual time in a synctest bubble)
// before forwarding each call to s. If the context ends first the call returns a
// *driver.AbortError wrapping the context's error and s is not called.
func Slow(s driver.Session, d time.Duration) driver.Session {
	return &wrapper{inner: s, before: func(ctx context.Context, command string) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("drivertest: %s: %q not sent: %w", s.Host(), command, err)
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return &driver.AbortError{Host: s.Host(), Command: command, Err: ctx.Err()}
		}
	}}
}
