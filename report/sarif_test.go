package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// sarifSchemaID is the id the vendored OASIS schema declares.
const sarifSchemaID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

var compileSARIFSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(sarifSchemaID, doc); err != nil {
		return nil, err
	}
	return c.Compile(sarifSchemaID)
})

func validateSARIF(t *testing.T, out []byte) {
	t.Helper()
	schema, err := compileSARIFSchema()
	if err != nil {
		t.Fatalf("compiling the SARIF schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Errorf("SARIF output does not match the SARIF 2.1.0 schema: %v", err)
	}
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	cases := map[string]struct {
		r *analysis.Result
		o SARIFOptions
		g analysis.Gate
	}{
		"baseline":         {shopResult(), SARIFOptions{BaseDir: "/src/shop"}, shopBaselineGate(shopResult())},
		"shop":             {shopResult(), SARIFOptions{ToolVersion: "0.1.0", BaseDir: "/src/shop"}, critGate},
		"relative base":    {shopResult(), SARIFOptions{BaseDir: "deploy"}, critGate},
		"no base, no tool": {shopResult(), SARIFOptions{}, critGate},
		"empty":            {&analysis.Result{System: "tiny"}, SARIFOptions{}, critGate},
		"odd input": {&analysis.Result{Findings: []analysis.Finding{
			{Event: "component:a b", Category: "future-category", Severity: model.CriticalityNone},
			{Event: "zone:z", Category: analysis.CategorySPOF, Severity: model.Medium,
				Location: model.Pos{File: "/src/my shop/spof.yaml", Line: 3}},
		}}, SARIFOptions{BaseDir: "/src/my shop"}, critGate},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := SARIF(&b, c.r, c.g, c.o); err != nil {
				t.Fatal(err)
			}
			validateSARIF(t, b.Bytes())
		})
	}
}

// TestSARIFBaselineState checks that with a baseline every result has
// the state code scanning reads, and each fixed finding is an "absent"
// result that is no problem ("pass", level "none") and keeps its
// fingerprint.
func TestSARIFBaselineState(t *testing.T) {
	r := shopResult()
	var b bytes.Buffer
	if err := SARIF(&b, r, shopBaselineGate(r), SARIFOptions{BaseDir: "/src/shop", ModelFile: "spof.yaml"}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				Kind                string            `json:"kind"`
				Level               string            `json:"level"`
				BaselineState       string            `json:"baselineState"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Properties          struct{ Event string }
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	res := log.Runs[0].Results
	if len(res) != len(r.Findings)+1 {
		t.Fatalf("%d results, want %d findings and 1 fixed", len(res), len(r.Findings))
	}
	states := map[string]string{}
	for _, x := range res {
		states[x.Properties.Event] = x.BaselineState
	}
	for event, want := range map[string]string{
		"component:session-redis": "new", "component:cdn": "new", "region:us-east-1": "unchanged",
		"component:email": "unchanged", "component:legacy-auth": "absent",
	} {
		if states[event] != want {
			t.Errorf("%s: baselineState %q, want %q", event, states[event], want)
		}
	}
	last := res[len(res)-1]
	if last.Kind != "pass" || last.Level != "none" || last.PartialFingerprints[fingerprintID] != "5e1f00d2c4b3a697" {
		t.Errorf("fixed result: %+v", last)
	}

	// Without a baseline, no result has a baselineState.
	b.Reset()
	if err := SARIF(&b, r, critGate, SARIFOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "baselineState") {
		t.Error("baselineState without a baseline")
	}
}

// TestSARIFSchemaCatchesMistakes makes sure the validation can fail.
func TestSARIFSchemaCatchesMistakes(t *testing.T) {
	schema, err := compileSARIFSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "spof"}}, "results": [{"message": {"text": "x"}, "level": "fatal"}]}]}`,
		`{"version": "2.0.0", "runs": []}`,
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "spof"}}, "results": [{"message": {"text": "x"}, "locations": [{"physicalLocation": {"region": {"startLine": 0}}}]}]}]}`,
	} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(bad)))
		if err != nil {
			t.Fatal(err)
		}
		if schema.Validate(doc) == nil {
			t.Errorf("schema accepted an invalid log: %s", bad)
		}
	}
}

// sarifDoc is the part of a SARIF log the tests read back.
type sarifDoc struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name, InformationURI, Version string
				Rules                         []struct {
					ID                   string
					DefaultConfiguration struct{ Level string }
				}
			}
		}
		OriginalURIBaseIDs map[string]struct{ URI string } `json:"originalUriBaseIds"`
		Results            []struct {
			RuleID    string
			RuleIndex *int
			Level     string
			Message   struct{ Text string }
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string
						URIBaseID string `json:"uriBaseId"`
					}
					Region struct{ StartLine, StartColumn int }
				}
			}
			PartialFingerprints map[string]string
			Properties          map[string]any
		}
	}
}

func TestSARIFContent(t *testing.T) {
	r := shopResult()
	var b bytes.Buffer
	if err := SARIF(&b, r, critGate, SARIFOptions{ToolVersion: "1.2.3", BaseDir: "/src/shop", ModelFile: "spof.yaml"}); err != nil {
		t.Fatal(err)
	}
	var doc sarifDoc
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "https://json.schemastore.org/sarif-2.1.0.json" || doc.Version != "2.1.0" || len(doc.Runs) != 1 {
		t.Fatalf("$schema %q, version %q, %d runs", doc.Schema, doc.Version, len(doc.Runs))
	}
	run := doc.Runs[0]
	d := run.Tool.Driver
	if d.Name != "spof" || d.InformationURI != "https://github.com/spofhq/spof" || d.Version != "1.2.3" {
		t.Errorf("driver = %+v", d)
	}
	var ruleIDs []string
	for _, rule := range d.Rules {
		ruleIDs = append(ruleIDs, rule.ID)
	}
	if want := []string{"spof/spof", "spof/degradation", "spof/recovery", "spof/operational"}; !slices.Equal(ruleIDs, want) {
		t.Errorf("rules = %v, want %v", ruleIDs, want)
	}
	if got := run.OriginalURIBaseIDs["%SRCROOT%"].URI; got != "file:///src/shop/" {
		t.Errorf("%%SRCROOT%% = %q", got)
	}
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(r.Findings))
	}
	wantLevel := map[string]string{ // by event
		"region:us-east-1": "error", "person:alice": "error", "component:ci": "error",
		"component:payments": "note", "component:cdn": "error", "component:search": "note",
	}
	for i, res := range run.Results {
		f := r.Findings[i]
		if res.RuleID != "spof/"+string(f.Category) || res.RuleIndex == nil || d.Rules[*res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: ruleId %q, ruleIndex %v", i, res.RuleID, res.RuleIndex)
		}
		if want, ok := wantLevel[f.Event]; ok && res.Level != want {
			t.Errorf("%s: level %q, want %q", f.Event, res.Level, want)
		}
		if res.PartialFingerprints["spofFindingId/v1"] != f.ID {
			t.Errorf("%s: partialFingerprints = %v", f.Event, res.PartialFingerprints)
		}
		if res.Properties["event"] != f.Event || res.Properties["severity"] != f.Severity.String() ||
			res.Properties["category"] != string(f.Category) {
			t.Errorf("%s: properties = %v", f.Event, res.Properties)
		}
		for _, part := range append([]string{f.Event, f.Fix}, f.Chain...) {
			if !bytes.Contains([]byte(res.Message.Text), []byte(part)) {
				t.Errorf("%s: message %q does not contain %q", f.Event, res.Message.Text, part)
			}
		}
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URIBaseID != "%SRCROOT%" {
			t.Errorf("%s: uriBaseId %q", f.Event, loc.ArtifactLocation.URIBaseID)
		}
		switch {
		case f.Location.Line > 0:
			if loc.ArtifactLocation.URI != shopFile || loc.Region.StartLine != f.Location.Line ||
				loc.Region.StartColumn != f.Location.Col {
				t.Errorf("%s: location %+v, want %s", f.Event, loc, f.Location)
			}
		default: // no position: line 1 of the model file
			if loc.ArtifactLocation.URI != "spof.yaml" || loc.Region.StartLine != 1 || loc.Region.StartColumn != 0 {
				t.Errorf("%s: location %+v, want spof.yaml line 1", f.Event, loc)
			}
		}
	}
}

func TestSARIFLevel(t *testing.T) {
	for _, c := range []struct {
		cat  analysis.Category
		sev  model.Criticality
		want string
	}{
		{analysis.CategorySPOF, model.Critical, "error"},
		{analysis.CategorySPOF, model.High, "error"},
		{analysis.CategorySPOF, model.Medium, "warning"},
		{analysis.CategorySPOF, model.Low, "note"},
		{analysis.CategoryRecovery, model.Medium, "warning"},
		{analysis.CategoryOperational, model.High, "error"},
		{analysis.CategoryDegradation, model.Critical, "note"},
	} {
		if got := sarifLevel(analysis.Finding{Category: c.cat, Severity: c.sev}); got != c.want {
			t.Errorf("%s %s: level %q, want %q", c.sev, c.cat, got, c.want)
		}
	}
}

func TestArtifactLocation(t *testing.T) {
	for _, c := range []struct {
		file, base    string
		uri, uriBase  string
		wantDescribed bool
	}{
		{file: "/src/shop/deploy/spof.yaml", base: "/src/shop", uri: "deploy/spof.yaml", uriBase: "%SRCROOT%"},
		{file: "/src/shop/spof.yaml", base: "/src/shop/", uri: "spof.yaml", uriBase: "%SRCROOT%"},
		{file: "deploy/spof.yaml", base: "/src/shop", uri: "deploy/spof.yaml", uriBase: "%SRCROOT%"},
		{file: "deploy/spof.yaml", base: "deploy", uri: "spof.yaml", uriBase: "%SRCROOT%"},
		{file: "./spof.yaml", base: "", uri: "spof.yaml", uriBase: "%SRCROOT%"},
		{file: "my shop/spof#1.yaml", base: "", uri: "my%20shop/spof%231.yaml", uriBase: "%SRCROOT%"},
		{file: "/elsewhere/spof.yaml", base: "/src/shop", uri: "file:///elsewhere/spof.yaml"},
		{file: "/abs/spof.yaml", base: "", uri: "file:///abs/spof.yaml"},
	} {
		got := artifactLocation(c.file, c.base)
		if got.URI != c.uri || got.URIBaseID != c.uriBase {
			t.Errorf("artifactLocation(%q, %q) = %q base %q, want %q base %q",
				c.file, c.base, got.URI, got.URIBaseID, c.uri, c.uriBase)
		}
	}
	if got := baseDirLocation("/src/my shop"); got.URI != "file:///src/my%20shop/" {
		t.Errorf("baseDirLocation = %+v", got)
	}
	for _, base := range []string{"", "relative/dir"} {
		if got := baseDirLocation(base); got.URI != "" || got.Description == nil {
			t.Errorf("baseDirLocation(%q) = %+v, want a description and no URI", base, got)
		}
	}
}
