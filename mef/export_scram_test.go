package mef

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/analysis/faulttree"
	spof "github.com/spofhq/spof/model"
)

// TestExportedModelsEqualSCRAM writes the fault trees of spof models as
// MEF, has SCRAM find their minimal cut sets up to order 3 and the top
// event probability, and checks that they are the engine's and spof
// availability's: the bundled examples, and random models.
func TestExportedModelsEqualSCRAM(t *testing.T) {
	var models []*spof.Model
	files, _ := filepath.Glob("../examples/*/spof*.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := spof.Parse(f, data)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	for seed := range 5 {
		models = append(models, randomModel(rand.New(rand.NewPCG(uint64(seed), 3))))
	}
	for _, m := range models {
		t.Run(m.File, func(t *testing.T) {
			var trees []*faulttree.Tree
			for _, f := range m.Flows {
				tr, err := analysis.FaultTree(m, f.Name)
				if err != nil {
					t.Fatal(err)
				}
				trees = append(trees, tr)
			}
			var buf bytes.Buffer
			if err := Write(&buf, trees...); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "model.xml")
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			rep := runSCRAM(t, file, "--limit-order", "3", "--probability", "true")
			avail, err := analysis.Availability(m, nil, analysis.AvailabilityOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != len(trees) {
				t.Fatalf("SCRAM found %d top events, want %d", len(rep.Results), len(trees))
			}
			byTop := map[string]int{}
			for i, r := range rep.Results {
				byTop[r.Name] = i
			}
			for _, tr := range trees {
				i, ok := byTop[Identifier(tr.Gates[tr.Top].Name)]
				if !ok {
					t.Fatalf("SCRAM has no result for %s", tr.Gates[tr.Top].Name)
				}
				res, err := faulttree.CutSets(tr, faulttree.CutSetOptions{Order: 3})
				if err != nil {
					t.Fatal(err)
				}
				var ours, theirs []string
				for _, s := range res.Sets {
					var names []string
					for _, e := range s.Events {
						names = append(names, Identifier(tr.Events[e].Name))
					}
					slices.Sort(names)
					ours = append(ours, strings.Join(names, " "))
				}
				for _, p := range rep.Results[i].Products {
					var names []string
					for _, l := range p.Literals {
						names = append(names, l.Event)
					}
					slices.Sort(names)
					theirs = append(theirs, strings.Join(names, " "))
				}
				slices.Sort(ours)
				slices.Sort(theirs)
				if !slices.Equal(ours, theirs) {
					t.Errorf("flow %s: spof %v\nSCRAM %v", tr.Name, ours, theirs)
				}
				// SCRAM's probability comes from its BDD, exact whatever
				// the order limit.
				for _, fa := range avail {
					if fa.Flow == tr.Name && (!rep.Results[i].HasProbability || !closeTo(fa.Unavailability, rep.Results[i].Probability, 5e-6)) {
						t.Errorf("flow %s: spof availability %.9g, SCRAM %.6g", tr.Name, fa.Unavailability, rep.Results[i].Probability)
					}
				}
			}
		})
	}
}

// randomModel is a small random model: components with replicas over
// zones, providers, edges of every kind to components declared later.
func randomModel(r *rand.Rand) *spof.Model {
	m := &spof.Model{Version: 1, System: "random", File: "random-" + string(rune('a'+r.IntN(26)))}
	for i := range 3 {
		m.Zones = append(m.Zones, &spof.Zone{Name: "z" + string(rune('0'+i)), Region: "r" + string(rune('0'+i%2))})
	}
	n := 4 + r.IntN(6)
	name := func(i int) string { return "c" + string(rune('a'+i)) }
	for i := range n {
		c := &spof.Component{Name: name(i), Kind: spof.KindService, Replicas: 1 + r.IntN(3), Failover: spof.FailoverAutomatic}
		c.MinHealthy = 1 + r.IntN(c.Replicas)
		if r.IntN(2) == 0 {
			c.Zones = []string{m.Zones[r.IntN(3)].Name, m.Zones[r.IntN(3)].Name}
			if c.Zones[0] == c.Zones[1] {
				c.Zones = c.Zones[:1]
			}
		}
		if r.IntN(3) == 0 {
			c.Provider = "p" + string(rune('0'+r.IntN(2)))
		}
		if i < n-1 {
			for k := r.IntN(3); k > 0; k-- {
				e := &spof.Edge{From: c.Name, To: name(i + 1 + r.IntN(n-i-1))}
				if r.IntN(3) == 0 {
					if fb := name(i + 1 + r.IntN(n-i-1)); fb != e.To {
						e.FallbackTo = fb
					}
				}
				if !slices.ContainsFunc(c.DependsOn, func(o *spof.Edge) bool { return o.To == e.To }) {
					c.DependsOn = append(c.DependsOn, e)
				}
			}
		}
		m.Components = append(m.Components, c)
	}
	m.Flows = []*spof.Flow{{Name: "f", Criticality: spof.Critical, Steps: []string{name(0)}}}
	return m
}
