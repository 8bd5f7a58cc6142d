// Package temporal runs hitless upgrades on Temporal: a cluster upgrade as
// a workflow with one activity per unit of work of its plan, and a fleet
// rollout as a workflow of child cluster upgrades. It is a separate Go
// module so that Temporal's dependency tree stays out of the core module.
//
// # No second implementation of the rules
//
// Every activity runs the core executor (upgrade.Executor): the workflow
// only decides what the executor runs next and keeps its journal in the
// Temporal history. An upgrade is
//
//   - PreCheck: build the cluster in the worker, observe, plan, and the
//     executor's dry run of the whole plan (validation, the fresh-run
//     pre-checks, the topology part of the availability guard);
//   - RunSteps for each step (or batch of grouped steps) in plan order:
//     the executor on a one-unit sub-plan whose journal already holds the
//     plan's record and the run's records, so it is in resume mode and
//     applies its rules to that unit: the guard right before a disruptive
//     step, the check after it, gates polled inside the activity, a
//     finished step skipped, an interrupted one verified before it is
//     redone;
//   - Converge: the executor's end-state check (Plan.Converged) on a plan
//     with no step and the real target.
//
// The journal of a RunSteps activity is its heartbeat: every record is
// heartbeated to the server before the executor goes on, so the start of
// a reboot is durable before the reboot is sent. When a worker dies mid
// step, the server retries the activity on another worker, which starts
// from the last heartbeat: the interrupted step is verified, never sent
// again blindly, and a finished disruptive step is never repeated.
//
// # Workers and credentials
//
// Workflow inputs name a cluster and a Registry entry; they never carry
// credentials. Workers register Builders (Clavister, Aviatrix, or any
// func building an upgrade.Cluster and upgrade.Planner) that resolve
// credentials in the worker process (Secret reads environment variables
// or files); the secrets are listed in Activities.Executor.Redact so that
// no error text brings them into the history.
//
// # Errors
//
// Typed hitless errors become non-retryable ApplicationErrors with one
// type per category (TypeUnsafe, TypeGateTimeout, TypeNeedsDecision,
// TypeAuth, …; see Classify); transport errors are retryable. A failed
// workflow's error carries its report (ReportFromError,
// RolloutReportFromError).
package temporal
