package junos_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hitless/hitless/junos"
)

func validConfig(t *testing.T) junos.Config {
	t.Helper()
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	pkg := filepath.Join(dir, "junos-install-vsrx3-x86-64-22.4R3-S2.tgz")
	for _, f := range []string{kh, pkg} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(kh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return junos.Config{
		Name: "vsrx-ha", Pod: "dal10-pod01",
		Nodes:    [2]junos.Address{{Host: "10.0.0.10"}, {Host: "10.0.0.11"}},
		Username: "root", Password: "Sup3r-Secret!", KnownHostsFile: kh, PackagePath: pkg, ArtifactsDir: filepath.Join(dir, "artifacts"),
		Reload: &junos.ReloadCheck{PortalRootPassword: "Portal-Pw-42"},
	}
}

func TestConfigValidate(t *testing.T) {
	if err := validConfig(t).Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	bad := validConfig(t)
	bad.Name = "bad name"
	bad.Pod = "-pod"
	bad.Nodes = [2]junos.Address{{Host: "10.0.0.10:22"}, {Host: "", Port: 70000}}
	bad.Username = ""
	bad.Password = ""
	bad.KnownHostsFile = filepath.Join(t.TempDir(), "missing")
	bad.PackagePath = filepath.Join(t.TempDir(), "vsrx.qcow2")
	bad.ArtifactsDir = ""
	bad.StorageFactor = -1
	bad.Reload = &junos.ReloadCheck{}
	err := bad.Validate()
	for _, field := range []string{"Name", "Pod", "Nodes[0].Host", "Nodes[1].Host", "Nodes[1].Port", "Username", "Password",
		"KnownHostsFile", "PackagePath", "ArtifactsDir", "StorageFactor", "Reload.PortalRootPassword"} {
		if !strings.Contains(err.Error(), "config: "+field+":") {
			t.Errorf("no problem reported for %s in %v", field, err)
		}
	}
	var ce *junos.ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, junos.ErrConfig) {
		t.Errorf("want *ConfigError values, got %T", err)
	}
	missing := validConfig(t)
	missing.PackagePath = filepath.Join(t.TempDir(), "junos-install-vsrx3-x86-64-22.4R3-S2.tgz")
	if err := missing.Validate(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing package: %v", err)
	}
	same := validConfig(t)
	same.Nodes[1] = same.Nodes[0]
	if err := same.Validate(); err == nil || !strings.Contains(err.Error(), "own fxp0 address") {
		t.Errorf("both nodes on one address: %v", err)
	}
	shell := validConfig(t)
	p := filepath.Join(t.TempDir(), "x;reboot.tgz")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	shell.PackagePath = p
	if err := shell.Validate(); err == nil || !strings.Contains(err.Error(), "PackagePath") {
		t.Errorf("package name with a shell character: %v", err)
	}
}

func TestConfigNeverShowsPasswords(t *testing.T) {
	cfg := validConfig(t)
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		outs = append(outs, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg))
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "config", cfg)
	outs = append(outs, string(j), logs.String())
	for _, o := range outs {
		for _, secret := range []string{cfg.Password, cfg.Reload.PortalRootPassword} {
			if strings.Contains(o, secret) {
				t.Errorf("a password shows in %q", o)
			}
		}
	}
	if !strings.Contains(outs[0], "********") || !strings.Contains(string(j), "10.0.0.11:22") {
		t.Errorf("redacted output: %s / %s", outs[0], j)
	}
	if got := cfg.Secrets(); len(got) != 2 {
		t.Errorf("Secrets() = %d values, want 2", len(got))
	}
}
