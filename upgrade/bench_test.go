package upgrade_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/upgrade/upgradetest"
	"github.com/hitless/hitless/versionpath"
)

// BenchmarkFleet1000Pairs plans and runs a rolling upgrade of 1,000
// two-member fake clusters whose members reboot instantly, so the figures
// are the orchestration's own cost: planning, guard observations, gates,
// journal (in memory), events and report. Reported: ns per step and bytes
// allocated per member.
func BenchmarkFleet1000Pairs(b *testing.B) {
	const clusters = 1000
	timing := upgrade.Timing{Interval: 1, MinHealthy: 0, Deadline: 1 << 40}
	var steps, members int
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for b.Loop() {
		for i := range clusters {
			c := upgradetest.Pair(fmt.Sprint("fw", i), "1.0", 0)
			snap, err := c.Observe(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			p, err := upgrade.Rolling{Cluster: c, Gate: timing, Grammar: versionpath.Dotted{}}.Plan(snap, "2.0")
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
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(members), "B/member")
}
