package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/scrapli/scrapligo/transport"
	"golang.org/x/crypto/ssh"
)

// sshTransport is the scrapligo transport.Implementation every Session uses (plugged in with
// options.WithCustomTransport). It replaces scrapligo's "standard" transport, which it
// otherwise mirrors (x/crypto/ssh, PTY "xterm", interactive shell), to fix three defects of
// scrapligo v1.4.3's transport/standard.go:
//
//   - ssh.Dial bounds only the TCP connect: a unit that accepts TCP but never completes the
//     SSH handshake (half up while rebooting) blocked Open for ever. Here the connection is
//     made by dialSSH, which bounds connect and handshake by the dial context, and the
//     session, PTY and shell requests are bounded by the same context.
//   - a client whose session could not be started was never closed. Here every failure in
//     Open closes the client.
//   - Close returned early when closing the session failed (io.EOF once the server has
//     closed the channel) and never closed the client, leaving the TCP connection open. Here
//     Close always closes the client.
//
// Host keys are verified by dialSSH against Config.KnownHostsFile; there is no way to skip
// it.
type sshTransport struct {
	cfg     Config
	timeout time.Duration
	// ctx bounds Open (connect, handshake, login, shell); set before Open is called.
	ctx context.Context

	// stdin and stdout are set once by a successful Open, before scrapligo starts reading.
	stdin  io.WriteCloser
	stdout io.Reader

	mu      sync.Mutex
	client  *ssh.Client
	session *ssh.Session
	closed  bool
}

var _ transport.Implementation = (*sshTransport)(nil)

// ptySpeed is the terminal speed requested, as scrapligo's standard transport does.
const ptySpeed = 115200

// Open implements transport.Implementation.
func (t *sshTransport) Open(a *transport.Args) error {
	ctx := t.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	client, err := dialSSH(ctx, t.cfg, t.timeout)
	if err != nil {
		return err
	}
	// The server may log us in and then never answer the session requests: closing the
	// client when ctx ends makes them return.
	stop := context.AfterFunc(ctx, func() { _ = client.Close() })
	sess, stdin, stdout, err := startShell(client, a)
	if !stop() {
		_ = client.Close()
		cause := ctx.Err()
		if errors.Is(cause, context.Canceled) {
			return fmt.Errorf("open shell: %w", cause)
		}
		return &UnreachableError{Host: t.cfg.addr(), Err: fmt.Errorf("no shell within %s: %w",
			t.timeout.Round(time.Millisecond), context.DeadlineExceeded)}
	}
	if err != nil {
		_ = client.Close()
		return &UnreachableError{Host: t.cfg.addr(), Err: fmt.Errorf("open shell: %w", err)}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		_ = client.Close()
		return fmt.Errorf("driver: %s: %w", t.cfg.addr(), ErrClosed)
	}
	t.client, t.session, t.stdin, t.stdout = client, sess, stdin, stdout
	return nil
}

// startShell opens a session on client with a PTY of a's size and starts the shell.
func startShell(client *ssh.Client, a *transport.Args) (*ssh.Session, io.WriteCloser, io.Reader, error) {
	sess, err := client.NewSession()
	if err != nil {
		return nil, nil, nil, err
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: ptySpeed, ssh.TTY_OP_OSPEED: ptySpeed}
	if err := sess.RequestPty("xterm", a.TermHeight, a.TermWidth, modes); err != nil {
		return nil, nil, nil, fmt.Errorf("pty request: %w", err)
	}
	if err := sess.Shell(); err != nil {
		return nil, nil, nil, fmt.Errorf("shell request: %w", err)
	}
	return sess, stdin, stdout, nil
}

// Close implements transport.Implementation: it closes the session (ignoring the error a
// channel already closed by the server gives) and always the client, which closes the TCP
// connection. It is safe to call more than once, and concurrently with Open (which then
// closes what it opened).
func (t *sshTransport) Close() error {
	t.mu.Lock()
	t.closed = true
	sess, client := t.session, t.client
	t.session, t.client = nil, nil
	t.mu.Unlock()
	if sess != nil {
		_ = sess.Close()
	}
	if client != nil {
		if err := client.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	return nil
}

// IsAlive implements transport.Implementation.
func (t *sshTransport) IsAlive() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.session != nil && !t.closed
}

// Read implements transport.Implementation.
func (t *sshTransport) Read(n int) ([]byte, error) {
	if t.stdout == nil {
		return nil, io.EOF
	}
	b := make([]byte, n)
	n, err := t.stdout.Read(b)
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}

// Write implements transport.Implementation.
func (t *sshTransport) Write(b []byte) error {
	if t.stdin == nil {
		return io.ErrClosedPipe
	}
	_, err := t.stdin.Write(b)
	return err
}
