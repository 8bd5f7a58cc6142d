package sshsim

import "unicode/utf8"

// editorEvent is what one typed byte completed.
type editorEvent int

const (
	evNone      editorEvent = iota
	evLine                  // Enter: the line is ready (take it)
	evInterrupt             // Ctrl-C: the line was discarded
)

// lineEditor is the minimal line discipline of a device terminal: it
// collects a line, echoes printable input (unless echo is false), handles
// backspace/DEL, Ctrl-U and Ctrl-C, swallows ANSI escape sequences (arrow
// keys) and other control characters, and treats "\r", "\n" and "\r\n" as
// one Enter each.
type lineEditor struct {
	buf    []byte
	echo   bool
	lastCR bool
	esc    int // 0: none, 1: after ESC, 2: inside a CSI/SS3 sequence
}

// feed processes one typed byte, appending what the terminal shows to out.
func (e *lineEditor) feed(out []byte, c byte) ([]byte, editorEvent) {
	wasCR := e.lastCR
	e.lastCR = false
	switch e.esc {
	case 1:
		e.esc = 0
		if c == '[' || c == 'O' {
			e.esc = 2
		}
		return out, evNone
	case 2:
		if c >= 0x40 && c <= 0x7e {
			e.esc = 0
		}
		return out, evNone
	}
	switch {
	case c == '\r':
		e.lastCR = true
		return out, evLine
	case c == '\n':
		if wasCR {
			return out, evNone // second half of "\r\n"
		}
		return out, evLine
	case c == 0x7f || c == '\b':
		if len(e.buf) > 0 {
			_, size := utf8.DecodeLastRune(e.buf)
			e.buf = e.buf[:len(e.buf)-size]
			if e.echo {
				out = append(out, "\b \b"...)
			}
		}
	case c == 0x03: // Ctrl-C
		e.buf = e.buf[:0]
		return append(out, "^C\r\n"...), evInterrupt
	case c == 0x15: // Ctrl-U
		if e.echo {
			for range utf8.RuneCount(e.buf) {
				out = append(out, "\b \b"...)
			}
		}
		e.buf = e.buf[:0]
	case c == 0x1b:
		e.esc = 1
	case c < 0x20:
		// other control characters (Tab, Ctrl-D, ...) are ignored
	default:
		e.buf = append(e.buf, c)
		if e.echo {
			out = append(out, c)
		}
	}
	return out, evNone
}

// take returns the collected line and starts a new one.
func (e *lineEditor) take() string {
	line := string(e.buf)
	e.buf = e.buf[:0]
	return line
}
