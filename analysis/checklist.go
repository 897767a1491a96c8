package analysis

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spofhq/spof/model"
)

// ChecklistTitles are the seven items of the SPOF elimination checklist.
var ChecklistTitles = [7]string{
	"Every stateful component has a replica in another zone with automatic failover",
	"Every external dependency has a circuit breaker and a fallback",
	"The dependency map is complete and matches reality",
	"Chaos experiments have verified every fallback recently",
	"No single person holds critical credentials or operational knowledge",
	"A CI/CD failure does not block every team",
	"Monitoring does not share fate with what it monitors",
}

// Checklist evaluates the seven items for m. It runs the order-1 analysis
// first, and fails as Check does; Check returns the same items in
// Result.Checklist.
func Checklist(m *model.Model) ([]ChecklistItem, error) {
	res, err := Check(m, Options{})
	if err != nil {
		return nil, err
	}
	return res.Checklist, nil
}

// modelItems are the checklist items 1 to 4, which read only the model.
func modelItems(a *analyzer) []ChecklistItem {
	return []ChecklistItem{checkStateful(a), checkExternal(a), checkMap(a), checkVerified(a)}
}

// findingItems completes the checklist, items 1 to 4 being
// modelItems' result.
func findingItems(a *analyzer, findings []Finding) []ChecklistItem {
	return []ChecklistItem{checkPeople(a, findings), checkCI(a, findings), checkMonitoring(a, findings)}
}

// numberItems numbers and titles the items, in order.
func numberItems(items []ChecklistItem) []ChecklistItem {
	for i := range items {
		items[i].Item = i + 1
		items[i].Title = ChecklistTitles[i]
		if items[i].Evidence == nil {
			items[i].Evidence = []string{}
		}
	}
	return items
}

// verdict is pass when nothing failed and there was something to check.
func verdict(failed bool) Status {
	if failed {
		return Fail
	}
	return Pass
}

func checkStateful(a *analyzer) ChecklistItem {
	var it ChecklistItem
	failed := false
	for _, c := range a.m.Components {
		if !c.Kind.Stateful() {
			continue
		}
		zones := distinctZones(c)
		var problems []string
		if c.Replicas < 2 {
			problems = append(problems, "a single replica")
		} else if zones < 2 {
			problems = append(problems, fmt.Sprintf("%d replicas, all in one zone", c.Replicas))
		}
		if c.Replicas >= 2 && c.Failover != model.FailoverAutomatic {
			problems = append(problems, fmt.Sprintf("failover is %s", c.Failover))
		}
		if len(problems) > 0 {
			failed = true
			it.Evidence = append(it.Evidence, fmt.Sprintf("%s (%s): %s", c.Name, c.Kind, strings.Join(problems, ", ")))
			continue
		}
		it.Evidence = append(it.Evidence, fmt.Sprintf("%s (%s): %d replicas over %d zones, automatic failover", c.Name, c.Kind, c.Replicas, zones))
	}
	if it.Evidence == nil {
		it.Evidence = []string{"no stateful component (database, cache, queue, storage) in the model"}
	}
	it.Status = verdict(failed)
	return it
}

func distinctZones(c *model.Component) int {
	seen := map[string]bool{}
	for i := 0; i < c.Replicas; i++ {
		if z := c.ReplicaZone(i); z != "" {
			seen[z] = true
		}
	}
	return len(seen)
}

func checkExternal(a *analyzer) ChecklistItem {
	var it ChecklistItem
	failed := false
	external := make([]bool, len(a.m.Components))
	for x, c := range a.m.Components {
		external[x] = c.Kind == model.KindExternal
	}
	for x, c := range a.m.Components {
		// The compiled running-time edges, in declaration order: no name
		// lookups.
		for i := range a.g.edges[x] {
			if !external[a.g.edges[x][i].to] {
				continue
			}
			e := a.g.edges[x][i].src
			name := c.Name + " → " + e.To
			switch {
			case e.AsyncVia != "":
				it.Evidence = append(it.Evidence, fmt.Sprintf("%s: asynchronous via %s", name, e.AsyncVia))
			case e.Breaker != nil && e.Degrades():
				it.Evidence = append(it.Evidence, fmt.Sprintf("%s: circuit breaker and fallback (%s)", name, fallbackText(e)))
			case e.Breaker != nil:
				failed = true
				it.Evidence = append(it.Evidence, name+": circuit breaker but no fallback")
			case e.Degrades():
				failed = true
				it.Evidence = append(it.Evidence, fmt.Sprintf("%s: fallback (%s) but no circuit breaker: slow calls still pile up", name, fallbackText(e)))
			default:
				failed = true
				it.Evidence = append(it.Evidence, name+": no circuit breaker and no fallback")
			}
		}
	}
	if it.Evidence == nil {
		it.Evidence = []string{"no running-time dependency on an external component"}
	}
	it.Status = verdict(failed)
	return it
}

func fallbackText(e *model.Edge) string {
	if e.Fallback != "" {
		return e.Fallback
	}
	if e.FallbackTo != "" {
		return "falls back to " + e.FallbackTo
	}
	return "no fallback"
}

func checkMap(a *analyzer) ChecklistItem {
	if a.opts.Drift != nil {
		return driftItem(a, a.opts.Drift)
	}
	edges, fallbacks := 0, 0
	var unused []string
	for x, c := range a.m.Components {
		edges += len(c.DependsOn)
		for _, e := range c.DependsOn {
			if e.Degrades() {
				fallbacks++
			}
		}
		if a.g.needs[x].empty() {
			unused = append(unused, c.Name)
		}
	}
	it := ChecklistItem{Status: Unknown, Evidence: []string{
		"not compared with what really runs: spof drift --from kubernetes:DIR (or compose, terraform, traces) compares it",
		fmt.Sprintf("the model declares %s and %s, %d of them with a fallback or async path",
			countNoun(len(a.m.Components), "component", "components"), countNoun(edges, "dependency", "dependencies"), fallbacks),
	}}
	if len(unused) > 0 {
		it.Evidence = append(it.Evidence, "components no flow needs (missing edges?): "+strings.Join(unused, ", "))
	}
	return it
}

func checkVerified(a *analyzer) ChecklistItem {
	type fallback struct{ key, text string }
	var fallbacks []fallback
	for _, c := range a.m.Components {
		for _, e := range c.DependsOn {
			if e.Degrades() {
				fallbacks = append(fallbacks, fallback{c.Name + " → " + e.To, c.Name + " → " + e.To + " (" + fallbackDescription(e) + ")"})
			}
		}
	}
	if len(a.opts.Verified) == 0 {
		it := ChecklistItem{Status: Unknown, Evidence: []string{"no chaos experiment history yet: run spof chaos experiments to verify fallbacks"}}
		if len(fallbacks) == 0 {
			it.Evidence = append(it.Evidence, "the model declares no fallback to verify")
			return it
		}
		it.Evidence = append(it.Evidence, countNoun(len(fallbacks), "fallback", "fallbacks")+" never verified:")
		for _, f := range fallbacks {
			it.Evidence = append(it.Evidence, f.text)
		}
		return it
	}
	var it ChecklistItem
	failed := false
	for _, f := range fallbacks {
		v, ok := a.opts.Verified[f.key]
		when := v.At.UTC().Format("2006-01-02")
		switch {
		case !ok:
			failed = true
			it.Evidence = append(it.Evidence, "never tested: "+f.text)
		case !v.Passed:
			failed = true
			it.Evidence = append(it.Evidence, fmt.Sprintf("failed: %s (%s, %s)", f.text, v.Experiment, when))
		case a.opts.Now.Sub(v.At) > StaleAfter:
			failed = true
			it.Evidence = append(it.Evidence, fmt.Sprintf("stale: %s (last verified by %s on %s, more than %d days ago)", f.text, v.Experiment, when, int(StaleAfter.Hours()/24)))
		default:
			it.Evidence = append(it.Evidence, fmt.Sprintf("verified: %s (%s, %s)", f.text, v.Experiment, when))
		}
	}
	if len(fallbacks) == 0 {
		return ChecklistItem{Status: Unknown, Evidence: []string{"the model declares no fallback to verify"}}
	}
	it.Status = verdict(failed)
	return it
}

func fallbackDescription(e *model.Edge) string {
	switch {
	case e.AsyncVia != "":
		return "async via " + e.AsyncVia
	case e.FallbackTo != "" && e.Fallback != "":
		return "fallback to " + e.FallbackTo + ": " + e.Fallback
	case e.FallbackTo != "":
		return "fallback to " + e.FallbackTo
	}
	return "fallback: " + e.Fallback
}

func checkPeople(a *analyzer, findings []Finding) ChecklistItem {
	var it ChecklistItem
	if len(a.m.People) == 0 {
		return ChecklistItem{Status: Unknown, Evidence: []string{"the model has no people: section; add who knows which component and who holds which credential"}}
	}
	failed := false
	for _, f := range findings {
		if f.Category != CategoryOperational {
			continue
		}
		failed = true
		it.Evidence = append(it.Evidence, f.Chain[1:len(f.Chain)-1]...)
	}
	for x, c := range a.m.Components {
		if c.Failover == model.FailoverManual && len(knowers(a.m, c.Name)) == 0 && !a.g.needs[x].empty() {
			failed = true
			it.Evidence = append(it.Evidence, fmt.Sprintf("nobody in people: knows how to fail %s over by hand (failover: manual)", c.Name))
		}
	}
	if !failed {
		it.Evidence = append(it.Evidence, "every component a flow needs that someone knows is known by two people or more, and every credential has two holders")
	}
	it.Status = verdict(failed)
	return it
}

func checkCI(a *analyzer, findings []Finding) ChecklistItem {
	var it ChecklistItem
	found, failed := false, false
	for x, c := range a.m.Components {
		if c.Kind != model.KindCI {
			continue
		}
		found = true
		var blocked []string // dependents whose deploy needs c with no fallback
		for _, ref := range a.phasedBy[x] {
			if ref.e.src.When == model.WhenDeploy && ref.e.to == int32(x) && !ref.e.src.Degrades() && ref.e.fallbackTo < 0 {
				blocked = append(blocked, a.m.Components[ref.from].Name)
			}
		}
		if len(blocked) == 0 {
			it.Evidence = append(it.Evidence, fmt.Sprintf("%s: no deploy depends on it without a fallback path", c.Name))
			continue
		}
		var events []string
		for _, f := range findings {
			if f.Category != CategoryOperational && slices.Contains(a.special[f.Event], c.Name) {
				events = append(events, f.Event)
			}
		}
		if len(events) == 0 {
			it.Evidence = append(it.Evidence, fmt.Sprintf("%s: redundant; no single failure takes it down", c.Name))
			continue
		}
		failed = true
		it.Evidence = append(it.Evidence, fmt.Sprintf("%s blocks every deploy of %s when it fails (%s), with no fallback deploy path",
			c.Name, strings.Join(blocked, ", "), strings.Join(events, ", ")))
	}
	if !found {
		return ChecklistItem{Status: Unknown, Evidence: []string{"no component of kind ci in the model; add your CI/CD pipeline and the when: deploy edges on it"}}
	}
	it.Status = verdict(failed)
	return it
}

func checkMonitoring(a *analyzer, findings []Finding) ChecklistItem {
	var it ChecklistItem
	found, failed := false, false
	for _, c := range a.m.Components {
		if c.Kind != model.KindMonitoring {
			continue
		}
		found = true
		bad := false
		if c.Replicas < 2 {
			bad = true
			it.Evidence = append(it.Evidence, fmt.Sprintf("%s: a single monitoring stack; when it fails nothing alerts", c.Name))
		}
		for _, f := range findings {
			if f.Category == CategorySPOF && slices.Contains(a.special[f.Event], c.Name) {
				bad = true
				it.Evidence = append(it.Evidence, fmt.Sprintf("%s shares fate with %s: %s takes both down", c.Name, strings.Join(f.Flows, ", "), f.Event))
			}
		}
		if !bad {
			it.Evidence = append(it.Evidence, fmt.Sprintf("%s: redundant and no single failure that stops a flow takes it down", c.Name))
		}
		failed = failed || bad
	}
	if !found {
		return ChecklistItem{Status: Unknown, Evidence: []string{"no component of kind monitoring in the model; add the stack that alerts you"}}
	}
	it.Status = verdict(failed)
	return it
}

// countNoun formats "1 fallback" or "2 fallbacks".
func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
