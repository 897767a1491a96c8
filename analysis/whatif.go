package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spofhq/spof/model"
)

// Analyzer answers what-if questions about one model, compiled once: each
// question then costs what the failure reaches, not the size of the model
// (the chaos plan asks one per experiment). It is not safe for concurrent
// use; the model must not change while it is in use.
type Analyzer struct {
	a *analyzer
}

// New compiles m for what-if questions. It returns an error wrapping
// ErrInvalidModel when m names something it does not declare, has a value
// out of range or a cycle of running-time dependencies.
func New(m *model.Model) (*Analyzer, error) {
	a, err := newAnalyzer(m, nil)
	if err != nil {
		return nil, err
	}
	return &Analyzer{a: a}, nil
}

// WhatIf evaluates every flow with all the given events failed at once and
// says why each flow that is not up is not. See Analyzer.WhatIf.
func WhatIf(m *model.Model, events []Event) ([]FlowOutcome, error) {
	an, err := New(m)
	if err != nil {
		return nil, err
	}
	return an.WhatIf(events)
}

// WhatIf evaluates every flow with all the given events failed at once and
// says why each flow that is not up is not. An event that names nothing in
// the model is an error (see Resolve).
//
// A person:P event changes no running flow: it leaves every flow up, and
// says, for each flow, what nobody else can then do for it (the
// components only P knows, the resources only P holds).
func (an *Analyzer) WhatIf(events []Event) ([]FlowOutcome, error) {
	a := an.a
	for _, e := range events {
		if err := Resolve(a.m, e); err != nil {
			return nil, err
		}
	}
	down := a.downUnder(events)
	a.p.run(down, nil)
	out := a.outcomes(a.p, func(x int32) string { return whyDown(a.m, events, a.m.Components[x]) })
	for _, e := range events {
		if e.Kind == EventPerson {
			a.personOutcomes(e.Name, out)
		}
	}
	return out, nil
}

// downUnder lists the components that are down by themselves under
// events, in index order.
func (a *analyzer) downUnder(events []Event) []int32 {
	fs := newFailures(events...)
	var down []int32
	seen := map[int32]bool{}
	for _, e := range events {
		for _, x := range a.ix.candidates(a.m, e) {
			if !seen[x] {
				seen[x] = true
				if !fs.available(a.m, a.m.Components[x], a.ix.brokenBy) {
					down = append(down, x)
				}
			}
		}
	}
	slices.Sort(down)
	return down
}

// outcomes gives every flow's state under the propagator's last run, with
// a chain for flows that are not up, and a note for up flows that could
// not restart.
func (a *analyzer) outcomes(v *propagator, reason func(int32) string) []FlowOutcome {
	blocked := a.blockedRefs(v)
	out := make([]FlowOutcome, 0, len(a.m.Flows))
	for f, fl := range a.m.Flows {
		o := FlowOutcome{Flow: fl.Name, Criticality: fl.Criticality, State: a.g.flowState(v, f)}
		if o.State != Up {
			step := a.worstStep(v, f)
			hops, root := a.g.trace(v, step, f)
			o.Chain = append(o.Chain, reason(root))
			o.Chain = append(o.Chain, a.describeHops(hopChain{traced: hops}, v, f, reason)...)
			o.Chain = append(o.Chain, fmt.Sprintf("%s passes through %s", fl.Name, a.m.Components[step].Name),
				fmt.Sprintf("%s (%s) is %s", fl.Name, fl.Criticality, o.State))
		} else {
			for _, ref := range blocked {
				if a.g.member[ref.from].has(f) {
					o.Chain = append(o.Chain, "up, but "+a.describePhased(ref, v))
				}
			}
		}
		out = append(out, o)
	}
	return out
}

// blockedRefs lists the when: edges whose targets are down under v and
// that are down for it, by target in model order.
func (a *analyzer) blockedRefs(v *propagator) []*phasedRef {
	targets := slices.Clone(v.changed)
	slices.Sort(targets)
	var out []*phasedRef
	for _, t := range targets {
		if v.state(t, ctxAll) != Down {
			continue
		}
		for i := range a.phasedBy[t] {
			ref := &a.phasedBy[t][i]
			if edgeResult(ref.e, v, ctxAll) == Down {
				out = append(out, ref)
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
	an, err := New(m)
	if err != nil {
		return nil, err
	}
	return an.Explain(name)
}

// Explain is the package function Explain on the compiled model.
func (an *Analyzer) Explain(name string) (*Impact, error) {
	a := an.a
	m, g := a.m, a.g
	x, ok := g.comp[name]
	if !ok {
		msg := fmt.Sprintf("no component named %q", name)
		if s := model.Closest(name, g.componentNames()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, fmt.Errorf("%s", msg)
	}
	a.p.run([]int32{x}, nil)
	v := a.p
	imp := &Impact{Component: name, Dependents: []DependentImpact{}}
	for _, y := range v.changed { // in topological order
		if y == x {
			continue
		}
		hops, _ := g.trace(v, y, ctxAll)
		via := ""
		if len(hops) > 0 {
			via = a.edgeLabel(hops[0].e)
		}
		imp.Dependents = append(imp.Dependents, DependentImpact{Component: m.Components[y].Name, State: v.state(y, ctxAll), Via: via})
	}
	imp.Flows = a.outcomes(v, func(int32) string { return name + " is down" })
	for _, ref := range a.phasedBy[x] {
		imp.NeededFor = append(imp.NeededFor, fmt.Sprintf("%s (%s)", m.Components[ref.from].Name, ref.e.src.When))
	}
	return imp, nil
}

// edgeLabel is a one-line description of an edge: "app → session-redis
// (fallback to postgres)".
func (a *analyzer) edgeLabel(e *edge) string {
	s := a.m.Components[e.from].Name + " → " + e.src.To
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

// personOutcomes adds to each flow what nobody but person name can do for
// it: operate or recover the components only they know that the flow
// needs (at run time or to restart), use the resources only they hold (a
// resource named like a component concerns the flows that need it, any
// other every flow). A person changes no flow's state.
func (a *analyzer) personOutcomes(name string, out []FlowOutcome) {
	p := a.m.Person(name)
	if p == nil {
		return
	}
	holders := map[string]int{}
	for _, q := range a.m.People {
		for _, r := range q.Holds {
			holders[r]++
		}
	}
	for f := range out {
		var notes []string
		for _, c := range p.Knows {
			if len(knowers(a.m, c)) == 1 && a.g.needs[a.g.comp[c]].has(f) {
				notes = append(notes, fmt.Sprintf("only %s knows %s, which %s needs: without %s nobody can operate, fail over or recover it", name, c, out[f].Flow, name))
			}
		}
		for _, r := range p.Holds {
			if holders[r] != 1 {
				continue
			}
			if x, ok := a.g.comp[r]; ok && !a.g.needs[x].has(f) {
				continue
			}
			notes = append(notes, fmt.Sprintf("only %s holds %s: without %s nobody can use it", name, r, name))
		}
		o := &out[f]
		if o.State == Up {
			for _, n := range notes {
				o.Chain = append(o.Chain, "up, but "+n)
			}
			continue
		}
		// The chain of a flow that is not up ends with the flow.
		last := o.Chain[len(o.Chain)-1]
		o.Chain = append(append(o.Chain[:len(o.Chain)-1:len(o.Chain)-1], notes...), last)
	}
}
