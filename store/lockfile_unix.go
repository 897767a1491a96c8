//go:build unix

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// tryLockFile takes an exclusive flock on path (created, mode 0600)
// without waiting: false if another open file holds one, in this process
// or another. The kernel releases it when the file is closed, and when
// the process dies, however it dies.
func tryLockFile(path string) (held, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	for range 10 { // a signal may interrupt the call; it does not block
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, false, nil
	}
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("locking %s: %w", path, err)
	}
	return fileLock{f}, true, nil
}

// fileLock is a flock held on an open file.
type fileLock struct{ f *os.File }

// check is nil: nothing but Release or death ends a lock held on a local
// file.
func (fileLock) check(context.Context) error { return nil }

// release closes the file, which releases the lock. The file stays:
// removing it could let two processes lock two different files.
func (l fileLock) release() error { return l.f.Close() }
