package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/spofhq/spof/store"
)

func testModels(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()

	before := time.Now()
	v1, created, err := s.PutModel(ctx, store.ModelVersion{System: "shop", File: "shop/spof.yaml", Description: "the shop", Source: []byte("name: shop\n")})
	after := time.Now()
	if err != nil || !created {
		t.Fatalf("first PutModel: created %v, %v", created, err)
	}
	sum := sha256.Sum256([]byte("name: shop\n"))
	if v1.Version != 1 || v1.SHA256 != hex.EncodeToString(sum[:]) || v1.System != "shop" || v1.File != "shop/spof.yaml" {
		t.Errorf("first version: %+v, want version 1 with the source's SHA-256", v1)
	}
	within(t, "CreatedAt (unset: now)", v1.CreatedAt, before, after)

	// CreatedAt given is kept, in UTC, to the microsecond.
	at := time.Date(2026, 11, 2, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	v2, created, err := s.PutModel(ctx, store.ModelVersion{System: "shop", File: "spof.yaml", Description: "second", Source: []byte("name: shop\nv: 2\n"), CreatedAt: at})
	if err != nil || !created || v2.Version != 2 {
		t.Fatalf("second PutModel = %+v, created %v, %v; want version 2", v2, created, err)
	}
	if !v2.CreatedAt.Equal(at.Truncate(time.Microsecond)) || v2.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", v2.CreatedAt, at.Truncate(time.Microsecond))
	}

	// Each system counts its own versions.
	other := model(t, s, "other", "name: other\n")
	if other.Version != 1 {
		t.Errorf("another system's first version is %d, want 1", other.Version)
	}

	for _, tc := range []struct {
		version int64
		want    store.ModelVersion
	}{{0, v2}, {2, v2}, {1, v1}} {
		got, err := s.Model(ctx, "shop", tc.version)
		if err != nil {
			t.Fatalf("Model(shop, %d): %v", tc.version, err)
		}
		same(t, fmt.Sprintf("Model(shop, %d)", tc.version), got, tc.want)
	}
	_, err = s.Model(ctx, "shop", 3)
	wantErr(t, "Model(shop, 3)", err, store.ErrNotFound)
	_, err = s.Model(ctx, "nowhere", 0)
	wantErr(t, "Model(nowhere, 0)", err, store.ErrNotFound)
	_, err = s.Model(ctx, "shop", -1)
	wantErr(t, "Model(shop, -1)", err, store.ErrInvalid)

	// Listings: newest first, without sources; a limit keeps the newest.
	strip := func(v store.ModelVersion) store.ModelVersion { v.Source = nil; return v }
	all, err := s.ModelVersions(ctx, "shop", 0)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "ModelVersions(shop, 0)", all, []store.ModelVersion{strip(v2), strip(v1)})
	one, err := s.ModelVersions(ctx, "shop", 1)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "ModelVersions(shop, 1)", one, []store.ModelVersion{strip(v2)})
	_, err = s.ModelVersions(ctx, "nowhere", 0)
	wantErr(t, "ModelVersions(nowhere)", err, store.ErrNotFound)
	_, err = s.ModelVersions(ctx, "shop", -1)
	wantErr(t, "ModelVersions(shop, -1)", err, store.ErrInvalid)
}

func testModelDedup(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	a := model(t, s, "shop", "a\n")

	// The same bytes again: the latest version, not created, whatever
	// the other fields say.
	got, created, err := s.PutModel(ctx, store.ModelVersion{System: "shop", File: "elsewhere.yaml", Description: "new words", Source: []byte("a\n")})
	if err != nil || created {
		t.Fatalf("same source: created %v, %v; want the latest, not created", created, err)
	}
	same(t, "PutModel(same source)", got, a)

	// Only the latest counts: a, b, a is three versions.
	model(t, s, "shop", "b\n")
	a3 := model(t, s, "shop", "a\n")
	if a3.Version != 3 || a3.SHA256 != a.SHA256 {
		t.Errorf("a after b: %+v, want version 3 with a's hash", a3)
	}
	// A change of a byte is a change.
	if v := model(t, s, "shop", "a \n"); v.Version != 4 {
		t.Errorf("a with a space: version %d, want 4", v.Version)
	}
	sys, err := s.System(ctx, "shop")
	if err != nil || sys.Latest != 4 {
		t.Errorf("System(shop) = %+v, %v; want latest 4", sys, err)
	}
}

func testSystems(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	if got, err := s.Systems(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Systems of an empty store = %v, %v", got, err)
	}
	_, err := s.System(ctx, "shop")
	wantErr(t, "System(shop) in an empty store", err, store.ErrNotFound)

	// Byte order, whatever the database's locale: B < a < ä.
	for _, n := range []string{"ä", "a", "B"} {
		model(t, s, n, "name: "+n+"\n")
	}
	v, _, err := s.PutModel(ctx, store.ModelVersion{System: "a", Description: "second of a", Source: []byte("v2"), CreatedAt: day})
	if err != nil {
		t.Fatal(err)
	}
	older := store.Counts{SPOFs: 9}
	newer := store.Counts{SPOFs: 2, Degradations: 1, Recovery: 3, Operational: 4,
		BySeverity: map[string]int{"critical": 2, "high": 1}, Checklist: map[string]int{"pass": 5, "fail": 1, "unknown": 2}}
	// The newer snapshot is stored first: latest means newest At.
	snap, err := s.PutSnapshot(ctx, store.Snapshot{System: "a", ModelVersion: 2, At: day.Add(time.Hour), Counts: newer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSnapshot(ctx, store.Snapshot{System: "a", ModelVersion: 1, At: day, Counts: older}); err != nil {
		t.Fatal(err)
	}

	got, err := s.Systems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sys := range got {
		names = append(names, sys.Name)
	}
	same(t, "Systems' names", names, []string{"B", "a", "ä"})
	wantA := store.System{Name: "a", Description: "second of a", Latest: 2, UpdatedAt: v.CreatedAt, SnapshotAt: snap.At, Counts: newer}
	same(t, "Systems()[1]", got[1], wantA)
	if !got[0].SnapshotAt.IsZero() || got[0].Latest != 1 || got[0].Counts.SPOFs != 0 {
		t.Errorf("a system without snapshots: %+v", got[0])
	}
	one, err := s.System(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "System(a)", one, wantA)
}

func testDeleteSystem(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	model(t, s, "shop", "v1")
	model(t, s, "keep", "v1")
	if _, err := s.PutSnapshot(ctx, store.Snapshot{System: "shop", ModelVersion: 1, At: day}); err != nil {
		t.Fatal(err)
	}
	r := run(t, s, "shop", "redis-down", "passed", day, "app → redis")
	kept := run(t, s, "keep", "redis-down", "passed", day, "app → redis")
	if err := s.PutBaseline(ctx, "shop", []byte("baseline")); err != nil {
		t.Fatal(err)
	}
	fault := store.Fault{ID: "f1", System: "shop", Experiment: "redis-down", Fault: "kill", Undo: []byte(`{}`), Started: day}
	if err := s.BeginFault(ctx, fault); err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteSystem(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteSystem twice", s.DeleteSystem(ctx, "shop"), store.ErrNotFound)
	_, err := s.System(ctx, "shop")
	wantErr(t, "System after delete", err, store.ErrNotFound)
	_, err = s.Model(ctx, "shop", 1)
	wantErr(t, "Model after delete", err, store.ErrNotFound)
	_, err = s.LatestSnapshot(ctx, "shop")
	wantErr(t, "LatestSnapshot after delete", err, store.ErrNotFound)
	_, err = s.Run(ctx, r.ID)
	wantErr(t, "Run after delete", err, store.ErrNotFound)
	_, err = s.Runs(ctx, store.RunQuery{System: "shop"})
	wantErr(t, "Runs after delete", err, store.ErrNotFound)
	_, _, err = s.Baseline(ctx, "shop")
	wantErr(t, "Baseline after delete", err, store.ErrNotFound)
	_, err = s.Verifications(ctx, "shop")
	wantErr(t, "Verifications after delete", err, store.ErrNotFound)

	// A fault in flight must still be restored: the journal keeps it.
	open2, err := s.OpenFaults(ctx)
	if err != nil || len(open2) != 1 || open2[0].ID != "f1" {
		t.Errorf("OpenFaults after delete = %+v, %v; want f1 still", open2, err)
	}
	// The other system is untouched.
	if got, err := s.Run(ctx, kept.ID); err != nil || got.System != "keep" {
		t.Errorf("the other system's run: %+v, %v", got, err)
	}
	if v, err := s.Verifications(ctx, "keep"); err != nil || len(v) != 1 {
		t.Errorf("the other system's ledger: %v, %v", v, err)
	}

	// Made again, it starts afresh; run IDs are not reused.
	if v := model(t, s, "shop", "v1"); v.Version != 1 {
		t.Errorf("the system made again starts at version %d", v.Version)
	}
	if v, err := s.Verifications(ctx, "shop"); err != nil || len(v) != 0 {
		t.Errorf("the ledger of the system made again: %v, %v", v, err)
	}
	if again := run(t, s, "shop", "redis-down", "passed", day); again.ID <= kept.ID {
		t.Errorf("a run after the delete has ID %d, not above %d: IDs are reused", again.ID, kept.ID)
	}
}

func testSnapshots(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	_, err := s.PutSnapshot(ctx, store.Snapshot{System: "shop", ModelVersion: 1})
	wantErr(t, "PutSnapshot of an unknown system", err, store.ErrNotFound)
	model(t, s, "shop", "v1")
	_, err = s.PutSnapshot(ctx, store.Snapshot{System: "shop", ModelVersion: 2})
	wantErr(t, "PutSnapshot of an unknown version", err, store.ErrNotFound)
	_, err = s.LatestSnapshot(ctx, "shop")
	wantErr(t, "LatestSnapshot without snapshots", err, store.ErrNotFound)
	_, err = s.LatestSnapshot(ctx, "nowhere")
	wantErr(t, "LatestSnapshot of an unknown system", err, store.ErrNotFound)
	if got, err := s.Snapshots(ctx, "shop", time.Time{}, 0); err != nil || len(got) != 0 {
		t.Errorf("Snapshots without snapshots = %v, %v", got, err)
	}

	// The bodies come back byte for byte, spaces and key order included.
	report := json.RawMessage(`{"z": 1,  "a": [true, null], "s": "→ ü \u00e9"}`)
	checklist := json.RawMessage(`[{"item": 4, "status": "pass"}]`)
	var stored []store.Snapshot
	for i := range 5 {
		snap, err := s.PutSnapshot(ctx, store.Snapshot{System: "shop", ModelVersion: 1, At: day.Add(time.Duration(i) * time.Hour),
			Counts: store.Counts{SPOFs: 5 - i, BySeverity: map[string]int{}}, Report: report, Checklist: checklist})
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && snap.ID <= stored[i-1].ID {
			t.Errorf("snapshot IDs %d then %d", stored[i-1].ID, snap.ID)
		}
		stored = append(stored, snap)
	}
	if stored[0].Counts.BySeverity != nil {
		t.Errorf("an empty map is stored as none: got %v", stored[0].Counts.BySeverity)
	}
	latest, err := s.LatestSnapshot(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "LatestSnapshot", latest, stored[4])
	if string(latest.Report) != string(report) || string(latest.Checklist) != string(checklist) {
		t.Errorf("bodies changed: %s, %s", latest.Report, latest.Checklist)
	}

	listed := func(idx ...int) []store.Snapshot {
		var out []store.Snapshot
		for _, i := range idx {
			x := stored[i]
			x.Report, x.Checklist = nil, nil
			out = append(out, x)
		}
		return out
	}
	for _, tc := range []struct {
		since time.Time
		limit int
		want  []store.Snapshot
	}{
		{time.Time{}, 0, listed(0, 1, 2, 3, 4)},
		{day.Add(2 * time.Hour), 0, listed(2, 3, 4)}, // at or after
		{day.Add(2*time.Hour + 1), 0, listed(3, 4)},
		{time.Time{}, 2, listed(3, 4)}, // the newest two, oldest first
		{day.Add(time.Hour), 10, listed(1, 2, 3, 4)},
		{day.Add(5 * time.Hour), 0, nil},
	} {
		got, err := s.Snapshots(ctx, "shop", tc.since, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		same(t, fmt.Sprintf("Snapshots(since %v, limit %d)", tc.since, tc.limit), got, tc.want)
	}
	_, err = s.Snapshots(ctx, "nowhere", time.Time{}, 0)
	wantErr(t, "Snapshots of an unknown system", err, store.ErrNotFound)
	_, err = s.Snapshots(ctx, "shop", time.Time{}, -1)
	wantErr(t, "Snapshots with limit -1", err, store.ErrInvalid)

	// Without At, the snapshot is taken now.
	before := time.Now()
	now, err := s.PutSnapshot(ctx, store.Snapshot{System: "shop", ModelVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	within(t, "At (unset: now)", now.At, before, time.Now())
	if now.Report != nil || now.Checklist != nil {
		t.Errorf("no bodies given, got %s, %s", now.Report, now.Checklist)
	}
}
