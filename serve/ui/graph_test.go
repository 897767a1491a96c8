package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/spofhq/spof/internal/browsertest"
)

// stepTimeout bounds every browser step of the tests.
const stepTimeout = 30 * time.Second

// run runs a chromedp action with a bounded wait.
func run[T any](t testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// graphState is what the tests read back from a drawn graph.
type graphState struct {
	Ready    bool    `json:"ready"`
	Layout   string  `json:"layout"`
	Nodes    int     `json:"nodes"`
	Error    string  `json:"error"`
	Edges    int     `json:"edges"`
	LayoutMs float64 `json:"layoutMs"`
	ReadyMs  float64 `json:"readyMs"`
}

// open loads the site's page and waits until the graph is ready (or has
// failed), returning window.spofGraph.
func open(t testing.TB, ctx context.Context, s *site) graphState {
	t.Helper()
	return openLayout(t, ctx, s, "")
}

// openLayout is open with a forced layout ("" for graph.js's choice).
func openLayout(t testing.TB, ctx context.Context, s *site, layout string) graphState {
	t.Helper()
	run(t, ctx, "loading the page", chromedp.Navigate(s.URL+"/?"+url.Values{layoutParam: {layout}}.Encode()))
	run(t, ctx, "waiting for the graph", chromedp.Poll[chromedp.Void](
		`document.getElementById('graph').getAttribute('data-ready')`,
		chromedp.WithPollingTimeout(stepTimeout), chromedp.WithPollingInterval(20*time.Millisecond)))
	return run(t, ctx, "reading window.spofGraph", chromedp.Evaluate[graphState](
		`({ready: spofGraph.ready, layout: spofGraph.layout || '', nodes: spofGraph.nodes || 0,
		   error: spofGraph.error || '', edges: spofGraph.edges || 0, layoutMs: spofGraph.layoutMs || 0, readyMs: spofGraph.readyMs || 0})`))
}

// clickComponent clicks a component where it is drawn, with the mouse, and
// waits for its details.
func clickComponent(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	type point struct {
		X       float64 `json:"x"`
		Y       float64 `json:"y"`
		Visible bool    `json:"visible"`
	}
	p := run(t, ctx, "locating "+name, chromedp.PollFunction[point](`(name) => {
		const n = spofGraph.cy.getElementById('c:' + name);
		if (n.empty()) return null;
		const p = n.renderedPosition();
		const r = document.getElementById('graph').getBoundingClientRect();
		return {x: r.left + p.x, y: r.top + p.y,
		        visible: p.x > 0 && p.y > 0 && p.x < r.width && p.y < r.height};
	}`, chromedp.WithPollingArgs(name), chromedp.WithPollingTimeout(stepTimeout)))
	if !p.Visible {
		t.Fatalf("%s is drawn outside the graph's box, at %+v", name, p)
	}
	run(t, ctx, "clicking "+name, chromedp.MouseClickXY(p.X, p.Y))
	run(t, ctx, "waiting for the details of "+name, chromedp.PollFunction[chromedp.Void](`(name) => {
		const d = document.getElementById('details');
		return d.getAttribute('data-component') === name && d.getAttribute('data-state') !== 'loading';
	}`, chromedp.WithPollingArgs(name), chromedp.WithPollingTimeout(stepTimeout)))
}

// detailsState is what #details shows and what the graph highlights.
type detailsState struct {
	State       string   `json:"state"`
	Component   string   `json:"component"`
	Title       string   `json:"title"`
	Down        []string `json:"down"`
	Degraded    []string `json:"degraded"`
	Components  []string `json:"components"`
	Events      []string `json:"events"`
	Text        string   `json:"text"`
	Highlighted []string `json:"highlighted"`
	Focus       []string `json:"focus"`
	Elements    []string `json:"elements"` // tag names of every element in #details
}

func readDetails(t testing.TB, ctx context.Context) detailsState {
	t.Helper()
	d := run(t, ctx, "reading the details", chromedp.Evaluate[detailsState](`(() => {
		const d = document.getElementById('details');
		const texts = (sel) => [...d.querySelectorAll(sel)].map((e) => e.textContent);
		const names = (sel) => spofGraph.cy.nodes(sel).map((n) => n.data('name'));
		return {
			state: d.getAttribute('data-state') || '', component: d.getAttribute('data-component') || '',
			title: texts('h2').join(''),
			down: texts('[data-list=down] li'), degraded: texts('[data-list=degraded] li'),
			components: texts('[data-list=components] li'),
			events: texts('.findings > li > .finding-head > code'),
			text: d.textContent, highlighted: names('.blast'), focus: names('.focus'),
			elements: [...new Set([...d.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()))],
		};
	})()`))
	slices.Sort(d.Highlighted)
	slices.Sort(d.Elements)
	return d
}

// pageChecks fails the test on page errors and CSP violations.
func pageChecks(t *testing.T, ctx context.Context, consoleErrors func() []string) {
	t.Helper()
	violations := run(t, ctx, "reading CSP violations", chromedp.Evaluate[[]string](`window.cspViolations`))
	if len(violations) > 0 {
		t.Errorf("Content-Security-Policy violations: %q", violations)
	}
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("errors in the page's console:\n%s", errs)
	}
}

// TestGraphPageSeedAudit loads the graph of examples/seed-audit, clicks the
// session Redis node and checks its blast radius in the details and in the
// graph's highlight.
func TestGraphPageSeedAudit(t *testing.T) {
	sys := loadSystem(t, "../../examples/seed-audit/spof.yaml")
	doc := sys.graph()
	s := newSite(t, sys.m.System, doc, sys.endpoint)
	ctx := browsertest.New(t)
	consoleErrors := browsertest.Console(t, ctx)

	g := open(t, ctx, s)
	if !g.Ready || g.Layout != "dagre" || g.Nodes != len(sys.m.Components) {
		t.Fatalf("window.spofGraph = %+v, want ready, the dagre layout and %d nodes", g, len(sys.m.Components))
	}

	// Every node is coloured by its state and boxed by its zones.
	type nodeState struct {
		Name   string `json:"name"`
		State  string `json:"state"`
		Colour string `json:"colour"`
		Parent string `json:"parent"`
		Grand  string `json:"grand"`
	}
	nodes := run(t, ctx, "reading the nodes", chromedp.Evaluate[[]nodeState](`spofGraph.cy.nodes('.component').map((n) => ({
		name: n.data('name'),
		state: ['spof', 'degradation', 'ok'].find((c) => n.hasClass(c)) || '',
		colour: n.style('background-color'),
		parent: n.parent().id() || '', grand: n.parent().parent().id() || '',
	}))`))
	colours := map[string]string{"spof": "rgb(198,40,40)", "degradation": "rgb(255,179,0)", "ok": "rgb(236,239,241)"}
	got := map[string]nodeState{}
	for _, n := range nodes {
		got[n.Name] = n
	}
	for _, n := range doc.Nodes {
		g := got[n.ID]
		if g.State != n.State || g.Colour != colours[n.State] {
			t.Errorf("node %s: state %q in %s, want %q in %s", n.ID, g.State, g.Colour, n.State, colours[n.State])
		}
	}
	for name, want := range map[string][2]string{
		"session-redis": {"z:us-east-1a", "r:us-east-1"}, // one zone: in its box, in its region's
		"fraud-check":   {"z:us-east-1b", "r:us-east-1"},
		"app":           {"r:us-east-1", ""}, // two zones of one region: in the region's box
		"dns":           {"", ""},            // no zone: outside every box
	} {
		if n := got[name]; n.Parent != want[0] || n.Grand != want[1] {
			t.Errorf("%s is in %q in %q, want %q in %q", name, n.Parent, n.Grand, want[0], want[1])
		}
	}
	if got["session-redis"].State != "spof" {
		t.Errorf("session-redis is %q, want spof", got["session-redis"].State)
	}

	clickComponent(t, ctx, "session-redis")
	d := readDetails(t, ctx)
	want, err := sys.component("session-redis")
	if err != nil {
		t.Fatal(err)
	}
	for _, flow := range []string{"checkout", "login"} {
		if !slices.Contains(d.Down, flow) {
			t.Errorf("flows down %q lack %s", d.Down, flow)
		}
	}
	var events []string
	for _, f := range want.Findings {
		events = append(events, f.Event)
	}
	highlighted := slices.Sorted(slices.Values(want.BlastRadius.Components)) // readDetails sorts them
	wantDetails := detailsState{
		State: "loaded", Component: "session-redis", Title: "session-redis",
		Down: want.BlastRadius.Down, Degraded: nil, Components: want.BlastRadius.Components,
		Events: events, Highlighted: highlighted, Focus: []string{"session-redis"},
	}
	if diff := cmp.Diff(wantDetails, d, cmpDetails); diff != "" {
		t.Errorf("after clicking session-redis (-want +got):\n%s", diff)
	}
	if !slices.Equal(highlighted, []string{"app", "session-redis"}) {
		t.Errorf("the analysis gives the blast radius %q; the test expects app and session-redis", want.BlastRadius.Components)
	}
	if s.requests()[0] != "session-redis" {
		t.Errorf("the page asked for %q", s.requests())
	}

	png := run(t, ctx, "taking a screenshot", chromedp.FullScreenshot(100))
	saveScreenshot(t, "seed-audit-session-redis.png", png)

	// A click on the background clears the selection.
	run(t, ctx, "clicking the background", chromedp.Evaluate[chromedp.Void](`spofGraph.cy.emit('tap'), null`))
	if d := readDetails(t, ctx); len(d.Highlighted) != 0 || d.Component != "" {
		t.Errorf("after a click on the background: %+v, want nothing highlighted", d)
	}
	pageChecks(t, ctx, consoleErrors)
}

// cmpDetails compares what is asserted: not the free text, the element
// list nor empty versus nil lists.
var cmpDetails = cmp.Options{
	cmp.FilterPath(func(p cmp.Path) bool {
		f := p.Last().String()
		return f == ".Text" || f == ".Elements"
	}, cmp.Ignore()),
	cmp.Transformer("empty", func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}),
}

// hostile are component, zone and region names that break naive code:
// quotes, markup, our own id prefixes, URL syntax, Unicode line
// separators, right-to-left text and astral characters.
var hostile = []string{
	`it's "quoted"`,
	`<script>window.pwned = 1</script>`,
	`<img src=x onerror="window.pwned = 2">`,
	`c:app`, // the prefix graph.js gives components
	`z:us-east-1a`,
	`a/b?c=d#e&f%20g`,
	"line\u2028break\u2029",
	"zürich ☃ 日本語 \u202eevil 🚀",
	`\"); window.pwned = 3; ("`,
}

// TestGraphPageHostileData feeds the page names made to break it and checks
// that they are shown as text, never run, and round-trip to the server.
func TestGraphPageHostileData(t *testing.T) {
	doc := graphDoc{System: `<b>shop</b>`, Zones: []zoneDoc{
		{Name: `<i>zone</i>`, Region: `"region'`},
		{Name: "日本-1a", Region: `"region'`},
	}}
	for i, id := range hostile {
		n := nodeDoc{ID: id, Kind: `<kind>`, Replicas: i%3 + 1, State: []string{"spof", "degradation", "ok", `"><script>`}[i%4]}
		switch i % 3 {
		case 0:
			n.Zones = []string{`<i>zone</i>`}
		case 1:
			n.Zones = []string{`<i>zone</i>`, "日本-1a"}
		}
		doc.Nodes = append(doc.Nodes, n)
		if i > 0 {
			doc.Edges = append(doc.Edges, edgeDoc{From: hostile[i-1], To: id, Type: `<script>`})
		}
	}
	doc.Edges = append(doc.Edges, edgeDoc{From: hostile[0], To: "no such component", Type: "hard"})
	component := func(id string) (any, int) {
		return map[string]any{
			"component": id, "kind": "<kind>",
			"blast_radius": map[string]any{"down": []string{"<script>window.pwned = 4</script>"}, "degraded": hostile, "components": hostile[:3]},
			"findings": []map[string]any{{
				"id": `"><img src=x onerror="window.pwned=5">`, "category": `spof" onmouseover="x`, "severity": "<critical>",
				"event": "component:" + id, "flows": hostile, "chain": hostile, "fix": `<a href="javascript:window.pwned=6">fix</a>`,
			}},
		}, 200
	}
	s := newSite(t, doc.System, doc, component)
	ctx := browsertest.New(t)
	consoleErrors := browsertest.Console(t, ctx)

	if g := open(t, ctx, s); !g.Ready || g.Nodes != len(hostile) {
		t.Fatalf("window.spofGraph = %+v, want ready with %d nodes", g, len(hostile))
	}
	names := run(t, ctx, "reading the labels", chromedp.Evaluate[[]string](`spofGraph.cy.nodes('.component').map((n) => n.data('name'))`))
	slices.Sort(names)
	if want := slices.Sorted(slices.Values(hostile)); !slices.Equal(names, want) {
		t.Errorf("components drawn: %q, want %q", names, want)
	}

	for _, id := range []string{hostile[1], hostile[5], hostile[6]} {
		clickComponent(t, ctx, id)
		d := readDetails(t, ctx)
		highlighted := slices.Compact(slices.Sorted(slices.Values(append(hostile[:3:3], id))))
		if d.State != "loaded" || d.Title != id || !slices.Equal(d.Degraded, hostile) || !slices.Equal(d.Highlighted, highlighted) {
			t.Errorf("details of %q: %+v", id, d)
		}
		// Only the elements graph.js builds: nothing from the data.
		if want := []string{"code", "h2", "h3", "h4", "li", "ol", "p", "section", "span", "ul"}; !slices.Equal(d.Elements, want) {
			t.Errorf("elements in #details: %q, want %q", d.Elements, want)
		}
	}
	if got, want := s.requests(), []string{hostile[1], hostile[5], hostile[6]}; !slices.Equal(got, want) {
		t.Errorf("the server was asked for %q, want %q", got, want)
	}

	type pageState struct {
		Pwned   bool `json:"pwned"`
		Scripts int  `json:"scripts"`
		Images  int  `json:"images"`
	}
	p := run(t, ctx, "reading the page", chromedp.Evaluate[pageState](`({pwned: 'pwned' in window,
		scripts: document.scripts.length, images: document.images.length})`))
	if p != (pageState{Scripts: 4}) {
		t.Errorf("page: %+v, want no pwned, the 4 scripts of the page and no image", p)
	}
	pageChecks(t, ctx, consoleErrors)
}

// TestGraphPageErrors checks that a failed request says what failed: the
// graph's in place of the graph, a component's in the details; and that an
// empty graph says it is empty.
func TestGraphPageErrors(t *testing.T) {
	ctx := browsertest.New(t)
	broken := newSite(t, "shop", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, map[string]string{"error": "the store is unavailable"}, http.StatusServiceUnavailable)
	}), nil)
	g := open(t, ctx, broken)
	text := run(t, ctx, "reading the graph", chromedp.Evaluate[string](`document.getElementById('graph').textContent`))
	if g.Ready || !strings.Contains(g.Error, "503") || !strings.Contains(text, "the store is unavailable") {
		t.Errorf("after a 503: window.spofGraph = %+v, #graph says %q", g, text)
	}

	// An empty graph is no error, but says so.
	empty := newSite(t, "shop", graphDoc{System: "shop"}, nil)
	g = open(t, ctx, empty)
	text = run(t, ctx, "reading the graph", chromedp.Evaluate[string](`document.getElementById('graph').textContent`))
	if !g.Ready || g.Nodes != 0 || text != "No components." {
		t.Errorf("with no component: window.spofGraph = %+v, #graph says %q", g, text)
	}

	doc := graphDoc{Nodes: []nodeDoc{{ID: "app", State: "ok"}, {ID: "db", State: "spof"}}, Edges: []edgeDoc{{"app", "db", "hard"}}}
	s := newSite(t, "shop", doc, func(id string) (any, int) {
		return map[string]string{"error": "no component named " + id}, http.StatusNotFound
	})
	consoleErrors := browsertest.Console(t, ctx)
	if g := open(t, ctx, s); !g.Ready {
		t.Fatalf("window.spofGraph = %+v", g)
	}
	clickComponent(t, ctx, "db")
	d := readDetails(t, ctx)
	if d.State != "error" || !strings.Contains(d.Text, `no component named db`) || len(d.Highlighted) != 0 {
		t.Errorf("after a 404: %+v", d)
	}
	// The 404 itself is logged by the browser; nothing else may be.
	for _, e := range consoleErrors() {
		if !strings.Contains(e, "404") {
			t.Errorf("console: %s", e)
		}
	}
}

// overlaps lists the pairs of sibling elements (components and boxes in
// the same box) whose boxes overlap.
const overlaps = `(() => {
	const byParent = new Map();
	spofGraph.cy.nodes().forEach((n) => {
		const p = n.parent().id() || n.data('box') || ''; // a big graph's boxes are no parents
		if (!byParent.has(p)) byParent.set(p, []);
		byParent.get(p).push([n.id(), n.boundingBox({includeLabels: false, includeOverlays: false})]);
	});
	const bad = [];
	for (const kids of byParent.values()) {
		for (let i = 0; i < kids.length; i++) {
			for (let j = i + 1; j < kids.length; j++) {
				const [a, b] = [kids[i][1], kids[j][1]];
				if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) bad.push(kids[i][0] + ' and ' + kids[j][0]);
			}
		}
	}
	return bad;
})()`

// TestGraphPageLayouts checks the layouts of a graph too big for dagre:
// graph.js's own (layered), which keeps boxes and components apart, and the
// server's positions (preset), which it keeps.
func TestGraphPageLayouts(t *testing.T) {
	sys := generated(t, 100)
	ctx := browsertest.New(t)
	consoleErrors := browsertest.Console(t, ctx)

	doc := sys.graph()
	s := newSite(t, doc.System, doc, sys.endpoint)
	if g := open(t, ctx, s); !g.Ready || g.Layout != "layered" || g.Nodes != 100 {
		t.Fatalf("window.spofGraph = %+v, want ready with 100 nodes laid out by layered", g)
	}
	if bad := run(t, ctx, "checking overlaps", chromedp.Evaluate[[]string](overlaps)); len(bad) > 0 {
		t.Errorf("%d overlaps in the layered layout: %q", len(bad), bad)
	}
	saveScreenshot(t, "generated-100-layered.png", run(t, ctx, "taking a screenshot", chromedp.FullScreenshot(100)))
	// Still interactive: a click shows the component.
	name := doc.Nodes[len(doc.Nodes)/2].ID
	clickComponent(t, ctx, name)
	if d := readDetails(t, ctx); d.State != "loaded" || d.Title != name || !slices.Contains(d.Highlighted, name) {
		t.Errorf("details of %s: %+v", name, d)
	}

	for i := range doc.Nodes { // any positions will do: they are kept
		x, y := float64(i%10*200), float64(i/10*50)
		doc.Nodes[i].X, doc.Nodes[i].Y = &x, &y
	}
	s = newSite(t, doc.System, doc, sys.endpoint)
	if g := open(t, ctx, s); !g.Ready || g.Layout != "preset" {
		t.Fatalf("window.spofGraph = %+v, want ready with the preset layout", g)
	}
	type pos struct {
		ID string  `json:"id"`
		X  float64 `json:"x"`
		Y  float64 `json:"y"`
	}
	got := run(t, ctx, "reading positions", chromedp.Evaluate[[]pos](`spofGraph.cy.nodes('.component').map((n) => ({id: n.data('name'), x: n.position('x'), y: n.position('y')}))`))
	if len(got) != len(doc.Nodes) {
		t.Fatalf("%d components drawn, want %d", len(got), len(doc.Nodes))
	}
	for i, p := range got {
		if n := doc.Nodes[i]; p.ID != n.ID || p.X != *n.X || p.Y != *n.Y {
			t.Errorf("%s is at (%v, %v), want %s at (%v, %v)", p.ID, p.X, p.Y, n.ID, *n.X, *n.Y)
		}
	}
	pageChecks(t, ctx, consoleErrors)
}

// TestGraphPageBig checks a graph drawn the cheap way (over 1,000
// components): boxes as plain nodes around their components, no edge until
// a click draws the component's own.
func TestGraphPageBig(t *testing.T) {
	sys := generated(t, 1200)
	doc := sys.graph()
	s := newSite(t, doc.System, doc, sys.endpoint)
	ctx := browsertest.New(t)
	consoleErrors := browsertest.Console(t, ctx)
	if g := open(t, ctx, s); !g.Ready || g.Layout != "layered" || g.Nodes != 1200 || g.Edges != 0 {
		t.Fatalf("window.spofGraph = %+v, want ready with 1200 nodes laid out by layered, no edge drawn", g)
	}
	// Each component lies inside its zone's or region's box, each zone
	// inside its region's, and no box has a parent (they are plain nodes).
	outside := run(t, ctx, "checking boxes", chromedp.Evaluate[[]string](`(() => {
		const cy = spofGraph.cy, bad = [];
		const inside = (a, b) => a.x1 >= b.x1 && a.x2 <= b.x2 && a.y1 >= b.y1 && a.y2 <= b.y2;
		const bb = (n) => n.boundingBox({includeLabels: false});
		cy.nodes().forEach((n) => {
			const box = n.data('box');
			if (box && !inside(bb(n), bb(cy.getElementById(box)))) bad.push(n.id() + ' outside ' + box);
		});
		if (cy.nodes(':parent').nonempty()) bad.push('compound nodes');
		if (cy.nodes('.box').empty()) bad.push('no boxes');
		return bad;
	})()`))
	if len(outside) > 0 {
		t.Errorf("%d misplaced: %q", len(outside), outside[:min(10, len(outside))])
	}
	if bad := run(t, ctx, "checking overlaps", chromedp.Evaluate[[]string](overlaps)); len(bad) > 0 {
		t.Errorf("%d overlaps: %q", len(bad), bad[:min(10, len(bad))])
	}

	// A click draws the component's edges: to what it needs and from what
	// needs it.
	var name string
	want := 0
	for _, n := range doc.Nodes {
		deg := 0
		for _, e := range doc.Edges {
			if e.From == n.ID || e.To == n.ID {
				deg++
			}
		}
		if deg > want {
			name, want = n.ID, deg
		}
	}
	clickComponent(t, ctx, name)
	if d := readDetails(t, ctx); d.State != "loaded" || d.Title != name {
		t.Errorf("details of %s: %+v", name, d)
	}
	own := run(t, ctx, "counting edges", chromedp.PollFunction[int](`(name) => spofGraph.cy.getElementById('c:' + name).connectedEdges().length`,
		chromedp.WithPollingArgs(name), chromedp.WithPollingTimeout(stepTimeout)))
	if own != want {
		t.Errorf("%s has %d edges drawn, want its %d", name, own, want)
	}
	saveScreenshot(t, "generated-1200-clicked.png", run(t, ctx, "taking a screenshot", chromedp.FullScreenshot(100)))
	pageChecks(t, ctx, consoleErrors)
}
