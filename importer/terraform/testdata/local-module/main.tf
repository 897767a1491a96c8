terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

provider "aws" {
  region = "us-east-1"
}

variable "zones" {
  type = map(number)
  default = {
    "us-east-1a" = 0
    "us-east-1b" = 1
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.1.0.0/16"
}

resource "aws_subnet" "public" {
  for_each          = var.zones
  vpc_id            = aws_vpc.main.id
  availability_zone = each.key
  cidr_block        = cidrsubnet(aws_vpc.main.cidr_block, 8, each.value)
}

resource "aws_subnet" "private" {
  for_each          = var.zones
  vpc_id            = aws_vpc.main.id
  availability_zone = each.key
  cidr_block        = cidrsubnet(aws_vpc.main.cidr_block, 8, each.value + 10)
}

resource "aws_eip" "nat" {
  domain = "vpc"
}

# One NAT gateway, in the first zone, for both zones' private subnets.
resource "aws_nat_gateway" "egress" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public["us-east-1a"].id
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.egress.id
  }
}

resource "aws_route_table_association" "private" {
  for_each       = aws_subnet.private
  subnet_id      = each.value.id
  route_table_id = aws_route_table.private.id
}

module "web" {
  source    = "./modules/web"
  name      = "storefront"
  instances = 2
  subnets   = [for s in aws_subnet.private : s.id]
}

resource "aws_lb" "public" {
  name               = "storefront"
  load_balancer_type = "application"
  subnets            = [for s in aws_subnet.public : s.id]
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.public.arn
  port              = 443
  default_action {
    type             = "forward"
    target_group_arn = module.web.target_group_arn
  }
}

resource "aws_route53_health_check" "primary" {
  fqdn          = aws_lb.public.dns_name
  type          = "HTTPS"
  resource_path = "/healthz"
}

resource "aws_route53_record" "www_primary" {
  zone_id         = "Z123EXAMPLE"
  name            = "www.example.com"
  type            = "A"
  set_identifier  = "primary"
  health_check_id = aws_route53_health_check.primary.id
  failover_routing_policy {
    type = "PRIMARY"
  }
  alias {
    name                   = aws_lb.public.dns_name
    zone_id                = aws_lb.public.zone_id
    evaluate_target_health = true
  }
}

resource "aws_route53_record" "www_secondary" {
  zone_id        = "Z123EXAMPLE"
  name           = "www.example.com"
  type           = "A"
  set_identifier = "secondary"
  failover_routing_policy {
    type = "SECONDARY"
  }
  alias {
    name                   = aws_lb.maintenance.dns_name
    zone_id                = aws_lb.maintenance.zone_id
    evaluate_target_health = false
  }
}

resource "aws_lb" "maintenance" {
  name    = "maintenance"
  subnets = [for s in aws_subnet.public : s.id]
}

resource "aws_db_instance" "orders" {
  identifier     = "orders"
  engine         = "mysql"
  instance_class = "db.r6g.large"
  multi_az       = false
}

resource "aws_db_instance" "orders_replica" {
  identifier          = "orders-replica"
  replicate_source_db = aws_db_instance.orders.identifier
  instance_class      = "db.r6g.large"
}

resource "aws_rds_cluster" "catalog" {
  cluster_identifier = "catalog"
  engine             = "aurora-postgresql"
}

resource "aws_rds_cluster_instance" "catalog" {
  count              = 2
  cluster_identifier = aws_rds_cluster.catalog.id
  instance_class     = "db.r6g.large"
  engine             = aws_rds_cluster.catalog.engine
  availability_zone  = element(keys(var.zones), count.index)
}

resource "aws_mq_broker" "events" {
  broker_name        = "events"
  engine_type        = "RabbitMQ"
  engine_version     = "3.11.20"
  host_instance_type = "mq.m5.large"
  deployment_mode    = "SINGLE_INSTANCE"
  subnet_ids         = [aws_subnet.private["us-east-1a"].id]
  user {
    username = "app"
    password = "change-me-please"
  }
}

resource "aws_msk_cluster" "clicks" {
  cluster_name           = "clicks"
  kafka_version          = "3.6.0"
  number_of_broker_nodes = 2
  broker_node_group_info {
    instance_type  = "kafka.m5.large"
    client_subnets = [for s in aws_subnet.private : s.id]
  }
}

resource "aws_elasticache_cluster" "memo" {
  cluster_id      = "memo"
  engine          = "memcached"
  node_type       = "cache.t4g.small"
  num_cache_nodes = 2
}

resource "aws_sns_topic" "alerts" {
  for_each = toset(var.alert_topics)
  name     = each.key
}

variable "alert_topics" {
  type = list(string)
}
