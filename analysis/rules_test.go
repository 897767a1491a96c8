package analysis

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/model"
)

// mustCheck runs Check and fails the test on an error.
func mustCheck(t testing.TB, m *model.Model, opts Options) *Result {
	t.Helper()
	res, err := Check(m, opts)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return res
}

// mustWhatIf runs WhatIf and fails the test on an error.
func mustWhatIf(t testing.TB, m *model.Model, events []Event) []FlowOutcome {
	t.Helper()
	out, err := WhatIf(m, events)
	if err != nil {
		t.Fatalf("WhatIf: %v", err)
	}
	return out
}

func mustParse(t *testing.T, src string) *model.Model {
	t.Helper()
	m, err := model.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	return m
}

// summary renders findings as "event category severity flows" lines.
func summary(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Event+" "+string(f.Category)+" "+f.Severity.String()+" "+strings.Join(f.Flows, ","))
	}
	slices.Sort(out)
	return out
}

// TestRules pins each rule of docs/model.md with the smallest model that
// shows it.
func TestRules(t *testing.T) {
	const head = "version: 1\nsystem: t\nzones:\n  a: {region: r1}\n  b: {region: r1}\n  c: {region: r2}\n"
	tests := []struct {
		name  string
		model string
		want  []string
	}{{
		name: "single replica is a spof of every flow through it",
		model: `components:
  app: {kind: service, replicas: 2, zones: [a, c], depends_on: [db]}
  db: {kind: database}
flows:
  f: {criticality: high, steps: [app]}`,
		want: []string{"component:db spof high f"},
	}, {
		name: "replicas round-robin over zones: replica 2 lands in zone a again",
		model: `components:
  app: {kind: service, replicas: 3, zones: [a, b], min_healthy: 2}
flows:
  f: {criticality: low, steps: [app]}`,
		// zone a holds replicas 0 and 2: one survives, fewer than min_healthy 2.
		want: []string{"region:r1 spof low f", "zone:a spof low f"},
	}, {
		name: "min_healthy equal to replicas makes every instance a spof",
		model: `components:
  app: {kind: service, replicas: 2, min_healthy: 2}
flows:
  f: {criticality: medium, steps: [app]}`,
		want: []string{"instance:app/0 spof medium f", "instance:app/1 spof medium f"},
	}, {
		name: "stateful without automatic failover needs its primary",
		model: `components:
  cache: {kind: cache, replicas: 2, zones: [a, b]}
flows:
  f: {criticality: critical, steps: [cache]}`,
		want: []string{"instance:cache/0 spof critical f", "region:r1 spof critical f", "zone:a spof critical f"},
	}, {
		name: "stateful with automatic failover survives its primary",
		model: `components:
  cache: {kind: cache, replicas: 2, zones: [a, c], failover: automatic}
flows:
  f: {criticality: critical, steps: [cache]}`,
		want: nil,
	}, {
		name: "stateless defaults to automatic failover",
		model: `components:
  app: {kind: service, replicas: 2, zones: [a, c]}
flows:
  f: {criticality: critical, steps: [app]}`,
		want: nil,
	}, {
		name: "manual failover still needs the primary",
		model: `components:
  db: {kind: database, replicas: 2, failover: manual}
flows:
  f: {criticality: critical, steps: [db]}`,
		want: []string{"instance:db/0 spof critical f"},
	}, {
		name: "region fails every zone in it",
		model: `components:
  app: {kind: service, replicas: 2, zones: [a, b]}
flows:
  f: {criticality: high, steps: [app]}`,
		want: []string{"region:r1 spof high f"},
	}, {
		name: "provider fails every replica of every component on it",
		model: `components:
  app: {kind: service, replicas: 2, zones: [a, c], provider: aws}
  db: {kind: database, replicas: 2, zones: [a, c], failover: automatic, provider: aws}
flows:
  f: {criticality: high, steps: [app, db]}`,
		want: []string{"provider:aws spof high f"},
	}, {
		name: "a provider used by one single-replica component is that component",
		model: `components:
  pay: {kind: external, provider: stripe}
flows:
  f: {criticality: high, steps: [pay]}`,
		want: []string{"component:pay spof high f"},
	}, {
		name: "fallback_to: degraded while the fallback is up",
		model: `components:
  app: {kind: service, replicas: 2, zones: [a, c], depends_on: [{redis: {fallback_to: db}}]}
  redis: {kind: cache, zones: [a]}
  db: {kind: database, replicas: 2, zones: [a, c], failover: automatic}
flows:
  f: {criticality: critical, steps: [app]}`,
		want: []string{"component:redis degradation critical f", "region:r1 degradation critical f", "zone:a degradation critical f"},
	}, {
		name: "fallback_to: down when target and fallback both fail",
		model: `components:
  app: {kind: service, replicas: 2, zones: [a, c], depends_on: [{redis: {fallback_to: db}}]}
  redis: {kind: cache, zones: [a]}
  db: {kind: database, zones: [a]}
flows:
  f: {criticality: critical, steps: [app]}`,
		// db alone changes nothing: redis is up.
		want: []string{"component:redis degradation critical f", "region:r1 spof critical f", "zone:a spof critical f"},
	}, {
		name: "fallback text alone: target down leaves the dependent degraded",
		model: `components:
  app: {kind: service, replicas: 2, zones: [a, c], depends_on: [{rl: {fallback: fail open}}]}
  rl: {kind: cache, replicas: 2, zones: [a, c], failover: automatic, min_healthy: 2}
flows:
  f: {criticality: high, steps: [app]}`,
		want: []string{"instance:rl/0 degradation high f", "instance:rl/1 degradation high f",
			"region:r1 degradation high f", "region:r2 degradation high f", "zone:a degradation high f", "zone:c degradation high f"},
	}, {
		name: "async_via: needs the queue, the target only degrades",
		model: `components:
  app: {kind: service, replicas: 2, zones: [a, c], depends_on: [{email: {async_via: q}}]}
  email: {kind: external}
  q: {kind: queue}
flows:
  f: {criticality: high, steps: [app]}`,
		want: []string{"component:email degradation high f", "component:q spof high f"},
	}, {
		name: "a hard dependency on a degraded component is degraded",
		model: `components:
  web: {kind: service, replicas: 2, depends_on: [app]}
  app: {kind: service, replicas: 2, depends_on: [{rec: {fallback: bestsellers}}]}
  rec: {kind: service}
flows:
  f: {criticality: medium, steps: [web]}`,
		want: []string{"component:rec degradation medium f"},
	}, {
		name: "breaker alone does not keep the flow up",
		model: `components:
  app: {kind: service, replicas: 2, depends_on: [{pay: {breaker: {timeout: 1s}}}]}
  pay: {kind: external}
flows:
  f: {criticality: critical, steps: [app]}`,
		want: []string{"component:pay spof critical f"},
	}, {
		name: "when: startup is a recovery finding of the flows using the dependent",
		model: `components:
  app: {kind: service, replicas: 2, depends_on: [{config: {when: startup}}, {ci: {when: deploy}}]}
  config: {kind: config}
  ci: {kind: ci}
flows:
  f: {criticality: critical, steps: [app]}
  g: {criticality: low, steps: [app]}`,
		want: []string{"component:ci recovery critical f,g", "component:config recovery critical f,g"},
	}, {
		name: "a when: edge with a fallback blocks nothing",
		model: `components:
  app: {kind: service, replicas: 2, depends_on: [{ci: {when: deploy, fallback: manual deploy}}]}
  ci: {kind: ci}
flows:
  f: {criticality: critical, steps: [app]}`,
		want: nil,
	}, {
		name: "flows: scopes an edge to those flows",
		model: `components:
  app: {kind: service, replicas: 2, depends_on: [{pay: {flows: [checkout]}}]}
  pay: {kind: external}
flows:
  checkout: {criticality: critical, steps: [app]}
  browse: {criticality: high, steps: [app]}`,
		want: []string{"component:pay spof critical checkout"},
	}, {
		name: "severity is the criticality of the worst flow stopped",
		model: `components:
  app: {kind: service, replicas: 2, depends_on: [db, {pay: {flows: [buy]}}]}
  db: {kind: database}
  pay: {kind: external}
flows:
  buy: {criticality: medium, steps: [app]}
  admin: {criticality: critical, steps: [app]}`,
		want: []string{"component:db spof critical admin,buy", "component:pay spof medium buy"},
	}, {
		name: "a hazard breaks components whatever their replicas",
		model: `components:
  db: {kind: database, replicas: 3, zones: [a, b, c], failover: automatic}
flows:
  f: {criticality: critical, steps: [db]}
hazards:
  lock: {breaks: [db]}`,
		want: []string{"hazard:lock spof critical f"},
	}, {
		name: "people: the only one who knows a needed component, the only holder of a credential",
		model: `components:
  app: {kind: service, replicas: 2, depends_on: [{config: {when: startup}, }]}
  config: {kind: config, replicas: 2}
  unused: {kind: service, replicas: 2}
flows:
  f: {criticality: high, steps: [app]}
people:
  ann: {knows: [config, unused]}
  bob: {knows: [app], holds: [root-password]}
  cy: {knows: [app], holds: [root-password]}
  dee: {holds: [registrar]}`,
		want: []string{"person:ann operational high f", "person:dee operational high f"},
	}, {
		name: "components outside every flow are no finding",
		model: `components:
  app: {kind: service, replicas: 2}
  batch: {kind: service}
flows:
  f: {criticality: critical, steps: [app]}`,
		want: nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, head+tt.model)
			got := summary(mustCheck(t, m, Options{}).Findings)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSeedAudit pins the result of the articles' system and of its fixed
// version: every SPOF the articles list, each in its category.
func TestSeedAudit(t *testing.T) {
	load := func(path string) *Result { return mustCheck(t, parseFile(t, path), Options{}) }
	res := load("../examples/seed-audit/spof.yaml")
	got := map[string]Category{}
	for _, f := range res.Findings {
		got[f.Event] = f.Category
	}
	want := map[string]Category{
		// the checkout trace of the first article
		"component:session-redis": CategorySPOF,
		"instance:postgres/0":     CategorySPOF,
		"component:payments":      CategorySPOF,
		"component:fraud-check":   CategorySPOF,
		"component:email":         CategorySPOF,
		// hidden infrastructure SPOFs
		"component:dns":             CategorySPOF,
		"hazard:registrar-takeover": CategorySPOF,
		"component:cdn":             CategorySPOF,
		"component:tls-cert":        CategorySPOF,
		"component:nat-gateway":     CategorySPOF,
		"component:broker":          CategorySPOF,
		"component:cron-runner":     CategorySPOF,
		"component:auth":            CategorySPOF,
		"zone:us-east-1a":           CategorySPOF,
		"zone:us-east-1b":           CategorySPOF,
		"region:us-east-1":          CategorySPOF,
		"hazard:nightly-batch":      CategorySPOF,
		// needed to start, deploy or recover
		"component:config":     CategoryRecovery,
		"component:ci":         CategoryRecovery,
		"component:monitoring": CategoryRecovery,
		// people
		"person:maria": CategoryOperational,
		"person:dana":  CategoryOperational,
		"person:sam":   CategoryOperational,
		// a fallback to verify
		"component:recommendations": CategoryDegradation,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("seed audit findings (-want +got):\n%s", diff)
	}
	status := map[int]Status{}
	for _, it := range res.Checklist {
		status[it.Item] = it.Status
	}
	if diff := cmp.Diff(map[int]Status{1: Fail, 2: Fail, 3: Unknown, 4: Unknown, 5: Fail, 6: Fail, 7: Fail}, status); diff != "" {
		t.Errorf("seed audit checklist (-want +got):\n%s", diff)
	}

	fixed := load("../examples/seed-audit/spof-fixed.yaml")
	for _, f := range fixed.Findings {
		if f.Category != CategoryDegradation {
			t.Errorf("fixed model still has %s %s (%s): %s", f.Category, f.Event, f.Severity, strings.Join(f.Chain, " → "))
		}
	}
	if len(fixed.Findings) == 0 {
		t.Error("fixed model has no degradation; its fallbacks should be listed for verification")
	}
	status = map[int]Status{}
	for _, it := range fixed.Checklist {
		status[it.Item] = it.Status
	}
	if diff := cmp.Diff(map[int]Status{1: Pass, 2: Pass, 3: Unknown, 4: Unknown, 5: Pass, 6: Pass, 7: Pass}, status); diff != "" {
		t.Errorf("fixed checklist (-want +got):\n%s", diff)
	}
}
