package clavister

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testKnownHosts is a syntactically valid known_hosts line.
const testKnownHosts = "[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfNHOS2lMUG5CHkaLHCKm9FUPF42R5ECO6FjXoDZvB8\n"

// validConfig returns a Config that passes Validate, with its files in a
// temporary directory.
func validConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	fw := filepath.Join(dir, "cos-core-14.00.11.upg")
	if err := os.WriteFile(kh, []byte(testKnownHosts), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fw, []byte("firmware"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Config{
		Name:           "hq",
		Units:          [2]Unit{{Name: "fw-a", Host: "10.0.0.1"}, {Name: "fw-b", Host: "10.0.0.2"}},
		Username:       "admin",
		Password:       "s3cret-Pa55",
		KnownHostsFile: kh,
		FirmwarePath:   fw,
	}
}

// fields returns the Field of every *ConfigError in err.
func fields(err error) []string {
	var out []string
	if err == nil {
		return nil
	}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *ConfigError
		if errors.As(e, &ce) {
			out = append(out, ce.Field)
		}
	}
	return out
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string // fields in error, in order
		is     error    // extra errors.Is target
	}{
		{"valid", func(*Config) {}, nil, nil},
		{"valid with options", func(c *Config) {
			c.Units[0].Port, c.Units[1].Port = 22, 2222
			c.RemoteDir = "upgrade/pkg"
			c.ApplyCommand = "upgrade {file}"
			c.CommandTimeout, c.ReconnectTimeout = time.Minute, time.Hour
		}, nil, nil},
		{"IPv6 hosts", func(c *Config) { c.Units[0].Host, c.Units[1].Host = "fd00::1", "fd00::2" }, nil, nil},
		{"same host different ports", func(c *Config) { c.Units[1].Host, c.Units[1].Port = "10.0.0.1", 2222 }, nil, nil},
		{"zero", func(c *Config) { *c = Config{} }, []string{"Name", "Units[0].Name", "Units[0].Host", "Units[1].Name", "Units[1].Host", "Username", "Password", "KnownHostsFile", "FirmwarePath"}, nil},
		{"bad names", func(c *Config) { c.Name, c.Units[0].Name, c.Units[1].Name = "-x", "a b", strings.Repeat("x", 64) }, []string{"Name", "Units[0].Name", "Units[1].Name"}, nil},
		{"duplicate unit names", func(c *Config) { c.Units[1].Name = "fw-a" }, []string{"Units[1].Name"}, nil},
		{"same address twice", func(c *Config) { c.Units[1].Host = "10.0.0.1" }, []string{"Units[1].Host"}, nil},
		{"same address, port 0 and 22", func(c *Config) { c.Units[1].Host, c.Units[1].Port = "10.0.0.1", 22 }, []string{"Units[1].Host"}, nil},
		{"bad ports", func(c *Config) { c.Units[0].Port, c.Units[1].Port = -1, 65536 }, []string{"Units[0].Port", "Units[1].Port"}, nil},
		{"host with port", func(c *Config) { c.Units[0].Host = "10.0.0.1:22" }, []string{"Units[0].Host"}, nil},
		{"host with space", func(c *Config) { c.Units[0].Host = "10.0.0.1 " }, []string{"Units[0].Host"}, nil},
		{"username with newline", func(c *Config) { c.Username = "admin\nha -deactivate" }, []string{"Username"}, nil},
		{"known_hosts missing", func(c *Config) { c.KnownHostsFile = filepath.Join(t.TempDir(), "nope") }, []string{"KnownHostsFile"}, fs.ErrNotExist},
		{"firmware missing", func(c *Config) { c.FirmwarePath = filepath.Join(t.TempDir(), "x.upg") }, []string{"FirmwarePath"}, fs.ErrNotExist},
		{"firmware is a directory", func(c *Config) {
			d := filepath.Join(t.TempDir(), "d.upg")
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
			c.FirmwarePath = d
		}, []string{"FirmwarePath"}, nil},
		{"firmware empty", func(c *Config) {
			p := filepath.Join(t.TempDir(), "e.upg")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			c.FirmwarePath = p
		}, []string{"FirmwarePath"}, nil},
		{"firmware bad name", func(c *Config) {
			p := filepath.Join(t.TempDir(), "fw;reboot.bin")
			if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			c.FirmwarePath = p
		}, []string{"FirmwarePath"}, nil},
		{"remote dir absolute", func(c *Config) { c.RemoteDir = "/etc" }, []string{"RemoteDir"}, nil},
		{"remote dir dotdot", func(c *Config) { c.RemoteDir = "a/../.." }, []string{"RemoteDir"}, nil},
		{"remote dir shell", func(c *Config) { c.RemoteDir = "a;b" }, []string{"RemoteDir"}, nil},
		{"apply reset", func(c *Config) { c.ApplyCommand = "reset -unit" }, []string{"ApplyCommand"}, nil},
		{"apply RESET in options", func(c *Config) { c.ApplyCommand = "shutdown -Reset" }, []string{"ApplyCommand"}, nil},
		{"apply two lines", func(c *Config) { c.ApplyCommand = "shutdown\nreboot" }, []string{"ApplyCommand"}, nil},
		{"apply blank", func(c *Config) { c.ApplyCommand = "  " }, []string{"ApplyCommand"}, nil},
		{"negative durations", func(c *Config) {
			c.CommandTimeout, c.DialTimeout, c.ReconnectTimeout = -1, -1, -1
			c.ReconnectBackoff.Initial, c.ReconnectBackoff.Max, c.ReconnectBackoff.Factor = -1, -1, -1
		}, []string{"CommandTimeout", "DialTimeout", "ReconnectTimeout", "ReconnectBackoff.Initial", "ReconnectBackoff.Max", "ReconnectBackoff.Factor"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig(t)
			tt.mutate(&c)
			err := c.Validate()
			if got := fields(err); !slices.Equal(got, tt.want) {
				t.Fatalf("fields: got %q, want %q\nerror: %v", got, tt.want, err)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("error does not match ErrConfig: %v", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error does not match %v: %v", tt.is, err)
			}
			if err != nil && c.Password != "" && strings.Contains(err.Error(), c.Password) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestConfigNeverShowsPassword(t *testing.T) {
	c := validConfig(t)
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logged.String(), c.String()} {
		if strings.Contains(s, c.Password) {
			t.Errorf("password shown: %s", s)
		}
	}
	if !strings.Contains(c.String(), "********") {
		t.Errorf("String does not show that a password is set: %s", c)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := validConfig(t).withDefaults()
	if c.ApplyCommand != "shutdown -reboot" || c.CommandTimeout != DefaultCommandTimeout || c.ReconnectTimeout != DefaultReconnectTimeout || c.ReconnectBackoff.Initial == 0 {
		t.Errorf("defaults: %+v", c)
	}
	c.RemoteDir, c.ApplyCommand = "pkg", "upgrade {file}"
	if got := c.remotePath(); got != "pkg/cos-core-14.00.11.upg" {
		t.Errorf("remotePath %q", got)
	}
	if got := c.applyCommand(); got != "upgrade pkg/cos-core-14.00.11.upg" {
		t.Errorf("applyCommand %q", got)
	}
}
