package serve

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spofhq/spof/chaos"
	"github.com/spofhq/spof/internal/pgtest"
	"github.com/spofhq/spof/store"
)

// labModel is a system whose dependency a command binding takes down
// (a file named down appears) and whose flow's probe sees it: the
// experiment dep-down is predicted down, and passes.
const labModel = `version: 1
system: lab
environment: test
components:
  app: {kind: service, depends_on: [dep]}
  dep:
    kind: service
    chaos: {command: {inject: "touch down", restore: "rm -f down", check: "test -e down"}}
flows:
  f: {criticality: critical, steps: [app], probe: {command: "test ! -e down", interval: 50ms}}
chaos:
  schedules:
    every-minute: {cron: "* * * * *", experiments: [dep-down], duration: 200ms}
`

// clock is a test's time: it moves when the test says.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// replica is one spof serve's scheduler, stopped by its cancel.
type replica struct {
	s      *Server
	cancel context.CancelFunc
	done   chan struct{}
}

func startReplica(t *testing.T, dsn, file, node string, clk *clock) *replica {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Store: st, Models: []string{file}, Env: "test", Node: node, Now: clk.now, Tick: 20 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{s: s, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		s.scheduler.loop(ctx, s.cfg.Tick)
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *replica) stop() {
	r.cancel()
	<-r.done
}

// TestOneLeaderRunsEachScheduleOnce: two replicas on one PostgreSQL elect
// one leader; the schedule runs once per due time; when the leader stops,
// the other takes over and runs the next one; no run is doubled.
func TestOneLeaderRunsEachScheduleOnce(t *testing.T) {
	dsn := pgtest.Start(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "spof.yaml")
	if err := os.WriteFile(file, []byte(labModel), 0o644); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 12, 6, 3, 0, 30, 0, time.UTC)}
	a := startReplica(t, dsn, file, "a", clk)
	b := startReplica(t, dsn, file, "b", clk)
	waitFor(t, func() bool { return a.s.scheduler.leader.Load() || b.s.scheduler.leader.Load() })
	time.Sleep(100 * time.Millisecond) // both have looked at the schedule
	if a.s.scheduler.leader.Load() == b.s.scheduler.leader.Load() {
		t.Fatalf("leaders: a %v, b %v", a.s.scheduler.leader.Load(), b.s.scheduler.leader.Load())
	}
	leader, other := a, b
	if b.s.scheduler.leader.Load() {
		leader, other = b, a
	}
	st := leader.s.cfg.Store
	runsOf := func() []store.Run {
		rs, err := st.Runs(context.Background(), store.RunQuery{System: "lab"})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}

	// 03:01 is due: one run, by the leader, passed.
	clk.add(time.Minute)
	waitFor(t, func() bool { return len(runsOf()) == 1 })
	first := runsOf()[0]
	if first.Verdict != string(chaos.Passed) || first.Node != leader.s.cfg.Node || first.Trigger != "schedule" ||
		first.Batch != runID("lab", "every-minute", time.Date(2026, 12, 6, 3, 1, 0, 0, time.UTC)) {
		t.Fatalf("first run: %+v", first)
	}
	run, err := st.Run(context.Background(), first.ID)
	if err != nil || len(run.Samples) == 0 {
		t.Fatalf("the run's samples: %v, %v", run.Samples, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "down")); !os.IsNotExist(err) {
		t.Errorf("the fault is still in place: %v", err)
	}

	// The leader stops; the other leads and runs 03:02, once.
	leader.stop()
	waitFor(t, func() bool { return other.s.scheduler.leader.Load() })
	clk.add(time.Minute)
	waitFor(t, func() bool { return len(runsOf()) == 2 })
	time.Sleep(300 * time.Millisecond)
	runs := runsOf()
	if len(runs) != 2 || runs[0].Node != other.s.cfg.Node || runs[0].Batch == runs[1].Batch {
		t.Errorf("runs after the failover: %+v", runs)
	}
}

// TestNewLeaderRestoresTheJournalFirst: a fault a dead replica left in
// the shared journal is restored, and its run recorded as aborted, before
// the new leader runs anything.
func TestNewLeaderRestoresTheJournalFirst(t *testing.T) {
	dsn := pgtest.Start(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "spof.yaml")
	os.WriteFile(file, []byte(labModel), 0o644)
	// A replica injected dep-down, journalled it, and died.
	if err := os.WriteFile(filepath.Join(dir, "down"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The store needs the system for the aborted run's record.
	data, _ := os.ReadFile(file)
	if _, _, err := st.PutModel(context.Background(), store.ModelVersion{System: "lab", Source: data}); err != nil {
		t.Fatal(err)
	}
	undo := `{"injector": "command", "data": {"restore": "rm -f down", "check": "test -e down", "dir": "` + dir + `"}}`
	if err := st.BeginFault(context.Background(), store.Fault{ID: "sched-lab-every-minute-1/dep-down", System: "lab",
		Experiment: "dep-down", Fault: "down", Undo: []byte(undo), Node: "dead", Started: time.Now(), Deadline: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	r := startReplica(t, dsn, file, "heir", clk)
	waitFor(t, func() bool { return r.s.scheduler.leader.Load() })
	if _, err := os.Stat(filepath.Join(dir, "down")); !os.IsNotExist(err) {
		t.Errorf("the fault is still in place after the new leader took over")
	}
	open, err := st.OpenFaults(context.Background())
	if err != nil || len(open) != 0 {
		t.Errorf("open faults: %v, %v", open, err)
	}
	runs, err := st.Runs(context.Background(), store.RunQuery{System: "lab"})
	if err != nil || len(runs) != 1 || runs[0].Verdict != string(chaos.Aborted) || !strings.Contains(runs[0].Reason, "dead") ||
		runs[0].Batch != "sched-lab-every-minute-1" {
		t.Errorf("the recovered run: %+v, %v", runs, err)
	}
}

// testWriter sends a server's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestRunNowForm: the experiments page's "Run now" needs the login
// cookie and the form's CSRF token, and from another site's page it is
// refused; with both, the experiment runs and is listed.
func TestRunNowForm(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "spof.yaml")
	os.WriteFile(file, []byte(labModel), 0o644)
	const token = "tok-0123456789abcdef"
	s, ts := newServer(t, Config{Models: []string{file}, Env: "test", Token: token, Tick: 20 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); s.scheduler.loop(ctx, s.cfg.Tick) }()
	defer func() { cancel(); <-done }()
	waitFor(t, func() bool { return s.scheduler.leader.Load() })

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := func(path string, values url.Values, cookie *http.Cookie, origin string) *http.Response {
		req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(values.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// A wrong token: back to the form.
	if resp := form("/login", url.Values{"token": {"nope"}}, nil, ""); resp.StatusCode != 303 || resp.Header.Get("Location") != "/login?failed" {
		t.Errorf("wrong token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp := form("/login", url.Values{"token": {token}}, nil, "")
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login cookie: %+v", session)
	}
	run := "/systems/lab/experiments/dep-down/run"
	if resp := form(run, url.Values{}, nil, ""); resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
		t.Errorf("run without logging in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := form(run, url.Values{"csrf": {"forged"}}, session, ""); resp.StatusCode != 403 {
		t.Errorf("run with a forged CSRF token: %d", resp.StatusCode)
	}
	if resp := form(run, url.Values{"csrf": {s.csrfToken()}}, session, "http://evil.example"); resp.StatusCode != 403 {
		t.Errorf("run posted from another site: %d", resp.StatusCode)
	}
	// The page shows the button to a logged-in user, with the token.
	req, _ := http.NewRequest("GET", ts.URL+"/systems/lab/experiments", nil)
	req.AddCookie(session)
	page, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(body), `name="csrf" value="`+s.csrfToken()+`"`) || !strings.Contains(string(body), "Run now") {
		t.Fatalf("experiments page:\n%s", body)
	}
	resp = form(run, url.Values{"csrf": {s.csrfToken()}, "duration": {"200ms"}}, session, ts.URL)
	if resp.StatusCode != 303 || !strings.Contains(resp.Header.Get("Location"), "started") {
		t.Fatalf("run now: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var runs []store.Run
	waitFor(t, func() bool {
		runs, _ = s.cfg.Store.Runs(context.Background(), store.RunQuery{System: "lab"})
		return len(runs) == 1
	})
	if runs[0].Trigger != "ui" || runs[0].Verdict != "passed" {
		t.Errorf("the run: %+v", runs[0])
	}
}

// TestStopRestoresTheFaultInFlight: stopping the server (its scheduler)
// in the middle of a run restores the fault, and the run is recorded as
// aborted.
func TestStopRestoresTheFaultInFlight(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "spof.yaml")
	os.WriteFile(file, []byte(labModel), 0o644)
	r := startReplica(t, "sqlite:"+filepath.Join(dir, "spof.db"), file, "only", &clock{t: time.Now()})
	waitFor(t, func() bool { return r.s.scheduler.leader.Load() })
	req := httptest.NewRequest("POST", "/?duration=1h", nil)
	if res := r.s.trigger(req, r.s.system("lab"), "dep-down", "api"); res.code != http.StatusAccepted {
		t.Fatalf("trigger: %+v", res)
	}
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(dir, "down")); return err == nil })
	r.stop()
	if _, err := os.Stat(filepath.Join(dir, "down")); !os.IsNotExist(err) {
		t.Fatalf("the fault is still in place after the stop: %v", err)
	}
	runs, err := r.s.cfg.Store.Runs(context.Background(), store.RunQuery{System: "lab"})
	// The stop may land while the inject command still runs (the file is
	// there, touch has not exited): then the fault was not applied; after,
	// the run was aborted. Either way it is restored and recorded.
	if err != nil || len(runs) != 1 || (runs[0].Verdict != string(chaos.Aborted) && runs[0].Verdict != string(chaos.NotApplied)) {
		t.Errorf("runs after the stop: %+v, %v", runs, err)
	}
}
