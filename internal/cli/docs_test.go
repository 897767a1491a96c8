package cli_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sharedLink matches a path into a shared/ directory beside or inside the
// repository (../shared/DESIGN.md, shared/seeds), which a clone does not
// have.
var sharedLink = regexp.MustCompile("(^|[\\s(\\[`\"'<:])(\\.\\./)*shared/")

// TestDocsStandAlone fails when a document of the repository (Markdown, or
// the comments of an example model) points at shared/: the docs must stand
// alone in any clone.
func TestDocsStandAlone(t *testing.T) {
	root := repoRoot(t)
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".md" && ext != ".yaml" {
			return nil // documents, and the examples' comments
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for i, line := range strings.Split(string(data), "\n") {
			if sharedLink.MatchString(line) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d points at shared/, which a clone does not have: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 5 {
		t.Fatalf("only %d documents found: the walk is broken", checked)
	}
}
