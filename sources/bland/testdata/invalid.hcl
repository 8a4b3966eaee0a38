source "bland_calls" "calls" {
  api_key       = ""
  start_date    = "2025-12-05"
  end_date      = "2025-12-01"
  on_incomplete = "ignore"
  concurrency   = 0
  query         = { created_at = "2025-12-01" }
}

source "bland_calls" "dates" {
  api_key    = "k"
  start_date = "2025/12/01"
  end_date   = "2025-12-01"
}

sink "collect" "out" {
  input = source.bland_calls.calls
}

sink "collect" "out2" {
  input = source.bland_calls.dates
}
