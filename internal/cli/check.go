package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

type checkFlags struct {
	outputFlags
	flows    []string
	failOn   string
	baseline string
	summary  bool
	from     []string
	imp      importFlags
	db       string
}

func newCheckCmd(e *env) *cobra.Command {
	var f checkFlags
	c := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Find every SPOF of every critical flow, with the chain of reasons and the fix",
		Long: `check analyses the model (default ./spof.yaml) and reports, for each flow,
every basic event whose failure alone stops it (spof), blocks its restart,
deploy or recovery (recovery), degrades it (degradation), and every person
with a bus factor of one (operational), ranked by the criticality of the
flows they hit, then by blast radius; then the SPOF elimination checklist.
The text report starts with a summary, one line per finding (--summary
prints only that), then the details.

It exits 1 when a finding of category spof, recovery or operational has a
severity at or above --fail-on (default critical); degradations never fail
the check. With --baseline, only findings absent from the baseline count:
the reports mark each finding new or unchanged, and list the baseline's
findings that are fixed. Every format says what the gate decided: JUnit
fails only the findings that fail the check, skips those the baseline
accepts, and passes the rest.

SARIF paths are relative to $GITHUB_WORKSPACE when it is set (GitHub
Actions), else to the current directory: run spof from the repository root.`,
		Example: `  spof check examples/seed-audit/spof.yaml
  spof check --flow checkout --fail-on high
  spof check --summary                             # one line per finding
  spof check --format sarif -o spof.sarif          # for GitHub code scanning
  spof baseline -o .spof-baseline.json && spof check --baseline .spof-baseline.json
  spof check --from compose:examples/import/compose/docker-compose.yml --from traces:examples/import/traces/spans.jsonl   # no file
  spof check spof.yaml --from compose:examples/import/compose/docker-compose.yml                           # merged in`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, path, drift, err := e.modelFrom(cmd, args, f.from, &f.imp, f.quiet)
			if err != nil {
				return err
			}
			return runCheck(e, &f, path, m, drift)
		},
	}
	registerFrom(c, &f.from, &f.imp)
	f.register(c, "text", "text, json, markdown, sarif, junit")
	c.Flags().StringSliceVar(&f.flows, "flow", nil, "analyse only these `flows` (repeat or separate with commas)")
	c.Flags().StringVar(&f.failOn, "fail-on", "critical", "exit 1 on findings at or above this `severity`: critical, high, medium, low or none")
	c.Flags().BoolVar(&f.summary, "summary", false, "print only the summary: one line per finding (text and markdown)")
	c.Flags().StringVar(&f.baseline, "baseline", "", "fail only on findings absent from this baseline `FILE` (written by spof baseline)")
	registerDB(c, &f.db, "checklist item 4: read the experiment runs from")
	return c
}

func runCheck(e *env, f *checkFlags, path string, m *model.Model, drift *analysis.DriftReport) error {
	failOn, ok := model.ParseCriticality(f.failOn)
	if !ok {
		return usageError("--fail-on %q: want critical, high, medium, low or none", f.failOn)
	}
	if err := report.CheckFormat(report.OutputCheck, f.format); err != nil {
		return usageError("--format: %v", err)
	}
	if f.summary && f.format != report.FormatText && f.format != report.FormatMarkdown {
		return usageError("--summary: only for --format text or markdown, not %s", f.format)
	}
	g := analysis.Gate{FailOn: failOn}
	if f.baseline != "" {
		var err error
		if g.Baseline, err = readBaseline(e, f.baseline); err != nil {
			return err
		}
	}
	collectLoadGarbage(m)
	if err := analysis.CheckFlows(m, f.flows); err != nil {
		return usageError("--flow: %v", err)
	}
	verified, err := verifiedBy(context.Background(), f.db, path, m)
	if err != nil {
		return err
	}
	stop := progress(e, fmt.Sprintf("analysing %d components", len(m.Components)))
	res, err := analysis.Check(m, analysis.Options{Flows: f.flows, Verified: verified, Now: time.Now(), Drift: drift})
	stop()
	if err != nil {
		return err
	}

	err = f.emit(e, func(w io.Writer) error {
		switch f.format {
		case report.FormatJSON:
			return report.JSON(w, res, g)
		case report.FormatMarkdown:
			return report.Markdown(w, res, g, report.MarkdownOptions{Summary: f.summary})
		case report.FormatSARIF:
			return report.SARIF(w, res, g, report.SARIFOptions{ToolVersion: Version, BaseDir: sarifRoot(e), ModelFile: path})
		case report.FormatJUnit:
			return report.JUnit(w, res, g)
		}
		return report.Text(w, res, g, report.TextOptions{Color: f.color(e), Summary: f.summary})
	})
	if err != nil {
		return err
	}
	failing := g.Failing(res.Findings)
	if len(failing) == 0 {
		return nil
	}
	if g.Baseline != nil {
		fmt.Fprintf(e.stderr, "spof: %d finding%s at or above %s not in the baseline %s:\n", len(failing), plural(len(failing)), failOn, f.baseline)
		for _, fd := range failing {
			fmt.Fprintf(e.stderr, "  %s %s %s (%s)\n", fd.Severity, fd.Category, fd.Event, strings.Join(fd.Flows, ", "))
		}
	}
	return &exitError{code: ExitFindings}
}

// sarifRoot is the directory SARIF paths are relative to: the checkout in
// GitHub Actions (GITHUB_WORKSPACE), else the working directory.
func sarifRoot(e *env) string {
	if ws := e.getenv("GITHUB_WORKSPACE"); ws != "" {
		return ws
	}
	wd, _ := os.Getwd()
	return wd
}

// readBaseline reads the file spof baseline writes.
func readBaseline(e *env, path string) (*analysis.Baseline, error) {
	data, err := e.readInput(path)
	if err != nil {
		return nil, usageError("reading the baseline: %v", err)
	}
	b, err := analysis.ParseBaseline(data)
	if err != nil {
		return nil, usageError("%s: %v (write one with spof baseline -o %s)", path, err, filepath.Base(path))
	}
	return b, nil
}

func newBaselineCmd(e *env) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "baseline [FILE] -o BASELINE",
		Short: "Record today's findings so that spof check --baseline fails only on new ones",
		Long: `baseline writes the IDs of the model's current findings to a JSON file.
Commit it; then spof check --baseline FILE fails only on findings that are
not in it, so a CI gate can stop new SPOFs without first fixing every old
one. Finding IDs are stable hashes of the event and the flows it hits.`,
		Example: `  spof baseline -o .spof-baseline.json
  spof baseline examples/seed-audit/spof.yaml -o baseline.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError("baseline: say where to write it with -o FILE")
			}
			m, err := e.loadModel(modelArg(args))
			if err != nil {
				return err
			}
			res, err := analysis.Check(m, analysis.Options{})
			if err != nil {
				return err
			}
			b := analysis.NewBaseline(res)
			data, err := json.MarshalIndent(b, "", "  ")
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(out, append(data, '\n'), 0o644); err != nil {
				return usageError("writing %s: %v", out, err)
			}
			fmt.Fprintf(e.stderr, "spof: wrote %d finding%s to %s\n", len(b.Findings), plural(len(b.Findings)), out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write the baseline to `FILE`")
	return c
}
