package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// JUnitOptions controls JUnit.
type JUnitOptions struct {
	// FailOn is the lowest severity of a finding that fails a flow's test
	// case (--fail-on). CriticalityNone fails none.
	FailOn model.Criticality
}

// JUnit writes r as JUnit XML for CI test reports: one test case per flow,
// failed by the findings at or above FailOn that stop it (categories spof,
// recovery and operational; degradations never fail), and one test case
// per checklist item, failed when it fails and skipped when unknown.
func JUnit(w io.Writer, r *analysis.Result, o JUnitOptions) error {
	suite := junitSuite{Name: "spof: " + r.System}
	for _, f := range r.Flows {
		tc := junitCase{Classname: "flows", Name: f.Name + " (" + f.Criticality.String() + ")"}
		if failing := failingFindings(r.Findings, f.Name, o.FailOn); len(failing) > 0 {
			tc.Failure = &junitFailure{
				Message: flowFailureMessage(f.Name, failing),
				Type:    "spof",
				Text:    xmlText(flowFailureText(failing)),
			}
		}
		suite.add(tc)
	}
	for _, it := range r.Checklist {
		tc := junitCase{Classname: "checklist", Name: strconv.Itoa(it.Item) + ". " + it.Title}
		evidence := xmlText(strings.Join(it.Evidence, "\n"))
		switch it.Status {
		case analysis.Pass:
			tc.SystemOut = junitOut(evidence)
		case analysis.Fail:
			tc.Failure = &junitFailure{Message: "checklist item failed", Type: "checklist", Text: evidence}
		default:
			tc.Skipped = &junitSkipped{Message: "checklist item " + string(it.Status) + ": not enough evidence to decide"}
			tc.SystemOut = junitOut(evidence)
		}
		suite.add(tc)
	}
	suites := junitSuites{
		Name: "spof", Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped,
		Suites: []junitSuite{suite},
	}

	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(suites); err != nil {
		return fmt.Errorf("encoding JUnit report: %w", err)
	}
	b.WriteString("\n")
	return write(w, "JUnit report", b.Bytes())
}

// failingFindings returns the findings that fail a flow: category spof,
// recovery or operational, severity at least failOn, naming the flow.
func failingFindings(findings []analysis.Finding, flow string, failOn model.Criticality) []analysis.Finding {
	if failOn == model.CriticalityNone {
		return nil
	}
	var out []analysis.Finding
	for _, f := range findings {
		switch f.Category {
		case analysis.CategorySPOF, analysis.CategoryRecovery, analysis.CategoryOperational:
		default:
			continue
		}
		if f.Severity >= failOn && slices.Contains(f.Flows, flow) {
			out = append(out, f)
		}
	}
	return out
}

// flowFailureMessage is the one-line failure message: the failing events.
func flowFailureMessage(flow string, findings []analysis.Finding) string {
	events := make([]string, len(findings))
	for i, f := range findings {
		events[i] = f.Event + " (" + f.Severity.String() + " " + string(f.Category) + ")"
	}
	return plural(len(findings), "finding", "findings") + " against " + flow + ": " + strings.Join(events, ", ")
}

// flowFailureText is the failure body: each finding with its chain and fix.
func flowFailureText(findings []analysis.Finding) string {
	var b strings.Builder
	for i, f := range findings {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%d. %s %s %s\n", i+1, strings.ToUpper(f.Severity.String()), f.Category, f.Event)
		writeChainText(&b, "   why: ", "        ", f.Chain)
		if f.Fix != "" {
			writeWrapped(&b, "   fix: ", "        ", f.Fix)
		}
	}
	return b.String()
}

// xmlText drops the characters XML 1.0 cannot carry (most control
// characters), which encoding/xml would write as they are in CDATA.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, s)
}

// The JUnit XML subset CI systems read (Jenkins, GitLab, GitHub actions
// that publish test reports).
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
		SystemOut *junitOutput  `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",cdata"`
	}
	junitOutput struct {
		Text string `xml:",cdata"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
)

// junitOut wraps text as <system-out>, or nil when there is none.
func junitOut(text string) *junitOutput {
	if text == "" {
		return nil
	}
	return &junitOutput{Text: text}
}

// add appends a test case and counts it.
func (s *junitSuite) add(tc junitCase) {
	s.Cases = append(s.Cases, tc)
	s.Tests++
	if tc.Failure != nil {
		s.Failures++
	}
	if tc.Skipped != nil {
		s.Skipped++
	}
}
