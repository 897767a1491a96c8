package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the fake start of every sample.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// ticking is a clock that advances by step on every reading, so that a
// sample (two readings) takes exactly step.
func ticking(step time.Duration) func() time.Time {
	now := t0.Add(-step)
	return func() time.Time {
		now = now.Add(step)
		return now
	}
}

// check asserts a Result's state and that its Detail contains want.
func check(t *testing.T, got Result, state analysis.State, want string) {
	t.Helper()
	if got.State != state || !strings.Contains(got.Detail, want) {
		t.Errorf("Run = %v %q, want %v with %q", got.State, got.Detail, state, want)
	}
}

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTP(t *testing.T) {
	long := strings.Repeat("x", 300)
	huge := strings.Repeat("a", maxBody) + "MARKER"
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("all good")) })
	mux.HandleFunc("/post", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "want POST", http.StatusMethodNotAllowed)
		}
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "db down", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/long", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, long, http.StatusInternalServerError)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(huge)) })
	mux.HandleFunc("/degraded", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Degraded", "sessions")
		w.Write([]byte("mode: read-only"))
	})
	mux.HandleFunc("/degraded-down", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Degraded", "sessions")
		w.WriteHeader(http.StatusBadGateway)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	srv := serve(t, mux.ServeHTTP)

	tests := []struct {
		name  string
		probe model.Probe
		state analysis.State
		want  string
	}{
		{"up", model.Probe{HTTP: "/ok"}, analysis.Up, "200 OK in 12ms"},
		{"method", model.Probe{HTTP: "/post", Method: "POST"}, analysis.Up, "200 OK in 12ms"},
		{"wrong method", model.Probe{HTTP: "/post"}, analysis.Down, `405 Method Not Allowed (want 200): body "want POST\n"`},
		{"expect status", model.Probe{HTTP: "/nocontent", ExpectStatus: 204}, analysis.Up, "204 No Content in 12ms"},
		{"unexpected status", model.Probe{HTTP: "/ok", ExpectStatus: 204}, analysis.Down, `200 OK (want 204): body "all good"`},
		{"503", model.Probe{HTTP: "/down"}, analysis.Down, `503 Service Unavailable (want 200): body "db down\n"`},
		{"body quoted up to 200 bytes", model.Probe{HTTP: "/long"}, analysis.Down, `body "` + long[:200] + `"`},
		{"body contains", model.Probe{HTTP: "/ok", BodyContains: "good"}, analysis.Up, "200 OK in 12ms"},
		{"body lacks", model.Probe{HTTP: "/ok", BodyContains: "healthy"}, analysis.Down, `200 OK: body does not contain "healthy": body "all good"`},
		{"body read up to 1MiB", model.Probe{HTTP: "/huge", BodyContains: "MARKER"}, analysis.Down, `body does not contain "MARKER"`},
		{"within max latency", model.Probe{HTTP: "/ok", MaxLatency: time.Second}, analysis.Up, "200 OK in 12ms"},
		{"degraded header", model.Probe{HTTP: "/degraded", DegradedWhen: &model.DegradedWhen{Header: "x-degraded"}}, analysis.Degraded, "X-Degraded: sessions"},
		{"degraded header value", model.Probe{HTTP: "/degraded", DegradedWhen: &model.DegradedWhen{Header: "X-Degraded", Value: "sessions"}}, analysis.Degraded, "X-Degraded: sessions"},
		{"degraded header other value", model.Probe{HTTP: "/degraded", DegradedWhen: &model.DegradedWhen{Header: "X-Degraded", Value: "all"}}, analysis.Up, "200 OK in 12ms"},
		{"degraded header absent", model.Probe{HTTP: "/ok", DegradedWhen: &model.DegradedWhen{Header: "X-Degraded"}}, analysis.Up, "200 OK in 12ms"},
		{"degraded body", model.Probe{HTTP: "/degraded", DegradedWhen: &model.DegradedWhen{BodyContains: "read-only"}}, analysis.Degraded, `body contains "read-only"`},
		{"degraded body absent", model.Probe{HTTP: "/ok", DegradedWhen: &model.DegradedWhen{BodyContains: "read-only"}}, analysis.Up, "200 OK in 12ms"},
		{"down beats degraded", model.Probe{HTTP: "/degraded-down", DegradedWhen: &model.DegradedWhen{Header: "X-Degraded"}}, analysis.Down, "502 Bad Gateway (want 200)"},
		{"redirect not followed", model.Probe{HTTP: "/redirect"}, analysis.Down, "302 Found (want 200)"},
		{"redirect expected", model.Probe{HTTP: "/redirect", ExpectStatus: 302}, analysis.Up, "302 Found in 12ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.probe
			p.HTTP = srv.URL + p.HTTP
			got := Run(t.Context(), &p, Options{Now: ticking(12 * time.Millisecond)})
			check(t, got, tt.state, tt.want)
			if got.Latency != 12*time.Millisecond || !got.At.Equal(t0) {
				t.Errorf("Latency, At = %v, %v; want 12ms, %v", got.Latency, got.At, t0)
			}
		})
	}
}

func TestMaxLatency(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Degraded", "yes") })
	ln := listen(t)
	tests := []struct {
		name  string
		probe model.Probe
	}{
		{"http", model.Probe{HTTP: srv.URL}},
		{"http degraded", model.Probe{HTTP: srv.URL, DegradedWhen: &model.DegradedWhen{Header: "X-Degraded"}}},
		{"tcp", model.Probe{TCP: ln.Addr().String()}},
		{"command", model.Probe{Command: "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.probe
			p.MaxLatency = time.Second
			got := Run(t.Context(), &p, Options{Now: ticking(1200 * time.Millisecond)})
			check(t, got, analysis.Down, "took 1.2s, more than max_latency 1s")
		})
	}
}

// TestHTTPClientRedirects checks that a caller's client that follows
// redirects does not make the probe follow them, and is left as it was.
func TestHTTPClientRedirects(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
		}
	})
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	got := Run(t.Context(), &model.Probe{HTTP: srv.URL}, Options{Client: client})
	check(t, got, analysis.Down, "301 Moved Permanently (want 200)")
	if client.CheckRedirect != nil {
		t.Error("Run changed the caller's client")
	}
}

func TestHTTPErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name  string
		probe model.Probe
		want  string
	}{
		{"no scheme", model.Probe{HTTP: "://nope"}, `http probe "://nope": parse "://nope": missing protocol scheme`},
		{"bad scheme", model.Probe{HTTP: "ftp://127.0.0.1/"}, "unsupported protocol scheme"},
		{"bad method", model.Probe{HTTP: "http://127.0.0.1/", Method: "NOT A METHOD"}, `invalid method "NOT A METHOD"`},
		{"closed server", model.Probe{HTTP: closed.URL}, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Run(t.Context(), &tt.probe, Options{}), analysis.Down, tt.want)
		})
	}
}

// hanging serves requests that never answer until the test ends.
func hanging(t *testing.T) *httptest.Server {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	return srv
}

func TestHTTPHangs(t *testing.T) {
	srv := hanging(t)
	start := time.Now()
	got := Run(t.Context(), &model.Probe{HTTP: srv.URL, MaxLatency: 50 * time.Millisecond}, Options{})
	check(t, got, analysis.Down, "timed out after 100ms: ")
	// A bound on hanging, not a performance check: without the timeout
	// Run would wait for the test's end.
	if d := time.Since(start); d > DefaultTimeout {
		t.Errorf("Run took %v", d)
	}
}

func TestCallerContextEnds(t *testing.T) {
	srv := hanging(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, p := range []*model.Probe{
		{HTTP: srv.URL},
		{TCP: srv.Listener.Addr().String()},
		{Command: "true"},
	} {
		got := Run(ctx, p, Options{})
		check(t, got, analysis.Down, "canceled")
		if strings.Contains(got.Detail, "timed out") {
			t.Errorf("Run(%+v) = %q, blames its own timeout for the caller's", p, got.Detail)
		}
	}
}

func TestBadProbe(t *testing.T) {
	tests := []struct {
		name  string
		probe *model.Probe
		want  string
	}{
		{"nil", nil, "no probe"},
		{"empty", &model.Probe{}, "probe sets none of http, tcp and command"},
		{"two kinds", &model.Probe{HTTP: "http://x", TCP: "x:1"}, "probe sets more than one of http, tcp and command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Run(t.Context(), tt.probe, Options{Now: ticking(time.Millisecond)})
			if got.State != analysis.Down || got.Detail != tt.want || !got.At.Equal(t0) {
				t.Errorf("Run = %+v, want Down %q at %v", got, tt.want, t0)
			}
		})
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestTCP(t *testing.T) {
	open := listen(t)
	closed := listen(t)
	closed.Close()
	tests := []struct {
		name  string
		addr  string
		state analysis.State
		want  string
	}{
		{"open", open.Addr().String(), analysis.Up, "connected in 3ms"},
		{"closed port", closed.Addr().String(), analysis.Down, "connection refused"},
		{"no port", "127.0.0.1", analysis.Down, "missing port in address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Run(t.Context(), &model.Probe{TCP: tt.addr}, Options{Now: ticking(3 * time.Millisecond)})
			check(t, got, tt.state, tt.want)
		})
	}
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "marker"), []byte("here"), 0o644); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 300) + strings.Repeat("b", 199) + "END"
	tests := []struct {
		name    string
		command string
		dir     string
		state   analysis.State
		want    string
	}{
		{"exit 0", "true", "", analysis.Up, "exit status 0 in 7ms"},
		{"exit 3", "echo oops; echo err >&2; exit 3", "", analysis.Down, `exit status 3: "oops\nerr"`},
		{"no output", "exit 1", "", analysis.Down, "exit status 1"},
		{"last 200 bytes", "printf " + long + "; exit 1", "", analysis.Down, `exit status 1: "` + long[len(long)-200:] + `"`},
		{"dir", "test -f marker", dir, analysis.Up, "exit status 0"},
		{"not in dir", "test -f marker", "", analysis.Down, "exit status 1"},
		{"missing dir", "true", filepath.Join(dir, "nope"), analysis.Down, "no such file or directory"},
		{"not found", "no-such-command-spof", "", analysis.Down, "exit status 127"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Run(t.Context(), &model.Probe{Command: tt.command}, Options{Dir: tt.dir, Now: ticking(7 * time.Millisecond)})
			check(t, got, tt.state, tt.want)
		})
	}
}

// TestCommandKilled runs a command whose child outlives the deadline and
// checks that Run kills both, so nothing is left running.
func TestCommandKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := &model.Probe{Command: "echo started; sleep 60 & echo $! > " + pidFile + "; wait", MaxLatency: 100 * time.Millisecond}
	start := time.Now()
	got := Run(t.Context(), p, Options{})
	check(t, got, analysis.Down, `timed out after 200ms: command killed: context deadline exceeded: "started"`)
	if d := time.Since(start); d > DefaultTimeout {
		t.Errorf("Run took %v", d)
	}

	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	// SIGKILL was sent to the group before Run returned; wait for the
	// kernel to finish the child off (a zombie is dead, merely unreaped).
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("sleep (pid %d) outlived the probe", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "1 (sh) S ...".
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

func TestTail(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"short", []string{"ab", "cd"}, "abcd"},
		{"exact", []string{"abcde"}, "abcde"},
		{"one long write", []string{"abcdefgh"}, "defgh"},
		{"spills over", []string{"abc", "def"}, "bcdef"},
		{"many", []string{"a", "b", "c", "d", "e", "f", "g"}, "cdefg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := &tail{max: 5}
			for _, w := range tt.writes {
				if n, err := tl.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if string(tl.buf) != tt.want {
				t.Errorf("tail = %q, want %q", tl.buf, tt.want)
			}
		})
	}
}
