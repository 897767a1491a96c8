package shop_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spofhq/spof/examples/shop/internal/demo"
)

// shared is what the package's tests share, made by the first test that
// needs it and stopped by TestMain: the built programs, and one Redis and
// one PostgreSQL, in which each test's shop has its own database and Redis
// database number (so the tests stay independent, and may run in
// parallel). initdb and the builds are paid once per package run.
var shared struct {
	once     sync.Once
	binDir   string // spof, shop, shop-config, shop-payments
	backends *demo.Backends
	err      error
}

func TestMain(m *testing.M) {
	if raceEnabled {
		// The programs are built with the race detector, as this test
		// is: a race in spof or the shop fails the run that finds it
		// (exit 66). A program that exits 0 would first sleep a second
		// so that late reports are flushed: a second per spof command.
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	code := m.Run()
	if shared.backends != nil {
		if err := shared.backends.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the shared Redis and PostgreSQL: %v\n", err)
			code = 1
		}
	}
	if shared.binDir != "" {
		os.RemoveAll(filepath.Dir(shared.binDir))
	}
	os.Exit(code)
}

// setUp builds the programs and starts the shared backends, once, the two
// at the same time.
func setUp() error {
	shared.once.Do(func() {
		// Generous: with an empty build cache (CI), the build compiles
		// everything while other packages' tests and lint compete for
		// the CPU.
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
		defer cancel()
		dir, err := os.MkdirTemp("", "spof-shop-test-")
		if err != nil {
			shared.err = err
			return
		}
		shared.binDir = filepath.Join(dir, "bin")
		var buildErr error
		var wg sync.WaitGroup
		wg.Go(func() { buildErr = demo.Build(ctx, shared.binDir, raceEnabled) })
		shared.backends, shared.err = demo.StartBackends(ctx, false)
		wg.Wait()
		if shared.err == nil {
			shared.err = buildErr
		}
	})
	return shared.err
}

// startShop starts a demo system for t, on the shared programs and
// backends, and stops it when t ends. Without redis-server or PostgreSQL
// the test is skipped, except in CI (CI=true), where it fails: there `make
// deps` must have installed them.
func startShop(t *testing.T) *demo.System {
	t.Helper()
	err := setUp()
	if errors.Is(err, demo.ErrMissing) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: %v", err)
		}
		t.Skipf("skipping the demo shop's end-to-end test: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	sys, err := demo.Start(ctx, demo.Options{BinDir: shared.binDir, Backends: shared.backends})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sys.Stop(); err != nil {
			t.Errorf("stopping the demo: %v", err)
		}
	})
	return sys
}
