package backstage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/importer/importertest"
	"github.com/spofhq/spof/model"
)

func importCatalog(t *testing.T, paths ...string) *importer.Result {
	t.Helper()
	b := importer.NewBuilder("shop")
	if err := Import(b, paths, Options{}); err != nil {
		t.Fatalf("Import(%v): %v", paths, err)
	}
	return b.Finish(importer.Options{})
}

func TestGolden(t *testing.T) {
	importertest.Golden(t, filepath.Join("testdata", "shop.golden"), importer.Summary(importCatalog(t, "testdata/shop/catalog-info.yaml")))
}

func TestShop(t *testing.T) {
	m := importCatalog(t, "testdata/shop/catalog-info.yaml").Model
	edges := map[string]string{}
	for _, c := range m.Components {
		for _, e := range c.DependsOn {
			edges[e.From+" -> "+e.To] = e.Fallback
		}
	}
	want := map[string]string{
		"frontend -> cart":           "",
		"frontend -> checkout":       "",
		"frontend -> ad":             "optional (spof.dev/optional)",
		"cart -> cart-redis":         "",
		"checkout -> orders-db":      "",
		"checkout -> orders-topic":   "",
		"checkout -> receipts":       "",
		"checkout -> cart":           "",
		"checkout -> payment":        "accept the order and charge it later",
		"accounting -> orders-topic": "",
	}
	if d := cmp.Diff(want, edges); d != "" {
		t.Errorf("edges (-want +got):\n%s", d)
	}
	kinds := map[string]model.Kind{"cart-redis": model.KindCache, "orders-db": model.KindDatabase,
		"orders-topic": model.KindQueue, "receipts": model.KindStorage, "frontend": model.KindService}
	for name, kind := range kinds {
		if c := m.Component(name); c == nil || c.Kind != kind {
			t.Errorf("%s: %+v, want kind %s", name, c, kind)
		}
	}
	if c := m.Component("receipts"); c.Failover != model.FailoverAutomatic || c.Replicas < 2 {
		t.Errorf("the S3 bucket is not taken as managed: %+v", c)
	}
	if m.Component("shop-sdk") != nil {
		t.Error("a library became a component")
	}
	people := map[string][]string{}
	for _, p := range m.People {
		people[p.Name] = p.Knows
	}
	wantPeople := map[string][]string{
		"carol": {"frontend", "ad"},
		"dave":  {"frontend", "ad"},
		"erin":  {"checkout", "orders-db", "orders-topic", "receipts", "accounting"},
		"bob":   {"checkout", "orders-db", "orders-topic", "receipts", "accounting", "payment"},
	}
	if d := cmp.Diff(wantPeople, people); d != "" {
		t.Errorf("people (-want +got):\n%s", d)
	}
	if c := m.Component("checkout"); c.Pos.File != "testdata/shop/components/checkout.yaml" || c.Pos.Line != 1 {
		t.Errorf("checkout at %v", c.Pos)
	}
}

func TestMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		line, col  int
		msg        string
	}{
		{"yaml", "kind: Component\nmetadata:\n  name: a\n spec: [\n", 3, 1, "invalid YAML"},
		{"no name", "kind: Component\nmetadata:\n  title: A\nspec: {}\n", 3, 3, "missing metadata.name"},
		{"no kind", "apiVersion: backstage.io/v1alpha1\nmetadata: {name: a}\n", 1, 1, "missing kind"},
		{"dependsOn not a list", "kind: Component\nmetadata: {name: a}\nspec:\n  dependsOn: resource:db\n", 4, 14, "must be a list"},
		{"bad annotation", "kind: Component\nmetadata:\n  name: a\n  annotations:\n    spof.dev/criticality: urgent\nspec: {type: service}\n", 1, 1, "invalid value"},
		{"unknown annotation", "kind: Component\nmetadata:\n  name: a\n  annotations:\n    spof.dev/optinal: b\nspec: {type: service}\n", 1, 1, "unknown annotation"},
		{"location missing file", "kind: Location\nmetadata: {name: l}\nspec:\n  targets: [./nope.yaml]\n", 4, 13, "no file"},
		{"location outside", "kind: Location\nmetadata: {name: l}\nspec:\n  target: ../../etc/*.yaml\n", 4, 11, "outside the catalog's directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "catalog-info.yaml")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			err := Import(importer.NewBuilder("s"), []string{path}, Options{})
			var list model.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v (%T), want a model.ErrorList", err, err)
			}
			e := list[0]
			if e.Pos.File != path || e.Pos.Line != tc.line || e.Pos.Col != tc.col || !strings.Contains(e.Msg, tc.msg) || e.Hint == "" {
				t.Errorf("error %q at %d:%d (hint %q), want %q at %d:%d", e.Msg, e.Pos.Line, e.Pos.Col, e.Hint, tc.msg, tc.line, tc.col)
			}
		})
	}
}

// FuzzImport: any file gives a result or positioned errors, never a
// panic.
func FuzzImport(f *testing.F) {
	for _, name := range []string{"catalog-info.yaml", "org.yaml", "components/checkout.yaml", "components/frontend.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata/shop", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// One file, written again for each input: a t.TempDir per input
	// stalls the fuzzing workers.
	path := filepath.Join(f.TempDir(), "catalog-info.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		b := importer.NewBuilder("s")
		err := Import(b, []string{path}, Options{})
		if err != nil {
			var list model.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v: want a model.ErrorList", err)
			}
			for _, e := range list {
				if e.Pos.Line < 1 {
					t.Fatalf("error without a line: %v", e)
				}
			}
			return
		}
		b.Finish(importer.Options{})
	})
}
