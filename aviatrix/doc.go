// Package aviatrix upgrades an Aviatrix controller and its HA gateways with
// zero downtime, over the controller's HTTPS API (net/http), following the
// documented selective-upgrade procedure. Sources, cited throughout the
// code: the Terraform provider terraform-provider-aviatrix before v8
// (goaviatrix/version.go, client.go, gateway.go; issue #1907; PRs #769,
// #1473, #2100), Aviatrix Docs "Selective Gateway Upgrade"
// (HowTos/selective_upgrade.rst) and "Upgrade Overview", and the release
// notes' AVX numbers.
//
// Scope: controllers 6.5–7.2 ("UserConnect-x.y.z"). 8.x is refused with
// ErrUnsupportedVersion: its upgrade API (CoPilot) is not public.
//
// # Layers
//
//   - Client: the API. Config (Validate), login (get_api_token then login
//     with X-Access-Key, plain login as fallback), the {return, results,
//     reason} envelope (DecodeEnvelope), session refresh, restart/busy
//     handling, typed errors (APIError, ErrAuth, ErrRestarting, ErrBusy,
//     ErrTLS…), and one method per action: VersionInfo, UpgradePlatform,
//     PlatformUpgradeStatus, UpgradeGateways, RollbackGateways,
//     UpgradeGatewayImage, CompatibleImageVersion
//     (get_compatible_image_version), GatewayUpgradeStatus, Gateways
//     (list_vpcs_summary, with each gateway's gw_image_name), BackupConfig,
//     Releases (a hitless convention, see DefaultReleaseListAction),
//     TaskStatus, plus Do for any other action. TLS is always verified by
//     hitless (Config.Transport accepts only a *http.Transport it verifies
//     with, or aviatrixtest's in-memory transport); credentials, API tokens
//     and CIDs never appear in logs, errors, events or URLs, nor in any
//     rendering of Config, Client, Envelope or Cluster (Format for every
//     fmt verb, LogValue, MarshalJSON).
//   - Version / ParseVersion: Major.Minor.Build (Masterminds/semver), a
//     versionpath.Version, so versionpath.Path and the controller-before-
//     gateway checks of package versionpath run on it unchanged.
//   - Inventory, HASet, Selector: gateways from list_vpcs_summary, grouped
//     into HA sets from the "-hagw" suffix, primary_gw_name (and
//     hagw_details) and group_name together.
//   - Cluster: the controller and every gateway as ONE upgrade.Cluster, and
//     the planner (PlanUpgrade, PlanRollback, PlanImageUpgrade,
//     upgrade.Planner).
//
// # Why one cluster, and the per-pair guard
//
// A controller hop concerns every gateway and a gateway batch spans many HA
// pairs, so
// one upgrade.Plan for one Executor run must see every gateway: the Cluster is
// a single upgrade.Cluster whose members are ControllerID and each gateway
// (HA and group members included). Members of an ActiveMesh pair are both
// RoleActive while up; a gateway being upgraded reports update_status
// upgrading…installing and is RoleDown (the controller drains it); the
// controller is a healthy RoleStandby member that never forwards, so
// upgrading it disrupts no traffic.
//
// The executor's built-in guard only asks "does some OTHER member still
// forward?", which a cluster of many pairs always satisfies. The per-pair
// invariant is therefore the Cluster's upgrade.DisruptionChecker
// (CheckDisruption = Cluster.CheckPairs): the executor's guard calls it with
// a fresh snapshot and the union of the members a step, or a batch of
// grouped steps, disrupts, for every plan (hand-written upgrade.Func steps
// included) and in dry runs, refusing the step (upgrade.ErrUnsafe) unless
// every other member of each HA set it touches is healthy (active, or
// standby in an active-standby pair), and refusing two members of one set
// outright (Aviatrix Docs, "Selective Gateway Upgrade": never both members
// of an ActiveMesh pair or group at once): a member already down counts as disrupted, so a group of
// three with one member down does not lose a second one. The steps' own
// safety checks (upgrade.SafetyChecker) add the version rules: a gateway only to the controller's current
// version, and only from its previous version or its minor when catching
// up (versionpath.CheckGatewayUpgrade / CheckGatewayRollback); a
// controller hop only when every gateway is on the controller's version
// (versionpath.CheckControllerHop) and only to the next hop of the path
// (ErrHopSkipped). Hand-written plans built from ControllerHopSteps /
// GatewayBatchSteps get the same protection, and so do the Members driven
// directly (Install, Rollback refuse with *PairError, *HopError or
// versionpath violations before sending); a gateway step re-checks the
// pair rule on the controller's answer right before it writes. A gateway
// without an HA peer can only be upgraded by a step that declares downtime
// (UpgradeRequest.AllowOutage), which the report shows.
//
// # Writes whose outcome is unknown
//
// The Client never sends a write twice unless the controller proved it did
// not act (a JSON "Valid action required: login"/"RequestRefused" refusal,
// or HTTP 503). After an HTML page (even with HTTP 200), a 502/504 or a
// dropped connection the outcome is unknown (WriteOutcomeUnknown): a
// gateway step fails; the controller hop polls platform_upgrade_status to
// learn whether the upgrade started instead.
//
// # Plans
//
// PlanUpgrade is pure: from the inventory read by Open it checks every
// rule at once (*PlanError) and returns a DetailedPlan whose upgrade.Plan an
// upgrade.Executor runs with the Cluster as cluster:
//
//	pre-checks (Cluster.PreCheck via upgrade.PreChecker: controller reachable,
//	  backup enabled, every gateway up and idle, versions consistent)
//	[gateways below the controller -> controller's version, in batches]
//	for each hop of versionpath.PathWith + PathRules (explicit versions):
//	  controller@<hop>        upgrade_platform, poll through the restart
//	                          window, log in again, confirm
//	  wait:controller@<hop>   health gate
//	  gateways@<hop>/bNNN-…   one batch: upgrade_selected_gateway, poll
//	  wait:gateways@…         health gate
//
// Batches come from the user's groups (Selector, in order) or explicit
// batch lists (validated: ErrBadBatch), HA members first, then primaries,
// at most BatchSize per batch. A dry run is the Executor with DryRun set:
// the rules are checked by the planner, the pre-checks only read, and no
// write is sent. PlanRollback rolls selected gateways back to the
// controller's previous version, one member of a set at a time, through
// each gateway member's upgrade.Rollbacker (the core's rollback shape:
// Rollback(ctx, to) with the explicit version, refused before anything is
// sent unless to is the controller's previous version); the controller
// cannot be rolled back.
//
// Every plan carries its end state (DetailedPlan.EndState, checked by
// upgrade.Plan.Converged after the last step, also when every step came
// from the journal): an upgrade leaves the controller and every selected
// gateway on the final version, a rollback every selected gateway on the
// rollback version, an image upgrade every selected gateway on its target
// image; the gateways up and idle, each of their HA sets forwarding.
// Otherwise the run fails with upgrade.ErrNotConverged and an
// *EndStateError naming each member and what was observed.
//
// Step IDs depend only on the topology, the selection and the versions,
// so after a crash a new process (Open, re-plan, an Executor with the
// same journal) resumes: finished steps are skipped, an interrupted one is
// verified, and no write is sent twice. Re-plan with:
//
//   - PlanUpgrade: the same request with UpgradeRequest.CatchUp set. Once a
//     controller hop has finished the gateways lag the controller, and the
//     request without CatchUp is refused with
//     versionpath.ErrGatewayNotConverged (the documented pre-check; its
//     text says "resuming an interrupted run? set UpgradeRequest.CatchUp").
//     With CatchUp the lagging gateways' batches come first, under the
//     step IDs the journal already holds. Cluster.Plan (upgrade.Planner)
//     always sets it.
//   - PlanRollback and PlanImageUpgrade: the same request.
//
// A controller hop cut during its "in progress" phase is not sent again:
// the resumed step finds the upgrade running (platform_upgrade_status) and
// polls it.
//
// # Image upgrades
//
// PlanImageUpgrade is a separate operation (Aviatrix Docs, "Selective
// Gateway Upgrade", image upgrades): an image
// upgrade replaces the gateway (brief disruption), keeping its software
// version, which must already be the controller's for every gateway
// (versionpath violations otherwise, all listed). Steps send
// upgrade_selected_gateway with software_version = version = that version
// and image_version, one gateway per call, and poll like software
// upgrades until the gateway reports its new gw_image_name:
//
//	image@<version>/bNNN-…       one batch (default 1 gateway, at most
//	                             MaxImageBatchSize = 5 without Force:
//	                             AVX-20159/43461/45567)
//	wait:image@<version>/bNNN-…  health gate (up, complete, version, image)
//
// HA members go first and never two members of one HA set in a batch (the
// same batch builder and per-set guard as upgrades); standalone gateways
// only with AllowOutage, each in a batch of its own (AVX-36880). Target
// images come from ImageRequest.Images (e.g. Cluster.CompatibleImages; the
// plan then skips gateways already on them) or, when nil, from
// get_compatible_image_version at run time.
//
// # Not public, hence not done here
//
// Dry-run, backup-now, dedicated rollback and image-upgrade actions, the
// release list ("Release Versions" hint) and every 8.x upgrade call are not
// public (none is in the Terraform provider or Aviatrix Docs): the dry run
// is SDK-side, the backup is only
// checked to be enabled, the release list is a configurable convention, and
// image upgrades use upgrade_selected_gateway with image_version, as the
// provider did; that gw_image_name then reports the image_version text is
// inferred from the provider's gateway struct, not verified on a
// controller. Response shapes of list_version_info,
// platform_upgrade_status and list_gateway_upgrade_status are reconstructed
// from the provider's code (no public capture) and decoded leniently,
// failing closed.
//
// Package aviatrixtest is a fake controller (httptest over loopback TLS, or
// in memory for testing/synctest) with per-pair traffic probes and fault
// knobs.
package aviatrix
