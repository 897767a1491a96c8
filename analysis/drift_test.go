package analysis

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/model"
)

func TestDrift(t *testing.T) {
	m := mustParse(t, `
version: 1
system: s
zones: {a: {}, b: {}}
components:
  app:
    kind: service
    replicas: 3
    zones: [a, b]
    depends_on: [db, {cache: {fallback: "no cache"}}]
  db: {kind: database}
  cache: {kind: cache}
  old: {kind: service, source: "k8s.yaml:40"}
  ci: {kind: ci}
flows:
  web: {criticality: critical, steps: [app]}
`)
	src := func(line int) model.Pos { return model.Pos{File: "k8s.yaml", Line: line} }
	imported := &model.Model{Components: []*model.Component{
		{Name: "app", Kind: model.KindService, Replicas: 2, Zones: []string{"a"}, Source: src(1), DependsOn: []*model.Edge{
			{From: "app", To: "db"}, {From: "app", To: "cache"}, {From: "app", To: "queue", Source: src(9)}, {From: "app", To: "ci", Source: src(8)}}},
		{Name: "db", Kind: model.KindDatabase, Replicas: 1, Source: src(20)},
		{Name: "queue", Kind: model.KindQueue, Replicas: 1, Source: src(30)},
	}}
	r := Drift(m, imported, []string{"k8s.yaml"})
	var got []string
	for _, it := range r.Items {
		got = append(got, it.String())
	}
	want := []string{
		"app: replicas: the model says 3, the sources 2 (k8s.yaml:1)",
		"app: zones: the model says 2 zones (a, b), the sources 1 zone (a) (k8s.yaml:1)",
		"app → ci: the sources show this dependency (k8s.yaml:8); the model does not declare it",
		"queue: deployed (k8s.yaml:30), not in the model",
		"old: in the model (imported from k8s.yaml), no longer in the sources",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("drift (-want +got):\n%s", d)
	}
	if r.Compared != 2 {
		t.Errorf("compared %d, want 2", r.Compared)
	}

	res, err := Check(m, Options{Drift: r})
	if err != nil {
		t.Fatal(err)
	}
	item := res.Checklist[2]
	if item.Status != Fail || !strings.Contains(item.Evidence[0], "5 differences") {
		t.Errorf("item 3: %+v", item)
	}
	clean := Drift(m, &model.Model{Components: []*model.Component{{Name: "db", Kind: model.KindDatabase, Replicas: 1}}}, []string{"x.yaml"})
	res, err = Check(m, Options{Drift: clean})
	if err != nil {
		t.Fatal(err)
	}
	if item := res.Checklist[2]; item.Status != Pass || item.Evidence[0] != "the model matches its sources (1 file read, 1 component compared)" {
		t.Errorf("item 3 without drift: %+v", item)
	}
}
