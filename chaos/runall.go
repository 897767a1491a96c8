package chaos

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/probe"
)

// A Selection says which experiments of a model's plan to run.
type Selection struct {
	Names []string // experiments by name, as Plan names them
	// All: every experiment of the plan for Faults (default down), but
	// those over MaxBlast, which are skipped.
	All    bool
	Faults []inject.Fault
	// MaxBlast is the most flows an experiment may be predicted to take
	// down. Named experiments over it are refused.
	MaxBlast int
}

// Check says what is wrong with sel itself, whatever the model.
func (sel Selection) Check() error {
	switch {
	case len(sel.Names) == 0 && !sel.All:
		return errors.New("name the experiments with --experiment NAME (see spof chaos plan), or run them all with --all")
	case len(sel.Names) > 0 && sel.All:
		return errors.New("--experiment and --all: choose one")
	case len(sel.Faults) > 0 && !sel.All:
		return errors.New("--fault goes with --all; an experiment's name says its fault (e.g. --experiment session-redis-latency-500ms)")
	case sel.MaxBlast < 0:
		return fmt.Errorf("--max-blast-radius %d: must not be negative", sel.MaxBlast)
	}
	return nil
}

// A Skip is an experiment Select left out, and why.
type Skip struct {
	Experiment Experiment
	Reason     string
}

// Select returns the experiments of m that sel names, in order, and those
// the blast-radius guard skipped.
func Select(m *model.Model, sel Selection) ([]Experiment, []Skip, error) {
	if err := sel.Check(); err != nil {
		return nil, nil, err
	}
	var xs []Experiment
	var skipped []Skip
	if sel.All {
		plan, err := Plan(m, PlanOptions{Faults: sel.Faults})
		if err != nil {
			return nil, nil, err
		}
		for _, x := range plan {
			if down := x.Down(); len(down) > sel.MaxBlast {
				skipped = append(skipped, Skip{x, fmt.Sprintf("predicted to take down %s, more than --max-blast-radius %d", FlowList(down), sel.MaxBlast)})
				continue
			}
			xs = append(xs, x)
		}
		return xs, skipped, nil
	}
	for _, name := range sel.Names {
		x, err := PlanExperiment(m, name)
		if err != nil {
			return nil, nil, err
		}
		if down := x.Down(); len(down) > sel.MaxBlast {
			return nil, nil, fmt.Errorf("%s is predicted to take down %s; --max-blast-radius is %d: raise it to %d to run it", x.Name, FlowList(down), sel.MaxBlast, len(down))
		}
		xs = append(xs, x)
	}
	return xs, nil, nil
}

// FlowList is "checkout" or "2 flows (browse, checkout)".
func FlowList(flows []string) string {
	if len(flows) == 1 {
		return flows[0]
	}
	return fmt.Sprintf("%d flows (%s)", len(flows), strings.Join(flows, ", "))
}

// RunAllOptions set up a run of several experiments.
type RunAllOptions struct {
	RunOptions // each experiment's timing; Interval 0: the probes' shortest, else 1s
	// ModelPath is the model's file: command bindings and probes run in its
	// directory.
	ModelPath string
	// StateDir holds the journal, the history and the run lock.
	StateDir string
	// Journal, if set, is used instead of the state directory's journal;
	// the caller then keeps other runs away (spof serve: the scheduler's
	// leadership) and StateDir's lock is not taken. Record, if set, is
	// used instead of the state directory's history (spof chaos run --db).
	Journal FaultJournal
	Record  func(Record) error
	// DryRun checks everything that needs no system (the flows to probe,
	// the bindings, the proxy's maximum TTL) and runs nothing.
	DryRun bool
	// MaxTTL, if set, asks the fault proxy for its maximum TTL (CheckTTL).
	MaxTTL MaxTTLFunc
	// Progress, if set, is called as each experiment starts; the function
	// it returns, as it ends.
	Progress func(x Experiment) (done func())
	// Warn, if set, hears what went wrong without changing a verdict
	// (a history record that could not be written).
	Warn func(error)
	// Now is the clock that names the run (nil: time.Now).
	Now func() time.Time
}

// ErrNotReady: the run cannot start as asked (no probe, a binding that
// does not fit, faults left in the journal, another run holding the state
// directory); nothing was injected. The error says what to change.
var ErrNotReady = errors.New("the chaos run cannot start")

// notReadyError is ErrNotReady with what to change; it reads as its
// cause alone.
type notReadyError struct{ err error }

func (e *notReadyError) Error() string        { return e.err.Error() }
func (e *notReadyError) Unwrap() error        { return e.err }
func (e *notReadyError) Is(target error) bool { return target == ErrNotReady }

// RunAll runs the experiments xs of m one after the other, holding the
// state directory's run lock the whole time: each one's steady state,
// fault, samples, restore and recovery (Run), then its record in the
// history. It stops early when ctx ends. Before anything is injected it
// checks that some flow has a probe, that every binding fits, that no
// fault is left in the journal and that the proxy lets a fault live as
// long as an experiment lasts: an error there (ErrNotReady, or
// ErrCorruptJournal) means nothing was done. With opts.DryRun it stops
// after these checks.
func RunAll(ctx context.Context, m *model.Model, xs []Experiment, opts RunAllOptions) ([]Result, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	notReady := func(format string, args ...any) error {
		return &notReadyError{fmt.Errorf(format, args...)}
	}
	if len(xs) == 0 {
		return nil, notReady("no experiment to run in %s (no component has a chaos: binding, or every experiment is over --max-blast-radius)", opts.ModelPath)
	}
	probed, interval := ProbedFlows(m)
	if len(probed) == 0 {
		return nil, notReady("no flow of %s has a probe: add probe: {http: URL} to the flows to observe", opts.ModelPath)
	}
	if opts.Interval == 0 {
		opts.Interval = interval
	}
	dir := filepath.Dir(opts.ModelPath)
	if opts.RunID == "" {
		opts.RunID = NewRunID(now())
	}
	injectors := make([]Injector, len(xs))
	for i, x := range xs {
		var err error
		if injectors[i], err = InjectorFor(m, x, dir, opts.RunID); err != nil {
			return nil, notReady("%w", err)
		}
	}
	if err := CheckTTL(ctx, xs, m.Chaos.ProxyAPIOrDefault(), opts.RunOptions, opts.MaxTTL); err != nil {
		return nil, notReady("%w", err)
	}
	if opts.DryRun {
		return nil, nil
	}

	j, record := opts.Journal, opts.Record
	if j == nil {
		fj, err := OpenJournal(opts.StateDir)
		if err != nil {
			return nil, notReady("%w", err)
		}
		lock, err := LockRun(opts.StateDir, now())
		if err != nil {
			return nil, notReady("%w", err)
		}
		defer lock.Close()
		j = fj
		if record == nil {
			record = fj.AppendHistory
		}
	}
	if record == nil {
		record = func(Record) error { return nil }
	}
	open, err := j.Entries()
	if err != nil {
		return nil, err
	}
	if len(open) > 0 {
		what := "a fault"
		if len(open) > 1 {
			what = fmt.Sprintf("%d faults", len(open))
		}
		return nil, notReady("the chaos journal %s records %s not restored (first: %s): run spof chaos recover first", j.Path(), what, open[0].Experiment)
	}

	byFlow := map[string]*model.Probe{}
	for _, fl := range m.Flows {
		byFlow[fl.Name] = fl.Probe
	}
	sample := func(ctx context.Context, flow string) Sample {
		r := probe.Run(ctx, byFlow[flow], probe.Options{Dir: dir})
		return Sample{State: r.State, Detail: r.Detail, At: r.At, Latency: r.Latency}
	}
	if m.Chaos != nil && len(m.Chaos.AbortProbes) > 0 && opts.Abort == nil {
		aborts := m.Chaos.AbortProbes
		opts.Abort = func(ctx context.Context) string {
			for _, p := range aborts {
				if r := probe.Run(ctx, p, probe.Options{Dir: dir}); r.State == analysis.Down && ctx.Err() == nil {
					return fmt.Sprintf("abort probe %s failed: %s", p.Name, r.Detail)
				}
			}
			return ""
		}
	}
	var results []Result
	for i, x := range xs {
		if ctx.Err() != nil {
			break
		}
		done := func() {}
		if opts.Progress != nil {
			done = opts.Progress(x)
		}
		res := Run(ctx, x, injectors[i], sample, probed, j, opts.RunOptions)
		done()
		results = append(results, res)
		if err := record(Record{Result: res, Edges: x.Edges}); err != nil && opts.Warn != nil {
			opts.Warn(err)
		}
	}
	return results, nil
}

// ProbedFlows returns the flows of m that have a probe, and the shortest
// of their probes' intervals: how often a run samples them.
func ProbedFlows(m *model.Model) (flows []string, interval time.Duration) {
	for _, fl := range m.Flows {
		if fl.Probe != nil {
			flows = append(flows, fl.Name)
			if interval == 0 || fl.Probe.IntervalOrDefault() < interval {
				interval = fl.Probe.IntervalOrDefault()
			}
		}
	}
	return flows, interval
}
