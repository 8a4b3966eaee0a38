source "gen" "nums" {
  partitons = 3
}

sink "collect" "out" {
  input = source.gen.nums
}
