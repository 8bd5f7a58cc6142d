package checkpoint_test

import (
	"errors"
	"fmt"

	"github.com/hitless/hitless/checkpoint"
)

func ExampleParseClusterState() {
	out := `[Expert@gw-a:0]# cphaprob state

Cluster Mode:   High Availability (Active Up) with IGMP Membership

ID         Unique Address  Assigned Load   State          Name

1          10.90.1.146     0%              READY          gw-b
2 (local)  10.90.1.145     100%            ACTIVE(!F)     gw-a

Active PNOTEs: None
`
	cs, err := checkpoint.ParseClusterState(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	local, _ := cs.Local()
	fmt.Println(cs.ModeKind(), "local:", local.ID, local.Name, local.State, "attention:", local.State.Attention())
	for _, m := range cs.Members {
		fmt.Println(m.ID, m.State.Base, m.State.Flags, m.State.Healthy())
	}

	// An unknown state word fails closed.
	_, err = checkpoint.ParseClusterState("Cluster Mode: High Availability (Active Up)\n" +
		"ID  Unique Address  Assigned Load  State  Name\n1 (local)  10.0.0.1  100%  SLEEPING  gw-a\n")
	var pe *checkpoint.ParseError
	fmt.Println(errors.Is(err, checkpoint.ErrUnrecognized), errors.As(err, &pe) && pe.Line > 0)
	// Output:
	// High Availability local: 2 gw-a ACTIVE(!F) attention: true
	// 1 READY  false
	// 2 ACTIVE !F false
	// true true
}

func ExampleParseJumboTake() {
	out := "[FW1]\n\tHOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  122\n[VSEC]\n\tHOTFIX_R81_20_JUMBO_HF_MAIN\n"
	take, err := checkpoint.ParseJumboTake(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	rel, _ := take.ReleaseVersion()
	fmt.Println(take.Number, rel)

	_, err = checkpoint.ParseJumboTake("[FW1]\n\tNo hotfixes..\n")
	fmt.Println(errors.Is(err, checkpoint.ErrNoHotfixes), errors.Is(err, checkpoint.ErrNoTake))
	// Output:
	// 122 R81.20
	// true true
}
