provider "aws" {
  region = "eu-west-1"
}

data "aws_availability_zones" "available" {}

locals {
  cidr = "10.0.0.0/16"
  azs  = slice(data.aws_availability_zones.available.names, 0, 3)
}

module "vpc" {
  source = "../../"

  name = "ex-complete"
  cidr = local.cidr
  azs  = local.azs

  private_subnets     = [for i, az in local.azs : cidrsubnet(local.cidr, 8, i)]
  public_subnets      = [for i, az in local.azs : cidrsubnet(local.cidr, 8, i + 4)]
  database_subnets    = [for i, az in local.azs : cidrsubnet(local.cidr, 8, i + 8)]
  elasticache_subnets = [for i, az in local.azs : cidrsubnet(local.cidr, 8, i + 12)]
  redshift_subnets    = [for i, az in local.azs : cidrsubnet(local.cidr, 8, i + 16)]
  intra_subnets       = [for i, az in local.azs : cidrsubnet(local.cidr, 8, i + 20)]

  create_database_subnet_group       = true
  create_database_nat_gateway_route  = true
  create_private_nat_gateway_route   = true
  manage_default_security_group      = true
  enable_dns_hostnames               = true
  enable_nat_gateway                 = true
  single_nat_gateway                 = true
  one_nat_gateway_per_az             = false
  enable_vpn_gateway                 = true
  vpn_gateway_az                     = local.azs[0]
  enable_dhcp_options                = true
  dhcp_options_domain_name           = "service.consul"
  dhcp_options_domain_name_servers   = ["127.0.0.1", "10.10.0.2"]

  customer_gateways = {
    IP1 = {
      bgp_asn    = 65112
      ip_address = "1.2.3.4"
    }
  }
}

module "vpc_endpoints" {
  source = "../../modules/vpc-endpoints"

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  endpoints = {
    s3 = {
      service = "s3"
    }
    dynamodb = {
      service         = "dynamodb"
      service_type    = "Gateway"
      route_table_ids = module.vpc.private_route_table_ids
    }
  }
}

module "vpc_endpoints_nocreate" {
  source = "../../modules/vpc-endpoints"

  create = false
}

resource "aws_security_group" "rds" {
  name_prefix = "ex-complete-rds"
  vpc_id      = module.vpc.vpc_id
}
