package aviatrix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// op is what a gateway step does.
type op int

const (
	opUpgrade op = iota
	opRollback
)

// sameVersion reports whether two version texts parse to equal versions.
func sameVersion(a, b string) bool {
	va, err := ParseVersion(a)
	if err != nil {
		return false
	}
	vb, err := ParseVersion(b)
	return err == nil && va.Equal(vb)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ControllerHopSteps returns the two steps of one controller hop to version
// (exported for hand-written plans):
//
//  1. "controller@<version>": read platform_upgrade_status first: when an
//     upgrade is already running (a run resumed after a crash during the
//     "in progress" phase), upgrade_platform is not sent again and the
//     step polls it as below; a status that cannot be read fails the step
//     with nothing sent. Otherwise upgrade_platform with the explicit
//     version, wait Waits.ControllerSettle, poll platform_upgrade_status every
//     ControllerPoll through the restart window (502/503 HTML, "Valid
//     action required: login", transport errors and a rejected session all
//     mean "keep waiting"), on "complete" log in again and confirm with
//     list_version_info; any other status fails with *UpgradeError
//     (ErrUpgradeFailed); no confirmation by ControllerDeadline fails with
//     *UpgradeError (ErrTimeout, wrapping the last error, e.g.
//     ErrRestarting). When upgrade_platform's own reply leaves its outcome
//     unknown (WriteOutcomeUnknown: an HTML page, a 502, a dropped
//     connection), the write is not sent again: the step polls as above to
//     learn whether the upgrade started, and fails with *UpgradeError
//     (ErrUpgradeFailed, status "not started") when three polls in a row
//     show no upgrade and the old version. Its safety check
//     (upgrade.SafetyChecker, on the executor's fresh snapshot) refuses,
//     before anything is sent: a hop while any gateway is off the
//     controller's version, or below it (versionpath.CheckControllerHop),
//     and a hop that is not the next one of the upgrade path
//     (*HopError, ErrHopSkipped: versionpath.PathWith over the
//     inventory's releases plus the controller's latest build, with
//     PathRules, must be exactly [version]; it skips a minor, crosses a
//     major from a minor other than its last, or leaves the current minor
//     before its latest build). So even a hand-written plan cannot move the
//     controller ahead of unconverged gateways or skip a hop. Verifiable
//     (done when the controller runs version); not idempotent (never
//     retried).
//  2. "wait:controller@<version>": a health gate (Waits.Verify) until the
//     controller reports version.
//
// The releases come from the inventory (Open reads them with the
// release-list action); a Cluster without them refuses every hop but one to
// the latest build of the current minor.
func (f *Cluster) ControllerHopSteps(version string) []upgrade.Step {
	return f.controllerSteps(version, nil)
}

// controllerSteps returns the hop steps to v. catalog is the release
// catalog the planner used (nil for hand-written steps: the inventory's
// releases); the controller's latest build, as last read, is added to it
// at check time.
func (f *Cluster) controllerSteps(v string, catalog versionpath.Catalog) []upgrade.Step {
	hop := &upgrade.Func{
		StepID:  "controller@" + v,
		Desc:    "upgrade the controller to " + v + " (upgrade_platform, poll platform_upgrade_status through the restart, log in again, confirm with list_version_info)",
		Members: []string{ControllerID},
		Do:      func(ctx context.Context) error { return f.runControllerHop(ctx, v) },
		Check: func(ctx context.Context) (bool, error) {
			if err := f.needClient(); err != nil {
				return false, err
			}
			info, err := f.c.VersionInfo(ctx)
			if err != nil {
				return false, err
			}
			return sameVersion(info.Current, v), nil
		},
		Safe: func(s upgrade.Snapshot) error {
			next, err := explicitVersion(v)
			if err != nil {
				return err
			}
			return f.checkControllerHop(s, next, catalog)
		},
	}
	wait := &upgrade.Wait{
		StepID:  "wait:controller@" + v,
		Desc:    "wait until the controller answers on " + v,
		Cluster: f,
		G: upgrade.Gate{Name: "controller on " + v, Timing: f.timing.Verify, Check: func(s upgrade.Snapshot) error {
			c, ok := f.member(s, ControllerID)
			if !ok || !c.Healthy || !sameVersion(c.Version, v) {
				return fmt.Errorf("controller on %q, want %s", c.Version, v)
			}
			return nil
		}},
	}
	return []upgrade.Step{hop, wait}
}

// checkControllerHop applies the controller hop rules to snapshot s: every
// gateway on the controller's version and next not below it
// (versionpath.CheckControllerHop), and next the next hop of the upgrade
// path over catalog (nil: the inventory's releases) plus the latest builds
// known (*HopError). Every problem is returned, joined.
func (f *Cluster) checkControllerHop(s upgrade.Snapshot, next Version, catalog versionpath.Catalog) error {
	vf, err := f.deployment(s, nil)
	if err != nil {
		return err
	}
	var errs []error
	if err := versionpath.CheckControllerHop(vf, next); err != nil {
		errs = append(errs, err)
	}
	if cur, ok := vf.Controller.(Version); ok && next.Compare(cur) > 0 {
		if err := nextHop(f.hopCatalog(catalog), cur, next); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// hopCatalog returns catalog (nil: the inventory's releases and the
// controller's latest build at inventory time) plus the controller's
// latest build from the latest read. Entries that do not parse, carry a
// tag or lack a build are left out.
func (f *Cluster) hopCatalog(catalog versionpath.Catalog) versionpath.Catalog {
	f.mu.Lock()
	latest := f.lastInfo.Latest
	f.mu.Unlock()
	out := slices.Clone(catalog)
	add := func(s string) {
		if v, err := ParseVersion(s); err == nil && v.HasBuild() && v.Tag() == "" {
			out = append(out, v)
		}
	}
	if catalog == nil {
		for _, r := range f.inv.Releases {
			add(r)
		}
		add(f.inv.Controller.Latest)
	}
	add(latest)
	return out
}

// nextHop returns nil when next is the next hop of the upgrade path from
// cur over catalog (versionpath.PathWith with PathRules is exactly
// [next]), a *HopError otherwise.
func nextHop(catalog versionpath.Catalog, cur, next Version) error {
	path, err := versionpath.PathWith(catalog, cur, next, PathRules())
	if err == nil && len(path) == 1 {
		return nil
	}
	he := &HopError{From: cur.String(), To: next.String(), Err: err}
	for _, h := range path {
		he.Path = append(he.Path, h.String())
	}
	return he
}

// notStartedPolls is how many consecutive polls, after an ambiguous
// upgrade_platform reply, must show no upgrade and the old version before
// the hop concludes that the upgrade did not start.
const notStartedPolls = 3

// runControllerHop is the controller hop procedure (the Terraform
// provider's polling before v8).
func (f *Cluster) runControllerHop(ctx context.Context, v string) error {
	if err := f.needClient(); err != nil {
		return err
	}
	deadline := time.Now().Add(f.timing.ControllerDeadline)
	info, err := f.c.VersionInfo(ctx)
	if err != nil {
		return fmt.Errorf("controller upgrade to %s: %w", v, err)
	}
	if sameVersion(info.Current, v) {
		return nil
	}
	// A run resumed after a crash during the "in progress" phase finds the
	// upgrade it started still running (the controller answers reads while
	// it installs, on its old version): never send upgrade_platform again,
	// poll it instead.
	ps, err := f.c.PlatformUpgradeStatus(ctx)
	if err != nil {
		return fmt.Errorf("controller upgrade to %s: cannot tell whether an upgrade is already running (platform_upgrade_status), so upgrade_platform was not sent: %w", v, err)
	}
	var kickErr error
	if ps.Running() {
		f.log.InfoContext(ctx, "aviatrix: a controller upgrade is already running (a resumed run?); not sending upgrade_platform again, polling platform_upgrade_status",
			"from", info.Current, "to", v)
	} else {
		kickErr = f.c.UpgradePlatform(ctx, v)
		switch {
		case kickErr == nil:
			f.log.InfoContext(ctx, "aviatrix: controller upgrade started", "from", info.Current, "to", v)
		case WriteOutcomeUnknown(kickErr):
			// The controller may have acted (an HTML or 502
			// reply while it restarts): never send it again; learn it from
			// platform_upgrade_status.
			f.log.WarnContext(ctx, "aviatrix: upgrade_platform reply was ambiguous; polling platform_upgrade_status to learn whether the upgrade started",
				"from", info.Current, "to", v, "error", kickErr.Error())
		default:
			return fmt.Errorf("controller upgrade to %s: %w", v, kickErr)
		}
		if err := sleep(ctx, f.timing.ControllerSettle); err != nil {
			return err
		}
	}
	status := ""
	started, idle := kickErr == nil, 0
	var fatal error
	// notStarted counts a poll that shows no upgrade running; after an
	// ambiguous kick, notStartedPolls of them in a row while the
	// controller still runs its old version end the hop.
	notStarted := func(ctx context.Context) error {
		got, err := f.c.versionInfo(ctx, callOpts{noRetry: true})
		if err != nil {
			return err
		}
		if sameVersion(got.Current, v) {
			return nil // done after all (e.g. a status that was reset)
		}
		if idle++; idle >= notStartedPolls {
			fatal = &UpgradeError{Party: "controller", Target: v, Status: "not started", Err: ErrUpgradeFailed, Last: kickErr,
				Reason: fmt.Sprintf("upgrade_platform's reply was ambiguous and platform_upgrade_status shows no upgrade while the controller still runs %s: the upgrade did not start (it was not sent again)", got.Current)}
			return upgrade.ErrPermanent
		}
		return fmt.Errorf("no upgrade running yet (controller on %s)", got.Current)
	}
	err = f.pollJob(ctx, "controller upgrade to "+v, f.timing.ControllerPoll, deadline, func(ctx context.Context) error {
		ps, err := f.c.platformStatus(ctx, callOpts{noRetry: true})
		switch {
		case err != nil:
			if errors.Is(err, ErrTLS) || errors.Is(err, ErrAuth) {
				fatal = &UpgradeError{Party: "controller", Target: v, Status: status, Err: ErrUpgradeFailed, Last: err}
				return upgrade.ErrPermanent
			}
			idle = 0 // restarting or unreachable: not evidence of an idle controller
			return err
		case ps.Running():
			status, started, idle = "in progress", true, 0
			return errors.New("platform upgrade in progress")
		case ps.Done():
			// The old session can be invalidated by the upgrade (provider
			// #769): log in again before confirming.
			if err := f.c.Login(ctx); err != nil {
				return err
			}
			got, err := f.c.versionInfo(ctx, callOpts{noRetry: true})
			if err != nil {
				return err
			}
			if !sameVersion(got.Current, v) {
				if !started {
					// A "complete" left over from an earlier upgrade.
					return notStarted(ctx)
				}
				return fmt.Errorf("controller reports %s after a complete upgrade", got.Current)
			}
			status = "complete"
			f.log.InfoContext(ctx, "aviatrix: controller upgrade confirmed", "version", got.Current)
			return nil
		case ps.Status == "":
			if !started {
				return notStarted(ctx)
			}
			return errors.New("platform_upgrade_status reports no status yet")
		default:
			fatal = &UpgradeError{Party: "controller", Target: v, Status: ps.Status, Reason: ps.Reason, Err: ErrUpgradeFailed}
			return upgrade.ErrPermanent
		}
	})
	var ge *upgrade.GateError
	switch {
	case fatal != nil:
		return fatal
	case errors.As(err, &ge):
		last := ge.Last
		if !started && kickErr != nil {
			last = errors.Join(kickErr, ge.Last)
		}
		return &UpgradeError{Party: "controller", Target: v, Status: status, Err: ErrTimeout, Last: last}
	default:
		return err
	}
}

// pollJob waits for an asynchronous controller job with
// upgrade.PollUntil (the project's one poll loop): check runs every
// interval until it returns nil, returns an error matching
// upgrade.ErrPermanent (stop now), or the deadline passes (an
// *upgrade.GateError carrying check's last error). ctx's end stops it.
func (f *Cluster) pollJob(ctx context.Context, name string, interval time.Duration, deadline time.Time, check func(ctx context.Context) error) error {
	budget := max(time.Until(deadline), time.Nanosecond)
	return upgrade.PollUntil(ctx, name, upgrade.Timing{Interval: interval, Deadline: budget}, check, nil)
}

// GatewayBatchSteps returns the steps that move the named gateways (one
// batch) to version — the controller's current version — for hand-written
// plans; k numbers the batch in step IDs. They are the steps of a
// PlanUpgrade batch:
//
//  1. "gateways@<version>/bNNN-<hash>": disrupts the named gateways. Its
//     safety check (upgrade.SafetyChecker) applies the version rules
//     (version is the controller's current one, no gateway ahead of it, a
//     gateway behind it only from the controller's previous version or
//     its minor: versionpath.ErrGatewayTarget, ErrGatewayAhead,
//     ErrGatewayNotConverged); the per-HA-set rule is the Cluster's
//     upgrade.DisruptionChecker, which the executor's guard applies. Run
//     re-reads the controller and refuses unless version is still its
//     current one and the HA-set rule holds on that read (*PairError),
//     then sends upgrade_selected_gateway per gateway (skipping those
//     already done or upgrading) and polls until each is up, idle and on
//     version (*UpgradeError: ErrUpgradeFailed on upgrade_fail, ErrTimeout
//     after Waits.GatewayDeadline). Verifiable; never retried.
//  2. "wait:gateways@…": a health gate (Waits.Verify) until every gateway
//     is up, healthy and on version.
//
// A hand-written plan with a target also needs its end-state check
// (upgrade.Plan.Converged): Cluster.Converged builds it. The names are
// copied.
func (f *Cluster) GatewayBatchSteps(version string, k int, names ...string) []upgrade.Step {
	b := batch{names: slices.Clone(names)}
	return f.newHop(opUpgrade, version).steps(b.stepKey(k), b, b.names)
}

// GatewayRollbackSteps is GatewayBatchSteps for a rollback to previous, the
// controller's previous version: the steps are "rollback@<previous>/bNNN-…"
// and its wait, and the first one rolls each gateway back through its
// member's upgrade.Rollbacker (which re-checks previous and the gateway's
// HA peer on a fresh read right before it sends).
func (f *Cluster) GatewayRollbackSteps(previous string, k int, names ...string) []upgrade.Step {
	b := batch{names: slices.Clone(names)}
	return f.newHop(opRollback, previous).steps(b.stepKey(k), b, b.names)
}

// gwHop is what every gateway batch of one plan phase shares: the Cluster,
// the operation, the target version and the health gate's name. One per
// phase, so a batch's steps carry no copy of them.
type gwHop struct {
	f        *Cluster
	o        op
	v        string // target version, canonical
	prefix   string // "gateways@<v>/" or "rollback@<v>/", behind waitPrefix
	gateName string
}

// waitPrefix starts the ID of every gate step.
const waitPrefix = "wait:"

// newHop returns the shared data of the gateway batches moving to v by o.
func (f *Cluster) newHop(o op, v string) *gwHop {
	h := &gwHop{f: f, o: o, v: v, prefix: "gateways@" + v + "/", gateName: "gateways on " + v}
	if o == opRollback {
		h.prefix = "rollback@" + v + "/"
	}
	return h
}

// gwBatch is one gateway batch of a phase, the data its two steps share.
// The steps are the same memory seen as two types, (*gwRunStep)(b) and
// (*gwWaitStep)(b), so a batch costs one allocation plus its ID string:
// waitID is "wait:<run step ID>" and the run step's ID is a substring of
// it. names is shared with the planner's batch when the whole batch is
// moved; nothing modifies it.
type gwBatch struct {
	hop    *gwHop
	names  []string
	waitID string
	outage bool
}

// steps returns the two steps of a batch (key: b.stepKey of its index; b:
// its full composition, which names the step IDs; rem: the gateways still
// to move, a subset of b.names).
//
//  1. "gateways@<v>/bNNN-<hash>" (or "rollback@…"): disrupts rem. Its
//     safety check (upgrade.SafetyChecker) applies the version rules:
//     versionpath.CheckGatewayUpgrade (v is the controller's current
//     version, no gateway ahead) and the catch-up limit (a gateway behind
//     the controller must be on its previous version or in its current
//     minor: versionpath.ErrGatewayNotConverged), or
//     versionpath.CheckGatewayRollback. The per-HA-set rule is the Cluster's
//     upgrade.DisruptionChecker (CheckPairs), which the executor's guard
//     applies to every step. Run: re-read the controller; refuse unless v
//     is still its current (previous, for rollbacks) version and, except
//     for outage steps, CheckPairs holds on that read (*PairError: defence
//     in depth right before the write); then upgrade_selected_gateway per
//     gateway (skipping gateways already done or running), for rollbacks
//     through each gateway member's upgrade.Rollbacker (which re-checks
//     the rollback version and the HA peer on its own fresh read, the
//     latter waived for outage steps), then poll
//     list_gateway_upgrade_status + list_vpcs_summary every GatewayPoll
//     until each is up, complete and on v; "upgrade_fail" fails at once
//     (*UpgradeError, ErrUpgradeFailed); GatewayDeadline fails with
//     ErrTimeout. Verifiable; not idempotent. A gateway without an HA peer
//     (AllowOutage) gets a step that declares downtime instead of the
//     guard.
//  2. "wait:…": a health gate (Waits.Verify) until every gateway of rem
//     is up, healthy and on v.
func (h *gwHop) steps(key string, b batch, rem []string) []upgrade.Step {
	gb := h.batch(key, b, rem)
	return []upgrade.Step{(*gwRunStep)(gb), (*gwWaitStep)(gb)}
}

// batch builds the shared data of a batch (see steps).
func (h *gwHop) batch(key string, b batch, rem []string) *gwBatch {
	return &gwBatch{hop: h, names: rem, outage: b.outage, waitID: waitPrefix + h.prefix + key}
}

// gwRunStep is a gateway batch's kick-and-poll step (see gwHop.steps).
type gwRunStep gwBatch

// ID implements upgrade.Step.
func (s *gwRunStep) ID() string { return s.waitID[len(waitPrefix):] }

// Description implements upgrade.Step; built on demand.
func (s *gwRunStep) Description() string {
	verb := "upgrade"
	if s.hop.o == opRollback {
		verb = "roll back"
	}
	d := verb + " gateway(s) " + listNames(s.names) + " to " + s.hop.v + " (upgrade_selected_gateway)"
	if s.outage {
		d += " [no HA peer: outage]"
	}
	return d
}

// Disrupts implements upgrade.Step.
func (s *gwRunStep) Disrupts() []string { return s.names }

// Run implements upgrade.Step.
func (s *gwRunStep) Run(ctx context.Context) error {
	return s.hop.f.runGateways(ctx, s.hop.o, s.names, s.hop.v, s.outage)
}

// Verify implements upgrade.Verifier: done when every gateway is up,
// complete and on the target version.
func (s *gwRunStep) Verify(ctx context.Context) (bool, error) {
	f := s.hop.f
	if err := f.needClient(); err != nil {
		return false, err
	}
	_, gws, err := f.read(ctx, callOpts{})
	if err != nil {
		return false, err
	}
	for _, n := range s.names {
		if !gatewayDone(gws[n], s.hop.v) {
			return false, nil
		}
	}
	return true, nil
}

// Idempotent implements upgrade.Idempotenter: a kick is never repeated.
func (s *gwRunStep) Idempotent() bool { return false }

// Downtime implements upgrade.DowntimeDeclarer: true for the step of a
// gateway without an HA peer (AllowOutage).
func (s *gwRunStep) Downtime() bool { return s.outage }

// CheckSafe implements upgrade.SafetyChecker with the version rules (the
// pair rule is the Cluster's CheckDisruption).
func (s *gwRunStep) CheckSafe(snap upgrade.Snapshot) error {
	tv, err := explicitVersion(s.hop.v)
	if err != nil {
		return err
	}
	return s.hop.f.checkGatewayVersions(snap, s.hop.o, tv, s.names)
}

// gwWaitStep is a gateway batch's health gate (see gwHop.steps).
type gwWaitStep gwBatch

// ID implements upgrade.Step.
func (w *gwWaitStep) ID() string { return w.waitID }

// Description implements upgrade.Step; built on demand.
func (w *gwWaitStep) Description() string {
	return "wait until " + listNames(w.names) + " " + plural(len(w.names), "is", "are") + " up and healthy on " + w.hop.v
}

// Disrupts implements upgrade.Step: a wait disrupts nothing.
func (w *gwWaitStep) Disrupts() []string { return nil }

// Idempotent implements upgrade.Idempotenter: waiting again is harmless.
func (w *gwWaitStep) Idempotent() bool { return true }

// Gate implements upgrade.Gated: Waits.Verify, until every gateway of the
// batch is up, healthy and on the target version; an "upgrade_fail" ends
// it at once (upgrade.ErrPermanent).
func (w *gwWaitStep) Gate() upgrade.Gate {
	return upgrade.Gate{Name: w.hop.gateName, Timing: w.hop.f.timing.Verify, Check: w.check}
}

// Run waits for the gate without events (outside an executor).
func (w *gwWaitStep) Run(ctx context.Context) error {
	_, err := upgrade.WaitFor(ctx, w.hop.f, w.Gate(), nil)
	return err
}

// check is the gate condition (see Gate).
func (w *gwWaitStep) check(s upgrade.Snapshot) error {
	var miss []string
	v := w.hop.v
	for _, n := range w.names {
		m, ok := w.hop.f.member(s, n)
		switch {
		case !ok:
			miss = append(miss, n+" not observed")
		case strings.HasSuffix(memberStatus(m), "/upgrade_fail"):
			// Waiting cannot fix a failed upgrade: end the gate now.
			return fmt.Errorf("gateway %s: upgrade failed (update_status upgrade_fail): %w", n, upgrade.ErrPermanent)
		case !sameVersion(m.Version, v):
			miss = append(miss, fmt.Sprintf("%s on %q", n, m.Version))
		case !m.Healthy || (m.Role != upgrade.RoleActive && m.Role != upgrade.RoleStandby):
			miss = append(miss, fmt.Sprintf("%s %s (%s)", n, m.Role, strings.Join(m.Problems, "; ")))
		}
	}
	if len(miss) > 0 {
		return errors.New(strings.Join(miss, ", "))
	}
	return nil
}

// checkGatewayVersions applies the gateway version rules of operation o
// towards tv to the named gateways in snapshot s, every problem at once:
// for upgrades versionpath.CheckGatewayUpgrade and the catch-up limit
// (catchUp), for rollbacks versionpath.CheckGatewayRollback.
func (f *Cluster) checkGatewayVersions(s upgrade.Snapshot, o op, tv Version, names []string) error {
	vf, err := f.deployment(s, names)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if o == opRollback {
			if err := versionpath.CheckGatewayRollback(vf, n, tv); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := versionpath.CheckGatewayUpgrade(vf, n, tv); err != nil {
			errs = append(errs, err)
			continue
		}
		if v := catchUp(vf.Controller, vf.ControllerPrevious, n, vf.Gateways[n]); v != nil {
			errs = append(errs, versionpath.Violations{v})
		}
	}
	return errors.Join(errs...)
}

// catchUp returns nil when gateway name on gv may be moved to the
// controller's version ctl in one upgrade: it is not below ctl, or it is on
// the controller's previous version prev (the normal state right after a
// controller hop), or in ctl's minor (builds of a minor can be skipped:
// Aviatrix Docs, "Upgrade Overview"). A gateway further behind would skip
// minors, which only
// the controller's own path may do one hop at a time, so it gets a
// versionpath.ErrGatewayNotConverged violation (Aviatrix Docs, "Selective
// Gateway Upgrade": a
// controller on 6.5.300 with gateways on 6.5.200 "needs support"; hitless
// catches up within these limits only).
func catchUp(ctl, prev versionpath.Version, name string, gv versionpath.Version) *versionpath.Violation {
	if gv == nil || ctl == nil || gv.Compare(ctl) >= 0 {
		return nil
	}
	if prev != nil && gv.Compare(prev) == 0 {
		return nil
	}
	if sameMinor(gv, ctl) {
		return nil
	}
	want := "the controller's previous version or a build of " + minorOf(ctl)
	if prev != nil {
		want = prev.String() + " (the controller's previous version) or a build of " + minorOf(ctl)
	}
	return &versionpath.Violation{Rule: versionpath.RuleControllerFirst, Kind: versionpath.ErrGatewayNotConverged, Party: versionpath.PartyGateway,
		Name: name, Have: gv.String(), Want: want, Target: ctl.String()}
}

// sameMinor reports whether a and b have the same major.minor.
func sameMinor(a, b versionpath.Version) bool {
	la, ok1 := a.(versionpath.Leveled)
	lb, ok2 := b.(versionpath.Leveled)
	if !ok1 || !ok2 {
		return false
	}
	ma, na, ok1 := la.MajorMinor()
	mb, nb, ok2 := lb.MajorMinor()
	return ok1 && ok2 && ma == mb && na == nb
}

// minorOf renders v's major.minor, e.g. "6.6".
func minorOf(v versionpath.Version) string {
	if l, ok := v.(versionpath.Leveled); ok {
		if ma, mi, ok := l.MajorMinor(); ok {
			return strconv.FormatUint(ma, 10) + "." + strconv.FormatUint(mi, 10)
		}
	}
	return v.String()
}

// plural returns one for n == 1, many otherwise.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// gatewayDone: up, no upgrade running or failed, on version v.
func gatewayDone(g Gateway, v string) bool {
	us := strings.ToLower(g.UpdateStatus)
	return strings.EqualFold(g.State, "up") && (us == "" || us == "complete") && sameVersion(g.Version, v)
}

// runGateways kicks and polls one batch.
func (f *Cluster) runGateways(ctx context.Context, o op, names []string, v string, outage bool) error {
	if err := f.needClient(); err != nil {
		return err
	}
	deadline := time.Now().Add(f.timing.GatewayDeadline)
	info, gws, err := f.read(ctx, callOpts{})
	if err != nil {
		return err
	}
	// Re-check the rules against the controller's answer right now (outage
	// steps bypass the executor's availability check; a step may also be
	// run outside an executor).
	want := info.Current
	if o == opRollback {
		want = info.Previous
	}
	if !sameVersion(want, v) {
		what := "the controller's current version"
		if o == opRollback {
			what = "the controller's previous version"
		}
		return fmt.Errorf("gateways %s: target %s is not %s (%q): %w", listNames(names), v, what, want, versionpath.ErrGatewayTarget)
	}
	if !outage {
		if err := f.CheckPairs(f.snapshot(info, gws), names); err != nil {
			return fmt.Errorf("gateways %s: %w", listNames(names), err)
		}
	}
	staleFail := map[string]bool{}
	for _, n := range names {
		g, ok := gws[n]
		switch {
		case !ok:
			return fmt.Errorf("%w: gateway %s not in list_vpcs_summary", ErrInventory, n)
		case gatewayDone(g, v):
			continue
		case upgradeRunning(strings.ToLower(g.UpdateStatus)):
			f.log.InfoContext(ctx, "aviatrix: gateway upgrade already running; waiting for it", "gateway", n)
			continue
		}
		staleFail[n] = strings.EqualFold(g.UpdateStatus, "upgrade_fail")
		if o == opRollback {
			// The core's rollback shape: the member's upgrade.Rollbacker,
			// which re-checks the rollback version and its HA peer on a
			// fresh read right before it sends (the outage of a step that
			// declares downtime is passed on, so only that peer check is
			// waived).
			if err := f.rollbackMember(ctx, n, v, outage); err != nil {
				return err
			}
		} else if err := f.c.UpgradeGateways(ctx, []string{n}, v); err != nil {
			return fmt.Errorf("gateway %s: %w", n, err)
		}
		f.log.InfoContext(ctx, "aviatrix: gateway upgrade started", "gateway", n, "version", v, "rollback", o == opRollback)
	}
	return f.pollBatch(ctx, names, staleFail, deadline,
		func(_ string, g Gateway) bool { return gatewayDone(g, v) },
		func(string) string { return v })
}

// rollbackMember rolls gateway name back to v through its member's
// upgrade.Rollbacker (see gatewayMember.Rollback); outage passes the
// declared outage of a downtime step on.
func (f *Cluster) rollbackMember(ctx context.Context, name, v string, outage bool) error {
	i, ok := f.snapIdx[name]
	if !ok || i == 0 {
		return fmt.Errorf("%w: gateway %s is not in cluster %s", ErrInventory, name, f.name)
	}
	rb, ok := f.members[i].(upgrade.Rollbacker)
	if !ok {
		return fmt.Errorf("%w: member %s cannot roll back", ErrNotSupported, name)
	}
	if outage {
		ctx = withOutage(ctx, name)
	}
	return rb.Rollback(ctx, v)
}

// pollBatch polls list_vpcs_summary + list_gateway_upgrade_status every
// GatewayPoll until done holds for every gateway of names (as a CloudN
// smoke-test script polls). A fresh "upgrade_fail" (one not already reported before the
// kick, per staleFail) fails at once with *UpgradeError (ErrUpgradeFailed);
// passing deadline fails with *UpgradeError (ErrTimeout, wrapping the last
// poll's problem). target renders a gateway's target for errors. TLS and
// authentication errors end the wait; other read errors are retried.
func (f *Cluster) pollBatch(ctx context.Context, names []string, staleFail map[string]bool, deadline time.Time,
	done func(name string, g Gateway) bool, target func(name string) string) error {
	if err := sleep(ctx, f.timing.GatewayPoll); err != nil {
		return err
	}
	var fatal error
	err := f.pollJob(ctx, "gateway batch "+strings.Join(names, ","), f.timing.GatewayPoll, deadline, func(ctx context.Context) error {
		_, gws, err := f.read(ctx, callOpts{noRetry: true})
		if err != nil {
			if errors.Is(err, ErrTLS) || errors.Is(err, ErrAuth) {
				fatal = err
				return upgrade.ErrPermanent
			}
			return err
		}
		var pending []string
		for _, n := range names {
			g := gws[n]
			us := strings.ToLower(g.UpdateStatus)
			switch {
			case us == "upgrade_fail" && !staleFail[n]:
				fatal = &UpgradeError{Party: "gateway", Name: n, Target: target(n), Status: g.UpdateStatus, Err: ErrUpgradeFailed}
				return upgrade.ErrPermanent
			case done(n, g):
			default:
				if us != "upgrade_fail" {
					staleFail[n] = false
				}
				pending = append(pending, fmt.Sprintf("%s (%s/%s on %s)", n, g.State, g.UpdateStatus, g.Version))
			}
		}
		if len(pending) == 0 {
			return nil
		}
		return fmt.Errorf("still upgrading: %s", listNames(pending))
	})
	var ge *upgrade.GateError
	switch {
	case fatal != nil:
		return fatal
	case errors.As(err, &ge):
		ts := make([]string, 0, len(names))
		for _, n := range names {
			ts = append(ts, target(n))
		}
		return &UpgradeError{Party: "gateway", Name: strings.Join(names, ","), Target: strings.Join(slices.Compact(ts), ","), Status: "not complete", Err: ErrTimeout, Last: ge.Last}
	default:
		return err
	}
}
