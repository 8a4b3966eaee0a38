source "gen" "a" {}

source "gen" "b" {
  input = source.gen.a
}

sink "collect" "out" {
  input = source.gen.b
}
