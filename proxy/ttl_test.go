package proxy

import (
	"io"
	"testing"
	"time"

	"github.com/spofhq/spof/proxy/proxytest"
)

// hasToxic reports whether the proxy has a toxic of that name.
func (tp *testProxy) hasToxic(name string) bool {
	tp.t.Helper()
	ts, err := tp.s.Toxics(tp.name)
	if err != nil {
		tp.t.Fatal(err)
	}
	for _, tx := range ts {
		if tx.Name == name {
			return true
		}
	}
	return false
}

func TestTTLRemovesTheToxic(t *testing.T) {
	t.Parallel()
	clock := proxytest.NewFakeClock()
	tp := startProxy(t, Options{Clock: clock}, startEcho(t))
	start := clock.Now()
	c := tp.dial()
	roundTrip(t, c, "before")

	tx := tp.add(Toxic{Name: "slow", Toxicity: 1, Type: "latency", Attributes: map[string]int64{"latency": 60_000}, TTL: 30 * time.Second})
	if tx.TTL != 30*time.Second || !tx.ExpiresAt.Equal(start.Add(30*time.Second)) {
		t.Errorf("added toxic: TTL %v, expires at %v; want 30s, %v", tx.TTL, tx.ExpiresAt, start.Add(30*time.Second))
	}
	io.WriteString(c, "held")
	if !held(t, c, 100*time.Millisecond) {
		t.Fatal("the latency toxic did not hold the data back")
	}

	clock.Advance(30*time.Second - time.Nanosecond)
	if !tp.hasToxic("slow") {
		t.Fatal("the toxic expired before its TTL")
	}
	if n := tp.metric("spof_proxy_toxics_expired_total"); n != 0 {
		t.Errorf("expired = %d before the TTL, want 0", n)
	}

	clock.Advance(time.Nanosecond)
	if tp.hasToxic("slow") {
		t.Fatal("the toxic outlived its TTL")
	}
	// Its removal released the data it held, without dropping the
	// connection.
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "held" {
		t.Fatalf("read %q, %v; want the held data", got, err)
	}
	roundTrip(t, c, "after")
	if n := tp.metric("spof_proxy_toxics_expired_total"); n != 1 {
		t.Errorf("expired = %d, want 1", n)
	}
	if n := tp.metric("spof_proxy_toxics_active"); n != 0 {
		t.Errorf("toxics active = %d, want 0", n)
	}
}

func TestMaxTTL(t *testing.T) {
	t.Parallel()
	const maxTTL = time.Minute
	tests := []struct {
		name string
		ttl  time.Duration
		want time.Duration
	}{
		{"no TTL gets the cap", 0, maxTTL},
		{"a larger TTL is capped", 5 * time.Minute, maxTTL},
		{"a smaller TTL is kept", 10 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := proxytest.NewFakeClock()
			tp := startProxy(t, Options{Clock: clock, MaxTTL: maxTTL}, startEcho(t))
			start := clock.Now()
			tx := tp.add(Toxic{Toxicity: 1, Type: "latency", TTL: tt.ttl})
			if tx.TTL != tt.want || !tx.ExpiresAt.Equal(start.Add(tt.want)) {
				t.Errorf("TTL %v, expires at %v; want %v, %v", tx.TTL, tx.ExpiresAt, tt.want, start.Add(tt.want))
			}
			if got, _ := tp.s.Toxic(tp.name, tx.Name); got.TTL != tx.TTL || !got.ExpiresAt.Equal(tx.ExpiresAt) {
				t.Errorf("read back: TTL %v, expires at %v; want %v, %v", got.TTL, got.ExpiresAt, tx.TTL, tx.ExpiresAt)
			}
			clock.Advance(tt.want - time.Second)
			if !tp.hasToxic(tx.Name) {
				t.Fatal("expired early")
			}
			clock.Advance(time.Second)
			if tp.hasToxic(tx.Name) {
				t.Fatal("did not expire")
			}
		})
	}
}

func TestNoTTLNeverExpires(t *testing.T) {
	t.Parallel()
	clock := proxytest.NewFakeClock()
	tp := startProxy(t, Options{Clock: clock}, startEcho(t))
	tx := tp.add(Toxic{Toxicity: 1, Type: "latency"})
	if tx.TTL != 0 || !tx.ExpiresAt.IsZero() {
		t.Errorf("TTL %v, expires at %v; want neither", tx.TTL, tx.ExpiresAt)
	}
	if n := clock.Pending(); n != 0 {
		t.Errorf("%d timers armed, want none", n)
	}
	clock.Advance(1000 * time.Hour)
	if !tp.hasToxic(tx.Name) {
		t.Error("a toxic with no TTL expired")
	}
}

func TestTTLUpdate(t *testing.T) {
	t.Parallel()
	t.Run("a new TTL counts from the update", func(t *testing.T) {
		t.Parallel()
		clock := proxytest.NewFakeClock()
		tp := startProxy(t, Options{Clock: clock}, startEcho(t))
		tx := tp.add(Toxic{Name: "x", Toxicity: 1, Type: "latency", TTL: 30 * time.Second})
		clock.Advance(20 * time.Second)
		tx.ExpiresAt = time.Time{}
		tx = tp.update(tx)
		if want := clock.Now().Add(30 * time.Second); !tx.ExpiresAt.Equal(want) {
			t.Errorf("expires at %v after the update, want %v", tx.ExpiresAt, want)
		}
		clock.Advance(20 * time.Second) // past the first expiry
		if !tp.hasToxic("x") {
			t.Fatal("expired at the TTL it had before the update")
		}
		clock.Advance(10 * time.Second)
		if tp.hasToxic("x") {
			t.Fatal("did not expire at the new TTL")
		}
		if n := clock.Pending(); n != 0 {
			t.Errorf("%d timers still armed", n)
		}
	})
	t.Run("passing back the toxic read keeps its expiry", func(t *testing.T) {
		t.Parallel()
		clock := proxytest.NewFakeClock()
		tp := startProxy(t, Options{Clock: clock}, startEcho(t))
		first := tp.add(Toxic{Name: "x", Toxicity: 1, Type: "latency", TTL: 30 * time.Second})
		clock.Advance(20 * time.Second)
		changed := first
		changed.Attributes = map[string]int64{"latency": 5}
		if got := tp.update(changed); !got.ExpiresAt.Equal(first.ExpiresAt) {
			t.Errorf("expires at %v after the update, want %v as before", got.ExpiresAt, first.ExpiresAt)
		}
		clock.Advance(10 * time.Second)
		if tp.hasToxic("x") {
			t.Fatal("did not expire when first set")
		}
	})
	t.Run("removing the TTL disarms it", func(t *testing.T) {
		t.Parallel()
		clock := proxytest.NewFakeClock()
		tp := startProxy(t, Options{Clock: clock}, startEcho(t))
		tx := tp.add(Toxic{Name: "x", Toxicity: 1, Type: "latency", TTL: 30 * time.Second})
		tx.TTL, tx.ExpiresAt = 0, time.Time{}
		if got := tp.update(tx); got.TTL != 0 || !got.ExpiresAt.IsZero() {
			t.Errorf("TTL %v, expires at %v; want neither", got.TTL, got.ExpiresAt)
		}
		if n := clock.Pending(); n != 0 {
			t.Errorf("%d timers still armed", n)
		}
		clock.Advance(time.Hour)
		if !tp.hasToxic("x") {
			t.Fatal("expired with no TTL")
		}
	})
}

func TestRemoveStopsTheTTL(t *testing.T) {
	t.Parallel()
	clock := proxytest.NewFakeClock()
	tp := startProxy(t, Options{Clock: clock}, startEcho(t))
	tp.add(Toxic{Name: "x", Toxicity: 1, Type: "latency", TTL: 30 * time.Second})
	if n := clock.Pending(); n != 1 {
		t.Fatalf("%d timers armed, want 1", n)
	}
	tp.remove("x")
	if n := clock.Pending(); n != 0 {
		t.Errorf("%d timers armed after the removal, want 0", n)
	}
	// A new toxic of the same name lives by its own TTL.
	tp.add(Toxic{Name: "x", Toxicity: 1, Type: "latency", TTL: time.Minute})
	clock.Advance(30 * time.Second)
	if !tp.hasToxic("x") {
		t.Fatal("the new toxic expired at the TTL of the one removed")
	}
	clock.Advance(30 * time.Second)
	if tp.hasToxic("x") {
		t.Fatal("the new toxic did not expire")
	}
	if n := tp.metric("spof_proxy_toxics_expired_total"); n != 1 {
		t.Errorf("expired = %d, want 1: a removal by hand is not an expiry", n)
	}
}

// An expiry that fires as the toxic is changed (too late to be stopped)
// must not remove the toxic the change re-armed.
func TestStaleExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(tp *testProxy, tx Toxic)
		stays  bool
	}{
		{"updated with a new TTL", func(tp *testProxy, tx Toxic) {
			tx.ExpiresAt = time.Time{}
			tp.update(tx)
		}, true},
		{"removed and added again", func(tp *testProxy, tx Toxic) {
			tp.remove(tx.Name)
			tp.add(tx)
		}, true},
		{"updated keeping its expiry", func(tp *testProxy, tx Toxic) {
			tx.Attributes = map[string]int64{"latency": 1}
			tp.update(tx)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := proxytest.NewFakeClock()
			tp := startProxy(t, Options{Clock: clock}, startEcho(t))
			tx := tp.add(Toxic{Name: "x", Toxicity: 1, Type: "latency", TTL: 30 * time.Second})
			due := clock.Fire(30 * time.Second)
			if len(due) != 1 {
				t.Fatalf("%d expiries due, want 1", len(due))
			}
			tt.change(tp, tx)
			due[0]()
			if got := tp.hasToxic("x"); got != tt.stays {
				t.Errorf("toxic there after the late expiry: %v, want %v", got, tt.stays)
			}
		})
	}
}

// Deleting a proxy, or replacing it by Populate, stops the TTLs of its
// toxics: none fires later for a proxy that is gone.
func TestDroppedProxyStopsTTLs(t *testing.T) {
	t.Parallel()
	clock := proxytest.NewFakeClock()
	s := newServer(t, Options{Clock: clock})
	up := startEcho(t)
	for _, name := range []string{"deleted", "replaced"} {
		if _, err := s.CreateProxy(ProxyConfig{Name: name, Upstream: up, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddToxic(name, Toxic{Type: "latency", Toxicity: 1, TTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	if n := clock.Pending(); n != 2 {
		t.Fatalf("%d TTLs armed, want 2", n)
	}
	if err := s.DeleteProxy("deleted"); err != nil {
		t.Fatal(err)
	}
	if n := clock.Pending(); n != 1 {
		t.Errorf("after DeleteProxy: %d TTLs armed, want 1", n)
	}
	if _, err := s.Populate([]ProxyConfig{{Name: "replaced", Upstream: startEcho(t), Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	if n := clock.Pending(); n != 0 {
		t.Errorf("after Populate replaced the proxy: %d TTLs armed, want 0", n)
	}
}
