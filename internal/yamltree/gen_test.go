package yamltree_test

import (
	"fmt"
	"testing"

	"github.com/spofhq/spof/internal/gen"
	"github.com/spofhq/spof/internal/yamltree"
)

// TestSameOnGenerated compares the trees of generated estates, which have
// every shape of the format (flow and block mappings, quoted strings,
// breakers, probes, people, hazards).
func TestSameOnGenerated(t *testing.T) {
	for _, o := range []gen.Options{
		{Components: 1000, Seed: 1},
		{Components: 3000, Zones: 6, Regions: 2, Flows: 20, EdgesPerComponent: 8, Seed: 7},
	} {
		m, err := gen.Generate(o)
		if err != nil {
			t.Fatal(err)
		}
		data, err := gen.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		yamltree.CheckSame(t, fmt.Sprintf("gen %+v", o), data)
	}
}
