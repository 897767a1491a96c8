variable "name" { type = string }
variable "instances" {
  type    = number
  default = 1
}
variable "subnets" { type = list(string) }

resource "aws_instance" "this" {
  count         = var.instances
  ami           = "ami-0abcdef1234567890"
  instance_type = "t3.small"
  subnet_id     = element(var.subnets, count.index)
  tags          = { Name = "${var.name}-${count.index}" }
}

resource "aws_lb_target_group" "this" {
  name     = var.name
  port     = 8080
  protocol = "HTTP"
}

resource "aws_lb_target_group_attachment" "this" {
  count            = var.instances
  target_group_arn = aws_lb_target_group.this.arn
  target_id        = aws_instance.this[count.index].id
}

resource "aws_instance" "bastion" {
  ami           = "ami-0abcdef1234567890"
  instance_type = "t3.micro"
  subnet_id     = var.subnets[0]
}

output "target_group_arn" {
  value = aws_lb_target_group.this.arn
}
