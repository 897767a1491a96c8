package analysis

import (
	"math/rand/v2"
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
