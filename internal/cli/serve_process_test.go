package cli_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/internal/pgtest"
)

// serveProcess is a spof serve running as a process of its own (the test
// binary, which testscript put on $PATH as spof).
type serveProcess struct {
	cmd  *exec.Cmd
	url  string
	logs *strings.Builder
}

func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	bin, err := exec.LookPath("spof")
	if err != nil {
		t.Fatalf("spof is not on $PATH (testscript.Main puts the test binary there): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &serveProcess{url: "http://" + addr, logs: &strings.Builder{}}
	p.cmd = exec.Command(bin, append([]string{"serve", "--listen", addr}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		if t.Failed() {
			t.Logf("spof serve %s:\n%s", addr, p.logs)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("spof serve on %s not ready in 20s: %v\n%s", addr, err, p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type status struct {
	Node   string `json:"node"`
	Leader bool   `json:"leader"`
}

func (p *serveProcess) status(t *testing.T) (status, bool) {
	resp, err := http.Get(p.url + "/api/v1/status")
	if err != nil {
		return status{}, false
	}
	defer resp.Body.Close()
	var s status
	data, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(data, &s) != nil {
		t.Fatalf("status: %s", data)
	}
	return s, true
}

// TestServeReplicasFailOver: two spof serve processes on one PostgreSQL
// elect one leader, which alone accepts an experiment run; killed with
// SIGKILL, the other takes the lead within seconds.
func TestServeReplicasFailOver(t *testing.T) {
	dsn := pgtest.Start(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "spof.yaml")
	os.WriteFile(model, []byte(`version: 1
system: lab
environment: test
components:
  app: {kind: service, depends_on: [dep]}
  dep:
    kind: service
    chaos: {command: {inject: "touch down", restore: "rm -f down", check: "test -e down"}}
flows:
  f: {criticality: critical, steps: [app], probe: {command: "test ! -e down", interval: 50ms}}
`), 0o644)
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte("t0ken-for-the-test-0123456789\n"), 0o600)
	args := []string{"--model", model, "--db", dsn, "--env", "test", "--token-file", token}
	a := startServe(t, args...)
	b := startServe(t, args...)

	leaderOf := func() (leader, other *serveProcess) {
		sa, _ := a.status(t)
		sb, _ := b.status(t)
		switch {
		case sa.Leader && !sb.Leader:
			return a, b
		case sb.Leader && !sa.Leader:
			return b, a
		}
		return nil, nil
	}
	var leader, other *serveProcess
	deadline := time.Now().Add(15 * time.Second)
	for leader == nil {
		if time.Now().After(deadline) {
			t.Fatal("no single leader within 15s")
		}
		time.Sleep(100 * time.Millisecond)
		leader, other = leaderOf()
	}

	// Only the leader runs experiments.
	trigger := func(p *serveProcess) int {
		req, _ := http.NewRequest("POST", p.url+"/api/v1/systems/lab/experiments/dep-down/runs", nil)
		req.Header.Set("Authorization", "Bearer t0ken-for-the-test-0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := trigger(other); code != http.StatusServiceUnavailable {
		t.Errorf("a run asked of the follower: %d, want 503", code)
	}
	if code := trigger(leader); code != http.StatusAccepted {
		t.Errorf("a run asked of the leader: %d, want 202", code)
	}

	// SIGKILL the leader with its fault in place: the other leads within
	// seconds.
	deadline = time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "down")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the leader's run did not inject its fault within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	killed := time.Now()
	leader.cmd.Process.Kill()
	leader.cmd.Wait()
	for {
		if s, ok := other.status(t); ok && s.Leader {
			break
		}
		if time.Since(killed) > 15*time.Second {
			t.Fatalf("the follower did not take the lead within 15s of the leader's SIGKILL")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("took the lead %v after the leader's SIGKILL", time.Since(killed).Round(time.Millisecond))
	// The fault the dead leader left (its run was in flight) is gone: the
	// new leader restored it first.
	deadline = time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "down")); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dead leader's fault is still in place")
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(other.url + "/api/v1/systems/lab/runs")
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(runs), `"verdict": "aborted"`) || !strings.Contains(string(runs), "stopped mid-run") {
		t.Errorf("the interrupted run is not recorded as aborted: %s", runs)
	}
}
