package junos_test

import (
	"errors"
	"fmt"

	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/versionpath"
)

func ExampleParseChassisClusterStatus() {
	out := `Cluster ID: 2
Node   Priority Status               Preempt Manual   Monitor-failures

Redundancy group: 0 , Failover count: 1
node0  100      primary              no      no       None
node1  1        secondary-hold       no      no       None

Redundancy group: 1 , Failover count: 1
node0  100      primary              no      no       None
node1  0        secondary            no      no       CS

{primary:node0}
`
	st, err := junos.ParseChassisClusterStatus(out)
	if err != nil {
		panic(err)
	}
	p, _ := st.Primary(1)
	fmt.Println("RG1 primary:", p, "local:", st.LocalNode)
	err = st.Healthy()
	fmt.Println(errors.Is(err, junos.ErrMonitorFailure))
	fmt.Println(err)
	// Output:
	// RG1 primary: node0 local: node0
	// true
	// junos: chassis cluster is not healthy: RG0: redundancy group without exactly one primary and one secondary: want one primary and one secondary node, have node0 primary, node1 secondary-hold
	// junos: chassis cluster is not healthy: RG1 node1: monitor failure: monitor failures CS, priority 0
}

func ExampleParseChassisClusterStatus_notClustered() {
	_, err := junos.ParseChassisClusterStatus("error: Chassis cluster is not enabled.\n")
	fmt.Println(errors.Is(err, junos.ErrNotClustered))
	// Output: true
}

func ExampleParseSoftwareAdd() {
	_, err := junos.ParseSoftwareAdd("There is already an install pending.\n" +
		"    Use the 'request system reboot' command to complete the install,\n")
	fmt.Println(errors.Is(err, junos.ErrInstallPending))

	res, err := junos.ParseSoftwareAdd("JUNOS 15.1X49-D170.4 will become active at next reboot\n")
	fmt.Println(res.Pending, res.Version, err)
	// Output:
	// true
	// true 15.1X49-D170.4 <nil>
}

func ExampleSameRelease() {
	running, _ := junos.ParseVersion("23.4R2-S5.5")
	target, _ := junos.ParseVersion("23.4R2-S5")
	fmt.Println(junos.SameRelease(running, target), running.Compare(target))
	// Output: true 1
}

func ExampleVersion_path() {
	table := versionpath.DefaultJunosReleases()
	catalog, _ := versionpath.ParseCatalog(junos.Grammar{}, "15.1X49-D170.4", "19.4R3-S4.1", "20.4R2-S2.2", "21.4R3-S7.9", "22.2R3-S7.4")
	from, _ := junos.ParseVersion("15.1X49-D70.3")
	to, _ := junos.ParseVersion("22.2R3-S7.4")
	fmt.Println(versionpath.CheckJunosHop(table, from, to))
	hops, err := versionpath.JunosPath(table, catalog, from, to)
	fmt.Println(hops, err)
	// Output:
	// versionpath: junos-release-span: release "15.1X49-D70.3": upgrade spans more than three Junos releases (have 15.1X49 -> 22.2: 24 releases, want via 19.4, target 22.2R3-S7.4)
	// [19.4R3-S4.1 21.4R3-S7.9 22.2R3-S7.4] <nil>
}
