package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresDB is the PostgreSQL backend: a pool of connections. Writes run
// in READ COMMITTED transactions, where the rows that must be taken in
// turn are locked (a system's row while its next version is numbered);
// reads in REPEATABLE READ, READ ONLY ones, a consistent snapshot.
type postgresDB struct {
	pool *pgxpool.Pool
}

// openPostgres connects to the database at dsn (a postgres:// URL).
func openPostgres(ctx context.Context, dsn string) (*postgresDB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err // pgx's message hides the password
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return &postgresDB{pool: pool}, nil
}

// describePostgres names the database of dsn for errors, without the
// password: user@host:port/database.
func describePostgres(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "a PostgreSQL database"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// advisoryKey is the key of a PostgreSQL advisory lock for name: 64 bits
// of its SHA-256 (hashtext's 32 bits would collide sooner).
func advisoryKey(name string) int64 {
	sum := sha256.Sum256([]byte("spof store: " + name))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

func (db *postgresDB) dialect() dialect {
	sub, _ := fs.Sub(migrationFiles, "migrations/postgres")
	return dialect{
		migrations: sub,
		migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`,
		// Held until the transaction ends.
		lockMigrations: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", advisoryKey("migrations")),
		// NO KEY: runs and snapshots (their foreign keys) may still be
		// stored meanwhile.
		lockRow: " FOR NO KEY UPDATE",
		timeArg: func(t time.Time) any { return t },
	}
}

func (db *postgresDB) read(ctx context.Context, fn func(querier) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return fn(pgTx{tx})
}

func (db *postgresDB) write(ctx context.Context, fn func(querier) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	if err := fn(pgTx{tx}); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return tx.Commit(ctx)
}

// tryLead takes a session advisory lock on a connection of the lease's
// own, outside the pool: the lock lasts as long as that session, so the
// death of the process (or of its connection) ends it.
func (db *postgresDB) tryLead(ctx context.Context, name string) (held, bool, error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, false, err
	}
	key := advisoryKey("lead " + name)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil || !ok {
		conn.Close(context.WithoutCancel(ctx))
		return nil, false, err
	}
	return &advisoryLock{conn: conn, key: key}, true, nil
}

func (db *postgresDB) close() error {
	db.pool.Close()
	return nil
}

// advisoryLock is a session advisory lock held on conn. The lease that
// holds it serialises check and release.
type advisoryLock struct {
	conn *pgx.Conn
	key  int64
	lost bool
}

// check pings the lock's connection: while the session lives, it holds
// the lock. A connection that fails is closed, so that ErrNotLeader
// always means the lock is gone (not merely unconfirmed).
func (l *advisoryLock) check(ctx context.Context) error {
	if l.lost {
		return ErrNotLeader
	}
	err := l.conn.Ping(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && !l.conn.IsClosed() {
		return err // ctx ended before the ping went out: nothing is known
	}
	l.lost = true
	l.conn.Close(context.WithoutCancel(ctx))
	return fmt.Errorf("%w: its connection to PostgreSQL failed: %v", ErrNotLeader, err)
}

// release unlocks before closing: closing alone would release the lock a
// moment after the server notices, and another process trying right after
// Release would find it still taken.
func (l *advisoryLock) release() error {
	if l.lost {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var unlocked bool
	err := l.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, l.key).Scan(&unlocked)
	if err == nil && !unlocked {
		err = errors.New("the lock was not held")
	}
	return errors.Join(err, l.conn.Close(ctx))
}

// pgTx is a querier on a PostgreSQL transaction.
type pgTx struct{ tx pgx.Tx }

func (t pgTx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (t pgTx) query(ctx context.Context, query string, args ...any) (rows, error) {
	return t.tx.Query(ctx, query, args...)
}

func (t pgTx) queryRow(ctx context.Context, query string, args ...any) row {
	return t.tx.QueryRow(ctx, query, args...)
}

// insertRows copies the rows in (COPY FROM): one round trip for them all.
func (t pgTx) insertRows(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
	return err
}
