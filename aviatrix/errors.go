package aviatrix

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hitless/hitless/upgrade"
)

// Sentinel categories; test with errors.Is. Every error this package returns
// wraps at most a few of them, and none carries the password, the API token
// or a CID (see Client redaction).
var (
	// ErrConfig: the Config is invalid (see Config.Validate); nothing was sent.
	ErrConfig = errors.New("aviatrix: invalid config")
	// ErrAuth: the controller refused the credentials (login return:false),
	// or refused a fresh session again right after a re-login.
	ErrAuth = errors.New("aviatrix: authentication failed")
	// ErrSessionExpired: the controller rejected the CID ("CID is invalid",
	// "Invalid session. Please login again.", "Session <CID> expired": the
	// reasons the Terraform provider logs in again on). The Client logs in again and retries
	// once by itself; callers only see it wrapped in ErrAuth when the retry
	// fails too.
	ErrSessionExpired = errors.New("aviatrix: session expired")
	// ErrRestarting: the controller is restarting or its API server is not
	// ready: an HTML 502/503 body, "Valid action required: login" or
	// "RequestRefused" (the replies of a restarting controller the Terraform
	// provider and Controller-HA-for-AWS wait through). Reads are retried
	// with backoff within the context deadline and Config.RetryFor.
	ErrRestarting = errors.New("aviatrix: controller restarting")
	// ErrBusy: the controller answered "Active upgrade in progress." (the
	// reason the Terraform provider reports for a concurrent upgrade). Never
	// retried
	// by the Client: another upgrade runs.
	ErrBusy = errors.New("aviatrix: controller busy: active upgrade in progress")
	// ErrTLS: the controller's certificate did not verify against the
	// configured roots. There is no switch to skip verification; give the
	// controller's CA with Config.CACertFile or Config.RootCAs.
	ErrTLS = errors.New("aviatrix: TLS certificate verification failed")
	// ErrTransport: the request failed below HTTP (connection refused,
	// reset, timeout). Reads are retried; writes are not, since the
	// controller may have acted on them.
	ErrTransport = errors.New("aviatrix: transport error")
	// ErrProtocol: the reply was not the documented envelope (not JSON,
	// unexpected status, malformed results).
	ErrProtocol = errors.New("aviatrix: unexpected reply")
	// ErrVersion: a version string is malformed (see ParseVersion).
	ErrVersion = errors.New("aviatrix: malformed version")
	// ErrUnsupportedVersion: a version outside hitless's Aviatrix scope:
	// 8.x (the 8.x upgrade API is not public: Terraform provider PR #2100
	// removed every upgrade call for 8.0), or a tagged minor such as "6.3-patch.2309" whose
	// ordering is undocumented.
	ErrUnsupportedVersion = errors.New("aviatrix: unsupported version")
	// ErrInventory: the controller's inventory is inconsistent (duplicate or
	// malformed gateway names, unknown primary) or a gateway selection does
	// not resolve.
	ErrInventory = errors.New("aviatrix: invalid inventory")
	// ErrPlan: a plan request broke one or more rules; *PlanError lists
	// every problem at once.
	ErrPlan = errors.New("aviatrix: plan refused")
	// ErrBadBatch: a user's explicit batch puts two members of one HA pair
	// or gateway group together, or a primary before its HA member(s), or
	// names a gateway twice or one that does not exist (*BatchError).
	ErrBadBatch = errors.New("aviatrix: invalid batch")
	// ErrUpgradeFailed: the controller reported a failed controller or
	// gateway upgrade (platform status other than "in progress"/"complete",
	// update_status "upgrade_fail"), or the member came back on another
	// version (*UpgradeError).
	ErrUpgradeFailed = errors.New("aviatrix: upgrade failed")
	// ErrTimeout: a controller or gateway upgrade did not finish before its
	// deadline (*UpgradeError; the last observed error is wrapped too, e.g.
	// ErrRestarting for a controller that never came back).
	ErrTimeout = errors.New("aviatrix: upgrade did not finish before its deadline")
	// ErrNotSupported: the operation has no Aviatrix equivalent (e.g. an
	// explicit Failover: the controller drains ActiveMesh gateways itself).
	ErrNotSupported = errors.New("aviatrix: operation not supported")
	// ErrConcurrency: an image plan asked for more simultaneous image
	// upgrades than MaxImageBatchSize without ImageRequest.Force, or a
	// negative BatchSize. Simultaneous image upgrades or rollbacks of many
	// gateways, especially GCP gateways in one project, have failed
	// (AVX-20159/43461/45567, Aviatrix release notes).
	ErrConcurrency = errors.New("aviatrix: too many simultaneous image upgrades")
	// ErrImage: an image plan has no usable target image for a gateway's
	// cloud_type (missing or malformed ImageRequest.Images entry), or the
	// controller's get_compatible_image_version answer could not be had.
	ErrImage = errors.New("aviatrix: no usable gateway image version")
	// ErrOutage: a selected gateway has no HA peer, so upgrading or rolling it
	// back interrupts its traffic (Aviatrix Docs, "Selective Gateway
	// Upgrade"). Plans refuse it
	// unless the request sets AllowOutage, which puts each such gateway in a
	// batch of its own whose step declares downtime.
	ErrOutage = errors.New("aviatrix: gateway has no HA peer: its upgrade is an outage")
	// ErrPairUnsafe: disrupting the named gateways would put two members of
	// one HA set (pair or group) down at once, counting members already
	// down, unhealthy or unobserved, or leave a set they touch without
	// another healthy member (Aviatrix Docs, "Selective Gateway Upgrade":
	// "never put both
	// members of an ActiveMesh pair or group in the same batch").
	// Returned as a *PairError by Cluster.CheckPairs / CheckDisruption, by a
	// gateway Member's Install and Rollback, and by a gateway step right
	// before it writes; it also matches upgrade.ErrUnsafe.
	ErrPairUnsafe = errors.New("aviatrix: unsafe for an HA set")
	// ErrHopSkipped: a controller hop is not the next hop of the documented
	// path from the controller's current version: versionpath.PathWith
	// over the release catalog and PathRules is not exactly [target], so
	// the hop would skip a minor (6.9 before 7.0 included, even when the
	// catalog omits it) or leave the current minor before its latest build
	// (Aviatrix Docs, "Upgrade Overview": minors are sequential, multi-hop
	// upgrades are not
	// supported). *HopError; nothing is sent.
	ErrHopSkipped = errors.New("aviatrix: controller hop is not the next hop of the upgrade path")
)

// PairError lists every HA set (pair or group) that disrupting Gateways
// would leave unprotected (see ErrPairUnsafe). It matches ErrPairUnsafe and
// upgrade.ErrUnsafe.
type PairError struct {
	// Gateways are the gateways whose disruption was checked, as given.
	Gateways []string
	// Problems says what is wrong, one entry per failing set or unknown
	// gateway, e.g. "HA set of spoke-001: spoke-001 and spoke-001-hagw in
	// one batch (never both members of a pair or group at once)" or
	// "HA set of spoke-002: no other member would forward: spoke-002 is down
	// (healthy=false)".
	Problems []string
}

// Error renders `aviatrix: <problem>; <problem>…`.
func (e *PairError) Error() string { return "aviatrix: " + strings.Join(e.Problems, "; ") }

// Is matches ErrPairUnsafe and upgrade.ErrUnsafe.
func (e *PairError) Is(target error) bool {
	return target == ErrPairUnsafe || target == upgrade.ErrUnsafe
}

// HopError reports a controller hop that is not the next hop of the upgrade
// path (ErrHopSkipped).
type HopError struct {
	// From is the controller's current version; To the hop's target.
	From, To string
	// Path is the path versionpath.PathWith (with PathRules) found from From to To over the
	// catalog (more than one hop), or nil when there is none.
	Path []string
	// Err is the path error (a *versionpath.PathError: ErrMissingMinor,
	// ErrNotInCatalog…) when there is no path, else nil.
	Err error
}

// Error renders the hop and either the path it skips or why there is none.
func (e *HopError) Error() string {
	s := fmt.Sprintf("aviatrix: controller hop %s -> %s is not the next hop of the upgrade path", e.From, e.To)
	if e.Err != nil {
		return s + ": " + e.Err.Error()
	}
	return s + " (the path is " + strings.Join(e.Path, " -> ") + "; one hop at a time)"
}

// Unwrap returns ErrHopSkipped and Err.
func (e *HopError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrHopSkipped}
	}
	return []error{ErrHopSkipped, e.Err}
}

// APIError is a return:false reply (or an HTTP-level failure) for one
// action. Reason is the controller's text with every known secret redacted
// (CID, password, API token). Kind, when set, is the category the reason
// maps to (ErrRestarting, ErrBusy, ErrSessionExpired, ErrAuth) and is what
// Unwrap returns, so errors.Is(err, ErrBusy) works on an *APIError.
type APIError struct {
	// Action is the API action, e.g. "upgrade_selected_gateway".
	Action string
	// Status is the HTTP status code; 200 for return:false envelopes.
	Status int
	// Reason is the controller's reason text, redacted. Some reasons
	// already embed "rest API <action> ... failed:" (as in the Terraform
	// provider's test replies for get_gateway_group_details).
	Reason string
	// Kind is the category (may be nil for an ordinary refusal).
	Kind error
	// HTML is true when the reply was an HTML page instead of JSON (a
	// proxy or maintenance page while the controller restarts), whatever
	// its HTTP status. For a write it means the outcome is unknown: the
	// request may have reached the controller before the page was served,
	// so the Client never re-sends it (see WriteOutcomeUnknown).
	HTML bool
}

// Error renders `aviatrix: <action>: <reason>`.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("aviatrix: ")
	b.WriteString(e.Action)
	if e.Status != 0 && e.Status != 200 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	b.WriteString(": ")
	if e.Reason == "" {
		b.WriteString("refused without a reason")
	} else {
		b.WriteString(e.Reason)
	}
	if e.Kind != nil {
		b.WriteString(" (")
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "aviatrix: "))
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns Kind.
func (e *APIError) Unwrap() error { return e.Kind }

// VersionError reports a version string that ParseVersion refused. Err is
// ErrVersion (malformed) or ErrUnsupportedVersion (8.x).
type VersionError struct {
	// Input is the text as given (at most 64 bytes are rendered).
	Input string
	// Reason says what is wrong.
	Reason string
	// Err is the category.
	Err error
}

// Error renders `aviatrix: version "…": <reason>`.
func (e *VersionError) Error() string {
	in := e.Input
	if len(in) > 64 {
		in = in[:64] + "..."
	}
	return fmt.Sprintf("aviatrix: version %q: %s", in, e.Reason)
}

// Unwrap returns Err.
func (e *VersionError) Unwrap() error { return e.Err }

// BatchError reports one problem with a user's explicit batch list
// (UpgradeRequest.Batches). Batch is 1-based; 0 means the list as a whole.
type BatchError struct {
	// Batch is the 1-based batch index (0: the list as a whole).
	Batch int
	// Gateways are the gateways concerned.
	Gateways []string
	// Set is the HA set (pair or group) concerned, named by its primary.
	Set string
	// Reason says what is wrong.
	Reason string
}

// Error renders the batch, the gateways and the reason.
func (e *BatchError) Error() string {
	where := "batches"
	if e.Batch > 0 {
		where = fmt.Sprintf("batch %d", e.Batch)
	}
	s := fmt.Sprintf("aviatrix: %s [%s]: %s", where, strings.Join(e.Gateways, ", "), e.Reason)
	if e.Set != "" {
		s += " (HA set of " + e.Set + ")"
	}
	return s
}

// Is matches ErrBadBatch.
func (e *BatchError) Is(target error) bool { return target == ErrBadBatch }

// PlanError lists every problem found while planning, at once: version
// parse errors, path errors (*versionpath.PathError), rule violations
// (versionpath.Violations), batch errors (*BatchError), unsupported
// versions. errors.Is works with each of them (e.g.
// versionpath.ErrGatewayAhead, ErrBadBatch), with ErrPlan and with
// upgrade.ErrInvalid.
type PlanError struct {
	// What names the plan, e.g. "upgrade to 6.7.1574".
	What string
	// Problems lists every problem found, in a deterministic order.
	Problems []error
}

// Error renders a summary and one line per problem.
func (e *PlanError) Error() string {
	if len(e.Problems) == 1 {
		return fmt.Sprintf("aviatrix: %s refused: %v", e.What, e.Problems[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "aviatrix: %s refused: %d problems", e.What, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(strings.ReplaceAll(p.Error(), "\n", "\n\t"))
	}
	return b.String()
}

// Unwrap returns the problems.
func (e *PlanError) Unwrap() []error { return e.Problems }

// Is matches ErrPlan and upgrade.ErrInvalid.
func (e *PlanError) Is(target error) bool { return target == ErrPlan || target == upgrade.ErrInvalid }

// UpgradeError reports a controller or gateway upgrade that failed or timed
// out. Err is ErrUpgradeFailed or ErrTimeout; Last, when set, is the last
// error seen while polling (e.g. ErrRestarting) and is unwrapped too.
type UpgradeError struct {
	// Party is "controller" or "gateway".
	Party string
	// Name is the gateway name; empty for the controller.
	Name string
	// Target is the version asked for.
	Target string
	// Status is the last status text seen ("upgrade_fail", "failed",
	// "in progress", or the version found after the upgrade).
	Status string
	// Reason is the controller's reason, redacted, if any.
	Reason string
	// Err is ErrUpgradeFailed or ErrTimeout.
	Err error
	// Last is the last error seen while polling, or nil.
	Last error
}

// Error renders the party, target, status and cause.
func (e *UpgradeError) Error() string {
	who := e.Party
	if e.Name != "" {
		who += " " + e.Name
	}
	s := fmt.Sprintf("aviatrix: %s upgrade to %s: %s", who, e.Target, strings.TrimPrefix(e.Err.Error(), "aviatrix: "))
	if e.Status != "" {
		s += " (status " + e.Status + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Last != nil {
		s += "; last error: " + e.Last.Error()
	}
	return s
}

// Unwrap returns Err and Last.
func (e *UpgradeError) Unwrap() []error {
	if e.Last == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Last}
}
