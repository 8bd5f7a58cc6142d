// Package checkpoint upgrades Check Point ClusterXL (gateway mode) and VSX
// clusters with zero downtime through the Multi-Version Cluster (MVC)
// procedure: a [Cluster] of Gaia members over SSH (Clish and Expert mode,
// VSX commands in VS0), a [Planner] encoding the procedure (pre-checks
// including the Jumbo Hotfix take minimums and multi-stage paths, the
// cluster object's version on management, CPUSE staging apart from the
// disruptive `installer upgrade`, MVC on, the mixed-version policy install,
// failover with clusterXL_admin, the remaining members, the final policy,
// MVC off; for VSX the object upgrade on management first and the CoreXL
// Dynamic Balancing workaround), member rollback as an upgrade.Rollbacker,
// the Management API client ([MgmtClient]) and the parsers for every
// command output it reads (cluster state, cluster interfaces, MVC, VSX
// status, the JHF take, the software version). The parsers do no I/O; every
// parser is pure and safe for concurrent use.
//
// # Maestro security groups
//
// [SecurityGroup] is a Maestro security group as an upgrade.Cluster: its
// orchestrators (MHOs, each over its own SSH session) and its Security
// Group Modules ([SGM], IDs "1_1", read through the security group's
// management address with `asg stat -v` and `g_all`). It refuses any step
// that disrupts every orchestrator or leaves a site without a forwarding
// SGM (upgrade.DisruptionChecker). [SecurityGroupPlanner] encodes the
// zero-downtime upgrade in sub-groups A and B with MVC (orchestrators
// first, A administratively down and upgraded while B forwards, MVC and a
// policy, B the same, MVC off, the final policy; VSX security groups also
// upgrade their VSX object), the 72-hour mixed-version window and the
// 4-hour rollback window ([WindowError]), the LACP refusal ([LACPError])
// and, only when asked, the minimum-downtime alternative as declared
// downtime. Its parsers: [ParseASGStat], [ParseGAll], [ParseBondModes],
// [ParseAutoClone], [ParseVerifier], [ParseAssetModel]. Only the `asg stat
// -v` shape is verified against a (R76SP.10) capture; every other Maestro
// text is hand-written from the administration guides (UNVERIFIED).
//
// # Management API
//
// [NewMgmtClient] builds a thin client over net/http with its own
// transport: TLS is always verified (a CA bundle, or a SHA-256 fingerprint
// of the server certificate pinned in [MgmtConfig], never trust on first
// use), every call and every task wait has a deadline, reads are retried a
// bounded number of times, writes are never re-sent after an ambiguous
// reply ([ErrAmbiguous]), an expired session id gets one re-login, and the
// session id, passwords and API keys never appear in logs, errors or
// printed values. It does not use Check Point's Go SDK, which turns off TLS
// verification on Go's global HTTP transport.
//
// # Parsers
//
//   - [ParseClusterState]: Expert `cphaprob state` / Clish `show cluster
//     state` (cluster mode, members with their state and attention flags,
//     Active PNOTEs, last state change, last failover, failover counter).
//   - [ParseClusterInterfaces]: `cphaprob -a if` / `cphaprob -a -m if`
//     (required interfaces, per-interface state, sync, CCP mode, virtual
//     cluster interfaces).
//   - [ParseMVC]: `cphaprob mvc` / Clish `show cluster members mvc`. Its
//     output format is NOT publicly documented; see the function.
//   - [ParseVSXStat]: `vsx stat -v` (Virtual Systems, Virtual Switches and
//     Virtual Routers, policy, SIC); a non-VSX gateway gives [ErrNotVSX].
//   - [ParseJumboTake]: `cpinfo -y all` and Clish `show installer packages
//     installed` (the take of the main Jumbo Hotfix Accumulator).
//   - [ParseVersion]: `fw ver` and Clish `show version all`; the release is
//     read with the versionpath.CheckPoint grammar.
//
// # Robustness
//
// Outputs are read the way an SSH session delivers them: CRLF or LF line
// ends, prompt lines (Clish "host>", Expert "[Expert@host:0]#") with or
// without the command echo, a `watch` header ("Every 2.0s: ..."), pager
// artefacts ("--More--", "-- More --", with the backspaces, carriage returns
// and ANSI escapes a terminal pager leaves), unsolicited syslog lines
// ("Message from syslogd@host at ...", plain syslog lines) and any number of
// blank lines. Columns are found by words and separators, never by fixed
// character offsets, because column widths and whitespace differ between
// releases and between vendor-document copies.
//
// # Errors
//
// Parsing fails closed: an output that cannot be read is never taken for a
// healthy state. Every error returned by a parser is a [*ParseError] naming
// the command, the 1-based line and its text and the reason; errors.Is
// matches its category: [ErrUnrecognized] (output not readable), [ErrNotVSX]
// (`vsx stat -v` on a gateway without VSX), [ErrNoTake] (no Jumbo Hotfix take
// printed) or [ErrNoHotfixes] (no hotfix installed at all, which also matches
// ErrNoTake).
//
// # Sources
//
// Check Point R81 CLI Reference Guide ("Viewing Cluster State",
// "Configuring the Multi-Version Cluster Mechanism"), ClusterXL R80.20,
// R80.40, R81 and R81.10 Administration Guides ("Viewing Cluster State",
// "Viewing Cluster Interfaces"), the Quantum Spark R81.10.X and R82.00.X CLI
// Reference Guides (cphaprob), the VSX and Gaia Administration Guides ("vsx
// stat", "show version", CPUSE "show installer packages"), sk20576 (per
// interface CCP layout), sk107042 (MVC), the R81.20 Installation and Upgrade
// Guide (VSX MVC procedure), sk125152 (cluster event codes), and public real
// captures of each command (their provenance is listed in the package's
// testdata directory). What could not be verified against a public capture is
// said in the doc comment of each parser.
package checkpoint
