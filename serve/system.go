package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/report"
	"github.com/spofhq/spof/store"
)

// system is one analysed version of a system's model: what the pages and
// the API answer from. It is never changed once built; a new version
// replaces it whole.
type system struct {
	name    string
	version int64
	file    string // the model file it was loaded from; "" when posted
	model   *model.Model
	result  *analysis.Result
	report  []byte // spof check --format json's document
	counts  store.Counts
	graph   graphJSON
	at      time.Time // when it was analysed
	// verified is the ledger the analysis used: checklist item 4 changes
	// when it does.
	verified map[string]analysis.Verification
}

// analyse runs the order-1 analysis of m, with the verification ledger,
// and builds everything the server answers from.
func analyse(name string, version int64, file string, m *model.Model, verified map[string]analysis.Verification, now time.Time) (*system, error) {
	res, err := analysis.Check(m, analysis.Options{Verified: verified, Now: now})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := report.JSON(&buf, res, analysis.Gate{FailOn: model.Critical}); err != nil {
		return nil, err
	}
	s := &system{name: name, version: version, file: file, model: m, result: res, report: buf.Bytes(), at: now, verified: verified}
	s.counts = countsOf(res)
	s.graph = buildGraph(m, res)
	return s, nil
}

// countsOf sums a result up for the store and the metrics.
func countsOf(res *analysis.Result) store.Counts {
	c := store.Counts{BySeverity: map[string]int{}, Checklist: map[string]int{}}
	for _, f := range res.Findings {
		switch f.Category {
		case analysis.CategorySPOF:
			c.SPOFs++
		case analysis.CategoryDegradation:
			c.Degradations++
		case analysis.CategoryRecovery:
			c.Recovery++
		case analysis.CategoryOperational:
			c.Operational++
		}
		c.BySeverity[f.Severity.String()]++
	}
	for _, it := range res.Checklist {
		c.Checklist[string(it.Status)]++
	}
	return c
}

// snapshot is what the store keeps of s.
func (s *system) snapshot() (store.Snapshot, error) {
	checklist, err := json.Marshal(s.result.Checklist)
	if err != nil {
		return store.Snapshot{}, err
	}
	return store.Snapshot{System: s.name, ModelVersion: s.version, At: s.at, Counts: s.counts,
		Report: s.report, Checklist: checklist}, nil
}

// graphJSON is the dependency graph the graph page draws (the contract
// with serve/ui/static/graph.js, in docs/api.md).
type graphJSON struct {
	System string      `json:"system"`
	Zones  []graphZone `json:"zones"`
	Nodes  []graphNode `json:"nodes"`
	Edges  []graphEdge `json:"edges"`
}

type graphZone struct {
	Name   string `json:"name"`
	Region string `json:"region,omitempty"`
}

type graphNode struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Replicas int      `json:"replicas"`
	Zones    []string `json:"zones"`
	State    string   `json:"state"` // spof, degradation or ok
	Findings int      `json:"findings"`
}

type graphEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Type string `json:"type"` // hard, fallback, async, startup, deploy, recovery
}

// ownEvent reports whether a finding's event is a failure of component
// name itself (component:X or instance:X/i).
func ownEvent(event, name string) bool {
	if rest, ok := strings.CutPrefix(event, "component:"); ok {
		return rest == name
	}
	if rest, ok := strings.CutPrefix(event, "instance:"); ok {
		c, _, _ := strings.Cut(rest, "/")
		return c == name
	}
	return false
}

// componentOf is the component a finding's event is the failure of, or "".
func componentOf(event string) string {
	if rest, ok := strings.CutPrefix(event, "component:"); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(event, "instance:"); ok {
		c, _, _ := strings.Cut(rest, "/")
		return c
	}
	return ""
}

func buildGraph(m *model.Model, res *analysis.Result) graphJSON {
	g := graphJSON{System: m.System, Zones: []graphZone{}, Nodes: []graphNode{}, Edges: []graphEdge{}}
	for _, z := range m.Zones {
		g.Zones = append(g.Zones, graphZone{Name: z.Name, Region: z.Region})
	}
	state := map[string]string{}
	count := map[string]int{}
	for _, f := range res.Findings {
		c := componentOf(f.Event)
		if c == "" {
			continue
		}
		count[c]++
		switch {
		case f.Category == analysis.CategorySPOF:
			state[c] = "spof"
		case f.Category == analysis.CategoryDegradation && state[c] == "":
			state[c] = "degradation"
		}
	}
	for _, c := range m.Components {
		st := state[c.Name]
		if st == "" {
			st = "ok"
		}
		zones := c.Zones
		if zones == nil {
			zones = []string{}
		}
		g.Nodes = append(g.Nodes, graphNode{ID: c.Name, Kind: string(c.Kind), Replicas: max(c.Replicas, 1), Zones: zones,
			State: st, Findings: count[c.Name]})
		for _, e := range c.DependsOn {
			g.Edges = append(g.Edges, graphEdge{From: c.Name, To: e.To, Type: edgeType(e)})
			if e.FallbackTo != "" {
				g.Edges = append(g.Edges, graphEdge{From: c.Name, To: e.FallbackTo, Type: "fallback"})
			}
			if e.AsyncVia != "" {
				g.Edges = append(g.Edges, graphEdge{From: c.Name, To: e.AsyncVia, Type: "hard"})
			}
		}
	}
	return g
}

func edgeType(e *model.Edge) string {
	switch {
	case e.When != model.WhenRunning:
		return string(e.When)
	case e.AsyncVia != "":
		return "async"
	case e.FallbackTo != "" || e.Fallback != "":
		return "fallback"
	}
	return "hard"
}

// componentJSON is what the graph page shows for a clicked node.
type componentJSON struct {
	Component   string                     `json:"component"`
	Kind        string                     `json:"kind"`
	Replicas    int                        `json:"replicas"`
	Zones       []string                   `json:"zones"`
	BlastRadius blastRadius                `json:"blast_radius"`
	Findings    []analysis.Finding         `json:"findings"`
	Dependents  []analysis.DependentImpact `json:"dependents"`
}

type blastRadius struct {
	Down       []string `json:"down"`       // flows down when it fails
	Degraded   []string `json:"degraded"`   // flows degraded
	Components []string `json:"components"` // what is not up when it fails, itself included
}

func (s *system) component(name string) (*componentJSON, error) {
	return component(s.model, s.result, name)
}

// GraphJSON is the dependency graph of a model and its analysis as GET
// /api/v1/systems/{name}/graph answers it (the graph page's input).
func GraphJSON(m *model.Model, res *analysis.Result) ([]byte, error) {
	return json.Marshal(buildGraph(m, res))
}

// ComponentJSON is a component's blast radius and findings as GET
// /api/v1/systems/{name}/components/{component} answers it.
func ComponentJSON(m *model.Model, res *analysis.Result, name string) ([]byte, error) {
	c, err := component(m, res, name)
	if err != nil {
		return nil, err
	}
	return json.Marshal(c)
}

func component(m *model.Model, res *analysis.Result, name string) (*componentJSON, error) {
	c := m.Component(name)
	if c == nil {
		return nil, fmt.Errorf("no component %q in %s", name, m.System)
	}
	imp, err := analysis.Explain(m, name)
	if err != nil {
		return nil, err
	}
	out := &componentJSON{Component: name, Kind: string(c.Kind), Replicas: max(c.Replicas, 1), Zones: c.Zones,
		BlastRadius: blastRadius{Down: []string{}, Degraded: []string{}, Components: []string{name}},
		Findings:    []analysis.Finding{}, Dependents: imp.Dependents}
	if out.Zones == nil {
		out.Zones = []string{}
	}
	for _, f := range imp.Flows {
		switch f.State {
		case analysis.Down:
			out.BlastRadius.Down = append(out.BlastRadius.Down, f.Flow)
		case analysis.Degraded:
			out.BlastRadius.Degraded = append(out.BlastRadius.Degraded, f.Flow)
		}
	}
	for _, d := range imp.Dependents {
		if d.State != analysis.Up {
			out.BlastRadius.Components = append(out.BlastRadius.Components, d.Component)
		}
	}
	for _, f := range res.Findings {
		if ownEvent(f.Event, name) {
			out.Findings = append(out.Findings, f)
		}
	}
	return out, nil
}
