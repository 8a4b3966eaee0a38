source "gen" "nums" {}

source "gen" "spare" {}

sink "collect" "out" {
  input = source.gen.nums
}
