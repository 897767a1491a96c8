package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/report"
	"github.com/spofhq/spof/store"
	"go.yaml.in/yaml/v3"
)

const seedAudit = "../examples/seed-audit/spof.yaml"

// openStore opens a SQLite store in dir (closed at the end of the test).
func openStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "spof.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newServer builds and loads a server over a fresh store.
func newServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = openStore(t, t.TempDir())
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func get(t *testing.T, url string, header ...string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func post(t *testing.T, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestAPIReadsTheSeedAudit: the API answers what the CLI does for the
// seed audit's shop.
func TestAPIReadsTheSeedAudit(t *testing.T) {
	_, ts := newServer(t, Config{Models: []string{seedAudit}})

	code, body := get(t, ts.URL+"/api/v1/systems")
	var systems []systemJSON
	if code != 200 || json.Unmarshal(body, &systems) != nil || len(systems) != 1 || systems[0].Name != "shop" || systems[0].Version != 1 {
		t.Fatalf("systems: %d %s", code, body)
	}
	if systems[0].Counts.SPOFs == 0 || systems[0].Counts.Checklist["fail"] == 0 {
		t.Errorf("counts %+v", systems[0].Counts)
	}

	// The findings are spof check --format json's document, byte for byte.
	data, _ := os.ReadFile(seedAudit)
	m, err := model.Parse(seedAudit, data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := analysis.Check(m, analysis.Options{Verified: map[string]analysis.Verification{}})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	report.JSON(&want, res, analysis.Gate{FailOn: model.Critical})
	if code, body := get(t, ts.URL+"/api/v1/systems/shop/findings"); code != 200 || !bytes.Equal(body, want.Bytes()) {
		t.Errorf("findings: %d, differs from spof check --format json:\n%s", code, body)
	}

	code, body = get(t, ts.URL+"/api/v1/systems/shop/graph")
	var g graphJSON
	if code != 200 || json.Unmarshal(body, &g) != nil {
		t.Fatalf("graph: %d %s", code, body)
	}
	states := map[string]string{}
	for _, n := range g.Nodes {
		states[n.ID] = n.State
	}
	if states["session-redis"] != "spof" || states["lb"] != "ok" || states["recommendations"] != "degradation" {
		t.Errorf("graph states %v", states)
	}

	code, body = get(t, ts.URL+"/api/v1/systems/shop/components/session-redis")
	var c componentJSON
	if code != 200 || json.Unmarshal(body, &c) != nil {
		t.Fatalf("component: %d %s", code, body)
	}
	if !strings.Contains(strings.Join(c.BlastRadius.Down, ","), "checkout") || len(c.Findings) == 0 || c.BlastRadius.Components[0] != "session-redis" {
		t.Errorf("session-redis: %+v", c)
	}

	for _, path := range []string{"/api/v1/systems/nope", "/api/v1/systems/nope/findings", "/api/v1/systems/shop/components/nope", "/api/v1/runs/999"} {
		if code, body := get(t, ts.URL+path); code != 404 || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	for _, path := range []string{"/api/v1/runs/abc", "/api/v1/systems/shop/runs?limit=0", "/api/v1/systems/shop/history?since=yesterday"} {
		if code, body := get(t, ts.URL+path); code != 400 {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	code, body = get(t, ts.URL+"/api/v1/systems/shop/history")
	var hist []snapshotJSON
	if code != 200 || json.Unmarshal(body, &hist) != nil || len(hist) != 1 || hist[0].ModelVersion != 1 {
		t.Errorf("history: %d %s", code, body)
	}
}

// TestChangesNeedTheToken: POST needs the bearer token (401 without, or
// with another); a model is stored once per version; an invalid one is
// 400 with every problem; a big one 413.
func TestChangesNeedTheToken(t *testing.T) {
	const token = "s3cret-token-0123456789"
	_, ts := newServer(t, Config{Token: token, MaxBody: 64 << 10})
	model, _ := os.ReadFile(seedAudit)
	for _, tok := range []string{"", "wrong", token + "x"} {
		if code, body := post(t, ts.URL+"/api/v1/systems", tok, model); code != 401 {
			t.Errorf("token %q: %d %s", tok, code, body)
		}
	}
	if code, body := post(t, ts.URL+"/api/v1/systems", token, model); code != 201 {
		t.Fatalf("first post: %d %s", code, body)
	}
	if code, body := post(t, ts.URL+"/api/v1/systems", token, model); code != 200 {
		t.Errorf("same model again: %d %s", code, body)
	}
	changed := bytes.Replace(model, []byte("replicas: 3"), []byte("replicas: 4"), 1)
	code, body := post(t, ts.URL+"/api/v1/systems", token, changed)
	if code != 201 || !strings.Contains(string(body), `"version": 2`) {
		t.Errorf("changed model: %d %s", code, body)
	}
	code, body = post(t, ts.URL+"/api/v1/systems", token, []byte("version: 1\nsystem: x\ncomponents:\n  a: {kind: servce}\n"))
	if code != 400 || !strings.Contains(string(body), `model.yaml:4:13: components.a.kind: invalid value \"servce\"`) {
		t.Errorf("invalid model: %d %s", code, body)
	}
	if code, body := post(t, ts.URL+"/api/v1/systems", token, bytes.Repeat([]byte("#"), 65<<10)); code != 413 {
		t.Errorf("big body: %d %s", code, body)
	}
	code, body = get(t, ts.URL+"/api/v1/systems/shop/history")
	if code != 200 || strings.Count(string(body), `"model_version"`) != 2 {
		t.Errorf("history after two versions: %d %s", code, body)
	}
}

// TestReadsBeyondLoopback: listening beyond loopback needs a token, and
// then reads need it too unless PublicRead.
func TestReadsBeyondLoopback(t *testing.T) {
	st := openStore(t, t.TempDir())
	if _, err := New(Config{Store: st, Listen: "0.0.0.0:8080"}); err == nil || !strings.Contains(err.Error(), "--token-file") {
		t.Errorf("beyond loopback without a token: %v", err)
	}
	if _, err := New(Config{Store: st, Listen: "example.com:80", Token: "t"}); err == nil {
		t.Error("a host name as --listen was accepted")
	}
	_, ts := newServer(t, Config{Store: st, Listen: "0.0.0.0:8080", Token: "tok-0123456789abcdef", Models: []string{seedAudit}})
	if code, _ := get(t, ts.URL+"/api/v1/systems"); code != 401 {
		t.Errorf("read without the token: %d", code)
	}
	if code, _ := get(t, ts.URL+"/metrics"); code != 401 {
		t.Errorf("metrics without the token: %d", code)
	}
	if code, _ := get(t, ts.URL+"/api/v1/systems", "Authorization", "Bearer tok-0123456789abcdef"); code != 200 {
		t.Errorf("read with the token: %d", code)
	}
	if code, _ := get(t, ts.URL+"/healthz"); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	_, pub := newServer(t, Config{Store: st, Listen: "[::]:8080", Token: "tok-0123456789abcdef", PublicRead: true})
	if code, _ := get(t, pub.URL+"/api/v1/systems"); code != 200 {
		t.Errorf("public read: %d", code)
	}
	if code, _ := post(t, pub.URL+"/api/v1/systems", "", []byte("x")); code != 401 {
		t.Errorf("public read lets changes through: %d", code)
	}
}

// TestRestartKeepsEverything: a second server on the same SQLite file
// serves what the first stored.
func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	const token = "tok-0123456789abcdef"
	st1, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "spof.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, ts1 := newServer(t, Config{Store: st1, Token: token})
	model, _ := os.ReadFile(seedAudit)
	if code, body := post(t, ts1.URL+"/api/v1/systems", token, model); code != 201 {
		t.Fatalf("post: %d %s", code, body)
	}
	ts1.Close()
	st1.Close()

	_, ts2 := newServer(t, Config{Store: openStore(t, dir)})
	code, body := get(t, ts2.URL+"/api/v1/systems/shop")
	if code != 200 || !strings.Contains(string(body), `"version": 1`) {
		t.Errorf("after a restart: %d %s", code, body)
	}
	if code, body := get(t, ts2.URL+"/api/v1/systems/shop/history"); code != 200 || strings.Count(string(body), `"model_version"`) != 1 {
		t.Errorf("history after a restart: %d %s", code, body)
	}
}

// TestModelFilesWatched: a model file that changes is analysed again; one
// that stops parsing leaves the last good version served.
func TestModelFilesWatched(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "spof.yaml")
	data, _ := os.ReadFile(seedAudit)
	os.WriteFile(file, data, 0o644)
	s, ts := newServer(t, Config{Models: []string{file}, Poll: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.watch(ctx)

	fixed := bytes.Replace(data, []byte("  session-redis:\n    kind: cache\n"), []byte("  session-redis:\n    kind: cache\n    replicas: 2\n    failover: automatic\n"), 1)
	os.WriteFile(file, fixed, 0o644)
	os.Chtimes(file, time.Now().Add(time.Second), time.Now().Add(time.Second))
	waitFor(t, func() bool { return s.system("shop").version == 2 })
	code, body := get(t, ts.URL+"/api/v1/systems/shop/graph")
	if code != 200 || strings.Contains(string(body), `"id": "session-redis",
      "kind": "cache",
      "replicas": 1`) {
		t.Errorf("graph after the change: %s", body)
	}
	os.WriteFile(file, []byte("version: 1\nsystem: [broken\n"), 0o644)
	os.Chtimes(file, time.Now().Add(2*time.Second), time.Now().Add(2*time.Second))
	time.Sleep(100 * time.Millisecond)
	if v := s.system("shop").version; v != 2 {
		t.Errorf("after a broken edit, version %d is served", v)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPagesWithoutJavaScript: every page renders, with the tables, and
// the security headers.
func TestPagesWithoutJavaScript(t *testing.T) {
	_, ts := newServer(t, Config{Models: []string{seedAudit}})
	for path, want := range map[string]string{
		"/":                         `<a href="/systems/shop">shop</a>`,
		"/systems/shop":             `component:session-redis`,
		"/systems/shop/graph":       `data-graph-url="/api/v1/systems/shop/graph"`,
		"/systems/shop/experiments": `No experiment has run yet.`,
		"/systems/shop/history":     `<td>v1</td>`,
	} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, no %q in\n%s", path, resp.StatusCode, want, body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	if code, _ := get(t, ts.URL+"/systems/nope"); code != 404 {
		t.Errorf("unknown system page: %d", code)
	}
}

// TestMetrics: findings, checklist and model version per system.
func TestMetrics(t *testing.T) {
	_, ts := newServer(t, Config{Models: []string{seedAudit}})
	code, body := get(t, ts.URL+"/metrics")
	for _, want := range []string{
		`spof_findings{category="spof",severity="critical",system="shop"}`,
		`spof_checklist_item{item="1",status="fail",system="shop"} 1`,
		`spof_model_version{system="shop"} 1`,
		`spof_fallbacks_never_verified{system="shop"}`,
	} {
		if code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("metrics: %d, no %s", code, want)
		}
	}
}

// TestOpenAPIListsEveryRoute: docs/openapi.yaml describes exactly the API
// the server answers.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	data, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	s, _ := newServer(t, Config{})
	var served []string
	for _, p := range s.patterns {
		if strings.Contains(p, " /api/") {
			served = append(served, p)
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("docs/openapi.yaml documents\n%s\nthe server answers\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
}

// TestLedgerChangeAnalysesAgain: a run recorded by another replica that
// verifies a fallback changes checklist item 4 here at the next refresh,
// with a snapshot of its own.
func TestLedgerChangeAnalysesAgain(t *testing.T) {
	s, ts := newServer(t, Config{Models: []string{seedAudit}})
	item4 := func() analysis.ChecklistItem { return s.system("shop").result.Checklist[3] }
	before := item4()
	now := time.Now().UTC()
	if _, err := s.cfg.Store.PutRun(context.Background(), store.Run{System: "shop", Experiment: "recommendations-down", Fault: "down",
		Verdict: "passed", Trigger: "cli", Started: now.Add(-time.Minute), Ended: now, Edges: []string{"app → recommendations"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := item4()
	if strings.Join(after.Evidence, "\n") == strings.Join(before.Evidence, "\n") || !strings.Contains(strings.Join(after.Evidence, "\n"), "recommendations-down") {
		t.Errorf("item 4 before:\n%v\nafter:\n%v", before.Evidence, after.Evidence)
	}
	if code, body := get(t, ts.URL+"/api/v1/systems/shop/history"); code != 200 || strings.Count(string(body), `"model_version"`) != 2 {
		t.Errorf("history: %d %s", code, body)
	}
	// Nothing changed since: no more snapshots.
	s.refresh(context.Background())
	if _, body := get(t, ts.URL+"/api/v1/systems/shop/history"); strings.Count(string(body), `"model_version"`) != 2 {
		t.Errorf("a refresh without a change took a snapshot: %s", body)
	}
}

// TestConcurrentPosts: versions posted at once are numbered without a
// gap or a repeat, and the newest is the one served.
func TestConcurrentPosts(t *testing.T) {
	const token = "tok-0123456789abcdef"
	s, ts := newServer(t, Config{Token: token})
	base, _ := os.ReadFile(seedAudit)
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := append(append([]byte{}, base...), []byte("\n# variant "+strconv.Itoa(i)+"\n")...)
			if code, out := post(t, ts.URL+"/api/v1/systems", token, body); code != 201 {
				t.Errorf("post %d: %d %s", i, code, out)
			}
		}()
	}
	wg.Wait()
	versions, err := s.cfg.Store.ModelVersions(context.Background(), "shop", 0)
	if err != nil || len(versions) != n || versions[0].Version != n {
		t.Fatalf("versions: %d, newest %v, %v", len(versions), versions[0].Version, err)
	}
	if v := s.system("shop").version; v != n {
		t.Errorf("serving version %d, want %d", v, n)
	}
}

// TestOneFilePerSystem: two model files of one system are refused at
// start (each would replace the other's version).
func TestOneFilePerSystem(t *testing.T) {
	s, err := New(Config{Store: openStore(t, t.TempDir()), Models: []string{seedAudit, "../examples/seed-audit/spof-fixed.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(context.Background()); err == nil || !strings.Contains(err.Error(), "both describe system shop") {
		t.Errorf("Load: %v", err)
	}
}

// TestStaticFiles: the dashboard's files are served, directories are not
// listed, and nothing outside them is reachable.
func TestStaticFiles(t *testing.T) {
	_, ts := newServer(t, Config{})
	for path, want := range map[string]int{
		"/static/graph.js": 200, "/static/vendor/cytoscape.min.js": 200, "/static/style.css": 200,
		"/static/": 404, "/static/vendor/": 404, "/static/../serve.go": 404, "/static/nope.js": 404,
	} {
		if code, _ := get(t, ts.URL+path); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
}
