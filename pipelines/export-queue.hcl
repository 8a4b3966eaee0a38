# Export the redial queue's pending entries as a CSV, for the floor manager.
#
# Reads the queue file the backfill and the lead import write (a JSON
# object keyed by phone), keeps the entries whose status is "pending", and
# writes them to a CSV file, replaced whole at the end of the run.
#
#   etl plan pipelines/export-queue.hcl --show-entries   # what would change in the CSV
#   etl run  pipelines/export-queue.hcl

variable "data_dir" {
  type        = string
  default     = "data"
  description = "Directory of the redial queue (as for the backfill), relative to the working directory."
}

variable "queue_month" {
  type        = string
  default     = "2026-01"
  description = "Month (YYYY-MM) of the queue file to export: redial-queue_<queue_month>.json."
}

variable "csv" {
  type        = string
  default     = ""
  description = "The CSV to write; empty: <data_dir>/exports/pending_<queue_month>.csv."
}

source "file" "queue" {
  path      = abspath("${var.data_dir}/redial-queue/redial-queue_${var.queue_month}.json")
  format    = "json"
  key_field = "key"
  columns = [
    "phone_number", "lead_id", "status",
    { name = "attempts", type = "number" },
    "next_attempt", "created_at",
  ]
  on_error = "skip" # an entry of another shape is listed and left out, not a failed export
}

filter "where" "pending" {
  input     = source.file.queue
  condition = record.status == "pending"
  reason    = "not pending"
}

sink "file" "csv" {
  input  = filter.where.pending
  path   = var.csv != "" ? var.csv : "${var.data_dir}/exports/pending_${var.queue_month}.csv"
  format = "csv"
  fields = ["phone_number", "lead_id", "status", "attempts", "next_attempt", "created_at"]
}
