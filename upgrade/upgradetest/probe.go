package upgradetest

import (
	"sync"
	"time"
)

// Probe is a traffic probe: it knows at every instant whether the cluster
// forwards traffic, from the forwarding transitions reported to it, and
// counts lost ticks of a periodic probe (like a ping every Every) without
// running a goroutine. It is safe for concurrent use and works the same in
// real time and in testing/synctest virtual time. Device simulators
// (clavistertest, aviatrixtest…) reuse it.
type Probe struct {
	// Every is the probe period; 0 means 100ms.
	Every time.Duration

	mu      sync.Mutex
	start   time.Time
	changes []change // forwarding transitions, in time order
	stopped time.Time
}

type change struct {
	at         time.Time
	forwarding bool
}

// NewProbe starts a probe now, with the given initial forwarding state.
func NewProbe(every time.Duration, forwarding bool) *Probe {
	now := time.Now()
	return &Probe{Every: every, start: now, changes: []change{{now, forwarding}}}
}

// Set records the forwarding state from now on. Repeated states are
// ignored.
func (p *Probe) Set(forwarding bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.changes); n > 0 && p.changes[n-1].forwarding == forwarding {
		return
	}
	p.changes = append(p.changes, change{time.Now(), forwarding})
}

// Forwarding reports the current state.
func (p *Probe) Forwarding() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changes[len(p.changes)-1].forwarding
}

// Stop freezes the probe's end time at now; later Sets are still recorded
// but not counted.
func (p *Probe) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped.IsZero() {
		p.stopped = time.Now()
	}
}

func (p *Probe) end() time.Time {
	if !p.stopped.IsZero() {
		return p.stopped
	}
	return time.Now()
}

// LostTicks counts probe ticks (at start+Every, start+2·Every, … up to now
// or Stop) that fell while no member forwarded.
func (p *Probe) LostTicks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	every := p.Every
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	end := p.end()
	lost := 0
	for tick := p.start.Add(every); !tick.After(end); tick = tick.Add(every) {
		if !p.stateAt(tick) {
			lost++
		}
	}
	return lost
}

// Ticks counts all probe ticks so far.
func (p *Probe) Ticks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	every := p.Every
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	return int(p.end().Sub(p.start) / every)
}

// Outage is the total time no member forwarded.
func (p *Probe) Outage() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	end := p.end()
	var d time.Duration
	for i, c := range p.changes {
		if c.forwarding || !c.at.Before(end) {
			continue
		}
		until := end
		if i+1 < len(p.changes) && p.changes[i+1].at.Before(end) {
			until = p.changes[i+1].at
		}
		d += until.Sub(c.at)
	}
	return d
}

// stateAt returns the forwarding state in force at t (the last change at or
// before t).
func (p *Probe) stateAt(t time.Time) bool {
	st := p.changes[0].forwarding
	for _, c := range p.changes {
		if c.at.After(t) {
			break
		}
		st = c.forwarding
	}
	return st
}
