package checkpoint

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel categories of the Management API client (MgmtClient); test with
// errors.Is. No error of the client carries the password, the API key or a
// session ID (sid): replies are scrubbed of every secret the client knows
// before they are put in an error.
var (
	// ErrMgmtConfig: the MgmtConfig is invalid (see MgmtConfig.Validate),
	// or a method was given an invalid argument; nothing was sent.
	ErrMgmtConfig = errors.New("checkpoint: invalid management API config")
	// ErrAuth: the management server refused the login: an error code
	// starting with "err_login_failed" (for instance err_login_failed and
	// err_login_failed_wrong_username_or_password, HTTP 400, Check Point
	// Management API Reference, login), or HTTP 401/403 on login. The
	// *APIError names the user (or "API key") and the server, never the
	// password or key.
	ErrAuth = errors.New("checkpoint: management login refused")
	// ErrSession: the server rejected the session ID: error code
	// generic_err_wrong_session_id, generic_err_session_expired or
	// generic_err_missing_session_id. The client logs in again once and
	// retries the call once by itself; callers see ErrSession only when
	// the retry is rejected too.
	ErrSession = errors.New("checkpoint: management session rejected")
	// ErrNotFound: the object, task or command target does not exist
	// (error code generic_err_object_not_found, or HTTP 404 without a
	// code, or a show-task reply without the task).
	ErrNotFound = errors.New("checkpoint: management object not found")
	// ErrLocked: the object is locked by another session (error code
	// generic_err_object_locked). Nothing was changed; try again after the
	// other session publishes or discards.
	ErrLocked = errors.New("checkpoint: management object locked by another session")
	// ErrTaskFailed: a task ended "failed", or with a status word the
	// client does not know (treated as not successful). The *TaskError
	// carries the task's messages.
	ErrTaskFailed = errors.New("checkpoint: management task failed")
	// ErrTaskTimeout: a task was still "in progress" at the deadline of
	// WaitTask's timing (or its status could not be read until then).
	ErrTaskTimeout = errors.New("checkpoint: management task did not finish before its deadline")
	// ErrAmbiguous: a write (login, publish, install-policy,
	// set-simple-cluster, vsx-run-operation) was sent but its reply is
	// unknown or unusable: the connection dropped or timed out after the
	// request was written, the server answered HTTP 5xx, or the reply was
	// not the documented JSON. The server may or may not have acted; the
	// client never sends such a write again. Verify by reading (show-task,
	// show-simple-cluster) before deciding.
	ErrAmbiguous = errors.New("checkpoint: management write outcome unknown")
	// ErrCertificateMismatch: the server presented a certificate whose
	// SHA-256 fingerprint is not the one pinned in MgmtConfig.PinnedSHA256
	// (*CertificateMismatchError). The TLS handshake was aborted, so no
	// request (and no credential) was sent.
	ErrCertificateMismatch = errors.New("checkpoint: management server certificate does not match the pinned fingerprint")
	// ErrMgmtTLS: the server's certificate did not verify against the
	// configured CA bundle or the system roots (unknown authority, wrong
	// host name, expired). There is no switch to skip verification.
	ErrMgmtTLS = errors.New("checkpoint: management server certificate verification failed")
	// ErrMgmtTransport: the request failed below HTTP (connection refused
	// or reset, timeout). Reads are retried; a write that had been written
	// also matches ErrAmbiguous.
	ErrMgmtTransport = errors.New("checkpoint: management API transport error")
	// ErrMgmtProtocol: the reply was not the documented shape (not JSON, a
	// redirect, a missing task-id, an undecodable task-details entry).
	ErrMgmtProtocol = errors.New("checkpoint: unexpected management API reply")
	// ErrMgmtServer: the server answered HTTP 5xx. Reads are retried; for a
	// write it also matches ErrAmbiguous.
	ErrMgmtServer = errors.New("checkpoint: management server error")
)

// APIError is an error reply of the Management API for one command, or a
// reply the client could not use. The server's error body is
// {"code": "...", "message": "...", "errors": [...], "warnings": [...],
// "blocking-errors": [...]} where each list entry is a string or an object
// with a "message" (Check Point Management API Reference, "Response
// codes"). Message, Errors and Warnings are scrubbed of every secret the
// client knows. errors.Is matches the category derived from Code,
// HTTPStatus and Ambiguous: ErrAuth, ErrSession, ErrNotFound, ErrLocked,
// ErrMgmtServer, ErrMgmtProtocol, ErrAmbiguous.
type APIError struct {
	// Command is the API command, e.g. "install-policy".
	Command string
	// HTTPStatus is the HTTP status code of the reply (200 for a reply
	// that was HTTP 200 but unusable).
	HTTPStatus int
	// Code is the reply's "code", e.g. "err_login_failed",
	// "generic_err_object_locked"; "" when the body had none.
	Code string
	// Message is the reply's "message" (or a description of an unusable
	// reply, e.g. "reply is not JSON").
	Message string
	// Errors are the "errors" and "blocking-errors" entries' messages.
	Errors []string
	// Warnings are the "warnings" entries' messages.
	Warnings []string
	// Server is the management server's host (and port) as configured.
	Server string
	// User names who logged in, for login errors only: the user name, or
	// "API key" for an API-key login. Never the password or the key.
	User string
	// Ambiguous is true for a write whose outcome is unknown (HTTP 5xx,
	// or an HTTP 200 reply that is not usable JSON): it matches
	// ErrAmbiguous and was not sent again.
	Ambiguous bool
	// Protocol is true when the reply itself was unusable (not JSON, a
	// redirect, a missing field): it matches ErrMgmtProtocol.
	Protocol bool
}

// Error renders `checkpoint: mgmt <command>[ as user "<user>" to <server>]:
// HTTP <status> <code>: <message> (errors: …; warnings: …)`.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("checkpoint: mgmt ")
	b.WriteString(e.Command)
	if e.User != "" {
		if e.User == mgmtAPIKeyUser {
			b.WriteString(" with an API key")
		} else {
			fmt.Fprintf(&b, " as user %q", e.User)
		}
	}
	if e.Server != "" {
		fmt.Fprintf(&b, " to %s", e.Server)
	}
	fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Errors) > 0 {
		b.WriteString(" (errors: ")
		b.WriteString(strings.Join(e.Errors, "; "))
		b.WriteString(")")
	}
	if len(e.Warnings) > 0 {
		b.WriteString(" (warnings: ")
		b.WriteString(strings.Join(e.Warnings, "; "))
		b.WriteString(")")
	}
	if e.Ambiguous {
		b.WriteString(" (the request was sent: whether the server acted on it is unknown; it was not sent again)")
	}
	return b.String()
}

// Unwrap returns the categories of the error (see APIError).
func (e *APIError) Unwrap() []error {
	var kinds []error
	switch {
	case strings.HasPrefix(e.Code, "err_login_failed"),
		e.Command == "login" && e.Code == "" && (e.HTTPStatus == 401 || e.HTTPStatus == 403):
		kinds = append(kinds, ErrAuth)
	case e.Code == "generic_err_wrong_session_id", e.Code == "generic_err_session_expired",
		e.Code == "generic_err_missing_session_id":
		kinds = append(kinds, ErrSession)
	case e.Code == "generic_err_object_not_found", e.Code == "" && e.HTTPStatus == 404:
		kinds = append(kinds, ErrNotFound)
	case e.Code == "generic_err_object_locked":
		kinds = append(kinds, ErrLocked)
	}
	if e.HTTPStatus >= 500 {
		kinds = append(kinds, ErrMgmtServer)
	}
	if e.Protocol {
		kinds = append(kinds, ErrMgmtProtocol)
	}
	if e.Ambiguous {
		kinds = append(kinds, ErrAmbiguous)
	}
	return kinds
}

// MgmtTransportError is a request that failed below HTTP: no reply was
// read (connection refused or reset, TLS failure, timeout). It matches
// ErrMgmtTransport, ErrMgmtTLS for a certificate that did not verify,
// ErrAmbiguous for a write whose request had been written, and its cause
// (e.g. context.DeadlineExceeded).
type MgmtTransportError struct {
	// Command is the API command, e.g. "publish".
	Command string
	// Server is the management server's host (and port) as configured.
	Server string
	// Write is true for a command that changes management state.
	Write bool
	// Written is true when the whole request had been written to the
	// connection before the failure.
	Written bool
	// TLS is true when the server's certificate did not verify.
	TLS bool
	// Err is the cause, without the URL.
	Err error
}

// Error renders `checkpoint: mgmt <command> to <server>: <cause>` and, for
// an ambiguous write, says that it was sent and not sent again.
func (e *MgmtTransportError) Error() string {
	s := fmt.Sprintf("checkpoint: mgmt %s to %s: %v", e.Command, e.Server, e.Err)
	if e.TLS {
		s += " (certificate verification failed: give the server's CA with MgmtConfig.CACertPEM or CACertFile, or pin its certificate with PinnedSHA256)"
	}
	if e.Ambiguous() {
		s += " (the request was sent: whether the server acted on it is unknown; it was not sent again)"
	}
	return s
}

// Ambiguous reports whether the failed request was a write that had been
// written (its outcome is unknown).
func (e *MgmtTransportError) Ambiguous() bool { return e.Write && e.Written }

// Unwrap returns ErrMgmtTransport, ErrMgmtTLS or ErrAmbiguous as they
// apply, and the cause.
func (e *MgmtTransportError) Unwrap() []error {
	kinds := []error{ErrMgmtTransport}
	if e.TLS {
		kinds = append(kinds, ErrMgmtTLS)
	}
	if e.Ambiguous() {
		kinds = append(kinds, ErrAmbiguous)
	}
	if e.Err != nil {
		kinds = append(kinds, e.Err)
	}
	return kinds
}

// CertificateMismatchError reports a management server whose leaf
// certificate is not the pinned one (ErrCertificateMismatch). Fingerprints
// are SHA-256 over the DER certificate, upper-case hex pairs separated by
// colons ("AB:CD:…", as `openssl x509 -fingerprint -sha256` prints them).
type CertificateMismatchError struct {
	// Host is the management server's host (and port) as configured.
	Host string
	// Expected is the pinned fingerprint (MgmtConfig.PinnedSHA256).
	Expected string
	// Seen is the fingerprint of the certificate the server presented, or
	// "none" when it presented no certificate.
	Seen string
}

// Error renders the host and both fingerprints.
func (e *CertificateMismatchError) Error() string {
	return fmt.Sprintf("checkpoint: mgmt server %s presented a certificate with SHA-256 fingerprint %s, but the pinned fingerprint is %s; the connection was closed before any request was sent", e.Host, e.Seen, e.Expected)
}

// Is matches ErrCertificateMismatch.
func (e *CertificateMismatchError) Is(target error) bool { return target == ErrCertificateMismatch }

// TaskError reports a management task that failed (ErrTaskFailed) or did
// not finish in time (ErrTaskTimeout).
type TaskError struct {
	// ID is the task-id.
	ID string
	// Name is the task-name, e.g. "Policy installation - Standard"; "" if
	// the task was never read.
	Name string
	// Status is the last status read ("failed", "in progress", an
	// unknown word…); "" if the task was never read.
	Status string
	// Progress is the last progress-percentage read.
	Progress int
	// Messages are the task's messages: comments, each task-details
	// entry's statusDescription and fault-message, and the messages of
	// stages of type "err" (prefixed with the gateway's name when known).
	Messages []string
	// Deadline is WaitTask's Timing.Deadline, for a timeout.
	Deadline time.Duration
	// Err is ErrTaskFailed or ErrTaskTimeout.
	Err error
	// Last is, for a timeout, the error of the poll loop (an
	// *upgrade.GateError matching upgrade.ErrGateTimeout, carrying the last
	// failure to read the task, if any); nil otherwise.
	Last error
}

// Error renders the task, its status and its messages.
func (e *TaskError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "checkpoint: mgmt task %s", e.ID)
	if e.Name != "" {
		fmt.Fprintf(&b, " (%s)", e.Name)
	}
	switch {
	case errors.Is(e.Err, ErrTaskTimeout):
		fmt.Fprintf(&b, " did not finish within %v", e.Deadline)
		if e.Status != "" {
			fmt.Fprintf(&b, " (last status %q, %d%%)", e.Status, e.Progress)
		} else {
			b.WriteString(" (its status could never be read)")
		}
	case e.Status == TaskStatusFailed:
		b.WriteString(" failed")
	default:
		fmt.Fprintf(&b, " ended with status %q, which is not success", e.Status)
	}
	if len(e.Messages) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Messages, "; "))
	}
	if e.Last != nil && errors.Is(e.Err, ErrTaskTimeout) {
		fmt.Fprintf(&b, " [%v]", e.Last)
	}
	return b.String()
}

// Unwrap returns Err and Last.
func (e *TaskError) Unwrap() []error {
	if e.Last == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Last}
}
