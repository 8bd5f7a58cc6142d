// Package junos upgrades Juniper SRX/vSRX chassis clusters (the IBM Cloud
// vSRX HA procedure, vSRX having no ISSU) with minimal downtime: a
// [Cluster] of two nodes over SSH sessions (the juniper_junos platform of
// package driver, structured `| display xml` output first), a [Planner]
// encoding the manual procedure (healthy-start checks, configuration
// export, RG1 preempt off, staging apart from the reboot of the node that
// is secondary for every redundancy group, RG1 then RG0 failover, the
// other node, failover reset, final checks), node rollback as an
// upgrade.Rollbacker, and the parsers for every command output it reads,
// with the Junos version type.
//
// # Parsers
//
// Every parser takes the whole output of one command, as CLI text or as
// the XML reply of the matching RPC (`| display xml`; the <rpc-reply>
// wrapper is optional and namespaces are ignored), and fails closed:
// output it does not recognise is an error, never a healthy state.
//
//   - [ParseChassisClusterStatus]: `show chassis cluster status`
//     (get-chassis-cluster-status) to a [ClusterStatus]: cluster ID, and
//     per redundancy group (RG0, RG1, ...) the failover count and each
//     node's priority, state, preempt, manual flag and monitor failures.
//     [ClusterStatus.Primary] names the primary node of a group;
//     [ClusterStatus.Healthy] reports every problem at once.
//   - [ParseSoftwareInformation]: `show version` (get-software-information)
//     to the hostname, model and Junos [Version] of each node (both nodes of
//     a chassis cluster, never only the last).
//   - [ParseSystemStorage]: `show system storage` (get-system-storage) to the
//     file systems of each node, sizes in bytes; [NodeStorage.Available]
//     and [Storage.Available] answer "is there room for the package".
//   - [ParseSoftwareAdd]: the outcome of `request system software add`
//     (request-package-add): an [AddResult] when the install waits for the
//     next reboot, a typed [*SoftwareAddError] otherwise.
//
// # Versions
//
// [Version] is a Junos version (21.4R3-S10, 15.1X49-D180.2) under a strict
// grammar, ordered by (major, minor, type, release, D, S, spin). It is
// versionpath.JunosVersion: the grammar lives in package versionpath, next
// to the Junos upgrade-path rule (versionpath.CheckJunosHop: at most three
// releases per hop, or EEOL to one of the next two EEOL releases) and its
// multi-hop planner (versionpath.JunosPath). [SameRelease] decides "already
// at target" with a spin-less version matching any spin.
//
// # Errors
//
//   - [*ParseError] (errors.Is [ErrUnrecognized]): output not recognised,
//     with the command, the 1-based line, the offending text and the reason.
//   - [*DeviceError] (errors.Is [ErrDeviceError]): the device answered with
//     an error; errors.Is [ErrNotClustered] when the chassis cluster is not
//     enabled (a standalone device).
//   - [*SoftwareAddError] (errors.Is [ErrSoftwareAdd]) with a Kind matching
//     [ErrInstallPending], [ErrInsufficientSpace], [ErrWrongPlatform] or
//     [ErrValidation].
//   - [*HealthError] (errors.Is [ErrUnhealthy]) from [ClusterStatus.Healthy],
//     naming the redundancy group and node, of kind [ErrRoles],
//     [ErrMonitorFailure], [ErrNodeDown] or [ErrManualFailover].
//
// Sources: Juniper KB17947 (upgrading an SRX cluster with minimal
// downtime), the Junos OS Chassis Cluster User Guide for SRX Series, the
// Junos OS Installation and Upgrade Guide, and public captures of SRX, vSRX
// and EX output.
package junos
