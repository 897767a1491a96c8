package analysis

// stateView gives the state of each component in an evaluation context
// (a flow index, or ctxAll), whether it is down by itself, and whether an
// edge is tripped: a call that gives up (a circuit breaker timing out on a
// slow target) and so evaluates as if what it waits on were down.
type stateView interface {
	state(x int32, ctx int) State
	ownDown(x int32) bool
	tripped(e *edge) bool
}

// edgeResult is what one running-time edge contributes to its source's
// state. This function is the whole edge semantics of docs/model.md:
//
//   - hard: the target's state;
//   - fallback_to Y: target down ⇒ degraded while Y is not down, else down;
//   - fallback text alone, or async_via: the target's loss degrades at worst;
//   - async_via Q: the queue's state counts in full;
//   - a tripped edge: what it waits on (the queue of an asynchronous call,
//     else the target) counts as down.
func edgeResult(e *edge, v stateView, ctx int) State {
	trip := v.tripped(e)
	if trip && e.asyncVia >= 0 {
		return Down
	}
	r := v.state(e.to, ctx)
	if trip {
		r = Down
	}
	if e.fallbackTo >= 0 && r == Down && v.state(e.fallbackTo, ctx) != Down {
		r = Degraded
	}
	if e.capped && r > Degraded {
		r = Degraded
	}
	if e.asyncVia >= 0 {
		r = max(r, v.state(e.asyncVia, ctx))
	}
	return r
}

// flowState is the state of flow f: its worst step.
func (g *graph) flowState(v stateView, f int) State {
	s := Up
	for _, x := range g.steps[f] {
		s = max(s, v.state(x, f))
	}
	return s
}

// propagator evaluates single events incrementally: every component starts
// up, the components the event takes down are pushed, and only the
// dependents whose state changes are re-evaluated, in topological order.
// Its cost per event is the size of the event's blast radius, not of the
// model. Buffers are reused across events; epochs make resetting O(1).
type propagator struct {
	g       *graph
	epoch   uint32
	stamp   []uint32 // the node's states are valid in this epoch
	downAt  []uint32 // the node is down by itself in this epoch
	queued  []uint32 // the node is in the heap in this epoch
	all     []State
	perFlow [][]State // for sensitive nodes, indexed by flow
	heap    []uint64  // rank<<32 | node: comparisons need no lookup
	changed []int32   // nodes not up, in pop (topological) order
	trips   *tripSet  // the edges tripped in this run; nil: none
}

// tripSet is a set of tripped running edges.
type tripSet struct {
	on    []bool  // per edge.id
	edges []*edge // the same, in the order they tripped
}

func (g *graph) newTripSet() *tripSet { return &tripSet{on: make([]bool, g.nEdges)} }

func (t *tripSet) add(e *edge) {
	if !t.on[e.id] {
		t.on[e.id] = true
		t.edges = append(t.edges, e)
	}
}

func newPropagator(g *graph) *propagator {
	p := &propagator{
		g:       g,
		stamp:   make([]uint32, g.n),
		downAt:  make([]uint32, g.n),
		queued:  make([]uint32, g.n),
		all:     make([]State, g.n),
		perFlow: make([][]State, g.n),
	}
	for x := 0; x < g.n; x++ {
		if g.sensitive[x] {
			p.perFlow[x] = make([]State, g.flows)
		}
	}
	return p
}

func (p *propagator) state(x int32, ctx int) State {
	if p.stamp[x] != p.epoch {
		return Up
	}
	if ctx == ctxAll || p.perFlow[x] == nil {
		return p.all[x]
	}
	return p.perFlow[x][ctx]
}

func (p *propagator) ownDown(x int32) bool { return p.downAt[x] == p.epoch }

func (p *propagator) tripped(e *edge) bool { return p.trips != nil && p.trips.on[e.id] }

// run evaluates the failure of the given components, with the edges of
// trips tripped (nil: none), and leaves the non-up components in
// p.changed.
func (p *propagator) run(down []int32, trips *tripSet) {
	p.epoch++
	if p.epoch == 0 { // wrapped: clear stamps so old epochs cannot alias
		clear(p.stamp)
		clear(p.downAt)
		clear(p.queued)
		p.epoch = 1
	}
	p.changed = p.changed[:0]
	p.heap = p.heap[:0]
	for _, x := range down {
		p.downAt[x] = p.epoch
		p.push(x)
	}
	g := p.g
	p.trips = trips
	if trips != nil {
		for _, e := range trips.edges {
			p.push(e.from)
		}
	}
	for len(p.heap) > 0 {
		x := p.pop()
		own := p.downAt[x] == p.epoch
		s := p.nodeState(x, own, ctxAll)
		if s == Up {
			continue // states are monotone: up in ctxAll means up in every flow
		}
		if pf := p.perFlow[x]; pf != nil {
			g.member[x].each(func(f int) { pf[f] = p.nodeState(x, own, f) })
		}
		p.all[x] = s
		p.stamp[x] = p.epoch
		p.changed = append(p.changed, x)
		for _, parent := range g.parents[x] {
			p.push(parent)
		}
	}
}

// nodeState is graph.nodeState for the propagator, with a shortcut: an
// edge whose target and queue are both untouched in this epoch is up in
// every context (edgeResult would say Up whatever the fallback), so only
// the edges into the blast radius are evaluated. Most edges of a dependent
// lead elsewhere.
func (p *propagator) nodeState(x int32, down bool, ctx int) State {
	if down {
		return Down
	}
	s := Up
	for i := range p.g.edges[x] {
		e := &p.g.edges[x][i]
		if p.stamp[e.to] != p.epoch && (e.asyncVia < 0 || p.stamp[e.asyncVia] != p.epoch) && !p.tripped(e) {
			continue
		}
		if e.applies(ctx) {
			if r := edgeResult(e, p, ctx); r > s {
				s = r
				if s == Down {
					break
				}
			}
		}
	}
	return s
}

// push adds x to the heap (keyed by topological rank) once per epoch.
func (p *propagator) push(x int32) {
	rank := p.g.rank[x]
	if p.queued[x] == p.epoch || rank < 0 {
		return
	}
	p.queued[x] = p.epoch
	h := append(p.heap, uint64(rank)<<32|uint64(uint32(x)))
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent] <= h[i] {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
	p.heap = h
}

func (p *propagator) pop() int32 {
	h := p.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		small := l
		if r := l + 1; r < len(h) && h[r] < h[l] {
			small = r
		}
		if h[i] <= h[small] {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	p.heap = h
	return int32(uint32(top))
}
