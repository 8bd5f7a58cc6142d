package upgrade_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// cpuTime is the process's user+system CPU time (getrusage), so the
// benchmark reports CPU per step, not only wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFleet1000Pairs plans and runs a rolling upgrade of 1,000
// two-member fake clusters whose members reboot instantly, so the figures
// are the orchestration's own cost: planning, guard observations, gates,
// journal (in memory), events and report. Reported: wall and CPU ns per
// step (CPU includes the garbage collector's other core) and bytes
// allocated per member.
func BenchmarkFleet1000Pairs(b *testing.B) {
	const clusters = 1000
	timing := upgrade.Timing{Interval: 1, MinHealthy: 0, Deadline: 1 << 40}
	var steps, members int
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	for b.Loop() {
		for i := range clusters {
			c := upgradetest.Pair(fmt.Sprint("fw", i), "1.0", 0)
			snap, err := c.Observe(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			p, err := upgrade.Rolling{Cluster: c, GateTiming: timing, Grammar: versionpath.Dotted{}}.Plan(snap, "2.0")
			if err != nil {
				b.Fatal(err)
			}
			rep, err := (&upgrade.Executor{Journal: &upgrade.MemoryJournal{}}).Run(b.Context(), c, p)
			if err != nil || !rep.OK {
				b.Fatal(err)
			}
			steps += len(p.Steps)
			members += 2
		}
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(steps), "cpu-ns/step")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(members), "B/member")
}
