package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/upgrade"
)

// The VSX-specific steps of the plan (R81.20 Installation and Upgrade
// Guide, "MVC Upgrade Procedure - VSX Mode"): after a member is back on
// the target, the Jumbo Hotfix with the CoreXL Dynamic Balancing
// workaround when Config.JumboPath is set, then the VSX checks.

// dynamicSplitConf is the CoreXL Dynamic Balancing configuration file.
const dynamicSplitConf = "$FWDIR/conf/dynamic_split.conf"

// dynamicSplitBackup is where dynsplit keeps the original file.
const dynamicSplitBackup = dynamicSplitConf + ".hitless-backup"

// dynamicSplitLine is the workaround's setting (PMTR-114499).
const dynamicSplitLine = "OFF_BY_DEFAULT_ON_VSX=1"

// vsxAfterBack returns the steps between a VSX member's return on the
// target and MVC on.
func (b *builder) vsxAfterBack(n string) []upgrade.Step {
	var steps []upgrade.Step
	if b.c.cfg.JumboPath != "" {
		if sameRelease(b.target, "R81.20") {
			steps = append(steps, b.dynsplit(n))
		}
		steps = append(steps, b.stageJumbo(n), b.jumbo(n), b.waitJumbo(n))
	}
	return append(steps, b.vsxCheck(n))
}

// dynsplit applies the CoreXL Dynamic Balancing workaround on n.
func (b *builder) dynsplit(n string) upgrade.Step {
	m := b.member(n)
	return &upgrade.Func{
		StepID: b.id("dynsplit", n),
		Desc: fmt.Sprintf("CoreXL Dynamic Balancing workaround on %s before the R81.20 Jumbo Hotfix (PMTR-114499): back up %s, set %s, read it back; disrupts nothing",
			n, dynamicSplitConf, dynamicSplitLine),
		Retryable: true,
		Do:        func(ctx context.Context) error { return m.dynamicSplit(ctx) },
		Check: func(ctx context.Context) (bool, error) {
			ok, err := m.dynamicSplitSet(ctx)
			return ok && err == nil, nil
		},
	}
}

// dynamicSplit backs the file up (once: an existing backup is the
// original) and adds the workaround's line unless present, then reads it
// back. A line setting OFF_BY_DEFAULT_ON_VSX to another value is refused
// (an operator decides).
func (m *ClusterMember) dynamicSplit(ctx context.Context) error {
	fail := func(err error) error {
		return &MemberError{Member: m.gw.Name, Host: m.host, Op: "dynamic_split.conf", Err: fmt.Errorf("%w: %w", ErrDynamicSplit, err)}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out, err := m.runLocked(ctx, modeExpert, "dynamic_split.conf", "ls -l "+dynamicSplitBackup, true)
	if err != nil {
		return err
	}
	if !strings.Contains(out, "dynamic_split.conf.hitless-backup") || strings.Contains(out, "No such file") {
		if _, err := m.expertChangeLocked(ctx, "dynamic_split.conf", "cp "+dynamicSplitConf+" "+dynamicSplitBackup, false); err != nil {
			return err
		}
	}
	content, err := m.runLocked(ctx, modeExpert, "dynamic_split.conf", "cat "+dynamicSplitConf, true)
	if err != nil {
		return err
	}
	has, conflict := dynamicSplitState(content)
	if conflict != "" {
		return fail(fmt.Errorf("%s already sets %q; not changing it", dynamicSplitConf, conflict))
	}
	if !has {
		if _, err := m.expertChangeLocked(ctx, "dynamic_split.conf", "echo "+dynamicSplitLine+" >> "+dynamicSplitConf, false); err != nil {
			return err
		}
		content, err = m.runLocked(ctx, modeExpert, "dynamic_split.conf", "cat "+dynamicSplitConf, true)
		if err != nil {
			return err
		}
		if has, _ = dynamicSplitState(content); !has {
			return fail(fmt.Errorf("%s does not read back %s after writing it", dynamicSplitConf, dynamicSplitLine))
		}
	}
	m.c.log.Info("checkpoint: CoreXL Dynamic Balancing workaround in place", "member", m.gw.Name)
	return nil
}

// dynamicSplitSet reports whether the workaround's line is in the file and
// the backup exists.
func (m *ClusterMember) dynamicSplitSet(ctx context.Context) (bool, error) {
	content, err := m.expert(ctx, "dynamic_split.conf", "cat "+dynamicSplitConf, false)
	if err != nil {
		return false, err
	}
	has, _ := dynamicSplitState(content)
	if !has {
		return false, nil
	}
	out, err := m.expert(ctx, "dynamic_split.conf", "ls -l "+dynamicSplitBackup, false)
	if err != nil {
		return false, err
	}
	return strings.Contains(out, "hitless-backup") && !strings.Contains(out, "No such file"), nil
}

// dynamicSplitState reads dynamic_split.conf: has reports the workaround's
// line; conflict is another OFF_BY_DEFAULT_ON_VSX setting.
func dynamicSplitState(content string) (has bool, conflict string) {
	for l := range strings.Lines(content) {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "#"):
		case strings.ReplaceAll(t, " ", "") == dynamicSplitLine:
			has = true
		case strings.HasPrefix(t, "OFF_BY_DEFAULT_ON_VSX"):
			conflict = t
		}
	}
	return has, conflict
}

// jumboDone reports whether n has the Jumbo take installed.
func (b *builder) jumboDone(ctx context.Context, m *ClusterMember) (bool, error) {
	take, err := m.readTake(ctx)
	if err != nil {
		return false, err
	}
	return take >= b.c.cfg.JumboTake, nil
}

// stageJumbo imports and verifies the Jumbo package on n.
func (b *builder) stageJumbo(n string) upgrade.Step {
	m := b.member(n)
	return &upgrade.Func{
		StepID: b.id("stage-jumbo", n),
		Desc: fmt.Sprintf("stage the Jumbo Hotfix take %d on %s with CPUSE: SCP %s, installer import local, installer verify; disrupts nothing",
			b.c.cfg.JumboTake, n, filepath.Base(b.c.cfg.JumboPath)),
		Retryable: true,
		Do: func(ctx context.Context) error {
			if done, err := b.jumboDone(ctx, m); err != nil || done {
				return err
			}
			return m.stagePackage(ctx, b.c.cfg.JumboPath)
		},
	}
}

// jumbo installs the Jumbo on n (disruptive: the member reboots).
func (b *builder) jumbo(n string) upgrade.Step {
	m := b.member(n)
	file := filepath.Base(b.c.cfg.JumboPath)
	return &upgrade.Func{
		StepID: b.id("jumbo", n),
		Desc: fmt.Sprintf("install the Jumbo Hotfix take %d on %s as an upgrade: installer upgrade %s not-interactive, after checking on every member that another member forwards (R81.20 Installation and Upgrade Guide, VSX; PMTR-114499); %s reboots",
			b.c.cfg.JumboTake, n, file, n),
		Members: []string{n},
		Do: func(ctx context.Context) error {
			if done, err := b.jumboDone(ctx, m); err != nil || done {
				return err
			}
			return m.apply(ctx, b.target, "jumbo", file, true)
		},
		Check: func(ctx context.Context) (bool, error) {
			return b.verifyApplied(ctx, m, "Jumbo installation", func(ctx context.Context, _ reading) (bool, error) {
				return b.jumboDone(ctx, m)
			})
		},
	}
}

// waitJumbo waits until n is back with the Jumbo take.
func (b *builder) waitJumbo(n string) upgrade.Step {
	m := b.member(n)
	c := b.c
	return &upgrade.Func{
		StepID:    b.id("wait-jumbo", n),
		Desc:      fmt.Sprintf("wait until %s is back from the Jumbo installation with take %d, READY or STANDBY on %s; another member ACTIVE", n, c.cfg.JumboTake, b.target),
		Retryable: true,
		Do: func(ctx context.Context) error {
			return upgrade.PollUntil(ctx, n+" back with Jumbo take "+fmt.Sprint(c.cfg.JumboTake), b.timing, func(ctx context.Context) error {
				s, err := c.Observe(ctx)
				if err != nil {
					return err
				}
				if err := errors.Join(b.memberCond(s, n, true, upgrade.RoleReady, upgrade.RoleStandby), b.otherActive(s, n)); err != nil {
					return err
				}
				take, err := m.readTake(ctx)
				if err != nil {
					return err
				}
				if take < c.cfg.JumboTake {
					return &MemberError{Member: n, Op: "gate", Err: cond(ErrUnexpectedVersion, "Jumbo take %d installed, want %d", take, c.cfg.JumboTake)}
				}
				return nil
			}, nil)
		},
	}
}

// vsxCheck waits until n's virtual devices are ready and agree.
func (b *builder) vsxCheck(n string) upgrade.Step {
	m := b.member(n)
	c := b.c
	return &upgrade.Func{
		StepID:    b.id("vsx-check", n),
		Desc:      fmt.Sprintf("check %s with vsx stat -v (every virtual device loaded, SIC trust, a policy on every Virtual System) and cphaprob state in every Virtual System (the same member states as VS0) (R81.20 Installation and Upgrade Guide, \"MVC Upgrade Procedure - VSX Mode\")", n),
		Retryable: true,
		Do: func(ctx context.Context) error {
			return upgrade.PollUntil(ctx, "VSX checks of "+n, b.timing, func(ctx context.Context) error {
				r := m.read(ctx, true)
				if r.err != nil {
					return r.err
				}
				return errors.Join(c.vsxProblems(ctx, m, r)...)
			}, nil)
		},
	}
}

// vsxProblems checks a VSX member's `vsx stat -v` (from its reading) and
// the member states every Virtual System shows.
func (c *Cluster) vsxProblems(ctx context.Context, m *ClusterMember, r reading) []error {
	rule := func(err error) error { return &RuleError{Member: m.gw.Name, Rule: RuleVirtualDevices, Err: err} }
	if r.vsxErr != nil {
		return []error{rule(fmt.Errorf("%w: %w", ErrUnreadable, r.vsxErr))}
	}
	if r.vsx == nil || r.cs == nil {
		return []error{rule(cond(ErrUnreadable, "vsx stat -v not read"))}
	}
	var errs []error
	for _, d := range r.vsx.NotReady() {
		errs = append(errs, rule(cond(ErrVSNotReady, "virtual device %d (%s): %s", d.ID, d.Name, d.Problem())))
	}
	if !r.vsx.Totals.AllActive() {
		errs = append(errs, rule(cond(ErrVSNotReady, "Virtual Systems active %d of %d, Virtual Routers and Switches active %d of %d",
			r.vsx.Totals.VirtualSystemsActive, r.vsx.Totals.VirtualSystemsConfigured, r.vsx.Totals.RoutersSwitchesActive, r.vsx.Totals.RoutersSwitchesConfigured)))
	}
	vs0 := statesByName(r.cs)
	for _, d := range r.vsx.Devices {
		if d.Type != TypeVirtualSystem && d.Type != TypeVirtualSystemBridge {
			continue
		}
		out, err := m.expert(ctx, "cphaprob state", c.inVS(d.ID, "cphaprob state"), false)
		if err != nil {
			if unreachable(err) || errors.Is(err, driver.ErrHostKey) {
				return append(errs, err)
			}
			errs = append(errs, rule(fmt.Errorf("%w: Virtual System %d (%s): %w", ErrUnreadable, d.ID, d.Name, err)))
			continue
		}
		cs, err := ParseClusterState(out)
		if err != nil {
			errs = append(errs, rule(fmt.Errorf("%w: Virtual System %d (%s): %w", ErrUnreadable, d.ID, d.Name, err)))
			continue
		}
		got := statesByName(&cs)
		for name, want := range vs0 {
			if got[name] != want {
				errs = append(errs, rule(cond(ErrVSDisagree, "Virtual System %d (%s) shows %s as %q, VS0 as %q", d.ID, d.Name, name, got[name], want)))
			}
		}
	}
	return errs
}

// statesByName maps a member table to name (or "#ID") → state.
func statesByName(cs *ClusterState) map[string]string {
	out := map[string]string{}
	for _, r := range cs.Members {
		k := r.Name
		if k == "" {
			k = fmt.Sprintf("#%d", r.ID)
		}
		out[k] = r.State.String()
	}
	return out
}

// statFile returns a local file's size.
func statFile(p string) (int64, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
