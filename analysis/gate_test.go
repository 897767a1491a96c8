package analysis

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/spofhq/spof/model"
)

func TestGateVerdict(t *testing.T) {
	spof := Finding{ID: "a", Event: "component:db", Category: CategorySPOF, Severity: model.Critical}
	high := Finding{ID: "b", Event: "component:cdn", Category: CategorySPOF, Severity: model.High}
	degr := Finding{ID: "c", Event: "component:search", Category: CategoryDegradation, Severity: model.Critical}
	base := NewBaseline(&Result{Findings: []Finding{spof, degr}})
	for _, c := range []struct {
		name string
		gate Gate
		f    Finding
		want Verdict
		why  string
	}{
		{"critical fails", Gate{FailOn: model.Critical}, spof, Fails, "at or above critical"},
		{"high below critical", Gate{FailOn: model.Critical}, high, Passes, "below --fail-on critical"},
		{"high at high", Gate{FailOn: model.High}, high, Fails, "at or above high"},
		{"degradation never", Gate{FailOn: model.Low}, degr, Passes, "degradations never fail the check"},
		{"none", Gate{}, spof, Passes, "--fail-on none: nothing fails the check"},
		{"accepted", Gate{FailOn: model.Critical, Baseline: base}, spof, Accepted, "accepted by the baseline"},
		{"new", Gate{FailOn: model.High, Baseline: base}, high, Fails, "at or above high and not in the baseline"},
		{"degradation in baseline", Gate{FailOn: model.Critical, Baseline: base}, degr, Passes, "degradations never fail the check"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.gate.Verdict(c.f); got != c.want {
				t.Errorf("Verdict = %v, want %v", got, c.want)
			}
			if got := c.gate.Reason(c.f); got != c.why {
				t.Errorf("Reason = %q, want %q", got, c.why)
			}
		})
	}
}

func TestGateBaseline(t *testing.T) {
	a := Finding{ID: "a", Event: "component:a", Category: CategorySPOF, Severity: model.Critical, Flows: []string{"f"}}
	b := Finding{ID: "b", Event: "component:b", Category: CategorySPOF, Severity: model.Critical}
	gone := Finding{ID: "z", Event: "component:z", Category: CategoryRecovery, Severity: model.High}
	base := NewBaseline(&Result{System: "s", Findings: []Finding{gone, a}})
	g := Gate{FailOn: model.Critical, Baseline: base}
	now := []Finding{a, b}

	if got := g.BaselineState(a); got != BaselineUnchanged {
		t.Errorf("a: %q, want unchanged", got)
	}
	if got := g.BaselineState(b); got != BaselineNew {
		t.Errorf("b: %q, want new", got)
	}
	if got := (Gate{}).BaselineState(a); got != "" {
		t.Errorf("without a baseline: %q, want none", got)
	}
	fixed := g.Fixed(now)
	if len(fixed) != 1 || fixed[0].ID != "z" {
		t.Errorf("Fixed = %+v, want z", fixed)
	}
	failing := g.Failing(now)
	if len(failing) != 1 || failing[0].ID != "b" {
		t.Errorf("Failing = %+v, want b", failing)
	}
	want := GateSummary{Findings: 2, Failing: 1, Accepted: 1, Unchanged: 1, New: 1, Fixed: 1}
	if got := g.Summarize(now); got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}

	// What NewBaseline writes, ParseBaseline reads, sorted by event.
	data, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseBaseline(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.System != "s" || len(back.Findings) != 2 || back.Findings[0].Event != "component:a" || !back.Has("z") || back.Has("b") {
		t.Errorf("round trip: %+v", back)
	}
	// A literal baseline works too; a nil one holds nothing.
	lit := &Baseline{Findings: []BaselineFinding{{ID: "a"}}}
	if !lit.Has("a") || lit.Has("b") || (*Baseline)(nil).Has("a") {
		t.Error("Has on a literal or nil baseline")
	}
}

func TestParseBaselineErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not json":      "hello",
		"unknown field": `{"hello": "world"}`,
		"version":       `{"version": 2, "findings": []}`,
		"no id":         `{"version": 1, "findings": [{"event": "component:a"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseBaseline([]byte(in)); !errors.Is(err, ErrNotBaseline) {
				t.Errorf("err = %v, want ErrNotBaseline", err)
			}
		})
	}
}
