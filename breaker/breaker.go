// Package breaker is a circuit breaker for calls to a dependency that may
// fail: a cache, a database, a payment API. While the dependency is healthy
// the breaker is closed and lets calls through, counting results over a
// rolling window. When the share of failures reaches Options.ErrorThreshold
// (over at least Options.VolumeThreshold calls) it opens and fails calls at
// once with ErrOpen, so callers take their fallback instead of waiting on a
// dead dependency. After Options.ResetTimeout it is half-open: a few trial
// calls decide whether it closes again or reopens.
//
// Semantics follow opossum and sony/gobreaker. There are no background
// goroutines: the window rotates and the open state expires lazily, on the
// next call. The closed-state success path takes no lock and allocates
// nothing.
//
// Wrap a function with Do or DoWithFallback:
//
//	b := breaker.New("payments", breaker.Options{Timeout: 3 * time.Second})
//	receipt, err := breaker.DoWithFallback(ctx, b, charge,
//		func(ctx context.Context, reason error) (Receipt, error) {
//			return queueForLater(ctx, order) // charged when payments is back
//		})
//
// or, when the call cannot be wrapped in a function, use Allow:
//
//	done, err := b.Allow()
//	if err != nil {
//		return err // open: do not call
//	}
//	err = call()
//	done(err)
//
// Transport applies one breaker per host to an http.Client.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Sentinel errors. Errors returned by a Breaker wrap one of these and name the
// breaker; test with errors.Is.
var (
	// ErrOpen: the breaker is open and the call was not made.
	ErrOpen = errors.New("circuit open")
	// ErrTimeout: the call outlived Options.Timeout.
	ErrTimeout = errors.New("call timed out")
	// ErrTooManyTrials: the breaker is half-open and all trial permits are
	// in use; the call was not made.
	ErrTooManyTrials = errors.New("too many trial calls while half-open")
)

// errPanicked stands for a call that panicked or called runtime.Goexit.
var errPanicked = errors.New("call panicked")

// Breaker is a circuit breaker. It is safe for concurrent use; create it with
// New.
type Breaker struct {
	name  string
	opts  Options
	epoch time.Time // b.now counts from here

	gen atomic.Pointer[generation] // current generation; replaced under mu
	mu  sync.Mutex                 // serialises transitions and trial permits

	errOpen, errTooManyTrials error
}

// New returns a closed Breaker. name identifies it in errors and to the
// Observer. Zero Options fields take the defaults documented on Options.
// If Options.Observer has a Watch(*Breaker) method, New calls it with the
// new breaker.
func New(name string, opts Options) *Breaker {
	opts = opts.normalized()
	b := &Breaker{
		name:             name,
		opts:             opts,
		errOpen:          &breakerError{name: name, errs: []error{ErrOpen}},
		errTooManyTrials: &breakerError{name: name, errs: []error{ErrTooManyTrials}},
	}
	if opts.Clock != nil {
		b.epoch = opts.Clock()
	} else {
		b.epoch = time.Now()
	}
	b.gen.Store(b.newGeneration(StateClosed, 0))
	if w, ok := opts.Observer.(interface{ Watch(*Breaker) }); ok {
		w.Watch(b)
	}
	return b
}

// Name returns the name given to New.
func (b *Breaker) Name() string { return b.name }

// State returns the current state. An open breaker whose ResetTimeout has
// passed reports StateOpen until the next call moves it to half-open.
func (b *Breaker) State() State { return b.gen.Load().state }

// Allow asks to make one call. If the breaker lets it through, the caller
// makes the call and then must call done exactly once with the call's error
// (nil for success). Otherwise err wraps ErrOpen or ErrTooManyTrials and done
// is nil. Allow does not apply Options.Timeout, and a panic between Allow and
// done is the caller's to report (as a non-nil error).
func (b *Breaker) Allow() (done func(err error), err error) {
	g, err := b.acquire()
	if err != nil {
		return nil, err
	}
	return g.done, nil
}

// now returns nanoseconds since b.epoch: monotonic time.Since without
// Options.Clock.
func (b *Breaker) now() int64 {
	if b.opts.Clock == nil {
		return int64(time.Since(b.epoch))
	}
	return int64(b.opts.Clock().Sub(b.epoch))
}

// acquire lets one call through, returning the generation it belongs to.
func (b *Breaker) acquire() (*generation, error) {
	g := b.gen.Load()
	if g.state == StateClosed {
		return g, nil
	}
	return b.acquireSlow(g)
}

func (b *Breaker) acquireSlow(g *generation) (*generation, error) {
	now := b.now()
	if g.state == StateOpen && now < g.openUntil {
		b.observe(ResultRejected)
		return nil, b.errOpen
	}
	var t transition
	b.mu.Lock()
	g = b.gen.Load()
	switch g.state {
	case StateClosed:
		b.mu.Unlock()
		return g, nil
	case StateOpen:
		if now < g.openUntil {
			b.mu.Unlock()
			b.observe(ResultRejected)
			return nil, b.errOpen
		}
		g, t = b.setLocked(StateHalfOpen, now)
	}
	if g.trials >= b.opts.HalfOpenMax {
		b.mu.Unlock()
		b.notify(t)
		b.observe(ResultTooManyTrials)
		return nil, b.errTooManyTrials
	}
	g.trials++
	b.mu.Unlock()
	b.notify(t)
	return g, nil
}

// classify maps a call's error to the result the breaker counts.
// context.Canceled is checked before IsFailure: a caller giving up says
// nothing about the dependency, whatever IsFailure would answer.
func (b *Breaker) classify(err error) Result {
	switch {
	case err == nil:
		return ResultSuccess
	case err == errPanicked:
		return ResultFailure
	case errors.Is(err, ErrTimeout):
		return ResultTimeout
	case errors.Is(err, context.Canceled):
		return ResultCanceled
	case b.opts.IsFailure == nil || b.opts.IsFailure(err):
		return ResultFailure
	}
	return ResultSuccess
}

// finish records the result of a call let through in generation g.
func (b *Breaker) finish(g *generation, err error) {
	r := b.classify(err)
	if g.state == StateClosed && r != ResultFailure && r != ResultTimeout {
		// Fast path: successes cannot change the state. A late success lands
		// in g's window, which is discarded if g is no longer current.
		if r == ResultSuccess {
			g.window.record(b.now(), false)
		}
		b.observe(r)
		return
	}
	now := b.now()
	var t transition
	b.mu.Lock()
	if b.gen.Load() == g { // else: a late result from an older state
		switch g.state {
		case StateClosed:
			g.window.record(now, true)
			s, f := g.window.totals(now)
			if total := s + f; total >= int64(b.opts.VolumeThreshold) &&
				f*100 >= int64(b.opts.ErrorThreshold)*total {
				_, t = b.setLocked(StateOpen, now)
			}
		case StateHalfOpen:
			switch r {
			case ResultSuccess:
				g.successes++
				if g.successes >= b.opts.HalfOpenMax {
					_, t = b.setLocked(StateClosed, now)
				}
			case ResultCanceled:
				g.trials-- // give the permit back
			default:
				_, t = b.setLocked(StateOpen, now)
			}
		}
	}
	b.mu.Unlock()
	b.notify(t)
	b.observe(r)
}

func (b *Breaker) observe(r Result) {
	if b.opts.Observer != nil {
		b.opts.Observer.OnCall(b.name, r)
	}
}

// breakerError is an error returned by a Breaker: it names the breaker and
// wraps a sentinel and, for ErrTimeout, the call's own error if it had one.
type breakerError struct {
	name    string
	errs    []error       // the sentinel, then the call's error
	timeout time.Duration // with ErrTimeout: Options.Timeout
}

func (e *breakerError) Error() string {
	msg := fmt.Sprintf("breaker %q: %v", e.name, e.errs[0])
	if e.timeout > 0 {
		msg += " after " + e.timeout.String()
	}
	for _, err := range e.errs[1:] {
		msg += ": " + err.Error()
	}
	return msg
}

func (e *breakerError) Unwrap() []error { return e.errs }
