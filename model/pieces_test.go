package model_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/spofhq/spof/internal/gen"
	"github.com/spofhq/spof/internal/yamltree"
	"github.com/spofhq/spof/model"
)

// inPieces makes Parse load every model in pieces of a few bytes, on two
// goroutines at least, for the duration of a test.
func inPieces(t *testing.T) {
	t.Cleanup(yamltree.SmallPieces())
	t.Cleanup(model.SetParallelComponents(1))
	if runtime.GOMAXPROCS(0) < 2 {
		t.Cleanup(func(n int) func() { return func() { runtime.GOMAXPROCS(n) } }(runtime.GOMAXPROCS(2)))
	}
}

// parseResult is what Parse returns, comparable: the model as JSON, or the
// error's text.
func parseResult(t *testing.T, file string, data []byte) string {
	t.Helper()
	m, err := model.Parse(file, data)
	if err != nil {
		return "error: " + err.Error()
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestPiecesSameAsWhole: loading a model in pieces gives the model, or the
// errors, that loading it whole gives, on every test model, valid or not,
// the examples, generated estates and models whose pieces need each
// other's names.
func TestPiecesSameAsWhole(t *testing.T) {
	inputs := map[string][]byte{}
	for _, glob := range []string{"testdata/*/*.yaml", "../examples/*/*.yaml"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			inputs[f] = data
		}
	}
	for _, o := range []gen.Options{{Components: 300, Seed: 2}, {Components: 200, Zones: 3, Flows: 5, EdgesPerComponent: 6, Seed: 4}} {
		m, err := gen.Generate(o)
		if err != nil {
			t.Fatal(err)
		}
		if inputs[fmt.Sprintf("gen %+v", o)], err = gen.Encode(m); err != nil {
			t.Fatal(err)
		}
	}
	for i, src := range piecesCases {
		inputs[fmt.Sprintf("case %d", i)] = []byte(src)
	}
	want := map[string]string{}
	for name, data := range inputs {
		want[name] = parseResult(t, name, data)
	}
	inPieces(t)
	pieces := 0
	for name, data := range inputs {
		if got := parseResult(t, name, data); got != want[name] {
			t.Errorf("%s: in pieces:\n%s\nwhole:\n%s", name, got, want[name])
		}
		if _, ok := model.ParsePieces(name, data); ok {
			pieces++
		}
	}
	if pieces < 10 {
		t.Errorf("only %d models were loaded in pieces", pieces)
	}
}

// piecesCases are models whose pieces depend on each other.
var piecesCases = []string{
	// forward and backward references, cycles and duplicates across pieces
	"version: 1\nsystem: s\ncomponents:\n  a: {kind: service, depends_on: [b]}\n  b: {kind: database, zones: [z1]}\nzones:\n  z1: {region: r}\nflows:\n  f: {steps: [a]}\n",
	"version: 1\nsystem: s\ncomponents:\n  a: {kind: service, depends_on: [c]}\n  b: {kind: database}\nflows:\n  f: {steps: [a]}\n",
	"version: 1\nsystem: s\ncomponents:\n  a: {kind: service, depends_on: [b]}\n  b: {kind: service, depends_on: [a]}\nflows:\n  f: {steps: [a]}\n",
	"version: 1\nsystem: s\ncomponents:\n  a: {kind: service}\n  b: {kind: service}\n  a: {kind: database}\nflows:\n  f: {steps: [a]}\n",
	"version: 1\nsystem: s\ncomponents:\n  a: {kind: service, zones: [z9]}\n  b: {kind: service, depends_on: [{a: {flows: [nope]}}]}\nflows:\n  f: {steps: [a]}\n",
	"version: 1\nsystem: s\ncomponents:\n  a: {kind: service, depends_on: [{b: {fallback_to: c}}]}\n  b: {kind: service}\n  c: {kind: service, depends_on: [a]}\nflows:\n  f: {steps: [a]}\n",
	// a merge key inside the components, an invalid name, a bad value
	"version: 1\nsystem: s\ncomponents:\n  a: {kind: service}\n  <<: {b: {kind: service}}\n  c: {kind: service}\nflows:\n  f: {steps: [a]}\n",
	"version: 1\nsystem: s\ncomponents:\n  a: {kind: service}\n  B c: {kind: service}\nflows:\n  f: {steps: [a]}\n",
	"version: 1\nsystem: s\ncomponents:\n  a: {kind: service}\n  b: {kind: service, replicas: -1}\nflows:\n  f: {steps: [a]}\n",
	// the rest of the model wrong, the components right
	"version: 2\nsystem: s\ncomponents:\n  a: {kind: service}\n  b: {kind: service}\nflows:\n  f: {steps: [a]}\n",
	"version: 1\nsystem: s\ncomponents:\n  a: {kind: service}\n  b: {kind: service}\nflows:\n  f: {steps: [x]}\n",
}
