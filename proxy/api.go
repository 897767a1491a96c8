package proxy

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Version is what GET /version reports: the Toxiproxy API version this
// server is compatible with, and ours.
const Version = "2.12.0-spof"

// maxBody bounds request bodies: a proxy list of this size is already
// absurd.
const maxBody = 4 << 20

// Handler returns the HTTP API, compatible with Toxiproxy 2.x: the same
// paths, JSON shapes, status codes and error bodies ({"error": "...",
// "status": N}), plus /metrics in the Prometheus format.
//
// With Options.APIToken, every request must carry the token.
//
// Like Toxiproxy, it refuses requests from browsers (a User-Agent that
// starts with "Mozilla/"), so that a web page cannot reach a proxy API
// on localhost behind the user's back.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /version", s.version)
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("GET /spof/limits", s.limits)
	mux.HandleFunc("POST /reset", s.reset)
	mux.HandleFunc("POST /populate", s.populate)
	mux.HandleFunc("GET /proxies", s.proxyIndex)
	mux.HandleFunc("POST /proxies", s.proxyCreate)
	mux.HandleFunc("GET /proxies/{proxy}", s.proxyShow)
	mux.HandleFunc("POST /proxies/{proxy}", s.proxyUpdate)
	mux.HandleFunc("PATCH /proxies/{proxy}", s.proxyUpdate)
	mux.HandleFunc("DELETE /proxies/{proxy}", s.proxyDelete)
	mux.HandleFunc("GET /proxies/{proxy}/toxics", s.toxicIndex)
	mux.HandleFunc("POST /proxies/{proxy}/toxics", s.toxicCreate)
	mux.HandleFunc("GET /proxies/{proxy}/toxics/{toxic}", s.toxicShow)
	mux.HandleFunc("POST /proxies/{proxy}/toxics/{toxic}", s.toxicUpdate)
	mux.HandleFunc("PATCH /proxies/{proxy}/toxics/{toxic}", s.toxicUpdate)
	mux.HandleFunc("DELETE /proxies/{proxy}/toxics/{toxic}", s.toxicDelete)
	// Everything else: a method the path does not take (ServeMux would
	// answer 405 in plain text; answer in the API's JSON instead), or no
	// such path.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allowed := allowedMethods(mux, r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, &Error{"method " + r.Method + " not allowed on " + r.URL.Path +
				" (allowed: " + strings.Join(allowed, ", ") + ")", http.StatusMethodNotAllowed})
			return
		}
		writeError(w, &Error{"no such endpoint: " + r.Method + " " + r.URL.Path +
			" (see https://github.com/Shopify/toxiproxy#http-api)", http.StatusNotFound})
	})
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.UserAgent(), "Mozilla/") {
			http.Error(w, "User agent not allowed", http.StatusForbidden)
			return
		}
		mux.ServeHTTP(w, r)
	})
	if len(s.opts.APIToken) > 0 {
		h = requireToken(s.opts.APIToken, h)
	}
	return h
}

// APITimeouts bound each connection to the API, so that slow or idle
// clients cannot hold connections (and file descriptors) for ever. A
// zero field takes its default.
type APITimeouts struct {
	// ReadHeader bounds reading a request's headers (default 10s).
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included (default 30s).
	Read time.Duration
	// Write bounds the time from the end of the headers to the end of
	// the answer (default 30s; the slowest change waits at most a second
	// for connections to leave the fast path).
	Write time.Duration
	// Idle closes a keep-alive connection that has waited this long for
	// its next request (default 30s).
	Idle time.Duration
}

// NewAPIServer returns an http.Server serving h with the timeouts t and
// errors logged to log (nil: discarded).
func NewAPIServer(h http.Handler, t APITimeouts, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cmp.Or(t.ReadHeader, 10*time.Second),
		ReadTimeout:       cmp.Or(t.Read, 30*time.Second),
		WriteTimeout:      cmp.Or(t.Write, 30*time.Second),
		IdleTimeout:       cmp.Or(t.Idle, 30*time.Second),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// allowedMethods returns the methods that have a route for r's path.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, pattern := mux.Handler(r2); pattern != "/" && pattern != "" {
			allowed = append(allowed, m)
		}
	}
	return allowed
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}

func writeError(w http.ResponseWriter, err error) {
	// The whole message: a wrapped *Error gives the status, and the
	// wrapping says where (which proxy).
	e := &Error{err.Error(), statusOf(err)}
	data, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	w.Write(append(data, '\n'))
}

// decodeBody decodes r's body, one JSON value of at most maxBody bytes,
// into v, refusing unknown fields.
func decodeBody(r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return badRequest("bad request body: %v", err)
	}
	return decodeStrict(data, v)
}

// decodeStrict decodes one JSON value into v, refusing unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("bad request body: %s", jsonError(err))
	}
	if dec.More() {
		return badRequest("bad request body: more than one JSON value")
	}
	return nil
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Write([]byte(`{"version": "` + Version + `"}` + "\n"))
}

func (s *Server) limits(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Limits())
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.writeMetrics(w)
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	if err := s.Reset(); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// proxyInput is a proxy in a request: enabled defaults to true.
type proxyInput struct {
	Name     string  `json:"name"`
	Listen   string  `json:"listen"`
	Upstream string  `json:"upstream"`
	Enabled  *bool   `json:"enabled"`
	Toxics   []Toxic `json:"toxics"` // accepted and ignored, as in Toxiproxy
}

func (in proxyInput) config() ProxyConfig {
	return ProxyConfig{Name: in.Name, Listen: in.Listen, Upstream: in.Upstream, Enabled: in.Enabled == nil || *in.Enabled}
}

func (s *Server) populate(w http.ResponseWriter, r *http.Request) {
	var in []proxyInput
	if err := decodeBody(r, &in); err != nil {
		writeError(w, err)
		return
	}
	cfgs := make([]ProxyConfig, len(in))
	for i := range in {
		cfgs[i] = in[i].config()
	}
	proxies, err := s.Populate(cfgs)
	if proxies == nil {
		proxies = []ProxyInfo{}
	}
	if err != nil {
		// As Toxiproxy: the error and the proxies handled before it.
		e := &Error{err.Error(), statusOf(err)}
		writeJSON(w, e.Status, struct {
			Message string      `json:"error"`
			Status  int         `json:"status"`
			Proxies []ProxyInfo `json:"proxies"`
		}{e.Message, e.Status, proxies})
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		Proxies []ProxyInfo `json:"proxies"`
	}{proxies})
}

func (s *Server) proxyIndex(w http.ResponseWriter, r *http.Request) {
	out := map[string]ProxyInfo{}
	for _, p := range s.Proxies() {
		out[p.Name] = p
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) proxyCreate(w http.ResponseWriter, r *http.Request) {
	var in proxyInput
	if err := decodeBody(r, &in); err != nil {
		writeError(w, err)
		return
	}
	p, err := s.CreateProxy(in.config())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) proxyShow(w http.ResponseWriter, r *http.Request) {
	p, err := s.Proxy(r.PathValue("proxy"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) proxyUpdate(w http.ResponseWriter, r *http.Request) {
	// Toxiproxy's clients send the whole proxy back, name and toxics
	// included: accept them, but the name cannot change.
	// Not embedding ProxyUpdate, whose name would show in decoding errors.
	var in struct {
		Listen   *string `json:"listen"`
		Upstream *string `json:"upstream"`
		Enabled  *bool   `json:"enabled"`
		Name     *string `json:"name"`
		Toxics   []Toxic `json:"toxics"`
	}
	if err := decodeBody(r, &in); err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("proxy")
	if in.Name != nil && *in.Name != name {
		writeError(w, badRequest("proxy %s cannot be renamed to %s (delete it and create a new one)", name, *in.Name))
		return
	}
	p, err := s.UpdateProxy(name, ProxyUpdate{Listen: in.Listen, Upstream: in.Upstream, Enabled: in.Enabled})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) proxyDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.DeleteProxy(r.PathValue("proxy")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) toxicIndex(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Toxics(r.PathValue("proxy"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ts)
}

func (s *Server) toxicCreate(w http.ResponseWriter, r *http.Request) {
	if _, err := s.get(r.PathValue("proxy")); err != nil {
		writeError(w, err)
		return
	}
	var patch toxicPatch
	if err := decodeBody(r, &patch); err != nil {
		writeError(w, err)
		return
	}
	t, err := newToxic(patch)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err = s.AddToxic(r.PathValue("proxy"), t)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) toxicShow(w http.ResponseWriter, r *http.Request) {
	t, err := s.Toxic(r.PathValue("proxy"), r.PathValue("toxic"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// toxicUpdate changes the fields the body names, keeping the others.
func (s *Server) toxicUpdate(w http.ResponseWriter, r *http.Request) {
	proxy, name := r.PathValue("proxy"), r.PathValue("toxic")
	t, err := s.Toxic(proxy, name)
	if err != nil {
		writeError(w, err)
		return
	}
	var patch toxicPatch
	if err := decodeBody(r, &patch); err != nil {
		writeError(w, err)
		return
	}
	if patch.Name != nil && *patch.Name != name {
		writeError(w, badRequest("toxic %s cannot be renamed to %s (remove it and add a new one)", name, *patch.Name))
		return
	}
	if err := t.apply(patch); err != nil {
		writeError(w, err)
		return
	}
	if patch.TTL != nil && (len(patch.ExpiresAt) == 0 || string(patch.ExpiresAt) == "null") {
		// A TTL given again counts from now. Sent with expires_at, as by
		// a client that posts back the toxic it read, a TTL equal to the
		// current one keeps the expiry: Server.UpdateToxic's rule.
		t.ExpiresAt = time.Time{}
	}
	t, err = s.UpdateToxic(proxy, t)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) toxicDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.RemoveToxic(r.PathValue("proxy"), r.PathValue("toxic")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
