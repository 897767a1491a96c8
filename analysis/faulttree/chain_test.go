package faulttree

import (
	"fmt"
	"testing"
)

// TestLongChainWithinBudget: a chain of 5,000 or gates, each adding one
// event (a long chain of services), has 5,001 minimal cut sets of
// order 1 and 2. Built in the order of the arguments, each step rebuilt
// what was built: the node budget ran out on the BDD and on the ZBDD, and
// the merged gates kept n²/2 arguments alive (3 GB).
func TestLongChainWithinBudget(t *testing.T) {
	const n = 5000
	tr := &Tree{Name: "chain"}
	for i := range n + 2 {
		tr.Events = append(tr.Events, Event{Name: fmt.Sprintf("e%d", i), P: 0.001, HasP: true})
	}
	for i := range n {
		tr.Gates = append(tr.Gates, Gate{Name: fmt.Sprintf("g%d", i), Op: Or,
			Args: []Arg{{Kind: ArgGate, Index: int32(i + 1)}, {Kind: ArgEvent, Index: int32(i)}}})
	}
	tr.Gates = append(tr.Gates, Gate{Name: "last", Op: And,
		Args: []Arg{{Kind: ArgEvent, Index: n}, {Kind: ArgEvent, Index: n + 1}}})
	for _, m := range []Method{Auto, ZBDD, BDD} {
		res, err := CutSets(tr, CutSetOptions{Order: 2, Method: m, MaxNodes: 1 << 18})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if res.Count != n+1 || len(res.Distribution) != 2 || res.Distribution[0] != n || res.Distribution[1] != 1 {
			t.Errorf("%s: %d sets, distribution %v; want %d of order 1 and 1 of order 2", m, res.Count, res.Distribution, n)
		}
	}
}
