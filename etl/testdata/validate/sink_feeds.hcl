source "gen" "nums" {}

sink "collect" "first" {
  input = source.gen.nums
}

sink "collect" "second" {
  input = sink.collect.first
}
