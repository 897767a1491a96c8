provider "aws" {
  region = "us-east-1"
}

data "aws_vpc" "default" {
  default = true
}

data "aws_subnet_ids" "all" {
  vpc_id = data.aws_vpc.default.id
}

module "aurora" {
  source = "../../"

  name           = "aurora-example-postgresql"
  engine         = "aurora-postgresql"
  engine_version = "9.6.9"
  subnets        = data.aws_subnet_ids.all.ids
  vpc_id         = data.aws_vpc.default.id
  replica_count  = 1
  instance_type  = "db.r4.large"
}

resource "aws_security_group" "app_servers" {
  name_prefix = "app-servers-"
  vpc_id      = data.aws_vpc.default.id
}

resource "aws_security_group_rule" "allow_access" {
  type                     = "ingress"
  from_port                = module.aurora.this_rds_cluster_port
  to_port                  = module.aurora.this_rds_cluster_port
  protocol                 = "tcp"
  source_security_group_id = aws_security_group.app_servers.id
  security_group_id        = module.aurora.this_security_group_id
}
