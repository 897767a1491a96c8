package traces

import (
	"net"
	"strings"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// spanKey finds a span in its trace. A Zipkin server span shares its
// client's ID: it is told apart by server.
type spanKey struct {
	id     spanID
	server bool
}

// call is one call found in a trace, before it is aggregated.
type call struct {
	caller   int32 // the caller's own span (its service's local root), -1 if unseen
	from, to int32
	failed   bool
	async    bool
	at       loc
}

type groupKey struct{ caller, from, to int32 }

type groupStat struct{ ok, failed bool }

// maxDepth bounds the walk up to a span's local root, so that a cycle of
// parent IDs (bad input) cannot loop.
const maxDepth = 256

// resolve turns the spans of one trace into calls and adds them to the
// edges.
//
// A span whose parent is in another service is a call from the parent's
// service (the parent being its client span, or the caller's span itself
// when the caller made no client span) to the span's own, unless it is a
// message passed through a broker (a consumer span, or a producer parent).
// A client or producer span no traced server answered calls what its
// attributes name. The caller's span, whose status says whether the caller
// survived a failed call, is its service's local root above the call: the
// span that handles the caller's own request.
func (c *collector) resolve(spans []span) {
	clear(c.index)
	for i := range spans {
		s := &spans[i]
		c.index[spanKey{s.id, s.has(flagShared)}] = int32(i)
	}
	parent := func(i int32) int32 {
		s := &spans[i]
		if s.has(flagShared) {
			if p, ok := c.index[spanKey{s.id, false}]; ok {
				return p
			}
			return -1
		}
		if s.has(flagRoot) {
			return -1
		}
		if p, ok := c.index[spanKey{s.parent, true}]; ok && p != i {
			return p
		}
		if p, ok := c.index[spanKey{s.parent, false}]; ok && p != i {
			return p
		}
		return -1
	}
	localRoot := func(i int32) int32 {
		for range maxDepth {
			p := parent(i)
			if p < 0 || spans[p].service != spans[i].service {
				return i
			}
			i = p
		}
		return i
	}

	c.calls = c.calls[:0]
	// answered marks the client spans a traced server answered.
	answered := c.answered[:0]
	for range spans {
		answered = append(answered, false)
	}
	c.answered = answered
	for i := range spans {
		s := &spans[i]
		st := c.svc[s.service]
		switch s.kind {
		case kindServer:
			st.servers++
		case kindConsumer:
			st.consumers++
			if st.dest < 0 {
				st.dest = s.dest
			}
		}
		p := parent(int32(i))
		if p < 0 {
			switch {
			case !s.has(flagRoot):
				c.orphans++
			case s.kind == kindServer:
				if !s.has(flagHealth) {
					st.rootServers++
				}
			case s.kind != kindConsumer:
				st.rootClients++
			}
			continue
		}
		ps := &spans[p]
		if ps.service == s.service || s.kind == kindConsumer || ps.kind == kindProducer {
			continue
		}
		answered[p] = true
		caller := p
		if ps.kind == kindClient {
			caller = localRoot(p)
			if caller == p {
				caller = -1 // the call is all the caller showed of itself
			}
		}
		c.calls = append(c.calls, call{caller: caller, from: ps.service, to: s.service,
			failed: s.has(flagFailed) || ps.kind == kindClient && ps.has(flagFailed), at: s.at})
	}
	for i := range spans {
		s := &spans[i]
		if s.peer < 0 || s.peer == s.service || s.kind == kindServer || answered[i] {
			continue
		}
		cl := call{caller: -1, from: s.service, to: s.peer, failed: s.has(flagFailed), at: s.at,
			async: s.kind == kindProducer || s.kind == kindConsumer}
		if s.kind == kindConsumer {
			cl.failed = false // a failed receive says nothing of the broker
		} else if r := localRoot(int32(i)); r != int32(i) {
			cl.caller = r
		}
		c.calls = append(c.calls, cl)
	}

	clear(c.group)
	for _, cl := range c.calls {
		e := c.edges[edgeKey{cl.from, cl.to}]
		if e == nil {
			e = &edgeStat{at: cl.at}
			c.edges[edgeKey{cl.from, cl.to}] = e
		}
		e.calls++
		if cl.failed {
			e.failed++
		}
		e.async = e.async || cl.async
		if cl.caller < 0 {
			continue
		}
		// Retries: a caller span counts as failed on an edge only when
		// every one of its calls along it failed.
		k := groupKey{cl.caller, cl.from, cl.to}
		g := c.group[k]
		if g == nil {
			g = &groupStat{}
			c.group[k] = g
		}
		if cl.failed {
			g.failed = true
		} else {
			g.ok = true
		}
	}
	for k, g := range c.group {
		if !g.failed || g.ok {
			continue
		}
		e := c.edges[edgeKey{k.from, k.to}]
		e.failedCallers++
		if !spans[k.caller].has(flagFailed) {
			e.tolerated++
		}
	}
}

// cacheSystems are the db.system values of caches.
var cacheSystems = map[string]bool{"redis": true, "memcached": true, "valkey": true, "hazelcast": true,
	"coherence": true, "geode": true}

// target names what a span's attributes say it calls, and the kind of that
// thing: a database or cache (db.system), a broker (messaging.system), or
// for a client span a peer service or host. Names are those a user would
// search for: the peer service or the host (its first label when it is a
// Kubernetes service name), so that they match the deployments'.
func target(f *facts) (string, model.Kind) {
	host, external := hostName(f.host)
	first := func(names ...string) string {
		for _, n := range names {
			if n != "" {
				return importer.Name(n)
			}
		}
		return ""
	}
	switch {
	case f.dbSystem != "":
		kind := model.KindDatabase
		if cacheSystems[strings.ToLower(f.dbSystem)] {
			kind = model.KindCache
		}
		return first(f.peerService, host, f.dbName, f.dbSystem), kind
	case f.msgSystem != "":
		return first(f.peerService, host, f.msgSystem), model.KindQueue
	case f.kind == kindClient || f.kind == kindProducer:
		// A peer named like what it runs (mysql, redis, kafka) is that.
		name := first(f.peerService, host)
		if name == "" {
			return "", ""
		}
		if kind, ok := importer.KindFromImage(name); ok {
			return name, kind
		}
		if f.peerService == "" && external {
			return name, model.KindExternal
		}
		return name, model.KindService
	}
	return "", ""
}

// topLevelDomains tell "cart.shop" (a service in a namespace) from
// "stripe.com".
var topLevelDomains = map[string]bool{"com": true, "net": true, "org": true, "io": true, "dev": true, "app": true,
	"cloud": true, "co": true, "ai": true, "me": true, "info": true, "biz": true, "tech": true, "eu": true,
	"us": true, "uk": true, "de": true, "fr": true}

// hostName reduces an address to a component name: no port, the first
// label of a Kubernetes service name ("cart.shop.svc.cluster.local" is
// cart); external reports a name that is still a domain (api.stripe.com).
// IP addresses name nothing a user would search for: "".
func hostName(addr string) (name string, external bool) {
	h := strings.ToLower(strings.TrimSpace(addr))
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	if h == "" || net.ParseIP(h) != nil || h == "localhost" {
		return "", false
	}
	labels := strings.Split(h, ".")
	for i, l := range labels {
		if i > 0 && (l == "svc" || l == "cluster" && i+1 < len(labels) && labels[i+1] == "local") {
			return labels[0], false
		}
	}
	if len(labels) == 2 && !topLevelDomains[labels[1]] {
		return labels[0], false // service.namespace
	}
	return h, len(labels) > 1
}
