variable "n" {
  type        = number
  default     = 2
  description = "Partitions."
}

source "gen" "nums" {
  partitions    = var.n
  per_partition = 3
}

transform "map" "label" {
  input = source.gen.nums
  field = "label"
  value = format("%s-%s", upper(record.key), record.partition)
}

filter "where" "some" {
  input     = transform.map.label
  condition = record.label != ""
}

sink "collect" "out" {
  input = filter.where.some
}
