package kubernetes

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/importer/importertest"
	"github.com/spofhq/spof/model"
)

// importDir imports paths into a fresh builder and finishes it.
func importPaths(t *testing.T, paths ...string) *importer.Result {
	t.Helper()
	b := importer.NewBuilder("test")
	if err := Import(b, paths, Options{}); err != nil {
		t.Fatalf("Import(%v): %v", paths, err)
	}
	return b.Finish(importer.Options{})
}

func golden(t *testing.T, file, got string) { importertest.Golden(t, file, got) }

// TestGolden imports each directory of testdata (but bad/) and compares
// importer.Summary with its golden file.
func TestGolden(t *testing.T) {
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "bad" || d.Name() == "real" {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			res := importPaths(t, filepath.Join("testdata", d.Name()))
			golden(t, filepath.Join("testdata", d.Name()+".golden"), importer.Summary(res))
		})
	}
}

// TestBad imports each file of testdata/bad alone: each must fail with
// positioned errors, the same as in bad.golden, and add nothing.
func TestBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, f := range files {
		b := importer.NewBuilder("test")
		err := Import(b, []string{f}, Options{})
		var list model.ErrorList
		if !errors.As(err, &list) {
			t.Errorf("%s: got %v, want a model.ErrorList", f, err)
			continue
		}
		for _, e := range list {
			if e.Pos.File != f || e.Pos.Line == 0 {
				t.Errorf("%s: error without a position: %v", f, e)
			}
		}
		if n := len(b.Components()); n != 0 {
			t.Errorf("%s: %d components added despite the error", f, n)
		}
		out.WriteString("== " + f + "\n" + err.Error() + "\n")
	}
	golden(t, "testdata/bad.golden", out.String())
}

// findings runs the analysis on an imported model: event → finding.
func findings(t *testing.T, res *importer.Result) map[string]analysis.Finding {
	return importertest.Findings(t, res)
}

// TestBoutiqueJudgement checks what the analysis concludes from Online
// Boutique's manifests alone: redis-cart (one pod, emptyDir) stops the
// flows through the cart; every single-replica service on the path is a
// SPOF; the load generator is no flow.
func TestBoutiqueJudgement(t *testing.T) {
	res := importPaths(t, "testdata/boutique")
	var flows []string
	for _, f := range res.Model.Flows {
		flows = append(flows, f.Name+" "+f.Criticality.String())
	}
	if d := cmp.Diff([]string{"frontend critical"}, flows); d != "" {
		t.Errorf("flows (-want +got):\n%s", d)
	}
	got := findings(t, res)
	for _, c := range []string{"redis-cart", "cartservice", "frontend", "checkoutservice", "productcatalogservice",
		"currencyservice", "paymentservice", "shippingservice", "emailservice", "recommendationservice", "adservice"} {
		f, ok := got["component:"+c]
		if !ok || f.Category != analysis.CategorySPOF || !slices.Contains(f.Flows, "frontend") {
			t.Errorf("component:%s: %+v, want a SPOF of flow frontend", c, f)
		}
	}
	if f, ok := got["component:loadgenerator"]; ok {
		t.Errorf("the load generator is a finding: %+v", f)
	}
	if f := got["component:redis-cart"]; f.Location.File != "testdata/boutique/kubernetes-manifests.yaml" || f.Location.Line == 0 {
		t.Errorf("redis-cart's finding is at %v, want its Deployment's line", f.Location)
	}
	assertNote(t, res, importer.NoteDataLoss, "redis-cart", "emptyDir volume redis-data")
	assertNote(t, res, importer.NoteDangling, "frontend", "shoppingassistantservice")
}

func assertNote(t *testing.T, res *importer.Result, kind importer.NoteKind, subject, text string) {
	t.Helper()
	for _, n := range res.Notes {
		if n.Kind == kind && n.Subject == subject && strings.Contains(n.Msg, text) {
			return
		}
	}
	t.Errorf("no %s note on %s saying %q", kind, subject, text)
}

// TestOtelDemoJudgement: from the demo's Helm output alone, the path
// through frontend-proxy is made of single points, but telemetry
// (otel-collector, jaeger, grafana) and flagd are not SPOFs, and the
// kafka consumers are workers of their own low flows.
func TestOtelDemoJudgement(t *testing.T) {
	res := importPaths(t, "testdata/otel-demo")
	got := findings(t, res)
	for _, c := range []string{"frontend-proxy", "frontend", "cart", "valkey-cart", "checkout", "kafka", "product-catalog", "payment"} {
		if f := got["component:"+c]; f.Category != analysis.CategorySPOF || !slices.Contains(f.Flows, "frontend-proxy") {
			t.Errorf("component:%s: %+v, want a SPOF of flow frontend-proxy", c, f)
		}
	}
	for _, c := range []string{"otel-collector", "jaeger", "grafana", "flagd", "flagd-ui", "load-generator"} {
		if f, ok := got["component:"+c]; ok && f.Category == analysis.CategorySPOF && slices.Contains(f.Flows, "frontend-proxy") {
			t.Errorf("component:%s is a SPOF of the user-facing flow: %+v", c, f)
		}
	}
	crit := map[string]string{}
	for _, f := range res.Model.Flows {
		crit[f.Name] = f.Criticality.String()
	}
	want := map[string]string{"frontend-proxy": "critical", "accounting": "low", "fraud-detection": "low"}
	if d := cmp.Diff(want, crit); d != "" {
		t.Errorf("flows (-want +got):\n%s", d)
	}
	// The collector's mounted configuration names the backends it
	// exports to: jaeger is called, not a workload with no known caller.
	if e := res.Model.Component("otel-collector").DependsOn; len(e) != 1 || e[0].To != "jaeger" || !e[0].Degrades() {
		t.Errorf("otel-collector's edges: %+v, want jaeger with a fallback (from its relay ConfigMap)", e)
	}
	if f := got["component:postgresql"]; !slices.Equal(f.Flows, []string{"accounting"}) {
		t.Errorf("postgresql stops %v, want only the accounting worker's flow", f.Flows)
	}
}

// TestHAJudgement: zone spread, PDB and HPA make shop-api redundant; a
// plain postgres StatefulSet still needs its primary; Sentinel-managed
// Redis fails over.
func TestHAJudgement(t *testing.T) {
	res := importPaths(t, "testdata/ha")
	got := findings(t, res)
	if f := got["instance:postgres/0"]; f.Category != analysis.CategorySPOF {
		t.Errorf("instance:postgres/0: %+v, want a SPOF (no failover)", f)
	}
	for _, e := range []string{"instance:shop-api.shop/0", "instance:redis-node/0", "zone:zone-2"} {
		if f, ok := got[e]; ok && f.Category == analysis.CategorySPOF {
			t.Errorf("%s is a SPOF: %+v", e, f)
		}
	}
	c := res.Model.Component("shop-api.shop")
	if c.Replicas != 4 || len(c.Zones) != 3 {
		t.Errorf("shop-api.shop: replicas %d zones %v, want 4 (HPA) over 3 zones", c.Replicas, c.Zones)
	}
	if e := c.DependsOn; len(e) != 3 || e[2].To != "payments" || e[2].Fallback == "" {
		t.Errorf("shop-api.shop's edges: %+v, want payments optional (spof.dev/optional)", e)
	}
	if pg := res.Model.Component("postgres"); pg.MinHealthy != 2 || pg.Failover != model.FailoverNone {
		t.Errorf("postgres: min_healthy %d failover %s, want 2 (PDB) and none", pg.MinHealthy, pg.Failover)
	}
	if res.Model.Component("legacy-admin") != nil || res.Model.Component("shop-api-7d9f8c") != nil {
		t.Error("an ignored workload or an owned ReplicaSet was imported")
	}
}

// TestCycle: services naming each other would make a cycle the model
// refuses; the edge that closes it is left out with a note.
func TestCycle(t *testing.T) {
	var doc strings.Builder
	for _, p := range [][2]string{{"orders", "billing:80"}, {"billing", "http://orders"}} {
		doc.WriteString(`---
apiVersion: v1
kind: Service
metadata: {name: ` + p[0] + `}
spec: {type: LoadBalancer, selector: {app: ` + p[0] + `}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + p[0] + `}
spec:
  template:
    metadata: {labels: {app: ` + p[0] + `}}
    spec:
      containers:
        - name: app
          image: example/` + p[0] + `
          env:
            - {name: PEER_URL, value: "` + p[1] + `"}
`)
	}
	file := filepath.Join(t.TempDir(), "cycle.yaml")
	if err := os.WriteFile(file, []byte(doc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res := importPaths(t, file)
	findings(t, res) // no cycle error
	if e := res.Model.Component("orders").DependsOn; len(e) != 1 || e[0].To != "billing" {
		t.Errorf("orders' edges: %+v, want billing", e)
	}
	if e := res.Model.Component("billing").DependsOn; len(e) != 0 {
		t.Errorf("billing's edges: %+v, want none", e)
	}
	assertNote(t, res, importer.NoteAssumption, "billing", "closes a cycle")
}

// TestStdinAndMissingPath: "-" reads Options.Stdin (helm template ... |),
// and a path that does not exist is a positioned error.
func TestStdinAndMissingPath(t *testing.T) {
	b := importer.NewBuilder("test")
	in := strings.NewReader("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n")
	if err := Import(b, []string{"-"}, Options{Stdin: in, Namespace: "shop"}); err != nil {
		t.Fatal(err)
	}
	if c := b.Lookup("web"); c == nil || c.Pos.File != "-" || c.Pos.Line != 2 {
		t.Errorf("web: %+v, want it at -:2", c)
	}
	err := Import(importer.NewBuilder("test"), []string{"testdata/nope"}, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "testdata/nope: no such file or directory") {
		t.Errorf("missing path: %v", err)
	}
}
