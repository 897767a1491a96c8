package report

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

func TestCheckFormat(t *testing.T) {
	for _, c := range []struct {
		out    Output
		format string
		ok     bool
	}{
		{OutputCheck, "text", true},
		{OutputCheck, "json", true},
		{OutputCheck, "markdown", true},
		{OutputCheck, "sarif", true},
		{OutputCheck, "junit", true},
		{OutputCheck, "dot", false},
		{OutputCheck, "", false},
		{OutputCheck, "JSON", false},
		{OutputGraph, "dot", true},
		{OutputGraph, "mermaid", true},
		{OutputGraph, "json", true},
		{OutputGraph, "text", false},
		{OutputChecklist, "markdown", true},
		{OutputChecklist, "sarif", false},
		{OutputWhatIf, "json", true},
		{OutputExplain, "junit", false},
		{Output("cutsets"), "text", false},
	} {
		err := CheckFormat(c.out, c.format)
		if (err == nil) != c.ok {
			t.Errorf("CheckFormat(%s, %q) = %v, want ok=%v", c.out, c.format, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("CheckFormat(%s, %q) = %v, does not wrap ErrUnknownFormat", c.out, c.format, err)
		}
	}
	err := CheckFormat(OutputCheck, "xml")
	want := `unknown format: format "xml" is not supported by spof check (want text, json, markdown, sarif or junit)`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestRenderersRejectUnknownFormats(t *testing.T) {
	var b bytes.Buffer
	outcomes, failed := shopWhatIf()
	for name, err := range map[string]error{
		"checklist": Checklist(&b, shopChecklist(), "sarif", false),
		"whatif":    WhatIf(&b, outcomes, failed, "dot", false),
		"explain":   Explain(&b, shopImpact(), "", false),
		"graph":     Graph(&b, shopModel(), nil, "svg"),
	} {
		if !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("%s: err = %v, want ErrUnknownFormat", name, err)
		}
	}
	if b.Len() != 0 {
		t.Errorf("renderers wrote %q before rejecting the format", b.String())
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriteErrorsAreReturned(t *testing.T) {
	r, m := shopResult(), shopModel()
	outcomes, failed := shopWhatIf()
	w := failingWriter{}
	for name, err := range map[string]error{
		"text":      Text(w, r, critGate, TextOptions{}),
		"json":      JSON(w, r, critGate),
		"markdown":  Markdown(w, r, critGate, MarkdownOptions{}),
		"sarif":     SARIF(w, r, critGate, SARIFOptions{}),
		"junit":     JUnit(w, r, critGate),
		"checklist": Checklist(w, r.Checklist, FormatText, false),
		"whatif":    WhatIf(w, outcomes, failed, FormatMarkdown, false),
		"explain":   Explain(w, shopImpact(), FormatJSON, false),
		"graph":     Graph(w, m, r, FormatDOT),
	} {
		if !errors.Is(err, errDiskFull) {
			t.Errorf("%s: err = %v, want it to wrap the writer's error", name, err)
		}
	}
}

// textOutputs renders every text output of the fixture.
func textOutputs(t *testing.T, color bool) map[string]string {
	t.Helper()
	r := shopResult()
	outcomes, failed := shopWhatIf()
	out := map[string]string{}
	for name, render := range map[string]func(*bytes.Buffer) error{
		"check":     func(w *bytes.Buffer) error { return Text(w, r, critGate, TextOptions{Color: color}) },
		"checklist": func(w *bytes.Buffer) error { return Checklist(w, r.Checklist, FormatText, color) },
		"whatif":    func(w *bytes.Buffer) error { return WhatIf(w, outcomes, failed, FormatText, color) },
		"explain":   func(w *bytes.Buffer) error { return Explain(w, shopImpact(), FormatText, color) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatal(err)
		}
		out[name] = b.String()
	}
	return out
}

func TestTextColor(t *testing.T) {
	for name, s := range textOutputs(t, false) {
		if strings.Contains(s, "\x1b") {
			t.Errorf("%s: escape sequence without Color", name)
		}
		inSummary := false
		for i, line := range strings.Split(s, "\n") {
			// The summary of check is a table, one line per finding, cut
			// at summaryLineWidth; the rest wraps at textWidth.
			width := textWidth
			switch {
			case line == "Summary":
				inSummary = true
			case line == "":
				inSummary = false
			case inSummary:
				width = summaryLineWidth
			}
			if n := utf8.RuneCountInString(line); n > width {
				t.Errorf("%s: line %d is %d columns wide: %q", name, i+1, n, line)
			}
		}
	}
	colored := textOutputs(t, true)
	for name, want := range map[string]string{
		"check":     "\x1b[1;31mCRITICAL\x1b[0m",
		"checklist": "\x1b[1;31m[FAIL]\x1b[0m",
		"whatif":    "\x1b[32mup\x1b[0m",
		"explain":   "\x1b[1;31mdown",
	} {
		if !strings.Contains(colored[name], want) {
			t.Errorf("%s: colour output does not contain %q", name, want)
		}
	}
	// Colour changes nothing but the escape sequences.
	plain := textOutputs(t, false)
	strip := func(s string) string {
		var b strings.Builder
		for len(s) > 0 {
			if i := strings.Index(s, "\x1b["); i >= 0 {
				b.WriteString(s[:i])
				s = s[i:]
				s = s[strings.IndexByte(s, 'm')+1:]
				continue
			}
			b.WriteString(s)
			break
		}
		return b.String()
	}
	for name := range plain {
		if strip(colored[name]) != plain[name] {
			t.Errorf("%s: colour output differs from plain output beyond escape sequences", name)
		}
	}
}

func TestTextFindings(t *testing.T) {
	out := textOutputs(t, false)["check"]
	for _, want := range []string{
		"spof check: system shop\n6 SPOFs (5 critical, 1 high), 2 recovery, 1 operational, 3 degradations\n",
		"  checkout (critical)  dns → lb → app\n    needs: session-redis, postgres, payments, jobs, email\n    5 SPOFs\n",
		"   5. CRITICAL spof        component:session-redis\n      flows: checkout, login\n      why:   component:session-redis fails\n",
		"             → checkout (critical) and login (critical) are down\n",
		"      blast radius: 9 components (app, config, jobs, lb, monitoring, postgres,\n                    search, session-redis, … +1 more)\n",
		"      at: deploy/spof.yaml:28:3\n",
		"  [ ?  ] 3. The dependency map",
		"  [pass] 7. Monitoring",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report does not contain %q", want)
		}
	}
	// The finding without a position has no at: line.
	cdn := out[strings.Index(out, "component:cdn\n"):]
	cdn = cdn[:strings.Index(cdn, "\n\n")]
	if strings.Contains(cdn, "at:") {
		t.Errorf("finding without a position shows one:\n%s", cdn)
	}
}

func TestBlastRadius(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{
		{0, "0 components"},
		{1, "1 component (c0)"},
		{8, "8 components (c0, c1, c2, c3, c4, c5, c6, c7)"},
		{11, "11 components (c0, c1, c2, c3, c4, c5, c6, c7, … +3 more)"},
	} {
		var names []string
		for i := range c.n {
			names = append(names, "c"+string(rune('0'+i)))
		}
		if got := blastRadius(names, 0); got != c.want {
			t.Errorf("blastRadius(%d names) = %q, want %q", c.n, got, c.want)
		}
	}
	// A finding names the first analysis.MaxComponents; the count is all.
	if got, want := blastRadius([]string{"a", "b"}, 150), "150 components (a, b, … +148 more)"; got != want {
		t.Errorf("capped: %q, want %q", got, want)
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		text  string
		width int
		want  []string
	}{
		{"", 10, []string{""}},
		{"a b c", 10, []string{"a b c"}},
		{"aaaa bbbb cccc", 9, []string{"aaaa bbbb", "cccc"}},
		{"a\n  b", 10, []string{"a b"}},
		{"averyveryverylongword x", 5, []string{"averyveryverylongword", "x"}},
		{"→ → → →", 3, []string{"→ →", "→ →"}},
	} {
		got := wrap(c.text, c.width)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", c.text, c.width, got, c.want)
		}
	}
}

func TestMarkdownEscaping(t *testing.T) {
	r := &analysis.Result{
		System: "a|b <script>",
		Flows: []analysis.FlowSummary{{Name: "pay|ment", Criticality: model.High,
			Steps: []string{"x|y"}, Dependencies: []string{"z"}}},
		Findings: []analysis.Finding{{
			Event: "component:a|b`c", Category: analysis.CategorySPOF, Severity: model.High,
			Flows: []string{"pay|ment"}, Chain: []string{"a | b", "pay|ment is down"},
			Fix: "use x | y\nthen z",
		}},
	}
	var b bytes.Buffer
	if err := Markdown(&b, r, critGate, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<script>") {
		t.Errorf("raw HTML passed through:\n%s", out)
	}
	// Every table row has as many unescaped pipes as its header.
	var header int
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = 0
			continue
		}
		n := strings.Count(line, "|") - strings.Count(line, `\|`)
		if header == 0 {
			header = n
		} else if n != header {
			t.Errorf("row has %d cell separators, header %d: %q", n, header, line)
		}
	}
	for _, want := range []string{"| ``component:a\\|b`c`` |", "| pay\\|ment is down |", "**Fix:** use x | y then z", "1. a | b\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown does not contain %q:\n%s", want, out)
		}
	}
}

// TestDegradationNotCritical checks that a degradation of a critical flow,
// which never fails the check, is not printed as CRITICAL: the flow's
// criticality is shown with the flow instead.
func TestDegradationNotCritical(t *testing.T) {
	r := &analysis.Result{
		System: "s",
		Flows:  []analysis.FlowSummary{{Name: "checkout", Criticality: model.Critical, Steps: []string{"app"}}},
		Findings: []analysis.Finding{{ID: "1", Event: "component:recs", Category: analysis.CategoryDegradation,
			Severity: model.Critical, Flows: []string{"checkout"}, Chain: []string{"component:recs fails", "app falls back", "checkout (critical) is degraded"}}},
	}
	for name, render := range map[string]func(*bytes.Buffer) error{
		"text":     func(w *bytes.Buffer) error { return Text(w, r, critGate, TextOptions{}) },
		"markdown": func(w *bytes.Buffer) error { return Markdown(w, r, critGate, MarkdownOptions{}) },
		"junit":    func(w *bytes.Buffer) error { return JUnit(w, r, critGate) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(b.String(), "\n") {
			if strings.Contains(line, "CRITICAL") || strings.Contains(line, "critical degradation") {
				t.Errorf("%s: a degradation is printed as critical: %q", name, line)
			}
		}
		if !strings.Contains(b.String(), "degrades checkout (critical)") && name != "junit" {
			t.Errorf("%s does not say it degrades checkout (critical):\n%s", name, b.String())
		}
	}
}

// TestSummaryCap checks that the summary of many findings fits a screen,
// and that no finding that fails the gate is hidden behind the cap.
func TestSummaryCap(t *testing.T) {
	r := &analysis.Result{System: "big"}
	for i := range 50 {
		f := analysis.Finding{ID: strconv.Itoa(i), Event: "component:c" + strconv.Itoa(i), Category: analysis.CategorySPOF,
			Severity: model.High, Flows: []string{"f"}, Chain: []string{"fails", "c" + strconv.Itoa(i) + " has one replica", "f is down"}}
		if i == 45 {
			f.Severity = model.Critical // ranked low on purpose: it must still be listed
		}
		r.Findings = append(r.Findings, f)
	}
	for _, only := range []bool{false, true} {
		var b bytes.Buffer
		if err := Text(&b, r, critGate, TextOptions{Summary: only}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		summary := out[strings.Index(out, "Summary\n"):]
		if end := strings.Index(summary, "\n\n"); end >= 0 {
			summary = summary[:end+1]
		}
		if n := strings.Count(summary, "\n"); n != 1+summaryFindings+1 {
			t.Errorf("summary has %d lines, want a title, %d findings and a last line:\n%s", n, summaryFindings, summary)
		}
		if !strings.Contains(summary, "  46. CRITICAL spof component:c45") {
			t.Errorf("the failing finding 46 is not in the summary:\n%s", summary)
		}
		want := "  … and 30 more, see below\n"
		if only {
			want = "  … and 30 more, run spof check without --summary to see them\n"
		}
		if !strings.HasSuffix(summary, want) {
			t.Errorf("summary does not end with %q:\n%s", want, summary)
		}
		if has := strings.Contains(out, "\nFindings\n"); has == only {
			t.Errorf("Summary %v: details printed %v", only, has)
		}
	}
}

// TestExplainNeededOnlyToDeploy checks that a component nothing needs
// while running, but something needs to deploy, is not said to have
// nothing depending on it.
func TestExplainNeededOnlyToDeploy(t *testing.T) {
	imp := &analysis.Impact{Component: "ci", NeededFor: []string{"app (deploy)"},
		Flows: []analysis.FlowOutcome{{Flow: "checkout", Criticality: model.Critical, State: analysis.Up}}}
	for _, format := range []string{FormatText, FormatMarkdown} {
		var b bytes.Buffer
		if err := Explain(&b, imp, format, false); err != nil {
			t.Fatal(err)
		}
		out := strings.Join(strings.Fields(b.String()), " ")
		if strings.Contains(strings.ToLower(out), "nothing depends on") {
			t.Errorf("%s says nothing depends on ci:\n%s", format, b.String())
		}
		if !strings.Contains(strings.ToLower(out), "nothing needs ci while running; needed to start, deploy or recover by app (deploy)") {
			t.Errorf("%s does not say who needs ci to deploy:\n%s", format, b.String())
		}
	}
}

// TestMarkdownSummaryCap checks that the Markdown table of many findings
// is capped like the text summary, failing findings first.
func TestMarkdownSummaryCap(t *testing.T) {
	r := &analysis.Result{System: "big"}
	for i := range 30 {
		sev := model.High
		if i == 25 {
			sev = model.Critical
		}
		r.Findings = append(r.Findings, analysis.Finding{ID: strconv.Itoa(i), Event: "component:c" + strconv.Itoa(i),
			Category: analysis.CategorySPOF, Severity: sev, Flows: []string{"f"}})
	}
	var b bytes.Buffer
	if err := Markdown(&b, r, critGate, MarkdownOptions{Summary: true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	rows := strings.Count(out, "\n| ") - 2 // less the header and separator rows
	if rows != summaryFindings {
		t.Errorf("%d rows, want %d:\n%s", rows, summaryFindings, out)
	}
	for _, want := range []string{"| 26 | critical | spof | `component:c25` |", "… and 10 more, run spof check without --summary to see them."} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
