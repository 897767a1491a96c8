provider "aws" {
  region = "eu-west-1"
}

locals {
  name = "complete-postgresql"
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

module "db" {
  source = "../../"

  identifier           = local.name
  engine               = "postgres"
  engine_version       = "11.10"
  family               = "postgres11"
  major_engine_version = "11"
  instance_class       = "db.t3.large"
  allocated_storage    = 20

  multi_az               = true
  db_subnet_group_name   = module.vpc.database_subnet_group
  vpc_security_group_ids = [module.security_group.security_group_id]
}

module "db_default" {
  source = "../../"

  identifier           = "${local.name}-default"
  engine               = "postgres"
  engine_version       = "11.10"
  family               = "postgres11"
  major_engine_version = "11"
  instance_class       = "db.t3.large"
  allocated_storage    = 20

  db_subnet_group_name   = module.vpc.database_subnet_group
  vpc_security_group_ids = [module.security_group.security_group_id]
}

module "db_disabled" {
  source = "../../"

  identifier                = "${local.name}-disabled"
  create_db_instance        = false
  create_db_parameter_group = false
  create_db_option_group    = false
}
