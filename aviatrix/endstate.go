package aviatrix

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hitless/hitless/upgrade"
)

// EndState is the state a plan leaves the cluster in: what its end-state
// check (upgrade.Plan.Converged, built by Cluster.Converged) requires after
// the last step, including when every step was found finished in a journal.
// Every plan of PlanUpgrade, PlanRollback, PlanImageUpgrade and
// Cluster.Plan carries one (DetailedPlan.EndState); a hand-written plan of
// ControllerHopSteps, GatewayBatchSteps, GatewayRollbackSteps or
// GatewayImageSteps builds its own.
type EndState struct {
	// Controller is the version the controller must run (explicit
	// Major.Minor.Build); "" leaves the controller unchecked (a rollback
	// does not move it).
	Controller string `json:"controller,omitempty"`
	// Version is the software version every gateway of Gateways must run.
	Version string `json:"version"`
	// Gateways are the gateways the plan moves (its selection). Each must
	// be observed, on Version, up with no upgrade running or failed
	// (healthy), and every HA set one of them belongs to must have a
	// forwarding member.
	Gateways []string `json:"gateways,omitempty"`
	// Images, for an image plan, maps cloud_type to the image
	// (gw_image_name) each gateway of that cloud must run, as
	// ImageRequest.Images.
	Images map[int]string `json:"images,omitempty"`
	// CompatibleImages, for an image plan without Images, requires each
	// gateway to run the controller's compatible image for Version on its
	// cloud (get_compatible_image_version). The answers the Cluster already
	// had are used; others are asked for when the check runs (the check has
	// no context: each call is bounded by the Client's Config.Timeout).
	CompatibleImages bool `json:"compatible_images,omitempty"`
}

// EndStateProblem is one way the cluster differs from an EndState.
type EndStateProblem struct {
	// Member is ControllerID or a gateway name; for a set without a
	// forwarding member, the set's primary.
	Member string `json:"member"`
	// Have is what was observed: a version, "not observed", a state such
	// as "down/upgrading (healthy=false)", or an image.
	Have string `json:"have"`
	// Want is what the end state requires.
	Want string `json:"want"`
}

// EndStateError lists every way the cluster differs from an EndState,
// member by member, each with its observed version or state. It matches
// upgrade.ErrNotConverged (the executor wraps it in an
// *upgrade.NotConvergedError).
type EndStateError struct {
	// What names the end state, e.g. "controller and gateways on 6.6.5545".
	What string
	// Problems has one entry per member (or HA set) that falls short, in
	// order: the controller, the gateways as listed, then HA sets.
	Problems []EndStateProblem
}

// maxRendered bounds how many problems EndStateError.Error spells out.
const maxRendered = 50

// Error renders `aviatrix: not in the end state (<what>): controller runs
// 6.6.5224, want 6.6.5545; gateway spoke-001 runs …`, at most 50 problems
// (then "+N more"; Problems holds them all).
func (e *EndStateError) Error() string {
	parts := make([]string, 0, min(len(e.Problems), maxRendered)+1)
	for i, p := range e.Problems {
		if i == maxRendered {
			parts = append(parts, fmt.Sprintf("(+%d more)", len(e.Problems)-maxRendered))
			break
		}
		who := "gateway " + p.Member
		if p.Member == ControllerID {
			who = "controller"
		}
		parts = append(parts, fmt.Sprintf("%s: have %s, want %s", who, p.Have, p.Want))
	}
	return fmt.Sprintf("aviatrix: not in the end state (%s): %s", e.What, strings.Join(parts, "; "))
}

// Is matches upgrade.ErrNotConverged.
func (e *EndStateError) Is(target error) bool { return target == upgrade.ErrNotConverged }

// Converged returns the end-state check of e for upgrade.Plan.Converged.
// It reads only the snapshot (and, with CompatibleImages, the controller's
// compatible images this Cluster has not had yet) and returns nil, or an
// *EndStateError naming every member that falls short with what was
// observed: the controller not on Controller; a gateway not observed, not
// on Version, not up and idle (unhealthy), or not on its image; an HA set
// of the gateways without a forwarding member. The gateway names are
// copied.
func (f *Cluster) Converged(e EndState) func(upgrade.Snapshot) error {
	e.Gateways = slices.Clone(e.Gateways)
	e.Images = maps.Clone(e.Images)
	return func(s upgrade.Snapshot) error { return f.checkEndState(s, e) }
}

// what renders an end state for errors.
func (e EndState) what() string {
	var b strings.Builder
	switch {
	case e.Controller != "" && len(e.Gateways) > 0:
		fmt.Fprintf(&b, "controller on %s, %d gateway(s) on %s", e.Controller, len(e.Gateways), e.Version)
	case e.Controller != "":
		fmt.Fprintf(&b, "controller on %s", e.Controller)
	default:
		fmt.Fprintf(&b, "%d gateway(s) on %s", len(e.Gateways), e.Version)
	}
	switch {
	case e.Images != nil:
		b.WriteString(" with their target images")
	case e.CompatibleImages:
		b.WriteString(" with the controller's compatible images")
	}
	return b.String()
}

// checkEndState is the check Converged returns.
func (f *Cluster) checkEndState(s upgrade.Snapshot, e EndState) error {
	var probs []EndStateProblem
	if e.Controller != "" {
		c, ok := f.member(s, ControllerID)
		switch {
		case !ok:
			probs = append(probs, EndStateProblem{Member: ControllerID, Have: "not observed", Want: e.Controller})
		case !sameVersion(c.Version, e.Controller):
			probs = append(probs, EndStateProblem{Member: ControllerID, Have: orUnknown(c.Version), Want: e.Controller})
		}
	}
	sets := map[int]bool{}
	for _, n := range e.Gateways {
		if i, ok := f.setOf[n]; ok {
			sets[i] = true
		}
		m, ok := f.member(s, n)
		switch {
		case !ok:
			probs = append(probs, EndStateProblem{Member: n, Have: "not observed", Want: e.Version})
			continue
		case !sameVersion(m.Version, e.Version):
			probs = append(probs, EndStateProblem{Member: n, Have: orUnknown(m.Version), Want: e.Version})
		case !m.Healthy || (m.Role != upgrade.RoleActive && m.Role != upgrade.RoleStandby):
			have := fmt.Sprintf("%s on %s, %s (healthy=%t)", memberStatus(m), orUnknown(m.Version), m.Role, m.Healthy)
			if len(m.Problems) > 0 {
				have += ": " + strings.Join(m.Problems, "; ")
			}
			probs = append(probs, EndStateProblem{Member: n, Have: have, Want: "up and idle on " + e.Version})
		}
		if e.Images == nil && !e.CompatibleImages {
			continue
		}
		want, err := f.endStateImage(e, f.cloudOf(n))
		switch {
		case err != nil:
			probs = append(probs, EndStateProblem{Member: n, Have: "image " + orUnknown(MemberImage(m)), Want: "its target image, which is unknown: " + err.Error()})
		case !sameImage(MemberImage(m), want):
			probs = append(probs, EndStateProblem{Member: n, Have: "image " + orUnknown(MemberImage(m)), Want: "image " + want})
		}
	}
	for _, i := range slices.Sorted(maps.Keys(sets)) {
		set := f.sets[i]
		fwd := false
		var states []string
		for _, m := range set.Members() {
			st, ok := f.member(s, m)
			if ok && st.Forwarding() {
				fwd = true
				break
			}
			states = append(states, fmt.Sprintf("%s %s", m, st.Role))
		}
		if !fwd {
			probs = append(probs, EndStateProblem{Member: set.Primary, Have: "HA set without a forwarding member (" + strings.Join(states, ", ") + ")", Want: "a forwarding member"})
		}
	}
	if len(probs) > 0 {
		return &EndStateError{What: e.what(), Problems: probs}
	}
	return nil
}

// endStateImage returns the image a gateway of cloud ct must run in e.
func (f *Cluster) endStateImage(e EndState, ct CloudType) (string, error) {
	if e.Images != nil {
		if img, ok := f.knownImage(e.Images, e.Version, ct); ok {
			return img, nil
		}
		return "", fmt.Errorf("%w: no target image for cloud_type %d (%s)", ErrImage, int(ct), ct)
	}
	if img, ok := f.knownImage(nil, e.Version, ct); ok {
		return img, nil
	}
	if err := f.needClient(); err != nil {
		return "", err
	}
	// upgrade.Plan.Converged has no context: bound the one question.
	timeout := f.c.cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return f.imageFor(ctx, nil, e.Version, ct)
}

// orUnknown renders an empty observation as "(unknown)".
func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
