variable "db_instance_class" {
  type    = string
  default = "db.t4g.large"
}

variable "db_multi_az" {
  type    = bool
  default = true
}
