package scramreport

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	const report = `<?xml version="1.0" encoding="UTF-8"?>
<report>
  <information>
    <model-features><gates>5</gates><basic-events>9</basic-events><house-events>1</house-events><fault-trees>1</fault-trees></model-features>
  </information>
  <results>
    <sum-of-products name="top" basic-events="3" products="2" probability="0.00162091" distribution="1 1">
      <product order="2" probability="7.05541e-09"><basic-event name="a"/><not><basic-event name="b"/></not></product>
      <product order="1" probability="4.2e-06"><basic-event name="c"/></product>
    </sum-of-products>
    <sum-of-products name="other" warning="The set is NULL/Empty." basic-events="0" products="0"/>
  </results>
</report>`
	got, err := Parse(strings.NewReader(report))
	if err != nil {
		t.Fatal(err)
	}
	want := &Report{
		Features: Features{Gates: 5, BasicEvents: 9, HouseEvents: 1, FaultTrees: 1},
		Results: []SumOfProducts{
			{Name: "top", BasicEvents: 3, Count: 2, Probability: 0.00162091, HasProbability: true, Distribution: []int{1, 1}, Products: []Product{
				{Order: 2, Probability: 7.05541e-09, Literals: []Literal{{Event: "a"}, {Event: "b", Not: true}}},
				{Order: 1, Probability: 4.2e-06, Literals: []Literal{{Event: "c"}}},
			}},
			{Name: "other", Warning: "The set is NULL/Empty."},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := Parse(strings.NewReader(`<report><results><sum-of-products products="2"><product/></sum-of-products></results></report>`)); err == nil {
		t.Error("a product count that disagrees with the list: no error")
	}
}
