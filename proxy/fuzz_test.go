package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// FuzzToxics drives the API and the data path with random toxics under
// traffic: whatever the type and attributes, the API answers 200 or 400
// (never a crash or a 500), the proxy relays again once the toxic is
// removed, and once the clients leave no connection stays open and no
// goroutine stays in the data path (a copy loop that never advanced
// burnt a core after its toxic was gone).
func FuzzToxics(f *testing.F) {
	f.Add(uint8(0), int64(10), int64(5), int64(0), 1.0, false, uint8(0))                               // latency
	f.Add(uint8(5), int64(100_000_000_000_000_000), int64(0), int64(0), 1.0, false, uint8(0))          // bandwidth, 1e17
	f.Add(uint8(5), int64(1<<62), int64(0), int64(0), 1.0, true, uint8(0))                             // bandwidth, 2^62
	f.Add(uint8(5), int64(1), int64(0), int64(0), 1.0, true, uint8(0))                                 // bandwidth, 1 KB/s
	f.Add(uint8(2), int64(math.MaxInt64), int64(0), int64(0), 1.0, true, uint8(0))                     // timeout
	f.Add(uint8(4), int64(math.MaxInt64), int64(0), int64(0), 1.0, true, uint8(0))                     // reset_peer
	f.Add(uint8(0), int64(10_000_000_000_000), int64(math.MaxInt64), int64(0), 1.0, false, uint8(200)) // latency, jitter
	f.Add(uint8(1), int64(0), int64(0), int64(0), 1.0, false, uint8(0))                                // down
	f.Add(uint8(1), int64(0), int64(0), int64(0), 0.5, false, uint8(10))                               // down, some
	f.Add(uint8(7), int64(3), int64(2), int64(100), 1.0, false, uint8(128))                            // slicer
	f.Add(uint8(8), int64(10), int64(0), int64(0), 1.0, false, uint8(0))                               // limit_data
	f.Add(uint8(6), int64(50), int64(0), int64(0), 1.0, false, uint8(0))                               // slow_close
	f.Add(uint8(3), int64(30), int64(0), int64(0), math.Inf(1), true, uint8(0))                        // blackhole
	f.Fuzz(func(t *testing.T, typ uint8, a, b, c int64, toxicity float64, upstream bool, draw uint8) {
		types := ToxicTypes()
		tt := types[int(typ)%len(types)]
		attrs := map[string]int64{}
		for i, v := range []int64{a, b, c} {
			if i < len(kinds[tt]) {
				attrs[kinds[tt][i].name] = v
			}
		}
		stream := Downstream
		if upstream {
			stream = Upstream
		}
		body, err := jsonBody(map[string]any{"type": tt, "stream": stream, "toxicity": toxicity, "attributes": attrs})
		if err != nil {
			return // NaN or ±Inf: not JSON, so no request can carry it
		}

		p := float64(draw) / 256
		tp := startProxy(t, Options{Rand: func() float64 { return p }}, startEcho(t))
		api := httptest.NewServer(tp.s.Handler())
		defer api.Close()
		defer api.CloseClientConnections()

		before := tp.dial()
		status, answer := request(t, api.URL, http.MethodPost, "/proxies/test/toxics", body)
		if status != http.StatusOK && status != http.StatusBadRequest {
			t.Fatalf("POST %s: %d %s, want 200 or 400", body, status, answer)
		}

		// Traffic under the toxic: whatever comes back, within a bound.
		during, err := net.DialTimeout("tcp", tp.addr, testTimeout)
		conns := []net.Conn{before}
		if err == nil {
			conns = append(conns, during)
		}
		for _, c := range conns {
			c.SetDeadline(time.Now().Add(20 * time.Millisecond))
			c.Write(numbered(64 << 10))
			io.Copy(io.Discard, c)
			c.SetDeadline(time.Now().Add(testTimeout))
		}

		if status == http.StatusOK {
			name := string(tt) + "_" + stream
			if status, answer := request(t, api.URL, http.MethodDelete, "/proxies/test/toxics/"+name, ""); status != http.StatusNoContent {
				t.Fatalf("DELETE %s: %d %s", name, status, answer)
			}
		}
		after := tp.dial()
		roundTrip(t, after, "after")
		conns = append(conns, after)

		for _, c := range conns {
			c.Close()
		}
		api.CloseClientConnections()
		tp.waitMetric("spof_proxy_connections_active", 0)
		waitFor(t, func() string {
			var b bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			for _, fn := range []string{"proxy.(*pipe)", "proxy.(*writer)", "proxy.(*link)"} {
				if strings.Contains(b.String(), fn) {
					return "a goroutine is still in " + fn + " after every client left:\n" + b.String()
				}
			}
			return ""
		})
	})
}

func jsonBody(v map[string]any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// request makes one API call and returns the status and the body.
func request(t *testing.T, base, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	client := http.Client{Timeout: testTimeout}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v (did the server crash?)", method, path, body, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
