package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spofhq/spof/analysis"
)

// JUnit writes r as JUnit XML for CI test reports, agreeing with the exit
// code of spof check: one test case per finding, failed when the gate g
// fails the check on it, skipped (with the reason) when the baseline
// accepts it, and passed otherwise (a degradation, or below --fail-on),
// with the finding in system-out; then one test case per checklist item,
// skipped when it fails or is unknown, since the checklist informs and does
// not fail the check. With a baseline, each baseline finding that no longer
// occurs is a passed test case too.
func JUnit(w io.Writer, r *analysis.Result, g analysis.Gate) error {
	suite := junitSuite{Name: "spof: " + r.System}
	for _, f := range r.Findings {
		tc := junitCase{Classname: "findings." + string(f.Category), Name: junitName(f.Event, f.Flows)}
		text := xmlText(findingText(f))
		switch g.Verdict(f) {
		case analysis.Fails:
			tc.Failure = &junitFailure{
				Message: f.Severity.String() + " " + string(f.Category) + ": " + g.Reason(f),
				Type:    string(f.Category),
				Text:    text,
			}
		case analysis.Accepted:
			tc.Skipped = &junitSkipped{Message: g.Reason(f)}
			tc.SystemOut = junitOut(text)
		default:
			tc.SystemOut = junitOut(verdictText(g, f) + "\n\n" + text)
		}
		suite.add(tc)
	}
	for _, f := range g.Fixed(r.Findings) {
		suite.add(junitCase{
			Classname: "findings." + string(f.Category), Name: junitName(f.Event, f.Flows),
			SystemOut: junitOut("fixed since the baseline"),
		})
	}
	for _, it := range r.Checklist {
		tc := junitCase{Classname: "checklist", Name: strconv.Itoa(it.Item) + ". " + it.Title}
		evidence := xmlText(strings.Join(it.Evidence, "\n"))
		switch it.Status {
		case analysis.Pass:
		case analysis.Fail:
			tc.Skipped = &junitSkipped{Message: "checklist item fails; the checklist does not fail spof check, its findings do"}
		default:
			tc.Skipped = &junitSkipped{Message: "checklist item " + string(it.Status) + ": not enough evidence to decide"}
		}
		tc.SystemOut = junitOut(evidence)
		suite.add(tc)
	}
	return writeSuite(w, suite)
}

// A JUnitCase is one test case of a JUnit report: passed unless it has a
// Failure (what it checks does not hold), an Error (it could not
// conclude) or is Skipped (the message says why).
type JUnitCase struct {
	Classname, Name string
	Time            time.Duration // how long it ran; 0: not said
	Failure, Error  *JUnitProblem
	Skipped         string
	Out             string // its system-out
}

// A JUnitProblem is why a test case failed or erred.
type JUnitProblem struct {
	Message, Type, Text string
}

// WriteJUnit writes cases as one JUnit test suite named name, in the
// subset of JUnit XML that CI systems read: the one JUnit writer of spof
// (spof check's report and spof chaos run's both go through it).
func WriteJUnit(w io.Writer, name string, cases []JUnitCase) error {
	suite := junitSuite{Name: name}
	for _, c := range cases {
		tc := junitCase{Classname: c.Classname, Name: c.Name, SystemOut: junitOut(xmlText(c.Out))}
		if c.Time > 0 {
			tc.Time = strconv.FormatFloat(c.Time.Seconds(), 'f', 3, 64)
		}
		if p := c.Failure; p != nil {
			tc.Failure = &junitFailure{Message: xmlText(p.Message), Type: p.Type, Text: xmlText(p.Text)}
		}
		if p := c.Error; p != nil {
			tc.Error = &junitFailure{Message: xmlText(p.Message), Type: p.Type, Text: xmlText(p.Text)}
		}
		if c.Skipped != "" {
			tc.Skipped = &junitSkipped{Message: xmlText(c.Skipped)}
		}
		suite.add(tc)
	}
	return writeSuite(w, suite)
}

// writeSuite writes suite, the one suite of a report.
func writeSuite(w io.Writer, suite junitSuite) error {
	suites := junitSuites{
		Name: "spof", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Skipped: suite.Skipped,
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

// junitName names a finding's test case, stably from run to run: its event
// and the flows it hits.
func junitName(event string, flows []string) string {
	if len(flows) == 0 {
		return event
	}
	return event + " (" + strings.Join(flows, ", ") + ")"
}

// findingText is a finding in plain text: what it is, its chain and fix.
func findingText(f analysis.Finding) string {
	var b strings.Builder
	head := strings.TrimSpace(severityLabel(f) + " " + string(f.Category) + " " + f.Event)
	b.WriteString(head + "\n")
	if len(f.Chain) > 0 {
		writeChainText(&b, "why: ", "     ", f.Chain)
	}
	if f.Fix != "" {
		writeWrapped(&b, "fix: ", "     ", f.Fix)
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
		Time      string        `xml:"time,attr,omitempty"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		Error     *junitFailure `xml:"error,omitempty"`
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
	if tc.Error != nil {
		s.Errors++
	}
	if tc.Skipped != nil {
		s.Skipped++
	}
}
