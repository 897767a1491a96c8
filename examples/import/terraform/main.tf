provider "aws" {
  region = local.region
}

data "aws_availability_zones" "available" {}

locals {
  name     = "shop"
  region   = "eu-west-1"
  vpc_cidr = "10.0.0.0/16"
  azs      = slice(data.aws_availability_zones.available.names, 0, 3)
  tags = {
    Project = local.name
  }
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name = local.name
  cidr = local.vpc_cidr

  azs              = local.azs
  public_subnets   = [for k, v in local.azs : cidrsubnet(local.vpc_cidr, 8, k)]
  private_subnets  = [for k, v in local.azs : cidrsubnet(local.vpc_cidr, 8, k + 3)]
  database_subnets = [for k, v in local.azs : cidrsubnet(local.vpc_cidr, 8, k + 6)]

  enable_nat_gateway = true
  single_nat_gateway = true

  create_database_subnet_group = true
  tags                         = local.tags
}

module "db" {
  source  = "terraform-aws-modules/rds/aws"
  version = "~> 6.0"

  identifier     = "${local.name}-orders"
  engine         = "postgres"
  engine_version = "16"
  instance_class = var.db_instance_class

  db_subnet_group_name = module.vpc.database_subnet_group
  multi_az             = var.db_multi_az
}

module "redis" {
  source  = "terraform-aws-modules/elasticache/aws"
  version = "~> 1.0"

  replication_group_id = "${local.name}-sessions"
  engine               = "redis"
  node_type            = "cache.t4g.small"
  num_cache_clusters   = 1
  subnet_ids           = module.vpc.private_subnets
}

module "alb" {
  source  = "terraform-aws-modules/alb/aws"
  version = "~> 9.0"

  name    = local.name
  vpc_id  = module.vpc.vpc_id
  subnets = module.vpc.public_subnets

  listeners = {
    http = {
      port     = 80
      protocol = "HTTP"
      forward  = { target_group_key = "web" }
    }
  }
  target_groups = {
    web = {
      protocol          = "HTTP"
      port              = 8080
      target_type       = "instance"
      create_attachment = false
    }
  }
}

module "web" {
  source  = "terraform-aws-modules/autoscaling/aws"
  version = "~> 7.0"

  name                = "${local.name}-web"
  min_size            = 2
  max_size            = 6
  desired_capacity    = 3
  vpc_zone_identifier = module.vpc.private_subnets
  image_id            = "ami-0abcdef1234567890"
  instance_type       = "t3.small"

  traffic_source_attachments = {
    alb = {
      traffic_source_identifier = module.alb.target_groups["web"].arn
      traffic_source_type       = "elbv2"
    }
  }
}

resource "aws_s3_bucket" "assets" {
  bucket = "${local.name}-assets"
}

resource "aws_sqs_queue" "orders" {
  name = "${local.name}-orders"
}

resource "aws_dynamodb_table" "carts" {
  name         = "${local.name}-carts"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
}

resource "aws_memorydb_cluster" "ratelimit" {
  name       = "${local.name}-ratelimit"
  node_type  = "db.t4g.small"
  acl_name   = "open-access"
}
