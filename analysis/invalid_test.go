package analysis

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/model"
)

// handBuilt is a model built in Go, as a library user would: no index, a
// database that is a single point of failure.
func handBuilt() *model.Model {
	return &model.Model{
		Version: 1, System: "go",
		Zones: []*model.Zone{{Name: "a", Region: "r"}, {Name: "b", Region: "r"}},
		Components: []*model.Component{
			{Name: "app", Kind: model.KindService, Replicas: 2, MinHealthy: 1, Zones: []string{"a", "b"},
				DependsOn: []*model.Edge{{From: "app", To: "db"}, {From: "app", To: "cache", FallbackTo: "db", Flows: []string{"checkout"}}}},
			{Name: "db", Kind: model.KindDatabase, Replicas: 1, MinHealthy: 1, Zones: []string{"a"}},
			{Name: "cache", Kind: model.KindCache, Replicas: 1, MinHealthy: 1},
		},
		Flows:   []*model.Flow{{Name: "checkout", Criticality: model.Critical, Steps: []string{"app"}}},
		People:  []*model.Person{{Name: "ann", Knows: []string{"db"}}},
		Hazards: []*model.Hazard{{Name: "h", Breaks: []string{"cache"}}},
	}
}

func TestCheckHandBuiltModel(t *testing.T) {
	res := mustCheck(t, handBuilt(), Options{})
	got := map[string]Category{}
	for _, f := range res.Findings {
		got[f.Event] = f.Category
	}
	for ev, want := range map[string]Category{"component:db": CategorySPOF, "zone:a": CategorySPOF, "component:cache": CategoryDegradation, "person:ann": CategoryOperational} {
		if got[ev] != want {
			t.Errorf("%s: %q, want %q (all: %v)", ev, got[ev], want, got)
		}
	}
}

// TestInvalidModel: every name that resolves to nothing, every value out
// of range and every cycle is an error, from every entry point, never a
// quietly smaller analysis.
func TestInvalidModel(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(m *model.Model)
		msg    string
	}{
		{"edge target", func(m *model.Model) { m.Components[0].DependsOn[0].To = "dbb" },
			`components.app: depends_on[0]: no component named "dbb" (did you mean "db"?)`},
		{"empty edge target", func(m *model.Model) { m.Components[0].DependsOn[0].To = "" },
			`components.app: depends_on[0]: the edge names no component`},
		{"fallback_to", func(m *model.Model) { m.Components[0].DependsOn[1].FallbackTo = "postgres" },
			`components.app: depends_on[1]: fallback_to: no component named "postgres"`},
		{"async_via", func(m *model.Model) { m.Components[0].DependsOn[1].AsyncVia = "queue" },
			`components.app: depends_on[1]: async_via: no component named "queue"`},
		{"edge flow scope", func(m *model.Model) { m.Components[0].DependsOn[1].Flows = []string{"chekout"} },
			`components.app: depends_on[1]: flows[0]: no flow named "chekout" (did you mean "checkout"?)`},
		{"when", func(m *model.Model) { m.Components[0].DependsOn[1].When = "sometimes" },
			`components.app: depends_on[1]: when: "sometimes" is not one of startup, deploy, recovery`},
		{"flow step", func(m *model.Model) { m.Flows[0].Steps = []string{"web"} },
			`flows.checkout: steps[0]: no component named "web"`},
		{"flow without steps", func(m *model.Model) { m.Flows[0].Steps = nil },
			`flows.checkout: no steps`},
		{"hazard breaks", func(m *model.Model) { m.Hazards[0].Breaks = []string{"cash"} },
			`hazards.h: breaks[0]: no component named "cash"`},
		{"person knows", func(m *model.Model) { m.People[0].Knows = []string{"dbs"} },
			`people.ann: knows[0]: no component named "dbs" (did you mean "db"?)`},
		{"zone", func(m *model.Model) { m.Components[1].Zones = []string{"c"} },
			`components.db: zones[0]: no zone named "c"`},
		{"duplicate component", func(m *model.Model) { m.Components[2].Name = "db" },
			`components.db: declared twice`},
		{"zero replicas", func(m *model.Model) { m.Components[1].Replicas, m.Components[1].MinHealthy = 0, 0 },
			`components.db: replicas 0, min_healthy 0: want 1 ≤ min_healthy ≤ replicas`},
		{"kind", func(m *model.Model) { m.Components[1].Kind = "" },
			`components.db: kind "" is not a component kind`},
		{"cycle", func(m *model.Model) {
			m.Components[1].DependsOn = []*model.Edge{{From: "db", To: "cache"}}
			m.Components[2].DependsOn = []*model.Edge{{From: "cache", To: "app", When: model.WhenRunning}}
		}, `running-time dependencies form a cycle: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := handBuilt()
			tt.break_(m)
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("%s: error %v, want ErrInvalidModel with %q", what, err, tt.msg)
				}
			}
			_, err := Check(m, Options{})
			check("Check", err)
			_, err = Checklist(m)
			check("Checklist", err)
			_, err = WhatIf(m, nil)
			check("WhatIf", err)
			_, _, err = WhatIfSlow(m, "db", time.Second)
			check("WhatIfSlow", err)
			_, err = Explain(m, "db")
			check("Explain", err)
			_, err = New(m)
			check("New", err)
		})
	}
}

func TestCycleNamed(t *testing.T) {
	m := handBuilt()
	m.Components[1].DependsOn = []*model.Edge{{From: "db", To: "cache"}}
	m.Components[2].DependsOn = []*model.Edge{{From: "cache", To: "app"}}
	_, err := Check(m, Options{})
	if err == nil || !strings.Contains(err.Error(), "app → db → cache → app") {
		t.Errorf("err = %v, want the cycle app → db → cache → app", err)
	}
	// The same cycle through a when: edge is fine: it is not needed to run.
	m.Components[2].DependsOn[0].When = model.WhenStartup
	mustCheck(t, m, Options{})
}

func TestUnknownFlowOption(t *testing.T) {
	_, err := Check(handBuilt(), Options{Flows: []string{"chekout"}})
	if err == nil || err.Error() != `no flow named "chekout" (did you mean "checkout"?)` {
		t.Errorf("err = %v", err)
	}
}

func TestUnknownEvent(t *testing.T) {
	_, err := WhatIf(handBuilt(), []Event{{Kind: EventZone, Name: "zz"}})
	if err == nil || !strings.Contains(err.Error(), `no zone named "zz"`) {
		t.Errorf("err = %v", err)
	}
}
