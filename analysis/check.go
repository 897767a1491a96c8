package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spofhq/spof/model"
)

// Options tune Check.
type Options struct {
	// Flows restricts the analysis to these flows (all when empty). Names
	// must exist in the model; CheckFlows reports those that do not.
	Flows []string
	// Verified holds, per fallback edge ("app → session-redis"), the last
	// chaos experiment that exercised it; checklist item 4 reads it.
	Verified map[string]Verification
	// Now dates the verifications: older than StaleAfter is stale.
	Now time.Time
	// Drift, when the model was compared with its sources (spof drift,
	// check with --from), decides checklist item 3.
	Drift *DriftReport
}

// StaleAfter is how long a passed experiment keeps a fallback verified.
const StaleAfter = 30 * 24 * time.Hour

// A Verification is the last chaos experiment that exercised a fallback.
type Verification struct {
	Experiment string
	At         time.Time
	Passed     bool
}

// CheckFlows returns an error naming the first flow in names that m does
// not declare, with a "did you mean" hint.
func CheckFlows(m *model.Model, names []string) error {
	var all []string
	for _, f := range m.Flows {
		all = append(all, f.Name)
	}
	for _, n := range names {
		if m.Flow(n) == nil {
			msg := fmt.Sprintf("no flow named %q", n)
			if s := model.Closest(n, all); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else if len(all) > 0 {
				msg += " (flows: " + strings.Join(all, ", ") + ")"
			}
			return fmt.Errorf("%s", msg)
		}
	}
	return nil
}

// Check runs the order-1 analysis: every basic event whose failure alone
// stops, degrades, or blocks the recovery of a flow, and every person with
// a bus factor of one, ranked.
//
// It returns an error rather than a partial answer: one wrapping
// ErrInvalidModel when m names something it does not declare, has a value
// out of range or a cycle of running-time dependencies (a model from
// model.Parse has none of these), and one naming the flow when
// opts.Flows names a flow m does not declare.
func Check(m *model.Model, opts Options) (*Result, error) {
	return check(m, opts, true)
}

// check is Check, sharing work along fused paths or not (the tests compare
// both).
func check(m *model.Model, opts Options, fuse bool) (*Result, error) {
	a, err := newAnalyzer(m, opts.Flows)
	if err != nil {
		return nil, err
	}
	if !fuse {
		for x := range a.fu.parent {
			a.fu.parent[x] = -1
		}
	}
	res := &Result{System: m.System}
	// Events that take down one fused component are evaluated by head,
	// once per head (see fused.go).
	a.opts = opts
	events := Events(m)
	// On a large model, the names are ranked while the jobs are listed,
	// and the checklist items that need no findings are made meanwhile.
	var ranked, early sync.WaitGroup
	var modelChecks []ChecklistItem
	if len(events) >= parallelJobs && workers() > 1 {
		ranked.Go(a.rankNames)
		early.Go(func() { modelChecks = modelItems(a) })
	} else {
		modelChecks = modelItems(a)
	}
	downs := a.downByAll(events)
	// Findings of single events first, then of fused heads, as they
	// always were.
	var singles, heads []job
	fused := map[int32]int{} // head → its job in heads
	for i, e := range events {
		if e.Kind == EventPerson {
			continue
		}
		down := downs[i]
		if len(down) == 0 {
			continue
		}
		if x := down[0]; len(down) == 1 && a.fu.parent[x] >= 0 {
			h := a.fu.head[x]
			j, ok := fused[h]
			if !ok {
				j = len(heads)
				fused[h] = j
				heads = append(heads, job{head: h})
			}
			heads[j].fused = append(heads[j].fused, fusedEvent{e: e, x: x})
			continue
		}
		singles = append(singles, job{e: e, down: down, head: -1})
	}
	jobs := append(singles, heads...)
	ranked.Wait()
	res.Findings = a.evaluate(jobs)
	res.Findings = append(res.Findings, a.operational()...)
	rankFindings(res.Findings)
	res.Flows = a.flowSummaries(res.Findings)
	early.Wait()
	res.Checklist = numberItems(append(modelChecks, findingItems(a, res.Findings)...))
	return res, nil
}

// job is the evaluation of one event that takes down down, or of the
// events fused below one head (head ≥ 0).
type job struct {
	e     Event
	down  []int32
	head  int32
	fused []fusedEvent
}

func (a *analyzer) run(j *job) []Finding {
	if j.head >= 0 {
		return a.evaluateFused(j.head, j.fused)
	}
	if f, ok := a.evaluateEvent(j.e, j.down); ok {
		return []Finding{f}
	}
	return nil
}

// parallelJobs is the least number of jobs evaluate shares between
// goroutines; a variable so that tests can lower it.
var parallelJobs = 2048

// evaluate runs the jobs and returns their findings in job order. Many
// jobs are shared between goroutines, each with an analyzer of its own
// over the same compiled model (nothing changes it once the lazy
// indexes are built).
func (a *analyzer) evaluate(jobs []job) []Finding {
	workers := workers()
	if workers < 2 || len(jobs) < parallelJobs {
		var out []Finding
		for i := range jobs {
			out = append(out, a.run(&jobs[i])...)
		}
		return out
	}
	a.rankNames()
	a.fusedChildren()
	found := make([][]Finding, len(jobs))
	// Events of zones, regions, providers and hazards, and fused heads,
	// can each take down a large part of the model: they are handed out
	// one at a time, first, so that no goroutine is left with several of
	// them at the end. Then the rest, a batch at a time.
	var heavy, light []int
	for i := range jobs {
		if k := jobs[i].e.Kind; jobs[i].head >= 0 || k != EventComponent && k != EventInstance {
			heavy = append(heavy, i)
		} else {
			light = append(light, i)
		}
	}
	var nextHeavy, nextLight atomic.Int64
	const batch = 64
	subs := make([]*analyzer, workers)
	var wg sync.WaitGroup
	for w := range subs {
		sub := *a
		sub.p = newPropagator(a.g)
		sub.special = map[string][]string{}
		subs[w] = &sub
		wg.Go(func() {
			for {
				if i := int(nextHeavy.Add(1)) - 1; i < len(heavy) {
					found[heavy[i]] = sub.run(&jobs[heavy[i]])
					continue
				}
				lo := int(nextLight.Add(batch)) - batch
				if lo >= len(light) {
					return
				}
				for _, i := range light[lo:min(lo+batch, len(light))] {
					found[i] = sub.run(&jobs[i])
				}
			}
		})
	}
	wg.Wait()
	var out []Finding
	for _, fs := range found {
		out = append(out, fs...)
	}
	for _, sub := range subs {
		maps.Copy(a.special, sub.special)
	}
	return out
}

// workers is how many goroutines share the work of a large model.
func workers() int { return min(runtime.GOMAXPROCS(0), 8) }

// downByAll is downBy of each event, shared between goroutines when there
// are many.
func (a *analyzer) downByAll(events []Event) [][]int32 {
	downs := make([][]int32, len(events))
	w := workers()
	if w < 2 || len(events) < parallelJobs {
		w = 1
	}
	var wg sync.WaitGroup
	for k := range w {
		lo, hi := len(events)*k/w, len(events)*(k+1)/w
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				if events[i].Kind != EventPerson {
					downs[i] = a.downBy(events[i])
				}
			}
		})
	}
	wg.Wait()
	return downs
}

// analyzer holds what every event's evaluation shares.
type analyzer struct {
	opts Options
	m    *model.Model
	g    *graph
	ix   *eventIndex
	p    *propagator
	sel  flowSet // the flows analysed

	// phasedBy[t] lists the when: edges that have t as a target.
	phasedBy [][]phasedRef

	// nameRank[x] is the position of component x in name order, computed
	// on first use by sortedNames.
	nameRank []int32

	fu         *fusion
	fuChildren [][]int32
	fusedRoot  fusedRoot
	// special[event] lists the CI and monitoring components in the blast
	// radius of the event's finding, for the checklist: a finding names
	// only the first MaxComponents.
	special map[string][]string
}

// MaxComponents caps Finding.Components: a long dependency chain has as
// many findings as components, each with a blast radius of up to all of
// them, so the full lists would grow with the square of the model.
const MaxComponents = 100

// blastRadius is a finding's blast radius: its first names and its size.
type blastRadius struct {
	names []string
	count int
}

// specialsIn lists the CI and monitoring components among xs.
func (a *analyzer) specialsIn(xs []int32) []string {
	var out []string
	for _, x := range xs {
		if k := a.m.Components[x].Kind; k == model.KindCI || k == model.KindMonitoring {
			out = append(out, a.m.Components[x].Name)
		}
	}
	return out
}

// sortedNames returns the first MaxComponents names of components xs in
// name order. A long
// list is sorted by each component's rank in name order, computed once for
// all the findings: the blast radii of zone and region events together
// hold several times the model's components, and comparing integers is
// much cheaper than comparing names.
func (a *analyzer) sortedNames(xs []int32) []string {
	if len(xs) < 256 {
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = a.m.Components[x].Name
		}
		slices.Sort(out)
		return slices.Clip(out[:min(len(out), MaxComponents)])
	}
	a.rankNames()
	ranked := make([]uint64, len(xs))
	for i, x := range xs {
		ranked[i] = uint64(a.nameRank[x])<<32 | uint64(uint32(x))
	}
	slices.Sort(ranked)
	out := make([]string, min(len(ranked), MaxComponents))
	for i := range out {
		out[i] = a.m.Components[int32(uint32(ranked[i]))].Name
	}
	return out
}

// rankNames computes nameRank, once.
func (a *analyzer) rankNames() {
	if a.nameRank != nil {
		return
	}
	byName := make([]int32, len(a.m.Components))
	for i := range byName {
		byName[i] = int32(i)
	}
	slices.SortFunc(byName, func(x, y int32) int {
		return strings.Compare(a.m.Components[x].Name, a.m.Components[y].Name)
	})
	a.nameRank = make([]int32, len(byName))
	for r, x := range byName {
		a.nameRank[x] = int32(r)
	}
}

type phasedRef struct {
	from int32
	e    *edge
}

// newAnalyzer compiles m and selects flows (all when empty).
func newAnalyzer(m *model.Model, flows []string) (*analyzer, error) {
	g, err := compile(m)
	if err != nil {
		return nil, err
	}
	if err := CheckFlows(m, flows); err != nil {
		return nil, err
	}
	a := &analyzer{m: m, g: g, ix: newEventIndex(g), p: newPropagator(g), sel: newFlowSet(g.flows)}
	for f := range m.Flows {
		if len(flows) == 0 || slices.Contains(flows, m.Flows[f].Name) {
			a.sel.add(f)
		}
	}
	a.phasedBy = phasedIndex(g)
	a.fusedRoot = fusedRoot{head: -1, x: -1}
	a.special = map[string][]string{}
	a.computeFusion()
	return a, nil
}

// effect is what one event does to the flows.
type effect struct {
	down, degraded []int // flows, selected only
	recovery       flowSet
	recoveryVia    *phasedRef // the first when: edge blocked
}

// downBy lists the components event e takes down by themselves.
func (a *analyzer) downBy(e Event) []int32 {
	var down []int32
	for _, x := range a.ix.candidates(a.m, e) {
		if !singleAvailable(a.m, e, a.m.Components[x]) {
			down = append(down, x)
		}
	}
	return down
}

// evaluateEvent evaluates one event, which takes down the components
// down, with the propagator and turns its effect into a finding. It
// reports false when the event hurts no flow.
func (a *analyzer) evaluateEvent(e Event, down []int32) (Finding, bool) {
	a.p.run(down, nil)
	eff := a.effect(a.p, a.p.changed)
	blast := blastRadius{names: a.sortedNames(a.p.changed), count: len(a.p.changed)}
	f, ok := a.finding(e, eff, a.p, blast, func(x int32) string {
		return downReason(a.m, e, a.m.Components[x])
	}, nil, nil)
	if !ok {
		return f, false
	}
	if f.Category == CategorySPOF && (e.Kind == EventZone || e.Kind == EventRegion) {
		f.Fix = a.domainFix(e, down)
	}
	a.special[f.Event] = a.specialsIn(a.p.changed)
	return f, true
}

// tracedHead is the part of a chain that the events below one fused head
// share: the hops from the flow's step (or the blocked when: edge's
// target) down to the head.
type tracedHead struct {
	hops []hop
	step int32 // the flow's worst step, or the when: edge's target
}

// effect computes flow states after an evaluation whose non-up components
// are changed.
func (a *analyzer) effect(v stateView, changed []int32) effect {
	var eff effect
	g := a.g
	seen := map[int32]bool{}
	for _, x := range changed {
		for _, f := range g.stepOf[x] {
			if seen[f] || !a.sel.has(int(f)) {
				continue
			}
			seen[f] = true
			switch g.flowState(v, int(f)) {
			case Down:
				eff.down = append(eff.down, int(f))
			case Degraded:
				eff.degraded = append(eff.degraded, int(f))
			}
		}
	}
	if len(eff.down) > 0 || len(eff.degraded) > 0 {
		return eff
	}
	for _, t := range changed {
		for i := range a.phasedBy[t] {
			ref := &a.phasedBy[t][i]
			if edgeResult(ref.e, v, ctxAll) != Down {
				continue
			}
			mask := newFlowSet(g.flows)
			mask.orMasked(g.member[ref.from], a.sel)
			if mask.empty() {
				continue
			}
			if eff.recovery == nil {
				eff.recovery = newFlowSet(g.flows)
				eff.recoveryVia = ref
			}
			eff.recovery.orMasked(mask, nil)
		}
	}
	return eff
}

// finding builds the Finding for an effect; reason explains why a
// component that is down by itself is down. For an event below a fused
// head, fp is the path from the head down to the event's component, and
// *shared caches the trace down to the head for the next event.
func (a *analyzer) finding(e Event, eff effect, v stateView, blast blastRadius, reason func(int32) string, fp *fusedPath, shared **tracedHead) (Finding, bool) {
	f := Finding{Event: e.String(), Location: a.eventPos(e)}
	var flows []int
	switch {
	case len(eff.down) > 0:
		f.Category, flows = CategorySPOF, eff.down
	case len(eff.degraded) > 0:
		f.Category, flows = CategoryDegradation, eff.degraded
	case eff.recovery != nil:
		f.Category = CategoryRecovery
		eff.recovery.each(func(i int) { flows = append(flows, i) })
	default:
		return Finding{}, false
	}
	worst := a.worstFlow(flows)
	f.Severity = a.g.crit[worst]
	for _, i := range flows {
		f.Flows = append(f.Flows, a.m.Flows[i].Name)
	}
	slices.Sort(f.Flows)
	f.Components, f.BlastRadius = blast.names, blast.count
	f.ID = findingID(f.Event, f.Flows)

	// The trace: from the flow's worst step, or for recovery from the
	// blocked when: edge's target, down to the root.
	ctx := worst
	if f.Category == CategoryRecovery {
		ctx = ctxAll
	}
	var th *tracedHead
	if shared != nil {
		th = *shared
	}
	var root int32
	if th == nil {
		th = &tracedHead{}
		if f.Category == CategoryRecovery {
			for _, t := range eff.recoveryVia.e.targets() {
				if t >= 0 && v.state(t, ctxAll) == Down {
					th.step = t
					break
				}
			}
		} else {
			th.step = a.worstStep(v, worst)
		}
		th.hops, root = a.g.trace(v, th.step, ctx)
		if shared != nil {
			*shared = th
		}
	}
	hops := hopChain{traced: th.hops, path: fp}
	if fp != nil {
		root = fp.x
	}
	if f.Category == CategoryRecovery {
		ref := eff.recoveryVia
		f.Chain = append(f.Chain, eventHappens(e), reason(root))
		f.Chain = append(f.Chain, a.describeHops(hops, v, ctxAll, reason)...)
		f.Chain = append(f.Chain, a.describePhased(ref, v))
		f.Chain = append(f.Chain, a.flowList(flows)+" cannot be restarted, scaled out or redeployed while it lasts")
		f.Fix = a.recoveryFix(ref, root)
		return f, true
	}
	step := th.step
	f.Chain = append(f.Chain, eventHappens(e), reason(root))
	f.Chain = append(f.Chain, a.describeHops(hops, v, worst, reason)...)
	f.Chain = append(f.Chain, fmt.Sprintf("%s passes through %s", a.m.Flows[worst].Name, a.m.Components[step].Name))
	verb := "is down"
	if f.Category == CategoryDegradation {
		verb = "is degraded"
		if len(flows) > 1 {
			verb = "are degraded"
		}
	} else if len(flows) > 1 {
		verb = "are down"
	}
	f.Chain = append(f.Chain, a.flowList(flows)+" "+verb)
	if f.Category == CategoryDegradation {
		f.Fix = a.degradationFix(th.hops, root)
	} else {
		f.Fix = a.spofFix(e, hops, root)
	}
	return f, true
}

// worstFlow returns the most critical flow of flows (ties: first by name).
func (a *analyzer) worstFlow(flows []int) int {
	best := flows[0]
	for _, f := range flows[1:] {
		cf, cb := a.g.crit[f], a.g.crit[best]
		if cf > cb || (cf == cb && a.m.Flows[f].Name < a.m.Flows[best].Name) {
			best = f
		}
	}
	return best
}

// worstStep returns the first step of flow f whose state is the flow's.
func (a *analyzer) worstStep(v stateView, f int) int32 {
	want := a.g.flowState(v, f)
	for _, x := range a.g.steps[f] {
		if v.state(x, f) == want {
			return x
		}
	}
	return a.g.steps[f][0]
}

// flowList names flows with their criticality, most critical first:
// "checkout (critical), login (critical) and browse (high)".
func (a *analyzer) flowList(flows []int) string {
	fs := slices.Clone(flows)
	slices.SortFunc(fs, func(x, y int) int {
		if c := a.g.crit[y] - a.g.crit[x]; c != 0 {
			return int(c)
		}
		return strings.Compare(a.m.Flows[x].Name, a.m.Flows[y].Name)
	})
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%s (%s)", a.m.Flows[f].Name, a.g.crit[f])
	}
	if len(parts) == 1 {
		return parts[0]
	}
	const most = 6
	if len(parts) > most {
		return strings.Join(parts[:most], ", ") + fmt.Sprintf(" and %d more flows", len(parts)-most)
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// findingID is a stable hash of the event and the sorted flow names.
func findingID(event string, flows []string) string {
	h := sha256.New()
	h.Write([]byte(event))
	for _, f := range flows {
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// rankFindings orders findings by severity, category, number of flows,
// blast radius, then event.
func rankFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity - a.Severity)
		}
		if ra, rb := a.Category.rank(), b.Category.rank(); ra != rb {
			return ra - rb
		}
		if len(a.Flows) != len(b.Flows) {
			return len(b.Flows) - len(a.Flows)
		}
		if a.BlastRadius != b.BlastRadius {
			return b.BlastRadius - a.BlastRadius
		}
		return strings.Compare(a.Event, b.Event)
	})
}

// flowSummaries describes each selected flow and counts the SPOFs that stop it.
func (a *analyzer) flowSummaries(findings []Finding) []FlowSummary {
	var out []FlowSummary
	for f, fl := range a.m.Flows {
		if !a.sel.has(f) {
			continue
		}
		s := FlowSummary{Name: fl.Name, Criticality: fl.Criticality, Steps: slices.Clone(fl.Steps),
			Dependencies: a.g.dependencies(f)}
		for _, fd := range findings {
			if fd.Category == CategorySPOF && slices.Contains(fd.Flows, fl.Name) {
				s.SPOFs++
			}
		}
		out = append(out, s)
	}
	return out
}

// dependencies lists the components flow f needs while running, steps
// excluded, in depth-first order from its steps.
func (g *graph) dependencies(f int) []string {
	seen := make(map[int32]bool)
	var out []string
	var stack []int32
	steps := g.steps[f]
	for i := len(steps) - 1; i >= 0; i-- {
		x := steps[i]
		stack = append(stack, x)
		seen[x] = true
	}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !slices.Contains(steps, x) {
			out = append(out, g.m.Components[x].Name)
		}
		es := g.edges[x]
		for i := len(es) - 1; i >= 0; i-- {
			if !es[i].applies(f) {
				continue
			}
			ts := es[i].targets()
			for j := len(ts) - 1; j >= 0; j-- {
				if t := ts[j]; t >= 0 && !seen[t] {
					seen[t] = true
					stack = append(stack, t)
				}
			}
		}
	}
	return out
}

// eventHappens is the first step of a chain.
func eventHappens(e Event) string {
	if e.Kind == EventHazard {
		return e.String() + " happens"
	}
	return e.String() + " fails"
}
