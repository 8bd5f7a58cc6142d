package upgradetest

import (
	"errors"
	"fmt"

	"github.com/hitless/hitless/upgrade"
)

// Invariants checks, after a run against a fake Cluster, the properties
// that must hold whatever faults were injected (for chaos tests):
//
//   - no probe tick was lost unless the report declares downtime;
//   - no member was given the same install twice (a finished disruptive
//     step is never repeated, even across crash and resume);
//   - a successful report means every member runs target and exactly one
//     forwards;
//   - a failed report names its error.
//
// It returns every violation at once (errors.Join), nil when all hold.
func Invariants(c *Cluster, rep *upgrade.Report, target string) error {
	var errs []error
	if rep == nil {
		return errors.New("invariants: no report")
	}
	if lost := c.Probe.LostTicks(); lost > 0 && !rep.Downtime {
		errs = append(errs, fmt.Errorf("invariant: %d probe ticks lost without declared downtime", lost))
	}
	seen := map[string]int{}
	for _, k := range c.Calls() {
		if k.Op == "install" {
			seen[k.Member+"@"+k.Arg]++
		}
	}
	for key, n := range seen {
		if n > 1 {
			errs = append(errs, fmt.Errorf("invariant: install %s issued %d times", key, n))
		}
	}
	if rep.OK {
		fwd := 0
		c.mu.Lock()
		for _, m := range c.members {
			if m.Version != target {
				errs = append(errs, fmt.Errorf("invariant: report OK but member %s runs %s, not %s", m.Name, m.Version, target))
			}
			if m.Role == upgrade.RoleActive && m.healthyLocked() {
				fwd++
			}
		}
		c.mu.Unlock()
		if fwd != 1 {
			errs = append(errs, fmt.Errorf("invariant: report OK but %d members forward", fwd))
		}
	} else if rep.Error == "" {
		errs = append(errs, errors.New("invariant: failed report carries no error"))
	}
	return errors.Join(errs...)
}
