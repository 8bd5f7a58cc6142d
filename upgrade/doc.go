// Package upgrade is the vendor-neutral core of hitless: the model of an HA
// cluster (Member, Cluster, Snapshot), upgrade plans made of Steps, the
// health gates that wait between steps, the availability guard that refuses
// any step that would leave a cluster with no forwarding member, the journal
// that lets a restarted process resume, and the Executor that ties them
// together and produces a Report.
//
// The package knows nothing about SSH, HTTP or any vendor: vendor packages
// (clavister, junos, checkpoint, aviatrix) implement Member and Cluster and
// supply planners that encode their documented procedures. Users may also
// hand-write plans; the guard applies to them too.
//
// Typical use:
//
//	plan, err := upgrade.Rolling{Cluster: c, GateTiming: timing}.Plan(snap, "14.00.11")
//	rep, err := (&upgrade.Executor{Journal: j, Logger: log}).Run(ctx, c, plan)
//
// Every wait loop uses the time package and is tested in testing/synctest
// bubbles against the fakes in package upgradetest.
package upgrade
