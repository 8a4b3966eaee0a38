variable "partitions" {
  type    = number
  default = "lots"
}

source "gen" "nums" {
  partitions = var.partitions
}

sink "collect" "out" {
  input = source.gen.nums
}
