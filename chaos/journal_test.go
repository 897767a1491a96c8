package chaos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spofhq/spof/chaos/inject"
)

func entry(id string) Entry {
	return Entry{ID: id, Experiment: "session-redis-down", Fault: "down",
		Undo:    inject.Undo{Injector: "proxy", Data: json.RawMessage(`{"proxy":"redis","toxic":"spof-down"}`)},
		Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Deadline: time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC), PID: 42}
}

func TestJournal(t *testing.T) {
	j, err := OpenJournal(filepath.Join(t.TempDir(), ".spof"))
	if err != nil {
		t.Fatal(err)
	}
	if es, err := j.Entries(); err != nil || len(es) != 0 {
		t.Fatalf("new journal: %v, %v; want no entries", es, err)
	}
	if err := j.Begin(entry("a")); err != nil {
		t.Fatal(err)
	}
	if err := j.Begin(entry("b")); err != nil {
		t.Fatal(err)
	}
	if err := j.Begin(entry("a")); err == nil {
		t.Error("opening entry a twice: no error")
	}
	// Another Journal on the same directory (another process, after a
	// crash) sees the entries exactly.
	j2, _ := OpenJournal(j.dir)
	es, err := j2.Entries()
	if err != nil || len(es) != 2 || es[0].ID != "a" || es[1].ID != "b" {
		t.Fatalf("entries = %+v, %v; want a, b", es, err)
	}
	var undo bytes.Buffer
	json.Compact(&undo, es[0].Undo.Data)
	if undo.String() != `{"proxy":"redis","toxic":"spof-down"}` || !es[0].Deadline.Equal(entry("a").Deadline) || es[0].PID != 42 {
		t.Errorf("entry a read back as %+v", es[0])
	}
	if err := j2.End("a"); err != nil {
		t.Fatal(err)
	}
	if err := j2.End("a"); err != nil {
		t.Errorf("ending a closed entry again: %v, want nil (recovery is idempotent)", err)
	}
	if es, _ := j.Entries(); len(es) != 1 || es[0].ID != "b" {
		t.Errorf("after End(a): %+v, want only b", es)
	}
}

func TestJournalConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			j, err := OpenJournal(dir)
			if err != nil {
				t.Error(err)
				return
			}
			if err := j.Begin(entry(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
			if i%2 == 0 {
				if err := j.End(fmt.Sprint(i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	j, _ := OpenJournal(dir)
	es, err := j.Entries()
	if err != nil || len(es) != 20 {
		t.Fatalf("%d entries, %v; want the 20 odd ones (no update lost)", len(es), err)
	}
	for _, e := range es {
		var n int
		fmt.Sscan(e.ID, &n)
		if n%2 == 0 {
			t.Errorf("entry %s should have ended", e.ID)
		}
	}
}

func TestJournalCorrupt(t *testing.T) {
	for name, content := range map[string]string{
		"torn":          `{"version": 1, "open": [{"id": "a", "experi`,
		"not json":      "garbage\n",
		"wrong version": `{"version": 7, "open": []}`,
	} {
		t.Run(name, func(t *testing.T) {
			j, _ := OpenJournal(t.TempDir())
			if err := os.WriteFile(j.Path(), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := j.Entries()
			if !errors.Is(err, ErrCorruptJournal) {
				t.Fatalf("Entries: %v, want ErrCorruptJournal", err)
			}
			if err := j.Begin(entry("x")); !errors.Is(err, ErrCorruptJournal) {
				t.Errorf("Begin on a corrupt journal: %v, want ErrCorruptJournal (never overwrite what a human must see)", err)
			}
			if got, _ := os.ReadFile(j.Path()); string(got) != content {
				t.Errorf("the corrupt journal was changed to %q", got)
			}
		})
	}
}
