package junos

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hitless/hitless/versionpath"
)

func mustVersion(t testing.TB, s string) Version {
	t.Helper()
	v, err := ParseVersion(s)
	require.NoError(t, err)
	return v
}

// swSummary renders Software as "node host model version" lines.
func swSummary(sw Software) []string {
	var out []string
	for _, n := range sw.Nodes {
		out = append(out, strings.Join([]string{n.Node, n.Hostname, n.Model, n.Family, n.Version.String()}, "|"))
	}
	return out
}

func TestParseSoftwareInformationFixture(t *testing.T) {
	got, err := ParseSoftwareInformation(readFixture(t, fxVersion1500))
	require.NoError(t, err)
	assert.Equal(t, Software{Nodes: []NodeSoftware{
		{Node: "node0", Hostname: "lab", Model: "srx1500", Version: mustVersion(t, "19.4R3-S1.3")},
		{Node: "node1", Hostname: "lab", Model: "srx1500", Version: mustVersion(t, "19.4R3-S1.3")},
	}}, got)
	n1, ok := got.Node("node1")
	require.True(t, ok)
	assert.Equal(t, "19.4R3-S1.3", n1.Version.String())
	_, ok = got.Node("")
	assert.False(t, ok)

	crlf, err := ParseSoftwareInformation("root@lab-node0> show version\r\n" + strings.ReplaceAll(readFixture(t, fxVersion1500), "\n", "\r\n") + "root@lab-node0> ")
	require.NoError(t, err)
	assert.Equal(t, got, crlf)
}

// TestParseSoftwareInformationXMLExcerpt: the SRX4100 excerpt is cut off
// and must be refused; closed by hand (not a capture) it gives both nodes.
func TestParseSoftwareInformationXMLExcerpt(t *testing.T) {
	in := readFixture(t, fxVersionXML)
	_, err := ParseSoftwareInformation(in)
	pe := requireParseError(t, err)
	assert.Contains(t, pe.Reason, "XML syntax error")

	i := strings.LastIndex(in, "<comment>")
	completed := in[:i] + "<comment>JUNOS Software Release [15.1X49-D120.3]</comment>\n</package-information>\n" +
		"</software-information>\n</multi-routing-engine-item>\n</multi-routing-engine-results>\n</rpc-reply>\n{primary:node0}\n"
	got, err := ParseSoftwareInformation(completed)
	require.NoError(t, err)
	assert.Equal(t, []string{"node0|some-firewall|srx4100||15.1X49-D120.3", "node1|some-firewall|srx4100||15.1X49-D120.3"}, swSummary(got))

	// The release in the package comment must agree with <junos-version>.
	bad := strings.Replace(completed, "Release [15.1X49-D120.3]</comment>\n</package-information>\n</software-information>\n</multi-routing-engine-item>\n</multi",
		"Release [15.1X49-D110.4]</comment>\n</package-information>\n</software-information>\n</multi-routing-engine-item>\n</multi", 1)
	require.NotEqual(t, completed, bad)
	_, err = ParseSoftwareInformation(bad)
	requireParseError(t, err)
}

func TestParseSoftwareInformationVariants(t *testing.T) {
	const v = "variant (documented, no capture): "
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{v + "standalone vSRX, prompt and banner", "{primary:node0}\nroot@vsrx> show version\nHostname: vsrx\nModel: vsrx\n" +
			"Junos: 21.4R3-S5.4\nJUNOS OS Kernel 64-bit  [20230601.abc_builder_stable_12]\n", []string{"|vsrx|vsrx||21.4R3-S5.4"}},
		{v + "24.x Family line", "node0:\n--------------------------------------------------------------------------\nHostname: fw\nModel: vsrx\n" +
			"Family: junos-es\nJunos: 24.4R1-S2.9\n\nnode1:\n--------------------------------------------------------------------------\n" +
			"Hostname: fw\nModel: vsrx\nFamily: junos-es\nJunos: 24.4R1-S2.9\n", []string{"node0|fw|vsrx|junos-es|24.4R1-S2.9", "node1|fw|vsrx|junos-es|24.4R1-S2.9"}},
		{v + "old release without Junos: line", "Hostname: srx240\nModel: srx240h\nJUNOS Software Release [12.1X44-D10.4]\n",
			[]string{"|srx240|srx240h||12.1X44-D10.4"}},
		{v + "nodes on different versions (mid-upgrade)", "node0:\n----------\nHostname: a\nModel: srx345\nJunos: 21.4R3-S5.4\n" +
			"node1:\n----------\nHostname: b\nModel: srx345\nJunos: 22.4R3-S2.11\n", []string{"node0|a|srx345||21.4R3-S5.4", "node1|b|srx345||22.4R3-S2.11"}},
		{v + "XML standalone", `<rpc-reply xmlns:junos="x"><software-information><host-name>vsrx</host-name>` +
			`<product-model>vsrx</product-model><junos-version>23.4R2-S2.1</junos-version></software-information></rpc-reply>`,
			[]string{"|vsrx|vsrx||23.4R2-S2.1"}},
		{v + "XML default namespace on the payload, package comment only", `<rpc-reply><multi-routing-engine-results><multi-routing-engine-item>` +
			`<re-name>node0</re-name><software-information xmlns="http://xml.juniper.net/junos/12.1X44/junos-version"><host-name>a</host-name>` +
			`<package-information><name>junos</name><comment>JUNOS Software Release [12.1X44-D10.4]</comment></package-information>` +
			`</software-information></multi-routing-engine-item></multi-routing-engine-results></rpc-reply>`, []string{"node0|a|||12.1X44-D10.4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSoftwareInformation(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, swSummary(got))
		})
	}
}

func TestParseSoftwareInformationFailsClosed(t *testing.T) {
	const node0 = "node0:\n-----------\nHostname: a\nModel: srx345\nJunos: 21.4R3-S5.4\n"
	tests := map[string]string{
		"empty":                        "",
		"no version lines":             "JUNOS OS Kernel 64-bit [x]\n",
		"hostname only":                "Hostname: a\nModel: srx\n",
		"node without version":         node0 + "node1:\n-----------\nHostname: b\nModel: srx345\n",
		"malformed version":            "Hostname: a\nJunos: 21.4R3-S5.4-EVO\n",
		"development build":            "Hostname: a\nJunos: 17.3-2017-07-02.0_builder_junos_173\n",
		"lower-case type letter":       "Hostname: a\nJunos: 21.4r3\n",
		"Junos line twice":             "Hostname: a\nJunos: 21.4R3\nJunos: 21.4R3\n",
		"Junos and Release disagree":   "Junos: 15.1X49-D120.3\nJUNOS Software Release [15.1X49-D110.4]\n",
		"node twice":                   node0 + node0,
		"lines before node headers":    "Hostname: a\nJunos: 21.4R3\n" + node0,
		"prompt with another command":  "root@fw> show chassis cluster status\n" + node0,
		"error line":                   "error: syntax error, expecting <command>\n",
		"cluster status output":        readFixture(t, fxVSRX19),
		"xml excerpt":                  readFixture(t, fxVersionXML),
		"xml environment excerpt":      readFixture(t, fxEnvExcerpt),
		"xml rollback reply":           readFixture(t, fxRollbackXML),
		"xml no software-information":  "<rpc-reply><foo/></rpc-reply>",
		"xml item without re-name":     "<multi-routing-engine-results><multi-routing-engine-item><software-information><junos-version>21.4R3</junos-version></software-information></multi-routing-engine-item></multi-routing-engine-results>",
		"xml two plain":                "<rpc-reply><software-information><junos-version>21.4R3</junos-version></software-information><software-information><junos-version>21.4R3</junos-version></software-information></rpc-reply>",
		"xml version repeated":         "<software-information><junos-version>21.4R3</junos-version><junos-version>21.4R3</junos-version></software-information>",
		"xml version malformed":        "<software-information><junos-version>21.4R3 S5</junos-version><host-name>a</host-name></software-information>",
		"xml node repeated":            "<multi-routing-engine-results><multi-routing-engine-item><re-name>node0</re-name><software-information><junos-version>21.4R3</junos-version></software-information></multi-routing-engine-item><multi-routing-engine-item><re-name>node0</re-name><software-information><junos-version>21.4R3</junos-version></software-information></multi-routing-engine-item></multi-routing-engine-results>",
		"xml without version":          "<software-information><host-name>a</host-name></software-information>",
		"xml not-clustered error text": readFixture(t, fxXMLNotClust),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseSoftwareInformation(in)
			require.Error(t, err, "parsed as %+v", got)
			assert.Equal(t, Software{}, got)
			assert.True(t, typedParseErr(err), "untyped %T %v", err, err)
			switch name {
			case "error line", "xml not-clustered error text":
				assert.ErrorIs(t, err, ErrDeviceError)
			default:
				requireParseError(t, err)
			}
			if name == "malformed version" || name == "development build" {
				assert.ErrorIs(t, err, versionpath.ErrMalformed)
			}
		})
	}
}
