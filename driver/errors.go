package driver

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for the categories of failure a Session can report. Every typed error
// below matches exactly one of them with errors.Is, so callers can branch on the category
// and use errors.As for the details.
var (
	// ErrConfig: a Config (or platform definition) is invalid. Matched by *ConfigError.
	ErrConfig = errors.New("driver: invalid configuration")
	// ErrHostKey: the device's SSH host key is unknown or differs from the one in the known_hosts
	// file. Never retried. Matched by *HostKeyError.
	ErrHostKey = errors.New("driver: host key verification failed")
	// ErrAuth: the device (or the local private key) rejected the credentials. Never retried.
	// Matched by *AuthError.
	ErrAuth = errors.New("driver: authentication failed")
	// ErrUnreachable: no SSH session could be established (refused, timeout, reset during the
	// handshake, no prompt). Retried by WaitReachable. Matched by *UnreachableError.
	ErrUnreachable = errors.New("driver: device unreachable")
	// ErrDropped: an established session went away (EOF, reset), e.g. because the unit
	// rebooted. The session is unusable afterwards. Matched by *DroppedError.
	ErrDropped = errors.New("driver: session dropped")
	// ErrCommand: the device rejected a command (its output matched the platform's failure
	// strings). The session stays usable. Matched by *CommandError.
	ErrCommand = errors.New("driver: command rejected by device")
	// ErrAborted: a call was stopped by its context (deadline or cancellation) while the
	// device was working on it. The session is closed, because its state is unknown. Matched by
	// *AbortError, which also matches context.DeadlineExceeded or context.Canceled.
	ErrAborted = errors.New("driver: operation aborted")
	// ErrClosed: the session was closed by Close (or after an abort) before the call.
	ErrClosed = errors.New("driver: session closed")
	// ErrInput: an argument (command text, exchange, expect pattern) is malformed; nothing was
	// sent to the device.
	ErrInput = errors.New("driver: invalid input")
	// ErrUpload: a file transfer failed or could not be verified. Matched by *UploadError.
	ErrUpload = errors.New("driver: upload failed")
	// ErrSizeMismatch: after an upload the device reported a size different from the local
	// file's size. Wrapped by *UploadError.
	ErrSizeMismatch = errors.New("driver: uploaded size mismatch")
)

// ConfigError describes one invalid Config field. Config.Validate joins one ConfigError per
// problem with errors.Join, so all problems are reported at once.
type ConfigError struct {
	// Field is the Config field name, e.g. "KnownHostsFile", or "Platform.prompt".
	Field string
	// Problem says what is wrong, e.g. "required".
	Problem string
}

// Error describes the failure (secrets never included).
func (e *ConfigError) Error() string {
	return fmt.Sprintf("driver: config: %s: %s", e.Field, e.Problem)
}

// Is reports whether target is ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// HostKeyReason says why host key verification failed.
type HostKeyReason string

// Host key verification failure reasons.
const (
	// HostKeyUnknown: the known_hosts file has no key for the host.
	HostKeyUnknown HostKeyReason = "unknown host"
	// HostKeyChanged: the known_hosts file has a different key for the host (possible
	// man-in-the-middle, or the device was reinstalled, e.g. after a major upgrade).
	HostKeyChanged HostKeyReason = "host key changed"
	// HostKeyRevoked: the presented key is marked @revoked in the known_hosts file.
	HostKeyRevoked HostKeyReason = "host key revoked"
)

// HostKeyError reports a host key that does not verify against the known_hosts file. It is
// never retried and there is no option to skip the check: add or fix the known_hosts entry.
type HostKeyError struct {
	// Host is "host:port".
	Host string
	// Reason is HostKeyUnknown, HostKeyChanged or HostKeyRevoked.
	Reason HostKeyReason
	// KnownHostsFile is the file the key was checked against.
	KnownHostsFile string
	// Fingerprint is the SHA256 fingerprint of the key the server presented, when known.
	Fingerprint string
	// Err is the underlying error (x/crypto/ssh/knownhosts).
	Err error
}

// Error describes the failure (secrets never included).
func (e *HostKeyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "driver: %s: %s (checked against %s", e.Host, e.Reason, e.KnownHostsFile)
	if e.Fingerprint != "" {
		fmt.Fprintf(&b, "; server presented %s", e.Fingerprint)
	}
	b.WriteString(")")
	return b.String()
}

// Is reports whether target is ErrHostKey.
func (e *HostKeyError) Is(target error) bool { return target == ErrHostKey }

// Unwrap returns the underlying error.
func (e *HostKeyError) Unwrap() error { return e.Err }

// AuthError reports rejected credentials (or a private key that cannot be decrypted). It is
// never retried. It never contains the password or passphrase.
type AuthError struct {
	// Host is "host:port".
	Host string
	// User is the login name.
	User string
	// Err is the underlying error.
	Err error
}

// Error describes the failure (secrets never included).
func (e *AuthError) Error() string {
	return fmt.Sprintf("driver: %s: authentication failed for user %q: %v", e.Host, e.User, e.Err)
}

// Is reports whether target is ErrAuth.
func (e *AuthError) Is(target error) bool { return target == ErrAuth }

// Unwrap returns the underlying error.
func (e *AuthError) Unwrap() error { return e.Err }

// UnreachableError reports that no session could be established: connection refused, dial
// timeout, a connection closed during the SSH handshake, or no prompt after login. It is the
// error WaitReachable retries.
type UnreachableError struct {
	// Host is "host:port".
	Host string
	// Err is the underlying error (a *net.OpError, context.DeadlineExceeded, ...).
	Err error
}

// Error describes the failure (secrets never included).
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("driver: %s: unreachable: %v", e.Host, e.Err)
}

// Is reports whether target is ErrUnreachable.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// Unwrap returns the underlying error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// DroppedError reports that an established session went away (EOF, connection reset) while a
// command was running or before it was sent. Callers read it as "the unit went away", which is
// expected while a unit reboots. The session is unusable afterwards; reconnect with
// WaitReachable.
type DroppedError struct {
	// Host is "host:port".
	Host string
	// Command is the command in flight (secrets redacted), or "" if none.
	Command string
	// Err is the underlying error.
	Err error
}

// Error describes the failure (secrets never included).
func (e *DroppedError) Error() string {
	if e.Command == "" {
		return fmt.Sprintf("driver: %s: session dropped: %v", e.Host, e.Err)
	}
	return fmt.Sprintf("driver: %s: session dropped during %q: %v", e.Host, e.Command, e.Err)
}

// Is reports whether target is ErrDropped.
func (e *DroppedError) Is(target error) bool { return target == ErrDropped }

// Unwrap returns the underlying error.
func (e *DroppedError) Unwrap() error { return e.Err }

// CommandError reports that the device rejected a command: its output matched one of the
// platform's failure strings or patterns. The session remains usable.
type CommandError struct {
	// Host is "host:port".
	Host string
	// Command is the command sent (secrets redacted).
	Command string
	// Output is the device's full output for the command (secrets redacted, prompt removed).
	Output string
	// Match is the failure string or pattern that matched, if known.
	Match string
}

// Error describes the failure (secrets never included).
func (e *CommandError) Error() string {
	out := strings.TrimSpace(e.Output)
	const limit = 200
	if len(out) > limit {
		out = out[:limit] + "…"
	}
	return fmt.Sprintf("driver: %s: command %q rejected: %s", e.Host, e.Command, out)
}

// Is reports whether target is ErrCommand.
func (e *CommandError) Is(target error) bool { return target == ErrCommand }

// AbortError reports that a call was stopped by its context while in flight. The session was
// closed, because the device may still be executing the command. errors.Is matches ErrAborted
// and the context's error (context.DeadlineExceeded or context.Canceled).
type AbortError struct {
	// Host is "host:port".
	Host string
	// Command is the command in flight (secrets redacted).
	Command string
	// Err is the context's error.
	Err error
}

// Error describes the failure (secrets never included).
func (e *AbortError) Error() string {
	return fmt.Sprintf("driver: %s: %q aborted, session closed: %v", e.Host, e.Command, e.Err)
}

// Is reports whether target is ErrAborted.
func (e *AbortError) Is(target error) bool { return target == ErrAborted }

// Unwrap returns the context's error.
func (e *AbortError) Unwrap() error { return e.Err }

// WaitError is returned by WaitReachable when its context ends before a session could be
// opened. It carries the last dial error; errors.Is matches ErrUnreachable, the context's error
// and the last error's categories.
type WaitError struct {
	// Host is "host:port".
	Host string
	// Attempts is the number of dial attempts made.
	Attempts int
	// Last is the last dial error (nil if no attempt completed).
	Last error
	// Err is the context's error.
	Err error
}

// Error describes the failure (secrets never included).
func (e *WaitError) Error() string {
	return fmt.Sprintf("driver: %s: not reachable after %d attempt(s): %v (last error: %v)",
		e.Host, e.Attempts, e.Err, e.Last)
}

// Unwrap returns ErrUnreachable, the context's error and the last dial error.
func (e *WaitError) Unwrap() []error {
	errs := []error{ErrUnreachable, e.Err}
	if e.Last != nil {
		errs = append(errs, e.Last)
	}
	return errs
}

// UploadError reports a failed or unverified file transfer.
type UploadError struct {
	// Host is "host:port" ("" if the failure happened before dialing).
	Host string
	// LocalPath and RemotePath are the transfer's source and destination.
	LocalPath, RemotePath string
	// Err is the cause: an *os.PathError for a missing local file, ErrSizeMismatch, a dial
	// error (*HostKeyError, *AuthError, *UnreachableError), or an SCP error.
	Err error
}

// Error describes the failure (secrets never included).
func (e *UploadError) Error() string {
	host := e.Host
	if host == "" {
		host = "-"
	}
	return fmt.Sprintf("driver: %s: upload %s -> %s: %v", host, e.LocalPath, e.RemotePath, e.Err)
}

// Is reports whether target is ErrUpload.
func (e *UploadError) Is(target error) bool { return target == ErrUpload }

// Unwrap returns the cause.
func (e *UploadError) Unwrap() error { return e.Err }
