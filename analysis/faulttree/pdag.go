package faulttree

import (
	"errors"
	"fmt"
	"slices"
)

// This file turns a Tree into the form every engine works on (a "pdag",
// after SCRAM's propositional DAG): house events propagated as constants,
// Null gates removed, NOT pushed down to the basic events (De Morgan, and
// atleast K of N negated is atleast N-K+1 of the negated arguments), nested
// unshared gates of the same operator merged, duplicate arguments removed.
// Cycles are an error.

// ErrCycle is returned (wrapped, naming the gates) when gates form a cycle.
var ErrCycle = errors.New("fault tree has a cycle")

// lit is a literal of the pdag: an event (possibly negated) or a node
// (never negated: negation is pushed to the events).
type lit struct {
	node  bool  // true: Index is into pdag.nodes
	neg   bool  // event literals only
	index int32 // into Tree.Events or pdag.nodes
}

type pnode struct {
	op   Op // And, Or or AtLeast
	k    int
	args []lit
}

// pdag is the normalised tree. When constant is set the top event is the
// constant value and nodes is empty.
type pdag struct {
	nodes    []pnode
	top      lit
	constant bool
	value    bool
	negated  bool    // some event appears negated: the tree is not coherent
	order    []int32 // events in the variable order (depth-first, first appearance)
	level    []int32 // level[event] = position in order, or -1 when absent
}

type gateKey struct {
	gate int32
	neg  bool
}

// result of converting a gate: a constant or a literal.
type conv struct {
	isConst bool
	value   bool
	l       lit
}

type normaliser struct {
	t     *Tree
	p     *pdag
	memo  map[gateKey]conv
	state []uint8 // 0 unvisited, 1 on stack, 2 done (cycle detection)
	stack []int32
}

func buildPdag(t *Tree) (*pdag, error) {
	if t.Top < 0 || int(t.Top) >= len(t.Gates) {
		return nil, fmt.Errorf("fault tree %q: top gate index %d out of range (%d gates)", t.Name, t.Top, len(t.Gates))
	}
	n := &normaliser{t: t, p: &pdag{}, memo: map[gateKey]conv{}, state: make([]uint8, len(t.Gates))}
	if err := n.checkCycles(t.Top); err != nil {
		return nil, err
	}
	c, err := n.gate(t.Top, false)
	if err != nil {
		return nil, err
	}
	p := n.p
	if c.isConst {
		p.constant, p.value, p.nodes = true, c.value, nil
	} else {
		p.top = c.l
		p.merge()
	}
	p.computeOrder(len(t.Events))
	return p, nil
}

func (n *normaliser) checkCycles(g int32) error {
	switch n.state[g] {
	case 1:
		i := slices.Index(n.stack, g)
		names := make([]string, 0, len(n.stack)-i+1)
		for _, s := range n.stack[i:] {
			names = append(names, n.t.Gates[s].Name)
		}
		names = append(names, n.t.Gates[g].Name)
		return fmt.Errorf("fault tree %q: %w: %v", n.t.Name, ErrCycle, names)
	case 2:
		return nil
	}
	n.state[g] = 1
	n.stack = append(n.stack, g)
	for _, a := range n.t.Gates[g].Args {
		if a.Kind == ArgGate {
			if a.Index < 0 || int(a.Index) >= len(n.t.Gates) {
				return fmt.Errorf("fault tree %q: gate %q: argument gate index %d out of range", n.t.Name, n.t.Gates[g].Name, a.Index)
			}
			if err := n.checkCycles(a.Index); err != nil {
				return err
			}
		}
	}
	n.stack = n.stack[:len(n.stack)-1]
	n.state[g] = 2
	return nil
}

func (n *normaliser) arg(g *Gate, a Arg, neg bool) (conv, error) {
	switch a.Kind {
	case ArgGate:
		return n.gate(a.Index, neg)
	case ArgEvent:
		if a.Index < 0 || int(a.Index) >= len(n.t.Events) {
			return conv{}, fmt.Errorf("fault tree %q: gate %q: event index %d out of range", n.t.Name, g.Name, a.Index)
		}
		if neg {
			n.p.negated = true
		}
		return conv{l: lit{neg: neg, index: a.Index}}, nil
	case ArgHouse:
		if a.Index < 0 || int(a.Index) >= len(n.t.Houses) {
			return conv{}, fmt.Errorf("fault tree %q: gate %q: house event index %d out of range", n.t.Name, g.Name, a.Index)
		}
		return conv{isConst: true, value: n.t.Houses[a.Index].State != neg}, nil
	}
	return conv{}, fmt.Errorf("fault tree %q: gate %q: unknown argument kind %d", n.t.Name, g.Name, a.Kind)
}

// gate converts gate i, negated when neg, memoised per polarity.
func (n *normaliser) gate(i int32, neg bool) (conv, error) {
	key := gateKey{i, neg}
	if c, ok := n.memo[key]; ok {
		return c, nil
	}
	g := &n.t.Gates[i]
	nargs := len(g.Args)
	switch g.Op {
	case Not, Null:
		if nargs != 1 {
			return conv{}, fmt.Errorf("fault tree %q: gate %q: %s takes one argument, has %d", n.t.Name, g.Name, g.Op, nargs)
		}
		c, err := n.arg(g, g.Args[0], neg != (g.Op == Not))
		if err != nil {
			return conv{}, err
		}
		n.memo[key] = c
		return c, nil
	case And, Or, AtLeast:
	default:
		return conv{}, fmt.Errorf("fault tree %q: gate %q: unknown operator %s", n.t.Name, g.Name, g.Op)
	}
	if nargs == 0 {
		return conv{}, fmt.Errorf("fault tree %q: gate %q: %s has no arguments", n.t.Name, g.Name, g.Op)
	}
	// Express the gate as "at least k of args" (and: k=n, or: k=1), then
	// negate: not(atleast k of n) = atleast n-k+1 of the negations.
	k := g.K
	switch g.Op {
	case And:
		k = nargs
	case Or:
		k = 1
	case AtLeast:
		if k < 1 || k > nargs {
			return conv{}, fmt.Errorf("fault tree %q: gate %q: atleast %d of %d arguments (want 1..%d)", n.t.Name, g.Name, k, nargs, nargs)
		}
	}
	if neg {
		k = nargs - k + 1
	}
	args := make([]lit, 0, nargs)
	for _, a := range g.Args {
		c, err := n.arg(g, a, neg)
		if err != nil {
			return conv{}, err
		}
		if c.isConst {
			if c.value {
				k-- // a true argument counts towards k
			}
			continue
		}
		args = append(args, c.l)
	}
	c := n.simplify(k, args)
	n.memo[key] = c
	return c, nil
}

// simplify makes "at least k of args" a constant, a literal or a node.
func (n *normaliser) simplify(k int, args []lit) conv {
	// Duplicates: x and x is x, x or x is x; for and/or only (in atleast a
	// duplicate counts twice). x and not x is false, x or not x is true.
	if k == 1 || k == len(args) {
		isAnd := k == len(args) && k != 1
		slices.SortFunc(args, cmpLit)
		args = slices.Compact(args)
		for i := 1; i < len(args); i++ {
			a, b := args[i-1], args[i]
			if !a.node && !b.node && a.index == b.index && a.neg != b.neg {
				return conv{isConst: true, value: !isAnd}
			}
		}
		if isAnd {
			k = len(args)
		}
	}
	switch {
	case k <= 0:
		return conv{isConst: true, value: true}
	case k > len(args):
		return conv{isConst: true, value: false}
	case len(args) == 1:
		return conv{l: args[0]}
	}
	op := AtLeast
	switch k {
	case 1:
		op = Or
	case len(args):
		op = And
	}
	n.p.nodes = append(n.p.nodes, pnode{op: op, k: k, args: args})
	return conv{l: lit{node: true, index: int32(len(n.p.nodes) - 1)}}
}

func cmpLit(a, b lit) int {
	switch {
	case a.node != b.node:
		if a.node {
			return 1
		}
		return -1
	case a.index != b.index:
		return int(a.index - b.index)
	case a.neg != b.neg:
		if a.neg {
			return 1
		}
		return -1
	}
	return 0
}

// merge flattens an and (or) argument of an and (or) node into its parent
// when the argument has no other parent, so the engines see wide gates.
func (p *pdag) merge() {
	parents := make([]int32, len(p.nodes))
	for _, nd := range p.nodes {
		for _, a := range nd.args {
			if a.node {
				parents[a.index]++
			}
		}
	}
	for i := range p.nodes {
		nd := &p.nodes[i]
		if nd.op == AtLeast {
			continue
		}
		var out []lit
		changed := false
		for j := 0; j < len(nd.args); j++ {
			a := nd.args[j]
			if a.node && parents[a.index] == 1 && p.nodes[a.index].op == nd.op {
				if !changed {
					out = append(out, nd.args[:j]...)
					changed = true
				}
				// Children were built before parents, so the child is
				// already flat. Its only parent now holds its arguments:
				// drop its own copy, or a chain of n gates would keep
				// n²/2 arguments alive.
				out = append(out, p.nodes[a.index].args...)
				p.nodes[a.index].args = nil
				continue
			}
			if changed {
				out = append(out, a)
			}
		}
		if changed {
			nd.args = out
			nd.k = len(out)
			if nd.op == Or {
				nd.k = 1
			}
		}
	}
}

// computeOrder sets the variable order: events in depth-first order of
// first appearance from the top, visiting at each gate its gate arguments
// from the smallest sub-DAG to the largest, then its events. Measured on
// SCRAM's inputs (BDD nodes): CEA9601 1.51M against 4.51M in plain
// argument order (3.3M with gates first, 3.4M largest first); Baobab1
// 13.1k against 12.0k; Chinese 335 against 304.
func (p *pdag) computeOrder(nevents int) {
	p.level = make([]int32, nevents)
	for i := range p.level {
		p.level[i] = -1
	}
	if p.constant {
		return
	}
	// size[n]: argument slots under n, counted with repetition (a cheap
	// measure of how much of the DAG a gate spans).
	size := make([]int, len(p.nodes))
	for _, i := range p.reachable() {
		for _, a := range p.nodes[i].args {
			size[i]++
			if a.node {
				size[i] += size[a.index]
			}
		}
	}
	seen := make([]bool, len(p.nodes))
	var visit func(l lit)
	visit = func(l lit) {
		if !l.node {
			if p.level[l.index] < 0 {
				p.level[l.index] = int32(len(p.order))
				p.order = append(p.order, l.index)
			}
			return
		}
		if seen[l.index] {
			return
		}
		seen[l.index] = true
		args := slices.Clone(p.nodes[l.index].args)
		slices.SortStableFunc(args, func(a, b lit) int {
			switch {
			case a.node && b.node:
				return size[a.index] - size[b.index]
			case a.node:
				return -1
			case b.node:
				return 1
			}
			return 0
		})
		for _, a := range args {
			visit(a)
		}
	}
	visit(p.top)
}

// reachable returns the nodes reachable from the top, children before
// parents.
func (p *pdag) reachable() []int32 {
	if p.constant || !p.top.node {
		return nil
	}
	seen := make([]bool, len(p.nodes))
	var out []int32
	var visit func(i int32)
	visit = func(i int32) {
		seen[i] = true
		for _, a := range p.nodes[i].args {
			if a.node && !seen[a.index] {
				visit(a.index)
			}
		}
		out = append(out, i)
	}
	visit(p.top.index)
	return out
}
