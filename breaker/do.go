package breaker

import (
	"context"
	"errors"
)

// Do calls fn through b. If b is open it returns an error wrapping ErrOpen
// (or ErrTooManyTrials when half-open) without calling fn. Otherwise fn runs
// in the caller's goroutine, and Do returns when fn does. With
// Options.Timeout set, fn's context ends after Timeout, and fn must honour it:
// if fn returns after that deadline, Do returns the zero T and an error
// wrapping ErrTimeout and fn's error, if any, and counts a failure. If ctx
// itself ends first, fn's error is returned as it is. A panic in fn counts as
// a failure and keeps unwinding.
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
	// The deadline is the breaker's only if ctx, which callCtx inherits
	// from, has not ended too.
	if b.opts.Timeout > 0 && callCtx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		errs := []error{ErrTimeout}
		if err != nil {
			errs = append(errs, err)
		}
		v, err = zero, &breakerError{name: b.name, errs: errs, timeout: b.opts.Timeout}
	}
	b.finish(g, err)
	return v, err
}

// DoWithFallback is Do, but when the breaker does not make the call or the
// call fails it returns fallback's result instead. fallback receives the
// reason: an error wrapping ErrOpen, ErrTooManyTrials or ErrTimeout, or fn's
// error when the breaker counts it as a failure (see Options.IsFailure).
// Other errors are returned without calling fallback: a cancelled call
// (context.Canceled) and errors that IsFailure rejects. fallback runs outside
// the breaker: its own failures are not counted.
func DoWithFallback[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error), fallback func(ctx context.Context, reason error) (T, error)) (T, error) {
	v, err := Do(ctx, b, fn)
	if err == nil || !b.fallsBack(err) {
		return v, err
	}
	return fallback(ctx, err)
}

// fallsBack reports whether DoWithFallback answers err, returned by Do, with
// the fallback: when the breaker turned the call away or counted it failed.
func (b *Breaker) fallsBack(err error) bool {
	if errors.Is(err, ErrOpen) || errors.Is(err, ErrTooManyTrials) {
		return true
	}
	r := b.classify(err)
	return r == ResultFailure || r == ResultTimeout
}
