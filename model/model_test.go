package model

import "testing"

// TestLookupWithoutIndex: a model built in Go (no index) and one changed
// after Parse answer lookups right.
func TestLookupWithoutIndex(t *testing.T) {
	db := &Component{Name: "db", Kind: KindDatabase, Replicas: 1, MinHealthy: 1}
	m := &Model{Components: []*Component{{Name: "app"}, db}, Flows: []*Flow{{Name: "f"}},
		Zones: []*Zone{{Name: "a"}}, People: []*Person{{Name: "ann"}}, Hazards: []*Hazard{{Name: "h"}}}
	if m.Component("db") != db || m.Component("nope") != nil || m.Flow("f") == nil || m.Zone("a") == nil ||
		m.Person("ann") == nil || m.Hazard("h") == nil {
		t.Fatal("lookup on a hand-built model failed")
	}
	m.buildIndex()
	// Changed after indexing: reordered and renamed.
	m.Components[0], m.Components[1] = m.Components[1], m.Components[0]
	m.Components[1].Name = "web"
	if m.Component("db") != db || m.Component("app") != nil || m.Component("web") == nil {
		t.Fatal("lookup on a model changed after indexing failed")
	}
}
