package driver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scrapli/scrapligo/channel"
	"github.com/scrapli/scrapligo/driver/generic"
	"github.com/scrapli/scrapligo/driver/opoptions"
	"github.com/scrapli/scrapligo/driver/options"
	"github.com/scrapli/scrapligo/transport"
	"github.com/scrapli/scrapligo/util"
)

const (
	// closeWait bounds how long Close and aborts wait for scrapligo to tear the transport down
	// (it can block on a dead connection).
	closeWait = 3 * time.Second
	// opGrace is added to scrapligo's own operation timeout so that the ctx deadline, which
	// gives the precise error, always fires first.
	opGrace = time.Second
)

// Open connects to cfg's device with scrapligo's generic driver over hitless's x/crypto/ssh
// transport (transport.go), verifies the host key against cfg.KnownHostsFile, logs in, waits
// for the platform prompt and sends the platform's on-open commands.
//
// ctx bounds the whole open (as does cfg.DialTimeout / the platform dial timeout, whichever is
// sooner): TCP connect, SSH handshake, login, shell and first prompt, so a unit that accepts
// TCP but never speaks SSH cannot hold it. Cancelling ctx abandons the attempt; nothing stays
// open or running afterwards (a connection that completes late is closed). Errors: the joined *ConfigError values of
// Validate; *HostKeyError (unknown or changed key; never retried); *AuthError; *UnreachableError
// (refused, timeout, closed during handshake, no prompt); *CommandError or *DroppedError from an
// on-open command; ctx.Err() wrapped if ctx was cancelled.
//
// scrapligo v1 notes: privilege levels are not used (the generic driver never escalates, so
// scrapligo's retry of a wrong escalation password cannot happen); its driver is not safe for
// concurrent use, which the returned Session handles with a mutex.
func Open(ctx context.Context, cfg Config) (Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	plat, err := cfg.platform()
	if err != nil {
		return nil, err
	}
	addr := cfg.addr()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("driver: %s: open: %w", addr, err)
	}
	dialTimeout := cfg.dialTimeout(plat)
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if dl, ok := dctx.Deadline(); ok {
		dialTimeout = time.Until(dl)
	}

	d, _, err := newScrapliDriver(dctx, cfg, plat, dialTimeout)
	if err != nil {
		return nil, err
	}
	s := &sshSession{
		addr:      addr,
		plat:      plat,
		d:         d,
		log:       cfg.logger().With("host", addr),
		tr:        cfg.Transcript,
		opTimeout: cfg.opTimeout(plat),
		secrets:   sortedSecrets(cfg.secrets()),
		killed:    make(chan struct{}),
	}
	if s.tr != nil {
		s.tr.AddSecrets(cfg.secrets()...)
	}

	// scrapligo's Open has no context, but our transport's Open is bounded by dctx (connect,
	// handshake, login, shell), so the goroutine ends soon after dctx does. Run it aside and
	// stop waiting when ctx ends; whatever it opened late is closed.
	done := make(chan error, 1)
	go func() { done <- d.Open() }()
	select {
	case err = <-done:
	case <-dctx.Done():
		go func() {
			if <-done == nil {
				_ = d.Close()
			}
		}()
		if ctx.Err() == context.Canceled {
			return nil, fmt.Errorf("driver: %s: open: %w", addr, ctx.Err())
		}
		return nil, &UnreachableError{Host: addr, Err: fmt.Errorf("connect and login within %s: %w",
			dialTimeout.Round(time.Millisecond), context.DeadlineExceeded)}
	}
	if err != nil {
		return nil, classifyOpenErr(cfg, err, nil)
	}

	// Wait for the first prompt (after any banner), so the session is in a known state.
	if _, err := d.Channel.ReadUntilPrompt(dctx); err != nil {
		s.kill()
		switch {
		case ctx.Err() == context.Canceled:
			return nil, fmt.Errorf("driver: %s: open: %w", addr, ctx.Err())
		case dctx.Err() != nil:
			return nil, &UnreachableError{Host: addr, Err: fmt.Errorf(
				"no prompt matching platform %q pattern %s within %s: %w", plat.Name, plat.Prompt,
				dialTimeout.Round(time.Millisecond), context.DeadlineExceeded)}
		default:
			return nil, &UnreachableError{Host: addr, Err: fmt.Errorf("connection closed before the prompt: %w", err)}
		}
	}
	for _, c := range plat.OnOpen {
		if _, err := s.Send(ctx, c); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	s.log.Debug("driver: session open", "platform", plat.Name)
	return s, nil
}

// newScrapliDriver builds (without opening) a scrapligo generic driver for cfg, on an
// sshTransport (see transport.go) whose Open is bounded by ctx: connect, handshake, login and
// shell. Host keys are verified by dialSSH against cfg.KnownHostsFile.
func newScrapliDriver(ctx context.Context, cfg Config, plat *Platform, dialTimeout time.Duration) (*generic.Driver, *sshTransport, error) {
	if cfg.PrivateKeyPath != "" {
		// Fail early (and typed) on an unreadable key or a wrong passphrase.
		if _, _, err := privateKeySigner(cfg); err != nil {
			return nil, nil, err
		}
	}
	host := cfg.Host
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + host + "]" // scrapligo joins host and port with "%s:%d"
	}
	tr := &sshTransport{cfg: cfg, timeout: dialTimeout, ctx: ctx}
	opts := []util.Option{
		options.WithTransportType(transport.StandardTransport),
		options.WithCustomTransport(tr),
		options.WithPort(cfg.port()),
		options.WithAuthUsername(cfg.Username),
		options.WithTimeoutSocket(dialTimeout),
		options.WithTimeoutOps(cfg.opTimeout(plat) + opGrace),
		options.WithPromptPattern(plat.Prompt),
		options.WithTermWidth(plat.TermWidth),
	}
	d, err := generic.NewDriver(host, opts...)
	if err != nil {
		return nil, nil, &ConfigError{Field: "Platform", Problem: fmt.Sprintf("scrapligo: %v", err)}
	}
	// Defence in depth: only our transport (which always verifies host keys) may be used.
	if got, ok := d.Transport.Impl.(*sshTransport); !ok || got != tr {
		return nil, nil, &ConfigError{Field: "KnownHostsFile", Problem: "scrapligo did not take hitless's SSH transport; refusing to connect"}
	}
	return d, tr, nil
}

// sshSession is the Session returned by Open.
type sshSession struct {
	addr      string
	plat      *Platform
	d         *generic.Driver
	log       *slog.Logger
	tr        *Transcript
	opTimeout time.Duration

	mu sync.Mutex // serialises calls: a scrapligo driver is not safe for concurrent use

	stateMu sync.Mutex
	broken  error    // non-nil once the session is unusable (closed, dropped, aborted)
	secrets []string // redacted everywhere, longest first

	killOnce sync.Once
	killed   chan struct{} // closed once the transport teardown finished
}

func (s *sshSession) Host() string { return s.addr }

// String describes the session without its secrets.
func (s *sshSession) String() string {
	return fmt.Sprintf("driver.Session{Host:%q Platform:%q}", s.addr, s.plat.Name)
}

// GoString is String.
func (s *sshSession) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb prints String, never the secrets the session
// keeps for redaction.
func (s *sshSession) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.String()) }

// LogValue implements slog.LogValuer.
func (s *sshSession) LogValue() slog.Value {
	return slog.GroupValue(slog.String("host", s.addr), slog.String("platform", s.plat.Name))
}

// MarshalJSON encodes the session as its host and platform.
func (s *sshSession) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Host     string `json:"host"`
		Platform string `json:"platform"`
	}{s.addr, s.plat.Name})
}

// Send implements Session.
func (s *sshSession) Send(ctx context.Context, command string) (string, error) {
	shown := s.redact(command)
	if strings.ContainsAny(command, "\r\n") {
		return "", fmt.Errorf("driver: %s: command %q contains a line break: %w", s.addr, shown, ErrInput)
	}
	return s.do(ctx, shown, nil, func(timeout time.Duration) (string, error) {
		r, err := s.d.SendCommand(command, opoptions.WithTimeoutOps(timeout))
		if err != nil {
			return "", err
		}
		return r.Result, nil
	})
}

// Interact implements Session.
func (s *sshSession) Interact(ctx context.Context, steps []Exchange) (string, error) {
	if len(steps) == 0 {
		return "", fmt.Errorf("driver: %s: interact: no steps: %w", s.addr, ErrInput)
	}
	var newSecrets []string
	for _, st := range steps {
		if st.Secret && st.Input != "" {
			newSecrets = append(newSecrets, st.Input)
		}
	}
	if len(newSecrets) > 0 {
		s.addSecrets(newSecrets...)
	}
	shown := s.redactStep(steps[0])
	var inputs []string
	events := make([]*channel.SendInteractiveEvent, len(steps))
	for i, st := range steps {
		if i > 0 {
			inputs = append(inputs, s.redactStep(st))
		}
		if strings.ContainsAny(st.Input, "\r\n") {
			return "", fmt.Errorf("driver: %s: interact step %d input contains a line break: %w", s.addr, i, ErrInput)
		}
		if st.Expect != "" {
			re, err := regexp.Compile(st.Expect)
			if err != nil {
				return "", fmt.Errorf("driver: %s: interact step %d expect %q: %v: %w", s.addr, i, st.Expect, err, ErrInput)
			}
			if re.MatchString("") {
				return "", fmt.Errorf("driver: %s: interact step %d expect %q matches nothing at all: %w", s.addr, i, st.Expect, ErrInput)
			}
		}
		events[i] = &channel.SendInteractiveEvent{ChannelInput: st.Input, ChannelResponse: st.Expect, HideInput: st.Secret}
	}
	first := steps[0].Input
	return s.do(ctx, shown, inputs, func(timeout time.Duration) (string, error) {
		r, err := s.d.SendInteractive(events, opoptions.WithTimeoutOps(timeout))
		if err != nil {
			return "", err
		}
		out := strings.TrimPrefix(r.Result, first)
		if len(out) < len(r.Result) {
			out = strings.TrimPrefix(out, "\n")
		}
		return trimFinalPrompt(out, s.plat.Prompt), nil
	})
}

// trimFinalPrompt removes a prompt at the very end of out and surrounding line breaks.
func trimFinalPrompt(out string, prompt *regexp.Regexp) string {
	locs := prompt.FindAllStringIndex(out, -1)
	if n := len(locs); n > 0 && strings.TrimSpace(out[locs[n-1][1]:]) == "" {
		out = out[:locs[n-1][0]]
	}
	return strings.Trim(out, "\n")
}

// do runs one call: serialisation, context bridging, error typing, redaction, transcript.
func (s *sshSession) do(ctx context.Context, shown string, inputs []string, fn func(timeout time.Duration) (string, error)) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.unusable(shown); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("driver: %s: %q not sent: %w", s.addr, shown, err)
	}
	// The call is bounded by the sooner of ctx's deadline and the per-call timeout
	// (Config.Timeout or the platform's): a long ctx deadline does not lift the latter.
	timeout := s.opTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	start := time.Now()
	type result struct {
		out string
		err error
	}
	res := make(chan result, 1)
	go func() {
		out, err := fn(timeout + opGrace)
		res <- result{out, err}
	}()
	var out string
	var err error
	select {
	case r := <-res:
		out, err = r.out, r.err
		if err != nil {
			if errors.Is(err, util.ErrTimeoutError) {
				err = &AbortError{Host: s.addr, Command: shown, Err: context.DeadlineExceeded}
				s.setBroken(fmt.Errorf("driver: %s: closed after %q timed out: %w", s.addr, shown, ErrClosed))
			} else if prior := s.unusable(shown); prior != nil && errors.Is(prior, ErrClosed) {
				// Close was called while the command was in flight.
				err = fmt.Errorf("driver: %s: %q interrupted by Close: %w", s.addr, shown, ErrClosed)
			} else {
				err = &DroppedError{Host: s.addr, Command: shown, Err: err}
				s.setBroken(err)
			}
			s.kill()
		}
	case <-ctx.Done():
		// scrapligo has no context: closing the channel makes the in-flight call return.
		err = &AbortError{Host: s.addr, Command: shown, Err: ctx.Err()}
		s.setBroken(fmt.Errorf("driver: %s: closed after %q was aborted (%v): %w", s.addr, shown, ctx.Err(), ErrClosed))
		s.kill()
		timer := time.NewTimer(closeWait)
		select {
		case <-res:
		case <-timer.C:
		}
		timer.Stop()
	}
	if err == nil {
		out = s.redact(out)
		if m := s.plat.rejection(out); m != "" {
			err = &CommandError{Host: s.addr, Command: shown, Output: out, Match: m}
		}
	}
	elapsed := time.Since(start)
	errText := ""
	if err != nil {
		errText = s.redact(err.Error())
	}
	if s.tr != nil {
		s.tr.Record(Entry{Host: s.addr, Command: shown, Inputs: inputs, Output: out,
			Start: start, Duration: elapsed, Error: errText})
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelDebug, "driver: command",
			slog.String("command", shown), slog.Duration("duration", elapsed),
			slog.Int("output_bytes", len(out)), slog.String("error", errText))
	}
	if err != nil {
		return "", err
	}
	return out, nil
}

// unusable returns the error to report for a call on a session that can no longer be used.
func (s *sshSession) unusable(shown string) error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if s.broken == nil {
		return nil
	}
	var de *DroppedError
	if errors.As(s.broken, &de) {
		return &DroppedError{Host: s.addr, Command: shown, Err: fmt.Errorf("earlier drop: %w", de.Err)}
	}
	return s.broken
}

func (s *sshSession) setBroken(err error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if s.broken == nil {
		s.broken = err
	}
}

// kill tears the scrapligo channel and transport down in the background, once.
func (s *sshSession) kill() {
	s.killOnce.Do(func() {
		go func() {
			defer close(s.killed)
			_ = s.d.Channel.Close()
		}()
	})
}

// Close implements Session. It sends the platform's on-close commands (best effort, only if
// no call is in flight and the session is healthy), then closes the transport, waiting at most
// a few seconds.
func (s *sshSession) Close() error {
	healthy := s.unusable("") == nil
	if healthy && len(s.plat.OnClose) > 0 && s.mu.TryLock() {
		for _, c := range s.plat.OnClose {
			_, _ = s.d.Channel.SendInput(c, opoptions.WithTimeoutOps(closeWait))
		}
		s.mu.Unlock()
	}
	s.setBroken(fmt.Errorf("driver: %s: %w", s.addr, ErrClosed))
	s.kill()
	timer := time.NewTimer(closeWait)
	defer timer.Stop()
	select {
	case <-s.killed:
	case <-timer.C:
		s.log.Debug("driver: transport close still pending; abandoned", "wait", closeWait)
	}
	return nil
}

func (s *sshSession) addSecrets(secrets ...string) {
	s.stateMu.Lock()
	s.secrets = sortedSecrets(append(s.secrets, secrets...))
	s.stateMu.Unlock()
	if s.tr != nil {
		s.tr.AddSecrets(secrets...)
	}
}

func (s *sshSession) redact(text string) string {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return redact(text, s.secrets)
}

func (s *sshSession) redactStep(st Exchange) string {
	if st.Secret {
		return redactedText
	}
	return s.redact(st.Input)
}

// sortedSecrets deduplicates, drops empty strings and sorts longest first.
func sortedSecrets(in []string) []string {
	var out []string
	for _, v := range in {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}
