package sshsim

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

func TestNewValidatesConfig(t *testing.T) {
	ok := testConfig(t)
	tests := map[string]func(c *Config){
		"no handler":     func(c *Config) { c.Handler = nil },
		"no prompt":      func(c *Config) { c.Prompt = nil },
		"no users":       func(c *Config) { c.Users = nil },
		"empty user":     func(c *Config) { c.Users = map[string]string{"": "x"} },
		"server version": func(c *Config) { c.ServerVersion = "OpenSSH_9" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			c := ok
			mutate(&c)
			_, err := New(c)
			require.Error(t, err)
		})
	}
	c := ok
	c.Prompt = nil
	c.SessionPrompt = func(*Session) string { return "x> " }
	_, err := New(c)
	require.NoError(t, err, "SessionPrompt replaces Prompt")
}

func TestStartListensOnLoopbackOnly(t *testing.T) {
	srv, err := New(testConfig(t))
	require.NoError(t, err)
	assert.Empty(t, srv.Addr())
	assert.Empty(t, srv.KnownHostsLine())
	require.Error(t, srv.WriteKnownHosts(filepath.Join(t.TempDir(), "kh")))
	require.NoError(t, srv.Start())
	require.Error(t, srv.Start(), "second Start")

	host, _, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)

	line := srv.KnownHostsLine()
	assert.True(t, strings.HasPrefix(line, "[127.0.0.1]:"), line)
	assert.Contains(t, line, " ssh-ed25519 ")

	kh := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, srv.WriteKnownHosts(kh))
	fi, err := os.Stat(kh)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "Close is idempotent")
	require.ErrorIs(t, srv.Start(), ErrClosed)
}

func TestShellTranscript(t *testing.T) {
	srv, kh := startServer(t, testConfig(t))
	tm := mustTerm(t, srv, kh)

	// Banner then prompt, with CRLF line ends.
	got := mustExpect(t, tm, testPrompt)
	assert.Equal(t, "Welcome to SimOS\r\nAuthorized use only\r\n"+testPrompt, got)

	// Typed characters are echoed as they arrive, before Enter.
	require.NoError(t, tm.send("show ver"))
	assert.Equal(t, "show ver", mustExpect(t, tm, "show ver"))
	require.NoError(t, tm.send("sion\n"))
	got = mustExpect(t, tm, testPrompt)
	assert.Equal(t, "sion\r\nSimOS 1.0\r\nbuild 42\r\n"+testPrompt, got)

	// "\r", "\r\n" and "\n" are each one Enter.
	require.NoError(t, tm.send("whoami\r"))
	assert.Equal(t, "whoami\r\nadmin #1\r\n"+testPrompt, mustExpect(t, tm, testPrompt))
	require.NoError(t, tm.send("whoami\r\n"))
	assert.Equal(t, "whoami\r\nadmin #1\r\n"+testPrompt, mustExpect(t, tm, testPrompt))

	// Empty line: just the prompt again (the handler is not called).
	require.NoError(t, tm.send("\n"))
	assert.Equal(t, "\r\n"+testPrompt, mustExpect(t, tm, testPrompt))

	// Backspace (DEL and BS) edits the line and its echo.
	require.NoError(t, tm.send("shox\x7fw versiom\bn\n"))
	assert.Equal(t, "shox\b \bw versiom\b \bn\r\nSimOS 1.0\r\nbuild 42\r\n"+testPrompt, mustExpect(t, tm, testPrompt))

	// Arrow keys are swallowed; Ctrl-C drops the line.
	require.NoError(t, tm.send("show\x1b[A\x1bOB version\n"))
	assert.Equal(t, "show version\r\nSimOS 1.0\r\nbuild 42\r\n"+testPrompt, mustExpect(t, tm, testPrompt))
	require.NoError(t, tm.send("garbage\x03"))
	assert.Equal(t, "garbage^C\r\n"+testPrompt, mustExpect(t, tm, testPrompt))

	// Per-session values.
	require.NoError(t, tm.send("set ctx vsys1\nget ctx\n"))
	mustExpect(t, tm, "set ctx vsys1\r\n"+testPrompt)
	assert.Equal(t, "get ctx\r\nctx=vsys1\r\n"+testPrompt, mustExpect(t, tm, testPrompt))

	assert.Equal(t, 1, srv.Sessions())
	cols, rows := 0, 0
	for s := range srv.sessionsSnapshot() {
		cols, rows = s.WindowSize()
		assert.Equal(t, "xterm", s.Term())
	}
	assert.Equal(t, []int{80, 24}, []int{cols, rows})
}

// sessionsSnapshot returns the open sessions (test helper).
func (s *Server) sessionsSnapshot() map[*Session]struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[*Session]struct{}, len(s.sessions))
	for k := range s.sessions {
		m[k] = struct{}{}
	}
	return m
}

func TestPromptIsComputedAfresh(t *testing.T) {
	cfg := testConfig(t)
	cfg.Banner = ""
	cfg.Prompt = nil
	cfg.SessionPrompt = func(s *Session) string {
		if ctx, _ := s.Get("ctx").(string); ctx != "" {
			return "Dev:/" + ctx + "> "
		}
		return "Dev:/> "
	}
	srv, kh := startServer(t, cfg)
	tm := mustTerm(t, srv, kh)
	assert.Equal(t, "Dev:/> ", mustExpect(t, tm, "> "))
	require.NoError(t, tm.send("set ctx VR1\n"))
	assert.Equal(t, "set ctx VR1\r\nDev:/VR1> ", mustExpect(t, tm, "VR1> "))
}

func TestAuthentication(t *testing.T) {
	srv, kh := startServer(t, testConfig(t))

	_, err := ssh.Dial("tcp", srv.Addr(), clientConfig(t, kh, testUser, "wrong"))
	require.Error(t, err)
	_, err = ssh.Dial("tcp", srv.Addr(), clientConfig(t, kh, "nobody", testPassword))
	require.Error(t, err)

	// At most 3 attempts per connection.
	var tries atomic.Int32
	cfg := clientConfig(t, kh, testUser, "")
	cfg.Auth = []ssh.AuthMethod{ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
		tries.Add(1)
		return "wrong", nil
	}), 10)}
	_, err = ssh.Dial("tcp", srv.Addr(), cfg)
	require.Error(t, err)
	assert.Equal(t, int32(3), tries.Load())

	// Keyboard-interactive with the same password is accepted.
	cfg = clientConfig(t, kh, testUser, "")
	var questions []string
	cfg.Auth = []ssh.AuthMethod{ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
		questions = append(questions, qs...)
		answers := make([]string, len(qs))
		for i := range answers {
			answers[i] = testPassword
		}
		return answers, nil
	})}
	c, err := ssh.Dial("tcp", srv.Addr(), cfg)
	require.NoError(t, err)
	assert.Equal(t, []string{"Password: "}, questions)
	require.NoError(t, c.Close())

	// A client that does not know the host key refuses the server.
	other := filepath.Join(t.TempDir(), "known_hosts")
	srv2, err := New(testConfig(t))
	require.NoError(t, err)
	require.NoError(t, srv2.Start())
	require.NoError(t, srv2.WriteKnownHosts(other))
	require.NoError(t, srv2.Close())
	_, err = ssh.Dial("tcp", srv.Addr(), clientConfig(t, other, testUser, testPassword))
	require.Error(t, err)
}

func TestAskOnAnswer(t *testing.T) {
	srv, kh := startServer(t, testConfig(t))
	tm := mustTerm(t, srv, kh)
	mustExpect(t, tm, testPrompt)

	const q = "Are you sure you want to continue? [yes/no]: "
	require.NoError(t, tm.send("confirm\n"))
	assert.Equal(t, "confirm\r\nThis will restart the service.\r\n"+q, mustExpect(t, tm, q))
	require.NoError(t, tm.send("yes\n"))
	assert.Equal(t, "yes\r\nService restarted\r\n"+testPrompt, mustExpect(t, tm, testPrompt))

	// An empty answer goes to OnAnswer too.
	require.NoError(t, tm.send("confirm\n"))
	mustExpect(t, tm, q)
	require.NoError(t, tm.send("\n"))
	assert.Equal(t, "\r\nAborted\r\n"+testPrompt, mustExpect(t, tm, testPrompt))

	// Ctrl-C cancels the question.
	require.NoError(t, tm.send("confirm\n"))
	mustExpect(t, tm, q)
	require.NoError(t, tm.send("ye\x03"))
	assert.Equal(t, "ye^C\r\n"+testPrompt, mustExpect(t, tm, testPrompt))
	require.NoError(t, tm.send("show version\n"))
	assert.Contains(t, mustExpect(t, tm, testPrompt), "SimOS 1.0")

	// Hidden answers are not echoed.
	require.NoError(t, tm.send("passwd\n"))
	mustExpect(t, tm, "New password: ")
	require.NoError(t, tm.send("hunter2\n"))
	assert.Equal(t, "\r\npassword length 7\r\n"+testPrompt, mustExpect(t, tm, testPrompt))
}

func TestDisconnect(t *testing.T) {
	var after atomic.Bool
	cfg := testConfig(t)
	cfg.Handler = func(s *Session, line string) Reply {
		if line == "exit" {
			return Reply{Output: "Bye", Disconnect: true, After: func() { after.Store(true) }}
		}
		return testHandler(s, line)
	}
	srv, kh := startServer(t, cfg)
	tm := mustTerm(t, srv, kh)
	mustExpect(t, tm, testPrompt)
	require.NoError(t, tm.send("exit\n"))
	rest, err := tm.waitClosed()
	require.NoError(t, err)
	assert.Equal(t, "exit\r\nBye\r\n", rest)
	require.NoError(t, tm.sess.Wait(), "exit status 0")
	eventually(t, func() bool { return srv.Sessions() == 0 }, "session closed")
	eventually(t, after.Load, "After ran")

	// The connection stays usable for a new session.
	tm2, err := startShell(tm.client)
	require.NoError(t, err)
	mustExpect(t, tm2, testPrompt)
}

func TestExec(t *testing.T) {
	srv, kh := startServer(t, testConfig(t))
	c, err := ssh.Dial("tcp", srv.Addr(), clientConfig(t, kh, testUser, testPassword))
	require.NoError(t, err)
	defer c.Close()

	sess, err := c.NewSession()
	require.NoError(t, err)
	out, err := sess.Output("show version")
	require.NoError(t, err)
	assert.Equal(t, "SimOS 1.0\nbuild 42\n", string(out))

	sess, err = c.NewSession()
	require.NoError(t, err)
	out, err = sess.Output("fail")
	var exitErr *ssh.ExitError
	require.ErrorAs(t, err, &exitErr)
	assert.Equal(t, 3, exitErr.ExitStatus())
	assert.Equal(t, "Error: boom\n", string(out))

	// With a PTY, line ends are CRLF; a question reads the answer from stdin.
	sess, err = c.NewSession()
	require.NoError(t, err)
	require.NoError(t, sess.RequestPty("vt100", 24, 80, nil))
	sess.Stdin = strings.NewReader("yes\n")
	out, err = sess.Output("confirm")
	require.NoError(t, err)
	assert.Equal(t, "This will restart the service.\r\nAre you sure you want to continue? [yes/no]: Service restarted\r\n", string(out))

	// Env requests are accepted.
	sess, err = c.NewSession()
	require.NoError(t, err)
	require.NoError(t, sess.Setenv("LANG", "C"))
	_, err = sess.Output("whoami")
	require.NoError(t, err)
}

// rebootSim is a device whose version changes across a reboot.
type rebootSim struct {
	mu      sync.Mutex
	version string
}

func (r *rebootSim) handler(s *Session, line string) Reply {
	switch line {
	case "show version":
		r.mu.Lock()
		defer r.mu.Unlock()
		return Reply{Output: "SimOS " + r.version}
	default:
		return testHandler(s, line)
	}
}

func (r *rebootSim) setVersion(v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.version = v
}

func TestReboot(t *testing.T) {
	sim := &rebootSim{version: "1.0"}
	reached := make(chan struct{})
	release := make(chan struct{})
	cfg := testConfig(t)
	cfg.Handler = func(s *Session, line string) Reply {
		if line == "reboot" {
			return Reply{Output: "Rebooting...", Disconnect: true, After: func() {
				s.Server().Reboot(50*time.Millisecond, func() {
					close(reached)
					<-release // stay down until the test has looked
					sim.setVersion("2.0")
				})
			}}
		}
		return sim.handler(s, line)
	}
	srv, kh := startServer(t, cfg)
	releaseOnce := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseOnce) // runs before srv.Close even if the test fails early
	addr := srv.Addr()
	tm := mustTerm(t, srv, kh)
	idle := mustTerm(t, srv, kh) // another connection, dropped too
	mustExpect(t, tm, testPrompt)
	mustExpect(t, idle, testPrompt)
	require.NoError(t, tm.send("show version\n"))
	assert.Contains(t, mustExpect(t, tm, testPrompt), "SimOS 1.0")

	require.NoError(t, tm.send("reboot\n"))
	rest, err := tm.waitClosed()
	require.NoError(t, err)
	assert.Equal(t, "reboot\r\nRebooting...\r\n", rest)
	_, err = idle.waitClosed()
	require.NoError(t, err, "every session is dropped")

	waitChan(t, reached) // the down period is over, but onBack has not returned yet
	assert.True(t, srv.Down())
	eventually(t, func() bool { return srv.Sessions() == 0 }, "sessions dropped")
	_, err = net.Dial("tcp", addr)
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "refuses connections while down")

	releaseOnce()
	waitBack(t, addr)
	assert.False(t, srv.Down())
	assert.Equal(t, addr, srv.Addr())

	// Same address, same host key (known_hosts still valid), new state.
	tm = mustTerm(t, srv, kh)
	mustExpect(t, tm, testPrompt)
	require.NoError(t, tm.send("show version\n"))
	assert.Contains(t, mustExpect(t, tm, testPrompt), "SimOS 2.0")
}

// waitChan waits until ch is closed.
func waitChan(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatal("timeout")
	}
}

// waitBack polls (dial with a deadline loop, no sleeping) until addr
// accepts TCP connections again.
func waitBack(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			require.NoError(t, c.Close())
			return
		}
		require.True(t, time.Now().Before(deadline), "not back: %v", err)
		<-tick.C
	}
}

func TestRebootWhileDownRestartsDownPeriod(t *testing.T) {
	srv, kh := startServer(t, testConfig(t))
	addr := srv.Addr()
	var (
		mu    sync.Mutex
		order []string
	)
	record := func(s string) func() {
		return func() { mu.Lock(); order = append(order, s); mu.Unlock() }
	}
	srv.Reboot(time.Hour, record("first"))
	assert.True(t, srv.Down())
	_, err := net.Dial("tcp", addr)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)

	srv.Reboot(20*time.Millisecond, record("second"))
	eventually(t, func() bool { return !srv.Down() }, "back")
	mu.Lock()
	assert.Equal(t, []string{"first", "second"}, order)
	mu.Unlock()
	tm := mustTerm(t, srv, kh)
	mustExpect(t, tm, testPrompt)
}

func TestRebootDirectDropsSessionsAndCancelsContext(t *testing.T) {
	entered := make(chan struct{})
	cancelled := make(chan error, 1)
	cfg := testConfig(t)
	cfg.Handler = func(s *Session, line string) Reply {
		if line == "slow" {
			close(entered)
			<-s.Context().Done()
			cancelled <- s.Context().Err()
			return Reply{Output: "never seen"}
		}
		return testHandler(s, line)
	}
	srv, kh := startServer(t, cfg)
	tm := mustTerm(t, srv, kh)
	mustExpect(t, tm, testPrompt)
	require.NoError(t, tm.send("slow\n"))
	assert.Equal(t, "slow\r\n", mustExpect(t, tm, "slow\r\n"), "echo flushed before the handler runs")
	waitChan(t, entered)

	back := make(chan struct{})
	srv.Reboot(10*time.Millisecond, func() { close(back) })
	select {
	case err := <-cancelled:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(waitTimeout):
		t.Fatal("handler context not cancelled")
	}
	_, err := tm.waitClosed()
	require.NoError(t, err)
	waitChan(t, back)
	waitBack(t, srv.Addr())
}

func TestDropSessions(t *testing.T) {
	srv, kh := startServer(t, testConfig(t))
	tm := mustTerm(t, srv, kh)
	mustExpect(t, tm, testPrompt)
	srv.DropSessions()
	_, err := tm.waitClosed()
	require.NoError(t, err)
	assert.False(t, srv.Down())
	tm = mustTerm(t, srv, kh)
	mustExpect(t, tm, testPrompt)
}

func TestCloseWhileDown(t *testing.T) {
	srv, err := New(testConfig(t))
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	called := make(chan struct{}, 1)
	srv.Reboot(time.Hour, func() { called <- struct{}{} })
	require.NoError(t, srv.Close())
	srv.Reboot(time.Millisecond, nil) // no-op after Close
	select {
	case <-called:
		t.Fatal("onBack called after Close")
	default:
	}
}

func TestConcurrentSessions(t *testing.T) {
	srv, kh := startServer(t, testConfig(t))
	const n = 12
	cfg := clientConfig(t, kh, testUser, testPassword)
	var (
		wg       sync.WaitGroup
		loggedIn sync.WaitGroup
		proceed  = make(chan struct{})
		errs     = make(chan error, n)
	)
	loggedIn.Add(n)
	for i := range n {
		wg.Go(func() {
			err := func() error {
				tm, err := openTerm(srv.Addr(), cfg)
				if err != nil {
					loggedIn.Done()
					return err
				}
				defer tm.close()
				_, err = tm.expect(testPrompt)
				loggedIn.Done()
				if err != nil {
					return err
				}
				<-proceed
				for j := range 5 {
					want := fmt.Sprintf("c%d-%d", i, j)
					if err := tm.send("set ctx " + want + "\nget ctx\nshow version\n"); err != nil {
						return err
					}
					got, err := tm.expect("build 42\r\n" + testPrompt)
					if err != nil {
						return err
					}
					if !strings.Contains(got, "ctx="+want+"\r\n") {
						return fmt.Errorf("session %d: got %q", i, got)
					}
				}
				return nil
			}()
			errs <- err
		})
	}
	loggedIn.Wait()
	assert.Equal(t, n, srv.Sessions())
	close(proceed)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	eventually(t, func() bool { return srv.Sessions() == 0 }, "all sessions closed")
}

// TestConnectionsCountsTCPNotSessions: Connections counts TCP connections, so a client that
// closed its session (or whose session the device closed) but kept the connection still
// counts until it closes the connection.
func TestConnectionsCountsTCPNotSessions(t *testing.T) {
	srv, kh := startServer(t, testConfig(t))
	assert.Zero(t, srv.Connections())
	client, err := ssh.Dial("tcp", srv.Addr(), clientConfig(t, kh, testUser, testPassword))
	require.NoError(t, err)
	defer func() { _ = client.Close() }()
	sess, err := client.NewSession()
	require.NoError(t, err)
	out, err := sess.Output("exit") // the device closes the channel after "Bye"
	require.NoError(t, err)
	assert.Equal(t, "Bye\n", string(out))
	eventually(t, func() bool { return srv.Sessions() == 0 }, "the session ended")
	assert.Equal(t, 1, srv.Connections(), "the TCP connection is still open")
	require.NoError(t, client.Close())
	eventually(t, func() bool { return srv.Connections() == 0 }, "the connection was closed")
}
