// Package clavister upgrades Clavister cOS Core HA pairs (also sold as D-Link
// NetDefendOS, Radisys SEG-100, Amer Networks E5Web) without downtime, over
// the CLI (SSH, package driver).
//
// # Model
//
// An HA pair has two units. The role of each (master or slave) is fixed by
// configuration; the state (ACTIVE, forwarding, or INACTIVE) changes at
// runtime, and there is no automatic fail-back (clavister.md §1). hitless
// talks to each unit through its OWN management address (the "IP4 HA
// address"), never the shared cluster IP, which is for routing only and
// follows whichever unit is active (§1, §8.1).
//
//   - [Config] describes the pair (unit names and addresses, credentials,
//     known_hosts, the .upg file); [Config.Validate] reports every problem.
//   - [New] opens one SSH session per unit and returns a [*Cluster]
//     (upgrade.Cluster, upgrade.PreChecker) whose members are [*Member]
//     values (upgrade.Member). A unit that does not answer (rebooting, when
//     a restarted process resumes) is reported down, not refused; a fresh
//     run's pre-checks refuse it.
//   - [Member.Status] reads `ha` and `about`; [Cluster.Observe] reads both
//     units and flags split brain, both INACTIVE (KB 324735841), a peer not
//     ALIVE, and a reset of the active unit's time in state (an unplanned
//     failover, §8.8).
//   - [Cluster.Failover] runs `ha -deactivate` on the active unit.
//   - [Member.Install] copies the .upg by SCP and sends the apply command.
//   - [Planner] turns a snapshot into the documented procedure (§5; cOS Core
//     Administration Guide 14.00 ha_upgrades.html): upgrade the INACTIVE
//     unit, wait until it is back and in sync, fail over, upgrade the other
//     unit, optionally restore the roles, post-check.
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
// The executor's availability guard refuses any step that would leave the
// pair without a forwarding unit; the failover steps are refused unless the
// target unit is upgraded, INACTIVE, sees its peer ALIVE and is in sync.
// Configuration is never pushed during an upgrade (§6, §8.4: Deactivate
// Before Reconf would cause an extra failover).
//
// # Errors
//
// Failures on a unit are [*UnitError] values naming the unit, its address
// and the operation, wrapping the cause: driver errors (*driver.AuthError,
// *driver.HostKeyError, *driver.UnreachableError, *driver.CommandError,
// *driver.UploadError), [*ParseError] (errors.Is [ErrUnrecognized]), or a
// condition sentinel ([ErrPeerNotAlive], [ErrSyncIncomplete],
// [ErrUnexpectedVersion], [ErrUnplannedFailover], ...). Config problems are
// [*ConfigError] values; refused plans a [*PlanError] (upgrade.ErrInvalid).
// Parsing fails closed: output that is not recognised makes a unit
// upgrade.RoleUnknown and unhealthy, never healthy. The password never
// appears in errors, logs or transcripts.
//
// # Unverified
//
// Sources: the project's Clavister field notes (vendors/clavister.md, whose
// section numbers are cited as §N) and the captures in testdata/. These are not confirmed by any public capture and
// must be checked on a lab unit before production use (§9):
//
//   - the CLI step that applies an SCP-uploaded .upg (Config.ApplyCommand,
//     default "shutdown -reboot"), and the SCP target path (Config.RemoteDir);
//   - `ha -deactivate` and its output (§6; the output is not parsed);
//   - the older INACTIVE wording and the peer-down wording of `ha`, and the
//     `about` output (§3, §4);
//   - whether `ls` prints file sizes (the capture prints names only). Install
//     verifies the uploaded size from the listing and refuses to apply a
//     package it cannot size (ErrUploadUnverified) when
//     Config.RequireUploadSize is set (by default SCP's acknowledgement is trusted);
//   - the CLI error strings: the clavister_cos_core platform (draft) flags
//     the lines of §8.9 (a line starting with error, unknown command,
//     invalid, failed or usage:) as rejections;
//   - reboot durations (plan 10–15 min per unit: size Planner.GateTiming).
//
// # Backups
//
// No backup is taken. clavister.md §5 step 1 asks for a full system backup
// (full.bak) of each unit before upgrading, but the documented ways to take
// one are the Web UI and InControl; no CLI or SCP command for it is
// documented, so [*Member] does not implement upgrade.BackerUp and
// [Cluster.PreCheck] does not check for one. Take full.bak of both units
// yourself before running a plan (never restore a config.bak made on a
// newer version onto an older one, §8.6).
//
// Package clavistertest simulates a pair over SSH for tests and examples.
package clavister
