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
	m, err := gen.Generate(gen.Options{Components: 500, Flows: 20, Zones: 6, Regions: 2, Seed: 3})
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
