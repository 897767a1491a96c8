package breaker

import "time"

// Defaults used for zero (or out-of-range) Options fields.
const (
	DefaultErrorThreshold  = 50
	DefaultWindow          = 10 * time.Second
	DefaultBuckets         = 10
	DefaultVolumeThreshold = 20
	DefaultResetTimeout    = 30 * time.Second
	DefaultHalfOpenMax     = 1
)

// Options configure a Breaker. The zero value is usable: every zero field takes
// the default documented on it. Negative values are treated as zero, and an
// ErrorThreshold above 100 is treated as 100, so New never fails.
type Options struct {
	// Timeout is how long a call made through Do or DoWithFallback may take.
	// The function runs in the caller's goroutine with a context that ends
	// after Timeout; it must honour that context, because Do returns only
	// when the function does. If it returns after the deadline, Do returns an
	// error wrapping ErrTimeout (and the function's error, if any), and the
	// call counts as a failure even if the function succeeded. Zero (the
	// default) means no timeout. A timeout costs the allocations of
	// context.WithTimeout; the closed-state path is allocation-free only
	// without one. Allow and Transport ignore Timeout.
	Timeout time.Duration

	// ErrorThreshold is the percentage (1-100) of failed calls over the
	// rolling window at or above which the breaker opens. Default 50.
	ErrorThreshold int

	// Window is the length of the rolling window of call results that
	// ErrorThreshold and VolumeThreshold look at. Default 10s.
	Window time.Duration

	// Buckets is the number of buckets the window is divided into; results
	// leave the window one bucket (Window/Buckets) at a time. Default 10.
	Buckets int

	// VolumeThreshold is the minimum number of calls (successes plus
	// failures) in the window before the breaker may open, so that one
	// failure on a quiet service does not open it. Default 20.
	VolumeThreshold int

	// ResetTimeout is how long the breaker stays open before it lets trial
	// calls through (half-open). Default 30s.
	ResetTimeout time.Duration

	// HalfOpenMax is the number of trial calls let through while half-open.
	// That many successful trials close the breaker; one failed trial opens
	// it again. Calls beyond it get ErrTooManyTrials. A trial cancelled by its
	// caller (context.Canceled) gives its permit back. Default 1.
	HalfOpenMax int

	// IsFailure reports whether a call's error counts as a failure; errors
	// it rejects count as successes. Nil (the default) counts every error.
	// It is not asked about context.Canceled, which means the caller gave up,
	// not that the dependency failed, and is never counted; nor about
	// timeouts and panics, which are always failures.
	IsFailure func(error) bool

	// Clock returns the current time; tests inject a fake. Default time.Now.
	// Only differences between its readings are used.
	Clock func() time.Time

	// Observer, if not nil, is told about state changes and call results.
	Observer Observer
}

// normalized returns o with defaults filled in and values clamped.
func (o Options) normalized() Options {
	if o.Timeout < 0 {
		o.Timeout = 0
	}
	if o.ErrorThreshold <= 0 {
		o.ErrorThreshold = DefaultErrorThreshold
	}
	if o.ErrorThreshold > 100 {
		o.ErrorThreshold = 100
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Buckets <= 0 {
		o.Buckets = DefaultBuckets
	}
	if time.Duration(o.Buckets) > o.Window {
		o.Buckets = int(o.Window) // buckets at least 1ns wide
	}
	if o.VolumeThreshold <= 0 {
		o.VolumeThreshold = DefaultVolumeThreshold
	}
	if o.ResetTimeout <= 0 {
		o.ResetTimeout = DefaultResetTimeout
	}
	if o.HalfOpenMax <= 0 {
		o.HalfOpenMax = DefaultHalfOpenMax
	}
	return o
}
