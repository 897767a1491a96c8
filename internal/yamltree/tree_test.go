package yamltree

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// v3Document parses data with yaml.v3 as the model loader did: one
// document, or an error.
func v3Document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, err
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		return nil, fmt.Errorf("second document: %v", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// sameTree reports the first difference between a yaml.v3 tree and ours.
func sameTree(want *yaml.Node, got *Node, path string, seen map[*yaml.Node]bool) error {
	switch {
	case want == nil && got == nil:
		return nil
	case want == nil || got == nil:
		return fmt.Errorf("%s: want %v, got %v", path, want, got)
	}
	if uint8(want.Kind) != uint8(got.Kind) || uint8(want.Style) != uint8(got.Style) ||
		want.Tag != got.Tag || want.Value != got.Value ||
		want.Line != int(got.Line) || want.Column != int(got.Column) ||
		want.ShortTag() != got.ShortTag() || len(want.Content) != len(got.Content) {
		return fmt.Errorf("%s: want %d/%d %q %q at %d:%d (%d children), got %d/%d %q %q at %d:%d (%d children)", path,
			want.Kind, want.Style, want.Tag, want.Value, want.Line, want.Column, len(want.Content),
			got.Kind, got.Style, got.Tag, got.Value, got.Line, got.Column, len(got.Content))
	}
	if want.Kind == yaml.ScalarNode && want.ShortTag() == "!!int" {
		var i int
		err := want.Decode(&i)
		if j, ok := got.Int(); ok != (err == nil) || i != j {
			return fmt.Errorf("%s: int %q: want %d (%v), got %d (%v)", path, want.Value, i, err, j, ok)
		}
	}
	if want.Kind == yaml.AliasNode {
		if (want.Alias == nil) != (got.Alias == nil) {
			return fmt.Errorf("%s: alias target differs", path)
		}
		if want.Alias != nil && !seen[want.Alias] {
			seen[want.Alias] = true
			if err := sameTree(want.Alias, got.Alias, path+"*", seen); err != nil {
				return err
			}
		}
	}
	for i := range want.Content {
		if err := sameTree(want.Content[i], got.Content[i], fmt.Sprintf("%s/%d", path, i), seen); err != nil {
			return err
		}
	}
	return nil
}

// checkSame checks that Parse accepts what yaml.v3 accepts, with the same
// tree.
func checkSame(t *testing.T, name string, data []byte) {
	t.Helper()
	want, wantErr := v3Document(data)
	got, err := Parse(data)
	switch {
	case wantErr != nil && err == nil:
		t.Errorf("%s: yaml.v3 rejects it (%v), Parse accepts it", name, wantErr)
	case wantErr == nil && err != nil && aliasRejects[name]:
		// yaml.v3 builds the tree; the loader then refuses it.
	case wantErr == nil && err != nil:
		t.Errorf("%s: yaml.v3 accepts it, Parse rejects it: %v", name, err)
	case err == nil:
		if err := sameTree(want, got, name, map[*yaml.Node]bool{}); err != nil {
			t.Error(err)
		}
	}
}

func TestSameAsYAMLv3(t *testing.T) {
	var files []string
	for _, glob := range []string{"../../model/testdata/*/*.yaml", "../../examples/*/*.yaml", "../../examples/*.yaml", "../cli/testdata/script/*.txtar"} {
		f, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f...)
	}
	if len(files) < 50 {
		t.Fatalf("found %d files", len(files))
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, file, data)
	}
	for i, src := range sameCases {
		checkSame(t, fmt.Sprintf("case %d", i), []byte(src))
	}
}

// aliasRejects are the documents yaml.v3 parses but whose aliases the
// model's loader refuses to follow (a cycle, an expansion far beyond the
// document's size), as Parse does.
var aliasRejects = map[string]bool{
	"../../model/testdata/invalid/alias-bomb.yaml":  true,
	"../../model/testdata/invalid/alias-cycle.yaml": true,
	"case 7": true,
	"case 8": true,
}

// sameCases are documents at the edges: tags, styles, anchors, numbers,
// errors yaml.v3 raises while building its tree.
var sameCases = []string{
	"",
	"# only a comment\n",
	"---\n",
	"~",
	"a: 1\n---\nb: 2\n",
	"a: 1\n---\n[",
	"a: *nope\n",
	"a: &x [1, *x]\n",
	"a: &x {b: *x}\n",
	"a: &x 1\nb: *x\nc: &x two\nd: *x\n",
	"base: &b {kind: service}\napp:\n  <<: *b\n  replicas: 2\n",
	"i: [1, -2, 0x1F, 0o17, 017, 1_000, 9223372036854775807, 9223372036854775808, 18446744073709551616, 1e3, 3.0, .inf, !!int '7', !!int x, !!str 8, '9']\n",
	"b: [yes, no, true, False, ~, null, Null, '', \"\", !custom x, !!binary aGk=, 2001-12-14]\n",
	"s: |\n  line\n  two\nf: >\n  folded\n  text\nq: \"a\\tb\"\n",
	"? [complex, key]\n: value\n",
	"a:\n\t- tab\n",
	"a: b: c\n",
	"\xff\xfe",
	"a: \"\x00\"\n",
	"x: \xc3\x28\n",
	"%YAML 1.1\n---\na: 1\n",
	"- a\n- b # comment\n# foot\n",
	"k: # comment\n  - 1\n  # tail\n",
}

func TestAliasLimits(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for c := 'b'; c <= 'j'; c++ {
		laughs += fmt.Sprintf("%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", c, c, c-1, c-1, c-1, c-1, c-1, c-1, c-1, c-1, c-1, c-1)
	}
	for _, src := range []string{laughs, "a: &x [1, *x]\n", "a: &x {b: [c, *x]}\n"} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("Parse(%q) accepted it", src)
		}
	}
	if _, err := Parse([]byte("a: &x [1, 2]\nb: [*x, *x, *x]\n")); err != nil {
		t.Errorf("a few aliases: %v", err)
	}
}

func TestReaderError(t *testing.T) {
	for _, tc := range []struct {
		src     string
		problem string
		offset  int
	}{
		{"a: b\nc: d\xffe\n", "invalid leading UTF-8 octet", 9},
		{"a: b\nc: \"caf\xc3\"\n", "invalid trailing UTF-8 octet", 12},
		{"k: \xe2\x82x\n", "invalid trailing UTF-8 octet", 3},
		{"a: b\n\nc: [x, \x00]\n", "control characters are not allowed", 13},
		{"a: é\x7f\n", "control characters are not allowed", 5},
		{"a: b\xe2\x82", "incomplete UTF-8 octet sequence", 4},
	} {
		_, err := Parse([]byte(tc.src))
		var re *ReaderError
		if !errors.As(err, &re) || !errors.Is(err, ErrRejected) {
			t.Errorf("Parse(%q) = %v, want a ReaderError", tc.src, err)
			continue
		}
		if re.Problem != tc.problem || re.Offset != tc.offset {
			t.Errorf("Parse(%q): %q at %d, want %q at %d", tc.src, re.Problem, re.Offset, tc.problem, tc.offset)
		}
	}
}

// FuzzSameAsYAMLv3 checks that Parse never panics, and accepts what yaml.v3
// accepts with the same tree, aliases it refuses to follow aside.
func FuzzSameAsYAMLv3(f *testing.F) {
	for _, src := range sameCases {
		f.Add([]byte(src))
	}
	files, _ := filepath.Glob("../../model/testdata/*/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := v3DocumentSafe(data)
		got, err := Parse(data)
		switch {
		case wantErr != nil && err == nil:
			t.Fatalf("yaml.v3 rejects it (%v), Parse accepts it", wantErr)
		case wantErr == nil && err != nil:
			if strings.Contains(err.Error(), "alias") {
				return
			}
			t.Fatalf("yaml.v3 accepts it, Parse rejects it: %v", err)
		case err == nil:
			if err := sameTree(want, got, "", map[*yaml.Node]bool{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// v3DocumentSafe is v3Document, with yaml.v3's panics as errors.
func v3DocumentSafe(data []byte) (n *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return v3Document(data)
}
