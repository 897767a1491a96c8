package breaker

import (
	"context"
	"fmt"
)

// Do calls fn through b. If b is open it returns an error wrapping ErrOpen
// (or ErrTooManyTrials when half-open) without calling fn. Otherwise fn runs
// in the caller's goroutine with ctx, bounded by Options.Timeout if set; if
// that deadline passes before fn returns, Do returns an error wrapping both
// ErrTimeout and fn's error, and counts a failure. A panic in fn counts as a
// failure and keeps unwinding.
func Do[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	g, err := b.acquire()
	if err != nil {
		return zero, err
	}
	callCtx := ctx
	if b.opts.Timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, b.opts.Timeout)
		defer cancel()
	}
	returned := false
	defer func() {
		if !returned { // fn panicked or called runtime.Goexit
			b.finish(g, errPanicked)
		}
	}()
	v, err := fn(callCtx)
	returned = true
	if b.opts.Timeout > 0 && callCtx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		v = zero
		if err == nil {
			err = fmt.Errorf("breaker %q: %w after %v", b.name, ErrTimeout, b.opts.Timeout)
		} else {
			err = fmt.Errorf("breaker %q: %w after %v: %w", b.name, ErrTimeout, b.opts.Timeout, err)
		}
	}
	b.finish(g, err)
	return v, err
}

// DoWithFallback is Do, but when the call is not made or fails it returns
// fallback's result instead. fallback receives the reason: an error wrapping
// ErrOpen, ErrTooManyTrials or ErrTimeout, or fn's error. It runs outside the
// breaker: its own failures are not counted.
func DoWithFallback[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error), fallback func(ctx context.Context, reason error) (T, error)) (T, error) {
	v, err := Do(ctx, b, fn)
	if err == nil {
		return v, nil
	}
	return fallback(ctx, err)
}
