// Package chaos runs the experiments that a model implies: it injects a
// fault, watches the flows' probes, restores, and compares what it saw
// with what the analysis predicted.
//
// Safety comes first. Before a fault is injected, a journal entry naming
// the fault and how to undo it is on disk (written whole, fsynced); the
// entry is closed only once the fault is verified gone. After a crash,
// Recover replays the open entries.
package chaos

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/internal/atomicfile"
)

// journalFile is the journal's name in the state directory.
const journalFile = "journal.json"

// An Entry records one injected fault until it is restored.
type Entry struct {
	// ID is unique per injection: run ID and experiment.
	ID         string `json:"id"`
	Experiment string `json:"experiment"`
	// Fault is what was injected, for people reading the journal.
	Fault string `json:"fault"`
	// Undo is how to restore, from any process (spof chaos recover).
	Undo     inject.Undo `json:"undo"`
	Started  time.Time   `json:"started"`
	Deadline time.Time   `json:"deadline"` // when the fault should be gone at the latest
	PID      int         `json:"pid"`      // of the spof chaos run that injected it
}

// FaultJournal is where a run writes each fault down before injecting it,
// and crosses it out once restored: the journal file of a state directory
// (*Journal), or the store that spof serve's replicas share.
type FaultJournal interface {
	Begin(e Entry) error
	End(id string) error
	Entries() ([]Entry, error)
	// Path says where the journal is, for messages.
	Path() string
}

// journalData is the file's content.
type journalData struct {
	Version int     `json:"version"`
	Open    []Entry `json:"open"`
}

// A Journal is the list of faults injected and not yet restored, kept in a
// file of the state directory. Every change rewrites the file atomically
// under an exclusive lock, so that concurrent runs and crashes at any
// point leave a whole file.
type Journal struct {
	dir string
}

// ErrCorruptJournal is returned when the journal cannot be read: faults may
// still be injected, and a human must look.
var ErrCorruptJournal = errors.New("chaos journal is corrupt")

// OpenJournal returns the journal in dir, creating dir if needed (durably:
// a journal in a directory a power loss forgets is no journal).
func OpenJournal(dir string) (*Journal, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("chaos state directory: %w", err)
		}
		if err := atomicfile.SyncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
			return nil, fmt.Errorf("chaos state directory: %w", err)
		}
	}
	return &Journal{dir: dir}, nil
}

// Path is the journal file's path.
func (j *Journal) Path() string { return filepath.Join(j.dir, journalFile) }

// Begin records e as open. It returns once the entry is on disk.
func (j *Journal) Begin(e Entry) error {
	return j.update(func(d *journalData) error {
		if slices.ContainsFunc(d.Open, func(o Entry) bool { return o.ID == e.ID }) {
			return fmt.Errorf("chaos journal: entry %s is already open", e.ID)
		}
		d.Open = append(d.Open, e)
		return nil
	})
}

// End closes the entry id: its fault is verified gone. Ending an entry that
// is not open is not an error (recovery is idempotent).
func (j *Journal) End(id string) error {
	return j.update(func(d *journalData) error {
		d.Open = slices.DeleteFunc(d.Open, func(o Entry) bool { return o.ID == id })
		return nil
	})
}

// Entries returns the open entries, oldest first.
func (j *Journal) Entries() ([]Entry, error) {
	var out []Entry
	err := j.locked(func() error {
		d, err := j.read()
		out = d.Open
		return err
	})
	return out, err
}

func (j *Journal) update(change func(*journalData) error) error {
	return j.locked(func() error {
		d, err := j.read()
		if err != nil {
			return err
		}
		if err := change(&d); err != nil {
			return err
		}
		d.Version = 1
		data, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(j.Path(), append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing the chaos journal: %w", err)
		}
		return nil
	})
}

func (j *Journal) read() (journalData, error) {
	var d journalData
	data, err := os.ReadFile(j.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("reading the chaos journal: %w", err)
	}
	if err := json.Unmarshal(data, &d); err != nil || d.Version != 1 {
		if err == nil {
			err = fmt.Errorf("version %d, want 1", d.Version)
		}
		return d, fmt.Errorf("%w: %s: %v (faults it records may still be active: check the systems it names, restore them by hand, then move the file away)", ErrCorruptJournal, j.Path(), err)
	}
	return d, nil
}

// locked runs f holding an exclusive lock on the state directory's lock
// file, so that two processes never rewrite the journal at once.
func (j *Journal) locked(f func() error) error {
	lf, err := os.OpenFile(filepath.Join(j.dir, "journal.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("locking the chaos journal: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking the chaos journal: %w", err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	return f()
}
