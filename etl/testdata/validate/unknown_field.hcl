source "gen" "nums" {}

transform "map" "double" {
  input = source.gen.nums
  field = "double"
  value = record.idd * 2
}

sink "collect" "out" {
  input = transform.map.double
}
