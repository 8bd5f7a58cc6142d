package driver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"
)

// Config says how to reach and log in to one device.
//
// Printing a Config with any fmt verb, logging it with slog or encoding it with
// encoding/json shows Password and Passphrase as "********" (or nothing when unset).
type Config struct {
	// Host is the device's management address (IP or DNS name, no port). For an HA cluster
	// this is the unit's own management address, never the shared cluster address.
	Host string
	// Port is the SSH port (0 means 22).
	Port int
	// Username is the login name (required).
	Username string
	// Password is used for "password" and "keyboard-interactive" authentication. Either
	// Password or PrivateKeyPath (or both) is required. Never logged or recorded.
	Password string
	// PrivateKeyPath is a PEM/OpenSSH private key file for public key authentication.
	PrivateKeyPath string
	// Passphrase decrypts PrivateKeyPath if it is encrypted. Never logged or recorded.
	Passphrase string
	// KnownHostsFile is an OpenSSH known_hosts file; the device's host key must be listed in
	// it for Host exactly as configured ("[host]:port" when Port is not 22; hashed entries
	// work). Required: host keys are always verified, there is no option to skip this.
	KnownHostsFile string
	// Platform describes the CLI (prompt, paging, failure strings). nil means the embedded
	// "generic" platform.
	Platform *Platform
	// Timeout bounds every Send and Interact (0 means the platform's ops timeout,
	// DefaultOpTimeout unless the definition says otherwise). A call's ctx deadline, when
	// sooner, wins; a later one does not lift Timeout. A call stopped by it returns an
	// *AbortError matching context.DeadlineExceeded and closes the session.
	Timeout time.Duration
	// DialTimeout bounds one connection attempt: TCP connect, SSH handshake and the first
	// prompt (0 means the platform's dial timeout, DefaultDialTimeout unless overridden). The
	// ctx deadline, when sooner, wins.
	DialTimeout time.Duration
	// Logger receives debug records of each call (commands with secrets redacted, durations,
	// errors; never outputs or secrets). nil discards.
	Logger *slog.Logger
	// Transcript, if non-nil, records every command of the session.
	Transcript *Transcript
}

// Validate reports every problem with c at once: one *ConfigError per problem (naming the
// field), joined with errors.Join; nil if c is usable. It reads the files it names: the known
// hosts file must parse, the private key file must exist.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, problem string) {
		errs = append(errs, &ConfigError{Field: field, Problem: problem})
	}
	switch h := strings.TrimSpace(c.Host); {
	case h == "":
		bad("Host", "required")
	case h != c.Host || strings.ContainsAny(h, " \t\r\n/@"):
		bad("Host", fmt.Sprintf("%q is not a host name or IP address", c.Host))
	case strings.Contains(h, ":") && net.ParseIP(h) == nil:
		bad("Host", fmt.Sprintf("%q must not include a port; use Port", c.Host))
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("Port", fmt.Sprintf("%d is out of range 1-65535 (0 means 22)", c.Port))
	}
	if c.Username == "" {
		bad("Username", "required")
	}
	if c.Password == "" && c.PrivateKeyPath == "" {
		bad("Password", "either Password or PrivateKeyPath is required")
	}
	if c.PrivateKeyPath != "" {
		if fi, err := os.Stat(c.PrivateKeyPath); err != nil {
			bad("PrivateKeyPath", describeFileErr(err))
		} else if !fi.Mode().IsRegular() {
			bad("PrivateKeyPath", fmt.Sprintf("%s is not a regular file", c.PrivateKeyPath))
		}
	} else if c.Passphrase != "" {
		bad("Passphrase", "set without PrivateKeyPath")
	}
	if c.KnownHostsFile == "" {
		bad("KnownHostsFile", "required: host keys are always verified against a known_hosts file")
	} else if _, err := knownhosts.New(c.KnownHostsFile); err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
			bad("KnownHostsFile", describeFileErr(err))
		} else {
			bad("KnownHostsFile", "cannot parse: "+err.Error())
		}
	}
	if c.Platform != nil && c.Platform.Prompt == nil {
		bad("Platform", "has no prompt pattern (build it with ParsePlatform or LoadPlatform)")
	}
	if c.Timeout < 0 {
		bad("Timeout", "must not be negative")
	}
	if c.DialTimeout < 0 {
		bad("DialTimeout", "must not be negative")
	}
	return errors.Join(errs...)
}

func describeFileErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: %v", pe.Path, pe.Err)
	}
	return err.Error()
}

// addr returns "host:port".
func (c Config) addr() string {
	port := c.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

func (c Config) port() int {
	if c.Port == 0 {
		return 22
	}
	return c.Port
}

func (c Config) platform() (*Platform, error) {
	if c.Platform != nil {
		return c.Platform, nil
	}
	return LoadPlatform("generic")
}

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (c Config) opTimeout(p *Platform) time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	if p.OpTimeout > 0 {
		return p.OpTimeout
	}
	return DefaultOpTimeout
}

func (c Config) dialTimeout(p *Platform) time.Duration {
	if c.DialTimeout > 0 {
		return c.DialTimeout
	}
	if p.DialTimeout > 0 {
		return p.DialTimeout
	}
	return DefaultDialTimeout
}

// secrets returns the configured secrets to redact.
func (c Config) secrets() []string {
	var s []string
	for _, v := range []string{c.Password, c.Passphrase} {
		if v != "" {
			s = append(s, v)
		}
	}
	return s
}

// redactedOr returns "********" for a set secret and "" for an unset one.
func redactedOr(secret string) string {
	if secret == "" {
		return ""
	}
	return redactedText
}

// String describes c with Password and Passphrase redacted ("********" when set).
func (c Config) String() string {
	plat := ""
	if c.Platform != nil {
		plat = c.Platform.Name
	}
	return fmt.Sprintf("driver.Config{Host:%q Port:%d Username:%q Password:%q PrivateKeyPath:%q Passphrase:%q KnownHostsFile:%q Platform:%q Timeout:%v DialTimeout:%v}",
		c.Host, c.Port, c.Username, redactedOr(c.Password), c.PrivateKeyPath, redactedOr(c.Passphrase),
		c.KnownHostsFile, plat, c.Timeout, c.DialTimeout)
}

// GoString is String, so %#v redacts too.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q, %d, ...) prints
// String, never the secrets.
func (c Config) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue implements slog.LogValuer without the secrets.
func (c Config) LogValue() slog.Value {
	plat := ""
	if c.Platform != nil {
		plat = c.Platform.Name
	}
	return slog.GroupValue(
		slog.String("host", c.addr()),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
		slog.String("private_key_path", c.PrivateKeyPath),
		slog.String("known_hosts_file", c.KnownHostsFile),
		slog.String("platform", plat),
	)
}

// configJSON is the JSON shape of a Config (secrets redacted; Logger and Transcript left out).
type configJSON struct {
	Host           string        `json:"host"`
	Port           int           `json:"port,omitempty"`
	Username       string        `json:"username"`
	Password       string        `json:"password,omitempty"`
	PrivateKeyPath string        `json:"private_key_path,omitempty"`
	Passphrase     string        `json:"passphrase,omitempty"`
	KnownHostsFile string        `json:"known_hosts_file"`
	Platform       string        `json:"platform,omitempty"`
	Timeout        time.Duration `json:"timeout_ns,omitempty"`
	DialTimeout    time.Duration `json:"dial_timeout_ns,omitempty"`
}

// MarshalJSON encodes c with Password and Passphrase as "********" when set.
func (c Config) MarshalJSON() ([]byte, error) {
	j := configJSON{Host: c.Host, Port: c.Port, Username: c.Username, Password: redactedOr(c.Password),
		PrivateKeyPath: c.PrivateKeyPath, Passphrase: redactedOr(c.Passphrase), KnownHostsFile: c.KnownHostsFile,
		Timeout: c.Timeout, DialTimeout: c.DialTimeout}
	if c.Platform != nil {
		j.Platform = c.Platform.Name
	}
	return json.Marshal(j)
}

// formatRedacted writes s (already redacted) for any verb: quoted for %q, as is otherwise.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", s)
		return
	}
	_, _ = io.WriteString(f, s)
}
