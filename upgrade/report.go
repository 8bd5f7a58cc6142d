package upgrade

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StepStatus is the outcome of one step in a Report.
type StepStatus string

// Step statuses.
const (
	StatusPlanned     StepStatus = "planned"     // dry run, or not reached
	StatusSkipped     StepStatus = "skipped"     // already done (journal or verify)
	StatusDone        StepStatus = "done"        // ran and succeeded
	StatusFailed      StepStatus = "failed"      // ran and failed
	StatusRefused     StepStatus = "refused"     // the guard or an approval refused it
	StatusInterrupted StepStatus = "interrupted" // cancelled while running
)

// StepReport is one step's line in a Report. Times are nil for steps that
// did not run.
type StepReport struct {
	// Name is the step's stable ID.
	Name string `json:"name"`
	// Description is the step's sentence.
	Description string `json:"description"`
	// Status is the outcome.
	Status StepStatus `json:"status"`
	// Started and Finished are nil for steps that did not run.
	Started  *time.Time `json:"started"`
	Finished *time.Time `json:"finished"`
	// Attempts counts tries (retries of idempotent steps included).
	Attempts int `json:"attempts,omitempty"`
	// Polls counts a gate's polls.
	Polls int `json:"polls,omitempty"`
	// Disrupts lists the members the step takes out of forwarding.
	Disrupts []string `json:"disrupts,omitempty"`
	// Downtime is true when the step declared whole-cluster downtime.
	Downtime bool `json:"downtime,omitempty"`
	// Note is extra information (skipped because…, backup reference).
	Note string `json:"note,omitempty"`
	// Error is the failure text.
	Error string `json:"error,omitempty"`
}

// PreCheckResult is one pre-check's outcome in a Report.
type PreCheckResult struct {
	// Name is the pre-check's name.
	Name string `json:"name"`
	// Error is its failure text, "" when it passed.
	Error string `json:"error,omitempty"`
}

// Report is the record of one Executor run: data (JSON-serialisable) that
// also renders as Markdown with a per-step timeline.
type Report struct {
	// Cluster and Target are the plan's.
	Cluster string `json:"cluster"`
	Target  string `json:"target"`
	// Fingerprint is Plan.Fingerprint.
	Fingerprint string `json:"fingerprint"`
	// DryRun is true when nothing was run.
	DryRun bool `json:"dry_run"`
	// OK is true when the run ended without error.
	OK bool `json:"ok"`
	// Started and Finished bound the run.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Steps has one entry per plan step, in plan order.
	Steps []StepReport `json:"steps"`
	// InitialVersions maps member ID to the version observed before the
	// first step (nil when the cluster could not be observed).
	InitialVersions map[string]string `json:"initial_versions,omitempty"`
	// FinalVersions maps member ID to the version observed at the end.
	FinalVersions map[string]string `json:"final_versions"`
	// PreChecks lists every pre-check that ran, in order, with its error
	// text ("" when it passed); a dry run's report shows them too.
	PreChecks []PreCheckResult `json:"prechecks,omitempty"`
	// Failovers counts the steps declaring a failover that finished in this
	// run.
	Failovers int `json:"failovers"`
	// Downtime is true when a step that declared whole-cluster downtime ran.
	Downtime bool `json:"downtime"`
	// StoppedAfter is the last step done before a stop.
	StoppedAfter string `json:"stopped_after,omitempty"`
	// StoppedBefore is the step a stopped run did not start.
	StoppedBefore string `json:"stopped_before,omitempty"`
	// Error is the run's error text, empty on success.
	Error string `json:"error,omitempty"`
}

// JSON returns the report indented as JSON.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// Markdown renders the report: a summary, then a timeline table with each
// step's start offset, duration, status and note.
func (r *Report) Markdown() string {
	var b strings.Builder
	verdict := "OK"
	if !r.OK {
		verdict = "FAILED"
	}
	if r.DryRun {
		verdict = "DRY RUN"
	}
	fmt.Fprintf(&b, "# Upgrade report: %s -> %s (%s)\n\n", r.Cluster, r.Target, verdict)
	fmt.Fprintf(&b, "- started: %s\n- finished: %s (%s)\n", r.Started.Format(time.RFC3339), r.Finished.Format(time.RFC3339), roundDuration(r.Finished.Sub(r.Started)))
	if r.Downtime {
		b.WriteString("- **planned downtime**: a step declared whole-cluster downtime\n")
	}
	if r.StoppedBefore != "" || r.StoppedAfter != "" {
		fmt.Fprintf(&b, "- stopped after `%s`, before `%s`\n", r.StoppedAfter, r.StoppedBefore)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "- error: %s\n", strings.ReplaceAll(strings.TrimSpace(r.Error), "\n", "; "))
	}
	b.WriteString("\n| # | step | status | start | duration | note |\n|---|---|---|---|---|---|\n")
	for i, s := range r.Steps {
		start, dur := "", ""
		if s.Started != nil {
			start = "+" + roundDuration(s.Started.Sub(r.Started)).String()
			if s.Finished != nil {
				dur = roundDuration(s.Finished.Sub(*s.Started)).String()
			}
		}
		note := s.Note
		if s.Error != "" {
			note = strings.TrimSpace(note + " " + s.Error)
		}
		if len(s.Disrupts) > 0 {
			note = strings.TrimSpace(fmt.Sprintf("disrupts %s. %s", strings.Join(s.Disrupts, ","), note))
		}
		note = strings.NewReplacer("|", "\\|", "\r\n", "<br>", "\n", "<br>", "\r", "<br>").Replace(note)
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s | %s |\n", i+1, s.Name, s.Status, start, dur, note)
	}
	if len(r.PreChecks) > 0 {
		b.WriteString("\nPre-checks:\n\n")
		for _, pc := range r.PreChecks {
			if pc.Error == "" {
				fmt.Fprintf(&b, "- passed: %s\n", pc.Name)
			} else {
				fmt.Fprintf(&b, "- **failed**: %s: %s\n", pc.Name, strings.ReplaceAll(pc.Error, "\n", "; "))
			}
		}
	}
	if ids := memberIDs(r.InitialVersions, r.FinalVersions); len(ids) > 0 {
		b.WriteString("\n| member | version before | version after |\n|---|---|---|\n")
		for _, id := range ids {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", id, orDash(r.InitialVersions[id]), orDash(r.FinalVersions[id]))
		}
	}
	fmt.Fprintf(&b, "\nFailovers: %d\n", r.Failovers)
	if g := r.Mermaid(); g != "" {
		b.WriteString("\n```mermaid\n" + g + "```\n")
	}
	return b.String()
}

// memberIDs returns the sorted union of the maps' keys.
func memberIDs(ms ...map[string]string) []string {
	seen := map[string]bool{}
	var ids []string
	for _, m := range ms {
		for id := range m {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Mermaid returns the run's timeline as a Mermaid gantt chart (without the
// code fence): one section per member, holding the steps that disrupt it,
// and a "cluster" section for the other steps; one bar per step that ran,
// from its start to its end, in milliseconds from the run's start (the
// axis shows them as a clock from 00:00:00). Failed, refused and
// interrupted steps are marked crit. It is "" when no step ran.
func (r *Report) Mermaid() string {
	var b strings.Builder
	n := ganttSections(&b, r.Started, r.Finished, "", r.Steps)
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("gantt\n    title %s -> %s\n    dateFormat x\n    axisFormat %%H:%%M:%%S\n", mermaidText(r.Cluster), mermaidText(r.Target)) + b.String()
}

// ganttSections writes the bars of steps, grouped by the member they
// disrupt (prefix names the sections, e.g. the cluster in a rollout), with
// times relative to epoch; it returns the number of bars.
func ganttSections(b *strings.Builder, epoch, end time.Time, prefix string, steps []StepReport) int {
	bars := map[string][]string{}
	var order []string
	n := 0
	for _, st := range steps {
		if st.Started == nil {
			continue
		}
		fin := end
		if st.Finished != nil {
			fin = *st.Finished
		}
		tag := "done"
		switch st.Status {
		case StatusFailed, StatusRefused, StatusInterrupted:
			tag = "crit"
		case StatusPlanned:
			tag = "active"
		}
		lanes := st.Disrupts
		if len(lanes) == 0 {
			lanes = []string{"cluster"}
		}
		for _, lane := range lanes {
			if _, ok := bars[lane]; !ok {
				order = append(order, lane)
			}
			startMS, endMS := st.Started.Sub(epoch).Milliseconds(), fin.Sub(epoch).Milliseconds()
			bars[lane] = append(bars[lane], fmt.Sprintf("    %s :%s, %d, %d\n", mermaidText(st.Name), tag, startMS, max(endMS, startMS+1)))
			n++
		}
	}
	for _, lane := range order {
		name := lane
		if prefix != "" {
			name = prefix + " " + lane
		}
		fmt.Fprintf(b, "    section %s\n", mermaidText(name))
		for _, bar := range bars[lane] {
			b.WriteString(bar)
		}
	}
	return n
}

// mermaidText makes s safe as a Mermaid gantt title, section or task name:
// colons, semicolons and hashes end a name there, so they become spaces.
func mermaidText(s string) string {
	return strings.NewReplacer(":", " ", ";", " ", "#", " ", "\n", " ", "\r", " ").Replace(s)
}

// JSON returns the rollout report indented as JSON.
func (r *RolloutReport) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// Markdown renders the rollout for people: a summary table (one row per
// cluster: group, canary, status, versions before and after, failovers,
// duration, reason) and a Mermaid gantt timeline with one section per
// cluster member and one bar per step, failures marked crit.
func (r *RolloutReport) Markdown() string {
	var b strings.Builder
	verdict := "OK"
	if !r.OK {
		verdict = "FAILED"
	}
	done := 0
	for _, res := range r.Results {
		if res.Status == "done" {
			done++
		}
	}
	fmt.Fprintf(&b, "# Rollout report (%s)\n\n- %d of %d clusters done\n- started: %s\n- finished: %s (%s)\n\n",
		verdict, done, len(r.Results), r.Started.Format(time.RFC3339), r.Finished.Format(time.RFC3339), roundDuration(r.Finished.Sub(r.Started)))
	b.WriteString("| cluster | group | canary | status | versions before | versions after | failovers | duration | reason |\n|---|---|---|---|---|---|---|---|---|\n")
	cell := strings.NewReplacer("|", "\\|", "\n", "<br>", "\r", "")
	for _, res := range r.Results {
		before, after, dur, fo := "-", "-", "-", "-"
		if res.Report != nil {
			before, after = versionList(res.Report.InitialVersions), versionList(res.Report.FinalVersions)
			dur = roundDuration(res.Report.Finished.Sub(res.Report.Started)).String()
			fo = fmt.Sprint(res.Report.Failovers)
		}
		fmt.Fprintf(&b, "| %s | %s | %t | %s | %s | %s | %s | %s | %s |\n", cell.Replace(res.Cluster), cell.Replace(res.Group), res.Canary, res.Status, before, after, fo, dur, cell.Replace(res.Reason))
	}
	var g strings.Builder
	n := 0
	for _, res := range r.Results {
		if res.Report != nil {
			n += ganttSections(&g, r.Started, r.Finished, res.Cluster, res.Report.Steps)
		}
	}
	if n > 0 {
		b.WriteString("\n```mermaid\ngantt\n    title rollout\n    dateFormat x\n    axisFormat %H:%M:%S\n" + g.String() + "```\n")
	}
	return b.String()
}

// versionList renders member versions as "a=1.0, b=1.0", sorted by member.
func versionList(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	ids := memberIDs(m)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = id + "=" + orDash(m[id])
	}
	return strings.Join(parts, ", ")
}

// roundDuration keeps report durations readable: whole milliseconds above
// one millisecond, microseconds below.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}
