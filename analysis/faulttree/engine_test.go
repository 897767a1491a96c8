package faulttree

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkAgainstReference compares every engine with the brute-force twin
// on one tree.
func checkAgainstReference(t *testing.T, tr *Tree, coherent bool) {
	t.Helper()
	want := refProbability(tr, nil)
	got, err := Probability(tr, Options{})
	if err != nil {
		t.Fatalf("Probability: %v\ntree: %+v", err, tr)
	}
	if !approxEqual(got, want) {
		t.Fatalf("Probability = %v, brute force %v\ntree: %+v", got, want, tr)
	}
	methods := []Method{Auto, BDD}
	if coherent {
		methods = append(methods, ZBDD)
	}
	all := refCutSets(tr, 0)
	for _, order := range []int{0, 1, 2, 3} {
		var wantSets []string
		for _, s := range all {
			if order == 0 || strings.Count(s, ",") < order {
				wantSets = append(wantSets, s)
			}
		}
		for _, m := range methods {
			res, err := CutSets(tr, CutSetOptions{Order: order, Method: m, WithProbability: true})
			if err != nil {
				t.Fatalf("CutSets(order %d, %s): %v", order, m, err)
			}
			if !approxEqual(res.Probability, want) {
				t.Fatalf("CutSets(order %d, %s).Probability = %v, brute force %v", order, m, res.Probability, want)
			}
			gotSets := cutSetStrings(tr, res)
			if diff := cmp.Diff(wantSets, gotSets); diff != "" {
				t.Fatalf("CutSets(order %d, %s) (-brute force +got):\n%s\ntree: %+v", order, m, diff, tr)
			}
			if res.Count != len(res.Sets) {
				t.Fatalf("Count %d, %d sets", res.Count, len(res.Sets))
			}
			checkResultShape(t, tr, res)
		}
	}
}

// checkResultShape checks the distribution, probabilities and sort order.
func checkResultShape(t *testing.T, tr *Tree, res *CutSetResult) {
	t.Helper()
	dist := make([]int, len(res.Distribution))
	for i, cs := range res.Sets {
		if n := len(cs.Events); n > 0 {
			for len(dist) < n {
				dist = append(dist, 0)
			}
			dist[n-1]++
		}
		p := 1.0
		for _, e := range cs.Events {
			p *= tr.Events[e].P
		}
		if !approxEqual(p, cs.P) {
			t.Fatalf("set %d: P = %v, want %v", i, cs.P, p)
		}
		if i > 0 && res.Sets[i-1].P < cs.P {
			t.Fatalf("sets %d and %d out of probability order", i-1, i)
		}
	}
	if !slices.Equal(dist, res.Distribution) {
		t.Fatalf("Distribution = %v, counted %v", res.Distribution, dist)
	}
}

func TestEnginesMatchBruteForceOnRandomTrees(t *testing.T) {
	for _, coherent := range []bool{true, false} {
		rng := rand.New(rand.NewPCG(1, 2))
		for range 400 {
			tr := randomTree(rng, 12, 10, coherent)
			checkAgainstReference(t, tr, coherent)
		}
	}
}

func TestImportanceMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		tr := randomTree(rng, 8, 8, rng.IntN(2) == 0)
		imps, err := Importance(tr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		top := refProbability(tr, nil)
		listed := map[int32]bool{}
		for _, im := range imps {
			listed[im.Event] = true
		}
		for e := range tr.Events {
			if listed[int32(e)] {
				continue
			}
			// Left out: the top must not depend on it.
			p := make([]float64, len(tr.Events))
			for i, ev := range tr.Events {
				p[i] = ev.P
			}
			p[e] = 1
			p1 := refProbability(tr, p)
			p[e] = 0
			if p0 := refProbability(tr, p); !approxEqual(p1, p0) {
				t.Fatalf("event %d left out, but P1 %v != P0 %v", e, p1, p0)
			}
		}
		for _, im := range imps {
			p := make([]float64, len(tr.Events))
			for i, e := range tr.Events {
				p[i] = e.P
			}
			p[im.Event] = 1
			p1 := refProbability(tr, p)
			p[im.Event] = 0
			p0 := refProbability(tr, p)
			if !approxEqual(im.Birnbaum, p1-p0) {
				t.Fatalf("event %d: Birnbaum %v, brute force %v\ntree %+v", im.Event, im.Birnbaum, p1-p0, tr)
			}
			if top > 1e-6 && !approxEqual(im.RAW, p1/top) {
				t.Fatalf("event %d: RAW %v, brute force %v", im.Event, im.RAW, p1/top)
			}
			if p0 > 1e-6 && !approxEqual(im.RRW, top/p0) {
				t.Fatalf("event %d: RRW %v, brute force %v", im.Event, im.RRW, top/p0)
			}
		}
	}
}

func TestCoherentCutSetsAreComplete(t *testing.T) {
	// Every failing assignment contains a minimal cut set, and every cut
	// set fails the top on its own.
	rng := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		tr := randomTree(rng, 10, 8, true)
		res, err := CutSets(tr, CutSetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var masks []uint32
		for _, cs := range res.Sets {
			var m uint32
			for _, e := range cs.Events {
				m |= 1 << e
			}
			if !refEval(tr, m) {
				t.Fatalf("cut set %v does not fail the top", cs.Events)
			}
			masks = append(masks, m)
		}
		for s := uint32(0); s < 1<<len(tr.Events); s++ {
			if !refEval(tr, s) {
				continue
			}
			if !slices.ContainsFunc(masks, func(m uint32) bool { return s&m == m }) {
				t.Fatalf("failing assignment %b contains no cut set", s)
			}
		}
	}
}

// The example SCRAM 0.16.2 answers (scram nc.xml, default BDD algorithm):
// top = (a and not b) or (b and c), P(a,b,c) = 0.1, 0.2, 0.3 gives the
// products {a} and {b, c}, probability 0.14, and importance
// a: MIF 0.8 CIF 0.571429 DIF 0.614286 RAW 6.14286 RRW 2.33333.
func TestNonCoherentFollowsSCRAM(t *testing.T) {
	tr := &Tree{
		Name: "nc",
		Gates: []Gate{
			{Name: "top", Op: Or, Args: []Arg{{ArgGate, 1}, {ArgGate, 2}}},
			{Name: "g1", Op: And, Args: []Arg{{ArgEvent, 0}, {ArgGate, 3}}},
			{Name: "g2", Op: And, Args: []Arg{{ArgEvent, 1}, {ArgEvent, 2}}},
			{Name: "notb", Op: Not, Args: []Arg{{ArgEvent, 1}}},
		},
		Events: []Event{{"a", 0.1, true}, {"b", 0.2, true}, {"c", 0.3, true}},
	}
	res, err := CutSets(tr, CutSetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b,c"}, cutSetStrings(tr, res)); diff != "" {
		t.Errorf("cut sets (-want +got):\n%s", diff)
	}
	if res.Sets[0].Events[0] != 0 {
		t.Errorf("first set %v, want {a} (the more probable)", res.Sets[0].Events)
	}
	p, err := Probability(tr, Options{})
	if err != nil || !approxEqual(p, 0.14) {
		t.Errorf("Probability = %v, %v; want 0.14", p, err)
	}
	imps, err := Importance(tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := imps[0]
	want := EventImportance{Event: 0, Birnbaum: 0.8, Criticality: 0.571429, FussellVesely: 0.614286, RAW: 6.14286, RRW: 2.33333}
	if diff := cmp.Diff(want, a, cmp.Comparer(func(x, y float64) bool { return x-y < 1e-5 && y-x < 1e-5 })); diff != "" {
		t.Errorf("importance of a (-SCRAM +got):\n%s", diff)
	}
}

func TestPreprocessing(t *testing.T) {
	ev := []Event{{"a", 0.1, true}, {"b", 0.2, true}, {"c", 0.5, true}}
	tests := []struct {
		name  string
		tree  Tree
		sets  []string
		p     float64
		error error
	}{
		{
			name: "house true removes an or",
			tree: Tree{Gates: []Gate{{Name: "top", Op: And, Args: []Arg{{ArgEvent, 0}, {ArgGate, 1}}},
				{Name: "g", Op: Or, Args: []Arg{{ArgHouse, 0}, {ArgEvent, 1}}}}, Houses: []House{{"h", true}}},
			sets: []string{"a"}, p: 0.1,
		},
		{
			name: "house false empties an and",
			tree: Tree{Gates: []Gate{{Name: "top", Op: Or, Args: []Arg{{ArgEvent, 0}, {ArgGate, 1}}},
				{Name: "g", Op: And, Args: []Arg{{ArgHouse, 0}, {ArgEvent, 1}}}}, Houses: []House{{"h", false}}},
			sets: []string{"a"}, p: 0.1,
		},
		{
			name: "constant true top has one empty set",
			tree: Tree{Gates: []Gate{{Name: "top", Op: Not, Args: []Arg{{ArgHouse, 0}}}}, Houses: []House{{"h", false}}},
			sets: []string{""}, p: 1,
		},
		{
			name: "constant false top has none",
			tree: Tree{Gates: []Gate{{Name: "top", Op: And, Args: []Arg{{ArgEvent, 0}, {ArgGate, 1}}},
				{Name: "n", Op: Not, Args: []Arg{{ArgEvent, 0}}}}},
			sets: nil, p: 0,
		},
		{
			name: "atleast with a true house",
			tree: Tree{Gates: []Gate{{Name: "top", Op: AtLeast, K: 2, Args: []Arg{{ArgHouse, 0}, {ArgEvent, 0}, {ArgEvent, 1}}}}, Houses: []House{{"h", true}}},
			sets: []string{"a", "b"}, p: 1 - 0.9*0.8,
		},
		{
			name: "not of atleast 2 of 3",
			tree: Tree{Gates: []Gate{{Name: "top", Op: Not, Args: []Arg{{ArgGate, 1}}},
				{Name: "v", Op: AtLeast, K: 2, Args: []Arg{{ArgEvent, 0}, {ArgEvent, 1}, {ArgEvent, 2}}}}},
			sets: []string{""}, p: 1 - (0.1*0.2 + 0.1*0.5 + 0.2*0.5 - 2*0.1*0.2*0.5),
		},
		{
			name: "cycle",
			tree: Tree{Gates: []Gate{{Name: "top", Op: Or, Args: []Arg{{ArgEvent, 0}, {ArgGate, 1}}},
				{Name: "g", Op: And, Args: []Arg{{ArgEvent, 1}, {ArgGate, 0}}}}},
			error: ErrCycle,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.tree
			tr.Events = ev
			res, err := CutSets(&tr, CutSetOptions{})
			if !errors.Is(err, tt.error) {
				t.Fatalf("CutSets error %v, want %v", err, tt.error)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.sets, cutSetStrings(&tr, res)); diff != "" {
				t.Errorf("cut sets (-want +got):\n%s", diff)
			}
			p, err := Probability(&tr, Options{})
			if err != nil || !approxEqual(p, tt.p) {
				t.Errorf("Probability = %v, %v; want %v", p, err, tt.p)
			}
		})
	}
}

func TestBudgetErrorSaysWhatToRaise(t *testing.T) {
	tr := generatedTree(40, 7)
	_, err := CutSets(tr, CutSetOptions{MaxNodes: 50})
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("CutSets error = %v, want ErrBudget", err)
	}
	if got := err.Error(); !containsAll(got, "MaxNodes", "order limit") {
		t.Errorf("error %q does not say what to raise", got)
	}
	_, err = Probability(tr, Options{MaxNodes: 50})
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("Probability error = %v, want ErrBudget", err)
	}
}

func TestAutoFallsBackToZBDDWhenTheBDDIsTooLarge(t *testing.T) {
	tr := generatedTree(200, 1)
	p, err := buildPdag(tr)
	if err != nil {
		t.Fatal(err)
	}
	b := newBDD(newBudget(0, 0))
	b.build(p)
	budget := len(b.nodes) - 1
	want, err := CutSets(tr, CutSetOptions{Order: autoZBDDOrder + 1, Method: BDD})
	if err != nil {
		t.Fatal(err)
	}
	got, err := CutSets(tr, CutSetOptions{Order: autoZBDDOrder + 1, MaxNodes: budget})
	if err != nil {
		t.Fatalf("with %d nodes: %v", budget, err)
	}
	if got.Method != ZBDD {
		t.Errorf("Method = %s, want zbdd (the BDD needs %d nodes)", got.Method, budget+1)
	}
	if diff := cmp.Diff(cutSetStrings(tr, want), cutSetStrings(tr, got)); diff != "" {
		t.Errorf("ZBDD and BDD differ (-bdd +zbdd):\n%s", diff)
	}
	if _, err := CutSets(tr, CutSetOptions{MaxNodes: budget}); !errors.Is(err, ErrBudget) {
		t.Errorf("without an order limit: error %v, want ErrBudget", err)
	}
}

func TestEstimateDegradesToBounds(t *testing.T) {
	tr := generatedTree(200, 1)
	exact, err := EstimateProbability(tr, 0, Options{})
	if err != nil || !exact.Exact {
		t.Fatalf("with the default budget: %+v, %v", exact, err)
	}
	est, err := EstimateProbability(tr, 4, Options{MaxNodes: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if est.Exact || est.Order != 4 || !containsAll(est.Note, "MaxNodes", "order 4") {
		t.Errorf("estimate %+v: want bounds at order 4 with a note saying what to raise", est)
	}
	// The order-4 sets miss some failures, so the MCUB may fall below
	// the exact value, but not far on a tree of rare events.
	if est.Probability < 0.5*exact.Probability || est.Bound.RareEvent < est.Bound.MCUB {
		t.Errorf("bounds %+v, exact %v", est.Bound, exact.Probability)
	}
}

func TestMonteCarloAgreesWithBDD(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	outside := 0
	for i := range 20 {
		tr := randomTree(rng, 10, 8, i%2 == 0)
		exact := refProbability(tr, nil)
		mc, err := MonteCarlo(tr, 20000, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		again, _ := MonteCarlo(tr, 20000, uint64(i))
		if again != mc {
			t.Fatalf("same seed, different results: %+v and %+v", mc, again)
		}
		// Seeded, so deterministic: with 95% intervals about one run in
		// twenty misses; none may miss by more than four standard errors.
		if exact < mc.Low || exact > mc.High {
			outside++
		}
		se := math.Sqrt(exact * (1 - exact) / float64(mc.Trials))
		if math.Abs(mc.Mean-exact) > 4*se+1e-12 {
			t.Errorf("tree %d: exact %v, Monte Carlo %v ± %v", i, exact, mc.Mean, se)
		}
	}
	if outside > 3 {
		t.Errorf("%d of 20 intervals miss the exact value", outside)
	}
}

func TestBounds(t *testing.T) {
	b := Bounds([]CutSet{{P: 0.1}, {P: 0.2}})
	if !approxEqual(b.RareEvent, 0.3) || !approxEqual(b.MCUB, 1-0.9*0.8) {
		t.Errorf("Bounds = %+v", b)
	}
}
