package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// junitDoc is JUnit XML as a CI system reads it, independent of the types
// the renderer uses.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, r *analysis.Result, failOn model.Criticality) junitDoc {
	t.Helper()
	var b bytes.Buffer
	if err := JUnit(&b, r, JUnitOptions{FailOn: failOn}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), xml.Header) {
		t.Errorf("JUnit output does not start with the XML declaration")
	}
	var doc junitDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, b.String())
	}
	// The counts match the test cases.
	if len(doc.Suites) != 1 {
		t.Fatalf("%d test suites, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	var failures, skipped int
	for _, c := range s.Cases {
		if c.Failure != nil {
			failures++
		}
		if c.Skipped != nil {
			skipped++
		}
	}
	if s.Tests != len(s.Cases) || s.Failures != failures || s.Skipped != skipped || s.Errors != 0 {
		t.Errorf("suite counts tests=%d failures=%d skipped=%d errors=%d; cases say %d, %d, %d, 0",
			s.Tests, s.Failures, s.Skipped, s.Errors, len(s.Cases), failures, skipped)
	}
	if doc.Tests != s.Tests || doc.Failures != s.Failures || doc.Skipped != s.Skipped || doc.Errors != 0 {
		t.Errorf("testsuites counts %d/%d/%d differ from the suite's", doc.Tests, doc.Failures, doc.Skipped)
	}
	return doc
}

func TestJUnitShop(t *testing.T) {
	for _, c := range []struct {
		failOn                   model.Criticality
		tests, failures, skipped int
	}{
		{model.Critical, 10, 6, 2}, // every flow has a critical finding, plus 3 failed items
		{model.Low, 10, 6, 2},
		{model.CriticalityNone, 10, 3, 2}, // only the checklist fails
	} {
		t.Run(c.failOn.String(), func(t *testing.T) {
			doc := parseJUnit(t, shopResult(), c.failOn)
			if doc.Tests != c.tests || doc.Failures != c.failures || doc.Skipped != c.skipped {
				t.Errorf("tests=%d failures=%d skipped=%d, want %d, %d, %d",
					doc.Tests, doc.Failures, doc.Skipped, c.tests, c.failures, c.skipped)
			}
			s := doc.Suites[0]
			if s.Name != "spof: shop" {
				t.Errorf("suite name %q", s.Name)
			}
			if got := s.Cases[0]; got.Classname != "flows" || got.Name != "checkout (critical)" {
				t.Errorf("first case %q %q", got.Classname, got.Name)
			}
			if got := s.Cases[3]; got.Classname != "checklist" || !strings.HasPrefix(got.Name, "1. Every stateful") {
				t.Errorf("fourth case %q %q", got.Classname, got.Name)
			}
		})
	}
}

func TestJUnitFailOn(t *testing.T) {
	r := &analysis.Result{
		System: "s",
		Flows: []analysis.FlowSummary{
			{Name: "pay", Criticality: model.Critical},
			{Name: "search", Criticality: model.High},
		},
		Findings: []analysis.Finding{
			{Event: "component:psp", Category: analysis.CategoryDegradation, Severity: model.Critical,
				Flows: []string{"pay"}, Chain: []string{"psp fails", "pay is degraded"}, Fix: "verify the fallback"},
			{Event: "component:index", Category: analysis.CategorySPOF, Severity: model.High,
				Flows: []string{"search"}, Chain: []string{"index fails", "search is down"}, Fix: "replicate the index"},
			{Event: "component:vault", Category: analysis.CategoryRecovery, Severity: model.Medium,
				Flows: []string{"pay"}, Chain: []string{"vault fails", "pay cannot restart"}, Fix: "cache secrets"},
		},
	}
	for _, c := range []struct {
		failOn         model.Criticality
		payFails       bool
		searchFails    bool
		payMessageWant string
	}{
		{model.Critical, false, false, ""}, // a degradation never fails a flow
		{model.High, false, true, ""},
		{model.Medium, true, true, "1 finding against pay: component:vault (medium recovery)"},
		{model.CriticalityNone, false, false, ""},
	} {
		t.Run(c.failOn.String(), func(t *testing.T) {
			cases := parseJUnit(t, r, c.failOn).Suites[0].Cases
			pay, search := cases[0], cases[1]
			if (pay.Failure != nil) != c.payFails || (search.Failure != nil) != c.searchFails {
				t.Fatalf("pay failed %v, search failed %v; want %v, %v",
					pay.Failure != nil, search.Failure != nil, c.payFails, c.searchFails)
			}
			if c.payMessageWant != "" {
				if pay.Failure.Message != c.payMessageWant {
					t.Errorf("message %q, want %q", pay.Failure.Message, c.payMessageWant)
				}
				for _, want := range []string{"MEDIUM recovery component:vault", "vault fails", "→ pay cannot restart", "fix: cache secrets"} {
					if !strings.Contains(pay.Failure.Text, want) {
						t.Errorf("failure text does not contain %q:\n%s", want, pay.Failure.Text)
					}
				}
			}
		})
	}
}

// TestJUnitHostileText checks that text XML cannot carry survives.
func TestJUnitHostileText(t *testing.T) {
	nasty := "a <b> & \"c\" ]]> d \x00\x1b[31m e"
	r := &analysis.Result{
		System:    nasty,
		Flows:     []analysis.FlowSummary{{Name: nasty, Criticality: model.Critical}},
		Findings:  []analysis.Finding{{Event: nasty, Category: analysis.CategorySPOF, Severity: model.Critical, Flows: []string{nasty}, Chain: []string{nasty}, Fix: nasty}},
		Checklist: []analysis.ChecklistItem{{Item: 1, Title: nasty, Status: analysis.Fail, Evidence: []string{nasty}}},
	}
	doc := parseJUnit(t, r, model.Critical)
	cases := doc.Suites[0].Cases
	if !strings.Contains(cases[0].Failure.Text, "a <b> & \"c\" ]]> d") {
		t.Errorf("failure text lost characters: %q", cases[0].Failure.Text)
	}
	if !strings.Contains(cases[1].Failure.Text, "]]> d") {
		t.Errorf("checklist failure text lost characters: %q", cases[1].Failure.Text)
	}
}
