package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spofhq/spof/store"
)

// writers is how many goroutines write at once, spread over two stores on
// one database (two processes, as far as the database can tell).
const writers = 16

func testConcurrentPutModel(t *testing.T, open func(*testing.T) store.Store) {
	stores := []store.Store{open(t), open(t)}
	ctx := ctxTimeout(t, 2*time.Minute)

	type result struct {
		v       store.ModelVersion
		created bool
		err     error
	}
	// Different sources at once: each gets a version of its own, 1 to N.
	// The same source at once: one version, which all of them get.
	putAll := func(system string, source func(i int) string) []result {
		results := make([]result, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				v, created, err := stores[i%2].PutModel(ctx, store.ModelVersion{System: system, Source: []byte(source(i))})
				results[i] = result{v, created, err}
			})
		}
		wg.Wait()
		return results
	}

	var versions []int64
	for i, r := range putAll("distinct", func(i int) string { return name("source", i) }) {
		if r.err != nil || !r.created {
			t.Fatalf("writer %d: created %v, %v", i, r.created, r.err)
		}
		versions = append(versions, r.v.Version)
		// Its version holds its source.
		got, err := stores[0].Model(ctx, "distinct", r.v.Version)
		if err != nil || string(got.Source) != name("source", i) {
			t.Errorf("version %d: %q, %v; want writer %d's source", r.v.Version, got.Source, err, i)
		}
	}
	slices.Sort(versions)
	var want []int64
	for i := range writers {
		want = append(want, int64(i+1))
	}
	same(t, "versions of concurrent PutModel", versions, want)

	created := 0
	for i, r := range putAll("same", func(int) string { return "one source" }) {
		if r.err != nil || r.v.Version != 1 {
			t.Fatalf("writer %d: version %d, %v; want 1", i, r.v.Version, r.err)
		}
		if r.created {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d of %d concurrent PutModel of one source created a version, want 1", created, writers)
	}
}

func testConcurrentPutRun(t *testing.T, open func(*testing.T) store.Store) {
	stores := []store.Store{open(t), open(t)}
	ctx := ctxTimeout(t, 2*time.Minute)
	model(t, stores[0], "shop", "v1")
	edges := []string{"a → b", "b → c", "c → d"}

	// Each run exercises the edges in another order (a lock order that
	// could deadlock), with a few samples; run i ends at minute i.
	ids := make([]int64, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			mine := slices.Clone(edges)
			if i%2 == 1 {
				slices.Reverse(mine)
			}
			end := day.Add(time.Duration(i) * time.Minute)
			samples := []store.Sample{{At: end, Flow: "f", State: "up", Detail: fmt.Sprint(i)}, {At: end, Flow: "f", State: "down"}}
			r, err := stores[i%2].PutRun(ctx, store.Run{System: "shop", Experiment: name("x", i), Verdict: "passed", Trigger: "schedule",
				Started: end.Add(-time.Second), Ended: end, Edges: mine, Samples: samples})
			ids[i], errs[i] = r.ID, err
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i, id := range ids {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		if seen[id] {
			t.Errorf("run ID %d given twice", id)
		}
		seen[id] = true
		r, err := stores[1].Run(ctx, id)
		if err != nil || r.Experiment != name("x", i) || len(r.Samples) != 2 || r.Samples[0].Detail != fmt.Sprint(i) {
			t.Errorf("run %d of writer %d: %+v, %v", id, i, r, err)
		}
	}
	// Whatever order they committed in, the ledger has the newest.
	v, err := stores[0].Verifications(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edges {
		if v[e].Experiment != name("x", writers-1) {
			t.Errorf("ledger of %s: %+v, want the newest run, %s", e, v[e], name("x", writers-1))
		}
	}
}

// testRestart closes the store and opens the database again: everything
// is still there.
func testRestart(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	v := model(t, s, "shop", "v1")
	snap, err := s.PutSnapshot(ctx, store.Snapshot{System: "shop", ModelVersion: 1, At: day, Counts: store.Counts{SPOFs: 3},
		Report: []byte(`{"findings": []}`), Checklist: []byte(`[]`)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.PutRun(ctx, store.Run{System: "shop", Experiment: "x", Verdict: "passed", Trigger: "cli", Started: day, Ended: day.Add(time.Second),
		Edges: []string{"a → b"}, Samples: []store.Sample{{At: day, Flow: "f", State: "degraded", Latency: 1500 * time.Microsecond}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutBaseline(ctx, "shop", []byte("baseline")); err != nil {
		t.Fatal(err)
	}
	fault := store.Fault{ID: "f", System: "shop", Undo: []byte(`{}`), Started: day, Deadline: day.Add(time.Hour)}
	if err := s.BeginFault(ctx, fault); err != nil {
		t.Fatal(err)
	}
	sys, err := s.System(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t)
	if got, err := s.System(ctx, "shop"); err != nil {
		t.Error(err)
	} else {
		same(t, "System after a restart", got, sys)
	}
	if got, err := s.Model(ctx, "shop", 0); err != nil {
		t.Error(err)
	} else {
		same(t, "Model after a restart", got, v)
	}
	if got, err := s.LatestSnapshot(ctx, "shop"); err != nil {
		t.Error(err)
	} else {
		same(t, "LatestSnapshot after a restart", got, snap)
	}
	if got, err := s.Run(ctx, r.ID); err != nil {
		t.Error(err)
	} else {
		same(t, "Run after a restart", got, r)
	}
	if got, _, err := s.Baseline(ctx, "shop"); err != nil || string(got) != "baseline" {
		t.Errorf("Baseline after a restart: %q, %v", got, err)
	}
	if got, err := s.OpenFaults(ctx); err != nil {
		t.Error(err)
	} else {
		same(t, "OpenFaults after a restart", got, []store.Fault{fault})
	}
	if got, err := s.Verifications(ctx, "shop"); err != nil || !got["a → b"].Passed {
		t.Errorf("Verifications after a restart: %v, %v", got, err)
	}
	// And it goes on numbering where it was.
	if v2 := model(t, s, "shop", "v2"); v2.Version != 2 {
		t.Errorf("the version after a restart is %d, want 2", v2.Version)
	}
}

// testOpenTwice opens the database while it is open: the second opening
// finds the schema in place (migrations are applied once), and both
// stores see each other's writes.
func testOpenTwice(t *testing.T, open func(*testing.T) store.Store) {
	a := open(t)
	b := open(t)
	ctx := t.Context()
	model(t, a, "shop", "v1")
	if got, err := b.Model(ctx, "shop", 0); err != nil || string(got.Source) != "v1" {
		t.Errorf("the second store reads %q, %v", got.Source, err)
	}
	if v := model(t, b, "shop", "v2"); v.Version != 2 {
		t.Errorf("the second store's version %d, want 2", v.Version)
	}
	c := open(t)
	if sys, err := c.System(ctx, "shop"); err != nil || sys.Latest != 2 {
		t.Errorf("a third store: %+v, %v", sys, err)
	}
}
