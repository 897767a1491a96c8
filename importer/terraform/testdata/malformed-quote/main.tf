module "db" {
  source  = "terraform-aws-modules/rds/aws"
  version = "~> 6.0"

  identifier     = "orders"
  engine         = "postgres
  instance_class = "db.t3.large"
  multi_az       = true

  tags = {
    Owner = "team-orders"
  }
}
