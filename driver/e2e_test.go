package driver_test

// End-to-end tests: the real driver (scrapligo over x/crypto/ssh) against the loopback SSH
// simulator engine internal/sshsim. No sleeps: waits are on channels the tests control,
// or on the driver's own deadlines.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/internal/sshsim"
)

const (
	simUser     = "admin"
	simPassword = "Pa55-w0rd-never-logged"
	simPrompt   = "Device:/> "
	// haOutput is the body of ../fixtures/clavister/ha/admin-guide-14.00-slave-active.txt
	// ([VENDOR-DOC], Clavister cOS Core 14.00 Admin Guide), without its prompt line.
	haOutput = "This device is a HA SLAVE\n" +
		"This device is currently ACTIVE (will forward traffic)\n" +
		"This device has been active: 430697 sec\n" +
		"HA cluster peer is ALIVE"
	testTimeout = 20 * time.Second
)

// device is a simulated Clavister-like unit with a small CLI.
type device struct {
	t        testing.TB
	srv      *sshsim.Server
	cfg      driver.Config
	version  atomic.Value // string
	received chan string  // every command line, in order (buffered)
	release  chan struct{}
	started  chan struct{}
	uploads  sync.Map // name -> []byte

	mu        sync.Mutex
	extra     map[string]sshsim.Reply
	onHandler func(s *sshsim.Session, line string) (sshsim.Reply, bool)
}

func newDevice(t testing.TB) *device {
	t.Helper()
	d := &device{
		t:        t,
		received: make(chan string, 4096),
		release:  make(chan struct{}),
		started:  make(chan struct{}, 16),
		extra:    map[string]sshsim.Reply{},
	}
	d.version.Store("14.00.09")
	srv, err := sshsim.New(sshsim.Config{
		Hostname: "unit-a",
		Users:    map[string]string{simUser: simPassword},
		Banner:   "Clavister cOS Core\nAuthorized use only",
		Prompt:   func() string { return simPrompt },
		Handler:  d.handle,
		SCPSink: func(name string, _ os.FileMode, data []byte) error {
			d.uploads.Store(name, data)
			return nil
		},
	})
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() {
		select {
		case <-d.release:
		default:
			close(d.release)
		}
		_ = srv.Close()
	})
	d.srv = srv
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	require.NoError(t, srv.WriteKnownHosts(kh))
	host, port := splitAddr(t, srv.Addr())
	plat, err := driver.LoadPlatform("clavister_cos_core")
	require.NoError(t, err)
	d.cfg = driver.Config{
		Host:           host,
		Port:           port,
		Username:       simUser,
		Password:       simPassword,
		KnownHostsFile: kh,
		Platform:       plat,
		Timeout:        testTimeout,
		DialTimeout:    testTimeout,
	}
	return d
}

func (d *device) on(line string, r sshsim.Reply) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.extra[line] = r
}

func (d *device) handle(s *sshsim.Session, line string) sshsim.Reply {
	d.received <- line
	d.mu.Lock()
	r, ok := d.extra[line]
	hook := d.onHandler
	d.mu.Unlock()
	if ok {
		return r
	}
	if hook != nil {
		if r, ok := hook(s, line); ok {
			return r
		}
	}
	switch line {
	case "ha":
		return sshsim.Reply{Output: haOutput}
	case "about":
		return sshsim.Reply{Output: "Clavister cOS Core " + d.version.Load().(string)}
	case "slow":
		d.started <- struct{}{}
		select {
		case <-d.release:
		case <-s.Context().Done():
		}
		return sshsim.Reply{Output: "done"}
	case "reboot":
		// The unit goes away mid-command: connections drop before any reply.
		s.Server().Reboot(time.Hour, nil)
		<-s.Context().Done()
		return sshsim.Reply{}
	case "ha -deactivate":
		return sshsim.Reply{
			Output: "This will make the peer active.",
			Ask:    "Are you sure? [yes/no]: ",
			OnAnswer: func(_ *sshsim.Session, a string) sshsim.Reply {
				if a == "yes" {
					return sshsim.Reply{Output: "Deactivated"}
				}
				return sshsim.Reply{Output: "Aborted"}
			},
		}
	case "passwd":
		return sshsim.Reply{
			Ask:        "New password: ",
			HideAnswer: true,
			OnAnswer: func(_ *sshsim.Session, a string) sshsim.Reply {
				return sshsim.Reply{Output: "Password changed (" + strconv.Itoa(len(a)) + " chars)"}
			},
		}
	case "":
		return sshsim.Reply{}
	}
	return sshsim.Reply{Output: "Error: Unknown command: " + line}
}

func splitAddr(t testing.TB, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	port, err := strconv.Atoi(p)
	require.NoError(t, err)
	return h, port
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func open(t testing.TB, cfg driver.Config) driver.Session {
	t.Helper()
	s, err := driver.Open(ctxT(t), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// closedPort returns a 127.0.0.1 port nothing listens on.
func closedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

func TestE2ESendExactOutput(t *testing.T) {
	d := newDevice(t)
	s := open(t, d.cfg)
	assert.Equal(t, d.srv.Addr(), s.Host())

	out, err := s.Send(ctxT(t), "ha")
	require.NoError(t, err)
	assert.Equal(t, haOutput, out)

	out, err = s.Send(ctxT(t), "about")
	require.NoError(t, err)
	assert.Equal(t, "Clavister cOS Core 14.00.09", out)
}

func TestE2EConcurrentSendsAreSerialised(t *testing.T) {
	d := newDevice(t)
	s := open(t, d.cfg)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				out, err := s.Send(ctxT(t), "ha")
				assert.NoError(t, err)
				assert.Equal(t, haOutput, out)
			}
		})
	}
	wg.Wait()
}

func TestE2EUnknownHostKey(t *testing.T) {
	d := newDevice(t)
	empty := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	cfg := d.cfg
	cfg.KnownHostsFile = empty

	_, err := driver.Open(ctxT(t), cfg)
	require.ErrorIs(t, err, driver.ErrHostKey)
	var hk *driver.HostKeyError
	require.ErrorAs(t, err, &hk)
	assert.Equal(t, driver.HostKeyUnknown, hk.Reason)
	assert.Equal(t, d.srv.Addr(), hk.Host)
	assert.Zero(t, d.srv.Sessions(), "no session may be opened before the key is verified")
	assert.Empty(t, d.received)
}

func TestE2EChangedHostKey(t *testing.T) {
	d := newDevice(t)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	other, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(d.srv.Addr())}, other)
	require.NoError(t, os.WriteFile(kh, []byte(line+"\n"), 0o600))
	cfg := d.cfg
	cfg.KnownHostsFile = kh

	_, err = driver.Open(ctxT(t), cfg)
	var hk *driver.HostKeyError
	require.ErrorAs(t, err, &hk)
	assert.Equal(t, driver.HostKeyChanged, hk.Reason)
	assert.True(t, errors.Is(err, driver.ErrHostKey))
	assert.Empty(t, d.received)

	// WaitReachable does not retry a host key error.
	_, err = driver.WaitReachable(ctxT(t), cfg, driver.Backoff{Initial: time.Hour})
	require.ErrorAs(t, err, &hk)

	// Upload verifies the host key too.
	local := filepath.Join(t.TempDir(), "fw.upg")
	require.NoError(t, os.WriteFile(local, []byte("image"), 0o600))
	err = driver.Upload(ctxT(t), cfg, local, "fw.upg", nil)
	require.ErrorIs(t, err, driver.ErrHostKey)
	require.ErrorIs(t, err, driver.ErrUpload)
	_, stored := d.uploads.Load("fw.upg")
	assert.False(t, stored)
}

func TestE2EWrongPassword(t *testing.T) {
	d := newDevice(t)
	cfg := d.cfg
	cfg.Password = "wrong-Secret-123"
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	_, err := driver.Open(ctxT(t), cfg)
	require.ErrorIs(t, err, driver.ErrAuth)
	var ae *driver.AuthError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, simUser, ae.User)
	assert.NotContains(t, err.Error(), cfg.Password)
	assert.NotContains(t, logs.String(), cfg.Password)

	// Not retried: returns the AuthError itself, at once.
	_, err = driver.WaitReachable(ctxT(t), cfg, driver.Backoff{Initial: time.Hour})
	require.ErrorAs(t, err, &ae)
}

func TestE2EUnreachable(t *testing.T) {
	d := newDevice(t)
	cfg := d.cfg
	cfg.Port = closedPort(t)
	_, err := driver.Open(ctxT(t), cfg)
	require.ErrorIs(t, err, driver.ErrUnreachable)
	var ue *driver.UnreachableError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "127.0.0.1:"+strconv.Itoa(cfg.Port), ue.Host)
	var op *net.OpError
	assert.ErrorAs(t, err, &op, "the dial error is kept")

	// WaitReachable gives up at ctx's deadline with the last dial error.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = driver.WaitReachable(ctx, cfg, driver.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond})
	var we *driver.WaitError
	require.ErrorAs(t, err, &we)
	assert.GreaterOrEqual(t, we.Attempts, 2)
	assert.ErrorIs(t, err, driver.ErrUnreachable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorAs(t, we.Last, &op)
}

func TestE2ECommandError(t *testing.T) {
	d := newDevice(t)
	s := open(t, d.cfg)
	_, err := s.Send(ctxT(t), "frobnicate")
	require.ErrorIs(t, err, driver.ErrCommand)
	var ce *driver.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "frobnicate", ce.Command)
	assert.Equal(t, "Error: Unknown command: frobnicate", ce.Output)
	assert.Equal(t, "Error:", ce.Match)
	assert.Equal(t, d.srv.Addr(), ce.Host)

	// The session stays usable after a rejection.
	out, err := s.Send(ctxT(t), "ha")
	require.NoError(t, err)
	assert.Equal(t, haOutput, out)
}

func TestE2EDroppedWhenUnitRebootsMidCommand(t *testing.T) {
	d := newDevice(t)
	s := open(t, d.cfg)
	_, err := s.Send(ctxT(t), "reboot")
	require.ErrorIs(t, err, driver.ErrDropped)
	var de *driver.DroppedError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "reboot", de.Command)

	_, err = s.Send(ctxT(t), "ha")
	require.ErrorIs(t, err, driver.ErrDropped, "a dropped session stays dropped")

	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(testTimeout):
		t.Fatal("Close blocked after a drop")
	}
}

func TestE2EWaitReachableAcrossReboot(t *testing.T) {
	d := newDevice(t)
	s := open(t, d.cfg)
	rebooted := make(chan struct{})
	d.on("upgrade", sshsim.Reply{Output: "Upgrading...", After: func() {
		d.srv.Reboot(200*time.Millisecond, func() {
			d.version.Store("14.00.10")
			close(rebooted)
		})
	}})
	// The unit prints its reply and reboots at once: depending on who wins the race between
	// reading the prompt and seeing the connection close, the command succeeds or reports the
	// drop. Either way the session is gone afterwards.
	out, err := s.Send(ctxT(t), "upgrade")
	if err != nil {
		require.ErrorIs(t, err, driver.ErrDropped)
	} else {
		assert.Equal(t, "Upgrading...", out)
		_, err = s.Send(ctxT(t), "ha")
		require.ErrorIs(t, err, driver.ErrDropped)
	}
	require.NoError(t, s.Close())

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s2, err := driver.WaitReachable(ctx, d.cfg, driver.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond, Factor: 2})
	require.NoError(t, err)
	defer s2.Close()
	<-rebooted
	out, err = s2.Send(ctx, "about")
	require.NoError(t, err)
	assert.Equal(t, "Clavister cOS Core 14.00.10", out)
}

func TestE2ECancelAbortsSlowCommand(t *testing.T) {
	d := newDevice(t)
	s := open(t, d.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-d.started
		cancel()
	}()
	_, err := s.Send(ctx, "slow")
	require.ErrorIs(t, err, driver.ErrAborted)
	require.ErrorIs(t, err, context.Canceled)
	var ab *driver.AbortError
	require.ErrorAs(t, err, &ab)
	assert.Equal(t, "slow", ab.Command)

	_, err = s.Send(ctxT(t), "ha")
	require.ErrorIs(t, err, driver.ErrClosed, "an aborted session is closed")
}

func TestE2EDeadlineAbortsSlowCommand(t *testing.T) {
	d := newDevice(t)
	s := open(t, d.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := s.Send(ctx, "slow")
	require.ErrorIs(t, err, driver.ErrAborted)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestE2EConfigTimeoutAppliesWithoutDeadline(t *testing.T) {
	d := newDevice(t)
	cfg := d.cfg
	cfg.Timeout = 100 * time.Millisecond
	s := open(t, cfg)
	_, err := s.Send(context.Background(), "slow")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestE2EInteractConfirmation(t *testing.T) {
	d := newDevice(t)
	s := open(t, d.cfg)
	out, err := s.Interact(ctxT(t), []driver.Exchange{
		{Input: "ha -deactivate", Expect: `\[yes/no\]:\s*$`},
		{Input: "yes"},
	})
	require.NoError(t, err)
	assert.Equal(t, "This will make the peer active.\nAre you sure? [yes/no]: yes\nDeactivated", out)

	// The session is back at the prompt.
	out, err = s.Send(ctxT(t), "ha")
	require.NoError(t, err)
	assert.Equal(t, haOutput, out)
}

func TestE2ETranscriptRedactsSecrets(t *testing.T) {
	d := newDevice(t)
	tr := driver.NewTranscript()
	var logs bytes.Buffer
	cfg := d.cfg
	cfg.Transcript = tr
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// A device that prints the password back (e.g. in a config dump).
	d.on("show config", sshsim.Reply{Output: "user admin password " + simPassword})
	s := open(t, cfg)

	out, err := s.Send(ctxT(t), "show config")
	require.NoError(t, err)
	assert.Equal(t, "user admin password ********", out)

	const newPass = "N3w-Secret-Value"
	out, err = s.Interact(ctxT(t), []driver.Exchange{
		{Input: "passwd", Expect: `New password:\s*$`},
		{Input: newPass, Secret: true},
	})
	require.NoError(t, err)
	assert.Contains(t, out, "Password changed (16 chars)")
	assert.NotContains(t, out, newPass)

	_, err = s.Send(ctxT(t), "echo "+newPass)
	require.ErrorIs(t, err, driver.ErrCommand)
	assert.NotContains(t, err.Error(), newPass)

	entries := tr.Entries()
	require.Len(t, entries, 3)
	assert.Equal(t, "show config", entries[0].Command)
	assert.Equal(t, d.srv.Addr(), entries[0].Host)
	assert.False(t, entries[0].Start.IsZero())
	assert.Positive(t, entries[0].Duration)
	assert.Equal(t, "passwd", entries[1].Command)
	assert.Equal(t, []string{"********"}, entries[1].Inputs)
	assert.Equal(t, "echo ********", entries[2].Command)
	assert.NotEmpty(t, entries[2].Error)

	js, err := json.Marshal(tr)
	require.NoError(t, err)
	for _, secret := range []string{simPassword, newPass} {
		assert.NotContains(t, string(js), secret)
		assert.NotContains(t, logs.String(), secret)
	}
	assert.Contains(t, logs.String(), "show config")
}

func TestE2EOnOpenCommands(t *testing.T) {
	d := newDevice(t)
	plat, err := driver.ParsePlatform([]byte(`
name: paging
prompt: '(?m)^[\w.\-]+:/[^\r\n>]*>\s*$'
on-open: ["cli paging off"]
failed-when-contains: ["Error:"]
`))
	require.NoError(t, err)
	d.on("cli paging off", sshsim.Reply{})
	cfg := d.cfg
	cfg.Platform = plat
	s := open(t, cfg)
	assert.Equal(t, "cli paging off", <-d.received)
	_, err = s.Send(ctxT(t), "ha")
	require.NoError(t, err)

	// A rejected on-open command fails Open.
	plat2, err := driver.ParsePlatform([]byte(`
name: paging
prompt: '(?m)^[\w.\-]+:/[^\r\n>]*>\s*$'
on-open: ["cli bogus"]
failed-when-contains: ["Error:"]
`))
	require.NoError(t, err)
	cfg.Platform = plat2
	_, err = driver.Open(ctxT(t), cfg)
	require.ErrorIs(t, err, driver.ErrCommand)
}

func TestE2EWrongPlatformPromptIsUnreachable(t *testing.T) {
	d := newDevice(t)
	plat, err := driver.ParsePlatform([]byte("name: other\nprompt: '(?m)^other#\\s*$'\n"))
	require.NoError(t, err)
	cfg := d.cfg
	cfg.Platform = plat
	cfg.DialTimeout = 300 * time.Millisecond
	_, err = driver.Open(ctxT(t), cfg)
	require.ErrorIs(t, err, driver.ErrUnreachable)
	assert.Contains(t, err.Error(), "no prompt matching")
}

func TestE2EUploadAndVerifySize(t *testing.T) {
	d := newDevice(t)
	data := bytes.Repeat([]byte("cOS-Core-upgrade-image\x00\x01"), 4096)
	local := filepath.Join(t.TempDir(), "W30-14.00.10.upg")
	require.NoError(t, os.WriteFile(local, data, 0o600))
	tr := driver.NewTranscript()
	cfg := d.cfg
	cfg.Transcript = tr

	verify := func(_ context.Context, remote string) (int64, error) {
		v, ok := d.uploads.Load(remote)
		if !ok {
			return 0, fs.ErrNotExist
		}
		return int64(len(v.([]byte))), nil
	}
	require.NoError(t, driver.Upload(ctxT(t), cfg, local, "W30-14.00.10.upg", verify))
	got, ok := d.uploads.Load("W30-14.00.10.upg")
	require.True(t, ok)
	assert.Equal(t, data, got)
	require.Len(t, tr.Entries(), 1)
	assert.Equal(t, "scp "+local+" W30-14.00.10.upg", tr.Entries()[0].Command)

	// A device reporting another size fails the upload.
	short := func(ctx context.Context, remote string) (int64, error) {
		n, err := verify(ctx, remote)
		return n - 1, err
	}
	err := driver.Upload(ctxT(t), cfg, local, "W30-14.00.10.upg", short)
	require.ErrorIs(t, err, driver.ErrSizeMismatch)
	require.ErrorIs(t, err, driver.ErrUpload)

	// Remote paths are validated before anything is sent.
	err = driver.Upload(ctxT(t), cfg, local, "x; reboot", nil)
	require.ErrorIs(t, err, driver.ErrInput)
}

func TestE2EUploadMissingLocalFile(t *testing.T) {
	d := newDevice(t)
	cfg := d.cfg
	missing := filepath.Join(t.TempDir(), "nope.upg")
	err := driver.Upload(ctxT(t), cfg, missing, "nope.upg", nil)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.ErrorIs(t, err, driver.ErrUpload)
	var ue *driver.UploadError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, missing, ue.LocalPath)
	assert.Contains(t, err.Error(), missing)
	assert.Zero(t, d.srv.Sessions())
	_, stored := d.uploads.Load("nope.upg")
	assert.False(t, stored)
}

func TestE2EAbortedOpenByCancel(t *testing.T) {
	d := newDevice(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := driver.Open(ctx, d.cfg)
	require.ErrorIs(t, err, context.Canceled)
}

func TestE2EInteractRejectsBadExpect(t *testing.T) {
	d := newDevice(t)
	s := open(t, d.cfg)
	_, err := s.Interact(ctxT(t), []driver.Exchange{{Input: "ha -deactivate", Expect: "("}, {Input: "yes"}})
	require.ErrorIs(t, err, driver.ErrInput)
	_, err = s.Send(ctxT(t), "ha\nreboot")
	require.ErrorIs(t, err, driver.ErrInput)
	out, err := s.Send(ctxT(t), "ha")
	require.NoError(t, err)
	assert.Equal(t, haOutput, strings.TrimSpace(out))
}

func TestE2ECloseInterruptsCommandInFlight(t *testing.T) {
	d := newDevice(t)
	s := open(t, d.cfg)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Send(ctxT(t), "slow")
		errc <- err
	}()
	<-d.started
	require.NoError(t, s.Close())
	err := <-errc
	require.ErrorIs(t, err, driver.ErrClosed)
	require.NoError(t, s.Close(), "Close is idempotent")
}
