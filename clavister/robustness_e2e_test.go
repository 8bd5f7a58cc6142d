package clavister_test

// End-to-end regression tests against the simulated pair: device rejections in the wording of
// clavister.md §8.9 (not only "Error:"), a garbled `ha` output failing closed, and the
// password never printed through a Config, a Cluster or a Member.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/clavister/clavistertest"
	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// TestE2ERejectionsWithoutErrorPrefix: the unit answers a state-changing command with text
// that §8.9 says means "rejected" but that carries no "Error:" prefix. Failover and Install
// must return the *driver.CommandError (in a *UnitError naming the unit), not success.
func TestE2ERejectionsWithoutErrorPrefix(t *testing.T) {
	for _, text := range []string{
		"Failed to deactivate: peer not in sync",
		"usage: ha [-activate|-deactivate]",
		"error: invalid option",
		"unknown command 'deactivate'",
	} {
		t.Run("failover/"+text, func(t *testing.T) {
			pair, cfg := startPair(t, clavistertest.Faults{CommandOutput: map[string]string{"ha -deactivate": text}})
			c, err := clavister.New(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			err = c.Failover(t.Context(), "fw-b")
			var ce *driver.CommandError
			if !errors.As(err, &ce) || ce.Output != text || ce.Command != "ha -deactivate" {
				t.Fatalf("want a *driver.CommandError for %q, got %v", text, err)
			}
			var ue *clavister.UnitError
			if !errors.As(err, &ue) || ue.Unit != "fw-a" || ue.Op != "failover" {
				t.Errorf("want a *UnitError{fw-a, failover}, got %v", err)
			}
			if !pair.Unit("fw-a").Active() || pair.Unit("fw-b").Active() {
				t.Error("roles changed")
			}
		})
	}
	t.Run("install", func(t *testing.T) {
		const text = "usage: shutdown [-reboot] [delay]"
		pair, cfg := startPair(t, clavistertest.Faults{CommandOutput: map[string]string{"shutdown -reboot": text}})
		c, err := clavister.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		err = c.Member("fw-b").Install(t.Context(), e2eTarget)
		var ce *driver.CommandError
		if !errors.As(err, &ce) || ce.Output != text {
			t.Fatalf("want a *driver.CommandError for %q, got %v", text, err)
		}
		var ue *clavister.UnitError
		if !errors.As(err, &ue) || ue.Unit != "fw-b" || ue.Op != "apply" {
			t.Errorf("want a *UnitError{fw-b, apply}, got %v", err)
		}
		if b := pair.Unit("fw-b"); b.Down() || b.Version() != e2eFrom {
			t.Errorf("fw-b down %t, version %s", b.Down(), b.Version())
		}
		expectSafe(t, pair)
	})
}

// TestE2EGarbledHAFailsClosed: `ha` prints the unit's status with a garbled peer line and no
// "Error:" line. Reading it must fail with a *ParseError naming the unit, the planner must
// refuse, and nothing may change.
func TestE2EGarbledHAFailsClosed(t *testing.T) {
	pair, cfg := startPair(t, clavistertest.Faults{GarbledHA: true})
	c, err := clavister.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	for _, name := range []string{"fw-a", "fw-b"} {
		st, err := c.Member(name).Status(t.Context())
		var pe *clavister.ParseError
		if !errors.As(err, &pe) || pe.Command != "ha" || !strings.Contains(pe.Reason, clavistertest.GarbledPeerLine) {
			t.Fatalf("%s: want a *ParseError for ha naming the garbled line, got %v", name, err)
		}
		var ue *clavister.UnitError
		if !errors.As(err, &ue) || ue.Unit != name || ue.Op != "ha" {
			t.Errorf("want a *UnitError{%s, ha}, got %v", name, err)
		}
		if st.Role != upgrade.RoleUnknown || st.Healthy || len(st.Problems) == 0 || !errors.Is(err, clavister.ErrUnrecognized) {
			t.Errorf("%s: state %+v", name, st)
		}
	}
	_, _, err = run(t, t.Context(), c, clavister.Planner{})
	if !errors.Is(err, clavister.ErrUnreadable) || !errors.Is(err, upgrade.ErrInvalid) {
		t.Errorf("want a plan refused as unreadable, got %v", err)
	}
	for _, name := range []string{"fw-a", "fw-b"} {
		if !strings.Contains(fmt.Sprint(err), "unit "+name) {
			t.Errorf("the error does not name %s: %v", name, err)
		}
		for _, cmd := range pair.Unit(name).Commands() {
			if !slices.Contains([]string{"ha", "about"}, cmd) {
				t.Errorf("%s got %q", name, cmd)
			}
		}
		if len(pair.Unit(name).Uploaded()) != 0 {
			t.Errorf("%s got an upload", name)
		}
	}
	expectSafe(t, pair)
}

// printed renders v every way a caller might print, encode or log it.
func printed(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		fmt.Fprintf(&b, f+"\n", v)
	}
	fmt.Fprintf(&b, "%+v %+v\n", []any{v}, struct{ V any }{v})
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	b.Write(j)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "v", v)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "v", v)
	b.WriteString(logs.String())
	return b.String()
}

func TestPasswordNeverPrinted(t *testing.T) {
	_, cfg := startPair(t, clavistertest.Faults{})
	c, err := clavister.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if _, err := c.Observe(t.Context()); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{
		"Config": cfg, "*Config": &cfg, "*Cluster": c, "Cluster": *c,
		"*Member": c.Member("fw-a"), "Members": c.Members(),
	} {
		out := printed(t, v)
		if strings.Contains(out, cfg.Password) {
			t.Errorf("%s: password printed:\n%s", name, out)
		}
		if !strings.Contains(out, "fw-a") {
			t.Errorf("%s: prints nothing useful:\n%s", name, out)
		}
	}
}
