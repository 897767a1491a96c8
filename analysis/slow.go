package analysis

import (
	"fmt"
	"time"

	"github.com/spofhq/spof/model"
)

// WhatIfSlow predicts every flow while component target answers latency
// late instead of failing: the chaos experiments' latency fault.
//
// Slowness climbs the running edges: a caller of a slow component is as
// slow as it, unless the call is asynchronous (async_via: only the enqueue
// is waited for) or a circuit breaker guards it with a timeout no longer
// than the delay. Such a breaker gives up on every call, so for that caller
// the target is as good as down: its fallback takes over, or, without one,
// the caller fails. The state of the flows is then what WhatIf says with
// those calls failed. A flow that stays up but passes through a slow call
// is about latency slower (the delays of successive calls are not added:
// a lower bound), and a flow whose probe allows less than that
// (max_latency) is predicted down: slow is down for whoever waits.
//
// Trips are decided on every edge, whatever flows it is scoped to. The
// tripped edges are returned too: their fallbacks are what the delay puts
// to work.
func WhatIfSlow(m *model.Model, target string, latency time.Duration) (outcomes []FlowOutcome, tripped []*model.Edge, err error) {
	ti, ok := m.ComponentIndex[target]
	if !ok {
		return nil, nil, fmt.Errorf("no component named %q", target)
	}
	if latency <= 0 {
		return nil, nil, fmt.Errorf("latency %v: want a positive delay", latency)
	}
	g := compile(m)

	// delay[x]: how late x answers (ctxAll); tripped: the calls a breaker
	// gives up on.
	type call struct{ from, edge int }
	trips := map[call]bool{}
	delay := make([]time.Duration, g.n)
	delay[ti] = latency
	for _, x := range g.topo {
		for i := range g.edges[x] {
			e := &g.edges[x][i]
			d := waited(e, delay)
			if d == 0 {
				continue
			}
			if b := e.src.Breaker; b != nil && b.Timeout > 0 && b.Timeout <= d {
				trips[call{int(x), i}] = true
				tripped = append(tripped, e.src)
				continue
			}
			delay[x] = max(delay[x], d)
		}
	}

	// The tripped calls go to a stand-in of their target that is down.
	if len(trips) == 0 {
		outcomes = WhatIf(m, nil)
	} else {
		mm := *m
		mm.Components = append([]*model.Component(nil), m.Components...)
		standIn := map[int32]string{}
		why := map[string]string{} // stand-in → the reason it stands for
		var events []Event
		for x := range m.Components {
			var edges []*model.Edge
			for i := range g.edges[x] {
				if !trips[call{x, i}] {
					continue
				}
				if edges == nil {
					c := *m.Components[x]
					edges = append([]*model.Edge(nil), c.DependsOn...)
					c.DependsOn = edges
					mm.Components[x] = &c
				}
				e := &g.edges[x][i]
				// What the call waited on: the target, or for an
				// asynchronous call its queue.
				t := e.to
				if e.asyncVia >= 0 {
					t = e.asyncVia
				}
				name, ok := standIn[t]
				if !ok {
					sc := *m.Components[t]
					name = sc.Name + " (timing out)"
					sc.Name, sc.DependsOn, sc.Chaos = name, nil, nil
					sc.Replicas, sc.MinHealthy, sc.Zones, sc.Provider = 1, 1, nil, ""
					mm.Components = append(mm.Components, &sc)
					standIn[t] = name
					events = append(events, Event{Kind: EventComponent, Name: name})
					why[name] = fmt.Sprintf("%s answers %v late: the circuit breaker on %s → %s gives up after %v",
						m.Components[t].Name, delay[t], e.src.From, e.src.To, e.src.Breaker.Timeout)
				}
				for j, me := range edges {
					if me == e.src {
						ne := *me
						if e.asyncVia >= 0 {
							ne.AsyncVia = name
						} else {
							ne.To = name
						}
						edges[j] = &ne
					}
				}
			}
		}
		mm.BuildIndex()
		outcomes = whatIf(&mm, events, why)
	}

	// How much slower each flow is, through the calls that did not trip.
	for f, fl := range m.Flows {
		o := &outcomes[f]
		if o.State == Down {
			continue
		}
		fd := make([]time.Duration, g.n)
		fd[ti] = latency
		slowest, via := time.Duration(0), ""
		for _, x := range g.topo {
			for i := range g.edges[x] {
				e := &g.edges[x][i]
				if !e.applies(f) || trips[call{int(x), i}] {
					continue
				}
				if d := waited(e, fd); d > fd[x] {
					fd[x] = d
				}
			}
		}
		for _, s := range fl.Steps {
			if x, ok := m.ComponentIndex[s]; ok && fd[x] > slowest {
				slowest, via = fd[x], s
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

// waited is how long a call through e waits on the slowest of what it
// needs synchronously: the target, or for an asynchronous call the queue.
func waited(e *edge, delay []time.Duration) time.Duration {
	if e.asyncVia >= 0 {
		return delay[e.asyncVia]
	}
	return delay[e.to]
}
