package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/chaos"
	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/proxy/client"
)

// newChaosCmd is the chaos command group: plan, run and recover.
func newChaosCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "chaos",
		Short: "Failure experiments derived from the model, and recovery after a crash",
		Long: `chaos verifies what the model claims by injecting faults into the running
system. Every fault is journalled in the state directory before it is
injected, so that whatever happens to the run, the fault can be undone.`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newChaosPlanCmd(e), newChaosRunCmd(e), newChaosRecoverCmd(e), newChaosHistoryCmd(e))
	return c
}

type chaosRecoverFlags struct {
	stateDir string
	force    bool
	orphans  bool
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

--orphans then lists the toxics named spof-… on the model's proxies that no
journal entry owns (a journal lost or emptied by hand, a run of another
state directory); with --force it removes them.

The journal is in the state directory: --state-dir, else the model's
chaos.state_dir (relative to the model file), else .spof beside the model.

Exit codes: 0 nothing left injected; 4 a fault could not be restored (or an
orphan toxic is left in place: --orphans without --force), or
the journal is corrupt, or names an injector this spof does not know (it
needs a human: the message says which and why; such errors fail at once,
without retries); 2 bad input.`,
		Example: `  spof chaos recover
  spof chaos recover examples/seed-audit/spof.yaml
  spof chaos recover --state-dir staging/.spof --force
  # with the demo shop's proxy running (make demo), toxics no journal owns:
  #   spof chaos recover examples/shop/spof.yaml --orphans --force`,
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
	fl.BoolVar(&f.force, "force", false, "also undo faults whose run is still alive; with --orphans, remove the orphan toxics")
	fl.BoolVar(&f.orphans, "orphans", false, "then list the spof-… toxics on the model's proxies that no journal entry owns")
	fl.DurationVar(&f.timeout, "timeout", time.Minute, "give up after this long")
	return c
}

// stateDir is where the chaos journal of the model at path lives.
func stateDir(e *env, path string, explicit bool, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(path); err != nil && !explicit {
		// No model here: the default state directory beside it.
		return filepath.Join(dir, ".spof"), nil
	}
	m, err := e.loadModel(path)
	if err != nil {
		return "", err
	}
	return modelStateDir(path, m), nil
}

// modelStateDir is the state directory the model at path names: its
// chaos.state_dir, relative to the model's directory.
func modelStateDir(path string, m *model.Model) string {
	sd := m.Chaos.StateDirOrDefault()
	if !filepath.IsAbs(sd) {
		sd = filepath.Join(filepath.Dir(path), sd)
	}
	return sd
}

func runChaosRecover(ctx context.Context, e *env, path string, explicit bool, f *chaosRecoverFlags) error {
	dir, err := stateDir(e, path, explicit, f.stateDir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	j, err := chaos.OpenJournal(dir)
	if err != nil {
		return usageError("%v", err)
	}
	rs, err := chaos.Recover(ctx, j, chaos.RecoverOptions{Force: f.force})
	if err != nil {
		return journalError(err)
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
	if f.orphans {
		return recoverOrphans(ctx, e, path, j, f.force)
	}
	return nil
}

// recoverOrphans lists, and with force removes, the orphan toxics on the
// proxies of the model at path.
func recoverOrphans(ctx context.Context, e *env, path string, j *chaos.Journal, force bool) error {
	m, err := e.loadModel(path)
	if err != nil {
		return err
	}
	orphans, err := chaos.Orphans(ctx, j, m)
	if err != nil {
		return &exitError{code: ExitRestore, err: err} // faults may be in place, unseen
	}
	left := 0
	for _, o := range orphans {
		if !force {
			left++
			fmt.Fprintf(e.stdout, "orphan %s: no journal entry owns it (remove it with --orphans --force)\n", o)
			continue
		}
		if err := chaos.RemoveOrphan(ctx, o); err != nil {
			left++
			fmt.Fprintf(e.stderr, "spof: orphan %s: NOT removed: %v\n", o, err)
			continue
		}
		fmt.Fprintf(e.stdout, "removed orphan %s\n", o)
	}
	switch {
	case left > 0:
		return &exitError{code: ExitRestore, err: fmt.Errorf("%d orphan toxic%s still in place", left, plural(left))}
	case len(orphans) == 0:
		fmt.Fprintln(e.stdout, "no orphan toxic on the model's proxies")
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
answer), reset (TCP RST): outages; and latency:DELAY (proxy bindings
only), where each caller whose circuit breaker times out sooner than the
delay falls back, the others wait, and a flow whose probe allows less than
that (max_latency) is predicted down. --fault may be repeated.
Experiments are named <component>-<fault>, latency ones with their delay:
session-redis-down, payments-latency-3s.`,
		Example: `  spof chaos plan
  spof chaos plan examples/seed-audit/spof.yaml --format json
  spof chaos plan --fault down --fault blackhole
  spof chaos plan examples/shop/spof.yaml --target session-redis --fault down --fault blackhole
  spof chaos plan examples/shop/spof.yaml --fault latency:500ms --fault latency:3s`,
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
	c.Flags().StringArrayVar(&f.faults, "fault", nil, "the `FAULT` to plan (down, blackhole, reset, latency:500ms; repeatable; default down)")
	return c
}

func runChaosPlan(e *env, path string, f *chaosPlanFlags) error {
	if !slices.Contains(chaos.PlanFormats, f.out.format) {
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
	m, err := e.loadModel(path)
	if err != nil {
		return err
	}
	xs, err := chaos.Plan(m, chaos.PlanOptions{Target: f.target, Faults: faults})
	if err != nil {
		return usageError("%v", err)
	}
	noteProxyOnly(e, m, faults)
	if f.out.quiet {
		return nil
	}
	return f.out.emit(e, func(w io.Writer) error { return chaos.WritePlan(w, m, xs, f.out.format) })
}

type chaosRunFlags struct {
	out        outputFlags
	experiment []string
	all        bool
	env        string
	dryRun     bool
	stateDir   string
	webhook    string
	faults     []string
	maxBlast   int
	timeout    time.Duration
	db         string
	opts       chaos.RunOptions
}

func newChaosRunCmd(e *env) *cobra.Command {
	var f chaosRunFlags
	c := &cobra.Command{
		Use:   "run [FILE] (--experiment NAME... | --all) --env ENV",
		Short: "Inject the planned faults into the running system and check the model's predictions",
		Long: `run performs experiments of spof chaos plan against the running system.
For each: every flow's probe must pass (steady state), the fault is
journalled (fsynced) and injected with a TTL, the probes are sampled while
it lasts, the fault is restored and verified gone, and the flows must be
up again within --recovery. The fault is restored on every way out:
the end, an error, SIGINT or SIGTERM, a panic. After SIGKILL or a crash,
spof chaos recover undoes it, and proxy faults expire by themselves.

Verdicts: passed (every probed flow as predicted, and recovered);
falsified (a flow differed from the prediction: a hidden dependency or a
broken fallback; or no recovery); aborted (steady state failed before
the fault, or interrupted: nothing left injected); not-applied (the fault
could not be injected); fault-lost (the fault went away while the flows
were sampled, e.g. its TTL expired or the proxy restarted: the samples
since do not count, and the run neither verifies nor fails a fallback);
restore-failed (the fault may still be in place).

Experiments are named as spof chaos plan names them: any outage fault
(session-redis-blackhole) or delay (payments-latency-3s) may be asked for
by name; --all runs the --fault faults (default down) on every bound
component.

Guards: --env must equal the model's environment, against running against
the wrong system; --max-blast-radius N (default 0) refuses experiments
predicted to take down more than N flows (--all skips them, saying so);
--dry-run prints what would be done and touches nothing; --timeout ends
the whole run, restoring; abort probes (chaos.abort_probes) stop an
experiment at once. Proxy faults carry a TTL (--ttl), so that they go by
themselves even if this process is killed and nobody recovers.

Exit codes: 0 every experiment passed (or dry run); 3 one was falsified,
lost its fault, aborted or not applied; 4 a restore failed, or the journal
is corrupt (a human must look); 2 bad input, or the run cannot start
(another run holds the state directory, faults left in the journal, a
--duration the proxy's --max-ttl would cut short).`,
		Example: `  spof chaos run examples/shop/spof.yaml --all --env demo --dry-run
  spof chaos run examples/shop/spof.yaml --experiment session-redis-down --env demo --duration 1m --dry-run
  spof chaos run examples/shop/spof.yaml --experiment payments-latency-3s --experiment postgres-down --max-blast-radius 3 --env demo --dry-run
  # against the running demo shop (make demo in another shell, then point the model at
  # the addresses it prints), with a JSON record:
  #   spof chaos run examples/shop/spof.yaml --all --env demo --format json -o chaos.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := defaultModel
			if len(args) == 1 {
				path = args[0]
			}
			return runChaosRun(cmd.Context(), e, path, &f)
		},
	}
	f.out.register(c, "text", "text, json, markdown or junit (one test case per experiment)")
	fl := c.Flags()
	fl.StringArrayVar(&f.experiment, "experiment", nil, "run the experiment `NAME` (from spof chaos plan; repeatable)")
	fl.BoolVar(&f.all, "all", false, "run every experiment of the plan, one after the other")
	fl.StringVar(&f.env, "env", "", "the environment the model describes (required; must equal its environment:)")
	fl.StringVar(&f.webhook, "webhook", "", "post the experiments that did not pass to `URL` (Slack-compatible JSON: {\"text\": ...})")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the experiments and what they would inject; touch nothing")
	fl.StringVar(&f.stateDir, "state-dir", "", "the chaos state `DIR` for the journal (default: the model's chaos.state_dir, else .spof beside the model)")
	fl.DurationVar(&f.opts.Duration, "duration", 30*time.Second, "how long each fault stays")
	fl.DurationVar(&f.opts.Settle, "settle", 2*time.Second, "after injecting, how long before samples count (breakers need a moment to open)")
	fl.DurationVar(&f.opts.Recovery, "recovery", 30*time.Second, "how long the flows have to be up again after the restore")
	fl.DurationVar(&f.opts.Interval, "interval", 0, "time between samples (default: the probes' interval, else 1s)")
	fl.StringArrayVar(&f.faults, "fault", nil, "with --all, the `FAULT` to run on every bound component (down, blackhole, reset, latency:500ms; repeatable; default down)")
	fl.IntVar(&f.maxBlast, "max-blast-radius", 0, "refuse experiments predicted to take down more than `N` flows (--all skips them)")
	fl.DurationVar(&f.opts.TTL, "ttl", 0, "the fault's dead man's switch: the proxy removes it after this long even if nobody restores it (default: settle + duration + recovery + 30s)")
	fl.DurationVar(&f.timeout, "timeout", 0, "stop the whole run after this long, restoring the fault in place (default: no limit)")
	registerDB(c, &f.db, "record the runs in")
	return c
}

func runChaosRun(ctx context.Context, e *env, path string, f *chaosRunFlags) error {
	if !slices.Contains(chaos.ReportFormats, f.out.format) {
		return usageError("--format %q: want one of %s", f.out.format, strings.Join(chaos.ReportFormats, ", "))
	}
	if f.webhook != "" {
		if u, err := url.Parse(f.webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageError("--webhook %s: want an http or https URL", chaos.RedactURL(f.webhook)) // the URL is a secret
		}
	}
	if f.opts.TTL > 0 && f.opts.TTL <= f.opts.Settle+f.opts.Duration {
		return usageError("--ttl %v: the fault would expire before the experiment ends (--settle %v + --duration %v)", f.opts.TTL, f.opts.Settle, f.opts.Duration)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--duration", f.opts.Duration}, {"--settle", f.opts.Settle}, {"--recovery", f.opts.Recovery}, {"--interval", f.opts.Interval}, {"--ttl", f.opts.TTL}, {"--timeout", f.timeout}} {
		if d.v < 0 {
			return usageError("%s %v: must not be negative", d.flag, d.v)
		}
	}
	sel := chaos.Selection{Names: f.experiment, All: f.all, MaxBlast: f.maxBlast}
	for _, spec := range f.faults {
		fault, err := chaos.ParseFault(spec)
		if err != nil {
			return usageError("--fault: %v", err)
		}
		sel.Faults = append(sel.Faults, fault)
	}
	if err := sel.Check(); err != nil {
		return usageError("%v", err)
	}
	m, err := e.loadModel(path)
	if err != nil {
		return err
	}
	switch {
	case f.env == "":
		return usageError("--env is required: name the environment you mean to break (the model says %q)", m.Environment)
	case m.Environment == "":
		return usageError("the model names no environment: add environment: %s to %s, so that --env can guard against running against the wrong system", f.env, path)
	case f.env != m.Environment:
		return usageError("--env %s, but %s describes %s: refusing to inject faults", f.env, path, m.Environment)
	}
	xs, skipped, err := chaos.Select(m, sel)
	if err != nil {
		return usageError("%v", err)
	}
	if f.all {
		noteProxyOnly(e, m, sel.Faults)
	}
	for _, s := range skipped {
		fmt.Fprintf(e.stderr, "spof: skipping %s: %s\n", s.Experiment.Name, s.Reason)
	}
	sd, err := stateDir(e, path, true, f.stateDir)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, f.timeout, fmt.Errorf("--timeout %v passed", f.timeout))
		defer cancel()
	}
	opts := chaos.RunAllOptions{RunOptions: f.opts, ModelPath: path, StateDir: sd, DryRun: f.dryRun, MaxTTL: proxyMaxTTL,
		Progress: func(x chaos.Experiment) func() {
			return progress(e, fmt.Sprintf("%s: injecting %s into %s for %v", x.Name, x.Fault, x.Target, f.opts.Duration))
		},
		Warn: func(err error) { fmt.Fprintf(e.stderr, "spof: warning: %v\n", err) },
	}
	if f.db != "" && !f.dryRun {
		st, err := openDB(ctx, f.db)
		if err != nil {
			return err
		}
		defer st.Close()
		opts.RunID = chaos.NewRunID(time.Now())
		if opts.Record, err = dbRecorder(ctx, st, m, path, opts.RunID); err != nil {
			return err
		}
	}
	results, err := chaos.RunAll(ctx, m, xs, opts)
	switch {
	case errors.Is(err, chaos.ErrCorruptJournal):
		return &exitError{code: ExitRestore, err: err} // faults may be in place: a human must look
	case errors.Is(err, chaos.ErrNotReady):
		return usageError("%v", err)
	case err != nil:
		return err
	case f.dryRun:
		probed, _ := chaos.ProbedFlows(m)
		return chaos.WriteDryRun(e.stdout, xs, probed, f.opts.Duration)
	}
	var emitErr error
	if !f.out.quiet {
		emitErr = f.out.emit(e, func(w io.Writer) error { return chaos.WriteResults(w, m.System, results, f.out.format) })
	}
	if f.webhook != "" {
		if err := chaos.Notify(context.WithoutCancel(ctx), f.webhook, m.System, results); err != nil {
			fmt.Fprintf(e.stderr, "spof: warning: %v\n", err)
		}
	}
	switch code := chaosExitCode(results); {
	case code == ExitRestore:
		return &exitError{code: code, err: emitErr} // a fault in place outranks a lost report
	case emitErr != nil:
		return emitErr
	case code != ExitOK:
		return &exitError{code: code}
	}
	return nil
}

// chaosExitCode is the exit code of a run: 4 if a fault may be left in
// place, else 3 if an experiment did not pass, else 0.
func chaosExitCode(results []chaos.Result) int {
	code := ExitOK
	for _, r := range results {
		switch r.Verdict {
		case chaos.RestoreFailed:
			return ExitRestore
		case chaos.Falsified, chaos.FaultLost, chaos.Aborted, chaos.NotApplied:
			code = ExitFalsified
		}
	}
	return code
}

// proxyMaxTTL asks the fault proxy at api for its maximum TTL, so that
// chaos run refuses a run longer than its faults may live. Toxiproxy has no
// TTL, so no cap (0).
func proxyMaxTTL(ctx context.Context, api string) (time.Duration, error) {
	l, err := client.New(api).Limits(ctx)
	if errors.Is(err, client.ErrNoLimits) {
		return 0, nil
	}
	return l.MaxTTL, err
}

// journalError maps an error reading the journal to its exit code: a
// corrupt journal may hide faults still in place, and needs a human (4).
func journalError(err error) error {
	if errors.Is(err, chaos.ErrCorruptJournal) {
		return &exitError{code: ExitRestore, err: err}
	}
	return usageError("%v", err)
}

// noteProxyOnly says which bound components the faults leave out: only
// proxy bindings tell faults apart, the others are planned as down.
func noteProxyOnly(e *env, m *model.Model, faults []inject.Fault) {
	for _, f := range faults {
		if f.Kind == inject.Down {
			continue
		}
		for _, c := range m.Components {
			if c.Chaos != nil && c.Chaos.Proxy == nil {
				fmt.Fprintf(e.stderr, "spof: no %s experiment on %s: its %s binding can only put in its own action, which is the experiment %s-down (only proxy bindings tell faults apart)\n", f.Kind, c.Name, c.Chaos.Kind(), c.Name)
			}
		}
	}
}

// verifications reads the chaos history beside the model at path, for
// checklist item 4. No history, no verifications.
func verifications(path string, m *model.Model) (map[string]analysis.Verification, error) {
	recs, err := chaos.ReadHistory(modelStateDir(path, m))
	if err != nil {
		return nil, usageError("%v", err)
	}
	return chaos.Verifications(recs), nil
}

func newChaosHistoryCmd(e *env) *cobra.Command {
	var o outputFlags
	var dir, db string
	c := &cobra.Command{
		Use:   "history [FILE]",
		Short: "Past chaos experiments and their verdicts, oldest first",
		Long: `history lists the experiments spof chaos run recorded in the state
directory (history.jsonl): when, the verdict and why. Checklist item 4
reads the same records to say which fallbacks are verified, stale (older
than 30 days), failed, or never tested.`,
		Example: `  spof chaos history
  spof chaos history examples/shop/spof.yaml --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != "text" && o.format != "json" {
				return usageError("--format %q: want text or json", o.format)
			}
			path := modelArg(args)
			var recs []chaos.Record
			where := ""
			if db != "" {
				m, err := e.loadModel(path)
				if err != nil {
					return err
				}
				if recs, err = historyFromDB(cmd.Context(), db, m.System); err != nil {
					return err
				}
				where = "the store --db names"
			} else {
				sd, err := stateDir(e, path, len(args) == 1, dir)
				if err != nil {
					return err
				}
				if recs, err = chaos.ReadHistory(sd); err != nil {
					return usageError("%v", err)
				}
				where = filepath.Join(sd, "history.jsonl")
			}
			if o.quiet {
				return nil
			}
			return o.emit(e, func(w io.Writer) error {
				if o.format == "json" {
					if recs == nil {
						recs = []chaos.Record{}
					}
					enc := json.NewEncoder(w)
					enc.SetIndent("", "  ")
					return enc.Encode(recs)
				}
				if len(recs) == 0 {
					fmt.Fprintf(w, "no experiment recorded yet (%s)\n", where)
				}
				for _, r := range recs {
					fmt.Fprintf(w, "%s  %-15s %s: %s\n", r.Ended.UTC().Format(time.RFC3339), r.Verdict, r.Experiment, r.Reason)
				}
				return nil
			})
		},
	}
	o.register(c, "text", "text or json")
	c.Flags().StringVar(&dir, "state-dir", "", "the chaos state `DIR` (default: the model's chaos.state_dir, else .spof beside the model)")
	registerDB(c, &db, "read the runs from")
	return c
}
