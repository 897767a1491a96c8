package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// FuzzImport: any bytes give either a model or positioned errors, never a
// panic.
func FuzzImport(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.y*ml")
	real, _ := filepath.Glob("testdata/real/*/*.y*ml")
	bad, _ := filepath.Glob("testdata/bad/*.yml")
	for _, p := range slices.Concat(seeds, real, bad) {
		data, err := os.ReadFile(p)
		if err == nil {
			f.Add(data)
		}
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "compose.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		b := importer.NewBuilder("fuzz")
		err := Import(context.Background(), b, []string{path}, Options{EnvFiles: []string{}})
		if err == nil {
			b.Finish(importer.Options{})
			return
		}
		var me *model.Error
		var ml model.ErrorList
		switch {
		case errors.As(err, &ml):
			for _, e := range ml {
				if e.Pos.File == "" || e.Pos.Line == 0 {
					t.Fatalf("unpositioned error: %v", e)
				}
			}
		case errors.As(err, &me):
			if me.Pos.File == "" || me.Pos.Line == 0 {
				t.Fatalf("unpositioned error: %v", me)
			}
		default:
			t.Fatalf("%T is not a model error: %v", err, err)
		}
	})
}
