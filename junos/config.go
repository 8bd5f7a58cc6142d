package junos

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hitless/hitless/driver"
	"golang.org/x/crypto/ssh/knownhosts"
)

// NodeNames are the member IDs of a chassis cluster: the node names Junos
// prints in `show chassis cluster status` ("node0", "node1"). Config.Nodes[i]
// is the address of NodeNames[i].
var NodeNames = [2]string{"node0", "node1"}

// Defaults applied by New when the corresponding Config field is zero.
const (
	// DefaultCommandTimeout bounds one CLI command (a status read, a
	// commit, a failover) when the caller's context has no sooner deadline.
	DefaultCommandTimeout = 2 * time.Minute
	// DefaultInstallTimeout bounds `request system software add` with
	// validation, which runs for minutes on a vSRX (Juniper KB17947 plans
	// 25–30 min for a whole node upgrade, the reboot included).
	DefaultInstallTimeout = 30 * time.Minute
	// DefaultReconnectTimeout bounds how long one action (a reboot's last
	// check, a failover, a stage) keeps redialling a node whose session
	// went away. Observations try once: a rebooting node is reported down.
	DefaultReconnectTimeout = time.Minute
	// DefaultStorageFactor is how many times the package size /var must
	// have free before staging: about three times the package (Juniper
	// KB17947's pre-flight; the install unpacks it beside the copy).
	DefaultStorageFactor = 3
)

// Address is how the SDK reaches one node: its OWN management address
// (fxp0), never a redundant (reth) or cluster address. An RG0 failover
// restarts the routing engine's processes on the new primary and sessions
// to a shared address would follow it (Junos OS Chassis Cluster User Guide
// for SRX Series); one session per node, each on its fxp0, survives it.
type Address struct {
	// Host is the node's fxp0 address: an IP address or DNS name, without
	// a port.
	Host string
	// Port is the SSH port; 0 means 22.
	Port int
}

// String returns "host:port".
func (a Address) String() string {
	p := a.Port
	if p == 0 {
		p = 22
	}
	return net.JoinHostPort(a.Host, strconv.Itoa(p))
}

// ReloadCheck is what the user knows for the readiness of an IBM Cloud OS
// Reload of a vSRX gateway (IBM Cloud docs, "Upgrading the vSRX" and the
// readiness check): the reload logs in to each node as root over SSH with
// the root password the IBM Cloud portal holds. Cluster.CheckReloadReadiness
// (and Cluster.PreCheck, when Config.Reload is set) checks on both nodes
// that:
//
//   - root may log in over SSH: the configuration has no `system services
//     ssh root-login deny` (nor deny-password, which refuses the password
//     login the reload uses);
//   - the portal's root password logs in as root over SSH on the node's
//     own address (a refused login means the password differs from the
//     portal's, or root login is refused by something else).
//
// It does not compare password hashes, does not check the IPMI interface,
// and does not replace IBM's own readiness check.
type ReloadCheck struct {
	// PortalRootPassword is the root password the IBM Cloud portal holds
	// for the gateway (required). Never logged, printed or put in errors.
	PortalRootPassword string
}

// Config describes one Juniper SRX/vSRX chassis cluster and how to upgrade
// it. Validate checks it; New refuses to dial anything before it passes.
//
// Config implements fmt.Formatter, fmt.Stringer, fmt.GoStringer,
// slog.LogValuer and json.Marshaler with the passwords redacted, so
// printing, logging or encoding a Config never shows them.
type Config struct {
	// Name is the cluster name (upgrade.Cluster.Name): plan, journal,
	// report and artifact key. 1-63 characters of [A-Za-z0-9._-],
	// starting with a letter or digit.
	Name string
	// Pod is the topology unit the cluster belongs to (an IBM Cloud pod, a
	// site); optional, same grammar as Name. IBM Cloud upgrades only one
	// gateway per pod at a time (IBM Cloud docs, "Upgrading the vSRX"):
	// Cluster.RolloutTarget puts it in upgrade.RolloutTarget.Group, and
	// upgrade.Rollout.PerGroup (default 1) then keeps two clusters of one
	// pod from running at once.
	Pod string
	// Nodes are the fxp0 addresses of node0 and node1, in that order (see
	// Address). The SDK checks on every read that the address answers as
	// the node it is configured for (the {state:nodeN} banner).
	Nodes [2]Address
	// Username is the CLI login (required), e.g. "root" on IBM Cloud
	// vSRX; the login must land in the Junos CLI, not the FreeBSD shell.
	Username string
	// Password is the login password (required). Never logged, printed,
	// recorded in transcripts or put in errors.
	Password string
	// KnownHostsFile is an OpenSSH known_hosts file listing both nodes'
	// host keys (required: host keys are always verified).
	KnownHostsFile string
	// PackagePath is the local Junos install package (required): a
	// readable regular file whose name matches
	// [A-Za-z0-9][A-Za-z0-9._+-]*\.(tgz|tar.gz), e.g.
	// "junos-install-vsrx3-x86-64-22.4R3-S2.tgz" (vSRX 3.0). It is copied
	// to /var/tmp/<name> on each node by SCP and installed with `request
	// system software add /var/tmp/<name> no-copy` (with validation).
	// .qcow2 deployment images are not upgrade packages and are refused.
	PackagePath string
	// ArtifactsDir is the local directory where a run keeps what it must
	// not lose (required; created if missing): under
	// <ArtifactsDir>/<Name>-<target>/, the configuration exported before
	// the upgrade (config-before.set, `show configuration | display set`,
	// mode 0600: it holds the configuration's encrypted secrets) and the
	// small marker files that let a restarted process tell a staged
	// package or a sent reboot from one never sent.
	ArtifactsDir string
	// RestorePreempt re-enables, after the upgrade, the preempt statements
	// of the data redundancy groups (RG1 and up) that the export recorded.
	// The plan disables them for the upgrade (Juniper KB17947: preempt
	// would pull a group to a node that has just rebooted); by default
	// they stay disabled afterwards. A restored preempt may move a group
	// back to the node with the higher configured priority at once.
	RestorePreempt bool
	// StorageFactor is how many times the package size /var must have free
	// on a node before the package is staged there; 0 means
	// DefaultStorageFactor (3).
	StorageFactor int
	// Reload, when set, adds the IBM Cloud OS Reload readiness checks (see
	// ReloadCheck) to Cluster.PreCheck.
	Reload *ReloadCheck
	// CommandTimeout bounds one CLI command; 0 means DefaultCommandTimeout.
	CommandTimeout time.Duration
	// InstallTimeout bounds `request system software add`; 0 means
	// DefaultInstallTimeout.
	InstallTimeout time.Duration
	// DialTimeout bounds one SSH connection attempt; 0 means the
	// platform's (15 s).
	DialTimeout time.Duration
	// ReconnectTimeout bounds how long one action keeps redialling a node
	// whose session went away; 0 means DefaultReconnectTimeout. Reboots
	// are waited for by the planner's gates (Planner.GateTiming).
	ReconnectTimeout time.Duration
	// ReconnectBackoff is the redial schedule; the zero value means
	// driver.DefaultBackoff.
	ReconnectBackoff driver.Backoff
	// Logger receives the SDK's records and the driver's debug records;
	// nil discards.
	Logger *slog.Logger
	// Transcript, if non-nil, records every command sent to either node
	// (passwords redacted).
	Transcript *driver.Transcript
}

// ErrConfig is the category of every Config problem; matched by
// *ConfigError.
var ErrConfig = errors.New("junos: invalid configuration")

// ConfigError is one invalid Config field. Validate joins one ConfigError
// per problem with errors.Join, so every problem is reported at once.
type ConfigError struct {
	// Field names the field, e.g. "Nodes[1].Host" or "PackagePath".
	Field string
	// Problem says what is wrong.
	Problem string
	// Err is the underlying error when there is one (an *fs.PathError for
	// a missing file), so errors.Is(err, fs.ErrNotExist) works.
	Err error
}

// Error names the field and the problem.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("junos: config: %s: %s", e.Field, e.Problem)
}

// Is matches ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// Unwrap returns the underlying error, if any.
func (e *ConfigError) Unwrap() error { return e.Err }

var (
	// nameGrammar is what cluster and pod names may look like: they end up
	// in step IDs, journals and file names.
	nameGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	// packageGrammar is what the package file name may look like: it is
	// sent to the device (SCP target, software add).
	packageGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}\.(?:tgz|tar\.gz)$`)
)

// Validate reports every problem with c at once: one *ConfigError per
// problem, naming the field, joined with errors.Join (nil when c is
// usable). It reads the local files c names (known_hosts must parse, the
// package must be a readable non-empty regular file) but dials nothing.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, problem string, err error) {
		errs = append(errs, &ConfigError{Field: field, Problem: problem, Err: err})
	}
	if !nameGrammar.MatchString(c.Name) {
		bad("Name", fmt.Sprintf("%q must be 1-63 characters of [A-Za-z0-9._-] starting with a letter or digit", c.Name), nil)
	}
	if c.Pod != "" && !nameGrammar.MatchString(c.Pod) {
		bad("Pod", fmt.Sprintf("%q must be 1-63 characters of [A-Za-z0-9._-] starting with a letter or digit", c.Pod), nil)
	}
	for i, a := range c.Nodes {
		f := fmt.Sprintf("Nodes[%d]", i)
		switch h := a.Host; {
		case h == "":
			bad(f+".Host", "required: the fxp0 address of "+NodeNames[i], nil)
		case strings.TrimSpace(h) != h || strings.ContainsAny(h, " \t\r\n/@[]"):
			bad(f+".Host", fmt.Sprintf("%q is not a host name or IP address", h), nil)
		case strings.Contains(h, ":") && net.ParseIP(h) == nil:
			bad(f+".Host", fmt.Sprintf("%q must not include a port; use Port", h), nil)
		}
		if a.Port < 0 || a.Port > 65535 {
			bad(f+".Port", fmt.Sprintf("%d is out of range 1-65535 (0 means 22)", a.Port), nil)
		}
	}
	if a, b := c.Nodes[0], c.Nodes[1]; a.Host != "" && strings.EqualFold(a.String(), b.String()) {
		bad("Nodes[1].Host", fmt.Sprintf("both nodes use %s: each node needs its own fxp0 address", b.String()), nil)
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
	switch base := filepath.Base(c.PackagePath); {
	case c.PackagePath == "":
		bad("PackagePath", "required: the local Junos install package (.tgz)", nil)
	case strings.HasSuffix(strings.ToLower(base), ".qcow2"):
		bad("PackagePath", fmt.Sprintf("%q is a deployment image, not an upgrade package", base), nil)
	default:
		if !packageGrammar.MatchString(base) {
			bad("PackagePath", fmt.Sprintf("file name %q must match %s", base, packageGrammar), nil)
		}
		if err := readableFile(c.PackagePath); err != nil {
			bad("PackagePath", err.Error(), err)
		}
	}
	if c.ArtifactsDir == "" {
		bad("ArtifactsDir", "required: the local directory that keeps the configuration export and the run's markers", nil)
	} else if fi, err := os.Stat(c.ArtifactsDir); err == nil && !fi.IsDir() {
		bad("ArtifactsDir", fmt.Sprintf("%s is not a directory", c.ArtifactsDir), nil)
	}
	if c.StorageFactor < 0 {
		bad("StorageFactor", fmt.Sprintf("%d must not be negative", c.StorageFactor), nil)
	}
	if c.Reload != nil && c.Reload.PortalRootPassword == "" {
		bad("Reload.PortalRootPassword", "required when Reload is set", nil)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"CommandTimeout", c.CommandTimeout}, {"InstallTimeout", c.InstallTimeout}, {"DialTimeout", c.DialTimeout},
		{"ReconnectTimeout", c.ReconnectTimeout}, {"ReconnectBackoff.Initial", c.ReconnectBackoff.Initial},
		{"ReconnectBackoff.Max", c.ReconnectBackoff.Max},
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

// readableFile returns an *fs.PathError unless p is a non-empty regular
// file that can be opened for reading.
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
	if c.CommandTimeout == 0 {
		c.CommandTimeout = DefaultCommandTimeout
	}
	if c.InstallTimeout == 0 {
		c.InstallTimeout = DefaultInstallTimeout
	}
	if c.ReconnectTimeout == 0 {
		c.ReconnectTimeout = DefaultReconnectTimeout
	}
	if c.ReconnectBackoff == (driver.Backoff{}) {
		c.ReconnectBackoff = driver.DefaultBackoff
	}
	if c.StorageFactor == 0 {
		c.StorageFactor = DefaultStorageFactor
	}
	return c
}

// packageName is the package's file name (also its name in /var/tmp).
func (c Config) packageName() string { return filepath.Base(c.PackagePath) }

// remotePackage is where the package is copied on each node.
func (c Config) remotePackage() string { return "/var/tmp/" + c.packageName() }

// secrets returns the passwords to redact.
func (c Config) secrets() []string {
	var s []string
	if c.Password != "" {
		s = append(s, c.Password)
	}
	if c.Reload != nil && c.Reload.PortalRootPassword != "" {
		s = append(s, c.Reload.PortalRootPassword)
	}
	return s
}

// Secrets returns the passwords of c (Password, Reload.PortalRootPassword)
// for upgrade.Executor.Redact: a safety net that replaces them in events,
// journal records, reports and the run's error.
func (c Config) Secrets() []string { return c.secrets() }

// redacted returns a copy of c with its passwords replaced by "********".
func (c Config) redacted() Config {
	if c.Password != "" {
		c.Password = "********"
	}
	if c.Reload != nil {
		r := *c.Reload
		if r.PortalRootPassword != "" {
			r.PortalRootPassword = "********"
		}
		c.Reload = &r
	}
	return c
}

// String describes c with the passwords redacted.
func (c Config) String() string {
	r := c.redacted()
	reload := "<nil>"
	if r.Reload != nil {
		reload = fmt.Sprintf("{PortalRootPassword:%q}", r.Reload.PortalRootPassword)
	}
	return fmt.Sprintf("junos.Config{Name:%q Pod:%q Nodes:[node0 %s, node1 %s] Username:%q Password:%q KnownHostsFile:%q PackagePath:%q ArtifactsDir:%q RestorePreempt:%t Reload:%s}",
		r.Name, r.Pod, r.Nodes[0], r.Nodes[1], r.Username, r.Password, r.KnownHostsFile, r.PackagePath, r.ArtifactsDir, r.RestorePreempt, reload)
}

// GoString is String, so %#v redacts the passwords too.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb (%v, %+v, %#v, %s, %q, %d,
// ...) prints String, so the passwords are never printed.
func (c Config) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// MarshalJSON encodes c with the passwords as "********" (when set); the
// Logger and Transcript are left out.
func (c Config) MarshalJSON() ([]byte, error) {
	r := c.redacted()
	type reload struct {
		PortalRootPassword string `json:"portal_root_password,omitempty"`
	}
	var rl *reload
	if r.Reload != nil {
		rl = &reload{r.Reload.PortalRootPassword}
	}
	return json.Marshal(struct {
		Name             string         `json:"name"`
		Pod              string         `json:"pod,omitempty"`
		Nodes            [2]string      `json:"nodes"`
		Username         string         `json:"username"`
		Password         string         `json:"password,omitempty"`
		KnownHostsFile   string         `json:"known_hosts_file"`
		PackagePath      string         `json:"package_path"`
		ArtifactsDir     string         `json:"artifacts_dir"`
		RestorePreempt   bool           `json:"restore_preempt,omitempty"`
		StorageFactor    int            `json:"storage_factor,omitempty"`
		Reload           *reload        `json:"reload,omitempty"`
		CommandTimeout   time.Duration  `json:"command_timeout_ns,omitempty"`
		InstallTimeout   time.Duration  `json:"install_timeout_ns,omitempty"`
		DialTimeout      time.Duration  `json:"dial_timeout_ns,omitempty"`
		ReconnectTimeout time.Duration  `json:"reconnect_timeout_ns,omitempty"`
		ReconnectBackoff driver.Backoff `json:"reconnect_backoff"`
	}{r.Name, r.Pod, [2]string{r.Nodes[0].String(), r.Nodes[1].String()}, r.Username, r.Password, r.KnownHostsFile,
		r.PackagePath, r.ArtifactsDir, r.RestorePreempt, r.StorageFactor, rl, r.CommandTimeout, r.InstallTimeout,
		r.DialTimeout, r.ReconnectTimeout, r.ReconnectBackoff})
}

// LogValue implements slog.LogValuer without the passwords.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name),
		slog.String("pod", c.Pod),
		slog.String("node0", c.Nodes[0].String()),
		slog.String("node1", c.Nodes[1].String()),
		slog.String("username", c.Username),
		slog.String("package", c.PackagePath),
		slog.String("artifacts_dir", c.ArtifactsDir),
	)
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

// driverConfig is the driver.Config for node i (the platform is set by
// New).
func (c Config) driverConfig(i int) driver.Config {
	return driver.Config{
		Host:           c.Nodes[i].Host,
		Port:           c.Nodes[i].Port,
		Username:       c.Username,
		Password:       c.Password,
		KnownHostsFile: c.KnownHostsFile,
		Timeout:        c.CommandTimeout,
		DialTimeout:    c.DialTimeout,
		Logger:         c.Logger,
		Transcript:     c.Transcript,
	}
}
