package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/internal/atomicfile"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/report"
)

func newValidateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a model strictly: keys, types, names, zones, cycles",
		Long: `validate parses the model strictly and reports every problem as
file:line:col: path: message (hint), then exits 2. A valid model prints a
one-line summary and exits 0.`,
		Example: `  spof validate
  spof validate examples/seed-audit/spof.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := modelArg(args)
			m, err := e.loadModel(path)
			if err != nil {
				return err
			}
			edges := 0
			for _, c := range m.Components {
				edges += len(c.DependsOn)
			}
			fmt.Fprintf(e.stdout, "%s: ok: system %s, %s, %s, %s, %s, %s\n", path, m.System,
				countOf(len(m.Components), "component", "components"), countOf(edges, "dependency", "dependencies"),
				countOf(len(m.Flows), "flow", "flows"), countOf(len(m.People), "person", "people"), countOf(len(m.Hazards), "hazard", "hazards"))
			return nil
		},
	}
}

func newChecklistCmd(e *env) *cobra.Command {
	var o outputFlags
	var db string
	var from []string
	var imp importFlags
	c := &cobra.Command{
		Use:   "checklist [FILE]",
		Short: "The seven-item SPOF elimination checklist, with evidence",
		Long: `checklist evaluates the SPOF elimination checklist against the model:
  1 stateful components have a replica in another zone with automatic failover
  2 every external dependency has a circuit breaker and a fallback
  3 the dependency map is complete (unknown unless --from names the sources
    to compare the model with: manifests, compose, Terraform, traces)
  4 chaos experiments verified every fallback recently (needs chaos history)
  5 no single person holds critical credentials or knowledge
  6 a CI/CD failure does not block every team
  7 monitoring does not share fate with what it monitors
Each item is pass, fail or unknown, with the evidence (text and markdown
show 30 lines of it per item and count the rest; --format json lists every
one). It exits 1 if an item fails.`,
		Example: `  spof checklist
  spof checklist examples/seed-audit/spof-fixed.yaml --format markdown`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := report.CheckFormat(report.OutputChecklist, o.format); err != nil {
				return usageError("--format: %v", err)
			}
			m, path, drift, err := e.modelFrom(cmd, args, from, &imp, o.quiet)
			if err != nil {
				return err
			}
			verified, err := verifiedBy(cmd.Context(), db, path, m)
			if err != nil {
				return err
			}
			res, err := analysis.Check(m, analysis.Options{Verified: verified, Now: time.Now(), Drift: drift})
			if err != nil {
				return err
			}
			items := res.Checklist
			if err := o.emit(e, func(w io.Writer) error { return report.Checklist(w, items, o.format, o.color(e)) }); err != nil {
				return err
			}
			for _, it := range items {
				if it.Status == analysis.Fail {
					return &exitError{code: ExitFindings}
				}
			}
			return nil
		},
	}
	o.register(c, "text", "text, json, markdown")
	registerFrom(c, &from, &imp)
	registerDB(c, &db, "item 4: read the experiment runs from")
	return c
}

func newWhatIfCmd(e *env) *cobra.Command {
	var o outputFlags
	var fail []string
	var slow string
	c := &cobra.Command{
		Use:   "whatif [FILE] (--fail EVENT... | --slow COMPONENT:DELAY)",
		Short: "Every flow's state (up, degraded, down) with the given events failed, and why",
		Long: `whatif fails the given basic events together and prints the state of
every flow with the chain of reasons. Events:
  component:X     the component X (all its replicas)
  instance:X/i    replica i of X, counted from 0 (replica 0 is the primary)
  zone:Z  region:R  provider:P  hazard:H
  person:P        nobody can ask P: every flow keeps its state, and each
                  says what only P could do for it (the components only P
                  knows, the resources only P holds)
--slow COMPONENT:DELAY makes one component answer DELAY late instead:
each caller whose circuit breaker times out sooner falls back (or fails),
the others wait, and a flow whose probe allows less (max_latency) is
down. It exits 1 if a flow is down.`,
		Example: `  spof whatif --fail zone:us-east-1a
  spof whatif examples/seed-audit/spof-fixed.yaml --fail region:us-east-1 --fail component:recommendations
  spof whatif examples/shop/spof.yaml --slow payments:3s`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(fail) == 0 && slow == "" {
				return usageError("whatif: name at least one event with --fail (e.g. --fail zone:us-east-1a), or a slow component with --slow (e.g. --slow payments:3s)")
			}
			if len(fail) > 0 && slow != "" {
				return usageError("whatif: --fail and --slow: choose one")
			}
			if err := report.CheckFormat(report.OutputWhatIf, o.format); err != nil {
				return usageError("--format: %v", err)
			}
			m, err := e.loadModel(modelArg(args))
			if err != nil {
				return err
			}
			if slow != "" {
				name, delay, ok := strings.Cut(slow, ":")
				d, err := time.ParseDuration(delay)
				if !ok || err != nil || d <= 0 {
					return usageError("--slow %q: want COMPONENT:DELAY, e.g. payments:3s", slow)
				}
				outcomes, _, err := analysis.WhatIfSlow(m, name, d)
				if err != nil {
					return usageError("--slow: %v", err)
				}
				return emitWhatIf(e, &o, outcomes, []string{"slow:" + slow})
			}
			var events []analysis.Event
			for _, s := range fail {
				ev, err := analysis.ParseEvent(s)
				if err != nil {
					return usageError("--fail: %v", err)
				}
				if err := analysis.Resolve(m, ev); err != nil {
					return usageError("--fail: %v", err)
				}
				events = append(events, ev)
			}
			outcomes, err := analysis.WhatIf(m, events)
			if err != nil {
				return err
			}
			return emitWhatIf(e, &o, outcomes, fail)
		},
	}
	o.register(c, "text", "text, json, markdown")
	c.Flags().StringArrayVar(&fail, "fail", nil, "fail this `EVENT` (repeatable): component:X, instance:X/i, zone:Z, region:R, provider:P, hazard:H, person:P")
	c.Flags().StringVar(&slow, "slow", "", "make `COMPONENT:DELAY` answer late instead (e.g. payments:3s)")
	return c
}

// emitWhatIf prints the outcomes of the named events; exit 1 when a flow
// is down.
func emitWhatIf(e *env, o *outputFlags, outcomes []analysis.FlowOutcome, events []string) error {
	if err := o.emit(e, func(w io.Writer) error { return report.WhatIf(w, outcomes, events, o.format, o.color(e)) }); err != nil {
		return err
	}
	for _, oc := range outcomes {
		if oc.State == analysis.Down {
			return &exitError{code: ExitFindings}
		}
	}
	return nil
}

func newExplainCmd(e *env) *cobra.Command {
	var o outputFlags
	c := &cobra.Command{
		Use:   "explain [FILE] COMPONENT",
		Short: "Blast radius of a component: what needs it, which flows it stops or degrades",
		Long: `explain takes a component down (all its replicas) and shows every
component that needs it, directly or not, with the state each is left in
and through which edge; every flow's state and why; and what needs it only
to start, deploy or recover.`,
		Example: `  spof explain session-redis
  spof explain examples/seed-audit/spof.yaml postgres --format json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, name := defaultModel, args[0]
			if len(args) == 2 {
				path, name = args[0], args[1]
			}
			if err := report.CheckFormat(report.OutputExplain, o.format); err != nil {
				return usageError("--format: %v", err)
			}
			m, err := e.loadModel(path)
			if err != nil {
				return err
			}
			imp, err := analysis.Explain(m, name)
			if err != nil {
				return usageError("explain: %v", err)
			}
			return o.emit(e, func(w io.Writer) error { return report.Explain(w, imp, o.format, o.color(e)) })
		},
	}
	o.register(c, "text", "text, json, markdown")
	return c
}

func newGraphCmd(e *env) *cobra.Command {
	var o outputFlags
	var from []string
	var imp importFlags
	c := &cobra.Command{
		Use:   "graph [FILE]",
		Short: "The dependency graph with SPOFs marked, as Graphviz DOT, Mermaid or JSON",
		Example: `  spof graph | dot -Tsvg > spof.svg
  spof graph examples/seed-audit/spof.yaml --format mermaid`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := report.CheckFormat(report.OutputGraph, o.format); err != nil {
				return usageError("--format: %v", err)
			}
			m, _, _, err := e.modelFrom(cmd, args, from, &imp, o.quiet)
			if err != nil {
				return err
			}
			res, err := analysis.Check(m, analysis.Options{})
			if err != nil {
				return err
			}
			return o.emit(e, func(w io.Writer) error { return report.Graph(w, m, res, o.format) })
		},
	}
	o.register(c, "dot", "dot, mermaid, json")
	registerFrom(c, &from, &imp)
	return c
}

func newSchemaCmd(e *env) *cobra.Command {
	var o outputFlags
	c := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of spof.yaml, for editors",
		Example: `  spof schema -o spof.schema.json
  # then, in VS Code with the YAML extension, on the first line of spof.yaml:
  # yaml-language-server: $schema=./spof.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.emit(e, func(w io.Writer) error { _, err := w.Write(model.Schema()); return err })
		},
	}
	c.Flags().StringVarP(&o.output, "output", "o", "", "write the schema to `FILE` instead of standard output")
	return c
}

func newInitCmd(e *env) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "init [FILE]",
		Short: "Write a commented starter model (default ./spof.yaml)",
		Example: `  spof init && spof check
  spof init services/shop/spof.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := modelArg(args)
			if _, err := os.Stat(path); err == nil && !force {
				return usageError("%s already exists; use --force to overwrite it", path)
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return usageError("%v", err)
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return usageError("%v", err)
			}
			if err := atomicfile.WriteFile(path, model.Starter, 0o644); err != nil {
				return usageError("writing %s: %v", path, err)
			}
			fmt.Fprintf(e.stdout, "wrote %s: edit it, then run spof check %s\n", path, path)
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return c
}
