package analysis

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const shopModel = `version: 1
system: shop
zones:
  a: {region: r}
  b: {region: r}
components:
  app:
    kind: service
    replicas: 2
    zones: [a, b]
    depends_on:
      - redis: {fallback_to: db, fallback: sessions from db}
      - db
      - pay: {flows: [checkout], fallback: charge later}
      - config: {when: startup}
  redis: {kind: cache, zones: [a]}
  db: {kind: database, replicas: 2, zones: [a, b], failover: automatic}
  pay: {kind: external}
  config: {kind: config, zones: [b]}
flows:
  checkout: {criticality: critical, steps: [app]}
  browse: {criticality: low, steps: [app]}
`

func states(outs []FlowOutcome) map[string]string {
	m := map[string]string{}
	for _, o := range outs {
		m[o.Flow] = o.State.String()
	}
	return m
}

func TestWhatIf(t *testing.T) {
	m := mustParse(t, shopModel)
	tests := []struct {
		fail []string
		want map[string]string
	}{
		{[]string{"component:redis"}, map[string]string{"checkout": "degraded", "browse": "degraded"}},
		{[]string{"component:pay"}, map[string]string{"checkout": "degraded", "browse": "up"}},
		{[]string{"component:redis", "component:db"}, map[string]string{"checkout": "down", "browse": "down"}},
		{[]string{"instance:db/0"}, map[string]string{"checkout": "up", "browse": "up"}},
		{[]string{"instance:db/0", "instance:db/1"}, map[string]string{"checkout": "down", "browse": "down"}},
		{[]string{"zone:a", "zone:b"}, map[string]string{"checkout": "down", "browse": "down"}},
		{[]string{"component:app"}, map[string]string{"checkout": "down", "browse": "down"}},
	}
	for _, tt := range tests {
		var evs []Event
		for _, s := range tt.fail {
			e, err := ParseEvent(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := Resolve(m, e); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
		}
		outs := mustWhatIf(t, m, evs)
		if diff := cmp.Diff(tt.want, states(outs)); diff != "" {
			t.Errorf("whatif %v (-want +got):\n%s", tt.fail, diff)
		}
		for _, o := range outs {
			if o.State != Up && !strings.HasPrefix(o.Chain[len(o.Chain)-1], o.Flow+" (") {
				t.Errorf("whatif %v: %s: chain does not end in the flow: %q", tt.fail, o.Flow, o.Chain)
			}
		}
	}
	// Two replicas lost together: the chain names both events.
	outs := mustWhatIf(t, m, []Event{{Kind: EventInstance, Name: "db", Instance: 0}, {Kind: EventInstance, Name: "db", Instance: 1}})
	if got := outs[0].Chain[0]; got != "instance:db/0 and instance:db/1 together leave db with fewer than 1 healthy replicas" {
		t.Errorf("chain[0] = %q", got)
	}
	// An up flow whose component cannot restart says so.
	outs = mustWhatIf(t, m, []Event{{Kind: EventComponent, Name: "config"}})
	if len(outs[0].Chain) != 1 || !strings.Contains(outs[0].Chain[0], "app needs config to start") {
		t.Errorf("config down: chain = %q", outs[0].Chain)
	}
}

func TestExplain(t *testing.T) {
	m := mustParse(t, shopModel)
	imp, err := Explain(m, "redis")
	if err != nil {
		t.Fatal(err)
	}
	want := []DependentImpact{{Component: "app", State: Degraded, Via: "app → redis (fallback to db)"}}
	if diff := cmp.Diff(want, imp.Dependents); diff != "" {
		t.Errorf("dependents (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"checkout": "degraded", "browse": "degraded"}, states(imp.Flows)); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
	imp, err = Explain(m, "config")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"app (startup)"}, imp.NeededFor); diff != "" {
		t.Errorf("needed for (-want +got):\n%s", diff)
	}
	if _, err := Explain(m, "reddis"); err == nil || err.Error() != `no component named "reddis" (did you mean "redis"?)` {
		t.Errorf("unknown component: err = %v", err)
	}
}

func TestParseEvent(t *testing.T) {
	good := map[string]Event{
		"component:app":  {Kind: EventComponent, Name: "app"},
		"instance:db/1":  {Kind: EventInstance, Name: "db", Instance: 1},
		"zone:us-east-1": {Kind: EventZone, Name: "us-east-1"},
		"region:eu":      {Kind: EventRegion, Name: "eu"},
		"provider:aws":   {Kind: EventProvider, Name: "aws"},
		"hazard:batch":   {Kind: EventHazard, Name: "batch"},
		"person:ann":     {Kind: EventPerson, Name: "ann"},
	}
	for s, want := range good {
		got, err := ParseEvent(s)
		if err != nil || got != want {
			t.Errorf("ParseEvent(%q) = %v, %v; want %v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), s)
		}
	}
	for _, s := range []string{"", "app", "component:", "instance:db", "instance:db/x", "instance:db/-1", "instance:/1", "disk:x"} {
		if _, err := ParseEvent(s); err == nil {
			t.Errorf("ParseEvent(%q): no error", s)
		}
	}
	m := mustParse(t, shopModel)
	for s, msg := range map[string]string{
		"component:apq":  `event component:apq: no component named "apq" in the model (did you mean "app"?)`,
		"instance:db/2":  `event instance:db/2: db has 2 replica(s), counted from 0`,
		"zone:c":         `event zone:c: no zone named "c" in the model`,
		"hazard:nothing": `event hazard:nothing: no hazard named "nothing" in the model`,
	} {
		e, _ := ParseEvent(s)
		if err := Resolve(m, e); err == nil || err.Error() != msg {
			t.Errorf("Resolve(%s) = %v, want %s", s, err, msg)
		}
	}
}

// TestWhatIfPerson: a person changes no flow's state; each flow lists what
// only that person can do for it, and a flow that is down keeps its chain
// ending in the flow.
func TestWhatIfPerson(t *testing.T) {
	m := mustParse(t, shopModel+`people:
  ann: {knows: [db, redis], holds: [registrar, pay]}
  bob: {knows: [redis, app]}
`)
	outs := mustWhatIf(t, m, []Event{{Kind: EventPerson, Name: "ann"}})
	want := map[string][]string{
		"checkout": {
			"up, but only ann knows db, which checkout needs: without ann nobody can operate, fail over or recover it",
			"up, but only ann holds registrar: without ann nobody can use it",
			"up, but only ann holds pay: without ann nobody can use it",
		},
		// browse does not need pay (its edge is scoped to checkout).
		"browse": {
			"up, but only ann knows db, which browse needs: without ann nobody can operate, fail over or recover it",
			"up, but only ann holds registrar: without ann nobody can use it",
		},
	}
	got := map[string][]string{}
	for _, o := range outs {
		if o.State != Up {
			t.Errorf("%s is %s, want up", o.Flow, o.State)
		}
		got[o.Flow] = o.Chain
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("person:ann (-want +got):\n%s", diff)
	}
	outs = mustWhatIf(t, m, []Event{{Kind: EventPerson, Name: "ann"}, {Kind: EventComponent, Name: "app"}})
	for _, o := range outs {
		if o.State != Down || !strings.HasPrefix(o.Chain[len(o.Chain)-1], o.Flow+" (") || !contains(o.Chain, "only ann holds registrar: without ann nobody can use it") {
			t.Errorf("person:ann and component:app: %s %s %q", o.Flow, o.State, o.Chain)
		}
	}
}
