package serve

import (
	"context"
	"log/slog"
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
