package faulttree

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Method is the algorithm that computes minimal cut sets.
type Method uint8

// Methods.
const (
	// Auto builds coherent trees with an order limit up to 5 bottom-up
	// (ZBDD), and others through the BDD; when the first method exceeds
	// the budget it tries the other where that applies.
	Auto Method = iota
	// ZBDD builds the cut-set family bottom-up from the gates, dropping
	// sets longer than the order limit as they are formed. A negated event
	// counts as true (as in SCRAM's ZBDD and MOCUS).
	ZBDD
	// BDD builds the tree's BDD and then its minimal solutions (Rauzy's
	// minsol) with the order limit.
	BDD
)

func (m Method) String() string {
	switch m {
	case Auto:
		return "auto"
	case ZBDD:
		return "zbdd"
	case BDD:
		return "bdd"
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// CutSetOptions bound a cut-set analysis.
type CutSetOptions struct {
	Order    int    // largest cut set order kept; 0: no limit
	MaxNodes int    // decision-diagram node budget; 0: DefaultMaxNodes
	Method   Method // Auto unless comparing engines
	// Timeout bounds the time to build each decision diagram (0: none).
	Timeout time.Duration
	// MaxSets bounds the number of cut sets listed (0: DefaultMaxSets):
	// past it, CutSets fails with ErrBudget before it lists any.
	MaxSets int
	// WithProbability also computes the exact top event probability,
	// sharing the BDD when the cut sets came from it (every event then
	// needs a probability).
	WithProbability bool
}

// CutSet is a minimal cut set: events (indices into Tree.Events, sorted
// by name) that together fail the top event, and its probability (the
// product of the events' probabilities; 0 when one has none).
type CutSet struct {
	Events []int32
	P      float64
}

// CutSetResult is the outcome of CutSets.
//
// A minimal cut set is a minimal set of basic events whose failure, with
// every other event working, fails the top event (for trees with NOT this
// is SCRAM's convention with its default BDD algorithm: products hold
// only failed events). A top event that is constantly true has one empty
// cut set; one that is constantly false has none.
type CutSetResult struct {
	Order        int    // the order limit applied (0: none)
	Method       Method // the engine that ran
	Count        int
	Distribution []int // Distribution[i]: number of sets of order i+1
	Sets         []CutSet
	Probability  float64 // exact top event probability, with WithProbability
}

// CutSets computes the minimal cut sets of t up to opts.Order, sorted by
// probability (descending), then by their events' names.
func CutSets(t *Tree, opts CutSetOptions) (*CutSetResult, error) {
	p, err := buildPdag(t)
	if err != nil {
		return nil, err
	}
	if opts.Order < 0 {
		return nil, fmt.Errorf("cut sets of %q: negative order %d", t.Name, opts.Order)
	}
	k := int32(opts.Order)
	if k == 0 {
		k = -1
	}
	var probs []float64
	if opts.WithProbability {
		if probs, err = levelProbabilities(t, p); err != nil {
			return nil, err
		}
	}
	var z *zbdd
	var family, root int32
	var b *bdd
	method := opts.Method
	switch method {
	case Auto:
		// Measured (BenchmarkCutSets, SCRAM's samples): bottom-up is the
		// faster for low orders on coherent trees (Baobab1 order 5: 3.6 ms
		// against 5.5 ms; generated trees 10-50 times), the BDD for high
		// orders (Baobab1 order 7: 17 ms against 34 ms; all: 44 ms against
		// 4.1 s) and the only one for trees with NOT.
		plan := []Method{BDD}
		if !p.negated && k > 0 {
			plan = []Method{BDD, ZBDD}
			if k <= autoZBDDOrder {
				plan = []Method{ZBDD, BDD}
			}
		}
		for _, method = range plan {
			// Past its time budget, a method is not given a second one.
			if z, family, b, root = runMethod(p, method, k, opts); !z.over || z.late {
				break
			}
		}
	case ZBDD, BDD:
		z, family, b, root = runMethod(p, method, k, opts)
	default:
		return nil, fmt.Errorf("cut sets of %q: unknown method %s", t.Name, method)
	}
	if z.over {
		return nil, z.exceeded("cut sets", t.Name, "give a lower order limit")
	}
	res := &CutSetResult{Order: opts.Order, Method: method}
	if opts.WithProbability {
		if b == nil {
			b = newBDD(newBudget(opts.MaxNodes, opts.Timeout))
			root = b.build(p)
			if b.over {
				return nil, b.exceeded("probability", t.Name, "use EstimateProbability for bounds")
			}
		}
		res.Probability = b.probabilities(root, probs)[root]
	}
	var dist []int
	res.Count, dist = z.count(family)
	maxSets := opts.MaxSets
	if maxSets <= 0 {
		maxSets = DefaultMaxSets
	}
	if res.Count > maxSets {
		return nil, fmt.Errorf("cut sets of %q: %d minimal cut sets, more than the %d that may be listed: %w (give a lower order limit, or raise MaxSets)", t.Name, res.Count, maxSets, ErrBudget)
	}
	if len(dist) > 1 {
		res.Distribution = dist[1:]
	}
	res.Sets = make([]CutSet, 0, res.Count)
	z.sets(family, func(levels []int32) {
		cs := CutSet{Events: make([]int32, len(levels)), P: 1}
		for i, l := range levels {
			e := p.order[l]
			cs.Events[i] = e
			if t.Events[e].HasP {
				cs.P *= t.Events[e].P
			} else {
				cs.P = 0
			}
		}
		slices.SortFunc(cs.Events, func(a, b int32) int { return strings.Compare(t.Events[a].Name, t.Events[b].Name) })
		res.Sets = append(res.Sets, cs)
	})
	slices.SortFunc(res.Sets, func(a, b CutSet) int {
		if c := cmp.Compare(b.P, a.P); c != 0 {
			return c
		}
		return slices.CompareFunc(a.Events, b.Events, func(x, y int32) int { return strings.Compare(t.Events[x].Name, t.Events[y].Name) })
	})
	return res, nil
}

// DefaultMaxSets is the number of cut sets CutSets lists when no MaxSets
// is given: about 300 MB of sets of order 4.
const DefaultMaxSets = 4 << 20

// autoZBDDOrder is the largest order limit for which Auto builds cut sets
// bottom-up.
const autoZBDDOrder = 5

// runMethod computes the cut-set family of p with one method, and
// returns the BDD it built (nil for ZBDD); z.over reports that the budget
// was exceeded.
func runMethod(p *pdag, m Method, k int32, opts CutSetOptions) (z *zbdd, family int32, b *bdd, root int32) {
	z = newZBDD(newBudget(opts.MaxNodes, opts.Timeout))
	if m == ZBDD {
		return z, z.fromPdag(p, k), nil, 0
	}
	b = newBDD(newBudget(opts.MaxNodes, opts.Timeout))
	root = b.build(p)
	if b.over {
		z.over, z.budget = true, b.budget
		return z, zEmpty, nil, 0
	}
	return z, z.minsol(b, root, k), b, root
}

// fromPdag builds the minimal cut sets of p's top event bottom-up, with at
// most k events per set (k < 0: no limit). Negated events count as true.
func (z *zbdd) fromPdag(p *pdag, k int32) int32 {
	if p.constant {
		if p.value {
			return zBase
		}
		return zEmpty
	}
	vals := make([]int32, len(p.nodes))
	litZ := func(l lit) int32 {
		switch {
		case l.node:
			return vals[l.index]
		case l.neg:
			return zBase
		}
		if k == 0 {
			return zEmpty
		}
		return z.mk(p.level[l.index], zEmpty, zBase)
	}
	for _, i := range p.reachable() {
		nd := &p.nodes[i]
		fs := make([]int32, len(nd.args))
		for j, a := range nd.args {
			fs[j] = litZ(a)
		}
		if nd.op != AtLeast {
			// Deepest top variable first, as in bdd.build: a union or a
			// product then adds above what is built.
			slices.SortStableFunc(fs, func(x, y int32) int { return cmp.Compare(z.nodes[y].level, z.nodes[x].level) })
		}
		var r int32
		switch nd.op {
		case And:
			r = zBase
			for _, f := range fs {
				r = z.minimize(z.product(r, f, k))
			}
		case Or:
			r = zEmpty
			for _, f := range fs {
				r = z.union(r, f)
			}
			r = z.minimize(r)
		default:
			r = z.minimize(z.atLeast(nd.k, fs, k))
		}
		vals[i] = r
		if z.over {
			return zEmpty
		}
	}
	return litZ(p.top)
}

// atLeast is the family of "at least n of fs", sets of at most k events.
func (z *zbdd) atLeast(n int, fs []int32, k int32) int32 {
	row := make([]int32, n+1)
	row[0] = zBase
	for j := 1; j <= n; j++ {
		row[j] = zEmpty
	}
	for i := len(fs) - 1; i >= 0; i-- {
		for j := n; j >= 1; j-- {
			row[j] = z.minimize(z.union(z.product(fs[i], row[j-1], k), row[j]))
		}
	}
	return row[n]
}
