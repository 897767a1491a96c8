package breaker

import "fmt"

// Observer is told what a Breaker does, for metrics and logs (see
// breaker/prombreaker). Methods are called synchronously from the goroutine
// that made the call, never while the breaker holds a lock, so they may call
// the breaker; they must be cheap and safe for concurrent use. Events from
// different goroutines may arrive in a different order than they happened,
// so an Observer that shows the current state should read Breaker.State
// rather than replay OnStateChange events.
//
// If the Observer also has a method Watch(*Breaker), New calls it with each
// breaker it creates (Transport's per-host breakers included) before
// returning, which gives the Observer the breakers whose State to read.
type Observer interface {
	// OnStateChange reports a transition of the named breaker.
	OnStateChange(name string, from, to State)
	// OnCall reports the outcome of one call, including rejected ones.
	OnCall(name string, r Result)
}

// Result is the outcome of one call as the breaker counted it.
type Result int32

const (
	// ResultSuccess: the call returned nil or an error that
	// Options.IsFailure rejects.
	ResultSuccess Result = iota
	// ResultFailure: the call returned an error that counts as a failure
	// (Options.IsFailure), or panicked.
	ResultFailure
	// ResultTimeout: the call outlived Options.Timeout; counted as a failure.
	ResultTimeout
	// ResultCanceled: the call's error wraps context.Canceled: the caller
	// gave up. Not counted, whatever Options.IsFailure says.
	ResultCanceled
	// ResultRejected: the breaker was open; the call was not made.
	ResultRejected
	// ResultTooManyTrials: half-open and out of trial permits; not made.
	ResultTooManyTrials
)

func (r Result) String() string {
	switch r {
	case ResultSuccess:
		return "success"
	case ResultFailure:
		return "failure"
	case ResultTimeout:
		return "timeout"
	case ResultCanceled:
		return "canceled"
	case ResultRejected:
		return "rejected"
	case ResultTooManyTrials:
		return "too_many_trials"
	}
	return fmt.Sprintf("Result(%d)", int32(r))
}
