package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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

It exits 1 when a finding of category spof, recovery or operational has a
severity at or above --fail-on (default critical); degradations never fail
the check. With --baseline, only findings absent from the baseline count.

SARIF paths are relative to $GITHUB_WORKSPACE when it is set (GitHub
Actions), else to the current directory: run spof from the repository root.`,
		Example: `  spof check examples/seed-audit/spof.yaml
  spof check --flow checkout --fail-on high
  spof check --format sarif -o spof.sarif          # for GitHub code scanning
  spof baseline -o .spof-baseline.json && spof check --baseline .spof-baseline.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runCheck(e, &f, modelArg(args)) },
	}
	f.register(c, "text", "text, json, markdown, sarif, junit")
	c.Flags().StringSliceVar(&f.flows, "flow", nil, "analyse only these `flows` (repeat or separate with commas)")
	c.Flags().StringVar(&f.failOn, "fail-on", "critical", "exit 1 on findings at or above this `severity`: critical, high, medium, low or none")
	c.Flags().StringVar(&f.baseline, "baseline", "", "fail only on findings absent from this baseline `FILE` (written by spof baseline)")
	return c
}

func runCheck(e *env, f *checkFlags, path string) error {
	failOn, ok := model.ParseCriticality(f.failOn)
	if !ok {
		return usageError("--fail-on %q: want critical, high, medium, low or none", f.failOn)
	}
	if err := report.CheckFormat(report.OutputCheck, f.format); err != nil {
		return usageError("--format: %v", err)
	}
	var base *baseline
	if f.baseline != "" {
		var err error
		if base, err = readBaseline(f.baseline); err != nil {
			return err
		}
	}
	m, err := loadModel(path)
	if err != nil {
		return err
	}
	if err := analysis.CheckFlows(m, f.flows); err != nil {
		return usageError("--flow: %v", err)
	}
	verified, err := verifications(path, m)
	if err != nil {
		return err
	}
	stop := progress(e, fmt.Sprintf("analysing %d components", len(m.Components)))
	res, err := analysis.Check(m, analysis.Options{Flows: f.flows, Verified: verified, Now: time.Now()})
	stop()
	if err != nil {
		return err
	}

	err = f.emit(e, func(w io.Writer) error {
		switch f.format {
		case report.FormatJSON:
			return report.JSON(w, res)
		case report.FormatMarkdown:
			return report.Markdown(w, res)
		case report.FormatSARIF:
			return report.SARIF(w, res, report.SARIFOptions{ToolVersion: Version, BaseDir: sarifRoot(e), ModelFile: path})
		case report.FormatJUnit:
			return report.JUnit(w, res, report.JUnitOptions{FailOn: failOn})
		}
		return report.Text(w, res, report.TextOptions{Color: f.color(e)})
	})
	if err != nil {
		return err
	}
	failing := gate(res.Findings, failOn, base)
	if len(failing) == 0 {
		return nil
	}
	if base != nil {
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

// gate returns the findings that fail the check: not degradations, at or
// above failOn, and not in the baseline.
func gate(findings []analysis.Finding, failOn model.Criticality, base *baseline) []analysis.Finding {
	if failOn == model.CriticalityNone {
		return nil
	}
	var out []analysis.Finding
	for _, fd := range findings {
		if fd.Category == analysis.CategoryDegradation || fd.Severity < failOn {
			continue
		}
		if base != nil && base.has(fd.ID) {
			continue
		}
		out = append(out, fd)
	}
	return out
}

// baseline is the file spof baseline writes: the findings accepted for now.
type baseline struct {
	Version  int               `json:"version"`
	System   string            `json:"system"`
	Findings []baselineFinding `json:"findings"`
	ids      map[string]bool
}

type baselineFinding struct {
	ID       string            `json:"id"`
	Event    string            `json:"event"`
	Category analysis.Category `json:"category"`
	Severity model.Criticality `json:"severity"`
	Flows    []string          `json:"flows"`
}

func (b *baseline) has(id string) bool { return b.ids[id] }

func readBaseline(path string) (*baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError("reading the baseline: %v", err)
	}
	var b baseline
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, usageError("%s: not a spof baseline: %v (write one with spof baseline -o %s)", path, err, filepath.Base(path))
	}
	if b.Version != 1 {
		return nil, usageError("%s: baseline version %d, want 1", path, b.Version)
	}
	b.ids = map[string]bool{}
	for _, f := range b.Findings {
		if f.ID == "" {
			return nil, usageError("%s: a finding has no id", path)
		}
		b.ids[f.ID] = true
	}
	return &b, nil
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
			m, err := loadModel(modelArg(args))
			if err != nil {
				return err
			}
			res, err := analysis.Check(m, analysis.Options{})
			if err != nil {
				return err
			}
			b := baseline{Version: 1, System: res.System, Findings: []baselineFinding{}}
			for _, fd := range res.Findings {
				b.Findings = append(b.Findings, baselineFinding{ID: fd.ID, Event: fd.Event, Category: fd.Category, Severity: fd.Severity, Flows: fd.Flows})
			}
			slices.SortFunc(b.Findings, func(x, y baselineFinding) int { return strings.Compare(x.Event, y.Event) })
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
