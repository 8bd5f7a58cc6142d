package checkpointtest

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hitless/hitless/internal/sshsim"
	"github.com/hitless/hitless/versionpath"
)

// The Maestro CLI texts below are UNVERIFIED: hand-written from the
// Maestro Administration Guide (R81.20, R82), no public capture (the asg
// stat -v layout extends the R76SP.10 Security System Administration
// Guide's sample, 109325.htm, to the R81+ "Site" sections).

// refuseAllText is the gClish refusal of an upgrade of every SGM at once
// (INVENTED code and wording).
const refuseAllText = "CLINFR0409  Operation not allowed.\n" +
	"Error: Upgrading all SGMs of the Security Group at once would stop traffic; give member_ids with a subset of the SGMs"

// --- SG endpoint ---

// sgPrompt is the SG endpoint's SessionPrompt (gClish "sg1-ch01-01> ",
// Expert "[Expert@sg1-ch01-01:0]# ").
func (mz *Maestro) sgPrompt(s *sshsim.Session) string { return mz.sgHost.prompt(s) }

// normalizeCmd collapses white space.
func normalizeCmd(line string) string { return strings.Join(strings.Fields(line), " ") }

// syncSGHostLocked makes the SG endpoint's software facts the SMO's (fw
// ver, cpinfo, $FWDIR, installer verify on the SG answer for the SMO).
func (mz *Maestro) syncSGHostLocked(smo *maestroSGM) {
	h := mz.sgHost
	h.release, h.build, h.take, h.embeddedTake = smo.release, smo.build, smo.take, smo.embeddedTake
	h.mvc = smo.mvc
}

// sgHandle answers one command line on the SG endpoint.
func (mz *Maestro) sgHandle(s *sshsim.Session, line string) sshsim.Reply {
	core := mz.core
	core.mu.Lock()
	defer core.mu.Unlock()
	smo := mz.smoLocked()
	if smo == nil || core.closed {
		return sshsim.Reply{} // nobody answers: the session is being dropped
	}
	cmd := normalizeCmd(line)
	mz.recordLocked(mz.opts.Name, cmd)
	mz.syncSGHostLocked(smo)
	h := mz.sgHost
	st := h.stateLocked(s)
	if st.expert {
		env := &shellEnv{m: h, s: s, st: st, vs: &st.vs, login: true, shell: "-bash", top: true, ext: mz.sgExt}
		// No stderr in the simulator: discarding it changes nothing.
		out, rc := h.runLocked(env, devNullRe.ReplaceAllString(line, ""))
		st.rc = rc
		if env.exit {
			st.expert = false
		}
		return sshsim.Reply{Output: out, ExitStatus: rc}
	}
	r := mz.sgClishLocked(s, st, cmd)
	if r.Ask == "" && st.rows > 0 && s.Term() != "" {
		r = paged(r, st.rows)
	}
	return r
}

// sgClishCommands are the gClish commands the SG endpoint knows, for the
// "Incomplete command" answer.
var sgClishCommands = []string{
	"show cluster configuration image auto-clone state", "set cluster configuration image auto-clone state",
	"show installer packages imported", "show installer packages installed", "show version all",
	"installer import local", "installer verify", "installer upgrade", "installer install",
	"lock database override", "set clienv rows",
}

// sgClishLocked answers one gClish command on the SG endpoint.
func (mz *Maestro) sgClishLocked(s *sshsim.Session, st *sessState, cmd string) sshsim.Reply {
	h := mz.sgHost
	w := strings.Fields(cmd)
	out := func(text string) sshsim.Reply { return sshsim.Reply{Output: text} }
	fail := func(text string) sshsim.Reply { return sshsim.Reply{Output: text, ExitStatus: 1} }
	switch {
	case cmd == "show cluster configuration image auto-clone state":
		if mz.autoClone {
			return out("Image auto-clone state: on")
		}
		return out("Image auto-clone state: off")
	case len(w) == 7 && strings.Join(w[:6], " ") == "set cluster configuration image auto-clone state" &&
		(w[6] == "on" || w[6] == "off"):
		if !h.takeLockLocked(s) {
			return fail(lockPresentText)
		}
		mz.autoClone = w[6] == "on"
		mz.log.Info("checkpointtest: image auto-clone", "on", mz.autoClone)
		mz.core.notifyLocked()
		return out("")
	case len(w) >= 3 && w[0] == "installer" && (w[1] == "upgrade" || w[1] == "install"):
		return mz.sgInstallerLocked(s, w)
	case cmd == "lock database override", cmd == "expert", cmd == "exit", cmd == "quit",
		cmd == "show installer packages imported", cmd == "show installer packages installed",
		cmd == "show version all",
		len(w) >= 2 && w[0] == "installer" && (w[1] == "import" || w[1] == "verify"),
		len(w) == 4 && strings.Join(w[:3], " ") == "set clienv rows",
		len(w) > 0 && (w[0] == "fw" || w[0] == "cpinfo"):
		return h.clishLocked(s, st, cmd)
	}
	for _, k := range sgClishCommands {
		kw := strings.Fields(k)
		if len(w) > 0 && len(w) < len(kw) && slices.Equal(w, kw[:len(w)]) {
			return fail(incomplete)
		}
	}
	return fail(invalidText(cmd))
}

// sgInstallerLocked answers gClish `installer upgrade|install <pkg>
// member_ids <ids> [not-interactive]`: the listed SGMs reboot into the
// package after ApplyDelay. Refused without member_ids, for "all" and for
// a list of every SGM (that would stop traffic).
func (mz *Maestro) sgInstallerLocked(s *sshsim.Session, w []string) sshsim.Reply {
	h, core := mz.sgHost, mz.core
	fail := func(text string) sshsim.Reply { return sshsim.Reply{Output: text, ExitStatus: 1} }
	interactive := true
	if w[len(w)-1] == "not-interactive" {
		interactive = false
		w = w[:len(w)-1]
	}
	if len(w) != 3 && (len(w) != 5 || w[3] != "member_ids") {
		return fail(invalidText(strings.Join(w, " ")))
	}
	if !h.takeLockLocked(s) {
		return fail(lockPresentText)
	}
	i, ok := h.findImportedLocked(w[2])
	if !ok {
		return fail("Error: Package " + w[2] + " was not found in the repository")
	}
	if len(w) == 3 || strings.EqualFold(w[4], "all") {
		return fail(refuseAllText)
	}
	targets, err := mz.parseSGMsLocked(w[4])
	if err != nil {
		return fail("Error: Invalid member_ids '" + w[4] + "': " + err.Error())
	}
	if len(targets) == len(mz.sgms) {
		return fail(refuseAllText)
	}
	for _, g := range targets {
		if g.down {
			return fail("Error: SGM " + g.name + " is not reachable")
		}
		if g.applying {
			return fail("Error: Another installation is in progress on SGM " + g.name)
		}
		if ok, why := g.allowedLocked(i.pkg); !ok {
			return fail("Error: Cannot " + w[1] + " " + i.file + " on SGM " + g.name + ": " + why)
		}
	}
	ids := sgmNames(targets)
	start := func() sshsim.Reply {
		pkg := i.pkg
		for _, g := range targets {
			g.applying = true
		}
		mz.log.Info("checkpointtest: SG installation started", "file", i.file, "sgms", ids)
		return sshsim.Reply{
			Output: "Info: Initiating " + w[1] + " of " + i.file + " on SGMs " + ids + "...\n" +
				"Info: The SGMs will reboot automatically at the end of the " + w[1] + ".",
			After: func() {
				core.mu.Lock()
				defer core.mu.Unlock()
				core.afterLocked(mz.opts.ApplyDelay, func() {
					for _, g := range targets {
						mz.rebootSGMLocked(g, &pkg, false)
					}
				})
			},
		}
	}
	if !interactive {
		return start()
	}
	return sshsim.Reply{Ask: upgradeAsk, OnAnswer: func(_ *sshsim.Session, a string) sshsim.Reply {
		core.mu.Lock()
		defer core.mu.Unlock()
		if a = strings.TrimSpace(a); a != "y" && a != "yes" {
			return sshsim.Reply{Output: "Info: Operation cancelled."}
		}
		return start()
	}}
}

var sgmIDRe = regexp.MustCompile(`^(\d{1,2})_(\d{1,2})$`)

// parseSGMsLocked reads an SGM list "1_1,1_2,2_01" (canonical or
// zero-padded ids) into SGMs in site/number order, without duplicates.
func (mz *Maestro) parseSGMsLocked(list string) ([]*maestroSGM, error) {
	want := map[*maestroSGM]bool{}
	for _, raw := range strings.Split(list, ",") {
		m := sgmIDRe.FindStringSubmatch(strings.TrimSpace(raw))
		if m == nil {
			return nil, fmt.Errorf("%q is not an SGM id <site>_<n>", raw)
		}
		site, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		g := mz.sgm(sgmID(site, n))
		if g == nil {
			return nil, fmt.Errorf("no SGM %s", sgmID(site, n))
		}
		want[g] = true
	}
	var out []*maestroSGM
	for _, g := range mz.sgms {
		if want[g] {
			out = append(out, g)
		}
	}
	return out, nil
}

// sgmNames joins canonical ids with commas.
func sgmNames(gs []*maestroSGM) string {
	ids := make([]string, 0, len(gs))
	for _, g := range gs {
		ids = append(ids, g.name)
	}
	return strings.Join(ids, ",")
}

// padded is an SGM id as g_all banners print it, "1_01".
func (g *maestroSGM) padded() string { return fmt.Sprintf("%d_%02d", g.site, g.n) }

// sgExt answers the Maestro Expert commands on the SG endpoint; other
// commands fall through to the shared member shell (ok=false).
func (mz *Maestro) sgExt(env *shellEnv, argv []string) (string, int, bool) {
	args := argv[1:]
	joined := strings.Join(args, " ")
	smo := mz.smoLocked()
	switch {
	case argv[0] == "asg":
		if joined == "stat -v" || joined == "stat" {
			return mz.asgStatLocked(), 0, true
		}
		return "Usage: asg stat [-v]\n", 1, true
	case argv[0] == "g_all":
		out, rc := mz.gAllLocked(env, args)
		return out, rc, true
	case argv[0] == "g_clusterXL_admin":
		out, rc := mz.gAdminLocked(args)
		return out, rc, true
	case argv[0] == "sp_upgrade":
		out, rc := mz.spUpgradeLocked(args)
		return out, rc, true
	case argv[0] == "migrate_server" || strings.HasSuffix(argv[0], "/scripts/migrate_server"):
		out, rc := mz.verifierLocked(args)
		return out, rc, true
	case argv[0] == "clish" && len(args) == 2 && args[0] == "-c":
		r := mz.sgClishLocked(env.s, &sessState{}, normalizeCmd(args[1]))
		if r.Ask != "" {
			return "clish: interactive commands are not supported with -c by the simulator\n", 1, true
		}
		return withNewline(r.Output), r.ExitStatus, true
	case argv[0] == "clusterXL_admin":
		return "clusterXL_admin: on a Security Group use g_clusterXL_admin -b <SGM ids> <up|down>\n", 1, true
	case argv[0] == "grep" && slices.ContainsFunc(args, func(a string) bool { return a == "-H" || strings.Contains(a, "*") }):
		out, rc := mz.grepFilesLocked(args)
		return out, rc, true
	case (argv[0] == "cphaprob" || argv[0] == "cphaconf") && smo != nil:
		// Cluster commands on the SG run on the SMO.
		senv := &shellEnv{m: smo.Member, s: env.s, st: env.st, vs: env.vs, login: env.login, shell: env.shell}
		out, rc := smo.simpleLocked(senv, argv)
		return out, rc, true
	}
	return "", 0, false
}

// asgStatLocked renders `asg stat -v` in the contract's R81+ shape: 80
// columns, dash lines, the header rows, then one section per site.
func (mz *Maestro) asgStatLocked() string {
	dash := strings.Repeat("-", 80) + "\n"
	row := func(text string) string { return fmt.Sprintf("| %-77s|\n", text) }
	kv := func(k, v string) string { return fmt.Sprintf("| %-21s| %-54s|\n", k, v) }
	var b strings.Builder
	b.WriteString(dash)
	if mz.opts.VSX {
		b.WriteString(row("VSX System Status - Maestro"))
		b.WriteString(dash)
		b.WriteString(row("VS ID: 0 VS Name: " + mz.opts.VSName))
	} else {
		b.WriteString(row("System Status - Maestro"))
	}
	b.WriteString(dash)
	up := time.Since(mz.core.started)
	secs := int(up / time.Second)
	b.WriteString(kv("Up time", fmt.Sprintf("%d days, %02d:%02d:%02d hours", secs/86400, secs/3600%24, secs/60%60, secs%60)))
	n := 0
	for _, g := range mz.sgms {
		if g.forwardingLocked() {
			n++
		}
	}
	b.WriteString(kv("SGMs", fmt.Sprintf("%d / %d", n, len(mz.sgms))))
	if smo := mz.smoLocked(); smo != nil {
		b.WriteString(kv("Version", smo.release+" (Build "+smo.build+")"))
	}
	b.WriteString(dash)
	smo := mz.smoLocked()
	for site := 1; site <= mz.opts.Sites; site++ {
		state := "DOWN"
		for _, g := range mz.sgms {
			if g.site == site && g.forwardingLocked() {
				state = "ACTIVE"
			}
		}
		b.WriteString(row(fmt.Sprintf("Site %d %s", site, state)))
		b.WriteString(dash)
		b.WriteString(fmt.Sprintf("| %-14s%-17s%-21s%-25s|\n", "SGM ID", "State", "Process", "Policy Date"))
		for _, g := range mz.sgms {
			if g.site != site {
				continue
			}
			id := g.name
			if g == smo {
				id += " (local)"
			}
			st, proc, pol := g.statLocked()
			b.WriteString(fmt.Sprintf("| %-14s%-17s%-21s%-25s|\n", id, st, proc, pol))
		}
		b.WriteString(dash)
	}
	return b.String()
}

// gAllLocked runs `g_all [-b <ids>] <cmd>` on every listed SGM that is up
// (rebooting ones are absent) and groups identical outputs under one
// banner "-*- N blades: 1_01 1_02 -*-" ("-*- 1 blade: 1_04 -*-"), groups
// in the order of their first SGM. The exit status is 1 when the command
// failed on some SGM.
func (mz *Maestro) gAllLocked(env *shellEnv, args []string) (string, int) {
	targets := mz.sgms
	if len(args) >= 1 && args[0] == "-b" {
		if len(args) < 2 {
			return "Usage: g_all [-b <SGM ids>] <command>\n", 1
		}
		var err error
		if targets, err = mz.parseSGMsLocked(args[1]); err != nil {
			return "Error: invalid SGM list " + args[1] + ": " + err.Error() + "\n", 1
		}
		args = args[2:]
	}
	if len(args) == 0 {
		return "Usage: g_all [-b <SGM ids>] <command>\n", 1
	}
	inner := strings.Join(args, " ")
	type group struct {
		ids []string
		out string
	}
	var groups []*group
	rc := 0
	for _, g := range targets {
		if g.down {
			continue
		}
		vs := 0
		genv := &shellEnv{m: g.Member, s: env.s, st: &sessState{}, vs: &vs, login: true, shell: "-bash"}
		out, r := g.runLocked(genv, inner)
		out = withNewline(out)
		if r != 0 {
			rc = 1
		}
		i := slices.IndexFunc(groups, func(x *group) bool { return x.out == out })
		if i < 0 {
			groups = append(groups, &group{out: out})
			i = len(groups) - 1
		}
		groups[i].ids = append(groups[i].ids, g.padded())
	}
	var b strings.Builder
	for _, gr := range groups {
		noun := "blades"
		if len(gr.ids) == 1 {
			noun = "blade"
		}
		fmt.Fprintf(&b, "-*- %d %s: %s -*-\n", len(gr.ids), noun, strings.Join(gr.ids, " "))
		b.WriteString(gr.out)
	}
	return b.String(), rc
}

// gAdminLocked answers `g_clusterXL_admin -b <ids> down|up`: one line per
// SGM ("1_1: This member is now administratively DOWN"). A down that would
// leave no SGM forwarding is refused with exit status 1 and changes
// nothing; a rebooting SGM gets an error line and exit status 1.
func (mz *Maestro) gAdminLocked(args []string) (string, int) {
	if len(args) != 3 || args[0] != "-b" || (args[2] != "down" && args[2] != "up") {
		return "Usage: g_clusterXL_admin -b <SGM ids> <up|down>\n", 1
	}
	targets, err := mz.parseSGMsLocked(args[1])
	if err != nil {
		return "Error: invalid SGM list " + args[1] + ": " + err.Error() + "\n", 1
	}
	down := args[2] == "down"
	if down {
		left := 0
		for _, g := range mz.sgms {
			if g.forwardingLocked() && !slices.Contains(targets, g) {
				left++
			}
		}
		if left == 0 {
			return "Error: Setting SGMs " + sgmNames(targets) + " administratively DOWN would leave no SGM " +
				"in state UP (Enforcing Security); the operation was not performed\n", 1
		}
	}
	var b strings.Builder
	rc := 0
	for _, g := range targets {
		if g.down {
			fmt.Fprintf(&b, "%s: Error: SGM is not reachable\n", g.name)
			rc = 1
			continue
		}
		g.adminDown = down
		word := "UP"
		if down {
			word = "DOWN"
		}
		fmt.Fprintf(&b, "%s: This member is now administratively %s\n", g.name, word)
		mz.log.Info("checkpointtest: SGM admin state", "sgm", g.name, "down", down)
	}
	mz.recomputeLocked()
	return b.String(), rc
}

// spUpgradeLocked answers `sp_upgrade --revert -b <ids>`: the listed SGMs
// reboot after ApplyDelay into the image they ran before their last major
// upgrade. An SGM without one, or rebooting, fails the whole command.
func (mz *Maestro) spUpgradeLocked(args []string) (string, int) {
	if len(args) != 3 || args[0] != "--revert" || args[1] != "-b" {
		return "Usage: sp_upgrade --revert -b <SGM ids>\n", 1
	}
	targets, err := mz.parseSGMsLocked(args[2])
	if err != nil {
		return "Error: invalid SGM list " + args[2] + ": " + err.Error() + "\n", 1
	}
	var b strings.Builder
	for _, g := range targets {
		switch {
		case g.down:
			return "Error: SGM " + g.name + " is not reachable\n", 1
		case g.prev == nil:
			return "Error: SGM " + g.name + " has no previous version to revert to\n", 1
		case g.applying:
			return "Error: Another installation is in progress on SGM " + g.name + "\n", 1
		}
		fmt.Fprintf(&b, "Reverting SGM %s from %s to %s (Build %s)...\n", g.name, g.release, g.prev.release, g.prev.build)
	}
	for _, g := range targets {
		g.applying = true
	}
	mz.core.afterLocked(mz.opts.ApplyDelay, func() {
		for _, g := range targets {
			mz.rebootSGMLocked(g, nil, true)
		}
	})
	b.WriteString("The SGMs will reboot now.\n")
	return b.String(), 0
}

// verifierLocked answers `$FWDIR/scripts/migrate_server verify -v
// <target>`.
func (mz *Maestro) verifierLocked(args []string) (string, int) {
	if len(args) != 3 || args[0] != "verify" || args[1] != "-v" {
		return "Usage: migrate_server verify -v <target version>\n", 1
	}
	target := args[2]
	var b strings.Builder
	fmt.Fprintf(&b, "Verifying the configuration for upgrade to %s...\n", target)
	if _, err := (versionpath.CheckPoint{}).Parse(target); err != nil {
		fmt.Fprintf(&b, "Error: Unknown target version %s\nVerification failed.\n", target)
		return b.String(), 1
	}
	if len(mz.opts.VerifierErrors) > 0 {
		for _, e := range mz.opts.VerifierErrors {
			fmt.Fprintf(&b, "Error: %s\n", e)
		}
		b.WriteString("Verification failed.\n")
		return b.String(), 1
	}
	for _, g := range mz.sgms {
		if !g.down {
			fmt.Fprintf(&b, "Checking SGM %s ... done\n", g.name)
		}
	}
	b.WriteString("Verification succeeded.\n")
	return b.String(), 0
}

// grepFilesLocked is `grep [-H] [-i] [-v] PATTERN FILE...` on the SG's
// files, with * globs expanded; -H (or several files) prefixes each line
// with "<file>:".
func (mz *Maestro) grepFilesLocked(args []string) (string, int) {
	var flags []string
	withName := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		if strings.Contains(args[0], "H") {
			withName = true
		}
		flags = append(flags, strings.ReplaceAll(args[0], "H", ""))
		args = args[1:]
	}
	if len(args) < 2 {
		return "Usage: grep [OPTION]... PATTERN [FILE]...\n", 2
	}
	pat, patterns := args[0], args[1:]
	var files []string
	for _, p := range patterns {
		if !strings.Contains(p, "*") {
			files = append(files, p)
			continue
		}
		var hits []string
		for f := range mz.sgHost.files {
			if ok, _ := path.Match(p, f); ok {
				hits = append(hits, f)
			}
		}
		slices.Sort(hits)
		if len(hits) == 0 {
			hits = []string{p} // bash passes an unmatched glob on as is
		}
		files = append(files, hits...)
	}
	withName = withName || len(files) > 1
	var b strings.Builder
	rc := 1
	for _, f := range files {
		data, ok := mz.sgHost.files[path.Clean(f)]
		if !ok {
			fmt.Fprintf(&b, "grep: %s: No such file or directory\n", f)
			rc = 2
			continue
		}
		gflags := slices.DeleteFunc(slices.Clone(flags), func(s string) bool { return s == "-" })
		out, r := grep(append(gflags, pat), string(data))
		if r == 0 {
			if rc != 2 {
				rc = 0
			}
			for l := range strings.Lines(out) {
				if withName {
					b.WriteString(f + ":")
				}
				b.WriteString(l)
			}
		}
	}
	return b.String(), rc
}

// sgUpload is the SG endpoint's SCP sink (the SG's shared file store).
func (mz *Maestro) sgUpload(s *sshsim.Session, up sshsim.Upload) error {
	if err := mz.sgHost.upload(s, up); err != nil {
		return err
	}
	mz.recordUpload(mz.opts.Name, mz.sgHost)
	return nil
}

// recordUpload records the last upload of m as a write of endpoint.
func (mz *Maestro) recordUpload(endpoint string, m *Member) {
	mz.core.mu.Lock()
	defer mz.core.mu.Unlock()
	if n := len(m.uploaded); n > 0 {
		mz.recordLocked(endpoint, "scp "+m.uploaded[n-1])
	}
}

// --- MHO endpoints ---

// handle answers one command line on an MHO: `show asset system` and the
// member CLI (Clish, Expert, installer, fw ver, cpinfo, reboot).
func (h *MaestroHost) handle(s *sshsim.Session, line string) sshsim.Reply {
	mz, m := h.mz, h.mem
	mz.core.mu.Lock()
	defer mz.core.mu.Unlock()
	if m.down || mz.core.closed {
		return sshsim.Reply{} // the reboot is dropping this session
	}
	cmd := normalizeCmd(line)
	mz.recordLocked(m.name, cmd)
	m.commands = append(m.commands, cmd)
	st := m.stateLocked(s)
	if st.expert {
		return m.expertLocked(s, st, line)
	}
	var r sshsim.Reply
	if cmd == "show asset system" {
		r = sshsim.Reply{Output: h.assetLocked()}
	} else {
		r = m.clishLocked(s, st, cmd)
	}
	if r.Ask == "" && st.rows > 0 && s.Term() != "" {
		r = paged(r, st.rows)
	}
	return r
}

// assetLocked renders Clish `show asset system` on an MHO (UNVERIFIED
// lines apart from the contract's "Model: MHO-140").
func (h *MaestroHost) assetLocked() string {
	return "Platform: Maestro Orchestrator\n" +
		"Model: " + h.mz.opts.MHOModel + "\n" +
		fmt.Sprintf("Serial Number: HX%010d\n", 1234567890+h.mem.idx) +
		"CPU Model: Intel(R) Atom(TM)\n"
}

// upload is an MHO's SCP sink.
func (h *MaestroHost) upload(s *sshsim.Session, up sshsim.Upload) error {
	if err := h.mem.upload(s, up); err != nil {
		return err
	}
	h.mz.recordUpload(h.mem.name, h.mem)
	return nil
}
