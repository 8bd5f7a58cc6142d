package clavistertest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	scp "github.com/bramvdbogaerde/go-scp"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// fastOptions are millisecond durations for tests.
func fastOptions() Options {
	return Options{
		ApplyDelay:     20 * time.Millisecond,
		RebootDuration: 100 * time.Millisecond,
		SyncDuration:   100 * time.Millisecond,
		FailoverGap:    50 * time.Millisecond,
		ProbeEvery:     2 * time.Millisecond,
	}
}

// startPair starts a pair and closes it at cleanup.
func startPair(t *testing.T, o Options) *Pair {
	t.Helper()
	p, err := Start(o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

// clientConfig verifies host keys against the pair's known_hosts file
// (never InsecureIgnoreHostKey).
func clientConfig(t testing.TB, knownHostsFile, user, password string) *ssh.ClientConfig {
	t.Helper()
	cb, err := knownhosts.New(knownHostsFile)
	require.NoError(t, err)
	return &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: cb,
		Timeout:         waitTimeout,
	}
}

func dial(t testing.TB, p *Pair, u *Unit) (*ssh.Client, error) {
	return ssh.Dial("tcp", u.Addr(), clientConfig(t, p.KnownHostsFile(), p.Username(), p.Password()))
}

// shell is an interactive CLI session on a PTY.
type shell struct {
	client *ssh.Client
	sess   *ssh.Session
	stdin  io.WriteCloser
	chunks chan []byte // closed at EOF
	prompt string
	buf    []byte
}

func openShell(t testing.TB, p *Pair, u *Unit) (*shell, error) {
	client, err := dial(t, p, u)
	if err != nil {
		return nil, err
	}
	sh, err := startShell(client, u.Name()+":/> ")
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	return sh, nil
}

func startShell(client *ssh.Client, prompt string) (*shell, error) {
	sess, err := client.NewSession()
	if err != nil {
		return nil, err
	}
	if err := sess.RequestPty("vt100", 50, 200, ssh.TerminalModes{}); err != nil {
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
	if err := sess.Shell(); err != nil {
		return nil, err
	}
	sh := &shell{client: client, sess: sess, stdin: stdin, chunks: make(chan []byte, 64), prompt: prompt}
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
	if _, err := sh.readPrompt(); err != nil {
		return nil, err
	}
	return sh, nil
}

// readPrompt returns everything up to and including the next prompt.
func (sh *shell) readPrompt() (string, error) {
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for !strings.HasSuffix(string(sh.buf), sh.prompt) {
		select {
		case c, ok := <-sh.chunks:
			if !ok {
				return string(sh.buf), io.EOF
			}
			sh.buf = append(sh.buf, c...)
		case <-deadline.C:
			return string(sh.buf), fmt.Errorf("no prompt %q after %s; got %q", sh.prompt, waitTimeout, sh.buf)
		}
	}
	out := string(sh.buf)
	sh.buf = nil
	return out, nil
}

// run sends cmd and returns the transcript "<prompt>cmd\r\n<output><prompt>"
// as a console shows it.
func (sh *shell) run(cmd string) (string, error) {
	if _, err := io.WriteString(sh.stdin, cmd+"\r"); err != nil {
		return "", err
	}
	out, err := sh.readPrompt()
	return sh.prompt + out, err
}

func (sh *shell) close() {
	_ = sh.sess.Close()
	_ = sh.client.Close()
}

// run opens a shell on u, runs cmd and closes the shell.
func run(t *testing.T, p *Pair, u *Unit, cmd string) string {
	t.Helper()
	sh, err := openShell(t, p, u)
	require.NoError(t, err, "connect to %s", u.Name())
	defer sh.close()
	out, err := sh.run(cmd)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, u.Name()+":/> "+cmd+"\r\n"), "echo in %q", out)
	return out
}

// body strips the prompt+command line and the trailing prompt from a
// transcript and converts CRLF to LF.
func body(out string) string {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	_, out, _ = strings.Cut(out, "\n")
	i := strings.LastIndex(out, "\n")
	return out[:i+1] // "" when only the trailing prompt is left
}

// upload copies the local file to u by SCP (go-scp, as the driver does).
func upload(t *testing.T, p *Pair, u *Unit, path string) error {
	t.Helper()
	client, err := dial(t, p, u)
	if err != nil {
		return err
	}
	defer func() { _ = client.Close() }()
	c, err := scp.NewClientBySSH(client)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	return c.CopyFromFile(ctx, *f, filepath.Base(path), "0644")
}

// eventually polls cond every few milliseconds until it holds or the
// timeout ends (no sleeps).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
		}
	}
}

// holds checks that cond stays true for d (polled).
func holds(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	end := time.NewTimer(d)
	defer end.Stop()
	for {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
		select {
		case <-tick.C:
		case <-end.C:
			return
		}
	}
}

// refused reports whether connecting to u fails at the TCP level.
func refused(t *testing.T, p *Pair, u *Unit) bool {
	c, err := dial(t, p, u)
	if err == nil {
		_ = c.Close()
		return false
	}
	return strings.Contains(err.Error(), "refused")
}
