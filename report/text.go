package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// TextOptions controls Text and the text form of the other reports.
type TextOptions struct {
	// Color turns on ANSI colours. The caller decides when (a terminal,
	// NO_COLOR, --no-color); Text never looks at the environment.
	Color bool
	// Summary prints only the summary: the tallies, the gate's decision
	// and one line per finding (spof check --summary).
	Summary bool
}

// textWidth is the column text output wraps at, so that reports read on an
// 80-column terminal.
const textWidth = 80

// blastNames is how many blast-radius components a text or Markdown report
// names before it says "+K more".
const blastNames = 8

// Text writes r for a person at a terminal: the tallies and what the gate
// g decided, a summary with one line per finding, then the flows with what
// they need, the ranked findings with why and how to fix each, and the
// checklist.
func Text(w io.Writer, r *analysis.Result, g analysis.Gate, o TextOptions) error {
	st := style{o.Color}
	sum := g.Summarize(r.Findings)
	var b strings.Builder
	b.WriteString(st.paint("spof check: system "+r.System, sgrBold) + "\n")
	b.WriteString(tallyFindings(r.Findings).text(st) + "\n")
	if line := baselineText(g, sum); line != "" {
		b.WriteString(line + "\n")
	}
	gate := gateText(g, sum)
	if sum.Failing > 0 {
		gate = st.paint(gate, sgrBold, sgrRed)
	}
	b.WriteString(gate + "\n")

	crit := flowCriticality(r)
	if len(r.Findings) > 0 {
		b.WriteString("\n" + st.paint("Summary", sgrBold) + "\n")
		writeSummaryText(&b, r.Findings, g, crit, o.Summary, st)
	}
	if fixed := g.Fixed(r.Findings); len(fixed) > 0 {
		b.WriteString("\n" + st.paint("Fixed since the baseline", sgrBold) + "\n")
		for _, f := range fixed {
			writeWrapped(&b, "  ", "    ", fixedText(f))
		}
	}
	if o.Summary {
		return write(w, "text report", []byte(b.String()))
	}

	b.WriteString("\n" + st.paint("Flows", sgrBold) + "\n")
	writeFlowsText(&b, r.Flows, st)

	b.WriteString("\n" + st.paint("Findings", sgrBold) + "\n")
	writeFindingsText(&b, r.Findings, g, crit, st)

	if len(r.Checklist) > 0 {
		b.WriteString("\n" + st.paint("Checklist", sgrBold) + "\n")
		writeChecklistText(&b, r.Checklist, st)
	}
	return write(w, "text report", []byte(b.String()))
}

// summaryLineWidth is the width a summary line is cut to, with "…": the
// summary is a table, one line per finding, so it is not wrapped and may be
// wider than the details.
const summaryLineWidth = 140

// writeSummaryText writes one line per finding, at most summaryFindings:
// number, severity, category, event, flows and the one-line reason.
func writeSummaryText(b *strings.Builder, findings []analysis.Finding, g analysis.Gate, crit map[string]model.Criticality, only bool, st style) {
	numWidth := len(strconv.Itoa(len(findings)))
	picks := summaryPicks(findings, g)
	label := func(f analysis.Finding) string {
		return strings.TrimSpace(severityLabel(f) + " " + string(f.Category))
	}
	labelWidth, eventWidth := 0, 0
	for _, i := range picks {
		labelWidth = max(labelWidth, utf8.RuneCountInString(label(findings[i])))
		eventWidth = max(eventWidth, utf8.RuneCountInString(findings[i].Event+" "+newMark(g, findings[i])))
	}
	eventWidth = min(eventWidth, 32)
	for _, i := range picks {
		f := findings[i]
		event := strings.TrimSpace(f.Event + " " + newMark(g, f))
		line := fmt.Sprintf("  %*d. %-*s %-*s  %s", numWidth, i+1, labelWidth, label(f), eventWidth, event, summaryFlowsText(f, crit))
		if r := reason(f); r != "" {
			line += ": " + r
		}
		line = truncate(line, summaryLineWidth)
		b.WriteString(paintSummary(line, f, g, st) + "\n")
	}
	if more := len(findings) - len(picks); more > 0 {
		where := "see below"
		if only {
			where = "run spof check without --summary to see them"
		}
		fmt.Fprintf(b, "  … and %d more, %s\n", more, where)
	}
}

// paintSummary colours a summary line: red when it fails the gate.
func paintSummary(line string, f analysis.Finding, g analysis.Gate, st style) string {
	if g.Verdict(f) == analysis.Fails {
		return st.severity(f.Severity, line)
	}
	return line
}

// truncate cuts s to at most width runes, ending it with "…" when cut. It
// cuts between words when a space is near the limit, so that no name is
// left half-printed.
func truncate(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)[:width-1]
	for i := len(r) - 1; i >= len(r)-width/4 && i > 0; i-- {
		if r[i] == ' ' {
			r = r[:i]
			break
		}
	}
	return strings.TrimRight(string(r), " ,:;") + " …"
}

func writeFlowsText(b *strings.Builder, flows []analysis.FlowSummary, st style) {
	if len(flows) == 0 {
		b.WriteString("  no flows declared\n")
		return
	}
	nameWidth := 0
	for _, f := range flows {
		nameWidth = max(nameWidth, flowTitleWidth(f.Name, f.Criticality))
	}
	for _, f := range flows {
		b.WriteString("  " + flowTitle(f.Name, f.Criticality, nameWidth, st) + "  " +
			strings.Join(f.Steps, " → ") + "\n")
		if len(f.Dependencies) > 0 {
			writeWrapped(b, "    needs: ", "           ", strings.Join(f.Dependencies, ", "))
		}
		n := plural(f.SPOFs, "SPOF", "SPOFs")
		if f.SPOFs > 0 {
			n = st.paint(n, sgrRed)
		} else {
			n = st.paint(n, sgrGreen)
		}
		b.WriteString("    " + n + "\n")
	}
}

// flowTitle formats "checkout (critical)", padded to width columns.
func flowTitle(name string, c model.Criticality, width int, st style) string {
	pad := strings.Repeat(" ", max(0, width-flowTitleWidth(name, c)))
	return st.paint(name, sgrBold) + " " + st.severity(c, "("+c.String()+")") + pad
}

func flowTitleWidth(name string, c model.Criticality) int {
	return utf8.RuneCountInString(name) + len(c.String()) + 3
}

func writeFindingsText(b *strings.Builder, findings []analysis.Finding, g analysis.Gate, crit map[string]model.Criticality, st style) {
	if len(findings) == 0 {
		b.WriteString("  " + st.paint("no single points of failure found", sgrGreen) + "\n")
		return
	}
	numWidth := len(strconv.Itoa(len(findings)))
	indent := strings.Repeat(" ", 2+numWidth+2)
	for i, f := range findings {
		if i > 0 {
			b.WriteString("\n")
		}
		sev := fmt.Sprintf("%-8s", severityLabel(f))
		cat := fmt.Sprintf("%-11s", f.Category)
		head := fmt.Sprintf("  %*d. %s %s %s", numWidth, i+1,
			st.severity(f.Severity, sev), st.paint(cat, sgrDim), st.paint(f.Event, sgrBold))
		if mark := newMark(g, f); mark != "" {
			head += " " + st.paint(mark, sgrBold, sgrYellow)
		}
		b.WriteString(head + "\n")
		if len(f.Flows) > 0 {
			writeWrapped(b, indent+"flows: ", indent+"       ", flowsText(f, crit))
		}
		if len(f.Chain) > 0 {
			writeChainText(b, indent+"why:   ", indent+"       ", f.Chain)
		}
		if f.Fix != "" {
			writeWrapped(b, indent+"fix:   ", indent+"       ", f.Fix)
		}
		writeWrapped(b, indent+"blast radius: ", indent+"              ", blastRadius(f.Components, f.BlastRadius))
		if at := locationText(f.Location); at != "" {
			b.WriteString(indent + "at: " + at + "\n")
		}
		if g.Baseline != nil {
			writeWrapped(b, indent+"gate:  ", indent+"       ", verdictText(g, f))
		}
	}
}

// writeChainText writes each step of a chain on its own line, the last (the
// outcome) marked with an arrow.
func writeChainText(b *strings.Builder, first, rest string, chain []string) {
	for i, step := range chain {
		prefix := rest
		if i == 0 {
			prefix = first
		}
		if i == len(chain)-1 && len(chain) > 1 {
			writeWrapped(b, prefix+"→ ", rest+"  ", step)
			continue
		}
		writeWrapped(b, prefix, rest, step)
	}
}

// writeChecklistText writes checklist items as "[pass] 1. title" with the
// evidence indented below.
func writeChecklistText(b *strings.Builder, items []analysis.ChecklistItem, st style) {
	for _, it := range items {
		title := strconv.Itoa(it.Item) + ". " + it.Title
		writeWrapped(b, "  "+st.status(it.Status)+" ", "         ", title)
		shown, more := evidenceShown(it.Evidence)
		for _, e := range shown {
			writeWrapped(b, "         ", "           ", e)
		}
		if more != "" {
			writeWrapped(b, "         ", "           ", more)
		}
	}
}

// maxEvidence caps the evidence lines an item shows in the text and
// markdown reports: on a large estate an item has one per component or
// dependency (94,000 on spof gen's 100,000 components), which nobody reads
// in a terminal or a pull request. JSON and SARIF keep every line.
const maxEvidence = 30

// evidenceShown returns the evidence to show, and what to say of the rest
// ("" when everything is shown).
func evidenceShown(ev []string) (shown []string, more string) {
	if len(ev) <= maxEvidence {
		return ev, ""
	}
	return ev[:maxEvidence], "… and " + strconv.Itoa(len(ev)-maxEvidence) + " more (--format json lists every one)"
}

// locationText formats where a finding is declared, or "" when unknown.
func locationText(p model.Pos) string {
	if p.Line == 0 && p.File == "" {
		return ""
	}
	return p.String()
}

// blastRadius formats "3 components (a, b, c)", naming at most blastNames
// of the total (a finding lists the first analysis.MaxComponents names).
func blastRadius(components []string, total int) string {
	total = max(total, len(components))
	s := plural(total, "component", "components")
	if total == 0 {
		return s
	}
	names := components
	more := ""
	if len(names) > blastNames {
		names = names[:blastNames]
	}
	if total > len(names) {
		more = fmt.Sprintf(", … +%d more", total-len(names))
	}
	return s + " (" + strings.Join(names, ", ") + more + ")"
}

// plural formats "1 SPOF" or "2 SPOFs".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// tally counts findings by category, and SPOFs by severity.
type tally struct {
	spof, recovery, operational, degradation int
	spofBySeverity                           [model.Critical + 1]int
}

func tallyFindings(findings []analysis.Finding) tally {
	var t tally
	for _, f := range findings {
		switch f.Category {
		case analysis.CategorySPOF:
			t.spof++
			if f.Severity >= 0 && f.Severity <= model.Critical {
				t.spofBySeverity[f.Severity]++
			}
		case analysis.CategoryRecovery:
			t.recovery++
		case analysis.CategoryOperational:
			t.operational++
		case analysis.CategoryDegradation:
			t.degradation++
		}
	}
	return t
}

// severities formats the SPOFs by severity, most severe first: "3 critical,
// 1 high", or "" when there are none.
func (t tally) severities() string {
	var parts []string
	for _, c := range model.Criticalities {
		if n := t.spofBySeverity[c]; n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+c.String())
		}
	}
	if n := t.spofBySeverity[model.CriticalityNone]; n > 0 {
		parts = append(parts, strconv.Itoa(n)+" unranked")
	}
	return strings.Join(parts, ", ")
}

// text formats the one-line summary, e.g. "4 SPOFs (3 critical, 1 high),
// 2 recovery, 1 operational, 3 degradations".
func (t tally) text(st style) string {
	spofs := plural(t.spof, "SPOF", "SPOFs")
	if sev := t.severities(); sev != "" {
		spofs += " (" + sev + ")"
	}
	if t.spof > 0 {
		spofs = st.paint(spofs, sgrBold, sgrRed)
	} else {
		spofs = st.paint(spofs, sgrGreen)
	}
	return spofs + ", " + strconv.Itoa(t.recovery) + " recovery, " +
		strconv.Itoa(t.operational) + " operational, " +
		plural(t.degradation, "degradation", "degradations")
}

// writeWrapped writes text after first, wrapped at textWidth columns with the
// continuation lines after rest. Words longer than a line are not broken.
func writeWrapped(b *strings.Builder, first, rest, text string) {
	width := textWidth - max(visibleWidth(first), visibleWidth(rest))
	for i, line := range wrap(text, max(width, 20)) {
		if i == 0 {
			b.WriteString(first)
		} else {
			b.WriteString(rest)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// visibleWidth counts the columns s takes on a terminal: its runes, less
// the ANSI escape sequences style adds.
func visibleWidth(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "\x1b[") {
			end := strings.IndexByte(s[i:], 'm')
			if end < 0 {
				break
			}
			i += end + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// wrap splits text at spaces into lines of at most width runes. Runs of
// white space (including newlines) become single spaces.
func wrap(text string, width int) []string {
	if !singleSpaced(text) {
		text = strings.Join(strings.Fields(text), " ")
	}
	if text == "" {
		return []string{""}
	}
	// Lines are cut from text itself: words are one space apart.
	var lines []string
	for start := 0; start < len(text); {
		end, n := -1, 0 // the line is text[start:end], n runes
		for next := start; ; {
			wordEnd := len(text)
			if k := strings.IndexByte(text[next:], ' '); k >= 0 {
				wordEnd = next + k
			}
			wn := utf8.RuneCountInString(text[next:wordEnd])
			if end >= 0 && n+1+wn > width {
				break
			}
			if end >= 0 {
				n++
			}
			n += wn
			end = wordEnd
			if wordEnd == len(text) {
				break
			}
			next = wordEnd + 1
		}
		lines = append(lines, text[start:end])
		start = end + 1
	}
	return lines
}

// singleSpaced reports whether text is words one space apart, with no
// other white space: what wrap would make of it.
func singleSpaced(text string) bool {
	if strings.HasPrefix(text, " ") || strings.HasSuffix(text, " ") || strings.Contains(text, "  ") {
		return false
	}
	for _, r := range text {
		if r != ' ' && unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// style paints text with ANSI SGR sequences when on, and leaves it alone
// otherwise.
type style struct{ on bool }

// SGR parameters used by the text reports.
const (
	sgrBold   = "1"
	sgrDim    = "2"
	sgrRed    = "31"
	sgrGreen  = "32"
	sgrYellow = "33"
	sgrCyan   = "36"
)

func (s style) paint(text string, codes ...string) string {
	if !s.on || len(codes) == 0 || text == "" {
		return text
	}
	return "\x1b[" + strings.Join(codes, ";") + "m" + text + "\x1b[0m"
}

// severity colours text by criticality: critical red bold, high red, medium
// yellow, low cyan.
func (s style) severity(c model.Criticality, text string) string {
	switch c {
	case model.Critical:
		return s.paint(text, sgrBold, sgrRed)
	case model.High:
		return s.paint(text, sgrRed)
	case model.Medium:
		return s.paint(text, sgrYellow)
	case model.Low:
		return s.paint(text, sgrCyan)
	}
	return text
}

// state colours text by state: up green, degraded yellow, down red.
func (s style) state(st analysis.State, text string) string {
	switch st {
	case analysis.Up:
		return s.paint(text, sgrGreen)
	case analysis.Degraded:
		return s.paint(text, sgrYellow)
	case analysis.Down:
		return s.paint(text, sgrBold, sgrRed)
	}
	return text
}

// status formats a checklist status as a fixed-width box: [pass], [FAIL] or
// [ ?  ].
func (s style) status(st analysis.Status) string {
	switch st {
	case analysis.Pass:
		return s.paint("[pass]", sgrGreen)
	case analysis.Fail:
		return s.paint("[FAIL]", sgrBold, sgrRed)
	}
	return s.paint("[ ?  ]", sgrYellow)
}
