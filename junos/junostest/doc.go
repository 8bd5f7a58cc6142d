// Package junostest simulates a Juniper vSRX chassis cluster over SSH, for
// tests and examples, the way net/http/httptest stands in for a server.
//
// [Start] runs two nodes, node0 and node1, each its own SSH server on
// 127.0.0.1 (internal/sshsim) with its own ed25519 host key, listed in a
// known_hosts file the [Sim] owns ([Sim.KnownHostsFile]). Both nodes share
// one state model: per node the running Junos release, a pending install,
// host name, files in /var/tmp, /var storage, monitor failures, disabled
// and down (rebooting) flags; per redundancy group (RG0, RG1, optionally
// RG2) the primary node, the manual-failover flag and the failover count;
// the control and fabric links; and one committed configuration (shared, as
// a chassis cluster synchronises it). Priorities and preempt are read from
// that configuration, so changing them in configuration mode changes the
// cluster's behaviour.
//
// A traffic probe ([Sim.Probe], an upgradetest.Probe) records at every
// instant whether the data plane forwards: every data redundancy group
// (RG1 and up) has a primary node that is up and not disabled. A manual
// failover moves a group in one step (no lost tick); a primary node that
// reboots or fails leaves its groups without a primary for
// Options.FailoverGap. [Sim.Failovers] counts failovers per group.
// [Sim.WaitFor] and [Sim.Changed] let tests wait for a state without
// polling or sleeping.
//
// # Prompt and banner
//
// After login a shell prints "--- JUNOS <version> Kernel 64-bit
// JNPR-12.1-20230221.1ed3d4e_buil" (UNVERIFIED wording), then the banner
// line and the prompt. After every command Junos prints a blank line, the
// banner line "{<RG0 state>:<node>}" (e.g. "{primary:node0}",
// "{secondary-hold:node0}", "{disabled:node1}") and the prompt
// "<user>@<host-name>> "; in configuration mode the banner line carries
// the context, "{primary:node0}[edit]", and the prompt ends in "# ". This
// is the Junos chassis cluster shape (captures of vSRX 15.x-19.x end with
// the banner line). The login user lands directly in the CLI; a real root
// login lands in the FreeBSD shell and needs `cli` (not simulated).
//
// Commands are full words: abbreviations ("sh ver") are not accepted.
// Pipes: "| no-more" (no effect: there is no paging), "| display xml"
// (cluster status, version, storage), "| display set" (configuration),
// "| compare" (configuration mode show), "| match <regexp>", "| except
// <regexp>", "| count". A rejected command prints a caret under the
// offending word and "unknown command.", "syntax error, expecting
// <command>.", "syntax error.", "invalid numeric value: 'x'." or "missing
// mandatory argument." (shape of the Junos CLI; exact wording UNVERIFIED);
// refusals print "error: <text>".
//
// # Operational commands
//
//   - show chassis cluster status [redundancy-group N] [| display xml]: the
//     text shape of a vSRX 19.x capture: the "Monitor Failure codes:"
//     legend with the RE and IS codes (4-space indented, as in a raw
//     ntc-templates capture), "Cluster ID: N", the column header "Node
//     Priority Status Preempt Manual Monitor-failures", and per group
//     "Redundancy group: N , Failover count: M" and one row per node in
//     fixed columns ("node0  100      primary              no      no
//     None"). The view is the local node's: a peer that is down, or any peer
//     while the control link is down, is "lost" with priority 0 and "n/a".
//     Priority is 0 for a disabled node, a node with monitor failures, and
//     in RG1 and up while a node cold-syncs (Monitor-failures "CS"); 255
//     for the target of a manual failover (Manual "yes" on both rows until
//     the reset). Several monitor failure codes are separated by spaces
//     (UNVERIFIED). The XML has the element names and nesting of SRX
//     12.3X48 and high-end captures: rpc-reply, chassis-cluster-status,
//     cluster-id, then per group cluster-id, redundancy-group-id,
//     redundancy-group-failover-count and a flat device-stats list
//     (device-name, device-priority, redundancy-group-status, preempt,
//     failover-mode, monitor-failures per node), and a trailing
//     <cli><banner>.
//   - show chassis cluster interfaces: control link, fabric links, reths,
//     lo0 and monitored interfaces with Up/Down states. No capture: the
//     layout is UNVERIFIED.
//   - show version [| display xml]: one "node0:" / "node1:" section per
//     visible node, each a dashed line, "Hostname:", "Model: vsrx",
//     "Junos: <version>" and the package lines of an SRX1500 19.4 cluster
//     capture (build stamps invented). The XML follows an SRX4100 cluster
//     capture: multi-routing-engine-results / multi-routing-engine-item
//     {re-name, software-information {host-name, product-model,
//     product-name, junos-version, package-information}}.
//   - show system storage [no-forwarding] [| display xml]: per node section,
//     the header and columns of a FreeBSD 11 based Junos capture
//     ("Filesystem Size Used Avail Capacity Mounted on"; sizes as df -h,
//     1024-based), with that capture's file systems; /dev/gpt/var on
//     /.mount/var holds /var/tmp and its usage follows the files there.
//     The XML follows an 18.2R1 capture: system-storage-information
//     junos:style="brief" with filesystem {filesystem-name, total-blocks,
//     used-blocks, available-blocks (512-byte blocks with a junos:format
//     attribute), used-percent, mounted-on}, one per node inside
//     multi-routing-engine-items. The per-node sections are UNVERIFIED.
//   - show system alarms, show chassis alarms: per node "No alarms
//     currently active" or a count and a table (UNVERIFIED layout).
//   - show system commit: "0   2024-01-10 12:00:00 UTC by root via cli",
//     newest first (UNVERIFIED layout).
//   - show configuration [path] [| display set]: the committed
//     configuration in curly-brace form (with "## Last commit: ..." for the
//     whole configuration) or as "set" lines followed by "deactivate" lines;
//     [Sim.Configuration] returns the latter.
//   - file list [detail] /var/tmp[/<name>], file show, file copy (between
//     /var/tmp of both nodes: "node1:/var/tmp/"), file delete. Layouts
//     UNVERIFIED.
//   - request system software add /var/tmp/<pkg> [no-copy] [no-validate]
//     [reboot] [unlink]: on success the validation messages of an SRX550M
//     15.1X49 capture ("NOTICE: Validating configuration against ...",
//     "Validating against /config/juniper.conf.gz", "mgd: commit complete",
//     "Validation succeeded", once per configuration file), then either the
//     modern "NOTICE: 'pending' set will be activated at next reboot..."
//     and "WARNING: A reboot is required to install the software" (default,
//     [AddPendingSet]) or the legacy "JUNOS <version> will become active at
//     next reboot" and "WARNING: A reboot is required to load this software
//     correctly" lines ([AddLegacy]). The package becomes pending; the node
//     runs it after its next reboot. Failures (no capture; each has the
//     marker the junos parsers look for): an earlier pending install prints
//     the "There is already an install pending." text of a PyEZ capture;
//     a missing file "error: <path> is not found or empty"; a damaged
//     package "ERROR: ...: package signature verification failed"; a
//     package for another platform (or Faults.WrongPlatform) "ERROR:
//     package <name> is not valid for this platform (vsrx)"; less free
//     space on /var than three times the package (twice with no-copy)
//     "ERROR: insufficient space in /var ..."; Faults.ValidationFails
//     "mgd: error: configuration check-out failed", "Validation failed"
//     and "ERROR: Current configuration not compatible with ...".
//   - request system software rollback: backs a pending install out, or
//     makes the previous release pending: "Junos version '<v>' will become
//     active at next reboot" (wording of an EX rollback capture).
//   - request system reboot: asks "Reboot the system ? [yes,no] (no)" (a
//     capture). "yes" prints "Shutdown NOW!" and "[pid N]" (UNVERIFIED),
//     then after Options.RebootDelay the node drops every session, refuses
//     connections for Options.RebootDuration and comes back on the pending
//     release (or its old one with Faults.BackOnOld) as secondary of every
//     group it does not have to take, cold-syncing for Options.ColdSync.
//     Any other answer does nothing.
//   - request chassis cluster failover redundancy-group N node X: the
//     target becomes primary at once (failover count +1), Manual "yes",
//     priority 255; for RG0 the old primary is secondary-hold for
//     Options.HoldDown, during which a new RG0 failover is refused. Output
//     "node1:", a dashed line and "Initiated manual failover for redundancy
//     group N" (modelled on "Initiated manual failover for all
//     redundancy-groups to node0" of an ICU capture; UNVERIFIED). Refused
//     with "error: Manual failover is not permitted: ..." when the target
//     is lost, disabled, already primary, has priority 0 or is in
//     secondary-hold (UNVERIFIED wording), and with Faults.FailoverRefused.
//   - request chassis cluster failover reset redundancy-group N: per node
//     "Successfully reset manual failover for redundancy group N" or "No
//     reset required for redundancy group N." (UNVERIFIED); Manual back to
//     "no" and the configured priorities, after which preempt may move the
//     group.
//   - set cli screen-length N, set cli screen-width N, set cli
//     complete-on-space on|off: accepted ("Screen length set to 0", ...).
//   - configure [private|exclusive]: configuration mode, a private edit
//     ("warning: Clustering enabled; using private edit", UNVERIFIED).
//   - exit, quit: close the session.
//
// # Configuration mode
//
// set, delete, deactivate and activate change the session's candidate
// (delete or deactivate of a missing statement prints "warning: statement
// not found"); "chassis cluster" statements are checked against the
// chassis cluster hierarchy (reth-count, redundancy-group N {node N
// priority 1-254, preempt, hold-down-interval, gratuitous-arp-count,
// interface-monitor IF weight W}, control-link-recovery, heartbeat-*),
// other top-level statements are accepted as they are. show [path] [|
// compare | display set] shows the candidate; "show | compare" prints
// "[edit chassis cluster redundancy-group 1]" and "+    preempt;" /
// "-    preempt;" lines. commit prints "node0: configuration check
// succeeds", "node1: commit complete", "node0: commit complete" (each
// "nodeN:" on its own line, UNVERIFIED) and applies the candidate to both
// nodes; a group without both node priorities, preempt on RG0, or any
// preempt change under Faults.PreemptLocked fails with "[edit ...]"
// context lines and "error: configuration check-out failed". commit check,
// commit and-quit, rollback, run <command>, top and exit (discarding
// uncommitted changes: "Exiting configuration mode") are supported.
//
// # Uploads
//
// `scp <file> <user>@<node>:/var/tmp/` (the SCP sink of sshsim) stores the
// file in the node's /var/tmp (other directories are refused), if /var has
// room ("No space left on device" otherwise). [WritePackage] writes a
// simulated vSRX 3.0 package; its first line names platform and version.
//
// # Faults
//
// [Faults] and the methods of [Sim] and [Node] inject: monitor failures
// ([Node.SetMonitorFailures]: priority 0 and an automatic failover), a
// disabled node ([Node.Disable]), a lost node ([Node.Fail] /
// [Node.Recover]), control or fabric link loss ([Sim.SetControlLink],
// [Sim.SetFabricLink]: the RG0 secondary becomes disabled), commits that
// may not change preempt, small /var ([Node.SetVarAvailable]), packages
// for another platform, validation failures, a node that comes back on
// its old release, a reboot that never returns, refused failovers, error
// text for any command, slow responses, alarms ([Node.SetAlarms]) and a
// configuration change committed by someone else during a run
// ([Sim.ThirdPartyCommit], Faults.ThirdPartyCommit).
//
// Sources (in words): Juniper KB17947 and the Junos OS Chassis Cluster User
// Guide for SRX Series (states, priorities 0 and 255, secondary-hold,
// preempt, manual failover and reset), the Junos OS Installation and
// Upgrade Guide, and public captures of vSRX, SRX and EX output (IBM Cloud
// vSRX documentation, ntc-templates, PyEZ unit tests, genieparser, the
// junos_exporter, operators' notes). Everything listens on 127.0.0.1 only.
// Durations default to short values (the Default* constants) suited to
// tests and examples.
package junostest
