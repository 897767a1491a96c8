package model

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// kept reports whether every line of before is in after, in order: the
// merge only added.
func kept(before, after string) bool {
	rest := strings.Split(after, "\n")
	for _, line := range strings.Split(before, "\n") {
		i := 0
		for i < len(rest) && rest[i] != line {
			i++
		}
		if i == len(rest) {
			return false
		}
		rest = rest[i+1:]
	}
	return true
}

func TestMergeKeepsTheFileAndAdds(t *testing.T) {
	data, err := os.ReadFile("../examples/seed-audit/spof.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := func(line int) Pos { return Pos{File: "deploy/k8s.yaml", Line: line} }
	imported := &Model{Version: 1, System: "shop",
		Zones: []*Zone{{Name: "us-east-1a"}, {Name: "us-east-1c", Region: "us-east-1", Source: src(1)}},
		Components: []*Component{
			{Name: "app", Kind: KindService, Replicas: 4, MinHealthy: 2, Source: src(10),
				DependsOn: []*Edge{{From: "app", To: "postgres"}, {From: "app", To: "cart", Source: src(20)}}},
			{Name: "cart", Kind: KindService, Replicas: 2, MinHealthy: 1, Zones: []string{"us-east-1c"}, Source: src(30),
				DependsOn: []*Edge{{From: "cart", To: "session-redis", Fallback: "optional (traces)"}}},
			{Name: "tls-cert", Kind: KindCertificate, Replicas: 1, MinHealthy: 1, Provider: "letsencrypt", Source: src(40)},
		},
		Flows: []*Flow{{Name: "checkout", Criticality: Low, Steps: []string{"app"}}, {Name: "cart", Criticality: Critical, Steps: []string{"cart"}, Source: src(50)}},
	}
	res, err := Merge("spof.yaml", data, imported, []string{"deploy/k8s.yaml"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Reformatted {
		t.Error("reformatted a block-style file")
	}
	if !kept(string(data), string(res.Data)) {
		t.Errorf("a line of the model was lost or changed:\n%s", res.Data)
	}
	m := mustParse(t, "spof.yaml", res.Data)
	app := m.Component("app")
	if app.Replicas != 3 || app.MinHealthy != 2 || app.Source.Line != 10 {
		t.Errorf("app: replicas %d (model's 3 kept?), min_healthy %d (added?), source %v", app.Replicas, app.MinHealthy, app.Source)
	}
	if e := app.DependsOn[len(app.DependsOn)-1]; e.To != "cart" || e.Source.Line != 20 {
		t.Errorf("app's last dependency: %+v, want cart from line 20", e)
	}
	if c := m.Component("cart"); c == nil || c.Replicas != 2 || c.DependsOn[0].Fallback != "optional (traces)" {
		t.Errorf("cart: %+v", c)
	}
	if z := m.Zone("us-east-1c"); z == nil || z.Region != "us-east-1" {
		t.Errorf("zone us-east-1c: %+v", z)
	}
	if f := m.Flow("checkout"); f.Criticality != Critical {
		t.Errorf("checkout: the model's flow was changed: %+v", f)
	}
	if m.Flow("cart") == nil {
		t.Error("flow cart not added")
	}
	if c := m.Component("tls-cert"); c.Provider != "letsencrypt" {
		t.Errorf("tls-cert's provider not added: %+v", c)
	}
	var conflicts []string
	for _, c := range res.Conflicts {
		conflicts = append(conflicts, c.String())
	}
	want := []string{`spof.yaml:38:5: components.app.replicas: the model says 3, the import 4 (deploy/k8s.yaml:10); kept the model's (delete it from the model to take the import's)`}
	if d := cmp.Diff(want, conflicts); d != "" {
		t.Errorf("conflicts (-want +got):\n%s", d)
	}
	// Merging the result again adds nothing and changes no byte.
	again, err := Merge("spof.yaml", res.Data, imported, []string{"deploy/k8s.yaml"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Data) != string(res.Data) || len(again.Added) != 0 {
		t.Errorf("a second merge changed the file: added %v\n%s", again.Added, again.Data)
	}
}

func TestMergeFlowStyleReformats(t *testing.T) {
	data := []byte("version: 1\nsystem: s\n# the app\ncomponents: {app: {kind: service}}\n")
	imported := &Model{Version: 1, System: "s", Components: []*Component{
		{Name: "app", Kind: KindService, Replicas: 1, MinHealthy: 1, DependsOn: []*Edge{{From: "app", To: "db"}}},
		{Name: "db", Kind: KindDatabase, Replicas: 1, MinHealthy: 1}}}
	res, err := Merge("s.yaml", data, imported, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Reformatted || !strings.Contains(string(res.Data), "# the app") {
		t.Errorf("reformatted %v, comment kept?\n%s", res.Reformatted, res.Data)
	}
	m := mustParse(t, "s.yaml", res.Data)
	if len(m.Component("app").DependsOn) != 1 || m.Component("db") == nil {
		t.Errorf("not merged:\n%s", res.Data)
	}
}

func TestMergeReportsGoneAndRefusesBadModel(t *testing.T) {
	data := []byte("version: 1\nsystem: s\ncomponents:\n  old:\n    kind: service\n    source: k8s/old.yaml:3\n  mine:\n    kind: service\n")
	res, err := Merge("s.yaml", data, &Model{Version: 1, System: "s"}, []string{"k8s/old.yaml"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gone) != 1 || res.Gone[0].Name != "old" || string(res.Data) != string(data) {
		t.Errorf("gone: %v; data changed: %v", res.Gone, string(res.Data) != string(data))
	}
	if _, err := Merge("s.yaml", []byte("version: 1\nsystem: s\ncomponents:\n  a: {kind: servce}\n"), &Model{}, nil, ""); !IsInvalid(err) {
		t.Errorf("an invalid model: got %v", err)
	}
}

// TestMergeKeepsCRLFAndMergeKeys: a file with CRLF line ends gets CRLF
// additions; values a component takes through a merge key (<<) are the
// model's, not the import's to override, and a dependency list shared
// through one is left alone (a conflict).
func TestMergeKeepsCRLFAndMergeKeys(t *testing.T) {
	data := []byte(strings.ReplaceAll(`version: 1
system: s
defaults: &defaults
  kind: service
  replicas: 3
  depends_on: [db]
components:
  db:
    kind: database
  app:
    <<: *defaults
  web:
    kind: service
`, "\n", "\r\n"))
	// A top-level key the model does not know: remove it for this test,
	// merge keys need an anchor in the document.
	data = []byte(strings.Replace(string(data), "defaults: &defaults\r\n  kind: service\r\n  replicas: 3\r\n  depends_on: [db]\r\n", "", 1))
	data = []byte(strings.Replace(string(data), "  app:\r\n    <<: *defaults\r\n", "  app: &app\r\n    kind: service\r\n    replicas: 3\r\n    depends_on: [db]\r\n  api:\r\n    <<: *app\r\n", 1))
	imported := &Model{Version: 1, System: "s", Components: []*Component{
		{Name: "api", Kind: KindService, Replicas: 2, MinHealthy: 1, DependsOn: []*Edge{{From: "api", To: "db"}, {From: "api", To: "web"}}},
		{Name: "web", Kind: KindService, Replicas: 1, MinHealthy: 1, DependsOn: []*Edge{{From: "web", To: "db"}}},
	}}
	res, err := Merge("s.yaml", data, imported, nil, "")
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if strings.Contains(strings.ReplaceAll(string(res.Data), "\r\n", ""), "\n") {
		t.Errorf("a bare LF in a CRLF file:\n%q", res.Data)
	}
	m := mustParse(t, "s.yaml", res.Data)
	if api := m.Component("api"); api.Replicas != 3 || len(api.DependsOn) != 1 {
		t.Errorf("api: replicas %d, %d dependencies: the merge key's values were overridden\n%s", api.Replicas, len(api.DependsOn), res.Data)
	}
	if web := m.Component("web"); len(web.DependsOn) != 1 {
		t.Errorf("web: %+v", web)
	}
	var paths []string
	for _, c := range res.Conflicts {
		paths = append(paths, c.Path)
	}
	if strings.Join(paths, " ") != "components.api.replicas components.api.depends_on" {
		t.Errorf("conflicts: %v", paths)
	}
}
