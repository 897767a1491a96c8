package chaos

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
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

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Output    string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit makes each experiment a test case: falsified is a failure
// (the model is wrong), the other verdicts but passed are errors (the
// experiment did not conclude, or left something behind).
func writeJUnit(w io.Writer, system string, results []Result) error {
	s := junitSuite{Name: "spof chaos: " + system, Tests: len(results)}
	for _, r := range results {
		c := junitCase{Name: r.Experiment, Classname: "chaos." + system, Time: fmt.Sprintf("%.3f", r.Ended.Sub(r.Started).Seconds())}
		var flows strings.Builder
		for _, fr := range r.Flows {
			fmt.Fprintf(&flows, "%s: predicted %s, observed %s (%d samples)\n", fr.Flow, fr.Predicted, fr.Observed, fr.Samples)
		}
		c.Output = flows.String()
		p := &junitProblem{Message: r.Reason, Type: string(r.Verdict), Text: r.Reason}
		switch r.Verdict {
		case Passed:
		case Falsified:
			c.Failure = p
			s.Failures++
		default:
			c.Error = p
			s.Errors++
		}
		s.Cases = append(s.Cases, c)
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
