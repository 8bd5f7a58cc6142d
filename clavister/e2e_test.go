package clavister_test

// End-to-end tests: the real driver over real SSH on 127.0.0.1 against the
// clavistertest simulator (no synctest bubbles: real sockets), with
// millisecond durations. Nothing sleeps: every wait is a health gate or a
// redial with backoff, bounded by contexts.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/clavister/clavistertest"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const (
	e2eFrom   = clavistertest.DefaultVersion // 14.00.09.00-31234
	e2eTarget = "14.00.10.00-31300"
)

// e2eTiming makes gates poll fast; the deadline covers a simulated reboot.
var e2eTiming = upgrade.Timing{Interval: 40 * time.Millisecond, MinHealthy: 80 * time.Millisecond, Deadline: 5 * time.Second}

// startPair starts a simulated pair with millisecond durations and returns
// it with a Config for it (firmware for e2eTarget written to a temp dir).
//
// The simulated `ls` prints sizes (clavistertest.Options.ListSizes, a
// hitless assumption, not a capture), so that Install verifies uploads; see
// startPairWith for other options.
func startPair(t *testing.T, faults clavistertest.Faults) (*clavistertest.Pair, clavister.Config) {
	t.Helper()
	return startPairWith(t, clavistertest.Options{ListSizes: true, Faults: faults})
}

// startPairWith is startPair with options (the durations are set here).
func startPairWith(t *testing.T, o clavistertest.Options) (*clavistertest.Pair, clavister.Config) {
	t.Helper()
	o.ApplyDelay = 20 * time.Millisecond
	o.RebootDuration = 300 * time.Millisecond
	o.SyncDuration = 200 * time.Millisecond
	o.FailoverGap = 200 * time.Millisecond
	o.ProbeEvery = 10 * time.Millisecond
	pair, err := clavistertest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pair.Close() })
	fw, err := pair.WriteFirmware(t.TempDir(), e2eTarget)
	if err != nil {
		t.Fatal(err)
	}
	return pair, configFor(pair, fw)
}

func configFor(pair *clavistertest.Pair, firmware string) clavister.Config {
	u := pair.Units()
	return clavister.Config{
		Name: "hq",
		Units: [2]clavister.Unit{
			{Name: u[0].Name(), Host: u[0].Host(), Port: u[0].Port()},
			{Name: u[1].Name(), Host: u[1].Host(), Port: u[1].Port()},
		},
		Username:         pair.Username(),
		Password:         pair.Password(),
		KnownHostsFile:   pair.KnownHostsFile(),
		FirmwarePath:     firmware,
		CommandTimeout:   5 * time.Second,
		DialTimeout:      10 * time.Second, // generous: handshakes on a loaded machine (race detector)
		ReconnectTimeout: 2 * time.Second,
		ReconnectBackoff: driver.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond, Factor: 2},
		ApplyGrace:       400 * time.Millisecond,
		Transcript:       driver.NewTranscript(),
	}
}

// run observes, plans and executes an upgrade to e2eTarget.
func run(t *testing.T, ctx context.Context, c *clavister.Cluster, p clavister.Planner) (*upgrade.Report, upgrade.Plan, error) {
	t.Helper()
	snap, err := c.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Cluster = c
	if p.GateTiming == (upgrade.Timing{}) {
		p.GateTiming = e2eTiming
	}
	plan, err := p.Plan(snap, e2eTarget)
	if err != nil {
		return nil, plan, err
	}
	rep, err := (&upgrade.Executor{Retry: e2eRetry}).Run(ctx, c, plan)
	return rep, plan, err
}

// e2eRetry retries idempotent steps (the stage steps) quickly.
var e2eRetry = upgrade.Retry{Attempts: 3, Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}

// actions returns the transcript's state-changing commands as
// "unit: command", in order (reads such as ha, about, stats, ls left out).
func actions(cfg clavister.Config) []string {
	names := map[string]string{}
	for _, u := range cfg.Units {
		names[net.JoinHostPort(u.Host, strconv.Itoa(u.Port))] = u.Name
	}
	var out []string
	for _, e := range cfg.Transcript.Entries() {
		cmd := e.Command
		switch {
		case slices.Contains([]string{"ha", "about", "stats", "ls"}, cmd):
			continue
		case strings.HasPrefix(cmd, "scp "):
			cmd = "scp " + filepath.Base(strings.Fields(cmd)[1])
		}
		out = append(out, names[e.Host]+": "+cmd)
	}
	return out
}

func TestE2EUpgrade(t *testing.T) {
	for _, restore := range []bool{false, true} {
		t.Run("RestoreRoles="+strconv.FormatBool(restore), func(t *testing.T) {
			pair, cfg := startPair(t, clavistertest.Faults{})
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			start := time.Now()
			c, err := clavister.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			rep, plan, err := run(t, ctx, c, clavister.Planner{RestoreRoles: restore})
			if err != nil {
				t.Fatalf("upgrade: %v\nplan:\n%s", err, plan.Render())
			}
			t.Logf("upgrade took %v, %d probe ticks\n%s", time.Since(start).Round(time.Millisecond), pair.Probe().Ticks(), plan.Render())
			if !rep.OK {
				t.Fatalf("report not OK: %s", rep.Error)
			}
			for _, u := range pair.Units() {
				if u.Version() != e2eTarget {
					t.Errorf("%s runs %s, want %s", u.Name(), u.Version(), e2eTarget)
				}
			}
			if lost := pair.Probe().LostTicks(); lost != 0 {
				t.Errorf("lost %d probe ticks (outage %v)", lost, pair.Probe().Outage())
			}
			fw := clavistertest.FirmwareName(e2eTarget)
			want := []string{
				"fw-b: scp " + fw, "fw-b: shutdown -reboot",
				"fw-a: ha -deactivate",
				"fw-a: scp " + fw, "fw-a: shutdown -reboot",
			}
			wantActive := "fw-b"
			if restore {
				want = append(want, "fw-b: ha -deactivate")
				wantActive = "fw-a"
			}
			if got := actions(cfg); !slices.Equal(got, want) {
				t.Errorf("state-changing commands:\n got %q\nwant %q", got, want)
			}
			if !pair.Unit(wantActive).Active() {
				t.Errorf("%s is not active at the end", wantActive)
			}
			// Every command of fw-b, in order, starts with reads.
			cmds := pair.Unit("fw-b").Commands()
			if i := slices.Index(cmds, "shutdown -reboot"); i < 2 || !slices.Contains(cmds[:i], "ha") || !slices.Contains(cmds[:i], "about") {
				t.Errorf("fw-b commands: %q", cmds)
			}
			// Re-planning at the end: nothing left.
			snap, err := c.Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			again, err := clavister.Planner{Cluster: c, GateTiming: e2eTiming, RestoreRoles: restore}.Plan(snap, e2eTarget)
			if err != nil || len(again.Steps) != 0 {
				t.Errorf("re-plan after the upgrade: %v, %q", err, again.StepIDs())
			}
			// The password never shows in the transcript.
			for _, e := range cfg.Transcript.Entries() {
				if strings.Contains(e.Command+e.Output+e.Error, cfg.Password) {
					t.Fatalf("password in transcript entry %+v", e)
				}
			}
		})
	}
}

// expectUnitError asserts err is (or wraps) a *clavister.UnitError naming
// unit and matching every target.
func expectUnitError(t *testing.T, err error, unit string, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one naming %s", unit)
	}
	var found bool
	for _, ue := range unitErrors(err) {
		if ue.Unit == unit {
			found = true
		}
	}
	if !found {
		t.Errorf("error does not name unit %s with a *clavister.UnitError: %v", unit, err)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("error does not match %v: %v", target, err)
		}
	}
}

// unitErrors collects every *clavister.UnitError in err's tree.
func unitErrors(err error) []*clavister.UnitError {
	var out []*clavister.UnitError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ue, ok := e.(*clavister.UnitError); ok {
			out = append(out, ue)
		}
		switch x := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// expectSafe asserts nothing changed that could interrupt traffic: the
// probe lost no tick and fw-a (the initially active unit) still forwards.
func expectSafe(t *testing.T, pair *clavistertest.Pair) {
	t.Helper()
	if lost := pair.Probe().LostTicks(); lost != 0 {
		t.Errorf("lost %d probe ticks", lost)
	}
	if !pair.Probe().Forwarding() || !pair.Unit("fw-a").Active() {
		t.Errorf("cluster not forwarding through fw-a at the end")
	}
	if cmds := pair.Unit("fw-a").Commands(); slices.Contains(cmds, "ha -deactivate") || slices.Contains(cmds, "shutdown -reboot") {
		t.Errorf("the active unit was changed: %q", cmds)
	}
}

// expectNotApplied checks that err is fw-b's upload failure matching
// target (a *UnitError with Op "upload" wrapping a *driver.UploadError),
// that no apply command reached fw-b, which still runs its old firmware and
// never restarted, and that the pair is safe. The upload is the stage step,
// which is idempotent: the executor tries it e2eRetry.Attempts times.
func expectNotApplied(t *testing.T, pair *clavistertest.Pair, err error, target error) {
	t.Helper()
	expectUnitError(t, err, "fw-b", target, driver.ErrUpload)
	var ue *clavister.UnitError
	if !errors.As(err, &ue) || ue.Unit != "fw-b" || ue.Op != "upload" {
		t.Errorf("want a *UnitError{Unit: fw-b, Op: upload}, got %v", err)
	}
	var up *driver.UploadError
	if !errors.As(err, &up) {
		t.Errorf("want a *driver.UploadError, got %v", err)
	}
	b := pair.Unit("fw-b")
	if len(b.Uploaded()) != e2eRetry.Attempts {
		t.Errorf("uploads %q, want one per attempt of the stage step (%d)", b.Uploaded(), e2eRetry.Attempts)
	}
	if cmds := b.Commands(); slices.Contains(cmds, "shutdown -reboot") {
		t.Errorf("the apply command was sent: %q", cmds)
	}
	if v := b.Version(); v != e2eFrom || b.Down() {
		t.Errorf("fw-b runs %s, down %t", v, b.Down())
	}
	expectSafe(t, pair)
}

func TestE2EBadInput(t *testing.T) {
	t.Run("wrong password", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{})
		cfg.Password = "not-" + cfg.Password
		_, err := clavister.New(t.Context(), cfg)
		expectUnitError(t, err, "fw-a", driver.ErrAuth)
		expectUnitError(t, err, "fw-b", driver.ErrAuth)
		if strings.Contains(err.Error(), cfg.Password) {
			t.Errorf("error shows the password: %v", err)
		}
		expectSafe(t, pair)
	})
	t.Run("unknown host key", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{})
		// known_hosts lists only fw-a.
		kh := filepath.Join(t.TempDir(), "known_hosts")
		data, err := os.ReadFile(cfg.KnownHostsFile)
		if err != nil {
			t.Fatal(err)
		}
		var keep []string
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, knownhosts.Normalize(net.JoinHostPort(cfg.Units[0].Host, strconv.Itoa(cfg.Units[0].Port)))+" ") {
				keep = append(keep, l)
			}
		}
		if len(keep) != 1 {
			t.Fatalf("cannot find fw-a in known_hosts:\n%s", data)
		}
		writeFile(t, kh, strings.Join(keep, "\n")+"\n")
		cfg.KnownHostsFile = kh
		c, err := clavister.New(t.Context(), cfg)
		if c != nil {
			t.Fatal("New returned a cluster")
		}
		expectUnitError(t, err, "fw-b", driver.ErrHostKey)
		var hk *driver.HostKeyError
		if !errors.As(err, &hk) || hk.Reason != driver.HostKeyUnknown {
			t.Errorf("want an unknown host key error, got %v", err)
		}
		if len(unitErrors(err)) != 1 {
			t.Errorf("only fw-b should fail: %v", err)
		}
		expectSafe(t, pair)
	})
	t.Run("changed host key", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{})
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(cfg.KnownHostsFile)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if !strings.HasPrefix(l, knownhosts.Normalize(net.JoinHostPort(cfg.Units[1].Host, strconv.Itoa(cfg.Units[1].Port)))+" ") {
				lines = append(lines, l)
			}
		}
		lines = append(lines, knownhosts.Line([]string{net.JoinHostPort(cfg.Units[1].Host, strconv.Itoa(cfg.Units[1].Port))}, key))
		kh := filepath.Join(t.TempDir(), "known_hosts")
		writeFile(t, kh, strings.Join(lines, "\n")+"\n")
		cfg.KnownHostsFile = kh
		_, err = clavister.New(t.Context(), cfg)
		expectUnitError(t, err, "fw-b", driver.ErrHostKey)
		var hk *driver.HostKeyError
		if !errors.As(err, &hk) || hk.Reason != driver.HostKeyChanged {
			t.Errorf("want a changed host key error, got %v", err)
		}
		expectSafe(t, pair)
	})
	t.Run("unreachable unit", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Units[1].Port = ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		cfg.ReconnectTimeout = 200 * time.Millisecond
		// New accepts a unit that does not answer (it may be rebooting
		// mid-upgrade, for a resume) and Observe reports it down; a fresh
		// run's pre-checks refuse it, naming it, before anything changes.
		c, err := clavister.New(t.Context(), cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		defer func() { _ = c.Close() }()
		rep, _, err := run(t, t.Context(), c, clavister.Planner{})
		expectUnitError(t, err, "fw-b", driver.ErrUnreachable, upgrade.ErrPreCheck)
		if rep == nil || rep.Steps[0].Status != upgrade.StatusPlanned {
			t.Errorf("a step ran: %+v", rep)
		}
		if up := pair.Unit("fw-b").Uploaded(); len(up) != 0 {
			t.Errorf("uploaded %q", up)
		}
		expectSafe(t, pair)
	})
	t.Run("both units unreachable", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{})
		for i := range cfg.Units {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cfg.Units[i].Port = ln.Addr().(*net.TCPAddr).Port
			_ = ln.Close()
		}
		c, err := clavister.New(t.Context(), cfg)
		if c != nil {
			t.Fatal("New returned a cluster")
		}
		expectUnitError(t, err, "fw-a", driver.ErrUnreachable)
		expectUnitError(t, err, "fw-b", driver.ErrUnreachable)
		expectSafe(t, pair)
	})
	t.Run("ha rejected", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{CommandError: map[string]string{"ha": "Internal error"}})
		c, err := clavister.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		snap, err := c.Observe(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range snap.Members {
			if m.Role != upgrade.RoleUnknown || m.Healthy {
				t.Errorf("%s: role %s healthy %t, want unknown and unhealthy", m.ID, m.Role, m.Healthy)
			}
		}
		_, err = clavister.Planner{Cluster: c, GateTiming: e2eTiming}.Plan(snap, e2eTarget)
		expectUnitError(t, err, "fw-a", clavister.ErrUnreadable, upgrade.ErrInvalid)
		expectUnitError(t, err, "fw-b", clavister.ErrUnreadable)
		// The pre-check names the device's rejection itself.
		err = c.PreCheck(t.Context())
		expectUnitError(t, err, "fw-b", driver.ErrCommand)
		expectSafe(t, pair)
	})
	t.Run("back on old version", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{BackOnOld: "fw-b"})
		c, err := clavister.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		// A long deadline: the gate must stop at once when fw-b is back on
		// the old version after its reboot, not wait the deadline out.
		rep, _, err := run(t, t.Context(), c, clavister.Planner{GateTiming: upgrade.Timing{Interval: 40 * time.Millisecond, Deadline: time.Minute}})
		expectUnitError(t, err, "fw-b", clavister.ErrUnexpectedVersion, clavister.ErrInstallNotTaken, upgrade.ErrPermanent)
		var ge *upgrade.GateError
		if !errors.As(err, &ge) || !ge.Permanent || errors.Is(err, upgrade.ErrGateTimeout) {
			t.Errorf("want a permanent gate failure (not a timeout), got %v", err)
		}
		if rep == nil || rep.Steps[0].Status != upgrade.StatusDone || rep.Steps[1].Status != upgrade.StatusDone ||
			rep.Steps[2].Status != upgrade.StatusFailed || rep.Steps[3].Status != upgrade.StatusPlanned {
			t.Errorf("want stage and install done, gate failed, failover not run: %+v", rep)
		}
		if v := pair.Unit("fw-b").Version(); v != e2eFrom {
			t.Errorf("fw-b runs %s", v)
		}
		expectSafe(t, pair)
	})
	t.Run("peer never alive", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{PeerNotAlive: true})
		c, err := clavister.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		_, _, err = run(t, t.Context(), c, clavister.Planner{})
		expectUnitError(t, err, "fw-a", clavister.ErrPeerNotAlive, upgrade.ErrPreCheck)
		expectUnitError(t, err, "fw-b", clavister.ErrPeerNotAlive)
		if up := pair.Unit("fw-b").Uploaded(); len(up) != 0 {
			t.Errorf("uploaded %q", up)
		}
		expectSafe(t, pair)
	})
	t.Run("firmware file missing", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{})
		cfg.FirmwarePath = filepath.Join(t.TempDir(), "cos-core-14.00.10.upg")
		_, err := clavister.New(t.Context(), cfg)
		var ce *clavister.ConfigError
		if !errors.As(err, &ce) || ce.Field != "FirmwarePath" || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("want a FirmwarePath ConfigError matching fs.ErrNotExist, got %v", err)
		}
		expectSafe(t, pair)
	})
	t.Run("firmware file removed after New", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{})
		c, err := clavister.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		if err := os.Remove(cfg.FirmwarePath); err != nil {
			t.Fatal(err)
		}
		_, _, err = run(t, t.Context(), c, clavister.Planner{})
		if !errors.Is(err, upgrade.ErrPreCheck) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("want a pre-check failure matching fs.ErrNotExist, got %v", err)
		}
		expectSafe(t, pair)
	})
	t.Run("upload truncated", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{TruncateUpload: true})
		c, err := clavister.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		_, _, err = run(t, t.Context(), c, clavister.Planner{GateTiming: upgrade.Timing{Interval: 40 * time.Millisecond, Deadline: time.Minute}})
		// ls prints the size the unit stored: half the file. The size
		// check refuses it and the apply command is never sent.
		expectNotApplied(t, pair, err, driver.ErrSizeMismatch)
	})
	t.Run("names-only ls refused with RequireUploadSize", func(t *testing.T) {
		// The captured ls shape (no sizes): the upload cannot be verified,
		// so nothing is applied when RequireUploadSize is set.
		pair, cfg := startPairWith(t, clavistertest.Options{})
		cfg.RequireUploadSize = true
		c, err := clavister.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		_, _, err = run(t, t.Context(), c, clavister.Planner{})
		expectNotApplied(t, pair, err, clavister.ErrUploadUnverified)
	})
	t.Run("names-only ls and truncated upload by default", func(t *testing.T) {
		pair, cfg := startPairWith(t, clavistertest.Options{Faults: clavistertest.Faults{TruncateUpload: true}})
		c, err := clavister.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		_, _, err = run(t, t.Context(), c, clavister.Planner{GateTiming: upgrade.Timing{Interval: 40 * time.Millisecond, Deadline: time.Minute}})
		// Trusting the SCP acknowledgement: the damaged package is caught
		// when fw-b comes back on its old version, at once.
		expectUnitError(t, err, "fw-b", clavister.ErrUnexpectedVersion, clavister.ErrInstallNotTaken, upgrade.ErrPermanent)
		expectSafe(t, pair)
	})
	t.Run("unit never returns", func(t *testing.T) {
		pair, cfg := startPair(t, clavistertest.Faults{NeverReturns: "fw-b"})
		cfg.ReconnectTimeout = 300 * time.Millisecond
		c, err := clavister.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		_, _, err = run(t, t.Context(), c, clavister.Planner{GateTiming: upgrade.Timing{Interval: 40 * time.Millisecond, Deadline: 1500 * time.Millisecond}})
		expectUnitError(t, err, "fw-b", clavister.ErrUnreachable, upgrade.ErrGateTimeout)
		expectSafe(t, pair)
	})
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestE2EResume stops a run right after the failover (as a crash would),
// then re-plans from a fresh snapshot and resumes from the journal with a
// new Cluster: only the remaining steps run, with the same IDs.
func TestE2EResume(t *testing.T) {
	pair, cfg := startPair(t, clavistertest.Faults{})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	journal := &upgrade.FileJournal{Path: filepath.Join(t.TempDir(), "journal.jsonl")}

	c1, err := clavister.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c1.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := clavister.Planner{Cluster: c1, GateTiming: e2eTiming}.Plan(snap, e2eTarget)
	if err != nil {
		t.Fatal(err)
	}
	stop, cancelRun := context.WithCancel(ctx)
	ex := &upgrade.Executor{Journal: journal, OnEvent: func(ev upgrade.Event) {
		if ev.Kind == upgrade.EventStepFinish && ev.Step == "failover:to:fw-b" {
			cancelRun()
		}
	}}
	_, err = ex.Run(stop, c1, p1)
	cancelRun()
	var se *upgrade.StoppedError
	if !errors.As(err, &se) || se.After != "failover:to:fw-b" || se.Before != "wait:active:fw-b" {
		t.Fatalf("want a stop after the failover, got %v", err)
	}
	_ = c1.Close()

	c2, err := clavister.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c2.Close() }()
	snap, err = c2.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := clavister.Planner{Cluster: c2, GateTiming: e2eTiming}.Plan(snap, e2eTarget)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"wait:active:fw-b", "stage:fw-a@" + e2eTarget, "install:fw-a@" + e2eTarget, "postcheck@" + e2eTarget}
	if got := p2.StepIDs(); !slices.Equal(got, want) {
		t.Fatalf("re-plan: got %q, want %q", got, want)
	}
	// A new process: a new journal value over the same file.
	rep, err := (&upgrade.Executor{Journal: &upgrade.FileJournal{Path: journal.Path}}).Run(ctx, c2, p2)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if !rep.OK {
		t.Fatal(rep.Error)
	}
	for _, u := range pair.Units() {
		if u.Version() != e2eTarget {
			t.Errorf("%s runs %s", u.Name(), u.Version())
		}
	}
	if n := strings.Count(strings.Join(actions(cfg), "\n"), "ha -deactivate"); n != 1 {
		t.Errorf("%d failovers, want 1: %q", n, actions(cfg))
	}
	if lost := pair.Probe().LostTicks(); lost != 0 {
		t.Errorf("lost %d probe ticks", lost)
	}
}
