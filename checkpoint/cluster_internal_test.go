package checkpoint

// Unit tests with scripted sessions (driver/drivertest): no sockets. The
// scripted gateway answers the commands the package sends: the Expert
// login exchange, the Expert probe, cphaprob state/mvc, fw ver, the exit
// status and the CPUSE commands.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hitless/hitless/driver"
	"github.com/hitless/hitless/driver/drivertest"
	"github.com/hitless/hitless/upgrade"
)

const (
	testPassword       = "Sshh-Login-Pw-1"
	testExpertPassword = "Expert-Pw-2"
	haModeText         = "High Availability (Active Up) with IGMP Membership"
)

// row is one member table row of a scripted `cphaprob state`.
type row struct {
	id    int
	state string
	name  string
}

// stateText renders `cphaprob state` in the layout of the R82 capture.
func stateText(local int, pnotes string, rows ...row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nCluster Mode:   %s\n\nID         Unique Address  Assigned Load   State          Name\n\n", haModeText)
	for _, r := range rows {
		id := fmt.Sprint(r.id)
		if r.id == local {
			id += " (local)"
		}
		load := "0%"
		if strings.HasPrefix(r.state, "ACTIVE") {
			load = "100%"
		}
		fmt.Fprintf(&b, "%-11s%-16s%-16s%-15s%s\n", id, fmt.Sprintf("192.168.255.%d", r.id), load, r.state, r.name)
	}
	if pnotes == "" {
		pnotes = "None"
	}
	fmt.Fprintf(&b, "\n\nActive PNOTEs: %s\n\n", pnotes)
	return b.String()
}

// gw is a scripted gateway whose answers can be changed between calls.
type gw struct {
	name string
	s    *drivertest.Scripted

	mu      sync.Mutex
	state   string
	release string
	mvc     bool
}

func (g *gw) set(f func(g *gw)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(g)
}

func (g *gw) get(f func(g *gw) string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return f(g)
}

// newGW scripts a gateway: state is its `cphaprob state` output.
func newGW(name, host, release, state string) *gw {
	g := &gw{name: name, state: state, release: release}
	fn := func(out func(g *gw) string) drivertest.Reply {
		return drivertest.Reply{Func: func(context.Context, string) (string, error) { return g.get(out), nil }}
	}
	g.s = drivertest.NewScripted(host, map[string]drivertest.Reply{
		"expert": {Prompts: []drivertest.Prompt{{Text: "Enter expert password:", Answer: testExpertPassword}},
			Output: "Warning! All configurations should be done through clish\nYou are in expert mode now.\n"},
		"echo hitless-expert-ok": {Output: "hitless-expert-ok"},
		"echo hitless-rc=$?":     {Output: "hitless-rc=0"},
		"exit":                   {},
		"cphaprob state":         fn(func(g *gw) string { return g.state }),
		"fw ver":                 fn(func(g *gw) string { return "This is Check Point's software version " + g.release + " - Build 059" }),
		"cphaprob mvc": fn(func(g *gw) string {
			if g.mvc {
				return "MVC: On"
			}
			return "MVC: Off"
		}),
	})
	return g
}

// testFiles writes a known_hosts file and a package file.
func testFiles(t *testing.T, hosts ...string) (known, pkg string) {
	t.Helper()
	dir := t.TempDir()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	sp, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	var lines []string
	for _, h := range hosts {
		lines = append(lines, knownhosts.Line([]string{h}, sp))
	}
	known = filepath.Join(dir, "known_hosts")
	require.NoError(t, os.WriteFile(known, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	pkg = filepath.Join(dir, "Check_Point_R82_T777_Fresh_Install_and_Upgrade.tar")
	require.NoError(t, os.WriteFile(pkg, make([]byte, 4096), 0o600))
	return known, pkg
}

// testConfig is a valid Config for members named names on 127.0.0.1.
func testConfig(t *testing.T, names ...string) Config {
	t.Helper()
	var gws []Gateway
	var hosts []string
	for i, n := range names {
		gws = append(gws, Gateway{Name: n, Host: "127.0.0.1", Port: 2201 + i})
		hosts = append(hosts, fmt.Sprintf("[127.0.0.1]:%d", 2201+i))
	}
	known, pkg := testFiles(t, hosts...)
	return Config{
		Name: "hq", ClusterObject: "cpcluster", Members: gws,
		Username: "admin", Password: testPassword, ExpertPassword: testExpertPassword,
		KnownHostsFile: known, PackagePath: pkg,
		Mgmt:             MgmtConfig{URL: "https://localhost", User: "api", Password: "Mgmt-Pw-3"},
		MinFreeDiskMB:    -1,
		CommandTimeout:   time.Second,
		ReconnectTimeout: 50 * time.Millisecond,
		ReconnectBackoff: driver.Backoff{Initial: 5 * time.Millisecond, Max: 10 * time.Millisecond, Factor: 2},
		ApplyGrace:       100 * time.Millisecond,
	}
}

// scriptedCluster builds a Cluster whose members are the scripted gws, in
// order.
func scriptedCluster(t *testing.T, cfg Config, gws ...*gw) *Cluster {
	t.Helper()
	byHost := map[string]*gw{}
	for i, g := range gws {
		byHost[cfg.Members[i].addr()] = g
	}
	open := func(_ context.Context, dc driver.Config) (driver.Session, error) {
		addr := Gateway{Host: dc.Host, Port: dc.Port}.addr()
		if g, ok := byHost[addr]; ok {
			return g.s, nil
		}
		return nil, &driver.UnreachableError{Host: addr, Err: fmt.Errorf("no scripted gateway")}
	}
	tr := transport{
		open: open,
		reconnect: func(ctx context.Context, dc driver.Config, _ driver.Backoff) (driver.Session, error) {
			return open(ctx, dc)
		},
		upload: func(context.Context, driver.Config, string, string, driver.VerifyFunc) error { return nil },
	}
	c, err := newCluster(t.Context(), cfg, tr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// healthyPair returns scripted gw-a (ACTIVE) and gw-b (STANDBY) on release.
func healthyPair(release string) (*gw, *gw) {
	rows := func(local int) string {
		return stateText(local, "", row{1, "ACTIVE", "gw-a"}, row{2, "STANDBY", "gw-b"})
	}
	return newGW("gw-a", "127.0.0.1:2201", release, rows(1)), newGW("gw-b", "127.0.0.1:2202", release, rows(2))
}

func TestObserveHealthyPair(t *testing.T) {
	a, b := healthyPair("R81.20")
	c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
	s, err := c.Observe(t.Context())
	require.NoError(t, err)
	require.NoError(t, upgrade.CheckSnapshot(c, s))
	assert.Empty(t, s.Problems)
	ma, _ := s.Member("gw-a")
	mb, _ := s.Member("gw-b")
	assert.Equal(t, upgrade.MemberState{ID: "gw-a", Role: upgrade.RoleActive, Raw: "ACTIVE", Version: "R81.20", Healthy: true}, ma)
	assert.Equal(t, upgrade.MemberState{ID: "gw-b", Role: upgrade.RoleStandby, Raw: "STANDBY", Version: "R81.20", Healthy: true}, mb)
	assert.Equal(t, []string{"gw-a"}, s.Forwarding())
	// The session entered Expert mode once, with the secret redacted.
	calls := a.s.Calls()
	require.NotEmpty(t, calls)
	assert.Equal(t, "Interact", calls[0].Method)
	assert.Equal(t, "********", calls[0].Steps[1].Input)
}

func TestObserveRoles(t *testing.T) {
	for _, tc := range []struct {
		state   string
		pnotes  string
		role    upgrade.Role
		healthy bool
		problem error
	}{
		{"ACTIVE", "", upgrade.RoleActive, true, nil},
		{"ACTIVE(!)", "IAC", upgrade.RoleActive, false, ErrAttention},
		{"ACTIVE(!F)", "", upgrade.RoleActive, false, ErrAttention},
		{"ACTIVE(!P)", "", upgrade.RoleActive, false, ErrAttention},
		{"ACTIVE(!FP)", "", upgrade.RoleActive, false, ErrAttention},
		{"STANDBY", "", upgrade.RoleStandby, true, nil},
		{"STANDBY", "COREXL", upgrade.RoleStandby, false, ErrPNOTEs},
		{"READY", "", upgrade.RoleReady, false, ErrStillReady},
		{"DOWN", "ADMIN", upgrade.RoleDown, false, ErrAdminDown},
		{"DOWN", "Interface Active Check", upgrade.RoleDown, false, ErrMemberDown},
	} {
		t.Run(tc.state+"/"+tc.pnotes, func(t *testing.T) {
			a := newGW("gw-a", "127.0.0.1:2201", "R81.20", stateText(1, tc.pnotes, row{1, tc.state, "gw-a"}, row{2, "STANDBY", "gw-b"}))
			_, b := healthyPair("R81.20")
			c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
			st, err := c.Member("gw-a").Status(t.Context())
			require.NoError(t, err)
			assert.Equal(t, tc.role, st.Role)
			assert.Equal(t, tc.healthy, st.Healthy, st.Problems)
			assert.Equal(t, tc.state, st.Raw)
			if tc.problem != nil {
				require.NotEmpty(t, st.Problems)
				assert.ErrorIs(t, classify(st.Problems[0]), tc.problem)
			}
		})
	}
}

func TestObserveUnknownStateFailsClosed(t *testing.T) {
	a, b := healthyPair("R81.20")
	b.set(func(g *gw) { g.state = stateText(2, "", row{1, "ACTIVE", "gw-a"}, row{2, "SLEEPING", "gw-b"}) })
	c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
	s, err := c.Observe(t.Context())
	require.NoError(t, err)
	mb, _ := s.Member("gw-b")
	assert.Equal(t, upgrade.RoleUnknown, mb.Role)
	assert.False(t, mb.Healthy)
	_, err = c.Member("gw-b").Status(t.Context())
	assert.ErrorIs(t, err, ErrUnrecognized)
	_, err = Planner{Cluster: c}.Plan(s, "R82")
	assertRule(t, err, "gw-b", RuleKnownState, ErrUnknownState, upgrade.ErrInvalid)
	// Nothing but reads was sent.
	for _, g := range []*gw{a, b} {
		for _, cmd := range g.s.Commands() {
			assert.Contains(t, []string{"expert", "echo hitless-expert-ok", "cphaprob state", "fw ver", "cphaprob mvc"}, cmd)
		}
	}
}

func TestObserveTwoActive(t *testing.T) {
	two := func(local int) string {
		return stateText(local, "", row{1, "ACTIVE", "gw-a"}, row{2, "ACTIVE", "gw-b"})
	}
	a := newGW("gw-a", "127.0.0.1:2201", "R81.20", two(1))
	b := newGW("gw-b", "127.0.0.1:2202", "R81.20", two(2))
	c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
	s, err := c.Observe(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, s.Problems)
	assert.ErrorIs(t, classify(s.Problems[0]), ErrSplitBrain)
	_, err = Planner{Cluster: c}.Plan(s, "R82")
	assertRule(t, err, "gw-a", RuleOneActive, ErrSplitBrain)
	assertRule(t, err, "gw-b", RuleOneActive, ErrSplitBrain)
}

func TestObserveMembersDisagree(t *testing.T) {
	a, b := healthyPair("R81.20")
	// gw-a sees gw-b DOWN while gw-b reports itself STANDBY.
	a.set(func(g *gw) { g.state = stateText(1, "", row{1, "ACTIVE", "gw-a"}, row{2, "DOWN", "gw-b"}) })
	c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
	s, err := c.Observe(t.Context())
	require.NoError(t, err)
	require.Len(t, s.Problems, 1)
	assert.ErrorIs(t, classify(s.Problems[0]), ErrDisagree)
	assert.Contains(t, s.Problems[0], "gw-a sees gw-b as DOWN, gw-b reports itself STANDBY")
	_, err = Planner{Cluster: c}.Plan(s, "R82")
	assertRule(t, err, "", RuleAgree, ErrDisagree)
}

// TestObserveMixedVersionPicture: the upgraded member is READY and the
// old ACTIVE shows ACTIVE(!) (PNOTE IAC) while it sees it LOST: the MVC
// picture, not a problem; the guard finds a forwarding member.
func TestObserveMixedVersionPicture(t *testing.T) {
	a := newGW("gw-a", "127.0.0.1:2201", "R81.20", stateText(1, "IAC", row{1, "ACTIVE(!)", "gw-a"}, row{2, "LOST", "gw-b"}))
	b := newGW("gw-b", "127.0.0.1:2202", "R82", stateText(2, "", row{1, "ACTIVE(!)", "gw-a"}, row{2, "READY", "gw-b"}))
	c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
	s, err := c.Observe(t.Context())
	require.NoError(t, err)
	assert.Empty(t, s.Problems)
	ma, _ := s.Member("gw-a")
	mb, _ := s.Member("gw-b")
	assert.True(t, ma.Healthy, ma.Problems)
	assert.Equal(t, upgrade.RoleReady, mb.Role)
	assert.True(t, mb.Healthy, mb.Problems)
	assert.NoError(t, upgrade.CheckAvailability(s, []string{"gw-b"}))
	assert.Error(t, upgrade.CheckAvailability(s, []string{"gw-a"}))

	// Another PNOTE on the ACTIVE member is not the MVC picture.
	a.set(func(g *gw) {
		g.state = stateText(1, "IAC, Synchronization", row{1, "ACTIVE(!)", "gw-a"}, row{2, "LOST", "gw-b"})
	})
	s, err = c.Observe(t.Context())
	require.NoError(t, err)
	ma, _ = s.Member("gw-a")
	assert.False(t, ma.Healthy)
	assert.Error(t, upgrade.CheckAvailability(s, []string{"gw-b"}))

	// A LOST peer on the same release is a fault, not the MVC picture.
	b.set(func(g *gw) { g.release = "R81.20" })
	a.set(func(g *gw) { g.state = stateText(1, "IAC", row{1, "ACTIVE(!)", "gw-a"}, row{2, "LOST", "gw-b"}) })
	s, err = c.Observe(t.Context())
	require.NoError(t, err)
	ma, _ = s.Member("gw-a")
	assert.False(t, ma.Healthy)
	assert.NotEmpty(t, s.Problems, "gw-a sees gw-b LOST, gw-b reports READY on the same release")
}

func TestObserveUnreachableMemberIsDown(t *testing.T) {
	a, b := healthyPair("R81.20")
	cfg := testConfig(t, "gw-a", "gw-b")
	c := scriptedCluster(t, cfg, a, b)
	require.NoError(t, b.s.Close()) // the session dies; no redial answers
	byHost := c.tr
	c.tr.open = func(ctx context.Context, dc driver.Config) (driver.Session, error) {
		if dc.Port == cfg.Members[1].Port {
			return nil, &driver.UnreachableError{Host: "127.0.0.1:2202", Err: fmt.Errorf("connection refused")}
		}
		return byHost.open(ctx, dc)
	}
	c.tr.reconnect = func(ctx context.Context, dc driver.Config, b driver.Backoff) (driver.Session, error) {
		return c.tr.open(ctx, dc)
	}
	s, err := c.Observe(t.Context())
	require.NoError(t, err)
	mb, _ := s.Member("gw-b")
	assert.Equal(t, upgrade.RoleDown, mb.Role)
	assert.ErrorIs(t, classify(mb.Problems[0]), ErrUnreachable)
}

func TestObserveCancelled(t *testing.T) {
	a, b := healthyPair("R81.20")
	c := scriptedCluster(t, testConfig(t, "gw-a", "gw-b"), a, b)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Observe(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// assertRule asserts err holds a *RuleError for member and rule.
func assertRule(t *testing.T, err error, member, rule string, targets ...error) {
	t.Helper()
	require.Error(t, err)
	found := false
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if re, ok := e.(*RuleError); ok && re.Member == member && re.Rule == rule {
			found = true
		}
		switch x := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	assert.True(t, found, "no *RuleError for member %q rule %q in %v", member, rule, err)
	for _, target := range targets {
		assert.ErrorIs(t, err, target)
	}
}
