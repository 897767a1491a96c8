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
	"github.com/spofhq/spof/chaos"
	"github.com/spofhq/spof/chaos/inject"
)

// newChaosCmd is the chaos command group: plan and recover; run comes
// with the experiment engine.
func newChaosCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "chaos",
		Short: "Failure experiments derived from the model, and recovery after a crash",
		Long: `chaos verifies what the model claims by injecting faults into the running
system. Every fault is journalled in the state directory before it is
injected, so that whatever happens to the run, the fault can be undone.`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newChaosPlanCmd(e), newChaosRecoverCmd(e))
	return c
}

type chaosRecoverFlags struct {
	stateDir string
	force    bool
	timeout  time.Duration
}

func newChaosRecoverCmd(e *env) *cobra.Command {
	var f chaosRecoverFlags
	c := &cobra.Command{
		Use:   "recover [FILE]",
		Short: "Undo the faults that a crashed or killed chaos run left in place",
		Long: `recover reads the chaos journal and, for every fault still recorded as
injected, undoes it, checks that it is gone, and only then closes the
entry: running it twice is harmless. Faults whose run is still alive are
left to it unless --force.

The journal is in the state directory: --state-dir, else the model's
chaos.state_dir (relative to the model file), else .spof beside the model.

Exit codes: 0 nothing left injected; 4 a fault could not be restored (it
needs a human: the message says which and why); 2 bad input, or a corrupt
journal.`,
		Example: `  spof chaos recover
  spof chaos recover examples/seed-audit/spof.yaml
  spof chaos recover --state-dir staging/.spof --force`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := defaultModel
			if len(args) == 1 {
				path = args[0]
			}
			return runChaosRecover(cmd.Context(), e, path, len(args) == 1, &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.stateDir, "state-dir", "", "the chaos state `DIR` holding the journal (default: the model's chaos.state_dir, else .spof beside the model)")
	fl.BoolVar(&f.force, "force", false, "also undo faults whose run is still alive")
	fl.DurationVar(&f.timeout, "timeout", time.Minute, "give up after this long")
	return c
}

// stateDir is where the chaos journal of the model at path lives.
func stateDir(path string, explicit bool, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(path); err != nil && !explicit {
		// No model here: the default state directory beside it.
		return filepath.Join(dir, ".spof"), nil
	}
	m, err := loadModel(path)
	if err != nil {
		return "", err
	}
	sd := m.Chaos.StateDirOrDefault()
	if !filepath.IsAbs(sd) {
		sd = filepath.Join(dir, sd)
	}
	return sd, nil
}

func runChaosRecover(ctx context.Context, e *env, path string, explicit bool, f *chaosRecoverFlags) error {
	dir, err := stateDir(path, explicit, f.stateDir)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	j, err := chaos.OpenJournal(dir)
	if err != nil {
		return usageError("%v", err)
	}
	rs, err := chaos.Recover(ctx, j, f.force)
	if err != nil {
		return usageError("%v", err)
	}
	failed := 0
	for _, r := range rs {
		if r.Err != nil {
			failed++
			fmt.Fprintf(e.stderr, "spof: %s (%s, injected %s): NOT restored: %v\n", r.Entry.Experiment, r.Entry.Fault, r.Entry.Started.Format(time.RFC3339), r.Err)
			continue
		}
		fmt.Fprintf(e.stdout, "restored %s (%s, injected %s)\n", r.Entry.Experiment, r.Entry.Fault, r.Entry.Started.Format(time.RFC3339))
	}
	switch {
	case failed > 0:
		return &exitError{code: ExitRestore, err: fmt.Errorf("%d of %d faults still in place; journal: %s", failed, len(rs), j.Path())}
	case len(rs) == 0:
		fmt.Fprintf(e.stdout, "nothing to recover (journal: %s)\n", j.Path())
	}
	return nil
}

type chaosPlanFlags struct {
	out    outputFlags
	target string
	faults []string
}

func newChaosPlanCmd(e *env) *cobra.Command {
	var f chaosPlanFlags
	c := &cobra.Command{
		Use:   "plan [FILE]",
		Short: "The experiments the model implies, each with its predicted state of every flow",
		Long: `plan lists the chaos experiments the model implies: one per component with
a chaos: binding and fault, named <component>-<fault>. The hypothesis of
each is the model's prediction, from the what-if analysis: the state of
every flow (up, degraded, down) while the fault lasts, and why. It also
lists the fallbacks each experiment puts to work; a passed run verifies
them.

Faults: down (refuse and cut connections), blackhole (accept, never
answer), reset (TCP RST); the model predicts these outages. --fault may be
repeated.`,
		Example: `  spof chaos plan
  spof chaos plan examples/seed-audit/spof.yaml --format json
  spof chaos plan --fault down --fault blackhole
  spof chaos plan examples/shop/spof.yaml --target session-redis --fault down --fault blackhole`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := defaultModel
			if len(args) == 1 {
				path = args[0]
			}
			return runChaosPlan(e, path, &f)
		},
	}
	f.out.register(c, "text", "text, json or markdown")
	c.Flags().StringVar(&f.target, "target", "", "only experiments on `COMPONENT`")
	c.Flags().StringArrayVar(&f.faults, "fault", nil, "the `FAULT` to plan (down, blackhole, reset; repeatable; default down)")
	return c
}

func runChaosPlan(e *env, path string, f *chaosPlanFlags) error {
	if f.out.format != "text" && f.out.format != "json" && f.out.format != "markdown" {
		return usageError("--format %q: want text, json or markdown", f.out.format)
	}
	var faults []inject.Fault
	for _, s := range f.faults {
		fault, err := chaos.ParseFault(s)
		if err != nil {
			return usageError("--fault: %v", err)
		}
		faults = append(faults, fault)
	}
	m, err := loadModel(path)
	if err != nil {
		return err
	}
	xs, err := chaos.Plan(m, chaos.PlanOptions{Target: f.target, Faults: faults})
	if err != nil {
		return usageError("%v", err)
	}
	if f.out.quiet {
		return nil
	}
	return f.out.emit(e, func(w io.Writer) error {
		switch f.out.format {
		case "json":
			if xs == nil {
				xs = []chaos.Experiment{}
			}
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				System      string             `json:"system"`
				Environment string             `json:"environment,omitempty"`
				Experiments []chaos.Experiment `json:"experiments"`
			}{m.System, m.Environment, xs})
		case "markdown":
			return planMarkdown(w, m.System, xs)
		}
		return planText(w, m.System, xs)
	})
}

func planText(w io.Writer, system string, xs []chaos.Experiment) error {
	fmt.Fprintf(w, "spof chaos plan: system %s, %d experiment%s\n", system, len(xs), plural(len(xs)))
	if len(xs) == 0 {
		fmt.Fprintln(w, "\nNo component has a chaos: binding, so there is nothing to inject into.")
		fmt.Fprintln(w, "Add one, e.g. chaos: {proxy: {listen: 127.0.0.1:16379, upstream: 127.0.0.1:6379}}.")
		return nil
	}
	for _, x := range xs {
		fmt.Fprintf(w, "\n%s\n  inject:    %s on %s through its %s binding\n  predicted:", x.Name, x.Fault, x.Target, x.Injector)
		for i, o := range x.Predicted {
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(w, "%s %s %s", sep, o.Flow, o.State)
		}
		fmt.Fprintln(w)
		for _, o := range x.Predicted {
			if len(o.Chain) > 0 {
				fmt.Fprintf(w, "  why %s %s: %s\n", o.Flow, o.State, strings.Join(o.Chain, "; "))
			}
		}
		for _, ex := range x.Exercises {
			fmt.Fprintf(w, "  exercises: %s\n", ex)
		}
	}
	return nil
}

func planMarkdown(w io.Writer, system string, xs []chaos.Experiment) error {
	fmt.Fprintf(w, "# Chaos plan: %s\n\n", system)
	if len(xs) == 0 {
		fmt.Fprintln(w, "No component has a `chaos:` binding.")
		return nil
	}
	fmt.Fprintln(w, "| experiment | fault | predicted | exercises |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, x := range xs {
		var pred []string
		for _, o := range x.Predicted {
			pred = append(pred, o.Flow+" "+o.State.String())
		}
		fmt.Fprintf(w, "| `%s` | %s via %s | %s | %s |\n", x.Name, x.Fault, x.Injector,
			strings.Join(pred, ", "), strings.ReplaceAll(strings.Join(x.Exercises, "; "), "|", "\\|"))
	}
	return nil
}
