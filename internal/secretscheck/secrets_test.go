package secretscheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/driver"
)

const (
	password   = "Pw-0f-The-Day!"
	passphrase = "Key-Passphrase-42"
)

// TestNoConfigLeaksASecret prints every configuration type that carries a
// credential, alone and inside a struct, under every fmt verb, as JSON and
// through slog's text and JSON handlers, and fails if a secret shows.
func TestNoConfigLeaksASecret(t *testing.T) {
	values := map[string]any{
		"driver.Config": driver.Config{Host: "192.0.2.1", Username: "admin", Password: password, Passphrase: passphrase},
		"clavister.Config": clavister.Config{Name: "hq", Username: "admin", Password: password,
			Units: [2]clavister.Unit{{Name: "fw-a", Host: "192.0.2.1"}, {Name: "fw-b", Host: "192.0.2.2"}}},
		"aviatrix.Config": aviatrix.Config{URL: "https://192.0.2.10", Username: "admin", Password: password},
	}
	for name, v := range values {
		// A pointer, and a struct that holds the value, must not leak either.
		holders := map[string]any{"value": v, "pointer": ptr(v), "in a struct": struct{ Cfg any }{v}, "in a slice": []any{v}}
		for how, h := range holders {
			t.Run(name+"/"+how, func(t *testing.T) {
				for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%t", "%x", "%X", "%T %[1]v", "%10.3v"} {
					check(t, verb, fmt.Sprintf(verb, h))
				}
				if b, err := json.Marshal(h); err == nil {
					check(t, "json", string(b))
				}
				for _, hf := range []func(*bytes.Buffer) slog.Handler{
					func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
					func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
				} {
					var buf bytes.Buffer
					slog.New(hf(&buf)).Info("config", "cfg", h)
					check(t, "slog", buf.String())
				}
			})
		}
	}
}

func ptr(v any) any {
	switch c := v.(type) {
	case driver.Config:
		return &c
	case clavister.Config:
		return &c
	case aviatrix.Config:
		return &c
	}
	panic(fmt.Sprintf("no pointer case for %T", v))
}

func check(t *testing.T, how, out string) {
	t.Helper()
	for _, s := range []string{password, passphrase, fmt.Sprintf("%x", password), fmt.Sprintf("%X", password)} {
		if strings.Contains(out, s) {
			t.Errorf("%s leaks a secret: %s", how, out)
		}
	}
}
