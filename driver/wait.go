package driver

import (
	"context"
	"errors"
	"time"
)

// Backoff is an exponential backoff schedule for WaitReachable: the first retry waits Initial,
// each next wait is multiplied by Factor, capped at Max. No jitter is added (deterministic
// schedules keep upgrade timelines and tests reproducible).
type Backoff struct {
	// Initial is the first wait (0 means 1s).
	Initial time.Duration
	// Max caps every wait (0 means 30s; values below Initial are raised to Initial).
	Max time.Duration
	// Factor multiplies the wait after each attempt (values below 1, including 0, mean 2).
	Factor float64
}

// DefaultBackoff is a schedule suited to a unit rebooting after an upgrade.
var DefaultBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second, Factor: 2}

func (b Backoff) normalize() Backoff {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Factor < 1 {
		b.Factor = 2
	}
	return b
}

// next returns the wait after d.
func (b Backoff) next(d time.Duration) time.Duration {
	n := time.Duration(float64(d) * b.Factor)
	if n > b.Max || n < d { // n < d: overflow
		return b.Max
	}
	return n
}

// WaitReachable opens a session to cfg's device, redialling with exponential backoff until it
// succeeds or ctx ends; typically used while a unit reboots. Each attempt is bounded by the
// dial timeout (Config.DialTimeout or the platform's).
//
// It returns at once, without retrying, on *ConfigError, *HostKeyError and *AuthError (a
// reboot does not fix credentials; a changed host key after an upgrade must be accepted by a
// human). When ctx ends first it returns a *WaitError carrying the attempt count and the last
// dial error (errors.Is matches ErrUnreachable and ctx's error).
func WaitReachable(ctx context.Context, cfg Config, backoff Backoff) (Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return waitReachable(ctx, cfg.addr(), backoff, func(ctx context.Context) (Session, error) {
		return Open(ctx, cfg)
	})
}

// waitReachable is WaitReachable with an injectable dialler (tests use fakes in synctest).
func waitReachable(ctx context.Context, addr string, backoff Backoff, dial func(context.Context) (Session, error)) (Session, error) {
	b := backoff.normalize()
	wait := b.Initial
	attempts := 0
	var last error
	giveUp := func() (Session, error) {
		return nil, &WaitError{Host: addr, Attempts: attempts, Last: last, Err: ctx.Err()}
	}
	for {
		if ctx.Err() != nil {
			return giveUp()
		}
		attempts++
		s, err := dial(ctx)
		if err == nil {
			return s, nil
		}
		if errors.Is(err, ErrConfig) || errors.Is(err, ErrHostKey) || errors.Is(err, ErrAuth) {
			return nil, err
		}
		// An attempt cut short by ctx says less than the previous complete one.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		if ctx.Err() != nil {
			return giveUp()
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return giveUp()
		case <-timer.C:
		}
		wait = b.next(wait)
	}
}
