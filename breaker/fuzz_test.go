package breaker

import (
	"context"
	"errors"
	"testing"
	"time"
)

// refModel is the breaker's specification written as plainly as possible: a
// list of timestamped results instead of a ring of buckets, and integer
// generations instead of pointers.
type refModel struct {
	o         Options
	state     State
	gen       int
	results   []refResult // closed state only
	openUntil int64
	trials    int
	successes int
}

type refResult struct {
	at      int64
	failure bool
}

func (m *refModel) set(s State, now int64) {
	m.state, m.gen = s, m.gen+1
	m.results, m.trials, m.successes = nil, 0, 0
	if s == StateOpen {
		m.openUntil = now + int64(m.o.ResetTimeout)
	}
}

func (m *refModel) allow(now int64) (gen int, err error) {
	switch m.state {
	case StateOpen:
		if now < m.openUntil {
			return 0, ErrOpen
		}
		m.set(StateHalfOpen, now)
		fallthrough
	case StateHalfOpen:
		if m.trials >= m.o.HalfOpenMax {
			return 0, ErrTooManyTrials
		}
		m.trials++
	}
	return m.gen, nil
}

func (m *refModel) done(gen int, r Result, now int64) {
	if gen != m.gen || r == ResultCanceled && m.state == StateClosed {
		return
	}
	width := int64(m.o.Window) / int64(m.o.Buckets)
	switch m.state {
	case StateClosed:
		m.results = append(m.results, refResult{now, r != ResultSuccess})
		if r == ResultSuccess {
			return
		}
		var total, failures int64
		for _, res := range m.results {
			if res.at/width > now/width-int64(m.o.Buckets) {
				total++
				if res.failure {
					failures++
				}
			}
		}
		if total >= int64(m.o.VolumeThreshold) && failures*100 >= int64(m.o.ErrorThreshold)*total {
			m.set(StateOpen, now)
		}
	case StateHalfOpen:
		switch r {
		case ResultSuccess:
			m.successes++
			if m.successes >= m.o.HalfOpenMax {
				m.set(StateClosed, now)
			}
		case ResultCanceled:
			m.trials--
		default:
			m.set(StateOpen, now)
		}
	}
}

// FuzzAgainstModel replays a byte string as calls, results and clock moves on
// a Breaker and on refModel and requires the same answers.
func FuzzAgainstModel(f *testing.F) {
	f.Add([]byte{1, 1, 1, 1, 0x83, 0, 0, 4, 4, 4, 6, 5})
	f.Add([]byte{0, 0, 1, 1, 0x43, 1, 1, 0xff, 0, 4, 2, 6})
	f.Add([]byte{3, 1, 1, 1, 1, 0xf3, 0xf3, 0xf3, 4, 4, 4, 4, 2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		clock := newFakeClock()
		o := Options{
			ErrorThreshold:  50,
			Window:          time.Second,
			Buckets:         4,
			VolumeThreshold: 3,
			ResetTimeout:    700 * time.Millisecond,
			HalfOpenMax:     2,
			Clock:           clock.Now,
		}
		b := New("fuzz", o)
		m := &refModel{o: o.normalized()}
		type held struct {
			done func(error)
			gen  int
		}
		var stack []held
		var now int64
		// What each call returns, and the result the specification counts.
		outcomes := []struct {
			err    error
			result Result
		}{{nil, ResultSuccess}, {errBoom, ResultFailure}, {context.Canceled, ResultCanceled}}
		for i, op := range ops {
			switch op & 7 {
			case 0, 1, 2: // a call that returns at once: success, failure, cancelled
				done, err := b.Allow()
				gen, werr := m.allow(now)
				if !sameErr(err, werr) {
					t.Fatalf("op %d: Allow() = %v, model %v", i, err, werr)
				}
				if err == nil {
					out := outcomes[op&7]
					done(out.err)
					m.done(gen, out.result, now)
				}
			case 3: // time passes: up to 31 * 40ms
				d := time.Duration(op>>3) * 40 * time.Millisecond
				clock.Advance(d)
				now += int64(d)
			case 4: // start a call and hold it
				done, err := b.Allow()
				gen, werr := m.allow(now)
				if !sameErr(err, werr) {
					t.Fatalf("op %d: Allow() = %v, model %v", i, err, werr)
				}
				if err == nil {
					stack = append(stack, held{done, gen})
				}
			case 5, 6, 7: // finish the latest held call: success, failure, cancelled
				if len(stack) == 0 {
					continue
				}
				h := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				out := outcomes[(op&7)-5]
				h.done(out.err)
				m.done(h.gen, out.result, now)
			}
			if got, want := b.State(), m.state; got != want {
				t.Fatalf("op %d (%#x): state %v, model %v", i, op, got, want)
			}
		}
	})
}

func sameErr(got, want error) bool {
	if want == nil {
		return got == nil
	}
	return errors.Is(got, want)
}
