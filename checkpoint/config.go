package checkpoint

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

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// Defaults applied by New when the corresponding Config field is zero.
const (
	// DefaultRemoteDir is where packages are copied on a member before
	// CPUSE imports them (Check Point's own upload directory for CPUSE
	// "import local", as used by Central Deployment and CDT).
	DefaultRemoteDir = "/var/log/upload"
	// DefaultPolicyPackage is the policy package installed by the plan's
	// policy steps: "Standard", the package every Security Management
	// Server starts with.
	DefaultPolicyPackage = "Standard"
	// DefaultCommandTimeout bounds one CLI command when the caller's
	// context has no sooner deadline.
	DefaultCommandTimeout = 120 * time.Second
	// DefaultReconnectTimeout bounds how long one call keeps redialling a
	// member whose session went away (a reboot). The reboot itself is
	// waited for by the planner's gates, which poll again.
	DefaultReconnectTimeout = 30 * time.Second
	// DefaultApplyGrace is the default Config.ApplyGrace. How long CPUSE
	// keeps a member up after it acknowledged `installer upgrade` is not
	// documented publicly (a major upgrade installs for many minutes
	// before it reboots); UNVERIFIED.
	DefaultApplyGrace = 5 * time.Minute
)

// DefaultMixedVersionPNOTEs are the Active PNOTEs an ACTIVE member on the
// old release may show while it sees an upgraded member LOST during a
// Multi-Version Cluster upgrade without that being a fault: "IAC"
// (Interface Active Check, which fails while the peer does not answer CCP).
// UNVERIFIED: no public capture shows the ACTIVE member's PNOTEs in that
// window (the R81.20 Installation and Upgrade Guide only says it stays
// ACTIVE, "possibly ACTIVE(!)").
func DefaultMixedVersionPNOTEs() []string { return []string{"IAC"} }

// DefaultImportTiming is how the stage step polls CPUSE after `installer
// import local`, which returns as soon as the import has started: every
// 30 s (what operators' tools do) for at most 30 minutes.
func DefaultImportTiming() upgrade.Timing {
	return upgrade.Timing{Interval: 30 * time.Second, Deadline: 30 * time.Minute}
}

// DefaultTaskTiming is how management tasks (publish, install-policy,
// vsx-run-operation) are waited for: a poll every 5 s for at most 30
// minutes (the default task wait of Check Point's own Ansible collection).
func DefaultTaskTiming() upgrade.Timing {
	return upgrade.Timing{Interval: 5 * time.Second, Deadline: 30 * time.Minute}
}

// Gateway is one cluster member as the SDK reaches it.
type Gateway struct {
	// Name is the member's object name on management and in the Name
	// column of `cphaprob state` (the upgrade.Member ID), e.g. "gw-a":
	// 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit.
	Name string
	// Host is the member's own management address (IP address or DNS
	// name, no port): never the cluster's virtual address, which follows
	// the ACTIVE member.
	Host string
	// Port is the SSH port; 0 means 22.
	Port int
}

func (g Gateway) addr() string {
	p := g.Port
	if p == 0 {
		p = 22
	}
	return net.JoinHostPort(g.Host, strconv.Itoa(p))
}

// Config describes one Check Point ClusterXL High Availability cluster
// (gateway mode) or VSX cluster and how to upgrade it with the
// Multi-Version Cluster (MVC) procedure. Validate checks it; New refuses to
// dial anything before it passes.
//
// Config implements fmt.Formatter, fmt.Stringer, fmt.GoStringer,
// slog.LogValuer and json.Marshaler with every secret redacted (the SSH
// and expert passwords as "********", the management credentials as
// MgmtConfig renders them), so printing, logging or encoding a Config
// never shows one.
type Config struct {
	// Name is the cluster's name in plans, journals and reports (the
	// upgrade.Cluster name); 1-63 characters of [A-Za-z0-9._-].
	Name string
	// ClusterObject is the cluster object's name on the management server
	// (a simple-cluster in gateway mode, the VSX cluster object with VSX);
	// "" means Name.
	ClusterObject string
	// Members are the cluster members, 2 to 8, each with its own
	// management address. Their order is the member order of snapshots
	// and of the plan (the STANDBY members are upgraded in this order); it
	// does not say which one is ACTIVE.
	Members []Gateway
	// VSX marks a VSX cluster: commands run in VS0 (`bash -lc 'vsenv 0 &&
	// ...'`, since vsenv is a shell function), `vsx stat -v` is part of
	// every health check, and the planner follows the VSX procedure.
	VSX bool
	// VirtualSystems are the Virtual System object names on management
	// (VSX only); the VSX plan installs Access Control and Threat
	// Prevention on each of them last. Same grammar as Name.
	VirtualSystems []string
	// Username is the Gaia login (Clish) of every member.
	Username string
	// Password is the Gaia login's password; it is never logged, printed
	// or put in errors.
	Password string
	// ExpertPassword is the password of Clish `expert` (Expert mode runs
	// cphaprob, cphaconf, clusterXL_admin and the file commands). Never
	// logged, printed or put in errors.
	ExpertPassword string
	// KnownHostsFile is an OpenSSH known_hosts file listing every member's
	// host key (required: host keys are always verified). A major upgrade
	// may change a member's host key: the SDK then stops with a typed
	// error and never accepts the new key by itself.
	KnownHostsFile string
	// PackagePath is the local CPUSE package of the target release (a
	// "Fresh Install and Upgrade" .tar or a Blink .tgz), copied to every
	// member by SCP. Its file name must match [A-Za-z0-9._-]+\.(tar|tgz)
	// since it is sent to the device.
	PackagePath string
	// JumboPath, optional, is a Jumbo Hotfix Accumulator package for the
	// target release, installed on each member right after its major
	// upgrade (VSX only: the R81.20 Installation and Upgrade Guide's VSX
	// procedure, with the CoreXL Dynamic Balancing workaround of
	// PMTR-114499 before it). Same file name grammar as PackagePath.
	JumboPath string
	// JumboTake is the take JumboPath installs (required with JumboPath);
	// the step that installs it is verified by reading the take back.
	JumboTake int
	// RemoteDir is the absolute directory the packages are copied to on
	// the members; "" means DefaultRemoteDir. [A-Za-z0-9._/-] only.
	RemoteDir string
	// PolicyPackage is the policy package the plan installs; "" means
	// DefaultPolicyPackage.
	PolicyPackage string
	// Mgmt reaches the management server, which sets the cluster object's
	// version, upgrades the VSX object and installs the policies; its
	// fields are checked by MgmtConfig.Validate. A zero Mgmt (no URL)
	// leaves the Cluster usable for observation, installs and failovers,
	// but Planner refuses to plan without it.
	Mgmt MgmtConfig
	// TakeMinimums is the minimum Jumbo Hotfix take table checked before
	// the upgrade (versionpath.CheckTakeMinimum); nil means
	// versionpath.DefaultTakeMinimums() (R81.20 take 92 and R81.10 take
	// 172 before R82: project requirements, NOT found in public Check
	// Point material). An empty non-nil slice checks nothing.
	TakeMinimums []versionpath.TakeMinimum
	// MultiStages is the multi-stage path table (versionpath.
	// MultiStagePath); nil means versionpath.DefaultMultiStages() (the
	// legacy Scalable Platforms releases R80.20SP and R80.30SP reach R82
	// only via R81.20: a project requirement, NOT publicly verified). An
	// empty non-nil slice checks nothing.
	MultiStages []versionpath.MultiStage
	// MinFreeDiskMB is the free space, in MiB, the pre-check requires on
	// the file system of RemoteDir of every member (`df -P -k`); 0 means
	// three times the package size (the upload, the CPUSE repository copy
	// and the extraction: a rule of thumb, UNVERIFIED); a negative value
	// skips the check.
	MinFreeDiskMB int
	// MixedVersionPNOTEs are the Active PNOTEs accepted on the ACTIVE
	// member on the old release while it sees an upgraded (or rebooting)
	// member LOST; nil means DefaultMixedVersionPNOTEs().
	MixedVersionPNOTEs []string
	// RollbackSnapshot is the Gaia snapshot Rollback reverts a member to
	// (`set snapshot revert <name>`; CPUSE takes a snapshot before a major
	// upgrade). "" disables Rollback. [A-Za-z0-9._-] only. UNVERIFIED:
	// see ClusterMember.Rollback.
	RollbackSnapshot string
	// CommandTimeout bounds one CLI command; 0 means
	// DefaultCommandTimeout.
	CommandTimeout time.Duration
	// DialTimeout bounds one SSH connection attempt; 0 means the
	// platform's (15 s).
	DialTimeout time.Duration
	// ReconnectTimeout bounds how long one call redials a member whose
	// session went away; 0 means DefaultReconnectTimeout.
	ReconnectTimeout time.Duration
	// ReconnectBackoff is the redial schedule; the zero value means
	// driver.DefaultBackoff.
	ReconnectBackoff driver.Backoff
	// ApplyGrace is, for an upgrade step interrupted by a process crash
	// and verified on resume, how long the member may stay up on its old
	// release after `installer upgrade` before one can conclude that no
	// upgrade is pending; 0 means DefaultApplyGrace.
	ApplyGrace time.Duration
	// ImportTiming is how the stage step waits for `installer import`;
	// the zero value means DefaultImportTiming().
	ImportTiming upgrade.Timing
	// TaskTiming is how management tasks are waited for; the zero value
	// means DefaultTaskTiming().
	TaskTiming upgrade.Timing
	// Logger receives the SDK's records and the driver's debug records;
	// nil discards.
	Logger *slog.Logger
	// Transcript, if non-nil, records every command sent to every member
	// (passwords redacted).
	Transcript *driver.Transcript
}

// ErrConfig is the category of every Config problem; matched by
// *ConfigError.
var ErrConfig = errors.New("checkpoint: invalid configuration")

// ConfigError is one invalid Config field. Validate joins one ConfigError
// per problem, so every problem is reported at once.
type ConfigError struct {
	// Field names the field, e.g. "Members[1].Host" or "PackagePath".
	Field string
	// Problem says what is wrong.
	Problem string
	// Err is the underlying error, if any (an *fs.PathError for a
	// missing package, the MgmtConfig error).
	Err error
}

// Error names the field and the problem.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("checkpoint: config: %s: %s", e.Field, e.Problem)
}

// Is matches ErrConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// Unwrap returns the underlying error, if any.
func (e *ConfigError) Unwrap() error { return e.Err }

var (
	// nameGrammar is what cluster, member and object names may look like:
	// they end up in step IDs, journals and commands.
	nameGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	// packageGrammar is what a package file name may look like.
	packageGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*\.(tar|tgz)$`)
	// remoteDirGrammar is what RemoteDir may look like.
	remoteDirGrammar = regexp.MustCompile(`^/[A-Za-z0-9._/-]*$`)
	// snapshotGrammar is what RollbackSnapshot may look like.
	snapshotGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	// pnoteGrammar is what a PNOTE name may look like.
	pnoteGrammar = regexp.MustCompile(`^[A-Za-z0-9_ .-]{1,40}$`)
)

// Validate reports every problem with c at once: one *ConfigError per
// problem, naming the field, joined with errors.Join (nil when c is
// usable). It reads the local files c names (known_hosts must parse, the
// packages must be readable regular files) but dials nothing.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, problem string, err error) {
		errs = append(errs, &ConfigError{Field: field, Problem: problem, Err: err})
	}
	nameProblem := func(v string) string {
		return fmt.Sprintf("%q must be 1-63 characters of [A-Za-z0-9._-] starting with a letter or digit", v)
	}
	if !nameGrammar.MatchString(c.Name) {
		bad("Name", nameProblem(c.Name), nil)
	}
	if c.ClusterObject != "" && !nameGrammar.MatchString(c.ClusterObject) {
		bad("ClusterObject", nameProblem(c.ClusterObject), nil)
	}
	if n := len(c.Members); n < 2 || n > 8 {
		bad("Members", fmt.Sprintf("%d members: a ClusterXL cluster has 2 to 8", n), nil)
	}
	names, addrs := map[string]bool{}, map[string]bool{}
	for i, m := range c.Members {
		f := fmt.Sprintf("Members[%d]", i)
		if !nameGrammar.MatchString(m.Name) {
			bad(f+".Name", nameProblem(m.Name), nil)
		} else if names[m.Name] {
			bad(f+".Name", fmt.Sprintf("duplicate member name %q", m.Name), nil)
		}
		names[m.Name] = true
		switch h := m.Host; {
		case h == "":
			bad(f+".Host", "required: the member's own management address (never the cluster's virtual address)", nil)
		case strings.TrimSpace(h) != h || strings.ContainsAny(h, " \t\r\n/@[]'\"`$;&|"):
			bad(f+".Host", fmt.Sprintf("%q is not a host name or IP address", h), nil)
		case strings.Contains(h, ":") && net.ParseIP(h) == nil:
			bad(f+".Host", fmt.Sprintf("%q must not include a port; use Port", h), nil)
		default:
			if addrs[strings.ToLower(m.addr())] {
				bad(f+".Host", fmt.Sprintf("%s is used by another member: each member needs its own management address", m.addr()), nil)
			}
			addrs[strings.ToLower(m.addr())] = true
		}
		if m.Port < 0 || m.Port > 65535 {
			bad(f+".Port", fmt.Sprintf("%d is out of range 1-65535 (0 means 22)", m.Port), nil)
		}
	}
	if len(c.VirtualSystems) > 0 && !c.VSX {
		bad("VirtualSystems", "set without VSX", nil)
	}
	seenVS := map[string]bool{}
	for i, vs := range c.VirtualSystems {
		switch {
		case !nameGrammar.MatchString(vs):
			bad(fmt.Sprintf("VirtualSystems[%d]", i), nameProblem(vs), nil)
		case seenVS[vs]:
			bad(fmt.Sprintf("VirtualSystems[%d]", i), fmt.Sprintf("duplicate Virtual System %q", vs), nil)
		}
		seenVS[vs] = true
	}
	if c.Username == "" {
		bad("Username", "required", nil)
	} else if strings.ContainsAny(c.Username, " \t\r\n@:'\"") {
		bad("Username", "must not contain spaces, line breaks, quotes, '@' or ':'", nil)
	}
	if c.Password == "" {
		bad("Password", "required", nil)
	}
	switch {
	case c.ExpertPassword == "":
		bad("ExpertPassword", "required: cphaprob, cphaconf and clusterXL_admin run in Expert mode", nil)
	case strings.ContainsAny(c.ExpertPassword, "\r\n"):
		bad("ExpertPassword", "must be one line", nil)
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
	checkPackage := func(field, p string, required bool) {
		if p == "" {
			if required {
				bad(field, "required: the local CPUSE package of the target release", nil)
			}
			return
		}
		if !packageGrammar.MatchString(filepath.Base(p)) {
			bad(field, fmt.Sprintf("file name %q must match [A-Za-z0-9._-]+\\.(tar|tgz)", filepath.Base(p)), nil)
		}
		if err := readableFile(p); err != nil {
			bad(field, err.Error(), err)
		}
	}
	checkPackage("PackagePath", c.PackagePath, true)
	checkPackage("JumboPath", c.JumboPath, false)
	switch {
	case c.JumboPath != "" && !c.VSX:
		bad("JumboPath", "only the VSX procedure installs a Jumbo Hotfix after the major upgrade", nil)
	case c.JumboPath != "" && c.JumboTake <= 0:
		bad("JumboTake", "required (> 0) with JumboPath: the take the package installs", nil)
	case c.JumboPath == "" && c.JumboTake != 0:
		bad("JumboTake", "set without JumboPath", nil)
	}
	if c.JumboPath != "" && c.PackagePath != "" && filepath.Base(c.JumboPath) == filepath.Base(c.PackagePath) {
		bad("JumboPath", "has the same file name as PackagePath", nil)
	}
	if d := c.RemoteDir; d != "" && (!remoteDirGrammar.MatchString(d) || slices.Contains(strings.Split(d, "/"), "..")) {
		bad("RemoteDir", fmt.Sprintf("%q must be an absolute path of [A-Za-z0-9._/-] without \"..\"", d), nil)
	}
	if p := c.PolicyPackage; p != "" && (strings.TrimSpace(p) != p || strings.ContainsAny(p, "\r\n\t")) {
		bad("PolicyPackage", fmt.Sprintf("%q is not a policy package name", p), nil)
	}
	if c.mgmtSet() {
		if err := c.Mgmt.Validate(); err != nil {
			bad("Mgmt", err.Error(), err)
		}
	}
	for i, p := range c.MixedVersionPNOTEs {
		if !pnoteGrammar.MatchString(p) {
			bad(fmt.Sprintf("MixedVersionPNOTEs[%d]", i), fmt.Sprintf("%q is not a PNOTE name", p), nil)
		}
	}
	if c.RollbackSnapshot != "" && !snapshotGrammar.MatchString(c.RollbackSnapshot) {
		bad("RollbackSnapshot", fmt.Sprintf("%q must be 1-63 characters of [A-Za-z0-9._-]", c.RollbackSnapshot), nil)
	}
	if err := checkTables(c.TakeMinimums, c.MultiStages); err != nil {
		bad("TakeMinimums/MultiStages", err.Error(), err)
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
	for _, t := range []struct {
		field string
		v     upgrade.Timing
	}{{"ImportTiming", c.ImportTiming}, {"TaskTiming", c.TaskTiming}} {
		if t.v == (upgrade.Timing{}) {
			continue
		}
		if err := t.v.Validate(); err != nil {
			bad(t.field, err.Error(), err)
		}
	}
	return errors.Join(errs...)
}

// mgmtSet reports whether any management field is set.
func (c Config) mgmtSet() bool {
	m := c.Mgmt
	return m.URL != "" || m.User != "" || m.Password != "" || m.APIKey != "" || len(m.CACertPEM) > 0 || m.CACertFile != "" || m.PinnedSHA256 != ""
}

// checkTables validates the rule tables by running them once on a dummy
// hop (the versionpath functions report malformed rows).
func checkTables(takes []versionpath.TakeMinimum, stages []versionpath.MultiStage) error {
	g := versionpath.CheckPoint{}
	from, _ := g.Parse("R80.40")
	to, _ := g.Parse("R82")
	var errs []error
	if takes != nil {
		if err := versionpath.CheckTakeMinimum(takes, from, 0, to); err != nil && errors.Is(err, versionpath.ErrBadTable) {
			errs = append(errs, err)
		}
	}
	if stages != nil {
		if _, err := versionpath.MultiStagePath(stages, from, to); err != nil && errors.Is(err, versionpath.ErrBadTable) {
			errs = append(errs, err)
		}
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
	if c.ClusterObject == "" {
		c.ClusterObject = c.Name
	}
	if c.RemoteDir == "" {
		c.RemoteDir = DefaultRemoteDir
	}
	c.RemoteDir = path.Clean(c.RemoteDir)
	if c.PolicyPackage == "" {
		c.PolicyPackage = DefaultPolicyPackage
	}
	if c.TakeMinimums == nil {
		c.TakeMinimums = versionpath.DefaultTakeMinimums()
	}
	if c.MultiStages == nil {
		c.MultiStages = versionpath.DefaultMultiStages()
	}
	if c.MixedVersionPNOTEs == nil {
		c.MixedVersionPNOTEs = DefaultMixedVersionPNOTEs()
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
	if c.ImportTiming == (upgrade.Timing{}) {
		c.ImportTiming = DefaultImportTiming()
	}
	if c.TaskTiming == (upgrade.Timing{}) {
		c.TaskTiming = DefaultTaskTiming()
	}
	return c
}

// remotePath is where the local package p is copied on each member.
func (c Config) remotePath(local string) string {
	dir := c.RemoteDir
	if dir == "" {
		dir = DefaultRemoteDir
	}
	return path.Join(dir, filepath.Base(local))
}

// redacted returns a copy of c whose passwords are "********" (or empty
// when unset).
func (c Config) redacted() Config {
	if c.Password != "" {
		c.Password = redactedText
	}
	if c.ExpertPassword != "" {
		c.ExpertPassword = redactedText
	}
	return c
}

// redactedText replaces secrets in printed configurations.
const redactedText = "********"

// memberList renders the members as "name host:port" pairs.
func (c Config) memberList() string {
	parts := make([]string, len(c.Members))
	for i, m := range c.Members {
		parts[i] = m.Name + " " + m.addr()
	}
	return strings.Join(parts, ", ")
}

// String describes c with every secret redacted.
func (c Config) String() string {
	r := c.redacted()
	return fmt.Sprintf("checkpoint.Config{Name:%q ClusterObject:%q VSX:%t Members:[%s] Username:%q Password:%q ExpertPassword:%q KnownHostsFile:%q PackagePath:%q JumboPath:%q Mgmt:%s}",
		r.Name, r.ClusterObject, r.VSX, r.memberList(), r.Username, r.Password, r.ExpertPassword,
		r.KnownHostsFile, r.PackagePath, r.JumboPath, r.Mgmt.String())
}

// GoString is String, so %#v redacts the secrets too.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb prints String, so no secret
// is ever printed.
func (c Config) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// formatRedacted writes s (already redacted) for any verb: quoted for %q.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", s)
		return
	}
	_, _ = io.WriteString(f, s)
}

// LogValue implements slog.LogValuer without any secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name),
		slog.Bool("vsx", c.VSX),
		slog.String("members", c.memberList()),
		slog.String("username", c.Username),
		slog.String("package", c.PackagePath),
		slog.Any("mgmt", c.Mgmt),
	)
}

// MarshalJSON encodes c with the passwords as "********" (when set) and
// the management configuration as MgmtConfig encodes it; the Logger and
// Transcript are left out.
func (c Config) MarshalJSON() ([]byte, error) {
	r := c.redacted()
	return json.Marshal(struct {
		Name               string                    `json:"name"`
		ClusterObject      string                    `json:"cluster_object,omitempty"`
		Members            []Gateway                 `json:"members"`
		VSX                bool                      `json:"vsx,omitempty"`
		VirtualSystems     []string                  `json:"virtual_systems,omitempty"`
		Username           string                    `json:"username"`
		Password           string                    `json:"password,omitempty"`
		ExpertPassword     string                    `json:"expert_password,omitempty"`
		KnownHostsFile     string                    `json:"known_hosts_file"`
		PackagePath        string                    `json:"package_path"`
		JumboPath          string                    `json:"jumbo_path,omitempty"`
		JumboTake          int                       `json:"jumbo_take,omitempty"`
		RemoteDir          string                    `json:"remote_dir,omitempty"`
		PolicyPackage      string                    `json:"policy_package,omitempty"`
		Mgmt               MgmtConfig                `json:"mgmt"`
		TakeMinimums       []versionpath.TakeMinimum `json:"take_minimums,omitempty"`
		MultiStages        []versionpath.MultiStage  `json:"multi_stages,omitempty"`
		MinFreeDiskMB      int                       `json:"min_free_disk_mb,omitempty"`
		MixedVersionPNOTEs []string                  `json:"mixed_version_pnotes,omitempty"`
		RollbackSnapshot   string                    `json:"rollback_snapshot,omitempty"`
		CommandTimeout     time.Duration             `json:"command_timeout_ns,omitempty"`
		DialTimeout        time.Duration             `json:"dial_timeout_ns,omitempty"`
		ReconnectTimeout   time.Duration             `json:"reconnect_timeout_ns,omitempty"`
		ApplyGrace         time.Duration             `json:"apply_grace_ns,omitempty"`
	}{r.Name, r.ClusterObject, r.Members, r.VSX, r.VirtualSystems, r.Username, r.Password, r.ExpertPassword,
		r.KnownHostsFile, r.PackagePath, r.JumboPath, r.JumboTake, r.RemoteDir, r.PolicyPackage, r.Mgmt,
		r.TakeMinimums, r.MultiStages, r.MinFreeDiskMB, r.MixedVersionPNOTEs, r.RollbackSnapshot,
		r.CommandTimeout, r.DialTimeout, r.ReconnectTimeout, r.ApplyGrace})
}

// driverConfig is the driver.Config for member i (Platform set by New).
func (c Config) driverConfig(i int) driver.Config {
	return driver.Config{
		Host:           c.Members[i].Host,
		Port:           c.Members[i].Port,
		Username:       c.Username,
		Password:       c.Password,
		KnownHostsFile: c.KnownHostsFile,
		Timeout:        c.CommandTimeout,
		DialTimeout:    c.DialTimeout,
		Logger:         c.Logger,
		Transcript:     c.Transcript,
	}
}
