package checkpoint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/checkpoint/checkpointtest"
	"github.com/hitless/hitless/upgrade"
)

// Example_upgrade upgrades a simulated ClusterXL pair from R81.20 to R82
// with the Multi-Version Cluster procedure: the CLI over SSH, policies and
// the cluster object through the management API over TLS.
func Example_upgrade() {
	sim, _ := checkpointtest.Start(checkpointtest.Options{ImportDuration: 20 * time.Millisecond,
		ApplyDelay: 20 * time.Millisecond, RebootDuration: 200 * time.Millisecond, ProbeEvery: 10 * time.Millisecond})
	defer sim.Close()
	mgmt, _ := checkpointtest.NewMgmtServer(checkpointtest.MgmtOptions{
		Clusters:      []checkpointtest.MgmtCluster{{Name: "hq", Version: "R81.20", Members: []checkpointtest.MgmtMember{{Name: "gw-a"}, {Name: "gw-b"}}}},
		PolicyInstall: 30 * time.Millisecond, TaskTime: 10 * time.Millisecond,
		// The fake installs per member as the simulator's MVC model says.
		PolicyResult:      func(_, member string) string { return sim.PolicyResult(member) },
		OnPolicyInstalled: func(_, member string, _, _ bool) { sim.PolicyInstalled(member) },
	})
	defer mgmt.Close()
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)
	pkg, _ := checkpointtest.WritePackage(dir, checkpointtest.Package{Kind: checkpointtest.KindMajor, Release: "R82"})

	cfg := checkpoint.Config{
		Name: "hq", Username: sim.Username(), Password: sim.Password(), ExpertPassword: sim.ExpertPassword(),
		KnownHostsFile: sim.KnownHostsFile(), PackagePath: pkg, Mgmt: mgmt.ClientConfig(),
		MinFreeDiskMB:    -1, // the simulator has no df
		ReconnectTimeout: 300 * time.Millisecond, ApplyGrace: time.Second,
		ImportTiming: upgrade.Timing{Interval: 20 * time.Millisecond, Deadline: 5 * time.Second},
		TaskTiming:   upgrade.Timing{Interval: 20 * time.Millisecond, Deadline: 5 * time.Second},
	}
	for _, m := range sim.Members() {
		cfg.Members = append(cfg.Members, checkpoint.Gateway{Name: m.Name(), Host: m.Host(), Port: m.Port()})
	}
	ctx := context.Background()
	c, err := checkpoint.New(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	journal := &upgrade.FileJournal{Path: filepath.Join(dir, "journal")}
	planner := checkpoint.Planner{Cluster: c, Tasks: &checkpoint.FileTaskLog{Path: filepath.Join(dir, "tasks")},
		GateTiming: upgrade.Timing{Interval: 30 * time.Millisecond, MinHealthy: 60 * time.Millisecond, Deadline: 10 * time.Second}}
	rep, err := (&upgrade.Executor{Journal: journal}).Upgrade(ctx, c, planner, "R82")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ok:", rep.OK, "versions:", rep.FinalVersions["gw-a"], rep.FinalVersions["gw-b"])
	fmt.Println("lost ticks:", sim.Probe().LostTicks(), "failovers:", sim.Failovers())
	// Output:
	// ok: true versions: R82 R82
	// lost ticks: 0 failovers: 1
}
