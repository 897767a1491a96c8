package mef

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/spofhq/spof/analysis/faulttree"
)

// TestCutSetsEqualSCRAM runs the cut-set engine and SCRAM on every sample
// fault tree SCRAM ships and compares: the number of minimal cut sets,
// their distribution by order, the sets themselves, and the exact top
// probability (to SCRAM's printed precision, 6 significant digits).
// CEA9601 is compared at order 3 (its full list is millions of sets).
func TestCutSetsEqualSCRAM(t *testing.T) {
	for _, c := range faultTreeInputs {
		order := 0
		if strings.HasPrefix(c.files[0], "CEA9601") {
			order = 3
		}
		t.Run(fmt.Sprintf("%s/order-%d", strings.Join(c.files, "+"), order), func(t *testing.T) {
			paths := inputPaths(t, c.files)
			trees, err := Read(readInputs(t, paths)...)
			if err != nil {
				t.Fatal(err)
			}
			args := append(slices.Clone(paths), "--probability", "true")
			if order > 0 {
				args = append(args, "--limit-order", fmt.Sprint(order))
			}
			rep := runSCRAM(t, args...)
			if len(rep.Results) != len(trees) {
				t.Fatalf("%d top events, SCRAM %d", len(trees), len(rep.Results))
			}
			for i, tr := range trees {
				want := rep.Results[i]
				res, err := faulttree.CutSets(tr, faulttree.CutSetOptions{Order: order})
				if err != nil {
					t.Fatal(err)
				}
				if res.Count != want.Count {
					t.Errorf("%s: %d minimal cut sets, SCRAM %d", tr.Name, res.Count, want.Count)
				}
				if !slices.Equal(trimZeros(res.Distribution), trimZeros(want.Distribution)) {
					t.Errorf("%s: distribution %v, SCRAM %v", tr.Name, res.Distribution, want.Distribution)
				}
				got := map[string]bool{}
				for _, s := range res.Sets {
					var names []string
					for _, e := range s.Events {
						names = append(names, tr.Events[e].Name)
					}
					slices.Sort(names)
					got[strings.Join(names, " ")] = true
				}
				missing := 0
				for _, p := range want.Products {
					var names []string
					for _, l := range p.Literals {
						n := l.Event
						if l.Not {
							n = "not " + n
						}
						names = append(names, n)
					}
					slices.Sort(names)
					if key := strings.Join(names, " "); !got[key] {
						if missing++; missing <= 5 {
							t.Errorf("%s: SCRAM's cut set {%s} is not ours", tr.Name, key)
						}
					}
				}
				if want.HasProbability && allHaveProbability(tr) {
					p, err := faulttree.Probability(tr, faulttree.Options{})
					if err != nil {
						t.Fatal(err)
					}
					if !closeTo(p, want.Probability, 5e-6) {
						t.Errorf("%s: probability %.9g, SCRAM %.6g", tr.Name, p, want.Probability)
					}
				}
			}
		})
	}
}

func trimZeros(d []int) []int {
	for len(d) > 0 && d[len(d)-1] == 0 {
		d = d[:len(d)-1]
	}
	return d
}

func allHaveProbability(t *faulttree.Tree) bool {
	for _, e := range t.Events {
		if !e.HasP {
			return false
		}
	}
	return true
}

// closeTo compares to SCRAM's printed precision: a relative difference
// below rel, or both below 1e-300.
func closeTo(a, b, rel float64) bool {
	if math.Abs(a) < 1e-300 && math.Abs(b) < 1e-300 {
		return true
	}
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))
}
