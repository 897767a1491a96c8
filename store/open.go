package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// dsnHint says what Open takes.
const dsnHint = "want sqlite:PATH (or a path ending in .db or .sqlite) or postgres://USER@HOST:PORT/DATABASE"

// Open opens the store at dsn and migrates its schema to this spof's:
//
//   - sqlite:PATH, sqlite:///ABSOLUTE/PATH, or a bare PATH ending in .db,
//     .sqlite or .sqlite3: a SQLite file, created (mode 0600) if it is
//     not there; its directory must be. Leadership (TryLead) holds
//     among the processes of one machine.
//   - postgres://... or postgresql://...: a PostgreSQL database (pgx's
//     URL, such as postgres://spof@db.internal:5432/spof?sslmode=verify-full;
//     search_path=SCHEMA keeps the tables in a schema of their own).
//
// A database that a newer spof migrated past what this one knows is an
// error, and is left as it is. ctx bounds the opening only.
func Open(ctx context.Context, dsn string) (Store, error) {
	kind, target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	var db backend
	var what string
	switch kind {
	case "sqlite":
		what = target
		db, err = openSQLite(ctx, target)
	default:
		what = describePostgres(target)
		db, err = openPostgres(ctx, target)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the store %s: %w", what, err)
	}
	ms, err := loadMigrations(db.dialect().migrations)
	if err == nil {
		err = migrate(ctx, db, ms)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("opening the store %s: %w", what, err), db.close())
	}
	return newSQLStore(db), nil
}

// parseDSN tells which backend dsn names, and the path or URL it gives
// that backend.
func parseDSN(dsn string) (kind, target string, err error) {
	switch {
	case dsn == "":
		return "", "", fmt.Errorf("no store given: %s", dsnHint)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "postgres", dsn, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if rest, ok := strings.CutPrefix(path, "//"); ok {
			if !strings.HasPrefix(rest, "/") {
				return "", "", fmt.Errorf("store %q: a SQLite URL has no host: write sqlite:PATH, or sqlite:///ABSOLUTE/PATH", dsn)
			}
			path = rest
		}
		if path == "" {
			return "", "", fmt.Errorf("store %q: no path: %s", dsn, dsnHint)
		}
		return "sqlite", path, nil
	}
	if scheme, _, ok := strings.Cut(dsn, "://"); ok {
		// Not echoed whole: the rest may hold a password.
		return "", "", fmt.Errorf("store %s://...: unknown kind of database %q: %s", scheme, scheme, dsnHint)
	}
	for _, ext := range []string{".db", ".sqlite", ".sqlite3"} {
		if strings.HasSuffix(dsn, ext) {
			return "sqlite", dsn, nil
		}
	}
	return "", "", fmt.Errorf("store %q: not a database name: %s", dsn, dsnHint)
}
