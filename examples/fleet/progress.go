package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/hitless/hitless/upgrade"
)

// display shows the rollout's progress: a live bar per running cluster on
// a terminal, plain lines otherwise. Its methods are safe for concurrent
// use (every cluster's executor calls them from its own goroutine).
type display interface {
	// planned: cluster's plan has steps steps; it starts now.
	planned(cluster string, steps int)
	// event is one executor event.
	event(ev upgrade.Event)
	// note prints a line about the rollout (approval, summary).
	note(format string, args ...any)
	// stop ends the display; nothing is printed through it afterwards.
	stop()
}

// info is what the display knows of a cluster beforehand.
type info struct {
	group  string
	canary bool
}

// isTerminal reports whether w is a terminal: a character device other
// than the null device (golang.org/x/term is not a dependency of this
// module, so this is the os.File.Stat test).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

// newDisplay returns bars on a terminal, lines otherwise.
func newDisplay(w io.Writer, clusters map[string]info, bars bool) display {
	if bars {
		return newBarDisplay(w, clusters)
	}
	return &lineDisplay{w: w, start: time.Now(), clusters: clusters, runs: map[string]*lineRun{}}
}

// ---- plain lines ----

// lineDisplay prints one line per cluster start, step outcome and end.
type lineDisplay struct {
	w        io.Writer
	start    time.Time
	clusters map[string]info

	mu   sync.Mutex
	runs map[string]*lineRun
}

type lineRun struct {
	steps, done int
	started     time.Time
}

func (d *lineDisplay) printf(cluster, format string, args ...any) {
	at := time.Since(d.start).Round(10 * time.Millisecond)
	group := d.clusters[cluster].group
	fmt.Fprintf(d.w, "%7s  %-6s %-10s %s\n", at, group, cluster, fmt.Sprintf(format, args...))
}

func (d *lineDisplay) planned(cluster string, steps int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.runs[cluster] = &lineRun{steps: steps, started: time.Now()}
	what := "start"
	if d.clusters[cluster].canary {
		what = "start (canary)"
	}
	d.printf(cluster, "%-14s plan of %d steps", what, steps)
}

func (d *lineDisplay) event(ev upgrade.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.runs[ev.Cluster]
	if r == nil {
		r = &lineRun{started: time.Now()}
		d.runs[ev.Cluster] = r
	}
	switch ev.Kind {
	case upgrade.EventStepFinish, upgrade.EventStepSkip:
		r.done++
		verb := "✔ done"
		if ev.Kind == upgrade.EventStepSkip {
			verb = "↷ skipped"
		}
		d.printf(ev.Cluster, "%-14s %d/%d %s", verb, r.done, r.steps, ev.Step)
	case upgrade.EventStepRetry:
		d.printf(ev.Cluster, "%-14s %s: %s", "↻ retry", ev.Step, oneLineText(ev.Err, 120))
	case upgrade.EventStepFail:
		d.printf(ev.Cluster, "%-14s %s: %s", "✘ failed", ev.Step, oneLineText(ev.Err, 160))
	case upgrade.EventGuard:
		if ev.Err != "" {
			d.printf(ev.Cluster, "%-14s %s: %s", "guard refused", ev.Step, oneLineText(ev.Err, 160))
		}
	case upgrade.EventStopped:
		d.printf(ev.Cluster, "%-14s %s", "stopped", oneLineText(ev.Message, 160))
	case upgrade.EventDone:
		took := time.Since(r.started).Round(10 * time.Millisecond)
		if ev.Err == "" {
			d.printf(ev.Cluster, "%-14s in %s", "DONE", took)
		} else {
			d.printf(ev.Cluster, "%-14s after %s: %s", "FAILED", took, oneLineText(ev.Err, 160))
		}
	}
}

func (d *lineDisplay) note(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	at := time.Since(d.start).Round(10 * time.Millisecond)
	fmt.Fprintf(d.w, "%7s  %s\n", at, fmt.Sprintf(format, args...))
}

func (d *lineDisplay) stop() {}

// ---- live bars (mpb) ----

// barDisplay shows one bar per running cluster: steps done of the plan's
// total and the current step; finished clusters leave a line above the
// bars.
type barDisplay struct {
	p        *mpb.Progress
	start    time.Time
	clusters map[string]info
	// refresh drives mpb's rendering (a ticker, and one last render in
	// stop, so the lines printed above the bars just before the end are
	// flushed too).
	refresh chan any
	quit    chan struct{}
	ticker  sync.WaitGroup

	mu      sync.Mutex
	bars    map[string]*clusterBar
	stopped bool
}

// clusterBar is one cluster's bar. current is read by the render
// goroutine, so it is atomic (no lock is held while mpb renders).
type clusterBar struct {
	bar     *mpb.Bar
	current atomic.Pointer[string]
	started time.Time
}

func newBarDisplay(w io.Writer, clusters map[string]info) *barDisplay {
	d := &barDisplay{
		start:    time.Now(),
		clusters: clusters,
		bars:     map[string]*clusterBar{},
		refresh:  make(chan any),
		quit:     make(chan struct{}),
	}
	d.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(28), mpb.WithManualRefresh(d.refresh), mpb.ForceTTY())
	d.ticker.Go(func() {
		t := time.NewTicker(120 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				select {
				case d.refresh <- now:
				case <-d.quit:
					return
				}
			case <-d.quit:
				return
			}
		}
	})
	return d
}

func (d *barDisplay) planned(cluster string, steps int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	if old := d.bars[cluster]; old != nil {
		old.bar.Abort(true)
	}
	in := d.clusters[cluster]
	label := fmt.Sprintf("%-10s %-6s", cluster, in.group)
	if in.canary {
		label += " canary"
	} else {
		label += "       "
	}
	cb := &clusterBar{started: time.Now()}
	first := "observing"
	cb.current.Store(&first)
	cb.bar = d.p.AddBar(int64(max(steps, 1)),
		mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(
			decor.CountersNoUnit("%d/%d", decor.WCSyncSpace),
			decor.Any(func(decor.Statistics) string { return " " + oneLineText(*cb.current.Load(), 48) }),
		),
	)
	d.bars[cluster] = cb
}

func (d *barDisplay) event(ev upgrade.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cb := d.bars[ev.Cluster]
	if d.stopped || cb == nil {
		return
	}
	switch ev.Kind {
	case upgrade.EventStepStart:
		s := ev.Step
		cb.current.Store(&s)
	case upgrade.EventStepFinish, upgrade.EventStepSkip:
		cb.bar.Increment()
	case upgrade.EventStepFail:
		s := "✘ " + ev.Step
		cb.current.Store(&s)
	case upgrade.EventDone:
		took := time.Since(cb.started).Round(10 * time.Millisecond)
		at := time.Since(d.start).Round(10 * time.Millisecond)
		if ev.Err == "" {
			fmt.Fprintf(d.p, "%7s  ✔ %-10s %-6s done in %s\n", at, ev.Cluster, d.clusters[ev.Cluster].group, took)
			cb.bar.SetTotal(-1, true)
		} else {
			fmt.Fprintf(d.p, "%7s  ✘ %-10s %-6s FAILED after %s: %s\n", at, ev.Cluster, d.clusters[ev.Cluster].group, took, oneLineText(ev.Err, 140))
			cb.bar.Abort(true)
		}
		delete(d.bars, ev.Cluster)
	}
}

func (d *barDisplay) note(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	at := time.Since(d.start).Round(10 * time.Millisecond)
	fmt.Fprintf(d.p, "%7s  %s\n", at, fmt.Sprintf(format, args...))
}

func (d *barDisplay) stop() {
	d.mu.Lock()
	for name, cb := range d.bars {
		cb.bar.Abort(true)
		delete(d.bars, name)
	}
	d.stopped = true
	d.mu.Unlock()
	close(d.quit)
	d.ticker.Wait()
	// Two last renders: the first flushes the last lines and draws the
	// final frame of the bars just completed (which mpb removes then), the
	// second erases that frame.
	d.refresh <- time.Now()
	d.refresh <- time.Now()
	d.p.Wait()
}

// oneLineText flattens s to one line of at most n runes.
func oneLineText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
