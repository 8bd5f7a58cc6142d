package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// The security group's operations. Every command text is UNVERIFIED
// (hand-written from the Maestro Administration Guide R81.20/R82 and the
// R82 Scalable Platforms Administration Guide; no public capture): confirm
// on a lab security group.

// StageSGMs copies SecurityGroupConfig.PackagePath to the security group
// and imports and verifies it with CPUSE from gClish (`installer import
// local <file> not-interactive`, `installer verify <file>`), which makes
// the package known on every SGM; not disruptive, idempotent (an upload
// already there with the same size is not sent again). It does nothing
// when every SGM already runs target.
func (g *SecurityGroup) StageSGMs(ctx context.Context, target string) error {
	vs, err := g.gAll(ctx, nil, "fw ver")
	if err != nil {
		return err
	}
	todo := false
	for _, s := range g.sgms {
		v, err := ParseVersion(vs[s.id])
		if err != nil || !sameRelease(v.Release, target) {
			todo = true
		}
	}
	if !todo {
		return nil
	}
	return g.sg().stagePackage(ctx, g.cfg.PackagePath)
}

// releases reads every SGM's release (`g_all fw ver`); SGMs that did not
// answer are absent.
func (g *SecurityGroup) releases(ctx context.Context, lockHeld bool) (map[string]string, error) {
	var out string
	var err error
	s := g.sg()
	if lockHeld {
		out, err = s.expertLocked(ctx, "g_all fw ver", "g_all fw ver", false)
	} else {
		out, err = s.expert(ctx, "g_all fw ver", "g_all fw ver", false)
	}
	if err != nil {
		return nil, err
	}
	blocks, err := ParseGAll(out)
	if err != nil {
		return nil, g.sgErr("g_all fw ver", err)
	}
	res := map[string]string{}
	for _, b := range blocks {
		v, err := ParseVersion(b.Output)
		if err != nil {
			return nil, g.sgErr("g_all fw ver", err)
		}
		for _, id := range b.SGMs {
			res[id] = v.Release
		}
	}
	return res, nil
}

// SetAdmin runs `g_clusterXL_admin -b <ids> down|up` on the security
// group (per-SGM administrative state, not persistent: a reboot clears it;
// Maestro Administration Guide, "g_clusterXL_admin"). Before `down`, it
// reads `asg stat -v` and refuses (a *RuleError, ErrSiteNotForwarding;
// nothing sent) when no SGM outside ids would forward on some site.
func (g *SecurityGroup) SetAdmin(ctx context.Context, ids []string, down bool) error {
	word := "up"
	if down {
		word = "down"
		asg, err := g.readASG(ctx)
		if err != nil {
			return err
		}
		if err := g.sitesForwarding(asg, ids); err != nil {
			return err
		}
	}
	_, err := g.change(ctx, "g_clusterXL_admin", "g_clusterXL_admin -b "+JoinSGMIDs(ids)+" "+word)
	return err
}

// adminState reports which of ids show "DOWN (admin)" in asg.
func adminState(asg ASGStat, ids []string) (down, notDown []string) {
	for _, id := range ids {
		if s, ok := asg.SGM(id); ok && s.Admin {
			down = append(down, id)
		} else {
			notDown = append(notDown, id)
		}
	}
	return down, notDown
}

// UpgradeSGMs runs `installer upgrade <package> member_ids <ids>
// not-interactive` in gClish: the listed SGMs reboot into target (R82
// Scalable Platforms Administration Guide, "Installing and Upgrading with
// CPUSE": never `member_ids all`, which stops traffic). SGMs already on
// target are left out; with none left it sends nothing.
//
// Right before the command, holding the security group's session so that
// nothing else is sent in between, it reads `asg stat -v` and `g_all fw
// ver` and sends the command only if none of the SGMs to upgrade forwards
// (they were set administratively DOWN first, so that the others carry the
// traffic) and every site keeps a forwarding SGM outside them; and, before
// taking the session, that some orchestrator answers. Anything else refuses
// with a *RuleError (ErrSiteNotForwarding, ErrUnexpectedRole) or a
// *MemberError, sending nothing. A dropped session (the SMO is among the
// SGMs and reboots) is success.
func (g *SecurityGroup) UpgradeSGMs(ctx context.Context, target string, ids []string) error {
	if _, err := checkTarget(target); err != nil {
		return &MemberError{Member: g.cfg.Name, Op: "installer upgrade", Err: err}
	}
	if !slices.ContainsFunc(g.mhos, func(o *Orchestrator) bool { _, err := o.version(ctx); return err == nil }) && len(g.mhos) > 0 {
		return &RuleError{Rule: RuleSplit, Err: cond(ErrOrchestrator, "no orchestrator answers: the security group has no way in")}
	}
	s := g.sg()
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := s.expertLocked(ctx, "asg stat -v", "asg stat -v", false)
	if err != nil {
		return err
	}
	asg, err := ParseASGStat(out)
	if err != nil {
		return g.sgErr("asg stat -v", err)
	}
	rel, err := g.releases(ctx, true)
	if err != nil {
		return err
	}
	var todo []string
	for _, id := range ids {
		r, answered := rel[id]
		if sameRelease(r, target) {
			continue
		}
		if !answered {
			// Rebooting (an interrupted run's command) or down: the wait
			// after this step judges it; never send it a second upgrade.
			g.log.Warn("checkpoint: SGM does not answer; left out of the upgrade command", "sgm", id)
			continue
		}
		if row, ok := asg.SGM(id); ok && row.Forwarding() {
			return &RuleError{Member: id, Rule: RuleSplit, Err: cond(ErrUnexpectedRole, "SGM %s still forwards (%s %s): set it administratively DOWN first", id, row.State, row.Process)}
		}
		todo = append(todo, id)
	}
	if len(todo) == 0 {
		return nil
	}
	if err := g.sitesForwarding(asg, ids); err != nil {
		return err
	}
	cmd := "installer upgrade " + baseName(g.cfg.PackagePath) + " member_ids " + JoinSGMIDs(todo) + " not-interactive"
	g.log.Info("checkpoint: upgrading SGMs", "sgms", todo, "command", cmd)
	_, err = s.clishLocked(ctx, "installer upgrade", cmd, false)
	switch {
	case err == nil, errors.Is(err, driver.ErrDropped):
		return nil
	case errors.Is(err, driver.ErrAborted) && ctx.Err() == nil:
		return nil
	}
	return err
}

// SetMVC runs `g_all -b <ids> cphaconf mvc on|off` (prints nothing; R81
// CLI Reference Guide, "cphaconf mvc"; on Maestro through g_all) and reads
// it back with `g_all -b <ids> cphaprob mvc` until every SGM shows it or
// timing ends (ErrMVCReadBack naming the SGMs).
func (g *SecurityGroup) SetMVC(ctx context.Context, ids []string, on bool, timing upgrade.Timing) error {
	word := "off"
	if on {
		word = "on"
	}
	if _, err := g.change(ctx, "cphaconf mvc", "g_all -b "+JoinSGMIDs(ids)+" cphaconf mvc "+word); err != nil {
		return err
	}
	return upgrade.PollUntil(ctx, "MVC "+word+" on "+JoinSGMIDs(ids), timing, func(ctx context.Context) error {
		got, err := g.mvcOf(ctx, ids)
		if err != nil {
			return err
		}
		var wrong []string
		for _, id := range ids {
			if v, ok := got[id]; !ok || v != on {
				wrong = append(wrong, id)
			}
		}
		if len(wrong) > 0 {
			return &RuleError{Member: wrong[0], Rule: RuleMVCReadBack, Err: cond(ErrMVCReadBack, "MVC does not read back %s on %s", word, strings.Join(wrong, ", "))}
		}
		return nil
	}, nil)
}

// mvcOf reads `g_all -b <ids> cphaprob mvc`.
func (g *SecurityGroup) mvcOf(ctx context.Context, ids []string) (map[string]bool, error) {
	outs, err := g.gAll(ctx, ids, "cphaprob mvc")
	if err != nil {
		return nil, err
	}
	res := map[string]bool{}
	for id, out := range outs {
		m, err := ParseMVC(out)
		if err != nil {
			return nil, &MemberError{Member: id, Op: "cphaprob mvc", Err: err}
		}
		res[id] = m.Enabled
	}
	return res, nil
}

// AutoClone reads the SMO image auto-clone state (gClish `show cluster
// configuration image auto-clone state`; Maestro Administration Guide,
// "SMO Image Cloning").
func (g *SecurityGroup) AutoClone(ctx context.Context) (bool, error) {
	out, err := g.clish(ctx, "auto-clone", "show cluster configuration image auto-clone state", true)
	if err != nil {
		return false, err
	}
	on, err := ParseAutoClone(out)
	if err != nil {
		return false, g.sgErr("auto-clone", err)
	}
	return on, nil
}

// SetAutoClone sets the SMO image auto-clone state (gClish `set cluster
// configuration image auto-clone state on|off`) and reads it back.
func (g *SecurityGroup) SetAutoClone(ctx context.Context, on bool) error {
	word := "off"
	if on {
		word = "on"
	}
	if _, err := g.clish(ctx, "auto-clone", "set cluster configuration image auto-clone state "+word, false); err != nil {
		return err
	}
	got, err := g.AutoClone(ctx)
	if err != nil {
		return err
	}
	if got != on {
		return g.sgErr("auto-clone", cond(ErrCommandFailed, "image auto-clone reads back %t after setting it %s", got, word))
	}
	return nil
}

// Bonds reads the security group's bond modes (`grep -H 'Bonding Mode'
// /proc/net/bonding/*`).
func (g *SecurityGroup) Bonds(ctx context.Context) ([]Bond, error) {
	out, err := g.sg().expert(ctx, "bonds", "grep -H 'Bonding Mode' /proc/net/bonding/* 2>/dev/null; true", false)
	if err != nil {
		return nil, err
	}
	b, err := ParseBondModes(out)
	if err != nil {
		return nil, g.sgErr("bonds", err)
	}
	return b, nil
}

// RunVerifier runs the pre-upgrade verifier `$FWDIR/scripts/migrate_server
// verify -v <target>` on the security group (R82 Installation and
// Upgrade Guide, "Upgrading a Security Group": disk space,
// synchronisation health, pending changes) and returns its report; a
// failed verification is a report with OK false (its exit status is not
// an error), an output that is neither a *ParseError.
func (g *SecurityGroup) RunVerifier(ctx context.Context, target string) (VerifierReport, error) {
	if _, err := checkTarget(target); err != nil {
		return VerifierReport{}, err
	}
	out, err := g.sg().expert(ctx, "migrate_server verify", "$FWDIR/scripts/migrate_server verify -v "+target, false)
	if err != nil {
		var ce *driver.CommandError
		if !errors.As(err, &ce) {
			return VerifierReport{}, err
		}
		out = ce.Output
	}
	r, err := ParseVerifier(out)
	if err != nil {
		return VerifierReport{}, g.sgErr("migrate_server verify", err)
	}
	return r, nil
}

// Takes reads every SGM's Jumbo Hotfix take (`g_all cpinfo -y all`).
func (g *SecurityGroup) Takes(ctx context.Context) (map[string]Take, error) {
	outs, err := g.gAll(ctx, nil, "cpinfo -y all")
	if err != nil {
		return nil, err
	}
	res := map[string]Take{}
	for id, out := range outs {
		t, err := ParseJumboTake(out)
		if err != nil && !errors.Is(err, ErrNoTake) {
			return nil, &MemberError{Member: id, Op: "cpinfo -y all", Err: err}
		}
		res[id] = t
	}
	return res, nil
}

// Model reads the orchestrator's hardware model (Clish `show asset
// system`, "Model:").
func (o *Orchestrator) Model(ctx context.Context) (string, error) {
	o.s.mu.Lock()
	out, err := o.s.clishLocked(ctx, "show asset system", "show asset system", true)
	o.s.mu.Unlock()
	if err != nil {
		return "", err
	}
	m, err := ParseAssetModel(out)
	if err != nil {
		return "", &MemberError{Member: o.ID(), Host: o.s.host, Op: "show asset system", Err: err}
	}
	return m, nil
}

// RevertSGMs runs `sp_upgrade --revert -b <ids>` on the security group:
// the listed SGMs, and only they, go back to the release they ran before
// their upgrade (R82 Scalable Platforms Administration Guide, "Rolling
// back": while some SGMs still run the new version, the revert runs only
// on them). Disruptive for those SGMs; a dropped session is success.
func (g *SecurityGroup) RevertSGMs(ctx context.Context, ids []string) error {
	_, err := g.change(ctx, "sp_upgrade --revert", "sp_upgrade --revert -b "+JoinSGMIDs(ids))
	if err != nil && (errors.Is(err, driver.ErrDropped) || errors.Is(err, driver.ErrAborted) && ctx.Err() == nil) {
		return nil
	}
	return err
}

// precheck is every pre-upgrade problem of the security group at once:
// management version, orchestrator models, every SGM up and in the same
// state and release, the Jumbo take minimums, the multi-stage rule, the
// LACP rule (unless minimumDowntime), the verifier. It returns the
// verifier's report (for change approval) with the problems.
func (g *SecurityGroup) precheck(ctx context.Context, target string, minimumDowntime bool) (VerifierReport, []error) {
	var errs []error
	rule := func(member, rule string, err error) {
		errs = append(errs, &RuleError{Member: member, Rule: rule, Err: err})
	}
	tv, err := checkTarget(target)
	if err != nil {
		return VerifierReport{}, []error{err}
	}
	// Management: the target or newer.
	if p, err := g.sess.mgmt.GetPlatform(ctx, g.cfg.MgmtServerObject); err != nil {
		errs = append(errs, &RuleError{Object: g.cfg.MgmtServerObject, Rule: RuleManagement, Err: fmt.Errorf("%w: %w", ErrManagement, err)})
	} else if mv, err := checkTarget(p.Version); err != nil {
		errs = append(errs, &RuleError{Object: g.cfg.MgmtServerObject, Rule: RuleManagementVersion, Err: cond(ErrManagementVersion, "version %q: %v", p.Version, err)})
	} else if mv.Compare(tv) < 0 {
		errs = append(errs, &RuleError{Object: g.cfg.MgmtServerObject, Rule: RuleManagementVersion,
			Err: cond(ErrManagementVersion, "the management server runs %s, below the target %s: management must run %s or newer to manage the upgraded security group; upgrade management first", p.Version, target, target)})
	}
	// Orchestrators: reachable, model fit for R82 and later.
	r82, _ := checkTarget("R82")
	for _, o := range g.mhos {
		if _, err := o.version(ctx); err != nil {
			rule(o.ID(), RuleOrchestratorModel, cond(ErrOrchestrator, "orchestrator %s does not answer: %v", o.ID(), err))
			continue
		}
		if tv.Compare(r82) < 0 {
			continue
		}
		m, err := o.Model(ctx)
		switch {
		case err != nil:
			rule(o.ID(), RuleOrchestratorModel, cond(ErrOrchestrator, "model not readable: %v", err))
		case !slices.Contains(g.cfg.OrchestratorModels, m):
			rule(o.ID(), RuleOrchestratorModel, cond(ErrOrchestrator, "orchestrator %s is a %s; %s needs one of %s (the R82 Maestro/ElasticXL features need the 140-series)", o.ID(), m, target, strings.Join(g.cfg.OrchestratorModels, ", ")))
		}
	}
	// SGMs: all UP and enforcing, the same release and take.
	asg, err := g.readASG(ctx)
	if err != nil {
		return VerifierReport{}, append(errs, err)
	}
	if asg.Truncated {
		rule("", RuleSGMsUp, cond(ErrUnreadable, "asg stat -v is truncated"))
	}
	rel, err := g.releases(ctx, false)
	if err != nil {
		return VerifierReport{}, append(errs, err)
	}
	takes, err := g.Takes(ctx)
	if err != nil {
		return VerifierReport{}, append(errs, err)
	}
	sources := map[string][]string{}
	for _, s := range g.sgms {
		row, ok := asg.SGM(s.id)
		switch {
		case !ok:
			rule(s.id, RuleSGMsUp, cond(ErrSGMDown, "SGM %s is not listed by asg stat -v", s.id))
			continue
		case !row.Forwarding():
			rule(s.id, RuleSGMsUp, cond(ErrSGMDown, "SGM %s is %s %s, not UP Enforcing Security", s.id, row.State, row.Process))
			continue
		}
		r, ok := rel[s.id]
		if !ok {
			rule(s.id, RuleSGMsUp, cond(ErrUnreadable, "SGM %s did not answer g_all fw ver", s.id))
			continue
		}
		sources[r] = append(sources[r], s.id)
		if sameRelease(r, target) {
			continue
		}
		rv, err := checkTarget(r)
		if err != nil {
			rule(s.id, RuleKnownState, cond(ErrUnreadable, "release %q: %v", r, err))
			continue
		}
		if rv.Compare(tv) > 0 {
			rule(s.id, RuleNotAhead, cond(ErrAheadOfTarget, "SGM %s runs %s, above %s", s.id, r, target))
			continue
		}
		if via, err := versionpath.MultiStagePath(g.sess.cfg.MultiStages, rv, tv); err != nil {
			rule(s.id, RuleMultiStage, fmt.Errorf("%w: %w", ErrMultiStage, err))
		} else if len(via) > 1 {
			hops := make([]string, len(via))
			for i, v := range via {
				hops[i] = v.String()
			}
			rule(s.id, RuleMultiStage, fmt.Errorf("%w: SGM %s runs %s: upgrade to %s first (multi-stage path %s -> %s)", ErrMultiStage, s.id, r, hops[0], r, strings.Join(hops, " -> ")))
			continue
		}
		t, ok := takes[s.id]
		if !ok {
			rule(s.id, RuleMinimumTake, cond(ErrUnreadable, "SGM %s did not answer g_all cpinfo -y all", s.id))
			continue
		}
		if err := versionpath.CheckTakeMinimum(g.sess.cfg.TakeMinimums, rv, t.Number, tv); err != nil {
			rule(s.id, RuleMinimumTake, fmt.Errorf("%w: SGM %s: %w", ErrTakeTooLow, s.id, err))
		}
	}
	if len(sources) > 1 {
		var parts []string
		for r, ids := range sources {
			parts = append(parts, r+": "+strings.Join(ids, ","))
		}
		slices.Sort(parts)
		rule("", RuleSameRelease, cond(ErrUnexpectedVersion, "the SGMs run different releases (%s): finish or roll back the earlier upgrade first", strings.Join(parts, "; ")))
	}
	// LACP uplinks (PMTR-88191).
	if bonds, err := g.Bonds(ctx); err != nil {
		errs = append(errs, err)
	} else if !minimumDowntime {
		for _, b := range bonds {
			if b.LACP {
				errs = append(errs, &LACPError{Group: g.cfg.Name, Bond: b.Name, Mode: b.Mode})
			}
		}
	}
	// The verifier, last: its report is kept.
	rep, err := g.RunVerifier(ctx, target)
	switch {
	case err != nil:
		errs = append(errs, err)
	case !rep.OK:
		rule("", RuleVerifier, cond(ErrVerifierFailed, "migrate_server verify: %s", strings.Join(rep.Errors, "; ")))
	}
	return rep, errs
}

// ErrLACPBond is the category of an LACP (IEEE 802.3ad) uplink bond on a
// security group, which blocks the zero-downtime (MVC) procedure (defect
// PMTR-88191, R82 Scalable Platforms release notes).
var ErrLACPBond = errors.New("checkpoint: LACP uplink bond blocks the zero-downtime upgrade")

// LACPError reports an LACP uplink bond (ErrLACPBond) and the alternative:
// the documented minimum-downtime procedure, which hitless runs only when
// asked explicitly (SecurityGroupPlanner.MinimumDowntime) and reports as
// declared downtime.
type LACPError struct {
	// Group is the security group; Bond the bond ("bond1"); Mode its mode
	// as printed.
	Group, Bond, Mode string
}

// Error names the bond and the alternative.
func (e *LACPError) Error() string {
	return fmt.Sprintf("checkpoint: security group %s: rule %s: bond %s is in %q mode: LACP uplink bonds block the zero-downtime Multi-Version Cluster upgrade (PMTR-88191); the alternative is the documented minimum-downtime procedure, which loses traffic while the second sub-group reboots: set SecurityGroupPlanner.MinimumDowntime to run it as declared downtime, or change the bond mode first",
		e.Group, RuleLACP, e.Bond, e.Mode)
}

// Unwrap returns ErrLACPBond.
func (e *LACPError) Unwrap() error { return ErrLACPBond }

// WindowError is a refusal by a time rule: the 72-hour mixed-version
// window (every SGM on one release within 72 h of the first SGM's
// upgrade; R82 Installation and Upgrade Guide, "Upgrading a Security
// Group in MVC mode", UNVERIFIED) or the 4-hour rollback window
// (`sp_upgrade --revert` within 4 h of the upgrade). It matches
// ErrWindow.
type WindowError struct {
	// Rule is "mixed-version" or "rollback"; Step the step refused.
	Rule, Step string
	// Start is when the window opened (the first SGM upgrade started),
	// Deadline when it closes, Now the time of the refusal, Need the
	// expected duration of what the step would start (zero for the
	// rollback rule).
	Start, Deadline, Now time.Time
	Need                 time.Duration
	// SGMs are the SGMs concerned (the rollback rule).
	SGMs []string
}

// ErrWindow is the category of WindowError.
var ErrWindow = errors.New("checkpoint: outside the allowed time window")

// Error gives the times in UTC and the durations.
func (e *WindowError) Error() string {
	f := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	if e.Rule == "rollback" && e.Start.IsZero() {
		return fmt.Sprintf("checkpoint: step %s: rule rollback-window: the journal records no upgrade of SGMs %s, so the 4-hour rule cannot be checked (it is %s): refusing sp_upgrade --revert",
			e.Step, strings.Join(e.SGMs, ","), f(e.Now))
	}
	if e.Rule == "rollback" {
		return fmt.Sprintf("checkpoint: step %s: rule rollback-window: SGMs %s were upgraded at %s; sp_upgrade --revert is allowed only until %s (4 h), it is %s (%s late)",
			e.Step, strings.Join(e.SGMs, ","), f(e.Start), f(e.Deadline), f(e.Now), e.Now.Sub(e.Deadline))
	}
	left := e.Deadline.Sub(e.Now)
	return fmt.Sprintf("checkpoint: step %s: rule %s: the mixed-version window opened at %s and closes at %s (72 h); it is %s, %s left, and what this step starts needs %s: finish it in a new window after rolling back, or plan longer",
		e.Step, RuleWindow, f(e.Start), f(e.Deadline), f(e.Now), left, e.Need)
}

// Unwrap returns ErrWindow.
func (e *WindowError) Unwrap() error { return ErrWindow }
