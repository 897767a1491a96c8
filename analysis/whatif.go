package analysis

import (
	"fmt"
	"strings"

	"github.com/spofhq/spof/model"
)

// WhatIf evaluates every flow with all the given events failed at once and
// says why each flow that is not up is not. Events must be resolved
// (Resolve); person events do not change running flows.
func WhatIf(m *model.Model, events []Event) []FlowOutcome {
	return whatIf(m, events, nil)
}

// whatIf is WhatIf, with the first link of a chain given by because for
// the components it names (WhatIfSlow's stand-ins).
func whatIf(m *model.Model, events []Event, because map[string]string) []FlowOutcome {
	g := compile(m)
	a := &analyzer{m: m, g: g, sel: allFlows(g)}
	a.phasedBy = phasedIndex(g)
	fs := newFailures(events...)
	brokenBy := hazardsBreaking(m)
	down := make([]bool, g.n)
	for x, c := range m.Components {
		down[x] = !fs.available(m, c, brokenBy)
	}
	ev := g.evaluate(down)
	reason := func(x int32) string {
		if r, ok := because[m.Components[x].Name]; ok {
			return r
		}
		return whyDown(m, events, m.Components[x])
	}
	return a.outcomes(ev, reason)
}

// outcomes gives every flow's state under an evaluation, with a chain for
// flows that are not up, and a note for up flows that could not restart.
func (a *analyzer) outcomes(ev *evaluation, reason func(int32) string) []FlowOutcome {
	out := make([]FlowOutcome, 0, len(a.m.Flows))
	for f, fl := range a.m.Flows {
		o := FlowOutcome{Flow: fl.Name, Criticality: fl.Criticality, State: a.g.flowState(ev, f)}
		if o.State != Up {
			step := a.worstStep(ev, f)
			hops, root := a.g.trace(ev, step, f)
			o.Chain = append(o.Chain, reason(root))
			o.Chain = append(o.Chain, a.describeHops(hops, ev, f)...)
			o.Chain = append(o.Chain, fmt.Sprintf("%s passes through %s", fl.Name, a.m.Components[step].Name),
				fmt.Sprintf("%s (%s) is %s", fl.Name, fl.Criticality, o.State))
		} else {
			o.Chain = a.blockedRecovery(ev, f)
		}
		out = append(out, o)
	}
	return out
}

// blockedRecovery lists the when: edges of flow f's components whose
// targets are down under ev.
func (a *analyzer) blockedRecovery(ev *evaluation, f int) []string {
	var out []string
	for t := int32(0); t < int32(a.g.n); t++ {
		if ev.state(t, ctxAll) != Down {
			continue
		}
		for i := range a.phasedBy[t] {
			ref := &a.phasedBy[t][i]
			if a.g.member[ref.from].has(f) && edgeResult(ref.e, ev, ctxAll) == Down {
				out = append(out, "up, but "+a.describePhased(ref, ev))
			}
		}
	}
	return out
}

// whyDown explains why c is down under the given events.
func whyDown(m *model.Model, events []Event, c *model.Component) string {
	var touching []string
	for _, e := range events {
		if e.Kind == EventPerson {
			continue
		}
		if !singleAvailable(m, e, c) {
			return e.String() + ": " + downReason(m, e, c)
		}
		for i := 0; i < c.Replicas; i++ {
			if singleReplicaFails(m, e, c, i) {
				touching = append(touching, e.String())
				break
			}
		}
	}
	if len(touching) > 0 {
		return fmt.Sprintf("%s together leave %s with fewer than %d healthy replicas%s",
			strings.Join(touching, " and "), c.Name, c.MinHealthy, primaryNote(c))
	}
	return c.Name + " is down"
}

func primaryNote(c *model.Component) string {
	if c.NeedsPrimary() {
		return " or without its primary"
	}
	return ""
}

// Explain gives the blast radius of component name: every component that
// needs it and the state each is left in when it is down, every flow's
// state, and what needs it only to start, deploy or recover.
func Explain(m *model.Model, name string) (*Impact, error) {
	xi, ok := m.ComponentIndex[name]
	if !ok {
		var names []string
		for _, c := range m.Components {
			names = append(names, c.Name)
		}
		msg := fmt.Sprintf("no component named %q", name)
		if s := model.Closest(name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, fmt.Errorf("%s", msg)
	}
	x := int32(xi)
	g := compile(m)
	a := &analyzer{m: m, g: g, sel: allFlows(g)}
	a.phasedBy = phasedIndex(g)
	down := make([]bool, g.n)
	down[x] = true
	ev := g.evaluate(down)
	imp := &Impact{Component: name, Dependents: []DependentImpact{}}
	for _, y := range g.topo {
		if y == x || ev.state(y, ctxAll) == Up {
			continue
		}
		hops, _ := g.trace(ev, y, ctxAll)
		via := ""
		if len(hops) > 0 {
			via = edgeLabel(m, hops[0].e)
		}
		imp.Dependents = append(imp.Dependents, DependentImpact{Component: m.Components[y].Name, State: ev.state(y, ctxAll), Via: via})
	}
	imp.Flows = a.outcomes(ev, func(int32) string { return name + " is down" })
	for _, ref := range a.phasedBy[x] {
		imp.NeededFor = append(imp.NeededFor, fmt.Sprintf("%s (%s)", m.Components[ref.from].Name, ref.e.src.When))
	}
	return imp, nil
}

// edgeLabel is a one-line description of an edge: "app → session-redis
// (fallback to postgres)".
func edgeLabel(m *model.Model, e *edge) string {
	s := e.src.From + " → " + e.src.To
	var notes []string
	if e.src.FallbackTo != "" {
		notes = append(notes, "fallback to "+e.src.FallbackTo)
	} else if e.src.Fallback != "" {
		notes = append(notes, "fallback: "+e.src.Fallback)
	}
	if e.src.AsyncVia != "" {
		notes = append(notes, "async via "+e.src.AsyncVia)
	}
	if e.src.Breaker != nil {
		notes = append(notes, "breaker")
	}
	if len(e.src.Flows) > 0 {
		notes = append(notes, "flows: "+strings.Join(e.src.Flows, ", "))
	}
	if len(notes) == 0 {
		return s
	}
	return s + " (" + strings.Join(notes, "; ") + ")"
}

func allFlows(g *graph) flowSet {
	s := newFlowSet(g.flows)
	for f := 0; f < g.flows; f++ {
		s.add(f)
	}
	return s
}

func phasedIndex(g *graph) [][]phasedRef {
	out := make([][]phasedRef, g.n)
	for x := range g.phased {
		for i := range g.phased[x] {
			e := &g.phased[x][i]
			for _, t := range e.targets() {
				if t >= 0 {
					out[t] = append(out[t], phasedRef{int32(x), e})
				}
			}
		}
	}
	return out
}
