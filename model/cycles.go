package model

import (
	"fmt"
	"strings"
)

// arc is one running-time dependency between components, identified by
// their declaration order. An edge X→T contributes X→T, X→fallback_to and
// X→async_via.
type arc struct {
	from, to int32
	item     int32 // index of the edge in the depends_on list of from
	edge     *Edge
}

const cycleHint = "break the cycle: mark one edge as needed only to start, deploy or recover (when: startup), or remove it"

// findCycles reports the dependency cycles among running-time edges.
//
// It runs one iterative depth-first search over the components in
// declaration order (edges in list order) and reports each back edge, the
// edge that closes a cycle, once. Removing every reported edge leaves the
// graph acyclic. Time and memory are linear in the size of the model; no
// recursion, so long chains cannot overflow the stack.
func (d *decoder) findCycles() {
	names := d.names[refComponent]
	n := len(names)
	if n == 0 || len(d.arcs) == 0 {
		return
	}
	// Arcs were appended component by component, in declaration order, so
	// they are already grouped by from: start[v] is v's first arc.
	start := make([]int32, n+1)
	for _, a := range d.arcs {
		start[a.from+1]++
	}
	for v := 0; v < n; v++ {
		start[v+1] += start[v]
	}

	const (
		unvisited = iota
		onPath
		done
	)
	state := make([]uint8, n)
	depth := make([]int32, n) // position on the path, while onPath
	type frame struct{ v, next int32 }
	var path []frame
	reported := map[[2]int32]bool{}
	for root := int32(0); root < int32(n); root++ {
		if state[root] != unvisited {
			continue
		}
		path = append(path[:0], frame{root, start[root]})
		state[root], depth[root] = onPath, 0
		for len(path) > 0 {
			top := &path[len(path)-1]
			if top.next == start[top.v+1] {
				state[top.v] = done
				path = path[:len(path)-1]
				continue
			}
			a := &d.arcs[top.next]
			top.next++
			switch state[a.to] {
			case unvisited:
				state[a.to], depth[a.to] = onPath, int32(len(path))
				path = append(path, frame{a.to, start[a.to]})
			case onPath:
				if k := [2]int32{a.from, a.to}; !reported[k] {
					reported[k] = true
					cycle := make([]int32, 0, len(path)-int(depth[a.to])+1)
					for _, f := range path[depth[a.to]:] {
						cycle = append(cycle, f.v)
					}
					cycle = append(cycle, a.to)
					d.errorAt(a.edge.Pos, indexPath(join(join("components", names[a.from]), "depends_on"), int(a.item)),
						cycleHint, "dependency cycle: %s", cycleString(names, cycle))
				}
			}
		}
	}
}

// cycleString formats a cycle as "a → b → a", eliding the middle of long
// ones so that messages stay readable and output stays linear.
func cycleString(names []string, cycle []int32) string {
	const keep = 5
	var b strings.Builder
	for i, v := range cycle {
		if len(cycle) > 3*keep && i == keep {
			fmt.Fprintf(&b, " → … %d more …", len(cycle)-2*keep)
		}
		if len(cycle) > 3*keep && i >= keep && i < len(cycle)-keep {
			continue
		}
		if i > 0 {
			b.WriteString(" → ")
		}
		b.WriteString(names[v])
	}
	return b.String()
}
