package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// MarkdownOptions controls Markdown.
type MarkdownOptions struct {
	// Summary writes only the tallies, the gate's decision and the table
	// of findings (spof check --summary).
	Summary bool
}

// Markdown writes r as GitHub-flavoured Markdown, for a pull-request comment
// or a job summary: a summary line, what the gate g decided, a table of
// findings, a table of flows, a details section per finding with its chain
// as a numbered list, and the checklist as a task list.
func Markdown(w io.Writer, r *analysis.Result, g analysis.Gate, o MarkdownOptions) error {
	sum := g.Summarize(r.Findings)
	var b strings.Builder
	b.WriteString("# spof check: " + mdText(r.System) + "\n\n")
	b.WriteString(tallyFindings(r.Findings).markdown() + "\n")
	if line := baselineText(g, sum); line != "" {
		b.WriteString("\n" + line + "\n")
	}
	gate := gateText(g, sum)
	if sum.Failing > 0 {
		gate = "❌ **" + gate + "**"
	} else {
		gate = "✅ " + gate
	}
	b.WriteString("\n" + mdText(gate) + "\n")

	crit := flowCriticality(r)
	b.WriteString("\n## Findings\n\n")
	if len(r.Findings) == 0 {
		b.WriteString("No single points of failure found.\n")
	} else {
		writeFindingsTable(&b, r.Findings, g, crit, o.Summary)
	}
	if fixed := g.Fixed(r.Findings); len(fixed) > 0 {
		b.WriteString("\n## Fixed since the baseline\n\n")
		for _, f := range fixed {
			b.WriteString("- " + mdText(fixedText(f)) + "\n")
		}
	}
	if o.Summary {
		return write(w, "Markdown report", []byte(b.String()))
	}

	b.WriteString("\n## Flows\n\n")
	if len(r.Flows) == 0 {
		b.WriteString("No flows declared.\n")
	} else {
		b.WriteString("| Flow | Criticality | Steps | Needs | SPOFs |\n")
		b.WriteString("| --- | --- | --- | --- | ---: |\n")
		for _, f := range r.Flows {
			mdRow(&b, mdText(f.Name), f.Criticality.String(), mdText(strings.Join(f.Steps, " → ")),
				mdText(strings.Join(f.Dependencies, ", ")), strconv.Itoa(f.SPOFs))
		}
	}

	if len(r.Findings) > 0 {
		b.WriteString("\n## Details\n")
		writeFindingDetailsMarkdown(&b, r.Findings, g, crit)
	}

	if len(r.Checklist) > 0 {
		b.WriteString("\n## Checklist\n\n")
		writeChecklistMarkdown(&b, r.Checklist)
	}
	return write(w, "Markdown report", []byte(b.String()))
}

// writeFindingsTable writes the summary: one row per finding, at most
// summaryFindings (those that fail the gate first), then how many more.
func writeFindingsTable(b *strings.Builder, findings []analysis.Finding, g analysis.Gate, crit map[string]model.Criticality, only bool) {
	b.WriteString("| # | Severity | Category | Event | Flows | Gate | Why |\n")
	b.WriteString("| ---: | --- | --- | --- | --- | --- | --- |\n")
	picks := summaryPicks(findings, g)
	for _, i := range picks {
		f := findings[i]
		event := mdCode(f.Event)
		if mark := newMark(g, f); mark != "" {
			event += " **new**"
		}
		sev := strings.ToLower(severityLabel(f))
		if sev == "" {
			sev = "–"
		}
		mdRow(b, strconv.Itoa(i+1), sev, string(f.Category), event,
			mdText(summaryFlowsText(f, crit)), mdGate(g, f), mdText(reason(f)))
	}
	if more := len(findings) - len(picks); more > 0 {
		where := "see the details below"
		if only {
			where = "run spof check without --summary to see them"
		}
		fmt.Fprintf(b, "\n… and %d more, %s.\n", more, where)
	}
}

// mdGate is a finding's verdict in the findings table.
func mdGate(g analysis.Gate, f analysis.Finding) string {
	switch g.Verdict(f) {
	case analysis.Fails:
		return "❌ fails"
	case analysis.Accepted:
		return "accepted (baseline)"
	}
	return "passes"
}

func writeFindingDetailsMarkdown(b *strings.Builder, findings []analysis.Finding, g analysis.Gate, crit map[string]model.Criticality) {
	for i, f := range findings {
		head := string(f.Category)
		if sev := strings.ToLower(severityLabel(f)); sev != "" {
			head = sev + " " + head
		}
		if newMark(g, f) != "" {
			head += " (new)"
		}
		fmt.Fprintf(b, "\n### %d. %s: %s\n\n", i+1, mdCode(f.Event), head)
		if len(f.Flows) > 0 {
			b.WriteString("- **Flows:** " + mdText(flowsText(f, crit)) + "\n")
		}
		b.WriteString("- **Blast radius:** " + mdText(blastRadius(f.Components, f.BlastRadius)) + "\n")
		if at := locationText(f.Location); at != "" {
			b.WriteString("- **Declared at:** " + mdCode(at) + "\n")
		}
		b.WriteString("- **Gate:** " + mdText(verdictText(g, f)) + "\n")
		if len(f.Chain) > 0 {
			b.WriteString("\n**Why**\n\n")
			for j, step := range f.Chain {
				fmt.Fprintf(b, "%d. %s\n", j+1, mdText(step))
			}
		}
		if f.Fix != "" {
			b.WriteString("\n**Fix:** " + mdText(f.Fix) + "\n")
		}
	}
}

// writeChecklistMarkdown writes the checklist as a task list: checked when
// the item passes, unchecked and marked ❓ when nobody knows yet.
func writeChecklistMarkdown(b *strings.Builder, items []analysis.ChecklistItem) {
	for _, it := range items {
		title := "**" + strconv.Itoa(it.Item) + ". " + mdText(it.Title) + "**"
		switch it.Status {
		case analysis.Pass:
			b.WriteString("- [x] " + title + "\n")
		case analysis.Fail:
			b.WriteString("- [ ] " + title + " (fail)\n")
		default:
			b.WriteString("- [ ] ❓ " + title + " (" + mdText(string(it.Status)) + ")\n")
		}
		shown, more := evidenceShown(it.Evidence)
		for _, e := range shown {
			b.WriteString("  - " + mdText(e) + "\n")
		}
		if more != "" {
			b.WriteString("  - " + mdText(more) + "\n")
		}
	}
}

// markdown formats the summary line.
func (t tally) markdown() string {
	spofs := "**" + plural(t.spof, "SPOF", "SPOFs") + "**"
	if sev := t.severities(); sev != "" {
		spofs += " (" + sev + ")"
	}
	return spofs + " · " + strconv.Itoa(t.recovery) + " recovery · " +
		strconv.Itoa(t.operational) + " operational · " +
		plural(t.degradation, "degradation", "degradations")
}

// mdRow writes one table row. Cells must already be Markdown; pipes and
// line breaks, which would end the cell or the row, are escaped here.
func mdRow(b *strings.Builder, cells ...string) {
	b.WriteString("|")
	for _, c := range cells {
		c = strings.ReplaceAll(c, "|", `\|`)
		b.WriteString(" " + c + " |")
	}
	b.WriteString("\n")
}

// mdText makes free text safe inline: one line, and no raw HTML.
func mdText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "<", "&lt;")
}

// mdCode formats s as a code span, with a fence long enough for any
// backticks inside it.
func mdCode(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}
