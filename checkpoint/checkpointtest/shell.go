package checkpointtest

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/hitless/hitless/internal/sshsim"
)

// shellEnv is the context of one Expert mode (bash) command line.
type shellEnv struct {
	m     *Member
	s     *sshsim.Session
	st    *sessState
	vs    *int   // VS context the commands run in
	login bool   // a login shell: the vsenv function is defined
	shell string // name in "command not found" messages: "-bash", "bash", "sh"
	top   bool   // the interactive Expert shell itself (exit leaves it)
	exit  bool   // set by exit at top level
	// ext, when set, answers a simple command before the member's own
	// commands (ok=false: not one of its commands); the Maestro SG shell.
	ext func(env *shellEnv, argv []string) (out string, rc int, ok bool)
}

// token is one word or operator of a command line.
type token struct {
	s  string
	op bool // an operator: && || ; | > >>
}

// lex splits a command line into words and operators with POSIX quoting
// (single quotes, double quotes with backslash escapes, backslash) and
// expands $NAME, ${NAME} and $? outside single quotes.
func lex(line string, vars func(string) string) ([]token, error) {
	var (
		toks []token
		cur  strings.Builder
		in   bool
	)
	flush := func() {
		if in {
			toks = append(toks, token{s: cur.String()})
			cur.Reset()
			in = false
		}
	}
	expand := func(i int) int { // s[i] == '$'; returns the index of the last byte used
		rest := line[i+1:]
		switch {
		case strings.HasPrefix(rest, "?"):
			cur.WriteString(vars("?"))
			return i + 1
		case strings.HasPrefix(rest, "{"):
			end := strings.IndexByte(rest, '}')
			if end > 1 {
				cur.WriteString(vars(rest[1:end]))
				return i + 1 + end
			}
		default:
			n := 0
			for n < len(rest) && (rest[n] == '_' || rest[n] >= 'A' && rest[n] <= 'Z' || rest[n] >= 'a' && rest[n] <= 'z' || n > 0 && rest[n] >= '0' && rest[n] <= '9') {
				n++
			}
			if n > 0 {
				cur.WriteString(vars(rest[:n]))
				return i + n
			}
		}
		cur.WriteByte('$')
		return i
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '&' && i+1 < len(line) && line[i+1] == '&', c == '|' && i+1 < len(line) && line[i+1] == '|',
			c == '>' && i+1 < len(line) && line[i+1] == '>':
			flush()
			toks = append(toks, token{s: line[i : i+2], op: true})
			i++
		case c == ';' || c == '|' || c == '>':
			flush()
			toks = append(toks, token{s: string(c), op: true})
		case c == '\'':
			in = true
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unexpected EOF while looking for matching `''")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			in = true
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				switch {
				case line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0:
					i++
					cur.WriteByte(line[i])
				case line[i] == '$':
					i = expand(i)
				default:
					cur.WriteByte(line[i])
				}
			}
			if i >= len(line) {
				return nil, errors.New("unexpected EOF while looking for matching `\"'")
			}
		case c == '\\':
			in = true
			if i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			}
		case c == '$':
			in = true
			i = expand(i)
		default:
			in = true
			cur.WriteByte(c)
		}
	}
	flush()
	return toks, nil
}

// vars returns the value of a shell variable in env.
func (env *shellEnv) vars(name string) string {
	m := env.m
	switch name {
	case "?":
		return strconv.Itoa(env.st.rc)
	case "FWDIR":
		return m.fwdir()
	case "CPDIR":
		return m.cpdir()
	case "HOSTNAME":
		return m.name
	case "USER":
		return env.s.User()
	}
	return ""
}

// expertLocked answers one line typed in Expert mode.
func (m *Member) expertLocked(s *sshsim.Session, st *sessState, line string) sshsim.Reply {
	env := &shellEnv{m: m, s: s, st: st, vs: &st.vs, login: true, shell: "-bash", top: true}
	out, rc := m.runLocked(env, line)
	st.rc = rc
	if env.exit {
		st.expert = false
	}
	return sshsim.Reply{Output: out, ExitStatus: rc}
}

// runLocked runs a command line: simple commands joined by &&, || and ;,
// each a pipeline of simple commands (a pipe feeds grep or head), with an
// optional > or >> redirection of its output to a file.
func (m *Member) runLocked(env *shellEnv, line string) (string, int) {
	toks, err := lex(line, env.vars)
	if err != nil {
		return fmt.Sprintf("%s: %v\n", env.shell, err), 2
	}
	var (
		out  strings.Builder
		rc   int
		skip bool // the previous && / || short-circuited
		pipe []string
		cmd  []string
		redo string // redirect operator
		file string
	)
	run := func() {
		if len(cmd) == 0 && len(pipe) == 0 {
			return
		}
		if skip {
			skip, cmd, pipe, redo, file = false, nil, nil, "", ""
			return
		}
		var o string
		first := cmd
		if pipe != nil {
			first = pipe
		}
		o, rc = m.simpleLocked(env, first)
		if pipe != nil {
			o, rc = filter(env, cmd, o)
		}
		switch {
		case redo != "" && file == "":
			out.WriteString(env.shell + ": syntax error near unexpected token `newline'\n")
			rc = 2
		case redo == "" || rc != 0:
			out.WriteString(o)
		default:
			p := path.Clean(file)
			if redo == ">>" {
				m.files[p] = append(m.files[p], o...)
			} else {
				m.files[p] = []byte(o)
			}
			m.sim.notifyLocked()
		}
		env.st.rc = rc
		cmd, pipe, redo, file = nil, nil, "", ""
	}
	for _, t := range toks {
		switch {
		case !t.op && redo != "" && file == "":
			file = t.s
		case !t.op:
			cmd = append(cmd, t.s)
		case t.s == ">" || t.s == ">>":
			redo = t.s
		case t.s == "|":
			pipe, cmd = cmd, nil
		default: // && || ;
			run()
			if env.exit {
				return out.String(), rc
			}
			switch t.s {
			case "&&":
				skip = rc != 0
			case "||":
				skip = rc == 0
			}
		}
	}
	run()
	return out.String(), rc
}

// filter runs the command after a pipe on in: grep [-i] [-v] PATTERN or
// head -n N; anything else is not supported by the simulator.
func filter(env *shellEnv, argv []string, in string) (string, int) {
	if len(argv) == 0 {
		return env.shell + ": syntax error near unexpected token `|'\n", 2
	}
	switch argv[0] {
	case "grep":
		return grep(argv[1:], in)
	case "head":
		n := 10
		if len(argv) == 3 && argv[1] == "-n" {
			if v, err := strconv.Atoi(argv[2]); err == nil && v >= 0 {
				n = v
			}
		}
		lines := strings.SplitAfter(in, "\n")
		if len(lines) > n {
			lines = lines[:n]
		}
		return strings.Join(lines, ""), 0
	}
	return env.shell + ": " + argv[0] + ": not supported after a pipe by the simulator\n", 127
}

// grep is grep [-i] [-v] PATTERN on text (a fixed string, not a regexp).
func grep(args []string, text string) (string, int) {
	ci, inv := false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		ci = ci || strings.Contains(args[0], "i")
		inv = inv || strings.Contains(args[0], "v")
		args = args[1:]
	}
	if len(args) == 0 {
		return "Usage: grep [OPTION]... PATTERN [FILE]...\n", 2
	}
	pat := args[0]
	var b strings.Builder
	for l := range strings.Lines(text) {
		hay, needle := l, pat
		if ci {
			hay, needle = strings.ToLower(l), strings.ToLower(pat)
		}
		if strings.Contains(hay, needle) != inv {
			b.WriteString(l)
			if !strings.HasSuffix(l, "\n") {
				b.WriteString("\n")
			}
		}
	}
	if b.Len() == 0 {
		return "", 1
	}
	return b.String(), 0
}

// notFound is bash's answer to an unknown command.
func notFound(env *shellEnv, name string) (string, int) {
	return env.shell + ": " + name + ": command not found\n", 127
}

// simpleLocked runs one simple command in env (pipes feed filter).
func (m *Member) simpleLocked(env *shellEnv, argv []string) (string, int) {
	if len(argv) == 0 {
		return "", 0
	}
	if env.ext != nil {
		if out, rc, ok := env.ext(env, argv); ok {
			return out, rc
		}
	}
	sim := m.sim
	args := argv[1:]
	joined := strings.Join(args, " ")
	switch argv[0] {
	case "cphaprob":
		switch joined {
		case "state", "stat":
			return m.clusterStateLocked(*env.vs), 0
		case "-a if", "if", "-a -m if":
			return m.interfacesLocked(), 0
		case "mvc":
			return m.mvcExpertLocked(), 0
		}
		return "Usage: cphaprob [-a] [-m] if | state | mvc\n", 1
	case "cphaconf":
		if len(args) == 2 && args[0] == "mvc" && (args[1] == "on" || args[1] == "off") {
			m.setMVCLocked(args[1] == "on")
			return "", 0
		}
		return "Usage: cphaconf mvc <on|off>\n", 1
	case "clusterXL_admin":
		return m.clusterXLAdminLocked(args)
	case "fw":
		switch joined {
		case "ver":
			return m.fwVerLocked(), 0
		case "ctl multik stat":
			return m.multikLocked(), 0
		}
		return "Usage: fw ver | fw ctl multik stat\n", 1
	case "cpinfo":
		if joined == "-y all" {
			return m.cpinfoLocked(), 0
		}
		return "Usage: cpinfo -y all\n", 1
	case "vsx":
		if joined == "stat -v" || joined == "stat" {
			return m.vsxStatLocked(), 0
		}
		return "Usage: vsx stat [-v]\n", 1
	case "dynamic_balancing":
		if joined == "-p" {
			if m.dynBal {
				return "Dynamic Balancing is currently On\n", 0
			}
			return "Dynamic Balancing is currently Off\n", 0
		}
		return "Usage: dynamic_balancing -p\n", 1
	case "vsenv":
		if !env.login {
			return notFound(env, "vsenv")
		}
		id := *env.vs
		if len(args) > 0 {
			v, err := strconv.Atoi(args[0])
			if err != nil || m.vsName(v) == "" || (!sim.opts.VSX && v != 0) {
				return "Virtual Device " + args[0] + " does not exist\n", 1
			}
			id = v
		}
		*env.vs = id
		return fmt.Sprintf("Context is set to Virtual Device %s (ID %d).\n", m.vsName(id), id), 0
	case "bash", "sh":
		script, login, ok := shellScript(argv[0], args)
		if !ok {
			return argv[0] + ": interactive sub-shells are not supported by the simulator\n", 2
		}
		vs := *env.vs
		sub := &shellEnv{m: m, s: env.s, st: &sessState{rc: 0}, vs: &vs, login: login, shell: argv[0], ext: env.ext}
		return m.runLocked(sub, script)
	case "clish":
		if len(args) != 2 || args[0] != "-c" {
			return "Usage: clish -c \"<command>\"\n", 1
		}
		cst := &sessState{vs: *env.vs}
		r := m.clishLocked(env.s, cst, strings.Join(strings.Fields(args[1]), " "))
		if r.Ask != "" {
			return "clish: interactive commands are not supported with -c by the simulator\n", 1
		}
		return withNewline(r.Output), r.ExitStatus
	case "cat":
		var b strings.Builder
		rc := 0
		for _, f := range args {
			data, ok := m.files[path.Clean(f)]
			if !ok {
				fmt.Fprintf(&b, "cat: %s: No such file or directory\n", f)
				rc = 1
				continue
			}
			b.Write(data)
		}
		return b.String(), rc
	case "cp":
		if len(args) != 2 {
			return "cp: missing file operand\n", 1
		}
		data, ok := m.files[path.Clean(args[0])]
		if !ok {
			return fmt.Sprintf("cp: cannot stat '%s': No such file or directory\n", args[0]), 1
		}
		m.files[path.Clean(args[1])] = append([]byte(nil), data...)
		sim.notifyLocked()
		return "", 0
	case "grep":
		if len(args) < 2 {
			return grep(args, "")
		}
		f := args[len(args)-1]
		data, ok := m.files[path.Clean(f)]
		if !ok {
			return fmt.Sprintf("grep: %s: No such file or directory\n", f), 2
		}
		return grep(args[:len(args)-1], string(data))
	case "ls":
		if len(args) == 2 && args[0] == "-l" {
			data, ok := m.files[path.Clean(args[1])]
			if !ok {
				return fmt.Sprintf("ls: cannot access %s: No such file or directory\n", args[1]), 2
			}
			return fmt.Sprintf("-rw-r--r-- 1 %s root %d Jan  1 00:00 %s\n", env.s.User(), len(data), path.Clean(args[1])), 0
		}
		return "Usage: ls -l <file>\n", 2
	case "echo":
		return joined + "\n", 0
	case "true":
		return "", 0
	case "false":
		return "", 1
	case "reboot":
		m.applying = true
		sim.afterLocked(sim.opts.ApplyDelay, func() { sim.rebootLocked(m, nil, false) })
		return "The system is going down for reboot NOW!\n", 0
	case "exit":
		if env.top {
			env.exit = true
		}
		return "", 0
	}
	return notFound(env, argv[0])
}

// shellScript reads `bash|sh [-l] -c SCRIPT` / `-lc SCRIPT`: the script and
// whether it runs as a login shell (only bash -l defines vsenv).
func shellScript(name string, args []string) (script string, login, ok bool) {
	var flags string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		flags += strings.TrimPrefix(args[0], "-")
		args = args[1:]
	}
	if !strings.Contains(flags, "c") || len(args) != 1 {
		return "", false, false
	}
	return args[0], name == "bash" && strings.Contains(flags, "l"), true
}

// withNewline adds a final newline to a non-empty text.
func withNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}
