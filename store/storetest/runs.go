package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/chaos"
	"github.com/spofhq/spof/store"
)

func testRuns(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	in := store.Run{
		System: "shop", Experiment: "redis-down", Fault: "kill redis", Verdict: "falsified",
		Reason: "checkout was down, predicted degraded", Trigger: "schedule", Node: "host-a (pid 7)",
		Batch:   "sched-shop-nightly-1764990000",
		Started: day, Ended: day.Add(90 * time.Second),
		Edges: []string{"app → redis", "app → cache"},
		Flows: json.RawMessage(`[{"flow": "checkout", "predicted": "degraded", "observed": "down"}]`),
	}
	_, err := s.PutRun(ctx, in)
	wantErr(t, "PutRun of an unknown system", err, store.ErrNotFound)
	model(t, s, "shop", "v1")

	r, err := s.PutRun(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID < 1 {
		t.Errorf("ID %d", r.ID)
	}
	want := in
	want.ID, want.Samples = r.ID, []store.Sample{}
	same(t, "PutRun", r, want)
	got, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Run", got, want)

	// A listing has no samples; otherwise the same.
	list, err := s.Runs(ctx, store.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want.Samples = nil
	same(t, "Runs", list, []store.Run{want})
	// By batch: how the scheduler finds a schedule's run.
	byBatch, err := s.Runs(ctx, store.RunQuery{Batch: in.Batch})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Runs by batch", byBatch, []store.Run{want})
	if other, err := s.Runs(ctx, store.RunQuery{Batch: "sched-shop-nightly-0"}); err != nil || len(other) != 0 {
		t.Errorf("Runs of another batch = %v, %v", other, err)
	}

	// Without edges or flows.
	bare := run(t, s, "shop", "pay-down", "aborted", day)
	if bare.Edges != nil || bare.Flows != nil {
		t.Errorf("a run without edges or flows: %+v", bare)
	}
	if got, err := s.Run(ctx, bare.ID); err != nil || got.Edges != nil || got.Flows != nil || got.Samples == nil {
		t.Errorf("Run of a run without edges, flows or samples = %+v, %v; want no edges, no flows, no samples (but not nil)", got, err)
	}

	_, err = s.Run(ctx, bare.ID+1000)
	wantErr(t, "Run of an unknown ID", err, store.ErrNotFound)
	_, err = s.Run(ctx, 0)
	wantErr(t, "Run(0)", err, store.ErrInvalid)

	// Every verdict chaos has is one the store takes.
	for _, v := range []chaos.Verdict{chaos.Passed, chaos.Falsified, chaos.Aborted, chaos.NotApplied, chaos.RestoreFailed, chaos.FaultLost} {
		run(t, s, "shop", "verdicts", string(v), day)
	}
}

func testRunQuery(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	model(t, s, "a", "a")
	model(t, s, "b", "b")
	if got, err := s.Runs(ctx, store.RunQuery{System: "a"}); err != nil || len(got) != 0 {
		t.Errorf("Runs of a system without runs = %v, %v", got, err)
	}
	_, err := s.Runs(ctx, store.RunQuery{System: "nowhere"})
	wantErr(t, "Runs of an unknown system", err, store.ErrNotFound)
	_, err = s.Runs(ctx, store.RunQuery{Limit: -1})
	wantErr(t, "Runs with limit -1", err, store.ErrInvalid)

	// 105 runs: a1 x1, b1 x2, a2 x1... one a minute; the last two start
	// together (the later stored lists first).
	var all []store.Run
	for i := range 105 {
		sys, exp := "a", "x1"
		if i%3 == 1 {
			sys, exp = "b", "x2"
		}
		start := day.Add(time.Duration(min(i, 103)) * time.Minute)
		r, err := s.PutRun(ctx, store.Run{System: sys, Experiment: exp, Verdict: "passed", Trigger: "api", Started: start, Ended: start.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	ids := func(runs []store.Run) []int64 {
		var out []int64
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	newest := func(keep func(i int) bool, n int) []int64 {
		var out []int64
		for i := len(all) - 1; i >= 0 && len(out) < n; i-- {
			if keep(i) {
				out = append(out, all[i].ID)
			}
		}
		return out
	}
	every := func(int) bool { return true }
	for _, tc := range []struct {
		q    store.RunQuery
		want []int64
	}{
		{store.RunQuery{}, newest(every, 100)}, // the default limit
		{store.RunQuery{Limit: 200}, newest(every, 105)},
		{store.RunQuery{Limit: 3}, newest(every, 3)},
		{store.RunQuery{System: "b", Limit: 1000}, newest(func(i int) bool { return i%3 == 1 }, 1000)},
		{store.RunQuery{Experiment: "x1", Limit: 5}, newest(func(i int) bool { return i%3 != 1 }, 5)},
		{store.RunQuery{System: "a", Experiment: "x2"}, nil},
		{store.RunQuery{Since: day.Add(100 * time.Minute)}, newest(func(i int) bool { return i >= 100 }, 100)},
		{store.RunQuery{System: "a", Since: day.Add(100 * time.Minute)}, newest(func(i int) bool { return i >= 100 && i%3 != 1 }, 100)},
	} {
		got, err := s.Runs(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		same(t, fmt.Sprintf("Runs(%+v)", tc.q), ids(got), tc.want)
	}
}

func testSamples(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	model(t, s, "shop", "v1")
	cet := time.FixedZone("CET", 3600)
	var samples []store.Sample
	for i := range 500 {
		samples = append(samples, store.Sample{
			// Nanoseconds are kept to the microsecond; any zone reads back as UTC.
			At:      day.In(cet).Add(time.Duration(i)*100*time.Millisecond + 999),
			Flow:    []string{"checkout", "browse"}[i%2],
			State:   []string{"up", "degraded", "down"}[i%3],
			Latency: time.Duration(i)*time.Millisecond + 7, // to the nanosecond
			Detail:  fmt.Sprintf("HTTP 200 in %d ms ✓", i),
		})
	}
	samples[3].Detail = ""
	samples[4].Latency = 0
	r, err := s.PutRun(ctx, store.Run{System: "shop", Experiment: "x", Verdict: "passed", Trigger: "cli",
		Started: day, Ended: day.Add(time.Minute), Samples: samples})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]store.Sample, len(samples))
	for i, x := range samples {
		x.At = x.At.UTC().Truncate(time.Microsecond)
		want[i] = x
	}
	same(t, "PutRun's samples", r.Samples, want)
	got, err := s.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Run's samples", got.Samples, want)
	list, err := s.Runs(ctx, store.RunQuery{System: "shop"})
	if err != nil || len(list) != 1 || list[0].Samples != nil {
		t.Errorf("Runs = %+v, %v; want the run without samples", list, err)
	}
}

// testLedger stores runs in an order that tests each rule, and checks the
// ledger against chaos.Verifications reading the same runs in the same
// order.
func testLedger(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	model(t, s, "shop", "v1")
	model(t, s, "other", "v1")
	if v, err := s.Verifications(ctx, "shop"); err != nil || v == nil || len(v) != 0 {
		t.Errorf("Verifications without runs = %v, %v; want an empty map", v, err)
	}
	_, err := s.Verifications(ctx, "nowhere")
	wantErr(t, "Verifications of an unknown system", err, store.ErrNotFound)

	const redis, pay, cache = "app → redis", "api → pay", "app → cache"
	var records []chaos.Record
	put := func(experiment, verdict string, end time.Time, edges ...string) {
		t.Helper()
		run(t, s, "shop", experiment, verdict, end, edges...)
		records = append(records, chaos.Record{Result: chaos.Result{Experiment: experiment, Verdict: chaos.Verdict(verdict), Ended: end}, Edges: edges})
	}
	put("redis-down", "passed", day.Add(time.Hour), redis, pay)
	put("pay-down", "falsified", day.Add(2*time.Hour), pay)
	put("late", "passed", day, pay, cache)                                    // older, stored late: only cache is news
	put("aborted", "aborted", day.Add(3*time.Hour), redis)                    // verifies nothing
	put("not-applied", "not-applied", day.Add(3*time.Hour), redis)            // nor this
	put("restore", "restore-failed", day.Add(3*time.Hour), redis)             // nor this
	put("lost", "fault-lost", day.Add(3*time.Hour), redis)                    // nor this
	put("tie", "passed", day.Add(2*time.Hour), pay)                           // as new as pay-down, stored later: wins
	put("dup", "falsified", day.Add(4*time.Hour), cache, cache)               // an edge twice
	run(t, s, "other", "elsewhere", "falsified", day.Add(5*time.Hour), redis) // another system's ledger

	got, err := s.Verifications(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]analysis.Verification{
		redis: {Experiment: "redis-down", At: day.Add(time.Hour), Passed: true},
		pay:   {Experiment: "tie", At: day.Add(2 * time.Hour), Passed: true},
		cache: {Experiment: "dup", At: day.Add(4 * time.Hour), Passed: false},
	}
	same(t, "Verifications", got, want)
	same(t, "chaos.Verifications of the same runs", chaos.Verifications(records), want)
}

func testBaselines(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	wantErr(t, "PutBaseline of an unknown system", s.PutBaseline(ctx, "shop", []byte("x")), store.ErrNotFound)
	model(t, s, "shop", "v1")
	_, _, err := s.Baseline(ctx, "shop")
	wantErr(t, "Baseline without one", err, store.ErrNotFound)
	_, _, err = s.Baseline(ctx, "nowhere")
	wantErr(t, "Baseline of an unknown system", err, store.ErrNotFound)

	for i, data := range [][]byte{[]byte("version: 1\nfindings: [a]\n"), {0, 1, 2, 0xff, 0xfe}} {
		before := time.Now()
		if err := s.PutBaseline(ctx, "shop", data); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		got, at, err := s.Baseline(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		same(t, fmt.Sprintf("baseline %d", i), got, data)
		within(t, "baseline's time", at, before, after)
	}
	wantErr(t, "an empty baseline", s.PutBaseline(ctx, "shop", nil), store.ErrInvalid)
}
