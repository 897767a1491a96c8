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

// TestParallelOnGenerated checks that a generated estate, the shape
// ParseParallel is for, is parsed in pieces to the same tree as Parse's.
func TestParallelOnGenerated(t *testing.T) {
	m, err := gen.Generate(gen.Options{Components: 3000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	data, err := gen.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if !yamltree.CheckParallel(t, "gen 3000", data) {
		t.Error("not parsed in pieces")
	}
}
