package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/store"
)

// testTimes: any zone reads back as UTC, the same instant to the
// microsecond, from year 1 to 9999; other years are refused.
func testTimes(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	model(t, s, "shop", "v1")
	zones := []*time.Location{time.UTC, time.FixedZone("east", 14*3600), time.FixedZone("west", -(9*3600 + 30*60))}
	for i, at := range []time.Time{
		time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), // (year 1 at 0:00 is the zero time: now)
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, zones[1]),
		time.Date(2026, 3, 29, 1, 30, 0, 1001, zones[2]),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).Add(-14 * time.Hour).In(zones[1]),
	} {
		want := at.UTC().Truncate(time.Microsecond)
		snap, err := s.PutSnapshot(ctx, store.Snapshot{System: "shop", ModelVersion: 1, At: at})
		if err != nil {
			t.Fatalf("time %d (%v): %v", i, at, err)
		}
		list, err := s.Snapshots(ctx, "shop", want, 0)
		if err != nil || len(list) == 0 {
			t.Fatalf("Snapshots since %v = %v, %v", want, list, err)
		}
		got := list[0]
		if !snap.At.Equal(want) || !got.At.Equal(want) || got.At.Location() != time.UTC {
			t.Errorf("time %d: %v stored as %v, read back as %v; want %v", i, at, snap.At, got.At, want)
		}
		if err := s.DeleteSystem(ctx, "shop"); err != nil { // one snapshot at a time
			t.Fatal(err)
		}
		model(t, s, "shop", "v1")
	}
	for _, at := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)} {
		_, err := s.PutSnapshot(ctx, store.Snapshot{System: "shop", ModelVersion: 1, At: at})
		wantErr(t, "a snapshot at "+at.String(), err, store.ErrInvalid)
	}
}

// testInvalid: bad input is an ErrInvalid, stores nothing, and panics
// nothing.
func testInvalid(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	model(t, s, "shop", "v1")
	long := strings.Repeat("x", 2<<10)
	goodRun := func(change func(*store.Run)) func(context.Context) error {
		return func(ctx context.Context) error {
			r := store.Run{System: "shop", Experiment: "x", Verdict: "passed", Trigger: "cli", Started: day, Ended: day,
				Samples: []store.Sample{{At: day, Flow: "f", State: "up"}}}
			change(&r)
			_, err := s.PutRun(ctx, r)
			return err
		}
	}
	goodFault := func(change func(*store.Fault)) func(context.Context) error {
		return func(ctx context.Context) error {
			f := store.Fault{ID: "f", System: "shop", Undo: []byte(`{}`)}
			change(&f)
			return s.BeginFault(ctx, f)
		}
	}
	putModel := func(v store.ModelVersion) func(context.Context) error {
		return func(ctx context.Context) error { _, _, err := s.PutModel(ctx, v); return err }
	}
	putSnapshot := func(snap store.Snapshot) func(context.Context) error {
		return func(ctx context.Context) error { _, err := s.PutSnapshot(ctx, snap); return err }
	}
	for _, tc := range []struct {
		name string
		call func(context.Context) error
	}{
		{"PutModel without a system", putModel(store.ModelVersion{Source: []byte("x")})},
		{"PutModel without a source", putModel(store.ModelVersion{System: "shop"})},
		{"PutModel with a name too long", putModel(store.ModelVersion{System: long, Source: []byte("x")})},
		{"PutModel with a newline in the name", putModel(store.ModelVersion{System: "a\nb", Source: []byte("x")})},
		{"PutModel with a name not UTF-8", putModel(store.ModelVersion{System: "a\xff", Source: []byte("x")})},
		{"PutModel with a NUL in the description", putModel(store.ModelVersion{System: "shop", Description: "a\x00", Source: []byte("x")})},
		{"PutModel with a source over 64 MiB", putModel(store.ModelVersion{System: "shop", Source: make([]byte, 64<<20+1)})},
		{"System without a name", func(ctx context.Context) error { _, err := s.System(ctx, ""); return err }},
		{"DeleteSystem without a name", func(ctx context.Context) error { return s.DeleteSystem(ctx, "") }},
		{"ModelVersions with limit -5", func(ctx context.Context) error { _, err := s.ModelVersions(ctx, "shop", -5); return err }},
		{"PutSnapshot of version 0", putSnapshot(store.Snapshot{System: "shop"})},
		{"PutSnapshot with a report not JSON", putSnapshot(store.Snapshot{System: "shop", ModelVersion: 1, Report: []byte("{")})},
		{"PutSnapshot with a checklist not UTF-8", putSnapshot(store.Snapshot{System: "shop", ModelVersion: 1, Checklist: []byte("\"\xff\"")})},
		{"PutSnapshot with a negative count", putSnapshot(store.Snapshot{System: "shop", ModelVersion: 1, Counts: store.Counts{SPOFs: -1}})},
		{"PutSnapshot with a negative severity count", putSnapshot(store.Snapshot{System: "shop", ModelVersion: 1, Counts: store.Counts{BySeverity: map[string]int{"high": -1}}})},
		{"PutRun without an experiment", goodRun(func(r *store.Run) { r.Experiment = "" })},
		{"PutRun with an unknown verdict", goodRun(func(r *store.Run) { r.Verdict = "great" })},
		{"PutRun with an unknown trigger", goodRun(func(r *store.Run) { r.Trigger = "" })},
		{"PutRun without a start", goodRun(func(r *store.Run) { r.Started = time.Time{} })},
		{"PutRun ending before it starts", goodRun(func(r *store.Run) { r.Ended = day.Add(-time.Second) })},
		{"PutRun with an empty edge", goodRun(func(r *store.Run) { r.Edges = []string{"a → b", ""} })},
		{"PutRun with flows not JSON", goodRun(func(r *store.Run) { r.Flows = []byte("nope") })},
		{"PutRun with a sample without a time", goodRun(func(r *store.Run) { r.Samples[0].At = time.Time{} })},
		{"PutRun with a sample's state unknown", goodRun(func(r *store.Run) { r.Samples[0].State = "sideways" })},
		{"PutRun with a sample's latency negative", goodRun(func(r *store.Run) { r.Samples[0].Latency = -time.Millisecond })},
		{"PutRun with a sample without a flow", goodRun(func(r *store.Run) { r.Samples[0].Flow = "" })},
		{"Runs with limit -1", func(ctx context.Context) error { _, err := s.Runs(ctx, store.RunQuery{Limit: -1}); return err }},
		{"Run(-3)", func(ctx context.Context) error { _, err := s.Run(ctx, -3); return err }},
		{"PutBaseline without a system", func(ctx context.Context) error { return s.PutBaseline(ctx, "", []byte("x")) }},
		{"Verifications without a system", func(ctx context.Context) error { _, err := s.Verifications(ctx, ""); return err }},
		{"BeginFault without an ID", goodFault(func(f *store.Fault) { f.ID = "" })},
		{"BeginFault without a system", goodFault(func(f *store.Fault) { f.System = "" })},
		{"BeginFault without an undo", goodFault(func(f *store.Fault) { f.Undo = nil })},
		{"BeginFault with an undo not JSON", goodFault(func(f *store.Fault) { f.Undo = []byte("{") })},
		{"EndFault without an ID", func(ctx context.Context) error { return s.EndFault(ctx, "") }},
	} {
		wantErr(t, tc.name, tc.call(t.Context()), store.ErrInvalid)
	}
	// Nothing of it was stored.
	ctx := t.Context()
	if sys, err := s.Systems(ctx); err != nil || len(sys) != 1 || sys[0].Latest != 1 || !sys[0].SnapshotAt.IsZero() {
		t.Errorf("Systems after bad input = %+v, %v; want shop at version 1 alone", sys, err)
	}
	if runs, err := s.Runs(ctx, store.RunQuery{}); err != nil || len(runs) != 0 {
		t.Errorf("Runs after bad input = %+v, %v", runs, err)
	}
	if faults, err := s.OpenFaults(ctx); err != nil || len(faults) != 0 {
		t.Errorf("OpenFaults after bad input = %+v, %v", faults, err)
	}
}
