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

	"github.com/spofhq/spof/examples/shop/internal/configapp"
	"github.com/spofhq/spof/examples/shop/internal/demo"
	"github.com/spofhq/spof/examples/shop/internal/paymentsapp"
	"github.com/spofhq/spof/examples/shop/internal/shopapp"
	"github.com/spofhq/spof/internal/cli"
)

// shared is what the package's tests share, made by the first test that
// needs it and stopped by TestMain: the programs (this binary, see
// TestMain), and one Redis and one PostgreSQL, in which each test's shop
// has its own database and Redis database number (so the tests stay
// independent, and may run in parallel). initdb is paid once per package
// run.
var shared struct {
	once     sync.Once
	binDir   string // spof, shop, shop-config, shop-payments
	backends *demo.Backends
	err      error
}

func TestMain(m *testing.M) {
	// This test binary is also spof and the shop's three programs: setUp
	// links it under their names into the bin directory, and started
	// under one of them it runs that program instead of the tests. The
	// tests then build nothing (and under -race the programs run with the
	// race detector too: a race in them fails the run, exit 66).
	if run, ok := programs[filepath.Base(os.Args[0])]; ok {
		run()
		os.Exit(0)
	}
	if raceEnabled {
		// A program that exits 0 would first sleep a second so that
		// late race reports are flushed: a second per spof command.
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

// setUp links the programs and starts the shared backends, once.
func setUp() error {
	shared.once.Do(func() {
		// Generous: in CI, other packages' builds and tests compete
		// for the CPU.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		dir, err := os.MkdirTemp("", "spof-shop-test-")
		if err != nil {
			shared.err = err
			return
		}
		shared.binDir = filepath.Join(dir, "bin")
		if shared.err = linkPrograms(shared.binDir); shared.err != nil {
			return
		}
		shared.backends, shared.err = demo.StartBackends(ctx, false)
	})
	return shared.err
}

// programs are what this test binary runs when started under their names.
var programs = map[string]func(){
	"spof":          func() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) },
	"shop":          shopapp.Main,
	"shop-config":   configapp.Main,
	"shop-payments": paymentsapp.Main,
}

// linkPrograms makes binDir hold spof and the shop's programs: links to
// this test binary under their names.
func linkPrograms(binDir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	for name := range programs {
		if err := os.Symlink(self, filepath.Join(binDir, name)); err != nil {
			return err
		}
	}
	return nil
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
