package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	toxiproxyserver "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spofhq/spof/proxy"
	"github.com/spofhq/spof/proxy/proxytest"
)

// TestAPIMatchesToxiproxy sends the same raw HTTP requests, in order, to
// spof's proxy server and to Toxiproxy v2.12.0, and compares the answers:
// the same status, and JSON bodies with Toxiproxy's keys and values (spof
// may add the keys in extraKeys). An error message must contain the
// condition Toxiproxy's names ("proxy not found"); the detail may differ.
func TestAPIMatchesToxiproxy(t *testing.T) {
	checkGoroutines(t)
	echoAddr := proxytest.Serve(t, proxytest.Echo)

	ours := proxy.New(proxy.Options{})
	oursAPI := httptest.NewServer(ours.Handler())
	t.Cleanup(func() {
		oursAPI.Close()
		if err := ours.Close(context.Background()); err != nil {
			t.Errorf("closing the proxy server: %v", err)
		}
	})
	theirs := toxiproxyserver.NewServer(toxiproxyserver.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	theirsAPI := httptest.NewServer(theirs.Routes())
	t.Cleanup(func() {
		theirsAPI.Close()
		theirs.Collection.Clear()
	})

	up := `"upstream": "` + echoAddr + `"`
	steps := []struct {
		method, path, body string
		// differs, when set, says how spof answers on purpose otherwise
		// than Toxiproxy: with status oursStatus, and a body that is not
		// compared.
		differs    string
		oursStatus int
	}{
		{"GET", "/version", "", "", 0},
		{"POST", "/proxies", `{"name": "a", "listen": "127.0.0.1:0", ` + up + `}`, "", 0},
		{"POST", "/proxies", `{"name": "a", "listen": "127.0.0.1:0", ` + up + `}`, "", 0},
		{"POST", "/proxies", `{"name": "b", "listen": "127.0.0.1:0"}`, "", 0},
		{"POST", "/proxies", `{"listen": "127.0.0.1:0", ` + up + `}`, "", 0},
		{"POST", "/proxies", `not json`, "", 0},
		{"POST", "/proxies", `{"name": "c", "listen": "127.0.0.1:0", "enabled": false, ` + up + `}`, "", 0},
		{"GET", "/proxies", "", "", 0},
		{"GET", "/proxies/a", "", "", 0},
		{"GET", "/proxies/nonexistent", "", "", 0},
		{"POST", "/proxies/a", `{"enabled": false}`, "", 0},
		{"PATCH", "/proxies/a", `{"enabled": true}`, "", 0},
		{"POST", "/proxies/nonexistent", `{"enabled": true}`, "", 0},
		{"POST", "/proxies/a/toxics", `{"type": "latency", "attributes": {"latency": 5}}`, "", 0},
		{"POST", "/proxies/a/toxics", `{"name": "bw", "type": "bandwidth", "stream": "upstream", "toxicity": 0.5, "attributes": {"rate": 100}}`, "", 0},
		{"POST", "/proxies/a/toxics", `{"name": "bw", "type": "bandwidth", "stream": "upstream", "attributes": {"rate": 100}}`, "", 0},
		{"POST", "/proxies/a/toxics", `{"type": "nonsense"}`, "", 0},
		{"POST", "/proxies/a/toxics", `{"type": "latency", "stream": "sideways"}`, "", 0},
		{"POST", "/proxies/a/toxics", `{"type": "slicer", "stream": "upstream"}`, "", 0},
		{"POST", "/proxies/a/toxics", `{"type": "timeout", "stream": "upstream", "toxicity": 0}`, "", 0},
		{"POST", "/proxies/a/toxics", `not json`, "", 0},
		{"POST", "/proxies/nonexistent/toxics", `{"type": "latency"}`, "", 0},
		{"GET", "/proxies/a/toxics", "", "", 0},
		{"GET", "/proxies/a/toxics/bw", "", "", 0},
		{"GET", "/proxies/a/toxics/nonexistent", "", "", 0},
		{"GET", "/proxies/a", "", "", 0},
		{"PATCH", "/proxies/a/toxics/bw", `{"attributes": {"rate": 200}}`, "", 0},
		{"POST", "/proxies/a/toxics/bw", `{"toxicity": 0.25}`, "", 0},
		{"PATCH", "/proxies/a/toxics/nonexistent", `{"toxicity": 0.25}`, "", 0},
		{"DELETE", "/proxies/a/toxics/bw", "", "", 0},
		{"DELETE", "/proxies/a/toxics/bw", "", "", 0},
		{"POST", "/populate", `[{"name": "p", "listen": "127.0.0.1:0", ` + up + `}]`, "", 0},
		{"POST", "/populate", `[{"name": "q", "listen": "127.0.0.1:0", ` + up + `}, {"name": "r", "listen": "127.0.0.1:0"}]`, "", 0},
		{"POST", "/populate", `not json`, "", 0},
		{"POST", "/populate", `[]`, "", 0},
		{"GET", "/proxies", "", "", 0},
		{"POST", "/reset", "", "", 0},
		{"GET", "/proxies", "", "", 0},

		// Toxiproxy ignores unknown fields and attributes and takes any
		// number; spof refuses them, so that a typo is an error, not a
		// toxic that silently does nothing.
		{"POST", "/proxies", `{"name": "u", "listen": "127.0.0.1:0", "unknown_field": 1, ` + up + `}`, "unknown field refused", 400},
		{"POST", "/proxies/a/toxics", `{"name": "x1", "type": "latency", "attributes": {"unknown_attribute": 1}}`, "unknown attribute refused", 400},
		{"POST", "/proxies/a/toxics", `{"name": "x2", "type": "latency", "unknown_field": 1}`, "unknown field refused", 400},
		{"POST", "/proxies/a/toxics", `{"name": "x3", "type": "latency", "toxicity": 2}`, "toxicity above 1 refused", 400},
		{"POST", "/proxies/a/toxics", `{"name": "x4", "type": "latency", "attributes": {"latency": -5}}`, "negative attribute refused", 400},
		{"POST", "/proxies/a/toxics", `{"name": "x5", "type": "latency", "attributes": {"latency": "5"}}`, "message without \"bad request body\"", 400},
		{"POST", "/proxies/a/toxics", `{"name": "x6", "type": "latency", "attributes": {"latency": 1.5}}`, "message without \"bad request body\"", 400},
		{"DELETE", "/proxies/a", "", "", 0},
		{"DELETE", "/proxies/a", "", "", 0},
	}

	// Ports differ between the two servers: each server's listen
	// addresses are replaced by the same placeholder, in order of first
	// appearance.
	oursNorm, theirsNorm := newNormalizer(), newNormalizer()
	for i, s := range steps {
		what := fmt.Sprintf("step %d: %s %s %s", i+1, s.method, s.path, s.body)
		oStatus, oBody := call(t, oursAPI.URL, s.method, s.path, s.body)
		tStatus, tBody := call(t, theirsAPI.URL, s.method, s.path, s.body)
		if s.differs != "" {
			if oStatus != s.oursStatus {
				t.Errorf("%s\n  status %d, Toxiproxy %d; want %d (%s)\n  ours:      %s\n  Toxiproxy: %s",
					what, oStatus, tStatus, s.oursStatus, s.differs, oBody, tBody)
			}
			continue
		}
		if oStatus != tStatus {
			t.Errorf("%s\n  status %d, Toxiproxy %d\n  ours:      %s\n  Toxiproxy: %s", what, oStatus, tStatus, oBody, tBody)
			continue
		}
		if s.path == "/version" {
			continue // the versions differ, the shape is checked in TestToxiproxyClientCompat
		}
		o, oErr := decode(oBody, oursNorm)
		th, tErr := decode(tBody, theirsNorm)
		if (oErr == nil) != (tErr == nil) {
			t.Errorf("%s\n  ours:      %s\n  Toxiproxy: %s", what, oBody, tBody)
			continue
		}
		if diffs := compareJSON("", o, th); len(diffs) > 0 {
			t.Errorf("%s\n  %s\n  ours:      %s\n  Toxiproxy: %s", what, strings.Join(diffs, "\n  "), oBody, tBody)
		}
	}
}

// extraKeys are the keys spof adds to Toxiproxy's objects: a toxic's TTL.
var extraKeys = []string{"ttl", "expires_at"}

// ignoredKeys are keys of Toxiproxy's answers that are accidents of its
// implementation: "Logger" is its proxies' exported zerolog.Logger,
// always {}.
var ignoredKeys = []string{"Logger"}

func call(t *testing.T, base, method, path, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, bytes.TrimSpace(data)
}

// A normalizer replaces listen addresses by placeholders.
type normalizer struct{ seen map[string]string }

func newNormalizer() *normalizer { return &normalizer{seen: map[string]string{}} }

func (n *normalizer) listen(addr string) string {
	if _, ok := n.seen[addr]; !ok {
		n.seen[addr] = fmt.Sprintf("LISTEN%d", len(n.seen)+1)
	}
	return n.seen[addr]
}

// decode parses body, an empty body as nil, and normalizes every
// "listen" value.
func decode(body []byte, n *normalizer) (any, error) {
	if len(body) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "listen" {
					v[k] = n.listen(s)
				} else {
					walk(e)
				}
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return v, nil
}

// compareJSON lists where ours differs from theirs, at path.
func compareJSON(path string, ours, theirs any) []string {
	switch th := theirs.(type) {
	case map[string]any:
		o, ok := ours.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v, Toxiproxy has an object", or(path), ours)}
		}
		var diffs []string
		for _, k := range slices.Sorted(maps.Keys(th)) {
			ov, has := o[k]
			switch {
			case slices.Contains(ignoredKeys, k):
			case !has && th[k] == nil:
				// A null list in Toxiproxy's answer: absent in ours is the same.
			case !has:
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing (Toxiproxy: %v)", path, k, th[k]))
			case k == "error":
				// Toxiproxy's messages start with a fixed condition ("proxy
				// not found"), then detail after ": " or " at ". The
				// condition must come first; the detail may differ.
				cond, _, _ := strings.Cut(th[k].(string), ": ")
				cond, _, _ = strings.Cut(cond, " at proxy ")
				if os, ok := ov.(string); !ok || !strings.HasPrefix(os, cond) {
					diffs = append(diffs, fmt.Sprintf("%s.error: %q does not start with Toxiproxy's %q", path, ov, cond))
				}
			default:
				diffs = append(diffs, compareJSON(path+"."+k, ov, th[k])...)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(o)) {
			if _, has := th[k]; !has && !slices.Contains(extraKeys, k) {
				diffs = append(diffs, fmt.Sprintf("%s.%s: not in Toxiproxy's answer", path, k))
			}
		}
		return diffs
	case []any:
		o, ok := ours.([]any)
		if len(th) == 0 && (ours == nil || ok && len(o) == 0) {
			return nil // [] and null: no items either way
		}
		if !ok || len(o) != len(th) {
			return []string{fmt.Sprintf("%s: %v, Toxiproxy: %v", or(path), ours, theirs)}
		}
		var diffs []string
		for i := range th {
			diffs = append(diffs, compareJSON(fmt.Sprintf("%s[%d]", path, i), o[i], th[i])...)
		}
		return diffs
	case nil:
		if o, ok := ours.([]any); ok && len(o) == 0 {
			return nil // null and []: no items either way
		}
		if ours != nil {
			return []string{fmt.Sprintf("%s: %v, Toxiproxy: null", or(path), ours)}
		}
		return nil
	default:
		if !reflect.DeepEqual(ours, theirs) {
			return []string{fmt.Sprintf("%s: %v, Toxiproxy: %v", or(path), ours, theirs)}
		}
		return nil
	}
}

func or(path string) string {
	if path == "" {
		return "body"
	}
	return path
}
