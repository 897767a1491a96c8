package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spofhq/spof/report"
)

// ReportFormats are the formats WriteResults writes.
var ReportFormats = []string{"text", "json", "markdown", "junit"}

// WriteResults writes the results of a run in format: text for people,
// json (the records of the history), markdown for a pull request or a
// wiki, junit so that CI systems show one test case per experiment.
func WriteResults(w io.Writer, system string, results []Result, format string) error {
	if results == nil {
		results = []Result{}
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			System  string   `json:"system"`
			Results []Result `json:"results"`
		}{system, results})
	case "markdown":
		fmt.Fprintf(w, "# Chaos experiments: %s\n\n| experiment | fault | verdict | why |\n|---|---|---|---|\n", system)
		for _, r := range results {
			fmt.Fprintf(w, "| `%s` | %s | **%s** | %s |\n", r.Experiment, r.Fault, r.Verdict, strings.ReplaceAll(r.Reason, "|", `\|`))
		}
		for _, r := range results {
			fmt.Fprintf(w, "\n## %s: %s\n\n| flow | predicted | observed | samples |\n|---|---|---|---:|\n", r.Experiment, r.Verdict)
			for _, fr := range r.Flows {
				fmt.Fprintf(w, "| %s | %s | %s | %d |\n", fr.Flow, fr.Predicted, fr.Observed, fr.Samples)
			}
		}
		return nil
	case "junit":
		return writeJUnit(w, system, results)
	case "text":
		counts := map[Verdict]int{}
		for _, r := range results {
			counts[r.Verdict]++
			fmt.Fprintf(w, "%-9s %s: %s\n", strings.ToUpper(string(r.Verdict)), r.Experiment, r.Reason)
			for _, fr := range r.Flows {
				fmt.Fprintf(w, "          %s\n", flowLine(fr))
			}
		}
		var parts []string
		for _, v := range []Verdict{Passed, Falsified, FaultLost, Aborted, NotApplied, RestoreFailed} {
			if counts[v] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
			}
		}
		if len(results) > 0 {
			fmt.Fprintf(w, "\n%d experiment%s: %s\n", len(results), map[bool]string{true: "s"}[len(results) != 1], strings.Join(parts, ", "))
		}
		return nil
	}
	return fmt.Errorf("unknown format %q (want one of: %s)", format, strings.Join(ReportFormats, ", "))
}

// flowLine says what a flow did against its prediction. A flow that
// disagreed shows the samples that did, not its worst state (which may be
// the predicted one: predicted down, up in 4 samples of 30, down in the
// others).
func flowLine(fr FlowResult) string {
	if fr.Mismatch == nil {
		return fmt.Sprintf("%s: predicted %s, observed %s (%d samples)", fr.Flow, fr.Predicted, fr.Observed, fr.Samples)
	}
	detail := ""
	if fr.Mismatch.Detail != "" {
		detail = ", first: " + fr.Mismatch.Detail
	}
	return fmt.Sprintf("%s: predicted %s, observed %s in %d of %d samples%s  ← not as predicted",
		fr.Flow, fr.Predicted, fr.Mismatch.State, max(fr.Mismatched, 1), fr.Samples, detail)
}

// writeJUnit makes each experiment a test case: falsified is a failure
// (the model is wrong), the other verdicts but passed are errors (the
// experiment did not conclude, or left something behind).
func writeJUnit(w io.Writer, system string, results []Result) error {
	cases := make([]report.JUnitCase, 0, len(results))
	for _, r := range results {
		c := report.JUnitCase{Name: r.Experiment, Classname: "chaos." + system, Time: r.Ended.Sub(r.Started)}
		var flows strings.Builder
		for _, fr := range r.Flows {
			fmt.Fprintln(&flows, flowLine(fr))
		}
		c.Out = flows.String()
		p := &report.JUnitProblem{Message: r.Reason, Type: string(r.Verdict), Text: r.Reason}
		switch r.Verdict {
		case Passed:
		case Falsified:
			c.Failure = p
		default:
			c.Error = p
		}
		cases = append(cases, c)
	}
	return report.WriteJUnit(w, "spof chaos: "+system, cases)
}
