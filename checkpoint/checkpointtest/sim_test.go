package checkpointtest

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/driver"
)

func TestStartDefaults(t *testing.T) {
	s := startSim(t, Options{})
	ms := s.Members()
	require.Len(t, ms, 2)
	a, b := ms[0], ms[1]
	assert.Equal(t, "gw-a", a.Name())
	assert.Equal(t, "gw-b", b.Name())
	assert.Same(t, a, s.Member("gw-a"))
	assert.Nil(t, s.Member("gw-c"))
	assert.Equal(t, 1, a.ID())
	assert.Equal(t, 2, b.ID())
	assert.Equal(t, "admin", s.Username())
	assert.NotEmpty(t, s.Password())
	assert.NotEqual(t, s.Password(), s.ExpertPassword())
	for _, m := range ms {
		assert.Equal(t, DefaultVersion, m.Version())
		assert.Equal(t, DefaultTake, m.Take())
		assert.Equal(t, "631", m.Build())
		assert.Equal(t, "127.0.0.1:"+strconv.Itoa(m.Port()), m.Addr())
		assert.False(t, m.Down())
		assert.False(t, m.MVC())
		installed, rel := m.Policy()
		assert.True(t, installed)
		assert.Equal(t, DefaultVersion, rel)
		assert.Equal(t, DefaultCoreXL, m.CoreXL())
	}
	assert.Equal(t, "ACTIVE", a.State())
	assert.Equal(t, "STANDBY", b.State())
	assert.Equal(t, "STANDBY", a.StateOf("gw-b"))
	assert.Equal(t, "ACTIVE", b.StateOf("gw-a"))
	assert.Same(t, a, s.Active())
	assert.True(t, a.Forwarding())
	assert.True(t, s.Probe().Forwarding())
	assert.Equal(t, 0, s.Failovers())
	kh, err := os.ReadFile(s.KnownHostsFile())
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(kh), "\n"), "one known_hosts line per member")
	assert.Contains(t, string(kh), a.KnownHostsLine())
	assert.NotEqual(t, a.KnownHostsLine()[strings.Index(a.KnownHostsLine(), " "):],
		b.KnownHostsLine()[strings.Index(b.KnownHostsLine(), " "):], "each member has its own host key")
}

func TestOptionsValidation(t *testing.T) {
	_, err := Start(Options{
		Names:          []string{"a", "a", "bad name"},
		Version:        "R99.x",
		Password:       "same",
		ExpertPassword: "same",
		LoginContext:   3,
		Faults:         Faults{StaysReady: "nobody", VSNotLoaded: map[string]int{"a": 9}},
	})
	require.Error(t, err)
	for _, want := range []string{`"a" twice`, `Names[2]`, `Version "R99.x"`, "ExpertPassword must differ",
		"LoginContext 3", `Faults.StaysReady "nobody"`, "Faults.VSNotLoaded"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = Start(Options{Names: []string{"only"}})
	assert.ErrorContains(t, err, "1 members, want 2..8")
}

// TestPromptsExpertAndExit: the driver opens the Clish session (prompt
// "gw-a> ", on-open commands accepted), enters Expert mode with the expert
// password (prompt "[Expert@gw-a:0]# "), runs bash-side commands and
// returns to Clish with exit.
func TestPromptsExpertAndExit(t *testing.T) {
	s := startSim(t, fastOptions())
	a := s.Members()[0]
	sess := open(t, s, a)
	assert.Equal(t, []string{"lock database override", "set clienv rows 0"}, a.Commands(), "on-open commands")

	out := enterExpert(t, s, sess)
	assert.Contains(t, out, "You are in expert mode now.")
	assert.NotContains(t, out, s.ExpertPassword(), "the password is neither echoed nor recorded")

	v, err := checkpoint.ParseVersion(send(t, sess, "fw ver"))
	require.NoError(t, err)
	assert.Equal(t, "R81.20", v.Release)
	assert.Equal(t, "631", v.Build)
	assert.Equal(t, "", send(t, sess, "cphaconf mvc on"), "cphaconf prints nothing")
	assert.Equal(t, "0", send(t, sess, "echo $?"), "and exits 0")
	_, err = sess.Send(t.Context(), "show cluster state")
	var ce *driver.CommandError
	require.ErrorAs(t, err, &ce, "a Clish command in Expert mode is not found by bash")
	assert.Contains(t, ce.Output, "-bash: show: command not found")
	assert.Equal(t, "127", send(t, sess, "echo $?"))

	assert.Equal(t, "", send(t, sess, "exit"))
	_, err = checkpoint.ParseClusterState(send(t, sess, "show cluster state"))
	require.NoError(t, err, "back in Clish")
	assert.NotContains(t, strings.Join(a.Commands(), "\n"), s.ExpertPassword())
}

// TestWrongExpertPassword: with the normal prompt as the last expectation,
// the failure strings catch the refusal; the session stays in Clish.
func TestWrongExpertPassword(t *testing.T) {
	s := startSim(t, fastOptions())
	sess := open(t, s, s.Members()[0])
	_, err := sess.Interact(t.Context(), []driver.Exchange{
		{Input: "expert", Expect: `Enter expert password:\s*$`},
		{Input: "not-the-password", Secret: true},
	})
	var ce *driver.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, ce.Output, "Wrong password.")
	assert.NotContains(t, ce.Error(), "not-the-password")
	_, err = checkpoint.ParseClusterState(send(t, sess, "show cluster state"))
	require.NoError(t, err, "still in Clish")
}

// TestClishErrors: unknown and incomplete commands are rejected with the
// Clish texts, which the platform's failure strings catch.
func TestClishErrors(t *testing.T) {
	s := startSim(t, fastOptions())
	sess := open(t, s, s.Members()[0])
	for cmd, want := range map[string]string{
		"show foo":             "CLINFR0329  Invalid command:'show foo'.",
		"show cluster":         "CLINFR0349  Incomplete command.",
		"set cluster member":   "CLINFR0349  Incomplete command.",
		"cphaconf mvc on":      "CLINFR0329  Invalid command:'cphaconf mvc on'.",
		"installer import foo": "CLINFR0329",
	} {
		_, err := sess.Send(t.Context(), cmd)
		var ce *driver.CommandError
		require.ErrorAs(t, err, &ce, cmd)
		assert.Contains(t, ce.Output, want, cmd)
	}
	// Extended commands work from Clish.
	_, err := checkpoint.ParseVersion(send(t, sess, "fw ver"))
	require.NoError(t, err)
}

// TestConfigLock: a second session that takes the lock (lock database
// override) makes configuration commands of the first fail with CLINFR0519
// until it takes the lock back.
func TestConfigLock(t *testing.T) {
	s := startSim(t, fastOptions())
	a := s.Members()[0]
	first := open(t, s, a)

	// A raw Clish login while first holds the lock prints CLINFR0771.
	_, greeting := openShell(t, s, a)
	assert.Contains(t, lf(greeting), "CLINFR0771  Config lock is owned by admin. Use the command 'lock database override' to acquire the lock.\ngw-a> ")

	second := open(t, s, a) // its on-open takes the lock
	_, err := first.Send(t.Context(), "set cluster member mvc on")
	var ce *driver.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, ce.Output, "CLINFR0519")
	assert.False(t, a.MVC())

	send(t, first, "lock database override")
	send(t, first, "set cluster member mvc on")
	assert.True(t, a.MVC())
	_, err = second.Send(t.Context(), "set cluster member mvc off")
	require.ErrorAs(t, err, &ce)
}

// TestPaging: without `set clienv rows 0` a long Clish output stops at
// "-- More --"; the platform's on-open turns paging off.
func TestPaging(t *testing.T) {
	o := fastOptions()
	o.ClishRows = 10
	s := startSim(t, o)
	a := s.Members()[0]

	sh, _ := openShell(t, s, a)
	require.NoError(t, sh.typeLine("show cluster state"))
	page, err := sh.readUntil("-- More --")
	require.NoError(t, err)
	assert.Equal(t, 10, strings.Count(lf(page), "\n")-1, "ten lines after the echo")
	full := lf(page)
	for pages := 1; ; pages++ {
		require.Less(t, pages, 10)
		require.NoError(t, sh.typeLine(""))
		rest, err := sh.readUntilAny("-- More --", "gw-a> ")
		require.NoError(t, err)
		full += lf(rest)
		if strings.HasSuffix(rest, "gw-a> ") {
			break
		}
	}
	assert.Contains(t, full, "Cluster failover count:")
	assert.Equal(t, 2, strings.Count(full, "-- More --"), "25 lines in pages of 10")
	require.NoError(t, sh.typeLine("set clienv rows 0"))
	_, err = sh.readUntil("gw-a> ")
	require.NoError(t, err)
	require.NoError(t, sh.typeLine("show cluster state"))
	whole, err := sh.readUntil("gw-a> ")
	require.NoError(t, err)
	assert.NotContains(t, whole, "-- More --")

	sess := open(t, s, a)
	cs, err := checkpoint.ParseClusterState(send(t, sess, "show cluster state"))
	require.NoError(t, err, "no pager through the driver")
	require.NotNil(t, cs.FailoverCount)
}

// TestOutputsParse: every output the simulator prints parses with the
// checkpoint package's parsers and gives the model's facts.
func TestOutputsParse(t *testing.T) {
	s := startSim(t, fastOptions())
	a, b := s.Members()[0], s.Members()[1]
	sa, sb := open(t, s, a), open(t, s, b)

	cs, err := checkpoint.ParseClusterState(send(t, sa, "show cluster state"))
	require.NoError(t, err)
	assert.Equal(t, DefaultClusterMode, cs.Mode)
	local, ok := cs.Local()
	require.True(t, ok)
	assert.Equal(t, "gw-a", local.Name)
	assert.Equal(t, 1, local.ID)
	assert.Equal(t, "ACTIVE", local.State.String())
	assert.Equal(t, 100, local.Load)
	assert.Equal(t, "192.168.255.1", local.Address.String())
	peer, ok := cs.ByID(2)
	require.True(t, ok)
	assert.Equal(t, "STANDBY", peer.State.String())
	assert.True(t, cs.PNOTEsShown)
	assert.Empty(t, cs.PNOTEs)
	require.NotNil(t, cs.LastStateChange)
	assert.Equal(t, "CLUS-114904", cs.LastStateChange.Code)
	assert.Nil(t, cs.LastFailover)
	require.NotNil(t, cs.FailoverCount)
	assert.Equal(t, 0, cs.FailoverCount.Counter)

	csb, err := checkpoint.ParseClusterState(send(t, sb, "show cluster state"))
	require.NoError(t, err)
	local, _ = csb.Local()
	assert.Equal(t, "gw-b", local.Name, "each member marks its own row (local)")
	assert.Equal(t, 2, local.ID)
	assert.Equal(t, "STANDBY", local.State.String())
	assert.Equal(t, "CLUS-114802", csb.LastStateChange.Code)
	assert.Equal(t, "DOWN", csb.LastStateChange.From.String(), "as in the rejoin capture")
	assert.Equal(t, "There is already an ACTIVE member in the cluster (member 1)", csb.LastStateChange.Reason)

	v, err := checkpoint.ParseVersion(send(t, sa, "show version all"))
	require.NoError(t, err)
	assert.Equal(t, checkpoint.Version{Release: "R81.20", Product: "Check Point Gaia R81.20", OSBuild: "631",
		Kernel: "3.10.0-957.21.3cpx86_64", Edition: "64-bit"}, v)

	take, err := checkpoint.ParseJumboTake(send(t, sa, "cpinfo -y all"))
	require.NoError(t, err)
	assert.Equal(t, 92, take.Number)
	assert.Equal(t, "R81.20", take.Release)
	take, err = checkpoint.ParseJumboTake(send(t, sa, "show installer packages installed"))
	require.NoError(t, err)
	assert.Equal(t, 92, take.Number)

	mvc, err := checkpoint.ParseMVC(send(t, sa, "show cluster members mvc"))
	require.NoError(t, err)
	assert.False(t, mvc.Enabled)

	_, err = checkpoint.ParseVSXStat(send(t, sa, "vsx stat -v"))
	assert.ErrorIs(t, err, checkpoint.ErrNotVSX)

	enterExpert(t, s, sa)
	x, err := checkpoint.ParseClusterInterfaces(send(t, sa, "cphaprob -a if"))
	require.NoError(t, err)
	assert.Equal(t, "Manual (Unicast)", x.CCPMode)
	assert.Equal(t, 3, x.Required)
	assert.Equal(t, 1, x.RequiredSecured)
	require.Len(t, x.Interfaces, 3)
	assert.Empty(t, x.Down())
	assert.True(t, x.Interfaces[1].Sync)
	assert.Equal(t, 2, x.VirtualCount)
	require.Len(t, x.Virtual, 2)
	assert.Equal(t, "192.0.2.1", x.Virtual[0].Address.String())

	mvc, err = checkpoint.ParseMVC(send(t, sa, "cphaprob mvc"))
	require.NoError(t, err)
	assert.True(t, mvc.Enabled == a.MVC())
	cs, err = checkpoint.ParseClusterState(send(t, sa, "cphaprob state"))
	require.NoError(t, err)
	local, _ = cs.Local()
	assert.Equal(t, "gw-a", local.Name)
}

// TestNoHotfixes: a member without any hotfix prints "No hotfixes.." in
// every cpinfo section and no Jumbo row.
func TestNoHotfixes(t *testing.T) {
	o := fastOptions()
	o.Take = -1
	s := startSim(t, o)
	sess := open(t, s, s.Members()[0])
	_, err := checkpoint.ParseJumboTake(send(t, sess, "cpinfo -y all"))
	assert.ErrorIs(t, err, checkpoint.ErrNoHotfixes)
	_, err = checkpoint.ParseJumboTake(send(t, sess, "show installer packages installed"))
	assert.ErrorIs(t, err, checkpoint.ErrNoTake)
}

// TestHostKeyVerification: the driver refuses a member whose key is not
// the one in known_hosts (here: member b's key listed for a's address).
func TestHostKeyVerification(t *testing.T) {
	s := startSim(t, fastOptions())
	a, b := s.Members()[0], s.Members()[1]
	kh := t.TempDir() + "/known_hosts"
	line := b.KnownHostsLine()
	wrong := "[127.0.0.1]:" + strconv.Itoa(a.Port()) + line[strings.Index(line, " "):]
	require.NoError(t, os.WriteFile(kh, []byte(wrong+"\n"), 0o600))
	cfg := driverConfig(t, s, a)
	cfg.KnownHostsFile = kh
	_, err := driver.Open(t.Context(), cfg)
	var hk *driver.HostKeyError
	require.ErrorAs(t, err, &hk)
	assert.ErrorIs(t, err, driver.ErrHostKey)

	require.NoError(t, os.WriteFile(kh, nil, 0o600))
	_, err = driver.Open(t.Context(), cfg)
	require.ErrorAs(t, err, &hk, "unknown host")

	cb, err := s.HostKeyCallback()
	require.NoError(t, err)
	require.NotNil(t, cb)
}

// TestCommandErrorAndSlow: the fault knobs reach the driver as a
// *driver.CommandError and as an *driver.AbortError on a short deadline.
func TestCommandErrorAndSlow(t *testing.T) {
	o := fastOptions()
	o.Faults.CommandError = map[string]string{"show cluster state": "CLINFR0519  Configuration lock present."}
	o.Faults.Slow = map[string]time.Duration{"show version all": time.Minute}
	s := startSim(t, o)
	sess := open(t, s, s.Members()[0])
	_, err := sess.Send(t.Context(), "show cluster state")
	var ce *driver.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "CLINFR0519  Configuration lock present.", ce.Output)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = sess.Send(ctx, "show version all")
	var ae *driver.AbortError
	require.ErrorAs(t, err, &ae)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
}

func TestFaultsSetByName(t *testing.T) {
	var f Faults
	if !f.Set("back-on-old", "gw-b") || f.BackOnOld != "gw-b" {
		t.Fatalf("back-on-old not set: %+v", f)
	}
	if !f.Set("import-never-finishes", "gw-a") || f.ImportNeverFinishes != "gw-a" {
		t.Fatalf("import-never-finishes not set: %+v", f)
	}
	if f.Set("no-such-fault", "gw-a") || f.Set("", "gw-a") {
		t.Fatal("an unknown fault name was accepted")
	}
}
