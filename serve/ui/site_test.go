package ui_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"html/template"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/serve"
	"github.com/spofhq/spof/serve/ui"
)

var screenshots = flag.String("screenshots", "", "also write the browser tests' screenshots to this directory")

// The JSON the graph page reads: the contract documented in static/graph.js.
type (
	graphDoc struct {
		System string    `json:"system"`
		Zones  []zoneDoc `json:"zones"`
		Nodes  []nodeDoc `json:"nodes"`
		Edges  []edgeDoc `json:"edges"`
	}
	zoneDoc struct {
		Name   string `json:"name"`
		Region string `json:"region,omitempty"`
	}
	nodeDoc struct {
		ID       string   `json:"id"`
		Kind     string   `json:"kind"`
		Replicas int      `json:"replicas"`
		Zones    []string `json:"zones"`
		State    string   `json:"state"`
		Findings int      `json:"findings"`
		X        *float64 `json:"x,omitempty"`
		Y        *float64 `json:"y,omitempty"`
	}
	edgeDoc struct {
		From string `json:"from"`
		To   string `json:"to"`
		Type string `json:"type"`
	}
	componentDoc struct {
		Component   string             `json:"component"`
		Kind        string             `json:"kind"`
		BlastRadius blastDoc           `json:"blast_radius"`
		Findings    []analysis.Finding `json:"findings"`
	}
	blastDoc struct {
		Down       []string `json:"down"`
		Degraded   []string `json:"degraded"`
		Components []string `json:"components"`
	}
)

// system is a model analysed once, the source of the fake endpoints.
type system struct {
	m   *model.Model
	res *analysis.Result
}

func loadSystem(t testing.TB, path string) *system {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return analyse(t, m)
}

func analyse(t testing.TB, m *model.Model) *system {
	t.Helper()
	res, err := analysis.Check(m, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &system{m, res}
}

// graph is the graph JSON of the system, as the server sends it.
func (s *system) graph() graphDoc {
	data, err := serve.GraphJSON(s.m, s.res)
	if err != nil {
		panic(err)
	}
	var g graphDoc
	if err := json.Unmarshal(data, &g); err != nil {
		panic(err)
	}
	return g
}

// component is a component's blast radius and findings, as the server
// sends them.
func (s *system) component(name string) (componentDoc, error) {
	data, err := serve.ComponentJSON(s.m, s.res, name)
	if err != nil {
		return componentDoc{}, err
	}
	var d componentDoc
	err = json.Unmarshal(data, &d)
	return d, err
}

// page is the test's graph page: the contract's elements from the
// template partial, the style sheet, and a script recording CSP violations.
const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.System}}</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/test/csp.js"></script>
</head><body><h1>{{.System}}</h1>
{{template "graph" .}}
</body></html>
`

const cspScript = `window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
`

// csp is as strict as the page allows: only same-origin scripts, styles and
// requests.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// site is a loopback server for the graph page with fake endpoints.
type site struct {
	*httptest.Server
	mu        sync.Mutex
	requested []string // component ids asked for, decoded
}

// pageData is what the page template gets.
type pageData struct {
	System       string
	GraphURL     string
	ComponentURL string
}

// layoutParam, in the page's query, forces a layout: it is set as
// data-layout on #graph.
const layoutParam = "layout"

// newSite serves Static under /static/, the page at /, graph (encoded as
// JSON, or a handler) at /api/graph and component(id) at /api/component/ID.
func newSite(t testing.TB, system string, graph any, component func(id string) (any, int)) *site {
	t.Helper()
	tmpl := template.Must(template.New("page").Parse(page))
	template.Must(tmpl.ParseFS(ui.Templates, "templates/*.html"))
	static, err := fs.Sub(ui.Static, "static")
	if err != nil {
		t.Fatal(err)
	}
	s := &site{}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /test/csp.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(cspScript))
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, "page", pageData{system, "/api/graph", "/api/component/"}); err != nil {
			t.Errorf("rendering the page: %v", err)
		}
		html := buf.String()
		if l := r.URL.Query().Get(layoutParam); l != "" {
			html = strings.Replace(html, `<div id="graph"`, `<div id="graph" data-layout="`+template.HTMLEscapeString(l)+`"`, 1)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(html))
	})
	mux.HandleFunc("GET /api/graph", func(w http.ResponseWriter, r *http.Request) {
		if h, ok := graph.(http.HandlerFunc); ok {
			h(w, r)
			return
		}
		writeJSON(t, w, graph, http.StatusOK)
	})
	mux.HandleFunc("GET /api/component/", func(w http.ResponseWriter, r *http.Request) {
		id, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/api/component/"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.requested = append(s.requested, id)
		s.mu.Unlock()
		v, code := component(id)
		writeJSON(t, w, v, code)
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requested)
}

func writeJSON(t testing.TB, w http.ResponseWriter, v any, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		t.Errorf("writing JSON: %v", err)
	}
}

// systemEndpoint answers the component endpoint from the analysis of s.
func (s *system) endpoint(id string) (any, int) {
	d, err := s.component(id)
	if err != nil {
		return map[string]string{"error": err.Error()}, http.StatusNotFound
	}
	return d, http.StatusOK
}

// saveScreenshot writes png to the test's temporary directory (and to
// -screenshots when given) and logs where.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dirs := []string{t.TempDir()}
	if *screenshots != "" {
		dirs = append(dirs, *screenshots)
	}
	for _, dir := range dirs {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
}
