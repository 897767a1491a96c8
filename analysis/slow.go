package analysis

import (
	"fmt"
	"slices"
	"time"

	"github.com/spofhq/spof/model"
)

// WhatIfSlow predicts every flow while component target answers latency
// late instead of failing: the chaos experiments' latency fault.
//
// Slowness climbs the running edges: a caller of a slow component is as
// slow as it, unless the call is asynchronous (async_via: only the enqueue
// is waited for) or a circuit breaker guards it with a timeout no longer
// than the delay. Such a breaker gives up on every call: the call is
// tripped, and evaluates as if what it waits on were down, so the caller's
// fallback takes over, or, without one, the caller fails. A flow that
// stays up but passes through a slow call is about latency slower (the
// delays of successive calls are not added: a lower bound), and a flow
// whose probe allows less than that (max_latency) is predicted down: slow
// is down for whoever waits.
//
// Trips are decided on every edge, whatever flows it is scoped to. The
// tripped edges are returned too: their fallbacks are what the delay puts
// to work.
func WhatIfSlow(m *model.Model, target string, latency time.Duration) (outcomes []FlowOutcome, tripped []*model.Edge, err error) {
	an, err := New(m)
	if err != nil {
		return nil, nil, err
	}
	return an.WhatIfSlow(target, latency)
}

// WhatIfSlow is the package function WhatIfSlow on the compiled model.
func (an *Analyzer) WhatIfSlow(target string, latency time.Duration) (outcomes []FlowOutcome, tripped []*model.Edge, err error) {
	a := an.a
	g := a.g
	ti, ok := g.comp[target]
	if !ok {
		msg := fmt.Sprintf("no component named %q", target)
		if s := model.Closest(target, g.componentNames()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, nil, fmt.Errorf("%s", msg)
	}
	if latency <= 0 {
		return nil, nil, fmt.Errorf("latency %v: want a positive delay", latency)
	}
	// Only what needs the target, directly or not, can wait on it.
	slow := a.dependentsOf(ti)
	delay := make(map[int32]time.Duration, len(slow))
	delay[ti] = latency
	trips := g.newTripSet()
	why := map[int32]string{} // what a tripped call waited on → why it gave up
	for _, x := range slow {
		for i := range g.edges[x] {
			e := &g.edges[x][i]
			d := waited(e, delay)
			if d == 0 {
				continue
			}
			if b := e.src.Breaker; b != nil && b.Timeout > 0 && b.Timeout <= d {
				trips.add(e)
				tripped = append(tripped, e.src)
				if t := waitedOn(e); why[t] == "" {
					why[t] = fmt.Sprintf("%s answers %v late: the circuit breaker on %s gives up after %v",
						a.m.Components[t].Name, delay[t], a.edgeName(e), b.Timeout)
				}
				continue
			}
			delay[x] = max(delay[x], d)
		}
	}
	if len(trips.edges) == 0 {
		trips = nil
	}
	a.p.run(nil, trips)
	outcomes = a.outcomes(a.p, func(x int32) string {
		if r, ok := why[x]; ok {
			return r
		}
		return a.m.Components[x].Name + " is down"
	})

	// How much slower each flow is, through the calls that did not trip.
	inSlow := make(map[int32]bool, len(slow))
	for _, x := range slow {
		inSlow[x] = true
	}
	for f, fl := range a.m.Flows {
		o := &outcomes[f]
		if o.State == Down || !slices.ContainsFunc(g.steps[f], func(x int32) bool { return inSlow[x] }) {
			continue
		}
		fd := map[int32]time.Duration{ti: latency}
		for _, x := range slow {
			for i := range g.edges[x] {
				e := &g.edges[x][i]
				if !e.applies(f) || (trips != nil && trips.on[e.id]) {
					continue
				}
				if d := waited(e, fd); d > fd[x] {
					fd[x] = d
				}
			}
		}
		slowest, via := time.Duration(0), ""
		for _, x := range g.steps[f] {
			if fd[x] > slowest {
				slowest, via = fd[x], a.m.Components[x].Name
			}
		}
		if slowest == 0 {
			continue
		}
		why := fmt.Sprintf("%s answers %v late and no circuit breaker times out on the way: %s (through %s) is about %v slower", target, latency, fl.Name, via, slowest)
		if fl.Probe != nil && fl.Probe.MaxLatency > 0 && slowest >= fl.Probe.MaxLatency {
			o.State = Down
			o.Chain = []string{why, fmt.Sprintf("%s's probe allows %v (max_latency): slower is down", fl.Name, fl.Probe.MaxLatency),
				fmt.Sprintf("%s (%s) is %s", fl.Name, fl.Criticality, Down)}
			continue
		}
		if o.State == Up {
			o.Chain = append(o.Chain, "up, but "+why)
		}
	}
	return outcomes, tripped, nil
}

// dependentsOf lists x and every component that needs it at run time,
// directly or not, in topological order (x first).
func (a *analyzer) dependentsOf(x int32) []int32 {
	g := a.g
	seen := map[int32]bool{x: true}
	out := []int32{x}
	for i := 0; i < len(out); i++ {
		for _, p := range g.parents[out[i]] {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, func(x, y int32) int { return int(g.rank[x] - g.rank[y]) })
	return out
}

// waitedOn is what a call through e waits on synchronously: the target,
// or for an asynchronous call the queue.
func waitedOn(e *edge) int32 {
	if e.asyncVia >= 0 {
		return e.asyncVia
	}
	return e.to
}

// waited is how long a call through e waits on the slowest of what it
// needs synchronously.
func waited(e *edge, delay map[int32]time.Duration) time.Duration {
	return delay[waitedOn(e)]
}

// edgeName is "from → to".
func (a *analyzer) edgeName(e *edge) string {
	return a.m.Components[e.from].Name + " → " + a.m.Components[e.to].Name
}
