package aviatrix

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// CloudType is the controller's cloud_type integer (Terraform provider
// before v8, goaviatrix/const.go).
type CloudType int

// Cloud types (Terraform provider, goaviatrix/const.go).
const (
	CloudAWS          CloudType = 1
	CloudGCP          CloudType = 4
	CloudAzure        CloudType = 8
	CloudOCI          CloudType = 16
	CloudAzureGov     CloudType = 32
	CloudAWSGov       CloudType = 256
	CloudAWSChina     CloudType = 1024
	CloudAzureChina   CloudType = 2048
	CloudEdge         CloudType = 4096
	CloudAli          CloudType = 8192
	CloudEdgeCSP      CloudType = 65536
	CloudEdgeNEO      CloudType = 262144
	CloudEdgeEquinix  CloudType = 524288
	CloudEdgeMegaport CloudType = 1048576
)

// String returns the cloud's short name, or the number.
func (c CloudType) String() string {
	switch c {
	case CloudAWS:
		return "aws"
	case CloudGCP:
		return "gcp"
	case CloudAzure:
		return "azure"
	case CloudOCI:
		return "oci"
	case CloudAzureGov:
		return "azure-gov"
	case CloudAWSGov:
		return "aws-gov"
	case CloudAWSChina:
		return "aws-china"
	case CloudAzureChina:
		return "azure-china"
	case CloudEdge:
		return "edge"
	case CloudAli:
		return "ali"
	case CloudEdgeCSP:
		return "edge-csp"
	case CloudEdgeNEO:
		return "edge-neo"
	case CloudEdgeEquinix:
		return "edge-equinix"
	case CloudEdgeMegaport:
		return "edge-megaport"
	}
	return fmt.Sprintf("cloud-%d", int(c))
}

// GatewayType is a gateway's function, derived from the inventory flags
// (as the Terraform provider does: transit if transit_vpc, spoke if
// spoke_vpc=="yes",
// otherwise standalone).
type GatewayType string

// Gateway types.
const (
	TypeTransit    GatewayType = "transit"
	TypeSpoke      GatewayType = "spoke"
	TypeStandalone GatewayType = "standalone"
)

// Gateway is one gateway as hitless sees it: the list_vpcs_summary fields
// the upgrade needs (Terraform provider, goaviatrix/gateway.go) plus the
// upgrade status from
// list_gateway_upgrade_status. It mirrors the UI's per-gateway upgrade
// window (current version and image, account, cloud, region, type, role);
// the rollback version is the controller's VersionInfo.Previous.
type Gateway struct {
	// Name is vpc_name on the wire: the gateway name.
	Name string `json:"name"`
	// Account is account_name.
	Account string `json:"account"`
	// Cloud is cloud_type.
	Cloud CloudType `json:"cloud"`
	// Region is vpc_region (AWS, Azure, OCI, Ali).
	Region string `json:"region,omitempty"`
	// Zone is gateway_zone (GCP zone, Azure AZ, OCI AD).
	Zone string `json:"zone,omitempty"`
	// VPCID is vpc_id.
	VPCID string `json:"vpc_id,omitempty"`
	// Size is vpc_size (instance size).
	Size string `json:"size,omitempty"`
	// Type is transit, spoke or standalone.
	Type GatewayType `json:"type"`
	// Edge is edge_gateway.
	Edge bool `json:"edge,omitempty"`
	// IsHA is is_hagw: the gateway is an HA member, not a primary.
	IsHA bool `json:"is_ha,omitempty"`
	// Primary is the primary's name for an HA member (primary_gw_name, or
	// derived from the "-hagw" suffix or hagw_details); "" for primaries.
	Primary string `json:"primary,omitempty"`
	// Group is group_name (7.0+ gateway groups), "" when none.
	Group string `json:"group,omitempty"`
	// ActiveStandby is enable_active_standby on the pair (otherwise
	// ActiveMesh: both members forward).
	ActiveStandby bool `json:"active_standby,omitempty"`
	// Version is gw_software_version, canonical.
	Version string `json:"version"`
	// Image is gw_image_name.
	Image string `json:"image,omitempty"`
	// State is vpc_state: "up", "down", "waiting", "config_fail".
	State string `json:"state"`
	// UpdateStatus is list_gateway_upgrade_status update_status ("" when
	// not reported).
	UpdateStatus string `json:"update_status,omitempty"`
	// PrivateIP and PublicIP are informational.
	PrivateIP string `json:"private_ip,omitempty"`
	PublicIP  string `json:"public_ip,omitempty"`
	// Problems are faults of the controller's replies about this gateway,
	// found when list_vpcs_summary and list_gateway_upgrade_status are
	// merged: the gateway listed more than once in either, or missing from
	// one of them. The state read for such a gateway cannot be trusted
	// (the entries may contradict each other), so GatewayState reports it
	// unknown and unhealthy, whatever State and UpdateStatus say.
	Problems []string `json:"problems,omitempty"`
}

// hagwSuffix names a classic pair's HA gateway: "<primary>-hagw".
const hagwSuffix = "-hagw"

// wireGateway is one list_vpcs_summary entry (provider
// goaviatrix/gateway.go struct tags). Flags and numbers are decoded
// leniently (the payloads seen write them as JSON values and as strings).
type wireGateway struct {
	Name          flexString `json:"vpc_name"`
	Account       flexString `json:"account_name"`
	Cloud         flexInt    `json:"cloud_type"`
	Region        flexString `json:"vpc_region"`
	Zone          flexString `json:"gateway_zone"`
	VPCID         flexString `json:"vpc_id"`
	Size          flexString `json:"vpc_size"`
	State         flexString `json:"vpc_state"`
	IsHA          flexBool   `json:"is_hagw"`
	Spoke         flexBool   `json:"spoke_vpc"`
	Transit       flexBool   `json:"transit_vpc"`
	Edge          flexBool   `json:"edge_gateway"`
	Version       flexString `json:"gw_software_version"`
	Image         flexString `json:"gw_image_name"`
	Primary       flexString `json:"primary_gw_name"`
	Group         flexString `json:"group_name"`
	ActiveStandby flexBool   `json:"enable_active_standby"`
	PrivateIP     flexString `json:"private_ip"`
	PublicIP      flexString `json:"public_ip"`
	HA            wireHA     `json:"hagw_details"`
}

// wireHA is hagw_details: the classic pair's HA gateway nested under its
// primary. Non-object values decode as empty.
type wireHA struct {
	Name      flexString `json:"vpc_name"`
	Size      flexString `json:"vpc_size"`
	Version   flexString `json:"gw_software_version"`
	Image     flexString `json:"gw_image_name"`
	Zone      flexString `json:"gateway_zone"`
	Cloud     flexInt    `json:"cloud_type"`
	PrivateIP flexString `json:"private_ip"`
	PublicIP  flexString `json:"public_ip"`
}

// UnmarshalJSON implements json.Unmarshaler: anything but an object is an
// empty (no HA) value.
func (h *wireHA) UnmarshalJSON(p []byte) error {
	type plain wireHA
	var v plain
	if err := json.Unmarshal(p, &v); err != nil {
		*h = wireHA{}
		return nil
	}
	*h = wireHA(v)
	return nil
}

// DecodeGateways decodes list_vpcs_summary results into gateways. A classic
// HA gateway that only appears nested in its primary's hagw_details (an
// empty vpc_size there means no HA, as in the Terraform provider) is added
// as its own
// Gateway, inheriting account, region and type from the primary.
func DecodeGateways(results json.RawMessage) ([]Gateway, error) {
	var ws []wireGateway
	if err := json.Unmarshal(results, &ws); err != nil {
		return nil, &APIError{Action: "list_vpcs_summary", Status: 200, Reason: "results is not a gateway list", Kind: ErrProtocol}
	}
	out := make([]Gateway, 0, len(ws)+len(ws)/2)
	listed := make(map[string]bool, len(ws))
	for _, w := range ws {
		listed[string(w.Name)] = true
	}
	for _, w := range ws {
		g := Gateway{
			Name: string(w.Name), Account: string(w.Account), Cloud: CloudType(w.Cloud), Region: string(w.Region),
			Zone: string(w.Zone), VPCID: string(w.VPCID), Size: string(w.Size), Edge: bool(w.Edge),
			IsHA: bool(w.IsHA), Primary: string(w.Primary), Group: string(w.Group), ActiveStandby: bool(w.ActiveStandby),
			Version: canonical(string(w.Version)), Image: string(w.Image), State: strings.TrimSpace(string(w.State)),
			PrivateIP: string(w.PrivateIP), PublicIP: string(w.PublicIP),
		}
		switch {
		case bool(w.Transit):
			g.Type = TypeTransit
		case bool(w.Spoke):
			g.Type = TypeSpoke
		default:
			g.Type = TypeStandalone
		}
		if g.IsHA && g.Primary == "" && strings.HasSuffix(g.Name, hagwSuffix) {
			g.Primary = strings.TrimSuffix(g.Name, hagwSuffix)
		}
		if g.Primary == g.Name {
			g.Primary = "" // some controllers name a primary its own primary_gw_name
		}
		out = append(out, g)
		if ha := string(w.HA.Name); ha != "" && string(w.HA.Size) != "" && !listed[ha] {
			listed[ha] = true
			hg := g
			hg.Name, hg.IsHA, hg.Primary, hg.Group = ha, true, g.Name, ""
			hg.State, hg.UpdateStatus = "", "" // its own state comes from list_gateway_upgrade_status
			hg.Size, hg.Version, hg.Image, hg.Zone = string(w.HA.Size), canonical(string(w.HA.Version)), string(w.HA.Image), string(w.HA.Zone)
			hg.PrivateIP, hg.PublicIP, hg.VPCID = string(w.HA.PrivateIP), string(w.HA.PublicIP), g.VPCID
			if w.HA.Cloud != 0 {
				hg.Cloud = CloudType(w.HA.Cloud)
			}
			out = append(out, hg)
		}
	}
	return out, nil
}

// Gateways calls list_vpcs_summary and decodes the inventory (see
// DecodeGateways).
func (c *Client) Gateways(ctx context.Context) ([]Gateway, error) {
	return c.gateways(ctx, callOpts{})
}

func (c *Client) gateways(ctx context.Context, o callOpts) ([]Gateway, error) {
	env, err := c.call(ctx, "list_vpcs_summary", nil, o)
	if err != nil {
		return nil, err
	}
	return DecodeGateways(env.Results)
}

// Inventory is the controller's state at one moment: versions, gateways
// (with their upgrade status) and, when known, the release catalog.
type Inventory struct {
	// Controller is list_version_info.
	Controller VersionInfo `json:"controller"`
	// Gateways is list_vpcs_summary merged with list_gateway_upgrade_status.
	Gateways []Gateway `json:"gateways"`
	// Releases is the release catalog (Client.Releases), nil when the
	// controller does not answer the release-list action.
	Releases []string `json:"releases,omitempty"`
}

// Inventory reads list_version_info, list_vpcs_summary,
// list_gateway_upgrade_status and the release list (whose failure is not
// an error: Releases stays nil and the planner then needs
// UpgradeRequest.Catalog).
func (c *Client) Inventory(ctx context.Context) (*Inventory, error) {
	info, err := c.VersionInfo(ctx)
	if err != nil {
		return nil, err
	}
	gws, err := c.Gateways(ctx)
	if err != nil {
		return nil, err
	}
	sts, err := c.GatewayUpgradeStatus(ctx)
	if err != nil {
		return nil, err
	}
	mergeStatus(gws, sts)
	inv := &Inventory{Controller: info, Gateways: gws}
	// The release list is a convention a real controller may not answer:
	// one attempt only, and its failure is not fatal.
	if rel, err := c.releases(ctx, callOpts{noRetry: true}); err == nil {
		inv.Releases = rel
	} else if !errors.Is(err, ErrNotSupported) {
		c.log.WarnContext(ctx, "aviatrix: no release catalog from the controller; give UpgradeRequest.Catalog", "action", c.cfg.releaseAction(), "error", err.Error())
	}
	return inv, nil
}

// mergeStatus copies update_status (and a fresher vpc_state) from sts
// into gws and fails closed on faulty replies: a gateway listed more than
// once in gws (list_vpcs_summary) or in sts (list_gateway_upgrade_status),
// or missing from sts, gets a Gateway.Problems entry naming the fault
// (every copy of it, so whichever copy a caller keeps carries it), and no
// status is taken from duplicate entries. A gateway missing from
// list_vpcs_summary has no Gateway at all: callers treat it as not
// observed. It returns the names sts reports that gws does not hold,
// sorted, once each: gateways the summary left out.
func mergeStatus(gws []Gateway, sts []GatewayStatus) []string {
	listed := make(map[string]int, len(gws))
	for _, g := range gws {
		listed[g.Name]++
	}
	reported := make(map[string]int, len(sts))
	status := make(map[string]GatewayStatus, len(sts))
	var unlisted []string
	for _, s := range sts {
		if reported[s.Name]++; reported[s.Name] == 1 {
			status[s.Name] = s
			if listed[s.Name] == 0 {
				unlisted = append(unlisted, s.Name)
			}
		}
	}
	for i := range gws {
		g := &gws[i]
		if n := listed[g.Name]; n > 1 {
			g.Problems = append(g.Problems, fmt.Sprintf("listed %d times in list_vpcs_summary", n))
		}
		switch n := reported[g.Name]; {
		case n == 0:
			g.Problems = append(g.Problems, "not in list_gateway_upgrade_status")
		case n > 1:
			g.Problems = append(g.Problems, fmt.Sprintf("listed %d times in list_gateway_upgrade_status", n))
		default:
			s := status[g.Name]
			g.UpdateStatus = s.UpdateStatus
			if s.State != "" {
				g.State = s.State
			}
		}
	}
	slices.Sort(unlisted)
	return unlisted
}

// HASet is one HA pair or gateway group: a primary and its HA members. A
// standalone gateway is a set without HA members (its upgrade is an
// outage, Aviatrix Docs, "Selective Gateway Upgrade").
type HASet struct {
	// Primary is the primary gateway's name; it names the set.
	Primary string `json:"primary"`
	// HA lists the HA members, sorted.
	HA []string `json:"ha,omitempty"`
	// Group is the group_name when the set is a 7.0+ gateway group.
	Group string `json:"group,omitempty"`
}

// Members returns the HA members then the primary: the documented upgrade
// order ("HA/secondary members first, primaries after", Aviatrix Docs,
// "Selective Gateway Upgrade").
func (s HASet) Members() []string { return append(slices.Clone(s.HA), s.Primary) }

// Redundant reports whether the set has at least one HA member.
func (s HASet) Redundant() bool { return len(s.HA) > 0 }

// index returns name → position, and validates the inventory: every name
// well-formed and unique.
func (inv *Inventory) index() (map[string]int, []error) {
	idx := make(map[string]int, len(inv.Gateways))
	var errs []error
	for i, g := range inv.Gateways {
		switch {
		case !ValidGatewayName(g.Name):
			errs = append(errs, fmt.Errorf("%w: gateway %d: malformed name %q", ErrInventory, i+1, g.Name))
		case idx[g.Name] != 0:
			errs = append(errs, fmt.Errorf("%w: gateway %q listed twice", ErrInventory, g.Name))
		default:
			idx[g.Name] = i + 1
		}
	}
	for k := range idx {
		idx[k]--
	}
	return idx, errs
}

// Sets groups the gateways into HA sets. Membership comes from all three
// signals, never the suffix alone (the Terraform provider names classic HA
// gateways "-hagw" but gateway groups otherwise): the "-hagw" suffix
// (when the prefix is a listed gateway), primary_gw_name (and hagw_details,
// folded into Primary by DecodeGateways), and a shared group_name. Each set
// must have exactly one primary (a gateway that is not is_hagw); otherwise,
// and for an HA member whose primary is not listed, the error wraps
// ErrInventory, listing every problem. Sets are sorted by primary name.
func (inv *Inventory) Sets() ([]HASet, error) {
	idx, errs := inv.index()
	parent := make([]int, len(inv.Gateways))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	groups := map[string]int{}
	for i, g := range inv.Gateways {
		if g.Primary != "" {
			if j, ok := idx[g.Primary]; ok {
				union(i, j)
			} else {
				errs = append(errs, fmt.Errorf("%w: HA gateway %q: primary %q is not in the inventory", ErrInventory, g.Name, g.Primary))
			}
		}
		if p, ok := strings.CutSuffix(g.Name, hagwSuffix); ok {
			if j, ok := idx[p]; ok {
				union(i, j)
			}
		}
		if g.Group != "" {
			if j, ok := groups[g.Group]; ok {
				union(i, j)
			} else {
				groups[g.Group] = i
			}
		}
	}
	byRoot := map[int][]int{}
	for i := range inv.Gateways {
		r := find(i)
		byRoot[r] = append(byRoot[r], i)
	}
	sets := make([]HASet, 0, len(byRoot))
	for _, ms := range byRoot {
		var prim []string
		var ha []string
		group := ""
		for _, i := range ms {
			g := inv.Gateways[i]
			if g.Group != "" {
				group = g.Group
			}
			if isHAMember(g, idx) {
				ha = append(ha, g.Name)
			} else {
				prim = append(prim, g.Name)
			}
		}
		slices.Sort(prim)
		slices.Sort(ha)
		switch len(prim) {
		case 1:
			sets = append(sets, HASet{Primary: prim[0], HA: ha, Group: group})
		case 0:
			errs = append(errs, fmt.Errorf("%w: HA set [%s] has no primary gateway", ErrInventory, strings.Join(ha, ", ")))
		default:
			errs = append(errs, fmt.Errorf("%w: HA set [%s] has %d primaries (%s): pair membership is ambiguous", ErrInventory,
				strings.Join(append(slices.Clone(prim), ha...), ", "), len(prim), strings.Join(prim, ", ")))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(sets, func(a, b HASet) int { return cmp.Compare(a.Primary, b.Primary) })
	return sets, nil
}

// isHAMember reports whether g is an HA member rather than a primary:
// is_hagw, a primary_gw_name, or the "-hagw" suffix of a listed gateway.
func isHAMember(g Gateway, idx map[string]int) bool {
	if g.IsHA || g.Primary != "" {
		return true
	}
	if p, ok := strings.CutSuffix(g.Name, hagwSuffix); ok {
		_, listed := idx[p]
		return listed
	}
	return false
}

// Selector picks gateways. Zero fields match everything; set fields must
// all match (AND). It is how users define the groups of a selective upgrade
// (Aviatrix Docs, "Selective Gateway Upgrade": "select specific gateways
// and regions to upgrade in
// logical groups").
type Selector struct {
	// Names are exact gateway names or path.Match patterns ("spoke-*").
	Names []string `json:"names,omitempty"`
	// Region matches vpc_region exactly.
	Region string `json:"region,omitempty"`
	// Account matches account_name exactly.
	Account string `json:"account,omitempty"`
	// Cloud matches cloud_type; 0 matches any.
	Cloud CloudType `json:"cloud,omitempty"`
	// Type matches transit/spoke/standalone; "" matches any.
	Type GatewayType `json:"type,omitempty"`
}

// Match reports whether g is selected. Malformed patterns match nothing
// (Validate reports them).
func (s Selector) Match(g Gateway) bool {
	if s.Region != "" && g.Region != s.Region || s.Account != "" && g.Account != s.Account ||
		s.Cloud != 0 && g.Cloud != s.Cloud || s.Type != "" && g.Type != s.Type {
		return false
	}
	if len(s.Names) == 0 {
		return true
	}
	for _, n := range s.Names {
		if n == g.Name {
			return true
		}
		if ok, err := path.Match(n, g.Name); err == nil && ok {
			return true
		}
	}
	return false
}

// String renders the selector for messages.
func (s Selector) String() string {
	var parts []string
	if len(s.Names) > 0 {
		parts = append(parts, "names="+strings.Join(s.Names, ","))
	}
	for _, kv := range [][2]string{{"region", s.Region}, {"account", s.Account}, {"type", string(s.Type)}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if s.Cloud != 0 {
		parts = append(parts, "cloud="+s.Cloud.String())
	}
	if len(parts) == 0 {
		return "{all}"
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// validate reports malformed patterns and exact names absent from idx.
func (s Selector) validate(idx map[string]int) []error {
	var errs []error
	for _, n := range s.Names {
		if _, err := path.Match(n, ""); err != nil {
			errs = append(errs, fmt.Errorf("%w: selector %s: malformed pattern %q", ErrInventory, s, n))
			continue
		}
		if !strings.ContainsAny(n, "*?[\\") {
			if _, ok := idx[n]; !ok {
				errs = append(errs, fmt.Errorf("%w: selector %s: no gateway named %q", ErrInventory, s, n))
			}
		}
	}
	return errs
}
