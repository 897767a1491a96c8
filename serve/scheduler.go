package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spofhq/spof/chaos"
	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
	"github.com/spofhq/spof/store"
)

// The scheduler runs the experiments of the models' chaos.schedules on
// exactly one replica at a time: the holder of the store's "scheduler"
// lease (a PostgreSQL advisory lock; with SQLite, the one node). On
// becoming the leader it first restores every fault the shared journal
// still records (a replica killed mid-run), records those runs as
// aborted, and only then runs anything.
//
// A schedule fires at most once per time it is due, whichever replica
// leads: before running, the leader looks in the store for a run of that
// schedule and time (its run ID names both), finished or recovered.
//
// Only systems loaded from --model files run experiments: a model posted
// through the API is request data, and its bindings and probes name
// commands to run.
type scheduler struct {
	s     *Server
	env   string // experiments run only for models whose environment matches
	lease store.Lease

	leader  atomic.Bool
	mu      sync.Mutex // held by the run in flight: one at a time
	running sync.WaitGroup
	cmu     sync.Mutex
	cancel  context.CancelFunc // of the run in flight

	next map[string]time.Time // schedule key → when it is next due
}

const leaseName = "scheduler"

// defaultRun are the timings of a scheduled experiment, as spof chaos
// run's defaults.
var defaultRun = chaos.RunOptions{Duration: 30 * time.Second, Settle: 2 * time.Second, Recovery: 30 * time.Second}

func newScheduler(s *Server, env string) *scheduler {
	return &scheduler{s: s, env: env, next: map[string]time.Time{}}
}

// loop leads when it can and runs what is due, until ctx ends. Then it
// stops the run in flight, which restores its fault, and releases the
// lease.
func (sc *scheduler) loop(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	defer sc.resign()
	for {
		sc.step(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// step is one turn of the loop.
func (sc *scheduler) step(ctx context.Context) {
	st := sc.s.cfg.Store
	if !sc.leader.Load() {
		lease, ok, err := st.TryLead(ctx, leaseName)
		if err != nil {
			if ctx.Err() == nil {
				sc.s.log.Error("scheduler: asking for the lead", "err", err)
			}
			return
		}
		if !ok {
			return
		}
		sc.lease = lease
		if err := sc.recover(ctx); err != nil {
			// Nothing runs while a fault may be in place.
			sc.s.log.Error("scheduler: recovering the journal; giving the lead up", "err", err)
			sc.resign()
			return
		}
		sc.leader.Store(true)
		sc.s.log.Info("scheduler: leading", "node", sc.s.cfg.Node)
	}
	if err := sc.lease.Check(ctx); err != nil {
		sc.s.log.Error("scheduler: lead lost; stopping the run in flight", "err", err)
		sc.resign()
		return
	}
	now := sc.s.now()
	for _, sys := range sc.s.list() {
		if sys.file == "" || sys.model.Chaos == nil || len(sys.model.Chaos.Schedules) == 0 {
			continue
		}
		for _, sched := range sys.model.Chaos.Schedules {
			key := sys.name + "/" + sched.Name
			cron, err := model.ParseCron(sched.Cron)
			if err != nil {
				continue // the model was checked when read
			}
			due, ok := sc.next[key]
			if !ok {
				sc.next[key] = cron.Next(now)
				continue
			}
			if now.Before(due) {
				continue
			}
			if sc.fire(ctx, sys, sched, due) {
				sc.next[key] = cron.Next(now)
			}
		}
	}
}

// resign gives the lead up and stops the run in flight, waiting for it
// to restore its fault.
func (sc *scheduler) resign() {
	sc.cmu.Lock()
	if c := sc.cancel; c != nil {
		c()
	}
	sc.cmu.Unlock()
	sc.running.Wait()
	sc.leader.Store(false)
	if sc.lease != nil {
		sc.lease.Release()
		sc.lease = nil
	}
}

// runID names a scheduled run by its schedule and due time, so that a
// later leader recognises it.
func runID(system, schedule string, due time.Time) string {
	return "sched-" + system + "-" + schedule + "-" + strconv.FormatInt(due.Unix(), 10)
}

// fire starts a schedule's experiments, unless a run of that schedule and
// due time is in the store already. It returns false when another run is
// in flight: the schedule stays due, for the next tick.
func (sc *scheduler) fire(ctx context.Context, sys *system, sched *model.Schedule, due time.Time) bool {
	log := sc.s.log.With("system", sys.name, "schedule", sched.Name, "due", due)
	if sc.env == "" || sys.model.Environment != sc.env {
		log.Warn("scheduler: not run: spof serve --env must match the model's environment", "env", sc.env, "model_env", sys.model.Environment)
		return true
	}
	id := runID(sys.name, sched.Name, due)
	done, err := sc.ran(ctx, sys.name, id)
	if err != nil {
		log.Error("scheduler: reading the store", "err", err)
		return false
	}
	if done {
		log.Info("scheduler: already run by another replica")
		return true
	}
	flows := len(sys.model.Flows)
	xs, _, err := chaos.Select(sys.model, chaos.Selection{Names: sched.Experiments, MaxBlast: flows})
	if err != nil {
		log.Error("scheduler: the schedule names experiments the plan does not have", "err", err)
		return true
	}
	opts := defaultRun
	if sched.Duration > 0 {
		opts.Duration = sched.Duration
	}
	opts.RunID = id
	return sc.start(ctx, sys, xs, opts, "schedule", log)
}

// ran reports whether the store has a run of batch id (a schedule's due
// time), finished or recovered.
func (sc *scheduler) ran(ctx context.Context, system, id string) (bool, error) {
	runs, err := sc.s.cfg.Store.Runs(ctx, store.RunQuery{System: system, Batch: id, Limit: 1})
	if err != nil {
		return false, err
	}
	return len(runs) > 0, nil
}

// start runs experiments of a system in the background and records each
// in the store; false when a run is in flight already (one at a time).
func (sc *scheduler) start(ctx context.Context, sys *system, xs []chaos.Experiment, opts chaos.RunOptions, trigger string, log *slog.Logger) bool {
	if !sc.mu.TryLock() {
		return false
	}
	rctx, cancel := context.WithCancel(ctx)
	sc.cmu.Lock()
	sc.cancel = cancel
	sc.cmu.Unlock()
	sc.running.Add(1)
	go func() {
		defer sc.running.Done()
		defer sc.mu.Unlock()
		defer func() {
			cancel()
			sc.cmu.Lock()
			sc.cancel = nil
			sc.cmu.Unlock()
		}()
		sc.run(ctx, rctx, sys, xs, opts, trigger, log)
	}()
	return true
}

// run runs the experiments and records each in the store (with ctx, which
// outlives rctx: a run stopped by a lost lead is still recorded).
func (sc *scheduler) run(ctx, rctx context.Context, sys *system, xs []chaos.Experiment, opts chaos.RunOptions, trigger string, log *slog.Logger) {
	j := &storeJournal{st: sc.s.cfg.Store, system: sys.name, node: sc.s.cfg.Node}
	_, err := chaos.RunAll(rctx, sys.model, xs, chaos.RunAllOptions{
		RunOptions: opts,
		ModelPath:  sys.file,
		Journal:    j,
		Record: func(rec chaos.Record) error {
			return sc.record(context.WithoutCancel(ctx), sys.name, rec, trigger, opts.RunID)
		},
		Warn: func(err error) { log.Error("scheduler: recording a run", "err", err) },
	})
	if err != nil {
		log.Error("scheduler: the run did not start", "err", err)
	}
}

// record stores a run, in batch id.
func (sc *scheduler) record(ctx context.Context, system string, rec chaos.Record, trigger, id string) error {
	r, err := RunOf(system, rec, trigger, sc.s.cfg.Node, id)
	if err != nil {
		return err
	}
	if _, err := sc.s.cfg.Store.PutRun(ctx, r); err != nil {
		return err
	}
	sc.s.metrics.Recorded(system, r.Verdict)
	if cur := sc.s.system(system); cur != nil {
		return sc.s.reverify(ctx, cur)
	}
	return nil
}

// RunOf is what the store keeps of an experiment's record: its verdict,
// flows and timeline, who ran it (node, trigger) and in which batch.
func RunOf(system string, rec chaos.Record, trigger, node, batch string) (store.Run, error) {
	flows, err := json.Marshal(rec.Flows)
	if err != nil {
		return store.Run{}, err
	}
	r := store.Run{System: system, Experiment: rec.Experiment, Fault: rec.Fault, Verdict: string(rec.Verdict),
		Reason: rec.Reason, Trigger: trigger, Node: node, Batch: batch, Started: rec.Started, Ended: rec.Ended,
		Edges: rec.Edges, Flows: flows}
	for _, s := range rec.Timeline {
		r.Samples = append(r.Samples, store.Sample{At: s.At, Flow: s.Flow, State: s.State.String(), Latency: s.Latency, Detail: s.Detail})
	}
	return r, nil
}

// recover restores the faults the shared journal records (what a replica
// killed mid-run left) and records their runs as aborted.
func (sc *scheduler) recover(ctx context.Context) error {
	j := &storeJournal{st: sc.s.cfg.Store, node: sc.s.cfg.Node}
	open, err := sc.s.cfg.Store.OpenFaults(ctx)
	if err != nil || len(open) == 0 {
		return err
	}
	byID := map[string]store.Fault{}
	for _, f := range open {
		byID[f.ID] = f
	}
	recs, err := chaos.Recover(ctx, j, chaos.RecoverOptions{Force: true})
	if err != nil {
		return err
	}
	var failed []error
	for _, r := range recs {
		f := byID[r.Entry.ID]
		if r.Err != nil {
			failed = append(failed, fmt.Errorf("%s (%s): %w", f.Experiment, f.Fault, r.Err))
			continue
		}
		sc.s.log.Warn("scheduler: restored a fault a replica left", "system", f.System, "experiment", f.Experiment, "node", f.Node)
		id, _, _ := strings.Cut(f.ID, "/")
		trigger := "api"
		if strings.HasPrefix(id, "sched-") {
			trigger = "schedule"
		}
		run := store.Run{System: f.System, Experiment: f.Experiment, Fault: f.Fault, Verdict: string(chaos.Aborted),
			Reason:  fmt.Sprintf("the replica running it (%s) stopped mid-run; %s restored the fault", f.Node, sc.s.cfg.Node),
			Trigger: trigger, Node: f.Node, Batch: id, Started: f.Started, Ended: sc.s.now()}
		if f.System != "" {
			if _, err := sc.s.cfg.Store.PutRun(ctx, run); err != nil {
				return err
			}
		}
	}
	return errors.Join(failed...)
}

// storeJournal is the chaos journal in the store: every replica sees the
// faults any of them injected.
type storeJournal struct {
	st     store.Store
	system string
	node   string
}

func (j *storeJournal) Begin(e chaos.Entry) error {
	undo, err := json.Marshal(e.Undo)
	if err != nil {
		return err
	}
	return j.st.BeginFault(context.Background(), store.Fault{ID: e.ID, System: j.system, Experiment: e.Experiment,
		Fault: e.Fault, Undo: undo, Node: j.node, Started: e.Started, Deadline: e.Deadline})
}

func (j *storeJournal) End(id string) error { return j.st.EndFault(context.Background(), id) }

// Entries are the open faults of every replica. Their PID is left 0: a
// process number means nothing on another machine, and the lease says
// that the replica that began them is no longer running.
func (j *storeJournal) Entries() ([]chaos.Entry, error) {
	faults, err := j.st.OpenFaults(context.Background())
	if err != nil {
		return nil, err
	}
	out := make([]chaos.Entry, 0, len(faults))
	for _, f := range faults {
		var undo inject.Undo
		if err := json.Unmarshal(f.Undo, &undo); err != nil {
			return nil, fmt.Errorf("the store's chaos journal: fault %s: %w", f.ID, err)
		}
		out = append(out, chaos.Entry{ID: f.ID, Experiment: f.Experiment, Fault: f.Fault, Undo: undo,
			Started: f.Started, Deadline: f.Deadline})
	}
	return out, nil
}

func (j *storeJournal) Path() string { return "the store's chaos journal" }

var _ chaos.FaultJournal = (*storeJournal)(nil)
