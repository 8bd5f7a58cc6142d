package clavistertest

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/hitless/hitless/clavister"
)

// haOf runs `ha` on u and parses it with clavister.ParseHA.
func haOf(t *testing.T, p *Pair, u *Unit) clavister.HAStatus {
	t.Helper()
	st, err := clavister.ParseHA(run(t, p, u, "ha"))
	require.NoError(t, err)
	return st
}

func TestStartDefaults(t *testing.T) {
	p := startPair(t, Options{})
	a, b := p.Units()[0], p.Units()[1]
	assert.Equal(t, "fw-a", a.Name())
	assert.Equal(t, "fw-b", b.Name())
	assert.Same(t, a, p.Unit("fw-a"))
	assert.Nil(t, p.Unit("fw-c"))
	assert.Equal(t, "admin", p.Username())
	assert.NotEmpty(t, p.Password())
	assert.NotEqual(t, "admin", p.Password())
	for _, u := range p.Units() {
		assert.Equal(t, DefaultVersion, u.Version())
		assert.Equal(t, "127.0.0.1", u.Host())
		assert.Equal(t, u.Addr(), "127.0.0.1:"+strconv.Itoa(u.Port()))
		assert.False(t, u.Down())
		assert.Equal(t, 100, u.Sync())
	}
	assert.True(t, a.Active())
	assert.False(t, b.Active())
	assert.Equal(t, "master", a.Role())
	assert.Equal(t, "slave", b.Role())
	assert.True(t, p.Probe().Forwarding())
	kh, err := os.ReadFile(p.KnownHostsFile())
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(kh), "\n"), "one known_hosts line per unit")
}

// TestHAMatchesModel: ParseHA of the simulator's `ha` output gives the
// model's state on both units.
func TestHAMatchesModel(t *testing.T) {
	p := startPair(t, fastOptions())
	a, b := p.Units()[0], p.Units()[1]
	sa, sb := haOf(t, p, a), haOf(t, p, b)
	assert.Equal(t, clavister.HAStatus{Configured: true, Role: "master", Active: true,
		StateText: "This device is currently ACTIVE (will forward traffic)", TimeKnown: true,
		TimeInState: sa.TimeInState, PeerAlive: true}, sa)
	assert.Equal(t, clavister.HAStatus{Configured: true, Role: "slave", Active: false,
		StateText: "This device is currently INACTIVE (will not forward traffic)", TimeKnown: true,
		TimeInState: sb.TimeInState, PeerAlive: true}, sb)
	assert.Equal(t, a.Active(), sa.Active)
	assert.Equal(t, b.Active(), sb.Active)
}

// TestHAShapeFollowsCapture: the simulator's `ha` output has the line shapes
// of the 14.00 Admin Guide capture (digits and the role/state words aside).
func TestHAShapeFollowsCapture(t *testing.T) {
	capture, err := os.ReadFile(filepath.Join("..", "testdata", "ha", "admin-guide-14.00-slave-active.txt"))
	require.NoError(t, err)
	p := startPair(t, Options{Names: [2]string{"Device", "Device2"}})
	// Make the slave active, as in the capture.
	out := run(t, p, p.Unit("Device2"), "ha -activate")
	assert.Equal(t, "", body(out))
	got := strings.ReplaceAll(run(t, p, p.Unit("Device2"), "ha"), "\r\n", "\n")
	got = strings.TrimSuffix(got, "Device2:/> ")
	got = strings.Replace(got, "Device2:/> ", "Device:/> ", 1)
	digits := regexp.MustCompile(`\d+`)
	assert.Equal(t, digits.ReplaceAllString(string(capture), "N"), digits.ReplaceAllString(got, "N"))
}

func TestHANewerWording(t *testing.T) {
	o := fastOptions()
	o.Wording = WordingNewer
	p := startPair(t, o)
	a, b := p.Units()[0], p.Units()[1]
	out := body(run(t, p, a, "ha"))
	assert.Regexp(t, `^This device is an HA MASTER\nThis device is currently Active \(for \d+s\)\nHA cluster peer is ALIVE\nHA object sync: 100%\n$`, out)
	sa, sb := haOf(t, p, a), haOf(t, p, b)
	assert.True(t, sa.Active)
	assert.False(t, sb.Active)
	for _, st := range []clavister.HAStatus{sa, sb} {
		assert.True(t, st.TimeKnown)
		assert.True(t, st.SyncKnown)
		assert.Equal(t, 100, st.SyncPercent)
		assert.True(t, st.PeerAlive)
	}
}

func TestCompound(t *testing.T) {
	for secs, want := range map[int64]string{0: "0s", 48: "48s", 72: "1m 12s", 3605: "1h 0m 5s", 90061: "1d 1h 1m 1s"} {
		assert.Equal(t, want, compound(secs))
	}
}

// TestDeactivateSwapsRolesWithoutGap: ha -deactivate on the active unit
// moves activity to the peer atomically: the probe loses no tick.
func TestDeactivateSwapsRolesWithoutGap(t *testing.T) {
	o := fastOptions()
	o.ProbeEvery = time.Millisecond
	p := startPair(t, o)
	a, b := p.Units()[0], p.Units()[1]

	assert.Equal(t, "Error: This device is not ACTIVE\n", body(run(t, p, b, "ha -deactivate")))
	assert.Equal(t, "Error: This device is already ACTIVE\n", body(run(t, p, a, "ha -activate")))
	assert.True(t, a.Active())

	assert.Equal(t, "", body(run(t, p, a, "ha -deactivate")))
	assert.False(t, a.Active())
	assert.True(t, b.Active())
	sa, sb := haOf(t, p, a), haOf(t, p, b)
	assert.False(t, sa.Active)
	assert.True(t, sb.Active)
	assert.Equal(t, "slave", sb.Role, "roles are fixed by configuration")
	assert.Less(t, sb.TimeInState, 2*time.Second, "time in state reset")
	assert.True(t, sa.PeerAlive && sb.PeerAlive)

	// Fail back with ha -activate on the master.
	assert.Equal(t, "", body(run(t, p, a, "ha -activate")))
	assert.True(t, a.Active())
	assert.False(t, b.Active())

	assert.Equal(t, 0, p.Probe().LostTicks())
	assert.Equal(t, time.Duration(0), p.Probe().Outage())
	assert.Contains(t, a.Commands(), "ha -deactivate")
	assert.Contains(t, a.Commands(), "ha -activate")
}

// TestRollingUpgrade runs the documented procedure (clavister.md §5) by hand
// against the simulator: upgrade the inactive unit, wait for it and its
// sync, deactivate the active one, upgrade it. The probe loses no tick.
func TestRollingUpgrade(t *testing.T) {
	const target = "14.00.10.00-32000"
	p := startPair(t, fastOptions())
	a, b := p.Units()[0], p.Units()[1]
	fw, err := p.WriteFirmware(t.TempDir(), target)
	require.NoError(t, err)
	name := filepath.Base(fw)

	for _, u := range []*Unit{b, a} { // inactive unit first
		peer := a
		if u == a {
			peer = b
		}
		require.False(t, u.Active(), "%s is inactive before its upgrade", u.Name())
		require.NoError(t, upload(t, p, u, fw))
		assert.Equal(t, []string{name}, u.Uploaded())
		assert.Contains(t, body(run(t, p, u, "ls")), name+"\n")

		assert.Equal(t, "Shutting down ...\n", body(run(t, p, u, DefaultApplyCommand)))
		eventually(t, u.Name()+" down", u.Down)
		eventually(t, u.Name()+" back", func() bool { return !u.Down() })
		assert.Equal(t, target, u.Version())
		assert.False(t, u.Active(), "no fail-back: the returning unit stays inactive")
		assert.NotContains(t, body(run(t, p, u, "ls")), name, "package consumed")

		v, err := clavister.ParseAbout(run(t, p, u, "about"))
		require.NoError(t, err)
		assert.Equal(t, target, v.String())
		st, err := clavister.ParseStats(run(t, p, u, "stats"))
		require.NoError(t, err)
		assert.Contains(t, st.LastEvent, "Firmware upgrade request from CLI by admin (127.0.0.1).")
		assert.Less(t, st.Uptime, time.Minute)

		eventually(t, u.Name()+" synced", func() bool {
			st := haOf(t, p, u)
			return st.PeerAlive && !st.Active && !st.SyncKnown // 14.00 wording: no sync line at 100 %
		})
		assert.True(t, haOf(t, p, peer).PeerAlive)
		if u == b {
			assert.Equal(t, "", body(run(t, p, a, "ha -deactivate")))
			require.True(t, b.Active())
		}
	}
	assert.Equal(t, target, a.Version())
	assert.Equal(t, target, b.Version())
	assert.True(t, b.Active())
	assert.Equal(t, 0, p.Probe().LostTicks(), "a rolling upgrade loses no probe tick")
	assert.Greater(t, p.Probe().Ticks(), 0)
}

// TestSyncClimbsAfterReturn: the returning unit prints "HA object sync: N%"
// (14.00 wording plus the sync line, see the package doc) while N < 100, and
// N only grows.
func TestSyncClimbsAfterReturn(t *testing.T) {
	o := fastOptions()
	o.SyncDuration = 400 * time.Millisecond
	p := startPair(t, o)
	b := p.Units()[1]
	assert.Equal(t, "Shutting down ...\n", body(run(t, p, b, "shutdown -reboot")))
	eventually(t, "down", b.Down)
	eventually(t, "back", func() bool { return !b.Down() })
	last, sawPartial := -1, false
	eventually(t, "sync 100", func() bool {
		st := haOf(t, p, b)
		pct := 100
		if st.SyncKnown {
			pct = st.SyncPercent
			sawPartial = true
		}
		assert.GreaterOrEqual(t, pct, last)
		last = pct
		return pct == 100
	})
	assert.True(t, sawPartial, "a sync line below 100%% was printed")
	assert.Equal(t, DefaultVersion, b.Version(), "plain restart keeps the version")
}

// TestApplyOnActiveUnitLosesTraffic: restarting the active unit without
// deactivating it first stops forwarding for FailoverGap; the peer takes
// over and the returning unit stays inactive.
func TestApplyOnActiveUnitLosesTraffic(t *testing.T) {
	o := fastOptions()
	o.ProbeEvery = time.Millisecond
	p := startPair(t, o)
	a, b := p.Units()[0], p.Units()[1]
	run(t, p, a, "shutdown -reboot")
	eventually(t, "fw-a down", a.Down)
	eventually(t, "fw-b takes over", b.Active)
	eventually(t, "fw-a back", func() bool { return !a.Down() })
	assert.False(t, a.Active())
	assert.Greater(t, p.Probe().LostTicks(), 0)
	assert.GreaterOrEqual(t, p.Probe().Outage(), o.FailoverGap)
}

// TestPeerNotAliveWhileDown: while a unit cannot be reached, its peer
// reports "HA cluster peer is NOT ALIVE" and refuses to deactivate.
func TestPeerNotAliveWhileDown(t *testing.T) {
	o := fastOptions()
	o.Faults.NeverReturns = "fw-b"
	p := startPair(t, o)
	a, b := p.Units()[0], p.Units()[1]
	run(t, p, b, "shutdown -reboot")
	eventually(t, "fw-b down", b.Down)
	eventually(t, "fw-b refuses connections", func() bool { return refused(t, p, b) })
	out := body(run(t, p, a, "ha"))
	assert.Contains(t, out, "HA cluster peer is NOT ALIVE\n")
	st, err := clavister.ParseHA(out)
	require.NoError(t, err)
	assert.False(t, st.PeerAlive)
	assert.True(t, st.Active)
	assert.Equal(t, "Error: HA cluster peer is not alive\n", body(run(t, p, a, "ha -deactivate")))
	assert.True(t, a.Active())
	holds(t, 5*o.RebootDuration, "fw-b stays down", b.Down)
	assert.Equal(t, 0, p.Probe().LostTicks())
}

func TestFaultBackOnOld(t *testing.T) {
	o := fastOptions()
	o.Faults.BackOnOld = "fw-b"
	p := startPair(t, o)
	b := p.Units()[1]
	fw, err := p.WriteFirmware(t.TempDir(), "14.00.10.00-32000")
	require.NoError(t, err)
	require.NoError(t, upload(t, p, b, fw))
	run(t, p, b, "shutdown -reboot")
	eventually(t, "down", b.Down)
	eventually(t, "back", func() bool { return !b.Down() })
	assert.Equal(t, DefaultVersion, b.Version())
	assert.Equal(t, 1, b.Restarts())
	assert.Equal(t, 0, p.Units()[0].Restarts())
	v, err := clavister.ParseAbout(run(t, p, b, "about"))
	require.NoError(t, err)
	assert.Equal(t, DefaultVersion, v.String())
}

func TestFaultTruncateUpload(t *testing.T) {
	o := fastOptions()
	o.Faults.TruncateUpload = true
	p := startPair(t, o)
	b := p.Units()[1]
	fw, err := p.WriteFirmware(t.TempDir(), "14.00.10.00-32000")
	require.NoError(t, err)
	require.NoError(t, upload(t, p, b, fw), "the client sees success")
	run(t, p, b, "shutdown -reboot")
	eventually(t, "down", b.Down)
	eventually(t, "back", func() bool { return !b.Down() })
	assert.Equal(t, DefaultVersion, b.Version(), "an invalid package is not installed")
	st, err := clavister.ParseStats(run(t, p, b, "stats"))
	require.NoError(t, err)
	assert.Contains(t, st.LastEvent, "Firmware upgrade failed: invalid upgrade package "+filepath.Base(fw))
}

func TestFaultSyncStuck(t *testing.T) {
	o := fastOptions()
	o.Faults.SyncStuckAt = 40
	p := startPair(t, o)
	b := p.Units()[1]
	run(t, p, b, "shutdown -reboot")
	eventually(t, "down", b.Down)
	eventually(t, "back", func() bool { return !b.Down() })
	eventually(t, "sync reaches 40", func() bool { return b.Sync() == 40 })
	holds(t, 2*o.SyncDuration, "sync stuck at 40", func() bool { return b.Sync() == 40 })
	st := haOf(t, p, b)
	assert.True(t, st.SyncKnown)
	assert.Equal(t, 40, st.SyncPercent)
	stats, err := clavister.ParseStats(run(t, p, b, "stats"))
	require.NoError(t, err)
	assert.Equal(t, statsConnections*40/100, stats.ConnectionsActive)
}

func TestFaultPeerNotAlive(t *testing.T) {
	o := fastOptions()
	o.Faults.PeerNotAlive = true
	p := startPair(t, o)
	a, b := p.Units()[0], p.Units()[1]
	assert.False(t, haOf(t, p, a).PeerAlive)
	assert.False(t, haOf(t, p, b).PeerAlive)
	assert.Equal(t, "Error: HA cluster peer is not alive\n", body(run(t, p, a, "ha -deactivate")))
	assert.True(t, a.Active())
}

func TestFaultCommandError(t *testing.T) {
	o := fastOptions()
	o.Faults.CommandError = map[string]string{
		"ha -deactivate": "HA: operation refused",
		"about":          "Error: about is broken",
		"scp":            "no space left on device",
	}
	p := startPair(t, o)
	a := p.Units()[0]
	assert.Equal(t, "Error: HA: operation refused\n", body(run(t, p, a, "ha -deactivate")))
	assert.True(t, a.Active(), "a failed command changes nothing")
	assert.Equal(t, "Error: about is broken\n", body(run(t, p, a, "about")))
	_, err := clavister.ParseAbout(run(t, p, a, "about"))
	assert.ErrorIs(t, err, clavister.ErrUnrecognized)
	fw, err := p.WriteFirmware(t.TempDir(), "14.00.10")
	require.NoError(t, err)
	assert.Error(t, upload(t, p, a, fw))
	assert.Empty(t, a.Uploaded())

	o.Faults.CommandError = map[string]string{"ha": "HA is disabled"} // first word matches
	q := startPair(t, o)
	out := run(t, q, q.Units()[0], "ha")
	assert.Equal(t, "Error: HA is disabled\n", body(out))
	_, err = clavister.ParseHA(out)
	assert.ErrorIs(t, err, clavister.ErrUnrecognized, "an error line never parses as a state")
}

func TestUnknownCommandAndLs(t *testing.T) {
	p := startPair(t, fastOptions())
	a := p.Units()[0]
	assert.Equal(t, "Error: Unknown command: reset -factory\n", body(run(t, p, a, "reset   -factory")))
	capture, err := os.ReadFile(filepath.Join("..", "testdata", "ls", "e5web-oem-root-listing.txt"))
	require.NoError(t, err)
	_, listing, _ := strings.Cut(string(capture), "\n")
	assert.Equal(t, listing, body(run(t, p, a, "ls")), "ls keeps the OEM capture's shape")
	assert.Equal(t, []string{"reset -factory", "ls"}, a.Commands())
}

func TestStatsShape(t *testing.T) {
	p := startPair(t, fastOptions())
	out := run(t, p, p.Units()[0], "stats")
	st, err := clavister.ParseStats(out)
	require.NoError(t, err)
	assert.Equal(t, statsConnections, st.ConnectionsActive)
	assert.Equal(t, statsMaxConnections, st.ConnectionsMax)
	assert.Contains(t, st.LastEvent, "Restart request from CLI by admin")
	capture, err := os.ReadFile(filepath.Join("..", "testdata", "stats", "kb309987444-e80-screenshot-transcription.txt"))
	require.NoError(t, err)
	keys := regexp.MustCompile(`(?m)^[A-Za-z][A-Za-z ]* +:`)
	assert.Equal(t, keys.FindAllString(string(capture), -1), keys.FindAllString(strings.ReplaceAll(out, "\r\n", "\n"), -1),
		"same keys and column alignment as the KB capture")
}

func TestApplyCommandWithFile(t *testing.T) {
	o := fastOptions()
	o.ApplyCommand = "upgrade  {file}"
	p := startPair(t, o)
	b := p.Units()[1]
	dir := t.TempDir()
	older, err := p.WriteFirmware(dir, "14.00.10.00-32000")
	require.NoError(t, err)
	newer, err := p.WriteFirmware(dir, "14.00.11.00-33000")
	require.NoError(t, err)
	require.NoError(t, upload(t, p, b, older))
	require.NoError(t, upload(t, p, b, newer))
	assert.Equal(t, "Error: File not found: nope.upg\n", body(run(t, p, b, "upgrade nope.upg")))
	assert.Equal(t, "Error: Unknown command: shutdown -reboot\n", body(run(t, p, b, "shutdown -reboot")))
	assert.Equal(t, "Shutting down ...\n", body(run(t, p, b, "upgrade "+filepath.Base(older))))
	assert.Equal(t, "Error: A restart is already in progress\n", body(run(t, p, b, "upgrade "+filepath.Base(older))))
	eventually(t, "down", b.Down)
	eventually(t, "back", func() bool { return !b.Down() })
	assert.Equal(t, "14.00.10.00-32000", b.Version(), "the named package, not the last one")
}

func TestWriteFirmware(t *testing.T) {
	p := startPair(t, fastOptions())
	dir := t.TempDir()
	for _, v := range []string{"14.00.10.00-32000", "9.30.08.21-22257 TP", "14.00.10"} {
		path, err := p.WriteFirmware(dir, v)
		require.NoError(t, err)
		assert.Regexp(t, `^[A-Za-z0-9._+-]+\.upg$`, filepath.Base(path))
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Len(t, data, FirmwareSize)
		assert.True(t, strings.HasPrefix(string(data), "cOS Core upgrade package "+v+"\n"))
		got, ok := readPackage(data)
		assert.True(t, ok)
		assert.Equal(t, v, got)
		_, ok = readPackage(data[:len(data)/2])
		assert.False(t, ok, "a truncated package is invalid")
	}
	for _, bad := range []string{"", "14.00", "14.00.10; rm -rf /", "../14.00.10"} {
		_, err := p.WriteFirmware(dir, bad)
		assert.Error(t, err, bad)
	}
}

func TestOptionsValidation(t *testing.T) {
	for name, o := range map[string]Options{
		"same names":          {Names: [2]string{"fw", "fw"}},
		"bad name":            {Names: [2]string{"fw a", "fw-b"}},
		"one name empty":      {Names: [2]string{"fw-a", ""}},
		"bad version":         {Version: "14.00"},
		"bad wording":         {Wording: "15.00"},
		"unknown never unit":  {Faults: Faults{NeverReturns: "fw-c"}},
		"unknown backold":     {Faults: Faults{BackOnOld: "fw-c"}},
		"unknown upload unit": {Faults: Faults{ActiveFailsDuringUpload: "fw-c"}},
		"sync stuck too high": {Faults: Faults{SyncStuckAt: 100}},
		"sync stuck negative": {Faults: Faults{SyncStuckAt: -1}},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := Start(o)
			assert.Nil(t, p)
			assert.ErrorContains(t, err, "clavistertest: invalid options")
		})
	}
}

// TestSecurity: wrong passwords and unknown host keys are refused; Close is
// idempotent and removes the known_hosts file.
func TestSecurity(t *testing.T) {
	p, err := Start(Options{Password: "s3cret"})
	require.NoError(t, err)
	a := p.Units()[0]
	_, err = dialWith(t, p.KnownHostsFile(), a.Addr(), "admin", "wrong")
	assert.Error(t, err)
	c, err := dialWith(t, p.KnownHostsFile(), a.Addr(), "admin", "s3cret")
	require.NoError(t, err)
	_ = c.Close()

	q := startPair(t, Options{})
	_, err = dialWith(t, q.KnownHostsFile(), a.Addr(), "admin", "s3cret")
	assert.ErrorContains(t, err, "knownhosts", "another pair's known_hosts does not list this unit")

	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
	_, err = os.Stat(p.KnownHostsFile())
	assert.True(t, os.IsNotExist(err))
	_, err = dialWith(t, q.KnownHostsFile(), a.Addr(), "admin", "s3cret")
	assert.ErrorContains(t, err, "refused", "a closed pair accepts no connection")
}

func dialWith(t *testing.T, knownHosts, addr, user, password string) (*ssh.Client, error) {
	return ssh.Dial("tcp", addr, clientConfig(t, knownHosts, user, password))
}

func TestListSizes(t *testing.T) {
	o := fastOptions()
	o.ListSizes = true
	o.Faults.TruncateUpload = true
	p := startPair(t, o)
	b := p.Units()[1]
	fw, err := p.WriteFirmware(t.TempDir(), "14.00.10.00-32000")
	require.NoError(t, err)
	require.NoError(t, upload(t, p, b, fw))
	out := body(run(t, p, b, "ls"))
	assert.Regexp(t, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(filepath.Base(fw))+` +`+strconv.Itoa(FirmwareSize/2)+`$`), out, "the truncated size is listed")
	assert.Contains(t, out, "script/\n", "directories keep their bare line")
	assert.Regexp(t, `(?m)^full\.bak +\d+$`, out)

	// Without ListSizes, the captured names-only shape (TestUnknownCommandAndLs).
	q := startPair(t, fastOptions())
	assert.NotRegexp(t, `\d`, body(run(t, q, q.Units()[0], "ls")))
}

func TestFaultCommandOutputAndGarbledHA(t *testing.T) {
	o := fastOptions()
	o.Faults.CommandOutput = map[string]string{"ha -deactivate": "Failed to deactivate: peer not in sync", "shutdown": "usage: shutdown [-reboot] [delay]"}
	o.Faults.GarbledHA = true
	p := startPair(t, o)
	a, b := p.Units()[0], p.Units()[1]
	assert.Equal(t, "Failed to deactivate: peer not in sync\n", body(run(t, p, a, "ha -deactivate")), "printed verbatim, no Error: prefix")
	assert.True(t, a.Active(), "the command did nothing")
	assert.Equal(t, "usage: shutdown [-reboot] [delay]\n", body(run(t, p, b, "shutdown -reboot")))
	assert.False(t, b.Down(), "no restart")

	out := run(t, p, a, "ha")
	assert.Contains(t, out, GarbledPeerLine)
	assert.Contains(t, out, "This device is currently ACTIVE")
	assert.NotContains(t, out, "Error")
	_, err := clavister.ParseHA(out)
	var pe *clavister.ParseError
	require.ErrorAs(t, err, &pe, "garbled output fails closed")
	assert.Contains(t, pe.Reason, GarbledPeerLine)
}

// TestFaultActiveFailsDuringUpload: an upload to fw-b makes the active fw-a
// fail before the transfer is acknowledged; fw-b takes over only after
// FailoverGap, fw-a never comes back, and the fault fires once.
func TestFaultActiveFailsDuringUpload(t *testing.T) {
	o := fastOptions()
	o.Faults.ActiveFailsDuringUpload = "fw-b"
	p := startPair(t, o)
	a, b := p.Units()[0], p.Units()[1]
	select {
	case <-p.ActiveFailed():
		t.Fatal("fired before any upload")
	default:
	}
	fw, err := p.WriteFirmware(t.TempDir(), "14.00.10.00-32000")
	require.NoError(t, err)
	require.NoError(t, upload(t, p, b, fw), "the upload itself succeeds")
	select {
	case <-p.ActiveFailed():
	default:
		t.Fatal("ActiveFailed not closed once the upload returned")
	}
	assert.True(t, a.Down(), "the active unit failed")
	eventually(t, "fw-b takes over", b.Active)
	assert.True(t, a.Down(), "the failed unit stays down")
	assert.Equal(t, []string{filepath.Base(fw)}, b.Uploaded())
	assert.Positive(t, p.Probe().LostTicks(), "the failure itself costs the failover gap")
	_, err = dial(t, p, a)
	assert.Error(t, err, "the failed unit refuses connections")
}

// TestHoldRestart: a held apply command is acknowledged but restarts the
// unit only at release, at once, and only once.
func TestHoldRestart(t *testing.T) {
	o := fastOptions()
	p := startPair(t, o)
	b := p.Units()[1]
	release := b.HoldRestart()
	assert.Equal(t, "Shutting down ...\n", body(run(t, p, b, "shutdown -reboot")))
	holds(t, 5*o.ApplyDelay, "fw-b stays up past ApplyDelay", func() bool { return !b.Down() })
	assert.Contains(t, body(run(t, p, b, "ha")), "INACTIVE", "fw-b still answers")
	release()
	assert.True(t, b.Down(), "release restarts the unit at once")
	release() // idempotent
	eventually(t, "fw-b back", func() bool { return !b.Down() })
	holds(t, 2*(o.ApplyDelay+o.RebootDuration), "one restart", func() bool { return b.Restarts() == 1 && !b.Down() })
	assert.Equal(t, 0, p.Probe().LostTicks())
}

// TestHoldReturn: a held unit stays down past RebootDuration and comes
// back once released.
func TestHoldReturn(t *testing.T) {
	o := fastOptions()
	p := startPair(t, o)
	b := p.Units()[1]
	release := b.HoldReturn()
	run(t, p, b, "shutdown -reboot")
	eventually(t, "fw-b down", b.Down)
	holds(t, 3*o.RebootDuration, "fw-b held down", func() bool { return b.Down() && b.Restarts() == 0 })
	assert.True(t, refused(t, p, b), "connections refused while held")
	release()
	eventually(t, "fw-b back", func() bool { return !b.Down() })
	assert.Equal(t, 1, b.Restarts())
	assert.Contains(t, body(run(t, p, b, "ha")), "INACTIVE")
}

// TestHoldReturnEndsAtClose: Close does not wait for a release.
func TestHoldReturnEndsAtClose(t *testing.T) {
	o := fastOptions()
	p, err := Start(o)
	require.NoError(t, err)
	b := p.Units()[1]
	_ = b.HoldReturn()
	run(t, p, b, "shutdown -reboot")
	eventually(t, "fw-b down", b.Down)
	holds(t, 2*o.RebootDuration, "fw-b held down", b.Down)
	require.NoError(t, p.Close())
}

// TestHoldSync: after its return the unit's sync stays at the held
// percentage until release; a unit that never rebooted is not affected.
func TestHoldSync(t *testing.T) {
	o := fastOptions()
	p := startPair(t, o)
	b := p.Units()[1]
	release := b.HoldSync(33)
	assert.False(t, haOf(t, p, b).SyncKnown, "in sync before any reboot")
	assert.Equal(t, 100, b.Sync())
	run(t, p, b, "shutdown -reboot")
	eventually(t, "fw-b down", b.Down)
	eventually(t, "fw-b back", func() bool { return !b.Down() })
	holds(t, 3*o.SyncDuration, "sync held at or below 33", func() bool { return b.Sync() <= 33 })
	eventually(t, "sync at 33", func() bool { return b.Sync() == 33 })
	st := haOf(t, p, b)
	assert.True(t, st.SyncKnown)
	assert.Equal(t, 33, st.SyncPercent)
	release()
	assert.Equal(t, 100, b.Sync(), "SyncDuration has passed since the return")
	assert.False(t, haOf(t, p, b).SyncKnown)
}

// TestBeforeCommand: the hook sees every command line before the unit
// answers, and can restart the unit right then: the answer is lost with
// the session.
func TestBeforeCommand(t *testing.T) {
	o := fastOptions()
	var (
		mu   sync.Mutex
		seen []string
		held func()
	)
	o.BeforeCommand = func(u *Unit, cmd string) {
		mu.Lock()
		seen = append(seen, u.Name()+" "+cmd)
		release := held
		mu.Unlock()
		if u.Name() == "fw-b" && cmd == "about" && release != nil {
			release()
		}
	}
	p := startPair(t, o)
	b := p.Units()[1]
	run(t, p, b, "ha")
	mu.Lock()
	held = b.HoldRestart()
	mu.Unlock()
	run(t, p, b, "shutdown -reboot")
	sh, err := openShell(t, p, b)
	require.NoError(t, err)
	defer sh.close()
	out, err := sh.run("about")
	assert.Error(t, err, "the session is dropped before the answer (got %q)", out)
	assert.NotContains(t, out, "Clavister cOS Core")
	assert.True(t, b.Down())
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"fw-b ha", "fw-b shutdown -reboot", "fw-b about"}, seen)
}
