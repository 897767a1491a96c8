package chaos

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/proxy"
)

func startProxy(t *testing.T) (api string, srv *proxy.Server) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	srv = proxy.New(proxy.Options{})
	t.Cleanup(func() { srv.Close(context.Background()) })
	if _, err := srv.CreateProxy(proxy.ProxyConfig{Name: "redis", Upstream: up.Addr().String(), Enabled: true}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL, srv
}

// deadPID is the PID of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestRecover(t *testing.T) {
	ctx := context.Background()
	api, srv := startProxy(t)
	j, _ := OpenJournal(t.TempDir())
	p := inject.Proxy{API: api, Proxy: "redis", Toxic: "spof-session-redis-down"}

	// What spof chaos run does before it is killed: journal, then inject.
	e := Entry{ID: "run1/session-redis-down", Experiment: "session-redis-down", Fault: "down",
		Undo: p.Undo(), Started: time.Now(), Deadline: time.Now().Add(time.Minute), PID: deadPID(t)}
	if err := j.Begin(e); err != nil {
		t.Fatal(err)
	}
	if err := p.Inject(ctx, inject.Undo{}, inject.Fault{Kind: inject.Down}); err != nil {
		t.Fatal(err)
	}

	rs, err := Recover(ctx, j, RecoverOptions{Retry: 300 * time.Millisecond})
	if err != nil || len(rs) != 1 || rs[0].Err != nil {
		t.Fatalf("Recover = %+v, %v; want one entry recovered", rs, err)
	}
	if ts, _ := srv.Toxics("redis"); len(ts) != 0 {
		t.Errorf("toxics after recovery: %+v, want none", ts)
	}
	if es, _ := j.Entries(); len(es) != 0 {
		t.Errorf("open entries after recovery: %+v", es)
	}
	if rs, err := Recover(ctx, j, RecoverOptions{Retry: 300 * time.Millisecond}); err != nil || len(rs) != 0 {
		t.Errorf("second Recover = %+v, %v; want nothing to do", rs, err)
	}
}

// fakeClock moves at once: After advances it and fires.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func TestRecoverFailures(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{now: time.Now()}
	j, _ := OpenJournal(t.TempDir())
	// The proxy API is gone: the entry stays open, with the reason.
	dead := inject.Proxy{API: "http://127.0.0.1:1", Proxy: "redis", Toxic: "spof-x"}
	j.Begin(Entry{ID: "a", Undo: dead.Undo(), PID: deadPID(t)})
	// The injecting process is alive (this test): left alone.
	api, _ := startProxy(t)
	live := inject.Proxy{API: api, Proxy: "redis", Toxic: "spof-y"}
	j.Begin(Entry{ID: "b", Undo: live.Undo(), PID: os.Getpid(), Deadline: time.Now().Add(time.Minute)})

	rs, err := Recover(ctx, j, RecoverOptions{Retry: 300 * time.Millisecond, Clock: clk})
	if err != nil || len(rs) != 2 {
		t.Fatalf("Recover = %+v, %v", rs, err)
	}
	if rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), "unreachable") || !strings.HasSuffix(rs[0].Err.Error(), "(is `spof proxy` running?) (2 attempts in 300ms)") {
		t.Errorf("entry a: %v, want the API unreachable, after 2 attempts", rs[0].Err)
	}
	if !errors.Is(rs[1].Err, ErrStillRunning) {
		t.Errorf("entry b: %v, want ErrStillRunning", rs[1].Err)
	}
	if es, _ := j.Entries(); len(es) != 2 {
		t.Errorf("%d open entries, want both still open", len(es))
	}
	rs, _ = Recover(ctx, j, RecoverOptions{Force: true, Retry: 300 * time.Millisecond, Clock: clk})
	if rs[1].Err != nil {
		t.Errorf("entry b with force: %v", rs[1].Err)
	}
	if es, _ := j.Entries(); len(es) != 1 || es[0].ID != "a" {
		t.Errorf("open entries %+v, want only a", es)
	}

	// Past its deadline an entry is abandoned, whatever runs under its pid
	// (after a reboot, another process may have it).
	stale := inject.Proxy{API: api, Proxy: "redis", Toxic: "spof-z"}
	j.Begin(Entry{ID: "c", Undo: stale.Undo(), PID: os.Getpid(), Deadline: time.Now().Add(-time.Second)})
	rs, _ = Recover(ctx, j, RecoverOptions{Retry: 300 * time.Millisecond, Clock: clk})
	if len(rs) != 2 || rs[1].Entry.ID != "c" || rs[1].Err != nil {
		t.Errorf("entry past its deadline: %+v", rs)
	}
}

// TestRestoreBackoff: the restore backs off 100ms, 200ms, 400ms… and
// starts no attempt that the deadline would cut: the error is the last
// attempt's real one, not "context deadline exceeded".
func TestRestoreBackoff(t *testing.T) {
	j, _ := OpenJournal(t.TempDir())
	dead := inject.Proxy{API: "http://127.0.0.1:1", Proxy: "redis", Toxic: "spof-x"}
	e := Entry{ID: "a", Undo: dead.Undo()}
	j.Begin(e)
	clk := &fakeClock{now: time.Now()}
	err := restore(context.Background(), j, e, time.Second, clk)
	if err == nil || !strings.Contains(err.Error(), "(is `spof proxy` running?) (4 attempts in 1s)") {
		t.Errorf("restore: %v, want the API unreachable after 4 attempts", err)
	}
	if want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}; !slices.Equal(clk.waits, want) {
		t.Errorf("waits %v, want %v (the next, 800ms, would end past the deadline)", clk.waits, want)
	}
}

// TestRecoverBadUndo: an undo record no retry can make usable (an
// injector this spof does not know) fails at once, naming it.
func TestRecoverBadUndo(t *testing.T) {
	j, _ := OpenJournal(t.TempDir())
	j.Begin(Entry{ID: "a", Undo: inject.Undo{Injector: "teleport", Data: []byte("{}")}, PID: deadPID(t)})
	clk := &fakeClock{now: time.Now()}
	rs, err := Recover(context.Background(), j, RecoverOptions{Clock: clk})
	if err != nil || len(rs) != 1 || !errors.Is(rs[0].Err, inject.ErrBadUndo) || !strings.Contains(rs[0].Err.Error(), `unknown injector "teleport"`) {
		t.Fatalf("Recover = %+v, %v; want the bad undo record named", rs, err)
	}
	if len(clk.waits) != 0 {
		t.Errorf("waited %v before failing: want no retry", clk.waits)
	}
}
