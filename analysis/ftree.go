package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spofhq/spof/analysis/faulttree"
	"github.com/spofhq/spof/model"
)

// FaultTree returns the fault tree of a flow: its top event is the flow
// down, and its basic events are the model's (named as Event.String:
// component:X, instance:X/i, zone:Z, region:R, provider:P, hazard:H;
// people never take a flow down). The gates are docs/model.md's semantics,
// the same as the order-1 analysis evaluates, so that the minimal cut sets
// of order 1 are check's SPOFs of the flow:
//
//   - the flow is down when one of its steps is;
//   - a component is down when a hazard breaking it fails, when fewer
//     than min_healthy replicas are up (at least replicas-min_healthy+1
//     fail), when its primary fails and it needs it, or when one of its
//     running dependencies in force for the flow is;
//   - a replica fails with its own event (component:X for a single
//     replica, instance:X/i otherwise), its provider, its zone and the
//     zone's region;
//   - a hard dependency is down with its target; one with fallback_to Y
//     when both are; one with async_via Q when Q is; a fallback alone
//     never takes the caller down (it degrades it).
//
// Gates are shared: a component has one gate per flow it can differ in,
// so the tree stays the size of the model. Every event has its
// probability: its unavailability (EventUnavailability).
func FaultTree(m *model.Model, flow string) (*faulttree.Tree, error) {
	trees, err := FaultTrees(m, []string{flow})
	if err != nil {
		return nil, err
	}
	return trees[0], nil
}

// FaultTrees returns the fault trees of the named flows, in the model's
// flow order (every flow when flows is empty), compiling the model once.
func FaultTrees(m *model.Model, flows []string) ([]*faulttree.Tree, error) {
	g, err := compile(m)
	if err != nil {
		return nil, err
	}
	for _, name := range flows {
		if _, ok := g.flowIx[name]; !ok {
			return nil, fmt.Errorf("%w: unknown flow %q (flows: %s)", ErrInvalidModel, name, strings.Join(g.flowNames0(), ", "))
		}
	}
	brokenBy := hazardsBreaking(m)
	single := providersOfOneComponent(m)
	listed := map[string]bool{}
	for _, e := range Events(m) {
		listed[e.String()] = true
	}
	var out []*faulttree.Tree
	for f, fl := range m.Flows {
		if len(flows) > 0 && !slices.Contains(flows, fl.Name) {
			continue
		}
		b := &treeBuilder{g: g, m: m, events: map[string]int32{}, down: map[int32]faulttree.Arg{},
			brokenBy: brokenBy, listed: listed}
		b.t.Name = fl.Name
		var steps []faulttree.Arg
		for _, x := range g.steps[f] {
			steps = append(steps, b.componentDown(x, f))
		}
		b.t.Top = b.gate("flow:"+fl.Name, faulttree.Or, 0, steps)
		if err := setProbabilities(m, &b.t, single); err != nil {
			return nil, err
		}
		out = append(out, &b.t)
	}
	return out, nil
}

type treeBuilder struct {
	g        *graph
	m        *model.Model
	t        faulttree.Tree
	events   map[string]int32        // event name → index in t.Events
	down     map[int32]faulttree.Arg // component → its down gate (or event), for this flow
	brokenBy map[string][]string
	listed   map[string]bool // the events Events lists
}

// event returns the argument of the named basic event, adding it once.
func (b *treeBuilder) event(name string) faulttree.Arg {
	i, ok := b.events[name]
	if !ok {
		i = int32(len(b.t.Events))
		b.t.Events = append(b.t.Events, faulttree.Event{Name: name})
		b.events[name] = i
	}
	return faulttree.Arg{Kind: faulttree.ArgEvent, Index: i}
}

// gate adds a gate and returns its index.
func (b *treeBuilder) gate(name string, op faulttree.Op, k int, args []faulttree.Arg) int32 {
	b.t.Gates = append(b.t.Gates, faulttree.Gate{Name: name, Op: op, K: k, Args: args})
	return int32(len(b.t.Gates) - 1)
}

// or is an Or gate over args, or the single argument itself.
func (b *treeBuilder) or(name string, args []faulttree.Arg) faulttree.Arg {
	if len(args) == 1 {
		return args[0]
	}
	return faulttree.Arg{Kind: faulttree.ArgGate, Index: b.gate(name, faulttree.Or, 0, args)}
}

// replicaFails is the gate (or event) of replica i of component c failing.
func (b *treeBuilder) replicaFails(c *model.Component, i int) faulttree.Arg {
	own := "component:" + c.Name
	if c.Replicas > 1 {
		own = fmt.Sprintf("instance:%s/%d", c.Name, i)
	}
	args := []faulttree.Arg{b.event(own)}
	if p := "provider:" + c.Provider; c.Provider != "" && b.listed[p] {
		args = append(args, b.event(p))
	}
	if z := c.ReplicaZone(i); z != "" {
		args = append(args, b.event("zone:"+z))
		if zz := b.m.Zone(z); zz != nil && zz.Region != "" {
			args = append(args, b.event("region:"+zz.Region))
		}
	}
	return b.or(fmt.Sprintf("replica:%s/%d", c.Name, i), args)
}

// componentDown is the gate of component x down in flow f's context.
func (b *treeBuilder) componentDown(x int32, f int) faulttree.Arg {
	if a, ok := b.down[x]; ok {
		return a
	}
	c := b.m.Components[x]
	var args []faulttree.Arg
	for _, h := range b.brokenBy[c.Name] {
		args = append(args, b.event("hazard:"+h))
	}
	n := max(c.Replicas, 1)
	replicas := make([]faulttree.Arg, n)
	for i := range n {
		replicas[i] = b.replicaFails(c, i)
	}
	switch k := n - c.MinHealthy + 1; {
	case n == 1 || k == 1:
		args = append(args, b.or("replicas:"+c.Name, replicas))
	case k >= n:
		args = append(args, faulttree.Arg{Kind: faulttree.ArgGate, Index: b.gate("replicas:"+c.Name, faulttree.And, 0, replicas)})
	default:
		args = append(args, faulttree.Arg{Kind: faulttree.ArgGate, Index: b.gate("replicas:"+c.Name, faulttree.AtLeast, k, replicas)})
	}
	if n > 1 && c.NeedsPrimary() {
		args = append(args, replicas[0])
	}
	for i := range b.g.edges[x] {
		e := &b.g.edges[x][i]
		if !e.applies(f) {
			continue
		}
		var alts []faulttree.Arg
		if !e.capped {
			to := b.componentDown(e.to, f)
			if e.fallbackTo >= 0 {
				to = faulttree.Arg{Kind: faulttree.ArgGate, Index: b.gate(
					fmt.Sprintf("fallback:%s→%s|%s", c.Name, b.m.Components[e.to].Name, b.m.Components[e.fallbackTo].Name),
					faulttree.And, 0, []faulttree.Arg{to, b.componentDown(e.fallbackTo, f)})}
			}
			alts = append(alts, to)
		}
		if e.asyncVia >= 0 {
			alts = append(alts, b.componentDown(e.asyncVia, f))
		}
		args = append(args, alts...)
	}
	a := b.or("down:"+c.Name, dedupArgs(args))
	b.down[x] = a
	return a
}

func dedupArgs(args []faulttree.Arg) []faulttree.Arg {
	out := args[:0]
	seen := map[faulttree.Arg]bool{}
	for _, a := range args {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
