// Command temporal runs a fleet rollout of simulated clusters on Temporal:
// it starts an in-process Temporal server (SQLite in memory, 127.0.0.1),
// two simulated Clavister cOS Core HA pairs (SSH on 127.0.0.1) and a fake
// Aviatrix controller with its gateways (HTTPS on 127.0.0.1), a worker
// that builds those clusters with credentials it resolves itself, and a
// RolloutWorkflow: the canary pair first, an approval signal, then the
// rest, at most two clusters at once and one per pod. It prints the
// progress, the rollout report, the traffic probes' lost ticks and a check
// that no password reached the workflow histories.
//
// Exit codes: 0 every cluster upgraded with no probe tick lost, 1 not,
// 2 bad flags.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/aviatrix/aviatrixtest"
	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/clavister/clavistertest"
	"github.com/hitless/hitless/temporal"
	"github.com/hitless/hitless/upgrade"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/proto"
)

const (
	taskQueue       = "hitless-example"
	clavisterTarget = "14.00.10.00-31870"
	aviatrixTarget  = "6.6"
)

func main() {
	jsonOut := flag.Bool("json", false, "print the rollout report as JSON on stdout (progress goes to stderr)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: temporal [-json]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	out, progress := io.Writer(os.Stdout), io.Writer(os.Stdout)
	if *jsonOut {
		progress = os.Stderr
	}
	ok, err := run(out, progress, *jsonOut)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// probe is a traffic probe's figures.
type probe func() (lost, ticks int)

func run(out, progress io.Writer, jsonOut bool) (bool, error) {
	ctx := context.Background()
	fmt.Fprintln(progress, "Starting an in-process Temporal server (SQLite in memory, 127.0.0.1) ...")
	ts := temporaltest.NewServer()
	defer ts.Stop()

	dir, err := os.MkdirTemp("", "hitless-temporal-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)

	// The simulated devices. Their passwords go into the environment, as
	// a deployment would give them to the worker; the workflows never see
	// them.
	reg := &temporal.Registry{}
	var secrets []string
	probes := map[string]probe{}
	gates := clavister.Planner{GateTiming: upgrade.Timing{Interval: 50 * time.Millisecond, MinHealthy: 200 * time.Millisecond, Deadline: 20 * time.Second}}
	for i, name := range []string{"cos-ha-1", "cos-ha-2"} {
		sim, err := clavistertest.Start(clavistertest.Options{ListSizes: true,
			ApplyDelay: 100 * time.Millisecond, RebootDuration: time.Second, SyncDuration: 500 * time.Millisecond, ProbeEvery: 50 * time.Millisecond})
		if err != nil {
			return false, err
		}
		defer sim.Close()
		fw, err := sim.WriteFirmware(dir, clavisterTarget)
		if err != nil {
			return false, err
		}
		env := fmt.Sprintf("COS_HA_%d_PASSWORD", i+1)
		os.Setenv(env, sim.Password())
		// In the worker: the credential is resolved from the environment.
		password, err := temporal.Secret(env)
		if err != nil {
			return false, err
		}
		secrets = append(secrets, password)
		cfg := clavister.Config{Name: name, Username: sim.Username(), Password: password, KnownHostsFile: sim.KnownHostsFile(),
			FirmwarePath: fw, CommandTimeout: 10 * time.Second, ReconnectTimeout: time.Second, ApplyGrace: time.Second}
		for k, u := range sim.Units() {
			cfg.Units[k] = clavister.Unit{Name: u.Name(), Host: u.Host(), Port: u.Port()}
		}
		if err := reg.Register(name, temporal.Clavister(cfg, gates)); err != nil {
			return false, err
		}
		probes[name] = func() (int, int) { p := sim.Probe(); p.Stop(); return p.LostTicks(), p.Ticks() }
		fmt.Fprintf(progress, "Simulated cOS Core HA pair %s: %s at %s (ACTIVE), %s at %s, firmware %s\n", name,
			sim.Units()[0].Name(), sim.Units()[0].Addr(), sim.Units()[1].Name(), sim.Units()[1].Addr(), sim.Units()[0].Version())
	}
	opts := aviatrixtest.Options{ControllerVersion: "6.5.1922", Pairs: 2}
	aviatrixtest.Fast(&opts)
	fake, err := aviatrixtest.Start(opts)
	if err != nil {
		return false, err
	}
	defer fake.Close()
	avx := fake.ClientConfig()
	os.Setenv("AVX_PASSWORD", avx.Password)
	if avx.Password, err = temporal.Secret("AVX_PASSWORD"); err != nil {
		return false, err
	}
	secrets = append(secrets, avx.Password)
	if err := reg.Register("avx-prod", temporal.Aviatrix(avx, aviatrix.ClusterOptions{Name: "avx-prod", Waits: aviatrixtest.FastTiming()})); err != nil {
		return false, err
	}
	probes["avx-prod"] = func() (int, int) {
		for _, p := range fake.Probes() {
			p.Stop()
		}
		s := fake.ProbeSummary()
		return s.LostTicks, s.Ticks
	}
	fmt.Fprintf(progress, "Fake Aviatrix controller %s at %s with %d gateways in ActiveMesh pairs\n", fake.ControllerVersion(), fake.URL(), len(fake.GatewayNames()))

	// The worker: the workflows, and the activities that build the
	// clusters above and run them through the core executor.
	var mu sync.Mutex
	acts := &temporal.Activities{Registry: reg, Executor: upgrade.Executor{
		Redact: secrets,
		Retry:  upgrade.Retry{Attempts: 3, Initial: 200 * time.Millisecond, Max: 2 * time.Second},
		OnEvent: func(ev upgrade.Event) {
			switch ev.Kind {
			case upgrade.EventStepStart, upgrade.EventStepFinish, upgrade.EventStepSkip, upgrade.EventStepFail, upgrade.EventGuard, upgrade.EventStopped:
			default:
				return
			}
			mu.Lock()
			defer mu.Unlock()
			line := fmt.Sprintf("  %s %-9s %-12s %s", ev.Time.Format("15:04:05.000"), ev.Cluster, ev.Kind, ev.Step)
			if ev.Kind == upgrade.EventGuard {
				line += ": " + ev.Message
			}
			if ev.Err != "" {
				line += ": " + ev.Err
			}
			fmt.Fprintln(progress, line)
		}}}
	ts.NewWorker(taskQueue, func(r worker.Registry) { temporal.Register(r, acts) })

	in := temporal.RolloutInput{
		Targets: []temporal.RolloutTarget{
			{Cluster: "cos-ha-1", Version: clavisterTarget, Group: "pod-1"},
			{Cluster: "cos-ha-2", Version: clavisterTarget, Group: "pod-2"},
			{Cluster: "avx-prod", Version: aviatrixTarget, Group: "pod-1"},
		},
		MaxParallelClusters: 2, PerGroup: 1, Canaries: 1,
		ApproveRest: true, ApprovalTimeout: 2 * time.Minute,
		WindowEnd: time.Now().Add(10 * time.Minute),
		Activity:  temporal.ActivityOptions{HeartbeatTimeout: 5 * time.Second, RetryInterval: 200 * time.Millisecond},
	}
	c := ts.GetDefaultClient()
	const rolloutID = "rollout/example"
	wr, err := temporal.StartRollout(ctx, c, taskQueue, rolloutID, in)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(progress, "\nRollout workflow %s: canary cos-ha-1 first, then an approval signal, then the rest (2 at once, 1 per pod)\n", rolloutID)
	go func() {
		// The operator approves once the canary is done (here: as soon as
		// the rollout's history shows its child workflow completed).
		if waitChildDone(ctx, c, rolloutID, temporal.UpgradeWorkflowID("cos-ha-1", clavisterTarget)) {
			fmt.Fprintln(progress, "  canary done: sending the approval signal")
			_ = temporal.Approve(ctx, c, rolloutID, temporal.Approval{Approved: true, By: "example operator", Reason: "canary healthy"})
		}
	}()
	var rep upgrade.RolloutReport
	gctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	err = wr.Get(gctx, &rep)
	if err != nil {
		r, ok := temporal.RolloutReportFromError(err)
		if !ok {
			return false, err
		}
		rep = *r
		fmt.Fprintf(progress, "\nrollout did not complete (%s): %v\n", temporal.ErrorType(err), err)
	}
	if jsonOut {
		b, jerr := json.MarshalIndent(rep, "", "  ")
		if jerr != nil {
			return false, jerr
		}
		fmt.Fprintln(out, string(b))
	} else {
		fmt.Fprintln(out, "\n"+rep.Markdown())
	}

	good := err == nil && rep.OK
	fmt.Fprintln(progress, "Traffic probes:")
	for _, t := range in.Targets {
		lost, ticks := probes[t.Cluster]()
		fmt.Fprintf(progress, "  %-9s %d of %d ticks lost\n", t.Cluster, lost, ticks)
		good = good && lost == 0
	}
	n, leaks, herr := scanHistories(ctx, c, rolloutID, secrets)
	if herr != nil {
		return false, herr
	}
	fmt.Fprintf(progress, "Workflow histories: %d events read back, %d hold a password\n", n, leaks)
	return good && leaks == 0, nil
}

// waitChildDone long-polls the history of the rollout until its child
// childID completed (true) or failed, or the rollout closed (false).
func waitChildDone(ctx context.Context, c client.Client, rolloutID, childID string) bool {
	it := c.GetWorkflowHistory(ctx, rolloutID, "", true, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return false
		}
		if a := ev.GetChildWorkflowExecutionCompletedEventAttributes(); a != nil && a.GetWorkflowExecution().GetWorkflowId() == childID {
			return true
		}
		if a := ev.GetChildWorkflowExecutionFailedEventAttributes(); a != nil && a.GetWorkflowExecution().GetWorkflowId() == childID {
			return false
		}
	}
	return false
}

// scanHistories reads back the history of workflowID and of every child
// it started, and counts the events holding one of the secrets.
func scanHistories(ctx context.Context, c client.Client, workflowID string, secrets []string) (events, leaks int, err error) {
	seen := map[string]bool{}
	ids := []string{workflowID}
	for len(ids) > 0 {
		id := ids[0]
		ids = ids[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return events, leaks, err
			}
			events++
			raw, err := proto.Marshal(ev)
			if err != nil {
				return events, leaks, err
			}
			for _, s := range secrets {
				if bytes.Contains(raw, []byte(s)) {
					leaks++
				}
			}
			if a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes(); a != nil {
				ids = append(ids, a.GetWorkflowId())
			}
		}
	}
	return events, leaks, nil
}
