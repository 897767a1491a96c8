package chaos

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/chaos/inject"
	"github.com/spofhq/spof/model"
)

// An Experiment is one fault on one component, with the hypothesis: the
// state of every flow that the model predicts while the fault lasts.
type Experiment struct {
	// Name is <target>-<fault>, e.g. session-redis-down.
	Name   string `json:"name"`
	Target string `json:"target"`
	Fault  string `json:"fault"`
	// Injector is the kind of the target's chaos binding: proxy, process,
	// command, ...
	Injector  string                 `json:"injector"`
	Predicted []analysis.FlowOutcome `json:"predicted"`
	// Exercises lists the fallbacks the fault puts to work, as
	// "app → session-redis (fallback to postgres)": a passed experiment
	// verifies them.
	Exercises []string `json:"exercises,omitempty"`
	// Edges names the same fallbacks as "from → to", the key under which
	// the checklist looks them up.
	Edges []string `json:"edges,omitempty"`

	fault inject.Fault
}

// PlanOptions narrow the plan.
type PlanOptions struct {
	Target string         // only this component ("" for every bound one)
	Faults []inject.Fault // default: down
}

// outages are the faults after which the target is as good as gone for
// whoever calls it; a latency fault is predicted by analysis.WhatIfSlow.
var outages = []string{inject.Down, inject.Blackhole, inject.Reset}

// predictable lists the faults whose effect the model predicts.
var predictable = append(slices.Clone(outages), inject.Latency)

// Plan derives the experiments the model implies: for every component
// with a chaos binding (or opts.Target), each fault of opts.Faults, with
// the flows' predicted states from the what-if analysis.
func Plan(m *model.Model, opts PlanOptions) ([]Experiment, error) {
	faults := opts.Faults
	if len(faults) == 0 {
		faults = []inject.Fault{{Kind: inject.Down}}
	}
	for _, f := range faults {
		if !slices.Contains(predictable, f.Kind) {
			return nil, fmt.Errorf("fault %s: the model cannot predict its effect (it predicts %s), so there is no hypothesis to test", f, strings.Join(predictable, ", "))
		}
	}
	var targets []*model.Component
	if opts.Target != "" {
		c := m.Component(opts.Target)
		if c == nil {
			names := make([]string, len(m.Components))
			for i, c := range m.Components {
				names[i] = c.Name
			}
			msg := fmt.Sprintf("--target %s: no such component", opts.Target)
			if s := model.Closest(opts.Target, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return nil, fmt.Errorf("%s", msg)
		}
		if c.Chaos == nil {
			return nil, fmt.Errorf("--target %s: the component has no chaos: binding, so spof cannot inject a fault into it (add one, e.g. chaos: {proxy: {listen: ..., upstream: ...}})", c.Name)
		}
		targets = []*model.Component{c}
	} else {
		for _, c := range m.Components {
			if c.Chaos != nil {
				targets = append(targets, c)
			}
		}
	}
	// Compiled once: each prediction then costs what the fault reaches.
	an, err := analysis.New(m)
	if err != nil {
		return nil, err
	}
	var out []Experiment
	for _, c := range targets {
		outage, err := an.WhatIf([]analysis.Event{{Kind: analysis.EventComponent, Name: c.Name}})
		if err != nil {
			return nil, err
		}
		exercises, edges := fallbacksInto(m, c.Name)
		for _, f := range faults {
			if f.Kind != inject.Down && c.Chaos.Proxy == nil {
				// Only the proxy tells faults apart: the other bindings put
				// in their own action, planned once, as down.
				if opts.Target == "" {
					continue
				}
				return nil, fmt.Errorf("--target %s: fault %s needs a proxy binding (the %s binding puts in its own action: plan it as down)", c.Name, f, c.Chaos.Kind())
			}
			predicted := outage
			if f.Kind == inject.Latency {
				slow, tripped, err := an.WhatIfSlow(c.Name, f.Latency)
				if err != nil {
					return nil, err
				}
				predicted = slow
				exercises, edges = fallbacksOf(tripped)
			}
			out = append(out, Experiment{
				Name:      experimentName(c.Name, f),
				Target:    c.Name,
				Fault:     f.String(),
				Injector:  c.Chaos.Kind(),
				Predicted: predicted,
				Exercises: exercises,
				Edges:     edges,
				fault:     f,
			})
		}
	}
	return out, nil
}

// experimentName is <target>-<fault>, with the delay of a latency fault
// (session-redis-latency-500ms), so that each delay keeps its own history.
func experimentName(target string, f inject.Fault) string {
	if f.Kind == inject.Latency {
		return fmt.Sprintf("%s-%s-%v", target, f.Kind, f.Latency)
	}
	return target + "-" + f.Kind
}

// fallbacksInto lists the running edges to target that degrade instead of
// failing when it is gone.
func fallbacksInto(m *model.Model, target string) (out, edges []string) {
	var into []*model.Edge
	for _, c := range m.Components {
		for _, e := range c.DependsOn {
			if e.To == target && e.Running() {
				into = append(into, e)
			}
		}
	}
	return fallbacksOf(into)
}

// fallbacksOf describes those of the edges that degrade instead of failing
// when their target is gone: "app → redis (fallback to postgres)", and
// "app → redis".
func fallbacksOf(es []*model.Edge) (out, edges []string) {
	for _, e := range es {
		if !e.Degrades() {
			continue
		}
		how := "fallback: " + e.Fallback
		switch {
		case e.AsyncVia != "":
			how = "async via " + e.AsyncVia
		case e.FallbackTo != "":
			how = "fallback to " + e.FallbackTo
		}
		out = append(out, fmt.Sprintf("%s → %s (%s)", e.From, e.To, how))
		edges = append(edges, e.From+" → "+e.To)
	}
	return out, edges
}

// ParseFault reads a fault as the command line writes it: down,
// blackhole, reset, latency:500ms, bandwidth:64 (KB/s), limit_data:1024
// (bytes), slow_close:1s.
func ParseFault(s string) (inject.Fault, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	f := inject.Fault{Kind: kind}
	switch kind {
	case inject.Down, inject.Blackhole, inject.Reset:
		if hasArg {
			return f, fmt.Errorf("fault %q: %s takes no argument", s, kind)
		}
		return f, nil
	case inject.Latency, inject.SlowClose:
		d, err := parsePositiveDuration(arg)
		if err != nil {
			return f, fmt.Errorf("fault %q: %v (e.g. %s:500ms)", s, err, kind)
		}
		if kind == inject.Latency {
			f.Latency = d
		} else {
			f.Delay = d
		}
		return f, nil
	case inject.Bandwidth, inject.LimitData:
		var n int64
		if _, err := fmt.Sscan(arg, &n); err != nil || n <= 0 || fmt.Sprint(n) != arg {
			return f, fmt.Errorf("fault %q: want a positive whole number (e.g. %s:64)", s, kind)
		}
		if kind == inject.Bandwidth {
			f.Rate = n
		} else {
			f.Bytes = n
		}
		return f, nil
	}
	kinds := []string{inject.Down, inject.Blackhole, inject.Reset, inject.Latency, inject.Bandwidth, inject.SlowClose, inject.LimitData}
	msg := fmt.Sprintf("unknown fault %q (want one of: %s)", s, strings.Join(kinds, ", "))
	if c := model.Closest(kind, kinds); c != "" {
		msg = fmt.Sprintf("unknown fault %q (did you mean %q?)", s, c)
	}
	return f, fmt.Errorf("%s", msg)
}

// parsePositiveDuration reads a fault's delay. The proxy counts delays
// in whole milliseconds up to a day: a finer one would be injected as
// something else than planned (latency:1ns as 0 ms), so it is refused.
func parsePositiveDuration(s string) (d time.Duration, err error) {
	d, err = time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a positive duration")
	}
	if d%time.Millisecond != 0 {
		return 0, fmt.Errorf("want whole milliseconds, the proxy's resolution (%v would be injected as %v)", d, d.Truncate(time.Millisecond))
	}
	if d > 24*time.Hour {
		return 0, fmt.Errorf("want at most 24h, the proxy's limit")
	}
	return d, nil
}

// PlanExperiment plans the one experiment that name names, as spof chaos
// plan would: <target>-down, -blackhole, -reset, or -latency-<delay>
// (session-redis-latency-500ms).
func PlanExperiment(m *model.Model, name string) (Experiment, error) {
	var target *model.Component
	for _, c := range m.Components {
		if c.Chaos != nil && strings.HasPrefix(name, c.Name+"-") && (target == nil || len(c.Name) > len(target.Name)) {
			target = c
		}
	}
	if target != nil {
		rest := name[len(target.Name)+1:]
		spec := rest
		if d, ok := strings.CutPrefix(rest, inject.Latency+"-"); ok {
			spec = inject.Latency + ":" + d
		}
		if f, err := ParseFault(spec); err == nil && slices.Contains(predictable, f.Kind) {
			xs, err := Plan(m, PlanOptions{Target: target.Name, Faults: []inject.Fault{f}})
			if err != nil {
				return Experiment{}, err
			}
			if xs[0].Name == name {
				return xs[0], nil
			}
		}
	}
	var names []string
	for _, c := range m.Components {
		if c.Chaos != nil {
			for _, k := range outages {
				names = append(names, c.Name+"-"+k)
			}
		}
	}
	msg := fmt.Sprintf("--experiment %s: not an experiment of this model", name)
	if s := model.Closest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return Experiment{}, fmt.Errorf("%s; names are <component>-<fault>, the component one with a chaos: binding and the fault down, blackhole, reset or latency-<delay> (e.g. latency-500ms)", msg)
}

// Down lists the flows the experiment is predicted to take down: its
// blast radius.
func (x Experiment) Down() []string {
	var out []string
	for _, o := range x.Predicted {
		if o.State == analysis.Down {
			out = append(out, o.Flow)
		}
	}
	return out
}
