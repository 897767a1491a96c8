package analysis

import (
	"strings"
	"testing"
)

// fallbackZoneModel: app needs redis or its fallback postgres, and one
// zone holds redis's only replica and postgres's primary.
const fallbackZoneModel = `version: 1
system: fb
zones:
  eu-1a: {region: eu}
  eu-1b: {region: eu}
components:
  app:
    kind: service
    replicas: 2
    zones: [eu-1a, eu-1b]
    depends_on:
      - redis: {fallback_to: postgres}
  redis: {kind: cache, zones: [eu-1a]}
  postgres: {kind: database, replicas: 2, zones: [eu-1a, eu-1b], failover: manual}
  web:
    kind: service
    replicas: 2
    zones: [eu-1a, eu-1b]
    depends_on:
      - cache: {fallback_to: api}
  cache: {kind: cache, zones: [eu-1a]}
  api: {kind: service, depends_on: [db]}
  db: {kind: database, zones: [eu-1a]}
flows:
  login: {criticality: high, steps: [app]}
  search: {criticality: low, steps: [web]}
`

// TestFallbackDownToo: when a dependent is down because its target and
// its fallback are down, the chain says why the fallback is down too,
// directly or through what it needs, in check and in whatif.
func TestFallbackDownToo(t *testing.T) {
	m := mustParse(t, fallbackZoneModel)
	res := mustCheck(t, m, Options{})
	var chain []string
	for _, f := range res.Findings {
		if f.Event == "zone:eu-1a" {
			chain = f.Chain
		}
	}
	want := "app needs redis or its fallback postgres, and both are down: postgres has its primary in eu-1a and no automatic failover (failover: manual, recoverable by manual failover, but no one in people: knows how)"
	if !contains(chain, want) {
		t.Errorf("zone:eu-1a chain lacks %q:\n%s", want, strings.Join(chain, "\n"))
	}
	if chain[1] != "redis has its only replica in eu-1a" {
		t.Errorf("chain[1] = %q", chain[1])
	}

	outs := mustWhatIf(t, m, []Event{{Kind: EventZone, Name: "eu-1a"}})
	var all []string
	for _, o := range outs {
		all = append(all, o.Chain...)
	}
	for _, want := range []string{
		"app needs redis or its fallback postgres, and both are down: zone:eu-1a: postgres has its primary in eu-1a and no automatic failover (failover: manual, recoverable by manual failover, but no one in people: knows how)",
		// The fallback is down through what it needs.
		"web needs cache or its fallback api, and both are down: api is down through db: zone:eu-1a: db has its only replica in eu-1a",
	} {
		if !contains(all, want) {
			t.Errorf("whatif zone:eu-1a lacks %q:\n%s", want, strings.Join(all, "\n"))
		}
	}
}
