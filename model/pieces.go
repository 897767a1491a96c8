package model

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/spofhq/spof/internal/yamltree"
)

// Loading a large model in pieces. yamltree.Split cuts the components:
// section between components; each piece is parsed and its components
// decoded on a goroutine of their own, and the piece's tree is dropped
// right away, so that the whole tree never exists: decoding overlaps
// parsing, on every core, and the collector has little to trace.
//
// The names a component refers to may be declared in another piece, or
// in the rest of the model: the pieces' decoders only record them, and
// the model's decoder checks them once it has declared every name. This
// is the fast path of valid models only. Whenever a piece does not parse
// alone, or anything is wrong with the model, Parse starts again from the
// whole input, so that errors come out exactly as they always do.

// pieceResult is what decoding one piece gives.
type pieceResult struct {
	components []*Component
	keys       []yamltree.Node // copies of the components' keys
	refs       []pendingRef
	arcs       []pendingArc
	failed     bool
	yaml       bool // failed because the piece does not parse alone
}

// pendingRef is a reference a piece's decoder could not check.
type pendingRef struct {
	kind refKind
	name string
}

// pendingArc is a running-time dependency whose target a piece's decoder
// could not look up: from counts in the piece.
type pendingArc struct {
	from int32
	to   string
	item int32
	edge *Edge
}

// split holds the decoded pieces until the model's decoder takes their
// components.
type split struct {
	pieces []pieceResult
}

// parsePieces loads a large model in pieces, or returns nil: the model is
// small, not of the shape, or not valid. whole then says that its YAML
// cannot be parsed in pieces either (a piece does not parse alone, or the
// file is not of the shape), so that the caller does not try again.
func parsePieces(file string, data []byte) (m *Model, whole bool) {
	workers := min(runtime.GOMAXPROCS(0), 8)
	if workers < 2 {
		return nil, false
	}
	root, components, pieces, ok := yamltree.Split(data, workers*16)
	if !ok {
		return nil, true
	}
	s := &split{pieces: make([]pieceResult, len(pieces))}
	next := make(chan int, len(pieces))
	for i := range pieces {
		next <- i
	}
	close(next)
	var failed atomic.Bool // once a piece fails, the others are not worth it
	var wg sync.WaitGroup
	for range min(workers, len(pieces)) {
		wg.Go(func() {
			var blocks yamltree.Blocks // each tree is dropped once decoded
			for i := range next {
				if failed.Load() {
					continue
				}
				if s.pieces[i] = decodePiece(file, pieces[i], &blocks); s.pieces[i].failed {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return nil, slices.ContainsFunc(s.pieces, func(r pieceResult) bool { return r.yaml })
	}
	// The components' mapping of the root gets the keys: the model's
	// decoder checks them (names, duplicates) as it would the whole
	// mapping, and finds each one's value decoded already.
	null := &yamltree.Node{Kind: yamltree.ScalarNode, Tag: "!!null"}
	for i := range s.pieces {
		r := &s.pieces[i]
		for k := range r.keys {
			components.Content = append(components.Content, &r.keys[k], null)
		}
	}
	d := &decoder{file: file, split: s}
	if m = d.model(root); m == nil || len(d.errs) > 0 || d.splitFailed {
		return nil, false
	}
	return m, false
}

// decodePiece parses a piece and decodes its components. Nothing it
// returns holds a node of the piece's tree (keys are copied), so the next
// piece can reuse its blocks.
func decodePiece(file string, p yamltree.Piece, blocks *yamltree.Blocks) pieceResult {
	root, ok := p.ParseReusing(blocks)
	if !ok {
		return pieceResult{failed: true, yaml: true}
	}
	d := &decoder{file: file, deferRefs: true}
	// Room for the references of a model like spof gen's (one every 55
	// bytes or so), so that the lists rarely grow.
	d.pendingRefs = make([]pendingRef, 0, p.Len()/40)
	d.pendingArcs = make([]pendingArc, 0, p.Len()/60)
	pairs := d.pairs(root, "components")
	if len(pairs) != len(root.Content)/2 || len(d.errs) > 0 {
		// A merge key (<<) would put its entries after all the
		// others of the whole mapping; a duplicate is an error.
		return pieceResult{failed: true}
	}
	d.arena = arena{} // pairs lives on: keep its block out of the resets
	r := pieceResult{components: make([]*Component, len(pairs)), keys: make([]yamltree.Node, len(pairs))}
	for i, p := range pairs {
		r.keys[i] = *p.key
		r.components[i] = d.component(int32(i), p)
		d.arena.reset()
		if len(d.errs) > 0 {
			return pieceResult{failed: true}
		}
	}
	r.refs, r.arcs = d.pendingRefs, d.pendingArcs
	return r
}

// splitComponents returns the components decoded in pieces, once the
// names are declared: it checks the references the pieces recorded and
// adds their running-time dependencies for cycle detection, a piece per
// goroutine. On an unknown name it sets splitFailed.
func (d *decoder) splitComponents() []*Component {
	pieces := d.split.pieces
	bases := make([]int32, len(pieces)+1)
	for i, r := range pieces {
		bases[i+1] = bases[i] + int32(len(r.components))
	}
	cs := make([]*Component, 0, bases[len(pieces)])
	for _, r := range pieces {
		cs = append(cs, r.components...)
	}
	if len(cs) != len(d.names[refComponent]) {
		d.splitFailed = true // cannot be: the keys are the names
		return nil
	}
	arcs := make([][]arc, len(pieces))
	unknown := make([]bool, len(pieces))
	next := make(chan int, len(pieces))
	for i := range pieces {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), 8, len(pieces)) {
		wg.Go(func() {
			for i := range next {
				r, base := &pieces[i], bases[i]
				for _, ref := range r.refs {
					if _, ok := d.index[ref.kind][ref.name]; !ok {
						unknown[i] = true
						break
					}
				}
				out := make([]arc, 0, len(r.arcs))
				for _, a := range r.arcs {
					if t, ok := d.index[refComponent][a.to]; ok && a.to != cs[base+a.from].Name {
						out = append(out, arc{from: base + a.from, to: t, item: a.item, edge: a.edge})
					}
				}
				arcs[i] = out
			}
		})
	}
	wg.Wait()
	if slices.Contains(unknown, true) {
		d.splitFailed = true
		return nil
	}
	n := len(d.arcs)
	for _, a := range arcs {
		n += len(a)
	}
	d.arcs = slices.Grow(d.arcs, n-len(d.arcs))
	for _, a := range arcs {
		d.arcs = append(d.arcs, a...)
	}
	d.split = nil // the pieces' results are no longer needed
	return cs
}
