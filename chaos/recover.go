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
	// Clock times the retries (nil: the system's).
	Clock Clock
}

// Recover restores every fault the journal still records as open: after
// SIGKILL of spof chaos run, a crash or a power loss. For each entry it
// undoes the fault, checks that it is gone, and only then closes the
// entry, so that running it again is harmless. Entries whose process is
// still alive, and within their deadline, are left alone unless
// opts.Force: past its deadline an entry is abandoned whatever runs under
// its pid (after a reboot, the pid may be another process's).
func Recover(ctx context.Context, j FaultJournal, opts RecoverOptions) ([]Recovery, error) {
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
			r.Err = restore(ctx, j, e, retry, opts.Clock)
		}
		out = append(out, r)
	}
	return out, nil
}

// A Clock tells the time and waits: time's, or a test's that moves at
// once.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// restore undoes e's fault, verifies it is gone and closes the entry. It
// tries again for within (the proxy's API may be restarting, a command may
// meet a lock; restoring is idempotent, so a retry is safe), backing off,
// and never starts an attempt that could not end in time: the error is
// then the last attempt's own, not the deadline's. An undo record it
// cannot read fails at once: retrying cannot fix it.
func restore(ctx context.Context, j FaultJournal, e Entry, within time.Duration, clk Clock) error {
	if clk == nil {
		clk = realClock{}
	}
	deadline := clk.Now().Add(within)
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	wait := 100 * time.Millisecond
	var last error
	for attempt := 1; ; attempt++ {
		start := clk.Now()
		err := restoreOnce(ctx, e)
		if err == nil {
			return j.End(e.ID)
		}
		if last == nil || ctx.Err() == nil {
			last = err // an attempt cut short by the deadline says less than the one before
		}
		took := clk.Now().Sub(start)
		switch {
		case errors.Is(err, inject.ErrBadUndo):
			return fmt.Errorf("%w (needs a human: retrying cannot help)", err)
		case ctx.Err() != nil, !clk.Now().Add(wait + took).Before(deadline):
			if attempt > 1 {
				return fmt.Errorf("%w (%d attempts in %v)", last, attempt, within)
			}
			return last
		}
		select {
		case <-ctx.Done():
		case <-clk.After(wait):
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
