package checkpointtest

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hitless/hitless/internal/sshsim"
)

// sessState is the per-session CLI state.
type sessState struct {
	expert  bool // in Expert mode (bash) rather than Clish
	vs      int  // VS context (VSX)
	rc      int  // exit status of the last Expert command ($?)
	rows    int  // Clish page length, 0: no paging
	greeted bool // the first prompt was written
}

const sessKey = "checkpointtest"

// Texts printed by the simulated Gaia CLI. CLINFR0771 and CLINFR0329 follow
// real Gaia output (a public capture and public transcripts); the others are
// INVENTED (UNVERIFIED): no public capture shows them.
const (
	expertQuestion = "Enter expert password:"
	expertBanner   = "\nWarning! All configurations should be done through clish\nYou are in expert mode now.\n"
	wrongPassword  = "Wrong password."
	incomplete     = "CLINFR0349  Incomplete command."
	pagerPrompt    = "-- More --"
	rebootQuestion = "Are you sure you want to reboot?(Y/N)[N]"
	upgradeAsk     = "The machine will reboot at the end of the installation. Do you want to continue? (y-yes, else no):"
)

// lockOwnedText is the config-lock notice of a real capture (CLINFR0771).
func lockOwnedText(owner string) string {
	return "CLINFR0771  Config lock is owned by " + owner + ". Use the command 'lock database override' to acquire the lock."
}

// lockPresentText is the refusal of a configuration command without the
// lock (INVENTED wording around the real CLINFR0519 code).
const lockPresentText = "CLINFR0519  Configuration lock present. Can not execute this command. Use the command 'lock database override' to acquire the lock."

// invalidText is the Clish answer to an unknown command.
func invalidText(cmd string) string { return "CLINFR0329  Invalid command:'" + cmd + "'." }

// stateLocked returns the CLI state of session s, creating it.
func (m *Member) stateLocked(s *sshsim.Session) *sessState {
	if st, ok := s.Get(sessKey).(*sessState); ok {
		return st
	}
	st := &sessState{vs: m.sim.opts.LoginContext, rows: m.sim.opts.ClishRows}
	s.Set(sessKey, st)
	return st
}

// promptText is the prompt for st: Clish "host> " (VSX "host:N> "), Expert
// "[Expert@host:N]# ".
func (m *Member) promptText(st *sessState) string {
	if st.expert {
		return "[Expert@" + m.name + ":" + strconv.Itoa(st.vs) + "]# "
	}
	if m.sim.opts.VSX {
		return m.name + ":" + strconv.Itoa(st.vs) + "> "
	}
	return m.name + "> "
}

// prompt is the sshsim SessionPrompt. The first prompt of a session takes
// the Clish configuration lock, or, when another live session holds it, is
// preceded by the CLINFR0771 notice as in the real capture.
func (m *Member) prompt(s *sshsim.Session) string {
	m.sim.mu.Lock()
	defer m.sim.mu.Unlock()
	st := m.stateLocked(s)
	p := m.promptText(st)
	if !st.greeted {
		st.greeted = true
		if o := m.lockOwner; o != nil && o != s && o.Context().Err() == nil {
			return lockOwnedText(o.User()) + "\n" + p
		}
		m.lockOwner = s
	}
	return p
}

// takeLockLocked gives s the configuration lock when nobody else holds it;
// it returns false when another live session holds it.
func (m *Member) takeLockLocked(s *sshsim.Session) bool {
	if o := m.lockOwner; o != nil && o != s && o.Context().Err() == nil {
		return false
	}
	m.lockOwner = s
	return true
}

// lookup returns table's entry for cmd, matching the whole command first, then
// its first word, then "*" when star is set.
func lookup[V any](table map[string]V, cmd string, star bool) (V, bool) {
	if v, ok := table[cmd]; ok {
		return v, true
	}
	word, _, _ := strings.Cut(cmd, " ")
	if v, ok := table[word]; ok {
		return v, true
	}
	if star {
		v, ok := table["*"]
		return v, ok
	}
	var zero V
	return zero, false
}

// handle answers one command line (sshsim Handler).
func (m *Member) handle(s *sshsim.Session, line string) sshsim.Reply {
	sim := m.sim
	cmd := strings.Join(strings.Fields(line), " ")
	if d, ok := lookup(sim.opts.Faults.Slow, cmd, true); ok && d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.Context().Done():
			t.Stop()
			return sshsim.Reply{}
		}
	}
	sim.mu.Lock()
	defer sim.mu.Unlock()
	if m.down {
		return sshsim.Reply{} // the reboot is dropping this session
	}
	m.commands = append(m.commands, cmd)
	st := m.stateLocked(s)
	if text, ok := lookup(sim.opts.Faults.CommandError, cmd, false); ok {
		st.rc = 1
		return sshsim.Reply{Output: text, ExitStatus: 1}
	}
	if st.expert {
		return m.expertLocked(s, st, line)
	}
	r := m.clishLocked(s, st, cmd)
	if r.Ask == "" && st.rows > 0 && s.Term() != "" {
		r = paged(r, st.rows)
	}
	return r
}

// paged splits a long Clish output into pages of rows lines, each followed
// by the "-- More --" question; any answer but "q" shows the next page.
func paged(r sshsim.Reply, rows int) sshsim.Reply {
	lines := strings.SplitAfter(strings.TrimSuffix(r.Output, "\n"), "\n")
	if len(lines) <= rows {
		return r
	}
	rest := sshsim.Reply{Output: strings.Join(lines[rows:], ""), ExitStatus: r.ExitStatus, After: r.After}
	return sshsim.Reply{
		Output: strings.Join(lines[:rows], ""),
		Ask:    pagerPrompt,
		OnAnswer: func(_ *sshsim.Session, answer string) sshsim.Reply {
			if strings.TrimSpace(answer) == "q" {
				return sshsim.Reply{After: rest.After}
			}
			return paged(rest, rows)
		},
	}
}

// clishCommands are the Clish commands the simulator knows, for the
// "Incomplete command" answer to a strict prefix of one.
var clishCommands = []string{
	"show cluster state", "show cluster members mvc", "set cluster member mvc on",
	"set cluster member admin down", "show version all", "show installer packages installed",
	"show installer packages imported", "lock database override", "installer import local",
	"installer verify", "installer upgrade", "installer install", "set clienv rows",
	"set virtual-system",
}

// extendedCommands run from Clish like in Expert mode (Gaia "extended
// commands").
var extendedCommands = []string{"cphaprob", "fw", "cpinfo", "vsx"}

// clishLocked answers one Clish command.
func (m *Member) clishLocked(s *sshsim.Session, st *sessState, cmd string) sshsim.Reply {
	sim := m.sim
	w := strings.Fields(cmd)
	out := func(text string) sshsim.Reply { return sshsim.Reply{Output: text} }
	fail := func(text string) sshsim.Reply { return sshsim.Reply{Output: text, ExitStatus: 1} }
	needLock := func() bool { return m.takeLockLocked(s) }
	switch {
	case cmd == "show cluster state":
		return out(m.clusterStateLocked(st.vs))
	case cmd == "show cluster members mvc" || cmd == "show cluster member mvc":
		return out(m.mvcClishLocked())
	case len(w) == 5 && strings.Join(w[:4], " ") == "set cluster member mvc" && (w[4] == "on" || w[4] == "off"):
		if !needLock() {
			return fail(lockPresentText)
		}
		m.setMVCLocked(w[4] == "on")
		return out("")
	case len(w) >= 5 && strings.Join(w[:4], " ") == "set cluster member admin" && (w[4] == "down" || w[4] == "up") &&
		(len(w) == 5 || len(w) == 6 && w[5] == "permanent"):
		if !needLock() {
			return fail(lockPresentText)
		}
		m.setAdminLocked(w[4] == "down", len(w) == 6)
		return out("")
	case cmd == "show version all":
		return out(m.versionAllLocked())
	case cmd == "show installer packages installed":
		return out(m.installedLocked())
	case cmd == "show installer packages imported":
		return out(m.importedLocked())
	case cmd == "lock database override":
		m.lockOwner = s
		return out("")
	case len(w) >= 2 && w[0] == "installer" && slices.Contains([]string{"import", "verify", "upgrade", "install"}, w[1]):
		if !needLock() {
			return fail(lockPresentText)
		}
		return m.installerLocked(w)
	case len(w) == 4 && strings.Join(w[:3], " ") == "set clienv rows":
		n, err := strconv.Atoi(w[3])
		if err != nil || n < 0 || n > 1000 {
			return fail(invalidText(cmd))
		}
		st.rows = n
		return out("")
	case len(w) == 3 && w[0] == "set" && w[1] == "virtual-system" && sim.opts.VSX:
		id, err := strconv.Atoi(w[2])
		if err != nil || m.vsName(id) == "" {
			return fail(invalidText(cmd))
		}
		st.vs = id
		return out("")
	case cmd == "expert":
		return m.expertLoginLocked(st)
	case cmd == "reboot":
		return sshsim.Reply{Ask: rebootQuestion, OnAnswer: func(_ *sshsim.Session, a string) sshsim.Reply {
			if !strings.EqualFold(strings.TrimSpace(a), "y") {
				return sshsim.Reply{}
			}
			sim.mu.Lock()
			defer sim.mu.Unlock()
			return m.rebootCommandLocked()
		}}
	case cmd == "exit" || cmd == "quit":
		return sshsim.Reply{Disconnect: true}
	case len(w) > 0 && slices.Contains(extendedCommands, w[0]):
		env := &shellEnv{m: m, s: s, st: st, vs: &st.vs, login: true, shell: "clish"}
		o, rc := m.simpleLocked(env, w)
		if rc == 127 {
			return fail(invalidText(cmd))
		}
		return sshsim.Reply{Output: o, ExitStatus: rc}
	}
	for _, k := range clishCommands {
		kw := strings.Fields(k)
		if len(w) > 0 && len(w) < len(kw) && slices.Equal(w, kw[:len(w)]) {
			return fail(incomplete)
		}
	}
	return fail(invalidText(cmd))
}

// expertLoginLocked asks for the expert password and enters Expert mode.
func (m *Member) expertLoginLocked(st *sessState) sshsim.Reply {
	sim := m.sim
	return sshsim.Reply{
		Ask:        expertQuestion,
		HideAnswer: true,
		OnAnswer: func(_ *sshsim.Session, answer string) sshsim.Reply {
			sim.mu.Lock()
			defer sim.mu.Unlock()
			if answer != sim.opts.ExpertPassword {
				return sshsim.Reply{Output: wrongPassword, ExitStatus: 1}
			}
			st.expert, st.rc = true, 0
			return sshsim.Reply{Output: expertBanner}
		},
	}
}

// mvcReadLocked is the MVC state the member reports.
func (m *Member) mvcReadLocked() bool {
	return m.mvc && m.sim.opts.Faults.MVCStaysOff != m.name
}

// mvcExpertLocked renders Expert `cphaprob mvc` (INVENTED, UNVERIFIED: the
// real output is not public).
func (m *Member) mvcExpertLocked() string {
	if m.mvcReadLocked() {
		return "MVC: On\n"
	}
	return "MVC: Off\n"
}

// mvcClishLocked renders Clish `show cluster members mvc` (INVENTED,
// UNVERIFIED).
func (m *Member) mvcClishLocked() string {
	if m.mvcReadLocked() {
		return "Multi-Version Cluster: enabled\n"
	}
	return "Multi-Version Cluster: disabled\n"
}

// setMVCLocked turns MVC on or off (Faults.MVCStaysOff ignores "on").
func (m *Member) setMVCLocked(on bool) {
	if on && m.sim.opts.Faults.MVCStaysOff == m.name {
		return
	}
	m.mvc = on
	m.sim.log.Info("checkpointtest: MVC set", "member", m.name, "on", on)
	m.sim.recomputeLocked()
}

// setAdminLocked is clusterXL_admin down|up: a down ACTIVE member hands
// over to the best STANDBY at once.
func (m *Member) setAdminLocked(down, permanent bool) {
	s := m.sim
	if down && s.active == m {
		s.lossReason = "ADMIN_DOWN PNOTE"
	}
	m.adminDown = down
	if permanent {
		m.adminPerm = down
	}
	s.log.Info("checkpointtest: admin state", "member", m.name, "down", down, "permanent", permanent)
	s.recomputeLocked()
}

// clusterXLAdminLocked renders Expert `clusterXL_admin down|up [-p]`
// (wording from memory of public transcripts, UNVERIFIED).
func (m *Member) clusterXLAdminLocked(args []string) (string, int) {
	if len(args) < 1 || len(args) > 2 || (args[0] != "down" && args[0] != "up") || (len(args) == 2 && args[1] != "-p") {
		return "Usage: clusterXL_admin <up|down> [-p]\n", 1
	}
	down, perm := args[0] == "down", len(args) == 2
	m.setAdminLocked(down, perm)
	var b strings.Builder
	if !perm {
		b.WriteString("This command does not survive reboot. To make the change permanent, please run 'set cluster member admin down/up permanent' in clish or add '-p' at the end of the command in expert mode\n")
	}
	if down {
		b.WriteString("Setting member to administratively down state ...\n")
	} else {
		b.WriteString("Setting member to normal operation ...\n")
	}
	fmt.Fprintf(&b, "Member current state is %s\n", m.ownStateLocked())
	return b.String(), 0
}

// findImportedLocked resolves a package argument: an imported file name,
// with or without its .tar/.tgz extension.
func (m *Member) findImportedLocked(arg string) (imported, bool) {
	for _, i := range m.imported {
		base := strings.TrimSuffix(strings.TrimSuffix(i.file, ".tar"), ".tgz")
		if arg == i.file || arg == base {
			return i, true
		}
	}
	return imported{}, false
}

// allowedLocked says whether pkg may be installed on m now, and why not.
func (m *Member) allowedLocked(pkg Package) (bool, string) {
	switch pkg.Kind {
	case KindMajor:
		if releaseCompare(pkg.Release, m.release) <= 0 {
			return false, fmt.Sprintf("the installed version %s is not older than the package version %s", m.release, pkg.Release)
		}
	case KindJumbo:
		if pkg.Release != m.release {
			return false, fmt.Sprintf("the package is for %s, the installed version is %s", pkg.Release, m.release)
		}
		if pkg.Take <= m.take {
			return false, fmt.Sprintf("take %d is installed, the package has take %d", m.take, pkg.Take)
		}
	}
	return true, ""
}

// installerLocked answers `installer import local <file>`, `installer
// verify <pkg>`, `installer upgrade|install <pkg>` (each optionally with
// "not-interactive"). The console texts are INVENTED (UNVERIFIED).
func (m *Member) installerLocked(w []string) sshsim.Reply {
	sim := m.sim
	fail := func(text string) sshsim.Reply { return sshsim.Reply{Output: text, ExitStatus: 1} }
	interactive := true
	if w[len(w)-1] == "not-interactive" {
		interactive = false
		w = w[:len(w)-1]
	}
	switch {
	case w[1] == "import" && len(w) == 4 && w[2] == "local":
		p := path.Clean(w[3])
		data, ok := m.files[p]
		if !ok || !path.IsAbs(w[3]) {
			return fail("Error: Failed to import package: file " + w[3] + " was not found")
		}
		file := path.Base(p)
		if _, done := m.findImportedLocked(file); done {
			return sshsim.Reply{Output: "Info: Package " + file + " is already imported."}
		}
		if m.importing[file] {
			return sshsim.Reply{Output: "Info: Import of " + file + " is already in progress."}
		}
		m.importing[file] = true
		boot := m.bootedAt
		pkg, valid := readPackage(data)
		sim.log.Info("checkpointtest: import started", "member", m.name, "file", file, "valid", valid)
		if sim.opts.Faults.ImportNeverFinishes != m.name {
			sim.afterLocked(sim.opts.ImportDuration, func() {
				if m.down || !m.bootedAt.Equal(boot) || !m.importing[file] {
					return // rebooted meanwhile: the import is lost
				}
				delete(m.importing, file)
				if valid {
					m.imported = append(m.imported, imported{file: file, pkg: pkg})
				}
				sim.log.Info("checkpointtest: import finished", "member", m.name, "file", file, "imported", valid)
				sim.notifyLocked()
			})
		}
		return sshsim.Reply{Output: "Preparing package for import. This operation might take a few moments\n" +
			"Note: The selected package will be copied into CPUSE repository\n" +
			"Info: Initiating import of " + file + "..."}
	case w[1] == "verify" && len(w) == 3:
		i, ok := m.findImportedLocked(w[2])
		if !ok {
			return fail("Error: Package " + w[2] + " was not found in the repository")
		}
		verb := "Upgrade"
		if i.pkg.Kind == KindJumbo {
			verb = "Installation"
		}
		res := verb + ": " + verb + " is allowed."
		if ok, why := m.allowedLocked(i.pkg); !ok {
			res = verb + ": " + verb + " is not allowed. Reason: " + why + "."
		}
		return sshsim.Reply{Output: "Info: Initiating verify of " + i.file + "...\nResult: Verifier results:\n" + res}
	case (w[1] == "upgrade" || w[1] == "install") && len(w) == 3:
		i, ok := m.findImportedLocked(w[2])
		if !ok {
			return fail("Error: Package " + w[2] + " was not found in the repository")
		}
		if ok, why := m.allowedLocked(i.pkg); !ok {
			return fail("Error: Cannot " + w[1] + " " + i.file + ": " + why)
		}
		if m.applying {
			return fail("Error: Another installation is in progress")
		}
		start := func() sshsim.Reply {
			m.applying = true
			pkg := i.pkg
			sim.log.Info("checkpointtest: installation started", "member", m.name, "file", i.file)
			return sshsim.Reply{
				Output: "Info: Initiating " + w[1] + " of " + i.file + "...\n" +
					"Info: The machine will reboot automatically at the end of the " + w[1] + ".",
				After: func() {
					sim.mu.Lock()
					defer sim.mu.Unlock()
					if sim.closed {
						return
					}
					if sim.opts.ApplyDelay <= 0 {
						sim.rebootLocked(m, &pkg, false)
						return
					}
					sim.afterLocked(sim.opts.ApplyDelay, func() { sim.rebootLocked(m, &pkg, false) })
				},
			}
		}
		if !interactive {
			return start()
		}
		return sshsim.Reply{Ask: upgradeAsk, OnAnswer: func(_ *sshsim.Session, a string) sshsim.Reply {
			sim.mu.Lock()
			defer sim.mu.Unlock()
			if a = strings.TrimSpace(a); a != "y" && a != "yes" {
				return sshsim.Reply{Output: "Info: Operation cancelled."}
			}
			return start()
		}}
	}
	return fail(invalidText(strings.Join(w, " ")))
}

// rebootCommandLocked answers `reboot`: the member reboots after ApplyDelay
// without handing over first.
func (m *Member) rebootCommandLocked() sshsim.Reply {
	sim := m.sim
	m.applying = true
	return sshsim.Reply{
		Output: "The system is going down for reboot NOW!",
		After: func() {
			sim.mu.Lock()
			defer sim.mu.Unlock()
			if sim.closed {
				return
			}
			sim.afterLocked(sim.opts.ApplyDelay, func() { sim.rebootLocked(m, nil, false) })
		},
	}
}
