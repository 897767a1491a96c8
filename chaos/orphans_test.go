package chaos

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/proxy"
)

// TestOrphans: on the model's proxy, a toxic that the journal owns, one
// of spof's that it does not (its journal entry was emptied by hand), and
// one of somebody else's: only the second is an orphan, and removing it
// leaves the others.
func TestOrphans(t *testing.T) {
	ctx := context.Background()
	l := newLab(t)
	p, _ := l.srv.Proxy("dep")
	m, err := model.Parse("lab.yaml", []byte(`version: 1
system: lab
chaos: {proxy_api: "`+l.api.URL+`"}
components:
  app: {kind: service, depends_on: [dep]}
  dep: {kind: database, chaos: {proxy: {name: dep, listen: "`+p.Listen+`", upstream: "`+p.Upstream+`"}}}
flows:
  f: {criticality: high, steps: [app]}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"spof-dep-down-run1", "spof-dep-down-run0", "latency_downstream"} {
		if _, err := l.srv.AddToxic("dep", proxy.Toxic{Name: name, Type: proxy.ToxicLatency, Stream: proxy.Downstream, Toxicity: 1}); err != nil {
			t.Fatal(err)
		}
	}
	owned := inject.Proxy{API: l.api.URL, Proxy: "dep", Toxic: "spof-dep-down-run1"}
	if err := l.journal.Begin(Entry{ID: "run1/dep-down", Undo: owned.Undo(), PID: deadPID(t), Deadline: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}

	found, err := Orphans(ctx, l.journal, m)
	if want := []Orphan{{l.api.URL, "dep", "spof-dep-down-run0"}}; err != nil || !slices.Equal(found, want) {
		t.Fatalf("Orphans = %v, %v; want %v", found, err, want)
	}
	if err := RemoveOrphan(ctx, found[0]); err != nil {
		t.Fatal(err)
	}
	ts, _ := l.srv.Toxics("dep")
	var left []string
	for _, tx := range ts {
		left = append(left, tx.Name)
	}
	slices.Sort(left)
	if want := []string{"latency_downstream", "spof-dep-down-run1"}; !slices.Equal(left, want) {
		t.Errorf("toxics left %v, want %v", left, want)
	}
	if found, err := Orphans(ctx, l.journal, m); err != nil || len(found) != 0 {
		t.Errorf("Orphans after the removal = %v, %v; want none", found, err)
	}
}
