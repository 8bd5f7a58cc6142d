package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hitless/hitless/checkpoint"
)

// Inventory is a loaded, validated inventory file: the rollout settings and
// the clusters, in file order, with their credentials resolved (never
// rendered: see ClusterSpec).
type Inventory struct {
	// File is the inventory's name as given to Load (for messages).
	File string
	// Rollout holds the top-level rollout settings.
	Rollout RolloutSettings `yaml:"rollout"`
	// Clusters are the clusters, in file order (canaries first).
	Clusters []ClusterSpec `yaml:"clusters"`
}

// RolloutSettings are the inventory's top-level `rollout:` keys, the
// fields of upgrade.Rollout.
type RolloutSettings struct {
	// MaxParallelClusters bounds the clusters running at once; required, >= 1.
	MaxParallelClusters int `yaml:"max_parallel_clusters"`
	// PerGroup bounds the running clusters of one pod/site; 0 means 1.
	PerGroup int `yaml:"per_group"`
	// GroupLimits overrides PerGroup for the pods/sites it names; each
	// must be the pod or site of some cluster.
	GroupLimits map[string]int `yaml:"group_limits"`
	// Canaries is how many clusters, from the top of the file, run first
	// and alone.
	Canaries int `yaml:"canaries"`
	// MaxFailures halts the rollout after this many failed clusters (0: 1
	// unless MaxFailurePercent is set).
	MaxFailures int `yaml:"max_failures"`
	// MaxFailurePercent halts the rollout once this percentage of the
	// clusters failed (0: unused).
	MaxFailurePercent int `yaml:"max_failure_percent"`
	// WindowEnd is the end of the maintenance window: an RFC 3339 time
	// ("2026-03-01T06:00:00+01:00") or a duration from the moment the file
	// is loaded ("45m"). Empty means no window.
	WindowEnd string `yaml:"window_end"`
	// Approval configures the operator's approval of the rest after the
	// canaries.
	Approval ApprovalSettings `yaml:"approval"`
	// KeepOrder starts the clusters after the canaries in file order
	// instead of longest `expected` first.
	KeepOrder bool `yaml:"keep_order"`

	windowEnd       time.Time
	approvalTimeout time.Duration
}

// ApprovalSettings are the `rollout.approval:` keys.
type ApprovalSettings struct {
	// Rest asks once, after the canaries succeeded, before any other
	// cluster starts (upgrade.Rollout.ApproveRest).
	Rest bool `yaml:"rest"`
	// Timeout bounds the wait for the answer ("10m"); no answer in time is
	// a refusal. Empty means no bound.
	Timeout string `yaml:"timeout"`
}

// ClusterSpec is one entry of the inventory's `clusters:` list. The
// password it was given by reference is held unexported and is never
// printed, logged or encoded.
type ClusterSpec struct {
	// Name is the cluster's unique name (plans, journals, reports):
	// 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit.
	Name string `yaml:"name"`
	// Vendor is clavister, aviatrix, junos, checkpoint or fake.
	Vendor string `yaml:"vendor"`
	// Pod is the rollout group: at most rollout.per_group clusters of
	// one group run at once.
	Pod string `yaml:"pod"`
	// Site is another name for the rollout group (give pod or site).
	Site string `yaml:"site"`
	// Target is the version to upgrade to, in the vendor's grammar.
	Target string `yaml:"target"`
	// Members are the cluster's units (Clavister: the two units of the
	// pair, each with its own management address; Junos: node0 and node1;
	// Check Point: the 2 to 8 ClusterXL members, named as their objects on
	// management; fake: two or more, the first active).
	Members []MemberSpec `yaml:"members"`
	// Address is the single endpoint of clusters that have one: the
	// Aviatrix controller's https URL, a remote fake's host:port (as
	// printed by examples/simulator).
	Address string `yaml:"address"`
	// Username is the login name (not a secret).
	Username string `yaml:"username"`
	// PasswordEnv names the environment variable holding the password.
	PasswordEnv string `yaml:"password_env"`
	// PasswordFile is a file holding the password (its first line);
	// relative to the inventory's directory.
	PasswordFile string `yaml:"password_file"`
	// ExpertPasswordEnv and ExpertPasswordFile give the password of the
	// Check Point Expert mode (Clish `expert`), by reference like the
	// password.
	ExpertPasswordEnv  string `yaml:"expert_password_env"`
	ExpertPasswordFile string `yaml:"expert_password_file"`
	// KnownHosts is the OpenSSH known_hosts file of SSH vendors (required:
	// host keys are always verified).
	KnownHosts string `yaml:"known_hosts"`
	// Firmware is the local upgrade package of vendors that upload one
	// (Clavister .upg, Junos .tgz, Check Point CPUSE .tar or .tgz).
	Firmware string `yaml:"firmware"`
	// CABundle is a PEM file with the CA of a TLS vendor's controller
	// (Aviatrix); empty means the system roots.
	CABundle string `yaml:"ca_bundle"`
	// BatchSize is how many members one step upgrades together (Aviatrix
	// gateways); 0 means 1.
	BatchSize int `yaml:"batch_size"`
	// ClusterObject is the Check Point cluster object's name on the
	// management server (the simple-cluster whose version the plan sets
	// and on which it installs the policy); empty means Name.
	ClusterObject string `yaml:"cluster_object"`
	// PolicyPackage is the Check Point policy package the plan installs;
	// empty means "Standard".
	PolicyPackage string `yaml:"policy_package"`
	// Mgmt is the Check Point management server (required for
	// checkpoint).
	Mgmt *MgmtSpec `yaml:"mgmt"`
	// Expected is the expected duration of this cluster's upgrade ("25m"):
	// the longest start first.
	Expected string `yaml:"expected"`
	// ConvergeWithin bounds this cluster's run ("72h"): a cluster in mixed
	// versions must converge within its vendor's window.
	ConvergeWithin string `yaml:"converge_within"`
	// Gate overrides the health gates' timing (the vendor's defaults are
	// made for real devices: minutes). For Aviatrix, interval also paces
	// the controller and gateway polls and deadline bounds every hop and
	// batch.
	Gate *GateSpec `yaml:"gate"`
	// Simulate, when present, makes the fleet example start a simulator
	// for this cluster on 127.0.0.1 (or an in-memory fake) instead of
	// reaching real devices: addresses, known_hosts, firmware and CA bundle
	// then come from the simulator and must not be given.
	Simulate *SimulateSpec `yaml:"simulate"`

	line           int
	password       secret // resolved password_env/password_file; nil when none
	expertPassword secret // resolved expert_password_env/expert_password_file
	expected       time.Duration
	convergeWithin time.Duration
	gate           gateTiming
}

// Group returns the cluster's rollout group: its pod, or else its site.
func (c *ClusterSpec) Group() string { return cmp.Or(c.Pod, c.Site) }

// MemberSpec is one member of a ClusterSpec.
type MemberSpec struct {
	// Name is the member's ID (Clavister unit name).
	Name string `yaml:"name"`
	// Address is "host" or "host:port" of the member's own management
	// interface (never the shared cluster IP).
	Address string `yaml:"address"`
}

// MgmtSpec is a Check Point cluster's `mgmt:` block: the management
// server (Security Management Server, or a domain of a Multi-Domain
// Server) that sets the cluster object's version and installs the
// policies. Credentials are references only, like the cluster's: an API
// key (api_key_env or api_key_file), or an administrator (username, with
// password_env or password_file). The API key and password are held
// unexported and are never printed, logged or encoded.
type MgmtSpec struct {
	// URL is the server, "https://host[:port]" (a Smart-1 Cloud tenant
	// may add its path, "https://host/<tenant-id>").
	URL string `yaml:"url"`
	// Fingerprint pins the SHA-256 fingerprint of the server's own
	// certificate (as `openssl x509 -noout -fingerprint -sha256` prints
	// it); a server presenting another certificate is refused.
	Fingerprint string `yaml:"fingerprint"`
	// CABundle is a PEM file with the CA that signs the server's
	// certificate (usually its Internal CA); relative to the inventory's
	// directory. Give fingerprint, ca_bundle or both.
	CABundle string `yaml:"ca_bundle"`
	// Domain is the domain to log in to on a Multi-Domain Server (empty:
	// the server itself).
	Domain string `yaml:"domain"`
	// Username is the management administrator (with password_env or
	// password_file).
	Username string `yaml:"username"`
	// PasswordEnv and PasswordFile give the administrator's password.
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	// APIKeyEnv and APIKeyFile give an API key instead of an
	// administrator.
	APIKeyEnv  string `yaml:"api_key_env"`
	APIKeyFile string `yaml:"api_key_file"`

	password secret
	apiKey   secret
}

// GateSpec is a cluster's `gate:` timing (durations such as "10s").
type GateSpec struct {
	// Interval is the time between polls.
	Interval string `yaml:"interval"`
	// MinHealthy is how long the condition must hold.
	MinHealthy string `yaml:"min_healthy"`
	// Deadline is when the gate fails.
	Deadline string `yaml:"deadline"`
}

// gateTiming is a parsed GateSpec (zero: the vendor's default).
type gateTiming struct{ interval, minHealthy, deadline time.Duration }

// SimulateSpec is a cluster's `simulate:` block.
type SimulateSpec struct {
	// Version is the simulated cluster's starting version (vendor
	// grammar); empty means the simulator's default.
	Version string `yaml:"version"`
	// Speed runs the simulation this many times faster (default 1).
	Speed float64 `yaml:"speed"`
	// Pairs is the number of gateway pairs of a simulated Aviatrix
	// controller (default 2).
	Pairs int `yaml:"pairs"`
	// Fault injects one of the vendor's named faults (see `-list-faults`
	// of examples/simulator); -fail CLUSTER sets the vendor's default one.
	Fault string `yaml:"fault"`
}

// secret is a resolved password, held in a closure: fmt and encoders
// render a func as an address (or not at all), whatever the verb, so no
// rendering of a struct holding it shows the value.
type secret func() string

// newSecret returns the secret holding v.
func newSecret(v string) secret { return func() string { return v } }

// value returns the password, "" for nil.
func (s secret) value() string {
	if s == nil {
		return ""
	}
	return s()
}

// LoadOptions tune Load and Parse.
type LoadOptions struct {
	// BaseDir resolves the relative paths of the file (password_file,
	// expert_password_file, known_hosts, firmware, ca_bundle and those of
	// mgmt:); Load defaults it to the file's directory, Parse to the
	// working directory.
	BaseDir string
	// LookupEnv reads password_env variables; nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)
	// Now is the moment window_end is judged against (and relative
	// window ends start from); zero means time.Now().
	Now time.Time
}

// Load reads and validates the inventory file at path; see Parse.
func Load(path string, o LoadOptions) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &InventoryError{File: path, Problems: []error{&FileError{Location: Location{File: path}, Field: "inventory", Path: path, Err: err}}}
	}
	if o.BaseDir == "" {
		o.BaseDir = filepath.Dir(path)
	}
	return Parse(path, data, o)
}

// Parse decodes and validates an inventory. Decoding is strict (unknown
// keys are refused), and every problem is reported at once in an
// *InventoryError, in line order, each a typed error carrying its line and
// cluster (errors.As finds *InlinePasswordError, *DuplicateClusterError,
// *UnknownVendorError, *UnsupportedVendorError, *MissingSecretError,
// *VersionError, *SettingError, *WindowClosedError, *UnknownGroupError,
// *UnknownKeyError, *FieldError, *FileError, *SyntaxError).
func Parse(file string, data []byte, o LoadOptions) (*Inventory, error) {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	p := &parser{file: file, opts: o}
	inv := &Inventory{File: file}

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		p.add(&SyntaxError{Location: Location{File: file, Line: yamlLine(err.Error())}, Msg: stripYAML(err.Error())})
		return nil, p.result()
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		p.add(&SyntaxError{Location: Location{File: file, Line: 1}, Msg: "the inventory is empty"})
		return nil, p.result()
	}
	p.root = root.Content[0]
	p.indexClusters()
	p.findInlineSecrets(p.root)

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(inv)
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te):
		p.typeErrors(te.Errors)
	case err != nil:
		p.add(&SyntaxError{Location: Location{File: file, Line: yamlLine(err.Error())}, Msg: stripYAML(err.Error())})
		return nil, p.result()
	}
	if err := dec.Decode(new(yaml.Node)); err != io.EOF {
		p.add(&SyntaxError{Location: Location{File: file, Line: yamlLine(fmt.Sprint(err))}, Msg: "more than one YAML document: an inventory is one document"})
	}
	inv.File = file
	p.validate(inv)
	if err := p.result(); err != nil {
		return nil, err
	}
	return inv, nil
}

// Location says where an inventory problem is.
type Location struct {
	// File is the inventory file's name.
	File string
	// Line is the 1-based line (0: unknown).
	Line int
	// Cluster is the cluster's name ("" for the rollout settings, or
	// "clusters[N]" for a cluster without a name).
	Cluster string
}

// prefix renders "file:line: cluster NAME: ".
func (l Location) prefix() string {
	var b strings.Builder
	b.WriteString(l.File)
	if l.Line > 0 {
		b.WriteString(":" + strconv.Itoa(l.Line))
	}
	b.WriteString(": ")
	if l.Cluster != "" {
		b.WriteString("cluster " + l.Cluster + ": ")
	}
	return b.String()
}

// Where returns the location (every inventory problem has one).
func (l Location) Where() Location { return l }

// ErrNotSupportedYet is matched by *UnsupportedVendorError.
var ErrNotSupportedYet = errors.New("not supported yet")

// InventoryError lists every problem of an inventory file, in line order.
type InventoryError struct {
	// File is the inventory file's name.
	File string
	// Problems are the typed problems.
	Problems []error
}

// Error lists one problem per line.
func (e *InventoryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "inventory %s: %d problem(s):", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, so errors.As finds each.
func (e *InventoryError) Unwrap() []error { return e.Problems }

// InlinePasswordError: a password (or other secret) written in the file.
// Secrets are given by reference only; the value is never repeated.
type InlinePasswordError struct {
	Location
	// Key is the key used ("password").
	Key string
}

// Error names the cluster and the line, never the value.
func (e *InlinePasswordError) Error() string {
	return e.prefix() + fmt.Sprintf("inline %q refused: give the password by reference, password_env: NAME or password_file: PATH", e.Key)
}

// DuplicateClusterError: two clusters with one name.
type DuplicateClusterError struct {
	Location
	// FirstLine is where the name was first used.
	FirstLine int
}

// Error names both lines.
func (e *DuplicateClusterError) Error() string {
	return e.prefix() + fmt.Sprintf("duplicate cluster name (first at line %d)", e.FirstLine)
}

// UnknownVendorError: a vendor hitless does not know.
type UnknownVendorError struct {
	Location
	// Vendor is the vendor given ("" when none was).
	Vendor string
	// Known lists the vendors the fleet can drive.
	Known []string
}

// Error lists the known vendors.
func (e *UnknownVendorError) Error() string {
	if e.Vendor == "" {
		return e.prefix() + fmt.Sprintf("vendor is required (%s)", strings.Join(e.Known, ", "))
	}
	return e.prefix() + fmt.Sprintf("unknown vendor %q (%s)", e.Vendor, strings.Join(e.Known, ", "))
}

// UnsupportedVendorError: a vendor hitless knows but the fleet cannot
// drive yet (those of notYet; none at the moment: every vendor package of
// this tree is driven). It matches ErrNotSupportedYet.
type UnsupportedVendorError struct {
	Location
	// Vendor is the vendor given.
	Vendor string
	// Why says what is missing.
	Why string
}

// Error says "vendor X not supported yet" and why.
func (e *UnsupportedVendorError) Error() string {
	return e.prefix() + fmt.Sprintf("vendor %s not supported yet: %s", e.Vendor, e.Why)
}

// Is matches ErrNotSupportedYet.
func (e *UnsupportedVendorError) Is(target error) bool { return target == ErrNotSupportedYet }

// MissingSecretError: a password reference that resolves to nothing (an
// unset or empty environment variable, a missing, unreadable or empty
// file), or a cluster that needs a password and has no reference.
type MissingSecretError struct {
	Location
	// Secret names the secret: "" for the login password, else
	// "expert_password", "mgmt.password", "mgmt.api_key", or "mgmt" for
	// a management section without any credentials.
	Secret string
	// Env or File is the reference ("" when none was given).
	Env, File string
	// Err is the file error, if any (errors.Is(err, fs.ErrNotExist)).
	Err error
}

// Error names the reference, never a value.
func (e *MissingSecretError) Error() string {
	what := cmp.Or(e.Secret, "password")
	switch {
	case e.Env != "":
		return e.prefix() + fmt.Sprintf("%s_env %s is not set (or empty)", what, e.Env)
	case e.File != "" && e.Err != nil:
		return e.prefix() + fmt.Sprintf("%s_file %s: %v", what, e.File, e.Err)
	case e.File != "":
		return e.prefix() + fmt.Sprintf("%s_file %s is empty", what, e.File)
	case e.Secret == "":
		return e.prefix() + "a password is required: password_env: NAME or password_file: PATH"
	case e.Secret == "mgmt":
		return e.prefix() + "mgmt: credentials are required: api_key_env: NAME or api_key_file: PATH, or username with password_env: NAME or password_file: PATH"
	}
	return e.prefix() + fmt.Sprintf("%s is required: %s_env: NAME or %s_file: PATH", what, what, what)
}

// Unwrap returns the file error.
func (e *MissingSecretError) Unwrap() error { return e.Err }

// VersionError: a version the vendor's grammar refuses.
type VersionError struct {
	Location
	// Field is "target" or "simulate.version".
	Field string
	// Version is the version given ("" when missing).
	Version string
	// Err is the vendor grammar's error.
	Err error
}

// Error names the field and the version.
func (e *VersionError) Error() string {
	if e.Version == "" {
		return e.prefix() + e.Field + " is required"
	}
	return e.prefix() + fmt.Sprintf("%s %q: %v", e.Field, e.Version, e.Err)
}

// Unwrap returns the grammar's error.
func (e *VersionError) Unwrap() error { return e.Err }

// SettingError: a rollout setting out of range (max_parallel_clusters <= 0,
// canaries beyond the cluster count, …).
type SettingError struct {
	Location
	// Field is the key, e.g. "max_parallel_clusters".
	Field string
	// Problem says what is wrong.
	Problem string
}

// Error names the setting.
func (e *SettingError) Error() string {
	return e.prefix() + fmt.Sprintf("rollout.%s: %s", e.Field, e.Problem)
}

// WindowClosedError: rollout.window_end is already past.
type WindowClosedError struct {
	Location
	// End is the window's end.
	End time.Time
}

// Error says when the window closed.
func (e *WindowClosedError) Error() string {
	return e.prefix() + fmt.Sprintf("rollout.window_end: the maintenance window already closed at %s", e.End.Format(time.RFC3339))
}

// UnknownGroupError: rollout.group_limits names a pod/site no cluster has.
type UnknownGroupError struct {
	Location
	// Group is the pod/site named.
	Group string
}

// Error names the group.
func (e *UnknownGroupError) Error() string {
	return e.prefix() + fmt.Sprintf("rollout.group_limits: no cluster is in pod/site %q", e.Group)
}

// UnknownKeyError: a key the format does not have (a typo, a key of
// another vendor's format).
type UnknownKeyError struct {
	Location
	// Key is the key found.
	Key string
}

// Error names the key.
func (e *UnknownKeyError) Error() string { return e.prefix() + fmt.Sprintf("unknown key %q", e.Key) }

// FieldError: a cluster field missing, malformed or not used by its
// vendor.
type FieldError struct {
	Location
	// Field is the key ("" for a problem of the whole entry).
	Field string
	// Problem says what is wrong.
	Problem string
}

// Error names the field.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.prefix() + e.Problem
	}
	return e.prefix() + e.Field + ": " + e.Problem
}

// FileError: a file the inventory names (known_hosts, firmware,
// ca_bundle, or the inventory itself) that cannot be read.
type FileError struct {
	Location
	// Field is the key naming the file; Path the file, as resolved.
	Field, Path string
	// Err is the file system's error.
	Err error
}

// Error names the key and the path.
func (e *FileError) Error() string {
	return e.prefix() + fmt.Sprintf("%s %s: %v", e.Field, e.Path, e.Err)
}

// Unwrap returns the file error.
func (e *FileError) Unwrap() error { return e.Err }

// SyntaxError: the file is not one valid YAML document.
type SyntaxError struct {
	Location
	// Msg is the YAML parser's message.
	Msg string
}

// Error is the parser's message with its location.
func (e *SyntaxError) Error() string { return e.prefix() + e.Msg }

// located is implemented by every inventory problem.
type located interface {
	error
	Where() Location
}

// parser is the state of one Parse.
type parser struct {
	file  string
	opts  LoadOptions
	root  *yaml.Node // the document's top mapping
	items []*yaml.Node
	names []string // cluster names by index, from the nodes
	probs []located
	// typeLines are lines where decoding already failed: later checks of
	// the zero value decoded there would only repeat the problem.
	typeLines map[int]bool
	// inline are the clusters with an inline secret (already reported:
	// no second "a password is required").
	inline map[string]bool
}

func (p *parser) add(e located) { p.probs = append(p.probs, e) }

func (p *parser) result() error {
	if len(p.probs) == 0 {
		return nil
	}
	slices.SortStableFunc(p.probs, func(a, b located) int { return cmp.Compare(a.Where().Line, b.Where().Line) })
	errs := make([]error, len(p.probs))
	for i, e := range p.probs {
		errs[i] = e
	}
	return &InventoryError{File: p.file, Problems: errs}
}

// mapValue returns the key and value nodes of key in mapping n.
func mapValue(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// indexClusters records the cluster items' nodes and names.
func (p *parser) indexClusters() {
	_, seq := mapValue(p.root, "clusters")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return
	}
	p.items = seq.Content
	p.names = make([]string, len(p.items))
	for i, it := range p.items {
		if _, v := mapValue(it, "name"); v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
			p.names[i] = v.Value
		} else {
			p.names[i] = fmt.Sprintf("clusters[%d]", i)
		}
	}
}

// clusterAt returns the name of the cluster whose entry holds line ("" for
// lines outside the cluster list).
func (p *parser) clusterAt(line int) string {
	if len(p.items) == 0 || line < p.items[0].Line {
		return ""
	}
	ck, _ := mapValue(p.root, "clusters")
	for i := 0; i+1 < len(p.root.Content); i += 2 {
		if k := p.root.Content[i]; k.Line > ck.Line && line >= k.Line {
			return "" // a top-level key after the cluster list
		}
	}
	name := ""
	for i, it := range p.items {
		if it.Line <= line {
			name = p.names[i]
		}
	}
	return name
}

// line returns the line of a path below the root ("rollout",
// "max_parallel_clusters"), or of the deepest part of it that exists.
func (p *parser) line(path ...any) int {
	n, best := p.root, p.root.Line
	for _, part := range path {
		switch part := part.(type) {
		case string:
			k, v := mapValue(n, part)
			if k == nil {
				return best
			}
			n, best = v, k.Line
		case int:
			if n.Kind != yaml.SequenceNode || part >= len(n.Content) {
				return best
			}
			n, best = n.Content[part], n.Content[part].Line
		}
	}
	return best
}

// secretKeyRE matches keys that would put a secret in the file
// ("password", "expert_password", "api_key", …), but not the references
// ("password_env", "api_key_file").
var secretKeyRE = regexp.MustCompile(`(?i)^([a-z]+_)?(password|passwd|pass|secret|token|api_?key)$`)

// findInlineSecrets reports every secret-looking key anywhere in the file.
func (p *parser) findInlineSecrets(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if secretKeyRE.MatchString(k.Value) {
				at := Location{File: p.file, Line: k.Line, Cluster: p.clusterAt(k.Line)}
				p.add(&InlinePasswordError{Location: at, Key: k.Value})
				if p.inline == nil {
					p.inline = map[string]bool{}
				}
				p.inline[at.Cluster] = true
				continue
			}
			p.findInlineSecrets(n.Content[i+1])
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			p.findInlineSecrets(c)
		}
	}
}

var (
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (.+) not found in type`)
	lineRE         = regexp.MustCompile(`line (\d+)`)
	nameRE         = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	envNameRE      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func yamlLine(msg string) int {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// stripYAML removes yaml.v3's "yaml: line N: " prefix.
func stripYAML(msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := regexp.MustCompile(`^line \d+: `).FindString(msg); m != "" {
		msg = msg[len(m):]
	}
	return msg
}

// typeErrors turns yaml.v3's decode errors into typed problems.
func (p *parser) typeErrors(msgs []string) {
	p.typeLines = map[int]bool{}
	for _, m := range msgs {
		line := yamlLine(m)
		at := Location{File: p.file, Line: line, Cluster: p.clusterAt(line)}
		if u := unknownFieldRE.FindStringSubmatch(m); u != nil {
			if secretKeyRE.MatchString(u[2]) {
				continue // reported as an *InlinePasswordError
			}
			p.add(&UnknownKeyError{Location: at, Key: u[2]})
			continue
		}
		p.typeLines[line] = true
		msg := stripYAML(m)
		// yaml.v3 quotes the offending value; secrets never reach here
		// (their keys are refused above), but keep the message short.
		msg = strings.Replace(msg, "main.", "", 1)
		p.add(&FieldError{Location: at, Problem: msg})
	}
}

// at returns the location of a cluster's field.
func (p *parser) at(i int, path ...any) Location {
	full := append([]any{"clusters", i}, path...)
	name := fmt.Sprintf("clusters[%d]", i)
	if i < len(p.names) {
		name = p.names[i]
	}
	return Location{File: p.file, Line: p.line(full...), Cluster: name}
}

// rolloutAt returns the location of a rollout setting.
func (p *parser) rolloutAt(path ...any) Location {
	return Location{File: p.file, Line: p.line(append([]any{"rollout"}, path...)...)}
}

// skip reports whether the value at loc already failed to decode.
func (p *parser) skip(loc Location) bool { return p.typeLines[loc.Line] }

// duration parses a non-negative duration field ("" is 0).
func (p *parser) duration(loc Location, field, s string) time.Duration {
	if s == "" || p.skip(loc) {
		return 0
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		p.add(&FieldError{Location: loc, Field: field, Problem: fmt.Sprintf("%q is not a duration (e.g. 90s, 20m, 2h)", s)})
	case d < 0:
		p.add(&FieldError{Location: loc, Field: field, Problem: fmt.Sprintf("%v must not be negative", d)})
	}
	return max(d, 0)
}

// path resolves a relative path against the base directory.
func (p *parser) path(s string) string {
	if s == "" || filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(p.opts.BaseDir, s)
}

// readable checks that a named file can be read.
func (p *parser) readable(loc Location, field, path string) {
	f, err := os.Open(path)
	if err == nil {
		var fi fs.FileInfo
		if fi, err = f.Stat(); err == nil && !fi.Mode().IsRegular() {
			err = errors.New("not a regular file")
		}
		_ = f.Close()
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		p.add(&FileError{Location: loc, Field: field, Path: path, Err: err})
	}
}

// validate checks the decoded inventory and resolves credentials.
func (p *parser) validate(inv *Inventory) {
	drivers := vendors()
	if len(inv.Clusters) == 0 && len(p.probs) == 0 {
		p.add(&FieldError{Location: Location{File: p.file, Line: p.line("clusters")}, Field: "clusters", Problem: "at least one cluster is required"})
	}
	seen := map[string]int{}
	groups := map[string]bool{}
	for i := range inv.Clusters {
		c := &inv.Clusters[i]
		c.line = p.line("clusters", i)
		switch loc := p.at(i, "name"); {
		case c.Name == "":
			p.add(&FieldError{Location: p.at(i), Field: "name", Problem: "required"})
		case !nameRE.MatchString(c.Name):
			p.add(&FieldError{Location: loc, Field: "name", Problem: fmt.Sprintf("%q must be 1-63 characters of [A-Za-z0-9._-] starting with a letter or digit", c.Name)})
		default:
			if first, dup := seen[c.Name]; dup {
				p.add(&DuplicateClusterError{Location: loc, FirstLine: first})
			} else {
				seen[c.Name] = loc.Line
			}
		}
		if c.Pod != "" && c.Site != "" {
			p.add(&FieldError{Location: p.at(i, "site"), Field: "site", Problem: "give pod or site, not both (both are the rollout group)"})
		}
		if g := c.Group(); g != "" {
			groups[g] = true
		}
		c.expected = p.duration(p.at(i, "expected"), "expected", c.Expected)
		c.convergeWithin = p.duration(p.at(i, "converge_within"), "converge_within", c.ConvergeWithin)
		if c.Gate != nil {
			c.gate = gateTiming{
				interval:   p.duration(p.at(i, "gate", "interval"), "gate.interval", c.Gate.Interval),
				minHealthy: p.duration(p.at(i, "gate", "min_healthy"), "gate.min_healthy", c.Gate.MinHealthy),
				deadline:   p.duration(p.at(i, "gate", "deadline"), "gate.deadline", c.Gate.Deadline),
			}
			if c.gate.interval == 0 || c.gate.deadline == 0 {
				p.add(&FieldError{Location: p.at(i, "gate"), Field: "gate", Problem: "interval and deadline are required (min_healthy may be 0)"})
			}
		}
		if c.Simulate != nil {
			loc := p.at(i, "simulate", "speed")
			switch {
			case p.skip(loc) || c.Simulate.Speed == 0:
				c.Simulate.Speed = 1
			case c.Simulate.Speed < 0 || c.Simulate.Speed > 1000:
				p.add(&FieldError{Location: loc, Field: "simulate.speed", Problem: fmt.Sprintf("%v must be in (0, 1000]", c.Simulate.Speed)})
				c.Simulate.Speed = 1
			}
		}
		d, ok := drivers[c.Vendor]
		if !ok {
			loc := p.at(i, "vendor")
			if why, later := notYet()[c.Vendor]; later {
				p.add(&UnsupportedVendorError{Location: loc, Vendor: c.Vendor, Why: why})
			} else if !p.skip(loc) {
				p.add(&UnknownVendorError{Location: loc, Vendor: c.Vendor, Known: slices.Sorted(mapKeys(drivers))})
			}
			continue
		}
		p.checkCluster(i, c, d)
	}
	p.checkRollout(inv, groups)
}

// checkCluster applies the vendor's rules to cluster i and resolves its
// password.
func (p *parser) checkCluster(i int, c *ClusterSpec, d vendorDriver) {
	bad := func(loc Location, field, problem string) {
		if !p.skip(loc) {
			p.add(&FieldError{Location: loc, Field: field, Problem: problem})
		}
	}
	sim := c.Simulate != nil
	// Versions.
	if loc := p.at(i, "target"); !p.skip(loc) {
		if c.Target == "" {
			p.add(&VersionError{Location: p.at(i), Field: "target"})
		} else if err := d.parseVersion(c.Target); err != nil {
			p.add(&VersionError{Location: loc, Field: "target", Version: c.Target, Err: err})
		}
	}
	if sim && c.Simulate.Version != "" {
		if err := d.parseVersion(c.Simulate.Version); err != nil {
			p.add(&VersionError{Location: p.at(i, "simulate", "version"), Field: "simulate.version", Version: c.Simulate.Version, Err: err})
		}
	}
	if sim && c.Simulate.Fault != "" {
		if _, ok := d.faults[c.Simulate.Fault]; !ok {
			bad(p.at(i, "simulate", "fault"), "simulate.fault", fmt.Sprintf("unknown fault %q for %s (%s)", c.Simulate.Fault, c.Vendor, strings.Join(slices.Sorted(mapKeys(d.faults)), ", ")))
		}
	}
	if sim && c.Simulate.Pairs != 0 {
		if !d.uses["simulate.pairs"] {
			bad(p.at(i, "simulate", "pairs"), "simulate.pairs", "not used by vendor "+c.Vendor)
		} else if c.Simulate.Pairs < 1 || c.Simulate.Pairs > 500 {
			bad(p.at(i, "simulate", "pairs"), "simulate.pairs", fmt.Sprintf("%d must be in 1..500", c.Simulate.Pairs))
		}
	}
	// Keys the vendor does not read are refused: a typo of intent, or a
	// setting that would silently do nothing.
	for _, f := range []struct {
		key string
		set bool
	}{
		{"members", len(c.Members) > 0}, {"address", c.Address != ""}, {"username", c.Username != ""},
		{"password_env", c.PasswordEnv != ""}, {"password_file", c.PasswordFile != ""},
		{"known_hosts", c.KnownHosts != ""}, {"firmware", c.Firmware != ""}, {"ca_bundle", c.CABundle != ""},
		{"batch_size", c.BatchSize != 0}, {"gate", c.Gate != nil},
		{"expert_password_env", c.ExpertPasswordEnv != ""}, {"expert_password_file", c.ExpertPasswordFile != ""},
		{"cluster_object", c.ClusterObject != ""}, {"policy_package", c.PolicyPackage != ""}, {"mgmt", c.Mgmt != nil},
	} {
		if f.set && !d.uses[f.key] {
			bad(p.at(i, f.key), f.key, "not used by vendor "+c.Vendor)
		}
	}
	if c.BatchSize < 0 {
		bad(p.at(i, "batch_size"), "batch_size", fmt.Sprintf("%d must be >= 0", c.BatchSize))
	}
	// Members: names, and their own addresses unless simulated.
	names := map[string]bool{}
	addrs := map[string]bool{}
	for j, m := range c.Members {
		loc := p.at(i, "members", j)
		field := fmt.Sprintf("members[%d]", j)
		switch {
		case m.Name == "":
			bad(loc, field+".name", "required")
		case !nameRE.MatchString(m.Name):
			bad(loc, field+".name", fmt.Sprintf("%q must be 1-63 characters of [A-Za-z0-9._-] starting with a letter or digit", m.Name))
		case names[m.Name]:
			bad(loc, field+".name", fmt.Sprintf("duplicate member %q", m.Name))
		}
		names[m.Name] = true
		aloc := p.at(i, "members", j, "address")
		switch {
		case m.Address != "" && (sim || !d.uses["members.address"]):
			bad(aloc, field+".address", addressNotUsed(c, sim))
		case m.Address == "" && !sim && d.uses["members.address"]:
			bad(loc, field+".address", "required: the member's own management address, host or host:port (never the shared cluster IP)")
		case m.Address != "":
			if _, _, err := splitHostPort(m.Address, 22); err != nil {
				bad(aloc, field+".address", err.Error())
			} else if addrs[m.Address] {
				bad(aloc, field+".address", fmt.Sprintf("%s is used twice: each member needs its own management address, not the shared cluster IP", m.Address))
			}
			addrs[m.Address] = true
		}
	}
	// The single endpoint.
	if d.uses["address"] && sim && c.Address != "" {
		bad(p.at(i, "address"), "address", addressNotUsed(c, true))
	}
	if d.uses["address"] && !sim && c.Address == "" && c.Vendor != "fake" {
		bad(p.at(i), "address", "required: the controller's https URL")
	}
	if c.Vendor == "fake" && !sim && c.Address == "" {
		bad(p.at(i), "address", "required: a fake is either simulated in memory (simulate:) or served by examples/simulator (address: host:port)")
	}
	// Files: from the simulator, or named and readable.
	for _, f := range []struct {
		key string
		ptr *string
	}{{"known_hosts", &c.KnownHosts}, {"firmware", &c.Firmware}, {"ca_bundle", &c.CABundle}} {
		if !d.uses[f.key] {
			continue
		}
		what, required := d.files[f.key]
		switch {
		case sim && *f.ptr != "":
			bad(p.at(i, f.key), f.key, "comes from the simulator: remove it or remove simulate")
		case !sim && *f.ptr == "" && required:
			bad(p.at(i), f.key, "required: "+what)
		case !sim && *f.ptr != "":
			*f.ptr = p.path(*f.ptr)
			p.readable(p.at(i, f.key), f.key, *f.ptr)
		}
	}
	if d.check != nil {
		for _, fp := range d.check(c) {
			bad(p.at(i, fp.path...), fp.field, fp.problem)
		}
	}
	// Credentials, by reference only.
	if d.uses["password_env"] {
		p.checkPassword(i, c, d, sim)
	}
	if d.uses["expert_password_env"] {
		ref := secretRef{secret: "expert_password", envKey: "expert_password_env", fileKey: "expert_password_file", env: c.ExpertPasswordEnv, file: c.ExpertPasswordFile}
		var given bool
		if c.expertPassword, given = p.resolve(i, ref); !given && !p.inline[p.at(i).Cluster] {
			p.add(&MissingSecretError{Location: p.at(i), Secret: "expert_password"})
		}
	}
	if d.uses["mgmt"] {
		p.checkMgmt(i, c, sim)
	}
}

// checkPassword resolves the password reference of cluster i.
func (p *parser) checkPassword(i int, c *ClusterSpec, d vendorDriver, sim bool) {
	if sim && d.password == "real" && (c.PasswordEnv != "" || c.PasswordFile != "") {
		key := "password_file"
		if c.PasswordEnv != "" {
			key = "password_env"
		}
		if loc := p.at(i, key); !p.skip(loc) {
			p.add(&FieldError{Location: loc, Field: key, Problem: "an in-memory fake has no login: remove the password reference"})
		}
		return
	}
	s, given := p.resolve(i, secretRef{envKey: "password_env", fileKey: "password_file", env: c.PasswordEnv, file: c.PasswordFile})
	switch {
	case given:
		c.password = s
	case p.inline[p.at(i).Cluster]:
	case d.password == "always" || (d.password == "real" && !sim):
		p.add(&MissingSecretError{Location: p.at(i)})
	}
}

// secretRef is one secret given by reference: an environment variable
// (envKey: env) or a file (fileKey: file), in the cluster entry or below
// it (path, e.g. {"mgmt"}).
type secretRef struct {
	// secret names it in a *MissingSecretError ("" for the password).
	secret          string
	path            []any
	envKey, fileKey string
	env, file       string
}

// resolve reads the secret r names; given reports whether r names one
// (when it does but it cannot be read, the problem is added and the
// secret is nil).
func (p *parser) resolve(i int, r secretRef) (s secret, given bool) {
	prefix := ""
	for _, part := range r.path {
		prefix += fmt.Sprint(part) + "."
	}
	at := func(key string) Location { return p.at(i, append(slices.Clone(r.path), key)...) }
	bad := func(key, problem string) {
		if loc := at(key); !p.skip(loc) {
			p.add(&FieldError{Location: loc, Field: prefix + key, Problem: problem})
		}
	}
	switch {
	case r.env != "" && r.file != "":
		bad(r.fileKey, fmt.Sprintf("give %s or %s, not both", r.envKey, r.fileKey))
		return nil, true
	case r.env != "":
		loc := at(r.envKey)
		if !envNameRE.MatchString(r.env) {
			bad(r.envKey, fmt.Sprintf("%q is not an environment variable name", r.env))
			return nil, true
		}
		if v, ok := p.opts.LookupEnv(r.env); ok && v != "" {
			return newSecret(v), true
		}
		p.add(&MissingSecretError{Location: loc, Secret: r.secret, Env: r.env})
		return nil, true
	case r.file != "":
		loc := at(r.fileKey)
		path := p.path(r.file)
		data, err := os.ReadFile(path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			p.add(&MissingSecretError{Location: loc, Secret: r.secret, File: path, Err: err})
			return nil, true
		}
		v, _, _ := strings.Cut(string(data), "\n")
		if v = strings.TrimRight(v, "\r"); v == "" {
			p.add(&MissingSecretError{Location: loc, Secret: r.secret, File: path})
			return nil, true
		}
		return newSecret(v), true
	}
	return nil, false
}

// checkMgmt checks the `mgmt:` block of Check Point cluster i and
// resolves its credentials. The block is required: the plans set the
// cluster object's version and install the policy there. A simulated
// cluster gets the server (URL, certificate) from the simulator, but its
// credentials are still given by reference (the fake server is started
// with them).
func (p *parser) checkMgmt(i int, c *ClusterSpec, sim bool) {
	bad := func(loc Location, field, problem string) {
		if !p.skip(loc) {
			p.add(&FieldError{Location: loc, Field: field, Problem: problem})
		}
	}
	m := c.Mgmt
	if m == nil {
		what := "url, fingerprint or ca_bundle, and credentials"
		if sim {
			what = "its credentials (the simulated server gets its URL and certificate from the simulator)"
		}
		bad(p.at(i), "mgmt", "required: the management server that sets the cluster object's version and installs the policy ("+what+")")
		return
	}
	at := func(key string) Location { return p.at(i, "mgmt", key) }
	if sim {
		for _, f := range []struct{ key, v string }{{"url", m.URL}, {"fingerprint", m.Fingerprint}, {"ca_bundle", m.CABundle}} {
			if f.v != "" {
				bad(at(f.key), "mgmt."+f.key, "comes from the simulator: remove it or remove simulate")
			}
		}
	} else {
		switch err := checkMgmtURL(m.URL); {
		case m.URL == "":
			bad(p.at(i, "mgmt"), "mgmt.url", "required: the management server's https URL")
		case err != nil:
			bad(at("url"), "mgmt.url", err.Error())
		}
		if m.Fingerprint != "" {
			if _, err := checkpoint.ParseMgmtFingerprint(m.Fingerprint); err != nil {
				bad(at("fingerprint"), "mgmt.fingerprint", err.Error()+" (e.g. the output of openssl x509 -noout -fingerprint -sha256)")
			}
		}
		if m.CABundle != "" {
			m.CABundle = p.path(m.CABundle)
			p.readable(at("ca_bundle"), "mgmt.ca_bundle", m.CABundle)
		}
		if m.Fingerprint == "" && m.CABundle == "" {
			bad(p.at(i, "mgmt"), "mgmt", "give fingerprint (the SHA-256 of the server's certificate), ca_bundle (the CA that signs it, usually the server's Internal CA) or both: the server is always verified")
		}
	}
	if m.Domain != "" && (strings.TrimSpace(m.Domain) != m.Domain || strings.ContainsAny(m.Domain, "\r\n\t")) {
		bad(at("domain"), "mgmt.domain", fmt.Sprintf("%q is not a domain name or UID", m.Domain))
	}
	if m.Username != "" && strings.ContainsAny(m.Username, " \t\r\n") {
		bad(at("username"), "mgmt.username", "must not contain spaces or line breaks")
	}
	inline := p.inline[p.at(i).Cluster]
	key := secretRef{secret: "mgmt.api_key", path: []any{"mgmt"}, envKey: "api_key_env", fileKey: "api_key_file", env: m.APIKeyEnv, file: m.APIKeyFile}
	pw := secretRef{secret: "mgmt.password", path: []any{"mgmt"}, envKey: "password_env", fileKey: "password_file", env: m.PasswordEnv, file: m.PasswordFile}
	hasKey, hasAdmin := m.APIKeyEnv != "" || m.APIKeyFile != "", m.Username != "" || m.PasswordEnv != "" || m.PasswordFile != ""
	switch {
	case hasKey && hasAdmin:
		k := "username"
		switch {
		case m.Username != "":
		case m.PasswordEnv != "":
			k = "password_env"
		default:
			k = "password_file"
		}
		bad(at(k), "mgmt."+k, "give api_key_env/api_key_file or username with password_env/password_file, not both")
	case hasKey:
		m.apiKey, _ = p.resolve(i, key)
	case hasAdmin:
		var given bool
		if m.password, given = p.resolve(i, pw); !given && !inline {
			p.add(&MissingSecretError{Location: p.at(i, "mgmt"), Secret: "mgmt.password"})
		}
		if m.Username == "" {
			bad(p.at(i, "mgmt"), "mgmt.username", "required with password_env/password_file: the management administrator")
		}
	case !inline:
		p.add(&MissingSecretError{Location: p.at(i, "mgmt"), Secret: "mgmt"})
	}
}

// checkMgmtURL accepts "https://host[:port]" with an optional path (a
// Smart-1 Cloud tenant), without user info, query, fragment or web_api.
func checkMgmtURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("%q must be https://host[:port] (no user info, query or fragment)", s)
	}
	if strings.Contains(u.Path, "web_api") {
		return fmt.Errorf("%q must not include /web_api (the client adds it)", s)
	}
	return nil
}

// addressNotUsed explains a refused address.
func addressNotUsed(c *ClusterSpec, sim bool) string {
	if sim {
		return "a simulated cluster gets its addresses from the simulator: remove it or remove simulate"
	}
	return "not used by vendor " + c.Vendor
}

// splitHostPort parses "host" or "host:port" (IPv6 in brackets).
func splitHostPort(s string, defPort int) (string, int, error) {
	host, port := s, ""
	if h, pt, err := net.SplitHostPort(s); err == nil {
		host, port = h, pt
	} else if strings.Count(s, ":") == 1 || strings.HasPrefix(s, "[") {
		return "", 0, fmt.Errorf("%q is not host or host:port", s)
	}
	if host == "" || strings.ContainsAny(host, " \t/@") {
		return "", 0, fmt.Errorf("%q is not host or host:port", s)
	}
	if port == "" {
		return host, defPort, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("%q: port must be 1-65535", s)
	}
	return host, n, nil
}

// checkHTTPSURL accepts "https://host[:port]" without path or user info.
func checkHTTPSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return fmt.Errorf("%q must be https://host[:port] (no path, query or user info)", s)
	}
	return nil
}

// checkRollout validates the top-level settings.
func (p *parser) checkRollout(inv *Inventory, groups map[string]bool) {
	r := &inv.Rollout
	bad := func(field, problem string) {
		loc := p.rolloutAt(strings.Split(field, ".")[0])
		if strings.Contains(field, ".") {
			parts := strings.Split(field, ".")
			loc = p.rolloutAt(parts[0], parts[1])
		}
		if !p.skip(loc) {
			p.add(&SettingError{Location: loc, Field: field, Problem: problem})
		}
	}
	if r.MaxParallelClusters <= 0 {
		bad("max_parallel_clusters", fmt.Sprintf("%d must be >= 1 (how many clusters run at once)", r.MaxParallelClusters))
	}
	if r.PerGroup < 0 {
		bad("per_group", fmt.Sprintf("%d must be >= 0 (0 means 1)", r.PerGroup))
	}
	if r.Canaries < 0 || r.Canaries > len(inv.Clusters) {
		bad("canaries", fmt.Sprintf("%d must be in 0..%d (the number of clusters)", r.Canaries, len(inv.Clusters)))
	}
	if r.MaxFailures < 0 {
		bad("max_failures", fmt.Sprintf("%d must be >= 0", r.MaxFailures))
	}
	if r.MaxFailurePercent < 0 || r.MaxFailurePercent > 100 {
		bad("max_failure_percent", fmt.Sprintf("%d must be in 0..100", r.MaxFailurePercent))
	}
	for _, g := range slices.Sorted(mapKeys(r.GroupLimits)) {
		loc := p.rolloutAt("group_limits", g)
		if !groups[g] {
			p.add(&UnknownGroupError{Location: loc, Group: g})
		}
		if n := r.GroupLimits[g]; n < 1 && !p.skip(loc) {
			p.add(&SettingError{Location: loc, Field: "group_limits." + g, Problem: fmt.Sprintf("%d must be >= 1", n)})
		}
	}
	if s := r.WindowEnd; s != "" && !p.skip(p.rolloutAt("window_end")) {
		loc := p.rolloutAt("window_end")
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			r.windowEnd = t
		} else if d, derr := time.ParseDuration(s); derr == nil && d > 0 {
			r.windowEnd = p.opts.Now.Add(d)
		} else {
			bad("window_end", fmt.Sprintf("%q is neither an RFC 3339 time (2026-03-01T06:00:00+01:00) nor a positive duration from now (45m)", s))
		}
		if !r.windowEnd.IsZero() && !p.opts.Now.Before(r.windowEnd) {
			p.add(&WindowClosedError{Location: loc, End: r.windowEnd})
		}
	}
	r.approvalTimeout = p.duration(p.rolloutAt("approval", "timeout"), "rollout.approval.timeout", r.Approval.Timeout)
}

// mapKeys iterates over m's keys.
func mapKeys[V any](m map[string]V) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
