package upgradetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// Invariants checks, after a run against a fake Cluster, the properties
// that must hold whatever faults were injected (for chaos tests):
//
//   - no probe tick was lost unless the report declares downtime or a
//     fault (AddFault, Inject) took the last forwarding member away;
//   - no member was given the same install twice (a finished disruptive
//     step is never repeated, even across crash and resume), unless the
//     first one failed without effect;
//   - a successful report means every member runs target and exactly one
//     forwards;
//   - a failed report names its error.
//
// It returns every violation at once (errors.Join), nil when all hold.
// CheckRun and Checker check more, with the run's error.
func Invariants(c *Cluster, rep *upgrade.Report, target string) error {
	var errs []error
	if rep == nil {
		return errors.New("invariants: no report")
	}
	rec := c.snapshotRecord()
	downtime := func(int) bool { return rep.Downtime }
	errs = append(errs, rec.lostTicks(downtime)...)
	errs = append(errs, rec.repeats()...)
	if rep.OK {
		fwd := 0
		for _, m := range rec.now {
			if m.version != target {
				errs = append(errs, fmt.Errorf("invariant: report OK but member %s runs %s, not %s", m.id, m.version, target))
			}
			if m.role == upgrade.RoleActive && m.healthy {
				fwd++
			}
		}
		if fwd != 1 {
			errs = append(errs, fmt.Errorf("invariant: report OK but %d members forward", fwd))
		}
	} else if rep.Error == "" {
		errs = append(errs, errors.New("invariant: failed report carries no error"))
	}
	return errors.Join(errs...)
}

// Outcome is what one run against a fake returned: its report (nil when
// it failed before Executor.Run, e.g. at planning) and its error.
type Outcome struct {
	// Report is the run's report; nil when the run never reached
	// Executor.Run.
	Report *upgrade.Report
	// Err is the run's error.
	Err error
}

// CheckRun is Checker{Target: target}.Check for a single run: the whole
// call record of c belongs to it (or, when BeginRun was used, c must have
// had exactly one run).
func CheckRun(c *Cluster, rep *upgrade.Report, err error, target string) error {
	return Checker{Target: target}.Check(c, Outcome{Report: rep, Err: err})
}

// Checker checks the runs made against a fake Cluster — after crashes and
// resumes, with faults injected — against hitless's promises. Check
// returns every violation at once (errors.Join), nil when all hold:
//
//   - availability: every probe tick lost falls in an outage that a fault
//     began (the fault record says so), or in a run whose report declares
//     downtime, or began with a disruptive call the guard had to allow
//     because a member it saw forwarding a moment before had just lost
//     it (a fault between the guard's reading and the call);
//   - the guard's truth: no install, failed install or rollback reached a
//     member while no other member forwarded, unless the member's latest
//     readings showed another one forwarding (the race above) or the run
//     declares downtime;
//   - no repeat: no install or rollback of the same member@version was
//     sent twice, unless the earlier one failed without effect;
//   - none skipped: a step "install:<m>@<v>", "rollback:<m>@<v>" or
//     "backup:<m>" reported done was sent in that run; one a successful
//     run skips as done in the journal was sent in an earlier run (one
//     verified done after an interruption needs no call: its effect is
//     there);
//   - converged: a successful run leaves every member on Target and
//     healthy, and exactly one member forwarding (at least one with
//     ActiveActive), at the run's end (EndRun) — a fault that hit a member
//     after the run last read it is the only excuse;
//   - typed failures: a run that failed returned an error every part of
//     which matches a sentinel of package upgrade or of this package
//     (CheckTyped), its report is not OK and names the error; a run that
//     succeeded returned no error;
//   - a dry run (Report.DryRun) sent nothing that changes state;
//   - stopped at once: when a step's own action (a call that fired a
//     Fault.OnCall fault, or Inject from a step) took down the member that
//     was active — and seen active by the executor — without declaring it,
//     the run failed, and sent nothing after that moment; with
//     ErrUndeclaredDisruption, unless a step running at that moment failed
//     (or could not journal its outcome) first, or the run was cancelled
//     (ErrStopped) before any later step started.
//
// Outcomes pair with the runs marked by BeginRun, in order; without
// BeginRun and with one outcome the whole record is one run (with none, the
// cluster was never run: only the availability checks apply).
type Checker struct {
	// Target is the version a successful run converges to.
	Target string
	// Grammar compares versions; nil compares the text exactly.
	Grammar versionpath.Grammar
	// ActiveActive accepts several forwarding members at the end.
	ActiveActive bool
	// FailoverToTarget also checks that every failover sent moved the
	// active role to a member already on Target, as the Rolling planner
	// and the vendor planners do (a failover to a member still on the old
	// version, or to one that came back on a wrong one, is refused by
	// their safety precondition).
	FailoverToTarget bool
}

// Check checks the runs of c against their outcomes, in run order.
func (k Checker) Check(c *Cluster, outs ...Outcome) error {
	rec := c.snapshotRecord()
	var errs []error
	if n := len(rec.runs); n != len(outs) && (n != 0 || len(outs) != 1) {
		return fmt.Errorf("invariant checker: %d run(s) marked on cluster %s (BeginRun), %d outcome(s) given", len(rec.runs), c.Name(), len(outs))
	}
	downtime := func(run int) bool {
		return run >= 0 && run < len(outs) && outs[run].Report != nil && outs[run].Report.Downtime
	}
	for i, o := range outs {
		errs = append(errs, checkOutcome(c.Name(), i+1, o)...)
		if o.Report != nil && o.Report.DryRun {
			for _, k := range rec.calls {
				if rec.runOf(k) == i && isHitless(k.Op) {
					errs = append(errs, fmt.Errorf("invariant: dry run %d sent %s at %s", i+1, describe(k), k.At.Format(time.TimeOnly+".000000")))
				}
			}
		}
	}
	errs = append(errs, rec.lostTicks(downtime)...)
	errs = append(errs, rec.guardTruth(downtime)...)
	errs = append(errs, rec.repeats()...)
	errs = append(errs, rec.noneSkipped(outs)...)
	errs = append(errs, k.converged(rec, outs)...)
	errs = append(errs, rec.stoppedAtOnce(outs)...)
	if k.FailoverToTarget {
		for _, c := range rec.calls {
			if c.Op == "failover" && !k.same(c.Version) {
				errs = append(errs, fmt.Errorf("invariant: failover to %s at %s (run %d), which runs %q, not %s", c.Member, c.At.Format(time.TimeOnly+".000000"), c.Run, c.Version, k.Target))
			}
		}
	}
	if len(errs) > 0 {
		errs = append([]error{fmt.Errorf("cluster %s: %d invariant violation(s)", c.Name(), len(errs))}, errs...)
	}
	return errors.Join(errs...)
}

func checkOutcome(cluster string, run int, o Outcome) []error {
	var errs []error
	where := fmt.Sprintf("invariant: cluster %s run %d", cluster, run)
	switch {
	case o.Report == nil && o.Err == nil:
		errs = append(errs, fmt.Errorf("%s: neither a report nor an error", where))
	case o.Report != nil && o.Report.OK && o.Err != nil:
		errs = append(errs, fmt.Errorf("%s: report OK but the run returned %v", where, o.Err))
	case o.Report != nil && !o.Report.OK && o.Err == nil:
		errs = append(errs, fmt.Errorf("%s: report not OK but the run returned no error", where))
	case o.Report != nil && !o.Report.OK && o.Report.Error == "":
		errs = append(errs, fmt.Errorf("%s: failed report carries no error", where))
	}
	if o.Err != nil {
		if err := CheckTyped(o.Err); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	}
	return errs
}

// record is a consistent copy of a fake's records for the checks.
type record struct {
	name    string
	calls   []Call
	runs    []runMark
	outages []outage
	now     []memberTruth
	// The probe: ticks at start+k·every up to end.
	start, end time.Time
	every      time.Duration
	lost       int // Probe.LostTicks
}

func (c *Cluster) snapshotRecord() *record {
	c.mu.Lock()
	r := &record{name: c.ClusterName, calls: slices.Clone(c.calls), runs: slices.Clone(c.runs), outages: slices.Clone(c.outages), now: c.truthLocked()}
	c.mu.Unlock()
	p := c.Probe
	p.mu.Lock()
	r.start, r.end, r.every = p.start, p.end(), p.Every
	if len(p.changes) > 0 && !p.changes[0].forwarding {
		// The cluster did not forward when the probe started.
		o := outage{from: p.start, cause: causeInitial}
		if i := slices.IndexFunc(p.changes, func(ch change) bool { return ch.forwarding }); i >= 0 {
			o.to = p.changes[i].at
		}
		r.outages = append([]outage{o}, r.outages...)
	}
	p.mu.Unlock()
	if r.every <= 0 {
		r.every = 100 * time.Millisecond
	}
	r.lost = p.LostTicks()
	return r
}

// causeInitial marks the outage of a cluster that did not forward when its
// probe started.
const causeInitial = -2

// runOf returns the index (from 0) of the run call k belongs to, -1 for
// none.
func (r *record) runOf(k Call) int {
	if len(r.runs) == 0 && k.Run == 0 {
		return 0
	}
	return k.Run - 1
}

// ticks counts probe ticks in [from, to) (to zero: up to the probe's end,
// included), the way Probe.LostTicks counts them.
func (r *record) ticks(from, to time.Time) int {
	count := func(t time.Time, incl bool) int { // ticks in (start, t] or (start, t)
		if !t.After(r.start) {
			return 0
		}
		d := t.Sub(r.start)
		n := int(d / r.every)
		if !incl && time.Duration(n)*r.every == d {
			n--
		}
		return n
	}
	if to.IsZero() || to.After(r.end) {
		return count(r.end, true) - count(from, false)
	}
	return count(to, false) - count(from, false)
}

func isDisruptive(op string) bool {
	return op == "install" || op == "install-failed" || op == "rollback"
}

func isHitless(op string) bool {
	return isDisruptive(op) || op == "failover" || op == "backup"
}

// raced reports whether a disruptive call took the last forwarding member
// although the executor, just before, saw another member forward.
func raced(k Call) bool {
	return slices.ContainsFunc(k.SeenForwarding, func(id string) bool { return id != k.Member })
}

func describe(k Call) string {
	s := k.Op + " " + k.Member
	if k.Arg != "" && k.Op != "fault" && k.Op != "recover" {
		s += "@" + k.Arg
	}
	if k.Op == "fault" || k.Op == "recover" {
		s += " (" + k.Arg + ", " + k.Cause + ")"
	}
	return s
}

// lostTicks attributes every lost probe tick to the outage it fell in.
func (r *record) lostTicks(downtime func(run int) bool) []error {
	var errs []error
	sum := 0
	for _, o := range r.outages {
		n := r.ticks(o.from, o.to)
		sum += n
		if n == 0 {
			continue
		}
		until := "the end"
		if !o.to.IsZero() {
			until = o.to.Format(time.TimeOnly + ".000000")
		}
		if o.cause == causeInitial {
			errs = append(errs, fmt.Errorf("invariant: %d probe ticks lost from the start to %s: the cluster did not forward when it was created", n, until))
			continue
		}
		if o.cause < 0 || o.cause >= len(r.calls) {
			errs = append(errs, fmt.Errorf("invariant: %d probe ticks lost from %s to %s, cause unknown", n, o.from.Format(time.TimeOnly+".000000"), until))
			continue
		}
		k := r.calls[o.cause]
		if k.Op == "fault" || downtime(r.runOf(k)) || (isDisruptive(k.Op) && raced(k)) {
			continue
		}
		errs = append(errs, fmt.Errorf("invariant: %d probe ticks lost without declared downtime from %s to %s, begun by %s (run %d)", n, o.from.Format(time.TimeOnly+".000000"), until, describe(k), k.Run))
	}
	if sum != r.lost {
		errs = append(errs, fmt.Errorf("invariant checker: outage log counts %d lost ticks, the probe %d", sum, r.lost))
	}
	return errs
}

// guardTruth checks every disruptive call against the forwarding state at
// the time it was made.
func (r *record) guardTruth(downtime func(run int) bool) []error {
	var errs []error
	for _, k := range r.calls {
		if !isDisruptive(k.Op) || downtime(r.runOf(k)) {
			continue
		}
		others := slices.DeleteFunc(slices.Clone(k.Forwarding), func(id string) bool { return id == k.Member })
		if len(others) == 0 && !raced(k) {
			errs = append(errs, fmt.Errorf("invariant: %s at %s (run %d) while no other member forwarded (forwarding: %v, last seen forwarding: %v)",
				describe(k), k.At.Format(time.TimeOnly+".000000"), k.Run, k.Forwarding, k.SeenForwarding))
		}
	}
	return errs
}

// repeats finds installs and rollbacks of the same member@version sent
// twice with effect.
func (r *record) repeats() []error {
	var errs []error
	seen := map[string][]Call{}
	var keys []string
	for _, k := range r.calls {
		if (k.Op == "install" || k.Op == "rollback") && !k.Failed {
			key := k.Op + " " + k.Member + "@" + k.Arg
			if len(seen[key]) == 0 {
				keys = append(keys, key)
			}
			seen[key] = append(seen[key], k)
		}
	}
	for _, key := range keys {
		if ks := seen[key]; len(ks) > 1 {
			var at []string
			for _, k := range ks {
				at = append(at, fmt.Sprintf("%s (run %d)", k.At.Format(time.TimeOnly+".000000"), k.Run))
			}
			errs = append(errs, fmt.Errorf("invariant: %s issued %d times: %s", key, len(ks), strings.Join(at, ", ")))
		}
	}
	return errs
}

// stepCall maps a Rolling-shaped step ID to the call that performs it.
func stepCall(id string) (op, member, arg string, ok bool) {
	verb, rest, found := strings.Cut(id, ":")
	if !found {
		return "", "", "", false
	}
	switch verb {
	case "install", "rollback":
		i := strings.LastIndex(rest, "@")
		if i <= 0 {
			return "", "", "", false
		}
		return verb, rest[:i], rest[i+1:], true
	case "backup":
		return "backup", rest, "", rest != ""
	}
	return "", "", "", false
}

// noneSkipped ties the reports' steps to the calls.
func (r *record) noneSkipped(outs []Outcome) []error {
	var errs []error
	sent := func(op, member, arg string, ok func(run int) bool) bool {
		return slices.ContainsFunc(r.calls, func(k Call) bool {
			return k.Op == op && k.Member == member && k.Arg == arg && !k.Failed && ok(r.runOf(k))
		})
	}
	for i, o := range outs {
		if o.Report == nil || o.Report.DryRun {
			continue
		}
		for _, s := range o.Report.Steps {
			op, m, arg, ok := stepCall(s.Name)
			if !ok {
				continue
			}
			switch {
			case s.Status == upgrade.StatusDone && !sent(op, m, arg, func(run int) bool { return run == i }):
				errs = append(errs, fmt.Errorf("invariant: run %d reports step %s done but sent no %s to %s", i+1, s.Name, op, m))
			case s.Status == upgrade.StatusSkipped && s.Note == "done in journal" && o.Report.OK && !sent(op, m, arg, func(run int) bool { return run < i || len(r.runs) == 0 }):
				errs = append(errs, fmt.Errorf("invariant: successful run %d skips step %s (%s) but no earlier run sent it", i+1, s.Name, s.Note))
			}
		}
	}
	return errs
}

// same compares versions with the checker's grammar.
func (k Checker) same(have string) bool {
	if k.Grammar == nil {
		return have == k.Target
	}
	a, err1 := k.Grammar.Parse(have)
	b, err2 := k.Grammar.Parse(k.Target)
	return err1 == nil && err2 == nil && a.Compare(b) == 0
}

// converged checks the true end state of every successful run.
func (k Checker) converged(r *record, outs []Outcome) []error {
	var errs []error
	for i, o := range outs {
		if o.Report == nil || !o.Report.OK || o.Report.DryRun {
			continue
		}
		state, endCall := r.now, len(r.calls)
		if i < len(r.runs) && r.runs[i].ended {
			state, endCall = r.runs[i].state, r.runs[i].endCall
		}
		// A fault that hit a member after the run last read it: the run
		// could not see it.
		hitLate := func(m memberTruth) bool {
			for j := max(m.lastRead, 0); j < endCall; j++ {
				if c := r.calls[j]; c.Op == "fault" && c.Member == m.id {
					return true
				}
			}
			return false
		}
		late, fwd := false, 0
		var probs []string
		for _, m := range state {
			if hitLate(m) {
				late = true
				continue
			}
			if !k.same(m.version) {
				probs = append(probs, fmt.Sprintf("member %s runs %q, not %s", m.id, m.version, k.Target))
			}
			if !m.healthy {
				probs = append(probs, fmt.Sprintf("member %s is not healthy (role %s)", m.id, m.role))
			}
			if m.role == upgrade.RoleActive && m.healthy {
				fwd++
			}
		}
		switch {
		case late:
		case fwd == 0:
			probs = append(probs, "no member forwards")
		case fwd > 1 && !k.ActiveActive:
			probs = append(probs, fmt.Sprintf("%d members forward", fwd))
		}
		for _, p := range probs {
			errs = append(errs, fmt.Errorf("invariant: run %d reports OK but at its end %s", i+1, p))
		}
	}
	return errs
}

// stoppedAtOnce checks that an undeclared disruption made by a step's own
// action stopped its run at once.
func (r *record) stoppedAtOnce(outs []Outcome) []error {
	var errs []error
	for fi, f := range r.calls {
		if f.Op != "fault" || f.Arg != string(FaultDown) || f.Member == "" || f.Was != upgrade.RoleActive || f.WasSeen != upgrade.RoleActive {
			continue
		}
		var trig *Call
		switch f.Cause {
		case "inject":
		case "call":
			if f.Trigger < 1 || f.Trigger > len(r.calls) {
				continue
			}
			trig = &r.calls[f.Trigger-1]
			if !isDisruptive(trig.Op) || trig.Member == f.Member {
				continue
			}
		default:
			continue
		}
		run := r.runOf(f)
		if run < 0 || run >= len(outs) {
			continue
		}
		what := fmt.Sprintf("a step took down the active member %s at %s without declaring it", f.Member, f.At.Format(time.TimeOnly+".000000"))
		if trig != nil {
			what += " (fault fired by " + describe(*trig) + ")"
		}
		err := outs[run].Err
		if err == nil {
			errs = append(errs, fmt.Errorf("invariant: %s, yet run %d succeeded", what, run+1))
			continue
		}
		for _, h := range r.calls[fi+1:] {
			if r.runOf(h) == run && isHitless(h.Op) && h.At.After(f.At) {
				errs = append(errs, fmt.Errorf("invariant: %s, yet run %d went on: %s at %s", what, run+1, describe(h), h.At.Format(time.TimeOnly+".000000")))
				break
			}
		}
		if errors.Is(err, upgrade.ErrUndeclaredDisruption) {
			continue
		}
		// Other ways to stop at once: a step running at that moment (the
		// one that did it, or one of its batch) failed, or could not
		// journal its outcome, before the check after it; or the run was
		// cancelled during that check, before any later step started.
		notDone, startedAfter := false, false
		if rep := outs[run].Report; rep != nil {
			for _, s := range rep.Steps {
				switch {
				case s.Started == nil:
				case s.Started.After(f.At):
					startedAfter = true
				case s.Finished == nil || !s.Finished.Before(f.At):
					notDone = notDone || s.Status != upgrade.StatusDone
				}
			}
		}
		if !notDone && !(errors.Is(err, upgrade.ErrStopped) && !startedAfter) {
			errs = append(errs, fmt.Errorf("invariant: %s; run %d stopped with %v, want upgrade.ErrUndeclaredDisruption", what, run+1, err))
		}
	}
	return errs
}

// sentinels are the error categories a failure may be reported as.
var sentinels = []error{
	upgrade.ErrUnsafe, upgrade.ErrInvalid, upgrade.ErrInvalidTiming, upgrade.ErrPreCheck,
	upgrade.ErrGateTimeout, upgrade.ErrPermanent, upgrade.ErrNotConverged, upgrade.ErrStopped,
	upgrade.ErrJournal, upgrade.ErrJournalMismatch, upgrade.ErrJournalCorrupt, upgrade.ErrNotApproved,
	upgrade.ErrNoAction, upgrade.ErrUnverifiable, upgrade.ErrNeedsDecision, upgrade.ErrUndeclaredDisruption,
	upgrade.ErrJournalLocked, upgrade.ErrBadSnapshot, upgrade.ErrRolloutHalted,
	ErrUnreachable, ErrInstallFailed, ErrFailoverRefused, ErrBackupFailed, ErrNotEarlier, ErrKilled,
}

// CheckTyped reports whether every failure inside err is typed: err, or
// what it wraps, matches a sentinel of package upgrade (ErrUnsafe,
// ErrGateTimeout, ErrUndeclaredDisruption, ErrStopped…) or of this package
// (ErrInstallFailed, ErrUnreachable, ErrKilled…). A bare context error is
// not typed: a cancelled run says where it stopped (ErrStopped). An
// aggregate — an
// errors.Join, or a multierror such as Rollout's, with one entry per
// cluster — is typed only when each entry is. It returns nil when err is
// typed (or nil), otherwise an error quoting the untyped part.
func CheckTyped(err error) error {
	if err == nil {
		return nil
	}
	if bad := untyped(err); bad != nil {
		return fmt.Errorf("untyped error %q (%T) in %q", bad.Error(), bad, err.Error())
	}
	return nil
}

// untyped returns the first part of err that matches no sentinel, nil when
// every part matches one.
func untyped(err error) error {
	for _, s := range sentinels {
		if err == s {
			return nil
		}
	}
	if x, ok := err.(interface{ Is(error) bool }); ok {
		for _, s := range sentinels {
			if x.Is(s) {
				return nil
			}
		}
	}
	// Aggregates of independent failures: every entry must be typed.
	if m, ok := err.(interface{ WrappedErrors() []error }); ok {
		return allTyped(err, m.WrappedErrors())
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		if fmt.Sprintf("%T", err) == "*errors.joinError" {
			return allTyped(err, u.Unwrap())
		}
		// fmt.Errorf with several %w: one typed cause is enough.
		var first error
		for _, e := range u.Unwrap() {
			bad := untyped(e)
			if bad == nil {
				return nil
			}
			first = cmpOr(first, bad)
		}
		return cmpOr(first, err)
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			return untyped(inner)
		}
	}
	return err
}

func allTyped(err error, es []error) error {
	if len(es) == 0 {
		return err
	}
	for _, e := range es {
		if bad := untyped(e); bad != nil {
			return bad
		}
	}
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
