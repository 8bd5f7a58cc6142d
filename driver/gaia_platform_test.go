package driver

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGaiaPrompt: the checkpoint_gaia prompt pattern matches the Clish and
// Expert prompts of the public Check Point captures (R82 Clish "CPGW1A>",
// R8x Expert "[Expert@tv2-cp-fw6-1:0]#", R80.10 VSX "[Expert@host:3]#",
// Quantum Spark "[Expert@Member1]#", an MDS "MDM1>") and VSX Clish
// contexts, at the end of the output, and no line of the captured command
// outputs.
func TestGaiaPrompt(t *testing.T) {
	p, err := LoadPlatform("checkpoint_gaia")
	require.NoError(t, err)
	assert.Equal(t, PlatformDraft, p.Status)
	assert.Equal(t, []string{"lock database override", "set clienv rows 0"}, p.OnOpen)
	assert.Equal(t, 120*time.Second, p.OpTimeout)
	for _, prompt := range []string{
		"CPGW1A>", "CPGW1A> ", "MDM1> ", "gw-a:0> ", "gw1:3>", "fw.lab-1> ",
		"[Expert@tv2-cp-fw6-1:0]#", "[Expert@tv2-cp-fw6-1:0]# ", "[Expert@host:3]#", "[Expert@Member1]#",
	} {
		assert.True(t, p.Prompt.MatchString("output line\n"+prompt), "%q", prompt)
	}
	for _, line := range []string{
		"1 (local)  192.168.255.1   100%            ACTIVE         CPGW1A",
		"   State change:               ACTIVE(!) -> ACTIVE",
		"   Transition to new ACTIVE:   Member 1 -> Member 2",
		"   3 | S fw1-userext           | Standard              | 29Dec2021 11:28 | Standard                 | Trust",
		"   1 | W sw1-ext               | <Not Applicable>      |                 | <Not Applicable>         | Trust",
		"-- More --",
		"CPGW1A> show cluster state",
		"[Expert@host:0]# vsx stat -v",
		"Enter expert password:",
	} {
		assert.False(t, p.Prompt.MatchString(line), "%q", line)
	}
	expert := regexp.MustCompile(`(?m)^\[Expert@[\w.\-]+(?::\d+)?\]#\s*$`)
	assert.True(t, expert.MatchString("You are in expert mode now.\n\n[Expert@gw-a:0]# "))
	assert.False(t, expert.MatchString("Wrong password.\ngw-a> "))
}

// TestGaiaRejections: Clish errors, lock refusals, bash's command not found
// and CPUSE "Error:" lines are rejections; healthy outputs are not.
func TestGaiaRejections(t *testing.T) {
	p, err := LoadPlatform("checkpoint_gaia")
	require.NoError(t, err)
	for _, out := range []string{
		"CLINFR0329  Invalid command:'show foo'.",
		"CLINFR0349  Incomplete command.",
		"CLINFR0519  Configuration lock present. Can not execute this command.",
		"CLINFR0771  Config lock is owned by admin. Use the command 'lock database override' to acquire the lock.",
		"-bash: show: command not found",
		"sh: vsenv: command not found",
		"Wrong password.",
		"Info: Initiating verify of x.tar...\nError: Package x.tar was not found in the repository",
	} {
		assert.NotEmpty(t, p.rejection(out), out)
	}
	for _, out := range []string{
		"Cluster Mode:   High Availability (Active Up) with IGMP Membership\n\nActive PNOTEs: None",
		"This is Check Point's software version R81.20 - Build 059",
		"\tHOTFIX_R81_20_JUMBO_HF_MAIN\tTake:  122\n\tNo hotfixes..",
		"Result: Verifier results:\nUpgrade: Upgrade is not allowed. Reason: the installed version R82 is not older.",
		"VSX is not supported on this platform",
		"   Reason:                     Interface Active Check",
	} {
		assert.Empty(t, p.rejection(out), out)
	}
}
