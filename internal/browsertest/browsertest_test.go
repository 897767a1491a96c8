package browsertest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spofhq/spof/internal/browsertest"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "my-chrome")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	chromium := filepath.Join(dir, "chromium")
	if err := os.WriteFile(chromium, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	t.Setenv("PATH", dir)
	t.Setenv("CHROME", "")
	if got, err := browsertest.Find(); err != nil || got != chromium {
		t.Errorf("with chromium on PATH: Find() = %q, %v; want %q", got, err, chromium)
	}
	t.Setenv("CHROME", fake)
	if got, err := browsertest.Find(); err != nil || got != fake {
		t.Errorf("with $CHROME: Find() = %q, %v; want %q", got, err, fake)
	}
	t.Setenv("CHROME", filepath.Join(dir, "missing"))
	if _, err := browsertest.Find(); err == nil || !strings.Contains(err.Error(), "$CHROME") {
		t.Errorf("with $CHROME missing: Find() error %v, want one naming $CHROME", err)
	}
	t.Setenv("CHROME", "")
	t.Setenv("PATH", t.TempDir())
	if _, err := browsertest.Find(); !errors.Is(err, browsertest.ErrNoBrowser) {
		t.Errorf("with no browser: Find() error %v, want ErrNoBrowser", err)
	}
}

// TestNew drives a page and reads its console errors.
func TestNew(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<!doctype html><title>hello</title><script src="/page.js"></script>`))
		case "/page.js":
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write([]byte(`console.log('fine'); console.error('broken: ' + (6 * 7)); window.setTimeout(() => { throw new Error('thrown'); });`))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()

	ctx := browsertest.New(t)
	consoleErrors := browsertest.Console(t, ctx)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "hello" {
		t.Errorf("title %q, %v; want hello", title, err)
	}
	// The messages arrive asynchronously: wait for both, within the timeout.
	for len(consoleErrors()) < 2 && ctx.Err() == nil {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`new Promise((r) => setTimeout(r, 20))`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
	}
	errs := consoleErrors()
	if len(errs) != 2 || !slices.ContainsFunc(errs, func(s string) bool { return strings.Contains(s, "broken: 42") }) ||
		!slices.ContainsFunc(errs, func(s string) bool { return strings.Contains(s, "thrown") }) {
		t.Errorf("console errors %q, want the console.error and the exception", errs)
	}
}

// recorder is a testing.TB that records how New gave up.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestNewWithoutBrowser: skipped with what to install, failed under CI=true.
func TestNewWithoutBrowser(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CHROME", "")
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			browsertest.New(r)
		}()
		<-done
		if ci == "true" {
			if r.skipped != "" || !strings.Contains(r.failed, "CI=true") {
				t.Errorf("CI=true: skipped %q, failed %q; want a failure naming CI=true", r.skipped, r.failed)
			}
		} else if r.failed != "" || !strings.Contains(r.skipped, "apt-get install chromium") {
			t.Errorf("skipped %q, failed %q; want a skip saying what to install", r.skipped, r.failed)
		}
	}
}
