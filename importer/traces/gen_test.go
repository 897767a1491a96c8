package traces

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// gspan is a span of a generated trace: the tree of calls one request
// makes.
type gspan struct {
	service, name string
	kind          ptrace.SpanKind
	failed        bool
	attrs         []string // key, value, ...
	children      []*gspan
}

func sp(service, name string, kind ptrace.SpanKind, children ...*gspan) *gspan {
	return &gspan{service: service, name: name, kind: kind, children: children}
}

func (g *gspan) with(kv ...string) *gspan { g.attrs = append(g.attrs, kv...); return g }
func server(service, name string, children ...*gspan) *gspan {
	return sp(service, name, ptrace.SpanKindServer, children...)
}

// rpc is a call from service to a traced server: the caller's client span
// with the server span under it.
func rpc(from, to, method string, failed bool, children ...*gspan) *gspan {
	s := server(to, method, children...)
	s.failed = failed
	c := sp(from, method, ptrace.SpanKindClient, s)
	c.failed = failed
	return c
}

// otlpBatch writes traces as one OTLP request, the way a collector's file
// exporter writes a line: one resourceSpans per service, children before
// their parents (they end first, so they are exported first). IDs come
// from rng.
func otlpBatch(rng *rand.Rand, traces []*gspan) ptrace.Traces {
	td := ptrace.NewTraces()
	byService := map[string]ptrace.SpanSlice{}
	var walk func(g *gspan, tid pcommon.TraceID, parent pcommon.SpanID)
	walk = func(g *gspan, tid pcommon.TraceID, parent pcommon.SpanID) {
		var id pcommon.SpanID
		binary.BigEndian.PutUint64(id[:], rng.Uint64()|1)
		for _, c := range g.children {
			walk(c, tid, id)
		}
		ss, ok := byService[g.service]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", g.service)
			rs.Resource().Attributes().PutStr("telemetry.sdk.language", "go")
			scope := rs.ScopeSpans().AppendEmpty()
			scope.Scope().SetName("go.opentelemetry.io/contrib/instrumentation")
			ss = scope.Spans()
			byService[g.service] = ss
		}
		s := ss.AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(id)
		s.SetParentSpanID(parent)
		s.SetName(g.name)
		s.SetKind(g.kind)
		s.SetStartTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000))
		s.SetEndTimestamp(pcommon.Timestamp(1_700_000_000_020_000_000))
		if g.failed {
			s.Status().SetCode(ptrace.StatusCodeError)
			s.Status().SetMessage("upstream failed")
		}
		for i := 0; i+1 < len(g.attrs); i += 2 {
			s.Attributes().PutStr(g.attrs[i], g.attrs[i+1])
		}
	}
	for _, t := range traces {
		var tid pcommon.TraceID
		binary.BigEndian.PutUint64(tid[:8], rng.Uint64())
		binary.BigEndian.PutUint64(tid[8:], rng.Uint64()|1)
		walk(t, tid, pcommon.SpanID{})
	}
	return td
}

// shopRequest is one checkout of a microservice shop, ten spans.
func shopRequest() *gspan {
	return server("frontend", "GET /cart/checkout",
		rpc("frontend", "cart", "oteldemo.CartService/GetCart", false,
			sp("cart", "HGET", ptrace.SpanKindClient).with("db.system", "redis", "server.address", "valkey-cart")),
		rpc("frontend", "checkout", "oteldemo.CheckoutService/PlaceOrder", false,
			rpc("checkout", "payment", "oteldemo.PaymentService/Charge", false),
			sp("checkout", "orders publish", ptrace.SpanKindProducer).with("messaging.system", "kafka",
				"messaging.destination.name", "orders", "server.address", "kafka")))
}

// spanStream is an endless-looking reader of OTLP JSON lines holding n
// spans in all: one batch is marshalled once, then written again and
// again with fresh trace IDs, so that generating costs little next to
// importing.
type spanStream struct {
	template []byte
	at       []idAt // where the template holds its hex trace IDs
	perLine  int    // spans a line
	left     int    // spans still to write
	line     uint64
	buf      bytes.Buffer
}

func newSpanStream(spans int) *spanStream {
	rng := rand.New(rand.NewPCG(1, 2))
	batch := make([]*gspan, 100)
	for i := range batch {
		batch[i] = shopRequest()
	}
	td := otlpBatch(rng, batch)
	var m ptrace.JSONMarshaler
	line, err := m.MarshalTraces(td)
	if err != nil {
		panic(err)
	}
	s := &spanStream{template: line, perLine: td.SpanCount(), left: spans}
	seen := map[string]bool{}
	var ids [][]byte
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		sss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			for k := 0; k < sss.At(j).Spans().Len(); k++ {
				id := sss.At(j).Spans().At(k).TraceID()
				h := hex.EncodeToString(id[:])
				if !seen[h] {
					seen[h] = true
					ids = append(ids, []byte(h))
				}
			}
		}
	}
	for i, id := range ids {
		for off := 0; ; {
			j := bytes.Index(line[off:], id)
			if j < 0 {
				break
			}
			s.at = append(s.at, idAt{off + j, i})
			off += j + len(id)
		}
	}
	return s
}

type idAt struct{ offset, id int }

func (s *spanStream) Read(p []byte) (int, error) {
	for s.buf.Len() == 0 {
		if s.left <= 0 {
			return 0, io.EOF
		}
		s.line++
		start := s.buf.Len()
		s.buf.Write(s.template)
		s.buf.WriteByte('\n')
		line := s.buf.Bytes()[start:]
		for _, a := range s.at {
			var raw [16]byte
			binary.BigEndian.PutUint64(raw[:8], s.line)
			binary.BigEndian.PutUint64(raw[8:], uint64(a.id)+1)
			hex.Encode(line[a.offset:a.offset+32], raw[:])
		}
		s.left -= s.perLine
	}
	return s.buf.Read(p)
}
