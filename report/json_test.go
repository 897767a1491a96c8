package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

func renderJSON(t *testing.T, r *analysis.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := JSON(&b, r, critGate); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestJSONContract pins the keys of the public JSON form (docs/json.md).
func TestJSONContract(t *testing.T) {
	out := renderJSON(t, shopResult())
	if !bytes.HasSuffix(out, []byte("}\n")) {
		t.Errorf("JSON does not end with a newline")
	}
	if !bytes.HasPrefix(out, []byte("{\n  \"system\": \"shop\",\n")) {
		t.Errorf("JSON is not indented by two spaces:\n%.80s", out)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "result", doc, "system", "flows", "findings", "checklist", "gate")
	wantKeys(t, "gate", doc["gate"].(map[string]any), "fail_on", "passed", "failing", "accepted")
	for _, f := range doc["flows"].([]any) {
		wantKeys(t, "flow", f.(map[string]any), "name", "criticality", "steps", "dependencies", "spofs")
	}
	findings := doc["findings"].([]any)
	if len(findings) != 12 {
		t.Fatalf("got %d findings, want 12", len(findings))
	}
	for _, f := range findings {
		wantKeys(t, "finding", f.(map[string]any),
			"id", "event", "category", "severity", "flows", "components", "blast_radius", "chain", "fix", "location", "gate")
	}
	first := findings[0].(map[string]any)
	if first["severity"] != "critical" || first["category"] != "spof" {
		t.Errorf("first finding: severity %v, category %v; want critical spof", first["severity"], first["category"])
	}
	loc := first["location"].(map[string]any)
	if loc["file"] != shopFile || loc["line"] != 4.0 || loc["col"] != 3.0 {
		t.Errorf("first finding location = %v", loc)
	}
	// The cdn finding has no position: its location is an empty object.
	if loc := findings[10].(map[string]any)["location"]; !cmp.Equal(loc, map[string]any{}) {
		t.Errorf("finding without a position: location = %v, want {}", loc)
	}
	for _, it := range doc["checklist"].([]any) {
		wantKeys(t, "checklist item", it.(map[string]any), "item", "title", "status", "evidence")
	}
}

// TestJSONBaseline checks what a baseline adds: each finding's baseline
// state, the gate's tallies and the baseline's findings that are fixed.
func TestJSONBaseline(t *testing.T) {
	r := shopResult()
	// The baseline holds the first 10 findings and one that is gone.
	old := &analysis.Result{System: "shop", Findings: append(slices.Clone(r.Findings[:10]),
		analysis.Finding{ID: "gone", Event: "component:legacy", Category: analysis.CategorySPOF, Severity: model.High})}
	var b bytes.Buffer
	if err := JSON(&b, r, analysis.Gate{FailOn: model.Critical, Baseline: analysis.NewBaseline(old)}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []struct {
			Event    string `json:"event"`
			Gate     string `json:"gate"`
			Baseline string `json:"baseline"`
		} `json:"findings"`
		Gate struct {
			Passed   bool `json:"passed"`
			Failing  int  `json:"failing"`
			Accepted int  `json:"accepted"`
			Baseline struct {
				New, Unchanged, Fixed int
			} `json:"baseline"`
		} `json:"gate"`
		Fixed []analysis.BaselineFinding `json:"fixed"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for i, f := range doc.Findings {
		want := "unchanged"
		if i >= 10 {
			want = "new"
		}
		if f.Baseline != want {
			t.Errorf("%s: baseline %q, want %q", f.Event, f.Baseline, want)
		}
	}
	if doc.Findings[0].Gate != "accepted" || doc.Findings[8].Gate != "pass" {
		t.Errorf("gate of findings 1 and 9: %q, %q; want accepted, pass", doc.Findings[0].Gate, doc.Findings[8].Gate)
	}
	if !doc.Gate.Passed || doc.Gate.Failing != 0 || doc.Gate.Accepted != 8 ||
		doc.Gate.Baseline.New != 2 || doc.Gate.Baseline.Unchanged != 10 || doc.Gate.Baseline.Fixed != 1 {
		t.Errorf("gate = %+v", doc.Gate)
	}
	if len(doc.Fixed) != 1 || doc.Fixed[0].Event != "component:legacy" || doc.Fixed[0].ID != "gone" {
		t.Errorf("fixed = %+v, want component:legacy", doc.Fixed)
	}

	// Without a baseline there is no baseline state and no fixed list.
	out := renderJSON(t, r)
	for _, k := range []string{`"baseline"`, `"fixed"`} {
		if bytes.Contains(out, []byte(k)) {
			t.Errorf("JSON without a baseline has %s", k)
		}
	}
}

func wantKeys(t *testing.T, what string, obj map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s: key %q missing in %v", what, k, obj)
		}
	}
	if len(obj) != len(keys) {
		t.Errorf("%s: %d keys, want exactly %v; got %v", what, len(obj), keys, obj)
	}
}

// TestJSONRoundTrip decodes the JSON back into a Result: nothing is lost.
func TestJSONRoundTrip(t *testing.T) {
	want := shopResult()
	var got analysis.Result
	if err := json.Unmarshal(renderJSON(t, want), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, &got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

// TestJSONEmptyLists checks that nil lists render as [] and never null.
func TestJSONEmptyLists(t *testing.T) {
	for name, r := range map[string]*analysis.Result{
		"empty result": {System: "tiny"},
		"nil lists inside": {
			System:    "tiny",
			Flows:     []analysis.FlowSummary{{Name: "f", Criticality: model.Low}},
			Findings:  []analysis.Finding{{ID: "1", Event: "component:x", Category: analysis.CategorySPOF, Severity: model.Low}},
			Checklist: []analysis.ChecklistItem{{Item: 1, Title: "t", Status: analysis.Unknown}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			out := renderJSON(t, r)
			if bytes.Contains(out, []byte("null")) {
				t.Errorf("JSON contains null:\n%s", out)
			}
			var doc map[string]any
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"flows", "findings", "checklist"} {
				if _, ok := doc[k].([]any); !ok {
					t.Errorf("%s = %#v, want a list", k, doc[k])
				}
			}
			for _, f := range doc["findings"].([]any) {
				for _, k := range []string{"flows", "components", "chain"} {
					if l, ok := f.(map[string]any)[k].([]any); !ok || len(l) != 0 {
						t.Errorf("finding %s = %#v, want []", k, f.(map[string]any)[k])
					}
				}
			}
			for _, it := range doc["checklist"].([]any) {
				if l, ok := it.(map[string]any)["evidence"].([]any); !ok || len(l) != 0 {
					t.Errorf("evidence = %#v, want []", it.(map[string]any)["evidence"])
				}
			}
		})
	}
	// The caller's result is not modified.
	r := &analysis.Result{Findings: []analysis.Finding{{Event: "component:x"}}}
	renderJSON(t, r)
	if r.Findings[0].Chain != nil || r.Flows != nil {
		t.Errorf("JSON modified its input: %+v", r)
	}
}

func TestCommandJSON(t *testing.T) {
	outcomes, failed := shopWhatIf()
	cases := []struct {
		name   string
		render func(w *bytes.Buffer) error
		keys   []string
	}{
		{"checklist", func(w *bytes.Buffer) error { return Checklist(w, nil, FormatJSON, false) }, []string{"checklist"}},
		{"whatif", func(w *bytes.Buffer) error { return WhatIf(w, outcomes, failed, FormatJSON, false) }, []string{"failed", "flows"}},
		{"whatif nothing", func(w *bytes.Buffer) error { return WhatIf(w, nil, nil, FormatJSON, false) }, []string{"failed", "flows"}},
		{"explain", func(w *bytes.Buffer) error { return Explain(w, shopImpact(), FormatJSON, false) },
			[]string{"component", "dependents", "flows", "needed_for"}},
		{"explain nothing", func(w *bytes.Buffer) error {
			return Explain(w, &analysis.Impact{Component: "x"}, FormatJSON, false)
		}, []string{"component", "dependents", "flows"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.render(&b); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(b.String(), "null") {
				t.Errorf("JSON contains null:\n%s", b.String())
			}
			var doc map[string]any
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			wantKeys(t, c.name, doc, c.keys...)
		})
	}
}
