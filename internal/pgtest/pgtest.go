// Package pgtest starts a throwaway PostgreSQL on loopback for tests:
// Start gives each test a new, empty database of its own. The cluster
// behind them is created in a temporary directory with initdb when the
// first test asks, shared by the tests running at the same time, and
// stopped, its directory removed, once the last of them has ended.
//
// Find, Programs and CreateDatabase are the same steps for programs that
// start a PostgreSQL of their own outside tests (the demo shop).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// shared is the cluster of the tests running now.
var shared struct {
	mu      sync.Mutex
	cluster *cluster // nil while no test uses one
	users   int      // tests using cluster
	dbs     int      // databases created so far, for their names
}

// Start returns the URL of a new, empty database in the shared throwaway
// cluster, which t's cleanup drops (disconnecting whatever is still
// connected). The first Start starts the cluster (a second or two); it
// stops when the last test that called Start has ended, so a test that
// opens many databases in subtests should call Start itself first, to
// keep one cluster for all of them.
//
// Without PostgreSQL installed the test is skipped, saying so, unless the
// environment has CI=true: there, where scripts/test-deps.sh installs it,
// the test fails.
func Start(t testing.TB) string {
	t.Helper()
	c, name, err := acquire()
	if err != nil {
		skipOrFail(t, err)
		return ""
	}
	t.Cleanup(func() {
		if err := release(); err != nil {
			t.Errorf("stopping the throwaway PostgreSQL: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url, err := CreateDatabase(ctx, c.addr, superuser, name)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the database is dropped before the
	// cluster may stop.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dropDatabase(ctx, c.addr, name); err != nil {
			t.Errorf("dropping the test's database: %v", err)
		}
	})
	return url
}

// skipOrFail skips t when err says PostgreSQL is not installed, unless
// CI=true; it fails t otherwise.
func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skipf("PostgreSQL is needed: %v", err)
		return
	}
	t.Fatalf("starting a throwaway PostgreSQL: %v", err)
}

// acquire starts the shared cluster unless it runs, counts one more user,
// and names a new database.
func acquire() (*cluster, string, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cluster == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := startCluster(ctx)
		if err != nil {
			return nil, "", err
		}
		shared.cluster = c
	}
	shared.users++
	shared.dbs++
	return shared.cluster, fmt.Sprintf("test_%d", shared.dbs), nil
}

// release counts one user less, and stops the cluster after the last.
func release() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.users--
	if shared.users > 0 {
		return nil
	}
	c := shared.cluster
	shared.cluster = nil
	return c.stop(10 * time.Second)
}

func dropDatabase(ctx context.Context, addr, name string) error {
	conn, err := pgx.Connect(ctx, URL(addr, superuser, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}
