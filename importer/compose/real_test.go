package compose

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/analysis"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// TestRealInputs imports condensed rewrites of public compose files
// (testdata/real/*, each with a README naming its source: the same
// services and the fields the importer reads, written for these tests)
// and checks what the analysis concludes from them as an SRE would: the
// single points of failure of the user-facing flows, exactly, and what
// must not be one (telemetry, admin UIs, load generators, background
// workers, tools). A golden file holds each whole import.
func TestRealInputs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
		// spofs: the components whose loss alone stops a user-facing
		// (critical) flow.
		spofs []string
		// not: components that must be no SPOF of a user-facing flow
		// ("-" first: not imported at all).
		not []string
	}{
		{"otel-demo", []string{"otel-demo/docker-compose.yml"},
			[]string{"ad", "cart", "checkout", "currency", "email", "frontend", "frontend-proxy", "image-provider",
				"kafka", "payment", "product-catalog", "quote", "recommendation", "shipping", "valkey-cart"},
			[]string{"otel-collector", "jaeger", "grafana", "prometheus", "opensearch", "flagd", "flagd-ui",
				"load-generator", "accounting", "fraud-detection"}},
		{"sock-shop", []string{"sock-shop/docker-compose.yml"},
			[]string{"cart", "cart-db", "catalogue", "catalogue-db", "edge-router", "front-end", "orders", "orders-db",
				"payment", "rabbitmq", "shipping", "user", "user-db"},
			[]string{"zipkin", "queue-master", "-user-sim"}},
		{"voting-app", []string{"voting-app/docker-compose.yml"},
			[]string{"db", "redis", "result", "votes"},
			[]string{"worker"}},
		{"temporal", []string{"temporal/docker-compose.yml"},
			[]string{"cassandra", "temporal"},
			[]string{"temporal-web", "-temporal-admin-tools"}},
		{"temporal-postgres", []string{"temporal/docker-compose-postgres.yml"},
			[]string{"postgresql", "temporal"},
			[]string{"temporal-web", "-temporal-admin-tools"}},
		{"supabase", []string{"supabase/docker-compose.yml"},
			[]string{"auth", "db", "functions", "imgproxy", "kong", "realtime", "rest", "storage", "supavisor"},
			[]string{"studio", "meta", "analytics", "vector"}},
		{"golang-postgres-rabbitmq", []string{"golang-postgres-rabbitmq/compose.yaml"},
			[]string{"backend", "db", "mq", "proxy"}, nil},
		{"react-express-mongodb", []string{"react-express-mongodb/compose.yaml"},
			[]string{"Backend", "db", "frontend"}, nil},
		{"nextcloud-redis-mariadb", []string{"nextcloud-redis-mariadb/docker-compose.yaml"},
			[]string{"db", "nc", "redis"}, nil},
		{"elk", []string{"elk/compose.yaml"},
			[]string{"elasticsearch", "logstash"},
			[]string{"kibana"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var paths []string
			for _, p := range tc.paths {
				paths = append(paths, filepath.Join("testdata/real", p))
			}
			res, err := importFiles(t, Options{}, paths...)
			if err != nil {
				t.Fatal(err)
			}
			checkModel(t, res.Model)
			golden(t, filepath.Join("testdata/real", tc.name+".golden"), importer.Summary(res))

			critical, all := userFacingSPOFs(t, res)
			if d := cmp.Diff(tc.spofs, critical); d != "" {
				t.Errorf("SPOFs of the user-facing flows (-want +got):\n%s", d)
			}
			for _, c := range tc.not {
				if name, ok := strings.CutPrefix(c, "-"); ok {
					if res.Model.Component(name) != nil {
						t.Errorf("%s is imported, want it left out", name)
					}
					continue
				}
				if res.Model.Component(c) == nil {
					t.Errorf("%s is not imported", c)
				}
				if slices.Contains(critical, c) {
					t.Errorf("%s is a SPOF of a user-facing flow: %v", c, all[c])
				}
			}
		})
	}
}

// userFacingSPOFs returns the components whose failure alone stops a flow
// above low criticality, sorted, and every SPOF finding by component.
func userFacingSPOFs(t *testing.T, res *importer.Result) ([]string, map[string][]analysis.Finding) {
	t.Helper()
	out, err := analysis.Check(res.Model, analysis.Options{})
	if err != nil {
		t.Fatalf("analysis of the imported model: %v\n%s", err, importer.Summary(res))
	}
	crit := map[string]model.Criticality{}
	for _, f := range res.Model.Flows {
		crit[f.Name] = f.Criticality
	}
	all := map[string][]analysis.Finding{}
	var critical []string
	for _, f := range out.Findings {
		c, ok := strings.CutPrefix(f.Event, "component:")
		if f.Category != analysis.CategorySPOF || !ok {
			continue
		}
		all[c] = append(all[c], f)
		if slices.ContainsFunc(f.Flows, func(fl string) bool { return crit[fl] > model.Low }) && !slices.Contains(critical, c) {
			critical = append(critical, c)
		}
	}
	slices.Sort(critical)
	return critical, all
}
