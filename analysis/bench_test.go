package analysis_test

import (
	"fmt"
	"testing"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/internal/gen"
	"github.com/spofhq/spof/model"
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

// chainModel is a linear dependency chain: c0 needs c1, which needs c2, …
// up to c(n-1); one flow passes through c0. Every component is a SPOF of
// the flow, with a blast radius of everything above it.
func chainModel(n int) *model.Model {
	m := &model.Model{Version: 1, System: "chain"}
	for i := 0; i < n; i++ {
		c := &model.Component{Name: fmt.Sprintf("c%d", i), Kind: model.KindService, Replicas: 1, MinHealthy: 1}
		if i+1 < n {
			c.DependsOn = []*model.Edge{{From: c.Name, To: fmt.Sprintf("c%d", i+1)}}
		}
		m.Components = append(m.Components, c)
	}
	m.Flows = []*model.Flow{{Name: "f", Criticality: model.Critical, Steps: []string{"c0"}}}
	return m
}

// BenchmarkCheckChain runs Check on a linear chain: the blast radii sum to
// n²/2, so this shows whether the analysis shares the work between events
// (it must grow about linearly).
//
//	go test ./analysis -run XXX -bench BenchmarkCheckChain -benchtime 1x -benchmem
func BenchmarkCheckChain(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			m := chainModel(n)
			b.ReportAllocs()
			for b.Loop() {
				res, err := analysis.Check(m, analysis.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Findings) != n {
					b.Fatalf("%d findings, want %d", len(res.Findings), n)
				}
			}
		})
	}
}
