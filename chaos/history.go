package chaos

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spofhq/spof/analysis"
)

// historyFile is the run history's name in the state directory: one JSON
// record per line, appended. (The shared store of spof serve replaces it.)
const historyFile = "history.jsonl"

// A Record is one experiment in the history.
type Record struct {
	Result
	// Edges are the fallback edges ("from → to") the experiment exercised.
	Edges []string `json:"edges,omitempty"`
}

// AppendHistory adds rec to the history in dir, synced to disk.
func (j *Journal) AppendHistory(rec Record) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return j.locked(func() error {
		f, err := os.OpenFile(filepath.Join(j.dir, historyFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("chaos history: %w", err)
		}
		if _, err := f.Write(append(line, '\n')); err != nil {
			f.Close()
			return fmt.Errorf("chaos history: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("chaos history: %w", err)
		}
		return f.Close()
	})
}

// ReadHistory returns the records of the history in dir, oldest first; no
// history is no records. A line that does not parse is an error naming
// it.
func ReadHistory(dir string) ([]Record, error) {
	path := filepath.Join(dir, historyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("chaos history: %w", err)
	}
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v (a torn last line is what a crash while writing leaves: remove that line)", path, n, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// Verifications returns, per fallback edge, the latest experiment that
// exercised it and whether it passed, for the checklist. Runs that were
// aborted or not applied verify nothing and are skipped.
func Verifications(recs []Record) map[string]analysis.Verification {
	out := map[string]analysis.Verification{}
	for _, r := range recs {
		if r.Verdict != Passed && r.Verdict != Falsified {
			continue
		}
		for _, e := range r.Edges {
			if v, ok := out[e]; !ok || !r.Ended.Before(v.At) {
				out[e] = analysis.Verification{Experiment: r.Experiment, At: r.Ended, Passed: r.Verdict == Passed}
			}
		}
	}
	return out
}
