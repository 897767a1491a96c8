package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/spofhq/spof/importer"
)

// BenchmarkImport500Files imports a root module of 500 .tf files (a VPC
// module call, and in each file a database, a cache, an autoscaling
// group, a load balancer and a few managed resources): the target is
// under a second.
var benchFiles = 499

func BenchmarkImport500Files(b *testing.B) {
	dir := b.TempDir()
	main := `
locals { azs = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
module "vpc" {
  source             = "terraform-aws-modules/vpc/aws"
  azs                = local.azs
  public_subnets     = ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
  private_subnets    = ["10.0.10.0/24", "10.0.11.0/24", "10.0.12.0/24"]
  enable_nat_gateway = true
  single_nat_gateway = true
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o644); err != nil {
		b.Fatal(err)
	}
	for i := range benchFiles {
		src := fmt.Sprintf(`
variable "size_%[1]d" {
  default = 2
}
locals {
  name_%[1]d = "svc-%[1]d"
}
resource "aws_db_instance" "db_%[1]d" {
  identifier = "${local.name_%[1]d}-db"
  engine     = "postgres"
  multi_az   = %[2]v
}
resource "aws_elasticache_replication_group" "cache_%[1]d" {
  replication_group_id       = "${local.name_%[1]d}-cache"
  num_cache_clusters         = var.size_%[1]d
  automatic_failover_enabled = true
}
resource "aws_lb" "lb_%[1]d" {
  name    = local.name_%[1]d
  subnets = module.vpc.public_subnets
}
resource "aws_lb_target_group" "tg_%[1]d" {
  name = local.name_%[1]d
}
resource "aws_lb_listener" "l_%[1]d" {
  load_balancer_arn = aws_lb.lb_%[1]d.arn
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.tg_%[1]d.arn
  }
}
resource "aws_autoscaling_group" "asg_%[1]d" {
  name                = local.name_%[1]d
  min_size            = var.size_%[1]d
  max_size            = 10
  vpc_zone_identifier = module.vpc.private_subnets
  target_group_arns   = [aws_lb_target_group.tg_%[1]d.arn]
}
resource "aws_s3_bucket" "b_%[1]d" {
  bucket = "${local.name_%[1]d}-assets"
}
resource "aws_sqs_queue" "q_%[1]d" {
  count = 2
  name  = "${local.name_%[1]d}-${count.index}"
}
`, i, i%2 == 0)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("svc_%03d.tf", i)), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		bl := importer.NewBuilder("bench")
		if err := Import(bl, []string{dir}, Options{}); err != nil {
			b.Fatal(err)
		}
		res := bl.Finish(importer.Options{})
		if len(res.Model.Components) < 4*benchFiles {
			b.Fatalf("%d components", len(res.Model.Components))
		}
	}
}
