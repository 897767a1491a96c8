package analysis

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spofhq/spof/model"
)

// DriftKind classifies a difference between a model and what its sources
// show.
type DriftKind string

// Kinds of drift.
const (
	// DriftUndeclared: the sources show a dependency the model lacks (a
	// hidden dependency).
	DriftUndeclared DriftKind = "undeclared-dependency"
	// DriftUnmodelled: the sources deploy a component the model lacks.
	DriftUnmodelled DriftKind = "unmodelled-component"
	// DriftGone: the model has a component imported from one of the
	// sources, which no longer have it.
	DriftGone DriftKind = "gone-component"
	// DriftReplicas: the replica counts differ.
	DriftReplicas DriftKind = "replicas"
	// DriftZones: the numbers of zones differ.
	DriftZones DriftKind = "zones"
)

// A DriftItem is one difference.
type DriftItem struct {
	Kind      DriftKind `json:"kind"`
	Component string    `json:"component"`
	To        string    `json:"to,omitempty"` // DriftUndeclared: the dependency's target
	Model     model.Pos `json:"model,omitzero"`
	Source    model.Pos `json:"source,omitzero"`
	// What the model and the sources say, for replicas and zones.
	ModelValue  string `json:"model_value,omitempty"`
	SourceValue string `json:"source_value,omitempty"`
}

func (d DriftItem) String() string {
	at := ""
	if d.Source.File != "" {
		at = " (" + d.Source.String() + ")"
	}
	switch d.Kind {
	case DriftUndeclared:
		return fmt.Sprintf("%s → %s: the sources show this dependency%s; the model does not declare it", d.Component, d.To, at)
	case DriftUnmodelled:
		return fmt.Sprintf("%s: deployed%s, not in the model", d.Component, at)
	case DriftGone:
		return fmt.Sprintf("%s: in the model (imported from %s), no longer in the sources", d.Component, d.Model.File)
	default:
		return fmt.Sprintf("%s: %s: the model says %s, the sources %s%s", d.Component, d.Kind, d.ModelValue, d.SourceValue, at)
	}
}

// A DriftReport is what Drift found.
type DriftReport struct {
	Sources  []string    `json:"sources"`
	Compared int         `json:"compared_components"` // components in both
	Items    []DriftItem `json:"drift"`
}

// Drift compares a model with imported, what its sources show (sources
// are the files the import read): dependencies the sources show and the
// model lacks, components deployed and not modelled, modelled components
// imported from those files that they no longer have, and replica and zone
// counts that differ. What the sources cannot show (people, CI, DNS
// written by hand) is not drift.
func Drift(m, imported *model.Model, sources []string) *DriftReport {
	r := &DriftReport{Sources: sources, Items: []DriftItem{}}
	read := map[string]bool{}
	for _, s := range sources {
		read[filepath.Clean(s)] = true
	}
	for _, ic := range imported.Components {
		mc := m.Component(ic.Name)
		src := ic.At()
		if mc == nil {
			r.Items = append(r.Items, DriftItem{Kind: DriftUnmodelled, Component: ic.Name, Source: src})
			continue
		}
		r.Compared++
		if mc.Replicas != ic.Replicas {
			r.Items = append(r.Items, DriftItem{Kind: DriftReplicas, Component: ic.Name, Model: mc.Pos, Source: src,
				ModelValue: strconv.Itoa(mc.Replicas), SourceValue: strconv.Itoa(ic.Replicas)})
		}
		if mz, iz := distinctZones(mc), distinctZones(ic); len(ic.Zones) > 0 && mz != iz {
			r.Items = append(r.Items, DriftItem{Kind: DriftZones, Component: ic.Name, Model: mc.Pos, Source: src,
				ModelValue: zonesText(mc, mz), SourceValue: zonesText(ic, iz)})
		}
		for _, e := range ic.DependsOn {
			if m.Component(e.To) == nil {
				continue // reported as unmodelled
			}
			declared := false
			for _, me := range mc.DependsOn {
				if me.To == e.To || me.FallbackTo == e.To || me.AsyncVia == e.To {
					declared = true
					break
				}
			}
			if !declared {
				pos := e.Source
				if pos.File == "" {
					pos = e.Pos
				}
				r.Items = append(r.Items, DriftItem{Kind: DriftUndeclared, Component: ic.Name, To: e.To, Model: mc.Pos, Source: pos})
			}
		}
	}
	for _, mc := range m.Components {
		if mc.Source.File != "" && read[filepath.Clean(mc.Source.File)] && imported.Component(mc.Name) == nil {
			r.Items = append(r.Items, DriftItem{Kind: DriftGone, Component: mc.Name, Model: mc.Source})
		}
	}
	return r
}

func zonesText(c *model.Component, n int) string {
	if n == 0 {
		return "no zones"
	}
	return fmt.Sprintf("%d zone%s (%s)", n, plural(n), strings.Join(c.Zones, ", "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// driftItem is checklist item 3 when the model was compared with its
// sources.
func driftItem(a *analyzer, d *DriftReport) ChecklistItem {
	it := ChecklistItem{}
	if len(d.Items) == 0 {
		it.Status = Pass
		it.Evidence = []string{fmt.Sprintf("the model matches its sources (%s read, %s compared)",
			countNoun(len(d.Sources), "file", "files"), countNoun(d.Compared, "component", "components"))}
		return it
	}
	it.Status = Fail
	it.Evidence = append(it.Evidence, fmt.Sprintf("%s between the model and its sources (%s read):",
		countNoun(len(d.Items), "difference", "differences"), countNoun(len(d.Sources), "file", "files")))
	for _, item := range d.Items {
		it.Evidence = append(it.Evidence, item.String())
	}
	return it
}
