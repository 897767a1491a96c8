package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// RecoverOptions tune Recover.
type RecoverOptions struct {
	// Force also restores the faults whose run is still alive.
	Force bool
	// Retry is how long each entry's restore is tried again before Recover
	// moves on to the next (0: its injector's inject.RestoreTimeout),
	// within ctx.
	Retry time.Duration
}

// Recover restores every fault the journal still records as open: after
// SIGKILL of spof chaos run, a crash or a power loss. For each entry it
// undoes the fault, checks that it is gone, and only then closes the
// entry, so that running it again is harmless. Entries whose process is
// still alive, and within their deadline, are left alone unless
// opts.Force: past its deadline an entry is abandoned whatever runs under
// its pid (after a reboot, the pid may be another process's).
func Recover(ctx context.Context, j *Journal, opts RecoverOptions) ([]Recovery, error) {
	entries, err := j.Entries()
	if err != nil {
		return nil, err
	}
	out := make([]Recovery, 0, len(entries))
	for _, e := range entries {
		r := Recovery{Entry: e}
		switch {
		case !opts.Force && e.PID > 0 && inject.Alive(e.PID) && time.Now().Before(e.Deadline):
			r.Err = fmt.Errorf("%w (pid %d, until %s): stop it, or recover with --force", ErrStillRunning, e.PID, e.Deadline.Format(time.RFC3339))
		default:
			retry := opts.Retry
			if retry <= 0 {
				retry = inject.RestoreTimeout(e.Undo)
			}
			ectx, cancel := context.WithTimeout(ctx, retry)
			r.Err = restore(ectx, j, e)
			cancel()
		}
		out = append(out, r)
	}
	return out, nil
}

// restore undoes e's fault, verifies it is gone and closes the entry. It
// tries again until ctx ends: the proxy's API may be restarting, a
// command may meet a lock. Restoring is idempotent, so a retry is safe.
func restore(ctx context.Context, j *Journal, e Entry) error {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := restoreOnce(ctx, e)
		if err == nil {
			return j.End(e.ID)
		}
		if attempt > 1 {
			err = fmt.Errorf("%w (%d attempts)", err, attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func restoreOnce(ctx context.Context, e Entry) error {
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
	return nil
}
