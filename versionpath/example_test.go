package versionpath_test

import (
	"errors"
	"fmt"

	"github.com/hitless/hitless/versionpath"
)

func ExamplePath() {
	catalog, err := versionpath.ParseCatalog(versionpath.Dotted{},
		"6.4.321", "6.4.400", "6.5.100", "6.5.2721", "6.6.123", "6.6.900")
	if err != nil {
		panic(err)
	}
	from := versionpath.MustParse(versionpath.Dotted{}, "6.4.321")
	to := versionpath.MustParse(versionpath.Dotted{}, "6.6.123")
	hops, err := versionpath.Path(catalog, from, to)
	if err != nil {
		panic(err)
	}
	fmt.Println(hops)

	_, err = versionpath.Path(catalog, to, from)
	fmt.Println(errors.Is(err, versionpath.ErrDowngrade))
	// Output:
	// [6.4.400 6.5.2721 6.6.123]
	// true
}

func ExamplePathWith() {
	catalog, err := versionpath.ParseCatalog(versionpath.Dotted{}, "6.8.1509", "7.0.1373")
	if err != nil {
		panic(err)
	}
	from := versionpath.MustParse(versionpath.Dotted{}, "6.8.1509")
	to := versionpath.MustParse(versionpath.Dotted{}, "7.0.1373")
	// The catalog omits 6.9, the last minor of major 6.
	hops, _ := versionpath.Path(catalog, from, to)
	fmt.Println(hops)
	_, err = versionpath.PathWith(catalog, from, to, versionpath.PathRules{LastMinor: map[uint64]uint64{6: 9, 7: 2}})
	fmt.Println(err)
	// Output:
	// [7.0.1373]
	// versionpath: intermediate minor release missing from catalog (path 6.8.1509 -> 7.0.1373): 6.9
}

func ExampleCheckControllerHop() {
	v := func(s string) versionpath.Version { return versionpath.MustParse(versionpath.Dotted{}, s) }
	fleet := versionpath.Deployment{
		Controller:         v("6.5.300"),
		ControllerPrevious: v("6.5.200"),
		Gateways: map[string]versionpath.Version{
			"spoke-1":      v("6.5.300"),
			"spoke-1-hagw": v("6.5.200"),
			"transit-1":    v("6.6.100"),
		},
	}
	err := versionpath.CheckControllerHop(fleet, v("6.6.123"))
	fmt.Println(err)

	var vs versionpath.Violations
	if errors.As(err, &vs) {
		for _, x := range vs {
			fmt.Printf("%s %s: have %s want %s\n", x.Party, x.Name, x.Have, x.Want)
		}
	}
	// Output:
	// versionpath: 2 rule violations
	// 	versionpath: controller-before-gateway: gateway "spoke-1-hagw": gateway not on the controller version before the controller hop (have 6.5.200, want 6.5.300, target 6.6.123)
	// 	versionpath: controller-before-gateway: gateway "transit-1": gateway ahead of controller (have 6.6.100, want <= 6.5.300, target 6.6.123)
	// gateway spoke-1-hagw: have 6.5.200 want 6.5.300
	// gateway transit-1: have 6.6.100 want <= 6.5.300
}

func ExampleMultiStagePath() {
	cp := func(s string) versionpath.Version { return versionpath.MustParse(versionpath.CheckPoint{}, s) }
	hops, err := versionpath.MultiStagePath(versionpath.DefaultMultiStages(), cp("R80.30SP"), cp("R82"))
	if err != nil {
		panic(err)
	}
	fmt.Println(hops)

	// Each hop must also meet the JHF minimum of the release it leaves.
	fmt.Println(versionpath.CheckTakeMinimum(versionpath.DefaultTakeMinimums(), cp("R81.20"), 80, cp("R82")))
	// Output:
	// [R81.20 R82]
	// versionpath: minimum-jhf-take: release "R81.20": jumbo hotfix take below minimum (have 80, want 92, target R82)
}
