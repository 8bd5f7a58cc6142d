package drivertest_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/driver/drivertest"
)

const haActive = "This device is a HA MASTER\nThis device is currently ACTIVE (will forward traffic)\nHA cluster peer is ALIVE"

func TestScriptedSend(t *testing.T) {
	s := drivertest.NewScripted("10.0.0.1:22", map[string]drivertest.Reply{
		"ha":    {Output: haActive},
		"bogus": {Output: "Error: Unknown command", Fail: true},
		"drop":  {Err: &driver.DroppedError{Host: "10.0.0.1:22", Command: "drop", Err: io.EOF}},
	})
	var _ driver.Session = s
	ctx := t.Context()
	out, err := s.Send(ctx, "ha")
	require.NoError(t, err)
	assert.Equal(t, haActive, out)

	_, err = s.Send(ctx, "bogus")
	var ce *driver.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Error: Unknown command", ce.Output)
	assert.Equal(t, "10.0.0.1:22", ce.Host)

	_, err = s.Send(ctx, "drop")
	require.ErrorIs(t, err, driver.ErrDropped)

	_, err = s.Send(ctx, "unknown")
	require.ErrorIs(t, err, drivertest.ErrUnscripted)

	assert.Equal(t, []string{"ha", "bogus", "drop", "unknown"}, s.Commands())
	require.NoError(t, s.Close())
	assert.True(t, s.Closed())
	_, err = s.Send(ctx, "ha")
	require.ErrorIs(t, err, driver.ErrClosed)
}

func TestScriptedSequenceAndFunc(t *testing.T) {
	s := drivertest.NewScripted("h:22", nil)
	s.On("ha", drivertest.Reply{Output: "INACTIVE"}, drivertest.Reply{Output: "ACTIVE"})
	n := 0
	s.On("uptime", drivertest.Reply{Func: func(_ context.Context, cmd string) (string, error) {
		n++
		return cmd + " " + string(rune('0'+n)), nil
	}})
	ctx := t.Context()
	for _, want := range []string{"INACTIVE", "ACTIVE", "ACTIVE"} {
		out, err := s.Send(ctx, "ha")
		require.NoError(t, err)
		assert.Equal(t, want, out)
	}
	out, err := s.Send(ctx, "uptime")
	require.NoError(t, err)
	assert.Equal(t, "uptime 1", out)
}

func TestScriptedInteract(t *testing.T) {
	s := drivertest.NewScripted("h:22", map[string]drivertest.Reply{
		"ha -deactivate": {Prompts: []drivertest.Prompt{{Text: "Are you sure? [yes/no]: ", Answer: "yes"}}, Output: "Deactivated"},
		"passwd":         {Prompts: []drivertest.Prompt{{Text: "New password: ", Answer: "pw-Secret"}}, Output: "ok"},
	})
	ctx := t.Context()
	out, err := s.Interact(ctx, []driver.Exchange{{Input: "ha -deactivate", Expect: `\[yes/no\]:\s*$`}, {Input: "yes"}})
	require.NoError(t, err)
	assert.Equal(t, "Are you sure? [yes/no]: yes\nDeactivated", out)

	out, err = s.Interact(ctx, []driver.Exchange{{Input: "passwd", Expect: `password:\s*$`}, {Input: "pw-Secret", Secret: true}})
	require.NoError(t, err)
	assert.Equal(t, "New password: \nok", out)
	calls := s.Calls()
	require.Len(t, calls, 2)
	assert.Equal(t, "Interact", calls[1].Method)
	assert.Equal(t, "********", calls[1].Steps[1].Input, "secrets are not recorded")

	// Wrong answer, a pattern that does not match the prompt, a missing step; Send on a prompting command.
	_, err = s.Interact(ctx, []driver.Exchange{{Input: "ha -deactivate", Expect: `\[yes/no\]`}, {Input: "y"}})
	require.ErrorIs(t, err, drivertest.ErrUnscripted)
	_, err = s.Interact(ctx, []driver.Exchange{{Input: "ha -deactivate", Expect: `\[y/N\]`}, {Input: "yes"}})
	require.ErrorIs(t, err, drivertest.ErrUnscripted)
	_, err = s.Interact(ctx, []driver.Exchange{{Input: "ha -deactivate"}})
	require.ErrorIs(t, err, drivertest.ErrUnscripted)
	_, err = s.Send(ctx, "ha -deactivate")
	require.ErrorIs(t, err, drivertest.ErrUnscripted)
	_, err = s.Interact(ctx, nil)
	require.ErrorIs(t, err, driver.ErrInput)
}

func TestDropAfter(t *testing.T) {
	inner := drivertest.NewScripted("h:22", map[string]drivertest.Reply{"ha": {Output: "ok"}})
	s := drivertest.DropAfter(inner, 2)
	ctx := t.Context()
	for range 2 {
		_, err := s.Send(ctx, "ha")
		require.NoError(t, err)
	}
	_, err := s.Send(ctx, "ha")
	var de *driver.DroppedError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "ha", de.Command)
	assert.ErrorIs(t, err, io.EOF)
	assert.True(t, inner.Closed())
	_, err = s.Interact(ctx, []driver.Exchange{{Input: "ha"}})
	require.ErrorIs(t, err, driver.ErrDropped)
	assert.Equal(t, "h:22", s.Host())
}

func TestErrorText(t *testing.T) {
	inner := drivertest.NewScripted("h:22", map[string]drivertest.Reply{"ha": {Output: "ok"}, "stats": {Output: "Uptime: 1"}})
	s := drivertest.ErrorText(inner, "ha", "Error: HA not configured")
	_, err := s.Send(t.Context(), "ha")
	var ce *driver.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Error: HA not configured", ce.Output)
	out, err := s.Send(t.Context(), "stats")
	require.NoError(t, err)
	assert.Equal(t, "Uptime: 1", out)
	assert.Equal(t, []string{"stats"}, inner.Commands(), "the rejected command never reaches the inner session")
}

func TestHangInSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := drivertest.NewScripted("h:22", map[string]drivertest.Reply{"ha": {Output: "ok"}, "stats": {Output: "s"}})
		s := drivertest.Hang(inner, "ha")
		out, err := s.Send(t.Context(), "stats")
		require.NoError(t, err, "commands that do not hang are forwarded")
		assert.Equal(t, "s", out)

		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		_, err = s.Send(ctx, "ha")
		var ae *driver.AbortError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "ha", ae.Command)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 30*time.Second, time.Since(start))

		// Like the real driver, the session is closed after an abort.
		assert.True(t, inner.Closed())
		_, err = s.Send(t.Context(), "stats")
		require.ErrorIs(t, err, driver.ErrClosed)
		_, err = s.Send(t.Context(), "ha")
		require.ErrorIs(t, err, driver.ErrClosed, "no second hang on a closed session")
		assert.Equal(t, 30*time.Second, time.Since(start))

		// Cancellation too.
		inner2 := drivertest.NewScripted("h:22", nil)
		ctx2, cancel2 := context.WithCancel(t.Context())
		time.AfterFunc(5*time.Second, cancel2)
		_, err = drivertest.Hang(inner2).Interact(ctx2, []driver.Exchange{{Input: "stats"}})
		require.ErrorIs(t, err, driver.ErrAborted)
		require.ErrorIs(t, err, context.Canceled)
		assert.True(t, inner2.Closed())
	})
}

// TestHangHonoursTimeout: like driver.Config.Timeout, the hang's timeout ends a call whose
// ctx has no deadline, or a later one; the default is driver.DefaultOpTimeout.
func TestHangHonoursTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := drivertest.HangTimeout(drivertest.NewScripted("h:22", nil), 2*time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		_, err := s.Send(ctx, "ha")
		require.ErrorIs(t, err, driver.ErrAborted)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 2*time.Second, time.Since(start))
		assert.NoError(t, ctx.Err(), "ended by the timeout, not by ctx")

		start = time.Now()
		_, err = drivertest.Hang(drivertest.NewScripted("h:22", nil)).Send(t.Context(), "ha")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, driver.DefaultOpTimeout, time.Since(start))
	})
}

func TestScriptedWrongSecretAnswerNotInError(t *testing.T) {
	s := drivertest.NewScripted("h:22", map[string]drivertest.Reply{
		"passwd": {Prompts: []drivertest.Prompt{{Text: "New password: ", Answer: "Scripted-Secret-1"}}, Output: "ok"},
	})
	_, err := s.Interact(t.Context(), []driver.Exchange{{Input: "passwd", Expect: `password:\s*$`}, {Input: "Given-Secret-2", Secret: true}})
	require.ErrorIs(t, err, drivertest.ErrUnscripted)
	assert.NotContains(t, err.Error(), "Scripted-Secret-1")
	assert.NotContains(t, err.Error(), "Given-Secret-2")
	assert.Contains(t, err.Error(), "New password: ")
}

func TestSlowInSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := drivertest.NewScripted("h:22", map[string]drivertest.Reply{"ha": {Output: "ok"}})
		s := drivertest.Slow(inner, 2*time.Second)
		start := time.Now()
		out, err := s.Send(t.Context(), "ha")
		require.NoError(t, err)
		assert.Equal(t, "ok", out)
		assert.Equal(t, 2*time.Second, time.Since(start))

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err = s.Send(ctx, "ha")
		require.ErrorIs(t, err, driver.ErrAborted)
		assert.Equal(t, 3*time.Second, time.Since(start))
		assert.Len(t, inner.Commands(), 1, "an aborted slow call never reaches the inner session")
	})
}

func TestWrappersCompose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := drivertest.NewScripted("h:22", map[string]drivertest.Reply{"ha": {Output: "ok"}})
		s := drivertest.DropAfter(drivertest.Slow(inner, time.Second), 1)
		start := time.Now()
		_, err := s.Send(t.Context(), "ha")
		require.NoError(t, err)
		_, err = s.Send(t.Context(), "ha")
		require.True(t, errors.Is(err, driver.ErrDropped))
		assert.Equal(t, time.Second, time.Since(start))
	})
}
