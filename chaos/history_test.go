package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spofhq/spof/analysis"
)

func TestHistory(t *testing.T) {
	j, _ := OpenJournal(t.TempDir())
	if recs, err := ReadHistory(j.dir); err != nil || recs != nil {
		t.Fatalf("no history: %v, %v", recs, err)
	}
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []Record{
		{Result{Experiment: "redis-down", Verdict: Passed, Ended: day,
			Flows: []FlowResult{{Flow: "login", Predicted: analysis.Degraded, Observed: analysis.Degraded, Samples: 3}}}, []string{"app → redis"}},
		{Result{Experiment: "pay-down", Verdict: Passed, Ended: day}, []string{"app → pay"}},
		{Result{Experiment: "pay-down", Verdict: Falsified, Ended: day.Add(time.Hour)}, []string{"app → pay"}},
		{Result{Experiment: "redis-down", Verdict: Aborted, Ended: day.Add(time.Hour)}, []string{"app → redis"}},
	} {
		if err := j.AppendHistory(r); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := ReadHistory(j.dir)
	if err != nil || len(recs) != 4 || recs[2].Verdict != Falsified || recs[0].Flows[0].Observed != analysis.Degraded {
		t.Fatalf("ReadHistory = %+v, %v", recs, err)
	}
	v := Verifications(recs)
	if r := v["app → redis"]; !r.Passed || !r.At.Equal(day) {
		t.Errorf("redis: %+v, want the passed run (the aborted one verifies nothing)", r)
	}
	if p := v["app → pay"]; p.Passed || p.Experiment != "pay-down" {
		t.Errorf("pay: %+v, want the later, falsified run", p)
	}

	// A torn last line, as a crash while appending leaves it, is skipped,
	// and the next append cuts it off.
	path := filepath.Join(j.dir, historyFile)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"experiment": "x", "verd`)
	f.Close()
	if recs, err := ReadHistory(j.dir); err != nil || len(recs) != 4 {
		t.Errorf("torn last line: %d records, %v; want the 4 whole ones", len(recs), err)
	}
	if err := j.AppendHistory(Record{Result: Result{Experiment: "after", Verdict: Passed, Ended: day}}); err != nil {
		t.Fatal(err)
	}
	if recs, err := ReadHistory(j.dir); err != nil || len(recs) != 5 || recs[4].Experiment != "after" {
		t.Errorf("after a torn line: %+v, %v", recs, err)
	}
	// A whole line that does not parse is not a crash's doing: an error.
	f, _ = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("not json\n")
	f.Close()
	if _, err := ReadHistory(j.dir); err == nil || !strings.Contains(err.Error(), "history.jsonl:6: ") {
		t.Errorf("bad line: %v, want an error naming line 6", err)
	}
}

// TestVerificationsFaultLost: an experiment whose fault went away says
// nothing about the fallback: the earlier verdict stands, and alone it
// verifies nothing and fails nothing.
func TestVerificationsFaultLost(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	v := Verifications([]Record{
		{Result{Experiment: "redis-down", Verdict: Passed, Ended: day}, []string{"app → redis"}},
		{Result{Experiment: "redis-down", Verdict: FaultLost, Ended: day.Add(time.Hour)}, []string{"app → redis"}},
		{Result{Experiment: "pay-down", Verdict: FaultLost, Ended: day}, []string{"app → pay"}},
	})
	if r := v["app → redis"]; !r.Passed || !r.At.Equal(day) {
		t.Errorf("redis: %+v, want the passed run", r)
	}
	if p, ok := v["app → pay"]; ok {
		t.Errorf("pay: %+v, want no verification", p)
	}
}
