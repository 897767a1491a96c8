package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("CREATE TABLE t (x INTEGER);")}
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  string // the error's, or the names in order
	}{
		{"in order", fstest.MapFS{"0002_more.sql": file, "0001_init.sql": file}, "0001_init.sql 0002_more.sql"},
		{"a gap", fstest.MapFS{"0001_init.sql": file, "0003_more.sql": file}, "want number 0002"},
		{"not from 1", fstest.MapFS{"0002_init.sql": file}, "want number 0001"},
		{"a bad name", fstest.MapFS{"0001_init.sql": file, "2_more.sql": file}, "want a name such as"},
	} {
		ms, err := loadMigrations(tc.files)
		got := ""
		if err != nil {
			got = err.Error()
		}
		for _, m := range ms {
			got = strings.TrimSpace(got + " " + m.name)
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}

	// Each backend has every migration, under the same names.
	names := map[string]string{}
	for _, backend := range []string{"sqlite", "postgres"} {
		sub, err := fs.Sub(migrationFiles, "migrations/"+backend)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := loadMigrations(sub)
		if err != nil || len(ms) == 0 {
			t.Fatalf("%s's migrations: %v, %v", backend, ms, err)
		}
		for _, m := range ms {
			names[backend] += m.name + " "
		}
	}
	if names["sqlite"] != names["postgres"] {
		t.Errorf("migrations differ: SQLite has %s, PostgreSQL %s", names["sqlite"], names["postgres"])
	}
}

// TestSQLitePragmas: what each connection is set to, as sqliteDB's doc
// says.
func TestSQLitePragmas(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "spof.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.(*sqlStore).db.(*sqliteDB)
	for _, tc := range []struct {
		pool   *sql.DB
		pragma string
		want   string
	}{
		{db.writer, "journal_mode", "wal"},
		{db.writer, "synchronous", "2"}, // FULL
		{db.writer, "foreign_keys", "1"},
		{db.writer, "busy_timeout", "10000"},
		{db.reader, "query_only", "1"},
		{db.reader, "busy_timeout", "10000"},
	} {
		var got string
		if err := tc.pool.QueryRowContext(context.Background(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
}

func TestSQLiteSQL(t *testing.T) {
	got := sqliteSQL(`SELECT a FROM t WHERE b = $1 AND c IN ($2, $10) LIMIT $3`)
	if want := `SELECT a FROM t WHERE b = ?1 AND c IN (?2, ?10) LIMIT ?3`; got != want {
		t.Errorf("sqliteSQL = %s, want %s", got, want)
	}
}
