// Command quickstart is hitless's main job in miniature: it starts a
// simulated HA cluster on 127.0.0.1, prints the dry-run plan, runs the
// rolling upgrade through the real code path (SSH driver for Clavister, the
// controller API client for Aviatrix) with a live progress display, and
// prints the report: timeline, commands sent, traffic lost.
//
//	go run ./examples/quickstart                      # Clavister cOS Core HA pair
//	go run ./examples/quickstart -fault back-on-old   # a fault: clean, explained stop, exit 1
//	go run ./examples/quickstart -json                # the report as JSON on stdout
//	go run ./examples/quickstart -crash-after 5       # die after 5 journal writes, resume
//
// Exit codes: 0 upgraded with no traffic lost; 1 stopped (fault or error),
// cluster still forwarding; 2 bad flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/upgrade"
)

// result is the quickstart's report contract (see -json).
type result struct {
	Vendor           string               `json:"vendor"`
	Cluster          string               `json:"cluster"`
	Target           string               `json:"target"`
	OK               bool                 `json:"ok"`
	TrafficLostTicks int                  `json:"traffic_lost_ticks"`
	Failovers        int                  `json:"failovers"` // moves of the active role (the simulator's count, else the report's)
	ProbeTicks       int                  `json:"probe_ticks"`
	ProbeEvery       string               `json:"probe_every"`
	StillForwarding  bool                 `json:"still_forwarding"`
	FinalVersions    map[string]string    `json:"final_versions"`
	Steps            []upgrade.StepReport `json:"steps"`
	Error            string               `json:"error,omitempty"`
	Explanation      string               `json:"explanation,omitempty"`
	Commands         []command            `json:"commands,omitempty"`
	Report           *upgrade.Report      `json:"report,omitempty"`
}

// command is one device command or API call, secrets redacted.
type command struct {
	Host     string `json:"host"`
	Command  string `json:"command"`
	Duration string `json:"duration"`
	Error    string `json:"error,omitempty"`
}

// options are the parsed flags shared by every vendor.
type options struct {
	target     string
	speed      float64
	fault      string
	crashAfter int       // simulate a crash after this many journal writes, then resume
	mode       string    // vendor-specific mode (checkpoint: gateway, vsx or maestro)
	out        io.Writer // progress display
}

// vendor runs one simulated upgrade.
type vendor struct {
	defaultTarget string
	validTarget   func(string) error
	faults        map[string]string // name -> what it shows
	run           func(ctx context.Context, o options) (*result, error)
}

func vendors() map[string]vendor {
	return map[string]vendor{
		"clavister": {defaultTarget: clavisterTarget, validTarget: func(s string) error { _, err := clavister.ParseVersion(s); return err }, faults: clavisterFaults, run: runClavister},
		"aviatrix":  {defaultTarget: aviatrixTarget, validTarget: func(s string) error { _, err := aviatrix.ParseVersion(s); return err }, faults: aviatrixFaults, run: runAviatrix},
		"junos":     {defaultTarget: junosTarget, validTarget: func(s string) error { _, err := junos.ParseVersion(s); return err }, faults: junosFaults, run: runJunos},

		// The default target depends on -mode (see checkpoint.go).
		"checkpoint": {defaultTarget: "", validTarget: checkpointValidTarget, faults: checkpointFaults, run: runCheckpoint},
	}
}

func main() {
	os.Exit(mainErr(os.Args[1:], os.Stdout, os.Stderr))
}

func mainErr(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vendorName := fs.String("vendor", "clavister", "vendor to simulate: clavister, aviatrix, junos or checkpoint")
	mode := fs.String("mode", "", "checkpoint: gateway (ClusterXL pair, default), vsx (VSX pair with three Virtual Systems) or maestro (security group: 2 orchestrators, 8 SGMs on 2 sites)")
	target := fs.String("target", "", "target version (default: the vendor's demo target)")
	speed := fs.Float64("speed", 1, "simulation speed-up factor (2 = twice as fast)")
	fault := fs.String("fault", "", "inject a fault (see -list-faults)")
	listFaults := fs.Bool("list-faults", false, "list the faults of -vendor and exit")
	asJSON := fs.Bool("json", false, "print the report as JSON on stdout (progress goes to stderr)")
	crashAfter := fs.Int("crash-after", 0, "simulate a crash after N journal writes, then resume in a new \"process\" (new connections, fresh observation, re-plan) from the same journal file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	v, ok := vendors()[*vendorName]
	if !ok {
		fmt.Fprintf(stderr, "unknown -vendor %q (clavister, aviatrix, junos, checkpoint)\n", *vendorName)
		return 2
	}
	if *listFaults {
		names := make([]string, 0, len(v.faults))
		for n := range v.faults {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stdout, "%-20s %s\n", n, v.faults[n])
		}
		return 0
	}
	if *fault != "" {
		if _, ok := v.faults[*fault]; !ok {
			fmt.Fprintf(stderr, "unknown -fault %q for %s (try -list-faults)\n", *fault, *vendorName)
			return 2
		}
	}
	if *speed <= 0 {
		fmt.Fprintln(stderr, "-speed must be > 0")
		return 2
	}
	if *crashAfter < 0 {
		fmt.Fprintln(stderr, "-crash-after must be >= 0")
		return 2
	}
	o := options{target: *target, speed: *speed, fault: *fault, crashAfter: *crashAfter, mode: *mode, out: stdout}
	if o.target == "" {
		o.target = v.defaultTarget
	}
	if err := v.validTarget(o.target); err != nil {
		fmt.Fprintf(stderr, "bad -target: %v\n", err)
		return 2
	}
	if *asJSON {
		o.out = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := v.run(ctx, o)
	if res == nil {
		res = &result{Vendor: *vendorName, Target: o.target}
	}
	res.Vendor = *vendorName
	if res.Failovers == 0 && res.Report != nil {
		res.Failovers = res.Report.Failovers
	}
	// The JSON contract: steps and final_versions are always present, empty
	// (not null) when the run stopped before planning.
	if res.Steps == nil {
		res.Steps = []upgrade.StepReport{}
	}
	if res.FinalVersions == nil {
		res.FinalVersions = map[string]string{}
	}
	if err != nil {
		res.OK = false
		res.Error = err.Error()
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	} else {
		printSummary(stdout, res)
	}
	if !res.OK || res.TrafficLostTicks > 0 {
		return 1
	}
	return 0
}

// scaled divides d by the speed factor.
func (o options) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / o.speed)
}

// progress returns an upgrade event printer: one line per step start,
// finish, failure, guard verdict and gate poll (polls as a compact line).
func progress(w io.Writer) func(upgrade.Event) {
	start := time.Now()
	return func(ev upgrade.Event) {
		at := time.Since(start).Round(10 * time.Millisecond)
		switch ev.Kind {
		case upgrade.EventPreCheck:
			mark := "ok"
			if ev.Err != "" {
				mark = "FAILED: " + ev.Err
			}
			fmt.Fprintf(w, "%8s  pre-check  %s: %s\n", at, ev.Message, mark)
		case upgrade.EventGuard:
			fmt.Fprintf(w, "%8s  guard      %-28s %s%s\n", at, ev.Step, ev.Message, suffix(ev.Err))
		case upgrade.EventStepStart:
			fmt.Fprintf(w, "%8s  ▶ start    %-28s %s\n", at, ev.Step, ev.Message)
		case upgrade.EventStepFinish:
			fmt.Fprintf(w, "%8s  ✔ done     %s\n", at, ev.Step)
		case upgrade.EventStepSkip:
			fmt.Fprintf(w, "%8s  ↷ skip     %-28s %s\n", at, ev.Step, ev.Message)
		case upgrade.EventStepRetry:
			fmt.Fprintf(w, "%8s  ↻ retry    %-28s %s%s\n", at, ev.Step, ev.Message, suffix(ev.Err))
		case upgrade.EventStepFail:
			fmt.Fprintf(w, "%8s  ✘ failed   %-28s %s\n", at, ev.Step, ev.Err)
		case upgrade.EventGatePoll:
			state := "healthy"
			if ev.Err != "" {
				state = "waiting: " + ev.Err
			}
			fmt.Fprintf(w, "%8s    poll %-3d %s\n", at, ev.Poll, truncate(state, 110))
		case upgrade.EventStopped, upgrade.EventResume:
			fmt.Fprintf(w, "%8s  %s: %s\n", at, ev.Kind, ev.Message)
		}
	}
}

// errCrashed is what a crashingJournal returns: the simulated process died
// right there, before the record was written.
var errCrashed = errors.New("simulated crash: the process died here")

// crashingJournal accepts limit appends, then fails every later one. It
// keeps the file journal's lock (Lock/Unlock are promoted), so the
// executor releases it when the "dead" run returns, as the OS would for a
// process that died.
type crashingJournal struct {
	*upgrade.FileJournal
	n, limit int
}

func (j *crashingJournal) Append(ctx context.Context, r upgrade.Record) error {
	if j.n >= j.limit {
		return errCrashed
	}
	j.n++
	return j.FileJournal.Append(ctx, r)
}

// runWithCrash runs attempt (one "process": connect, observe, plan, run)
// with a file journal in dir. With -crash-after N the first process dies
// after N journal writes, and a second one resumes from the same journal
// file: finished steps are skipped, an interrupted step is verified, no
// disruptive step runs twice.
func runWithCrash(_ context.Context, o options, dir string, attempt func(j upgrade.Journal, showPlan bool) (*upgrade.Report, error)) (*upgrade.Report, error) {
	path := filepath.Join(dir, "run.journal")
	if o.crashAfter <= 0 {
		return attempt(&upgrade.FileJournal{Path: path}, true)
	}
	rep, err := attempt(&crashingJournal{FileJournal: &upgrade.FileJournal{Path: path}, limit: o.crashAfter}, true)
	if !errors.Is(err, errCrashed) {
		return rep, err // done (or failed) before the crash point
	}
	fmt.Fprintf(o.out, "\n*** simulated crash after %d journal writes; a new process resumes from %s ***\n\n", o.crashAfter, path)
	return attempt(&upgrade.FileJournal{Path: path}, false)
}

// checkFinal accepts a run only when every member ends on the target: the
// simulator's own state, not the report's word for it.
func checkFinal(final map[string]string, target string) error {
	var off []string
	for m, v := range final {
		if v != target {
			off = append(off, fmt.Sprintf("%s runs %s", m, v))
		}
	}
	if len(off) > 0 {
		sort.Strings(off)
		return fmt.Errorf("%w: %s, not %s", upgrade.ErrNotConverged, strings.Join(off, ", "), target)
	}
	return nil
}

// reason pairs an error category with the sentence that explains it.
type reason struct {
	err error
	why string
}

// explain turns a stopped run's error into one operator sentence: the
// first matching reason, then whether traffic still flows.
func explain(err error, reasons []reason, forwarding bool, ok, notOK string) string {
	why := "The run stopped at a safe point."
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			why = r.why
			break
		}
	}
	if forwarding {
		return why + " " + ok
	}
	return why + " " + notOK
}

func suffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// readOnly are status commands the summary folds into a count.
var readOnly = map[string]bool{"ha": true, "about": true, "stats": true, "ls": true, "list_version_info": true, "list_vpcs_summary": true, "list_gateway_upgrade_status": true, "platform_upgrade_status": true, "get_cloudn_backup_config": true, "get_api_token": true, "login": true, "check_task_status": true, "hitless_list_releases": true}

func printSummary(w io.Writer, r *result) {
	fmt.Fprintln(w)
	if r.Report != nil {
		fmt.Fprint(w, r.Report.Markdown())
	}
	if len(r.Commands) > 0 {
		reads := 0
		fmt.Fprintf(w, "\nCommands that changed something (of %d sent; secrets redacted; -json lists all):\n\n", len(r.Commands))
		for _, c := range r.Commands {
			if readOnly[strings.Fields(c.Command + " x")[0]] && !strings.Contains(c.Command, "-") {
				reads++
				continue
			}
			fmt.Fprintf(w, "- %s  %-28s %s%s\n", c.Host, c.Command, c.Duration, suffix(c.Error))
		}
		fmt.Fprintf(w, "- (%d read-only status commands)\n", reads)
	}
	fmt.Fprintf(w, "\nTraffic probe: %d of %d ticks lost (one tick every %s); still forwarding: %t\n",
		r.TrafficLostTicks, r.ProbeTicks, r.ProbeEvery, r.StillForwarding)
	if r.OK {
		fmt.Fprintf(w, "\nRESULT: upgraded %s to %s with zero downtime.\n", r.Cluster, r.Target)
		return
	}
	fmt.Fprintf(w, "\nRESULT: stopped. %s\n", r.Error)
	if r.Explanation != "" {
		fmt.Fprintf(w, "WHY: %s\n", r.Explanation)
	}
}
