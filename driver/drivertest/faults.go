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

// Hang returns a Session whose calls hang like a device that never answers, with the
// default per-call timeout of the real driver (driver.DefaultOpTimeout): see HangTimeout.
func Hang(s driver.Session, commands ...string) driver.Session {
	return HangTimeout(s, driver.DefaultOpTimeout, commands...)
}

// HangTimeout returns a Session whose calls block like a device that never answers, and end
// the way the real driver ends them (driver.Open's sessions):
//
//   - a call blocks until its context ends or timeout passes, whichever is first (timeout
//     plays driver.Config.Timeout: a later ctx deadline does not lift it; timeout <= 0 means
//     no timeout, only the context);
//   - it then returns a *driver.AbortError wrapping the context's error, or
//     context.DeadlineExceeded when timeout fired, and closes s: the state of a device that
//     did not answer is unknown, so the session is gone;
//   - every later call returns an error matching driver.ErrClosed at once.
//
// With commands given, only those commands hang (matched against Send's command or
// Interact's first input); the others are forwarded to s until a hang has closed it. A call
// whose context has already ended is not sent (an error wrapping the context's error).
// Timers come from the time package, so virtual time works inside a testing/synctest bubble.
func HangTimeout(s driver.Session, timeout time.Duration, commands ...string) driver.Session {
	return &hanger{inner: s, timeout: timeout, commands: slices.Clone(commands)}
}

// hanger is the Session of HangTimeout.
type hanger struct {
	inner    driver.Session
	timeout  time.Duration
	commands []string

	mu     sync.Mutex
	closed error // non-nil once a hang (or Close) closed the session
}

func (h *hanger) Host() string { return h.inner.Host() }

func (h *hanger) Close() error {
	h.mu.Lock()
	if h.closed == nil {
		h.closed = fmt.Errorf("drivertest: %s: %w", h.inner.Host(), driver.ErrClosed)
	}
	h.mu.Unlock()
	return h.inner.Close()
}

// hang blocks for command if it is one that hangs; a nil error means the call may be
// forwarded to the inner session.
func (h *hanger) hang(ctx context.Context, command string) error {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed != nil {
		return fmt.Errorf("drivertest: %s: %q: %w", h.inner.Host(), command, closed)
	}
	if len(h.commands) > 0 && !slices.Contains(h.commands, command) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("drivertest: %s: %q not sent: %w", h.inner.Host(), command, err)
	}
	var expired <-chan time.Time
	if h.timeout > 0 {
		t := time.NewTimer(h.timeout)
		defer t.Stop()
		expired = t.C
	}
	var cause error
	select {
	case <-ctx.Done():
		cause = ctx.Err()
	case <-expired:
		cause = context.DeadlineExceeded
	}
	h.mu.Lock()
	if h.closed == nil {
		h.closed = fmt.Errorf("drivertest: %s: closed after %q was aborted (%v): %w", h.inner.Host(), command, cause, driver.ErrClosed)
	}
	h.mu.Unlock()
	_ = h.inner.Close()
	return &driver.AbortError{Host: h.inner.Host(), Command: command, Err: cause}
}

func (h *hanger) Send(ctx context.Context, command string) (string, error) {
	if err := h.hang(ctx, command); err != nil {
		return "", err
	}
	return h.inner.Send(ctx, command)
}

func (h *hanger) Interact(ctx context.Context, steps []driver.Exchange) (string, error) {
	command := ""
	if len(steps) > 0 {
		command = steps[0].Input
		if steps[0].Secret {
			command = "********"
		}
	}
	if err := h.hang(ctx, command); err != nil {
		return "", err
	}
	return h.inner.Interact(ctx, steps)
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
