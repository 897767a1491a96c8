resource "aws_db_instance" "orders" {
  engine   = "postgres"
  multi_az = false
}

resource "aws_instance" "web" {
  ami = "ami-123"
  tags = {
    Name = "web"
