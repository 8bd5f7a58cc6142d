package aviatrix

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// UpgradeRequest says what PlanUpgrade should do.
type UpgradeRequest struct {
	// Target is the controller's final version: an explicit
	// Major.Minor.Build ("6.7.1574"), or Major.Minor ("6.7") for the latest
	// build of that minor in the catalog, resolved at planning time (the
	// plan itself only ever sends explicit versions). "" means the
	// controller's current version: only lagging selected gateways are
	// upgraded to it.
	Target string `json:"target"`
	// Catalog lists the releases available (any order; "UserConnect-"
	// accepted). nil means the Cluster inventory's Releases. The controller's
	// current and latest versions are always added.
	Catalog []string `json:"catalog,omitempty"`
	// Groups are the user's gateway groups, upgraded in order after each
	// controller hop (a gateway belongs to the first group it matches).
	// nil means one group of every gateway. Within a group: HA members
	// first, then primaries, at most BatchSize gateways per batch, never
	// two members of one HA set in a batch.
	Groups []Selector `json:"groups,omitempty"`
	// Batches, instead of Groups, gives the batches explicitly (gateway
	// names). They are validated (*BatchError, ErrBadBatch): no two members
	// of an HA set in one batch, no primary before its HA member(s), no
	// name twice or unknown, at most BatchSize per batch when it is set.
	Batches [][]string `json:"batches,omitempty"`
	// BatchSize is the batch size; 0 means 1.
	BatchSize int `json:"batch_size,omitempty"`
	// AllowOutage lets the plan upgrade gateways without an HA peer, each
	// alone in a step that declares downtime (see ErrOutage).
	AllowOutage bool `json:"allow_outage,omitempty"`
	// CatchUp lets the plan first upgrade selected gateways that are behind
	// the controller to the controller's current version. Set it to resume
	// an interrupted run (the same request, the same journal): after a
	// controller hop the gateways lag the controller. Without it such
	// a gateway refuses the plan (versionpath.ErrGatewayNotConverged): the
	// documented pre-check is that every gateway already equals the
	// controller (Aviatrix Docs, "Selective Gateway Upgrade"; a controller on
	// 6.5.300 with
	// gateways rolled back to 6.5.200 "needs support"). With it, only
	// gateways on the controller's previous version (the state right after
	// a controller hop) or in the controller's current minor (builds can be
	// skipped) are caught up; a gateway further behind would skip minors
	// and still refuses the plan with versionpath.ErrGatewayNotConverged.
	// The gateway steps' safety checks apply the same limit at run time.
	CatchUp bool `json:"catch_up,omitempty"`
}

// RollbackRequest says what PlanRollback should do. Only gateways roll
// back, only to the controller's previous version, one member of an HA set
// at a time (Aviatrix Docs, "Selective Gateway Upgrade", rollback); the
// controller cannot be rolled back.
type RollbackRequest struct {
	// To is the rollback version; "" means the controller's previous
	// version, the only one allowed.
	To string `json:"to,omitempty"`
	// Groups selects the gateways, in order; nil means every gateway (those
	// not above To have nothing to do and get no step). The batches are
	// built over the whole selection, whatever each gateway's version, so
	// re-planning the same request after a crash resumes the journal.
	Groups []Selector `json:"groups,omitempty"`
	// Batches gives explicit batches instead (validated like
	// UpgradeRequest.Batches).
	Batches [][]string `json:"batches,omitempty"`
	// BatchSize is the batch size (members of different HA sets); 0
	// means 1. Simultaneous rollbacks of many gateways have failed
	// (AVX-20159/43461/45567): keep it low.
	BatchSize int `json:"batch_size,omitempty"`
	// AllowOutage lets the plan roll back gateways without an HA peer.
	AllowOutage bool `json:"allow_outage,omitempty"`
}

// Phase is one stage of a plan: an optional controller hop to Version,
// then gateway batches moved to Version.
type Phase struct {
	// Version is the controller's version during the phase, and the
	// gateways' target.
	Version string `json:"version"`
	// Controller is true when the phase starts with the controller hop.
	Controller bool `json:"controller"`
	// Batches lists the gateways moved in each batch, in order.
	Batches [][]string `json:"batches,omitempty"`
}

// DetailedPlan is an Aviatrix plan: the upgrade.Plan to give an upgrade.Executor
// (with the Cluster as its cluster) plus what the planner decided.
type DetailedPlan struct {
	upgrade.Plan
	// Kind is "upgrade", "rollback" or "image" (PlanImageUpgrade).
	Kind string `json:"kind"`
	// From is the controller's version at planning time.
	From string `json:"from"`
	// To is the controller's final version (upgrade), or the gateways'
	// rollback version.
	To string `json:"to"`
	// Hops are the controller hops, explicit versions, in order
	// (versionpath.PathWith with PathRules).
	Hops []string `json:"hops,omitempty"`
	// Phases details the controller hops and gateway batches.
	Phases []Phase `json:"phases"`
	// Images is an image plan's target image per cloud_type (see
	// ImageRequest.Images); nil when the steps ask the controller at run
	// time, and for other kinds.
	Images map[int]string `json:"images,omitempty"`
	// Outages lists gateways whose step declares downtime (AllowOutage).
	Outages []string `json:"outages,omitempty"`
	// Warnings are documented caveats that apply to this plan.
	Warnings []string `json:"warnings,omitempty"`
	// EndState is what the plan's end-state check (Plan.Converged, set
	// from it with Cluster.Converged) requires after the last step: the
	// executor runs it also when every step is found finished in a
	// journal, so a replayed journal cannot report success on a cluster
	// that does not show the work.
	EndState EndState `json:"end_state"`
}

// batch is one batch's full composition (independent of versions, so step
// IDs survive re-planning) and whether it is an outage step.
type batch struct {
	names  []string
	outage bool
}

// stepKey is the stable suffix of a batch's step IDs, "bNNN-hhhhhhhh": the
// 1-based batch index k (at least three digits) and the FNV-1a 32-bit hash
// (hash/fnv) of the batch's full composition, each name followed by ','.
// Built without fmt: a plan of 10,000 gateways has tens of thousands.
func (b batch) stepKey(k int) string {
	h := uint32(2166136261)
	for _, n := range b.names {
		for i := 0; i < len(n); i++ {
			h ^= uint32(n[i])
			h *= 16777619
		}
		h ^= ','
		h *= 16777619
	}
	var buf [32]byte
	out := append(buf[:0], 'b')
	switch {
	case k < 0:
		out = fmt.Appendf(out, "%03d", k)
	case k < 10:
		out = append(out, '0', '0')
	case k < 100:
		out = append(out, '0')
	}
	if k >= 0 {
		out = strconv.AppendInt(out, int64(k), 10)
	}
	out = append(out, '-')
	const hexDigits = "0123456789abcdef"
	for sh := 28; sh >= 0; sh -= 4 {
		out = append(out, hexDigits[(h>>sh)&0xf])
	}
	return string(out)
}

// plannable parses a version the planner will act on: explicit build, no
// tag, not 8.x.
func plannable(what, s string) (Version, error) {
	v, err := plannableText(s)
	if err != nil {
		return Version{}, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// plannableText is plannable without the "what" prefix on errors.
func plannableText(s string) (Version, error) {
	v, err := ParseVersion(s)
	if err != nil {
		return Version{}, err
	}
	if v.Tag() != "" {
		return Version{}, &VersionError{Input: s, Err: ErrUnsupportedVersion,
			Reason: "tagged minors (e.g. 6.3-patch.2309) have no documented order; out of scope (6.5–7.2)"}
	}
	if !v.HasBuild() {
		return Version{}, &VersionError{Input: s, Err: ErrVersion, Reason: "no build number"}
	}
	return v, nil
}

// versionCache parses each distinct version text once: a cluster of 10,000
// gateways runs a handful of versions.
type versionCache map[string]parsedVersion

// parsedVersion is one versionCache entry: the parse result of a text.
type parsedVersion struct {
	v   Version
	err error
}

// plannable is plannableText, cached.
func (c versionCache) plannable(s string) (Version, error) {
	if r, ok := c[s]; ok {
		return r.v, r.err
	}
	v, err := plannableText(s)
	c[s] = parsedVersion{v, err}
	return v, err
}

// PlanUpgrade plans the selective upgrade of the Cluster as documented
// (Aviatrix Docs, "Selective Gateway Upgrade"): first any selected gateway
// below the controller is
// brought to the controller's version; then, for each controller hop of
// versionpath.PathWith with PathRules (latest build of the current minor,
// then each minor in turn, a major left only from its last minor, explicit
// versions only): the controller hop (upgrade_platform, poll
// through the restart window, log in again, confirm), a health gate, and
// the gateway batches, each followed by a health gate.
//
// Planning is pure (no I/O) and deterministic; step IDs depend only on the
// topology, the selection and the versions, so re-planning from a fresh
// inventory after a crash yields the remaining steps with the same IDs —
// with CatchUp set once a controller hop has finished (the gateways then
// lag the controller, and the request without it is refused with
// versionpath.ErrGatewayNotConverged: "resuming an interrupted run? set
// UpgradeRequest.CatchUp").
// Every rule is checked before anything runs, and every problem is
// reported at once in a *PlanError: unparseable or 8.x versions
// (ErrUnsupportedVersion), a target behind the controller
// (versionpath.ErrControllerRollback, ErrDowngrade), a path that skips a
// minor (versionpath.ErrMissingMinor) or a target not in the catalog, a
// gateway ahead of the controller (versionpath.ErrGatewayAhead), a gateway
// that would not be on the controller's version before its next hop
// (versionpath.ErrGatewayNotConverged, e.g. an unselected gateway),
// explicit batches or groups that split an HA set wrongly (ErrBadBatch),
// gateways without an HA peer (ErrOutage).
func (f *Cluster) PlanUpgrade(req UpgradeRequest) (*DetailedPlan, error) {
	return f.planUpgrade(f.inv.Controller, f.versions(nil), req)
}

// Plan implements upgrade.Planner: an upgrade of every gateway (one at a
// time) with the controller going to target, planned from the versions in
// s (e.g. a fresh Observe after a crash), with CatchUp set: gateways behind
// the controller (as after a crash between a controller hop and its
// gateway batches) are upgraded to the controller's version first, within
// the catch-up limit of UpgradeRequest.CatchUp (on the controller's
// previous version, as last read, or in its current minor; anything
// further behind refuses the plan with versionpath.ErrGatewayNotConverged).
// It returns the upgrade.Plan of PlanUpgrade.
func (f *Cluster) Plan(s upgrade.Snapshot, target string) (upgrade.Plan, error) {
	info := f.inv.Controller
	f.mu.Lock()
	info.Previous = f.lastInfo.Previous
	f.mu.Unlock()
	if c, ok := s.Member(ControllerID); ok && c.Version != "" {
		info.Current = c.Version
	}
	// Re-planning mid-run finds gateways legitimately behind a controller
	// that already hopped: they are caught up.
	p, err := f.planUpgrade(info, f.versions(&s), UpgradeRequest{Target: target, CatchUp: true})
	if err != nil {
		return upgrade.Plan{}, err
	}
	return p.Plan, nil
}

// versions returns gateway name → version from the inventory, overridden by
// s when given.
func (f *Cluster) versions(s *upgrade.Snapshot) map[string]string {
	out := make(map[string]string, len(f.inv.Gateways))
	for _, g := range f.inv.Gateways {
		out[g.Name] = g.Version
	}
	if s != nil {
		for _, m := range s.Members {
			if _, ok := out[m.ID]; ok && m.Version != "" {
				out[m.ID] = m.Version
			}
		}
	}
	return out
}

// planUpgrade is PlanUpgrade from controller info and gateway versions gwv
// (name -> version text), shared with Cluster.Plan.
func (f *Cluster) planUpgrade(info VersionInfo, gwv map[string]string, req UpgradeRequest) (*DetailedPlan, error) {
	what := "upgrade"
	if req.Target != "" {
		what = "upgrade to " + req.Target
	}
	var probs []error
	cur, err := plannable("controller current version", info.Current)
	if err != nil {
		probs = append(probs, err)
	}
	var prev versionpath.Version
	if info.Previous != "" {
		if pv, err := ParseVersion(info.Previous); err == nil {
			prev = pv
		}
	}
	// Gateway versions (each distinct text parsed once).
	names := f.gatewayNames()
	cache := versionCache{}
	vf := versionpath.Deployment{ControllerPrevious: prev, Gateways: make(map[string]versionpath.Version, len(names))}
	for _, n := range names {
		v, err := cache.plannable(gwv[n])
		if err != nil {
			probs = append(probs, fmt.Errorf("gateway %s: %w", n, err))
			continue
		}
		vf.Gateways[n] = v
	}
	batches, outages, berrs := f.batches(req.Groups, req.Batches, req.BatchSize, req.AllowOutage)
	probs = append(probs, berrs...)
	if cur.IsZero() {
		return nil, &PlanError{What: what, Problems: probs}
	}
	vf.Controller = cur

	// Catalog and target.
	src := req.Catalog
	if src == nil {
		src = f.inv.Releases
	}
	catalog := versionpath.Catalog{cur}
	for _, s := range append(slices.Clone(src), info.Latest) {
		if s == "" {
			continue
		}
		v, err := ParseVersion(s)
		switch {
		case err != nil:
			probs = append(probs, fmt.Errorf("catalog: %w", err))
		case v.Tag() == "" && v.HasBuild():
			catalog = append(catalog, v)
		}
	}
	target := cur
	if req.Target != "" {
		t, err := f.resolveTarget(req.Target, catalog)
		if err != nil {
			probs = append(probs, err)
		} else {
			target = t
		}
	}
	var hops []versionpath.Version
	switch {
	case target.Compare(cur) < 0:
		probs = append(probs, &versionpath.PathError{From: cur, To: target, Err: versionpath.ErrDowngrade})
		if err := versionpath.CheckControllerHop(vf, target); err != nil {
			probs = append(probs, err)
		}
	case target.Compare(cur) > 0:
		hops, err = versionpath.PathWith(catalog, cur, target, PathRules())
		if err != nil && len(src) == 0 {
			err = fmt.Errorf("%w (no release catalog: the controller did not list its releases; give UpgradeRequest.Catalog)", err)
		}
		if err != nil {
			probs = append(probs, err)
		}
	}
	deployErr := versionpath.CheckDeployment(vf)
	if deployErr != nil {
		probs = append(probs, deployErr)
	}

	// Simulate the run and check the controller-before-gateway rules at
	// every hop (versionpath), all problems at once.
	selected := make(map[string]bool, len(vf.Gateways))
	selNames := make([]string, 0, len(vf.Gateways))
	for _, b := range batches {
		for _, n := range b.names {
			if !selected[n] {
				selected[n] = true
				selNames = append(selNames, n)
			}
		}
	}
	slices.Sort(selNames)
	sim := versionpath.Deployment{Controller: cur, ControllerPrevious: prev, Gateways: make(map[string]versionpath.Version, len(vf.Gateways))}
	for n, v := range vf.Gateways {
		sim.Gateways[n] = v
	}
	// Phase 0 (no controller hop) catches up the selected gateways behind
	// the controller, within the catch-up limit (catchUp: on the
	// controller's previous version or in its minor). Every later phase
	// moves every selected gateway.
	catching := map[string]bool{}
	for _, n := range selNames {
		v, ok := sim.Gateways[n]
		if !ok || v.Compare(cur) >= 0 {
			continue
		}
		if !req.CatchUp {
			probs = append(probs, fmt.Errorf("gateway %s runs %s, not the controller's %s: %w (every gateway must run the controller's version before an upgrade; resuming an interrupted run? set UpgradeRequest.CatchUp, which upgrades it to the controller's version first)", n, v, cur, versionpath.ErrGatewayNotConverged))
			continue
		}
		if vio := catchUp(cur, prev, n, v); vio != nil {
			probs = append(probs, fmt.Errorf("gateway %s is too far behind the controller to catch up in one upgrade: %w", n, versionpath.Violations{vio}))
			continue
		}
		if err := versionpath.CheckGatewayUpgrade(sim, n, cur); err != nil {
			probs = append(probs, err)
		}
		catching[n] = true
		sim.Gateways[n] = cur
	}
	for _, hop := range hops {
		if deployErr != nil {
			break // the same gateways would be reported again
		}
		if err := versionpath.CheckControllerHop(sim, hop); err != nil {
			probs = append(probs, fmt.Errorf("before controller hop to %s: %w", hop, err))
			break // later hops would repeat the same gateways
		}
		sim.ControllerPrevious, sim.Controller = sim.Controller, hop
		for _, n := range selNames {
			sim.Gateways[n] = hop
		}
	}
	if len(probs) > 0 {
		return nil, &PlanError{What: what, Problems: probs}
	}

	p := &DetailedPlan{Kind: "upgrade", From: cur.String(), To: target.String(), Outages: outages}
	p.Plan = upgrade.Plan{Cluster: f.name, Target: target.String()}
	keys := make([]string, len(batches))
	for k, b := range batches {
		keys[k] = b.stepKey(k + 1)
	}
	p.Steps = make([]upgrade.Step, 0, 2*len(hops)*(1+len(batches))+2*len(batches))
	for i := 0; i <= len(hops); i++ {
		v := cur
		if i > 0 {
			v = hops[i-1].(Version)
		}
		vs := v.String()
		ph := Phase{Version: vs, Controller: i > 0}
		if i > 0 {
			p.Hops = append(p.Hops, vs)
			p.Steps = append(p.Steps, f.controllerSteps(vs, catalog)...)
			ph.Batches = make([][]string, 0, len(batches))
		}
		h := f.newHop(opUpgrade, vs)
		for k, b := range batches {
			rem := b.names // every selected gateway moves in a hop phase
			if i == 0 {
				rem = nil
				for _, n := range b.names {
					if catching[n] {
						rem = append(rem, n)
					}
				}
				if len(rem) == 0 {
					continue
				}
			}
			ph.Batches = append(ph.Batches, rem)
			gb := h.batch(keys[k], b, rem)
			p.Steps = append(p.Steps, (*gwRunStep)(gb), (*gwWaitStep)(gb))
		}
		if ph.Controller || len(ph.Batches) > 0 {
			p.Phases = append(p.Phases, ph)
		}
	}
	p.Warnings = upgradeWarnings(cur, hops, outages)
	// The end state: the controller on the final version, every selected
	// gateway on it, up and idle, each of their HA sets forwarding.
	p.EndState = EndState{Controller: target.String(), Version: target.String(), Gateways: selNames}
	p.Converged = f.Converged(p.EndState)
	return p, nil
}

// resolveTarget parses the requested target; a bare Major.Minor resolves to
// the latest build of that minor in the catalog.
func (f *Cluster) resolveTarget(s string, catalog versionpath.Catalog) (Version, error) {
	t, err := ParseVersion(s)
	if err != nil {
		return Version{}, fmt.Errorf("target: %w", err)
	}
	if t.Tag() != "" {
		return Version{}, fmt.Errorf("target: %w", &VersionError{Input: s, Err: ErrUnsupportedVersion, Reason: "tagged minors are out of scope"})
	}
	if t.HasBuild() {
		return t, nil
	}
	var best Version
	for _, c := range catalog {
		cv := c.(Version)
		if cv.SameMinor(t) && (best.IsZero() || cv.Compare(best) > 0) {
			best = cv
		}
	}
	if best.IsZero() {
		return Version{}, fmt.Errorf("target %s: %w", s, &versionpath.PathError{To: t, At: s, Err: versionpath.ErrNotInCatalog})
	}
	return best, nil
}

// upgradeWarnings lists the documented caveats that apply to the hops.
func upgradeWarnings(cur Version, hops []versionpath.Version, outages []string) []string {
	var w []string
	prev := cur
	for _, h := range hops {
		hv := h.(Version)
		if prev.Major() == 6 && prev.Minor() == 5 && hv.Major() == 6 && hv.Minor() == 6 {
			w = append(w, fmt.Sprintf("hop %s -> %s: AVX-20109 (Aviatrix release notes): the 6.5 -> 6.6 upgrade is documented as not supporting selective gateway upgrade "+
				"(platform upgrade with all gateways, then re-upgrade any gateway reporting \"Archive is too short\"); this plan upgrades gateways selectively: try it on a lab controller first", prev, hv))
		}
		for _, t := range []string{"6.7.1574", "6.8.1148"} { // AVX-29183/25425
			tv := MustParseVersion(t)
			if prev.Compare(tv) < 0 && hv.Compare(tv) >= 0 {
				w = append(w, fmt.Sprintf("hop %s -> %s: AVX-29183/25425 (Aviatrix release notes): gateways on Racoon-IKE images must be image-upgraded before %s (not visible through the API; check in the UI)", prev, hv, t))
			}
		}
		prev = hv
	}
	if len(outages) > 0 {
		w = append(w, fmt.Sprintf("%d gateway(s) without an HA peer: their upgrade is an outage (%s)", len(outages), strings.Join(outages, ", ")))
	}
	return w
}

// PlanRollback plans the rollback of selected gateways to the controller's
// previous version (Aviatrix Docs, "Selective Gateway Upgrade", rollback):
// upgrade_selected_gateway with
// that version, explicit, in software_version and version (never the
// keyword "previous"), one member of each HA set at a time (HA
// members first), each batch followed by a health gate. Rules
// (versionpath.CheckGatewayRollback, all at once in a *PlanError): only to
// the controller's previous version (ErrRollbackTarget; "beyond previous"
// is refused), which must be known (ErrNoPrevious), never upward
// (ErrNotRollback), also when no gateway has anything to roll back.
// Gateways not above the rollback version get no step (a selected one below
// it is refused, ErrNotRollback); a gateway without an HA peer that has to
// roll back needs AllowOutage (ErrOutage). The batches cover the whole
// selection whatever each gateway's version, so re-planning the same
// request after a crash yields the remaining steps with the journal's IDs.
// The controller itself cannot be rolled back (PlanUpgrade refuses a target
// behind it).
func (f *Cluster) PlanRollback(req RollbackRequest) (*DetailedPlan, error) {
	info := f.inv.Controller
	var probs []error
	cur, err := plannable("controller current version", info.Current)
	if err != nil {
		probs = append(probs, err)
	}
	vf := versionpath.Deployment{Gateways: make(map[string]versionpath.Version)}
	if !cur.IsZero() {
		vf.Controller = cur
	}
	if info.Previous != "" {
		if pv, err := plannable("controller previous version", info.Previous); err != nil {
			probs = append(probs, err)
		} else {
			vf.ControllerPrevious = pv
		}
	}
	toText := req.To
	if toText == "" {
		toText = info.Previous
	}
	var to Version
	if toText == "" {
		probs = append(probs, versionpath.Violations{{Rule: versionpath.RuleControllerFirst, Kind: versionpath.ErrNoPrevious, Party: versionpath.PartyController}})
	} else if to, err = plannable("rollback version", toText); err != nil {
		probs = append(probs, err)
	}
	// The batches cover every selected gateway (by default every gateway),
	// whatever its version, so that the step IDs do not depend on how far
	// the rollback got: re-planning after a crash yields the remaining
	// steps with the same IDs. Standalone gateways are always alone in
	// their batch; whether their outage is accepted is decided below, for
	// those with work to do (as PlanImageUpgrade does).
	chosen := req.Groups != nil || req.Batches != nil
	batches, solo, berrs := f.batches(req.Groups, req.Batches, req.BatchSize, true)
	probs = append(probs, berrs...)
	need := map[string]bool{}
	var ends []string // the gateways the rollback leaves on to
	if !to.IsZero() {
		for _, b := range batches {
			for _, n := range b.names {
				gv, err := plannable("gateway "+n, f.inv.Gateways[f.gwIdx[n]].Version)
				if err != nil {
					probs = append(probs, err)
					continue
				}
				vf.Gateways[n] = gv
				// Only gateways above the rollback version roll back. One
				// below it is reported when the user selected it (it cannot
				// be rolled back), and left alone by the default selection.
				if gv.Compare(to) >= 0 {
					ends = append(ends, n)
				}
				if gv.Compare(to) == 0 || (gv.Compare(to) < 0 && !chosen) {
					continue
				}
				if err := versionpath.CheckGatewayRollback(vf, n, to); err != nil {
					probs = append(probs, err)
					continue
				}
				need[n] = true
			}
		}
		// Nothing to roll back still needs a valid rollback version.
		if len(need) == 0 && len(probs) == 0 {
			switch prev := vf.ControllerPrevious; {
			case prev == nil:
				probs = append(probs, versionpath.Violations{{Rule: versionpath.RuleControllerFirst, Kind: versionpath.ErrNoPrevious,
					Party: versionpath.PartyController, Target: to.String()}})
			case to.Compare(prev) != 0:
				probs = append(probs, versionpath.Violations{{Rule: versionpath.RuleControllerFirst, Kind: versionpath.ErrRollbackTarget,
					Party: versionpath.PartyController, Want: prev.String(), Target: to.String()}})
			}
		}
	}
	outages, oprobs := soloOutages(solo, need, req.AllowOutage)
	probs = append(probs, oprobs...)
	if len(probs) > 0 {
		return nil, &PlanError{What: "gateway rollback", Problems: probs}
	}
	p := &DetailedPlan{Kind: "rollback", From: cur.String(), To: to.String(), Outages: outages}
	p.Plan = upgrade.Plan{Cluster: f.name, Target: "rollback:" + to.String()}
	ph := Phase{Version: to.String()}
	h := f.newHop(opRollback, to.String())
	for k, b := range batches {
		var rem []string
		for _, n := range b.names {
			if need[n] {
				rem = append(rem, n)
			}
		}
		if len(rem) == 0 {
			continue
		}
		ph.Batches = append(ph.Batches, rem)
		p.Steps = append(p.Steps, h.steps(b.stepKey(k+1), b, rem)...)
	}
	p.Phases = []Phase{ph}
	// The end state: every selected gateway (not below the rollback
	// version) on it, up and idle, each of their HA sets forwarding.
	slices.Sort(ends)
	p.EndState = EndState{Version: to.String(), Gateways: ends}
	p.Converged = f.Converged(p.EndState)
	p.Warnings = append(p.Warnings, "a rollback replaces each gateway (brief disruption per gateway; its HA peer carries the traffic)")
	if len(outages) > 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%d gateway(s) without an HA peer: their rollback is an outage (%s)", len(outages), strings.Join(outages, ", ")))
	}
	return p, nil
}

// gatewayNames returns every gateway name, sorted.
func (f *Cluster) gatewayNames() []string {
	out := make([]string, 0, len(f.members)-1)
	for _, m := range f.members[1:] {
		out = append(out, m.ID())
	}
	return out
}

// batches turns groups (or explicit batches) into ordered batches with
// every problem found. Groups: each gateway in the first group it matches;
// within a group, waves by position in its HA set (HA members first, the
// primary last), BatchSize per batch, sets in primary order; gateways
// without an HA peer last, one per batch, as outages (or ErrOutage).
func (f *Cluster) batches(groups []Selector, explicit [][]string, maxPar int, allowOutage bool) ([]batch, []string, []error) {
	if explicit != nil {
		return f.explicitBatches(explicit, maxPar, allowOutage)
	}
	if maxPar <= 0 {
		maxPar = 1
	}
	if groups == nil {
		groups = []Selector{{}}
	}
	var errs []error
	idx := f.gwIdx
	for _, g := range groups {
		errs = append(errs, g.validate(idx)...)
	}
	groupOf := make(map[string]int, len(f.inv.Gateways))
	for _, g := range f.inv.Gateways {
		for i, sel := range groups {
			if sel.Match(g) {
				groupOf[g.Name] = i
				break
			}
		}
	}
	var out []batch
	var outages []string
	pos := map[string]int{} // gateway -> batch index, to check HA-before-primary across groups
	for gi := range groups {
		var waves [][]string
		var solo []string
		for _, set := range f.sets {
			var sel []string
			for _, m := range set.Members() {
				if g, ok := groupOf[m]; ok && g == gi {
					sel = append(sel, m)
				}
			}
			if len(sel) == 0 {
				continue
			}
			if !set.Redundant() {
				solo = append(solo, sel...)
				continue
			}
			for r, m := range sel {
				for len(waves) <= r {
					waves = append(waves, nil)
				}
				waves[r] = append(waves[r], m)
			}
		}
		for _, w := range waves {
			for i := 0; i < len(w); i += maxPar {
				b := batch{names: slices.Clone(w[i:min(i+maxPar, len(w))])}
				for _, n := range b.names {
					pos[n] = len(out)
				}
				out = append(out, b)
			}
		}
		for _, n := range solo {
			if !allowOutage {
				errs = append(errs, fmt.Errorf("gateway %s: %w (set AllowOutage to accept it, or deploy an HA gateway)", n, ErrOutage))
				continue
			}
			outages = append(outages, n)
			pos[n] = len(out)
			out = append(out, batch{names: []string{n}, outage: true})
		}
	}
	errs = append(errs, f.orderErrors(pos)...)
	return out, outages, errs
}

// orderErrors reports primaries scheduled no later than one of their HA
// members (pos: gateway -> batch index).
func (f *Cluster) orderErrors(pos map[string]int) []error {
	var errs []error
	for _, set := range f.sets {
		pp, ok := pos[set.Primary]
		if !ok {
			continue
		}
		for _, h := range set.HA {
			if hp, ok := pos[h]; ok && hp > pp {
				errs = append(errs, &BatchError{Batch: pp + 1, Gateways: []string{set.Primary, h}, Set: set.Primary,
					Reason: fmt.Sprintf("primary %s is scheduled before its HA member %s (batch %d): HA members go first", set.Primary, h, hp+1)})
			}
		}
	}
	return errs
}

// explicitBatches validates a user's batch list.
func (f *Cluster) explicitBatches(explicit [][]string, maxPar int, allowOutage bool) ([]batch, []string, []error) {
	var errs []error
	var out []batch
	var outages []string
	pos := map[string]int{}
	if len(explicit) == 0 {
		errs = append(errs, &BatchError{Reason: "no batch given"})
	}
	for bi, names := range explicit {
		if len(names) == 0 {
			errs = append(errs, &BatchError{Batch: bi + 1, Reason: "empty batch"})
			continue
		}
		if maxPar > 0 && len(names) > maxPar {
			errs = append(errs, &BatchError{Batch: bi + 1, Gateways: names, Reason: fmt.Sprintf("%d gateways exceed BatchSize %d", len(names), maxPar)})
		}
		bySet := map[int][]string{}
		b := batch{}
		ok := true
		for _, n := range names {
			si, known := f.setOf[n]
			switch {
			case !known:
				errs = append(errs, &BatchError{Batch: bi + 1, Gateways: []string{n}, Reason: "no such gateway"})
				ok = false
				continue
			case pos[n] != 0:
				errs = append(errs, &BatchError{Batch: bi + 1, Gateways: []string{n}, Reason: fmt.Sprintf("gateway already in batch %d", pos[n])})
				ok = false
				continue
			}
			pos[n] = bi + 1
			bySet[si] = append(bySet[si], n)
			b.names = append(b.names, n)
			if !f.sets[si].Redundant() {
				if !allowOutage {
					errs = append(errs, fmt.Errorf("gateway %s: %w (set AllowOutage to accept it)", n, ErrOutage))
					ok = false
				} else if len(names) > 1 {
					errs = append(errs, &BatchError{Batch: bi + 1, Gateways: names, Reason: fmt.Sprintf("gateway %s has no HA peer: its outage step must be a batch of its own", n)})
					ok = false
				} else {
					b.outage = true
					outages = append(outages, n)
				}
			}
		}
		keys := make([]int, 0, len(bySet))
		for k := range bySet {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, si := range keys {
			if ms := bySet[si]; len(ms) > 1 {
				errs = append(errs, &BatchError{Batch: bi + 1, Gateways: ms, Set: f.sets[si].Primary,
					Reason: "two members of one HA pair/group in the same batch (never both members of an ActiveMesh pair or group at once)"})
				ok = false
			}
		}
		if ok {
			out = append(out, b)
		}
	}
	zero := map[string]int{}
	for n, p := range pos {
		zero[n] = p - 1
	}
	errs = append(errs, f.orderErrors(zero)...)
	return out, outages, errs
}

// stepKey is batch{names: names}.stepKey(k).
func stepKey(k int, names []string) string { return batch{names: names}.stepKey(k) }

// listNames renders up to 6 names.
func listNames(ns []string) string {
	if len(ns) <= 6 {
		return strings.Join(ns, ", ")
	}
	return fmt.Sprintf("%s (+%d more)", strings.Join(ns[:6], ", "), len(ns)-6)
}

// soloOutages splits the gateways without an HA peer that need work into
// the outages a plan accepts (allow: AllowOutage) and, otherwise, one
// ErrOutage problem each: working on them takes their traffic down.
func soloOutages(solo []string, need map[string]bool, allow bool) ([]string, []error) {
	var outages []string
	var probs []error
	for _, n := range solo {
		switch {
		case !need[n]:
		case !allow:
			probs = append(probs, fmt.Errorf("gateway %s: %w (set AllowOutage to accept it, or deploy an HA gateway)", n, ErrOutage))
		default:
			outages = append(outages, n)
		}
	}
	return outages, probs
}
