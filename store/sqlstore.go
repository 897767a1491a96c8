package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/spofhq/spof/analysis"
)

// Both backends are one sqlStore: the SQL and what it means (version
// numbers, deduplication, the ledger, orders, validation) are written
// once, for PostgreSQL's dialect, over the small backend interface that
// each of sqlite.go and postgres.go implements. SQLite understands that
// dialect but for three things, which the backend's dialect fills in:
// placeholders ($1 becomes ?1), times (microseconds since the epoch in an
// INTEGER; TIMESTAMPTZ in PostgreSQL) and row locks (SQLite's write
// transactions exclude each other already).

// backend is a database beneath the shared SQL.
type backend interface {
	// read runs fn in a read-only transaction: a consistent snapshot.
	read(ctx context.Context, fn func(querier) error) error
	// write runs fn in a transaction, committed if fn returns nil.
	write(ctx context.Context, fn func(querier) error) error
	// tryLead takes the lock of leadership name without waiting.
	tryLead(ctx context.Context, name string) (held, bool, error)
	dialect() dialect
	close() error
}

// held is a backend's hold on a leadership lock.
type held interface {
	check(ctx context.Context) error // nil while held
	release() error
}

// dialect is what the shared SQL needs to know of a backend.
type dialect struct {
	// migrations holds the backend's NNNN_name.sql files.
	migrations fs.FS
	// migrationsTable creates the table of applied migrations unless it
	// exists.
	migrationsTable string
	// lockMigrations, run first in a migration's transaction, keeps other
	// processes from migrating at the same time ("" if the transaction
	// does already).
	lockMigrations string
	// lockRow, after a SELECT of one row, locks that row until the
	// transaction ends ("" if write transactions exclude each other).
	lockRow string
	// timeArg is how a time is given to the database.
	timeArg func(time.Time) any
}

// A querier runs SQL in a transaction of either backend.
type querier interface {
	exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	query(ctx context.Context, query string, args ...any) (rows, error)
	queryRow(ctx context.Context, query string, args ...any) row
	// insertRows adds rows (values in the order of columns) to table.
	insertRows(ctx context.Context, table string, columns []string, rows [][]any) error
}

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type row interface {
	Scan(dest ...any) error
}

// timeDest scans a time column of either backend into *t, in UTC: SQLite's
// microseconds since the epoch, PostgreSQL's TIMESTAMPTZ; NULL is the zero
// time.
type timeDest struct{ t *time.Time }

func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.UnixMicro(v).UTC()
	case time.Time:
		*d.t = v.UTC()
	default:
		return fmt.Errorf("a time column holds %T", src)
	}
	return nil
}

// sqlStore is the Store of both backends.
type sqlStore struct {
	db  backend
	d   dialect
	now func() time.Time

	mu     sync.Mutex
	leases map[*lease]bool // held
	closed bool
}

func newSQLStore(db backend) *sqlStore {
	return &sqlStore{db: db, d: db.dialect(), now: time.Now, leases: map[*lease]bool{}}
}

// timeArg is t for the database; the zero time is NULL.
func (s *sqlStore) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.d.timeArg(t)
}

// jsonArg is a JSON body for the database: text, or NULL when absent.
func jsonArg(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// jsonValue is a JSON body read back: nil when NULL.
func jsonValue(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}

func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
}

// systemExists tells whether the system is stored.
func systemExists(ctx context.Context, q querier, name string) (bool, error) {
	var one int
	err := q.queryRow(ctx, `SELECT 1 FROM systems WHERE name = $1`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// needSystem is nil if the system is stored, an ErrNotFound naming it if
// not.
func needSystem(ctx context.Context, q querier, name string) error {
	ok, err := systemExists(ctx, q, name)
	if err == nil && !ok {
		err = notFound("system %q", name)
	}
	return err
}

func (s *sqlStore) PutModel(ctx context.Context, v ModelVersion) (ModelVersion, bool, error) {
	if err := checkModel(v); err != nil {
		return ModelVersion{}, false, fmt.Errorf("storing a model: %w", err)
	}
	created, err := normTime("created at", orNow(v.CreatedAt, s.now))
	if err != nil {
		return ModelVersion{}, false, fmt.Errorf("storing a model of %q: %w", v.System, err)
	}
	sum := sha256.Sum256(v.Source)
	v.SHA256, v.CreatedAt, v.Version = hex.EncodeToString(sum[:]), created, 0
	var stored ModelVersion
	var isNew bool
	err = s.db.write(ctx, func(q querier) error {
		stored, isNew = ModelVersion{}, false
		// The system's row numbers its versions; locked, so that
		// concurrent puts take turns.
		if _, err := q.exec(ctx, `INSERT INTO systems (name, description, latest, updated_at) VALUES ($1, '', 0, $2)
			ON CONFLICT (name) DO NOTHING`, v.System, s.timeArg(created)); err != nil {
			return err
		}
		var latest int64
		if err := q.queryRow(ctx, `SELECT latest FROM systems WHERE name = $1`+s.d.lockRow, v.System).Scan(&latest); err != nil {
			return err
		}
		if latest > 0 {
			prev := ModelVersion{System: v.System, Version: latest}
			err := q.queryRow(ctx, `SELECT file, description, sha256, created_at FROM model_versions
				WHERE system = $1 AND version = $2`, v.System, latest).
				Scan(&prev.File, &prev.Description, &prev.SHA256, timeDest{&prev.CreatedAt})
			if err != nil {
				return err
			}
			if prev.SHA256 == v.SHA256 {
				prev.Source = v.Source // the same bytes
				stored = prev
				return nil
			}
		}
		v.Version = latest + 1
		if _, err := q.exec(ctx, `INSERT INTO model_versions (system, version, file, description, source, sha256, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			v.System, v.Version, v.File, v.Description, v.Source, v.SHA256, s.timeArg(created)); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `UPDATE systems SET latest = $2, description = $3, updated_at = $4 WHERE name = $1`,
			v.System, v.Version, v.Description, s.timeArg(created)); err != nil {
			return err
		}
		stored, isNew = v, true
		return nil
	})
	if err != nil {
		return ModelVersion{}, false, fmt.Errorf("storing a model of %q: %w", v.System, err)
	}
	return stored, isNew, nil
}

func checkModel(v ModelVersion) error {
	if err := checkName("system", v.System); err != nil {
		return err
	}
	if err := checkOptionalName("file", v.File); err != nil {
		return err
	}
	if err := checkText("description", v.Description, maxText); err != nil {
		return err
	}
	if len(v.Source) == 0 {
		return invalid("the source of %q is empty", v.System)
	}
	if len(v.Source) > maxBody {
		return invalid("the source of %q is %d bytes long, over the limit of %d", v.System, len(v.Source), maxBody)
	}
	return nil
}

// systemsQuery selects systems with their latest snapshot's time and
// counts, for scanSystem.
const systemsQuery = `SELECT s.name, s.description, s.latest, s.updated_at, n.at, n.counts
	FROM systems s LEFT JOIN snapshots n
	ON n.id = (SELECT id FROM snapshots WHERE system = s.name ORDER BY at DESC, id DESC LIMIT 1)`

func scanSystem(r row) (System, error) {
	var sys System
	var counts sql.NullString
	err := r.Scan(&sys.Name, &sys.Description, &sys.Latest, timeDest{&sys.UpdatedAt}, timeDest{&sys.SnapshotAt}, &counts)
	if err != nil {
		return System{}, err
	}
	if counts.Valid {
		if err := json.Unmarshal([]byte(counts.String), &sys.Counts); err != nil {
			return System{}, fmt.Errorf("the counts of %q's latest snapshot: %w", sys.Name, err)
		}
	}
	return sys, nil
}

func (s *sqlStore) Systems(ctx context.Context) ([]System, error) {
	var out []System
	err := s.db.read(ctx, func(q querier) error {
		out = nil
		rs, err := q.query(ctx, systemsQuery+` ORDER BY s.name`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			sys, err := scanSystem(rs)
			if err != nil {
				return err
			}
			out = append(out, sys)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing systems: %w", err)
	}
	return out, nil
}

func (s *sqlStore) System(ctx context.Context, name string) (System, error) {
	if err := checkName("system", name); err != nil {
		return System{}, err
	}
	var sys System
	err := s.db.read(ctx, func(q querier) error {
		var err error
		sys, err = scanSystem(q.queryRow(ctx, systemsQuery+` WHERE s.name = $1`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("system %q", name)
		}
		return err
	})
	if err != nil {
		return System{}, fmt.Errorf("reading system %q: %w", name, err)
	}
	return sys, nil
}

func (s *sqlStore) ModelVersions(ctx context.Context, system string, limit int) ([]ModelVersion, error) {
	if err := errors.Join(checkName("system", system), checkLimit(limit)); err != nil {
		return nil, err
	}
	query := `SELECT version, file, description, sha256, created_at FROM model_versions
		WHERE system = $1 ORDER BY version DESC`
	args := []any{system}
	if limit > 0 {
		query += ` LIMIT $2`
		args = append(args, limit)
	}
	var out []ModelVersion
	err := s.db.read(ctx, func(q querier) error {
		out = nil
		if err := needSystem(ctx, q, system); err != nil {
			return err
		}
		rs, err := q.query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			v := ModelVersion{System: system}
			if err := rs.Scan(&v.Version, &v.File, &v.Description, &v.SHA256, timeDest{&v.CreatedAt}); err != nil {
				return err
			}
			out = append(out, v)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing the model versions of %q: %w", system, err)
	}
	return out, nil
}

func (s *sqlStore) Model(ctx context.Context, system string, version int64) (ModelVersion, error) {
	if err := checkName("system", system); err != nil {
		return ModelVersion{}, err
	}
	if version < 0 {
		return ModelVersion{}, invalid("model version %d is negative (0 is the latest)", version)
	}
	query := `SELECT version, file, description, source, sha256, created_at FROM model_versions WHERE system = $1`
	args := []any{system}
	if version == 0 {
		query += ` ORDER BY version DESC LIMIT 1`
	} else {
		query += ` AND version = $2`
		args = append(args, version)
	}
	v := ModelVersion{System: system}
	err := s.db.read(ctx, func(q querier) error {
		err := q.queryRow(ctx, query, args...).Scan(&v.Version, &v.File, &v.Description, &v.Source, &v.SHA256, timeDest{&v.CreatedAt})
		if errors.Is(err, sql.ErrNoRows) {
			if err := needSystem(ctx, q, system); err != nil {
				return err
			}
			return notFound("version %d", version)
		}
		return err
	})
	if err != nil {
		return ModelVersion{}, fmt.Errorf("reading the model of %q: %w", system, err)
	}
	return v, nil
}

func (s *sqlStore) DeleteSystem(ctx context.Context, name string) error {
	if err := checkName("system", name); err != nil {
		return err
	}
	err := s.db.write(ctx, func(q querier) error {
		// Everything else about it goes with it (ON DELETE CASCADE).
		n, err := q.exec(ctx, `DELETE FROM systems WHERE name = $1`, name)
		if err == nil && n == 0 {
			err = notFound("system %q", name)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting system %q: %w", name, err)
	}
	return nil
}

func (s *sqlStore) PutSnapshot(ctx context.Context, snap Snapshot) (Snapshot, error) {
	at, err := normTime("at", orNow(snap.At, s.now))
	if err == nil {
		err = checkSnapshot(snap)
	}
	if err != nil {
		return Snapshot{}, fmt.Errorf("storing a snapshot: %w", err)
	}
	snap.ID, snap.At, snap.Counts = 0, at, normCounts(snap.Counts)
	snap.Report, snap.Checklist = absent(snap.Report), absent(snap.Checklist)
	counts, err := json.Marshal(snap.Counts)
	if err != nil {
		return Snapshot{}, err
	}
	err = s.db.write(ctx, func(q querier) error {
		var one int
		err := q.queryRow(ctx, `SELECT 1 FROM model_versions WHERE system = $1 AND version = $2`,
			snap.System, snap.ModelVersion).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			if err := needSystem(ctx, q, snap.System); err != nil {
				return err
			}
			return notFound("model version %d", snap.ModelVersion)
		}
		if err != nil {
			return err
		}
		return q.queryRow(ctx, `INSERT INTO snapshots (system, model_version, at, counts, report, checklist)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			snap.System, snap.ModelVersion, s.timeArg(at), string(counts), jsonArg(snap.Report), jsonArg(snap.Checklist)).
			Scan(&snap.ID)
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("storing a snapshot of %q: %w", snap.System, err)
	}
	return snap, nil
}

func checkSnapshot(snap Snapshot) error {
	if err := checkName("system", snap.System); err != nil {
		return err
	}
	if snap.ModelVersion < 1 {
		return invalid("model version %d: versions count from 1", snap.ModelVersion)
	}
	if err := checkCounts(snap.Counts); err != nil {
		return err
	}
	return errors.Join(checkJSON("report", snap.Report), checkJSON("checklist", snap.Checklist))
}

func checkCounts(c Counts) error {
	if c.SPOFs < 0 || c.Degradations < 0 || c.Recovery < 0 || c.Operational < 0 {
		return invalid("counts %+v: a count is negative", c)
	}
	for field, m := range map[string]map[string]int{"by severity": c.BySeverity, "checklist": c.Checklist} {
		for k, n := range m {
			if err := checkName("counts "+field, k); err != nil {
				return err
			}
			if n < 0 {
				return invalid("counts %s[%q] = %d is negative", field, k, n)
			}
		}
	}
	return nil
}

// normCounts gives empty maps as nil, as they read back.
func normCounts(c Counts) Counts {
	if len(c.BySeverity) == 0 {
		c.BySeverity = nil
	}
	if len(c.Checklist) == 0 {
		c.Checklist = nil
	}
	return c
}

func (s *sqlStore) LatestSnapshot(ctx context.Context, system string) (Snapshot, error) {
	if err := checkName("system", system); err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{System: system}
	err := s.db.read(ctx, func(q querier) error {
		var counts string
		var report, checklist sql.NullString
		err := q.queryRow(ctx, `SELECT id, model_version, at, counts, report, checklist FROM snapshots
			WHERE system = $1 ORDER BY at DESC, id DESC LIMIT 1`, system).
			Scan(&snap.ID, &snap.ModelVersion, timeDest{&snap.At}, &counts, &report, &checklist)
		if errors.Is(err, sql.ErrNoRows) {
			if err := needSystem(ctx, q, system); err != nil {
				return err
			}
			return notFound("no snapshot")
		}
		if err != nil {
			return err
		}
		snap.Report, snap.Checklist = jsonValue(report), jsonValue(checklist)
		return json.Unmarshal([]byte(counts), &snap.Counts)
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("reading the latest snapshot of %q: %w", system, err)
	}
	return snap, nil
}

func (s *sqlStore) Snapshots(ctx context.Context, system string, since time.Time, limit int) ([]Snapshot, error) {
	since, err := normSince(since)
	if err := errors.Join(err, checkName("system", system), checkLimit(limit)); err != nil {
		return nil, err
	}
	// Newest first (to take the newest limit), reversed below.
	query := `SELECT id, model_version, at, counts FROM snapshots WHERE system = $1`
	args := []any{system}
	if !since.IsZero() {
		args = append(args, s.timeArg(since))
		query += fmt.Sprintf(` AND at >= $%d`, len(args))
	}
	query += ` ORDER BY at DESC, id DESC`
	if limit > 0 {
		args = append(args, limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	var out []Snapshot
	err = s.db.read(ctx, func(q querier) error {
		out = nil
		if err := needSystem(ctx, q, system); err != nil {
			return err
		}
		rs, err := q.query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			snap := Snapshot{System: system}
			var counts string
			if err := rs.Scan(&snap.ID, &snap.ModelVersion, timeDest{&snap.At}, &counts); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(counts), &snap.Counts); err != nil {
				return fmt.Errorf("the counts of snapshot %d: %w", snap.ID, err)
			}
			out = append(out, snap)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing the snapshots of %q: %w", system, err)
	}
	slices.Reverse(out)
	return out, nil
}

// Verdicts (chaos.Verdict) and triggers a run may have. Passed and
// falsified runs verify (or refute) their edges; the others verify
// nothing.
const (
	verdictPassed    = "passed"
	verdictFalsified = "falsified"
)

var (
	verdicts = []string{verdictPassed, verdictFalsified, "aborted", "not-applied", "restore-failed", "fault-lost"}
	triggers = []string{"schedule", "api", "cli"}
	states   = []string{"up", "degraded", "down"}
)

func (s *sqlStore) PutRun(ctx context.Context, r Run) (Run, error) {
	r, err := normRun(r)
	if err != nil {
		return Run{}, fmt.Errorf("storing a run: %w", err)
	}
	edges, err := json.Marshal(r.Edges)
	if err != nil {
		return Run{}, err
	}
	if r.Edges == nil {
		edges = []byte("[]")
	}
	err = s.db.write(ctx, func(q querier) error {
		if err := needSystem(ctx, q, r.System); err != nil {
			return err
		}
		err := q.queryRow(ctx, `INSERT INTO runs (system, experiment, fault, verdict, reason, triggered_by, node, started, ended, edges, flows)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			r.System, r.Experiment, r.Fault, r.Verdict, r.Reason, r.Trigger, r.Node,
			s.timeArg(r.Started), s.timeArg(r.Ended), string(edges), jsonArg(r.Flows)).Scan(&r.ID)
		if err != nil {
			return err
		}
		samples := make([][]any, len(r.Samples))
		for i, x := range r.Samples {
			samples[i] = []any{r.ID, int64(i), s.timeArg(x.At), x.Flow, x.State, int64(x.Latency), x.Detail}
		}
		if err := q.insertRows(ctx, "samples", []string{"run_id", "seq", "at", "flow", "state", "latency", "detail"}, samples); err != nil {
			return err
		}
		if r.Verdict != verdictPassed && r.Verdict != verdictFalsified {
			return nil
		}
		// The ledger keeps the latest run per edge: an older run stored
		// late does not replace a newer one, and of two that ended at the
		// same time the one stored last wins (as chaos.Verifications
		// reads the history). Edges in order, so that concurrent runs
		// lock their rows in the same order.
		for _, e := range slices.Compact(slices.Sorted(slices.Values(r.Edges))) {
			if _, err := q.exec(ctx, `INSERT INTO verifications (system, edge, experiment, at, passed, run_id)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (system, edge) DO UPDATE
				SET experiment = excluded.experiment, at = excluded.at, passed = excluded.passed, run_id = excluded.run_id
				WHERE excluded.at >= verifications.at`,
				r.System, e, r.Experiment, s.timeArg(r.Ended), r.Verdict == verdictPassed, r.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Run{}, fmt.Errorf("storing a run of %q: %w", r.System, err)
	}
	return r, nil
}

// normRun checks r and returns it as it will read back.
func normRun(r Run) (Run, error) {
	err := errors.Join(
		checkName("system", r.System),
		checkName("experiment", r.Experiment),
		checkOptionalName("fault", r.Fault),
		checkText("reason", r.Reason, maxText),
		checkOptionalName("node", r.Node),
		checkJSON("flows", r.Flows),
	)
	if err != nil {
		return Run{}, err
	}
	if !slices.Contains(verdicts, r.Verdict) {
		return Run{}, invalid("verdict %q: want one of %v", r.Verdict, verdicts)
	}
	if !slices.Contains(triggers, r.Trigger) {
		return Run{}, invalid("trigger %q: want one of %v", r.Trigger, triggers)
	}
	if r.Started.IsZero() || r.Ended.IsZero() {
		return Run{}, invalid("a run needs its start and end times (started %v, ended %v)", r.Started, r.Ended)
	}
	if r.Started, err = normTime("started", r.Started); err != nil {
		return Run{}, err
	}
	if r.Ended, err = normTime("ended", r.Ended); err != nil {
		return Run{}, err
	}
	if r.Ended.Before(r.Started) {
		return Run{}, invalid("the run ended (%v) before it started (%v)", r.Ended, r.Started)
	}
	if len(r.Edges) > maxEdges {
		return Run{}, invalid("%d edges, over the limit of %d", len(r.Edges), maxEdges)
	}
	size := len(r.System) + len(r.Experiment) + len(r.Fault) + len(r.Reason) + len(r.Node) + len(r.Flows)
	for i, e := range r.Edges {
		if err := checkName(fmt.Sprintf("edges[%d]", i), e); err != nil {
			return Run{}, err
		}
		size += len(e)
	}
	if len(r.Edges) == 0 {
		r.Edges = nil
	}
	if len(r.Samples) > maxSamples {
		return Run{}, invalid("%d samples, over the limit of %d", len(r.Samples), maxSamples)
	}
	samples := make([]Sample, len(r.Samples))
	for i, x := range r.Samples {
		field := fmt.Sprintf("samples[%d]", i)
		if x.At.IsZero() {
			return Run{}, invalid("%s has no time", field)
		}
		if x.At, err = normTime(field+".at", x.At); err != nil {
			return Run{}, err
		}
		if err := errors.Join(checkName(field+".flow", x.Flow), checkText(field+".detail", x.Detail, maxText)); err != nil {
			return Run{}, err
		}
		if !slices.Contains(states, x.State) {
			return Run{}, invalid("%s.state %q: want one of %v", field, x.State, states)
		}
		if x.Latency < 0 {
			return Run{}, invalid("%s.latency %v is negative", field, x.Latency)
		}
		samples[i] = x
		size += len(x.Flow) + len(x.Detail) + 32
	}
	if size > maxRun {
		return Run{}, invalid("the run is %d bytes long, over the limit of %d", size, maxRun)
	}
	r.ID, r.Samples, r.Flows = 0, samples, absent(r.Flows)
	return r, nil
}

// runColumns are what scanRun reads.
const runColumns = `id, system, experiment, fault, verdict, reason, triggered_by, node, started, ended, edges, flows`

func scanRun(r row) (Run, error) {
	var run Run
	var edges string
	var flows sql.NullString
	err := r.Scan(&run.ID, &run.System, &run.Experiment, &run.Fault, &run.Verdict, &run.Reason, &run.Trigger, &run.Node,
		timeDest{&run.Started}, timeDest{&run.Ended}, &edges, &flows)
	if err != nil {
		return Run{}, err
	}
	if err := json.Unmarshal([]byte(edges), &run.Edges); err != nil {
		return Run{}, fmt.Errorf("the edges of run %d: %w", run.ID, err)
	}
	if len(run.Edges) == 0 {
		run.Edges = nil
	}
	run.Flows = jsonValue(flows)
	return run, nil
}

func (s *sqlStore) Runs(ctx context.Context, rq RunQuery) ([]Run, error) {
	since, err := normSince(rq.Since)
	err = errors.Join(err, checkOptionalName("system", rq.System), checkOptionalName("experiment", rq.Experiment), checkLimit(rq.Limit))
	if err != nil {
		return nil, err
	}
	limit := rq.Limit
	if limit == 0 {
		limit = 100
	}
	query := `SELECT ` + runColumns + ` FROM runs WHERE 1 = 1`
	var args []any
	if rq.System != "" {
		args = append(args, rq.System)
		query += fmt.Sprintf(` AND system = $%d`, len(args))
	}
	if rq.Experiment != "" {
		args = append(args, rq.Experiment)
		query += fmt.Sprintf(` AND experiment = $%d`, len(args))
	}
	if !since.IsZero() {
		args = append(args, s.timeArg(since))
		query += fmt.Sprintf(` AND started >= $%d`, len(args))
	}
	args = append(args, limit)
	query += fmt.Sprintf(` ORDER BY started DESC, id DESC LIMIT $%d`, len(args))
	var out []Run
	err = s.db.read(ctx, func(q querier) error {
		out = nil
		rs, err := q.query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			run, err := scanRun(rs)
			if err != nil {
				return err
			}
			out = append(out, run)
		}
		if err := rs.Err(); err != nil {
			return err
		}
		if len(out) == 0 && rq.System != "" {
			return needSystem(ctx, q, rq.System)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	return out, nil
}

func (s *sqlStore) Run(ctx context.Context, id int64) (Run, error) {
	if id < 1 {
		return Run{}, invalid("run ID %d: IDs count from 1", id)
	}
	var run Run
	err := s.db.read(ctx, func(q querier) error {
		var err error
		run, err = scanRun(q.queryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("run %d", id)
		}
		if err != nil {
			return err
		}
		rs, err := q.query(ctx, `SELECT at, flow, state, latency, detail FROM samples WHERE run_id = $1 ORDER BY seq`, id)
		if err != nil {
			return err
		}
		defer rs.Close()
		run.Samples = []Sample{}
		for rs.Next() {
			var x Sample
			var latency int64
			if err := rs.Scan(timeDest{&x.At}, &x.Flow, &x.State, &latency, &x.Detail); err != nil {
				return err
			}
			x.Latency = time.Duration(latency)
			run.Samples = append(run.Samples, x)
		}
		return rs.Err()
	})
	if err != nil {
		return Run{}, fmt.Errorf("reading run %d: %w", id, err)
	}
	return run, nil
}

func (s *sqlStore) PutBaseline(ctx context.Context, system string, data []byte) error {
	if err := checkName("system", system); err != nil {
		return err
	}
	if len(data) == 0 || len(data) > maxBody {
		return invalid("the baseline of %q is %d bytes long: want 1 to %d", system, len(data), maxBody)
	}
	at, err := normTime("now", s.now())
	if err != nil {
		return err
	}
	err = s.db.write(ctx, func(q querier) error {
		if err := needSystem(ctx, q, system); err != nil {
			return err
		}
		_, err := q.exec(ctx, `INSERT INTO baselines (system, data, at) VALUES ($1, $2, $3)
			ON CONFLICT (system) DO UPDATE SET data = excluded.data, at = excluded.at`, system, data, s.timeArg(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("storing the baseline of %q: %w", system, err)
	}
	return nil
}

func (s *sqlStore) Baseline(ctx context.Context, system string) ([]byte, time.Time, error) {
	if err := checkName("system", system); err != nil {
		return nil, time.Time{}, err
	}
	var data []byte
	var at time.Time
	err := s.db.read(ctx, func(q querier) error {
		err := q.queryRow(ctx, `SELECT data, at FROM baselines WHERE system = $1`, system).Scan(&data, timeDest{&at})
		if errors.Is(err, sql.ErrNoRows) {
			if err := needSystem(ctx, q, system); err != nil {
				return err
			}
			return notFound("no baseline")
		}
		return err
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading the baseline of %q: %w", system, err)
	}
	return data, at, nil
}

func (s *sqlStore) Verifications(ctx context.Context, system string) (map[string]analysis.Verification, error) {
	if err := checkName("system", system); err != nil {
		return nil, err
	}
	out := map[string]analysis.Verification{}
	err := s.db.read(ctx, func(q querier) error {
		clear(out)
		if err := needSystem(ctx, q, system); err != nil {
			return err
		}
		rs, err := q.query(ctx, `SELECT edge, experiment, at, passed FROM verifications WHERE system = $1`, system)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var edge string
			var v analysis.Verification
			if err := rs.Scan(&edge, &v.Experiment, timeDest{&v.At}, &v.Passed); err != nil {
				return err
			}
			out[edge] = v
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading the verifications of %q: %w", system, err)
	}
	return out, nil
}

func (s *sqlStore) BeginFault(ctx context.Context, f Fault) error {
	f, err := normFault(f, s.now)
	if err != nil {
		return fmt.Errorf("journalling a fault: %w", err)
	}
	err = s.db.write(ctx, func(q querier) error {
		n, err := q.exec(ctx, `INSERT INTO faults (id, system, experiment, fault, undo, node, started, deadline)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
			f.ID, f.System, f.Experiment, f.Fault, string(f.Undo), f.Node, s.timeArg(f.Started), s.timeArg(f.Deadline))
		if err == nil && n == 0 {
			err = invalid("a fault with this ID is open already")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("journalling fault %q: %w", f.ID, err)
	}
	return nil
}

func normFault(f Fault, now func() time.Time) (Fault, error) {
	err := errors.Join(
		checkName("fault ID", f.ID),
		checkName("system", f.System),
		checkOptionalName("experiment", f.Experiment),
		checkOptionalName("fault", f.Fault),
		checkOptionalName("node", f.Node),
		checkJSON("undo", f.Undo),
	)
	if err != nil {
		return Fault{}, err
	}
	if len(f.Undo) == 0 {
		return Fault{}, invalid("fault %q has no undo: nothing could restore it", f.ID)
	}
	if f.Started, err = normTime("started", orNow(f.Started, now)); err != nil {
		return Fault{}, err
	}
	if f.Deadline, err = normTime("deadline", f.Deadline); err != nil {
		return Fault{}, err
	}
	return f, nil
}

func (s *sqlStore) EndFault(ctx context.Context, id string) error {
	if err := checkName("fault ID", id); err != nil {
		return err
	}
	err := s.db.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, `DELETE FROM faults WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("ending fault %q: %w", id, err)
	}
	return nil
}

func (s *sqlStore) OpenFaults(ctx context.Context) ([]Fault, error) {
	var out []Fault
	err := s.db.read(ctx, func(q querier) error {
		out = nil
		rs, err := q.query(ctx, `SELECT id, system, experiment, fault, undo, node, started, deadline FROM faults ORDER BY started, seq`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var f Fault
			var undo string
			if err := rs.Scan(&f.ID, &f.System, &f.Experiment, &f.Fault, &undo, &f.Node, timeDest{&f.Started}, timeDest{&f.Deadline}); err != nil {
				return err
			}
			f.Undo = json.RawMessage(undo)
			out = append(out, f)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing open faults: %w", err)
	}
	return out, nil
}

func (s *sqlStore) TryLead(ctx context.Context, name string) (Lease, bool, error) {
	if err := checkLeaseName(name); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, false, errors.New("trying to lead: the store is closed")
	}
	h, ok, err := s.db.tryLead(ctx, name)
	if err != nil {
		return nil, false, fmt.Errorf("trying to lead %q: %w", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	l := &lease{s: s, name: name, h: h}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed { // closed meanwhile
		return nil, false, errors.Join(errors.New("trying to lead: the store is closed"), h.release())
	}
	s.leases[l] = true
	return l, true, nil
}

// checkLeaseName: a lease name becomes part of a file name (SQLite), so
// it is 1 to maxLease letters, digits, '.', '_' and '-', not starting
// with '.'.
func checkLeaseName(name string) error {
	if name == "" || len(name) > maxLease || name[0] == '.' {
		return invalid("lease name %q: want 1 to %d letters, digits, '.', '_' or '-', not starting with '.'", name, maxLease)
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return invalid("lease name %q: want 1 to %d letters, digits, '.', '_' or '-', not starting with '.'", name, maxLease)
		}
	}
	return nil
}

// A lease is a Lease of either backend.
type lease struct {
	s    *sqlStore
	name string

	mu       sync.Mutex // serialises check and release on h
	h        held
	released bool
}

func (l *lease) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return fmt.Errorf("lease %q was released: %w", l.name, ErrNotLeader)
	}
	if err := l.h.check(ctx); err != nil {
		return fmt.Errorf("lease %q: %w", l.name, err)
	}
	return nil
}

func (l *lease) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	l.released = true
	l.s.mu.Lock()
	delete(l.s.leases, l)
	l.s.mu.Unlock()
	if err := l.h.release(); err != nil {
		return fmt.Errorf("releasing lease %q: %w", l.name, err)
	}
	return nil
}

// Close releases the leases and closes the database. Closing a closed
// store does nothing.
func (s *sqlStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	leases := make([]*lease, 0, len(s.leases))
	for l := range s.leases {
		leases = append(leases, l)
	}
	s.mu.Unlock()
	var errs []error
	for _, l := range leases {
		errs = append(errs, l.Release())
	}
	errs = append(errs, s.db.close())
	return errors.Join(errs...)
}

var _ Store = (*sqlStore)(nil)
