package faulttree

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// generatedTree makes a layered tree over n events, shaped like the
// industrial benchmarks: or gates over and gates over or gates, five
// layers, the last over events, with gates shared between parents and
// events shared between gates (so cut sets of order 2 to 4 and beyond),
// and one atleast gate per and layer.
func generatedTree(n int, seed uint64) *Tree {
	rng := rand.New(rand.NewPCG(seed, 99))
	t := &Tree{Name: fmt.Sprintf("generated-%d-%d", n, seed)}
	for i := range n {
		t.Events = append(t.Events, Event{Name: fmt.Sprintf("e%04d", i), P: 1e-3 + rng.Float64()*1e-2, HasP: true})
	}
	// Gates are appended top-down; arguments point to later gates, so the
	// tree has no cycle. Gate 0 is the top.
	t.Gates = append(t.Gates, Gate{Name: "top", Op: Or})
	layer := []int32{0}
	for depth := 1; depth <= 4; depth++ {
		var next []int32
		width := max(2, min(n/4, 8<<depth))
		for i := range width {
			op := Or
			if depth%2 == 1 {
				op = And
				if i == 0 {
					op = AtLeast
				}
			}
			t.Gates = append(t.Gates, Gate{Name: fmt.Sprintf("g%d_%d", depth, i), Op: op})
			next = append(next, int32(len(t.Gates)-1))
		}
		for _, g := range layer {
			for range 2 + rng.IntN(3) {
				t.Gates[g].Args = append(t.Gates[g].Args, Arg{Kind: ArgGate, Index: next[rng.IntN(len(next))]})
			}
			if t.Gates[g].Op == Or && rng.IntN(2) == 0 {
				t.Gates[g].Args = append(t.Gates[g].Args, Arg{Kind: ArgEvent, Index: int32(rng.IntN(n))})
			}
		}
		layer = next
	}
	for _, g := range layer {
		for range 2 + rng.IntN(4) {
			t.Gates[g].Args = append(t.Gates[g].Args, Arg{Kind: ArgEvent, Index: int32(rng.IntN(n))})
		}
	}
	for i := range t.Gates {
		g := &t.Gates[i]
		if len(g.Args) == 0 {
			g.Args = append(g.Args, Arg{Kind: ArgEvent, Index: int32(rng.IntN(n))})
		}
		if g.Op == AtLeast {
			g.K = max(1, len(g.Args)-1)
		}
	}
	return t
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func BenchmarkCutSets(b *testing.B) {
	for _, n := range []int{200, 1000} {
		tr := generatedTree(n, 1)
		for _, m := range []Method{ZBDD, BDD} {
			for _, order := range []int{3, 5} {
				b.Run(fmt.Sprintf("events=%d/%s/order=%d", n, m, order), func(b *testing.B) {
					var count int
					for b.Loop() {
						res, err := CutSets(tr, CutSetOptions{Order: order, Method: m})
						if err != nil {
							b.Fatal(err)
						}
						count = res.Count
					}
					b.ReportMetric(float64(count), "sets")
				})
			}
		}
	}
}

func BenchmarkProbability(b *testing.B) {
	for _, n := range []int{200, 1000} {
		tr := generatedTree(n, 1)
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Probability(tr, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
