package upgrade_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// The chaos suite: randomized fleets of upgradetest fakes with faults
// injected, upgraded by upgrade.Rollout or by single Executor runs, killed
// at random journal points and resumed, inside testing/synctest bubbles
// (virtual time: fast, and deterministic for a given seed). After every
// run upgradetest.Checker must hold for every cluster, plus the rollout's
// own limits (see checkRound).
//
//	go test ./upgrade/ -run TestChaos -chaos.runs=10000
//	go test ./upgrade/ -run TestChaos -chaos.runs=1 -chaos.seed=N   # one seed, exactly
var (
	chaosRuns = flag.Int("chaos.runs", 500, "TestChaos: number of randomized runs")
	chaosSeed = flag.Uint64("chaos.seed", 1, "TestChaos: seed of the first run (run i uses seed+i); 0 picks a random seed and prints it")
)

func chaosRepro(seed uint64) string {
	return fmt.Sprintf("go test ./upgrade/ -run TestChaos -chaos.runs=1 -chaos.seed=%d", seed)
}

// TestChaos runs -chaos.runs randomized upgrades, one per seed from
// -chaos.seed on. A failing run prints its seed, the command that
// reproduces it, the fleet, its faults and every cluster's call record.
func TestChaos(t *testing.T) {
	base := *chaosSeed
	if base == 0 {
		base = rand.Uint64()>>1 | 1
		t.Logf("chaos: random seed %d", base)
	}
	start := time.Now()
	bad := 0
	for i := range *chaosRuns {
		seed := base + uint64(i)
		if seed == 0 {
			continue
		}
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newChaosWorld(t, seed)
				w.run(t)
				if err := w.check(); err != nil {
					t.Errorf("chaos seed %d violates invariants:\n%v\n\n%s\nreproduce: %s", seed, err, w.describe(), chaosRepro(seed))
				}
			})
		})
		if !ok {
			bad++
			t.Logf("chaos seed %d failed; reproduce: %s", seed, chaosRepro(seed))
			if bad >= 10 {
				t.Fatalf("stopping after %d failing seeds", bad)
			}
		}
	}
	t.Logf("chaos: %d runs from seed %d in %v", *chaosRuns, base, time.Since(start).Round(time.Millisecond))
}

// TestSeededChaosRunReplaysExactly runs a few seeds twice: the same seed
// must give the same call record on every cluster and the same outcomes,
// so that a failing seed reproduces.
func TestSeededChaosRunReplaysExactly(t *testing.T) {
	for seed := uint64(1000); seed < 1040; seed++ {
		var prints [2]string
		for i := range prints {
			synctest.Test(t, func(t *testing.T) {
				w := newChaosWorld(t, seed)
				w.run(t)
				prints[i] = w.fingerprint()
			})
		}
		if prints[0] != prints[1] {
			t.Errorf("seed %d does not replay exactly:\n--- first\n%s\n--- second\n%s", seed, prints[0], prints[1])
		}
	}
}

// A chaos world is one randomized run: a fleet, its faults, how it is run.
type chaosWorld struct {
	seed        uint64
	rng         *rand.Rand
	rollout     bool // run by upgrade.Rollout (else one Executor on one cluster)
	rollback    bool // Rolling with Rollback: from 2.0 back to 1.0
	from        string
	target      string
	clean       bool // no fault injected: the fleet must converge in the end
	fileJournal bool
	dir         string
	retry       upgrade.Retry
	ro          upgrade.Rollout
	kills       []float64 // executor mode: where each successive run dies (fraction of its appends)
	// killAfterWrite[i]: run i dies just after its journal write, not before.
	killAfterWrite []bool
	dryRunFirst    bool            // executor mode: a dry run before the first run
	settle         upgrade.Timing  // Executor.SettleTiming (zero: the default)
	killAfter      []time.Duration // rollout mode: when each successive round dies
	clusters       []*chaosCluster
	rounds         []*chaosRound
	faults         []string
	// Approvals: the rollout refuses cluster refuseCluster (-1: none) and,
	// with refuseRest, the rest after the canaries; an executor refuses
	// the refuseStep-th guarded step of a cluster (0: none).
	refuseCluster int
	refuseRest    bool
}

// chaosCluster is one fake cluster with its planner, journal and runs.
type chaosCluster struct {
	c        *upgradetest.Cluster
	group    string
	expected time.Duration
	planner  *chaosPlanner
	mem      *upgrade.MemoryJournal
	path     string // FileJournal path (fileJournal worlds)
	outs     []upgradetest.Outcome
	timed    []upgradetest.Fault // armed at the first run
	armed    bool
	// convergeWithin is the target's ConvergeWithin.
	convergeWithin time.Duration
	// refuseStep: the executor's Approve refuses this cluster's
	// refuseStep-th guarded step (0: approves all); asked counts them.
	refuseStep, asked int
}

// chaosRound is one Rollout.Run (one process, maybe killed).
type chaosRound struct {
	mu        sync.Mutex
	launch    map[int]time.Time
	end       map[int]time.Time
	planned   map[int]time.Time // when each cluster's planner ran
	rep       *upgrade.RolloutReport
	err       error
	killed    bool
	killedAt  time.Time
	refusedAt time.Time // when the rollout's Approve refused a cluster
}

// Timer remainders modulo 100 ms keep the fakes' timers off the
// executor's poll times (whole seconds plus a few µs of per-cluster drift),
// so no two goroutines wake at the same virtual instant and a seed replays
// exactly: reboots end at 30+2i ms, takeovers at +60 ms, timed faults at
// 50+j ms, fault recoveries at +40 ms, process kills at 80 ms, the
// maintenance window at 70 ms, convergence bounds at +85 ms, approval
// timeouts at +75 ms.
const (
	remReboot   = 30 * time.Millisecond
	remTakeover = 60 * time.Millisecond
	remFault    = 50 * time.Millisecond
	remRecover  = 40 * time.Millisecond
	remKill     = 80 * time.Millisecond
	remWindow   = 70 * time.Millisecond
	remConverge = 85 * time.Millisecond
	remApproval = 75 * time.Millisecond
)

// clusterDrift is a per-cluster nanosecond offset on reads and poll
// intervals, so that clusters of a rollout never finish at the same instant.
var clusterDrift = []time.Duration{31, 53, 71, 97, 113, 137, 157, 179}

func newChaosWorld(t *testing.T, seed uint64) *chaosWorld {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := &chaosWorld{seed: seed, rng: rng, from: "1.0", target: "2.0", refuseCluster: -1}
	w.rollout = rng.IntN(100) < 65
	if rng.IntN(100) < 15 {
		w.rollback, w.from, w.target = true, "2.0", "1.0"
	}
	w.clean = rng.IntN(100) < 25
	w.fileJournal = rng.IntN(100) < 5
	if w.fileJournal {
		w.dir = t.TempDir()
	}
	w.retry = upgrade.Retry{Attempts: 1 + rng.IntN(3), Initial: time.Duration(1+rng.IntN(5)) * time.Second}
	n := 1
	if w.rollout {
		n = 1 + rng.IntN(8)
	}
	pods := 1 + rng.IntN(3)
	for ci := range n {
		w.clusters = append(w.clusters, w.newCluster(ci, pods))
	}
	if w.rollout {
		w.ro = upgrade.Rollout{
			MaxParallelClusters: 1 + rng.IntN(4),
			PerGroup:            rng.IntN(3),
			Canaries:            rng.IntN(3),
			MaxFailures:         rng.IntN(4),
			KeepOrder:           rng.IntN(2) == 0,
		}
		if w.chance(12) {
			w.ro.MaxFailurePercent = 10 + rng.IntN(51)
		}
		if w.chance(10) {
			w.ro.WindowEnd = time.Now().Add(time.Duration(5+rng.IntN(56))*time.Minute + remWindow)
			w.fault("maintenance window ends at %s", w.ro.WindowEnd.Format(time.TimeOnly+".000"))
		}
		if w.chance(8) {
			w.refuseCluster = rng.IntN(n)
			w.fault("rollout approval refused for fw%d", w.refuseCluster)
			if rng.IntN(2) == 0 {
				w.ro.ApprovalTimeout = time.Duration(10+rng.IntN(50))*time.Second + remApproval
				w.fault("... by never answering (ApprovalTimeout %v)", w.ro.ApprovalTimeout)
			}
		}
		if w.chance(5) {
			w.refuseRest = true
			w.fault("approval of the rest after the canaries refused")
		}
		groups := map[string]bool{}
		for _, cc := range w.clusters {
			if cc.group != "" {
				groups[cc.group] = true
			}
		}
		for _, g := range slices.Sorted(maps.Keys(groups)) {
			if rng.IntN(100) < 15 {
				if w.ro.GroupLimits == nil {
					w.ro.GroupLimits = map[string]int{}
				}
				w.ro.GroupLimits[g] = 1 + rng.IntN(3)
			}
		}
		for _, cc := range w.clusters {
			if w.chance(6) {
				cc.convergeWithin = time.Duration(3+rng.IntN(28))*time.Minute + remConverge
				w.fault("%s: must converge within %v", cc.c.Name(), cc.convergeWithin)
			}
		}
		for range chaosKills(rng) {
			w.killAfter = append(w.killAfter, time.Duration(rng.IntN(24000))*100*time.Millisecond+remKill)
		}
	} else {
		for range chaosKills(rng) {
			w.kills = append(w.kills, rng.Float64())
			// After the journal write, before the executor hears of it:
			// a resume may then find an install "started" that was never
			// sent, and stop for a decision, so not in clean worlds.
			w.killAfterWrite = append(w.killAfterWrite, w.chance(30))
		}
		w.dryRunFirst = rng.IntN(100) < 10
	}
	if rng.IntN(100) < 20 {
		w.settle = upgrade.Timing{Interval: time.Duration(1+rng.IntN(3)) * time.Second, Deadline: time.Duration(5+rng.IntN(60)) * time.Second}
	}
	return w
}

// chaosKills draws how many times the process dies: 0 (half the runs)
// to 3.
func chaosKills(rng *rand.Rand) int {
	switch p := rng.IntN(100); {
	case p < 50:
		return 0
	case p < 75:
		return 1
	case p < 90:
		return 2
	default:
		return 3
	}
}

func (w *chaosWorld) chance(pct int) bool { return !w.clean && w.rng.IntN(100) < pct }

func (w *chaosWorld) fault(format string, args ...any) {
	w.faults = append(w.faults, fmt.Sprintf(format, args...))
}

// newCluster builds cluster ci: 2–4 members, one active, random durations
// and knobs, a planner (Rolling, or a hand-written plan; maybe with a
// misbehaving extra step), and its faults.
func (w *chaosWorld) newCluster(ci, pods int) *chaosCluster {
	rng := w.rng
	name := fmt.Sprintf("fw%d", ci)
	drift := clusterDrift[ci%len(clusterDrift)]
	nm := 2 + rng.IntN(3)
	active := rng.IntN(nm)
	var ms []*upgradetest.Member
	var longest time.Duration
	for mi := range nm {
		m := &upgradetest.Member{
			Name:            string(rune('a' + mi)),
			Version:         w.from,
			Role:            upgrade.RoleStandby,
			InstallDuration: time.Duration(rng.IntN(30)) * time.Second,
			RebootDuration:  time.Duration(10+rng.IntN(230))*time.Second + remReboot + time.Duration(2*mi)*time.Millisecond,
		}
		if mi == active {
			m.Role = upgrade.RoleActive
		}
		if mi != active && rng.IntN(100) < 12 {
			m.Version = w.target // a cluster left half-upgraded earlier
		}
		if rng.IntN(100) < 40 {
			m.StatusDelay = time.Duration(1+rng.IntN(10)) * 100 * time.Millisecond
		}
		if mi == 0 {
			m.StatusDelay += drift // every observation takes a cluster-specific time
		}
		longest = max(longest, m.InstallDuration+m.RebootDuration)
		ms = append(ms, m)
	}
	c := upgradetest.NewCluster(name, time.Second, ms...)
	// Sometimes the standby takes over faster than the executor reads the
	// cluster.
	c.FailoverDelay = time.Duration(rng.IntN(100))*100*time.Millisecond + remTakeover
	if rng.IntN(2) == 0 {
		c.FailoverDelay = time.Duration(rng.IntN(10))*100*time.Millisecond + remTakeover
	}
	cc := &chaosCluster{c: c, mem: &upgrade.MemoryJournal{}}
	if w.fileJournal {
		cc.path = filepath.Join(w.dir, name+".journal")
	}
	if g := rng.IntN(pods + 1); g < pods {
		cc.group = fmt.Sprintf("pod%d", g)
	}
	if rng.IntN(2) == 0 {
		cc.expected = time.Duration(nm) * longest
	}

	interval := time.Duration(2+rng.IntN(9))*time.Second + drift
	minHealthy := time.Duration(rng.IntN(31)) * time.Second
	observe := time.Duration(nm) * (time.Second + drift) // at most one StatusDelay per member
	deadline := longest + minHealthy + 2*interval + 2*observe + time.Duration(30+rng.IntN(300))*time.Second
	rolling := upgrade.Rolling{
		Cluster:    c,
		Grammar:    versionpath.Dotted{},
		GateTiming: upgrade.Timing{Interval: interval, MinHealthy: minHealthy, Deadline: deadline},
		BatchSize:  1 + rng.IntN(2),
		Backup:     rng.IntN(100) < 20,
		Rollback:   w.rollback,
	}
	cc.planner = &chaosPlanner{inner: rolling, c: c}
	if rng.IntN(100) < 25 {
		cc.planner.hand = w.handPlan(name, ms, active)
	}

	if w.chance(35) {
		for range 1 + rng.IntN(2) {
			w.addFault(cc, ms)
		}
	}
	if w.chance(4) {
		cc.refuseStep = 1 + rng.IntN(6)
		w.fault("%s: the operator refuses guarded step #%d", name, cc.refuseStep)
	}
	return cc
}

// chaosMenu weighs the faults addFault picks from.
var chaosMenu = []struct {
	fault  string
	weight int
}{
	{"install fails", 10}, {"reboot hangs", 8}, {"wrong version", 8}, {"status flaps", 8},
	{"backup fails", 3}, {"peer lost from the start", 3}, {"failover refused", 6}, {"tight deadline", 5},
	{"fault at a moment", 14}, {"fault at a status read", 8}, {"fault on a call", 12}, {"rogue step", 8},
}

// addFault gives cluster cc one fault from chaosMenu.
func (w *chaosWorld) addFault(cc *chaosCluster, ms []*upgradetest.Member) {
	rng, c, name := w.rng, cc.c, cc.c.Name()
	total := 0
	for _, f := range chaosMenu {
		total += f.weight
	}
	pick := rng.IntN(total)
	i := 0
	for ; pick >= chaosMenu[i].weight; i++ {
		pick -= chaosMenu[i].weight
	}
	m := ms[rng.IntN(len(ms))]
	who := name + "/" + m.Name
	victim := func() string {
		if rng.IntN(100) < 65 {
			return "" // the active member when it fires
		}
		return ms[rng.IntN(len(ms))].Name
	}
	kind := func() upgradetest.FaultKind {
		if rng.IntN(100) < 65 {
			return upgradetest.FaultDown
		}
		return upgradetest.FaultPeerLost
	}
	lasting := func() time.Duration {
		if rng.IntN(100) < 40 {
			return 0
		}
		return time.Duration(5+rng.IntN(300))*time.Second + remRecover
	}
	var f upgradetest.Fault
	switch chaosMenu[i].fault {
	case "install fails":
		m.InstallFails = true
		w.fault("%s: install fails", who)
	case "reboot hangs":
		m.NeverReturns = true
		w.fault("%s: reboot never returns", who)
	case "wrong version":
		wrong := []string{w.from, "1.5", "3.0"}
		if w.rollback {
			wrong = []string{w.from, "1.5", "0.5"}
		}
		m.WrongVersion = wrong[rng.IntN(len(wrong))]
		w.fault("%s: comes back on %s", who, m.WrongVersion)
	case "status flaps":
		m.Flap, m.FlapUnreachable = 1+rng.IntN(4), rng.IntN(2) == 0
		w.fault("%s: status flaps every %d reads (unreachable=%t)", who, m.Flap, m.FlapUnreachable)
	case "backup fails":
		cc.planner.inner.Backup = true
		m.BackupFails = true
		w.fault("%s: backup fails", who)
	case "peer lost from the start":
		if m.Role == upgrade.RoleActive {
			return
		}
		m.PeerLost = true
		w.fault("%s: peer lost from the start", who)
	case "failover refused":
		c.FailoverRefused = true
		w.fault("%s: failover refused", name)
	case "tight deadline":
		g := &cc.planner.inner.GateTiming
		g.Deadline = max(time.Duration(30+rng.IntN(270))*time.Second, g.MinHealthy+g.Interval+time.Second)
		w.fault("%s: tight gate deadline %v", name, g.Deadline)
	case "fault at a moment":
		// Armed when the cluster's first run starts.
		f = upgradetest.Fault{Kind: kind(), Member: victim(), For: lasting(),
			After: time.Duration(rng.IntN(1800))*500*time.Millisecond + remFault + time.Duration(len(cc.timed))*time.Millisecond}
		cc.timed = append(cc.timed, f)
		w.fault("%s: %s (from its first run)", name, f)
		return
	case "fault at a status read":
		f = upgradetest.Fault{Kind: kind(), Member: victim(), For: lasting(), AtStatus: 1 + rng.IntN(400)}
	case "fault on a call": // "when b is installed, the active member dies"
		ops := []string{"install", "install", "install-failed", "failover", ""}
		if w.rollback {
			ops[0], ops[1] = "rollback", "rollback"
		}
		f = upgradetest.Fault{Kind: kind(), Member: victim(), For: lasting(), OnCall: 1 + rng.IntN(2), CallOp: ops[rng.IntN(len(ops))]}
		if rng.IntN(2) == 0 {
			f.CallMember = m.Name
		}
	case "rogue step":
		p := cc.planner
		p.rogue, p.rogueAt, p.rogueFor = true, rng.IntN(12), lasting()
		w.fault("%s: a hand-written step (no Members) takes the active member down (for %v) before step %d", name, p.rogueFor, p.rogueAt)
		return
	}
	if f.Kind != "" {
		if err := c.AddFault(f); err != nil {
			panic(err)
		}
		w.fault("%s: %s", name, f)
	}
}

// firstRun arms the cluster's timed faults when its first run starts.
func (cc *chaosCluster) firstRun() {
	if cc.armed {
		return
	}
	cc.armed = true
	for _, f := range cc.timed {
		if err := cc.c.AddFault(f); err != nil {
			panic(err)
		}
	}
}

// chaosPlanner is Rolling, or a static hand-written plan (hand), plus,
// optionally, a misbehaving hand-written step: an upgrade.Func that
// declares no members and takes the active member down (an undeclared
// disruption). That step keeps its place (before the same step) when a
// restart re-plans.
type chaosPlanner struct {
	inner    upgrade.Rolling
	c        *upgradetest.Cluster
	rogue    bool
	rogueAt  int
	rogueFor time.Duration
	anchor   *string   // the step the rogue step precedes ("" = the end)
	planned  time.Time // when Plan was last called
	hand     []chaosHandStep
}

// chaosHandStep is one step of a hand-written plan: "install" (with the
// batch it runs in), "wait" or "failover" on a member.
type chaosHandStep struct {
	op, member, batch string
}

// handPlan writes a random hand-written plan for the members, as a user
// would, right or wrong: half of them in a sensible order (standbys first,
// some in batches, fail over, then the former active), half in a random
// order (installing the active member first, failing over to a member not
// yet upgraded, batching the active with a standby). The guard must
// refuse whatever would leave no member forwarding.
func (w *chaosWorld) handPlan(name string, ms []*upgradetest.Member, active int) []chaosHandStep {
	rng := w.rng
	var order []int // the members still to upgrade, and the active one
	for i, m := range ms {
		if m.Version != w.target || i == active {
			order = append(order, i)
		}
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	sensible := w.clean || rng.IntN(2) == 0
	if sensible {
		// The active member last, after a failover to the first one.
		k := slices.Index(order, active)
		order = append(slices.Delete(order, k, k+1), active)
	}
	var steps []chaosHandStep
	for i := 0; i < len(order); {
		switch {
		case sensible && order[i] == active:
			// Every other member is on the target by now.
			to := 0
			if to == active {
				to = 1
			}
			steps = append(steps, chaosHandStep{op: "failover", member: ms[to].Name})
		case !sensible && rng.IntN(100) < 25:
			steps = append(steps, chaosHandStep{op: "failover", member: ms[rng.IntN(len(ms))].Name})
		}
		n := 1
		if i+1 < len(order) && rng.IntN(100) < 35 && !(sensible && order[i+1] == active) {
			n = 2
		}
		batch := ""
		if n == 2 {
			batch = fmt.Sprintf("hand-batch-%d", i)
		}
		for _, j := range order[i : i+n] {
			steps = append(steps, chaosHandStep{op: "install", member: ms[j].Name, batch: batch})
		}
		for _, j := range order[i : i+n] {
			steps = append(steps, chaosHandStep{op: "wait", member: ms[j].Name})
		}
		i += n
	}
	w.fault("%s: hand-written plan (sensible=%t) %v", name, sensible, steps)
	return steps
}

// handPlan builds the hand-written plan: the same steps every time (a
// restart skips what the journal says is done), with the generic end
// state.
func (p *chaosPlanner) handPlan(target string) upgrade.Plan {
	c, g, t := p.c, p.inner.Grammar, p.inner.GateTiming
	pl := upgrade.Plan{Cluster: c.Name(), Target: target, Converged: upgrade.ConvergedOn(g, target)}
	same := func(v string) bool {
		a, err1 := g.Parse(v)
		b, err2 := g.Parse(target)
		return err1 == nil && err2 == nil && a.Compare(b) == 0
	}
	upgraded := func(s upgrade.Snapshot, id string) error {
		m, ok := s.Member(id)
		switch {
		case !ok || !same(m.Version) || !m.Healthy || m.Role == upgrade.RoleDown || m.Role == upgrade.RoleUnknown:
			return fmt.Errorf("member %s not upgraded yet (%s, %q, healthy=%t)", id, m.Role, m.Version, m.Healthy)
		case len(s.Forwarding()) == 0:
			return errors.New("no member forwards")
		}
		return nil
	}
	for _, h := range p.hand {
		id := h.member
		switch h.op {
		case "install":
			verb, do := "install", func(ctx context.Context) error { return c.Member(id).Install(ctx, target) }
			if p.inner.Rollback {
				verb, do = "rollback", func(ctx context.Context) error { return c.Member(id).Rollback(ctx, target) }
			}
			pl.Steps = append(pl.Steps, &upgrade.Func{
				StepID: verb + ":" + id + "@" + target, Desc: verb + " " + target + " on " + id, Members: []string{id}, Batch: h.batch, Do: do,
				Check: func(ctx context.Context) (bool, error) {
					s, err := upgrade.WaitFor(ctx, c, upgrade.Gate{Name: "member " + id + " back", Timing: t, Check: func(s upgrade.Snapshot) error {
						if m, _ := s.Member(id); m.Role == upgrade.RoleDown || m.Version == "" {
							return fmt.Errorf("member %s not back", id)
						}
						return nil
					}}, nil)
					if err != nil {
						return false, err
					}
					m, _ := s.Member(id)
					if !same(m.Version) {
						return false, fmt.Errorf("%w: %s came back on %s", upgrade.ErrUnverifiable, id, m.Version)
					}
					return true, nil
				},
			})
		case "wait":
			pl.Steps = append(pl.Steps, &upgrade.Wait{StepID: "wait:" + id + "@" + target, Desc: "wait for " + id, Cluster: c,
				G: upgrade.Gate{Name: "member " + id + " upgraded", Timing: t, Check: func(s upgrade.Snapshot) error { return upgraded(s, id) }}})
		case "failover":
			pl.Steps = append(pl.Steps, &upgrade.Func{
				StepID: fmt.Sprintf("failover:to:%s#%d", id, len(pl.Steps)), Desc: "fail over to " + id, IsFailover: true,
				Do:   func(ctx context.Context) error { return c.Failover(ctx, id) },
				Safe: func(s upgrade.Snapshot) error { return upgraded(s, id) },
				Check: func(ctx context.Context) (bool, error) {
					s, err := c.Observe(ctx)
					m, _ := s.Member(id)
					return err == nil && m.Forwarding(), err
				},
			})
		}
	}
	return pl
}

const rogueID = "rogue:take-active-down"

// Plan implements upgrade.Planner.
func (p *chaosPlanner) Plan(s upgrade.Snapshot, target string) (upgrade.Plan, error) {
	p.planned = time.Now()
	var pl upgrade.Plan
	var err error
	if p.hand != nil {
		pl = p.handPlan(target)
	} else {
		pl, err = p.inner.Plan(s, target)
	}
	if err != nil || !p.rogue {
		return pl, err
	}
	if p.anchor == nil {
		a := ""
		if p.rogueAt < len(pl.Steps) {
			a = pl.Steps[p.rogueAt].ID()
		}
		p.anchor = &a
	}
	at := slices.IndexFunc(pl.Steps, func(st upgrade.Step) bool { return st.ID() == *p.anchor })
	if at < 0 {
		at = 0
		if *p.anchor == "" {
			at = len(pl.Steps)
		}
	}
	// A batch keeps its steps together: step in front of it.
	for at > 0 && at < len(pl.Steps) && chaosGroup(pl.Steps[at]) != "" && chaosGroup(pl.Steps[at]) == chaosGroup(pl.Steps[at-1]) {
		at--
	}
	c, d := p.c, p.rogueFor
	rogue := &upgrade.Func{
		StepID: rogueID,
		Desc:   "hand-written step that takes the active member down without declaring it",
		Do: func(context.Context) error {
			c.Inject(upgradetest.FaultDown, "", d)
			return nil
		},
	}
	pl.Steps = slices.Insert(pl.Steps, at, upgrade.Step(rogue))
	return pl, nil
}

func chaosGroup(s upgrade.Step) string {
	if g, ok := s.(upgrade.Grouper); ok {
		return g.Group()
	}
	return ""
}

// journal returns cluster cc's journal as process p sees it: the same
// MemoryJournal every time, or a new FileJournal value on the same file
// (a new process opens the file again).
func (w *chaosWorld) journal(p *upgradetest.Process, cc *chaosCluster) upgrade.Journal {
	if cc.path != "" {
		return p.Journal(&upgrade.FileJournal{Path: cc.path})
	}
	return p.Journal(cc.mem)
}

func (w *chaosWorld) run(t *testing.T) {
	if w.rollout {
		w.runRollout(t)
		return
	}
	w.runExecutor(t)
}

// runExecutor upgrades the one cluster with Executor runs: each killed
// run is followed by a new process that observes again, re-plans and
// resumes from the journal.
func (w *chaosWorld) runExecutor(t *testing.T) {
	cc := w.clusters[0]
	for attempt := 0; ; attempt++ {
		proc := upgradetest.NewProcess(t.Context())
		ctx := proc.Context()
		cc.c.BeginRun()
		cc.firstRun()
		snap, err := cc.c.Observe(ctx)
		if err != nil {
			cc.outs = append(cc.outs, upgradetest.Outcome{Err: err})
			return
		}
		p, err := cc.planner.Plan(snap, w.target)
		if err != nil {
			cc.outs = append(cc.outs, upgradetest.Outcome{Err: err})
			return
		}
		if attempt < len(w.kills) {
			n := 1 + int(w.kills[attempt]*float64(2*len(p.Steps)+2))
			if at := w.rogueStart(cc, p); at > 0 && w.kills[attempt] < 0.3 {
				n = at // die just before the misbehaving step: it is the resume's first
			}
			if w.killAfterWrite[attempt] {
				proc.KillAfterAppend(n, p)
			} else {
				proc.KillAtAppend(n, p)
			}
		}
		if attempt == 0 && w.dryRunFirst {
			w.dryRun(ctx, cc, p)
		}
		ex := w.executor(cc, nil)
		ex.Journal = w.journal(proc, cc)
		rep, err := ex.Run(ctx, cc.c, p)
		cc.c.EndRun()
		cc.outs = append(cc.outs, upgradetest.Outcome{Report: rep, Err: err})
		if dead, _ := proc.Killed(); !dead {
			return
		}
	}
}

// dryRun runs p as a dry run first (its own run on the fake): it must
// touch neither the cluster (the checker sees the calls) nor the journal.
func (w *chaosWorld) dryRun(ctx context.Context, cc *chaosCluster, p upgrade.Plan) {
	before, _ := cc.mem.Load(ctx)
	ex := w.executor(cc, nil)
	ex.DryRun, ex.Journal = true, cc.mem
	rep, err := ex.Run(ctx, cc.c, p)
	cc.c.EndRun()
	cc.outs = append(cc.outs, upgradetest.Outcome{Report: rep, Err: err})
	if after, _ := cc.mem.Load(ctx); len(after) != len(before) {
		cc.outs[len(cc.outs)-1].Err = fmt.Errorf("harness: the dry run wrote %d journal record(s)", len(after)-len(before))
	}
	cc.c.BeginRun()
}

// errChaosRefused is the approvals' refusal: an operator's plain error.
var errChaosRefused = errors.New("not approved by the change board")

// executor returns the executor for one run of cc: the world's retry, the
// operator's approval (refusing cc.refuseStep-th guarded step), and
// onEvent.
func (w *chaosWorld) executor(cc *chaosCluster, onEvent func(upgrade.Event)) *upgrade.Executor {
	ex := &upgrade.Executor{Retry: w.retry, OnEvent: onEvent, SettleTiming: w.settle}
	if cc.refuseStep > 0 {
		ex.Approve = func(context.Context, upgrade.Step, upgrade.Snapshot) error {
			cc.asked++
			if cc.asked == cc.refuseStep {
				return errChaosRefused
			}
			return nil
		}
	}
	return ex
}

// rogueStart estimates the number of the journal append that starts
// the misbehaving step in this run of p, 0 when there is none or the
// journal is a file: the plan record on a fresh journal, then a start and
// an outcome per step before it that the journal does not show finished.
func (w *chaosWorld) rogueStart(cc *chaosCluster, p upgrade.Plan) int {
	at := slices.IndexFunc(p.Steps, func(st upgrade.Step) bool { return st.ID() == rogueID })
	if at < 0 || cc.path != "" {
		return 0
	}
	recs, _ := cc.mem.Load(context.Background())
	finished := map[string]bool{}
	for _, r := range recs {
		if r.Kind == upgrade.RecordFinish {
			finished[r.Step] = true
		}
	}
	if finished[rogueID] {
		return 0
	}
	n := 1
	if len(recs) == 0 {
		n++
	}
	for _, st := range p.Steps[:at] {
		if !finished[st.ID()] {
			n += 2
		}
	}
	return n
}

// runRollout upgrades the fleet with Rollout rounds: a killed round is
// followed by a new process running the whole rollout again (clusters
// already done re-plan to nothing).
func (w *chaosWorld) runRollout(t *testing.T) {
	idx := map[string]int{}
	for i, cc := range w.clusters {
		idx[cc.c.Name()] = i
	}
	for r := 0; ; r++ {
		proc := upgradetest.NewProcess(t.Context())
		round := &chaosRound{launch: map[int]time.Time{}, end: map[int]time.Time{}, planned: map[int]time.Time{}}
		w.rounds = append(w.rounds, round)
		stop := func() bool { return false }
		if r < len(w.killAfter) {
			stop = proc.KillAfter(w.killAfter[r])
		}
		var targets []upgrade.RolloutTarget
		for _, cc := range w.clusters {
			targets = append(targets, upgrade.RolloutTarget{Cluster: cc.c, Planner: cc.planner, Version: w.target,
				Group: cc.group, Journal: w.journal(proc, cc), Expected: cc.expected, ConvergeWithin: cc.convergeWithin})
		}
		ro := w.ro
		ro.NewExecutor = func(tg upgrade.RolloutTarget) *upgrade.Executor {
			i := idx[tg.Cluster.Name()]
			cc := w.clusters[i]
			cc.c.BeginRun()
			cc.firstRun()
			round.mu.Lock()
			round.launch[i] = time.Now()
			round.mu.Unlock()
			return w.executor(cc, func(ev upgrade.Event) {
				if ev.Kind != upgrade.EventDone {
					return
				}
				cc.c.EndRun()
				round.mu.Lock()
				round.end[i] = time.Now()
				round.mu.Unlock()
			})
		}
		if w.refuseCluster >= 0 {
			refused := w.clusters[w.refuseCluster].c.Name()
			ro.Approve = func(ctx context.Context, tg upgrade.RolloutTarget) error {
				if tg.Cluster.Name() != refused {
					return nil
				}
				err := error(errChaosRefused)
				if w.ro.ApprovalTimeout > 0 {
					<-ctx.Done() // never answers
					err = ctx.Err()
				}
				round.mu.Lock()
				round.refusedAt = time.Now()
				round.mu.Unlock()
				return err
			}
		}
		if w.refuseRest {
			ro.ApproveRest = func(context.Context, []upgrade.RolloutResult) error { return errChaosRefused }
		}
		round.rep, round.err = ro.Run(proc.Context(), targets)
		stop()
		round.killed, round.killedAt = proc.Killed()
		for i := range round.launch {
			round.planned[i] = w.clusters[i].planner.planned
		}
		for i, cc := range w.clusters {
			if _, ran := round.launch[i]; !ran {
				continue
			}
			res := round.rep.Results[i]
			out := upgradetest.Outcome{Report: res.Report}
			if res.Status != "done" {
				out.Err = clusterErr(round.err, cc.c.Name())
				if out.Err == nil {
					out.Err = fmt.Errorf("harness: rollout result %q (%s) but no error entry for cluster %s", res.Status, res.Reason, cc.c.Name())
				}
			}
			cc.outs = append(cc.outs, out)
		}
		if !round.killed {
			return
		}
	}
}

// clusterErr finds cluster name's entry in a Rollout error.
func clusterErr(err error, name string) error {
	m, ok := err.(interface{ WrappedErrors() []error })
	if !ok {
		return nil
	}
	for _, e := range m.WrappedErrors() {
		if strings.HasPrefix(e.Error(), "cluster "+name+": ") {
			return errors.Unwrap(e)
		}
	}
	return nil
}

// check runs every invariant: upgradetest.Checker on every cluster, the
// rollout's limits on every round, and convergence of a clean world.
func (w *chaosWorld) check() error {
	var errs []error
	for _, cc := range w.clusters {
		if err := (upgradetest.Checker{Target: w.target, Grammar: versionpath.Dotted{}, FailoverToTarget: true}).Check(cc.c, cc.outs...); err != nil {
			errs = append(errs, err)
		}
	}
	for r, round := range w.rounds {
		errs = append(errs, w.checkRound(r, round)...)
	}
	if w.clean {
		if w.rollout {
			if last := w.rounds[len(w.rounds)-1]; last.err != nil {
				errs = append(errs, fmt.Errorf("liveness: no fault injected, yet the last rollout round failed: %v", last.err))
			}
		} else if outs := w.clusters[0].outs; outs[len(outs)-1].Err != nil {
			errs = append(errs, fmt.Errorf("liveness: no fault injected, yet the last run failed: %v", outs[len(outs)-1].Err))
		}
	}
	return errors.Join(errs...)
}

// checkRound checks one Rollout round: a typed error (every entry), OK
// exactly when every cluster is done, clusters left out only when the
// rollout halted, at most MaxParallelClusters running and at most the
// group's limit per group, canaries first and alone, and no cluster
// started after the failure budget was spent, after a canary failed or
// after the process died.
func (w *chaosWorld) checkRound(r int, round *chaosRound) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("rollout round %d: %s", r+1, fmt.Sprintf(format, args...)))
	}
	rep, err := round.rep, round.err
	if err := upgradetest.CheckTyped(err); err != nil {
		fail("%v", err)
	}
	allDone, notStarted := true, false
	for _, res := range rep.Results {
		allDone = allDone && res.Status == "done"
		notStarted = notStarted || res.Status == "not-started"
		if res.Status == "done" && (res.Report == nil || !res.Report.OK) {
			fail("cluster %s done without an OK report", res.Cluster)
		}
	}
	if rep.OK != (err == nil) || rep.OK != allDone {
		fail("report OK=%t, all done=%t, error %v", rep.OK, allDone, err)
	}
	if _, invalid := err.(*upgrade.InvalidError); invalid {
		// Refused as a whole: only right when the window had ended before
		// this round.
		if w.ro.WindowEnd.IsZero() || w.ro.WindowEnd.After(rep.Started) {
			fail("rollout refused as invalid: %v", err)
		}
		if len(round.launch) > 0 {
			fail("invalid rollout (%v), yet %d cluster(s) started", err, len(round.launch))
		}
		return errs
	}
	if notStarted && !errors.Is(err, upgrade.ErrRolloutHalted) {
		fail("clusters left out but the error does not say the rollout halted: %v", err)
	}
	type span struct {
		i    int
		l, e time.Time
	}
	var spans []span
	for i, l := range round.launch {
		e, ok := round.end[i]
		if !ok {
			// Failed before Executor.Run: at planning, or observing when
			// the process died, the
			// window ended or its convergence bound passed.
			e = round.planned[i]
			if e.Before(l) {
				e = l
				var ends []time.Time
				for _, t := range []time.Time{round.killedAt, w.ro.WindowEnd} {
					if !t.Before(l) {
						ends = append(ends, t)
					}
				}
				if cw := w.clusters[i].convergeWithin; cw > 0 {
					ends = append(ends, l.Add(cw))
				}
				if len(ends) > 0 {
					e = slices.MinFunc(ends, time.Time.Compare)
				}
			}
		}
		spans = append(spans, span{i, l, e})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.l.Compare(b.l) })
	limitOf := func(g string) int {
		if n, ok := w.ro.GroupLimits[g]; ok {
			return n
		}
		return max(w.ro.PerGroup, 1)
	}
	for _, s := range spans {
		all, inGroup := 0, 0
		g := w.clusters[s.i].group
		for _, o := range spans {
			if !o.l.After(s.l) && o.e.After(s.l) || o.i == s.i {
				all++
				if g != "" && w.clusters[o.i].group == g {
					inGroup++
				}
			}
		}
		if all > w.ro.MaxParallelClusters {
			fail("%d clusters running when %s started, MaxParallelClusters %d", all, w.clusters[s.i].c.Name(), w.ro.MaxParallelClusters)
		}
		if g != "" && inGroup > limitOf(g) {
			fail("%d clusters of group %s running when %s started, limit %d", inGroup, g, w.clusters[s.i].c.Name(), limitOf(g))
		}
		if end := w.ro.WindowEnd; !end.IsZero() {
			if !s.l.Before(end) {
				fail("cluster %s started at %s, at or after the window's end %s", w.clusters[s.i].c.Name(), s.l.Format(time.TimeOnly+".000"), end.Format(time.TimeOnly+".000"))
			}
			if s.e.After(end) {
				fail("cluster %s still ran at %s, after the window's end %s", w.clusters[s.i].c.Name(), s.e.Format(time.TimeOnly+".000"), end.Format(time.TimeOnly+".000"))
			}
		}
		if cw := w.clusters[s.i].convergeWithin; cw > 0 && s.e.After(s.l.Add(cw)) {
			fail("cluster %s ran %v, beyond its ConvergeWithin %v", w.clusters[s.i].c.Name(), s.e.Sub(s.l), cw)
		}
		if !round.refusedAt.IsZero() && s.l.After(round.refusedAt) {
			fail("cluster %s started at %s, after an approval was refused at %s", w.clusters[s.i].c.Name(), s.l.Format(time.TimeOnly+".000"), round.refusedAt.Format(time.TimeOnly+".000"))
		}
		if w.refuseCluster == s.i {
			fail("cluster %s ran although its approval was refused", w.clusters[s.i].c.Name())
		}
		if w.refuseRest && s.i >= min(w.ro.Canaries, len(w.clusters)) && w.ro.Canaries > 0 {
			fail("cluster %s ran although the rest after the canaries was not approved", w.clusters[s.i].c.Name())
		}
		if round.killed && !s.l.Before(round.killedAt) {
			fail("cluster %s started at %s, after the process died at %s", w.clusters[s.i].c.Name(), s.l.Format(time.TimeOnly), round.killedAt.Format(time.TimeOnly))
		}
	}
	canaries := min(w.ro.Canaries, len(w.clusters))
	var canaryEnd time.Time
	for ci := range canaries {
		if l, ok := round.launch[ci]; ok {
			if l.Before(canaryEnd) {
				fail("canary %d started before the previous canary ended", ci)
			}
			for _, e := range []time.Time{round.end[ci], l} {
				if e.After(canaryEnd) {
					canaryEnd = e
				}
			}
			if res := rep.Results[ci]; res.Status != "done" {
				for _, s := range spans {
					if s.i != ci && s.l.After(canaryEnd) {
						fail("cluster %s started after canary %s failed", w.clusters[s.i].c.Name(), res.Cluster)
					}
				}
			}
		}
	}
	for _, s := range spans {
		if s.i >= canaries && s.l.Before(canaryEnd) {
			fail("cluster %s started at %s, before the canaries finished at %s", w.clusters[s.i].c.Name(), s.l.Format(time.TimeOnly), canaryEnd.Format(time.TimeOnly))
		}
	}
	budget := w.ro.MaxFailures
	if budget == 0 && w.ro.MaxFailurePercent == 0 {
		budget = 1
	}
	if pct := w.ro.MaxFailurePercent; pct > 0 {
		k := (pct*len(w.clusters) + 99) / 100 // the first count with k*100 >= pct*n
		if budget == 0 || k < budget {
			budget = k
		}
	}
	var failedAt []time.Time
	for _, s := range spans {
		if rep.Results[s.i].Status == "failed" {
			failedAt = append(failedAt, s.e)
		}
	}
	slices.SortFunc(failedAt, time.Time.Compare)
	if len(failedAt) >= budget {
		spent := failedAt[budget-1]
		for _, s := range spans {
			if s.l.After(spent) {
				fail("cluster %s started at %s, after %d failure(s) spent the budget at %s", w.clusters[s.i].c.Name(), s.l.Format(time.TimeOnly+".000000000"), budget, spent.Format(time.TimeOnly+".000000000"))
			}
		}
	}
	return errs
}

// describe renders the world for a failure message: the fleet, the
// faults, and per cluster the call record and the runs' outcomes.
func (w *chaosWorld) describe() string {
	var b strings.Builder
	mode := "one Executor"
	if w.rollout {
		mode = fmt.Sprintf("Rollout %+v", w.ro)
	}
	fmt.Fprintf(&b, "seed %d: %d cluster(s), %s -> %s (rollback=%t), %s, kills %v %v, file journal %t, retry %+v\n",
		w.seed, len(w.clusters), w.from, w.target, w.rollback, mode, w.kills, w.killAfter, w.fileJournal, w.retry)
	fmt.Fprintf(&b, "faults (%d):\n", len(w.faults))
	for _, f := range w.faults {
		fmt.Fprintf(&b, "  - %s\n", f)
	}
	for r, round := range w.rounds {
		fmt.Fprintf(&b, "rollout round %d: killed=%t at %s, err: %v\n", r+1, round.killed, round.killedAt.Format(time.TimeOnly+".000000"), round.err)
	}
	for _, cc := range w.clusters {
		fmt.Fprintf(&b, "\ncluster %s (group %q, gate %+v, batch %d, backup %t, FailoverDelay %v):\n", cc.c.Name(), cc.group,
			cc.planner.inner.GateTiming, cc.planner.inner.BatchSize, cc.planner.inner.Backup, cc.c.FailoverDelay)
		for _, m := range cc.c.Members() {
			fm := cc.c.Member(m.ID())
			fmt.Fprintf(&b, "  member %s: now %s %s; install %v reboot %v status delay %v\n", fm.Name, fm.Version, fm.Role, fm.InstallDuration, fm.RebootDuration, fm.StatusDelay)
		}
		b.WriteString(chaosCalls(cc.c))
		for i, o := range cc.outs {
			fmt.Fprintf(&b, "  run %d: err %v\n", i+1, o.Err)
			if o.Report != nil {
				for _, line := range strings.Split(strings.TrimSpace(o.Report.Markdown()), "\n") {
					fmt.Fprintf(&b, "    %s\n", line)
				}
			}
		}
	}
	return b.String()
}

// chaosCalls renders a fake's call record, one call a line.
func chaosCalls(c *upgradetest.Cluster) string {
	var b strings.Builder
	for _, k := range c.Calls() {
		fmt.Fprintf(&b, "  %s run %d %-14s %-2s %-6s failed=%t fwd=%v seen=%v was=%s/%s %s\n", k.At.Format(time.TimeOnly+".000000000"), k.Run, k.Op, k.Member, k.Arg,
			k.Failed, k.Forwarding, k.SeenForwarding, k.Was, k.WasSeen, k.Cause)
	}
	return b.String()
}

// fingerprint is what must not change when a seed runs again: every call
// of every cluster (calls at one instant sorted, as the batch's concurrent
// installs may record in either order) and every run's outcome.
func (w *chaosWorld) fingerprint() string {
	var b strings.Builder
	for _, cc := range w.clusters {
		calls := cc.c.Calls()
		slices.SortStableFunc(calls, func(x, y upgradetest.Call) int {
			if c := x.At.Compare(y.At); c != 0 {
				return c
			}
			return strings.Compare(x.Op+x.Member+x.Arg, y.Op+y.Member+y.Arg)
		})
		fmt.Fprintf(&b, "cluster %s\n", cc.c.Name())
		for _, k := range calls {
			fmt.Fprintf(&b, "%s %d %s %s %s %t\n", k.At.Format(time.RFC3339Nano), k.Run, k.Op, k.Member, k.Arg, k.Failed)
		}
		for i, o := range cc.outs {
			ok := o.Report != nil && o.Report.OK
			fmt.Fprintf(&b, "run %d ok=%t err=%v\n", i+1, ok, o.Err)
		}
	}
	return b.String()
}
