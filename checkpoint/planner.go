package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// DefaultGateTiming is the Timing of the planner's gates when
// Planner.GateTiming is zero: poll every 15 s, healthy for 30 s, give up
// after 90 minutes. A CPUSE major upgrade installs for many minutes before
// it reboots the member, and the reboot of a gateway takes minutes more;
// the real durations are not documented (UNVERIFIED): size the deadline on
// a lab gateway.
func DefaultGateTiming() upgrade.Timing {
	return upgrade.Timing{Interval: 15 * time.Second, MinHealthy: 30 * time.Second, Deadline: 90 * time.Minute}
}

// minMVC is the first release with the Multi-Version Cluster mechanism
// (sk107042; R80.40 Installation and Upgrade Guide, "Multi-Version Cluster
// Upgrade").
const minMVC = "R80.40"

// Planner encodes the Multi-Version Cluster (MVC) upgrade of a Check Point
// cluster as an upgrade.Planner: the gateway-mode procedure for a ClusterXL
// High Availability cluster (R81.20 Installation and Upgrade Guide,
// "Multi-Version Cluster Upgrade"; sk107042), or, for a Cluster with
// Config.VSX, the VSX procedure (R81.20 Installation and Upgrade Guide,
// "MVC Upgrade Procedure - VSX Mode", see the VSX plan below). The
// gateway-mode procedure body is not public; the order combines the
// official prerequisites, the official VSX order, Check Point's own
// Central Deployment Tool and the Management API.
//
// For a fresh cluster gw-a (ACTIVE) and gw-b (STANDBY) and target R82 the
// steps are:
//
//  1. precheck@R82 — every problem at once: exactly one ACTIVE, the others
//     STANDBY, every member agreeing on the picture, Active PNOTEs None,
//     every monitored interface UP, the same CoreXL instance count where
//     readable, disk space for the package, the minimum Jumbo Hotfix take
//     (Config.TakeMinimums), the cluster object's version on management,
//     management login over verified TLS; nothing changes anywhere;
//  2. cluster-version@R82 — set-simple-cluster {version: R82} and publish;
//  3. stage:gw-b@R82 — SCP, `installer import local` (asynchronous,
//     polled), `installer verify`: NOT disruptive;
//  4. upgrade:gw-b@R82 — `installer upgrade <package> not-interactive`; it
//     disrupts gw-b, so the executor's guard checks right before it that
//     another member forwards, and the member re-checks on the devices
//     (gw-b STANDBY, gw-a ACTIVE and forwarding) right before the command;
//  5. wait:gw-b@R82 — gw-b back on R82 and READY (an upgraded member stays
//     READY until MVC is on and a policy is installed; gw-a sees it LOST
//     and stays ACTIVE, possibly ACTIVE(!));
//  6. mvc-on:gw-b@R82 — `cphaconf mvc on` (prints nothing), read back with
//     `cphaprob mvc`;
//  7. policy:mvc:gw-b@R82 — install-policy Access on the cluster with
//     install-on-all-cluster-members-or-fail false: "partially succeeded"
//     is expected (gw-a, still on the old release, fails), gw-b's own
//     result must be success;
//  8. wait:joined:gw-b@R82 — gw-b joins as STANDBY, gw-a ACTIVE again
//     without attention flag;
//  9. failover:from:gw-a@R82 — `clusterXL_admin down` on gw-a (it declares
//     the failover); 10. wait:failover:from:gw-a@R82 — gw-b ACTIVE;
//  11. stage:gw-a@R82, upgrade:gw-a@R82, wait:gw-a@R82 — the same for gw-a
//     (its reboot also ends the non-persistent admin down);
//  12. policy:final@R82 — Access and Threat Prevention on the cluster with
//     install-on-all-cluster-members-or-fail true: must fully succeed;
//  13. mvc-off:gw-a@R82, mvc-off:gw-b@R82 — `cphaconf mvc off`, read back;
//  14. with RestoreActive: restore:to:<member>@R82 and its wait (the
//     optional restore of the original ACTIVE);
//  15. admin-up@R82 — `clusterXL_admin up` on every member still
//     administratively down (none, usually);
//  16. postcheck@R82 — the end state.
//
// With more than two members every STANDBY member goes through steps 3–8,
// one after another, before the failover.
//
// The VSX plan (Config.VSX) follows the VSX procedure: precheck, then
// vsx-object@T (vsx-run-operation upgrade of the VSX cluster object, the
// API equivalent of `vsx_util upgrade`; the task's messages, with any log
// file name, become the step's note), then per STANDBY member the stage,
// upgrade and wait steps, with Config.JumboPath on an R81.20 target the
// CoreXL Dynamic Balancing workaround (dynsplit: back up
// $FWDIR/conf/dynamic_split.conf, set OFF_BY_DEFAULT_ON_VSX=1, read it
// back; PMTR-114499) and the Jumbo (stage-jumbo, jumbo, wait-jumbo), then
// vsx-check (`vsx stat -v`: every virtual device loaded, SIC trust, a
// policy on every Virtual System; every Virtual System shows the same
// member states as VS0), mvc-on, the Access policy on the VSX cluster
// object, wait:joined; the failover; the last member the same way; Access
// and Threat Prevention on the VSX cluster object; MVC off on every
// member; Access and Threat Prevention on each Virtual System object
// (policy:vs:<name>@T, Config.VirtualSystems); the post-check.
//
// Every plan, also one with no step left, carries its end state
// (upgrade.Plan.Converged): every member on the target, exactly one ACTIVE
// (RestoreActive when set) without attention flag, the others STANDBY,
// Active PNOTEs None, MVC off on every member (as read by the Observe
// that took the snapshot), no cluster-wide problem, every virtual device
// ready on VSX. A journal replayed against a cluster that did not change
// therefore fails with upgrade.ErrNotConverged.
//
// Plan is deterministic and does no device or network I/O: step IDs
// depend only on member names, object names and the target, and
// re-planning from a fresh snapshot part-way yields only the remaining
// phase with the same IDs: before the failover, the member ACTIVE on the
// old release is upgraded last; after it, the only member not on the
// target is; with every member on the target, only the final steps remain
// (on VSX with a Jumbo, also the Jumbo steps of a member whose take, as
// the snapshot's observation read it, is still below Config.JumboTake), or
// nothing when the end state holds. The one local read is Planner.Tasks on
// VSX once every member is on the target: the per-Virtual-System
// installations come after MVC is disabled, so no device shows whether
// they were done. Steps already done are skipped by the journal; an
// interrupted one is verified (the upgrade by the member's release, MVC by
// its read-back, a policy installation by its recorded task) so that no
// disruptive command and no successful policy installation is repeated.
//
// # Unverified
//
// No public source shows these; check them on a lab cluster before
// production use: the gateway-mode procedure's own text (the order above is
// reconstructed); the member states right after `cphaconf mvc on` and the
// ACTIVE member's Active PNOTEs while it sees an upgraded member LOST
// (Config.MixedVersionPNOTEs); the output of `cphaprob mvc`; the console
// texts of `installer import|verify|upgrade` and of `clusterXL_admin`; how
// long CPUSE keeps a member up after `installer upgrade`
// (Config.ApplyGrace); `set snapshot revert` as the rollback; the minimum
// Jumbo takes and the multi-stage paths (project requirements, see
// versionpath.DefaultTakeMinimums and versionpath.DefaultMultiStages);
// whether the Jumbo after an R81.20 VSX upgrade must be installed with
// `installer upgrade` (the guide says "as an upgrade").
type Planner struct {
	// Cluster is the cluster the steps act on; required.
	Cluster *Cluster
	// GateTiming is the Timing of every gate and device poll of the plan;
	// zero means DefaultGateTiming().
	GateTiming upgrade.Timing
	// RestoreActive, when set, is the member that must be ACTIVE at the
	// end (needed with "Primary Up", or by preference): the plan fails
	// back to it after the upgrade.
	RestoreActive string
	// Tasks records the management tasks the policy and object steps
	// start, so that a resumed run looks an interrupted installation up
	// instead of installing again. Give it the same durable store as the
	// Executor's journal (a FileTaskLog next to the journal file). nil
	// keeps no record: an interrupted policy step is then verified on the
	// devices where they show it (an upgraded member that joined as
	// STANDBY after the MVC installation) and installed again otherwise
	// (installing the same policy twice is harmless, but it is a repeat).
	Tasks TaskLog
}

var _ upgrade.Planner = Planner{}

// PlanError says why no plan could be made. It lists every problem at
// once, each a *RuleError naming its member (or object) and the rule, or a
// plain error; errors.Is finds the condition sentinels (ErrUnknownState,
// ErrSplitBrain, ErrAttention, ErrMVCUnsupported, ErrMultiStage…). It
// matches upgrade.ErrInvalid: nothing was sent anywhere.
type PlanError struct {
	// Cluster is the cluster name; Target the requested release.
	Cluster, Target string
	// Problems are the reasons, in member order.
	Problems []error
}

// Error lists the problems on one line.
func (e *PlanError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return fmt.Sprintf("checkpoint: cannot plan the upgrade of cluster %s to %q: %s", e.Cluster, e.Target, strings.Join(msgs, "; "))
}

// Is matches upgrade.ErrInvalid.
func (e *PlanError) Is(target error) bool { return target == upgrade.ErrInvalid }

// Unwrap returns the problems.
func (e *PlanError) Unwrap() []error { return e.Problems }

// Plan implements upgrade.Planner (see Planner for the steps). It refuses
// with a *PlanError, listing every problem: no Cluster or no management
// server configured; a target that is not a Check Point release, or below
// R80.40 (RuleMVCRelease, ErrMVCUnsupported: use the Connectivity
// Upgrade, `cphacu`, for R80.10–R80.30 targets); an invalid GateTiming; a
// snapshot that does not describe the cluster's members; a member whose
// state is not recognised (RuleKnownState); more than one member ACTIVE
// (RuleOneActive, ErrSplitBrain); a member ahead of the target
// (RuleNotAhead); a member release that reaches the target only through an
// intermediate release (RuleMultiStage: versionpath.MultiStagePath with
// Config.MultiStages); members on more than one release besides the
// target; no member ACTIVE; a picture this plan does not produce (the
// ACTIVE member on the target while two or more members are not). For a
// fresh cluster (every member reachable, all on one release) it also
// refuses an ACTIVE member with an attention flag or PNOTEs
// (RuleNoAttention), a member not STANDBY (RuleStandby) and members that
// disagree (RuleAgree). Mixed releases part-way are expected.
func (p Planner) Plan(s upgrade.Snapshot, target string) (upgrade.Plan, error) {
	if p.Cluster == nil {
		return upgrade.Plan{}, &PlanError{Cluster: s.Cluster, Target: target, Problems: []error{errors.New("checkpoint: planner has no Cluster")}}
	}
	c := p.Cluster
	fail := &PlanError{Cluster: c.Name(), Target: target}
	bad := func(err error) { fail.Problems = append(fail.Problems, err) }
	rule := func(member, rule string, err error) { bad(&RuleError{Member: member, Rule: rule, Err: err}) }
	g := versionpath.CheckPoint{}
	tv, terr := g.Parse(target)
	if terr != nil {
		bad(fmt.Errorf("checkpoint: target: %w", terr))
	} else if min, _ := g.Parse(minMVC); tv.Compare(min) < 0 {
		rule("", RuleMVCRelease, cond(ErrMVCUnsupported, "target %s is below %s: the Multi-Version Cluster mechanism does not exist there; upgrade with the Connectivity Upgrade (CU: `cphacu start`, R80.10–R80.30 Installation and Upgrade Guides) or in a maintenance window instead", target, minMVC))
	}
	if c.mgmt == nil {
		bad(errors.New("checkpoint: no management server configured (Config.Mgmt): the MVC procedure sets the cluster object's version and installs policy from management"))
	}
	timing := p.gate()
	if err := timing.Validate(); err != nil {
		bad(fmt.Errorf("checkpoint: planner gate: %w", err))
	}
	if p.RestoreActive != "" && c.Member(p.RestoreActive) == nil {
		bad(&MemberError{Member: p.RestoreActive, Op: "plan", Err: cond(ErrUnknownMember, "RestoreActive names no member of cluster %s", c.Name())})
	}
	if err := upgrade.CheckSnapshot(c, s); err != nil {
		bad(err)
	}
	var (
		onT     = map[string]bool{}
		actives []string
		sources = map[string]versionpath.Version{}
	)
	fresh := true
	for _, m := range c.members {
		st, ok := s.Member(m.gw.Name)
		if !ok {
			fresh = false
			continue
		}
		switch st.Role {
		case upgrade.RoleUnknown:
			rule(st.ID, RuleKnownState, firstProblem(st, ErrUnknownState))
			fresh = false
			continue
		case upgrade.RoleActive:
			actives = append(actives, st.ID)
		}
		if st.Version == "" {
			fresh = false
			continue
		}
		v, err := g.Parse(st.Version)
		if err != nil {
			rule(st.ID, RuleKnownState, cond(ErrUnreadable, "release %q: %v", st.Version, err))
			continue
		}
		if terr != nil {
			continue
		}
		switch cmp := v.Compare(tv); {
		case cmp > 0:
			rule(st.ID, RuleNotAhead, cond(ErrAheadOfTarget, "%s runs %s, above the target %s: a downgrade is not an MVC upgrade (see ClusterMember.Rollback)", st.ID, st.Version, target))
		case cmp == 0:
			onT[st.ID] = true
		default:
			sources[v.String()] = v
			if hops, err := versionpath.MultiStagePath(c.cfg.MultiStages, v, tv); err != nil {
				rule(st.ID, RuleMultiStage, fmt.Errorf("%w: %w", ErrMultiStage, err))
			} else if len(hops) > 1 {
				viol := versionpath.CheckMultiStageHop(c.cfg.MultiStages, v, tv)
				rule(st.ID, RuleMultiStage, fmt.Errorf("%w: %s runs %s, which reaches %s only via %s: upgrade to %s first (%w)",
					ErrMultiStage, st.ID, st.Version, target, hopList(hops[:len(hops)-1]), hops[0], viol))
			}
		}
	}
	if len(sources) > 1 {
		var rel []string
		for r := range sources {
			rel = append(rel, r)
		}
		slices.Sort(rel)
		bad(cond(ErrUnexpectedVersion, "members run %s besides the target: not the picture of one upgrade", strings.Join(rel, " and ")))
	}
	if len(onT) > 0 || len(sources) != 1 {
		fresh = false
	}
	if len(actives) > 1 {
		for _, a := range actives {
			rule(a, RuleOneActive, cond(ErrSplitBrain, "%s report ACTIVE", strings.Join(actives, " and ")))
		}
	}
	if len(actives) == 0 && len(fail.Problems) == 0 {
		rule("", RuleOneActive, cond(ErrNoActive, "no member reports ACTIVE: nothing forwards, a zero-downtime upgrade cannot start"))
	}
	if fresh && len(fail.Problems) == 0 {
		for _, err := range freshProblems(s) {
			bad(err)
		}
	}
	var final string
	var O []string
	for _, m := range c.members {
		if !onT[m.gw.Name] {
			O = append(O, m.gw.Name)
		}
	}
	if len(fail.Problems) == 0 {
		act := actives[0]
		switch {
		case !onT[act]:
			final = act // before the failover: the ACTIVE member goes last
		case len(O) == 1:
			final = O[0] // failed over: the last member is left
		case len(O) > 1:
			bad(cond(ErrUnexpectedRole, "%s is ACTIVE on %s while %s are not on it: not a picture this plan produces", act, target, strings.Join(O, ", ")))
		}
	}
	if len(fail.Problems) > 0 {
		return upgrade.Plan{}, fail
	}
	b := &builder{c: c, p: p, target: target, tv: tv, timing: timing, restore: p.RestoreActive}
	plan := upgrade.Plan{Cluster: c.Name(), Target: target, Converged: b.converged}
	switch {
	case final != "" && !onT[actives[0]]:
		plan.Steps = b.beforeFailover(onT, final)
	case final != "":
		plan.Steps = b.afterFailover(final)
	default:
		plan.Steps = b.allOnTarget(s)
	}
	return plan, nil
}

// freshProblems are the rules a cluster must meet before its upgrade
// starts, read from the snapshot alone.
func freshProblems(s upgrade.Snapshot) []error {
	var errs []error
	active := 0
	for _, m := range s.Members {
		switch {
		case m.Role == upgrade.RoleActive && !m.Healthy && hasProblem(m, ErrVSNotReady):
			active++
			errs = append(errs, &RuleError{Member: m.ID, Rule: RuleVirtualDevices, Err: firstProblem(m, ErrVSNotReady)})
		case m.Role == upgrade.RoleActive && !m.Healthy:
			active++
			errs = append(errs, &RuleError{Member: m.ID, Rule: RuleNoAttention, Err: firstProblem(m, ErrAttention)})
		case m.Role == upgrade.RoleActive:
			active++
		case m.Role == upgrade.RoleStandby && m.Healthy:
		case m.Role == upgrade.RoleStandby && hasProblem(m, ErrVSNotReady):
			errs = append(errs, &RuleError{Member: m.ID, Rule: RuleVirtualDevices, Err: firstProblem(m, ErrVSNotReady)})
		case m.Role == upgrade.RoleStandby:
			errs = append(errs, &RuleError{Member: m.ID, Rule: RulePNOTEs, Err: firstProblem(m, ErrPNOTEs)})
		default:
			errs = append(errs, &RuleError{Member: m.ID, Rule: RuleStandby, Err: firstProblem(m, ErrUnexpectedRole)})
		}
	}
	for _, p := range s.Problems {
		e := classify(p)
		r := RuleAgree
		if errors.Is(e, ErrSplitBrain) || errors.Is(e, ErrNoActive) {
			r = RuleOneActive
		}
		errs = append(errs, &RuleError{Rule: r, Err: e})
	}
	return errs
}

// hasProblem reports whether one of m's problems is of kind.
func hasProblem(m upgrade.MemberState, kind error) bool {
	return slices.ContainsFunc(m.Problems, func(p string) bool { return errors.Is(classify(p), kind) })
}

// firstProblem returns the member's first problem as a typed error, or
// kind with its state.
func firstProblem(m upgrade.MemberState, kind error) error {
	if len(m.Problems) == 0 {
		return cond(kind, "%s is %s (%s)", m.ID, m.Raw, m.Role)
	}
	errs := make([]error, len(m.Problems))
	for i, p := range m.Problems {
		errs[i] = classify(p)
	}
	return errors.Join(errs...)
}

// hopList renders releases as "R81.20" or "R81.10, then R81.20".
func hopList(vs []versionpath.Version) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return strings.Join(s, ", then ")
}

// gate returns the Timing in force.
func (p Planner) gate() upgrade.Timing {
	if p.GateTiming == (upgrade.Timing{}) {
		return DefaultGateTiming()
	}
	return p.GateTiming
}

// TaskRecord is what a TaskLog keeps for one plan step.
type TaskRecord struct {
	// TaskID is the management task the step started.
	TaskID string `json:"task_id"`
	// Succeeded is true once the step judged the finished task a success
	// (for a policy installation: the rule of the step, e.g. the upgraded
	// member's own result during the MVC phase).
	Succeeded bool `json:"succeeded,omitempty"`
}

// TaskLog records which management task a plan step started and whether
// it succeeded, so that a resumed run can look a policy installation (or
// object change) up instead of starting it again. Put is called right
// after the management server accepted the request and again once the
// step judged the task a success. A step whose task is recorded waits for
// that task instead of sending a new request while it is in progress, and
// is done when it succeeded. The VSX plan also reads it when every member
// is on the target: the per-Virtual-System installations come after MVC
// is disabled, so only this record tells that they are done.
// Implementations must be safe for concurrent use and durable when Put
// returns (FileTaskLog), or in memory for tests (MemoryTaskLog).
type TaskLog interface {
	// Put records rec for step (replacing an earlier record).
	Put(ctx context.Context, step string, rec TaskRecord) error
	// Get returns the record of step.
	Get(ctx context.Context, step string) (rec TaskRecord, ok bool, err error)
}

// MemoryTaskLog is an in-memory TaskLog. The zero value is ready to use.
type MemoryTaskLog struct {
	mu    sync.Mutex
	tasks map[string]TaskRecord
}

// Put implements TaskLog.
func (l *MemoryTaskLog) Put(_ context.Context, step string, rec TaskRecord) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tasks == nil {
		l.tasks = map[string]TaskRecord{}
	}
	l.tasks[step] = rec
	return nil
}

// Get implements TaskLog.
func (l *MemoryTaskLog) Get(_ context.Context, step string) (TaskRecord, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec, ok := l.tasks[step]
	return rec, ok, nil
}

// FileTaskLog is a TaskLog in a JSON file (step ID → record), rewritten
// atomically on every Put (temporary file, fsync, rename, fsync of the
// directory), mode 0600. It holds task IDs only, never a credential. Use
// one per run, next to the journal file; the zero value with Path set is
// ready to use.
type FileTaskLog struct {
	// Path is the file; its directory must exist.
	Path string

	mu sync.Mutex
}

// Put implements TaskLog.
func (l *FileTaskLog) Put(_ context.Context, step string, rec TaskRecord) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, err := l.load()
	if err != nil {
		return err
	}
	m[step] = rec
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint: task log %s: %w", l.Path, err)
	}
	return writeAtomic(l.Path, append(data, '\n'))
}

// Get implements TaskLog.
func (l *FileTaskLog) Get(_ context.Context, step string) (TaskRecord, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, err := l.load()
	if err != nil {
		return TaskRecord{}, false, err
	}
	rec, ok := m[step]
	return rec, ok, nil
}

func (l *FileTaskLog) load() (map[string]TaskRecord, error) {
	m := map[string]TaskRecord{}
	data, err := os.ReadFile(l.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return m, nil
	case err != nil:
		return nil, fmt.Errorf("checkpoint: task log: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("checkpoint: task log %s is corrupt: %w", l.Path, err)
	}
	return m, nil
}

// writeAtomic replaces path with data durably.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: task log: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return fmt.Errorf("checkpoint: task log: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("checkpoint: task log: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("checkpoint: task log: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("checkpoint: task log: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("checkpoint: task log: %w", err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
