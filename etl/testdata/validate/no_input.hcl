source "gen" "nums" {}

filter "where" "even" {
  condition = record.id % 2 == 0
}

sink "collect" "out" {
  input = source.gen.nums
}
