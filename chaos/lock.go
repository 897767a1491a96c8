package chaos

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runLockFile is the lock a run holds in the state directory.
const runLockFile = "run.lock"

// ErrRunLocked: another spof chaos run holds the state directory. The
// error LockRun returns matches it, and says who holds it.
var ErrRunLocked = errors.New("another run holds the state directory")

// lockedError is ErrRunLocked with its holder.
type lockedError struct{ dir, holder string }

func (e *lockedError) Error() string {
	return fmt.Sprintf("another run holds %s (%s)", e.dir, e.holder)
}

func (e *lockedError) Is(target error) bool { return target == ErrRunLocked }

// A RunLock is the state directory held by one run, from the steady state
// of its first experiment to the record of its last: two runs on the same
// system would inject into each other's steady state, and one's clean-up
// could take out the other's fault.
type RunLock struct {
	f *os.File
}

// LockRun takes the run lock of the state directory dir, without waiting.
// When another process holds it, the error (ErrRunLocked) names it: the
// directory, its pid and since when.
func LockRun(dir string, now time.Time) (*RunLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chaos state directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, runLockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &lockedError{dir, holder(f)}
		}
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	// Who holds it, for the next run to say: rewritten in place, since the
	// lock is on the file (a rename would make a new one).
	info := fmt.Sprintf("pid %d\nsince %s\n", os.Getpid(), now.UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(info), 0)
	}
	return &RunLock{f: f}, nil
}

// holder reads who holds the lock from its file.
func holder(f *os.File) string {
	buf := make([]byte, 128)
	n, _ := f.ReadAt(buf, 0)
	var pid int
	var since string
	for line := range strings.Lines(string(buf[:n])) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch k {
		case "pid":
			pid, _ = strconv.Atoi(v)
		case "since":
			since = v
		}
	}
	if pid == 0 || since == "" {
		return "pid unknown: it is starting"
	}
	return fmt.Sprintf("pid %d, since %s", pid, since)
}

// Close releases the lock.
func (l *RunLock) Close() error {
	return l.f.Close() // closing the file releases the flock
}

// NewRunID names a run: its start time, and a random suffix so that two
// runs started in the same second never share an ID (nor, through it, a
// journal entry or a toxic name).
func NewRunID(now time.Time) string {
	var b [3]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
