package model

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestMarshalRoundTrip: every valid test model and example, written by
// Marshal and read back, is the same model (positions aside).
func TestMarshalRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	examples, _ := filepath.Glob("../examples/*/spof.yaml")
	files = append(files, examples...)
	if len(files) < 5 {
		t.Fatalf("only %d models found", len(files))
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(file, data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal(m, MarshalOptions{Dir: filepath.Dir(file), Header: "written by a test"})
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(file, out)
			if err != nil {
				t.Fatalf("Parse(Marshal): %v\n%s", err, out)
			}
			ignore := cmpopts.IgnoreFields(Pos{}, "Line", "Col")
			if d := cmp.Diff(m, back, ignore, cmpopts.IgnoreUnexported(Model{}),
				cmpopts.IgnoreFields(Flow{}, "StepsPos"), cmpopts.IgnoreFields(Person{}, "KnowsPos", "HoldsPos")); d != "" {
				t.Errorf("round trip (-parsed +marshalled and parsed):\n%s\n%s", d, out)
			}
			if !strings.HasPrefix(string(out), "# written by a test\n") {
				t.Errorf("no header:\n%s", out)
			}
		})
	}
}

// TestSourceRoundTrip: source positions are written relative to the
// model's directory and read back as they were.
func TestSourceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := &Model{Version: 1, System: "s",
		Zones: []*Zone{{Name: "a", Source: Pos{File: filepath.Join(dir, "deploy", "z.yaml"), Line: 2}}},
		Components: []*Component{{Name: "app", Kind: KindService, Replicas: 2, MinHealthy: 1, Zones: []string{"a"},
			Failover: FailoverAutomatic, Source: Pos{File: filepath.Join(dir, "deploy", "app.yaml"), Line: 12, Col: 3},
			DependsOn: []*Edge{{From: "app", To: "db", Source: Pos{File: filepath.Join(dir, "deploy", "app.yaml"), Line: 40}},
				{From: "app", To: "cache", Fallback: "optional (traces)"}}},
			{Name: "db", Kind: KindDatabase, Replicas: 1, MinHealthy: 1, Failover: FailoverNone},
			{Name: "cache", Kind: KindCache, Replicas: 1, MinHealthy: 1, Failover: FailoverNone}},
		Flows: []*Flow{{Name: "web", Criticality: Critical, Steps: []string{"app"}, Source: Pos{File: filepath.Join(dir, "deploy", "svc.yaml"), Line: 1}}},
	}
	out, err := Marshal(m, MarshalOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"source: deploy/app.yaml:12:3", "- db: {source: 'deploy/app.yaml:40'}", "- cache: {fallback: optional (traces)}", "source: deploy/z.yaml:2"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	back, err := Parse(filepath.Join(dir, "spof.yaml"), out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := back.Component("app").Source; got != m.Components[0].Source {
		t.Errorf("app's source: got %+v, want %+v", got, m.Components[0].Source)
	}
	if got := back.Component("app").At(); got != m.Components[0].Source {
		t.Errorf("app.At(): got %+v", got)
	}
	if got := back.Component("db").At(); got.File != filepath.Join(dir, "spof.yaml") {
		t.Errorf("db.At(): got %+v, want the model's position", got)
	}
}

func TestParseSource(t *testing.T) {
	for in, want := range map[string]Pos{
		"a.yaml":        {File: "m/a.yaml"},
		"a.yaml:3":      {File: "m/a.yaml", Line: 3},
		"d/a.yaml:3:7":  {File: "m/d/a.yaml", Line: 3, Col: 7},
		"c:/x:y.yaml:2": {File: "m/c:/x:y.yaml", Line: 2},
		"/abs/a.tf:9":   {File: "/abs/a.tf", Line: 9},
		"a.yaml:x":      {File: "m/a.yaml:x"},
	} {
		if got := ParseSource(in, "m"); got != want {
			t.Errorf("ParseSource(%q) = %+v, want %+v", in, got, want)
		}
	}
}
