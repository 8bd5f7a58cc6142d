package junos

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readFixture returns testdata/<rel> (a copy of a shared capture, see
// testdata/README.md).
func readFixture(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	require.NoError(t, err)
	return string(b)
}

// Captures in testdata/, by directory.
const (
	fxAfterReset   = "chassis-cluster-status/after-failover-reset-rg0-secondary-hold.txt"
	fxManual       = "chassis-cluster-status/manual-failover-rg0-secondary-hold-manual-yes.txt"
	fxNTC          = "chassis-cluster-status/ntc-peer-lost-rg1-rg3-prio0-cs.txt"
	fxVSRX15       = "chassis-cluster-status/vsrx-15-node0-lost-rg1-prio0-cs.txt"
	fxVSRX18       = "chassis-cluster-status/vsrx-18-peer-lost-doc-blank-lines.txt"
	fxVSRX19       = "chassis-cluster-status/vsrx-19-healthy-preempt-no.txt"
	fxIBMTab       = "chassis-cluster-status/vsrx-ibm-rg1-preempt-yes-tab-indented.txt"
	fxXMLExporter  = "chassis-cluster-status-xml/exporter-23.4R2-S2.1-rgs-split-no-preempt-elements.xml"
	fxXMLPyEZLost  = "chassis-cluster-status-xml/pyez-12.1X44-peer-lost-no-monitor-failures.xml"
	fxXMLNotClust  = "chassis-cluster-status-xml/pyez-12.3X48-not-clustered-error.xml"
	fxXMLRPC       = "chassis-cluster-status-xml/srx-12.3X48-display-xml-rpc.xml"
	fxXMLExcerpt   = "chassis-cluster-status-xml/srx-12.3X48-monitor-failures-excerpt.txt"
	fxXMLToby      = "chassis-cluster-status-xml/toby-srx-highend-rg0-on-node1.xml"
	fxPending      = "request-package-checks-pending-install-xml/pyez-already-pending-error.xml"
	fxReboot       = "request-system-reboot/reboot-confirm-prompt.txt"
	fxAddXML       = "request-system-software-add-xml/srxsme-11.1R3.5-package-add.xml"
	fxAddEX3300    = "request-system-software-add/ex3300-12.3R12-S20.1-cli.txt"
	fxAddEX3400    = "request-system-software-add/ex3400-21.4R1.12-pyez-install-excerpt.txt"
	fxAddSRX550M   = "request-system-software-add/srx550m-15.1X49-D170.4-no-copy-field-notes.txt"
	fxISSUXML      = "request-system-software-in-service-upgrade-xml/pyez-mx-16.1-issu.xml"
	fxICUBlog      = "request-system-software-in-service-upgrade/srx-branch-12.1X46-D55.3-icu-blog.txt"
	fxRollbackXML  = "request-system-software-rollback-xml/pyez-multi-member-fpc.xml"
	fxValidateXML  = "request-system-software-validate-xml/pyez-13.2-dev-validate-succeeded.xml"
	fxCleanupXML   = "request-system-storage-cleanup-xml/pyez-14.1D0-file-list.xml"
	fxEnvExcerpt   = "show-chassis-environment-xml/srx-15.1X49-cluster-multi-re-excerpt.txt"
	fxStorageXML   = "show-system-storage-xml/exporter-18.2R1-brief.xml"
	fxStorageGenie = "show-system-storage/genie-freebsd11-golden.txt"
	fxStorageMX    = "show-system-storage/mx-17.3R3-S8.1-no-forwarding.txt"
	fxVersionXML   = "show-version-xml/srx4100-15.1X49-D120.3-cluster-excerpt.txt"
	fxVersion1500  = "show-version/srx1500-19.4-cluster.txt"
)

// allFixtures lists every file under testdata/ except README.md.
func allFixtures(t testing.TB) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir("testdata", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() != "README.md" && !strings.Contains(path, string(filepath.Separator)+"fuzz"+string(filepath.Separator)) {
			rel, _ := filepath.Rel("testdata", path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// requireParseError checks the *ParseError contract and returns it.
func requireParseError(t testing.TB, err error) *ParseError {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, ErrUnrecognized)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	require.NotEmpty(t, pe.Reason)
	require.NotEmpty(t, pe.What)
	require.LessOrEqual(t, len(pe.Text), maxErrorText)
	require.Contains(t, err.Error(), pe.Reason)
	return pe
}

// typedParseErr reports whether err is one of the error types a parser of
// this package may return.
func typedParseErr(err error) bool {
	var pe *ParseError
	var de *DeviceError
	var se *SoftwareAddError
	switch {
	case errors.As(err, &pe):
		return errors.Is(err, ErrUnrecognized) && pe.Reason != "" && len(pe.Text) <= maxErrorText
	case errors.As(err, &de):
		return errors.Is(err, ErrDeviceError) && len(de.Message) <= maxErrorText
	case errors.As(err, &se):
		return errors.Is(err, ErrSoftwareAdd) && se.Kind != ""
	}
	return false
}
