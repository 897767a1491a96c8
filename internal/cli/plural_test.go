package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spofhq/spof/internal/cli"
)

// pluralModels have exactly one of each thing (one component, flow,
// finding, fallback, replica, person, experiment, dependency ...), so that
// every count a report prints is 1 somewhere.
var pluralModels = map[string]string{
	"one.yaml": `version: 1
system: one
components:
  app: {kind: service}
flows:
  checkout: {criticality: critical, steps: [app]}
`,
	"fallback.yaml": `version: 1
system: fallback
zones:
  a: {}
  b: {}
components:
  app:
    kind: service
    replicas: 2
    zones: [a, b]
    depends_on: [{cache: {fallback_to: db}}]
  cache: {kind: cache, zones: [a], chaos: {proxy: {name: cache, listen: "127.0.0.1:1", upstream: "127.0.0.1:2"}}}
  db: {kind: database, replicas: 2, zones: [a, b], failover: automatic}
flows:
  checkout: {criticality: high, steps: [app]}
people:
  dana: {knows: [db]}
hazards:
  batch: {description: a nightly batch, breaks: [cache]}
`,
	"recovery.yaml": `version: 1
system: recovery
zones:
  a: {}
  b: {}
components:
  app: {kind: service, replicas: 2, zones: [a, b], depends_on: [{ci: {when: deploy}}]}
  ci: {kind: ci}
flows:
  checkout: {criticality: critical, steps: [app]}
`,
}

// pluralNoun matches a count of 1 followed by a plural: "1 fallbacks",
// "1 findings", "1 more flows", "all 1 replicas".
var pluralNoun = regexp.MustCompile(`(^|[^\d.,])1 (more |other )?(fallbacks|findings|flows|components|replicas|errors|experiments|dependencies|dependents|degradations|SPOFs|zones|regions|providers|hazards|people|persons|items|edges|samples|events|failures|paths|holders|instances|credentials|steps)\b`)

// TestPlurals renders every command and every format on models with one of
// each thing and on the examples, and fails on "1 <plural noun>".
func TestPlurals(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	for name, text := range pluralModels {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	models := []string{
		filepath.Join(root, "examples", "seed-audit", "spof.yaml"),
		filepath.Join(root, "examples", "seed-audit", "spof-fixed.yaml"),
		filepath.Join(root, "examples", "shop", "spof.yaml"),
	}
	for name := range pluralModels {
		models = append(models, filepath.Join(dir, name))
	}
	t.Chdir(dir)
	t.Setenv("NO_COLOR", "1")
	checked := 0
	for _, m := range models {
		var runs [][]string
		for _, f := range []string{"text", "json", "markdown", "sarif", "junit"} {
			runs = append(runs, []string{"check", m, "--format", f})
		}
		runs = append(runs, []string{"check", m, "--summary"})
		for _, f := range []string{"text", "json", "markdown"} {
			runs = append(runs, []string{"checklist", m, "--format", f})
			for _, c := range []string{"app", "cache", "ci", "db", "postgres", "session-redis", "recommendations"} {
				runs = append(runs, []string{"explain", m, c, "--format", f})
			}
			for _, ev := range []string{"component:app", "component:cache", "zone:a", "zone:us-east-1a", "region:us-east-1", "hazard:batch"} {
				runs = append(runs, []string{"whatif", m, "--fail", ev, "--format", f})
			}
		}
		for _, f := range []string{"dot", "mermaid", "json"} {
			runs = append(runs, []string{"graph", m, "--format", f})
		}
		runs = append(runs, []string{"validate", m}, []string{"chaos", "plan", m},
			[]string{"baseline", m, "-o", filepath.Join(dir, "b.json")},
			[]string{"check", m, "--baseline", filepath.Join(dir, "b.json")})
		for _, args := range runs {
			var out, errb strings.Builder
			code := cli.Main(args, &out, &errb)
			if code == cli.ExitBadInput {
				if !strings.Contains(errb.String(), "in the model") && !strings.Contains(errb.String(), "no component named") {
					t.Errorf("spof %s: exit 2: %s", strings.Join(args, " "), errb.String())
				}
				continue // a component or event this model does not have
			}
			checked++
			for _, line := range strings.Split(out.String()+errb.String(), "\n") {
				if pluralNoun.MatchString(line) {
					t.Errorf("spof %s: %q", strings.Join(args, " "), strings.TrimSpace(line))
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d runs rendered something: the test is broken", checked)
	}
}
