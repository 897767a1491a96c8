package chaos

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/model"
)

// labModel describes the lab: app needs dep, reached through the proxy,
// with a fallback; flow f is probed through the app.
func labModel(t *testing.T, l *lab) *model.Model {
	t.Helper()
	p, _ := l.srv.Proxy("dep")
	m, err := model.Parse("lab.yaml", []byte(`version: 1
system: lab
environment: test
chaos: {proxy_api: "`+l.api.URL+`"}
components:
  app: {kind: service, depends_on: [{dep: {fallback: cached}}]}
  dep: {kind: database, chaos: {proxy: {name: dep, listen: "`+p.Listen+`", upstream: "`+p.Upstream+`"}}}
flows:
  f: {criticality: high, steps: [app], probe: {http: "`+l.app.URL+`", degraded_when: {header: X-Degraded}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRunAll runs the lab's experiment from its model: selected by name,
// run under the state directory's lock, recorded in the history.
func TestRunAll(t *testing.T) {
	l := newLab(t)
	l.fallback.Store(true)
	m := labModel(t, l)
	xs, skipped, err := Select(m, Selection{Names: []string{"dep-down"}, MaxBlast: 1})
	if err != nil || len(xs) != 1 || len(skipped) != 0 {
		t.Fatalf("Select = %v, %v, %v", xs, skipped, err)
	}
	sd := t.TempDir()
	opts := RunAllOptions{RunOptions: quick, ModelPath: filepath.Join(t.TempDir(), "spof.yaml"), StateDir: sd}
	var started []string
	opts.Progress = func(x Experiment) func() { started = append(started, x.Name); return func() {} }
	results, err := RunAll(context.Background(), m, xs, opts)
	if err != nil || len(results) != 1 || results[0].Verdict != Passed {
		t.Fatalf("RunAll = %+v, %v; want dep-down passed", results, err)
	}
	if len(started) != 1 {
		t.Errorf("progress heard %v", started)
	}
	if recs, err := ReadHistory(sd); err != nil || len(recs) != 1 || recs[0].Verdict != Passed || len(recs[0].Edges) != 1 {
		t.Errorf("history %+v, %v", recs, err)
	}
	l.clean(t)

	// Not ready: nothing is injected, and the error says why.
	lock, err := LockRun(sd, time.Now())
	if err != nil {
		t.Fatalf("the run did not release its lock: %v", err)
	}
	if _, err := RunAll(context.Background(), m, xs, opts); !errors.Is(err, ErrNotReady) || !errors.Is(err, ErrRunLocked) {
		t.Errorf("RunAll while another run holds the lock: %v", err)
	}
	lock.Close()
	os.WriteFile(filepath.Join(sd, journalFile), []byte("{"), 0o644)
	if _, err := RunAll(context.Background(), m, xs, opts); !errors.Is(err, ErrCorruptJournal) {
		t.Errorf("RunAll with a corrupt journal: %v", err)
	}
	opts.DryRun, opts.StateDir = true, filepath.Join(t.TempDir(), "never")
	if rs, err := RunAll(context.Background(), m, xs, opts); err != nil || rs != nil {
		t.Errorf("dry run: %v, %v", rs, err)
	}
	if _, err := os.Stat(opts.StateDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run made the state directory: %v", err)
	}
	if ts, _ := l.srv.Toxics("dep"); len(ts) != 0 {
		t.Errorf("toxics after the refused runs: %+v", ts)
	}

	if _, _, err := Select(m, Selection{All: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Select(m, Selection{Names: []string{"dep-down"}, All: true}); err == nil || !strings.Contains(err.Error(), "choose one") {
		t.Errorf("Select with names and all: %v", err)
	}
}
