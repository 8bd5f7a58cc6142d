//go:build !unix

package upgrade

import (
	"fmt"
	"os"
)

// flockExclusive is not available here: FileJournal refuses to run
// rather than let two runs share a file unguarded.
func flockExclusive(f *os.File) error {
	return fmt.Errorf("%w: file locking is not supported on this system", ErrJournalLocked)
}
