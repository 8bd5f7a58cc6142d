// Package clavistertest simulates a Clavister cOS Core HA pair over SSH, for
// tests and examples, the way net/http/httptest stands in for a server.
//
// [Start] runs two simulated units on 127.0.0.1 (internal/sshsim), each with
// its own SSH host key listed in a known_hosts file the [Pair] owns, and a
// state model shared by both: firmware version, role (master/slave, fixed),
// state (active/inactive), time in state, HA object sync, uploaded files,
// reboots. A traffic probe ([Pair.Probe]) records at every instant whether
// some unit forwards traffic, so tests can count lost probe ticks across a
// whole upgrade.
//
// # CLI
//
// The prompt is "<name>:/> ", the cOS Core shape ("Device:/>" by default).
// `ha` prints the shape of the cOS Core 14.00 Administration Guide's
// example (copied in package clavister's testdata/ha):
//
//	This device is a HA MASTER
//	This device is currently ACTIVE (will forward traffic)
//	This device has been active: 12 sec
//	HA cluster peer is ALIVE
//
// "INACTIVE (will not forward traffic)", "has been inactive" and "HA cluster
// peer is NOT ALIVE" are NOT in any capture (no public source shows the
// older inactive wording or the peer-down wording); they are the obvious
// mirror of the captured lines. The 14.00 capture has no sync line;
// this simulator adds "HA object sync: N%" only while N < 100 (after a unit
// returns from a reboot), so that sync progress is observable while a
// healthy pair prints exactly the captured shape. With Options.Wording
// "newer" the output follows the newer wording that the manuals of the OEM
// build Radisys SEG-100 and of cOS Stream describe (no capture): "This device is an HA MASTER", "This device is currently
// Active (for 1m 12s)", no time line, and always an "HA object sync: N%"
// line.
//
// The other commands:
//
//   - ha -deactivate on the active unit: it becomes inactive and the peer
//     active in one step (no probe gap). On the inactive unit, or when the
//     peer is not alive, it prints an "Error: ..." line and changes
//     nothing. ha -activate on the inactive unit mirrors it (the peer, if
//     up, becomes inactive in the same step); on the active unit it prints
//     an "Error: ..." line. On success both print nothing. The command
//     names and their output are not shown by any public page: drivers
//     must verify by polling ha on both units.
//   - about: "Clavister cOS Core <version>" plus a copyright line
//     (unverified: the real `about` output is not public).
//   - stats: the shape of the KB 309987444 capture (Uptime, Last Event,
//     CPU Load, Connections, ...). Uptime counts from the last boot; Last
//     Event names the last restart or firmware upgrade (wording modelled on
//     the REST example "Firmware upgrade request from WebUI by admin
//     (192.168.1.11)."); Connections is 2726 out of 128000 (figures of a
//     public cOS Core example) scaled by the unit's sync progress.
//   - ls: the root listing of the Amer Networks E5Web manual (an OEM build;
//     copied in package clavister's testdata/ls) plus the files uploaded
//     by SCP and not yet consumed, sorted, one name per line. With
//     Options.ListSizes, files print as "<name>  <size>": a HITLESS
//     ASSUMPTION, not a capture (no public listing shows sizes; the sizes of
//     the captured files are invented), which lets Install verify the size
//     of an upload.
//   - the apply command (Options.ApplyCommand, default "shutdown -reboot",
//     the full restart documented for D-Link NetDefendOS):
//     prints "Shutting down ...", then after ApplyDelay drops every session
//     and refuses connections for RebootDuration (sshsim.Server.Reboot).
//     The unit comes back on the version named by the last .upg uploaded
//     since its previous boot (older or newer; with an ApplyCommand
//     containing "{file}", e.g. "upgrade {file}", the file named in the
//     command, which must exist), inactive if its peer is
//     active, and its HA object sync climbs linearly from 0 to 100 % over
//     SyncDuration. A truncated or otherwise invalid package is ignored:
//     the unit comes back on its old version. Consumed .upg files disappear
//     from ls. If the rebooting unit was active, its peer takes over only
//     after FailoverGap, so the probe sees the outage a real upgrade avoids
//     by deactivating first. Which CLI command really applies an uploaded
//     .upg is not documented publicly.
//   - exit: closes the session.
//   - anything else: "Error: Unknown command: <command>" (the real error
//     strings are not documented).
//
// Uploads: `scp <file> <user>@<unit>:<path>` (the SCP sink of sshsim) stores
// the file under its name, whatever the target path; a Faults.CommandError
// entry for "scp" makes uploads fail. [Pair.WriteFirmware] writes a
// simulated .upg whose first line names its version; the unit reads the
// version back from the uploaded bytes.
//
// While a unit is down, its peer reports "HA cluster peer is NOT ALIVE".
// Time in state resets at every state change and at boot.
//
// # Faults
//
// [Faults] injects a restart that never comes back, a unit that comes back
// on its old version, a sync stuck below 100 %, a peer reported not alive on
// both units, error text ("Error: ...") or verbatim text (e.g. "usage: ...",
// "Failed to ...": wordings that are not documented) instead of a command's
// output, a garbled `ha` output (no "Error:" line), a truncated upload, and
// an active unit that fails while its peer receives the firmware
// (Faults.ActiveFailsDuringUpload, signalled by [Pair.ActiveFailed]).
//
// # Test hooks
//
// To act at an exact point instead of racing a timer: Options.BeforeCommand
// is called before a unit answers each command line; [Unit.HoldRestart]
// keeps a unit running after it acknowledged the apply command until
// released (which restarts it at once, e.g. from BeforeCommand, between
// two commands of one observation); [Unit.HoldReturn] keeps a rebooting
// unit down until released; [Unit.HoldSync] keeps a returned unit's HA
// object sync below 100 % until released.
//
// Everything listens on 127.0.0.1 only. Durations default to short values
// (see the Default* constants) suited to tests and examples.
package clavistertest
