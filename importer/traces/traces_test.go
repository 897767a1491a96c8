package traces

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/importer/importertest"
	"github.com/spofhq/spof/model"
)

func importPaths(t *testing.T, paths ...string) *importer.Result {
	t.Helper()
	b := importer.NewBuilder("shop")
	if err := Import(context.Background(), b, paths, Options{}); err != nil {
		t.Fatalf("Import(%v): %v", paths, err)
	}
	return b.Finish(importer.Options{})
}

// TestGolden imports each input and compares importer.Summary of the
// finished model with testdata/NAME.golden (-update rewrites them).
func TestGolden(t *testing.T) {
	if *regen {
		writeShop(t)
	}
	for _, tc := range []struct{ name, path string }{
		{"shop", "testdata/shop.jsonl"},
		{"shop-doc", "testdata/shop-doc.json"},
		{"jaeger-dependencies", "testdata/jaeger-dependencies.json"},
		{"jaeger-traces", "testdata/jaeger-traces.json"},
		{"zipkin", "testdata/zipkin.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			importertest.Golden(t, filepath.Join("testdata", tc.name+".golden"), importer.Summary(importPaths(t, tc.path)))
		})
	}
}

// edges returns "from -> to [fallback]" for every edge.
func edges(m *model.Model) map[string]string {
	out := map[string]string{}
	for _, c := range m.Components {
		for _, e := range c.DependsOn {
			out[e.From+" -> "+e.To] = e.Fallback
		}
	}
	return out
}

func TestShop(t *testing.T) {
	res := importPaths(t, "testdata/shop.jsonl")
	m := res.Model
	got := edges(m)
	want := map[string]string{
		"frontend-proxy -> frontend":        "",
		"frontend -> cart":                  "",
		"frontend -> product-catalog":       "", // failures retried with success
		"frontend -> ad":                    "optional: 7 of 7 failed calls left the caller's span OK (traces)",
		"frontend -> currency":              "", // the frontend fails with it
		"frontend -> recommendation":        "",
		"frontend -> checkout":              "",
		"recommendation -> product-catalog": "",
		"checkout -> cart":                  "",
		"checkout -> payment":               "optional: 6 of 6 failed calls left the caller's span OK (traces)",
		"checkout -> shipping":              "",
		"checkout -> email":                 "", // 2 failures: too few
		"checkout -> kafka":                 "",
		"shipping -> quote":                 "",
		"payment -> api.stripe.com":         "", // payment fails with it
		"cart -> valkey-cart":               "",
		"accounting -> kafka":               "",
		"accounting -> postgresql":          "",
		"fraud-detection -> kafka":          "",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("edges (-want +got):\n%s", d)
	}
	kinds := map[string]model.Kind{"valkey-cart": model.KindCache, "postgresql": model.KindDatabase,
		"kafka": model.KindQueue, "api.stripe.com": model.KindExternal, "checkout": model.KindService}
	for name, kind := range kinds {
		if c := m.Component(name); c == nil || c.Kind != kind {
			t.Errorf("component %s: %+v, want kind %s", name, c, kind)
		}
	}
	if m.Component("load-generator") != nil {
		t.Error("the load generator, outside the system, became a component")
	}
	flows := map[string]string{}
	for _, f := range m.Flows {
		flows[f.Name] = f.Criticality.String() + " " + strings.Join(f.Steps, ",")
	}
	wantFlows := map[string]string{
		"frontend-proxy":  "critical frontend-proxy",
		"accounting":      "low accounting",
		"fraud-detection": "low fraud-detection",
	}
	if d := cmp.Diff(wantFlows, flows); d != "" {
		t.Errorf("flows (-want +got):\n%s", d)
	}
	// Every component points at a line of the export.
	for _, c := range m.Components {
		if c.Pos.File != "testdata/shop.jsonl" || c.Pos.Line < 1 {
			t.Errorf("component %s at %v", c.Name, c.Pos)
		}
	}
}

// TestShopDocument reads the same shop as one pretty-printed document:
// the same edges (from fewer requests), positioned at line and column.
func TestShopDocument(t *testing.T) {
	m := importPaths(t, "testdata/shop-doc.json").Model
	c := m.Component("checkout")
	if c == nil || c.Pos.Line <= 1 || c.Pos.Col <= 1 {
		t.Fatalf("checkout: %+v", c)
	}
	for _, e := range []string{"frontend -> checkout", "checkout -> payment", "cart -> valkey-cart", "accounting -> postgresql"} {
		if _, ok := edges(m)[e]; !ok {
			t.Errorf("no edge %s", e)
		}
	}
}

func TestMalformed(t *testing.T) {
	line := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"x","kind":2}]}]}]}`
	for _, tc := range []struct {
		name, data string
		line, col  int
		msg        string
	}{
		{"jsonl syntax", line + "\n" + line + "\n" + `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":` + "\n", 3, 55, "invalid OTLP JSON"},
		{"jsonl type", line + "\n\n" + `{"resourceSpans":{"x":1}}` + "\n", 3, 1, "invalid OTLP JSON"},
		{"jsonl no trace id", strings.Replace(line, "5b8efff798038103d269b633813fc60c", "", 1) + "\n", 1, 1, "no traceId"},
		{"document truncated", "{\n  \"resourceSpans\": [\n    {\"scopeSpans\": [\n", 4, 1, "unexpected end"},
		{"document bad element", "{\n  \"resourceSpans\": [\n    {\"scopeSpans\": 7}\n  ]\n}\n", 3, 5, "invalid OTLP JSON"},
		{"not traces", "{\"apiVersion\": \"v1\", \"kind\": \"Service\"}\n", 1, 1, "not a trace file"},
		{"not json", "\n\nservices:\n  web: {}\n", 3, 1, "not a trace file"},
		{"zipkin no trace id", "[\n {\"id\": \"352bff9a74ca9ad2\", \"name\": \"get\"}\n]\n", 2, 2, "no valid traceId"},
		{"zipkin syntax", "[\n {\"traceId\": \"5af7183fb1d4cf5f\", \"id\": \"352bff9a74ca9ad2\",, }\n]\n", 2, 56, "invalid Zipkin JSON"},
		{"zipkin type", "[\n {\"traceId\": 5}\n]\n", 2, 14, "invalid Zipkin JSON"},
		{"jaeger deps no child", "{\"data\": [\n  {\"parent\": \"a\", \"callCount\": 3}\n]}\n", 2, 3, "without parent or child"},
		{"jaeger trace bad id", "{\"data\": [{\"traceID\": \"1\", \"spans\": [\n  {\"traceID\": \"xyz\", \"spanID\": \"2\"}\n]}]}\n", 2, 3, "no valid traceID"},
		{"jaeger truncated", "{\"data\": [{\"traceID\": \"1\", \"spans\": [\n  {\"traceID\": \"1\",", 2, 19, "invalid Jaeger trace JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.json")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			err := Import(context.Background(), importer.NewBuilder("s"), []string{path}, Options{})
			var me *model.Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v (%T), want a *model.Error", err, err)
			}
			if me.Pos.File != path || me.Pos.Line != tc.line || me.Pos.Col != tc.col || !strings.Contains(me.Msg, tc.msg) || me.Hint == "" {
				t.Errorf("error %q at %d:%d (hint %q), want %q at %d:%d", me.Msg, me.Pos.Line, me.Pos.Col, me.Hint, tc.msg, tc.line, tc.col)
			}
		})
	}
}
