# Backfill the redial queue from Bland.ai call history.
#
# For every date from start_date to end_date: list that date's Bland calls
# (one request per date: Bland's page-based listing loops forever), keep the
# latest call per phone, look each phone up in Convoso, drop leads whose
# status is excluded, and merge the rest into the JSON redial queue that the
# queue processor reads. Per-date stats go to backfill-stats.json.
#
#   etl plan pipelines/backfill.hcl     # every read, no write: what would change
#   etl run  pipelines/backfill.hcl     # do it; resumes after a crash
#
# Keys come from BLAND_API_KEY and CONVOSO_AUTH_TOKEN in the environment.
# Change a run with --var (e.g. --var start_date=2026-01-01) or by editing
# the defaults below.

variable "start_date" {
  type        = string
  default     = "2025-12-01"
  description = "First date to backfill (YYYY-MM-DD, UTC), inclusive."
}

variable "end_date" {
  type        = string
  default     = "2026-01-07"
  description = "Last date to backfill (YYYY-MM-DD, UTC), inclusive; also names the queue file's month."
}

variable "bland_url" {
  type        = string
  default     = "https://api.bland.ai"
  description = "Bland.ai API base URL."
}

variable "convoso_url" {
  type        = string
  default     = "https://api.convoso.com"
  description = "Convoso API base URL."
}

variable "excluded_statuses" {
  type        = list(string)
  default     = ["SALE", "DNC"]
  description = "Convoso lead statuses never to redial: a phone with any lead in one of them is dropped."
}

variable "check_dnc_list" {
  type        = bool
  default     = false
  description = "Also drop phones on Convoso's DNC list."
}

variable "data_dir" {
  type        = string
  default     = "data"
  description = "Directory of the redial queue and the stats file."
}

source "bland_calls" "calls" {
  base_url    = var.bland_url
  api_key     = env("BLAND_API_KEY")
  start_date  = var.start_date
  end_date    = var.end_date
  limit       = 10000
  concurrency = 4
}

# To skip the calls a person answered that lasted over a minute, uncomment
# this block and set the dedupe's input below to it. The calls are dropped
# before the latest call per phone is chosen: such a phone is queued from
# its latest other call, if it has one. call_length is in minutes; calls
# with no answered_by pass.
#
# filter "where" "not_answered_long" {
#   input     = source.bland_calls.calls
#   condition = record.answered_by != "human" || coalesce(record.call_length, 0) <= 1
#   reason    = "answered by a person, over a minute"
# }

transform "dedupe_latest" "latest_call" {
  input       = source.bland_calls.calls # or filter.where.not_answered_long
  key         = record.phone
  order_by    = record.created_at
  tie_breaker = record.call_id # calls created in the same instant: the greatest call id wins
  emit        = "updates"      # lookups start while dates are still being fetched (faster end to end; same result as "end")
}

filter "convoso_status" "redialable" {
  input            = transform.dedupe_latest.latest_call
  base_url         = var.convoso_url
  auth_token       = env("CONVOSO_AUTH_TOKEN")
  phone            = record.phone
  exclude_statuses = var.excluded_statuses
  check_dnc_list   = var.check_dnc_list
  concurrency      = 50
}

sink "redial_queue" "queue" {
  input        = filter.convoso_status.redialable
  path         = "${var.data_dir}/redial-queue/redial-queue_${formatdate("YYYY-MM", "${var.end_date}T00:00:00Z")}.json"
  key          = record.phone
  lead_id      = record.lead_id
  created_at   = record.created_at
  next_attempt = local_time(var.end_date, "11:00", "America/New_York")
  metadata     = { call_id = record.call_id, batch_id = record.batch_id, source = "bland_backfill" }
}

sink "stats" "daily" {
  input = source.bland_calls.calls
  key   = record.phone
  path  = "${var.data_dir}/backfill-stats.json"
}
