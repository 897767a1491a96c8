// Package importer turns what teams already have (Kubernetes manifests,
// compose files, Terraform, traces, Backstage catalogs) into a partial
// spof model. Each format has its own package; they all build their model
// through a Builder, which keeps the provenance of every fact (the
// model.Pos of a component, an edge or a flow is where in the source it was
// found) and derives the flows the sources imply (Builder.Finish).
//
// Like model, importers do no I/O of their own beyond reading the files
// they are given: no cluster, no cloud API, no network.
package importer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spofhq/spof/model"
)

// A Result is what an importer read: a model whose components, edges and
// flows point at the facts they came from, and notes on what the sources
// leave unsaid or what could not be modelled.
type Result struct {
	Model *model.Model
	Notes []Note
	// Sources are the files read, in the order read.
	Sources []string
}

// NoteKind classifies a note, for filtering and for tests.
type NoteKind string

// Kinds of notes.
const (
	// NoteZoneSpread: replicas are not spread over zones by any rule the
	// sources show, so they may share a zone or a node.
	NoteZoneSpread NoteKind = "zone-spread-unknown"
	// NoteDangling: a reference (an address in an env value, a depends_on)
	// names nothing the sources deploy.
	NoteDangling NoteKind = "dangling-reference"
	// NoteNoCaller: a workload serves a port, but no entry point reaches
	// it; its callers may be hidden in code.
	NoteNoCaller NoteKind = "no-known-caller"
	// NoteUnknownResource: a kind or resource type the importer does not
	// model; listed so that nothing is dropped silently.
	NoteUnknownResource NoteKind = "unknown-resource"
	// NoteDataLoss: state that does not survive its pod or container.
	NoteDataLoss NoteKind = "data-loss"
	// NoteCannotScale: something pins a workload to one instance
	// (container_name in compose, ...).
	NoteCannotScale NoteKind = "cannot-scale"
	// NoteLoadGenerator: a load generator, which is not a flow.
	NoteLoadGenerator NoteKind = "load-generator"
	// NoteAssumption: a value the importer had to assume (a default, an
	// expression it could not evaluate).
	NoteAssumption NoteKind = "assumption"
)

// A Note is something an import found worth telling the user that is not a
// fact of the model.
type Note struct {
	Pos     model.Pos
	Kind    NoteKind
	Subject string // the component it is about, if any
	Msg     string
	Hint    string // what to do about it; may be empty
}

func (n Note) String() string {
	var b strings.Builder
	if n.Pos.File != "" {
		b.WriteString(n.Pos.String())
		b.WriteString(": ")
	}
	if n.Subject != "" {
		b.WriteString(n.Subject)
		b.WriteString(": ")
	}
	b.WriteString(n.Msg)
	if n.Hint != "" {
		fmt.Fprintf(&b, " (%s)", n.Hint)
	}
	return b.String()
}

// An Entry is an entry point: where users or other systems reach the
// system (a LoadBalancer or NodePort Service, an Ingress backend, a
// published port, an internet-facing load balancer).
type Entry struct {
	Component string
	Pos       model.Pos
	// Criticality of the flow it gives; CriticalityNone: derived from the
	// name (telemetry and admin UIs are low, others critical).
	Criticality model.Criticality
	// Description of the flow, such as "HTTP on port 80 (Service
	// frontend-external, LoadBalancer)".
	Description string
}

// Builder collects a model with provenance. Components are kept in the
// order they are first added; an importer reading files in a stable order
// gets a stable model.
type Builder struct {
	system     string
	components []*model.Component
	byName     map[string]*model.Component
	zones      []*model.Zone
	zoneByName map[string]*model.Zone
	entries    []Entry
	workers    map[string]string // background workers: component → what it does
	ports      map[string]bool   // components that serve a port
	crit       map[string]model.Criticality
	annot      map[string]*annotations
	hazards    []*model.Hazard
	people     []*model.Person
	notes      []Note
	sources    []string

	maxFileSize int64 // see SetMaxFileSize
}

// NewBuilder starts a model of the named system.
func NewBuilder(system string) *Builder {
	return &Builder{system: system, byName: map[string]*model.Component{}, zoneByName: map[string]*model.Zone{},
		workers: map[string]string{}, ports: map[string]bool{}, crit: map[string]model.Criticality{}}
}

// Source records that file was read.
func (b *Builder) Source(file string) {
	if !slices.Contains(b.sources, file) {
		b.sources = append(b.sources, file)
	}
}

// Component returns the named component, adding it with kind and pos when
// it is new. The name must be valid (see Name). Callers set Replicas,
// Zones, Failover and the rest on what it returns.
func (b *Builder) Component(name string, kind model.Kind, pos model.Pos) *model.Component {
	if c := b.byName[name]; c != nil {
		return c
	}
	c := &model.Component{Name: name, Kind: kind, Replicas: 1, MinHealthy: 1, Pos: pos,
		Failover: model.DefaultFailover(kind)}
	b.components = append(b.components, c)
	b.byName[name] = c
	return c
}

// Lookup returns the named component, or nil.
func (b *Builder) Lookup(name string) *model.Component { return b.byName[name] }

// Components returns the components added so far, in order.
func (b *Builder) Components() []*model.Component { return b.components }

// Zone declares a zone (in region, which may be empty) once.
func (b *Builder) Zone(name, region string, pos model.Pos) {
	if b.zoneByName[name] != nil {
		return
	}
	z := &model.Zone{Name: name, Region: region, Pos: pos}
	b.zones = append(b.zones, z)
	b.zoneByName[name] = z
}

// Edge records that from needs to, unless the same edge is already there.
// The edge's From and To must name components of the builder by Finish.
func (b *Builder) Edge(e *model.Edge) *model.Edge {
	c := b.byName[e.From]
	if c == nil {
		panic("importer: edge from unknown component " + e.From)
	}
	if e.From == e.To {
		return nil
	}
	for _, old := range c.DependsOn {
		if old.To == e.To {
			return old
		}
	}
	c.DependsOn = append(c.DependsOn, e)
	return e
}

// Entry records an entry point.
func (b *Builder) Entry(e Entry) {
	for _, old := range b.entries {
		if old.Component == e.Component {
			return
		}
	}
	b.entries = append(b.entries, e)
}

// ServesPort records that the component listens for requests: if nothing
// reaches it, Finish reports it as having no known caller.
func (b *Builder) ServesPort(component string) { b.ports[component] = true }

// Worker records a background worker (a queue consumer, a controller, a
// cron job) and what it does ("consume orders"): it gets a flow of its
// own, not a place on the user-facing ones.
func (b *Builder) Worker(component, does string) { b.workers[component] = does }

// Criticality sets the criticality of the flow a component's entry point
// or work gives (from an annotation such as spof.dev/criticality).
func (b *Builder) Criticality(component string, c model.Criticality) { b.crit[component] = c }

// Hazard adds a common-cause hazard.
func (b *Builder) Hazard(h *model.Hazard) { b.hazards = append(b.hazards, h) }

// Person adds a person (an owner from a catalog).
func (b *Builder) Person(p *model.Person) {
	for _, old := range b.people {
		if old.Name == p.Name {
			old.Knows = appendNew(old.Knows, p.Knows...)
			return
		}
	}
	b.people = append(b.people, p)
}

// Note records a note.
func (b *Builder) Note(n Note) { b.notes = append(b.notes, n) }

// Notes returns the notes recorded so far.
func (b *Builder) Notes() []Note { return b.notes }

func appendNew(list []string, items ...string) []string {
	for _, s := range items {
		if !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}
