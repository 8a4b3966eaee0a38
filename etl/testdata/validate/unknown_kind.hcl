sourc "gen" "nums" {}
