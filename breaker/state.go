package breaker

import "fmt"

// State is the state of a Breaker.
type State int32

const (
	// StateClosed lets every call through and counts results.
	StateClosed State = iota
	// StateOpen rejects every call with ErrOpen until ResetTimeout has passed.
	StateOpen
	// StateHalfOpen lets HalfOpenMax trial calls through to decide whether to
	// close again or reopen.
	StateHalfOpen
)

func (s State) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateOpen:
		return "open"
	case StateHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// generation is one period in one state. A Breaker holds its current
// generation in an atomic pointer and replaces it on every transition, so a
// result carrying an older generation can never change the current state: it
// lands in a discarded window or is dropped.
type generation struct {
	state State

	// closed
	window *window

	// open: the clock reading (ns) at which trials may start.
	openUntil int64

	// half-open; guarded by Breaker.mu.
	trials    int // permits handed out and not given back
	successes int

	// done is handed out by Allow; built once per generation so that Allow
	// does not allocate.
	done func(err error)
}

// transition records a state change to report to the Observer once the lock
// is released. The zero value, from == to, is no change.
type transition struct{ from, to State }

// setLocked replaces the current generation by a new one in state s.
// b.mu must be held.
func (b *Breaker) setLocked(s State, now int64) (*generation, transition) {
	old := b.gen.Load()
	g := b.newGeneration(s, now)
	b.gen.Store(g)
	return g, transition{from: old.state, to: s}
}

func (b *Breaker) newGeneration(s State, now int64) *generation {
	g := &generation{state: s}
	switch s {
	case StateClosed:
		g.window = newWindow(int64(b.opts.Window)/int64(b.opts.Buckets), b.opts.Buckets)
	case StateOpen:
		g.openUntil = now + int64(b.opts.ResetTimeout)
	}
	g.done = func(err error) { b.finish(g, err) }
	return g
}

// notify reports t to the Observer, if any. Never called with b.mu held.
func (b *Breaker) notify(t transition) {
	if t.from != t.to && b.opts.Observer != nil {
		b.opts.Observer.OnStateChange(b.name, t.from, t.to)
	}
}
