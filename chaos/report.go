package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/report"
)

// PlanFormats are the formats WritePlan writes.
var PlanFormats = []string{"text", "json", "markdown"}

// WritePlan writes the experiments xs planned for m in format: text for
// people, json, or markdown for a pull request or a wiki.
func WritePlan(w io.Writer, m *model.Model, xs []Experiment, format string) error {
	switch format {
	case "json":
		if xs == nil {
			xs = []Experiment{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			System      string       `json:"system"`
			Environment string       `json:"environment,omitempty"`
			Experiments []Experiment `json:"experiments"`
		}{m.System, m.Environment, xs})
	case "markdown":
		return writePlanMarkdown(w, m.System, xs)
	case "text":
		return writePlanText(w, m.System, xs)
	}
	return fmt.Errorf("unknown format %q (want one of: %s)", format, strings.Join(PlanFormats, ", "))
}

func writePlanText(w io.Writer, system string, xs []Experiment) error {
	fmt.Fprintf(w, "spof chaos plan: system %s, %d experiment%s\n", system, len(xs), plural(len(xs)))
	if len(xs) == 0 {
		fmt.Fprintln(w, "\nNo component has a chaos: binding, so there is nothing to inject into.")
		fmt.Fprintln(w, "Add one, e.g. chaos: {proxy: {listen: 127.0.0.1:16379, upstream: 127.0.0.1:6379}}.")
		return nil
	}
	for _, x := range xs {
		fmt.Fprintf(w, "\n%s\n  inject:    %s on %s through its %s binding\n  predicted:", x.Name, x.Fault, x.Target, x.Injector)
		for i, o := range x.Predicted {
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(w, "%s %s %s", sep, o.Flow, o.State)
		}
		fmt.Fprintln(w)
		for _, o := range x.Predicted {
			if len(o.Chain) > 0 {
				fmt.Fprintf(w, "  why %s %s: %s\n", o.Flow, o.State, strings.Join(o.Chain, "; "))
			}
		}
		for _, ex := range x.Exercises {
			fmt.Fprintf(w, "  exercises: %s\n", ex)
		}
	}
	return nil
}

func writePlanMarkdown(w io.Writer, system string, xs []Experiment) error {
	fmt.Fprintf(w, "# Chaos plan: %s\n\n", system)
	if len(xs) == 0 {
		fmt.Fprintln(w, "No component has a `chaos:` binding.")
		return nil
	}
	fmt.Fprintln(w, "| experiment | fault | predicted | exercises |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, x := range xs {
		var pred []string
		for _, o := range x.Predicted {
			pred = append(pred, o.Flow+" "+o.State.String())
		}
		fmt.Fprintf(w, "| `%s` | %s via %s | %s | %s |\n", x.Name, x.Fault, x.Injector,
			strings.Join(pred, ", "), strings.ReplaceAll(strings.Join(x.Exercises, "; "), "|", "\\|"))
	}
	return nil
}

// WriteDryRun says what a run of xs would do, probing the flows probed
// for duration each.
func WriteDryRun(w io.Writer, xs []Experiment, probed []string, duration time.Duration) error {
	for _, x := range xs {
		if _, err := fmt.Fprintf(w, "would run %s: inject %s into %s through its %s binding for %v; probe %s\n",
			x.Name, x.Fault, x.Target, x.Injector, duration, strings.Join(probed, ", ")); err != nil {
			return err
		}
	}
	return nil
}

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
			fmt.Fprintf(w, "\n%d experiment%s: %s\n", len(results), plural(len(results)), strings.Join(parts, ", "))
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

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
