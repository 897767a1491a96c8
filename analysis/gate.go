package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spofhq/spof/model"
)

// Gate is the CI gate of spof check: which findings fail the check. The exit
// code and every report ask it, through Verdict, so that they cannot
// disagree.
type Gate struct {
	// FailOn is the lowest severity that fails the check (--fail-on).
	// CriticalityNone, the zero value, fails nothing.
	FailOn model.Criticality
	// Baseline holds the findings accepted for now (--baseline), or nil.
	Baseline *Baseline
}

// Verdict is what the gate decides about one finding.
type Verdict uint8

// Verdicts.
const (
	// Fails: the finding fails the check.
	Fails Verdict = iota
	// Accepted: the finding would fail the check, but the baseline
	// accepts it.
	Accepted
	// Passes: the finding never fails the check: it is a degradation, or
	// below FailOn.
	Passes
)

func (v Verdict) String() string {
	switch v {
	case Fails:
		return "fail"
	case Accepted:
		return "accepted"
	case Passes:
		return "pass"
	}
	return fmt.Sprintf("verdict(%d)", v)
}

// MarshalText encodes the verdict as "fail", "accepted" or "pass".
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// CanFail reports whether findings of category c can fail the check at all:
// every category but degradation.
func (c Category) CanFail() bool { return c != CategoryDegradation }

// Verdict decides one finding: a degradation or a finding below FailOn
// passes; one the baseline holds is accepted; any other fails.
func (g Gate) Verdict(f Finding) Verdict {
	if !f.Category.CanFail() || g.FailOn == model.CriticalityNone || f.Severity < g.FailOn {
		return Passes
	}
	if g.Baseline.Has(f.ID) {
		return Accepted
	}
	return Fails
}

// Reason says why a finding got its verdict, for reports: "at or above
// critical", "accepted by the baseline", "below --fail-on critical",
// "degradations never fail the check".
func (g Gate) Reason(f Finding) string {
	switch g.Verdict(f) {
	case Fails:
		if g.Baseline != nil {
			return "at or above " + g.FailOn.String() + " and not in the baseline"
		}
		return "at or above " + g.FailOn.String()
	case Accepted:
		return "accepted by the baseline"
	}
	switch {
	case !f.Category.CanFail():
		return "degradations never fail the check"
	case g.FailOn == model.CriticalityNone:
		return "--fail-on none: nothing fails the check"
	}
	return "below --fail-on " + g.FailOn.String()
}

// Failing returns the findings that fail the check, in their order.
func (g Gate) Failing(findings []Finding) []Finding {
	var out []Finding
	for _, f := range findings {
		if g.Verdict(f) == Fails {
			out = append(out, f)
		}
	}
	return out
}

// BaselineState compares a finding with the baseline: BaselineNew or
// BaselineUnchanged, or "" when there is no baseline.
func (g Gate) BaselineState(f Finding) BaselineState {
	switch {
	case g.Baseline == nil:
		return ""
	case g.Baseline.Has(f.ID):
		return BaselineUnchanged
	}
	return BaselineNew
}

// Fixed returns the baseline's findings that no longer occur among
// findings, in the baseline's order; nil without a baseline.
func (g Gate) Fixed(findings []Finding) []BaselineFinding {
	if g.Baseline == nil {
		return nil
	}
	now := make(map[string]bool, len(findings))
	for _, f := range findings {
		now[f.ID] = true
	}
	var out []BaselineFinding
	for _, b := range g.Baseline.Findings {
		if !now[b.ID] {
			out = append(out, b)
		}
	}
	return out
}

// GateSummary counts what the gate decided about a set of findings.
type GateSummary struct {
	Findings int // all of them
	Failing  int // Verdict Fails
	Accepted int // Verdict Accepted
	// With a baseline: findings it holds, findings it does not, and
	// baseline entries that no longer occur.
	Unchanged, New, Fixed int
}

// Summarize counts the verdicts and baseline states of findings.
func (g Gate) Summarize(findings []Finding) GateSummary {
	s := GateSummary{Findings: len(findings), Fixed: len(g.Fixed(findings))}
	for _, f := range findings {
		switch g.Verdict(f) {
		case Fails:
			s.Failing++
		case Accepted:
			s.Accepted++
		}
		switch g.BaselineState(f) {
		case BaselineNew:
			s.New++
		case BaselineUnchanged:
			s.Unchanged++
		}
	}
	return s
}

// BaselineState says whether a finding was already in the baseline. The
// names are SARIF's result.baselineState.
type BaselineState string

// Baseline states.
const (
	BaselineNew       BaselineState = "new"       // not in the baseline
	BaselineUnchanged BaselineState = "unchanged" // in the baseline
	BaselineAbsent    BaselineState = "absent"    // in the baseline, no longer found: fixed
)

// Baseline is the file spof baseline writes: the findings accepted for now.
// Its JSON form is read back by ParseBaseline.
type Baseline struct {
	Version  int               `json:"version"`
	System   string            `json:"system"`
	Findings []BaselineFinding `json:"findings"`
	ids      map[string]bool
}

// BaselineFinding is one accepted finding. Only the ID is compared; the
// rest says what it was, for people reading the file and for the list of
// fixed findings.
type BaselineFinding struct {
	ID       string            `json:"id"`
	Event    string            `json:"event"`
	Category Category          `json:"category"`
	Severity model.Criticality `json:"severity"`
	Flows    []string          `json:"flows"`
}

// baselineVersion is the version of the baseline format.
const baselineVersion = 1

// ErrNotBaseline is wrapped by ParseBaseline's errors.
var ErrNotBaseline = errors.New("not a spof baseline")

// NewBaseline records r's findings, sorted by event.
func NewBaseline(r *Result) *Baseline {
	b := &Baseline{Version: baselineVersion, System: r.System, Findings: []BaselineFinding{}}
	for _, f := range r.Findings {
		b.Findings = append(b.Findings, BaselineFinding{ID: f.ID, Event: f.Event, Category: f.Category, Severity: f.Severity, Flows: f.Flows})
	}
	slices.SortStableFunc(b.Findings, func(x, y BaselineFinding) int { return strings.Compare(x.Event, y.Event) })
	b.index()
	return b
}

// ParseBaseline reads what a Baseline marshals to. Unknown fields, another
// version and findings without an ID are errors wrapping ErrNotBaseline.
func ParseBaseline(data []byte) (*Baseline, error) {
	var b Baseline
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotBaseline, err)
	}
	if b.Version != baselineVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrNotBaseline, b.Version, baselineVersion)
	}
	for i, f := range b.Findings {
		if f.ID == "" {
			return nil, fmt.Errorf("%w: findings[%d] has no id", ErrNotBaseline, i)
		}
	}
	b.index()
	return &b, nil
}

func (b *Baseline) index() {
	b.ids = make(map[string]bool, len(b.Findings))
	for _, f := range b.Findings {
		b.ids[f.ID] = true
	}
}

// Has reports whether the baseline holds a finding with this ID. A nil
// baseline holds nothing.
func (b *Baseline) Has(id string) bool {
	if b == nil {
		return false
	}
	if b.ids == nil { // built as a literal, not by NewBaseline or ParseBaseline
		return slices.ContainsFunc(b.Findings, func(f BaselineFinding) bool { return f.ID == id })
	}
	return b.ids[id]
}
