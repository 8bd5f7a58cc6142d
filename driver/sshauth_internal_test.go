package driver

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func pubKey(t *testing.T, k any) ssh.PublicKey {
	t.Helper()
	s, err := ssh.NewSignerFromKey(k)
	require.NoError(t, err)
	return s.PublicKey()
}

func TestKnownHostKeyAlgorithms(t *testing.T) {
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	lines := knownhosts.Line([]string{"[10.0.0.1]:2222"}, pubKey(t, rsaPriv)) + "\n" +
		knownhosts.Line([]string{"[10.0.0.1]:2222"}, pubKey(t, edPriv)) + "\n" +
		knownhosts.Line([]string{"10.0.0.2"}, pubKey(t, ecPriv)) + "\n"
	require.NoError(t, os.WriteFile(kh, []byte(lines), 0o600))
	cb, err := knownhosts.New(kh)
	require.NoError(t, err)

	assert.Equal(t, []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA, ssh.KeyAlgoED25519},
		knownHostKeyAlgorithms(cb, "10.0.0.1:2222"))
	assert.Equal(t, []string{ssh.KeyAlgoECDSA256}, knownHostKeyAlgorithms(cb, "10.0.0.2:22"))
	assert.Nil(t, knownHostKeyAlgorithms(cb, "10.0.0.1:22"), "port matters")
	assert.Nil(t, knownHostKeyAlgorithms(cb, "10.0.0.3:22"))
}

func TestPrivateKeySigner(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	dir := t.TempDir()
	const pass = "k3y-Passphrase"
	blk, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(pass))
	require.NoError(t, err)
	enc := filepath.Join(dir, "id_enc")
	require.NoError(t, os.WriteFile(enc, pem.EncodeToMemory(blk), 0o600))
	blk, err = ssh.MarshalPrivateKey(priv, "")
	require.NoError(t, err)
	plain := filepath.Join(dir, "id_plain")
	require.NoError(t, os.WriteFile(plain, pem.EncodeToMemory(blk), 0o600))
	garbage := filepath.Join(dir, "id_garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key"), 0o600))

	cfg := Config{Host: "fw1", Username: "admin", PrivateKeyPath: enc, Passphrase: pass}
	s, raw, err := privateKeySigner(cfg)
	require.NoError(t, err)
	assert.Equal(t, pubKey(t, priv).Marshal(), s.PublicKey().Marshal())
	assert.NotNil(t, raw)

	_, _, err = privateKeySigner(Config{Host: "fw1", Username: "admin", PrivateKeyPath: plain})
	require.NoError(t, err)

	for name, c := range map[string]Config{
		"wrong passphrase":   {Host: "fw1", Username: "admin", PrivateKeyPath: enc, Passphrase: "nope-Not-It"},
		"missing passphrase": {Host: "fw1", Username: "admin", PrivateKeyPath: enc},
		"garbage":            {Host: "fw1", Username: "admin", PrivateKeyPath: garbage, Passphrase: pass},
	} {
		_, _, err := privateKeySigner(c)
		require.ErrorIs(t, err, ErrAuth, name)
		if c.Passphrase != "" {
			assert.NotContains(t, err.Error(), c.Passphrase, name)
		}
		assert.Contains(t, err.Error(), c.PrivateKeyPath, name)
	}
}

func TestClassifyOpenErr(t *testing.T) {
	cfg := Config{Host: "10.0.0.1", Port: 2222, Username: "admin", Password: "pw-Secret", KnownHostsFile: "/kh"}
	cases := []struct {
		err  error
		want error
	}{
		{fmt.Errorf("ssh: handshake failed: %w", &knownhosts.KeyError{}), ErrHostKey},
		{fmt.Errorf("ssh: handshake failed: %w", &knownhosts.RevokedError{}), ErrHostKey},
		{errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none password], no supported methods remain"), ErrAuth},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, ErrUnreachable},
		{fmt.Errorf("ssh: handshake failed: %w", io.EOF), ErrUnreachable},
		{&AuthError{}, ErrAuth},
	}
	for _, c := range cases {
		got := classifyOpenErr(cfg, c.err, nil)
		assert.ErrorIs(t, got, c.want, c.err.Error())
		assert.NotContains(t, got.Error(), cfg.Password)
	}
	var hk *HostKeyError
	require.ErrorAs(t, classifyOpenErr(cfg, &knownhosts.KeyError{Want: []knownhosts.KnownKey{{}}}, nil), &hk)
	assert.Equal(t, HostKeyChanged, hk.Reason)
	assert.Equal(t, "10.0.0.1:2222", hk.Host)
	require.ErrorAs(t, classifyOpenErr(cfg, &knownhosts.RevokedError{}, nil), &hk)
	assert.Equal(t, HostKeyRevoked, hk.Reason)
}

// TestScrapliDriverUsesOurTransport proves scrapligo runs on sshTransport (dialSSH: host keys
// verified, handshake bounded), not on its own standard transport.
func TestScrapliDriverUsesOurTransport(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(kh, nil, 0o600))
	plat, err := LoadPlatform("generic")
	require.NoError(t, err)
	cfg := Config{Host: "::1", Port: 2222, Username: "admin", Password: "pw", KnownHostsFile: kh}
	d, tr, err := newScrapliDriver(t.Context(), cfg, plat, DefaultDialTimeout)
	require.NoError(t, err)
	assert.Same(t, tr, d.Transport.Impl)
	assert.Empty(t, d.Transport.Args.Password, "scrapligo holds no copy of the password")
	assert.Equal(t, "[::1]", d.Transport.Args.Host, "IPv6 literal bracketed for scrapligo's host:port join")
}
