package faulttree

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// This file holds a deliberately naive twin of the engines, written
// straight from the semantics of the gates and sharing no code with them:
// evaluate the tree on every assignment of its events. It is exponential
// and only for the small random trees of the property tests.

// refEval evaluates t's top gate with the events in failed (a bit mask)
// true.
func refEval(t *Tree, failed uint32) bool {
	var gate func(i int32) bool
	gate = func(i int32) bool {
		g := &t.Gates[i]
		n := 0
		for _, a := range g.Args {
			var v bool
			switch a.Kind {
			case ArgGate:
				v = gate(a.Index)
			case ArgEvent:
				v = failed&(1<<a.Index) != 0
			case ArgHouse:
				v = t.Houses[a.Index].State
			}
			if v {
				n++
			}
		}
		switch g.Op {
		case And:
			return n == len(g.Args)
		case Or:
			return n > 0
		case AtLeast:
			return n >= g.K
		case Not:
			return n == 0
		case Null:
			return n == 1
		}
		panic("bad op")
	}
	return gate(t.Top)
}

// refProbability sums the probability of every failing assignment; p
// overrides event probabilities when not nil.
func refProbability(t *Tree, p []float64) float64 {
	if p == nil {
		p = make([]float64, len(t.Events))
		for i, e := range t.Events {
			p[i] = e.P
		}
	}
	total := 0.0
	for s := uint32(0); s < 1<<len(t.Events); s++ {
		if !refEval(t, s) {
			continue
		}
		w := 1.0
		for i := range t.Events {
			if s&(1<<i) != 0 {
				w *= p[i]
			} else {
				w *= 1 - p[i]
			}
		}
		total += w
	}
	return total
}

// refCutSets returns the minimal sets of events that, failed with every
// other event working, fail the top event, with at most order events
// (0: no limit), each as sorted event names joined by ",", sorted.
func refCutSets(t *Tree, order int) []string {
	n := len(t.Events)
	// anyTrue[s]: some subset of s (s included) fails the top.
	anyTrue := make([]bool, 1<<n)
	var out []string
	for s := uint32(0); s < 1<<n; s++ {
		val := refEval(t, s)
		sub := false
		for i := 0; i < n; i++ {
			if s&(1<<i) != 0 && anyTrue[s&^(1<<i)] {
				sub = true
			}
		}
		anyTrue[s] = val || sub
		if val && !sub {
			var names []string
			for i := 0; i < n; i++ {
				if s&(1<<i) != 0 {
					names = append(names, t.Events[i].Name)
				}
			}
			if order == 0 || len(names) <= order {
				sort.Strings(names)
				out = append(out, strings.Join(names, ","))
			}
		}
	}
	sort.Strings(out)
	return out
}

func cutSetStrings(t *Tree, r *CutSetResult) []string {
	var out []string
	for _, cs := range r.Sets {
		var names []string
		for _, e := range cs.Events {
			names = append(names, t.Events[e].Name)
		}
		out = append(out, strings.Join(names, ","))
	}
	sort.Strings(out)
	return out
}

// randomTree makes a tree of up to maxEvents events and maxGates gates;
// gate i only takes gates j > i as arguments, so there is no cycle, and
// gates are shared. With coherent set there is no NOT.
func randomTree(rng *rand.Rand, maxEvents, maxGates int, coherent bool) *Tree {
	t := &Tree{Name: "random"}
	ne := 1 + rng.IntN(maxEvents)
	for i := range ne {
		t.Events = append(t.Events, Event{Name: fmt.Sprintf("e%02d", i), P: rng.Float64() * 0.5, HasP: true})
	}
	if rng.IntN(4) == 0 {
		t.Houses = []House{{Name: "on", State: true}, {Name: "off", State: false}}
	}
	ng := 1 + rng.IntN(maxGates)
	for i := range ng {
		g := Gate{Name: fmt.Sprintf("g%02d", i)}
		ops := []Op{And, Or, Or, AtLeast, And, Null, Not}
		if coherent {
			ops = ops[:6]
		}
		g.Op = ops[rng.IntN(len(ops))]
		nargs := 2 + rng.IntN(3)
		if g.Op == Not || g.Op == Null {
			nargs = 1
		}
		for range nargs {
			switch r := rng.IntN(10); {
			case r < 3 && i+1 < ng:
				g.Args = append(g.Args, Arg{Kind: ArgGate, Index: int32(i + 1 + rng.IntN(ng-i-1))})
			case r == 3 && len(t.Houses) > 0:
				g.Args = append(g.Args, Arg{Kind: ArgHouse, Index: int32(rng.IntN(len(t.Houses)))})
			default:
				g.Args = append(g.Args, Arg{Kind: ArgEvent, Index: int32(rng.IntN(ne))})
			}
		}
		if g.Op == AtLeast {
			g.K = 1 + rng.IntN(len(g.Args))
		}
		t.Gates = append(t.Gates, g)
	}
	return t
}

func approxEqual(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}
