package chaos

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/spofhq/spof/chaos/inject"
)

// A Recovery is what Recover did with one open journal entry.
type Recovery struct {
	Entry Entry
	// Err is nil when the fault is verified gone and the entry closed.
	Err error
}

// ErrStillRunning: the process that injected the fault is alive and may
// still restore it itself.
var ErrStillRunning = errors.New("the spof chaos run that injected it is still running")

// Recover restores every fault the journal still records as open: after
// SIGKILL of spof chaos run, a crash or a power loss. For each entry it
// undoes the fault, checks that it is gone, and only then closes the
// entry, so that running it again is harmless. Entries whose process is
// still alive are left alone unless force is set.
func Recover(ctx context.Context, j *Journal, force bool) ([]Recovery, error) {
	entries, err := j.Entries()
	if err != nil {
		return nil, err
	}
	out := make([]Recovery, 0, len(entries))
	for _, e := range entries {
		r := Recovery{Entry: e}
		switch {
		case !force && e.PID > 0 && alive(e.PID):
			r.Err = fmt.Errorf("%w (pid %d): stop it, or recover with --force", ErrStillRunning, e.PID)
		default:
			r.Err = restore(ctx, j, e)
		}
		out = append(out, r)
	}
	return out, nil
}

// restore undoes e's fault, verifies it is gone and closes the entry.
func restore(ctx context.Context, j *Journal, e Entry) error {
	if err := inject.Restore(ctx, e.Undo); err != nil {
		return err
	}
	on, err := inject.Active(ctx, e.Undo)
	if err != nil {
		return fmt.Errorf("checking that the fault is gone: %w", err)
	}
	if on {
		return fmt.Errorf("the fault is still in place after its restore")
	}
	return j.End(e.ID)
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
