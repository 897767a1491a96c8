package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/spofhq/spof/internal/pgtest"
	"github.com/spofhq/spof/store"
	"github.com/spofhq/spof/store/storetest"
)

// leaderEnv, set, makes the test binary the child of TestLeaderKilled:
// it leads the store the variable names, says so, and waits to be killed.
const leaderEnv = "SPOF_STORE_TEST_LEADER_DSN"

func TestMain(m *testing.M) {
	if dsn := os.Getenv(leaderEnv); dsn != "" {
		os.Exit(lead(dsn))
	}
	goleak.VerifyTestMain(m)
}

// lead is the child process of TestLeaderKilled.
func lead(dsn string) int {
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer s.Close()
	if _, ok, err := s.TryLead(ctx, "scheduler"); err != nil || !ok {
		fmt.Println("not leading:", ok, err)
		return 1
	}
	fmt.Println("leading")
	io.Copy(io.Discard, os.Stdin) // until killed, or the parent is gone
	return 0
}

// sqliteDSN makes a new SQLite database for a test.
func sqliteDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "spof.db")
}

// backends are the two backends, each with how to make a new database for
// a test.
var backends = []struct {
	name  string
	newDB func(testing.TB) string
}{
	{"SQLite", sqliteDSN},
	{"Postgres", pgtest.Start},
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, opener(sqliteDSN))
}

func TestPostgres(t *testing.T) {
	pgtest.Start(t) // one cluster for every subtest
	storetest.Run(t, opener(pgtest.Start))
}

// opener is storetest's open for a backend: the first call for a t makes
// a database with newDB, later calls open it again.
func opener(newDB func(testing.TB) string) func(*testing.T) store.Store {
	var mu sync.Mutex
	dbs := map[*testing.T]string{}
	return func(t *testing.T) store.Store {
		t.Helper()
		mu.Lock()
		dsn, ok := dbs[t]
		if !ok {
			dsn = newDB(t)
			dbs[t] = dsn
			t.Cleanup(func() {
				mu.Lock()
				delete(dbs, t)
				mu.Unlock()
			})
		}
		mu.Unlock()
		return open(t, dsn)
	}
}

// open opens the store at dsn, closed at t's cleanup.
func open(t testing.TB, dsn string) store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestLeaderKilled: a process that leads and is killed (-9) without a
// word gives the lead up; another process takes it.
func TestLeaderKilled(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.newDB(t)
			s := open(t, dsn)
			ctx := t.Context()

			child := exec.Command(os.Args[0], "-test.run=^$")
			child.Env = append(os.Environ(), leaderEnv+"="+dsn)
			stdin, err := child.StdinPipe() // closed by the test's end: the child ends too
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			stdout, err := child.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			child.Stderr = os.Stderr
			if err := child.Start(); err != nil {
				t.Fatal(err)
			}
			defer child.Wait()
			defer child.Process.Kill()
			line := make(chan string, 1)
			go func() {
				l, _ := bufio.NewReader(stdout).ReadString('\n')
				line <- strings.TrimSpace(l)
			}()
			select {
			case l := <-line:
				if l != "leading" {
					t.Fatalf("the child says %q", l)
				}
			case <-time.After(time.Minute):
				t.Fatal("the child did not lead within a minute")
			}
			if _, ok, err := s.TryLead(ctx, "scheduler"); err != nil || ok {
				t.Fatalf("TryLead while the child leads: ok %v, %v", ok, err)
			}

			if err := child.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			child.Wait()
			// PostgreSQL ends the session (and its lock) once it sees the
			// connection closed: soon, not at once.
			deadline := time.Now().Add(30 * time.Second)
			for {
				l, ok, err := s.TryLead(ctx, "scheduler")
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					if err := l.Check(ctx); err != nil {
						t.Error(err)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatal("the lead of a killed process was not free 30 s later")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestConcurrentOpen: processes opening a new database at once apply its
// migrations once, and all open it.
func TestConcurrentOpen(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.newDB(t)
			const n = 4
			errs := make([]error, n)
			stores := make([]store.Store, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { stores[i], errs[i] = store.Open(t.Context(), dsn) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("opening %d: %v", i, err)
					continue
				}
				defer stores[i].Close()
			}
			raw := rawDB(t, dsn)
			versions := raw.strings(t, `SELECT version || ' ' || name FROM schema_migrations ORDER BY version`)
			if len(versions) != 1 || versions[0] != "1 0001_init.sql" {
				t.Errorf("schema_migrations: %q, want each migration once", versions)
			}
		})
	}
}

// TestNewerSchemaRefused: a database a newer spof migrated is refused,
// and left as it is.
func TestNewerSchemaRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.newDB(t)
			s := open(t, dsn)
			if _, _, err := s.PutModel(t.Context(), store.ModelVersion{System: "shop", Source: []byte("v1")}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			raw := rawDB(t, dsn)
			raw.exec(t, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (2, '0002_future.sql', `+raw.now+`)`)
			raw.exec(t, `CREATE TABLE future (x INTEGER)`)
			before := raw.strings(t, `SELECT name FROM schema_migrations ORDER BY version`)

			_, err := store.Open(t.Context(), dsn)
			if err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), "version 2") {
				t.Fatalf("Open of a database at version 2: %v; want an error saying it is newer", err)
			}
			if after := raw.strings(t, `SELECT name FROM schema_migrations ORDER BY version`); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("schema_migrations changed: %q, then %q", before, after)
			}
			if n := raw.strings(t, `SELECT name FROM systems`); len(n) != 1 || n[0] != "shop" {
				t.Errorf("systems after the refusal: %q", n)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		dsn, want string
	}{
		{"", "sqlite:PATH"},
		{"mysql://spof:secret@db/spof", `unknown kind of database "mysql"`},
		{"spof", "not a database name"},
		{"sqlite:", "no path"},
		{"sqlite://host/spof.db", "no host"},
		{"sqlite:" + dir, "is a directory"},
		{dir + "/missing/spof.db", "does not exist"},
		{"sqlite:/dev/null", "not a regular file"},
		{"postgres://spof:secret@127.0.0.1:1/spof?connect_timeout=1", "127.0.0.1:1/spof"},
		{"postgres://spof@127.0.0.1:5432/spof?sslmode=sideways", "sslmode"},
	} {
		s, err := store.Open(t.Context(), tc.dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) did not fail", tc.dsn)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q): %v; want it to say %q", tc.dsn, err, tc.want)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q): %v tells the password", tc.dsn, err)
		}
	}
}

func TestSQLiteFiles(t *testing.T) {
	dir := t.TempDir()
	// Any path: escaped in the file: URI the driver is given.
	path := filepath.Join(dir, "a dir?#%", "spof.sqlite")
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dsn := range []string{path, "sqlite:" + path, "sqlite://" + path} {
		s := open(t, dsn)
		if _, err := s.Systems(t.Context()); err != nil {
			t.Errorf("%s: %v", dsn, err)
		}
		l, ok, err := s.TryLead(t.Context(), "scheduler")
		if err != nil || !ok {
			t.Fatalf("%s: TryLead: ok %v, %v", dsn, ok, err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := l.Check(t.Context()); !errors.Is(err, store.ErrNotLeader) {
			t.Errorf("Check after Close: %v", err)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	if strings.Join(names, " ") != "spof.sqlite spof.sqlite.lead-scheduler" {
		t.Errorf("files %q, want the database and the lock of the lead beside it (the WAL is gone once closed)", names)
	}

	// A bare relative path is one.
	t.Chdir(dir)
	s := open(t, "spof.db")
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, "spof.db")); err != nil {
		t.Error(err)
	}
}

// TestPostgresLostConnection: a lease whose connection breaks is lost,
// and Check says so; another store can lead then.
func TestPostgresLostConnection(t *testing.T) {
	dsn := pgtest.Start(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := t.Context()
	l, ok, err := a.TryLead(ctx, "scheduler")
	if err != nil || !ok {
		t.Fatalf("TryLead: ok %v, %v", ok, err)
	}
	raw := rawDB(t, dsn)
	killed := raw.strings(t, `SELECT pg_terminate_backend(pid, 10000)::text FROM pg_locks WHERE locktype = 'advisory' AND granted`)
	if len(killed) != 1 || killed[0] != "true" {
		t.Fatalf("terminating the lease's session: %q", killed)
	}
	if err := l.Check(ctx); !errors.Is(err, store.ErrNotLeader) {
		t.Fatalf("Check after the connection was terminated: %v, want ErrNotLeader", err)
	}
	if err := l.Check(ctx); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("Check again: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("Release of a lost lease: %v", err)
	}
	if _, ok, err := b.TryLead(ctx, "scheduler"); err != nil || !ok {
		t.Errorf("TryLead after the leader's connection was terminated: ok %v, %v", ok, err)
	}
}

// BenchmarkPutRun stores runs of 100 samples and 2 edges.
func BenchmarkPutRun(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend.name, func(b *testing.B) {
			s := open(b, backend.newDB(b))
			ctx := b.Context()
			if _, _, err := s.PutModel(ctx, store.ModelVersion{System: "shop", Source: []byte("v1")}); err != nil {
				b.Fatal(err)
			}
			start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
			samples := make([]store.Sample, 100)
			for i := range samples {
				samples[i] = store.Sample{At: start.Add(time.Duration(i) * time.Second), Flow: "checkout", State: "up",
					Latency: 12 * time.Millisecond, Detail: "HTTP 200"}
			}
			for i := 0; b.Loop(); i++ {
				end := start.Add(time.Duration(i) * time.Minute)
				_, err := s.PutRun(ctx, store.Run{System: "shop", Experiment: "redis-down", Verdict: "passed", Trigger: "schedule",
					Started: end.Add(-time.Minute), Ended: end, Edges: []string{"app → redis", "app → cache"}, Samples: samples})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSnapshots lists the newest 100 of a system's 1,000 snapshots
// (the SPOF count over time), and all of them.
func BenchmarkSnapshots(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend.name, func(b *testing.B) {
			s := open(b, backend.newDB(b))
			ctx := b.Context()
			if _, _, err := s.PutModel(ctx, store.ModelVersion{System: "shop", Source: []byte("v1")}); err != nil {
				b.Fatal(err)
			}
			start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
			report := []byte(`{"findings": [` + strings.Repeat(`{"id": "f", "severity": "high"},`, 100) + `{}]}`)
			for i := range 1000 {
				_, err := s.PutSnapshot(ctx, store.Snapshot{System: "shop", ModelVersion: 1, At: start.Add(time.Duration(i) * time.Hour),
					Counts: store.Counts{SPOFs: i % 7, BySeverity: map[string]int{"high": i % 7}}, Report: report})
				if err != nil {
					b.Fatal(err)
				}
			}
			for _, limit := range []int{100, 0} {
				b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
					want := limit
					if limit == 0 {
						want = 1000
					}
					for b.Loop() {
						list, err := s.Snapshots(ctx, "shop", time.Time{}, limit)
						if err != nil || len(list) != want {
							b.Fatalf("%d snapshots, %v", len(list), err)
						}
					}
				})
			}
		})
	}
}
