variable "partitions" {
  type = number
}

source "gen" "nums" {
  partitions = var.partitions
}

sink "collect" "out" {
  input = source.gen.nums
}
