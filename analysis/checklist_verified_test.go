package analysis

import (
	"strings"
	"testing"
	"time"
)

func TestChecklistVerified(t *testing.T) {
	m := mustParse(t, `
version: 1
system: s
components:
  app:
    kind: service
    depends_on:
      - redis: {fallback_to: db}
      - pay: {fallback: "charge later"}
      - mail: {async_via: db}
      - cfg: {fallback: "defaults"}
  redis: {kind: cache}
  db: {kind: database}
  pay: {kind: external}
  mail: {kind: external}
  cfg: {kind: config}
flows:
  f: {criticality: high, steps: [app]}
`)
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	item := func(v map[string]Verification) ChecklistItem {
		return mustCheck(t, m, Options{Verified: v, Now: now}).Checklist[3]
	}
	if it := item(nil); it.Status != Unknown {
		t.Errorf("no history: %s, want unknown", it.Status)
	}
	v := map[string]Verification{
		"app → redis": {Experiment: "redis-down", At: now.Add(-24 * time.Hour), Passed: true},
		"app → pay":   {Experiment: "pay-down", At: now.Add(-time.Hour), Passed: false},
		"app → mail":  {Experiment: "mail-down", At: now.Add(-40 * 24 * time.Hour), Passed: true},
	}
	it := item(v)
	got := strings.Join(it.Evidence, "\n")
	want := strings.Join([]string{
		"verified: app → redis (fallback to db) (redis-down, 2026-11-22)",
		"failed: app → pay (fallback: charge later) (pay-down, 2026-11-22)",
		"stale: app → mail (async via db) (last verified by mail-down on 2026-10-14, more than 30 days ago)",
		"never tested: app → cfg (fallback: defaults)",
	}, "\n")
	if it.Status != Fail || got != want {
		t.Errorf("status %s, evidence:\n%s\nwant fail and:\n%s", it.Status, got, want)
	}
	all := map[string]Verification{}
	for _, k := range []string{"app → redis", "app → pay", "app → mail", "app → cfg"} {
		all[k] = Verification{Experiment: "x", At: now, Passed: true}
	}
	if it := item(all); it.Status != Pass {
		t.Errorf("every fallback verified today: %s, want pass", it.Status)
	}
}
