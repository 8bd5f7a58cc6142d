package upgrade

import (
	"context"
	"log/slog"
	"time"
)

// EventKind names what happened.
type EventKind string

// The event kinds an Executor emits, in the order they usually occur.
const (
	EventPlan       EventKind = "plan"        // the plan about to run (Message = rendered plan)
	EventPreCheck   EventKind = "precheck"    // one pre-check's outcome
	EventResume     EventKind = "resume"      // a journal was found; Message says how much was done
	EventStepStart  EventKind = "step-start"  // a step begins (Attempt counts from 1)
	EventStepRetry  EventKind = "step-retry"  // an idempotent step failed and will be retried
	EventStepFinish EventKind = "step-finish" // a step succeeded
	EventStepSkip   EventKind = "step-skip"   // a step was already done (journal or verify)
	EventStepFail   EventKind = "step-fail"   // a step failed for good
	EventGatePoll   EventKind = "gate-poll"   // one poll of a health gate
	EventGuard      EventKind = "guard"       // the availability guard's verdict for a disruptive step
	EventCheck      EventKind = "check"       // the check after a step: who forwards, or the disruption that stops the run
	EventStopped    EventKind = "stopped"     // the run stopped at a safe point
	EventDone       EventKind = "done"        // the run ended (Err empty on success)
)

// Event is one thing the executor did or saw. Events carry no secrets: they
// are built from step IDs, member IDs and error texts produced by vendor
// packages, which redact credentials.
type Event struct {
	// Time is when it happened.
	Time time.Time `json:"time"`
	// Cluster is the plan's cluster.
	Cluster string `json:"cluster"`
	// Kind says what happened.
	Kind EventKind `json:"kind"`
	// Step is the step's ID, when the event is about one.
	Step string `json:"step,omitempty"`
	// Attempt counts a step's tries from 1.
	Attempt int `json:"attempt,omitempty"`
	// Poll counts a gate's polls from 1.
	Poll int `json:"poll,omitempty"`
	// Message is a human sentence (the rendered plan for EventPlan).
	Message string `json:"message,omitempty"`
	// Err is the error text, empty on success.
	Err string `json:"error,omitempty"`
}

func (ev Event) log(ctx context.Context, l *slog.Logger) {
	lvl := slog.LevelInfo
	switch {
	case ev.Kind == EventGatePoll:
		lvl = slog.LevelDebug
	case ev.Err != "":
		lvl = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("cluster", ev.Cluster), slog.String("kind", string(ev.Kind))}
	if ev.Step != "" {
		attrs = append(attrs, slog.String("step", ev.Step))
	}
	if ev.Attempt > 0 {
		attrs = append(attrs, slog.Int("attempt", ev.Attempt))
	}
	if ev.Poll > 0 {
		attrs = append(attrs, slog.Int("poll", ev.Poll))
	}
	if ev.Err != "" {
		attrs = append(attrs, slog.String("error", ev.Err))
	}
	l.LogAttrs(ctx, lvl, ev.Message, attrs...)
}
