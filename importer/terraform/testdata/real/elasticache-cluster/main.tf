provider "aws" {
  region = "eu-west-1"
}

data "aws_availability_zones" "available" {}

locals {
  name = "ex-cache"
  cidr = "10.0.0.0/16"
  azs  = slice(data.aws_availability_zones.available.names, 0, 3)
}

module "elasticache" {
  source = "../../"

  cluster_id               = local.name
  create_cluster           = true
  create_replication_group = false
  engine_version           = "7.1"
  node_type                = "cache.t4g.small"

  vpc_id                 = module.vpc.vpc_id
  subnet_ids             = module.vpc.private_subnets
  create_parameter_group = true
  parameter_group_family = "redis7"
}

module "elasticache_disabled" {
  source = "../.."

  create = false
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name            = local.name
  cidr            = local.cidr
  azs             = local.azs
  public_subnets  = [for i, az in local.azs : cidrsubnet(local.cidr, 8, i)]
  private_subnets = [for i, az in local.azs : cidrsubnet(local.cidr, 8, i + 10)]
}

