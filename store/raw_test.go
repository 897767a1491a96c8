package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// raw is a connection of its own to a test's database, beside the store,
// to look at or tamper with what the store keeps.
type raw struct {
	now  string // SQL for now, as the backend keeps times
	do   func(query string) error
	list func(query string) ([]string, error)
}

// rawDB connects to the database of dsn (sqlite:PATH or postgres://),
// until t's end.
func rawDB(t *testing.T, dsn string) raw {
	t.Helper()
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return raw{
			now: "0",
			do:  func(q string) error { _, err := db.Exec(q); return err },
			list: func(q string) ([]string, error) {
				rows, err := db.Query(q)
				if err != nil {
					return nil, err
				}
				defer rows.Close()
				var out []string
				for rows.Next() {
					var s string
					if err := rows.Scan(&s); err != nil {
						return nil, err
					}
					out = append(out, s)
				}
				return out, rows.Err()
			},
		}
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return raw{
		now: "now()",
		do:  func(q string) error { _, err := conn.Exec(context.Background(), q); return err },
		list: func(q string) ([]string, error) {
			rows, err := conn.Query(context.Background(), q)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, pgx.RowTo[string])
		},
	}
}

func (r raw) exec(t *testing.T, query string) {
	t.Helper()
	if err := r.do(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (r raw) strings(t *testing.T, query string) []string {
	t.Helper()
	out, err := r.list(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}
