package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// Edge types of the dependency graph, as the JSON form names them.
//
// One depends_on entry of component X on T becomes:
//
//   - plain:            X → T hard: losing T takes X down;
//   - fallback_to: Y:   X → T fallback_to: losing T degrades X, which falls
//     back to Y; and X → Y fallback: Y is that fallback, used only while T
//     is down, so losing Y alone changes nothing and losing T and Y takes
//     X down;
//   - fallback: "text": X → T fallback: losing T degrades X;
//   - async_via: Q:     X → Q hard (labelled "queue": X needs the queue)
//     and X → T async (labelled "via Q"): losing T only grows a backlog,
//     which degrades X. The edge stays X → T rather than Q → T because the
//     queue does not depend on T; X's messages do;
//   - when: PHASE:      X → T startup, deploy or recovery: needed only
//     then, not while running.
//
// The drawings show what losing the target does to X, whatever the type:
// solid, it goes down; dashed, it is degraded; dotted, nothing unless the
// dependency it backs up is lost too; grey, it cannot start, deploy or
// recover. An entry scoped with flows: labels its edges with the flow
// names. Flows are entry nodes of their own with an edge to each step,
// numbered.
const (
	EdgeHard       = "hard"
	EdgeFallback   = "fallback"
	EdgeFallbackTo = "fallback_to"
	EdgeAsync      = "async"
	EdgeStartup    = "startup"
	EdgeDeploy     = "deploy"
	EdgeRecovery   = "recovery"
)

// edgeLoss is what losing an edge's target does to its source: how the
// edge is drawn.
type edgeLoss uint8

const (
	lossDown     edgeLoss = iota // solid
	lossDegrades                 // dashed
	lossBackup                   // dotted: only with the dependency it backs
	lossPhase                    // grey: start-up, deploy or recovery only
)

// Graph writes the dependency graph of m as dot (Graphviz), mermaid or json.
// Components are marked from the findings of r, which may be nil: red and
// bold when an event of the component alone (component:X or instance:X/i)
// stops a flow, orange when such an event only degrades one.
func Graph(w io.Writer, m *model.Model, r *analysis.Result, format string) error {
	if err := CheckFormat(OutputGraph, format); err != nil {
		return err
	}
	g := buildGraph(m, r)
	switch format {
	case FormatJSON:
		return writeJSON(w, "graph", g)
	case FormatMermaid:
		return write(w, "graph", []byte(g.mermaid()))
	}
	return write(w, "graph", []byte(g.dot()))
}

// depGraph is the dependency graph in the shape of its JSON form.
type depGraph struct {
	System string      `json:"system"`
	Nodes  []graphNode `json:"nodes"`
	Edges  []graphEdge `json:"edges"`
	Flows  []graphFlow `json:"flows"`
}

type graphNode struct {
	ID       string     `json:"id"`
	Kind     model.Kind `json:"kind"`
	Replicas int        `json:"replicas"`
	// SPOF: a component:X or instance:X/i finding of category spof.
	SPOF bool `json:"spof"`
	// Degradation: such a finding of category degradation. Drawings colour
	// a node that is both as a SPOF.
	Degradation bool `json:"degradation"`
}

type graphEdge struct {
	From  string   `json:"from"`
	To    string   `json:"to"`
	Type  string   `json:"type"`
	Flows []string `json:"flows"` // empty: the edge applies to every flow

	label  string   // drawn beside the edge
	detail string   // tooltip: the fallback's description
	loss   edgeLoss // how it is drawn
}

type graphFlow struct {
	Name        string            `json:"name"`
	Criticality model.Criticality `json:"criticality"`
	Steps       []string          `json:"steps"`
}

func buildGraph(m *model.Model, r *analysis.Result) *depGraph {
	spof, degraded := markedComponents(r)
	g := &depGraph{System: m.System, Nodes: []graphNode{}, Edges: []graphEdge{}, Flows: []graphFlow{}}
	for _, c := range m.Components {
		g.Nodes = append(g.Nodes, graphNode{
			ID: c.Name, Kind: c.Kind, Replicas: max(1, c.Replicas),
			SPOF: spof[c.Name], Degradation: degraded[c.Name],
		})
	}
	for _, c := range m.Components {
		for _, e := range c.DependsOn {
			for _, ge := range edgesOf(c.Name, e) {
				g.addEdge(ge)
			}
		}
	}
	for _, f := range m.Flows {
		g.Flows = append(g.Flows, graphFlow{Name: f.Name, Criticality: f.Criticality, Steps: nonNil(f.Steps)})
	}
	return g
}

// edgesOf turns one depends_on entry into graph edges (see the Edge
// constants).
func edgesOf(from string, e *model.Edge) []graphEdge {
	flows := nonNil(e.Flows)
	edge := func(to, typ string, loss edgeLoss, label, detail string) graphEdge {
		return graphEdge{From: from, To: to, Type: typ, Flows: flows, label: label, detail: detail, loss: loss}
	}
	switch {
	case !e.Running():
		return []graphEdge{edge(e.To, string(e.When), lossPhase, string(e.When)+" only", "")}
	case e.AsyncVia != "":
		return []graphEdge{
			edge(e.AsyncVia, EdgeHard, lossDown, "queue", ""),
			edge(e.To, EdgeAsync, lossDegrades, "via "+e.AsyncVia, e.Fallback),
		}
	case e.FallbackTo != "":
		return []graphEdge{
			edge(e.To, EdgeFallbackTo, lossDegrades, "falls back to "+e.FallbackTo, e.Fallback),
			edge(e.FallbackTo, EdgeFallback, lossBackup, "backup for "+e.To, e.Fallback),
		}
	case e.Fallback != "":
		return []graphEdge{edge(e.To, EdgeFallback, lossDegrades, "fallback", e.Fallback)}
	}
	return []graphEdge{edge(e.To, EdgeHard, lossDown, "", "")}
}

// addEdge appends e, or merges it into an edge with the same ends and type
// (an async queue that is also declared as a plain dependency). An unscoped
// edge stays unscoped.
func (g *depGraph) addEdge(e graphEdge) {
	for i := range g.Edges {
		old := &g.Edges[i]
		if old.From != e.From || old.To != e.To || old.Type != e.Type || old.loss != e.loss {
			continue
		}
		if len(old.Flows) == 0 || len(e.Flows) == 0 {
			old.Flows = []string{}
			return
		}
		for _, f := range e.Flows {
			if !slices.Contains(old.Flows, f) {
				old.Flows = append(old.Flows, f)
			}
		}
		return
	}
	g.Edges = append(g.Edges, e)
}

// markedComponents returns the components with a SPOF finding and those
// with a degradation finding, from component: and instance: events.
func markedComponents(r *analysis.Result) (spof, degraded map[string]bool) {
	spof, degraded = map[string]bool{}, map[string]bool{}
	if r == nil {
		return spof, degraded
	}
	for _, f := range r.Findings {
		ev, err := analysis.ParseEvent(f.Event)
		if err != nil || (ev.Kind != analysis.EventComponent && ev.Kind != analysis.EventInstance) {
			continue
		}
		switch f.Category {
		case analysis.CategorySPOF:
			spof[ev.Name] = true
		case analysis.CategoryDegradation:
			degraded[ev.Name] = true
		}
	}
	return spof, degraded
}

// labelLines is what is drawn in a node: "name", then "kind ×N".
func (n graphNode) labelLines() []string {
	kind := string(n.Kind)
	if n.Replicas > 1 {
		kind += " ×" + strconv.Itoa(n.Replicas)
	}
	return []string{n.ID, kind}
}

// labelLines is what is drawn beside an edge: its type's label, then the
// flows it is scoped to.
func (e graphEdge) labelLines() []string {
	var lines []string
	if e.label != "" {
		lines = append(lines, e.label)
	}
	if len(e.Flows) > 0 {
		lines = append(lines, strings.Join(e.Flows, ", "))
	}
	return lines
}

// Colours shared by the DOT and Mermaid drawings.
const (
	colorSPOF        = "#d00000"
	colorDegradation = "#f08000"
	colorFlow        = "#4a6fb5"
	colorFlowFill    = "#e8eefc"
	colorPhase       = "#909090"
)

// graphLegend says what losing an edge's target does to its source, one
// line per style; phase is how the drawing marks start-up, deploy and
// recovery edges.
func graphLegend(phase string) []string {
	return []string{
		"An edge A -> B says what losing B does to A:",
		"  solid: A goes down;",
		"  dashed: A is degraded (it has a fallback, or reaches B through a queue);",
		"  dotted: B is a fallback, used only while the dashed dependency it backs up is down:",
		"          losing B alone changes nothing, losing both takes A down;",
		"  " + phase + ": A cannot start, deploy or recover (needed only then).",
	}
}

// dot renders the graph as Graphviz DOT. Every ID is quoted; flow nodes are
// "flow:NAME" so they never collide with components.
func (g *depGraph) dot() string {
	var b strings.Builder
	fmt.Fprintf(&b, "// spof dependency graph of system %s.\n", dotQuote(g.System))
	for _, l := range graphLegend("grey with a hollow arrowhead") {
		b.WriteString("// " + l + "\n")
	}
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(g.System))
	b.WriteString("  graph [rankdir=TB, fontname=\"Helvetica\"];\n")
	b.WriteString("  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=10];\n")

	if len(g.Flows) > 0 {
		b.WriteString("\n  // flows\n")
	}
	for _, f := range g.Flows {
		fmt.Fprintf(&b, "  %s [label=%s, shape=oval, style=filled, color=%s, fillcolor=%s];\n",
			dotQuote("flow:"+f.Name), dotLabel(f.Name, "("+f.Criticality.String()+")"),
			dotQuote(colorFlow), dotQuote(colorFlowFill))
	}

	b.WriteString("\n  // components\n")
	for _, n := range g.Nodes {
		attrs := "label=" + dotLabel(n.labelLines()...)
		switch {
		case n.SPOF:
			attrs += fmt.Sprintf(", color=%s, fontcolor=%s, penwidth=2.5, style=\"rounded,bold\"",
				dotQuote(colorSPOF), dotQuote(colorSPOF))
		case n.Degradation:
			attrs += fmt.Sprintf(", color=%s, penwidth=2", dotQuote(colorDegradation))
		}
		fmt.Fprintf(&b, "  %s [%s];\n", dotQuote(n.ID), attrs)
	}

	if len(g.Flows) > 0 {
		b.WriteString("\n  // flow steps\n")
	}
	for _, f := range g.Flows {
		for i, s := range f.Steps {
			fmt.Fprintf(&b, "  %s -> %s [label=%s, color=%s, fontcolor=%s];\n",
				dotQuote("flow:"+f.Name), dotQuote(s), dotQuote(strconv.Itoa(i+1)),
				dotQuote(colorFlow), dotQuote(colorFlow))
		}
	}

	if len(g.Edges) > 0 {
		b.WriteString("\n  // dependencies\n")
	}
	for _, e := range g.Edges {
		var attrs []string
		if lines := e.labelLines(); len(lines) > 0 {
			attrs = append(attrs, "label="+dotLabel(lines...))
		}
		switch e.loss {
		case lossDegrades:
			attrs = append(attrs, "style=dashed")
		case lossBackup:
			attrs = append(attrs, "style=dotted")
		case lossPhase:
			attrs = append(attrs, "color="+dotQuote(colorPhase), "fontcolor="+dotQuote(colorPhase), "arrowhead=empty")
		}
		if e.detail != "" {
			attrs = append(attrs, "tooltip="+dotQuote(e.detail))
		}
		line := "  " + dotQuote(e.From) + " -> " + dotQuote(e.To)
		if len(attrs) > 0 {
			line += " [" + strings.Join(attrs, ", ") + "]"
		}
		b.WriteString(line + ";\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote quotes s as a DOT string: backslashes and quotes escaped, line
// breaks as \n.
func dotQuote(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", `\n`).Replace(s)
	return `"` + s + `"`
}

// dotLabel quotes lines as one label, one line each.
func dotLabel(lines ...string) string {
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = strings.Trim(dotQuote(l), `"`)
	}
	return `"` + strings.Join(q, `\n`) + `"`
}

// mermaid renders the graph as a Mermaid flowchart. Node IDs are made
// safe (c_ for components, f_ for flows, other characters as _, a suffix on
// a clash); names are shown in quoted labels.
func (g *depGraph) mermaid() string {
	ids := mermaidIDs{used: map[string]bool{}}
	comp := map[string]string{}
	for _, n := range g.Nodes {
		comp[n.ID] = ids.make("c_", n.ID)
	}
	nodeID := func(name string) string {
		if id, ok := comp[name]; ok {
			return id
		}
		// A step or target the model does not declare: draw it anyway.
		id := ids.make("c_", name)
		comp[name] = id
		return id
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%%%% spof dependency graph of system %s\n", mermaidText(g.System))
	for _, l := range graphLegend("grey, dash-dot") {
		b.WriteString("%% " + l + "\n")
	}
	b.WriteString("flowchart TD\n")
	var flowIDs, spofIDs, degradedIDs []string
	for _, f := range g.Flows {
		id := ids.make("f_", f.Name)
		flowIDs = append(flowIDs, id)
		fmt.Fprintf(&b, "  %s([%s])\n", id, mermaidLabel(f.Name+" ("+f.Criticality.String()+")"))
	}
	for _, n := range g.Nodes {
		fmt.Fprintf(&b, "  %s[%s]\n", comp[n.ID], mermaidLabel(n.labelLines()...))
		switch {
		case n.SPOF:
			spofIDs = append(spofIDs, comp[n.ID])
		case n.Degradation:
			degradedIDs = append(degradedIDs, comp[n.ID])
		}
	}

	link := 0
	var flowLinks, dashLinks, dotLinks, phaseLinks []string
	for i, f := range g.Flows {
		for j, s := range f.Steps {
			fmt.Fprintf(&b, "  %s -->|%s| %s\n", flowIDs[i], mermaidLabel(strconv.Itoa(j+1)), nodeID(s))
			flowLinks = append(flowLinks, strconv.Itoa(link))
			link++
		}
	}
	for _, e := range g.Edges {
		arrow := "-.->"
		switch e.loss {
		case lossDown:
			arrow = "-->"
		case lossDegrades:
			dashLinks = append(dashLinks, strconv.Itoa(link))
		case lossBackup:
			dotLinks = append(dotLinks, strconv.Itoa(link))
		case lossPhase:
			phaseLinks = append(phaseLinks, strconv.Itoa(link))
		}
		label := ""
		if lines := e.labelLines(); len(lines) > 0 {
			label = "|" + mermaidLabel(lines...) + "|"
		}
		fmt.Fprintf(&b, "  %s %s%s %s\n", nodeID(e.From), arrow, label, nodeID(e.To))
		link++
	}

	for _, c := range []struct {
		class, style string
		ids          []string
	}{
		{"flow", "fill:" + colorFlowFill + ",stroke:" + colorFlow, flowIDs},
		{"spof", "stroke:" + colorSPOF + ",stroke-width:3px,color:" + colorSPOF + ",font-weight:bold", spofIDs},
		{"degradation", "stroke:" + colorDegradation + ",stroke-width:2px", degradedIDs},
	} {
		if len(c.ids) > 0 {
			fmt.Fprintf(&b, "  classDef %s %s\n  class %s %s\n", c.class, c.style, strings.Join(c.ids, ","), c.class)
		}
	}
	for _, s := range []struct {
		links []string
		style string
	}{
		{flowLinks, "stroke:" + colorFlow},
		{dashLinks, "stroke-dasharray:6 4"},
		{dotLinks, "stroke-dasharray:2 4"},
		{phaseLinks, "stroke:" + colorPhase + ",color:" + colorPhase + ",stroke-dasharray:10 4 2 4"},
	} {
		if len(s.links) > 0 {
			fmt.Fprintf(&b, "  linkStyle %s %s\n", strings.Join(s.links, ","), s.style)
		}
	}
	return b.String()
}

// mermaidIDs hands out unique, safe Mermaid node IDs.
type mermaidIDs struct{ used map[string]bool }

func (m mermaidIDs) make(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range name {
		if r < 128 && (r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	id := b.String()
	for n := 2; m.used[id]; n++ {
		id = b.String() + "_" + strconv.Itoa(n)
	}
	m.used[id] = true
	return id
}

// mermaidLabel quotes lines as one label, one line each.
func mermaidLabel(lines ...string) string {
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = mermaidText(l)
	}
	return `"` + strings.Join(q, "<br/>") + `"`
}

// mermaidText escapes the characters that would end a quoted label or be
// read as markup.
func mermaidText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "|", "#124;").Replace(s)
}
