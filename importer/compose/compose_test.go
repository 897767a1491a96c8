package compose

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/importer/importertest"
	"github.com/spofhq/spof/model"
)

// importFiles runs an import and Finish, as the CLI does.
func importFiles(t testing.TB, opts Options, paths ...string) (*importer.Result, error) {
	t.Helper()
	b := importer.NewBuilder("test")
	if err := Import(context.Background(), b, paths, opts); err != nil {
		return nil, err
	}
	return b.Finish(importer.Options{}), nil
}

func golden(t *testing.T, file, got string) { importertest.Golden(t, file, got) }

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
		opts  Options
	}{
		{"otel-demo", []string{"testdata/otel-demo/docker-compose.yml"}, Options{}},
		{"voting", []string{"testdata/voting/docker-compose.yml"}, Options{}},
		{"voting-seed", []string{"testdata/voting/docker-compose.yml"}, Options{Profiles: []string{"seed"}}},
		{"shop", []string{"testdata/shop/compose.yaml", "testdata/shop/compose.override.yaml"}, Options{}},
		{"shop-ops", []string{"testdata/shop/compose.yaml", "testdata/shop/compose.override.yaml"},
			Options{Profiles: []string{"ops"}, Environ: []string{"ORDERS_REPLICAS=4"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := importFiles(t, tc.opts, tc.paths...)
			if err != nil {
				t.Fatal(err)
			}
			checkModel(t, res.Model)
			golden(t, filepath.Join("testdata", tc.name+".golden"), importer.Summary(res))
		})
	}
}

// checkModel asserts what spof validate would refuse: invalid names, edges
// to nothing, flows through nothing, facts without a position.
func checkModel(t *testing.T, m *model.Model) {
	t.Helper()
	for _, c := range m.Components {
		if !model.ValidName(c.Name) {
			t.Errorf("invalid component name %q", c.Name)
		}
		if c.Pos.Line == 0 {
			t.Errorf("component %s has no line", c.Name)
		}
		for _, e := range c.DependsOn {
			if m.Component(e.To) == nil {
				t.Errorf("edge %s -> %s: no such component", e.From, e.To)
			}
			if e.Pos.Line == 0 {
				t.Errorf("edge %s -> %s has no line", e.From, e.To)
			}
		}
	}
	for _, f := range m.Flows {
		for _, s := range f.Steps {
			if m.Component(s) == nil {
				t.Errorf("flow %s: step %s: no such component", f.Name, s)
			}
		}
	}
}
