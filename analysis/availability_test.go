package analysis

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/spofhq/spof/model"
)

// TestEventUnavailability: the model's figures win; without one, the
// default of the kind (zone, region, provider, hazard) applies and is
// marked assumed; a provider only one single-replica component uses is
// folded into that component's event.
func TestEventUnavailability(t *testing.T) {
	m := mustParse(t, `
version: 1
system: s
zones:
  a: {region: r, availability: 99.9%}
  b: {region: r}
regions:
  r: {availability: 0.99999}
providers:
  aws: {availability: 99.99%}
components:
  app: {kind: service, replicas: 2, zones: [a, b], provider: aws, availability: 99%}
  db: {kind: database}
  pay: {kind: external, provider: stripe, availability: 99.9%}
flows:
  f: {criticality: critical, steps: [app, db, pay]}
hazards:
  batch: {breaks: [db], probability: 1.4%}
  other: {breaks: [db]}
`)
	for _, c := range []struct {
		event   string
		q       float64
		assumed bool
	}{
		{"instance:app/1", 0.01, false},
		{"component:db", 0.005, true},
		{"component:pay", 1 - 0.999*0.9999, true}, // its provider is assumed
		{"zone:a", 0.001, false},
		{"zone:b", 0.0005, true},
		{"region:r", 0.00001, false},
		{"provider:aws", 0.0001, false},
		{"hazard:batch", 0.014, false},
		{"hazard:other", 0.001, true},
	} {
		e, err := ParseEvent(c.event)
		if err != nil {
			t.Fatal(err)
		}
		u, err := EventUnavailability(m, e)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(u.Q-c.q) > 1e-15 || u.Assumed != c.assumed || u.Basis == "" {
			t.Errorf("%s: %+v, want q %v, assumed %v", c.event, u, c.q, c.assumed)
		}
	}
	if _, err := EventUnavailability(m, Event{Kind: EventPerson, Name: "x"}); err == nil {
		t.Error("a person's event has an unavailability")
	}
	tr, err := FaultTree(m, "f")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range tr.Events {
		if !ev.HasP || ev.P <= 0 {
			t.Errorf("tree event %s: P %v, HasP %v", ev.Name, ev.P, ev.HasP)
		}
	}
}

// TestAvailabilityMatchesEnumeration: on random models small enough to
// enumerate, a flow's exact unavailability is the sum, over every
// combination of failed events that WhatIf says takes it down, of the
// combination's probability; the bounds bracket it as they must.
func TestAvailabilityMatchesEnumeration(t *testing.T) {
	checked := 0
	for seed := 0; checked < propertyRuns(60) && seed < 5000; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 77))
		m := randomModel(r)
		var events []Event
		for _, e := range Events(m) {
			if e.Kind != EventPerson {
				events = append(events, e)
			}
		}
		if len(events) > 12 {
			continue
		}
		checked++
		// Give some events figures of their own, far from the defaults.
		for _, c := range m.Components {
			if r.IntN(2) == 0 {
				c.Availability = 0.5 + r.Float64()/2
			}
		}
		an, err := New(m)
		if err != nil {
			t.Fatal(err)
		}
		q := make([]float64, len(events))
		for i, e := range events {
			u, err := EventUnavailability(m, e)
			if err != nil {
				t.Fatal(err)
			}
			q[i] = u.Q
		}
		got, err := Availability(m, nil, AvailabilityOptions{Order: 12})
		if err != nil {
			t.Fatal(err)
		}
		for _, fa := range got {
			want := 0.0
			for mask := 0; mask < 1<<len(events); mask++ {
				p := 1.0
				var failed []Event
				for i, e := range events {
					if mask&(1<<i) != 0 {
						p *= q[i]
						failed = append(failed, e)
					} else {
						p *= 1 - q[i]
					}
				}
				if flowDown(t, an, fa.Flow, failed) {
					want += p
				}
			}
			if !fa.Exact || math.Abs(fa.Unavailability-want) > 1e-12 {
				t.Fatalf("seed %d flow %s: unavailability %v (exact %v), enumeration %v", seed, fa.Flow, fa.Unavailability, fa.Exact, want)
			}
			// Every cut set is listed at order 12: the min-cut upper bound
			// is an upper bound, and the rare-event sum at least that.
			if fa.MCUB < want-1e-12 || fa.RareEvent < fa.MCUB-1e-12 {
				t.Fatalf("seed %d flow %s: exact %v, MCUB %v, rare event %v", seed, fa.Flow, want, fa.MCUB, fa.RareEvent)
			}
		}
	}
	if checked < propertyRuns(60) {
		t.Fatalf("only %d models small enough", checked)
	}
}

// TestWhatWouldHelp: on the seed audit's shop, each change's figure is
// the flow's unavailability with the change made; the list is ranked by
// gain; and the changes the articles recommend are there.
func TestWhatWouldHelp(t *testing.T) {
	m := parseFile(t, "../examples/seed-audit/spof.yaml")
	res, err := Availability(m, []string{"checkout"}, AvailabilityOptions{WhatWouldHelp: true})
	if err != nil {
		t.Fatal(err)
	}
	fa := res[0]
	if len(fa.Changes) < 5 {
		t.Fatalf("%d changes: %+v", len(fa.Changes), fa.Changes)
	}
	kinds := map[string]bool{}
	for i, ch := range fa.Changes {
		kinds[ch.Kind] = true
		if i > 0 && ch.Gain > fa.Changes[i-1].Gain {
			t.Errorf("change %d (%s) gains more than the one before", i, ch.Description)
		}
		if ch.Gain <= 0 || math.Abs(fa.Unavailability-ch.Unavailability-ch.Gain) > 1e-15 {
			t.Errorf("%s: gain %v, after %v, before %v", ch.Description, ch.Gain, ch.Unavailability, fa.Unavailability)
		}
	}
	for _, k := range []string{"replica", "zone", "failover", "fallback"} {
		if !kinds[k] {
			t.Errorf("no %s change among %+v", k, fa.Changes)
		}
	}
	// Making the change by hand gives the figure the list says.
	var redis *Change
	for i := range fa.Changes {
		if fa.Changes[i].Component == "session-redis" && fa.Changes[i].Kind == "replica" {
			redis = &fa.Changes[i]
		}
	}
	if redis == nil || !strings.Contains(redis.Description, "automatic failover") {
		t.Fatalf("no replica with failover for session-redis: %+v", fa.Changes)
	}
	c := m.Component("session-redis")
	c.Replicas, c.Failover = 2, model.FailoverAutomatic
	after, err := Availability(m, []string{"checkout"}, AvailabilityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after[0].Unavailability != redis.Unavailability {
		t.Errorf("session-redis with a replica: %v; the list says %v", after[0].Unavailability, redis.Unavailability)
	}
}

func TestDowntime(t *testing.T) {
	for _, c := range []struct {
		hours float64
		want  string
	}{
		{0, "0s"}, {1e-9, "under 1s"}, {1.0 / 3600, "1s"}, {0.5, "30m 0s"}, {4.37, "4h 22m"},
		{23.999, "1d 0h"}, {HoursPerYear * 0.01, "3d 16h"},
	} {
		if got := Downtime(c.hours); got != c.want {
			t.Errorf("Downtime(%v) = %q, want %q", c.hours, got, c.want)
		}
	}
}

func parseFile(t *testing.T, path string) *model.Model {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
