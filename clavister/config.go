package clavister

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hitless/hitless/driver"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Defaults applied by New when the corresponding Config field is zero.
const (
	// DefaultApplyCommand is the CLI command sent after the .upg upload to
	// make the unit install it. It is UNVERIFIED: the cOS Core
	// Administration Guide's "Upgrading an HA Cluster" names the Web UI,
	// InControl and SCP as ways to upload a .upg, but no public page shows
	// the CLI step that applies an SCP-uploaded one. "shutdown -reboot" is
	// the full restart documented for the OEM build D-Link NetDefendOS,
	// during which the unit installs the uploaded package. Confirm it on a
	// lab unit before running against production.
	DefaultApplyCommand = "shutdown -reboot"
	// DefaultCommandTimeout bounds one CLI command when the caller's context
	// has no sooner deadline.
	DefaultCommandTimeout = 60 * time.Second
	// DefaultReconnectTimeout bounds how long one Status, Install or
	// Failover call keeps redialling a unit whose session went away.
	DefaultReconnectTimeout = 30 * time.Second
	// DefaultApplyGrace is the default Config.ApplyGrace. How long a unit
	// keeps answering after acknowledging the apply command is not
	// documented publicly; two minutes is generous for a restart command
	// and short beside the 10–15 min a unit upgrade is planned to take.
	DefaultApplyGrace = 2 * time.Minute
)

// Unit is one unit of the HA pair, as the SDK reaches it.
type Unit struct {
	// Name identifies the unit in plans, step IDs, journals, reports and
	// errors (the upgrade.Member ID). 1-63 characters of [A-Za-z0-9._-],
	// starting with a letter or digit, e.g. "fw-a". Unique within the pair.
	Name string
	// Host is the unit's OWN management address: its private "IP4 HA
	// address" (an IP address or DNS name, without a port). Never the
	// shared cluster IP: the shared IP is for routing only, cannot be used
	// for management, and a session to it follows whichever unit is active
	// (cOS Core Administration Guide, High Availability chapter).
	Host string
	// Port is the unit's SSH port; 0 means 22.
	Port int
}

// addr returns "host:port" for messages and duplicate checks.
func (u Unit) addr() string {
	p := u.Port
	if p == 0 {
		p = 22
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(p))
}

// Config describes one Clavister cOS Core HA pair and how to upgrade it.
// Validate checks it; New refuses to dial anything before it passes.
//
// Config implements fmt.Formatter, fmt.Stringer, fmt.GoStringer,
// slog.LogValuer and json.Marshaler with the password redacted, so
// printing, logging or encoding a Config never shows it.
type Config struct {
	// Name is the cluster name (upgrade.Cluster.Name): plan, journal and
	// report key. Same grammar as Unit.Name.
	Name string
	// Units are the two units of the pair, each with its own management
	// address (see Unit.Host). Their order is the member order in
	// snapshots; it does not say which one is master.
	Units [2]Unit
	// Username is the CLI login name (required; factory default "admin").
	Username string
	// Password is the CLI password (required). It is never logged,
	// printed, recorded in transcripts or put in errors.
	Password string
	// KnownHostsFile is an OpenSSH known_hosts file listing both units'
	// host keys (required: host keys are always verified; there is no
	// switch to skip it).
	KnownHostsFile string
	// FirmwarePath is the local model-specific .upg file to install
	// (required; a readable regular file whose name matches
	// [A-Za-z0-9._+-]+\.upg, since the name is sent to the device).
	FirmwarePath string
	// RemoteDir is the directory on the unit the .upg is copied to by SCP.
	// "" means the SCP default (the unit's root, as in
	// "scp <file>.upg admin@<unit-ip>:", the form the cOS Core
	// Administration Guide shows). The target path is inferred; confirm it
	// on a lab unit. Relative, [A-Za-z0-9._/-] only, no "..".
	RemoteDir string
	// ApplyCommand is the CLI command that makes the unit install the
	// uploaded .upg; "" means DefaultApplyCommand ("shutdown -reboot").
	// The placeholder {file} is replaced by the uploaded file's remote
	// path, for firmware whose CLI takes it (e.g. "upgrade {file}").
	//
	// UNVERIFIED: the CLI step that applies an SCP-uploaded .upg is not
	// documented publicly (see DefaultApplyCommand). Confirm the command
	// on a lab unit before use. Commands containing the word "reset" are
	// refused: in Clavister products "reset" can mean a factory reset.
	ApplyCommand string
	// RequireUploadSize makes Stage and Install fail (ErrUploadUnverified),
	// and Apply refuse, when the unit lists the package without its size.
	// After the SCP upload Stage lists the unit's files with `ls`
	// (`ls <RemoteDir>`); when the listing shows the package with a size
	// it must equal the local file's (driver.ErrSizeMismatch otherwise;
	// nothing is applied). The only public `ls` capture (an OEM build's
	// manual, Amer Networks E5Web) prints names only, and whether any cOS
	// Core listing prints sizes is not documented, so by default
	// (false) a listing without sizes is accepted on the strength of the
	// unit's SCP acknowledgement of every byte, with a warning in the log:
	// the size is verified "where the device allows". The unit upgraded is
	// always the INACTIVE one, and a damaged package is then caught when it
	// comes back on its old version (ErrInstallNotTaken, at once). Set it
	// once a lab unit shows a sized listing.
	RequireUploadSize bool
	// CommandTimeout bounds one CLI command when the caller's context has
	// no sooner deadline; 0 means DefaultCommandTimeout.
	CommandTimeout time.Duration
	// DialTimeout bounds one SSH connection attempt (TCP, handshake, first
	// prompt); 0 means the platform's (15 s).
	DialTimeout time.Duration
	// ReconnectTimeout bounds how long one call keeps redialling a unit
	// whose session went away (e.g. a reboot); 0 means
	// DefaultReconnectTimeout. The reboot itself is waited for by the
	// planner's health gates (Planner.GateTiming), which poll again.
	ReconnectTimeout time.Duration
	// ReconnectBackoff is the redial schedule within ReconnectTimeout; the
	// zero value means driver.DefaultBackoff.
	ReconnectBackoff driver.Backoff
	// ApplyGrace is the longest time a unit may keep answering, still on
	// its old version, after acknowledging ApplyCommand and before its
	// reboot drops the sessions; 0 means DefaultApplyGrace. It is used
	// only after a process restart: when an interrupted install is
	// verified on resume, a unit seen up on its old version, without
	// restarting, for ApplyGrace after the verification began cannot have
	// an apply command pending; and a resumed post-install gate that finds
	// the unit on its old version, not seen restarting, for ApplyGrace
	// fails with ErrInstallNotTaken (see "Resuming an install" at
	// Planner). The real delay is not documented publicly; measure it on
	// a lab unit.
	ApplyGrace time.Duration
	// Logger receives the SDK's records (installs, failovers, reconnects)
	// and the driver's debug records; nil discards.
	Logger *slog.Logger
	// Transcript, if non-nil, records every command sent to either unit
	// (password redacted).
	Transcript *driver.Transcript
}

// ErrConfig is the category of every Config problem; matched by
// *ConfigError.
var ErrConfig = errors.New("clavister: invalid configuration")

// ConfigError is one invalid Config field. Validate joins one ConfigError
// per problem with errors.Join, so every problem is reported at once.
type ConfigError struct {
	// Field names the field, e.g. "Units[1].Port" or "FirmwarePath".
	Field string
	// Problem says what is wrong.
	Problem string
	// Err is the underlying error when there is one (an *fs.PathError for
	// a missing or unreadable file), so errors.Is(err, fs.ErrNotExist)
	// works.
	Err error
}

// Error names the field and the problem.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("clavister: config: %s: %s", e.Field, e.Problem)
}

// Is matches ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// Unwrap returns the underlying error, if any.
func (e *ConfigError) Unwrap() error { return e.Err }

var (
	// nameGrammar is what cluster and unit names may look like: they end up
	// in step IDs, journals and file names.
	nameGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	// firmwareGrammar is what the .upg file name may look like: it is sent
	// to the device (SCP target, ApplyCommand's {file}).
	firmwareGrammar = regexp.MustCompile(`^[A-Za-z0-9._+-]+\.upg$`)
	// remoteDirGrammar is what RemoteDir may look like.
	remoteDirGrammar = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
	// resetWord finds "reset" as a word in an ApplyCommand.
	resetWord = regexp.MustCompile(`(?i)(^|[^a-z])reset`)
)

// Validate reports every problem with c at once: one *ConfigError per
// problem, naming the field, joined with errors.Join (nil when c is
// usable). It reads the local files c names (known_hosts must parse, the
// firmware must be a readable regular file) but dials nothing.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, problem string, err error) {
		errs = append(errs, &ConfigError{Field: field, Problem: problem, Err: err})
	}
	if !nameGrammar.MatchString(c.Name) {
		bad("Name", fmt.Sprintf("%q must be 1-63 characters of [A-Za-z0-9._-] starting with a letter or digit", c.Name), nil)
	}
	for i, u := range c.Units {
		f := fmt.Sprintf("Units[%d]", i)
		if !nameGrammar.MatchString(u.Name) {
			bad(f+".Name", fmt.Sprintf("%q must be 1-63 characters of [A-Za-z0-9._-] starting with a letter or digit", u.Name), nil)
		}
		switch h := u.Host; {
		case h == "":
			bad(f+".Host", "required: the unit's own management address (never the shared cluster IP)", nil)
		case strings.TrimSpace(h) != h || strings.ContainsAny(h, " \t\r\n/@[]"):
			bad(f+".Host", fmt.Sprintf("%q is not a host name or IP address", h), nil)
		case strings.Contains(h, ":") && net.ParseIP(h) == nil:
			bad(f+".Host", fmt.Sprintf("%q must not include a port; use Port", h), nil)
		}
		if u.Port < 0 || u.Port > 65535 {
			bad(f+".Port", fmt.Sprintf("%d is out of range 1-65535 (0 means 22)", u.Port), nil)
		}
	}
	if a, b := c.Units[0], c.Units[1]; a.Name != "" && a.Name == b.Name {
		bad("Units[1].Name", fmt.Sprintf("duplicate unit name %q", b.Name), nil)
	}
	if a, b := c.Units[0], c.Units[1]; a.Host != "" && strings.EqualFold(a.addr(), b.addr()) {
		bad("Units[1].Host", fmt.Sprintf("both units use %s: each unit needs its own management address, not the shared cluster IP", b.addr()), nil)
	}
	if c.Username == "" {
		bad("Username", "required", nil)
	} else if strings.ContainsAny(c.Username, " \t\r\n@:") {
		bad("Username", "must not contain spaces, line breaks, '@' or ':'", nil)
	}
	if c.Password == "" {
		bad("Password", "required", nil)
	}
	if c.KnownHostsFile == "" {
		bad("KnownHostsFile", "required: host keys are always verified against a known_hosts file", nil)
	} else if _, err := knownhosts.New(c.KnownHostsFile); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			bad("KnownHostsFile", fmt.Sprintf("%s: %v", pe.Path, pe.Err), err)
		} else {
			bad("KnownHostsFile", "cannot parse: "+err.Error(), err)
		}
	}
	if c.FirmwarePath == "" {
		bad("FirmwarePath", "required: the local .upg file to install", nil)
	} else {
		if !firmwareGrammar.MatchString(filepath.Base(c.FirmwarePath)) {
			bad("FirmwarePath", fmt.Sprintf("file name %q must match [A-Za-z0-9._+-]+\\.upg", filepath.Base(c.FirmwarePath)), nil)
		}
		if err := readableFile(c.FirmwarePath); err != nil {
			bad("FirmwarePath", err.Error(), err)
		}
	}
	if d := c.RemoteDir; d != "" {
		if !remoteDirGrammar.MatchString(d) || strings.HasPrefix(d, "/") || slices.Contains(strings.Split(d, "/"), "..") {
			bad("RemoteDir", fmt.Sprintf("%q must be a relative path of [A-Za-z0-9._/-] without \"..\"", d), nil)
		}
	}
	if ac := c.ApplyCommand; ac != "" {
		switch {
		case strings.TrimSpace(ac) == "":
			bad("ApplyCommand", "is blank", nil)
		case strings.IndexFunc(ac, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
			bad("ApplyCommand", "must be one line without control characters", nil)
		case resetWord.MatchString(ac):
			bad("ApplyCommand", fmt.Sprintf("%q is refused: a \"reset\" variant can factory-reset a Clavister unit", ac), nil)
		}
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"CommandTimeout", c.CommandTimeout}, {"DialTimeout", c.DialTimeout}, {"ReconnectTimeout", c.ReconnectTimeout},
		{"ReconnectBackoff.Initial", c.ReconnectBackoff.Initial}, {"ReconnectBackoff.Max", c.ReconnectBackoff.Max},
		{"ApplyGrace", c.ApplyGrace},
	} {
		if d.v < 0 {
			bad(d.field, fmt.Sprintf("%v must not be negative", d.v), nil)
		}
	}
	if c.ReconnectBackoff.Factor < 0 {
		bad("ReconnectBackoff.Factor", fmt.Sprintf("%v must not be negative", c.ReconnectBackoff.Factor), nil)
	}
	return errors.Join(errs...)
}

// readableFile returns an *fs.PathError unless p is a regular file that can
// be opened for reading and is not empty.
func readableFile(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	switch {
	case !fi.Mode().IsRegular():
		return &fs.PathError{Op: "open", Path: p, Err: errors.New("not a regular file")}
	case fi.Size() == 0:
		return &fs.PathError{Op: "open", Path: p, Err: errors.New("file is empty")}
	}
	return nil
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.ApplyCommand == "" {
		c.ApplyCommand = DefaultApplyCommand
	}
	if c.CommandTimeout == 0 {
		c.CommandTimeout = DefaultCommandTimeout
	}
	if c.ReconnectTimeout == 0 {
		c.ReconnectTimeout = DefaultReconnectTimeout
	}
	if c.ReconnectBackoff == (driver.Backoff{}) {
		c.ReconnectBackoff = driver.DefaultBackoff
	}
	if c.ApplyGrace == 0 {
		c.ApplyGrace = DefaultApplyGrace
	}
	return c
}

// remotePath is where the firmware is copied on each unit.
func (c Config) remotePath() string {
	name := filepath.Base(c.FirmwarePath)
	if c.RemoteDir == "" {
		return name
	}
	return path.Join(c.RemoteDir, name)
}

// applyCommand returns the command that applies the uploaded firmware.
func (c Config) applyCommand() string {
	ac := c.ApplyCommand
	if ac == "" {
		ac = DefaultApplyCommand
	}
	return strings.ReplaceAll(ac, "{file}", c.remotePath())
}

// redacted returns a copy of c whose Password is replaced by "********"
// (or left empty when unset).
func (c Config) redacted() Config {
	if c.Password != "" {
		c.Password = "********"
	}
	return c
}

// String describes c with the password redacted.
func (c Config) String() string {
	r := c.redacted()
	return fmt.Sprintf("clavister.Config{Name:%q Units:[%s %s, %s %s] Username:%q Password:%q KnownHostsFile:%q FirmwarePath:%q RemoteDir:%q ApplyCommand:%q}",
		r.Name, r.Units[0].Name, r.Units[0].addr(), r.Units[1].Name, r.Units[1].addr(), r.Username, r.Password,
		r.KnownHostsFile, r.FirmwarePath, r.RemoteDir, r.applyCommand())
}

// GoString is String, so %#v redacts the password too.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb (%v, %+v, %#v, %s, %q, %d,
// ...) prints String, so the password is never printed.
func (c Config) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// MarshalJSON encodes c with the password as "********" (when set); the
// Logger and Transcript are left out.
func (c Config) MarshalJSON() ([]byte, error) {
	r := c.redacted()
	return json.Marshal(struct {
		Name              string         `json:"name"`
		Units             [2]Unit        `json:"units"`
		Username          string         `json:"username"`
		Password          string         `json:"password,omitempty"`
		KnownHostsFile    string         `json:"known_hosts_file"`
		FirmwarePath      string         `json:"firmware_path"`
		RemoteDir         string         `json:"remote_dir,omitempty"`
		ApplyCommand      string         `json:"apply_command,omitempty"`
		RequireUploadSize bool           `json:"require_upload_size,omitempty"`
		CommandTimeout    time.Duration  `json:"command_timeout_ns,omitempty"`
		DialTimeout       time.Duration  `json:"dial_timeout_ns,omitempty"`
		ReconnectTimeout  time.Duration  `json:"reconnect_timeout_ns,omitempty"`
		ReconnectBackoff  driver.Backoff `json:"reconnect_backoff"`
		ApplyGrace        time.Duration  `json:"apply_grace_ns,omitempty"`
	}{r.Name, r.Units, r.Username, r.Password, r.KnownHostsFile, r.FirmwarePath, r.RemoteDir, r.ApplyCommand,
		r.RequireUploadSize, r.CommandTimeout, r.DialTimeout, r.ReconnectTimeout, r.ReconnectBackoff, r.ApplyGrace})
}

// formatRedacted writes s (already redacted) for any verb: quoted for %q,
// as is otherwise.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", s)
		return
	}
	_, _ = io.WriteString(f, s)
}

// LogValue implements slog.LogValuer without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name),
		slog.String("unit0", c.Units[0].Name+"@"+c.Units[0].addr()),
		slog.String("unit1", c.Units[1].Name+"@"+c.Units[1].addr()),
		slog.String("username", c.Username),
		slog.String("firmware", c.FirmwarePath),
		slog.String("apply_command", c.applyCommand()),
	)
}

// driverConfig is the driver.Config for unit i.
func (c Config) driverConfig(i int) driver.Config {
	return driver.Config{
		Host:           c.Units[i].Host,
		Port:           c.Units[i].Port,
		Username:       c.Username,
		Password:       c.Password,
		KnownHostsFile: c.KnownHostsFile,
		Platform:       nil, // set by New (clavister_cos_core)
		Timeout:        c.CommandTimeout,
		DialTimeout:    c.DialTimeout,
		Logger:         c.Logger,
		Transcript:     c.Transcript,
	}
}
