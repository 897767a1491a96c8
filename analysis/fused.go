package analysis

import (
	"slices"

	"github.com/spofhq/spof/model"
)

// A long dependency chain makes the order-1 analysis quadratic if each
// event is propagated on its own: every event on the chain takes down
// everything above it. Check shares that work along fused paths.
//
// Component x is fused to its parent p when p is the only component that
// needs x at run time, through a hard edge in force for every flow, and x
// is no flow's step, no when: edge's target and not the CI or monitoring
// the checklist asks about. Then x down means p down, and nothing else: an
// event that takes down x alone does what "p down" does, plus x. Following
// the fused parents from x leads to a head h that is not fused; h is
// propagated once, and every event below it on its fused tree reuses the
// result, its chain being h's chain followed by the path from h down to x.
// The path is never walked in full: the chain shows at most maxHops hops,
// which are found from the ends (up from x, and down from h through
// near[x]).

// fusion is the fused forest of a graph.
type fusion struct {
	parent []int32 // the fused parent, -1 when not fused
	head   []int32 // the head of the node's fused tree (itself when not fused)
	depth  []int32 // hops from the head down to the node
	// near[x] is the node of x's path at depth min(depth[x], maxHops/2+1),
	// from which the hops near the head are found.
	near []int32
}

func (a *analyzer) computeFusion() {
	g := a.g
	fu := &fusion{
		parent: make([]int32, g.n),
		head:   make([]int32, g.n),
		depth:  make([]int32, g.n),
		near:   make([]int32, g.n),
	}
	for x := range fu.parent {
		fu.parent[x] = -1
		if len(g.parents[x]) != 1 || len(g.stepOf[x]) > 0 || len(a.phasedBy[x]) > 0 {
			continue
		}
		if k := a.m.Components[x].Kind; k == model.KindCI || k == model.KindMonitoring {
			continue
		}
		p := g.parents[x][0]
		for i := range g.edges[p] {
			e := &g.edges[p][i]
			if e.to == int32(x) && e.fallbackTo < 0 && e.asyncVia < 0 && !e.capped && e.scope == nil {
				fu.parent[x] = p
			}
		}
	}
	// Dependents come after their dependencies in topo: walk it backwards
	// so that a node's parent is done before it.
	const nearDepth = maxHops/2 + 1
	for i := len(g.topo) - 1; i >= 0; i-- {
		x := g.topo[i]
		p := fu.parent[x]
		if p < 0 {
			fu.head[x], fu.depth[x], fu.near[x] = x, 0, x
			continue
		}
		fu.head[x], fu.depth[x] = fu.head[p], fu.depth[p]+1
		if fu.depth[x] <= nearDepth {
			fu.near[x] = x
		} else {
			fu.near[x] = fu.near[p]
		}
	}
	a.fu = fu
}

// pathNode returns the node at depth d on the fused path from the head
// down to x. It is only asked for depths near either end (see fusedPath).
func (fu *fusion) pathNode(x int32, d int32) int32 {
	from := x
	if fu.depth[x]-d > maxHops/2+1 {
		from = fu.near[x]
	}
	for fu.depth[from] > d {
		from = fu.parent[from]
	}
	return from
}

// fusedPath is the path below a head in one event's chain: hops from the
// head h down to x, never materialised.
type fusedPath struct {
	fu *fusion
	g  *graph
	x  int32
}

func (fp *fusedPath) len() int { return int(fp.fu.depth[fp.x]) }

// at returns the hop from the node at depth d to the one at depth d+1.
func (fp *fusedPath) at(d int) hop {
	from := fp.fu.pathNode(fp.x, int32(d))
	to := fp.fu.pathNode(fp.x, int32(d+1))
	for i := range fp.g.edges[from] {
		if e := &fp.g.edges[from][i]; e.to == to {
			return hop{from: from, to: to, e: e, result: Down}
		}
	}
	panic("analysis: fused path without its edge") // compile guarantees the edge
}

// hopChain is a chain of hops, start first: the hops traced in an
// evaluation, then those of a fused path (nil for most events).
type hopChain struct {
	traced []hop
	path   *fusedPath
}

func (c hopChain) len() int {
	n := len(c.traced)
	if c.path != nil {
		n += c.path.len()
	}
	return n
}

func (c hopChain) at(i int) hop {
	if i < len(c.traced) {
		return c.traced[i]
	}
	return c.path.at(i - len(c.traced))
}

// last returns the hop nearest the root, if any.
func (c hopChain) last() (hop, bool) {
	if n := c.len(); n > 0 {
		return c.at(n - 1), true
	}
	return hop{}, false
}

// fusedEvent is an event that takes down one fused component, x.
type fusedEvent struct {
	e Event
	x int32
}

// evaluateFused evaluates the events below head h: h's propagation once,
// then one finding per event, in the order of evs.
func (a *analyzer) evaluateFused(h int32, evs []fusedEvent) []Finding {
	a.p.run([]int32{h}, nil)
	v := a.p
	eff := a.effect(v, v.changed)
	if len(eff.down) == 0 && len(eff.degraded) == 0 && eff.recovery == nil {
		return nil
	}
	count := len(v.changed)
	headNames := a.sortedNames(v.changed)
	special := a.specialsIn(v.changed)
	// The capped names of each node's blast radius: its parent's with its
	// own name inserted. Parents come first in topological order.
	nodes := a.fusedTree(h)
	names := make(map[int32][]string, len(nodes))
	names[h] = headNames
	for _, x := range nodes[1:] {
		names[x] = insertCapped(names[a.fu.parent[x]], a.m.Components[x].Name)
	}
	out := make([]Finding, 0, len(evs))
	var cache *tracedHead
	for _, fe := range evs {
		blast := blastRadius{names: names[fe.x], count: count + int(a.fu.depth[fe.x])}
		c := a.m.Components[fe.x]
		reason := func(int32) string { return downReason(a.m, fe.e, c) }
		fp := &fusedPath{fu: a.fu, g: a.g, x: fe.x}
		a.fusedRoot = fusedRoot{head: h, x: fe.x}
		f, ok := a.finding(fe.e, eff, v, blast, reason, fp, &cache)
		a.fusedRoot = fusedRoot{head: -1, x: -1}
		if ok {
			if f.Category == CategorySPOF && (fe.e.Kind == EventZone || fe.e.Kind == EventRegion) {
				f.Fix = a.domainFix(fe.e, []int32{fe.x})
			}
			a.special[f.Event] = special
			out = append(out, f)
		}
	}
	return out
}

// fusedRoot, while a fused event is rendered, maps the head (down by
// itself in the evaluation) to the component the event takes down.
type fusedRoot struct{ head, x int32 }

func (r fusedRoot) of(root int32) int32 {
	if root == r.head && r.x >= 0 {
		return r.x
	}
	return root
}

// fusedChildren computes fuChildren, once.
func (a *analyzer) fusedChildren() {
	if a.fuChildren != nil {
		return
	}
	a.fuChildren = make([][]int32, a.g.n)
	for x, p := range a.fu.parent {
		if p >= 0 {
			a.fuChildren[p] = append(a.fuChildren[p], int32(x))
		}
	}
}

// fusedTree lists h and every node fused below it, parents first.
func (a *analyzer) fusedTree(h int32) []int32 {
	a.fusedChildren()
	out := []int32{h}
	for i := 0; i < len(out); i++ {
		out = append(out, a.fuChildren[out[i]]...)
	}
	return out
}

// insertCapped returns names (sorted, at most MaxComponents) with name
// inserted, capped again. It shares names when name falls past the cap.
func insertCapped(names []string, name string) []string {
	i, _ := slices.BinarySearch(names, name)
	if i >= MaxComponents {
		return names
	}
	out := make([]string, 0, min(len(names)+1, MaxComponents))
	out = append(out, names[:i]...)
	out = append(out, name)
	out = append(out, names[i:min(len(names), MaxComponents-1)]...)
	return out[:len(out):len(out)]
}
