package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/internal/cli"
	"github.com/spofhq/spof/model"
)

// TestImportExamples imports each bundled example (examples/import) and
// compares the model with its golden file in testdata/import (go test
// -update rewrites them): what a user gets from spof import, reviewed as
// a whole. Each must load, and the analysis must accept it.
func TestImportExamples(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"kubernetes", []string{"kubernetes", "examples/import/kubernetes", "--system", "boutique"}},
		{"compose", []string{"compose", "examples/import/compose/docker-compose.yml", "--system", "otel-demo"}},
		{"traces", []string{"traces", "examples/import/traces/spans.jsonl", "--system", "otel-demo"}},
		{"terraform", []string{"terraform", "examples/import/terraform", "--system", "shop-infra"}},
		{"backstage", []string{"backstage", "examples/import/backstage", "--system", "shop-catalog"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(root)
			var out, errb strings.Builder
			if code := cli.Main(append([]string{"import"}, tc.args...), &out, &errb); code != cli.ExitOK {
				t.Fatalf("spof import %s: exit %d\n%s", strings.Join(tc.args, " "), code, errb.String())
			}
			if _, err := model.Parse("imported.yaml", []byte(out.String())); err != nil {
				t.Fatalf("the imported model does not load: %v", err)
			}
			golden := filepath.Join(root, "internal", "cli", "testdata", "import", tc.name+".yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), out.String()); d != "" {
				t.Errorf("%s differs (-want +got); go test -update rewrites it:\n%s", golden, d)
			}
		})
	}
}

// TestConcurrentMerges: two spof import --merge into one model at once
// both land: each waits for the other instead of renaming its result over
// the other's.
func TestConcurrentMerges(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "spof.yaml")
	for round := range 4 {
		os.WriteFile(model, []byte("version: 1\nsystem: shop\ncomponents:\n  app: {kind: service}\n"), 0o644)
		var wg sync.WaitGroup
		for _, name := range []string{"extra-a", "extra-b", "extra-c"} {
			compose := filepath.Join(dir, name+".yml")
			os.WriteFile(compose, []byte("services:\n  "+name+":\n    image: redis:7\n"), 0o644)
			wg.Add(1)
			go func() {
				defer wg.Done()
				var out, errb strings.Builder
				if code := cli.Main([]string{"import", "compose", compose, "--merge", model, "-q"}, &out, &errb); code != cli.ExitOK {
					t.Errorf("round %d: merging %s: exit %d\n%s", round, name, code, errb.String())
				}
			}()
		}
		wg.Wait()
		data, _ := os.ReadFile(model)
		for _, name := range []string{"extra-a", "extra-b", "extra-c"} {
			if !strings.Contains(string(data), name+":") {
				t.Fatalf("round %d: %s was lost:\n%s", round, name, data)
			}
		}
	}
}
