source "gen" "nums" {}

transform "map" "double" {
  input = source.gen.nums
  value = record.id * 2
}

sink "collect" "out" {
  input = transform.map.double
}
