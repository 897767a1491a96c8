package compat

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiproxyserver "github.com/Shopify/toxiproxy/v2"
	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spofhq/spof/proxy"
	"github.com/spofhq/spof/proxy/proxytest"
)

// TestToxiproxyClientCompat drives spof's proxy server through
// Toxiproxy's official client.
func TestToxiproxyClientCompat(t *testing.T) {
	checkGoroutines(t)
	srv := proxy.New(proxy.Options{})
	api := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		api.Close()
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("closing the proxy server: %v", err)
		}
	})
	testClient(t, toxiproxy.NewClient(api.URL))
}

// TestToxiproxyClientCompatReference runs the same checks against
// Toxiproxy v2.12.0 itself: whatever fails here is a mistake in the
// checks, not in spof.
func TestToxiproxyClientCompatReference(t *testing.T) {
	srv := toxiproxyserver.NewServer(toxiproxyserver.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	api := httptest.NewServer(srv.Routes())
	t.Cleanup(func() {
		api.Close()
		srv.Collection.Clear()
	})
	testClient(t, toxiproxy.NewClient(api.URL))
}

// toxicCases has every toxic type Toxiproxy 2.12 has, with attributes
// other than the defaults.
var toxicCases = []struct {
	typ   string
	attrs toxiproxy.Attributes
}{
	{"latency", toxiproxy.Attributes{"latency": 100, "jitter": 10}},
	{"bandwidth", toxiproxy.Attributes{"rate": 1000}},
	{"slow_close", toxiproxy.Attributes{"delay": 100}},
	{"timeout", toxiproxy.Attributes{"timeout": 100}},
	{"slicer", toxiproxy.Attributes{"average_size": 64, "size_variation": 32, "delay": 10}},
	{"limit_data", toxiproxy.Attributes{"bytes": 1000}},
	{"reset_peer", toxiproxy.Attributes{"timeout": 100}},
}

// testClient runs the whole client API against the server c talks to.
// The subtests run in order and build on each other, as a user's session
// would.
func testClient(t *testing.T, c *toxiproxy.Client) {
	echoAddr := proxytest.Serve(t, proxytest.Echo)
	upperAddr := proxytest.Serve(t, upper)

	var p *toxiproxy.Proxy // the proxy "echo", created below

	t.Run("Version", func(t *testing.T) {
		body, err := c.Version()
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ Version string }
		if err := json.Unmarshal(body, &v); err != nil || v.Version == "" {
			t.Errorf("GET /version = %q, want Toxiproxy's JSON {\"version\": \"...\"} (%v)", body, err)
		}
	})

	t.Run("CreateProxy", func(t *testing.T) {
		var err error
		p, err = c.CreateProxy("echo", "127.0.0.1:0", echoAddr)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "echo" || p.Upstream != echoAddr || !p.Enabled || strings.HasSuffix(p.Listen, ":0") {
			t.Fatalf("created proxy = %+v, want name echo, upstream %s, enabled, the port chosen", p, echoAddr)
		}
		roundTrip(t, p.Listen, "ping", "ping")
	})
	if p == nil {
		t.FailNow() // everything below needs the proxy
	}

	t.Run("Proxies", func(t *testing.T) {
		all, err := c.Proxies()
		if err != nil {
			t.Fatal(err)
		}
		got := all["echo"]
		if len(all) != 1 || got == nil {
			t.Fatalf("Proxies() = %v, want just echo", all)
		}
		checkProxy(t, got, p.Listen, echoAddr, true, 0)
	})

	t.Run("Proxy", func(t *testing.T) {
		got, err := c.Proxy("echo")
		if err != nil {
			t.Fatal(err)
		}
		checkProxy(t, got, p.Listen, echoAddr, true, 0)
	})

	t.Run("Save", func(t *testing.T) {
		p.Upstream = upperAddr
		if err := p.Save(); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, p.Listen, "ping", "PING")
		got, err := c.Proxy("echo")
		if err != nil {
			t.Fatal(err)
		}
		checkProxy(t, got, p.Listen, upperAddr, true, 0)

		p.Upstream = echoAddr
		if err := p.Save(); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, p.Listen, "ping", "ping")

		// A new listen address moves the proxy. (With port 0, Toxiproxy
		// moves it to a new port and spof keeps it where it is: both
		// listen on "any port".)
		old, moved := p.Listen, freeAddr(t)
		p.Listen = moved
		if err := p.Save(); err != nil {
			t.Fatal(err)
		}
		if p.Listen != moved {
			t.Fatalf("after Save with listen %s, listen = %s", moved, p.Listen)
		}
		roundTrip(t, p.Listen, "ping", "ping")
		checkRefused(t, old)
	})

	t.Run("DisableEnable", func(t *testing.T) {
		open := dial(t, p.Listen)
		if _, _, err := exchange(open, []byte("ping")); err != nil {
			t.Fatal(err)
		}
		if err := p.Disable(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Proxy("echo"); err != nil || got.Enabled {
			t.Errorf("after Disable, Proxy(echo) = %+v, %v; want disabled", got, err)
		}
		// Disabling drops the open connections...
		if n, err := open.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("after Disable, reading an open connection = %d, %v; want EOF or a reset", n, err)
		}
		// ...and refuses new ones.
		checkRefused(t, p.Listen)

		if err := p.Enable(); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, p.Listen, "ping", "ping")
	})

	t.Run("AddToxicEveryType", func(t *testing.T) {
		for _, tc := range toxicCases {
			for _, stream := range []string{"upstream", "downstream"} {
				toxicity := float32(0.25)
				if stream == "downstream" {
					toxicity = 0.75
				}
				got, err := p.AddToxic("", tc.typ, stream, toxicity, tc.attrs)
				if err != nil {
					t.Errorf("AddToxic(%s, %s): %v", tc.typ, stream, err)
					continue
				}
				// Without a name, Toxiproxy names a toxic <type>_<stream>.
				checkToxic(t, *got, tc.typ+"_"+stream, tc.typ, stream, toxicity, tc.attrs)
			}
		}
		list, err := p.Toxics()
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2*len(toxicCases) {
			t.Errorf("Toxics() has %d toxics, want %d: %+v", len(list), 2*len(toxicCases), list)
		}
		for _, tc := range toxicCases {
			name := tc.typ + "_downstream"
			if got, ok := find(list, name); !ok {
				t.Errorf("Toxics() has no %s", name)
			} else {
				checkToxic(t, got, name, tc.typ, "downstream", 0.75, tc.attrs)
			}
		}
		shown, err := c.Proxy("echo")
		if err != nil {
			t.Fatal(err)
		}
		if len(shown.ActiveToxics) != 2*len(toxicCases) {
			t.Errorf("Proxy(echo).ActiveToxics has %d toxics, want %d", len(shown.ActiveToxics), 2*len(toxicCases))
		}
		// Save sends the toxics back with the proxy; the server ignores them.
		if err := shown.Disable(); err != nil {
			t.Errorf("Disable of a proxy read with its toxics: %v", err)
		}
		if err := shown.Enable(); err != nil {
			t.Errorf("Enable of a proxy read with its toxics: %v", err)
		}
		if list, err := p.Toxics(); err != nil || len(list) != 2*len(toxicCases) {
			t.Errorf("after Disable and Enable, Toxics() = %d toxics, %v; want %d", len(list), err, 2*len(toxicCases))
		}
	})

	t.Run("UpdateToxic", func(t *testing.T) {
		// Toxicity -1 keeps the toxicity; unnamed attributes keep their values.
		got, err := p.UpdateToxic("latency_downstream", -1, toxiproxy.Attributes{"latency": 300})
		if err != nil {
			t.Fatal(err)
		}
		checkToxic(t, *got, "latency_downstream", "latency", "downstream", 0.75, toxiproxy.Attributes{"latency": 300, "jitter": 10})

		got, err = c.UpdateToxic(&toxiproxy.ToxicOptions{
			ProxyName: "echo", ToxicName: "latency_upstream", Toxicity: 0.5,
			Attributes: toxiproxy.Attributes{"jitter": 20},
		})
		if err != nil {
			t.Fatal(err)
		}
		checkToxic(t, *got, "latency_upstream", "latency", "upstream", 0.5, toxiproxy.Attributes{"latency": 100, "jitter": 20})
	})

	t.Run("RemoveToxic", func(t *testing.T) {
		if err := p.RemoveToxic("latency_downstream"); err != nil {
			t.Fatal(err)
		}
		if err := c.RemoveToxic(&toxiproxy.ToxicOptions{ProxyName: "echo", ToxicName: "latency_upstream"}); err != nil {
			t.Fatal(err)
		}
		list, err := p.Toxics()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"latency_downstream", "latency_upstream"} {
			if _, ok := find(list, name); ok {
				t.Errorf("after RemoveToxic(%s), Toxics() still has it", name)
			}
		}
		if len(list) != 2*len(toxicCases)-2 {
			t.Errorf("Toxics() has %d toxics, want %d", len(list), 2*len(toxicCases)-2)
		}
	})

	t.Run("ResetState", func(t *testing.T) {
		if err := p.Disable(); err != nil {
			t.Fatal(err)
		}
		if err := c.ResetState(); err != nil {
			t.Fatal(err)
		}
		got, err := c.Proxy("echo")
		if err != nil {
			t.Fatal(err)
		}
		// Reset enables every proxy and removes every toxic.
		checkProxy(t, got, p.Listen, echoAddr, true, 0)
		roundTrip(t, p.Listen, "ping", "ping")
	})

	t.Run("Behaviour", func(t *testing.T) { testBehaviour(t, c, echoAddr) })

	t.Run("Populate", func(t *testing.T) {
		got, err := c.Populate([]toxiproxy.Proxy{
			{Name: "pop1", Listen: "127.0.0.1:0", Upstream: echoAddr, Enabled: true},
			{Name: "pop2", Listen: "127.0.0.1:0", Upstream: echoAddr, Enabled: false},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Name != "pop1" || got[1].Name != "pop2" {
			t.Fatalf("Populate returned %+v, want pop1 and pop2", got)
		}
		roundTrip(t, got[0].Listen, "ping", "ping")
		if got[1].Enabled {
			t.Errorf("Populate returned pop2 enabled, want disabled")
		}

		// Populating an existing name replaces that proxy and leaves the others.
		again, err := c.Populate([]toxiproxy.Proxy{{Name: "pop1", Listen: "127.0.0.1:0", Upstream: upperAddr, Enabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 1 || again[0].Upstream != upperAddr {
			t.Fatalf("Populate returned %+v, want pop1 to %s", again, upperAddr)
		}
		roundTrip(t, again[0].Listen, "ping", "PING")
		all, err := c.Proxies()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"echo", "pop1", "pop2"} {
			if all[name] == nil {
				t.Errorf("after Populate, Proxies() has no %s: %v", name, all)
			}
		}

		_, err = c.Populate([]toxiproxy.Proxy{{Name: "pop3", Listen: "127.0.0.1:0"}})
		checkAPIError(t, "Populate without upstream", err, 400, "missing required field")
	})

	t.Run("Errors", func(t *testing.T) {
		_, err := c.Proxy("nonexistent")
		checkAPIError(t, "Proxy(nonexistent)", err, 404, "proxy not found")

		_, err = c.CreateProxy("echo", "127.0.0.1:0", echoAddr)
		checkAPIError(t, "CreateProxy(echo) again", err, 409, "proxy already exists")

		_, err = c.CreateProxy("noupstream", "127.0.0.1:0", "")
		checkAPIError(t, "CreateProxy without upstream", err, 400, "missing required field")

		_, err = p.AddToxic("", "nonsense", "downstream", 1, nil)
		checkAPIError(t, "AddToxic(nonsense)", err, 400, "invalid toxic type")

		_, err = p.AddToxic("", "latency", "sideways", 1, nil)
		checkAPIError(t, "AddToxic(stream sideways)", err, 400, "stream")

		if _, err := p.AddToxic("twice", "latency", "downstream", 1, nil); err != nil {
			t.Fatal(err)
		}
		_, err = p.AddToxic("twice", "latency", "downstream", 1, nil)
		checkAPIError(t, "AddToxic(twice) again", err, 409, "toxic already exists")

		err = p.RemoveToxic("nonexistent")
		checkAPIError(t, "RemoveToxic(nonexistent)", err, 404, "toxic not found")

		_, err = p.UpdateToxic("nonexistent", 1, toxiproxy.Attributes{})
		checkAPIError(t, "UpdateToxic(nonexistent)", err, 404, "toxic not found")

		// The client-level helpers wrap the error with %v: only the text is left.
		_, err = c.AddToxic(&toxiproxy.ToxicOptions{ProxyName: "nonexistent", ToxicType: "latency", Stream: "downstream", Toxicity: 1})
		if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "proxy not found") {
			t.Errorf("AddToxic on proxy nonexistent: %v, want an error that says 404 and proxy not found", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		if err := p.Delete(); err != nil {
			t.Fatal(err)
		}
		_, err := c.Proxy("echo")
		checkAPIError(t, "Proxy(echo) after Delete", err, 404, "proxy not found")
		checkRefused(t, p.Listen)
		err = p.Delete()
		checkAPIError(t, "Delete(echo) again", err, 404, "proxy not found")
	})
}

// testBehaviour checks what the toxics do to the bytes, one at a time, on
// a proxy of its own. It asserts lower bounds on time only: a toxic can
// make things slower than asked, never faster.
func testBehaviour(t *testing.T, c *toxiproxy.Client, echoAddr string) {
	p, err := c.CreateProxy("behaviour", "127.0.0.1:0", echoAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Delete()
	addr := p.Listen

	add := func(t *testing.T, name, typ, stream string, toxicity float32, attrs toxiproxy.Attributes) {
		t.Helper()
		if _, err := p.AddToxic(name, typ, stream, toxicity, attrs); err != nil {
			t.Fatal(err)
		}
	}
	remove := func(t *testing.T, names ...string) {
		t.Helper()
		for _, name := range names {
			if err := p.RemoveToxic(name); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("latency", func(t *testing.T) {
		const latency = 200 * time.Millisecond
		// One connection, open before and after: Toxiproxy applies toxics
		// to the connections already open.
		conn := dial(t, addr)
		if _, took, err := exchange(conn, []byte("ping")); err != nil || took >= latency {
			t.Fatalf("without a toxic: round trip %v, %v; want under %v", took, err, latency)
		}
		add(t, "lat_up", "latency", "upstream", 1, toxiproxy.Attributes{"latency": 100})
		add(t, "lat_down", "latency", "downstream", 1, toxiproxy.Attributes{"latency": 100})
		if _, took, err := exchange(conn, []byte("ping")); err != nil || took < latency {
			t.Errorf("open connection, 100 ms each way: round trip %v, %v; want at least %v", took, err, latency)
		}
		if took := roundTrip(t, addr, "ping", "ping"); took < latency {
			t.Errorf("new connection, 100 ms each way: round trip %v, want at least %v", took, latency)
		}
		if _, err := p.UpdateToxic("lat_down", -1, toxiproxy.Attributes{"latency": 300}); err != nil {
			t.Fatal(err)
		}
		if took := roundTrip(t, addr, "ping", "ping"); took < 400*time.Millisecond {
			t.Errorf("after UpdateToxic to 300 ms down: round trip %v, want at least 400ms", took)
		}
		remove(t, "lat_up", "lat_down")
		if _, took, err := exchange(conn, []byte("ping")); err != nil || took >= latency {
			t.Errorf("open connection after RemoveToxic: round trip %v, %v; want under %v", took, err, latency)
		}
		if took := roundTrip(t, addr, "ping", "ping"); took >= latency {
			t.Errorf("new connection after RemoveToxic: round trip %v, want under %v", took, latency)
		}
	})

	t.Run("limit_data and toxicity", func(t *testing.T) {
		// Toxicity 0: the toxic never applies.
		add(t, "limit", "limit_data", "downstream", 0, toxiproxy.Attributes{"bytes": 2})
		for range 3 {
			roundTrip(t, addr, "ping", "ping")
		}
		// Toxicity 1: it always does; two bytes pass, then the proxy closes.
		if _, err := p.UpdateToxic("limit", 1, toxiproxy.Attributes{}); err != nil {
			t.Fatal(err)
		}
		conn := dial(t, addr)
		conn.Write([]byte("ping"))
		got, err := io.ReadAll(conn)
		if string(got) != "pi" || err != nil {
			t.Errorf("limit_data 2 bytes: read %q, %v; want \"pi\" then EOF", got, err)
		}
		remove(t, "limit")
	})

	t.Run("reset_peer", func(t *testing.T) {
		add(t, "reset", "reset_peer", "upstream", 1, toxiproxy.Attributes{"timeout": 0})
		conn := dial(t, addr)
		conn.Write([]byte("ping"))
		got, err := io.ReadAll(conn)
		if len(got) != 0 || !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("reset_peer: read %q, %v; want a connection reset", got, err)
		}
		remove(t, "reset")
	})

	t.Run("timeout", func(t *testing.T) {
		add(t, "timeout", "timeout", "downstream", 1, toxiproxy.Attributes{"timeout": 100})
		// The proxy's clock starts when it accepts the connection: after
		// start, whatever the scheduler does (a lower bound that holds).
		start := time.Now()
		conn := dial(t, addr)
		conn.Write([]byte("ping"))
		got, err := io.ReadAll(conn)
		if len(got) != 0 || isTimeout(err) {
			t.Errorf("timeout 100 ms: read %q, %v; want nothing, then the connection closed", got, err)
		}
		if took := time.Since(start); took < 100*time.Millisecond {
			t.Errorf("timeout 100 ms: closed after %v, want at least 100ms", took)
		}
		remove(t, "timeout")
	})

	t.Run("slicer", func(t *testing.T) {
		add(t, "slicer", "slicer", "downstream", 1, toxiproxy.Attributes{"average_size": 4, "size_variation": 2, "delay": 100})
		msg := strings.Repeat("0123456789", 30)
		roundTrip(t, addr, msg, msg)
		remove(t, "slicer")
	})

	t.Run("bandwidth", func(t *testing.T) {
		// 10 KB/s: 5,000 bytes take half a second; ask for half that.
		add(t, "bandwidth", "bandwidth", "downstream", 1, toxiproxy.Attributes{"rate": 10})
		msg := strings.Repeat("x", 5000)
		if took := roundTrip(t, addr, msg, msg); took < 250*time.Millisecond {
			t.Errorf("bandwidth 10 KB/s: 5,000 bytes in %v, want at least 250ms", took)
		}
		remove(t, "bandwidth")
	})

	t.Run("slow_close", func(t *testing.T) {
		add(t, "slow_close", "slow_close", "downstream", 1, toxiproxy.Attributes{"delay": 200})
		conn := dial(t, addr)
		if _, _, err := exchange(conn, []byte("ping")); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		conn.CloseWrite() // the echo server closes in turn
		if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil || isTimeout(err) {
			t.Errorf("slow_close: read %d bytes, %v; want the connection closed", n, err)
		}
		if took := time.Since(start); took < 200*time.Millisecond {
			t.Errorf("slow_close 200 ms: closed after %v, want at least 200ms", took)
		}
		remove(t, "slow_close")
	})
}

func checkProxy(t *testing.T, p *toxiproxy.Proxy, listen, upstream string, enabled bool, toxics int) {
	t.Helper()
	if p.Listen != listen || p.Upstream != upstream || p.Enabled != enabled || len(p.ActiveToxics) != toxics {
		t.Errorf("proxy %s = listen %s, upstream %s, enabled %v, %d toxics; want %s, %s, %v, %d",
			p.Name, p.Listen, p.Upstream, p.Enabled, len(p.ActiveToxics), listen, upstream, enabled, toxics)
	}
}

// checkToxic compares a toxic with what was asked. Only the attributes in
// want are compared: a server may show the defaults of the others.
func checkToxic(t *testing.T, got toxiproxy.Toxic, name, typ, stream string, toxicity float32, want toxiproxy.Attributes) {
	t.Helper()
	if got.Name != name || got.Type != typ || got.Stream != stream || got.Toxicity != toxicity {
		t.Errorf("toxic = %s %s %s toxicity %v; want %s %s %s toxicity %v",
			got.Name, got.Type, got.Stream, got.Toxicity, name, typ, stream, toxicity)
	}
	for k, v := range want {
		// Attributes come back from JSON as float64.
		if g, ok := got.Attributes[k].(float64); !ok || g != float64(v.(int)) {
			t.Errorf("toxic %s: attribute %s = %v (%T), want %v", name, k, got.Attributes[k], got.Attributes[k], v)
		}
	}
}

func find(list toxiproxy.Toxics, name string) (toxiproxy.Toxic, bool) {
	for _, t := range list {
		if t.Name == name {
			return t, true
		}
	}
	return toxiproxy.Toxic{}, false
}

// checkAPIError checks that err carries Toxiproxy's JSON error with
// status and a message containing msg.
func checkAPIError(t *testing.T, what string, err error, status int, msg string) {
	t.Helper()
	var apiErr *toxiproxy.ApiError
	switch {
	case err == nil:
		t.Errorf("%s: no error, want HTTP %d %q", what, status, msg)
	case !errors.As(err, &apiErr):
		t.Errorf("%s: %v (%T), want the client's ApiError with HTTP %d", what, err, err, status)
	case apiErr.Status != status || !strings.Contains(apiErr.Message, msg):
		t.Errorf("%s: %v, want HTTP %d %q", what, err, status, msg)
	}
}

// checkRefused checks that nothing listens on addr any more.
func checkRefused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err == nil {
		c.Close()
		t.Errorf("connecting to %s succeeded, want it refused", addr)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connecting to %s: %v, want connection refused", addr, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
