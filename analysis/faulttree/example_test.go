package faulttree_test

import (
	"fmt"

	"github.com/spofhq/spof/analysis/faulttree"
)

// Two replicas behind one load balancer: the flow is down when the
// balancer fails or both replicas fail.
func ExampleCutSets() {
	t := &faulttree.Tree{
		Name: "checkout",
		Gates: []faulttree.Gate{
			{Name: "down", Op: faulttree.Or, Args: []faulttree.Arg{{Kind: faulttree.ArgEvent, Index: 0}, {Kind: faulttree.ArgGate, Index: 1}}},
			{Name: "replicas", Op: faulttree.And, Args: []faulttree.Arg{{Kind: faulttree.ArgEvent, Index: 1}, {Kind: faulttree.ArgEvent, Index: 2}}},
		},
		Events: []faulttree.Event{
			{Name: "lb", P: 1e-4, HasP: true},
			{Name: "app-0", P: 1e-2, HasP: true},
			{Name: "app-1", P: 1e-2, HasP: true},
		},
	}
	res, err := faulttree.CutSets(t, faulttree.CutSetOptions{Order: 3})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Count, "cut sets, by order:", res.Distribution)
	for _, cs := range res.Sets {
		var names []string
		for _, e := range cs.Events {
			names = append(names, t.Events[e].Name)
		}
		fmt.Printf("%v %.2g\n", names, cs.P)
	}
	p, _ := faulttree.Probability(t, faulttree.Options{})
	b := faulttree.Bounds(res.Sets)
	fmt.Printf("exact %.6g, rare event %.6g, MCUB %.6g\n", p, b.RareEvent, b.MCUB)
	// Output:
	// 2 cut sets, by order: [1 1]
	// [app-0 app-1] 0.0001
	// [lb] 0.0001
	// exact 0.00019999, rare event 0.0002, MCUB 0.00019999
}
