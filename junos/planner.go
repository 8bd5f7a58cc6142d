package junos

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// Planner encodes, as an upgrade.Planner, the minimal-downtime rolling
// upgrade of a vSRX chassis cluster (vSRX has no ISSU: Juniper KB17947
// lists ISSU, ICU, dual reboot and minimal downtime; the failover-based
// variant below is the one IBM Cloud's older "Upgrading the vSRX" pages
// describe). For a cluster whose node0 is primary of every group (RG0 and
// RG1) and node1 secondary, and target 22.4R3-S2, the steps are:
//
//  1. export-config@T — `show configuration | display set` into
//     Config.ArtifactsDir (Cluster.ExportPath); the note of the step in the
//     report gives the path. Every later step that changes anything
//     compares the configuration with it first, every gate once its state
//     condition holds, and the end state too: a configuration changed by
//     anyone else (other than the version statement and the preempt
//     statements this plan changes itself) stops the run with a
//     *ConfigChangedError (ErrConfigChanged);
//  2. preempt-off@T — preempt of RG1 and up deleted (`configure private`,
//     `delete chassis cluster redundancy-group N preempt`, `commit` on the
//     RG0 primary), read back from the configuration and the status
//     (Juniper KB17947: preempt would pull a group to a node that has just
//     rebooted); the export keeps the original statements;
//  3. stage:node1@T — the package staged on the node that is secondary of
//     every group (Node.Stage: SCP, size check, `request system software
//     add /var/tmp/<pkg> no-copy` with validation); nothing reboots;
//  4. reboot:node1@T — disrupts node1 only. The executor's guard
//     (upgrade.CheckAvailability and Cluster.CheckDisruption) refuses it
//     unless node0 forwards and node1 is primary of no group; then, on the
//     devices, with both sessions held and nothing sent in between, node0's
//     own status must show it primary of every group and forwarding and
//     node1's own status must show node1 secondary of every group
//     (ErrPeerNotForwarding / ErrUnexpectedRole otherwise, nothing sent),
//     and only then `request system reboot` is answered "yes";
//  5. wait:node1@T — gate: node1 back on the target, secondary of every
//     group, healthy (cold sync over), node0 primary of every group; a
//     node1 back on its old version fails it at once (ErrInstallNotTaken);
//  6. failover:RG1:to:node1@T, failover:RG0:to:node1@T — `request chassis
//     cluster failover redundancy-group N node 1`, data groups first, RG0
//     last, each declaring the failover (upgrade.FailoverDeclarer) and
//     refused by the guard unless node1 is healthy on the target and
//     secondary of the group with a non-zero priority and node0 primary;
//  7. wait:swapped:node1@T — gate: node1 primary of every group, node0
//     secondary of every group and out of RG0 secondary-hold (the RG0
//     hold-down interval, 300 s by default), both healthy;
//  8. stage:node0@T, reboot:node0@T, wait:node0@T — the other node, the
//     same way;
//  9. failover-reset@T — `request chassis cluster failover reset
//     redundancy-group N` for every group, read back (Manual no);
//  10. preempt-restore@T — only with Config.RestorePreempt: the preempt
//     statements the export recorded (declares a failover: a restored
//     preempt may move a group);
//  11. postcheck@T — gate: the end state.
//
// With RG2 configured, failover:RG2 follows failover:RG1. Every plan
// carries its end state (upgrade.Plan.Converged), which the executor checks
// after the last step, also when the journal says every step is done: both
// nodes healthy on the target, one primary and one secondary per group, no
// manual failover, no monitor failure, no split brain and, when the plan
// exported the configuration, the configuration unchanged (read from the
// device) with the preempt statements as chosen (deleted, or restored with
// Config.RestorePreempt).
//
// Plan is pure and deterministic: step IDs depend only on node names, group
// numbers and the target; re-planning from a fresh snapshot part-way yields
// only what is left, with the same IDs (an upgrade.Journal resumes): once
// the first node runs the target, the plan starts at its gate (or at the
// failovers still to do); once both do, at the last gate, the reset and the
// post-check; a converged cluster plans nothing (with
// Config.RestorePreempt, the restore and the post-check, no-ops when done).
// A node that is down in the snapshot (rebooting) is planned as not yet
// upgraded.
//
// # Resuming
//
// Every step is safe to find interrupted (the process died during it):
// the export, preempt, stage and reset steps verify their effect or run
// again (idempotent); a failover is done when the node is primary of the
// group, and runs again under the guard otherwise (it does nothing when
// nothing is left to move); a reboot is done when the node runs the target,
// cannot be reached, or its marker file (written under Config.ArtifactsDir
// right before the reboot command) says the command was sent. A reboot is
// therefore never sent twice; if the process died between the marker and
// the command, the gate after it times out (ErrGateTimeout) with the node
// still up on its old version: check it and run again with a new journal.
// A stage that was done before the crash is recognised by its marker (the
// device's "There is already an install pending." is then this SDK's own
// install), so `request system software add` runs once per node.
type Planner struct {
	// Cluster is the chassis cluster the steps act on; required.
	Cluster *Cluster
	// GateTiming is the Timing of every health gate; zero means
	// upgrade.DefaultGateTiming() (poll every 10 s, healthy 30 s, 20 min
	// deadline). The deadline must cover a vSRX reboot (Juniper KB17947
	// allows 25–30 min per SRX/vSRX reboot) and the RG0 hold-down interval
	// (300 s by default).
	GateTiming upgrade.Timing
	// Releases, when not nil, is the Junos release table of the upgrade-path
	// rule (versionpath.DefaultJunosReleases(), or IBM Cloud's certified
	// list): a hop from a node's version to the target that the rule
	// refuses (more than three releases, EEOL rules) refuses the plan. nil
	// skips the check (IBM Cloud certifies its own paths, e.g. 21.4 to
	// 22.4).
	Releases []versionpath.JunosRelease
}

var _ upgrade.Planner = Planner{}

// PlanError says why no plan could be made. It lists every problem at
// once, each a *NodeError naming its node (and group) or a condition error
// (errors.Is finds ErrAheadOfTarget, ErrSplitBrain, ErrRolesSplit,
// ErrPackage, ErrUnreadable...). It matches upgrade.ErrInvalid.
type PlanError struct {
	// Cluster is the cluster name; Target the requested version.
	Cluster, Target string
	// Problems are the reasons.
	Problems []error
}

// Error lists the problems on one line.
func (e *PlanError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return fmt.Sprintf("junos: cannot plan the upgrade of cluster %s to %q: %s", e.Cluster, e.Target, strings.Join(msgs, "; "))
}

// Is matches upgrade.ErrInvalid.
func (e *PlanError) Is(target error) bool { return target == upgrade.ErrInvalid }

// Unwrap returns the problems.
func (e *PlanError) Unwrap() []error { return e.Problems }

// Plan implements upgrade.Planner (see Planner for the steps). It refuses
// with a *PlanError when: there is no Cluster; the target is not a Junos
// version; the gate timing is invalid; the package name does not name the
// target (ErrPackage); the snapshot lacks a node or has another; a node's
// version does not parse or is ahead of the target (ErrAheadOfTarget); a
// node's state is unreadable (upgrade.RoleUnknown); the snapshot reports a
// split brain; both nodes are unreachable; no node can be upgraded first
// (ErrRolesSplit: none is secondary of every group); or, with Releases,
// the upgrade-path rule refuses the hop.
func (p Planner) Plan(s upgrade.Snapshot, target string) (upgrade.Plan, error) {
	if p.Cluster == nil {
		return upgrade.Plan{}, &PlanError{Cluster: s.Cluster, Target: target, Problems: []error{errors.New("junos: planner has no Cluster")}}
	}
	c := p.Cluster
	fail := &PlanError{Cluster: c.Name(), Target: target}
	bad := func(err error) { fail.Problems = append(fail.Problems, err) }
	tv, terr := ParseVersion(target)
	if terr != nil {
		bad(fmt.Errorf("junos: target: %w", terr))
	} else if !strings.Contains(c.cfg.packageName(), target) {
		bad(&NodeError{Node: "cluster", RG: -1, Op: "plan", Err: cond(ErrPackage, "the package %s does not name the target %s", c.cfg.packageName(), target)})
	}
	timing := p.GateTiming
	if timing == (upgrade.Timing{}) {
		timing = upgrade.DefaultGateTiming()
	}
	if err := timing.Validate(); err != nil {
		bad(fmt.Errorf("junos: planner gate: %w", err))
	}
	for _, m := range s.Members {
		if c.Node(m.ID) == nil {
			bad(&NodeError{Node: m.ID, RG: -1, Op: "plan", Err: cond(ErrUnknownNode, "the snapshot has a member that is not in cluster %s", c.Name())})
		}
	}
	var (
		st   [2]upgrade.MemberState
		on   [2]bool
		rows [2]map[int]rgView
		up   [2]bool
	)
	for i, name := range NodeNames {
		m, ok := s.Member(name)
		if !ok {
			bad(&NodeError{Node: name, RG: -1, Op: "plan", Err: cond(ErrUnreadable, "missing from the snapshot")})
			continue
		}
		st[i] = m
		rows[i], up[i] = parseRaw(m.Raw)
		if m.Role == upgrade.RoleUnknown {
			err := cond(ErrUnreadable, "state unknown")
			if len(m.Problems) > 0 {
				err = classify(m.Problems[0])
			}
			bad(&NodeError{Node: name, RG: -1, Op: "plan", Err: err})
		}
		if m.Version == "" || terr != nil {
			continue
		}
		v, err := ParseVersion(m.Version)
		switch {
		case err != nil:
			bad(&NodeError{Node: name, RG: -1, Op: "plan", Err: cond(ErrUnreadable, "version: %v", err)})
		case SameRelease(v, tv):
			on[i] = true
		case v.Compare(tv) > 0:
			bad(&NodeError{Node: name, RG: -1, Op: "plan", Err: cond(ErrAheadOfTarget, "%s runs %s, the target is %s: a downgrade is not a rolling upgrade (Node.Rollback)", name, m.Version, target)})
		case p.Releases != nil:
			if err := versionpath.CheckJunosHop(p.Releases, v, tv); err != nil {
				bad(&NodeError{Node: name, RG: -1, Op: "plan", Err: fmt.Errorf("junos: upgrade path from %s to %s: %w", m.Version, target, err)})
			}
		}
	}
	for _, pr := range s.Problems {
		if e := classify(pr); errors.Is(e, ErrSplitBrain) {
			bad(e)
		}
	}
	rgs := rgsOf(s)
	if len(fail.Problems) == 0 && len(rgs) == 0 {
		bad(cond(ErrUnreachable, "neither node's redundancy groups can be read"))
	}
	if len(fail.Problems) > 0 {
		return upgrade.Plan{}, fail
	}
	b := builder{c: c, target: target, tv: tv, timing: timing, rgs: rgs}
	plan := upgrade.Plan{Cluster: c.Name(), Target: target}
	withExport := false
	primaryAll := func(i int) bool {
		if !up[i] {
			return false
		}
		for _, g := range rgs {
			if rows[i][g].state != StatePrimary {
				return false
			}
		}
		return true
	}
	secondaryAll := func(i int) bool {
		if !up[i] {
			return false
		}
		for _, g := range rgs {
			if r := rows[i][g].state; r != StateSecondary && !(g == 0 && r == StateSecondaryHold) {
				return false
			}
		}
		return true
	}
	switch {
	case on[0] && on[1]:
		// Both upgraded: the last gate, the reset and the post-check, or
		// nothing when the end state holds.
		a := -1
		for i := range 2 {
			if st[i].Role == upgrade.RoleActive {
				a = i
			}
		}
		if a < 0 {
			return upgrade.Plan{}, &PlanError{Cluster: c.Name(), Target: target, Problems: []error{cond(ErrNoPrimary, "neither node is primary of RG1")}}
		}
		A, B := NodeNames[a], NodeNames[1-a]
		final := b.finalCond(s) == nil
		switch {
		case final && c.cfg.RestorePreempt:
			plan.Steps = append(plan.Steps, b.restore(), b.postcheck())
			withExport = true
		case final:
		default:
			plan.Steps = append(plan.Steps, b.waitUpgraded(B, A), b.reset())
			if c.cfg.RestorePreempt {
				plan.Steps = append(plan.Steps, b.restore())
			}
			plan.Steps = append(plan.Steps, b.postcheck())
			withExport = true
		}
	case on[0] || on[1]:
		// The first node is upgraded: its gate or the failovers still to
		// do, then the other node.
		a := 0
		if on[1] {
			a = 1
		}
		A, B := NodeNames[a], NodeNames[1-a]
		if !up[a] || !anyPrimary(rows[a]) {
			plan.Steps = append(plan.Steps, b.waitUpgraded(A, B))
		}
		for _, g := range b.dataFirst() {
			if !up[a] || rows[a][g].state != StatePrimary {
				plan.Steps = append(plan.Steps, b.failover(g, A, B))
			}
		}
		plan.Steps = append(plan.Steps, b.waitSwapped(A, B))
		plan.Steps = append(plan.Steps, b.second(A, B)...)
		withExport = true
	default:
		// Neither node runs the target: the first node is the one that is
		// secondary of every group while the other is primary of every
		// group, or the one that is away (rebooting part-way) while the
		// other is primary of every group.
		a := -1
		switch {
		case secondaryAll(0) && primaryAll(1):
			a = 0
		case secondaryAll(1) && primaryAll(0):
			a = 1
		case !up[0] && primaryAll(1):
			a = 0
		case !up[1] && primaryAll(0):
			a = 1
		}
		if a < 0 {
			// Say first what is wrong with each node (disabled, lost,
			// monitor failures...), then why no plan fits.
			for i := range 2 {
				fail.Problems = append(fail.Problems, memberErrors(st[i])...)
			}
			bad(cond(ErrRolesSplit,
				"node0 is %s, node1 is %s: the upgrade starts from one node primary of every redundancy group and the other secondary of every group (request chassis cluster failover redundancy-group N node X, then reset)",
				rawOr(st[0]), rawOr(st[1])))
			return upgrade.Plan{}, fail
		}
		A, B := NodeNames[a], NodeNames[1-a]
		plan.Steps = append(plan.Steps, b.export(), b.preemptOff(), b.stage(A, B), b.reboot(A, B), b.waitUpgraded(A, B))
		for _, g := range b.dataFirst() {
			plan.Steps = append(plan.Steps, b.failover(g, A, B))
		}
		plan.Steps = append(plan.Steps, b.waitSwapped(A, B))
		plan.Steps = append(plan.Steps, b.second(A, B)...)
		withExport = true
	}
	plan.Converged = b.converged(withExport)
	return plan, nil
}

// second returns the steps after the failovers: the other node's upgrade,
// the reset, the optional preempt restore and the post-check.
func (b builder) second(a, bnode string) []upgrade.Step {
	steps := []upgrade.Step{b.stage(bnode, a), b.reboot(bnode, a), b.waitUpgraded(bnode, a), b.reset()}
	if b.c.cfg.RestorePreempt {
		steps = append(steps, b.restore())
	}
	return append(steps, b.postcheck())
}

// anyPrimary reports whether a node's rows are primary of any group.
func anyPrimary(rows map[int]rgView) bool {
	for _, r := range rows {
		if r.state == StatePrimary {
			return true
		}
	}
	return false
}

// problemRGRe finds the redundancy group a problem string is about.
var problemRGRe = regexp.MustCompile(`\bRG(\d{1,5})\b`)

// memberErrors returns one *NodeError per problem of a member, naming the
// redundancy group the problem is about when it names one.
func memberErrors(m upgrade.MemberState) []error {
	var out []error
	for _, p := range m.Problems {
		rg := -1
		if mm := problemRGRe.FindStringSubmatch(p); mm != nil {
			rg, _ = strconv.Atoi(mm[1])
		}
		out = append(out, &NodeError{Node: m.ID, RG: rg, Op: "plan", Err: classify(p)})
	}
	return out
}

// rawOr returns a member's Raw text or its role.
func rawOr(m upgrade.MemberState) string {
	if m.Raw != "" {
		return m.Raw
	}
	return string(m.Role)
}

// converged returns the plan's end state (upgrade.Plan.Converged): the
// post-check's condition and, when the plan exported the configuration,
// the configuration compared with the export and the preempt statements as
// chosen, both read from the device (bounded by Config.CommandTimeout).
// The error starts with every node's version and state, so that it reads
// on its own.
func (b builder) converged(withExport bool) func(s upgrade.Snapshot) error {
	return func(s upgrade.Snapshot) error {
		errs := []error{b.finalCond(s)}
		if withExport {
			ctx, cancel := context.WithTimeout(context.Background(), 2*b.c.cfg.CommandTimeout)
			defer cancel()
			errs = append(errs, b.c.checkConfig(ctx, b.target))
			if err := b.preemptAsChosen(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		err := errors.Join(errs...)
		if err == nil {
			return nil
		}
		var nodes []string
		for _, name := range NodeNames {
			m, ok := s.Member(name)
			switch {
			case !ok:
				nodes = append(nodes, name+" not observed")
			case m.Version == "":
				nodes = append(nodes, fmt.Sprintf("%s runs an unknown version (%s)", name, m.Role))
			default:
				nodes = append(nodes, fmt.Sprintf("%s runs %s (%s: %s)", name, m.Version, m.Role, m.Raw))
			}
		}
		return fmt.Errorf("junos: cluster %s is not in its end state (both nodes on %s, one primary and one secondary per group, no manual failover, configuration unchanged): %s: %w",
			b.c.Name(), b.target, strings.Join(nodes, "; "), err)
	}
}

// preemptAsChosen checks the preempt statements at the end: none active
// (the default), or those of the export (Config.RestorePreempt).
func (b builder) preemptAsChosen(ctx context.Context) error {
	base, err := b.c.baseline(b.target)
	if err != nil {
		return err
	}
	n, cur, err := b.c.currentConfig(ctx)
	if err != nil {
		return err
	}
	var want []int
	if b.c.cfg.RestorePreempt {
		want = activePreempt(base)
	}
	if have := activePreempt(cur); !equalInts(have, want) {
		return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "preempt", Err: cond(ErrPreempt, "preempt is active for %v at the end, want %v", have, want)}
	}
	return nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
