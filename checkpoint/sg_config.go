package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// DefaultOrchestratorModels returns the orchestrator models accepted for an
// R82 (or later) security group when SecurityGroupConfig.OrchestratorModels
// is nil: the 140-series Quantum Maestro Orchestrator, which the R82
// ElasticXL/Maestro features need (R82 Release Notes, "Quantum Maestro";
// UNVERIFIED beyond the release notes' hardware list: extend the table
// for the models your estate runs).
func DefaultOrchestratorModels() []string { return []string{"MHO-140"} }

// sgmIDGrammar is a canonical SGM ID: "<site>_<number>".
var sgmIDGrammar = regexp.MustCompile(`^[1-9][0-9]?_[1-9][0-9]?$`)

// SecurityGroupConfig configures a Check Point Maestro security group (one
// logical gateway made of Security Group Modules, SGMs, behind one or two
// Maestro orchestrators, MHOs; Maestro Administration Guide R81.20/R82).
//
// hitless reaches the SGMs through the security group's management
// address, which the SMO (the Single Management Object: the SGM that
// answers for the group) serves, running `g_all` and `g_*` commands in
// Expert mode there; each orchestrator through its own management
// address. The same Gaia administrator (Username, Password,
// ExpertPassword) must work on the security group and on the
// orchestrators.
type SecurityGroupConfig struct {
	// Name is the security group's name (reports, journal); 1-63 of
	// [A-Za-z0-9._-].
	Name string
	// GatewayObject is the security group's gateway object on management
	// (the install-policy target); "" means Name.
	GatewayObject string
	// Host and Port are the security group's management address (port 0
	// means 22).
	Host string
	Port int
	// Orchestrators are the MHOs, one or two, each with its own management
	// address. With two, they are upgraded one at a time.
	Orchestrators []Gateway
	// VSX marks a VSX security group: the plan upgrades the VSX object
	// (vsx-run-operation upgrade, the API form of `vsx_util upgrade`)
	// before the SGMs. VirtualSystems are its Virtual System objects (each
	// gets Access and Threat Prevention at the end).
	VSX            bool
	VirtualSystems []string
	// Username, Password and ExpertPassword log in to the security group
	// and the orchestrators; required. Never logged or printed.
	Username       string
	Password       string
	ExpertPassword string
	// KnownHostsFile holds the host keys of the security group's address
	// and of every orchestrator; required (host keys are always verified).
	KnownHostsFile string
	// PackagePath is the local CPUSE package of the target release for the
	// SGMs; OrchestratorPackagePath the one for the orchestrators. Both
	// required, file names [A-Za-z0-9._-]+.(tar|tgz).
	PackagePath             string
	OrchestratorPackagePath string
	// RemoteDir is where packages are copied (default DefaultRemoteDir).
	RemoteDir string
	// PolicyPackage is the policy package to install (default
	// DefaultPolicyPackage).
	PolicyPackage string
	// Mgmt is the management server's API; required (policy installs and
	// the management version check).
	Mgmt MgmtConfig
	// MgmtServerObject is the management server's own object name, whose
	// version get-platform reads (management must run the target or
	// newer to manage it: R82 Installation and Upgrade Guide, "Upgrading
	// a Security Group"); required.
	MgmtServerObject string
	// OrchestratorModels are the orchestrator models (`show asset system`
	// "Model") that support a target of R82 or later; nil means
	// DefaultOrchestratorModels.
	OrchestratorModels []string
	// TakeMinimums and MultiStages are the upgrade-path tables (nil: the
	// versionpath defaults: R81.20 take >= 92, R81.10 >= 172 before R82;
	// R80.20SP/R80.30SP via R81.20).
	TakeMinimums []versionpath.TakeMinimum
	MultiStages  []versionpath.MultiStage
	// CommandTimeout, DialTimeout, ReconnectTimeout and ReconnectBackoff
	// are the SSH session limits, as in Config.
	CommandTimeout   time.Duration
	DialTimeout      time.Duration
	ReconnectTimeout time.Duration
	ReconnectBackoff driver.Backoff
	// ApplyGrace is how long a resumed run waits for SGMs whose upgrade
	// (or revert) command may have been sent by the interrupted process to
	// go away for their reboot, before it concludes the command was never
	// sent and sends it (default DefaultApplyGrace).
	ApplyGrace time.Duration
	// ImportTiming polls `installer import`; TaskTiming management tasks
	// (defaults as in Config).
	ImportTiming upgrade.Timing
	TaskTiming   upgrade.Timing
	// Logger receives progress (nil: discarded); Transcript, when set,
	// records every session with the secrets masked.
	Logger     *slog.Logger
	Transcript *driver.Transcript
}

// sessionConfig is the Config of the internal sessions: one per
// orchestrator, then the security group's address (named Name; never a
// member ID, which are orchestrator names and SGM IDs).
func (c SecurityGroupConfig) sessionConfig() Config {
	members := slices.Clone(c.Orchestrators)
	members = append(members, Gateway{Name: c.Name, Host: c.Host, Port: c.Port})
	return Config{
		Name: c.Name, ClusterObject: c.GatewayObject, Members: members, VSX: c.VSX, VirtualSystems: c.VirtualSystems,
		Username: c.Username, Password: c.Password, ExpertPassword: c.ExpertPassword, KnownHostsFile: c.KnownHostsFile,
		PackagePath: c.PackagePath, RemoteDir: c.RemoteDir, PolicyPackage: c.PolicyPackage, Mgmt: c.Mgmt,
		TakeMinimums: c.TakeMinimums, MultiStages: c.MultiStages,
		CommandTimeout: c.CommandTimeout, DialTimeout: c.DialTimeout, ReconnectTimeout: c.ReconnectTimeout, ReconnectBackoff: c.ReconnectBackoff, ApplyGrace: c.ApplyGrace,
		ImportTiming: c.ImportTiming, TaskTiming: c.TaskTiming, Logger: c.Logger, Transcript: c.Transcript,
	}
}

// Validate reports every problem of c at once, as joined *ConfigError
// values (matching ErrConfig) whose Field names the SecurityGroupConfig
// field. It reads the local files it names (known_hosts, packages) and
// nothing else.
func (c SecurityGroupConfig) Validate() error {
	var errs []error
	bad := func(field, problem string) { errs = append(errs, &ConfigError{Field: field, Problem: problem}) }
	if n := len(c.Orchestrators); n < 1 || n > 2 {
		bad("Orchestrators", fmt.Sprintf("%d orchestrators: a security group has 1 or 2", n))
	}
	for i, o := range c.Orchestrators {
		if o.Name == c.Name && c.Name != "" {
			bad(fmt.Sprintf("Orchestrators[%d].Name", i), fmt.Sprintf("%q is the security group's own name", o.Name))
		}
		if sgmIDGrammar.MatchString(o.Name) {
			bad(fmt.Sprintf("Orchestrators[%d].Name", i), fmt.Sprintf("%q looks like an SGM ID", o.Name))
		}
	}
	if c.MgmtServerObject == "" {
		bad("MgmtServerObject", "required: the management server's object, whose version must be the target or newer")
	} else if !nameGrammar.MatchString(c.MgmtServerObject) {
		bad("MgmtServerObject", fmt.Sprintf("%q must be 1-63 characters of [A-Za-z0-9._-]", c.MgmtServerObject))
	}
	if !c.sessionConfig().mgmtSet() {
		bad("Mgmt", "required: policy installs on the security group and the management version check use the management API")
	}
	if c.OrchestratorPackagePath == "" {
		bad("OrchestratorPackagePath", "required: the local CPUSE package of the target release for the orchestrators")
	} else if !packageGrammar.MatchString(baseName(c.OrchestratorPackagePath)) {
		bad("OrchestratorPackagePath", fmt.Sprintf("file name %q must match [A-Za-z0-9._-]+\\.(tar|tgz)", baseName(c.OrchestratorPackagePath)))
	} else if err := readableFile(c.OrchestratorPackagePath); err != nil {
		bad("OrchestratorPackagePath", err.Error())
	}
	for i, m := range c.OrchestratorModels {
		if strings.TrimSpace(m) == "" {
			bad(fmt.Sprintf("OrchestratorModels[%d]", i), "empty model name")
		}
	}
	// The shared fields go through Config.Validate; its member fields are
	// renamed to this type's fields.
	if err := c.sessionConfig().Validate(); err != nil {
		n := len(c.Orchestrators)
		for _, e := range flatten(err) {
			var ce *ConfigError
			if !errors.As(e, &ce) {
				errs = append(errs, e)
				continue
			}
			f := ce.Field
			switch {
			case f == "Members":
				continue // reported as Orchestrators above
			case strings.HasPrefix(f, fmt.Sprintf("Members[%d].", n)):
				f = strings.TrimPrefix(f, fmt.Sprintf("Members[%d].", n))
				if f == "Name" {
					continue // the same problem is reported for Name
				}
			case strings.HasPrefix(f, "Members["):
				f = "Orchestrators" + strings.TrimPrefix(f, "Members")
			case f == "ClusterObject":
				f = "GatewayObject"
			}
			errs = append(errs, &ConfigError{Field: f, Problem: ce.Problem, Err: ce.Err})
		}
	}
	return errors.Join(errs...)
}

// flatten returns the errors joined in err (err itself when not joined).
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// baseName is the last element of a slash- or OS-separated path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// String describes c with every secret redacted.
func (c SecurityGroupConfig) String() string {
	s := c.sessionConfig().redacted()
	return fmt.Sprintf("checkpoint.SecurityGroupConfig{Name:%q GatewayObject:%q VSX:%t Address:%q Orchestrators:[%s] Username:%q Password:%q ExpertPassword:%q KnownHostsFile:%q PackagePath:%q OrchestratorPackagePath:%q Mgmt:%s}",
		c.Name, c.GatewayObject, c.VSX, Gateway{Host: c.Host, Port: c.Port}.addr(), Config{Members: c.Orchestrators}.memberList(),
		s.Username, s.Password, s.ExpertPassword, c.KnownHostsFile, c.PackagePath, c.OrchestratorPackagePath, c.Mgmt.String())
}

// GoString is String, so %#v redacts the secrets too.
func (c SecurityGroupConfig) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb prints String.
func (c SecurityGroupConfig) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue implements slog.LogValuer without secrets.
func (c SecurityGroupConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("security_group", c.Name), slog.String("address", Gateway{Host: c.Host, Port: c.Port}.addr()),
		slog.Int("orchestrators", len(c.Orchestrators)))
}

// MarshalJSON encodes c without secrets.
func (c SecurityGroupConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name          string    `json:"name"`
		GatewayObject string    `json:"gateway_object,omitempty"`
		Host          string    `json:"host"`
		Port          int       `json:"port,omitempty"`
		Orchestrators []Gateway `json:"orchestrators"`
		VSX           bool      `json:"vsx,omitempty"`
		Username      string    `json:"username"`
	}{c.Name, c.GatewayObject, c.Host, c.Port, c.Orchestrators, c.VSX, c.Username})
}
