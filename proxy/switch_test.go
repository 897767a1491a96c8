package proxy

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Toxics added, changed and removed on a live connection take effect on
// it without dropping it.
func TestToxicChangesKeepTheConnection(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, Options{}, startEcho(t))
	c := tp.dial()
	roundTrip(t, c, "fast path")

	slow := Toxic{Name: "slow", Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 200}}
	tp.add(slow)
	if d := roundTrip(t, c, "with latency"); d < 200*time.Millisecond {
		t.Errorf("round trip with latency 200ms took %v", d)
	}

	slow.Attributes["latency"] = 0
	tp.update(slow)
	roundTrip(t, c, "latency 0")

	slow.Attributes["latency"] = 300
	tp.update(slow)
	if d := roundTrip(t, c, "latency back"); d < 300*time.Millisecond {
		t.Errorf("round trip with latency 300ms took %v", d)
	}

	tp.remove("slow")
	roundTrip(t, c, "removed")

	if n := tp.metric("spof_proxy_connections_total"); n != 1 {
		t.Errorf("connections = %d, want the one, kept throughout", n)
	}
}

// Data that a latency toxic holds back is released when the toxic is
// removed or its latency lowered, as in Toxiproxy, not when the old
// latency (a minute here) runs out.
func TestHeldDataReleased(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(tp *testProxy, tx Toxic)
	}{
		{"removed", func(tp *testProxy, tx Toxic) { tp.remove(tx.Name) }},
		{"latency lowered", func(tp *testProxy, tx Toxic) {
			tx.Attributes["latency"] = 0
			tp.update(tx)
		}},
		{"toxicity lowered", func(tp *testProxy, tx Toxic) {
			tx.Toxicity = 0
			tp.update(tx)
		}},
		{"all removed by reset", func(tp *testProxy, tx Toxic) {
			if err := tp.s.Reset(); err != nil {
				tp.t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, stream := range []string{Upstream, Downstream} {
				tp := startProxy(t, Options{}, startEcho(t))
				c := tp.dial()
				roundTrip(t, c, "before")
				tx := tp.add(Toxic{Toxicity: 1, Type: "latency", Stream: stream, Attributes: map[string]int64{"latency": 60_000}})
				io.WriteString(c, "held")
				if !held(t, c, 200*time.Millisecond) {
					t.Fatalf("%s: the data was not held back", stream)
				}
				tt.change(tp, tx)
				got := make([]byte, 4)
				if _, err := io.ReadFull(c, got); err != nil || string(got) != "held" {
					t.Fatalf("%s: read %q, %v; want the held data", stream, got, err)
				}
				roundTrip(t, c, "after")
			}
		})
	}
}

// switchOps add, change and remove toxics on both streams; after the last
// one the proxy has no toxic again. None of them drops or alters data.
var switchOps = []struct {
	name string
	do   func(s *Server, proxy string) error
}{
	{"add latency upstream", add(Toxic{Name: "lat_up", Toxicity: 1, Type: "latency", Stream: Upstream, Attributes: map[string]int64{"latency": 1}})},
	{"add slicer downstream", add(Toxic{Name: "slice_down", Toxicity: 1, Type: "slicer", Attributes: map[string]int64{"average_size": 1000, "size_variation": 500}})},
	{"update latency upstream", upd(Toxic{Name: "lat_up", Toxicity: 1, Type: "latency", Stream: Upstream, Attributes: map[string]int64{"latency": 2, "jitter": 1}})},
	{"remove latency upstream", del("lat_up")},
	{"add bandwidth downstream", add(Toxic{Name: "bw", Toxicity: 1, Type: "bandwidth", Attributes: map[string]int64{"rate": 200_000}})},
	{"remove slicer downstream", del("slice_down")},
	{"add limit_data upstream", add(Toxic{Name: "limit", Toxicity: 1, Type: "limit_data", Stream: Upstream, Attributes: map[string]int64{"bytes": 1 << 40}})},
	{"move bandwidth upstream", upd(Toxic{Name: "bw", Toxicity: 1, Type: "bandwidth", Stream: Upstream, Attributes: map[string]int64{"rate": 200_000}})},
	{"add latency downstream", add(Toxic{Name: "lat_down", Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 20}})},
	{"latency downstream down to 0", upd(Toxic{Name: "lat_down", Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 0}})},
	{"latency downstream up again", upd(Toxic{Name: "lat_down", Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 3}})},
	{"latency downstream down to 0 again", upd(Toxic{Name: "lat_down", Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 0}})},
	{"bandwidth on half the connections", upd(Toxic{Name: "bw", Toxicity: 0.5, Type: "bandwidth", Stream: Upstream, Attributes: map[string]int64{"rate": 200_000}})},
	{"remove latency downstream", del("lat_down")},
	{"add slow_close downstream", add(Toxic{Name: "slow_close", Toxicity: 1, Type: "slow_close", Attributes: map[string]int64{"delay": 1}})},
	{"remove bandwidth", del("bw")},
	{"remove limit_data", del("limit")},
	{"remove slow_close", del("slow_close")},
}

func add(tx Toxic) func(*Server, string) error {
	return func(s *Server, proxy string) error { _, err := s.AddToxic(proxy, tx); return err }
}

func upd(tx Toxic) func(*Server, string) error {
	return func(s *Server, proxy string) error { _, err := s.UpdateToxic(proxy, tx); return err }
}

func del(name string) func(*Server, string) error {
	return func(s *Server, proxy string) error { return s.RemoveToxic(proxy, name) }
}

// Several connections stream numbered data through an echo server, both
// directions at once, while toxics come and go: each connection switches
// between the splice path and the toxic path many times, in both
// directions, and every byte must arrive once and in order.
func TestSwitchKeepsEveryByte(t *testing.T) {
	t.Parallel()
	const (
		conns   = 4
		size    = 1 << 20
		perTick = 64 << 10 // a toxic change every perTick bytes written
	)
	tp := startProxy(t, Options{}, startEcho(t))
	data := numbered(size)

	// Each writer hands the switcher a tick every perTick bytes, so that
	// changes are spread over the whole stream of every connection.
	tick := make(chan struct{})
	done := make(chan struct{})
	var changes int
	var switcher sync.WaitGroup
	switcher.Go(func() {
		for {
			select {
			case <-tick:
			case <-done:
				return
			}
			op := switchOps[changes%len(switchOps)]
			if err := op.do(tp.s, tp.name); err != nil {
				t.Errorf("change %d (%s): %v", changes, op.name, err)
			}
			changes++
		}
	})

	var wg sync.WaitGroup
	errs := make(chan error, 2*conns)
	for i := range conns {
		c := tp.dial()
		wg.Go(func() {
			for off := 0; off < size; {
				// Uneven writes, so that toxics cut the stream at odd places.
				n := min(size-off, 1000+(off*7+i*331)%(31<<10))
				if _, err := c.Write(data[off : off+n]); err != nil {
					errs <- fmt.Errorf("connection %d: writing at %d: %w", i, off, err)
					return
				}
				if (off+n)/perTick != off/perTick {
					select {
					case tick <- struct{}{}:
					case <-done:
					}
				}
				off += n
			}
			c.CloseWrite()
		})
		wg.Go(func() {
			got, err := io.ReadAll(c)
			if err != nil {
				errs <- fmt.Errorf("connection %d: reading after %d bytes: %w", i, len(got), err)
				return
			}
			if err := checkNumbered(got, data); err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(done)
	switcher.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if min := conns * size / perTick; changes < min {
		t.Errorf("%d toxic changes while streaming, want at least %d", changes, min)
	}
	t.Logf("%d toxic changes", changes)

	tp.waitMetric("spof_proxy_connections_active", 0)
	for _, dir := range []string{"upstream", "downstream"} {
		series := fmt.Sprintf(`spof_proxy_bytes_total{direction=%q}`, dir)
		if got := tp.metric(series); got != conns*size {
			t.Errorf("%s = %d, want %d", series, got, conns*size)
		}
	}
	if n := tp.metric(`spof_proxy_errors_total{kind="io"}`); n != 0 {
		t.Errorf("io errors = %d, want 0", n)
	}
}

// Many short connections open and close while toxics change: changes race
// with connections being set up and torn down.
func TestSwitchWhileConnecting(t *testing.T) {
	t.Parallel()
	tp := startProxy(t, Options{}, startEcho(t))
	done := make(chan struct{})
	var switcher sync.WaitGroup
	switcher.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			op := switchOps[i%len(switchOps)]
			if err := op.do(tp.s, tp.name); err != nil {
				t.Errorf("change %d (%s): %v", i, op.name, err)
				return
			}
		}
	})
	var clients sync.WaitGroup
	for i := range 8 {
		clients.Go(func() {
			for j := range 25 {
				msg := fmt.Sprintf("connection %d.%d", i, j)
				if err := echoOnce(tp.addr, msg); err != nil {
					t.Errorf("%s: %v", msg, err)
					return
				}
			}
		})
	}
	clients.Wait()
	close(done)
	switcher.Wait()
}

// echoOnce opens a connection to an echo server through addr, sends msg,
// checks the echo and closes.
func echoOnce(addr, msg string) error {
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(c, msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("reading the echo: %w (got %q)", err, got)
	}
	if string(got) != msg {
		return fmt.Errorf("echo %q", got)
	}
	return nil
}

// A toxic change applies to the very next byte sent after the call
// returns, whether the connection was on the fast path (the toxic is
// added) or already on the toxic path (its latency is raised); undoing
// the change releases what it held. Repeated, because the copy can be
// woken by data and by the change at the same moment.
func TestChangeAppliesToTheNextByte(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"from the fast path", "on the toxic path"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			tp := startProxy(t, Options{}, startEcho(t))
			c := tp.dial()
			for i := range 50 {
				stream := []string{Upstream, Downstream}[i%2]
				tx := Toxic{Name: "slow", Toxicity: 1, Type: "latency", Stream: stream, Attributes: map[string]int64{"latency": 0}}
				if path == "on the toxic path" {
					tp.add(tx)
				}
				roundTrip(t, c, "before")
				tx.Attributes = map[string]int64{"latency": 60_000}
				if path == "on the toxic path" {
					tp.update(tx)
				} else {
					tp.add(tx)
				}
				io.WriteString(c, "held")
				if !held(t, c, 20*time.Millisecond) {
					t.Fatalf("round %d (%s): the data sent after the change was not held back", i, stream)
				}
				tp.remove(tx.Name)
				got := make([]byte, 4)
				if _, err := io.ReadFull(c, got); err != nil || string(got) != "held" {
					t.Fatalf("round %d (%s): read %q, %v; want the held data", i, stream, got, err)
				}
			}
		})
	}
}
