package junostest

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hitless/hitless/internal/sshsim"
)

// loginBanner is printed once, before the first prompt of a shell session.
const loginBanner = "--- JUNOS %s Kernel 64-bit  JNPR-12.1-20230221.1ed3d4e_buil\n"

// dashes is the line under a "node0:" section header (as in `show
// version` of a chassis cluster).
const dashes = "--------------------------------------------------------------------------"

// stateKey keys the per-session CLI state (sshsim.Session.Set).
const stateKey = "junostest.cli"

// cliState is the CLI state of one SSH session.
type cliState struct {
	greeted  bool
	cfgMode  bool
	ops      []cfgOp // candidate changes since `configure`
	settings map[string]string
}

// cfgOp is one configuration-mode change.
type cfgOp struct {
	op   string
	toks []string
}

func (n *Node) state(sess *sshsim.Session) *cliState {
	if v, ok := sess.Get(stateKey).(*cliState); ok {
		return v
	}
	st := &cliState{settings: map[string]string{}}
	sess.Set(stateKey, st)
	return st
}

// bannerLocked is the banner line of v: "{<RG0 state>:<node>}".
func (s *Sim) bannerLocked(v *Node, now time.Time) string {
	return "{" + s.row(v, v, 0, now).status + ":" + v.name + "}"
}

// prompt is the prompt of sess: a blank line (or, the first time, the login
// banner), the banner line ("{primary:node0}", with "[edit]" in
// configuration mode) and "user@host> " (or "user@host# ").
func (n *Node) prompt(sess *sshsim.Session) string {
	s := n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	st := n.state(sess)
	var b strings.Builder
	if !st.greeted {
		st.greeted = true
		fmt.Fprintf(&b, loginBanner, n.version)
	} else {
		b.WriteString("\n")
	}
	b.WriteString(s.bannerLocked(n, time.Now()))
	if st.cfgMode {
		b.WriteString("[edit]")
	}
	b.WriteString("\n" + sess.User() + "@" + n.hostnameLocked())
	if st.cfgMode {
		b.WriteString("# ")
	} else {
		b.WriteString("> ")
	}
	return b.String()
}

// token is one word of a command line and its byte offset.
type token struct {
	text string
	pos  int
}

// tokenize splits a command line into words: white space separates them,
// double quotes group (and are removed), an unquoted "|" is a word of its
// own.
func tokenize(line string) ([]token, error) {
	var (
		toks []token
		cur  strings.Builder
		in   bool
		pos  int
	)
	flush := func() {
		if in {
			toks = append(toks, token{cur.String(), pos})
			cur.Reset()
			in = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '|':
			flush()
			toks = append(toks, token{"|", i})
		case c == '"':
			if !in {
				in, pos = true, i
			}
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				return nil, errors.New("unterminated quoted string")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
		default:
			if !in {
				in, pos = true, i
			}
			cur.WriteByte(c)
		}
	}
	flush()
	return toks, nil
}

// call is one command being answered.
type call struct {
	s    *Sim
	n    *Node
	sess *sshsim.Session
	st   *cliState
	line string
	toks []token // the command's words (without pipes)
	args []string
	xml  bool
	set  bool
	cmp  bool
	now  time.Time
}

// spec is one CLI command: its words (literals or placeholders) and what
// pipes it supports.
type spec struct {
	words []string
	xml   bool // "| display xml"
	set   bool // "| display set"
	cmp   bool // "| compare"
	run   func(c *call) sshsim.Reply
}

// Placeholders in spec words.
const (
	phNumber = "<number>"
	phNode   = "<node>"
	phWord   = "<word>"
	phRest   = "<rest>" // zero or more remaining words
)

// handle answers one command line of n's CLI.
func (n *Node) handle(sess *sshsim.Session, line string) sshsim.Reply {
	s := n.sim
	cmd := strings.Join(strings.Fields(line), " ")
	if d, ok := longestPrefix(s.opts.Faults.Slow, cmd); ok && d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-sess.Context().Done():
			t.Stop()
			return sshsim.Reply{}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n.commands = append(n.commands, cmd)
	st := n.state(sess)
	r := n.dispatchLocked(sess, st, line, cmd)
	if tp := s.opts.Faults.ThirdPartyCommit; tp != nil && !s.tpDone {
		after := strings.Join(strings.Fields(tp.After), " ")
		if after == "" || cmd == after || strings.HasPrefix(cmd, after+" ") {
			s.tpDone = true
			if err := s.thirdPartyLocked(tp.User, tp.Statements); err != nil {
				s.log.Warn("junostest: third-party commit failed", "err", err)
			}
		}
	}
	return r
}

// dispatchLocked parses and runs one line.
func (n *Node) dispatchLocked(sess *sshsim.Session, st *cliState, line, cmd string) sshsim.Reply {
	s := n.sim
	if text, ok := longestPrefix(s.opts.Faults.CommandError, cmd); ok {
		return errorReply(text)
	}
	toks, err := tokenize(line)
	if err != nil {
		return n.caret(sess, st, len(line), "syntax error, unterminated quoted string.")
	}
	c := &call{s: s, n: n, sess: sess, st: st, line: line, now: time.Now()}
	cmdToks, pipes := toks, [][]token(nil)
	if i := slices.IndexFunc(toks, func(t token) bool { return t.text == "|" }); i >= 0 {
		cmdToks = toks[:i]
		var cur []token
		for _, t := range toks[i+1:] {
			if t.text == "|" {
				pipes = append(pipes, cur)
				cur = nil
				continue
			}
			cur = append(cur, t)
		}
		pipes = append(pipes, cur)
	}
	c.toks = cmdToks
	var filters []func(string) string
	for _, p := range pipes {
		f, perr := c.pipe(p)
		if perr != nil {
			return *perr
		}
		if f != nil {
			filters = append(filters, f)
		}
	}
	specs := opSpecs
	if st.cfgMode {
		specs = cfgSpecs
	}
	r := c.run(specs)
	if r.ExitStatus == 0 {
		for _, f := range filters {
			r.Output = f(r.Output)
		}
	}
	return r
}

// pipe reads one "| ..." clause: it sets the call's flags or returns an
// output filter.
func (c *call) pipe(p []token) (func(string) string, *sshsim.Reply) {
	words := make([]string, len(p))
	for i, t := range p {
		words[i] = t.text
	}
	bad := func(i int) *sshsim.Reply {
		pos := len(c.line) + 1
		if i < len(p) {
			pos = p[i].pos
		}
		r := c.n.caret(c.sess, c.st, pos, "syntax error, expecting <command>.")
		return &r
	}
	switch {
	case len(words) == 0:
		return nil, bad(0)
	case slices.Equal(words, []string{"no-more"}):
	case slices.Equal(words, []string{"display", "xml"}):
		c.xml = true
	case slices.Equal(words, []string{"display", "set"}):
		c.set = true
	case slices.Equal(words, []string{"compare"}):
		c.cmp = true
	case words[0] == "count" && len(words) == 1:
		return func(out string) string {
			return fmt.Sprintf("Count: %d lines\n", strings.Count(out, "\n"))
		}, nil
	case (words[0] == "match" || words[0] == "except") && len(words) == 2:
		re, err := regexp.Compile(words[1])
		if err != nil {
			re = regexp.MustCompile(regexp.QuoteMeta(words[1]))
		}
		keep := words[0] == "match"
		return func(out string) string {
			var b strings.Builder
			for _, l := range strings.SplitAfter(out, "\n") {
				if l != "" && re.MatchString(strings.TrimSuffix(l, "\n")) == keep {
					b.WriteString(l)
				}
			}
			return b.String()
		}, nil
	default:
		if words[0] == "display" || words[0] == "match" || words[0] == "except" {
			return nil, bad(min(1, len(p)))
		}
		return nil, bad(0)
	}
	return nil, nil
}

// run matches c.toks against specs and runs the command.
func (c *call) run(specs []spec) sshsim.Reply {
	sp, args, fail := matchSpecs(specs, c.toks)
	if fail != nil {
		pos := len(c.line) + 1
		if fail.pos < len(c.toks) {
			pos = c.toks[fail.pos].pos
		} else if len(c.toks) > 0 {
			last := c.toks[len(c.toks)-1]
			pos = last.pos + len(last.text) + 1
		}
		return c.n.caret(c.sess, c.st, pos, fail.msg)
	}
	for _, x := range []struct {
		on, ok bool
		name   string
	}{{c.xml, sp.xml, "display xml"}, {c.set, sp.set, "display set"}, {c.cmp, sp.cmp, "compare"}} {
		if x.on && !x.ok {
			return errorReply(fmt.Sprintf("junostest: '| %s' is not simulated for this command", x.name))
		}
	}
	c.args = args
	return sp.run(c)
}

// matchSpecs finds the spec matching toks exactly, or describes why the
// closest one does not match.
func matchSpecs(specs []spec, toks []token) (*spec, []string, *cfgError) {
	var (
		best  *cfgError
		bestK = -1
	)
	for si := range specs {
		sp := &specs[si]
		k, args, fail := matchSpec(sp.words, toks)
		if fail == nil {
			return sp, args, nil
		}
		if k > bestK {
			best, bestK = fail, k
		}
	}
	if best == nil || len(toks) == 0 {
		return nil, nil, &cfgError{msg: "syntax error, expecting <command>.", pos: 0}
	}
	if bestK == 0 {
		return nil, nil, &cfgError{msg: "unknown command.", pos: 0}
	}
	return nil, nil, best
}

// matchSpec matches toks against words: the number of words matched, the
// placeholder values, or why it fails.
func matchSpec(words []string, toks []token) (int, []string, *cfgError) {
	var args []string
	k := 0
	for _, w := range words {
		if w == phRest {
			for _, t := range toks[k:] {
				args = append(args, t.text)
			}
			return len(toks), args, nil
		}
		if k >= len(toks) {
			if strings.HasPrefix(w, "<") {
				return k, nil, &cfgError{msg: "missing mandatory argument.", pos: k}
			}
			return k, nil, &cfgError{msg: "syntax error, expecting <command>.", pos: k}
		}
		t := toks[k].text
		switch w {
		case phNumber, phNode:
			if !isDigits(t) {
				return k, nil, &cfgError{msg: fmt.Sprintf("invalid numeric value: '%s'.", t), pos: k}
			}
			if w == phNode && t != "0" && t != "1" {
				return k, nil, &cfgError{msg: fmt.Sprintf("error: value %s is not within range (0..1)", t), pos: k}
			}
			args = append(args, t)
		case phWord:
			args = append(args, t)
		default:
			if t != w {
				return k, nil, &cfgError{msg: "syntax error, expecting <command>.", pos: k}
			}
		}
		k++
	}
	if k < len(toks) {
		return k, nil, &cfgError{msg: "syntax error.", pos: k}
	}
	return k, args, nil
}

// caret prints a "^" under byte pos of the typed line (after the prompt)
// and msg below it, as the Junos CLI reports a rejected word.
func (n *Node) caret(sess *sshsim.Session, st *cliState, pos int, msg string) sshsim.Reply {
	width := len(sess.User()) + 1 + len(n.hostnameLocked()) + 2 + pos
	return sshsim.Reply{Output: strings.Repeat(" ", width) + "^\n" + msg, ExitStatus: 1}
}

// errorReply prints "error: <text>" (exit status 1 for exec requests).
func errorReply(text string) sshsim.Reply {
	if !strings.HasPrefix(text, "error:") {
		text = "error: " + text
	}
	return sshsim.Reply{Output: text, ExitStatus: 1}
}

func reply(out string) sshsim.Reply { return sshsim.Reply{Output: out} }

// opSpecs are the operational-mode commands.
var opSpecs = []spec{
	{words: []string{"show", "chassis", "cluster", "status"}, xml: true, run: func(c *call) sshsim.Reply { return c.clusterStatus(-1) }},
	{words: []string{"show", "chassis", "cluster", "status", "redundancy-group", phNumber}, xml: true, run: func(c *call) sshsim.Reply {
		g, _ := strconv.Atoi(c.args[0])
		if g >= len(c.s.primary) {
			return errorReply(fmt.Sprintf("redundancy-group %d not configured", g))
		}
		return c.clusterStatus(g)
	}},
	{words: []string{"show", "chassis", "cluster", "interfaces"}, run: func(c *call) sshsim.Reply { return reply(c.s.interfacesText(c.n)) }},
	{words: []string{"show", "version"}, xml: true, run: func(c *call) sshsim.Reply {
		if c.xml {
			return reply(c.s.versionXML(c.n, c.now))
		}
		return reply(c.s.versionText(c.n))
	}},
	{words: []string{"show", "system", "storage"}, xml: true, run: (*call).storage},
	{words: []string{"show", "system", "storage", "no-forwarding"}, xml: true, run: (*call).storage},
	{words: []string{"show", "system", "alarms"}, run: func(c *call) sshsim.Reply { return reply(c.s.alarmsText(c.n, "system")) }},
	{words: []string{"show", "chassis", "alarms"}, run: func(c *call) sshsim.Reply { return reply(c.s.alarmsText(c.n, "chassis")) }},
	{words: []string{"show", "system", "commit"}, run: func(c *call) sshsim.Reply { return reply(c.s.commitsText()) }},
	{words: []string{"show", "configuration", phRest}, set: true, run: func(c *call) sshsim.Reply {
		cfg := c.s.cfg
		if c.set {
			return reply(cfg.displaySet(c.args))
		}
		if len(c.args) == 0 {
			last := c.s.commits[len(c.s.commits)-1]
			return reply("## Last commit: " + stampUTC(last.at) + " by " + last.user + "\n" + cfg.curly(nil))
		}
		return reply(cfg.curly(c.args))
	}},
	{words: []string{"file", "list", phWord}, run: func(c *call) sshsim.Reply { return c.fileList(c.args[0], false) }},
	{words: []string{"file", "list", "detail", phWord}, run: func(c *call) sshsim.Reply { return c.fileList(c.args[0], true) }},
	{words: []string{"file", "show", phWord}, run: (*call).fileShow},
	{words: []string{"file", "copy", phWord, phWord}, run: (*call).fileCopy},
	{words: []string{"file", "delete", phWord}, run: (*call).fileDelete},
	{words: []string{"request", "system", "software", "add", phWord, phRest}, run: (*call).softwareAdd},
	{words: []string{"request", "system", "software", "rollback"}, run: (*call).softwareRollback},
	{words: []string{"request", "system", "reboot"}, run: (*call).reboot},
	{words: []string{"request", "chassis", "cluster", "failover", "redundancy-group", phNumber, "node", phNode}, run: (*call).failover},
	{words: []string{"request", "chassis", "cluster", "failover", "reset", "redundancy-group", phNumber}, run: (*call).failoverReset},
	{words: []string{"set", "cli", "screen-length", phNumber}, run: func(c *call) sshsim.Reply {
		c.st.settings["screen-length"] = c.args[0]
		return reply("Screen length set to " + c.args[0])
	}},
	{words: []string{"set", "cli", "screen-width", phNumber}, run: func(c *call) sshsim.Reply {
		c.st.settings["screen-width"] = c.args[0]
		return reply("Screen width set to " + c.args[0])
	}},
	{words: []string{"set", "cli", "complete-on-space", "off"}, run: func(c *call) sshsim.Reply {
		c.st.settings["complete-on-space"] = "off"
		return reply("Disabling complete-on-space")
	}},
	{words: []string{"set", "cli", "complete-on-space", "on"}, run: func(c *call) sshsim.Reply {
		c.st.settings["complete-on-space"] = "on"
		return reply("Enabling complete-on-space")
	}},
	{words: []string{"configure"}, run: func(c *call) sshsim.Reply { return c.configure(true) }},
	{words: []string{"configure", "private"}, run: func(c *call) sshsim.Reply { return c.configure(false) }},
	{words: []string{"configure", "exclusive"}, run: func(c *call) sshsim.Reply { return c.configure(true) }},
	{words: []string{"exit"}, run: func(*call) sshsim.Reply { return sshsim.Reply{Disconnect: true} }},
	{words: []string{"quit"}, run: func(*call) sshsim.Reply { return sshsim.Reply{Disconnect: true} }},
}

// cfgSpecs are the configuration-mode commands.
var cfgSpecs = []spec{
	{words: []string{"set", phRest}, run: func(c *call) sshsim.Reply { return c.edit("set") }},
	{words: []string{"delete", phRest}, run: func(c *call) sshsim.Reply { return c.edit("delete") }},
	{words: []string{"deactivate", phRest}, run: func(c *call) sshsim.Reply { return c.edit("deactivate") }},
	{words: []string{"activate", phRest}, run: func(c *call) sshsim.Reply { return c.edit("activate") }},
	{words: []string{"show", phRest}, set: true, cmp: true, run: (*call).cfgShow},
	{words: []string{"commit"}, run: func(c *call) sshsim.Reply { return c.commit(false, false) }},
	{words: []string{"commit", "check"}, run: func(c *call) sshsim.Reply { return c.commit(true, false) }},
	{words: []string{"commit", "and-quit"}, run: func(c *call) sshsim.Reply { return c.commit(false, true) }},
	{words: []string{"commit", "comment", phWord}, run: func(c *call) sshsim.Reply { return c.commit(false, false) }},
	{words: []string{"rollback"}, run: (*call).cfgRollback},
	{words: []string{"rollback", "0"}, run: (*call).cfgRollback},
	{words: []string{"top"}, run: func(*call) sshsim.Reply { return sshsim.Reply{} }},
	{words: []string{"exit"}, run: (*call).cfgExit},
	{words: []string{"exit", "configuration-mode"}, run: (*call).cfgExit},
	{words: []string{"quit"}, run: (*call).cfgExit},
	{words: []string{"run", phRest}, xml: true, set: true, run: func(c *call) sshsim.Reply {
		if len(c.toks) < 2 {
			return c.n.caret(c.sess, c.st, len(c.line)+1, "missing mandatory argument.")
		}
		sub := *c
		sub.toks = c.toks[1:]
		return sub.run(opSpecs)
	}},
}

// clusterStatus answers `show chassis cluster status [redundancy-group N]`.
func (c *call) clusterStatus(g int) sshsim.Reply {
	if c.xml {
		return reply(c.s.statusXML(c.n, g, c.now))
	}
	return reply(c.s.statusText(c.n, g, c.now))
}

func (c *call) storage() sshsim.Reply {
	if c.xml {
		return reply(c.s.storageXML(c.n, c.now))
	}
	return reply(c.s.storageText(c.n))
}

// failover answers `request chassis cluster failover redundancy-group N node
// X`: the target becomes primary at once, Manual yes and priority 255; for
// RG0 the old primary stays secondary-hold for HoldDown.
func (c *call) failover() sshsim.Reply {
	s := c.s
	g, _ := strconv.Atoi(c.args[0])
	x, _ := strconv.Atoi(c.args[1])
	target := s.nodes[x]
	switch {
	case s.opts.Faults.FailoverRefused != "":
		return errorReply(s.opts.Faults.FailoverRefused)
	case g >= len(s.primary):
		return errorReply(fmt.Sprintf("redundancy-group %d not configured", g))
	case !s.sees(c.n, target):
		return errorReply(fmt.Sprintf("Manual failover is not permitted: node%d is lost (redundancy-group %d)", x, g))
	case target.disabled:
		return errorReply(fmt.Sprintf("Manual failover is not permitted: node%d is disabled (redundancy-group %d)", x, g))
	case s.primary[g] == x && !target.down:
		return errorReply(fmt.Sprintf("Manual failover is not permitted: node%d is already primary of redundancy-group %d", x, g))
	case len(target.monitor[g]) > 0 || g > 0 && target.coldLocked(c.now):
		return errorReply(fmt.Sprintf("Manual failover is not permitted: node%d has priority 0 in redundancy-group %d (monitor failures)", x, g))
	case g == 0 && c.now.Before(target.holdUntil):
		return errorReply(fmt.Sprintf("Manual failover is not permitted: node%d is in secondary-hold state for redundancy-group 0 until the hold-down interval has passed", x))
	}
	old := s.primary[g]
	s.manual[g] = true
	s.setPrimaryLocked(g, target)
	if g == 0 && old >= 0 && old != x && s.opts.HoldDown > 0 {
		s.nodes[old].holdUntil = c.now.Add(s.opts.HoldDown)
		s.afterLocked(s.opts.HoldDown, s.afterChangeLocked)
	}
	s.afterChangeLocked()
	return reply(fmt.Sprintf("node%d:\n%s\nInitiated manual failover for redundancy group %d", x, dashes, g))
}

// failoverReset answers `request chassis cluster failover reset
// redundancy-group N`: Manual back to no, priorities back to the configured
// ones (preempt may then move the group).
func (c *call) failoverReset() sshsim.Reply {
	s := c.s
	g, _ := strconv.Atoi(c.args[0])
	if g >= len(s.primary) {
		return errorReply(fmt.Sprintf("redundancy-group %d not configured", g))
	}
	var parts []string
	for _, n := range s.nodes {
		if !s.sees(c.n, n) {
			continue
		}
		msg := fmt.Sprintf("No reset required for redundancy group %d.", g)
		if s.manual[g] && s.primary[g] == n.idx {
			msg = fmt.Sprintf("Successfully reset manual failover for redundancy group %d", g)
		}
		parts = append(parts, n.name+":\n"+dashes+"\n"+msg+"\n")
	}
	s.manual[g] = false
	s.afterChangeLocked()
	return reply(strings.Join(parts, "\n"))
}

// reboot answers `request system reboot` with the confirmation question;
// "yes" reboots the node after RebootDelay.
func (c *call) reboot() sshsim.Reply {
	s, n := c.s, c.n
	return sshsim.Reply{
		Ask: "Reboot the system ? [yes,no] (no)",
		OnAnswer: func(_ *sshsim.Session, answer string) sshsim.Reply {
			if strings.TrimSpace(answer) != "yes" {
				return sshsim.Reply{}
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if n.down || n.rebooting {
				return errorReply("another reboot is already in progress")
			}
			n.rebooting = true
			s.log.Info("junostest: reboot requested", "node", n.name)
			return sshsim.Reply{Output: "\nShutdown NOW!\n[pid 4242]", After: func() { s.scheduleReboot(n) }}
		},
	}
}

// scheduleReboot takes n down after RebootDelay.
func (s *Sim) scheduleReboot(n *Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.opts.RebootDelay <= 0 {
		s.startRebootLocked(n, false)
		return
	}
	s.afterLocked(s.opts.RebootDelay, func() { s.startRebootLocked(n, false) })
}

// addOptions are the options of `request system software add`.
var addOptions = []string{"no-copy", "no-validate", "reboot", "unlink", "validate"}

// softwareAdd answers `request system software add <path> [no-copy]
// [no-validate] [reboot] [unlink]` (see the package documentation for the
// outputs).
func (c *call) softwareAdd() sshsim.Reply {
	s, n := c.s, c.n
	pkgPath, opts := c.args[0], c.args[1:]
	has := func(o string) bool { return slices.Contains(opts, o) }
	for i, o := range opts {
		if !slices.Contains(addOptions, o) {
			return c.n.caret(c.sess, c.st, c.toks[5+i].pos, "syntax error.")
		}
	}
	name := path.Base(pkgPath)
	f, ok := n.files[pkgPath]
	if !ok || len(f.data) == 0 {
		return errorReply(pkgPath + " is not found or empty")
	}
	if n.pending != "" {
		return reply("There is already an install pending.\n" +
			"    Use the 'request system reboot' command to complete the install,\n" +
			"    or the 'request system software rollback' command to back it out.")
	}
	var b strings.Builder
	validate := !has("no-validate")
	if validate {
		fmt.Fprintf(&b, "NOTICE: Validating configuration against %s.\n", name)
		b.WriteString("NOTICE: Use the 'no-validate' option to skip this if desired.\n")
	}
	platform, version, valid := readPackage(f.data)
	if !valid {
		fmt.Fprintf(&b, "ERROR: %s: package signature verification failed\n", pkgPath)
		return sshsim.Reply{Output: b.String(), ExitStatus: 1}
	}
	b.WriteString("Verified manifest signed by PackageProductionECP256_2023 method ECDSA256+SHA256\n")
	if platform != PackagePlatform || s.opts.Faults.WrongPlatform == n.name {
		fmt.Fprintf(&b, "ERROR: package %s is not valid for this platform (vsrx)\n", strings.TrimSuffix(name, ".tgz"))
		return sshsim.Reply{Output: b.String(), ExitStatus: 1}
	}
	factor := int64(3)
	if has("no-copy") {
		factor = 2
	}
	need, avail := factor*int64(len(f.data)), n.varAvailLocked()
	if avail < need {
		fmt.Fprintf(&b, "ERROR: insufficient space in /var to install %s (%d bytes needed, %d bytes available)\n", name, need, avail)
		return sshsim.Reply{Output: b.String(), ExitStatus: 1}
	}
	if validate {
		b.WriteString("Checking compatibility with configuration\nInitializing...\n")
		fmt.Fprintf(&b, "Using %s\n", pkgPath)
		b.WriteString("Hardware Database regeneration succeeded\n")
		b.WriteString("Validating against /config/juniper.conf.gz\n")
		if s.opts.Faults.ValidationFails == n.name {
			b.WriteString("mgd: error: configuration check-out failed\nValidation failed\n")
			fmt.Fprintf(&b, "ERROR: Current configuration not compatible with %s\n", pkgPath)
			return sshsim.Reply{Output: b.String(), ExitStatus: 1}
		}
		b.WriteString("mgd: commit complete\nValidation succeeded\n")
		b.WriteString("Validating against /config/rescue.conf.gz\nmgd: commit complete\nValidation succeeded\n")
	}
	if s.opts.AddOutput == AddLegacy {
		fmt.Fprintf(&b, "Installing package '/altroot/cf/packages/install-tmp/junos-%s' ...\n", version)
		fmt.Fprintf(&b, "Verified junos-boot-vsrx-%s.tgz signed by PackageProductionEc_2019 method ECDSA256+SHA256\n", version)
		fmt.Fprintf(&b, "Verified junos-vsrx-%s signed by PackageProductionEc_2019 method ECDSA256+SHA256\n", version)
		fmt.Fprintf(&b, "JUNOS %s will become active at next reboot\n", version)
		b.WriteString("WARNING: A reboot is required to load this software correctly\n")
		b.WriteString("WARNING:     Use the 'request system reboot' command\n")
		b.WriteString("WARNING:         when software installation is complete\n")
		b.WriteString("Saving state for rollback ...\n")
	} else {
		fmt.Fprintf(&b, "Installing package '%s' ...\n", pkgPath)
		fmt.Fprintf(&b, "Verified %s signed by PackageProductionECP256_2023 method ECDSA256+SHA256\n", strings.TrimSuffix(name, ".tgz"))
		fmt.Fprintf(&b, "Adding junos-x86-64-%s ...\n", version)
		b.WriteString("Saving the config files ...\n")
		b.WriteString("NOTICE: 'pending' set will be activated at next reboot...\n")
		b.WriteString("WARNING: A reboot is required to install the software\n")
		b.WriteString("WARNING:     Use the 'request system reboot' command immediately\n")
	}
	if has("unlink") {
		delete(n.files, pkgPath)
		fmt.Fprintf(&b, "Removing %s\n", pkgPath)
	}
	n.pending = version
	s.log.Info("junostest: software added", "node", n.name, "pending", version)
	s.notifyLocked()
	r := reply(b.String())
	if has("reboot") && !n.rebooting {
		n.rebooting = true
		r.Output += "Rebooting ...\nShutdown NOW!\n[pid 4243]\n"
		r.After = func() { s.scheduleReboot(n) }
	}
	return r
}

// softwareRollback answers `request system software rollback`: it backs a
// pending install out, or else makes the previous version pending.
func (c *call) softwareRollback() sshsim.Reply {
	n := c.n
	switch {
	case n.pending != "":
		n.pending = ""
		c.s.notifyLocked()
		return reply(fmt.Sprintf("Junos version '%s' will become active at next reboot", n.version))
	case n.previous != "":
		n.pending = n.previous
		c.s.notifyLocked()
		return reply(fmt.Sprintf("Junos version '%s' will become active at next reboot\n"+
			"WARNING: A reboot is required to load this software correctly\n"+
			"WARNING:     Use the 'request system reboot' command\n"+
			"WARNING:         when software installation is complete", n.previous))
	}
	return errorReply("rollback is not possible: there is no other software version to roll back to")
}

// resolveFile reads "[nodeN:]/var/tmp/<name>" relative to c.n: the node and
// the path (name defaults to defName for a directory).
func (c *call) resolveFile(spec, defName string) (*Node, string, error) {
	n := c.n
	if node, p, ok := strings.Cut(spec, ":"); ok {
		n = c.s.NodeByName(node)
		if n == nil {
			return nil, "", fmt.Errorf("invalid host name %q", node)
		}
		spec = p
	}
	t := strings.TrimSuffix(spec, "/")
	if t == "/var/tmp" {
		if defName == "" {
			return n, "/var/tmp", nil
		}
		t = "/var/tmp/" + defName
	}
	if !strings.HasPrefix(t, "/var/tmp/") || !tmpNameRe.MatchString(strings.TrimPrefix(t, "/var/tmp/")) {
		return nil, "", fmt.Errorf("junostest: only files in /var/tmp are simulated: %s", spec)
	}
	return n, t, nil
}

// fileList answers `file list [detail] /var/tmp[/<name>]`.
func (c *call) fileList(spec string, detail bool) sshsim.Reply {
	n, p, err := c.resolveFile(spec, "")
	if err != nil {
		return errorReply(err.Error())
	}
	line := func(p string, f file) string {
		if !detail {
			return path.Base(p)
		}
		return fmt.Sprintf("-rw-r--r--  1 %-5s wheel %10d %s %s", c.s.opts.Username, len(f.data), f.at.UTC().Format("Jan _2 15:04"), path.Base(p))
	}
	if p != "/var/tmp" {
		f, ok := n.files[p]
		if !ok {
			return reply(p + ": No such file or directory")
		}
		out := line(p, f)
		if detail {
			out = strings.Replace(out, path.Base(p), p, 1)
		}
		return reply(out)
	}
	names := make([]string, 0, len(n.files))
	for fp := range n.files {
		names = append(names, fp)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("/var/tmp/:\n")
	var blocks int64
	for _, fp := range names {
		blocks += (int64(len(n.files[fp].data)) + 511) / 512
	}
	if detail {
		fmt.Fprintf(&b, "total blocks: %d\n", blocks)
	}
	for _, fp := range names {
		b.WriteString(line(fp, n.files[fp]) + "\n")
	}
	if detail {
		fmt.Fprintf(&b, "total files: %d\n", len(names))
	}
	return reply(b.String())
}

// fileShow answers `file show /var/tmp/<name>` with the file's content.
func (c *call) fileShow() sshsim.Reply {
	n, p, err := c.resolveFile(c.args[0], "")
	if err != nil || p == "/var/tmp" {
		return errorReply("could not resolve file: " + c.args[0])
	}
	f, ok := n.files[p]
	if !ok {
		return errorReply("could not resolve file: " + p)
	}
	return reply(string(f.data))
}

// fileCopy answers `file copy <src> <dst>` between /var/tmp of either node
// ("node1:/var/tmp/" names the peer).
func (c *call) fileCopy() sshsim.Reply {
	s := c.s
	sn, sp, err := c.resolveFile(c.args[0], "")
	if err != nil || sp == "/var/tmp" {
		return errorReply("file-copy failed: invalid source " + c.args[0])
	}
	dn, dp, err := c.resolveFile(c.args[1], path.Base(sp))
	if err != nil {
		return errorReply("file-copy failed: " + err.Error())
	}
	for _, x := range []*Node{sn, dn} {
		if !s.sees(c.n, x) {
			return errorReply("file-copy failed: " + x.name + " is not reachable")
		}
	}
	f, ok := sn.files[sp]
	if !ok {
		return errorReply("file-copy failed: " + sp + ": No such file or directory")
	}
	if int64(len(f.data))-int64(len(dn.files[dp].data)) > dn.varAvailLocked() {
		return errorReply("file-copy failed: " + dp + ": No space left on device")
	}
	dn.files[dp] = file{data: slices.Clone(f.data), at: c.now}
	s.notifyLocked()
	return sshsim.Reply{}
}

// fileDelete answers `file delete /var/tmp/<name>`.
func (c *call) fileDelete() sshsim.Reply {
	n, p, err := c.resolveFile(c.args[0], "")
	if err != nil || p == "/var/tmp" {
		return errorReply("could not delete " + c.args[0])
	}
	if _, ok := n.files[p]; !ok {
		return errorReply("could not delete " + p + ": No such file or directory")
	}
	delete(n.files, p)
	c.s.notifyLocked()
	return sshsim.Reply{}
}

// configure enters configuration mode (private edit on a cluster).
func (c *call) configure(clusterWarning bool) sshsim.Reply {
	c.st.cfgMode = true
	c.st.ops = nil
	out := "warning: uncommitted changes will be discarded on exit\nEntering configuration mode"
	if clusterWarning {
		out = "warning: Clustering enabled; using private edit\n" + out
	}
	return reply(out)
}

// candidate is the committed configuration with the session's changes.
func (c *call) candidate() *config {
	cfg := c.s.cfg.clone()
	for _, op := range c.st.ops {
		_, _ = cfg.apply(op.op, op.toks)
	}
	return cfg
}

// edit runs set/delete/deactivate/activate on the candidate.
func (c *call) edit(op string) sshsim.Reply {
	cand := c.candidate()
	warning, err := cand.apply(op, c.args)
	if err != nil {
		pos := len(c.line) + 1
		if i := err.pos + 1; err.pos >= 0 && i < len(c.toks) {
			pos = c.toks[i].pos
		}
		return c.n.caret(c.sess, c.st, pos, err.msg)
	}
	if warning != "" {
		return reply(warning)
	}
	c.st.ops = append(c.st.ops, cfgOp{op: op, toks: slices.Clone(c.args)})
	return sshsim.Reply{}
}

// cfgShow answers `show [path] [| compare] [| display set]` in
// configuration mode.
func (c *call) cfgShow() sshsim.Reply {
	cand := c.candidate()
	switch {
	case c.cmp:
		return reply(compare(c.s.cfg, cand))
	case c.set:
		return reply(cand.displaySet(c.args))
	case len(c.args) == 0:
		last := c.s.commits[len(c.s.commits)-1]
		return reply("## Last changed: " + stampUTC(last.at) + "\n" + cand.curly(nil))
	}
	return reply(cand.curly(c.args))
}

// commit answers `commit`, `commit check` and `commit and-quit`.
func (c *call) commit(check, quit bool) sshsim.Reply {
	s := c.s
	cand := c.candidate()
	if text, err := checkCommit(s.cfg, cand, len(s.primary), s.opts.Faults.PreemptLocked); err != nil {
		return sshsim.Reply{Output: text, ExitStatus: 1}
	}
	if check {
		return reply("configuration check succeeds")
	}
	s.cfg = cand
	s.commits = append(s.commits, commitInfo{at: c.now, user: c.sess.User(), via: "cli"})
	c.st.ops = nil
	s.log.Info("junostest: commit", "node", c.n.name, "user", c.sess.User())
	s.afterChangeLocked()
	var b strings.Builder
	local, peer := c.n, c.n.peer()
	fmt.Fprintf(&b, "%s:\nconfiguration check succeeds\n", local.name)
	if s.sees(local, peer) {
		fmt.Fprintf(&b, "%s:\ncommit complete\n", peer.name)
	}
	fmt.Fprintf(&b, "%s:\ncommit complete\n", local.name)
	if quit {
		c.st.cfgMode = false
		b.WriteString("Exiting configuration mode\n")
	}
	return reply(b.String())
}

func (c *call) cfgRollback() sshsim.Reply {
	c.st.ops = nil
	return reply("load complete")
}

func (c *call) cfgExit() sshsim.Reply {
	c.st.cfgMode = false
	c.st.ops = nil
	return reply("Exiting configuration mode")
}

// stampUTC formats t as Junos prints commit times: "2024-01-10 12:00:00 UTC".
func stampUTC(t time.Time) string { return t.UTC().Format(time.DateTime) + " UTC" }
