package storetest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/store"
)

func testFaults(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	if got, err := s.OpenFaults(ctx); err != nil || len(got) != 0 {
		t.Fatalf("OpenFaults of an empty journal = %v, %v", got, err)
	}
	undo := json.RawMessage(`{"injector": "proxy",  "data": {"proxy": "redis", "toxic": "down-1"}}`)
	f1 := store.Fault{ID: "run-1/redis-down", System: "shop", Experiment: "redis-down", Fault: "redis: down",
		Undo: undo, Node: "host-a (pid 7)", Started: day.Add(time.Hour), Deadline: day.Add(2 * time.Hour)}
	f2 := store.Fault{ID: "run-2/pay-slow", System: "shop", Experiment: "pay-slow", Undo: json.RawMessage(`{}`), Started: day}
	f3 := store.Fault{ID: "run-3/x", System: "other", Experiment: "x", Undo: json.RawMessage(`[1]`), Started: day}
	for _, f := range []store.Fault{f1, f2, f3} {
		if err := s.BeginFault(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	// A fault's system need not be known: the journal is for every
	// fault in flight.
	got, err := s.OpenFaults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "OpenFaults, oldest first (then in the order begun)", got, []store.Fault{f2, f3, f1})

	err = s.BeginFault(ctx, store.Fault{ID: f1.ID, System: "shop", Undo: undo})
	wantErr(t, "BeginFault with the ID of an open fault", err, store.ErrInvalid)

	if err := s.EndFault(ctx, f3.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.EndFault(ctx, f3.ID); err != nil {
		t.Errorf("ending a fault twice: %v, want nil (a recovery may have ended it)", err)
	}
	if err := s.EndFault(ctx, "never-begun"); err != nil {
		t.Errorf("ending a fault never begun: %v, want nil", err)
	}
	got, err = s.OpenFaults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "OpenFaults after EndFault", got, []store.Fault{f2, f1})

	// Without Started, it starts now; ended, its ID can begin again.
	before := time.Now()
	if err := s.BeginFault(ctx, store.Fault{ID: f3.ID, System: "other", Undo: undo}); err != nil {
		t.Fatal(err)
	}
	got, err = s.OpenFaults(ctx)
	if err != nil || len(got) != 3 || got[2].ID != f3.ID {
		t.Fatalf("OpenFaults = %+v, %v; want f3 last", got, err)
	}
	within(t, "Started (unset: now)", got[2].Started, before, time.Now())
	if !got[2].Deadline.IsZero() {
		t.Errorf("Deadline %v, want none", got[2].Deadline)
	}
}

func testLeadership(t *testing.T, open func(*testing.T) store.Store) {
	ctx := t.Context()
	a, b := open(t), open(t) // two processes on one database
	la, ok, err := a.TryLead(ctx, "scheduler")
	if err != nil || !ok {
		t.Fatalf("first TryLead: ok %v, %v", ok, err)
	}
	if err := la.Check(ctx); err != nil {
		t.Errorf("Check of the leader: %v", err)
	}
	for what, s := range map[string]store.Store{"another store": b, "the leader's store again": a} {
		if l, ok, err := s.TryLead(ctx, "scheduler"); err != nil || ok || l != nil {
			t.Errorf("TryLead by %s while led: %v, ok %v, %v; want not ok", what, l, ok, err)
		}
	}
	// Leaderships of other names are independent.
	lo, ok, err := b.TryLead(ctx, "other")
	if err != nil || !ok {
		t.Fatalf("TryLead(other): ok %v, %v", ok, err)
	}

	// Release hands over.
	if err := la.Release(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Check after Release", la.Check(ctx), store.ErrNotLeader)
	if err := la.Release(); err != nil {
		t.Errorf("Release twice: %v", err)
	}
	lb, ok, err := b.TryLead(ctx, "scheduler")
	if err != nil || !ok {
		t.Fatalf("TryLead after the leader released: ok %v, %v", ok, err)
	}
	if _, ok, _ := a.TryLead(ctx, "scheduler"); ok {
		t.Error("two leaders after a hand-over")
	}

	// Close releases every lease of the store.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Check after Close", lb.Check(ctx), store.ErrNotLeader)
	wantErr(t, "Check of the other lease after Close", lo.Check(ctx), store.ErrNotLeader)
	for _, n := range []string{"scheduler", "other"} {
		l, ok, err := a.TryLead(ctx, n)
		if err != nil || !ok {
			t.Fatalf("TryLead(%s) after the leader's store closed: ok %v, %v", n, ok, err)
		}
		defer l.Release()
	}
	if _, _, err := b.TryLead(ctx, "third"); err == nil {
		t.Error("TryLead on a closed store: no error")
	}

	for _, bad := range []string{"", ".hidden", "a/b", "../up", "sp ace", strings.Repeat("a", 65)} {
		_, _, err := a.TryLead(ctx, bad)
		wantErr(t, "TryLead("+bad+")", err, store.ErrInvalid)
	}
}
