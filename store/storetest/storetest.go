// Package storetest is the test suite every store.Store backend passes:
// each method with what it returns, ErrNotFound and ErrInvalid where the
// interface says, version numbering and deduplication, orders, limits,
// times and durations read back as written, the verification ledger
// (checked against chaos.Verifications, the reading it replaces), the
// fault journal, leadership among several stores on one database,
// concurrent writers, and a store closed and opened again.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/spofhq/spof/store"
)

// Run runs the suite, each part in a subtest of its own.
//
// open returns a new Store on t's database: the first call for a t opens
// a new, empty database, and later calls with the same t open another
// Store on that same database, as another process would (to close and
// open again, or to have two stores compete for leadership). open fails t
// if it cannot. The suite closes every store it opens, perhaps twice.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	o := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	for _, part := range []struct {
		name string
		run  func(*testing.T, func(*testing.T) store.Store)
	}{
		{"Models", testModels},
		{"ModelDedup", testModelDedup},
		{"Systems", testSystems},
		{"DeleteSystem", testDeleteSystem},
		{"Snapshots", testSnapshots},
		{"Runs", testRuns},
		{"RunQuery", testRunQuery},
		{"Samples", testSamples},
		{"Ledger", testLedger},
		{"Baselines", testBaselines},
		{"Faults", testFaults},
		{"Leadership", testLeadership},
		{"ConcurrentPutModel", testConcurrentPutModel},
		{"ConcurrentPutRun", testConcurrentPutRun},
		{"Restart", testRestart},
		{"OpenTwice", testOpenTwice},
		{"Times", testTimes},
		{"Invalid", testInvalid},
	} {
		t.Run(part.name, func(t *testing.T) {
			t.Parallel()
			part.run(t, o)
		})
	}
}

// day is when the suite's runs and snapshots happen.
var day = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// model stores a version of system's model from source, and fails t
// unless it was created.
func model(t *testing.T, s store.Store, system, source string) store.ModelVersion {
	t.Helper()
	v, created, err := s.PutModel(t.Context(), store.ModelVersion{System: system, File: "spof.yaml", Source: []byte(source)})
	if err != nil || !created {
		t.Fatalf("PutModel(%s, %q) = created %v, %v", system, source, created, err)
	}
	return v
}

// run stores a run of experiment on system that ended at end, with the
// verdict and edges, and returns it.
func run(t *testing.T, s store.Store, system, experiment, verdict string, end time.Time, edges ...string) store.Run {
	t.Helper()
	r, err := s.PutRun(t.Context(), store.Run{
		System: system, Experiment: experiment, Fault: "kill", Verdict: verdict, Trigger: "cli",
		Node: "node-1 (pid 42)", Started: end.Add(-time.Minute), Ended: end, Edges: edges,
	})
	if err != nil {
		t.Fatalf("PutRun(%s, %s, %s): %v", system, experiment, verdict, err)
	}
	return r
}

// wantErr fails t unless err is target (errors.Is).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// same fails t unless got and want are equal.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// within fails t unless at is in [from, to], to the microsecond, and UTC.
func within(t *testing.T, what string, at, from, to time.Time) {
	t.Helper()
	if at.Before(from.Truncate(time.Microsecond)) || at.After(to) || at.Location() != time.UTC {
		t.Errorf("%s = %v, want a UTC time between %v and %v", what, at, from, to)
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func name(prefix string, i int) string { return fmt.Sprintf("%s-%d", prefix, i) }
