package proxytest

import (
	"slices"
	"sync"
	"time"
)

// FakeClock is a clock whose time moves only when the test advances it;
// it satisfies proxy.Clock. Advance runs the functions that fall due in
// the test's goroutine, so that their effects are visible when it
// returns. Its methods are safe for concurrent use.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at   time.Time
	f    func()
	done bool // fired or stopped
}

// Start is when a FakeClock starts: a fixed time, so that golden files
// can hold the expiries computed from it.
var Start = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// NewFakeClock returns a FakeClock at Start.
func NewFakeClock() *FakeClock {
	return &FakeClock{now: Start}
}

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arranges for f to run when the clock has moved d ahead. The
// stop function it returns reports whether it stopped f from running, as
// time.Timer.Stop does.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		stopped := !tm.done
		tm.done = true
		return stopped
	}
}

// Advance moves the clock by d and runs the functions due by then,
// earliest first.
func (c *FakeClock) Advance(d time.Duration) {
	for _, f := range c.Fire(d) {
		f()
	}
}

// Fire moves the clock by d and returns the functions due, earliest
// first, without running them: their timers count as fired, so stopping
// them fails, as with a time.Timer whose function has started but not
// yet got anywhere. Tests use it to race an expiry with other changes.
func (c *FakeClock) Fire(d time.Duration) []func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	c.timers = slices.DeleteFunc(c.timers, func(tm *fakeTimer) bool {
		if !tm.done && !tm.at.After(c.now) {
			due = append(due, tm)
			tm.done = true
		}
		return tm.done
	})
	slices.SortStableFunc(due, func(a, b *fakeTimer) int { return a.at.Compare(b.at) })
	fs := make([]func(), len(due))
	for i, tm := range due {
		fs[i] = tm.f
	}
	return fs
}

// Pending returns how many functions wait for their time: armed and
// neither fired nor stopped.
func (c *FakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, tm := range c.timers {
		if !tm.done {
			n++
		}
	}
	return n
}
