package aviatrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// VersionInfo is the reply of list_version_info (its shape reconstructed
// from the Terraform provider's goaviatrix/version.go: results.current_version,
// previous_version, latest_version, kernel_version). Versions are given
// without the "UserConnect-" prefix when they parse, verbatim otherwise.
type VersionInfo struct {
	// Current is the controller's running version.
	Current string `json:"current_version"`
	// Previous is the controller's previous version: the only rollback
	// target for gateways (Aviatrix Docs, "Selective Gateway Upgrade",
	// rollback). May be empty.
	Previous string `json:"previous_version,omitempty"`
	// Latest is the latest build of the current major.minor (asked with
	// latest_version=true); may be empty.
	Latest string `json:"latest_version,omitempty"`
	// Kernel is the controller's kernel version, informational.
	Kernel string `json:"kernel_version,omitempty"`
}

// canonical strips VersionPrefix from a parseable version.
func canonical(s string) string {
	s = strings.TrimSpace(s)
	if v, err := ParseVersion(s); err == nil {
		return v.String()
	}
	return s
}

// VersionInfo calls list_version_info with latest_version=true.
func (c *Client) VersionInfo(ctx context.Context) (VersionInfo, error) {
	return c.versionInfo(ctx, callOpts{})
}

func (c *Client) versionInfo(ctx context.Context, o callOpts) (VersionInfo, error) {
	env, err := c.call(ctx, "list_version_info", url.Values{"latest_version": {"true"}}, o)
	if err != nil {
		return VersionInfo{}, err
	}
	return decodeVersionInfo(env.Results)
}

func decodeVersionInfo(r json.RawMessage) (VersionInfo, error) {
	var w struct {
		Current  flexString `json:"current_version"`
		Previous flexString `json:"previous_version"`
		Latest   flexString `json:"latest_version"`
		Kernel   flexString `json:"kernel_version"`
	}
	if err := json.Unmarshal(r, &w); err != nil {
		// Some builds answer a bare version string.
		var s string
		if json.Unmarshal(r, &s) == nil && s != "" {
			return VersionInfo{Current: canonical(s)}, nil
		}
		return VersionInfo{}, &APIError{Action: "list_version_info", Status: 200, Reason: "results is not a version object", Kind: ErrProtocol}
	}
	if w.Current == "" {
		return VersionInfo{}, &APIError{Action: "list_version_info", Status: 200, Reason: "results has no current_version", Kind: ErrProtocol}
	}
	return VersionInfo{Current: canonical(string(w.Current)), Previous: canonical(string(w.Previous)),
		Latest: canonical(string(w.Latest)), Kernel: string(w.Kernel)}, nil
}

// explicitVersion validates a version that is about to be sent: it must
// parse, be in scope and carry a build. "latest" is refused (AVX-44255/45684:
// "latest" with several pending versions targeted the wrong hop).
func explicitVersion(s string) (Version, error) {
	v, err := ParseVersion(s)
	if err != nil {
		return Version{}, err
	}
	if !v.HasBuild() {
		return Version{}, &VersionError{Input: s, Reason: "an explicit Major.Minor.Build is required (never \"latest\" or a bare minor; AVX-44255)", Err: ErrVersion}
	}
	if v.Tag() != "" {
		return Version{}, &VersionError{Input: s, Reason: "tagged minors are not supported", Err: ErrUnsupportedVersion}
	}
	return v, nil
}

// UpgradePlatform starts the controller-only upgrade to version (selective
// mode): POST upgrade_platform with async=true, gateway_list="",
// software_version=version, version=version (Terraform provider before
// v8, goaviatrix/version.go and the controller_config resource). It is a
// write and is never retried after an ambiguous failure: when
// WriteOutcomeUnknown(err) holds, the upgrade may have started, so poll
// PlatformUpgradeStatus to find out (the controller hop step does) rather
// than sending it again. version must be an explicit Major.Minor.Build.
// Poll PlatformUpgradeStatus afterwards.
func (c *Client) UpgradePlatform(ctx context.Context, version string) error {
	v, err := explicitVersion(version)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, "upgrade_platform", url.Values{
		"async": {"true"}, "gateway_list": {""}, "software_version": {v.String()}, "version": {v.String()},
	}, callOpts{write: true})
	return err
}

// PlatformStatus is the reply of platform_upgrade_status with
// platform_only=true (Terraform provider before v8; the fields are the
// provider's, their nesting reconstructed from its code:
// results.is_upgrade_in_progress, results.platform_upgrade.{progmsg, reason,
// results:{status, msg, reason}}).
type PlatformStatus struct {
	// InProgress is is_upgrade_in_progress.
	InProgress bool `json:"in_progress"`
	// Status is "in progress", "complete", or a failure word.
	Status string `json:"status"`
	// Message is results.msg or progmsg.
	Message string `json:"message,omitempty"`
	// Reason explains a failure (redacted).
	Reason string `json:"reason,omitempty"`
}

// Done reports a completed upgrade.
func (p PlatformStatus) Done() bool { return !p.InProgress && strings.EqualFold(p.Status, "complete") }

// Running reports an upgrade still in progress (an empty status while
// is_upgrade_in_progress is true counts as running).
func (p PlatformStatus) Running() bool {
	return p.InProgress || strings.EqualFold(p.Status, "in progress")
}

// PlatformUpgradeStatus calls platform_upgrade_status (platform_only=true).
func (c *Client) PlatformUpgradeStatus(ctx context.Context) (PlatformStatus, error) {
	return c.platformStatus(ctx, callOpts{})
}

func (c *Client) platformStatus(ctx context.Context, o callOpts) (PlatformStatus, error) {
	env, err := c.call(ctx, "platform_upgrade_status", url.Values{"platform_only": {"true"}}, o)
	if err != nil {
		return PlatformStatus{}, err
	}
	var w struct {
		InProgress flexBool `json:"is_upgrade_in_progress"`
		Platform   struct {
			ProgMsg flexString `json:"progmsg"`
			Reason  flexString `json:"reason"`
			Results struct {
				Status flexString `json:"status"`
				Msg    flexString `json:"msg"`
				Reason flexString `json:"reason"`
			} `json:"results"`
		} `json:"platform_upgrade"`
	}
	if err := json.Unmarshal(env.Results, &w); err != nil {
		return PlatformStatus{}, &APIError{Action: "platform_upgrade_status", Status: 200, Reason: "results is not a status object", Kind: ErrProtocol}
	}
	ps := PlatformStatus{InProgress: bool(w.InProgress), Status: strings.TrimSpace(string(w.Platform.Results.Status)),
		Message: string(w.Platform.Results.Msg), Reason: c.redact(string(w.Platform.Results.Reason))}
	if ps.Message == "" {
		ps.Message = string(w.Platform.ProgMsg)
	}
	if ps.Reason == "" {
		ps.Reason = c.redact(string(w.Platform.Reason))
	}
	return ps, nil
}

// gatewayNameRE is the strict grammar of gateway names hitless sends:
// letters, digits, '-', '_' and '.', starting with a letter or digit, at
// most 128 bytes. In particular no ',' (gateway_list is comma-separated).
var gatewayNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidGatewayName reports whether name is safe to send in gateway_list.
func ValidGatewayName(name string) bool { return gatewayNameRE.MatchString(name) }

func checkNames(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("%w: no gateway named", ErrInventory)
	}
	var bad []string
	for _, n := range names {
		if !ValidGatewayName(n) {
			bad = append(bad, fmt.Sprintf("%q", n))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: malformed gateway name(s) %s", ErrInventory, strings.Join(bad, ", "))
	}
	return nil
}

// UpgradeGateways starts a software upgrade of the named gateways to
// version, which must be the controller's current version (the planner
// checks it; the controller enforces it too): POST upgrade_selected_gateway
// with gateway_list, software_version=version AND version=version (7.1+
// requires "version": Terraform provider issue #1907, where a 7.1
// controller answered "following parameters are required: gateway_list,
// version") and
// async=true. Never "latest" (AVX-44255/45684). A write; never retried
// after an ambiguous failure. Whether one call accepts several gateways on
// current controllers is not documented publicly (the provider sent one
// per call): the planner sends one gateway per call.
func (c *Client) UpgradeGateways(ctx context.Context, names []string, version string) error {
	return c.upgradeSelected(ctx, names, version, "")
}

// upgradeSelected sends upgrade_selected_gateway for names with the
// explicit version in software_version and version, image_version when
// image is not empty, and async=true; every input is validated first.
func (c *Client) upgradeSelected(ctx context.Context, names []string, version, image string) error {
	if err := checkNames(names); err != nil {
		return err
	}
	v, err := explicitVersion(version)
	if err != nil {
		return err
	}
	params := url.Values{"gateway_list": {strings.Join(names, ",")}, "software_version": {v.String()}, "version": {v.String()}, "async": {"true"}}
	if image != "" {
		if err := checkImage(image); err != nil {
			return err
		}
		params.Set("image_version", image)
	}
	_, err = c.call(ctx, "upgrade_selected_gateway", params, callOpts{write: true})
	return err
}

// imageRE is the grammar of image versions hitless sends and accepts:
// letters, digits and '.', '_', '-', ':', '+', starting with a letter or
// digit, at most 128 bytes (e.g. "hvm-cloudx-aws-102021"). No ',' or
// whitespace: the value rides in a form field next to gateway_list.
var imageRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$`)

// ValidImageVersion reports whether s is safe to send as image_version.
func ValidImageVersion(s string) bool { return imageRE.MatchString(s) }

func checkImage(s string) error {
	if !ValidImageVersion(s) {
		return &VersionError{Input: s, Reason: "malformed image version (want e.g. hvm-cloudx-aws-102021)", Err: ErrVersion}
	}
	return nil
}

// CompatibleImageVersion asks the controller which gateway image goes with
// softwareVersion on cloudType: get_compatible_image_version with
// software_version (explicit Major.Minor.Build, sent without the
// "UserConnect-" prefix) and cloud_type (an integer sent as a string, see
// CloudType), answering results.image_version (Aviatrix Docs, "Selective
// Gateway Upgrade", image upgrades;
// provider goaviatrix/version.go GetCompatibleImageVersion). It is a
// read (a form POST, the CID in the body), retried while the controller
// restarts. Errors: ErrVersion for a malformed softwareVersion
// or cloudType <= 0 (nothing sent); *APIError for a refusal; ErrProtocol
// when results has no well-formed image_version.
func (c *Client) CompatibleImageVersion(ctx context.Context, softwareVersion string, cloudType int) (string, error) {
	v, err := explicitVersion(softwareVersion)
	if err != nil {
		return "", err
	}
	if cloudType <= 0 {
		return "", &VersionError{Input: strconv.Itoa(cloudType), Reason: "cloud_type must be a positive integer (AWS 1, GCP 4, Azure 8, …)", Err: ErrVersion}
	}
	const action = "get_compatible_image_version"
	env, err := c.call(ctx, action, url.Values{"software_version": {v.String()}, "cloud_type": {strconv.Itoa(cloudType)}}, callOpts{})
	if err != nil {
		return "", err
	}
	var w struct {
		Image flexString `json:"image_version"`
	}
	if err := json.Unmarshal(env.Results, &w); err != nil {
		return "", &APIError{Action: action, Status: 200, Reason: "results is not an object with image_version", Kind: ErrProtocol}
	}
	img := strings.TrimSpace(string(w.Image))
	if !ValidImageVersion(img) {
		return "", &APIError{Action: action, Status: 200, Reason: fmt.Sprintf("results.image_version %q is empty or malformed", c.redact(limit(img, 64))), Kind: ErrProtocol}
	}
	return img, nil
}

// limit truncates s to n bytes for messages.
func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// UpgradeGatewayImage starts an image upgrade of the named gateways: POST
// upgrade_selected_gateway with gateway_list, software_version=version AND
// version=version (the gateways' current version, which must be the
// controller's: Aviatrix Docs, "Selective Gateway Upgrade"; "version" is
// required on 7.1+,
// issue #1907), image_version=image (from CompatibleImageVersion) and
// async=true (Terraform provider before v8: the software upgrade, the
// rollback and the
// image upgrade all use this one action). An image upgrade replaces the
// gateway (brief disruption): never send two members of one HA set, and
// keep concurrency low (AVX-20159/43461/45567); Cluster.PlanImageUpgrade
// sees to both and sends one gateway per call. A write; never retried
// after an ambiguous failure. Errors: ErrInventory (malformed names),
// ErrVersion (version not explicit, image malformed), *APIError.
func (c *Client) UpgradeGatewayImage(ctx context.Context, names []string, version, image string) error {
	if err := checkImage(image); err != nil {
		return err
	}
	return c.upgradeSelected(ctx, names, version, image)
}

// RollbackGateways rolls the named gateways back to previous, which must
// be the controller's previous version (Aviatrix Docs, "Selective Gateway
// Upgrade", rollback: gateways
// only, only to previous_version): upgrade_selected_gateway with the
// explicit version in both software_version and version (never the
// keyword "previous", whose meaning next to "version" is undocumented and which
// would pick whatever the controller considers previous at send time) and
// async=true. Only gateways roll back, one HA member at a time (the planner
// and Member.Rollback see to it). A write; never retried after an
// ambiguous failure. Errors: ErrInventory (malformed names), ErrVersion
// (previous not explicit), *APIError.
func (c *Client) RollbackGateways(ctx context.Context, names []string, previous string) error {
	return c.upgradeSelected(ctx, names, previous, "")
}

// GatewayStatus is one entry of list_gateway_upgrade_status results.gw_info
// (shape reconstructed from a CloudN smoke-test script; no public
// capture).
type GatewayStatus struct {
	// Name is the gateway name.
	Name string `json:"name"`
	// State is vpc_state: "up", "down", "waiting", "config_fail".
	State string `json:"vpc_state"`
	// UpdateStatus is one of "upgrading", "downloading", "downloaded",
	// "installing", "initializing", "complete", "upgrade_fail" (AVX-23187),
	// or "" when the controller reports none.
	UpdateStatus string `json:"update_status"`
}

// GatewayUpgradeStatus calls list_gateway_upgrade_status.
func (c *Client) GatewayUpgradeStatus(ctx context.Context) ([]GatewayStatus, error) {
	return c.gatewayStatus(ctx, callOpts{})
}

func (c *Client) gatewayStatus(ctx context.Context, o callOpts) ([]GatewayStatus, error) {
	env, err := c.call(ctx, "list_gateway_upgrade_status", nil, o)
	if err != nil {
		return nil, err
	}
	var w struct {
		Info []struct {
			Name   flexString `json:"name"`
			State  flexString `json:"vpc_state"`
			Update flexString `json:"update_status"`
		} `json:"gw_info"`
	}
	if err := json.Unmarshal(env.Results, &w); err != nil {
		return nil, &APIError{Action: "list_gateway_upgrade_status", Status: 200, Reason: "results has no gw_info list", Kind: ErrProtocol}
	}
	out := make([]GatewayStatus, len(w.Info))
	for i, g := range w.Info {
		out[i] = GatewayStatus{Name: string(g.Name), State: strings.TrimSpace(string(g.State)), UpdateStatus: strings.TrimSpace(string(g.Update))}
	}
	return out, nil
}

// BackupConfig is the reply of get_cloudn_backup_config (Terraform
// provider before v8; the shape is reconstructed from its code): whether
// the controller backs itself up to a bucket.
type BackupConfig struct {
	// Enabled is enabled=="yes": backups run (first on enable, then daily).
	Enabled bool `json:"enabled"`
	// Account is acct_name, the cloud account holding the bucket.
	Account string `json:"acct_name,omitempty"`
	// CloudType is cloud_type of the bucket's cloud.
	CloudType int `json:"cloud_type,omitempty"`
	// Bucket is bucket_name (AWS, GCP, OCI).
	Bucket string `json:"bucket_name,omitempty"`
	// Storage and Container are storage_name/container_name (Azure).
	Storage   string `json:"storage_name,omitempty"`
	Container string `json:"container_name,omitempty"`
	// Region is the bucket's region.
	Region string `json:"region,omitempty"`
	// Multiple is multiple_bkup=="yes": several backups are kept.
	Multiple bool `json:"multiple_bkup,omitempty"`
}

// BackupConfig calls get_cloudn_backup_config. There is no known
// "backup now" action (Aviatrix Docs, "Selective Gateway Upgrade", back
// up first; no such API action is public): the pre-check only verifies
// that backups are enabled.
func (c *Client) BackupConfig(ctx context.Context) (BackupConfig, error) {
	env, err := c.call(ctx, "get_cloudn_backup_config", nil, callOpts{})
	if err != nil {
		return BackupConfig{}, err
	}
	var w struct {
		Enabled   flexBool   `json:"enabled"`
		Account   flexString `json:"acct_name"`
		CloudType flexInt    `json:"cloud_type"`
		Bucket    flexString `json:"bucket_name"`
		Storage   flexString `json:"storage_name"`
		Container flexString `json:"container_name"`
		Region    flexString `json:"region"`
		Multiple  flexBool   `json:"multiple_bkup"`
	}
	if len(env.Results) > 0 {
		if err := json.Unmarshal(env.Results, &w); err != nil {
			return BackupConfig{}, &APIError{Action: "get_cloudn_backup_config", Status: 200, Reason: "results is not a backup object", Kind: ErrProtocol}
		}
	}
	return BackupConfig{Enabled: bool(w.Enabled), Account: string(w.Account), CloudType: int(w.CloudType), Bucket: string(w.Bucket),
		Storage: string(w.Storage), Container: string(w.Container), Region: string(w.Region), Multiple: bool(w.Multiple)}, nil
}

// Releases calls the release-list action (Config.ReleaseListAction, default
// DefaultReleaseListAction: a hitless convention, see there) and returns the
// versions it lists, canonical. With NoReleaseListAction it sends nothing
// and returns ErrNotSupported. It accepts results as a list of strings or
// an object with a "releases" (or "versions") list.
func (c *Client) Releases(ctx context.Context) ([]string, error) {
	return c.releases(ctx, callOpts{})
}

func (c *Client) releases(ctx context.Context, o callOpts) ([]string, error) {
	action := c.cfg.releaseAction()
	if action == NoReleaseListAction {
		return nil, fmt.Errorf("%w: release-list action disabled (Config.ReleaseListAction %q)", ErrNotSupported, action)
	}
	env, err := c.call(ctx, action, nil, o)
	if err != nil {
		return nil, err
	}
	var list []flexString
	if err := json.Unmarshal(env.Results, &list); err != nil {
		var w struct {
			Releases []flexString `json:"releases"`
			Versions []flexString `json:"versions"`
		}
		if err := json.Unmarshal(env.Results, &w); err != nil {
			return nil, &APIError{Action: action, Status: 200, Reason: "results is not a release list", Kind: ErrProtocol}
		}
		list = append(w.Releases, w.Versions...)
	}
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s != "" {
			out = append(out, canonical(string(s)))
		}
	}
	return out, nil
}

// TaskStatus calls check_task_status for request id (the Terraform
// provider's generic async poll before v8): done=true for return:true; done=false, nil while the task
// runs (return:false with REQUEST_IN_PROGRESS or an empty reason); any
// other reason is the task's failure, an *APIError.
func (c *Client) TaskStatus(ctx context.Context, id string) (done bool, err error) {
	if id == "" || len(id) > 128 || strings.ContainsAny(id, "\r\n") {
		return false, fmt.Errorf("%w: malformed request id", ErrConfig)
	}
	_, err = c.call(ctx, "check_task_status", url.Values{"request_id": {id}}, callOpts{})
	if err == nil {
		return true, nil
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.Kind == nil && (ae.Reason == "" || strings.Contains(ae.Reason, "REQUEST_IN_PROGRESS")) {
		return false, nil
	}
	return false, err
}
