package shop_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spofhq/spof/examples/shop/internal/demo"
	"github.com/spofhq/spof/proxy"
)

func TestShop(t *testing.T) {
	t.Parallel()
	sys := startShop(t)
	pc := sys.Proxy()

	// fault puts the down toxic on a proxy until the subtest ends, then
	// waits for the shop to heal (its breakers try again after 5 s).
	fault := func(t *testing.T, proxyName string) {
		t.Helper()
		if _, err := pc.AddToxic(t.Context(), proxyName, proxy.Toxic{Name: "down", Type: proxy.ToxicDown, Toxicity: 1, TTL: 2 * time.Minute}); err != nil {
			t.Fatalf("adding the down toxic to proxy %s: %v", proxyName, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := pc.RemoveToxic(ctx, proxyName, "down"); err != nil {
				t.Errorf("removing the down toxic from proxy %s: %v", proxyName, err)
				return
			}
			waitHealthy(ctx, t, sys)
		})
	}

	t.Run("steady", func(t *testing.T) {
		ctx := t.Context()
		if err := sys.Smoke(ctx); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/login", "/browse", "/checkout", "/submit"} {
			r, err := sys.Do(ctx, http.MethodGet, path, nil)
			if err != nil || r.Status != http.StatusOK || r.Degraded != "" {
				t.Errorf("probe GET %s: %v, %v; want 200, not degraded", path, r, err)
			}
		}
		resp, err := http.Get(sys.ShopURL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /healthz: %s, want 200", resp.Status)
		}
	})

	t.Run("redis down: sessions from postgres, rate limit fails open", func(t *testing.T) {
		fault(t, demo.ProxyRedis)
		ctx := t.Context()
		session, r, err := sys.Login(ctx, "bob")
		wantFlow(t, "login", r, err, http.StatusOK, "sessions")
		r, err = sys.Browse(ctx)
		wantFlow(t, "browse", r, err, http.StatusOK, "ratelimit")
		r, err = sys.Checkout(ctx, session, "mug", 1)
		wantFlow(t, "checkout", r, err, http.StatusOK, "sessions")
		if got := r.Body["status"]; got != "paid" {
			t.Errorf("checkout: order status %v, want paid", got)
		}
	})

	t.Run("payments down: order accepted, charged later", func(t *testing.T) {
		ctx := t.Context()
		session, r, err := sys.Login(ctx, "carol")
		wantFlow(t, "login", r, err, http.StatusOK, "")
		fault(t, demo.ProxyPayments)
		r, err = sys.Checkout(ctx, session, "pot", 1)
		wantFlow(t, "checkout", r, err, http.StatusOK, "payments")
		if got := r.Body["status"]; got != "pending_payment" {
			t.Errorf("checkout: order status %v, want pending_payment", got)
		}
		r, err = sys.Browse(ctx)
		wantFlow(t, "browse", r, err, http.StatusOK, "")
	})

	// The planted hidden dependency: the model says config is needed at
	// start-up only, but checkout reads a feature flag on every request.
	t.Run("config down: checkout fails (hidden dependency)", func(t *testing.T) {
		ctx := t.Context()
		session, r, err := sys.Login(ctx, "dave")
		wantFlow(t, "login", r, err, http.StatusOK, "")
		fault(t, demo.ProxyConfig)
		r, err = sys.Checkout(ctx, session, "tea", 1)
		wantFlow(t, "checkout", r, err, http.StatusServiceUnavailable, "")
		if msg, _ := r.Body["error"].(string); !strings.Contains(msg, "express-checkout") {
			t.Errorf("checkout error %q does not name the feature flag express-checkout", msg)
		}
		_, r, err = sys.Login(ctx, "erin")
		wantFlow(t, "login", r, err, http.StatusOK, "")
		r, err = sys.Browse(ctx)
		wantFlow(t, "browse", r, err, http.StatusOK, "")
		r, err = sys.Submit(ctx, map[string]string{"form": "contact"})
		wantFlow(t, "submit", r, err, http.StatusOK, "")
	})

	t.Run("stop leaves no process behind", func(t *testing.T) {
		// The shared Redis and PostgreSQL are not the system's to stop.
		checkStop(t, sys, "shop", "shop-config", "shop-payments", "spof-proxy")
		for name, pid := range shared.backends.PIDs() {
			if err := syscall.Kill(pid, 0); err != nil {
				t.Errorf("the shared %s (pid %d) after a system's Stop: %v", name, pid, err)
			}
		}
	})
}

// TestStandalone starts the shop as make demo does, with Redis and
// PostgreSQL of its own, which Stop stops too.
func TestStandalone(t *testing.T) {
	t.Parallel()
	if err := setUp(); err != nil {
		t.Skip("see the other tests:", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	sys, err := demo.Start(ctx, demo.Options{BinDir: shared.binDir})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Stop()
	if err := sys.Smoke(ctx); err != nil {
		t.Error(err)
	}
	checkStop(t, sys, "shop", "shop-config", "shop-payments", "spof-proxy", "redis", "postgres")
}

// TestSharedBackendsIsolate: two shops on the same Redis and PostgreSQL
// see nothing of each other's data.
func TestSharedBackendsIsolate(t *testing.T) {
	t.Parallel()
	a, b := startShop(t), startShop(t)
	if a.RedisDB == b.RedisDB || a.PostgresURL == b.PostgresURL {
		t.Fatalf("both shops use Redis database %d and %s, %s", a.RedisDB, a.PostgresURL, b.PostgresURL)
	}
	ctx := t.Context()
	session, r, err := a.Login(ctx, "frank")
	wantFlow(t, "login on a", r, err, http.StatusOK, "")
	r, err = a.Checkout(ctx, session, "tea", 1)
	wantFlow(t, "checkout on a", r, err, http.StatusOK, "")
	r, err = b.Checkout(ctx, session, "tea", 1)
	wantFlow(t, "checkout on b with a's session", r, err, http.StatusUnauthorized, "")
}

// checkStop stops sys and checks that the processes it had, by name, are
// gone, and its directory too.
func checkStop(t *testing.T, sys *demo.System, names ...string) {
	t.Helper()
	pids := sys.PIDs()
	if got := slices.Sorted(maps.Keys(pids)); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		t.Errorf("PIDs() = %v, want %v", pids, names)
	}
	if err := sys.Stop(); err != nil {
		t.Fatal(err)
	}
	for name, pid := range pids {
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s: process group %d still exists after Stop (kill -0: %v)", name, pid, err)
		}
	}
	if _, err := os.Stat(sys.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still exists after Stop (%v)", sys.Dir, err)
	}
}

func wantFlow(t *testing.T, flow string, r demo.Response, err error, status int, degraded string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", flow, err)
		return
	}
	if r.Status != status || r.Degraded != degraded {
		t.Errorf("%s: got %v, want %d with X-Degraded %q", flow, r, status, degraded)
	}
}

// waitHealthy waits, up to ctx's deadline, until every flow answers 200
// without degradation.
func waitHealthy(ctx context.Context, t *testing.T, sys *demo.System) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		err := sys.Smoke(ctx)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Errorf("the shop did not heal after the fault was removed: %v", err)
			return
		case <-tick.C:
		}
	}
}
