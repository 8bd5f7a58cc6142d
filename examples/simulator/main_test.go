package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/aviatrix"
	"github.com/hitless/hitless/clavister"
	"github.com/hitless/hitless/examples/simulator/fakeremote"
	"github.com/hitless/hitless/junos"
	"github.com/hitless/hitless/upgrade"
	"github.com/hitless/hitless/versionpath"
)

// output collects the simulator's stdout and signals when a text shows.
type output struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	match string
	seen  chan struct{}
	once  sync.Once
}

func newOutput(match string) *output { return &output{match: match, seen: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.buf.Write(p)
	if strings.Contains(o.buf.String(), o.match) {
		o.once.Do(func() { close(o.seen) })
	}
	return n, err
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// field returns the value printed after a label ("  known_hosts  PATH").
func (o *output) field(t *testing.T, label string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(label) + ` +(\S+)`).FindStringSubmatch(o.String())
	require.NotNil(t, m, "no %q in:\n%s", label, o.String())
	return m[1]
}

// startSim runs the simulator until it says it runs; stop interrupts it
// and returns the exit code.
func startSim(t *testing.T, args ...string) (out *output, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = newOutput("Running; stop it with Ctrl-C")
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- mainCtx(ctx, args, out, &errb) }()
	select {
	case <-out.seen:
	case code := <-done:
		cancel()
		t.Fatalf("the simulator exited with %d before running:\n%s\n%s", code, out.String(), errb.String())
	}
	return out, func() int {
		cancel()
		return <-done
	}
}

// TestClavisterSimulator: the printed addresses, known_hosts and password
// reach the pair with the real SSH driver; Ctrl-C shuts it down and
// removes its files.
func TestClavisterSimulator(t *testing.T) {
	out, stop := startSim(t, "-vendor", "clavister", "-quiet")
	kh, pwFile, inv := out.field(t, "known_hosts"), out.field(t, "password_file"), filepath.Join(filepath.Dir(out.field(t, "password_file")), "inventory.yaml")
	pw, err := os.ReadFile(pwFile)
	require.NoError(t, err)
	password := strings.TrimSpace(string(pw))
	assert.Contains(t, out.String(), password+"   <- the simulator's own DEMO password")
	invText, err := os.ReadFile(inv)
	require.NoError(t, err)
	assert.Contains(t, string(invText), "password_file: password")
	assert.NotContains(t, string(invText), password, "the inventory holds a reference, not the password")

	addrs := regexp.MustCompile(`(?m)^  (fw-[ab]) +ssh +127\.0\.0\.1:(\d+)$`).FindAllStringSubmatch(out.String(), -1)
	require.Len(t, addrs, 2, out.String())
	cfg := clavister.Config{Name: "sim", Username: out.field(t, "username"), Password: password, KnownHostsFile: kh,
		FirmwarePath: strings.Fields(out.field(t, "package"))[0], CommandTimeout: 10 * time.Second}
	for i, a := range addrs {
		cfg.Units[i] = clavister.Unit{Name: a[1], Host: "127.0.0.1", Port: atoi(t, a[2])}
	}
	c, err := clavister.New(context.Background(), cfg)
	require.NoError(t, err)
	snap, err := c.Observe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"fw-a"}, snap.Forwarding())
	require.NoError(t, c.Close())

	require.Equal(t, 0, stop())
	assert.Contains(t, out.String(), "traffic probe lost 0 of")
	_, err = os.Stat(kh)
	assert.True(t, os.IsNotExist(err), "known_hosts removed at shutdown")
	_, err = os.Stat(pwFile)
	assert.True(t, os.IsNotExist(err), "the temporary directory is removed at shutdown")
}

// TestAviatrixSimulator: the controller URL, CA bundle and password reach
// the fake controller over verified TLS.
func TestAviatrixSimulator(t *testing.T) {
	dir := t.TempDir()
	out, stop := startSim(t, "-vendor", "aviatrix", "-pairs", "3", "-dir", dir, "-quiet")
	url := regexp.MustCompile(`https://127\.0\.0\.1:\d+`).FindString(out.String())
	pw, err := os.ReadFile(filepath.Join(dir, "password"))
	require.NoError(t, err)
	client, err := aviatrix.NewClient(aviatrix.Config{URL: url, Username: out.field(t, "username"), Password: strings.TrimSpace(string(pw)), CACertFile: out.field(t, "CA bundle")})
	require.NoError(t, err)
	cl, err := aviatrix.Open(context.Background(), client, aviatrix.ClusterOptions{})
	require.NoError(t, err)
	assert.Len(t, cl.Members(), 7, "controller and 3 pairs")
	require.Equal(t, 0, stop())
	_, err = os.Stat(filepath.Join(dir, "inventory.yaml"))
	assert.NoError(t, err, "-dir is kept")
}

// TestFakeSimulator: the served fake is reachable with the printed
// address and password; a state change is printed.
func TestFakeSimulator(t *testing.T) {
	dir := t.TempDir()
	out, stop := startSim(t, "-vendor", "fake", "-speed", "2", "-dir", dir)
	addr := regexp.MustCompile(`(?m)^  api +http +(127\.0\.0\.1:\d+)$`).FindStringSubmatch(out.String())
	require.NotNil(t, addr, out.String())
	pw, err := os.ReadFile(filepath.Join(dir, "password"))
	require.NoError(t, err)
	c, err := fakeremote.Dial(context.Background(), fakeremote.Config{Addr: addr[1], Password: strings.TrimSpace(string(pw))})
	require.NoError(t, err)
	defer c.Close()
	rep, err := (&upgrade.Executor{}).Upgrade(context.Background(), c, upgrade.Rolling{Cluster: c, Grammar: versionpath.Dotted{},
		GateTiming: upgrade.Timing{Interval: 20 * time.Millisecond, MinHealthy: 40 * time.Millisecond, Deadline: 5 * time.Second}}, "8.2.1")
	require.NoError(t, err)
	assert.True(t, rep.OK)
	require.Equal(t, 0, stop())
	assert.Contains(t, out.String(), "node-1: active, 8.1.7 | node-2: down, -", "the standby's reboot was printed")
	assert.Contains(t, out.String(), "final state:\n  node-1: standby, 8.2.1\n  node-2: active, 8.2.1\n")
	assert.Contains(t, out.String(), "traffic probe lost 0 of")
}

// TestJunosSimulator: the printed node addresses, known_hosts, password
// and package reach the chassis cluster with the junos package.
func TestJunosSimulator(t *testing.T) {
	dir := t.TempDir()
	out, stop := startSim(t, "-vendor", "junos", "-dir", dir, "-quiet")
	addrs := regexp.MustCompile(`(?m)^  (node[01]) +ssh +127\.0\.0\.1:(\d+)$`).FindAllStringSubmatch(out.String(), -1)
	require.Len(t, addrs, 2, out.String())
	pw, err := os.ReadFile(filepath.Join(dir, "password"))
	require.NoError(t, err)
	cfg := junos.Config{Name: "sim", Username: out.field(t, "username"), Password: strings.TrimSpace(string(pw)),
		KnownHostsFile: out.field(t, "known_hosts"), PackagePath: out.field(t, "package"), ArtifactsDir: t.TempDir(),
		CommandTimeout: 10 * time.Second, DialTimeout: 10 * time.Second}
	for i, a := range addrs {
		cfg.Nodes[i] = junos.Address{Host: "127.0.0.1", Port: atoi(t, a[2])}
	}
	c, err := junos.New(context.Background(), cfg)
	require.NoError(t, err)
	snap, err := c.Observe(context.Background())
	require.NoError(t, err)
	assert.Len(t, snap.Members, 2)
	require.NoError(t, c.Close())
	inv, err := os.ReadFile(filepath.Join(dir, "inventory.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(inv), "vendor: junos")
	require.Equal(t, 0, stop())
}

// TestCheckPointSimulator: the Check Point simulator starts, prints its
// SSH endpoints, known_hosts and the demo expert password, says the fleet
// cannot drive it yet, and stops cleanly.
func TestCheckPointSimulator(t *testing.T) {
	out, stop := startSim(t, "-vendor", "checkpoint", "-quiet")
	_, err := os.Stat(out.field(t, "known_hosts"))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^  gw-a +ssh +127\.0\.0\.1:\d+$`, out.String())
	assert.Contains(t, out.String(), "<- DEMO expert password")
	assert.Contains(t, out.String(), "examples/fleet cannot drive checkpoint yet")
	require.Equal(t, 0, stop())
}

// TestBadFlags: exit code 2, nothing started.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-vendor", "paloalto"}, {"-fault", "nope"}, {"-speed", "0"}, {"-bogus"}, {"extra"}} {
		var out, errb bytes.Buffer
		assert.Equal(t, 2, mainCtx(context.Background(), args, &out, &errb), "%v", args)
		assert.Empty(t, out.String())
	}
	var out bytes.Buffer
	assert.Equal(t, 0, mainCtx(context.Background(), []string{"-vendor", "aviatrix", "-list-faults"}, &out, &out))
	assert.Contains(t, out.String(), "gateway-fails")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		require.True(t, r >= '0' && r <= '9', s)
		n = n*10 + int(r-'0')
	}
	return n
}
