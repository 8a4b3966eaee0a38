# A sink whose input names an unknown block, and no source at all.
sink "collect" "out" {
  input = source.gen.nums
}
