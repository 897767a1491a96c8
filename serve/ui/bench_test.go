package ui_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/spofhq/spof/internal/browsertest"
	"github.com/spofhq/spof/internal/gen"
)

// generated is a generated estate of n components, analysed.
func generated(tb testing.TB, n int) *system {
	tb.Helper()
	m, err := gen.Generate(gen.Options{Components: n, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return analyse(tb, m)
}

// benchmarkPage reports how long the page takes until window.spofGraph is
// ready, as the browser measures it from the start of navigation
// (ready-ms: server, scripts, JSON, layout, first frame) and the layout
// alone (layout-ms).
func benchmarkPage(b *testing.B, doc graphDoc, layout string) {
	s := newSite(b, doc.System, doc, func(string) (any, int) { return nil, 404 })
	ctx := browsertest.New(b)
	var ready, lay float64
	n := 0
	for b.Loop() {
		g := openLayout(b, ctx, s, layout)
		if !g.Ready || g.Nodes != len(doc.Nodes) || (layout != "" && g.Layout != layout) {
			b.Fatalf("window.spofGraph = %+v, want ready with %d nodes, layout %q", g, len(doc.Nodes), layout)
		}
		ready += g.ReadyMs
		lay += g.LayoutMs
		n++
	}
	b.ReportMetric(ready/float64(n), "ready-ms")
	b.ReportMetric(lay/float64(n), "layout-ms")
}

// BenchmarkGraph5000 loads the graph of a generated estate of 5,000
// components, laid out by graph.js (layered) and at positions given by the
// server (preset; here those layered gave, as the server would compute
// layered positions).
func BenchmarkGraph5000(b *testing.B) {
	sys := generated(b, 5000)
	doc := sys.graph()
	b.Run("layered", func(b *testing.B) {
		benchmarkPage(b, doc, "layered")
	})
	b.Run("preset", func(b *testing.B) {
		benchmarkPage(b, withPositions(b, doc), "preset")
	})
}

// BenchmarkGraphDagre measures dagre on generated estates around the size
// where graph.js stops using it (DAGRE_MAX_ELEMENTS, components and edges
// together).
func BenchmarkGraphDagre(b *testing.B) {
	for _, n := range []int{30, 50, 75, 100} {
		sys := generated(b, n)
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			benchmarkPage(b, sys.graph(), "dagre")
		})
	}
}

// withPositions returns doc with each node at the position graph.js's
// layered layout gives it.
func withPositions(tb testing.TB, doc graphDoc) graphDoc {
	s := newSite(tb, doc.System, doc, func(string) (any, int) { return nil, 404 })
	ctx := browsertest.New(tb)
	if g := openLayout(tb, ctx, s, "layered"); !g.Ready {
		tb.Fatalf("window.spofGraph = %+v", g)
	}
	type pos struct {
		ID string  `json:"id"`
		X  float64 `json:"x"`
		Y  float64 `json:"y"`
	}
	ps := run(tb, ctx, "reading positions", chromedp.Evaluate[[]pos](
		`spofGraph.cy.nodes('.component').map((n) => ({id: n.data('name'), x: n.position('x'), y: n.position('y')}))`))
	at := map[string]pos{}
	for _, p := range ps {
		at[p.ID] = p
	}
	out := doc
	out.Nodes = slices.Clone(doc.Nodes)
	for i, n := range out.Nodes {
		p, ok := at[n.ID]
		if !ok {
			tb.Fatalf("no position for %s", n.ID)
		}
		out.Nodes[i].X, out.Nodes[i].Y = &p.X, &p.Y
	}
	return out
}
