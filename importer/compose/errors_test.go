package compose

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spofhq/spof/model"
)

// TestMalformed: every bad file gives an error with file:line:col and a
// hint; the golden file holds them all.
func TestMalformed(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad files: %v", err)
	}
	var out strings.Builder
	for _, f := range files {
		_, err := importFiles(t, Options{EnvFiles: []string{}}, f)
		if err == nil {
			t.Errorf("%s: no error", f)
			continue
		}
		var me *model.Error
		var ml model.ErrorList
		switch {
		case errors.As(err, &ml):
			for _, e := range ml {
				checkPositioned(t, f, e)
			}
		case errors.As(err, &me):
			checkPositioned(t, f, me)
		default:
			t.Errorf("%s: %T is not a model error: %v", f, err, err)
		}
		out.WriteString(err.Error() + "\n")
	}
	golden(t, "testdata/bad.golden", out.String())
}

func checkPositioned(t *testing.T, file string, e *model.Error) {
	t.Helper()
	if e.Pos.File != file || e.Pos.Line == 0 || e.Pos.Col == 0 {
		t.Errorf("%s: error not positioned in the file: %v", file, e)
	}
	if e.Hint == "" {
		t.Errorf("%s: error without a hint: %v", file, e)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := importFiles(t, Options{}, "testdata/nowhere/compose.yaml")
	var me *model.Error
	if !errors.As(err, &me) || me.Pos.File != "testdata/nowhere/compose.yaml" {
		t.Fatalf("got %v, want an error naming the file", err)
	}
}

func TestBadEnvFile(t *testing.T) {
	dir := t.TempDir()
	compose := filepath.Join(dir, "compose.yaml")
	env := filepath.Join(dir, ".env")
	if err := os.WriteFile(compose, []byte("services:\n  web:\n    image: nginx:${TAG}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(env, []byte("TAG=1\nBAD KEY=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := importFiles(t, Options{}, compose)
	var me *model.Error
	if !errors.As(err, &me) || me.Pos.File != env || me.Pos.Line != 2 {
		t.Fatalf("got %v, want an error on %s:2", err, env)
	}
}
