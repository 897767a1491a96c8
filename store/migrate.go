package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// migrationFiles are each backend's migrations, migrations/BACKEND/
// NNNN_name.sql, numbered from 0001 without gaps. A migration, once
// released, is never edited: a change of schema is a new file.
//
//go:embed migrations
var migrationFiles embed.FS

// A migration is one step of a backend's schema.
type migration struct {
	version int
	name    string // the file's
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// loadMigrations reads the migrations in fsys, in order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s: want a name such as 0001_init.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		v, _ := strconv.Atoi(m[1])
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want number %04d (migrations count from 0001 without gaps)", m.name, i+1)
		}
	}
	return out, nil
}

// migrate brings the database's schema up to the latest of ms, one
// migration per transaction, each recorded in schema_migrations. The
// dialect's lock (PostgreSQL) or the write transaction itself (SQLite)
// keeps two processes opening the store at once from both applying one.
// A database migrated by a newer spof, to a version this one does not
// know, is an error, and nothing is changed.
func migrate(ctx context.Context, db backend, ms []migration) error {
	d := db.dialect()
	for range len(ms) + 1 { // each pass applies one migration, or ends
		done := false
		err := db.write(ctx, func(q querier) error {
			if d.lockMigrations != "" {
				if _, err := q.exec(ctx, d.lockMigrations); err != nil {
					return err
				}
			}
			if _, err := q.exec(ctx, d.migrationsTable); err != nil {
				return err
			}
			var current int
			if err := q.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
				return err
			}
			switch {
			case current > len(ms):
				return fmt.Errorf("the database's schema is at version %d, newer than this spof knows (%d): it was migrated by a newer spof; use that one, or a database of this spof's own", current, len(ms))
			case current == len(ms):
				done = true
				return nil
			}
			m := ms[current]
			if _, err := q.exec(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			_, err := q.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, d.timeArg(time.Now().UTC().Truncate(time.Microsecond)))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrating the database: %w", err)
		}
		if done {
			return nil
		}
	}
	return fmt.Errorf("migrating the database: still not at version %d after applying every migration", len(ms))
}
