package faulttree

import (
	"cmp"
	"slices"
)

// A reduced ordered BDD without complement edges: node 0 is false, node 1
// is true; every other node is (level, low, high) with low != high, and
// levels increase along every path. One operation, if-then-else, builds
// everything (and, or, not, atleast). The unique table is open addressing
// over node ids (unique.go); the computed table is a direct-mapped, lossy
// cache that grows with the node table up to 4M entries, so its memory is
// bounded whatever the tree.

const (
	bddFalse int32 = 0
	bddTrue  int32 = 1
)

type bddNode struct {
	level   int32 // terminals: maxLevel
	low, hi int32
}

type iteEntry struct {
	f, g, h, r int32
}

type bdd struct {
	nodes  []bddNode
	unique uniqueTable
	cache  []iteEntry
	budget
	over bool // the node budget was exceeded: results are meaningless
}

const terminalLevel = int32(1<<31 - 1)

func newBDD(g budget) *bdd {
	b := &bdd{
		nodes:  []bddNode{{level: terminalLevel}, {level: terminalLevel}},
		unique: newUniqueTable(),
		cache:  make([]iteEntry, 1<<16),
		budget: g,
	}
	return b
}

func (b *bdd) mk(level, low, hi int32) int32 {
	if low == hi {
		return low
	}
	n := bddNode{level, low, hi}
	if b.expired() {
		b.over = true
		return bddFalse
	}
	slot := b.unique.find(b.nodes, n)
	if slot >= 0 {
		return slot
	}
	if len(b.nodes) >= b.maxNodes {
		b.over = true
		return bddFalse
	}
	id := int32(len(b.nodes))
	b.nodes = append(b.nodes, n)
	b.unique.insert(b.nodes, slot, id)
	// Keep the cache about as large as the node table (up to 4M entries).
	if len(b.nodes) > len(b.cache) && len(b.cache) < 1<<22 {
		b.cache = make([]iteEntry, 2*len(b.cache))
	}
	return id
}

func (b *bdd) variable(level int32) int32 { return b.mk(level, bddFalse, bddTrue) }

func hash3(a, c, d int32) uint32 {
	h := uint32(a)*0x9E3779B1 ^ uint32(c)*0x85EBCA77 ^ uint32(d)*0xC2B2AE3D
	return h ^ h>>15
}

// ite computes if f then g else h.
func (b *bdd) ite(f, g, h int32) int32 {
	switch {
	case b.over:
		return bddFalse
	case f == bddTrue:
		return g
	case f == bddFalse:
		return h
	case g == h:
		return g
	case g == bddTrue && h == bddFalse:
		return f
	}
	slot := &b.cache[hash3(f, g, h)&uint32(len(b.cache)-1)]
	// f is never 0 here, so an empty slot never matches.
	if slot.f == f && slot.g == g && slot.h == h {
		return slot.r
	}
	top := b.nodes[f].level
	top = min(top, b.nodes[g].level, b.nodes[h].level)
	f0, f1 := b.cofactors(f, top)
	g0, g1 := b.cofactors(g, top)
	h0, h1 := b.cofactors(h, top)
	hi := b.ite(f1, g1, h1)
	low := b.ite(f0, g0, h0)
	r := b.mk(top, low, hi)
	// The cache may have been replaced by mk: index it again.
	b.cache[hash3(f, g, h)&uint32(len(b.cache)-1)] = iteEntry{f, g, h, r}
	return r
}

func (b *bdd) cofactors(f, level int32) (low, hi int32) {
	n := b.nodes[f]
	if n.level != level {
		return f, f
	}
	return n.low, n.hi
}

func (b *bdd) and(f, g int32) int32 { return b.ite(f, g, bddFalse) }
func (b *bdd) or(f, g int32) int32  { return b.ite(f, bddTrue, g) }

// atLeast builds "at least k of fs" by the recurrence
// T(i, k) = ite(fs[i], T(i+1, k-1), T(i+1, k)).
func (b *bdd) atLeast(k int, fs []int32) int32 {
	// row[j] = T(i, j) for the current i, j = 0..k.
	row := make([]int32, k+1)
	row[0] = bddTrue
	for j := 1; j <= k; j++ {
		row[j] = bddFalse
	}
	for i := len(fs) - 1; i >= 0; i-- {
		for j := k; j >= 1; j-- {
			row[j] = b.ite(fs[i], row[j-1], row[j])
		}
	}
	return row[k]
}

// build makes the BDD of the pdag's top event.
func (b *bdd) build(p *pdag) int32 {
	if p.constant {
		if p.value {
			return bddTrue
		}
		return bddFalse
	}
	vals := make([]int32, len(p.nodes))
	litBDD := func(l lit) int32 {
		if l.node {
			return vals[l.index]
		}
		if l.neg {
			return b.mk(p.level[l.index], bddTrue, bddFalse)
		}
		return b.variable(p.level[l.index])
	}
	for _, i := range p.reachable() {
		nd := &p.nodes[i]
		fs := make([]int32, len(nd.args))
		for j, a := range nd.args {
			fs[j] = litBDD(a)
		}
		if nd.op != AtLeast {
			// Fold from the deepest top variable up: each step then
			// puts a node above what is built, instead of rebuilding it
			// (an or of n events costs n nodes, not n²/2).
			slices.SortStableFunc(fs, func(x, y int32) int { return cmp.Compare(b.nodes[y].level, b.nodes[x].level) })
		}
		var r int32
		switch nd.op {
		case And:
			r = bddTrue
			for _, f := range fs {
				r = b.and(r, f)
			}
		case Or:
			r = bddFalse
			for _, f := range fs {
				r = b.or(r, f)
			}
		default:
			r = b.atLeast(nd.k, fs)
		}
		vals[i] = r
		if b.over {
			return bddFalse
		}
	}
	return litBDD(p.top)
}

// probabilities returns P(node) for every node reachable from root, given
// p[level].
func (b *bdd) probabilities(root int32, p []float64) []float64 {
	prob := make([]float64, len(b.nodes))
	done := make([]bool, len(b.nodes))
	prob[bddTrue], done[bddTrue], done[bddFalse] = 1, true, true
	var visit func(n int32) float64
	visit = func(n int32) float64 {
		if done[n] {
			return prob[n]
		}
		nd := b.nodes[n]
		q := p[nd.level]
		prob[n] = q*visit(nd.hi) + (1-q)*visit(nd.low)
		done[n] = true
		return prob[n]
	}
	visit(root)
	return prob
}

// birnbaum returns dP(root)/dp[level] for every level: the sum over the
// nodes of that level of (probability of reaching the node) × (P(high) −
// P(low)). A path that skips a level does not depend on it. present
// reports the levels the function depends on (some node has them).
func (b *bdd) birnbaum(root int32, p []float64, prob []float64) (out []float64, present []bool) {
	out = make([]float64, len(p))
	present = make([]bool, len(p))
	if root <= bddTrue {
		return out, present
	}
	// Reachable nodes in order of level (parents before children). Node
	// ids are indexes: slices, not maps, keep the pass linear and cheap on
	// a BDD of millions of nodes.
	seen := make([]bool, len(b.nodes))
	var nodes []int32
	stack := []int32{root}
	seen[root] = true
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nodes = append(nodes, n)
		for _, c := range [2]int32{b.nodes[n].low, b.nodes[n].hi} {
			if c > bddTrue && !seen[c] {
				seen[c] = true
				stack = append(stack, c)
			}
		}
	}
	slices.SortFunc(nodes, func(x, y int32) int { return cmp.Compare(b.nodes[x].level, b.nodes[y].level) })
	reach := make([]float64, len(b.nodes))
	reach[root] = 1
	for _, n := range nodes {
		nd := b.nodes[n]
		r := reach[n]
		q := p[nd.level]
		out[nd.level] += r * (prob[nd.hi] - prob[nd.low])
		present[nd.level] = true
		if nd.hi > bddTrue {
			reach[nd.hi] += r * q
		}
		if nd.low > bddTrue {
			reach[nd.low] += r * (1 - q)
		}
	}
	return out, present
}
