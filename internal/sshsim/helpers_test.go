package sshsim

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const (
	testUser     = "admin"
	testPassword = "s3cret!"
	testPrompt   = "Dev:/> "
	testBanner   = "Welcome to SimOS\nAuthorized use only"
	waitTimeout  = 10 * time.Second
)

// testHandler is a tiny device CLI used by most tests.
func testHandler(s *Session, line string) Reply {
	f := strings.Fields(line)
	switch {
	case line == "show version":
		return Reply{Output: "SimOS 1.0\nbuild 42"}
	case line == "whoami":
		return Reply{Output: fmt.Sprintf("%s #%d", s.User(), s.ID())}
	case len(f) == 3 && f[0] == "set" && f[1] == "ctx":
		s.Set("ctx", f[2])
		return Reply{}
	case line == "get ctx":
		v, _ := s.Get("ctx").(string)
		return Reply{Output: "ctx=" + v}
	case line == "exit":
		return Reply{Output: "Bye", Disconnect: true}
	case line == "confirm":
		return Reply{
			Output: "This will restart the service.",
			Ask:    "Are you sure you want to continue? [yes/no]: ",
			OnAnswer: func(_ *Session, answer string) Reply {
				if answer == "yes" {
					return Reply{Output: "Service restarted"}
				}
				return Reply{Output: "Aborted"}
			},
		}
	case line == "passwd":
		return Reply{
			Ask:        "New password: ",
			HideAnswer: true,
			OnAnswer: func(_ *Session, answer string) Reply {
				return Reply{Output: fmt.Sprintf("password length %d", len(answer))}
			},
		}
	case line == "fail":
		return Reply{Output: "Error: boom", ExitStatus: 3}
	default:
		return Reply{Output: "Error: Unknown command: " + line}
	}
}

func testConfig(t *testing.T) Config {
	return Config{
		Hostname: "dev1",
		Users:    map[string]string{testUser: testPassword},
		Banner:   testBanner,
		Prompt:   func() string { return testPrompt },
		Handler:  testHandler,
		Logger:   slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// startServer starts srv for cfg, closes it at cleanup and returns it with
// the path of a known_hosts file naming it.
func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	srv, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, srv.WriteKnownHosts(kh))
	return srv, kh
}

func clientConfig(t *testing.T, kh, user, password string) *ssh.ClientConfig {
	t.Helper()
	cb, err := knownhosts.New(kh)
	require.NoError(t, err)
	return &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: cb,
		Timeout:         waitTimeout,
	}
}

// term is an interactive PTY session seen from the client side.
type term struct {
	client *ssh.Client
	sess   *ssh.Session
	stdin  io.WriteCloser

	mu     sync.Mutex
	buf    []byte
	off    int   // bytes already consumed by expect
	err    error // read error, io.EOF when the server closed the session
	notify chan struct{}
	done   chan struct{}
}

// openTerm logs in and starts a shell on a PTY. It does not use t so that
// it can run in any goroutine.
func openTerm(addr string, cfg *ssh.ClientConfig) (*term, error) {
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	tm, err := startShell(c)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return tm, nil
}

func startShell(c *ssh.Client) (*term, error) {
	sess, err := c.NewSession()
	if err != nil {
		return nil, err
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
		return nil, err
	}
	if err := sess.Shell(); err != nil {
		return nil, err
	}
	tm := &term{client: c, sess: sess, stdin: stdin, notify: make(chan struct{}, 1), done: make(chan struct{})}
	go tm.readLoop(stdout)
	return tm, nil
}

func (tm *term) readLoop(r io.Reader) {
	defer close(tm.done)
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		tm.mu.Lock()
		tm.buf = append(tm.buf, b[:n]...)
		if err != nil {
			tm.err = err
		}
		tm.mu.Unlock()
		select {
		case tm.notify <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

func (tm *term) send(s string) error {
	_, err := tm.stdin.Write([]byte(s))
	return err
}

// expect waits until s has been received and returns everything received
// up to and including s since the previous expect.
func (tm *term) expect(s string) (string, error) {
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		tm.mu.Lock()
		rest := tm.buf[tm.off:]
		if i := bytes.Index(rest, []byte(s)); i >= 0 {
			got := string(rest[:i+len(s)])
			tm.off += i + len(s)
			tm.mu.Unlock()
			return got, nil
		}
		err := tm.err
		tm.mu.Unlock()
		if err != nil {
			return string(rest), fmt.Errorf("session ended (%v) before %q; got %q", err, s, rest)
		}
		select {
		case <-tm.notify:
		case <-timer.C:
			return string(rest), fmt.Errorf("timeout waiting for %q; got %q", s, rest)
		}
	}
}

// waitClosed waits until the server closed the session and returns the
// unconsumed output.
func (tm *term) waitClosed() (string, error) {
	select {
	case <-tm.done:
	case <-time.After(waitTimeout):
		return "", fmt.Errorf("session still open")
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	rest := string(tm.buf[tm.off:])
	tm.off = len(tm.buf)
	return rest, nil
}

func (tm *term) close() {
	_ = tm.sess.Close()
	_ = tm.client.Close()
}

// mustTerm opens a term for the test user and closes it at cleanup.
func mustTerm(t *testing.T, srv *Server, kh string) *term {
	t.Helper()
	tm, err := openTerm(srv.Addr(), clientConfig(t, kh, testUser, testPassword))
	require.NoError(t, err)
	t.Cleanup(tm.close)
	return tm
}

func mustExpect(t *testing.T, tm *term, s string) string {
	t.Helper()
	got, err := tm.expect(s)
	require.NoError(t, err)
	return got
}

// eventually waits (polling, no sleeping) until cond holds.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, waitTimeout, 2*time.Millisecond, msg)
}
