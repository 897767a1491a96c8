provider "aws" {
  region = "eu-west-1"
}

locals {
  name           = "replica-postgresql"
  engine         = "postgres"
  instance_class = "db.t3.large"
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 3.0"

  name             = local.name
  cidr             = "10.99.0.0/18"
  azs              = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  public_subnets   = ["10.99.0.0/24", "10.99.1.0/24", "10.99.2.0/24"]
  private_subnets  = ["10.99.3.0/24", "10.99.4.0/24", "10.99.5.0/24"]
  database_subnets = ["10.99.7.0/24", "10.99.8.0/24", "10.99.9.0/24"]

  create_database_subnet_group = true
}

module "security_group" {
  source  = "terraform-aws-modules/security-group/aws"
  version = "~> 4.0"

  name   = local.name
  vpc_id = module.vpc.vpc_id
}

module "master" {
  source = "../../"

  identifier        = "${local.name}-master"
  engine            = local.engine
  instance_class    = local.instance_class
  allocated_storage = 20

  multi_az                = true
  db_subnet_group_name    = module.vpc.database_subnet_group_name
  backup_retention_period = 1
}

module "replica" {
  source = "../../"

  identifier          = "${local.name}-replica"
  replicate_source_db = module.master.db_instance_id
  engine              = local.engine
  instance_class      = local.instance_class
  allocated_storage   = 20

  multi_az = false
}
