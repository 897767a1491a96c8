package proxy

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
)

// Kinds of errors counted per proxy.
const (
	errAccept = iota // accepting a client
	errDial          // connecting to the upstream
	errIO            // a connection failed while relaying
	nErrors
)

var errorKinds = [nErrors]string{"accept", "dial", "io"}

// stats are a proxy's counters, updated with atomics on the data path.
type stats struct {
	accepted atomic.Int64
	refused  atomic.Int64 // over Options.MaxConns
	active   atomic.Int64
	bytes    [2]atomic.Int64 // by direction
	errors   [nErrors]atomic.Int64
	expired  atomic.Int64 // toxics removed by their TTL
}

// writeMetrics writes the proxies' counters in the Prometheus text format
// (version 0.0.4). Bytes copied on the fast path are counted every few
// megabytes and when a connection ends.
func (s *Server) writeMetrics(w io.Writer) error {
	type row struct {
		p      *tcpProxy
		toxics int
	}
	s.mu.Lock()
	rows := make([]row, 0, len(s.proxies))
	for _, p := range s.proxies {
		rows = append(rows, row{p: p})
	}
	s.mu.Unlock()
	for i := range rows {
		rows[i].p.mu.Lock()
		rows[i].toxics = len(rows[i].p.toxics)
		rows[i].p.mu.Unlock()
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.p.name, b.p.name) })

	var b strings.Builder
	metric := func(name, typ, help string, each func(r row, label string)) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, r := range rows {
			each(r, `proxy="`+escapeLabel(r.p.name)+`"`)
		}
	}
	metric("spof_proxy_connections_total", "counter", "Client connections accepted.", func(r row, l string) {
		fmt.Fprintf(&b, "spof_proxy_connections_total{%s} %d\n", l, r.p.stats.accepted.Load())
	})
	metric("spof_proxy_connections_refused_total", "counter", "Client connections reset at once: the server had --max-conns open.", func(r row, l string) {
		fmt.Fprintf(&b, "spof_proxy_connections_refused_total{%s} %d\n", l, r.p.stats.refused.Load())
	})
	metric("spof_proxy_connections_active", "gauge", "Client connections open now.", func(r row, l string) {
		fmt.Fprintf(&b, "spof_proxy_connections_active{%s} %d\n", l, r.p.stats.active.Load())
	})
	metric("spof_proxy_bytes_total", "counter", "Bytes relayed, by direction (upstream: client to upstream server).", func(r row, l string) {
		fmt.Fprintf(&b, "spof_proxy_bytes_total{%s,direction=\"upstream\"} %d\n", l, r.p.stats.bytes[dirUpstream].Load())
		fmt.Fprintf(&b, "spof_proxy_bytes_total{%s,direction=\"downstream\"} %d\n", l, r.p.stats.bytes[dirDownstream].Load())
	})
	metric("spof_proxy_toxics_active", "gauge", "Toxics on the proxy now.", func(r row, l string) {
		fmt.Fprintf(&b, "spof_proxy_toxics_active{%s} %d\n", l, r.toxics)
	})
	metric("spof_proxy_toxics_expired_total", "counter", "Toxics removed by their TTL.", func(r row, l string) {
		fmt.Fprintf(&b, "spof_proxy_toxics_expired_total{%s} %d\n", l, r.p.stats.expired.Load())
	})
	metric("spof_proxy_errors_total", "counter", "Errors, by kind: accept, dial (upstream unreachable), io (a connection failed).", func(r row, l string) {
		for k, name := range errorKinds {
			fmt.Fprintf(&b, "spof_proxy_errors_total{%s,kind=%q} %d\n", l, name, r.p.stats.errors[k].Load())
		}
	})
	_, err := io.WriteString(w, b.String())
	return err
}

// labelEscaper escapes a label value as the text format wants.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
