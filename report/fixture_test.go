package report

import (
	"time"

	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/model"
)

// The fixture is a small web shop, written out by hand so that the golden
// files pin the renderers and not the analysis (which has tests of its own).
// Its findings are those the analysis gives for the model, abridged.

const shopFile = "deploy/spof.yaml"

func at(line, col int) model.Pos { return model.Pos{File: shopFile, Line: line, Col: col} }

// shopModel is the model the fixture's findings come from:
//
//	dns, cdn → lb ×2 → app ×3 → session-redis (checkout, login), postgres ×2
//	(manual failover), payments (breaker + fallback, checkout), search
//	(fallback to postgres, browse), email (async via jobs), config (startup),
//	ci (deploy); worker consumes jobs; monitoring stands alone.
func shopModel() *model.Model {
	m := &model.Model{
		File:    shopFile,
		Version: 1,
		System:  "shop",
		Zones: []*model.Zone{
			{Name: "us-east-1a", Region: "us-east-1", Pos: at(4, 3)},
			{Name: "us-east-1b", Region: "us-east-1", Pos: at(5, 3)},
		},
		Components: []*model.Component{
			{Name: "dns", Kind: model.KindDNS, Replicas: 1, MinHealthy: 1, Provider: "route53",
				Failover: model.FailoverAutomatic, Pos: at(7, 3)},
			// cdn was added by an importer without a source position.
			{Name: "cdn", Kind: model.KindCDN, Replicas: 1, MinHealthy: 1, Provider: "cloudflare",
				Failover: model.FailoverAutomatic},
			{Name: "lb", Kind: model.KindLoadBalancer, Replicas: 2, MinHealthy: 1,
				Zones: []string{"us-east-1a", "us-east-1b"}, Provider: "aws", Failover: model.FailoverAutomatic,
				DependsOn: []*model.Edge{{From: "lb", To: "app", Pos: at(12, 9)}},
				Pos:       at(9, 3)},
			{Name: "app", Kind: model.KindService, Replicas: 3, MinHealthy: 1,
				Zones: []string{"us-east-1a", "us-east-1b"}, Provider: "aws", Failover: model.FailoverAutomatic,
				DependsOn: []*model.Edge{
					{From: "app", To: "session-redis", Flows: []string{"checkout", "login"}, Pos: at(19, 9)},
					{From: "app", To: "postgres", Pos: at(20, 9)},
					{From: "app", To: "payments", Flows: []string{"checkout"}, Fallback: "order accepted, charged later",
						Breaker: &model.Breaker{Timeout: 3 * time.Second, ErrorThreshold: 50, Reset: 30 * time.Second},
						Pos:     at(21, 9)},
					{From: "app", To: "search", Flows: []string{"browse"}, FallbackTo: "postgres",
						Fallback: "search results from postgres, slower", Pos: at(23, 9)},
					{From: "app", To: "email", AsyncVia: "jobs", Pos: at(24, 9)},
					{From: "app", To: "config", When: model.WhenStartup, Pos: at(25, 9)},
					{From: "app", To: "ci", When: model.WhenDeploy, Pos: at(26, 9)},
				},
				Pos: at(13, 3)},
			{Name: "session-redis", Kind: model.KindCache, Replicas: 1, MinHealthy: 1,
				Zones: []string{"us-east-1a"}, Failover: model.FailoverNone, Pos: at(27, 3)},
			{Name: "postgres", Kind: model.KindDatabase, Replicas: 2, MinHealthy: 1,
				Zones: []string{"us-east-1a", "us-east-1b"}, Failover: model.FailoverManual, FailoverSet: true,
				Pos: at(28, 3)},
			{Name: "search", Kind: model.KindService, Replicas: 1, MinHealthy: 1,
				Zones: []string{"us-east-1b"}, Failover: model.FailoverAutomatic, Pos: at(29, 3)},
			{Name: "jobs", Kind: model.KindQueue, Replicas: 3, MinHealthy: 1,
				Zones: []string{"us-east-1a", "us-east-1b"}, Failover: model.FailoverAutomatic, FailoverSet: true,
				Pos: at(30, 3)},
			{Name: "worker", Kind: model.KindService, Replicas: 2, MinHealthy: 1,
				Zones: []string{"us-east-1a", "us-east-1b"}, Failover: model.FailoverAutomatic,
				DependsOn: []*model.Edge{
					{From: "worker", To: "jobs", Pos: at(33, 9)},
					{From: "worker", To: "email", Pos: at(34, 9)},
					{From: "worker", To: "session-redis", When: model.WhenStartup, Pos: at(35, 9)},
					{From: "worker", To: "ci", When: model.WhenDeploy, Pos: at(36, 9)},
				},
				Pos: at(31, 3)},
			{Name: "payments", Kind: model.KindExternal, Replicas: 1, MinHealthy: 1, Provider: "stripe",
				Failover: model.FailoverAutomatic, Pos: at(37, 3)},
			{Name: "email", Kind: model.KindExternal, Replicas: 1, MinHealthy: 1, Provider: "sendgrid",
				Failover: model.FailoverAutomatic, Pos: at(38, 3)},
			{Name: "config", Kind: model.KindConfig, Replicas: 1, MinHealthy: 1,
				Zones: []string{"us-east-1a"}, Failover: model.FailoverAutomatic, Pos: at(39, 3)},
			{Name: "ci", Kind: model.KindCI, Replicas: 1, MinHealthy: 1, Failover: model.FailoverAutomatic,
				Pos: at(40, 3)},
			{Name: "monitoring", Kind: model.KindMonitoring, Replicas: 1, MinHealthy: 1,
				Zones: []string{"us-east-1a"}, Failover: model.FailoverAutomatic, Pos: at(41, 3)},
		},
		Flows: []*model.Flow{
			{Name: "checkout", Criticality: model.Critical, Steps: []string{"dns", "lb", "app"}, Pos: at(43, 3)},
			{Name: "login", Criticality: model.Critical, Steps: []string{"dns", "lb", "app"}, Pos: at(44, 3)},
			{Name: "browse", Criticality: model.High, Steps: []string{"dns", "cdn", "lb", "app"}, Pos: at(45, 3)},
		},
		People: []*model.Person{
			{Name: "alice", Knows: []string{"postgres"}, Holds: []string{"dns-registrar-account"}, Pos: at(47, 3)},
		},
		Pos: at(1, 1),
	}
	return m
}

var allFlows = []string{"browse", "checkout", "login"}

// shopResult is what spof check reports for shopModel, ranked.
func shopResult() *analysis.Result {
	return &analysis.Result{
		System: "shop",
		Flows: []analysis.FlowSummary{
			{Name: "checkout", Criticality: model.Critical, Steps: []string{"dns", "lb", "app"},
				Dependencies: []string{"session-redis", "postgres", "payments", "jobs", "email"}, SPOFs: 5},
			{Name: "login", Criticality: model.Critical, Steps: []string{"dns", "lb", "app"},
				Dependencies: []string{"session-redis", "postgres", "jobs", "email"}, SPOFs: 5},
			{Name: "browse", Criticality: model.High, Steps: []string{"dns", "cdn", "lb", "app"},
				Dependencies: []string{"search", "postgres", "jobs", "email"}, SPOFs: 5},
		},
		Findings: []analysis.Finding{
			{
				ID: "3f1c0a9e5b7d2468", Event: "region:us-east-1", Category: analysis.CategorySPOF,
				Severity: model.Critical, Flows: allFlows,
				Components: []string{"app", "config", "jobs", "lb", "monitoring", "postgres", "search", "session-redis", "worker"},
				Chain: []string{
					"region:us-east-1 fails",
					"every replica of lb is in us-east-1",
					"checkout passes through lb",
					"checkout (critical), login (critical) and browse (high) are down",
				},
				Fix:      "run lb in a second region (active-passive with health-checked DNS failover)",
				Location: at(4, 3),
			},
			{
				ID: "9a4e2b71c03d5f86", Event: "zone:us-east-1a", Category: analysis.CategorySPOF,
				Severity: model.Critical, Flows: allFlows,
				Components: []string{"app", "config", "lb", "monitoring", "postgres", "session-redis"},
				Chain: []string{
					"zone:us-east-1a fails",
					"postgres loses its primary (replica 0, in us-east-1a) and fails over only by hand (failover: manual)",
					"app needs postgres (hard dependency)",
					"checkout passes through app",
					"checkout (critical), login (critical) and browse (high) are down",
				},
				Fix:      "enable automatic failover for postgres so that a replica in another zone takes over (e.g. Patroni, RDS Multi-AZ)",
				Location: at(4, 3),
			},
			{
				ID: "51d8c2e9a0b7f346", Event: "instance:postgres/0", Category: analysis.CategorySPOF,
				Severity: model.Critical, Flows: allFlows,
				Components: []string{"app", "lb", "postgres"},
				Chain: []string{
					"instance:postgres/0 fails",
					"postgres needs its primary (replica 0): failover is manual",
					"app needs postgres (hard dependency)",
					"checkout passes through app",
					"checkout (critical), login (critical) and browse (high) are down",
				},
				Fix:      "enable automatic failover for postgres (failover: automatic) (e.g. Patroni, RDS Multi-AZ)",
				Location: at(28, 3),
			},
			{
				ID: "c7e05a3b9d1f2864", Event: "component:dns", Category: analysis.CategorySPOF,
				Severity: model.Critical, Flows: allFlows,
				Components: []string{"dns"},
				Chain: []string{
					"component:dns fails",
					"dns has a single provider (route53)",
					"checkout passes through dns",
					"checkout (critical), login (critical) and browse (high) are down",
				},
				Fix:      "add a second DNS provider for dns (secondary name servers at another provider) and protect the registrar account with 2FA",
				Location: at(7, 3),
			},
			{
				ID: "0b6f4d2a8e9c1357", Event: "component:session-redis", Category: analysis.CategorySPOF,
				Severity: model.Critical, Flows: []string{"checkout", "login"},
				Components: []string{"app", "lb", "session-redis"},
				Chain: []string{
					"component:session-redis fails",
					"session-redis has a single replica",
					"app needs session-redis (hard dependency)",
					"checkout passes through app",
					"checkout (critical) and login (critical) are down",
				},
				Fix:      "add a replica of session-redis in another zone with automatic failover (e.g. Redis Sentinel), and a circuit breaker with a fallback on app → session-redis",
				Location: at(27, 3),
			},
			{
				ID: "e2a9573c1d4b8f60", Event: "component:ci", Category: analysis.CategoryRecovery,
				Severity: model.Critical, Flows: allFlows,
				Components: []string{"ci"},
				Chain: []string{
					"component:ci fails",
					"ci has a single replica",
					"app needs ci to deploy (when: deploy): no release and no hotfix can ship",
					"checkout (critical), login (critical) and browse (high) cannot be restarted, scaled out or redeployed while it lasts",
				},
				Fix:      "keep a second, documented deploy path for app that does not need ci (a manual deploy with its own credentials)",
				Location: at(40, 3),
			},
			{
				ID: "7d3b1f08a6c2e945", Event: "component:config", Category: analysis.CategoryRecovery,
				Severity: model.Critical, Flows: allFlows,
				Components: []string{"config"},
				Chain: []string{
					"component:config fails",
					"config has a single replica",
					"app needs config to start (when: startup): no restart, no scale-out, no replacement of failed instances",
					"checkout (critical), login (critical) and browse (high) cannot be restarted, scaled out or redeployed while it lasts",
				},
				Fix:      "cache the last-known-good config in app so that it starts without config",
				Location: at(39, 3),
			},
			{
				ID: "a85c6e2f0d913b47", Event: "person:alice", Category: analysis.CategoryOperational,
				Severity: model.Critical, Flows: allFlows,
				Components: []string{"postgres"},
				Chain: []string{
					"person:alice is unavailable (holiday, illness, a new job)",
					"alice is the only person who knows postgres, which fails over only by hand",
					"checkout (critical), login (critical) and browse (high) need postgres",
				},
				Fix:      "share the postgres failover runbook with a second person and rehearse it; give the dns-registrar-account a second holder",
				Location: at(47, 3),
			},
			{
				ID: "4c0e8b5a2f7d1936", Event: "component:email", Category: analysis.CategoryDegradation,
				Severity: model.Critical, Flows: []string{"checkout"},
				Components: []string{"app", "email", "lb"},
				Chain: []string{
					"component:email fails",
					"email (external, sendgrid) is down",
					"app reaches email asynchronously via jobs: work backs up, app is degraded",
					"checkout passes through app",
					"checkout (critical) is degraded",
				},
				Fix:      "verify that jobs absorbs an email outage: spof chaos run email-down",
				Location: at(38, 3),
			},
			{
				ID: "f19d7c3e6b2a0584", Event: "component:payments", Category: analysis.CategoryDegradation,
				Severity: model.Critical, Flows: []string{"checkout"},
				Components: []string{"app", "lb", "payments"},
				Chain: []string{
					"component:payments fails",
					"payments (external, stripe) is down",
					"app loses payments and falls back (order accepted, charged later): degraded",
					"checkout passes through app",
					"checkout (critical) is degraded",
				},
				Fix:      "verify the fallback of app → payments with an experiment: spof chaos run payments-down",
				Location: at(37, 3),
			},
			{
				// No Location: cdn came from an importer without positions.
				ID: "62b4a0d8e3f5c179", Event: "component:cdn", Category: analysis.CategorySPOF,
				Severity: model.High, Flows: []string{"browse"},
				Components: []string{"cdn"},
				Chain: []string{
					"component:cdn fails",
					"cdn has a single provider (cloudflare)",
					"browse passes through cdn",
					"browse (high) is down",
				},
				Fix: "add a second CDN for cdn, or a health-checked DNS failover straight to the origin; keep its configuration in version control",
			},
			{
				ID: "d05f3a9c7e1b4268", Event: "component:search", Category: analysis.CategoryDegradation,
				Severity: model.High, Flows: []string{"browse"},
				Components: []string{"app", "lb", "search"},
				Chain: []string{
					"component:search fails",
					"search has a single replica",
					"app falls back from search to postgres (search results from postgres, slower): degraded",
					"browse passes through app",
					"browse (high) is degraded",
				},
				Fix:      "verify the fallback of app → search with an experiment: spof chaos run search-down",
				Location: at(29, 3),
			},
		},
		Checklist: shopChecklist(),
	}
}

func shopChecklist() []analysis.ChecklistItem {
	return []analysis.ChecklistItem{
		{Item: 1, Title: "Every stateful component has a replica in another zone with automatic failover",
			Status: analysis.Fail, Evidence: []string{
				"session-redis (cache): 1 replica, in us-east-1a only, no automatic failover",
				"postgres (database): failover: manual",
				"jobs (queue): 3 replicas over 2 zones, automatic failover",
			}},
		{Item: 2, Title: "Every external dependency has a circuit breaker and a fallback",
			Status: analysis.Pass, Evidence: []string{
				"payments: circuit breaker and fallback (order accepted, charged later)",
				"email: asynchronous via jobs",
			}},
		{Item: 3, Title: "The dependency map is complete and matches reality",
			Status: analysis.Unknown, Evidence: []string{
				"no import or trace source to compare against: run spof drift",
			}},
		{Item: 4, Title: "Chaos experiments have verified every fallback recently",
			Status: analysis.Unknown, Evidence: []string{
				"3 fallbacks never verified:",
				"app → payments (fallback: order accepted, charged later; breaker; flows: checkout)",
				"app → search (fallback to search results from postgres, slower; flows: browse)",
				"app → email (async via jobs)",
			}},
		{Item: 5, Title: "No single person holds critical credentials or operational knowledge",
			Status: analysis.Fail, Evidence: []string{
				"alice is the only person who knows postgres",
				"alice is the only holder of dns-registrar-account",
			}},
		{Item: 6, Title: "A CI/CD failure does not block every team",
			Status: analysis.Fail, Evidence: []string{
				"ci blocks every deploy of app and worker when it fails (component:ci), with no fallback deploy path",
			}},
		// Evidence left nil on purpose: JSON must still say [].
		{Item: 7, Title: "Monitoring does not share fate with what it monitors", Status: analysis.Pass},
	}
}

// shopWhatIf is spof whatif --fail component:cdn --fail component:payments.
func shopWhatIf() (outcomes []analysis.FlowOutcome, failed []string) {
	return []analysis.FlowOutcome{
		{Flow: "checkout", Criticality: model.Critical, State: analysis.Degraded, Chain: []string{
			"component:payments fails",
			"payments (external, stripe) is down",
			"app loses payments and falls back (order accepted, charged later): degraded",
			"checkout passes through app",
			"checkout (critical) is degraded",
		}},
		{Flow: "login", Criticality: model.Critical, State: analysis.Up},
		{Flow: "browse", Criticality: model.High, State: analysis.Down, Chain: []string{
			"component:cdn fails",
			"cdn has a single provider (cloudflare)",
			"browse passes through cdn",
			"browse (high) is down",
		}},
	}, []string{"component:cdn", "component:payments"}
}

// shopImpact is spof explain session-redis.
func shopImpact() *analysis.Impact {
	return &analysis.Impact{
		Component: "session-redis",
		Dependents: []analysis.DependentImpact{
			{Component: "app", State: analysis.Down, Via: "app → session-redis (flows: checkout, login)"},
			{Component: "lb", State: analysis.Down, Via: "lb → app"},
		},
		Flows: []analysis.FlowOutcome{
			{Flow: "checkout", Criticality: model.Critical, State: analysis.Down, Chain: []string{
				"session-redis is down",
				"app needs session-redis (hard dependency)",
				"checkout passes through app",
				"checkout (critical) is down",
			}},
			{Flow: "login", Criticality: model.Critical, State: analysis.Down, Chain: []string{
				"session-redis is down",
				"app needs session-redis (hard dependency)",
				"login passes through app",
				"login (critical) is down",
			}},
			{Flow: "browse", Criticality: model.High, State: analysis.Up},
		},
		NeededFor: []string{"worker (startup)"},
	}
}
