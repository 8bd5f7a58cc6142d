package checkpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseMVC: no public capture of `cphaprob mvc` / `show cluster members
// mvc` exists; every case is hand-written (see testdata/README.md).
func TestParseMVC(t *testing.T) {
	const v = "variant (hand-written): "
	tests := []struct {
		name string
		in   string
		want MVC
	}{
		{v + "bare ON after the command echo (SGT shape hint)", "[Expert@gw1:0]# cphaprob mvc\n\nON\n[Expert@gw1:0]#\n", MVC{Enabled: true, Text: "ON"}},
		{v + "bare off", "off\n", MVC{Text: "off"}},
		{v + "MVC: On", "MVC: On\n", MVC{Enabled: true, Text: "MVC: On"}},
		{v + "MVC = OFF", "MVC = OFF\n", MVC{Text: "MVC = OFF"}},
		{v + "mvc is off.", "mvc is off.\n", MVC{Text: "mvc is off."}},
		{v + "Multi-Version Cluster: enabled", "Multi-Version Cluster: enabled\n", MVC{Enabled: true, Text: "Multi-Version Cluster: enabled"}},
		{v + "Multi Version Cluster (MVC) status: Disabled", "gw1> show cluster members mvc\nMulti Version Cluster (MVC) status: Disabled\ngw1> ",
			MVC{Text: "Multi Version Cluster (MVC) status: Disabled"}},
		{v + "MVC mechanism is ENABLED, CRLF", "MVC mechanism is ENABLED\r\n", MVC{Enabled: true, Text: "MVC mechanism is ENABLED"}},
		{v + "label line then bare word", "MVC status:\nOn\n", MVC{Enabled: true, Text: "On"}},
		{v + "cluster member mvc: on (Clish wording)", "cluster member mvc: on\n", MVC{Enabled: true, Text: "cluster member mvc: on"}},
		{v + "banner line skipped", "Welcome\nMVC: off\n", MVC{Text: "MVC: off"}},
		{v + "the same setting twice", "MVC: on\nON\n", MVC{Enabled: true, Text: "MVC: on"}},
		{v + "one-line flattened prompt and command", "[Expert@gw1:0]# cphaprob mvc ON", MVC{Enabled: true, Text: "ON"}},
		{v + "syslog line skipped", "MVC: on\nMessage from syslogd@gw1 at Jan  1 00:00:00 ...\n kernel: interface eth1 off\n", MVC{Enabled: true, Text: "MVC: on"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMVC(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseMVCFailsClosed(t *testing.T) {
	tests := map[string]string{
		"empty":                                 "",
		"prompt only (cphaconf prints nothing)": "[Expert@gw1:0]# cphaprob mvc\n[Expert@gw1:0]#\n",
		"variant (hand-written): both words on one line":  "MVC: on off\n",
		"variant (hand-written): both words on two lines": "MVC: on\nMVC: off\n",
		"enabled and disabled":                            "Multi-Version Cluster: enabled\nMulti-Version Cluster: disabled\n",
		"variant (hand-written): no word":                 "MVC:\n",
		"negation":                                        "MVC is not enabled\n",
		"no":                                              "MVC: no\n",
		"word inside other text":                          "MVC will be enabled after reboot\n",
		"MVC topic without setting":                       "MVC mechanism pending\n",
		"not supported":                                   "MVC is not supported on this version\n",
		"error":                                           "Error: unknown command mvc\n",
		"usage":                                           "Usage: cphaprob [-a] mvc\n",
		"other label":                                     "Sync: on\n",
		"unknown word":                                    "MVC: maybe\n",
		"other command's output":                          readFixture(t, fixtureStateClish),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMVC(in)
			requireParseError(t, err, "cphaprob mvc", ErrUnrecognized)
			assert.Equal(t, MVC{}, got)
		})
	}
}
