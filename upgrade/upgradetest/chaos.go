package upgradetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hitless/hitless/upgrade"
)

// ErrKilled is what the journals of a killed Process return.
var ErrKilled = errors.New("upgradetest: process killed")

// Process simulates the process that runs upgrades, for crash-and-resume
// tests. Wrap every journal the process uses with Journal and run under
// Context. Once the process is killed — by Kill, at the N-th journal
// append (KillAtAppend), or at a moment (KillAfter) — every Append and
// Load of its journals fails with ErrKilled and its context is cancelled:
// as after a real crash, nothing more reaches the journal, and nothing
// more reaches the devices after the executors' next journal write or safe
// point. Resume by running again with a new Process over the same
// underlying journals, re-planning from a fresh observation.
type Process struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu         sync.Mutex
	killed     bool
	killedAt   time.Time
	appends    int
	killAt     int              // kill at this append (1-based); 0 = never
	afterWrite bool             // the killAt-th append is written first
	groups     map[string]batch // step ID → the batch it runs in
	batch      string           // key of the batch whose appends are under way
}

// NewProcess returns a live process whose Context derives from ctx.
func NewProcess(ctx context.Context) *Process {
	p := &Process{}
	p.ctx, p.cancel = context.WithCancel(ctx)
	return p
}

// Context is cancelled when the process is killed.
func (p *Process) Context() context.Context { return p.ctx }

// Kill kills the process now (a no-op when it is dead already).
func (p *Process) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killLocked()
}

func (p *Process) killLocked() {
	if p.killed {
		return
	}
	p.killed, p.killedAt = true, time.Now()
	p.cancel()
}

// Killed reports whether the process was killed, and when.
func (p *Process) Killed() (bool, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killed, p.killedAt
}

// Appends counts the appends the process's journals accepted.
func (p *Process) Appends() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.appends
}

// KillAtAppend kills the process at its n-th journal append (counted over
// all its journals, from 1; 0 = never): that append fails and so does
// every later one. plans are the plans the process runs: steps of a batch
// (upgrade.Grouper) run concurrently, so the order of their appends is not
// deterministic; when the n-th append would fall among a batch's, the
// process dies at the batch's first append instead, which keeps a seeded
// test reproducible. The batch rule assumes one plan runs at a time; to
// kill a process that runs several clusters at once (a Rollout), use
// KillAfter.
func (p *Process) KillAtAppend(n int, plans ...upgrade.Plan) {
	p.killAtAppend(n, false, plans)
}

// KillAfterAppend is KillAtAppend, except that the n-th append reaches the
// journal before the process dies (Append still fails): the crash comes
// after the durable write and before the executor learns of it, so the
// journal says a step started (or finished) that the executor did not go
// on with. Within a batch the process dies before the batch's first
// append, as with KillAtAppend (which of the batch's appends is first is
// not deterministic).
func (p *Process) KillAfterAppend(n int, plans ...upgrade.Plan) {
	p.killAtAppend(n, true, plans)
}

func (p *Process) killAtAppend(n int, afterWrite bool, plans []upgrade.Plan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killAt, p.afterWrite = n, afterWrite
	p.groups = map[string]batch{}
	for pi, pl := range plans {
		for i := 0; i < len(pl.Steps); {
			j := i + 1
			if g := groupOf(pl.Steps[i]); g != "" {
				for j < len(pl.Steps) && groupOf(pl.Steps[j]) == g {
					j++
				}
			}
			if j-i > 1 {
				key := fmt.Sprintf("%d/%d", pi, i)
				for _, st := range pl.Steps[i:j] {
					p.groups[st.ID()] = batch{key: key, size: j - i}
				}
			}
			i = j
		}
	}
}

// batch is a run of consecutive steps of one Group.
type batch struct {
	key  string
	size int
}

func groupOf(s upgrade.Step) string {
	if g, ok := s.(upgrade.Grouper); ok {
		return g.Group()
	}
	return ""
}

// KillAfter kills the process after d; the returned function cancels
// that (false when the process was killed already).
func (p *Process) KillAfter(d time.Duration) (stop func() bool) {
	t := time.AfterFunc(d, p.Kill)
	return t.Stop
}

// Journal wraps inner so that it dies with the process. The wrapper
// passes Lock and Unlock on when inner is an upgrade.JournalLocker (a
// FileJournal's lock is released when the run ends, as the kernel releases
// a dead process's flock).
func (p *Process) Journal(inner upgrade.Journal) upgrade.Journal {
	return &processJournal{p: p, inner: inner}
}

type processJournal struct {
	p     *Process
	inner upgrade.Journal
}

// Load implements upgrade.Journal.
func (j *processJournal) Load(ctx context.Context) ([]upgrade.Record, error) {
	if dead, _ := j.p.Killed(); dead {
		return nil, ErrKilled
	}
	return j.inner.Load(ctx)
}

// Append implements upgrade.Journal.
func (j *processJournal) Append(ctx context.Context, r upgrade.Record) error {
	p := j.p
	p.mu.Lock()
	if !p.killed && p.killAt > 0 {
		n := p.appends + 1
		b, batched := p.groups[r.Step]
		switch {
		case batched && b.key != p.batch:
			// The first append of a batch decides for the whole batch.
			p.batch = b.key
			if p.killAt >= n && p.killAt < n+2*b.size {
				p.killLocked()
			}
		case batched:
		default:
			p.batch = ""
			if p.killAt == n && p.afterWrite {
				p.appends++
				err := j.inner.Append(ctx, r)
				p.killLocked()
				p.mu.Unlock()
				if err != nil {
					return err
				}
				return ErrKilled
			}
			if p.killAt == n {
				p.killLocked()
			}
		}
	}
	if p.killed {
		p.mu.Unlock()
		return ErrKilled
	}
	p.appends++
	p.mu.Unlock()
	return j.inner.Append(ctx, r)
}

// Lock implements upgrade.JournalLocker.
func (j *processJournal) Lock() error {
	if l, ok := j.inner.(upgrade.JournalLocker); ok {
		return l.Lock()
	}
	return nil
}

// Unlock implements upgrade.JournalLocker.
func (j *processJournal) Unlock() error {
	if l, ok := j.inner.(upgrade.JournalLocker); ok {
		return l.Unlock()
	}
	return nil
}
