package yamltree

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// equalTrees reports the first difference between two trees of ours.
func equalTrees(want, got *Node, path string) error {
	switch {
	case want == nil && got == nil:
		return nil
	case want == nil || got == nil:
		return fmt.Errorf("%s: want %v, got %v", path, want, got)
	}
	if want.Kind != got.Kind || want.Style != got.Style || want.Tag != got.Tag || want.Value != got.Value ||
		want.Line != got.Line || want.Column != got.Column || len(want.Content) != len(got.Content) ||
		(want.Alias == nil) != (got.Alias == nil) {
		return fmt.Errorf("%s: want %d/%d %q %q at %d:%d (%d children), got %d/%d %q %q at %d:%d (%d children)", path,
			want.Kind, want.Style, want.Tag, want.Value, want.Line, want.Column, len(want.Content),
			got.Kind, got.Style, got.Tag, got.Value, got.Line, got.Column, len(got.Content))
	}
	for i := range want.Content {
		if err := equalTrees(want.Content[i], got.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// small makes ParseParallel cut inputs of a few bytes, for the duration of
// a test.
func small(t testing.TB) {
	t.Cleanup(SmallPieces())
}

// checkParallel checks that ParseParallel returns what Parse returns, and
// reports whether the input was parsed in pieces.
func checkParallel(t testing.TB, name string, data []byte) (inPieces bool) {
	t.Helper()
	want, wantErr := Parse(data)
	got, err := ParseParallel(data, 3)
	switch {
	case (wantErr == nil) != (err == nil):
		t.Fatalf("%s: Parse: %v, ParseParallel: %v", name, wantErr, err)
	case err == nil:
		if err := equalTrees(want, got, name); err != nil {
			t.Fatal(err)
		}
	}
	_, _, pieces, ok := Split(data, 12)
	if !ok {
		return false
	}
	for _, p := range pieces {
		if _, ok := p.Parse(); !ok {
			return false
		}
	}
	return true
}

func TestParallelSameAsParse(t *testing.T) {
	small(t)
	var files []string
	for _, glob := range []string{"../../model/testdata/*/*.yaml", "../../examples/*/*.yaml", "../../examples/*.yaml"} {
		f, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f...)
	}
	cut := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if checkParallel(t, file, data) {
			cut++
		}
	}
	if cut < len(files)/2 {
		t.Errorf("only %d of %d files were parsed in pieces", cut, len(files))
	}
	for i, c := range parallelCases {
		if got := checkParallel(t, fmt.Sprintf("case %d", i), []byte(c.src)); got != c.pieces {
			t.Errorf("case %d: parsed in pieces: %v, want %v\n%s", i, got, c.pieces, c.src)
		}
	}
}

// parallelCases are inputs at the edges of cutting: what may be cut, and
// what must be parsed whole because a piece alone would not mean the same.
var parallelCases = []struct {
	src    string
	pieces bool
}{
	{"version: 1\ncomponents:\n  a: {kind: service}\n  b: {kind: service}\n  c:\n    kind: database\nflows:\n  f: {steps: [a]}\n", true},
	{"---\ncomponents:\n  a: 1\n  b: 2\n", true},
	{"components:\n    a: 1\n    b: 2\n", true},
	{"components: # the estate\n  a: 1\n\n  # c is next\n  b: 2\n# done\nflows: {}\n", true},
	{"components:\r\n  a: 1\r\n  b: 2\r\n", true},
	// quoted scalars and flow collections that go on at a key's
	// indentation: the piece before the cut fails, so the input is
	// parsed whole.
	{"components:\n  a: \"x\n  b: y\"\n  c: 1\n", false},
	{"components:\n  a: 'x\n  b: y'\n  c: 1\n", false},
	{"components:\n  a: [x,\n  b, y]\n  c: 1\n", false},
	{"components:\n  a: {x: 1,\n  b: y}\n  c: 1\n", false},
	{"components:\n  a: \"x\nb: y\"\n  c: 1\n", false},
	// block scalars end at the key's indentation
	{"components:\n  a: |\n    text\n  b: 1\n", true},
	{"components:\n  a: |\n  b: 1\n", true},
	{"description: |\n  components:\n  a: 1\ncomponents:\n  x: 1\n  y: 2\n", true},
	// anchors and aliases are not cut
	{"components:\n  a: &x {kind: service}\n  b: *x\n", false},
	{"base: &x 1\ncomponents:\n  a: 1\n  b: *x\n", false},
	// directives, several documents, other line breaks
	{"%YAML 1.1\n---\ncomponents:\n  a: 1\n  b: 2\n", false},
	{"components:\n  a: 1\n  b: 2\n---\nx: 1\n", false},
	{"components:\n  a: 1\n  b: 2\n...\n", false},
	{"components:\r  a: 1\r  b: 2\r", false},
	{"components:\n  a: 1\n  b: 2\u0085c: 3\n", false},
	// not the shape: a list, a flow mapping, a tagged or quoted key
	{"components:\n- a\n- b\n", false},
	{"components: {a: 1,\n  b: 2}\n", false},
	{"components: !!map\n  a: 1\n  b: 2\n", false},
	{"\"components\":\n  a: 1\n  b: 2\n", false},
	{"components:\n  a: 1\n\tb: 2\n", false},
	// errors stay errors
	{"components:\n  a: 1\n  b: 2\n  a: [\n", false},
	{"components:\n  a: 1\n  b: c: d\n", false},
	{"components:\n  a: 1\n  b:\n  - x\n  c: 2\n", true},
	{"components:\n  a: 1\n  b: 2\n - x\n", false},
	{"components:\n  a: 1\n  b: \xff\n", false},
	{"components:\n  a: 1\n  b: 2\nc:\n  - d\n  - e\n", true},
	{"components:\n  a: 1\n  b: 2\n- x\n", false},
}

// FuzzParallelSameAsParse checks that ParseParallel never returns what
// Parse would not, on inputs cut into pieces of a few bytes.
func FuzzParallelSameAsParse(f *testing.F) {
	for _, c := range parallelCases {
		f.Add([]byte(c.src))
	}
	files, _ := filepath.Glob("../../examples/*/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil && !strings.Contains(file, "big") {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		small(t)
		checkParallel(t, "input", data)
	})
}
