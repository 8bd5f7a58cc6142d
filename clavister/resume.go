package clavister

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/hitless/hitless/upgrade"
)

// This file holds what makes a resumed run (a new process, a new Cluster,
// the same journal) safe: the verification of an interrupted install and
// the arming of the post-install gates. See "Resuming an install" in the
// Planner documentation for the rules.

// installStart returns a function reporting when the install of target on
// unit last began according to Planner.Journal (its last start record), or
// nil without a journal.
func (b builder) installStart(unit string) func(context.Context) (time.Time, bool) {
	if b.journal == nil {
		return nil
	}
	j, id := b.journal, installStepID(unit, b.target)
	return func(ctx context.Context) (time.Time, bool) {
		recs, err := j.Load(ctx)
		if err != nil {
			return time.Time{}, false
		}
		for i := len(recs) - 1; i >= 0; i-- {
			if r := recs[i]; r.Kind == upgrade.RecordStart && r.Step == id && !r.Time.IsZero() {
				return r.Time, true
			}
		}
		return time.Time{}, false
	}
}

// armInstall arms the permanent-failure detection of a post-install gate
// for unit when the snapshot shows it on another version than the target:
// the gate only runs after an install of the target on that unit, which
// may have run in an earlier process (see Member.armInstall).
func (b builder) armInstall(s upgrade.Snapshot, unit string) {
	m, ok := s.Member(unit)
	if !ok || m.Version == "" {
		return
	}
	if v, err := ParseVersion(m.Version); err == nil && v.Compare(b.tv) == 0 {
		return
	}
	if mem := b.c.Member(unit); mem != nil {
		mem.armInstall(b.target, b.installStart(unit))
	}
}

// verifyInstall is the Check of an install step: it decides whether an
// interrupted install of the target on unit is done, must run again, or
// cannot be verified (rules in the Planner documentation).
func (b builder) verifyInstall(ctx context.Context, unit string) (bool, error) {
	m := b.c.Member(unit)
	if m == nil {
		return false, &UnitError{Unit: unit, Op: "verify", Err: ErrUnknownUnit}
	}
	fail := func(err error) error { return &UnitError{Unit: unit, Host: m.host, Op: "verify", Err: err} }
	grace := b.c.cfg.ApplyGrace
	budget := grace + b.timing.Deadline
	start := time.Now()
	since := b.installStart(unit)
	var (
		t0      time.Time
		haveT0  bool
		polls   int
		last    error
		prevUp  time.Duration
		havePre bool
		why     string // restart evidence (rule 2), sticky
	)
	if since != nil {
		t0, haveT0 = since(ctx)
	}
	for {
		polls++
		// `stats` first: the version read next is then the one the unit
		// runs after any restart this Uptime shows.
		sent := time.Now()
		stats, serr := m.stats(ctx)
		var st upgrade.MemberState
		err := serr
		if serr == nil || !unreachable(serr) {
			st, _, err = m.status(ctx)
		}
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if serr == nil {
			switch {
			case why != "":
			case havePre && stats.Uptime < prevUp:
				why = fmt.Sprintf("stats Uptime went back from %v to %v", prevUp, stats.Uptime)
			case haveT0 && stats.Uptime+uptimeResolution <= sent.Sub(t0):
				why = fmt.Sprintf("stats Uptime %v is shorter than the %v since the install began", stats.Uptime, sent.Sub(t0).Round(time.Second))
			}
			prevUp, havePre = stats.Uptime, true
		}
		if why == "" && m.awayCount() > 0 {
			why = "it went away (session dropped, connection refused or timed out) after the install began"
		}
		switch v, verr := ParseVersion(st.Version); {
		case err != nil:
			last = err
		case verr != nil:
			last = cond(ErrUnreadable, "version %q: %v", st.Version, verr)
		case v.Compare(b.tv) == 0:
			m.c.log.Info("clavister: interrupted install verified: unit runs the target", "unit", unit, "version", st.Version)
			return true, nil
		case serr != nil:
			last = serr
		case why != "":
			return false, fail(fmt.Errorf("%w: %w", upgrade.ErrUnverifiable,
				cond(ErrInstallNotTaken, "the install of %s was interrupted; the unit restarted since (%s) and runs %s (Last Event: %s); not applying it again", b.target, why, v, stats.LastEvent)))
		case time.Since(start) < grace:
			last = cond(ErrUnexpectedVersion, "runs %s; waiting up to Config.ApplyGrace %v for the reboot of an apply command that may be pending", v, grace)
		case haveT0:
			// Up on the old version, no restart, for ApplyGrace: no apply
			// command is pending, and none restarted it since the install
			// began.
			m.c.log.Info("clavister: interrupted install verified: not applied (no restart since it began); installing", "unit", unit, "version", v.String(), "uptime", stats.Uptime)
			return false, nil
		default:
			// No journal: is the uploaded package still there?
			listed, lerr := m.packageListed(ctx)
			switch {
			case lerr != nil:
				last = lerr
			case listed:
				m.c.log.Info("clavister: interrupted install verified: not applied (package still listed, no restart); installing", "unit", unit, "version", v.String())
				return false, nil
			default:
				return false, fail(fmt.Errorf("%w: the install of %s was interrupted and %s runs %s: it did not restart within Config.ApplyGrace %v, but without Planner.Journal (when the install began) and with %s not listed on the unit, whether an earlier apply command already restarted it cannot be told; check its stats (Uptime %v, Last Event: %s)",
					upgrade.ErrUnverifiable, b.target, unit, v, grace, path.Base(b.c.cfg.remotePath()), stats.Uptime, stats.LastEvent))
			}
		}
		if time.Since(start) >= budget {
			return false, fail(&upgrade.GateError{Gate: "unit " + unit + " after an interrupted install", Deadline: budget, Polls: polls, Last: last})
		}
		t := time.NewTimer(b.timing.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
	}
}

// packageListed reports whether `ls` lists the uploaded firmware package.
func (m *Member) packageListed(ctx context.Context) (bool, error) {
	dir, name := path.Split(m.c.cfg.remotePath())
	cmd := "ls"
	if dir = path.Clean(dir); dir != "." && dir != "" {
		cmd = "ls " + dir
	}
	out, err := m.send(ctx, "ls", cmd, true)
	if err != nil {
		return false, err
	}
	if _, _, err := lsSize(out, name); err != nil {
		return false, nil // not listed (a *ParseError)
	}
	return true, nil
}
