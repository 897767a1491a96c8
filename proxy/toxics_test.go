package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spofhq/spof/proxy/proxytest"
)

func TestLatency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		toxics  []Toxic
		rand    float64 // what Options.Rand returns: the jitter draw
		atLeast time.Duration
		below   time.Duration // a generous upper bound, 0 for none
	}{
		{
			name:    "downstream",
			toxics:  []Toxic{{Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 200}}},
			atLeast: 200 * time.Millisecond,
		},
		{
			name:    "upstream",
			toxics:  []Toxic{{Toxicity: 1, Type: "latency", Stream: Upstream, Attributes: map[string]int64{"latency": 200}}},
			atLeast: 200 * time.Millisecond,
		},
		{
			name: "both streams add up",
			toxics: []Toxic{
				{Toxicity: 1, Type: "latency", Stream: Upstream, Attributes: map[string]int64{"latency": 100}},
				{Toxicity: 1, Type: "latency", Stream: Downstream, Attributes: map[string]int64{"latency": 100}},
			},
			atLeast: 200 * time.Millisecond,
		},
		{
			name: "two toxics on one stream add up",
			toxics: []Toxic{
				{Name: "a", Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 100}},
				{Name: "b", Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 100}},
			},
			atLeast: 200 * time.Millisecond,
		},
		{
			name:    "highest jitter adds it",
			toxics:  []Toxic{{Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 100, "jitter": 100}}},
			rand:    0.9999,
			atLeast: 200 * time.Millisecond,
		},
		{
			// latency - jitter is 50ms; latency alone would be 1s.
			name:    "lowest jitter takes it off",
			toxics:  []Toxic{{Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 1000, "jitter": 950}}},
			rand:    0,
			atLeast: 50 * time.Millisecond,
			below:   900 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tp := startProxy(t, Options{Rand: func() float64 { return tt.rand }}, startEcho(t))
			for _, tx := range tt.toxics {
				tp.add(tx)
			}
			c := tp.dial()
			got := roundTrip(t, c, "ping")
			if got < tt.atLeast {
				t.Errorf("round trip took %v, want at least %v", got, tt.atLeast)
			}
			if tt.below > 0 && got >= tt.below {
				t.Errorf("round trip took %v, want less than %v", got, tt.below)
			}
		})
	}
}

// A down toxic at toxicity 1 looks like a crashed server: open
// connections end with a FIN, new ones are refused (ECONNREFUSED, so a
// TCP health check sees it down), and once the toxic goes the proxy
// listens again on the same port.
func TestDown(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, Options{}, startEcho(t))
	before := tp.dial()
	roundTrip(t, before, "before")

	tp.add(Toxic{Toxicity: 1, Type: ToxicDown})
	if n, err := before.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("open connection: read returned %d, %v; want the end of the stream (FIN)", n, err)
	}
	for range 3 {
		c, err := net.DialTimeout("tcp", tp.addr, testTimeout)
		if err == nil {
			c.Close()
			t.Fatal("connecting to a down proxy succeeded, want connection refused")
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("connecting to a down proxy: %v, want connection refused", err)
		}
	}
	tp.waitMetric("spof_proxy_connections_active", 0)

	// Updating it keeps it down; lowering its toxicity listens again.
	tp.update(Toxic{Name: "down_downstream", Toxicity: 1, Type: ToxicDown})
	if c, err := net.DialTimeout("tcp", tp.addr, testTimeout); err == nil {
		c.Close()
		t.Fatal("connecting after an update succeeded, want connection refused")
	}
	tp.remove("down_downstream")
	roundTrip(t, tp.dial(), "after")
	if info, err := tp.s.Proxy(tp.name); err != nil || !info.Enabled || info.Listen != tp.addr {
		t.Errorf("after down: %+v, %v; want enabled on %s", info, err, tp.addr)
	}
}

// A down toxic that expires, or a proxy disabled and enabled while one is
// in force, leaves the proxy as the toxic says: refusing while it lasts,
// listening on the same port after.
func TestDownExpiresAndToggles(t *testing.T) {
	t.Parallel()
	clock := proxytest.NewFakeClock()
	tp := startProxy(t, Options{Clock: clock}, startEcho(t))
	tp.add(Toxic{Toxicity: 1, Type: ToxicDown, TTL: time.Minute})
	refused := func(when string) {
		t.Helper()
		c, err := net.DialTimeout("tcp", tp.addr, testTimeout)
		if err == nil {
			c.Close()
			t.Fatalf("%s: connecting succeeded, want connection refused", when)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("%s: %v, want connection refused", when, err)
		}
	}
	refused("down")
	for _, enabled := range []bool{false, true} {
		if _, err := tp.s.UpdateProxy(tp.name, ProxyUpdate{Enabled: &enabled}); err != nil {
			t.Fatal(err)
		}
		refused(fmt.Sprintf("down, enabled %v", enabled))
	}
	clock.Advance(time.Minute)
	c := tp.dial()
	roundTrip(t, c, "after the ttl")
	c.Close()
	tp.waitMetric("spof_proxy_connections_active", 0)
}

// Below toxicity 1, a down toxic accepts the connections it picks and
// closes them at once with a FIN; the others go through.
func TestDownSome(t *testing.T) {
	t.Parallel()
	var draws atomic.Int64
	// Draws alternate 0 (applies) and 0.9 (does not).
	rand := func() float64 { return float64(draws.Add(1)%2) * 0.9 }
	tp := startProxy(t, Options{Rand: rand}, startEcho(t))
	tp.add(Toxic{Toxicity: 0.5, Type: ToxicDown})
	cut, passed := 0, 0
	for range 4 {
		c := tp.dial()
		if _, err := io.WriteString(c, "x"); err != nil {
			t.Fatal(err)
		}
		n, err := io.ReadFull(c, make([]byte, 1))
		switch {
		case n == 1:
			passed++
		case err == io.EOF || isReset(err):
			cut++ // a reset when "x" reached the socket before the close
		default:
			t.Fatalf("read: %v", err)
		}
		c.Close()
	}
	if cut != 2 || passed != 2 {
		t.Errorf("cut %d, passed %d; want 2 and 2", cut, passed)
	}
	tp.waitMetric("spof_proxy_connections_active", 0)
}

func TestDownToxicityZero(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, Options{}, startEcho(t))
	c := tp.dial()
	tp.add(Toxic{Type: "down", Toxicity: 0})
	roundTrip(t, c, "still up")
	roundTrip(t, tp.dial(), "new one too")
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	for _, typ := range []ToxicType{ToxicTimeout, ToxicBlackhole} {
		t.Run(string(typ), func(t *testing.T) {
			t.Parallel()
			t.Run("downstream closes after timeout", func(t *testing.T) {
				t.Parallel()
				tp := startProxy(t, Options{}, startEcho(t))
				tp.add(Toxic{Toxicity: 1, Type: typ, Attributes: map[string]int64{"timeout": 300}})
				start := time.Now()
				c := tp.dial()
				io.WriteString(c, "swallowed")
				got, err := io.ReadAll(c)
				if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
					t.Errorf("closed after %v, want at least 300ms", elapsed)
				}
				if len(got) > 0 || err != nil {
					t.Errorf("read %q, %v; want nothing and the end of the stream", got, err)
				}
			})
			t.Run("upstream swallows what the client sends", func(t *testing.T) {
				t.Parallel()
				sink, received := startSink(t)
				tp := startProxy(t, Options{}, sink)
				tp.add(Toxic{Toxicity: 1, Type: typ, Stream: Upstream, Attributes: map[string]int64{"timeout": 100}})
				c := tp.dial()
				io.WriteString(c, "swallowed")
				if got := <-received; len(got) > 0 {
					t.Errorf("upstream received %q, want nothing", got)
				}
				if _, err := io.ReadAll(c); err != nil {
					t.Errorf("client: %v, want the end of the stream", err)
				}
			})
			t.Run("zero holds until removed", func(t *testing.T) {
				t.Parallel()
				tp := startProxy(t, Options{}, startEcho(t))
				c := tp.dial()
				roundTrip(t, c, "before")
				tx := tp.add(Toxic{Toxicity: 1, Type: typ})
				io.WriteString(c, "swallowed")
				if !held(t, c, 300*time.Millisecond) {
					t.Fatal("the connection did not stay open and silent")
				}
				// Removing the toxic closes the connection: it has lost data.
				tp.remove(tx.Name)
				if got, err := io.ReadAll(c); len(got) > 0 || err != nil {
					t.Errorf("after removal: read %q, %v; want nothing and the end of the stream", got, err)
				}
			})
		})
	}
}

func TestResetPeer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stream  string
		timeout int64
	}{
		{Downstream, 0},
		{Downstream, 200},
		{Upstream, 0},
		{Upstream, 200},
	}
	for _, tt := range tests {
		t.Run(tt.stream+"/"+time.Duration(tt.timeout*int64(time.Millisecond)).String(), func(t *testing.T) {
			t.Parallel()
			tp := startProxy(t, Options{}, startEcho(t))
			c := tp.dial()
			roundTrip(t, c, "before")
			tp.add(Toxic{Toxicity: 1, Type: "reset_peer", Stream: tt.stream, Attributes: map[string]int64{"timeout": tt.timeout}})
			start := time.Now()
			io.WriteString(c, "trigger")
			_, err := io.ReadAll(c)
			if !isReset(err) {
				t.Errorf("read returned %v, want connection reset by peer", err)
			}
			if elapsed, want := time.Since(start), time.Duration(tt.timeout)*time.Millisecond; elapsed < want {
				t.Errorf("reset after %v, want at least %v", elapsed, want)
			}
		})
	}
}

func TestBandwidth(t *testing.T) {
	t.Parallel()
	// 150 KB at 100 KB/s: 1.5s.
	const size, rate, atLeast = 150_000, 100, 1200 * time.Millisecond
	data := numbered(size)
	t.Run("downstream", func(t *testing.T) {
		t.Parallel()
		tp := startProxy(t, Options{}, startSource(t, data))
		tp.add(Toxic{Toxicity: 1, Type: "bandwidth", Attributes: map[string]int64{"rate": rate}})
		start := time.Now()
		got, err := io.ReadAll(tp.dial())
		if err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed < atLeast {
			t.Errorf("took %v, want at least %v", elapsed, atLeast)
		}
		if err := checkNumbered(got, data); err != nil {
			t.Error(err)
		}
	})
	t.Run("upstream", func(t *testing.T) {
		t.Parallel()
		sink, received := startSink(t)
		tp := startProxy(t, Options{}, sink)
		tp.add(Toxic{Toxicity: 1, Type: "bandwidth", Stream: Upstream, Attributes: map[string]int64{"rate": rate}})
		c := tp.dial()
		start := time.Now()
		if _, err := c.Write(data); err != nil {
			t.Fatal(err)
		}
		c.CloseWrite()
		got := <-received
		if elapsed := time.Since(start); elapsed < atLeast {
			t.Errorf("took %v, want at least %v", elapsed, atLeast)
		}
		if err := checkNumbered(got, data); err != nil {
			t.Error(err)
		}
	})
	t.Run("rate 0 is no limit", func(t *testing.T) {
		t.Parallel()
		tp := startProxy(t, Options{}, startSource(t, data))
		tp.add(Toxic{Toxicity: 1, Type: "bandwidth"})
		got, err := io.ReadAll(tp.dial())
		if err != nil {
			t.Fatal(err)
		}
		if err := checkNumbered(got, data); err != nil {
			t.Error(err)
		}
	})
}

func TestSlowClose(t *testing.T) {
	t.Parallel()
	const delay = 300 * time.Millisecond
	t.Run("downstream", func(t *testing.T) {
		t.Parallel()
		tp := startProxy(t, Options{}, startSource(t, []byte("bye")))
		tp.add(Toxic{Toxicity: 1, Type: "slow_close", Attributes: map[string]int64{"delay": delay.Milliseconds()}})
		start := time.Now()
		got, err := io.ReadAll(tp.dial())
		if string(got) != "bye" || err != nil {
			t.Errorf("read %q, %v; want \"bye\" and the end of the stream", got, err)
		}
		if elapsed := time.Since(start); elapsed < delay {
			t.Errorf("end of stream after %v, want at least %v", elapsed, delay)
		}
	})
	t.Run("upstream", func(t *testing.T) {
		t.Parallel()
		tp := startProxy(t, Options{}, startEcho(t))
		tp.add(Toxic{Toxicity: 1, Type: "slow_close", Stream: Upstream, Attributes: map[string]int64{"delay": delay.Milliseconds()}})
		c := tp.dial()
		roundTrip(t, c, "hi")
		start := time.Now()
		c.CloseWrite()
		// The echo server closes when it sees the end of the stream.
		got, err := io.ReadAll(c)
		if len(got) > 0 || err != nil {
			t.Errorf("read %q, %v; want the end of the stream", got, err)
		}
		if elapsed := time.Since(start); elapsed < delay {
			t.Errorf("end of stream after %v, want at least %v", elapsed, delay)
		}
	})
}

// countingReader counts the reads that returned data.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.reads++
	}
	return n, err
}

func TestSlicer(t *testing.T) {
	t.Parallel()
	data := numbered(10_000)
	t.Run("downstream", func(t *testing.T) {
		t.Parallel()
		tp := startProxy(t, Options{}, startSource(t, data))
		// About 128 pieces of 50 to 150 bytes, 1ms apart.
		tp.add(Toxic{Toxicity: 1, Type: "slicer", Attributes: map[string]int64{"average_size": 100, "size_variation": 50, "delay": 1000}})
		cr := &countingReader{r: tp.dial()}
		got, err := io.ReadAll(cr)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkNumbered(got, data); err != nil {
			t.Error(err)
		}
		if cr.reads < 10 {
			t.Errorf("data arrived in %d reads, want it sliced into many", cr.reads)
		}
	})
	t.Run("upstream without delay", func(t *testing.T) {
		t.Parallel()
		tp := startProxy(t, Options{}, startEcho(t))
		tp.add(Toxic{Toxicity: 1, Type: "slicer", Stream: Upstream, Attributes: map[string]int64{"average_size": 7, "size_variation": 3}})
		roundTrip(t, tp.dial(), string(data))
	})
}

func TestSlice(t *testing.T) {
	tests := []struct {
		average, variation int64
		n                  int
		rand               float64
		want               []int
	}{
		{average: 0, n: 100, want: []int{100}},
		{average: 10, variation: 5, n: 15, want: []int{15}},
		{average: 10, n: 40, want: []int{10, 20, 30, 40}},
		{average: 10, n: 35, want: []int{8, 17, 26, 35}},
		// rand 0 moves every cut down by the variation.
		{average: 10, variation: 2, n: 40, rand: 0, want: []int{7, 18, 27, 31, 40}},
	}
	for _, tt := range tests {
		got := slice(tt.average, tt.variation, tt.n, func() float64 { return tt.rand })
		if !slices.Equal(got, tt.want) {
			t.Errorf("slice(%d, %d, %d) = %v, want %v", tt.average, tt.variation, tt.n, got, tt.want)
		}
		for i, end := range got {
			start := 0
			if i > 0 {
				start = got[i-1]
			}
			if end <= start {
				t.Errorf("slice(%d, %d, %d): empty or backward piece %d..%d", tt.average, tt.variation, tt.n, start, end)
			}
		}
	}
}

func TestLimitData(t *testing.T) {
	t.Parallel()
	data := numbered(1000)
	tests := []struct {
		name   string
		stream string
		limit  int64
		want   int
	}{
		{"downstream", Downstream, 100, 100},
		{"upstream", Upstream, 100, 100},
		{"zero", Downstream, 0, 0},
		{"more than sent", Downstream, 5000, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []byte
			var tp *testProxy
			tx := Toxic{Toxicity: 1, Type: "limit_data", Stream: tt.stream, Attributes: map[string]int64{"bytes": tt.limit}}
			if tt.stream == Downstream {
				tp = startProxy(t, Options{}, startSource(t, data))
				tp.add(tx)
				c := tp.dial()
				var err error
				if got, err = io.ReadAll(c); err != nil {
					t.Fatal(err)
				}
				c.Close() // the upstream closed: end the other direction too
			} else {
				sink, received := startSink(t)
				tp = startProxy(t, Options{}, sink)
				tp.add(tx)
				c := tp.dial()
				c.Write(data)
				got = <-received
			}
			if !bytes.Equal(got, data[:tt.want]) {
				t.Errorf("got %d bytes, want the first %d of what was sent", len(got), tt.want)
			}
			tp.waitMetric("spof_proxy_connections_active", 0)
			if n := tp.metric(`spof_proxy_errors_total{kind="io"}`); n != 0 {
				t.Errorf("io errors = %d, want 0: the toxic closed the connection, nothing failed", n)
			}
		})
	}
}

func TestToxicity(t *testing.T) {
	t.Parallel()
	data := numbered(100)
	limit := func(toxicity float64) Toxic {
		return Toxic{Type: "limit_data", Toxicity: toxicity, Attributes: map[string]int64{"bytes": 10}}
	}
	read := func(t *testing.T, tp *testProxy) int {
		t.Helper()
		got, err := io.ReadAll(tp.dial())
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	t.Run("zero never applies", func(t *testing.T) {
		t.Parallel()
		tp := startProxy(t, Options{}, startSource(t, data))
		tp.add(limit(0))
		for range 5 {
			if n := read(t, tp); n != len(data) {
				t.Fatalf("read %d bytes, want all %d", n, len(data))
			}
		}
	})
	t.Run("one always applies", func(t *testing.T) {
		t.Parallel()
		tp := startProxy(t, Options{}, startSource(t, data))
		tp.add(limit(1))
		for range 5 {
			if n := read(t, tp); n != 10 {
				t.Fatalf("read %d bytes, want 10", n)
			}
		}
	})
	t.Run("drawn once per connection", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int64
		draws := []float64{0.3, 0.7} // below then above the toxicity
		rand := func() float64 { return draws[(calls.Add(1)-1)%2] }
		tp := startProxy(t, Options{Rand: rand}, startSource(t, data))
		tp.add(limit(0.5))
		for i, want := range []int{10, 100, 10, 100} {
			if n := read(t, tp); n != want {
				t.Errorf("connection %d: read %d bytes, want %d", i, n, want)
			}
		}
	})
}

// A toxic's stream picks the direction it applies to; the other direction
// is untouched. The upstream server greets, then reads until the end of
// the stream; a timeout toxic swallows one direction.
func TestStreams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stream                 string
		clientGets, serverGets string
	}{
		{Upstream, "hello", ""},
		{Downstream, "", "ping"},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			t.Parallel()
			received := make(chan string, 1)
			upstream := serveTCP(t, func(c *net.TCPConn) {
				io.WriteString(c, "hello")
				data, _ := io.ReadAll(c)
				received <- string(data)
			})
			tp := startProxy(t, Options{}, upstream)
			tp.add(Toxic{Toxicity: 1, Type: "timeout", Stream: tt.stream})
			c := tp.dial()
			io.WriteString(c, "ping")
			c.CloseWrite()
			if got := <-received; got != tt.serverGets {
				t.Errorf("server got %q, want %q", got, tt.serverGets)
			}
			got, err := io.ReadAll(c)
			if string(got) != tt.clientGets || err != nil {
				t.Errorf("client got %q, %v; want %q and the end of the stream", got, err, tt.clientGets)
			}
		})
	}
}

// Changing a timeout toxic's timeout re-arms its closer: from 0 (never)
// to 200ms closes the connection 200ms after the update.
func TestTimeoutUpdate(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, Options{}, startEcho(t))
	c := tp.dial()
	tx := tp.add(Toxic{Toxicity: 1, Type: "timeout"})
	if !held(t, c, 100*time.Millisecond) {
		t.Fatal("the connection did not stay open and silent")
	}
	tx.Attributes = map[string]int64{"timeout": 200}
	start := time.Now()
	tp.update(tx)
	if got, err := io.ReadAll(c); len(got) > 0 || err != nil {
		t.Errorf("read %q, %v; want nothing and the end of the stream", got, err)
	}
	if elapsed := time.Since(start); elapsed < 200*time.Millisecond {
		t.Errorf("closed %v after the update, want at least 200ms", elapsed)
	}
}

// A timeout toxic that an update stops applying to a connection, by a new
// toxicity or stream, closes it as a removal does: the data it swallowed
// is lost, so no later byte may arrive as if it followed.
func TestTimeoutStopsApplying(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Toxic)
	}{
		{"toxicity 0", func(tx *Toxic) { tx.Toxicity = 0 }},
		{"other stream", func(tx *Toxic) { tx.Stream = Downstream }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			received := make(chan []byte, 1)
			upstream := serveTCP(t, func(c *net.TCPConn) {
				io.WriteString(c, "hi")
				data, _ := io.ReadAll(c)
				received <- data
			})
			tp := startProxy(t, Options{}, upstream)
			c := tp.dial()
			// The greeting came through: the connection is live, so the
			// toxic applies to it from the start.
			got := make([]byte, 2)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "hi" {
				t.Fatalf("greeting = %q, %v; want hi", got, err)
			}
			tx := tp.add(Toxic{Toxicity: 1, Type: "timeout", Stream: Upstream})
			io.WriteString(c, "lost")
			tt.change(&tx)
			tp.update(tx)
			// The connection is closed: the write may fail, and the
			// client sees the end of the stream or a reset.
			io.WriteString(c, "next")
			c.CloseWrite()
			if got := <-received; len(got) > 0 {
				t.Errorf("after the update, the upstream received %q, want nothing", got)
			}
			if got, err := io.ReadAll(c); len(got) > 0 || (err != nil && !isReset(err)) {
				t.Errorf("after the update, the client read %q, %v; want nothing and the end of the connection", got, err)
			}
		})
	}
}
