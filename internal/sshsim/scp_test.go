package sshsim

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	scp "github.com/bramvdbogaerde/go-scp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

type received struct {
	name string
	mode os.FileMode
	data []byte
}

type sinkRecorder struct {
	mu    sync.Mutex
	files []received
	err   error
}

func (r *sinkRecorder) sink(name string, mode os.FileMode, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.files = append(r.files, received{name, mode, bytes.Clone(data)})
	return nil
}

func (r *sinkRecorder) setErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

func (r *sinkRecorder) got() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.files...)
}

func scpClient(t *testing.T, srv *Server, kh string) *scp.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", srv.Addr(), clientConfig(t, kh, testUser, testPassword))
	require.NoError(t, err)
	sc, err := scp.NewClientBySSH(c)
	require.NoError(t, err)
	t.Cleanup(sc.Close)
	return &sc
}

func TestSCPUploadWithGoSCP(t *testing.T) {
	rec := &sinkRecorder{}
	cfg := testConfig(t)
	cfg.SCPSink = rec.sink
	srv, kh := startServer(t, cfg)
	client := scpClient(t, srv, kh)
	ctx := context.Background()

	small := []byte("firmware v2\n")
	require.NoError(t, client.CopyFile(ctx, bytes.NewReader(small), "/upload/pkg.bin", "0640"))

	big := make([]byte, 3<<20) // larger than the SSH window: exercises flow control
	_, err := rand.Read(big)
	require.NoError(t, err)
	local := filepath.Join(t.TempDir(), "image.upg")
	require.NoError(t, os.WriteFile(local, big, 0o600))
	f, err := os.Open(local)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, client.CopyFromFile(ctx, *f, "image.upg", "0755"))

	empty := []byte{}
	require.NoError(t, client.CopyFile(ctx, bytes.NewReader(empty), "/tmp/empty file", "0600"))

	got := rec.got()
	require.Len(t, got, 3)
	assert.Equal(t, received{"pkg.bin", 0o640, small}, got[0])
	assert.Equal(t, "image.upg", got[1].name)
	assert.Equal(t, os.FileMode(0o755), got[1].mode)
	assert.True(t, bytes.Equal(big, got[1].data), "big file content")
	assert.Equal(t, received{"empty file", 0o600, empty}, got[2])

	// The shell still works on the same server.
	tm := mustTerm(t, srv, kh)
	mustExpect(t, tm, testPrompt)
}

func TestSCPUploadSeesSessionAndTarget(t *testing.T) {
	var (
		mu  sync.Mutex
		ups []Upload
		who string
	)
	cfg := testConfig(t)
	cfg.SCPUpload = func(s *Session, u Upload) error {
		mu.Lock()
		defer mu.Unlock()
		ups = append(ups, u)
		who = s.User()
		return nil
	}
	cfg.SCPSink = func(string, os.FileMode, []byte) error { return errors.New("SCPUpload takes precedence") }
	srv, kh := startServer(t, cfg)
	client := scpClient(t, srv, kh)
	require.NoError(t, client.CopyFile(context.Background(), bytes.NewReader([]byte("x")), "/var/log/upload dir/pkg.tgz", "0644"))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, ups, 1)
	assert.Equal(t, Upload{Target: "/var/log/upload dir/pkg.tgz", Name: "pkg.tgz", Mode: 0o644, Data: []byte("x")}, ups[0])
	assert.Equal(t, testUser, who)
}

func TestSCPSinkErrorFailsClient(t *testing.T) {
	rec := &sinkRecorder{err: errors.New("no space left on device")}
	cfg := testConfig(t)
	cfg.SCPSink = rec.sink
	srv, kh := startServer(t, cfg)
	client := scpClient(t, srv, kh)

	err := client.CopyFile(context.Background(), bytes.NewReader([]byte("data")), "/upload/pkg.bin", "0644")
	require.Error(t, err)
	var exitErr *ssh.ExitError
	require.ErrorAs(t, err, &exitErr)
	assert.Equal(t, 1, exitErr.ExitStatus())
}

func TestSCPRefusedWithoutSink(t *testing.T) {
	srv, kh := startServer(t, testConfig(t))
	client := scpClient(t, srv, kh)
	err := client.CopyFile(context.Background(), bytes.NewReader([]byte("data")), "/upload/pkg.bin", "0644")
	require.Error(t, err)
}

// scpRaw runs "scp -t target" by hand to check the protocol bytes.
func scpRaw(t *testing.T, srv *Server, kh, cmd string) (stdin io.WriteCloser, stdout *bufio.Reader, stderr *bytes.Buffer, sess *ssh.Session) {
	t.Helper()
	c, err := ssh.Dial("tcp", srv.Addr(), clientConfig(t, kh, testUser, testPassword))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	sess, err = c.NewSession()
	require.NoError(t, err)
	stdin, err = sess.StdinPipe()
	require.NoError(t, err)
	out, err := sess.StdoutPipe()
	require.NoError(t, err)
	stderr = &bytes.Buffer{}
	sess.Stderr = stderr
	require.NoError(t, sess.Start(cmd))
	return stdin, bufio.NewReader(out), stderr, sess
}

func readByte(t *testing.T, r *bufio.Reader) byte {
	t.Helper()
	b, err := r.ReadByte()
	require.NoError(t, err)
	return b
}

func TestSCPProtocolBytes(t *testing.T) {
	rec := &sinkRecorder{}
	cfg := testConfig(t)
	cfg.SCPSink = rec.sink
	srv, kh := startServer(t, cfg)

	in, out, _, sess := scpRaw(t, srv, kh, "/usr/bin/scp -p -t -- '/upload'")
	assert.Equal(t, byte(0), readByte(t, out), "ready")
	_, err := io.WriteString(in, "T1700000000 0 1700000000 0\n")
	require.NoError(t, err)
	assert.Equal(t, byte(0), readByte(t, out), "T acked")
	_, err = io.WriteString(in, "C0600 5 a.txt\n")
	require.NoError(t, err)
	assert.Equal(t, byte(0), readByte(t, out), "C acked")
	_, err = io.WriteString(in, "hello\x00")
	require.NoError(t, err)
	assert.Equal(t, byte(0), readByte(t, out), "data acked")
	require.NoError(t, in.Close())
	require.NoError(t, sess.Wait())
	assert.Equal(t, []received{{"a.txt", 0o600, []byte("hello")}}, rec.got())

	// A sink error comes back in band as \x01 + message, exit status 1.
	rec.setErr(errors.New("disk full"))
	in, out, stderr, sess := scpRaw(t, srv, kh, "scp -qt /upload")
	assert.Equal(t, byte(0), readByte(t, out))
	_, err = io.WriteString(in, "C0644 3 b.bin\nabc\x00")
	require.NoError(t, err)
	assert.Equal(t, byte(0), readByte(t, out))
	assert.Equal(t, byte(1), readByte(t, out))
	msg, err := out.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "scp: b.bin: disk full\n", msg)
	var exitErr *ssh.ExitError
	require.ErrorAs(t, sess.Wait(), &exitErr)
	assert.Equal(t, 1, exitErr.ExitStatus())
	assert.Equal(t, "scp: b.bin: disk full\n", stderr.String())

	// Bad file names and directories are refused.
	for _, line := range []string{"C0644 1 ../x\n", "C0644 1 a/b\n", "D0755 0 dir\n", "Cxyz 1 a\n", "garbage\n"} {
		in, out, _, sess := scpRaw(t, srv, kh, "scp -t /upload")
		assert.Equal(t, byte(0), readByte(t, out))
		_, err = io.WriteString(in, line)
		require.NoError(t, err)
		assert.Equal(t, byte(1), readByte(t, out), line)
		require.ErrorAs(t, sess.Wait(), &exitErr, line)
	}

	// Downloads are not supported.
	_, out, _, sess = scpRaw(t, srv, kh, "scp -f /etc/passwd")
	assert.Equal(t, byte(1), readByte(t, out))
	require.ErrorAs(t, sess.Wait(), &exitErr)
}

func TestParseSCP(t *testing.T) {
	tests := []struct {
		cmd  string
		ok   bool
		want scpArgs
	}{
		{`scp -qt "/upload/pkg.bin"`, true, scpArgs{sink: true, target: "/upload/pkg.bin"}},
		{`scp -t /tmp`, true, scpArgs{sink: true, target: "/tmp"}},
		{`/usr/bin/scp -v -p -t -- 'a b'`, true, scpArgs{sink: true, target: "a b"}},
		{`scp -t "quote\"d\\path"`, true, scpArgs{sink: true, target: `quote"d\path`}},
		{`scp -t a\ b`, true, scpArgs{sink: true, target: "a b"}},
		{`scp -f /x`, true, scpArgs{source: true, target: "/x"}},
		{`scp /x`, true, scpArgs{target: "/x"}},
		{`show version`, false, scpArgs{}},
		{`scp -t "unterminated`, false, scpArgs{}},
		{``, false, scpArgs{}},
	}
	for _, tt := range tests {
		got, ok := parseSCP(tt.cmd)
		assert.Equal(t, tt.ok, ok, tt.cmd)
		if ok {
			assert.Equal(t, tt.want, got, tt.cmd)
		}
	}
}
