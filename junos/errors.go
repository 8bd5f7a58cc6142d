package junos

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrUnrecognized is the category of every parse failure of this package:
// errors.Is(err, ErrUnrecognized) holds for every *ParseError. Parsing fails
// closed: output that cannot be read is never taken for a healthy state.
var ErrUnrecognized = errors.New("junos: unrecognized command output")

// ErrDeviceError is the category of every *DeviceError: the device answered
// with an error message (an "error:" line, an xnm:error or rpc-error
// element) instead of the output asked for.
var ErrDeviceError = errors.New("junos: the device reported an error")

// ErrNotClustered matches a *DeviceError whose message says the chassis
// cluster is not enabled ("error: Chassis cluster is not enabled", the
// reply of a standalone SRX to `show chassis cluster status` and to the
// get-chassis-cluster-status RPC). It means "standalone device", not a
// failure of the cluster.
var ErrNotClustered = errors.New("junos: chassis cluster is not enabled")

// maxErrorText is how much of the offending line a *ParseError keeps.
const maxErrorText = 160

// ParseError says which output could not be read, where and why.
// errors.Is(err, ErrUnrecognized) is true for every *ParseError; errors.As
// gives the fields. When a lower layer failed (a malformed version string,
// an XML syntax error), Unwrap returns that error too, e.g. a
// *versionpath.ParseError.
type ParseError struct {
	// What is the command or RPC whose output was parsed, e.g. "show
	// chassis cluster status".
	What string
	// Line is the 1-based line of the output where the problem is; 0 when
	// it concerns the whole output (a missing line, an XML element).
	Line int
	// Text is the offending line or element text, cut to 160 bytes (on a
	// UTF-8 boundary); "" when there is none.
	Text string
	// Reason says what is wrong, e.g. `unknown redundancy group status
	// "standby"`.
	Reason string

	err error
}

// Error returns e.g. `junos: cannot read "show chassis cluster status"
// output: line 14: unknown redundancy group status "standby": "node0  100
// standby  no  no  None"`.
func (e *ParseError) Error() string {
	msg := "junos: cannot read " + strconv.Quote(e.What) + " output: "
	if e.Line > 0 {
		msg += "line " + strconv.Itoa(e.Line) + ": "
	}
	msg += e.Reason
	if e.Text != "" {
		msg += ": " + strconv.Quote(e.Text)
	}
	return msg
}

// Is reports whether target is ErrUnrecognized.
func (e *ParseError) Is(target error) bool { return target == ErrUnrecognized }

// Unwrap returns the underlying cause, if any.
func (e *ParseError) Unwrap() error { return e.err }

func newParseError(what string, line int, text, reason string, cause error) *ParseError {
	return &ParseError{What: what, Line: line, Text: cut(text, maxErrorText), Reason: reason, err: cause}
}

// cut returns at most n bytes of s without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// notClusteredRe matches the not-clustered message (any case, with or
// without "error: " and a final period).
var notClusteredRe = regexp.MustCompile(`(?i)\bchassis cluster is not enabled\b`)

// DeviceError is an error message the device returned instead of the
// output asked for: a CLI "error:" line or an xnm:error / rpc-error element
// of an XML reply. errors.Is(err, ErrDeviceError) is true for every
// *DeviceError, and errors.Is(err, ErrNotClustered) when the message says
// "Chassis cluster is not enabled".
type DeviceError struct {
	// What is the command or RPC, e.g. "show chassis cluster status".
	What string
	// Message is the device's message, verbatim but trimmed, e.g. "error:
	// Chassis cluster is not enabled" (cut to 160 bytes).
	Message string
	// Daemon is the source-daemon element of an xnm:error, e.g. "jsrpd";
	// "" in text output.
	Daemon string
	// Line is the 1-based line of a text error; 0 for XML.
	Line int
}

// Error returns e.g. `junos: "show chassis cluster status": the device
// reported an error: "error: Chassis cluster is not enabled"`.
func (e *DeviceError) Error() string {
	msg := "junos: " + strconv.Quote(e.What) + ": the device reported an error"
	if e.Daemon != "" {
		msg += " (" + e.Daemon + ")"
	}
	return msg + ": " + strconv.Quote(e.Message)
}

// Is reports whether target is ErrDeviceError, or ErrNotClustered for the
// not-clustered message.
func (e *DeviceError) Is(target error) bool {
	return target == ErrDeviceError || target == ErrNotClustered && notClusteredRe.MatchString(e.Message)
}

// Categories of a failed software install, matched with errors.Is on a
// *SoftwareAddError (see AddErrorKind).
var (
	// ErrSoftwareAdd matches every *SoftwareAddError.
	ErrSoftwareAdd = errors.New("junos: software add failed")
	// ErrInsufficientSpace: not enough storage to stage or install the
	// package ("ERROR: insufficient space", "No space left on device").
	ErrInsufficientSpace = errors.New("junos: software add: insufficient space")
	// ErrValidation: the package or the configuration failed validation or
	// a checksum/signature check ("Validation failed", "ERROR: ...").
	ErrValidation = errors.New("junos: software add: validation failed")
	// ErrWrongPlatform: the package or command is not valid for this
	// platform ("... is not valid on the vsrx").
	ErrWrongPlatform = errors.New("junos: software add: wrong platform")
	// ErrInstallPending: an earlier install waits for a reboot ("There is
	// already an install pending.").
	ErrInstallPending = errors.New("junos: software add: an install is already pending")
)

// AddErrorKind classifies a failed `request system software add`.
type AddErrorKind string

// The kinds of AddErrorKind, from the most to the least specific.
const (
	AddPending           AddErrorKind = "pending"
	AddInsufficientSpace AddErrorKind = "insufficient-space"
	AddWrongPlatform     AddErrorKind = "wrong-platform"
	AddValidation        AddErrorKind = "validation"
	AddOther             AddErrorKind = "other"
)

// sentinel returns the errors.Is target of k (nil for AddOther).
func (k AddErrorKind) sentinel() error {
	switch k {
	case AddPending:
		return ErrInstallPending
	case AddInsufficientSpace:
		return ErrInsufficientSpace
	case AddWrongPlatform:
		return ErrWrongPlatform
	case AddValidation:
		return ErrValidation
	}
	return nil
}

// SoftwareAddError is a `request system software add` (RPC
// request-package-add) that the device refused or that failed.
// errors.Is(err, ErrSoftwareAdd) is true for every *SoftwareAddError, and
// errors.Is with ErrInstallPending, ErrInsufficientSpace, ErrWrongPlatform
// or ErrValidation according to Kind.
type SoftwareAddError struct {
	// Kind is the most specific failure found.
	Kind AddErrorKind
	// Message is the first output line of that kind, trimmed, e.g. "There
	// is already an install pending." (cut to 160 bytes), or
	// "package-result 1" when only the result code failed.
	Message string
	// Lines are every failure line found, in output order (each cut to 160
	// bytes).
	Lines []string
	// PackageResult is the <package-result> of an XML reply (non-zero on
	// failure); meaningful only when HasPackageResult.
	PackageResult    int
	HasPackageResult bool
}

// Error returns e.g. `junos: software add failed (pending): "There is
// already an install pending."`.
func (e *SoftwareAddError) Error() string {
	return fmt.Sprintf("junos: software add failed (%s): %q", e.Kind, e.Message)
}

// Is reports whether target is ErrSoftwareAdd or the sentinel of Kind.
func (e *SoftwareAddError) Is(target error) bool {
	return target == ErrSoftwareAdd || target != nil && target == e.Kind.sentinel()
}

// Health problems reported by ClusterStatus.Healthy, matched with errors.Is
// on a *HealthError.
var (
	// ErrUnhealthy matches every *HealthError.
	ErrUnhealthy = errors.New("junos: chassis cluster is not healthy")
	// ErrRoles: a redundancy group does not have exactly one primary and one
	// secondary node (also: no redundancy group, RG0 missing).
	ErrRoles = errors.New("junos: redundancy group without exactly one primary and one secondary")
	// ErrMonitorFailure: a node lists monitor failures (CS, IF, IP, ...) or
	// has priority 0 without being lost.
	ErrMonitorFailure = errors.New("junos: monitor failure")
	// ErrNodeDown: a node is lost or disabled.
	ErrNodeDown = errors.New("junos: node lost or disabled")
	// ErrManualFailover: a manual failover is still in effect (Manual "yes"
	// or priority 255) and needs `request chassis cluster failover reset`.
	ErrManualFailover = errors.New("junos: manual failover still in effect")
)

// HealthError is one problem found by ClusterStatus.Healthy, naming the
// redundancy group and node. errors.Is(err, ErrUnhealthy) holds, and
// errors.Is with its Kind (ErrRoles, ErrMonitorFailure, ErrNodeDown,
// ErrManualFailover).
type HealthError struct {
	// RG is the redundancy group number; -1 for a problem of the whole
	// status (no redundancy group at all, or RG0 missing).
	RG int
	// Node is "node0" or "node1"; "" for a problem of the whole group.
	Node string
	// Kind is one of ErrRoles, ErrMonitorFailure, ErrNodeDown,
	// ErrManualFailover.
	Kind error
	// Detail says what was seen, e.g. "monitor failures CS, priority 0".
	Detail string
}

// Error returns e.g. "junos: chassis cluster is not healthy: RG1 node1:
// monitor failure: monitor failures CS, priority 0".
func (e *HealthError) Error() string {
	where := "cluster"
	if e.RG >= 0 {
		where = "RG" + strconv.Itoa(e.RG)
	}
	if e.Node != "" {
		where += " " + e.Node
	}
	kind := "problem"
	if e.Kind != nil {
		kind = strings.TrimPrefix(e.Kind.Error(), "junos: ")
	}
	return "junos: chassis cluster is not healthy: " + where + ": " + kind + ": " + e.Detail
}

// Is reports whether target is ErrUnhealthy.
func (e *HealthError) Is(target error) bool { return target == ErrUnhealthy }

// Unwrap returns Kind.
func (e *HealthError) Unwrap() error { return e.Kind }
