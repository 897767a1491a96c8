package analysis

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/spofhq/spof/analysis/faulttree"
)

// evalTree evaluates a fault tree with the named basic events true.
func evalTree(t *faulttree.Tree, failed map[string]bool) bool {
	memo := map[int32]bool{}
	var gate func(i int32) bool
	arg := func(a faulttree.Arg) bool {
		switch a.Kind {
		case faulttree.ArgEvent:
			return failed[t.Events[a.Index].Name]
		case faulttree.ArgHouse:
			return t.Houses[a.Index].State
		}
		return gate(a.Index)
	}
	gate = func(i int32) bool {
		if v, ok := memo[i]; ok {
			return v
		}
		g := t.Gates[i]
		n := 0
		for _, a := range g.Args {
			if arg(a) {
				n++
			}
		}
		var v bool
		switch g.Op {
		case faulttree.And:
			v = n == len(g.Args)
		case faulttree.Or:
			v = n > 0
		case faulttree.AtLeast:
			v = n >= g.K
		case faulttree.Not:
			v = n == 0
		case faulttree.Null:
			v = n == 1
		}
		memo[i] = v
		return v
	}
	return gate(t.Top)
}

// TestFaultTreeMatchesWhatIf: on random models and random sets of failed
// events, a flow's fault tree is true exactly when WhatIf finds the flow
// down.
func TestFaultTreeMatchesWhatIf(t *testing.T) {
	for seed := 0; seed < propertyRuns(1500); seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 31))
		m := randomModel(r)
		an, err := New(m)
		if err != nil {
			t.Fatal(err)
		}
		var all []Event
		for _, e := range Events(m) {
			if e.Kind != EventPerson {
				all = append(all, e)
			}
		}
		trees := map[string]*faulttree.Tree{}
		for _, f := range m.Flows {
			tr, err := FaultTree(m, f.Name)
			if err != nil {
				t.Fatal(err)
			}
			trees[f.Name] = tr
		}
		for trial := 0; trial < 20; trial++ {
			var events []Event
			failed := map[string]bool{}
			for _, e := range all {
				if r.IntN(5) == 0 {
					events = append(events, e)
					failed[e.String()] = true
				}
			}
			out, err := an.WhatIf(events)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out {
				if got, want := evalTree(trees[o.Flow], failed), o.State == Down; got != want {
					t.Fatalf("seed %d, flow %s, failed %v: tree says down=%v, WhatIf %s", seed, o.Flow, events, got, o.State)
				}
			}
		}
	}
}

// TestOrderOneCutSetsAreSPOFs: the minimal cut sets of order 1 of a flow's
// fault tree are exactly check's SPOFs of that flow, on random models; and
// every minimal cut set of order up to 3 fails the flow (WhatIf) while
// none of its proper subsets does.
func TestOrderOneCutSetsAreSPOFs(t *testing.T) {
	for seed := 0; seed < propertyRuns(600); seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 47))
		m := randomModel(r)
		res, err := Check(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		an, err := New(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m.Flows {
			want := map[string]bool{}
			for _, fi := range res.Findings {
				if fi.Category == CategorySPOF && slices.Contains(fi.Flows, f.Name) {
					want[fi.Event] = true
				}
			}
			tr, err := FaultTree(m, f.Name)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := faulttree.CutSets(tr, faulttree.CutSetOptions{Order: 3})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, s := range cs.Sets {
				var events []Event
				for _, e := range s.Events {
					ev, err := ParseEvent(tr.Events[e].Name)
					if err != nil {
						t.Fatal(err)
					}
					events = append(events, ev)
				}
				if len(events) == 1 {
					got[events[0].String()] = true
				}
				if !flowDown(t, an, f.Name, events) {
					t.Fatalf("seed %d, flow %s: cut set %v does not take the flow down", seed, f.Name, events)
				}
				for i := range events {
					sub := append(slices.Clone(events[:i]), events[i+1:]...)
					if len(sub) > 0 && flowDown(t, an, f.Name, sub) {
						t.Fatalf("seed %d, flow %s: cut set %v is not minimal (%v suffices)", seed, f.Name, events, sub)
					}
				}
			}
			if !maps.Equal(want, got) {
				t.Fatalf("seed %d, flow %s: order-1 cut sets %v, check's SPOFs %v", seed, f.Name, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
		}
	}
}

func flowDown(t *testing.T, an *Analyzer, flow string, events []Event) bool {
	t.Helper()
	out, err := an.WhatIf(events)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.Flow == flow {
			return o.State == Down
		}
	}
	t.Fatalf("no flow %s", flow)
	return false
}
