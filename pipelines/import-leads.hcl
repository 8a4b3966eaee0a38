# Import a CSV of leads (a web form's export, a trade show's list) into the
# redial queue.
#
# Each row's phone is looked up in Convoso; leads whose status is excluded
# (SALE, DNC, ...) are dropped, and the rest are merged into the same
# redial queue file the backfill writes, never overwriting an entry that is
# already there (a phone queued under any spelling is not queued again).
#
#   etl plan pipelines/import-leads.hcl --var leads_csv=leads.csv
#   etl run  pipelines/import-leads.hcl --var leads_csv=leads.csv
#
# The CSV needs the columns phone, first_name, last_name and created_at
# (RFC 3339, "2026-01-05 15:30:00" or a date; UTC unless zoned), in any
# order; other columns are ignored. The Convoso token comes from
# CONVOSO_AUTH_TOKEN in the environment.

variable "leads_csv" {
  type        = string
  default     = "pipelines/testdata/leads.csv"
  description = "The CSV of leads, relative to the working directory (the default is the sample shipped with etl)."
}

variable "excluded_statuses" {
  type        = list(string)
  default     = ["SALE", "DNC"]
  description = "Convoso lead statuses never to redial: a phone with any lead in one of them is dropped."
}

variable "data_dir" {
  type        = string
  default     = "data"
  description = "Directory of the redial queue (as for the backfill)."
}

variable "queue_month" {
  type        = string
  default     = "2026-01"
  description = "Month (YYYY-MM) of the queue file to merge into: redial-queue_<queue_month>.json."
}

variable "redial_date" {
  type        = string
  default     = "2026-01-08"
  description = "Date of the first call of the imported leads (YYYY-MM-DD), at 11:00 New York time."
}

variable "convoso_url" {
  type        = string
  default     = "https://api.convoso.com"
  description = "Convoso API base URL."
}

source "file" "leads" {
  path   = abspath(var.leads_csv)
  format = "csv"
  columns = [
    "phone", "first_name", "last_name",
    { name = "created_at", type = "time" },
  ]
}

filter "where" "has_phone" {
  input     = source.file.leads
  condition = trimspace(record.phone) != ""
  reason    = "no phone"
}

filter "convoso_status" "redialable" {
  input            = filter.where.has_phone
  base_url         = var.convoso_url
  auth_token       = env("CONVOSO_AUTH_TOKEN")
  phone            = record.phone
  exclude_statuses = var.excluded_statuses
}

sink "redial_queue" "queue" {
  input        = filter.convoso_status.redialable
  path         = "${var.data_dir}/redial-queue/redial-queue_${var.queue_month}.json"
  key          = record.phone
  lead_id      = record.lead_id
  created_at   = record.created_at
  next_attempt = local_time(var.redial_date, "11:00", "America/New_York")
  metadata     = { first_name = record.first_name, last_name = record.last_name, source = "lead_import" }
}
