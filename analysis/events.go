package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spofhq/spof/model"
)

// Events lists every basic event of the model in report order: per
// component (component:X, or instance:X/i for each replica), then zones,
// regions, providers, hazards and people.
func Events(m *model.Model) []Event {
	regions, providers := m.Regions(), m.Providers()
	n := len(m.Zones) + len(regions) + len(providers) + len(m.Hazards) + len(m.People)
	for _, c := range m.Components {
		n += max(1, c.Replicas)
	}
	out := make([]Event, 0, n)
	for _, c := range m.Components {
		if c.Replicas <= 1 {
			out = append(out, Event{Kind: EventComponent, Name: c.Name})
			continue
		}
		for i := 0; i < c.Replicas; i++ {
			out = append(out, Event{Kind: EventInstance, Name: c.Name, Instance: i})
		}
	}
	for _, z := range m.Zones {
		out = append(out, Event{Kind: EventZone, Name: z.Name})
	}
	for _, r := range regions {
		out = append(out, Event{Kind: EventRegion, Name: r})
	}
	single := providersOfOneComponent(m)
	for _, p := range providers {
		if !single[p] {
			out = append(out, Event{Kind: EventProvider, Name: p})
		}
	}
	for _, h := range m.Hazards {
		out = append(out, Event{Kind: EventHazard, Name: h.Name})
	}
	for _, p := range m.People {
		out = append(out, Event{Kind: EventPerson, Name: p.Name})
	}
	return out
}

// providersOfOneComponent returns the providers used by exactly one
// component, which has a single replica: then provider:p fails exactly what
// component:X fails, and Events lists only the latter.
func providersOfOneComponent(m *model.Model) map[string]bool {
	users := map[string]int{}
	last := map[string]*model.Component{}
	for _, c := range m.Components {
		if c.Provider != "" {
			users[c.Provider]++
			last[c.Provider] = c
		}
	}
	out := map[string]bool{}
	for p, n := range users {
		if n == 1 && last[p].Replicas == 1 {
			out[p] = true
		}
	}
	return out
}

// Resolve checks that e names something in m, with a "did you mean" hint
// when it does not. component:X is accepted for any component (all its
// replicas fail), which what-if questions need.
func Resolve(m *model.Model, e Event) error {
	var names []string
	switch e.Kind {
	case EventComponent, EventInstance:
		c := m.Component(e.Name)
		if c == nil {
			for _, c := range m.Components {
				names = append(names, c.Name)
			}
			break
		}
		if e.Kind == EventInstance && e.Instance >= c.Replicas {
			return fmt.Errorf("event %s: %s has %d replica(s), counted from 0", e, c.Name, c.Replicas)
		}
		return nil
	case EventZone:
		if m.Zone(e.Name) != nil {
			return nil
		}
		for _, z := range m.Zones {
			names = append(names, z.Name)
		}
	case EventRegion:
		names = m.Regions()
	case EventProvider:
		names = m.Providers()
	case EventHazard:
		if m.Hazard(e.Name) != nil {
			return nil
		}
		for _, h := range m.Hazards {
			names = append(names, h.Name)
		}
	case EventPerson:
		if m.Person(e.Name) != nil {
			return nil
		}
		for _, p := range m.People {
			names = append(names, p.Name)
		}
	}
	if slices.Contains(names, e.Name) {
		return nil
	}
	msg := fmt.Sprintf("event %s: no %s named %q in the model", e, e.Kind, e.Name)
	if s := model.Closest(e.Name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return fmt.Errorf("%s", msg)
}

// failures is a set of failed basic events.
type failures struct {
	component map[string]bool
	instance  map[string]map[int]bool
	zone      map[string]bool
	region    map[string]bool
	provider  map[string]bool
	hazard    map[string]bool
}

func newFailures(events ...Event) *failures {
	fs := &failures{
		component: map[string]bool{}, instance: map[string]map[int]bool{},
		zone: map[string]bool{}, region: map[string]bool{}, provider: map[string]bool{}, hazard: map[string]bool{},
	}
	for _, e := range events {
		switch e.Kind {
		case EventComponent:
			fs.component[e.Name] = true
		case EventInstance:
			if fs.instance[e.Name] == nil {
				fs.instance[e.Name] = map[int]bool{}
			}
			fs.instance[e.Name][e.Instance] = true
		case EventZone:
			fs.zone[e.Name] = true
		case EventRegion:
			fs.region[e.Name] = true
		case EventProvider:
			fs.provider[e.Name] = true
		case EventHazard:
			fs.hazard[e.Name] = true
		}
	}
	return fs
}

// replicaFails reports whether replica i of c fails under fs.
func (fs *failures) replicaFails(m *model.Model, c *model.Component, i int) bool {
	if fs.component[c.Name] || fs.instance[c.Name][i] {
		return true
	}
	if c.Provider != "" && fs.provider[c.Provider] {
		return true
	}
	if z := c.ReplicaZone(i); z != "" {
		if fs.zone[z] {
			return true
		}
		if zz := m.Zone(z); zz != nil && zz.Region != "" && fs.region[zz.Region] {
			return true
		}
	}
	return false
}

// available reports whether c survives fs: at least min_healthy replicas
// up, the primary up when c needs it, and no failed hazard breaking it.
func (fs *failures) available(m *model.Model, c *model.Component, brokenBy map[string][]string) bool {
	for _, h := range brokenBy[c.Name] {
		if fs.hazard[h] {
			return false
		}
	}
	up := 0
	for i := 0; i < c.Replicas; i++ {
		if fs.replicaFails(m, c, i) {
			if i == 0 && c.NeedsPrimary() {
				return false
			}
			continue
		}
		up++
	}
	return up >= c.MinHealthy
}

// hazardsBreaking maps each component name to the hazards that break it.
func hazardsBreaking(m *model.Model) map[string][]string {
	out := map[string][]string{}
	for _, h := range m.Hazards {
		for _, b := range h.Breaks {
			out[b] = append(out[b], h.Name)
		}
	}
	return out
}

// candidates returns the components an event can touch at all: the
// components it names, places a replica in its zone or region, runs on its
// provider or breaks. available() decides which of them actually go down.
type eventIndex struct {
	byZone     map[string][]int32
	byRegion   map[string][]int32
	byProvider map[string][]int32
	brokenBy   map[string][]string
	comp       map[string]int32
}

func newEventIndex(g *graph) *eventIndex {
	m := g.m
	ix := &eventIndex{
		byZone: map[string][]int32{}, byRegion: map[string][]int32{}, byProvider: map[string][]int32{},
		brokenBy: hazardsBreaking(m),
		comp:     g.comp,
	}
	for x, c := range m.Components {
		if c.Provider != "" {
			ix.byProvider[c.Provider] = append(ix.byProvider[c.Provider], int32(x))
		}
		n := min(c.Replicas, len(c.Zones))
		var regions []string
		for i := 0; i < n; i++ { // the first len(Zones) replicas visit every zone once
			z := c.Zones[i]
			ix.byZone[z] = append(ix.byZone[z], int32(x))
			if zz := m.Zone(z); zz != nil && zz.Region != "" && !slices.Contains(regions, zz.Region) {
				regions = append(regions, zz.Region)
				ix.byRegion[zz.Region] = append(ix.byRegion[zz.Region], int32(x))
			}
		}
	}
	return ix
}

func (ix *eventIndex) candidates(m *model.Model, e Event) []int32 {
	switch e.Kind {
	case EventComponent, EventInstance:
		if i, ok := ix.comp[e.Name]; ok {
			return []int32{i}
		}
	case EventZone:
		return ix.byZone[e.Name]
	case EventRegion:
		return ix.byRegion[e.Name]
	case EventProvider:
		return ix.byProvider[e.Name]
	case EventHazard:
		if h := m.Hazard(e.Name); h != nil {
			out := make([]int32, 0, len(h.Breaks))
			for _, b := range h.Breaks {
				if i, ok := ix.comp[b]; ok {
					out = append(out, i)
				}
			}
			return out
		}
	}
	return nil
}

// singleFailure answers "does replica i of c fail" for one event without
// building maps; it must agree with failures.replicaFails.
func singleReplicaFails(m *model.Model, e Event, c *model.Component, i int) bool {
	switch e.Kind {
	case EventComponent:
		return e.Name == c.Name
	case EventInstance:
		return e.Name == c.Name && e.Instance == i
	case EventProvider:
		return c.Provider != "" && c.Provider == e.Name
	case EventZone:
		return c.ReplicaZone(i) == e.Name
	case EventRegion:
		if z := m.Zone(c.ReplicaZone(i)); z != nil {
			return z.Region == e.Name
		}
	}
	return false
}

// singleAvailable is failures.available for one event.
func singleAvailable(m *model.Model, e Event, c *model.Component) bool {
	if e.Kind == EventHazard {
		if h := m.Hazard(e.Name); h != nil && slices.Contains(h.Breaks, c.Name) {
			return false
		}
		return true
	}
	if e.Kind == EventComponent || e.Kind == EventInstance {
		// The loop below in closed form, for the most frequent events:
		// every replica fails (component:X), or one (instance:X/i).
		lost, primary := 0, false
		switch {
		case e.Name != c.Name:
		case e.Kind == EventComponent:
			lost, primary = c.Replicas, c.Replicas > 0
		case e.Instance >= 0 && e.Instance < c.Replicas:
			lost, primary = 1, e.Instance == 0
		}
		return !(primary && c.NeedsPrimary()) && c.Replicas-lost >= c.MinHealthy
	}
	up := 0
	for i := 0; i < c.Replicas; i++ {
		if singleReplicaFails(m, e, c, i) {
			if i == 0 && c.NeedsPrimary() {
				return false
			}
			continue
		}
		up++
	}
	return up >= c.MinHealthy
}

// downReason explains, for a chain, why event e takes component c down.
func downReason(m *model.Model, e Event, c *model.Component) string {
	switch e.Kind {
	case EventComponent:
		switch c.Kind {
		case model.KindExternal:
			return fmt.Sprintf("%s is an external service with no alternative", c.Name)
		case model.KindDNS:
			return fmt.Sprintf("%s is served by a single DNS provider with no secondary", c.Name)
		case model.KindCDN:
			return fmt.Sprintf("%s is a single CDN with no failover", c.Name)
		case model.KindCertificate:
			return fmt.Sprintf("%s is the only certificate: if it expires or is revoked, nothing replaces it", c.Name)
		}
		return fmt.Sprintf("%s runs a single replica and nothing takes over", c.Name)
	case EventInstance:
		if e.Instance == 0 && c.NeedsPrimary() {
			return fmt.Sprintf("%s/0 is the primary of %s, which has no automatic failover%s", c.Name, c.Name, failoverNote(m, c))
		}
		return fmt.Sprintf("%s needs %d healthy replicas of %d", c.Name, c.MinHealthy, c.Replicas)
	case EventZone, EventRegion:
		where := e.Name
		if e.Kind == EventRegion {
			where = "region " + e.Name
		}
		lost, primary := 0, false
		for i := 0; i < c.Replicas; i++ {
			if singleReplicaFails(m, e, c, i) {
				lost++
				primary = primary || i == 0
			}
		}
		switch {
		case c.Replicas == 1:
			return fmt.Sprintf("%s has its only replica in %s", c.Name, where)
		case lost == c.Replicas:
			return fmt.Sprintf("%s has all %d replicas in %s", c.Name, c.Replicas, where)
		case primary && c.NeedsPrimary():
			return fmt.Sprintf("%s has its primary in %s and no automatic failover%s", c.Name, where, failoverNote(m, c))
		default:
			return fmt.Sprintf("%s loses %d of %d replicas in %s, fewer than min_healthy %d", c.Name, lost, c.Replicas, where, c.MinHealthy)
		}
	case EventProvider:
		return fmt.Sprintf("%s runs on %s", c.Name, e.Name)
	case EventHazard:
		if h := m.Hazard(e.Name); h != nil && h.Description != "" {
			return fmt.Sprintf("%s breaks %s: %s", e.Name, c.Name, h.Description)
		}
		return fmt.Sprintf("%s breaks %s", e.Name, c.Name)
	}
	return c.Name + " is down"
}

// failoverNote says who can fail c over by hand, for manual failover.
func failoverNote(m *model.Model, c *model.Component) string {
	if c.Failover != model.FailoverManual {
		return ""
	}
	who := knowers(m, c.Name)
	if len(who) == 0 {
		return " (failover: manual, recoverable by manual failover, but no one in people: knows how)"
	}
	return " (failover: manual, recoverable by manual failover by " + strings.Join(who, ", ") + ")"
}

// knowers lists the people who know component name, sorted.
func knowers(m *model.Model, name string) []string {
	var out []string
	for _, p := range m.People {
		if slices.Contains(p.Knows, name) {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return out
}

// orSource is source when an importer set it, else pos.
func orSource(source, pos model.Pos) model.Pos {
	if source.File != "" {
		return source
	}
	return pos
}

// eventPos is where an event is declared, for SARIF and editors: where an
// importer found it when it was imported.
func (a *analyzer) eventPos(e Event) model.Pos {
	m := a.m
	switch e.Kind {
	case EventComponent, EventInstance:
		if x, ok := a.g.comp[e.Name]; ok {
			return m.Components[x].At()
		}
	case EventZone:
		if z := m.Zone(e.Name); z != nil {
			return orSource(z.Source, z.Pos)
		}
	case EventRegion:
		for _, z := range m.Zones {
			if z.Region == e.Name {
				return orSource(z.Source, z.Pos)
			}
		}
	case EventProvider:
		for _, c := range m.Components {
			if c.Provider == e.Name {
				if c.ProviderPos.Line > 0 && c.Source.File == "" {
					return c.ProviderPos
				}
				return c.At()
			}
		}
	case EventHazard:
		if h := m.Hazard(e.Name); h != nil {
			return orSource(h.Source, h.Pos)
		}
	case EventPerson:
		if p := m.Person(e.Name); p != nil {
			return orSource(p.Source, p.Pos)
		}
	}
	return model.Pos{File: m.File}
}

func sortStrings(s []string) { slices.Sort(s) }
