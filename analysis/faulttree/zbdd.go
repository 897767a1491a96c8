package faulttree

// A ZBDD (zero-suppressed BDD) is a family of sets of events: node 0 is
// the empty family, node 1 is the family holding only the empty set; a
// node (level, low, hi) is low ∪ {s ∪ {level} : s ∈ hi}, and nodes whose
// hi is 0 are never made. Cut sets live here: the operations are union,
// product with an order cut-off (sets longer than k are dropped as they
// are formed, so a bounded order never builds the full family), "without"
// (Rauzy: the sets of f that contain no set of g), minimisation, and
// minsol, which turns a BDD into the ZBDD of its minimal solutions.

const (
	zEmpty int32 = 0 // no sets
	zBase  int32 = 1 // {∅}
)

type zop uint8

const (
	zopUnion zop = iota + 1
	zopProduct
	zopWithout
	zopMinimize
	zopMinsol
	zopTrunc
)

type zEntry struct {
	op      zop
	a, b, k int32
	r       int32
}

type zbdd struct {
	nodes  []bddNode
	unique uniqueTable
	cache  []zEntry
	budget
	over bool
}

func newZBDD(g budget) *zbdd {
	return &zbdd{
		nodes:  []bddNode{{level: terminalLevel}, {level: terminalLevel}},
		unique: newUniqueTable(),
		cache:  make([]zEntry, 1<<16),
		budget: g,
	}
}

func (z *zbdd) mk(level, low, hi int32) int32 {
	if hi == zEmpty {
		return low
	}
	n := bddNode{level, low, hi}
	if z.expired() {
		z.over = true
		return zEmpty
	}
	slot := z.unique.find(z.nodes, n)
	if slot >= 0 {
		return slot
	}
	if len(z.nodes) >= z.maxNodes {
		z.over = true
		return zEmpty
	}
	id := int32(len(z.nodes))
	z.nodes = append(z.nodes, n)
	z.unique.insert(z.nodes, slot, id)
	if len(z.nodes) > len(z.cache) && len(z.cache) < 1<<22 {
		z.cache = make([]zEntry, 2*len(z.cache))
	}
	return id
}

func (z *zbdd) lookup(op zop, a, b, k int32) (int32, bool) {
	e := &z.cache[(hash3(a, b, k)^uint32(op)*0x27D4EB2F)&uint32(len(z.cache)-1)]
	if e.op == op && e.a == a && e.b == b && e.k == k {
		return e.r, true
	}
	return 0, false
}

func (z *zbdd) store(op zop, a, b, k, r int32) {
	z.cache[(hash3(a, b, k)^uint32(op)*0x27D4EB2F)&uint32(len(z.cache)-1)] = zEntry{op, a, b, k, r}
}

func (z *zbdd) level(f int32) int32 { return z.nodes[f].level }

// hasEmpty reports whether the empty set is in f.
func (z *zbdd) hasEmpty(f int32) bool {
	for f > zBase {
		f = z.nodes[f].low
	}
	return f == zBase
}

func (z *zbdd) union(f, g int32) int32 {
	switch {
	case z.over:
		return zEmpty
	case f == zEmpty || f == g:
		return g
	case g == zEmpty:
		return f
	}
	if f > g {
		f, g = g, f
	}
	if r, ok := z.lookup(zopUnion, f, g, 0); ok {
		return r
	}
	var r int32
	fl, gl := z.level(f), z.level(g)
	switch {
	case fl < gl:
		r = z.mk(fl, z.union(z.nodes[f].low, g), z.nodes[f].hi)
	case fl > gl:
		r = z.mk(gl, z.union(f, z.nodes[g].low), z.nodes[g].hi)
	default:
		r = z.mk(fl, z.union(z.nodes[f].low, z.nodes[g].low), z.union(z.nodes[f].hi, z.nodes[g].hi))
	}
	z.store(zopUnion, f, g, 0, r)
	return r
}

// trunc keeps the sets of f with at most k elements.
func (z *zbdd) trunc(f, k int32) int32 {
	switch {
	case z.over || f == zEmpty:
		return zEmpty
	case f == zBase || k < 0:
		return f
	case k == 0:
		if z.hasEmpty(f) {
			return zBase
		}
		return zEmpty
	}
	if r, ok := z.lookup(zopTrunc, f, 0, k); ok {
		return r
	}
	n := z.nodes[f]
	r := z.mk(n.level, z.trunc(n.low, k), z.trunc(n.hi, k-1))
	z.store(zopTrunc, f, 0, k, r)
	return r
}

// product is {s ∪ t : s ∈ f, t ∈ g, |s ∪ t| ≤ k}; k < 0 means no limit.
func (z *zbdd) product(f, g, k int32) int32 {
	switch {
	case z.over || f == zEmpty || g == zEmpty:
		return zEmpty
	case f == zBase:
		return z.trunc(g, k)
	case g == zBase:
		return z.trunc(f, k)
	case k == 0:
		if z.hasEmpty(f) && z.hasEmpty(g) {
			return zBase
		}
		return zEmpty
	}
	if f > g {
		f, g = g, f
	}
	if r, ok := z.lookup(zopProduct, f, g, k); ok {
		return r
	}
	fl, gl := z.level(f), z.level(g)
	if fl > gl {
		f, g, fl, gl = g, f, gl, fl
	}
	fn := z.nodes[f]
	var r int32
	if fl < gl {
		r = z.mk(fl, z.product(fn.low, g, k), z.product(fn.hi, g, less(k)))
	} else {
		gn := z.nodes[g]
		hi := z.union(z.product(fn.hi, gn.hi, less(k)),
			z.union(z.product(fn.hi, gn.low, less(k)), z.product(fn.low, gn.hi, less(k))))
		r = z.mk(fl, z.product(fn.low, gn.low, k), hi)
	}
	z.store(zopProduct, f, g, k, r)
	return r
}

// without is the sets of f that contain no set of g.
func (z *zbdd) without(f, g int32) int32 {
	switch {
	case z.over || f == zEmpty || f == g:
		return zEmpty
	case g == zEmpty:
		return f
	case g == zBase:
		return zEmpty // ∅ is a subset of everything
	case f == zBase:
		if z.hasEmpty(g) {
			return zEmpty
		}
		return zBase
	}
	if r, ok := z.lookup(zopWithout, f, g, 0); ok {
		return r
	}
	fl, gl := z.level(f), z.level(g)
	fn, gn := z.nodes[f], z.nodes[g]
	var r int32
	switch {
	case fl < gl:
		r = z.mk(fl, z.without(fn.low, g), z.without(fn.hi, g))
	case fl > gl:
		// No set of f holds g's top event: g's sets that do are irrelevant.
		r = z.without(f, gn.low)
	default:
		r = z.mk(fl, z.without(fn.low, gn.low), z.without(z.without(fn.hi, gn.hi), gn.low))
	}
	z.store(zopWithout, f, g, 0, r)
	return r
}

// minimize keeps the minimal sets of f (those containing no other set).
func (z *zbdd) minimize(f int32) int32 {
	if z.over || f <= zBase {
		return f
	}
	if r, ok := z.lookup(zopMinimize, f, 0, 0); ok {
		return r
	}
	n := z.nodes[f]
	low := z.minimize(n.low)
	r := z.mk(n.level, low, z.without(z.minimize(n.hi), low))
	z.store(zopMinimize, f, 0, 0, r)
	return r
}

// minsol is the family of minimal solutions of the BDD node f with at most
// k elements (k < 0: no limit): the minimal sets of events that, true
// with every other event false, make f true. BDD levels are ZBDD levels.
func (z *zbdd) minsol(b *bdd, f, k int32) int32 {
	switch {
	case z.over || f == bddFalse:
		return zEmpty
	case f == bddTrue:
		return zBase
	case k == 0:
		for f > bddTrue {
			f = b.nodes[f].low
		}
		if f == bddTrue {
			return zBase
		}
		return zEmpty
	}
	if r, ok := z.lookup(zopMinsol, f, 0, k); ok {
		return r
	}
	n := b.nodes[f]
	low := z.minsol(b, n.low, k)
	r := z.mk(n.level, low, z.without(z.minsol(b, n.hi, less(k)), low))
	z.store(zopMinsol, f, 0, k, r)
	return r
}

// count returns the number of sets in f and, in dist[i], the number of
// sets with i elements.
func (z *zbdd) count(f int32) (total int, dist []int) {
	// memo[node] = sets by size, for nodes reachable from f.
	memo := map[int32][]int{}
	var visit func(f int32) []int
	visit = func(f int32) []int {
		switch f {
		case zEmpty:
			return nil
		case zBase:
			return []int{1}
		}
		if d, ok := memo[f]; ok {
			return d
		}
		n := z.nodes[f]
		low, hi := visit(n.low), visit(n.hi)
		d := make([]int, max(len(low), len(hi)+1))
		copy(d, low)
		for i, c := range hi {
			d[i+1] += c
		}
		memo[f] = d
		return d
	}
	dist = visit(f)
	for _, c := range dist {
		total += c
	}
	return total, dist
}

// sets calls yield with every set of f (levels in increasing order); the
// slice is reused between calls.
func (z *zbdd) sets(f int32, yield func([]int32)) {
	var cur []int32
	var visit func(f int32)
	visit = func(f int32) {
		switch f {
		case zEmpty:
			return
		case zBase:
			yield(cur)
			return
		}
		n := z.nodes[f]
		visit(n.low)
		cur = append(cur, n.level)
		visit(n.hi)
		cur = cur[:len(cur)-1]
	}
	visit(f)
}

// less is the order budget left after taking one more event (k < 0: no
// limit stays no limit).
func less(k int32) int32 {
	if k < 0 {
		return k
	}
	return k - 1
}
