package clavistertest

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hitless/hitless/internal/sshsim"
	"github.com/hitless/hitless/upgrade/upgradetest"
)

// Defaults used by Start for zero Options fields.
const (
	// DefaultVersion is the initial firmware of both units. 14.00.09 is the
	// example maintenance release of KB 324735653; the ".00" patch field and
	// the build number 31234 are invented (no public source lists the real
	// build numbers of 14.00.09).
	DefaultVersion = "14.00.09.00-31234"
	// DefaultUsername is the factory-default CLI user of cOS Core (the
	// factory-default credentials are admin/admin).
	DefaultUsername = "admin"
	// DefaultApplyCommand is the command that reboots the unit onto an
	// uploaded .upg (unverified, see the package documentation).
	DefaultApplyCommand = "shutdown -reboot"
	// DefaultApplyDelay is the time between the apply command's output and
	// the dropped sessions.
	DefaultApplyDelay = 200 * time.Millisecond
	// DefaultRebootDuration is how long a rebooting unit refuses
	// connections. Real units need minutes (plan 10-15 min per unit).
	DefaultRebootDuration = 2 * time.Second
	// DefaultSyncDuration is how long HA object sync takes to climb from 0
	// to 100 % after a unit returns.
	DefaultSyncDuration = time.Second
	// DefaultFailoverGap is how long a pair stops forwarding when its active
	// unit restarts without deactivating first.
	DefaultFailoverGap = time.Second
	// DefaultProbeEvery is the traffic probe period.
	DefaultProbeEvery = 100 * time.Millisecond
)

// Wordings of the `ha` output (Options.Wording).
const (
	// Wording1400 is the cOS Core 14.00 Admin Guide shape (the capture).
	Wording1400 = "14.00"
	// WordingNewer is the newer wording of the OEM build Radisys SEG-100
	// and of cOS Stream, as their manuals describe it; there is no capture
	// of it from cOS Core.
	WordingNewer = "newer"
)

// forever stands for a restart that never comes back (about 146 years).
const forever = time.Duration(1 << 62)

// Options configure a simulated pair. The zero value is valid: every zero
// field takes its default. A negative duration means zero (immediate).
type Options struct {
	// Names are the unit names, also their prompts ("fw-a:/> "). Default
	// {"fw-a", "fw-b"}. Unit 0 is the HA MASTER and starts ACTIVE, unit 1
	// the SLAVE and starts INACTIVE. 1-63 characters of [A-Za-z0-9._-],
	// starting with a letter or digit; distinct.
	Names [2]string
	// Version is the initial firmware of both units, a cOS Core version
	// "LTS.FF.mm[.pp][-BUILD][ TP]"; default DefaultVersion.
	Version string
	// Username and Password are the CLI credentials of both units; default
	// DefaultUsername and a random password (see Pair.Password).
	Username, Password string
	// ApplyCommand is the command that reboots a unit and installs the
	// uploaded package; default DefaultApplyCommand. If it contains
	// "{file}" (e.g. "upgrade {file}"), the word typed there must name an
	// uploaded file (its base name is used), which is the package
	// installed; otherwise the last .upg uploaded is.
	ApplyCommand string
	// ApplyDelay: after printing the apply command's output, the unit keeps
	// running this long, then drops its sessions (default DefaultApplyDelay).
	ApplyDelay time.Duration
	// RebootDuration: connections are refused this long (default
	// DefaultRebootDuration).
	RebootDuration time.Duration
	// SyncDuration: after a unit returns, its HA object sync climbs
	// linearly from 0 to 100 % over this time (default DefaultSyncDuration).
	SyncDuration time.Duration
	// FailoverGap: when the active unit restarts, its peer becomes active
	// only after this gap, during which nothing forwards (default
	// DefaultFailoverGap).
	FailoverGap time.Duration
	// ProbeEvery is the traffic probe period (default DefaultProbeEvery).
	ProbeEvery time.Duration
	// Wording selects the `ha` output: Wording1400 (default) or
	// WordingNewer.
	Wording string
	// ListSizes makes `ls` print each file as "<name>  <size in bytes>"
	// (directories keep their bare "name/" line), so that Install can
	// compare the uploaded size with the local file's.
	//
	// HITLESS ASSUMPTION, NOT A CAPTURE: the only public `ls` capture (the
	// Amer Networks E5Web manual, an OEM build of cOS Core) prints names
	// only, and whether any cOS Core listing prints sizes is not
	// documented. The sizes of the files of that capture (config.bak,
	// full.bak, license.lic) are invented. Without ListSizes (the default)
	// `ls` prints the captured shape, and clavister refuses to apply what it
	// cannot size only when clavister.Config.RequireUploadSize is set.
	ListSizes bool
	// Faults injects failures.
	Faults Faults
	// BeforeCommand, when not nil, is called each time a unit receives a
	// command line (white space collapsed), before the unit answers it,
	// with no lock held: a hook for tests that must act at an exact point,
	// e.g. restart a unit between two commands of one observation
	// (Unit.HoldRestart). It runs on the session's goroutine; it may block
	// (the answer waits) and may call the methods of the Pair and its
	// Units, and it must return for Close to complete. It is not called
	// for SCP uploads nor for the answer to a question.
	BeforeCommand func(u *Unit, cmd string)
	// Logger receives the simulator's and the SSH engine's records; nil
	// discards them.
	Logger *slog.Logger
}

// Faults are failures to inject. The zero value injects none. Unit names
// must be names of the pair.
type Faults struct {
	// NeverReturns names a unit whose restarts never come back: it stays
	// down (connections refused) until Close.
	NeverReturns string
	// BackOnOld names a unit that comes back from every restart on its old
	// version, whatever was uploaded.
	BackOnOld string
	// SyncStuckAt, when > 0, stops the HA object sync of a returning unit
	// at this percentage (1..99).
	SyncStuckAt int
	// PeerNotAlive makes both units report "HA cluster peer is NOT ALIVE"
	// (and refuse ha -deactivate) even when the peer is up. Roles and the
	// probe are not affected.
	PeerNotAlive bool
	// CommandError maps a command to an error text printed instead of its
	// output, as "Error: <text>" (unless the text already starts with
	// "Error:"). The command matches the whole line (white space
	// collapsed, e.g. "ha -deactivate") or else its first word (e.g. "ha").
	// The command then does nothing.
	CommandError map[string]string
	// CommandOutput maps a command to text printed verbatim instead of its
	// output (no "Error:" prefix added; the command then does nothing).
	// Matching is as for CommandError, which takes precedence. Use it for
	// device answers whose wording is unverified, e.g. "usage: ha ..." or
	// "Failed to deactivate: ...".
	CommandOutput map[string]string
	// GarbledHA makes `ha` print a damaged status: the unit's normal output
	// with its peer line garbled (see GarbledPeerLine), as a corrupted
	// terminal stream or an unknown firmware wording would look. No "Error:"
	// line is printed: a parser must fail closed on its own.
	GarbledHA bool
	// TruncateUpload makes the SCP sink keep only the first half of every
	// uploaded file (the client still sees success).
	TruncateUpload bool
	// ActiveFailsDuringUpload names a unit: the first time that unit
	// receives an SCP upload while its peer is the active unit, the peer
	// fails in the middle of the transfer (after the file's bytes arrived,
	// before the SCP acknowledgement): it stops forwarding, drops its
	// sessions and refuses connections until Close, as a unit that lost
	// power. Its peer (the receiving unit) takes over only after
	// FailoverGap, as after any failure of the active unit. The upload
	// itself succeeds. Pair.ActiveFailed is closed at that moment, so a
	// test can wait for it without sleeping.
	ActiveFailsDuringUpload string
}

// GarbledPeerLine replaces "HA cluster peer is ALIVE" (or NOT ALIVE) in the
// `ha` output of a unit with Faults.GarbledHA.
const GarbledPeerLine = "HA cl#ster p\u00bfer \u00bfs AL\u00bfVE"

var (
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	versionRe = regexp.MustCompile(`^\d{1,2}\.\d{1,2}\.\d{1,2}(?:\.\d{1,2})?(?:-\d{1,9})?(?: TP)?$`)
)

// withDefaults validates o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Names == [2]string{} {
		o.Names = [2]string{"fw-a", "fw-b"}
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.Username == "" {
		o.Username = DefaultUsername
	}
	if o.Password == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return o, fmt.Errorf("clavistertest: random password: %w", err)
		}
		o.Password = base64.RawURLEncoding.EncodeToString(b)
	}
	o.ApplyCommand = strings.Join(strings.Fields(o.ApplyCommand), " ")
	if o.ApplyCommand == "" {
		o.ApplyCommand = DefaultApplyCommand
	}
	if o.Wording == "" {
		o.Wording = Wording1400
	}
	dur := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0
		}
	}
	dur(&o.ApplyDelay, DefaultApplyDelay)
	dur(&o.RebootDuration, DefaultRebootDuration)
	dur(&o.SyncDuration, DefaultSyncDuration)
	dur(&o.FailoverGap, DefaultFailoverGap)
	dur(&o.ProbeEvery, DefaultProbeEvery)
	if o.ProbeEvery == 0 {
		o.ProbeEvery = DefaultProbeEvery
	}

	var errs []error
	for i, n := range o.Names {
		if !nameRe.MatchString(n) {
			errs = append(errs, fmt.Errorf("option Names[%d] %q does not match %s", i, n, nameRe))
		}
	}
	if o.Names[0] == o.Names[1] {
		errs = append(errs, fmt.Errorf("option Names are both %q", o.Names[0]))
	}
	if !versionRe.MatchString(o.Version) {
		errs = append(errs, fmt.Errorf("option Version %q is not a cOS Core version", o.Version))
	}
	if o.Wording != Wording1400 && o.Wording != WordingNewer {
		errs = append(errs, fmt.Errorf("option Wording %q is neither %q nor %q", o.Wording, Wording1400, WordingNewer))
	}
	for _, f := range []struct{ field, name string }{
		{"NeverReturns", o.Faults.NeverReturns}, {"BackOnOld", o.Faults.BackOnOld}, {"ActiveFailsDuringUpload", o.Faults.ActiveFailsDuringUpload},
	} {
		if f.name != "" && !slices.Contains(o.Names[:], f.name) {
			errs = append(errs, fmt.Errorf("option Faults.%s %q is not a unit name", f.field, f.name))
		}
	}
	if o.Faults.SyncStuckAt < 0 || o.Faults.SyncStuckAt > 99 {
		errs = append(errs, fmt.Errorf("option Faults.SyncStuckAt %d is not in 0..99", o.Faults.SyncStuckAt))
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("clavistertest: invalid options: %w", err)
	}
	return o, nil
}

// Pair is a running simulated HA pair. Its methods are safe for concurrent
// use. Close it when done.
type Pair struct {
	opts       Options
	log        *slog.Logger
	dir        string // temporary directory owned by the pair
	knownHosts string
	probe      *upgradetest.Probe
	units      [2]*Unit

	mu     sync.Mutex // guards the state of the pair and of both units
	closed bool
	timers map[*time.Timer]struct{}
	wg     sync.WaitGroup // pending timer callbacks
	// activeFailed is closed when Faults.ActiveFailsDuringUpload fired.
	activeFailed chan struct{}
	failed       bool // activeFailed is closed
	// done is closed by Close: it ends the holds of Unit.HoldReturn.
	done chan struct{}
}

// Unit is one simulated unit. Its accessors report the state model.
type Unit struct {
	pair *Pair
	idx  int
	name string
	role string // "MASTER" or "SLAVE", fixed by configuration
	srv  *sshsim.Server
	addr string
	port int

	// Guarded by pair.mu.
	version    string
	active     bool
	since      time.Time // last state change (or boot)
	bootedAt   time.Time
	returnedAt time.Time // last return from a reboot; zero: never rebooted
	down       bool      // rebooting: sessions dropped, connections refused
	applying   bool      // apply command received, reboot not started yet
	applyBy    string    // "<user> (<ip>)" of the apply command
	applyFile  string    // package named by the apply command, if any
	lastEvent  string
	applyN     int  // counts apply commands: a delayed restart is for the one it was scheduled for
	holdApply  bool // HoldRestart: an acknowledged apply command does not restart the unit
	syncCap    int  // HoldSync: the sync percentage is capped at this (0: no cap)
	// returnHold, when not nil, keeps a rebooting unit down until it is
	// closed (HoldReturn).
	returnHold chan struct{}
	restarts   int      // completed restarts (returns from a reboot)
	files      []file   // stored uploaded files, in upload order
	uploaded   []string // names of every file received, in order
	commands   []string // every command line received, in order
}

// file is one uploaded file as the unit stores it.
type file struct {
	name    string
	size    int
	version string // the package's version, if valid
	valid   bool   // a complete simulated .upg
}

// Start starts a simulated pair: two SSH servers on 127.0.0.1 and a
// known_hosts file naming both, in a temporary directory removed by Close.
func Start(opts Options) (*Pair, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "clavistertest-")
	if err != nil {
		return nil, fmt.Errorf("clavistertest: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pair{
		opts:       o,
		log:        log,
		dir:        dir,
		knownHosts: filepath.Join(dir, "known_hosts"),
		timers:     make(map[*time.Timer]struct{}),
		probe:      upgradetest.NewProbe(o.ProbeEvery, true),

		activeFailed: make(chan struct{}),
		done:         make(chan struct{}),
	}
	now := time.Now()
	event := fmt.Sprintf("%s: Restart request from CLI by %s (127.0.0.1).", stamp(now), o.Username)
	for i, name := range o.Names {
		u := &Unit{pair: p, idx: i, name: name, role: "SLAVE", version: o.Version,
			active: i == 0, since: now, bootedAt: now, lastEvent: event}
		if i == 0 {
			u.role = "MASTER"
		}
		prompt := name + ":/> "
		srv, err := sshsim.New(sshsim.Config{
			Hostname:  name,
			Users:     map[string]string{o.Username: o.Password},
			Prompt:    func() string { return prompt },
			Handler:   u.handle,
			SCPUpload: u.upload,
			Logger:    log,
		})
		if err == nil {
			err = srv.Start()
		}
		if err == nil {
			u.srv = srv
			err = srv.WriteKnownHosts(p.knownHosts)
		}
		if err == nil {
			u.addr = srv.Addr()
			var port string
			_, port, err = net.SplitHostPort(u.addr)
			if err == nil {
				u.port, err = strconv.Atoi(port)
			}
		}
		if err != nil {
			if srv != nil {
				_ = srv.Close()
			}
			if i == 1 {
				_ = p.units[0].srv.Close()
			}
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("clavistertest: start unit %s: %w", name, err)
		}
		p.units[i] = u
	}
	log.Info("clavistertest: pair started", "units", o.Names, "version", o.Version)
	return p, nil
}

// Unit returns the unit with the given name, or nil.
func (p *Pair) Unit(name string) *Unit {
	for _, u := range p.units {
		if u.name == name {
			return u
		}
	}
	return nil
}

// Units returns both units: index 0 is the master, 1 the slave.
func (p *Pair) Units() [2]*Unit { return p.units }

// KnownHostsFile returns the path of an OpenSSH known_hosts file listing
// both units ("127.0.0.1:port" → host key). It is removed by Close.
func (p *Pair) KnownHostsFile() string { return p.knownHosts }

// Username returns the CLI user name of both units.
func (p *Pair) Username() string { return p.opts.Username }

// Password returns the CLI password of both units (random unless
// Options.Password was set).
func (p *Pair) Password() string { return p.opts.Password }

// Options returns the options in force, defaults filled in.
func (p *Pair) Options() Options { return p.opts }

// Probe returns the pair's traffic probe: the pair forwards traffic while
// some unit is up and active.
func (p *Pair) Probe() *upgradetest.Probe { return p.probe }

// ActiveFailed returns a channel closed when Faults.ActiveFailsDuringUpload
// made the active unit fail (never closed without that fault).
func (p *Pair) ActiveFailed() <-chan struct{} { return p.activeFailed }

// Close stops both units, cancels pending reboots and timers, stops the
// probe and removes the temporary directory (with the known_hosts file). It
// is idempotent.
func (p *Pair) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	for t := range p.timers {
		if t.Stop() {
			p.wg.Done() // its callback will never run
		}
	}
	clear(p.timers)
	p.mu.Unlock()

	var errs []error
	for _, u := range p.units {
		if err := u.srv.Close(); err != nil {
			errs = append(errs, fmt.Errorf("clavistertest: close %s: %w", u.name, err))
		}
	}
	p.wg.Wait()
	p.probe.Stop()
	if err := os.RemoveAll(p.dir); err != nil {
		errs = append(errs, fmt.Errorf("clavistertest: %w", err))
	}
	return errors.Join(errs...)
}

// afterLocked runs f with p.mu held after d, unless the pair is closed
// first. p.mu must be held.
func (p *Pair) afterLocked(d time.Duration, f func()) {
	if p.closed {
		return
	}
	p.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		defer p.wg.Done()
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.timers, t)
		if !p.closed {
			f()
		}
	})
	p.timers[t] = struct{}{}
}

// updateProbeLocked tells the probe whether some unit forwards now.
func (p *Pair) updateProbeLocked() {
	p.probe.Set(p.units[0].forwardingLocked() || p.units[1].forwardingLocked())
}

// peer returns the other unit of the pair.
func (u *Unit) peer() *Unit { return u.pair.units[1-u.idx] }

func (u *Unit) forwardingLocked() bool { return !u.down && u.active }

// peerAliveLocked reports whether u sees its peer alive.
func (u *Unit) peerAliveLocked() bool {
	return !u.peer().down && !u.pair.opts.Faults.PeerNotAlive
}

// setActiveLocked changes u's state, resetting its time in state if it
// changed.
func (u *Unit) setActiveLocked(active bool, now time.Time) {
	if u.active != active {
		u.active, u.since = active, now
	}
}

// syncLocked is u's HA object sync percentage at now: 100 until its first
// reboot, then climbing linearly over SyncDuration from its return, capped
// by Faults.SyncStuckAt.
func (u *Unit) syncLocked(now time.Time) int {
	if u.returnedAt.IsZero() {
		return 100
	}
	pct := 100
	if d := u.pair.opts.SyncDuration; d > 0 {
		pct = int(min(100, 100*now.Sub(u.returnedAt)/d))
	}
	if s := u.pair.opts.Faults.SyncStuckAt; s > 0 && pct > s {
		pct = s
	}
	if s := u.syncCap; s > 0 && pct > s {
		pct = s
	}
	return pct
}

// startRebootLocked takes u down: sessions dropped, connections refused for
// RebootDuration (for ever with Faults.NeverReturns). If u was active, its
// peer takes over after FailoverGap.
func (p *Pair) startRebootLocked(u *Unit) {
	p.takeDownLocked(u, p.opts.Faults.NeverReturns == u.name)
}

// failActiveLocked is Faults.ActiveFailsDuringUpload: the peer of u, the
// unit receiving an upload, fails for good if it is the active unit (once).
func (p *Pair) failActiveLocked(u *Unit) {
	peer := u.peer()
	if p.failed || p.opts.Faults.ActiveFailsDuringUpload != u.name || !peer.forwardingLocked() {
		return
	}
	p.failed = true
	peer.lastEvent = stamp(time.Now()) + ": Power failure."
	p.log.Info("clavistertest: active unit fails during an upload to its peer", "unit", peer.name, "uploading", u.name)
	p.takeDownLocked(peer, true)
	close(p.activeFailed)
}

// takeDownLocked takes u down for RebootDuration, or until Close when
// never; if u was active, its peer takes over after FailoverGap.
func (p *Pair) takeDownLocked(u *Unit, never bool) {
	now := time.Now()
	wasActive := u.active
	u.applying = false
	u.down = true
	u.setActiveLocked(false, now)
	p.updateProbeLocked()
	p.log.Info("clavistertest: unit restarting", "unit", u.name, "was_active", wasActive)
	if wasActive {
		peer := u.peer()
		if p.opts.FailoverGap <= 0 {
			p.takeOverLocked(peer)
		} else {
			p.afterLocked(p.opts.FailoverGap, func() { p.takeOverLocked(peer) })
		}
	}
	down := p.opts.RebootDuration
	if never {
		down = forever
	}
	u.srv.Reboot(down, func() { p.back(u) })
}

// takeOverLocked makes u active if it is up and nothing else forwards (the
// HA failover after the active unit went away).
func (p *Pair) takeOverLocked(u *Unit) {
	if u.down || u.active || u.peer().forwardingLocked() {
		return
	}
	u.setActiveLocked(true, time.Now())
	p.updateProbeLocked()
	p.log.Info("clavistertest: unit took over", "unit", u.name)
}

// back is called when u's reboot ends, just before it accepts connections
// again: it installs the last uploaded .upg (if valid and not
// Faults.BackOnOld), clears consumed packages and rejoins the pair.
func (p *Pair) back(u *Unit) {
	p.mu.Lock()
	hold := u.returnHold
	p.mu.Unlock()
	if hold != nil {
		// HoldReturn: still down until released (or Close).
		select {
		case <-hold:
		case <-p.done:
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	now := time.Now()
	by := u.applyBy
	if by == "" {
		by = p.opts.Username + " (127.0.0.1)"
	}
	event := "Restart request from CLI by " + by + "."
	var pkg *file
	for i := range u.files {
		if f := u.files[i].name; f == u.applyFile || u.applyFile == "" && filepath.Ext(f) == ".upg" {
			pkg = &u.files[i]
		}
	}
	if pkg != nil {
		switch {
		case !pkg.valid:
			event = "Firmware upgrade failed: invalid upgrade package " + pkg.name + "."
		case p.opts.Faults.BackOnOld == u.name:
			event = "Firmware upgrade request from CLI by " + by + "."
		default:
			u.version = pkg.version
			event = "Firmware upgrade request from CLI by " + by + "."
		}
		u.files = slices.DeleteFunc(u.files, func(f file) bool { return filepath.Ext(f.name) == ".upg" })
	}
	u.down = false
	u.applyBy, u.applyFile = "", ""
	u.lastEvent = stamp(now) + ": " + event
	u.bootedAt, u.returnedAt, u.since = now, now, now
	u.restarts++
	u.active = !u.peer().forwardingLocked()
	p.updateProbeLocked()
	p.log.Info("clavistertest: unit back", "unit", u.name, "version", u.version, "active", u.active)
}

// stamp formats t like the Last Event of `stats` ("2019-08-12 14:01:18").
func stamp(t time.Time) string { return t.UTC().Format(time.DateTime) }

// Name returns the unit's name (also its prompt, "<name>:/> ").
func (u *Unit) Name() string { return u.name }

// Addr returns "127.0.0.1:port"; it stays the same across reboots.
func (u *Unit) Addr() string { return u.addr }

// Host returns "127.0.0.1".
func (u *Unit) Host() string { return "127.0.0.1" }

// Port returns the unit's SSH port.
func (u *Unit) Port() int { return u.port }

// Role returns "master" or "slave" (fixed by configuration).
func (u *Unit) Role() string {
	if u.role == "MASTER" {
		return "master"
	}
	return "slave"
}

// Version returns the firmware the unit runs now.
func (u *Unit) Version() string {
	u.pair.mu.Lock()
	defer u.pair.mu.Unlock()
	return u.version
}

// Active reports whether the unit is active (forwarding). A down unit is
// never active.
func (u *Unit) Active() bool {
	u.pair.mu.Lock()
	defer u.pair.mu.Unlock()
	return u.forwardingLocked()
}

// Down reports whether the unit is rebooting (connections refused).
func (u *Unit) Down() bool {
	u.pair.mu.Lock()
	defer u.pair.mu.Unlock()
	return u.down || u.srv.Down()
}

// Restarts returns how many times the unit has come back from a reboot
// (an apply command or another restart; a unit that never returns is not
// counted). It only grows.
func (u *Unit) Restarts() int {
	u.pair.mu.Lock()
	defer u.pair.mu.Unlock()
	return u.restarts
}

// Sync returns the unit's HA object sync percentage now (100 until its
// first reboot).
func (u *Unit) Sync() int {
	u.pair.mu.Lock()
	defer u.pair.mu.Unlock()
	return u.syncLocked(time.Now())
}

// Uploaded returns the names of every file received by SCP, in order,
// including packages already consumed by a reboot.
func (u *Unit) Uploaded() []string {
	u.pair.mu.Lock()
	defer u.pair.mu.Unlock()
	return slices.Clone(u.uploaded)
}

// Commands returns every command line received, in order (white space
// collapsed), for assertions.
func (u *Unit) Commands() []string {
	u.pair.mu.Lock()
	defer u.pair.mu.Unlock()
	return slices.Clone(u.commands)
}

// HoldRestart holds the unit's restarts by the apply command: from now
// until release is called, the unit acknowledges the apply command as
// usual ("Shutting down ...") but keeps running on its old version,
// answering commands, whatever ApplyDelay says. release starts the
// restart of an apply command acknowledged meanwhile at once (the unit
// drops its sessions and reboots as after ApplyDelay), or just ends the
// hold when none was; it is idempotent. With Options.BeforeCommand it puts
// a restart exactly between two commands.
func (u *Unit) HoldRestart() (release func()) {
	p := u.pair
	p.mu.Lock()
	u.holdApply = true
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			u.holdApply = false
			if u.applying && !p.closed {
				p.startRebootLocked(u)
			}
		})
	}
}

// HoldReturn holds the unit down: a reboot in progress or started later
// keeps refusing connections past RebootDuration until release is called
// (or the pair is closed); the unit then comes back at once if its
// RebootDuration has passed, or when it passes. release is idempotent.
// Tests use it to start a process while a unit is certainly rebooting.
func (u *Unit) HoldReturn() (release func()) {
	p := u.pair
	ch := make(chan struct{})
	p.mu.Lock()
	u.returnHold = ch
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			if u.returnHold == ch {
				u.returnHold = nil
			}
			p.mu.Unlock()
			close(ch)
		})
	}
}

// HoldSync caps the unit's HA object sync at pct (clamped to 1..99) until
// release is called, as Faults.SyncStuckAt does for both units for ever:
// after a return from a reboot, `ha` then prints at most pct %. A unit
// that has not rebooted since Start is in sync (100 %) and is not
// affected. After release the sync climbs as SyncDuration says (100 % if
// SyncDuration has passed since the return). release is idempotent.
func (u *Unit) HoldSync(pct int) (release func()) {
	p := u.pair
	pct = min(max(pct, 1), 99)
	p.mu.Lock()
	u.syncCap = pct
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if u.syncCap == pct {
				u.syncCap = 0
			}
		})
	}
}
