package sshsim

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func splitAddr(t *testing.T, addr string) (host, port string, err error) {
	t.Helper()
	host, port, err = net.SplitHostPort(addr)
	require.NoError(t, err)
	return host, port, err
}

func TestLineEditor(t *testing.T) {
	tests := []struct {
		name, in   string
		echo       bool
		lines      []string
		shown      string
		interrupts int
	}{
		{"lf", "show\n", true, []string{"show"}, "show", 0},
		{"cr", "a\rb\r", true, []string{"a", "b"}, "ab", 0},
		{"crlf once", "a\r\nb\r\n", true, []string{"a", "b"}, "ab", 0},
		{"lf lf is two", "\n\n", true, []string{"", ""}, "", 0},
		{"backspace", "ab\x7f\bc\n", true, []string{"c"}, "ab\b \b\b \bc", 0},
		{"backspace on empty", "\x7fx\n", true, []string{"x"}, "x", 0},
		{"utf8 backspace", "é\x7fe\n", true, []string{"e"}, "é\b \be", 0},
		{"ctrl-u", "abc\x15d\n", true, []string{"d"}, "abc\b \b\b \b\b \bd", 0},
		{"ctrl-c", "abc\x03d\n", true, []string{"d"}, "abc^C\r\nd", 1},
		{"csi swallowed", "a\x1b[1;5Cb\x1bOAc\n", true, []string{"abc"}, "abc", 0},
		{"controls ignored", "a\tb\x04\n", true, []string{"ab"}, "ab", 0},
		{"no echo", "secret\n", false, []string{"secret"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := lineEditor{echo: tt.echo}
			var (
				shown      []byte
				lines      []string
				interrupts int
				ev         editorEvent
			)
			for i := 0; i < len(tt.in); i++ {
				shown, ev = e.feed(shown, tt.in[i])
				switch ev {
				case evLine:
					lines = append(lines, e.take())
				case evInterrupt:
					interrupts++
				}
			}
			assert.Equal(t, tt.lines, lines)
			assert.Equal(t, tt.shown, string(shown))
			assert.Equal(t, tt.interrupts, interrupts)
		})
	}
}

func TestCRLF(t *testing.T) {
	assert.Equal(t, "a\r\nb\r\n", string(crlf("a\nb\r\n")))
	assert.Equal(t, "x> ", string(crlf("x> ")))
	assert.Equal(t, "a\r\nb\r\n", string(appendOutput(nil, "a\nb", true)))
	assert.Equal(t, "a\nb\n", string(appendOutput(nil, "a\nb", false)))
	assert.Empty(t, appendOutput(nil, "", true))
	assert.Equal(t, []string{"a", "b c", "d\"e", "f"}, must(shellSplit(`a "b c" 'd"e' f`)))
	assert.True(t, strings.HasPrefix(defaultServerVersion, "SSH-2.0-"))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func FuzzLineEditor(f *testing.F) {
	f.Add([]byte("show version\r\n\x7f\x03\x1b[A"))
	f.Fuzz(func(t *testing.T, in []byte) {
		e := lineEditor{echo: true}
		var out []byte
		for _, c := range in {
			var ev editorEvent
			out, ev = e.feed(out, c)
			if ev == evLine {
				_ = e.take()
			}
		}
		_ = out
	})
}
