//go:build unix

package upgrade

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// flockExclusive takes a non-blocking exclusive flock(2) on f; another
// holder gives ErrJournalLocked.
func flockExclusive(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("%w: %s is held", ErrJournalLocked, f.Name())
	}
	return err
}
