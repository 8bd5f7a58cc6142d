package sshsim

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const (
	// maxAuthTries is the number of failed authentication attempts allowed per
	// connection, like OpenSSH's MaxAuthTries.
	maxAuthTries = 3
	// handshakeTimeout bounds the SSH handshake and authentication of one
	// connection so that a stuck client cannot hold a goroutine forever.
	handshakeTimeout = 30 * time.Second
	// relistenAttempts and relistenBackoff bound the retries when the address
	// is still in use while coming back from a reboot.
	relistenAttempts = 50
	relistenBackoff  = 20 * time.Millisecond
	// defaultServerVersion is the SSH identification string sent by default.
	defaultServerVersion = "SSH-2.0-sshsim"
)

// ErrClosed is returned by [Server.Start] after [Server.Close].
var ErrClosed = errors.New("sshsim: server closed")

// errAuth is the (deliberately uninformative) authentication failure.
var errAuth = errors.New("sshsim: permission denied")

// Handler answers one command line typed at the prompt of one session.
//
// Handlers of different sessions run concurrently; a handler must not block
// for ever (use [Session.Context] to stop waiting when the session is
// dropped) and must not call [Server.Close].
type Handler func(s *Session, line string) Reply

// Reply is what the simulated device prints for one command.
type Reply struct {
	// Output is printed after the echoed command, before the next prompt.
	// Lines are separated by "\n"; on a PTY the engine writes "\r\n". A
	// missing final newline is added.
	Output string
	// Ask, if not empty, is a question printed instead of the prompt, e.g.
	// "Are you sure you want to continue? [yes/no]: ". The next line typed is
	// passed to OnAnswer.
	Ask string
	// OnAnswer is called with the next line when Ask != "". Its Reply is
	// handled like a handler's (it may ask again). nil means an empty Reply.
	OnAnswer func(s *Session, answer string) Reply
	// HideAnswer turns off the echo while the answer to Ask is typed (for
	// password questions).
	HideAnswer bool
	// Disconnect closes the session after writing Output (e.g. "exit").
	Disconnect bool
	// ExitStatus is the exit status reported for an "exec" request (ignored
	// in an interactive shell, which always exits with 0).
	ExitStatus int
	// After is run after Output (and the prompt or question) has been written
	// and flushed, e.g. to start a reboot with [Server.Reboot]. With
	// Disconnect it runs after the session has been closed.
	After func()
}

// Upload is one file received by the SCP sink.
type Upload struct {
	// Target is the path given on the `scp -t` command line (unquoted).
	Target string
	// Name is the file name sent by the client in the "C" line.
	Name string
	// Mode holds the permission bits sent by the client.
	Mode os.FileMode
	// Data is the file content.
	Data []byte
}

// Config describes one simulated device.
type Config struct {
	// Hostname names the device in logs.
	Hostname string
	// Users maps user names to passwords (password authentication only). At
	// least one user is required.
	Users map[string]string
	// Banner is optional text sent after login, before the first prompt.
	Banner string
	// Prompt returns the current prompt text, e.g. "Device:/> ". It is called
	// afresh before every prompt, concurrently from several sessions.
	// Required unless SessionPrompt is set.
	Prompt func() string
	// SessionPrompt, if set, is used instead of Prompt and may depend on the
	// session (e.g. configuration mode kept with [Session.Set]).
	SessionPrompt func(s *Session) string
	// Handler answers command lines. Required.
	Handler Handler
	// SCPSink receives files uploaded with `scp -t` (exec request
	// "scp -t <target>"). If both SCPSink and SCPUpload are nil, scp is
	// refused. An error is reported to the client, which then fails.
	SCPSink func(name string, mode os.FileMode, data []byte) error
	// SCPUpload is like SCPSink but also gets the session and the target
	// path; it takes precedence over SCPSink.
	SCPUpload func(s *Session, u Upload) error
	// ServerVersion is the SSH identification string; it must start with
	// "SSH-2.0-". Empty means "SSH-2.0-sshsim".
	ServerVersion string
	// Logger receives the simulator's logs; nil discards them. Passwords and
	// answers to questions are never logged.
	Logger *slog.Logger
}

func (c *Config) validate() error {
	var errs []error
	if c.Handler == nil {
		errs = append(errs, errors.New("handler is required (Handler)"))
	}
	if c.Prompt == nil && c.SessionPrompt == nil {
		errs = append(errs, errors.New("prompt is required (Prompt or SessionPrompt)"))
	}
	if len(c.Users) == 0 {
		errs = append(errs, errors.New("at least one user is required"))
	}
	for u := range c.Users {
		if u == "" {
			errs = append(errs, errors.New("empty user name"))
		}
	}
	if c.ServerVersion != "" && !strings.HasPrefix(c.ServerVersion, "SSH-2.0-") {
		errs = append(errs, fmt.Errorf("ServerVersion %q does not start with SSH-2.0-", c.ServerVersion))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sshsim: invalid config: %w", err)
	}
	return nil
}

// Server is a simulated SSH device listening on 127.0.0.1.
// All methods are safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	signer ssh.Signer
	sshCfg *ssh.ServerConfig

	mu       sync.Mutex
	started  bool
	closed   bool
	ln       net.Listener
	addr     string
	down     bool
	gen      uint64      // bumped by every Reboot; stale timers compare it
	timer    *time.Timer // pending "back" or re-listen retry while down
	onBack   []func()
	conns    map[*conn]struct{}
	sessions map[*Session]struct{}
	nextID   int

	wg sync.WaitGroup // every goroutine and pending timer callback
}

// conn is one accepted TCP connection.
type conn struct {
	nc     net.Conn
	ctx    context.Context
	cancel context.CancelFunc
}

// New returns a server for cfg with a freshly generated ed25519 host key. It
// does not listen yet; see [Server.Start].
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	users := make(map[string]string, len(cfg.Users))
	for u, p := range cfg.Users {
		users[u] = p
	}
	cfg.Users = users
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = defaultServerVersion
	}

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sshsim: generate host key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("sshsim: host key signer: %w", err)
	}

	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		log:      logger.With("sim", cfg.Hostname),
		signer:   signer,
		conns:    make(map[*conn]struct{}),
		sessions: make(map[*Session]struct{}),
	}
	s.sshCfg = &ssh.ServerConfig{
		MaxAuthTries:     maxAuthTries,
		ServerVersion:    cfg.ServerVersion,
		PasswordCallback: s.checkPassword,
		KeyboardInteractiveCallback: func(meta ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := ask(meta.User(), "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(answers) != 1 {
				return nil, errAuth
			}
			return s.checkPassword(meta, []byte(answers[0]))
		},
	}
	s.sshCfg.AddHostKey(signer)
	return s, nil
}

func (s *Server) checkPassword(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	want, ok := s.cfg.Users[meta.User()]
	if !ok {
		// Compare anyway so that unknown users take the same time.
		want = "\x00unknown user"
	}
	if subtle.ConstantTimeCompare([]byte(want), password) == 1 && ok {
		return &ssh.Permissions{}, nil
	}
	s.log.Info("authentication failed", "user", meta.User(), "remote", meta.RemoteAddr().String())
	return nil, errAuth
}

// Start listens on 127.0.0.1 on a free port and serves connections in the
// background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.started {
		return errors.New("sshsim: already started")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sshsim: listen: %w", err)
	}
	s.started = true
	s.ln = ln
	s.addr = ln.Addr().String()
	s.wg.Go(func() { s.acceptLoop(ln) })
	s.log.Info("listening", "addr", s.addr)
	return nil
}

// Addr returns "127.0.0.1:port", or "" before [Server.Start]. It stays the
// same across reboots.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// HostKey returns the server's public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.signer.PublicKey() }

// KnownHostsLine returns a known_hosts line (without newline) binding
// [Server.Addr] to the host key, or "" before [Server.Start].
func (s *Server) KnownHostsLine() string {
	addr := s.Addr()
	if addr == "" {
		return ""
	}
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, s.HostKey())
}

// WriteKnownHosts appends [Server.KnownHostsLine] to the file at path,
// creating it with mode 0600 if needed.
func (s *Server) WriteKnownHosts(path string) (err error) {
	line := s.KnownHostsLine()
	if line == "" {
		return errors.New("sshsim: WriteKnownHosts before Start")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sshsim: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sshsim: %w", cerr)
		}
	}()
	if _, err := f.WriteString(line + "\n"); err != nil {
		return fmt.Errorf("sshsim: %w", err)
	}
	return nil
}

// Sessions returns the number of SSH session channels open now.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Connections returns the number of TCP connections open now (accepted and not yet closed
// by either side), whether or not they completed the SSH handshake or have a session open.
// A client that closed its sessions but not its connection still counts.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Down reports whether the server is rebooting (refusing connections).
func (s *Server) Down() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// DropSessions abruptly closes every open connection (like a network cut)
// without going down; new connections are accepted as usual.
func (s *Server) DropSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked()
}

// Reboot simulates a device reboot: it drops every open connection now,
// refuses new TCP connections (the listening socket is closed) for down, then
// calls onBack (if not nil; e.g. to switch to the new version) and serves
// again on the same address with the same host key. It returns at once.
//
// Reboot while already down restarts the down period from now with the new
// duration; every onBack given is called, in order, when the server comes
// back. Reboot before Start or after Close does nothing. onBack runs on a
// timer goroutine while the server is still down; it must not call Close.
func (s *Server) Reboot(down time.Duration, onBack func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.started {
		return
	}
	if onBack != nil {
		s.onBack = append(s.onBack, onBack)
	}
	if s.down {
		s.stopTimerLocked()
		s.log.Info("reboot again while down", "down", down)
	} else {
		s.down = true
		if s.ln != nil {
			if err := s.ln.Close(); err != nil {
				s.log.Warn("close listener", "err", err)
			}
			s.ln = nil
		}
		s.log.Info("rebooting", "down", down, "sessions", len(s.sessions))
	}
	s.dropLocked()
	s.gen++
	gen := s.gen
	s.wg.Add(1)
	s.timer = time.AfterFunc(down, func() {
		defer s.wg.Done()
		s.back(gen)
	})
}

// back ends the down period started by the Reboot with generation gen.
func (s *Server) back(gen uint64) {
	s.mu.Lock()
	if s.closed || gen != s.gen {
		s.mu.Unlock()
		return
	}
	s.timer = nil
	fns := s.onBack
	s.onBack = nil
	s.mu.Unlock()

	for _, f := range fns {
		f()
	}
	s.relisten(gen, 1)
}

// relisten listens again on the same address, retrying on EADDRINUSE.
func (s *Server) relisten(gen uint64, attempt int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || gen != s.gen {
		return
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) && attempt < relistenAttempts {
			s.log.Warn("re-listen failed, retrying", "attempt", attempt, "err", err)
			s.wg.Add(1)
			s.timer = time.AfterFunc(relistenBackoff, func() {
				defer s.wg.Done()
				s.relisten(gen, attempt+1)
			})
			return
		}
		s.log.Error("cannot listen again after reboot; staying down", "addr", s.addr, "err", err)
		return
	}
	s.ln = ln
	s.down = false
	s.wg.Go(func() { s.acceptLoop(ln) })
	s.log.Info("back after reboot", "addr", s.addr)
}

// stopTimerLocked cancels the pending timer, if any; s.mu must be held.
func (s *Server) stopTimerLocked() {
	if s.timer != nil && s.timer.Stop() {
		s.wg.Done() // its callback will never run
	}
	s.timer = nil
}

// dropLocked closes every connection; s.mu must be held.
func (s *Server) dropLocked() {
	for c := range s.conns {
		c.cancel()
		_ = c.nc.Close()
	}
}

// Close stops the server: it stops listening, drops every connection, cancels
// a pending reboot and waits for all its goroutines (including running
// handlers and After functions) to finish. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	s.stopTimerLocked()
	s.onBack = nil
	var err error
	if s.ln != nil {
		err = s.ln.Close()
		s.ln = nil
	}
	s.dropLocked()
	s.mu.Unlock()

	s.wg.Wait()
	s.log.Info("closed")
	if err != nil {
		return fmt.Errorf("sshsim: close: %w", err)
	}
	return nil
}

func (s *Server) acceptLoop(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error("accept failed; listener stops", "err", err)
			}
			return
		}
		s.mu.Lock()
		if s.closed || s.down || s.ln != ln {
			s.mu.Unlock()
			_ = nc.Close()
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		c := &conn{nc: nc, ctx: ctx, cancel: cancel}
		s.conns[c] = struct{}{}
		s.wg.Go(func() { s.handleConn(c) })
		s.mu.Unlock()
	}
}

func (s *Server) handleConn(c *conn) {
	defer func() {
		c.cancel()
		_ = c.nc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	remote := c.nc.RemoteAddr().String()

	_ = c.nc.SetDeadline(time.Now().Add(handshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(c.nc, s.sshCfg)
	if err != nil {
		s.log.Debug("handshake failed", "remote", remote, "err", err)
		return
	}
	_ = c.nc.SetDeadline(time.Time{})
	s.log.Debug("login", "user", sc.User(), "remote", remote)

	s.wg.Go(func() { ssh.DiscardRequests(reqs) })
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			s.log.Debug("accept channel", "err", err)
			continue
		}
		sess := s.newSession(c, sc, ch)
		s.wg.Go(func() { sess.serve(creqs) })
	}
	_ = sc.Close()
	s.log.Debug("connection closed", "user", sc.User(), "remote", remote)
}

func (s *Server) newSession(c *conn, sc *ssh.ServerConn, ch ssh.Channel) *Session {
	ctx, cancel := context.WithCancel(c.ctx)
	sess := &Session{
		srv:    s,
		conn:   c,
		user:   sc.User(),
		remote: sc.RemoteAddr(),
		ch:     ch,
		ctx:    ctx,
		cancel: cancel,
		env:    make(map[string]string),
		values: make(map[string]any),
	}
	s.mu.Lock()
	s.nextID++
	sess.id = s.nextID
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
	return sess
}

func (s *Server) endSession(sess *Session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// prompt returns the prompt for sess.
func (s *Server) prompt(sess *Session) string {
	if s.cfg.SessionPrompt != nil {
		return s.cfg.SessionPrompt(sess)
	}
	return s.cfg.Prompt()
}
