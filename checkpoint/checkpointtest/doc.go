// Package checkpointtest simulates a Check Point ClusterXL High
// Availability cluster (gateway mode, or a VSX cluster with Virtual
// Systems) over SSH, for tests and examples, the way net/http/httptest
// stands in for a server.
//
// [Start] runs N members (2..8), each its own SSH server on 127.0.0.1 with
// its own ed25519 host key, all listed in a known_hosts file the [Sim] owns
// ([Sim.KnownHostsFile], [Sim.HostKeyCallback]). Every member accepts the
// same login user and password; Clish `expert` asks for a separate expert
// password. The state model keeps per member: release, build and Jumbo
// take, host name and member ID, its own view of the cluster states
// (ACTIVE, ACTIVE(!), STANDBY, READY, DOWN, LOST), MVC on/off, the policy
// installed and the release it was compiled for, CoreXL instances, cluster
// interfaces, failover counter and last events, clusterXL_admin state,
// uploaded files and the CPUSE repository. A traffic probe ([Sim.Probe],
// [Sim.ProbeSummary]) records at every instant whether some member is up
// and ACTIVE (with or without an attention flag), and [Sim.Failovers]
// counts the moves of the ACTIVE role.
//
// # Cluster model
//
// Member 1 starts ACTIVE, the others STANDBY (High Availability, Active
// Up: no preemption). The members on the lowest release among the members
// that are up form the cluster. A member rebooted onto a newer release
// shows READY in its own view, and the old members see it LOST (or, with
// Options.LostPeersUnlisted, do not list it), until MVC is on on it AND a
// policy compiled for its release was installed on it ([Sim.PolicyInstalled]);
// then it joins as STANDBY in every view. [Sim.PolicyResult] tells a
// management fake whether an install-policy would succeed on a member in
// the current mixed state. A CoreXL layout that differs from the ACTIVE's
// also keeps a member READY. The ACTIVE member shows ACTIVE(!) (Active
// PNOTEs: IAC) while it sees a peer LOST.
//
// clusterXL_admin down (Clish: set cluster member admin down) on the ACTIVE
// member makes it DOWN (Active PNOTEs: ADMIN) and the lowest-ID STANDBY
// ACTIVE in the same instant: no probe tick is lost, the failover counter
// and the "Last cluster failover event" block (Reason "ADMIN_DOWN PNOTE")
// appear on every member. clusterXL_admin up brings it back as STANDBY. When
// no other member can take over, the member stays ACTIVE(!) and forwards
// (the ClusterXL Administration Guide's rule for a problem on the last
// member; that admin down follows it is UNVERIFIED). A member that
// disappears without handing over (reboot, failure) leaves the cluster
// without ACTIVE member for Options.FailoverGap, then the next takes over
// (Reason "Reboot"). A member's failover counter and events restart when it
// boots; clusterXL_admin down without -p does not survive a reboot; MVC
// does.
//
// # Commands and where their output comes from
//
// Clish (prompt "host> ", VSX "host:N> "): show cluster state, show
// cluster members mvc, set cluster member mvc on|off, set cluster member
// admin down|up [permanent], show version all, show installer packages
// installed|imported, lock database override, installer import local
// <file>, installer verify <pkg>, installer upgrade|install <pkg>
// [not-interactive], set clienv rows N, set virtual-system N (VSX),
// reboot, expert, exit; the extended commands cphaprob, fw, cpinfo and vsx
// run as in Expert mode. Expert mode (prompt "[Expert@host:N]# "): cphaprob
// state|stat, cphaprob -a if, cphaprob mvc, cphaconf mvc on|off,
// clusterXL_admin down|up [-p], fw ver, fw ctl multik stat, cpinfo -y all,
// vsx stat -v, dynamic_balancing -p, vsenv [N], bash -lc '...', bash -c
// '...', sh -c '...', clish -c "...", cat, cp, grep, ls -l, echo (with > and
// >>, $FWDIR, $CPDIR, $?), true, false, reboot, exit (back to Clish).
// Commands may be joined with &&, || and ;, and piped into grep or head.
// `vsenv` is a shell function: it works at the Expert prompt and under
// bash -lc, and fails with "<shell>: vsenv: command not found" under sh -c
// and bash -c, as on the device. An interactive shell reports no exit
// status; read it with `echo $?`.
//
// Copied in shape from real captures (same columns, spacing, headers, blank
// lines): cphaprob state / show cluster state (a Clish R82 capture for the
// layout, the Last member state change event and the Cluster failover count
// blocks; an R8x Expert capture for the Last cluster failover event block
// and the two trailing blank lines), cphaprob -a if (the per-interface
// layout of sk20576 and the R80.20 ClusterXL Administration Guide, with the
// virtual interface rows of the Quantum Spark R82.00.X guide), fw ver (an
// R81.20 capture), show version all (an R81.10 capture), cpinfo -y all (an
// R81.20 capture; TAB-indented as on devices), show installer packages
// installed (an R82 lab listing with a Status column), vsx stat -v (an
// R80.10 VSX capture) and its non-VSX text "VSX is not supported on this
// platform" (exit status 0), the CLINFR0771 config-lock notice at login
// when another session holds the lock (a capture), CLINFR0329 "Invalid
// command" for unknown Clish commands, and "-bash: x: command not found" in
// Expert mode. The event codes CLUS-114904 (ACTIVE(!) -> ACTIVE) and
// CLUS-114802 (-> STANDBY) and their reasons are copied from captures.
//
// INVENTED (UNVERIFIED, no public capture): the output of cphaprob mvc
// ("MVC: On" / "MVC: Off") and show cluster members mvc ("Multi-Version
// Cluster: enabled" / "disabled"); the console text of installer import,
// verify, upgrade and install, their questions and their "Error: ..."
// refusals; show installer packages imported (status words, the Major
// section); the clusterXL_admin output; the expert password banner ("You
// are in expert mode now.") and "Wrong password."; "CLINFR0349  Incomplete
// command."; the CLINFR0519 lock refusal wording; the "-- More --" pager
// and the default page length; the other event codes and reasons; the
// Active PNOTEs names IAC, COREXL and VSX (ADMIN is what the project
// expects for admin down, also unverified); the cpinfo section list of a
// gateway; vsenv's "Context is set to Virtual Device ..."; the
// "<Not Loaded>" row of an unloaded Virtual System; dynamic_split.conf's
// default content; dynamic_balancing -p and fw ctl multik stat; the R82
// kernel string; the build numbers other than those named in [BuildOf].
//
// # Configuration lock and paging
//
// The first Clish session takes the configuration lock; a later session
// sees the CLINFR0771 notice before its first prompt, and its configuration
// commands (set cluster member ..., installer ...) fail with CLINFR0519
// until it runs `lock database override`. A new Clish session on a PTY
// pages outputs longer than Options.ClishRows lines at "-- More --" (a
// typed line shows the next page, "q" quits) until `set clienv rows 0`.
//
// # Packages, uploads and upgrades
//
// [WritePackage] writes a simulated CPUSE package (a major upgrade, a Blink
// image with an embedded take, or a Jumbo). Upload it by SCP (the sshsim
// SCP sink stores it at the target path, e.g. /var/log/upload/<name>), then
// `installer import local <path>` returns at once and the package is listed
// as imported only after Options.ImportDuration. `installer
// upgrade|install <pkg> not-interactive` prints its output, then after
// Options.ApplyDelay the member reboots: every session is dropped,
// connections are refused for Options.RebootDuration, and it comes back on
// the package's release, build and take. On VSX, a Jumbo installed on
// R81.20 after a major upgrade from an older release turns CoreXL Dynamic
// Balancing on (a CoreXL mismatch: READY) unless OFF_BY_DEFAULT_ON_VSX=1 was
// added to $FWDIR/conf/dynamic_split.conf first (the PMTR-114499 trap).
//
// # Faults
//
// [Faults] injects an import that never finishes, a member that stays
// READY after MVC and policy, an MVC setting whose read-back stays Off, a
// Virtual System not loaded after a reboot (VSX), an ACTIVE member that
// fails while its peer reboots into an upgrade ([Sim.PeerLost]), a member
// that comes back on its old version, a reboot that never ends, error text
// instead of a command's output (also for SCP uploads), and slow responses.
// [Member.Reboot], [Member.Fail], [Member.SetInterfaceUp],
// [Member.SetCoreXL] and [Member.SetVSLoaded] change the state directly.
//
// Waiting: [Sim.Wait] and [Sim.Changed] wake on every change of the model,
// so tests need no sleeps. Everything listens on 127.0.0.1 only. Durations
// default to short values (see the Default* constants).
package checkpointtest
