package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/importer/backstage"
	"github.com/spofhq/spof/importer/compose"
	"github.com/spofhq/spof/importer/kubernetes"
	"github.com/spofhq/spof/importer/terraform"
	"github.com/spofhq/spof/importer/traces"
	"github.com/spofhq/spof/internal/atomicfile"
	"github.com/spofhq/spof/model"
)

// importFlags are the flags of spof import, and of --from on the commands
// that analyse.
type importFlags struct {
	system          string
	assumeUnreached string
	profiles        []string
	envFiles        []string
	varFiles        []string
}

func (f *importFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.system, "system", "", "the system's `name` (default: from the first path)")
	c.Flags().StringVar(&f.assumeUnreached, "assume-unreached", "needed",
		"what a workload no entry point reaches is: needed (by every user-facing flow) or unused (on no flow)")
	c.Flags().StringSliceVar(&f.profiles, "profile", nil, "compose: enable these `profiles` (repeat or separate with commas)")
	c.Flags().StringSliceVar(&f.envFiles, "env-file", nil, "compose: read variables from these `files` instead of the .env next to the first file")
	c.Flags().StringSliceVar(&f.varFiles, "var-file", nil, "terraform: read variables from these .tfvars `files` too")
}

// An importFormat is one source format spof imports.
type importFormat struct {
	name string
	desc string
	run  func(ctx context.Context, e *env, b *importer.Builder, paths []string, f *importFlags) error
}

// importFormats are the formats of spof import and --from, in help order.
var importFormats = []importFormat{
	{name: "kubernetes", desc: "manifests: YAML or JSON files and directories, helm template or kustomize output (- reads standard input)",
		run: func(ctx context.Context, e *env, b *importer.Builder, paths []string, f *importFlags) error {
			return kubernetes.Import(b, paths, kubernetes.Options{})
		}},
	{name: "compose", desc: "docker compose files, merged in the order given as docker compose -f does (.env, profiles, extends, include)",
		run: func(ctx context.Context, e *env, b *importer.Builder, paths []string, f *importFlags) error {
			return compose.Import(ctx, b, paths, compose.Options{Profiles: f.profiles, EnvFiles: f.envFiles})
		}},
	{name: "terraform", desc: "a root module's directory or .tf file, or terraform show -json of a plan or state",
		run: func(ctx context.Context, e *env, b *importer.Builder, paths []string, f *importFlags) error {
			return terraform.Import(b, paths, terraform.Options{VarFiles: f.varFiles})
		}},
	{name: "traces", desc: "OTLP JSON (lines or a document), Jaeger traces or /api/dependencies, Zipkin v2 spans: files or directories, streamed",
		run: func(ctx context.Context, e *env, b *importer.Builder, paths []string, f *importFlags) error {
			return traces.Import(ctx, b, paths, traces.Options{})
		}},
	{name: "backstage", desc: "catalog-info.yaml files or directories (Locations followed inside them)",
		run: func(ctx context.Context, e *env, b *importer.Builder, paths []string, f *importFlags) error {
			return backstage.Import(b, paths, backstage.Options{})
		}},
}

// formatsHelp lists the formats with what each reads, for --help.
func formatsHelp() string {
	var b strings.Builder
	for _, f := range importFormats {
		fmt.Fprintf(&b, "  %-11s %s\n", f.name, f.desc)
	}
	return strings.TrimRight(b.String(), "\n")
}

func importFormatNames() []string {
	var names []string
	for _, f := range importFormats {
		names = append(names, f.name)
	}
	return names
}

func findImportFormat(name string) (*importFormat, error) {
	for i := range importFormats {
		if importFormats[i].name == name {
			return &importFormats[i], nil
		}
	}
	hint := "formats: " + strings.Join(importFormatNames(), ", ")
	if s := model.Closest(name, importFormatNames()); s != "" {
		hint = fmt.Sprintf("did you mean %q?", s)
	}
	return nil, usageError("unknown import format %q (%s)", name, hint)
}

type importCmdFlags struct {
	importFlags
	output  string
	merge   string
	quiet   bool
	verbose bool
}

func newImportCmd(e *env) *cobra.Command {
	var f importCmdFlags
	c := &cobra.Command{
		Use:   "import FORMAT PATH...",
		Short: "Write a model from what the team already has: Kubernetes, compose, Terraform, traces, Backstage",
		Long: `import reads manifests, compose files, Terraform, traces or a Backstage
catalog and writes a model that spof validate accepts, with no hand-written
model at all. Every component, dependency and flow carries its source
(source: file:line), and reports point there: a SARIF result for a
single-replica Deployment lands on that Deployment's line.

Flows are derived from entry points (LoadBalancer and NodePort Services,
Ingress backends, published ports, internet-facing load balancers):
user-facing ones are critical, telemetry and admin UIs low; background
workers get flows of their own; a workload no entry point reaches has no
known caller and is assumed needed (--assume-unreached unused drops it).
What the files cannot say goes in spof.dev/ annotations or labels next to
the source (docs/import.md), or in the model itself:

--merge FILE merges the import into an existing model without dropping
anything it says: the file's facts win, new components, dependencies,
flows and keys are added, differences are reported with both positions,
and the file is edited in place (comments and layout kept). It writes to
-o when given, else back to FILE.

Notes (no zone spread, dangling references, unknown resources ...) go to
standard error. Malformed input exits 2 with file:line:col, and leaves no
output file behind.

Formats:
` + formatsHelp(),
		Example: `  spof import kubernetes examples/import/kubernetes -o shop.yaml
  helm template shop ./chart | spof import kubernetes - -o shop.yaml
  spof import compose examples/import/compose/docker-compose.yml -o shop.yaml
  spof import compose docker-compose.yml docker-compose.prod.yml -o shop.yaml   # live: merged as docker compose -f does
  spof import terraform examples/import/terraform -o infra.yaml
  terraform show -json plan.out > plan.json && spof import terraform plan.json -o infra.yaml
  spof import traces examples/import/traces/spans.jsonl --merge shop.yaml       # add the calls traces show
  spof import backstage examples/import/backstage -o catalog.yaml
  spof check --from compose:examples/import/compose/docker-compose.yml --from traces:examples/import/traces/spans.jsonl`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return fmt.Errorf("want a format (%s) and at least one path", strings.Join(importFormatNames(), ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd.Context(), e, &f, args[0], args[1:])
		},
	}
	f.register(c)
	c.Flags().StringVarP(&f.output, "output", "o", "", "write the model to `FILE` (atomically) instead of standard output")
	c.Flags().StringVar(&f.merge, "merge", "", "merge into this model `FILE`, keeping everything it says")
	c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print no notes or summary on standard error")
	c.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "print every note, the call counts and error rates traces show for each dependency too")
	return c
}

func runImport(ctx context.Context, e *env, f *importCmdFlags, format string, paths []string) error {
	var specs []string
	for _, p := range paths {
		specs = append(specs, format+":"+p)
	}
	res, err := e.importModel(ctx, specs, &f.importFlags)
	if err != nil {
		return err
	}
	if !f.quiet {
		printNotes(e.stderr, res.Notes, f.verbose)
	}
	if len(res.Model.Components) == 0 && f.merge == "" {
		return usageError("nothing to import: no component in %s (the notes above say what was left out); nothing written", countOf(len(res.Sources), "file", "files"))
	}
	out := f.output
	if out == "" {
		out = f.merge
	}
	dir := "."
	if out != "" {
		dir = filepath.Dir(out)
	}
	var data []byte
	if f.merge != "" {
		unlock, err := lockMerge(filepath.Dir(f.merge), e.stderr)
		if err != nil {
			return usageError("--merge: %v", err)
		}
		defer unlock()
		old, err := e.readInput(f.merge)
		if err != nil {
			return usageError("--merge: %v", err)
		}
		mr, err := model.Merge(f.merge, old, res.Model, res.Sources, dir)
		if err != nil {
			if model.IsInvalid(err) {
				return &exitError{code: ExitBadInput, err: err}
			}
			return err
		}
		data = mr.Data
		if !f.quiet {
			printMerge(e.stderr, f.merge, mr)
		}
	} else {
		data, err = model.Marshal(res.Model, model.MarshalOptions{Dir: dir, Header: importHeader(format, paths)})
		if err != nil {
			return err
		}
		if _, err := model.Parse(filepath.Join(dir, "spof.yaml"), data); err != nil {
			return fmt.Errorf("internal error: the imported model does not load: %w", err)
		}
	}
	if out == "" {
		_, err = e.stdout.Write(data)
		return err
	}
	if err := atomicfile.WriteFile(out, data, 0o644); err != nil {
		return usageError("writing %s: %v", out, err)
	}
	if !f.quiet && f.merge == "" {
		fmt.Fprintf(e.stderr, "spof: wrote %s: %s\n", out, importSummary(res))
	}
	return nil
}

func importHeader(format string, paths []string) string {
	return fmt.Sprintf("Imported by: spof import %s %s\n"+
		"Edit it freely: spof import ... --merge keeps what you write, and each source: says where a fact came from.",
		format, strings.Join(paths, " "))
}

// importSummary counts what an import found.
func importSummary(res *importer.Result) string {
	edges := 0
	for _, c := range res.Model.Components {
		edges += len(c.DependsOn)
	}
	return fmt.Sprintf("%s, %s and %s from %s (%s)",
		countOf(len(res.Model.Components), "component", "components"),
		countOf(edges, "dependency", "dependencies"),
		countOf(len(res.Model.Flows), "flow", "flows"),
		countOf(len(res.Sources), "file", "files"),
		countOf(len(res.Notes), "note", "notes"))
}

// printNotes prints the notes, but those that only count what traces show
// (one per edge) with verbose only.
func printNotes(w io.Writer, notes []importer.Note, verbose bool) {
	for _, n := range notes {
		if n.Kind == traces.NoteCalls && !verbose {
			continue
		}
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func printMerge(w io.Writer, file string, mr *model.MergeResult) {
	for _, c := range mr.Conflicts {
		fmt.Fprintf(w, "conflict: %s\n", c)
	}
	for _, c := range mr.Gone {
		fmt.Fprintf(w, "gone: %s: components.%s: no longer in %s; kept (remove it if it is gone for good)\n", c.Pos, c.Name, c.Source.File)
	}
	if mr.Reformatted {
		fmt.Fprintf(w, "note: %s has parts in flow style ({...}) that had to change: it was rewritten whole, comments kept, blank lines and alignment not\n", file)
	}
	fmt.Fprintf(w, "spof: merged into %s: %s added, %s kept against the import\n", file,
		countOf(len(mr.Added), "entry", "entries"), countOf(len(mr.Conflicts), "difference", "differences"))
}

// importModel runs the importers of specs ("kubernetes:deploy/", ...) into
// one builder and finishes it. Each format's paths are read in the order
// given.
func (e *env) importModel(ctx context.Context, specs []string, f *importFlags) (*importer.Result, error) {
	unreached := importer.Unreached(f.assumeUnreached)
	if unreached != importer.UnreachedNeeded && unreached != importer.UnreachedUnused {
		return nil, usageError("--assume-unreached %q: want needed or unused", f.assumeUnreached)
	}
	type group struct {
		format *importFormat
		paths  []string
	}
	var groups []*group
	for _, s := range specs {
		name, path, ok := strings.Cut(s, ":")
		if !ok || path == "" {
			return nil, usageError("--from %q: want FORMAT:PATH, such as kubernetes:deploy/ (formats: %s)", s, strings.Join(importFormatNames(), ", "))
		}
		fm, err := findImportFormat(name)
		if err != nil {
			return nil, err
		}
		if path == "-" && fm.name != "kubernetes" {
			return nil, usageError("%s: - (standard input) is read only by the kubernetes format", s)
		}
		if _, err := os.Stat(path); err != nil && path != "-" {
			if errors.Is(err, os.ErrNotExist) {
				return nil, usageError("%s: no such file or directory", path)
			}
			return nil, usageError("%v", err)
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return g.format == fm })
		if i < 0 {
			groups = append(groups, &group{format: fm})
			i = len(groups) - 1
		}
		groups[i].paths = append(groups[i].paths, path)
	}
	system := f.system
	if system == "" {
		_, first, _ := strings.Cut(specs[0], ":")
		system = systemName(first)
	}
	b := importer.NewBuilder(system)
	b.SetMaxFileSize(int64(e.maxInputSize))
	for _, g := range groups {
		if err := g.format.run(ctx, e, b, g.paths, f); err != nil {
			return nil, importError(err)
		}
	}
	return b.Finish(importer.Options{AssumeUnreached: unreached}), nil
}

// systemName names a system after a path: its directory's name for a
// file, its own for a directory.
func systemName(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "imported"
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	name := importer.Name(filepath.Base(abs))
	if name == "unnamed" || name == "x" {
		return "imported"
	}
	return name
}

// importError makes an importer's error an exit-2 error: a model error
// list as it is (one line per error), anything else with its message.
func importError(err error) error {
	var list model.ErrorList
	var one *model.Error
	switch {
	case errors.As(err, &list):
		return &exitError{code: ExitBadInput, err: inputErrors{list}}
	case errors.As(err, &one):
		return &exitError{code: ExitBadInput, err: inputErrors{model.ErrorList{one}}}
	case errors.Is(err, context.Canceled):
		return err
	}
	return usageError("%v", err)
}

// inputErrors are errors in imported files: printed one per line, then
// counted, like a model's.
type inputErrors struct{ list model.ErrorList }

func (ie inputErrors) Error() string {
	var b strings.Builder
	for _, e := range ie.list {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	n := len(ie.list)
	fmt.Fprintf(&b, "spof: %s in the input", countOf(n, "error", "errors"))
	return b.String()
}

// registerFrom adds --from and the import flags to a command that
// analyses a model.
func registerFrom(c *cobra.Command, from *[]string, f *importFlags) {
	c.Flags().StringArrayVar(from, "from", nil, "import the model from `FORMAT:PATH` (repeatable; formats: "+
		strings.Join(importFormatNames(), ", ")+"), merged into FILE when one is given")
	f.register(c)
}

// modelFrom loads the model a command analyses: the file of its argument
// (default ./spof.yaml), the imports of --from, or the file with the
// imports merged in (in memory). Notes go to standard error unless quiet.
// path is the model's file, or the name the imported model goes by;
// drift compares the file with the imports, when there are both.
func (e *env) modelFrom(cmd *cobra.Command, args []string, from []string, f *importFlags, quiet bool) (m *model.Model, path string, drift *analysis.DriftReport, err error) {
	path = modelArg(args)
	if len(from) == 0 {
		m, err := e.loadModel(path)
		return m, path, nil, err
	}
	res, err := e.importModel(cmd.Context(), from, f)
	if err != nil {
		return nil, "", nil, err
	}
	if !quiet {
		printNotes(e.stderr, res.Notes, false)
	}
	if len(res.Model.Components) == 0 && len(args) == 0 {
		// Nothing that can fail, as far as the sources show (a VPC
		// without NAT gateways): no SPOF, which is an answer, not an error.
		return nil, "", nil, &exitError{code: ExitOK, err: fmt.Errorf("no component in %s: nothing that spof models can fail, so no SPOF",
			countOf(len(res.Sources), "file", "files"))}
	}
	var data []byte
	if len(args) > 0 {
		// One read: the parsed file for the drift, its bytes for the merge.
		file, old, err := e.loadModelData(path)
		if err != nil {
			return nil, "", nil, err
		}
		drift = analysis.Drift(file, res.Model, res.Sources)
		mr, err := model.Merge(path, old, res.Model, res.Sources, filepath.Dir(path))
		if err != nil {
			return nil, "", nil, err
		}
		if !quiet {
			for _, c := range mr.Conflicts {
				fmt.Fprintf(e.stderr, "conflict: %s\n", c)
			}
		}
		data = mr.Data
	} else {
		path = "imported.yaml"
		if data, err = model.Marshal(res.Model, model.MarshalOptions{Dir: "."}); err != nil {
			return nil, "", nil, err
		}
	}
	if m, err = model.Parse(path, data); err != nil {
		return nil, "", nil, fmt.Errorf("internal error: the imported model does not load: %w", err)
	}
	return m, path, drift, nil
}

type driftFlags struct {
	outputFlags
	from        []string
	imp         importFlags
	failOnDrift bool
}

func newDriftCmd(e *env) *cobra.Command {
	var f driftFlags
	c := &cobra.Command{
		Use:   "drift [FILE] --from FORMAT:PATH...",
		Short: "Compare the model with what really runs: manifests, compose, Terraform, traces",
		Long: `drift imports the sources given with --from, as spof import would, and
compares them with the model (default ./spof.yaml): dependencies the
sources show that the model does not declare (hidden dependencies, such
as a call found in traces), components deployed but not modelled,
components the model imported from these files that they no longer have,
and replica and zone counts that differ. People, CI and what the sources
cannot show are not drift.

The same comparison decides item 3 of the checklist ("the dependency map
is complete and matches reality") when spof check runs on a model file
with --from. --fail-on-drift exits 1 when there is any difference.`,
		Example: `  spof drift --from kubernetes:deploy/                                   # live: ./spof.yaml against deploy/
  spof import compose examples/import/compose/docker-compose.yml -o shop.yaml && spof drift shop.yaml --from traces:examples/import/traces/spans.jsonl
  spof drift shop.yaml --from kubernetes:examples/import/kubernetes --format json -o drift.json --fail-on-drift`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runDrift(cmd, e, &f, args) },
	}
	f.register(c, "text", "text, json")
	registerFrom(c, &f.from, &f.imp)
	c.Flags().BoolVar(&f.failOnDrift, "fail-on-drift", false, "exit 1 when the model and the sources differ")
	return c
}

func runDrift(cmd *cobra.Command, e *env, f *driftFlags, args []string) error {
	if f.format != "text" && f.format != "json" {
		return usageError("--format %q: want text or json", f.format)
	}
	if len(f.from) == 0 {
		return usageError("give the sources to compare with: --from FORMAT:PATH (formats: %s)", strings.Join(importFormatNames(), ", "))
	}
	m, err := e.loadModel(modelArg(args))
	if err != nil {
		return err
	}
	res, err := e.importModel(cmd.Context(), f.from, &f.imp)
	if err != nil {
		return err
	}
	if !f.quiet {
		printNotes(e.stderr, res.Notes, false)
	}
	d := analysis.Drift(m, res.Model, res.Sources)
	err = f.emit(e, func(w io.Writer) error {
		if f.format == "json" {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(d)
		}
		if len(d.Items) == 0 {
			_, err := fmt.Fprintf(w, "no drift: the model matches its sources (%s read, %s compared)\n",
				countOf(len(d.Sources), "file", "files"), countOf(d.Compared, "component", "components"))
			return err
		}
		for _, it := range d.Items {
			fmt.Fprintf(w, "%-22s %s\n", it.Kind, it)
		}
		_, err := fmt.Fprintf(w, "\n%s between %s and its sources (%s read)\n",
			countOf(len(d.Items), "difference", "differences"), modelArg(args), countOf(len(d.Sources), "file", "files"))
		return err
	})
	if err != nil {
		return err
	}
	if f.failOnDrift && len(d.Items) > 0 {
		return &exitError{code: ExitFindings}
	}
	return nil
}
