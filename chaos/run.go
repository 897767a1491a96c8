package chaos

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/chaos/inject"
)

// A Verdict is how an experiment ended.
type Verdict string

// Verdicts, as DESIGN.md names them.
const (
	// Passed: every flow behaved as the model predicted, and the system
	// recovered.
	Passed Verdict = "passed"
	// Falsified: a flow did not behave as predicted (a hidden dependency,
	// or a fallback that does not work), or the system did not recover.
	Falsified Verdict = "falsified"
	// Aborted: the steady state did not hold before the fault, or the run
	// was interrupted; the fault, if injected, was restored.
	Aborted Verdict = "aborted"
	// NotApplied: the fault could not be injected.
	NotApplied Verdict = "not-applied"
	// RestoreFailed: the fault may still be in place. A human must look.
	RestoreFailed Verdict = "restore-failed"
	// FaultLost: the fault disappeared while the flows were sampled (it
	// expired, another run removed it, the proxy restarted without it).
	// What was seen says nothing about the model: it verifies nothing and
	// fails nothing.
	FaultLost Verdict = "fault-lost"
)

// A Sample is one observation of a flow through its probe.
type Sample struct {
	State   analysis.State `json:"state"`
	Detail  string         `json:"detail,omitempty"`
	At      time.Time      `json:"at"`
	Latency time.Duration  `json:"latency,omitempty"` // from the start of the sample to its answer
}

// Phases of a run, in the timeline.
const (
	PhaseSteady   = "steady"   // before the fault: the steady state check
	PhaseFault    = "fault"    // while the fault is in place
	PhaseRecovery = "recovery" // after the restore: waiting for the flows to be up
)

// A TimedSample is one sample in a run's timeline: which flow, in which
// phase of the run.
type TimedSample struct {
	Flow  string `json:"flow"`
	Phase string `json:"phase"`
	Sample
}

// MaxTimeline bounds the samples a run keeps for its timeline (about
// four hours of one flow sampled every second); the counts and the verdict
// use every sample.
const MaxTimeline = 16384

// ProbeFunc samples the probe of a flow.
type ProbeFunc func(ctx context.Context, flow string) Sample

// RunOptions time an experiment.
type RunOptions struct {
	Duration time.Duration // how long the fault stays
	Settle   time.Duration // after the injection, samples that do not count yet: breakers need a moment to open
	Recovery time.Duration // how long the flows have to be up again after the restore
	Interval time.Duration // between samples
	RunID    string        // names the journal entry, with the experiment
	// TTL is the fault's dead man's switch where the injector supports
	// one (the proxy): it goes by itself after TTL even if nobody restores
	// it. 0 means Settle + Duration + Recovery + RestoreTimeout.
	TTL time.Duration
	// RestoreTimeout bounds the restore, retries included (0: the
	// injector's, inject.RestoreTimeout).
	RestoreTimeout time.Duration
	// Abort, if set, is checked at every sample while the fault is in
	// place; a non-empty reason ends the experiment at once (restored,
	// aborted). It runs the model's abort probes: the guard rails that
	// say "stop, this is hurting more than planned".
	Abort func(ctx context.Context) (reason string)
}

// FlowResult compares the prediction for one flow with what was seen.
type FlowResult struct {
	Flow      string         `json:"flow"`
	Predicted analysis.State `json:"predicted"`
	Observed  analysis.State `json:"observed"`
	Samples   int            `json:"samples"`
	// Mismatch is the first sample that disagreed with the prediction,
	// and Mismatched how many did.
	Mismatch   *Sample `json:"mismatch,omitempty"`
	Mismatched int     `json:"mismatched,omitempty"`
}

// A Result is the record of one experiment.
type Result struct {
	Experiment string       `json:"experiment"`
	Fault      string       `json:"fault"`
	Verdict    Verdict      `json:"verdict"`
	Reason     string       `json:"reason"`
	Started    time.Time    `json:"started"`
	Ended      time.Time    `json:"ended"`
	Flows      []FlowResult `json:"flows"`
	// Timeline is every probe sample the run took, in order (at most
	// MaxTimeline of them).
	Timeline []TimedSample `json:"timeline,omitempty"`
}

// Run performs experiment x: steady state, journal, inject, sample, restore,
// verify, recovery. The fault is restored on every path out: the end of
// the sampling, an error, ctx cancelled (a signal), a panic in a probe. The
// flows observed are those of probed; the others are not judged.
func Run(ctx context.Context, x Experiment, inj Injector, probe ProbeFunc, probed []string, j FaultJournal, opts RunOptions) (res Result) {
	res = Result{Experiment: x.Name, Fault: x.Fault, Started: time.Now()}
	defer func() { res.Ended = time.Now() }()
	// Every sample goes to the timeline, with the phase the run is in.
	phase := PhaseSteady
	probeFlow := probe
	probe = func(ctx context.Context, flow string) Sample {
		s := probeFlow(ctx, flow)
		if len(res.Timeline) < MaxTimeline {
			res.Timeline = append(res.Timeline, TimedSample{Flow: flow, Phase: phase, Sample: s})
		}
		return s
	}
	predicted := map[string]analysis.State{}
	for _, o := range x.Predicted {
		predicted[o.Flow] = o.State
	}
	for _, f := range probed {
		res.Flows = append(res.Flows, FlowResult{Flow: f, Predicted: predicted[f]})
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}

	// 1. Steady state: nothing is injected into a system already failing.
	for _, f := range probed {
		if s := probe(ctx, f); s.State != analysis.Up {
			res.Verdict, res.Reason = Aborted, fmt.Sprintf("steady state does not hold before the fault: %s is %s (%s); nothing was injected", f, s.State, s.Detail)
			return res
		}
	}
	if ctx.Err() != nil {
		res.Verdict, res.Reason = Aborted, fmt.Sprintf("interrupted before the fault (%v); nothing was injected", context.Cause(ctx))
		return res
	}

	// 2. Find what the fault acts on, now that the steady state holds.
	undo, err := inj.Prepare(ctx)
	if err != nil {
		res.Verdict, res.Reason = NotApplied, fmt.Sprintf("preparing %s on %s: %v; nothing was injected", x.Fault, x.Target, err)
		return res
	}
	if opts.RestoreTimeout <= 0 {
		opts.RestoreTimeout = inject.RestoreTimeout(undo)
	}
	ttl := opts.TTL
	if ttl <= 0 {
		ttl = opts.Duration + opts.Settle + opts.Recovery + opts.RestoreTimeout
	}

	// 3. Journal, then inject. The fault's TTL covers the whole run, so
	// that it goes by itself if this process dies and nobody recovers.
	entry := Entry{ID: opts.RunID + "/" + x.Name, Experiment: x.Name, Fault: x.Fault, Undo: undo,
		Started: time.Now(), Deadline: time.Now().Add(ttl), PID: os.Getpid()}
	if err := j.Begin(entry); err != nil {
		res.Verdict, res.Reason = Aborted, fmt.Sprintf("journalling the fault: %v; nothing was injected", err)
		return res
	}
	restored := false
	restoreFault := func() error {
		restored = true
		return restore(context.WithoutCancel(ctx), j, entry, opts.RestoreTimeout, nil) // the same path as spof chaos recover
	}
	defer func() {
		r := recover()
		if restored {
			if r != nil {
				res.Verdict, res.Reason = Aborted, fmt.Sprintf("panic after the fault was restored: %v", r)
			}
			return
		}
		// A panic, or any path that did not restore: restore now.
		if err := restoreFault(); err != nil {
			res.Verdict, res.Reason = RestoreFailed, fmt.Sprintf("restoring %s: %v; the journal keeps the entry: run spof chaos recover", x.Fault, err)
		} else if r != nil {
			res.Verdict, res.Reason = Aborted, fmt.Sprintf("panic during the experiment: %v; the fault was restored", r)
		}
	}()

	f := x.fault
	f.TTL = ttl
	if err := inj.Inject(ctx, undo, f); err != nil {
		res.Verdict, res.Reason = NotApplied, fmt.Sprintf("injecting %s into %s: %v", x.Fault, x.Target, err)
		if rerr := restoreFault(); rerr != nil {
			res.Verdict, res.Reason = RestoreFailed, fmt.Sprintf("%s; then restoring: %v", res.Reason, rerr)
		}
		return res
	}

	// 4. Sample the flows while the fault lasts, checking with every
	// round that it is still there.
	injected := time.Now()
	phase = PhaseFault
	healed := ""
	present := func(ctx context.Context) (bool, error) { return inject.Present(ctx, undo) }
	stop, why := sample(ctx, &res, probe, present, opts.Abort, injected.Add(opts.Settle), injected.Add(opts.Settle+opts.Duration), opts.Interval)
	gone := time.Since(injected).Round(time.Millisecond) // when sampling stopped: if the fault was lost, when that was seen

	// 5. Restore and verify.
	if err := restoreFault(); err != nil {
		res.Verdict, res.Reason = RestoreFailed, fmt.Sprintf("restoring %s: %v; the journal keeps the entry: run spof chaos recover", x.Fault, err)
		return res
	}
	phase = PhaseRecovery
	switch stop {
	case stopAbort:
		res.Verdict, res.Reason = Aborted, why+"; the fault was restored"
		return res
	case stopInterrupted:
		res.Verdict, res.Reason = Aborted, fmt.Sprintf("interrupted during the fault (%v); the fault was restored", context.Cause(ctx))
		return res
	case stopLost:
		if !inject.Heals(undo) || !sampledAll(res.Flows) {
			res.Verdict, res.Reason = FaultLost, fmt.Sprintf("%s went away %s after the injection (%s): the samples taken since do not count, and the model is not judged",
				x.Fault, gone, why)
			return res
		}
		// The system ended the fault itself (pods replaced, a process
		// restarted), as it would a real one: judge what was sampled before.
		healed = fmt.Sprintf("; the fault ended by itself %s after the injection (%s), and the samples before count", gone, why)
	}

	// 6. Steady state again, within the recovery window.
	if f, s, ok := recovered(ctx, probe, probed, opts.Recovery, opts.Interval); !ok {
		res.Verdict, res.Reason = Falsified, fmt.Sprintf("the system did not recover within %v of the restore: %s is %s (%s)%s", opts.Recovery, f, s.State, s.Detail, healed)
		return res
	}

	for _, fr := range res.Flows {
		if fr.Samples == 0 {
			res.Verdict, res.Reason = Aborted, fmt.Sprintf("%s was not sampled while the fault lasted (--duration %v, --interval %v): nothing to judge", fr.Flow, opts.Duration, opts.Interval)
			return res
		}
	}
	for _, fr := range res.Flows {
		if fr.Mismatch != nil {
			res.Verdict = Falsified
			res.Reason = fmt.Sprintf("%s: predicted %s, observed %s at %s (%s)%s", fr.Flow, fr.Predicted, fr.Mismatch.State,
				fr.Mismatch.At.Sub(injected).Round(time.Millisecond), fr.Mismatch.Detail, healed)
			return res
		}
	}
	res.Verdict, res.Reason = Passed, "every probed flow behaved as predicted, and recovered"+healed
	return res
}

// sampledAll reports whether every flow has a sample that counts.
func sampledAll(flows []FlowResult) bool {
	for _, fr := range flows {
		if fr.Samples == 0 {
			return false
		}
	}
	return true
}

// Why sample stopped before the end of the fault.
const (
	stopEnd         = iota // the fault's duration passed
	stopInterrupted        // ctx ended
	stopAbort              // an abort probe failed
	stopLost               // the fault is no longer in place
)

// sample probes every flow each interval from from to until (samples
// before from do not count). After each round it asks present whether the
// fault is still in place: a round that ends with the fault gone, or
// unknown, is dropped, since it may have been taken without the fault. It
// says why it stopped, with the abort probe's or the presence check's
// reason.
func sample(ctx context.Context, res *Result, probe ProbeFunc, present func(context.Context) (bool, error), abort func(context.Context) string,
	from, until time.Time, every time.Duration) (stop int, why string) {
	t := time.NewTicker(every)
	defer t.Stop()
	round := make([]Sample, len(res.Flows))
	for {
		now := time.Now()
		if !now.Before(until) {
			return stopEnd, ""
		}
		if abort != nil {
			if reason := abort(ctx); reason != "" {
				return stopAbort, reason
			}
		}
		if !now.Before(from) {
			for i := range res.Flows {
				round[i] = probe(ctx, res.Flows[i].Flow)
				if ctx.Err() != nil {
					return stopInterrupted, ""
				}
			}
			on, err := present(ctx)
			switch {
			case ctx.Err() != nil:
				return stopInterrupted, ""
			case err != nil:
				return stopLost, fmt.Sprintf("cannot check that it is in place: %v", err)
			case !on:
				return stopLost, "no longer in place"
			}
			for i := range res.Flows {
				fr, s := &res.Flows[i], round[i]
				fr.Samples++
				fr.Observed = max(fr.Observed, s.State)
				if s.State != fr.Predicted {
					fr.Mismatched++
					if fr.Mismatch == nil {
						fr.Mismatch = &s
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return stopInterrupted, ""
		case <-t.C:
		}
	}
}

// recovered waits until every flow is up, at most within.
func recovered(ctx context.Context, probe ProbeFunc, flows []string, within, every time.Duration) (string, Sample, bool) {
	deadline := time.Now().Add(within)
	for {
		var bad string
		var badSample Sample
		for _, f := range flows {
			if s := probe(ctx, f); s.State != analysis.Up {
				bad, badSample = f, s
				break
			}
		}
		if bad == "" {
			return "", Sample{}, true
		}
		if !time.Now().Add(every).Before(deadline) || ctx.Err() != nil {
			return bad, badSample, false
		}
		select {
		case <-ctx.Done():
			return bad, badSample, false
		case <-time.After(every):
		}
	}
}
