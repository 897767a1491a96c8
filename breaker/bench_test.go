package breaker

import (
	"context"
	"testing"
)

func BenchmarkClosedSuccess(b *testing.B) {
	fn := func(context.Context) (int, error) { return 1, nil }
	ctx := context.Background()
	b.Run("Do", func(b *testing.B) {
		br := New("bench", Options{})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Do(ctx, br, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Allow", func(b *testing.B) {
		br := New("bench", Options{})
		b.ReportAllocs()
		for b.Loop() {
			done, err := br.Allow()
			if err != nil {
				b.Fatal(err)
			}
			done(nil)
		}
	})
	b.Run("DoParallel", func(b *testing.B) {
		br := New("bench", Options{})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := Do(ctx, br, fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
