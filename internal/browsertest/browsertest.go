// Package browsertest starts a headless Chromium for tests that drive a page
// through chromedp, and collects what the page reports to its console.
//
// A test that needs a browser calls New; on a machine without one the test
// is skipped with a message saying what to install, except under CI=true,
// where a missing browser fails it (scripts/test-deps.sh installs one).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Candidates are the browsers Find looks for on PATH, in order, when $CHROME
// is not set.
var Candidates = []string{"chromium", "chromium-browser", "google-chrome"}

// ErrNoBrowser is wrapped by Find's error when no browser is installed.
var ErrNoBrowser = errors.New("no Chromium or Chrome browser found")

// startTimeout bounds the start of the browser and its first tab.
const startTimeout = 60 * time.Second

// Find returns the path of the browser to run: $CHROME when it is set (a
// path or a name on PATH), else the first of Candidates on PATH.
func Find() (string, error) {
	if c := os.Getenv("CHROME"); c != "" {
		p, err := exec.LookPath(c)
		if err != nil {
			return "", fmt.Errorf("$CHROME=%q: %w", c, err)
		}
		return p, nil
	}
	for _, name := range Candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (looked for $CHROME, then %s on PATH)", ErrNoBrowser, strings.Join(Candidates, ", "))
}

// New starts a headless browser with a fresh profile in a temporary
// directory and returns a chromedp context whose tab is open, 1280×900. The
// browser stops when the test ends. It runs with --no-sandbox only as root,
// where Chromium's sandbox cannot start.
//
// The context has no deadline: bound each step with context.WithTimeout on
// a child of it (a deadline on the context of the first chromedp.Run would
// stop the whole browser, which is why New makes that call).
func New(tb testing.TB) context.Context {
	tb.Helper()
	path, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("browser test: %v; CI=true, so this fails instead of skipping (scripts/test-deps.sh installs chromium)", err)
		}
		tb.Skipf("browser test skipped: %v; install one (apt-get install chromium, or scripts/test-deps.sh) or set $CHROME", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(tb.TempDir()), // removed after the browser stops: cleanups run last first
		chromedp.Flag("no-sandbox", os.Geteuid() == 0),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(tb.Logf))
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
	})

	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(startTimeout):
		cancel() // kills the browser, so the Run above returns
		err = fmt.Errorf("no answer after %v", startTimeout)
		<-started
	}
	if err != nil {
		tb.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// Console records, from now until the test ends, the page's uncaught
// exceptions, unhandled rejections and console errors in the tab of ctx.
// The func it returns gives those recorded so far.
func Console(tb testing.TB, ctx context.Context) func() []string {
	tb.Helper()
	ctx, cancel := context.WithCancel(ctx)
	messages := chromedp.Console(ctx)
	var (
		mu   sync.Mutex
		errs []string
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				mu.Unlock()
			}
		}
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}
