package versionpath

import (
	"errors"
	"fmt"
	"strings"
)

// Rule names, as reported in Violation.Rule.
const (
	// RuleControllerFirst is the Aviatrix controller-before-gateway rule
	// (CheckDeployment, CheckControllerHop, CheckGatewayUpgrade,
	// CheckGatewayRollback).
	RuleControllerFirst = "controller-before-gateway"
	// RuleMinimumTake is the minimum Jumbo Hotfix take before a major
	// upgrade (CheckTakeMinimum).
	RuleMinimumTake = "minimum-jhf-take"
	// RuleMultiStage is the multi-stage path via an intermediate release
	// (CheckMultiStageHop).
	RuleMultiStage = "multi-stage-path"
)

// Party kinds, as reported in Violation.Party.
const (
	PartyController = "controller" // the Aviatrix controller; Violation.Name is empty
	PartyGateway    = "gateway"    // a gateway; Violation.Name is its name
	PartyRelease    = "release"    // a release; Violation.Name is e.g. "R81.20"
)

// ErrViolation is the category of every rule violation: errors.Is(err,
// ErrViolation) holds for a *Violation and for Violations.
var ErrViolation = errors.New("versionpath: upgrade rule violated")

// Violation kinds, found in Violation.Kind and matched with errors.Is.
var (
	// ErrUnknownVersion: a version needed by the check is nil (fail closed).
	ErrUnknownVersion = errors.New("versionpath: version unknown")
	// ErrUnknownGateway: the named gateway is not in the fleet.
	ErrUnknownGateway = errors.New("versionpath: gateway not in fleet")
	// ErrGatewayAhead: a gateway runs a version above the controller's.
	ErrGatewayAhead = errors.New("versionpath: gateway ahead of controller")
	// ErrGatewayNotConverged: a gateway is not on the controller's version
	// before the controller's next hop.
	ErrGatewayNotConverged = errors.New("versionpath: gateway not on the controller version before the controller hop")
	// ErrGatewayTarget: a gateway upgrade targets something other than the
	// controller's current version.
	ErrGatewayTarget = errors.New("versionpath: gateway upgrade target is not the controller version")
	// ErrControllerRollback: the controller hop goes backwards.
	ErrControllerRollback = errors.New("versionpath: controller cannot be rolled back")
	// ErrNoPrevious: a gateway rollback was asked but the controller has no
	// known previous version.
	ErrNoPrevious = errors.New("versionpath: controller previous version unknown")
	// ErrRollbackTarget: a gateway rollback targets something other than the
	// controller's previous version.
	ErrRollbackTarget = errors.New("versionpath: gateway rollback target is not the controller previous version")
	// ErrNotRollback: a gateway "rollback" target is above the gateway's
	// version.
	ErrNotRollback = errors.New("versionpath: rollback target is above the gateway version")
	// ErrTakeTooLow: the installed Jumbo Hotfix take is below the table's
	// minimum for the upgrade.
	ErrTakeTooLow = errors.New("versionpath: jumbo hotfix take below minimum")
	// ErrStageSkipped: a hop skips a required intermediate release.
	ErrStageSkipped = errors.New("versionpath: required intermediate release skipped")
)

// Violation is one broken rule. Values are rendered as version text (or a
// take number), empty when not applicable.
type Violation struct {
	Rule   string // rule name: RuleControllerFirst, RuleMinimumTake, RuleMultiStage
	Kind   error  // what is wrong: one of the Err* violation kinds above
	Party  string // PartyController, PartyGateway or PartyRelease
	Name   string // gateway name or release name; empty for the controller
	Have   string // the party's current value, e.g. "6.5.200" or take "80"
	Want   string // what the rule requires, e.g. "6.5.300" or take "92"
	Target string // the requested version/hop, e.g. "6.6.123" or "R82"
}

// Error renders e.g. `versionpath: controller-before-gateway: gateway "gw-1":
// gateway ahead of controller (have 6.5.300, want 6.5.200)`.
func (v *Violation) Error() string {
	var b strings.Builder
	b.WriteString("versionpath: ")
	b.WriteString(v.Rule)
	b.WriteString(": ")
	b.WriteString(v.Party)
	if v.Name != "" {
		fmt.Fprintf(&b, " %q", v.Name)
	}
	b.WriteString(": ")
	if v.Kind != nil {
		b.WriteString(strings.TrimPrefix(v.Kind.Error(), "versionpath: "))
	} else {
		b.WriteString("violation")
	}
	var parts []string
	if v.Have != "" {
		parts = append(parts, "have "+v.Have)
	}
	if v.Want != "" {
		parts = append(parts, "want "+v.Want)
	}
	if v.Target != "" {
		parts = append(parts, "target "+v.Target)
	}
	if len(parts) > 0 {
		b.WriteString(" (" + strings.Join(parts, ", ") + ")")
	}
	return b.String()
}

// Unwrap returns Kind.
func (v *Violation) Unwrap() error { return v.Kind }

// Is reports whether target is ErrViolation.
func (v *Violation) Is(target error) bool { return target == ErrViolation }

// Violations is every violation one check found, in a deterministic order
// (controller first, then gateways by name, or table order). Checks return
// it as their error, never as an empty list: use errors.As(err, &vs) to get
// the list, errors.Is(err, ErrGatewayAhead) etc. to test for a kind.
type Violations []*Violation

// Error renders a one-line summary followed by one line per violation.
func (vs Violations) Error() string {
	if len(vs) == 1 {
		return vs[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "versionpath: %d rule violations", len(vs))
	for _, v := range vs {
		b.WriteString("\n\t")
		b.WriteString(v.Error())
	}
	return b.String()
}

// Unwrap returns each violation, for errors.Is and errors.As.
func (vs Violations) Unwrap() []error {
	errs := make([]error, len(vs))
	for i, v := range vs {
		errs[i] = v
	}
	return errs
}

// Err returns nil when vs is empty, vs otherwise. It avoids returning a
// non-nil error interface that holds an empty list.
func (vs Violations) Err() error {
	if len(vs) == 0 {
		return nil
	}
	return vs
}
