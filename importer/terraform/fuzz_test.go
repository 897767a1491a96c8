package terraform

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// FuzzImport feeds arbitrary .tf and JSON files to Import: it must never
// panic, and must either import or return positioned errors.
func FuzzImport(f *testing.F) {
	for _, p := range []string{"../../examples/import/terraform/main.tf", "testdata/local-module/main.tf", "testdata/gcp/main.tf",
		"testdata/azure/main.tf", "testdata/malformed/main.tf", "testdata/plan.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Ext(p) == ".json", data)
	}
	f.Fuzz(func(t *testing.T, isJSON bool, data []byte) {
		dir := t.TempDir()
		name := "main.tf"
		if isJSON {
			name = "plan.json"
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		b := importer.NewBuilder("fuzz")
		in := dir
		if isJSON {
			in = path
		}
		err := Import(b, []string{in}, Options{})
		if err == nil {
			b.Finish(importer.Options{})
			return
		}
		var l model.ErrorList
		var e *model.Error
		switch {
		case errors.As(err, &l):
			for _, e := range l {
				if e.Pos.File == "" {
					t.Errorf("error without a file: %v", e)
				}
			}
		case errors.As(err, &e):
			if e.Pos.File == "" {
				t.Errorf("error without a file: %v", e)
			}
		default:
			t.Errorf("unpositioned error: %v", err)
		}
	})
}
