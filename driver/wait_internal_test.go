package driver

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type nopSession struct{}

func (nopSession) Send(context.Context, string) (string, error)         { return "", nil }
func (nopSession) Interact(context.Context, []Exchange) (string, error) { return "", nil }
func (nopSession) Host() string                                         { return "h:22" }
func (nopSession) Close() error                                         { return nil }

// dialer fails with errs in order, then succeeds; it records the virtual time of each attempt.
type dialer struct {
	errs  []error
	at    []time.Duration
	start time.Time
}

func (d *dialer) dial(context.Context) (Session, error) {
	d.at = append(d.at, time.Since(d.start))
	if len(d.at) <= len(d.errs) {
		return nil, d.errs[len(d.at)-1]
	}
	return nopSession{}, nil
}

func unreachable() error { return &UnreachableError{Host: "h:22", Err: io.EOF} }

func TestWaitReachableBackoffSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &dialer{errs: []error{unreachable(), unreachable(), unreachable(), unreachable(), unreachable()}, start: time.Now()}
		s, err := waitReachable(t.Context(), "h:22", Backoff{Initial: time.Second, Max: 5 * time.Second, Factor: 2}, d.dial)
		require.NoError(t, err)
		require.NotNil(t, s)
		// Waits 1, 2, 4, 5 (capped), 5 seconds.
		assert.Equal(t, []time.Duration{0, 1 * time.Second, 3 * time.Second, 7 * time.Second, 12 * time.Second, 17 * time.Second}, d.at)
	})
}

func TestWaitReachableGivesUpAtDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		last := &UnreachableError{Host: "h:22", Err: errors.New("connection refused")}
		d := &dialer{errs: []error{unreachable(), unreachable(), unreachable(), last, unreachable()}, start: time.Now()}
		_, err := waitReachable(ctx, "h:22", Backoff{Initial: time.Second, Max: 4 * time.Second, Factor: 2}, d.dial)
		var we *WaitError
		require.ErrorAs(t, err, &we)
		// Attempts at 0, 1, 3, 7s; the next wait (4s) ends after the 10s deadline.
		assert.Equal(t, 4, we.Attempts)
		assert.Equal(t, 10*time.Second, time.Since(d.start))
		assert.ErrorIs(t, err, ErrUnreachable)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, "h:22", we.Host)
		assert.Equal(t, last, we.Last)
	})
}

func TestWaitReachableStopsOnAuthAndHostKey(t *testing.T) {
	for _, stop := range []error{
		&AuthError{Host: "h:22", User: "admin", Err: errors.New("unable to authenticate")},
		&HostKeyError{Host: "h:22", Reason: HostKeyChanged},
		&ConfigError{Field: "KnownHostsFile", Problem: "x"},
	} {
		synctest.Test(t, func(t *testing.T) {
			d := &dialer{errs: []error{unreachable(), stop, unreachable()}, start: time.Now()}
			_, err := waitReachable(t.Context(), "h:22", Backoff{Initial: time.Minute}, d.dial)
			assert.Equal(t, stop, err)
			assert.Len(t, d.at, 2)
			assert.Equal(t, time.Minute, time.Since(d.start))
		})
	}
}

func TestWaitReachableCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		d := &dialer{errs: []error{unreachable(), unreachable()}, start: time.Now()}
		time.AfterFunc(90*time.Second, cancel) // virtual time
		_, err := waitReachable(ctx, "h:22", Backoff{Initial: time.Minute, Max: time.Hour, Factor: 3}, d.dial)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 90*time.Second, time.Since(d.start))
	})
}

func TestBackoffNormalize(t *testing.T) {
	b := Backoff{}.normalize()
	assert.Equal(t, Backoff{Initial: time.Second, Max: 30 * time.Second, Factor: 2}, b)
	b = Backoff{Initial: time.Minute, Max: time.Second, Factor: 0.5}.normalize()
	assert.Equal(t, Backoff{Initial: time.Minute, Max: time.Minute, Factor: 2}, b)
	assert.Equal(t, time.Duration(1<<62), Backoff{Initial: 1, Max: 1 << 62, Factor: 1e30}.normalize().next(1<<61))
}
