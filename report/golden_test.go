package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// critGate is spof check's default gate: fail on critical findings.
var critGate = analysis.Gate{FailOn: model.Critical}

// shopBaselineGate is a gate at high whose baseline holds the shop's
// findings but the session-redis SPOF and the cdn SPOF, and one finding
// fixed since: the shop's run after a change that added those two.
func shopBaselineGate(r *analysis.Result) analysis.Gate {
	var old []analysis.Finding
	for _, f := range r.Findings {
		if f.Event != "component:session-redis" && f.Event != "component:cdn" {
			old = append(old, f)
		}
	}
	old = append(old, analysis.Finding{ID: "5e1f00d2c4b3a697", Event: "component:legacy-auth",
		Category: analysis.CategorySPOF, Severity: model.Critical, Flows: []string{"login"}})
	return analysis.Gate{FailOn: model.High, Baseline: analysis.NewBaseline(&analysis.Result{System: "shop", Findings: old})}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// render runs one renderer into a buffer, failing the test on error.
type render func(w *bytes.Buffer) error

// goldenCases renders every format of every output from the shop fixture.
func goldenCases() map[string]render {
	r := shopResult()
	m := shopModel()
	outcomes, failed := shopWhatIf()
	imp := shopImpact()
	empty := &analysis.Result{System: "tiny"}
	baseGate := shopBaselineGate(r)
	cases := map[string]render{
		"check.txt":       func(w *bytes.Buffer) error { return Text(w, r, critGate, TextOptions{}) },
		"check.color.txt": func(w *bytes.Buffer) error { return Text(w, r, critGate, TextOptions{Color: true}) },
		"check.json":      func(w *bytes.Buffer) error { return JSON(w, r, critGate) },
		"check.md":        func(w *bytes.Buffer) error { return Markdown(w, r, critGate, MarkdownOptions{}) },
		"check.sarif": func(w *bytes.Buffer) error {
			return SARIF(w, r, critGate, SARIFOptions{ToolVersion: "0.1.0", BaseDir: "/src/shop", ModelFile: shopFile})
		},
		"check.junit.xml": func(w *bytes.Buffer) error { return JUnit(w, r, critGate) },

		"check.baseline.txt":       func(w *bytes.Buffer) error { return Text(w, r, baseGate, TextOptions{}) },
		"check.baseline.json":      func(w *bytes.Buffer) error { return JSON(w, r, baseGate) },
		"check.baseline.md":        func(w *bytes.Buffer) error { return Markdown(w, r, baseGate, MarkdownOptions{}) },
		"check.baseline.junit.xml": func(w *bytes.Buffer) error { return JUnit(w, r, baseGate) },
		"check.baseline.sarif": func(w *bytes.Buffer) error {
			return SARIF(w, r, baseGate, SARIFOptions{ToolVersion: "0.1.0", BaseDir: "/src/shop", ModelFile: shopFile})
		},
		"check.summary.txt": func(w *bytes.Buffer) error { return Text(w, r, critGate, TextOptions{Summary: true}) },
		"check.summary.md":  func(w *bytes.Buffer) error { return Markdown(w, r, critGate, MarkdownOptions{Summary: true}) },

		"empty.txt":       func(w *bytes.Buffer) error { return Text(w, empty, critGate, TextOptions{}) },
		"empty.json":      func(w *bytes.Buffer) error { return JSON(w, empty, critGate) },
		"empty.md":        func(w *bytes.Buffer) error { return Markdown(w, empty, critGate, MarkdownOptions{}) },
		"empty.sarif":     func(w *bytes.Buffer) error { return SARIF(w, empty, critGate, SARIFOptions{}) },
		"empty.junit.xml": func(w *bytes.Buffer) error { return JUnit(w, empty, critGate) },

		"graph.dot":     func(w *bytes.Buffer) error { return Graph(w, m, r, FormatDOT) },
		"graph.mermaid": func(w *bytes.Buffer) error { return Graph(w, m, r, FormatMermaid) },
		"graph.json":    func(w *bytes.Buffer) error { return Graph(w, m, r, FormatJSON) },
	}
	for _, format := range Formats(OutputChecklist) {
		ext := goldenExt(format)
		cases["checklist"+ext] = func(w *bytes.Buffer) error {
			return Checklist(w, r.Checklist, format, false)
		}
		cases["whatif"+ext] = func(w *bytes.Buffer) error {
			return WhatIf(w, outcomes, failed, format, false)
		}
		cases["explain"+ext] = func(w *bytes.Buffer) error {
			return Explain(w, imp, format, false)
		}
	}
	cases["whatif.color.txt"] = func(w *bytes.Buffer) error { return WhatIf(w, outcomes, failed, FormatText, true) }
	return cases
}

func goldenExt(format string) string {
	switch format {
	case FormatText:
		return ".txt"
	case FormatMarkdown:
		return ".md"
	}
	return "." + format
}

func TestGolden(t *testing.T) {
	for name, render := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render(&b); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name, b.Bytes())

			// Rendering twice gives the same bytes.
			var again bytes.Buffer
			if err := render(&again); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), again.Bytes()) {
				t.Errorf("%s: output differs between two runs", name)
			}
		})
	}
}

// TestGoldenFilesAreUsed catches golden files left behind by a renamed case.
func TestGoldenFilesAreUsed(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	cases := goldenCases()
	for _, e := range entries {
		if _, ok := cases[e.Name()]; !ok {
			t.Errorf("testdata/golden/%s: no test renders it; delete it", e.Name())
		}
	}
}

// checkGolden compares got with testdata/golden/name, or rewrites the file
// when the test runs with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (-want +got); if the change is intended, run go test ./report -update and review the diff:\n%s",
			path, cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")))
	}
}
