// Package versionpath holds the vendor version grammars and the upgrade-path
// rules of hitless. It is pure: no I/O, no package-level mutable state, no
// init functions. Every function is deterministic and safe for concurrent use.
//
// # Grammars
//
// A [Grammar] turns vendor version text into a [Version]. Three grammars ship
// here:
//
//   - [Dotted], the default: "N(.N)*" with an optional "-suffix"
//     (Aviatrix "6.5.2721", Clavister-style "14.00.10").
//   - [SemVer]: strict Semantic Versioning 2.0.0 via Masterminds/semver
//     (Aviatrix 8.x "8.0.0-1000.2432").
//   - [CheckPoint]: Check Point release names ("R81.20", "R82", "R80.20SP").
//
// Parse errors are always a [*ParseError] wrapping [ErrMalformed].
//
// # Path rules
//
//   - [Path] computes the hop list over a [Catalog] of available releases with
//     the Aviatrix rules (builds skippable, minors and majors sequential,
//     latest build of the current minor before leaving it). Source:
//     Aviatrix Docs HowTos/selective_upgrade.rst and docs.aviatrix.com
//     upgrade-aviatrix/upgrade-overview.
//     [PathWith] adds [PathRules] the catalog may not show, such as the last
//     minor of each major (Aviatrix: 6.9 before 7.0, 7.2 before 8.0).
//   - [MultiStagePath] and [CheckMultiStageHop] apply a table of required
//     intermediate releases (default: R80.20SP / R80.30SP via R81.20 to R82).
//   - [CheckJunosHop], [CheckJunosPath] and [JunosPath] apply the Junos
//     release-span rule (at most three releases per hop, EEOL releases to
//     the next two EEOL releases) over a table of release trains
//     ([DefaultJunosReleases]); [Junos] is the Junos version grammar
//     (21.4R3-S10, 15.1X49-D180.2), ordered by (major, minor, type,
//     release, D, S, spin).
//   - [CheckTakeMinimum] applies a table of minimum Jumbo Hotfix takes before a
//     major upgrade (default: R81.20 take 92, R81.10 take 172 before R82).
//     The Check Point tables are project requirements that were NOT found in
//     public Check Point material; they are data returned by functions so
//     users can replace them.
//
// # Rule checks
//
// [CheckDeployment], [CheckControllerHop], [CheckGatewayUpgrade] and
// [CheckGatewayRollback] encode the Aviatrix controller-before-gateway rules
// over a [Deployment]. Every check reports all violations at once as [Violations]
// (a list of [*Violation]); errors.Is works with [ErrViolation] and with each
// violation's kind (e.g. [ErrGatewayAhead]), errors.As with [*Violation] and
// [Violations].
package versionpath
