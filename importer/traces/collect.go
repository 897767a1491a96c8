package traces

import (
	"container/list"

	"github.com/spofhq/spof/model"
)

type (
	traceID [16]byte
	spanID  [8]byte
)

// spanKind is the OpenTelemetry span kind.
type spanKind uint8

const (
	kindUnspecified spanKind = iota
	kindInternal
	kindServer
	kindClient
	kindProducer
	kindConsumer
)

// kindFromName reads the span kinds of Jaeger tags and Zipkin: "server",
// "CLIENT", ...
func kindFromName(s string) spanKind {
	switch s {
	case "server", "SERVER":
		return kindServer
	case "client", "CLIENT":
		return kindClient
	case "producer", "PRODUCER":
		return kindProducer
	case "consumer", "CONSUMER":
		return kindConsumer
	case "internal", "INTERNAL":
		return kindInternal
	}
	return kindUnspecified
}

// loc is where a fact was read: a line of a JSON-lines file, or a byte
// offset of a JSON document, turned into line:col when the import ends.
type loc struct {
	file   int32
	offset bool
	n      int64 // line, or byte offset when offset
}

// facts are what a reader found in one span, before interning.
type facts struct {
	trace   traceID
	id      spanID
	parent  spanID
	shared  bool // a Zipkin server span sharing its client's ID
	service string
	kind    spanKind
	failed  bool
	health  bool // a health check, not a user request
	// What the attributes name as the other side: a peer service, a
	// host, a database, a broker.
	peerService, host, dbSystem, dbName, msgSystem, destination string
	at                                                          loc
}

// span is the compact form of a span kept in the window.
type span struct {
	id, parent spanID
	service    int32
	peer       int32 // interned target named by the attributes, -1 if none
	dest       int32 // messaging destination, -1 if none
	kind       spanKind
	flags      uint8
	at         loc
}

const (
	flagFailed uint8 = 1 << iota
	flagShared
	flagHealth
	flagRoot
)

func (s *span) has(f uint8) bool { return s.flags&f != 0 }

// openTrace is a trace in the window.
type openTrace struct {
	id    traceID
	spans []span
	elem  *list.Element
}

// edgeKey is a caller and a callee, by interned name.
type edgeKey struct{ from, to int32 }

// edgeStat aggregates the calls along one edge.
type edgeStat struct {
	calls, failed uint64
	// failedCallers counts the caller spans whose every call along the
	// edge failed; tolerated, those of them that still ended OK.
	failedCallers, tolerated uint64
	async                    bool // a producer's or consumer's use of a broker
	at                       loc
}

// serviceStat is what the traces say about one service.
type serviceStat struct {
	spans       uint64
	servers     uint64 // server spans
	consumers   uint64 // consumer spans
	rootServers uint64 // server spans that start a trace, health checks aside
	rootClients uint64 // client, producer or internal spans that start a trace
	dest        int32  // a destination it consumes from, -1 if none
	at          loc
}

// collector turns spans into aggregates, holding at most max spans of
// traces that may not be complete yet.
type collector struct {
	opts  Options
	files []string
	names []string
	ids   map[string]int32
	// serviceIDs caches the interned component names of service names.
	serviceIDs map[string]int32
	kinds      map[int32]model.Kind // of names that are targets, not traced services
	svc        map[int32]*serviceStat
	edges      map[edgeKey]*edgeStat
	traces     map[traceID]*openTrace
	lru        *list.List // of *openTrace, least recently extended first
	open       int        // spans in the window

	empty   []string // files without a span
	spans   uint64
	orphans uint64 // spans whose parent was never seen
	evicted uint64 // traces resolved because the window was full

	// scratch space of resolve, reused from trace to trace
	index    map[spanKey]int32
	calls    []call
	answered []bool
	group    map[groupKey]*groupStat
}

func newCollector(opts Options) *collector {
	return &collector{opts: opts, ids: map[string]int32{}, serviceIDs: map[string]int32{}, kinds: map[int32]model.Kind{},
		svc: map[int32]*serviceStat{}, edges: map[edgeKey]*edgeStat{}, traces: map[traceID]*openTrace{},
		lru: list.New(), index: map[spanKey]int32{}, group: map[groupKey]*groupStat{}}
}

func (c *collector) intern(s string) int32 {
	if id, ok := c.ids[s]; ok {
		return id
	}
	id := int32(len(c.names))
	c.names = append(c.names, s)
	c.ids[s] = id
	return id
}

// add takes one span into the window.
func (c *collector) add(f *facts) {
	c.spans++
	s := span{id: f.id, parent: f.parent, service: c.serviceID(f.service), peer: -1, dest: -1, kind: f.kind, at: f.at}
	if f.failed {
		s.flags |= flagFailed
	}
	if f.shared {
		s.flags |= flagShared
	}
	if f.health {
		s.flags |= flagHealth
	}
	if f.parent == (spanID{}) && !f.shared {
		s.flags |= flagRoot
	}
	if name, kind := target(f); name != "" {
		s.peer = c.intern(name)
		if _, ok := c.kinds[s.peer]; !ok {
			c.kinds[s.peer] = kind
		}
	}
	if f.destination != "" {
		s.dest = c.intern(f.destination)
	}
	c.service(s.service, f.at).spans++

	t := c.traces[f.trace]
	if t == nil {
		t = &openTrace{id: f.trace}
		t.elem = c.lru.PushBack(t)
		c.traces[f.trace] = t
	} else {
		c.lru.MoveToBack(t.elem)
	}
	t.spans = append(t.spans, s)
	c.open++
	for c.open > c.opts.MaxOpenSpans && c.lru.Len() > 0 {
		c.evicted++
		c.close(c.lru.Front().Value.(*openTrace))
	}
}

// addTrace resolves a complete trace at once (a Jaeger trace), past the
// window.
func (c *collector) addTrace(spans []facts) {
	for i := range spans {
		c.add(&spans[i])
	}
	if len(spans) > 0 {
		if t := c.traces[spans[0].trace]; t != nil {
			c.close(t)
		}
	}
}

// close resolves a trace and drops it from the window.
func (c *collector) close(t *openTrace) {
	c.lru.Remove(t.elem)
	delete(c.traces, t.id)
	c.open -= len(t.spans)
	c.resolve(t.spans)
}

// flush resolves every trace left in the window.
func (c *collector) flush() {
	for c.lru.Len() > 0 {
		c.close(c.lru.Front().Value.(*openTrace))
	}
}

// serviceID interns the component name of a service.name.
func (c *collector) serviceID(service string) int32 {
	if id, ok := c.serviceIDs[service]; ok {
		return id
	}
	id := c.intern(componentName(service))
	c.serviceIDs[service] = id
	return id
}

// service returns the stats of a service, first seen at at.
func (c *collector) service(id int32, at loc) *serviceStat {
	st := c.svc[id]
	if st == nil {
		st = &serviceStat{dest: -1, at: at}
		c.svc[id] = st
	}
	return st
}

// dependency adds calls counted by someone else (Jaeger's dependencies):
// parent calls child, which serves them.
func (c *collector) dependency(parent, child string, calls uint64, at loc) {
	from, to := c.intern(parent), c.intern(child)
	c.service(from, at)
	c.service(to, at).servers += max(calls, 1)
	if from == to {
		return
	}
	e := c.edges[edgeKey{from, to}]
	if e == nil {
		e = &edgeStat{at: at}
		c.edges[edgeKey{from, to}] = e
	}
	e.calls += calls
}
