package analysis

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"

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
	nEdges  int      // running-time edges in all
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
	steps  [][]int32 // per flow, its steps

	crit []model.Criticality // per flow

	comp   map[string]int32 // component name → index
	flowIx map[string]int   // flow name → index
}

// edge is one compiled dependency. Targets are -1 when absent.
type edge struct {
	from, to, fallbackTo, asyncVia int32
	id                             int32   // position among all running edges (propagator.trips)
	capped                         bool    // the loss of to degrades at worst (fallback text alone, or async)
	scope                          flowSet // nil: all flows
	src                            *model.Edge
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

// compile builds the graph, resolving every name itself: a model built in
// Go needs no index. It refuses what it cannot evaluate soundly (names that
// resolve to nothing, values out of range, a cycle of running-time edges)
// with an error wrapping ErrInvalidModel, rather than leave a dependency
// out and report a system cleaner than it is.
func compile(m *model.Model) (*graph, error) {
	n := len(m.Components)
	g := &graph{
		m:       m,
		n:       n,
		flows:   len(m.Flows),
		edges:   make([][]edge, n),
		phased:  make([][]edge, n),
		parents: make([][]int32, n),
		stepOf:  make([][]int32, n),
		steps:   make([][]int32, len(m.Flows)),
		crit:    make([]model.Criticality, len(m.Flows)),
		comp:    make(map[string]int32, n),
		flowIx:  make(map[string]int, len(m.Flows)),
	}
	var bad problems
	g.resolveNames(&bad)
	idx := func(name string) int32 {
		if name == "" {
			return -1
		}
		if i, ok := g.comp[name]; ok {
			return i
		}
		return -1
	}
	for f, fl := range m.Flows {
		g.crit[f] = fl.Criticality
		if len(fl.Steps) == 0 {
			bad.add("flows.%s: no steps (a flow passes through at least one component)", fl.Name)
		}
		for i, s := range fl.Steps {
			if x := idx(s); x >= 0 {
				g.stepOf[x] = append(g.stepOf[x], int32(f))
				g.steps[f] = append(g.steps[f], x)
			} else {
				bad.unknown(fmt.Sprintf("flows.%s: steps[%d]", fl.Name, i), "component", s, g.componentNames())
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
			if me == nil {
				continue
			}
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
		for k, me := range c.DependsOn {
			at := func() string { return fmt.Sprintf("components.%s: depends_on[%d]", c.Name, k) }
			if me == nil {
				bad.add("%s: nil edge", at())
				continue
			}
			e := edge{
				from:       int32(x),
				to:         idx(me.To),
				fallbackTo: idx(me.FallbackTo),
				asyncVia:   idx(me.AsyncVia),
				capped:     (me.Fallback != "" && me.FallbackTo == "") || me.AsyncVia != "",
				src:        me,
			}
			ok := e.to >= 0 && (me.FallbackTo == "") == (e.fallbackTo < 0) && (me.AsyncVia == "") == (e.asyncVia < 0)
			if !ok {
				for _, t := range []struct{ what, name string }{{"", me.To}, {"fallback_to", me.FallbackTo}, {"async_via", me.AsyncVia}} {
					where := at()
					if t.what != "" {
						where += ": " + t.what
					}
					switch {
					case t.what == "" && t.name == "":
						bad.add("%s: the edge names no component (To is empty)", where)
					case t.name != "" && idx(t.name) < 0:
						bad.unknown(where, "component", t.name, g.componentNames())
					}
				}
			}
			if !me.Running() && !slices.Contains(model.Whens, me.When) {
				bad.add("%s: when: %q is not one of startup, deploy, recovery", at(), me.When)
				ok = false
			}
			if len(me.Flows) > 0 {
				e.scope = newFlowSet(g.flows)
				for i, f := range me.Flows {
					if fi, found := g.flowIx[f]; found {
						e.scope.add(fi)
					} else {
						bad.unknown(fmt.Sprintf("%s: flows[%d]", at(), i), "flow", f, g.flowNames0())
						ok = false
					}
				}
			}
			if !ok {
				continue
			}
			if !me.Running() {
				phased = append(phased, e)
				continue
			}
			e.id = int32(len(running))
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
	if err := bad.err(); err != nil {
		return nil, err
	}
	g.nEdges = len(running)
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
	if len(g.topo) < g.n {
		return nil, fmt.Errorf("%w: running-time dependencies form a cycle: %s (a component cannot need itself to run; mark one edge when: startup, deploy or recovery)", ErrInvalidModel, g.cycle())
	}
	g.computeSensitive()
	g.computeMembership()
	return g, nil
}

// resolveNames fills the name maps and checks the names and values that
// do not depend on edges: duplicates, zones, hazards, people, replicas.
func (g *graph) resolveNames(bad *problems) {
	m := g.m
	zones := map[string]bool{}
	for i, z := range m.Zones {
		if z == nil || z.Name == "" || zones[z.Name] {
			bad.add("zones[%d]: missing or duplicate name", i)
			continue
		}
		zones[z.Name] = true
	}
	for i, c := range m.Components {
		if c == nil || c.Name == "" {
			bad.add("components[%d]: missing name", i)
			continue
		}
		if _, dup := g.comp[c.Name]; dup {
			bad.add("components.%s: declared twice", c.Name)
			continue
		}
		g.comp[c.Name] = int32(i)
	}
	if bad.n > 0 {
		return // nil components: the checks below would dereference them
	}
	for i, f := range m.Flows {
		if f == nil || f.Name == "" {
			bad.add("flows[%d]: missing name", i)
			continue
		}
		if _, dup := g.flowIx[f.Name]; dup {
			bad.add("flows.%s: declared twice", f.Name)
			continue
		}
		g.flowIx[f.Name] = i
	}
	for _, c := range m.Components {
		at := "components." + c.Name
		if !slices.Contains(model.Kinds, c.Kind) {
			bad.add("%s: kind %q is not a component kind", at, c.Kind)
		}
		if c.Replicas < 1 || c.MinHealthy < 1 || c.MinHealthy > c.Replicas {
			bad.add("%s: replicas %d, min_healthy %d: want 1 ≤ min_healthy ≤ replicas (a single instance is replicas 1, min_healthy 1)", at, c.Replicas, c.MinHealthy)
		}
		if c.Failover != "" && !slices.Contains(model.Failovers, c.Failover) {
			bad.add("%s: failover %q is not automatic, manual or none", at, c.Failover)
		}
		for i, z := range c.Zones {
			if !zones[z] {
				bad.unknown(fmt.Sprintf("%s: zones[%d]", at, i), "zone", z, zoneNames(m))
			}
		}
	}
	for _, h := range m.Hazards {
		if h == nil {
			bad.add("hazards: nil hazard")
			continue
		}
		for i, b := range h.Breaks {
			if _, ok := g.comp[b]; !ok {
				bad.unknown(fmt.Sprintf("hazards.%s: breaks[%d]", h.Name, i), "component", b, g.componentNames())
			}
		}
	}
	for _, p := range m.People {
		if p == nil {
			bad.add("people: nil person")
			continue
		}
		for i, k := range p.Knows {
			if _, ok := g.comp[k]; !ok {
				bad.unknown(fmt.Sprintf("people.%s: knows[%d]", p.Name, i), "component", k, g.componentNames())
			}
		}
	}
}

// cycle names one cycle among the components sortTopo could not place.
func (g *graph) cycle() string {
	x := int32(-1)
	for i, r := range g.rank {
		if r < 0 {
			x = int32(i)
			break
		}
	}
	// Every unplaced component has an unplaced target: walk until a
	// component repeats.
	at := map[int32]int{}
	var path []int32
	for {
		if i, seen := at[x]; seen {
			path = append(path[i:], x)
			break
		}
		at[x] = len(path)
		path = append(path, x)
		next := int32(-1)
		for i := range g.edges[x] {
			for _, t := range g.edges[x][i].targets() {
				if t >= 0 && g.rank[t] < 0 {
					next = t
					break
				}
			}
			if next >= 0 {
				break
			}
		}
		x = next
	}
	names := make([]string, len(path))
	for i, y := range path {
		names[i] = g.m.Components[y].Name
	}
	return strings.Join(names, " → ")
}

func (g *graph) componentNames() []string {
	names := make([]string, len(g.m.Components))
	for i, c := range g.m.Components {
		names[i] = c.Name
	}
	return names
}

func (g *graph) flowNames0() []string {
	names := make([]string, len(g.m.Flows))
	for i, f := range g.m.Flows {
		names[i] = f.Name
	}
	return names
}

func zoneNames(m *model.Model) []string {
	names := make([]string, len(m.Zones))
	for i, z := range m.Zones {
		names[i] = z.Name
	}
	return names
}

// ErrInvalidModel is wrapped by the errors of every function of this
// package given a model it cannot evaluate soundly: a name that resolves
// to nothing, a value out of range, a cycle of running-time dependencies.
// Parse refuses all of these, so it concerns models built in Go.
var ErrInvalidModel = errors.New("invalid model")

// problems collects what is wrong with a model; err reports the first
// ones.
type problems struct {
	first []string
	n     int
}

func (p *problems) add(format string, args ...any) {
	p.n++
	if len(p.first) < 5 {
		p.first = append(p.first, fmt.Sprintf(format, args...))
	}
}

// unknown records a name that resolves to nothing, with a hint.
func (p *problems) unknown(at, kind, name string, names []string) {
	msg := fmt.Sprintf("%s: no %s named %q", at, kind, name)
	if s := model.Closest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	p.add("%s", msg)
}

func (p *problems) err() error {
	if p.n == 0 {
		return nil
	}
	msg := strings.Join(p.first, "; ")
	if more := p.n - len(p.first); more > 0 {
		msg += fmt.Sprintf("; and %d more", more)
	}
	return fmt.Errorf("%w: %s", ErrInvalidModel, msg)
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
