package driver_test

// Regression tests: bounded handshakes and no leaked goroutines or connections (scrapligo's
// standard transport bounded only the TCP connect, and its Close left the client open when
// the server had closed the channel first), the per-call timeout under a later ctx deadline,
// device rejections per clavister.md §8.9, and secrets never printed.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/internal/sshsim"
)

// settleGoroutines waits (polling, bounded) until the number of goroutines is at most base,
// and fails with the goroutine dump otherwise.
func settleGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if runtime.NumGoroutine() <= base {
			return
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still running, want at most %d:\n%s", runtime.NumGoroutine(), base, buf)
		}
	}
}

// eventually polls cond (bounded) until it holds.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatal(msg)
		}
	}
}

// silentListener accepts TCP connections on 127.0.0.1 and never says anything (a unit that is
// half up: the TCP stack answers, sshd does not). It returns the port and the number of
// connections accepted so far.
func silentListener(t *testing.T) (port int, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port, func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}

func TestOpenBoundsHandshakeAndLeaksNothing(t *testing.T) {
	d := newDevice(t)
	cfg := d.cfg
	port, accepted := silentListener(t)
	cfg.Port = port
	cfg.DialTimeout = 200 * time.Millisecond
	base := runtime.NumGoroutine()

	// Open: the TCP connect succeeds, the handshake never completes.
	_, err := driver.Open(ctxT(t), cfg)
	var ue *driver.UnreachableError
	require.ErrorAs(t, err, &ue)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Positive(t, accepted(), "the TCP connection was accepted")
	settleGoroutines(t, base)

	// An abandoned Open (ctx deadline sooner than the dial timeout) leaves nothing behind.
	cfg.DialTimeout = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	_, err = driver.Open(ctx, cfg)
	cancel()
	require.ErrorIs(t, err, driver.ErrUnreachable)
	settleGoroutines(t, base)

	// WaitReachable: several attempts, each bounded; returns by ctx's deadline.
	cfg.DialTimeout = 100 * time.Millisecond
	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = driver.WaitReachable(ctx, cfg, driver.Backoff{Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond})
	var we *driver.WaitError
	require.ErrorAs(t, err, &we)
	assert.GreaterOrEqual(t, we.Attempts, 2)
	assert.ErrorIs(t, we.Last, context.DeadlineExceeded)
	settleGoroutines(t, base)
}

// TestCloseAfterServerClosedChannel: the device closes the session channel but keeps the TCP
// connection (as after "exit" on some CLIs); Close must still close the connection.
func TestCloseAfterServerClosedChannel(t *testing.T) {
	d := newDevice(t)
	d.on("bye", sshsim.Reply{Output: "Bye\n" + simPrompt, Disconnect: true})
	s, err := driver.Open(ctxT(t), d.cfg)
	require.NoError(t, err)
	assert.Equal(t, 1, d.srv.Connections())
	_, _ = s.Send(ctxT(t), "bye") // output or a drop: either way the channel is gone
	eventually(t, func() bool { return d.srv.Sessions() == 0 }, "the device closed the channel")
	// Whether the driver noticed the drop itself (and closed the
	// connection already) depends on timing; either way, after Close no
	// connection may remain.
	require.NoError(t, s.Close())
	eventually(t, func() bool { return d.srv.Connections() == 0 }, "Close left the TCP connection open")
}

// TestCloseClosesConnection: a normal Close closes the TCP connection too.
func TestCloseClosesConnection(t *testing.T) {
	d := newDevice(t)
	s, err := driver.Open(ctxT(t), d.cfg)
	require.NoError(t, err)
	_, err = s.Send(ctxT(t), "ha")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	eventually(t, func() bool { return d.srv.Connections() == 0 }, "Close left the TCP connection open")
}

// TestConfigTimeoutBeatsLaterDeadline: Config.Timeout bounds a call even when ctx has a later
// deadline.
func TestConfigTimeoutBeatsLaterDeadline(t *testing.T) {
	d := newDevice(t)
	cfg := d.cfg
	cfg.Timeout = 100 * time.Millisecond
	s := open(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := s.Send(ctx, "slow")
	var ae *driver.AbortError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "slow", ae.Command)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NoError(t, ctx.Err(), "stopped by Config.Timeout, not by the ctx deadline")
	_, err = s.Send(ctxT(t), "ha")
	require.ErrorIs(t, err, driver.ErrClosed, "the session is closed after a timeout")
}

// TestE2EClavisterRejections: outputs that clavister.md §8.9 says mean "rejected".
func TestE2EClavisterRejections(t *testing.T) {
	d := newDevice(t)
	texts := map[string]string{
		"ha -bogus":  "error: invalid option",
		"ha -deact":  "Failed to deactivate: peer not in sync",
		"ha -x":      "usage: ha [-activate|-deactivate]",
		"upgrade":    "unknown command 'upgrade'",
		"ifstat If1": "Interface If1\nPackets: 10, Invalid packets: 0",
	}
	for cmd, out := range texts {
		d.on(cmd, sshsim.Reply{Output: out})
	}
	s := open(t, d.cfg)
	for cmd, out := range texts {
		got, err := s.Send(ctxT(t), cmd)
		if cmd == "ifstat If1" {
			require.NoError(t, err, "a counter mid-line is not a rejection")
			assert.Equal(t, out, got)
			continue
		}
		var ce *driver.CommandError
		require.ErrorAs(t, err, &ce, cmd)
		assert.Equal(t, cmd, ce.Command)
		assert.Equal(t, out, ce.Output)
	}
}

// printings renders v every way a caller might print or log it.
func printings(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		fmt.Fprintf(&b, f+"\n", v)
	}
	fmt.Fprintln(&b, v)
	fmt.Fprintf(&b, "%+v\n", []any{v})
	fmt.Fprintf(&b, "%+v\n", struct{ V any }{v})
	j, err := json.Marshal(v)
	require.NoError(t, err)
	b.Write(j)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "v", v)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "v", v)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", slog.Any("v", v))
	b.WriteString(logs.String())
	return b.String()
}

func TestSecretsNeverPrinted(t *testing.T) {
	d := newDevice(t)
	cfg := d.cfg
	cfg.Passphrase = "Pass-phrase-never-shown"
	cfg.Transcript = driver.NewTranscript()
	out := printings(t, cfg)
	assert.NotContains(t, out, simPassword)
	assert.NotContains(t, out, cfg.Passphrase)
	assert.Contains(t, out, "********")
	assert.Contains(t, out, d.cfg.Host)
	out = printings(t, &cfg)
	assert.NotContains(t, out, simPassword)
	assert.NotContains(t, out, cfg.Passphrase)

	s := open(t, d.cfg)
	_, err := s.Interact(ctxT(t), []driver.Exchange{{Input: "passwd", Expect: `password:\s*$`}, {Input: "New-Secret-pw", Secret: true}})
	require.NoError(t, err)
	out = printings(t, s)
	assert.NotContains(t, out, simPassword)
	assert.NotContains(t, out, "New-Secret-pw")
	assert.Contains(t, out, s.Host())

	tr := driver.NewTranscript(simPassword)
	out = fmt.Sprintf("%v %+v %#v %s", tr, tr, tr, tr)
	assert.NotContains(t, out, simPassword)
}
