package upgrade

import (
	"fmt"
	"slices"
	"strings"
)

// CheckAvailability is the availability guard: it returns nil when, after
// disrupting the given members, at least one other member that is healthy
// and active still forwards traffic; otherwise a description of why not.
// Unknown, lost, down and ready members never count as forwarding (fail
// closed). Members named in disrupts but absent from the snapshot are an
// error too, since the guard cannot reason about them.
//
// This encodes the HA invariant every vendor procedure in scope relies on
// (Check Point MVC, Clavister "upgrade the inactive unit first", Junos
// "secondary first", Aviatrix "never both gateways of a pair"): one member
// forwards while another is worked on.
func CheckAvailability(s Snapshot, disrupts []string) error {
	var unknown []string
	for _, id := range disrupts {
		if _, ok := s.Member(id); !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("members %s are not in the cluster snapshot", strings.Join(unknown, ", "))
	}
	var others []string
	for _, m := range s.Members {
		if slices.Contains(disrupts, m.ID) {
			continue
		}
		if m.Forwarding() {
			return nil
		}
		others = append(others, fmt.Sprintf("%s is %s (healthy=%t)", m.ID, m.Role, m.Healthy))
	}
	if len(others) == 0 {
		return fmt.Errorf("no other member would remain")
	}
	return fmt.Errorf("no other member forwards: %s", strings.Join(others, ", "))
}
