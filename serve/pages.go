package serve

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/serve/ui"
	"github.com/spofhq/spof/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pages are parsed once: the layout with each page's content.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{"ms": func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }}
	out := map[string]*template.Template{}
	for _, name := range []string{"systems", "system", "graph", "experiments", "run", "history", "login"} {
		t := template.Must(template.New("layout").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
		out[name] = template.Must(t.ParseFS(ui.Templates, "templates/graph.html"))
	}
	return out
}()

// sessionCookie holds the token for the pages' forms (set by /login).
const sessionCookie = "spof_session"

// page is what every page template gets.
type page struct {
	Title  string
	System *systemJSON
	// One page's data; the others stay zero.
	Systems   []systemJSON
	Counts    store.Counts
	Findings  []analysis.Finding
	Checklist []analysis.ChecklistItem
	Runs      []store.Run
	Run       store.Run
	Timelines []timeline
	Snapshots []store.Snapshot
	Chart     *chart
	// Forms.
	LoggedIn  bool   // the request carries the token (cookie)
	CSRF      string // the forms' token, when logged in
	NoToken   bool   // the server has no token: nothing to log in to
	Failed    bool   // a login failed
	Msg       string // what the last form did
	CanRun    bool   // experiments may run from here (a --model system in --env)
	Plan      []planned
	Schedules []scheduleRow
	Graph     graphPage
}

// graphPage is what the graph partial (package ui) needs.
type graphPage struct {
	GraphURL, ComponentURL string
}

func (s *Server) pageRoutes(mux *http.ServeMux, read func(string, http.HandlerFunc)) {
	read("GET /{$}", s.pageSystems)
	read("GET /systems/{name}", s.pageSystem)
	read("GET /systems/{name}/graph", s.pageGraph)
	read("GET /systems/{name}/experiments", s.pageExperiments)
	read("GET /systems/{name}/runs/{id}", s.pageRun)
	read("GET /systems/{name}/history", s.pageHistory)
	s.staticRoutes(mux)
	s.formRoutes(mux, read)
}

// render executes a page into memory first: a template error never
// leaves half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	if s.authorized(r) {
		p.LoggedIn, p.CSRF = true, s.csrfToken()
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// pageFound returns the system of the path, or answers a 404 page.
func (s *Server) pageFound(w http.ResponseWriter, r *http.Request) (*system, *systemJSON) {
	sys := s.system(r.PathValue("name"))
	if sys == nil {
		http.Error(w, fmt.Sprintf("no system named %q", r.PathValue("name")), http.StatusNotFound)
		return nil, nil
	}
	j := sys.json()
	return sys, &j
}

func (s *Server) pageSystems(w http.ResponseWriter, r *http.Request) {
	p := page{Title: "Systems"}
	for _, sys := range s.list() {
		p.Systems = append(p.Systems, sys.json())
	}
	s.render(w, r, "systems", p)
}

func (s *Server) pageSystem(w http.ResponseWriter, r *http.Request) {
	sys, j := s.pageFound(w, r)
	if sys == nil {
		return
	}
	s.render(w, r, "system", page{Title: sys.name, System: j, Counts: sys.counts, Findings: sys.result.Findings, Checklist: sys.result.Checklist})
}

func (s *Server) pageGraph(w http.ResponseWriter, r *http.Request) {
	sys, j := s.pageFound(w, r)
	if sys == nil {
		return
	}
	base := "/api/v1/systems/" + url.PathEscape(sys.name)
	s.render(w, r, "graph", page{Title: sys.name + ": graph", System: j,
		Graph: graphPage{GraphURL: base + "/graph", ComponentURL: base + "/components/"}})
}

func (s *Server) pageExperiments(w http.ResponseWriter, r *http.Request) {
	sys, j := s.pageFound(w, r)
	if sys == nil {
		return
	}
	runs, err := s.cfg.Store.Runs(r.Context(), store.RunQuery{System: sys.name, Limit: 200})
	if err != nil {
		s.log.Error("store", "err", err)
		http.Error(w, "the store did not answer; try again", http.StatusServiceUnavailable)
		return
	}
	p := page{Title: sys.name + ": experiments", System: j, Runs: runs, Msg: r.URL.Query().Get("msg"),
		CanRun: sys.file != "" && s.cfg.Env != "" && sys.model.Environment == s.cfg.Env}
	p.Plan, p.Schedules = s.plan(sys)
	s.render(w, r, "experiments", p)
}

func (s *Server) pageRun(w http.ResponseWriter, r *http.Request) {
	sys, j := s.pageFound(w, r)
	if sys == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.Error(w, "a run id is a positive integer", http.StatusBadRequest)
		return
	}
	run, err := s.cfg.Store.Run(r.Context(), id)
	if err != nil || run.System != sys.name {
		http.Error(w, fmt.Sprintf("no run %d of %s", id, sys.name), http.StatusNotFound)
		return
	}
	s.render(w, r, "run", page{Title: run.Experiment, System: j, Run: run, Timelines: timelines(run)})
}

func (s *Server) pageHistory(w http.ResponseWriter, r *http.Request) {
	sys, j := s.pageFound(w, r)
	if sys == nil {
		return
	}
	snaps, err := s.cfg.Store.Snapshots(r.Context(), sys.name, time.Time{}, 500)
	if err != nil {
		s.log.Error("store", "err", err)
		http.Error(w, "the store did not answer; try again", http.StatusServiceUnavailable)
		return
	}
	s.render(w, r, "history", page{Title: sys.name + ": history", System: j, Snapshots: snaps, Chart: spofChart(snaps)})
}

// timeline is one flow's samples as coloured marks along the run's time.
type timeline struct {
	Flow  string
	Width int
	Marks []mark
}

type mark struct {
	X, W         float64
	State, Title string
}

// timelines draws each flow's samples over the run: a mark per sample, as
// wide as the time to the next one (server-side SVG: no JavaScript).
func timelines(run store.Run) []timeline {
	const width = 1000
	span := run.Ended.Sub(run.Started)
	if span <= 0 {
		span = time.Second
	}
	x := func(t time.Time) float64 {
		return float64(t.Sub(run.Started)) / float64(span) * width
	}
	byFlow := map[string][]store.Sample{}
	var flows []string
	for _, sm := range run.Samples {
		if _, ok := byFlow[sm.Flow]; !ok {
			flows = append(flows, sm.Flow)
		}
		byFlow[sm.Flow] = append(byFlow[sm.Flow], sm)
	}
	var out []timeline
	for _, f := range flows {
		tl := timeline{Flow: f, Width: width}
		ss := byFlow[f]
		for i, sm := range ss {
			end := run.Ended
			if i+1 < len(ss) {
				end = ss[i+1].At
			}
			w := max(x(end)-x(sm.At), 1)
			tl.Marks = append(tl.Marks, mark{X: x(sm.At), W: w, State: sm.State,
				Title: fmt.Sprintf("%s %s %s", sm.At.Format("15:04:05.000"), sm.State, strings.TrimSpace(sm.Detail))})
		}
		out = append(out, tl)
	}
	return out
}

// chart is the SPOF count over time.
type chart struct {
	Width, Height int
	Points        string
	Dots          []dot
}

type dot struct {
	X, Y  float64
	Title string
}

func spofChart(snaps []store.Snapshot) *chart {
	if len(snaps) < 2 {
		return nil
	}
	const width, height, pad = 1000, 200, 10
	first, last := snaps[0].At, snaps[len(snaps)-1].At
	span := last.Sub(first)
	if span <= 0 {
		span = time.Second
	}
	top := 1
	for _, sn := range snaps {
		top = max(top, sn.Counts.SPOFs)
	}
	c := &chart{Width: width, Height: height}
	var pts []string
	for _, sn := range snaps {
		x := pad + float64(sn.At.Sub(first))/float64(span)*(width-2*pad)
		y := height - pad - float64(sn.Counts.SPOFs)/float64(top)*(height-2*pad)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		c.Dots = append(c.Dots, dot{X: x, Y: y, Title: fmt.Sprintf("%s: %d SPOFs (v%d)", sn.At.Format("2006-01-02 15:04"), sn.Counts.SPOFs, sn.ModelVersion)})
	}
	c.Points = strings.Join(pts, " ")
	return c
}
