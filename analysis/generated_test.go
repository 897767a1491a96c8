package analysis

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/internal/gen"
)

// TestCheckMatchesBruteForceGenerated compares Check with the brute-force
// evaluator on a generated estate: far larger than the random models of
// TestCheckMatchesBruteForce, with findings whose blast radius is long
// enough for sortedNames to sort by rank.
func TestCheckMatchesBruteForceGenerated(t *testing.T) {
	o := gen.Options{Components: 1000, Flows: 30, Seed: 3}
	if raceEnabled {
		// The brute force is slow under the race detector: a smaller
		// estate, in one region so that region:r still takes down more
		// than 256 components.
		o = gen.Options{Components: 300, Flows: 10, Zones: 4, Regions: 1, Seed: 3}
	}
	m, err := gen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	want := refAnalyse(m)
	res := mustCheck(t, m, Options{})
	got := map[string]refOutcome{}
	long := 0
	for _, f := range res.Findings {
		if f.Category == CategoryOperational {
			continue
		}
		got[f.Event] = refOutcome{Category: f.Category, Severity: f.Severity, Flows: f.Flows, Components: f.Components, BlastRadius: f.BlastRadius}
		if f.BlastRadius >= 256 {
			long++
		}
		if !slices.IsSorted(f.Components) {
			t.Errorf("%s: components not sorted", f.Event)
		}
	}
	if long == 0 {
		t.Error("no finding with 256 components or more: sortedNames' rank path is not exercised")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("fast analysis differs from brute force (-want +got):\n%s", diff)
	}
}
