// Package serve is spof serve: the dashboard, the JSON API, the metrics
// and the scheduler of recurring experiments, over a store (package store)
// that several replicas may share.
package serve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/store"
)

// Config is what spof serve is started with.
type Config struct {
	Models []string    // model files, analysed at start and whenever they change
	Store  store.Store // where systems, snapshots and runs are kept
	Listen string      // host:port; a loopback address unless Token is set
	// Token is the bearer token every state-changing call needs (read
	// from --token-file). Empty: the server changes nothing through its
	// API, and listens on loopback only.
	Token string
	// PublicRead lets anyone read without the token when the server
	// listens beyond loopback.
	PublicRead bool
	// MaxBody bounds a request's body (a posted model); 0 means 16 MiB.
	MaxBody int64
	// Poll is how often model files and the store are checked for new
	// versions; 0 means 2 s.
	Poll time.Duration
	// Env is the environment this replica may run experiments in: a
	// model's schedules run only when its environment: is Env (as spof
	// chaos run --env). Empty: no experiment runs.
	Env string
	// Tick is how often the scheduler looks for due schedules and asks for
	// the lead; 0 means 1 s.
	Tick time.Duration
	Log  *slog.Logger // nil: discard
	Node string       // this replica's name in runs and logs; "" means host:pid
	Now  func() time.Time
}

// Server is a running spof serve.
type Server struct {
	cfg      Config
	loopback bool // listens on loopback only: reads need no token
	log      *slog.Logger
	now      func() time.Time

	mu      sync.RWMutex
	systems map[string]*system
	files   map[string]fileStamp // model file → what was last loaded from it

	ready     atomic.Bool
	metrics   *metrics
	scheduler *scheduler
	handler   http.Handler
	patterns  []string // what routes registered: "GET /api/v1/systems"
}

type fileStamp struct {
	size    int64
	modTime time.Time
	system  string
}

// ErrListen is returned by New for a listen address beyond loopback
// without a token.
var ErrListen = errors.New("listening beyond loopback needs --token-file")

// New checks cfg and builds a server; Run serves it.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("serve: no store")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	loopback, err := isLoopback(cfg.Listen)
	if err != nil {
		return nil, err
	}
	if !loopback && cfg.Token == "" {
		return nil, fmt.Errorf("--listen %s: %w (or listen on 127.0.0.1)", cfg.Listen, ErrListen)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 16 << 20
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Node == "" {
		host, _ := os.Hostname()
		cfg.Node = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	s := &Server{cfg: cfg, loopback: loopback, log: cfg.Log, now: cfg.Now,
		systems: map[string]*system{}, files: map[string]fileStamp{}}
	s.metrics = newMetrics(s)
	s.scheduler = newScheduler(s, cfg.Env)
	s.handler = s.routes()
	return s, nil
}

// isLoopback reports whether a listen address binds loopback only.
func isLoopback(listen string) (bool, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return false, fmt.Errorf("--listen %q: want host:port, e.g. 127.0.0.1:8080", listen)
	}
	if port == "" {
		return false, fmt.Errorf("--listen %q: no port", listen)
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false, fmt.Errorf("--listen %q: give an IP address (127.0.0.1, ::1, 0.0.0.0), not a host name", listen)
	}
	return ip.IsLoopback(), nil
}

// Handler is the server's HTTP handler (for tests; Run serves it).
func (s *Server) Handler() http.Handler { return s.handler }

// Load analyses the model files and the systems the store knows, once.
// Run calls it at start; a model file that does not parse is an error
// here (and only a logged one later, when it changes).
func (s *Server) Load(ctx context.Context) error {
	for _, f := range s.cfg.Models {
		if err := s.loadFile(ctx, f); err != nil {
			return err
		}
	}
	// Two files describing one system would each replace the other's
	// version whenever they change.
	bySystem := map[string]string{}
	for _, f := range s.cfg.Models {
		name := s.files[f].system
		if other, ok := bySystem[name]; ok {
			return fmt.Errorf("--model %s and --model %s both describe system %s: give each system one file (rename one's system:)", other, f, name)
		}
		bySystem[name] = f
	}
	if err := s.refresh(ctx); err != nil {
		return err
	}
	s.ready.Store(true)
	return nil
}

// loadFile reads a model file and, when it changed, stores and analyses
// the new version.
func (s *Server) loadFile(ctx context.Context, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	s.mu.RLock()
	old, seen := s.files[path]
	s.mu.RUnlock()
	if seen && old.size == st.Size() && old.modTime.Equal(st.ModTime()) {
		return nil
	}
	if st.Size() > s.cfg.MaxBody {
		return fmt.Errorf("--model %s: %d bytes, more than the %d a model may have", path, st.Size(), s.cfg.MaxBody)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	m, err := model.Parse(path, data)
	if err != nil {
		return err
	}
	if seen && old.system != m.System {
		s.log.Warn("model file now names another system", "file", path, "was", old.system, "now", m.System)
	}
	if _, err := s.put(ctx, m, data, path); err != nil {
		return err
	}
	s.mu.Lock()
	s.files[path] = fileStamp{size: st.Size(), modTime: st.ModTime(), system: m.System}
	s.mu.Unlock()
	return nil
}

// put stores a model version (unless it is the latest already) and makes
// its analysis current. It returns the analysed system.
func (s *Server) put(ctx context.Context, m *model.Model, source []byte, file string) (*system, error) {
	v, created, err := s.cfg.Store.PutModel(ctx, store.ModelVersion{System: m.System, File: file,
		Description: m.Description, Source: source})
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	cur := s.systems[m.System]
	s.mu.RUnlock()
	if !created && cur != nil && cur.version == v.Version {
		return cur, nil
	}
	sys, err := s.analyse(ctx, m, v.Version, file)
	if err != nil {
		return nil, err
	}
	if created {
		snap, err := sys.snapshot()
		if err != nil {
			return nil, err
		}
		if _, err := s.cfg.Store.PutSnapshot(ctx, snap); err != nil {
			return nil, err
		}
		s.log.Info("new model version", "system", m.System, "version", v.Version, "spofs", sys.counts.SPOFs)
	}
	s.install(sys)
	return sys, nil
}

func (s *Server) analyse(ctx context.Context, m *model.Model, version int64, file string) (*system, error) {
	verified, err := s.cfg.Store.Verifications(ctx, m.System)
	if err != nil {
		return nil, err
	}
	return analyse(m.System, version, file, m, verified, s.now())
}

// install makes sys the current analysis of its system, unless a newer
// version is current already (two posts analysed at once finish in any
// order).
func (s *Server) install(sys *system) {
	s.mu.Lock()
	if cur := s.systems[sys.name]; cur == nil || cur.version <= sys.version {
		s.systems[sys.name] = sys
	}
	s.mu.Unlock()
}

// refresh loads the systems the store has a newer version of than this
// replica (posted to another replica, or before a restart).
func (s *Server) refresh(ctx context.Context) error {
	systems, err := s.cfg.Store.Systems(ctx)
	if err != nil {
		return err
	}
	for _, st := range systems {
		s.mu.RLock()
		cur := s.systems[st.Name]
		s.mu.RUnlock()
		if cur != nil && cur.version >= st.Latest {
			if err := s.reverify(ctx, cur); err != nil {
				return err
			}
			continue
		}
		v, err := s.cfg.Store.Model(ctx, st.Name, st.Latest)
		if err != nil {
			return err
		}
		m, err := model.Parse(v.File, v.Source)
		if err != nil {
			// A version stored by a newer spof, or damaged: keep serving
			// the others.
			s.log.Error("stored model does not parse", "system", st.Name, "version", v.Version, "err", err)
			continue
		}
		sys, err := s.analyse(ctx, m, v.Version, v.File)
		if err != nil {
			s.log.Error("stored model does not analyse", "system", st.Name, "version", v.Version, "err", err)
			continue
		}
		s.install(sys)
	}
	s.mu.Lock()
	for name := range s.systems {
		if !slices.ContainsFunc(systems, func(st store.System) bool { return st.Name == name }) {
			delete(s.systems, name) // deleted through another replica
		}
	}
	s.mu.Unlock()
	return nil
}

// reverify analyses a system again when the verification ledger changed
// (an experiment ran, here or on another replica): checklist item 4 and
// the findings' fixes read it. The new analysis gets a snapshot.
func (s *Server) reverify(ctx context.Context, cur *system) error {
	verified, err := s.cfg.Store.Verifications(ctx, cur.name)
	if err != nil {
		return err
	}
	same := maps.EqualFunc(verified, cur.verified, func(a, b analysis.Verification) bool {
		return a.Experiment == b.Experiment && a.Passed == b.Passed && a.At.Equal(b.At)
	})
	if same {
		return nil
	}
	sys, err := analyse(cur.name, cur.version, cur.file, cur.model, verified, s.now())
	if err != nil {
		return err
	}
	snap, err := sys.snapshot()
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.PutSnapshot(ctx, snap); err != nil {
		return err
	}
	s.mu.Lock()
	if now := s.systems[cur.name]; now == nil || now.version == cur.version {
		s.systems[cur.name] = sys
	}
	s.mu.Unlock()
	s.log.Info("analysed again: the verification ledger changed", "system", cur.name)
	return nil
}

// watch polls the model files and the store until ctx ends.
func (s *Server) watch(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, f := range s.cfg.Models {
			if err := s.loadFile(ctx, f); err != nil && ctx.Err() == nil {
				s.log.Error("model file not reloaded; still serving the last good version", "file", f, "err", err)
			}
		}
		if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("reading the store", "err", err)
		}
	}
}

// system returns the current analysis of a system, or nil.
func (s *Server) system(name string) *system {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.systems[name]
}

// list returns the current systems by name.
func (s *Server) list() []*system {
	s.mu.RLock()
	out := make([]*system, 0, len(s.systems))
	for _, sys := range s.systems {
		out = append(out, sys)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *system) int { return strings.Compare(a.name, b.name) })
	return out
}

// Run serves until ctx is cancelled, then shuts down gracefully: requests
// in flight get shutdownGrace to finish. It loads the models first unless
// Load did.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	if !s.ready.Load() {
		if err := s.Load(ctx); err != nil {
			return err
		}
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	var wg sync.WaitGroup
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.watch(wctx)
	}()
	go func() {
		defer wg.Done()
		// Stopping it stops the run in flight, which restores its fault.
		s.scheduler.loop(wctx, s.cfg.Tick)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "systems", len(s.list()))
	select {
	case err := <-errc:
		stopWatch()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	s.log.Info("shutting down: stopping the run in flight (its fault is restored) and the requests", "grace", shutdownGrace)
	stopWatch()
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(shutdown)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

const shutdownGrace = 10 * time.Second

// authorized reports whether r carries the token. Both sides are hashed
// first, so the comparison takes the same time whatever the lengths.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.Token == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		if c, err := r.Cookie(sessionCookie); err == nil {
			got, ok = c.Value, true
		}
	}
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.cfg.Token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// mayRead reports whether r may read: always on loopback or with
// --public-read, else with the token.
func (s *Server) mayRead(r *http.Request) bool {
	return s.loopback || s.cfg.PublicRead || s.authorized(r)
}
