package versionpath

import (
	"cmp"
	"slices"
)

// Deployment is the version state of one Aviatrix controller and the gateways it manages,
// the input of the controller-before-gateway checks.
type Deployment struct {
	// Controller is the controller's current version (list_version_info
	// current_version). Required: nil is reported as ErrUnknownVersion.
	Controller Version
	// ControllerPrevious is the controller's previous version
	// (list_version_info previous_version), the only allowed gateway
	// rollback target. nil when unknown or none.
	ControllerPrevious Version
	// Gateways maps every gateway name to its software version
	// (gw_software_version). It must include HA gateways ("<primary>-hagw")
	// and gateway-group members: each is just one more named gateway here.
	Gateways map[string]Version
}

// CheckDeployment checks the steady-state invariant of the controller-before-
// gateway rule: no gateway runs a version above the controller's. Gateways
// below the controller are allowed (an upgrade is in progress).
//
// Source: Aviatrix selective upgrade, controller first then gateways
// (Aviatrix Docs HowTos/selective_upgrade.rst, upgrade-overview).
//
// It returns nil or Violations with every problem at once: ErrUnknownVersion
// (controller or a gateway nil), ErrGatewayAhead (one per gateway).
func CheckDeployment(f Deployment) error {
	if f.Controller == nil {
		return Violations{unknown(PartyController, "", "")}
	}
	var vs Violations
	for name, gv := range f.Gateways {
		if v := gatewayAhead(f, name, gv, ""); v != nil {
			vs = append(vs, v)
		}
	}
	sortViolations(vs)
	return vs.Err()
}

// CheckControllerHop checks that the controller may move to next, its next
// hop (choose it with Path):
//
//   - the controller cannot be rolled back: next below the current version is
//     ErrControllerRollback (next equal to it is a no-op and allowed);
//   - every gateway, HA and group members included, must run exactly the
//     controller's current version before the controller's next hop: a
//     gateway above it is ErrGatewayAhead, any other difference
//     ErrGatewayNotConverged.
//
// Source: "All gateways must match the controller before the next controller
// hop" and "the controller ... cannot be rolled back" (Aviatrix Docs
// HowTos/selective_upgrade.rst, upgrade-overview, pre-check 1 and
// Rollback).
//
// It returns nil or Violations listing every problem at once, controller
// first, then gateways by name; nil versions are ErrUnknownVersion.
func CheckControllerHop(f Deployment, next Version) error {
	if f.Controller == nil {
		return Violations{unknown(PartyController, "", versionString(next))}
	}
	var vs Violations
	target := ""
	switch {
	case next == nil:
		vs = append(vs, unknown(PartyController, "", "<nil>"))
	case next.Compare(f.Controller) < 0:
		target = next.String()
		vs = append(vs, &Violation{Rule: RuleControllerFirst, Kind: ErrControllerRollback, Party: PartyController,
			Have: f.Controller.String(), Want: ">= " + f.Controller.String(), Target: target})
	default:
		target = next.String()
	}
	var gws Violations
	for name, gv := range f.Gateways {
		if v := gatewayAhead(f, name, gv, target); v != nil {
			gws = append(gws, v)
			continue
		}
		if gv.Compare(f.Controller) != 0 {
			gws = append(gws, &Violation{Rule: RuleControllerFirst, Kind: ErrGatewayNotConverged, Party: PartyGateway,
				Name: name, Have: gv.String(), Want: f.Controller.String(), Target: target})
		}
	}
	sortViolations(gws)
	return append(vs, gws...).Err()
}

// CheckGatewayUpgrade checks that gateway gw may be upgraded to `to`:
// gateways may only be upgraded to the controller's current version
// (upgrade_selected_gateway with version = software_version = the
// controller's current_version) and are never ahead of the controller.
// Upgrading a gateway already on `to` is a no-op and allowed.
//
// Source: Aviatrix Docs HowTos/selective_upgrade.rst step 4
// (Aviatrix upgrade pre-checks and rollback).
//
// It returns nil or Violations: ErrUnknownGateway, ErrUnknownVersion,
// ErrGatewayAhead (the gateway is already above the controller),
// ErrGatewayTarget (to differs from the controller's version).
func CheckGatewayUpgrade(f Deployment, gw string, to Version) error {
	if f.Controller == nil {
		return Violations{unknown(PartyController, "", versionString(to))}
	}
	gv, ok := f.Gateways[gw]
	if !ok {
		return Violations{{Rule: RuleControllerFirst, Kind: ErrUnknownGateway, Party: PartyGateway, Name: gw, Target: versionString(to)}}
	}
	if to == nil {
		return Violations{unknown(PartyGateway, gw, "<nil>")}
	}
	var vs Violations
	if v := gatewayAhead(f, gw, gv, to.String()); v != nil {
		vs = append(vs, v)
	}
	if to.Compare(f.Controller) != 0 {
		vs = append(vs, &Violation{Rule: RuleControllerFirst, Kind: ErrGatewayTarget, Party: PartyGateway,
			Name: gw, Have: versionString(gv), Want: f.Controller.String(), Target: to.String()})
	}
	return vs.Err()
}

// CheckGatewayRollback checks that gateway gw may be rolled back to `to`:
// only gateways roll back, serially, and only to the controller's previous
// version (upgrade_selected_gateway software_version="previous"); the target
// must not be above the gateway's version. A gateway already on `to` is a
// no-op and allowed. (The controller itself cannot be rolled back: see
// CheckControllerHop.)
//
// Source: Aviatrix Docs HowTos/selective_upgrade.rst, Rollback
// (Aviatrix upgrade pre-checks and rollback).
//
// It returns nil or Violations: ErrUnknownGateway, ErrUnknownVersion,
// ErrNoPrevious (Deployment.ControllerPrevious is nil), ErrRollbackTarget (to is
// not the controller's previous version), ErrNotRollback (to is above the
// gateway's version).
func CheckGatewayRollback(f Deployment, gw string, to Version) error {
	gv, ok := f.Gateways[gw]
	if !ok {
		return Violations{{Rule: RuleControllerFirst, Kind: ErrUnknownGateway, Party: PartyGateway, Name: gw, Target: versionString(to)}}
	}
	if to == nil || gv == nil {
		return Violations{unknown(PartyGateway, gw, versionString(to))}
	}
	var vs Violations
	switch {
	case f.ControllerPrevious == nil:
		vs = append(vs, &Violation{Rule: RuleControllerFirst, Kind: ErrNoPrevious, Party: PartyGateway,
			Name: gw, Have: gv.String(), Target: to.String()})
	case to.Compare(f.ControllerPrevious) != 0:
		vs = append(vs, &Violation{Rule: RuleControllerFirst, Kind: ErrRollbackTarget, Party: PartyGateway,
			Name: gw, Have: gv.String(), Want: f.ControllerPrevious.String(), Target: to.String()})
	}
	if to.Compare(gv) > 0 {
		vs = append(vs, &Violation{Rule: RuleControllerFirst, Kind: ErrNotRollback, Party: PartyGateway,
			Name: gw, Have: gv.String(), Want: "<= " + gv.String(), Target: to.String()})
	}
	return vs.Err()
}

// gatewayAhead returns the violation for a gateway that is nil or above the
// controller, or nil. f.Controller must not be nil.
func gatewayAhead(f Deployment, name string, gv Version, target string) *Violation {
	if gv == nil {
		return unknown(PartyGateway, name, target)
	}
	if gv.Compare(f.Controller) > 0 {
		return &Violation{Rule: RuleControllerFirst, Kind: ErrGatewayAhead, Party: PartyGateway,
			Name: name, Have: gv.String(), Want: "<= " + f.Controller.String(), Target: target}
	}
	return nil
}

func unknown(party, name, target string) *Violation {
	return &Violation{Rule: RuleControllerFirst, Kind: ErrUnknownVersion, Party: party, Name: name, Target: target}
}

// sortViolations orders gateway violations by name, then kind, so that
// results do not depend on map iteration order.
func sortViolations(vs Violations) {
	slices.SortFunc(vs, func(a, b *Violation) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind.Error(), b.Kind.Error())
	})
}
