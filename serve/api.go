package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/spofhq/spof/chaos"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/store"
)

// routes is every path the server answers (docs/api.md).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	read := func(pattern string, h http.HandlerFunc) {
		s.patterns = append(s.patterns, pattern)
		mux.Handle(pattern, s.reader(h))
	}
	write := func(pattern string, h http.HandlerFunc) {
		s.patterns = append(s.patterns, pattern)
		mux.Handle(pattern, s.writer(h))
	}

	read("GET /api/v1/systems", s.apiSystems)
	read("GET /api/v1/systems/{name}", s.apiSystem)
	read("GET /api/v1/systems/{name}/findings", s.apiFindings)
	read("GET /api/v1/systems/{name}/checklist", s.apiChecklist)
	read("GET /api/v1/systems/{name}/graph", s.apiGraph)
	read("GET /api/v1/systems/{name}/components/{component}", s.apiComponent)
	read("GET /api/v1/systems/{name}/history", s.apiHistory)
	read("GET /api/v1/systems/{name}/runs", s.apiRuns)
	read("GET /api/v1/runs/{id}", s.apiRun)
	read("GET /api/v1/status", s.apiStatus)
	write("POST /api/v1/systems", s.apiPostSystem)
	write("POST /api/v1/systems/{name}/experiments/{experiment}/runs", s.apiTrigger)

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.readyz)
	read("GET /metrics", s.metrics.handler().ServeHTTP)
	s.pageRoutes(mux, read)
	return s.common(mux)
}

// common sets the headers every answer carries and bounds bodies.
func (s *Server) common(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		next.ServeHTTP(w, r)
	})
}

// reader lets through what may read (mayRead).
func (s *Server) reader(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.mayRead(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="spof"`)
			apiError(w, http.StatusUnauthorized, "this server needs the bearer token to read (Authorization: Bearer TOKEN)")
			return
		}
		next(w, r)
	})
}

// writer lets through only requests with the token.
func (s *Server) writer(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="spof"`)
			msg := "a change needs the bearer token (Authorization: Bearer TOKEN)"
			if s.cfg.Token == "" {
				msg = "this server was started without --token-file: it changes nothing through its API"
			}
			apiError(w, http.StatusUnauthorized, msg)
			return
		}
		next(w, r)
	})
}

// apiError writes {"error": msg}.
func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// found returns the system named in the path, or answers 404.
func (s *Server) found(w http.ResponseWriter, r *http.Request) *system {
	name := r.PathValue("name")
	sys := s.system(name)
	if sys == nil {
		apiError(w, http.StatusNotFound, fmt.Sprintf("no system named %q", name))
	}
	return sys
}

// systemJSON is one system in the API.
type systemJSON struct {
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Version     int64        `json:"version"`
	File        string       `json:"file,omitempty"`
	AnalysedAt  time.Time    `json:"analysed_at"`
	Counts      store.Counts `json:"counts"`
	Flows       int          `json:"flows"`
	Components  int          `json:"components"`
}

func (sys *system) json() systemJSON {
	return systemJSON{Name: sys.name, Description: sys.model.Description, Version: sys.version, File: sys.file,
		AnalysedAt: sys.at.UTC(), Counts: sys.counts, Flows: len(sys.model.Flows), Components: len(sys.model.Components)}
}

func (s *Server) apiSystems(w http.ResponseWriter, r *http.Request) {
	out := []systemJSON{}
	for _, sys := range s.list() {
		out = append(out, sys.json())
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSystem(w http.ResponseWriter, r *http.Request) {
	if sys := s.found(w, r); sys != nil {
		writeJSON(w, http.StatusOK, sys.json())
	}
}

// apiFindings answers spof check --format json's document, byte for byte.
func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) {
	if sys := s.found(w, r); sys != nil {
		w.Header().Set("Content-Type", "application/json")
		w.Write(sys.report)
	}
}

func (s *Server) apiChecklist(w http.ResponseWriter, r *http.Request) {
	if sys := s.found(w, r); sys != nil {
		writeJSON(w, http.StatusOK, sys.result.Checklist)
	}
}

func (s *Server) apiGraph(w http.ResponseWriter, r *http.Request) {
	if sys := s.found(w, r); sys != nil {
		writeJSON(w, http.StatusOK, sys.graph)
	}
}

func (s *Server) apiComponent(w http.ResponseWriter, r *http.Request) {
	sys := s.found(w, r)
	if sys == nil {
		return
	}
	c, err := sys.component(r.PathValue("component"))
	if err != nil {
		apiError(w, http.StatusNotFound, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// snapshotJSON is one point of a system's history.
type snapshotJSON struct {
	At           time.Time    `json:"at"`
	ModelVersion int64        `json:"model_version"`
	Counts       store.Counts `json:"counts"`
}

func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	sys := s.found(w, r)
	if sys == nil {
		return
	}
	since, limit, ok := queryRange(w, r)
	if !ok {
		return
	}
	snaps, err := s.cfg.Store.Snapshots(r.Context(), sys.name, since, limit)
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := []snapshotJSON{}
	for _, sn := range snaps {
		out = append(out, snapshotJSON{At: sn.At.UTC(), ModelVersion: sn.ModelVersion, Counts: sn.Counts})
	}
	writeJSON(w, http.StatusOK, out)
}

// runJSON is one experiment run in the API.
type runJSON struct {
	ID         int64           `json:"id"`
	System     string          `json:"system"`
	Experiment string          `json:"experiment"`
	Fault      string          `json:"fault"`
	Verdict    string          `json:"verdict"`
	Reason     string          `json:"reason"`
	Trigger    string          `json:"trigger"`
	Node       string          `json:"node"`
	Batch      string          `json:"batch,omitempty"`
	Started    time.Time       `json:"started"`
	Ended      time.Time       `json:"ended"`
	Edges      []string        `json:"edges"`
	Flows      json.RawMessage `json:"flows,omitempty"`
	Samples    []sampleJSON    `json:"samples,omitempty"`
}

type sampleJSON struct {
	At        time.Time `json:"at"`
	Flow      string    `json:"flow"`
	State     string    `json:"state"`
	LatencyMS float64   `json:"latency_ms"`
	Detail    string    `json:"detail,omitempty"`
}

func runOut(r store.Run) runJSON {
	out := runJSON{ID: r.ID, System: r.System, Experiment: r.Experiment, Fault: r.Fault, Verdict: r.Verdict,
		Reason: r.Reason, Trigger: r.Trigger, Node: r.Node, Batch: r.Batch, Started: r.Started.UTC(), Ended: r.Ended.UTC(),
		Edges: r.Edges, Flows: r.Flows}
	if out.Edges == nil {
		out.Edges = []string{}
	}
	for _, sm := range r.Samples {
		out.Samples = append(out.Samples, sampleJSON{At: sm.At.UTC(), Flow: sm.Flow, State: sm.State,
			LatencyMS: float64(sm.Latency) / float64(time.Millisecond), Detail: sm.Detail})
	}
	return out
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	sys := s.found(w, r)
	if sys == nil {
		return
	}
	since, limit, ok := queryRange(w, r)
	if !ok {
		return
	}
	runs, err := s.cfg.Store.Runs(r.Context(), store.RunQuery{System: sys.name, Experiment: r.URL.Query().Get("experiment"),
		Since: since, Limit: limit})
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := []runJSON{}
	for _, run := range runs {
		out = append(out, runOut(run))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		apiError(w, http.StatusBadRequest, fmt.Sprintf("run id %q: want a positive integer", r.PathValue("id")))
		return
	}
	run, err := s.cfg.Store.Run(r.Context(), id)
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, runOut(run))
}

// queryRange reads ?since=RFC3339&limit=N.
func queryRange(w http.ResponseWriter, r *http.Request) (since time.Time, limit int, ok bool) {
	q := r.URL.Query()
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("since=%q: want an RFC 3339 time, e.g. 2026-12-01T00:00:00Z", v))
			return since, 0, false
		}
		since = t
	}
	limit = 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("limit=%q: want 1 to 10000", v))
			return since, 0, false
		}
		limit = n
	}
	return since, limit, true
}

func (s *Server) storeError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		apiError(w, http.StatusNotFound, err.Error())
		return
	}
	s.log.Error("store", "err", err)
	apiError(w, http.StatusServiceUnavailable, "the store did not answer; try again")
}

// apiPostSystem adds or updates a system from a model in the body (YAML).
// 201 with the new version, 200 when it is the latest already; 400 with
// every problem in the model, by line.
func (s *Server) apiPostSystem(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		apiError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a model may have at most %d bytes", tooBig.Limit))
		return
	case err != nil:
		apiError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	m, err := model.Parse("model.yaml", data)
	if err != nil {
		var list model.ErrorList
		if errors.As(err, &list) {
			problems := []string{}
			for _, e := range list {
				problems = append(problems, e.Error())
			}
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "the model is not valid", "problems": problems})
			return
		}
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	before := s.system(m.System)
	sys, err := s.put(r.Context(), m, data, "")
	if err != nil {
		s.storeError(w, err)
		return
	}
	code := http.StatusCreated
	if before != nil && before.version == sys.version {
		code = http.StatusOK
	}
	w.Header().Set("Location", "/api/v1/systems/"+sys.name)
	writeJSON(w, code, sys.json())
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "not ready\n", http.StatusServiceUnavailable)
		return
	}
	if _, err := s.cfg.Store.Systems(r.Context()); err != nil {
		http.Error(w, "store unavailable\n", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// apiTrigger starts one experiment now, on this replica if it leads the
// scheduler: 202 with the run ID; the run appears in runs when it ends.
func (s *Server) apiTrigger(w http.ResponseWriter, r *http.Request) {
	sys := s.found(w, r)
	if sys == nil {
		return
	}
	res := s.trigger(r, sys, r.PathValue("experiment"), "api")
	if res.code != http.StatusAccepted {
		if res.code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
		apiError(w, res.code, res.text)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"run_id": res.runID, "experiment": r.PathValue("experiment"),
		"runs": "/api/v1/systems/" + sys.name + "/runs?experiment=" + r.PathValue("experiment")})
}

// triggered is what asking for a run gave: an HTTP status and why.
type triggered struct {
	code  int
	text  string
	runID string
}

// trigger starts experiment name of sys now (trigger api or ui), when
// this replica may: it leads the scheduler, the system comes from a
// --model file in the --env environment, and no run is in flight.
func (s *Server) trigger(r *http.Request, sys *system, name, trigger string) triggered {
	sc := s.scheduler
	switch {
	case sys.file == "":
		return triggered{code: http.StatusForbidden, text: "experiments run only for systems loaded from a --model file: a posted model's bindings and probes are not trusted to run"}
	case sc.env == "" || sys.model.Environment != sc.env:
		return triggered{code: http.StatusConflict, text: fmt.Sprintf("this server runs experiments in environment %q (--env); %s is %q", sc.env, sys.name, sys.model.Environment)}
	case !sc.leader.Load():
		return triggered{code: http.StatusServiceUnavailable, text: "this replica does not lead the scheduler: send the request to the one that does (retry: a load balancer may pick it)"}
	}
	xs, _, err := chaos.Select(sys.model, chaos.Selection{Names: []string{name}, MaxBlast: len(sys.model.Flows)})
	if err != nil {
		return triggered{code: http.StatusNotFound, text: err.Error()}
	}
	opts := defaultRun
	if v := r.FormValue("duration"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond || d > time.Hour {
			return triggered{code: http.StatusBadRequest, text: fmt.Sprintf("duration %q: want 100ms to 1h, e.g. 30s", v)}
		}
		opts.Duration = d
	}
	opts.RunID = chaos.NewRunID(s.now())
	if !sc.start(context.WithoutCancel(r.Context()), sys, xs, opts, trigger, s.log.With("system", sys.name, "experiment", name)) {
		return triggered{code: http.StatusConflict, text: "an experiment is running on this replica: one at a time; try again when it ends"}
	}
	return triggered{code: http.StatusAccepted, text: fmt.Sprintf("%s started (run %s): it is listed here when it ends", name, opts.RunID), runID: opts.RunID}
}

// apiStatus says which replica answers and whether it leads the
// scheduler.
func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"node": s.cfg.Node, "leader": s.scheduler.leader.Load(),
		"ready": s.ready.Load(), "systems": len(s.list()), "env": s.cfg.Env})
}
