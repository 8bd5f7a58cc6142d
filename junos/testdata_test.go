package junos

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEveryCaptureHasProvenanceAndTests: each file in testdata/ has its
// provenance row in testdata/README.md and is read by a table test (one of
// the fx constants).
func TestEveryCaptureHasProvenanceAndTests(t *testing.T) {
	readme := readFixture(t, "README.md")
	used := []string{fxAfterReset, fxManual, fxNTC, fxVSRX15, fxVSRX18, fxVSRX19, fxIBMTab, fxXMLExporter,
		fxXMLPyEZLost, fxXMLNotClust, fxXMLRPC, fxXMLExcerpt, fxXMLToby, fxPending, fxReboot, fxAddXML,
		fxAddEX3300, fxAddEX3400, fxAddSRX550M, fxISSUXML, fxICUBlog, fxRollbackXML, fxValidateXML,
		fxCleanupXML, fxEnvExcerpt, fxStorageXML, fxStorageGenie, fxStorageMX, fxVersionXML, fxVersion1500}
	files := allFixtures(t)
	sort.Strings(used)
	sort.Strings(files)
	assert.Equal(t, files, used)
	for _, f := range files {
		assert.True(t, strings.Contains(readme, "| `"+f+"` |"), "no README row for %s", f)
	}
}
