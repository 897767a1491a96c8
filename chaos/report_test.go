package chaos

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

func sampleResults() []Result {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return []Result{
		{Experiment: "session-redis-down", Fault: "down", Verdict: Passed, Reason: "every probed flow behaved as predicted, and recovered",
			Started: t0, Ended: t0.Add(40 * time.Second), Flows: []FlowResult{{Flow: "login", Predicted: analysis.Degraded, Observed: analysis.Degraded, Samples: 8}}},
		{Experiment: "config-down", Fault: "down", Verdict: Falsified, Reason: "checkout: predicted up, observed down at 1.5s (503 | x)",
			Started: t0, Ended: t0.Add(35 * time.Second), Flows: []FlowResult{{Flow: "checkout", Predicted: analysis.Up, Observed: analysis.Down, Samples: 8, Mismatched: 8, Mismatch: &Sample{State: analysis.Down, Detail: "503"}}}},
		{Experiment: "postgres-down", Fault: "down", Verdict: RestoreFailed, Reason: "restoring down: proxy API unreachable",
			Started: t0, Ended: t0.Add(time.Second)},
	}
}

func TestWriteResults(t *testing.T) {
	var b bytes.Buffer
	if err := WriteResults(&b, "shop", sampleResults(), "text"); err != nil {
		t.Fatal(err)
	}
	want := `PASSED    session-redis-down: every probed flow behaved as predicted, and recovered
          login: predicted degraded, observed degraded (8 samples)
FALSIFIED config-down: checkout: predicted up, observed down at 1.5s (503 | x)
          checkout: predicted up, observed down in 8 of 8 samples, first: 503  ← not as predicted
RESTORE-FAILED postgres-down: restoring down: proxy API unreachable

3 experiments: 1 passed, 1 falsified, 1 restore-failed
`
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	WriteResults(&b, "shop", sampleResults(), "markdown")
	for _, line := range []string{
		"| `config-down` | down | **falsified** | checkout: predicted up, observed down at 1.5s (503 \\| x) |",
		"## session-redis-down: passed",
		"| login | degraded | degraded | 8 |",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("markdown lacks %q:\n%s", line, b.String())
		}
	}

	b.Reset()
	if err := WriteResults(&b, "shop", sampleResults(), "junit"); err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Cases    []struct {
				Time    string `xml:"time,attr"`
				Failure *struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
				Error *struct {
					Type string `xml:"type,attr"`
				} `xml:"error"`
				Out string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &suites); err != nil || len(suites.Suites) != 1 {
		t.Fatalf("junit does not parse: %v\n%s", err, b.String())
	}
	suite := suites.Suites[0]
	if suite.Name != "spof chaos: shop" || suite.Tests != 3 || suite.Failures != 1 || suite.Errors != 1 || suite.Cases[1].Failure == nil ||
		suite.Cases[1].Failure.Type != "falsified" || suite.Cases[2].Error == nil || suite.Cases[2].Error.Type != "restore-failed" ||
		suite.Cases[0].Time != "40.000" || !strings.Contains(suite.Cases[1].Out, "← not as predicted") {
		t.Errorf("junit suite %+v\n%s", suite, b.String())
	}

	if err := WriteResults(&b, "shop", nil, "sarif"); err == nil {
		t.Error("unknown format: no error")
	}
}

// TestFlowLine: the marker points at what disagreed. A flow predicted down
// whose worst state was down, but that was up in some samples, says so
// (it used to read "predicted down, observed down ← not as predicted").
func TestFlowLine(t *testing.T) {
	fr := FlowResult{Flow: "f", Predicted: analysis.Down, Observed: analysis.Down, Samples: 30, Mismatched: 4,
		Mismatch: &Sample{State: analysis.Up, Detail: "200 OK"}}
	if got, want := flowLine(fr), "f: predicted down, observed up in 4 of 30 samples, first: 200 OK  ← not as predicted"; got != want {
		t.Errorf("flowLine = %q, want %q", got, want)
	}
	fr = FlowResult{Flow: "f", Predicted: analysis.Degraded, Observed: analysis.Degraded, Samples: 30}
	if got, want := flowLine(fr), "f: predicted degraded, observed degraded (30 samples)"; got != want {
		t.Errorf("flowLine = %q, want %q", got, want)
	}
}

func TestWritePlanFormats(t *testing.T) {
	m := &model.Model{System: "shop"}
	for _, f := range PlanFormats {
		var b bytes.Buffer
		if err := WritePlan(&b, m, nil, f); err != nil || !strings.Contains(b.String(), "shop") {
			t.Errorf("%s: %q, %v", f, b.String(), err)
		}
	}
	if err := WritePlan(io.Discard, m, nil, "sarif"); err == nil || !strings.Contains(err.Error(), "want one of: text, json, markdown") {
		t.Errorf("unknown format: %v", err)
	}
}
