package report

import (
	"slices"
	"strconv"
	"strings"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// summaryFindings is how many findings the summary of a check report lists
// before it says "… and N more": enough for the usual estate, few enough
// that the summary fits one screen whatever the model.
const summaryFindings = 20

// gateText says what the gate decided, e.g. "gate: fails (exit 1): 2
// findings at or above critical not in the baseline".
func gateText(g analysis.Gate, s analysis.GateSummary) string {
	if g.FailOn == model.CriticalityNone {
		return "gate: passes: --fail-on none fails nothing"
	}
	what := "at or above " + g.FailOn.String()
	if g.Baseline != nil {
		what += " not in the baseline"
	}
	var out string
	if s.Failing > 0 {
		out = "gate: fails (exit 1): " + plural(s.Failing, "finding", "findings") + " " + what
	} else {
		out = "gate: passes: no finding " + what
	}
	return out
}

// verdictText is the gate's decision on one finding, with the reason:
// "fails: at or above critical", "accepted by the baseline", "passes:
// below --fail-on critical".
func verdictText(g analysis.Gate, f analysis.Finding) string {
	switch g.Verdict(f) {
	case analysis.Fails:
		return "fails: " + g.Reason(f)
	case analysis.Accepted:
		return g.Reason(f)
	}
	return "passes: " + g.Reason(f)
}

// baselineText is the baseline's tally: "24 findings, 23 accepted by the
// baseline, 1 new, 2 fixed since the baseline", or "" without a baseline.
func baselineText(g analysis.Gate, s analysis.GateSummary) string {
	if g.Baseline == nil {
		return ""
	}
	return plural(s.Findings, "finding", "findings") + ", " +
		strconv.Itoa(s.Unchanged) + " accepted by the baseline, " +
		strconv.Itoa(s.New) + " new, " +
		strconv.Itoa(s.Fixed) + " fixed since the baseline"
}

// severityLabel is the severity a report prints in capitals in front of a
// finding: its severity for the categories that can fail the check, and
// nothing for a degradation, which never does (its flows' criticality is
// printed with them instead: "degrades checkout (critical)").
func severityLabel(f analysis.Finding) string {
	if !f.Category.CanFail() {
		return ""
	}
	return strings.ToUpper(f.Severity.String())
}

// flowsText names the flows a finding hits. A degradation says so and
// gives the flows' criticality, "degrades checkout, login (critical),
// browse (high)"; the others list the names, their severity being the
// label.
func flowsText(f analysis.Finding, criticality map[string]model.Criticality) string {
	if f.Category.CanFail() {
		return strings.Join(f.Flows, ", ")
	}
	// Consecutive flows of the same criticality share it.
	var parts []string
	for i, fl := range f.Flows {
		c, ok := criticality[fl]
		next, nextOK := model.CriticalityNone, false
		if i+1 < len(f.Flows) {
			next, nextOK = criticality[f.Flows[i+1]]
		}
		if ok && !(nextOK && next == c) {
			fl += " (" + c.String() + ")"
		}
		parts = append(parts, fl)
	}
	return "degrades " + strings.Join(parts, ", ")
}

// summaryFlowNames is how many flows a summary line names before it says
// how many more there are, so that the reason still fits.
const summaryFlowNames = 3

// summaryFlowsText is flowsText for a summary line: at most
// summaryFlowNames flows, then "and 12 more flows".
func summaryFlowsText(f analysis.Finding, criticality map[string]model.Criticality) string {
	if len(f.Flows) <= summaryFlowNames {
		return flowsText(f, criticality)
	}
	short := f
	short.Flows = f.Flows[:summaryFlowNames]
	return flowsText(short, criticality) + " and " + plural(len(f.Flows)-summaryFlowNames, "more flow", "more flows")
}

// flowCriticality maps each flow of r to its criticality.
func flowCriticality(r *analysis.Result) map[string]model.Criticality {
	m := make(map[string]model.Criticality, len(r.Flows))
	for _, f := range r.Flows {
		m[f.Name] = f.Criticality
	}
	return m
}

// reason is the one-line reason of a finding: the step of its chain right
// after the failure ("session-redis has its only replica in us-east-1a").
func reason(f analysis.Finding) string {
	switch len(f.Chain) {
	case 0:
		return ""
	case 1:
		return f.Chain[0]
	}
	return f.Chain[1]
}

// summaryPicks returns the indexes of the findings the summary lists, in
// order: the first summaryFindings, those that fail the gate first so that
// no failing finding is hidden behind the cap by findings ranked above it.
func summaryPicks(findings []analysis.Finding, g analysis.Gate) []int {
	if len(findings) <= summaryFindings {
		picks := make([]int, len(findings))
		for i := range picks {
			picks[i] = i
		}
		return picks
	}
	var picks []int
	for _, pass := range []bool{true, false} {
		for i, f := range findings {
			if len(picks) == summaryFindings {
				break
			}
			if (g.Verdict(f) == analysis.Fails) == pass {
				picks = append(picks, i)
			}
		}
	}
	slices.Sort(picks)
	return picks
}

// newMark marks a finding the baseline does not hold.
func newMark(g analysis.Gate, f analysis.Finding) string {
	if g.BaselineState(f) == analysis.BaselineNew {
		return "[new]"
	}
	return ""
}

// fixedText describes a baseline finding that no longer occurs.
func fixedText(b analysis.BaselineFinding) string {
	s := b.Event + " (" + string(b.Category)
	if len(b.Flows) > 0 {
		s += ": " + strings.Join(b.Flows, ", ")
	}
	return s + ")"
}
