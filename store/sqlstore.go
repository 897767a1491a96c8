package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"
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
