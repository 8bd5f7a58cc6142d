package checkpointtest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// fastOptions are millisecond durations for tests.
func fastOptions() Options {
	return Options{
		ImportDuration: 30 * time.Millisecond,
		ApplyDelay:     20 * time.Millisecond,
		RebootDuration: 100 * time.Millisecond,
		FailoverGap:    50 * time.Millisecond,
		ProbeEvery:     time.Millisecond,
	}
}

// startSim starts a cluster and closes it at cleanup.
func startSim(t *testing.T, o Options) *Sim {
	t.Helper()
	s, err := Start(o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// gaia loads the platform definition under test.
func gaia(t testing.TB) *driver.Platform {
	t.Helper()
	p, err := driver.LoadPlatform("checkpoint_gaia")
	require.NoError(t, err)
	return p
}

// driverConfig is the driver configuration for member m.
func driverConfig(t testing.TB, s *Sim, m *Member) driver.Config {
	return driver.Config{
		Host:           m.Host(),
		Port:           m.Port(),
		Username:       s.Username(),
		Password:       s.Password(),
		KnownHostsFile: s.KnownHostsFile(),
		Platform:       gaia(t),
		Timeout:        waitTimeout,
		DialTimeout:    waitTimeout,
	}
}

// open opens a driver session on m (the real driver over real SSH) and
// closes it at cleanup.
func open(t *testing.T, s *Sim, m *Member) driver.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	sess, err := driver.Open(ctx, driverConfig(t, s, m))
	require.NoError(t, err, "open %s", m.Name())
	t.Cleanup(func() { _ = sess.Close() })
	return sess
}

// send runs cmd and requires success.
func send(t *testing.T, sess driver.Session, cmd string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	out, err := sess.Send(ctx, cmd)
	require.NoError(t, err, cmd)
	return out
}

// expertPrompt is the Expert prompt pattern the exchange waits for.
const expertPrompt = `(?m)^\[Expert@[\w.\-]+(?::\d+)?\]#\s*$`

// enterExpert switches sess to Expert mode.
func enterExpert(t *testing.T, s *Sim, sess driver.Session) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	out, err := sess.Interact(ctx, []driver.Exchange{
		{Input: "expert", Expect: `Enter expert password:\s*$`},
		{Input: s.ExpertPassword(), Secret: true, Expect: expertPrompt},
	})
	require.NoError(t, err)
	return out
}

// waitFor waits (Sim.Wait, no sleeps) until cond holds.
func waitFor(t *testing.T, s *Sim, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	require.NoError(t, s.Wait(ctx, cond), "waiting for %s", what)
}

// poll polls check with upgrade.PollUntil in real time until it returns nil.
func poll(t *testing.T, what string, deadline time.Duration, check func(ctx context.Context) error) error {
	t.Helper()
	return upgrade.PollUntil(t.Context(), what, upgrade.Timing{Interval: 5 * time.Millisecond, Deadline: deadline}, check, nil)
}

// dialRaw opens a plain x/crypto/ssh client to m, verifying its host key.
func dialRaw(t testing.TB, s *Sim, m *Member) (*ssh.Client, error) {
	cb, err := s.HostKeyCallback()
	require.NoError(t, err)
	return ssh.Dial("tcp", m.Addr(), &ssh.ClientConfig{
		User: s.Username(), Auth: []ssh.AuthMethod{ssh.Password(s.Password())},
		HostKeyCallback: cb, Timeout: waitTimeout,
	})
}

// shell is an interactive session on a PTY read as a raw byte stream.
type shell struct {
	client *ssh.Client
	sess   *ssh.Session
	stdin  io.WriteCloser
	chunks chan []byte
	buf    []byte
}

// openShell starts a PTY shell on m and reads up to its first prompt.
func openShell(t *testing.T, s *Sim, m *Member) (*shell, string) {
	t.Helper()
	client, err := dialRaw(t, s, m)
	require.NoError(t, err)
	sess, err := client.NewSession()
	require.NoError(t, err)
	require.NoError(t, sess.RequestPty("vt100", 50, 200, ssh.TerminalModes{}))
	stdin, err := sess.StdinPipe()
	require.NoError(t, err)
	stdout, err := sess.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, sess.Shell())
	sh := &shell{client: client, sess: sess, stdin: stdin, chunks: make(chan []byte, 64)}
	go func() {
		defer close(sh.chunks)
		b := make([]byte, 4096)
		for {
			n, err := stdout.Read(b)
			if n > 0 {
				sh.chunks <- append([]byte(nil), b[:n]...)
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { _ = sess.Close(); _ = client.Close() })
	first, err := sh.readUntil(clishPrompt(s, m, s.Options().LoginContext))
	require.NoError(t, err)
	return sh, first
}

// clishPrompt is m's Clish prompt in VS context vs.
func clishPrompt(s *Sim, m *Member, vs int) string {
	if s.Options().VSX {
		return m.Name() + ":" + strconv.Itoa(vs) + "> "
	}
	return m.Name() + "> "
}

// readUntil returns everything up to and including the next occurrence of
// suffix at the end of the stream.
func (sh *shell) readUntil(suffix string) (string, error) { return sh.readUntilAny(suffix) }

// readUntilAny is readUntil for the first of several suffixes.
func (sh *shell) readUntilAny(suffixes ...string) (string, error) {
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	done := func() bool {
		for _, s := range suffixes {
			if strings.HasSuffix(string(sh.buf), s) {
				return true
			}
		}
		return false
	}
	for !done() {
		select {
		case c, ok := <-sh.chunks:
			if !ok {
				return string(sh.buf), io.EOF
			}
			sh.buf = append(sh.buf, c...)
		case <-deadline.C:
			return string(sh.buf), fmt.Errorf("none of %q after %s; got %q", suffixes, waitTimeout, sh.buf)
		}
	}
	out := string(sh.buf)
	sh.buf = nil
	return out, nil
}

// typeLine sends a line.
func (sh *shell) typeLine(line string) error {
	_, err := io.WriteString(sh.stdin, line+"\r")
	return err
}

// lf converts CRLF to LF.
func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
