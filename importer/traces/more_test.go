package traces

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

func writeTemp(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func otlpFile(t *testing.T, traces ...*gspan) string {
	t.Helper()
	var m ptrace.JSONMarshaler
	line, err := m.MarshalTraces(otlpBatch(rand.New(rand.NewPCG(1, 1)), traces))
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "spans.jsonl", string(line)+"\n")
}

// TestCycle: a and b call each other; the busier edge is kept, the other
// is left out with a note, so that the model stays valid.
func TestCycle(t *testing.T) {
	var traces []*gspan
	for range 5 {
		traces = append(traces, server("a", "GET /", rpc("a", "b", "GET /b", false)))
	}
	traces = append(traces, server("b", "GET /", rpc("b", "a", "GET /a", false)))
	res := importPaths(t, otlpFile(t, traces...))
	got := edges(res.Model)
	if _, ok := got["a -> b"]; !ok || len(got) != 1 {
		t.Errorf("edges: %v, want a -> b only", got)
	}
	if !strings.Contains(importer.Summary(res), "b: calls a (1 call in the traces), which depends back on it") {
		t.Errorf("no note on the cycle:\n%s", importer.Summary(res))
	}
}

// TestEvidenceOnExistingEdge: an edge another importer added (from an
// environment variable) gets the traces' fallback; one with a fallback
// the user wrote keeps it.
func TestEvidenceOnExistingEdge(t *testing.T) {
	b := importer.NewBuilder("shop")
	pos := model.Pos{File: "deploy.yaml", Line: 3, Col: 1}
	b.Component("frontend", model.KindService, pos)
	b.Component("ad", model.KindService, pos)
	b.Component("recommendation", model.KindService, pos)
	b.Edge(&model.Edge{From: "frontend", To: "ad", Pos: pos})
	b.Edge(&model.Edge{From: "frontend", To: "recommendation", Fallback: "show bestsellers", Pos: pos})
	var traces []*gspan
	for range 6 {
		traces = append(traces, server("frontend", "GET /",
			rpc("frontend", "ad", "GetAds", true), rpc("frontend", "recommendation", "List", true)))
	}
	if err := Import(context.Background(), b, []string{otlpFile(t, traces...)}, Options{}); err != nil {
		t.Fatal(err)
	}
	got := edges(b.Finish(importer.Options{}).Model)
	if got["frontend -> ad"] != "optional: 6 of 6 failed calls left the caller's span OK (traces)" ||
		got["frontend -> recommendation"] != "show bestsellers" {
		t.Errorf("edges: %v", got)
	}
	if c := b.Lookup("frontend"); c.Pos != pos {
		t.Errorf("frontend moved to %v", c.Pos)
	}
}

// TestWindow: with room for one trace, spans of a trace split by another
// find no parent; the import says so instead of guessing.
func TestWindow(t *testing.T) {
	const a = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"%s"}}]},"scopeSpans":[{"spans":[{"traceId":"%s","spanId":"%s","parentSpanId":"%s","name":"x","kind":%d}]}]}]}`
	lines := []string{
		fmtSpan(a, "cart", "0000000000000000000000000000000a", "00000000000000a2", "00000000000000a1", 2),
		fmtSpan(a, "web", "0000000000000000000000000000000b", "00000000000000b1", "", 2),
		fmtSpan(a, "web", "0000000000000000000000000000000b", "00000000000000b2", "00000000000000b1", 1),
		fmtSpan(a, "frontend", "0000000000000000000000000000000a", "00000000000000a1", "", 2),
	}
	path := writeTemp(t, "w.jsonl", strings.Join(lines, "\n")+"\n")
	for _, tc := range []struct {
		window int
		edge   bool
	}{{1, false}, {10, true}} {
		b := importer.NewBuilder("s")
		if err := Import(context.Background(), b, []string{path}, Options{MaxOpenSpans: tc.window}); err != nil {
			t.Fatal(err)
		}
		res := b.Finish(importer.Options{})
		_, got := edges(res.Model)["frontend -> cart"]
		if got != tc.edge {
			t.Errorf("window %d: edge frontend -> cart %v, want %v", tc.window, got, tc.edge)
		}
		orphans := strings.Contains(importer.Summary(res), "1 of 4 spans have a parent that was never seen")
		if orphans == tc.edge {
			t.Errorf("window %d: orphan note %v:\n%s", tc.window, orphans, importer.Summary(res))
		}
	}
}

func fmtSpan(format, svc, trace, span, parent string, kind int) string {
	out := format
	for _, v := range []string{svc, trace, span, parent} {
		out = strings.Replace(out, "%s", v, 1)
	}
	return strings.Replace(out, "%d", string(rune('0'+kind)), 1)
}

// TestZipkinTraces reads Zipkin's /api/v2/traces answer, an array of
// traces.
func TestZipkinTraces(t *testing.T) {
	path := writeTemp(t, "z.json", `[[
 {"traceId": "1", "id": "1", "kind": "SERVER", "name": "get", "localEndpoint": {"serviceName": "web"}},
 {"traceId": "1", "parentId": "1", "id": "2", "kind": "CLIENT", "name": "get", "localEndpoint": {"serviceName": "web"}, "remoteEndpoint": {"serviceName": "api"}}
],[
 {"traceId": "2", "id": "3", "kind": "SERVER", "name": "get", "localEndpoint": {"serviceName": "api"}},
 {"traceId": "2", "parentId": "3", "id": "4", "kind": "CLIENT", "name": "get", "localEndpoint": {"serviceName": "api"}, "tags": {"db.system": "postgresql", "server.address": "db.shop.svc.cluster.local"}}
]]`)
	got := edges(importPaths(t, path).Model)
	if _, ok := got["web -> api"]; !ok || len(got) != 2 {
		t.Errorf("edges %v", got)
	}
	if _, ok := got["api -> db"]; !ok {
		t.Errorf("edges %v", got)
	}
}

func TestHostName(t *testing.T) {
	for in, want := range map[string]string{
		"cart":                         "cart",
		"cart:7070":                    "cart",
		"cart.shop":                    "cart",
		"cart.shop.svc.cluster.local":  "cart",
		"cart.shop.svc.cluster.local.": "cart",
		"api.stripe.com":               "api.stripe.com",
		"10.0.3.7":                     "",
		"[::1]:80":                     "",
		"mydb.abc123.eu-west-1.rds.amazonaws.com": "mydb.abc123.eu-west-1.rds.amazonaws.com",
	} {
		if got, _ := hostName(in); got != want {
			t.Errorf("hostName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMissingFile(t *testing.T) {
	err := Import(context.Background(), importer.NewBuilder("s"), []string{"testdata/nope.json"}, Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

// FuzzImport: any input gives a result or a positioned error, never a
// panic.
func FuzzImport(f *testing.F) {
	for _, name := range []string{"zipkin.json", "jaeger-dependencies.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	data, err := os.ReadFile("testdata/shop.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	// The shortest line: mutating a long one is slow.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	f.Add([]byte(slices.MinFunc(lines, func(a, b string) int { return len(a) - len(b) }) + "\n"))
	f.Add([]byte(`{"data":[{"traceID":"1","spans":[{"traceID":"1","spanID":"2","references":[{"refType":"CHILD_OF","spanID":"2"}],"processID":"p"}],"processes":{"p":{"serviceName":"a"}}}]}`))
	f.Add([]byte("{\n \"resourceSpans\": []\n}\n"))
	// One file, written again for each input: a t.TempDir per input
	// stalls the fuzzing workers.
	path := filepath.Join(f.TempDir(), "in.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		b := importer.NewBuilder("s")
		err := Import(context.Background(), b, []string{path}, Options{MaxOpenSpans: 4})
		if err != nil {
			var me *model.Error
			if !errors.As(err, &me) || me.Pos.Line < 1 || me.Pos.Col < 1 {
				t.Fatalf("error %v: want a positioned *model.Error", err)
			}
			return
		}
		b.Finish(importer.Options{})
	})
}
