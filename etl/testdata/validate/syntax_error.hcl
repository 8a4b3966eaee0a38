source "gen" "nums" {
  partitions = 
}
