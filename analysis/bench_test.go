package analysis_test

import (
	"fmt"
	"testing"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/internal/gen"
)

// BenchmarkCheck runs the order-1 analysis on generated estates of growing
// size (20 zones, 3 regions, 100 flows, 4 dependencies per component on
// average), to show that Check grows about linearly with the model. The
// model is generated outside the timed loop (b.Loop times only its body).
//
//	go test ./analysis -run XXX -bench BenchmarkCheck -benchtime 3x
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			m, err := gen.Generate(gen.Options{Components: n, Zones: 20, Regions: 3, Flows: 100, EdgesPerComponent: 4, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := analysis.Check(m, analysis.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Findings) == 0 {
					b.Fatal("no findings")
				}
			}
		})
	}
}
