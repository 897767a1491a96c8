//go:build unix

package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// lockMerge takes an exclusive lock on the directory of a model that
// spof import --merge reads, merges and replaces, so that two merges into
// it at once run one after the other instead of one losing the other's
// additions (each reads the file, then renames its result over it). It
// waits up to a minute, saying so after a second. The lock goes with the
// process.
func lockMerge(dir string, stderr io.Writer) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Minute)
	said := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s for the merge: %w", dir, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another spof import --merge into %s has held it for a minute; try again when it ends", dir)
		}
		if !said && time.Until(deadline) < 59*time.Second {
			fmt.Fprintf(stderr, "spof: waiting for another spof import --merge into %s to end\n", dir)
			said = true
		}
		time.Sleep(20 * time.Millisecond)
	}
}
