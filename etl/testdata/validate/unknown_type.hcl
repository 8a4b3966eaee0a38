source "gem" "nums" {}

sink "collect" "out" {
  input = source.gem.nums
}
