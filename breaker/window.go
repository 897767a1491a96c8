package breaker

import (
	"sync"
	"sync/atomic"
)

// window counts call results over a rolling time window. It is a ring of
// buckets, each covering width nanoseconds; a bucket is reset lazily by the
// first call that lands in it after its period ended, so no goroutine ticks.
//
// Recording is lock-free while the bucket is current. Under concurrency a call
// finishing exactly as its bucket rotates may be counted in the new period; the
// error is at most the calls in flight at that instant.
type window struct {
	width   int64 // nanoseconds per bucket
	mu      sync.Mutex
	buckets []bucket
}

type bucket struct {
	period    atomic.Int64 // now/width of the period the counts belong to
	successes atomic.Int64
	failures  atomic.Int64
}

func newWindow(width int64, n int) *window {
	return &window{width: width, buckets: make([]bucket, n)}
}

// record counts one result at time now (nanoseconds).
func (w *window) record(now int64, failure bool) {
	if now < 0 {
		now = 0
	}
	p := now / w.width
	b := &w.buckets[p%int64(len(w.buckets))]
	if b.period.Load() < p {
		w.rotate(b, p)
	}
	// A stale reading of the clock (p older than the bucket) is counted in
	// the newer period rather than dropped.
	if failure {
		b.failures.Add(1)
	} else {
		b.successes.Add(1)
	}
}

func (w *window) rotate(b *bucket, p int64) {
	w.mu.Lock()
	if b.period.Load() < p {
		b.successes.Store(0)
		b.failures.Store(0)
		b.period.Store(p)
	}
	w.mu.Unlock()
}

// totals returns the successes and failures in the window ending at now.
func (w *window) totals(now int64) (successes, failures int64) {
	if now < 0 {
		now = 0
	}
	p := now / w.width
	oldest := p - int64(len(w.buckets)) + 1
	for i := range w.buckets {
		b := &w.buckets[i]
		if q := b.period.Load(); q >= oldest && q <= p {
			successes += b.successes.Load()
			failures += b.failures.Load()
		}
	}
	return successes, failures
}
