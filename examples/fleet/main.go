// Command fleet upgrades a fleet of HA clusters of several vendors in one
// hitless rollout, from an inventory file (YAML).
//
// The vendors it drives are clavister, aviatrix, junos, checkpoint and
// fake (vendors.go). With no flags it runs the built-in inventory
// (examples/fleet/fleet.yaml): a mixed, simulated fleet in three pods —
// Clavister HA pairs over real SSH against clavistertest simulators on
// 127.0.0.1, an Aviatrix controller with gateways against the aviatrixtest
// fake over TLS, a Juniper vSRX chassis cluster over real SSH against
// junostest, a Check Point ClusterXL High Availability pair over real SSH
// against checkpointtest with its fake management server over TLS (the
// Multi-Version Cluster upgrade: the cluster object's version and the
// policy installs go through the management API), and in-memory fake
// clusters — one canary first, the rest after an approval answered by
// -approve, at most three clusters at once and one per pod (two in pod-c).
// The simulators' secrets are given by reference, like a real inventory's:
// the built-in file names the environment variables
// HITLESS_SIM_CLAVISTER_PASSWORD, HITLESS_SIM_AVIATRIX_PASSWORD,
// HITLESS_SIM_JUNOS_PASSWORD, HITLESS_SIM_CHECKPOINT_PASSWORD,
// HITLESS_SIM_CHECKPOINT_EXPERT_PASSWORD and HITLESS_SIM_CHECKPOINT_API_KEY
// (the management API key), and this program sets each one that is unset
// to a random value before loading the file, and starts its simulators
// with it. Nothing prints a password or key.
//
// On a terminal it shows one live bar per running cluster (steps done of
// the plan's steps, the current step), plain lines otherwise. At the end it
// writes the rollout's Markdown report (a summary table and a Mermaid
// gantt timeline, plus the traffic probes) to a file, prints its path, a
// table of the clusters and a one-line summary with the total lost probe
// ticks (0: no simulated cluster ever stopped forwarding).
//
//	go run ./examples/fleet                          # the built-in mixed fleet
//	go run ./examples/fleet -fail cos-b1             # inject a fault: that cluster fails, the rollout halts
//	go run ./examples/fleet -fail cp-c5              # the Check Point pair's upgraded member stays READY: stopped before its failover
//	go run ./examples/fleet -approve=no              # the rest after the canary is refused
//	go run ./examples/fleet -approve=timeout         # nobody answers within rollout.approval.timeout
//	go run ./examples/fleet -inventory my.yaml -json # your inventory; the report as JSON on stdout
//	go run ./examples/fleet -print-inventory         # the built-in inventory, to start your own
//
// Exit codes: 0 every cluster upgraded and no probe tick lost; 1 stopped
// (a cluster failed, the rollout halted, a cluster could not be reached,
// traffic was lost); 2 bad input (flags, inventory).
package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/upgrade"
)

// defaultInventory is the built-in inventory (examples/fleet/fleet.yaml).
//
//go:embed fleet.yaml
var defaultInventory []byte

// defaultInventoryName names the built-in inventory in messages.
const defaultInventoryName = "examples/fleet/fleet.yaml"

// simPasswordEnv are the environment variables the built-in inventory
// takes its simulators' passwords from; unset ones are set to a random
// password before the inventory is loaded.
var simPasswordEnv = []string{"HITLESS_SIM_CLAVISTER_PASSWORD", "HITLESS_SIM_AVIATRIX_PASSWORD", "HITLESS_SIM_JUNOS_PASSWORD",
	"HITLESS_SIM_CHECKPOINT_PASSWORD", "HITLESS_SIM_CHECKPOINT_EXPERT_PASSWORD", "HITLESS_SIM_CHECKPOINT_API_KEY"}

func main() {
	os.Exit(mainErr(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the parsed flags.
type options struct {
	inventory  string
	fail       string
	approve    string
	approveSet bool
	report     string
	journalDir string
	json       bool
}

func mainErr(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return mainCtx(ctx, args, stdout, stderr)
}

// mainCtx is the program; ctx ending (SIGINT, SIGTERM) stops every
// running cluster at its next safe point.
func mainCtx(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.inventory, "inventory", "", "inventory file (YAML); default: the built-in "+defaultInventoryName)
	fs.StringVar(&o.fail, "fail", "", "inject the vendor's default fault into this simulated cluster")
	fs.StringVar(&o.approve, "approve", "yes", "answer to the approval of the rest after the canaries: yes, no or timeout (never answer)")
	fs.StringVar(&o.report, "report", "", "write the Markdown report here (default: fleet-report.md in a new temporary directory)")
	fs.StringVar(&o.journalDir, "journal-dir", "", "keep the clusters' journals here, to resume an interrupted rollout of real or separately simulated clusters (default: the run's temporary directory)")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON on stdout (progress goes to stderr)")
	printInv := fs.Bool("print-inventory", false, "print the built-in inventory and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fs.Args())
		return 2
	}
	if *printInv {
		_, _ = stdout.Write(defaultInventory)
		return 0
	}
	fs.Visit(func(f *flag.Flag) { o.approveSet = o.approveSet || f.Name == "approve" })
	if !slices.Contains([]string{"yes", "no", "timeout"}, o.approve) {
		fmt.Fprintf(stderr, "bad -approve %q: yes, no or timeout\n", o.approve)
		return 2
	}
	if err := setSimPasswords(); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	inv, err := loadInventory(o.inventory)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := applyFlags(inv, &o); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	progress := stdout
	if o.json {
		progress = stderr
	}
	return run(ctx, inv, o, stdout, progress)
}

// setSimPasswords sets every unset simPasswordEnv variable to a random
// password (for the simulators the built-in inventory describes).
func setSimPasswords() error {
	for _, name := range simPasswordEnv {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			continue
		}
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		if err := os.Setenv(name, "sim-"+base64.RawURLEncoding.EncodeToString(b)); err != nil {
			return err
		}
	}
	return nil
}

// loadInventory loads path, or the built-in inventory when path is "".
func loadInventory(path string) (*Inventory, error) {
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		return Parse(defaultInventoryName, defaultInventory, LoadOptions{BaseDir: wd})
	}
	return Load(path, LoadOptions{})
}

// applyFlags checks -fail and -approve against the inventory.
func applyFlags(inv *Inventory, o *options) error {
	if o.fail != "" {
		i := slices.IndexFunc(inv.Clusters, func(c ClusterSpec) bool { return c.Name == o.fail })
		if i < 0 {
			return fmt.Errorf("bad -fail %q: no such cluster in %s", o.fail, inv.File)
		}
		c := &inv.Clusters[i]
		if c.Simulate == nil {
			return fmt.Errorf("bad -fail %q: faults can only be injected into simulated clusters (simulate:)", o.fail)
		}
		c.Simulate.Fault = vendors()[c.Vendor].defaultFault
	}
	ap := inv.Rollout.Approval
	switch {
	case o.approveSet && !ap.Rest:
		return fmt.Errorf("-approve=%s has no effect: %s asks for no approval (rollout.approval.rest)", o.approve, inv.File)
	case o.approve == "timeout" && inv.Rollout.approvalTimeout == 0:
		return fmt.Errorf("-approve=timeout would wait forever: %s sets no rollout.approval.timeout", inv.File)
	}
	return nil
}

// member is one cluster of the run: its spec, its journal and, once open,
// the cluster.
type member struct {
	spec    *ClusterSpec
	journal *upgrade.FileJournal
	o       *opened
}

// clusterResult is one cluster's line in the JSON output.
type clusterResult struct {
	Cluster    string `json:"cluster"`
	Vendor     string `json:"vendor"`
	Group      string `json:"group,omitempty"`
	Simulated  bool   `json:"simulated"`
	Status     string `json:"status"`
	Reason     string `json:"reason,omitempty"`
	LostTicks  int    `json:"traffic_lost_ticks"`
	ProbeTicks int    `json:"probe_ticks"`
}

// result is the -json output.
type result struct {
	OK               bool                   `json:"ok"`
	Inventory        string                 `json:"inventory"`
	TrafficLostTicks int                    `json:"traffic_lost_ticks"`
	ProbeTicks       int                    `json:"probe_ticks"`
	ReportFile       string                 `json:"report_file"`
	Clusters         []clusterResult        `json:"clusters"`
	Error            string                 `json:"error,omitempty"`
	Rollout          *upgrade.RolloutReport `json:"rollout,omitempty"`
}

// run opens every cluster, runs the rollout, writes the report and prints
// the result; it returns the exit code.
func run(ctx context.Context, inv *Inventory, o options, stdout, progress io.Writer) int {
	runDir, err := os.MkdirTemp("", "hitless-fleet-")
	if err != nil {
		fmt.Fprintln(progress, err)
		return 1
	}
	if o.report == "" {
		o.report = filepath.Join(runDir, "fleet-report.md")
	}
	if o.journalDir == "" {
		o.journalDir = filepath.Join(runDir, "journals")
	}
	simDir := filepath.Join(runDir, "sim")
	for _, d := range []string{o.journalDir, simDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			fmt.Fprintln(progress, err)
			return 1
		}
	}
	defer os.RemoveAll(simDir)

	fmt.Fprintln(progress, describe(inv, o))
	members, code := openAll(ctx, inv, o, simDir, progress)
	defer func() {
		for _, m := range members {
			if m.o != nil {
				m.o.close()
			}
		}
	}()
	if code != 0 {
		return code
	}
	for _, m := range members {
		c := m.spec
		from := ""
		if c.Simulate != nil && c.Simulate.Version != "" {
			from = c.Simulate.Version + " -> "
		}
		fmt.Fprintf(progress, "  %-10s %-6s %-10s %s%s: %s\n", c.Name, c.Group(), c.Vendor, from, c.Target, strings.Join(m.o.about, "; "))
	}
	fmt.Fprintln(progress)

	infos := map[string]info{}
	for i, m := range members {
		infos[m.spec.Name] = info{group: m.spec.Group(), canary: i < inv.Rollout.Canaries}
	}
	d := newDisplay(progress, infos, isTerminal(progress))
	rep, runErr := newRollout(inv, o, members, d).Run(ctx, targets(members, d))
	d.stop()

	res := &result{Inventory: inv.File, ReportFile: o.report, Rollout: rep, OK: runErr == nil}
	for i, m := range members {
		cr := clusterResult{Cluster: m.spec.Name, Vendor: m.spec.Vendor, Group: m.spec.Group(), Simulated: m.o.probe != nil}
		if rep != nil && i < len(rep.Results) {
			cr.Status, cr.Reason = rep.Results[i].Status, rep.Results[i].Reason
		}
		if m.o.probe != nil {
			cr.LostTicks, cr.ProbeTicks = m.o.probe()
			res.TrafficLostTicks += cr.LostTicks
			res.ProbeTicks += cr.ProbeTicks
		}
		res.Clusters = append(res.Clusters, cr)
	}
	if runErr != nil {
		res.Error = runErr.Error()
	}
	if res.TrafficLostTicks > 0 {
		res.OK = false
	}
	if err := os.WriteFile(o.report, []byte(markdown(inv, o, res)), 0o644); err != nil {
		fmt.Fprintf(progress, "write the report: %v\n", err)
		res.ReportFile = ""
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(progress, err)
			return 1
		}
	} else {
		printResults(stdout, res)
	}
	fmt.Fprintln(progress, summary(res))
	if ctx.Err() != nil {
		fmt.Fprintf(progress, "interrupted: the running clusters stopped at their next safe point; run again with -journal-dir %s to resume\n", o.journalDir)
	}
	if !res.OK {
		return 1
	}
	return 0
}

// describe is the run's first line.
func describe(inv *Inventory, o options) string {
	vendorCount := map[string]int{}
	groups := map[string]bool{}
	for _, c := range inv.Clusters {
		vendorCount[c.Vendor]++
		if g := c.Group(); g != "" {
			groups[g] = true
		}
	}
	var vs []string
	for _, v := range slices.Sorted(mapKeys(vendorCount)) {
		vs = append(vs, fmt.Sprintf("%s %d", v, vendorCount[v]))
	}
	r := inv.Rollout
	perGroup := fmt.Sprintf("%d per pod", max(r.PerGroup, 1))
	for _, g := range slices.Sorted(mapKeys(r.GroupLimits)) {
		perGroup += fmt.Sprintf(" (%s: %d)", g, r.GroupLimits[g])
	}
	approval := "no approval"
	if r.Approval.Rest {
		approval = fmt.Sprintf("approval of the rest answered %q by -approve", o.approve)
		if r.approvalTimeout > 0 {
			approval += fmt.Sprintf(" (timeout %s)", r.approvalTimeout)
		}
	}
	failures := fmt.Sprintf("stop after %d failure(s)", max(r.MaxFailures, 1))
	if r.MaxFailurePercent > 0 && r.MaxFailures == 0 {
		failures = fmt.Sprintf("stop once %d%% failed", r.MaxFailurePercent)
	}
	return fmt.Sprintf("hitless fleet: %d clusters from %s in %d pods/sites (%s); %d canary first, then at most %d at once, %s; %s; %s",
		len(inv.Clusters), inv.File, len(groups), strings.Join(vs, ", "), r.Canaries, r.MaxParallelClusters, perGroup, approval, failures)
}

// openAll opens every cluster at once (simulators first). Any failure
// stops the run before anything changes: exit code 2 for a configuration
// refused by the vendor package, 1 otherwise.
func openAll(ctx context.Context, inv *Inventory, o options, simDir string, w io.Writer) ([]*member, int) {
	drivers := vendors()
	members := make([]*member, len(inv.Clusters))
	errs := make([]error, len(inv.Clusters))
	var wg sync.WaitGroup
	for i := range inv.Clusters {
		c := &inv.Clusters[i]
		// One journal per cluster, shared by its planner (Clavister reads
		// it on resume) and its executor.
		m := &member{spec: c, journal: &upgrade.FileJournal{Path: filepath.Join(o.journalDir, c.Name+".journal")}}
		members[i] = m
		dir := filepath.Join(simDir, c.Name)
		wg.Go(func() {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				errs[i] = err
				return
			}
			m.o, errs[i] = drivers[c.Vendor].open(ctx, c, openEnv{dir: dir, journal: m.journal, artifacts: filepath.Join(o.journalDir, "artifacts")})
		})
	}
	wg.Wait()
	code := 0
	for i, err := range errs {
		if err == nil {
			continue
		}
		if code == 0 {
			fmt.Fprintln(w, "Cannot open every cluster; nothing was changed on any of them:")
			code = 1
		}
		fmt.Fprintf(w, "  cluster %s (%s): %s\n", inv.Clusters[i].Name, inv.Clusters[i].Vendor, oneLineText(err.Error(), 400))
		if errors.Is(err, clavister.ErrConfig) || errors.Is(err, aviatrix.ErrConfig) || errors.Is(err, junos.ErrConfig) ||
			errors.Is(err, checkpoint.ErrConfig) || errors.Is(err, checkpoint.ErrMgmtConfig) {
			code = 2
		}
	}
	return members, code
}

// hookedPlanner tells the display how many steps a cluster's plan has.
type hookedPlanner struct {
	upgrade.Planner
	cluster string
	d       display
}

// Plan implements upgrade.Planner.
func (h hookedPlanner) Plan(s upgrade.Snapshot, target string) (upgrade.Plan, error) {
	p, err := h.Planner.Plan(s, target)
	if err != nil {
		h.d.planned(h.cluster, 0)
		h.d.event(upgrade.Event{Time: time.Now(), Cluster: h.cluster, Kind: upgrade.EventDone, Err: "plan refused: " + err.Error()})
		return p, err
	}
	h.d.planned(h.cluster, len(p.Steps))
	return p, nil
}

// targets returns the rollout targets, in inventory order.
func targets(members []*member, d display) []upgrade.RolloutTarget {
	ts := make([]upgrade.RolloutTarget, len(members))
	for i, m := range members {
		c := m.spec
		ts[i] = upgrade.RolloutTarget{
			Cluster: m.o.cluster, Version: c.Target, Group: c.Group(),
			Planner:  hookedPlanner{Planner: m.o.planner, cluster: c.Name, d: d},
			Expected: c.expected, ConvergeWithin: c.convergeWithin, Journal: m.journal,
		}
	}
	return ts
}

// newRollout builds the upgrade.Rollout from the inventory's settings.
func newRollout(inv *Inventory, o options, members []*member, d display) *upgrade.Rollout {
	s := inv.Rollout
	byName := map[string]*member{}
	for _, m := range members {
		byName[m.spec.Name] = m
	}
	r := &upgrade.Rollout{
		MaxParallelClusters: s.MaxParallelClusters, PerGroup: s.PerGroup, GroupLimits: s.GroupLimits,
		Canaries: s.Canaries, MaxFailures: s.MaxFailures, MaxFailurePercent: s.MaxFailurePercent,
		WindowEnd: s.windowEnd, ApprovalTimeout: s.approvalTimeout, KeepOrder: s.KeepOrder,
		NewExecutor: func(t upgrade.RolloutTarget) *upgrade.Executor {
			m := byName[t.Cluster.Name()]
			var redact []string
			for _, s := range m.o.redact {
				if s != "" {
					redact = append(redact, s)
				}
			}
			// The target's Journal is used (the executor has none).
			return &upgrade.Executor{OnEvent: d.event, Redact: redact, Retry: m.o.retry, SettleTiming: m.o.settle}
		},
	}
	if s.Approval.Rest {
		r.ApproveRest = func(ctx context.Context, canaries []upgrade.RolloutResult) error {
			var names []string
			for _, c := range canaries {
				names = append(names, c.Cluster+" "+c.Status)
			}
			d.note("approval: canaries finished (%s); approve the rest? -approve=%s", strings.Join(names, ", "), o.approve)
			switch o.approve {
			case "yes":
				d.note("approval: yes, the rest starts")
				return nil
			case "no":
				d.note("approval: refused, the rest does not start")
				return errors.New("refused by the operator (-approve=no)")
			}
			d.note("approval: waiting for an answer that will not come (-approve=timeout)")
			<-ctx.Done()
			return ctx.Err()
		}
	}
	return r
}

// printResults prints one line per cluster.
func printResults(w io.Writer, r *result) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.DiscardEmptyColumns)
	header := "cluster\tpod\tvendor\tstatus\tduration\tlost ticks"
	if slices.ContainsFunc(r.Clusters, func(c clusterResult) bool { return c.Reason != "" }) {
		header += "\treason"
	}
	fmt.Fprintln(tw, header)
	for i, c := range r.Clusters {
		dur, lost := "-", "n/a"
		if r.Rollout != nil && i < len(r.Rollout.Results) {
			if rr := r.Rollout.Results[i].Report; rr != nil {
				dur = rr.Finished.Sub(rr.Started).Round(10 * time.Millisecond).String()
			}
		}
		if c.Simulated {
			lost = fmt.Sprintf("%d of %d", c.LostTicks, c.ProbeTicks)
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", c.Cluster, orDash(c.Group), c.Vendor, c.Status, dur, lost)
		if c.Reason != "" {
			line += "\t" + oneLineText(c.Reason, 100)
		}
		fmt.Fprintln(tw, line)
	}
	_ = tw.Flush()
	if r.Error != "" {
		fmt.Fprintf(w, "\n%s\n", r.Error)
	}
	fmt.Fprintln(w)
}

// summary is the run's last line.
func summary(r *result) string {
	done, simulated := 0, 0
	for _, c := range r.Clusters {
		if c.Status == "done" {
			done++
		}
		if c.Simulated {
			simulated++
		}
	}
	verdict := "OK"
	if !r.OK {
		verdict = "STOPPED"
	}
	took := ""
	if r.Rollout != nil {
		took = " in " + r.Rollout.Finished.Sub(r.Rollout.Started).Round(10*time.Millisecond).String()
	}
	report := r.ReportFile
	if report == "" {
		report = "(not written)"
	}
	probes := "lost probe ticks: n/a (no simulated cluster)"
	if simulated > 0 {
		probes = fmt.Sprintf("lost probe ticks: %d (of %d, over %d simulated clusters)", r.TrafficLostTicks, r.ProbeTicks, simulated)
	}
	return fmt.Sprintf("fleet %s: %d of %d clusters upgraded%s; %s; report: %s", verdict, done, len(r.Clusters), took, probes, report)
}

// markdown is the report file: the rollout's Markdown report, then the
// traffic probes and the run's inputs.
func markdown(inv *Inventory, o options, r *result) string {
	var b strings.Builder
	if r.Rollout != nil {
		b.WriteString(r.Rollout.Markdown())
	}
	b.WriteString("\n## Traffic probes\n\n| cluster | vendor | lost ticks | probe ticks |\n|---|---|---|---|\n")
	for _, c := range r.Clusters {
		if c.Simulated {
			fmt.Fprintf(&b, "| %s | %s | %d | %d |\n", c.Cluster, c.Vendor, c.LostTicks, c.ProbeTicks)
		} else {
			fmt.Fprintf(&b, "| %s | %s | n/a (real cluster) | - |\n", c.Cluster, c.Vendor)
		}
	}
	fmt.Fprintf(&b, "\nTotal lost probe ticks: %d of %d.\n", r.TrafficLostTicks, r.ProbeTicks)
	fmt.Fprintf(&b, "\n## Run\n\n- inventory: %s\n- approval of the rest: %s\n", inv.File, approvalText(inv, o))
	if o.fail != "" {
		fmt.Fprintf(&b, "- injected fault: %s (-fail)\n", o.fail)
	}
	if r.Error != "" {
		b.WriteString("\n## Why it stopped\n\n```\n" + r.Error + "\n```\n")
	}
	return b.String()
}

func approvalText(inv *Inventory, o options) string {
	if !inv.Rollout.Approval.Rest {
		return "not asked"
	}
	return "asked, answered " + o.approve + " (-approve)"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
