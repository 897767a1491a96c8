package analysis

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// slowModel has a breaker with a fallback (app → redis), a breaker
// without one (app → search), a plain call (app → db), an asynchronous
// call (app → mail via queue) and a call two hops down (app → api → pay).
const slowModel = `version: 1
system: slow
components:
  app:
    kind: service
    depends_on:
      - redis: {fallback_to: db, breaker: {timeout: 1s}}
      - db
      - search: {flows: [browse], breaker: {timeout: 2s}}
      - mail: {flows: [checkout], async_via: queue}
      - api: {flows: [checkout]}
  api:
    kind: service
    depends_on:
      - pay: {breaker: {timeout: 3s}, fallback: charge later}
  redis: {kind: cache}
  db: {kind: database}
  search: {kind: service}
  mail: {kind: external}
  queue: {kind: queue}
  pay: {kind: external}
flows:
  checkout: {criticality: critical, steps: [app]}
  browse: {criticality: low, steps: [app], probe: {http: "http://127.0.0.1:1/", max_latency: 800ms}}
`

func TestWhatIfSlow(t *testing.T) {
	m := mustParse(t, slowModel)
	tests := []struct {
		target  string
		latency time.Duration
		want    map[string]string
		tripped []string
		chain   string // a line the checkout or browse chain holds
	}{
		// Under the breaker's timeout: the call waits, the flows are slower.
		{"redis", 500 * time.Millisecond, map[string]string{"checkout": "up", "browse": "up"}, nil,
			"up, but redis answers 500ms late and no circuit breaker times out on the way: checkout (through app) is about 500ms slower"},
		// At or over it: the breaker gives up and the fallback takes over.
		{"redis", time.Second, map[string]string{"checkout": "degraded", "browse": "degraded"}, []string{"app → redis"},
			"redis answers 1s late: the circuit breaker on app → redis gives up after 1s"},
		// A breaker without a fallback fails the caller, for its flow only;
		// checkout does not call search.
		{"search", 5 * time.Second, map[string]string{"checkout": "up", "browse": "down"}, []string{"app → search"},
			"search answers 5s late: the circuit breaker on app → search gives up after 2s"},
		// Under that breaker's timeout, browse is slower than its probe
		// allows: slow is down.
		{"search", time.Second, map[string]string{"checkout": "up", "browse": "down"}, nil,
			"browse's probe allows 800ms (max_latency): slower is down"},
		// No breaker at all: everything that needs db waits.
		{"db", 10 * time.Second, map[string]string{"checkout": "up", "browse": "down"}, nil,
			"up, but db answers 10s late and no circuit breaker times out on the way: checkout (through app) is about 10s slower"},
		// Only the enqueue is waited for: a slow mail service slows nothing,
		// a slow queue slows checkout.
		{"mail", 10 * time.Second, map[string]string{"checkout": "up", "browse": "up"}, nil, ""},
		{"queue", 200 * time.Millisecond, map[string]string{"checkout": "up", "browse": "up"}, nil,
			"up, but queue answers 200ms late and no circuit breaker times out on the way: checkout (through app) is about 200ms slower"},
		// Two hops: api waits for pay until its breaker gives up.
		{"pay", 2 * time.Second, map[string]string{"checkout": "up", "browse": "up"}, nil,
			"up, but pay answers 2s late and no circuit breaker times out on the way: checkout (through app) is about 2s slower"},
		{"pay", 4 * time.Second, map[string]string{"checkout": "degraded", "browse": "up"}, []string{"api → pay"},
			"pay answers 4s late: the circuit breaker on api → pay gives up after 3s"},
	}
	for _, tt := range tests {
		outs, tripped, err := WhatIfSlow(m, tt.target, tt.latency)
		if err != nil {
			t.Fatal(err)
		}
		name := tt.target + " " + tt.latency.String()
		if diff := cmp.Diff(tt.want, states(outs)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
		var got []string
		for _, e := range tripped {
			got = append(got, e.From+" → "+e.To)
		}
		if diff := cmp.Diff(tt.tripped, got); diff != "" {
			t.Errorf("%s: tripped (-want +got):\n%s", name, diff)
		}
		var all []string
		for _, o := range outs {
			all = append(all, o.Chain...)
			if o.State != Up && !strings.HasPrefix(o.Chain[len(o.Chain)-1], o.Flow+" (") {
				t.Errorf("%s: %s: chain does not end in the flow: %q", name, o.Flow, o.Chain)
			}
			for _, l := range o.Chain {
				if strings.Contains(l, "(timing out)") {
					t.Errorf("%s: %s: a stand-in component in the chain: %q", name, o.Flow, l)
				}
			}
		}
		if tt.chain != "" && !contains(all, tt.chain) {
			t.Errorf("%s: no chain line %q in\n%s", name, tt.chain, strings.Join(all, "\n"))
		}
	}
	if _, _, err := WhatIfSlow(m, "nope", time.Second); err == nil {
		t.Error("unknown component: no error")
	}
	if _, _, err := WhatIfSlow(m, "db", 0); err == nil {
		t.Error("zero latency: no error")
	}
	// The model is left as it was.
	if m.Component("app").DependsOn[0].To != "redis" || m.Component("redis (timing out)") != nil {
		t.Error("WhatIfSlow changed the model")
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// TestWhatIfSlowQueue: a breaker on an asynchronous call times out on the
// enqueue, so a slow queue is as good as down for the caller, as WhatIf
// says of the queue down; a slow consumer changes nothing.
func TestWhatIfSlowQueue(t *testing.T) {
	m := mustParse(t, `version: 1
system: q
components:
  app:
    kind: service
    depends_on:
      - mail: {async_via: queue, breaker: {timeout: 1s}}
  mail: {kind: external}
  queue: {kind: queue}
flows:
  signup: {criticality: high, steps: [app]}
`)
	outs, tripped, err := WhatIfSlow(m, "queue", 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := states(mustWhatIf(t, m, []Event{{Kind: EventComponent, Name: "queue"}}))
	if diff := cmp.Diff(want, states(outs)); diff != "" || len(tripped) != 1 {
		t.Errorf("slow queue (-queue down +slow):\n%s; tripped %d", diff, len(tripped))
	}
	if got := outs[0].Chain[0]; got != "queue answers 3s late: the circuit breaker on app → mail gives up after 1s" {
		t.Errorf("chain[0] = %q", got)
	}
	outs, tripped, _ = WhatIfSlow(m, "mail", 3*time.Second)
	if states(outs)["signup"] != "up" || len(tripped) != 0 {
		t.Errorf("slow mail: %v, tripped %d", states(outs), len(tripped))
	}
}
