package junos

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hitless/hitless/driver/drivertest"
)

const exportSample = `set version 21.4R3-S5.4
set groups node0 system host-name vsrx-node0
set system root-authentication encrypted-password "$6$hitless$simulated.password.hash"
set snmp community public authorization read-only
set chassis cluster redundancy-group 0 node 0 priority 100
set chassis cluster redundancy-group 1 node 0 priority 100
set chassis cluster redundancy-group 1 preempt
set chassis cluster redundancy-group 2 preempt delay 10
deactivate chassis cluster redundancy-group 2 preempt
`

func TestConfigComparison(t *testing.T) {
	base := configLines(exportSample)
	if len(base) != 9 {
		t.Fatalf("configLines: %q", base)
	}
	if got := activePreempt(base); !slices.Equal(got, []int{1}) {
		t.Errorf("activePreempt = %v, want [1] (RG2's preempt is deactivated)", got)
	}
	// The upgrade's own changes: version and preempt statements.
	after := strings.Replace(exportSample, "set version 21.4R3-S5.4", "set version 22.4R3-S2", 1)
	after = strings.Replace(after, "set chassis cluster redundancy-group 1 preempt\n", "", 1)
	c, _ := scriptedCluster(t, [2]map[string]drivertest.Reply{}, nil)
	if err := c.compareConfig("node0", ptTarget, base, configLines(after)); err != nil {
		t.Errorf("the upgrade's own changes: %v", err)
	}
	// Someone else's change, with a secret in it.
	other := after + "set system login user ops authentication encrypted-password \"$6$abc$def\"\nset snmp community s3cr3t\n"
	other = strings.Replace(other, "set groups node0 system host-name vsrx-node0\n", "", 1)
	err := c.compareConfig("node0", ptTarget, base, configLines(other))
	var ce *ConfigChangedError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConfigChanged) {
		t.Fatalf("want a *ConfigChangedError, got %v", err)
	}
	if len(ce.Added) != 2 || len(ce.Removed) != 1 || ce.Removed[0] != "set groups node0 system host-name vsrx-node0" {
		t.Errorf("added %q removed %q", ce.Added, ce.Removed)
	}
	for _, leak := range []string{"$6$abc$def", "s3cr3t"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("the error shows the secret %q: %v", leak, err)
		}
	}
}

func TestRedactStatement(t *testing.T) {
	for in, want := range map[string]string{
		`set system root-authentication encrypted-password "$6$x$y"`:    `set system root-authentication encrypted-password <redacted>`,
		`set security ike policy p pre-shared-key ascii-text "$9$abcd"`: `set security ike policy p pre-shared-key <redacted>`,
		`set snmp community public authorization read-only`:             `set snmp community <redacted>`,
		`set interfaces ge-0/0/1 description "$9$looks-encoded"`:        `set interfaces ge-0/0/1 description <redacted>`,
		`set chassis cluster redundancy-group 1 node 0 priority 100`:    `set chassis cluster redundancy-group 1 node 0 priority 100`,
	} {
		if got := redactStatement(in); got != want {
			t.Errorf("redactStatement(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRestoreGrammar(t *testing.T) {
	for _, ok := range []string{"set chassis cluster redundancy-group 1 preempt", "set chassis cluster redundancy-group 2 preempt delay 10 limit 3"} {
		if !restoreGrammar.MatchString(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"set chassis cluster redundancy-group 1 preempt; request system reboot", "delete chassis cluster", "set chassis cluster redundancy-group 1 preempt delay x"} {
		if restoreGrammar.MatchString(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDiffLinesMultiset(t *testing.T) {
	a, r := diffLines([]string{"x", "x", "y"}, []string{"x", "z"})
	if !slices.Equal(a, []string{"z"}) || !slices.Equal(r, []string{"x", "y"}) {
		t.Errorf("added %q removed %q", a, r)
	}
}
