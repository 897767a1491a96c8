package kubernetes

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// FuzzImport: on any input, the import never panics, and either fails
// with positioned errors or yields a model the analysis accepts.
func FuzzImport(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*")
	more, _ := filepath.Glob("testdata/*/*/*")
	for _, s := range append(seeds, more...) {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := importer.NewBuilder("fuzz")
		err := importInputs(b, []input{{file: "in.yaml", data: data}}, Options{})
		if err != nil {
			var list model.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a model.ErrorList: %v", err)
			}
			for _, e := range list {
				if e.Pos.File != "in.yaml" {
					t.Fatalf("error without a position: %v", e)
				}
			}
			return
		}
		res := b.Finish(importer.Options{})
		for _, c := range res.Model.Components {
			if !model.ValidName(c.Name) || c.Replicas < 1 || c.MinHealthy < 1 || c.MinHealthy > c.Replicas {
				t.Fatalf("invalid component %+v", c)
			}
		}
		if _, err := analysis.Check(res.Model, analysis.Options{}); err != nil {
			t.Fatalf("analysis refuses the imported model: %v", err)
		}
	})
}
