source "gen" "nums" {
  partitions = "x"
  color      = "red"
}

transform "mapp" "t" {
  input = source.gen.nums
}

filter "where" "f" {
  input     = source.gen.nowhere
  condition = true
}

sink "collect" "out" {
  input = filter.where.f
}
