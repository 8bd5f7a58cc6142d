package junostest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/junos/junostest"
	"github.com/hitless/hitless/upgrade"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// fastOptions are millisecond durations for tests.
func fastOptions() junostest.Options {
	return junostest.Options{
		RebootDelay:    20 * time.Millisecond,
		RebootDuration: 150 * time.Millisecond,
		FailoverGap:    60 * time.Millisecond,
		HoldDown:       250 * time.Millisecond,
		ColdSync:       80 * time.Millisecond,
		ProbeEvery:     2 * time.Millisecond,
	}
}

// startSim starts a cluster and closes it at cleanup.
func startSim(t *testing.T, o junostest.Options) *junostest.Sim {
	t.Helper()
	sim, err := junostest.Start(o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sim.Close()) })
	return sim
}

// platform is the embedded juniper_junos definition.
func platform(t testing.TB) *driver.Platform {
	t.Helper()
	p, err := driver.LoadPlatform("juniper_junos")
	require.NoError(t, err)
	return p
}

// configFor is a driver.Config for node n of sim (host keys verified against
// the simulator's known_hosts file).
func configFor(t testing.TB, sim *junostest.Sim, n *junostest.Node) driver.Config {
	return driver.Config{
		Host:           n.Host(),
		Port:           n.Port(),
		Username:       sim.Username(),
		Password:       sim.Password(),
		KnownHostsFile: sim.KnownHostsFile(),
		Platform:       platform(t),
		Timeout:        waitTimeout,
		DialTimeout:    waitTimeout,
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// open opens a driver session to n, closed at cleanup.
func open(t testing.TB, sim *junostest.Sim, n *junostest.Node) driver.Session {
	t.Helper()
	s, err := driver.Open(ctxT(t), configFor(t, sim, n))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// send runs cmd and requires success.
func send(t testing.TB, s driver.Session, cmd string) string {
	t.Helper()
	out, err := s.Send(ctxT(t), cmd)
	require.NoError(t, err, cmd)
	return out
}

// rejected runs cmd and requires a *driver.CommandError; it returns the
// device's output.
func rejected(t testing.TB, s driver.Session, cmd string) string {
	t.Helper()
	_, err := s.Send(ctxT(t), cmd)
	var ce *driver.CommandError
	require.ErrorAs(t, err, &ce, cmd)
	return ce.Output
}

// waitFor waits for cond on the simulator's change notifications.
func waitFor(t testing.TB, sim *junostest.Sim, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, sim.WaitFor(ctx, cond), "waiting for %s", what)
}

// reconnect redials n (after a reboot) with a short backoff.
func reconnect(t testing.TB, sim *junostest.Sim, n *junostest.Node) driver.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	s, err := driver.WaitReachable(ctx, configFor(t, sim, n), driver.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// poll polls check in real time with upgrade.PollUntil (bounded deadline).
func poll(t testing.TB, what string, check func(ctx context.Context) error) {
	t.Helper()
	err := upgrade.PollUntil(ctxT(t), what, upgrade.Timing{Interval: 5 * time.Millisecond, Deadline: waitTimeout}, check, nil)
	require.NoError(t, err)
}

// errNotYet is a poll's "condition not reached yet".
var errNotYet = errors.New("not yet")
