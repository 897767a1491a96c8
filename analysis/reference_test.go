package analysis

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/model"
)

// This file holds a deliberately naive evaluator written straight from
// docs/model.md, sharing no code with the fast algorithm beyond the model
// types and the event list: fail one event, evaluate every flow from
// scratch, classify. The property test compares it with Check.

type refOutcome struct {
	Category    Category
	Severity    model.Criticality
	Flows       []string
	Components  []string // the first MaxComponents
	BlastRadius int
}

func refReplicaFails(m *model.Model, e Event, c *model.Component, i int) bool {
	switch e.Kind {
	case EventComponent:
		return c.Name == e.Name
	case EventInstance:
		return c.Name == e.Name && i == e.Instance
	case EventProvider:
		return c.Provider == e.Name
	case EventZone, EventRegion:
		if len(c.Zones) == 0 {
			return false
		}
		z := c.Zones[i%len(c.Zones)]
		if e.Kind == EventZone {
			return z == e.Name
		}
		for _, zz := range m.Zones {
			if zz.Name == z {
				return zz.Region == e.Name
			}
		}
	}
	return false
}

func refDown(m *model.Model, e Event) map[string]bool {
	down := map[string]bool{}
	for _, c := range m.Components {
		if e.Kind == EventHazard {
			for _, h := range m.Hazards {
				if h.Name == e.Name && slices.Contains(h.Breaks, c.Name) {
					down[c.Name] = true
				}
			}
			continue
		}
		alive := 0
		primaryLost := false
		for i := 0; i < c.Replicas; i++ {
			if refReplicaFails(m, e, c, i) {
				if i == 0 {
					primaryLost = true
				}
			} else {
				alive++
			}
		}
		stateful := c.Kind == model.KindDatabase || c.Kind == model.KindCache || c.Kind == model.KindQueue || c.Kind == model.KindStorage
		if alive < c.MinHealthy || (stateful && c.Failover != model.FailoverAutomatic && primaryLost) {
			down[c.Name] = true
		}
	}
	return down
}

// refState evaluates component name for flow ("" = every edge).
func refState(m *model.Model, down map[string]bool, name, flow string, memo map[string]State) State {
	return refStateTripped(m, down, nil, name, flow, memo)
}

// refStateTripped is refState with some edges tripped: a tripped call
// (a circuit breaker giving up on a slow target) evaluates as if what it
// waits on, the queue of an asynchronous call or else the target, were
// down.
func refStateTripped(m *model.Model, down map[string]bool, tripped map[*model.Edge]bool, name, flow string, memo map[string]State) State {
	if s, ok := memo[name]; ok {
		return s
	}
	s := Up
	if down[name] {
		s = Down
	} else {
		for _, e := range m.Component(name).DependsOn {
			if e.When != model.WhenRunning {
				continue
			}
			if flow != "" && len(e.Flows) > 0 && !slices.Contains(e.Flows, flow) {
				continue
			}
			if tripped[e] && e.AsyncVia != "" {
				s = Down
				continue
			}
			r := refStateTripped(m, down, tripped, e.To, flow, memo)
			if tripped[e] {
				r = Down
			}
			if e.FallbackTo != "" && r == Down {
				if refStateTripped(m, down, tripped, e.FallbackTo, flow, memo) == Down {
					r = Down
				} else {
					r = Degraded
				}
			}
			if (e.Fallback != "" && e.FallbackTo == "") || e.AsyncVia != "" {
				r = min(r, Degraded)
			}
			if e.AsyncVia != "" {
				r = max(r, refStateTripped(m, down, tripped, e.AsyncVia, flow, memo))
			}
			s = max(s, r)
		}
	}
	memo[name] = s
	return s
}

// refUses reports whether flow's running closure contains name.
func refUses(m *model.Model, flow *model.Flow, name string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(c string) bool {
		if c == name {
			return true
		}
		if seen[c] {
			return false
		}
		seen[c] = true
		for _, e := range m.Component(c).DependsOn {
			if e.When != model.WhenRunning || (len(e.Flows) > 0 && !slices.Contains(e.Flows, flow.Name)) {
				continue
			}
			for _, t := range []string{e.To, e.FallbackTo, e.AsyncVia} {
				if t != "" && walk(t) {
					return true
				}
			}
		}
		return false
	}
	for _, s := range flow.Steps {
		if walk(s) {
			return true
		}
	}
	return false
}

func refAnalyse(m *model.Model) map[string]refOutcome {
	out := map[string]refOutcome{}
	for _, e := range Events(m) {
		if e.Kind == EventPerson {
			continue
		}
		down := refDown(m, e)
		all := map[string]State{}
		var comps []string
		for _, c := range m.Components {
			if refState(m, down, c.Name, "", all) != Up {
				comps = append(comps, c.Name)
			}
		}
		var downFlows, degFlows []*model.Flow
		for _, f := range m.Flows {
			memo := map[string]State{}
			s := Up
			for _, step := range f.Steps {
				s = max(s, refState(m, down, step, f.Name, memo))
			}
			switch s {
			case Down:
				downFlows = append(downFlows, f)
			case Degraded:
				degFlows = append(degFlows, f)
			}
		}
		slices.Sort(comps)
		o := refOutcome{Components: comps[:min(len(comps), MaxComponents)], BlastRadius: len(comps)}
		hit := downFlows
		switch {
		case len(downFlows) > 0:
			o.Category = CategorySPOF
		case len(degFlows) > 0:
			o.Category, hit = CategoryDegradation, degFlows
		default:
			seen := map[string]bool{}
			for _, c := range m.Components {
				for _, ed := range c.DependsOn {
					if ed.When == model.WhenRunning {
						continue
					}
					// the when: edge's result, evaluated like a running edge over every edge
					r := all[ed.To]
					if ed.FallbackTo != "" && r == Down && all[ed.FallbackTo] != Down {
						r = Degraded
					}
					if (ed.Fallback != "" && ed.FallbackTo == "") || ed.AsyncVia != "" {
						r = min(r, Degraded)
					}
					if ed.AsyncVia != "" {
						r = max(r, all[ed.AsyncVia])
					}
					if r != Down {
						continue
					}
					for _, f := range m.Flows {
						if !seen[f.Name] && refUses(m, f, c.Name) {
							seen[f.Name] = true
							hit = append(hit, f)
						}
					}
				}
			}
			if len(hit) > 0 {
				o.Category = CategoryRecovery
			}
		}
		if o.Category == "" {
			continue
		}
		for _, f := range hit {
			o.Flows = append(o.Flows, f.Name)
			o.Severity = max(o.Severity, f.Criticality)
		}
		slices.Sort(o.Flows)
		out[e.String()] = o
	}
	return out
}

// randomModel builds a valid random model: edges only point to components
// declared later, so running edges form a DAG.
func randomModel(r *rand.Rand) *model.Model {
	m := &model.Model{Version: 1, System: "random", File: "random.yaml"}
	nz := 1 + r.IntN(4)
	for i := 0; i < nz; i++ {
		m.Zones = append(m.Zones, &model.Zone{Name: fmt.Sprintf("z%d", i), Region: fmt.Sprintf("r%d", i%2)})
	}
	n := 2 + r.IntN(10)
	nf := 1 + r.IntN(4)
	flowName := func(i int) string { return fmt.Sprintf("f%d", i) }
	for i := 0; i < n; i++ {
		c := &model.Component{Name: fmt.Sprintf("c%d", i), Kind: model.Kinds[r.IntN(len(model.Kinds))]}
		c.Replicas = 1 + r.IntN(3)
		if r.IntN(3) == 0 {
			c.Replicas = 1
		}
		c.MinHealthy = 1 + r.IntN(c.Replicas)
		if r.IntN(2) == 0 {
			for _, z := range r.Perm(nz)[:1+r.IntN(nz)] {
				c.Zones = append(c.Zones, m.Zones[z].Name)
			}
		}
		if r.IntN(3) == 0 {
			c.Provider = fmt.Sprintf("p%d", r.IntN(3))
		}
		c.Failover = model.DefaultFailover(c.Kind)
		if r.IntN(3) == 0 {
			c.Failover = model.Failovers[r.IntN(3)]
		}
		later := func() string { return fmt.Sprintf("c%d", i+1+r.IntN(n-i-1)) }
		if i < n-1 {
			for k := r.IntN(4); k > 0; k-- {
				e := &model.Edge{From: c.Name, To: later()}
				switch r.IntN(7) {
				case 0:
					e.FallbackTo = later()
				case 1:
					e.Fallback = "cached answer"
				case 2:
					e.AsyncVia = later()
				case 3:
					e.When = model.Whens[r.IntN(len(model.Whens))]
				case 4:
					e.FallbackTo, e.Fallback = later(), "slower"
				}
				if r.IntN(4) == 0 {
					e.Flows = []string{flowName(r.IntN(nf))}
				}
				if r.IntN(5) == 0 {
					e.Breaker = &model.Breaker{Timeout: time.Second}
				}
				if e.FallbackTo == e.To || e.AsyncVia == e.To {
					continue
				}
				c.DependsOn = append(c.DependsOn, e)
			}
		}
		m.Components = append(m.Components, c)
	}
	for i := 0; i < nf; i++ {
		f := &model.Flow{Name: flowName(i), Criticality: model.Criticalities[r.IntN(4)]}
		for _, s := range r.Perm(n)[:1+r.IntN(min(3, n))] {
			f.Steps = append(f.Steps, m.Components[s].Name)
		}
		m.Flows = append(m.Flows, f)
	}
	for i := r.IntN(3); i > 0; i-- {
		h := &model.Hazard{Name: fmt.Sprintf("h%d", i)}
		for _, s := range r.Perm(n)[:1+r.IntN(2)] {
			h.Breaks = append(h.Breaks, m.Components[s].Name)
		}
		m.Hazards = append(m.Hazards, h)
	}
	return m
}

func TestCheckMatchesBruteForce(t *testing.T) {
	runs := propertyRuns(5000)
	if testing.Short() {
		runs = 500
	}
	for seed := 0; seed < runs; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		m := randomModel(r)
		want := refAnalyse(m)
		res := mustCheck(t, m, Options{})
		got := map[string]refOutcome{}
		ids := map[string]bool{}
		for _, f := range res.Findings {
			if f.Category == CategoryOperational {
				continue
			}
			if _, dup := got[f.Event]; dup {
				t.Fatalf("seed %d: event %s reported twice", seed, f.Event)
			}
			if ids[f.ID] {
				t.Fatalf("seed %d: id %s reported twice", seed, f.ID)
			}
			ids[f.ID] = true
			got[f.Event] = refOutcome{Category: f.Category, Severity: f.Severity, Flows: f.Flows, Components: f.Components, BlastRadius: f.BlastRadius}
			checkChain(t, seed, f)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("seed %d: fast analysis differs from brute force (-want +got):\n%s\nmodel:\n%s", seed, diff, dumpModel(m))
		}
	}
}

// checkChain asserts the chain ends in a flow the finding names.
func checkChain(t *testing.T, seed int, f Finding) {
	t.Helper()
	if len(f.Chain) < 2 {
		t.Fatalf("seed %d: %s: chain too short: %q", seed, f.Event, f.Chain)
	}
	last := f.Chain[len(f.Chain)-1]
	for _, fl := range f.Flows {
		if strings.HasPrefix(last, fl+" (") {
			return
		}
	}
	t.Fatalf("seed %d: %s: chain's last step %q names none of its flows %v", seed, f.Event, last, f.Flows)
}

func dumpModel(m *model.Model) string {
	var b strings.Builder
	for _, z := range m.Zones {
		fmt.Fprintf(&b, "zone %s region %s\n", z.Name, z.Region)
	}
	for _, c := range m.Components {
		fmt.Fprintf(&b, "%s kind=%s replicas=%d min=%d zones=%v provider=%s failover=%s\n", c.Name, c.Kind, c.Replicas, c.MinHealthy, c.Zones, c.Provider, c.Failover)
		for _, e := range c.DependsOn {
			fmt.Fprintf(&b, "  -> %s fallback_to=%s fallback=%q async=%s when=%s flows=%v\n", e.To, e.FallbackTo, e.Fallback, e.AsyncVia, e.When, e.Flows)
		}
	}
	for _, f := range m.Flows {
		fmt.Fprintf(&b, "flow %s %s %v\n", f.Name, f.Criticality, f.Steps)
	}
	for _, h := range m.Hazards {
		fmt.Fprintf(&b, "hazard %s breaks %v\n", h.Name, h.Breaks)
	}
	return b.String()
}

// TestTrippedMatchesReference compares the propagator with some edges
// tripped (WhatIfSlow's per-edge override) and some components down with
// the reference evaluator, flow by flow.
func TestTrippedMatchesReference(t *testing.T) {
	for seed := 0; seed < propertyRuns(2000); seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 17))
		m := randomModel(r)
		a, err := newAnalyzer(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		trips := a.g.newTripSet()
		tripped := map[*model.Edge]bool{}
		for x := range a.g.edges {
			for i := range a.g.edges[x] {
				if e := &a.g.edges[x][i]; r.IntN(4) == 0 {
					trips.add(e)
					tripped[e.src] = true
				}
			}
		}
		down := map[string]bool{}
		var downIx []int32
		for x, c := range m.Components {
			if r.IntN(6) == 0 {
				down[c.Name] = true
				downIx = append(downIx, int32(x))
			}
		}
		a.p.run(downIx, trips)
		for f, fl := range m.Flows {
			memo := map[string]State{}
			want := Up
			for _, step := range fl.Steps {
				want = max(want, refStateTripped(m, down, tripped, step, fl.Name, memo))
			}
			if got := a.g.flowState(a.p, f); got != want {
				t.Fatalf("seed %d: flow %s is %s, reference says %s; tripped %d edges, down %v\nmodel:\n%s", seed, fl.Name, got, want, len(tripped), down, dumpModel(m))
			}
		}
	}
}

// propertyRuns is how many random models a property test checks: full, or
// a tenth of it under the race detector, which makes each run ten times
// slower and finds nothing more in code that runs on one goroutine (make
// test also runs these tests in full without it: see the Makefile's props
// target).
func propertyRuns(full int) int {
	if raceEnabled {
		return max(full/10, 50)
	}
	return full
}
