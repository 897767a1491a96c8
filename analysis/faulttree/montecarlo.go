package faulttree

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// MonteCarloResult is a sampled estimate of the top event probability.
type MonteCarloResult struct {
	Trials   int
	Failures int     // trials in which the top event occurred
	Mean     float64 // Failures / Trials
	Low      float64 // 95% Wilson score interval
	High     float64
}

// MonteCarlo estimates the top event probability of t from trials
// independent samples of the basic events, drawn from a PCG generator
// seeded with seed (the same seed gives the same result). It is a
// cross-check of Probability that shares only the preprocessing with it.
func MonteCarlo(t *Tree, trials int, seed uint64) (MonteCarloResult, error) {
	if trials <= 0 {
		return MonteCarloResult{}, fmt.Errorf("monte carlo of %q: %d trials (want at least 1)", t.Name, trials)
	}
	p, err := buildPdag(t)
	if err != nil {
		return MonteCarloResult{}, err
	}
	for _, e := range p.order {
		if !t.Events[e].HasP {
			return MonteCarloResult{}, fmt.Errorf("monte carlo of %q: basic event %q has no probability", t.Name, t.Events[e].Name)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5350_4f46))
	order := p.reachable()
	state := make([]bool, len(t.Events))
	val := make([]bool, len(p.nodes))
	litVal := func(l lit) bool {
		if l.node {
			return val[l.index]
		}
		return state[l.index] != l.neg
	}
	res := MonteCarloResult{Trials: trials}
	for range trials {
		for _, e := range p.order {
			state[e] = rng.Float64() < t.Events[e].P
		}
		for _, i := range order {
			nd := &p.nodes[i]
			n := 0
			for _, a := range nd.args {
				if litVal(a) {
					n++
				}
			}
			val[i] = n >= nd.k
		}
		var top bool
		if p.constant {
			top = p.value
		} else {
			top = litVal(p.top)
		}
		if top {
			res.Failures++
		}
	}
	res.Mean = float64(res.Failures) / float64(trials)
	res.Low, res.High = wilson(res.Failures, trials)
	return res, nil
}

// wilson returns the 95% Wilson score interval of a binomial proportion,
// which stays inside [0, 1] and is sensible when there are no failures.
func wilson(k, n int) (lo, hi float64) {
	const z = 1.959963984540054
	ph := float64(k) / float64(n)
	nn := float64(n)
	den := 1 + z*z/nn
	centre := (ph + z*z/(2*nn)) / den
	half := z * math.Sqrt(ph*(1-ph)/nn+z*z/(4*nn*nn)) / den
	return max(0, centre-half), min(1, centre+half)
}
