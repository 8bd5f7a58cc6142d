package clavister

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// Member is one unit of a Clavister HA pair. It implements upgrade.Member:
// Status reads `ha` and `about`; Install uploads the .upg by SCP and sends
// the apply command, which Stage and Apply do in two halves. Its ID is the
// unit's name (Unit.Name).
//
// Calls on one Member are serialised (a CLI runs one command at a time).
// After a session drop (a reboot) the next call reconnects, redialling
// with Config.ReconnectBackoff for at most Config.ReconnectTimeout.
type Member struct {
	c    *Cluster
	unit Unit
	dcfg *driver.Config // a pointer, so that printing a Member never walks into the password
	host string         // "host:port"

	mu   sync.Mutex // serialises session use
	sess driver.Session
	// gen counts the sessions opened by connectLocked (guarded by mu): two
	// commands answered under the same gen ran on one session, hence on
	// one boot of the unit (a reboot drops every session).
	gen uint64

	trackMu sync.Mutex
	// activeLo/activeHi bound when the unit's current ACTIVE period began,
	// as learned from its time in state (zero when not tracking).
	activeLo, activeHi time.Time
	// alarmText is the sticky unplanned-failover alarm ("" when none).
	alarmText string
	// pending is the version of an install whose apply command was sent
	// and whose result has not been seen yet ("" when none); wentAway
	// records that the unit dropped or refused a session since then.
	pending  string
	wentAway bool
	// pendingSince, for a pending install armed by a resumed run's gate
	// (armInstall) rather than sent by Install in this process, says when
	// that install began (from the journal), or is nil.
	pendingSince func(context.Context) (time.Time, bool)
	// armedAt is when a resumed run's gate armed the pending install
	// (armInstall); zero for an install whose apply command this Cluster
	// sent.
	armedAt time.Time
	// away counts the times the unit was seen to go away since New: a
	// session dropped or closed by the unit, or a connection attempt that
	// was refused or timed out. It only grows.
	away int
}

// noteAway records that the unit went away (session dropped, unreachable):
// a pending install's result shows in the next version read.
func (m *Member) noteAway() {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	m.away++
	if m.pending != "" {
		m.wentAway = true
	}
}

// awayCount returns how many times the unit was seen to go away since New.
func (m *Member) awayCount() int {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	return m.away
}

// armInstall is called by the post-install gate of a resumed run (the
// install itself ran in an earlier process, so no pending install is
// known here) while the unit does not run target: it makes the gate's
// permanent-failure detection work after a process restart. The install
// is marked pending; the unit counts as gone away if this Cluster has
// already seen it go away (New runs after the install began), and since,
// when not nil, tells when the install began, so that a `stats` Uptime
// shorter than the time since then proves a restart (see installResult).
// It does nothing when an install is already pending.
func (m *Member) armInstall(target string, since func(context.Context) (time.Time, bool)) {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	if m.pending != "" {
		return
	}
	m.pending, m.wentAway, m.pendingSince, m.armedAt = target, m.away > 0, since, time.Now()
}

// armedStart returns when the pending install began, for an install armed
// by a resumed run's gate with a start time, while no restart has been seen
// since.
func (m *Member) armedStart(ctx context.Context) (time.Time, bool) {
	m.trackMu.Lock()
	since := m.pendingSince
	if m.pending == "" || m.wentAway {
		since = nil
	}
	m.trackMu.Unlock()
	if since == nil {
		return time.Time{}, false
	}
	return since(ctx)
}

// installResult compares the version read now with a pending install: it
// clears the install when the unit runs its version, and returns an
// ErrInstallNotTaken problem when the unit has restarted since and runs
// another one. The restart is known from the unit going away (noteAway)
// or from restarted, the reason restartedSince found in `stats` read
// BEFORE the version (so that the version is the one the unit came back
// with), for an install armed by a resumed run with its start time.
//
// An install armed by a resumed run's gate (armInstall: its apply command
// was acknowledged by an earlier process) fails too, without a restart
// seen, once the unit has answered on another version for
// Config.ApplyGrace since the arming without going away: an apply command
// acknowledged before then would have restarted it by now (the rule the
// verification of an interrupted install relies on), so it restarted
// before this Cluster was opened, or the command never took effect; either
// way waiting cannot bring the target.
func (m *Member) installResult(v Version, restarted string) string {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	if m.pending == "" {
		return ""
	}
	want, err := ParseVersion(m.pending)
	if err == nil && v.Compare(want) == 0 {
		m.pending, m.wentAway, m.pendingSince, m.armedAt = "", false, nil, time.Time{}
		return ""
	}
	why := "it went away since"
	switch {
	case m.wentAway:
	case restarted != "":
		m.wentAway, why = true, restarted
	case !m.armedAt.IsZero() && time.Since(m.armedAt) >= m.c.cfg.ApplyGrace:
		why = fmt.Sprintf("no restart seen by this run, but its apply command was acknowledged in an earlier run and the unit has answered on %s for Config.ApplyGrace %v since: it restarted before this run, or the command never took effect",
			v, m.c.cfg.ApplyGrace)
	default:
		return "" // not rebooted yet
	}
	return cond(ErrInstallNotTaken, "came back on %s after installing %s (%s)", v, m.pending, why).Error()
}

// uptimeResolution is the resolution of the `stats` Uptime (whole
// seconds).
const uptimeResolution = time.Second

// restartedSince reads `stats` and returns why the unit has certainly
// restarted since t0 (its Uptime, plus the one-second resolution, is
// shorter than the time since t0), or "" when it has not or cannot tell.
func (m *Member) restartedSince(ctx context.Context, t0 time.Time) (string, error) {
	sent := time.Now()
	st, err := m.stats(ctx)
	if err != nil {
		return "", err
	}
	if since := sent.Sub(t0); st.Uptime+uptimeResolution <= since {
		return fmt.Sprintf("stats Uptime %v is shorter than the %v since the install began; Last Event: %s",
			st.Uptime, since.Round(time.Second), st.LastEvent), nil
	}
	return "", nil
}

var _ upgrade.Member = (*Member)(nil)

// String describes the unit by name and address, never the password.
func (m *Member) String() string {
	return fmt.Sprintf("clavister.Member{Unit:%q Host:%q}", m.unit.Name, m.host)
}

// Format implements fmt.Formatter: every verb prints String (a Member keeps
// its driver.Config, with the password, behind an unexported pointer).
func (m *Member) Format(f fmt.State, verb rune) { formatRedacted(f, verb, m.String()) }

// LogValue implements slog.LogValuer.
func (m *Member) LogValue() slog.Value {
	return slog.GroupValue(slog.String("unit", m.unit.Name), slog.String("host", m.host))
}

// MarshalJSON encodes the unit as its name and address.
func (m *Member) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Unit string `json:"unit"`
		Host string `json:"host"`
	}{m.unit.Name, m.host})
}

// ID implements upgrade.Member: the unit's name.
func (m *Member) ID() string { return m.unit.Name }

// Unit returns the unit's configuration (name and management address).
func (m *Member) Unit() Unit { return m.unit }

// close closes the session, if any.
func (m *Member) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess == nil {
		return nil
	}
	err := m.sess.Close()
	m.sess = nil
	return err
}

// fatalOpen reports whether a failed connection attempt is one that
// redialling cannot fix: bad credentials, an unknown or changed host key,
// an invalid configuration.
func fatalOpen(err error) bool {
	return errors.Is(err, driver.ErrAuth) || errors.Is(err, driver.ErrHostKey) || errors.Is(err, driver.ErrConfig)
}

// unreachable reports whether err means the unit could not be talked to
// at all (Status maps it to upgrade.RoleDown).
func unreachable(err error) bool {
	return errors.Is(err, driver.ErrUnreachable) || errors.Is(err, driver.ErrDropped) ||
		errors.Is(err, driver.ErrAborted) || errors.Is(err, driver.ErrClosed) ||
		errors.Is(err, driver.ErrAuth) || errors.Is(err, driver.ErrHostKey)
}

// broken reports whether err leaves the session unusable.
func broken(err error) bool {
	return errors.Is(err, driver.ErrDropped) || errors.Is(err, driver.ErrClosed) || errors.Is(err, driver.ErrAborted)
}

// connectLocked opens a session, redialling for at most ReconnectTimeout.
// m.mu must be held.
func (m *Member) connectLocked(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, m.c.cfg.ReconnectTimeout)
	defer cancel()
	s, err := m.c.tr.open(rctx, *m.dcfg)
	if err != nil && !fatalOpen(err) && rctx.Err() == nil {
		// Refused or timed out: the unit went away (a reboot, most
		// likely). Redial with backoff.
		m.noteAway()
		s, err = m.c.tr.reconnect(rctx, *m.dcfg, m.c.cfg.ReconnectBackoff)
	}
	if err != nil {
		if ctx.Err() == nil {
			m.noteAway()
		}
		return &UnitError{Unit: m.unit.Name, Host: m.host, Op: "connect", Err: err}
	}
	m.c.log.Debug("clavister: reconnected", "unit", m.unit.Name)
	m.sess = s
	m.gen++
	return nil
}

// send runs one CLI command on the unit, connecting first if there is no
// session. A read-only command whose session turns out to be dead (dropped
// or closed: a reboot since the last call) is sent once more on a fresh
// session; other commands never are, nor commands that timed out. Errors
// are *UnitError with Op op.
func (m *Member) send(ctx context.Context, op, cmd string, readOnly bool) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sendLocked(ctx, op, cmd, readOnly)
}

func (m *Member) sendLocked(ctx context.Context, op, cmd string, readOnly bool) (string, error) {
	for attempt := 0; ; attempt++ {
		fresh := false
		if m.sess == nil {
			if err := m.connectLocked(ctx); err != nil {
				return "", err
			}
			fresh = true
		}
		out, err := m.sess.Send(ctx, cmd)
		if err == nil {
			return out, nil
		}
		if broken(err) {
			_ = m.sess.Close()
			m.sess = nil
			if errors.Is(err, driver.ErrDropped) || errors.Is(err, driver.ErrClosed) {
				m.noteAway()
			}
			// A session found dead (not one that timed out) is retried.
			stale := errors.Is(err, driver.ErrDropped) || errors.Is(err, driver.ErrClosed)
			if readOnly && stale && !fresh && attempt == 0 && ctx.Err() == nil {
				continue
			}
		}
		return "", &UnitError{Unit: m.unit.Name, Host: m.host, Op: op, Err: err}
	}
}

// readHALocked runs and parses `ha`; m.mu must be held. Errors are
// *UnitError (Op "ha").
func (m *Member) readHALocked(ctx context.Context) (HAStatus, error) {
	sent := time.Now()
	out, err := m.sendLocked(ctx, "ha", "ha", true)
	if err != nil {
		return HAStatus{}, err
	}
	at := time.Now()
	ha, err := ParseHA(out)
	if err != nil {
		return HAStatus{}, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "ha", Err: err}
	}
	m.track(ha, sent, at)
	return ha, nil
}

// readVersion runs `about` and parses the firmware version.
func (m *Member) readVersion(ctx context.Context) (Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.readVersionLocked(ctx)
}

// readVersionLocked is readVersion with m.mu held.
func (m *Member) readVersionLocked(ctx context.Context) (Version, error) {
	out, err := m.sendLocked(ctx, "about", "about", true)
	if err != nil {
		return Version{}, err
	}
	v, err := ParseAbout(out)
	if err != nil {
		return Version{}, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "about", Err: err}
	}
	return v, nil
}

// stateReads bounds how many times readState reads `ha` again because the
// session was replaced before `about` answered.
const stateReads = 3

// readState reads `ha` and then `about` as one reading of the unit: both
// answered on the same session, hence by the same boot of the unit. A
// session found dead at `about` (the unit rebooted after answering `ha`)
// is replaced by sendLocked, and `about` then describes the unit after the
// reboot; the `ha` of before (INACTIVE, in sync, peer ALIVE) must not be
// combined with that version (it would show a unit that has just come
// back on the target as healthy while it resynchronises), so `ha` is read
// again on the new session, up to stateReads times in all. ha is nil when
// `ha` could not be read; err is the first failure (a *UnitError).
func (m *Member) readState(ctx context.Context) (ha *HAStatus, v Version, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for n := 1; ; n++ {
		h, err := m.readHALocked(ctx)
		if err != nil {
			return nil, Version{}, err
		}
		gen := m.gen
		v, err := m.readVersionLocked(ctx)
		if err != nil {
			return &h, Version{}, err
		}
		if m.gen == gen {
			return &h, v, nil
		}
		m.c.log.Debug("clavister: session replaced between ha and about; reading ha again", "unit", m.unit.Name, "reading", n)
		if n == stateReads {
			return nil, Version{}, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "ha",
				Err: cond(ErrUnreadable, "the session was replaced between ha and about %d times in a row (the unit keeps restarting?)", n)}
		}
	}
}

// stats runs and parses `stats`.
func (m *Member) stats(ctx context.Context) (Stats, error) {
	out, err := m.send(ctx, "stats", "stats", true)
	if err != nil {
		return Stats{}, err
	}
	st, err := ParseStats(out)
	if err != nil {
		return Stats{}, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "stats", Err: err}
	}
	return st, nil
}

// Status implements upgrade.Member. It runs `ha` and `about` on the unit
// (reconnecting after a drop), both on one session so that they describe
// the same boot: when the unit drops the session after answering `ha` (it
// restarts), `ha` is read again after the reconnection, never combined
// with the version the unit came back with. It maps them (the `ha`
// wordings of the cOS Core 14.00 Administration Guide and of OEM builds;
// the version grammar of Clavister KB 324735653):
//
//   - Role: ACTIVE → upgrade.RoleActive; INACTIVE → upgrade.RoleStandby;
//     standalone (HA not configured) → upgrade.RoleUnknown with an
//     ErrNotConfigured problem; unrecognised output or a rejected command
//     → upgrade.RoleUnknown (fail closed); unreachable → upgrade.RoleDown.
//   - Healthy: HA configured, "HA cluster peer is ALIVE", and object sync
//     100 % when printed (a missing sync line is unknown, not 0); never
//     true when anything could not be read.
//   - Raw: the HA role, ": ", then the verbatim state line, e.g.
//     "master: This device is currently ACTIVE (will forward traffic)".
//   - Version: the `about` version's canonical text (Version.String), e.g.
//     "14.00.10-12345".
//   - Problems: why the unit is not healthy, each starting with the text of
//     a condition sentinel (ErrPeerNotAlive, ErrSyncIncomplete,
//     ErrNotConfigured, ErrUnreadable, ErrUnreachable).
//
// The error is non-nil whenever a command failed or its output was not
// recognised: a *UnitError wrapping the driver error or *ParseError. The
// returned state is then still filled in (RoleDown or RoleUnknown,
// unhealthy, the error as a problem), which is what Observe reports.
func (m *Member) Status(ctx context.Context) (upgrade.MemberState, error) {
	st, _, err := m.status(ctx)
	return st, err
}

func (m *Member) status(ctx context.Context) (upgrade.MemberState, HAStatus, error) {
	st := upgrade.MemberState{ID: m.unit.Name, Role: upgrade.RoleUnknown}
	failed := func(err error) (upgrade.MemberState, HAStatus, error) {
		kind := ErrUnreadable
		if unreachable(err) {
			kind = ErrUnreachable
			st.Role = upgrade.RoleDown
		}
		st.Healthy = false
		st.Problems = append(st.Problems, cond(kind, "%v", err).Error())
		return st, HAStatus{}, err
	}
	// A resumed run's gate may have armed an install with its start time:
	// `stats` first, so that the version read next is the one the unit
	// runs after any restart the Uptime shows.
	restarted := ""
	if t0, ok := m.armedStart(ctx); ok {
		var err error
		if restarted, err = m.restartedSince(ctx, t0); err != nil && unreachable(err) {
			return failed(err)
		}
	}
	// One reading: `ha` and `about` from the same boot (see readState).
	ha, v, err := m.readState(ctx)
	if err != nil {
		if ha != nil {
			mapHA(&st, *ha)
			st.Role = upgrade.RoleUnknown
		}
		return failed(err)
	}
	st.Version = v.String()
	mapHA(&st, *ha)
	if p := m.installResult(v, restarted); p != "" {
		st.Healthy = false
		st.Problems = append(st.Problems, p)
	}
	return st, *ha, nil
}

// mapHA fills role, health, sync, raw text and problems from `ha`.
func mapHA(st *upgrade.MemberState, ha HAStatus) {
	st.SyncKnown, st.SyncPercent = ha.SyncKnown, ha.SyncPercent
	if !ha.Configured {
		st.Role = upgrade.RoleUnknown
		st.Raw = ha.StateText
		st.Problems = append(st.Problems, cond(ErrNotConfigured, "%s", ha.StateText).Error())
		return
	}
	st.Raw = ha.Role + ": " + ha.StateText
	st.Role = upgrade.RoleStandby
	if ha.Active {
		st.Role = upgrade.RoleActive
	}
	st.Healthy = true
	if !ha.PeerAlive {
		st.Healthy = false
		st.Problems = append(st.Problems, cond(ErrPeerNotAlive, "ha does not print \"HA cluster peer is ALIVE\"").Error())
	}
	if ha.SyncKnown && ha.SyncPercent < 100 {
		st.Healthy = false
		st.Problems = append(st.Problems, cond(ErrSyncIncomplete, "%d%%", ha.SyncPercent).Error())
	}
}

// haRole returns "master" or "slave" from a MemberState's Raw text as
// written by Status, or "".
func haRole(st upgrade.MemberState) string {
	r, _, ok := strings.Cut(st.Raw, ": ")
	if ok && (r == "master" || r == "slave") {
		return r
	}
	return ""
}

// resetSlack absorbs the one-second resolution of the time in state.
const resetSlack = time.Second

// track follows the unit's ACTIVE period through its time in state. A poll
// sent at sent and answered at at, printing a time in state t (whole
// seconds), bounds when the period began: between sent − t − 1 s and
// at − t. Successive bounds of one period overlap; when a poll's bounds lie
// wholly after the earlier ones (by more than a second of slack), the
// period restarted although the unit was seen ACTIVE at every poll: an
// unplanned failover and fail-back, or a restart, in between. The alarm
// sticks (see Cluster.Observe).
func (m *Member) track(ha HAStatus, sent, at time.Time) {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	if !ha.Configured || !ha.Active {
		m.activeLo, m.activeHi = time.Time{}, time.Time{}
		return
	}
	if !ha.TimeKnown {
		return
	}
	hi := at.Add(-ha.TimeInState)
	lo := sent.Add(-ha.TimeInState - time.Second)
	if m.activeHi.IsZero() {
		m.activeLo, m.activeHi = lo, hi
		return
	}
	if lo.After(m.activeHi.Add(resetSlack)) && m.alarmText == "" {
		m.alarmText = cond(ErrUnplannedFailover, "%s has been ACTIVE for only %v but was already ACTIVE %v earlier: a failover happened outside the plan; stop and re-assess",
			m.unit.Name, ha.TimeInState, at.Sub(m.activeHi).Round(time.Second)).Error()
		m.c.log.Warn("clavister: unplanned failover detected", "unit", m.unit.Name, "time_in_state", ha.TimeInState)
		m.activeLo, m.activeHi = lo, hi
		return
	}
	// Narrow the bounds.
	if lo.After(m.activeLo) {
		m.activeLo = lo
	}
	if hi.Before(m.activeHi) {
		m.activeHi = hi
	}
	if m.activeLo.After(m.activeHi) {
		m.activeLo = m.activeHi
	}
}

// forgetActive stops following the ACTIVE period: a planned failover
// restarts the time in state on purpose.
func (m *Member) forgetActive() {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	m.activeLo, m.activeHi = time.Time{}, time.Time{}
}

// alarm returns the sticky unplanned-failover alarm, or "".
func (m *Member) alarm() string {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	return m.alarmText
}

// Install implements upgrade.Member: it stages the firmware package and
// applies it, in one call (Stage, then the checks and command of Apply,
// without Apply's listing of the package, which the upload has just
// verified). target must be a cOS Core version (ParseVersion); it is
// compared with what the unit runs after the reboot by the planner's gate,
// since the .upg file does not say which version it holds.
//
// The Planner does not call Install: it runs Stage and Apply as two steps,
// so that the availability guard's verdict, taken right before the step
// that restarts the unit, is not minutes old by the time the apply command
// is sent. Install is for callers that drive a unit directly (and for
// generic plans such as upgrade.Rolling); it makes the same check on the
// devices right before the apply command, so an active unit that fails
// during the upload still stops it (ErrPeerNotForwarding).
//
// Steps: read `ha` and `about`; if the unit already runs target, return
// nil (nothing to do); refuse (ErrUnexpectedRole) when the unit is ACTIVE
// or HA is not configured (ErrNotConfigured): only the INACTIVE unit of a
// healthy pair is ever upgraded, as the cOS Core Administration Guide's
// "Upgrading an HA Cluster" prescribes; copy Config.FirmwarePath by SCP to
// Config.RemoteDir and check with `ls` that the unit lists it with the
// local file's size (a listing without sizes is refused with
// ErrUploadUnverified only when Config.RequireUploadSize is set); then the
// last check and the apply command described at Apply.
//
// The unit then reboots: a dropped session (*driver.DroppedError) or an
// apply command that times out while the unit goes away is the expected
// outcome, as is a normal return. Install returns without waiting for the
// unit to come back; the planner's gate does. Errors are *UnitError naming
// the unit (Op "install", "upload", "ha" or "apply"), e.g. wrapping a
// *driver.UploadError (missing local file; driver.ErrSizeMismatch for a
// truncated upload; ErrUploadUnverified), ErrPeerNotForwarding, or a
// *driver.CommandError (the unit rejected the apply command). Nothing is
// applied when the upload failed or could not be verified, or when the
// last check fails.
func (m *Member) Install(ctx context.Context, target string) error {
	done, err := m.ready(ctx, target)
	if done || err != nil {
		return err
	}
	if err := m.upload(ctx, target); err != nil {
		return err
	}
	return m.applyChecked(ctx, target)
}

// Stage copies the firmware package to the unit, without restarting it:
// the long, non-disruptive part of an install, which the Planner runs as
// its own step (stage:<unit>@<target>) before the install step. target
// must be a cOS Core version (ParseVersion).
//
// It reads `ha` and `about`; if the unit already runs target it does
// nothing; it refuses, sending nothing, when the unit is ACTIVE
// (ErrUnexpectedRole) or HA is not configured (ErrNotConfigured). Then it
// copies Config.FirmwarePath by SCP to Config.RemoteDir and checks with
// `ls` that the unit lists it with the local file's size
// (driver.ErrSizeMismatch otherwise; a listing without sizes is refused
// with ErrUploadUnverified only when Config.RequireUploadSize is set).
// Running it again copies the package again: it is idempotent. Errors are
// *UnitError values naming the unit (Op "install", "upload", "ha" or
// "about").
func (m *Member) Stage(ctx context.Context, target string) error {
	done, err := m.ready(ctx, target)
	if done || err != nil {
		return err
	}
	return m.upload(ctx, target)
}

// Apply makes the unit install the package that Stage copied, by sending
// Config.ApplyCommand (UNVERIFIED, see DefaultApplyCommand): the unit
// restarts. target must be a cOS Core version (ParseVersion).
//
// Steps: read `ha` and `about`; if the unit already runs target, return
// nil (nothing to do); refuse when the unit is ACTIVE (ErrUnexpectedRole)
// or HA is not configured (ErrNotConfigured); check with `ls` that the
// unit lists the package with the local file's size (ErrNotStaged when it
// is missing or of another size; ErrUploadUnverified for a listing without
// sizes when Config.RequireUploadSize is set). Then, holding both units'
// sessions so that nothing else is sent to either in between, it reads
// `ha` on the OTHER unit, then on this one, and sends the apply command
// right after, only if the other unit is ACTIVE, sees this unit ALIVE and
// reports object sync 100 % where it prints it, this unit is still
// INACTIVE and sees its peer ALIVE, and no unplanned failover was seen.
// Anything else, including an other unit that cannot be reached or whose
// output is not recognised, refuses with ErrPeerNotForwarding (or
// ErrUnexpectedRole when this unit became ACTIVE), sending nothing: a
// restart then could leave the pair with no forwarding unit.
//
// The unit then reboots (see Install for the outcomes and errors).
func (m *Member) Apply(ctx context.Context, target string) error {
	done, err := m.ready(ctx, target)
	if done || err != nil {
		return err
	}
	if err := m.checkStaged(ctx); err != nil {
		return err
	}
	return m.applyChecked(ctx, target)
}

// ready parses target and reads `ha` and `about`: done when the unit
// already runs target; an error when target is malformed, the unit cannot
// be read, is ACTIVE or is not part of an HA pair.
func (m *Member) ready(ctx context.Context, target string) (done bool, err error) {
	tv, err := ParseVersion(target)
	if err != nil {
		return false, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "install", Err: err}
	}
	h, v, err := m.readState(ctx)
	if err != nil {
		return false, err
	}
	ha := *h
	if v.Compare(tv) == 0 {
		m.c.log.Info("clavister: install: unit already on target", "unit", m.unit.Name, "version", v.String())
		return true, nil
	}
	switch {
	case !ha.Configured:
		return false, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "install", Err: cond(ErrNotConfigured, "%s", ha.StateText)}
	case ha.Active:
		return false, &UnitError{Unit: m.unit.Name, Host: m.host, Op: "install", Err: cond(ErrUnexpectedRole, "refusing to upgrade the ACTIVE unit: upgrade the INACTIVE unit and fail over first")}
	}
	m.c.log.Debug("clavister: install: unit ready", "unit", m.unit.Name, "from", v.String(), "to", target)
	return false, nil
}

// upload copies the firmware to the unit and verifies its size (see
// uploadSize). Errors are *UnitError with Op "upload".
func (m *Member) upload(ctx context.Context, target string) error {
	cfg := m.c.cfg
	remote := cfg.remotePath()
	m.c.log.Info("clavister: install: uploading firmware", "unit", m.unit.Name, "to", target, "file", cfg.FirmwarePath, "remote", remote)
	start := time.Now()
	if err := m.c.tr.upload(ctx, *m.dcfg, cfg.FirmwarePath, remote, m.uploadSize(cfg.FirmwarePath)); err != nil {
		return &UnitError{Unit: m.unit.Name, Host: m.host, Op: "upload", Err: err}
	}
	m.c.log.Info("clavister: install: firmware staged", "unit", m.unit.Name, "remote", remote, "upload_duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// listing is what `ls` says about the staged package.
type listing struct {
	cmd    string // the ls command sent
	listed bool   // the package is listed
	known  bool   // with a size
	size   int64  // that size, when known
}

// listPackage lists the unit's files and looks for the package. Errors are
// the *UnitError of a failed `ls`.
func (m *Member) listPackage(ctx context.Context) (listing, error) {
	dir, name := path.Split(m.c.cfg.remotePath())
	l := listing{cmd: "ls"}
	if dir = strings.TrimSuffix(dir, "/"); dir != "" {
		l.cmd = "ls " + dir
	}
	out, err := m.send(ctx, "ls", l.cmd, true)
	if err != nil {
		return l, err
	}
	size, known, err := lsSize(out, name)
	if err != nil {
		return l, nil // not listed (a *ParseError)
	}
	l.listed, l.known, l.size = true, known, size
	return l, nil
}

// stagedVerified reports whether the unit lists the package with the local
// file's size: the proof that a stage step finished. A listing without
// sizes proves nothing (the stage step is then run again).
func (m *Member) stagedVerified(ctx context.Context) (bool, error) {
	l, err := m.listPackage(ctx)
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(m.c.cfg.FirmwarePath)
	if err != nil {
		return false, nil
	}
	return l.listed && l.known && l.size == fi.Size(), nil
}

// checkStaged is Apply's check that the package is on the unit: listed,
// with the local file's size where the listing prints sizes. Errors are
// *UnitError values (Op "install", or the failed `ls`).
func (m *Member) checkStaged(ctx context.Context) error {
	cfg := m.c.cfg
	name := path.Base(cfg.remotePath())
	fail := func(err error) error { return &UnitError{Unit: m.unit.Name, Host: m.host, Op: "install", Err: err} }
	l, err := m.listPackage(ctx)
	if err != nil {
		return err
	}
	fi, err := os.Stat(cfg.FirmwarePath)
	if err != nil {
		return fail(fmt.Errorf("%w: local firmware: %w", ErrNotStaged, err))
	}
	switch {
	case !l.listed:
		return fail(cond(ErrNotStaged, "%q does not list %s: stage it first (Member.Stage, the plan's stage step)", l.cmd, name))
	case l.known && l.size != fi.Size():
		return fail(fmt.Errorf("%w: %q lists %s with %d bytes, the local file has %d: %w", ErrNotStaged, l.cmd, name, l.size, fi.Size(), driver.ErrSizeMismatch))
	case !l.known && cfg.RequireUploadSize:
		return fail(cond(ErrUploadUnverified, "%q lists %s without a size; not applying a package whose size cannot be checked (Config.RequireUploadSize)", l.cmd, name))
	case !l.known:
		m.c.log.Warn("clavister: install: ls lists the package without a size; trusting the staging upload (Config.RequireUploadSize is off)", "unit", m.unit.Name, "file", name)
	}
	return nil
}

// applyChecked is the end of Install and Apply: holding both units'
// sessions, the last check on the devices (lastCheckLocked) and, right
// after it, the apply command.
func (m *Member) applyChecked(ctx context.Context, target string) error {
	apply := m.c.cfg.applyCommand()
	unlock := m.c.lockPair()
	defer unlock()
	if err := m.lastCheckLocked(ctx); err != nil {
		return err
	}
	m.c.log.Info("clavister: install: applying firmware", "unit", m.unit.Name, "command", apply)
	m.trackMu.Lock()
	m.pending, m.wentAway, m.pendingSince, m.armedAt = target, false, nil, time.Time{}
	m.trackMu.Unlock()
	_, err := m.sendLocked(ctx, "apply", apply, false)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, driver.ErrDropped):
		// The expected reboot.
		return nil
	case errors.Is(err, driver.ErrAborted) && ctx.Err() == nil:
		// No answer before the command timeout: a unit that reboots
		// without closing the connection looks like this. The gate decides.
		m.c.log.Warn("clavister: install: no answer to the apply command; assuming the unit is rebooting", "unit", m.unit.Name, "error", err)
		return nil
	default:
		m.trackMu.Lock()
		m.pending, m.wentAway, m.pendingSince, m.armedAt = "", false, nil, time.Time{}
		m.trackMu.Unlock()
		return err
	}
}

// lastCheckLocked verifies on the devices, right before the apply command,
// that restarting m leaves a forwarding unit: the peer's own `ha` (read on
// the peer's session) shows it ACTIVE, seeing m ALIVE, in sync where
// printed; then m's `ha` (the last command on m's session before the apply
// command) shows m still INACTIVE and seeing its peer ALIVE; no unplanned
// failover was seen on either. Both units' sessions must be held
// (lockPair).
func (m *Member) lastCheckLocked(ctx context.Context) error {
	peer := m.c.peer(m)
	refuse := func(err error) error { return &UnitError{Unit: m.unit.Name, Host: m.host, Op: "install", Err: err} }
	pha, err := peer.readHALocked(ctx)
	if err != nil {
		return refuse(fmt.Errorf("%w: cannot read ha on %s right before restarting %s: %w", ErrPeerNotForwarding, peer.unit.Name, m.unit.Name, err))
	}
	var why []string
	switch {
	case !pha.Configured:
		why = append(why, "is a standalone unit")
	case !pha.Active:
		why = append(why, "is INACTIVE")
	}
	if pha.Configured && !pha.PeerAlive {
		why = append(why, "does not see "+m.unit.Name+" ALIVE")
	}
	if pha.SyncKnown && pha.SyncPercent < 100 {
		why = append(why, fmt.Sprintf("reports HA object sync %d%%", pha.SyncPercent))
	}
	if al := peer.alarm(); al != "" {
		why = append(why, al)
	}
	if len(why) > 0 {
		return refuse(cond(ErrPeerNotForwarding, "%s %s (%s); not restarting %s", peer.unit.Name, strings.Join(why, ", "), pha.StateText, m.unit.Name))
	}
	ha, err := m.readHALocked(ctx)
	if err != nil {
		return err
	}
	switch {
	case !ha.Configured || ha.Active:
		return refuse(cond(ErrUnexpectedRole, "%s is no longer INACTIVE; not applying (%s)", m.unit.Name, ha.StateText))
	case !ha.PeerAlive:
		return refuse(fmt.Errorf("%w: %w", ErrPeerNotForwarding, cond(ErrPeerNotAlive, "%s does not see %s ALIVE; not restarting it", m.unit.Name, peer.unit.Name)))
	case m.alarm() != "":
		return refuse(fmt.Errorf("%w: %w", ErrPeerNotForwarding, classify(m.alarm())))
	}
	return nil
}

// pendingInstall returns the version of an install whose apply command was
// sent and whose result has not been seen yet, or "".
func (m *Member) pendingInstall() string {
	m.trackMu.Lock()
	defer m.trackMu.Unlock()
	return m.pending
}

// uploadSize returns the driver.VerifyFunc that Stage and Install hand
// driver.Upload: after the SCP transfer it lists the unit's files with
// `ls` (or `ls <dir>`) and returns the size the listing prints for the
// package; driver.Upload then compares it with the local file's
// (driver.ErrSizeMismatch).
//
// The only public `ls` capture (an OEM build's manual) prints names only,
// and whether any cOS Core listing prints sizes is not documented. A
// package listed without a size cannot be verified: the unit's SCP
// acknowledgement of every byte says nothing about what it stored. Then,
// with Config.RequireUploadSize set, the error wraps ErrUploadUnverified
// and the upload counts as failed (nothing is applied); without it (the
// default) the local file's size is returned, trusting the
// acknowledgement, with a warning in the log, and a damaged package is
// caught only when the unit comes back on its old version
// (ErrInstallNotTaken). A package not listed at all is a *ParseError.
func (m *Member) uploadSize(local string) driver.VerifyFunc {
	return func(ctx context.Context, remote string) (int64, error) {
		dir, name := path.Split(remote)
		cmd := "ls"
		if dir = strings.TrimSuffix(dir, "/"); dir != "" {
			cmd = "ls " + dir
		}
		out, err := m.send(ctx, "ls", cmd, true)
		if err != nil {
			return 0, err
		}
		size, known, err := lsSize(out, name)
		if err != nil {
			return 0, err
		}
		if known {
			return size, nil
		}
		if m.c.cfg.RequireUploadSize {
			return 0, cond(ErrUploadUnverified, "%q lists %s without a size; not applying a package whose size cannot be checked (Config.RequireUploadSize)", cmd, name)
		}
		fi, err := os.Stat(local)
		if err != nil {
			return 0, err
		}
		m.c.log.Warn("clavister: install: ls lists the package without a size; trusting the SCP acknowledgement (Config.RequireUploadSize is off)", "unit", m.unit.Name, "file", name, "bytes", fi.Size())
		return fi.Size(), nil
	}
}

// lsSize finds name in `ls` output. known reports whether the line also
// prints a size in bytes: a decimal field (optionally followed by "bytes"
// or "B") beside a name that is the line's first or last field. A name not
// listed is a *ParseError (errors.Is ErrUnrecognized). The listing format
// with sizes is unverified ([U]); the public capture prints names only.
func lsSize(out, name string) (size int64, known bool, err error) {
	found := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var rest []string
		switch {
		case f[0] == name:
			rest = f[1:]
		case f[len(f)-1] == name:
			rest = f[:len(f)-1]
		default:
			continue
		}
		found = true
		for _, x := range rest {
			x = strings.TrimSuffix(strings.TrimSuffix(x, "bytes"), "B")
			if n, err := strconv.ParseInt(x, 10, 64); err == nil && n >= 0 {
				return n, true, nil
			}
		}
	}
	if found {
		return 0, false, nil
	}
	return 0, false, newParseError("ls", out, fmt.Sprintf("%q is not listed after the upload", name), nil)
}
