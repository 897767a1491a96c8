package kubernetes

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

// realCases are condensed rewrites of public manifests in testdata/real
// (the same objects and the fields the importer reads; each directory's
// README.md names the source and its licence), with what a
// reviewer expects from them alone: every SPOF whose facts the files
// hold, and what must not be flagged (redundant, clustered, balanced).
var realCases = []struct {
	name  string
	paths []string
	spofs []string // exactly the SPOF findings
	not   []string // events that must not be SPOFs
	check func(t *testing.T, res *importer.Result)
}{
	{
		// Weaveworks Sock Shop: every workload is a single pod; only
		// user's MongoDB address is in the files, the rest is compiled into
		// the images, so each served workload is assumed needed by the
		// front-end's flow.
		name:  "sock-shop",
		paths: []string{"testdata/real/sock-shop"},
		spofs: []string{"carts", "carts-db", "catalogue", "catalogue-db", "front-end", "orders", "orders-db",
			"payment", "queue-master", "rabbitmq", "session-db", "shipping", "user", "user-db"},
		check: func(t *testing.T, res *importer.Result) {
			kinds := map[string]model.Kind{}
			for _, c := range res.Model.Components {
				kinds[c.Name] = c.Kind
			}
			want := map[string]model.Kind{"carts-db": model.KindDatabase, "catalogue-db": model.KindDatabase,
				"orders-db": model.KindDatabase, "user-db": model.KindDatabase, "session-db": model.KindCache,
				"rabbitmq": model.KindQueue, "front-end": model.KindService, "queue-master": model.KindService}
			for name, k := range want {
				if kinds[name] != k {
					t.Errorf("%s: kind %s, want %s", name, kinds[name], k)
				}
			}
			if e := res.Model.Component("user").DependsOn; len(e) != 1 || e[0].To != "user-db" {
				t.Errorf("user's edges: %+v, want user-db (env mongo=user-db:27017)", e)
			}
			assertNote(t, res, importer.NoteDataLoss, "user-db", "no persistent volume")
			assertNoNote(t, res, "emptyDir volume tmp-volume") // mounted on /tmp: scratch, not data
		},
	},
	{
		// Istio's Bookinfo behind its Istio gateway: reviews-v1, -v2 and
		// -v3 are three pods of one Service, not three SPOFs.
		name:  "bookinfo",
		paths: []string{"testdata/real/bookinfo"},
		spofs: []string{"productpage-v1", "details-v1", "ratings-v1"},
		not:   []string{"component:reviews", "instance:reviews/0", "component:reviews-v1", "component:reviews-v2", "component:reviews-v3"},
		check: checkBookinfo("VirtualService bookinfo"),
	},
	{
		// The same behind a Gateway API HTTPRoute.
		name:  "bookinfo-gateway-api",
		paths: []string{"testdata/real/bookinfo/bookinfo.yaml", "testdata/real/bookinfo-gateway-api"},
		spofs: []string{"productpage-v1", "details-v1", "ratings-v1"},
		not:   []string{"component:reviews", "instance:reviews/0"},
		check: checkBookinfo("HTTPRoute bookinfo"),
	},
	{
		// The guestbook: a single Redis master; two read replicas and
		// three frontends are redundant.
		name:  "guestbook",
		paths: []string{"testdata/real/guestbook"},
		spofs: []string{"redis-master"},
		not:   []string{"component:frontend", "instance:frontend/0", "component:redis-replica", "instance:redis-replica/0"},
		check: func(t *testing.T, res *importer.Result) {
			if c := res.Model.Component("frontend"); c.Kind != model.KindService || c.Replicas != 3 {
				t.Errorf("frontend: %s ×%d, want a service ×3 (its container php-redis is no cache)", c.Kind, c.Replicas)
			}
		},
	},
	{
		// WordPress and MySQL, one pod each on a ReadWriteOnce volume; the
		// MySQL file's apiVersion line runs into a comment without '#', as
		// in the published file.
		name:  "wordpress",
		paths: []string{"testdata/real/wordpress"},
		spofs: []string{"wordpress", "wordpress-mysql"},
		check: func(t *testing.T, res *importer.Result) {
			wp := res.Model.Component("wordpress")
			if wp.Kind != model.KindService {
				t.Errorf("wordpress: kind %s, want service (wordpress:4.8-apache is no load balancer)", wp.Kind)
			}
			if len(wp.DependsOn) != 1 || wp.DependsOn[0].To != "wordpress-mysql" || wp.DependsOn[0].Degrades() {
				t.Errorf("wordpress's edges: %+v, want wordpress-mysql, hard (WORDPRESS_DB_HOST)", wp.DependsOn)
			}
		},
	},
	{
		// Cassandra: a StatefulSet of 3 nodes that replicate by
		// themselves: no SPOF.
		name:  "cassandra",
		paths: []string{"testdata/real/cassandra"},
		not:   []string{"component:cassandra", "instance:cassandra/0"},
		check: func(t *testing.T, res *importer.Result) {
			if c := res.Model.Component("cassandra"); c.Failover != model.FailoverAutomatic || !c.FailoverSet {
				t.Errorf("cassandra: failover %s (set %v), want automatic, written", c.Failover, c.FailoverSet)
			}
		},
	},
}

func checkBookinfo(entry string) func(t *testing.T, res *importer.Result) {
	return func(t *testing.T, res *importer.Result) {
		if c := res.Model.Component("reviews"); c == nil || c.Replicas != 3 {
			t.Fatalf("reviews: %+v, want one component of 3 replicas", c)
		}
		var flows []string
		for _, f := range res.Model.Flows {
			flows = append(flows, f.Name+" "+f.Criticality.String()+" "+f.Description)
		}
		want := []string{"productpage-v1 critical reached through " + entry + " (productpage)"}
		if d := cmp.Diff(want, flows); d != "" {
			t.Errorf("flows (-want +got):\n%s", d)
		}
	}
}

// TestReal imports each real input: its golden summary, the SPOFs the
// analysis finds (exactly the expected ones), and what it must not flag.
func TestReal(t *testing.T) {
	for _, tc := range realCases {
		t.Run(tc.name, func(t *testing.T) {
			res := importPaths(t, tc.paths...)
			golden(t, filepath.Join("testdata/real", tc.name+".golden"), importer.Summary(res))
			got := findings(t, res)
			var spofs []string
			for e, f := range got {
				if f.Category == analysis.CategorySPOF {
					spofs = append(spofs, e)
				}
			}
			var want []string
			for _, c := range tc.spofs {
				want = append(want, "component:"+c)
			}
			slices.Sort(spofs)
			slices.Sort(want)
			if d := cmp.Diff(want, spofs); d != "" {
				t.Errorf("SPOFs (-want +got):\n%s", d)
			}
			for _, e := range tc.not {
				if f, ok := got[e]; ok && f.Category == analysis.CategorySPOF {
					t.Errorf("%s is flagged: %+v", e, f)
				}
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

func assertNoNote(t *testing.T, res *importer.Result, text string) {
	t.Helper()
	for _, n := range res.Notes {
		if strings.Contains(n.Msg, text) {
			t.Errorf("unexpected note on %s: %s", n.Subject, n.Msg)
		}
	}
}
