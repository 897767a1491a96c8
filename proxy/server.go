// Package proxy is a TCP fault-injection proxy whose HTTP API is compatible
// with Toxiproxy 2.x, so that Toxiproxy's clients work unchanged, plus a TTL
// on every toxic: a fault removes itself even when whoever added it has
// died.
//
// A Server holds named proxies. Each proxy listens on an address and relays
// every connection to its upstream. With no toxic, each direction of a
// connection is copied by the kernel (splice between two TCP sockets), the
// same code path as the barest relay. When a toxic applies to a
// connection, that connection alone switches to a userspace path that
// applies its toxics in order; when the last one goes, it switches back.
// Toxics are added, changed and removed on live connections without
// dropping them, except where dropping is what the toxic means.
//
// The data path takes no lock shared between connections: a toxic change
// publishes each connection's new toxic chain through an atomic pointer
// and interrupts the copy with a read deadline.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// MaxTTL caps the TTL of every toxic, including toxics added without
	// one, so that no fault lives for ever by accident. Zero: no cap.
	MaxTTL time.Duration
	// DialTimeout bounds each connection to an upstream (default 10s).
	DialTimeout time.Duration
	// Clock runs the TTLs (default: the system clock).
	Clock Clock
	// Logger receives connection errors and toxic expiries (default:
	// discarded).
	Logger *slog.Logger
	// Rand returns numbers in [0, 1): toxicity and jitter draws (default
	// math/rand/v2).
	Rand func() float64
	// MaxConns caps the proxied connections open at once, over all
	// proxies: the next ones are reset as soon as they are accepted, so
	// that they cannot use up the file descriptors the API needs. Zero:
	// no cap. MaxConnsFor derives one from RLIMIT_NOFILE.
	MaxConns int
	// APIToken, if not empty, is the bearer token that every request to
	// Handler must carry ("Authorization: Bearer TOKEN"); others get 401.
	// See ReadTokenFile.
	APIToken []byte
}

// A Server holds proxies and their toxics. Its methods are safe for
// concurrent use; Handler serves them over HTTP.
type Server struct {
	opts Options

	mu      sync.Mutex
	proxies map[string]*tcpProxy
	// closed is set by Close, under mu; tcpProxy.start reads it holding
	// only its proxy's lock, so it is atomic.
	closed atomic.Bool

	// wg counts the goroutines of every proxy: accept loops and links.
	wg sync.WaitGroup

	limit connLimit
	// sweeping: a sweep of the idle splice pipes is scheduled (see
	// sweepPipesSoon).
	sweeping atomic.Bool
}

// New returns a Server with no proxies.
func New(opts Options) *Server {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	return &Server{opts: opts, proxies: map[string]*tcpProxy{}}
}

// ProxyConfig describes a proxy to create.
type ProxyConfig struct {
	Name string `json:"name"`
	// Listen is host:port; an empty host, or an empty Listen, means
	// 127.0.0.1 (port 0: any free port).
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	Enabled  bool   `json:"enabled"`
}

// ProxyInfo is a proxy as the API shows it. Listen is the address it
// listens on, with the port chosen when it was 0.
type ProxyInfo struct {
	Name     string  `json:"name"`
	Listen   string  `json:"listen"`
	Upstream string  `json:"upstream"`
	Enabled  bool    `json:"enabled"`
	Toxics   []Toxic `json:"toxics"`
}

// ProxyUpdate changes the fields that are not nil.
type ProxyUpdate struct {
	Listen   *string `json:"listen"`
	Upstream *string `json:"upstream"`
	Enabled  *bool   `json:"enabled"`
}

var errClosed = errors.New("proxy server is shut down")

func (s *Server) get(name string) (*tcpProxy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.proxies[name]
	if p == nil {
		return nil, notFound(ErrProxyNotFound, name)
	}
	return p, nil
}

// CreateProxy adds a proxy and, if cfg.Enabled, starts listening.
func (s *Server) CreateProxy(cfg ProxyConfig) (ProxyInfo, error) {
	if err := normalize(&cfg); err != nil {
		return ProxyInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return ProxyInfo{}, errClosed
	}
	if s.proxies[cfg.Name] != nil {
		return ProxyInfo{}, &Error{ErrProxyExists.Message + ": " + cfg.Name, ErrProxyExists.Status}
	}
	p := newTCPProxy(s, cfg)
	if cfg.Enabled {
		if err := p.start(); err != nil {
			return ProxyInfo{}, err
		}
	}
	s.proxies[cfg.Name] = p
	return p.info(), nil
}

// Populate creates or replaces the proxies of cfgs, as Toxiproxy's
// /populate does: a proxy that exists with the same listen address and
// upstream is kept as it is (toxics and connections included); one that
// differs is replaced. Every config is checked before anything changes.
// On error it returns the proxies handled so far.
func (s *Server) Populate(cfgs []ProxyConfig) ([]ProxyInfo, error) {
	seen := map[string]bool{}
	for i := range cfgs {
		if err := normalize(&cfgs[i]); err != nil {
			// Toxiproxy's wording: "missing required field: upstream at proxy 1".
			return nil, &Error{fmt.Sprintf("%v at proxy %d", err, i+1), statusOf(err)}
		}
		if seen[cfgs[i].Name] {
			return nil, badRequest("name %q appears twice at proxy %d", cfgs[i].Name, i+1)
		}
		seen[cfgs[i].Name] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, errClosed
	}
	out := make([]ProxyInfo, 0, len(cfgs))
	for _, cfg := range cfgs {
		if old := s.proxies[cfg.Name]; old != nil {
			if old.same(cfg) {
				out = append(out, old.info())
				continue
			}
			old.forget()
			delete(s.proxies, cfg.Name)
		}
		p := newTCPProxy(s, cfg)
		if cfg.Enabled {
			if err := p.start(); err != nil {
				return out, err
			}
		}
		s.proxies[cfg.Name] = p
		out = append(out, p.info())
	}
	return out, nil
}

// Proxies returns every proxy, sorted by name.
func (s *Server) Proxies() []ProxyInfo {
	s.mu.Lock()
	ps := make([]*tcpProxy, 0, len(s.proxies))
	for _, p := range s.proxies {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	slices.SortFunc(ps, func(a, b *tcpProxy) int { return strings.Compare(a.name, b.name) })
	out := make([]ProxyInfo, len(ps))
	for i, p := range ps {
		out[i] = p.info()
	}
	return out
}

// Proxy returns the named proxy.
func (s *Server) Proxy(name string) (ProxyInfo, error) {
	p, err := s.get(name)
	if err != nil {
		return ProxyInfo{}, err
	}
	return p.info(), nil
}

// UpdateProxy changes a proxy. A new listen address or upstream restarts
// it, closing its connections, as in Toxiproxy; disabling it closes its
// listener and its connections.
func (s *Server) UpdateProxy(name string, u ProxyUpdate) (ProxyInfo, error) {
	p, err := s.get(name)
	if err != nil {
		return ProxyInfo{}, err
	}
	if err := p.update(u); err != nil {
		return ProxyInfo{}, err
	}
	return p.info(), nil
}

// DeleteProxy stops a proxy, closes its connections and forgets it.
func (s *Server) DeleteProxy(name string) error {
	s.mu.Lock()
	p := s.proxies[name]
	delete(s.proxies, name)
	s.mu.Unlock()
	if p == nil {
		return notFound(ErrProxyNotFound, name)
	}
	p.forget()
	return nil
}

// AddToxic adds t to a proxy and applies it to its live connections. The
// server sets t.ExpiresAt from t.TTL, capped at Options.MaxTTL.
func (s *Server) AddToxic(proxy string, t Toxic) (Toxic, error) {
	if err := t.validate(); err != nil {
		return Toxic{}, err
	}
	p, err := s.get(proxy)
	if err != nil {
		return Toxic{}, err
	}
	return p.addToxic(t)
}

// UpdateToxic replaces the stream, toxicity, attributes and TTL of the
// toxic named t.Name; its type cannot change. The TTL counts again from
// now unless t has the same TTL and a non-zero ExpiresAt (a toxic read
// from the server and changed), which keeps the expiry.
func (s *Server) UpdateToxic(proxy string, t Toxic) (Toxic, error) {
	if err := t.validate(); err != nil {
		return Toxic{}, err
	}
	p, err := s.get(proxy)
	if err != nil {
		return Toxic{}, err
	}
	return p.updateToxic(t)
}

// RemoveToxic removes a toxic from a proxy and its connections.
func (s *Server) RemoveToxic(proxy, name string) error {
	p, err := s.get(proxy)
	if err != nil {
		return err
	}
	return p.removeToxic(name)
}

// Toxics returns the toxics of a proxy, in the order they were added.
func (s *Server) Toxics(proxy string) ([]Toxic, error) {
	p, err := s.get(proxy)
	if err != nil {
		return nil, err
	}
	return p.toxicList(), nil
}

// Toxic returns one toxic of a proxy.
func (s *Server) Toxic(proxy, name string) (Toxic, error) {
	p, err := s.get(proxy)
	if err != nil {
		return Toxic{}, err
	}
	for _, t := range p.toxicList() {
		if t.Name == name {
			return t, nil
		}
	}
	return Toxic{}, notFound(ErrToxicNotFound, name)
}

// Reset enables every proxy and removes every toxic, as Toxiproxy's /reset
// does. It returns the first proxy that could not listen again (all of
// them once the server is closed).
func (s *Server) Reset() error {
	s.mu.Lock()
	ps := make([]*tcpProxy, 0, len(s.proxies))
	for _, p := range s.proxies {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	var first error
	for _, p := range ps {
		p.removeAllToxics()
		enabled := true
		if err := p.update(ProxyUpdate{Enabled: &enabled}); err != nil && first == nil {
			first = fmt.Errorf("proxy %s: %w", p.name, err)
		}
	}
	return first
}

// Close shuts the server down: it stops accepting connections, removes
// every toxic (releasing the data they hold back), and waits for the
// connections to end by themselves until ctx is done; then it closes the
// rest. It returns ctx's error if it had to cut connections.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed.Store(true)
	ps := make([]*tcpProxy, 0, len(s.proxies))
	for _, p := range s.proxies {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	for _, p := range ps {
		p.closeListener()
		p.removeAllToxics()
	}
	drained := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
	}
	for _, p := range ps {
		p.stop(true)
	}
	<-drained
	return ctx.Err()
}

// normalize checks a proxy config and fills in the default listen host.
func normalize(cfg *ProxyConfig) error {
	if cfg.Name == "" {
		return badRequest("missing required field: name")
	}
	if cfg.Upstream == "" {
		return badRequest("missing required field: upstream (host:port of the service to proxy)")
	}
	if err := checkAddr("upstream", cfg.Upstream, false); err != nil {
		return err
	}
	listen, err := listenAddr(cfg.Listen)
	if err != nil {
		return err
	}
	cfg.Listen = listen
	return nil
}

// listenAddr fills in 127.0.0.1 for an empty host: a fault proxy should
// not be reachable from other machines unless asked.
func listenAddr(listen string) (string, error) {
	if listen == "" {
		return "127.0.0.1:0", nil
	}
	if err := checkAddr("listen", listen, true); err != nil {
		return "", err
	}
	host, port, _ := net.SplitHostPort(listen)
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// ListenNetwork returns the network to listen on addr with: "tcp4" for
// an IPv4 literal host, so that 0.0.0.0 binds IPv4 and is reported as
// 0.0.0.0 (with "tcp", Go binds a dual-stack [::] socket instead), "tcp"
// for anything else.
func ListenNetwork(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.To4() != nil && !strings.Contains(host, ":") {
		return "tcp4"
	}
	return "tcp"
}

func checkAddr(field, addr string, portZeroOK bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return badRequest("%s %q: want host:port, such as 127.0.0.1:6379", field, addr)
	}
	n, err := net.LookupPort("tcp", port)
	if err != nil || (n == 0 && !portZeroOK) {
		return badRequest("%s %q: invalid port %q", field, addr, port)
	}
	if field == "upstream" && host == "" {
		return badRequest("upstream %q: missing host", addr)
	}
	return nil
}
