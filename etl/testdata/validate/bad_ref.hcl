source "gen" "nums" {}

sink "collect" "out" {
  input = "source.gen.nums"
}
