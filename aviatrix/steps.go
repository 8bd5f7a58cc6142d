package aviatrix

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
//  1. "controller@<version>": upgrade_platform with the explicit version,
//     wait Timing.ControllerSettle, poll platform_upgrade_status every
//     ControllerPoll through the restart window (502/503 HTML, "Valid
//     action required: login", transport errors and a rejected session all
//     mean "keep waiting"), on "complete" log in again and confirm with
//     list_version_info; any other status fails with *UpgradeError
//     (ErrUpgradeFailed); no confirmation by ControllerDeadline fails with
//     *UpgradeError (ErrTimeout, wrapping the last error, e.g.
//     ErrRestarting). Its safety check re-applies
//     versionpath.CheckControllerHop to the fresh snapshot (every gateway on
//     the controller's version), so even a hand-written plan cannot move
//     the controller ahead of unconverged gateways. Verifiable (done when
//     the controller runs version); not idempotent (never retried).
//  2. "wait:controller@<version>": a health gate (Timing.Verify) until the
//     controller reports version.
func (f *Fleet) ControllerHopSteps(version string) []upgrade.Step { return f.controllerSteps(version) }

func (f *Fleet) controllerSteps(v string) []upgrade.Step {
	hop := &upgrade.Func{
		StepID:  "controller@" + v,
		Desc:    fmt.Sprintf("upgrade the controller to %s (upgrade_platform, poll platform_upgrade_status through the restart, log in again, confirm with list_version_info)", v),
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
			vf, err := f.versionFleet(s, nil)
			if err != nil {
				return err
			}
			next, err := ParseVersion(v)
			if err != nil {
				return err
			}
			return versionpath.CheckControllerHop(vf, next)
		},
	}
	wait := &upgrade.Wait{
		StepID:  "wait:controller@" + v,
		Desc:    fmt.Sprintf("wait until the controller answers on %s", v),
		Cluster: f,
		G: upgrade.Gate{Name: "controller on " + v, Timing: f.timing.Verify, Check: func(s upgrade.Snapshot) error {
			c, ok := s.Member(ControllerID)
			if !ok || !c.Healthy || !sameVersion(c.Version, v) {
				return fmt.Errorf("controller on %q, want %s", c.Version, v)
			}
			return nil
		}},
	}
	return []upgrade.Step{hop, wait}
}

// runControllerHop is the controller hop procedure (aviatrix.md §4).
func (f *Fleet) runControllerHop(ctx context.Context, v string) error {
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
	if err := f.c.UpgradePlatform(ctx, v); err != nil {
		return fmt.Errorf("controller upgrade to %s: %w", v, err)
	}
	f.log.InfoContext(ctx, "aviatrix: controller upgrade started", "from", info.Current, "to", v)
	if err := sleep(ctx, f.timing.ControllerSettle); err != nil {
		return err
	}
	status := ""
	var fatal error
	err = f.pollJob(ctx, "controller upgrade to "+v, f.timing.ControllerPoll, deadline, func(ctx context.Context) error {
		ps, err := f.c.platformStatus(ctx, callOpts{noRetry: true})
		switch {
		case err != nil:
			if errors.Is(err, ErrTLS) || errors.Is(err, ErrAuth) {
				fatal = &UpgradeError{Party: "controller", Target: v, Status: status, Err: ErrUpgradeFailed, Last: err}
				return upgrade.ErrPermanent
			}
			return err
		case ps.Running():
			status = "in progress"
			return errors.New("platform upgrade in progress")
		case ps.Done():
			status = "complete"
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
				return fmt.Errorf("controller reports %s after a complete upgrade", got.Current)
			}
			f.log.InfoContext(ctx, "aviatrix: controller upgrade confirmed", "version", got.Current)
			return nil
		case ps.Status == "":
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
		return &UpgradeError{Party: "controller", Target: v, Status: status, Err: ErrTimeout, Last: ge.Last}
	default:
		return err
	}
}

// pollJob waits for an asynchronous controller job with
// upgrade.PollUntil (the project's one poll loop): check runs every
// interval until it returns nil, returns an error matching
// upgrade.ErrPermanent (stop now), or the deadline passes (an
// *upgrade.GateError carrying check's last error). ctx's end stops it.
func (f *Fleet) pollJob(ctx context.Context, name string, interval time.Duration, deadline time.Time, check func(ctx context.Context) error) error {
	budget := max(time.Until(deadline), time.Nanosecond)
	return upgrade.PollUntil(ctx, name, upgrade.Timing{Interval: interval, Deadline: budget}, check, nil)
}

// GatewayBatchSteps returns the steps that move the named gateways (one
// batch) to version — the controller's current version — for hand-written
// plans; k numbers the batch in step IDs. See gatewaySteps.
func (f *Fleet) GatewayBatchSteps(version string, k int, names ...string) []upgrade.Step {
	return f.gatewaySteps(opUpgrade, version, k, batch{names: names}, names)
}

// GatewayRollbackSteps is GatewayBatchSteps for a rollback to previous.
func (f *Fleet) GatewayRollbackSteps(previous string, k int, names ...string) []upgrade.Step {
	return f.gatewaySteps(opRollback, previous, k, batch{names: names}, names)
}

// gatewaySteps returns, for one batch:
//
//  1. "gateways@<v>/bNNN-<hash>" (or "rollback@…"): disrupts the batch's
//     remaining gateways. Its safety check (upgrade.SafetyChecker) is the
//     per-HA-set guard CheckPairs plus the controller-before-gateway rule
//     (versionpath.CheckGatewayUpgrade: v must be the controller's current
//     version; CheckGatewayRollback for rollbacks). Run: upgrade_selected_
//     gateway per gateway (skipping gateways already done or running), then
//     poll list_gateway_upgrade_status + list_vpcs_summary every
//     GatewayPoll until each is up, complete and on v; "upgrade_fail" fails
//     at once (*UpgradeError, ErrUpgradeFailed); GatewayDeadline fails with
//     ErrTimeout. Verifiable; not idempotent. A gateway without an HA peer
//     (AllowOutage) gets a step that declares downtime instead of a guard.
//  2. "wait:…": a health gate (Timing.Verify) until every gateway of the
//     batch is up, healthy and on v.
func (f *Fleet) gatewaySteps(o op, v string, k int, b batch, rem []string) []upgrade.Step {
	verb, id := "upgrade", "gateways@"
	if o == opRollback {
		verb, id = "roll back", "rollback@"
	}
	id += v + "/" + stepKey(k, b.names)
	names := append([]string(nil), rem...)
	desc := fmt.Sprintf("%s gateway(s) %s to %s (upgrade_selected_gateway)", verb, listNames(names), v)
	if b.outage {
		desc += " [no HA peer: outage]"
	}
	run := &upgrade.Func{
		StepID:           id,
		Desc:             desc,
		Members:          names,
		Do:               func(ctx context.Context) error { return f.runGateways(ctx, o, names, v) },
		WholeClusterDown: b.outage,
		Check: func(ctx context.Context) (bool, error) {
			if err := f.needClient(); err != nil {
				return false, err
			}
			_, gws, err := f.read(ctx, callOpts{})
			if err != nil {
				return false, err
			}
			for _, n := range names {
				if !gatewayDone(gws[n], v) {
					return false, nil
				}
			}
			return true, nil
		},
		Safe: func(s upgrade.Snapshot) error {
			errs := []error{f.CheckPairs(s, names)}
			vf, err := f.versionFleet(s, names)
			if err != nil {
				return errors.Join(append(errs, err)...)
			}
			tv, err := ParseVersion(v)
			if err != nil {
				return errors.Join(append(errs, err)...)
			}
			for _, n := range names {
				if o == opRollback {
					errs = append(errs, versionpath.CheckGatewayRollback(vf, n, tv))
				} else {
					errs = append(errs, versionpath.CheckGatewayUpgrade(vf, n, tv))
				}
			}
			return errors.Join(errs...)
		},
	}
	wait := &upgrade.Wait{
		StepID:  "wait:" + id,
		Desc:    fmt.Sprintf("wait until %s %s up and healthy on %s", listNames(names), plural(len(names), "is", "are"), v),
		Cluster: f,
		G: upgrade.Gate{Name: "gateways on " + v, Timing: f.timing.Verify, Check: func(s upgrade.Snapshot) error {
			var miss []string
			for _, n := range names {
				m, ok := s.Member(n)
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
		}},
	}
	return []upgrade.Step{run, wait}
}

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

// runGateways kicks and polls one batch (aviatrix.md §4 Gateways).
func (f *Fleet) runGateways(ctx context.Context, o op, names []string, v string) error {
	if err := f.needClient(); err != nil {
		return err
	}
	deadline := time.Now().Add(f.timing.GatewayDeadline)
	info, gws, err := f.read(ctx, callOpts{})
	if err != nil {
		return err
	}
	// Re-check the rule against the controller's answer right now (outage
	// steps bypass the executor's guard and safety check).
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
			err = f.c.RollbackGateways(ctx, []string{n}, v)
		} else {
			err = f.c.UpgradeGateways(ctx, []string{n}, v)
		}
		if err != nil {
			return fmt.Errorf("gateway %s: %w", n, err)
		}
		f.log.InfoContext(ctx, "aviatrix: gateway upgrade started", "gateway", n, "version", v, "rollback", o == opRollback)
	}
	return f.pollBatch(ctx, names, staleFail, deadline,
		func(_ string, g Gateway) bool { return gatewayDone(g, v) },
		func(string) string { return v })
}

// pollBatch polls list_vpcs_summary + list_gateway_upgrade_status every
// GatewayPoll until done holds for every gateway of names (aviatrix.md §4
// Gateways). A fresh "upgrade_fail" (one not already reported before the
// kick, per staleFail) fails at once with *UpgradeError (ErrUpgradeFailed);
// passing deadline fails with *UpgradeError (ErrTimeout, wrapping the last
// poll's problem). target renders a gateway's target for errors. TLS and
// authentication errors end the wait; other read errors are retried.
func (f *Fleet) pollBatch(ctx context.Context, names []string, staleFail map[string]bool, deadline time.Time,
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
