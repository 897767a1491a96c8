package terraform

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spofhq/spof/importer"
	"github.com/spofhq/spof/model"
)

// TestReal imports examples of the terraform-aws-modules repositories
// (testdata/real, each README says which), as they are: calling the module
// under test as source = "../../", which is not on disk. spofs is what a
// reviewer expects from the files; notSPOFs are managed or redundant
// things that must never be flagged.
func TestReal(t *testing.T) {
	for _, tc := range []struct {
		name     string
		spofs    []string
		notSPOFs []string
	}{
		// No NAT gateway, nothing that serves: nothing to model.
		{name: "vpc-simple"},
		// single_nat_gateway: one NAT carries the egress of every private
		// subnet; the VPN gateway, endpoints and DHCP options are managed.
		{name: "vpc-complete", spofs: []string{
			"component:module.vpc.aws_nat_gateway.this-0",
			"zone:local.azs-0",
		}},
		// db is Multi-AZ; db_default is not; db_disabled creates nothing.
		{name: "rds-complete-postgres", spofs: []string{
			"component:module.db_default.module.db_instance.aws_db_instance.this-0",
		}, notSPOFs: []string{
			"component:module.db.module.db_instance.aws_db_instance.this-0",
		}},
		// A Multi-AZ primary and its read replica.
		{name: "rds-replica-postgres", notSPOFs: []string{
			"component:module.master.module.db_instance.aws_db_instance.this-0",
		}},
		// Two Aurora instances: a writer and a reader that takes over.
		{name: "aurora-postgresql", notSPOFs: []string{
			"component:module.aurora.aws_rds_cluster.this-0",
		}},
		// One Aurora instance: the storage survives, the database does not.
		{name: "aurora-single", spofs: []string{
			"component:module.aurora.aws_rds_cluster.this-0",
		}},
		// num_cache_clusters defaults to 1: a primary without a replica.
		{name: "elasticache-replication-group", spofs: []string{
			"component:module.elasticache.aws_elasticache_replication_group.this-0",
		}},
		// A single-node cluster.
		{name: "elasticache-cluster", spofs: []string{
			"component:module.elasticache.aws_elasticache_cluster.this-0",
		}},
		// Cluster mode: two shards of a primary and three replicas.
		{name: "elasticache-cluster-mode", notSPOFs: []string{
			"component:module.elasticache.aws_elasticache_replication_group.this-0",
		}},
		// The internet-facing ALB is managed and multi-AZ; the one EC2
		// instance behind it is not; the Lambda target is managed.
		{name: "alb-complete", spofs: []string{
			"component:aws_instance.this",
		}, notSPOFs: []string{
			"component:module.alb.aws_lb.this-0",
		}},
		// The ALB (v9) reaches the one-instance "complete" group through
		// its traffic source; "external" is one instance on its own (a
		// low flow); four instances over three zones are redundant.
		{name: "autoscaling-complete", spofs: []string{
			"component:module.complete.aws_autoscaling_group.this-0",
			"component:module.external.aws_autoscaling_group.this-0",
		}, notSPOFs: []string{
			"component:module.alb.aws_lb.this-0",
			"component:module.mixed_instance.aws_autoscaling_group.this-0",
		}},
		// single_nat_gateway under the node groups; each node group has
		// one node (min_size 1).
		{name: "eks-managed-node-group", spofs: []string{
			"component:module.eks.module.eks_managed_node_group-complete-.aws_eks_node_group.this-0",
			"component:module.eks.module.eks_managed_node_group-default_node_group-.aws_eks_node_group.this-0",
			"component:module.vpc.aws_nat_gateway.this-0",
			"zone:local.azs-0",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := importAll(t, Options{}, filepath.Join("testdata", "real", tc.name))
			golden(t, filepath.Join("real", tc.name), importer.Summary(res))
			if len(res.Model.Components) == 0 {
				if len(tc.spofs) > 0 {
					t.Fatalf("no component imported; want SPOFs %v", tc.spofs)
				}
				return
			}
			got := spofs(t, res)
			if d := cmp.Diff(tc.spofs, got); d != "" {
				t.Errorf("SPOFs (-want +got):\n%s\n%s", d, importer.Summary(res))
			}
			for _, n := range tc.notSPOFs {
				name := strings.TrimPrefix(n, "component:")
				if !slices.ContainsFunc(res.Model.Components, func(c *model.Component) bool { return c.Name == name }) {
					t.Errorf("%s is not in the model: the import lost it", name)
				}
				if slices.Contains(got, n) {
					t.Errorf("%s is flagged; it is managed or redundant", n)
				}
			}
		})
	}
}

// TestUnclosedQuote: an unclosed quote is one error at its line, not one
// for every later line that HCL then reads as a string split over lines.
func TestUnclosedQuote(t *testing.T) {
	err := Import(importer.NewBuilder("infra"), []string{"testdata/malformed-quote"}, Options{})
	var l model.ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("Import: %v; want a model.ErrorList", err)
	}
	if len(l) != 1 || l[0].Pos.Line != 6 || l[0].Hint == "" {
		t.Errorf("errors: %v; want one, at line 6, with a hint", l)
	}
}
