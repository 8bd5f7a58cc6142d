package checkpointtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/checkpoint"
	"github.com/hitless/hitless/driver"
)

func vsxOptions() Options {
	o := fastOptions()
	o.VSX = true
	return o
}

// TestVSXStatAndVsenv: `vsx stat -v` parses; vsenv is a shell function, so
// `bash -lc 'vsenv 0 && cphaprob state'` works and `sh -c 'vsenv 0'` does
// not; an interactive vsenv changes the Expert prompt's context.
func TestVSXStatAndVsenv(t *testing.T) {
	s := startSim(t, vsxOptions())
	a := s.Members()[0]
	sess := open(t, s, a)

	st, err := checkpoint.ParseVSXStat(send(t, sess, "vsx stat -v"))
	require.NoError(t, err)
	assert.Equal(t, "gw-a", st.Gateway.Name)
	assert.Equal(t, "Trust", st.Gateway.SIC)
	require.Len(t, st.Devices, 2)
	assert.Equal(t, "vs1", st.Devices[0].Name)
	assert.Equal(t, checkpoint.TypeVirtualSystem, st.Devices[1].Type)
	assert.Empty(t, st.NotReady())
	assert.True(t, st.Totals.AllActive())

	enterExpert(t, s, sess)
	cs, err := checkpoint.ParseClusterState(send(t, sess, "bash -lc 'vsenv 0 && cphaprob state'"))
	require.NoError(t, err)
	local, _ := cs.Local()
	assert.Equal(t, "gw-a", local.Name)

	for cmd, want := range map[string]string{
		"sh -c 'vsenv 0'":                     "sh: vsenv: command not found",
		"bash -c 'vsenv 0 && cphaprob state'": "bash: vsenv: command not found",
	} {
		_, err := sess.Send(t.Context(), cmd)
		var ce *driver.CommandError
		require.ErrorAs(t, err, &ce, cmd)
		assert.Equal(t, want, ce.Output, cmd)
	}

	assert.Equal(t, "Context is set to Virtual Device vs2 (ID 2).", send(t, sess, "vsenv 2"))
	out, err := sess.Interact(t.Context(), []driver.Exchange{{Input: "echo $?", Expect: `(?m)^\[Expert@gw-a:2\]#\s*$`}})
	require.NoError(t, err)
	assert.Equal(t, "0", out, "the prompt now shows context 2")
	assert.Equal(t, "Context is set to Virtual Device gw-a (ID 0).", send(t, sess, "vsenv 0"))
	// An interactive shell reports no exit status: the caller reads $?.
	assert.Equal(t, "Virtual Device 9 does not exist", send(t, sess, "vsenv 9"))
	assert.Equal(t, "1", send(t, sess, "echo $?"))
}

// TestLoginContext: a session that lands in a non-zero VS context shows it
// in the Clish prompt; `set virtual-system 0` moves to VS0.
func TestLoginContext(t *testing.T) {
	o := vsxOptions()
	o.LoginContext = 2
	s := startSim(t, o)
	a := s.Members()[0]
	sh, greeting := openShell(t, s, a)
	assert.Contains(t, greeting, "gw-a:2> ")
	require.NoError(t, sh.typeLine("set virtual-system 0"))
	_, err := sh.readUntil("gw-a:0> ")
	require.NoError(t, err)

	sess := open(t, s, a) // the platform prompt accepts "host:N>"
	send(t, sess, "set virtual-system 0")
	_, err = checkpoint.ParseClusterState(send(t, sess, "show cluster state"))
	require.NoError(t, err)
}

// TestDynamicSplitConf: the CoreXL Dynamic Balancing workaround file can be
// read, backed up with cp and changed with echo >>.
func TestDynamicSplitConf(t *testing.T) {
	s := startSim(t, vsxOptions())
	a := s.Members()[0]
	sess := open(t, s, a)
	enterExpert(t, s, sess)
	conf := "/opt/CPsuite-R81.20/fw1/conf/dynamic_split.conf"
	require.Equal(t, conf, a.FWDir()+"/conf/dynamic_split.conf")
	orig := send(t, sess, "cat $FWDIR/conf/dynamic_split.conf")
	assert.Equal(t, "# CoreXL Dynamic Balancing (dynamic_split) configuration", orig)
	assert.Equal(t, "", send(t, sess, "cp $FWDIR/conf/dynamic_split.conf $FWDIR/conf/dynamic_split.conf.bak"))
	assert.Equal(t, "", send(t, sess, "echo OFF_BY_DEFAULT_ON_VSX=1 >> $FWDIR/conf/dynamic_split.conf"))
	assert.Equal(t, "OFF_BY_DEFAULT_ON_VSX=1", send(t, sess, `grep OFF_BY_DEFAULT_ON_VSX "$FWDIR/conf/dynamic_split.conf"`))
	got, ok := a.File(conf)
	require.True(t, ok)
	assert.Equal(t, orig+"\nOFF_BY_DEFAULT_ON_VSX=1\n", got)
	bak, ok := a.File(conf + ".bak")
	require.True(t, ok)
	assert.Equal(t, orig+"\n", bak)
	assert.Equal(t, "Dynamic Balancing is currently Off", send(t, sess, "dynamic_balancing -p"))
	assert.Equal(t, "cat: /nonexistent: No such file or directory", send(t, sess, "cat /nonexistent"))
	assert.Equal(t, "1", send(t, sess, "echo $?"), "no failure string: the exit status tells")
}

// TestVSNotLoaded: after its reboot, a member with the fault shows the
// Virtual System "<Not Loaded>" and counts it inactive.
func TestVSNotLoaded(t *testing.T) {
	o := vsxOptions()
	o.Faults.VSNotLoaded = map[string]int{"gw-b": 2}
	s := startSim(t, o)
	b := s.Members()[1]
	b.Reboot()
	waitFor(t, s, "gw-b back", func() bool { return b.Reboots() == 1 && !b.Down() })
	sess := open(t, s, b)
	st, err := checkpoint.ParseVSXStat(send(t, sess, "vsx stat -v"))
	require.NoError(t, err)
	require.Len(t, st.NotReady(), 1)
	assert.Equal(t, 2, st.NotReady()[0].ID)
	assert.Equal(t, "<Not Loaded>", st.NotReady()[0].AccessPolicy)
	assert.False(t, st.Totals.AllActive())
	enterExpert(t, s, sess)
	cs, err := checkpoint.ParseClusterState(send(t, sess, "bash -lc 'vsenv 2 && cphaprob state'"))
	require.NoError(t, err)
	local, _ := cs.Local()
	assert.Equal(t, "DOWN", local.State.String())
	assert.Contains(t, cs.PNOTEs, "VSX")
	require.NoError(t, b.SetVSLoaded(2, true))
	st, err = checkpoint.ParseVSXStat(send(t, sess, "vsx stat -v"))
	require.NoError(t, err)
	assert.Empty(t, st.NotReady())
}

// TestVSXJumboTrap: on VSX, a major upgrade from R81.10 to R81.20 followed
// by the R81.20 Jumbo turns CoreXL Dynamic Balancing on (the member goes
// READY against its peer) unless OFF_BY_DEFAULT_ON_VSX=1 was set first.
func TestVSXJumboTrap(t *testing.T) {
	for _, workaround := range []bool{false, true} {
		o := vsxOptions()
		o.Version = "R81.10"
		o.Take = 172
		s := startSim(t, o)
		b := s.Members()[1]
		sb := open(t, s, b)
		upgradeNow(t, s, b, sb, stage(t, s, b, sb, writePkg(t, Package{Kind: KindMajor, Release: "R81.20"})))
		assert.Equal(t, "R81.20", b.Version())
		sb = open(t, s, b)
		if workaround {
			enterExpert(t, s, sb)
			send(t, sb, "cp $FWDIR/conf/dynamic_split.conf $FWDIR/conf/dynamic_split.conf.bak")
			send(t, sb, "echo OFF_BY_DEFAULT_ON_VSX=1 >> $FWDIR/conf/dynamic_split.conf")
			send(t, sb, "exit")
		}
		file := stage(t, s, b, sb, writePkg(t, Package{Kind: KindJumbo, Release: "R81.20", Take: 92}))
		boots := b.Reboots()
		_, _ = sb.Send(t.Context(), "installer install "+file+" not-interactive")
		waitFor(t, s, "gw-b back", func() bool { return b.Reboots() > boots && !b.Down() })
		assert.Equal(t, 92, b.Take())
		assert.Equal(t, !workaround, b.DynamicBalancing(), "workaround %v", workaround)
	}
}
