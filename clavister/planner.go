package clavister

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hitless/hitless/upgrade"
)

// Planner encodes the procedure of the cOS Core Administration Guide 14.00,
// "Upgrading an HA Cluster", as an upgrade.Planner:
//
//  1. stage:<inactive>@<target> — copy the .upg to the INACTIVE unit by
//     SCP and check its size with `ls` (Member.Stage). It restarts
//     nothing and disrupts no unit; it is idempotent, and an interrupted
//     one is verified (the package listed with the local file's size) or
//     simply run again;
//  2. install:<inactive>@<target> — upgrade the INACTIVE unit first
//     (Member.Apply): it disrupts that unit, so the executor's guard checks
//     right before it that the other unit forwards; Apply then checks the
//     staged package and, holding both units' sessions, reads `ha` on the
//     other unit and on this one and sends the apply command only if the
//     other unit is still ACTIVE, sees this one ALIVE and is in sync, and
//     this one is still INACTIVE (ErrPeerNotForwarding otherwise); the unit
//     reboots;
//  3. wait:<inactive>@<target> — gate: it is back on the target, INACTIVE,
//     sees its peer ALIVE, object sync 100 % where printed; the other unit
//     is still ACTIVE and healthy and its time in state did not go back
//     (an unplanned failover: the gate fails). The guide insists on a
//     synchronised unit before the failover;
//  4. failover:to:<inactive> — `ha -deactivate` on the ACTIVE unit; refused
//     by the executor's guard unless the gate-3 condition holds at that
//     moment (a safety precondition). It declares the failover
//     (upgrade.FailoverDeclarer);
//  5. wait:active:<inactive> — gate: the roles swapped, verified with `ha`
//     on both units, both see the peer ALIVE;
//  6. stage:<formerly active>@<target>, install:<formerly active>@<target>
//     — upgrade the now-INACTIVE unit the same way;
//  7. with RestoreRoles, when the master is not the ACTIVE unit at that
//     point: wait:<master>@<target> (resync gate), then restore:to:<master>
//     (`ha -deactivate` on the ACTIVE slave: the guide's optional role
//     restore; it declares the failover too);
//  8. postcheck@<target> — gate: both units on the target, exactly one
//     ACTIVE (the master, with RestoreRoles), both see the peer ALIVE, in
//     sync, no pair problem. It is also the resync gate of the last unit
//     installed.
//
// For a fresh pair fw-a (ACTIVE) and fw-b (INACTIVE) and target 14.00.11 the
// step IDs are stage:fw-b@14.00.11, install:fw-b@14.00.11,
// wait:fw-b@14.00.11, failover:to:fw-b, wait:active:fw-b,
// stage:fw-a@14.00.11, install:fw-a@14.00.11, postcheck@14.00.11.
//
// Every plan, also one with no step left, carries its end state
// (upgrade.Plan.Converged), which the executor checks after the last step,
// also when every step was already done in the journal: the condition of
// the post-check (both units on the target by the version grammar, exactly
// one ACTIVE, the master with RestoreRoles, both healthy: peer ALIVE, sync
// 100 % where printed, no pair problem). Its error names each unit with
// its version and state, so a journal replayed against a pair that did
// not change fails with upgrade.ErrNotConverged instead of reporting
// success.
//
// Plan is pure and deterministic: step IDs depend only on unit names and
// the target, and re-planning from a fresh snapshot part-way yields only the
// remaining steps, with the same IDs (a subsequence of the first plan, so an
// upgrade.Journal resumes): after the first install, the plan starts at its
// gate; after the failover, at wait:active; with both units on the target,
// it holds only what is left (the role restore, the post-check), or nothing
// when the post-check already holds: a unit back on the target that is
// still resynchronising or does not see its peer ALIVE yet keeps the
// post-check, the resync gate of the last unit installed (Cluster.Observe
// reads `ha` and `about` of one boot of each unit, so a unit that
// restarts while it is observed is not taken for one in sync). A unit
// that is down in the snapshot (rebooting) and whose version is therefore
// unknown is planned as not yet upgraded (its stage and install steps are
// then done in the journal, or no-ops on a unit already on the target).
//
// Configuration is never pushed: with the HA setting "Deactivate Before
// Reconf" (enabled by default, Administration Guide 15.00, HA Advanced
// Settings) a reconfiguration would cause an extra failover.
//
// # Resuming an install
//
// An install step whose start is journaled but not its outcome (the
// process died) is verified before anything is sent again, because the
// journal cannot say how far it got: the apply command may never have
// been sent, may have been acknowledged with the unit still up (the time
// between the apply command and the reboot is undocumented: see
// Config.ApplyGrace), or the unit may be rebooting or back already. A second
// apply command would restart the unit a second time. The verification
// polls the unit (`stats`, whose Uptime shows a restart, then `ha` and
// `about`) every Gate.Interval for at most
// Config.ApplyGrace + Gate.Deadline, and decides on the first of:
//
//  1. the unit runs the target: done (the install is skipped);
//  2. the unit restarted since the install began and runs another
//     version: an error matching upgrade.ErrUnverifiable (the run stops
//     for an operator, as upgrade.Rolling does) and ErrInstallNotTaken,
//     naming the unit. A restart is known when this Cluster saw the unit
//     go away (a session dropped, a connection refused or timed out: New
//     runs after the interruption, so this is after the install began),
//     when its Uptime went back between two polls, or, with
//     Planner.Journal, when its Uptime plus one second (the resolution) is
//     shorter than the time since the install's journaled start;
//  3. the unit was seen up on its old version, without any such restart,
//     for Config.ApplyGrace since the verification began. An apply command
//     acknowledged before the interruption would have taken the unit down
//     by then, so none is pending. Not done (the executor runs the
//     install again: one apply command in all) when there is positive
//     evidence that no earlier apply command restarted it either: with
//     Planner.Journal, its Uptime shows no restart since the install began;
//     without it, `ls` still lists the staged package (the simulator,
//     like the inferred device behaviour, consumes a package at the
//     reboot that installs it; this is inferred, confirm it on a lab
//     unit). Otherwise (no journal and no package listed) an error
//     matching upgrade.ErrUnverifiable: the unit may already have come
//     back from a failed install, or the package was removed.
//
// A unit still down at the end is a *upgrade.GateError (ErrGateTimeout).
// A restart less than a second after the install began cannot be seen in
// Uptime (simulated units only; a real reboot takes minutes).
//
// The journal's times come from the clock of the host that wrote them;
// rule 2's Uptime test assumes the same clock, not stepped in between.
//
// The permanent-failure detection of the post-install gates (a unit back
// on another version after its install: ErrInstallNotTaken, matching
// upgrade.ErrPermanent, fails the gate at once) is kept in memory by the
// Cluster that sent the apply command. In a resumed run (the install
// finished in an earlier process, so its apply command was acknowledged),
// wait:<unit>@<target> and the post-check re-arm it from the snapshot at
// their first poll that shows the unit on another version. The unit then
// counts as not taken:
//
//   - at once when this Cluster saw it go away (since New: a process
//     started while the unit reboots), or, with Planner.Journal, when its
//     `stats` Uptime (read before its version) is shorter than the time
//     since the install's journaled start;
//   - otherwise, once it has answered on that version for
//     Config.ApplyGrace since the gate armed, without going away: an
//     acknowledged apply command would have restarted it by then, so it
//     came back on the old version before the resume (which, without
//     Planner.Journal, nothing else can show) or the command never took
//     effect. A gate whose Deadline is shorter than Config.ApplyGrace ends
//     with ErrGateTimeout first.
//
// Either way the gate fails for good and the run never fails over.
type Planner struct {
	// Cluster is the pair the steps act on; required.
	Cluster *Cluster
	// GateTiming is the Timing of every health gate; zero means
	// upgrade.DefaultGateTiming() (poll every 10 s, healthy 30 s, 20 min
	// deadline). A unit reboot takes an unknown time on real hardware
	// (plan 10–15 min per unit); the deadline must cover it.
	GateTiming upgrade.Timing
	// RestoreRoles adds the optional role restore of the guide's
	// procedure: fail back so that the HA master is ACTIVE again at the
	// end. cOS Core never fails back by itself.
	RestoreRoles bool
	// Journal, when set, is the journal the Executor runs this plan with
	// (pass the same value). It is only read, by the steps, to learn when
	// an install began: after a process restart, the verification of an
	// interrupted install and the post-install gate compare that time with
	// the unit's `stats` Uptime to tell "rebooted since the install began"
	// from "never rebooted" (see "Resuming an install" in the Planner
	// documentation). Without it a resumed run still never sends a second
	// apply command while one may be pending, but stops with
	// upgrade.ErrUnverifiable in some cases it could otherwise settle, and
	// a post-install gate reached after a restart fails only after
	// Config.ApplyGrace, instead of at once, when the unit already came
	// back on its old version before the restart (and was not seen going
	// away).
	Journal upgrade.Journal
}

var _ upgrade.Planner = Planner{}

// PlanError says why no plan could be made. It lists every problem at once,
// each a *UnitError naming its unit or a condition error (errors.Is finds
// ErrNotConfigured, ErrAheadOfTarget, ErrSplitBrain, ErrBothInactive,
// ErrUnreadable…). It matches upgrade.ErrInvalid.
type PlanError struct {
	// Cluster is the cluster name; Target the requested version.
	Cluster, Target string
	// Problems are the reasons, in unit order.
	Problems []error
}

// Error lists the problems on one line.
func (e *PlanError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return fmt.Sprintf("clavister: cannot plan the upgrade of cluster %s to %q: %s", e.Cluster, e.Target, strings.Join(msgs, "; "))
}

// Is matches upgrade.ErrInvalid.
func (e *PlanError) Is(target error) bool { return target == upgrade.ErrInvalid }

// Unwrap returns the problems.
func (e *PlanError) Unwrap() []error { return e.Problems }

// Step ID shapes (stable: the journal keys on them).
func stageStepID(unit, target string) string   { return "stage:" + unit + "@" + target }
func installStepID(unit, target string) string { return "install:" + unit + "@" + target }
func waitStepID(unit, target string) string    { return "wait:" + unit + "@" + target }
func failoverStepID(to string) string          { return "failover:to:" + to }
func activeStepID(to string) string            { return "wait:active:" + to }
func restoreStepID(to string) string           { return "restore:to:" + to }
func postcheckStepID(target string) string     { return "postcheck@" + target }

// Plan implements upgrade.Planner (see Planner for the steps). It refuses
// with a *PlanError when: there is no Cluster; the target is not a cOS Core
// version; the Gate timing is invalid; a unit is missing from the snapshot
// or the snapshot has a unit the pair does not; a unit's version does not
// parse or is ahead of the target (ErrAheadOfTarget); a unit is a
// standalone system (ErrNotConfigured) or its state could not be read
// (ErrUnreadable); both units are ACTIVE (ErrSplitBrain) or none is
// (ErrBothInactive; a pair that forwards nothing cannot be upgraded
// without downtime); with RestoreRoles, neither unit says which is master.
// Mixed versions are expected part-way and are not a problem.
func (p Planner) Plan(s upgrade.Snapshot, target string) (upgrade.Plan, error) {
	if p.Cluster == nil {
		return upgrade.Plan{}, &PlanError{Cluster: s.Cluster, Target: target, Problems: []error{errors.New("clavister: planner has no Cluster")}}
	}
	c := p.Cluster
	fail := &PlanError{Cluster: c.Name(), Target: target}
	bad := func(err error) { fail.Problems = append(fail.Problems, err) }
	tv, terr := ParseVersion(target)
	if terr != nil {
		bad(fmt.Errorf("clavister: target: %w", terr))
	}
	timing := p.gate()
	if err := timing.Validate(); err != nil {
		bad(fmt.Errorf("clavister: planner gate: %w", err))
	}
	names := [2]string{c.cfg.Units[0].Name, c.cfg.Units[1].Name}
	for _, m := range s.Members {
		if m.ID != names[0] && m.ID != names[1] {
			bad(&UnitError{Unit: m.ID, Op: "plan", Err: cond(ErrUnknownUnit, "snapshot has a unit that is not in cluster %s", c.Name())})
		}
	}
	var (
		st     [2]upgrade.MemberState
		on     [2]bool // runs the target
		active []int
	)
	for i, name := range names {
		m, ok := s.Member(name)
		if !ok {
			bad(&UnitError{Unit: name, Op: "plan", Err: cond(ErrUnreadable, "missing from the snapshot")})
			continue
		}
		st[i] = m
		if m.Version != "" && terr == nil {
			v, verr := ParseVersion(m.Version)
			switch {
			case verr != nil:
				bad(&UnitError{Unit: name, Op: "plan", Err: cond(ErrUnreadable, "version: %v", verr)})
			case v.Compare(tv) > 0:
				bad(&UnitError{Unit: name, Op: "plan", Err: cond(ErrAheadOfTarget, "runs %s, target %s: a downgrade is not a rolling upgrade", m.Version, target)})
			default:
				on[i] = v.Compare(tv) == 0
			}
		}
		switch m.Role {
		case upgrade.RoleActive:
			active = append(active, i)
		case upgrade.RoleStandby, upgrade.RoleDown:
			// INACTIVE, or rebooting part-way: both are planned.
		case upgrade.RoleUnknown:
			bad(&UnitError{Unit: name, Op: "plan", Err: firstProblem(m, ErrUnreadable)})
		default:
			bad(&UnitError{Unit: name, Op: "plan", Err: cond(ErrUnexpectedRole, "role %s", m.Role)})
		}
	}
	switch {
	case len(active) == 2:
		bad(cond(ErrSplitBrain, "%s and %s both report ACTIVE", names[0], names[1]))
	case len(active) == 0 && len(fail.Problems) == 0:
		bad(cond(ErrBothInactive, "no unit reports ACTIVE (%s is %s, %s is %s): nothing forwards", names[0], st[0].Role, names[1], st[1].Role))
	}
	master := ""
	if p.RestoreRoles {
		master = masterOf(names, st)
		if master == "" && len(fail.Problems) == 0 {
			bad(errors.New("clavister: RestoreRoles: neither unit reports which one is the HA master"))
		}
	}
	if len(fail.Problems) > 0 {
		return upgrade.Plan{}, fail
	}

	act := active[0]
	oth := 1 - act
	b := builder{c: c, target: target, tv: tv, timing: timing, master: master, journal: p.Journal}
	var steps []upgrade.Step
	final := names[act] // the ACTIVE unit once every install is done
	switch {
	case !on[act]:
		// Phase 1: the INACTIVE unit first (or its gate when it is done).
		if !on[oth] {
			steps = append(steps, b.stage(names[oth], names[act]), b.install(names[oth], names[act]))
		}
		steps = append(steps,
			b.waitUpgraded(names[oth], names[act]),
			b.failover(names[oth], names[act]),
			b.waitActive(names[oth], names[act]),
			b.stage(names[act], names[oth]),
			b.install(names[act], names[oth]))
		final = names[oth]
	case !on[oth]:
		// Phase 2: failed over already; the former ACTIVE unit is left.
		steps = append(steps,
			b.waitActive(names[act], names[oth]),
			b.stage(names[oth], names[act]),
			b.install(names[oth], names[act]))
	}
	restore := master != "" && master != final
	switch {
	case restore:
		steps = append(steps, b.waitUpgraded(master, final), b.restore(master, final), b.postcheck())
	case len(steps) > 0:
		steps = append(steps, b.postcheck())
	default:
		// Both on the target: only a post-check that does not hold yet.
		if b.postcheckCond(s) != nil {
			steps = append(steps, b.postcheck())
		}
	}
	return upgrade.Plan{Cluster: c.Name(), Target: target, Steps: steps, Converged: b.converged}, nil
}

// gate returns the Timing in force.
func (p Planner) gate() upgrade.Timing {
	if p.GateTiming == (upgrade.Timing{}) {
		return upgrade.DefaultGateTiming()
	}
	return p.GateTiming
}

func index(names [2]string, n string) int {
	if names[0] == n {
		return 0
	}
	return 1
}

// masterOf returns the unit that is HA master according to the snapshot:
// the one reporting "master", or the peer of the one reporting "slave"
// (the other may be rebooting). "" when unknown or contradictory.
func masterOf(names [2]string, st [2]upgrade.MemberState) string {
	r := [2]string{haRole(st[0]), haRole(st[1])}
	switch {
	case r[0] == "master" && r[1] != "master":
		return names[0]
	case r[1] == "master" && r[0] != "master":
		return names[1]
	case r[0] == "slave" && r[1] == "":
		return names[1]
	case r[1] == "slave" && r[0] == "":
		return names[0]
	}
	return ""
}

// firstProblem returns the member's first problem as a typed error, or
// kind when it has none.
func firstProblem(m upgrade.MemberState, kind error) error {
	if len(m.Problems) == 0 {
		return cond(kind, "role %s", m.Role)
	}
	return classify(m.Problems[0])
}

// builder makes the steps of one plan.
type builder struct {
	c      *Cluster
	target string
	tv     Version
	timing upgrade.Timing
	master string // "" without RestoreRoles
	// journal is Planner.Journal (nil when not set), read by installStart.
	journal upgrade.Journal
}

// stage copies the firmware to unit, which is INACTIVE while peer
// forwards: the long, non-disruptive part of its install.
func (b builder) stage(unit, peer string) upgrade.Step {
	c, target := b.c, b.target
	return &stageStep{
		id: stageStepID(unit, target),
		desc: fmt.Sprintf("stage %s on INACTIVE %s: SCP %s, check its size with ls (nothing restarts; %s forwards)",
			target, unit, filepath.Base(c.cfg.FirmwarePath), peer),
		run: func(ctx context.Context) error {
			m := c.Member(unit)
			if m == nil {
				return &UnitError{Unit: unit, Op: "stage", Err: ErrUnknownUnit}
			}
			return m.Stage(ctx, target)
		},
		verify: func(ctx context.Context) (bool, error) { return b.verifyStage(ctx, unit) },
	}
}

// verifyStage is the Verify of an interrupted stage step: done when the
// unit already runs the target or lists the package with the local file's
// size; otherwise (a listing without sizes, a unit that cannot be read)
// the step is simply run again.
func (b builder) verifyStage(ctx context.Context, unit string) (bool, error) {
	m := b.c.Member(unit)
	if m == nil {
		return false, &UnitError{Unit: unit, Op: "verify", Err: ErrUnknownUnit}
	}
	if v, err := m.readVersion(ctx); err == nil && v.Compare(b.tv) == 0 {
		return true, nil
	}
	ok, err := m.stagedVerified(ctx)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return err == nil && ok, nil
}

// install restarts unit onto the staged package while peer forwards.
func (b builder) install(unit, peer string) upgrade.Step {
	c, target := b.c, b.target
	return &upgrade.Func{
		StepID: installStepID(unit, target),
		Desc: fmt.Sprintf("install %s on INACTIVE %s: check the staged %s, read ha on %s (ACTIVE, forwarding) and %s (INACTIVE), then %q (reboots; %s keeps forwarding)",
			target, unit, filepath.Base(c.cfg.FirmwarePath), peer, unit, c.cfg.applyCommand(), peer),
		Members: []string{unit},
		Do: func(ctx context.Context) error {
			m := c.Member(unit)
			if m == nil {
				return &UnitError{Unit: unit, Op: "install", Err: ErrUnknownUnit}
			}
			return m.Apply(ctx, target)
		},
		// An interrupted install is verified (see "Resuming an install").
		Check: func(ctx context.Context) (bool, error) { return b.verifyInstall(ctx, unit) },
	}
}

// waitUpgraded waits until unit runs the target as a healthy INACTIVE unit
// while peer stays ACTIVE.
func (b builder) waitUpgraded(unit, peer string) upgrade.Step {
	return &upgrade.Wait{
		StepID:  waitStepID(unit, b.target),
		Desc:    fmt.Sprintf("wait until %s is back on %s, INACTIVE, peer ALIVE, in sync; %s still ACTIVE without a failover", unit, b.target, peer),
		Cluster: b.c,
		G: upgrade.Gate{
			Name:   unit + " upgraded and in sync",
			Timing: b.timing,
			Check: func(s upgrade.Snapshot) error {
				b.armInstall(s, unit)
				return b.upgradedCond(s, unit, peer)
			},
		},
	}
}

// upgradedCond is the condition of waitUpgraded and the failover's Safe
// precheck.
func (b builder) upgradedCond(s upgrade.Snapshot, unit, peer string) error {
	return errors.Join(
		checkUnit(s, unit, upgrade.RoleStandby, &b.tv, ErrUnplannedFailover, "is %s before the planned failover"),
		checkUnit(s, peer, upgrade.RoleActive, nil, ErrUnplannedFailover, "is %s: the roles changed outside the plan"),
		pairConds(s),
	)
}

// failover swaps the roles: `ha -deactivate` on from, so to takes over.
func (b builder) failover(to, from string) upgrade.Step {
	return b.swap(failoverStepID(to), fmt.Sprintf("fail over to upgraded %s: ha -deactivate on ACTIVE %s", to, from), to, from)
}

// restore fails back to the master (the optional role restore).
func (b builder) restore(master, slave string) upgrade.Step {
	return b.swap(restoreStepID(master), fmt.Sprintf("restore roles: fail back to master %s: ha -deactivate on ACTIVE %s", master, slave), master, slave)
}

func (b builder) swap(id, desc, to, from string) upgrade.Step {
	c := b.c
	return &swapStep{
		id:   id,
		desc: desc,
		run:  func(ctx context.Context) error { return c.Failover(ctx, to) },
		safe: func(s upgrade.Snapshot) error { return b.upgradedCond(s, to, from) },
		verify: func(ctx context.Context) (bool, error) {
			s, err := c.Observe(ctx)
			if err != nil {
				return false, err
			}
			t, _ := s.Member(to)
			f, _ := s.Member(from)
			return t.Forwarding() && f.Role == upgrade.RoleStandby, nil
		},
	}
}

// waitActive waits until to is the healthy ACTIVE unit on the target and
// from is INACTIVE, both seeing the peer ALIVE.
func (b builder) waitActive(to, from string) upgrade.Step {
	return &upgrade.Wait{
		StepID:  activeStepID(to),
		Desc:    fmt.Sprintf("wait until ha on both units shows %s ACTIVE and %s INACTIVE, peer ALIVE on both", to, from),
		Cluster: b.c,
		G: upgrade.Gate{
			Name:   "roles swapped to " + to,
			Timing: b.timing,
			Check: func(s upgrade.Snapshot) error {
				return errors.Join(
					checkUnit(s, to, upgrade.RoleActive, &b.tv, ErrUnexpectedRole, "is %s after the failover"),
					checkUnit(s, from, upgrade.RoleStandby, nil, ErrUnexpectedRole, "is %s after the failover"),
					pairConds(s),
				)
			},
		},
	}
}

// postcheck is the final gate (the guide's post-checks).
func (b builder) postcheck() upgrade.Step {
	desc := fmt.Sprintf("post-check: both units on %s, one ACTIVE, peer ALIVE on both, in sync", b.target)
	if b.master != "" {
		desc = fmt.Sprintf("post-check: both units on %s, master %s ACTIVE, peer ALIVE on both, in sync", b.target, b.master)
	}
	return &upgrade.Wait{
		StepID:  postcheckStepID(b.target),
		Desc:    desc,
		Cluster: b.c,
		G: upgrade.Gate{
			Name:   "post-check",
			Timing: b.timing,
			Check: func(s upgrade.Snapshot) error {
				// Also the resync gate of the last unit installed: every
				// unit had an install of the target before it.
				b.armInstall(s, b.c.cfg.Units[0].Name)
				b.armInstall(s, b.c.cfg.Units[1].Name)
				return b.postcheckCond(s)
			},
		},
	}
}

// postcheckCond: both units healthy on the target, exactly one ACTIVE (the
// master when restoring roles), no pair problem.
func (b builder) postcheckCond(s upgrade.Snapshot) error {
	names := [2]string{b.c.cfg.Units[0].Name, b.c.cfg.Units[1].Name}
	act := -1
	for i, n := range names {
		if m, ok := s.Member(n); ok && m.Role == upgrade.RoleActive {
			act = i
		}
	}
	if b.master != "" {
		act = index(names, b.master)
	}
	if act < 0 {
		return errors.Join(
			checkUnit(s, names[0], upgrade.RoleActive, &b.tv, ErrUnexpectedRole, "is %s"),
			checkUnit(s, names[1], upgrade.RoleActive, &b.tv, ErrUnexpectedRole, "is %s"),
			pairConds(s),
		)
	}
	return errors.Join(
		checkUnit(s, names[act], upgrade.RoleActive, &b.tv, ErrUnexpectedRole, "is %s"),
		checkUnit(s, names[1-act], upgrade.RoleStandby, &b.tv, ErrUnexpectedRole, "is %s"),
		pairConds(s),
	)
}

// converged is the plan's end state (upgrade.Plan.Converged): the
// post-check's condition, its error prefixed with every unit's version and
// state so that it reads on its own.
func (b builder) converged(s upgrade.Snapshot) error {
	err := b.postcheckCond(s)
	if err == nil {
		return nil
	}
	var units []string
	for _, u := range b.c.cfg.Units {
		m, ok := s.Member(u.Name)
		switch {
		case !ok:
			units = append(units, u.Name+" not observed")
		case m.Version == "":
			units = append(units, fmt.Sprintf("%s runs an unknown version (%s)", u.Name, roleWord(m.Role)))
		default:
			units = append(units, fmt.Sprintf("%s runs %s (%s)", u.Name, m.Version, roleWord(m.Role)))
		}
	}
	want := "both units on " + b.target + ", one ACTIVE"
	if b.master != "" {
		want = "both units on " + b.target + ", master " + b.master + " ACTIVE"
	}
	return fmt.Errorf("clavister: pair %s is not in its end state (%s, peer ALIVE and in sync on both): %s: %w",
		b.c.Name(), want, strings.Join(units, ", "), err)
}

// roleWord names a role in Clavister's words.
func roleWord(r upgrade.Role) string {
	switch r {
	case upgrade.RoleActive:
		return "ACTIVE"
	case upgrade.RoleStandby:
		return "INACTIVE"
	case upgrade.RoleDown:
		return "unreachable"
	default:
		return string(r)
	}
}

// checkUnit checks one unit of a snapshot: present and readable, in role
// want (otherwise an error of kind roleKind, ErrUnexpectedRole or
// ErrUnplannedFailover, with roleMsg's %s the role found), on
// version tv when tv is not nil (ErrUnexpectedVersion), and healthy (its
// problems, classified). It returns a *UnitError with Op "gate" joining
// every failure, or nil.
func checkUnit(s upgrade.Snapshot, unit string, want upgrade.Role, tv *Version, roleKind error, roleMsg string) error {
	fail := func(errs ...error) error { return &UnitError{Unit: unit, Op: "gate", Err: errors.Join(errs...)} }
	m, ok := s.Member(unit)
	switch {
	case !ok:
		return fail(cond(ErrUnreadable, "missing from the snapshot"))
	case m.Role == upgrade.RoleDown:
		return fail(firstProblem(m, ErrUnreachable))
	case m.Role == upgrade.RoleUnknown:
		return fail(firstProblem(m, ErrUnreadable))
	}
	var errs []error
	if tv != nil {
		v, err := ParseVersion(m.Version)
		switch {
		case err != nil:
			errs = append(errs, cond(ErrUnreadable, "version %q: %v", m.Version, err))
		case v.Compare(*tv) != 0:
			errs = append(errs, cond(ErrUnexpectedVersion, "runs %s, want %s", m.Version, tv))
		}
	}
	if m.Role != want {
		errs = append(errs, cond(roleKind, roleMsg+", want %s (%s)", roleWord(m.Role), roleWord(want), m.Raw))
	}
	if !m.Healthy {
		for _, p := range m.Problems {
			errs = append(errs, classify(p))
		}
		if len(m.Problems) == 0 {
			errs = append(errs, cond(ErrUnreadable, "not healthy"))
		}
	}
	if len(errs) > 0 {
		return fail(errs...)
	}
	return nil
}

// pairConds returns the snapshot's pair problems as typed errors, except
// "peer not ALIVE", which checkUnit reports per unit.
func pairConds(s upgrade.Snapshot) error {
	var errs []error
	for _, p := range s.Problems {
		if e := classify(p); !errors.Is(e, ErrPeerNotAlive) {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// stageStep is the stage:<unit>@<target> step: it disrupts nothing, is
// idempotent (running it again copies the package again) and verifiable
// (an interrupted one is done when the unit lists the package with the
// local file's size, and runs again otherwise).
type stageStep struct {
	id, desc string
	run      func(context.Context) error
	verify   func(context.Context) (bool, error)
}

var (
	_ upgrade.Verifier     = (*stageStep)(nil)
	_ upgrade.Idempotenter = (*stageStep)(nil)
)

func (s *stageStep) ID() string                               { return s.id }
func (s *stageStep) Description() string                      { return s.desc }
func (s *stageStep) Disrupts() []string                       { return nil }
func (s *stageStep) Run(ctx context.Context) error            { return s.run(ctx) }
func (s *stageStep) Verify(ctx context.Context) (bool, error) { return s.verify(ctx) }
func (s *stageStep) Idempotent() bool                         { return true }

// swapStep is a failover:to:<unit> or restore:to:<unit> step: `ha
// -deactivate` on the ACTIVE unit, which moves the active role to the
// other one. It disrupts no member (the traffic moves, it is not dropped)
// and declares the failover (Failover, upgrade.FailoverDeclarer), so the
// executor's check after the step expects the formerly active unit to stop
// forwarding. The guard checks its precondition (CheckSafe: the unit taking
// over is upgraded, INACTIVE, sees its peer ALIVE and is in sync) right
// before it runs; an interrupted one is done when the roles have swapped.
type swapStep struct {
	id, desc string
	run      func(context.Context) error
	safe     func(upgrade.Snapshot) error
	verify   func(context.Context) (bool, error)
}

var (
	_ upgrade.Verifier         = (*swapStep)(nil)
	_ upgrade.SafetyChecker    = (*swapStep)(nil)
	_ upgrade.FailoverDeclarer = (*swapStep)(nil)
)

func (s *swapStep) ID() string                               { return s.id }
func (s *swapStep) Description() string                      { return s.desc }
func (s *swapStep) Disrupts() []string                       { return nil }
func (s *swapStep) Run(ctx context.Context) error            { return s.run(ctx) }
func (s *swapStep) Verify(ctx context.Context) (bool, error) { return s.verify(ctx) }
func (s *swapStep) CheckSafe(snap upgrade.Snapshot) error    { return s.safe(snap) }

// Failover declares that the step moves the active role
// (upgrade.FailoverDeclarer).
func (s *swapStep) Failover() bool { return true }
