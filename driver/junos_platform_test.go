package driver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJunosPrompt: the juniper_junos prompt takes the {state:nodeN} banner
// and the [edit] context line with it, and nothing else.
func TestJunosPrompt(t *testing.T) {
	p, err := LoadPlatform("juniper_junos")
	require.NoError(t, err)
	assert.Equal(t, PlatformDraft, p.Status)
	assert.Equal(t, []string{"set cli screen-length 0", "set cli screen-width 0", "set cli complete-on-space off"}, p.OnOpen)
	assert.Equal(t, 120*time.Second, p.OpTimeout)
	assert.Equal(t, 15*time.Second, p.DialTimeout)
	assert.Equal(t, 511, p.TermWidth)

	for _, tc := range []struct{ in, prompt string }{
		{"x\nroot@vsrx-node0> ", "root@vsrx-node0> "},
		{"x\nroot@vsrx-node0>", "root@vsrx-node0>"},
		{"x\nadmin@fw-01.lab# ", "admin@fw-01.lab# "},
		{"x\n\n{primary:node0}\nroot@vsrx-node0> ", "{primary:node0}\nroot@vsrx-node0> "},
		{"x\n\n{secondary-hold:node1}\nroot@vsrx-node1> ", "{secondary-hold:node1}\nroot@vsrx-node1> "},
		{"x\n\n{primary:node0}[edit]\nroot@vsrx-node0# ", "{primary:node0}[edit]\nroot@vsrx-node0# "},
		{"x\n\n{primary:node0}[edit chassis cluster]\nroot@vsrx-node0# ", "{primary:node0}[edit chassis cluster]\nroot@vsrx-node0# "},
		{"x\n\n[edit]\nlab@mx1# ", "[edit]\nlab@mx1# "},
		{"x\n\n{master:0}\nlab@ex-vc> ", "{master:0}\nlab@ex-vc> "},
		{"x\n\n{backup}\nlab@mx1-re1> ", "{backup}\nlab@mx1-re1> "},
		{"x\n\n{primary:node0}\r\nroot@vsrx-node0> ", "{primary:node0}\r\nroot@vsrx-node0> "},
		{"x\n\n{primary:node0}\nroot@asloma-19-10g-ha1-vsrx-vSRX-Node0> ", "{primary:node0}\nroot@asloma-19-10g-ha1-vsrx-vSRX-Node0> "},
	} {
		locs := p.Prompt.FindAllStringIndex(tc.in, -1)
		require.NotEmpty(t, locs, "%q", tc.in)
		last := locs[len(locs)-1]
		assert.Equal(t, tc.prompt, tc.in[last[0]:last[1]], "%q", tc.in)
	}

	for _, line := range []string{
		"root@vsrx-node0:~ # ", // FreeBSD shell (csh)
		"root@vsrx-node0% ",    // FreeBSD shell (sh)
		"usage at 90%",         // lines that the scrapligo shell level would eat
		"price in $",           //
		"/dev/gpt/var            7.0G       117M       6.3G        2%  /.mount/var",
		"Reboot the system ? [yes,no] (no)",    // a question
		"root@vsrx-node0> show version",        // an echoed command
		"    <banner>{primary:node0}</banner>", // XML banner
		"{primary:node0}",                      // a banner alone
		"node0  100      primary              no      no       None",
		"root> ", // no host: not recognised (documented)
		"<rpc-reply xmlns:junos=\"http://xml.juniper.net/junos/21.4R3-S5.4/junos\">",
	} {
		assert.False(t, p.Prompt.MatchString("out\n"+line), "%q", line)
	}

	// scrapligo strips every prompt match from a result: the banner goes too.
	out := "Cluster ID: 1\nnode0  100      primary\n\n{primary:node0}\nroot@vsrx-node0> "
	assert.Equal(t, "Cluster ID: 1\nnode0  100      primary\n\n", p.Prompt.ReplaceAllString(out, ""))
}

// TestJunosRejections: the Junos CLI's rejections match; the same words in a
// successful output (a validate run printing "mgd: error:" lines, warnings)
// do not.
func TestJunosRejections(t *testing.T) {
	p, err := LoadPlatform("juniper_junos")
	require.NoError(t, err)
	for _, out := range []string{
		"                 ^\nunknown command.",
		"                      ^\nsyntax error, expecting <command>.",
		"error: Chassis cluster is not enabled",
		"error: configuration check-out failed",
		"[edit chassis cluster redundancy-group 0]\n  'preempt'\n    Preempt is not supported\nerror: configuration check-out failed",
		"ERROR: insufficient space in /var to install x.tgz",
		"mgd: error: configuration check-out failed\nValidation failed\nERROR: Current configuration not compatible",
		"'sh' is ambiguous.",
		"   ^\nmissing mandatory argument.",
		"   ^\ninvalid numeric value: 'abc'.",
		"node1:\n----\n  error: remote lock-configuration failed on node1",
	} {
		assert.NotEmpty(t, p.rejection(out), "%q", out)
	}
	for _, out := range []string{
		"Validating against /config/juniper.conf.gz\nmgd: error: schema: dbs_remap_daemon_index: could not find daemon name 'analyticsd'\nmgd: commit complete\nValidation succeeded",
		"warning: statement not found",
		"warning: Clustering enabled; using private edit\nEntering configuration mode",
		"NOTICE: 'pending' set will be activated at next reboot...\nWARNING: A reboot is required to install the software",
		"There is already an install pending.",
		"Monitor Failure codes:\n    CS  Cold Sync monitoring        FL  Fabric Connection monitoring\nnode0  100      primary              no      no       None",
		"<rpc-reply><output>mgd: error: x</output><package-result>0</package-result></rpc-reply>",
		"Interface errors: 0",
	} {
		assert.Empty(t, p.rejection(out), "%q", out)
	}
}
