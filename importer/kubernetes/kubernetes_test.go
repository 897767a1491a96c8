package kubernetes

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// importDir imports paths into a fresh builder and finishes it.
func importPaths(t *testing.T, paths ...string) *importer.Result {
	t.Helper()
	b := importer.NewBuilder("test")
	if err := Import(b, paths, Options{}); err != nil {
		t.Fatalf("Import(%v): %v", paths, err)
	}
	return b.Finish(importer.Options{})
}

func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got):\n%s", file, d)
	}
}

// TestGolden imports each directory of testdata (but bad/) and compares
// importer.Summary with its golden file.
func TestGolden(t *testing.T) {
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "bad" {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			res := importPaths(t, filepath.Join("testdata", d.Name()))
			golden(t, filepath.Join("testdata", d.Name()+".golden"), importer.Summary(res))
		})
	}
}

// TestBad imports each file of testdata/bad alone: each must fail with
// positioned errors, the same as in bad.golden, and add nothing.
func TestBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, f := range files {
		b := importer.NewBuilder("test")
		err := Import(b, []string{f}, Options{})
		var list model.ErrorList
		if !errors.As(err, &list) {
			t.Errorf("%s: got %v, want a model.ErrorList", f, err)
			continue
		}
		for _, e := range list {
			if e.Pos.File != f || e.Pos.Line == 0 {
				t.Errorf("%s: error without a position: %v", f, e)
			}
		}
		if n := len(b.Components()); n != 0 {
			t.Errorf("%s: %d components added despite the error", f, n)
		}
		out.WriteString("== " + f + "\n" + err.Error() + "\n")
	}
	golden(t, "testdata/bad.golden", out.String())
}

// findings runs the analysis on an imported model: event → its flows.
func findings(t *testing.T, res *importer.Result) map[string]analysis.Finding {
	t.Helper()
	r, err := analysis.Check(res.Model, analysis.Options{})
	if err != nil {
		t.Fatalf("analysis.Check: %v", err)
	}
	out := map[string]analysis.Finding{}
	for _, f := range r.Findings {
		out[f.Event] = f
	}
	return out
}

// TestBoutiqueJudgement checks what the analysis concludes from Online
// Boutique's manifests alone: redis-cart (one pod, emptyDir) stops the
// flows through the cart; every single-replica service on the path is a
// SPOF; the load generator is no flow.
func TestBoutiqueJudgement(t *testing.T) {
	res := importPaths(t, "testdata/boutique")
	var flows []string
	for _, f := range res.Model.Flows {
		flows = append(flows, f.Name+" "+f.Criticality.String())
	}
	if d := cmp.Diff([]string{"frontend critical"}, flows); d != "" {
		t.Errorf("flows (-want +got):\n%s", d)
	}
	got := findings(t, res)
	for _, c := range []string{"redis-cart", "cartservice", "frontend", "checkoutservice", "productcatalogservice",
		"currencyservice", "paymentservice", "shippingservice", "emailservice", "recommendationservice", "adservice"} {
		f, ok := got["component:"+c]
		if !ok || f.Category != analysis.CategorySPOF || !slices.Contains(f.Flows, "frontend") {
			t.Errorf("component:%s: %+v, want a SPOF of flow frontend", c, f)
		}
	}
	if f, ok := got["component:loadgenerator"]; ok {
		t.Errorf("the load generator is a finding: %+v", f)
	}
	if f := got["component:redis-cart"]; f.Location.File != "testdata/boutique/kubernetes-manifests.yaml" || f.Location.Line == 0 {
		t.Errorf("redis-cart's finding is at %v, want its Deployment's line", f.Location)
	}
	assertNote(t, res, importer.NoteDataLoss, "redis-cart", "emptyDir volume redis-data")
	assertNote(t, res, importer.NoteDangling, "frontend", "shoppingassistantservice")
}

func assertNote(t *testing.T, res *importer.Result, kind importer.NoteKind, subject, text string) {
	t.Helper()
	for _, n := range res.Notes {
		if n.Kind == kind && n.Subject == subject && strings.Contains(n.Msg, text) {
			return
		}
	}
	t.Errorf("no %s note on %s saying %q", kind, subject, text)
}
