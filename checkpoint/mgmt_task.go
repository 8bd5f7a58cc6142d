package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/upgrade"
)

// Task status words of show-task (Check Point Management API Reference,
// show-task; the same four words are what Check Point's own Python and Go
// SDKs test). Any other word is treated as not successful.
const (
	TaskStatusInProgress         = "in progress"
	TaskStatusSucceeded          = "succeeded"
	TaskStatusFailed             = "failed"
	TaskStatusPartiallySucceeded = "partially succeeded"
)

// Task is one entry of a show-task reply read with details-level "full"
// (Check Point Management API Reference, show-task).
type Task struct {
	// ID is "task-id".
	ID string `json:"task-id"`
	// Name is "task-name", e.g. "Policy installation - Standard",
	// "Publish operation".
	Name string `json:"task-name"`
	// Status is "status": one of the TaskStatus words, or a word this
	// package does not know (treated as not successful).
	Status string `json:"status"`
	// Progress is "progress-percentage", 0 to 100.
	Progress int `json:"progress-percentage"`
	// Suppressed is "suppressed".
	Suppressed bool `json:"suppressed"`
	// Comments is "comments".
	Comments string `json:"comments,omitempty"`
	// ProgressDescription is "progress-description".
	ProgressDescription string `json:"progress-description,omitempty"`
	// Details are the "task-details" entries as sent: per gateway for
	// install-policy (read them with GatewayResults), the platform for
	// get-platform, the publish response for publish.
	Details []json.RawMessage `json:"task-details,omitempty"`
}

// Done reports whether the task has left "in progress".
func (t Task) Done() bool { return t.Status != TaskStatusInProgress }

// decodeMgmtTask decodes one show-task entry; a missing task-id or status
// is an error.
func decodeMgmtTask(raw json.RawMessage) (Task, error) {
	var t Task
	if err := json.Unmarshal(raw, &t); err != nil {
		return Task{}, fmt.Errorf("task does not decode: %v", err)
	}
	if t.ID == "" || t.Status == "" {
		return Task{}, fmt.Errorf("task has no task-id or no status")
	}
	return t, nil
}

// ShowTask reads a task (command show-task with task-id and details-level
// "full"). A read: retried. A reply without the task matches ErrNotFound;
// an undecodable one ErrMgmtProtocol.
func (c *MgmtClient) ShowTask(ctx context.Context, id string) (Task, error) {
	if err := mgmtNonEmpty("show-task", "id", id); err != nil {
		return Task{}, err
	}
	raw, err := c.call(ctx, "show-task", map[string]any{"task-id": id, "details-level": "full"}, mgmtOpts{})
	if err != nil {
		return Task{}, err
	}
	var r struct {
		Tasks []json.RawMessage `json:"tasks"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return Task{}, &APIError{Command: "show-task", HTTPStatus: http.StatusOK, Server: c.server, Message: "reply does not decode", Protocol: true}
	}
	for _, e := range r.Tasks {
		t, err := decodeMgmtTask(e)
		if err != nil {
			return Task{}, &APIError{Command: "show-task", HTTPStatus: http.StatusOK, Server: c.server, Message: err.Error(), Protocol: true}
		}
		if t.ID == id {
			return t, nil
		}
	}
	return Task{}, fmt.Errorf("%w: show-task: task %s is not in the reply", ErrNotFound, id)
}

// WaitTask polls show-task with upgrade.PollUntil and t (the first poll at
// once, then every t.Interval, giving up at t.Deadline; t.MinHealthy
// should be 0) until the task's status is no longer "in progress", and
// returns the task. While it waits it sends keepalive at least every half
// session timeout (SessionTimeout), so a long policy installation does not
// outlive the session; a session rejected meanwhile is replaced by one
// login and the wait goes on.
//
// Outcomes:
//   - "succeeded" and "partially succeeded": the task, nil error. A
//     partial success is not an error here because an MVC upgrade expects
//     it (the member still on the old version fails its install): read
//     Task.GatewayResults and decide per gateway.
//   - "failed": the task and a *TaskError matching ErrTaskFailed with the
//     task's messages.
//   - any other status word: the task and a *TaskError matching
//     ErrTaskFailed (not known to be success).
//   - still "in progress" at the deadline, or never readable until then:
//     the last task read and a *TaskError matching ErrTaskTimeout (and
//     upgrade.ErrGateTimeout), returned exactly at the deadline.
//   - a failure that waiting cannot fix (ErrNotFound, ErrAuth, a
//     certificate problem, a session rejected again after a new login):
//     returned at once, wrapped.
//   - ctx ended: its error, wrapped.
//
// Transient read failures (transport, 5xx) are retried by show-task
// itself and then by the next poll.
func (c *MgmtClient) WaitTask(ctx context.Context, id string, t upgrade.Timing) (Task, error) {
	if err := mgmtNonEmpty("show-task", "id", id); err != nil {
		return Task{}, err
	}
	if err := t.Validate(); err != nil {
		return Task{}, fmt.Errorf("%w: WaitTask timing: %w", ErrMgmtConfig, err)
	}
	kctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.keepaliveLoop(kctx)
	}()
	defer func() {
		stop()
		wg.Wait()
	}()

	var (
		last    Task
		seen    bool
		permErr error
	)
	err := upgrade.PollUntil(ctx, "checkpoint task "+id, t, func(pctx context.Context) error {
		task, err := c.ShowTask(pctx, id)
		if err != nil {
			if !mgmtTransient(err) && pctx.Err() == nil {
				permErr = err
				return fmt.Errorf("%w: %w", upgrade.ErrPermanent, err)
			}
			return err
		}
		last, seen = task, true
		if !task.Done() {
			return fmt.Errorf("task %s %s (%d%%)", id, task.Status, task.Progress)
		}
		return nil
	}, nil)
	switch {
	case err == nil:
	case permErr != nil:
		return last, fmt.Errorf("checkpoint: mgmt wait for task %s: %w", id, permErr)
	case errors.Is(err, upgrade.ErrGateTimeout):
		te := &TaskError{ID: id, Deadline: t.Deadline, Err: ErrTaskTimeout, Last: err}
		if seen {
			te.Name, te.Status, te.Progress = last.Name, last.Status, last.Progress
		}
		return last, te
	default:
		return last, fmt.Errorf("checkpoint: mgmt wait for task %s: %w", id, err)
	}
	switch last.Status {
	case TaskStatusSucceeded, TaskStatusPartiallySucceeded:
		return last, nil
	}
	return last, &TaskError{ID: id, Name: last.Name, Status: last.Status, Progress: last.Progress, Messages: last.Messages(), Err: ErrTaskFailed}
}

// keepaliveLoop sends keepalive whenever half the session timeout has
// passed since the last login or keepalive, until ctx ends.
func (c *MgmtClient) keepaliveLoop(ctx context.Context) {
	var retryAt time.Time
	for {
		c.mu.Lock()
		ttl := c.ttlLocked()
		due := c.lastAlive.Add(ttl / 2)
		if c.sid.empty() || c.lastAlive.IsZero() {
			due = time.Now().Add(ttl / 2) // the first poll logs in
		}
		c.mu.Unlock()
		if retryAt.After(due) {
			due = retryAt
		}
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue // re-read: a login or keepalive may have moved the due time
		}
		if err := c.Keepalive(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.WarnContext(ctx, "checkpoint: mgmt keepalive failed", "error", err.Error())
			retryAt = time.Now().Add(max(ttl/10, time.Second))
		}
	}
}

// Messages returns the task's messages for a report: comments, and per
// task-details entry its statusDescription, fault-message and the
// messages of stages of type "err" (prefixed with the gateway's name when
// the entry names one). Entries that do not decode are skipped.
func (t Task) Messages() []string {
	var out []string
	if s := strings.TrimSpace(t.Comments); s != "" {
		out = append(out, s)
	}
	for _, raw := range t.Details {
		var d mgmtDetail
		if json.Unmarshal(raw, &d) != nil {
			continue
		}
		prefix := ""
		if n := d.name(); n != "" {
			prefix = n + ": "
		}
		for _, m := range append(d.errMessages(), mgmtDeref(d.StatusDescription), mgmtDeref(d.FaultMessage)) {
			if m = strings.TrimSpace(m); m != "" {
				out = append(out, prefix+m)
			}
		}
	}
	return out
}

func mgmtDeref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// mgmtDetail is the shape of an install-policy task-details entry, as far
// as public sources show it: gatewayId, gatewayName, statusCode,
// statusDescription, fault-message and stagesInfo[] with type, stage and
// messages[] of {type, message}.
type mgmtDetail struct {
	GatewayID         *string         `json:"gatewayId"`
	GatewayName       *string         `json:"gatewayName"`
	StatusCode        *string         `json:"statusCode"`
	StatusDescription *string         `json:"statusDescription"`
	FaultMessage      *string         `json:"fault-message"`
	StagesInfo        []mgmtStageInfo `json:"stagesInfo"`
}

type mgmtStageInfo struct {
	Type     string `json:"type"`
	Stage    string `json:"stage"`
	Messages []struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"messages"`
}

func (d mgmtDetail) name() string {
	if n := mgmtDeref(d.GatewayName); n != "" {
		return n
	}
	return mgmtDeref(d.GatewayID)
}

// errMessages returns the messages of err stages and err messages.
func (d mgmtDetail) errMessages() []string {
	var out []string
	for _, s := range d.StagesInfo {
		for _, m := range s.Messages {
			if s.Type == "err" || m.Type == "err" {
				msg := strings.TrimSpace(m.Message)
				if s.Stage != "" {
					msg = s.Stage + ": " + msg
				}
				out = append(out, msg)
			}
		}
		if s.Type == "err" && len(s.Messages) == 0 {
			out = append(out, strings.TrimSpace(s.Stage+": error"))
		}
	}
	return out
}

// GatewayResult is one gateway's (or cluster member's) outcome of an
// install-policy task, read from its task-details entry.
type GatewayResult struct {
	// GatewayID is "gatewayId" (the object's UID); may be "" when
	// GatewayName is set.
	GatewayID string `json:"gateway_id,omitempty"`
	// GatewayName is "gatewayName"; may be "" when GatewayID is set.
	GatewayName string `json:"gateway_name,omitempty"`
	// Status is "statusCode" as sent, e.g. "succeeded" or "failed"; ""
	// when the entry has none.
	Status string `json:"status,omitempty"`
	// Description is "statusDescription".
	Description string `json:"description,omitempty"`
	// FaultMessage is "fault-message".
	FaultMessage string `json:"fault_message,omitempty"`
	// Errors are the messages of stages (or messages) of type "err",
	// prefixed with the stage name.
	Errors []string `json:"errors,omitempty"`
	// Succeeded is true only when nothing in the entry reports a failure
	// (no err stage, no fault-message, Status not "failed" or "partially
	// succeeded") and success is positively stated: Status "succeeded",
	// or, when the entry has no statusCode, the whole task "succeeded".
	// An unknown Status word is not success.
	Succeeded bool `json:"succeeded"`
}

// Name returns GatewayName, or GatewayID when there is no name.
func (g GatewayResult) Name() string {
	if g.GatewayName != "" {
		return g.GatewayName
	}
	return g.GatewayID
}

// GatewayResults returns the per-gateway outcome of a finished
// install-policy task, one entry per task-details entry, read from each
// entry's statusCode, statusDescription, fault-message and stagesInfo
// (never from the task-level status alone: a "partially succeeded" task
// says which gateways failed only there). Public sources show these
// fields (the management API's show-task output as operators' scripts and
// Check Point's Terraform provider read it) but no vendor sample lists
// statusCode's words, so a result counts as success only as
// GatewayResult.Succeeded says.
//
// It fails closed, with an error matching ErrMgmtProtocol: a task still in
// progress, no task-details, an entry that is not an object, names no
// gateway (neither gatewayId nor gatewayName) or has fields of the wrong
// type.
func (t Task) GatewayResults() ([]GatewayResult, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: task %s: %s", ErrMgmtProtocol, t.ID, fmt.Sprintf(format, args...))
	}
	if !t.Done() {
		return nil, fail("still in progress: no final per-gateway result")
	}
	if len(t.Details) == 0 {
		return nil, fail("no task-details: no per-gateway result")
	}
	out := make([]GatewayResult, 0, len(t.Details))
	for i, raw := range t.Details {
		var d mgmtDetail
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fail("task-details[%d] does not decode: %v", i, err)
		}
		if mgmtDeref(d.GatewayID) == "" && mgmtDeref(d.GatewayName) == "" {
			return nil, fail("task-details[%d] names no gateway (no gatewayId or gatewayName)", i)
		}
		g := GatewayResult{GatewayID: mgmtDeref(d.GatewayID), GatewayName: mgmtDeref(d.GatewayName), Status: mgmtDeref(d.StatusCode),
			Description: mgmtDeref(d.StatusDescription), FaultMessage: mgmtDeref(d.FaultMessage), Errors: d.errMessages()}
		failed := len(g.Errors) > 0 || strings.TrimSpace(g.FaultMessage) != "" ||
			g.Status == TaskStatusFailed || g.Status == TaskStatusPartiallySucceeded
		positive := g.Status == TaskStatusSucceeded || (g.Status == "" && t.Status == TaskStatusSucceeded)
		g.Succeeded = !failed && positive
		out = append(out, g)
	}
	return out, nil
}
