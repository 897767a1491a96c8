package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spofhq/spof/analysis"
)

// JSON writes r as indented JSON with a trailing newline. Its fields are
// those of analysis.Result and are a stable public contract: lists are
// always present, empty ones as [] rather than null.
func JSON(w io.Writer, r *analysis.Result) error {
	out := *r
	out.Flows = nonNil(r.Flows)
	for i := range out.Flows {
		f := &out.Flows[i]
		f.Steps = nonNil(f.Steps)
		f.Dependencies = nonNil(f.Dependencies)
	}
	out.Findings = normalizeFindings(r.Findings)
	out.Checklist = normalizeChecklist(r.Checklist)
	return writeJSON(w, "JSON report", out)
}

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
