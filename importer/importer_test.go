package importer

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/model"
)

func pos(line int) model.Pos { return model.Pos{File: "f.yaml", Line: line, Col: 1} }

func TestFinishDerivesFlows(t *testing.T) {
	b := NewBuilder("shop")
	for i, n := range []string{"frontend", "cart", "redis", "grafana", "loadgenerator", "orphan", "accounting", "kafka", "migrate"} {
		b.Component(n, model.KindService, pos(i+1))
	}
	b.Lookup("redis").Kind = model.KindCache
	b.Entry(Entry{Component: "frontend", Pos: pos(1)})
	b.Entry(Entry{Component: "grafana", Pos: pos(4)})
	b.Entry(Entry{Component: "loadgenerator", Pos: pos(5)})
	b.Edge(&model.Edge{From: "frontend", To: "cart", Pos: pos(10)})
	b.Edge(&model.Edge{From: "cart", To: "redis", Pos: pos(11)})
	b.Edge(&model.Edge{From: "frontend", To: "nowhere", Pos: pos(12)})
	b.Edge(&model.Edge{From: "accounting", To: "kafka", Pos: pos(13)})
	b.Edge(&model.Edge{From: "loadgenerator", To: "frontend", Pos: pos(14)})
	b.ServesPort("orphan")
	b.Worker("accounting", "consume orders")
	if err := b.Annotate("frontend", map[string]string{AnnotOptional: "cart", "other/x": "y"}, pos(1)); err != nil {
		t.Fatal(err)
	}
	res := b.Finish(Options{})
	type flow struct {
		Name  string
		Crit  string
		Steps []string
	}
	var got []flow
	for _, f := range res.Model.Flows {
		got = append(got, flow{f.Name, f.Criticality.String(), f.Steps})
	}
	want := []flow{
		{"frontend", "critical", []string{"frontend", "orphan"}},
		{"grafana", "low", []string{"grafana"}},
		{"accounting", "low", []string{"accounting"}},
		{"migrate", "low", []string{"migrate"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("flows (-want +got):\n%s", d)
	}
	if e := res.Model.Component("frontend").DependsOn; len(e) != 1 || e[0].To != "cart" || e[0].Fallback == "" {
		t.Errorf("frontend's edges: %+v; want cart, optional", e)
	}
	var kinds []string
	for _, n := range res.Notes {
		kinds = append(kinds, string(n.Kind)+" "+n.Subject)
	}
	wantNotes := []string{"dangling-reference frontend", "load-generator loadgenerator", "no-known-caller orphan"}
	if d := cmp.Diff(wantNotes, kinds); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
}

func TestFinishWithoutEntries(t *testing.T) {
	b := NewBuilder("infra")
	b.Component("app", model.KindService, pos(1))
	b.Component("db", model.KindDatabase, pos(2))
	b.Edge(&model.Edge{From: "app", To: "db"})
	res := b.Finish(Options{})
	if len(res.Model.Flows) != 1 || res.Model.Flows[0].Name != "app" || res.Model.Flows[0].Criticality != model.Critical {
		t.Fatalf("flows: %+v", res.Model.Flows)
	}
	if len(res.Notes) != 1 || res.Notes[0].Kind != NoteAssumption {
		t.Fatalf("notes: %+v", res.Notes)
	}
}

func TestAnnotateErrors(t *testing.T) {
	b := NewBuilder("s")
	b.Component("a", model.KindService, pos(3))
	for ann, want := range map[string]string{
		AnnotCriticality + "=urgent": `f.yaml:3:1: spof.dev/criticality: invalid value "urgent" (want critical, high, medium or low)`,
		"spof.dev/optinal=b":         `f.yaml:3:1: spof.dev/optinal: unknown annotation (did you mean "spof.dev/optional"?)`,
		AnnotFallback + "=b":         `f.yaml:3:1: spof.dev/fallback: invalid value "b" (write "target=what it does instead", several separated by ";")`,
		AnnotKind + "=db":            `f.yaml:3:1: spof.dev/kind: invalid kind "db" (want one of: service, loadbalancer, database, cache, queue, storage, external, dns, cdn, certificate, ci, monitoring, config, secrets, other)`,
	} {
		k, v, _ := strings.Cut(ann, "=")
		err := b.Annotate("a", map[string]string{k: v}, pos(3))
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", ann, err, want)
		}
	}
}

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"module.db.aws_db_instance.this[0]": "module.db.aws_db_instance.this-0",
		"aws_instance.web[\"a b\"]":         "aws_instance.web-a-b",
		"_private":                          "x_private",
		"***":                               "unnamed",
		"frontend":                          "frontend",
	} {
		if got := Name(in); got != want || !model.ValidName(got) {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKindFromImage(t *testing.T) {
	for image, want := range map[string]model.Kind{
		"redis:7-alpine":                          model.KindCache,
		"docker.io/bitnami/valkey:8":              model.KindCache,
		"postgres@sha256:abc":                     model.KindDatabase,
		"mongo":                                   model.KindDatabase,
		"confluentinc/cp-kafka:7.6":               model.KindQueue,
		"nats:2.10":                               model.KindQueue,
		"gcr.io/google-samples/cartservice:v0.10": model.KindService,
		"registry:5000/team/app:1.2":              model.KindService,
	} {
		if got, _ := KindFromImage(image); got != want {
			t.Errorf("KindFromImage(%q) = %s, want %s", image, got, want)
		}
	}
}

func TestFindRefs(t *testing.T) {
	for value, want := range map[string][]Ref{
		"postgres://app:secret@db:5432/shop?sslmode=disable": {{"db", 5432}},
		"redis-cart:6379":                    {{"redis-cart", 6379}},
		"http://cart, http://localhost:8080": {{"cart", 0}},
		"--addr=checkout:5050 --debug":       {{"checkout", 5050}},
		"mongodb://a:27017,b:27017/db":       {{"a", 27017}, {"b", 27017}},
		"image:1.2:80 v1.2.3":                nil,
		"0.0.0.0:8080":                       nil,
		"kafka.shop.svc.cluster.local:9092":  {{"kafka.shop.svc.cluster.local", 9092}},
		"[fd00::1]:53":                       {{"fd00::1", 53}},
	} {
		if d := cmp.Diff(want, FindRefs(value)); d != "" {
			t.Errorf("FindRefs(%q) (-want +got):\n%s", value, d)
		}
	}
}

func TestFinishDropsASingleRegion(t *testing.T) {
	b := NewBuilder("s")
	b.Zone("a", "eu-west-1", pos(1))
	b.Zone("b", "eu-west-1", pos(2))
	b.Component("app", model.KindService, pos(3)).Zones = []string{"a", "b"}
	res := b.Finish(Options{})
	for _, z := range res.Model.Zones {
		if z.Region != "" {
			t.Errorf("zone %s keeps region %q", z.Name, z.Region)
		}
	}
	if len(res.Notes) == 0 || res.Notes[0].Subject != "region:eu-west-1" {
		t.Errorf("notes: %+v", res.Notes)
	}

	b = NewBuilder("s")
	b.Zone("a", "eu-west-1", pos(1))
	b.Zone("b", "us-east-1", pos(2))
	b.Component("app", model.KindService, pos(3)).Zones = []string{"a", "b"}
	res = b.Finish(Options{})
	if res.Model.Zones[0].Region != "eu-west-1" || res.Model.Zones[1].Region != "us-east-1" {
		t.Errorf("two regions: %+v %+v", res.Model.Zones[0], res.Model.Zones[1])
	}
}
