package sshsim

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Session is one SSH session channel (an interactive shell or one exec
// request) of one logged-in user. Vendor simulators keep per-session state
// (e.g. the current CLI context) with [Session.Set] and [Session.Get].
// Its methods are safe for concurrent use.
type Session struct {
	srv    *Server
	conn   *conn
	id     int
	user   string
	remote net.Addr
	ch     ssh.Channel
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	values map[string]any
	env    map[string]string
	term   string
	cols   int
	rows   int
	pty    bool

	// Owned by the worker goroutine (shell or exec).
	pending    func(s *Session, answer string) Reply
	hideAnswer bool
}

// User returns the name the session's user logged in with.
func (s *Session) User() string { return s.user }

// ID returns the session's number, unique within its server (from 1).
func (s *Session) ID() int { return s.id }

// Server returns the server the session belongs to.
func (s *Session) Server() *Server { return s.srv }

// RemoteAddr returns the client's address.
func (s *Session) RemoteAddr() net.Addr { return s.remote }

// Context is cancelled when the session ends, its connection drops, or the
// server reboots or closes. Handlers that wait (slow responses) should select
// on it.
func (s *Session) Context() context.Context { return s.ctx }

// Get returns the value stored under key, or nil.
func (s *Session) Get(key string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[key]
}

// Set stores a vendor-specific value for this session (nil deletes it).
func (s *Session) Set(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v == nil {
		delete(s.values, key)
		return
	}
	s.values[key] = v
}

// Env returns the value of an environment variable sent by the client with
// an "env" request, or "".
func (s *Session) Env(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.env[name]
}

// Term returns the terminal type of the PTY request ("" without a PTY).
func (s *Session) Term() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term
}

// WindowSize returns the terminal size in characters from the latest
// "pty-req" or "window-change" request (0, 0 without a PTY).
func (s *Session) WindowSize() (cols, rows int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cols, s.rows
}

// Drop abruptly closes the session's TCP connection (with every session on
// it), as a network fault would. Output not yet written is lost.
func (s *Session) Drop() {
	s.conn.cancel()
	_ = s.conn.nc.Close()
}

func (s *Session) hasPTY() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pty
}

// serve handles the channel's requests until the client closes it or the
// connection drops, then waits for the worker (shell or exec).
func (s *Session) serve(reqs <-chan *ssh.Request) {
	var workerDone chan struct{}
	defer func() {
		s.cancel()
		if workerDone != nil {
			<-workerDone
		}
		_ = s.ch.Close()
		s.srv.endSession(s)
	}()
	for req := range reqs {
		ok := false
		var start func()
		switch req.Type {
		case "pty-req":
			var p struct {
				Term          string
				Cols, Rows    uint32
				Width, Height uint32
				Modes         string
			}
			if ssh.Unmarshal(req.Payload, &p) == nil {
				s.mu.Lock()
				s.pty, s.term, s.cols, s.rows = true, p.Term, int(p.Cols), int(p.Rows)
				s.mu.Unlock()
				ok = true
			}
		case "window-change":
			var p struct{ Cols, Rows, Width, Height uint32 }
			if ssh.Unmarshal(req.Payload, &p) == nil {
				s.mu.Lock()
				s.cols, s.rows = int(p.Cols), int(p.Rows)
				s.mu.Unlock()
				ok = true
			}
		case "env":
			var p struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &p) == nil {
				s.mu.Lock()
				s.env[p.Name] = p.Value
				s.mu.Unlock()
				ok = true
			}
		case "shell", "exec":
			if workerDone != nil {
				break // one program per session
			}
			if req.Type == "shell" {
				start = s.runShell
			} else {
				var p struct{ Command string }
				if ssh.Unmarshal(req.Payload, &p) != nil {
					break
				}
				start = func() { s.runExec(p.Command) }
			}
			ok = true
		}
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
		if start != nil {
			// Only after the reply: a quick exec may close the channel.
			workerDone = make(chan struct{})
			done := workerDone
			s.srv.wg.Go(func() {
				defer close(done)
				start()
			})
		}
	}
}

func (s *Session) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := s.ch.Write(b)
	return err
}

func (s *Session) exit(status int) {
	_, _ = s.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
	_ = s.ch.Close()
}

// runShell is the interactive CLI: echo, line editing, prompt, handler.
func (s *Session) runShell() {
	defer func() { _ = s.ch.Close() }()
	s.srv.log.Debug("shell started", "session", s.id, "user", s.user)
	var out []byte
	if b := s.srv.cfg.Banner; b != "" {
		out = appendOutput(out, b, true)
	}
	out = append(out, crlf(s.srv.prompt(s))...)
	if s.write(out) != nil {
		return
	}

	var ed lineEditor
	buf := make([]byte, 4096)
	for {
		n, err := s.ch.Read(buf)
		if n > 0 && !s.feed(&ed, buf[:n]) {
			return
		}
		if err != nil {
			return
		}
	}
}

// feed processes typed bytes; it returns false when the session is over.
func (s *Session) feed(ed *lineEditor, data []byte) bool {
	var echo []byte
	for _, c := range data {
		ed.echo = !(s.pending != nil && s.hideAnswer)
		var ev editorEvent
		echo, ev = ed.feed(echo, c)
		switch ev {
		case evInterrupt:
			s.pending = nil
			echo = append(echo, crlf(s.srv.prompt(s))...)
		case evLine:
			line := ed.take()
			echo = append(echo, '\r', '\n')
			if s.write(echo) != nil {
				return false
			}
			echo = echo[:0]
			if !s.dispatch(line) {
				return false
			}
		}
	}
	return s.write(echo) == nil
}

// dispatch answers one complete line; it returns false when the session is
// over.
func (s *Session) dispatch(line string) bool {
	var r Reply
	switch {
	case s.pending != nil:
		f := s.pending
		s.pending = nil
		r = f(s, line)
	case strings.TrimSpace(line) == "":
		return s.write(crlf(s.srv.prompt(s))) == nil
	default:
		s.srv.log.Debug("command", "session", s.id, "line", line)
		r = s.srv.cfg.Handler(s, line)
	}

	out := appendOutput(nil, r.Output, true)
	if r.Disconnect {
		_ = s.write(out)
		s.exit(0)
		s.srv.log.Debug("session disconnected by device", "session", s.id)
		if r.After != nil {
			r.After()
		}
		return false
	}
	if r.Ask != "" {
		out = append(out, crlf(r.Ask)...)
		s.hideAnswer = r.HideAnswer
		s.pending = r.OnAnswer
		if s.pending == nil {
			s.pending = func(*Session, string) Reply { return Reply{} }
		}
	} else {
		out = append(out, crlf(s.srv.prompt(s))...)
	}
	err := s.write(out)
	if r.After != nil {
		r.After()
	}
	return err == nil
}

// runExec answers one "exec" request.
func (s *Session) runExec(cmd string) {
	s.srv.log.Debug("exec", "session", s.id, "user", s.user, "command", cmd)
	if args, ok := parseSCP(cmd); ok {
		s.exit(s.runSCP(args))
		return
	}
	pty := s.hasPTY()
	in := bufio.NewReader(s.ch)
	r := s.srv.cfg.Handler(s, cmd)
	for {
		out := appendOutput(nil, r.Output, pty)
		if r.Ask == "" || r.Disconnect {
			_ = s.write(out)
			s.exit(r.ExitStatus)
			if r.After != nil {
				r.After()
			}
			return
		}
		if pty {
			out = append(out, crlf(r.Ask)...)
		} else {
			out = append(out, r.Ask...)
		}
		err := s.write(out)
		if r.After != nil {
			r.After()
		}
		if err != nil {
			return
		}
		answer, err := in.ReadString('\n')
		if err != nil && (answer == "" || !errors.Is(err, io.EOF)) {
			s.exit(1)
			return
		}
		answer = strings.TrimRight(answer, "\r\n")
		if r.OnAnswer == nil {
			r = Reply{}
			continue
		}
		r = r.OnAnswer(s, answer)
	}
}

// crlf converts "\n" and "\r\n" line ends to "\r\n".
func crlf(s string) []byte {
	if !strings.Contains(s, "\n") {
		return []byte(s)
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// appendOutput appends text with a final newline (if not empty), converted
// to "\r\n" line ends if pty.
func appendOutput(dst []byte, text string, pty bool) []byte {
	if text == "" {
		return dst
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if pty {
		return append(dst, crlf(text)...)
	}
	return append(dst, text...)
}
