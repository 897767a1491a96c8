// Package breaker benchmarks spof's breaker against peer circuit breakers on
// the closed-state success path, side by side in one run:
//
//	cd bench && go test -run XXX -bench . -benchmem -count 3 ./breaker
//
// Each peer is measured twice: with its defaults, and with spof's
// configuration (a 10 s rolling window in 10 buckets, open at 50 % failures
// over at least 20 calls, 30 s open, 1 trial call), which the peers' defaults
// differ from (gobreaker keeps cumulative counts and opens after more than 5
// consecutive failures; failsafe-go opens after 1 failure). failsafe-go is
// measured through its executor (failsafe.Get, what an application calls)
// and its breaker alone (TryAcquirePermit, RecordSuccess), since the
// executor costs most of the time and every allocation. TestSameConfig
// checks that the "same" configurations open alike.
package breaker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/spofhq/spof/breaker"
)

func success() (int, error) { return 1, nil }

var errDown = errors.New("down")

// spof's defaults, spelled out for the peers.
const (
	window      = 10 * time.Second
	buckets     = 10
	volume      = 20
	errorPct    = 50
	openFor     = 30 * time.Second
	halfOpenMax = 1
)

// A peer is a breaker set up one way: call runs fn through it, open says
// whether it now refuses calls.
type peer struct {
	name string
	new  func() (call func(fn func() (int, error)) (int, error), open func() bool)
}

func spofPeer(opts breaker.Options) func() (func(func() (int, error)) (int, error), func() bool) {
	return func() (func(func() (int, error)) (int, error), func() bool) {
		br := breaker.New("bench", opts)
		ctx := context.Background()
		call := func(fn func() (int, error)) (int, error) {
			return breaker.Do(ctx, br, func(context.Context) (int, error) { return fn() })
		}
		return call, func() bool { return br.State() == breaker.StateOpen }
	}
}

func gobreakerPeer(st gobreaker.Settings) func() (func(func() (int, error)) (int, error), func() bool) {
	return func() (func(func() (int, error)) (int, error), func() bool) {
		cb := gobreaker.NewCircuitBreaker[int](st)
		return cb.Execute, func() bool { return cb.State() == gobreaker.StateOpen }
	}
}

func failsafeExecutor(b circuitbreaker.Builder[int]) func() (func(func() (int, error)) (int, error), func() bool) {
	return func() (func(func() (int, error)) (int, error), func() bool) {
		cb := b.Build()
		ex := failsafe.With[int](cb)
		return func(fn func() (int, error)) (int, error) { return ex.Get(fn) }, cb.IsOpen
	}
}

// failsafeBreaker drives failsafe-go's breaker without its executor, the
// way breaker.Allow is used: ask for a permit, call, record the result.
func failsafeBreaker(b circuitbreaker.Builder[int]) func() (func(func() (int, error)) (int, error), func() bool) {
	return func() (func(func() (int, error)) (int, error), func() bool) {
		cb := b.Build()
		call := func(fn func() (int, error)) (int, error) {
			if !cb.TryAcquirePermit() {
				return 0, circuitbreaker.ErrOpen
			}
			v, err := fn()
			if err != nil {
				cb.RecordFailure()
			} else {
				cb.RecordSuccess()
			}
			return v, err
		}
		return call, cb.IsOpen
	}
}

// sameGobreaker is spof's configuration in gobreaker's terms.
var sameGobreaker = gobreaker.Settings{
	Name: "bench", Interval: window, BucketPeriod: window / buckets, Timeout: openFor, MaxRequests: halfOpenMax,
	ReadyToTrip: func(c gobreaker.Counts) bool {
		return c.Requests >= volume && uint64(c.TotalFailures)*100 >= errorPct*uint64(c.Requests)
	},
}

// sameFailsafe is spof's configuration in failsafe-go's terms.
func sameFailsafe() circuitbreaker.Builder[int] {
	return circuitbreaker.NewBuilder[int]().
		WithFailureRateThreshold(errorPct/100.0, volume, window).
		WithDelay(openFor).
		WithSuccessThreshold(halfOpenMax)
}

func peers() []peer {
	return []peer{
		{"defaults/spof", spofPeer(breaker.Options{})},
		{"defaults/gobreaker", gobreakerPeer(gobreaker.Settings{Name: "bench"})},
		{"defaults/failsafe-go-executor", failsafeExecutor(circuitbreaker.NewBuilder[int]())},
		{"defaults/failsafe-go-breaker", failsafeBreaker(circuitbreaker.NewBuilder[int]())},
		{"same/spof", spofPeer(breaker.Options{Window: window, Buckets: buckets, VolumeThreshold: volume, ErrorThreshold: errorPct, ResetTimeout: openFor, HalfOpenMax: halfOpenMax})},
		{"same/gobreaker", gobreakerPeer(sameGobreaker)},
		{"same/failsafe-go-executor", failsafeExecutor(sameFailsafe())},
		{"same/failsafe-go-breaker", failsafeBreaker(sameFailsafe())},
	}
}

func BenchmarkClosedSuccess(b *testing.B) {
	for _, p := range peers() {
		b.Run(p.name, func(b *testing.B) {
			call, _ := p.new()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := call(success); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(p.name+"/parallel", func(b *testing.B) {
			call, _ := p.new()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := call(success); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// TestSameConfig: with the "same" configuration every breaker stays
// closed at 50 % failures over 19 calls (under the volume threshold) and
// opens at the 20th call; with their defaults they do not agree.
func TestSameConfig(t *testing.T) {
	for _, p := range peers() {
		t.Run(p.name, func(t *testing.T) {
			call, open := p.new()
			fail := func() (int, error) { return 0, errDown }
			var openedAt int
			for i := 1; i <= 20 && openedAt == 0; i++ {
				fn := success
				if i%2 == 0 {
					fn = fail
				}
				call(fn)
				if open() {
					openedAt = i
				}
			}
			want := map[string]int{
				"defaults/spof": 20, "same/spof": 20, "same/gobreaker": 20, "same/failsafe-go-executor": 20, "same/failsafe-go-breaker": 20,
				"defaults/gobreaker":            0, // 6 consecutive failures: never, alternating
				"defaults/failsafe-go-executor": 2, // the first failure
				"defaults/failsafe-go-breaker":  2,
			}[p.name]
			if openedAt != want {
				t.Errorf("opened at call %d, want %d (0: never)", openedAt, want)
			}
		})
	}
}
