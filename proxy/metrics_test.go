package proxy

import (
	"io"
	"net"
	"testing"
	"time"
)

func TestMetricsCountConnectionsAndBytes(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"fast", "toxic"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			tp := startProxy(t, Options{}, startEcho(t))
			if path == "toxic" {
				tp.add(Toxic{Toxicity: 1, Type: "latency", Stream: Upstream})
				tp.add(Toxic{Toxicity: 1, Type: "slicer", Attributes: map[string]int64{"average_size": 100}})
			}
			data := string(numbered(10_000))
			a, b := tp.dial(), tp.dial()
			roundTrip(t, a, data)
			roundTrip(t, b, data[:1000])
			if n := tp.metric("spof_proxy_connections_total"); n != 2 {
				t.Errorf("connections = %d, want 2", n)
			}
			if n := tp.metric("spof_proxy_connections_active"); n != 2 {
				t.Errorf("active = %d, want 2", n)
			}
			a.Close()
			tp.waitMetric("spof_proxy_connections_active", 1)
			b.Close()
			tp.waitMetric("spof_proxy_connections_active", 0)
			tp.waitMetric(`spof_proxy_bytes_total{direction="upstream"}`, 11_000)
			tp.waitMetric(`spof_proxy_bytes_total{direction="downstream"}`, 11_000)
			if n := tp.metric(`spof_proxy_errors_total{kind="io"}`); n != 0 {
				t.Errorf("io errors = %d, want 0", n)
			}
		})
	}
}

func TestMetricsToxicsActive(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, Options{}, startEcho(t))
	tp.add(Toxic{Toxicity: 1, Type: "latency"})
	tp.add(Toxic{Toxicity: 1, Type: "latency", Stream: Upstream})
	if n := tp.metric("spof_proxy_toxics_active"); n != 2 {
		t.Errorf("toxics active = %d, want 2", n)
	}
	tp.remove("latency_upstream")
	if n := tp.metric("spof_proxy_toxics_active"); n != 1 {
		t.Errorf("toxics active = %d, want 1", n)
	}
}

// The io error counter counts connections that failed, not those that a
// toxic, the proxy or a peer closed on purpose.
func TestMetricsIOErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		upstream func(t *testing.T) string
		toxic    *Toxic
		client   func(t *testing.T, c *net.TCPConn) // what the client does
		want     int64
	}{
		{
			name:     "upstream resets",
			upstream: resetAfterRead,
			client:   func(t *testing.T, c *net.TCPConn) { io.WriteString(c, "x"); io.ReadAll(c) },
			want:     1,
		},
		{
			name:     "client resets",
			upstream: func(t *testing.T) string { return startEcho(t) },
			client: func(t *testing.T, c *net.TCPConn) {
				roundTrip(t, c, "x")
				c.SetLinger(0)
				c.Close()
			},
			want: 1,
		},
		{
			name:     "upstream closes",
			upstream: func(t *testing.T) string { return startSource(t, []byte("bye")) },
			client:   func(t *testing.T, c *net.TCPConn) { io.ReadAll(c); c.Close() },
		},
		{
			name:     "limit_data closes",
			upstream: func(t *testing.T) string { return startEcho(t) },
			toxic:    &Toxic{Toxicity: 1, Type: "limit_data", Attributes: map[string]int64{"bytes": 3}},
			client:   func(t *testing.T, c *net.TCPConn) { io.WriteString(c, "hello"); io.ReadAll(c) },
		},
		{
			name:     "limit_data upstream closes",
			upstream: func(t *testing.T) string { return startEcho(t) },
			toxic:    &Toxic{Toxicity: 1, Type: "limit_data", Stream: Upstream, Attributes: map[string]int64{"bytes": 3}},
			client:   func(t *testing.T, c *net.TCPConn) { io.WriteString(c, "hello"); io.ReadAll(c) },
		},
		{
			name:     "reset_peer resets",
			upstream: func(t *testing.T) string { return startEcho(t) },
			toxic:    &Toxic{Toxicity: 1, Type: "reset_peer"},
			client:   func(t *testing.T, c *net.TCPConn) { io.WriteString(c, "hello"); io.ReadAll(c) },
		},
		{
			name:     "timeout closes",
			upstream: func(t *testing.T) string { return startEcho(t) },
			toxic:    &Toxic{Toxicity: 1, Type: "timeout", Attributes: map[string]int64{"timeout": 10}},
			client:   func(t *testing.T, c *net.TCPConn) { io.WriteString(c, "hello"); io.ReadAll(c) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Many connections, so that a race between the two directions
			// shows.
			tp := startProxy(t, Options{}, tt.upstream(t))
			if tt.toxic != nil {
				tp.add(*tt.toxic)
			}
			const conns = 20
			for range conns {
				tt.client(t, tp.dial())
			}
			tp.waitMetric("spof_proxy_connections_active", 0)
			if n, want := tp.metric(`spof_proxy_errors_total{kind="io"}`), conns*tt.want; n != want {
				t.Errorf("io errors = %d, want %d", n, want)
			}
		})
	}
}

// resetAfterRead starts a server that reads one byte and resets the
// connection.
func resetAfterRead(t *testing.T) string {
	return serveTCP(t, func(c *net.TCPConn) {
		c.Read(make([]byte, 1))
		c.SetLinger(0)
		c.Close()
	})
}

// Bytes copied on the fast path show in the counters while a long
// transfer is still going: every few megabytes.
func TestMetricsLiveBytes(t *testing.T) {
	t.Parallel()
	sink, received := startSink(t)
	tp := startProxy(t, Options{}, sink)
	c := tp.dial()
	chunk := make([]byte, 1<<20)
	sent := 0
	deadline := time.Now().Add(testTimeout)
	for tp.metric(`spof_proxy_bytes_total{direction="upstream"}`) == 0 {
		if time.Now().After(deadline) || sent >= 64*segment {
			t.Fatalf("no bytes counted after %d sent", sent)
		}
		n, err := c.Write(chunk)
		if err != nil {
			t.Fatal(err)
		}
		sent += n
	}
	c.Close()
	if got := <-received; len(got) != sent {
		t.Errorf("upstream received %d bytes, want %d", len(got), sent)
	}
	tp.waitMetric(`spof_proxy_bytes_total{direction="upstream"}`, int64(sent))
}
