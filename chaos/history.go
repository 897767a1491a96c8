package chaos

import (
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
		f, err := os.OpenFile(filepath.Join(j.dir, historyFile), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("chaos history: %w", err)
		}
		// A crash in the middle of an earlier append left a line without
		// its end: cut it off, so that this record starts a line.
		if err := dropTornLine(f); err != nil {
			f.Close()
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

// dropTornLine truncates f after its last line end.
func dropTornLine(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for end := st.Size(); end > 0; {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil {
			return err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			if start+int64(i)+1 == st.Size() {
				return nil // whole
			}
			return f.Truncate(start + int64(i) + 1)
		}
		end = start
	}
	return f.Truncate(0) // one torn line and nothing else
}

// ReadHistory returns the records of the history in dir, oldest first; no
// history is no records. A line that does not parse is an error naming
// it, unless it is a torn line (no line end): what a crash while
// appending leaves, skipped.
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
	for n, line := range bytes.SplitAfter(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			if !bytes.HasSuffix(line, []byte{'\n'}) {
				continue // torn by a crash while appending
			}
			return nil, fmt.Errorf("%s:%d: %v", path, n+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Verifications returns, per fallback edge, the latest experiment that
// exercised it and whether it passed, for the checklist. Runs that were
// aborted, not applied or lost their fault (fault-lost) verify nothing and
// fail nothing: they are skipped.
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
