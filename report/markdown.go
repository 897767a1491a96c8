package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spofhq/spof/analysis"
)

// Markdown writes r as GitHub-flavoured Markdown, for a pull-request comment
// or a job summary: a summary line, a table of flows, a table of findings,
// a details section per finding with its chain as a numbered list, and the
// checklist as a task list.
func Markdown(w io.Writer, r *analysis.Result) error {
	var b strings.Builder
	b.WriteString("# spof check: " + mdText(r.System) + "\n\n")
	b.WriteString(tallyFindings(r.Findings).markdown() + "\n")

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

	b.WriteString("\n## Findings\n\n")
	if len(r.Findings) == 0 {
		b.WriteString("No single points of failure found.\n")
	} else {
		writeFindingsMarkdown(&b, r.Findings)
	}

	if len(r.Checklist) > 0 {
		b.WriteString("\n## Checklist\n\n")
		writeChecklistMarkdown(&b, r.Checklist)
	}
	return write(w, "Markdown report", []byte(b.String()))
}

func writeFindingsMarkdown(b *strings.Builder, findings []analysis.Finding) {
	b.WriteString("| # | Severity | Category | Event | Flows | Fix |\n")
	b.WriteString("| ---: | --- | --- | --- | --- | --- |\n")
	for i, f := range findings {
		mdRow(b, strconv.Itoa(i+1), f.Severity.String(), string(f.Category), mdCode(f.Event),
			mdText(strings.Join(f.Flows, ", ")), mdText(f.Fix))
	}

	b.WriteString("\n### Details\n")
	for i, f := range findings {
		fmt.Fprintf(b, "\n#### %d. %s: %s %s\n\n", i+1, mdCode(f.Event), f.Severity, f.Category)
		if len(f.Flows) > 0 {
			b.WriteString("- **Flows:** " + mdText(strings.Join(f.Flows, ", ")) + "\n")
		}
		b.WriteString("- **Blast radius:** " + mdText(blastRadius(f.Components, f.BlastRadius)) + "\n")
		if at := locationText(f.Location); at != "" {
			b.WriteString("- **Declared at:** " + mdCode(at) + "\n")
		}
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
		for _, e := range it.Evidence {
			b.WriteString("  - " + mdText(e) + "\n")
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
