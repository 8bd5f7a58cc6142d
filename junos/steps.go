package junos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// This file holds the run's artifacts (the configuration export and the
// marker files under Config.ArtifactsDir), the configuration comparison,
// the preempt and failover-reset actions, and the steps the Planner
// assembles.

// Marker kinds (file names under the run's artifact directory).
const (
	markerStaged = "staged"
	markerReboot = "reboot"
	exportFile   = "config-before.set"
)

// marker is the content of a marker file.
type marker struct {
	Node    string    `json:"node"`
	Target  string    `json:"target"`
	Package string    `json:"package,omitempty"`
	From    string    `json:"from,omitempty"`
	At      time.Time `json:"at"`
}

// runDir is the artifact directory of an upgrade of the cluster to target.
func (c *Cluster) runDir(target string) string {
	return filepath.Join(c.cfg.ArtifactsDir, c.cfg.Name+"-"+target)
}

// ExportPath returns where the configuration export of an upgrade to target
// is kept: <ArtifactsDir>/<Name>-<target>/config-before.set.
func (c *Cluster) ExportPath(target string) string {
	return filepath.Join(c.runDir(target), exportFile)
}

func (c *Cluster) markerPath(target, kind, node string) string {
	return filepath.Join(c.runDir(target), kind+"-"+node+".json")
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, synced and renamed (mode 0600).
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// writeMarker records a marker file. Errors are *NodeError (Op "artifacts").
func (c *Cluster) writeMarker(target, kind, node string, m marker) error {
	data, err := json.Marshal(m)
	if err == nil {
		err = writeFileAtomic(c.markerPath(target, kind, node), data)
	}
	if err != nil {
		return &NodeError{Node: node, RG: -1, Op: "artifacts", Err: fmt.Errorf("record the %s marker: %w", kind, err)}
	}
	return nil
}

// readMarker reads a marker file; ok is false when it is absent or does not
// decode (fail closed: an unreadable marker proves nothing).
func (c *Cluster) readMarker(target, kind, node string) (marker, bool) {
	data, err := os.ReadFile(c.markerPath(target, kind, node))
	if err != nil {
		return marker{}, false
	}
	var m marker
	if json.Unmarshal(data, &m) != nil || m.Node != node || m.Target != target {
		return marker{}, false
	}
	return m, true
}

// removeMarker deletes a marker file (best effort).
func (c *Cluster) removeMarker(target, kind, node string) {
	_ = os.Remove(c.markerPath(target, kind, node))
}

// preemptRe is a preempt statement of a redundancy group as `display set`
// prints it ("set chassis cluster redundancy-group 1 preempt", "set ...
// preempt delay 10", "deactivate ... preempt").
var preemptRe = regexp.MustCompile(`^(set|deactivate) chassis cluster redundancy-group (\d{1,5}) preempt(?: .*)?$`)

// restoreGrammar is what a restored preempt statement may look like; the
// line is sent to the device as is.
var restoreGrammar = regexp.MustCompile(`^set chassis cluster redundancy-group \d{1,5} preempt(?: (?:delay|limit|period) \d{1,6})*$`)

// configLines returns the statements of a `display set` text, trimmed, in
// order (blank and comment lines left out).
func configLines(text string) []string {
	var out []string
	for _, l := range splitLines(text) {
		if l.text == "" || strings.HasPrefix(l.text, "#") || !strings.Contains(l.text, " ") {
			continue
		}
		out = append(out, l.text)
	}
	return out
}

// comparable returns the statements compared before and after: all but the
// `version` statement (Junos rewrites it) and the preempt statements of RG1
// and up (the upgrade's own change), sorted.
func comparable(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "set version ") {
			continue
		}
		if m := preemptRe.FindStringSubmatch(l); m != nil && m[2] != "0" {
			continue
		}
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// preemptStatements returns the preempt statements of RG1 and up.
func preemptStatements(lines []string) []string {
	var out []string
	for _, l := range lines {
		if m := preemptRe.FindStringSubmatch(l); m != nil && m[2] != "0" {
			out = append(out, l)
		}
	}
	return out
}

// activePreempt returns the redundancy groups (RG1 and up) whose preempt is
// configured and not deactivated, ascending.
func activePreempt(lines []string) []int {
	set, inactive := map[int]bool{}, map[int]bool{}
	for _, l := range preemptStatements(lines) {
		m := preemptRe.FindStringSubmatch(l)
		g, _ := strconv.Atoi(m[2])
		if m[1] == "set" {
			set[g] = true
		} else if l == "deactivate chassis cluster redundancy-group "+m[2]+" preempt" {
			inactive[g] = true
		}
	}
	var out []int
	for g := range set {
		if !inactive[g] {
			out = append(out, g)
		}
	}
	sort.Ints(out)
	return out
}

// secretRe finds the keywords after which `display set` prints secrets
// (plain or $9$-encoded) or hashes.
var secretRe = regexp.MustCompile(`(?i)\b(encrypted-password|plain-text-password|secret|authentication-key|pre-shared-key|community|key|password|ascii-text|hexadecimal)\b`)

// redactStatement replaces what follows a secret keyword, and any $9$ or
// crypt(3) token, with "<redacted>".
func redactStatement(l string) string {
	if loc := secretRe.FindStringIndex(l); loc != nil {
		return l[:loc[1]] + " <redacted>"
	}
	return regexp.MustCompile(`"?\$(?:9|1|5|6)\$\S*`).ReplaceAllString(l, "<redacted>")
}

// diffLines returns the lines of b not in a (added) and of a not in b
// (removed), both sorted, as multisets.
func diffLines(a, b []string) (added, removed []string) {
	count := map[string]int{}
	for _, l := range a {
		count[l]++
	}
	for _, l := range b {
		if count[l] > 0 {
			count[l]--
			continue
		}
		added = append(added, l)
	}
	for l, k := range count {
		for range k {
			removed = append(removed, l)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed
}

// baseline returns the export of an upgrade to target (cached).
func (c *Cluster) baseline(target string) ([]string, error) {
	c.baseMu.Lock()
	defer c.baseMu.Unlock()
	if b, ok := c.baselines[target]; ok {
		return b, nil
	}
	data, err := os.ReadFile(c.ExportPath(target))
	if err != nil {
		return nil, &NodeError{Node: "cluster", RG: -1, Op: "configuration", Err: cond(ErrUnreadable,
			"the configuration export %s cannot be read (%v): whether the configuration changed cannot be told", c.ExportPath(target), err)}
	}
	lines := configLines(string(data))
	if len(lines) == 0 {
		return nil, &NodeError{Node: "cluster", RG: -1, Op: "configuration", Err: cond(ErrUnreadable, "the configuration export %s is empty", c.ExportPath(target))}
	}
	c.baselines[target] = lines
	return lines, nil
}

// currentConfig reads `show configuration | display set` on a node that
// answers (node0 first): the configuration is shared by both nodes.
func (c *Cluster) currentConfig(ctx context.Context) (*Node, []string, error) {
	var errs []error
	for _, n := range c.nodes {
		n.mu.Lock()
		text, err := n.readConfigLocked(ctx)
		n.mu.Unlock()
		if err == nil {
			return n, configLines(text), nil
		}
		errs = append(errs, err)
	}
	return nil, nil, errors.Join(errs...)
}

// checkConfig compares the configuration now with the export of an upgrade
// to target (see comparable): a *ConfigChangedError (ErrConfigChanged)
// when something else changed it.
func (c *Cluster) checkConfig(ctx context.Context, target string) error {
	base, err := c.baseline(target)
	if err != nil {
		return err
	}
	n, cur, err := c.currentConfig(ctx)
	if err != nil {
		return err
	}
	return c.compareConfig(n.name, target, base, cur)
}

// compareConfig returns a *ConfigChangedError when cur differs from base.
func (c *Cluster) compareConfig(node, target string, base, cur []string) error {
	added, removed := diffLines(comparable(base), comparable(cur))
	if len(added) == 0 && len(removed) == 0 {
		return nil
	}
	e := &ConfigChangedError{Node: node, Export: c.ExportPath(target)}
	const limit = 20
	for _, l := range added {
		if len(e.Added) == limit {
			e.Truncated = true
			break
		}
		e.Added = append(e.Added, redactStatement(l))
	}
	for _, l := range removed {
		if len(e.Removed) == limit {
			e.Truncated = true
			break
		}
		e.Removed = append(e.Removed, redactStatement(l))
	}
	return &NodeError{Node: node, Host: c.Node(node).host, RG: -1, Op: "configuration", Err: e}
}

// exportConfig writes the configuration export of an upgrade to target
// (ExportPath): `show configuration | display set` read on the RG0
// primary. An export already there that matches the configuration (but for
// the version and preempt statements) is kept as it is: it is the record of
// the preempt statements before a first, interrupted attempt.
func (c *Cluster) exportConfig(ctx context.Context, target string) (string, error) {
	n, err := c.rg0Primary(ctx)
	if err != nil {
		return "", err
	}
	n.mu.Lock()
	text, err := n.readConfigLocked(ctx)
	n.mu.Unlock()
	if err != nil {
		return "", err
	}
	path := c.ExportPath(target)
	cur := configLines(text)
	if data, rerr := os.ReadFile(path); rerr == nil {
		old := configLines(string(data))
		if len(old) > 0 && c.compareConfig(n.name, target, old, cur) == nil {
			c.log.Info("junos: configuration export kept (matches the configuration)", "path", path)
			c.baseMu.Lock()
			c.baselines[target] = old
			c.baseMu.Unlock()
			return path, nil
		}
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if err := writeFileAtomic(path, []byte(text)); err != nil {
		return "", &NodeError{Node: n.name, Host: n.host, RG: -1, Op: "artifacts", Err: fmt.Errorf("write the configuration export: %w", err)}
	}
	c.baseMu.Lock()
	c.baselines[target] = cur
	c.baseMu.Unlock()
	c.log.Info("junos: configuration exported", "path", path, "statements", len(cur))
	return path, nil
}

// commitLocked enters `configure private`, sends statements, commits and
// leaves configuration mode (also on failure, discarding the private
// candidate). A refused statement or commit is returned with the device's
// output. n.mu must be held.
func (n *Node) commitLocked(ctx context.Context, op string, statements []string) error {
	if _, err := n.sendLocked(ctx, op, cmdConfigure, false, true); err != nil {
		n.exitConfigureLocked(ctx)
		var ce *driver.CommandError
		if errors.As(err, &ce) {
			return &NodeError{Node: n.name, Host: n.host, RG: -1, Op: op, Err: cond(ErrUncommitted, "%q refused: %s", cmdConfigure, firstLine(ce.Output))}
		}
		return err
	}
	for _, st := range append(slices.Clone(statements), cmdCommit) {
		if _, err := n.sendLocked(ctx, op, st, false, false); err != nil {
			n.exitConfigureLocked(ctx)
			return err
		}
	}
	n.exitConfigureLocked(ctx)
	return nil
}

// commitRG returns the redundancy group a refused commit names ("[edit
// chassis cluster redundancy-group 1]"), or fallback.
func commitRG(err error, fallback int) int {
	var ce *driver.CommandError
	if errors.As(err, &ce) {
		if m := regexp.MustCompile(`redundancy-group (\d{1,5})\]`).FindStringSubmatch(ce.Output); m != nil {
			g, _ := strconv.Atoi(m[1])
			return g
		}
	}
	return fallback
}

// commandDetail returns the device's own words for a refused command.
func commandDetail(err error) string {
	var ce *driver.CommandError
	if errors.As(err, &ce) {
		var lines []string
		for _, l := range splitLines(ce.Output) {
			if t := strings.Trim(l.text, " ^"); t != "" {
				lines = append(lines, t)
			}
		}
		return cut(strings.Join(lines, " / "), 400)
	}
	return err.Error()
}

// disablePreempt deletes the active preempt statements of RG1 and up
// (`configure private`, `delete chassis cluster redundancy-group N
// preempt`, `commit`, on the RG0 primary) and reads back both the
// configuration and the Preempt column of the status.
func (c *Cluster) disablePreempt(ctx context.Context, target string) error {
	n, err := c.rg0Primary(ctx)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	text, err := n.readConfigLocked(ctx)
	if err != nil {
		return err
	}
	groups := activePreempt(configLines(text))
	if len(groups) > 0 {
		var sts []string
		for _, g := range groups {
			sts = append(sts, fmt.Sprintf("delete chassis cluster redundancy-group %d preempt", g))
		}
		c.log.Info("junos: disabling preempt for the upgrade", "node", n.name, "groups", groups)
		if err := n.commitLocked(ctx, "preempt", sts); err != nil {
			g := commitRG(err, groups[0])
			return &NodeError{Node: n.name, Host: n.host, RG: g, Op: "preempt", Err: cond(ErrPreempt, "disabling preempt was refused: %s", commandDetail(err))}
		}
	}
	return n.checkPreemptLocked(ctx, nil)
}

// checkPreemptLocked reads back the preempt state: the configuration's
// active preempt groups must be want (nil: none), and the status's Preempt
// column must agree for every data group. n.mu must be held.
func (n *Node) checkPreemptLocked(ctx context.Context, want []int) error {
	text, err := n.readConfigLocked(ctx)
	if err != nil {
		return err
	}
	have := activePreempt(configLines(text))
	if !slices.Equal(have, want) {
		g := -1
		if len(have) > 0 {
			g = have[0]
		}
		return &NodeError{Node: n.name, Host: n.host, RG: g, Op: "preempt", Err: cond(ErrPreempt, "the configuration has preempt active for %v, want %v", have, want)}
	}
	v := n.viewLocked(ctx, true)
	if v.err != nil {
		return v.err
	}
	for _, g := range v.status.Groups {
		if g.ID == 0 {
			continue
		}
		r, _ := g.Node(n.name)
		wantYes := slices.Contains(want, g.ID)
		if r.Preempt != FlagUnknown && (r.Preempt == FlagYes) != wantYes {
			return &NodeError{Node: n.name, Host: n.host, RG: g.ID, Op: "preempt", Err: cond(ErrPreempt, "the status shows Preempt %s for RG%d, want %s", r.Preempt, g.ID, map[bool]string{true: "yes", false: "no"}[wantYes])}
		}
	}
	return nil
}

// restorePreempt re-applies the preempt statements the export recorded for
// the groups where preempt was active (Config.RestorePreempt).
func (c *Cluster) restorePreempt(ctx context.Context, target string) error {
	base, err := c.baseline(target)
	if err != nil {
		return err
	}
	want := activePreempt(base)
	var sts []string
	for _, l := range preemptStatements(base) {
		m := preemptRe.FindStringSubmatch(l)
		g, _ := strconv.Atoi(m[2])
		if m[1] == "set" && slices.Contains(want, g) {
			if !restoreGrammar.MatchString(l) {
				return &NodeError{Node: "cluster", RG: g, Op: "preempt", Err: cond(ErrPreempt, "the export's statement %q is not a preempt statement this SDK sends", l)}
			}
			sts = append(sts, l)
		}
	}
	n, err := c.rg0Primary(ctx)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	text, err := n.readConfigLocked(ctx)
	if err != nil {
		return err
	}
	if slices.Equal(activePreempt(configLines(text)), want) {
		return n.checkPreemptLocked(ctx, want)
	}
	c.log.Info("junos: restoring preempt", "node", n.name, "groups", want)
	if err := n.commitLocked(ctx, "preempt", sts); err != nil {
		g := commitRG(err, want[0])
		return &NodeError{Node: n.name, Host: n.host, RG: g, Op: "preempt", Err: cond(ErrPreempt, "restoring preempt was refused: %s", commandDetail(err))}
	}
	return n.checkPreemptLocked(ctx, want)
}

// resetFailovers runs `request chassis cluster failover reset
// redundancy-group N` for every group (data groups first, RG0 last) and
// reads back that no manual failover is left.
func (c *Cluster) resetFailovers(ctx context.Context) error {
	views := c.readViews(ctx, true)
	var v nodeView
	switch {
	case views[0].err == nil:
		v = views[0]
	case views[1].err == nil:
		v = views[1]
	default:
		return errors.Join(views[0].err, views[1].err)
	}
	var groups []int
	for _, g := range v.status.Groups {
		if g.ID > 0 {
			groups = append(groups, g.ID)
		}
	}
	sort.Ints(groups)
	groups = append(groups, 0)
	for _, g := range groups {
		if err := c.ResetFailover(ctx, g); err != nil {
			return err
		}
	}
	return c.checkNoManual(ctx)
}

// checkNoManual reads both nodes and fails when a manual failover is still
// in effect (Manual yes or priority 255).
func (c *Cluster) checkNoManual(ctx context.Context) error {
	views := c.readViews(ctx, true)
	var errs []error
	for i, v := range views {
		if v.err != nil {
			errs = append(errs, v.err)
			continue
		}
		for _, g := range v.status.Groups {
			for _, r := range g.Nodes {
				if r.Manual == FlagYes || r.Priority == 255 {
					errs = append(errs, &NodeError{Node: r.Node, Host: c.nodes[i].host, RG: g.ID, Op: "failover reset",
						Err: cond(ErrManualFailover, "%s still shows a manual failover in RG%d (manual %s, priority %d)", NodeNames[i], g.ID, r.Manual, r.Priority)})
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Step ID shapes (stable: the journal keys on them).
func exportStepID(t string) string     { return "export-config@" + t }
func preemptOffStepID(t string) string { return "preempt-off@" + t }
func stageStepID(n, t string) string   { return "stage:" + n + "@" + t }
func rebootStepID(n, t string) string  { return "reboot:" + n + "@" + t }
func waitStepID(n, t string) string    { return "wait:" + n + "@" + t }
func failoverStepID(g int, n, t string) string {
	return "failover:RG" + strconv.Itoa(g) + ":to:" + n + "@" + t
}
func swappedStepID(n, t string) string { return "wait:swapped:" + n + "@" + t }
func resetStepID(t string) string      { return "failover-reset@" + t }
func restoreStepID(t string) string    { return "preempt-restore@" + t }
func postcheckStepID(t string) string  { return "postcheck@" + t }

// builder makes the steps of one plan.
type builder struct {
	c      *Cluster
	target string
	tv     Version
	timing upgrade.Timing
	rgs    []int // the redundancy groups, ascending
}

// dataFirst returns the groups in failover order: RG1 and up, then RG0.
func (b builder) dataFirst() []int {
	var out []int
	for _, g := range b.rgs {
		if g > 0 {
			out = append(out, g)
		}
	}
	return append(out, 0)
}

// export is the export-config step: it disrupts nothing, is idempotent and
// verifiable (the export file exists), and leaves the export's path as its
// note in the report.
func (b builder) export() upgrade.Step {
	c, t := b.c, b.target
	return &exportStep{
		id:   exportStepID(t),
		desc: fmt.Sprintf("export the configuration (show configuration | display set) to %s; it must not change during the upgrade", c.ExportPath(t)),
		c:    c, target: t,
	}
}

// exportStep is the export-config@<target> step.
type exportStep struct {
	id, desc string
	c        *Cluster
	target   string
	note     string
}

var (
	_ upgrade.Verifier     = (*exportStep)(nil)
	_ upgrade.Idempotenter = (*exportStep)(nil)
	_ upgrade.Noter        = (*exportStep)(nil)
)

func (s *exportStep) ID() string          { return s.id }
func (s *exportStep) Description() string { return s.desc }
func (s *exportStep) Disrupts() []string  { return nil }
func (s *exportStep) Idempotent() bool    { return true }
func (s *exportStep) Note() string        { return s.note }

func (s *exportStep) Run(ctx context.Context) error {
	path, err := s.c.exportConfig(ctx, s.target)
	if err == nil {
		s.note = "configuration export: " + path
	}
	return err
}

func (s *exportStep) Verify(context.Context) (bool, error) {
	if _, err := s.c.baseline(s.target); err != nil {
		return false, nil
	}
	s.note = "configuration export: " + s.c.ExportPath(s.target)
	return true, nil
}

// preemptOff disables preempt on RG1 and up for the upgrade.
func (b builder) preemptOff() upgrade.Step {
	c, t := b.c, b.target
	return &upgrade.Func{
		StepID: preemptOffStepID(t),
		Desc:   "disable preempt of RG1 and up for the upgrade (configure private, delete chassis cluster redundancy-group N preempt, commit on the RG0 primary; read back)",
		Do: func(ctx context.Context) error {
			if err := c.checkConfig(ctx, t); err != nil {
				return err
			}
			return c.disablePreempt(ctx, t)
		},
		Check: func(ctx context.Context) (bool, error) {
			_, cur, err := c.currentConfig(ctx)
			if err != nil {
				return false, err
			}
			return len(activePreempt(cur)) == 0, nil
		},
		Retryable: true,
	}
}

// stage installs the package on node x (secondary of every group) without
// rebooting it.
func (b builder) stage(x, peer string) upgrade.Step {
	c, t := b.c, b.target
	return &upgrade.Func{
		StepID: stageStepID(x, t),
		Desc: fmt.Sprintf("stage %s on %s (secondary of every group): SCP %s to /var/tmp, request system software add /var/tmp/%s no-copy with validation (no reboot; %s forwards)",
			t, x, c.cfg.packageName(), c.cfg.packageName(), peer),
		Do: func(ctx context.Context) error { return c.Node(x).Stage(ctx, t) },
		Check: func(ctx context.Context) (bool, error) {
			if on, err := b.onTarget(ctx, x); err == nil && on {
				return true, nil
			}
			_, ok := c.readMarker(t, markerStaged, x)
			return ok, nil
		},
		Retryable: true,
	}
}

// onTarget reads node x's version now.
func (b builder) onTarget(ctx context.Context, x string) (bool, error) {
	v := b.c.Node(x).view(ctx, false)
	if v.err != nil {
		return false, v.err
	}
	if v.verErr != nil {
		return false, v.verErr
	}
	return SameRelease(v.sw.Version, b.tv), nil
}

// reboot reboots node x onto the staged package.
func (b builder) reboot(x, peer string) upgrade.Step {
	c, t := b.c, b.target
	return &upgrade.Func{
		StepID: rebootStepID(x, t),
		Desc: fmt.Sprintf("reboot %s onto %s: compare the configuration with the export, read %s (primary of every group, forwarding) and %s (secondary of every group) on their own sessions, then request system reboot (yes)",
			x, t, peer, x),
		Members: []string{x},
		Do: func(ctx context.Context) error {
			return c.Node(x).reboot(ctx, t, rebootOpts{requireStaged: true, checkConfig: true})
		},
		// An interrupted reboot is done when the node runs the target,
		// cannot be reached (it is rebooting), or its reboot marker (written
		// right before the command) says the command was sent; the gate
		// after it then decides. Without the marker it was never sent.
		Check: func(ctx context.Context) (bool, error) {
			v := c.Node(x).view(ctx, false)
			switch {
			case v.err != nil && unreachable(v.err):
				return true, nil
			case v.err != nil:
				return false, v.err
			case v.verErr == nil && SameRelease(v.sw.Version, b.tv):
				return true, nil
			}
			_, sent := c.readMarker(t, markerReboot, x)
			return sent, nil
		},
	}
}

// failover moves redundancy group g to node to (upgraded) from peer.
func (b builder) failover(g int, to, from string) upgrade.Step {
	c, t := b.c, b.target
	what := "the data plane"
	if g == 0 {
		what = "the routing engine: an RE switchover, after which " + from + " is secondary-hold for the hold-down interval"
	}
	return &upgrade.Func{
		StepID: failoverStepID(g, to, t),
		Desc: fmt.Sprintf("fail RG%d (%s) over to upgraded %s: request chassis cluster failover redundancy-group %d node %d",
			g, what, to, g, c.Node(to).idx),
		IsFailover: true,
		Do: func(ctx context.Context) error {
			if err := c.checkConfig(ctx, t); err != nil {
				return err
			}
			return c.failoverRG(ctx, g, to, t)
		},
		Safe: func(s upgrade.Snapshot) error { return b.failoverCond(s, g, to, from) },
		Check: func(ctx context.Context) (bool, error) {
			v := c.Node(to).view(ctx, true)
			if v.err != nil {
				return false, v.err
			}
			grp, ok := v.status.Group(g)
			if !ok {
				return false, nil
			}
			r, _ := grp.Node(to)
			return r.Status == StatePrimary, nil
		},
	}
}

// reset ends the manual failovers.
func (b builder) reset() upgrade.Step {
	c, t := b.c, b.target
	return &upgrade.Func{
		StepID: resetStepID(t),
		Desc:   "request chassis cluster failover reset redundancy-group N for every group (Manual back to no, configured priorities)",
		Do: func(ctx context.Context) error {
			if err := c.checkConfig(ctx, t); err != nil {
				return err
			}
			return c.resetFailovers(ctx)
		},
		Check: func(ctx context.Context) (bool, error) {
			return c.checkNoManual(ctx) == nil, nil
		},
		Retryable: true,
	}
}

// restore re-enables the preempt statements the export recorded. A
// restored preempt may move a group at once, so the step declares a
// failover and needs both nodes healthy on the target.
func (b builder) restore() upgrade.Step {
	c, t := b.c, b.target
	return &upgrade.Func{
		StepID:     restoreStepID(t),
		Desc:       "restore the preempt statements of RG1 and up recorded in the export (Config.RestorePreempt; a group may move to the node with the higher priority)",
		IsFailover: true,
		Do: func(ctx context.Context) error {
			if err := c.checkConfig(ctx, t); err != nil {
				return err
			}
			return c.restorePreempt(ctx, t)
		},
		Safe: func(s upgrade.Snapshot) error {
			return errors.Join(b.nodeOK(s, NodeNames[0], true), b.nodeOK(s, NodeNames[1], true), problems(s))
		},
		Check: func(ctx context.Context) (bool, error) {
			base, err := c.baseline(t)
			if err != nil {
				return false, err
			}
			_, cur, err := c.currentConfig(ctx)
			if err != nil {
				return false, err
			}
			return slices.Equal(activePreempt(cur), activePreempt(base)), nil
		},
		Retryable: true,
	}
}

// waitUpgraded waits until node x is back on the target, secondary of every
// group and healthy, with peer primary of every group; the configuration
// is compared with the export once the rest holds. A node seen away and
// back on another version fails the gate at once (ErrInstallNotTaken).
func (b builder) waitUpgraded(x, peer string) upgrade.Step {
	seenAway := false
	return &upgrade.Wait{
		StepID:  waitStepID(x, b.target),
		Desc:    fmt.Sprintf("wait until %s is back on %s, secondary of every group, healthy (cold sync done), with %s primary of every group; the configuration unchanged", x, b.target, peer),
		Cluster: b.c,
		G: upgrade.Gate{Name: x + " upgraded", Timing: b.timing, Check: func(s upgrade.Snapshot) error {
			m, _ := s.Member(x)
			if m.Role == upgrade.RoleDown || m.Role == upgrade.RoleLost || m.Role == upgrade.RoleUnknown {
				seenAway = true
			}
			if v := b.c.Node(x).installResult(b.target); v != "" || seenAway && m.Healthy && m.Version != "" {
				if v == "" {
					v = m.Version
				}
				if mv, err := ParseVersion(v); err == nil && !SameRelease(mv, b.tv) {
					return &NodeError{Node: x, RG: -1, Op: "gate", Err: cond(ErrInstallNotTaken, "%s rebooted and came back on %s, not %s", x, v, b.target)}
				}
			}
			if err := errors.Join(b.secondaryCond(s, x, true), b.primaryCond(s, peer, false), problems(s)); err != nil {
				return err
			}
			return b.configCond()
		}},
	}
}

// waitSwapped waits until to is primary of every group and from secondary
// of every group, RG0 out of secondary-hold, both healthy.
func (b builder) waitSwapped(to, from string) upgrade.Step {
	return &upgrade.Wait{
		StepID:  swappedStepID(to, b.target),
		Desc:    fmt.Sprintf("wait until %s is primary of every group and %s secondary of every group, out of RG0 secondary-hold (the hold-down interval), both healthy; the configuration unchanged", to, from),
		Cluster: b.c,
		G: upgrade.Gate{Name: "groups moved to " + to, Timing: b.timing, Check: func(s upgrade.Snapshot) error {
			if err := errors.Join(b.primaryCond(s, to, true), b.secondaryCond(s, from, false), problems(s)); err != nil {
				return err
			}
			return b.configCond()
		}},
	}
}

// postcheck is the final gate: the plan's end state.
func (b builder) postcheck() upgrade.Step {
	return &upgrade.Wait{
		StepID:  postcheckStepID(b.target),
		Desc:    fmt.Sprintf("post-check: both nodes on %s and healthy, one primary and one secondary per group, no manual failover, no monitor failure; the configuration unchanged", b.target),
		Cluster: b.c,
		G: upgrade.Gate{Name: "post-check", Timing: b.timing, Check: func(s upgrade.Snapshot) error {
			if err := b.finalCond(s); err != nil {
				return err
			}
			return b.configCond()
		}},
	}
}

// configCond is the configuration comparison of the gates, bounded by
// Config.CommandTimeout (a gate check has no context of its own).
func (b builder) configCond() error {
	ctx, cancel := context.WithTimeout(context.Background(), b.c.cfg.CommandTimeout)
	defer cancel()
	err := b.c.checkConfig(ctx, b.target)
	if errors.Is(err, ErrConfigChanged) {
		return fmt.Errorf("%w: %w", upgrade.ErrPermanent, err)
	}
	return err
}

// member returns the state and rows of node id in s, or an error naming why
// they cannot be used.
func member(s upgrade.Snapshot, id string) (upgrade.MemberState, map[int]rgView, error) {
	m, ok := s.Member(id)
	if !ok {
		return m, nil, &NodeError{Node: id, RG: -1, Op: "gate", Err: cond(ErrUnreadable, "missing from the snapshot")}
	}
	rows, ok := parseRaw(m.Raw)
	if !ok {
		kind := ErrUnreadable
		if m.Role == upgrade.RoleDown || m.Role == upgrade.RoleLost {
			kind = ErrUnreachable
		}
		err := cond(kind, "%s is %s (%s)", id, m.Role, m.Raw)
		if len(m.Problems) > 0 {
			err = classify(m.Problems[0])
		}
		return m, nil, &NodeError{Node: id, RG: -1, Op: "gate", Err: err}
	}
	return m, rows, nil
}

// nodeOK checks that node id is healthy, and on the target when onTarget.
func (b builder) nodeOK(s upgrade.Snapshot, id string, onTarget bool) error {
	m, _, err := member(s, id)
	if err != nil {
		return err
	}
	var errs []error
	if onTarget {
		v, verr := ParseVersion(m.Version)
		switch {
		case m.Version == "":
			errs = append(errs, cond(ErrUnreadable, "%s: version unknown", id))
		case verr != nil:
			errs = append(errs, cond(ErrUnreadable, "%s: version %q: %v", id, m.Version, verr))
		case !SameRelease(v, b.tv):
			errs = append(errs, cond(ErrUnexpectedRole, "%s runs %s, not %s yet", id, m.Version, b.target))
		}
	}
	if !m.Healthy {
		for _, p := range m.Problems {
			errs = append(errs, classify(p))
		}
		if len(m.Problems) == 0 {
			errs = append(errs, cond(ErrUnreadable, "%s is not healthy", id))
		}
	}
	if len(errs) > 0 {
		return &NodeError{Node: id, RG: -1, Op: "gate", Err: errors.Join(errs...)}
	}
	return nil
}

// secondaryCond: node id is healthy and secondary of every group (RG0
// "secondary", not secondary-hold), on the target when onTarget.
func (b builder) secondaryCond(s upgrade.Snapshot, id string, onTarget bool) error {
	if err := b.nodeOK(s, id, onTarget); err != nil {
		return err
	}
	_, rows, _ := member(s, id)
	var errs []error
	for _, g := range b.rgs {
		r, ok := rows[g]
		switch {
		case !ok:
			errs = append(errs, &NodeError{Node: id, RG: g, Op: "gate", Err: cond(ErrUnreadable, "no row for RG%d", g)})
		case r.state != StateSecondary:
			errs = append(errs, &NodeError{Node: id, RG: g, Op: "gate", Err: cond(ErrUnexpectedRole, "%s is %s in RG%d, want secondary", id, r.state, g)})
		}
	}
	return errors.Join(errs...)
}

// primaryCond: node id is healthy and primary of every group, on the
// target when onTarget.
func (b builder) primaryCond(s upgrade.Snapshot, id string, onTarget bool) error {
	if err := b.nodeOK(s, id, onTarget); err != nil {
		return err
	}
	_, rows, _ := member(s, id)
	var errs []error
	for _, g := range b.rgs {
		if r, ok := rows[g]; !ok || r.state != StatePrimary {
			errs = append(errs, &NodeError{Node: id, RG: g, Op: "gate", Err: cond(ErrUnexpectedRole, "%s is %s in RG%d, want primary", id, r.state, g)})
		}
	}
	return errors.Join(errs...)
}

// failoverCond is the safety precondition of a failover of g to node to:
// to is healthy on the target, secondary of g (RG0: not secondary-hold)
// with a non-zero priority; from is healthy and primary of g; the cluster
// reports no problem.
func (b builder) failoverCond(s upgrade.Snapshot, g int, to, from string) error {
	var errs []error
	if err := b.nodeOK(s, to, true); err != nil {
		errs = append(errs, err)
	} else if _, rows, _ := member(s, to); rows[g].state != StateSecondary || rows[g].prio == 0 {
		errs = append(errs, &NodeError{Node: to, RG: g, Op: "gate", Err: cond(ErrUnexpectedRole, "%s is %s with priority %d in RG%d, want secondary with a non-zero priority", to, rows[g].state, rows[g].prio, g)})
	}
	if err := b.nodeOK(s, from, false); err != nil {
		errs = append(errs, err)
	} else if _, rows, _ := member(s, from); rows[g].state != StatePrimary {
		errs = append(errs, &NodeError{Node: from, RG: g, Op: "gate", Err: cond(ErrUnexpectedRole, "%s is %s in RG%d, want primary", from, rows[g].state, g)})
	}
	return errors.Join(append(errs, problems(s))...)
}

// finalCond is the end state without the configuration: both nodes
// healthy on the target, one primary and one secondary per group, no
// manual failover, no cluster problem.
func (b builder) finalCond(s upgrade.Snapshot) error {
	errs := []error{b.nodeOK(s, NodeNames[0], true), b.nodeOK(s, NodeNames[1], true), problems(s)}
	_, r0, e0 := member(s, NodeNames[0])
	_, r1, e1 := member(s, NodeNames[1])
	if e0 == nil && e1 == nil {
		for _, g := range b.rgs {
			a, c := r0[g], r1[g]
			pair := [2]State{a.state, c.state}
			if pair != [2]State{StatePrimary, StateSecondary} && pair != [2]State{StateSecondary, StatePrimary} {
				errs = append(errs, &NodeError{Node: "cluster", RG: g, Op: "gate", Err: cond(ErrRoles, "RG%d: node0 %s, node1 %s; want one primary and one secondary", g, a.state, c.state)})
			}
			if a.manual || c.manual || a.prio == 255 || c.prio == 255 {
				errs = append(errs, &NodeError{Node: "cluster", RG: g, Op: "gate", Err: cond(ErrManualFailover, "RG%d: a manual failover is still in effect", g)})
			}
		}
	}
	return errors.Join(errs...)
}

// problems returns the snapshot's cluster-wide problems as typed errors.
func problems(s upgrade.Snapshot) error {
	var errs []error
	for _, p := range s.Problems {
		errs = append(errs, classify(p))
	}
	return errors.Join(errs...)
}
