package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartGivesEachTestItsOwnDatabase(t *testing.T) {
	a, b := Start(t), Start(t)
	if a == b {
		t.Fatalf("two Starts gave the same database %s", a)
	}
	if !strings.Contains(a, "@127.0.0.1:") {
		t.Errorf("URL %s is not on loopback", a)
	}
	ctx := t.Context()
	ca := connect(t, a)
	cb := connect(t, b)
	if _, err := ca.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.Exec(ctx, "SELECT * FROM t"); err == nil {
		t.Error("a table created in one test's database is in the other's")
	}
}

func TestCleanupDropsTheDatabaseAndStopsTheCluster(t *testing.T) {
	var url string
	var c *cluster
	t.Run("user", func(t *testing.T) {
		url = Start(t)
		c = shared.cluster
		// Still connected at the end: the drop disconnects it.
		connect(t, url)
	})
	if c == nil {
		t.Fatal("no cluster while a test used it")
	}
	select {
	case <-c.done:
	default:
		t.Error("postgres still runs after its last user ended")
	}
	if _, err := os.Stat(c.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cluster's directory %s after its last user ended: %v", c.dir, err)
	}

	// The next test gets a cluster again, without the dropped database.
	other := Start(t)
	conn := connect(t, other)
	var n int
	name := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s is still there", name)
	}
}

func TestFind(t *testing.T) {
	p, err := Find()
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{p.Initdb, p.Postgres} {
		if !isExecutable(path) {
			t.Errorf("%s is not an executable", path)
		}
	}
	if (os.Geteuid() == 0) != (p.Owner != nil) {
		t.Errorf("Owner = %v as uid %d", p.Owner, os.Geteuid())
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// recorder is a testing.TB that records how it was ended.
type recorder struct {
	testing.TB
	ended string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Skipf(format string, a ...any)  { r.ended = "skipped: " + fmt.Sprintf(format, a...) }
func (r *recorder) Fatalf(format string, a ...any) { r.ended = "failed: " + fmt.Sprintf(format, a...) }

func TestSkipOrFail(t *testing.T) {
	missing := fmt.Errorf("postgres and initdb: %w", ErrNotInstalled)
	for _, tc := range []struct {
		ci   string
		err  error
		want string
	}{
		{"", missing, "skipped: PostgreSQL is needed: postgres and initdb: not installed"},
		{"false", missing, "skipped:"},
		{"true", missing, "failed: starting a throwaway PostgreSQL: postgres and initdb: not installed"},
		{"", errors.New("initdb: exit status 1"), "failed: starting a throwaway PostgreSQL: initdb: exit status 1"},
	} {
		t.Setenv("CI", tc.ci)
		r := &recorder{TB: t}
		skipOrFail(r, tc.err)
		if !strings.HasPrefix(r.ended, tc.want) {
			t.Errorf("CI=%q, %v: %q, want %q", tc.ci, tc.err, r.ended, tc.want)
		}
	}
}
