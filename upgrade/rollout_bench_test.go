package upgrade_test

import (
	"cmp"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// Fleet benchmarks of upgrade.Rollout (see BENCHMARKS.md at the repository
// root for the figures and how they are defined). Fake clusters run in
// testing/synctest bubbles, so hours of reboots take milliseconds and every
// makespan is exact virtual time; member durations are drawn from seeded
// distributions (math/rand/v2, fixed seeds), so every run sees the same
// fleet.

// inBubble runs f in a testing/synctest bubble from a benchmark.
// synctest.Test needs a *testing.T, which a benchmark does not have, so f
// runs as a one-off test through testing.RunTests, with the test flags that
// RunTests reads (-test.run, -test.skip, -test.count) set for one plain run
// and restored after, and GOMAXPROCS kept as the benchmark's (RunTests sets
// it from -test.cpu). A failure in f fails the benchmark.
func inBubble(b *testing.B, f func(t *testing.T)) {
	b.Helper()
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	for name, v := range map[string]string{"test.run": "", "test.skip": "", "test.count": "1"} {
		if fl := flag.Lookup(name); fl != nil {
			old := fl.Value.String()
			if fl.Value.Set(v) == nil {
				defer func() { _ = fl.Value.Set(old) }()
			}
		}
	}
	ran := false
	ok := testing.RunTests(func(string, string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: b.Name() + "/bubble", F: func(t *testing.T) {
			if ran {
				return
			}
			ran = true
			runtime.GOMAXPROCS(procs)
			synctest.Test(t, f)
		}}})
	if !ok || !ran {
		b.FailNow()
	}
}

// rbMember is one member's drawn durations.
type rbMember struct{ install, reboot time.Duration }

// rbCluster is one drawn cluster: its pod and its members (the first one
// starts active).
type rbCluster struct {
	name, pod string
	members   []rbMember
}

// rbReboot draws a reboot duration.
type rbReboot func(r *rand.Rand) time.Duration

// rbUniform: reboot uniform in [2 min, 15 min).
func rbUniform(r *rand.Rand) time.Duration {
	return 2*time.Minute + time.Duration(r.Int64N(int64(13*time.Minute)))
}

// rbLogNormal: reboot log-normal with a median of 6 min and σ = 0.5
// (5 % of reboots above 13.7 min), clipped to [2 min, 15 min].
func rbLogNormal(r *rand.Rand) time.Duration {
	d := time.Duration(float64(6*time.Minute) * math.Exp(0.5*r.NormFloat64()))
	return min(max(d, 2*time.Minute), 15*time.Minute)
}

// rbFleet draws n clusters of 2 or 3 members (even odds) in pods chosen
// uniformly among pods, or, if balanced, cluster i in pod i mod pods (the
// same durations either way); installs take 10 s to 2 min. Durations are whole
// seconds plus 500 ms for the reboot, so a member never comes back exactly
// on a gate poll (every poll falls on a whole 10 s), which would make its
// gate's result depend on the order of two same-instant events.
func rbFleet(seed uint64, n, pods int, balanced bool, reboot rbReboot) []rbCluster {
	r := rand.New(rand.NewPCG(seed, 0x6869746c657373)) // "hitless"
	cs := make([]rbCluster, n)
	for i := range cs {
		pod := r.IntN(pods)
		if balanced {
			pod = i % pods
		}
		c := rbCluster{name: fmt.Sprintf("fw%03d", i), pod: fmt.Sprintf("pod%02d", pod)}
		for range 2 + r.IntN(2) {
			c.members = append(c.members, rbMember{
				install: 10*time.Second + time.Duration(r.IntN(111))*time.Second,
				reboot:  reboot(r).Truncate(time.Second) + 500*time.Millisecond,
			})
		}
		cs[i] = c
	}
	return cs
}

// rbExpected is a cluster's upgrade time under upgrade.Rolling with gate
// timing g, from the fake's durations: per member, install+reboot rounded up
// to the gate's next poll, plus MinHealthy; plus MinHealthy for the gate
// after the failover (the failover itself and every other step take no
// time on the fake).
func rbExpected(c rbCluster, g upgrade.Timing) time.Duration {
	var d time.Duration
	for _, m := range c.members {
		back := m.install + m.reboot
		if r := back % g.Interval; r != 0 {
			back += g.Interval - r
		}
		d += back + g.MinHealthy
	}
	return d + g.MinHealthy
}

// rbBuild makes fresh fakes for the drawn fleet (a rollout changes them):
// one target per cluster, Rolling planner with gate timing g, Expected
// from rbExpected. It must run in the bubble that runs the rollout.
func rbBuild(specs []rbCluster, g upgrade.Timing) ([]upgrade.RolloutTarget, []*upgradetest.Cluster) {
	ts := make([]upgrade.RolloutTarget, len(specs))
	cs := make([]*upgradetest.Cluster, len(specs))
	for i, s := range specs {
		ms := make([]*upgradetest.Member, len(s.members))
		for j, m := range s.members {
			role := upgrade.RoleStandby
			if j == 0 {
				role = upgrade.RoleActive
			}
			ms[j] = &upgradetest.Member{Name: fmt.Sprintf("%s-m%d", s.name, j), Version: "1.0", Role: role,
				InstallDuration: m.install, RebootDuration: m.reboot}
		}
		c := upgradetest.NewCluster(s.name, time.Second, ms...)
		cs[i] = c
		ts[i] = upgrade.RolloutTarget{Cluster: c, Version: "2.0", Group: s.pod, Expected: rbExpected(s, g),
			Planner: upgrade.Rolling{Cluster: c, GateTiming: g, Grammar: versionpath.Dotted{}}}
	}
	return ts, cs
}

// rbRun runs the rollout and returns its virtual makespan; every target
// must be done and the limits respected.
func rbRun(t *testing.T, r *upgrade.Rollout, ts []upgrade.RolloutTarget) (time.Duration, *upgrade.RolloutReport) {
	t.Helper()
	start := time.Now()
	rep, err := r.Run(t.Context(), ts)
	if err != nil || !rep.OK {
		t.Fatalf("rollout failed: %v", err)
	}
	for _, tg := range ts {
		// Count probe ticks up to the end of this run only.
		tg.Cluster.(*upgradetest.Cluster).Probe.Stop()
	}
	all, perGroup := rbOverlap(rep)
	if all > r.MaxParallelClusters || perGroup > max(r.PerGroup, 1) {
		t.Fatalf("limits broken: %d running at once (max %d), %d in one group (max %d)", all, r.MaxParallelClusters, perGroup, max(r.PerGroup, 1))
	}
	return time.Since(start), rep
}

// rbOverlap is the most runs in progress at once, overall and in one group
// (a sweep over the runs' starts and ends; an end at the instant of a start
// frees its slot first).
func rbOverlap(rep *upgrade.RolloutReport) (all, perGroup int) {
	type ev struct {
		at    time.Time
		delta int
		group string
	}
	var evs []ev
	for _, r := range rep.Results {
		if r.Report != nil {
			evs = append(evs, ev{r.Report.Started, 1, r.Group}, ev{r.Report.Finished, -1, r.Group})
		}
	}
	slices.SortFunc(evs, func(a, b ev) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.delta, b.delta))
	})
	n, inGroup := 0, map[string]int{}
	for _, e := range evs {
		n += e.delta
		inGroup[e.group] += e.delta
		all, perGroup = max(all, n), max(perGroup, inGroup[e.group])
	}
	return all, perGroup
}

// rbBound is the makespan lower bound of a fleet with the given run
// durations: the longest cluster (critical path), total work over
// MaxParallelClusters, and for every group its work over its limit.
type rbBound struct {
	critical, work, pod time.Duration
}

func (l rbBound) max() time.Duration { return max(l.critical, l.work, l.pod) }

func rbLowerBound(ts []upgrade.RolloutTarget, dur []time.Duration, parallel, perGroup int) rbBound {
	var l rbBound
	var total time.Duration
	pod := map[string]time.Duration{}
	for i, d := range dur {
		l.critical = max(l.critical, d)
		total += d
		pod[ts[i].Group] += d
	}
	l.work = total / time.Duration(parallel)
	for _, w := range pod {
		l.pod = max(l.pod, w/time.Duration(perGroup))
	}
	return l
}

// rbBatches cuts the targets into batch-barrier batches the way a batch
// tool (Ansible serial) would, respecting one cluster per pod per batch:
// in input order, each target joins the first batch, from the earliest
// one not yet full, that has room and none of its pod.
func rbBatches(ts []upgrade.RolloutTarget, size int) [][]upgrade.RolloutTarget {
	var batches [][]upgrade.RolloutTarget
	open := 0 // batches before open are full
	for _, t := range ts {
		b := open
		for ; b < len(batches); b++ {
			if len(batches[b]) < size && !slices.ContainsFunc(batches[b], func(o upgrade.RolloutTarget) bool { return o.Group == t.Group }) {
				break
			}
		}
		if b == len(batches) {
			batches = append(batches, nil)
		}
		batches[b] = append(batches[b], t)
		for open < len(batches) && len(batches[open]) == size {
			open++
		}
	}
	return batches
}

// rbPodRemaining orders the targets for KeepOrder by the work their pod
// still has when they start: within a pod longest Expected first, each
// target keyed by the Expected sum of itself and the pod's targets after
// it; then by that key, largest first (ties: longest first). A static
// stand-in for "start the cluster whose pod has the most work left": the
// pods that bound the makespan stay busy, and no pod is left with a long
// tail of clusters that can only run one at a time.
func rbPodRemaining(ts []upgrade.RolloutTarget) []upgrade.RolloutTarget {
	out := slices.Clone(ts)
	slices.SortStableFunc(out, func(a, b upgrade.RolloutTarget) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(b.Expected, a.Expected))
	})
	key := make(map[string]time.Duration, len(out))
	var rem time.Duration
	for i := len(out) - 1; i >= 0; i-- {
		if i == len(out)-1 || out[i].Group != out[i+1].Group {
			rem = 0
		}
		rem += out[i].Expected
		key[out[i].Cluster.Name()] = rem
	}
	slices.SortStableFunc(out, func(a, b upgrade.RolloutTarget) int {
		return cmp.Or(cmp.Compare(key[b.Cluster.Name()], key[a.Cluster.Name()]), cmp.Compare(b.Expected, a.Expected))
	})
	return out
}

// rbMakespan is one fleet's figures, in virtual time.
type rbMakespan struct {
	bound                          rbBound
	lpt, keep, podRem, batch       time.Duration
	batches, lostTicks, expectMiss int
}

// BenchmarkRolloutMakespan upgrades fleets of 200 fake clusters (2 or 3
// members; reboots uniform in 2-15 min or log-normal; pods among 20, drawn
// at random or balanced round-robin; three seeds each) with at most 16
// clusters at once and one per pod, and reports the virtual makespan
// against its lower bound and against a batch-barrier rollout at the same
// concurrency:
//
//   - lpt/lb, lpt/batch: the Rollout's default order (longest Expected
//     first); the aims are <= 1.05 and <= 0.75;
//   - keep/lb, keep/batch: the same with KeepOrder (input order);
//   - podrem/lb, podrem/batch: KeepOrder over rbPodRemaining, a candidate
//     pod-aware order (not what Rollout does today);
//   - batch/lb; lb-min and lpt-min (minutes); batches;
//   - lost-ticks: probe ticks lost across every cluster of every run (must
//     be 0; the benchmark fails otherwise);
//   - expected-miss: clusters whose run did not take exactly their
//     Expected (0: the estimate given to the scheduler is exact).
//
// The lower bound is max(the longest cluster, total work / 16, the
// heaviest pod's work / 1), from the clusters' measured run durations.
// Canaries are not used (they would add the same time to every strategy).
func BenchmarkRolloutMakespan(b *testing.B) {
	const clusters, pods = 200, 20
	for _, dist := range []struct {
		name   string
		reboot rbReboot
	}{{"uniform", rbUniform}, {"lognormal", rbLogNormal}} {
		for _, balanced := range []bool{false, true} {
			layout := map[bool]string{false: "random-pods", true: "balanced-pods"}[balanced]
			for _, seed := range []uint64{1, 2, 3} {
				specs := rbFleet(seed, clusters, pods, balanced, dist.reboot)
				b.Run(fmt.Sprintf("%s/%s/seed=%d", dist.name, layout, seed), func(b *testing.B) { rbBenchMakespan(b, specs) })
			}
		}
	}
}

// rbBenchMakespan measures one drawn fleet (16 clusters at once, one per
// pod, default gate timing: poll 10 s, healthy 30 s, deadline 20 min) and
// reports its figures.
func rbBenchMakespan(b *testing.B, specs []rbCluster) {
	const parallel, perPod = 16, 1
	var m rbMakespan
	for b.Loop() {
		m = rbMakespan{}
		inBubble(b, func(t *testing.T) {
			m = rbMeasure(t, specs, upgrade.DefaultGateTiming(), parallel, perPod)
		})
	}
	if m.lostTicks != 0 {
		b.Errorf("%d probe ticks lost", m.lostTicks)
	}
	lb := float64(m.bound.max())
	b.ReportMetric(float64(m.lpt)/lb, "lpt/lb")
	b.ReportMetric(float64(m.lpt)/float64(m.batch), "lpt/batch")
	b.ReportMetric(float64(m.keep)/lb, "keep/lb")
	b.ReportMetric(float64(m.keep)/float64(m.batch), "keep/batch")
	b.ReportMetric(float64(m.podRem)/lb, "podrem/lb")
	b.ReportMetric(float64(m.podRem)/float64(m.batch), "podrem/batch")
	b.ReportMetric(float64(m.batch)/lb, "batch/lb")
	b.ReportMetric(m.bound.max().Minutes(), "lb-min")
	b.ReportMetric(m.lpt.Minutes(), "lpt-min")
	b.ReportMetric(float64(m.batches), "batches")
	b.ReportMetric(float64(m.lostTicks), "lost-ticks")
	b.ReportMetric(float64(m.expectMiss), "expected-miss")
	b.Logf("bound: critical path %v, work/%d %v, heaviest pod %v; makespans: lpt %v, keep %v, podrem %v, batch %v (%d batches)",
		m.bound.critical, parallel, m.bound.work, m.bound.pod, m.lpt, m.keep, m.podRem, m.batch, m.batches)
}

// rbMeasure runs the drawn fleet four ways in the bubble of t: the
// Rollout's default order, KeepOrder, KeepOrder over rbPodRemaining, and the
// batch barrier (one Rollout per batch, one after another).
func rbMeasure(t *testing.T, specs []rbCluster, gt upgrade.Timing, parallel, perPod int) rbMakespan {
	var m rbMakespan
	var fleets [][]*upgradetest.Cluster
	ro := func(keep bool) *upgrade.Rollout {
		return &upgrade.Rollout{MaxParallelClusters: parallel, PerGroup: perPod, KeepOrder: keep}
	}

	ts, cs := rbBuild(specs, gt)
	fleets = append(fleets, cs)
	var rep *upgrade.RolloutReport
	m.lpt, rep = rbRun(t, ro(false), ts)
	dur := make([]time.Duration, len(ts))
	for i, r := range rep.Results {
		dur[i] = r.Report.Finished.Sub(r.Report.Started)
		if dur[i] != ts[i].Expected {
			m.expectMiss++
		}
	}
	m.bound = rbLowerBound(ts, dur, parallel, perPod)

	ts, cs = rbBuild(specs, gt)
	fleets = append(fleets, cs)
	m.keep, _ = rbRun(t, ro(true), ts)

	ts, cs = rbBuild(specs, gt)
	fleets = append(fleets, cs)
	m.podRem, _ = rbRun(t, ro(true), rbPodRemaining(ts))

	ts, cs = rbBuild(specs, gt)
	fleets = append(fleets, cs)
	start := time.Now()
	for _, batch := range rbBatches(ts, parallel) {
		m.batches++
		rbRun(t, &upgrade.Rollout{MaxParallelClusters: len(batch), PerGroup: perPod, KeepOrder: true}, batch)
	}
	m.batch = time.Since(start)

	for _, cs := range fleets {
		for _, c := range cs {
			m.lostTicks += c.Probe.LostTicks()
		}
	}
	return m
}

// BenchmarkRolloutScale10k upgrades 10,000 fake clusters, 5,000 pairs and
// 5,000 triples in random order (25,000 members) over 1,000 pods, at most
// 250 clusters at once and one per pod, with instant members (no install
// or reboot time) but the default gate timing (poll every 10 s, healthy for
// 30 s: four polls per gate, in virtual time), so the figures are the
// orchestrator's own cost. Reported (means over the iterations; heaps: the
// largest), for the Rollout.Run call alone (not
// building the fakes, whose CPU is build-cpu-ms): CPU (getrusage, so the
// garbage collector on the other core counts) in ns per cluster and ms per
// run, and real wall ms per run (gettimeofday: time.Now is virtual in the
// bubble); peak heap in use (runtime.MemStats.HeapInuse sampled every 10 ms
// of real time and at the end of the run, fakes and reports included) and
// the heap in use before the fleet was built; bytes allocated per cluster.
func BenchmarkRolloutScale10k(b *testing.B) {
	const clusters, pods, parallel = 10_000, 1_000, 250
	gt := upgrade.DefaultGateTiming()
	r := rand.New(rand.NewPCG(10_000, 25_000))
	sizes := make([]int, clusters)
	for i := range sizes {
		sizes[i] = 2 + i%2
	}
	r.Shuffle(len(sizes), func(i, j int) { sizes[i], sizes[j] = sizes[j], sizes[i] })
	specs := make([]rbCluster, clusters)
	members := 0
	for i, n := range sizes {
		specs[i] = rbCluster{name: fmt.Sprintf("fw%05d", i), pod: fmt.Sprintf("pod%04d", r.IntN(pods)), members: make([]rbMember, n)}
		members += n
	}
	if members != 25_000 {
		b.Fatalf("%d members, want 25000", members)
	}

	var cpu, buildCPU, wall time.Duration // sums over the iterations
	var peak, base, alloc uint64          // peak and base: the largest seen
	n := 0
	for b.Loop() {
		n++
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base = max(base, ms.HeapInuse)
		stop := rbSampleHeap()
		var end uint64
		inBubble(b, func(t *testing.T) {
			// getrusage and gettimeofday are real time, also in a bubble.
			cpu0 := cpuTime()
			ts, _ := rbBuild(specs, gt)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu1, wall1 := cpuTime(), rbWallClock()
			rep, err := (&upgrade.Rollout{MaxParallelClusters: parallel, PerGroup: 1}).Run(t.Context(), ts)
			cpu += cpuTime() - cpu1
			wall += rbWallClock() - wall1
			buildCPU += cpu1 - cpu0
			runtime.ReadMemStats(&ms1)
			end = ms1.HeapInuse
			alloc += ms1.TotalAlloc - ms0.TotalAlloc
			if err != nil || !rep.OK {
				t.Errorf("rollout failed: %v", err)
			}
		})
		peak = max(peak, base, end, stop())
	}
	runs := time.Duration(n)
	b.ReportMetric(float64((cpu/runs).Nanoseconds())/clusters, "cpu-ns/cluster")
	b.ReportMetric(float64((cpu/runs).Microseconds())/1e3, "cpu-ms/run")
	b.ReportMetric(float64((wall/runs).Microseconds())/1e3, "wall-ms/run")
	b.ReportMetric(float64((buildCPU/runs).Microseconds())/1e3, "build-cpu-ms")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(base)/(1<<20), "base-heap-MB")
	b.ReportMetric(float64(alloc)/float64(n)/clusters, "B/cluster")
}

// rbSampleHeap samples runtime.MemStats.HeapInuse every 10 ms of real time
// in a goroutine started outside any bubble; the returned function stops it
// and returns the largest sample.
func rbSampleHeap() (stop func() uint64) {
	quit, hi := make(chan struct{}), make(chan uint64, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var peak uint64
		for {
			select {
			case <-quit:
				hi <- peak
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	return func() uint64 { close(quit); return <-hi }
}

// rbWallClock is the real time of day (gettimeofday), which a synctest
// bubble does not fake.
func rbWallClock() time.Duration {
	var tv syscall.Timeval
	if err := syscall.Gettimeofday(&tv); err != nil {
		return 0
	}
	return time.Duration(tv.Nano())
}
