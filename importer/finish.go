package importer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spofhq/spof/model"
)

// Unreached says what a workload that no entry point reaches is taken to be.
type Unreached string

const (
	// UnreachedNeeded (the default): its callers may be hidden in code, so
	// every user-facing flow is assumed to need it.
	UnreachedNeeded Unreached = "needed"
	// UnreachedUnused: it is left off every flow.
	UnreachedUnused Unreached = "unused"
)

// Options steer Finish.
type Options struct {
	// AssumeUnreached: see Unreached; "" means UnreachedNeeded.
	AssumeUnreached Unreached
}

// Finish completes the model: it drops edges to components that were never
// added (as dangling-reference notes), declares the zones components name,
// and derives the flows:
//
//   - each entry point gives a flow named after its component, critical
//     unless it is a telemetry or admin UI (low) or the sources say
//     otherwise (Criticality); load generators give none;
//   - each background worker no entry point reaches gives a flow of its
//     own, named after it, low unless the sources say otherwise;
//   - a workload that serves a port but that no entry point or worker
//     reaches has no known caller (a note); unless opts say it is unused,
//     it becomes a step of every user-facing flow, since a caller hidden
//     in code would need it;
//   - without any entry point, each component nothing depends on gives a
//     critical flow (a note says so): with nothing to say what users
//     reach, every top-level component is assumed to matter.
func (b *Builder) Finish(opts Options) *Result {
	if opts.AssumeUnreached == "" {
		opts.AssumeUnreached = UnreachedNeeded
	}
	b.applyAnnotations()
	b.dropDangling()
	b.dropLoadGeneratorEdges()
	b.breakCycles()
	for _, c := range b.components {
		for _, z := range c.Zones {
			b.Zone(z, "", model.Pos{})
		}
	}
	b.singleRegion()

	m := &model.Model{Version: 1, System: b.system, Zones: b.zones, Components: b.components,
		People: b.people, Hazards: b.hazards}
	flows := newFlowNames()
	var userFacing []*model.Flow
	var roots []string // what flows start from, for reachability
	for _, e := range b.entries {
		if isLoadGenerator(e.Component) {
			b.Note(Note{Pos: e.Pos, Kind: NoteLoadGenerator, Subject: e.Component,
				Msg: "a load generator: no flow of its own, and not needed by any"})
			continue
		}
		crit := e.Criticality
		if c, ok := b.crit[e.Component]; ok {
			crit = c
		}
		if crit == model.CriticalityNone {
			crit = model.Critical
			if isTelemetryOrAdmin(e.Component) {
				crit = model.Low
			}
		}
		f := &model.Flow{Name: flows.unique(e.Component), Criticality: crit, Description: e.Description,
			Steps: []string{e.Component}, Pos: e.Pos, StepsPos: []model.Pos{e.Pos}}
		m.Flows = append(m.Flows, f)
		roots = append(roots, e.Component)
		if crit > model.Low {
			userFacing = append(userFacing, f)
		}
	}
	reached := b.reach(roots)
	for _, c := range b.components {
		does, ok := b.workers[c.Name]
		if !ok || reached[c.Name] || isLoadGenerator(c.Name) {
			continue
		}
		crit, ok := b.crit[c.Name]
		if !ok {
			crit = model.Low
		}
		desc := "background work of " + c.Name
		if does != "" {
			desc = does
		}
		m.Flows = append(m.Flows, &model.Flow{Name: flows.unique(c.Name), Criticality: crit, Description: desc,
			Steps: []string{c.Name}, Pos: c.Pos, StepsPos: []model.Pos{c.Pos}})
		roots = append(roots, c.Name)
	}
	reached = b.reach(roots)

	needed := b.dependedOn()
	var noCaller []*model.Component
	for _, c := range b.components {
		if reached[c.Name] || needed[c.Name] || isLoadGenerator(c.Name) {
			continue
		}
		switch {
		case len(b.entries) == 0:
			// Nothing says what users reach: every top-level component
			// is assumed to matter.
			m.Flows = append(m.Flows, &model.Flow{Name: flows.unique(c.Name), Criticality: model.Critical,
				Description: "assumed: nothing in the sources says what users reach",
				Steps:       []string{c.Name}, Pos: c.Pos, StepsPos: []model.Pos{c.Pos}})
		case b.ports[c.Name]:
			noCaller = append(noCaller, c)
			if opts.AssumeUnreached == UnreachedNeeded {
				for _, f := range userFacing {
					f.Steps = append(f.Steps, c.Name)
					f.StepsPos = append(f.StepsPos, c.Pos)
				}
			}
		default:
			// Neither reached nor serving: something runs on its own
			// (a one-shot job, an agent). It gets a low flow, so that its
			// SPOFs are visible without failing the user-facing flows.
			m.Flows = append(m.Flows, &model.Flow{Name: flows.unique(c.Name), Criticality: model.Low,
				Description: "runs on its own: nothing reaches it, and it serves no port",
				Steps:       []string{c.Name}, Pos: c.Pos, StepsPos: []model.Pos{c.Pos}})
		}
	}
	b.noCallerNotes(noCaller, opts)
	setSources(m)
	if len(b.entries) == 0 && len(m.Flows) > 0 {
		b.Note(Note{Kind: NoteAssumption, Msg: fmt.Sprintf("no entry point found: each of the %d components nothing depends on is assumed critical", len(m.Flows)),
			Hint: "mark what users reach (a LoadBalancer Service, an Ingress, a published port), or write the flows with --merge"})
	}
	return &Result{Model: m, Notes: b.notes, Sources: b.sources}
}

// dropDangling removes edges to components that were never added, with a
// note for each.
func (b *Builder) dropDangling() {
	for _, c := range b.components {
		kept := c.DependsOn[:0]
		for _, e := range c.DependsOn {
			missing := ""
			for _, name := range []string{e.To, e.FallbackTo, e.AsyncVia} {
				if name != "" && b.byName[name] == nil {
					missing = name
				}
			}
			if missing != "" {
				b.Note(Note{Pos: e.Pos, Kind: NoteDangling, Subject: c.Name,
					Msg:  fmt.Sprintf("refers to %q, which the sources do not deploy", missing),
					Hint: "import the sources that deploy it too, or ignore this if it lives outside the system"})
				continue
			}
			kept = append(kept, e)
		}
		c.DependsOn = kept
	}
}

// reach returns the components reached from roots over every edge.
func (b *Builder) reach(roots []string) map[string]bool {
	seen := map[string]bool{}
	stack := slices.Clone(roots)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		c := b.byName[n]
		if c == nil {
			continue
		}
		for _, e := range c.DependsOn {
			for _, t := range []string{e.To, e.FallbackTo, e.AsyncVia} {
				if t != "" && !seen[t] {
					stack = append(stack, t)
				}
			}
		}
	}
	return seen
}

// dependedOn returns the components some other component depends on.
func (b *Builder) dependedOn() map[string]bool {
	out := map[string]bool{}
	for _, c := range b.components {
		for _, e := range c.DependsOn {
			for _, t := range []string{e.To, e.FallbackTo, e.AsyncVia} {
				if t != "" {
					out[t] = true
				}
			}
		}
	}
	return out
}

// flowNames hands out unique flow names.
type flowNames map[string]bool

func newFlowNames() flowNames { return flowNames{} }

func (f flowNames) unique(name string) string {
	out := name
	for i := 2; f[out]; i++ {
		out = fmt.Sprintf("%s-%d", name, i)
	}
	f[out] = true
	return out
}

// telemetryAndAdmin are the names of well-known telemetry, admin and
// developer UIs: flows through them are low.
var telemetryAndAdmin = []string{
	"grafana", "prometheus", "alertmanager", "jaeger", "zipkin", "tempo", "loki", "kibana",
	"opensearch-dashboards", "flagd-ui", "otel-collector", "otelcol", "opentelemetry-collector",
	"adminer", "pgadmin", "phpmyadmin", "redis-commander", "redisinsight", "kafka-ui", "akhq",
	"mailhog", "mailpit", "portainer", "traefik-dashboard", "kubernetes-dashboard", "swagger-ui",
}

// isTelemetryOrAdmin reports whether a component name is a telemetry or
// admin UI's.
func isTelemetryOrAdmin(name string) bool {
	n := strings.ToLower(name)
	for _, t := range telemetryAndAdmin {
		if n == t || strings.HasPrefix(n, t+"-") || strings.HasSuffix(n, "-"+t) || strings.Contains(n, "-"+t+"-") {
			return true
		}
	}
	return false
}

// isLoadGenerator reports whether a component name is a load generator's.
func isLoadGenerator(name string) bool {
	n := strings.ToLower(name)
	for _, t := range []string{"loadgenerator", "load-generator", "loadgen", "locust", "k6", "loadtest", "load-test"} {
		if n == t || strings.HasPrefix(n, t+"-") || strings.HasSuffix(n, "-"+t) {
			return true
		}
	}
	return false
}

// IsTelemetryOrAdmin reports whether a component name is a well-known
// telemetry, admin or developer UI's (grafana, jaeger, flagd-ui ...):
// importers use it to tell a route to such a UI from a user-facing call.
func IsTelemetryOrAdmin(name string) bool { return isTelemetryOrAdmin(name) }

// IsLoadGenerator reports whether a component name is a load generator's
// (loadgenerator, locust, k6 ...): what it calls is what users would reach.
func IsLoadGenerator(name string) bool { return isLoadGenerator(name) }

// setSources records, as each fact's Source, the position in the source
// files the importer gave it, so that a written model keeps it (source:).
func setSources(m *model.Model) {
	for _, z := range m.Zones {
		if z.Source.File == "" {
			z.Source = z.Pos
		}
	}
	for _, c := range m.Components {
		if c.Source.File == "" {
			c.Source = c.Pos
		}
		for _, e := range c.DependsOn {
			if e.Source.File == "" {
				e.Source = e.Pos
			}
		}
	}
	for _, f := range m.Flows {
		if f.Source.File == "" {
			f.Source = f.Pos
		}
	}
	for _, p := range m.People {
		if p.Source.File == "" {
			p.Source = p.Pos
		}
	}
	for _, h := range m.Hazards {
		if h.Source.File == "" {
			h.Source = h.Pos
		}
	}
}

// dropLoadGeneratorEdges removes the edges to load generators: nothing
// needs one (a proxy that routes to its UI included), and such an edge
// would put it on the flows it loads.
func (b *Builder) dropLoadGeneratorEdges() {
	for _, c := range b.components {
		c.DependsOn = slices.DeleteFunc(c.DependsOn, func(e *model.Edge) bool {
			return isLoadGenerator(e.To) && !isLoadGenerator(c.Name)
		})
	}
}

// breakCycles drops the edges that close a cycle of running-time
// dependencies, which a model cannot hold (several sources together, or
// services that name each other), each with a note. Hard edges are
// followed first, so that an edge with a fallback is the one to go.
func (b *Builder) breakCycles() {
	const (
		unseen = iota
		onStack
		done
	)
	state := map[string]int{}
	var visit func(c *model.Component)
	visit = func(c *model.Component) {
		state[c.Name] = onStack
		edges := slices.Clone(c.DependsOn)
		slices.SortStableFunc(edges, func(x, y *model.Edge) int {
			return boolInt(x.Degrades()) - boolInt(y.Degrades())
		})
		for _, e := range edges {
			if !e.Running() {
				continue
			}
			for _, to := range []string{e.To, e.FallbackTo, e.AsyncVia} {
				t := b.byName[to]
				if t == nil {
					continue
				}
				switch state[to] {
				case onStack:
					if slices.Contains(c.DependsOn, e) {
						c.DependsOn = slices.DeleteFunc(c.DependsOn, func(x *model.Edge) bool { return x == e })
						b.Note(Note{Pos: e.Pos, Kind: NoteAssumption, Subject: c.Name,
							Msg:  fmt.Sprintf("the dependency on %s closes a cycle of dependencies: left out", e.To),
							Hint: "if " + c.Name + " needs " + e.To + " only to start, or not at all, nothing is lost; otherwise add it by hand, with when: startup on another edge of the cycle"})
					}
				case unseen:
					visit(t)
				}
			}
		}
		state[c.Name] = done
	}
	for _, c := range b.components {
		if state[c.Name] == unseen {
			visit(c)
		}
	}
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

// singleRegion drops the region of the zones when they are all in one:
// a regional outage would then be a SPOF of every flow, true of nearly
// every system and news to nobody, and it would bury the SPOFs the
// sources reveal. A note says so; with zones in two regions or more, the
// regions stay, since they are then part of the design.
func (b *Builder) singleRegion() {
	region := ""
	for _, z := range b.zones {
		switch {
		case z.Region == "":
		case region == "":
			region = z.Region
		case z.Region != region:
			return
		}
	}
	if region == "" {
		return
	}
	for _, z := range b.zones {
		z.Region = ""
	}
	b.Note(Note{Kind: NoteAssumption, Subject: "region:" + region,
		Msg:  fmt.Sprintf("every zone is in region %s: its outage would take every flow down; left out of the model, so that it does not bury the SPOFs within the region", region),
		Hint: "to see it, give the zones region: " + region + " in the model (--merge keeps it)"})
}

// noCallerNotes says which workloads serve a port that no entry point
// reaches: one note each for a few, one note for them all past that (an
// estate of internal services would otherwise print a screenful).
func (b *Builder) noCallerNotes(cs []*model.Component, opts Options) {
	hint := "if nothing calls it, import with --assume-unreached unused; if something does, declare the edge (spof.dev/depends-on next to the source, or the model with --merge) or add traces"
	what := "assumed needed by every user-facing flow"
	if opts.AssumeUnreached == UnreachedUnused {
		what, hint = "left off every flow (--assume-unreached unused)", ""
	}
	if len(cs) <= 3 {
		for _, c := range cs {
			b.Note(Note{Pos: c.Pos, Kind: NoteNoCaller, Subject: c.Name,
				Msg: "serves a port, but no entry point reaches it: " + what, Hint: hint})
		}
		return
	}
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.Name)
	}
	list := strings.Join(names, ", ")
	if len(names) > 10 {
		list = strings.Join(names[:10], ", ") + fmt.Sprintf(" and %d more", len(names)-10)
	}
	if hint != "" {
		hint = strings.Replace(hint, "nothing calls it", "nothing calls one", 1)
	}
	b.Note(Note{Pos: cs[0].Pos, Kind: NoteNoCaller,
		Msg:  fmt.Sprintf("%d workloads serve a port, but no entry point reaches them (%s): %s", len(cs), list, what),
		Hint: hint})
}
