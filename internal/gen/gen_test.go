package gen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// equivalent compares models as Encode must preserve them: everything but
// source positions and the file name.
var equivalent = cmp.Options{
	cmpopts.IgnoreTypes(model.Pos{}, []model.Pos(nil)),
	cmpopts.IgnoreFields(model.Model{}, "File"),
	cmpopts.IgnoreUnexported(model.Model{}),
	cmpopts.EquateEmpty(),
}

// roundTrip encodes m, parses the result and fails unless it is m again.
func roundTrip(t *testing.T, m *model.Model) []byte {
	t.Helper()
	data, err := Encode(m)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	got, err := model.Parse("spof.yaml", data)
	if err != nil {
		t.Fatalf("Parse(Encode(m)): %v\n%s", err, head(data, 40))
	}
	if diff := cmp.Diff(m, got, equivalent); diff != "" {
		t.Fatalf("Parse(Encode(m)) differs from m (-want +got):\n%s", diff)
	}
	return data
}

// head returns the first n lines of data, for failure messages.
func head(data []byte, n int) string {
	lines := strings.SplitN(string(data), "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func TestGenerateValid(t *testing.T) {
	for _, o := range []Options{
		{Components: MinComponents},
		{Components: 50, Zones: 1, Regions: 1, Flows: 1, EdgesPerComponent: 1},
		{Components: 200, Zones: 3, Regions: 3, Flows: 500, Seed: 3},
		{Components: 1000, Seed: 42},
		{Components: 1000, Zones: 4, Regions: 2, Flows: 10, EdgesPerComponent: 10, Seed: 7},
		{Components: 2000, Seed: 1},
	} {
		t.Run(fmt.Sprintf("%d-%d-%d-%d-%d-%d", o.Components, o.Zones, o.Regions, o.Flows, o.EdgesPerComponent, o.Seed), func(t *testing.T) {
			m, err := Generate(o)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			roundTrip(t, m)
			o, _ = o.withDefaults()
			if len(m.Components) != o.Components || len(m.Zones) != o.Zones ||
				len(m.Regions()) != o.Regions || len(m.Flows) != o.Flows {
				t.Errorf("got %d components, %d zones, %d regions, %d flows; want %d, %d, %d, %d",
					len(m.Components), len(m.Zones), len(m.Regions()), len(m.Flows),
					o.Components, o.Zones, o.Regions, o.Flows)
			}
			checkShape(t, m, o)
		})
	}
}

// checkShape checks what the package documentation promises: running
// dependencies point forward, the platform is redundant, and the average
// degree is close to the one asked for.
func checkShape(t *testing.T, m *model.Model, o Options) {
	t.Helper()
	edges := 0
	position := make(map[string]int, len(m.Components))
	for x, c := range m.Components {
		position[c.Name] = x
	}
	for x, c := range m.Components {
		edges += len(c.DependsOn)
		for _, e := range c.DependsOn {
			if e.From != c.Name {
				t.Fatalf("%s: edge to %s has From %q", c.Name, e.To, e.From)
			}
			if !e.Running() {
				continue
			}
			for _, to := range []string{e.To, e.FallbackTo, e.AsyncVia} {
				if to != "" && position[to] <= x {
					t.Fatalf("%s: running dependency on %s, declared earlier", c.Name, to)
				}
			}
			if e.AsyncVia != "" && m.Component(e.AsyncVia).Kind != model.KindQueue {
				t.Errorf("%s: async_via %s is a %s, not a queue", c.Name, e.AsyncVia, m.Component(e.AsyncVia).Kind)
			}
		}
		if strings.HasPrefix(c.Name, "platform-") {
			zones := map[string]bool{}
			for _, z := range c.Zones {
				zones[z] = true
			}
			if c.Replicas < 3 || len(zones) < min(3, o.Zones) || c.Failover != model.FailoverAutomatic {
				t.Errorf("platform component %s: %d replicas over %d zones, failover %s; want ≥3 over ≥%d, automatic",
					c.Name, c.Replicas, len(zones), c.Failover, min(3, o.Zones))
			}
		}
	}
	if len(m.Components) >= 1000 {
		avg := float64(edges) / float64(len(m.Components))
		if want := float64(o.EdgesPerComponent); avg < 0.8*want || avg > 1.2*want {
			t.Errorf("%.2f dependencies per component, want about %v", avg, want)
		}
	}
}

func TestGenerateMix(t *testing.T) {
	m, err := Generate(Options{Components: 10000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, c := range m.Components {
		switch {
		case c.Kind == model.KindService && c.Replicas == 3:
			kinds["service"]++
		case c.Kind.Stateful():
			kinds["stateful"]++
		case c.Kind == model.KindExternal:
			kinds["external"]++
		case c.Replicas == 1:
			kinds["single"]++
		}
	}
	edgeKinds, edges := map[string]int{}, 0
	for _, c := range m.Components {
		for _, e := range c.DependsOn {
			edges++
			switch {
			case e.When != model.WhenRunning:
				edgeKinds["when"]++
			case e.FallbackTo != "":
				edgeKinds["fallback_to"]++
			case e.AsyncVia != "":
				edgeKinds["async_via"]++
			case e.Fallback != "":
				edgeKinds["fallback"]++
			default:
				edgeKinds["hard"]++
			}
			if len(e.Flows) > 0 {
				edgeKinds["flows"]++
			}
		}
	}
	within := func(what string, got, total int, want float64) {
		t.Helper()
		if p := 100 * float64(got) / float64(total); p < want*0.7 || p > want*1.3 {
			t.Errorf("%s: %.1f%%, want about %v%%", what, p, want)
		}
	}
	n := len(m.Components)
	within("service", kinds["service"], n, 65)
	within("stateful", kinds["stateful"], n, 15)
	within("single replica", kinds["single"], n, 12)
	within("external", kinds["external"], n, 5)
	within("hard edges", edgeKinds["hard"], edges, 70)
	within("fallback_to edges", edgeKinds["fallback_to"], edges, 10)
	within("fallback edges", edgeKinds["fallback"], edges, 8)
	within("async_via edges", edgeKinds["async_via"], edges, 6)
	within("when edges", edgeKinds["when"], edges, 4)
	within("flow-scoped edges", edgeKinds["flows"], edges, 5)
	crit := map[model.Criticality]bool{}
	for _, f := range m.Flows {
		crit[f.Criticality] = true
		if len(f.Steps) < 2 || len(f.Steps) > 4 {
			t.Errorf("flow %s has %d steps, want 2 to 4", f.Name, len(f.Steps))
		}
	}
	if len(crit) != 4 {
		t.Errorf("flows use %d criticalities, want all 4", len(crit))
	}
	if len(m.People) != 20 || len(m.Hazards) != 10 {
		t.Errorf("%d people and %d hazards, want 20 and 10", len(m.People), len(m.Hazards))
	}
}

// TestGenerateFindings checks that a generated estate exercises every kind
// of finding, so that benchmarks on it cover the whole analysis.
func TestGenerateFindings(t *testing.T) {
	m, err := Generate(Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := analysis.Check(m, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[analysis.Category]int{}
	for _, f := range res.Findings {
		got[f.Category]++
	}
	for _, c := range analysis.Categories {
		if got[c] == 0 {
			t.Errorf("no finding of category %s (got %v)", c, got)
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	for _, o := range []Options{{Components: 500, Seed: 1}, {Components: 3000, Zones: 5, Regions: 2, Seed: 99}} {
		a, err := Generate(o)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Generate(o)
		ea, err := Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		eb, _ := Encode(b)
		if !bytes.Equal(ea, eb) {
			t.Errorf("%+v: two runs give different models", o)
		}
		o.Seed++
		c, _ := Generate(o)
		ec, _ := Encode(c)
		if bytes.Equal(ea, ec) {
			t.Errorf("%+v: seeds %d and %d give the same model", o, o.Seed-1, o.Seed)
		}
	}
}

func TestGenerateBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Components: -1},
		{Components: MinComponents - 1},
		{Components: MaxComponents + 1},
		{Zones: -3},
		{Zones: 2, Regions: 3},
		{Regions: DefaultZones + 1},
		{Flows: -1},
		{Flows: MaxFlows + 1},
		{EdgesPerComponent: MaxEdges + 1},
	} {
		if _, err := Generate(o); !errors.Is(err, ErrOptions) {
			t.Errorf("Generate(%+v) error = %v, want ErrOptions", o, err)
		}
	}
}

func TestEncodeExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/*/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Models that use every key, chaos bindings and probes included.
	more, _ := filepath.Glob("../../model/testdata/valid/*.yaml")
	files = append(files, more...)
	files = append(files, "../../chaos/testdata/shop.yaml")
	if len(files) < 2 {
		t.Fatalf("found %d example models, want at least 2", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			m, err := model.Parse(file, data)
			if err != nil {
				t.Fatal(err)
			}
			out := roundTrip(t, m)
			if !bytes.HasPrefix(out, []byte("# Written by spof")) {
				t.Errorf("no header comment:\n%s", head(out, 3))
			}
		})
	}
}

// TestEncodeAwkwardValues round-trips values that YAML would read as
// something else unquoted, text with YAML syntax in it, and every optional
// field.
func TestEncodeAwkwardValues(t *testing.T) {
	names := []string{"true", "007", "null", "1e3", "yes", "0x1F", "1.5", "on", "1", "a.b_c-d", "Y", "NO"}
	texts := []string{"a: b", "# not a comment", " leading space", "trailing space ", "two\nlines\n",
		"'single' and \"double\" quotes", "tab\there", "ünïcödé ✓", "{flow}", "[list]", "*alias", "&anchor",
		"!tag", "%directive", "@at", "`tick`", "key: value\n  indented: line", "", "-", "? q", "line\n\n\nwith gaps",
		strings.Repeat("long words ", 40)}
	m := &model.Model{Version: 1, System: "true", Description: texts[0], Environment: "007",
		Zones: []*model.Zone{{Name: "null", Region: "1e3"}, {Name: "z-without-region"}}}
	for i, n := range names {
		c := &model.Component{Name: n, Kind: model.Kinds[i%len(model.Kinds)], Replicas: 1, MinHealthy: 1,
			Description: texts[i%len(texts)], Failover: model.DefaultFailover(model.Kinds[i%len(model.Kinds)])}
		if i%3 == 0 {
			c.Replicas, c.MinHealthy, c.Zones = 4, 2, []string{"null", "z-without-region"}
			c.Failover, c.FailoverSet = model.FailoverManual, true
		}
		if i%4 == 1 {
			c.Provider = "yes"
		}
		m.Components = append(m.Components, c)
	}
	for i, c := range m.Components[:len(m.Components)-2] {
		later := m.Components[i+1:]
		c.DependsOn = []*model.Edge{
			{From: c.Name, To: later[0].Name},
			{From: c.Name, To: later[1].Name, FallbackTo: later[0].Name, Fallback: texts[(i+3)%len(texts)],
				Breaker: &model.Breaker{Timeout: 1500 * time.Millisecond, ErrorThreshold: 1 + i, Reset: time.Minute, VolumeThreshold: i},
				Flows:   []string{"on"}},
			{From: c.Name, To: later[0].Name, When: model.Whens[i%len(model.Whens)], Fallback: texts[(i+5)%len(texts)]},
		}
		if i%2 == 0 {
			c.DependsOn[0].Breaker = &model.Breaker{}
			c.DependsOn[0].AsyncVia = later[1].Name
		}
	}
	m.Flows = []*model.Flow{
		{Name: "on", Criticality: model.Critical, Description: texts[4], Steps: []string{"true", "007"},
			Probe: &model.Probe{HTTP: "http://127.0.0.1:8080/a?b=c#d", ExpectStatus: 204,
				DegradedWhen: &model.DegradedWhen{Header: "X-Degraded", BodyContains: texts[1]}}},
		{Name: "off", Criticality: model.Low, Steps: []string{"null"}, Probe: &model.Probe{HTTP: "https://example.com"}},
	}
	m.People = []*model.Person{{Name: "no", Knows: []string{"true", "null"}, Holds: []string{"1e3", "key: value"}}, {Name: "n"}}
	m.Hazards = []*model.Hazard{{Name: "false", Description: texts[9], Breaks: []string{"0x1F"}, Fix: texts[20]}}
	roundTrip(t, m)
}

// TestEncodeChunks checks that sections longer than one encoding chunk
// come out as one mapping, in order.
func TestEncodeChunks(t *testing.T) {
	m := &model.Model{Version: 1, System: "chunks"}
	n := 3*chunkEntries + 5
	for i := 0; i < n; i++ {
		z := &model.Zone{Name: fmt.Sprintf("z%d", i)}
		m.Zones = append(m.Zones, z)
		c := &model.Component{Name: fmt.Sprintf("c%d", i), Kind: model.KindService, Replicas: 1, MinHealthy: 1,
			Zones: []string{z.Name}, Failover: model.FailoverAutomatic, Description: "x\ny"}
		if i > 0 {
			c.DependsOn = []*model.Edge{{From: c.Name, To: fmt.Sprintf("c%d", i-1)}}
		}
		m.Components = append(m.Components, c)
		m.Flows = append(m.Flows, &model.Flow{Name: fmt.Sprintf("f%d", i), Criticality: model.High, Steps: []string{c.Name}})
	}
	data := roundTrip(t, m)
	if got := bytes.Count(data, []byte("\ncomponents:\n")); got != 1 {
		t.Errorf("%d components: keys, want 1", got)
	}
}
