package inject

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/proxy"
)

// startProxy serves a real fault proxy with one proxy, "redis", in front of
// a listener that accepts and holds connections.
func startProxy(t *testing.T) (api string, srv *proxy.Server) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	srv = proxy.New(proxy.Options{MaxTTL: time.Hour})
	t.Cleanup(func() { srv.Close(context.Background()) })
	if _, err := srv.CreateProxy(proxy.ProxyConfig{Name: "redis", Upstream: up.Addr().String(), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL, srv
}

func TestProxyInjector(t *testing.T) {
	ctx := context.Background()
	api, srv := startProxy(t)
	for _, f := range []Fault{
		{Kind: Down}, {Kind: Blackhole}, {Kind: Reset},
		{Kind: Latency, Latency: 500 * time.Millisecond, Jitter: 50 * time.Millisecond},
		{Kind: Bandwidth, Rate: 10}, {Kind: SlowClose, Delay: time.Second}, {Kind: LimitData, Bytes: 100},
	} {
		t.Run(f.String(), func(t *testing.T) {
			p := Proxy{API: api, Proxy: "redis", Toxic: "spof-redis-" + f.Kind}
			back := journalled(t, p.Undo())
			f.TTL = 2 * time.Minute
			if err := p.Inject(ctx, back, f); err != nil {
				t.Fatal(err)
			}
			tx, err := srv.Toxic("redis", p.Toxic)
			if err != nil || tx.TTL != 2*time.Minute || tx.Toxicity != 1 {
				t.Fatalf("toxic %+v, %v: want it on the proxy with the fault's TTL", tx, err)
			}
			if on, err := Active(ctx, back); err != nil || !on {
				t.Errorf("Active = %v, %v; want true", on, err)
			}
			if err := Restore(ctx, back); err != nil {
				t.Fatal(err)
			}
			if on, err := Active(ctx, back); err != nil || on {
				t.Errorf("after Restore, Active = %v, %v; want false", on, err)
			}
			if err := Restore(ctx, back); err != nil {
				t.Errorf("second Restore: %v, want nil (idempotent)", err)
			}
		})
	}
	latency, _ := toxicFor(Fault{Kind: Latency, Latency: 500 * time.Millisecond, Jitter: 50 * time.Millisecond})
	if latency.Attributes["latency"] != 500 || latency.Attributes["jitter"] != 50 {
		t.Errorf("latency toxic attributes %v", latency.Attributes)
	}
}

func TestProxyInjectorErrors(t *testing.T) {
	ctx := context.Background()
	api, _ := startProxy(t)
	err := Proxy{API: api, Proxy: "nope", Toxic: "x"}.Inject(ctx, Undo{}, Fault{Kind: Down})
	if err == nil || !strings.Contains(err.Error(), "proxy not found") {
		t.Errorf("unknown proxy: %v", err)
	}
	err = Proxy{API: "http://127.0.0.1:1", Proxy: "redis", Toxic: "x"}.Inject(ctx, Undo{}, Fault{Kind: Down})
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("dead proxy API: %v", err)
	}
	if err := (Proxy{API: api, Proxy: "redis", Toxic: "x"}).Inject(ctx, Undo{}, Fault{Kind: "flood"}); err == nil {
		t.Error("unknown fault: no error")
	}
	if err := Restore(ctx, Undo{Injector: "telepathy"}); !errors.Is(err, ErrBadUndo) {
		t.Errorf("unknown injector: %v, want ErrBadUndo", err)
	}
}

func TestCommandInjector(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := Command{InjectCmd: "touch fault", RestoreCmd: "rm -f fault", CheckCmd: "test -e fault", Dir: dir}
	u := journalled(t, c.Undo())
	if err := c.Inject(ctx, u, Fault{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "fault")); err != nil {
		t.Fatal("inject command did not run in Dir:", err)
	}
	if on, err := Active(ctx, u); err != nil || !on {
		t.Errorf("Active = %v, %v; want true", on, err)
	}
	if err := Restore(ctx, u); err != nil {
		t.Fatal(err)
	}
	if on, err := Active(ctx, u); err != nil || on {
		t.Errorf("after Restore, Active = %v, %v; want false", on, err)
	}
	bad := Command{InjectCmd: "echo no permission >&2; exit 3", Dir: dir}
	if err := bad.Inject(ctx, Undo{}, Fault{}); err == nil || !strings.Contains(err.Error(), "no permission") {
		t.Errorf("failing inject: %v, want its output in the error", err)
	}
}

// journalled returns u as another process reads it back from the journal.
func journalled(t *testing.T, u Undo) Undo {
	t.Helper()
	data, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var back Undo
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// TestProxyCheck: the running proxy must be the one the model describes.
func TestProxyCheck(t *testing.T) {
	ctx := context.Background()
	api, srv := startProxy(t)
	info, err := srv.Proxy("redis")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    Proxy
		want string // "" for no error
	}{
		{Proxy{API: api, Proxy: "redis"}, ""},
		{Proxy{API: api, Proxy: "redis", Listen: info.Listen, Upstream: info.Upstream}, ""},
		{Proxy{API: api, Proxy: "redis", Upstream: "127.0.0.1:1"}, "proxy redis forwards to " + info.Upstream + ", but the model says 127.0.0.1:1"},
		{Proxy{API: api, Proxy: "redis", Listen: "127.0.0.1:1"}, "proxy redis listens on " + info.Listen + ", but the model says 127.0.0.1:1"},
		{Proxy{API: api, Proxy: "nope"}, "proxy nope at " + api + ": "},
	} {
		err := tc.p.Check(ctx)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("Check(%+v) = %v, want %q", tc.p, err, tc.want)
		}
	}
}
