package upgrade

import (
	"context"
	"slices"
	"time"
)

// Role is the normalised runtime role of a member. Vendors map their own
// state words onto it and keep the original text in MemberState.Raw.
type Role string

// The normalised roles. Only RoleActive forwards traffic.
const (
	// RoleUnknown: the state could not be read or was not recognised.
	// It is never treated as healthy or forwarding (fail closed).
	RoleUnknown Role = "unknown"
	// RoleActive: the member forwards traffic (Check Point ACTIVE, Clavister
	// "currently ACTIVE", Junos RG1 primary).
	RoleActive Role = "active"
	// RoleStandby: the member is healthy and ready to take over (STANDBY,
	// INACTIVE with peer ALIVE, secondary).
	RoleStandby Role = "standby"
	// RoleReady: upgraded but not yet forwarding or syncing, e.g. a Check
	// Point member on the new version before MVC is enabled (READY).
	RoleReady Role = "ready"
	// RoleDown: the member is reachable but not able to forward (DOWN,
	// disabled), or it is rebooting and cannot be reached.
	RoleDown Role = "down"
	// RoleLost: a peer reports the member as lost (LOST, Junos "lost").
	RoleLost Role = "lost"
)

// MemberState is one member's observed state at one moment.
type MemberState struct {
	// ID is the member's identifier, unique within its cluster.
	ID string `json:"id"`
	// Role is the normalised role.
	Role Role `json:"role"`
	// Raw is the vendor's own state text, e.g. "ACTIVE(!F)" or
	// "currently INACTIVE"; kept for reports and troubleshooting.
	Raw string `json:"raw,omitempty"`
	// Version is the software version the member runs, in the vendor's
	// grammar; empty when it could not be read.
	Version string `json:"version,omitempty"`
	// Healthy is the vendor's verdict for this member alone (peer alive,
	// no attention flags, sync complete where reported).
	Healthy bool `json:"healthy"`
	// SyncKnown reports whether the device printed a sync figure at all.
	SyncKnown bool `json:"sync_known,omitempty"`
	// SyncPercent is the state-sync progress, 0..100, meaningful only when
	// SyncKnown is true.
	SyncPercent int `json:"sync_percent,omitempty"`
	// Problems lists why the member is not healthy, in plain words.
	Problems []string `json:"problems,omitempty"`
}

// Forwarding reports whether the member forwards traffic now: it is active
// and healthy. Unknown roles never forward.
func (m MemberState) Forwarding() bool { return m.Role == RoleActive && m.Healthy }

// Snapshot is the observed state of every member of one cluster at one
// moment, plus cluster-wide problems (roles that disagree, split brain,
// monitor failures).
type Snapshot struct {
	// Cluster is the cluster's name.
	Cluster string `json:"cluster"`
	// At is when the observation started.
	At time.Time `json:"at"`
	// Members has one state per member, in Cluster.Members order.
	Members []MemberState `json:"members"`
	// Problems are cluster-wide problems in plain words (split brain,
	// roles that disagree, monitor failures).
	Problems []string `json:"problems,omitempty"`
}

// Member returns the state of the member with the given ID.
func (s Snapshot) Member(id string) (MemberState, bool) {
	i := slices.IndexFunc(s.Members, func(m MemberState) bool { return m.ID == id })
	if i < 0 {
		return MemberState{}, false
	}
	return s.Members[i], true
}

// Forwarding returns the IDs of the members that forward traffic, in
// snapshot order.
func (s Snapshot) Forwarding() []string {
	var ids []string
	for _, m := range s.Members {
		if m.Forwarding() {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// Versions returns member ID → version.
func (s Snapshot) Versions() map[string]string {
	v := make(map[string]string, len(s.Members))
	for _, m := range s.Members {
		v[m.ID] = m.Version
	}
	return v
}

// Member is one unit of a cluster. The required surface is deliberately
// small; further capabilities are optional interfaces discovered by type
// assertion (PreChecker, BackerUp, Rollbacker), the way
// database/sql/driver does it, so adding one later breaks no vendor.
type Member interface {
	// ID is stable and unique within the cluster (e.g. the Check Point
	// member name, "node0", the Clavister unit's management address).
	ID() string
	// Status reads this member's state. An unreachable member is an error.
	Status(ctx context.Context) (MemberState, error)
	// Install puts target on the member. It may return before the member
	// has rebooted; callers wait for the new version with a Gate.
	Install(ctx context.Context, target string) error
}

// Cluster is a named group of members plus cluster-wide actions.
type Cluster interface {
	// Name identifies the cluster in plans, journals and reports.
	Name() string
	// Members returns the members in a stable order.
	Members() []Member
	// Observe reads every member. A member that cannot be reached is
	// reported with RoleDown (or RoleUnknown) and Healthy=false rather than
	// failing the whole call; Observe returns an error only when the
	// cluster's state cannot be determined at all (or ctx ends).
	Observe(ctx context.Context) (Snapshot, error)
	// Failover makes the member with ID to the active (forwarding) one,
	// using the vendor's documented command. Callers verify the result
	// with Observe; the command's own output is not trusted.
	Failover(ctx context.Context, to string) error
}

// DisruptionChecker is implemented by clusters whose topology limits which
// members may be disrupted together, beyond the guard's "another member
// forwards": e.g. an Aviatrix fleet of ActiveMesh pairs, where every pair
// must keep one member up. The availability guard calls it with a fresh
// snapshot and the members a step (or a batch of steps running together)
// will disrupt, for every plan including hand-written ones; a non-nil
// error refuses the step with ErrUnsafe. Dry runs call it too, on the
// snapshot taken at the start, so it should judge topology rather than
// momentary health.
type DisruptionChecker interface {
	CheckDisruption(s Snapshot, members []string) error
}

// TopologyChecker is implemented by clusters whose DisruptionChecker also
// judges momentary state (e.g. a Junos chassis cluster refuses to reboot a
// node that is primary of any redundancy group right now): a dry run, which
// judges every step on the one snapshot taken at the start, then calls
// CheckTopology instead of CheckDisruption, with the members a step (or a
// batch) will disrupt; it must judge only what holds whatever the state
// (which members may be disrupted together). Real runs always call
// CheckDisruption on a fresh snapshot.
type TopologyChecker interface {
	CheckTopology(members []string) error
}

// PreChecker is implemented by members or clusters that have vendor
// pre-checks (licence, disk space, sync interface). PreCheck returns every
// problem it finds, joined.
type PreChecker interface {
	PreCheck(ctx context.Context) error
}

// BackerUp is implemented by members that can take a backup before an
// upgrade. It returns a reference to the backup (file name, job ID).
type BackerUp interface {
	Backup(ctx context.Context) (string, error)
}

// Rollbacker is implemented by members that can return to an earlier
// software version (Aviatrix: a gateway back to the controller's previous
// version; Check Point: a CPUSE revert or snapshot; Junos: request system
// software rollback). Rollback starts the return to version to, which the
// caller names explicitly (never "whatever was there before"), and may
// return before the member is back: callers wait for it with a Gate. It
// takes the member out of forwarding like Install, so it runs only as a
// step of a plan under the availability guard: Rolling with Rollback set
// builds that plan. An error names the member and the version; a version
// the member cannot return to is refused before anything is sent.
type Rollbacker interface {
	Rollback(ctx context.Context, to string) error
}
