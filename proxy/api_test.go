package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/spofhq/spof/proxy/proxytest"
)

// TestAPIGolden runs the HTTP exchanges in testdata/api/*.txtar against
// Handler and compares the responses with the golden ones; -update
// rewrites them.
//
// Each archive is a script: a "request" file holds a request as
//
//	METHOD /path
//	Header: value   (optional)
//
//	body            (optional)
//
// and the "response" file after it the status, the Content-Type and Allow
// headers, and the body. A request "ADVANCE 20s" moves the server's clock
// instead. The archive comment can set "max-ttl: 1h".
//
// Addresses are written as variables: $UPSTREAM is an echo server,
// $LISTEN1 to $LISTEN3 free ports, $BUSY a port another listener holds;
// responses name them the same way, so the files do not depend on the
// ports of the run. The clock starts at 2025-01-02T03:04:05Z.
//
// Not parallel: the free ports must stay free while it runs.
func TestAPIGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/api/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	vars := apiVars(t)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			runGolden(t, file, vars)
		})
	}
}

// apiVars returns the addresses the golden files refer to, by name.
func apiVars(t *testing.T) map[string]string {
	vars := map[string]string{"UPSTREAM": startEcho(t)}
	for i := 1; i <= 3; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		vars["LISTEN"+strconv.Itoa(i)] = ln.Addr().String()
		ln.Close()
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	vars["BUSY"] = busy.Addr().String()
	return vars
}

func runGolden(t *testing.T, file string, vars map[string]string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	clock := proxytest.NewFakeClock()
	opts := Options{Clock: clock}
	sc := bufio.NewScanner(bytes.NewReader(ar.Comment))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "max-ttl: "); ok {
			if opts.MaxTTL, err = time.ParseDuration(v); err != nil {
				t.Fatalf("%s: max-ttl: %v", file, err)
			}
		}
	}
	s := newServer(t, opts)
	h := s.Handler()

	out := &txtar.Archive{Comment: ar.Comment}
	for i := 0; i < len(ar.Files); i++ {
		f := ar.Files[i]
		if f.Name != "request" {
			t.Fatalf("%s: file %d is %q, want a request", file, i+1, f.Name)
		}
		out.Files = append(out.Files, f)
		req := expand(string(f.Data), vars)
		if d, ok := strings.CutPrefix(strings.TrimSpace(req), "ADVANCE "); ok {
			dur, err := time.ParseDuration(d)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			clock.Advance(dur)
			continue
		}
		got := mask(serveRequest(t, h, req), vars)
		out.Files = append(out.Files, txtar.File{Name: "response", Data: []byte(got)})
		var want string
		if i+1 < len(ar.Files) && ar.Files[i+1].Name == "response" {
			i++
			want = string(ar.Files[i].Data)
		}
		if !*update && got != want {
			t.Errorf("%s: %s\nresponse (-want +got):\n%s", file, firstLine(string(f.Data)), cmp.Diff(want, got))
		}
	}
	if *update {
		if err := os.WriteFile(file, txtar.Format(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// serveRequest parses a request written as in the golden files, serves
// it, and writes the response the same way.
func serveRequest(t *testing.T, h http.Handler, text string) string {
	head, body, _ := strings.Cut(text, "\n\n")
	lines := strings.Split(strings.TrimRight(head, "\n"), "\n")
	method, path, ok := strings.Cut(lines[0], " ")
	if !ok {
		t.Fatalf("request line %q: want METHOD /path", lines[0])
	}
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("User-Agent", "toxiproxy-cli")
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("header line %q: want Name: value", l)
		}
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)

	var b strings.Builder
	fmt.Fprintf(&b, "%d %s\n", w.Code, http.StatusText(w.Code))
	for _, k := range []string{"Content-Type", "Allow"} {
		if v := w.Header().Get(k); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	if w.Body.Len() > 0 {
		b.WriteString("\n")
		b.WriteString(w.Body.String())
		if !strings.HasSuffix(w.Body.String(), "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// expand replaces $NAME by the value of variable NAME.
func expand(s string, vars map[string]string) string {
	return os.Expand(s, func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return "$" + name
	})
}

var loopbackAddr = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// mask replaces the addresses of vars by their names, and the port of any
// other loopback address from 10000 up (a port the system chose) by
// $PORT. The golden files use no fixed port that high.
func mask(s string, vars map[string]string) string {
	names := map[string]string{}
	for name, addr := range vars {
		names[addr] = "$" + name
	}
	return loopbackAddr.ReplaceAllStringFunc(s, func(addr string) string {
		if name, ok := names[addr]; ok {
			return name
		}
		if port, _ := strconv.Atoi(strings.TrimPrefix(addr, "127.0.0.1:")); port >= 10000 {
			return "127.0.0.1:$PORT"
		}
		return addr
	})
}

// The golden files must exercise every route of Handler.
func TestAPIGoldenCoversEveryRoute(t *testing.T) {
	routes := []string{
		"GET /version", "GET /metrics", "POST /reset", "POST /populate",
		"GET /proxies", "POST /proxies",
		"GET /proxies/{proxy}", "POST /proxies/{proxy}", "PATCH /proxies/{proxy}", "DELETE /proxies/{proxy}",
		"GET /proxies/{proxy}/toxics", "POST /proxies/{proxy}/toxics",
		"GET /proxies/{proxy}/toxics/{toxic}", "POST /proxies/{proxy}/toxics/{toxic}",
		"PATCH /proxies/{proxy}/toxics/{toxic}", "DELETE /proxies/{proxy}/toxics/{toxic}",
	}
	files, _ := filepath.Glob("testdata/api/*.txtar")
	var seen []string
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if f.Name == "request" {
				seen = append(seen, firstLine(string(f.Data)))
			}
		}
	}
	for _, route := range routes {
		parts := strings.Split(route, "/")
		for i, part := range parts {
			if strings.HasPrefix(part, "{") {
				parts[i] = `[^/]+`
			} else {
				parts[i] = regexp.QuoteMeta(part)
			}
		}
		re := regexp.MustCompile("^" + strings.Join(parts, "/") + "$")
		if !slices.ContainsFunc(seen, re.MatchString) {
			t.Errorf("no golden request for %s", route)
		}
	}
}
