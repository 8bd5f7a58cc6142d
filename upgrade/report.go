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
	// FinalVersions maps member ID to the version observed at the end.
	FinalVersions map[string]string `json:"final_versions"`
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
	if len(r.FinalVersions) > 0 {
		b.WriteString("\nFinal versions:\n\n")
		ids := make([]string, 0, len(r.FinalVersions))
		for id := range r.FinalVersions {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			fmt.Fprintf(&b, "- %s: %s\n", id, r.FinalVersions[id])
		}
	}
	return b.String()
}

// roundDuration keeps report durations readable: whole milliseconds above
// one millisecond, microseconds below.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}
