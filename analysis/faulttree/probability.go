package faulttree

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Options bound the BDD behind Probability and Importance.
type Options struct {
	MaxNodes int           // BDD node budget; 0: DefaultMaxNodes
	Timeout  time.Duration // the time to build the BDD; 0: no limit
}

// topBDD builds the BDD of t and the probability of each level.
func topBDD(t *Tree, opts Options) (*bdd, int32, *pdag, []float64, error) {
	p, err := buildPdag(t)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	probs, err := levelProbabilities(t, p)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	b := newBDD(newBudget(opts.MaxNodes, opts.Timeout))
	root := b.build(p)
	if b.over {
		return nil, 0, nil, nil, b.exceeded("probability", t.Name, "use EstimateProbability for bounds")
	}
	return b, root, p, probs, nil
}

// levelProbabilities returns the probability of the event at each level.
func levelProbabilities(t *Tree, p *pdag) ([]float64, error) {
	probs := make([]float64, len(p.order))
	for l, e := range p.order {
		ev := t.Events[e]
		if !ev.HasP {
			return nil, fmt.Errorf("probability of %q: basic event %q has no probability", t.Name, ev.Name)
		}
		if ev.P < 0 || ev.P > 1 || math.IsNaN(ev.P) {
			return nil, fmt.Errorf("probability of %q: basic event %q: probability %v is not in [0, 1]", t.Name, ev.Name, ev.P)
		}
		probs[l] = ev.P
	}
	return probs, nil
}

// Probability returns the exact probability of the top event of t, from
// its BDD. Every basic event in the tree needs a probability.
func Probability(t *Tree, opts Options) (float64, error) {
	b, root, _, probs, err := topBDD(t, opts)
	if err != nil {
		return 0, err
	}
	return b.probabilities(root, probs)[root], nil
}

// EventImportance holds the importance measures of one basic event, with the
// names and definitions SCRAM uses (P is the top event probability, P1 and
// P0 the top event probability with the event certainly failed and
// certainly working, p the event's probability).
type EventImportance struct {
	Event         int32   // index into Tree.Events
	Birnbaum      float64 // P1 − P0 (SCRAM's MIF)
	Criticality   float64 // p × Birnbaum / P (SCRAM's CIF)
	FussellVesely float64 // p × P1 / P (SCRAM's DIF, the diagnosis importance)
	RAW           float64 // risk achievement worth: P1 / P
	RRW           float64 // risk reduction worth: P / P0
}

// Importance returns the importance of every basic event that the top
// event depends on (those SCRAM lists: an event absorbed by another, like
// b in a or (a and b), is left out), in tree order. A ratio with a zero
// denominator is 0, as SCRAM prints it (and as JSON can carry it).
func Importance(t *Tree, opts Options) ([]EventImportance, error) {
	_, imp, err := ProbabilityAndImportance(t, opts)
	return imp, err
}

// ProbabilityAndImportance returns the top event probability and the
// importance of the events, as Probability and Importance do, from one
// BDD.
func ProbabilityAndImportance(t *Tree, opts Options) (float64, []EventImportance, error) {
	b, root, p, probs, err := topBDD(t, opts)
	if err != nil {
		return 0, nil, err
	}
	prob := b.probabilities(root, probs)
	top := prob[root]
	birn, present := b.birnbaum(root, probs, prob)
	var out []EventImportance
	for e := range t.Events {
		l := p.level[e]
		if l < 0 || !present[l] {
			continue
		}
		q, bi := probs[l], birn[l]
		// P = q·P1 + (1−q)·P0 and bi = P1 − P0. Where P0 or P1 is 0 the
		// subtraction leaves rounding noise: clear it.
		p0 := top - q*bi
		if math.Abs(p0) <= 1e-12*top {
			p0 = 0
		}
		p1 := p0 + bi
		out = append(out, EventImportance{
			Event:         int32(e),
			Birnbaum:      bi,
			Criticality:   ratio(q*bi, top),
			FussellVesely: ratio(q*p1, top),
			RAW:           ratio(p1, top),
			RRW:           ratio(top, p0),
		})
	}
	return top, out, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Bound holds the approximations of the top event probability from a
// list of cut sets.
type Bound struct {
	RareEvent float64 // sum of the cut sets' probabilities (may exceed 1)
	MCUB      float64 // min-cut upper bound: 1 − Π(1 − P(cut set))
}

// Bounds returns the rare-event approximation and the min-cut upper bound
// from cut sets (typically CutSetResult.Sets, possibly order-limited).
func Bounds(sets []CutSet) Bound {
	var b Bound
	keep := 1.0
	for _, s := range sets {
		b.RareEvent += s.P
		keep *= 1 - s.P
	}
	b.MCUB = 1 - keep
	return b
}

// Estimate is the top event probability: exact when the BDD fits the
// budget, otherwise the bounds from the cut sets up to an order.
type Estimate struct {
	Exact       bool
	Probability float64 // exact value, or the MCUB when not Exact
	Bound       Bound   // from the cut sets (zero when Exact)
	Order       int     // order of the cut sets behind Bound
	Note        string  // why the value is not exact, and what to raise
}

// EstimateProbability returns the exact top event probability, or, when
// the BDD exceeds opts.MaxNodes, the rare-event and min-cut upper bounds
// from the minimal cut sets up to order (default 3) with a note saying
// so. It fails only when neither fits the budget.
func EstimateProbability(t *Tree, order int, opts Options) (Estimate, error) {
	p, err := Probability(t, opts)
	if err == nil {
		return Estimate{Exact: true, Probability: p}, nil
	}
	if !errors.Is(err, ErrBudget) {
		return Estimate{}, err
	}
	if order <= 0 {
		order = 3
	}
	res, cerr := CutSets(t, CutSetOptions{Order: order, MaxNodes: opts.MaxNodes, Timeout: opts.Timeout, Method: ZBDD})
	if cerr != nil {
		return Estimate{}, fmt.Errorf("%w; and the cut sets up to order %d: %w", err, order, cerr)
	}
	b := Bounds(res.Sets)
	return Estimate{
		Probability: b.MCUB,
		Bound:       b,
		Order:       order,
		Note:        fmt.Sprintf("%v; bounds from the %d minimal cut sets up to order %d instead", err, res.Count, order),
	}, nil
}
