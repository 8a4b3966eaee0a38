source "gen" "nums" {
  partitions = "many"
}

sink "collect" "out" {
  input = source.gen.nums
}
