# A pipeline that reads but writes nothing is an error.
source "gen" "nums" {
  partitions = 2
}
