package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spofhq/spof/analysis"
)

// Checklist writes the SPOF elimination checklist (spof checklist) as text,
// json or markdown. Colour applies to text only.
func Checklist(w io.Writer, items []analysis.ChecklistItem, format string, color bool) error {
	if err := CheckFormat(OutputChecklist, format); err != nil {
		return err
	}
	if format == FormatJSON {
		return writeJSON(w, "checklist", struct {
			Checklist []analysis.ChecklistItem `json:"checklist"`
		}{normalizeChecklist(items)})
	}
	var b strings.Builder
	counts := checklistCounts(items)
	if format == FormatMarkdown {
		b.WriteString("## SPOF elimination checklist\n\n" + counts + "\n\n")
		writeChecklistMarkdown(&b, items)
	} else {
		st := style{color}
		b.WriteString(st.paint("SPOF elimination checklist", sgrBold) + ": " + counts + "\n")
		writeChecklistText(&b, items, st)
	}
	return write(w, "checklist", []byte(b.String()))
}

// checklistCounts formats "2 pass, 3 fail, 2 unknown".
func checklistCounts(items []analysis.ChecklistItem) string {
	var pass, fail, unknown int
	for _, it := range items {
		switch it.Status {
		case analysis.Pass:
			pass++
		case analysis.Fail:
			fail++
		default:
			unknown++
		}
	}
	return fmt.Sprintf("%d pass, %d fail, %d unknown", pass, fail, unknown)
}

// WhatIf writes the state of every flow under a set of failed events (spof
// whatif) as text, json or markdown, with the chain that explains each flow
// that is not up.
func WhatIf(w io.Writer, outcomes []analysis.FlowOutcome, failed []string, format string, color bool) error {
	if err := CheckFormat(OutputWhatIf, format); err != nil {
		return err
	}
	if format == FormatJSON {
		return writeJSON(w, "what-if report", struct {
			Failed []string               `json:"failed"`
			Flows  []analysis.FlowOutcome `json:"flows"`
		}{nonNil(failed), nonNil(outcomes)})
	}
	what := "nothing fails"
	switch len(failed) {
	case 0:
	case 1:
		what = failed[0] + " fails"
		if c, d, ok := strings.Cut(strings.TrimPrefix(failed[0], "slow:"), ":"); ok && strings.HasPrefix(failed[0], "slow:") {
			what = c + " answers " + d + " late" // spof whatif --slow
		}
	default:
		what = strings.Join(failed[:len(failed)-1], ", ") + " and " + failed[len(failed)-1] + " fail"
	}
	var b strings.Builder
	if format == FormatMarkdown {
		b.WriteString("## What if " + mdText(what) + "\n\n" + stateCounts(outcomes) + "\n\n")
		writeOutcomesMarkdown(&b, outcomes)
	} else {
		st := style{color}
		b.WriteString(st.paint("spof whatif: if "+what, sgrBold) + "\n")
		b.WriteString(stateCounts(outcomes) + "\n")
		if len(outcomes) > 0 {
			b.WriteString("\n")
		}
		writeOutcomesText(&b, outcomes, st)
	}
	return write(w, "what-if report", []byte(b.String()))
}

// stateCounts formats "2 flows down, 1 degraded, 0 up".
func stateCounts(outcomes []analysis.FlowOutcome) string {
	var n [analysis.Down + 1]int
	for _, o := range outcomes {
		if o.State <= analysis.Down {
			n[o.State]++
		}
	}
	return fmt.Sprintf("%s down, %d degraded, %d up",
		plural(n[analysis.Down], "flow", "flows"), n[analysis.Degraded], n[analysis.Up])
}

// writeOutcomesText writes "checkout (critical)  down" per flow, with the
// chain below when the flow is not up.
func writeOutcomesText(b *strings.Builder, outcomes []analysis.FlowOutcome, st style) {
	width := 0
	for _, o := range outcomes {
		width = max(width, flowTitleWidth(o.Flow, o.Criticality))
	}
	for _, o := range outcomes {
		b.WriteString("  " + flowTitle(o.Flow, o.Criticality, width, st) + "  " +
			st.state(o.State, o.State.String()) + "\n")
		writeChainText(b, "    ", "    ", o.Chain)
	}
}

func writeOutcomesMarkdown(b *strings.Builder, outcomes []analysis.FlowOutcome) {
	if len(outcomes) == 0 {
		b.WriteString("No flows.\n")
		return
	}
	b.WriteString("| Flow | Criticality | State | Why |\n")
	b.WriteString("| --- | --- | --- | --- |\n")
	for _, o := range outcomes {
		mdRow(b, mdText(o.Flow), o.Criticality.String(), mdState(o.State),
			mdText(strings.Join(o.Chain, " → ")))
	}
}

// mdState marks a state so it stands out in a table without colour.
func mdState(s analysis.State) string {
	switch s {
	case analysis.Up:
		return "🟢 up"
	case analysis.Degraded:
		return "🟡 degraded"
	case analysis.Down:
		return "🔴 **down**"
	}
	return s.String()
}

// Explain writes the blast radius of one component (spof explain) as text,
// json or markdown: what depends on it and the state each is left in, the
// flows it stops or degrades, and what needs it only to start, deploy or
// recover.
func Explain(w io.Writer, imp *analysis.Impact, format string, color bool) error {
	if err := CheckFormat(OutputExplain, format); err != nil {
		return err
	}
	if format == FormatJSON {
		out := *imp
		out.Dependents = nonNil(imp.Dependents)
		out.Flows = nonNil(imp.Flows)
		return writeJSON(w, "explain report", out)
	}
	var b strings.Builder
	if format == FormatMarkdown {
		writeExplainMarkdown(&b, imp)
	} else {
		writeExplainText(&b, imp, style{color})
	}
	return write(w, "explain report", []byte(b.String()))
}

// impactSummary formats "losing X: 2 flows down (a, b), 1 degraded (c)".
func impactSummary(imp *analysis.Impact) string {
	var down, degraded []string
	for _, f := range imp.Flows {
		switch f.State {
		case analysis.Down:
			down = append(down, f.Flow)
		case analysis.Degraded:
			degraded = append(degraded, f.Flow)
		}
	}
	s := "losing " + imp.Component + ": " + plural(len(down), "flow", "flows") + " down"
	if len(down) > 0 {
		s += " (" + strings.Join(down, ", ") + ")"
	}
	s += ", " + strconv.Itoa(len(degraded)) + " degraded"
	if len(degraded) > 0 {
		s += " (" + strings.Join(degraded, ", ") + ")"
	}
	return s + ", " + plural(len(imp.Dependents), "dependent", "dependents")
}

// noDependents says that nothing needs a component while running, and who
// needs it to start, deploy or recover, if anyone: "nothing needs ci while
// running; needed to deploy by app".
func noDependents(imp *analysis.Impact) string {
	if len(imp.NeededFor) == 0 {
		return "nothing depends on " + imp.Component
	}
	return "nothing needs " + imp.Component + " while running; needed to start, deploy or recover by " +
		strings.Join(imp.NeededFor, ", ")
}

// capitalize makes the first letter of s upper case.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func writeExplainText(b *strings.Builder, imp *analysis.Impact, st style) {
	b.WriteString(st.paint("spof explain: "+imp.Component, sgrBold) + "\n")
	b.WriteString(impactSummary(imp) + "\n")

	b.WriteString("\n" + st.paint("Dependents", sgrBold) + "\n")
	if len(imp.Dependents) == 0 {
		writeWrapped(b, "  ", "    ", noDependents(imp))
	}
	width := 0
	for _, d := range imp.Dependents {
		width = max(width, utf8.RuneCountInString(d.Component))
	}
	for _, d := range imp.Dependents {
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(d.Component))
		state := fmt.Sprintf("%-8s", d.State)
		line := "  " + d.Component + pad + "  " + st.state(d.State, state)
		if d.Via != "" {
			line += "  via " + d.Via
		}
		b.WriteString(line + "\n")
	}

	b.WriteString("\n" + st.paint("Flows", sgrBold) + "\n")
	if len(imp.Flows) == 0 {
		b.WriteString("  no flows declared\n")
	}
	writeOutcomesText(b, imp.Flows, st)

	if len(imp.NeededFor) > 0 {
		b.WriteString("\n" + st.paint("Needed to start, deploy or recover", sgrBold) + "\n")
		for _, n := range imp.NeededFor {
			b.WriteString("  " + n + "\n")
		}
	}
}

func writeExplainMarkdown(b *strings.Builder, imp *analysis.Impact) {
	b.WriteString("## Blast radius of " + mdCode(imp.Component) + "\n\n")
	b.WriteString(mdText(impactSummary(imp)) + "\n")

	b.WriteString("\n### Dependents\n\n")
	if len(imp.Dependents) == 0 {
		b.WriteString(mdText(capitalize(noDependents(imp))) + ".\n")
	} else {
		b.WriteString("| Component | State | Via |\n")
		b.WriteString("| --- | --- | --- |\n")
		for _, d := range imp.Dependents {
			mdRow(b, mdText(d.Component), mdState(d.State), mdText(d.Via))
		}
	}

	b.WriteString("\n### Flows\n\n")
	writeOutcomesMarkdown(b, imp.Flows)

	if len(imp.NeededFor) > 0 {
		b.WriteString("\n### Needed to start, deploy or recover\n\n")
		for _, n := range imp.NeededFor {
			b.WriteString("- " + mdText(n) + "\n")
		}
	}
}
