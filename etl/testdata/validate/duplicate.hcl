source "gen" "nums" {}

source "gen" "nums" {
  partitions = 2
}

sink "collect" "out" {
  input = source.gen.nums
}
