package driver

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// probeKey is a public key no known_hosts file lists; checking it against the file makes
// knownhosts report every key the file does list for an address (KeyError.Want).
var probeKey = func() ssh.PublicKey {
	k, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		panic(err)
	}
	return k
}()

// knownHostKeyAlgorithms returns the host key algorithms the known_hosts file has keys for at
// addr ("host:port"), in file order, so that the handshake asks the server for a key type we
// can verify (like OpenSSH does). It returns nil when the file lists no key for addr (the
// handshake then fails with an unknown-host error, or a @cert-authority line applies).
func knownHostKeyAlgorithms(cb ssh.HostKeyCallback, addr string) []string {
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}
	var ke *knownhosts.KeyError
	if err := cb(addr, remote, probeKey); !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	for _, k := range ke.Want {
		var add []string
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		default:
			add = []string{t}
		}
		for _, a := range add {
			if !slices.Contains(algos, a) {
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// privateKeySigner reads and (if needed) decrypts cfg.PrivateKeyPath. Errors are *AuthError
// (wrong or missing passphrase, unparsable key) naming the file, never the passphrase.
func privateKeySigner(cfg Config) (ssh.Signer, any, error) {
	data, err := os.ReadFile(cfg.PrivateKeyPath)
	if err != nil {
		return nil, nil, &ConfigError{Field: "PrivateKeyPath", Problem: describeFileErr(err)}
	}
	var raw any
	if cfg.Passphrase != "" {
		raw, err = ssh.ParseRawPrivateKeyWithPassphrase(data, []byte(cfg.Passphrase))
	} else {
		raw, err = ssh.ParseRawPrivateKey(data)
	}
	if err != nil {
		var missing *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &missing):
			err = fmt.Errorf("private key %s is encrypted and Passphrase is empty", cfg.PrivateKeyPath)
		case errors.Is(err, x509.IncorrectPasswordError):
			err = fmt.Errorf("private key %s: wrong passphrase", cfg.PrivateKeyPath)
		default:
			err = fmt.Errorf("private key %s: %s", cfg.PrivateKeyPath, redact(err.Error(), cfg.secrets()))
		}
		return nil, nil, &AuthError{Host: cfg.addr(), User: cfg.Username, Err: err}
	}
	signer, err := ssh.NewSignerFromKey(raw)
	if err != nil {
		return nil, nil, &AuthError{Host: cfg.addr(), User: cfg.Username,
			Err: fmt.Errorf("private key %s: %v", cfg.PrivateKeyPath, err)}
	}
	return signer, raw, nil
}

// authMethods mirrors scrapligo's standard transport: public key, password and
// keyboard-interactive answering every question with the password.
func authMethods(cfg Config) ([]ssh.AuthMethod, error) {
	var methods []ssh.AuthMethod
	if cfg.PrivateKeyPath != "" {
		signer, _, err := privateKeySigner(cfg)
		if err != nil {
			return nil, err
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if cfg.Password != "" {
		pw := cfg.Password
		methods = append(methods, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	return methods, nil
}

// dialSSH opens an x/crypto/ssh client connection to cfg's device, verifying the host key
// against cfg.KnownHostsFile. The whole connect + handshake is bounded by ctx and timeout.
// Errors are classified by classifyOpenErr.
func dialSSH(ctx context.Context, cfg Config, timeout time.Duration) (*ssh.Client, error) {
	addr := cfg.addr()
	cb, err := knownhosts.New(cfg.KnownHostsFile)
	if err != nil {
		return nil, &ConfigError{Field: "KnownHostsFile", Problem: err.Error()}
	}
	var presented ssh.PublicKey
	verify := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		presented = key
		return cb(hostname, remote, key)
	}
	methods, err := authMethods(cfg)
	if err != nil {
		return nil, err
	}
	ccfg := &ssh.ClientConfig{
		User:              cfg.Username,
		Auth:              methods,
		HostKeyCallback:   verify,
		HostKeyAlgorithms: knownHostKeyAlgorithms(cb, addr),
		Timeout:           timeout,
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, classifyOpenErr(cfg, err, nil)
	}
	// Bound the handshake too (ssh.Dial only bounds the TCP connect), and abort it on ctx.
	if dl, ok := dctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(dctx, func() { _ = conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, ccfg)
	stopped := stop()
	if err != nil {
		_ = conn.Close()
		switch {
		case !stopped && ctx.Err() != nil:
			err = ctx.Err()
		case !stopped || errors.Is(err, os.ErrDeadlineExceeded):
			// The connection deadline and the context timer race: either way the handshake
			// did not complete in time.
			err = fmt.Errorf("handshake not complete within %s: %w: %v", timeout.Round(time.Millisecond), context.DeadlineExceeded, err)
		}
		return nil, classifyOpenErr(cfg, err, presented)
	}
	if !stopped {
		_ = c.Close()
		return nil, classifyOpenErr(cfg, fmt.Errorf("handshake: %w", dctx.Err()), presented)
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// classifyOpenErr turns an error from establishing a session (ours, x/crypto's or
// scrapligo's) into *HostKeyError, *AuthError or *UnreachableError. Errors that already carry
// a category pass through. presented is the host key the server showed, if known.
func classifyOpenErr(cfg Config, err error, presented ssh.PublicKey) error {
	addr := cfg.addr()
	for _, known := range []error{ErrConfig, ErrHostKey, ErrAuth, ErrUnreachable, ErrDropped} {
		if errors.Is(err, known) {
			return err
		}
	}
	fp := ""
	if presented != nil {
		fp = ssh.FingerprintSHA256(presented)
	}
	var ke *knownhosts.KeyError
	if errors.As(err, &ke) {
		reason := HostKeyUnknown
		if len(ke.Want) > 0 {
			reason = HostKeyChanged
		}
		return &HostKeyError{Host: addr, Reason: reason, KnownHostsFile: cfg.KnownHostsFile,
			Fingerprint: fp, Err: err}
	}
	var re *knownhosts.RevokedError
	if errors.As(err, &re) {
		return &HostKeyError{Host: addr, Reason: HostKeyRevoked, KnownHostsFile: cfg.KnownHostsFile,
			Fingerprint: fp, Err: err}
	}
	msg := err.Error()
	if strings.Contains(msg, "unable to authenticate") ||
		strings.Contains(msg, "no supported methods remain") ||
		strings.Contains(msg, "Too many authentication failures") {
		return &AuthError{Host: addr, User: cfg.Username, Err: errors.New(redact(msg, cfg.secrets()))}
	}
	return &UnreachableError{Host: addr, Err: err}
}
