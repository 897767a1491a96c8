package chaos

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/proxy"
)

// lab is a tiny system: an app whose one flow needs a dependency reached
// through spof's fault proxy. With fallback set, the app answers 200 and
// X-Degraded when the dependency fails; without, 503.
type lab struct {
	api      *httptest.Server
	srv      *proxy.Server
	app      *httptest.Server
	fallback atomic.Bool
	journal  *Journal
}

func newLab(t *testing.T) *lab {
	l := &lab{}
	dep, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dep.Close() })
	go func() {
		for {
			c, err := dep.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("ok\n"))
			c.Close()
		}
	}()
	l.srv = proxy.New(proxy.Options{})
	t.Cleanup(func() { l.srv.Close(context.Background()) })
	p, err := l.srv.CreateProxy(proxy.ProxyConfig{Name: "dep", Upstream: dep.Addr().String(), Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	l.api = httptest.NewServer(l.srv.Handler())
	t.Cleanup(l.api.Close)
	l.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := net.DialTimeout("tcp", p.Listen, 300*time.Millisecond)
		if err == nil {
			c.SetDeadline(time.Now().Add(300 * time.Millisecond))
			_, err = bufio.NewReader(c).ReadString('\n')
			c.Close()
		}
		switch {
		case err == nil:
			w.Write([]byte("ok"))
		case l.fallback.Load():
			w.Header().Set("X-Degraded", "dep")
			w.Write([]byte("fallback"))
		default:
			http.Error(w, "dependency failed: "+err.Error(), http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(l.app.Close)
	l.journal, _ = OpenJournal(t.TempDir())
	return l
}

func (l *lab) probe(ctx context.Context, flow string) Sample {
	s := Sample{At: time.Now()}
	req, _ := http.NewRequestWithContext(ctx, "GET", l.app.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	switch {
	case err != nil:
		s.State, s.Detail = analysis.Down, err.Error()
	case resp.StatusCode != 200:
		s.State, s.Detail = analysis.Down, resp.Status
	case resp.Header.Get("X-Degraded") != "":
		s.State, s.Detail = analysis.Degraded, "X-Degraded: "+resp.Header.Get("X-Degraded")
	default:
		s.State, s.Detail = analysis.Up, resp.Status
	}
	if resp != nil {
		resp.Body.Close()
	}
	return s
}

func (l *lab) injector() Injector {
	return inject.Proxy{API: l.api.URL, Proxy: "dep", Toxic: "spof-dep-down"}
}

func experiment(predicted analysis.State) Experiment {
	return Experiment{Name: "dep-down", Target: "dep", Fault: "down", Injector: "proxy",
		Predicted: []analysis.FlowOutcome{{Flow: "f", State: predicted}}, fault: inject.Fault{Kind: inject.Down}}
}

var quick = RunOptions{Duration: 500 * time.Millisecond, Settle: 100 * time.Millisecond, Recovery: 2 * time.Second, Interval: 50 * time.Millisecond, RunID: "test"}

// clean asserts that the fault is gone and the journal empty.
func (l *lab) clean(t *testing.T) {
	t.Helper()
	if ts, _ := l.srv.Toxics("dep"); len(ts) != 0 {
		t.Errorf("toxics left on the proxy: %+v", ts)
	}
	if es, err := l.journal.Entries(); err != nil || len(es) != 0 {
		t.Errorf("journal entries left: %+v, %v", es, err)
	}
}

func TestRunVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fallback  bool
		predicted analysis.State
		verdict   Verdict
		reason    string
	}{
		{"fallback works", true, analysis.Degraded, Passed, "every probed flow behaved as predicted"},
		{"fallback broken", false, analysis.Degraded, Falsified, "f: predicted degraded, observed down at"},
		{"hidden dependency", false, analysis.Up, Falsified, "f: predicted up, observed down at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			l.fallback.Store(tc.fallback)
			res := Run(context.Background(), experiment(tc.predicted), l.injector(), l.probe, []string{"f"}, l.journal, quick)
			if res.Verdict != tc.verdict || !strings.HasPrefix(res.Reason, tc.reason) {
				t.Fatalf("verdict %s (%s), want %s (%s...)", res.Verdict, res.Reason, tc.verdict, tc.reason)
			}
			if res.Flows[0].Samples == 0 {
				t.Error("no samples taken")
			}
			l.clean(t)
		})
	}
}

func TestRunSteadyStateFails(t *testing.T) {
	l := newLab(t)
	l.srv.AddToxic("dep", proxy.Toxic{Name: "broken", Type: proxy.ToxicDown, Toxicity: 1})
	res := Run(context.Background(), experiment(analysis.Degraded), l.injector(), l.probe, []string{"f"}, l.journal, quick)
	if res.Verdict != Aborted || !strings.Contains(res.Reason, "steady state does not hold before the fault: f is down") {
		t.Fatalf("verdict %s (%s), want aborted before injecting", res.Verdict, res.Reason)
	}
	if ts, _ := l.srv.Toxics("dep"); len(ts) != 1 {
		t.Errorf("toxics %+v: want only the one the test added", ts)
	}
	if es, _ := l.journal.Entries(); len(es) != 0 {
		t.Errorf("journal: %+v, want nothing", es)
	}
}

func TestRunInterrupted(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	probe := func(ctx context.Context, flow string) Sample {
		if n.Add(1) == 4 {
			cancel() // SIGINT in the middle of the fault
		}
		return l.probe(ctx, flow)
	}
	opts := quick
	opts.Duration = time.Minute
	res := Run(ctx, experiment(analysis.Degraded), l.injector(), probe, []string{"f"}, l.journal, opts)
	if res.Verdict != Aborted || !strings.Contains(res.Reason, "the fault was restored") {
		t.Fatalf("verdict %s (%s), want aborted and restored", res.Verdict, res.Reason)
	}
	l.clean(t)
}

func TestRunPanicInProbe(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	var n atomic.Int32
	probe := func(ctx context.Context, flow string) Sample {
		if n.Add(1) == 3 {
			panic("probe bug")
		}
		return l.probe(ctx, flow)
	}
	res := Run(context.Background(), experiment(analysis.Degraded), l.injector(), probe, []string{"f"}, l.journal, quick)
	if res.Verdict != Aborted || !strings.Contains(res.Reason, "panic during the experiment: probe bug; the fault was restored") {
		t.Fatalf("verdict %s (%s)", res.Verdict, res.Reason)
	}
	l.clean(t)
}

func TestRunNotApplied(t *testing.T) {
	l := newLab(t)
	inj := inject.Proxy{API: l.api.URL, Proxy: "nope", Toxic: "spof-dep-down"}
	res := Run(context.Background(), experiment(analysis.Degraded), inj, l.probe, []string{"f"}, l.journal, quick)
	if res.Verdict != NotApplied || !strings.Contains(res.Reason, "proxy not found") {
		t.Fatalf("verdict %s (%s), want not-applied", res.Verdict, res.Reason)
	}
	l.clean(t)
}

func TestRunRestoreFails(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	var n atomic.Int32
	probe := func(ctx context.Context, flow string) Sample {
		if n.Add(1) == 3 {
			l.api.Close() // the proxy's API dies with the fault in place
		}
		return l.probe(ctx, flow)
	}
	opts := quick
	opts.RestoreTimeout = time.Second
	res := Run(context.Background(), experiment(analysis.Degraded), l.injector(), probe, []string{"f"}, l.journal, opts)
	if res.Verdict != RestoreFailed || !strings.Contains(res.Reason, "run spof chaos recover") || !strings.Contains(res.Reason, "attempts in 1s)") {
		t.Fatalf("verdict %s (%s), want restore-failed", res.Verdict, res.Reason)
	}
	if es, _ := l.journal.Entries(); len(es) != 1 {
		t.Errorf("journal: %+v, want the entry kept for recovery", es)
	}
}

func TestRunAbortProbe(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	var n atomic.Int32
	opts := quick
	opts.Duration = time.Minute
	opts.Abort = func(ctx context.Context) string {
		if n.Add(1) >= 3 {
			return "abort probe error-budget failed: 503"
		}
		return ""
	}
	res := Run(context.Background(), experiment(analysis.Degraded), l.injector(), l.probe, []string{"f"}, l.journal, opts)
	if res.Verdict != Aborted || res.Reason != "abort probe error-budget failed: 503; the fault was restored" {
		t.Fatalf("verdict %s (%s)", res.Verdict, res.Reason)
	}
	l.clean(t)
}

// TestRunProxyRestarts loses the proxy in the middle of the fault: its
// process dies (API and relays) and comes back on the same addresses
// without the toxic, as a supervisor would restart it. The restore retries
// until the API answers again, finds the fault gone, and closes the
// journal entry: a verdict, not restore-failed.
func TestRunProxyRestarts(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	apiAddr := l.api.Listener.Addr().String()
	p, _ := l.srv.Proxy("dep")
	restarted := make(chan *proxy.Server, 1)
	var n atomic.Int32
	probe := func(ctx context.Context, flow string) Sample {
		if n.Add(1) == 3 {
			l.api.Close()
			l.srv.Close(context.Background())
			go func() {
				time.Sleep(300 * time.Millisecond)
				srv := proxy.New(proxy.Options{})
				if _, err := srv.CreateProxy(proxy.ProxyConfig{Name: "dep", Listen: p.Listen, Upstream: p.Upstream, Enabled: true}); err != nil {
					t.Error(err)
				}
				ln, err := net.Listen("tcp", apiAddr)
				if err != nil {
					t.Error(err)
					return
				}
				hs := &http.Server{Handler: srv.Handler()}
				go hs.Serve(ln)
				t.Cleanup(func() { hs.Close(); srv.Close(context.Background()) })
				restarted <- srv
			}()
		}
		return l.probe(ctx, flow)
	}
	opts := quick
	opts.Duration = time.Second
	res := Run(context.Background(), experiment(analysis.Degraded), l.injector(), probe, []string{"f"}, l.journal, opts)
	if res.Verdict != FaultLost {
		t.Fatalf("verdict %s (%s), want fault-lost: the restarted proxy has no toxic, and the restore goes through once it is back", res.Verdict, res.Reason)
	}
	var srv *proxy.Server
	select {
	case srv = <-restarted:
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy did not restart")
	}
	if ts, _ := srv.Toxics("dep"); len(ts) != 0 {
		t.Errorf("toxics on the restarted proxy: %+v", ts)
	}
	if es, err := l.journal.Entries(); err != nil || len(es) != 0 {
		t.Errorf("journal entries left: %+v, %v", es, err)
	}
}

// TestRunTimeout: the run's deadline passes in the middle of the fault
// (spof chaos run --timeout): restored, aborted, and the reason says why.
func TestRunTimeout(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	ctx, cancel := context.WithTimeoutCause(context.Background(), 400*time.Millisecond, errors.New("--timeout 400ms passed"))
	defer cancel()
	opts := quick
	opts.Duration = time.Minute
	res := Run(ctx, experiment(analysis.Degraded), l.injector(), l.probe, []string{"f"}, l.journal, opts)
	if res.Verdict != Aborted || res.Reason != "interrupted during the fault (--timeout 400ms passed); the fault was restored" {
		t.Fatalf("verdict %s (%s)", res.Verdict, res.Reason)
	}
	l.clean(t)
}

// TestRunTTL: the fault carries the run's TTL, so that the proxy removes
// it by itself if this process dies and nobody recovers.
func TestRunTTL(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	var ttl atomic.Int64
	probe := func(ctx context.Context, flow string) Sample {
		if ts, _ := l.srv.Toxics("dep"); len(ts) == 1 {
			ttl.Store(int64(ts[0].TTL))
		}
		return l.probe(ctx, flow)
	}
	opts := quick
	opts.TTL = 42 * time.Second
	Run(context.Background(), experiment(analysis.Degraded), l.injector(), probe, []string{"f"}, l.journal, opts)
	if time.Duration(ttl.Load()) != 42*time.Second {
		t.Errorf("toxic TTL %v, want 42s", time.Duration(ttl.Load()))
	}
	opts.TTL = 0
	Run(context.Background(), experiment(analysis.Degraded), l.injector(), probe, []string{"f"}, l.journal, opts)
	if want := opts.Duration + opts.Settle + opts.Recovery + 30*time.Second; time.Duration(ttl.Load()) != want {
		t.Errorf("default toxic TTL %v, want %v", time.Duration(ttl.Load()), want)
	}
	l.clean(t)
}

// TestRunNoSamples: a fault shorter than the sampling interval yields no
// sample, and nothing sampled is nothing verified: not passed.
func TestRunNoSamples(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	opts := quick
	opts.Duration, opts.Settle, opts.Interval = 100*time.Millisecond, 50*time.Millisecond, time.Second
	res := Run(context.Background(), experiment(analysis.Degraded), l.injector(), l.probe, []string{"f"}, l.journal, opts)
	if res.Verdict != Aborted || !strings.HasPrefix(res.Reason, "f was not sampled while the fault lasted") {
		t.Fatalf("verdict %s (%s)", res.Verdict, res.Reason)
	}
	l.clean(t)
}

// TestRunPanicAfterRestore: a probe that panics during the recovery window
// (the fault already restored) still ends in a verdict, not a crash.
func TestRunPanicAfterRestore(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	var restored atomic.Bool
	probe := func(ctx context.Context, flow string) Sample {
		if ts, _ := l.srv.Toxics("dep"); len(ts) == 0 && restored.Load() {
			panic("probe bug")
		}
		if ts, _ := l.srv.Toxics("dep"); len(ts) == 1 {
			restored.Store(true) // from now on, an empty proxy means restored
		}
		return l.probe(ctx, flow)
	}
	res := Run(context.Background(), experiment(analysis.Degraded), l.injector(), probe, []string{"f"}, l.journal, quick)
	if res.Verdict != Aborted || res.Reason != "panic after the fault was restored: probe bug" {
		t.Fatalf("verdict %s (%s)", res.Verdict, res.Reason)
	}
	l.clean(t)
}

// TestRunFaultLost: the fault goes away while the flows are sampled
// (another run removes it, its TTL expires, the proxy restarts without
// it). The flows then look up, which a correct model predicted as
// degraded: that must not read as falsified, and the round sampled
// without the fault must not count.
func TestRunFaultLost(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(l *lab)
	}{
		{"removed", func(l *lab) {
			if err := l.srv.RemoveToxic("dep", "spof-dep-down"); err != nil {
				t.Error(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t)
			l.fallback.Store(true)
			var n atomic.Int32
			probe := func(ctx context.Context, flow string) Sample {
				if n.Add(1) == 5 { // the fourth sample while the fault lasts (the first probed the steady state)
					tc.lose(l)
				}
				return l.probe(ctx, flow)
			}
			opts := quick
			opts.Duration = time.Minute
			opts.RestoreTimeout = time.Second
			res := Run(context.Background(), experiment(analysis.Degraded), l.injector(), probe, []string{"f"}, l.journal, opts)
			if res.Verdict != FaultLost || !strings.Contains(res.Reason, "down went away") || !strings.Contains(res.Reason, "no longer in place") {
				t.Fatalf("verdict %s (%s), want fault-lost", res.Verdict, res.Reason)
			}
			if fr := res.Flows[0]; fr.Mismatch != nil || fr.Samples != 3 {
				t.Errorf("flow %+v: want 3 samples, both with the fault in place, and no mismatch", fr)
			}
			l.clean(t)
		})
	}
}

// TestRunOwnToxic: another run (from another state directory) has its
// fault on the same proxy, under the name an earlier spof gave every run
// of the experiment. This run's toxic has its own name, so its inject does
// not collide (409) and its restore removes only its own toxic.
func TestRunOwnToxic(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	other := proxy.Toxic{Name: "spof-dep-down", Type: proxy.ToxicLatency, Stream: proxy.Downstream, Toxicity: 1, Attributes: map[string]int64{"latency": 1}}
	if _, err := l.srv.AddToxic("dep", other); err != nil {
		t.Fatal(err)
	}
	p, _ := l.srv.Proxy("dep")
	m, err := model.Parse("lab.yaml", []byte(`version: 1
system: lab
environment: test
chaos: {proxy_api: "`+l.api.URL+`"}
components:
  app: {kind: service, depends_on: [{dep: {fallback: cached}}]}
  dep: {kind: database, chaos: {proxy: {name: dep, listen: "`+p.Listen+`", upstream: "`+p.Upstream+`"}}}
flows:
  f: {criticality: high, steps: [app], probe: {http: "http://127.0.0.1:1"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	x, err := PlanExperiment(m, "dep-down")
	if err != nil {
		t.Fatal(err)
	}
	var names []string // every toxic seen during the run
	probe := func(ctx context.Context, flow string) Sample {
		ts, _ := l.srv.Toxics("dep")
		for _, tx := range ts {
			if !slices.Contains(names, tx.Name) {
				names = append(names, tx.Name)
			}
		}
		return l.probe(ctx, flow)
	}
	inj, err := InjectorFor(m, x, t.TempDir(), "run2")
	if err != nil {
		t.Fatal(err)
	}
	res := Run(context.Background(), x, inj, probe, []string{"f"}, l.journal, quick)
	if res.Verdict != Passed {
		t.Fatalf("verdict %s (%s), want passed", res.Verdict, res.Reason)
	}
	if !slices.Contains(names, "spof-dep-down-run2") {
		t.Errorf("toxics during the run %v, want spof-dep-down-run2", names)
	}
	if ts, _ := l.srv.Toxics("dep"); len(ts) != 1 || ts[0].Name != "spof-dep-down" {
		t.Errorf("toxics after the run: %+v, want the other run's only", ts)
	}
}

// TestRunFaultHeals: a fault the system ends by itself, as a real one
// (a killed process that its supervisor restarts at the third sample),
// is not a lost fault: the samples before count, and the verdict says the
// fault ended by itself.
func TestRunFaultHeals(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "dep.pid")
	start := func() {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go cmd.Wait() // reaps it once killed
		t.Cleanup(func() { cmd.Process.Kill() })
		os.WriteFile(pidfile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	}
	start()
	var n atomic.Int32
	probe := func(ctx context.Context, flow string) Sample {
		if n.Add(1) == 4 { // the steady state, then the third sample
			start() // the supervisor
		}
		data, _ := os.ReadFile(pidfile)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		if inject.Alive(pid) {
			return Sample{State: analysis.Up, At: time.Now()}
		}
		return Sample{State: analysis.Degraded, Detail: "dep is down", At: time.Now()}
	}
	x := experiment(analysis.Degraded)
	x.Injector = "process"
	inj := inject.Process{PIDFile: pidfile, Signal: "KILL", Restart: "exit 1", Dir: dir}
	j, _ := OpenJournal(t.TempDir())
	opts := quick
	opts.Duration = time.Minute
	res := Run(context.Background(), x, inj, probe, []string{"f"}, j, opts)
	if res.Verdict != Passed || !strings.Contains(res.Reason, "; the fault ended by itself") || res.Flows[0].Samples != 2 {
		t.Fatalf("verdict %s (%s), %d samples; want passed on the 2 samples before the restart", res.Verdict, res.Reason, res.Flows[0].Samples)
	}
	if es, _ := j.Entries(); len(es) != 0 {
		t.Errorf("journal entries left: %+v", es)
	}
}

// TestRunTimeline: every sample the run takes is in its timeline, in
// order and by phase: up before the fault, degraded while the fallback
// serves, up again after the restore.
func TestRunTimeline(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	res := Run(context.Background(), experiment(analysis.Degraded), l.injector(), l.probe, []string{"f"}, l.journal, quick)
	if res.Verdict != Passed {
		t.Fatalf("verdict %s (%s)", res.Verdict, res.Reason)
	}
	phases := map[string]int{}
	var last time.Time
	for i, s := range res.Timeline {
		phases[s.Phase]++
		if s.Flow != "f" || s.At.Before(last) {
			t.Fatalf("sample %d: %+v (after %v)", i, s, last)
		}
		last = s.At
		want := analysis.Up
		if s.Phase == PhaseFault {
			want = analysis.Degraded
		}
		if s.State != want {
			t.Errorf("sample %d in phase %s: %s, want %s", i, s.Phase, s.State, want)
		}
	}
	if phases[PhaseSteady] != 1 || phases[PhaseFault] != res.Flows[0].Samples || phases[PhaseRecovery] < 1 {
		t.Errorf("phases %v; %d samples counted", phases, res.Flows[0].Samples)
	}
	if res.Timeline[0].Phase != PhaseSteady || res.Timeline[len(res.Timeline)-1].Phase != PhaseRecovery {
		t.Errorf("timeline starts in %s and ends in %s", res.Timeline[0].Phase, res.Timeline[len(res.Timeline)-1].Phase)
	}
}
