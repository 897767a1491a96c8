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

  name            = "ex-simple"
  cidr            = local.cidr
  azs             = local.azs
  private_subnets = [for i, az in local.azs : cidrsubnet(local.cidr, 4, i)]
}
