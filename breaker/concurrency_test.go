package breaker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingObserver counts events by kind.
type countingObserver struct {
	results     [ResultTooManyTrials + 1]atomic.Int64
	transitions [3][3]atomic.Int64 // [from][to]
}

func (o *countingObserver) OnCall(_ string, r Result)              { o.results[r].Add(1) }
func (o *countingObserver) OnStateChange(_ string, from, to State) { o.transitions[from][to].Add(1) }

// TestConcurrentInvariants hammers one breaker from many goroutines while the
// fake clock moves, and checks that no more than HalfOpenMax trials of one
// half-open period run at once and that every call is accounted for.
func TestConcurrentInvariants(t *testing.T) {
	const (
		goroutines  = 32
		calls       = 2000
		halfOpenMax = 3
	)
	clock := newFakeClock()
	obs := &countingObserver{}
	b := New("hammer", Options{
		VolumeThreshold: 10,
		ErrorThreshold:  30,
		Window:          time.Second,
		ResetTimeout:    50 * time.Millisecond,
		HalfOpenMax:     halfOpenMax,
		Clock:           clock.Now,
		Observer:        obs,
	})
	var (
		mu       sync.Mutex
		inFlight = map[*generation]int{} // trials running per half-open generation
		maxSeen  int
		made     [ResultTooManyTrials + 1]atomic.Int64
	)
	var wg sync.WaitGroup
	for w := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				if i%7 == 0 {
					clock.Advance(time.Millisecond)
				}
				g, err := b.acquire()
				switch {
				case errors.Is(err, ErrOpen):
					made[ResultRejected].Add(1)
					continue
				case errors.Is(err, ErrTooManyTrials):
					made[ResultTooManyTrials].Add(1)
					continue
				case err != nil:
					t.Errorf("acquire: %v", err)
					return
				}
				if g.state == StateHalfOpen {
					mu.Lock()
					inFlight[g]++
					maxSeen = max(maxSeen, inFlight[g])
					mu.Unlock()
				}
				var res error
				// Outage phases alternate with healthy ones.
				k := (w*31 + i*17) % 10
				if (i/250)%2 == 1 {
					k += 4 // no failures while healthy
				}
				switch k {
				case 0, 1, 2, 3, 4, 5:
					res = errBoom
					made[ResultFailure].Add(1)
				case 6:
					res = context.Canceled
					made[ResultCanceled].Add(1)
				default:
					made[ResultSuccess].Add(1)
				}
				if g.state == StateHalfOpen {
					mu.Lock()
					inFlight[g]--
					mu.Unlock()
				}
				g.done(res)
			}
		}()
	}
	wg.Wait()

	if maxSeen > halfOpenMax {
		t.Errorf("%d trials ran at once in one half-open period, want at most %d", maxSeen, halfOpenMax)
	}
	if maxSeen == 0 {
		t.Errorf("no half-open trial ran; the test did not exercise half-open")
	}
	var total int64
	for r := range made {
		if got, want := obs.results[r].Load(), made[r].Load(); got != want {
			t.Errorf("observer saw %d %v results, callers saw %d", got, Result(r), want)
		}
		total += made[r].Load()
	}
	if total != goroutines*calls {
		t.Errorf("%d calls accounted for, want %d", total, goroutines*calls)
	}
	// Transitions into each state minus out of it equals 1 for the final
	// state (and -1 for the initial, closed).
	for s := range 3 {
		var in, out int64
		for o := range 3 {
			in += obs.transitions[o][s].Load()
			out += obs.transitions[s][o].Load()
		}
		want := int64(0)
		if State(s) == b.State() {
			want++
		}
		if State(s) == StateClosed {
			want--
		}
		if in-out != want {
			t.Errorf("state %v: %d transitions in, %d out; want difference %d", State(s), in, out, want)
		}
	}
	if obs.transitions[StateClosed][StateOpen].Load() == 0 || obs.transitions[StateHalfOpen][StateClosed].Load() == 0 {
		t.Errorf("transitions %v: want the breaker to have opened and closed again", &obs.transitions)
	}
}

// TestHalfOpenTrialLimit lets more goroutines than HalfOpenMax ask for a
// trial at once, all holding their permits, and checks that exactly
// HalfOpenMax get one.
func TestHalfOpenTrialLimit(t *testing.T) {
	const (
		goroutines  = 16
		halfOpenMax = 3
	)
	clock := newFakeClock()
	b := New("trials", Options{VolumeThreshold: 1, HalfOpenMax: halfOpenMax, Clock: clock.Now})
	done, _ := b.Allow()
	done(errBoom)
	if b.State() != StateOpen {
		t.Fatalf("state = %v, want open", b.State())
	}
	clock.Advance(DefaultResetTimeout)

	var (
		asked, finished sync.WaitGroup
		granted, denied atomic.Int64
		release         = make(chan struct{})
	)
	for range goroutines {
		asked.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			done, err := b.Allow()
			switch {
			case err == nil:
				granted.Add(1)
			case errors.Is(err, ErrTooManyTrials):
				denied.Add(1)
			default:
				t.Errorf("Allow: %v, want a permit or ErrTooManyTrials", err)
			}
			asked.Done()
			if done != nil {
				<-release // hold the permit until every goroutine has asked
				done(nil)
			}
		}()
	}
	asked.Wait()
	if g, d := granted.Load(), denied.Load(); g != halfOpenMax || d != goroutines-halfOpenMax {
		t.Errorf("%d trials granted and %d denied, want %d and %d", g, d, halfOpenMax, goroutines-halfOpenMax)
	}
	close(release)
	finished.Wait()
	if b.State() != StateClosed {
		t.Errorf("state = %v after %d successful trials, want closed", b.State(), halfOpenMax)
	}
}
