package analysis

import (
	"math/bits"

	"github.com/spofhq/spof/model"
)

// graph is a model compiled to integer indices for fast evaluation.
//
// Components are nodes. Each running-time edge (no when:) of a component is
// an edge here; its targets are To, FallbackTo and AsyncVia. Edges needed
// only at start-up, deploy or recovery are kept apart in phased.
type graph struct {
	m     *model.Model
	n     int // components
	flows int

	edges   [][]edge // running-time edges, per component
	phased  [][]edge // when: edges, per component
	parents [][]int32

	// topo lists components so that every running-time target comes before
	// its dependents; rank is the inverse permutation.
	topo []int32
	rank []int32

	// member[x] is the set of flows whose running closure contains x;
	// needs[x] also follows when: edges (what the flow needs to be restarted).
	member []flowSet
	needs  []flowSet

	// sensitive[x]: x's state can differ from flow to flow because a
	// flows:-scoped edge is reachable from it. Other components have one
	// state for every flow.
	sensitive []bool

	stepOf [][]int32 // flows in which the component is a step

	crit []model.Criticality // per flow
}

// edge is one compiled dependency. Targets are -1 when absent.
type edge struct {
	to, fallbackTo, asyncVia int32
	capped                   bool    // the loss of to degrades at worst (fallback text alone, or async)
	scope                    flowSet // nil: all flows
	src                      *model.Edge
}

// applies reports whether e is in force in context ctx (a flow index, or
// ctxAll for "every edge").
func (e *edge) applies(ctx int) bool {
	return ctx == ctxAll || e.scope == nil || e.scope.has(ctx)
}

// ctxAll is the evaluation context that includes every edge, scoped or not:
// what a component needs to serve any flow.
const ctxAll = -1

// flowSet is a bitset of flow indices.
type flowSet []uint64

func newFlowSet(n int) flowSet { return make(flowSet, (n+63)/64) }

func (s flowSet) has(i int) bool { return s[i/64]&(1<<(uint(i)%64)) != 0 }
func (s flowSet) add(i int)      { s[i/64] |= 1 << (uint(i) % 64) }

// or adds t (masked by scope when scope is not nil) to s and reports change.
func (s flowSet) orMasked(t, scope flowSet) bool {
	changed := false
	for i := range s {
		w := t[i]
		if scope != nil {
			w &= scope[i]
		}
		if s[i]|w != s[i] {
			s[i] |= w
			changed = true
		}
	}
	return changed
}

func (s flowSet) empty() bool {
	for _, w := range s {
		if w != 0 {
			return false
		}
	}
	return true
}

// each calls fn for every flow in s, in increasing order.
func (s flowSet) each(fn func(int)) {
	for i, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			fn(i*64 + b)
			w &^= 1 << uint(b)
		}
	}
}

// compile builds the graph. The model must be valid (Parse checked it): in
// particular its running-time edges have no cycle. Should one slip through,
// the components on it are left out of topo and evaluate as up.
func compile(m *model.Model) *graph {
	n := len(m.Components)
	g := &graph{
		m:       m,
		n:       n,
		flows:   len(m.Flows),
		edges:   make([][]edge, n),
		phased:  make([][]edge, n),
		parents: make([][]int32, n),
		stepOf:  make([][]int32, n),
		crit:    make([]model.Criticality, len(m.Flows)),
	}
	idx := func(name string) int32 {
		if name == "" {
			return -1
		}
		if i, ok := m.ComponentIndex[name]; ok {
			return int32(i)
		}
		return -1
	}
	for f, fl := range m.Flows {
		g.crit[f] = fl.Criticality
		for _, s := range fl.Steps {
			if i := idx(s); i >= 0 {
				g.stepOf[i] = append(g.stepOf[i], int32(f))
			}
		}
	}
	// The edges of every component live in two backing arrays, and the
	// parents in a third, each component's slice a window into them: three
	// allocations instead of several per component, and neighbours close
	// together in memory, which matters once the model outgrows the caches.
	var nRunning, nPhased int
	for _, c := range m.Components {
		for _, me := range c.DependsOn {
			if me.Running() {
				nRunning++
			} else {
				nPhased++
			}
		}
	}
	running := make([]edge, 0, nRunning)
	phased := make([]edge, 0, nPhased)
	nParents := make([]int32, n)
	for x, c := range m.Components {
		r0, p0 := len(running), len(phased)
		for _, me := range c.DependsOn {
			e := edge{
				to:         idx(me.To),
				fallbackTo: idx(me.FallbackTo),
				asyncVia:   idx(me.AsyncVia),
				capped:     (me.Fallback != "" && me.FallbackTo == "") || me.AsyncVia != "",
				src:        me,
			}
			if e.to < 0 {
				continue
			}
			if len(me.Flows) > 0 {
				e.scope = newFlowSet(g.flows)
				for _, f := range me.Flows {
					if i, ok := m.FlowIndex[f]; ok {
						e.scope.add(i)
					}
				}
			}
			if !me.Running() {
				phased = append(phased, e)
				continue
			}
			running = append(running, e)
			for _, t := range e.targets() {
				if t >= 0 {
					nParents[t]++
				}
			}
		}
		// Full slice expressions: appending to one component's edges
		// could never overwrite the next component's.
		g.edges[x] = running[r0:len(running):len(running)]
		g.phased[x] = phased[p0:len(phased):len(phased)]
	}
	// Parents in the order of the edges, as sortTopo and Explain expect.
	var nAll int
	for _, k := range nParents {
		nAll += int(k)
	}
	parents := make([]int32, nAll)
	for t, k := range nParents {
		g.parents[t], parents = parents[:0:k], parents[k:]
	}
	for x := range g.edges {
		for i := range g.edges[x] {
			for _, t := range g.edges[x][i].targets() {
				if t >= 0 {
					g.parents[t] = append(g.parents[t], int32(x))
				}
			}
		}
	}
	g.sortTopo()
	g.computeSensitive()
	g.computeMembership()
	return g
}

// targets returns the running-time targets of e.
func (e *edge) targets() [3]int32 { return [3]int32{e.to, e.fallbackTo, e.asyncVia} }

// sortTopo orders components dependencies-first (Kahn's algorithm).
func (g *graph) sortTopo() {
	pending := make([]int32, g.n) // running targets not yet placed, counted per edge role
	for x := range g.edges {
		for i := range g.edges[x] {
			for _, t := range g.edges[x][i].targets() {
				if t >= 0 {
					pending[x]++
				}
			}
		}
	}
	g.topo = make([]int32, 0, g.n)
	for x := 0; x < g.n; x++ {
		if pending[x] == 0 {
			g.topo = append(g.topo, int32(x))
		}
	}
	for i := 0; i < len(g.topo); i++ {
		t := g.topo[i]
		for _, p := range g.parents[t] {
			pending[p]--
			if pending[p] == 0 {
				g.topo = append(g.topo, p)
			}
		}
	}
	g.rank = make([]int32, g.n)
	for i := range g.rank {
		g.rank[i] = -1
	}
	for i, x := range g.topo {
		g.rank[x] = int32(i)
	}
}

func (g *graph) computeSensitive() {
	g.sensitive = make([]bool, g.n)
	for _, x := range g.topo {
		for i := range g.edges[x] {
			e := &g.edges[x][i]
			if e.scope != nil {
				g.sensitive[x] = true
				break
			}
			for _, t := range e.targets() {
				if t >= 0 && g.sensitive[t] {
					g.sensitive[x] = true
				}
			}
		}
	}
}

// computeMembership fills member and needs by walking dependents before
// their dependencies. needs follows when: edges too, which may close cycles,
// so it iterates to a fixed point over a worklist.
func (g *graph) computeMembership() {
	g.member = make([]flowSet, g.n)
	g.needs = make([]flowSet, g.n)
	words := (g.flows + 63) / 64
	backing := make([]uint64, 2*g.n*words)
	for x := 0; x < g.n; x++ {
		g.member[x] = backing[:words:words]
		backing = backing[words:]
		g.needs[x] = backing[:words:words]
		backing = backing[words:]
		for _, f := range g.stepOf[x] {
			g.member[x].add(int(f))
		}
	}
	for i := len(g.topo) - 1; i >= 0; i-- {
		x := g.topo[i]
		for j := range g.edges[x] {
			e := &g.edges[x][j]
			for _, t := range e.targets() {
				if t >= 0 {
					g.member[t].orMasked(g.member[x], e.scope)
				}
			}
		}
	}
	// needs: start from member, then propagate through every edge.
	queue := make([]int32, 0, g.n)
	queued := make([]bool, g.n)
	for x := 0; x < g.n; x++ {
		copy(g.needs[x], g.member[x])
		if !g.needs[x].empty() {
			queue = append(queue, int32(x))
			queued[x] = true
		}
	}
	for len(queue) > 0 {
		x := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		queued[x] = false
		for _, es := range [2][]edge{g.edges[x], g.phased[x]} {
			for j := range es {
				e := &es[j]
				for _, t := range e.targets() {
					if t >= 0 && g.needs[t].orMasked(g.needs[x], e.scope) && !queued[t] {
						queued[t] = true
						queue = append(queue, t)
					}
				}
			}
		}
	}
}

// flowNames returns the names of the flows in s, sorted.
func (g *graph) flowNames(s flowSet) []string {
	var out []string
	s.each(func(f int) { out = append(out, g.m.Flows[f].Name) })
	sortStrings(out)
	return out
}
