package clavister

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/driver/drivertest"
	"github.com/hitless/hitless/upgrade"
)

// fakeUploads records upload calls and behaves like driver.Upload: it fails
// for a missing local file, then calls verify and compares sizes.
type fakeUploads struct {
	mu    sync.Mutex
	calls []string // "host local remote"
	err   error    // returned when set
}

func (f *fakeUploads) upload(ctx context.Context, cfg driver.Config, local, remote string, verify driver.VerifyFunc) error {
	f.mu.Lock()
	f.calls = append(f.calls, cfg.Host+" "+local+" "+remote)
	ferr := f.err
	f.mu.Unlock()
	if ferr != nil {
		return ferr
	}
	fi, err := os.Stat(local)
	if err != nil {
		return &driver.UploadError{LocalPath: local, RemotePath: remote, Err: err}
	}
	if verify == nil {
		return nil
	}
	got, err := verify(ctx, remote)
	if err != nil {
		return &driver.UploadError{LocalPath: local, RemotePath: remote, Err: fmt.Errorf("verify size: %w", err)}
	}
	if got != fi.Size() {
		return &driver.UploadError{LocalPath: local, RemotePath: remote, Err: fmt.Errorf("%w: local %d, device %d", driver.ErrSizeMismatch, fi.Size(), got)}
	}
	return nil
}

func (f *fakeUploads) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// haOut renders `ha` in the 14.00 wording. sync < 0 prints no sync line.
func haOut(role string, active bool, secs int, peerAlive bool, sync int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "This device is a HA %s\n", strings.ToUpper(role))
	state := "inactive"
	if active {
		b.WriteString("This device is currently ACTIVE (will forward traffic)\n")
		state = "active"
	} else {
		b.WriteString("This device is currently INACTIVE (will not forward traffic)\n")
	}
	fmt.Fprintf(&b, "This device has been %s: %d sec\n", state, secs)
	if peerAlive {
		b.WriteString("HA cluster peer is ALIVE\n")
	} else {
		b.WriteString("HA cluster peer is NOT ALIVE\n")
	}
	if sync >= 0 {
		fmt.Fprintf(&b, "HA object sync: %d%%\n", sync)
	}
	return b.String()
}

func aboutOut(v string) string {
	return "Clavister cOS Core " + v + "\nCopyright (c) Clavister AB. All rights reserved.\n"
}

const statsOut = `Uptime             : 0 days, 01:00:21
Last Event         : 2019-08-12 14:01:18: Restart request from CLI by admin (127.0.0.1).
CPU Load           : 0%, 0%
Connections        : 8 out of 256000
`

// unitScript is a scripted unit: ha and about answered, stats too.
func unitScript(host, ha, version string) *drivertest.Scripted {
	return drivertest.NewScripted(host, map[string]drivertest.Reply{
		"ha":    {Output: ha},
		"about": {Output: aboutOut(version)},
		"stats": {Output: statsOut},
	})
}

// pairScripts returns healthy scripted units: fw-a master ACTIVE, fw-b
// slave INACTIVE, both on version.
func pairScripts(version string) (a, b *drivertest.Scripted) {
	return unitScript("10.0.0.1:22", haOut("master", true, 1000, true, -1), version),
		unitScript("10.0.0.2:22", haOut("slave", false, 1000, true, -1), version)
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		name    string
		reply   drivertest.Reply // for ha
		about   drivertest.Reply
		role    upgrade.Role
		healthy bool
		raw     string
		version string
		kinds   []error // problem categories, in order
		err     []error // nil: no error
	}{
		{"active master", drivertest.Reply{Output: haOut("master", true, 430697, true, -1)}, drivertest.Reply{Output: aboutOut(oldV)},
			upgrade.RoleActive, true, "master: This device is currently ACTIVE (will forward traffic)", oldV, nil, nil},
		{"inactive slave in sync", drivertest.Reply{Output: haOut("slave", false, 12, true, 100)}, drivertest.Reply{Output: aboutOut(newV)},
			upgrade.RoleStandby, true, "slave: This device is currently INACTIVE (will not forward traffic)", newV, nil, nil},
		{"newer wording", drivertest.Reply{Output: "This device is an HA SLAVE\nThis device is currently Inactive (for 1m 12s)\nHA cluster peer is ALIVE\nHA object sync: 100%\n"},
			drivertest.Reply{Output: aboutOut(newV)}, upgrade.RoleStandby, true, "slave: This device is currently Inactive (for 1m 12s)", newV, nil, nil},
		{"peer not alive", drivertest.Reply{Output: haOut("slave", false, 12, false, -1)}, drivertest.Reply{Output: aboutOut(oldV)},
			upgrade.RoleStandby, false, "slave: This device is currently INACTIVE (will not forward traffic)", oldV, []error{ErrPeerNotAlive}, nil},
		{"peer line missing", drivertest.Reply{Output: "This device is a HA SLAVE\nThis device is currently INACTIVE\n"}, drivertest.Reply{Output: aboutOut(oldV)},
			upgrade.RoleStandby, false, "slave: This device is currently INACTIVE", oldV, []error{ErrPeerNotAlive}, nil},
		{"sync incomplete", drivertest.Reply{Output: haOut("slave", false, 1, true, 42)}, drivertest.Reply{Output: aboutOut(newV)},
			upgrade.RoleStandby, false, "slave: This device is currently INACTIVE (will not forward traffic)", newV, []error{ErrSyncIncomplete}, nil},
		{"standalone", drivertest.Reply{Output: "This device is a standalone system (HA not configured)\n"}, drivertest.Reply{Output: aboutOut(oldV)},
			upgrade.RoleUnknown, false, "This device is a standalone system (HA not configured)", oldV, []error{ErrNotConfigured}, nil},
		{"garbage ha", drivertest.Reply{Output: "This device is a HA MASTER\nThis device is currently STANDBY\nHA cluster peer is ALIVE\n"}, drivertest.Reply{Output: aboutOut(oldV)},
			upgrade.RoleUnknown, false, "", "", []error{ErrUnreadable}, []error{ErrUnrecognized}},
		{"empty ha", drivertest.Reply{Output: ""}, drivertest.Reply{Output: aboutOut(oldV)},
			upgrade.RoleUnknown, false, "", "", []error{ErrUnreadable}, []error{ErrUnrecognized}},
		{"ha rejected", drivertest.Reply{Output: "Error: Internal error", Fail: true}, drivertest.Reply{Output: aboutOut(oldV)},
			upgrade.RoleUnknown, false, "", "", []error{ErrUnreadable}, []error{driver.ErrCommand}},
		{"about garbage", drivertest.Reply{Output: haOut("master", true, 5, true, -1)}, drivertest.Reply{Output: "Clavister firewall\n"},
			upgrade.RoleUnknown, false, "master: This device is currently ACTIVE (will forward traffic)", "", []error{ErrUnreadable}, []error{ErrUnrecognized}},
		{"unit hangs", drivertest.Reply{Err: &driver.AbortError{Host: "10.0.0.1:22", Command: "ha", Err: context.DeadlineExceeded}}, drivertest.Reply{Output: aboutOut(oldV)},
			upgrade.RoleDown, false, "", "", []error{ErrUnreachable}, []error{driver.ErrAborted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := drivertest.NewScripted("10.0.0.1:22", map[string]drivertest.Reply{"ha": tt.reply, "about": tt.about})
			b := unitScript("10.0.0.2:22", haOut("slave", false, 1, true, -1), oldV)
			c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(s), "fw-b": always(b)})
			st, err := c.Member("fw-a").Status(t.Context())
			if st.ID != "fw-a" || st.Role != tt.role || st.Healthy != tt.healthy || st.Raw != tt.raw || st.Version != tt.version {
				t.Errorf("state %+v\nwant role %s healthy %t raw %q version %q", st, tt.role, tt.healthy, tt.raw, tt.version)
			}
			var kinds []error
			for _, p := range st.Problems {
				kinds = append(kinds, errors.Unwrap(classify(p)))
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("problems %q, want kinds %v", st.Problems, tt.kinds)
			}
			if tt.err == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ue *UnitError
			if !errors.As(err, &ue) || ue.Unit != "fw-a" {
				t.Errorf("want a *UnitError naming fw-a, got %v", err)
			}
			for _, target := range tt.err {
				if !errors.Is(err, target) {
					t.Errorf("error does not match %v: %v", target, err)
				}
			}
			// Fail closed: an error never comes with a healthy state.
			if st.Healthy || st.Forwarding() {
				t.Error("healthy despite an error")
			}
		})
	}
}

// TestStatusGarbageNeverHealthy feeds outputs that must never read as
// healthy.
func TestStatusGarbageNeverHealthy(t *testing.T) {
	outputs := []string{
		"", "\n", "ha", "Device:/> ha\n", "Error: Unknown command: ha",
		"This device is a HA MASTER\n",
		"This device is currently ACTIVE (will forward traffic)\nHA cluster peer is ALIVE\n",
		"This device is a HA MASTER\nThis device is currently ACTIVE\nThis device is currently ACTIVE\nHA cluster peer is ALIVE\n",
		"This device is a HA MASTER\nThis device is currently ACTIVE\nHA cluster peer is ALIVE\nHA object sync: 101%\n",
		"This device is a HA MASTER\nThis device is currently ACTIVE (will not forward traffic)\nHA cluster peer is ALIVE\n",
		"This device is a HA MASTER\nThis device is currently ACTIVE\nHA cluster peer is maybe ALIVE\n",
		"Usage: ha [-activate|-deactivate]\n",
		"\x00\xff garbage",
	}
	for _, out := range outputs {
		s := drivertest.NewScripted("10.0.0.1:22", map[string]drivertest.Reply{"ha": {Output: out}, "about": {Output: aboutOut(oldV)}})
		b := unitScript("10.0.0.2:22", haOut("slave", false, 1, true, -1), oldV)
		c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(s), "fw-b": always(b)})
		snap, err := c.Observe(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		m, _ := snap.Member("fw-a")
		if m.Healthy || m.Forwarding() {
			t.Errorf("ha output %q read as healthy: %+v", out, m)
		}
	}
}

func TestStatusReconnectsAfterDrop(t *testing.T) {
	a1, b := pairScripts(oldV)
	a2, _ := pairScripts(oldV)
	dropped := drivertest.DropAfter(a1, 2) // ha, about, then the unit goes away
	var dials int
	c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{
		"fw-a": func() (driver.Session, error) {
			dials++
			if dials == 1 {
				return dropped, nil
			}
			return a2, nil
		},
		"fw-b": always(b),
	})
	for i := range 2 {
		st, err := c.Member("fw-a").Status(t.Context())
		if err != nil || st.Role != upgrade.RoleActive || !st.Healthy {
			t.Fatalf("status %d: %+v %v", i, st, err)
		}
	}
	if dials != 2 || !a1.Closed() {
		t.Errorf("dials %d, first session closed %t", dials, a1.Closed())
	}
	if got := a2.Commands(); !slices.Equal(got, []string{"ha", "about"}) {
		t.Errorf("second session commands %q", got)
	}
}

// TestObserve: one state per unit, in Members order, whatever the units
// answer; Snapshot.Problems holds only problems of the pair as a whole
// (split brain, both INACTIVE), while a unit's own transitional state (its
// peer rebooting and not seen ALIVE, its own reboot) stays in its
// MemberState.Problems: the guard refuses every disruptive step while the
// snapshot has a cluster-wide problem.
func TestObserve(t *testing.T) {
	tests := []struct {
		name     string
		a, b     string // ha outputs; "" = unreachable
		problems []error
		roles    [2]upgrade.Role
		unit     [2][]error // each unit's problem categories
	}{
		{"healthy", haOut("master", true, 100, true, -1), haOut("slave", false, 100, true, -1), nil,
			[2]upgrade.Role{upgrade.RoleActive, upgrade.RoleStandby}, [2][]error{nil, nil}},
		{"split brain", haOut("master", true, 100, false, -1), haOut("slave", true, 100, false, -1), []error{ErrSplitBrain},
			[2]upgrade.Role{upgrade.RoleActive, upgrade.RoleActive}, [2][]error{{ErrPeerNotAlive}, {ErrPeerNotAlive}}},
		{"both inactive", haOut("master", false, 100, true, -1), haOut("slave", false, 100, true, -1), []error{ErrBothInactive},
			[2]upgrade.Role{upgrade.RoleStandby, upgrade.RoleStandby}, [2][]error{nil, nil}},
		{"peer rebooting", haOut("master", true, 100, false, -1), "", nil,
			[2]upgrade.Role{upgrade.RoleActive, upgrade.RoleDown}, [2][]error{{ErrPeerNotAlive}, {ErrUnreachable}}},
		{"peer back, resyncing", haOut("master", true, 100, true, -1), haOut("slave", false, 3, true, 30), nil,
			[2]upgrade.Role{upgrade.RoleActive, upgrade.RoleStandby}, [2][]error{nil, {ErrSyncIncomplete}}},
		{"both unreachable", "", "", nil,
			[2]upgrade.Role{upgrade.RoleDown, upgrade.RoleDown}, [2][]error{{ErrUnreachable}, {ErrUnreachable}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dial := map[string]dialer{}
			for i, out := range []string{tt.a, tt.b} {
				name, host := validConfig(t).Units[i].Name, fmt.Sprintf("10.0.0.%d:22", i+1)
				if out != "" {
					dial[name] = always(unitScript(host, out, oldV))
					continue
				}
				// Reachable for New, then gone.
				n := 0
				s := unitScript(host, "", oldV)
				dial[name] = func() (driver.Session, error) {
					n++
					if n == 1 {
						return drivertest.DropAfter(s, 0), nil
					}
					return nil, &driver.UnreachableError{Host: host, Err: errors.New("connection refused")}
				}
			}
			c, _ := scriptedCluster(t, validConfig(t), dial)
			snap, err := c.Observe(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if snap.Cluster != "hq" || len(snap.Members) != 2 || snap.Members[0].ID != "fw-a" || snap.Members[1].ID != "fw-b" {
				t.Fatalf("snapshot %+v", snap)
			}
			if err := upgrade.CheckSnapshot(c, snap); err != nil {
				t.Error(err)
			}
			if got := [2]upgrade.Role{snap.Members[0].Role, snap.Members[1].Role}; got != tt.roles {
				t.Errorf("roles %v, want %v", got, tt.roles)
			}
			var kinds []error
			for _, p := range snap.Problems {
				kinds = append(kinds, errors.Unwrap(classify(p)))
			}
			if !slices.Equal(kinds, tt.problems) {
				t.Errorf("problems %q, want %v", snap.Problems, tt.problems)
			}
			for i, m := range snap.Members {
				var got []error
				for _, p := range m.Problems {
					got = append(got, errors.Unwrap(classify(p)))
				}
				if !slices.Equal(got, tt.unit[i]) {
					t.Errorf("%s problems %q, want %v", m.ID, m.Problems, tt.unit[i])
				}
			}
		})
	}
}

func TestObserveUnplannedFailover(t *testing.T) {
	a := drivertest.NewScripted("10.0.0.1:22", map[string]drivertest.Reply{"about": {Output: aboutOut(oldV)}})
	// Active for 100 s, 100 s again (same period), then only 3 s: the
	// unit went inactive and active again between two polls.
	a.On("ha",
		drivertest.Reply{Output: haOut("master", true, 100, true, -1)},
		drivertest.Reply{Output: haOut("master", true, 100, true, -1)},
		drivertest.Reply{Output: haOut("master", true, 3, true, -1)},
	)
	_, b := pairScripts(oldV)
	c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
	for i, want := range []bool{false, false, true, true} {
		snap, err := c.Observe(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(snap.Problems, func(p string) bool { return errors.Is(classify(p), ErrUnplannedFailover) })
		if got != want {
			t.Errorf("poll %d: alarm %t, want %t (problems %q)", i+1, got, want, snap.Problems)
		}
	}
	err := c.PreCheck(t.Context())
	var ue *UnitError
	if !errors.Is(err, ErrUnplannedFailover) || !errors.As(err, &ue) || ue.Unit != "fw-a" {
		t.Errorf("pre-check: %v", err)
	}
}

func TestFailover(t *testing.T) {
	t.Run("deactivates the active unit", func(t *testing.T) {
		a, b := pairScripts(newV)
		a.On("ha -deactivate", drivertest.Reply{})
		c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
		if err := c.Failover(t.Context(), "fw-b"); err != nil {
			t.Fatal(err)
		}
		if got := a.Commands(); !slices.Equal(got, []string{"ha -deactivate"}) && !slices.Equal(got, []string{"ha", "ha -deactivate"}) {
			t.Errorf("fw-a commands %q", got)
		}
		if slices.Contains(b.Commands(), "ha -deactivate") || slices.Contains(b.Commands(), "ha -activate") {
			t.Errorf("fw-b commands %q", b.Commands())
		}
	})
	t.Run("already active", func(t *testing.T) {
		a, b := pairScripts(newV)
		c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
		if err := c.Failover(t.Context(), "fw-a"); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(a.Commands(), "ha -deactivate") || slices.Contains(b.Commands(), "ha -deactivate") {
			t.Error("a command changed something")
		}
	})
	t.Run("peer not alive", func(t *testing.T) {
		a := unitScript("10.0.0.1:22", haOut("master", true, 10, false, -1), newV)
		b := unitScript("10.0.0.2:22", haOut("slave", false, 10, false, -1), newV)
		c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
		err := c.Failover(t.Context(), "fw-b")
		if !errors.Is(err, ErrPeerNotAlive) || slices.Contains(a.Commands(), "ha -deactivate") {
			t.Errorf("err %v, commands %q", err, a.Commands())
		}
	})
	t.Run("rejected", func(t *testing.T) {
		a, b := pairScripts(newV)
		a.On("ha -deactivate", drivertest.Reply{Output: "Error: HA cluster peer is not alive", Fail: true})
		c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
		err := c.Failover(t.Context(), "fw-b")
		var ue *UnitError
		if !errors.As(err, &ue) || ue.Unit != "fw-a" || ue.Op != "failover" || !errors.Is(err, driver.ErrCommand) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("unknown unit", func(t *testing.T) {
		a, b := pairScripts(newV)
		c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
		if err := c.Failover(t.Context(), "fw-z"); !errors.Is(err, ErrUnknownUnit) {
			t.Errorf("got %v", err)
		}
	})
}

func TestInstall(t *testing.T) {
	type result struct {
		uploads int
		applied bool
		is      []error
		op      string
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, cfg *Config, b *drivertest.Scripted, ups *fakeUploads)
		bHA   string
		bVer  string
		want  result
	}{
		{"reboot drops the session", func(t *testing.T, cfg *Config, b *drivertest.Scripted, _ *fakeUploads) {
			b.On("ls", drivertest.Reply{Output: "config.bak\ncos-core-14.00.11.upg\nfull.bak\n"})
			b.On("shutdown -reboot", drivertest.Reply{Err: &driver.DroppedError{Host: "10.0.0.2:22", Command: "shutdown -reboot", Err: io.EOF}})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, true, nil, ""}},
		{"apply returns a prompt", func(t *testing.T, cfg *Config, b *drivertest.Scripted, _ *fakeUploads) {
			b.On("ls", drivertest.Reply{Output: "cos-core-14.00.11.upg\n"})
			b.On("shutdown -reboot", drivertest.Reply{Output: "Shutting down ..."})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, true, nil, ""}},
		{"custom apply command with file", func(t *testing.T, cfg *Config, b *drivertest.Scripted, _ *fakeUploads) {
			cfg.ApplyCommand, cfg.RemoteDir = "upgrade {file}", "pkg"
			b.On("ls pkg", drivertest.Reply{Output: "cos-core-14.00.11.upg 8\n"})
			b.On("upgrade pkg/cos-core-14.00.11.upg", drivertest.Reply{Err: &driver.DroppedError{Host: "10.0.0.2:22", Err: io.EOF}})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, false, nil, ""}},
		{"size matches", func(t *testing.T, _ *Config, b *drivertest.Scripted, _ *fakeUploads) {
			b.On("ls", drivertest.Reply{Output: "cos-core-14.00.11.upg   8\n"})
			b.On("shutdown -reboot", drivertest.Reply{Output: ""})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, true, nil, ""}},
		{"size mismatch", func(t *testing.T, _ *Config, b *drivertest.Scripted, _ *fakeUploads) {
			b.On("ls", drivertest.Reply{Output: "cos-core-14.00.11.upg   4 bytes\n"})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, false, []error{driver.ErrSizeMismatch, driver.ErrUpload}, "upload"}},
		{"size unknown: refused with RequireUploadSize", func(t *testing.T, cfg *Config, b *drivertest.Scripted, _ *fakeUploads) {
			cfg.RequireUploadSize = true
			b.On("ls", drivertest.Reply{Output: "config.bak\ncos-core-14.00.11.upg\nfull.bak\n"})
			b.On("shutdown -reboot", drivertest.Reply{Output: "Shutting down ..."})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, false, []error{ErrUploadUnverified, driver.ErrUpload}, "upload"}},
		{"size mismatch without RequireUploadSize", func(t *testing.T, cfg *Config, b *drivertest.Scripted, _ *fakeUploads) {
			b.On("ls", drivertest.Reply{Output: "cos-core-14.00.11.upg   4 bytes\n"})
			b.On("shutdown -reboot", drivertest.Reply{Output: "Shutting down ..."})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, false, []error{driver.ErrSizeMismatch, driver.ErrUpload}, "upload"}},
		{"ls rejected", func(t *testing.T, _ *Config, b *drivertest.Scripted, _ *fakeUploads) {
			b.On("ls", drivertest.Reply{Output: "usage: ls [path]", Fail: true})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, false, []error{driver.ErrCommand, driver.ErrUpload}, "upload"}},
		{"file not listed", func(t *testing.T, _ *Config, b *drivertest.Scripted, _ *fakeUploads) {
			b.On("ls", drivertest.Reply{Output: "config.bak\nfull.bak\n"})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, false, []error{ErrUnrecognized, driver.ErrUpload}, "upload"}},
		{"upload fails", func(t *testing.T, _ *Config, _ *drivertest.Scripted, ups *fakeUploads) {
			ups.err = &driver.UploadError{Host: "10.0.0.2:22", Err: errors.New("scp: disk full")}
		}, haOut("slave", false, 10, true, -1), oldV, result{1, false, []error{driver.ErrUpload}, "upload"}},
		{"firmware removed after New", nil, haOut("slave", false, 10, true, -1), oldV, result{1, false, []error{fs.ErrNotExist, driver.ErrUpload}, "upload"}},
		{"apply rejected", func(t *testing.T, _ *Config, b *drivertest.Scripted, _ *fakeUploads) {
			b.On("ls", drivertest.Reply{Output: "cos-core-14.00.11.upg 8\n"})
			b.On("shutdown -reboot", drivertest.Reply{Output: "Error: Upgrade not allowed: no valid support agreement", Fail: true})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, true, []error{driver.ErrCommand}, "apply"}},
		{"became active during the upload", func(t *testing.T, _ *Config, b *drivertest.Scripted, _ *fakeUploads) {
			b.On("ha", drivertest.Reply{Output: haOut("slave", false, 10, true, -1)}, drivertest.Reply{Output: haOut("slave", true, 1, false, -1)})
			b.On("ls", drivertest.Reply{Output: "cos-core-14.00.11.upg 8\n"})
		}, haOut("slave", false, 10, true, -1), oldV, result{1, false, []error{ErrUnexpectedRole}, "install"}},
		{"already on target", nil, haOut("slave", false, 10, true, -1), "14.00.11", result{0, false, nil, ""}},
		{"refuses the active unit", nil, haOut("slave", true, 10, true, -1), oldV, result{0, false, []error{ErrUnexpectedRole}, "install"}},
		{"refuses a standalone unit", nil, "This device is a standalone system (HA not configured)\n", oldV, result{0, false, []error{ErrNotConfigured}, "install"}},
		{"unreadable", nil, "garbage STANDBY peer", oldV, result{0, false, []error{ErrUnrecognized}, "ha"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig(t)
			a := unitScript("10.0.0.1:22", haOut("master", true, 10, true, -1), oldV)
			b := unitScript("10.0.0.2:22", tt.bHA, tt.bVer)
			var ups *fakeUploads
			var c *Cluster
			if tt.setup != nil {
				// setup may change cfg (before New) and scripts.
				pre := &fakeUploads{}
				tt.setup(t, &cfg, b, pre)
				c, ups = scriptedCluster(t, cfg, map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
				ups.err = pre.err
			} else {
				c, ups = scriptedCluster(t, cfg, map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
			}
			if tt.name == "firmware removed after New" {
				if err := os.Remove(cfg.FirmwarePath); err != nil {
					t.Fatal(err)
				}
			}
			err := c.Member("fw-b").Install(t.Context(), "14.00.11")
			if ups.count() != tt.want.uploads {
				t.Errorf("%d uploads, want %d", ups.count(), tt.want.uploads)
			}
			applied := slices.Contains(b.Commands(), "shutdown -reboot")
			if applied != tt.want.applied {
				t.Errorf("applied %t, want %t (commands %q)", applied, tt.want.applied, b.Commands())
			}
			// The other unit is only read: its `ha`, once, right before
			// the apply command (the last check), never before the upload.
			for _, cmd := range a.Commands() {
				if cmd != "ha" {
					t.Errorf("the other unit got %q", cmd)
				}
			}
			if n := len(a.Commands()); n > 1 || applied && n != 1 {
				t.Errorf("the other unit got %q", a.Commands())
			}
			if tt.want.is == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ue *UnitError
			if !errors.As(err, &ue) || ue.Unit != "fw-b" || ue.Op != tt.want.op {
				t.Errorf("want a *UnitError naming fw-b, op %s; got %v", tt.want.op, err)
			}
			for _, target := range tt.want.is {
				if !errors.Is(err, target) {
					t.Errorf("error does not match %v: %v", target, err)
				}
			}
		})
	}
	t.Run("bad target", func(t *testing.T) {
		a, b := pairScripts(oldV)
		c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
		if err := c.Member("fw-b").Install(t.Context(), "14.00.11; reset"); err == nil || len(b.Commands()) != 0 {
			t.Errorf("err %v, commands %q", err, b.Commands())
		}
	})
}

func TestNewErrors(t *testing.T) {
	t.Run("invalid config dials nothing", func(t *testing.T) {
		dialled := false
		tr := transport{open: func(context.Context, driver.Config) (driver.Session, error) {
			dialled = true
			return nil, errors.New("no")
		}}
		cfg := validConfig(t)
		cfg.Units[1].Port = 70000
		_, err := newCluster(t.Context(), cfg, tr)
		if !errors.Is(err, ErrConfig) || dialled {
			t.Errorf("err %v, dialled %t", err, dialled)
		}
	})
	t.Run("one unit rejects the login", func(t *testing.T) {
		a, _ := pairScripts(oldV)
		cfg := validConfig(t)
		tr := transport{open: func(_ context.Context, dc driver.Config) (driver.Session, error) {
			if dc.Host == "10.0.0.2" {
				return nil, &driver.AuthError{Host: "10.0.0.2:22", User: dc.Username, Err: errors.New("permission denied")}
			}
			return a, nil
		}}
		c, err := newCluster(t.Context(), cfg, tr)
		var ue *UnitError
		if c != nil || !errors.As(err, &ue) || ue.Unit != "fw-b" || ue.Op != "connect" || !errors.Is(err, driver.ErrAuth) {
			t.Errorf("got %v", err)
		}
		if !a.Closed() {
			t.Error("the session to fw-a was left open")
		}
		if len(a.Commands()) != 0 {
			t.Errorf("commands sent: %q", a.Commands())
		}
		if strings.Contains(err.Error(), cfg.Password) {
			t.Error("password in error")
		}
	})
}

func TestPreCheck(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		a, b := pairScripts(oldV)
		c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
		if err := c.PreCheck(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*drivertest.Scripted{a, b} {
			if got := s.Commands(); !slices.Equal(got, []string{"ha", "about", "stats"}) {
				t.Errorf("%s commands %q", s.Host(), got)
			}
		}
	})
	t.Run("every problem at once", func(t *testing.T) {
		a := unitScript("10.0.0.1:22", haOut("master", true, 10, false, -1), oldV)
		b := unitScript("10.0.0.2:22", haOut("slave", true, 10, true, 50), oldV)
		b.On("stats", drivertest.Reply{Output: "nonsense"})
		c, _ := scriptedCluster(t, validConfig(t), map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
		err := c.PreCheck(t.Context())
		for _, target := range []error{ErrPeerNotAlive, ErrSyncIncomplete, ErrUnrecognized, ErrSplitBrain} {
			if !errors.Is(err, target) {
				t.Errorf("error does not match %v: %v", target, err)
			}
		}
	})
}

func TestLsSize(t *testing.T) {
	tests := []struct {
		out   string
		size  int64
		known bool
		err   bool
	}{
		{"config.bak\nfw.upg\n", 0, false, false},
		{"fw.upg 1234\n", 1234, true, false},
		{"   1234  fw.upg\n", 1234, true, false},
		{"fw.upg 1234 bytes\n", 1234, true, false},
		{"fw.upg 1234B\n", 1234, true, false},
		{"fw.upg.old 1\n", 0, false, true},
		{"", 0, false, true},
	}
	for _, tt := range tests {
		size, known, err := lsSize(tt.out, "fw.upg")
		if size != tt.size || known != tt.known || (err != nil) != tt.err {
			t.Errorf("lsSize(%q) = %d, %t, %v", tt.out, size, known, err)
		}
	}
}

// TestInstallLastCheck: right before the apply command, with nothing sent
// in between, Install reads `ha` on the other unit and on the unit itself;
// it restarts the unit only when the other one is ACTIVE, sees it ALIVE
// and is in sync, and the unit is still INACTIVE and sees its peer ALIVE.
// Anything else refuses with ErrPeerNotForwarding in a *UnitError naming
// the unit, and the apply command is never sent.
func TestInstallLastCheck(t *testing.T) {
	garbage := "This device is a HA MASTER\nThis device is currently STANDBY\nHA cluster peer is ALIVE\n"
	tests := []struct {
		name  string
		peer  func(a *drivertest.Scripted) dialer // nil: a healthy ACTIVE fw-a
		self  string                              // fw-b's `ha` at the last check; "" healthy INACTIVE
		is    []error                             // nil: applied
		peerN bool                                // the error names fw-a
	}{
		{name: "peer ACTIVE, in sync"},
		{name: "peer INACTIVE", peer: script(haOut("master", false, 3, true, -1)), is: []error{ErrPeerNotForwarding}, peerN: true},
		{name: "peer does not see the unit", peer: script(haOut("master", true, 1000, false, -1)), is: []error{ErrPeerNotForwarding}, peerN: true},
		{name: "peer resyncing", peer: script(haOut("master", true, 1000, true, 40)), is: []error{ErrPeerNotForwarding}, peerN: true},
		{name: "peer output unrecognised", peer: script(garbage), is: []error{ErrPeerNotForwarding, ErrUnrecognized}, peerN: true},
		{name: "peer rejects ha", peer: func(a *drivertest.Scripted) dialer {
			a.On("ha", drivertest.Reply{Output: "Error: Internal error", Fail: true})
			return always(a)
		}, is: []error{ErrPeerNotForwarding, driver.ErrCommand}, peerN: true},
		{name: "peer unreachable", peer: func(a *drivertest.Scripted) dialer {
			n := 0
			return func() (driver.Session, error) {
				if n++; n == 1 {
					return drivertest.DropAfter(a, 0), nil
				}
				return nil, &driver.UnreachableError{Host: "10.0.0.1:22", Err: errors.New("connection refused")}
			}
		}, is: []error{ErrPeerNotForwarding, driver.ErrUnreachable}, peerN: true},
		{name: "unit does not see its peer", self: haOut("slave", false, 10, false, -1), is: []error{ErrPeerNotForwarding, ErrPeerNotAlive}, peerN: true},
		{name: "unit became ACTIVE", self: haOut("slave", true, 1, true, -1), is: []error{ErrUnexpectedRole}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig(t)
			cfg.ReconnectTimeout = 50 * time.Millisecond
			a := unitScript("10.0.0.1:22", haOut("master", true, 1000, true, -1), oldV)
			b := unitScript("10.0.0.2:22", haOut("slave", false, 10, true, -1), oldV)
			b.On("ls", drivertest.Reply{Output: "cos-core-14.00.11.upg 8\n"})
			b.On("shutdown -reboot", drivertest.Reply{Output: "Shutting down ..."})
			if tt.self != "" {
				b.On("ha", drivertest.Reply{Output: haOut("slave", false, 10, true, -1)}, drivertest.Reply{Output: tt.self})
			}
			da := always(a)
			if tt.peer != nil {
				da = tt.peer(a)
			}
			c, ups := scriptedCluster(t, cfg, map[string]dialer{"fw-a": da, "fw-b": always(b)})
			err := c.Member("fw-b").Install(t.Context(), "14.00.11")
			cmds := b.Commands()
			applied := slices.Contains(cmds, "shutdown -reboot")
			if ups.count() != 1 {
				t.Errorf("%d uploads, want 1", ups.count())
			}
			if tt.is == nil {
				if err != nil || !applied {
					t.Fatalf("err %v, applied %t", err, applied)
				}
				// Nothing between the unit's last `ha` and the apply command.
				if i := slices.Index(cmds, "shutdown -reboot"); i < 1 || cmds[i-1] != "ha" {
					t.Errorf("fw-b commands %q: the apply command must follow its `ha`", cmds)
				}
				if !slices.Equal(a.Commands(), []string{"ha"}) {
					t.Errorf("fw-a commands %q, want one ha", a.Commands())
				}
				return
			}
			if applied {
				t.Fatalf("the apply command was sent: %q", cmds)
			}
			var ue *UnitError
			if !errors.As(err, &ue) || ue.Unit != "fw-b" || ue.Op != "install" {
				t.Errorf("want a *UnitError{fw-b, install}, got %v", err)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("error does not match %v: %v", target, err)
				}
			}
			if tt.peerN && !strings.Contains(err.Error(), "fw-a") {
				t.Errorf("the error does not name fw-a: %v", err)
			}
			for _, cmd := range a.Commands() {
				if cmd != "ha" {
					t.Errorf("fw-a got %q", cmd)
				}
			}
		})
	}
}

// script answers `ha` on the peer with out.
func script(out string) func(a *drivertest.Scripted) dialer {
	return func(a *drivertest.Scripted) dialer {
		a.On("ha", drivertest.Reply{Output: out})
		return always(a)
	}
}

// TestStageAndApply: the planner's two halves of an install. Stage uploads
// and never restarts the unit; Apply never uploads, applies only a package
// the unit lists with the local file's size (ErrNotStaged otherwise), and
// makes the same last check as Install.
func TestStageAndApply(t *testing.T) {
	setup := func(t *testing.T, ls string) (*Cluster, *drivertest.Scripted, *drivertest.Scripted, *fakeUploads) {
		cfg := validConfig(t)
		a := unitScript("10.0.0.1:22", haOut("master", true, 1000, true, -1), oldV)
		b := unitScript("10.0.0.2:22", haOut("slave", false, 10, true, -1), oldV)
		b.On("ls", drivertest.Reply{Output: ls})
		b.On("shutdown -reboot", drivertest.Reply{Output: "Shutting down ..."})
		c, ups := scriptedCluster(t, cfg, map[string]dialer{"fw-a": always(a), "fw-b": always(b)})
		return c, a, b, ups
	}
	t.Run("stage", func(t *testing.T) {
		c, a, b, ups := setup(t, "cos-core-14.00.11.upg 8\n")
		if err := c.Member("fw-b").Stage(t.Context(), "14.00.11"); err != nil {
			t.Fatal(err)
		}
		if ups.count() != 1 || slices.Contains(b.Commands(), "shutdown -reboot") || len(a.Commands()) != 0 {
			t.Errorf("uploads %d, fw-b %q, fw-a %q", ups.count(), b.Commands(), a.Commands())
		}
	})
	t.Run("stage refuses the ACTIVE unit", func(t *testing.T) {
		c, _, _, ups := setup(t, "cos-core-14.00.11.upg 8\n")
		err := c.Member("fw-a").Stage(t.Context(), "14.00.11")
		if !errors.Is(err, ErrUnexpectedRole) || ups.count() != 0 {
			t.Errorf("err %v, uploads %d", err, ups.count())
		}
	})
	for _, tt := range []struct {
		name, ls string
		is       []error // nil: applied
	}{
		{"apply a staged package", "cos-core-14.00.11.upg 8\n", nil},
		{"apply: listed without size", "cos-core-14.00.11.upg\n", nil},
		{"apply: not staged", "config.bak\nfull.bak\n", []error{ErrNotStaged}},
		{"apply: staged with another size", "cos-core-14.00.11.upg 4\n", []error{ErrNotStaged, driver.ErrSizeMismatch}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, a, b, ups := setup(t, tt.ls)
			err := c.Member("fw-b").Apply(t.Context(), "14.00.11")
			applied := slices.Contains(b.Commands(), "shutdown -reboot")
			if ups.count() != 0 {
				t.Errorf("Apply uploaded %d times", ups.count())
			}
			if tt.is == nil {
				if err != nil || !applied || !slices.Equal(a.Commands(), []string{"ha"}) {
					t.Errorf("err %v, applied %t, fw-a %q", err, applied, a.Commands())
				}
				return
			}
			var ue *UnitError
			if applied || !errors.As(err, &ue) || ue.Unit != "fw-b" || ue.Op != "install" || len(a.Commands()) != 0 {
				t.Errorf("applied %t, err %v, fw-a %q", applied, err, a.Commands())
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("error does not match %v: %v", target, err)
				}
			}
		})
	}
}
