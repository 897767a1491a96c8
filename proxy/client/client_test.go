package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/proxy"
	"github.com/spofhq/spof/proxy/client"
	"github.com/spofhq/spof/proxy/proxytest"
)

// newAPI serves a fresh proxy.Server on a loopback listener and returns it
// with a client of its API. Cleanup checks that every connection through
// its proxies ended: a test that leaves one open fails.
func newAPI(t *testing.T, opts proxy.Options) (*proxy.Server, *client.Client) {
	t.Helper()
	srv := proxy.New(opts)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("closing the proxy server: %v (a connection was left open)", err)
		}
	})
	return srv, client.New(hs.URL)
}

// echoServer starts a TCP server on loopback that sends back what it
// reads, and returns its address.
func echoServer(t *testing.T) string {
	t.Helper()
	return proxytest.Serve(t, proxytest.Echo)
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// exchange connects to addr, sends msg, half-closes, and returns what
// comes back until the connection ends, with the error that ended it
// (nil for a clean EOF).
func exchange(t *testing.T, addr, msg string) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		// A reset can come before connect returns.
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	return string(got), err
}

func TestVersion(t *testing.T) {
	_, c := newAPI(t, proxy.Options{})
	got, err := c.Version(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got != proxy.Version {
		t.Errorf("Version = %q, want %q", got, proxy.Version)
	}
}

func TestNewWithoutScheme(t *testing.T) {
	srv := proxy.New(proxy.Options{})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c := client.New(strings.TrimPrefix(hs.URL, "http://") + "/")
	if _, err := c.Version(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestWithHTTPClient(t *testing.T) {
	srv := proxy.New(proxy.Options{})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	var n int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n++
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := client.New(hs.URL, client.WithHTTPClient(hc))
	if _, err := c.Proxies(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("the given http.Client sent %d requests, want 1", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestProxyLifecycle(t *testing.T) {
	ctx := t.Context()
	_, c := newAPI(t, proxy.Options{})
	up := echoServer(t)

	var created []proxy.ProxyInfo
	for _, name := range []string{"b", "a", "c"} {
		p, err := c.CreateProxy(ctx, proxy.ProxyConfig{Name: name, Upstream: up, Enabled: true})
		if err != nil {
			t.Fatalf("CreateProxy %s: %v", name, err)
		}
		if _, port, _ := net.SplitHostPort(p.Listen); !strings.HasPrefix(p.Listen, "127.0.0.1:") || port == "0" {
			t.Errorf("CreateProxy %s: listen %q, want 127.0.0.1 and the port chosen", name, p.Listen)
		}
		if p.Name != name || p.Upstream != up || !p.Enabled || len(p.Toxics) != 0 {
			t.Errorf("CreateProxy %s = %+v", name, p)
		}
		created = append(created, p)
	}

	list, err := c.Proxies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []proxy.ProxyInfo{created[1], created[0], created[2]}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("Proxies (-want +got):\n%s", diff)
	}

	got, err := c.Proxy(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(created[1], got); diff != "" {
		t.Errorf("Proxy a (-want +got):\n%s", diff)
	}
	if out, err := exchange(t, got.Listen, "through a"); err != nil || out != "through a" {
		t.Errorf("echo through proxy a = %q, %v", out, err)
	}

	// Disable: nothing listens; enable: it listens again on the same port.
	off, on := false, true
	p, err := c.UpdateProxy(ctx, "a", proxy.ProxyUpdate{Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	if p.Enabled {
		t.Errorf("UpdateProxy enabled=false: still enabled: %+v", p)
	}
	if c, err := net.Dial("tcp", got.Listen); err == nil {
		c.Close()
		t.Errorf("disabled proxy a still accepts connections on %s", got.Listen)
	}
	p, err = c.UpdateProxy(ctx, "a", proxy.ProxyUpdate{Enabled: &on})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Enabled || p.Listen != got.Listen {
		t.Errorf("UpdateProxy enabled=true = %+v, want enabled on %s", p, got.Listen)
	}

	// A new upstream: only that field changes.
	other := echoServer(t)
	p, err = c.UpdateProxy(ctx, "a", proxy.ProxyUpdate{Upstream: &other})
	if err != nil {
		t.Fatal(err)
	}
	if p.Upstream != other || p.Listen != got.Listen || !p.Enabled {
		t.Errorf("UpdateProxy upstream = %+v, want upstream %s on %s", p, other, got.Listen)
	}

	if err := c.DeleteProxy(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Proxy(ctx, "a"); !errors.Is(err, proxy.ErrProxyNotFound) {
		t.Errorf("Proxy after DeleteProxy: err = %v, want proxy not found", err)
	}
	list, err = c.Proxies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "b" || list[1].Name != "c" {
		t.Errorf("Proxies after DeleteProxy = %+v, want b and c", list)
	}
}

func TestToxics(t *testing.T) {
	ctx := t.Context()
	clock := proxytest.NewFakeClock()
	srv, c := newAPI(t, proxy.Options{Clock: clock, MaxTTL: time.Hour})
	if _, err := c.CreateProxy(ctx, proxy.ProxyConfig{Name: "redis", Upstream: echoServer(t), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	t0 := clock.Now()

	// Defaults come back filled in; the TTL sets the expiry.
	lat, err := c.AddToxic(ctx, "redis", proxy.Toxic{Type: "latency", Toxicity: 1, Attributes: map[string]int64{"latency": 100}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want := proxy.Toxic{Name: "latency_downstream", Type: "latency", Stream: proxy.Downstream, Toxicity: 1,
		Attributes: map[string]int64{"latency": 100, "jitter": 0}, TTL: time.Minute, ExpiresAt: t0.Add(time.Minute)}
	if diff := cmp.Diff(want, lat); diff != "" {
		t.Errorf("AddToxic latency (-want +got):\n%s", diff)
	}

	// No TTL: the server's maximum applies.
	bw, err := c.AddToxic(ctx, "redis", proxy.Toxic{Name: "slow", Type: "bandwidth", Stream: proxy.Upstream, Toxicity: 0.5, Attributes: map[string]int64{"rate": 64}})
	if err != nil {
		t.Fatal(err)
	}
	if bw.TTL != time.Hour || !bw.ExpiresAt.Equal(t0.Add(time.Hour)) || bw.Stream != proxy.Upstream || bw.Toxicity != 0.5 {
		t.Errorf("AddToxic bandwidth without ttl = %+v, want ttl 1h (the maximum), upstream, toxicity 0.5", bw)
	}

	// What the client reads is what the server holds, exactly.
	list, err := c.Toxics(ctx, "redis")
	if err != nil {
		t.Fatal(err)
	}
	held, err := srv.Toxics("redis")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(held, list); diff != "" {
		t.Errorf("Toxics differs from the server's (-server +client):\n%s", diff)
	}
	// Toxiproxy's order: upstream toxics first.
	if len(list) != 2 || list[0].Name != "slow" || list[1].Name != "latency_downstream" {
		t.Errorf("Toxics = %+v, want slow (upstream) then latency_downstream", list)
	}
	one, err := c.Toxic(ctx, "redis", "slow")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(bw, one); diff != "" {
		t.Errorf("Toxic slow (-want +got):\n%s", diff)
	}

	// A toxic read back and changed keeps its expiry...
	clock.Advance(10 * time.Second)
	lat.Attributes["latency"] = 250
	upd, err := c.UpdateToxic(ctx, "redis", lat)
	if err != nil {
		t.Fatal(err)
	}
	if upd.Attributes["latency"] != 250 || !upd.ExpiresAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("UpdateToxic of a read toxic = %+v, want latency 250 and the expiry kept (%s)", upd, t0.Add(time.Minute))
	}
	// ... a new TTL counts from now...
	upd.TTL = 2 * time.Minute
	upd, err = c.UpdateToxic(ctx, "redis", upd)
	if err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(10 * time.Second)
	if upd.TTL != 2*time.Minute || !upd.ExpiresAt.Equal(t1.Add(2*time.Minute)) {
		t.Errorf("UpdateToxic with a new ttl = %+v, want ttl 2m expiring at %s", upd, t1.Add(2*time.Minute))
	}
	// ... and a zero ExpiresAt restarts the same TTL: the dead man's switch.
	clock.Advance(30 * time.Second)
	upd.ExpiresAt = time.Time{}
	upd, err = c.UpdateToxic(ctx, "redis", upd)
	if err != nil {
		t.Fatal(err)
	}
	t2 := t1.Add(30 * time.Second)
	if !upd.ExpiresAt.Equal(t2.Add(2 * time.Minute)) {
		t.Errorf("UpdateToxic with ExpiresAt zero: expires at %s, want %s", upd.ExpiresAt, t2.Add(2*time.Minute))
	}

	// The latency toxic expires at t2+2m, not a nanosecond before; the
	// bandwidth one lives on.
	clock.Advance(2*time.Minute - time.Nanosecond)
	if list, err := c.Toxics(ctx, "redis"); err != nil || len(list) != 2 {
		t.Errorf("Toxics just before the latency TTL = %+v, %v; want both", list, err)
	}
	clock.Advance(time.Nanosecond)
	list, err = c.Toxics(ctx, "redis")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "slow" {
		t.Errorf("Toxics after the latency TTL = %+v, want only slow", list)
	}
	if err := c.RemoveToxic(ctx, "redis", "slow"); err != nil {
		t.Fatal(err)
	}
	list, err = c.Toxics(ctx, "redis")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("Toxics after RemoveToxic = %+v, want none", list)
	}
}

// TestThroughProxy sends real data through a proxy while toxics come and
// go.
func TestThroughProxy(t *testing.T) {
	ctx := t.Context()
	_, c := newAPI(t, proxy.Options{})
	p, err := c.CreateProxy(ctx, proxy.ProxyConfig{Name: "echo", Upstream: echoServer(t), Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := exchange(t, p.Listen, "hello world"); err != nil || got != "hello world" {
		t.Fatalf("no toxic: got %q, %v; want the echo", got, err)
	}

	// limit_data: the answer is cut after 5 bytes.
	if _, err := c.AddToxic(ctx, "echo", proxy.Toxic{Name: "cut", Type: "limit_data", Toxicity: 1, Attributes: map[string]int64{"bytes": 5}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := exchange(t, p.Listen, "hello world"); got != "hello" {
		t.Errorf("limit_data 5: got %q, want %q", got, "hello")
	}
	if err := c.RemoveToxic(ctx, "echo", "cut"); err != nil {
		t.Fatal(err)
	}

	// down: connections are refused with a reset, nothing comes back.
	if _, err := c.AddToxic(ctx, "echo", proxy.Toxic{Type: "down", Toxicity: 1}); err != nil {
		t.Fatal(err)
	}
	got, err := exchange(t, p.Listen, "hello")
	if got != "" || err == nil {
		t.Errorf("down: got %q, %v; want nothing and a reset", got, err)
	}

	// Reset removes it: the echo is back.
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := exchange(t, p.Listen, "again"); err != nil || got != "again" {
		t.Errorf("after Reset: got %q, %v; want the echo", got, err)
	}
}

func TestPopulate(t *testing.T) {
	ctx := t.Context()
	_, c := newAPI(t, proxy.Options{})
	up1, up2 := echoServer(t), echoServer(t)

	got, err := c.Populate(ctx, []proxy.ProxyConfig{
		{Name: "redis", Upstream: up1, Enabled: true},
		{Name: "pg", Upstream: up2, Enabled: false},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "redis" || !got[0].Enabled || got[1].Name != "pg" || got[1].Enabled {
		t.Fatalf("Populate = %+v, want redis enabled then pg disabled", got)
	}
	redisAddr := got[0].Listen
	if _, err := c.AddToxic(ctx, "redis", proxy.Toxic{Type: "latency", Toxicity: 1}); err != nil {
		t.Fatal(err)
	}

	// Populating the same proxy again keeps it, toxic included; a changed
	// upstream replaces pg.
	got, err = c.Populate(ctx, []proxy.ProxyConfig{
		{Name: "redis", Upstream: up1, Enabled: true},
		{Name: "pg", Upstream: up1, Enabled: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Listen != redisAddr || len(got[0].Toxics) != 1 {
		t.Errorf("Populate again: redis = %+v, want it kept on %s with its toxic", got[0], redisAddr)
	}
	if got[1].Upstream != up1 || !got[1].Enabled {
		t.Errorf("Populate again: pg = %+v, want upstream %s, enabled", got[1], up1)
	}

	// A bad config changes nothing.
	_, err = c.Populate(ctx, []proxy.ProxyConfig{
		{Name: "new", Upstream: up1, Enabled: true},
		{Name: "bad", Upstream: "nowhere", Enabled: true},
	})
	var pe *proxy.Error
	if !errors.As(err, &pe) || pe.Status != http.StatusBadRequest || !strings.Contains(pe.Message, `upstream "nowhere": want host:port`) {
		t.Errorf("Populate with a bad upstream: err = %#v, want a 400 naming the upstream", err)
	}
	if _, err := c.Proxy(ctx, "new"); !errors.Is(err, proxy.ErrProxyNotFound) {
		t.Errorf("after a rejected Populate, proxy new: err = %v, want not found", err)
	}

	// A listen address in use: 409, with the proxies handled before it.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	got, err = c.Populate(ctx, []proxy.ProxyConfig{
		{Name: "first", Upstream: up1, Enabled: true},
		{Name: "clash", Listen: busy.Addr().String(), Upstream: up1, Enabled: true},
	})
	if !errors.As(err, &pe) || pe.Status != http.StatusConflict || !strings.Contains(pe.Message, "address already in use") {
		t.Errorf("Populate with a listen address in use: err = %v, want a 409", err)
	}
	if len(got) != 1 || got[0].Name != "first" {
		t.Errorf("Populate with a listen address in use = %+v, want the proxy handled before (first)", got)
	}
}

func TestReset(t *testing.T) {
	ctx := t.Context()
	_, c := newAPI(t, proxy.Options{})
	up := echoServer(t)
	for _, name := range []string{"a", "b"} {
		if _, err := c.CreateProxy(ctx, proxy.ProxyConfig{Name: name, Upstream: up, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	off := false
	if _, err := c.UpdateProxy(ctx, "a", proxy.ProxyUpdate{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddToxic(ctx, "b", proxy.Toxic{Type: "timeout", Toxicity: 1}); err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := c.Proxies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		if !p.Enabled || len(p.Toxics) != 0 {
			t.Errorf("after Reset, %s = %+v, want enabled without toxics", p.Name, p)
		}
	}
}

// TestServerErrors checks that every method returns the server's error as
// a *proxy.Error that errors.Is recognises.
func TestServerErrors(t *testing.T) {
	ctx := t.Context()
	_, c := newAPI(t, proxy.Options{})
	up := echoServer(t)
	if _, err := c.CreateProxy(ctx, proxy.ProxyConfig{Name: "redis", Upstream: up}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddToxic(ctx, "redis", proxy.Toxic{Name: "lat", Type: "latency", Toxicity: 1}); err != nil {
		t.Fatal(err)
	}
	yes := true
	tests := []struct {
		name   string
		call   func() error
		is     error // nil: only the status and message are checked
		status int
		msg    string
	}{
		{"Proxy", func() error { _, err := c.Proxy(ctx, "nope"); return err }, proxy.ErrProxyNotFound, 404, "proxy not found: nope"},
		{"UpdateProxy", func() error { _, err := c.UpdateProxy(ctx, "nope", proxy.ProxyUpdate{Enabled: &yes}); return err }, proxy.ErrProxyNotFound, 404, "proxy not found: nope"},
		{"DeleteProxy", func() error { return c.DeleteProxy(ctx, "nope") }, proxy.ErrProxyNotFound, 404, "proxy not found: nope"},
		{"CreateProxy exists", func() error {
			_, err := c.CreateProxy(ctx, proxy.ProxyConfig{Name: "redis", Upstream: up})
			return err
		}, proxy.ErrProxyExists, 409, "proxy already exists: redis"},
		{"CreateProxy no upstream", func() error { _, err := c.CreateProxy(ctx, proxy.ProxyConfig{Name: "x"}); return err }, nil, 400,
			"missing required field: upstream (host:port of the service to proxy)"},
		{"Toxics", func() error { _, err := c.Toxics(ctx, "nope"); return err }, proxy.ErrProxyNotFound, 404, "proxy not found: nope"},
		{"Toxic", func() error { _, err := c.Toxic(ctx, "redis", "nope"); return err }, proxy.ErrToxicNotFound, 404, "toxic not found: nope"},
		{"AddToxic no proxy", func() error {
			_, err := c.AddToxic(ctx, "nope", proxy.Toxic{Type: "latency", Toxicity: 1})
			return err
		}, proxy.ErrProxyNotFound, 404, "proxy not found: nope"},
		{"AddToxic exists", func() error {
			_, err := c.AddToxic(ctx, "redis", proxy.Toxic{Name: "lat", Type: "latency", Toxicity: 1})
			return err
		}, proxy.ErrToxicExists, 409, "toxic already exists: lat"},
		{"AddToxic bad type", func() error { _, err := c.AddToxic(ctx, "redis", proxy.Toxic{Type: "lag", Toxicity: 1}); return err }, nil, 400,
			`invalid toxic type "lag" (want one of: bandwidth, blackhole, down, latency, limit_data, reset_peer, slicer, slow_close, timeout)`},
		{"AddToxic bad attribute", func() error {
			_, err := c.AddToxic(ctx, "redis", proxy.Toxic{Type: "latency", Toxicity: 1, Attributes: map[string]int64{"delay": 5}})
			return err
		}, nil, 400, `latency toxic has no attribute "delay" (attributes: jitter, latency)`},
		{"UpdateToxic missing", func() error {
			_, err := c.UpdateToxic(ctx, "redis", proxy.Toxic{Name: "nope", Type: "latency", Toxicity: 1})
			return err
		}, proxy.ErrToxicNotFound, 404, "toxic not found: nope"},
		{"UpdateToxic missing with expiry", func() error {
			_, err := c.UpdateToxic(ctx, "redis", proxy.Toxic{Name: "nope", Type: "latency", Toxicity: 1, ExpiresAt: time.Now()})
			return err
		}, proxy.ErrToxicNotFound, 404, "toxic not found: nope"},
		{"UpdateToxic type", func() error {
			_, err := c.UpdateToxic(ctx, "redis", proxy.Toxic{Name: "lat", Type: "bandwidth", Toxicity: 1})
			return err
		}, nil, 400, "toxic lat is a latency toxic: its type cannot change (remove it and add a new one)"},
		{"RemoveToxic", func() error { return c.RemoveToxic(ctx, "redis", "nope") }, proxy.ErrToxicNotFound, 404, "toxic not found: nope"},
		{"RemoveToxic no proxy", func() error { return c.RemoveToxic(ctx, "nope", "lat") }, proxy.ErrProxyNotFound, 404, "proxy not found: nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var pe *proxy.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want a *proxy.Error", err, err)
			}
			if pe.Status != tt.status || pe.Message != tt.msg {
				t.Errorf("err = %d %q, want %d %q", pe.Status, pe.Message, tt.status, tt.msg)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	addr := freeAddr(t)
	c := client.New("http://" + addr)
	_, err := c.Proxies(t.Context())
	want := fmt.Sprintf("proxy API at http://%s unreachable: dial tcp %s: connect: connection refused (is `spof proxy` running?)", addr, addr)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("errors.Is(err, ECONNREFUSED) = false for %v", err)
	}
}

func TestCanceled(t *testing.T) {
	_, c := newAPI(t, proxy.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := c.Reset(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), ": POST /reset: ") {
		t.Errorf("err = %v, want context.Canceled naming POST /reset", err)
	}
}

// TestForeignAnswers checks answers that are not the proxy API's: a
// plain-text error, a page where JSON was expected, a plain-text version
// (older Toxiproxy).
func TestForeignAnswers(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "2.1.4\n") })
	mux.HandleFunc("GET /proxies", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>hello</html>") })
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream connect error", http.StatusBadGateway)
	})
	mux.HandleFunc("DELETE /proxies/x", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	hs := httptest.NewServer(mux)
	defer hs.Close()
	c := client.New(hs.URL)
	ctx := t.Context()

	if v, err := c.Version(ctx); err != nil || v != "2.1.4" {
		t.Errorf("Version = %q, %v; want 2.1.4", v, err)
	}
	_, err := c.Proxies(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "proxy API at "+hs.URL+`: GET /proxies: unexpected answer "<html>hello</html>": `) {
		t.Errorf("Proxies from a web page: err = %v", err)
	}
	err = c.Reset(ctx)
	var pe *proxy.Error
	if !errors.As(err, &pe) || pe.Status != http.StatusBadGateway || pe.Message != "POST "+hs.URL+"/reset: 502 Bad Gateway upstream connect error" {
		t.Errorf("Reset from a gateway: err = %#v", err)
	}
	err = c.DeleteProxy(ctx, "x")
	if !errors.As(err, &pe) || pe.Status != http.StatusServiceUnavailable || pe.Message != "DELETE "+hs.URL+"/proxies/x: 503 Service Unavailable Service Unavailable" {
		t.Errorf("DeleteProxy with an empty 503: err = %#v", err)
	}
}

// TestToxicJSON checks that a toxic survives JSON both ways exactly: the
// bytes the server writes decode and encode back to the same bytes, and a
// Toxic encodes and decodes back to an equal value.
func TestToxicJSON(t *testing.T) {
	wire := []string{
		`{"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1,"attributes":{"jitter":0,"latency":100}}`,
		`{"name":"slow","type":"bandwidth","stream":"upstream","toxicity":0.25,"attributes":{"rate":64},"ttl":"1m30s","expires_at":"2026-03-01T12:01:30.123456789Z"}`,
		`{"name":"down_downstream","type":"down","stream":"downstream","toxicity":1,"attributes":{},"ttl":"15m0s","expires_at":"2026-03-01T12:15:00Z"}`,
	}
	for _, in := range wire {
		var tx proxy.Toxic
		if err := json.Unmarshal([]byte(in), &tx); err != nil {
			t.Fatalf("decoding %s: %v", in, err)
		}
		out, err := json.Marshal(tx)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != in {
			t.Errorf("round trip:\n got %s\nwant %s", out, in)
		}
	}

	values := []proxy.Toxic{
		{Name: "a", Type: "slicer", Stream: proxy.Upstream, Toxicity: 0.1, Attributes: map[string]int64{"average_size": 10, "size_variation": 5, "delay": 3}},
		{Name: "b", Type: "timeout", Stream: proxy.Downstream, Toxicity: 1, Attributes: map[string]int64{"timeout": 0},
			TTL: 90 * time.Second, ExpiresAt: time.Date(2026, 3, 1, 13, 0, 0, 1, time.FixedZone("CET", 3600))},
	}
	for _, v := range values {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back proxy.Toxic
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, back); diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", data, diff)
		}
	}

	var tx proxy.Toxic
	err := json.Unmarshal([]byte(`{"name":"x","type":"latency","ttl":"soon"}`), &tx)
	if err == nil || err.Error() != `toxic x: ttl "soon": want a duration such as "30s" or "5m"` {
		t.Errorf("bad ttl: err = %v", err)
	}
}

// UpdateToxic sends one request, also when it keeps the expiry: the server
// decides from the ttl and expires_at sent.
func TestUpdateToxicOneRequest(t *testing.T) {
	ctx := t.Context()
	clock := proxytest.NewFakeClock()
	srv := proxy.New(proxy.Options{Clock: clock})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	defer srv.Close(ctx)
	var requests []string
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		requests = append(requests, r.Method+" "+r.URL.Path)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := client.New(hs.URL, client.WithHTTPClient(hc))
	if _, err := c.CreateProxy(ctx, proxy.ProxyConfig{Name: "redis", Upstream: echoServer(t)}); err != nil {
		t.Fatal(err)
	}
	tx, err := c.AddToxic(ctx, "redis", proxy.Toxic{Type: "latency", Toxicity: 1, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	requests = nil
	tx.Attributes["latency"] = 5
	got, err := c.UpdateToxic(ctx, "redis", tx)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpiresAt.Equal(tx.ExpiresAt) {
		t.Errorf("expires at %s, want %s (kept)", got.ExpiresAt, tx.ExpiresAt)
	}
	if want := []string{"POST /proxies/redis/toxics/latency_downstream"}; !slices.Equal(requests, want) {
		t.Errorf("requests = %q, want %q", requests, want)
	}
}

// Limits reads the server's maximum TTL, zero for none; a server without
// /spof/limits (Toxiproxy) gives ErrNoLimits.
func TestLimits(t *testing.T) {
	for _, maxTTL := range []time.Duration{0, 90 * time.Second} {
		_, c := newAPI(t, proxy.Options{MaxTTL: maxTTL})
		got, err := c.Limits(t.Context())
		if err != nil || got.MaxTTL != maxTTL {
			t.Errorf("MaxTTL %v: Limits = %+v, %v", maxTTL, got, err)
		}
	}
	hs := httptest.NewServer(http.NotFoundHandler())
	defer hs.Close()
	if _, err := client.New(hs.URL).Limits(t.Context()); !errors.Is(err, client.ErrNoLimits) {
		t.Errorf("from a server without /spof/limits: err = %v, want ErrNoLimits", err)
	}
}

// A server with a token: the client sends the one of WithToken, else the
// one in $SPOF_PROXY_TOKEN; without it, the 401 says how to give it.
func TestToken(t *testing.T) {
	srv := proxy.New(proxy.Options{APIToken: []byte("tok-123")})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	ctx := t.Context()

	t.Setenv(client.TokenEnv, "")
	_, err := client.New(hs.URL).Proxies(ctx)
	var pe *proxy.Error
	if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized || !strings.HasSuffix(pe.Message, "(set $SPOF_PROXY_TOKEN to the server's token)") {
		t.Errorf("without a token: err = %v", err)
	}
	if _, err := client.New(hs.URL, client.WithToken("tok-123")).Proxies(ctx); err != nil {
		t.Errorf("WithToken: %v", err)
	}
	t.Setenv(client.TokenEnv, "tok-123\n")
	if _, err := client.New(hs.URL).Proxies(ctx); err != nil {
		t.Errorf("$SPOF_PROXY_TOKEN: %v", err)
	}
	_, err = client.New(hs.URL, client.WithToken("other")).Proxies(ctx)
	if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized || !strings.Contains(pe.Message, "is not the server's") {
		t.Errorf("WithToken overrides the environment, with a wrong token: err = %v", err)
	}
}
