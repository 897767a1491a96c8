// Package breaker benchmarks spof's breaker against peer circuit breakers on
// the closed-state success path, side by side in one run:
//
//	cd bench && go test -run XXX -bench . -benchmem ./breaker
package breaker

import (
	"context"
	"testing"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/spofhq/spof/breaker"
)

func success() (int, error) { return 1, nil }

func BenchmarkClosedSuccess(b *testing.B) {
	ctx := context.Background()
	spof := func() func() (int, error) {
		br := breaker.New("bench", breaker.Options{})
		fn := func(context.Context) (int, error) { return success() }
		return func() (int, error) { return breaker.Do(ctx, br, fn) }
	}
	gobreakerV2 := func() func() (int, error) {
		cb := gobreaker.NewCircuitBreaker[int](gobreaker.Settings{Name: "bench"})
		return func() (int, error) { return cb.Execute(success) }
	}
	failsafeGo := func() func() (int, error) {
		ex := failsafe.With[int](circuitbreaker.NewWithDefaults[int]())
		return func() (int, error) { return ex.Get(success) }
	}
	peers := []struct {
		name string
		new  func() func() (int, error)
	}{
		{"spof", spof},
		{"gobreaker", gobreakerV2},
		{"failsafe-go", failsafeGo},
	}
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			call := p.new()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := call(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(p.name+"/parallel", func(b *testing.B) {
			call := p.new()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
