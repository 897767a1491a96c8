package analysis

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/model"
)

// TestFusedMatchesUnfused: sharing the work along fused paths changes
// nothing in the result, chains and fixes included, on random models and
// on chains long enough to be elided, with branches, fallbacks into the
// chain and zones that take several links down.
func TestFusedMatchesUnfused(t *testing.T) {
	models := []*model.Model{}
	for seed := 0; seed < propertyRuns(2000); seed++ {
		models = append(models, randomModel(rand.New(rand.NewPCG(uint64(seed), 11))))
	}
	for seed := 0; seed < propertyRuns(300); seed++ {
		models = append(models, chainyModel(rand.New(rand.NewPCG(uint64(seed), 13))))
	}
	fused := 0
	for i, m := range models {
		want, err := check(m, Options{}, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := check(m, Options{}, true)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("model %d: fused result differs (-unfused +fused):\n%s\nmodel:\n%s", i, diff, dumpModel(m))
		}
		a, _ := newAnalyzer(m, nil)
		for _, p := range a.fu.parent {
			if p >= 0 {
				fused++
			}
		}
	}
	if fused < propertyRuns(1000) {
		t.Errorf("only %d fused components: the fused path is hardly exercised", fused)
	}
}

// chainyModel is a random model made of long chains: each component
// mostly needs the next, sometimes with a breaker, a fallback or a second
// parent, spread over zones, with flows at a few points.
func chainyModel(r *rand.Rand) *model.Model {
	m := &model.Model{Version: 1, System: "chains"}
	for i := 0; i < 3; i++ {
		m.Zones = append(m.Zones, &model.Zone{Name: fmt.Sprintf("z%d", i), Region: "r"})
	}
	n := 10 + r.IntN(40)
	name := func(i int) string { return fmt.Sprintf("c%02d", i) }
	for i := 0; i < n; i++ {
		c := &model.Component{Name: name(i), Kind: model.KindService, Replicas: 1, MinHealthy: 1, Failover: model.FailoverAutomatic}
		switch r.IntN(8) {
		case 0:
			c.Kind = model.KindDatabase
			c.Failover = model.FailoverManual
		case 1:
			c.Kind = model.KindCI
		case 2:
			c.Replicas = 2
		}
		if r.IntN(3) == 0 {
			c.Zones = []string{m.Zones[r.IntN(3)].Name}
		}
		if i+1 < n && r.IntN(10) != 0 {
			e := &model.Edge{From: c.Name, To: name(i + 1)}
			switch r.IntN(10) {
			case 0:
				e.Breaker = &model.Breaker{Timeout: 1}
			case 1:
				if i+2 < n {
					e.FallbackTo = name(i + 2 + r.IntN(n-i-2))
				}
			case 2:
				e.When = model.WhenDeploy
			}
			c.DependsOn = append(c.DependsOn, e)
		}
		if i+2 < n && r.IntN(8) == 0 {
			c.DependsOn = append(c.DependsOn, &model.Edge{From: c.Name, To: name(i + 2 + r.IntN(n-i-2))})
		}
		m.Components = append(m.Components, c)
	}
	for f := 0; f < 1+r.IntN(3); f++ {
		m.Flows = append(m.Flows, &model.Flow{Name: fmt.Sprintf("f%d", f), Criticality: model.Criticalities[r.IntN(4)],
			Steps: []string{name(r.IntN(n / 3))}})
	}
	if r.IntN(2) == 0 {
		m.People = []*model.Person{{Name: "ann", Knows: []string{name(r.IntN(n))}}}
	}
	return m
}
