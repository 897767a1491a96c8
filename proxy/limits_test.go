package proxy

import (
	"io"
	"math"
	"testing"
	"time"
)

// addUnchecked adds t to the test proxy without the API's range checks,
// as a toxic from an older config or a future bug might arrive: the data
// path must stay safe whatever it is given.
func (tp *testProxy) addUnchecked(t Toxic) {
	tp.t.Helper()
	p, err := tp.s.get(tp.name)
	if err != nil {
		tp.t.Fatal(err)
	}
	if t.Stream == "" {
		t.Stream = Downstream
	}
	if t.Name == "" {
		t.Name = string(t.Type) + "_" + t.Stream
	}
	if _, err := p.addToxic(t); err != nil {
		tp.t.Fatalf("adding %+v: %v", t, err)
	}
}

// Bandwidth rates whose rate*100 overflowed (a panic that took the whole
// process down) or wrapped to 0 (a copy loop that never advanced and
// burnt a core, still after the toxic was removed) now pass data.
func TestBandwidthHugeRate(t *testing.T) {
	t.Parallel()
	for _, rate := range []int64{100_000_000_000_000_000, 1 << 62, math.MaxInt64} {
		tp := startProxy(t, Options{}, startEcho(t))
		tp.addUnchecked(Toxic{Type: ToxicBandwidth, Toxicity: 1, Attributes: map[string]int64{"rate": rate}})
		c := tp.dial()
		roundTrip(t, c, "x")
		roundTrip(t, c, string(numbered(100_000)))
		tp.remove("bandwidth_downstream")
		roundTrip(t, c, "after")
		c.Close()
		tp.waitMetric("spof_proxy_connections_active", 0)
	}
}

// Delays too large for a time.Duration mean "not in this lifetime": they
// hold data or the connection, and never wrap into "at once".
func TestHugeDelaysHold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		t    Toxic
		rand float64 // the jitter draw
	}{
		{"latency 1e13 ms", Toxic{Type: ToxicLatency, Attributes: map[string]int64{"latency": 10_000_000_000_000}}, 0.5},
		{"latency MaxInt64", Toxic{Type: ToxicLatency, Attributes: map[string]int64{"latency": math.MaxInt64}}, 0.5},
		{"latency and jitter MaxInt64", Toxic{Type: ToxicLatency, Attributes: map[string]int64{"latency": math.MaxInt64, "jitter": math.MaxInt64}}, 0.99},
		{"timeout MaxInt64", Toxic{Type: ToxicTimeout, Attributes: map[string]int64{"timeout": math.MaxInt64}}, 0.5},
		{"reset_peer MaxInt64", Toxic{Type: ToxicResetPeer, Attributes: map[string]int64{"timeout": math.MaxInt64}}, 0.5},
		{"slicer delay MaxInt64", Toxic{Type: ToxicSlicer, Attributes: map[string]int64{"average_size": 1, "size_variation": math.MaxInt64, "delay": math.MaxInt64}}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			draw := tt.rand
			tp := startProxy(t, Options{Rand: func() float64 { return draw }}, startEcho(t))
			tt.t.Toxicity = 1
			tp.addUnchecked(tt.t)
			c := tp.dial()
			if _, err := io.WriteString(c, "held?"); err != nil {
				t.Fatal(err)
			}
			// The slicer lets its first piece through, then waits.
			if tt.t.Type == ToxicSlicer {
				if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
					t.Fatalf("first piece: %v", err)
				}
			}
			if !held(t, c, 100*time.Millisecond) {
				t.Errorf("%s: data or the end of the connection came through at once", tt.name)
			}
			c.Close()
			tp.remove(string(tt.t.Type) + "_downstream")
			tp.waitMetric("spof_proxy_connections_active", 0)
		})
	}
}

func TestSliceExtremes(t *testing.T) {
	half := func() float64 { return 0.5 }
	for _, tt := range []struct {
		average, variation int64
		n                  int
	}{
		{math.MaxInt64, math.MaxInt64, 100},
		{1, math.MaxInt64, 100},
		{2, 1, 1},
		{3, 2, 64},
	} {
		cuts := slice(tt.average, tt.variation, tt.n, half)
		prev := 0
		for _, c := range cuts {
			if c <= prev || c > tt.n {
				t.Fatalf("slice(%d, %d, %d) = %v: pieces must be non-empty and within n", tt.average, tt.variation, tt.n, cuts)
			}
			prev = c
		}
		if prev != tt.n {
			t.Errorf("slice(%d, %d, %d) = %v: does not end at n", tt.average, tt.variation, tt.n, cuts)
		}
	}
}

// A latency toxic delays data without capping its rate: the proxy reads
// on and holds what it read until it is due, up to maxHeld bytes, so that
// throughput under latency L is maxHeld per L. Before, it held 8 chunks
// of 32 KiB: 30 MB/s under 10 ms. Here the latency is an hour: 24 MiB,
// more than the sockets' buffers hold, must still be taken from the
// client, and arrive whole once the toxic goes.
func TestLatencyHoldsManyChunks(t *testing.T) {
	t.Parallel()
	sink, got := startSink(t)
	tp := startProxy(t, Options{}, sink)
	tp.add(Toxic{Type: ToxicLatency, Stream: Upstream, Toxicity: 1, Attributes: map[string]int64{"latency": 3_600_000}})
	c := tp.dial()
	data := numbered(24 << 20)
	if _, err := c.Write(data); err != nil {
		t.Fatalf("writing %d bytes through an hour of latency: %v (the proxy stopped reading)", len(data), err)
	}
	tp.remove("latency_upstream")
	c.CloseWrite()
	select {
	case b := <-got:
		if err := checkNumbered(b, data); err != nil {
			t.Error(err)
		}
	case <-time.After(testTimeout):
		t.Fatal("the sink got nothing")
	}
}
