package chaos

import (
	"fmt"
	"testing"
	"time"

	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/internal/gen"
	"github.com/spofhq/spof/model"
)

// BenchmarkPlan plans the experiments of a generated 10,000-component
// estate with 100 components bound to the fault proxy: one prediction per
// experiment, down and latency faults. The model is compiled once per
// plan, so each prediction costs what its fault reaches.
//
//	go test ./chaos -run XXX -bench BenchmarkPlan -benchtime 3x -benchmem
func BenchmarkPlan(b *testing.B) {
	m, err := gen.Generate(gen.Options{Components: 10_000, Zones: 20, Regions: 3, Flows: 100, EdgesPerComponent: 4, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	step := len(m.Components) / 100
	for i := 0; i < 100; i++ {
		c := m.Components[i*step]
		c.Chaos = &model.ChaosBinding{Proxy: &model.ProxyBinding{Name: c.Name,
			Listen: fmt.Sprintf("127.0.0.1:%d", 20000+i), Upstream: fmt.Sprintf("127.0.0.1:%d", 30000+i)}}
	}
	for _, tc := range []struct {
		name   string
		faults []inject.Fault
	}{
		{"down", nil},
		{"latency", []inject.Fault{{Kind: inject.Latency, Latency: 3 * time.Second}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				xs, err := Plan(m, PlanOptions{Faults: tc.faults})
				if err != nil {
					b.Fatal(err)
				}
				if len(xs) != 100 {
					b.Fatalf("%d experiments, want 100", len(xs))
				}
			}
		})
	}
}
