package shop_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spofhq/spof/examples/shop/internal/demo"
	"github.com/spofhq/spof/internal/cli"
	"github.com/spofhq/spof/proxy"
)

// modelFor is examples/shop/spof.yaml pointed at a running demo, as
// shop-demo writes it.
func modelFor(t *testing.T, sys *demo.System) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spof.yaml")
	if err := sys.WriteModel("spof.yaml", path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestChaosRun runs the shop's experiments: the model's predictions hold
// for Redis (sessions fall back to Postgres) and payments (orders accepted
// for later), and the experiment on config catches the planted hidden
// dependency.
func TestChaosRun(t *testing.T) {
	t.Parallel()
	sys := startShop(t)
	path := modelFor(t, sys)
	out := filepath.Join(filepath.Dir(path), "chaos.json")
	posts := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		posts <- string(data)
	}))
	defer hook.Close()
	var stdout, stderr bytes.Buffer
	code := cli.Main([]string{"chaos", "run", path, "--env", "demo", "--webhook", hook.URL,
		"--experiment", "session-redis-down", "--experiment", "payments-down", "--experiment", "config-down",
		"--experiment", "payments-latency-3s", "--experiment", "postgres-down", "--max-blast-radius", "3",
		"--duration", "2s", "--settle", "1500ms", "--recovery", "20s", "--interval", "250ms",
		"--format", "json", "-o", out}, &stdout, &stderr)
	if code != cli.ExitFalsified {
		t.Errorf("exit %d, want %d (config-down falsified):\n%s", code, cli.ExitFalsified, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Results []struct {
			Experiment, Verdict, Reason string
		}
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ verdict, reason string }{
		"session-redis-down": {"passed", "every probed flow behaved as predicted"},
		"payments-down":      {"passed", "every probed flow behaved as predicted"},
		"config-down":        {"falsified", "checkout: predicted up, observed down"},
		// Slower than the breaker's 2s timeout: the fallback takes over.
		"payments-latency-3s": {"passed", "every probed flow behaved as predicted"},
		// Login needs only Redis; the others go down, and come back.
		"postgres-down": {"passed", "every probed flow behaved as predicted"},
	}
	if len(report.Results) != len(want) {
		t.Fatalf("results: %s", data)
	}
	for _, r := range report.Results {
		w := want[r.Experiment]
		if r.Verdict != w.verdict || !strings.HasPrefix(r.Reason, w.reason) {
			t.Errorf("%s: %s (%s), want %s (%s...)", r.Experiment, r.Verdict, r.Reason, w.verdict, w.reason)
		}
	}
	// The webhook heard of the falsified experiment only.
	select {
	case p := <-posts:
		if !strings.Contains(p, `config-down: *falsified*: checkout: predicted up, observed down`) || strings.Contains(p, "session-redis-down") {
			t.Errorf("webhook got %s", p)
		}
	default:
		t.Error("nothing posted to the webhook")
	}

	// Every fault restored: no toxic left, nothing in the journal.
	for name := range sys.Proxies {
		if ts, err := sys.Proxy().Toxics(t.Context(), name); err != nil || len(ts) != 0 {
			t.Errorf("proxy %s: toxics %+v, %v", name, ts, err)
		}
	}
	journal, _ := os.ReadFile(filepath.Join(filepath.Dir(path), ".spof", "journal.json"))
	if !bytes.Contains(journal, []byte(`"open": []`)) {
		t.Errorf("journal after the run:\n%s", journal)
	}

	// The passed runs verified their fallbacks: checklist item 4 says so,
	// and names the one no experiment exercised (the e-mail outbox).
	stdout.Reset()
	cli.Main([]string{"checklist", path, "--format", "json"}, &stdout, &stderr)
	var doc struct {
		Checklist []struct {
			Item     int
			Status   string
			Evidence []string
		}
	}
	err = json.Unmarshal(stdout.Bytes(), &doc)
	items := doc.Checklist
	if err != nil || len(items) != 7 {
		t.Fatalf("checklist JSON: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	evidence := strings.Join(items[3].Evidence, "\n")
	for _, want := range []string{"verified: shop → session-redis", "verified: shop → payments", "never tested: shop → email"} {
		if !strings.Contains(evidence, want) {
			t.Errorf("checklist item 4 (%s) lacks %q:\n%s", items[3].Status, want, evidence)
		}
	}
}

// TestChaosRecoverAfterKill kills spof chaos run with SIGKILL while its
// fault is in place: the fault stays (nobody restored it), the journal
// says so, and spof chaos recover takes it out.
func TestChaosRecoverAfterKill(t *testing.T) {
	t.Parallel()
	sys := startShop(t)
	path := modelFor(t, sys)
	run, _, said := startRun(t, sys, "chaos", "run", path, "--env", "demo",
		"--experiment", "payments-down", "--duration", "5m", "--settle", "0s")
	if tx := waitFault(t, sys, "payments", said); tx.TTL <= 5*time.Minute {
		t.Errorf("toxic TTL %v: want the run's duration plus recovery margins", tx.TTL)
	}
	run.Process.Signal(syscall.SIGKILL)
	run.Wait()

	pc := sys.Proxy()
	if ts, err := pc.Toxics(t.Context(), "payments"); err != nil || len(ts) != 1 {
		t.Fatalf("after SIGKILL: toxics %+v, want the fault still there", ts)
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Main([]string{"chaos", "recover", path}, &stdout, &stderr); code != cli.ExitOK {
		t.Fatalf("recover: exit %d\n%s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "restored payments-down (down, injected ") {
		t.Errorf("recover said %q", stdout.String())
	}
	if ts, err := pc.Toxics(t.Context(), "payments"); err != nil || len(ts) != 0 {
		t.Errorf("after recover: toxics %+v, want none", ts)
	}
}

// TestChaosTTL kills spof chaos run with SIGKILL while its fault is in
// place and recovers nothing: the proxy removes the fault by itself when
// its TTL runs out (the dead man's switch). A later recover finds it gone
// and closes the journal entry.
func TestChaosTTL(t *testing.T) {
	t.Parallel()
	sys := startShop(t)
	path := modelFor(t, sys)
	run, _, said := startRun(t, sys, "chaos", "run", path, "--env", "demo",
		"--experiment", "payments-down", "--duration", "2s", "--settle", "0s", "--ttl", "3s")
	if tx := waitFault(t, sys, "payments", said); tx.TTL != 3*time.Second {
		t.Errorf("toxic TTL %v, want --ttl 3s", tx.TTL)
	}
	pc := sys.Proxy()
	run.Process.Signal(syscall.SIGKILL)
	run.Wait()
	killed := time.Now()
	for {
		ts, err := pc.Toxics(t.Context(), "payments")
		if err == nil && len(ts) == 0 {
			break
		}
		if time.Since(killed) > 20*time.Second {
			t.Fatalf("toxics %+v (%v) 20s after the kill: the TTL did not remove the fault", ts, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitHealthy(t.Context(), t, sys)
	var stdout, stderr bytes.Buffer
	if code := cli.Main([]string{"chaos", "recover", path}, &stdout, &stderr); code != cli.ExitOK {
		t.Fatalf("recover: exit %d\n%s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "restored payments-down") {
		t.Errorf("recover said %q", stdout.String())
	}
}

// startRun starts the built spof with args, killed when the test ends, and
// returns it with its standard output and error.
func startRun(t *testing.T, sys *demo.System, args ...string) (run *exec.Cmd, stdout, stderr *bytes.Buffer) {
	t.Helper()
	run = exec.Command(filepath.Join(shared.binDir, "spof"), args...)
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	run.Stdout, run.Stderr = stdout, stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	return run, stdout, stderr
}

// waitFault waits, bounded, until a fault is on the proxy, and returns it.
// said is what the process injecting it printed, for the failure message.
func waitFault(t *testing.T, sys *demo.System, proxyName string, said *bytes.Buffer) proxy.Toxic {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ts, err := sys.Proxy().Toxics(t.Context(), proxyName)
		if err == nil && len(ts) == 1 {
			return ts[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no fault on proxy %s after 30s (%v); spof chaos run said:\n%s", proxyName, err, said)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestChaosRunInterrupted sends SIGINT and SIGTERM to spof chaos run while
// its fault is in place: the run restores the fault, records the
// experiment as aborted and exits 3.
func TestChaosRunInterrupted(t *testing.T) {
	t.Parallel()
	sys := startShop(t)
	path := modelFor(t, sys)
	pc := sys.Proxy()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		// The shop's breakers may still be open from the previous round:
		// start from a steady state.
		waitHealthy(t.Context(), t, sys)
		run, stdout, stderr := startRun(t, sys, "chaos", "run", path, "--env", "demo",
			"--experiment", "session-redis-down", "--duration", "5m", "--settle", "0s")
		waitFault(t, sys, "redis", stderr)
		run.Process.Signal(sig)
		err := run.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != cli.ExitFalsified {
			t.Errorf("%v: %v, want exit %d", sig, err, cli.ExitFalsified)
		}
		if !strings.Contains(stdout.String(), "ABORTED   session-redis-down: interrupted during the fault ("+sig.String()+" signal received); the fault was restored") {
			t.Errorf("%v: stdout %q", sig, stdout.String())
		}
		if ts, err := pc.Toxics(t.Context(), "redis"); err != nil || len(ts) != 0 {
			t.Errorf("%v: toxics left %+v", sig, ts)
		}
	}
}

// TestChaosAbortProbe guards checkout with an abort probe: when the
// config-down experiment breaks checkout (the hidden dependency), the run
// stops at once, restores, and says why, instead of holding the outage
// for its whole duration.
func TestChaosAbortProbe(t *testing.T) {
	t.Parallel()
	sys := startShop(t)
	path := modelFor(t, sys)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	guarded := strings.Replace(string(data), "chaos: {proxy_api: ",
		"chaos: {abort_probes: {checkout-works: {http: \""+sys.ShopURL+"/checkout\"}}, proxy_api: ", 1)
	if guarded == string(data) {
		t.Fatal("could not add the abort probe to the model")
	}
	if err := os.WriteFile(path, []byte(guarded), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := cli.Main([]string{"chaos", "run", path, "--env", "demo", "--experiment", "config-down",
		"--duration", "5m", "--settle", "0s", "--interval", "250ms"}, &stdout, &stderr)
	if code != cli.ExitFalsified {
		t.Errorf("exit %d, want %d:\n%s", code, cli.ExitFalsified, stderr.String())
	}
	if !strings.Contains(stdout.String(), "ABORTED   config-down: abort probe checkout-works failed: 503") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if ts, err := sys.Proxy().Toxics(t.Context(), "config"); err != nil || len(ts) != 0 {
		t.Errorf("toxics left on config: %+v", ts)
	}
}

// TestChaosRunTimeout: --timeout ends a run in the middle of its fault;
// the fault is restored and the experiment recorded as aborted, saying why.
func TestChaosRunTimeout(t *testing.T) {
	t.Parallel()
	sys := startShop(t)
	path := modelFor(t, sys)
	var stdout, stderr bytes.Buffer
	code := cli.Main([]string{"chaos", "run", path, "--env", "demo", "--experiment", "payments-down",
		"--duration", "5m", "--settle", "0s", "--timeout", "3s"}, &stdout, &stderr)
	if code != cli.ExitFalsified {
		t.Errorf("exit %d, want %d:\n%s", code, cli.ExitFalsified, stderr.String())
	}
	if !strings.Contains(stdout.String(), "ABORTED   payments-down: interrupted during the fault (--timeout 3s passed); the fault was restored") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if ts, err := sys.Proxy().Toxics(t.Context(), "payments"); err != nil || len(ts) != 0 {
		t.Errorf("toxics left on payments: %+v", ts)
	}
	stdout.Reset()
	cli.Main([]string{"chaos", "history", path}, &stdout, &stderr)
	if !strings.Contains(stdout.String(), "aborted         payments-down: interrupted during the fault (--timeout 3s passed)") {
		t.Errorf("history:\n%s", stdout.String())
	}
}
