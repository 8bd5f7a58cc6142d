// Package clavister upgrades Clavister cOS Core HA pairs (also sold as D-Link
// NetDefendOS, Radisys SEG-100, Amer Networks E5Web) without downtime, over
// the CLI (SSH, package driver).
//
// # Model
//
// An HA pair has two units. The role of each (master or slave) is fixed by
// configuration; the state (ACTIVE, forwarding, or INACTIVE) changes at
// runtime, and there is no automatic fail-back: a recovered master only
// monitors an active slave (cOS Core Administration Guide, High
// Availability chapter). hitless talks to each unit through its OWN
// management address (the "IP4 HA address"), never the shared cluster IP,
// which is for routing only and follows whichever unit is active.
//
//   - [Config] describes the pair (unit names and addresses, credentials,
//     known_hosts, the .upg file); [Config.Validate] reports every problem.
//   - [New] opens one SSH session per unit and returns a [*Cluster]
//     (upgrade.Cluster, upgrade.PreChecker) whose members are [*Member]
//     values (upgrade.Member). A unit that does not answer (rebooting, when
//     a restarted process resumes) is reported down, not refused; a fresh
//     run's pre-checks refuse it.
//   - [Member.Status] reads `ha` and `about`; [Cluster.Observe] reads both
//     units and flags the pair's own problems: split brain, both INACTIVE
//     (Clavister KB 324735841), and a reset of the active unit's time in
//     state (an unplanned failover).
//   - [Cluster.Failover] runs `ha -deactivate` on the active unit.
//   - [Member.Stage] copies the .upg by SCP and verifies its size;
//     [Member.Apply] re-checks both units on the devices and sends the
//     apply command; [Member.Install] does both in one call.
//   - [Planner] turns a snapshot into the documented procedure (cOS Core
//     Administration Guide 14.00, "Upgrading an HA Cluster"): upgrade the
//     INACTIVE unit (stage, then install), wait until it is back and in
//     sync, fail over, upgrade the other unit, optionally restore the
//     roles, post-check; every plan carries its end state
//     (upgrade.Plan.Converged).
//
// # Use
//
//	c, err := clavister.New(ctx, cfg)            // typed errors name the unit
//	defer c.Close()
//	snap, err := c.Observe(ctx)
//	plan, err := clavister.Planner{Cluster: c, Journal: j}.Plan(snap, "14.00.10")
//	rep, err := (&upgrade.Executor{Journal: j}).Run(ctx, c, plan)
//
// Give the Planner the Executor's journal: after a process restart it tells
// when an interrupted install began, which settles whether the unit has
// rebooted since (see "Resuming an install" at [Planner]).
//
// # Safety
//
// The executor's availability guard refuses any step that would leave the
// pair without a forwarding unit; the failover steps are refused unless the
// unit taking over is upgraded, INACTIVE, sees its peer ALIVE and is in
// sync. The long upload is its own, non-disruptive stage step, so that the
// guard's verdict is taken right before the step that restarts a unit; and
// right before the apply command, with nothing sent in between, Apply reads
// `ha` on both units and restarts the unit only if the other one is ACTIVE,
// sees it ALIVE and is in sync (ErrPeerNotForwarding otherwise). The
// failover steps declare the failover (upgrade.FailoverDeclarer); no other
// step makes a forwarding unit stop forwarding. Configuration is never
// pushed during an upgrade: with the HA setting "Deactivate Before Reconf"
// (enabled by default, Administration Guide 15.00, HA Advanced Settings) a
// reconfiguration makes the active unit fail over.
//
// # Errors
//
// Failures on a unit are [*UnitError] values naming the unit, its address
// and the operation, wrapping the cause: driver errors (*driver.AuthError,
// *driver.HostKeyError, *driver.UnreachableError, *driver.CommandError,
// *driver.UploadError), [*ParseError] (errors.Is [ErrUnrecognized]), or a
// condition sentinel ([ErrPeerNotAlive], [ErrSyncIncomplete],
// [ErrUnexpectedVersion], [ErrUnplannedFailover], [ErrPeerNotForwarding],
// ...). Config problems are [*ConfigError] values; refused plans a
// [*PlanError] (upgrade.ErrInvalid); a run whose end state does not hold
// fails with upgrade.ErrNotConverged naming both units and their versions.
// Parsing fails closed: output that is not recognised makes a unit
// upgrade.RoleUnknown and unhealthy, never healthy. The password never
// appears in errors, logs or transcripts.
//
// # Unverified
//
// Sources: the cOS Core Administration Guides 14.00 and 15.00, the cOS Core
// REST API Guide 15.00, Clavister knowledge-base articles (cited by number)
// and the manuals of OEM builds; the captures this package parses are
// copied in its testdata directory. The following are not shown by any
// public source and must be checked on a lab unit before production use:
//
//   - the CLI step that applies an SCP-uploaded .upg (Config.ApplyCommand,
//     default "shutdown -reboot"), and the SCP target path (Config.RemoteDir);
//   - `ha -deactivate` and its output (the output is not parsed);
//   - the older INACTIVE wording and the peer-down wording of `ha`, and the
//     `about` output;
//   - whether `ls` prints file sizes (the public capture prints names only).
//     Stage verifies the uploaded size from the listing and refuses a
//     package it cannot size (ErrUploadUnverified) only when
//     Config.RequireUploadSize is set (by default SCP's acknowledgement is
//     trusted);
//   - the CLI error strings: the clavister_cos_core platform (draft) treats
//     a line starting with error, unknown command, invalid, failed or
//     usage: as a rejection;
//   - reboot durations (plan 10–15 min per unit: size Planner.GateTiming).
//
// # Backups
//
// No backup is taken. The Administration Guide asks for a full system
// backup (full.bak) of each unit before upgrading, but the documented ways
// to take one are the Web UI and InControl; no CLI or SCP command for it is
// documented, so [*Member] does not implement upgrade.BackerUp and
// [Cluster.PreCheck] does not check for one. Take full.bak of both units
// yourself before running a plan (never restore a config.bak made on a
// newer version onto an older one).
//
// Package clavistertest simulates a pair over SSH for tests and examples.
package clavister
