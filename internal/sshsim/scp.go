package sshsim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
)

// scpArgs is a parsed server-side scp command line.
type scpArgs struct {
	sink   bool // -t: receive files
	source bool // -f: send files
	target string
}

// parseSCP recognises "scp [-flags] -t [--] <target>" (and -f), e.g. the
// `scp -qt "/path"` sent by github.com/bramvdbogaerde/go-scp. ok is false
// if cmd does not run scp at all.
func parseSCP(cmd string) (a scpArgs, ok bool) {
	words, err := shellSplit(cmd)
	if err != nil || len(words) == 0 || path.Base(words[0]) != "scp" {
		return a, false
	}
	flags := true
	for _, w := range words[1:] {
		switch {
		case flags && w == "--":
			flags = false
		case flags && len(w) > 1 && w[0] == '-':
			a.sink = a.sink || strings.ContainsRune(w, 't')
			a.source = a.source || strings.ContainsRune(w, 'f')
		case a.target == "":
			a.target = w
		}
	}
	return a, true
}

// shellSplit splits a command line into words with POSIX shell quoting
// (single quotes, double quotes with backslash escapes, backslash).
func shellSplit(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\'':
			in = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			in = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
		case c == '\\':
			in = true
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		default:
			in = true
			cur.WriteByte(c)
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// runSCP runs the remote side of the scp protocol on the session's channel
// and returns the exit status.
//
// Sink protocol (as OpenSSH's `scp -t`): the server sends \x00 when ready;
// for each "C<mode> <size> <name>\n" it answers \x00, reads size bytes and a
// \x00 from the client, stores the file and answers \x00, or \x01 + message +
// "\n" on failure. "T" lines are acknowledged and ignored, directories
// ("D"/"E", i.e. scp -r) are refused.
func (s *Session) runSCP(a scpArgs) int {
	fail := func(format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		s.srv.log.Info("scp failed", "session", s.id, "target", a.target, "err", msg)
		_ = s.write([]byte("\x01scp: " + msg + "\n"))
		_, _ = s.ch.Stderr().Write([]byte("scp: " + msg + "\n"))
		return 1
	}
	cfg := &s.srv.cfg
	switch {
	case a.source:
		return fail("%s: downloads are not supported by this device", a.target)
	case !a.sink:
		return fail("usage: scp -t <target>")
	case cfg.SCPSink == nil && cfg.SCPUpload == nil:
		return fail("%s: uploads are not accepted by this device", a.target)
	}

	ack := func() bool { return s.write([]byte{0}) == nil }
	in := bufio.NewReader(s.ch)
	if !ack() {
		return 1
	}
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && line == "" {
				return 0 // client done
			}
			return 1
		}
		line = strings.TrimSuffix(line, "\n")
		switch line[0] {
		case 'C':
			up, err := parseCLine(line)
			if err != nil {
				return fail("protocol error: %v", err)
			}
			up.Target = a.target
			if !ack() {
				return 1
			}
			var data bytes.Buffer
			if _, err := io.CopyN(&data, in, up.size); err != nil {
				return 1
			}
			status, err := in.ReadByte()
			if err != nil {
				return 1
			}
			if status != 0 {
				return fail("%s: transfer aborted by client", up.Name)
			}
			up.Data = data.Bytes()
			if err := s.deliver(up.Upload); err != nil {
				return fail("%s: %v", up.Name, err)
			}
			s.srv.log.Info("scp received", "session", s.id, "target", a.target, "name", up.Name, "size", len(up.Data))
			if !ack() {
				return 1
			}
		case 'T', 'E':
			if !ack() {
				return 1
			}
		case 'D':
			return fail("%s: directories are not supported", a.target)
		case '\x01': // warning from the client
			s.srv.log.Info("scp client warning", "session", s.id, "msg", line[1:])
		case '\x02': // fatal error from the client
			return 1
		default:
			return fail("protocol error: unexpected %q", line)
		}
	}
}

func (s *Session) deliver(u Upload) error {
	if f := s.srv.cfg.SCPUpload; f != nil {
		return f(s, u)
	}
	return s.srv.cfg.SCPSink(u.Name, u.Mode, u.Data)
}

// cLine is a parsed "C" line.
type cLine struct {
	Upload
	size int64
}

// parseCLine parses "C0644 <size> <name>".
func parseCLine(line string) (cLine, error) {
	var c cLine
	f := strings.SplitN(line[1:], " ", 3)
	if len(f) != 3 {
		return c, fmt.Errorf("bad file line %q", line)
	}
	mode, err := strconv.ParseUint(f[0], 8, 32)
	if err != nil {
		return c, fmt.Errorf("bad mode %q", f[0])
	}
	size, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || size < 0 {
		return c, fmt.Errorf("bad size %q", f[1])
	}
	name := f[2]
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return c, fmt.Errorf("bad file name %q", name)
	}
	c.Name, c.Mode, c.size = name, os.FileMode(mode)&os.ModePerm, size
	return c, nil
}
