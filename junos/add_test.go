package junos

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseSoftwareAddFixtures: the facts of every install-shaped capture.
func TestParseSoftwareAddFixtures(t *testing.T) {
	tests := []struct {
		file string
		want AddResult
	}{
		{fxAddXML, AddResult{Pending: true, Version: "11.1R3.5", Marker: "JUNOS 11.1R3.5 will become active at next reboot",
			Warnings: []string{
				"WARNING: A reboot is required to load this software correctly",
				"WARNING:     Use the 'request system reboot' command",
				"WARNING:         when software installation is complete",
			}, PackageResult: 0, HasPackageResult: true}},
		{fxAddEX3300, AddResult{Pending: true, Marker: "WARNING: A reboot is required to install the software",
			Warnings: []string{"WARNING: A reboot is required to install the software", "WARNING:     Use the 'request system reboot' command immediately"}}},
		{fxAddEX3400, AddResult{Pending: true, Marker: "NOTICE: 'pending' set will be activated at next reboot..."}},
		// usage: lines, warning: lines, inline <xnm:warning> text and two
		// "Validation succeeded" are not failures.
		{fxAddSRX550M, AddResult{Pending: true, Version: "15.1X49-D170.4", Marker: "JUNOS 15.1X49-D170.4 will become active at next reboot",
			Warnings: []string{
				"WARNING: A reboot is required to load this software correctly",
				"WARNING:     Use the 'request system reboot' command",
				"WARNING:         when software installation is complete",
				"WARNING:     The DHCP configuration command used will be deprecated in future Junos releases.",
				"WARNING:     Please see documentation for updated commands.",
			}}},
		// Same reply shape, other commands.
		{fxICUBlog, AddResult{Pending: true, Version: "12.1X46-D55.3", Marker: "JUNOS 12.1X46-D55.3 will become active at next reboot ISSU: finished"}},
		{fxRollbackXML, AddResult{Pending: true, Version: "D10.2", Marker: `JUNOS version "D10.2" will become active at next reboot`, HasPackageResult: true}},
		// "mgd: error:" lines, result 0: success without a pending marker.
		{fxValidateXML, AddResult{HasPackageResult: true}},
		{fxISSUXML, AddResult{HasPackageResult: true}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseSoftwareAdd(readFixture(t, tt.file))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseSoftwareAddPendingFixture(t *testing.T) {
	_, err := ParseSoftwareAdd(readFixture(t, fxPending))
	require.ErrorIs(t, err, ErrInstallPending)
	require.ErrorIs(t, err, ErrSoftwareAdd)
	assert.NotErrorIs(t, err, ErrValidation)
	var se *SoftwareAddError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, &SoftwareAddError{Kind: AddPending, Message: "There is already an install pending.",
		Lines: []string{"There is already an install pending."}, PackageResult: 1, HasPackageResult: true}, se)
	assert.Equal(t, `junos: software add failed (pending): "There is already an install pending."`, err.Error())
}

func TestParseSoftwareAddFailures(t *testing.T) {
	const ok = "JUNOS 21.4R3-S5.4 will become active at next reboot\n"
	tests := []struct {
		name string
		in   string
		kind AddErrorKind
		msg  string
	}{
		{"insufficient space", "Formatting alternate root (/dev/ad0s2a)...\nERROR: insufficient space\n", AddInsufficientSpace, "ERROR: insufficient space"},
		{"no space left", "cp: /var/tmp/x: No space left on device\n" + ok, AddInsufficientSpace, "cp: /var/tmp/x: No space left on device"},
		{"validation failed", "Validating against /config/juniper.conf.gz\nmgd: error: configuration check-out failed\nValidation failed\n",
			AddValidation, "Validation failed"},
		{"checksum", "ERROR: junos-srxsme-15.1X49-D170.4-domestic.tgz: checksum mismatch\n", AddValidation, "ERROR: junos-srxsme-15.1X49-D170.4-domestic.tgz: checksum mismatch"},
		{"other ERROR line", "ERROR: cannot extract package\n", AddValidation, "ERROR: cannot extract package"},
		{"package missing", "ERROR: package: /var/tmp/nonexistent.tgz is not found or empty\n", AddOther, "ERROR: package: /var/tmp/nonexistent.tgz is not found or empty"},
		{"wrong platform", "error: command is not valid on the vsrx\n", AddWrongPlatform, "error: command is not valid on the vsrx"},
		{"wrong platform package", "ERROR: package junos-srxentedge-x86-64-21.4R3-S5.4.tgz is not supported on this platform\n", AddWrongPlatform,
			"ERROR: package junos-srxentedge-x86-64-21.4R3-S5.4.tgz is not supported on this platform"},
		{"reboot keyword", "'reboot' keyword must be specified. Aborting ISSU\n", AddOther, "'reboot' keyword must be specified. Aborting ISSU"},
		{"syntax error (PyEZ dual RE)", "error: syntax error, expecting <invoke-on>\n", AddOther, "error: syntax error, expecting <invoke-on>"},
		{"CLI error", "error: could not open /var/tmp/x\n", AddOther, "error: could not open /var/tmp/x"},
		{"success marker and a failure", ok + "Validation failed\n", AddValidation, "Validation failed"},
		{"pending wins over other kinds", "ERROR: insufficient space\nThere is already an install pending.\n", AddPending, "There is already an install pending."},
		{"xml result 1 without text", "<rpc-reply><package-result>1</package-result></rpc-reply>", AddOther, "package-result 1"},
		{"xml xnm:error", `<rpc-reply><xnm:error xmlns:xnm="http://xml.juniper.net/xnm/1.1/xnm"><message>syntax error, expecting &lt;invoke-on&gt;</message></xnm:error></rpc-reply>`,
			AddOther, "syntax error, expecting <invoke-on>"},
		{"xml xnm:error unknown wording", `<rpc-reply><xnm:error><message>package install aborted</message></xnm:error><package-result>0</package-result></rpc-reply>`,
			AddOther, "package install aborted"},
		{"xml output with ERROR, result 0", "<rpc-reply><output>ERROR: insufficient space</output><package-result>0</package-result></rpc-reply>",
			AddInsufficientSpace, "ERROR: insufficient space"},
		{"xml multi-member, one failed", `<rpc-reply><multi-routing-engine-results><multi-routing-engine-item><re-name>fpc0</re-name>` +
			`<output>Junos version 'D10.2' will become active at next reboot</output><package-result>0</package-result></multi-routing-engine-item>` +
			`<multi-routing-engine-item><re-name>fpc1</re-name><package-result>2</package-result></multi-routing-engine-item>` +
			`</multi-routing-engine-results></rpc-reply>`, AddOther, "package-result 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSoftwareAdd(tt.in)
			assert.Equal(t, AddResult{}, got)
			require.ErrorIs(t, err, ErrSoftwareAdd)
			var se *SoftwareAddError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.kind, se.Kind)
			assert.Equal(t, tt.msg, se.Message)
			assert.NotEmpty(t, se.Lines)
			if s := tt.kind.sentinel(); s != nil {
				assert.ErrorIs(t, err, s)
			}
			for _, other := range []error{ErrInstallPending, ErrInsufficientSpace, ErrWrongPlatform, ErrValidation} {
				if other != tt.kind.sentinel() {
					assert.NotErrorIs(t, err, other)
				}
			}
			assert.NotErrorIs(t, err, ErrUnrecognized)
		})
	}
}

func TestParseSoftwareAddVariants(t *testing.T) {
	const v = "variant (documented, no capture): "
	tests := []struct {
		name string
		in   string
		want AddResult
	}{
		{v + "legacy jinstall: Saving package file", "Installing package '/var/tmp/jinstall-12.3R12.4-domestic-signed.tgz' ...\n" +
			"saving package file in /var/sw/pkg/jinstall-12.3R12.4-domestic-signed.tgz ...\nSaving state for rollback ...\n",
			AddResult{Pending: true, Marker: "saving package file in /var/sw/pkg/jinstall-12.3R12.4-domestic-signed.tgz ..."}},
		{v + "XML with xnm:warning, result 0", `<rpc-reply><output>NOTICE: 'pending' set will be activated at next reboot...</output>` +
			`<xnm:warning xmlns:xnm="http://xml.juniper.net/xnm/1.1/xnm"><source-daemon>chassisd</source-daemon>` +
			`<message>realtime-ukernel-thread is disable. Please use the command request system reboot.</message></xnm:warning>` +
			"<package-result>\n 0 \n</package-result></rpc-reply>\n{primary:node1}\n",
			AddResult{Pending: true, Marker: "NOTICE: 'pending' set will be activated at next reboot...",
				Warnings: []string{"realtime-ukernel-thread is disable. Please use the command request system reboot."}, HasPackageResult: true}},
		{v + "validate with mgd: error and success", "mgd: error: schema: could not find daemon\nValidation succeeded\n" +
			"JUNOS 21.4R3-S5.4 will become active at next reboot\n",
			AddResult{Pending: true, Version: "21.4R3-S5.4", Marker: "JUNOS 21.4R3-S5.4 will become active at next reboot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSoftwareAdd(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestParseSoftwareAddUnknown: output with no marker is never an install.
func TestParseSoftwareAddUnknown(t *testing.T) {
	tests := map[string]string{
		"empty":                   "",
		"white space":             "\n \n",
		"reboot prompt":           readFixture(t, fxReboot),
		"cleanup reply":           readFixture(t, fxCleanupXML),
		"cluster status":          readFixture(t, fxVSRX19),
		"storage XML":             readFixture(t, fxStorageXML),
		"truncated before marker": "NOTICE: Validating configuration against junos-srxsme-15.1X49-D170.4-domestic.tgz.\nValidation succeeded\nInstalling package ...\n",
		"validation only":         "Validation succeeded\n",
		"excerpt XML":             readFixture(t, fxXMLExcerpt),
		"xml without output":      "<rpc-reply><cli><banner/></cli></rpc-reply>",
		"xml bad result":          "<rpc-reply><package-result>zero</package-result></rpc-reply>",
		"two versions":            "JUNOS 21.4R3-S5.4 will become active at next reboot\nJUNOS 22.4R3-S2.11 will become active at next reboot\n",
		"other command prompt":    "root@fw> show version\nJUNOS 21.4R3-S5.4 will become active at next reboot\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseSoftwareAdd(in)
			assert.Equal(t, AddResult{}, got)
			pe := requireParseError(t, err)
			assert.Equal(t, whatAdd, pe.What)
			assert.NotErrorIs(t, err, ErrSoftwareAdd)
		})
	}
}

func TestSoftwareAddErrorLinesCut(t *testing.T) {
	long := "ERROR: " + strings.Repeat("x", 400)
	_, err := ParseSoftwareAdd(long)
	var se *SoftwareAddError
	require.ErrorAs(t, err, &se)
	assert.LessOrEqual(t, len(se.Message), maxErrorText)
	assert.Len(t, se.Lines, 1)
	assert.LessOrEqual(t, len(se.Lines[0]), maxErrorText)
}
