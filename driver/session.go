// Package driver is hitless's CLI session layer: it drives network devices over SSH with
// scrapligo v1 (generic driver) on hitless's own golang.org/x/crypto/ssh transport (no system
// ssh binary): it replaces scrapligo's "standard" transport to bound the SSH handshake and to
// close every connection it opens (see transport.go).
//
// What it adds on top of scrapligo:
//   - Host keys are always verified against a known_hosts file (Config.KnownHostsFile is
//     required; there is no switch to skip it).
//   - context.Context on every blocking call: a deadline bounds the call (as does
//     Config.Timeout, whichever is sooner), a cancellation aborts it (the session is then
//     closed, since the device state is unknown).
//   - Secrets (Password, Passphrase, Secret inputs) never appear in errors, logs,
//     transcripts, or when a Config or Session is printed, logged or JSON-encoded.
//   - Typed errors: *HostKeyError, *AuthError, *UnreachableError, *DroppedError,
//     *CommandError, *AbortError (each matches a sentinel with errors.Is).
//   - Device quirks (prompt, paging-off commands, failure strings, timeouts) as data: embedded
//     YAML platform definitions (LoadPlatform, ParsePlatform).
//   - A Transcript of every command with secret redaction, SCP Upload, and WaitReachable to
//     reconnect after a reboot.
//
// Package driver/drivertest has scripted sessions and fault-injecting wrappers for tests.
package driver

import "context"

// Session is one interactive CLI session with a device, positioned at the device prompt.
//
// A Session returned by Open serialises its calls with a mutex, but one command at a time is
// all a CLI can do: use one session per goroutine. A Session obtained from Open is not
// reusable after a *DroppedError or *AbortError; open a new one (see WaitReachable).
type Session interface {
	// Send runs one command at the device prompt and returns its output, without the echoed
	// command and without the trailing prompt. Lines have trailing spaces trimmed and "\r"
	// removed (scrapligo's normalisation).
	//
	// Errors: *CommandError if the device rejected the command (the platform's failure strings
	// matched), *DroppedError if the connection went away, *AbortError if ctx ended or the
	// per-call timeout (Config.Timeout, even under a later ctx deadline) passed first,
	// ErrClosed after Close, ErrInput for a command containing a line break.
	//
	// A command after which the unit reboots at once (upgrade, restart) may return its output
	// or a *DroppedError, depending on whether the prompt was read before the connection
	// closed; either way the session is gone afterwards.
	Send(ctx context.Context, command string) (string, error)

	// Interact runs an exchange with prompts (confirmations, passwords). Each step's Input is
	// sent, then the session waits for the step's Expect regexp (the empty string means the
	// normal prompt; the last step's Expect is normally empty). It returns everything the
	// device printed during the exchange, without the final prompt; Secret inputs are redacted
	// from it. Errors are those of Send; an Expect pattern that does not compile is ErrInput.
	Interact(ctx context.Context, steps []Exchange) (string, error)

	// Host returns the "host:port" the session is connected to, for error messages.
	Host() string

	// Close ends the session. It is safe to call more than once and from any goroutine; a call
	// in flight returns an error. It does not block longer than a few seconds even when the
	// connection is dead.
	Close() error
}

// Exchange is one step of Session.Interact.
type Exchange struct {
	// Input is the text sent (a return is appended).
	Input string
	// Expect is a regexp (Go syntax) the device prints next, e.g. `\[y/N\]:?\s*$`. The empty
	// string means the platform's normal prompt.
	Expect string
	// Secret marks Input as a secret (password): it is not waited for as an echo, and it is
	// replaced by "********" in transcripts, logs, errors and the returned output.
	Secret bool
}

// redactedText replaces secrets everywhere the package records text.
const redactedText = "********"
