package importer

import (
	"fmt"
	"strings"

	"github.com/spofhq/spof/model"
)

// Summary writes a result as plain lines, one per fact with where it came
// from, in model order: for golden files and for reading a result at a
// glance.
//
//	component frontend service replicas=3 min_healthy=1 zones=[a,b] failover=automatic  @ deploy.yaml:12
//	edge frontend -> cart fallback="optional (spof.dev/optional)"  @ deploy.yaml:40
//	flow frontend critical steps=[frontend]  @ deploy.yaml:88
//	note no-known-caller orphan: serves a port, ...  @ deploy.yaml:60
func Summary(res *Result) string {
	var b strings.Builder
	at := func(p model.Pos) string {
		if p.File == "" {
			return ""
		}
		return "  @ " + p.String()
	}
	m := res.Model
	for _, z := range m.Zones {
		fmt.Fprintf(&b, "zone %s region=%q%s\n", z.Name, z.Region, at(z.Pos))
	}
	for _, c := range m.Components {
		fmt.Fprintf(&b, "component %s %s replicas=%d min_healthy=%d", c.Name, c.Kind, c.Replicas, c.MinHealthy)
		if len(c.Zones) > 0 {
			fmt.Fprintf(&b, " zones=[%s]", strings.Join(c.Zones, ","))
		}
		if c.Provider != "" {
			fmt.Fprintf(&b, " provider=%s", c.Provider)
		}
		fmt.Fprintf(&b, " failover=%s", c.Failover)
		if c.Description != "" {
			fmt.Fprintf(&b, " description=%q", c.Description)
		}
		fmt.Fprintf(&b, "%s\n", at(c.Pos))
		for _, e := range c.DependsOn {
			fmt.Fprintf(&b, "edge %s -> %s", e.From, e.To)
			if e.FallbackTo != "" {
				fmt.Fprintf(&b, " fallback_to=%s", e.FallbackTo)
			}
			if e.Fallback != "" {
				fmt.Fprintf(&b, " fallback=%q", e.Fallback)
			}
			if e.AsyncVia != "" {
				fmt.Fprintf(&b, " async_via=%s", e.AsyncVia)
			}
			if e.When != model.WhenRunning {
				fmt.Fprintf(&b, " when=%s", e.When)
			}
			if len(e.Flows) > 0 {
				fmt.Fprintf(&b, " flows=[%s]", strings.Join(e.Flows, ","))
			}
			fmt.Fprintf(&b, "%s\n", at(e.Pos))
		}
	}
	for _, f := range m.Flows {
		fmt.Fprintf(&b, "flow %s %s steps=[%s]", f.Name, f.Criticality, strings.Join(f.Steps, ","))
		if f.Description != "" {
			fmt.Fprintf(&b, " description=%q", f.Description)
		}
		fmt.Fprintf(&b, "%s\n", at(f.Pos))
	}
	for _, p := range m.People {
		fmt.Fprintf(&b, "person %s knows=[%s] holds=[%s]%s\n", p.Name, strings.Join(p.Knows, ","), strings.Join(p.Holds, ","), at(p.Pos))
	}
	for _, h := range m.Hazards {
		fmt.Fprintf(&b, "hazard %s breaks=[%s] description=%q%s\n", h.Name, strings.Join(h.Breaks, ","), h.Description, at(h.Pos))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "note %s %s: %s", n.Kind, n.Subject, n.Msg)
		if n.Hint != "" {
			fmt.Fprintf(&b, " (%s)", n.Hint)
		}
		fmt.Fprintf(&b, "%s\n", at(n.Pos))
	}
	return b.String()
}
