provider "aws" {
  region = "eu-west-1"
}

data "aws_availability_zones" "available" {}

data "aws_ami" "amazon_linux" {
  most_recent = true
  owners      = ["amazon"]
}

locals {
  name = "complete"
  cidr = "10.0.0.0/16"
  azs  = slice(data.aws_availability_zones.available.names, 0, 3)
}

module "complete" {
  source = "../../"

  name                = "complete-${local.name}"
  min_size            = 0
  max_size            = 1
  desired_capacity    = 1
  health_check_type   = "EC2"
  vpc_zone_identifier = module.vpc.private_subnets

  create_traffic_source_attachment = true
  traffic_source_identifier        = module.alb.target_groups["ex_asg"].arn
  traffic_source_type              = "elbv2"

  launch_template_name = "complete-${local.name}"
  image_id             = data.aws_ami.amazon_linux.id
  instance_type        = "t3.micro"

  scaling_policies = {
    avg-cpu-policy-greater-than-50 = {
      policy_type = "TargetTrackingScaling"
    }
  }
}

module "mixed_instance" {
  source = "../../"

  name                = "mixed-instance-${local.name}"
  vpc_zone_identifier = module.vpc.private_subnets
  min_size            = 0
  max_size            = 5
  desired_capacity    = 4
  image_id            = data.aws_ami.amazon_linux.id
  instance_type       = "t3.micro"

  use_mixed_instances_policy = true
}

resource "aws_launch_template" "this" {
  name_prefix   = "external-lt-${local.name}-"
  image_id      = data.aws_ami.amazon_linux.id
  instance_type = "t3.micro"
}

module "external" {
  source = "../../"

  name                   = "external-${local.name}"
  vpc_zone_identifier    = module.vpc.private_subnets
  min_size               = 0
  max_size               = 1
  desired_capacity       = 1
  create_launch_template = false
  launch_template_id     = aws_launch_template.this.id
}

module "disabled" {
  source = "../../"

  create                 = false
  create_launch_template = false
  name                   = "disabled-${local.name}"
}

module "launch_template_only" {
  source = "../../"

  create              = false
  name                = "launch-template-only-${local.name}"
  vpc_zone_identifier = module.vpc.private_subnets
  min_size            = 0
  max_size            = 1
  desired_capacity    = 1
  image_id            = data.aws_ami.amazon_linux.id
  instance_type       = "t3.micro"
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

module "asg_sg" {
  source  = "terraform-aws-modules/security-group/aws"
  version = "~> 5.0"

  name   = local.name
  vpc_id = module.vpc.vpc_id
}

module "alb" {
  source  = "terraform-aws-modules/alb/aws"
  version = "~> 9.0"

  name                       = local.name
  vpc_id                     = module.vpc.vpc_id
  subnets                    = module.vpc.public_subnets
  enable_deletion_protection = false

  listeners = {
    ex_http = {
      port     = 80
      protocol = "HTTP"
      forward = {
        target_group_key = "ex_asg"
      }
    }
  }

  target_groups = {
    ex_asg = {
      backend_protocol  = "HTTP"
      backend_port      = 80
      target_type       = "instance"
      create_attachment = false
    }
  }
}

resource "aws_ec2_capacity_reservation" "targeted" {
  instance_type     = "t3.micro"
  instance_platform = "Linux/UNIX"
  availability_zone = "eu-west-1a"
  instance_count    = 1
}

resource "aws_sqs_queue" "this" {
  name = local.name
}

module "auto_rollback" {
  source  = "terraform-aws-modules/cloudwatch/aws//modules/metric-alarm"
  version = "~> 4.3"

  alarm_name = "${local.name}-auto-rollback"
}
