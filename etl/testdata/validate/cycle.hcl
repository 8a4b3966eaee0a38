source "gen" "nums" {}

transform "map" "a" {
  input = transform.map.b
  field = "a"
  value = 1
}

transform "map" "b" {
  input = transform.map.a
  field = "b"
  value = 2
}

sink "collect" "out" {
  input = source.gen.nums
}
