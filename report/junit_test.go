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

func parseJUnit(t *testing.T, r *analysis.Result, g analysis.Gate) junitDoc {
	t.Helper()
	var b bytes.Buffer
	if err := JUnit(&b, r, g); err != nil {
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

// TestJUnitAgreesWithGate checks that a JUnit report fails exactly the
// findings that fail the check (so a CI system turns red exactly when spof
// check exits 1), skips those the baseline accepts, and passes the rest.
func TestJUnitAgreesWithGate(t *testing.T) {
	r := shopResult()
	all := analysis.NewBaseline(r)
	some := analysis.NewBaseline(&analysis.Result{System: "shop", Findings: r.Findings[:3]})
	for _, c := range []struct {
		name                     string
		gate                     analysis.Gate
		failures, skippedFinding int
	}{
		{"critical", analysis.Gate{FailOn: model.Critical}, 8, 0},
		{"high", analysis.Gate{FailOn: model.High}, 9, 0},
		{"none", analysis.Gate{}, 0, 0},
		{"baseline of all", analysis.Gate{FailOn: model.Critical, Baseline: all}, 0, 8},
		{"baseline of 3", analysis.Gate{FailOn: model.Critical, Baseline: some}, 5, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := parseJUnit(t, r, c.gate)
			if got := len(c.gate.Failing(r.Findings)); got != c.failures {
				t.Fatalf("the gate fails %d findings, the test expects %d", got, c.failures)
			}
			// Checklist items never fail: 3 fail and 2 unknown are skipped.
			if doc.Failures != c.failures || doc.Skipped != c.skippedFinding+5 {
				t.Errorf("failures=%d skipped=%d, want %d and %d", doc.Failures, doc.Skipped, c.failures, c.skippedFinding+5)
			}
			if want := len(r.Findings) + len(r.Checklist); doc.Tests != want {
				t.Errorf("tests=%d, want %d", doc.Tests, want)
			}
			for i, tc := range doc.Suites[0].Cases[:len(r.Findings)] {
				f := r.Findings[i]
				if want := "findings." + string(f.Category); tc.Classname != want {
					t.Errorf("case %d classname %q, want %q", i, tc.Classname, want)
				}
				switch c.gate.Verdict(f) {
				case analysis.Fails:
					if tc.Failure == nil || !strings.Contains(tc.Failure.Text, f.Event) {
						t.Errorf("%s fails the gate; its case: %+v", f.Event, tc)
					}
				case analysis.Accepted:
					if tc.Skipped == nil || tc.Skipped.Message != "accepted by the baseline" || tc.Failure != nil {
						t.Errorf("%s is accepted; its case: %+v", f.Event, tc)
					}
				case analysis.Passes:
					if tc.Failure != nil || tc.Skipped != nil || !strings.Contains(tc.SystemOut, f.Event) || !strings.HasPrefix(tc.SystemOut, "passes: ") {
						t.Errorf("%s passes; its case: %+v", f.Event, tc)
					}
				}
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
		failOn     model.Criticality
		indexFails bool
		vaultFails bool
		vaultOut   string // the system-out of a passing vault
		psp        string // the system-out of the degradation, which always passes
	}{
		{model.Critical, false, false, "passes: below --fail-on critical", "passes: degradations never fail the check"},
		{model.High, true, false, "passes: below --fail-on high", "passes: degradations never fail the check"},
		{model.Medium, true, true, "", "passes: degradations never fail the check"},
		{model.CriticalityNone, false, false, "passes: --fail-on none", "passes: degradations never fail the check"},
	} {
		t.Run(c.failOn.String(), func(t *testing.T) {
			cases := parseJUnit(t, r, analysis.Gate{FailOn: c.failOn}).Suites[0].Cases
			psp, index, vault := cases[0], cases[1], cases[2]
			if psp.Failure != nil || !strings.HasPrefix(psp.SystemOut, c.psp) {
				t.Errorf("the degradation: %+v", psp)
			}
			if (index.Failure != nil) != c.indexFails || (vault.Failure != nil) != c.vaultFails {
				t.Fatalf("index failed %v, vault failed %v; want %v, %v",
					index.Failure != nil, vault.Failure != nil, c.indexFails, c.vaultFails)
			}
			if c.vaultFails {
				if want := "medium recovery: at or above medium"; vault.Failure.Message != want {
					t.Errorf("message %q, want %q", vault.Failure.Message, want)
				}
				for _, want := range []string{"MEDIUM recovery component:vault", "vault fails", "→ pay cannot restart", "fix: cache secrets"} {
					if !strings.Contains(vault.Failure.Text, want) {
						t.Errorf("failure text does not contain %q:\n%s", want, vault.Failure.Text)
					}
				}
			} else if !strings.HasPrefix(vault.SystemOut, c.vaultOut) {
				t.Errorf("vault system-out %q, want it to start with %q", vault.SystemOut, c.vaultOut)
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
	doc := parseJUnit(t, r, analysis.Gate{FailOn: model.Critical})
	cases := doc.Suites[0].Cases
	if !strings.Contains(cases[0].Failure.Text, "a <b> & \"c\" ]]> d") {
		t.Errorf("failure text lost characters: %q", cases[0].Failure.Text)
	}
	if !strings.Contains(cases[1].SystemOut, "]]> d") {
		t.Errorf("checklist evidence lost characters: %q", cases[1].SystemOut)
	}
}
