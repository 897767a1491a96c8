package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/chaos"
)

// newChaosCmd is the chaos command group. Today it has recover; plan and
// run come with the experiment engine.
func newChaosCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "chaos",
		Short: "Failure experiments derived from the model, and recovery after a crash",
		Long: `chaos verifies what the model claims by injecting faults into the running
system. Every fault is journalled in the state directory before it is
injected, so that whatever happens to the run, the fault can be undone.`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newChaosRecoverCmd(e))
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
