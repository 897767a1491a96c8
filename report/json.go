package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// JSON writes r as indented JSON with a trailing newline. Its fields are
// those of analysis.Result, each finding with what the gate g decided
// ("gate") and, with a baseline, whether it holds it ("baseline"); then the
// gate's tallies and, with a baseline, the baseline's findings that no
// longer occur ("fixed"). It is a stable public contract (docs/json.md):
// lists are always present, empty ones as [] rather than null.
func JSON(w io.Writer, r *analysis.Result, g analysis.Gate) error {
	out := jsonCheck{System: r.System, Flows: nonNil(r.Flows)}
	for i := range out.Flows {
		f := &out.Flows[i]
		f.Steps = nonNil(f.Steps)
		f.Dependencies = nonNil(f.Dependencies)
	}
	out.Findings = make([]jsonFinding, 0, len(r.Findings))
	for _, f := range normalizeFindings(r.Findings) {
		out.Findings = append(out.Findings, jsonFinding{Finding: f, Gate: g.Verdict(f), Baseline: g.BaselineState(f)})
	}
	out.Checklist = normalizeChecklist(r.Checklist)
	sum := g.Summarize(r.Findings)
	out.Gate = jsonGate{FailOn: g.FailOn, Passed: sum.Failing == 0, Failing: sum.Failing, Accepted: sum.Accepted}
	if g.Baseline != nil {
		out.Gate.Baseline = &jsonBaselineTally{New: sum.New, Unchanged: sum.Unchanged, Fixed: sum.Fixed}
		fixed := nonNil(g.Fixed(r.Findings))
		for i := range fixed {
			fixed[i].Flows = nonNil(fixed[i].Flows)
		}
		out.Fixed = &fixed
	}
	return writeJSON(w, "JSON report", out)
}

// The JSON form of a check: analysis.Result's fields first, in their order,
// then what the gate decided.
type (
	jsonCheck struct {
		System    string                      `json:"system"`
		Flows     []analysis.FlowSummary      `json:"flows"`
		Findings  []jsonFinding               `json:"findings"`
		Checklist []analysis.ChecklistItem    `json:"checklist"`
		Gate      jsonGate                    `json:"gate"`
		Fixed     *[]analysis.BaselineFinding `json:"fixed,omitempty"` // with a baseline only
	}
	jsonFinding struct {
		analysis.Finding
		Gate     analysis.Verdict       `json:"gate"`
		Baseline analysis.BaselineState `json:"baseline,omitempty"`
	}
	jsonGate struct {
		FailOn   model.Criticality  `json:"fail_on"`
		Passed   bool               `json:"passed"`
		Failing  int                `json:"failing"`
		Accepted int                `json:"accepted"`
		Baseline *jsonBaselineTally `json:"baseline,omitempty"`
	}
	jsonBaselineTally struct {
		New       int `json:"new"`
		Unchanged int `json:"unchanged"`
		Fixed     int `json:"fixed"`
	}
)

// normalizeFindings returns a copy of findings whose nil lists are empty.
func normalizeFindings(findings []analysis.Finding) []analysis.Finding {
	out := nonNil(findings)
	for i := range out {
		f := &out[i]
		f.Flows = nonNil(f.Flows)
		f.Components = nonNil(f.Components)
		f.Chain = nonNil(f.Chain)
	}
	return out
}

// normalizeChecklist returns a copy of items whose nil lists are empty.
func normalizeChecklist(items []analysis.ChecklistItem) []analysis.ChecklistItem {
	out := nonNil(items)
	for i := range out {
		out[i].Evidence = nonNil(out[i].Evidence)
	}
	return out
}

// nonNil returns a copy of s, empty rather than nil, so that JSON renders
// it as [] and the caller's slice is never modified.
func nonNil[T any](s []T) []T {
	return append(make([]T, 0, len(s)), s...)
}

// writeJSON encodes v indented by two spaces, without HTML escaping (the
// output is read by people and jq, not embedded in pages).
func writeJSON(w io.Writer, what string, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding %s: %w", what, err)
	}
	return write(w, what, b.Bytes())
}
