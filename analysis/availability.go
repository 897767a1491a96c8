package analysis

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/spofhq/spof/analysis/faulttree"
	"github.com/spofhq/spof/model"
)

// HoursPerYear is the mission time of spof availability: expected
// downtime is a flow's unavailability times one year.
const HoursPerYear = 8760

// Figure is an availability that spof assumes when the model gives none,
// and where it comes from (docs/model.md, "Availability", cites each).
type Figure struct {
	Availability float64
	Basis        string
}

// Defaults of the per-event availability, from published SLAs where one
// exists and stated as assumptions where none does.
var (
	// DefaultKindAvailability is the availability of one replica of a
	// component of each kind, on its own (its zone, region and provider
	// fail separately).
	DefaultKindAvailability = map[model.Kind]Figure{
		model.KindService:      {0.995, "AWS Compute SLA, instance level"},
		model.KindDatabase:     {0.995, "AWS Compute SLA, instance level"},
		model.KindCache:        {0.995, "AWS Compute SLA, instance level"},
		model.KindQueue:        {0.995, "AWS Compute SLA, instance level"},
		model.KindConfig:       {0.995, "AWS Compute SLA, instance level"},
		model.KindSecrets:      {0.995, "AWS Compute SLA, instance level"},
		model.KindMonitoring:   {0.995, "AWS Compute SLA, instance level"},
		model.KindOther:        {0.995, "AWS Compute SLA, instance level"},
		model.KindStorage:      {0.999, "Amazon S3 SLA (S3 Standard)"},
		model.KindLoadBalancer: {0.9999, "Elastic Load Balancing SLA, multi-AZ"},
		model.KindCDN:          {0.999, "Amazon CloudFront SLA"},
		model.KindExternal:     {0.999, "assumed: the usual third-party API SLA"},
		model.KindCI:           {0.999, "GitHub Enterprise Cloud SLA"},
		model.KindDNS:          {0.9999, "assumed: DNS SLAs promise 100%, which would hide the SPOF"},
		model.KindCertificate:  {0.999, "assumed: a lapsed or revoked certificate"},
	}
	DefaultZoneAvailability     = Figure{0.9995, "Azure VM SLA, several instances in one data centre"}
	DefaultRegionAvailability   = Figure{0.9999, "AWS Compute SLA, region level"}
	DefaultProviderAvailability = Figure{0.9999, "assumed: as a region"}
	// DefaultHazardProbability is the fraction of the time a hazard is in
	// effect (its unavailability, not an availability).
	DefaultHazardProbability = Figure{0.001, "assumed: 9 hours a year"}
)

// Unavailability is the probability that a basic event is failed at a
// random time, and where the figure comes from.
type Unavailability struct {
	Q float64
	// Assumed is set when the model gives no figure for the event (or for
	// one of the parts behind it) and a default applies.
	Assumed bool
	Basis   string // the model key, or the default's basis
}

// EventUnavailability returns the unavailability of a basic event of m:
// the model's availability: (probability: for a hazard), else the
// default. A component:X whose provider only it uses stands for both
// (Events does not list that provider:P), so it combines the two.
// People never take a flow down: their events have none.
func EventUnavailability(m *model.Model, e Event) (Unavailability, error) {
	return eventUnavailability(m, e, providersOfOneComponent(m))
}

// eventUnavailability is EventUnavailability given the providers that
// one single-replica component alone uses (providersOfOneComponent),
// computed once for every event of a model.
func eventUnavailability(m *model.Model, e Event, single map[string]bool) (Unavailability, error) {
	switch e.Kind {
	case EventComponent, EventInstance:
		c := m.Component(e.Name)
		if c == nil {
			return Unavailability{}, fmt.Errorf("event %s: no component %q", e, e.Name)
		}
		u := componentUnavailability(c)
		if e.Kind == EventComponent && c.Provider != "" && c.Replicas <= 1 && single[c.Provider] {
			p := providerUnavailability(m, c.Provider)
			u = Unavailability{Q: 1 - (1-u.Q)*(1-p.Q), Assumed: u.Assumed || p.Assumed, Basis: u.Basis + "; provider " + p.Basis}
		}
		return u, nil
	case EventZone:
		z := m.Zone(e.Name)
		if z == nil {
			return Unavailability{}, fmt.Errorf("event %s: no zone %q", e, e.Name)
		}
		return figure(z.Availability, "zones."+z.Name+".availability", DefaultZoneAvailability), nil
	case EventRegion:
		var a float64
		if r := m.Region(e.Name); r != nil {
			a = r.Availability
		}
		return figure(a, "regions."+e.Name+".availability", DefaultRegionAvailability), nil
	case EventProvider:
		return providerUnavailability(m, e.Name), nil
	case EventHazard:
		h := m.Hazard(e.Name)
		if h == nil {
			return Unavailability{}, fmt.Errorf("event %s: no hazard %q", e, e.Name)
		}
		if h.Probability > 0 {
			return Unavailability{Q: h.Probability, Basis: "hazards." + h.Name + ".probability"}, nil
		}
		return Unavailability{Q: DefaultHazardProbability.Availability, Assumed: true, Basis: DefaultHazardProbability.Basis}, nil
	}
	return Unavailability{}, fmt.Errorf("event %s: %ss have no unavailability (they never take a flow down)", e, e.Kind)
}

func componentUnavailability(c *model.Component) Unavailability {
	def, ok := DefaultKindAvailability[c.Kind]
	if !ok {
		def = DefaultKindAvailability[model.KindOther]
	}
	return figure(c.Availability, "components."+c.Name+".availability", def)
}

func providerUnavailability(m *model.Model, name string) Unavailability {
	var a float64
	if p := m.Provider(name); p != nil {
		a = p.Availability
	}
	return figure(a, "providers."+name+".availability", DefaultProviderAvailability)
}

func figure(availability float64, key string, def Figure) Unavailability {
	if availability > 0 {
		return Unavailability{Q: complement(availability), Basis: key}
	}
	return Unavailability{Q: complement(def.Availability), Assumed: true, Basis: def.Basis}
}

// complement is 1 − a to 12 significant digits: 1 − 0.999 is 0.001, not
// 0.0009999999999998899.
func complement(a float64) float64 {
	q := 1 - a
	if q <= 0 {
		return 0
	}
	scale := math.Pow(10, 12-math.Ceil(math.Log10(q)))
	return math.Round(q*scale) / scale
}

// setProbabilities gives every event of a model's fault tree its
// unavailability.
func setProbabilities(m *model.Model, t *faulttree.Tree, single map[string]bool) error {
	for i := range t.Events {
		ev := &t.Events[i]
		e, err := ParseEvent(ev.Name)
		if err != nil {
			return err
		}
		u, err := eventUnavailability(m, e, single)
		if err != nil {
			return err
		}
		ev.P, ev.HasP = u.Q, true
	}
	return nil
}

// AvailabilityOptions bound spof availability's computations.
type AvailabilityOptions struct {
	// Order is the largest order of the cut sets behind the rare-event
	// and min-cut upper bounds (0: 4).
	Order int
	// MaxNodes and Timeout bound each decision diagram (0: the engine's
	// defaults, and no time limit). Past them the exact value gives way
	// to the bounds, with a note.
	MaxNodes int
	Timeout  time.Duration
	// WhatWouldHelp also ranks single changes to the model by how much
	// they lower each flow's unavailability.
	WhatWouldHelp bool
	// Candidates bounds the components whose changes WhatWouldHelp
	// tries per flow: those that matter most (0: 30).
	Candidates int
}

// FlowAvailability is a flow's availability and what it depends on.
type FlowAvailability struct {
	Flow        string
	Criticality model.Criticality
	// Unavailability is exact (from the BDD) when Exact is set, otherwise
	// the min-cut upper bound, and Note says why.
	Unavailability float64
	Exact          bool
	Note           string
	// The bounds from the minimal cut sets up to BoundOrder.
	RareEvent, MCUB float64
	BoundOrder      int
	BoundSets       int
	Importance      []Importance // most important first (Fussell–Vesely)
	Changes         []Change     // with WhatWouldHelp: the best first
}

// Importance is what one basic event means to a flow: its unavailability
// and the importance measures of docs/model.md.
type Importance struct {
	Event          string
	Unavailability Unavailability
	Birnbaum       float64 // P(flow down | event failed) − P(flow down | event up)
	FussellVesely  float64 // the share of the flow's unavailability the event is part of
	RAW            float64 // how many times worse the flow gets with the event failed
	RRW            float64 // how many times better with the event never failing
}

// Change is one change to the model and what it would do to a flow.
type Change struct {
	Kind        string // replica, zone, failover or fallback
	Component   string // the component changed
	Target      string // fallback: the dependency that gets one
	Description string
	// Unavailability is the flow's after the change, and Gain how much
	// lower it is than now.
	Unavailability float64
	Gain           float64
}

// Availability computes the availability of the named flows (every flow
// when flows is empty), in the model's flow order.
func Availability(m *model.Model, flows []string, opts AvailabilityOptions) ([]FlowAvailability, error) {
	trees, err := FaultTrees(m, flows)
	if err != nil {
		return nil, err
	}
	if opts.Order <= 0 {
		opts.Order = 4
	}
	out := make([]FlowAvailability, len(trees))
	errs := make([]error, len(trees))
	one := func(i int) {
		t := trees[i]
		fa, err := flowAvailability(m, t, opts)
		if err == nil && opts.WhatWouldHelp {
			fa.Changes, err = whatWouldHelp(m, t, fa, opts)
		}
		out[i], errs[i] = fa, err
	}
	if opts.WhatWouldHelp {
		// The changes of each flow run in parallel already.
		for i := range trees {
			one(i)
		}
	} else {
		parallel(len(trees), one)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parallel calls do(0) … do(n-1) on a few goroutines: each may build a
// decision diagram of its own, so not so many that their node budgets add
// up past the machine.
func parallel(n int, do func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), 4, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				do(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func flowAvailability(m *model.Model, t *faulttree.Tree, opts AvailabilityOptions) (FlowAvailability, error) {
	fl := m.Flow(t.Name)
	fa := FlowAvailability{Flow: t.Name, Criticality: fl.Criticality, BoundOrder: opts.Order}
	engine := faulttree.Options{MaxNodes: opts.MaxNodes, Timeout: opts.Timeout}
	q, imp, err := faulttree.ProbabilityAndImportance(t, engine)
	switch {
	case err == nil:
		fa.Exact = true
	case errors.Is(err, faulttree.ErrBudget):
		fa.Note = err.Error()
	default:
		return fa, err
	}
	res, cerr := faulttree.CutSets(t, faulttree.CutSetOptions{Order: opts.Order, MaxNodes: opts.MaxNodes, Timeout: opts.Timeout})
	if cerr != nil {
		if !fa.Exact {
			return fa, fmt.Errorf("availability of %q: the exact value is over budget, and so are the bounds from the cut sets up to order %d: %w", t.Name, opts.Order, cerr)
		}
		fa.Note = fmt.Sprintf("no bounds: %v", cerr)
	} else {
		b := faulttree.Bounds(res.Sets)
		fa.RareEvent, fa.MCUB, fa.BoundSets = b.RareEvent, b.MCUB, res.Count
	}
	if !fa.Exact {
		fa.Unavailability = fa.MCUB
		fa.Note += fmt.Sprintf("; the min-cut upper bound from the %d minimal cut sets up to order %d stands in for the exact value (sets of higher order are left out: the flow may be down more often)", fa.BoundSets, opts.Order)
		return fa, nil
	}
	fa.Unavailability = q
	single := providersOfOneComponent(m)
	for _, ei := range imp {
		name := t.Events[ei.Event].Name
		e, _ := ParseEvent(name)
		u, err := eventUnavailability(m, e, single)
		if err != nil {
			return fa, err
		}
		fa.Importance = append(fa.Importance, Importance{Event: name, Unavailability: u,
			Birnbaum: ei.Birnbaum, FussellVesely: ei.FussellVesely, RAW: ei.RAW, RRW: ei.RRW})
	}
	slices.SortStableFunc(fa.Importance, func(a, b Importance) int {
		if c := cmp.Compare(b.FussellVesely, a.FussellVesely); c != 0 {
			return c
		}
		return cmp.Compare(b.Birnbaum, a.Birnbaum)
	})
	return fa, nil
}

// whatWouldHelp tries single changes on the components that matter to the
// flow, the most important first, and ranks those that lower its
// unavailability. A component matters when its own failures (or its only
// zone's) account for at least 1% of the unavailability: their
// criticality importance, the share that goes when they never fail.
func whatWouldHelp(m *model.Model, t *faulttree.Tree, fa FlowAvailability, opts AvailabilityOptions) ([]Change, error) {
	limit := opts.Candidates
	if limit <= 0 {
		limit = 30
	}
	inTree := map[string]bool{}
	for _, ev := range t.Events {
		if e, err := ParseEvent(ev.Name); err == nil && (e.Kind == EventComponent || e.Kind == EventInstance) {
			inTree[e.Name] = true
		}
	}
	var comps []string
	if len(fa.Importance) > 0 {
		// A component's share: the criticality of its own events (how much
		// of the unavailability goes when they never fail), and that of its
		// only zone when all its replicas are there (spreading it helps).
		crit := map[string]float64{}
		for _, im := range fa.Importance {
			if fa.Unavailability > 0 {
				crit[im.Event] = im.Birnbaum * im.Unavailability.Q / fa.Unavailability
			}
		}
		share := map[string]float64{}
		for _, im := range fa.Importance {
			if e, err := ParseEvent(im.Event); err == nil && (e.Kind == EventComponent || e.Kind == EventInstance) {
				if _, ok := share[e.Name]; !ok {
					comps = append(comps, e.Name)
					if c := m.Component(e.Name); c != nil && len(c.Zones) == 1 {
						share[e.Name] = crit["zone:"+c.Zones[0]]
					}
				}
				share[e.Name] += crit[im.Event]
			}
		}
		comps = slices.DeleteFunc(comps, func(c string) bool { return share[c] < minChangeShare })
		slices.SortStableFunc(comps, func(a, b string) int { return cmp.Compare(share[b], share[a]) })
	} else {
		// No exact value, so no importance: the tree's components in order.
		for _, c := range m.Components {
			if inTree[c.Name] {
				comps = append(comps, c.Name)
			}
		}
	}
	if len(comps) > limit {
		comps = comps[:limit]
	}
	var cands []candidate
	for _, name := range comps {
		cands = append(cands, candidates(m, name, fa.Flow, inTree)...)
	}
	qs := make([]float64, len(cands))
	errs := make([]error, len(cands))
	parallel(len(cands), func(i int) {
		qs[i], errs[i] = flowUnavailability(cands[i].model, fa.Flow, opts)
	})
	var out []Change
	for i, ch := range cands {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if gain := fa.Unavailability - qs[i]; gain > fa.Unavailability*1e-9 {
			ch.Unavailability, ch.Gain = qs[i], gain
			out = append(out, ch.Change)
		}
	}
	slices.SortStableFunc(out, func(a, b Change) int { return cmp.Compare(b.Gain, a.Gain) })
	return out, nil
}

// minChangeShare is the least share of a flow's unavailability that a
// component's failures must account for, for whatWouldHelp to try changes
// on it.
const minChangeShare = 0.01

// flowUnavailability is the exact unavailability of a flow of m, or its
// min-cut upper bound when the BDD is over budget.
func flowUnavailability(m *model.Model, flow string, opts AvailabilityOptions) (float64, error) {
	t, err := FaultTree(m, flow)
	if err != nil {
		return 0, err
	}
	est, err := faulttree.EstimateProbability(t, opts.Order, faulttree.Options{MaxNodes: opts.MaxNodes, Timeout: opts.Timeout})
	if err != nil {
		return 0, err
	}
	return est.Probability, nil
}

type candidate struct {
	Change
	model *model.Model
}

// candidates are the single changes tried on component name: one more
// replica (with automatic failover for a stateful component that needs its
// primary and has none to spare), one more zone, automatic failover, and
// a fallback on each hard dependency on it in force for the flow, from the
// components in the flow's tree (inTree).
func candidates(m *model.Model, name, flow string, inTree map[string]bool) []candidate {
	c := m.Component(name)
	if c == nil {
		return nil
	}
	var out []candidate
	with := func(kind, target, desc string, change func(*model.Component)) {
		mm, cc := withComponent(m, name)
		change(cc)
		out = append(out, candidate{Change: Change{Kind: kind, Component: name, Target: target, Description: desc}, model: mm})
	}
	switch {
	case c.NeedsPrimary() && c.Replicas <= 1:
		with("replica", "", fmt.Sprintf("%s: a replica with automatic failover%s", name, placement(c, 1)), func(cc *model.Component) {
			cc.Replicas, cc.Failover, cc.FailoverSet = 2, model.FailoverAutomatic, true
		})
	default:
		with("replica", "", fmt.Sprintf("%s: one more replica (%d)%s", name, c.Replicas+1, placement(c, c.Replicas)), func(cc *model.Component) {
			cc.Replicas++
		})
	}
	if c.NeedsPrimary() && c.Replicas > 1 {
		others := "its replica"
		if c.Replicas > 2 {
			others = fmt.Sprintf("its %d other replicas", c.Replicas-1)
		}
		with("failover", "", fmt.Sprintf("%s: automatic failover to %s", name, others), func(cc *model.Component) {
			cc.Failover, cc.FailoverSet = model.FailoverAutomatic, true
		})
	}
	if z := spareZone(m, c); z != "" {
		zones := append(slices.Clone(c.Zones), z)
		replicas := max(c.Replicas, len(zones))
		desc := fmt.Sprintf("%s: spread over one more zone, %s", name, z)
		if replicas > c.Replicas {
			desc += fmt.Sprintf(" (%d replicas)", replicas)
		}
		with("zone", "", desc, func(cc *model.Component) {
			cc.Zones, cc.Replicas = zones, replicas
		})
	}
	// A fallback where the flow calls it: on each hard dependency on c,
	// in force for the flow, of a component in the flow's tree.
	for _, caller := range m.Components {
		if !inTree[caller.Name] {
			continue
		}
		for i, e := range caller.DependsOn {
			if e.To != name || !e.Running() || e.Degrades() || !e.AppliesTo(flow) {
				continue
			}
			mm, cc := withComponent(m, caller.Name)
			ee := *cc.DependsOn[i]
			ee.Fallback = "degrade"
			cc.DependsOn[i] = &ee
			out = append(out, candidate{Change: Change{Kind: "fallback", Component: caller.Name, Target: name,
				Description: fmt.Sprintf("%s → %s: a fallback (serve degraded without %s)", caller.Name, name, name)}, model: mm})
		}
	}
	return out
}

// placement says where replica i of c would go.
func placement(c *model.Component, i int) string {
	if z := c.ReplicaZone(i); z != "" {
		return " in " + z
	}
	return ""
}

// spareZone is a declared zone c is not in, preferring one in the region
// of c's zones; "" when there is none or c names no zones.
func spareZone(m *model.Model, c *model.Component) string {
	if len(c.Zones) == 0 {
		return ""
	}
	region := ""
	if z := m.Zone(c.Zones[0]); z != nil {
		region = z.Region
	}
	other := ""
	for _, z := range m.Zones {
		if slices.Contains(c.Zones, z.Name) {
			continue
		}
		if z.Region == region {
			return z.Name
		}
		if other == "" {
			other = z.Name
		}
	}
	return other
}

// withComponent returns a copy of m in which the named component is a
// copy (with its own zones and dependency lists) that may be changed.
func withComponent(m *model.Model, name string) (*model.Model, *model.Component) {
	mm := *m
	mm.Components = slices.Clone(m.Components)
	for i, c := range mm.Components {
		if c.Name == name {
			cc := *c
			cc.Zones = slices.Clone(c.Zones)
			cc.DependsOn = slices.Clone(c.DependsOn)
			mm.Components[i] = &cc
			return &mm, &cc
		}
	}
	return &mm, nil
}

// Downtime formats an expected downtime per year, given in hours: "4h 22m",
// "26m 17s", "3s".
func Downtime(hours float64) string {
	d := time.Duration(hours * float64(time.Hour)).Round(time.Second)
	const day = 24 * time.Hour
	switch {
	case d.Round(time.Hour) >= day:
		d = d.Round(time.Hour)
		return fmt.Sprintf("%dd %dh", d/day, d%day/time.Hour)
	case d.Round(time.Minute) >= time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh %dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm %ds", d/time.Minute, d%time.Minute/time.Second)
	case d > 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	if hours > 0 {
		return "under 1s"
	}
	return "0s"
}
