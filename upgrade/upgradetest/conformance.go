package upgradetest

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// Conformance configures TestCluster.
type Conformance struct {
	// New returns a fresh cluster: at least two members, exactly one
	// forwarding, all healthy, none on Target. Required.
	New func(t *testing.T) upgrade.Cluster
	// Target is a version every member can be upgraded to. Required.
	Target string
	// Grammar compares versions; required when Planner is nil (the generic
	// planner needs one), otherwise nil compares exact text.
	Grammar versionpath.Grammar
	// GateTiming bounds every wait in the suite.
	GateTiming upgrade.Timing
	// Bubble runs each subtest inside a testing/synctest bubble. Set it for
	// in-memory fakes; leave it false for implementations that use real
	// sockets (simulators on loopback), which must not run in a bubble.
	Bubble bool
	// ActiveActive is for clusters whose members all forward at once
	// (Aviatrix ActiveMesh pairs, load sharing): the suite then expects at
	// least one forwarding member instead of exactly one, and every member
	// that forwarded at the start to forward at the end. When every member
	// forwards, "install on a standby" installs on the last member.
	ActiveActive bool
	// Planner returns the planner for the full upgrade subtest; nil means
	// upgrade.Rolling with Grammar and GateTiming.
	Planner func(c upgrade.Cluster) upgrade.Planner
}

// TestCluster is the conformance suite every upgrade.Cluster implementation
// must pass (hitless's fakes, each vendor package against its simulator).
// It checks identity, observation (one state per member, in the
// cluster's terms: upgrade.CheckSnapshot, and no cluster-wide problem on a
// healthy cluster), cancellation, install on a standby, a full guarded
// rolling upgrade with the planner (whose plan must carry its end-state
// check and pass the executor's check after every step), and that a
// journal of a finished run replayed against a fresh cluster still on the
// old version fails with upgrade.ErrNotConverged without changing any
// member.
func TestCluster(t *testing.T, cfg Conformance) {
	t.Helper()
	if cfg.New == nil || cfg.Target == "" {
		t.Fatal("upgradetest.Conformance needs New and Target")
	}
	if cfg.GateTiming == (upgrade.Timing{}) {
		cfg.GateTiming = upgrade.DefaultGateTiming()
	}
	run := func(name string, f func(t *testing.T, c upgrade.Cluster)) {
		t.Run(name, func(t *testing.T) {
			body := func(t *testing.T) { f(t, cfg.New(t)) }
			if cfg.Bubble {
				synctest.Test(t, body)
				return
			}
			body(t)
		})
	}
	same := func(have string) bool {
		if cfg.Grammar == nil {
			return have == cfg.Target
		}
		a, err1 := cfg.Grammar.Parse(have)
		b, err2 := cfg.Grammar.Parse(cfg.Target)
		return err1 == nil && err2 == nil && a.Compare(b) == 0
	}
	observe := func(t *testing.T, c upgrade.Cluster) upgrade.Snapshot {
		t.Helper()
		s, err := c.Observe(t.Context())
		if err != nil {
			t.Fatalf("Observe: %v", err)
		}
		return s
	}
	standby := func(t *testing.T, s upgrade.Snapshot) string {
		t.Helper()
		for _, m := range s.Members {
			if !m.Forwarding() {
				return m.ID
			}
		}
		if cfg.ActiveActive && len(s.Members) > 0 {
			// Every member forwards: install on the last one (its Install
			// takes it out of forwarding itself).
			return s.Members[len(s.Members)-1].ID
		}
		t.Fatal("no standby member")
		return ""
	}

	run("identity", func(t *testing.T, c upgrade.Cluster) {
		if err := upgrade.ValidateCluster(c); err != nil {
			t.Fatal(err)
		}
		if n := len(c.Members()); n < 2 {
			t.Fatalf("%d members, want at least 2", n)
		}
	})
	run("observe reports every member once", func(t *testing.T, c upgrade.Cluster) {
		s := observe(t, c)
		if s.Cluster != c.Name() {
			t.Errorf("snapshot cluster %q, want %q", s.Cluster, c.Name())
		}
		for _, m := range c.Members() {
			st, ok := s.Member(m.ID())
			if !ok {
				t.Errorf("member %s missing from snapshot", m.ID())
				continue
			}
			if st.Version == "" || same(st.Version) {
				t.Errorf("member %s version %q: want a version below target %s", m.ID(), st.Version, cfg.Target)
			}
			if !st.Healthy {
				t.Errorf("member %s not healthy at start: %v", m.ID(), st.Problems)
			}
		}
		if len(s.Members) != len(c.Members()) {
			t.Errorf("snapshot has %d members, cluster %d", len(s.Members), len(c.Members()))
		}
		if err := upgrade.CheckSnapshot(c, s); err != nil {
			t.Error(err)
		}
		if len(s.Problems) > 0 {
			t.Errorf("a healthy cluster reports cluster-wide problems: %v", s.Problems)
		}
		checkForwarding(t, cfg, s, nil)
	})
	run("observe honours a cancelled context", func(t *testing.T, c upgrade.Cluster) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := c.Observe(ctx); err == nil {
			t.Error("Observe with a cancelled context returned no error")
		}
	})
	run("install on a standby reaches the target", func(t *testing.T, c upgrade.Cluster) {
		id := standby(t, observe(t, c))
		var m upgrade.Member
		for _, mm := range c.Members() {
			if mm.ID() == id {
				m = mm
			}
		}
		if err := m.Install(t.Context(), cfg.Target); err != nil {
			t.Fatalf("Install(%s): %v", id, err)
		}
		_, err := upgrade.WaitFor(t.Context(), c, upgrade.Gate{Name: "installed", Timing: cfg.GateTiming, Check: func(s upgrade.Snapshot) error {
			st, _ := s.Member(id)
			if !same(st.Version) || !st.Healthy {
				return errNotYet(id, st)
			}
			if len(s.Forwarding()) == 0 {
				return errNoForwarding
			}
			return nil
		}}, nil)
		if err != nil {
			t.Fatal(err)
		}
	})
	planner := func(c upgrade.Cluster) upgrade.Planner {
		if cfg.Planner != nil {
			return cfg.Planner(c)
		}
		return upgrade.Rolling{Cluster: c, Grammar: cfg.Grammar, GateTiming: cfg.GateTiming}
	}
	run("rolling upgrade with the guard", func(t *testing.T, c upgrade.Cluster) {
		s := observe(t, c)
		p, err := planner(c).Plan(s, cfg.Target)
		if err != nil {
			t.Fatalf("plan: %v", err)
		}
		rep, err := (&upgrade.Executor{}).Run(t.Context(), c, p)
		if err != nil {
			t.Fatalf("run: %v\n%s", err, rep.Markdown())
		}
		end := observe(t, c)
		for _, m := range end.Members {
			if !same(m.Version) {
				t.Errorf("member %s on %q after the run, want %s", m.ID, m.Version, cfg.Target)
			}
		}
		checkForwarding(t, cfg, end, &s)
		// Re-planning a converged cluster yields nothing to do.
		p2, err := planner(c).Plan(end, cfg.Target)
		if err != nil || len(p2.Steps) != 0 {
			t.Errorf("re-plan after convergence: %d steps, err %v; want none", len(p2.Steps), err)
		}
	})
	run("a replayed journal does not fake convergence", func(t *testing.T, c upgrade.Cluster) {
		s := observe(t, c)
		p, err := planner(c).Plan(s, cfg.Target)
		if err != nil {
			t.Fatalf("plan: %v", err)
		}
		if p.Converged == nil {
			t.Fatal("the plan has no end-state check (Plan.Converged)")
		}
		// A journal that claims every step of this plan finished.
		j := &upgrade.MemoryJournal{}
		recs := []upgrade.Record{{Kind: upgrade.RecordPlan, Cluster: p.Cluster, Target: p.Target, Fingerprint: p.Fingerprint(), Steps: p.StepIDs(), Disrupts: disrupted(p)}}
		for _, id := range p.StepIDs() {
			recs = append(recs, upgrade.Record{Kind: upgrade.RecordStart, Step: id}, upgrade.Record{Kind: upgrade.RecordFinish, Step: id})
		}
		for i, r := range recs {
			r.Seq = i + 1
			if err := j.Append(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := (&upgrade.Executor{Journal: j}).Run(t.Context(), c, p)
		if !errors.Is(err, upgrade.ErrNotConverged) {
			t.Fatalf("replayed journal on an unchanged cluster: err %v, want ErrNotConverged (ok=%t)", err, rep.OK)
		}
		end := observe(t, c)
		for _, m := range s.Members {
			if e, _ := end.Member(m.ID); e.Version != m.Version {
				t.Errorf("member %s changed from %q to %q during a replay", m.ID, m.Version, e.Version)
			}
		}
	})
}

// disrupted returns, per step of p, the members it disrupts (for a journal
// plan record).
func disrupted(p upgrade.Plan) [][]string {
	d := make([][]string, len(p.Steps))
	for i, st := range p.Steps {
		d[i] = append([]string{}, st.Disrupts()...)
	}
	return d
}

// checkForwarding checks the forwarding members of s: exactly one, or for
// ActiveActive clusters at least one and (with start) every member that
// forwarded at the start.
func checkForwarding(t *testing.T, cfg Conformance, s upgrade.Snapshot, start *upgrade.Snapshot) {
	t.Helper()
	f := s.Forwarding()
	switch {
	case !cfg.ActiveActive && len(f) != 1:
		t.Errorf("forwarding members %v, want exactly one", f)
	case cfg.ActiveActive && len(f) == 0:
		t.Error("no member forwards")
	case cfg.ActiveActive && start != nil:
		for _, id := range start.Forwarding() {
			if m, _ := s.Member(id); !m.Forwarding() {
				t.Errorf("member %s forwarded at the start but not at the end (role %s)", id, m.Role)
			}
		}
	}
}

type notYet struct {
	id string
	st upgrade.MemberState
}

func (e notYet) Error() string {
	return "member " + e.id + " not upgraded yet: role " + string(e.st.Role) + ", version " + e.st.Version
}

func errNotYet(id string, st upgrade.MemberState) error { return notYet{id, st} }

type constErr string

func (e constErr) Error() string { return string(e) }

const errNoForwarding = constErr("no member forwards")
