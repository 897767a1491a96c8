provider "aws" {
  region = "eu-west-1"
}

data "aws_vpc" "default" {
  default = true
}

data "aws_subnet_ids" "all" {
  vpc_id = data.aws_vpc.default.id
}

resource "random_pet" "this" {
  length = 2
}

module "security_group" {
  source  = "terraform-aws-modules/security-group/aws"
  version = "~> 3.0"

  name   = "alb-sg-${random_pet.this.id}"
  vpc_id = data.aws_vpc.default.id
}

module "acm" {
  source  = "terraform-aws-modules/acm/aws"
  version = "~> 2.0"

  domain_name = "example.org"
}

resource "aws_cognito_user_pool" "this" {
  name = "user-pool-${random_pet.this.id}"
}

module "alb" {
  source = "../../"

  name               = "complete-alb-${random_pet.this.id}"
  load_balancer_type = "application"
  vpc_id             = data.aws_vpc.default.id
  security_groups    = [module.security_group.this_security_group_id]
  subnets            = data.aws_subnet_ids.all.ids

  http_tcp_listeners = [
    { port = 80, protocol = "HTTP", target_group_index = 0 },
  ]
  https_listeners = [
    { port = 443, protocol = "HTTPS", certificate_arn = module.acm.this_acm_certificate_arn, target_group_index = 1 },
  ]

  target_groups = [
    {
      name_prefix      = "h1"
      backend_protocol = "HTTP"
      backend_port     = 80
      target_type      = "instance"
      targets = {
        my_ec2       = { target_id = aws_instance.this.id, port = 80 }
        my_ec2_again = { target_id = aws_instance.this.id, port = 8080 }
      }
    },
    {
      name_prefix = "l1-"
      target_type = "lambda"
      targets = {
        my_lambda = { target_id = module.lambda_function.this_lambda_function_arn }
      }
    },
  ]
}

module "lb_disabled" {
  source = "../../"

  create_lb = false
}

data "aws_ami" "amazon_linux" {
  most_recent = true
  owners      = ["amazon"]
}

resource "aws_instance" "this" {
  ami           = data.aws_ami.amazon_linux.id
  instance_type = "t3.nano"
}

module "lambda_function" {
  source  = "terraform-aws-modules/lambda/aws"
  version = "~> 1.0"

  function_name = "${random_pet.this.id}-lambda"
  handler       = "index.lambda_handler"
  runtime       = "python3.8"
}
