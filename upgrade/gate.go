package upgrade

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Timing says how a Gate polls. The vocabulary is Nomad's update stanza:
// poll every Interval; the condition must hold continuously for MinHealthy;
// give up after Deadline (measured from the gate's start).
type Timing struct {
	// Interval between polls; > 0 and <= Deadline.
	Interval time.Duration `json:"interval"`
	// MinHealthy is how long the condition must hold without a failing
	// poll in between; 0 means the first healthy poll passes. < Deadline.
	MinHealthy time.Duration `json:"min_healthy"`
	// Deadline bounds the whole wait; > 0.
	Deadline time.Duration `json:"deadline"`
}

// Validate reports every problem with t at once, as a *TimingError that
// matches ErrInvalidTiming.
func (t Timing) Validate() error {
	var probs []string
	if t.Interval <= 0 {
		probs = append(probs, fmt.Sprintf("interval %v must be > 0", t.Interval))
	}
	if t.Deadline <= 0 {
		probs = append(probs, fmt.Sprintf("deadline %v must be > 0", t.Deadline))
	}
	if t.MinHealthy < 0 {
		probs = append(probs, fmt.Sprintf("min healthy %v must be >= 0", t.MinHealthy))
	}
	if t.Deadline > 0 && t.MinHealthy >= t.Deadline {
		probs = append(probs, fmt.Sprintf("min healthy %v must be < deadline %v", t.MinHealthy, t.Deadline))
	}
	if t.Deadline > 0 && t.Interval > t.Deadline {
		probs = append(probs, fmt.Sprintf("interval %v must be <= deadline %v", t.Interval, t.Deadline))
	}
	if len(probs) > 0 {
		return &TimingError{Timing: t, Problems: probs}
	}
	return nil
}

// Gate is a health condition on a cluster snapshot, polled with a Timing.
type Gate struct {
	// Name identifies the gate in events and errors.
	Name string
	// Timing governs polling.
	Timing Timing
	// Check returns nil when the snapshot satisfies the condition, or an
	// error saying what is still missing (kept as the gate's last failure).
	Check func(s Snapshot) error
}

// Poll is one observation made while waiting for a gate.
type Poll struct {
	// N counts polls from 1.
	N int
	// Elapsed since the gate started.
	Elapsed time.Duration
	// Err is nil when the condition held; otherwise why not (an Observe
	// error or the Check's error).
	Err error
}

// WaitFor polls c until g's condition has held for g.Timing.MinHealthy, or
// fails with a *GateError (matching ErrGateTimeout) carrying the last
// failure once g.Timing.Deadline has passed, or at once when a failure
// matches ErrPermanent. The first poll is immediate; later ones follow
// every Interval. onPoll, if not nil, sees every poll. It returns the last
// snapshot observed. ctx cancellation ends the wait with ctx's error
// wrapped.
func WaitFor(ctx context.Context, c Cluster, g Gate, onPoll func(Poll)) (Snapshot, error) {
	if g.Check == nil {
		return Snapshot{}, fmt.Errorf("gate %q has no check: %w", g.Name, ErrNoAction)
	}
	var last Snapshot
	err := PollUntil(ctx, g.Name, g.Timing, func(ctx context.Context) error {
		snap, err := c.Observe(ctx)
		if err != nil {
			return err
		}
		last = snap
		return g.Check(snap)
	}, onPoll)
	return last, err
}

// PollUntil is the one poll loop of hitless: it calls check at once and
// then every t.Interval until check has returned nil continuously for
// t.MinHealthy. It fails with a *GateError named name (matching
// ErrGateTimeout, carrying the last failure) at t.Deadline after the
// start when no poll before it held, or at once when check's error matches ErrPermanent
// (a *GateError with Permanent set, which does not match ErrGateTimeout);
// ctx cancellation ends it with ctx's error wrapped. The wait never
// outlasts the deadline: check's ctx carries it, so a hanging check is cut
// off at the deadline, and no poll starts after it. Health gates (WaitFor)
// and vendor job-status polls (an Aviatrix async upgrade) both use it, so
// every wait has the same semantics and is testable in a testing/synctest
// bubble. onPoll, if not nil, sees every poll.
func PollUntil(ctx context.Context, name string, t Timing, check func(ctx context.Context) error, onPoll func(Poll)) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("gate %q: %w", name, err)
	}
	start := time.Now()
	deadline := start.Add(t.Deadline)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var (
		lastErr      error
		healthySince time.Time
		healthy      bool
	)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return fmt.Errorf("gate %q: %w", name, ctx.Err())
		case <-timer.C:
		}
		now := time.Now()
		err := check(dctx)
		if onPoll != nil {
			onPoll(Poll{N: n, Elapsed: now.Sub(start), Err: err})
		}
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("gate %q: %w", name, ctx.Err())
			}
			healthy = false
			if dctx.Err() != nil && lastErr != nil {
				lastErr = fmt.Errorf("%w (and the last check did not answer before the deadline: %v)", lastErr, err)
			} else {
				lastErr = err
			}
			if errors.Is(err, ErrPermanent) {
				return &GateError{Gate: name, Deadline: t.Deadline, Polls: n, Permanent: true, Last: err}
			}
		} else {
			if !healthy {
				healthy, healthySince = true, now
			}
			if now.Sub(healthySince) >= t.MinHealthy {
				return nil
			}
		}
		wait := t.Interval
		if next := time.Now().Add(t.Interval); !next.Before(deadline) || dctx.Err() != nil {
			// No poll fits before the deadline: give up at the deadline.
			if lastErr == nil {
				lastErr = errors.New("condition did not hold for the minimum healthy time")
			}
			timer.Reset(time.Until(deadline))
			select {
			case <-ctx.Done():
				return fmt.Errorf("gate %q: %w", name, ctx.Err())
			case <-timer.C:
			}
			return &GateError{Gate: name, Deadline: t.Deadline, Polls: n, Last: lastErr}
		}
		timer.Reset(wait)
	}
}
