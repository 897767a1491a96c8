package terraform

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/importer/importertest"
	"github.com/spofhq/spof/model"
)

// importAll imports paths into a fresh builder and finishes it.
func importAll(t *testing.T, opts Options, paths ...string) *importer.Result {
	t.Helper()
	b := importer.NewBuilder("infra")
	if err := Import(b, paths, opts); err != nil {
		t.Fatalf("Import(%v): %v", paths, err)
	}
	return b.Finish(importer.Options{})
}

func spofs(t *testing.T, res *importer.Result) []string { return importertest.SPOFs(t, res) }

func golden(t *testing.T, name, got string) {
	importertest.Golden(t, filepath.Join("testdata", name+".golden"), got)
}

func TestImport(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
		spofs []string
	}{
		// The bundled example (examples/import/terraform): single NAT, single-AZ RDS, one-node cache.
		{"shop-single", []string{"../../examples/import/terraform"}, []string{
			"component:module.db.module.db_instance.aws_db_instance.this-0",
			"component:module.redis.aws_elasticache_replication_group.this-0",
			"component:module.vpc.aws_nat_gateway.this-0",
			"zone:local.azs-0",
		}},
		{"shop-ha", []string{"testdata/shop-ha"}, nil},
		{"plan", []string{"testdata/plan.json"}, []string{
			"component:aws_db_instance.orders",
			"component:module.vpc.aws_nat_gateway.this-0",
			"zone:us-west-2a",
		}},
		{"gcp", []string{"testdata/gcp"}, []string{
			"component:google_redis_instance.sessions",
			"component:google_sql_database_instance.orders",
			"zone:europe-west1-b",
		}},
		{"azure", []string{"testdata/azure"}, []string{
			"component:azurerm_mssql_database.orders",
			"component:azurerm_redis_cache.scratch",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := importAll(t, Options{}, tc.paths...)
			golden(t, tc.name, importer.Summary(res))
			if d := cmp.Diff(tc.spofs, spofs(t, res)); d != "" {
				t.Errorf("SPOFs (-want +got):\n%s\n%s", d, importer.Summary(res))
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	b := importer.NewBuilder("infra")
	err := Import(b, []string{"testdata/malformed"}, Options{})
	var l model.ErrorList
	if !errors.As(err, &l) || len(l) == 0 {
		t.Fatalf("Import: %v; want a model.ErrorList", err)
	}
	for _, e := range l {
		if e.Pos.File == "" || e.Pos.Line == 0 || e.Hint == "" {
			t.Errorf("error without position or hint: %v", e)
		}
	}
	if !strings.Contains(l.Error(), "testdata/malformed/main.tf:") {
		t.Errorf("errors: %v", l)
	}
}

func TestLocalModule(t *testing.T) {
	res := importAll(t, Options{}, "testdata/local-module")
	golden(t, "local-module", importer.Summary(res))
	want := []string{
		"component:aws_mq_broker.events",
		"component:aws_nat_gateway.egress",
		"component:module.web.aws_instance.bastion", // on a low flow of its own
		"instance:aws_db_instance.orders/0",         // single-AZ; its read replica must be promoted by hand
		"zone:us-east-1a",
	}
	if d := cmp.Diff(want, spofs(t, res)); d != "" {
		t.Errorf("SPOFs (-want +got):\n%s\n%s", d, importer.Summary(res))
	}
}
