package analysis

import (
	"fmt"
	"strings"

	"github.com/spofhq/spof/model"
)

// hop is one step of a chain of reasons: from needs to through e, and that
// edge's result left from in state result.
type hop struct {
	from, to int32
	e        *edge
	result   State
}

// trace follows, from a component that is not up, the first edge that
// explains its state, down to a component that is down by itself, or to
// what a tripped edge waits on (the root). Hops are listed from start to
// root.
func (g *graph) trace(v stateView, start int32, ctx int) ([]hop, int32) {
	var hops []hop
	x := start
	for !v.ownDown(x) {
		s := v.state(x, ctx)
		next := int32(-1)
		for i := range g.edges[x] {
			e := &g.edges[x][i]
			if !e.applies(ctx) {
				continue
			}
			r := edgeResult(e, v, ctx)
			if r != s || r == Up {
				continue
			}
			trip := v.tripped(e)
			next = e.to
			if e.asyncVia >= 0 && (trip || v.state(e.asyncVia, ctx) == r) {
				next = e.asyncVia
			}
			hops = append(hops, hop{from: x, to: next, e: e, result: r})
			if trip {
				return hops, next
			}
			break
		}
		if next < 0 {
			break // cannot happen on a consistent evaluation; stop rather than loop
		}
		x = next
	}
	return hops, x
}

// maxHops is how many hops of a long chain a report shows before eliding
// the middle.
const maxHops = 12

// describeHops renders hops root-first: the chain reads from the cause to
// the flow. reason explains a component down by itself (or the root of a
// tripped edge), for fallbacks down too.
func (a *analyzer) describeHops(hops hopChain, v stateView, ctx int, reason func(int32) string) []string {
	n := hops.len()
	out := make([]string, 0, min(n, maxHops+1))
	for i := n - 1; i >= 0; i-- {
		if n > maxHops && i == n-1-maxHops/2 {
			skip := n - maxHops
			out = append(out, fmt.Sprintf("… %d more dependencies …", skip))
			i -= skip - 1
			continue
		}
		out = append(out, a.describeHop(hops.at(i), v, ctx, reason))
	}
	return out
}

func (a *analyzer) describeHop(h hop, v stateView, ctx int, reason func(int32) string) string {
	name := func(x int32) string { return a.m.Components[x].Name }
	from, e := name(h.from), h.e
	src := e.src
	toDown := v.tripped(e) || v.state(e.to, ctx) == Down
	switch {
	case e.asyncVia >= 0 && h.to == e.asyncVia:
		return fmt.Sprintf("%s needs the queue %s to reach %s asynchronously", from, name(e.asyncVia), name(e.to))
	case e.asyncVia >= 0:
		return fmt.Sprintf("%s reaches %s asynchronously via %s: work backs up, %s is degraded", from, name(e.to), name(e.asyncVia), from)
	case e.fallbackTo >= 0 && h.result == Down:
		return fmt.Sprintf("%s needs %s or its fallback %s, and both are down: %s", from, name(e.to), name(e.fallbackTo), a.whyDownToo(e.fallbackTo, v, ctx, reason))
	case e.fallbackTo >= 0 && toDown:
		return fmt.Sprintf("%s falls back from %s to %s%s: degraded", from, name(e.to), name(e.fallbackTo), quoteFallback(src.Fallback))
	case e.capped && toDown:
		return fmt.Sprintf("%s loses %s and falls back%s: degraded", from, name(e.to), quoteFallback(src.Fallback))
	case v.state(h.to, ctx) == Degraded:
		return fmt.Sprintf("%s needs %s, which is degraded", from, name(h.to))
	case src.Breaker != nil:
		return fmt.Sprintf("%s needs %s (its circuit breaker fails fast, but there is no fallback)", from, name(e.to))
	}
	return fmt.Sprintf("%s needs %s (hard dependency)", from, name(e.to))
}

// whyDownToo explains why fallback x is down as well: its own reason when
// it is down by itself, else the component its chain leads to and that
// one's reason.
func (a *analyzer) whyDownToo(x int32, v stateView, ctx int, reason func(int32) string) string {
	hops, traced := a.g.trace(v, x, ctx)
	root := a.fusedRoot.of(traced)
	if len(hops) == 0 && root == traced {
		return reason(root)
	}
	return fmt.Sprintf("%s is down through %s: %s", a.m.Components[x].Name, a.m.Components[root].Name, reason(root))
}

func quoteFallback(text string) string {
	if text == "" {
		return ""
	}
	return " (" + text + ")"
}

// describePhased explains a blocked when: edge.
func (a *analyzer) describePhased(ref *phasedRef, v stateView) string {
	from := a.m.Components[ref.from].Name
	to := a.m.Components[ref.e.to].Name
	switch ref.e.src.When {
	case model.WhenStartup:
		return fmt.Sprintf("%s needs %s to start (when: startup): no restart, no scale-out, no replacement of failed instances", from, to)
	case model.WhenDeploy:
		return fmt.Sprintf("%s needs %s to deploy (when: deploy): no release and no hotfix can ship", from, to)
	default:
		return fmt.Sprintf("%s needs %s to recover (when: recovery): failures are not seen or not fixed", from, to)
	}
}

// spofFix is the concrete fix for a SPOF: it depends on the event and on
// the component at the root of the chain and the edge that needs it.
func (a *analyzer) spofFix(e Event, hops hopChain, root int32) string {
	c := a.m.Components[root]
	var dependent string
	var last *edge
	if h, ok := hops.last(); ok {
		last = h.e
		dependent = a.m.Components[h.from].Name
	}
	breakerNote := ""
	if last != nil && last.src.Breaker != nil && !last.src.Degrades() {
		breakerNote = fmt.Sprintf("; the circuit breaker on %s → %s has no fallback: add one", dependent, c.Name)
	}
	switch e.Kind {
	case EventHazard:
		if h := a.m.Hazard(e.Name); h != nil && h.Fix != "" {
			return h.Fix
		}
		return fmt.Sprintf("remove the common cause %s, or make %s survive it (a replica or a fallback it cannot reach)", e.Name, c.Name)
	case EventProvider:
		if c.Kind == model.KindDNS {
			return fmt.Sprintf("add a second DNS provider: serve the zone from %s and another provider (secondary NS records)", e.Name)
		}
		return fmt.Sprintf("%s relies on %s alone: add a second provider or a fallback that does not need %s%s", c.Name, e.Name, e.Name, breakerNote)
	case EventRegion:
		return fmt.Sprintf("run %s in a second region (active-passive with health-checked DNS failover)", c.Name)
	case EventZone:
		switch {
		case c.Replicas == 1:
			return fmt.Sprintf("add a replica of %s in another zone%s%s", c.Name, failoverAdvice(c), breakerNote)
		case c.NeedsPrimary():
			return fmt.Sprintf("enable automatic failover for %s so that a replica in another zone takes over%s", c.Name, failoverExample(c))
		default:
			return fmt.Sprintf("spread the replicas of %s over more zones so that losing one zone leaves min_healthy (%d) replicas", c.Name, c.MinHealthy)
		}
	case EventInstance:
		if e.Instance == 0 && c.NeedsPrimary() {
			return fmt.Sprintf("enable automatic failover for %s (failover: automatic%s)", c.Name, strings.TrimSuffix(strings.Replace(failoverExample(c), " (", ", ", 1), ")"))
		}
		return fmt.Sprintf("add replicas to %s or lower min_healthy (now %d of %d), so one lost replica leaves enough", c.Name, c.MinHealthy, c.Replicas)
	}
	// component:X — a single replica, or an external service.
	switch c.Kind {
	case model.KindExternal:
		if dependent != "" {
			return fmt.Sprintf("guard %s → %s with a circuit breaker and a fallback (e.g. accept the work and retry later), or call it asynchronously via a queue (async_via)", dependent, c.Name)
		}
		return fmt.Sprintf("give %s an alternative provider, or make the flows that need it work without it", c.Name)
	case model.KindDNS:
		return fmt.Sprintf("serve %s from a second DNS provider too (secondary name servers) and protect the registrar account with 2FA", c.Name)
	case model.KindCDN:
		return fmt.Sprintf("put a second CDN beside %s, or a health-checked DNS failover straight to the origin; keep its configuration in version control", c.Name)
	case model.KindCertificate:
		return fmt.Sprintf("automate renewal of %s (ACME/cert-manager or a managed certificate) and alert well before it expires", c.Name)
	case model.KindLoadBalancer:
		return fmt.Sprintf("run %s in at least two zones (or use a managed load balancer that spans zones)", c.Name)
	case model.KindDatabase, model.KindCache, model.KindQueue, model.KindStorage:
		fix := fmt.Sprintf("add a replica of %s in another zone%s", c.Name, failoverAdvice(c))
		if dependent != "" && c.Kind == model.KindCache {
			fix += fmt.Sprintf(", and a circuit breaker with a fallback on %s → %s", dependent, c.Name)
		}
		return fix + breakerNote
	case model.KindConfig, model.KindSecrets:
		if dependent != "" {
			return fmt.Sprintf("cache the last-known-good %s in %s so it keeps running without %s, or run %s with replicas in several zones", c.Kind, dependent, c.Name, c.Name)
		}
	case model.KindCI:
		if dependent != "" {
			return fmt.Sprintf("%s should not need %s while running: mark the edge when: deploy and keep a second deploy path", dependent, c.Name)
		}
	}
	fix := fmt.Sprintf("run at least two replicas of %s in different zones", c.Name)
	if dependent != "" {
		fix += fmt.Sprintf(", or give %s a fallback when %s is down", dependent, c.Name)
	}
	return fix + breakerNote
}

// domainFix is the fix for a zone or region that takes a flow down: every
// component the domain takes down by itself and some flow needs, grouped by
// what to do about it.
func (a *analyzer) domainFix(e Event, down []int32) string {
	var whole, primary, spread []string
	for _, x := range down {
		mask := newFlowSet(a.g.flows)
		mask.orMasked(a.g.needs[x], a.sel)
		if mask.empty() {
			continue
		}
		c := a.m.Components[x]
		lost, primaryLost := 0, false
		for i := 0; i < c.Replicas; i++ {
			if singleReplicaFails(a.m, e, c, i) {
				lost++
				primaryLost = primaryLost || i == 0
			}
		}
		switch {
		case lost == c.Replicas:
			whole = append(whole, c.Name)
		case primaryLost && c.NeedsPrimary():
			primary = append(primary, c.Name)
		default:
			spread = append(spread, c.Name)
		}
	}
	var parts []string
	if len(whole) > 0 {
		fix := fmt.Sprintf("run %s in another zone too", nameList(whole))
		if e.Kind == EventRegion {
			fix = fmt.Sprintf("run %s in a second region too, behind health-checked DNS failover", nameList(whole))
		}
		for _, n := range whole {
			if a.m.Components[a.g.comp[n]].Kind.Stateful() {
				fix += ", the stateful ones with automatic failover"
				break
			}
		}
		parts = append(parts, fix)
	}
	if len(primary) > 0 {
		parts = append(parts, fmt.Sprintf("enable automatic failover for %s", nameList(primary)))
	}
	if len(spread) > 0 {
		parts = append(parts, fmt.Sprintf("spread %s over more zones so that losing %s leaves min_healthy replicas", nameList(spread), e.Name))
	}
	return strings.Join(parts, "; ")
}

// nameList joins names as "a, b and c", eliding past eight.
func nameList(names []string) string {
	const most = 8
	if len(names) > most {
		return strings.Join(names[:most], ", ") + fmt.Sprintf(" and %d more", len(names)-most)
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// failoverAdvice completes "add a replica of X in another zone".
func failoverAdvice(c *model.Component) string {
	if !c.Kind.Stateful() {
		return " behind the load balancer"
	}
	return " with automatic failover" + failoverExample(c)
}

func failoverExample(c *model.Component) string {
	switch c.Kind {
	case model.KindDatabase:
		return " (e.g. RDS Multi-AZ or Patroni)"
	case model.KindCache:
		return " (e.g. Redis Sentinel or Redis Cluster)"
	case model.KindQueue:
		return " (e.g. a broker cluster with replicated queues)"
	case model.KindStorage:
		return " (e.g. replicated or zone-redundant storage)"
	}
	return ""
}

// degradationFix asks for the fallback that keeps the flow up to be verified.
func (a *analyzer) degradationFix(hops []hop, root int32) string {
	c := a.m.Components[root].Name
	for i := len(hops) - 1; i >= 0; i-- {
		h := hops[i]
		if h.result != Degraded || (!h.e.src.Degrades()) {
			continue
		}
		what := h.e.src.Fallback
		switch {
		case h.e.asyncVia >= 0:
			what = "work queued in " + a.m.Components[h.e.asyncVia].Name
		case what == "" && h.e.fallbackTo >= 0:
			what = "falls back to " + a.m.Components[h.e.fallbackTo].Name
		}
		return fmt.Sprintf("keep the fallback of %s → %s (%s) and verify it with an experiment (%s-down): a fallback never exercised is just a comment in the code",
			a.m.Components[h.from].Name, a.m.Components[h.e.to].Name, what, c)
	}
	return fmt.Sprintf("verify with an experiment (%s-down) that the flows degrade as the model says", c)
}

// recoveryFix is the fix for a blocked when: edge, by phase and target kind.
func (a *analyzer) recoveryFix(ref *phasedRef, root int32) string {
	from := a.m.Components[ref.from].Name
	t := a.m.Components[ref.e.to]
	switch {
	case ref.e.src.When == model.WhenStartup && (t.Kind == model.KindConfig || t.Kind == model.KindSecrets):
		return fmt.Sprintf("cache the last-known-good %s on each %s instance (or bake it into the image) so instances start while %s is down; or run %s redundantly", t.Kind, from, t.Name, t.Name)
	case ref.e.src.When == model.WhenDeploy:
		return fmt.Sprintf("keep a second deploy path for %s: a managed CI service or a documented, rehearsed manual deploy (record it as fallback: on the when: deploy edge)", from)
	case t.Kind == model.KindMonitoring:
		return fmt.Sprintf("run %s independently of what it watches (another zone or provider), plus an external uptime check", t.Name)
	}
	if root != ref.e.to {
		return fmt.Sprintf("make %s survive the loss of %s, or let %s %s without it (fallback: on the when: edge)", t.Name, a.m.Components[root].Name, from, ref.e.src.When)
	}
	return fmt.Sprintf("make %s redundant, or let %s %s without it (fallback: on the when: edge)", t.Name, from, ref.e.src.When)
}

// operational finds the people with a bus factor of one: the only person
// who knows a component some flow needs, or the only holder of a resource.
func (a *analyzer) operational() []Finding {
	g := a.g
	holders := map[string][]string{}
	for _, p := range a.m.People {
		for _, r := range p.Holds {
			holders[r] = append(holders[r], p.Name)
		}
	}
	var out []Finding
	for _, p := range a.m.People {
		flows := newFlowSet(g.flows)
		var comps, reasons, fixes []string
		for _, c := range p.Knows {
			x, ok := g.comp[c]
			if !ok || len(knowers(a.m, c)) != 1 {
				continue
			}
			mask := newFlowSet(g.flows)
			mask.orMasked(g.needs[x], a.sel)
			if mask.empty() {
				continue
			}
			flows.orMasked(mask, nil)
			comps = append(comps, c)
			reasons = append(reasons, fmt.Sprintf("%s is the only person who knows %s, which %s needs", p.Name, c, a.flowList(setList(mask))))
			fixes = append(fixes, fmt.Sprintf("write the runbook for %s and train a second person (list them under people: with knows: [%s])", c, c))
		}
		for _, r := range p.Holds {
			if len(holders[r]) != 1 {
				continue
			}
			mask := newFlowSet(g.flows)
			if x, ok := g.comp[r]; ok {
				mask.orMasked(g.needs[x], a.sel)
				comps = append(comps, r)
			} else {
				mask.orMasked(a.sel, nil) // a credential of the whole system
			}
			if mask.empty() {
				continue
			}
			flows.orMasked(mask, nil)
			reasons = append(reasons, fmt.Sprintf("%s alone holds %s", p.Name, r))
			fixes = append(fixes, fmt.Sprintf("give %s a second holder and keep it in a shared vault with 2FA", r))
		}
		if flows.empty() {
			continue
		}
		e := Event{Kind: EventPerson, Name: p.Name}
		fl := setList(flows)
		f := Finding{Event: e.String(), Category: CategoryOperational, Location: a.eventPos(e),
			Severity: g.crit[a.worstFlow(fl)], Flows: g.flowNames(flows), Components: comps, BlastRadius: len(comps)}
		sortStrings(f.Components)
		if f.Components == nil {
			f.Components = []string{}
		}
		f.ID = findingID(f.Event, f.Flows)
		f.Chain = append([]string{e.String() + " is unavailable (holiday, illness, departure)"}, reasons...)
		f.Chain = append(f.Chain, a.flowList(fl)+" cannot be operated or recovered without "+p.Name)
		f.Fix = strings.Join(fixes, "; ")
		out = append(out, f)
	}
	return out
}

func setList(s flowSet) []int {
	var out []int
	s.each(func(i int) { out = append(out, i) })
	return out
}
