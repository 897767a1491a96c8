package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// An upstream that refuses connections: each client is accepted, then
// closed; the API goes on serving; nothing is left behind. Not parallel,
// for goleak.VerifyNone.
func TestUpstreamDown(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last
	tp := startProxy(t, Options{}, refusedAddr(t))
	api := httptest.NewServer(tp.s.Handler())
	t.Cleanup(api.Close)
	client := &http.Client{Timeout: testTimeout}
	t.Cleanup(client.CloseIdleConnections)

	const clients = 20
	for i := range clients {
		c := tp.dial()
		if got, err := io.ReadAll(c); len(got) > 0 || err != nil {
			t.Fatalf("client %d: read %q, %v; want the end of the stream", i, got, err)
		}
		c.Close()
		// The API answers between connections.
		resp, err := client.Get(api.URL + "/proxies/" + tp.name)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /proxies/%s: %s", tp.name, resp.Status)
		}
	}
	if n := tp.metric(`spof_proxy_errors_total{kind="dial"}`); n != clients {
		t.Errorf("dial errors = %d, want %d", n, clients)
	}
	tp.waitMetric("spof_proxy_connections_active", 0)

	// Pointing the proxy at a live upstream mends it.
	echo := startEcho(t)
	if _, err := tp.s.UpdateProxy(tp.name, ProxyUpdate{Upstream: &echo}); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, tp.dial(), "back")
}

// countFDs returns how many file descriptors the process has open.
func countFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(entries)
}

// Ten thousand connections, fifty at a time, half of them through a toxic,
// leave no goroutine and no file descriptor behind once the server is
// closed. Not parallel: it counts the whole process's goroutines and
// descriptors.
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 connections")
	}
	const conns, concurrency = 10_000, 50
	before := countFDs(t)

	t.Run("load", func(t *testing.T) {
		tp := startProxy(t, Options{}, startEcho(t))
		// Half the connections take the toxic path, with its writer
		// goroutine; the others stay on the fast path.
		tp.add(Toxic{Toxicity: 0.5, Type: "latency"})
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		var failures sync.Map
		for i := range conns {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := echoOnce(tp.addr, fmt.Sprint(i)); err != nil {
					failures.Store(i, err)
				}
			})
		}
		wg.Wait()
		n := 0
		failures.Range(func(k, v any) bool {
			if n++; n <= 5 {
				t.Errorf("connection %v: %v", k, v)
			}
			return true
		})
		if n > 0 {
			t.Fatalf("%d of %d connections failed", n, conns)
		}
		if got := tp.metric("spof_proxy_connections_total"); got != conns {
			t.Errorf("connections = %d, want %d", got, conns)
		}
		tp.waitMetric("spof_proxy_connections_active", 0)
		if got := tp.metric(`spof_proxy_errors_total{kind="io"}`); got != 0 {
			t.Errorf("io errors = %d, want 0", got)
		}
	}) // its cleanups close the server and the echo server

	goleak.VerifyNone(t)
	// The kernel pipes that splice caches are closed when the garbage
	// collector frees them.
	const slack = 4
	waitFor(t, func() string {
		runtime.GC()
		if after := countFDs(t); after > before+slack {
			return fmt.Sprintf("%d file descriptors open, %d before the test", after, before)
		}
		return ""
	})
}

func TestCloseDrains(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, Options{}, startEcho(t))
	c := tp.dial()
	roundTrip(t, c, "before")
	tp.add(Toxic{Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 60_000}})
	io.WriteString(c, "held")
	if !held(t, c, 100*time.Millisecond) {
		t.Fatal("the data was not held back")
	}

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		closed <- tp.s.Close(ctx)
	}()

	// Close removes the toxics, which releases the data held back.
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "held" {
		t.Fatalf("read %q, %v; want the held data", got, err)
	}
	// It stopped listening before that.
	if c2, err := net.Dial("tcp", tp.addr); err == nil {
		c2.Close()
		t.Error("a new connection was accepted during Close")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial during Close: %v, want connection refused", err)
	}
	// The open connection is still served while Close waits for it.
	roundTrip(t, c, "still served")
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v with a connection open", err)
	default:
	}

	c.Close()
	if err := <-closed; err != nil {
		t.Errorf("Close = %v, want nil once the connection ended", err)
	}
	if ts, _ := tp.s.Toxics(tp.name); len(ts) != 0 {
		t.Errorf("toxics after Close: %v", ts)
	}
	if _, err := tp.s.CreateProxy(ProxyConfig{Name: "late", Upstream: "127.0.0.1:1", Enabled: true}); err == nil {
		t.Error("CreateProxy after Close succeeded")
	}
}

func TestCloseCutsWhenContextEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		cancel  bool // cancel by hand once Close is waiting
		wantErr error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, false, context.DeadlineExceeded},
		{"canceled", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tp := startProxy(t, Options{}, startEcho(t))
			c := tp.dial()
			roundTrip(t, c, "before")
			ctx, cancel := tt.ctx()
			defer cancel()
			closed := make(chan error, 1)
			go func() { closed <- tp.s.Close(ctx) }()
			roundTrip(t, c, "while closing")
			if tt.cancel {
				cancel()
			}
			if err := <-closed; !errors.Is(err, tt.wantErr) {
				t.Errorf("Close = %v, want %v", err, tt.wantErr)
			}
			// The connection was cut.
			if _, err := io.ReadAll(c); err != nil && !isReset(err) {
				t.Errorf("after Close: %v, want the end of the stream", err)
			}
		})
	}
}

// unresponsiveAddr returns a loopback address where connections hang: a
// listener whose accept queue (of length 0) is already full, so the kernel
// drops new handshakes.
func unresponsiveAddr(t *testing.T) string {
	t.Helper()
	fd, addr := boundSocket(t)
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	dial(t, addr) // fills the queue
	return addr
}

// Close cancels the dials of connections still connecting when its
// context ends; they are not counted as dial errors.
func TestCloseCancelsDials(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, Options{DialTimeout: time.Hour}, unresponsiveAddr(t))
	c := tp.dial()
	tp.waitMetric("spof_proxy_connections_active", 1)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- tp.s.Close(ctx) }()
	select {
	case err := <-closed:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close = %v, want %v", err, context.DeadlineExceeded)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close is still waiting for a dial")
	}
	if got, err := io.ReadAll(c); len(got) > 0 || err != nil {
		t.Errorf("client: read %q, %v; want the end of the stream", got, err)
	}
	if n := tp.metric(`spof_proxy_errors_total{kind="dial"}`); n != 0 {
		t.Errorf("dial errors = %d, want 0 for a dial cancelled by Close", n)
	}
}

// Disabling a proxy closes its listener and its connections; enabling it
// listens again on the same address, as in Toxiproxy.
func TestDisableEnable(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, Options{}, startEcho(t))
	c := tp.dial()
	roundTrip(t, c, "before")

	off, on := false, true
	if _, err := tp.s.UpdateProxy(tp.name, ProxyUpdate{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(c); len(got) > 0 || (err != nil && !isReset(err)) {
		t.Errorf("open connection: read %q, %v; want it closed", got, err)
	}
	if _, err := net.Dial("tcp", tp.addr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial a disabled proxy: %v, want connection refused", err)
	}

	info, err := tp.s.UpdateProxy(tp.name, ProxyUpdate{Enabled: &on})
	if err != nil {
		t.Fatal(err)
	}
	if info.Listen != tp.addr {
		t.Errorf("listening on %s again, want %s", info.Listen, tp.addr)
	}
	roundTrip(t, tp.dial(), "after")
}

// Once the server is closed nothing listens again: not a proxy enabled
// through UpdateProxy, nor by Reset. Close has waited for the goroutines
// it knew of; one started after would run for ever.
func TestNoListenAfterClose(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	if _, err := s.CreateProxy(ProxyConfig{Name: "off", Upstream: startEcho(t)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := s.UpdateProxy("off", ProxyUpdate{Enabled: &on}); !errors.Is(err, errClosed) {
		t.Errorf("UpdateProxy enabled=true after Close: err = %v, want %v", err, errClosed)
	}
	if err := s.Reset(); !errors.Is(err, errClosed) {
		t.Errorf("Reset after Close: err = %v, want %v", err, errClosed)
	}
	if info, err := s.Proxy("off"); err != nil || info.Enabled {
		t.Errorf("after Close: proxy %+v, %v; want it disabled", info, err)
	}
}
