package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// sqliteDB is the SQLite backend: one file, in WAL mode, so that reads run
// beside the writer and beside other processes.
//
// Writes go through one connection, in BEGIN IMMEDIATE transactions: they
// would take turns anyway (SQLite has one writer), and they wait in
// database/sql's queue instead of SQLite's busy loop; a transaction that
// takes the write lock up front never has to upgrade a read lock, which
// fails at once whatever busy_timeout says. Other processes' writers are
// waited for up to busy_timeout. Reads go through a few read-only
// connections.
//
// synchronous=FULL, not NORMAL: with NORMAL a commit in WAL mode survives a
// crash of the process but may be lost to a crash of the machine, and
// BeginFault's entry must be durable before the fault is injected. FULL
// costs one fsync of the WAL per commit, little at the rate spof writes.
type sqliteDB struct {
	path           string
	writer, reader *sql.DB
}

const (
	sqliteBusyTimeout = 10 * time.Second
	sqliteReaders     = 4
)

// openSQLite opens (creating it, mode 0600) the database file at path.
func openSQLite(ctx context.Context, path string) (_ *sqliteDB, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := createDatabaseFile(abs); err != nil {
		return nil, err
	}
	busy := fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds())
	db := &sqliteDB{path: abs}
	// The pragmas run in this order on every new connection.
	db.writer, err = sql.Open("sqlite", sqliteURI(abs, url.Values{
		"_pragma": {busy, "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"},
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, err
	}
	db.writer.SetMaxOpenConns(1)
	db.reader, err = sql.Open("sqlite", sqliteURI(abs, url.Values{
		"_pragma": {busy, "foreign_keys(1)", "query_only(1)"},
	}))
	if err != nil {
		db.writer.Close()
		return nil, err
	}
	db.reader.SetMaxOpenConns(sqliteReaders)
	db.reader.SetMaxIdleConns(sqliteReaders) // kept: each new connection runs the pragmas again
	// The writer's first connection turns WAL on before any reader opens.
	if err := db.writer.PingContext(ctx); err != nil {
		db.close()
		return nil, err
	}
	return db, nil
}

// createDatabaseFile creates path, readable by its owner only, unless it
// is there; it must be a regular file.
func createDatabaseFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s is a directory (want a database file, such as %s)", path, filepath.Join(path, "spof.db"))
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%v)", path, fi.Mode().Type())
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // another process created it meanwhile
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("creating %s: the directory %s does not exist", path, filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return f.Close()
}

// sqliteURI is the driver's name for the file at path with params: a
// file: URI, so that any path works (its '?', '#' and '%' escaped).
func sqliteURI(path string, params url.Values) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + params.Encode()
}

func (db *sqliteDB) dialect() dialect {
	sub, _ := fs.Sub(migrationFiles, "migrations/sqlite")
	return dialect{
		migrations: sub,
		migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		timeArg: func(t time.Time) any { return t.UnixMicro() },
	}
}

func (db *sqliteDB) read(ctx context.Context, fn func(querier) error) error {
	tx, err := db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(sqliteTx{tx})
}

func (db *sqliteDB) write(ctx context.Context, fn func(querier) error) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(sqliteTx{tx}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// tryLead takes an exclusive lock on the file PATH.lead-NAME beside the
// database (see flock), which the system releases when the process dies.
func (db *sqliteDB) tryLead(_ context.Context, name string) (held, bool, error) {
	return tryLockFile(db.path + ".lead-" + name)
}

func (db *sqliteDB) close() error {
	return errors.Join(db.reader.Close(), db.writer.Close())
}

// sqliteTx is a querier on a SQLite transaction.
type sqliteTx struct{ tx *sql.Tx }

// sqliteSQL numbers the placeholders of a query written for PostgreSQL
// ($1) as SQLite does (?1). The queries have no '$' otherwise.
func sqliteSQL(query string) string {
	b := []byte(query)
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '$' && '0' <= b[i+1] && b[i+1] <= '9' {
			b[i] = '?'
		}
	}
	return string(b)
}

func (t sqliteTx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, sqliteSQL(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t sqliteTx) query(ctx context.Context, query string, args ...any) (rows, error) {
	rs, err := t.tx.QueryContext(ctx, sqliteSQL(query), args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rs}, nil
}

func (t sqliteTx) queryRow(ctx context.Context, query string, args ...any) row {
	return t.tx.QueryRowContext(ctx, sqliteSQL(query), args...)
}

// insertRows runs one prepared INSERT per row: without a round trip to a
// server, that is as fast as SQLite goes.
func (t sqliteTx) insertRows(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	marks := make([]string, len(columns))
	for i := range marks {
		marks[i] = fmt.Sprintf("?%d", i+1)
	}
	stmt, err := t.tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)",
		table, strings.Join(columns, ", "), strings.Join(marks, ", ")))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r...); err != nil {
			return err
		}
	}
	return nil
}

// sqlRows are database/sql's rows as rows.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }
