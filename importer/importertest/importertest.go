// Package importertest holds what the importers' tests share: golden
// files of importer.Summary, and the findings of an imported model.
package importertest

import (
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/importer"
)

// Update is the -update flag of every importer's tests: rewrite the
// golden files instead of comparing with them.
var Update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Golden compares got with the golden file (go test -update rewrites it).
func Golden(t testing.TB, file, got string) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got; go test -update rewrites it):\n%s", file, d)
	}
}

// Findings analyses an imported model (as spof check would) and returns
// its findings by event.
func Findings(t testing.TB, res *importer.Result) map[string]analysis.Finding {
	t.Helper()
	out, err := analysis.Check(res.Model, analysis.Options{})
	if err != nil {
		t.Fatalf("analysis of the imported model: %v\n%s", err, importer.Summary(res))
	}
	m := map[string]analysis.Finding{}
	for _, f := range out.Findings {
		m[f.Event] = f
	}
	return m
}

// SPOFs returns, sorted, the events the analysis finds to stop a flow on
// their own.
func SPOFs(t testing.TB, res *importer.Result) []string {
	t.Helper()
	var events []string
	for ev, f := range Findings(t, res) {
		if f.Category == analysis.CategorySPOF {
			events = append(events, ev)
		}
	}
	slices.Sort(events)
	return events
}
