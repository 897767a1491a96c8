// Package store keeps what spof remembers between runs: the systems and
// every version of their models, analysis snapshots (the findings and the
// checklist at a time), chaos experiment runs with their probe samples and
// verdicts, baselines, the verification ledger (which fallback an
// experiment last verified, and when), the shared chaos journal, and the
// leadership of the scheduler.
//
// Two backends implement Store: SQLite (modernc.org/sqlite, WAL; the
// default, one file) and PostgreSQL (jackc/pgx/v5; several spof serve
// replicas share it). Open picks one from a DSN. Each applies its
// versioned migrations when opened. package storetest is the suite both
// pass.
//
// Times are kept in UTC to the microsecond, and read back so; what a Put
// method returns is what reading it back gives. Input a method refuses
// (an empty name, a negative limit, JSON that does not parse, an unknown
// verdict...) is an ErrInvalid. Sizes are bounded: model sources,
// baselines, snapshot bodies, a run's flows and a fault's undo up to
// 64 MiB each; descriptions, reasons and sample details 64 KiB; names
// (systems, experiments, edges, flows, nodes, IDs) 1 KiB; a run up to
// 2^20 samples and 256 MiB in all.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/spofhq/spof/analysis"
)

// ErrNotFound is returned (wrapped) for a system, version, snapshot or
// run that is not there.
var ErrNotFound = errors.New("not found")

// ErrNotLeader is returned by Lease.Check once the lease is lost.
var ErrNotLeader = errors.New("no longer the leader")

// Store is the interface of both backends. Every method is safe for
// concurrent use, and by several processes on one database.
type Store interface {
	// PutModel stores a version of a system's model, creating the system
	// on its first version. A version whose source is byte-for-byte the
	// latest one's is not stored again: PutModel returns the latest and
	// created false. A zero CreatedAt is now.
	PutModel(ctx context.Context, v ModelVersion) (stored ModelVersion, created bool, err error)
	// Systems lists the systems by name, each with its latest version
	// number and its latest snapshot's counts (zero without one).
	Systems(ctx context.Context) ([]System, error)
	// System returns one system, or ErrNotFound.
	System(ctx context.Context, name string) (System, error)
	// ModelVersions lists a system's versions, newest first, without their
	// sources; limit 0 means all.
	ModelVersions(ctx context.Context, system string, limit int) ([]ModelVersion, error)
	// Model returns one version with its source; version 0 is the latest.
	Model(ctx context.Context, system string, version int64) (ModelVersion, error)
	// DeleteSystem removes a system and everything stored about it, or
	// returns ErrNotFound. The chaos journal's faults stay: they must
	// still be restored.
	DeleteSystem(ctx context.Context, name string) error

	// PutSnapshot stores an analysis of a stored model version
	// (ErrNotFound if there is none) and returns it with its ID. A zero
	// At is now.
	PutSnapshot(ctx context.Context, s Snapshot) (Snapshot, error)
	// LatestSnapshot returns the system's newest snapshot, with its
	// bodies, or ErrNotFound.
	LatestSnapshot(ctx context.Context, system string) (Snapshot, error)
	// Snapshots lists a system's snapshots taken at or after since, oldest
	// first, without their bodies (Report and Checklist are nil): the
	// history and the SPOF count over time. limit 0 means all; with a
	// limit, the newest limit of them.
	Snapshots(ctx context.Context, system string, since time.Time, limit int) ([]Snapshot, error)

	// PutRun stores a finished experiment run of a stored system
	// (ErrNotFound if it is not), with its samples, and returns it with
	// its ID. A passed or falsified run with Edges also updates the
	// verification ledger of those edges, in the same transaction, unless
	// the ledger has a run that ended later.
	PutRun(ctx context.Context, r Run) (Run, error)
	// Runs lists runs, newest first (by Started), without their samples;
	// ErrNotFound for a RunQuery.System that is not stored.
	Runs(ctx context.Context, q RunQuery) ([]Run, error)
	// Run returns one run with its samples, or ErrNotFound.
	Run(ctx context.Context, id int64) (Run, error)

	// PutBaseline stores (replaces) a stored system's baseline: the bytes
	// of a baseline file (spof baseline).
	PutBaseline(ctx context.Context, system string, data []byte) error
	// Baseline returns a system's baseline and when it was stored, or
	// ErrNotFound.
	Baseline(ctx context.Context, system string) (data []byte, at time.Time, err error)

	// Verifications returns the ledger of a system: per fallback edge
	// ("from → to"), the latest passed or falsified run that exercised it.
	// Aborted, not-applied and fault-lost runs verify nothing (as
	// chaos.Verifications).
	Verifications(ctx context.Context, system string) (map[string]analysis.Verification, error)

	// BeginFault records a fault about to be injected (the chaos journal,
	// shared by every replica): written and durable before the fault is.
	// An ID that is open already is an error. A zero Started is now. The
	// system need not be stored.
	BeginFault(ctx context.Context, f Fault) error
	// EndFault removes a fault once it is restored. Ending a fault that
	// is not there is not an error (a recovery may have ended it).
	EndFault(ctx context.Context, id string) error
	// OpenFaults lists the faults begun and not ended, oldest first: what a
	// crashed replica left in place, for the next leader to restore.
	OpenFaults(ctx context.Context) ([]Fault, error)

	// TryLead tries to become the leader of name (the scheduler) without
	// waiting: ok is false when another process leads. The lease holds
	// until Release, Close or the holder's death (PostgreSQL: a session
	// advisory lock on a connection of its own; SQLite: an exclusive lock
	// on a file beside the database, so one node). A name is 1 to 64
	// letters, digits, '.', '_' and '-', not starting with '.'.
	TryLead(ctx context.Context, name string) (lease Lease, ok bool, err error)

	// Close releases the leases and closes the database. Closing again
	// does nothing.
	Close() error
}

// Lease is the leadership TryLead grants.
type Lease interface {
	// Check returns nil while the lease holds, ErrNotLeader (wrapped)
	// once it is lost (the connection behind it broke).
	Check(ctx context.Context) error
	// Release gives the leadership up.
	Release() error
}

// System is a system the store knows, with the counts of its latest
// snapshot.
type System struct {
	Name        string
	Description string
	Latest      int64     // latest model version
	UpdatedAt   time.Time // of the latest model version
	// Counts of the latest snapshot; SnapshotAt is zero without one.
	SnapshotAt time.Time
	Counts     Counts
}

// ModelVersion is one version of a system's model.
type ModelVersion struct {
	System      string
	Version     int64 // from 1, per system; set by PutModel
	File        string
	Description string
	Source      []byte // the model file's bytes; nil in listings
	SHA256      string // hex of Source; set by PutModel
	CreatedAt   time.Time
}

// Counts are the numbers a snapshot is summed up by.
type Counts struct {
	SPOFs        int            `json:"spofs"`
	Degradations int            `json:"degradations"`
	Recovery     int            `json:"recovery"`
	Operational  int            `json:"operational"`
	BySeverity   map[string]int `json:"by_severity,omitempty"` // criticality name → findings
	// Checklist items by status: pass, fail, unknown.
	Checklist map[string]int `json:"checklist,omitempty"`
}

// Snapshot is an analysis of one model version.
type Snapshot struct {
	ID           int64
	System       string
	ModelVersion int64
	At           time.Time
	Counts       Counts
	// Report is spof check --format json's document; Checklist the
	// checklist items as JSON. Nil in listings.
	Report    json.RawMessage
	Checklist json.RawMessage
}

// Run is one chaos experiment run.
type Run struct {
	ID         int64
	System     string
	Experiment string
	Fault      string
	Verdict    string // chaos.Verdict: passed, falsified, aborted, not-applied, restore-failed, fault-lost
	Reason     string
	Trigger    string // schedule, api, ui (the dashboard) or cli
	Node       string // the host (and PID) that ran it
	// Batch names the spof chaos run it was part of (or, for the
	// scheduler, the schedule and the time it was due): how a later leader
	// recognises a schedule's run.
	Batch   string
	Started time.Time
	Ended   time.Time
	Edges   []string        // the fallback edges it exercised, "from → to"
	Flows   json.RawMessage // []chaos.FlowResult
	Samples []Sample        // nil in listings
}

// Sample is one probe sample taken during a run: the timeline.
type Sample struct {
	At      time.Time
	Flow    string
	State   string // up, degraded, down
	Latency time.Duration
	Detail  string
}

// RunQuery selects runs. Zero fields select everything.
type RunQuery struct {
	System     string
	Experiment string
	Batch      string
	Since      time.Time
	Limit      int // 0: 100
}

// Fault is an entry of the shared chaos journal.
type Fault struct {
	ID         string
	System     string
	Experiment string
	Fault      string
	Undo       json.RawMessage // inject.Undo: how any process restores it
	Node       string
	Started    time.Time
	Deadline   time.Time
}
