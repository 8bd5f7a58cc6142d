package clavister

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/driver/drivertest"
	"github.com/hitless/hitless/upgrade"
)

// Unit tests of the resume rules (see "Resuming an install" in the Planner
// documentation) against scripted units; the end-to-end crash tests are in
// resume_e2e_test.go.

// statsUp renders `stats` with the given uptime and last event.
func statsUp(uptime time.Duration, event string) string {
	s := int64(uptime / time.Second)
	return fmt.Sprintf("Uptime             : %d days, %02d:%02d:%02d\nLast Event         : 2019-08-12 14:01:18: %s\nCPU Load           : 0%%, 0%%\nConnections        : 8 out of 256000\n",
		s/86400, s%86400/3600, s%3600/60, s%60, event)
}

// resumeFixture is fw-a ACTIVE and fw-b INACTIVE, both scripted, fw-b on
// version with the given uptime; j, when not nil, journals that the
// install of newV on fw-b began at started.
type resumeFixture struct {
	c     *Cluster
	b     *drivertest.Scripted
	build builder
}

func newResumeFixture(t *testing.T, version string, uptime time.Duration, j upgrade.Journal, grace time.Duration) resumeFixture {
	t.Helper()
	a, b := pairScripts(oldV)
	b.On("about", drivertest.Reply{Output: aboutOut(version)})
	b.On("stats", drivertest.Reply{Output: statsUp(uptime, "Restart request from CLI by admin (10.0.0.9).")})
	b.On("ls", drivertest.Reply{Output: "config.bak\nfull.bak\n"})
	cfg := validConfig(t)
	cfg.ApplyGrace = grace
	c, _ := scriptedCluster(t, cfg, map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
	tv, err := ParseVersion(newV)
	if err != nil {
		t.Fatal(err)
	}
	return resumeFixture{c: c, b: b, build: builder{c: c, target: newV, tv: tv, journal: j,
		timing: upgrade.Timing{Interval: 5 * time.Millisecond, Deadline: 2 * time.Second}}}
}

// startedAt is a journal whose last record says the install of newV on
// fw-b began at t0.
func startedAt(t *testing.T, t0 time.Time) upgrade.Journal {
	t.Helper()
	j := &upgrade.MemoryJournal{}
	for i, r := range []upgrade.Record{
		{Kind: upgrade.RecordPlan, Cluster: "hq", Target: newV},
		{Kind: upgrade.RecordStart, Step: installStepID("fw-b", newV)},
	} {
		r.Seq, r.Time = i+1, t0
		if err := j.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

func countCmd(cmds []string, cmd string) int {
	n := 0
	for _, c := range cmds {
		if c == cmd {
			n++
		}
	}
	return n
}

// TestVerifyInterruptedInstall covers each rule of the verification of an
// interrupted install.
func TestVerifyInterruptedInstall(t *testing.T) {
	const grace = 60 * time.Millisecond
	notTaken := []error{upgrade.ErrUnverifiable, ErrInstallNotTaken}
	tests := []struct {
		name    string
		version string
		uptime  time.Duration
		journal func(t *testing.T) upgrade.Journal // nil: no Planner.Journal
		setup   func(b *drivertest.Scripted)
		done    bool
		errs    []error // nil: no error
		waits   bool    // decided only after ApplyGrace
	}{
		{name: "back on the target", version: newV, uptime: time.Hour, done: true},
		{name: "restarted since the journaled start, old version", version: oldV, uptime: 10 * time.Second,
			journal: func(t *testing.T) upgrade.Journal { return startedAt(t, time.Now().Add(-time.Hour)) }, errs: notTaken},
		{name: "no restart since the journaled start: not applied", version: oldV, uptime: time.Hour,
			journal: func(t *testing.T) upgrade.Journal { return startedAt(t, time.Now().Add(-5*time.Second)) }, waits: true},
		{name: "uptime went back between polls", version: oldV,
			journal: func(t *testing.T) upgrade.Journal { return startedAt(t, time.Now()) },
			setup: func(b *drivertest.Scripted) {
				b.On("stats", drivertest.Reply{Output: statsUp(time.Hour, "x")}, drivertest.Reply{Output: statsUp(2*time.Second, "Firmware upgrade request from CLI by admin (10.0.0.9).")})
			}, errs: notTaken},
		{name: "no journal, package still listed: not applied", version: oldV, uptime: time.Hour,
			setup: func(b *drivertest.Scripted) {
				b.On("ls", drivertest.Reply{Output: "config.bak\ncos-core-14.00.11.upg\nfull.bak\n"})
			}, waits: true},
		{name: "no journal, package not listed: unverifiable", version: oldV, uptime: time.Hour,
			errs: []error{upgrade.ErrUnverifiable}, waits: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var j upgrade.Journal
			if tt.journal != nil {
				j = tt.journal(t)
			}
			f := newResumeFixture(t, tt.version, tt.uptime, j, grace)
			if tt.setup != nil {
				tt.setup(f.b)
			}
			start := time.Now()
			done, err := f.build.verifyInstall(t.Context(), "fw-b")
			took := time.Since(start)
			if done != tt.done {
				t.Errorf("done = %t, want %t", done, tt.done)
			}
			if tt.errs == nil && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			for _, target := range tt.errs {
				if !errors.Is(err, target) {
					t.Errorf("error does not match %v: %v", target, err)
				}
			}
			if tt.errs != nil {
				var ue *UnitError
				if !errors.As(err, &ue) || ue.Unit != "fw-b" || ue.Op != "verify" {
					t.Errorf("want a *UnitError{fw-b, verify}, got %v", err)
				}
			}
			if tt.waits && took < grace {
				t.Errorf("decided after %v, before ApplyGrace %v", took, grace)
			}
			if !tt.waits && took >= grace {
				t.Errorf("took %v: should decide without waiting for ApplyGrace", took)
			}
			if cmds := f.b.Commands(); slices.ContainsFunc(cmds, func(c string) bool { return strings.HasPrefix(c, "shutdown") }) {
				t.Errorf("verification sent %q", cmds)
			}
		})
	}
}

// TestVerifyInterruptedInstallUnitAway: New cannot reach fw-b (rebooting
// after the apply command); the verification waits until it answers and
// settles on the version it comes back with.
func TestVerifyInterruptedInstallUnitAway(t *testing.T) {
	for _, tt := range []struct {
		version string
		done    bool
	}{{newV, true}, {oldV, false}} {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			a, b := pairScripts(oldV)
			b.On("about", drivertest.Reply{Output: aboutOut(tt.version)})
			dials := 0
			cfg := validConfig(t)
			cfg.ApplyGrace = time.Minute // the restart is seen: no need to wait for it
			c, _ := scriptedCluster(t, cfg, map[string]dialer{"fw-a": always(a), "fw-b": func() (driver.Session, error) {
				if dials++; dials <= 3 {
					return nil, &driver.UnreachableError{Host: "10.0.0.2:22", Err: errors.New("connection refused")}
				}
				return b, nil
			}})
			tv, _ := ParseVersion(newV)
			bl := builder{c: c, target: newV, tv: tv, timing: upgrade.Timing{Interval: 5 * time.Millisecond, Deadline: 2 * time.Second}}
			done, err := bl.verifyInstall(t.Context(), "fw-b")
			if done != tt.done {
				t.Errorf("done = %t, want %t (%v)", done, tt.done, err)
			}
			if tt.done && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if !tt.done && (!errors.Is(err, upgrade.ErrUnverifiable) || !errors.Is(err, ErrInstallNotTaken)) {
				t.Errorf("want ErrUnverifiable and ErrInstallNotTaken, got %v", err)
			}
		})
	}
	t.Run("never back", func(t *testing.T) {
		t.Parallel()
		a, _ := pairScripts(oldV)
		cfg := validConfig(t)
		cfg.ApplyGrace = 20 * time.Millisecond
		c, _ := scriptedCluster(t, cfg, map[string]dialer{"fw-a": always(a)})
		tv, _ := ParseVersion(newV)
		bl := builder{c: c, target: newV, tv: tv, timing: upgrade.Timing{Interval: 5 * time.Millisecond, Deadline: 50 * time.Millisecond}}
		done, err := bl.verifyInstall(t.Context(), "fw-b")
		var ge *upgrade.GateError
		if done || !errors.As(err, &ge) || !errors.Is(err, ErrUnreachable) && !errors.Is(err, driver.ErrUnreachable) {
			t.Errorf("want a gate timeout naming the unreachable unit, got %t, %v", done, err)
		}
	})
}

// TestGateAfterRestart: a resumed run's post-install gate (the install ran
// in an earlier process) fails for good when the unit came back on its old
// version after a restart, known from the journal and `stats` or from the
// unit going away since New; it keeps waiting otherwise.
func TestGateAfterRestart(t *testing.T) {
	tests := []struct {
		name      string
		uptime    time.Duration
		journal   bool
		permanent bool
	}{
		{"restarted since the journaled start", 10 * time.Second, true, true},
		{"not restarted yet", time.Hour, true, false},
		{"no journal, never seen away", 10 * time.Second, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var j upgrade.Journal
			if tt.journal {
				j = startedAt(t, time.Now().Add(-time.Hour))
			}
			f := newResumeFixture(t, oldV, tt.uptime, j, time.Minute)
			gate := f.build.waitUpgraded("fw-b", "fw-a").(upgrade.Gated).Gate()
			var last error
			for range 2 { // the first poll arms the detection
				s, err := f.c.Observe(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				last = gate.Check(s)
			}
			if got := errors.Is(last, upgrade.ErrPermanent); got != tt.permanent {
				t.Errorf("permanent = %t, want %t: %v", got, tt.permanent, last)
			}
			if tt.permanent && !errors.Is(last, ErrInstallNotTaken) {
				t.Errorf("want ErrInstallNotTaken, got %v", last)
			}
			if !errors.Is(last, ErrUnexpectedVersion) {
				t.Errorf("want ErrUnexpectedVersion, got %v", last)
			}
		})
	}
	t.Run("seen away since New", func(t *testing.T) {
		t.Parallel()
		a, b := pairScripts(oldV)
		dials := 0
		c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(a), "fw-b": func() (driver.Session, error) {
			if dials++; dials == 1 {
				return nil, &driver.UnreachableError{Host: "10.0.0.2:22", Err: errors.New("connection refused")}
			}
			return b, nil
		}})
		tv, _ := ParseVersion(newV)
		bl := builder{c: c, target: newV, tv: tv, timing: upgrade.Timing{Interval: 5 * time.Millisecond, Deadline: time.Second}}
		gate := bl.waitUpgraded("fw-b", "fw-a").(upgrade.Gated).Gate()
		var last error
		for range 2 {
			s, err := c.Observe(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			last = gate.Check(s)
		}
		if !errors.Is(last, ErrInstallNotTaken) || !errors.Is(last, upgrade.ErrPermanent) {
			t.Errorf("want a permanent ErrInstallNotTaken, got %v", last)
		}
		if n := countCmd(b.Commands(), "stats"); n != 0 {
			t.Errorf("stats read %d times without a journal", n)
		}
	})
}

// TestNewToleratesUnreachableUnit: New fails only on configuration, login
// and host-key errors, or when neither unit answers.
func TestNewToleratesUnreachableUnit(t *testing.T) {
	refused := func(host string) dialer {
		return func() (driver.Session, error) {
			return nil, &driver.UnreachableError{Host: host, Err: errors.New("connection refused")}
		}
	}
	t.Run("one unit rebooting", func(t *testing.T) {
		a, _ := pairScripts(oldV)
		cfg := validConfig(t)
		c, err := newCluster(t.Context(), cfg, transport{
			open: func(_ context.Context, dc driver.Config) (driver.Session, error) {
				if dc.Host == "10.0.0.2" {
					return refused("10.0.0.2:22")()
				}
				return a, nil
			},
			reconnect: func(context.Context, driver.Config, driver.Backoff) (driver.Session, error) {
				return refused("10.0.0.2:22")()
			},
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		defer func() { _ = c.Close() }()
		s, err := c.Observe(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := s.Member("fw-b")
		if b.Role != upgrade.RoleDown || len(b.Problems) == 0 || !errors.Is(classify(b.Problems[0]), ErrUnreachable) {
			t.Errorf("fw-b: %+v, want down and unreachable", b)
		}
		err = c.PreCheck(t.Context())
		var ue *UnitError
		if !errors.As(err, &ue) || ue.Unit != "fw-b" || !errors.Is(err, driver.ErrUnreachable) {
			t.Errorf("PreCheck: want an unreachable fw-b, got %v", err)
		}
	})
	t.Run("both unreachable", func(t *testing.T) {
		cfg := validConfig(t)
		c, err := newCluster(t.Context(), cfg, transport{open: func(_ context.Context, dc driver.Config) (driver.Session, error) {
			return refused(dc.Host + ":22")()
		}})
		if c != nil || !errors.Is(err, driver.ErrUnreachable) {
			t.Fatalf("got %v, %v", c, err)
		}
		for _, unit := range []string{"fw-a", "fw-b"} {
			if !strings.Contains(err.Error(), "unit "+unit+" ") {
				t.Errorf("error does not name %s: %v", unit, err)
			}
		}
	})
	t.Run("host key rejected while the other is unreachable", func(t *testing.T) {
		cfg := validConfig(t)
		c, err := newCluster(t.Context(), cfg, transport{open: func(_ context.Context, dc driver.Config) (driver.Session, error) {
			if dc.Host == "10.0.0.1" {
				return nil, &driver.HostKeyError{Host: "10.0.0.1:22", Reason: driver.HostKeyChanged}
			}
			return refused("10.0.0.2:22")()
		}})
		if c != nil || !errors.Is(err, driver.ErrHostKey) {
			t.Fatalf("got %v, %v", c, err)
		}
	})
}
