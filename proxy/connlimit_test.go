package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestMaxConnsFor(t *testing.T) {
	for nofile, want := range map[uint64]int{
		0:          1,
		16:         1,
		23:         1,
		64:         8,   // (64 - 16) / 6
		1024:       149, // (1024 - 128) / 6
		1 << 20:    152917,
		^uint64(0): 1 << 30, // RLIM_INFINITY
	} {
		if got := MaxConnsFor(nofile); got != want {
			t.Errorf("MaxConnsFor(%d) = %d, want %d", nofile, got, want)
		}
	}
}

// childEnv makes TestFDLimitedChild serve, in a child process.
const childEnv = "SPOF_PROXY_TEST_FDLIMIT_CHILD"

// With 64 file descriptors and 100 clients, the API goes on answering, so
// that a fault can still be added and removed: the proxied connections
// beyond the default limit (derived from RLIMIT_NOFILE) are reset at
// once, with one log line, not one per connection.
func TestAPIAnswersWhenOutOfDescriptors(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to set ulimit -n")
	}
	upstream := startEcho(t)
	// ulimit -n sets the hard limit too, which Go would otherwise raise
	// the soft one to.
	cmd := exec.Command("sh", "-c", `ulimit -n 64 && exec "$0" -test.run='^TestFDLimitedChild$' -test.count=1`, os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	api, ok := strings.CutPrefix(strings.TrimSpace(line), "api ")
	if err != nil || !ok {
		t.Fatalf("child: %q, %v; stderr:\n%s", line, err, stderr.String())
	}
	go io.Copy(io.Discard, stdout)

	hc := &http.Client{Timeout: testTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	call := func(method, path, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+api+path, strings.NewReader(body))
		resp, err := hc.Do(req)
		if err != nil {
			// Stop the child first: its log is written while it runs.
			cmd.Process.Kill()
			cmd.Wait()
			exited = true
			t.Fatalf("%s %s: %v; the proxy's log:\n%s", method, path, err, stderr.String())
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %s %s", method, path, resp.Status, data)
		}
		return string(data)
	}
	var limits struct {
		MaxConns int `json:"max_conns"`
	}
	if err := json.Unmarshal([]byte(call("GET", "/spof/limits", "")), &limits); err != nil || limits.MaxConns != MaxConnsFor(64) {
		t.Fatalf("limits: max_conns %d, %v; want %d", limits.MaxConns, err, MaxConnsFor(64))
	}
	var info ProxyInfo
	json.Unmarshal([]byte(call("POST", "/proxies", `{"name": "dep", "listen": "127.0.0.1:0", "upstream": "`+upstream+`"}`)), &info)

	const clients = 100
	for range clients {
		// A reset can come before connect returns: that client was
		// refused.
		if c, err := net.DialTimeout("tcp", info.Listen, testTimeout); err == nil {
			conns = append(conns, c)
		}
	}
	// Every client is either relayed or reset; as many are relayed as
	// the limit lets in.
	relayed := 0
	deadline := time.Now().Add(testTimeout) // one for all: a hang fails once
	for _, c := range conns {
		c.SetDeadline(deadline)
		if _, err := c.Write([]byte("x")); err != nil {
			continue
		}
		if n, _ := c.Read(make([]byte, 1)); n == 1 {
			relayed++
		}
	}
	if relayed != limits.MaxConns {
		t.Errorf("%d clients relayed, want %d (max_conns)", relayed, limits.MaxConns)
	}
	// With every client still connected, a fault goes in and out.
	call("POST", "/proxies/dep/toxics", `{"name": "slow", "type": "latency", "attributes": {"latency": 1}}`)
	call("GET", "/proxies/dep", "")
	call("DELETE", "/proxies/dep/toxics/slow", "")
	if m := call("GET", "/metrics", ""); !strings.Contains(m, fmt.Sprintf("spof_proxy_connections_refused_total{proxy=\"dep\"} %d\n", clients-limits.MaxConns)) {
		t.Errorf("metrics: want %d refused:\n%s", clients-limits.MaxConns, m)
	}

	for _, c := range conns {
		c.Close()
	}
	stdin.Close()
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("child: %v; stderr:\n%s", err, stderr.String())
	}
	if n := strings.Count(stderr.String(), "connection limit reached"); n != 1 {
		t.Errorf("%d log lines about the limit, want 1:\n%s", n, stderr.String())
	}
}

// TestFDLimitedChild is the server of TestAPIAnswersWhenOutOfDescriptors,
// in a child process whose descriptors are limited: it serves the API
// until its standard input closes.
func TestFDLimitedChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run as a child by TestAPIAnswersWhenOutOfDescriptors")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s := New(Options{MaxConns: DefaultMaxConns(), Logger: log})
	hs := NewAPIServer(s.Handler(), APITimeouts{}, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ReclaimingListener(ln)) }()
	fmt.Printf("api %s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	hs.Close()
	<-served
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s.Close(ctx)
}
