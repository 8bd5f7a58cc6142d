package versionpath

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func dv(s string) Version { return MustParse(Dotted{}, s) }
func cp(s string) Version { return MustParse(CheckPoint{}, s) }

// summary renders violations as "kind-name" strings for table comparison.
func summary(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var vs Violations
	if !errors.As(err, &vs) {
		t.Fatalf("error %T (%v) is not Violations", err, err)
	}
	if !errors.Is(err, ErrViolation) {
		t.Errorf("error is not ErrViolation")
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		if v.Rule == "" || v.Party == "" || v.Kind == nil {
			t.Errorf("incomplete violation %+v", v)
		}
		if !errors.Is(err, v.Kind) || !errors.Is(v, ErrViolation) {
			t.Errorf("errors.Is does not reach %v", v.Kind)
		}
		out[i] = kindName(v.Kind) + ":" + v.Party + ":" + v.Name
	}
	return out
}

func kindName(k error) string {
	for name, e := range map[string]error{
		"unknown-version": ErrUnknownVersion, "unknown-gateway": ErrUnknownGateway,
		"ahead": ErrGatewayAhead, "not-converged": ErrGatewayNotConverged,
		"gw-target": ErrGatewayTarget, "ctrl-rollback": ErrControllerRollback,
		"no-previous": ErrNoPrevious, "rollback-target": ErrRollbackTarget,
		"not-rollback": ErrNotRollback, "take": ErrTakeTooLow, "stage": ErrStageSkipped,
	} {
		if k == e {
			return name
		}
	}
	return "?"
}

func fleet(ctrl, prev string, gws ...string) Deployment {
	f := Deployment{Gateways: map[string]Version{}}
	if ctrl != "" {
		f.Controller = dv(ctrl)
	}
	if prev != "" {
		f.ControllerPrevious = dv(prev)
	}
	for i := 0; i+1 < len(gws); i += 2 {
		if gws[i+1] == "" {
			f.Gateways[gws[i]] = nil
		} else {
			f.Gateways[gws[i]] = dv(gws[i+1])
		}
	}
	return f
}

func TestCheckFleet(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Deployment
		want []string
	}{
		{"converged", fleet("6.5.300", "", "gw", "6.5.300", "gw-hagw", "6.5.300"), nil},
		{"behind is fine mid-upgrade", fleet("6.6.100", "", "gw", "6.5.300"), nil},
		{"ahead", fleet("6.5.300", "", "b", "6.6.1", "a", "6.5.301", "c", "6.5.300"), []string{"ahead:gateway:a", "ahead:gateway:b"}},
		{"unknown gateway version", fleet("6.5.300", "", "gw", ""), []string{"unknown-version:gateway:gw"}},
		{"unknown controller", fleet("", "", "gw", "6.5.300"), []string{"unknown-version:controller:"}},
		{"no gateways", fleet("6.5.300", ""), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summary(t, CheckDeployment(tc.f)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckControllerHop(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Deployment
		next Version
		want []string
	}{
		{"all converged", fleet("6.5.300", "6.5.200", "gw", "6.5.300", "gw-hagw", "6.5.300", "gw-1-1", "6.5.300"), dv("6.6.123"), nil},
		{"same version is a no-op", fleet("6.5.300", "", "gw", "6.5.300"), dv("6.5.300"), nil},
		{"equal by compare", fleet("6.5.0", "", "gw", "6.5"), dv("6.6"), nil},
		{"gateway behind", fleet("6.5.300", "", "gw", "6.5.200"), dv("6.6.123"), []string{"not-converged:gateway:gw"}},
		{"ha gateway behind", fleet("6.5.300", "", "gw", "6.5.300", "gw-hagw", "6.5.200"), dv("6.6.123"), []string{"not-converged:gateway:gw-hagw"}},
		{"gateway ahead", fleet("6.5.300", "", "gw", "6.6.1"), dv("6.6.123"), []string{"ahead:gateway:gw"}},
		{"controller rollback", fleet("6.5.300", "6.5.200", "gw", "6.5.300"), dv("6.5.200"), []string{"ctrl-rollback:controller:"}},
		{"nil next", fleet("6.5.300", "", "gw", "6.5.300"), nil, []string{"unknown-version:controller:"}},
		{"nil controller", fleet("", "", "gw", "6.5.300"), dv("6.6.1"), []string{"unknown-version:controller:"}},
		{"nil gateway", fleet("6.5.300", "", "gw", ""), dv("6.6.1"), []string{"unknown-version:gateway:gw"}},
		// The docs' corner case: controller 6.5.300, gateways rolled back to 6.5.200.
		{"three problems at once", fleet("6.5.300", "6.5.200", "gw-b", "6.5.200", "gw-a", "6.6.1", "gw-ok", "6.5.300"), dv("6.5.100"),
			[]string{"ctrl-rollback:controller:", "ahead:gateway:gw-a", "not-converged:gateway:gw-b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summary(t, CheckControllerHop(tc.f, tc.next)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckControllerHopAllAtOnce(t *testing.T) {
	f := fleet("6.5.300", "6.5.200", "gw-1", "6.5.200", "gw-1-hagw", "6.5.100", "gw-2", "6.6.0", "gw-3", "6.5.300")
	err := CheckControllerHop(f, dv("6.6.123"))
	var vs Violations
	if !errors.As(err, &vs) || len(vs) != 3 {
		t.Fatalf("want 3 violations, got %v", err)
	}
	if !errors.Is(err, ErrGatewayAhead) || !errors.Is(err, ErrGatewayNotConverged) || errors.Is(err, ErrControllerRollback) {
		t.Errorf("errors.Is mismatch on %v", err)
	}
	var one *Violation
	if !errors.As(err, &one) || one.Name != "gw-1" || one.Have != "6.5.200" || one.Want != "6.5.300" || one.Target != "6.6.123" {
		t.Errorf("first violation = %+v", one)
	}
	msg := err.Error()
	for _, s := range []string{"3 rule violations", `gateway "gw-1"`, `gateway "gw-1-hagw"`, `gateway "gw-2"`, "have 6.6.0", RuleControllerFirst} {
		if !strings.Contains(msg, s) {
			t.Errorf("message misses %q:\n%s", s, msg)
		}
	}
	if strings.Count(msg, "\n") != 3 {
		t.Errorf("want one line per violation:\n%s", msg)
	}
}

func TestCheckGatewayUpgrade(t *testing.T) {
	f := fleet("6.6.123", "6.5.300", "gw", "6.5.300", "gw-ahead", "6.7.1", "gw-nil", "")
	for _, tc := range []struct {
		name string
		f    Deployment
		gw   string
		to   Version
		want []string
	}{
		{"to controller version", f, "gw", dv("6.6.123"), nil},
		{"already there", fleet("6.6.123", "", "gw", "6.6.123"), "gw", dv("6.6.123"), nil},
		{"beyond controller", f, "gw", dv("6.6.200"), []string{"gw-target:gateway:gw"}},
		{"below controller", f, "gw", dv("6.5.900"), []string{"gw-target:gateway:gw"}},
		{"ahead and wrong target", f, "gw-ahead", dv("6.7.2"), []string{"ahead:gateway:gw-ahead", "gw-target:gateway:gw-ahead"}},
		{"unknown gateway", f, "nope", dv("6.6.123"), []string{"unknown-gateway:gateway:nope"}},
		{"nil gateway version", f, "gw-nil", dv("6.6.123"), []string{"unknown-version:gateway:gw-nil"}},
		{"nil target", f, "gw", nil, []string{"unknown-version:gateway:gw"}},
		{"nil controller", fleet("", "", "gw", "6.5.300"), "gw", dv("6.6.123"), []string{"unknown-version:controller:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summary(t, CheckGatewayUpgrade(tc.f, tc.gw, tc.to)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckGatewayRollback(t *testing.T) {
	f := fleet("6.6.123", "6.5.300", "gw", "6.6.123", "gw-old", "6.5.100", "gw-nil", "")
	for _, tc := range []struct {
		name string
		f    Deployment
		gw   string
		to   Version
		want []string
	}{
		{"to controller previous", f, "gw", dv("6.5.300"), nil},
		{"already there", fleet("6.6.123", "6.5.300", "gw", "6.5.300"), "gw", dv("6.5.300"), nil},
		{"older than previous", f, "gw", dv("6.5.200"), []string{"rollback-target:gateway:gw"}},
		{"no previous", fleet("6.6.123", "", "gw", "6.6.123"), "gw", dv("6.5.300"), []string{"no-previous:gateway:gw"}},
		{"upward rollback", f, "gw-old", dv("6.5.300"), []string{"not-rollback:gateway:gw-old"}},
		{"wrong target and upward", f, "gw-old", dv("6.6.0"), []string{"rollback-target:gateway:gw-old", "not-rollback:gateway:gw-old"}},
		{"unknown gateway", f, "nope", dv("6.5.300"), []string{"unknown-gateway:gateway:nope"}},
		{"nil gateway version", f, "gw-nil", dv("6.5.300"), []string{"unknown-version:gateway:gw-nil"}},
		{"nil target", f, "gw", nil, []string{"unknown-version:gateway:gw"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summary(t, CheckGatewayRollback(tc.f, tc.gw, tc.to)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestViolationsErr(t *testing.T) {
	if (Violations{}).Err() != nil || Violations(nil).Err() != nil {
		t.Error("empty Violations must give a nil error")
	}
	v := &Violation{Rule: RuleMinimumTake, Kind: ErrTakeTooLow, Party: PartyRelease, Name: "R81.20", Have: "80", Want: "92", Target: "R82"}
	want := `versionpath: minimum-jhf-take: release "R81.20": jumbo hotfix take below minimum (have 80, want 92, target R82)`
	if got := (Violations{v}).Error(); got != want {
		t.Errorf("Error() = %q\nwant     %q", got, want)
	}
	if got := (&Violation{Rule: "r", Party: PartyController}).Error(); got != "versionpath: r: controller: violation" {
		t.Errorf("bare Error() = %q", got)
	}
}

func TestDefaultTablesAreFresh(t *testing.T) {
	a := DefaultTakeMinimums()
	a[0].MinTake = 1
	if DefaultTakeMinimums()[0].MinTake != 92 {
		t.Error("DefaultTakeMinimums shares state")
	}
	b := DefaultMultiStages()
	b[0].Via[0] = "R99"
	if DefaultMultiStages()[0].Via[0] != "R81.20" {
		t.Error("DefaultMultiStages shares state")
	}
	want := []TakeMinimum{{"R81.20", 92, "R82"}, {"R81.10", 172, "R82"}}
	if !slices.Equal(DefaultTakeMinimums(), want) {
		t.Errorf("DefaultTakeMinimums = %v", DefaultTakeMinimums())
	}
}

func TestCheckTakeMinimum(t *testing.T) {
	def := DefaultTakeMinimums()
	custom := []TakeMinimum{{From: "R81.20", MinTake: 10, To: "R82"}, {From: "R81.20", MinTake: 50, To: "R82.10"}}
	for _, tc := range []struct {
		name     string
		table    []TakeMinimum
		from     Version
		take     int
		to       Version
		want     []string
		have     string
		required string
	}{
		{"R81.20 at minimum", def, cp("R81.20"), 92, cp("R82"), nil, "", ""},
		{"R81.20 above minimum", def, cp("R81.20"), 99, cp("R82"), nil, "", ""},
		{"R81.20 below", def, cp("R81.20"), 91, cp("R82"), []string{"take:release:R81.20"}, "91", "92"},
		{"R81.10 below", def, cp("R81.10"), 171, cp("R82"), []string{"take:release:R81.10"}, "171", "172"},
		{"R81.10 at minimum", def, cp("R81.10"), 172, cp("R82"), nil, "", ""},
		{"later target applies", def, cp("R81.20"), 0, cp("R82.10"), []string{"take:release:R81.20"}, "0", "92"},
		{"unknown take fails closed", def, cp("R81.20"), TakeUnknown, cp("R82"), []string{"take:release:R81.20"}, "unknown", "92"},
		{"minor upgrade not covered", def, cp("R81.10"), 0, cp("R81.20"), nil, "", ""},
		{"other release not covered", def, cp("R81"), 0, cp("R82"), nil, "", ""},
		{"SP release not matched by non-SP row", def, cp("R80.30SP"), 0, cp("R82"), nil, "", ""},
		{"override lowers the bar", custom, cp("R81.20"), 20, cp("R82"), nil, "", ""},
		{"override, two rows both violated", custom, cp("R81.20"), 5, cp("R82.10"), []string{"take:release:R81.20", "take:release:R81.20"}, "5", "10"},
		{"empty table", nil, cp("R81.20"), 0, cp("R82"), nil, "", ""},
		{"nil from", def, nil, 0, cp("R82"), []string{"unknown-version:release:<nil>"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTakeMinimum(tc.table, tc.from, tc.take, tc.to)
			if got := summary(t, err); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if tc.have != "" {
				var v *Violation
				errors.As(err, &v)
				if v.Rule != RuleMinimumTake || v.Have != tc.have || v.Want != tc.required || v.Target != tc.to.String() {
					t.Errorf("violation = %+v", v)
				}
				if !strings.Contains(err.Error(), tc.from.String()) {
					t.Errorf("message %q does not name the release", err)
				}
			}
		})
	}
}

func TestCheckTakeMinimumBadTable(t *testing.T) {
	table := []TakeMinimum{{From: "R81.20", MinTake: 92, To: "R82"}, {From: "81.20", MinTake: 1, To: "R82"}, {From: "R81.10", MinTake: -1, To: "R82"}}
	err := CheckTakeMinimum(table, cp("R81.20"), 0, cp("R82"))
	if !errors.Is(err, ErrBadTable) || !errors.Is(err, ErrMalformed) || errors.Is(err, ErrViolation) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "row 1") || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("both bad rows must be reported: %v", err)
	}
}

func TestMultiStagePath(t *testing.T) {
	def := DefaultMultiStages()
	custom := []MultiStage{{From: "R80.40", To: "R82", Via: []string{"R81", "R81.20"}}}
	for _, tc := range []struct {
		name     string
		table    []MultiStage
		from, to string
		want     []string
	}{
		{"R80.20SP via R81.20", def, "R80.20SP", "R82", []string{"R81.20", "R82"}},
		{"R80.30SP via R81.20", def, "R80.30SP", "R82", []string{"R81.20", "R82"}},
		{"later target keeps the stage, ends exact", def, "R80.30SP", "R82.10", []string{"R81.20", "R82.10"}},
		{"target below To is direct", def, "R80.20SP", "R81.20", []string{"R81.20"}},
		{"non-SP is direct", def, "R80.20", "R82", []string{"R82"}},
		{"R81.20 is direct", def, "R81.20", "R82", []string{"R82"}},
		{"same release", def, "R82", "R82", []string{}},
		{"custom table, two stages", custom, "R80.40", "R82", []string{"R81", "R81.20", "R82"}},
		{"custom table replaces defaults", custom, "R80.20SP", "R82", []string{"R82"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MultiStagePath(tc.table, cp(tc.from), cp(tc.to))
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !slices.Equal(strs(got), tc.want) {
				t.Errorf("got %v, want %v", strs(got), tc.want)
			}
		})
	}
}

func TestMultiStagePathErrors(t *testing.T) {
	_, err := MultiStagePath(DefaultMultiStages(), cp("R82"), cp("R81.20"))
	var pe *PathError
	if !errors.Is(err, ErrDowngrade) || !errors.As(err, &pe) {
		t.Errorf("downgrade: %v", err)
	}
	if _, err := MultiStagePath(nil, nil, cp("R82")); !errors.Is(err, ErrNoLevels) {
		t.Errorf("nil from: %v", err)
	}
	for _, bad := range [][]MultiStage{
		{{From: "R80.20SP", To: "R82"}},                                      // empty Via
		{{From: "R80.20SP", To: "R82", Via: []string{"R81.20", "R81.10"}}},   // not ascending
		{{From: "R80.20SP", To: "R82", Via: []string{"R80.10"}}},             // below From
		{{From: "R80.20SP", To: "R82", Via: []string{"R82"}}},                // not below To
		{{From: "R80.20SP", To: "R82", Via: []string{"R81.x"}}},              // malformed
		{{From: "R80.20SP", To: "82", Via: []string{"R81.20"}}},              // malformed
		{{From: "R80.20SP", To: "R82", Via: []string{"R81.20"}}, {From: ""}}, // second row malformed
	} {
		if _, err := MultiStagePath(bad, cp("R80.20SP"), cp("R82")); !errors.Is(err, ErrBadTable) {
			t.Errorf("table %v: err = %v, want ErrBadTable", bad, err)
		}
		if err := CheckMultiStageHop(bad, cp("R80.20SP"), cp("R82")); !errors.Is(err, ErrBadTable) {
			t.Errorf("table %v: err = %v, want ErrBadTable", bad, err)
		}
	}
}

func TestCheckMultiStageHop(t *testing.T) {
	def := DefaultMultiStages()
	for _, tc := range []struct {
		name       string
		table      []MultiStage
		from, next Version
		want       []string
	}{
		{"direct skip", def, cp("R80.20SP"), cp("R82"), []string{"stage:release:R80.20SP"}},
		{"direct skip to later", def, cp("R80.30SP"), cp("R82.10"), []string{"stage:release:R80.30SP"}},
		{"first stage", def, cp("R80.20SP"), cp("R81.20"), nil},
		{"second stage", def, cp("R81.20"), cp("R82"), nil},
		{"unrelated", def, cp("R81.10"), cp("R82"), nil},
		{"nil next", def, cp("R80.20SP"), nil, []string{"unknown-version:release:R80.20SP"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckMultiStageHop(tc.table, tc.from, tc.next)
			if got := summary(t, err); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			var v *Violation
			if errors.As(err, &v) && v.Kind == ErrStageSkipped && (v.Rule != RuleMultiStage || v.Want != "R81.20" || v.Target != tc.next.String()) {
				t.Errorf("violation = %+v", v)
			}
		})
	}
}
